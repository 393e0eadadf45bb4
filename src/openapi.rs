//! The OpenAPI 3.1 document, generated from the handlers. `hazard-registry openapi` prints it;
//! `openapi/openapi.json` is the committed copy (a test fails when they differ).

use serde_json::{json, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::routes;

/// Operations that need no token.
pub const PUBLIC_OPERATIONS: &[&str] = &["healthz", "readyz", "login", "refresh"];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hazard Registry API",
        description = "事故隐患排查治理: enterprises (一企一档), hazards and their rectification, listed supervision (挂牌督办) and the two lists.\n\n\
Conventions: JSON with snake_case fields; errors are RFC 9457 `application/problem+json` with a stable `code`; \
collections are `{\"items\": [...], \"next_cursor\": ...}` with keyset pagination (`limit` ≤ 200, `cursor`); \
single resources carry an `ETag` and changes need `If-Match`; creates accept `Idempotency-Key`; \
every response carries `X-Request-Id`.",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::get_me,
        routes::accounts::create_account,
        routes::accounts::list_accounts,
        routes::accounts::get_account,
        routes::accounts::update_account,
        routes::reference::list_jurisdictions,
        routes::reference::list_sectors,
        routes::reference::list_departments,
        routes::enterprises::create_enterprise,
        routes::enterprises::list_enterprises,
        routes::enterprises::get_enterprise,
        routes::enterprises::update_enterprise,
        routes::hazards::create_hazard,
        routes::hazards::list_hazards,
        routes::hazards::get_hazard,
        routes::hazards::update_hazard,
        routes::hazards::transition_hazard,
        routes::hazards::list_hazard_timeline,
        routes::extensions::create_extension,
        routes::extensions::list_extensions,
        routes::extensions::get_extension,
        routes::extensions::decide_extension,
        routes::attachments::upload_attachment,
        routes::attachments::list_attachments,
        routes::attachments::get_attachment,
        routes::listings::create_listing,
        routes::listings::list_listings,
        routes::listings::get_listing,
        routes::listings::delist_listing,
        routes::listings::cancel_listing,
        routes::listings::list_listing_timeline,
        routes::listings::create_listing_extension,
        routes::listings::list_listing_extensions,
        routes::listings::get_listing_extension,
        routes::listings::decide_listing_extension,
        routes::lists::create_problem_item,
        routes::lists::list_problem_items,
        routes::lists::get_problem_item,
        routes::lists::update_problem_item,
        routes::lists::list_problem_item_history,
        routes::lists::create_measure_item,
        routes::lists::list_measure_items,
        routes::lists::get_measure_item,
        routes::lists::update_measure_item,
        routes::lists::list_measure_item_history,
        routes::submissions::create_submission,
        routes::submissions::list_submissions,
        routes::submissions::get_submission,
        routes::submissions::review_submission,
        routes::stats::hazard_stats,
        routes::stats::listing_stats,
        routes::audit::list_audit_events,
    ),
    components(schemas(Problem)),
    modifiers(&Conventions),
    tags(
        (name = "auth", description = "Sign in, refresh, sign out, who am I"),
        (name = "accounts", description = "Accounts and roles"),
        (name = "reference", description = "Jurisdictions, sectors, departments"),
        (name = "enterprises", description = "一企一档: the enterprise register"),
        (name = "hazards", description = "隐患: records, lifecycle, deadlines and extensions, evidence, timeline"),
        (name = "listings", description = "挂牌督办: listed supervision of major hazards, delisting (销号)"),
        (name = "lists", description = "两个清单: problem items, measure items, their history, and period submissions"),
        (name = "stats", description = "Regulators' statistics, computed in the database"),
        (name = "audit", description = "The append-only audit log"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

/// Adds what every operation shares, in one place: the bearer scheme, the problem responses
/// common to all operations, and page examples composed from the item examples.
struct Conventions;

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let params = op.parameters.clone().unwrap_or_default();
                let has_path_param = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
                let needs_if_match = params.iter().any(|p| p.name == "If-Match");
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem_response(description));
                };
                add("400", "The request could not be read: malformed JSON (`malformed_json`), a bad query (`invalid_query`, `invalid_cursor`) or path value (`invalid_path`)");
                if secured {
                    add(
                        "401",
                        "No valid bearer token (`unauthorized`); see `WWW-Authenticate`",
                    );
                }
                if has_path_param {
                    add(
                        "404",
                        "No such resource, or it is outside your scope (`not_found`)",
                    );
                }
                if needs_if_match {
                    add(
                        "412",
                        "The resource changed since you read it (`stale_etag`); read it again",
                    );
                    add("428", "`If-Match` is missing (`if_match_required`)");
                }
                if has_body {
                    add("413", "The body is larger than 1 MiB (`payload_too_large`)");
                    add(
                        "415",
                        "The body is not `application/json` (`unsupported_media_type`)",
                    );
                    add("422", "The body has the wrong shape (`invalid_body`, with a pointer) or invalid values (`validation_failed`)");
                }
                add("500", "Unexpected error (`internal_error`); details are logged under the request id, never sent");
                add(
                    "503",
                    "The database is unreachable (`database_unavailable`); see `Retry-After`",
                );
            }
        }
    }
}

/// The document as served and committed, with page examples filled in.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    add_page_examples(&mut doc);
    doc
}

pub fn document_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

/// A collection schema (`Page_T`) gets one page holding T's example as its own example.
fn add_page_examples(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let snapshot = schemas.clone();
    for (name, schema) in schemas.iter_mut().filter(|(n, _)| n.starts_with("Page_")) {
        let item = &schema["properties"]["items"]["items"];
        let item = match item.get("$ref").and_then(Value::as_str) {
            Some(r) => snapshot
                .get(r.rsplit('/').next().unwrap_or_default())
                .unwrap_or(&Value::Null),
            None => item,
        };
        match item.get("example").cloned() {
            Some(example) => schema["example"] = json!({"items": [example], "next_cursor": null}),
            None => tracing::warn!(schema = %name, "collection item has no example"),
        }
    }
}
