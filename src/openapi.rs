//! The OpenAPI 3.1 document, generated from the handlers. `hazard-registry openapi` prints it;
//! `openapi/openapi.json` is the committed copy (a test fails when they differ).

use serde_json::{json, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::routes;

/// Operations that need no token.
pub const PUBLIC_OPERATIONS: &[&str] = &[
    "healthz",
    "readyz",
    "login",
    "refresh",
    "submit_public_report",
    "track_public_report",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hazard Registry API",
        description = "事故隐患排查治理: enterprises (一企一档), hazards and their rectification, listed supervision (挂牌督办) and the two lists.\n\n\
Conventions: JSON with snake_case fields; errors are RFC 9457 `application/problem+json` with a stable `code`; \
collections are `{\"items\": [...], \"next_cursor\": ...}` with keyset pagination (`limit` ≤ 200, `cursor`); \
single resources carry an `ETag` and changes need `If-Match`; creates accept `Idempotency-Key`; \
every response carries `X-Request-Id`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    // Schemas that only query parameters name are not collected by the route list.
    components(schemas(Problem, crate::routes::hazards::HazardOrder, crate::http::export::Format, crate::routes::risk_stats::RiskUnitGroupBy, crate::domain::quarterly::ReportState)),
    tags(
        (name = "auth", description = "Sign in, refresh, sign out, who am I"),
        (name = "accounts", description = "Accounts and roles"),
        (name = "reference", description = "Jurisdictions, sectors, departments"),
        (name = "enterprises", description = "一企一档: the enterprise register"),
        (name = "hazards", description = "隐患: records, lifecycle, deadlines and extensions, attachments, timeline"),
        (name = "listings", description = "挂牌督办: listed supervision of major hazards, delisting (销号)"),
        (name = "lists", description = "两个清单: problem items, measure items, their history, and period submissions"),
        (name = "stats", description = "Regulators' statistics, computed in the database"),
        (name = "audit", description = "The append-only audit log"),
        (name = "webhooks", description = "The change feed pushed to your receiver: signed (Standard Webhooks), retried, logged"),
        (name = "reminders", description = "Deadline reminders and escalation: due soon to the enterprise, overdue to the county, escalated to the city"),
        (name = "quarterly-reports", description = "季度隐患排查治理统计: enterprises' quarterly hazard statistics reports (16号令), frozen and hashed; who reported, who is late"),
        (name = "public-reports", description = "举报 / 吹哨人: public reports sent without an account and followed by tracking code; their handling by regulators, and the reward"),
        (name = "risk-register", description = "风险分级管控: risk analysis units, risk events graded by LS or LEC, control measures"),
        (name = "inspections", description = "隐患排查: inspection tasks over control measures, their due slots (done, missed), check records raising hazards"),
        (name = "exchange", description = "双重预防 数据接入: the risk register, tasks, records and hazards in the national data-access model's layout, incremental"),
        (name = "events", description = "The change feed: every change you may see, oldest first, resumable by cursor"),
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
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The operator's scrape token, `HAZREG_METRICS_TOKEN` (not an account's token)",
                    ))
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
                if !secured {
                    // Said, not implied: this operation needs no token.
                    op.security = Some(Vec::new());
                }
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
                add("400", "The request could not be read: malformed JSON (`malformed_json`), a key given twice in one object (`duplicate_key`), a bad query (`invalid_query`: unknown parameter, bad value, control characters, a date not written YYYY-MM-DD; `invalid_cursor`) or path value (`invalid_path`)");
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
                    add("422", "The body has the wrong shape (`invalid_body`, with a pointer) or invalid values (`validation_failed`, with a pointer per value: including NUL, control or bidi-override characters, line breaks outside long text, dates not written YYYY-MM-DD)");
                }
                if params.iter().any(|p| {
                    p.name == "jurisdiction_code"
                        && matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
                }) {
                    add("422", "`jurisdiction_code` names no jurisdiction (`validation_failed`, pointing at the parameter)");
                }
                add("500", "Unexpected error (`internal_error`); details are logged under the request id, never sent");
                add(
                    "503",
                    "The database is unreachable (`database_unavailable`), or, where a password is checked or set, too many are being hashed at once (`busy`), or, for attachment files, the object storage does not answer (`storage_unavailable`); see `Retry-After`",
                );
                if op.security.as_ref().is_some_and(|s| {
                    s.iter()
                        .any(|r| serde_json::to_value(r).is_ok_and(|v| v.get("bearer").is_some()))
                }) {
                    const GATE: &str = "`second_factor_required`: an administrator whose session did not pass a second factor, while `HAZREG_ADMIN_TOTP=required` (enrol with `POST /api/v1/me/totp`)";
                    match op.responses.responses.get_mut("403") {
                        Some(utoipa::openapi::RefOr::T(r)) => {
                            r.description = format!("{}; or {GATE}", r.description);
                        }
                        Some(_) => {}
                        None => {
                            op.responses.responses.insert(
                                "403".to_string(),
                                problem_response(&format!("Forbidden: {GATE}")),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The document as served and committed: the operations collected from the one route list
/// ([`routes::configure`]), the shared conventions, flattened objects and page examples.
pub fn document() -> Value {
    use utoipa_actix_web::AppExt;
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    Conventions.modify(&mut api);
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    flatten_all_of(&mut doc);
    constrain_parameters(&mut doc);
    add_patch_schemas(&mut doc);
    add_page_examples(&mut doc);
    prune_unused_components(&mut doc);
    require_response_fields(&mut doc);
    doc
}

/// The names of the component schemas reachable from `roots`, following `$ref`s.
fn reachable(doc: &Value, roots: &[&Value]) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = Vec::new();
    for root in roots {
        collect_refs(root, &mut todo);
    }
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            if let Some(schema) = doc.pointer(&format!("/components/schemas/{name}")) {
                collect_refs(schema, &mut todo);
            }
        }
    }
    seen
}

/// The server sends every field of a response object, `null` when it has no value (only a
/// problem's `errors` and `context` are left out when empty). So a schema that only answers
/// use lists every property as `required`; generated clients then type absent as impossible
/// and `null` as the only "no value". Schemas shared with requests keep their own `required`.
fn require_response_fields(doc: &mut Value) {
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        for op in item.as_object().into_iter().flatten().map(|(_, o)| o) {
            requests.push(op.get("requestBody").cloned().unwrap_or(Value::Null));
            requests.push(op.get("parameters").cloned().unwrap_or(Value::Null));
            responses.push(op.get("responses").cloned().unwrap_or(Value::Null));
        }
    }
    let request_refs = reachable(doc, &requests.iter().collect::<Vec<_>>());
    let response_refs = reachable(doc, &responses.iter().collect::<Vec<_>>());
    for name in response_refs.difference(&request_refs) {
        if name == "Problem" {
            continue;
        }
        let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")) else {
            continue;
        };
        let Some(keys) = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().map(Value::String).collect::<Vec<_>>())
        else {
            continue;
        };
        schema["required"] = Value::Array(keys);
    }
}

/// Collection envelopes inline their item schema, which can leave an item's own component
/// unreferenced; such components are dropped, so every schema in the document is used.
fn prune_unused_components(doc: &mut Value) {
    loop {
        let mut without = doc.clone();
        if let Some(o) = without
            .pointer_mut("/components")
            .and_then(Value::as_object_mut)
        {
            o.remove("schemas");
        }
        let mut used = Vec::new();
        collect_refs(&without, &mut used);
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for schema in schemas.values() {
            collect_refs(schema, &mut used);
        }
        let unused: Vec<String> = schemas
            .keys()
            .filter(|k| !used.contains(k))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        if let Some(o) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            for k in unused {
                o.remove(&k);
            }
        }
    }
}

/// `#[serde(flatten)]` is rendered by utoipa as `allOf` of the flattened struct and the outer
/// fields. When the flattened struct is a request type (`deny_unknown_fields`, so
/// `additionalProperties: false`), that `allOf` forbids every outer field, and generators build
/// composite models. The wire has one flat object, so the document says so: the members are
/// merged into one object schema (properties and `required` united); whether other properties
/// are allowed is what the outer struct says.
fn flatten_all_of(doc: &mut Value) {
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    flatten_in(doc, &schemas);
}

fn flatten_in(v: &mut Value, schemas: &Value) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k != "example" && k != "examples" {
                    flatten_in(child, schemas);
                }
            }
            let Some(Value::Array(members)) = o.get("allOf") else {
                return;
            };
            let resolved: Option<Vec<Value>> = members
                .iter()
                .map(|m| {
                    let m = match m.get("$ref").and_then(Value::as_str) {
                        Some(r) => schemas.get(r.rsplit('/').next()?)?.clone(),
                        None => m.clone(),
                    };
                    // Only plain object members can be merged.
                    (m.get("type") == Some(&json!("object")) && m.get("allOf").is_none())
                        .then_some(m)
                })
                .collect();
            let Some(resolved) = resolved else { return };
            let mut properties = serde_json::Map::new();
            let mut required: Vec<Value> = Vec::new();
            for m in &resolved {
                if let Some(p) = m.get("properties").and_then(Value::as_object) {
                    properties.extend(p.clone());
                }
                for r in m
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !required.contains(r) {
                        required.push(r.clone());
                    }
                }
            }
            // The outer struct's own fields come last in utoipa's rendering.
            let closed = resolved
                .last()
                .and_then(|m| m.get("additionalProperties"))
                .cloned();
            o.remove("allOf");
            o.insert("type".into(), json!("object"));
            o.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                o.insert("required".into(), Value::Array(required));
            }
            if let Some(c) = closed {
                o.insert("additionalProperties".into(), c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| flatten_in(c, schemas)),
        _ => {}
    }
}

pub fn document_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

/// Clean one-line text, as the server checks every query value (`http::text`): no control
/// characters, no bidirectional overrides or isolates.
const CLEAN_LINE: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$";

/// Parameters say what the server accepts: `Idempotency-Key` is 1–255 visible ASCII
/// characters, and free-text query values are clean one-line text.
fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            for p in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if p["name"] == "Idempotency-Key" {
                    p["schema"] = json!({
                        "type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": "^[!-~]([ -~]{0,253}[!-~])?$"
                    });
                    continue;
                }
                let in_query = p["in"] == "query";
                let schema = &mut p["schema"];
                let is_text =
                    schema["type"] == "string" || schema["type"] == json!(["string", "null"]);
                let free = ["enum", "format", "pattern", "$ref"]
                    .iter()
                    .all(|k| schema.get(k).is_none());
                if in_query && is_text && free {
                    schema["pattern"] = json!(CLEAN_LINE);
                }
            }
        }
    }
}

/// A `PATCH` body is a JSON merge patch (RFC 7396) over the create body: every field may be
/// left out, and nested objects merge field by field. So each `PATCH` names a `<Name>Patch`
/// schema: the body's schema without `required`, its nested objects' schemas likewise.
fn add_patch_schemas(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object).cloned() else {
        return;
    };
    for (path, item) in paths {
        let Some(media) = item
            .pointer("/patch/requestBody/content")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (media_type, content) in media.clone() {
            let Some(name) = content
                .pointer("/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_string)
            else {
                continue;
            };
            let patch = patch_schema(doc, &name);
            let pointer = format!(
                "/paths/{}/patch/requestBody/content/{}/schema",
                path.replace('~', "~0").replace('/', "~1"),
                media_type.replace('~', "~0").replace('/', "~1")
            );
            if let Some(slot) = doc.pointer_mut(&pointer) {
                *slot = json!({"$ref": format!("#/components/schemas/{patch}")});
            }
        }
    }
}

/// Makes (once) the optional-everything twin of an object schema; returns its name.
fn patch_schema(doc: &mut Value, name: &str) -> String {
    let patch = if name.ends_with("Patch") {
        name.to_string()
    } else {
        format!("{name}Patch")
    };
    let Some(mut schema) = doc.pointer(&format!("/components/schemas/{name}")).cloned() else {
        return name.to_string();
    };
    // Bodies that are patch types already (nothing required) stay as they are.
    let requires = schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    if schema.get("type") != Some(&json!("object")) || !requires {
        return name.to_string();
    }
    if doc
        .pointer(&format!("/components/schemas/{patch}"))
        .is_some()
    {
        return patch;
    }
    if let Some(o) = schema.as_object_mut() {
        // The create example stays: a whole body is a valid patch too.
        o.remove("required");
        let description = o
            .get("description")
            .and_then(Value::as_str)
            .map(|d| format!("{d}\n\n"))
            .unwrap_or_default();
        o.insert(
            "description".into(),
            json!(format!("{description}A JSON merge patch: send only the fields to change; `null` clears an optional field; nested objects merge field by field.")),
        );
    }
    // Reserve the name first, so a schema that refers to itself terminates.
    doc["components"]["schemas"][&patch] = schema.clone();
    let mut refs = Vec::new();
    collect_refs(&schema["properties"], &mut refs);
    for r in refs {
        let nested = patch_schema(doc, &r);
        if nested != r {
            replace_ref(&mut schema["properties"], &r, &nested);
        }
    }
    doc["components"]["schemas"][&patch] = schema;
    patch
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                if let Some(n) = r.rsplit('/').next() {
                    out.push(n.to_string());
                }
            }
            o.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

fn replace_ref(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(o) => {
            if o.get("$ref").and_then(Value::as_str)
                == Some(&format!("#/components/schemas/{from}"))
            {
                o.insert("$ref".into(), json!(format!("#/components/schemas/{to}")));
            }
            o.values_mut().for_each(|c| replace_ref(c, from, to));
        }
        Value::Array(a) => a.iter_mut().for_each(|c| replace_ref(c, from, to)),
        _ => {}
    }
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
