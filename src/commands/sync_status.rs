//! `orders sync-status`: the local status follows Odoo's `state`.

use super::Context;
use crate::error::Error;
use crate::odoo::{OdooError, SearchOpts, Value, domain};
use crate::rules::status_for_state;
use crate::store::orders::OrderRow;
use crate::store::{Store, to_text};

/// Which local orders a sync looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Orders with an Odoo id created in the last N days.
    RecentDays(u32),
    /// Every order with an Odoo id.
    All,
    /// One local order.
    Order(i64),
}

impl Selection {
    pub(crate) fn orders(&self, store: &Store) -> Result<Vec<OrderRow>, Error> {
        Ok(match *self {
            Selection::Order(id) => {
                let o = store.order(id)?;
                if o.odoo_order_id.is_none() {
                    return Err(Error::Usage(format!(
                        "local order {id} has no Odoo id, so there is nothing to sync"
                    )));
                }
                vec![o]
            }
            Selection::All => store.orders_with_odoo_id(None)?,
            Selection::RecentDays(days) => {
                let since = to_text(chrono::Utc::now() - chrono::Duration::days(i64::from(days)));
                store.orders_with_odoo_id(Some(&since))?
            }
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct StatusChange {
    pub order_id: i64,
    pub order_number: Option<String>,
    pub from: String,
    pub to: String,
    pub odoo_state: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct StatusReport {
    pub checked: usize,
    pub changed: Vec<StatusChange>,
    pub unchanged: usize,
    /// Local orders whose Odoo order no longer exists (reported, not changed).
    pub missing_in_odoo: Vec<i64>,
}

pub(crate) async fn run(ctx: &Context, selection: Selection) -> Result<StatusReport, Error> {
    let store = ctx.store()?;
    let orders = selection.orders(&store)?;
    let mut report = StatusReport {
        checked: orders.len(),
        ..Default::default()
    };
    if orders.is_empty() {
        return Ok(report);
    }
    let client = ctx.odoo()?;
    for chunk in orders.chunks(1000) {
        let ids: Vec<i64> = chunk.iter().filter_map(|o| o.odoo_order_id).collect();
        let domain = domain("id", "in", Value::ints(&ids));
        let rows = client
            .search_read("sale.order", domain, &["state"], SearchOpts::default())
            .await?;
        let mut states = std::collections::HashMap::new();
        for r in &rows {
            let rec = crate::odoo::Record(r);
            states.insert(
                rec.id().map_err(OdooError::from)?,
                crate::odoo::order_state(&rec).map_err(OdooError::from)?,
            );
        }
        for o in chunk {
            let Some(state) = o.odoo_order_id.and_then(|id| states.get(&id)) else {
                report.missing_in_odoo.push(o.id);
                continue;
            };
            let status = status_for_state(state);
            store.set_status(o.id, state, status)?;
            if o.status == status {
                report.unchanged += 1;
            } else {
                tracing::info!(order_id = o.id, order_number = ?o.order_number, old_status = %o.status, new_status = status, "Synced order status from Odoo");
                report.changed.push(StatusChange {
                    order_id: o.id,
                    order_number: o.order_number.clone(),
                    from: o.status.clone(),
                    to: status.to_string(),
                    odoo_state: state.clone(),
                });
            }
        }
    }
    Ok(report)
}
