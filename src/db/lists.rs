//! The two lists (问题隐患清单, 制度措施清单), their links, and period submissions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::lists::{MeasureKind, MeasureStatus, ProblemStatus, SubmissionStatus};

use super::schema::{
    hazards, list_submissions as ls, measure_item_problems as mip, measure_items as mi,
    problem_item_hazards as pih, problem_items as pi,
};
use super::scope::{under_path, units_of, within, Scope};
use super::AnyConnection;
use crate::domain::jurisdiction::Reach;

/// Rows of a list table owned at or below `reach`, through the owner's city and county-level
/// columns (migration 000013), which its `(scope column, id)` indexes serve.
macro_rules! owned_within {
    ($t:ident, $reach:expr) => {
        within!(
            $reach,
            $t::owner_city_code,
            $t::owner_county_code,
            $t::owner_jurisdiction_code
        )
    };
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = pi)]
pub struct ProblemRow {
    pub id: i64,
    pub owner_jurisdiction_code: String,
    pub owner_city_code: String,
    pub owner_county_code: String,
    pub department_id: Option<i64>,
    pub sector_code: Option<String>,
    pub title: String,
    pub description: String,
    pub responsible_unit: String,
    pub deadline: NaiveDate,
    pub status: ProblemStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = pi, treat_none_as_null = true)]
pub struct ProblemValues<'a> {
    pub owner_jurisdiction_code: &'a str,
    pub department_id: Option<i64>,
    pub sector_code: Option<&'a str>,
    pub title: &'a str,
    pub description: &'a str,
    pub responsible_unit: &'a str,
    pub deadline: NaiveDate,
    pub status: &'static str,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = mi)]
pub struct MeasureRow {
    pub id: i64,
    pub owner_jurisdiction_code: String,
    pub owner_city_code: String,
    pub owner_county_code: String,
    pub department_id: Option<i64>,
    pub title: String,
    pub kind: MeasureKind,
    pub doc_no: Option<String>,
    pub lead_unit: String,
    pub target_date: NaiveDate,
    pub status: MeasureStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = mi, treat_none_as_null = true)]
pub struct MeasureValues<'a> {
    pub owner_jurisdiction_code: &'a str,
    pub department_id: Option<i64>,
    pub title: &'a str,
    pub kind: &'static str,
    pub doc_no: Option<&'a str>,
    pub lead_unit: &'a str,
    pub target_date: NaiveDate,
    pub status: &'static str,
}

#[derive(Debug, Default)]
pub struct ItemFilter {
    pub owner: Option<String>,
    pub department_id: Option<i64>,
    pub sector_code: Option<String>,
    pub status: Option<String>,
    pub due_before: Option<NaiveDate>,
    pub due_after: Option<NaiveDate>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

pub fn problem_visible(
    conn: &mut AnyConnection,
    reach: &Reach,
    id: i64,
) -> QueryResult<Option<ProblemRow>> {
    pi::table
        .filter(pi::id.eq(id))
        .filter(owned_within!(pi, reach))
        .select(ProblemRow::as_select())
        .first(conn)
        .optional()
}

pub fn measure_visible(
    conn: &mut AnyConnection,
    reach: &Reach,
    id: i64,
) -> QueryResult<Option<MeasureRow>> {
    mi::table
        .filter(mi::id.eq(id))
        .filter(owned_within!(mi, reach))
        .select(MeasureRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_problems(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &ItemFilter,
) -> QueryResult<Vec<ProblemRow>> {
    problems_query(reach, f).load(conn)
}

/// The plan of [`list_problems`]'s query (`db::plan`).
pub fn list_problems_plan(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &ItemFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, problems_query(reach, f))
}

fn problems_query(
    reach: &Reach,
    f: &ItemFilter,
) -> pi::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ProblemRow, super::scope::Backend>>,
> {
    let mut q = pi::table
        .filter(owned_within!(pi, reach))
        .select(ProblemRow::as_select())
        .into_boxed();
    if let Some(o) = &f.owner {
        q = q.filter(pi::owner_jurisdiction_code.eq(o.clone()));
    }
    if let Some(d) = f.department_id {
        q = q.filter(pi::department_id.eq(d));
    }
    if let Some(s) = &f.sector_code {
        q = q.filter(pi::sector_code.eq(s.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(pi::status.eq(s.clone()));
    }
    if let Some(d) = f.due_before {
        q = q.filter(pi::deadline.lt(d));
    }
    if let Some(d) = f.due_after {
        q = q.filter(pi::deadline.gt(d));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(pi::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(pi::id.gt(a));
    }
    q.order(pi::id.asc()).limit(f.fetch)
}

pub fn list_measures(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &ItemFilter,
) -> QueryResult<Vec<MeasureRow>> {
    measures_query(reach, f).load(conn)
}

/// The plan of [`list_measures`]'s query (`db::plan`).
pub fn list_measures_plan(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &ItemFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, measures_query(reach, f))
}

fn measures_query(
    reach: &Reach,
    f: &ItemFilter,
) -> mi::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<MeasureRow, super::scope::Backend>>,
> {
    let mut q = mi::table
        .filter(owned_within!(mi, reach))
        .select(MeasureRow::as_select())
        .into_boxed();
    if let Some(o) = &f.owner {
        q = q.filter(mi::owner_jurisdiction_code.eq(o.clone()));
    }
    if let Some(d) = f.department_id {
        q = q.filter(mi::department_id.eq(d));
    }
    if let Some(s) = &f.status {
        q = q.filter(mi::status.eq(s.clone()));
    }
    if let Some(d) = f.due_before {
        q = q.filter(mi::target_date.lt(d));
    }
    if let Some(d) = f.due_after {
        q = q.filter(mi::target_date.gt(d));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(mi::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(mi::id.gt(a));
    }
    q.order(mi::id.asc()).limit(f.fetch)
}

/// The linked hazard ids of several problem items, in one query.
pub fn hazard_links(conn: &mut AnyConnection, problem_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    pih::table
        .filter(pih::problem_item_id.eq_any(problem_ids))
        .select((pih::problem_item_id, pih::hazard_id))
        .order((pih::problem_item_id, pih::hazard_id))
        .load(conn)
}

/// The linked problem ids of several measure items, in one query.
pub fn problem_links(
    conn: &mut AnyConnection,
    measure_ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    mip::table
        .filter(mip::measure_item_id.eq_any(measure_ids))
        .select((mip::measure_item_id, mip::problem_item_id))
        .order((mip::measure_item_id, mip::problem_item_id))
        .load(conn)
}

/// Of `ids`, the hazards inside the owner's jurisdiction subtree that the caller can see.
pub fn hazards_under(
    conn: &mut AnyConnection,
    scope: &Scope,
    owner_path: &str,
    ids: &[i64],
) -> QueryResult<Vec<i64>> {
    hazards::table
        .filter(super::scope::hazards_visible(scope))
        .filter(hazards::id.eq_any(ids))
        .filter(under_path!(hazards::jurisdiction_code, owner_path))
        .select(hazards::id)
        .load(conn)
}

/// Of `ids`, the problem items owned inside the owner's jurisdiction subtree.
pub fn problems_under(
    conn: &mut AnyConnection,
    owner_path: &str,
    ids: &[i64],
) -> QueryResult<Vec<i64>> {
    pi::table
        .filter(pi::id.eq_any(ids))
        .filter(under_path!(pi::owner_jurisdiction_code, owner_path))
        .select(pi::id)
        .load(conn)
}

pub fn insert_problem(
    conn: &mut AnyConnection,
    v: &ProblemValues<'_>,
    links: &[i64],
) -> QueryResult<ProblemRow> {
    let now = super::now();
    let owner = units_of(conn, v.owner_jurisdiction_code)?;
    let row: ProblemRow = diesel::insert_into(pi::table)
        .values((
            v,
            pi::owner_city_code.eq(owner.city),
            pi::owner_county_code.eq(owner.county),
            pi::created_at.eq(now),
            pi::updated_at.eq(now),
            pi::version.eq(1i64),
        ))
        .get_result(conn)?;
    set_hazard_links(conn, row.id, links)?;
    Ok(row)
}

pub fn update_problem(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    v: &ProblemValues<'_>,
    links: &[i64],
) -> QueryResult<Option<ProblemRow>> {
    // The owner never changes on update (`domain::lists::owner_unchanged`), nor do its units.
    let row: Option<ProblemRow> = diesel::update(
        pi::table
            .filter(pi::id.eq(id))
            .filter(pi::version.eq(version)),
    )
    .set((
        v,
        pi::updated_at.eq(super::now()),
        pi::version.eq(version + 1),
    ))
    .get_result(conn)
    .optional()?;
    if row.is_some() {
        set_hazard_links(conn, id, links)?;
    }
    Ok(row)
}

fn set_hazard_links(conn: &mut AnyConnection, id: i64, links: &[i64]) -> QueryResult<()> {
    diesel::delete(pih::table.filter(pih::problem_item_id.eq(id))).execute(conn)?;
    for h in links {
        diesel::insert_into(pih::table)
            .values((pih::problem_item_id.eq(id), pih::hazard_id.eq(h)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn insert_measure(
    conn: &mut AnyConnection,
    v: &MeasureValues<'_>,
    links: &[i64],
) -> QueryResult<MeasureRow> {
    let now = super::now();
    let owner = units_of(conn, v.owner_jurisdiction_code)?;
    let row: MeasureRow = diesel::insert_into(mi::table)
        .values((
            v,
            mi::owner_city_code.eq(owner.city),
            mi::owner_county_code.eq(owner.county),
            mi::created_at.eq(now),
            mi::updated_at.eq(now),
            mi::version.eq(1i64),
        ))
        .get_result(conn)?;
    set_problem_links(conn, row.id, links)?;
    Ok(row)
}

pub fn update_measure(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    v: &MeasureValues<'_>,
    links: &[i64],
) -> QueryResult<Option<MeasureRow>> {
    // The owner never changes on update (`domain::lists::owner_unchanged`), nor do its units.
    let row: Option<MeasureRow> = diesel::update(
        mi::table
            .filter(mi::id.eq(id))
            .filter(mi::version.eq(version)),
    )
    .set((
        v,
        mi::updated_at.eq(super::now()),
        mi::version.eq(version + 1),
    ))
    .get_result(conn)
    .optional()?;
    if row.is_some() {
        set_problem_links(conn, id, links)?;
    }
    Ok(row)
}

fn set_problem_links(conn: &mut AnyConnection, id: i64, links: &[i64]) -> QueryResult<()> {
    diesel::delete(mip::table.filter(mip::measure_item_id.eq(id))).execute(conn)?;
    for p in links {
        diesel::insert_into(mip::table)
            .values((mip::measure_item_id.eq(id), mip::problem_item_id.eq(p)))
            .execute(conn)?;
    }
    Ok(())
}

/// Every item of one owner (jurisdiction and department exactly), oldest first, for a snapshot.
pub fn owner_items(
    conn: &mut AnyConnection,
    owner: &str,
    department: Option<i64>,
) -> QueryResult<(Vec<ProblemRow>, Vec<MeasureRow>)> {
    let mut p = pi::table
        .filter(pi::owner_jurisdiction_code.eq(owner))
        .select(ProblemRow::as_select())
        .into_boxed();
    let mut m = mi::table
        .filter(mi::owner_jurisdiction_code.eq(owner))
        .select(MeasureRow::as_select())
        .into_boxed();
    match department {
        Some(d) => {
            p = p.filter(pi::department_id.eq(d));
            m = m.filter(mi::department_id.eq(d));
        }
        None => {
            p = p.filter(pi::department_id.is_null());
            m = m.filter(mi::department_id.is_null());
        }
    }
    Ok((
        p.order(pi::id.asc()).load(conn)?,
        m.order(mi::id.asc()).load(conn)?,
    ))
}

// ---- submissions ----

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = ls)]
pub struct SubmissionRow {
    pub id: i64,
    pub owner_jurisdiction_code: String,
    pub owner_city_code: String,
    pub owner_county_code: String,
    pub department_id: Option<i64>,
    pub period: String,
    pub status: SubmissionStatus,
    pub content: String,
    pub content_sha256: String,
    pub submitted_by: i64,
    pub submitted_at: NaiveDateTime,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub review_opinion: Option<String>,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub fn live_submission_exists(
    conn: &mut AnyConnection,
    owner: &str,
    department: Option<i64>,
    period: &str,
) -> QueryResult<bool> {
    let mut q = ls::table
        .filter(ls::owner_jurisdiction_code.eq(owner))
        .filter(ls::period.eq(period))
        .filter(ls::status.ne(SubmissionStatus::Returned.as_str()))
        .select(ls::id)
        .into_boxed();
    q = match department {
        Some(d) => q.filter(ls::department_id.eq(d)),
        None => q.filter(ls::department_id.is_null()),
    };
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

pub fn insert_submission(
    conn: &mut AnyConnection,
    owner: &str,
    department: Option<i64>,
    period: &str,
    content: &str,
    sha256: &str,
    by: i64,
) -> QueryResult<SubmissionRow> {
    let now = super::now();
    let units = units_of(conn, owner)?;
    diesel::insert_into(ls::table)
        .values((
            ls::owner_jurisdiction_code.eq(owner),
            ls::owner_city_code.eq(units.city),
            ls::owner_county_code.eq(units.county),
            ls::department_id.eq(department),
            ls::period.eq(period),
            ls::status.eq(SubmissionStatus::Submitted.as_str()),
            ls::content.eq(content),
            ls::content_sha256.eq(sha256),
            ls::submitted_by.eq(by),
            ls::submitted_at.eq(now),
            ls::updated_at.eq(now),
            ls::version.eq(1i64),
        ))
        .get_result(conn)
}

pub fn submission_visible(
    conn: &mut AnyConnection,
    reach: &Reach,
    id: i64,
) -> QueryResult<Option<SubmissionRow>> {
    ls::table
        .filter(ls::id.eq(id))
        .filter(owned_within!(ls, reach))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct SubmissionFilter {
    pub owner: Option<String>,
    pub period: Option<String>,
    pub status: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

pub fn list_submissions(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &SubmissionFilter,
) -> QueryResult<Vec<SubmissionRow>> {
    submissions_query(reach, f).load(conn)
}

/// The plan of [`list_submissions`]'s query (`db::plan`).
pub fn list_submissions_plan(
    conn: &mut AnyConnection,
    reach: &Reach,
    f: &SubmissionFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, submissions_query(reach, f))
}

fn submissions_query(
    reach: &Reach,
    f: &SubmissionFilter,
) -> ls::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<SubmissionRow, super::scope::Backend>>,
> {
    let mut q = ls::table
        .filter(owned_within!(ls, reach))
        .select(SubmissionRow::as_select())
        .into_boxed();
    if let Some(o) = &f.owner {
        q = q.filter(ls::owner_jurisdiction_code.eq(o.clone()));
    }
    if let Some(p) = &f.period {
        q = q.filter(ls::period.eq(p.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(ls::status.eq(s.clone()));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(ls::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(ls::id.gt(a));
    }
    q.order(ls::id.asc()).limit(f.fetch)
}

/// Records the review of a submission still `submitted`; `None` if it was reviewed meanwhile.
pub fn review(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    by: i64,
    opinion: &str,
) -> QueryResult<Option<SubmissionRow>> {
    let now = super::now();
    diesel::update(
        ls::table
            .filter(ls::id.eq(id))
            .filter(ls::status.eq(SubmissionStatus::Submitted.as_str())),
    )
    .set((
        ls::status.eq(status),
        ls::reviewed_by.eq(by),
        ls::reviewed_at.eq(now),
        ls::review_opinion.eq(opinion),
        ls::updated_at.eq(now),
        ls::version.eq(ls::version + 1),
    ))
    .get_result(conn)
    .optional()
}
