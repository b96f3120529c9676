//! Reading the whole order: which of its fields the server has (asked once per client), its
//! lines in one `search_read` per batch of orders, and its invoices' payment states in one
//! more when any of the batch is invoiced.
//!
//! A server without Inventory (`sale_stock`) has no `delivery_status` or `effective_date`;
//! Odoo 16–18 name some line fields differently from 19 (`tax_id`, `product_uom`), which is
//! why the lines are read by the names every version shares.

use std::collections::HashMap;

use super::value::Record;
use super::{Call, OdooClient, OdooError, SearchOpts, Value, domain};
use crate::details::{InvoiceState, OrderDetails, OrderLine, payment_state};

/// `sale.order` fields of the sale module (16–19).
const SALE_FIELDS: &[&str] = &[
    "invoice_status",
    "amount_invoiced",
    "amount_to_invoice",
    "commitment_date",
    "expected_date",
    "invoice_ids",
];

/// `sale.order` fields that Inventory (`sale_stock`) adds.
const STOCK_FIELDS: &[&str] = &["delivery_status", "effective_date"];

/// `sale.order.line` fields, the same in 16–19.
pub(crate) const LINE_FIELDS: &[&str] = &[
    "order_id",
    "sequence",
    "display_type",
    "product_id",
    "name",
    "product_uom_qty",
    "price_unit",
    "discount",
    "price_subtotal",
    "price_total",
    "qty_delivered",
    "qty_invoiced",
];

/// What the server offers of the whole order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// The `sale.order` fields to read besides amount and state.
    order_fields: Vec<&'static str>,
    /// Modules whose fields are missing (`sale_stock`), for `status`.
    pub missing: Vec<&'static str>,
}

impl Features {
    /// The detail fields of `sale.order` this server has.
    pub fn order_fields(&self) -> &[&'static str] {
        &self.order_fields
    }

    pub fn delivery(&self) -> bool {
        !self.missing.contains(&"sale_stock")
    }
}

impl Features {
    /// What a server lacking these modules offers.
    fn without(missing: &[String]) -> Features {
        let stock = !missing.iter().any(|m| m == "sale_stock");
        Features {
            order_fields: SALE_FIELDS
                .iter()
                .chain(if stock { STOCK_FIELDS } else { &[] })
                .copied()
                .collect(),
            missing: if stock { vec![] } else { vec!["sale_stock"] },
        }
    }
}

impl OdooClient {
    /// What the server offers: as the store remembers it (checked within a day), else asked
    /// once for this client (one `fields_get`) and remembered.
    pub async fn features(&self) -> Result<&Features, OdooError> {
        self.features
            .get_or_try_init(|| async {
                if let Some(m) = &self.memory {
                    let m = std::sync::Arc::clone(m);
                    let known = tokio::task::spawn_blocking(move || m.recall_missing())
                        .await
                        .ok()
                        .flatten();
                    if let Some(missing) = known {
                        return Ok(Features::without(&missing));
                    }
                }
                let features = self.ask_features().await?;
                if let Some(m) = &self.memory {
                    let (m, missing) = (std::sync::Arc::clone(m), features.missing.clone());
                    let _ = tokio::task::spawn_blocking(move || m.remember_missing(&missing)).await;
                }
                Ok(features)
            })
            .await
    }

    async fn ask_features(&self) -> Result<Features, OdooError> {
        let wanted: Vec<&str> = SALE_FIELDS.iter().chain(STOCK_FIELDS).copied().collect();
        let call = Call::new("sale.order", "fields_get")
            .arg("allfields", Value::strs(&wanted))
            .arg("attributes", Value::strs(&["type"]));
        let got = self.execute(call).await?;
        let has = |f: &str| match &got {
            Value::Struct(m) => m.iter().any(|(k, _)| k == f),
            _ => false,
        };
        let order_fields: Vec<&'static str> = SALE_FIELDS
            .iter()
            .chain(STOCK_FIELDS)
            .copied()
            .filter(|f| has(f))
            .collect();
        let mut missing = Vec::new();
        if !STOCK_FIELDS.iter().all(|f| has(f)) {
            missing.push("sale_stock");
        }
        Ok(Features {
            order_fields,
            missing,
        })
    }

    /// The details of the orders whose `sale.order` records (read with
    /// [`Features::order_fields`]) are `orders`: their lines in one call, their invoices'
    /// states in one more when any has invoices. Decoded per order: one unreadable order
    /// does not fail the others.
    pub(crate) async fn details_of(
        &self,
        orders: &[Value],
    ) -> Result<HashMap<i64, Result<OrderDetails, String>>, OdooError> {
        if orders.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<i64> = orders.iter().filter_map(|o| Record(o).id().ok()).collect();
        let lines = self.order_lines(&ids).await?;
        self.details_with_lines(orders, &lines).await
    }

    /// The lines of these orders, in one `search_read` (it needs only their ids: a caller
    /// may send it beside the orders' own read).
    pub(crate) async fn order_lines(&self, ids: &[i64]) -> Result<Vec<Value>, OdooError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.search_read(
            "sale.order.line",
            domain("order_id", "in", Value::ints(ids)),
            LINE_FIELDS,
            SearchOpts::default(),
        )
        .await
    }

    /// [`OdooClient::details_of`] with the lines read already.
    pub(crate) async fn details_with_lines(
        &self,
        orders: &[Value],
        lines: &[Value],
    ) -> Result<HashMap<i64, Result<OrderDetails, String>>, OdooError> {
        let mut out = HashMap::with_capacity(orders.len());
        if orders.is_empty() {
            return Ok(out);
        }
        let mut by_order: HashMap<i64, Vec<&Value>> = HashMap::new();
        for l in lines {
            if let Ok(Some(o)) = Record(l).many2one("order_id") {
                by_order.entry(o.id).or_default().push(l);
            }
        }
        let invoice_ids: Vec<i64> = orders.iter().flat_map(|o| ints(o, "invoice_ids")).collect();
        let mut invoices: HashMap<i64, InvoiceState> = HashMap::new();
        if !invoice_ids.is_empty() {
            let rows = self
                .search_read(
                    "account.move",
                    domain("id", "in", Value::ints(&invoice_ids)),
                    &["move_type", "state", "payment_state"],
                    SearchOpts::default(),
                )
                .await?;
            for r in &rows {
                let rec = Record(r);
                let (Ok(id), Ok(move_type), Ok(state)) =
                    (rec.id(), rec.string("move_type"), rec.string("state"))
                else {
                    continue;
                };
                let payment = rec
                    .opt_str("payment_state")
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                invoices.insert(
                    id,
                    InvoiceState {
                        move_type,
                        state,
                        payment_state: payment,
                    },
                );
            }
        }
        for o in orders {
            let Ok(id) = Record(o).id() else { continue };
            let mine: Vec<InvoiceState> = ints(o, "invoice_ids")
                .iter()
                .filter_map(|i| invoices.get(i).cloned())
                .collect();
            let lines = by_order.remove(&id).unwrap_or_default();
            out.insert(
                id,
                decode(o, &lines, &mine).map_err(|e| format!("Odoo sent an unreadable value: {e}")),
            );
        }
        Ok(out)
    }
}

/// A many2many/one2many field's ids (empty when absent).
fn ints(v: &Value, field: &str) -> Vec<i64> {
    match v.get(field) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        _ => Vec::new(),
    }
}

fn decode(
    order: &Value,
    lines: &[&Value],
    invoices: &[InvoiceState],
) -> Result<OrderDetails, super::value::DecodeError> {
    let r = Record(order);
    let present = |f: &str| order.get(f).is_some();
    let opt_decimal = |f: &str| -> Result<_, super::value::DecodeError> {
        if present(f) {
            r.decimal(f).map(Some)
        } else {
            Ok(None)
        }
    };
    let opt_text = |f: &str| -> Result<_, super::value::DecodeError> {
        if present(f) {
            // Datetimes to the second, as the other Odoo stamps are stored.
            Ok(r.opt_str(f)?.map(|t| t.get(..19).unwrap_or(&t).to_string()))
        } else {
            Ok(None)
        }
    };
    let mut decoded = Vec::with_capacity(lines.len());
    for l in lines {
        let lr = Record(l);
        let product = lr.many2one("product_id")?;
        decoded.push((
            lr.int("sequence").unwrap_or(0),
            OrderLine {
                odoo_line_id: lr.id()?,
                position: 0,
                display_type: lr.opt_str("display_type")?,
                product_id: product.as_ref().map(|p| p.id),
                product_name: product.map(|p| p.name),
                description: lr.opt_str("name")?.unwrap_or_default(),
                // Odoo's floats as the numbers they stand for: 3.0 is 3.
                quantity: lr.decimal("product_uom_qty")?.normalize(),
                unit_price: lr.decimal("price_unit")?.normalize(),
                discount: lr.decimal("discount")?.normalize(),
                subtotal: lr.decimal("price_subtotal")?.normalize(),
                total: lr.decimal("price_total")?.normalize(),
                qty_delivered: lr.decimal("qty_delivered")?.normalize(),
                qty_invoiced: lr.decimal("qty_invoiced")?.normalize(),
            },
        ));
    }
    // Odoo's order of an order's lines: sequence, then id.
    decoded.sort_by_key(|(seq, l)| (*seq, l.odoo_line_id));
    let lines = decoded
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut l))| {
            l.position = i as i64;
            l
        })
        .collect();
    Ok(OrderDetails {
        odoo_order_id: r.id()?,
        delivery_status: opt_text("delivery_status")?,
        invoice_status: opt_text("invoice_status")?,
        amount_invoiced: opt_decimal("amount_invoiced")?,
        amount_to_invoice: opt_decimal("amount_to_invoice")?,
        payment_state: payment_state(invoices).map(str::to_string),
        commitment_date: opt_text("commitment_date")?,
        // A quotation's expected date moves with the clock (now plus the lead time): kept
        // for confirmed orders only, whose date it is.
        expected_date: if r.opt_str("state")?.as_deref() == Some("sale") {
            opt_text("expected_date")?
        } else {
            None
        },
        effective_date: opt_text("effective_date")?,
        lines,
    })
}
