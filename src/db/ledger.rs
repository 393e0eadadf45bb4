//! What the ledger exports (`http::export`) add to the rows of a list: names for codes and
//! ids, looked up once per export or once per batch, never once per row.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{
    accounts, audit_events as ae, enterprises as e, hazards as h, jurisdictions as j,
    measure_item_problems as mip, problem_item_hazards as pih, sectors as s,
};
use super::AnyConnection;

/// The names of every jurisdiction and sector (reference data: small), read once per export.
pub struct Names {
    pub jurisdictions: HashMap<String, String>,
    pub sectors: HashMap<String, String>,
}

impl Names {
    pub fn load(conn: &mut AnyConnection) -> QueryResult<Names> {
        Ok(Names {
            jurisdictions: j::table
                .select((j::code, j::name))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect(),
            sectors: s::table
                .select((s::code, s::name))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect(),
        })
    }

    /// A jurisdiction's name, or its code if it has none.
    pub fn jurisdiction(&self, code: &str) -> String {
        self.jurisdictions
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    pub fn sector(&self, code: &str) -> String {
        self.sectors
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
}

fn unique(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Name and unified social credit code of each enterprise.
pub fn enterprises(
    conn: &mut AnyConnection,
    ids: Vec<i64>,
) -> QueryResult<HashMap<i64, (String, String)>> {
    let ids = unique(ids);
    Ok(e::table
        .filter(e::id.eq_any(&ids))
        .select((e::id, e::name, e::uscc))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, uscc)| (id, (name, uscc)))
        .collect())
}

/// Code and title of each hazard.
pub fn hazards(
    conn: &mut AnyConnection,
    ids: Vec<i64>,
) -> QueryResult<HashMap<i64, (String, String)>> {
    let ids = unique(ids);
    Ok(h::table
        .filter(h::id.eq_any(&ids))
        .select((h::id, h::code, h::title))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, title)| (id, (code, title)))
        .collect())
}

/// Who accepted each closed hazard (验收人): the display name of the account whose `accept`
/// (or delisting, which closes a listed hazard) is the hazard's latest on its timeline.
pub fn acceptors(conn: &mut AnyConnection, ids: Vec<i64>) -> QueryResult<HashMap<i64, String>> {
    let ids: Vec<String> = unique(ids).iter().map(i64::to_string).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = ae::table
        .inner_join(accounts::table.on(accounts::id.nullable().eq(ae::actor_id)))
        .filter(ae::entity_type.eq("hazard"))
        .filter(ae::entity_id.eq_any(&ids))
        .filter(ae::action.eq_any(["accept", "delist"]))
        .order(ae::seq.asc())
        .select((ae::entity_id, accounts::display_name))
        .load(conn)?;
    // In timeline order, so the latest acceptance wins.
    Ok(rows
        .into_iter()
        .filter_map(|(id, name)| id.parse().ok().map(|id| (id, name)))
        .collect())
}

/// How many hazards each problem item links.
pub fn problem_links(conn: &mut AnyConnection, ids: Vec<i64>) -> QueryResult<HashMap<i64, i64>> {
    let ids = unique(ids);
    Ok(pih::table
        .filter(pih::problem_item_id.eq_any(&ids))
        .group_by(pih::problem_item_id)
        .select((pih::problem_item_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}

/// How many problem items each measure item answers.
pub fn measure_links(conn: &mut AnyConnection, ids: Vec<i64>) -> QueryResult<HashMap<i64, i64>> {
    let ids = unique(ids);
    Ok(mip::table
        .filter(mip::measure_item_id.eq_any(&ids))
        .group_by(mip::measure_item_id)
        .select((mip::measure_item_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}
