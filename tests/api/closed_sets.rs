//! Every stored closed set is a `text_enum!`, and the database's CHECK constraint lists exactly
//! its values, on both databases: a value added to the enum but not to the migration (or the
//! other way round) fails here, not in production.

use hazard_registry::domain::enterprise::{EnterpriseStatus, RiskLevel};
use hazard_registry::domain::extension::{ExtensionStatus, ExtensionSubject};
use hazard_registry::domain::hazard::{
    AttachmentStage, HazardLevel, HazardNature, HazardSource, HazardStatus,
};
use hazard_registry::domain::jurisdiction::JurisdictionLevel;
use hazard_registry::domain::listing::{ListingLevel, ListingStatus};
use hazard_registry::domain::lists::{MeasureKind, MeasureStatus, ProblemStatus, SubmissionStatus};
use hazard_registry::domain::role::Role;

use crate::support::{both, Backend, TestApp};

fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
    let mut v: Vec<String> = all.iter().map(|t| as_str(*t).to_string()).collect();
    v.sort();
    v
}

/// The quoted values in `text` from `start` up to the first `end`.
fn quoted_after(text: &str, start: &str, end: char) -> Option<Vec<String>> {
    let from = text.find(start)? + start.len();
    let list = &text[from..from + text[from..].find(end)?];
    let mut values: Vec<String> = list
        .split('\'')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, v)| v.to_string())
        .collect();
    values.sort();
    Some(values)
}

/// The values the CHECK constraint on `table.column` allows.
fn check_values(app: &TestApp, table: &str, column: &str) -> Vec<String> {
    match app.backend {
        Backend::Sqlite => {
            let sql = app.sql_texts(&format!(
                "SELECT sql AS t FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ));
            let sql = sql.first().expect("the table exists");
            quoted_after(sql, &format!("CHECK ({column} IN ("), ')')
        }
        Backend::Postgres => app
            .sql_texts(&format!(
                "SELECT pg_get_constraintdef(c.oid) AS t FROM pg_constraint c \
                 JOIN pg_class r ON r.oid = c.conrelid \
                 WHERE r.relname = '{table}' AND c.contype = 'c'"
            ))
            .iter()
            .find_map(|def| quoted_after(def, &format!("({column} = ANY (ARRAY["), ']')),
    }
    .unwrap_or_else(|| panic!("no CHECK list on {table}.{column}"))
}

both!(every_check_list_equals_its_enum, |app| {
    let sets: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "jurisdictions",
            "level",
            names(JurisdictionLevel::ALL, JurisdictionLevel::as_str),
        ),
        (
            "enterprises",
            "status",
            names(EnterpriseStatus::ALL, EnterpriseStatus::as_str),
        ),
        (
            "enterprises",
            "risk_level",
            names(RiskLevel::ALL, RiskLevel::as_str),
        ),
        ("accounts", "role", names(Role::ALL, Role::as_str)),
        (
            "hazards",
            "level",
            names(HazardLevel::ALL, HazardLevel::as_str),
        ),
        (
            "hazards",
            "source",
            names(HazardSource::ALL, HazardSource::as_str),
        ),
        (
            "hazards",
            "nature",
            names(HazardNature::ALL, HazardNature::as_str),
        ),
        (
            "hazards",
            "status",
            names(HazardStatus::ALL, HazardStatus::as_str),
        ),
        (
            "attachments",
            "stage",
            names(AttachmentStage::ALL, AttachmentStage::as_str),
        ),
        (
            "deadline_extensions",
            "subject_type",
            names(ExtensionSubject::ALL, ExtensionSubject::as_str),
        ),
        (
            "deadline_extensions",
            "status",
            names(ExtensionStatus::ALL, ExtensionStatus::as_str),
        ),
        (
            "listings",
            "level",
            names(ListingLevel::ALL, ListingLevel::as_str),
        ),
        (
            "listings",
            "status",
            names(ListingStatus::ALL, ListingStatus::as_str),
        ),
        (
            "problem_items",
            "status",
            names(ProblemStatus::ALL, ProblemStatus::as_str),
        ),
        (
            "measure_items",
            "kind",
            names(MeasureKind::ALL, MeasureKind::as_str),
        ),
        (
            "measure_items",
            "status",
            names(MeasureStatus::ALL, MeasureStatus::as_str),
        ),
        (
            "list_submissions",
            "status",
            names(SubmissionStatus::ALL, SubmissionStatus::as_str),
        ),
    ];
    for (table, column, expected) in sets {
        assert_eq!(
            check_values(app, table, column),
            expected,
            "{table}.{column}: the migration's CHECK list and the enum differ"
        );
    }
});
