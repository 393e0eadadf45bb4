//! Public reports (举报, migration 000024, `domain::public_report`): the reports, their
//! photos, and the per-address limit on sending them.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::{login_throttle as lt, public_report_photos as ph, public_reports as pr};
use super::scope::{within, Backend};
use super::AnyConnection;
use crate::domain::jurisdiction::Reach;
use crate::domain::public_report::PublicReportStatus;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = pr)]
pub struct PublicReportRow {
    pub id: i64,
    pub tracking_code: String,
    pub secret_sha256: String,
    pub status: PublicReportStatus,
    pub description: String,
    pub location: Option<String>,
    pub enterprise_name: Option<String>,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub reply: Option<String>,
    pub enterprise_id: Option<i64>,
    pub hazard_id: Option<i64>,
    pub dismiss_reason: Option<String>,
    pub outcome: Option<crate::domain::public_report::VerificationOutcome>,
    pub outcome_note: Option<String>,
    pub fine_yuan: Option<i64>,
    pub reward_yuan: Option<i64>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = pr)]
pub struct NewPublicReport<'a> {
    pub tracking_code: &'a str,
    pub secret_sha256: &'a str,
    pub status: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub enterprise_name: Option<&'a str>,
    pub city_code: &'a str,
    pub county_code: &'a str,
    pub jurisdiction_code: &'a str,
    pub contact_name: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = ph)]
pub struct PhotoRow {
    pub id: i64,
    pub report_id: i64,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, new: &NewPublicReport) -> QueryResult<PublicReportRow> {
    diesel::insert_into(pr::table).values(new).get_result(conn)
}

pub fn insert_photo(
    conn: &mut AnyConnection,
    report_id: i64,
    sha256: &str,
    content_type: &str,
    size: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(ph::table)
        .values((
            ph::report_id.eq(report_id),
            ph::sha256.eq(sha256),
            ph::content_type.eq(content_type),
            ph::size.eq(size),
            ph::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A report by its tracking code (the public lookup checks the secret itself).
pub fn by_tracking_code(
    conn: &mut AnyConnection,
    code: &str,
) -> QueryResult<Option<PublicReportRow>> {
    pr::table
        .filter(pr::tracking_code.eq(code))
        .select(PublicReportRow::as_select())
        .first(conn)
        .optional()
}

pub type ReportFilter = Box<dyn BoxableExpression<pr::table, Backend, SqlType = Bool>>;

/// The reports of a reach: those whose chosen jurisdiction is at or below it.
pub fn within_reach(reach: &Reach) -> ReportFilter {
    within!(reach, pr::city_code, pr::county_code, pr::jurisdiction_code)
}

pub fn get_within(
    conn: &mut AnyConnection,
    reach: &Reach,
    id: i64,
) -> QueryResult<Option<PublicReportRow>> {
    pr::table
        .filter(pr::id.eq(id))
        .filter(within_reach(reach))
        .select(PublicReportRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Default)]
pub struct PublicReportFilter {
    pub status: Option<PublicReportStatus>,
    /// Reports at or below this jurisdiction.
    pub jurisdiction: Option<Reach>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub fetch: i64,
}

pub fn list_within(
    c: &mut AnyConnection,
    reach: &Reach,
    f: &PublicReportFilter,
) -> QueryResult<Vec<PublicReportRow>> {
    list_within_query(reach, f).load(c)
}

/// The plan of [`list_within`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn list_plan(
    c: &mut AnyConnection,
    reach: &Reach,
    f: &PublicReportFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(c, list_within_query(reach, f))
}

fn list_within_query(
    reach: &Reach,
    f: &PublicReportFilter,
) -> pr::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<PublicReportRow, super::scope::Backend>>,
> {
    let mut q = pr::table
        .filter(within_reach(reach))
        .select(PublicReportRow::as_select())
        .order(pr::id.asc())
        .limit(f.fetch)
        .into_boxed();
    if let Some(s) = f.status {
        q = q.filter(pr::status.eq(s.as_str()));
    }
    if let Some(r) = &f.jurisdiction {
        q = q.filter(within_reach(r));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(pr::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(pr::id.gt(a));
    }
    q
}

/// The photos of these reports, in one query.
pub fn photos_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<PhotoRow>> {
    ph::table
        .filter(ph::report_id.eq_any(ids))
        .order((ph::report_id.asc(), ph::id.asc()))
        .select(PhotoRow::as_select())
        .load(conn)
}

pub fn photo(
    conn: &mut AnyConnection,
    report_id: i64,
    photo_id: i64,
) -> QueryResult<Option<PhotoRow>> {
    ph::table
        .filter(ph::id.eq(photo_id))
        .filter(ph::report_id.eq(report_id))
        .select(PhotoRow::as_select())
        .first(conn)
        .optional()
}

/// What a handling step changes.
#[derive(AsChangeset, Default)]
#[diesel(table_name = pr)]
pub struct Handling<'a> {
    pub status: Option<&'a str>,
    pub county_code: Option<&'a str>,
    pub city_code: Option<&'a str>,
    pub jurisdiction_code: Option<&'a str>,
    pub reply: Option<&'a str>,
    pub enterprise_id: Option<i64>,
    pub hazard_id: Option<i64>,
    pub dismiss_reason: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub outcome_note: Option<&'a str>,
    pub fine_yuan: Option<i64>,
    pub reward_yuan: Option<i64>,
}

/// Applies a handling step to the report at `version` (optimistic: `None` when another
/// change came first).
pub fn handle(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    by: i64,
    change: &Handling,
) -> QueryResult<Option<PublicReportRow>> {
    let now = super::now();
    diesel::update(
        pr::table
            .filter(pr::id.eq(id))
            .filter(pr::version.eq(version)),
    )
    .set((
        change,
        pr::handled_by.eq(by),
        pr::handled_at.eq(now),
        pr::updated_at.eq(now),
        pr::version.eq(version + 1),
    ))
    .get_result(conn)
    .optional()
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    failures: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    window_started_at: NaiveDateTime,
}

/// Counts one attempt from a (hashed) address in its hour, and answers the seconds until the
/// window ends when the attempt is over `max`. Each step is one statement that reads and
/// writes the count together, so attempts on several nodes at once are all counted
/// (`login_throttle`, key `report:…`).
pub fn count_attempt(
    conn: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
    max: i32,
) -> QueryResult<Option<u64>> {
    use diesel::sql_types::{Text, Timestamp};
    let window = Duration::hours(1);
    let sql = match conn {
        AnyConnection::Postgresql(_) => {
            "UPDATE login_throttle SET \
             failures = CASE WHEN window_started_at > $1 THEN failures + 1 ELSE 1 END, \
             window_started_at = CASE WHEN window_started_at > $1 THEN window_started_at ELSE $2 END \
             WHERE key = $3 RETURNING failures, window_started_at"
        }
        AnyConnection::Sqlite(_) => {
            "UPDATE login_throttle SET \
             failures = CASE WHEN window_started_at > ?1 THEN failures + 1 ELSE 1 END, \
             window_started_at = CASE WHEN window_started_at > ?1 THEN window_started_at ELSE ?2 END \
             WHERE key = ?3 RETURNING failures, window_started_at"
        }
    };
    for _ in 0..3 {
        let counted: Vec<Counted> = diesel::sql_query(sql)
            .bind::<Timestamp, _>(now - window)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(key)
            .load(conn)?;
        let (count, started) = match counted.first() {
            Some(c) => (c.failures, c.window_started_at),
            None => {
                // The first attempt in a while: in a savepoint, so a row another node
                // inserted meanwhile fails this insert alone and the update runs again.
                let inserted = conn.transaction(|c| {
                    diesel::insert_into(lt::table)
                        .values((
                            lt::key.eq(key),
                            lt::failures.eq(1),
                            lt::window_started_at.eq(now),
                        ))
                        .execute(c)
                });
                match inserted {
                    Ok(_) => (1, now),
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        if count > max {
            let ends = started + window;
            return Ok(Some((ends - now).num_seconds().max(1) as u64));
        }
        return Ok(None);
    }
    Ok(None)
}
