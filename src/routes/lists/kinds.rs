//! The two kinds of item and the endpoints written once over both.

use super::*;
use crate::db::events::{self, Place};
use crate::db::ledger::{self, Names};
use crate::domain::event::EventType;
use crate::domain::ledger::{Label, MEASURE_COLUMNS, PROBLEM_COLUMNS};
use crate::http::export::{self, Cell, Ledger, Source};

static PROBLEM_LEDGER: Ledger = Ledger {
    title: "问题隐患清单",
    slug: "problem-items",
    columns: PROBLEM_COLUMNS,
};

static MEASURE_LEDGER: Ledger = Ledger {
    title: "制度措施清单",
    slug: "measure-items",
    columns: MEASURE_COLUMNS,
};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Items of exactly this owner jurisdiction.
    pub owner_jurisdiction_code: Option<String>,
    pub department_id: Option<i64>,
    /// Problem items only.
    pub sector_code: Option<String>,
    /// Documented per operation: the statuses of that kind of item.
    #[param(ignore)]
    pub status: Option<String>,
    /// Deadline (problems) or target date (measures) strictly before this date.
    pub deadline_before: Option<NaiveDate>,
    /// Deadline (problems) or target date (measures) strictly after this date.
    pub deadline_after: Option<NaiveDate>,
}

pub(super) fn item_filter(
    q: ItemQuery,
    updated_since: Option<chrono::NaiveDateTime>,
    valid_status: impl Fn(&str) -> bool,
) -> ApiResult<ItemFilter> {
    if let Some(s) = &q.status {
        if !valid_status(s) {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("unknown status {s}"),
            ));
        }
    }
    Ok(ItemFilter {
        owner: q.owner_jurisdiction_code,
        department_id: q.department_id,
        sector_code: q.sector_code,
        status: q.status,
        due_before: q.deadline_before,
        due_after: q.deadline_after,
        updated_since,
        after_id: None,
        fetch: 1,
    })
}

/// What differs between the two lists; the endpoints below are written once over it.
pub trait ListKind: 'static {
    type Input: Serialize + serde::de::DeserializeOwned + Clone + PartialEq + Send + 'static;
    type Row: Send + 'static;
    type Item: Serialize + Send + 'static;
    /// `entity_type` of its audit events.
    const ENTITY: &'static str;
    /// Path segment under `/api/v1`.
    const COLLECTION: &'static str;
    /// `existing`: the ids the item links already (empty on create).
    fn checked(
        c: &mut AnyConnection,
        p: &Principal,
        input: Self::Input,
        existing: &[i64],
    ) -> ApiResult<Self::Input>;
    fn links(input: &Self::Input) -> &[i64];
    fn owner(input: &Self::Input) -> (&str, Option<i64>);
    fn insert(c: &mut AnyConnection, input: &Self::Input) -> QueryResult<Self::Row>;
    fn update(
        c: &mut AnyConnection,
        id: i64,
        version: i64,
        input: &Self::Input,
    ) -> QueryResult<Option<Self::Row>>;
    fn visible(c: &mut AnyConnection, reach: &Reach, id: i64) -> QueryResult<Option<Self::Row>>;
    fn list(c: &mut AnyConnection, reach: &Reach, f: &ItemFilter) -> QueryResult<Vec<Self::Row>>;
    fn items(c: &mut AnyConnection, rows: Vec<Self::Row>) -> ApiResult<Vec<Self::Item>>;
    fn row_id(row: &Self::Row) -> i64;
    /// (id, version) of an item.
    fn meta(item: &Self::Item) -> (i64, i64);
    fn fields(item: &Self::Item) -> &Self::Input;
    fn valid_status(s: &str) -> bool;
    /// The change feed's event types of this kind of item.
    const CREATED: EventType;
    const UPDATED: EventType;
    /// Where the item's events belong: its owner.
    fn place(row: &Self::Row) -> Place;
    /// The list as a ledger file (`http::export`).
    const LEDGER: &'static Ledger;
    /// The ledger's cells of each row, after its number (序号).
    fn ledger_rows(
        c: &mut AnyConnection,
        rows: &[Self::Row],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>>;
}

pub struct Problems;
pub struct Measures;

impl ListKind for Problems {
    type Input = ProblemInput;
    type Row = ProblemRow;
    type Item = ProblemItem;
    const ENTITY: &'static str = "problem_item";
    const CREATED: EventType = EventType::ProblemItemCreated;
    const UPDATED: EventType = EventType::ProblemItemUpdated;
    fn place(r: &ProblemRow) -> Place {
        Place::list_owner(
            &r.owner_jurisdiction_code,
            &r.owner_city_code,
            &r.owner_county_code,
        )
    }
    const LEDGER: &'static Ledger = &PROBLEM_LEDGER;
    fn ledger_rows(
        c: &mut AnyConnection,
        rows: &[ProblemRow],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        let links = ledger::problem_links(c, rows.iter().map(|r| r.id).collect())?;
        Ok(rows
            .iter()
            .map(|r| {
                vec![
                    r.id.into(),
                    names.jurisdiction(&r.owner_jurisdiction_code).into(),
                    r.sector_code.as_deref().map(|s| names.sector(s)).into(),
                    r.title.as_str().into(),
                    r.description.as_str().into(),
                    r.responsible_unit.as_str().into(),
                    r.deadline.into(),
                    r.status.label().into(),
                    links.get(&r.id).copied().unwrap_or(0).into(),
                ]
            })
            .collect())
    }
    const COLLECTION: &'static str = "problem-items";
    fn checked(
        c: &mut AnyConnection,
        p: &Principal,
        input: ProblemInput,
        existing: &[i64],
    ) -> ApiResult<ProblemInput> {
        checked_problem(c, p, input, existing)
    }
    fn links(i: &ProblemInput) -> &[i64] {
        &i.hazard_ids
    }
    fn owner(i: &ProblemInput) -> (&str, Option<i64>) {
        (&i.owner_jurisdiction_code, i.department_id)
    }
    fn insert(c: &mut AnyConnection, i: &ProblemInput) -> QueryResult<ProblemRow> {
        lists::insert_problem(c, &problem_values(i), &i.hazard_ids)
    }
    fn update(
        c: &mut AnyConnection,
        id: i64,
        version: i64,
        i: &ProblemInput,
    ) -> QueryResult<Option<ProblemRow>> {
        lists::update_problem(c, id, version, &problem_values(i), &i.hazard_ids)
    }
    fn visible(c: &mut AnyConnection, reach: &Reach, id: i64) -> QueryResult<Option<ProblemRow>> {
        lists::problem_visible(c, reach, id)
    }
    fn list(c: &mut AnyConnection, reach: &Reach, f: &ItemFilter) -> QueryResult<Vec<ProblemRow>> {
        lists::list_problems(c, reach, f)
    }
    fn items(c: &mut AnyConnection, rows: Vec<ProblemRow>) -> ApiResult<Vec<ProblemItem>> {
        problem_items(c, rows)
    }
    fn row_id(r: &ProblemRow) -> i64 {
        r.id
    }
    fn meta(i: &ProblemItem) -> (i64, i64) {
        (i.id, i.version)
    }
    fn fields(i: &ProblemItem) -> &ProblemInput {
        &i.fields
    }
    fn valid_status(s: &str) -> bool {
        ProblemStatus::parse(s).is_some()
    }
}

impl ListKind for Measures {
    type Input = MeasureInput;
    type Row = MeasureRow;
    type Item = MeasureItem;
    const ENTITY: &'static str = "measure_item";
    const CREATED: EventType = EventType::MeasureItemCreated;
    const UPDATED: EventType = EventType::MeasureItemUpdated;
    fn place(r: &MeasureRow) -> Place {
        Place::list_owner(
            &r.owner_jurisdiction_code,
            &r.owner_city_code,
            &r.owner_county_code,
        )
    }
    const LEDGER: &'static Ledger = &MEASURE_LEDGER;
    fn ledger_rows(
        c: &mut AnyConnection,
        rows: &[MeasureRow],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        let links = ledger::measure_links(c, rows.iter().map(|r| r.id).collect())?;
        Ok(rows
            .iter()
            .map(|r| {
                vec![
                    r.id.into(),
                    names.jurisdiction(&r.owner_jurisdiction_code).into(),
                    r.title.as_str().into(),
                    r.kind.label().into(),
                    r.doc_no.clone().into(),
                    r.lead_unit.as_str().into(),
                    r.target_date.into(),
                    r.status.label().into(),
                    links.get(&r.id).copied().unwrap_or(0).into(),
                ]
            })
            .collect())
    }
    const COLLECTION: &'static str = "measure-items";
    fn checked(
        c: &mut AnyConnection,
        p: &Principal,
        input: MeasureInput,
        existing: &[i64],
    ) -> ApiResult<MeasureInput> {
        checked_measure(c, p, input, existing)
    }
    fn links(i: &MeasureInput) -> &[i64] {
        &i.problem_ids
    }
    fn owner(i: &MeasureInput) -> (&str, Option<i64>) {
        (&i.owner_jurisdiction_code, i.department_id)
    }
    fn insert(c: &mut AnyConnection, i: &MeasureInput) -> QueryResult<MeasureRow> {
        lists::insert_measure(c, &measure_values(i), &i.problem_ids)
    }
    fn update(
        c: &mut AnyConnection,
        id: i64,
        version: i64,
        i: &MeasureInput,
    ) -> QueryResult<Option<MeasureRow>> {
        lists::update_measure(c, id, version, &measure_values(i), &i.problem_ids)
    }
    fn visible(c: &mut AnyConnection, reach: &Reach, id: i64) -> QueryResult<Option<MeasureRow>> {
        lists::measure_visible(c, reach, id)
    }
    fn list(c: &mut AnyConnection, reach: &Reach, f: &ItemFilter) -> QueryResult<Vec<MeasureRow>> {
        lists::list_measures(c, reach, f)
    }
    fn items(c: &mut AnyConnection, rows: Vec<MeasureRow>) -> ApiResult<Vec<MeasureItem>> {
        measure_items(c, rows)
    }
    fn row_id(r: &MeasureRow) -> i64 {
        r.id
    }
    fn meta(i: &MeasureItem) -> (i64, i64) {
        (i.id, i.version)
    }
    fn fields(i: &MeasureItem) -> &MeasureInput {
        &i.fields
    }
    fn valid_status(s: &str) -> bool {
        MeasureStatus::parse(s).is_some()
    }
}

pub(super) fn visible_item<K: ListKind>(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
) -> ApiResult<K::Item> {
    let row = K::visible(c, &lists_reach(p)?, id)?.ok_or_else(ApiError::not_found)?;
    one(K::items(c, vec![row])?)
}

pub(super) async fn create<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<K::Input>,
) -> ApiResult<HttpResponse> {
    let input = body.body;
    let actor = Actor::from(&p);
    let scope = format!("create_{}", K::ENTITY);
    idempotency::create(&state, p.account_id, key, scope, body.sha256, move |c| {
        lists_reach(&p)?;
        let input = K::checked(c, &p, input, &[])?;
        let row = K::insert(c, &input)?;
        let place = K::place(&row);
        let item = one(K::items(c, vec![row])?)?;
        let (id, _) = K::meta(&item);
        audit::created(c, &actor, K::ENTITY, id, &item)?;
        events::publish(c, &actor, K::CREATED, id, &place, &item)?;
        Created::new(format!("/api/v1/{}/{id}", K::COLLECTION), &item)
    })
    .await
}

pub(super) async fn list<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ItemQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters, paging } = query;
    let mut f = item_filter(filters, paging.updated_since, K::valid_status)?;
    f.after_id = paging.after()?;
    f.fetch = paging.fetch();
    let page = state
        .run(move |c| {
            let reach = lists_reach(&p)?;
            let rows = paging.finish(K::list(c, &reach, &f)?, K::row_id, |r| r);
            Ok(page::Page {
                items: K::items(c, rows.items)?,
                next_cursor: rows.next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A list's rows as ledger rows, batch by batch.
struct Items<K: ListKind> {
    reach: Reach,
    filter: ItemFilter,
    kind: std::marker::PhantomData<fn() -> K>,
}

impl<K: ListKind> Source for Items<K> {
    type Row = K::Row;

    fn start(&mut self, _: &mut AnyConnection) -> ApiResult<()> {
        Ok(())
    }

    fn read(&mut self, c: &mut AnyConnection) -> ApiResult<Vec<K::Row>> {
        let rows = K::list(c, &self.reach, &self.filter)?;
        if let Some(last) = rows.last() {
            self.filter.after_id = Some(K::row_id(last));
        }
        Ok(rows)
    }

    fn cells(
        &self,
        c: &mut AnyConnection,
        rows: &[K::Row],
        names: &Names,
    ) -> ApiResult<Vec<Vec<Cell>>> {
        K::ledger_rows(c, rows, names)
    }
}

pub(super) async fn export<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    raw_query: &str,
) -> ApiResult<HttpResponse> {
    let (format, q, updated_since) = export::query::<ItemQuery>(raw_query)?;
    let mut filter = item_filter(q, updated_since, K::valid_status)?;
    filter.fetch = export::BATCH;
    let source = Items::<K> {
        reach: lists_reach(&p)?,
        filter,
        kind: std::marker::PhantomData,
    };
    export::respond(&state, K::LEDGER, format, source).await
}

pub(super) async fn get_one<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    id: i64,
) -> ApiResult<HttpResponse> {
    let item = state.run(move |c| visible_item::<K>(c, &p, id)).await?;
    Ok(with_etag(K::meta(&item).1, &item))
}

pub(super) async fn update<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    id: i64,
    if_match: IfMatch,
    patch: Value,
) -> ApiResult<HttpResponse> {
    let actor = Actor::from(&p);
    let item = state
        .run(move |c| {
            write_tx(c, |c| {
                let before = visible_item::<K>(c, &p, id)?;
                policy::edit_lists(&p)?;
                let current =
                    serde_json::to_value(K::fields(&before)).map_err(ApiError::internal)?;
                let mut merged = current.clone();
                merge_patch::merge(&mut merged, &patch);
                let input: K::Input = from_merged(merged)?;
                let (_, version) = K::meta(&before);
                if_match.check(version)?;
                rules::owner_unchanged(K::owner(K::fields(&before)), K::owner(&input))
                    .map_err(|e| ApiError::validation(vec![e]))?;
                let existing = K::links(K::fields(&before)).to_vec();
                let input = K::checked(c, &p, input, &existing)?;
                if &input == K::fields(&before) {
                    // Nothing changes: no new version, no history entry.
                    return Ok(before);
                }
                let row =
                    K::update(c, id, version, &input)?.ok_or_else(ApiError::precondition_failed)?;
                let place = K::place(&row);
                let after = one(K::items(c, vec![row])?)?;
                audit::updated(c, &actor, K::ENTITY, id, &before, &after, None)?;
                events::publish_if_changed(c, &actor, K::UPDATED, id, &place, &before, &after)?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(K::meta(&item).1, &item))
}

pub(super) async fn history<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    id: i64,
    paging: page::Paging,
) -> ApiResult<HttpResponse> {
    crate::routes::audit::entity_events(&state, K::ENTITY, id, paging, move |c| {
        K::visible(c, &lists_reach(&p)?, id)?
            .map(|_| ())
            .ok_or_else(ApiError::not_found)
    })
    .await
}
