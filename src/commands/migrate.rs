//! `db migrate`: brings the store up to the current schema, and refuses (changing nothing)
//! while a legacy table still has duplicates for `orders dedupe` to clean. `db copy`: moves
//! a SQLite store into PostgreSQL.

use super::Context;
use crate::error::Error;
use crate::store::copy::CopyReport;
use crate::store::{Location, SCHEMA_VERSION, Store};

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
    let customers = ctx.settings.customers_table()?;
    if from == SCHEMA_VERSION {
        store.with_customers(&customers)?;
        return Ok(MigrateReport {
            from_version: from,
            to_version: from,
            changed: false,
        });
    }
    store.migrate()?;
    let _ = store.with_customers(&customers)?;
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

/// What `db copy` did.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct CopyDone {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub copied: CopyReport,
}

/// Copies the configured SQLite store into the empty PostgreSQL store at `to`, under the
/// source's run lock (no sync or flush changes it meanwhile).
pub(crate) fn copy(ctx: &Context, to: &str) -> Result<CopyDone, Error> {
    let dest_location = match Location::parse(to) {
        Ok(l @ Location::Postgres(_)) => l,
        _ => {
            return Err(Error::Usage(format!(
                "--to must be a PostgreSQL URL (postgres://USER@HOST/DATABASE), not '{}'; nothing was copied",
                crate::secret::mask_url(to)
            )));
        }
    };
    let _lock = ctx.run_lock()?;
    let source = ctx.store()?;
    let dest = Store::open(&dest_location, ctx.settings.busy_timeout()?)?;
    let copied = source.copy_into(&dest)?;
    tracing::info!(
        from = %source.shown(),
        to = %dest.shown(),
        orders = copied.tables.iter().find(|t| t.table == "sales_orders").map_or(0, |t| t.rows),
        "Store copied"
    );
    Ok(CopyDone {
        from: source.shown().to_string(),
        to: dest.shown().to_string(),
        copied,
    })
}
