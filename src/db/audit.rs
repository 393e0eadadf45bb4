//! The append-only audit log. Every write calls [`record`] inside its own transaction, so an
//! event exists exactly when the change does.

use diesel::prelude::*;
use serde_json::{json, Map, Value};

use super::schema::audit_events as ae;
use super::AnyConnection;
use crate::auth::Principal;
use crate::domain::jurisdiction::Reach;

/// Who is writing, and under which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            account_id: None,
            request_id: None,
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        Actor {
            account_id: Some(p.account_id),
            request_id: Some(p.request_id.clone()).filter(|r| !r.is_empty()),
        }
    }
}

/// Fields that change on every write and say nothing by themselves.
const NOISE: &[&str] = &["updated_at", "version"];

/// `{field: {"before": …, "after": …}}` for every field that differs.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys()) {
        if NOISE.contains(&key.as_str()) || out.contains_key(key) {
            continue;
        }
        let (bv, av) = (
            b.get(key).unwrap_or(&Value::Null),
            a.get(key).unwrap_or(&Value::Null),
        );
        if bv != av {
            out.insert(key.clone(), json!({"before": bv, "after": av}));
        }
    }
    Value::Object(out)
}

pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    changes: &Value,
) -> QueryResult<()> {
    let event = Event {
        at: super::now(),
        actor_id: actor.account_id,
        action,
        entity_type,
        entity_id,
        changes: changes.to_string(),
        request_id: actor.request_id.as_deref(),
    };
    if record_at_entity(conn, &event)? {
        return Ok(());
    }
    let place = place_of_account(conn, &event)?;
    diesel::insert_into(ae::table)
        .values((
            ae::jurisdiction_path.eq(place.as_ref().map(|p| p.path.clone())),
            ae::city_code.eq(place.as_ref().map(|p| p.city.clone())),
            ae::county_code.eq(place.as_ref().map(|p| p.county.clone())),
            ae::jurisdiction_code.eq(place.map(|p| p.code)),
            ae::at.eq(event.at),
            ae::actor_id.eq(event.actor_id),
            ae::action.eq(event.action),
            ae::entity_type.eq(event.entity_type),
            ae::entity_id.eq(event.entity_id),
            ae::changes.eq(&event.changes),
            ae::request_id.eq(event.request_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// An audit event's own columns (its place comes from its entity).
struct Event<'a> {
    at: chrono::NaiveDateTime,
    actor_id: Option<i64>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    changes: String,
    request_id: Option<&'a str>,
}

diesel::define_sql_function! {
    /// `COALESCE` of a jurisdiction's city or county-level column and its own code (a city or
    /// county-level unit is its own).
    #[sql_name = "COALESCE"]
    fn or_own_code(column: diesel::sql_types::Nullable<diesel::sql_types::Text>, code: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Records the event of an entity that names its jurisdiction in a column, in one statement:
/// `INSERT … SELECT` from the row of that jurisdiction (its path, city and county-level unit),
/// so a write pays one round trip for its audit event. False for other entities (and for an
/// entity not found, which has no place).
fn record_at_entity(conn: &mut AnyConnection, event: &Event<'_>) -> QueryResult<bool> {
    use super::schema::jurisdictions as j;
    use super::schema::{
        enterprises as e, hazards as h, list_submissions as ls, listings as l, measure_items as mi,
        problem_items as pi, reminders as r,
    };
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    let Ok(id) = event.entity_id.parse::<i64>() else {
        return Ok(false);
    };
    macro_rules! insert_via {
        ($code:expr) => {
            diesel::insert_into(ae::table)
                .values(
                    j::table
                        .filter(j::code.nullable().eq($code.single_value()))
                        .select((
                            j::path.nullable(),
                            or_own_code(j::city_code, j::code).nullable(),
                            or_own_code(j::county_code, j::code).nullable(),
                            j::code.nullable(),
                            event.at.into_sql::<Timestamp>(),
                            event.actor_id.into_sql::<Nullable<BigInt>>(),
                            event.action.into_sql::<Text>(),
                            event.entity_type.into_sql::<Text>(),
                            event.entity_id.into_sql::<Text>(),
                            event.changes.as_str().into_sql::<Text>(),
                            event.request_id.into_sql::<Nullable<Text>>(),
                        )),
                )
                .into_columns((
                    ae::jurisdiction_path,
                    ae::city_code,
                    ae::county_code,
                    ae::jurisdiction_code,
                    ae::at,
                    ae::actor_id,
                    ae::action,
                    ae::entity_type,
                    ae::entity_id,
                    ae::changes,
                    ae::request_id,
                ))
                .execute(conn)?
        };
    }
    let inserted = match event.entity_type {
        "hazard" => insert_via!(h::table.find(id).select(h::jurisdiction_code)),
        "enterprise" => insert_via!(e::table.find(id).select(e::jurisdiction_code)),
        "listing" => insert_via!(l::table.find(id).select(l::jurisdiction_code)),
        "problem_item" => insert_via!(pi::table.find(id).select(pi::owner_jurisdiction_code)),
        "measure_item" => insert_via!(mi::table.find(id).select(mi::owner_jurisdiction_code)),
        "list_submission" => insert_via!(ls::table.find(id).select(ls::owner_jurisdiction_code)),
        "reminder" => insert_via!(r::table.find(id).select(r::jurisdiction_code)),
        _ => 0,
    };
    Ok(inserted == 1)
}

/// Where an account belongs: the jurisdiction it is bound to, or its enterprise's.
struct Place {
    code: String,
    path: String,
    city: String,
    county: String,
}

/// The place of an account's event (`None` for every other entity that gets here: reference
/// data and the like belong to no jurisdiction).
fn place_of_account(conn: &mut AnyConnection, event: &Event<'_>) -> QueryResult<Option<Place>> {
    use super::schema::jurisdictions as j;
    use super::schema::{accounts as a, enterprises as e};
    let (Ok(id), "account") = (event.entity_id.parse::<i64>(), event.entity_type) else {
        return Ok(None);
    };
    let binding: Option<(Option<String>, Option<i64>)> = a::table
        .find(id)
        .select((a::jurisdiction_code, a::enterprise_id))
        .first(conn)
        .optional()?;
    let code = match binding {
        Some((Some(code), _)) => Some(code),
        Some((None, Some(enterprise))) => e::table
            .find(enterprise)
            .select(e::jurisdiction_code)
            .first::<String>(conn)
            .optional()?,
        _ => None,
    };
    let Some(code) = code else {
        return Ok(None);
    };
    let row: Option<(String, String, Option<String>, Option<String>)> = j::table
        .find(code)
        .select((j::code, j::path, j::city_code, j::county_code))
        .first(conn)
        .optional()?;
    Ok(row.map(|(code, path, city, county)| Place {
        city: city.unwrap_or_else(|| code.clone()),
        county: county.unwrap_or_else(|| code.clone()),
        path,
        code,
    }))
}

fn json_of<T: serde::Serialize>(v: &T) -> QueryResult<Value> {
    serde_json::to_value(v).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// Records the creation of an entity: every field of its representation as `after`.
pub fn created<T: serde::Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    entity_type: &str,
    entity_id: i64,
    after: &T,
) -> QueryResult<()> {
    let changes = changes(None, Some(&json_of(after)?));
    record(
        conn,
        actor,
        "create",
        entity_type,
        &entity_id.to_string(),
        &changes,
    )
}

/// Records an update as the fields whose representation differs (plus `extra` entries, such as
/// a redacted password change). An update that changes nothing is not recorded.
pub fn updated<T: serde::Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    entity_type: &str,
    entity_id: i64,
    before: &T,
    after: &T,
    extra: Option<Value>,
) -> QueryResult<()> {
    let mut changes = changes(Some(&json_of(before)?), Some(&json_of(after)?));
    if let (Some(c), Some(Value::Object(e))) = (changes.as_object_mut(), extra) {
        c.extend(e);
    }
    if changes.as_object().is_some_and(|c| c.is_empty()) {
        return Ok(());
    }
    record(
        conn,
        actor,
        "update",
        entity_type,
        &entity_id.to_string(),
        &changes,
    )
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = ae)]
pub struct AuditRow {
    pub seq: i64,
    pub at: chrono::NaiveDateTime,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub changes: super::text::StoredJson<Value>,
    pub request_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    /// Only events of entities at or below this jurisdiction, and those of no jurisdiction
    /// (reference data).
    pub within: Option<Reach>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<i64>,
    pub since: Option<chrono::NaiveDateTime>,
    pub after_seq: Option<i64>,
    /// Rows to read: the page size plus one (`Paging::fetch`).
    pub fetch: i64,
}

/// A page of the log. Within a reach, the events of the reach and those of no jurisdiction are
/// read by two queries, each served by its `(column, seq)` index in order, and merged: an `OR`
/// of the two would walk the whole log.
pub fn list(conn: &mut AnyConnection, f: &AuditFilter) -> QueryResult<Vec<AuditRow>> {
    let Some(reach) = &f.within else {
        return page(f, None).load(conn);
    };
    let mut rows: Vec<AuditRow> = page(f, Some(Some(reach))).load(conn)?;
    rows.extend(page(f, Some(None)).load::<AuditRow>(conn)?);
    rows.sort_by_key(|r| r.seq);
    rows.truncate(usize::try_from(f.fetch).unwrap_or(0));
    Ok(rows)
}

type AuditQuery = ae::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<AuditRow, super::scope::Backend>>,
>;

/// The filtered page: of everything (`None`), of one reach (`Some(Some(..))`) or of the events
/// of no jurisdiction (`Some(None)`).
fn page(f: &AuditFilter, part: Option<Option<&Reach>>) -> AuditQuery {
    let mut q = ae::table.select(AuditRow::as_select()).into_boxed();
    match part {
        None => {}
        Some(Some(reach)) => {
            q = q.filter(super::scope::within!(
                reach,
                ae::city_code.assume_not_null(),
                ae::county_code.assume_not_null(),
                ae::jurisdiction_code.assume_not_null()
            ))
        }
        Some(None) => q = q.filter(ae::jurisdiction_code.is_null()),
    }
    if let Some(t) = &f.entity_type {
        q = q.filter(ae::entity_type.eq(t.clone()));
    }
    if let Some(id) = &f.entity_id {
        q = q.filter(ae::entity_id.eq(id.clone()));
    }
    if let Some(a) = f.actor_id {
        q = q.filter(ae::actor_id.eq(a));
    }
    if let Some(s) = f.since {
        q = q.filter(ae::at.ge(s));
    }
    if let Some(after) = f.after_seq {
        q = q.filter(ae::seq.gt(after));
    }
    q.order(ae::seq.asc()).limit(f.fetch)
}

/// The plans of the page queries (`db::plan`).
pub fn list_plan(conn: &mut AnyConnection, f: &AuditFilter) -> QueryResult<Vec<String>> {
    let mut plan = Vec::new();
    match &f.within {
        None => plan.extend(super::plan::explain(conn, page(f, None))?),
        Some(reach) => {
            plan.extend(super::plan::explain(conn, page(f, Some(Some(reach))))?);
            plan.extend(super::plan::explain(conn, page(f, Some(None)))?);
        }
    }
    Ok(plan)
}
