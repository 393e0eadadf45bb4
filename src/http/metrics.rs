//! Counts and times every answer for `GET /metrics`, labelled by the route template the router
//! matched (`unmatched` for paths no route serves), so a client cannot create new series.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::state::AppState;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<actix_web::web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    // Methods outside the standard set (clients may send any token) share one label.
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res.request().match_pattern();
        let route = route.as_deref().unwrap_or("unmatched");
        m.http_requests
            .with_label_values(&[route, method, res.status().as_str()])
            .inc();
        m.http_duration
            .with_label_values(&[route, method])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}
