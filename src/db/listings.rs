use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::listings as l;
use super::scope::{listings_visible, within, Scope};
use super::AnyConnection;
use crate::domain::jurisdiction::Reach;
use crate::domain::listing::{ListingLevel, ListingStatus};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = l)]
pub struct ListingRow {
    pub id: i64,
    pub hazard_id: i64,
    pub level: ListingLevel,
    pub authority_code: String,
    pub notice_no: String,
    pub requirements: String,
    pub responsible_unit: String,
    pub deadline: NaiveDate,
    pub status: ListingStatus,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub listed_by: i64,
    pub listed_at: NaiveDateTime,
    pub delisted_by: Option<i64>,
    pub delisted_at: Option<NaiveDateTime>,
    pub delisting_note: Option<String>,
    pub cancelled_by: Option<i64>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub city_code: String,
    pub county_code: String,
}

#[derive(Insertable)]
#[diesel(table_name = l)]
pub struct NewListing<'a> {
    pub hazard_id: i64,
    pub level: &'static str,
    pub authority_code: &'a str,
    pub notice_no: &'a str,
    pub requirements: &'a str,
    pub responsible_unit: &'a str,
    pub deadline: NaiveDate,
    pub status: &'static str,
    pub enterprise_id: i64,
    pub jurisdiction_code: &'a str,
    pub city_code: &'a str,
    pub county_code: &'a str,
    pub sector_code: &'a str,
    pub listed_by: i64,
    pub listed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub fn insert(conn: &mut AnyConnection, n: &NewListing<'_>) -> QueryResult<ListingRow> {
    diesel::insert_into(l::table).values(n).get_result(conn)
}

pub fn get_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<ListingRow>> {
    l::table
        .filter(l::id.eq(id))
        .filter(listings_visible(scope))
        .select(ListingRow::as_select())
        .first(conn)
        .optional()
}

/// A listing by id, whoever asks: for work that already checked the caller's scope.
pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<ListingRow> {
    l::table
        .filter(l::id.eq(id))
        .select(ListingRow::as_select())
        .first(conn)
}

pub fn active_for_hazard(conn: &mut AnyConnection, hazard_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        l::table
            .filter(l::hazard_id.eq(hazard_id))
            .filter(l::status.eq(ListingStatus::Listed.as_str())),
    ))
    .get_result(conn)
}

/// What ending a listing writes.
#[derive(AsChangeset, Default)]
#[diesel(table_name = l)]
pub struct Ending {
    pub status: Option<String>,
    pub delisted_by: Option<Option<i64>>,
    pub delisted_at: Option<Option<NaiveDateTime>>,
    pub delisting_note: Option<Option<String>>,
    pub cancelled_by: Option<Option<i64>>,
    pub cancelled_at: Option<Option<NaiveDateTime>>,
    pub cancel_reason: Option<Option<String>>,
}

/// Ends a listing if it is still listed (a concurrent end makes this `None`).
pub fn end(conn: &mut AnyConnection, id: i64, e: &Ending) -> QueryResult<Option<ListingRow>> {
    diesel::update(
        l::table
            .filter(l::id.eq(id))
            .filter(l::status.eq(ListingStatus::Listed.as_str())),
    )
    .set((
        e,
        l::updated_at.eq(super::now()),
        l::version.eq(l::version + 1),
    ))
    .get_result(conn)
    .optional()
}

pub fn move_deadline(conn: &mut AnyConnection, id: i64, deadline: NaiveDate) -> QueryResult<usize> {
    diesel::update(l::table.filter(l::id.eq(id)))
        .set((
            l::deadline.eq(deadline),
            l::updated_at.eq(super::now()),
            l::version.eq(l::version + 1),
        ))
        .execute(conn)
}

#[derive(Debug, Default)]
pub struct ListingFilter {
    pub level: Option<String>,
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub today: Option<NaiveDate>,
    /// At or below this jurisdiction (the `jurisdiction_code` filter).
    pub jurisdiction: Option<Reach>,
    pub enterprise_id: Option<i64>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

pub fn list_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &ListingFilter,
) -> QueryResult<Vec<ListingRow>> {
    list_query(scope, f).load(conn)
}

/// The plan of the list query (`db::plan`).
pub fn list_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &ListingFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, list_query(scope, f))
}

type ListQuery = l::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ListingRow, super::scope::Backend>>,
>;

fn list_query(scope: &Scope, f: &ListingFilter) -> ListQuery {
    let mut q = l::table
        .filter(listings_visible(scope))
        .select(ListingRow::as_select())
        .into_boxed();
    if let Some(v) = &f.level {
        q = q.filter(l::level.eq(v.clone()));
    }
    if let Some(v) = &f.status {
        q = q.filter(l::status.eq(v.clone()));
    }
    if let (Some(o), Some(today)) = (f.overdue, f.today) {
        q = if o {
            q.filter(l::status.eq(ListingStatus::Listed.as_str()))
                .filter(l::deadline.lt(today))
        } else {
            q.filter(
                l::status
                    .ne(ListingStatus::Listed.as_str())
                    .or(l::deadline.ge(today)),
            )
        };
    }
    if let Some(reach) = &f.jurisdiction {
        q = q.filter(within!(
            reach,
            l::city_code,
            l::county_code,
            l::jurisdiction_code
        ));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(l::enterprise_id.eq(e));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(l::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(l::id.gt(a));
    }
    q.order(l::id.asc()).limit(f.fetch)
}
