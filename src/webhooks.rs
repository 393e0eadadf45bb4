//! The webhook worker, in every server process: it turns new feed events into deliveries
//! (each subscription sees what its owner's feed shows now), then claims due deliveries and
//! sends them, signed per the Standard Webhooks specification. At least once: a delivery is
//! retried with the same `webhook-id` until a 2xx, on the schedule of
//! `domain::webhook::RETRY_SCHEDULE`; claims are leased (`db::webhooks`), so several
//! processes never send the same attempt, and a process killed mid-delivery leaves a lease
//! that expires.

use std::time::{Duration, Instant};

use actix_web::web;
use rand::Rng;

use crate::auth::policy;
use crate::db::events::{self, Reader};
use crate::db::webhooks::{self as store, Claimed, NewDelivery, Outcome, WebhookRow};
use crate::db::AnyConnection;
use crate::domain::webhook;
use crate::routes::events::Event;
use crate::state::AppState;

/// Deliveries one process sends at once.
const BATCH: i64 = 16;
/// Events turned into deliveries per subscription and pass.
const FAN_OUT: i64 = 200;

pub fn start(state: &web::Data<AppState>) {
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let client = crate::webhook_client::client(
            &state.config.webhook_targets,
            state.config.webhook_timeout,
        );
        let mut tick = actix_web::rt::time::interval(state.config.webhook_poll);
        loop {
            tick.tick().await;
            if let Err(e) = state.run(|c| Ok(fan_out(c)?)).await {
                tracing::warn!(error = %e, "webhook fan-out failed");
            }
            // Send until nothing is due, then wait for the next tick.
            loop {
                match deliver_due(&state, &client).await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook delivery failed");
                        break;
                    }
                }
            }
        }
    });
}

/// Turns every enabled subscription's new events into deliveries.
pub fn fan_out(c: &mut AnyConnection) -> diesel::QueryResult<()> {
    let now = crate::db::now();
    // The feed's end: a subscription already there has nothing new, and costs no query.
    let head = events::head(c)?;
    let mut after = 0;
    loop {
        let hooks = store::enabled(c, after, 100)?;
        let Some(last) = hooks.last() else {
            return Ok(());
        };
        after = last.id;
        for hook in hooks.into_iter().filter(|h| h.cursor() < head) {
            let Some(owner) = crate::db::sessions::account_principal(c, hook.owner_id)? else {
                disable(c, &hook, "the owning account is disabled")?;
                continue;
            };
            let reader = Reader {
                scope: owner.scope(),
                audiences: policy::feed_audiences(&owner),
            };
            let found = events::page(c, &reader, hook.cursor(), &hook.event_types(), FAN_OUT)?;
            // A short page saw every event up to `head` the owner may see: the position moves
            // past the others too, so a subscription to rare types does not read the same
            // events again on every pass.
            let last = found.last().map(|e| e.position).unwrap_or(hook.cursor());
            let to = if (found.len() as i64) < FAN_OUT {
                last.max(head)
            } else {
                last
            };
            let deliveries = found
                .into_iter()
                .map(|e| {
                    let subject_key = format!("{}:{}", e.subject_type, e.subject_id);
                    let event_id = e.position.id;
                    let payload = serde_json::to_string(&Event::from(e))
                        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                    Ok(NewDelivery {
                        event_id,
                        subject_key,
                        payload,
                    })
                })
                .collect::<diesel::QueryResult<Vec<_>>>()?;
            store::fan_out(c, &hook, to, &deliveries, now)?;
        }
    }
}

fn disable(c: &mut AnyConnection, hook: &WebhookRow, reason: &str) -> diesel::QueryResult<()> {
    store::update(
        c,
        hook.id,
        hook.version,
        &store::WebhookChanges {
            enabled: Some(false),
            disabled_reason: Some(Some(reason.to_string())),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Claims a batch of due deliveries, sends them concurrently and records each attempt;
/// answers how many were sent.
async fn deliver_due(state: &AppState, client: &reqwest::Client) -> crate::error::ApiResult<usize> {
    let lease =
        chrono::Duration::from_std(state.config.webhook_timeout * 2 + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::seconds(30));
    let claimed = state
        .run(move |c| {
            let now = crate::db::now();
            let claimed = store::claim_due(c, now, now + lease, BATCH)?;
            let ids: Vec<i64> = claimed.iter().map(|d| d.webhook_id).collect();
            let hooks = store::by_ids(c, &ids)?;
            Ok((claimed, hooks))
        })
        .await?;
    let (claimed, hooks) = claimed;
    let n = claimed.len();
    let sends = claimed.into_iter().filter_map(|d| {
        let hook = hooks.iter().find(|h| h.id == d.webhook_id)?.clone();
        Some(async move {
            let outcome = send(client, state, &hook, &d).await;
            (d, outcome)
        })
    });
    let results = futures_util::future::join_all(sends).await;
    let disable_after = state.config.webhook_disable_after as i32;
    state
        .run(move |c| {
            for (d, outcome) in &results {
                store::record_attempt(c, d, outcome, disable_after)?;
            }
            Ok(())
        })
        .await?;
    Ok(n)
}

/// The `webhook-signature` header: the current secret's signature and, while a rotated-out
/// secret is still honoured, that one's too (receivers accept either).
pub fn signature(
    hook: &WebhookRow,
    msg_id: &str,
    timestamp: i64,
    payload: &[u8],
    now: chrono::NaiveDateTime,
) -> Result<String, String> {
    let sign = |secret: &str| {
        standardwebhooks::Webhook::new(secret)
            .and_then(|w| w.sign(msg_id, timestamp, payload))
            .map_err(|e| e.to_string())
    };
    let mut header = sign(&hook.secret)?;
    if let (Some(old), Some(until)) = (&hook.previous_secret, hook.previous_secret_expires_at) {
        if now < until {
            header.push(' ');
            header.push_str(&sign(old)?);
        }
    }
    Ok(header)
}

async fn send(
    client: &reqwest::Client,
    state: &AppState,
    hook: &WebhookRow,
    d: &Claimed,
) -> Outcome {
    let now = state.clock.now().naive_utc();
    let retry_at = webhook::retry_after(d.attempts, rand::thread_rng().gen_range(-1.0..=1.0))
        .map(|wait| now + wait);
    let failed =
        |error: String, status_code: Option<i32>, excerpt: Option<String>, ms: i64| Outcome {
            status_code,
            duration_ms: ms,
            error: Some(error),
            response_excerpt: excerpt,
            delivered: false,
            retry_at,
        };
    // The policy may have changed since the subscription was made.
    if let Err(why) = webhook::check_url(&hook.url, &state.config.webhook_targets) {
        return failed(format!("the target URL {why}"), None, None, 0);
    }
    let msg_id = d.event_id.to_string();
    // Receivers check the timestamp against their own clock: the real time, always.
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match signature(hook, &msg_id, timestamp, d.payload.as_bytes(), now) {
        Ok(s) => s,
        Err(e) => return failed(format!("cannot sign: {e}"), None, None, 0),
    };
    let started = Instant::now();
    let sent = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.payload.clone())
        .send()
        .await;
    let elapsed = |started: Instant| started.elapsed().as_millis() as i64;
    match sent {
        Ok(response) => {
            let status = response.status();
            let excerpt = excerpt(response).await;
            let ms = elapsed(started);
            if status.is_success() {
                Outcome {
                    status_code: Some(i32::from(status.as_u16())),
                    duration_ms: ms,
                    error: None,
                    response_excerpt: excerpt,
                    delivered: true,
                    retry_at: None,
                }
            } else {
                failed(
                    format!("HTTP {}", status.as_u16()),
                    Some(i32::from(status.as_u16())),
                    excerpt,
                    ms,
                )
            }
        }
        Err(e) => {
            let why = if e.is_timeout() {
                format!(
                    "no answer within {} s",
                    state.config.webhook_timeout.as_secs()
                )
            } else if e.is_connect() {
                format!("cannot connect: {}", source_chain(&e))
            } else {
                format!("request failed: {}", source_chain(&e))
            };
            failed(why, None, None, elapsed(started))
        }
    }
}

/// The first 512 bytes of the answer, as text without control characters.
async fn excerpt(response: reqwest::Response) -> Option<String> {
    let bytes = response.bytes().await.ok()?;
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    (!text.is_empty()).then_some(text)
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out.chars().take(500).collect()
}
