//! Pure domain types and rules: no actix, no diesel.

/// A closed set of snake_case values stored as TEXT (with a CHECK constraint) and sent as JSON
/// strings: one declaration gives the enum, its schema and both conversions.
macro_rules! text_enum {
    ($(#[doc = $doc:literal])* pub enum $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[doc = $vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// A value read back from storage; anything else is a corrupt row, reported as
            /// such and never guessed.
            pub fn from_stored(s: &str) -> Result<$name, $crate::domain::UnknownValue> {
                $name::parse(s).ok_or_else(|| $crate::domain::UnknownValue {
                    set: stringify!($name),
                    value: s.chars().take(64).collect(),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // The schema is written here, not derived: utoipa's derive does not see a
        // `#[serde(rename = $text)]` made inside a macro and would document the Rust variant
        // names. The enum lists exactly the wire values.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::text_enum_schema(&[$($text),+], &[$($doc),*]).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A stored text that is not a member of its closed set.
#[derive(Debug, thiserror::Error)]
#[error("stored {set} value {value:?} is not a known value")]
pub struct UnknownValue {
    pub set: &'static str,
    pub value: String,
}

/// The schema of a `text_enum!`: a string limited to `values`, described by the doc comment.
pub fn text_enum_schema(values: &[&str], doc: &[&str]) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let description = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n");
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values.iter().copied()))
        .description((!description.is_empty()).then_some(description))
        .examples([values[0]])
        .into()
}

pub(crate) use text_enum;

pub use refusal::{Refusal, RefusalKind, Verdict};

pub mod account;
pub mod enterprise;
pub mod event;
pub mod exchange;
pub mod extension;
pub mod hazard;
pub mod inspection;
pub mod jurisdiction;
pub mod ledger;
pub mod listing;
pub mod lists;
pub mod public_report;
pub mod quarterly;
pub mod refusal;
pub mod reminder;
pub mod risk;
pub mod role;
pub mod totp;
pub mod uscc;
pub mod validate;
pub mod webhook;
