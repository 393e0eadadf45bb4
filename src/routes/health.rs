use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    pub status: HealthStatus,
}

crate::domain::text_enum! {
    /// Always `ok` when the answer is 200 (problems answer 503 problem+json).
    pub enum HealthStatus {
        Ok = "ok",
    }
}

/// Liveness: the process is up
///
/// Answers `200 {"status": "ok"}` whenever the process can serve HTTP. It never touches the
/// database, so a load balancer or orchestrator can use it as a liveness probe without
/// restarting the server during a database outage (use `GET /readyz` for readiness). No token
/// is needed.
#[utoipa::path(
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is alive (`{\"status\": \"ok\"}`)", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: HealthStatus::Ok,
    })
}

/// Readiness: the database answers
///
/// Runs `SELECT 1` on a pooled connection. `200 {"status": "ok"}` means requests can be
/// served; while the database is unreachable (or no connection frees up within
/// `HAZREG_DATABASE_TIMEOUT_SECS`) it answers `503 database_unavailable` with `Retry-After`,
/// and it recovers by itself when the database is back. Use it as the readiness probe of a
/// load balancer. No token is needed.
#[utoipa::path(
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "The database is reachable (`{\"status\": \"ok\"}`)", body = Health),
        (status = 503, description = "The database is unreachable or no connection was free in time (`database_unavailable`); retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state
        .run(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|e| ApiError::unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: HealthStatus::Ok,
    }))
}
