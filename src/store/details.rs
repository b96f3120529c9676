//! The whole order as stored: Odoo's delivery, invoicing and payment on `sales_orders`
//! (`odoo_*` columns) and its lines in `sales_order_lines`, replaced together when Odoo's
//! answer differs from what was stored (a digest of it is kept), so that the hourly sync of
//! an unchanged order writes nothing.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::db::{Row, args};
use super::{Result, Store, now_text};
use crate::details::{OrderDetails, OrderLine};

/// Details as `orders show` reads them back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct StoredDetails {
    #[serde(flatten)]
    pub details: OrderDetails,
    /// When they were last written (they had changed).
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub synced_at: Option<String>,
}

fn line(r: &Row<'_>) -> Result<OrderLine> {
    let dec = |c: &str| -> Result<Decimal> { Ok(r.get::<Option<Decimal>>(c)?.unwrap_or_default()) };
    Ok(OrderLine {
        odoo_line_id: r.get("odoo_line_id")?,
        position: r.get("position")?,
        display_type: r.get("display_type")?,
        product_id: r.get("product_id")?,
        product_name: r.get("product_name")?,
        description: r.get::<Option<String>>("description")?.unwrap_or_default(),
        quantity: dec("quantity")?,
        unit_price: dec("unit_price")?,
        discount: dec("discount")?,
        subtotal: dec("subtotal")?,
        total: dec("total")?,
        qty_delivered: dec("qty_delivered")?,
        qty_invoiced: dec("qty_invoiced")?,
    })
}

impl Store {
    /// Stores the details of the orders stored locally (by Odoo id; others are skipped) in
    /// the caller's transaction, writing only those that differ from what is stored.
    /// Returns how many orders were written.
    pub(crate) fn save_details_in_tx(&self, all: &[OrderDetails]) -> Result<usize> {
        if all.is_empty() {
            return Ok(0);
        }
        // Integers only: safe to inline, and one query for the lot.
        let list = all
            .iter()
            .map(|d| d.odoo_order_id.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let stored: HashMap<i64, (i64, Option<String>)> = self
            .all(
                &format!(
                    "SELECT id, odoo_order_id, odoo_details_hash FROM sales_orders WHERE odoo_order_id IN ({list})"
                ),
                &[],
                |r| Ok((r.get::<i64>("odoo_order_id")?, (r.get::<i64>("id")?, r.get("odoo_details_hash")?))),
            )?
            .into_iter()
            .collect();
        let now = now_text();
        let mut written = 0;
        for d in all {
            let Some((id, hash)) = stored.get(&d.odoo_order_id) else {
                continue;
            };
            let digest = d.digest();
            if hash.as_deref() == Some(digest.as_str()) {
                continue;
            }
            self.exec(
                "UPDATE sales_orders SET odoo_delivery_status = ?2, odoo_invoice_status = ?3,
                    odoo_amount_invoiced = ?4, odoo_amount_to_invoice = ?5, odoo_payment_state = ?6,
                    odoo_commitment_date = ?7, odoo_expected_date = ?8, odoo_effective_date = ?9,
                    odoo_details_hash = ?10, odoo_details_synced_at = ?11
                 WHERE id = ?1",
                args![
                    id,
                    d.delivery_status,
                    d.invoice_status,
                    d.amount_invoiced,
                    d.amount_to_invoice,
                    d.payment_state,
                    d.commitment_date,
                    d.expected_date,
                    d.effective_date,
                    digest,
                    now
                ],
            )?;
            self.exec(
                "DELETE FROM sales_order_lines WHERE sales_order_id = ?1",
                args![id],
            )?;
            for l in &d.lines {
                self.exec(
                    "INSERT INTO sales_order_lines (sales_order_id, odoo_line_id, position, display_type,
                        product_id, product_name, description, quantity, unit_price, discount, subtotal,
                        total, qty_delivered, qty_invoiced, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    args![
                        id,
                        l.odoo_line_id,
                        l.position,
                        l.display_type,
                        l.product_id,
                        l.product_name,
                        l.description,
                        l.quantity,
                        l.unit_price,
                        l.discount,
                        l.subtotal,
                        l.total,
                        l.qty_delivered,
                        l.qty_invoiced,
                        now
                    ],
                )?;
            }
            written += 1;
        }
        Ok(written)
    }

    /// Of these Odoo rows (`id`, `write_date`), the ids whose details are worth reading: not
    /// stored yet, stored without details, or changed in Odoo since (a later second) — a
    /// re-read of an unchanged order (a cursor's overlap) reads no lines. A change in the
    /// very second of the stored read is the nightly full sync's to see. Payments, which
    /// move no `write_date`, are the invoice cursor's to find.
    pub(crate) fn details_wanted(&self, rows: &[(i64, String)]) -> Result<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let list = rows
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let stored: HashMap<i64, (Option<String>, bool)> = self
            .all(
                &format!(
                    "SELECT odoo_order_id, odoo_write_date, odoo_details_hash IS NOT NULL AS has_details
                     FROM sales_orders WHERE odoo_order_id IN ({list})"
                ),
                &[],
                |r| {
                    Ok((
                        r.get::<i64>("odoo_order_id")?,
                        (r.get("odoo_write_date")?, r.get::<bool>("has_details")?),
                    ))
                },
            )?
            .into_iter()
            .collect();
        Ok(rows
            .iter()
            .filter(|(id, write_date)| match stored.get(id) {
                Some((Some(stamp), true)) => {
                    write_date.get(..19).unwrap_or(write_date) > stamp.get(..19).unwrap_or(stamp)
                }
                _ => true,
            })
            .map(|(id, _)| *id)
            .collect())
    }

    /// [`Store::save_details_in_tx`] in a transaction of its own.
    pub(crate) fn save_details(&self, all: &[OrderDetails]) -> Result<usize> {
        if all.is_empty() {
            return Ok(0);
        }
        self.in_write_tx(|s| s.save_details_in_tx(all))
    }

    /// An order's stored details; `None` when none were ever stored.
    pub(crate) fn details(&self, order_id: i64) -> Result<Option<StoredDetails>> {
        let head = self.first(
            "SELECT odoo_order_id, odoo_delivery_status, odoo_invoice_status, odoo_amount_invoiced,
                    odoo_amount_to_invoice, odoo_payment_state, odoo_commitment_date,
                    odoo_expected_date, odoo_effective_date, odoo_details_synced_at, currency
             FROM sales_orders WHERE id = ?1 AND odoo_details_hash IS NOT NULL",
            args![order_id],
            |r| {
                let currency = r.get::<Option<String>>("currency")?.unwrap_or_default();
                let money = |c: &str| -> Result<Option<Decimal>> {
                    Ok(r.get::<Option<Decimal>>(c)?
                        .map(|d| crate::money::at_scale(d, &currency)))
                };
                Ok(StoredDetails {
                    details: OrderDetails {
                        odoo_order_id: r.get::<Option<i64>>("odoo_order_id")?.unwrap_or_default(),
                        delivery_status: r.get("odoo_delivery_status")?,
                        invoice_status: r.get("odoo_invoice_status")?,
                        amount_invoiced: money("odoo_amount_invoiced")?,
                        amount_to_invoice: money("odoo_amount_to_invoice")?,
                        payment_state: r.get("odoo_payment_state")?,
                        commitment_date: r.get("odoo_commitment_date")?,
                        expected_date: r.get("odoo_expected_date")?,
                        effective_date: r.get("odoo_effective_date")?,
                        lines: Vec::new(),
                    },
                    synced_at: r.get("odoo_details_synced_at")?,
                })
            },
        )?;
        let Some(mut head) = head else {
            return Ok(None);
        };
        let currency: String = self
            .first(
                "SELECT currency FROM sales_orders WHERE id = ?1",
                args![order_id],
                |r| r.get::<Option<String>>("currency"),
            )?
            .flatten()
            .unwrap_or_default();
        head.details.lines = self.all(
            "SELECT odoo_line_id, position, display_type, product_id, product_name, description,
                    quantity, unit_price, discount, subtotal, total, qty_delivered, qty_invoiced
             FROM sales_order_lines WHERE sales_order_id = ?1 ORDER BY position, odoo_line_id",
            args![order_id],
            |r| {
                // Money at the currency's scale (a unit price keeps finer digits it has);
                // quantities as the numbers they are (a server's NUMERIC pads them).
                let mut l = line(r)?;
                let money = |d: Decimal| crate::money::at_scale(d, &currency);
                l.subtotal = money(l.subtotal);
                l.total = money(l.total);
                let p = l.unit_price.normalize();
                l.unit_price = if p.scale() > money(p).scale() {
                    p
                } else {
                    money(p)
                };
                for q in [
                    &mut l.quantity,
                    &mut l.discount,
                    &mut l.qty_delivered,
                    &mut l.qty_invoiced,
                ] {
                    *q = q.normalize();
                }
                Ok(l)
            },
        )?;
        Ok(Some(head))
    }

    /// Records which modules the Odoo server lacks (empty: none), for `status`.
    pub(crate) fn record_missing_features(
        &self,
        server: &str,
        database: &str,
        missing: &[&str],
    ) -> Result<()> {
        let missing = missing.join(",");
        let now = now_text();
        self.in_write_tx(|s| {
            let changed = s.exec(
                "UPDATE orderbridge_odoo_features SET missing = ?3, checked_at = ?4
                 WHERE server = ?1 AND \"database\" = ?2",
                args![server, database, missing, now],
            )?;
            if changed == 0 {
                s.exec(
                    "INSERT INTO orderbridge_odoo_features (server, \"database\", missing, checked_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    args![server, database, missing, now],
                )?;
            }
            Ok(())
        })
    }

    /// The modules each Odoo server lacks, as last checked: `(server, missing, checked_at)`.
    pub(crate) fn missing_features(&self) -> Result<Vec<(String, Vec<String>, String)>> {
        self.all(
            "SELECT server, missing, checked_at FROM orderbridge_odoo_features ORDER BY server",
            &[],
            |r| {
                let missing: String = r.get("missing")?;
                Ok((
                    r.get("server")?,
                    missing
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(str::to_string)
                        .collect(),
                    r.get("checked_at")?,
                ))
            },
        )
    }
}
