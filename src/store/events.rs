//! Events for the portal: what changed in an order, written in the same transaction as the
//! change (so an event is never told of a change that rolled back, nor a change left
//! untold), sequenced in commit order, delivered by `serve` and read by `GET /v1/events`.

use rust_decimal::Decimal;

use super::db::{Row, args};
use super::{Result, Store, now_text};

/// What an event tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Created,
    AmountChanged,
    StatusChanged,
    ConflictOpened,
}

impl EventKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventKind::Created => "order.created",
            EventKind::AmountChanged => "order.amount_changed",
            EventKind::StatusChanged => "order.status_changed",
            EventKind::ConflictOpened => "order.conflict_opened",
        }
    }
}

/// The order an event is about, as the portal knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct EventOrder {
    pub id: i64,
    pub odoo_order_id: Option<i64>,
    pub order_number: Option<String>,
}

/// An event as the portal receives it (the signed webhook's body, an item of
/// `GET /v1/events`).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Event {
    /// Its place in the sequence: the cursor of `GET /v1/events?after=`.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub created_at: String,
    pub order: EventOrder,
    pub data: serde_json::Value,
}

/// An event waiting for its delivery.
#[derive(Debug, Clone)]
pub(crate) struct Undelivered {
    pub row_id: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub event: Event,
}

const COLS: &str = "id, seq, kind, order_id, odoo_order_id, order_number, data, created_at, attempts, next_attempt_at";

fn row(r: &Row<'_>) -> Result<Undelivered> {
    let data: String = r.get("data")?;
    Ok(Undelivered {
        row_id: r.get("id")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.get("next_attempt_at")?,
        event: Event {
            id: r.get::<Option<i64>>("seq")?.unwrap_or_default(),
            kind: r.get("kind")?,
            created_at: r.get("created_at")?,
            order: EventOrder {
                id: r.get("order_id")?,
                odoo_order_id: r.get("odoo_order_id")?,
                order_number: r.get("order_number")?,
            },
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        },
    })
}

/// A money value in an event: a string at the currency's scale, as everywhere in JSON.
pub(crate) fn money(d: Decimal, currency: &str) -> serde_json::Value {
    serde_json::Value::String(crate::money::at_scale(d, currency).to_string())
}

impl Store {
    /// Records an event in the caller's transaction.
    pub(crate) fn record_event_in_tx(
        &self,
        kind: EventKind,
        order: &EventOrder,
        data: &serde_json::Value,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO orderbridge_events (kind, order_id, odoo_order_id, order_number, data, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![
                kind.name(),
                order.id,
                order.odoo_order_id,
                order.order_number,
                data.to_string(),
                now_text()
            ],
        )?;
        Ok(())
    }

    /// Gives the events committed since the last call their place in the sequence, in the
    /// order they are found (by id); returns how many. A transaction that committed after
    /// one with a later id gets a later place: a reader by `seq` never skips it.
    pub(crate) fn sequence_events(&self) -> Result<usize> {
        // Read first: a write transaction (the store's write lock) only when there is work.
        let waiting = self.first(
            "SELECT id FROM orderbridge_events WHERE seq IS NULL LIMIT 1",
            &[],
            |r| r.get::<i64>(0),
        )?;
        if waiting.is_none() {
            return Ok(0);
        }
        self.in_write_tx(|s| {
            let ids: Vec<i64> = s.all(
                "SELECT id FROM orderbridge_events WHERE seq IS NULL ORDER BY id LIMIT 1000",
                &[],
                |r| r.get(0),
            )?;
            if ids.is_empty() {
                return Ok(0);
            }
            let last: i64 = s.one(
                "SELECT COALESCE(MAX(seq), 0) FROM orderbridge_events",
                &[],
                |r| r.get(0),
            )?;
            for (i, id) in ids.iter().enumerate() {
                s.exec(
                    "UPDATE orderbridge_events SET seq = ?2 WHERE id = ?1",
                    args![*id, last + 1 + i as i64],
                )?;
            }
            Ok(ids.len())
        })
    }

    /// Sequenced events after `after`, oldest first.
    pub(crate) fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        Ok(self
            .all(
                &format!(
                    "SELECT {COLS} FROM orderbridge_events WHERE seq > ?1 ORDER BY seq LIMIT {limit}"
                ),
                args![after],
                row,
            )?
            .into_iter()
            .map(|u| u.event)
            .collect())
    }

    /// The oldest sequenced event not delivered yet: delivery goes in sequence, so the
    /// events of an order arrive in the order they happened.
    pub(crate) fn next_undelivered(&self) -> Result<Option<Undelivered>> {
        self.first(
            &format!(
                "SELECT {COLS} FROM orderbridge_events WHERE seq IS NOT NULL AND delivered_at IS NULL ORDER BY seq LIMIT 1"
            ),
            &[],
            row,
        )
    }

    pub(crate) fn event_delivered(&self, row_id: i64) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_events SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
            args![row_id, now_text()],
        )?;
        Ok(())
    }

    pub(crate) fn event_failed(&self, row_id: i64, error: &str, next_at: &str) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_events SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            args![row_id, error, next_at],
        )?;
        Ok(())
    }

    /// Forgets events older than `before` (UTC text); returns how many.
    pub(crate) fn prune_events(&self, before: &str) -> Result<usize> {
        self.exec(
            "DELETE FROM orderbridge_events WHERE created_at < ?1",
            args![before],
        )
    }
}
