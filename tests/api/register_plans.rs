//! The lists of the risk register, the inspections, the quarterly reports and the public
//! reports keep an index that serves them at every scope, on both databases (as
//! `plans.rs` checks the hazard, enterprise, listing, item, feed and audit lists).
//!
//! Thousands of rows of each table are loaded with SQL, spread unevenly over the counties, a
//! tenth in a second city, a twentieth in a township and none in the empty zone; then the plan
//! of the exact query each list endpoint runs (`db::*::*_plan`) is read for each scope. A full
//! scan of the table, or a walk of its primary key, fails the test.

use std::time::Duration;

use hazard_registry::db::inspections;
use hazard_registry::db::public_reports::{self, PublicReportFilter};
use hazard_registry::db::quarterly::{self, ReportListFilter};
use hazard_registry::db::risk::{self, RegisterFilter};
use hazard_registry::db::scope::Scope;

use crate::plans::{enterprises, full_scan, led_by, scopes};
use crate::support::{Backend, TestApp};

const ROWS: u32 = 20_000;

/// `SELECT … FROM <series of i>` for this database, and a `CASE` that spreads `i` over the
/// places: (jurisdiction, county-level unit, city).
fn series(app: &TestApp) -> (String, String, String, String) {
    let from = match app.backend {
        Backend::Postgres => format!("FROM generate_series(1, {ROWS}) AS i"),
        Backend::Sqlite => format!(
            "FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS}) \
             SELECT i FROM s)"
        ),
    };
    let county = "CASE WHEN i % 10 < 4 THEN '431302' WHEN i % 10 < 5 THEN '431321' \
                  WHEN i % 10 = 5 THEN '431202' WHEN i % 10 < 8 THEN '431381' \
                  WHEN i % 10 < 9 THEN '431382' ELSE '431300-JKQ' END";
    let jurisdiction = format!("CASE WHEN i % 20 = 0 THEN '431302001' ELSE {county} END");
    let city = "CASE WHEN i % 10 = 5 THEN '431200' ELSE '431300' END".to_string();
    (from, jurisdiction, county.to_string(), city)
}

fn load(app: &TestApp, enterprise: i64, small: i64, account: i64) {
    let (from, jurisdiction, county, city) = series(app);
    let owner = format!("CASE WHEN i % 1000 = 0 THEN {small} ELSE {enterprise} END");
    let sector = "CASE WHEN i % 3 = 0 THEN 'construction' WHEN i % 3 = 1 THEN 'hazardous_chemicals' ELSE 'gas' END";
    let places = format!("{city}, {county}, {jurisdiction}, {sector}");
    let now = "CURRENT_TIMESTAMP";
    let today = "CURRENT_DATE";
    // Ids follow `i`: each table starts empty.
    app.sql(&format!(
        "INSERT INTO risk_units (uuid, enterprise_id, city_code, county_code, jurisdiction_code, \
         sector_code, name, major_hazard_source, created_at, updated_at) \
         SELECT 'u-' || i, {owner}, {places}, '单元', false, {now}, {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO risk_events (uuid, unit_id, enterprise_id, city_code, county_code, \
         jurisdiction_code, sector_code, name, method, l, s, score, level, assessed_by, \
         assessed_on, created_at, updated_at) \
         SELECT 'e-' || i, i, {owner}, {places}, '事件', 'ls', 2, 2, 4, 'blue', {account}, \
         {today}, {now}, {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO control_measures (uuid, event_id, unit_id, enterprise_id, city_code, \
         county_code, jurisdiction_code, sector_code, description, classification, tier, \
         created_at, updated_at) \
         SELECT 'm-' || i, i, i, {owner}, {places}, '措施', 'engineering', 'company', {now}, \
         {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO inspection_tasks (uuid, enterprise_id, city_code, county_code, \
         jurisdiction_code, sector_code, name, assignee_post, cycle_unit, cycle_every, \
         working_days_only, starts_on, created_at, updated_at) \
         SELECT 't-' || i, {owner}, {places}, '巡检', '班长', 'day', 1, false, {today}, {now}, \
         {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO inspection_slots (task_id, seq, enterprise_id, city_code, county_code, \
         jurisdiction_code, sector_code, starts_at, ends_at) \
         SELECT i, 0, {owner}, {places}, {now}, {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO check_records (uuid, slot_id, task_id, enterprise_id, city_code, \
         county_code, jurisdiction_code, sector_code, checked_by, checked_at, failed, \
         created_at, updated_at) \
         SELECT 'r-' || i, i, i, {owner}, {places}, {account}, {now}, 0, {now}, {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO quarterly_reports (enterprise_id, year, quarter, city_code, county_code, \
         jurisdiction_code, sector_code, signed_by, found, found_major, rectified, \
         rectified_major, overdue, funds_10k_yuan, earlier_open, due_on, late, content, \
         content_sha256, submitted_by, submitted_at, updated_at) \
         SELECT {owner}, 1000 + i, 1, {places}, '张伟', 0, 0, 0, 0, 0, 0, 0, {today}, false, \
         '{{}}', 'x', {account}, {now}, {now} {from}"
    ));
    app.sql(&format!(
        "INSERT INTO public_reports (tracking_code, secret_sha256, status, description, \
         city_code, county_code, jurisdiction_code, created_at, updated_at) \
         SELECT 'T' || i, 'x', 'received', '举报', {city}, {county}, {jurisdiction}, {now}, \
         {now} {from}"
    ));
    if app.backend == Backend::Postgres {
        app.sql("ANALYZE");
    }
}

/// The plan fails if it reads `table` whole, or is led by none of its scope indexes. On
/// SQLite, with statistics, the city (nine rows in ten) may be read in id order, stopping at
/// the page's end: a scan with no sort is no full read there (as `plans.rs` allows for the
/// audit log), and only there.
fn assert_served(app: &TestApp, who: &str, list: &str, table: &str, plan: &[String]) {
    let names = indexes(table);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let in_page_order = app.backend == Backend::Sqlite
        && who == "city"
        && plan.len() == 1
        && plan[0].trim() == format!("SCAN {table}");
    assert!(
        in_page_order || (!full_scan(app.backend, table, plan) && led_by(plan, &names)),
        "{list}, {who} ({:?}): the plan reads {table} without a scope index:\n{}",
        app.backend,
        plan.join("\n")
    );
}

fn indexes(table: &str) -> Vec<String> {
    ["city", "county", "jurisdiction", "enterprise"]
        .iter()
        .map(|s| format!("{table}_{s}"))
        .collect()
}

async fn check(app: &TestApp) {
    let (enterprise, small) = enterprises(app).await;
    let account: i64 = app.sql_texts("SELECT CAST(MIN(id) AS TEXT) AS t FROM accounts")[0]
        .parse()
        .expect("an account id");
    load(app, enterprise, small, account);
    let scopes = scopes(small);
    let register = RegisterFilter {
        fetch: 51,
        ..RegisterFilter::default()
    };
    let db =
        hazard_registry::db::Db::new(&app.database_url, 1, Duration::from_secs(10)).expect("pool");
    let mut conn = db.pool.get().expect("connection");
    let c = &mut conn;
    for (who, scope) in &scopes {
        type Plan = Vec<String>;
        let lists: [(&str, &str, Plan); 7] = [
            (
                "risk units",
                "risk_units",
                risk::units_plan(c, scope, &register).expect("plan"),
            ),
            (
                "risk events",
                "risk_events",
                risk::events_plan(c, scope, &register).expect("plan"),
            ),
            (
                "control measures",
                "control_measures",
                risk::measures_plan(c, scope, &register).expect("plan"),
            ),
            (
                "inspection tasks",
                "inspection_tasks",
                inspections::tasks_plan(c, scope, None, None, None, 51).expect("plan"),
            ),
            (
                "check records",
                "check_records",
                inspections::records_plan(c, scope, None, None, None, 51).expect("plan"),
            ),
            (
                "quarterly reports",
                "quarterly_reports",
                quarterly::list_plan(
                    c,
                    scope,
                    &ReportListFilter {
                        enterprise_id: None,
                        year: None,
                        quarter: None,
                        county_code: None,
                        updated_since: None,
                        after_id: None,
                        fetch: 51,
                    },
                )
                .expect("plan"),
            ),
            ("public reports", "public_reports", {
                // Regulators only: the enterprise scope has no public reports to read.
                let Scope::Subtree { reach, .. } = scope else {
                    continue;
                };
                public_reports::list_plan(
                    c,
                    reach,
                    &PublicReportFilter {
                        status: None,
                        jurisdiction: None,
                        updated_since: None,
                        after_id: None,
                        fetch: 51,
                    },
                )
                .expect("plan")
            }),
        ];
        for (list, table, plan) in &lists {
            assert_served(app, who, list, table, plan);
        }
    }
}

#[actix_web::test]
async fn every_register_list_has_a_serving_index_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    check(&app).await;
    app.stop().await;
}

#[actix_web::test]
async fn every_register_list_has_a_serving_index_on_postgres() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    check(&app).await;
    app.stop().await;
}
