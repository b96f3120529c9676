//! Amount changes held for review: what the syncs record, what a person decides.

use rust_decimal::Decimal;

use super::db::{Row, args};
use super::events::{EventKind, EventOrder, money};
use super::orders::ConflictWrite;
use super::{Result, Store, StoreError, now_text};

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Conflict {
    pub id: i64,
    pub order_id: i64,
    pub order_number: Option<String>,
    pub odoo_order_id: Option<i64>,
    pub currency: String,
    pub portal_amount: Decimal,
    pub odoo_amount: Decimal,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub odoo_write_date: Option<String>,
    pub state: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub first_seen: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub last_seen: String,
    pub decided_by: Option<String>,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub decided_at: Option<String>,
}

const COLS: &str = "c.id, c.order_id, o.order_number, c.odoo_order_id, c.currency, c.portal_amount, c.odoo_amount, c.odoo_write_date, c.state, c.first_seen, c.last_seen, c.decided_by, c.decided_at";

fn row(r: &Row<'_>) -> Result<Conflict> {
    let currency: String = r.get("currency")?;
    // At the currency's scale, whatever scale the column keeps (MySQL's DECIMAL(20, 6)).
    let scaled = |d: Decimal| crate::money::at_scale(d, &currency);
    Ok(Conflict {
        id: r.get("id")?,
        order_id: r.get("order_id")?,
        order_number: r.get("order_number")?,
        odoo_order_id: r.get("odoo_order_id")?,
        portal_amount: scaled(r.get("portal_amount")?),
        odoo_amount: scaled(r.get("odoo_amount")?),
        currency: currency.clone(),
        odoo_write_date: r.get("odoo_write_date")?,
        state: r.get("state")?,
        first_seen: r.get("first_seen")?,
        last_seen: r.get("last_seen")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
    })
}

impl Store {
    /// Records what a sync decided about an order's conflict, in the caller's transaction.
    pub(crate) fn write_conflict(
        &self,
        order_id: i64,
        w: &ConflictWrite,
        stamp: Option<&str>,
    ) -> Result<()> {
        let now = now_text();
        match w {
            ConflictWrite::None => {}
            ConflictWrite::Resolve => {
                self.exec(
                    "UPDATE orderbridge_amount_conflicts SET state = 'resolved', last_seen = ?2
                         WHERE order_id = ?1 AND state IN ('open', 'kept')",
                    args![order_id, now],
                )?;
            }
            ConflictWrite::Hold {
                odoo_order_id,
                currency,
                portal,
                odoo,
            } => {
                // A new amount of Odoo's supersedes what a person kept.
                self.exec(
                    "UPDATE orderbridge_amount_conflicts SET state = 'resolved', last_seen = ?2
                         WHERE order_id = ?1 AND state = 'kept'",
                    args![order_id, now],
                )?;
                let updated = self.exec(
                    "UPDATE orderbridge_amount_conflicts SET odoo_amount = ?2, portal_amount = ?3,
                           odoo_write_date = COALESCE(?4, odoo_write_date), last_seen = ?5
                         WHERE order_id = ?1 AND state = 'open'",
                    args![order_id, odoo, portal, stamp, now],
                )?;
                if updated == 0 {
                    self.exec(
            "INSERT INTO orderbridge_amount_conflicts (order_id, odoo_order_id, currency, portal_amount,
                               odoo_amount, odoo_write_date, state, first_seen, last_seen)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7)",
            args![
                                order_id,
                                odoo_order_id,
                                currency,
                                portal,
                                odoo,
                                stamp,
                                now
                            ],
        )?;
                    let order = self.event_order(order_id)?;
                    self.record_event_in_tx(
                        EventKind::ConflictOpened,
                        &order,
                        &serde_json::json!({
                            "kind": "amount",
                            "portal_amount": money(*portal, currency),
                            "odoo_amount": money(*odoo, currency),
                            "currency": currency,
                        }),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// The order an event is about.
    pub(crate) fn event_order(&self, order_id: i64) -> Result<EventOrder> {
        self.one(
            "SELECT id, odoo_order_id, order_number FROM sales_orders WHERE id = ?1",
            args![order_id],
            |r| {
                Ok(EventOrder {
                    id: r.get("id")?,
                    odoo_order_id: r.get("odoo_order_id")?,
                    order_number: r.get("order_number")?,
                })
            },
        )
    }

    /// Conflicts in these states, oldest first.
    pub(crate) fn conflicts(&self, states: &[&str]) -> Result<Vec<Conflict>> {
        self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_amount_conflicts c LEFT JOIN sales_orders o ON o.id = c.order_id
                 WHERE (',' || ?1 || ',') LIKE ('%,' || c.state || ',%') ORDER BY c.id"
            ),
            args![states.join(",")],
            row,
        )
    }

    fn conflict(&self, id: i64) -> Result<Option<Conflict>> {
        self.first(
            &format!(
                "SELECT {COLS} FROM orderbridge_amount_conflicts c LEFT JOIN sales_orders o ON o.id = c.order_id WHERE c.id = ?1"
            ),
            args![id],
            row,
        )
    }

    /// A person's decision on an open conflict: `accepted` (the portal takes Odoo's amount)
    /// or `kept` (the portal's amount stays until Odoo's changes again).
    pub(crate) fn decide_conflict(&self, id: i64, accept: bool, who: &str) -> Result<Conflict> {
        self.in_write_tx(|s| {
            let c = s
                .conflict(id)?
                .ok_or_else(|| StoreError::NotFound(format!("no amount conflict has id {id}")))?;
            if c.state != "open" {
                return Err(StoreError::Conflict(format!(
                    "conflict {id} is {}, not open; nothing was changed",
                    c.state
                )));
            }
            let now = now_text();
            if accept {
                s.exec(
            "UPDATE sales_orders SET total_amount = ?2, odoo_amount_total = ?2, updated_at = ?3 WHERE id = ?1",
            args![c.order_id, c.odoo_amount, now],
        )?;
                if c.odoo_amount != c.portal_amount {
                    s.record_event_in_tx(
                        EventKind::AmountChanged,
                        &s.event_order(c.order_id)?,
                        &serde_json::json!({
                            "from": money(c.portal_amount, &c.currency),
                            "to": money(c.odoo_amount, &c.currency),
                            "currency": c.currency,
                        }),
                    )?;
                }
            }
            s.exec(
            "UPDATE orderbridge_amount_conflicts SET state = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
            args![id, if accept { "accepted" } else { "kept" }, who, now],
        )?;
            s.conflict(id)?
                .ok_or_else(|| StoreError::NotFound(format!("no amount conflict has id {id}")))
        })
    }
}
