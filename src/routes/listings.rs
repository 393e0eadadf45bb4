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
use crate::db::{hazards, page, to_utc, write_tx, AnyConnection};
use crate::domain::hazard::{HazardLevel, HazardStatus};
use crate::domain::listing::{ListingLevel, ListingStatus};
use crate::domain::validate::Errors;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::{ApiJson, IdempotencyKey, IfMatch};
use crate::routes::audit::AuditEvent;
use crate::routes::extensions::{
    self as ext, DecisionRequest, ExtensionRequest, ExtensionResponse, Target,
};
use crate::routes::hazards::visible_hazard;
use crate::routes::PageQuery;
use crate::routes::{parse_timestamp, with_etag};
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
        let status = ListingStatus::parse(&r.status).unwrap_or(ListingStatus::Listed);
        ListingResponse {
            id: r.id,
            hazard_id: r.hazard_id,
            level: ListingLevel::parse(&r.level).unwrap_or(ListingLevel::County),
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

/// Lists a major hazard for supervision. The authority is the hazard's county for `county`
/// and its city for `city` and `province` (recorded by the city); only an administrator of the
/// authority or an ancestor may list. One active listing per hazard.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "create_listing", request_body = CreateListingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Listed; the hazard now shows `listed: true`", body = ListingResponse,
         headers(("Location" = String, description = "URL of the listing"), ("ETag" = String, description = "Version tag"))),
        (status = 403, description = "Not an administrator (`forbidden`), or the authority is outside your jurisdiction (`out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The hazard is not in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hazard already has an active listing (`already_listed`), or is closed or void (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The hazard is not major, or a field is invalid", body = Problem, content_type = "application/problem+json"),
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
    idempotency::create(&state.db, p.account_id, key, "create_listing", body.sha256, move |c| {
        let hazard = visible_hazard(c, &p, req.hazard_id)?;
        let authority = match req.level {
            ListingLevel::County => hazard.county_code.clone(),
            ListingLevel::City | ListingLevel::Province => city_code(c, &hazard.jurisdiction_code)?,
        };
        policy::listing_level(&p, req.level)?;
        policy::listing_authority(&p, &authority_path(c, &authority)?)?;
        let already = || ApiError::conflict("already_listed", "This hazard already has an active listing");
        if listings::active_for_hazard(c, hazard.id)? {
            return Err(already());
        }
        if !hazard.status().is_open() {
            return Err(ApiError::conflict("invalid_transition", format!("A {} hazard cannot be listed", hazard.status()))
                .with_context(json!({"status": hazard.status()})));
        }
        let mut e = Errors::default();
        if hazard.level() != HazardLevel::Major {
            e.add("/hazard_id", "only a major hazard can be listed");
        }
        let notice_no = e.text("/notice_no", &req.notice_no, 100);
        let requirements = e.text("/requirements", &req.requirements, 5000);
        let responsible_unit = e.text("/responsible_unit", &req.responsible_unit, 200);
        if req.deadline < today || req.deadline >= crate::domain::hazard::NO_DEADLINE {
            e.add("/deadline", "must be today or later");
        }
        e.into_result().map_err(ApiError::validation)?;
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
        .map_err(|e| crate::db::on_unique_violation(e, already))?;
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
    /// RFC 3339; only listings changed at or after this instant.
    pub updated_since: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Listings of hazards in your scope, oldest first.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "list_listings", params(ListingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of listings", body = page::Page<ListingResponse>))
)]
#[get("/listings")]
pub async fn list_listings(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<ListingQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let today = state.clock.today();
    let limit = page::limit(q.limit)?;
    let mut filter = ListingFilter {
        level: q.level.map(|v| v.as_str().to_string()),
        status: q.status.map(|v| v.as_str().to_string()),
        overdue: q.overdue,
        today: Some(today),
        jurisdiction_path: None,
        enterprise_id: q.enterprise_id,
        updated_since: parse_timestamp("updated_since", q.updated_since.as_deref())?,
        after_id: page::decode_id_cursor(q.cursor.as_deref())?,
        limit,
    };
    let jurisdiction = q.jurisdiction_code;
    let rows = state
        .db
        .run(move |c| {
            filter.jurisdiction_path =
                crate::routes::jurisdiction_filter(c, jurisdiction.as_deref())?;
            Ok(listings::list_visible(c, &p.scope(), &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page::finish(
        rows,
        limit,
        |r| r.id,
        |r| ListingResponse::new(&r, today),
    )))
}

/// One listing (with its `ETag`).
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "get_listing",
    params(("id" = i64, Path, description = "Listing id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The listing", body = ListingResponse, headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/listings/{id}")]
pub async fn get_listing(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.db.run(move |c| visible_listing(c, &p, id)).await?;
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
    if row.status != ListingStatus::Listed.as_str() {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("The listing is already {}", row.status),
        )
        .with_context(json!({"status": row.status})));
    }
    Ok(row)
}

/// Delists (销号): the hazard must be `pending_acceptance`; the listing becomes `delisted` and
/// the hazard `closed` in one transaction. An administrator of the authority or an ancestor.
/// `If-Match` (the listing's ETag) is checked when sent.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "delist_listing", request_body = DelistRequest,
    params(("id" = i64, Path, description = "Listing id"), ("If-Match" = Option<String>, Header, description = "Optional: the listing's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Delisted; the hazard is closed", body = ListingResponse),
        (status = 403, description = "Not an administrator of the authority (`forbidden`, `out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is not active, or the hazard is not pending acceptance (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The listing changed since you read it", body = Problem, content_type = "application/problem+json"),
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
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let row = checked_active(c, &p, id, &if_match)?;
                let hazard = hazards::get_visible(c, &p.scope(), row.hazard_id)?.ok_or_else(ApiError::not_found)?;
                let not_pending = |status: HazardStatus| {
                    ApiError::conflict("invalid_transition", format!("Delisting needs the hazard pending acceptance; it is {status}"))
                        .with_context(json!({"hazard_status": status}))
                };
                if hazard.status() != HazardStatus::PendingAcceptance {
                    return Err(not_pending(hazard.status()));
                }
                policy::not_the_same_user(&p, hazard.submitted_by, "delist a rectification you submitted")?;
                let note = required(&note, "/note")?;
                let now = crate::db::now();
                let ending = Ending {
                    status: Some(ListingStatus::Delisted.as_str().into()),
                    delisted_by: Some(Some(p.account_id)),
                    delisted_at: Some(Some(now)),
                    delisting_note: Some(Some(note.clone())),
                    ..Default::default()
                };
                // Listing first, hazard second: if closing the hazard fails, neither changes.
                let ended = listings::end(c, id, &ending)?.ok_or_else(ended_meanwhile)?;
                if !hazards::close_by_delisting(c, row.hazard_id)? {
                    return Err(not_pending(hazard.status()));
                }
                let details = json!({"listing_id": id, "note": note, "status": {"before": "pending_acceptance", "after": "closed"}});
                record_both(c, &actor, "delisted", &ended, &details)?;
                Ok(ended)
            })
        })
        .await?;
    Ok(with_etag(row.version, &ListingResponse::new(&row, today)))
}

/// Cancels an active listing (with a reason): the hazard is no longer listed, its state stays.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "cancel_listing", request_body = CancelRequest,
    params(("id" = i64, Path, description = "Listing id"), ("If-Match" = Option<String>, Header, description = "Optional: the listing's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = ListingResponse),
        (status = 403, description = "Not an administrator of the authority (`forbidden`, `out_of_jurisdiction`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is not active (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The listing changed since you read it", body = Problem, content_type = "application/problem+json"),
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
        .db
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

/// Everything that happened to a listing, oldest first.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "list_listing_timeline",
    params(("id" = i64, Path, description = "Listing id"), PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the listing's events", body = page::Page<AuditEvent>))
)]
#[get("/listings/{id}/timeline")]
pub async fn list_listing_timeline(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    crate::routes::audit::entity_events(&state, "listing", id, query.into_inner(), move |c| {
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
    let active = row.status == ListingStatus::Listed.as_str();
    Ok((
        Target {
            subject: Subject {
                kind: "listing",
                id,
            },
            deadline: Some(row.deadline),
            closed_to_requests: (!active).then(|| {
                ApiError::conflict(
                    "invalid_transition",
                    format!("The listing is {}", row.status),
                )
                .with_context(json!({"status": row.status}))
            }),
            open: active,
            timelines: vec![("listing", id), ("hazard", row.hazard_id)],
        },
        row,
    ))
}

/// Asks to move a listing's deadline (the enterprise or a regulator in scope).
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "create_listing_extension", request_body = ExtensionRequest,
    params(("id" = i64, Path, description = "Listing id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested", body = ExtensionResponse, headers(("Location" = String, description = "URL of the request"))),
        (status = 403, description = "Auditors cannot request extensions", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listing is not active, or a request is pending (`extension_pending`)", body = Problem, content_type = "application/problem+json"),
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
        &state.db,
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

/// The extension requests of a listing, oldest first.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "list_listing_extensions",
    params(("id" = i64, Path, description = "Listing id"), PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of extension requests", body = page::Page<ExtensionResponse>))
)]
#[get("/listings/{id}/extensions")]
pub async fn list_listing_extensions(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    ext::list_page(&state, query.into_inner(), move |c| {
        Ok(listing_target(c, &p, id)?.0.subject)
    })
    .await
}

/// One extension request of a listing.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "get_listing_extension",
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

/// Decides a listing extension: an administrator of the listing authority (or an ancestor),
/// never the one who asked. Approval moves the listing's deadline.
#[utoipa::path(
    tag = "listings", context_path = "/api/v1", operation_id = "decide_listing_extension", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "Listing id"), ("extension_id" = i64, Path, description = "Extension request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decided request", body = ExtensionResponse),
        (status = 403, description = "Not an administrator of the authority, or your own request (`separation_of_duties`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`extension_decided`), or the listing has ended", body = Problem, content_type = "application/problem+json"),
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
        .db
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
