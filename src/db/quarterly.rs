//! Quarterly hazard statistics reports (migration 000023, `domain::quarterly`): the figures
//! computed from an enterprise's hazards, the frozen reports, and who has reported.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double};

use super::hazards::overdue_statuses_sql;
use super::schema::{enterprises as e, hazards as h, quarterly_reports as q};
use super::scope::{enterprises_visible, Backend, Scope};
use super::AnyConnection;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::quarterly::{Quarter, QuarterFigures, ReportState};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = q)]
pub struct ReportRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub year: i32,
    pub quarter: i32,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub signed_by: String,
    pub found: i64,
    pub found_major: i64,
    pub rectified: i64,
    pub rectified_major: i64,
    pub overdue: i64,
    pub funds_10k_yuan: f64,
    pub earlier_open: i64,
    pub due_on: NaiveDate,
    pub late: bool,
    pub content: String,
    pub content_sha256: String,
    pub submitted_by: i64,
    pub submitted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl ReportRow {
    /// The figures as frozen.
    pub fn figures(&self) -> QuarterFigures {
        QuarterFigures {
            found: self.found,
            found_major: self.found_major,
            rectified: self.rectified,
            rectified_major: self.rectified_major,
            overdue: self.overdue,
            funds_10k_yuan: self.funds_10k_yuan,
            earlier_open: self.earlier_open,
            ..Default::default()
        }
        .derive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = q)]
pub struct NewReport<'a> {
    pub enterprise_id: i64,
    pub year: i32,
    pub quarter: i32,
    pub city_code: &'a str,
    pub county_code: &'a str,
    pub jurisdiction_code: &'a str,
    pub sector_code: &'a str,
    pub signed_by: &'a str,
    pub found: i64,
    pub found_major: i64,
    pub rectified: i64,
    pub rectified_major: i64,
    pub overdue: i64,
    pub funds_10k_yuan: f64,
    pub earlier_open: i64,
    pub due_on: NaiveDate,
    pub late: bool,
    pub content: &'a str,
    pub content_sha256: &'a str,
    pub submitted_by: i64,
    pub submitted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `CAST(SUM(CASE WHEN <condition> THEN 1 ELSE 0 END) AS BIGINT)`.
fn count_where(condition: &str) -> String {
    format!("CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)")
}

/// The quarter's figures for one enterprise, with overdue as of `today`: one aggregate over
/// its hazards (the `(enterprise_id, …)` indexes), never a row loaded.
pub fn figures(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    quarter: Quarter,
    today: NaiveDate,
) -> QueryResult<QuarterFigures> {
    // The bounds are dates the server made, written as literals so the one statement reads
    // the same on both databases.
    let (from, to) = (quarter.first_day(), quarter.last_day());
    let inside = format!("hazards.discovered_on >= '{from}' AND hazards.discovered_on <= '{to}'");
    let major = "hazards.level = 'major'";
    let closed = "hazards.status = 'closed'";
    let overdue = format!(
        "hazards.status IN ({}) AND hazards.deadline_key < '{today}'",
        overdue_statuses_sql()
    );
    let row: (i64, i64, i64, i64, i64, f64, i64) = h::table
        .filter(h::enterprise_id.eq(enterprise_id))
        .filter(h::status.ne("void"))
        .select((
            sql::<BigInt>(&count_where(&inside)),
            sql::<BigInt>(&count_where(&format!("{inside} AND {major}"))),
            sql::<BigInt>(&count_where(&format!("{inside} AND {closed}"))),
            sql::<BigInt>(&count_where(&format!("{inside} AND {major} AND {closed}"))),
            sql::<BigInt>(&count_where(&format!("{inside} AND {overdue}"))),
            sql::<Double>(&format!(
                "CAST(COALESCE(SUM(CASE WHEN {inside} THEN COALESCE(hazards.funds_10k_yuan, 0) \
                 ELSE 0 END), 0) AS DOUBLE PRECISION)"
            )),
            sql::<BigInt>(&count_where(&format!(
                "hazards.discovered_on < '{from}' AND NOT ({closed})"
            ))),
        ))
        .first(conn)?;
    Ok(QuarterFigures {
        found: row.0,
        found_major: row.1,
        rectified: row.2,
        rectified_major: row.3,
        overdue: row.4,
        funds_10k_yuan: row.5,
        earlier_open: row.6,
        ..Default::default()
    }
    .derive())
}

pub fn insert(conn: &mut AnyConnection, new: &NewReport) -> QueryResult<ReportRow> {
    diesel::insert_into(q::table).values(new).get_result(conn)
}

pub type ReportFilter = Box<dyn BoxableExpression<q::table, Backend, SqlType = Bool>>;

/// Reports are seen where their enterprise is: they carry its units, id and sector.
pub fn reports_visible(scope: &Scope) -> ReportFilter {
    use super::scope::{in_subtree, visible_rows, within};
    visible_rows!(
        scope,
        q::enterprise_id,
        q::city_code,
        q::county_code,
        q::jurisdiction_code,
        q::sector_code
    )
}

/// What a reader may filter reports by.
#[derive(Debug, Clone, Default)]
pub struct ReportListFilter {
    pub enterprise_id: Option<i64>,
    pub year: Option<i32>,
    pub quarter: Option<i32>,
    pub county_code: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub fetch: i64,
}

pub fn list_visible(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &ReportListFilter,
) -> QueryResult<Vec<ReportRow>> {
    list_visible_query(scope, f).load(c)
}

/// The plan of [`list_visible`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn list_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &ReportListFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(c, list_visible_query(scope, f))
}

fn list_visible_query(
    scope: &Scope,
    f: &ReportListFilter,
) -> q::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ReportRow, super::scope::Backend>>,
> {
    let mut q = q::table
        .filter(reports_visible(scope))
        .select(ReportRow::as_select())
        .order(q::id.asc())
        .limit(f.fetch)
        .into_boxed();
    if let Some(id) = f.enterprise_id {
        q = q.filter(q::enterprise_id.eq(id));
    }
    if let Some(y) = f.year {
        q = q.filter(q::year.eq(y));
    }
    if let Some(n) = f.quarter {
        q = q.filter(q::quarter.eq(n));
    }
    if let Some(c) = &f.county_code {
        q = q.filter(q::county_code.eq(c.clone()));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(q::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(q::id.gt(a));
    }
    q
}

pub fn get_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<ReportRow>> {
    q::table
        .filter(q::id.eq(id))
        .filter(reports_visible(scope))
        .select(ReportRow::as_select())
        .first(conn)
        .optional()
}

/// One county-level unit's standing for a quarter.
#[derive(Debug, Clone, Default)]
pub struct CountyStanding {
    pub county_code: String,
    /// Operating enterprises in scope.
    pub enterprises: i64,
    pub on_time: i64,
    pub late: i64,
}

/// `enterprises.id IN (the quarter's reports, on time or late)`.
fn reported(
    quarter: Quarter,
    late: Option<bool>,
) -> Box<dyn BoxableExpression<e::table, Backend, SqlType = Bool>> {
    let of_quarter = q::year
        .eq(quarter.year)
        .and(q::quarter.eq(quarter.quarter as i32));
    match late {
        None => Box::new(e::id.eq_any(q::table.select(q::enterprise_id).filter(of_quarter))),
        Some(l) => Box::new(
            e::id.eq_any(
                q::table
                    .select(q::enterprise_id)
                    .filter(of_quarter.and(q::late.eq(l))),
            ),
        ),
    }
}

/// Operating enterprises in scope, per county-level unit, and how many reported on time and
/// late: three grouped counts over the enterprises' scope indexes.
pub fn standing(
    conn: &mut AnyConnection,
    scope: &Scope,
    quarter: Quarter,
) -> QueryResult<Vec<CountyStanding>> {
    let count = |conn: &mut AnyConnection,
                 extra: Option<Box<dyn BoxableExpression<e::table, Backend, SqlType = Bool>>>|
     -> QueryResult<Vec<(String, i64)>> {
        let mut query = e::table
            .filter(enterprises_visible(scope))
            .filter(e::status.eq(EnterpriseStatus::Operating.as_str()))
            .group_by(e::county_code)
            .select((e::county_code, count_star()))
            .into_boxed();
        if let Some(x) = extra {
            query = query.filter(x);
        }
        query.load(conn)
    };
    let all = count(conn, None)?;
    let on_time: std::collections::HashMap<String, i64> =
        count(conn, Some(reported(quarter, Some(false))))?
            .into_iter()
            .collect();
    let late: std::collections::HashMap<String, i64> =
        count(conn, Some(reported(quarter, Some(true))))?
            .into_iter()
            .collect();
    let mut rows: Vec<CountyStanding> = all
        .into_iter()
        .map(|(county_code, enterprises)| CountyStanding {
            on_time: on_time.get(&county_code).copied().unwrap_or(0),
            late: late.get(&county_code).copied().unwrap_or(0),
            county_code,
            enterprises,
        })
        .collect();
    rows.sort_by(|a, b| a.county_code.cmp(&b.county_code));
    Ok(rows)
}

/// One enterprise's line in the compliance list.
#[derive(Debug, Clone)]
pub struct Standing {
    pub enterprise_id: i64,
    pub name: String,
    pub uscc: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub report: Option<(i64, NaiveDateTime, bool)>,
}

/// A page of the operating enterprises in scope (by id) with their report for the quarter, if
/// any; `state` keeps only those in that state (on `today`, with the quarter's `due_on`).
#[allow(clippy::too_many_arguments)]
pub fn standings(
    conn: &mut AnyConnection,
    scope: &Scope,
    quarter: Quarter,
    county_code: Option<&str>,
    state: Option<ReportState>,
    due_on: NaiveDate,
    today: NaiveDate,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<Standing>> {
    let mut query = e::table
        .filter(enterprises_visible(scope))
        .filter(e::status.eq(EnterpriseStatus::Operating.as_str()))
        .select((
            e::id,
            e::name,
            e::uscc,
            e::county_code,
            e::jurisdiction_code,
        ))
        .order(e::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(c) = county_code {
        query = query.filter(e::county_code.eq(c.to_string()));
    }
    if let Some(a) = after_id {
        query = query.filter(e::id.gt(a));
    }
    match state {
        None => {}
        Some(ReportState::OnTime) => query = query.filter(reported(quarter, Some(false))),
        Some(ReportState::Late) => query = query.filter(reported(quarter, Some(true))),
        Some(s) => {
            if ReportState::unreported(due_on, today) != s {
                // Before the due date nobody is missing; after it nobody is pending.
                query = query.filter(sql::<Bool>("1 = 0"));
            }
            query = query.filter(diesel::dsl::not(reported(quarter, None)));
        }
    }
    let rows: Vec<(i64, String, String, String, String)> = query.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let reports: std::collections::HashMap<i64, (i64, NaiveDateTime, bool)> = q::table
        .filter(q::enterprise_id.eq_any(&ids))
        .filter(q::year.eq(quarter.year))
        .filter(q::quarter.eq(quarter.quarter as i32))
        .select((q::enterprise_id, q::id, q::submitted_at, q::late))
        .load::<(i64, i64, NaiveDateTime, bool)>(conn)?
        .into_iter()
        .map(|(e, id, at, late)| (e, (id, at, late)))
        .collect();
    Ok(rows
        .into_iter()
        .map(
            |(id, name, uscc, county_code, jurisdiction_code)| Standing {
                report: reports.get(&id).copied(),
                enterprise_id: id,
                name,
                uscc,
                county_code,
                jurisdiction_code,
            },
        )
        .collect())
}
