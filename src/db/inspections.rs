//! Inspection tasks, their slots and check records (migration 000026, `domain::inspection`).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::risk::Owner;
use super::schema::{
    check_records as r, check_results as cr, control_measures as m, hazards as h,
    inspection_slots as sl, inspection_task_measures as tm, inspection_tasks as t,
};
use super::scope::{in_subtree, visible_rows, within, Backend, Scope};
use super::AnyConnection;
use crate::domain::inspection::{Cycle, CycleUnit, Period};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = t)]
pub struct TaskRow {
    pub id: i64,
    pub uuid: String,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub name: String,
    pub assignee_account_id: Option<i64>,
    pub assignee_post: Option<String>,
    pub cycle_unit: CycleUnit,
    pub cycle_every: i32,
    pub working_days_only: bool,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl TaskRow {
    pub fn cycle(&self) -> Cycle {
        Cycle {
            unit: self.cycle_unit,
            every: self.cycle_every.max(1) as u32,
            working_days_only: self.working_days_only,
        }
    }
}

pub struct NewTask<'a> {
    pub name: &'a str,
    pub assignee_account_id: Option<i64>,
    pub assignee_post: Option<&'a str>,
    pub cycle: Cycle,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

pub fn insert_task(
    c: &mut AnyConnection,
    owner: &Owner,
    n: &NewTask,
    measures: &[i64],
) -> QueryResult<TaskRow> {
    let now = super::now();
    let row: TaskRow = diesel::insert_into(t::table)
        .values((
            t::uuid.eq(uuid::Uuid::new_v4().to_string()),
            t::enterprise_id.eq(owner.enterprise_id),
            t::city_code.eq(&owner.city_code),
            t::county_code.eq(&owner.county_code),
            t::jurisdiction_code.eq(&owner.jurisdiction_code),
            t::sector_code.eq(&owner.sector_code),
            t::name.eq(n.name),
            t::assignee_account_id.eq(n.assignee_account_id),
            t::assignee_post.eq(n.assignee_post),
            t::cycle_unit.eq(n.cycle.unit.as_str()),
            t::cycle_every.eq(n.cycle.every as i32),
            t::working_days_only.eq(n.cycle.working_days_only),
            t::starts_on.eq(n.starts_on),
            t::ends_on.eq(n.ends_on),
            t::created_at.eq(now),
            t::updated_at.eq(now),
            t::version.eq(1i64),
        ))
        .get_result(c)?;
    // A handful per task: one statement each (MultiConnection has no batch insert).
    for id in measures {
        diesel::insert_into(tm::table)
            .values((tm::task_id.eq(row.id), tm::measure_id.eq(*id)))
            .execute(c)?;
    }
    Ok(row)
}

/// The measures of these tasks, in one query: task → measure ids (ascending).
pub fn measures_of(c: &mut AnyConnection, tasks: &[i64]) -> QueryResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (task, measure) in tm::table
        .filter(tm::task_id.eq_any(tasks))
        .order((tm::task_id.asc(), tm::measure_id.asc()))
        .select((tm::task_id, tm::measure_id))
        .load::<(i64, i64)>(c)?
    {
        out.entry(task).or_default().push(measure);
    }
    Ok(out)
}

/// Which of these measures belong to the enterprise: the ones found.
pub fn measures_of_enterprise(
    c: &mut AnyConnection,
    enterprise_id: i64,
    ids: &[i64],
) -> QueryResult<HashSet<i64>> {
    Ok(m::table
        .filter(m::id.eq_any(ids))
        .filter(m::enterprise_id.eq(enterprise_id))
        .select(m::id)
        .load::<i64>(c)?
        .into_iter()
        .collect())
}

type TaskFilter = Box<dyn BoxableExpression<t::table, Backend, SqlType = Bool>>;
type SlotFilter = Box<dyn BoxableExpression<sl::table, Backend, SqlType = Bool>>;
type RecordFilter = Box<dyn BoxableExpression<r::table, Backend, SqlType = Bool>>;

fn tasks_visible(scope: &Scope) -> TaskFilter {
    visible_rows!(
        scope,
        t::enterprise_id,
        t::city_code,
        t::county_code,
        t::jurisdiction_code,
        t::sector_code
    )
}

fn slots_visible(scope: &Scope) -> SlotFilter {
    visible_rows!(
        scope,
        sl::enterprise_id,
        sl::city_code,
        sl::county_code,
        sl::jurisdiction_code,
        sl::sector_code
    )
}

fn records_visible(scope: &Scope) -> RecordFilter {
    visible_rows!(
        scope,
        r::enterprise_id,
        r::city_code,
        r::county_code,
        r::jurisdiction_code,
        r::sector_code
    )
}

pub fn task_visible(c: &mut AnyConnection, scope: &Scope, id: i64) -> QueryResult<Option<TaskRow>> {
    t::table
        .filter(t::id.eq(id))
        .filter(tasks_visible(scope))
        .select(TaskRow::as_select())
        .first(c)
        .optional()
}

pub fn list_tasks(
    c: &mut AnyConnection,
    scope: &Scope,
    enterprise_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<TaskRow>> {
    list_tasks_query(scope, enterprise_id, updated_since, after_id, fetch).load(c)
}

/// The plan of [`list_tasks`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn tasks_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    enterprise_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<String>> {
    super::plan::explain(
        c,
        list_tasks_query(scope, enterprise_id, updated_since, after_id, fetch),
    )
}

fn list_tasks_query(
    scope: &Scope,
    enterprise_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> t::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<TaskRow, super::scope::Backend>>,
> {
    let mut q = t::table
        .filter(tasks_visible(scope))
        .select(TaskRow::as_select())
        .order(t::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(id) = enterprise_id {
        q = q.filter(t::enterprise_id.eq(id));
    }
    if let Some(s) = updated_since {
        q = q.filter(t::updated_at.ge(s));
    }
    if let Some(a) = after_id {
        q = q.filter(t::id.gt(a));
    }
    q
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = sl)]
pub struct SlotRow {
    pub id: i64,
    pub task_id: i64,
    pub seq: i32,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub record_id: Option<i64>,
}

/// Slots materialised per call: a task far behind catches up over several.
pub const SLOT_BATCH: usize = 1_000;

/// Materialises the task's periods that have started by `now_local` (Shanghai), after the last
/// one stored; the unique `(task_id, seq)` keeps a period once whoever materialises it.
/// Times are stored in UTC.
pub fn materialise(
    c: &mut AnyConnection,
    task: &TaskRow,
    now_local: NaiveDateTime,
) -> QueryResult<()> {
    let offset = chrono::Duration::hours(8);
    loop {
        let last: Option<i32> = sl::table
            .filter(sl::task_id.eq(task.id))
            .select(diesel::dsl::max(sl::seq))
            .first(c)?;
        let from = last.map_or(0, |s| i64::from(s) + 1);
        let periods: Vec<Period> =
            task.cycle()
                .periods(task.starts_on, task.ends_on, from, now_local, SLOT_BATCH);
        if periods.is_empty() {
            return Ok(());
        }
        let n = periods.len();
        for p in periods {
            let inserted = c.transaction(|c| {
                diesel::insert_into(sl::table)
                    .values((
                        sl::task_id.eq(task.id),
                        sl::seq.eq(p.seq as i32),
                        sl::enterprise_id.eq(task.enterprise_id),
                        sl::city_code.eq(&task.city_code),
                        sl::county_code.eq(&task.county_code),
                        sl::jurisdiction_code.eq(&task.jurisdiction_code),
                        sl::sector_code.eq(&task.sector_code),
                        sl::starts_at.eq(p.starts - offset),
                        sl::ends_at.eq(p.ends - offset),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => {}
                // Another request materialised it meanwhile.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {}
                Err(e) => return Err(e),
            }
        }
        if n < SLOT_BATCH {
            return Ok(());
        }
    }
}

pub fn slots_of_task(
    c: &mut AnyConnection,
    task_id: i64,
    after_seq: Option<i32>,
    fetch: i64,
) -> QueryResult<Vec<SlotRow>> {
    let mut q = sl::table
        .filter(sl::task_id.eq(task_id))
        .select(SlotRow::as_select())
        .order(sl::seq.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(s) = after_seq {
        q = q.filter(sl::seq.gt(s));
    }
    q.load(c)
}

pub fn slot_visible(c: &mut AnyConnection, scope: &Scope, id: i64) -> QueryResult<Option<SlotRow>> {
    sl::table
        .filter(sl::id.eq(id))
        .filter(slots_visible(scope))
        .select(SlotRow::as_select())
        .first(c)
        .optional()
}

/// Done and missed slots of several tasks at `now` (UTC), in one grouped query.
pub fn tallies(
    c: &mut AnyConnection,
    tasks: &[i64],
    now: NaiveDateTime,
) -> QueryResult<HashMap<i64, (i64, i64)>> {
    use diesel::dsl::{count, sql};
    use diesel::sql_types::BigInt;
    let missed = sql::<BigInt>(
        "CAST(COALESCE(SUM(CASE WHEN inspection_slots.record_id IS NULL AND inspection_slots.ends_at <= ",
    )
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .sql(" THEN 1 ELSE 0 END), 0) AS BIGINT)");
    Ok(sl::table
        .filter(sl::task_id.eq_any(tasks))
        .group_by(sl::task_id)
        .select((sl::task_id, count(sl::record_id), missed))
        .load::<(i64, i64, i64)>(c)?
        .into_iter()
        .map(|(t, done, missed)| (t, (done, missed)))
        .collect())
}

/// A task's done and missed slots at `now` (UTC).
pub fn tally(c: &mut AnyConnection, task_id: i64, now: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let done: i64 = sl::table
        .filter(sl::task_id.eq(task_id))
        .filter(sl::record_id.is_not_null())
        .count()
        .get_result(c)?;
    let missed: i64 = sl::table
        .filter(sl::task_id.eq(task_id))
        .filter(sl::record_id.is_null())
        .filter(sl::ends_at.le(now))
        .count()
        .get_result(c)?;
    Ok((done, missed))
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = r)]
pub struct RecordRow {
    pub id: i64,
    pub uuid: String,
    pub slot_id: i64,
    pub task_id: i64,
    pub enterprise_id: i64,
    pub city_code: String,
    pub county_code: String,
    pub jurisdiction_code: String,
    pub sector_code: String,
    pub checked_by: i64,
    pub checked_at: NaiveDateTime,
    pub failed: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = cr)]
pub struct ResultRow {
    pub record_id: i64,
    pub measure_id: i64,
    pub ok: bool,
    pub note: Option<String>,
    pub hazard_id: Option<i64>,
}

/// Records the check of a slot (answers `None` when the slot was checked meanwhile).
pub fn insert_record(
    c: &mut AnyConnection,
    slot: &SlotRow,
    by: i64,
    failed: i32,
) -> QueryResult<Option<RecordRow>> {
    let now = super::now();
    let row: RecordRow = diesel::insert_into(r::table)
        .values((
            r::uuid.eq(uuid::Uuid::new_v4().to_string()),
            r::slot_id.eq(slot.id),
            r::task_id.eq(slot.task_id),
            r::enterprise_id.eq(slot.enterprise_id),
            r::city_code.eq(&slot.city_code),
            r::county_code.eq(&slot.county_code),
            r::jurisdiction_code.eq(&slot.jurisdiction_code),
            r::sector_code.eq(&slot.sector_code),
            r::checked_by.eq(by),
            r::checked_at.eq(now),
            r::failed.eq(failed),
            r::created_at.eq(now),
            r::updated_at.eq(now),
        ))
        .get_result(c)?;
    let claimed = diesel::update(
        sl::table
            .filter(sl::id.eq(slot.id))
            .filter(sl::record_id.is_null()),
    )
    .set(sl::record_id.eq(row.id))
    .execute(c)?;
    Ok((claimed == 1).then_some(row))
}

pub fn insert_result(
    c: &mut AnyConnection,
    record_id: i64,
    measure_id: i64,
    ok: bool,
    note: Option<&str>,
    hazard_id: Option<i64>,
) -> QueryResult<()> {
    diesel::insert_into(cr::table)
        .values((
            cr::record_id.eq(record_id),
            cr::measure_id.eq(measure_id),
            cr::ok.eq(ok),
            cr::note.eq(note),
            cr::hazard_id.eq(hazard_id),
        ))
        .execute(c)
        .map(|_| ())
}

pub fn results_of(c: &mut AnyConnection, records: &[i64]) -> QueryResult<Vec<ResultRow>> {
    cr::table
        .filter(cr::record_id.eq_any(records))
        .order((cr::record_id.asc(), cr::measure_id.asc()))
        .select(ResultRow::as_select())
        .load(c)
}

pub fn record_visible(
    c: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<RecordRow>> {
    r::table
        .filter(r::id.eq(id))
        .filter(records_visible(scope))
        .select(RecordRow::as_select())
        .first(c)
        .optional()
}

pub fn list_records(
    c: &mut AnyConnection,
    scope: &Scope,
    task_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<RecordRow>> {
    list_records_query(scope, task_id, updated_since, after_id, fetch).load(c)
}

/// The plan of [`list_records`]'s query (`db::plan`; `tests/api/plans.rs`).
pub fn records_plan(
    c: &mut AnyConnection,
    scope: &Scope,
    task_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<String>> {
    super::plan::explain(
        c,
        list_records_query(scope, task_id, updated_since, after_id, fetch),
    )
}

fn list_records_query(
    scope: &Scope,
    task_id: Option<i64>,
    updated_since: Option<NaiveDateTime>,
    after_id: Option<i64>,
    fetch: i64,
) -> r::BoxedQuery<
    'static,
    super::scope::Backend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<RecordRow, super::scope::Backend>>,
> {
    let mut q = r::table
        .filter(records_visible(scope))
        .select(RecordRow::as_select())
        .order(r::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(id) = task_id {
        q = q.filter(r::task_id.eq(id));
    }
    if let Some(s) = updated_since {
        q = q.filter(r::updated_at.ge(s));
    }
    if let Some(a) = after_id {
        q = q.filter(r::id.gt(a));
    }
    q
}

/// Of these measures (or units), the ones an open hazard found by a check names: failing
/// measures, units out of control. One query each, through the partial indexes.
pub fn failing_measures(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashSet<i64>> {
    Ok(h::table
        .filter(h::control_measure_id.eq_any(ids))
        .filter(h::status.ne_all(["closed", "void"]))
        .select(h::control_measure_id.assume_not_null())
        .distinct()
        .load::<i64>(c)?
        .into_iter()
        .collect())
}

pub fn units_out_of_control(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashSet<i64>> {
    Ok(h::table
        .filter(h::risk_unit_id.eq_any(ids))
        .filter(h::status.ne_all(["closed", "void"]))
        .select(h::risk_unit_id.assume_not_null())
        .distinct()
        .load::<i64>(c)?
        .into_iter()
        .collect())
}

/// Materialises the slots of every task, `batch` tasks per query (the scheduler's run, so the
/// regulators' views count slots no one has listed).
pub fn materialise_all(c: &mut AnyConnection, now_local: NaiveDateTime) -> QueryResult<usize> {
    let mut after = 0i64;
    let mut n = 0;
    loop {
        let tasks: Vec<TaskRow> = t::table
            .filter(t::id.gt(after))
            .order(t::id.asc())
            .limit(500)
            .select(TaskRow::as_select())
            .load(c)?;
        let Some(last) = tasks.last() else {
            return Ok(n);
        };
        after = last.id;
        for task in &tasks {
            materialise(c, task, now_local)?;
        }
        n += tasks.len();
    }
}

/// One enterprise's slots in a period: due (started in it), done, missed (ended unchecked).
#[derive(Debug, Clone)]
pub struct SlotTally {
    pub enterprise_id: i64,
    pub due: i64,
    pub done: i64,
    pub missed: i64,
}

/// Slots starting in [`from`, `to`) per enterprise in scope, a page by enterprise id.
pub fn tally_by_enterprise(
    c: &mut AnyConnection,
    scope: &Scope,
    from: NaiveDateTime,
    to: NaiveDateTime,
    now: NaiveDateTime,
    after: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<SlotTally>> {
    use diesel::dsl::{count, count_star, sql};
    use diesel::sql_types::BigInt;
    let missed = sql::<BigInt>("CAST(COALESCE(SUM(CASE WHEN inspection_slots.record_id IS NULL AND inspection_slots.ends_at <= ")
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .sql(" THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let mut q = sl::table
        .filter(slots_visible(scope))
        .filter(sl::starts_at.ge(from))
        .filter(sl::starts_at.lt(to))
        .group_by(sl::enterprise_id)
        .select((
            sl::enterprise_id,
            count_star(),
            count(sl::record_id),
            missed,
        ))
        .order(sl::enterprise_id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(sl::enterprise_id.gt(a));
    }
    Ok(q.load::<(i64, i64, i64, i64)>(c)?
        .into_iter()
        .map(|(enterprise_id, due, done, missed)| SlotTally {
            enterprise_id,
            due,
            done,
            missed,
        })
        .collect())
}

/// The UUIDs of rows by id, in one query per table (the national exchange names rows by UUID).
pub fn measure_uuids(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(m::table
        .filter(m::id.eq_any(ids))
        .select((m::id, m::uuid))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}

pub fn task_uuids(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(t::table
        .filter(t::id.eq_any(ids))
        .select((t::id, t::uuid))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}

pub fn record_uuids(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(r::table
        .filter(r::id.eq_any(ids))
        .select((r::id, r::uuid))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}

/// The USCC of each enterprise, in one query.
pub fn company_codes(c: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    use super::schema::enterprises as e;
    Ok(e::table
        .filter(e::id.eq_any(ids))
        .select((e::id, e::uscc))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect())
}
