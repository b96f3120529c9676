//! `orders dedupe` (and `--restore`, `--odoo`): cleaning legacy duplicates
//! so the unique index on `odoo_order_id` can be added.

use std::collections::BTreeMap;

use super::Context;
use crate::error::Error;
use crate::odoo::{OdooError, SaleOrder, SearchOpts, Value, domain};
use crate::store::dedupe::{Archived, DupGroup};
use crate::store::runs::RunEnd;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DedupeReport {
    pub groups: Vec<DupGroup>,
    pub rows_to_remove: usize,
    pub disagreeing_groups: usize,
    /// Rows removed (0 for a dry run).
    pub removed: usize,
    /// The ids of the removed rows, each archived (`orders dedupe --restore ID` puts one back).
    pub archived_ids: Vec<i64>,
    pub applied: bool,
}

/// Finds the duplicate groups; removes the extra rows when `apply` (after `confirm` agrees).
pub(crate) fn run(
    ctx: &Context,
    apply: bool,
    confirm: &mut dyn FnMut(&DedupeReport) -> bool,
) -> Result<DedupeReport, Error> {
    let store = ctx.store_unmigrated()?;
    let groups = store.duplicate_groups()?;
    let rows_to_remove = groups.iter().map(|g| g.remove.len()).sum();
    let disagreeing_groups = groups.iter().filter(|g| g.disagree).count();
    let mut report = DedupeReport {
        groups,
        rows_to_remove,
        disagreeing_groups,
        removed: 0,
        archived_ids: Vec::new(),
        applied: false,
    };
    if apply && rows_to_remove > 0 && confirm(&report) {
        // A legacy file has no run history yet (it comes with the migrations).
        let run_id = if store.user_version()? >= 3 {
            Some(store.start_run("dedupe")?)
        } else {
            None
        };
        let removed = store.apply_dedupe(&report.groups);
        if let Some(id) = run_id {
            let end = match &removed {
                Ok(n) => RunEnd {
                    outcome: "ok",
                    checked: report.groups.len() as u64,
                    updated: *n as u64,
                    ..Default::default()
                },
                Err(e) => RunEnd {
                    outcome: "error",
                    exit_code: crate::error::exit::DATABASE,
                    error: Some(e.to_string()),
                    ..Default::default()
                },
            };
            store.finish_run(id, &end)?;
        }
        report.removed = removed?;
        report.archived_ids = report
            .groups
            .iter()
            .flat_map(|g| g.remove.iter().map(|r| r.id))
            .collect();
        report.applied = true;
        tracing::info!(
            groups = report.groups.len(),
            removed = report.removed,
            "Duplicate orders removed (archived in orderbridge_sales_orders_archive)"
        );
    }
    Ok(report)
}

/// The rows dedupe removed and archived.
pub(crate) fn archived(ctx: &Context) -> Result<Vec<Archived>, Error> {
    Ok(ctx.store_unmigrated()?.archived()?)
}

pub(crate) fn restore(ctx: &Context, id: i64) -> Result<Archived, Error> {
    let a = ctx.store_unmigrated()?.restore_archived(id)?;
    tracing::info!(
        order_id = a.archived_id,
        kept_id = a.kept_id,
        "Archived order restored"
    );
    Ok(a)
}

/// Odoo orders that share one idempotency key: a create that ran twice in Odoo.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RemoteDuplicate {
    pub key: String,
    pub orders: Vec<SaleOrder>,
}

/// Reads Odoo (read-only) for orders sharing an idempotency key.
pub(crate) async fn remote(ctx: &Context) -> Result<Vec<RemoteDuplicate>, Error> {
    let field = ctx.settings.key_field()?;
    let client = ctx.odoo()?;
    let domain = domain(&field, "!=", Value::Bool(false));
    let mut fields: Vec<&str> = SaleOrder::FIELDS.to_vec();
    if !fields.contains(&field.as_str()) {
        fields.push(&field);
    }
    let rows = client
        .search_read(
            "sale.order",
            domain,
            &fields,
            SearchOpts {
                order: Some("id"),
                ..Default::default()
            },
        )
        .await?;
    let mut by_key: BTreeMap<String, Vec<SaleOrder>> = BTreeMap::new();
    for v in &rows {
        let key = crate::odoo::Record(v)
            .opt_str(&field)
            .map_err(OdooError::from)?;
        if let Some(k) = key {
            by_key
                .entry(k)
                .or_default()
                .push(SaleOrder::from_value(v).map_err(OdooError::from)?);
        }
    }
    Ok(by_key
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(key, orders)| RemoteDuplicate { key, orders })
        .collect())
}
