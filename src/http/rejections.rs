//! Framework rejections as problem+json: bad query strings and path values, unknown routes,
//! wrong methods (405 with `Allow`, derived from the OpenAPI document so it cannot drift), and
//! a last-resort rewrite of any other non-problem error response.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::error::{ApiError, PROBLEM_CONTENT_TYPE};

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", format!("Invalid query string: {err}")).into()
}

/// A path parameter that does not parse. When the path is itself a documented route (a
/// literal one such as `/hazards/export`, which a `/hazards/{id}` of another method also
/// matched), the method is what is wrong: 405 with `Allow`.
pub fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    if let Some(routes) = req.app_data::<web::Data<RouteTable>>() {
        if let Some(methods) = routes.literal(req.path()) {
            if !methods.iter().any(|m| m == req.method().as_str()) {
                return no_route_error(req, routes).into();
            }
        }
    }
    ApiError::bad_request("invalid_path", format!("Invalid path parameter: {err}")).into()
}

/// Known paths (OpenAPI templates split into segments) and their methods.
pub struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> RouteTable {
        let value = serde_json::to_value(doc).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods = item
                    .as_object()
                    .map(|o| {
                        o.keys()
                            .filter(|k| {
                                ["get", "post", "put", "patch", "delete"].contains(&k.as_str())
                            })
                            .map(|k| k.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                routes.push((segments(path), methods));
            }
        }
        RouteTable(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        self.literal(path).or_else(|| {
            let actual = segments(path);
            self.0
                .iter()
                .find(|(template, _)| {
                    template.len() == actual.len()
                        && template
                            .iter()
                            .zip(&actual)
                            .all(|(t, a)| t.starts_with('{') || t == a)
                })
                .map(|(_, m)| m.clone())
        })
    }

    /// The methods of the documented route that is exactly `path`, with no parameter.
    fn literal(&self, path: &str) -> Option<Vec<String>> {
        let actual = segments(path);
        self.0
            .iter()
            .find(|(template, _)| *template == actual)
            .map(|(_, m)| m.clone())
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

/// The app's default service: 405 for a known path with the wrong method, else 404.
pub async fn no_route(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    no_route_error(&req, &routes).error_response()
}

fn no_route_error(req: &HttpRequest, routes: &RouteTable) -> ApiError {
    match routes.allowed(req.path()) {
        Some(methods) if !methods.iter().any(|m| m == req.method().as_str()) => {
            let allow = methods.join(", ");
            let mut e = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed here; use {allow}", req.method()),
            );
            e.allow = Some(allow);
            e
        }
        _ => ApiError::new(StatusCode::NOT_FOUND, "no_route", "No such route"),
    }
}

/// Any error response that is not already problem+json (actix's own rejections) is rewritten.
pub fn problemize<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code: &'static str = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        416 => "range_not_satisfiable",
        s if s >= 500 => "internal_error",
        _ => "request_rejected",
    };
    let detail = status.canonical_reason().unwrap_or("Request rejected");
    let error = ApiError::new(status, code, detail);
    let (req, old) = res.into_parts();
    let mut new: HttpResponse<BoxBody> = error.error_response();
    for name in [
        header::ALLOW,
        header::RETRY_AFTER,
        header::WWW_AUTHENTICATE,
        header::CONTENT_RANGE,
    ] {
        if let Some(v) = old.headers().get(&name) {
            new.headers_mut().insert(name.clone(), v.clone());
        }
    }
    let res = ServiceResponse::new(req, new).map_body(|_, b| EitherBody::<B, BoxBody>::right(b));
    Ok(ErrorHandlerResponse::Response(res))
}
