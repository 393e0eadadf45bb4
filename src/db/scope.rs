//! Scope is enforced in the query: every read of regulated data is filtered here, so an object
//! outside the caller's scope is simply not found.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel::BoxableExpression;

use super::schema::{accounts, enterprises, hazards, jurisdictions, listings};
use super::AnyConnection;
pub use crate::auth::principal::Scope;
use crate::auth::Principal;
use crate::domain::jurisdiction::{city_of, county_level_unit, JurisdictionLevel};

type Backend = <AnyConnection as diesel::Connection>::Backend;

/// `LIKE` pattern for "this path and everything below it".
pub fn subtree_pattern(path: &str) -> String {
    let mut p = String::with_capacity(path.len() + 1);
    for c in path.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `LIKE` pattern for "contains `q`", lower-cased.
pub fn contains_pattern(q: &str) -> String {
    let inner = subtree_pattern(&q.to_lowercase());
    format!("%{inner}")
}

/// `jurisdiction_code IN (codes at or below path)`, as a subquery.
macro_rules! under_path {
    ($column:expr, $path:expr) => {
        $column.eq_any(
            $crate::db::schema::jurisdictions::table
                .select($crate::db::schema::jurisdictions::code)
                .filter(
                    $crate::db::schema::jurisdictions::path
                        .like($crate::db::scope::subtree_pattern($path))
                        .escape('\\'),
                ),
        )
    };
}
pub(crate) use under_path;

/// The rows of a regulated table a scope can see, given the table's enterprise, jurisdiction
/// and sector columns.
macro_rules! visible_rows {
    ($scope:expr, $enterprise:expr, $jurisdiction:expr, $sector:expr) => {
        match $scope {
            Scope::Enterprise(id) => Box::new($enterprise.eq(*id)),
            Scope::Subtree { path, sectors } => {
                let under = under_path!($jurisdiction, path);
                match sectors {
                    None => Box::new(under),
                    Some(s) => Box::new(under.and($sector.eq_any(s.clone()))),
                }
            }
        }
    };
}

pub type EnterpriseFilter = Box<dyn BoxableExpression<enterprises::table, Backend, SqlType = Bool>>;

pub fn enterprises_visible(scope: &Scope) -> EnterpriseFilter {
    visible_rows!(
        scope,
        enterprises::id,
        enterprises::jurisdiction_code,
        enterprises::sector_code
    )
}

pub type ListingFilter = Box<dyn BoxableExpression<listings::table, Backend, SqlType = Bool>>;

pub fn listings_visible(scope: &Scope) -> ListingFilter {
    visible_rows!(
        scope,
        listings::enterprise_id,
        listings::jurisdiction_code,
        listings::sector_code
    )
}

pub type HazardFilter = Box<dyn BoxableExpression<hazards::table, Backend, SqlType = Bool>>;

pub fn hazards_visible(scope: &Scope) -> HazardFilter {
    visible_rows!(
        scope,
        hazards::enterprise_id,
        hazards::jurisdiction_code,
        hazards::sector_code
    )
}

pub type AccountFilter = Box<dyn BoxableExpression<accounts::table, Backend, SqlType = Bool>>;

/// Accounts bound to a jurisdiction in the subtree, or to an enterprise registered there;
/// an enterprise user sees the accounts of its own enterprise.
pub fn accounts_visible(p: &Principal) -> AccountFilter {
    match (p.enterprise_id, &p.jurisdiction_path) {
        (Some(id), _) => Box::new(accounts::enterprise_id.assume_not_null().eq(id)),
        (None, Some(path)) => Box::new(
            under_path!(accounts::jurisdiction_code.assume_not_null(), path).or(
                accounts::enterprise_id.assume_not_null().eq_any(
                    enterprises::table
                        .select(enterprises::id)
                        .filter(under_path!(enterprises::jurisdiction_code, path)),
                ),
            ),
        ),
        (None, None) => Box::new(sql::<Bool>("1 = 0")),
    }
}

/// Which owners' lists a scope can see: lists of units at or below the caller's jurisdiction.
/// Enterprise accounts see none.
pub fn list_owner_path(scope: &Scope) -> Option<&str> {
    match scope {
        Scope::Subtree { path, .. } => Some(path),
        Scope::Enterprise(_) => None,
    }
}

/// The tree path and level of a jurisdiction, if it exists.
pub fn jurisdiction_path(
    conn: &mut AnyConnection,
    code: &str,
) -> QueryResult<Option<(String, JurisdictionLevel)>> {
    jurisdictions::table
        .filter(jurisdictions::code.eq(code))
        .select((jurisdictions::path, jurisdictions::level))
        .first(conn)
        .optional()
}

/// A jurisdiction's chain from the root to itself, with levels.
fn chain_of(conn: &mut AnyConnection, code: &str) -> QueryResult<Vec<(String, JurisdictionLevel)>> {
    let (path, _) = jurisdiction_path(conn, code)?.ok_or(diesel::result::Error::NotFound)?;
    let codes: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let levels: Vec<(String, JurisdictionLevel)> = jurisdictions::table
        .filter(jurisdictions::code.eq_any(&codes))
        .select((jurisdictions::code, jurisdictions::level))
        .load(conn)?;
    Ok(codes
        .into_iter()
        .filter_map(|c| levels.iter().find(|(code, _)| *code == c).cloned())
        .collect())
}

/// The county-level unit a jurisdiction belongs to (`domain::jurisdiction::county_level_unit`).
/// Hazard codes carry it.
pub fn county_level_code(conn: &mut AnyConnection, code: &str) -> QueryResult<String> {
    let chain = chain_of(conn, code)?;
    Ok(county_level_unit(&chain).unwrap_or(code).to_string())
}

/// The city a jurisdiction belongs to (`domain::jurisdiction::city_of`).
pub fn city_code(conn: &mut AnyConnection, code: &str) -> QueryResult<String> {
    let chain = chain_of(conn, code)?;
    Ok(city_of(&chain).unwrap_or(code).to_string())
}
