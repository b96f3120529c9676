//! `db migrate`: brings the store up to the current schema, and refuses (changing nothing)
//! while a legacy table still has duplicates for `orders dedupe` to clean.

use super::Context;
use crate::error::Error;
use crate::store::SCHEMA_VERSION;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct MigrateReport {
    pub from_version: i64,
    pub to_version: i64,
    pub changed: bool,
}

/// Brings the database up to date; on a legacy database with duplicates, changes nothing
/// and says how many (the error names `orders dedupe`).
pub(crate) fn migrate(ctx: &Context) -> Result<MigrateReport, Error> {
    let store = ctx.store_unmigrated_creating()?;
    let from = store.user_version()?;
    if from == SCHEMA_VERSION {
        return Ok(MigrateReport {
            from_version: from,
            to_version: from,
            changed: false,
        });
    }
    store.migrate()?;
    tracing::info!(
        from_version = from,
        to_version = SCHEMA_VERSION,
        "Database migrated"
    );
    Ok(MigrateReport {
        from_version: from,
        to_version: SCHEMA_VERSION,
        changed: true,
    })
}
