//! The risk register (migration 000025, `domain::risk`): risk analysis units, risk events and
//! their assessments, control measures; read in scope like hazards; the unit's and the
//! enterprise's levels kept in the transaction that grades.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::{
    control_measures as m, enterprises, risk_assessments as a, risk_events as ev, risk_units as u,
};
use super::scope::{in_subtree, visible_rows, within, Backend, Scope};
use super::AnyConnection;
use crate::domain::risk::{worst, ControlTier, Graded, MeasureClass, RiskLevel, RiskMethod};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = u)]
pub struct UnitRow {
    pub id: i64,
    pub uuid: String,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub name: String,
    pub location: Option<String>,
    pub department: Option<String>,
    pub responsible_person: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub major_hazard_source: bool,
    pub principal_person: Option<String>,
    pub technical_person: Option<String>,
    pub operating_person: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// A unit's writable fields, as stored.
#[derive(Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = u, treat_none_as_null = true)]
pub struct UnitValues {
    pub name: String,
    pub location: Option<String>,
    pub department: Option<String>,
    pub responsible_person: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub major_hazard_source: bool,
    pub principal_person: Option<String>,
    pub technical_person: Option<String>,
    pub operating_person: Option<String>,
}

/// Where a new row of the register belongs: its enterprise's units and sector.
#[derive(Debug, Clone)]
pub struct Owner {
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
}

impl Owner {
    pub fn of(e: &super::enterprises::EnterpriseRow) -> Owner {
        Owner {
            enterprise_id: e.id,
            city_code: e.city_code.clone(),
            county_code: e.county_code.clone(),
            jurisdiction_code: e.jurisdiction_code.clone(),
            sector_code: e.sector_code.clone(),
        }
    }

    fn of_unit(r: &UnitRow) -> Owner {
        Owner {
            enterprise_id: r.enterprise_id,
            city_code: r.city_code.clone(),
            county_code: r.county_code.clone(),
            jurisdiction_code: r.jurisdiction_code.clone(),
            sector_code: r.sector_code.clone(),
        }
    }
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn insert_unit(c: &mut AnyConnection, owner: &Owner, v: &UnitValues) -> QueryResult<UnitRow> {
    let now = super::now();
    diesel::insert_into(u::table)
        .values((
            v,
            u::uuid.eq(new_uuid()),
            u::enterprise_id.eq(owner.enterprise_id),
            u::city_code.eq(&owner.city_code),
            u::county_code.eq(&owner.county_code),
            u::jurisdiction_code.eq(&owner.jurisdiction_code),
            u::sector_code.eq(&owner.sector_code),
            u::created_at.eq(now),
            u::updated_at.eq(now),
            u::version.eq(1i64),
        ))
        .get_result(c)
}

/// Writes a unit's fields at `version` (`None`: it changed meanwhile).
pub fn update_unit(
    c: &mut AnyConnection,
    id: i64,
    version: i64,
    v: &UnitValues,
) -> QueryResult<Option<UnitRow>> {
    diesel::update(u::table.filter(u::id.eq(id)).filter(u::version.eq(version)))
        .set((
            v,
            u::updated_at.eq(super::now()),
            u::version.eq(version + 1),
        ))
        .get_result(c)
        .optional()
}

type UnitFilter = Box<dyn BoxableExpression<u::table, Backend, SqlType = Bool>>;
type EventFilter = Box<dyn BoxableExpression<ev::table, Backend, SqlType = Bool>>;
type MeasureFilter = Box<dyn BoxableExpression<m::table, Backend, SqlType = Bool>>;

fn units_visible(scope: &Scope) -> UnitFilter {
    visible_rows!(
        scope,
        u::enterprise_id,
        u::city_code,
        u::county_code,
        u::jurisdiction_code,
        u::sector_code
    )
}

fn events_visible(scope: &Scope) -> EventFilter {
    visible_rows!(
        scope,
        ev::enterprise_id,
        ev::city_code,
        ev::county_code,
        ev::jurisdiction_code,
        ev::sector_code
    )
}

fn measures_visible(scope: &Scope) -> MeasureFilter {
    visible_rows!(
        scope,
        m::enterprise_id,
        m::city_code,
        m::county_code,
        m::jurisdiction_code,
        m::sector_code
    )
}

pub fn unit_visible(c: &mut AnyConnection, scope: &Scope, id: i64) -> QueryResult<Option<UnitRow>> {
    u::table
        .filter(u::id.eq(id))
        .filter(units_visible(scope))
        .select(UnitRow::as_select())
        .first(c)
        .optional()
}

/// Filters of the register's lists; each applies where the list has the column.
#[derive(Debug, Clone, Default)]
pub struct RegisterFilter {
    pub enterprise_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub event_id: Option<i64>,
    pub level: Option<RiskLevel>,
    pub major_hazard_source: Option<bool>,
    pub updated_since: Option<NaiveDateTime>,
    pub after_id: Option<i64>,
    pub fetch: i64,
}

pub fn list_units(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<UnitRow>> {
    list_units_query(scope, f).load(c)
}

/// The plan of [`list_units`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn units_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(c, list_units_query(scope, f))
}

fn list_units_query(
    scope: &Scope,
    f: &RegisterFilter,
) -> u::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<UnitRow, super::scope::Backend>>,
> {
    let mut q = u::table
        .filter(units_visible(scope))
        .select(UnitRow::as_select())
        .order(u::id.asc())
        .limit(f.fetch)
        .into_boxed();
    if let Some(id) = f.enterprise_id {
        q = q.filter(u::enterprise_id.eq(id));
    }
    if let Some(l) = f.level {
        q = q.filter(u::risk_level.eq(l.as_str()));
    }
    if let Some(b) = f.major_hazard_source {
        q = q.filter(u::major_hazard_source.eq(b));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(u::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(u::id.gt(a));
    }
    q
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = ev)]
pub struct EventRow {
    pub id: i64,
    pub uuid: String,
    pub unit_id: i64,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub name: String,
    pub description: Option<String>,
    pub method: RiskMethod,
    pub l: f64,
    pub s: Option<f64>,
    pub e: Option<f64>,
    pub c: Option<f64>,
    pub score: f64,
    pub level: RiskLevel,
    pub assessed_by: i64,
    pub assessed_on: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = a)]
pub struct AssessmentRow {
    pub id: i64,
    pub event_id: i64,
    pub method: RiskMethod,
    pub l: f64,
    pub s: Option<f64>,
    pub e: Option<f64>,
    pub c: Option<f64>,
    pub score: f64,
    pub level: RiskLevel,
    pub assessed_by: i64,
    pub assessed_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

fn record_assessment(
    c: &mut AnyConnection,
    event_id: i64,
    g: &Graded,
    by: i64,
    on: NaiveDate,
) -> QueryResult<()> {
    diesel::insert_into(a::table)
        .values((
            a::event_id.eq(event_id),
            a::method.eq(g.input.method.as_str()),
            a::l.eq(g.input.l),
            a::s.eq(g.input.s),
            a::e.eq(g.input.e),
            a::c.eq(g.input.c),
            a::score.eq(g.score),
            a::level.eq(g.level.as_str()),
            a::assessed_by.eq(by),
            a::assessed_on.eq(on),
            a::created_at.eq(super::now()),
        ))
        .execute(c)
        .map(|_| ())
}

/// A new event under `unit`, with its first assessment; the unit's and the enterprise's
/// levels follow.
pub fn insert_event(
    c: &mut AnyConnection,
    unit: &UnitRow,
    name: &str,
    description: Option<&str>,
    g: &Graded,
    by: i64,
    on: NaiveDate,
) -> QueryResult<EventRow> {
    let now = super::now();
    let owner = Owner::of_unit(unit);
    let row: EventRow = diesel::insert_into(ev::table)
        .values((
            ev::uuid.eq(new_uuid()),
            ev::unit_id.eq(unit.id),
            ev::enterprise_id.eq(owner.enterprise_id),
            ev::city_code.eq(&owner.city_code),
            ev::county_code.eq(&owner.county_code),
            ev::jurisdiction_code.eq(&owner.jurisdiction_code),
            ev::sector_code.eq(&owner.sector_code),
            ev::name.eq(name),
            ev::description.eq(description),
            ev::method.eq(g.input.method.as_str()),
            ev::l.eq(g.input.l),
            ev::s.eq(g.input.s),
            ev::e.eq(g.input.e),
            ev::c.eq(g.input.c),
            ev::score.eq(g.score),
            ev::level.eq(g.level.as_str()),
            ev::assessed_by.eq(by),
            ev::assessed_on.eq(on),
            ev::created_at.eq(now),
            ev::updated_at.eq(now),
            ev::version.eq(1i64),
        ))
        .get_result(c)?;
    record_assessment(c, row.id, g, by, on)?;
    refresh_levels(c, unit.id, unit.enterprise_id)?;
    Ok(row)
}

/// A new assessment of an event at `version` (`None`: it changed meanwhile); kept with the
/// earlier ones, and the levels follow.
pub fn reassess(
    c: &mut AnyConnection,
    event: &EventRow,
    g: &Graded,
    by: i64,
    on: NaiveDate,
) -> QueryResult<Option<EventRow>> {
    let row: Option<EventRow> = diesel::update(
        ev::table
            .filter(ev::id.eq(event.id))
            .filter(ev::version.eq(event.version)),
    )
    .set((
        ev::method.eq(g.input.method.as_str()),
        ev::l.eq(g.input.l),
        ev::s.eq(g.input.s),
        ev::e.eq(g.input.e),
        ev::c.eq(g.input.c),
        ev::score.eq(g.score),
        ev::level.eq(g.level.as_str()),
        ev::assessed_by.eq(by),
        ev::assessed_on.eq(on),
        ev::updated_at.eq(super::now()),
        ev::version.eq(event.version + 1),
    ))
    .get_result(c)
    .optional()?;
    if let Some(r) = &row {
        record_assessment(c, r.id, g, by, on)?;
        refresh_levels(c, r.unit_id, r.enterprise_id)?;
    }
    Ok(row)
}

/// The unit's level becomes its worst event's, the enterprise's computed level its worst
/// unit's (two small reads of distinct levels, through the `(unit_id, …)` and
/// `(enterprise_id, …)` indexes). A unit whose level changes gets a new version.
fn refresh_levels(c: &mut AnyConnection, unit_id: i64, enterprise_id: i64) -> QueryResult<()> {
    let fold = |levels: Vec<RiskLevel>| levels.into_iter().fold(None, |w, l| Some(worst(w, l)));
    let unit_level = fold(
        ev::table
            .filter(ev::unit_id.eq(unit_id))
            .select(ev::level)
            .distinct()
            .load::<RiskLevel>(c)?,
    );
    let current: Option<RiskLevel> = u::table
        .filter(u::id.eq(unit_id))
        .select(u::risk_level)
        .first(c)?;
    if current != unit_level {
        diesel::update(u::table.filter(u::id.eq(unit_id)))
            .set((
                u::risk_level.eq(unit_level.map(|l| l.as_str())),
                u::updated_at.eq(super::now()),
                u::version.eq(u::version + 1),
            ))
            .execute(c)?;
    }
    let enterprise_level = fold(
        u::table
            .filter(u::enterprise_id.eq(enterprise_id))
            .filter(u::risk_level.is_not_null())
            .select(u::risk_level.assume_not_null())
            .distinct()
            .load::<RiskLevel>(c)?,
    );
    diesel::update(enterprises::table.filter(enterprises::id.eq(enterprise_id)))
        .set(enterprises::computed_risk_level.eq(enterprise_level.map(|l| l.as_str())))
        .execute(c)?;
    Ok(())
}

pub fn event_visible(
    c: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<EventRow>> {
    ev::table
        .filter(ev::id.eq(id))
        .filter(events_visible(scope))
        .select(EventRow::as_select())
        .first(c)
        .optional()
}

pub fn list_events(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<EventRow>> {
    list_events_query(scope, f).load(c)
}

/// The plan of [`list_events`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn events_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(c, list_events_query(scope, f))
}

fn list_events_query(
    scope: &Scope,
    f: &RegisterFilter,
) -> ev::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<EventRow, super::scope::Backend>>,
> {
    let mut q = ev::table
        .filter(events_visible(scope))
        .select(EventRow::as_select())
        .order(ev::id.asc())
        .limit(f.fetch)
        .into_boxed();
    if let Some(id) = f.enterprise_id {
        q = q.filter(ev::enterprise_id.eq(id));
    }
    if let Some(id) = f.unit_id {
        q = q.filter(ev::unit_id.eq(id));
    }
    if let Some(l) = f.level {
        q = q.filter(ev::level.eq(l.as_str()));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(ev::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(ev::id.gt(a));
    }
    q
}

/// An event's assessments, oldest first.
pub fn assessments(c: &mut AnyConnection, event_id: i64) -> QueryResult<Vec<AssessmentRow>> {
    a::table
        .filter(a::event_id.eq(event_id))
        .order(a::id.asc())
        .select(AssessmentRow::as_select())
        .load(c)
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = m)]
pub struct MeasureRow {
    pub id: i64,
    pub uuid: String,
    pub event_id: i64,
    pub unit_id: i64,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub description: String,
    pub classification: MeasureClass,
    pub tier: ControlTier,
    pub responsible_account_id: Option<i64>,
    pub responsible_person: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub struct NewMeasure<'a> {
    pub description: &'a str,
    pub classification: MeasureClass,
    pub tier: ControlTier,
    pub responsible_account_id: Option<i64>,
    pub responsible_person: Option<&'a str>,
}

pub fn insert_measure(
    c: &mut AnyConnection,
    event: &EventRow,
    n: &NewMeasure,
) -> QueryResult<MeasureRow> {
    let now = super::now();
    diesel::insert_into(m::table)
        .values((
            m::uuid.eq(new_uuid()),
            m::event_id.eq(event.id),
            m::unit_id.eq(event.unit_id),
            m::enterprise_id.eq(event.enterprise_id),
            m::city_code.eq(&event.city_code),
            m::county_code.eq(&event.county_code),
            m::jurisdiction_code.eq(&event.jurisdiction_code),
            m::sector_code.eq(&event.sector_code),
            m::description.eq(n.description),
            m::classification.eq(n.classification.as_str()),
            m::tier.eq(n.tier.as_str()),
            m::responsible_account_id.eq(n.responsible_account_id),
            m::responsible_person.eq(n.responsible_person),
            m::created_at.eq(now),
            m::updated_at.eq(now),
            m::version.eq(1i64),
        ))
        .get_result(c)
}

pub fn measure_visible(
    c: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<MeasureRow>> {
    m::table
        .filter(m::id.eq(id))
        .filter(measures_visible(scope))
        .select(MeasureRow::as_select())
        .first(c)
        .optional()
}

pub fn list_measures(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<MeasureRow>> {
    list_measures_query(scope, f).load(c)
}

/// The plan of [`list_measures`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn measures_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    f: &RegisterFilter,
) -> QueryResult<Vec<String>> {
    super::plan::explain(c, list_measures_query(scope, f))
}

fn list_measures_query(
    scope: &Scope,
    f: &RegisterFilter,
) -> m::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<MeasureRow, super::scope::Backend>>,
> {
    let mut q = m::table
        .filter(measures_visible(scope))
        .select(MeasureRow::as_select())
        .order(m::id.asc())
        .limit(f.fetch)
        .into_boxed();
    if let Some(id) = f.enterprise_id {
        q = q.filter(m::enterprise_id.eq(id));
    }
    if let Some(id) = f.unit_id {
        q = q.filter(m::unit_id.eq(id));
    }
    if let Some(id) = f.event_id {
        q = q.filter(m::event_id.eq(id));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(m::updated_at.ge(t));
    }
    if let Some(a) = f.after_id {
        q = q.filter(m::id.gt(a));
    }
    q
}

/// How risk units are grouped for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitGrouping {
    County,
    Sector,
    /// `county:sector`.
    CountyAndSector,
}

/// Units in scope by level per group: (group key, level or `None` for unassessed, count).
pub fn units_by_level(
    c: &mut AnyConnection,
    scope: &Scope,
    grouping: UnitGrouping,
) -> QueryResult<Vec<(String, Option<RiskLevel>, i64)>> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::Text;
    match grouping {
        UnitGrouping::Sector => u::table
            .filter(units_visible(scope))
            .group_by((u::sector_code, u::risk_level))
            .select((u::sector_code, u::risk_level, count_star()))
            .load(c),
        UnitGrouping::County => u::table
            .filter(units_visible(scope))
            .group_by((u::county_code, u::risk_level))
            .select((u::county_code, u::risk_level, count_star()))
            .load(c),
        UnitGrouping::CountyAndSector => u::table
            .filter(units_visible(scope))
            .group_by((u::county_code, u::sector_code, u::risk_level))
            .select((
                sql::<Text>("risk_units.county_code || ':' || risk_units.sector_code"),
                u::risk_level,
                count_star(),
            ))
            .load(c),
    }
}

/// An enterprise with red units: how many, and its major hazard sources with and without
/// all three 包保责任人.
#[derive(Debug, Clone)]
pub struct RedEnterprise {
    pub enterprise_id: i64,
    pub red_units: i64,
    pub major_sources: i64,
    pub incomplete_sources: i64,
}

/// A page (by enterprise id) of the enterprises in scope with at least one red unit.
pub fn red_enterprises(
    c: &mut AnyConnection,
    scope: &Scope,
    after: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<RedEnterprise>> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::BigInt;
    let mut q = u::table
        .filter(units_visible(scope))
        .filter(u::risk_level.eq(RiskLevel::Red.as_str()))
        .group_by(u::enterprise_id)
        .select((u::enterprise_id, count_star()))
        .order(u::enterprise_id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(u::enterprise_id.gt(a));
    }
    let red: Vec<(i64, i64)> = q.load(c)?;
    let ids: Vec<i64> = red.iter().map(|r| r.0).collect();
    let sources: std::collections::HashMap<i64, (i64, i64)> = u::table
        .filter(u::enterprise_id.eq_any(&ids))
        .filter(u::major_hazard_source.eq(true))
        .group_by(u::enterprise_id)
        .select((
            u::enterprise_id,
            count_star(),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN risk_units.principal_person IS NULL \
                 OR risk_units.technical_person IS NULL OR risk_units.operating_person IS NULL \
                 THEN 1 ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load::<(i64, i64, i64)>(c)?
        .into_iter()
        .map(|(e, n, bad)| (e, (n, bad)))
        .collect();
    Ok(red
        .into_iter()
        .map(|(enterprise_id, red_units)| {
            let (major_sources, incomplete_sources) =
                sources.get(&enterprise_id).copied().unwrap_or((0, 0));
            RedEnterprise {
                enterprise_id,
                red_units,
                major_sources,
                incomplete_sources,
            }
        })
        .collect())
}

/// Non-void hazards in scope discovered in [`from`, `to`] by origin — `inspection` (found by a
/// check), `public_report` or `other` — with how many are still open: (origin, found, open).
pub fn hazards_by_origin(
    c: &mut AnyConnection,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, i64, i64)>> {
    use super::schema::hazards as h;
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::{BigInt, Text};
    let origin = "CASE WHEN hazards.check_record_id IS NOT NULL THEN 'inspection' \
                  WHEN hazards.source = 'public_report' THEN 'public_report' ELSE 'other' END";
    h::table
        .filter(super::scope::hazards_visible(scope))
        .filter(h::status.ne("void"))
        .filter(h::discovered_on.ge(from))
        .filter(h::discovered_on.le(to))
        .group_by(sql::<Text>(origin))
        .select((
            sql::<Text>(origin),
            count_star(),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN hazards.status <> 'closed' THEN 1 ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load(c)
}

/// The UUIDs of units and of events by id, in one query each (the national exchange).
pub fn unit_uuids(
    c: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    Ok(u::table
        .filter(u::id.eq_any(ids))
        .select((u::id, u::uuid))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}

pub fn event_uuids(
    c: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    Ok(ev::table
        .filter(ev::id.eq_any(ids))
        .select((ev::id, ev::uuid))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}

/// Measures by id, in one query.
pub fn measures_by_id(
    c: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, MeasureRow>> {
    Ok(m::table
        .filter(m::id.eq_any(ids))
        .select(MeasureRow::as_select())
        .load::<MeasureRow>(c)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}
