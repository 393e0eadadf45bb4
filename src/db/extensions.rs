//! Deadline extension requests, for any subject with a locked deadline (hazards, listings).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::extension::{ExtensionStatus, ExtensionSubject};

use super::schema::deadline_extensions as de;
use super::AnyConnection;

/// What an extension moves the deadline of.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    pub kind: ExtensionSubject,
    pub id: i64,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = de)]
pub struct ExtensionRow {
    pub id: i64,
    pub subject_type: ExtensionSubject,
    pub subject_id: i64,
    pub old_deadline: Option<NaiveDate>,
    pub new_deadline: NaiveDate,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: i64,
    pub requested_at: NaiveDateTime,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_note: Option<String>,
}

pub fn insert(
    conn: &mut AnyConnection,
    s: Subject,
    old_deadline: Option<NaiveDate>,
    new_deadline: NaiveDate,
    reason: &str,
    requested_by: i64,
) -> QueryResult<ExtensionRow> {
    diesel::insert_into(de::table)
        .values((
            de::subject_type.eq(s.kind.as_str()),
            de::subject_id.eq(s.id),
            de::old_deadline.eq(old_deadline),
            de::new_deadline.eq(new_deadline),
            de::reason.eq(reason),
            de::status.eq(ExtensionStatus::Pending.as_str()),
            de::requested_by.eq(requested_by),
            de::requested_at.eq(super::now()),
        ))
        .get_result(conn)
}

pub fn pending_exists(conn: &mut AnyConnection, s: Subject) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        de::table
            .filter(de::subject_type.eq(s.kind.as_str()))
            .filter(de::subject_id.eq(s.id))
            .filter(de::status.eq(ExtensionStatus::Pending.as_str())),
    ))
    .get_result(conn)
}

pub fn list(
    conn: &mut AnyConnection,
    s: Subject,
    after_id: Option<i64>,
    since: Option<NaiveDateTime>,
    fetch: i64,
) -> QueryResult<Vec<ExtensionRow>> {
    let mut q = de::table
        .filter(de::subject_type.eq(s.kind.as_str()))
        .filter(de::subject_id.eq(s.id))
        .select(ExtensionRow::as_select())
        .into_boxed();
    if let Some(t) = since {
        q = q.filter(de::requested_at.ge(t).or(de::decided_at.ge(t)));
    }
    if let Some(a) = after_id {
        q = q.filter(de::id.gt(a));
    }
    q.order(de::id.asc()).limit(fetch).load(conn)
}

pub fn get(conn: &mut AnyConnection, s: Subject, id: i64) -> QueryResult<Option<ExtensionRow>> {
    de::table
        .filter(de::subject_type.eq(s.kind.as_str()))
        .filter(de::subject_id.eq(s.id))
        .filter(de::id.eq(id))
        .select(ExtensionRow::as_select())
        .first(conn)
        .optional()
}

/// Records a decision on a pending request; `None` if it was decided meanwhile.
pub fn decide(
    conn: &mut AnyConnection,
    id: i64,
    approved: bool,
    decided_by: i64,
    note: &str,
) -> QueryResult<Option<ExtensionRow>> {
    diesel::update(
        de::table
            .filter(de::id.eq(id))
            .filter(de::status.eq(ExtensionStatus::Pending.as_str())),
    )
    .set((
        de::status.eq(if approved {
            ExtensionStatus::Approved
        } else {
            ExtensionStatus::Denied
        }
        .as_str()),
        de::decided_by.eq(decided_by),
        de::decided_at.eq(super::now()),
        de::decision_note.eq(note),
    ))
    .get_result(conn)
    .optional()
}
