//! The OpenAPI document: committed copy in sync, every operation secured (or explicitly public),
//! described, with examples and problem responses; Swagger UI served offline.

use serde_json::{json, Value};

use crate::support::both;

fn committed() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            ops.push((path.clone(), method.clone(), op.clone()));
        }
    }
    ops
}

#[test]
fn every_transition_action_has_an_example() {
    let doc = hazard_registry::openapi::document();
    let examples = doc["paths"]["/api/v1/hazards/{id}/transitions"]["post"]["requestBody"]
        ["content"]["application/json"]["examples"]
        .as_object()
        .expect("transition examples")
        .clone();
    for action in hazard_registry::domain::hazard::Action::ALL {
        let example = examples
            .get(action.as_str())
            .unwrap_or_else(|| panic!("no example for {action}"));
        assert_eq!(example["value"]["action"], action.as_str());
    }
}

#[test]
fn committed_document_matches_the_code() {
    let generated = hazard_registry::openapi::document();
    assert!(
        committed() == generated,
        "openapi/openapi.json is out of date. Regenerate it with:\n\n    cargo run -- openapi > openapi/openapi.json\n"
    );
}

#[test]
fn every_operation_is_secured_or_explicitly_public() {
    let doc = hazard_registry::openapi::document();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        let secured = op["security"].as_array().is_some_and(|s| {
            !s.is_empty()
                && s.iter()
                    .all(|r| r.get("bearer").is_some() || r.get("metrics_token").is_some())
        });
        let public = hazard_registry::openapi::PUBLIC_OPERATIONS.contains(&id);
        assert!(
            secured != public,
            "{id}: secured={secured} but public list says {public}"
        );
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or(&Value::Null),
        None => v,
    }
}

fn has_example(doc: &Value, media: &Value) -> bool {
    media.get("example").is_some()
        || media.get("examples").is_some()
        || resolve(doc, &media["schema"]).get("example").is_some()
}

#[test]
fn every_operation_is_described_with_examples_and_problems() {
    let doc = hazard_registry::openapi::document();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or("?").to_string();
        assert!(
            op["summary"].as_str().is_some_and(|d| d.len() > 3),
            "{id} ({method} {path}) has no summary"
        );
        assert!(
            op["description"].as_str().is_some_and(|d| d.len() > 20),
            "{id} ({method} {path}) has no description"
        );
        if let Some(body) = op.get("requestBody") {
            let content = body["content"].as_object().expect("request content");
            for (media_type, media) in content {
                assert!(
                    has_example(&doc, media),
                    "{id}: {media_type} request body without an example"
                );
                if let Some(examples) = media.get("examples").and_then(Value::as_object) {
                    assert!(
                        examples.values().all(|e| e.get("value").is_some()),
                        "{id}: an example without a value"
                    );
                }
            }
        }
        let responses = op["responses"].as_object().expect("responses");
        for (status, resp) in responses {
            let resp = resolve(&doc, resp);
            assert!(
                resp["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{id} {status}: no description"
            );
            if status.starts_with('2') {
                if let Some(media) = resp["content"].get("application/json") {
                    assert!(
                        has_example(&doc, media),
                        "{id} {status}: response without an example"
                    );
                }
            } else if status == "304" {
                assert!(resp.get("content").is_none(), "{id} 304 has a body");
            } else {
                let problem = &resp["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    problem, "#/components/schemas/Problem",
                    "{id} {status} is not a problem response"
                );
            }
        }
        for status in ["400", "500", "503"] {
            assert!(
                responses.contains_key(status),
                "{id} does not document {status}"
            );
        }
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            assert!(responses.contains_key("401"), "{id} does not document 401");
        }
    }
}

both!(served_document_and_swagger_ui, |app| {
    let served = app.get("", "/api/v1/openapi.json").await;
    served.assert_status(200);
    assert_eq!(served.body, hazard_registry::openapi::document());
    let r = app.send(app.client.get(app.url("/docs"))).await;
    assert_eq!(r.status, 308);
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The bundle is served from the binary, not a CDN.
    assert!(
        !html.contains("https://"),
        "Swagger UI must not load from the network"
    );
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"));
});

#[test]
fn openapi_command_prints_the_document() {
    // The binary's `openapi` subcommand is what regenerates the committed file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hazard-registry"))
        .arg("openapi")
        .env("HAZREG_LOG", "error")
        .output()
        .expect("run hazard-registry openapi");
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed, hazard_registry::openapi::document());
}

/// Every example in the document (schema examples, media-type examples, parameter examples)
/// validates against the schema it illustrates.
#[test]
fn every_example_validates_against_its_schema() {
    let doc = hazard_registry::openapi::document();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut check = |place: String, schema: &Value, example: &Value| {
        let mut root = if schema.is_object() {
            schema.clone()
        } else {
            json!({"allOf": [schema]})
        };
        root["components"] = doc["components"].clone();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("schema compiles");
        checked += 1;
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{place}: {}", errors.join("; ")));
        }
    };
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let Some(example) = schema.get("example") {
            check(format!("schema {name}"), schema, example);
        }
        for (i, example) in schema["examples"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            check(format!("schema {name} example {i}"), schema, example);
        }
    }
    for (path, method, op) in operations(&doc) {
        let mut media_types = Vec::new();
        if let Some(c) = op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
        {
            media_types.extend(c.iter().map(|(m, v)| (format!("request {m}"), v)));
        }
        for (status, resp) in op["responses"].as_object().expect("responses") {
            if let Some(c) = resp["content"].as_object() {
                media_types.extend(c.iter().map(|(m, v)| (format!("{status} {m}"), v)));
            }
        }
        for (place, media) in media_types {
            let schema = &media["schema"];
            if let Some(example) = media.get("example") {
                check(format!("{method} {path} {place}"), schema, example);
            }
            for (name, e) in media["examples"].as_object().into_iter().flatten() {
                check(
                    format!("{method} {path} {place} example {name}"),
                    schema,
                    &e["value"],
                );
            }
        }
    }
    assert!(checked > 50, "only {checked} examples found");
    assert!(
        failures.is_empty(),
        "examples that contradict their schemas:\n{}",
        failures.join("\n")
    );
}

// The router and the document are one list (utoipa-actix-web): every documented operation is
// mounted. Called without a token, each secured operation answers 401 from its own extractor,
// never the router's 404/405; each public one answers something other than those (an unknown
// public report's tracking code is the handler's own `404 not_found`; the router's is `no_route`).
// `/metrics` is on here (it answers 404 `no_route` when off, like an unrouted path).
both!(
    every_documented_operation_is_routed,
    env = [("HAZREG_METRICS_TOKEN", "routed-check-metrics-token")],
    |app| {
        let doc = hazard_registry::openapi::document();
        let ops = operations(&doc);
        assert!(ops.len() >= 57, "{} operations", ops.len());
        for (path, method, op) in ops {
            let concrete: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = app.send(app.client.request(m, app.url(&concrete))).await;
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                r.assert_problem(401, "unauthorized");
            } else {
                assert!(
                    r.status != 405 && !(r.status == 404 && r.code() == "no_route"),
                    "{method} {path} is documented but not routed: {} {:?}",
                    r.status,
                    r.body
                );
            }
        }
    }
);
