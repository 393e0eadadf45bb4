//! Deadline extensions of a listing: requested like a hazard's, decided by the authority.

use super::*;

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
            announce: announce_listing,
        },
        row,
    ))
}

fn announce_listing(
    c: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    decided: bool,
    ext: &ExtensionResponse,
) -> ApiResult<()> {
    use crate::db::events;
    use crate::domain::event::EventType;
    let row = crate::db::listings::get(c, id)?;
    let response = ListingResponse::new(&row, crate::db::today());
    let data = events::with(&response, "extension", ext)?;
    let event_type = if decided {
        EventType::ListingExtensionDecided
    } else {
        EventType::ListingExtensionRequested
    };
    events::publish(c, actor, event_type, id, &events::Place::from(&row), &data)?;
    Ok(())
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
