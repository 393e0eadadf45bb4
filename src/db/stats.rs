//! Statistics, computed in the database (GROUP BY over the caller's scope), never by loading
//! rows. The rows counted are chosen with the same scope builder as every list
//! (`db::scope`), and "overdue" is the domain's definition (`HazardStatus::counts_overdue`).

use chrono::NaiveDate;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::hazards::overdue_statuses_sql;
use super::schema::{hazards as h, listings as l};
use super::scope::{hazards_visible, listings_visible, Scope};
use super::AnyConnection;
use crate::domain::extension::{ExtensionStatus, ExtensionSubject};
use crate::domain::hazard::{HazardLevel, HazardStatus};
use crate::domain::listing::ListingStatus;

#[derive(Queryable, Debug, Clone, Default)]
pub struct HazardGroup {
    pub key: String,
    pub found: i64,
    pub closed: i64,
    pub overdue: i64,
    pub major_found: i64,
    pub major_listed: i64,
    pub major_delisted: i64,
    pub extensions_granted: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HazardGrouping {
    Jurisdiction,
    Sector,
    Level,
    Source,
    Month,
}

/// `CAST(SUM(CASE WHEN <condition> THEN 1 ELSE 0 END) AS BIGINT)`: a count of the rows of the
/// group that meet a condition, the same on both backends.
fn count_where(condition: &str) -> String {
    format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT)")
}

fn is_pg(conn: &AnyConnection) -> bool {
    matches!(conn, AnyConnection::Postgresql(_))
}

pub fn hazards(
    conn: &mut AnyConnection,
    scope: &Scope,
    grouping: HazardGrouping,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<HazardGroup>> {
    let key = match grouping {
        HazardGrouping::Jurisdiction => "hazards.county_code",
        HazardGrouping::Sector => "hazards.sector_code",
        HazardGrouping::Level => "hazards.level",
        HazardGrouping::Source => "hazards.source",
        HazardGrouping::Month if is_pg(conn) => "to_char(hazards.discovered_on, 'YYYY-MM')",
        HazardGrouping::Month => "strftime('%Y-%m', hazards.discovered_on)",
    };
    let listed = |extra: &str| {
        format!("EXISTS (SELECT 1 FROM listings WHERE listings.hazard_id = hazards.id{extra})")
    };
    let delisted = format!(" AND listings.status = '{}'", ListingStatus::Delisted);
    let overdue = sql::<BigInt>(&format!(
        "CAST(SUM(CASE WHEN hazards.status IN ({}) AND hazards.deadline_key < ",
        overdue_statuses_sql()
    ))
    .bind::<Date, _>(today)
    .sql(" THEN 1 ELSE 0 END) AS BIGINT)");
    let granted = format!(
        "CAST(SUM((SELECT COUNT(*) FROM deadline_extensions x \
         WHERE x.subject_type = '{}' AND x.status = '{}' AND x.subject_id = hazards.id)) AS BIGINT)",
        ExtensionSubject::Hazard,
        ExtensionStatus::Approved
    );
    h::table
        .filter(hazards_visible(scope))
        .filter(h::status.ne(HazardStatus::Void.as_str()))
        .filter(h::discovered_on.ge(from))
        .filter(h::discovered_on.le(to))
        .group_by(sql::<Text>(key))
        .select((
            sql::<Text>(key),
            count_star(),
            sql::<BigInt>(&count_where(&format!(
                "hazards.status = '{}'",
                HazardStatus::Closed
            ))),
            overdue,
            sql::<BigInt>(&count_where(&format!(
                "hazards.level = '{}'",
                HazardLevel::Major
            ))),
            sql::<BigInt>(&count_where(&listed(""))),
            sql::<BigInt>(&count_where(&listed(&delisted))),
            sql::<BigInt>(&granted),
        ))
        .order(sql::<Text>(key))
        .load(conn)
}

#[derive(Queryable, Debug, Clone, Default)]
pub struct ListingGroup {
    pub key: String,
    pub total: i64,
    pub listed: i64,
    pub delisted: i64,
    pub cancelled: i64,
    pub overdue: i64,
}

/// Listings grouped by `level` or by the hazard's county-level unit, listed in [from, to]
/// (Asia/Shanghai dates).
pub fn listings(
    conn: &mut AnyConnection,
    scope: &Scope,
    by_level: bool,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<ListingGroup>> {
    let key = if by_level {
        "listings.level"
    } else {
        "(SELECT hazards.county_code FROM hazards WHERE hazards.id = listings.hazard_id)"
    };
    let status_is =
        |s: ListingStatus| sql::<BigInt>(&count_where(&format!("listings.status = '{s}'")));
    let overdue = sql::<BigInt>(&format!(
        "CAST(SUM(CASE WHEN listings.status = '{}' AND listings.deadline < ",
        ListingStatus::Listed
    ))
    .bind::<Date, _>(today)
    .sql(" THEN 1 ELSE 0 END) AS BIGINT)");
    let (start, end) = crate::clock::shanghai_days_utc(from, to);
    l::table
        .filter(listings_visible(scope))
        .filter(l::listed_at.ge(start))
        .filter(l::listed_at.lt(end))
        .group_by(sql::<Text>(key))
        .select((
            sql::<Text>(key),
            count_star(),
            status_is(ListingStatus::Listed),
            status_is(ListingStatus::Delisted),
            status_is(ListingStatus::Cancelled),
            overdue,
        ))
        .order(sql::<Text>(key))
        .load(conn)
}
