//! Ending a listing: delisting (销号, which closes the hazard) and cancelling; the timeline.

use super::*;
use crate::domain::event::EventType;

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
                announce(c, &actor, EventType::ListingDelisted, &ended, today)?;
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
                hazards::change_whatever_version(c, row.hazard_id, &lifecycle::listing_ended())?;
                record_both(
                    c,
                    &actor,
                    "listing_cancelled",
                    &ended,
                    &json!({"listing_id": id, "reason": reason}),
                )?;
                announce(c, &actor, EventType::ListingCancelled, &ended, today)?;
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
