//! Why the rules say no. Domain functions and the policy answer with a [`Refusal`]; the HTTP
//! layer renders it as problem+json (`error::ApiError: From<Refusal>`), so the rules never
//! depend on the web framework.

use serde_json::Value;

use super::validate::FieldError;

/// What kind of no: the status class the HTTP layer gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// 403: the caller's role or relation to the record may not.
    Forbidden,
    /// 404: not there, or outside the caller's scope.
    NotFound,
    /// 409: the current state of the record does not allow it.
    Conflict,
    /// 422: the values are not acceptable.
    Invalid,
}

/// A rule refused a request: a stable `code` for programs, a `detail` for people, and the
/// fields or facts a client can act on.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub context: Option<Value>,
}

impl Refusal {
    fn new(kind: RefusalKind, code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            kind,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            context: None,
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal::new(RefusalKind::Forbidden, code, detail)
    }

    pub fn not_found() -> Refusal {
        Refusal::new(
            RefusalKind::NotFound,
            "not_found",
            "No such resource, or it is outside your scope",
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal::new(RefusalKind::Conflict, code, detail)
    }

    /// `422 validation_failed` with every field that is wrong.
    pub fn invalid(errors: Vec<FieldError>) -> Refusal {
        let n = errors.len();
        let mut r = Refusal::new(
            RefusalKind::Invalid,
            "validation_failed",
            if n == 1 {
                "1 field is invalid".to_string()
            } else {
                format!("{n} fields are invalid")
            },
        );
        r.errors = errors;
        r
    }

    /// `422 validation_failed` for one field.
    pub fn invalid_field(pointer: &str, message: impl Into<String>) -> Refusal {
        Refusal::invalid(vec![FieldError::new(pointer, message)])
    }

    /// A 422 with its own code (`prerequisites_missing`, …) and the fields concerned.
    pub fn unprocessable(
        code: &'static str,
        detail: impl Into<String>,
        errors: Vec<FieldError>,
    ) -> Refusal {
        let mut r = Refusal::new(RefusalKind::Invalid, code, detail);
        r.errors = errors;
        r
    }

    pub fn with_context(mut self, context: Value) -> Refusal {
        self.context = Some(context);
        self
    }
}

/// The answer of a rule that only says yes or no.
pub type Verdict = Result<(), Refusal>;
