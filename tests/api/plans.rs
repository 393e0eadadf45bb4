//! The list queries keep an index that serves them at every scope, on both databases.
//!
//! Thousands of hazards, enterprises, listings, list items, submissions and audit events are loaded with SQL (uneven over
//! the counties, a tenth in a second city, one zone left empty, few matches for the search
//! term), then the plan of the exact query each list endpoint runs (`db::*::list_plan`) is read
//! for each scope and shape. A full scan of the table, or a walk of its primary key (the same
//! thing, in id order), fails the test: each shape must be led by the index of its scope
//! column, or by the search index.

use std::time::Duration;

use chrono::NaiveDate;
use hazard_registry::db::audit::AuditFilter;
use hazard_registry::db::enterprises::EnterpriseFilter;
use hazard_registry::db::events::{self, Reader};
use hazard_registry::db::hazards::{list_plan, HazardCursor, HazardListFilter, HazardSort};
use hazard_registry::db::listings::ListingFilter;
use hazard_registry::db::lists::{self, ItemFilter, SubmissionFilter};
use hazard_registry::db::reminders::ReminderFilter;
use hazard_registry::db::scope::Scope;
use hazard_registry::db::stats::{hazards_plan, HazardGrouping};
use hazard_registry::domain::event::{Audience, EventType, Position};
use hazard_registry::domain::jurisdiction::Reach;
use hazard_registry::domain::reminder::ReminderKind;

use crate::support::{uscc, Backend, TestApp};

const ROWS: u32 = 30_000;

fn load(app: &TestApp, enterprise: i64, small_enterprise: i64) {
    // County-level units in uneven shares, a township, and nothing in 431300-WBXQ.
    let pick = |i: &str| {
        format!(
            "CASE WHEN {i} % 10 < 4 THEN '431302' WHEN {i} % 10 < 6 THEN '431321' \
             WHEN {i} % 10 < 7 THEN '431322' WHEN {i} % 10 < 8 THEN '431381' \
             WHEN {i} % 10 < 9 THEN '431382' ELSE '431300-JKQ' END"
        )
    };
    let county = pick("i");
    // One row in ten belongs to the other city (its county 431202), so no city is the whole
    // table.
    let other_city = "i % 10 = 5";
    let status = "CASE WHEN i % 10 < 6 THEN 'closed' WHEN i % 10 < 8 THEN 'rectifying' \
                  WHEN i % 10 < 9 THEN 'reported' ELSE 'pending_acceptance' END";
    let sector = "CASE WHEN i % 3 = 0 THEN 'construction' WHEN i % 3 = 1 THEN 'hazardous_chemicals' ELSE 'gas' END";
    let title = "CASE WHEN i % 997 = 0 THEN '可燃气体报警器失效' ELSE '配电室未配置绝缘垫' END";
    let (series, day, deadline) = match app.backend {
        Backend::Postgres => (
            format!("FROM generate_series(1, {ROWS}) AS i"),
            "DATE '2025-01-01' + (i % 700)".to_string(),
            "DATE '2025-01-20' + (i % 700)".to_string(),
        ),
        Backend::Sqlite => (
            format!(
                "FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS}) SELECT i FROM s)"
            ),
            "date('2025-01-01', '+' || (i % 700) || ' days')".to_string(),
            "date('2025-01-20', '+' || (i % 700) || ' days')".to_string(),
        ),
    };
    app.sql(&format!(
        "INSERT INTO hazards (code, enterprise_id, jurisdiction_code, county_code, city_code, \
         sector_code, title, description, level, source, discovered_on, deadline_key, \
         rectification_deadline, status, listed, reported_by, created_at, updated_at, version) \
         SELECT 'PLAN-' || i, CASE WHEN i % 1000 = 0 THEN {small_enterprise} ELSE {enterprise} END, \
         CASE WHEN {other_city} THEN '431202' WHEN i % 20 = 0 THEN '431302001' ELSE {county} END, \
         CASE WHEN {other_city} THEN '431202' ELSE {county} END, \
         CASE WHEN {other_city} THEN '431200' ELSE '431300' END, {sector}, \
         {title}, '高压柜前未铺设绝缘垫', 'general', 'self_inspection', {day}, {deadline}, \
         {deadline}, {status}, false, (SELECT MIN(id) FROM accounts), \
         CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}"
    ));
    // Enterprises, listings of every fifth hazard, and audit events, placed like the hazards.
    let e_county = pick("i");
    app.sql(&format!(
        "INSERT INTO enterprises (uscc, name, jurisdiction_code, county_code, city_code, sector_code, \
         employees, annual_revenue_10k_yuan, status, created_at, updated_at, version) \
         SELECT 'PLAN' || i, '企业' || i, \
         CASE WHEN {other_city} THEN '431202' WHEN i % 20 = 0 THEN '431302001' ELSE {e_county} END, \
         CASE WHEN {other_city} THEN '431202' ELSE {e_county} END, \
         CASE WHEN {other_city} THEN '431200' ELSE '431300' END, {sector}, 10, 100, 'operating', \
         CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}"
    ));
    app.sql(
        "INSERT INTO listings (hazard_id, level, authority_code, notice_no, requirements, \
         responsible_unit, deadline, status, enterprise_id, jurisdiction_code, county_code, \
         city_code, sector_code, listed_by, listed_at, created_at, updated_at, version) \
         SELECT id, 'county', county_code, 'N' || id, '整改', '企业', deadline_key, 'listed', \
         enterprise_id, jurisdiction_code, county_code, city_code, sector_code, reported_by, \
         created_at, created_at, created_at, 1 FROM hazards WHERE id % 5 = 0",
    );
    app.sql(
        "INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, changes, \
         jurisdiction_path, city_code, county_code, jurisdiction_code) \
         SELECT h.created_at, h.reported_by, 'created', 'hazard', CAST(h.id AS TEXT), '{}', \
         j.path, h.city_code, h.county_code, h.jurisdiction_code \
         FROM hazards h JOIN jurisdictions j ON j.code = h.jurisdiction_code",
    );
    // The two lists and their submissions, owned by the counties in the same uneven shares
    // (and the other city), their scope columns as the server writes them.
    let owner = format!("CASE WHEN {other_city} THEN '431202' ELSE {county} END");
    let owner_city = format!("CASE WHEN {other_city} THEN '431200' ELSE '431300' END");
    app.sql(&format!(
        "INSERT INTO problem_items (owner_jurisdiction_code, owner_city_code, owner_county_code, \
         title, description, responsible_unit, deadline, status, created_at, updated_at, version) \
         SELECT {owner}, {owner_city}, {owner}, '问题' || i, '描述', '单位', {day}, 'open', \
         CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}"
    ));
    app.sql(&format!(
        "INSERT INTO measure_items (owner_jurisdiction_code, owner_city_code, owner_county_code, \
         title, kind, lead_unit, target_date, status, created_at, updated_at, version) \
         SELECT {owner}, {owner_city}, {owner}, '措施' || i, 'mechanism', '单位', {day}, \
         'planned', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}"
    ));
    app.sql(&format!(
        "INSERT INTO list_submissions (owner_jurisdiction_code, owner_city_code, \
         owner_county_code, period, status, content, content_sha256, submitted_by, \
         submitted_at, updated_at, version) \
         SELECT {owner}, {owner_city}, {owner}, 'P' || i, 'submitted', '{{}}', 'x', \
         (SELECT MIN(id) FROM accounts), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 {series}"
    ));
    // The change feed: an event per hazard, placed like it.
    app.sql(
        "INSERT INTO events (type, occurred_at, actor_id, subject_type, subject_id, audience, \
         city_code, county_code, jurisdiction_code, enterprise_id, sector_code, data) \
         SELECT 'hazard.created', created_at, reported_by, 'hazard', id, 'regulated', city_code, \
         county_code, jurisdiction_code, enterprise_id, sector_code, '{}' FROM hazards",
    );
    // Reminders: one per open hazard, of every kind, placed like it.
    app.sql(
        "INSERT INTO reminders (kind, subject_type, subject_id, subject_code, deadline, fire_on, \
         city_code, county_code, jurisdiction_code, enterprise_id, sector_code, created_at, \
         updated_at) \
         SELECT CASE WHEN id % 3 = 0 THEN 'due_soon' WHEN id % 3 = 1 THEN 'overdue' \
         ELSE 'escalated' END, 'hazard', id, code, deadline_key, deadline_key, city_code, \
         county_code, jurisdiction_code, enterprise_id, sector_code, created_at, created_at \
         FROM hazards WHERE status <> 'closed'",
    );
    // PostgreSQL's autovacuum keeps statistics; the server never runs ANALYZE on SQLite, whose
    // planner then ranks indexes by their equality columns.
    if app.backend == Backend::Postgres {
        app.sql("ANALYZE");
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

fn filter(sort: HazardSort) -> HazardListFilter {
    HazardListFilter {
        statuses: Vec::new(),
        level: None,
        source: None,
        enterprise_id: None,
        jurisdiction: None,
        sector_code: None,
        overdue: None,
        today: today(),
        deadline_before: None,
        deadline_after: None,
        listed: None,
        q: None,
        updated_since: None,
        sort,
        after: None,
        fetch: 51,
    }
}

pub(crate) fn subtree(path: &str, reach: Reach, sectors: Option<Vec<&str>>) -> Scope {
    Scope::Subtree {
        path: path.to_string(),
        reach,
        sectors: sectors.map(|s| s.into_iter().map(str::to_string).collect()),
    }
}

/// Whether a plan reads `table` whole: a scan, or its primary key walked in id order (a
/// primary-key lookup of one id is fine).
pub(crate) fn full_scan(backend: Backend, table: &str, plan: &[String]) -> bool {
    let lookup = plan.iter().any(|l| l.contains("Index Cond: (id = "));
    plan.iter().any(|line| match backend {
        Backend::Postgres => {
            line.contains(&format!("Seq Scan on {table}"))
                || (line.contains(&format!("using {table}_pkey")) && !lookup)
        }
        // With statistics (`PRAGMA optimize`), SQLite reads the audit log of a reach that
        // holds most of it in sequence order and stops at the page's end, instead of an index
        // lookup per event: a scan in the page's order, with no sort, is no full read.
        Backend::Sqlite => {
            line.trim_start().starts_with(&format!("SCAN {table}"))
                && !line.contains("VIRTUAL TABLE")
                && (table != "audit_events" || plan.iter().any(|l| l.contains("TEMP B-TREE")))
        }
    })
}

/// Whether a plan is led by one of `indexes` (name prefixes).
pub(crate) fn led_by(plan: &[String], indexes: &[&str]) -> bool {
    plan.iter()
        .any(|line| indexes.iter().any(|index| line.contains(index)))
}

const HAZARD_INDEXES: &[&str] = &[
    "hazards_city_",
    "hazards_county_",
    "hazards_jurisdiction_",
    "hazards_enterprise_",
    "hazards_search",
    "hazards_code_prefix",
];
const OVERDUE_INDEXES: &[&str] = &[
    "hazards_city_overdue",
    "hazards_county_overdue",
    "hazards_jurisdiction_overdue",
];
const OVERDUE_OR_STATUS_INDEXES: &[&str] = &[
    "hazards_city_overdue",
    "hazards_county_overdue",
    "hazards_jurisdiction_overdue",
    "hazards_city_status",
    "hazards_county_status",
    "hazards_jurisdiction_status",
];
const ENTERPRISE_INDEXES: &[&str] = &[
    "enterprises_city_id",
    "enterprises_county_id",
    "enterprises_jurisdiction_id",
    "enterprises_pkey",
    "INTEGER PRIMARY KEY (rowid=?)",
];
const LISTING_INDEXES: &[&str] = &[
    "listings_city_id",
    "listings_county_id",
    "listings_jurisdiction_id",
    "listings_enterprise",
];
const EVENT_INDEXES: &[&str] = &[
    "events_city",
    "events_county",
    "events_jurisdiction",
    "events_enterprise",
    "events_type",
];
const REMINDER_INDEXES: &[&str] = &[
    "reminders_city",
    "reminders_county",
    "reminders_jurisdiction",
    "reminders_enterprise",
];
const AUDIT_INDEXES: &[&str] = &[
    "audit_events_city",
    "audit_events_county",
    "audit_events_jurisdiction",
];

/// The scopes every list is checked at: city, county, the empty zone, a township, a
/// department (two sectors of a county) and an enterprise (`small`, in the township).
pub(crate) fn scopes(small: i64) -> [(&'static str, Scope); 6] {
    [
        (
            "city",
            subtree("/431300/", Reach::City("431300".into()), None),
        ),
        (
            "county",
            subtree("/431300/431302/", Reach::CountyLevel("431302".into()), None),
        ),
        (
            "empty zone",
            subtree(
                "/431300/431300-WBXQ/",
                Reach::CountyLevel("431300-WBXQ".into()),
                None,
            ),
        ),
        (
            "township",
            subtree(
                "/431300/431302/431302001/",
                Reach::Exact("431302001".into()),
                None,
            ),
        ),
        (
            "department",
            subtree(
                "/431300/431302/",
                Reach::CountyLevel("431302".into()),
                Some(vec!["construction", "gas"]),
            ),
        ),
        ("enterprise", Scope::Enterprise(small)),
    ]
}

/// The two enterprises the loaded rows belong to: the busy one in 431302, and a small one in
/// the township 431302001 (the enterprise scope checked).
pub(crate) async fn enterprises(app: &TestApp) -> (i64, i64) {
    let admin = app.admin().await;
    let enterprise = app
        .enterprise(&admin, &uscc(1), "431302", "hazardous_chemicals")
        .await;
    let small = app
        .enterprise(&admin, &uscc(2), "431302001", "construction")
        .await;
    (enterprise, small)
}

async fn check(app: &TestApp) {
    let (enterprise, small) = enterprises(app).await;
    load(app, enterprise, small);
    let scopes = scopes(small);
    let mut shapes: Vec<(&str, HazardListFilter)> = vec![
        ("default", filter(HazardSort::Id)),
        ("status", {
            let mut f = filter(HazardSort::Id);
            f.statuses = vec!["rectifying".into()];
            f
        }),
        ("overdue by deadline", {
            let mut f = filter(HazardSort::DeadlineAsc);
            f.overdue = Some(true);
            f
        }),
        ("overdue by deadline, a later page", {
            let mut f = filter(HazardSort::DeadlineAsc);
            f.overdue = Some(true);
            f.after = Some(HazardCursor::Deadline(
                NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
                12_000,
            ));
            f
        }),
        ("last changed", filter(HazardSort::UpdatedDesc)),
        ("search", {
            let mut f = filter(HazardSort::Id);
            f.q = Some("气体报警".into());
            f
        }),
    ];
    if app.backend == Backend::Postgres {
        // Two characters: the bigram index serves it (SQLite's trigrams need three).
        shapes.push(("two-character search", {
            let mut f = filter(HazardSort::Id);
            f.q = Some("报警".into());
            f
        }));
        // A code prefix: a range on the code (or the scope's id order), never the text index
        // handing back every code.
        shapes.push(("code prefix search", {
            let mut f = filter(HazardSort::Id);
            f.q = Some("431302-2026".into());
            f
        }));
    }
    let db =
        hazard_registry::db::Db::new(&app.database_url, 1, Duration::from_secs(10)).expect("pool");
    let mut conn = db.pool.get().expect("connection");
    let mut failures = Vec::new();
    let mut judge = |what: String, table: &str, indexes: &[&str], plan: Vec<String>| {
        if full_scan(app.backend, table, &plan) || !led_by(&plan, indexes) {
            failures.push(format!("{what}:\n  {}", plan.join("\n  ")));
        }
    };
    let rule = hazard_registry::domain::enterprise::SafetyDirectorRule {
        min_employees: 100,
        min_annual_revenue_10k_yuan: 5000.0,
        sectors: Vec::new(),
    };
    for (scope_name, scope) in &scopes {
        for (shape, f) in &shapes {
            let plan = list_plan(&mut conn, scope, f).expect("plan");
            // Overdue pages walk only the open rows past their deadline: the partial index.
            let indexes = match (shape.starts_with("overdue"), scope) {
                (true, Scope::Subtree { .. }) => OVERDUE_INDEXES,
                _ => HAZARD_INDEXES,
            };
            judge(
                format!("hazards: {scope_name} / {shape}"),
                "hazards",
                indexes,
                plan,
            );
        }
        // Statistics: the overdue count comes from the same partial index (the rest from the
        // tallies, a table of a few rows per unit, sector and month).
        for grouping in [
            HazardGrouping::Jurisdiction,
            HazardGrouping::Sector,
            HazardGrouping::Month,
        ] {
            let plan = hazards_plan(&mut conn, scope, grouping, today()).expect("plan");
            // PostgreSQL may also read the (scope, status) index as a bitmap: the overdue
            // statuses are two of its runs.
            let indexes = match scope {
                Scope::Subtree { .. } => OVERDUE_OR_STATUS_INDEXES,
                Scope::Enterprise(_) => HAZARD_INDEXES,
            };
            judge(
                format!("statistics: {scope_name} / {grouping:?}"),
                "hazards",
                indexes,
                plan,
            );
        }
        let enterprises = EnterpriseFilter {
            fetch: 51,
            ..Default::default()
        };
        let plan =
            hazard_registry::db::enterprises::list_plan(&mut conn, scope, &rule, &enterprises)
                .expect("plan");
        judge(
            format!("enterprises: {scope_name}"),
            "enterprises",
            ENTERPRISE_INDEXES,
            plan,
        );
        let listings = ListingFilter {
            level: None,
            status: None,
            overdue: None,
            today: None,
            jurisdiction: None,
            enterprise_id: None,
            updated_since: None,
            after_id: None,
            fetch: 51,
        };
        let plan =
            hazard_registry::db::listings::list_plan(&mut conn, scope, &listings).expect("plan");
        judge(
            format!("listings: {scope_name}"),
            "listings",
            LISTING_INDEXES,
            plan,
        );
        for kinds in [None, Some(vec![ReminderKind::DueSoon])] {
            let reminders = ReminderFilter {
                kinds,
                subject_type: None,
                acknowledged: None,
                updated_since: None,
                after_id: None,
                fetch: 51,
            };
            let plan = hazard_registry::db::reminders::list_plan(&mut conn, scope, &reminders)
                .expect("plan");
            // The city holds nine reminders in ten: walking them in id order, the page's
            // order, stops at the page's end (no sort), as for the audit log above.
            let in_page_order = !plan
                .iter()
                .any(|l| l.contains("Sort") || l.contains("TEMP B-TREE"));
            if *scope_name == "city" && in_page_order {
                continue;
            }
            judge(
                format!("reminders: {scope_name}"),
                "reminders",
                REMINDER_INDEXES,
                plan,
            );
        }
    }
    // The two lists and the submissions, read by regulators of every level.
    for reach in [
        Reach::City("431300".into()),
        Reach::City("431200".into()),
        Reach::CountyLevel("431302".into()),
        Reach::CountyLevel("431300-WBXQ".into()),
        Reach::Exact("431302001".into()),
    ] {
        // With statistics, SQLite reads the lists of the city that owns nine rows in ten in id
        // order, the page's order, and stops at the page's end (no sort): no full read, as for
        // the audit log above. Any other plan, or a sort, is judged like the rest.
        let most = reach == Reach::City("431300".into());
        let in_page_order = |plan: &[String]| {
            most && app.backend == Backend::Sqlite
                && plan.len() == 1
                && plan[0].trim_start().starts_with("SCAN ")
        };
        let mut judge = |what: String, table: &str, indexes: &[&str], plan: Vec<String>| {
            if !in_page_order(&plan) {
                judge(what, table, indexes, plan)
            }
        };
        let items = ItemFilter {
            fetch: 51,
            ..Default::default()
        };
        let plan = lists::list_problems_plan(&mut conn, &reach, &items).expect("plan");
        judge(
            format!("problem items: {reach:?}"),
            "problem_items",
            &["problem_items_owner"],
            plan,
        );
        let plan = lists::list_measures_plan(&mut conn, &reach, &items).expect("plan");
        judge(
            format!("measure items: {reach:?}"),
            "measure_items",
            &["measure_items_owner"],
            plan,
        );
        let submissions = SubmissionFilter {
            fetch: 51,
            ..Default::default()
        };
        let plan = lists::list_submissions_plan(&mut conn, &reach, &submissions).expect("plan");
        judge(
            format!("submissions: {reach:?}"),
            "list_submissions",
            &["list_submissions_owner"],
            plan,
        );
    }
    // The change feed, for every scope (each with what its role reads), from the start and
    // from a cursor part-way, with and without a type filter.
    for (scope_name, scope) in &scopes {
        for (audiences, role) in [
            (
                vec![Audience::Regulated, Audience::Lists, Audience::Accounts],
                "admin",
            ),
            (vec![Audience::Regulated, Audience::Lists], "officer"),
        ] {
            let reader = Reader {
                scope: scope.clone(),
                audiences,
            };
            for (from, types) in [
                (Position::default(), vec![]),
                (Position { tx: 0, id: 15_000 }, vec![]),
                (Position::default(), vec![EventType::HazardTransitioned]),
            ] {
                let plan = events::page_plan(&mut conn, &reader, from, &types, 51).expect("plan");
                judge(
                    format!(
                        "events: {scope_name} / {role} / from {} / {types:?}",
                        from.id
                    ),
                    "events",
                    EVENT_INDEXES,
                    plan,
                );
            }
        }
    }
    // The audit log, read within a city (its administrators and auditors) or a county.
    for reach in [
        Reach::City("431300".into()),
        Reach::City("431200".into()),
        Reach::CountyLevel("431300-WBXQ".into()),
    ] {
        let f = AuditFilter {
            within: Some(reach.clone()),
            fetch: 51,
            ..Default::default()
        };
        let plan = hazard_registry::db::audit::list_plan(&mut conn, &f).expect("plan");
        judge(
            format!("audit: {reach:?}"),
            "audit_events",
            AUDIT_INDEXES,
            plan,
        );
    }
    assert!(
        failures.is_empty(),
        "{} shapes without a serving index:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[actix_web::test]
async fn every_scoped_list_shape_has_a_serving_index_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    check(&app).await;
    app.stop().await;
}

#[actix_web::test]
async fn every_scoped_list_shape_has_a_serving_index_on_postgres() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    check(&app).await;
    app.stop().await;
}
