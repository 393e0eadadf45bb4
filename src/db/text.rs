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
    crate::domain::extension::ExtensionStatus,
    crate::domain::extension::ExtensionSubject,
    crate::domain::listing::SubmissionStatus,
);
