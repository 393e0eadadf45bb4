//! Hazards, their extensions and attachments: rows, scoped reads, writes and the code sequence.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::schema::{attachments as at, hazard_code_counters as hcc, hazards as h};
use super::scope::{hazards_visible, within, HazardFilter, Scope};
use super::text::StoredJson;
use super::{lower, AnyConnection};
use crate::domain::hazard::lifecycle::{self, Change};
use crate::domain::hazard::{
    deadline_key, AttachmentStage, GovernancePlan, HazardFields, HazardLevel, HazardNature,
    HazardSource, HazardStatus, MajorReport, NO_DEADLINE,
};
use crate::domain::jurisdiction::Reach;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = h)]
pub struct HazardRow {
    pub id: i64,
    pub code: String,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub county_code: String,
    pub sector_code: String,
    pub title: String,
    pub description: String,
    pub location: Option<String>,
    pub level: HazardLevel,
    pub source: HazardSource,
    pub nature: Option<HazardNature>,
    pub standard_ref: Option<String>,
    pub major_reason: Option<String>,
    pub discovered_on: NaiveDate,
    pub responsible_person: Option<String>,
    pub rectification_deadline: Option<NaiveDate>,
    pub deadline_key: NaiveDate,
    pub measures: Option<String>,
    pub funds_10k_yuan: Option<f64>,
    pub acceptance_criteria: Option<String>,
    pub major_report: Option<StoredJson<MajorReport>>,
    pub governance_plan: Option<StoredJson<GovernancePlan>>,
    pub rectification_note: Option<String>,
    pub status: HazardStatus,
    pub listed: bool,
    pub reported_by: i64,
    pub submitted_by: Option<i64>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub city_code: String,
    /// The public report (举报) it was recorded from (`routes::public_reports`).
    pub public_report_id: Option<i64>,
    /// Where a check found it (`routes::inspections`): the record, the measure, the unit.
    pub check_record_id: Option<i64>,
    pub control_measure_id: Option<i64>,
    pub risk_unit_id: Option<i64>,
}

impl HazardRow {
    /// What the lifecycle rules look at.
    pub fn state(&self) -> lifecycle::State {
        lifecycle::State {
            status: self.status,
            level: self.level,
            listed: self.listed,
        }
    }

    pub fn status(&self) -> HazardStatus {
        self.status
    }

    pub fn level(&self) -> HazardLevel {
        self.level
    }

    pub fn fields(&self) -> HazardFields {
        self.clone().take_fields()
    }

    /// The client's fields, taking the row's strings (left empty).
    pub fn take_fields(&mut self) -> HazardFields {
        HazardFields {
            enterprise_id: Some(self.enterprise_id),
            title: std::mem::take(&mut self.title),
            description: std::mem::take(&mut self.description),
            location: self.location.take(),
            level: self.level,
            source: Some(self.source),
            nature: self.nature,
            standard_ref: self.standard_ref.take(),
            major_reason: self.major_reason.take(),
            discovered_on: self.discovered_on,
            responsible_person: self.responsible_person.take(),
            rectification_deadline: self.rectification_deadline,
            measures: self.measures.take(),
            funds_10k_yuan: self.funds_10k_yuan,
            acceptance_criteria: self.acceptance_criteria.take(),
            major_report: self.major_report.take().map(|j| j.0),
            governance_plan: self.governance_plan.take().map(|j| j.0),
        }
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| unreachable!("a struct of strings serializes"))
}

/// The columns a client's fields are stored in (written whole by `insert` and `update_fields`).
#[derive(AsChangeset)]
#[diesel(table_name = h, treat_none_as_null = true)]
struct HazardValues<'a> {
    title: &'a str,
    description: &'a str,
    location: Option<&'a str>,
    level: &'static str,
    source: &'static str,
    nature: Option<&'static str>,
    standard_ref: Option<&'a str>,
    major_reason: Option<&'a str>,
    discovered_on: NaiveDate,
    responsible_person: Option<&'a str>,
    rectification_deadline: Option<NaiveDate>,
    deadline_key: NaiveDate,
    measures: Option<&'a str>,
    funds_10k_yuan: Option<f64>,
    acceptance_criteria: Option<&'a str>,
    major_report: Option<String>,
    governance_plan: Option<String>,
}

impl<'a> From<&'a HazardFields> for HazardValues<'a> {
    fn from(f: &'a HazardFields) -> Self {
        HazardValues {
            title: &f.title,
            description: &f.description,
            location: f.location.as_deref(),
            level: f.level.as_str(),
            source: f.source.unwrap_or(HazardSource::Other).as_str(),
            nature: f.nature.map(|n| n.as_str()),
            standard_ref: f.standard_ref.as_deref(),
            major_reason: f.major_reason.as_deref(),
            discovered_on: f.discovered_on,
            responsible_person: f.responsible_person.as_deref(),
            rectification_deadline: f.rectification_deadline,
            deadline_key: deadline_key(f.rectification_deadline),
            measures: f.measures.as_deref(),
            funds_10k_yuan: f.funds_10k_yuan,
            acceptance_criteria: f.acceptance_criteria.as_deref(),
            // Plain structs of strings: serializing them cannot fail.
            major_report: f.major_report.as_ref().map(json_text),
            governance_plan: f.governance_plan.as_ref().map(json_text),
        }
    }
}

/// The next number of a code prefix (`<county code>-<year>`), on SQLite: the counter row is
/// bumped in the transaction (SQLite has one writer at a time). PostgreSQL takes it in the
/// hazard's own `INSERT` (`hazard_code_take`, below).
fn next_code_sqlite(conn: &mut diesel::SqliteConnection, prefix: &str) -> QueryResult<String> {
    diesel::insert_into(hcc::table)
        .values((hcc::prefix.eq(prefix), hcc::last_value.eq(0)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let n: i32 = diesel::update(hcc::table.filter(hcc::prefix.eq(prefix)))
        .set(hcc::last_value.eq(hcc::last_value + 1))
        .returning(hcc::last_value)
        .get_result(conn)?;
    Ok(format!("{prefix}-{n:05}"))
}

diesel::define_sql_function! {
    /// PostgreSQL's next code of a prefix, `<prefix>-<at least 5 digits>` (migration 000027):
    /// the number comes from a sequence per prefix (`hazard_code_next`, migration 000012),
    /// which takes no lock, so concurrent creates in a county do not queue behind each other's
    /// commits.
    fn hazard_code_take(prefix: Text) -> Text;
}

pub struct NewHazard<'a> {
    /// `<county code>-<year>`: the hazard's code is the next of this prefix. A code is never
    /// handed out twice; a rolled-back create may leave a gap.
    pub code_prefix: &'a str,
    pub enterprise_id: i64,
    pub jurisdiction_code: &'a str,
    pub county_code: &'a str,
    pub city_code: &'a str,
    pub sector_code: &'a str,
    pub status: HazardStatus,
    pub reported_by: i64,
    pub origin: Origin,
}

/// Where a new hazard comes from, besides who reported it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    pub public_report_id: Option<i64>,
    pub check_record_id: Option<i64>,
    pub control_measure_id: Option<i64>,
    pub risk_unit_id: Option<i64>,
}

pub fn insert(
    conn: &mut AnyConnection,
    n: &NewHazard<'_>,
    f: &HazardFields,
) -> QueryResult<HazardRow> {
    let now = super::now();
    let v = HazardValues::from(f);
    // Every column as a bound value, NULL included. Derived `Insertable` writes a `None` as
    // `DEFAULT`, so the statement's text would depend on which fields are set; diesel does not
    // cache such a statement, and PostgreSQL would parse and plan every create afresh.
    macro_rules! insert_with_code {
        ($conn:expr, $code:expr) => {
            diesel::insert_into(h::table)
                .values((
                    (
                        h::title.eq(v.title),
                        h::description.eq(v.description),
                        h::location.eq(v.location),
                        h::level.eq(v.level),
                        h::source.eq(v.source),
                        h::nature.eq(v.nature),
                        h::standard_ref.eq(v.standard_ref),
                        h::major_reason.eq(v.major_reason),
                        h::discovered_on.eq(v.discovered_on),
                        h::responsible_person.eq(v.responsible_person),
                        h::rectification_deadline.eq(v.rectification_deadline),
                        h::deadline_key.eq(v.deadline_key),
                        h::measures.eq(v.measures),
                        h::funds_10k_yuan.eq(v.funds_10k_yuan),
                        h::acceptance_criteria.eq(v.acceptance_criteria),
                        h::major_report.eq(v.major_report),
                        h::governance_plan.eq(v.governance_plan),
                    ),
                    h::code.eq($code),
                    h::enterprise_id.eq(n.enterprise_id),
                    h::jurisdiction_code.eq(n.jurisdiction_code),
                    h::county_code.eq(n.county_code),
                    h::city_code.eq(n.city_code),
                    h::sector_code.eq(n.sector_code),
                    h::status.eq(n.status.as_str()),
                    h::listed.eq(false),
                    h::reported_by.eq(n.reported_by),
                    h::public_report_id.eq(n.origin.public_report_id),
                    h::check_record_id.eq(n.origin.check_record_id),
                    h::control_measure_id.eq(n.origin.control_measure_id),
                    h::risk_unit_id.eq(n.origin.risk_unit_id),
                    h::created_at.eq(now),
                    h::updated_at.eq(now),
                    h::version.eq(1i64),
                ))
                .returning(HazardRow::as_returning())
                .get_result($conn)
        };
    }
    match conn {
        // The code is taken in the same statement: one round trip fewer per create.
        AnyConnection::Postgresql(c) => insert_with_code!(c, hazard_code_take(n.code_prefix)),
        AnyConnection::Sqlite(c) => {
            let code = next_code_sqlite(c, n.code_prefix)?;
            insert_with_code!(c, &code)
        }
    }
}

pub fn get_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<HazardRow>> {
    h::table
        .filter(h::id.eq(id))
        .filter(hazards_visible(scope))
        .select(HazardRow::as_select())
        .first(conn)
        .optional()
}

/// A hazard by id, whoever asks: for work that already checked the caller's scope (the
/// change feed re-reads a hazard a write has just changed).
pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<HazardRow> {
    h::table
        .filter(h::id.eq(id))
        .select(HazardRow::as_select())
        .first(conn)
}

/// Writes the client fields if the row is still at `version`.
pub fn update_fields(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    f: &HazardFields,
) -> QueryResult<Option<HazardRow>> {
    diesel::update(h::table.filter(h::id.eq(id)).filter(h::version.eq(version)))
        .set((
            HazardValues::from(f),
            h::updated_at.eq(super::now()),
            h::version.eq(version + 1),
        ))
        .get_result(conn)
        .optional()
}

/// The columns a lifecycle change writes.
#[derive(AsChangeset)]
#[diesel(table_name = h)]
struct LifecycleColumns {
    status: Option<&'static str>,
    level: Option<&'static str>,
    rectification_note: Option<Option<String>>,
    submitted_by: Option<Option<i64>>,
    closed_at: Option<Option<NaiveDateTime>>,
    listed: Option<bool>,
}

impl LifecycleColumns {
    fn of(c: &Change, now: NaiveDateTime) -> LifecycleColumns {
        LifecycleColumns {
            status: c.status.map(HazardStatus::as_str),
            level: c.level.map(HazardLevel::as_str),
            rectification_note: c.rectification_note.clone(),
            submitted_by: c.submitted_by,
            closed_at: c.closed.map(|closed| closed.then_some(now)),
            listed: c.listed,
        }
    }
}

/// Applies a lifecycle change (decided by `domain::hazard::lifecycle`) if the row is still at
/// `version`; `None` when it moved on meanwhile.
pub fn change(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    c: &Change,
) -> QueryResult<Option<HazardRow>> {
    let now = super::now();
    diesel::update(h::table.filter(h::id.eq(id)).filter(h::version.eq(version)))
        .set((
            LifecycleColumns::of(c, now),
            h::updated_at.eq(now),
            h::version.eq(version + 1),
        ))
        .get_result(conn)
        .optional()
}

/// Applies a change that is its own act and must not fail because someone edited the hazard
/// meanwhile (a listing cancelled); the version still moves.
pub fn change_whatever_version(
    conn: &mut AnyConnection,
    id: i64,
    c: &Change,
) -> QueryResult<usize> {
    let now = super::now();
    diesel::update(h::table.filter(h::id.eq(id)))
        .set((
            LifecycleColumns::of(c, now),
            h::updated_at.eq(now),
            h::version.eq(h::version + 1),
        ))
        .execute(conn)
}

/// Moves the deadline (an approved extension). Not version-guarded: the decision is its own
/// act and must not fail because someone edited the hazard meanwhile; the version still moves.
pub fn move_deadline(conn: &mut AnyConnection, id: i64, deadline: NaiveDate) -> QueryResult<usize> {
    diesel::update(h::table.filter(h::id.eq(id)))
        .set((
            h::rectification_deadline.eq(Some(deadline)),
            h::deadline_key.eq(deadline_key(Some(deadline))),
            h::updated_at.eq(super::now()),
            h::version.eq(h::version + 1),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HazardSort {
    Id,
    DeadlineAsc,
    DeadlineDesc,
    UpdatedAsc,
    UpdatedDesc,
}

/// Where the previous page ended, in the sort's key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum HazardCursor {
    Id(i64),
    Deadline(NaiveDate, i64),
    Updated(NaiveDateTime, i64),
}

#[derive(Debug, Clone)]
pub struct HazardListFilter {
    pub statuses: Vec<String>,
    pub level: Option<String>,
    pub source: Option<String>,
    pub enterprise_id: Option<i64>,
    /// At or below this jurisdiction (the `jurisdiction_code` filter).
    pub jurisdiction: Option<Reach>,
    pub sector_code: Option<String>,
    pub overdue: Option<bool>,
    pub today: NaiveDate,
    pub deadline_before: Option<NaiveDate>,
    pub deadline_after: Option<NaiveDate>,
    pub listed: Option<bool>,
    pub q: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: HazardSort,
    pub after: Option<HazardCursor>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

/// The statuses in which a hazard past its deadline is overdue (the domain decides:
/// `HazardStatus::counts_overdue`).
fn overdue_statuses() -> Vec<&'static str> {
    HazardStatus::ALL
        .iter()
        .filter(|s| s.counts_overdue())
        .map(|s| s.as_str())
        .collect()
}

/// The same statuses as an SQL list (`'reported', 'rectifying'`).
pub fn overdue_statuses_sql() -> String {
    overdue_statuses()
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Overdue today: an overdue status, past the deadline. The statuses are written out, not
/// bound, so both planners see that the partial `hazards_*_overdue` indexes (migration 000011,
/// whose predicate is this same list; `plans` tests it) apply.
pub fn overdue_now(today: NaiveDate) -> super::scope::HazardFilter {
    use diesel::sql_types::Date;
    Box::new(
        sql::<Bool>(&format!(
            "hazards.status IN ({}) AND hazards.deadline_key < ",
            overdue_statuses_sql()
        ))
        .bind::<Date, _>(today),
    )
}

/// The `q=` condition (migrations `000009_search`, `000021_code_search`): the exact `LIKE`s on
/// code, title and description, each paired with a condition every row it matches meets and
/// a text index answers, so the `LIKE`s only look at the index's candidates.
///
/// - **PostgreSQL** (two characters or more): one GIN index holds the bigrams of title and
///   description and, marked apart, those of the code, so a digit term is not a candidate in
///   every code's text. A term that can only match at the start of a code (`code_prefix`) is a
///   prefix range on `hazards_code_prefix` instead.
/// - **SQLite** (three characters or more): the FTS5 trigram index over the three columns.
///
/// A shorter `q` is answered by the `LIKE`s alone.
fn search_filter(conn: &AnyConnection, text: &str, part: Search<'_>) -> HazardFilter {
    let p = super::scope::contains_pattern(text);
    let like = |column: &'static str| {
        sql::<Bool>(&format!("lower(hazards.{column}) LIKE "))
            .bind::<Text, _>(p.clone())
            .sql(" ESCAPE '\\'")
    };
    let chars = text.chars().count();
    match conn {
        AnyConnection::Postgresql(_) if chars >= 2 => {
            // The index expression, written as migration 000021 wrote it.
            const INDEXED: &str = "(hazard_search_grams(lower(hazards.title || ' ' || \
                                   hazards.description)) || hazard_code_grams(lower(hazards.code)))";
            let indexed = |grams: &str| {
                sql::<Bool>(&format!("{INDEXED} @> {grams}(lower("))
                    .bind::<Text, _>(text.to_string())
                    .sql("))")
            };
            // The `LIKE`s first: inside `OR`/`AND` PostgreSQL keeps the written order, and a
            // row walk (`search_in_window`) should not build every row's bigrams.
            let text_part = like("title")
                .or(like("description"))
                .and(indexed("hazard_search_grams"));
            let prefix = |prefix: &CodePrefix| -> HazardFilter {
                let code = sql::<Bool>("lower(hazards.code) LIKE ")
                    .bind::<Text, _>(prefix.pattern.clone());
                match prefix.units.as_slice() {
                    // One unit is an equality, which the planner weighs best.
                    [one] => Box::new(h::county_code.eq(one.clone()).and(code)),
                    many => Box::new(h::county_code.eq_any(many.to_vec()).and(code)),
                }
            };
            match part {
                Search::All => {
                    Box::new(text_part.or(like("code").and(indexed("hazard_code_grams"))))
                }
                Search::Text => Box::new(text_part),
                Search::CodePrefix(p) => Box::new(prefix(p)),
            }
        }
        AnyConnection::Sqlite(_) if chars >= 3 => Box::new(
            like("code").or(like("title")).or(like("description")).and(
                sql::<Bool>(
                    "hazards.id IN (SELECT rowid FROM hazards_search WHERE hazards_search \
                         MATCH ",
                )
                .bind::<Text, _>(format!("\"{}\"", text.replace('"', "\"\"")))
                .sql(")"),
            ),
        ),
        _ => Box::new(like("code").or(like("title")).or(like("description"))),
    }
}

/// Which part of a search a query answers (`search_filter`). A search whose `q` can only match
/// a code at its start (`code_prefix`) is answered on PostgreSQL as two pages merged: the
/// codes by prefix, then titles and descriptions through the text index. Together they are
/// exactly the rows `All` finds, and each part alone is cheap: walking rows to test only the
/// code, or the text index's few candidates.
#[derive(Clone, Copy)]
enum Search<'a> {
    All,
    Text,
    CodePrefix(&'a CodePrefix),
}

/// A `q` that can only match codes at their start (`code_prefix`): the `LIKE` pattern, and the
/// county-level units such codes can belong to. A code starts with its hazard's `county_code`
/// and `-` (migration 000002), so a code starting with `q` belongs to a unit `U` with `q`
/// starting with `U-`, or `U` starting with `q`; naming them lets a scope wider than one county
/// walk that county's index instead of every row of the scope.
pub struct CodePrefix {
    pattern: String,
    units: Vec<String>,
}

/// `q`'s code prefix, if it can only ever match a hazard code at its start, so that a prefix
/// range finds every code containing it (PostgreSQL; `search_filter`).
///
/// A code is `<county-level unit>-<year>-<number>`: the year has four digits and the number
/// ends the code, so a run of six digits or more followed by `-` lies within the county-level
/// unit's part. A `q` that starts with such a run (and holds only ASCII letters, digits and
/// `-`) can match further in only if some code's unit has the run past its first character,
/// which `hazard_code_counters` (one row per `<unit>-<year>` ever handed out) tells.
fn code_prefix(conn: &mut AnyConnection, q: &str) -> QueryResult<Option<CodePrefix>> {
    use super::schema::jurisdictions as j;
    if !matches!(conn, AnyConnection::Postgresql(_)) {
        return Ok(None);
    }
    let q = q.to_ascii_lowercase();
    let digits = q.bytes().take_while(u8::is_ascii_digit).count();
    let shaped = digits >= 6
        && q.as_bytes().get(digits) == Some(&b'-')
        && q.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !shaped {
        return Ok(None);
    }
    let inside: bool = diesel::select(diesel::dsl::exists(
        hcc::table.filter(lower(hcc::prefix).like(format!("_%{}%", &q[..digits]))),
    ))
    .get_result(conn)?;
    if inside {
        return Ok(None);
    }
    // Every hazard's county_code is a jurisdiction (a foreign key), so this finds them all; a
    // `_` or `%` in a unit's code only widens the list.
    let units = j::table
        .filter(
            sql::<Bool>("")
                .bind::<Text, _>(q.clone())
                .sql(" LIKE lower(jurisdictions.code) || '-%' OR lower(jurisdictions.code) LIKE ")
                .bind::<Text, _>(format!("{q}%")),
        )
        .select(j::code)
        .load::<String>(conn)?;
    Ok(Some(CodePrefix {
        pattern: format!("{q}%"),
        units,
    }))
}

pub fn list_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &HazardListFilter,
) -> QueryResult<Vec<HazardRow>> {
    let Some(q) = f.q.as_deref() else {
        return list_query(conn, scope, f, Search::All).load(conn);
    };
    if !matches!(conn, AnyConnection::Postgresql(_))
        || f.sort != HazardSort::Id
        || q.chars().count() < 2
    {
        return list_query(conn, scope, f, Search::All).load(conn);
    }
    match code_prefix(conn, q)? {
        Some(prefix) => {
            let mut page = list_query(conn, scope, f, Search::CodePrefix(&prefix)).load(conn)?;
            page.extend(list_query(conn, scope, f, Search::Text).load::<HazardRow>(conn)?);
            page.sort_by_key(|r| r.id);
            page.dedup_by_key(|r| r.id);
            page.truncate(usize::try_from(f.fetch).unwrap_or(usize::MAX));
            Ok(page)
        }
        None => search_in_window(conn, scope, f),
    }
}

/// How many rows of the scope, in page order, a search reads before it turns to the text index.
const SEARCH_WINDOW: i64 = 2_000;

/// A search page on PostgreSQL, exact and fast for common and rare terms alike.
///
/// The planner cannot know how common a term is (its `LIKE`s have fixed estimates), so left
/// alone it always takes the text index: every match is fetched and sorted before the page is
/// cut, which for a term in a tenth of a city's million hazards is most of a second. Walking
/// the scope's id index instead finds a common term's page within a few hundred rows, but a
/// rare term's only after the whole scope. So the page is read in two steps: the next
/// `SEARCH_WINDOW` rows of the scope in id order, walked with bitmap scans off (the text index
/// is bitmap-only, so the walk is bounded); and only if they hold less than a page, the text
/// index for the rows after them. Both steps keep id order, so their concatenation is the page.
fn search_in_window(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &HazardListFilter,
) -> QueryResult<Vec<HazardRow>> {
    let mut plain = f.clone();
    plain.q = None;
    let bound = list_query(conn, scope, &plain, Search::All)
        .limit(1)
        .offset(SEARCH_WINDOW - 1)
        .load::<HazardRow>(conn)?
        .first()
        .map(|r| r.id);
    let mut page: Vec<HazardRow> = conn.transaction(|c| {
        diesel::sql_query("SET LOCAL enable_bitmapscan = off").execute(c)?;
        let mut q = list_query(c, scope, f, Search::All);
        if let Some(b) = bound {
            q = q.filter(h::id.le(b));
        }
        q.load(c)
    })?;
    let got = page.len() as i64;
    if let (Some(b), true) = (bound, got < f.fetch) {
        let mut rest = f.clone();
        rest.after = Some(HazardCursor::Id(b));
        rest.fetch = f.fetch - got;
        page.extend(list_query(conn, scope, &rest, Search::All).load(conn)?);
    }
    Ok(page)
}

/// The plan of the list query (`db::plan`).
pub fn list_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &HazardListFilter,
) -> QueryResult<Vec<String>> {
    let prefix = match &f.q {
        Some(q) => code_prefix(conn, q)?,
        None => None,
    };
    let q = match &prefix {
        Some(p) => list_query(conn, scope, f, Search::CodePrefix(p)),
        None => list_query(conn, scope, f, Search::All),
    };
    super::plan::explain(conn, q)
}

type HazardQuery = h::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<HazardRow, super::scope::Backend>>,
>;

/// The list's query; `search` says which part of `q` it answers.
fn list_query(
    conn: &AnyConnection,
    scope: &Scope,
    f: &HazardListFilter,
    search: Search<'_>,
) -> HazardQuery {
    let mut q = h::table
        .filter(hazards_visible(scope))
        .select(HazardRow::as_select())
        .into_boxed();
    // One status is an equality, so the (scope, status, id) index keeps the order; a list
    // is `= ANY(…)` on PostgreSQL, which cannot.
    match f.statuses.as_slice() {
        [] => {}
        [one] => q = q.filter(h::status.eq(one.clone())),
        many => q = q.filter(h::status.eq_any(many.to_vec())),
    }
    if let Some(l) = &f.level {
        q = q.filter(h::level.eq(l.clone()));
    }
    if let Some(s) = &f.source {
        q = q.filter(h::source.eq(s.clone()));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(h::enterprise_id.eq(e));
    }
    if let Some(reach) = &f.jurisdiction {
        q = q.filter(within!(
            reach,
            h::city_code,
            h::county_code,
            h::jurisdiction_code
        ));
    }
    if let Some(s) = &f.sector_code {
        q = q.filter(h::sector_code.eq(s.clone()));
    }
    match f.overdue {
        Some(true) => q = q.filter(overdue_now(f.today)),
        Some(false) => {
            q = q.filter(
                h::status
                    .ne_all(overdue_statuses())
                    .or(h::deadline_key.ge(f.today)),
            )
        }
        None => {}
    }
    // On the indexed sort key; "no deadline" (the sentinel) is never after a date.
    if let Some(d) = f.deadline_before {
        q = q.filter(h::deadline_key.lt(d));
    }
    if let Some(d) = f.deadline_after {
        q = q
            .filter(h::deadline_key.gt(d))
            .filter(h::deadline_key.lt(NO_DEADLINE));
    }
    if let Some(l) = f.listed {
        q = q.filter(h::listed.eq(l));
    }
    if let Some(text) = &f.q {
        q = q.filter(search_filter(conn, text, search));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(h::updated_at.ge(t));
    }
    // Keyset: the redundant bound on the sort key (`>= d` before `> d OR (= d AND id > …)`)
    // is what lets both planners start the index range at the cursor instead of filtering
    // every earlier entry of the page's index.
    q = match (f.sort, &f.after) {
        (HazardSort::Id, Some(HazardCursor::Id(id))) => q.filter(h::id.gt(*id)),
        (HazardSort::DeadlineAsc, Some(HazardCursor::Deadline(d, id))) => {
            q.filter(h::deadline_key.ge(*d)).filter(
                h::deadline_key
                    .gt(*d)
                    .or(h::deadline_key.eq(*d).and(h::id.gt(*id))),
            )
        }
        (HazardSort::DeadlineDesc, Some(HazardCursor::Deadline(d, id))) => {
            q.filter(h::deadline_key.le(*d)).filter(
                h::deadline_key
                    .lt(*d)
                    .or(h::deadline_key.eq(*d).and(h::id.lt(*id))),
            )
        }
        (HazardSort::UpdatedAsc, Some(HazardCursor::Updated(t, id))) => {
            q.filter(h::updated_at.ge(*t)).filter(
                h::updated_at
                    .gt(*t)
                    .or(h::updated_at.eq(*t).and(h::id.gt(*id))),
            )
        }
        (HazardSort::UpdatedDesc, Some(HazardCursor::Updated(t, id))) => {
            q.filter(h::updated_at.le(*t)).filter(
                h::updated_at
                    .lt(*t)
                    .or(h::updated_at.eq(*t).and(h::id.lt(*id))),
            )
        }
        _ => q,
    };
    q = match f.sort {
        HazardSort::Id => q.order(h::id.asc()),
        HazardSort::DeadlineAsc => q.order((h::deadline_key.asc(), h::id.asc())),
        HazardSort::DeadlineDesc => q.order((h::deadline_key.desc(), h::id.desc())),
        HazardSort::UpdatedAsc => q.order((h::updated_at.asc(), h::id.asc())),
        HazardSort::UpdatedDesc => q.order((h::updated_at.desc(), h::id.desc())),
    };
    q.limit(f.fetch)
}

// ---- attachments ----

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = at)]
pub struct AttachmentRow {
    pub id: i64,
    /// `None` while staged (uploaded before its hazard exists).
    pub hazard_id: Option<i64>,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub stage: AttachmentStage,
    pub file_name: Option<String>,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
    /// Until when a staged attachment waits to be bound.
    pub staged_until: Option<NaiveDateTime>,
}

/// Exactly one of `hazard_id` and `staged_until` is set.
pub struct NewAttachment<'a> {
    pub hazard_id: Option<i64>,
    pub staged_until: Option<NaiveDateTime>,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub stage: &'a str,
    pub file_name: Option<&'a str>,
    pub uploaded_by: i64,
}

pub fn insert_attachment(
    conn: &mut AnyConnection,
    a: &NewAttachment<'_>,
) -> QueryResult<AttachmentRow> {
    diesel::insert_into(at::table)
        .values((
            at::hazard_id.eq(a.hazard_id),
            at::sha256.eq(a.sha256),
            at::content_type.eq(a.content_type),
            at::size.eq(a.size),
            at::stage.eq(a.stage),
            at::file_name.eq(a.file_name),
            at::uploaded_by.eq(a.uploaded_by),
            at::created_at.eq(super::now()),
            at::staged_until.eq(a.staged_until),
        ))
        .get_result(conn)
}

pub fn attachments_of(
    conn: &mut AnyConnection,
    hazard_id: i64,
    after_id: Option<i64>,
    since: Option<NaiveDateTime>,
    fetch: i64,
) -> QueryResult<Vec<AttachmentRow>> {
    let mut q = at::table
        .filter(at::hazard_id.eq(hazard_id))
        .select(AttachmentRow::as_select())
        .into_boxed();
    if let Some(t) = since {
        q = q.filter(at::created_at.ge(t));
    }
    if let Some(a) = after_id {
        q = q.filter(at::id.gt(a));
    }
    q.order(at::id.asc()).limit(fetch).load(conn)
}

pub fn has_attachment(conn: &mut AnyConnection, hazard_id: i64, stage: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        at::table
            .filter(at::hazard_id.eq(hazard_id))
            .filter(at::stage.eq(stage)),
    ))
    .get_result(conn)
}

/// An attachment whose hazard the scope can see, or a live staged one of the account's own.
pub fn attachment_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    account_id: i64,
    id: i64,
) -> QueryResult<Option<AttachmentRow>> {
    let row: Option<AttachmentRow> = at::table
        .filter(at::id.eq(id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?;
    let visible = match &row {
        Some(AttachmentRow {
            hazard_id: Some(hazard),
            ..
        }) => get_visible(conn, scope, *hazard)?.is_some(),
        Some(a) => a.uploaded_by == account_id && a.staged_until > Some(super::now()),
        None => false,
    };
    Ok(row.filter(|_| visible))
}

/// Binds the account's live staged attachments `ids` to a hazard, in the caller's
/// transaction. `Err(index)` names the first id that is not one (another's, expired, already
/// bound, or unknown); then nothing must be kept (the caller's transaction rolls back). Two
/// binds of one staged attachment at once: the second finds it bound.
pub fn bind_staged(
    conn: &mut AnyConnection,
    hazard_id: i64,
    account_id: i64,
    ids: &[i64],
) -> QueryResult<Result<Vec<AttachmentRow>, usize>> {
    let bound: Vec<AttachmentRow> = diesel::update(
        at::table
            .filter(at::id.eq_any(ids))
            .filter(at::hazard_id.is_null())
            .filter(at::uploaded_by.eq(account_id))
            .filter(at::staged_until.gt(super::now())),
    )
    .set((
        at::hazard_id.eq(Some(hazard_id)),
        at::staged_until.eq(None::<NaiveDateTime>),
    ))
    .get_results(conn)?;
    match ids.iter().position(|id| !bound.iter().any(|r| r.id == *id)) {
        Some(index) => Ok(Err(index)),
        None => Ok(Ok(bound)),
    }
}

/// Removes staged attachments nobody bound in time (their files stay: stored by content,
/// they may be another attachment's too).
pub fn purge_expired_staged(conn: &mut AnyConnection) -> QueryResult<usize> {
    diesel::delete(
        at::table
            .filter(at::hazard_id.is_null())
            .filter(at::staged_until.lt(super::now())),
    )
    .execute(conn)
}

/// Names a check as the origin of an existing hazard, unless one is named already.
pub fn set_origin(conn: &mut AnyConnection, id: i64, origin: Origin) -> QueryResult<()> {
    diesel::update(
        h::table
            .filter(h::id.eq(id))
            .filter(h::check_record_id.is_null()),
    )
    .set((
        h::check_record_id.eq(origin.check_record_id),
        h::control_measure_id.eq(origin.control_measure_id),
        h::risk_unit_id.eq(origin.risk_unit_id),
        h::updated_at.eq(super::now()),
        h::version.eq(h::version + 1),
    ))
    .execute(conn)
    .map(|_| ())
}

/// A page (by id) of the hazards in scope changed since a moment: the national data model
/// exchange (`routes::exchange`).
pub fn changed_since(
    conn: &mut AnyConnection,
    scope: &Scope,
    since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<HazardRow>> {
    let mut q = h::table
        .filter(hazards_visible(scope))
        .select(HazardRow::as_select())
        .order(h::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(t) = since {
        q = q.filter(h::updated_at.ge(t));
    }
    if let Some(a) = after_id {
        q = q.filter(h::id.gt(a));
    }
    q.load(conn)
}
