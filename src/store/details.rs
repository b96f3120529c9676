//! The whole order as stored: Odoo's delivery, invoicing and payment on `sales_orders`
//! (`odoo_*` columns) and its lines in `sales_order_lines`, replaced together when Odoo's
//! answer differs from what was stored (a digest of it is kept), so that the hourly sync of
//! an unchanged order writes nothing.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::db::{Arg, Dialect, Row, args};
use super::{Result, Store, int_list, now_text};
use crate::details::{OrderDetails, OrderLine};

/// Lines per INSERT statement (15 parameters each: well under every engine's limit).
const LINES_PER_INSERT: usize = 400;

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
    pub(crate) fn save_details_in_tx(&self, all: &[&OrderDetails]) -> Result<usize> {
        if all.is_empty() {
            return Ok(0);
        }
        let list = int_list(all.iter().map(|d| d.odoo_order_id));
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
        // Only the orders whose details changed (their digest): (local id, details, digest).
        let changed: Vec<(i64, &OrderDetails, String)> = all
            .iter()
            .copied()
            .filter_map(|d| {
                let (id, hash) = stored.get(&d.odoo_order_id)?;
                let digest = d.digest();
                (hash.as_deref() != Some(digest.as_str())).then_some((*id, d, digest))
            })
            .collect();
        if changed.is_empty() {
            return Ok(0);
        }
        self.update_details(&changed, &now)?;
        // The lines replaced: one delete, then inserts of many rows each (a server store
        // pays a round trip per statement).
        let ids = int_list(changed.iter().map(|(id, _, _)| *id));
        self.exec(
            &format!("DELETE FROM sales_order_lines WHERE sales_order_id IN ({ids})"),
            &[],
        )?;
        let lines: Vec<(i64, &OrderLine)> = changed
            .iter()
            .flat_map(|(id, d, _)| d.lines.iter().map(move |l| (*id, l)))
            .collect();
        for rows in lines.chunks(LINES_PER_INSERT) {
            self.insert_lines(rows, &now)?;
        }
        Ok(changed.len())
    }

    /// The order columns of changed details: a statement each on SQLite (local), one for the
    /// lot on a server.
    fn update_details(&self, changed: &[(i64, &OrderDetails, String)], now: &str) -> Result<()> {
        const SET: &str = "odoo_delivery_status = ?2, odoo_invoice_status = ?3,
            odoo_amount_invoiced = ?4, odoo_amount_to_invoice = ?5, odoo_payment_state = ?6,
            odoo_commitment_date = ?7, odoo_expected_date = ?8, odoo_effective_date = ?9,
            odoo_details_hash = ?10, odoo_details_synced_at = ?11";
        if self.dialect() == Dialect::Postgres {
            let text = |f: &dyn Fn(&OrderDetails) -> Option<String>| -> Vec<Option<String>> {
                changed.iter().map(|(_, d, _)| f(d)).collect()
            };
            let dec = |f: &dyn Fn(&OrderDetails) -> Option<Decimal>| -> Vec<Option<Decimal>> {
                changed.iter().map(|(_, d, _)| f(d)).collect()
            };
            self.exec(
                "UPDATE sales_orders AS o SET odoo_delivery_status = w.ds, odoo_invoice_status = w.inv,
                    odoo_amount_invoiced = w.invoiced, odoo_amount_to_invoice = w.to_invoice,
                    odoo_payment_state = w.paid, odoo_commitment_date = w.promised,
                    odoo_expected_date = w.expected, odoo_effective_date = w.effective,
                    odoo_details_hash = w.digest, odoo_details_synced_at = ?11
                 FROM unnest(?1::bigint[], ?2::text[], ?3::text[], ?4::numeric[], ?5::numeric[], ?6::text[],
                             ?7::text[], ?8::text[], ?9::text[], ?10::text[])
                   AS w(id, ds, inv, invoiced, to_invoice, paid, promised, expected, effective, digest)
                 WHERE o.id = w.id",
                &[
                    Arg::Ints(changed.iter().map(|(id, _, _)| *id).collect()),
                    Arg::Texts(text(&|d| d.delivery_status.clone())),
                    Arg::Texts(text(&|d| d.invoice_status.clone())),
                    Arg::Decs(dec(&|d| d.amount_invoiced)),
                    Arg::Decs(dec(&|d| d.amount_to_invoice)),
                    Arg::Texts(text(&|d| d.payment_state.clone())),
                    Arg::Texts(text(&|d| d.commitment_date.clone())),
                    Arg::Texts(text(&|d| d.expected_date.clone())),
                    Arg::Texts(text(&|d| d.effective_date.clone())),
                    Arg::Texts(changed.iter().map(|(_, _, h)| Some(h.clone())).collect()),
                    Arg::Text(now.into()),
                ],
            )?;
            return Ok(());
        }
        if self.dialect() == Dialect::Mysql {
            return self.update_details_joined(changed, now);
        }
        // SQLite: a prepared statement a row, local.
        for (id, d, digest) in changed {
            self.exec(
                &format!("UPDATE sales_orders SET {SET} WHERE id = ?1"),
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
        }
        Ok(())
    }

    /// MySQL: the lot into a temporary table in one statement, then one joined update.
    fn update_details_joined(
        &self,
        changed: &[(i64, &OrderDetails, String)],
        now: &str,
    ) -> Result<()> {
        const COLS: usize = 10;
        self.batch(
            "CREATE TEMPORARY TABLE IF NOT EXISTS orderbridge_detail_writes (
               id BIGINT UNSIGNED NOT NULL PRIMARY KEY, ds VARCHAR(16) NULL, inv VARCHAR(16) NULL,
               invoiced DECIMAL(20, 6) NULL, to_invoice DECIMAL(20, 6) NULL, paid VARCHAR(16) NULL,
               promised VARCHAR(32) NULL, expected VARCHAR(32) NULL, effective VARCHAR(32) NULL,
               digest VARCHAR(64) NOT NULL
             ) ENGINE = MEMORY",
        )?;
        self.batch("DELETE FROM orderbridge_detail_writes")?;
        fn text(s: &Option<String>) -> Arg<'_> {
            s.as_deref().map_or(Arg::Null, |t| Arg::Text(t.into()))
        }
        for part in changed.chunks(1000) {
            let marks: Vec<String> = (0..part.len())
                .map(|i| {
                    let m: Vec<String> = (1..=COLS).map(|k| format!("?{}", i * COLS + k)).collect();
                    format!("({})", m.join(", "))
                })
                .collect();
            let mut args: Vec<Arg<'_>> = Vec::with_capacity(part.len() * COLS);
            for (id, d, digest) in part {
                args.extend([
                    Arg::Int(*id),
                    text(&d.delivery_status),
                    text(&d.invoice_status),
                    d.amount_invoiced.map_or(Arg::Null, Arg::Dec),
                    d.amount_to_invoice.map_or(Arg::Null, Arg::Dec),
                    text(&d.payment_state),
                    text(&d.commitment_date),
                    text(&d.expected_date),
                    text(&d.effective_date),
                    Arg::Text(digest.as_str().into()),
                ]);
            }
            self.exec(
                &format!(
                    "INSERT INTO orderbridge_detail_writes (id, ds, inv, invoiced, to_invoice, paid, promised, expected, effective, digest) VALUES {}",
                    marks.join(", ")
                ),
                &args,
            )?;
        }
        self.exec(
            "UPDATE sales_orders o JOIN orderbridge_detail_writes w ON o.id = w.id SET
               o.odoo_delivery_status = w.ds, o.odoo_invoice_status = w.inv,
               o.odoo_amount_invoiced = w.invoiced, o.odoo_amount_to_invoice = w.to_invoice,
               o.odoo_payment_state = w.paid, o.odoo_commitment_date = w.promised,
               o.odoo_expected_date = w.expected, o.odoo_effective_date = w.effective,
               o.odoo_details_hash = w.digest, o.odoo_details_synced_at = ?1",
            args![now],
        )?;
        Ok(())
    }

    /// Inserts lines in one statement.
    fn insert_lines(&self, rows: &[(i64, &OrderLine)], now: &str) -> Result<()> {
        const COLS: usize = 15;
        let marks: Vec<String> = (0..rows.len())
            .map(|i| {
                let m: Vec<String> = (1..=COLS).map(|k| format!("?{}", i * COLS + k)).collect();
                format!("({})", m.join(", "))
            })
            .collect();
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(rows.len() * COLS);
        fn text(s: &Option<String>) -> Arg<'_> {
            s.as_deref().map_or(Arg::Null, |t| Arg::Text(t.into()))
        }
        for (id, l) in rows {
            args.extend([
                Arg::Int(*id),
                Arg::Int(l.odoo_line_id),
                Arg::Int(l.position),
                text(&l.display_type),
                l.product_id.map_or(Arg::Null, Arg::Int),
                text(&l.product_name),
                Arg::Text(l.description.as_str().into()),
                Arg::Dec(l.quantity),
                Arg::Dec(l.unit_price),
                Arg::Dec(l.discount),
                Arg::Dec(l.subtotal),
                Arg::Dec(l.total),
                Arg::Dec(l.qty_delivered),
                Arg::Dec(l.qty_invoiced),
                Arg::Text(now.into()),
            ]);
        }
        self.exec(
            &format!(
                "INSERT INTO sales_order_lines (sales_order_id, odoo_line_id, position, display_type,
                    product_id, product_name, description, quantity, unit_price, discount, subtotal,
                    total, qty_delivered, qty_invoiced, updated_at) VALUES {}",
                marks.join(", ")
            ),
            &args,
        )?;
        Ok(())
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
        let list = int_list(rows.iter().map(|(id, _)| *id));
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
        let all: Vec<&OrderDetails> = all.iter().collect();
        self.in_write_tx(|s| s.save_details_in_tx(&all))
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
                let stored = StoredDetails {
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
                };
                Ok((stored, currency))
            },
        )?;
        let Some((mut head, currency)) = head else {
            return Ok(None);
        };
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
