//! One webhook delivery against the local store: written by the sync rules only when it is
//! newer than what the order last took from Odoo.

use std::collections::HashMap;

use super::metrics::Delivered;
use crate::commands::sync::{OdooOrder, Outcome, SyncOptions, compare_chunk};
use crate::odoo::{OdooClient, SaleOrder};
use crate::store::{Store, StoreError};
use crate::webhook::Delivery;

/// Applies a delivery in one write transaction (read, compare, write), so that two
/// deliveries of one order, or a delivery and a poll, cannot interleave.
pub(super) fn apply(
    store: &Store,
    d: &Delivery,
    opts: &SyncOptions,
) -> Result<Delivered, StoreError> {
    store.in_write_tx(|s| {
        let Some((row, stored)) = s.sync_row_stamped(d.odoo_id)? else {
            return Ok(Delivered::Unknown);
        };
        if !crate::stamp::webhook_applies(&d.stamp, stored.as_deref()) {
            return Ok(Delivered::Stale);
        }
        let fetched = HashMap::from([(
            d.odoo_id,
            Ok(OdooOrder {
                amount: d.amount,
                state: d.state.clone(),
                stamp: Some(d.stamp.clone()),
            }),
        )]);
        let (results, mut writes) =
            compare_chunk(std::slice::from_ref(&row), &Ok(fetched), opts);
        for w in &mut writes {
            w.from_webhook = true;
        }
        s.apply_writes_in_tx(&writes)?;
        let Some(r) = results.first() else {
            return Ok(Delivered::Unchanged);
        };
        if let Outcome::Updated { from, to } = &r.outcome {
            tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_amount = %from, new_amount = %to, source = "webhook", "Synced order amount from Odoo");
        }
        if let Some((from, to)) = &r.status_change {
            tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_status = %from, new_status = %to, source = "webhook", "Synced order status from Odoo");
        }
        if let Outcome::Held { from, to } = &r.outcome {
            tracing::warn!(order_id = r.order_id, order_number = %r.order_number, portal_amount = %from, odoo_amount = %to, source = "webhook", "Order amount change held for review");
        }
        Ok(match (&r.outcome, &r.status_change) {
            (Outcome::Held { .. }, _) => Delivered::Held,
            (Outcome::Updated { .. }, _) | (_, Some(_)) => Delivered::Updated,
            (Outcome::KeptPortal { .. }, _) => Delivered::KeptPortal,
            _ => Delivered::Unchanged,
        })
    })
}

/// The local customer an unknown order would be imported for, if its partner is linked.
pub(super) fn linked_customer(store: &Store, d: &Delivery) -> Result<Option<i64>, StoreError> {
    match d.partner_id {
        Some(p) => Ok(store.customer_by_partner(p)?.map(|c| c.id)),
        None => Ok(None),
    }
}

/// Imports an Odoo order unknown locally for a linked customer. An order that a local
/// `orders create` is still storing (its key has an intent) is left to that create, which
/// stores the portal's amount and note with it.
pub(super) async fn import(
    client: &OdooClient,
    store: &std::sync::Mutex<Store>,
    odoo_id: i64,
    customer_id: i64,
) -> Result<bool, crate::error::Error> {
    let rows = client
        .read("sale.order", &[odoo_id], SaleOrder::FIELDS)
        .await?;
    let Some(v) = rows.first() else {
        return Ok(false);
    };
    let o = SaleOrder::from_value(v).map_err(crate::odoo::OdooError::from)?;
    let store = store.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = &o.origin
        && store.intent(key)?.is_some()
    {
        tracing::debug!(odoo_order_id = o.id, key = %key, "Order is being created by the portal; not imported");
        return Ok(false);
    }
    let (row, created) =
        store.insert_order(&crate::commands::new_order(&o, Some(customer_id), None))?;
    if created {
        tracing::info!(order_id = row.id, odoo_order_id = o.id, order_number = %o.name, source = "webhook", "Order created in local database");
    }
    Ok(created)
}
