//! Jurisdictions, sectors and departments: seeded reference data, readable by every account.

use diesel::prelude::*;

use super::schema::{department_sectors, departments, jurisdictions, sectors};
use super::AnyConnection;

#[derive(Queryable, Debug)]
pub struct JurisdictionRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

pub fn jurisdictions(
    conn: &mut AnyConnection,
    parent: Option<&str>,
    level: Option<&str>,
) -> QueryResult<Vec<JurisdictionRow>> {
    let mut q = jurisdictions::table
        .select((
            jurisdictions::code,
            jurisdictions::name,
            jurisdictions::level,
            jurisdictions::parent_code,
        ))
        .into_boxed();
    if let Some(p) = parent {
        q = q.filter(jurisdictions::parent_code.eq(p.to_string()));
    }
    if let Some(l) = level {
        q = q.filter(jurisdictions::level.eq(l.to_string()));
    }
    // Tree order: a parent always comes before its children.
    q.order(jurisdictions::path.asc()).load(conn)
}

pub fn sectors(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String, bool)>> {
    sectors::table
        .select((sectors::code, sectors::name, sectors::high_risk))
        .order(sectors::code.asc())
        .load(conn)
}

pub fn sector_exists(conn: &mut AnyConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sectors::table.filter(sectors::code.eq(code)),
    ))
    .get_result(conn)
}

pub struct DepartmentRow {
    pub id: i64,
    pub name: String,
    pub jurisdiction_code: String,
    pub sector_codes: Vec<String>,
}

/// Departments with their sectors, in two queries (no per-row lookups).
pub fn departments(
    conn: &mut AnyConnection,
    jurisdiction: Option<&str>,
) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = departments::table
        .select((
            departments::id,
            departments::name,
            departments::jurisdiction_code,
        ))
        .into_boxed();
    if let Some(j) = jurisdiction {
        q = q.filter(departments::jurisdiction_code.eq(j.to_string()));
    }
    let rows: Vec<(i64, String, String)> = q.order(departments::id.asc()).load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let links: Vec<(i64, String)> = department_sectors::table
        .filter(department_sectors::department_id.eq_any(&ids))
        .select((
            department_sectors::department_id,
            department_sectors::sector_code,
        ))
        .order((
            department_sectors::department_id,
            department_sectors::sector_code,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, jurisdiction_code)| DepartmentRow {
            id,
            name,
            jurisdiction_code,
            sector_codes: links
                .iter()
                .filter(|l| l.0 == id)
                .map(|l| l.1.clone())
                .collect(),
        })
        .collect())
}
