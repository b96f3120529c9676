//! Sales orders: the portal's copy, keyed by `odoo_order_id`.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::db::{Arg, Dialect, Row, args};
use super::{Result, Store, StoreError, now_text};
use crate::money::at_scale;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct OrderRow {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub order_number: Option<String>,
    pub odoo_order_id: Option<i64>,
    /// The portal's amount.
    pub total_amount: Decimal,
    /// Odoo's `amount_total` when last seen.
    pub odoo_amount_total: Option<Decimal>,
    pub currency: String,
    pub status: String,
    pub odoo_state: Option<String>,
    pub idempotency_key: Option<String>,
    pub note: Option<String>,
    #[serde(serialize_with = "super::rfc3339")]
    pub created_at: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub updated_at: String,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub last_synced_at: Option<String>,
    /// Odoo's order date (`date_order`); the row's creation when Odoo's is not known.
    #[serde(serialize_with = "super::rfc3339")]
    pub order_date: String,
}

/// A row to insert.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewOrder {
    pub customer_id: Option<i64>,
    pub order_number: Option<String>,
    pub odoo_order_id: Option<i64>,
    pub total_amount: Decimal,
    pub odoo_amount_total: Option<Decimal>,
    pub currency: String,
    pub status: String,
    pub odoo_state: Option<String>,
    pub idempotency_key: Option<String>,
    pub note: Option<String>,
    /// Odoo's `date_order`.
    pub order_date: Option<String>,
    /// The row stands for an order made in Odoo before it was stored (an import): its
    /// `created_at` is Odoo's order date, so that the portal's own listings sort it right.
    pub imported: bool,
    /// Odoo's amount, held for review instead of recorded (a conflict is opened with it).
    pub held: Option<Decimal>,
    /// The stamp of what was read from Odoo (see [`crate::stamp`]).
    pub odoo_write_date: Option<String>,
}

/// Which orders `orders list` shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderFilter {
    pub customer_id: Option<i64>,
    pub status: Option<String>,
    /// Stored time text: created on or after it.
    pub since: Option<String>,
    pub limit: usize,
}

pub(crate) const COLS: &str = "id, customer_id, order_number, odoo_order_id, total_amount, odoo_amount_total, currency, status, odoo_state, idempotency_key, note, created_at, updated_at, last_synced_at, order_date";

/// The date an order is listed and windowed by: Odoo's, else the row's creation.
pub(crate) const ORDER_DATE: &str = "COALESCE(order_date, created_at)";

pub(crate) fn row(r: &Row<'_>) -> Result<OrderRow> {
    let currency = r
        .get::<Option<String>>("currency")?
        .unwrap_or_else(|| "USD".into());
    // Amounts read at the currency's scale: "5" is shown and compared as 5.00.
    let scaled = |d: Decimal| at_scale(d, &currency);
    Ok(OrderRow {
        id: r.get("id")?,
        customer_id: r.get("customer_id")?,
        order_number: r.get("order_number")?,
        odoo_order_id: r.get("odoo_order_id")?,
        total_amount: scaled(
            r.get::<Option<Decimal>>("total_amount")?
                .unwrap_or_default(),
        ),
        odoo_amount_total: r.get::<Option<Decimal>>("odoo_amount_total")?.map(scaled),
        status: r.get::<Option<String>>("status")?.unwrap_or_default(),
        odoo_state: r.get("odoo_state")?,
        idempotency_key: r.get("idempotency_key")?,
        note: r.get("note")?,
        created_at: r.get::<Option<String>>("created_at")?.unwrap_or_default(),
        updated_at: r.get::<Option<String>>("updated_at")?.unwrap_or_default(),
        last_synced_at: r.get("last_synced_at")?,
        order_date: r
            .get::<Option<String>>("order_date")?
            .or_else(|| r.get::<Option<String>>("created_at").ok().flatten())
            .unwrap_or_default(),
        currency,
    })
}

impl Store {
    /// Inserts the order unless one with the same `odoo_order_id` exists; returns the stored
    /// row and whether this call created it. Safe under concurrent processes: the loser of a
    /// race reads the winner's row.
    pub(crate) fn insert_order(&self, o: &NewOrder) -> Result<(OrderRow, bool)> {
        self.in_write_tx(|s| s.insert_order_in_tx(o))
    }

    pub(crate) fn insert_order_in_tx(&self, o: &NewOrder) -> Result<(OrderRow, bool)> {
        let inserted = self.insert_order_only_in_tx(o)?;
        let row = match (inserted, o.odoo_order_id) {
            (Some(id), _) => self.order(id)?,
            (None, Some(oid)) => self
                .order_by_odoo_id(oid)?
                .ok_or_else(|| StoreError::Database("conflicting row vanished".into()))?,
            (None, None) => {
                return Err(StoreError::Database(
                    "an order without an Odoo id was not inserted".into(),
                ));
            }
        };
        Ok((row, inserted.is_some()))
    }

    /// Inserts the order unless its Odoo id is stored already; returns the new row's id
    /// (`None`: it was there). Nothing is read back: a pull stores thousands at a time.
    pub(crate) fn insert_order_only_in_tx(&self, o: &NewOrder) -> Result<Option<i64>> {
        let now = now_text();
        let created_at = match (&o.order_date, o.imported) {
            (Some(d), true) => d.clone(),
            _ => now.clone(),
        };
        let inserted: Option<i64> = self.insert_id_unless(
            "INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, odoo_amount_total,
               currency, status, odoo_state, idempotency_key, note, created_at, updated_at, last_synced_at, order_date,
               odoo_write_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?13, ?11, ?12, ?14, ?15)",
            "odoo_order_id",
            args![
                o.customer_id,
                o.order_number,
                o.odoo_order_id,
                o.total_amount,
                o.odoo_amount_total,
                o.currency,
                o.status,
                o.odoo_state,
                o.idempotency_key,
                o.note,
                now,
                o.odoo_order_id.map(|_| now.clone()),
                created_at,
                // Odoo's order date, else the row's creation.
                o.order_date.as_ref().unwrap_or(&created_at),
                o.odoo_write_date,
            ],
        )?;
        if let Some(id) = inserted {
            let mut data = serde_json::json!({
                "source": if o.imported { "odoo" } else { "portal" },
                "amount": super::events::money(o.total_amount, &o.currency),
                "currency": o.currency,
                "status": o.status,
                "odoo_state": o.odoo_state,
            });
            if let Some(k) = &o.idempotency_key {
                data["idempotency_key"] = serde_json::Value::String(k.clone());
            }
            self.record_event_in_tx(
                super::events::EventKind::Created,
                &super::events::EventOrder {
                    id,
                    odoo_order_id: o.odoo_order_id,
                    order_number: o.order_number.clone(),
                },
                &data,
            )?;
        }
        if let (Some(id), Some(held), Some(odoo_order_id)) = (inserted, o.held, o.odoo_order_id) {
            self.write_conflict(
                id,
                &ConflictWrite::Hold {
                    odoo_order_id,
                    currency: o.currency.clone(),
                    portal: o.total_amount,
                    odoo: held,
                },
                o.odoo_write_date.as_deref(),
            )?;
        }
        Ok(inserted)
    }

    pub(crate) fn find_order(&self, id: i64) -> Result<Option<OrderRow>> {
        self.first(
            &format!("SELECT {COLS} FROM sales_orders WHERE id = ?1"),
            args![id],
            row,
        )
    }

    pub(crate) fn order(&self, id: i64) -> Result<OrderRow> {
        self.find_order(id)?
            .ok_or_else(|| StoreError::NotFound(format!("there is no local order {id}")))
    }

    pub(crate) fn order_by_odoo_id(&self, odoo_id: i64) -> Result<Option<OrderRow>> {
        self.first(
            &format!(
                "SELECT {COLS} FROM sales_orders WHERE odoo_order_id = ?1 ORDER BY id LIMIT 1"
            ),
            args![odoo_id],
            row,
        )
    }

    /// Orders matching `filter`, newest first, at most `filter.limit`, and how many match
    /// in all.
    pub(crate) fn orders(&self, filter: &OrderFilter) -> Result<(Vec<OrderRow>, u64)> {
        // Each parameter is compared with its column first: PostgreSQL types it there.
        let cond = format!(
            "(customer_id = ?1 OR ?1 IS NULL) AND (status = ?2 OR ?2 IS NULL)
             AND ({ORDER_DATE} >= ?3 OR ?3 IS NULL)"
        );
        let total: i64 = self.one(
            &format!("SELECT COUNT(*) FROM sales_orders WHERE {cond}"),
            args![filter.customer_id, filter.status, filter.since],
            |r| r.get(0),
        )?;
        let rows = self.all(
            &format!(
                "SELECT {COLS} FROM sales_orders WHERE {cond} ORDER BY {ORDER_DATE} DESC, id DESC LIMIT ?4"
            ),
            args![
                filter.customer_id,
                filter.status,
                filter.since,
                filter.limit as i64
            ],
            row,
        )?;
        Ok((rows, total as u64))
    }

    /// The order with this Odoo number (`S00021`).
    pub(crate) fn order_by_number(&self, number: &str) -> Result<Option<OrderRow>> {
        self.first(
            &format!("SELECT {COLS} FROM sales_orders WHERE order_number = ?1 ORDER BY id LIMIT 1"),
            args![number],
            row,
        )
    }
}

impl Store {
    /// The Odoo ids of the local orders with these numbers (Odoo's names, `S00021`).
    pub(crate) fn odoo_ids_by_number(&self, numbers: &[String]) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for n in numbers {
            if let Some(id) = self.first(
                "SELECT odoo_order_id FROM sales_orders WHERE order_number = ?1 AND odoo_order_id IS NOT NULL",
                args![n],
                |r| r.get::<i64>(0),
            )? {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Which of these Odoo ids are stored locally.
    pub(crate) fn odoo_ids_present(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let mut found = HashSet::new();
        for id in ids {
            if self
                .first(
                    "SELECT 1 FROM sales_orders WHERE odoo_order_id = ?1",
                    args![id],
                    |_| Ok(()),
                )?
                .is_some()
            {
                found.insert(*id);
            }
        }
        Ok(found)
    }
}

/// The columns sync-amounts needs of one order, the last its open or kept review.
const SYNC_COLS: &str = "id, odoo_order_id, order_number, total_amount, currency, status,
    (SELECT c.state || ' ' || c.odoo_amount FROM orderbridge_amount_conflicts c
      WHERE c.order_id = sales_orders.id AND c.state IN ('open', 'kept') ORDER BY c.id DESC LIMIT 1) AS review";

/// The columns sync-amounts needs of one order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyncRow {
    pub id: i64,
    pub odoo_order_id: i64,
    pub order_number: Option<String>,
    pub total_amount: Decimal,
    pub currency: String,
    pub status: String,
    /// Its amount change held for review, or kept by a person, if any.
    pub review: Option<Review>,
}

/// An amount change of Odoo's that a sync must not apply by itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Review {
    /// Held, waiting for a person.
    pub open: bool,
    /// Odoo's amount that was held or kept.
    pub odoo_amount: Decimal,
}

/// A [`SyncRow`] from [`SYNC_COLS`].
fn sync_row(r: &Row<'_>) -> Result<SyncRow> {
    let review = r.get::<Option<String>>("review")?.and_then(|t| {
        let (state, amount) = t.split_once(' ')?;
        Some(Review {
            open: state == "open",
            odoo_amount: crate::money::parse_wire_amount(amount).ok()?,
        })
    });
    Ok(SyncRow {
        review,
        id: r.get("id")?,
        odoo_order_id: r.get("odoo_order_id")?,
        order_number: r.get("order_number")?,
        // (scaled by the sync, which knows the row's currency)
        total_amount: r
            .get::<Option<Decimal>>("total_amount")?
            .unwrap_or_default(),
        currency: r
            .get::<Option<String>>("currency")?
            .unwrap_or_else(|| "USD".into()),
        status: r.get::<Option<String>>("status")?.unwrap_or_default(),
    })
}

/// A change cursor: the `(write_date, id)` in Odoo up to which changes were applied, and
/// Odoo's clock when it was last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub write_date: String,
    pub odoo_id: i64,
    /// Odoo's clock (its HTTP `Date`) at the first read of the run that last moved it.
    pub read_at: Option<String>,
}

/// Where the next read of Odoo's changes starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// Every record (no cursor yet).
    All,
    /// `write_date >= since`: the overlap window is re-read.
    Since(String),
    /// Strictly after `(write_date, id)`: nothing can still commit behind the cursor.
    After(String, i64),
}

impl Cursor {
    /// Where to read from. Odoo stamps a change with the time its transaction *started*, to
    /// the second, so a change can commit later than changes already read, carrying an older
    /// stamp; but never more than a request's time limit later. Every change not read yet is
    /// therefore stamped after (Odoo's clock at the last read) − overlap: re-read from there
    /// when that is before the cursor, else from the cursor itself. Anchored on Odoo's clock,
    /// not on the last write, a quiet Odoo costs one empty read, not a re-read of the last
    /// burst. Without Odoo's clock, the cursor less the overlap.
    pub(crate) fn start(&self, overlap: std::time::Duration) -> Start {
        let overlap = chrono::Duration::from_std(overlap).unwrap_or_default();
        let behind = |t: &str| super::from_text(t).map(|t| super::to_text(t - overlap));
        match self.read_at.as_deref().and_then(behind) {
            Some(b) if b > self.write_date => Start::After(self.write_date.clone(), self.odoo_id),
            Some(b) => Start::Since(b),
            None => {
                Start::Since(behind(&self.write_date).unwrap_or_else(|| self.write_date.clone()))
            }
        }
    }
}

/// What a sync does to an order's amount conflict.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum ConflictWrite {
    #[default]
    None,
    /// Hold Odoo's amount for review: open a conflict, or update the open one.
    Hold {
        odoo_order_id: i64,
        currency: String,
        portal: Decimal,
        odoo: Decimal,
    },
    /// Odoo's amount is back within the rules: the open or kept conflict is resolved.
    Resolve,
}

/// An order's amount and status before a sync's write, for its events.
struct Before {
    order: super::events::EventOrder,
    total_amount: Option<Decimal>,
    currency: String,
    status: String,
}

/// One change sync-amounts writes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyncWrite {
    pub id: i64,
    /// The new portal amount, when it changes.
    pub total_amount: Option<Decimal>,
    /// Odoo's amount, unless it is held for review (the display would show it).
    pub odoo_amount_total: Option<Decimal>,
    /// What becomes of the order's amount conflict.
    pub conflict: ConflictWrite,
    /// `(odoo_state, status)` with `--with-status`.
    pub state: Option<(String, String)>,
    /// Odoo's `write_date` of what is written (see [`crate::stamp`]): a read's write is
    /// skipped when the row holds something of a later second.
    pub stamp: Option<String>,
    /// Written from a webhook, whose stamp was already compared in this transaction.
    pub from_webhook: bool,
    /// The whole order as read with it (lines, delivery, invoicing), stored with the write
    /// when it is applied (never when a newer stamp skips it).
    pub details: Option<crate::details::OrderDetails>,
}

impl Store {
    /// How many orders with an Odoo id were placed since `since` (all when `None`), by
    /// their order date.
    pub(crate) fn count_orders_with_odoo_id(&self, since: Option<&str>) -> Result<u64> {
        self.one(
            &format!("SELECT COUNT(*) FROM sales_orders WHERE odoo_order_id IS NOT NULL AND ({ORDER_DATE} >= ?1 OR ?1 IS NULL)"),
            args![since],
            |r| r.get::<i64>(0),
        )
        .map(|n| n as u64)
    }

    /// The next page (keyset on id) of orders with an Odoo id (created since `since`, of
    /// `customer`, when given): memory stays bounded by the
    /// page size whatever the table holds.
    pub(crate) fn sync_page(
        &self,
        since: Option<&str>,
        customer: Option<i64>,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<SyncRow>> {
        self.all(
            &format!(
                "SELECT {SYNC_COLS} FROM sales_orders
                 WHERE odoo_order_id IS NOT NULL AND ({ORDER_DATE} >= ?1 OR ?1 IS NULL)
                   AND (customer_id = ?4 OR ?4 IS NULL) AND id > ?2
                 ORDER BY id LIMIT ?3",
            ),
            args![since, after_id, limit as i64, customer],
            sync_row,
        )
    }

    /// The local orders of these Odoo ids (those not stored are left out).
    pub(crate) fn sync_rows_for(&self, odoo_ids: &[i64]) -> Result<Vec<SyncRow>> {
        let sql = format!("SELECT {SYNC_COLS} FROM sales_orders WHERE odoo_order_id = ?1");
        let mut out = Vec::with_capacity(odoo_ids.len());
        for id in odoo_ids {
            out.extend(self.first(&sql, args![id], sync_row)?);
        }
        Ok(out)
    }

    /// The local order of an Odoo id with the stamp of what it last took from Odoo.
    pub(crate) fn sync_row_stamped(
        &self,
        odoo_id: i64,
    ) -> Result<Option<(SyncRow, Option<String>)>> {
        self.first(
            &format!(
                "SELECT {SYNC_COLS}, odoo_write_date FROM sales_orders WHERE odoo_order_id = ?1"
            ),
            args![odoo_id],
            |r| Ok((sync_row(r)?, r.get("odoo_write_date")?)),
        )
    }

    /// The change cursor `name`, if a run has set it.
    pub(crate) fn cursor(&self, name: &str) -> Result<Option<Cursor>> {
        self.first(
            "SELECT write_date, odoo_id, read_at FROM orderbridge_sync_cursors WHERE name = ?1",
            args![name],
            |r| {
                Ok(Cursor {
                    write_date: r.get("write_date")?,
                    odoo_id: r.get("odoo_id")?,
                    read_at: r.get("read_at")?,
                })
            },
        )
    }

    /// Applies one chunk's results in one transaction; returns the orders whose write was
    /// skipped (see [`Store::apply_writes_in_tx`]).
    pub(crate) fn apply_sync(&self, writes: &[SyncWrite]) -> Result<HashSet<i64>> {
        self.apply_sync_and_cursor(writes, None)
    }

    /// Applies one page's results and moves the change cursor forward (never back), in one
    /// transaction: a crash leaves both as they were. Returns the orders whose write was
    /// skipped.
    pub(crate) fn apply_sync_and_cursor(
        &self,
        writes: &[SyncWrite],
        cursor: Option<(&str, &Cursor)>,
    ) -> Result<HashSet<i64>> {
        if writes.is_empty() && cursor.is_none() {
            return Ok(HashSet::new());
        }
        let tx = self.write_tx()?;
        if let Some((name, c)) = cursor {
            self.move_cursor_in_tx(name, c)?;
        }
        let skipped = self.apply_writes_in_tx(writes)?;
        tx.commit()?;
        Ok(skipped)
    }

    /// Moves the cursor `name` forward, never back: its position and its read time each
    /// only grow. Read, then written, in the caller's transaction (the same on every engine).
    pub(crate) fn move_cursor_in_tx(&self, name: &str, c: &Cursor) -> Result<()> {
        let now = now_text();
        let Some(cur) = self.cursor(name)? else {
            self.exec(
                "INSERT INTO orderbridge_sync_cursors (name, write_date, odoo_id, updated_at, read_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![name, c.write_date, c.odoo_id, now, c.read_at],
            )?;
            return Ok(());
        };
        let forward = (&c.write_date, c.odoo_id) > (&cur.write_date, cur.odoo_id);
        let to = if forward { c } else { &cur };
        let read_at = cur.read_at.clone().max(c.read_at.clone());
        self.exec(
            "UPDATE orderbridge_sync_cursors SET write_date = ?2, odoo_id = ?3, updated_at = ?4, read_at = ?5
             WHERE name = ?1",
            args![name, to.write_date, to.odoo_id, now, read_at],
        )?;
        Ok(())
    }

    /// Writes a sync's results inside the caller's transaction; returns the orders whose
    /// write was skipped because the row already held something newer from Odoo (a webhook
    /// of a later second): nothing of theirs was written.
    pub(crate) fn apply_writes_in_tx(&self, writes: &[SyncWrite]) -> Result<HashSet<i64>> {
        let before = self.before_writes(writes)?;
        let applied = match self.dialect() {
            Dialect::Sqlite => self.apply_writes_one_by_one(writes)?,
            Dialect::Mysql => self.apply_writes_joined(writes)?,
            Dialect::Postgres => self.apply_writes_at_once(writes)?,
        };
        let mut skipped = HashSet::new();
        let mut details = Vec::new();
        for (w, applied) in writes.iter().zip(applied) {
            if applied {
                if let Some(b) = before.get(&w.id) {
                    self.record_write_events(w, b)?;
                }
                self.write_conflict(w.id, &w.conflict, w.stamp.as_deref())?;
                details.extend(w.details.as_ref());
            } else {
                skipped.insert(w.id);
            }
        }
        self.save_details_in_tx(&details)?;
        Ok(skipped)
    }

    /// What the orders a chunk writes hold before it: the amount and status its events
    /// compare with. Read in the writes' transaction (rows locked on the server engines).
    fn before_writes(&self, writes: &[SyncWrite]) -> Result<HashMap<i64, Before>> {
        let changing: Vec<i64> = writes
            .iter()
            .filter(|w| w.total_amount.is_some() || w.state.is_some())
            .map(|w| w.id)
            .collect();
        if changing.is_empty() {
            return Ok(HashMap::new());
        }
        let lock = match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres | Dialect::Mysql => " FOR UPDATE",
        };
        let mut out = HashMap::with_capacity(changing.len());
        for ids in changing.chunks(1000) {
            let list = super::int_list(ids.iter().copied());
            for (id, b) in self.all(
                &format!(
                    "SELECT id, odoo_order_id, order_number, total_amount, currency, status FROM sales_orders WHERE id IN ({list}){lock}"
                ),
                &[],
                |r| {
                    Ok((
                        r.get::<i64>("id")?,
                        Before {
                            order: super::events::EventOrder {
                                id: r.get("id")?,
                                odoo_order_id: r.get("odoo_order_id")?,
                                order_number: r.get("order_number")?,
                            },
                            total_amount: r.get::<Option<Decimal>>("total_amount")?,
                            currency: r
                                .get::<Option<String>>("currency")?
                                .unwrap_or_else(|| "USD".into()),
                            status: r.get::<Option<String>>("status")?.unwrap_or_default(),
                        },
                    ))
                },
            )? {
                out.insert(id, b);
            }
        }
        Ok(out)
    }

    /// The events of one applied write: its amount and status, against what it replaced.
    fn record_write_events(&self, w: &SyncWrite, b: &Before) -> Result<()> {
        use super::events::{EventKind, money};
        if let Some(to) = w.total_amount
            && b.total_amount != Some(to)
        {
            self.record_event_in_tx(
                EventKind::AmountChanged,
                &b.order,
                &serde_json::json!({
                    "from": b.total_amount.map(|d| money(d, &b.currency)),
                    "to": money(to, &b.currency),
                    "currency": b.currency,
                }),
            )?;
        }
        if let Some((odoo_state, status)) = &w.state
            && *status != b.status
        {
            self.record_event_in_tx(
                EventKind::StatusChanged,
                &b.order,
                &serde_json::json!({"from": b.status, "to": status, "odoo_state": odoo_state}),
            )?;
        }
        Ok(())
    }

    /// SQLite: a prepared statement per write costs microseconds, in process.
    fn apply_writes_one_by_one(&self, writes: &[SyncWrite]) -> Result<Vec<bool>> {
        let now = now_text();
        let sql = "UPDATE sales_orders SET
                       total_amount = COALESCE(?2, total_amount),
                       odoo_amount_total = COALESCE(?3, odoo_amount_total),
                       odoo_state = COALESCE(?4, odoo_state),
                       status = COALESCE(?5, status),
                       updated_at = CASE WHEN ?2 IS NOT NULL OR (?5 IS NOT NULL AND ?5 IS NOT status) THEN ?6 ELSE updated_at END,
                       last_synced_at = ?6,
                       odoo_write_date = COALESCE(?7, odoo_write_date)
                     WHERE id = ?1 AND (?7 IS NULL OR ?8 OR odoo_write_date IS NULL
                       OR substr(odoo_write_date, 1, 19) <= substr(?7, 1, 19))";
        writes
            .iter()
            .map(|w| {
                self.exec(
                    sql,
                    args![
                        w.id,
                        w.total_amount,
                        w.odoo_amount_total,
                        w.state.as_ref().map(|s| s.0.as_str()),
                        w.state.as_ref().map(|s| s.1.as_str()),
                        now,
                        w.stamp,
                        // A webhook's own tie-break was made before (see crate::stamp).
                        w.from_webhook,
                    ],
                )
                .map(|n| n == 1)
            })
            .collect()
    }

    /// MySQL: a chunk's writes go into a temporary table of the session (one multi-row
    /// INSERT: a statement per order would cost a round trip each) and are joined from there
    /// by primary key, the same rule as [`Store::apply_writes_one_by_one`]. MySQL has no
    /// `RETURNING` and gives a multi-table UPDATE's assignments no order, so what each write
    /// finds (let in by the stamp guard; changing the amount or status) is judged first,
    /// into the temporary table, then the one UPDATE of the orders reads only that.
    fn apply_writes_joined(&self, writes: &[SyncWrite]) -> Result<Vec<bool>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        const COLS: usize = 7;
        self.batch(
            "CREATE TEMPORARY TABLE IF NOT EXISTS orderbridge_sync_writes (
               id BIGINT UNSIGNED NOT NULL PRIMARY KEY, total DECIMAL(20, 6) NULL,
               odoo_total DECIMAL(20, 6) NULL, state VARCHAR(16) NULL, status VARCHAR(32) NULL,
               stamp VARCHAR(32) NULL, hook TINYINT NOT NULL,
               applies TINYINT NOT NULL DEFAULT 1, changes TINYINT NOT NULL DEFAULT 0
             ) ENGINE = MEMORY",
        )?;
        self.batch("DELETE FROM orderbridge_sync_writes")?;
        let rows: Vec<String> = (0..writes.len())
            .map(|i| {
                let marks: Vec<String> = (1..=COLS).map(|k| format!("?{}", i * COLS + k)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(writes.len() * COLS);
        for w in writes {
            args.extend([
                Arg::Int(w.id),
                w.total_amount.map_or(Arg::Null, Arg::Dec),
                w.odoo_amount_total.map_or(Arg::Null, Arg::Dec),
                w.state
                    .as_ref()
                    .map_or(Arg::Null, |s| Arg::Text(s.0.as_str().into())),
                w.state
                    .as_ref()
                    .map_or(Arg::Null, |s| Arg::Text(s.1.as_str().into())),
                w.stamp
                    .as_deref()
                    .map_or(Arg::Null, |s| Arg::Text(s.into())),
                Arg::Bool(w.from_webhook),
            ]);
        }
        self.exec(
            &format!(
                "INSERT INTO orderbridge_sync_writes (id, total, odoo_total, state, status, stamp, hook) VALUES {}",
                rows.join(", ")
            ),
            &args,
        )?;
        // What each write finds, judged on the rows before any of them changes: whether the
        // stamp guard lets it in, and whether it changes the amount or the status.
        self.batch(
            "UPDATE orderbridge_sync_writes w JOIN sales_orders o ON o.id = w.id SET
               w.applies = (w.stamp IS NULL OR w.hook OR o.odoo_write_date IS NULL
                 OR substr(o.odoo_write_date, 1, 19) <= substr(w.stamp, 1, 19)),
               w.changes = (w.total IS NOT NULL OR (w.status IS NOT NULL AND NOT (w.status <=> o.status)))",
        )?;
        let kept_out: HashSet<i64> = self
            .all(
                "SELECT id FROM orderbridge_sync_writes WHERE NOT applies",
                &[],
                |r| r.get(0),
            )?
            .into_iter()
            .collect();
        self.exec(
            "UPDATE sales_orders o JOIN orderbridge_sync_writes w ON o.id = w.id SET
               o.total_amount = COALESCE(w.total, o.total_amount),
               o.odoo_amount_total = COALESCE(w.odoo_total, o.odoo_amount_total),
               o.odoo_state = COALESCE(w.state, o.odoo_state),
               o.status = COALESCE(w.status, o.status),
               o.updated_at = IF(w.changes, ?1, o.updated_at),
               o.last_synced_at = ?1,
               o.odoo_write_date = COALESCE(w.stamp, o.odoo_write_date)
             WHERE w.applies",
            args![now_text()],
        )?;
        Ok(writes.iter().map(|w| !kept_out.contains(&w.id)).collect())
    }

    /// PostgreSQL: one statement for the whole chunk (a round trip per order would cost
    /// more than the sync), the same rule as [`Store::apply_writes_one_by_one`].
    fn apply_writes_at_once(&self, writes: &[SyncWrite]) -> Result<Vec<bool>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = writes.iter().map(|w| w.id).collect();
        let totals: Vec<Option<Decimal>> = writes.iter().map(|w| w.total_amount).collect();
        let odoo: Vec<Option<Decimal>> = writes.iter().map(|w| w.odoo_amount_total).collect();
        let text = |f: &dyn Fn(&SyncWrite) -> Option<String>| -> Vec<Option<String>> {
            writes.iter().map(f).collect()
        };
        let states = text(&|w| w.state.as_ref().map(|s| s.0.clone()));
        let statuses = text(&|w| w.state.as_ref().map(|s| s.1.clone()));
        let stamps = text(&|w| w.stamp.clone());
        let hooks: Vec<bool> = writes.iter().map(|w| w.from_webhook).collect();
        let done: HashSet<i64> = self
            .all(
                "UPDATE sales_orders AS o SET
                   total_amount = COALESCE(w.total, o.total_amount),
                   odoo_amount_total = COALESCE(w.odoo_total, o.odoo_amount_total),
                   odoo_state = COALESCE(w.state, o.odoo_state),
                   status = COALESCE(w.status, o.status),
                   updated_at = CASE WHEN w.total IS NOT NULL
                     OR (w.status IS NOT NULL AND w.status IS DISTINCT FROM o.status) THEN ?6 ELSE o.updated_at END,
                   last_synced_at = ?6,
                   odoo_write_date = COALESCE(w.stamp, o.odoo_write_date)
                 FROM unnest(?1::bigint[], ?2::numeric[], ?3::numeric[], ?4::text[], ?5::text[], ?7::text[], ?8::bool[])
                   AS w(id, total, odoo_total, state, status, stamp, from_webhook)
                 WHERE o.id = w.id AND (w.stamp IS NULL OR w.from_webhook OR o.odoo_write_date IS NULL
                   OR substr(o.odoo_write_date, 1, 19) <= substr(w.stamp, 1, 19))
                 RETURNING o.id",
                &[
                    Arg::Ints(ids),
                    Arg::Decs(totals),
                    Arg::Decs(odoo),
                    Arg::Texts(states),
                    Arg::Texts(statuses),
                    Arg::Text(now_text().into()),
                    Arg::Texts(stamps),
                    Arg::Bools(hooks),
                ],
                |r| r.get(0),
            )?
            .into_iter()
            .collect();
        Ok(writes.iter().map(|w| done.contains(&w.id)).collect())
    }
}
