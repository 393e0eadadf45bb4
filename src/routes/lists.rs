//! The two lists (两个清单): 问题隐患清单 (problem items, linked to hazards) and 制度措施清单
//! (measure items, linked to problems), kept by a county-level or city unit, optionally for one
//! department. Regulators edit the lists of units in their reach; auditors read; enterprise
//! accounts have no access (404). Every change is kept in the item's history.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::lists::{self, ItemFilter, MeasureRow, MeasureValues, ProblemRow, ProblemValues};
use crate::db::scope::jurisdiction_path;
use crate::db::{reference, to_utc, write_tx, AnyConnection};
use crate::domain::lists::{
    self as rules, MeasureInput, MeasureStatus, ProblemInput, ProblemStatus,
};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult};
use crate::http::idempotency::{self, Created};
use crate::http::json::from_merged;
use crate::http::page::{self, Listing};
use crate::http::{patch as merge_patch, ApiJson, IdempotencyKey, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;
use diesel::QueryResult;

#[derive(Serialize, ToSchema, Clone)]
#[schema(example = json!({
    "id": 3, "owner_jurisdiction_code": "431302", "department_id": null, "sector_code": "hazardous_chemicals",
    "title": "加油站油气回收装置普遍失修", "description": "辖区 12 座加油站中 5 座油气回收装置失效",
    "responsible_unit": "娄星区应急管理局", "deadline": "2026-12-31", "status": "in_progress", "hazard_ids": [7, 9],
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-28T02:00:00Z", "version": 2
}))]
pub struct ProblemItem {
    pub id: i64,
    #[serde(flatten)]
    pub fields: ProblemInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Serialize, ToSchema, Clone)]
#[schema(example = json!({
    "id": 5, "owner_jurisdiction_code": "431302", "department_id": null,
    "title": "加油站油气回收装置定期检测制度", "kind": "normative_document", "doc_no": null,
    "lead_unit": "娄星区应急管理局", "target_date": "2026-12-31", "status": "drafting", "problem_ids": [3],
    "created_at": "2026-11-20T02:00:00Z", "updated_at": "2026-11-20T02:00:00Z", "version": 1
}))]
pub struct MeasureItem {
    pub id: i64,
    #[serde(flatten)]
    pub fields: MeasureInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn links_of(links: &[(i64, i64)], id: i64) -> Vec<i64> {
    links
        .iter()
        .filter(|(owner, _)| *owner == id)
        .map(|(_, l)| *l)
        .collect()
}

pub fn problem_items(c: &mut AnyConnection, rows: Vec<ProblemRow>) -> ApiResult<Vec<ProblemItem>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = lists::hazard_links(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| ProblemItem {
            id: r.id,
            fields: ProblemInput {
                hazard_ids: links_of(&links, r.id),
                owner_jurisdiction_code: r.owner_jurisdiction_code,
                department_id: r.department_id,
                sector_code: r.sector_code,
                title: r.title,
                description: r.description,
                responsible_unit: r.responsible_unit,
                deadline: r.deadline,
                status: r.status,
            },
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

pub fn measure_items(c: &mut AnyConnection, rows: Vec<MeasureRow>) -> ApiResult<Vec<MeasureItem>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = lists::problem_links(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| MeasureItem {
            id: r.id,
            fields: MeasureInput {
                problem_ids: links_of(&links, r.id),
                owner_jurisdiction_code: r.owner_jurisdiction_code,
                department_id: r.department_id,
                title: r.title,
                kind: r.kind,
                doc_no: r.doc_no,
                lead_unit: r.lead_unit,
                target_date: r.target_date,
                status: r.status,
            },
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        })
        .collect())
}

fn one<T>(mut v: Vec<T>) -> ApiResult<T> {
    v.pop().ok_or_else(|| ApiError::internal("item vanished"))
}

/// The caller's reach over lists: regulators and auditors see the lists of units at or below
/// their jurisdiction; enterprise accounts see none (404).
pub fn lists_path(p: &Principal) -> ApiResult<String> {
    crate::db::scope::list_owner_path(&p.scope())
        .map(str::to_string)
        .ok_or_else(ApiError::not_found)
}

/// Checks an owner (jurisdiction and optional department) and returns its tree path:
/// it must be within reach (403, the policy), exist and be a county-level unit or a city (422).
pub fn check_owner(
    c: &mut AnyConnection,
    p: &Principal,
    owner: &str,
    department: Option<i64>,
    errors: &mut Errors,
) -> ApiResult<Option<String>> {
    let Some((path, level)) = jurisdiction_path(c, owner)? else {
        errors.add("/owner_jurisdiction_code", "unknown jurisdiction");
        return Ok(None);
    };
    policy::list_owner(p, &path)?;
    rules::check_owner_level(errors, level);
    if let Some(d) = department {
        let dept = reference::departments(c, Some(owner), &reference::Window::all())?;
        if !dept.iter().any(|x| x.id == d) {
            errors.add(
                "/department_id",
                "not a department of the owner's jurisdiction",
            );
        }
    }
    Ok(Some(path))
}

/// Validates a problem item for `p` and returns what to store. `existing`: the hazards it
/// links already (an edit re-checks only what it adds).
fn checked_problem(
    c: &mut AnyConnection,
    p: &Principal,
    input: ProblemInput,
    existing: &[i64],
) -> ApiResult<ProblemInput> {
    policy::edit_lists(p)?;
    let mut e = Errors::default();
    let owner_path = check_owner(
        c,
        p,
        &input.owner_jurisdiction_code,
        input.department_id,
        &mut e,
    )?;
    if let Some(s) = &input.sector_code {
        if !reference::sector_exists(c, s)? {
            e.add("/sector_code", "unknown sector");
        }
    }
    if let Some(path) = owner_path {
        let added = rules::added_links(&input.hazard_ids, existing);
        let mut allowed = lists::hazards_under(c, &p.scope(), &path, &added)?;
        allowed.extend_from_slice(existing);
        rules::check_links(&mut e, "/hazard_ids", &input.hazard_ids, &allowed);
    }
    let input = input.normalized(&mut e);
    e.into_result().map_err(ApiError::validation)?;
    Ok(input)
}

fn checked_measure(
    c: &mut AnyConnection,
    p: &Principal,
    input: MeasureInput,
    existing: &[i64],
) -> ApiResult<MeasureInput> {
    policy::edit_lists(p)?;
    let mut e = Errors::default();
    let owner_path = check_owner(
        c,
        p,
        &input.owner_jurisdiction_code,
        input.department_id,
        &mut e,
    )?;
    if let Some(path) = owner_path {
        let added = rules::added_links(&input.problem_ids, existing);
        let mut allowed = lists::problems_under(c, &path, &added)?;
        allowed.extend_from_slice(existing);
        rules::check_links(&mut e, "/problem_ids", &input.problem_ids, &allowed);
    }
    let input = input.normalized(&mut e);
    e.into_result().map_err(ApiError::validation)?;
    Ok(input)
}

fn problem_values(i: &ProblemInput) -> ProblemValues<'_> {
    ProblemValues {
        owner_jurisdiction_code: &i.owner_jurisdiction_code,
        department_id: i.department_id,
        sector_code: i.sector_code.as_deref(),
        title: &i.title,
        description: &i.description,
        responsible_unit: &i.responsible_unit,
        deadline: i.deadline,
        status: i.status.as_str(),
    }
}

fn measure_values(i: &MeasureInput) -> MeasureValues<'_> {
    MeasureValues {
        owner_jurisdiction_code: &i.owner_jurisdiction_code,
        department_id: i.department_id,
        title: &i.title,
        kind: i.kind.as_str(),
        doc_no: i.doc_no.as_deref(),
        lead_unit: &i.lead_unit,
        target_date: i.target_date,
        status: i.status.as_str(),
    }
}

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

fn item_filter(
    q: ItemQuery,
    paging: &page::Paging,
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
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
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
    fn visible(c: &mut AnyConnection, path: &str, id: i64) -> QueryResult<Option<Self::Row>>;
    fn list(c: &mut AnyConnection, path: &str, f: &ItemFilter) -> QueryResult<Vec<Self::Row>>;
    fn items(c: &mut AnyConnection, rows: Vec<Self::Row>) -> ApiResult<Vec<Self::Item>>;
    fn row_id(row: &Self::Row) -> i64;
    /// (id, version) of an item.
    fn meta(item: &Self::Item) -> (i64, i64);
    fn fields(item: &Self::Item) -> &Self::Input;
    fn valid_status(s: &str) -> bool;
}

pub struct Problems;
pub struct Measures;

impl ListKind for Problems {
    type Input = ProblemInput;
    type Row = ProblemRow;
    type Item = ProblemItem;
    const ENTITY: &'static str = "problem_item";
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
    fn visible(c: &mut AnyConnection, path: &str, id: i64) -> QueryResult<Option<ProblemRow>> {
        lists::problem_visible(c, path, id)
    }
    fn list(c: &mut AnyConnection, path: &str, f: &ItemFilter) -> QueryResult<Vec<ProblemRow>> {
        lists::list_problems(c, path, f)
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
    fn visible(c: &mut AnyConnection, path: &str, id: i64) -> QueryResult<Option<MeasureRow>> {
        lists::measure_visible(c, path, id)
    }
    fn list(c: &mut AnyConnection, path: &str, f: &ItemFilter) -> QueryResult<Vec<MeasureRow>> {
        lists::list_measures(c, path, f)
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

fn visible_item<K: ListKind>(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<K::Item> {
    let row = K::visible(c, &lists_path(p)?, id)?.ok_or_else(ApiError::not_found)?;
    one(K::items(c, vec![row])?)
}

async fn create<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<K::Input>,
) -> ApiResult<HttpResponse> {
    let input = body.body;
    let actor = Actor::from(&p);
    let scope = format!("create_{}", K::ENTITY);
    idempotency::create(&state, p.account_id, key, scope, body.sha256, move |c| {
        lists_path(&p)?;
        let input = K::checked(c, &p, input, &[])?;
        let row = K::insert(c, &input)?;
        let item = one(K::items(c, vec![row])?)?;
        let (id, _) = K::meta(&item);
        audit::created(c, &actor, K::ENTITY, id, &item)?;
        Created::new(format!("/api/v1/{}/{id}", K::COLLECTION), &item)
    })
    .await
}

async fn list<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ItemQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters, paging } = query;
    let f = item_filter(filters, &paging, K::valid_status)?;
    let page = state
        .run(move |c| {
            let path = lists_path(&p)?;
            let rows = paging.finish(K::list(c, &path, &f)?, K::row_id, |r| r);
            Ok(page::Page {
                items: K::items(c, rows.items)?,
                next_cursor: rows.next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn get_one<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    id: i64,
) -> ApiResult<HttpResponse> {
    let item = state.run(move |c| visible_item::<K>(c, &p, id)).await?;
    Ok(with_etag(K::meta(&item).1, &item))
}

async fn update<K: ListKind>(
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
                let after = one(K::items(c, vec![row])?)?;
                audit::updated(c, &actor, K::ENTITY, id, &before, &after, None)?;
                Ok(after)
            })
        })
        .await?;
    Ok(with_etag(K::meta(&item).1, &item))
}

async fn history<K: ListKind>(
    p: Principal,
    state: web::Data<AppState>,
    id: i64,
    paging: page::Paging,
) -> ApiResult<HttpResponse> {
    crate::routes::audit::entity_events(&state, K::ENTITY, id, paging, move |c| {
        K::visible(c, &lists_path(&p)?, id)?
            .map(|_| ())
            .ok_or_else(ApiError::not_found)
    })
    .await
}

/// Add a problem item (问题隐患清单)
///
/// Regulators only: auditors get `403 forbidden`, enterprise accounts `404` (as on every list
/// endpoint). The owner — `owner_jurisdiction_code`, a county-level unit or the city (not a
/// township), optionally with one `department_id` of that jurisdiction — must be at or below
/// your jurisdiction (`403 out_of_jurisdiction`); the city may keep county lists too.
///
/// `title`, `description`, `responsible_unit` and `deadline` are required; `status` defaults to
/// `open`; a `sector_code` must be known. `hazard_ids` link hazards in the owner's jurisdiction
/// that you can see; any other id is reported with the pointer of its element
/// (`/hazard_ids/1`). An unknown owner or department and all field problems come back together
/// in one `422 validation_failed`. The creation is audited and starts the item's history;
/// `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "lists", operation_id = "create_problem_item", request_body = ProblemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added; `Location` names the item", body = ProblemItem, headers(("Location" = String, description = "URL of the item"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator (`forbidden`), or the owner is outside your jurisdiction (`out_of_jurisdiction`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields, an unknown, township-level or department-mismatched owner, an unknown sector, or a linked hazard outside the owner's jurisdiction or your scope (pointer `/hazard_ids/N`) (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/problem-items")]
pub async fn create_problem_item(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<ProblemInput>,
) -> ApiResult<HttpResponse> {
    create::<Problems>(p, state, key, body).await
}

/// List problem items
///
/// Regulators and auditors: the items of owners at or below your jurisdiction (the city sees
/// every county's lists), each with its linked `hazard_ids`; enterprise accounts get `404`.
/// Oldest first, keyset-paginated.
///
/// Filters: `owner_jurisdiction_code` (exactly that owner), `department_id`, `sector_code`,
/// `status`, `deadline_before`, `deadline_after` and `updated_since`. An unknown `status` or
/// parameter answers `400 invalid_query`; a foreign cursor `400 invalid_cursor`.
#[utoipa::path(
    tag = "lists", operation_id = "list_problem_items", params(ItemQuery, page::PageParams, ("status" = Option<ProblemStatus>, Query, description = "Only items in this status")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of problem items", body = page::Page<ProblemItem>),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problem-items")]
pub async fn list_problem_items(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ItemQuery>,
) -> ApiResult<HttpResponse> {
    list::<Problems>(p, state, query).await
}

/// Get a problem item
///
/// Regulators and auditors, for the items of owners at or below their jurisdiction; anything
/// else (every item, for enterprise accounts) is `404`. Includes the linked `hazard_ids` and
/// the `ETag` to send as `If-Match` with a `PATCH`.
#[utoipa::path(
    tag = "lists", operation_id = "get_problem_item",
    params(("id" = i64, Path, description = "Problem item id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The item", body = ProblemItem, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/problem-items/{id}")]
pub async fn get_problem_item(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    get_one::<Problems>(p, state, id.into_inner()).await
}

/// Change a problem item
///
/// A JSON merge patch over the item (`null` clears an optional field); needs `If-Match`
/// (`428` without, `412` when stale). Any regulator whose jurisdiction contains the owner may
/// edit (the city edits county lists); auditors get `403 forbidden`, enterprise accounts `404`.
///
/// The owner (`owner_jurisdiction_code`, `department_id`) never changes
/// (`422 validation_failed`: add the item to the other owner's list instead). `hazard_ids` is
/// replaced whole and checked as on create (`422`, pointer `/hazard_ids/N`). Every change is
/// audited with before/after and shows in the item's history; a patch that changes nothing
/// records no event.
#[utoipa::path(
    tag = "lists", operation_id = "update_problem_item", request_body = ProblemInput,
    params(("id" = i64, Path, description = "Problem item id"), ("If-Match" = String, Header, description = "The ETag you last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed item", body = ProblemItem, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors read only (`forbidden`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a changed owner, invalid fields, an unknown sector, or a linked hazard outside the owner's jurisdiction or your scope (pointer `/hazard_ids/N`) (`validation_failed`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/problem-items/{id}")]
pub async fn update_problem_item(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    update::<Problems>(p, state, id.into_inner(), if_match, body.body).await
}

/// List a problem item's history
///
/// Regulators and auditors who can see the item (else `404`; enterprise accounts always):
/// who changed what, and when — `create` with every field, then each `update` with
/// before/after — oldest first, from the audit log. Paged with `limit` and `cursor`;
/// `updated_since` keeps the events at or after an instant.
#[utoipa::path(
    tag = "lists", operation_id = "list_problem_item_history",
    params(("id" = i64, Path, description = "Problem item id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the item's events", body = page::Page<crate::routes::audit::AuditEvent>))
)]
#[get("/problem-items/{id}/history")]
pub async fn list_problem_item_history(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    history::<Problems>(p, state, id.into_inner(), query.paging).await
}

/// Add a measure item (制度措施清单)
///
/// Regulators only: auditors get `403 forbidden`, enterprise accounts `404` (as on every list
/// endpoint). The owner — `owner_jurisdiction_code`, a county-level unit or the city (not a
/// township), optionally with one `department_id` of that jurisdiction — must be at or below
/// your jurisdiction (`403 out_of_jurisdiction`); the city may keep county lists too.
///
/// `title`, `kind`, `lead_unit` and `target_date` are required; `doc_no` (文号) once issued;
/// `status` defaults to `planned`. `problem_ids` link problem items of owners at or below the
/// owner's jurisdiction; any other id is reported with the pointer of its element
/// (`/problem_ids/0`). An unknown owner or department and all field problems come back
/// together in one `422 validation_failed`. The creation is audited and starts the item's
/// history; `Idempotency-Key` makes a retry replay the first `201`.
#[utoipa::path(
    tag = "lists", operation_id = "create_measure_item", request_body = MeasureInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added; `Location` names the item", body = MeasureItem, headers(("Location" = String, description = "URL of the item"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a regulator (`forbidden`), or the owner is outside your jurisdiction (`out_of_jurisdiction`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); invalid fields, an unknown, township-level or department-mismatched owner, or a linked problem item outside the owner's jurisdiction (pointer `/problem_ids/N`) (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/measure-items")]
pub async fn create_measure_item(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<MeasureInput>,
) -> ApiResult<HttpResponse> {
    create::<Measures>(p, state, key, body).await
}

/// List measure items
///
/// Regulators and auditors: the items of owners at or below your jurisdiction (the city sees
/// every county's lists), each with its linked `problem_ids`; enterprise accounts get `404`.
/// Oldest first, keyset-paginated.
///
/// Filters: `owner_jurisdiction_code` (exactly that owner), `department_id`, `status`,
/// `deadline_before` and `deadline_after` (on `target_date`) and `updated_since`. An unknown
/// `status` or parameter answers `400 invalid_query`; a foreign cursor `400 invalid_cursor`.
#[utoipa::path(
    tag = "lists", operation_id = "list_measure_items", params(ItemQuery, page::PageParams, ("status" = Option<MeasureStatus>, Query, description = "Only items in this status")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of measure items", body = page::Page<MeasureItem>),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/measure-items")]
pub async fn list_measure_items(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ItemQuery>,
) -> ApiResult<HttpResponse> {
    list::<Measures>(p, state, query).await
}

/// Get a measure item
///
/// Regulators and auditors, for the items of owners at or below their jurisdiction; anything
/// else (every item, for enterprise accounts) is `404`. Includes the linked `problem_ids` and
/// the `ETag` to send as `If-Match` with a `PATCH`.
#[utoipa::path(
    tag = "lists", operation_id = "get_measure_item",
    params(("id" = i64, Path, description = "Measure item id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The item", body = MeasureItem, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/measure-items/{id}")]
pub async fn get_measure_item(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    get_one::<Measures>(p, state, id.into_inner()).await
}

/// Change a measure item
///
/// A JSON merge patch over the item (`null` clears an optional field); needs `If-Match`
/// (`428` without, `412` when stale). Any regulator whose jurisdiction contains the owner may
/// edit (the city edits county lists); auditors get `403 forbidden`, enterprise accounts `404`.
///
/// The owner (`owner_jurisdiction_code`, `department_id`) never changes
/// (`422 validation_failed`: add the item to the other owner's list instead). `problem_ids` is
/// replaced whole and checked as on create (`422`, pointer `/problem_ids/N`). Every change is
/// audited with before/after and shows in the item's history; a patch that changes nothing
/// records no event.
#[utoipa::path(
    tag = "lists", operation_id = "update_measure_item", request_body = MeasureInput,
    params(("id" = i64, Path, description = "Measure item id"), ("If-Match" = String, Header, description = "The ETag you last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed item", body = MeasureItem, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Auditors read only (`forbidden`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); a changed owner, invalid fields, or a linked problem item outside the owner's jurisdiction (pointer `/problem_ids/N`) (`validation_failed`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/measure-items/{id}")]
pub async fn update_measure_item(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    update::<Measures>(p, state, id.into_inner(), if_match, body.body).await
}

/// List a measure item's history
///
/// Regulators and auditors who can see the item (else `404`; enterprise accounts always):
/// who changed what, and when — `create` with every field, then each `update` with
/// before/after — oldest first, from the audit log. Paged with `limit` and `cursor`;
/// `updated_since` keeps the events at or after an instant.
#[utoipa::path(
    tag = "lists", operation_id = "list_measure_item_history",
    params(("id" = i64, Path, description = "Measure item id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the item's events", body = page::Page<crate::routes::audit::AuditEvent>))
)]
#[get("/measure-items/{id}/history")]
pub async fn list_measure_item_history(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    history::<Measures>(p, state, id.into_inner(), query.paging).await
}
