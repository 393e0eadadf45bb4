//! Closed sets (`text_enum!`) stored as TEXT with a CHECK constraint: read straight into their
//! enum, on every backend (PostgreSQL, SQLite and the MultiBackend alike). A stored value
//! outside the set is a deserialization error, never a guess.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

macro_rules! stored_as_text {
    ($($t:ty),+ $(,)?) => {$(
        impl<DB> FromSql<Text, DB> for $t
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let s = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                Ok(<$t>::from_stored(&s)?)
            }
        }

        impl<DB> Queryable<Text, DB> for $t
        where
            DB: Backend,
            $t: FromSql<Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl<DB> ToSql<Text, DB> for $t
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }
    )+};
}

stored_as_text!(
    crate::domain::role::Role,
    crate::domain::hazard::HazardLevel,
    crate::domain::hazard::HazardSource,
    crate::domain::hazard::HazardNature,
    crate::domain::hazard::HazardStatus,
    crate::domain::hazard::AttachmentStage,
    crate::domain::enterprise::EnterpriseStatus,
    crate::domain::enterprise::RiskLevel,
    crate::domain::enterprise::SafetyDirectorStatus,
    crate::domain::jurisdiction::JurisdictionLevel,
    crate::domain::listing::ListingLevel,
    crate::domain::listing::ListingStatus,
    crate::domain::lists::ProblemStatus,
    crate::domain::lists::MeasureKind,
    crate::domain::lists::MeasureStatus,
    crate::domain::lists::ReviewDecision,
    crate::domain::extension::ExtensionStatus,
    crate::domain::extension::ExtensionSubject,
    crate::domain::lists::SubmissionStatus,
    crate::domain::reminder::ReminderKind,
    crate::domain::reminder::ReminderSubject,
    crate::domain::public_report::PublicReportStatus,
    crate::domain::public_report::VerificationOutcome,
    crate::domain::risk::RiskMethod,
    crate::domain::risk::MeasureClass,
    crate::domain::risk::ControlTier,
    crate::domain::inspection::CycleUnit,
);

/// A JSON document stored as TEXT and read into its type: a stored text that does not parse is
/// a deserialization error (a corrupt row answers 500), never read as absent and then written
/// back as such.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJson<T>(pub T);

impl<T, DB> FromSql<Text, DB> for StoredJson<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
    T: serde::de::DeserializeOwned,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(StoredJson(serde_json::from_str(&s)?))
    }
}

impl<T, DB> Queryable<Text, DB> for StoredJson<T>
where
    DB: Backend,
    StoredJson<T>: FromSql<Text, DB>,
{
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}
