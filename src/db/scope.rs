//! Scope is enforced in the query: every read of regulated data is filtered here, so an object
//! outside the caller's scope is simply not found.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel::BoxableExpression;

use super::schema::{accounts, enterprises, hazard_tallies, hazards, jurisdictions, listings};
use super::AnyConnection;
pub use crate::auth::principal::Scope;
use crate::auth::Principal;
use crate::domain::jurisdiction::{JurisdictionLevel, Reach};

pub type Backend = <AnyConnection as diesel::Connection>::Backend;

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

/// A regulated table's rows at or below a jurisdiction, given its city, county-level unit and
/// jurisdiction columns: one equality, which the table's `(scope column, …)` indexes serve.
macro_rules! within {
    ($reach:expr, $city:expr, $county:expr, $jurisdiction:expr) => {{
        use $crate::domain::jurisdiction::Reach;
        let filter: Box<
            dyn diesel::BoxableExpression<
                _,
                $crate::db::scope::Backend,
                SqlType = diesel::sql_types::Bool,
            >,
        > = match $reach {
            Reach::City(c) => Box::new($city.eq(c.clone())),
            Reach::CountyLevel(c) => Box::new($county.eq(c.clone())),
            Reach::Exact(c) => Box::new($jurisdiction.eq(c.clone())),
            Reach::Everything => Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 1")),
        };
        filter
    }};
}
pub(crate) use within;

/// The rows of a regulated table a scope can see, given the table's enterprise, city,
/// county-level unit, jurisdiction and sector columns.
macro_rules! visible_rows {
    ($scope:expr, $enterprise:expr, $city:expr, $county:expr, $jurisdiction:expr, $sector:expr) => {
        match $scope {
            Scope::Enterprise(id) => Box::new($enterprise.eq(*id)),
            Scope::Subtree { reach, sectors, .. } => {
                in_subtree!(reach, sectors, $city, $county, $jurisdiction, $sector)
            }
        }
    };
}
pub(crate) use visible_rows;

/// Rows within a reach and, for an officer bound to a department, its sectors.
macro_rules! in_subtree {
    ($reach:expr, $sectors:expr, $city:expr, $county:expr, $jurisdiction:expr, $sector:expr) => {{
        let under = within!($reach, $city, $county, $jurisdiction);
        match $sectors {
            None => under,
            Some(s) if s.len() == 1 => Box::new(under.and($sector.eq(s[0].clone()))),
            Some(s) => Box::new(under.and($sector.eq_any(s.clone()))),
        }
    }};
}
pub(crate) use in_subtree;

pub type TallyFilter = Box<dyn BoxableExpression<hazard_tallies::table, Backend, SqlType = Bool>>;

/// The statistics tallies (`db::stats`) of a subtree: the same reach and sectors as its rows.
pub fn tallies_within(reach: &Reach, sectors: &Option<Vec<String>>) -> TallyFilter {
    in_subtree!(
        reach,
        sectors,
        hazard_tallies::city_code,
        hazard_tallies::county_code,
        hazard_tallies::jurisdiction_code,
        hazard_tallies::sector_code
    )
}

pub type EnterpriseFilter = Box<dyn BoxableExpression<enterprises::table, Backend, SqlType = Bool>>;

pub fn enterprises_visible(scope: &Scope) -> EnterpriseFilter {
    visible_rows!(
        scope,
        enterprises::id,
        enterprises::city_code,
        enterprises::county_code,
        enterprises::jurisdiction_code,
        enterprises::sector_code
    )
}

pub type ListingFilter = Box<dyn BoxableExpression<listings::table, Backend, SqlType = Bool>>;

pub fn listings_visible(scope: &Scope) -> ListingFilter {
    visible_rows!(
        scope,
        listings::enterprise_id,
        listings::city_code,
        listings::county_code,
        listings::jurisdiction_code,
        listings::sector_code
    )
}

pub type ReminderFilter =
    Box<dyn BoxableExpression<super::schema::reminders::table, Backend, SqlType = Bool>>;

/// Reminders are seen where their subject is: they carry its units, enterprise and sector.
pub fn reminders_visible(scope: &Scope) -> ReminderFilter {
    use super::schema::reminders;
    visible_rows!(
        scope,
        reminders::enterprise_id,
        reminders::city_code,
        reminders::county_code,
        reminders::jurisdiction_code,
        reminders::sector_code
    )
}

pub type HazardFilter = Box<dyn BoxableExpression<hazards::table, Backend, SqlType = Bool>>;

pub fn hazards_visible(scope: &Scope) -> HazardFilter {
    visible_rows!(
        scope,
        hazards::enterprise_id,
        hazards::city_code,
        hazards::county_code,
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
pub fn list_owner_reach(scope: &Scope) -> Option<&Reach> {
    match scope {
        Scope::Subtree { reach, .. } => Some(reach),
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

/// A jurisdiction's city and county-level unit, as stored with it (`seed::ReferenceData::units`):
/// what a new regulated row copies beside its jurisdiction.
pub fn units_of(conn: &mut AnyConnection, code: &str) -> QueryResult<Units> {
    let (city, county): (Option<String>, Option<String>) = jurisdictions::table
        .filter(jurisdictions::code.eq(code))
        .select((jurisdictions::city_code, jurisdictions::county_code))
        .first(conn)?;
    Ok(Units {
        city: city.unwrap_or_else(|| code.to_string()),
        county: county.unwrap_or_else(|| code.to_string()),
    })
}

#[derive(Debug, Clone)]
pub struct Units {
    pub city: String,
    pub county: String,
}

/// The county-level unit a jurisdiction belongs to (`domain::jurisdiction::county_level_unit`).
/// Hazard codes carry it.
pub fn county_level_code(conn: &mut AnyConnection, code: &str) -> QueryResult<String> {
    Ok(units_of(conn, code)?.county)
}

/// The city a jurisdiction belongs to (`domain::jurisdiction::city_of`).
pub fn city_code(conn: &mut AnyConnection, code: &str) -> QueryResult<String> {
    Ok(units_of(conn, code)?.city)
}

/// What "at or below this jurisdiction" is, by its level; `None` for an unknown code.
pub fn reach_of(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<Reach>> {
    Ok(jurisdiction_path(conn, code)?.map(|(_, level)| Reach::of(level, code)))
}
