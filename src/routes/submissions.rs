//! Period submissions of the two lists (双月一调度一通报): an owner freezes its current items
//! into an immutable snapshot with a SHA-256; the city reviews it.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::events;
use crate::db::lists::{self, SubmissionFilter, SubmissionRow};
use crate::db::{to_utc, write_tx, AnyConnection};
use crate::domain::event::EventType;
use crate::domain::lists::{self as rules, ReviewDecision, SubmissionStatus};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IdempotencyKey};
use crate::routes::lists::{
    check_owner, lists_reach, measure_items, problem_items, MeasureItem, ProblemItem,
};
use crate::routes::with_etag;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"owner_jurisdiction_code": "431302", "department_id": null, "period": "2026-B6"}))]
pub struct SubmissionRequest {
    pub owner_jurisdiction_code: String,
    #[serde(default)]
    pub department_id: Option<i64>,
    /// `YYYY-Bn` (bi-monthly, n = 1–6) or `YYYY-MM`; not in the future.
    pub period: String,
}

/// The frozen lists, exactly as submitted (the hashed document).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubmittedItems {
    pub problem_items: Vec<ProblemItemSnapshot>,
    pub measure_items: Vec<MeasureItemSnapshot>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct ProblemItemSnapshot(serde_json::Value);

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct MeasureItemSnapshot(serde_json::Value);

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 4, "owner_jurisdiction_code": "431302", "department_id": null, "period": "2026-B6",
    "status": "submitted", "content_sha256": "5f2b…", "items": {"problem_items": [], "measure_items": []},
    "submitted_by": 5, "submitted_at": "2026-11-29T02:00:00Z", "reviewed_by": null, "reviewed_at": null,
    "review_opinion": null, "version": 1
}))]
pub struct SubmissionResponse {
    pub id: i64,
    pub owner_jurisdiction_code: String,
    pub department_id: Option<i64>,
    pub period: String,
    /// `submitted`, `accepted` or `returned`.
    pub status: SubmissionStatus,
    /// SHA-256 of the frozen document (hex); the same on every read.
    pub content_sha256: String,
    pub items: SubmittedItems,
    pub submitted_by: i64,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_opinion: Option<String>,
    pub version: i64,
}

impl TryFrom<SubmissionRow> for SubmissionResponse {
    type Error = ApiError;
    fn try_from(r: SubmissionRow) -> ApiResult<Self> {
        Ok(SubmissionResponse {
            id: r.id,
            items: serde_json::from_str(&r.content).map_err(ApiError::internal)?,
            owner_jurisdiction_code: r.owner_jurisdiction_code,
            department_id: r.department_id,
            period: r.period,
            status: r.status,
            content_sha256: r.content_sha256,
            submitted_by: r.submitted_by,
            submitted_at: to_utc(r.submitted_at),
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at.map(to_utc),
            review_opinion: r.review_opinion,
            version: r.version,
        })
    }
}

/// The owner's items, serialised once: these bytes are stored and hashed.
fn snapshot(c: &mut AnyConnection, owner: &str, department: Option<i64>) -> ApiResult<String> {
    #[derive(Serialize)]
    struct Doc {
        problem_items: Vec<ProblemItem>,
        measure_items: Vec<MeasureItem>,
    }
    let (problems, measures) = lists::owner_items(c, owner, department)?;
    let doc = Doc {
        problem_items: problem_items(c, problems)?,
        measure_items: measure_items(c, measures)?,
    };
    Ok(canonical(
        &serde_json::to_value(&doc).map_err(ApiError::internal)?,
    ))
}

/// Canonical JSON: object keys sorted at every level, no insignificant white space. Anyone can
/// re-serialise the returned `items` this way and get the bytes `content_sha256` is over.
pub fn canonical(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Submit an owner's two lists for a period
///
/// Freezes the current problem and measure items of exactly one owner (the jurisdiction, and
/// the department or none) into an immutable snapshot. Made by an administrator or officer
/// *of* the owner's jurisdiction (`403 forbidden` for anyone else, e.g. the city for a county
/// list, or auditors; an owner outside your reach is `403 out_of_jurisdiction`); enterprise
/// accounts get `404`. An unknown owner, or a `department_id` that is not a department of the
/// owner's jurisdiction, is `422`. An owner with empty lists may submit.
///
/// `period` is `YYYY-Bn` (bi-monthly 双月, n = 1–6) or `YYYY-MM`, and its first day not after
/// today (`422`). One live submission per owner and period (`409 already_submitted`); a
/// returned one may be submitted again. The answer carries `items` exactly as frozen and
/// `content_sha256`, the SHA-256 of their canonical JSON (keys sorted, no spaces), so a client
/// can recompute it; every read returns the same. Audited (`submit`); `Idempotency-Key` makes a
/// retry replay the first `201`.
#[utoipa::path(
    tag = "lists", operation_id = "create_submission", request_body = SubmissionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted; the items exactly as frozen", body = SubmissionResponse,
         headers(("Location" = String, description = "URL of the submission"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or officer of the owner's own jurisdiction (`forbidden`), or the owner is outside your reach (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This owner already has a live (submitted or accepted) submission for this period (`already_submitted`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); an unknown owner, a department of another jurisdiction, a malformed or future period (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/list-submissions")]
pub async fn create_submission(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<SubmissionRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let today = state.clock.today();
    let actor = Actor::from(&p);
    idempotency::create(
        &state, p.account_id, key, "create_submission", body.sha256, move |c| {
        lists_reach(&p)?;
        // One consistent view of the items and their links, even while others edit them.
        crate::db::repeatable_read(c)?;
        let mut e = Errors::default();
        if check_owner(c, &p, &req.owner_jurisdiction_code, req.department_id, &mut e)?.is_none() {
            return Err(ApiError::validation(e.0));
        }
        policy::submit_lists(&p, &req.owner_jurisdiction_code)?;
        rules::check_period(&mut e, &req.period, today);
        e.into_result().map_err(ApiError::validation)?;
        let already = || ApiError::from(rules::already_submitted());
        if lists::live_submission_exists(c, &req.owner_jurisdiction_code, req.department_id, &req.period)? {
            return Err(already());
        }
        let content = snapshot(c, &req.owner_jurisdiction_code, req.department_id)?;
        let sha = crate::auth::token::hex(&Sha256::digest(content.as_bytes()));
        let row = lists::insert_submission(c, &req.owner_jurisdiction_code, req.department_id, &req.period, &content, &sha, p.account_id)
            .map_err(|e| crate::db::on_unique_violation(e, already))?;
        audit::record(
            c,
            &actor,
            "submit",
            "list_submission",
            &row.id.to_string(),
            &json!({"owner_jurisdiction_code": row.owner_jurisdiction_code, "period": row.period, "content_sha256": sha}),
        )?;
        let id = row.id;
        let place = submission_place(&row);
        let response = SubmissionResponse::try_from(row)?;
        events::publish(c, &actor, EventType::ListSubmissionCreated, id, &place, &response)?;
        Created::new(format!("/api/v1/list-submissions/{id}"), &response)
    })
    .await
}

/// Where a submission's events belong: its owner.
fn submission_place(row: &lists::SubmissionRow) -> events::Place {
    events::Place::list_owner(
        &row.owner_jurisdiction_code,
        &row.owner_city_code,
        &row.owner_county_code,
    )
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmissionQuery {
    pub owner_jurisdiction_code: Option<String>,
    pub period: Option<String>,
    pub status: Option<SubmissionStatus>,
}

/// List submissions
///
/// Regulators and auditors: the submissions of owners at or below your jurisdiction, each with
/// its frozen `items` and `content_sha256`; enterprise accounts get `404`. Oldest first,
/// keyset-paginated. Filters: `owner_jurisdiction_code` (exactly that owner), `period`,
/// `status` (`submitted`, `accepted`, `returned`) and `updated_since` (reviews count as
/// changes). Unknown parameters or a bad `limit`/timestamp answer `400 invalid_query`; a
/// foreign cursor `400 invalid_cursor`.
#[utoipa::path(
    tag = "lists", operation_id = "list_submissions", params(SubmissionQuery, page::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of submissions", body = page::Page<SubmissionResponse>),
        (status = 404, description = "Enterprise accounts have no access to the lists (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/list-submissions")]
pub async fn list_submissions(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<SubmissionQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let f = SubmissionFilter {
        owner: q.owner_jurisdiction_code,
        period: q.period,
        status: q.status.map(|s| s.as_str().to_string()),
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
    };
    let rows = state
        .run(move |c| Ok(lists::list_submissions(c, &lists_reach(&p)?, &f)?))
        .await?;
    let page = paging.finish(rows, |r| r.id, SubmissionResponse::try_from);
    let items = page.items.into_iter().collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(page::Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Get a submission
///
/// Regulators and auditors, for owners at or below their jurisdiction; anything else (every
/// submission, for enterprise accounts) is `404`. Returns the stored snapshot: the `items`
/// exactly as frozen and the same `content_sha256` on every read, with the review (status,
/// opinion, reviewer) once made.
#[utoipa::path(
    tag = "lists", operation_id = "get_submission",
    params(("id" = i64, Path, description = "Submission id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The submission", body = SubmissionResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/list-submissions/{id}")]
pub async fn get_submission(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |c| {
            lists::submission_visible(c, &lists_reach(&p)?, id)?.ok_or_else(ApiError::not_found)
        })
        .await?;
    let version = row.version;
    Ok(with_etag(version, &SubmissionResponse::try_from(row)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "returned", "opinion": "问题清单未关联重大隐患 431302-2026-00017，请补充后重报"}))]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    pub opinion: String,
}

/// Review a submission
///
/// The city reviews: `city_admin` or `city_officer` (others `403 forbidden`), for submissions
/// in scope (`404` otherwise). `decision` is `accepted` or `returned`, with a required
/// `opinion` (1–5000 characters, `422`). Only a `submitted` submission can be reviewed
/// (`409 already_reviewed`). A `returned` period may be submitted again by the owner; the
/// frozen items and hash never change. Audited (`review`); answers the submission with its new
/// `ETag`.
#[utoipa::path(
    tag = "lists", operation_id = "review_submission", request_body = ReviewRequest,
    params(("id" = i64, Path, description = "Submission id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reviewed", body = SubmissionResponse, headers(("ETag" = String, description = "New version tag"))),
        (status = 403, description = "Only the city (`city_admin`, `city_officer`) reviews submissions (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed (`already_reviewed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`, e.g. a `decision` other than `accepted`/`returned`); the `opinion` is missing or longer than 5000 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/list-submissions/{id}/review")]
pub async fn review_submission(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: ApiJson<ReviewRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    let actor = Actor::from(&p);
    let response = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = lists::submission_visible(c, &lists_reach(&p)?, id)?
                    .ok_or_else(ApiError::not_found)?;
                policy::review_submissions(&p)?;
                rules::check_reviewable(row.status)?;
                let mut e = Errors::default();
                let opinion = e.text("/opinion", &req.opinion, 5000);
                e.into_result().map_err(ApiError::validation)?;
                let row = lists::review(c, id, req.decision.as_str(), p.account_id, &opinion)?
                    .ok_or_else(|| ApiError::from(rules::already_reviewed()))?;
                audit::record(
                    c,
                    &actor,
                    "review",
                    "list_submission",
                    &id.to_string(),
                    &json!({"decision": req.decision, "opinion": opinion}),
                )?;
                let place = submission_place(&row);
                let response = SubmissionResponse::try_from(row)?;
                events::publish(
                    c,
                    &actor,
                    EventType::ListSubmissionReviewed,
                    id,
                    &place,
                    &response,
                )?;
                Ok(response)
            })
        })
        .await?;
    Ok(with_etag(response.version, &response))
}
