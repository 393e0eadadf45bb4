//! Collecting field errors so a client learns everything wrong with a body at once.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request body, addressed by a JSON pointer.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) into the request body, e.g. `/uscc`.
    #[schema(example = "/uscc")]
    pub pointer: String,
    /// What is wrong, for a human.
    #[schema(example = "check character does not match (expected A)")]
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, pointer: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(pointer, message));
    }

    /// A required text: trimmed, non-empty, at most `max` characters.
    pub fn text(&mut self, pointer: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.add(pointer, "must not be empty");
        } else if v.chars().count() > max {
            self.add(pointer, format!("must be at most {max} characters"));
        }
        v.to_string()
    }

    /// An optional text: blank becomes absent.
    pub fn opt_text(&mut self, pointer: &str, value: Option<&str>, max: usize) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        if v.chars().count() > max {
            self.add(pointer, format!("must be at most {max} characters"));
        }
        Some(v.to_string())
    }

    /// A phone number: digits with optional `+`, spaces and dashes, 5–20 characters.
    pub fn opt_phone(&mut self, pointer: &str, value: Option<&str>) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        let ok = (5..=20).contains(&v.chars().count())
            && v.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '-' || c == ' ' || (c == '+' && i == 0));
        if !ok {
            self.add(
                pointer,
                "must be a phone number (digits, optional leading +, spaces or dashes)",
            );
        }
        Some(v.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}
