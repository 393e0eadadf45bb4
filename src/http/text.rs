//! Text hygiene, written once for every JSON body and every query string, so both databases see
//! the same input and answer the same way:
//! - NUL, other control characters (C0, DEL, C1) and the bidirectional overrides and isolates
//!   (U+202A–U+202E, U+2066–U+2069) are refused. Tab, line feed and carriage return are allowed
//!   only in long-text fields ([`LONG_TEXT`]); everything else is one line.
//! - Dates are strictly `YYYY-MM-DD` ([`DATE_FIELDS`]; chrono alone would also take
//!   `2026-1-1` or `+002026-11-20`).
//! - A JSON object with the same key twice is refused (`400 duplicate_key`): otherwise the
//!   last one would silently win (`{"action": "submit_for_acceptance", "action": "accept"}`).
//!
//! Bodies answer `422 validation_failed` with a pointer per bad value; query strings
//! `400 invalid_query`.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::{ApiError, ApiResult, FieldError};

/// Fields that may hold several lines (descriptions, measures, notes, plans).
pub const LONG_TEXT: &[&str] = &[
    "acceptance_criteria",
    "description",
    "funds_and_materials",
    "goals_and_tasks",
    "harm_and_difficulty",
    "major_reason",
    "measures",
    "methods_and_measures",
    "note",
    "opinion",
    "organization_and_personnel",
    "reason",
    "reply",
    "requirements",
    "safety_measures_and_emergency_plan",
    "situation_and_cause",
    "timeline_and_requirements",
];

/// Fields and query parameters that are calendar dates.
pub const DATE_FIELDS: &[&str] = &[
    "appointed_on",
    "deadline",
    "deadline_after",
    "deadline_before",
    "discovered_on",
    "ends_on",
    "from",
    "new_deadline",
    "rectification_deadline",
    "starts_on",
    "target_date",
    "to",
];

/// Why a character is refused, if it is.
fn refused(c: char, multiline: bool) -> Option<&'static str> {
    match c {
        '\0' => Some("must not contain NUL"),
        '\t' | '\n' | '\r' if multiline => None,
        '\t' | '\n' | '\r' => Some("must be a single line (no tabs or line breaks)"),
        c if c.is_control() => Some("must not contain control characters"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("must not contain bidirectional override characters")
        }
        _ => None,
    }
}

/// Whether a character may stand in one-line text (file names are cleaned with this).
pub fn allowed_in_line(c: char) -> bool {
    refused(c, false).is_none()
}

/// The problem with one text value, if any.
pub fn text_problem(field: &str, value: &str) -> Option<&'static str> {
    let multiline = LONG_TEXT.contains(&field);
    if let Some(reason) = value.chars().find_map(|c| refused(c, multiline)) {
        return Some(reason);
    }
    if DATE_FIELDS.contains(&field) && !is_strict_date(value) {
        return Some("must be a date written YYYY-MM-DD");
    }
    None
}

fn is_strict_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(v: &Value, field: &str, pointer: &str, out: &mut Vec<FieldError>) {
    match v {
        Value::String(s) => {
            if let Some(reason) = text_problem(field, s) {
                out.push(FieldError::new(pointer.to_string(), reason));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, field, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let here = format!("{pointer}/{}", escape(k));
                if let Some(reason) = k.chars().find_map(|c| refused(c, false)) {
                    out.push(FieldError::new(here.clone(), format!("the key {reason}")));
                }
                walk(item, k, &here, out);
            }
        }
        _ => {}
    }
}

/// Checks every string of a parsed body; `422 validation_failed` with a pointer per value.
pub fn check_body(v: &Value) -> ApiResult<()> {
    let mut errors = Vec::new();
    walk(v, "", "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Refuses a JSON text (already known to be well-formed) with a key twice in one object.
pub fn check_unique_keys(bytes: &[u8]) -> ApiResult<()> {
    serde_json::from_slice::<UniqueKeys>(bytes)
        .map(|_| ())
        .map_err(|e| {
            ApiError::bad_request(
                "duplicate_key",
                format!("The body names a key twice in one object: {e}"),
            )
        })
}

/// Deserialises any JSON, failing on a repeated key.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("`{key}`")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// Checks a raw query string: each decoded name and value must be clean text, and date
/// parameters strict. `400 invalid_query` otherwise.
pub fn check_query(raw: &str) -> ApiResult<()> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
        ApiError::bad_request("invalid_query", format!("Invalid query string: {e}"))
    })?;
    for (name, value) in pairs {
        let problem = name
            .chars()
            .chain(value.chars())
            .find_map(|c| refused(c, false))
            .or_else(|| {
                (DATE_FIELDS.contains(&name.as_str()) && !is_strict_date(&value))
                    .then_some("must be a date written YYYY-MM-DD")
            });
        if let Some(reason) = problem {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("The query parameter {} {reason}", name.escape_debug()),
            ));
        }
    }
    Ok(())
}

/// Middleware: refuses a request whose query string carries unclean text, before any handler
/// (or database) sees it.
pub async fn middleware(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::ResponseError;
    if let Err(e) = check_query(req.query_string()) {
        let (req, _) = req.into_parts();
        let res = e.error_response().map_into_right_body();
        return Ok(actix_web::dev::ServiceResponse::new(req, res));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_it_should_and_keeps_the_rest() {
        assert!(check_body(&json!({"title": "配电室 A-1"})).is_ok());
        assert!(check_body(&json!({"description": "第一行\n第二行\t缩进"})).is_ok());
        for bad in [
            json!({"title": "a\u{0}b"}),
            json!({"title": "two\nlines"}),
            json!({"title": "\u{1b}[31mred"}),
            json!({"title": "bell\u{7}"}),
            json!({"title": "evil\u{202E}txt"}),
            json!({"description": "nul\u{0}"}),
            json!({"major_report": {"situation_and_cause": "x\u{85}"}}),
            json!({"rectification_deadline": "2026-1-1"}),
            json!({"rectification_deadline": "+002026-11-20"}),
            json!({"hazard_ids": ["\u{0}"]}),
        ] {
            assert!(check_body(&bad).is_err(), "{bad}");
        }
        assert!(check_body(&json!({"rectification_deadline": "2026-11-20"})).is_ok());
    }

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert!(check_unique_keys(br#"{"a": 1, "b": {"c": [1, {"d": 2}]}}"#).is_ok());
        assert!(check_unique_keys(br#"{"action": "x", "action": "accept"}"#).is_err());
        assert!(check_unique_keys(br#"{"a": [{"k": 1, "k": 2}]}"#).is_err());
    }

    #[test]
    fn query_strings() {
        assert!(check_query("q=%E9%85%8D%E7%94%B5&limit=5").is_ok());
        assert!(check_query("q=%00").is_err());
        assert!(check_query("q=%1B%5B31m").is_err());
        assert!(check_query("from=2026-1-1").is_err());
        assert!(check_query("from=2026-01-01").is_ok());
    }
}
