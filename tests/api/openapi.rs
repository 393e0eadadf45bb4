//! The OpenAPI document: committed copy in sync, every operation secured (or explicitly public),
//! described, with examples and problem responses; Swagger UI served offline.

use serde_json::Value;

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
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.get("bearer").is_some()));
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
        let described = op["description"]
            .as_str()
            .or(op["summary"].as_str())
            .is_some_and(|d| d.len() > 10);
        assert!(described, "{id} ({method} {path}) has no description");
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
        if op.get("security").is_some() {
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
