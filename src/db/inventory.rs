//! What a backup records of a database (`crate::backup`): row counts of the tables an operator
//! checks after a restore, the evidence files its attachment rows reference, and the newest
//! migration applied.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::schema::{
    accounts, attachments, audit_events, deadline_extensions, enterprises, hazards, listings,
    measure_items, problem_items,
};
use super::AnyConnection;

/// Row counts by table name.
pub fn counts(c: &mut AnyConnection) -> QueryResult<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    let mut put = |name: &str, n: i64| {
        out.insert(name.to_string(), n);
    };
    put("accounts", accounts::table.count().get_result(c)?);
    put("enterprises", enterprises::table.count().get_result(c)?);
    put("hazards", hazards::table.count().get_result(c)?);
    put("attachments", attachments::table.count().get_result(c)?);
    put(
        "deadline_extensions",
        deadline_extensions::table.count().get_result(c)?,
    );
    put("listings", listings::table.count().get_result(c)?);
    put("problem_items", problem_items::table.count().get_result(c)?);
    put("measure_items", measure_items::table.count().get_result(c)?);
    put("audit_events", audit_events::table.count().get_result(c)?);
    Ok(out)
}

/// Every stored file the rows reference — attachments and the photos of public reports:
/// `(sha256, size)`, each once, in order.
pub fn attachment_files(c: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    use super::schema::public_report_photos as ph;
    let mut files: BTreeMap<String, i64> = attachments::table
        .select((attachments::sha256, attachments::size))
        .distinct()
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    files.extend(
        ph::table
            .select((ph::sha256, ph::size))
            .distinct()
            .load::<(String, i64)>(c)?,
    );
    Ok(files.into_iter().collect())
}

/// The version of the newest migration applied (`00000000000013` style), if any.
pub fn latest_migration(c: &mut AnyConnection) -> anyhow::Result<Option<String>> {
    let applied = match c {
        AnyConnection::Postgresql(c) => c.applied_migrations(),
        AnyConnection::Sqlite(c) => c.applied_migrations(),
    }
    .map_err(|e| anyhow::anyhow!("reading the applied migrations: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).max())
}
