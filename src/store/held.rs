//! Portal updates held for review: an update that met a change staff made in Odoo since the
//! portal last saw the order is not written over it unasked (`orders conflicts`).

use super::db::{Row, args};
use super::{Result, Store, StoreError, now_text};

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct HeldUpdate {
    /// Shown and decided as `u<id>`.
    pub id: i64,
    pub order_id: i64,
    pub order_number: Option<String>,
    pub odoo_order_id: Option<i64>,
    pub idempotency_key: String,
    /// The update's values (note, client_order_ref, commitment_date), as JSON.
    pub values: serde_json::Value,
    /// Odoo's `write_date` the portal had seen, and Odoo's when the update met it.
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub seen_write_date: Option<String>,
    #[serde(serialize_with = "super::rfc3339")]
    pub odoo_write_date: String,
    /// `open`, `accepted` (sent to Odoo over staff's change), `kept` (Odoo's stays).
    pub state: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub created_at: String,
    pub decided_by: Option<String>,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub decided_at: Option<String>,
}

const COLS: &str = "h.id, h.order_id, o.order_number, o.odoo_order_id, h.intent_key, h.payload, h.seen_write_date, h.odoo_write_date, h.state, h.created_at, h.decided_by, h.decided_at";

fn row(r: &Row<'_>) -> Result<HeldUpdate> {
    let payload: String = r.get("payload")?;
    Ok(HeldUpdate {
        id: r.get("id")?,
        order_id: r.get("order_id")?,
        order_number: r.get("order_number")?,
        odoo_order_id: r.get("odoo_order_id")?,
        idempotency_key: r.get("intent_key")?,
        values: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        seen_write_date: r.get("seen_write_date")?,
        odoo_write_date: r.get("odoo_write_date")?,
        state: r.get("state")?,
        created_at: r.get("created_at")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
    })
}

impl Store {
    /// Holds an update for review; returns its id.
    pub(crate) fn hold_update(
        &self,
        order_id: i64,
        key: &str,
        values: &str,
        seen: Option<&str>,
        odoo: &str,
    ) -> Result<i64> {
        self.in_write_tx(|s| {
            let id = s.insert_id(
                "INSERT INTO orderbridge_held_updates (order_id, intent_key, payload, seen_write_date, odoo_write_date, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6)",
                args![order_id, key, values, seen, odoo, now_text()],
            )?;
            s.record_event_in_tx(
                super::events::EventKind::ConflictOpened,
                &s.event_order(order_id)?,
                &serde_json::json!({
                    "kind": "update",
                    "held_update_id": id,
                    "values": serde_json::from_str::<serde_json::Value>(values).unwrap_or_default(),
                    "odoo_write_date": super::rfc3339_text(odoo),
                }),
            )?;
            Ok(id)
        })
    }

    /// Held updates in these states, oldest first.
    pub(crate) fn held_updates(&self, states: &[&str]) -> Result<Vec<HeldUpdate>> {
        self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_held_updates h LEFT JOIN sales_orders o ON o.id = h.order_id
                 WHERE (',' || ?1 || ',') LIKE ('%,' || h.state || ',%') ORDER BY h.id"
            ),
            args![states.join(",")],
            row,
        )
    }

    pub(crate) fn held_update(&self, id: i64) -> Result<HeldUpdate> {
        self.first(
            &format!(
                "SELECT {COLS} FROM orderbridge_held_updates h LEFT JOIN sales_orders o ON o.id = h.order_id WHERE h.id = ?1"
            ),
            args![id],
            row,
        )?
        .ok_or_else(|| StoreError::NotFound(format!("no held update has id u{id}")))
    }

    /// Records a person's decision on an open held update.
    pub(crate) fn decide_held_update(&self, id: i64, accepted: bool, who: &str) -> Result<()> {
        let n = self.exec(
            "UPDATE orderbridge_held_updates SET state = ?2, decided_by = ?3, decided_at = ?4
             WHERE id = ?1 AND state = 'open'",
            args![
                id,
                if accepted { "accepted" } else { "kept" },
                who,
                now_text()
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "held update u{id} is not open; nothing was changed"
            )));
        }
        Ok(())
    }

    /// Marks an action intent done (the change is in Odoo and read back).
    pub(crate) fn finish_action_intent(
        &self,
        key: &str,
        order_id: i64,
        odoo_id: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_order_intents SET state = 'done', odoo_order_id = ?2, local_order_id = ?3, error = NULL,
                   claimed_by = NULL, claimed_until = NULL, updated_at = ?4 WHERE \"key\" = ?1",
            args![key, odoo_id, order_id, now_text()],
        )?;
        Ok(())
    }

    /// Sets the local note (an update the portal sent to Odoo).
    pub(crate) fn set_order_note(&self, order_id: i64, note: &str) -> Result<()> {
        self.exec(
            "UPDATE sales_orders SET note = ?2, updated_at = ?3 WHERE id = ?1",
            args![order_id, note, now_text()],
        )?;
        Ok(())
    }
}
