//! The two lists (两个清单): 问题隐患清单 (problem items, linked to hazards) and 制度措施清单
//! (measure items, linked to problems), kept by a county-level or city unit, optionally for one
//! department. Regulators edit the lists of units in their reach; auditors read; enterprise
//! accounts have no access (404). Every change is kept in the item's history.

//!
//! `items`: what the endpoints answer; `checks`: the owner, link and field checks before a
//! write; `kinds`: the endpoints written once over both kinds of item; this file: the
//! operations themselves.

mod checks;
mod items;
mod kinds;

pub use checks::*;
pub use items::*;
pub use kinds::*;

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
use crate::domain::jurisdiction::Reach;
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

/// Export the problem list
///
/// Every problem item `GET /api/v1/problem-items` would list with the same filters, in the
/// same order and reach, as one file (`format=csv`, the default, or `format=xlsx`), streamed,
/// with the ledger's Chinese headers: 序号, 编号 (the item's id), 清单单位, 行业领域, 问题隐患,
/// 具体描述, 责任单位, 整改时限, 状态, 关联隐患数. Enterprise accounts get `404`. File name,
/// formats, limits and failures as for `GET /api/v1/hazards/export`.
#[utoipa::path(
    tag = "lists", operation_id = "export_problem_items",
    params(
        crate::http::export::ExportParams,
        ItemQuery,
        ("status" = Option<ProblemStatus>, Query, description = "Only items in this status"),
    ),
    security(("bearer" = [])),
    responses(
        crate::http::export::ExportResponses,
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problem-items/export")]
pub async fn export_problem_items(
    p: Principal,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> ApiResult<HttpResponse> {
    export::<Problems>(p, state, req.query_string()).await
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

/// Export the measure list
///
/// Every measure item `GET /api/v1/measure-items` would list with the same filters, in the
/// same order and reach, as one file (`format=csv`, the default, or `format=xlsx`), streamed,
/// with the ledger's Chinese headers: 序号, 编号 (the item's id), 清单单位, 制度措施, 类别, 文号,
/// 牵头单位, 完成时限, 状态, 对应问题数. Enterprise accounts get `404`. File name, formats,
/// limits and failures as for `GET /api/v1/hazards/export`.
#[utoipa::path(
    tag = "lists", operation_id = "export_measure_items",
    params(
        crate::http::export::ExportParams,
        ItemQuery,
        ("status" = Option<MeasureStatus>, Query, description = "Only items in this status"),
    ),
    security(("bearer" = [])),
    responses(
        crate::http::export::ExportResponses,
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/measure-items/export")]
pub async fn export_measure_items(
    p: Principal,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> ApiResult<HttpResponse> {
    export::<Measures>(p, state, req.query_string()).await
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
