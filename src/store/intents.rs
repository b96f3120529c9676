//! Create intents: the local half of the exactly-once create protocol.

use super::db::{Dialect, Row, args};
use super::orders::{NewOrder, OrderRow};
use super::{Result, Store, StoreError, now_text};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum IntentState {
    Pending,
    /// In the outbox: Odoo was unavailable; `orders flush` sends it.
    Queued,
    Done,
    Failed,
    /// Taken back from the outbox before Odoo had it.
    Cancelled,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Intent {
    pub key: String,
    pub payload_hash: String,
    pub payload: String,
    pub state: IntentState,
    pub odoo_order_id: Option<i64>,
    pub local_order_id: Option<i64>,
    pub error: Option<String>,
    pub claimed_by: Option<String>,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub claimed_until: Option<String>,
    /// When the last create request went to Odoo (`None`: never, as far as is known).
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub sent_at: Option<String>,
    #[serde(serialize_with = "super::rfc3339")]
    pub created_at: String,
}

const COLS: &str = "\"key\", payload_hash, payload, state, odoo_order_id, local_order_id, error, claimed_by, claimed_until, sent_at, created_at";

fn row(r: &Row<'_>) -> Result<Intent> {
    let state = match r.get::<String>("state")?.as_str() {
        "done" => IntentState::Done,
        "failed" => IntentState::Failed,
        "queued" => IntentState::Queued,
        "cancelled" => IntentState::Cancelled,
        _ => IntentState::Pending,
    };
    Ok(Intent {
        key: r.get("key")?,
        payload_hash: r.get("payload_hash")?,
        payload: r.get("payload")?,
        state,
        odoo_order_id: r.get("odoo_order_id")?,
        local_order_id: r.get("local_order_id")?,
        error: r.get("error")?,
        claimed_by: r.get("claimed_by")?,
        claimed_until: r.get("claimed_until")?,
        sent_at: r.get("sent_at")?,
        created_at: r.get("created_at")?,
    })
}

impl Store {
    pub(crate) fn intent(&self, key: &str) -> Result<Option<Intent>> {
        self.first(
            &format!("SELECT {COLS} FROM orderbridge_order_intents WHERE \"key\" = ?1"),
            args![key],
            row,
        )
    }

    /// Records a new intent (pending), or returns the existing one with this key.
    pub(crate) fn record_intent(
        &self,
        key: &str,
        hash: &str,
        payload: &str,
    ) -> Result<(Intent, bool)> {
        let now = now_text();
        let new = self.insert_unless(
            "INSERT INTO orderbridge_order_intents (\"key\", payload_hash, payload, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
            "\"key\"",
            args![key, hash, payload, now],
        )?;
        let intent = self
            .intent(key)?
            .ok_or_else(|| StoreError::Database("intent vanished".into()))?;
        Ok((intent, new))
    }

    /// Takes the intent for this process until `until`, unless another live process holds
    /// it or it is done. Returns whether this process now owns it.
    pub(crate) fn claim_intent(&self, key: &str, owner: &str, until: &str) -> Result<bool> {
        let n = self.exec(
            "UPDATE orderbridge_order_intents SET claimed_by = ?2, claimed_until = ?3, updated_at = ?4
                 WHERE \"key\" = ?1 AND state != 'done'
                   AND (claimed_by IS NULL OR claimed_by = ?2 OR claimed_until < ?4)",
            args![key, owner, until, now_text()],
        )?;
        Ok(n == 1)
    }

    /// Takes over a claim whose holder is known to be dead (it crashed).
    pub(crate) fn steal_intent(
        &self,
        key: &str,
        dead_owner: &str,
        owner: &str,
        until: &str,
    ) -> Result<bool> {
        let n = self.exec(
            "UPDATE orderbridge_order_intents SET claimed_by = ?3, claimed_until = ?4, updated_at = ?5
                 WHERE \"key\" = ?1 AND state != 'done' AND claimed_by = ?2",
            args![key, dead_owner, owner, until, now_text()],
        )?;
        Ok(n == 1)
    }

    /// Notes that a create request is about to go to Odoo: from now on its outcome may be
    /// unknown until answered.
    pub(crate) fn mark_intent_sent(&self, key: &str) -> Result<()> {
        let now = now_text();
        self.exec(
            "UPDATE orderbridge_order_intents SET sent_at = ?2, updated_at = ?2 WHERE \"key\" = ?1",
            args![key, now],
        )?;
        Ok(())
    }

    /// Gives the claim up, changing nothing else.
    pub(crate) fn unclaim_intent(&self, key: &str) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_order_intents SET claimed_by = NULL, claimed_until = NULL, updated_at = ?2
                 WHERE \"key\" = ?1 AND state != 'done'",
            args![key, now_text()],
        )?;
        Ok(())
    }

    /// Marks the intent failed: Odoo refused it, or it was found not to exist in Odoo. Either
    /// way nothing is in doubt any more, so its `sent_at` goes: a retry or a cancel need not
    /// wait out the grace period.
    pub(crate) fn fail_intent(&self, key: &str, error: &str) -> Result<()> {
        self.settle_intent(key, "failed", error)?;
        self.exec(
            "UPDATE orderbridge_order_intents SET sent_at = NULL WHERE \"key\" = ?1 AND state = 'failed'",
            args![key],
        )?;
        Ok(())
    }

    /// Marks the intent failed for a reason of its own (its payload cannot be sent), keeping
    /// its `sent_at`: an earlier request of it may still be in Odoo.
    pub(crate) fn set_aside_intent(&self, key: &str, error: &str) -> Result<()> {
        self.settle_intent(key, "failed", error)
    }

    /// Leaves the intent pending (outcome unknown) and lets another run take it.
    pub(crate) fn release_intent(&self, key: &str, error: &str) -> Result<()> {
        self.settle_intent(key, "pending", error)
    }

    /// Inserts the local order (or finds the one already stored for that Odoo id) and marks
    /// the intent done, in one transaction: after a crash there is nothing half-done.
    pub(crate) fn complete_intent(&self, key: &str, order: &NewOrder) -> Result<(OrderRow, bool)> {
        self.in_write_tx(|s| s.complete_in_tx(key, order))
    }

    fn complete_in_tx(&self, key: &str, order: &NewOrder) -> Result<(OrderRow, bool)> {
        let (row, created) = self.insert_order_in_tx(order)?;
        self.exec(
            "UPDATE orderbridge_order_intents SET state = 'done', odoo_order_id = ?2, local_order_id = ?3, error = NULL,
                   claimed_by = NULL, claimed_until = NULL, updated_at = ?4 WHERE \"key\" = ?1",
            args![key, order.odoo_order_id, row.id, now_text()],
        )?;
        Ok((row, created))
    }

    /// Intents whose outcome is not known yet.
    pub(crate) fn pending_intents(&self) -> Result<Vec<Intent>> {
        self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_order_intents WHERE state = 'pending' ORDER BY created_at, \"key\""
            ),
            &[],
            row,
        )
    }

    /// Puts the intent in the outbox (Odoo was unavailable), claim released.
    pub(crate) fn queue_intent(&self, key: &str, error: &str) -> Result<()> {
        self.settle_intent(key, "queued", error)
    }

    /// The outbox (and, with `failed`, what Odoo refused), oldest first.
    pub(crate) fn queued_intents(&self, with_failed: bool) -> Result<Vec<Intent>> {
        self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_order_intents WHERE state = 'queued' OR (?1 AND state = 'failed')
                 ORDER BY created_at, \"key\""
            ),
            args![with_failed],
            row,
        )
    }

    /// Claims the outbox for `who` until `until`, oldest first; entries another live
    /// process holds are left to it. On PostgreSQL the rows are read `FOR UPDATE SKIP
    /// LOCKED`, so two hosts flushing at once take disjoint entries without waiting for each
    /// other. Returns the claimed entries and how many were busy.
    pub(crate) fn claim_queued(
        &self,
        who: &super::claims::Claimant,
        until: &str,
    ) -> Result<(Vec<Intent>, usize)> {
        let skip_locked = match self.dialect() {
            Dialect::Postgres | Dialect::Mysql => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let tx = self.row_tx()?;
        let total = self.intent_stats("queued")?.0 as usize;
        let queued = self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_order_intents WHERE state = 'queued' ORDER BY created_at, \"key\"{skip_locked}"
            ),
            &[],
            row,
        )?;
        let mut claimed = Vec::with_capacity(queued.len());
        for intent in queued {
            if self.claim(&intent.key, who, until)? {
                claimed.push(intent);
            }
        }
        tx.commit()?;
        let busy = total.saturating_sub(claimed.len());
        Ok((claimed, busy))
    }

    /// Notes that these intents' create request is about to go (or, with `sent` false, did
    /// not go after all), in one transaction.
    pub(crate) fn mark_intents_sent(&self, keys: &[&str], sent: bool) -> Result<()> {
        self.in_write_tx(|s| {
            let now = now_text();
            let sent_at = sent.then(|| now.clone());
            for k in keys {
                s.exec(
                    "UPDATE orderbridge_order_intents SET sent_at = ?3, updated_at = ?2 WHERE \"key\" = ?1",
                    args![k, now, sent_at],
                )?;
            }
            Ok(())
        })
    }

    /// [`Store::complete_intent`] for many, in one transaction.
    pub(crate) fn complete_intents(&self, done: &[(String, NewOrder)]) -> Result<Vec<OrderRow>> {
        self.in_write_tx(|s| {
            done.iter()
                .map(|(key, order)| s.complete_in_tx(key, order).map(|(row, _)| row))
                .collect()
        })
    }

    /// Moves an intent from one of `from` to `to` (retry: failed → queued; cancel: queued
    /// or failed → cancelled); false when it is in none of them.
    pub(crate) fn move_intent(&self, key: &str, from: &[&str], to: &str) -> Result<bool> {
        let from = from.join(",");
        let n = self.exec(
            "UPDATE orderbridge_order_intents SET state = ?3, error = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = ?4
                 WHERE \"key\" = ?1 AND (',' || ?2 || ',') LIKE ('%,' || state || ',%')",
            args![key, from, to, now_text()],
        )?;
        Ok(n == 1)
    }

    /// Intents in `state` (`pending`: creates in doubt; `queued`: the outbox): how many, and
    /// since when the oldest.
    pub(crate) fn intent_stats(&self, state: &str) -> Result<(u64, Option<String>)> {
        self.one(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM orderbridge_order_intents WHERE state = ?1",
            args![state],
            |r| Ok((r.get::<i64>("n")? as u64, r.get("oldest")?)),
        )
    }

    /// Settles an intent that is not done into `state`, with why, claim released.
    fn settle_intent(&self, key: &str, state: &str, error: &str) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_order_intents SET state = ?2, error = ?3, claimed_by = NULL, claimed_until = NULL, updated_at = ?4
                 WHERE \"key\" = ?1 AND state != 'done'",
            args![key, state, error, now_text()],
        )?;
        Ok(())
    }
}
