//! The whole order as Odoo has it, beyond its amount and state: its lines, delivery,
//! invoicing and payment, and its dates. Read by `odoo::details`, stored by
//! `store::details`, shown by `orders show`, and turned into the portal's status words by
//! [`crate::rules::portal_status`].

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// One line of an order: a product line, or a section or note (`display_type`), which has
/// no product and no amounts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct OrderLine {
    pub odoo_line_id: i64,
    /// Its place among the order's lines (Odoo's order: sequence, then id).
    pub position: i64,
    /// `line_section`, `line_subsection` (Odoo 19), `line_note`; `None` for a product line.
    pub display_type: Option<String>,
    pub product_id: Option<i64>,
    pub product_name: Option<String>,
    /// Odoo's description of the line (the product's name and sales description, or the
    /// section's or note's text).
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// Percent.
    pub discount: Decimal,
    /// Without tax.
    pub subtotal: Decimal,
    /// With tax.
    pub total: Decimal,
    pub qty_delivered: Decimal,
    pub qty_invoiced: Decimal,
}

impl OrderLine {
    pub(crate) fn is_product(&self) -> bool {
        self.display_type.is_none()
    }
}

/// What Odoo says of an order besides its amount and state. A field the server does not
/// have (no Inventory: no `delivery_status`) is `None`.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub(crate) struct OrderDetails {
    pub odoo_order_id: i64,
    /// `pending`, `started`, `partial`, `full` — `full` means every picking is done or
    /// cancelled, not that every unit left: see [`OrderDetails::units`].
    pub delivery_status: Option<String>,
    /// `no`, `to invoice`, `invoiced`, `upselling` (draft invoices count).
    pub invoice_status: Option<String>,
    /// Posted invoices, with tax (drafts do not count).
    pub amount_invoiced: Option<Decimal>,
    pub amount_to_invoice: Option<Decimal>,
    /// Of its posted customer invoices: see [`payment_state`].
    pub payment_state: Option<String>,
    /// The delivery date promised to the customer (UTC).
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub commitment_date: Option<String>,
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub expected_date: Option<String>,
    /// When the first delivery was done.
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub effective_date: Option<String>,
    pub lines: Vec<OrderLine>,
}

/// How much of an order left: units of its product lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Units {
    pub ordered: Decimal,
    pub delivered: Decimal,
}

impl Units {
    /// Every unit of every product line delivered (Odoo's `full` may say so of less).
    pub(crate) fn all_delivered(&self) -> bool {
        self.ordered > Decimal::ZERO && self.delivered >= self.ordered
    }
}

impl OrderDetails {
    /// Units ordered and delivered, from the lines: what the customer is told.
    pub(crate) fn units(&self) -> Units {
        let mut u = Units {
            ordered: Decimal::ZERO,
            delivered: Decimal::ZERO,
        };
        for l in self.lines.iter().filter(|l| l.is_product()) {
            u.ordered += l.quantity;
            // A line delivered beyond its quantity counts as delivered, not as more.
            u.delivered += l.qty_delivered.min(l.quantity);
        }
        u
    }

    /// A digest of everything stored, so that a sync that read the same writes nothing.
    pub(crate) fn digest(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let sum = Sha256::digest(text.as_bytes());
        sum.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One customer invoice or refund of an order, as its payment state is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvoiceState {
    /// `out_invoice`, `out_refund`, ...
    pub move_type: String,
    /// `draft`, `posted`, `cancel`.
    pub state: String,
    /// `not_paid`, `in_payment`, `paid`, `partial`, `reversed`, ...
    pub payment_state: String,
}

/// The payment state of an order, from its posted customer invoices (drafts and cancelled
/// ones are not owed): `None` with none posted; `reversed` when every one was reversed;
/// `paid` when every other one is paid (or in payment: paid, not yet matched with the bank);
/// `partial` when some of it is; else `not_paid`.
pub(crate) fn payment_state(invoices: &[InvoiceState]) -> Option<&'static str> {
    let posted: Vec<&InvoiceState> = invoices
        .iter()
        .filter(|i| i.move_type == "out_invoice" && i.state == "posted")
        .collect();
    if posted.is_empty() {
        return None;
    }
    let live: Vec<&&InvoiceState> = posted
        .iter()
        .filter(|i| i.payment_state != "reversed")
        .collect();
    if live.is_empty() {
        return Some("reversed");
    }
    let paid = |i: &&&InvoiceState| matches!(i.payment_state.as_str(), "paid" | "in_payment");
    if live.iter().all(paid) {
        Some("paid")
    } else if live.iter().any(|i| paid(i) || i.payment_state == "partial") {
        Some("partial")
    } else {
        Some("not_paid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(move_type: &str, state: &str, payment: &str) -> InvoiceState {
        InvoiceState {
            move_type: move_type.into(),
            state: state.into(),
            payment_state: payment.into(),
        }
    }

    #[test]
    fn an_order_with_no_posted_invoice_has_no_payment_state() {
        assert_eq!(
            payment_state(&[inv("out_invoice", "draft", "not_paid")]),
            None
        );
        assert_eq!(payment_state(&[]), None);
    }

    #[test]
    fn paid_needs_every_posted_invoice_paid() {
        let paid = inv("out_invoice", "posted", "paid");
        let open = inv("out_invoice", "posted", "not_paid");
        assert_eq!(payment_state(std::slice::from_ref(&paid)), Some("paid"));
        assert_eq!(payment_state(&[paid, open.clone()]), Some("partial"));
        assert_eq!(payment_state(&[open]), Some("not_paid"));
        assert_eq!(
            payment_state(&[inv("out_invoice", "posted", "in_payment")]),
            Some("paid")
        );
    }

    #[test]
    fn an_invoice_reversed_whole_is_reversed() {
        assert_eq!(
            payment_state(&[inv("out_invoice", "posted", "reversed")]),
            Some("reversed")
        );
    }

    #[test]
    fn units_count_product_lines_only() {
        let line = |display: Option<&str>, qty: i64, delivered: i64| OrderLine {
            odoo_line_id: 1,
            position: 0,
            display_type: display.map(str::to_string),
            product_id: None,
            product_name: None,
            description: String::new(),
            quantity: Decimal::from(qty),
            unit_price: Decimal::ZERO,
            discount: Decimal::ZERO,
            subtotal: Decimal::ZERO,
            total: Decimal::ZERO,
            qty_delivered: Decimal::from(delivered),
            qty_invoiced: Decimal::ZERO,
        };
        let d = OrderDetails {
            lines: vec![
                line(Some("line_section"), 0, 0),
                line(None, 3, 2),
                line(None, 2, 2),
            ],
            ..Default::default()
        };
        let u = d.units();
        assert_eq!(
            (u.ordered, u.delivered),
            (Decimal::from(5), Decimal::from(4))
        );
        assert!(!u.all_delivered());
    }
}
