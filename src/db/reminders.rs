//! Deadline reminders (migration 000022, `domain::reminder`): raising them, reading them in
//! scope, acknowledging them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text, Timestamp};

use super::schema::reminders as r;
use super::scope::{reminders_visible, Backend, Scope};
use super::AnyConnection;
use crate::domain::hazard::HazardStatus;
use crate::domain::reminder::{Offsets, ReminderKind, ReminderSubject};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = r)]
pub struct ReminderRow {
    pub id: i64,
    pub kind: ReminderKind,
    pub subject_type: ReminderSubject,
    pub subject_id: i64,
    pub subject_code: String,
    pub deadline: NaiveDate,
    pub fire_on: NaiveDate,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub enterprise_id: i64,
    pub sector_code: String,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Subjects raised per statement: a scan works through a backlog (the first scan after an
/// upgrade) in transactions of this many.
pub const RAISE_BATCH: i64 = 1_000;

#[derive(QueryableByName)]
struct Raised {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Raises up to [`RAISE_BATCH`] reminders of `kind` for `subject`s due on `today`, and answers
/// the rows it inserted. A reminder that exists (raised by an earlier scan, or by another
/// process at the same moment) is left alone: the unique index `reminders_once` decides, so
/// each fires once however many processes scan.
pub fn raise(
    conn: &mut AnyConnection,
    offsets: &Offsets,
    kind: ReminderKind,
    subject: ReminderSubject,
    today: NaiveDate,
) -> QueryResult<Vec<ReminderRow>> {
    let due = offsets.due(kind, today);
    let offset = offsets.offset(kind);
    let now = super::now();
    // (table, code column, deadline column, the open condition, the indexed deadline)
    let (table, code, deadline, open, key) = match subject {
        ReminderSubject::Hazard => (
            "hazards",
            "code",
            "rectification_deadline",
            format!(
                "s.status IN ({})",
                HazardStatus::ALL
                    .iter()
                    .filter(|st| st.counts_overdue())
                    .map(|st| format!("'{}'", st.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "deadline_key",
        ),
        ReminderSubject::Listing => (
            "listings",
            "notice_no",
            "deadline",
            "s.status = 'listed'".to_string(),
            "deadline",
        ),
    };
    // Placeholders and date arithmetic are each database's own.
    let (p, fire_on): (fn(usize) -> String, String) = match conn {
        AnyConnection::Postgresql(_) => (|i| format!("${i}"), format!("s.{deadline} + $5")),
        AnyConnection::Sqlite(_) => (
            |i| format!("?{i}"),
            format!("date(s.{deadline}, ?5 || ' days')"),
        ),
    };
    let from = match due.from {
        Some(_) => format!("AND s.{key} >= {}", p(4)),
        None => format!("AND {} IS NULL", p(4)),
    };
    let sql = format!(
        "INSERT INTO reminders (kind, subject_type, subject_id, subject_code, deadline, fire_on, \
         city_code, county_code, jurisdiction_code, enterprise_id, sector_code, created_at, \
         updated_at) \
         SELECT {kind}, '{subject}', s.id, s.{code}, s.{deadline}, {fire_on}, s.city_code, \
         s.county_code, s.jurisdiction_code, s.enterprise_id, s.sector_code, {now}, {now} \
         FROM {table} s \
         WHERE {open} AND s.{key} <= {to} {from} \
         AND NOT EXISTS (SELECT 1 FROM reminders x WHERE x.subject_type = '{subject}' \
         AND x.subject_id = s.id AND x.kind = {kind} AND x.deadline = s.{deadline}) \
         ORDER BY s.id LIMIT {RAISE_BATCH} \
         ON CONFLICT (subject_type, subject_id, kind, deadline) DO NOTHING \
         RETURNING id",
        kind = p(1),
        subject = subject.as_str(),
        now = p(2),
        to = p(3),
    );
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(kind.as_str())
        .bind::<Timestamp, _>(now)
        .bind::<Date, _>(due.to)
        .bind::<diesel::sql_types::Nullable<Date>, _>(due.from);
    let ids: Vec<Raised> = match conn {
        AnyConnection::Postgresql(c) => query
            .bind::<Integer, _>(i32::try_from(offset).unwrap_or(0))
            .load(c)?,
        AnyConnection::Sqlite(c) => query.bind::<Text, _>(offset.to_string()).load(c)?,
    };
    let ids: Vec<i64> = ids.into_iter().map(|x| x.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    r::table
        .filter(r::id.eq_any(ids))
        .order(r::id.asc())
        .select(ReminderRow::as_select())
        .load(conn)
}

/// What a reader may filter reminders by.
#[derive(Debug, Clone)]
pub struct ReminderFilter {
    /// Only these kinds (`None`: every kind); an enterprise account reads `due_soon` only.
    pub kinds: Option<Vec<ReminderKind>>,
    pub subject_type: Option<ReminderSubject>,
    /// `Some(false)`: open; `Some(true)`: acknowledged.
    pub acknowledged: Option<bool>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub fetch: i64,
}

type ReminderQuery = r::BoxedQuery<
    'static,
    Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ReminderRow, Backend>>,
>;

fn list_query(scope: &Scope, f: &ReminderFilter) -> ReminderQuery {
    let mut q = r::table
        .filter(reminders_visible(scope))
        .select(ReminderRow::as_select())
        .into_boxed();
    if let Some(kinds) = &f.kinds {
        q = q.filter(r::kind.eq_any(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()));
    }
    if let Some(s) = f.subject_type {
        q = q.filter(r::subject_type.eq(s.as_str()));
    }
    match f.acknowledged {
        Some(true) => q = q.filter(r::acknowledged_at.is_not_null()),
        Some(false) => q = q.filter(r::acknowledged_at.is_null()),
        None => {}
    }
    if let Some(t) = f.updated_since {
        q = q.filter(r::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(r::id.gt(a));
    }
    q.order(r::id.asc()).limit(f.fetch)
}

pub fn list_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &ReminderFilter,
) -> QueryResult<Vec<ReminderRow>> {
    list_query(scope, f).load(conn)
}

/// The plan of the list query (`db::plan`).
pub fn list_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &ReminderFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, list_query(scope, f))
}

pub fn get_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<ReminderRow>> {
    r::table
        .filter(r::id.eq(id))
        .filter(reminders_visible(scope))
        .select(ReminderRow::as_select())
        .first(conn)
        .optional()
}

/// Records the acknowledgement unless one is recorded; answers the row as it then is.
pub fn acknowledge(conn: &mut AnyConnection, id: i64, account_id: i64) -> QueryResult<ReminderRow> {
    let now = super::now();
    diesel::update(
        r::table
            .filter(r::id.eq(id))
            .filter(r::acknowledged_at.is_null()),
    )
    .set((
        r::acknowledged_by.eq(account_id),
        r::acknowledged_at.eq(now),
        r::updated_at.eq(now),
    ))
    .execute(conn)?;
    r::table
        .filter(r::id.eq(id))
        .select(ReminderRow::as_select())
        .first(conn)
}
