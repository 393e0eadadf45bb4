//! Webhook subscriptions (SPEC §8): the change feed pushed to a receiver, signed per the
//! Standard Webhooks specification, with retries and a delivery log. Sent by `crate::webhooks`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::{policy, Principal};
use crate::db::webhooks::{self as store, AttemptRow, WebhookChanges, WebhookRow};
use crate::db::{events, to_utc, write_tx};
use crate::domain::event::EventType;
use crate::domain::webhook;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::idempotency::{self, Created};
use crate::http::json::from_merged;
use crate::http::page::{self, Listing, NoFilters};
use crate::http::{ApiJson, IdempotencyKey, IfMatch};
use crate::routes::with_etag;
use crate::state::AppState;

/// A new subscription.
#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/hazard-registry", "event_types": ["hazard.created", "hazard.transitioned"], "description": "娄星区 dashboard"}))]
pub struct CreateWebhookRequest {
    /// `https://` only (plain `http://` to this machine only with
    /// `HAZREG_WEBHOOK_ALLOW_LOOPBACK=true`); never a private, link-local, loopback or metadata
    /// address, before or after DNS resolution, unless the operator lists its network.
    pub url: String,
    /// Event types to send; empty or absent: every type.
    #[serde(default)]
    pub event_types: Vec<EventType>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A change to a subscription (JSON merge patch). Enabling a disabled subscription clears
/// its failure count and reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// A subscription.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "url": "https://hooks.example.com/hazard-registry",
    "event_types": ["hazard.created", "hazard.transitioned"], "description": "娄星区 dashboard",
    "enabled": true, "disabled_reason": null, "consecutive_failures": 0,
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 1
}))]
pub struct WebhookResponse {
    pub id: i64,
    pub url: String,
    /// Empty: every type.
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the server disabled it (after `HAZREG_WEBHOOK_DISABLE_AFTER` failed attempts in a
    /// row, or when its owner was disabled).
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&WebhookRow> for WebhookResponse {
    fn from(r: &WebhookRow) -> Self {
        WebhookResponse {
            id: r.id,
            url: r.url.clone(),
            event_types: r.event_types(),
            description: r.description.clone(),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason.clone(),
            consecutive_failures: r.consecutive_failures,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
            version: r.version,
        }
    }
}

/// A subscription with its signing secret: only in the answer that creates or rotates it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "url": "https://hooks.example.com/hazard-registry", "event_types": [],
    "description": null, "enabled": true, "disabled_reason": null, "consecutive_failures": 0,
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 1,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5lIbJNAyAOY="
}))]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// `whsec_` + base64 key: verify `webhook-signature` with any Standard Webhooks library.
    /// Shown only here; keep it.
    pub secret: String,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 41, "delivery_id": 17, "event_id": "1207", "attempt": 2, "status_code": 500,
    "duration_ms": 38, "error": "HTTP 500", "response_excerpt": "internal error",
    "at": "2026-12-07T03:15:05Z"
}))]
pub struct DeliveryAttempt {
    pub id: i64,
    /// Redeliver with `POST …/deliveries/{delivery_id}/redeliver`.
    pub delivery_id: i64,
    /// The event's `id` (the `webhook-id` header).
    pub event_id: String,
    /// 1 for the first try of a delivery.
    pub attempt: i32,
    /// The receiver's status; `null` when it did not answer.
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    /// `null` on success; else what went wrong (`HTTP 500`, `no answer within 10 s`, …).
    pub error: Option<String>,
    /// The start of the receiver's answer (512 bytes at most).
    pub response_excerpt: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<AttemptRow> for DeliveryAttempt {
    fn from(r: AttemptRow) -> Self {
        DeliveryAttempt {
            id: r.id,
            delivery_id: r.delivery_id,
            event_id: r.event_id.to_string(),
            attempt: r.attempt,
            status_code: r.status_code,
            duration_ms: r.duration_ms,
            error: r.error,
            response_excerpt: r.response_excerpt,
            at: to_utc(r.at),
        }
    }
}

/// Checks a target URL (scheme, host, address after DNS resolution); `422` with a pointer.
async fn checked_url(state: &AppState, url: &str) -> ApiResult<String> {
    let refuse =
        |why: String| ApiError::invalid_field("validation_failed", "/url", format!("url {why}"));
    let policy = &state.config.webhook_targets;
    let target = webhook::check_url(url, policy).map_err(refuse)?;
    if target.host.parse::<std::net::IpAddr>().is_err() {
        // A name is resolved now (and again on every delivery): every address must be
        // allowed. A name that does not resolve yet is accepted; deliveries retry it.
        let lookup = actix_web::rt::time::timeout(
            std::time::Duration::from_secs(3),
            crate::webhook_client::allowed_addresses(&target.host, policy),
        )
        .await;
        if let Ok(Err(refused @ crate::webhook_client::HostRefused::Forbidden { .. })) = lookup {
            return Err(refuse(refused.to_string()));
        }
    }
    Ok(url.to_string())
}

fn checked_description(d: Option<String>) -> ApiResult<Option<String>> {
    let mut e = crate::domain::validate::Errors::default();
    let d = d.map(|d| e.text("/description", &d, 500));
    e.into_result().map_err(ApiError::validation)?;
    Ok(d)
}

fn types_json(types: &[EventType]) -> String {
    serde_json::to_string(&types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

fn owned(c: &mut crate::db::AnyConnection, p: &Principal, id: i64) -> ApiResult<WebhookRow> {
    store::get_owned(c, p.account_id, id)?.ok_or_else(ApiError::not_found)
}

/// Subscribe to the change feed
///
/// For `city_admin` and `county_admin` (their jurisdiction) and `enterprise` accounts (their
/// enterprise); other roles get `403 forbidden`. The subscription sees what its owner's
/// `GET /api/v1/events` shows, at the time of each event's delivery, and starts with the
/// events after its creation.
///
/// Each event is `POST`ed to `url` as JSON (the feed's event) with the Standard Webhooks
/// headers `webhook-id` (the event id: deduplicate on it), `webhook-timestamp` and
/// `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). Any 2xx is
/// success; anything else, or no answer within `HAZREG_WEBHOOK_TIMEOUT_SECS`, is retried with
/// the same `webhook-id`: after about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h and
/// 8 h (±20 %), then the delivery is `failed`. Events of one subject arrive in order. After
/// `HAZREG_WEBHOOK_DISABLE_AFTER` failed attempts in a row the subscription is disabled
/// (`disabled_reason`); `PATCH {"enabled": true}` resumes it.
///
/// The answer carries the `secret`, shown only here and on rotation.
#[utoipa::path(
    tag = "webhooks", operation_id = "create_webhook", request_body = CreateWebhookRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for the same key and body")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed; keep the `secret`", body = WebhookWithSecret,
         headers(("Location" = String, description = "URL of the subscription"))),
        (status = 403, description = "Only administrators and enterprise accounts subscribe (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL is not https, has credentials, or names (or resolves to) a loopback, private, link-local or metadata address (`validation_failed`, pointer `/url`); an unknown event type (`invalid_body`); or the `Idempotency-Key` was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    p: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: ApiJson<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    policy::subscribe_webhooks(&p)?;
    let req = body.body;
    let url = checked_url(&state, &req.url).await?;
    let description = checked_description(req.description)?;
    let secret = webhook::new_secret();
    idempotency::create(
        &state,
        p.account_id,
        key,
        "create_webhook",
        body.sha256,
        move |c| {
            // In the create's own transaction (`idempotency::create`).
            let from = events::head(c)?;
            let row = store::insert(
                c,
                &store::NewWebhook {
                    owner_id: p.account_id,
                    url: &url,
                    description: description.as_deref(),
                    event_types: &types_json(&req.event_types),
                    secret: &secret,
                    from,
                },
            )?;
            Created::new(
                format!("/api/v1/webhooks/{}", row.id),
                &WebhookWithSecret {
                    webhook: WebhookResponse::from(&row),
                    secret: row.secret.clone(),
                },
            )
        },
    )
    .await
}

/// List your subscriptions
///
/// The caller's own subscriptions, oldest first (without secrets).
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhooks", params(page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of your subscriptions", body = page::Page<WebhookResponse>))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    p: Principal,
    state: web::Data<AppState>,
    query: Listing<NoFilters>,
) -> ApiResult<HttpResponse> {
    let paging = query.paging;
    let (after, fetch) = (paging.after()?, paging.fetch());
    let rows = state
        .run(move |c| Ok(store::list_owned(c, p.account_id, after, fetch)?))
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, |r| WebhookResponse::from(&r))))
}

/// Get a subscription
///
/// Your own only; anyone else's is `404`.
#[utoipa::path(
    tag = "webhooks", operation_id = "get_webhook",
    params(("id" = i64, Path, description = "Subscription id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The subscription", body = WebhookResponse,
               headers(("ETag" = String, description = "Version tag"))))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.run(move |c| owned(c, &p, id)).await?;
    Ok(with_etag(row.version, &WebhookResponse::from(&row)))
}

/// Change a subscription
///
/// JSON merge patch of `url`, `event_types`, `description` and `enabled`, with `If-Match`
/// (`428`/`412`). The URL is checked as on creation. Enabling clears `disabled_reason` and the
/// failure count; deliveries that were waiting go out again.
#[utoipa::path(
    tag = "webhooks", operation_id = "update_webhook", request_body = UpdateWebhookRequest,
    params(("id" = i64, Path, description = "Subscription id"), ("If-Match" = String, Header, description = "The ETag you last read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription after the change", body = WebhookResponse,
         headers(("ETag" = String, description = "New version tag"))),
        (status = 422, description = "Wrong shape or an unknown event type (`invalid_body`); a refused URL (`validation_failed`, pointer `/url`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ApiJson<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let patch = body.body;
    let req: UpdateWebhookRequest = from_merged(patch.clone())?;
    // 404 and 412 come before the checks of the new values (SPEC §7); those include a DNS
    // look-up, which runs outside any transaction. The write below is version-guarded again.
    let (p2, if_match2) = (p.clone(), if_match.clone());
    state
        .run(move |c| {
            let current = owned(c, &p2, id)?;
            if_match2.check(current.version)
        })
        .await?;
    let url = match &req.url {
        Some(u) => Some(checked_url(&state, u).await?),
        None => None,
    };
    let description = match patch.get("description") {
        Some(Value::Null) => Some(None),
        Some(_) => Some(checked_description(req.description)?),
        None => None,
    };
    let changes = WebhookChanges {
        url,
        description,
        event_types: req.event_types.as_deref().map(types_json),
        enabled: req.enabled,
        disabled_reason: req.enabled.filter(|e| *e).map(|_| None),
        consecutive_failures: req.enabled.filter(|e| *e).map(|_| 0),
        ..Default::default()
    };
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let current = owned(c, &p, id)?;
                if_match.check(current.version)?;
                store::update(c, id, current.version, &changes)?
                    .ok_or_else(ApiError::precondition_failed)
            })
        })
        .await?;
    Ok(with_etag(row.version, &WebhookResponse::from(&row)))
}

/// Delete a subscription
///
/// Stops its deliveries and removes it with its delivery log. A create retried afterwards
/// with the same `Idempotency-Key` makes a new subscription (nothing to replay).
#[utoipa::path(
    tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = i64, Path, description = "Subscription id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    state
        .run(move |c| {
            write_tx(c, |c| {
                owned(c, &p, id)?;
                crate::db::idempotency::forget_created(
                    c,
                    p.account_id,
                    &format!("/api/v1/webhooks/{id}"),
                )?;
                Ok(store::delete(c, id)?)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a subscription's secret
///
/// Answers a new `secret` (shown only here). For 24 hours deliveries carry signatures by both
/// the new and the old secret (`webhook-signature: v1,… v1,…`), so receivers can switch
/// without losing a delivery.
#[utoipa::path(
    tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = i64, Path, description = "Subscription id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The subscription with its new secret", body = WebhookWithSecret))
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let secret = webhook::new_secret();
    let row = state
        .run(move |c| {
            write_tx(c, |c| {
                let current = owned(c, &p, id)?;
                let changes = WebhookChanges {
                    secret: Some(secret),
                    previous_secret: Some(Some(current.secret.clone())),
                    previous_secret_expires_at: Some(Some(
                        crate::db::now() + chrono::Duration::hours(24),
                    )),
                    ..Default::default()
                };
                store::update(c, id, current.version, &changes)?
                    .ok_or_else(ApiError::precondition_failed)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret {
        webhook: WebhookResponse::from(&row),
        secret: row.secret.clone(),
    }))
}

/// List a subscription's delivery attempts
///
/// Every attempt, oldest first: the event, the attempt number, the receiver's status code,
/// the time it took, what went wrong and the start of its answer.
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = i64, Path, description = "Subscription id"), page::PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of delivery attempts", body = page::Page<DeliveryAttempt>))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    p: Principal,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: Listing<NoFilters>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let paging = query.paging;
    let (after, fetch) = (paging.after()?, paging.fetch());
    let rows = state
        .run(move |c| {
            owned(c, &p, id)?;
            Ok(store::attempts(c, id, after, fetch)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.finish(rows, |r| r.id, DeliveryAttempt::from)))
}

/// Redeliver an event
///
/// Queues the delivery again, due now, with the same `webhook-id` and body and a fresh run of
/// retries (also for a delivery that already succeeded or failed for good).
#[utoipa::path(
    tag = "webhooks", operation_id = "redeliver_webhook_delivery",
    params(("id" = i64, Path, description = "Subscription id"), ("delivery_id" = i64, Path, description = "Delivery id (`delivery_id` of an attempt)")),
    security(("bearer" = [])),
    responses((status = 202, description = "Queued"))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    p: Principal,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = path.into_inner();
    state
        .run(move |c| {
            write_tx(c, |c| {
                owned(c, &p, id)?;
                if store::redeliver(c, id, delivery_id)? {
                    Ok(())
                } else {
                    Err(ApiError::not_found())
                }
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}
