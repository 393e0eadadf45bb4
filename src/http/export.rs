//! Ledger exports (台账, SPEC §9): a collection's rows as a CSV or XLSX file, streamed.
//!
//! Written once for every ledger: a ledger gives its title, its columns and a [`Source`] that
//! reads its rows in keyset batches; this module turns them into a file and streams it.
//! - **CSV**: UTF-8 with a byte-order mark (so Excel reads the Chinese text), RFC 4180
//!   quoting (the `csv` crate); each batch is sent as soon as it is encoded.
//! - **XLSX**: `rust_xlsxwriter` in constant-memory mode (each row goes to a temporary file as
//!   it is written), a frozen header row and set column widths; a sheet holds at most
//!   1,048,575 rows and the next continues on a new sheet. A zip is only complete at its end,
//!   so the file is assembled first and then streamed from disk.
//!
//! Memory stays bounded whatever the size: one batch of rows at a time, and at most a few
//! encoded chunks waiting for a slow client. The first batch is read before the answer starts,
//! so a bad filter is still a problem+json error; a failure later can only cut the download
//! short (the connection closes without the final chunk, which clients report as an error).
//! Batches are separate reads, each under the usual statement bound: rows changed during a
//! long export appear as they were when their batch was read.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use chrono::NaiveDate;

use crate::db::ledger::Names;
use crate::db::AnyConnection;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

crate::domain::text_enum! {
    /// `csv` (UTF-8 with a BOM) or `xlsx`.
    pub enum Format {
        Csv = "csv",
        Xlsx = "xlsx",
    }
}

/// The parameters every export takes besides its list's filters (documentation of what
/// [`query`] reads).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `csv` (default) or `xlsx`.
    format: Option<Format>,
    /// Only rows changed at or after this RFC 3339 time.
    #[param(format = DateTime)]
    updated_since: Option<String>,
}

/// A ledger file in the OpenAPI document: bytes of the named media type.
pub struct LedgerFile;

impl utoipa::PartialSchema for LedgerFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/octet-stream")
            .description(Some(
                "The ledger file: CSV text (UTF-8 with a BOM) or XLSX bytes",
            ))
            .into()
    }
}

impl utoipa::ToSchema for LedgerFile {}

/// Rows read per batch.
pub const BATCH: i64 = 1_000;

/// Data rows per XLSX sheet: Excel's 1,048,576 rows less the header.
const SHEET_ROWS: u32 = 1_048_575;

/// One cell of a ledger row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Cell {
        Cell::Date(d)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<Option<f64>> for Cell {
    fn from(n: Option<f64>) -> Cell {
        n.map_or(Cell::Empty, Cell::Number)
    }
}

impl From<bool> for Cell {
    /// 是 / 否, as the ledgers write yes and no.
    fn from(b: bool) -> Cell {
        Cell::Text(if b { "是" } else { "否" }.to_string())
    }
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// What a ledger is: its title (the file and sheet name), an ASCII name for the fallback file
/// name, and its columns with their widths in characters.
pub struct Ledger {
    pub title: &'static str,
    pub slug: &'static str,
    pub columns: &'static [(&'static str, f64)],
}

/// A ledger's rows, batch by batch, in the order of its list. Each call runs on a pooled
/// connection; the plumbing numbers the rows (序号), loads the reference names once, and stops
/// after a batch shorter than [`BATCH`].
pub trait Source: Send + 'static {
    type Row: Send + 'static;
    /// Before the first batch: resolve what the filters name (a bad one is an error answer).
    fn start(&mut self, c: &mut AnyConnection) -> ApiResult<()>;
    /// Up to [`BATCH`] rows after the last one read.
    fn read(&mut self, c: &mut AnyConnection) -> ApiResult<Vec<Self::Row>>;
    /// The cells of a batch's rows after their number, with what they name looked up once per
    /// batch.
    fn cells(
        &self,
        c: &mut AnyConnection,
        rows: &[Self::Row],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>>;
}

/// A source's bookkeeping: started, ended, rows numbered so far.
struct Numbered<S> {
    source: S,
    names: Option<Names>,
    done: bool,
    numbered: i64,
}

impl<S: Source> Numbered<S> {
    fn next(&mut self, c: &mut AnyConnection) -> ApiResult<Option<Vec<Vec<Cell>>>> {
        if self.done {
            return Ok(None);
        }
        if self.names.is_none() {
            self.source.start(c)?;
            self.names = Some(Names::load(c)?);
        }
        let rows = self.source.read(c)?;
        self.done = rows.len() < BATCH as usize;
        if rows.is_empty() {
            return Ok(None);
        }
        let names = self.names.as_ref().expect("loaded above");
        let cells = self.source.cells(c, &rows, names)?;
        Ok(Some(
            cells
                .into_iter()
                .map(|row| {
                    self.numbered += 1;
                    let mut numbered = Vec::with_capacity(row.len() + 1);
                    numbered.push(Cell::Int(self.numbered));
                    numbered.extend(row);
                    numbered
                })
                .collect(),
        ))
    }
}

/// The file being written.
enum Encoder {
    /// Bytes not sent yet (the header, until the first batch).
    Csv(Vec<u8>),
    Xlsx(Box<Workbook>),
}

/// An XLSX file being written, sheet by sheet.
struct Workbook {
    book: rust_xlsxwriter::Workbook,
    header: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
    /// Data rows written on the current sheet, and the sheet count.
    rows: u32,
    sheets: usize,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::internal(format!("xlsx: {e}"))
}

fn csv_error(e: csv::Error) -> ApiError {
    ApiError::internal(format!("csv: {e}"))
}

fn csv_bytes(w: csv::Writer<Vec<u8>>) -> ApiResult<Vec<u8>> {
    w.into_inner()
        .map_err(|e| ApiError::internal(format!("csv: {e}")))
}

impl Encoder {
    fn new(format: Format, ledger: &Ledger, temp: &std::path::Path) -> ApiResult<Encoder> {
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
                w.write_record(ledger.columns.iter().map(|(h, _)| *h))
                    .map_err(csv_error)?;
                Ok(Encoder::Csv(csv_bytes(w)?))
            }
            Format::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.set_tempdir(temp).map_err(xlsx_error)?;
                let header = rust_xlsxwriter::Format::new().set_bold();
                let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                let mut w = Workbook {
                    book,
                    header,
                    date,
                    rows: 0,
                    sheets: 0,
                };
                w.new_sheet(ledger)?;
                Ok(Encoder::Xlsx(Box::new(w)))
            }
        }
    }

    /// Encodes rows; for CSV, returns the bytes ready to send.
    fn rows(&mut self, ledger: &Ledger, batch: &[Vec<Cell>]) -> ApiResult<Option<Bytes>> {
        if let Encoder::Csv(pending) = self {
            let mut w = csv::Writer::from_writer(std::mem::take(pending));
            for row in batch {
                w.write_record(row.iter().map(Cell::text))
                    .map_err(csv_error)?;
            }
            return Ok(Some(Bytes::from(csv_bytes(w)?)));
        }
        let Encoder::Xlsx(w) = self else {
            unreachable!("CSV returned above")
        };
        for row in batch {
            w.row(ledger, row)?;
        }
        Ok(None)
    }

    /// Ends the file: CSV sends what is left (the header, for no rows); XLSX is assembled
    /// into a temporary file.
    fn finish(self, temp: &std::path::Path) -> ApiResult<Step> {
        match self {
            Encoder::Csv(pending) => Ok(Step::Last(Bytes::from(pending))),
            Encoder::Xlsx(mut w) => {
                let mut file = tempfile::tempfile_in(temp).map_err(ApiError::internal)?;
                w.book.save_to_writer(&mut file).map_err(xlsx_error)?;
                file.seek(SeekFrom::Start(0)).map_err(ApiError::internal)?;
                Ok(Step::File(file))
            }
        }
    }
}

impl Workbook {
    fn new_sheet(&mut self, ledger: &Ledger) -> ApiResult<()> {
        self.sheets += 1;
        self.rows = 0;
        let name = if self.sheets == 1 {
            ledger.title.to_string()
        } else {
            format!("{}{}", ledger.title, self.sheets)
        };
        let sheet = self.book.add_worksheet_with_constant_memory();
        sheet.set_name(&name).map_err(xlsx_error)?;
        for (i, (title, width)) in ledger.columns.iter().enumerate() {
            let col = i as u16;
            sheet.set_column_width(col, *width).map_err(xlsx_error)?;
            sheet
                .write_string_with_format(0, col, *title, &self.header)
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(())
    }

    fn row(&mut self, ledger: &Ledger, row: &[Cell]) -> ApiResult<()> {
        if self.rows >= SHEET_ROWS {
            self.new_sheet(ledger)?;
        }
        self.rows += 1;
        let r = self.rows;
        let sheet = self
            .book
            .worksheet_from_index(self.sheets - 1)
            .map_err(xlsx_error)?;
        for (i, cell) in row.iter().enumerate() {
            let col = i as u16;
            match cell {
                Cell::Text(s) => sheet.write_string(r, col, s).map(|_| ()),
                Cell::Int(n) => sheet.write_number(r, col, *n as f64).map(|_| ()),
                Cell::Number(n) => sheet.write_number(r, col, *n).map(|_| ()),
                Cell::Date(d) => sheet
                    .write_datetime_with_format(r, col, d, &self.date)
                    .map(|_| ()),
                Cell::Empty => Ok(()),
            }
            .map_err(xlsx_error)?;
        }
        Ok(())
    }
}

/// What one step of an export produced.
enum Step {
    Chunk(Option<Bytes>),
    /// The end of a CSV file.
    Last(Bytes),
    /// The assembled XLSX file.
    File(std::fs::File),
}

/// An export in progress: its source (read on a pooled connection, under the usual bound) and
/// its encoder (run on the blocking pool, unbounded: assembling a large XLSX file takes longer
/// than any database statement may).
struct Export<S> {
    source: Numbered<S>,
    encoder: Encoder,
    ledger: &'static Ledger,
    temp: std::path::PathBuf,
}

impl<S: Source> Export<S> {
    /// Reads the next batch and encodes it; or, at the end, finishes the file.
    async fn step(self, state: &AppState) -> ApiResult<(Option<Export<S>>, Step)> {
        let Export {
            source,
            encoder,
            ledger,
            temp,
        } = self;
        let (source, batch) = state
            .run(move |c| {
                let mut source = source;
                let batch = source.next(c)?;
                Ok((source, batch))
            })
            .await?;
        let blocking = |f: Box<dyn FnOnce() -> ApiResult<(Option<Encoder>, Step)> + Send>| async {
            actix_web::web::block(f).await.map_err(ApiError::internal)?
        };
        match batch {
            Some(rows) => {
                let (encoder, step) = blocking(Box::new(move || {
                    let mut encoder = encoder;
                    let bytes = encoder.rows(ledger, &rows)?;
                    Ok((Some(encoder), Step::Chunk(bytes)))
                }))
                .await?;
                let encoder = encoder.expect("kept for the next batch");
                Ok((
                    Some(Export {
                        source,
                        encoder,
                        ledger,
                        temp,
                    }),
                    step,
                ))
            }
            None => {
                let (_, step) =
                    blocking(Box::new(move || Ok((None, encoder.finish(&temp)?)))).await?;
                Ok((None, step))
            }
        }
    }
}

/// The export's file name: the ledger's title and today's date, with an ASCII fallback
/// (RFC 6266 / RFC 5987 `filename*`).
fn disposition(ledger: &Ledger, format: Format, today: NaiveDate) -> ContentDisposition {
    let ext = format.as_str();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("{}-{today}.{ext}", ledger.slug)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: format!("{}-{today}.{ext}", ledger.title).into_bytes(),
            }),
        ],
    }
}

pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

/// Streams `source`'s rows as `ledger` in `format`. Answers `503 exports_busy` (with
/// `Retry-After`) when `HAZREG_EXPORT_CONCURRENCY` exports are already running.
pub async fn respond<S: Source>(
    state: &actix_web::web::Data<AppState>,
    ledger: &'static Ledger,
    format: Format,
    source: S,
) -> ApiResult<HttpResponse> {
    let permit = state.exports.clone().try_acquire_owned().map_err(|_| {
        let mut e = ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "exports_busy",
            "As many exports as the server allows are running; retry shortly",
        );
        e.retry_after = Some(10);
        e
    })?;
    let temp = state.config.data_dir.join("tmp");
    if format == Format::Xlsx {
        std::fs::create_dir_all(&temp).map_err(ApiError::internal)?;
    }
    let encoder = Encoder::new(format, ledger, &temp)?;
    let export = Export {
        source: Numbered {
            source,
            names: None,
            done: false,
            numbered: 0,
        },
        encoder,
        ledger,
        temp,
    };
    // The first batch before the answer starts: a bad filter is still an error answer.
    let (export, first) = export.step(state).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let today = state.clock.today();
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let _permit = permit;
        if let Err(e) = pump(&state, export, first, &tx).await {
            tracing::error!(error = %e.detail, cause = ?e.cause, "export cut short");
            let _ = tx
                .send(Err(std::io::Error::other("export cut short")))
                .await;
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type(format))
        .insert_header(disposition(ledger, format, today))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// Sends `first`, then every later step, until the file ends or the client goes away.
async fn pump<S: Source>(
    state: &AppState,
    mut export: Option<Export<S>>,
    first: Step,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> ApiResult<()> {
    let mut step = first;
    loop {
        match step {
            Step::Last(bytes) => {
                if !bytes.is_empty() {
                    let _ = tx.send(Ok(bytes)).await;
                }
                return Ok(());
            }
            Step::File(file) => return send_file(file, tx).await,
            Step::Chunk(bytes) => {
                if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
                    if tx.send(Ok(bytes)).await.is_err() {
                        return Ok(()); // the client left
                    }
                }
            }
        }
        let Some(current) = export.take() else {
            return Ok(());
        };
        let (next_export, next) = current.step(state).await?;
        export = next_export;
        step = next;
    }
}

/// Streams an assembled file in 64 KiB chunks, read off the request threads.
async fn send_file(
    file: std::fs::File,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> ApiResult<()> {
    let file = Arc::new(parking_lot::Mutex::new(file));
    loop {
        let f = file.clone();
        let chunk = actix_web::web::block(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = f.lock().read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>(buf)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        if chunk.is_empty() {
            return Ok(());
        }
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return Ok(());
        }
    }
}

/// Reads an export's query: its `format` (default `csv`), `updated_since`, and the rest as the
/// ledger's list filters `Q` (which refuse unknown parameters). `limit` and `cursor` do not
/// apply to a file: `400 invalid_query`.
pub fn query<Q: serde::de::DeserializeOwned>(
    raw: &str,
) -> ApiResult<(Format, Q, Option<chrono::NaiveDateTime>)> {
    let bad = |detail: String| ApiError::bad_request("invalid_query", detail);
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|e| bad(e.to_string()))?;
    let mut format = Format::Csv;
    let mut since = None;
    let mut rest = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "format" => {
                format = Format::parse(&v)
                    .ok_or_else(|| bad(format!("format must be csv or xlsx; got {v}")))?
            }
            "updated_since" => since = Some(v),
            "limit" | "cursor" => {
                return Err(bad(format!(
                    "{k} does not apply to an export: the file holds every matching row"
                )))
            }
            _ => rest.push((k, v)),
        }
    }
    let updated_since = crate::http::page::parse_timestamp("updated_since", since.as_deref())?;
    let encoded = serde_urlencoded::to_string(&rest).map_err(ApiError::internal)?;
    let filters = serde_urlencoded::from_str(&encoded).map_err(|e| bad(e.to_string()))?;
    Ok((format, filters, updated_since))
}

/// The answers every export documents (`responses(ExportResponses)`).
pub struct ExportResponses;

impl utoipa::IntoResponses for ExportResponses {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        use utoipa::PartialSchema;
        let problem = |description: &str| {
            ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
        };
        let file = ResponseBuilder::new()
            .description(
                "The ledger file, streamed: `text/csv; charset=utf-8` (with a byte-order mark) \
                 for `format=csv`, XLSX for `format=xlsx`",
            )
            .content(
                "text/csv",
                ContentBuilder::new()
                    .schema(Some(LedgerFile::schema()))
                    .example(Some(serde_json::json!(
                        "\u{feff}序号,隐患编号,企业名称,...\r\n1,431302-2026-00001,娄底市某化工有限公司,...\r\n"
                    )))
                    .build(),
            )
            .content(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ContentBuilder::new()
                    .schema(Some(LedgerFile::schema()))
                    .build(),
            )
            .header(
                "Content-Disposition",
                HeaderBuilder::new()
                    .schema(String::schema())
                    .description(Some(
                        "`attachment`, the ledger's Chinese name and the date as `filename*` \
                         (RFC 5987, UTF-8), and an ASCII `filename`: \
                         `attachment; filename=\"hazards-2026-12-07.csv\"; \
                         filename*=UTF-8''%E9%9A%90%E6%82%A3%E5%8F%B0%E8%B4%A6%2D2026%2D12%2D07.csv`",
                    ))
                    .build(),
            );
        let busy = problem(
            "As many exports as `HAZREG_EXPORT_CONCURRENCY` allows are running \
             (`exports_busy`), or the database is unavailable; retry after `Retry-After`",
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(i64::schema())
                .description(Some("Seconds to wait"))
                .build(),
        );
        [
            ("200", file),
            (
                "400",
                problem(
                    "An unknown parameter or value, a `format` other than `csv` or `xlsx`, or \
                     `limit`/`cursor`, which do not apply to a file (`invalid_query`)",
                ),
            ),
            (
                "422",
                problem("An unknown `jurisdiction_code` (`validation_failed`)"),
            ),
            ("503", busy),
        ]
        .into_iter()
        .map(|(status, r)| (status.to_string(), r.build().into()))
        .collect()
    }
}
