//! `PATCH` bodies are JSON merge patches (RFC 7396) over the resource's writable fields: the
//! patch is merged into the current writable view and the result is validated exactly like a
//! create, so there is one validation path per resource.

use serde_json::{Map, Value};

pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = strip_nulls(p),
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// Top-level fields whose value differs between two objects.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<String> = b
        .keys()
        .chain(a.keys())
        .filter(|k| b.get(*k).unwrap_or(&Value::Null) != a.get(*k).unwrap_or(&Value::Null))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7396_semantics() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        merge(
            &mut t,
            &json!({"a": 9, "b": {"c": null}, "e": null, "f": {"g": null, "h": 1}}),
        );
        assert_eq!(t, json!({"a": 9, "b": {"d": 3}, "f": {"h": 1}}));
        assert_eq!(
            changed_fields(&json!({"a": 1, "b": 2}), &json!({"a": 1, "c": 3})),
            vec!["b", "c"]
        );
    }
}
