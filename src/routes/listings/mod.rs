//! Listed supervision (挂牌督办): a major hazard is listed by an authority, which alone may
//! delist it (销号, closing the hazard in the same transaction) or cancel the listing.

//!
//! This file: the listing itself (create, list, get); `ending`: delisting (销号), cancelling and
//! the timeline; `extensions`: deadline extensions of a listing.

mod ending;
mod export;
mod extensions;

pub use ending::*;
pub use export::*;
pub use extensions::*;

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

pub(super) fn visible_listing(
    c: &mut AnyConnection,
    p: &Principal,
    id: i64,
) -> ApiResult<ListingRow> {
    listings::get_visible(c, &p.scope(), id)?.ok_or_else(ApiError::not_found)
}

pub(super) fn authority_path(c: &mut AnyConnection, code: &str) -> ApiResult<String> {
    Ok(jurisdiction_path(c, code)?
        .ok_or_else(|| ApiError::internal("authority jurisdiction missing"))?
        .0)
}

/// Both timelines: the listing's own and its hazard's.
pub(super) fn record_both(
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

/// The change feed's events of a listing change: the listing's own, and `hazard.updated` for
/// its hazard, whose `listed` flag (and, on delisting, status) moved with it.
pub(super) fn announce(
    c: &mut AnyConnection,
    actor: &Actor,
    event_type: crate::domain::event::EventType,
    listing: &ListingRow,
    today: NaiveDate,
) -> ApiResult<()> {
    use crate::db::events::{self, Place};
    let response = ListingResponse::new(listing, today);
    events::publish(
        c,
        actor,
        event_type,
        listing.id,
        &Place::from(listing),
        &response,
    )?;
    let hazard = hazards::get(c, listing.hazard_id)?;
    let data = crate::routes::hazards::HazardResponse::new(&hazard, today);
    events::publish(
        c,
        actor,
        crate::domain::event::EventType::HazardUpdated,
        hazard.id,
        &Place::from(&hazard),
        &data,
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
                city_code: &hazard.city_code,
                county_code: &hazard.county_code,
                sector_code: &hazard.sector_code,
                listed_by: p.account_id,
                listed_at: now,
                created_at: now,
                updated_at: now,
                version: 1,
            },
        )
        .map_err(|e| crate::db::on_unique_violation(e, || ApiError::from(listing::already_listed_refusal())))?;
        if hazards::change(c, hazard.id, hazard.version, &lifecycle::listing_started())?.is_none() {
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
        announce(c, &actor, crate::domain::event::EventType::ListingCreated, &row, today)?;
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

/// The list's filter from its query (the first page; `jurisdiction_code` is resolved on a
/// connection). The export reads the same.
fn listing_filter(
    q: ListingQuery,
    today: NaiveDate,
    updated_since: Option<chrono::NaiveDateTime>,
) -> ListingFilter {
    ListingFilter {
        level: q.level.map(|v| v.as_str().to_string()),
        status: q.status.map(|v| v.as_str().to_string()),
        overdue: q.overdue,
        today: Some(today),
        jurisdiction: None,
        enterprise_id: q.enterprise_id,
        updated_since,
        after_id: None,
        fetch: 1,
    }
}

/// List listings
///
/// Any signed-in account, limited to its scope: a listing is visible exactly when its hazard
/// is (regulators and auditors: jurisdiction subtree, department officers their sectors;
/// enterprise accounts: their own enterprise's). Each listing carries the computed `overdue`
/// (still listed and past its deadline today, Asia/Shanghai). Oldest first, keyset-paginated.
///
/// Filters: `level`, `status`, `overdue`, `jurisdiction_code` (the hazard's jurisdiction and
/// below; an unknown code is `422 validation_failed`), `enterprise_id` and `updated_since`.
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
    let jurisdiction = q.jurisdiction_code.clone();
    let mut filter = listing_filter(q, today, paging.updated_since);
    filter.after_id = paging.after()?;
    filter.fetch = paging.fetch();
    let rows = state
        .run(move |c| {
            filter.jurisdiction = crate::routes::jurisdiction_filter(c, jurisdiction.as_deref())?;
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
