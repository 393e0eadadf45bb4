//! Until the database has been migrated and seeded (a server may start while its database is
//! down), every answer but `/healthz` and `/metrics` is `503 database_unavailable` with `Retry-After`.

use std::sync::atomic::Ordering;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let ready = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_none_or(|s| s.ready.load(Ordering::SeqCst));
    // `/metrics` answers too: an operator wants to see a server that cannot reach its database.
    if !ready && req.path() != "/healthz" && req.path() != "/metrics" {
        let e = crate::error::ApiError::unavailable("the database is not initialised yet");
        let (req, _) = req.into_parts();
        return Ok(ServiceResponse::new(
            req,
            e.error_response().map_into_right_body(),
        ));
    }
    Ok(next.call(req).await?.map_into_left_body())
}
