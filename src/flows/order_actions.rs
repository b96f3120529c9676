//! `orders cancel` and `orders update`: the portal's changes to an order, back to Odoo,
//! exactly once and never blind.
//!
//! Each goes through the intents table under a key (given, or derived from the order and
//! the change): a retried cancel or update answers from the store and never acts twice; an
//! unanswered request is settled by reading the order back, not by sending it again. When
//! Odoo is unavailable it waits in the outbox (with `ORDERBRIDGE_QUEUE_IF_UNAVAILABLE`).
//!
//! Odoo alone is no guard (captures-3): Odoo 19's `action_cancel` cancels even a delivered,
//! invoiced and paid order, and Odoo 18's answers a `sale.order.cancel` wizard without
//! cancelling anything. So the portal's cancel has its own rule — refused once anything is
//! delivered or invoiced (draft invoices count), read fresh from Odoo — goes through the
//! wizard where the server answers with one, and is confirmed by reading the state back. An
//! update that meets a change staff made since the portal last saw the order is held for
//! review (`orders conflicts`) instead of overwriting it.

use sha2::{Digest, Sha256};

use super::Context;
use super::sync::{OdooChunk, Selection, SyncOptions, compare_chunk, fetch};
use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::odoo::{Call, OdooClient, OdooError, Record, Value};
use crate::store::Store;
use crate::store::claims::Claimant;
use crate::store::intents::IntentState;
use crate::store::orders::OrderRow;

/// The values `orders update` may change.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct UpdateValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The customer's reference (PO number): Odoo's `client_order_ref`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_order_ref: Option<String>,
    /// The delivery date promised, UTC `YYYY-MM-DD HH:MM:SS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment_date: Option<String>,
}

impl UpdateValues {
    pub(crate) fn is_empty(&self) -> bool {
        self == &UpdateValues::default()
    }

    fn vals(&self) -> Value {
        let mut m = Vec::new();
        if let Some(n) = &self.note {
            m.push(("note".to_string(), Value::str(n)));
        }
        if let Some(r) = &self.client_order_ref {
            m.push(("client_order_ref".to_string(), Value::str(r)));
        }
        if let Some(c) = &self.commitment_date {
            m.push(("commitment_date".to_string(), Value::str(c)));
        }
        Value::Struct(m)
    }
}

/// What the portal asks of an order, as stored in its intent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum Action {
    Cancel {
        order_id: i64,
        odoo_order_id: i64,
    },
    Update {
        order_id: i64,
        odoo_order_id: i64,
        values: UpdateValues,
        /// Odoo's `write_date` the portal had seen when it asked.
        seen_write_date: Option<String>,
    },
}

impl Action {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Action::Cancel { .. } => "cancel",
            Action::Update { .. } => "update",
        }
    }

    fn ids(&self) -> (i64, i64) {
        match self {
            Action::Cancel {
                order_id,
                odoo_order_id,
            }
            | Action::Update {
                order_id,
                odoo_order_id,
                ..
            } => (*order_id, *odoo_order_id),
        }
    }

    /// What identifies the change: the action without the `write_date` it was asked on.
    fn fingerprint(&self) -> String {
        let mut bare = self.clone();
        if let Action::Update {
            seen_write_date, ..
        } = &mut bare
        {
            *seen_write_date = None;
        }
        serde_json::to_string(&bare).unwrap_or_default()
    }

    pub(crate) fn order_id(&self) -> i64 {
        self.ids().0
    }

    /// An intent's payload is an action (not an order to create).
    pub(crate) fn of_payload(payload: &str) -> Option<Action> {
        serde_json::from_str(payload).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActionOutcome {
    /// Done in Odoo by this run, and read back.
    Done,
    /// The key had completed before: answered from the store, no Odoo call.
    AlreadyDone,
    /// Refused, by the portal's rule or by Odoo (its reason given): nothing changed.
    Refused,
    /// Held for review: staff changed the order in Odoo since the portal saw it.
    Held,
    /// Odoo was unavailable: in the outbox, for `orders flush`.
    Queued,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ActionReport {
    pub action: &'static str,
    pub outcome: ActionOutcome,
    pub idempotency_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The held update's id (`orders conflicts accept u<ID>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_update_id: Option<i64>,
    pub order: OrderRow,
}

impl Exit for ActionReport {
    fn exit_status(&self) -> ExitStatus {
        match self.outcome {
            ActionOutcome::Done | ActionOutcome::AlreadyDone => ExitStatus::Ok,
            ActionOutcome::Queued => ExitStatus::Queued,
            ActionOutcome::Refused | ActionOutcome::Held => ExitStatus::Failed,
        }
    }
}

/// `orders cancel` / `orders update` for a stored order.
pub(crate) async fn run(
    ctx: &Context,
    order: &OrderRow,
    change: Option<UpdateValues>,
    key: Option<String>,
    queue_if_unavailable: bool,
) -> Result<ActionReport, Error> {
    let odoo_order_id = order.odoo_order_id.ok_or_else(|| {
        Error::Usage(format!(
            "local order {} has no Odoo id yet (queued?): there is nothing to change in Odoo",
            order.id
        ))
    })?;
    let store = ctx.store_unverified()?;
    let action = match change {
        None => Action::Cancel {
            order_id: order.id,
            odoo_order_id,
        },
        Some(values) => {
            if values.is_empty() {
                return Err(Error::Usage(
                    "nothing to update: give --note, --customer-ref or --commitment-date".into(),
                ));
            }
            Action::Update {
                order_id: order.id,
                odoo_order_id,
                values,
                seen_write_date: store.sync_row_stamped(odoo_order_id)?.and_then(|(_, s)| s),
            }
        }
    };
    let payload = serde_json::to_string(&action).map_err(|e| Error::Failed {
        message: format!("the change cannot be recorded: {e}"),
        hint: None,
    })?;
    // The change itself, without what the portal had seen: a retry of the same change (after
    // the first one landed and moved Odoo's write_date) is the same intent, never a second.
    let hash = hex(&Sha256::digest(action.fingerprint().as_bytes()));
    let key = key.unwrap_or_else(|| format!("{}:{odoo_order_id}:{}", action.name(), &hash[..16]));
    let (intent, _) = store.record_intent(&key, &hash, &payload)?;
    if intent.payload_hash != hash {
        return Err(Error::Usage(format!(
            "the idempotency key {key} was used for another change; nothing was sent"
        )));
    }
    match intent.state {
        IntentState::Done => {
            return report(&store, &action, &key, ActionOutcome::AlreadyDone, None);
        }
        IntentState::Failed => {
            let outcome = if intent
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("held"))
            {
                ActionOutcome::Held
            } else {
                ActionOutcome::Refused
            };
            return report(&store, &action, &key, outcome, intent.error);
        }
        _ => {}
    }
    claim(ctx, &store, &key)?;
    let client = ctx.odoo()?;
    let opts = options(ctx)?;
    match perform(&store, &client, &key, &action, &opts, false).await {
        Ok((outcome, reason, held)) => {
            let mut r = report(&store, &action, &key, outcome, reason)?;
            r.held_update_id = held;
            Ok(r)
        }
        Err(Error::Odoo(e))
            if queue_if_unavailable && e.is_unavailable() && !e.outcome_unknown() =>
        {
            store.queue_intent(&key, &e.to_string())?;
            tracing::warn!(key = %key, error = %e, "Odoo unavailable: the change waits in the outbox");
            report(
                &store,
                &action,
                &key,
                ActionOutcome::Queued,
                Some(e.to_string()),
            )
        }
        Err(e) => {
            let _ = store.release_intent(&key, &e.to_string());
            Err(e)
        }
    }
}

/// Takes the intent for this process (over a holder that crashed, as creates do), or says
/// another process is sending it.
fn claim(ctx: &Context, store: &Store, key: &str) -> Result<(), Error> {
    let until = crate::store::to_text(
        chrono::Utc::now() + chrono::Duration::from_std(ctx.claim_lease()).unwrap_or_default(),
    );
    if store.claim(key, &Claimant::this_process(), &until)? {
        return Ok(());
    }
    Err(Error::Busy {
        message: format!(
            "another process is sending the change with key {key}; try again when it has finished"
        ),
    })
}

fn options(ctx: &Context) -> Result<SyncOptions, Error> {
    Ok(read_back_options(
        ctx.settings.max_change()?,
        ctx.settings.status_words()?,
    ))
}

/// How a changed order is read back and stored: one order, its status and whole order,
/// under the review threshold in force.
pub(crate) fn read_back_options(
    max_change: crate::rules::MaxChange,
    status_words: &'static crate::rules::StatusWords,
) -> SyncOptions {
    SyncOptions {
        selection: Selection::All,
        dry_run: false,
        batch: 1,
        concurrency: 1,
        amounts: false,
        status: true,
        max_change,
        status_words,
        details: true,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn report(
    store: &Store,
    action: &Action,
    key: &str,
    outcome: ActionOutcome,
    reason: Option<String>,
) -> Result<ActionReport, Error> {
    Ok(ActionReport {
        action: action.name(),
        outcome,
        idempotency_key: key.to_string(),
        reason,
        held_update_id: None,
        order: store.order(action.ids().0)?,
    })
}

/// Reads the order whole and records it locally by the sync's rules (state, status,
/// details); returns Odoo's state and its read.
async fn read_back(
    store: &Store,
    client: &OdooClient,
    odoo_id: i64,
    opts: &SyncOptions,
) -> Result<(String, OdooChunk), Error> {
    let fetched = fetch(client, vec![odoo_id], 1, true).await?;
    let state = match fetched.get(&odoo_id) {
        Some(Ok(o)) => o.state.clone(),
        Some(Err(reason)) => {
            return Err(Error::Failed {
                message: format!("Odoo sent an unreadable order {odoo_id}: {reason}"),
                hint: None,
            });
        }
        None => {
            return Err(Error::Failed {
                message: format!(
                    "Odoo has no sale.order {odoo_id} (deleted in Odoo?); nothing was changed"
                ),
                hint: None,
            });
        }
    };
    let rows = store.sync_rows_for(&[odoo_id])?;
    let (_, writes) = compare_chunk(&rows, &Ok(fetched.clone()), opts);
    store.apply_sync(&writes)?;
    Ok((state, fetched))
}

/// Does the change in Odoo (the caller holds the intent's claim), and settles its intent:
/// `(outcome, reason, held update id)`. An error leaves the intent for the caller: Odoo
/// unavailable (queue it) or an answer lost (read back next time).
pub(crate) async fn perform(
    store: &Store,
    client: &OdooClient,
    key: &str,
    action: &Action,
    opts: &SyncOptions,
    force: bool,
) -> Result<(ActionOutcome, Option<String>, Option<i64>), Error> {
    let (order_id, odoo_id) = action.ids();
    match action {
        Action::Cancel { .. } => {
            let (state, fetched) = read_back(store, client, odoo_id, opts).await?;
            if state == "cancel" {
                // Cancelled already (by staff, or by this change's earlier, unanswered try).
                store.finish_action_intent(key, order_id, odoo_id)?;
                return Ok((ActionOutcome::Done, None, None));
            }
            if let Some(reason) = fetched
                .get(&odoo_id)
                .and_then(|o| o.as_ref().ok())
                .and_then(|o| o.details.as_ref())
                .and_then(cancel_refusal)
            {
                store.fail_intent(key, &reason)?;
                tracing::info!(order_id, odoo_order_id = odoo_id, %reason, "Cancel refused by the portal's rule");
                return Ok((ActionOutcome::Refused, Some(reason), None));
            }
            store.mark_intent_sent(key)?;
            match cancel_in_odoo(client, odoo_id).await {
                Ok(()) => {}
                Err(e) if refused(&e) => {
                    let reason = odoo_reason(&e);
                    store.fail_intent(key, &reason)?;
                    return Ok((ActionOutcome::Refused, Some(reason), None));
                }
                Err(e) => return Err(e.into()),
            }
            // Confirmed by reading the state back: "no error" is not "cancelled".
            let (state, _) = read_back(store, client, odoo_id, opts).await?;
            if state != "cancel" {
                let reason =
                    format!("Odoo answered but the order is still {state}: nothing was cancelled");
                store.fail_intent(key, &reason)?;
                return Ok((ActionOutcome::Refused, Some(reason), None));
            }
            store.finish_action_intent(key, order_id, odoo_id)?;
            tracing::info!(order_id, odoo_order_id = odoo_id, "Order cancelled in Odoo");
            Ok((ActionOutcome::Done, None, None))
        }
        Action::Update {
            values,
            seen_write_date,
            ..
        } => {
            let fields = ["write_date", "note", "client_order_ref", "commitment_date"];
            let rows = client.read("sale.order", &[odoo_id], &fields).await?;
            let Some(now) = rows.first() else {
                let reason = format!("Odoo has no sale.order {odoo_id}; nothing was changed");
                store.fail_intent(key, &reason)?;
                return Ok((ActionOutcome::Refused, Some(reason), None));
            };
            let r = Record(now);
            let odoo_stamp = r.string("write_date").unwrap_or_default();
            // An earlier, unanswered try of this update may have landed: then it is done.
            let landed = values.note.as_ref().is_none_or(|n| plain(&r, "note") == *n)
                && values
                    .client_order_ref
                    .as_ref()
                    .is_none_or(|c| plain(&r, "client_order_ref") == *c)
                && values
                    .commitment_date
                    .as_ref()
                    .is_none_or(|c| plain(&r, "commitment_date").get(..19) == c.get(..19));
            let intent_sent = store.intent(key)?.and_then(|i| i.sent_at).is_some();
            if !(landed && intent_sent) {
                let moved = seen_write_date.as_deref().is_some_and(|seen| {
                    odoo_stamp.get(..19).unwrap_or("") > seen.get(..19).unwrap_or("")
                });
                if moved && !force {
                    let payload = serde_json::to_string(values).unwrap_or_default();
                    let id = store.hold_update(
                        order_id,
                        key,
                        &payload,
                        seen_write_date.as_deref(),
                        &odoo_stamp,
                    )?;
                    let reason = format!(
                        "held for review as u{id}: Odoo changed the order at {odoo_stamp}, after the portal saw it; `orders conflicts accept u{id}` sends it over that change, `keep u{id}` drops it"
                    );
                    store.fail_intent(key, &reason)?;
                    tracing::warn!(
                        order_id,
                        odoo_order_id = odoo_id,
                        held_update = id,
                        "Order update held for review: changed in Odoo since the portal saw it"
                    );
                    return Ok((ActionOutcome::Held, Some(reason), Some(id)));
                }
                store.mark_intent_sent(key)?;
                let write = client
                    .execute(
                        Call::new("sale.order", "write")
                            .on(&[odoo_id])
                            .arg("vals", values.vals()),
                    )
                    .await;
                match write {
                    Ok(_) => {}
                    Err(e) if refused(&e) => {
                        let reason = odoo_reason(&e);
                        store.fail_intent(key, &reason)?;
                        return Ok((ActionOutcome::Refused, Some(reason), None));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            read_back(store, client, odoo_id, opts).await?;
            if let Some(n) = &values.note {
                store.set_order_note(order_id, n)?;
            }
            store.finish_action_intent(key, order_id, odoo_id)?;
            tracing::info!(order_id, odoo_order_id = odoo_id, "Order updated in Odoo");
            Ok((ActionOutcome::Done, None, None))
        }
    }
}

/// Settles a cancel or update whose answer was lost (`orders recover`; the caller holds the
/// claim): the order is read back, and the change done only if it is not there yet.
pub(crate) async fn settle(
    ctx: &Context,
    store: &Store,
    client: &OdooClient,
    key: &str,
    action: &Action,
) -> Result<String, Error> {
    let (outcome, reason, _) = perform(store, client, key, action, &options(ctx)?, false).await?;
    Ok(match reason {
        Some(r) => format!("{}: {r}", serde_json::to_value(outcome).unwrap_or_default()),
        None => format!("{}", serde_json::to_value(outcome).unwrap_or_default()),
    })
}

/// Sends a held update over staff's change (`orders conflicts accept u<ID>`), through its
/// intent: exactly once, read back.
pub(crate) async fn send_held(
    ctx: &Context,
    store: &Store,
    held: &crate::store::held::HeldUpdate,
) -> Result<(), Error> {
    let intent = store
        .intent(&held.idempotency_key)?
        .ok_or_else(|| Error::Failed {
            message: format!(
                "the held update's intent {} is gone; nothing was sent",
                held.idempotency_key
            ),
            hint: None,
        })?;
    let action = Action::of_payload(&intent.payload).ok_or_else(|| Error::Failed {
        message: "the held update cannot be read back; nothing was sent".into(),
        hint: None,
    })?;
    store.release_intent(&intent.key, "accepted for sending")?;
    claim(ctx, store, &intent.key)?;
    let client = ctx.odoo()?;
    match perform(store, &client, &intent.key, &action, &options(ctx)?, true).await {
        Ok((ActionOutcome::Done, _, _)) => Ok(()),
        Ok((_, reason, _)) => Err(Error::Failed {
            message: reason.unwrap_or_else(|| "Odoo did not take the update".into()),
            hint: None,
        }),
        Err(e) => {
            let _ = store.release_intent(&intent.key, &e.to_string());
            Err(e)
        }
    }
}

/// A text field as Odoo sends it (`false` for none), the note's HTML paragraph unwrapped.
fn plain(r: &Record<'_>, field: &str) -> String {
    let t = r.opt_str(field).ok().flatten().unwrap_or_default();
    t.strip_prefix("<p>")
        .and_then(|t| t.strip_suffix("</p>"))
        .map_or(t.clone(), str::to_string)
}

/// The portal's cancel rule: refused once anything is delivered or invoiced.
fn cancel_refusal(d: &crate::details::OrderDetails) -> Option<String> {
    let units = d.units();
    if units.delivered > rust_decimal::Decimal::ZERO {
        return Some(format!(
            "{} of {} units are delivered: the portal does not cancel an order once anything has left; ask the sales team",
            units.delivered.normalize(),
            units.ordered.normalize()
        ));
    }
    let invoiced = d
        .lines
        .iter()
        .any(|l| l.qty_invoiced > rust_decimal::Decimal::ZERO)
        || d.amount_invoiced
            .is_some_and(|a| a > rust_decimal::Decimal::ZERO);
    if invoiced {
        return Some(
            "the order is invoiced: the portal does not cancel an invoiced order; ask the sales team"
                .into(),
        );
    }
    None
}

/// Odoo refused the change for a reason of its data (a locked order): nothing changed.
fn refused(e: &OdooError) -> bool {
    matches!(
        e,
        OdooError::Fault {
            kind: crate::odoo::FaultKind::User | crate::odoo::FaultKind::Access,
            ..
        }
    )
}

fn odoo_reason(e: &OdooError) -> String {
    match e {
        OdooError::Fault { message, .. } => format!("Odoo refused it: {message}"),
        other => other.to_string(),
    }
}

/// `action_cancel`, through the `sale.order.cancel` wizard when the server answers with it
/// (Odoo 18 and older, for an order past the quotation).
async fn cancel_in_odoo(client: &OdooClient, odoo_id: i64) -> Result<(), OdooError> {
    let answer = client
        .execute(Call::new("sale.order", "action_cancel").on(&[odoo_id]))
        .await?;
    let wizard = answer
        .get("res_model")
        .and_then(Value::as_str)
        .is_some_and(|m| m == "sale.order.cancel");
    if !wizard {
        return Ok(());
    }
    let context = answer
        .get("context")
        .cloned()
        .unwrap_or(Value::Struct(vec![]));
    let vals = Value::Struct(vec![("order_id".to_string(), Value::Int(odoo_id))]);
    let created = client
        .execute(
            Call::new("sale.order.cancel", "create")
                .arg("vals_list", Value::Array(vec![vals]))
                .arg("context", context),
        )
        .await?;
    let id = match &created {
        Value::Int(i) => *i,
        Value::Array(a) => a.first().and_then(Value::as_i64).unwrap_or(0),
        _ => 0,
    };
    client
        .execute(Call::new("sale.order.cancel", "action_cancel").on(&[id]))
        .await?;
    Ok(())
}
