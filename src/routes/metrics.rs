//! `GET /metrics`: the Prometheus scrape (`crate::metrics`). Off unless configured: with
//! `HAZREG_METRICS_TOKEN` it answers on the API's address to that bearer token; with
//! `HAZREG_METRICS_BIND` it also answers, without a token, on that (private) address alone.

use actix_web::{get, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Prometheus metrics
///
/// The Prometheus text exposition format (0.0.4): HTTP requests by route template, method and
/// status with a latency histogram (`hazreg_http_*`), the database pool (`hazreg_db_pool_*`),
/// the password hashing queue (`hazreg_password_hash_*`), the timed background jobs
/// (`hazreg_background_job_*`) and `hazreg_build_info`.
///
/// Off by default: `404 no_route` unless the server was started with `HAZREG_METRICS_TOKEN`,
/// whose value is then the bearer token this operation takes (it is not an account's token).
/// With `HAZREG_METRICS_BIND` the same answer is also served, without a token, on that
/// separate address, which should be reachable by the scraper only.
#[utoipa::path(
    tag = "operations",
    operation_id = "get_metrics",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "The metrics, in the Prometheus text format 0.0.4", body = String, content_type = "text/plain",
         example = "# HELP hazreg_build_info Always 1; the labels say which build serves and on which database.\n# TYPE hazreg_build_info gauge\nhazreg_build_info{backend=\"sqlite\",version=\"0.1.0\"} 1\n"),
        (status = 401, description = "Metrics are on, but the bearer token is missing or is not `HAZREG_METRICS_TOKEN` (`unauthorized`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are off on this address (`no_route`): no `HAZREG_METRICS_TOKEN` is set", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn get_metrics(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let Some(expected) = &state.config.metrics_token else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "no_route",
            "No such route",
        ));
    };
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests are compared, so the time taken says nothing about the token's characters.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(ApiError::unauthorized(
            "GET /metrics needs the bearer token set in HAZREG_METRICS_TOKEN",
        ));
    }
    Ok(scrape(&state))
}

/// The scrape itself, for either address.
pub fn scrape(state: &AppState) -> HttpResponse {
    let m = &state.metrics;
    let pool = state.db.pool.state();
    m.pool_connections
        .with_label_values(&["idle"])
        .set(i64::from(pool.idle_connections));
    m.pool_connections
        .with_label_values(&["in_use"])
        .set(i64::from(pool.connections - pool.idle_connections));
    let (hashing, queued) = state.passwords.load();
    m.hash_slots
        .with_label_values(&["hashing"])
        .set(hashing as i64);
    m.hash_slots
        .with_label_values(&["queued"])
        .set(queued as i64);
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(m.render())
}

/// The handler of the separate metrics address (`HAZREG_METRICS_BIND`): no token.
pub async fn scrape_private(state: web::Data<AppState>) -> HttpResponse {
    scrape(&state)
}
