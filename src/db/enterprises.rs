use diesel::prelude::*;

use super::schema::enterprises as e;
use super::scope::{enterprises_visible, within, Scope};
use super::{lower, AnyConnection};
use crate::domain::enterprise::{
    EnterpriseFields, EnterpriseStatus, RiskLevel, SafetyDirector, SafetyDirectorRule,
    SafetyDirectorStatus,
};
use crate::domain::jurisdiction::Reach;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = e)]
pub struct EnterpriseRow {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub address: Option<String>,
    pub legal_representative: Option<String>,
    pub principal_name: Option<String>,
    pub principal_phone: Option<String>,
    pub employees: i32,
    pub annual_revenue_10k_yuan: f64,
    pub safety_director_name: Option<String>,
    pub safety_director_phone: Option<String>,
    pub safety_director_appointed_on: Option<chrono::NaiveDate>,
    pub risk_level: Option<RiskLevel>,
    pub standardization_grade: Option<String>,
    pub status: EnterpriseStatus,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub version: i64,
    pub city_code: String,
    pub county_code: String,
    /// The worst level of its risk units (`db::risk`), beside the declared `risk_level`.
    pub computed_risk_level: Option<RiskLevel>,
}

#[derive(Insertable, AsChangeset, Debug)]
#[diesel(table_name = e, treat_none_as_null = true)]
struct EnterpriseValues<'a> {
    uscc: &'a str,
    name: &'a str,
    jurisdiction_code: &'a str,
    sector_code: &'a str,
    address: Option<&'a str>,
    legal_representative: Option<&'a str>,
    principal_name: Option<&'a str>,
    principal_phone: Option<&'a str>,
    employees: i32,
    annual_revenue_10k_yuan: f64,
    safety_director_name: Option<&'a str>,
    safety_director_phone: Option<&'a str>,
    safety_director_appointed_on: Option<chrono::NaiveDate>,
    risk_level: Option<&'static str>,
    standardization_grade: Option<&'a str>,
    status: &'static str,
}

impl<'a> From<&'a EnterpriseFields> for EnterpriseValues<'a> {
    fn from(f: &'a EnterpriseFields) -> Self {
        let d = f.safety_director.as_ref();
        EnterpriseValues {
            uscc: &f.uscc,
            name: &f.name,
            jurisdiction_code: &f.jurisdiction_code,
            sector_code: &f.sector_code,
            address: f.address.as_deref(),
            legal_representative: f.legal_representative.as_deref(),
            principal_name: f.principal_name.as_deref(),
            principal_phone: f.principal_phone.as_deref(),
            employees: f.employees,
            annual_revenue_10k_yuan: f.annual_revenue_10k_yuan,
            safety_director_name: d.map(|d| d.name.as_str()),
            safety_director_phone: d.and_then(|d| d.phone.as_deref()),
            safety_director_appointed_on: d.and_then(|d| d.appointed_on),
            risk_level: f.risk_level.map(RiskLevel::as_str),
            standardization_grade: f.standardization_grade.as_deref(),
            status: f.status.as_str(),
        }
    }
}

impl EnterpriseRow {
    pub fn fields(&self) -> EnterpriseFields {
        EnterpriseFields {
            uscc: self.uscc.clone(),
            name: self.name.clone(),
            jurisdiction_code: self.jurisdiction_code.clone(),
            sector_code: self.sector_code.clone(),
            address: self.address.clone(),
            legal_representative: self.legal_representative.clone(),
            principal_name: self.principal_name.clone(),
            principal_phone: self.principal_phone.clone(),
            employees: self.employees,
            annual_revenue_10k_yuan: self.annual_revenue_10k_yuan,
            safety_director: self
                .safety_director_name
                .as_ref()
                .map(|name| SafetyDirector {
                    name: name.clone(),
                    phone: self.safety_director_phone.clone(),
                    appointed_on: self.safety_director_appointed_on,
                }),
            risk_level: self.risk_level,
            standardization_grade: self.standardization_grade.clone(),
            status: self.status,
        }
    }
}

pub fn insert(conn: &mut AnyConnection, f: &EnterpriseFields) -> QueryResult<EnterpriseRow> {
    let now = super::now();
    let units = super::scope::units_of(conn, &f.jurisdiction_code)?;
    diesel::insert_into(e::table)
        .values((
            EnterpriseValues::from(f),
            e::city_code.eq(units.city),
            e::county_code.eq(units.county),
            e::created_at.eq(now),
            e::updated_at.eq(now),
            e::version.eq(1i64),
        ))
        .get_result(conn)
}

/// Writes all fields if the row is still at `version`; `None` when it is not.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    f: &EnterpriseFields,
) -> QueryResult<Option<EnterpriseRow>> {
    let units = super::scope::units_of(conn, &f.jurisdiction_code)?;
    diesel::update(e::table.filter(e::id.eq(id)).filter(e::version.eq(version)))
        .set((
            EnterpriseValues::from(f),
            e::city_code.eq(units.city),
            e::county_code.eq(units.county),
            e::updated_at.eq(super::now()),
            e::version.eq(version + 1),
        ))
        .get_result(conn)
        .optional()
}

pub fn get_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<EnterpriseRow>> {
    e::table
        .filter(e::id.eq(id))
        .filter(enterprises_visible(scope))
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct EnterpriseFilter {
    /// At or below this jurisdiction (the `jurisdiction_code` filter).
    pub jurisdiction: Option<Reach>,
    pub sector_code: Option<String>,
    pub status: Option<EnterpriseStatus>,
    pub risk_level: Option<RiskLevel>,
    pub safety_director_status: Option<SafetyDirectorStatus>,
    pub q: Option<String>,
    pub updated_since: Option<chrono::NaiveDateTime>,
    pub after_id: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

pub fn list_visible(
    conn: &mut AnyConnection,
    scope: &Scope,
    rule: &SafetyDirectorRule,
    f: &EnterpriseFilter,
) -> QueryResult<Vec<EnterpriseRow>> {
    list_query(scope, rule, f).load(conn)
}

/// The plan of the list query (`db::plan`).
pub fn list_plan(
    conn: &mut AnyConnection,
    scope: &Scope,
    rule: &SafetyDirectorRule,
    f: &EnterpriseFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(conn, list_query(scope, rule, f))
}

type ListQuery = e::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<EnterpriseRow, super::scope::Backend>>,
>;

fn list_query(scope: &Scope, rule: &SafetyDirectorRule, f: &EnterpriseFilter) -> ListQuery {
    let mut q = e::table
        .filter(enterprises_visible(scope))
        .select(EnterpriseRow::as_select())
        .into_boxed();
    if let Some(reach) = &f.jurisdiction {
        q = q.filter(within!(
            reach,
            e::city_code,
            e::county_code,
            e::jurisdiction_code
        ));
    }
    if let Some(s) = &f.sector_code {
        q = q.filter(e::sector_code.eq(s.clone()));
    }
    if let Some(s) = f.status {
        q = q.filter(e::status.eq(s.as_str()));
    }
    if let Some(r) = f.risk_level {
        q = q.filter(e::risk_level.eq(r.as_str()));
    }
    // The computed safety-director status, as SQL over the configured rule.
    let sectors = rule.sectors.clone();
    let (min_emp, min_rev) = (rule.min_employees, rule.min_annual_revenue_10k_yuan);
    match f.safety_director_status {
        None => {}
        Some(SafetyDirectorStatus::Appointed) => {
            q = q.filter(e::safety_director_name.is_not_null())
        }
        Some(SafetyDirectorStatus::Missing) => {
            q = q
                .filter(e::safety_director_name.is_null())
                .filter(e::sector_code.eq_any(sectors))
                .filter(
                    e::employees
                        .ge(min_emp)
                        .or(e::annual_revenue_10k_yuan.ge(min_rev)),
                )
        }
        Some(SafetyDirectorStatus::NotRequired) => {
            q = q.filter(e::safety_director_name.is_null()).filter(
                e::sector_code.ne_all(sectors).or(e::employees
                    .lt(min_emp)
                    .and(e::annual_revenue_10k_yuan.lt(min_rev))),
            )
        }
    }
    if let Some(text) = &f.q {
        let pattern = super::scope::contains_pattern(text);
        q = q.filter(
            lower(e::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(e::uscc).like(pattern).escape('\\')),
        );
    }
    if let Some(t) = f.updated_since {
        q = q.filter(e::updated_at.ge(t));
    }
    if let Some(after) = f.after_id {
        q = q.filter(e::id.gt(after));
    }
    q.order(e::id.asc()).limit(f.fetch)
}

/// The county-level unit of each enterprise, in one query.
pub fn county_codes(
    conn: &mut AnyConnection,
    ids: Vec<i64>,
) -> QueryResult<std::collections::HashMap<i64, String>> {
    Ok(e::table
        .filter(e::id.eq_any(&ids))
        .select((e::id, e::county_code))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}
