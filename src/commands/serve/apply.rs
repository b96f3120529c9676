//! One webhook delivery against the local store: written by the sync rules only when it is
//! newer than what the order last took from Odoo.

use std::collections::HashMap;

use super::metrics::Delivered;
use crate::flows::sync::{OdooOrder, Outcome, SyncOptions, compare_chunk, superseded};
use crate::odoo::SaleOrder;
use crate::store::{Store, StoreError};
use crate::webhook::Delivery;

/// Applies deliveries in one write transaction (read, compare, write each in turn), so that
/// two deliveries of one order, or a delivery and a poll, cannot interleave, and a burst
/// costs one commit. The audit lines are logged once the transaction has committed.
pub(super) fn apply_batch(
    store: &Store,
    ds: &[&Delivery],
    opts: &SyncOptions,
) -> Result<Vec<Delivered>, StoreError> {
    let settled = store.in_write_tx(|s| {
        ds.iter()
            .map(|d| settle(s, d, opts))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(settled
        .into_iter()
        .map(|r| match r {
            Ok(r) => logged(&r),
            Err(settled) => settled,
        })
        .collect())
}

/// One delivery inside the batch's transaction: the sync's result to log, or (`Err`) how it
/// settled without one.
fn settle(
    s: &Store,
    d: &Delivery,
    opts: &SyncOptions,
) -> Result<Result<crate::flows::sync::OrderResult, Delivered>, StoreError> {
    let Some((row, stored)) = s.sync_row_stamped(d.odoo_id)? else {
        return Ok(Err(Delivered::Unknown));
    };
    if !crate::stamp::webhook_applies(&d.stamp, stored.as_deref()) {
        return Ok(Err(Delivered::Stale));
    }
    let fetched = HashMap::from([(
        d.odoo_id,
        Ok(OdooOrder {
            amount: d.amount,
            state: d.state.clone(),
            stamp: Some(d.stamp.clone()),
            details: None,
        }),
    )]);
    let (mut results, mut writes) = compare_chunk(std::slice::from_ref(&row), &Ok(fetched), opts);
    for w in &mut writes {
        w.from_webhook = true;
    }
    let skipped = s.apply_writes_in_tx(&writes)?;
    superseded(&mut results, &skipped);
    Ok(results.into_iter().next().ok_or(Delivered::Unchanged))
}

/// The audit lines of a committed result, and what it counts as.
fn logged(r: &crate::flows::sync::OrderResult) -> Delivered {
    if let Outcome::Updated { from, to } = &r.outcome {
        tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_amount = %from, new_amount = %to, source = "webhook", "Synced order amount from Odoo");
    }
    if let Some((from, to)) = &r.status_change {
        tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_status = %from, new_status = %to, source = "webhook", "Synced order status from Odoo");
    }
    if let Outcome::Held { from, to } = &r.outcome {
        tracing::warn!(order_id = r.order_id, order_number = %r.order_number, portal_amount = %from, odoo_amount = %to, source = "webhook", "Order amount change held for review");
    }
    match (&r.outcome, &r.status_change) {
        (Outcome::Held { .. }, _) => Delivered::Held,
        (Outcome::Superseded, _) => Delivered::Stale,
        (Outcome::Updated { .. }, _) | (_, Some(_)) => Delivered::Updated,
        (Outcome::KeptPortal { .. }, _) => Delivered::KeptPortal,
        _ => Delivered::Unchanged,
    }
}

/// Whether an unknown order is worth reading from Odoo: the delivery's partner is linked.
/// The body only decides whether to look; whose order it is comes from Odoo's answer.
pub(super) fn worth_importing(store: &Store, d: &Delivery) -> Result<bool, StoreError> {
    match d.partner_id {
        Some(p) => Ok(store.customer_by_partner(p)?.is_some()),
        None => Ok(false),
    }
}

/// What an import of an unknown order did, counted as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imported {
    /// Stored by this import.
    Stored,
    /// Not stored: already there, being created by the portal, or Odoo's partner of it is
    /// not a linked customer.
    Skipped,
    /// Odoo has no such order.
    NotInOdoo,
}

/// Reads an Odoo order unknown locally, whole, for [`store_import`] (the writer's part):
/// `None` when Odoo has no such order.
pub(super) async fn read_for_import(
    client: &crate::odoo::OdooClient,
    odoo_id: i64,
) -> Result<Option<(SaleOrder, Option<crate::details::OrderDetails>)>, crate::error::Error> {
    let fields: Vec<&str> = SaleOrder::FIELDS
        .iter()
        .chain(client.features().await?.order_fields())
        .copied()
        .collect();
    let rows = client.read("sale.order", &[odoo_id], &fields).await?;
    let Some(v) = rows.first() else {
        return Ok(None);
    };
    let order = SaleOrder::from_value(v).map_err(crate::odoo::OdooError::from)?;
    let details = client
        .details_of(std::slice::from_ref(v))
        .await?
        .remove(&odoo_id)
        .and_then(Result::ok);
    Ok(Some((order, details)))
}

/// The store's part of an import: stored for the local customer linked to the partner Odoo
/// gives the order (never the partner a delivery's body names). An order that a local
/// `orders create` is still storing (its key has an intent) is left to that create, which
/// stores the portal's amount and note with it.
pub(super) fn store_import(store: &Store, o: &SaleOrder) -> Result<Imported, crate::error::Error> {
    if let Some(key) = &o.origin
        && store.intent(key)?.is_some()
    {
        tracing::debug!(odoo_order_id = o.id, key = %key, "Order is being created by the portal; not imported");
        return Ok(Imported::Skipped);
    }
    let Some(customer) = o
        .partner_id
        .map(|p| store.customer_by_partner(p))
        .transpose()?
        .flatten()
    else {
        tracing::info!(odoo_order_id = o.id, order_number = %o.name, "Order's partner in Odoo is not a linked customer; not imported");
        return Ok(Imported::Skipped);
    };
    let (row, created) =
        store.insert_order(&crate::flows::new_order(o, Some(customer.id), None))?;
    if !created {
        return Ok(Imported::Skipped);
    }
    tracing::info!(order_id = row.id, odoo_order_id = o.id, order_number = %o.name, source = "webhook", "Order created in local database");
    Ok(Imported::Stored)
}
