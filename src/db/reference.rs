//! Jurisdictions, sectors and departments: seeded reference data, readable by every account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::jurisdiction::JurisdictionLevel;

use super::schema::{department_sectors, departments, jurisdictions, sectors};
use super::AnyConnection;

/// Which part of a reference collection to read: rows after the keyset position `after`
/// (exclusive), changed at or after `updated_since`, at most `limit` rows.
pub struct Window<K> {
    pub after: Option<K>,
    pub updated_since: Option<NaiveDateTime>,
    pub limit: i64,
}

impl<K> Window<K> {
    /// Every row.
    pub fn all() -> Self {
        Window {
            after: None,
            updated_since: None,
            limit: i64::MAX,
        }
    }
}

#[derive(Debug)]
pub struct JurisdictionRow {
    pub code: String,
    pub name: String,
    pub level: JurisdictionLevel,
    pub parent_code: Option<String>,
    pub path: String,
    pub updated_at: NaiveDateTime,
}

/// In tree order (by path: a parent always comes before its children), keyed by path.
pub fn jurisdictions(
    conn: &mut AnyConnection,
    parent: Option<&str>,
    level: Option<&str>,
    w: &Window<String>,
) -> QueryResult<Vec<JurisdictionRow>> {
    let mut q = jurisdictions::table
        .select((
            jurisdictions::code,
            jurisdictions::name,
            jurisdictions::level,
            jurisdictions::parent_code,
            jurisdictions::path,
            jurisdictions::updated_at,
        ))
        .into_boxed();
    if let Some(p) = parent {
        q = q.filter(jurisdictions::parent_code.eq(p.to_string()));
    }
    if let Some(l) = level {
        q = q.filter(jurisdictions::level.eq(l.to_string()));
    }
    if let Some(after) = &w.after {
        q = q.filter(jurisdictions::path.gt(after.clone()));
    }
    if let Some(t) = w.updated_since {
        q = q.filter(jurisdictions::updated_at.ge(t));
    }
    let rows: Vec<(
        String,
        String,
        String,
        Option<String>,
        String,
        NaiveDateTime,
    )> = q
        .order(jurisdictions::path.asc())
        .limit(w.limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(code, name, level, parent_code, path, updated_at)| {
            Ok(JurisdictionRow {
                code,
                name,
                level: super::stored(JurisdictionLevel::from_stored(&level))?,
                parent_code,
                path,
                updated_at,
            })
        })
        .collect()
}

#[derive(Queryable, Debug)]
pub struct SectorRow {
    pub code: String,
    pub name: String,
    pub high_risk: bool,
    pub updated_at: NaiveDateTime,
}

/// By code.
pub fn sectors(conn: &mut AnyConnection, w: &Window<String>) -> QueryResult<Vec<SectorRow>> {
    let mut q = sectors::table
        .select((
            sectors::code,
            sectors::name,
            sectors::high_risk,
            sectors::updated_at,
        ))
        .into_boxed();
    if let Some(after) = &w.after {
        q = q.filter(sectors::code.gt(after.clone()));
    }
    if let Some(t) = w.updated_since {
        q = q.filter(sectors::updated_at.ge(t));
    }
    q.order(sectors::code.asc()).limit(w.limit).load(conn)
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
    pub updated_at: NaiveDateTime,
}

/// Departments with their sectors, in two queries (no per-row lookups).
pub fn departments(
    conn: &mut AnyConnection,
    jurisdiction: Option<&str>,
    w: &Window<i64>,
) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = departments::table
        .select((
            departments::id,
            departments::name,
            departments::jurisdiction_code,
            departments::updated_at,
        ))
        .into_boxed();
    if let Some(j) = jurisdiction {
        q = q.filter(departments::jurisdiction_code.eq(j.to_string()));
    }
    if let Some(after) = w.after {
        q = q.filter(departments::id.gt(after));
    }
    if let Some(t) = w.updated_since {
        q = q.filter(departments::updated_at.ge(t));
    }
    let rows: Vec<(i64, String, String, NaiveDateTime)> =
        q.order(departments::id.asc()).limit(w.limit).load(conn)?;
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
        .map(|(id, name, jurisdiction_code, updated_at)| DepartmentRow {
            id,
            name,
            jurisdiction_code,
            updated_at,
            sector_codes: links
                .iter()
                .filter(|l| l.0 == id)
                .map(|l| l.1.clone())
                .collect(),
        })
        .collect())
}
