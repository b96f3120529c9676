//! The order flows both front ends share — the CLI's commands and `serve`'s API: creating
//! exactly once, the outbox, the syncs, reading and listing, the portal's changes, customers.
//! The library's work; nothing here prints.

pub(crate) mod changes;
pub(crate) mod customers;
pub(crate) mod order_actions;
pub(crate) mod order_request;
pub(crate) mod orders_create;
pub(crate) mod orders_read;
pub(crate) mod outbox;
pub(crate) mod sync;

pub(crate) use crate::context::{Context, run_failed, run_outcome};

/// The portal's side of an order it created: the request, its key, and the review
/// threshold in force.
pub(crate) struct Placed<'a> {
    pub req: &'a order_request::OrderRequest,
    pub key: &'a str,
    pub max_change: crate::rules::MaxChange,
}

/// The local row for an Odoo order: its id, name, amount and state as Odoo has them. An
/// order the portal placed keeps the portal's amount, key and note (Odoo's amount is held
/// for review, not recorded, when it differs from the portal's beyond the threshold: the
/// rule every sync applies); one imported from Odoo starts at Odoo's amount, with the key
/// orderbridge generated if `origin` holds one.
pub(crate) fn new_order(
    o: &crate::odoo::SaleOrder,
    customer_id: Option<i64>,
    placed: Option<Placed<'_>>,
) -> crate::store::orders::NewOrder {
    let mut held = None;
    let mut odoo_amount_total = Some(o.amount_total);
    let (total_amount, idempotency_key, note) = match &placed {
        Some(p) => {
            // The sync's rule, for an order that has no review yet.
            if let crate::rules::Verdict::Held { from, to } = crate::rules::judge_amount(
                p.req.amount,
                o.amount_total,
                &o.currency,
                None,
                &p.max_change,
            ) {
                tracing::warn!(odoo_order_id = o.id, order_number = %o.name, portal_amount = %from, odoo_amount = %to, "Order amount change held for review");
                held = Some(to);
                odoo_amount_total = None;
            }
            (p.req.amount, Some(p.key.to_string()), p.req.note.clone())
        }
        None => (
            o.amount_total,
            o.origin.clone().filter(|s| s.starts_with("ob-")),
            None,
        ),
    };
    crate::store::orders::NewOrder {
        customer_id,
        order_number: Some(o.name.clone()),
        odoo_order_id: Some(o.id),
        total_amount,
        odoo_amount_total,
        currency: o.currency.clone(),
        status: crate::rules::status_for_state(&o.state).to_string(),
        odoo_state: Some(o.state.clone()),
        idempotency_key,
        note,
        order_date: o.date_order.clone(),
        imported: placed.is_none(),
        held,
        odoo_write_date: o.write_date.as_deref().and_then(crate::stamp::from_read),
    }
}
