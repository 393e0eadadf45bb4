//! The published contract checked on the wire: every request the suite sends and every answer it
//! receives (through `TestApp::send`) is compared with the OpenAPI document the server serves.
//!
//! - The answer's status must be documented for the operation, its `Content-Type` must be one the
//!   document lists for that status, and a JSON body must validate against that schema (JSON
//!   Schema 2020-12, formats asserted). Response objects are validated *strictly*: a property the
//!   document does not list fails, so the document describes exactly what the server sends.
//! - A JSON request body the document rejects must not be accepted (2xx), and one the document
//!   allows must not be refused as malformed (`malformed_json`, `invalid_body`): the request
//!   schemas say exactly what the server reads.
//! - A path the document does not know answers 404 problem+json; a known path with an
//!   undocumented method answers 405 problem+json.
//!
//! A mismatch panics with the operation, the status and the validator's message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

struct Operation {
    template: Vec<String>,
    /// JSON pointer of the path item, e.g. `/paths/~1api~1v1~1hazards~1{id}`.
    pointer: String,
    methods: Vec<String>,
}

pub struct Contract {
    /// The document as served.
    doc: Value,
    /// The same, with `additionalProperties: false` on every object schema that lists its
    /// properties and says nothing else: responses are checked against this one.
    strict: Value,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<(bool, String), Arc<jsonschema::Validator>>>,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

fn make_strict(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let is_object_schema = o.get("properties").is_some_and(Value::is_object)
                && !o.contains_key("additionalProperties")
                && !o.contains_key("allOf");
            if is_object_schema {
                o.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (k, child) in o.iter_mut() {
                // Examples are data, not schemas.
                if k != "example" && k != "examples" {
                    make_strict(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(make_strict),
        _ => {}
    }
}

pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = hazard_registry::openapi::document();
        let mut strict = doc.clone();
        make_strict(&mut strict);
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let methods = item
                .as_object()
                .map(|o| {
                    o.keys()
                        .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            operations.push(Operation {
                template: segments(path),
                pointer: format!("/paths/{}", escape(path)),
                methods,
            });
        }
        Contract {
            doc,
            strict,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// What the checker needs to know of one exchange.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub request_content_type: Option<&'a str>,
    pub request_body: Option<&'a [u8]>,
    pub status: u16,
    pub response_content_type: Option<&'a str>,
    pub response_body: &'a [u8],
}

fn media_type(raw: Option<&str>) -> Option<String> {
    raw.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
    .filter(|c| !c.is_empty())
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

impl Contract {
    fn operation(&self, path: &str) -> Option<&Operation> {
        let actual = segments(path);
        self.operations
            .iter()
            .filter(|op| {
                op.template.len() == actual.len()
                    && op
                        .template
                        .iter()
                        .zip(&actual)
                        .all(|(t, a)| t.starts_with('{') || t == a)
            })
            // The most literal template wins (`/listings/{id}/delist` over `/listings/{id}/{x}`).
            .max_by_key(|op| op.template.iter().filter(|t| !t.starts_with('{')).count())
    }

    fn validator(&self, strict: bool, pointer: &str) -> Arc<jsonschema::Validator> {
        let key = (strict, pointer.to_string());
        if let Some(v) = self.validators.lock().expect("lock").get(&key) {
            return v.clone();
        }
        let source = if strict { &self.strict } else { &self.doc };
        // The schema, with the document's components beside it so `#/components/...` references
        // resolve against the root.
        let mut root = source
            .pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("no schema at {pointer}"));
        if !root.is_object() {
            root = json!({"allOf": [root]});
        }
        root["components"] = source["components"].clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .expect("lock")
            .insert(key, validator.clone());
        validator
    }

    fn errors(&self, strict: bool, pointer: &str, instance: &Value) -> Vec<String> {
        self.validator(strict, pointer)
            .iter_errors(instance)
            .map(|e| format!("{} at `{}`", e, e.instance_path()))
            .take(8)
            .collect()
    }

    /// Panics when the exchange contradicts the document.
    #[track_caller]
    pub fn check(&self, x: &Exchange<'_>) {
        let method = x.method.to_ascii_lowercase();
        let response_media = media_type(x.response_content_type);
        let response_json: Option<Value> = response_media
            .as_deref()
            .filter(|m| is_json(m))
            .and_then(|_| serde_json::from_slice(x.response_body).ok());
        let Some(op) = self.operation(x.path) else {
            if x.path.starts_with("/api/v1/") && x.path != "/api/v1/openapi.json" {
                self.check_problem(x, 404, response_media.as_deref(), response_json.as_ref());
            }
            return;
        };
        if !op.methods.contains(&method) {
            if method != "options" {
                self.check_problem(x, 405, response_media.as_deref(), response_json.as_ref());
            }
            return;
        }
        let op_pointer = format!("{}/{}", op.pointer, method);
        let operation = self.doc.pointer(&op_pointer).expect("operation");
        let label = format!(
            "{} {} ({})",
            x.method,
            x.path,
            operation["operationId"].as_str().unwrap_or("?")
        );

        self.check_request(x, operation, &op_pointer, &label);

        let status = x.status.to_string();
        let Some(response) = operation["responses"].get(&status) else {
            panic!(
                "contract: {label} answered {status}, which the document does not list (it lists {:?}); body: {}",
                operation["responses"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default(),
                String::from_utf8_lossy(x.response_body)
            );
        };
        let content = response
            .get("content")
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty());
        if x.response_body.is_empty() {
            assert!(
                content.is_none(),
                "contract: {label} answered {status} with no body, but the document describes one"
            );
            return;
        }
        let Some(content) = content else {
            panic!(
                "contract: {label} answered {status} with a body, but the document describes none: {}",
                String::from_utf8_lossy(x.response_body)
            );
        };
        let Some(media) = response_media.as_deref() else {
            panic!("contract: {label} answered {status} with a body and no Content-Type");
        };
        let Some(entry) = content.get(media) else {
            panic!(
                "contract: {label} answered {status} as `{media}`, which the document does not list ({:?})",
                content.keys().collect::<Vec<_>>()
            );
        };
        if !is_json(media) || entry.get("schema").is_none() {
            return;
        }
        let body = response_json.unwrap_or_else(|| {
            panic!(
                "contract: {label} answered {status} `{media}` that is not JSON: {}",
                String::from_utf8_lossy(x.response_body)
            )
        });
        let pointer = format!(
            "{op_pointer}/responses/{status}/content/{}/schema",
            escape(media)
        );
        let errors = self.errors(true, &pointer, &body);
        assert!(
            errors.is_empty(),
            "contract: {label} answered {status} with a body the document does not describe:\n  {}\nbody: {body}",
            errors.join("\n  ")
        );
    }

    fn check_request(&self, x: &Exchange<'_>, operation: &Value, op_pointer: &str, label: &str) {
        let Some(bytes) = x.request_body.filter(|b| !b.is_empty()) else {
            return;
        };
        let Some(media) = media_type(x.request_content_type).filter(|m| is_json(m)) else {
            return;
        };
        let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
            return; // malformed on purpose; the server's answer is checked like any other
        };
        let Some(request) = operation.get("requestBody") else {
            return;
        };
        if request["content"].get(&media).is_none() {
            return;
        }
        let pointer = format!("{op_pointer}/requestBody/content/{}/schema", escape(&media));
        let errors = self.errors(false, &pointer, &body);
        let accepted = (200..300).contains(&x.status);
        assert!(
            !accepted || errors.is_empty(),
            "contract: {label} accepted ({}) a body its request schema refuses:\n  {}\nbody: {body}",
            x.status,
            errors.join("\n  ")
        );
        if errors.is_empty() && matches!(x.status, 400 | 422) {
            let code = serde_json::from_slice::<Value>(x.response_body)
                .ok()
                .and_then(|b| b["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            assert!(
                code != "invalid_body" && code != "malformed_json",
                "contract: {label} refused as `{code}` a body its request schema allows: {body}\nanswer: {}",
                String::from_utf8_lossy(x.response_body)
            );
        }
    }

    fn check_problem(
        &self,
        x: &Exchange<'_>,
        status: u16,
        media: Option<&str>,
        body: Option<&Value>,
    ) {
        assert_eq!(
            x.status, status,
            "contract: {} {} is not in the document, so it must answer {status}; got {}",
            x.method, x.path, x.status
        );
        assert_eq!(
            media,
            Some("application/problem+json"),
            "contract: {} {}",
            x.method,
            x.path
        );
        let body = body.expect("problem body");
        let errors = self.errors(true, "/components/schemas/Problem", body);
        assert!(errors.is_empty(), "contract: problem body: {errors:?}");
    }
}
