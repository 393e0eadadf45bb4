//! Listed supervision (挂牌督办): a major hazard is listed by an authority, which alone may
//! delist it (销号, closing the hazard in the same transaction) or cancel the listing.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{policy, Principal};
use crate::db::audit::{self, Actor};
use crate::db::extensions::Subject;
use crate::db::listings::{self, Ending, ListingFilter, ListingRow, NewListing};
use crate::db::scope::{city_code, jurisdiction_path};
use crate::db::{hazards, to_utc, write_tx, AnyConnection};
use crate::domain::extension::ExtensionSubject;
use crate::domain::hazard::lifecycle;
use crate::domain::listing::{self, Authority, ListingTexts};
use crate::domain::listing::{ListingLevel, ListingStatus};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::page::{self, Listing};
use crate::http::{ApiJson, IdempotencyKey, IfMatch};
use crate::routes::audit::AuditEvent;
use crate::routes::extensions::{
    self as ext, DecisionRequest, ExtensionRequest, ExtensionResponse, Target,
};
use crate::routes::hazards::visible_hazard;
use crate::routes::with_etag;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "hazard_id": 7, "level": "county", "notice_no": "娄星安委办督〔2026〕3号",
    "requirements": "12 月 20 日前完成报警联锁改造，每周报送进展",
    "responsible_unit": "娄底市华兴化工有限公司", "deadline": "2026-12-20"
}))]
pub struct CreateListingRequest {
    /// A `major` hazard in your scope.
    pub hazard_id: i64,
    pub level: ListingLevel,
    /// 督办文号.
    pub notice_no: String,
    pub requirements: String,
    pub responsible_unit: String,
    pub deadline: NaiveDate,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 2, "hazard_id": 7, "level": "county", "authority_code": "431302",
    "notice_no": "娄星安委办督〔2026〕3号", "requirements": "12 月 20 日前完成报警联锁改造",
    "responsible_unit": "娄底市华兴化工有限公司", "deadline": "2026-12-20", "status": "listed",
    "overdue": false, "enterprise_id": 42, "jurisdiction_code": "431302",
    "listed_by": 5, "listed_at": "2026-12-01T02:00:00Z", "delisted_by": null, "delisted_at": null,
    "delisting_note": null, "cancelled_by": null, "cancelled_at": null, "cancel_reason": null,
    "created_at": "2026-12-01T02:00:00Z", "updated_at": "2026-12-01T02:00:00Z", "version": 1
}))]
pub struct ListingResponse {
    pub id: i64,
    pub hazard_id: i64,
    pub level: ListingLevel,
    /// The listing body's jurisdiction: the hazard's county for `county`, the city otherwise.
    pub authority_code: String,
    pub notice_no: String,
    pub requirements: String,
    pub responsible_unit: String,
    pub deadline: NaiveDate,
    pub status: ListingStatus,
    /// Still listed and today (Asia/Shanghai) is after the deadline.
    pub overdue: bool,
    pub enterprise_id: i64,
    pub jurisdiction_code: String,
    pub listed_by: i64,
    pub listed_at: DateTime<Utc>,
    pub delisted_by: Option<i64>,
    pub delisted_at: Option<DateTime<Utc>>,
    pub delisting_note: Option<String>,
    pub cancelled_by: Option<i64>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ListingResponse {
    fn new(r: &ListingRow, today: NaiveDate) -> Self {
        let status = r.status;
        ListingResponse {
            id: r.id,
            hazard_id: r.hazard_id,
            level: r.level,
            authority_code: r.authority_code.clone(),
            notice_no: r.notice_no.clone(),
            requirements: r.requirements.clone(),
            responsible_unit: r.responsible_unit.clone(),
            deadline: r.deadline,
            overdue: status == ListingStatus::Listed && today > r.deadline,
            status,
            enterprise_id: r.enterprise_id,
            jurisdiction_code: r.jurisdiction_code.clone(),
            listed_by: r.listed_by,
            listed_at: to_utc(r.listed_at),
            delisted_by: r.delisted_by,
            delisted_at: r.delisted_at.map(to_utc),
            delisting_note: r.delisting_note.clone(),
            cancelled_by: r.cancelled_by,
            cancelled_at: r.cancelled_at.map(to_utc),
            cancel_reason: r.cancel_reason.clone(),
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

fn visible_listing(c: &mut AnyConnection, p: &Principal, id: i64) -> ApiResult<ListingRow> {
    listings::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

fn authority_path(c: &mut AnyConnection, code: &str) -> ApiResult<String> {
    Ok(jurisdiction_path(c, code)?
        .ok_or_else(|| ApiError::internal("authority jurisdiction missing"))?
        .0)
}

/// Both timelines: the listing's own and its hazard's.
fn record_both(
    c: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    l: &ListingRow,
    details: &serde_json::Value,
) -> ApiResult<()> {
    audit::record(c, actor, action, "listing", &l.id.to_string(), details)?;
    audit::record(
        c,
        actor,
        action,
        "hazard",
        &l.hazard_id.to_string(),
        details,
    )?;
    Ok(())
}

/// Put a major hazard under listed supervision (挂牌督办)
///
/// Administrators only: the listing authority is the hazard's county-level unit for a `county`
/// listing and its city for `city` and `province` listings, and only an administrator whose
/// jurisdiction is the authority or an ancestor may list (`403 forbidden` for other roles,
/// `403 out_of_jurisdiction` outside it); a `province` listing is recorded by the `city_admin`
/// only (`403 forbidden`). The hazard must be in your scope (`404`), open and `major`.
///
/// One active listing per hazard (`409 already_listed`); a closed or void hazard cannot be
/// listed (`409 invalid_transition`); if the hazard changes while it is being listed the
/// request is refused (`409 write_conflict`; retry). `notice_no` (督办文号), `requirements`
/// and `responsible_unit` are required and the `deadline` is today or later (`422`). The
/// listing copies the hazard's enterprise, jurisdiction and sector; the hazard then shows
/// `listed: true` (its `ETag` changes) and can no longer be accepted, voided or regraded to
/// general until the listing is delisted or cancelled. Recorded on both timelines
/// (`create` on the listing, `listed` on the hazard); `Idempotency-Key` makes a retry replay
/// the first `201`.
#[utoipa::path(
    tag = "listings", operation_id = "create_listing", request_body = CreateListingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Listed; the hazard now shows `listed: true`", body = ListingResponse,
         headers(("Location" = String, description = "URL of the listing"), ("ETag" = String, description = "Version tag"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a `province` listing by anyone but the city administrator (`forbidden`); the listing authority is outside your jurisdiction (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The hazard (`hazard_id`) does not exist or is outside your scope (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard already has an active listing (`already_listed`), is closed or void (`invalid_transition`, with `context.status`), or changed while being listed (`write_conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); the hazard is not major (pointer `/hazard_id`), a required text is empty or too long, or the deadline is in the past (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings")]
pub async fn create_listing(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<CreateListingRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.body;
    let today = state.clock.today();
    let actor = Actor::from(&p);
    idempotency::create(
        &state, p.account_id, key, "create_listing", body.sha256, move |c| {
        let hazard = visible_hazard(c, &p, req.hazard_id)?;
        let authority = match req.level.authority() {
            Authority::CountyLevelUnit => hazard.county_code.clone(),
            Authority::City => city_code(c, &hazard.jurisdiction_code)?,
        };
        policy::listing_level(&p, req.level)?;
        policy::listing_authority(&p, &authority_path(c, &authority)?)?;
        let ListingTexts { notice_no, requirements, responsible_unit } = listing::check_new(
            hazard.state(),
            listings::active_for_hazard(c, hazard.id)?,
            ListingTexts {
                notice_no: req.notice_no,
                requirements: req.requirements,
                responsible_unit: req.responsible_unit,
            },
            req.deadline,
            today,
        )?;
        let now = crate::db::now();
        let row = listings::insert(
            c,
            &NewListing {
                hazard_id: hazard.id,
                level: req.level.as_str(),
                authority_code: &authority,
                notice_no: &notice_no,
                requirements: &requirements,
                responsible_unit: &responsible_unit,
                deadline: req.deadline,
                status: ListingStatus::Listed.as_str(),
                enterprise_id: hazard.enterprise_id,
                jurisdiction_code: &hazard.jurisdiction_code,
                sector_code: &hazard.sector_code,
                listed_by: p.account_id,
                listed_at: now,
                created_at: now,
                updated_at: now,
                version: 1,
            },
        )
        .map_err(|e| crate::db::on_unique_violation(e, || ApiError::from(listing::already_listed_refusal())))?;
        if hazards::set_listed(c, hazard.id, true, Some(hazard.version))? != 1 {
            return Err(ApiError::conflict("write_conflict", "The hazard changed while it was being listed; retry"));
        }
        let response = ListingResponse::new(&row, today);
        audit::created(c, &actor, "listing", row.id, &response)?;
        audit::record(
            c,
            &actor,
            "listed",
            "hazard",
            &hazard.id.to_string(),
            &json!({"listing_id": row.id, "level": req.level, "authority_code": authority, "notice_no": notice_no, "deadline": req.deadline}),
        )?;
        Created::new(format!("/api/v1/listings/{}", row.id), &response)
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    pub level: Option<ListingLevel>,
    pub status: Option<ListingStatus>,
    /// Still listed and past the deadline today (Asia/Shanghai), or not.
    pub overdue: Option<bool>,
    /// The hazard's jurisdiction and everything below it.
    pub jurisdiction_code: Option<String>,
    pub enterprise_id: Option<i64>,
}

/// List listings
///
/// Any signed-in account, limited to its scope: a listing is visible exactly when its hazard
/// is (regulators and auditors: jurisdiction subtree, department officers their sectors;
/// enterprise accounts: their own enterprise's). Each listing carries the computed `overdue`
/// (still listed and past its deadline today, Asia/Shanghai). Oldest first, keyset-paginated.
///
/// Filters: `level`, `status`, `overdue`, `jurisdiction_code` (the hazard's jurisdiction and
/// below; an unknown code is `400 invalid_query`), `enterprise_id` and `updated_since`.
/// Unknown parameters or bad values answer `400 invalid_query`; a foreign cursor
/// `400 invalid_cursor`.
#[utoipa::path(
    tag = "listings", operation_id = "list_listings", params(ListingQuery, page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the listings in your scope", body = page::Page<ListingResponse>))
)]
#[get("/listings")]
pub async fn list_listings(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<ListingQuery>,
) -> ApiResult<HttpResponse> {
    let Listing { filters: q, paging } = query;
    let today = state.clock.today();
    let mut filter = ListingFilter {
        level: q.level.map(|v| v.as_str().to_string()),
        status: q.status.map(|v| v.as_str().to_string()),
        overdue: q.overdue,
        today: Some(today),
        jurisdiction_path: None,
        enterprise_id: q.enterprise_id,
        updated_since: paging.updated_since,
        after_id: paging.after()?,
        fetch: paging.fetch(),
    };
    let jurisdiction = q.jurisdiction_code;
    let rows = state
        .run(move |c| {
            filter.jurisdiction_path =
                crate::routes::jurisdiction_filter(c, jurisdiction.as_deref())?;
            Ok(listings::list_visible(c, &p.scope(), &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, |r| ListingResponse::new(&r, today))))
}

/// Get a listing
///
/// Any signed-in account that can see the listed hazard (else `404`). The answer carries the
/// computed `overdue`, who listed, delisted or cancelled it and when, and its `ETag`, which
/// `POST …/delist` and `POST …/cancel` check when sent as `If-Match`.
#[utoipa::path(
    tag = "listings", operation_id = "get_listing",
    params(("id" = i64, Path, description = "Listing id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The listing", body = ListingResponse, headers(("ETag" = String, description = "Version tag, for the optional If-Match of delist and cancel"))))
)]
#[get("/listings/{id}")]
pub async fn get_listing(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.run(move |c| visible_listing(c, &p, id)).await?;
    Ok(with_etag(
        row.version,
        &ListingResponse::new(&row, state.clock.today()),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "经专家现场核查，隐患已整改到位，同意销号"}))]
pub struct DelistRequest {
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "经复核不属于重大事故隐患，撤销督办"}))]
pub struct CancelRequest {
    pub reason: String,
}

fn ended_meanwhile() -> ApiError {
    ApiError::conflict(
        "invalid_transition",
        "The listing was ended by someone else meanwhile",
    )
}

fn required(value: &str, pointer: &str) -> ApiResult<String> {
    let mut e = Errors::default();
    let v = e.text(pointer, value, 2000);
    e.into_result().map_err(ApiError::validation)?;
    Ok(v)
}

/// The checks shared by delisting and cancelling: scope, authority, optional `If-Match`, state.
fn checked_active(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<ListingRow> {
    let row = visible_listing(c, p, id)?;
    policy::listing_authority(p, &authority_path(c, &row.authority_code)?)?;
    if if_match.0.is_some() {
        if_match.check(row.version)?;
    }
    listing::check_active(row.status)?;
    Ok(row)
}

/// Delist a listing (销号), closing its hazard
///
/// For an administrator of the listing authority or of an ancestor (`403 forbidden` for other
/// roles, `403 out_of_jurisdiction` outside it). The listing must still be `listed` and its
/// hazard `pending_acceptance`, i.e. rectified and submitted (`409 invalid_transition`, with
/// `context.status` or `context.hazard_status`); the user who submitted the rectification
/// cannot delist it (`403 separation_of_duties`). The `note` (1–2000 characters) is required.
/// `If-Match` with the listing's `ETag` is optional: checked when sent (`412` when stale),
/// never required.
///
/// In one transaction the listing becomes `delisted` and the hazard `closed` (no longer
/// `listed`); if either fails, neither changes. Recorded on the listing's and the hazard's
/// timelines (`delisted`). Answers the listing with its new `ETag`.
#[utoipa::path(
    tag = "listings", operation_id = "delist_listing", request_body = DelistRequest,
    params(("id" = i64, Path, description = "Listing id"), ("If-Match" = Option<String>, Header, description = "Optional: the listing's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Delisted; the hazard is closed", body = ListingResponse, headers(("ETag" = String, description = "New version tag of the listing"))),
        (status = 403, description = "Not an administrator (`forbidden`) or not of the listing authority or an ancestor (`out_of_jurisdiction`); or you submitted the hazard's rectification (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is no longer active, or was ended meanwhile; or the hazard is not pending acceptance (`invalid_transition`, with `context.status` or `context.hazard_status`); or the hazard changed while being closed (`write_conflict`; retry)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "An `If-Match` was sent and the listing changed since (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); the `note` is missing or longer than 2000 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/delist")]
pub async fn delist_listing(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<DelistRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let note = body.body.note;
    let today = state.clock.today();
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = checked_active(c, &p, id, &if_match)?;
                let hazard = hazards::get_visible(c, &p.scope(), row.hazard_id)?
                    .ok_or_else(ApiError::not_found)?;
                // Delisting is the authority's acceptance: the hazard's own rules decide.
                let closing = lifecycle::close_by_delisting(hazard.state())?;
                policy::close_rectification(
                    &p,
                    hazard.submitted_by,
                    "delist a rectification you submitted",
                )?;
                let note = required(&note, "/note")?;
                let ending = Ending {
                    status: Some(ListingStatus::Delisted.as_str().into()),
                    delisted_by: Some(Some(p.account_id)),
                    delisted_at: Some(Some(crate::db::now())),
                    delisting_note: Some(Some(note.clone())),
                    ..Default::default()
                };
                // Listing first, hazard second: if closing the hazard fails, neither changes.
                let ended = listings::end(c, id, &ending)?.ok_or_else(ended_meanwhile)?;
                hazards::change(c, hazard.id, hazard.version, &closing.change)?.ok_or_else(
                    || {
                        ApiError::conflict(
                            "write_conflict",
                            "The hazard changed meanwhile; retry the request",
                        )
                    },
                )?;
                let mut details = closing.details;
                details["listing_id"] = json!(id);
                details["note"] = json!(note);
                record_both(c, &actor, "delisted", &ended, &details)?;
                Ok(ended)
            })
        })
        .await?;
    Ok(with_etag(row.version, &ListingResponse::new(&row, today)))
}

/// Cancel a listing
///
/// For an administrator of the listing authority or of an ancestor (`403 forbidden` for other
/// roles, `403 out_of_jurisdiction` outside it). The listing must still be `listed`
/// (`409 invalid_transition`); a `reason` (1–2000 characters) is required. `If-Match` with the
/// listing's `ETag` is optional: checked when sent (`412` when stale).
///
/// The listing becomes `cancelled`; the hazard is no longer `listed` (its `ETag` changes) but
/// keeps its state, and can again be accepted, voided or regraded to general. A pending
/// extension request of the listing can no longer be decided. Recorded on the listing's and
/// the hazard's timelines (`listing_cancelled`). Answers the listing with its new `ETag`.
#[utoipa::path(
    tag = "listings", operation_id = "cancel_listing", request_body = CancelRequest,
    params(("id" = i64, Path, description = "Listing id"), ("If-Match" = Option<String>, Header, description = "Optional: the listing's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled; the hazard is no longer listed", body = ListingResponse, headers(("ETag" = String, description = "New version tag of the listing"))),
        (status = 403, description = "Not an administrator (`forbidden`) or not of the listing authority or an ancestor (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is no longer active, or was ended meanwhile (`invalid_transition`, with `context.status`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "An `If-Match` was sent and the listing changed since (`stale_etag`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); the `reason` is missing or longer than 2000 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/cancel")]
pub async fn cancel_listing(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<CancelRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let reason = body.body.reason;
    let today = state.clock.today();
    let actor = Actor::from(&p);
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let row = checked_active(c, &p, id, &if_match)?;
                let reason = required(&reason, "/reason")?;
                let ending = Ending {
                    status: Some(ListingStatus::Cancelled.as_str().into()),
                    cancelled_by: Some(Some(p.account_id)),
                    cancelled_at: Some(Some(crate::db::now())),
                    cancel_reason: Some(Some(reason.clone())),
                    ..Default::default()
                };
                let ended = listings::end(c, id, &ending)?.ok_or_else(ended_meanwhile)?;
                hazards::set_listed(c, row.hazard_id, false, None)?;
                record_both(
                    c,
                    &actor,
                    "listing_cancelled",
                    &ended,
                    &json!({"listing_id": id, "reason": reason}),
                )?;
                Ok(ended)
            })
        })
        .await?;
    Ok(with_etag(row.version, &ListingResponse::new(&row, today)))
}

/// List a listing's timeline
///
/// Any signed-in account that can see the listing (else `404`). The listing's own audit
/// events, oldest first: `create`, `extension_requested`, `extension_approved` /
/// `extension_denied`, `delisted` and `listing_cancelled`. The same events (with `listed` for
/// the creation) are also on the hazard's timeline. Paged with `limit` and `cursor`;
/// `updated_since` keeps the events at or after an instant.
#[utoipa::path(
    tag = "listings", operation_id = "list_listing_timeline",
    params(("id" = i64, Path, description = "Listing id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the listing's events, oldest first", body = page::Page<AuditEvent>))
)]
#[get("/listings/{id}/timeline")]
pub async fn list_listing_timeline(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    crate::routes::audit::entity_events(&state, "listing", id, query.paging, move |c| {
        visible_listing(c, &p, id).map(|_| ())
    })
    .await
}

fn listing_target(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
) -> ApiResult<(Target, ListingRow)> {
    let row = visible_listing(c, p, id)?;
    let active = row.status == ListingStatus::Listed;
    Ok((
        Target {
            subject: Subject {
                kind: ExtensionSubject::Listing,
                id,
            },
            deadline: Some(row.deadline),
            closed_to_requests: listing::check_active(row.status).err(),
            open: active,
            timelines: vec![("listing", id), ("hazard", row.hazard_id)],
        },
        row,
    ))
}

/// Request a deadline extension for a listing
///
/// For an active (`listed`) listing: the enterprise's own accounts and regulators who can see
/// it may ask; auditors get `403 forbidden`. An ended listing is `409 invalid_transition`, and
/// one request may be pending at a time (`409 extension_pending`). `new_deadline` must be later
/// than the listing's `deadline` and `reason` 1–2000 characters (`422 validation_failed`).
///
/// An administrator of the listing authority decides it at
/// `POST /api/v1/listings/{id}/extensions/{extension_id}/decision`. Recorded on the listing's
/// and the hazard's timelines (`extension_requested`). `Idempotency-Key` makes a retry replay
/// the first `201`; a key is bound to this listing.
#[utoipa::path(
    tag = "listings", operation_id = "create_listing_extension", request_body = ExtensionRequest,
    params(("id" = i64, Path, description = "Listing id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested; `Location` names the request", body = ExtensionResponse, headers(("Location" = String, description = "URL of the request"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), a bad path value (`invalid_path`), or an `Idempotency-Key` that is not 1–255 visible characters (`invalid_idempotency_key`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Auditors cannot request extensions (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is not active (`invalid_transition`, with `context.status`), or a request is already pending (`extension_pending`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`); the new deadline is not later than the listing's, or the reason is missing or too long (`validation_failed`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/extensions")]
pub async fn create_listing_extension(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKey,
    body: ApiJson<ExtensionRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let req = body.body;
    idempotency::create(
        &state,
        p.account_id,
        key,
        format!("create_listing_extension:{id}"),
        body.sha256,
        move |c| {
            let (target, _) = listing_target(c, &p, id)?;
            policy::work_on_hazards(&p)?;
            ext::request(c, &p, target, &req, |e| {
                format!("/api/v1/listings/{id}/extensions/{e}")
            })
        },
    )
    .await
}

/// List a listing's extension requests
///
/// Any signed-in account that can see the listing (else `404`): its pending, approved and
/// denied requests, oldest first. `updated_since` keeps the requests made or decided at or
/// after an instant; paged with `limit` and `cursor`.
#[utoipa::path(
    tag = "listings", operation_id = "list_listing_extensions",
    params(("id" = i64, Path, description = "Listing id"), crate::http::page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the listing's extension requests", body = page::Page<ExtensionResponse>))
)]
#[get("/listings/{id}/extensions")]
pub async fn list_listing_extensions(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: crate::http::page::Listing<crate::http::page::NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    ext::list_page(&state, query.paging, move |c| {
        Ok(listing_target(c, &p, id)?.0.subject)
    })
    .await
}

/// Get an extension request of a listing
///
/// Any signed-in account that can see the listing. `404` when the listing is outside your
/// scope or the request does not belong to this listing.
#[utoipa::path(
    tag = "listings", operation_id = "get_listing_extension",
    params(("id" = i64, Path, description = "Listing id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The extension request", body = ExtensionResponse))
)]
#[get("/listings/{id}/extensions/{extension_id}")]
pub async fn get_listing_extension(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, extension_id) = path.into_inner();
    ext::get_one(&state, extension_id, move |c| {
        Ok(listing_target(c, &p, id)?.0.subject)
    })
    .await
}

/// Decide a listing's extension request
///
/// For an administrator of the listing authority or of an ancestor (`403 forbidden` for other
/// roles, `403 out_of_jurisdiction` outside it), never the account that asked
/// (`403 separation_of_duties`). `decision` is `approve` or `deny`, and the `note`
/// (1–2000 characters) is required. A decided request answers `409 extension_decided`; once
/// the listing has ended (delisted or cancelled) the decision no longer matters
/// (`409 invalid_transition`).
///
/// Approval moves the listing's `deadline` to `new_deadline` in the same transaction (the
/// listing's `ETag` changes; the hazard's own `rectification_deadline` is not touched).
/// Recorded on the listing's and the hazard's timelines (`extension_approved` or
/// `extension_denied`).
#[utoipa::path(
    tag = "listings", operation_id = "decide_listing_extension", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "Listing id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decided request", body = ExtensionResponse),
        (status = 403, description = "Not an administrator (`forbidden`) or not of the listing authority or an ancestor (`out_of_jurisdiction`); or your own request (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`extension_decided`), or the listing has ended (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong shape (`invalid_body`, e.g. a `decision` other than `approve`/`deny`); the `note` is missing or longer than 2000 characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/extensions/{extension_id}/decision")]
pub async fn decide_listing_extension(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    body: ApiJson<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, extension_id) = path.into_inner();
    let req = body.body;
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let (target, listing) = listing_target(c, &p, id)?;
                let authority = authority_path(c, &listing.authority_code)?;
                ext::decide(
                    c,
                    &p,
                    target,
                    extension_id,
                    &req,
                    |p| policy::listing_authority(p, &authority),
                    |c, d| {
                        listings::move_deadline(c, id, d)?;
                        Ok(())
                    },
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(row)))
}
