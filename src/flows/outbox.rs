//! The outbox: orders taken while Odoo was unavailable (`orders create
//! --queue-if-unavailable`), and `orders flush`, which sends them many per `create` call,
//! exactly once.
//!
//! ```text
//! queued intents, oldest first ─► claim ─► those sent before (answer lost, crash): their keys
//!     looked up in one search, found ones adopted ─► the rest in batches: one `create` of a
//!     list of values each ─► a refused batch is halved until the refused orders are alone
//!     ─► one read of every created order ─► local rows + intents done, one transaction
//! ```
//! Each order carries its idempotency key (`origin`), and a batch is marked sent before its
//! call: after a kill at any point, the next flush finds by key what Odoo has, and waits out
//! the grace period before sending again what it may still be committing.

use std::collections::HashMap;
use std::time::Duration;

use super::Placed;
use super::orders_create::{OrderRequest, in_doubt, order_vals};
use super::{Context, new_order};
use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::odoo::{Dialect, FaultKind, OdooClient, OdooError, Record, SaleOrder, Value, domain};
use crate::store::Store;
use crate::store::claims::Claimant;
use crate::store::intents::{Intent, IntentState};
use crate::store::orders::NewOrder;
use crate::store::runs::RunEnd;
use crate::store::to_text;

/// One order of the outbox, ready to send.
struct Entry {
    key: String,
    req: OrderRequest,
    partner: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Flushed {
    pub key: String,
    pub order_id: i64,
    pub odoo_order_id: i64,
    pub order_number: String,
    /// Found in Odoo by its key (an earlier flush had sent it) rather than created now.
    pub adopted: bool,
}

/// A queued cancel or update, sent.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ChangeFlushed {
    pub key: String,
    pub action: &'static str,
    pub outcome: super::order_actions::ActionOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct NotFlushed {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct FlushReport {
    /// Queued orders when the flush began.
    pub queued: usize,
    pub created: Vec<Flushed>,
    /// Refused by Odoo (its message), now `failed`: fix, then `orders queue retry KEY`.
    pub failed: Vec<NotFlushed>,
    /// Still queued: sent by an earlier flush whose answer was lost, not in Odoo yet, and
    /// maybe still being committed; sent again after the grace period.
    pub waiting: Vec<NotFlushed>,
    /// Held by another run (an `orders create` retrying its key).
    pub busy: usize,
    /// Queued cancels and updates, as they ended (`done`, `refused`, `held`).
    pub changes: Vec<ChangeFlushed>,
    pub create_calls: u64,
    pub round_trips: u64,
    /// Why the flush stopped early (Odoo unavailable, or an answer lost); the rest stays
    /// queued.
    pub stopped: Option<String>,
}

impl Exit for FlushReport {
    /// 3 when it stopped on Odoo, 1 when an order was refused, 75 when some wait, else 0.
    fn exit_status(&self) -> ExitStatus {
        if self.stopped.is_some() {
            ExitStatus::OdooUnavailable
        } else if !self.failed.is_empty()
            || self.changes.iter().any(|c| {
                !matches!(
                    c.outcome,
                    super::order_actions::ActionOutcome::Done
                        | super::order_actions::ActionOutcome::AlreadyDone
                )
            })
        {
            ExitStatus::Failed
        } else if !self.waiting.is_empty() || self.busy > 0 {
            ExitStatus::Locked
        } else {
            ExitStatus::Ok
        }
    }
}

/// What a `create` of a group came to.
enum Sent {
    Created(Vec<i64>),
    /// Odoo refused the group (a fault about its data): one of its orders is bad.
    Refused(String),
}

/// Orders per `create` call unless `--batch-size` says otherwise: about as many as a real
/// Odoo creates in a few seconds, well inside its request time limit.
pub(crate) const DEFAULT_BATCH: usize = 100;

/// Settings a flush needs.
pub(crate) struct FlushSettings {
    pub batch: usize,
    pub key_field: String,
    pub grace: Duration,
    pub lease: Duration,
    /// The review threshold Odoo's amounts are read back under.
    pub max_change: crate::rules::MaxChange,
    pub status_words: &'static crate::rules::StatusWords,
}

impl FlushSettings {
    pub(crate) fn of(ctx: &Context, batch: usize) -> Result<FlushSettings, Error> {
        Ok(FlushSettings {
            batch,
            key_field: ctx.settings.key_field()?,
            grace: ctx.settings.create_grace()?,
            lease: ctx.claim_lease(),
            max_change: ctx.settings.max_change()?,
            status_words: ctx.settings.status_words()?,
        })
    }
}

/// `orders flush`: one at a time (the sync's run lock).
pub(crate) async fn flush(ctx: &Context, batch: usize) -> Result<FlushReport, Error> {
    if batch == 0 {
        return Err(Error::Usage("--batch-size must be at least 1".into()));
    }
    let client = ctx.odoo()?;
    let settings = FlushSettings::of(ctx, batch)?;
    let _lock = ctx.run_lock()?;
    let store = ctx.store()?;
    // An empty queue is no run to record (cron may flush every minute).
    if store.intent_stats("queued")?.0 == 0 {
        return flush_locked(&store, &client, &settings).await;
    }
    let run_id = store.start_run("flush")?;
    let result = flush_locked(&store, &client, &settings).await;
    let end = match &result {
        Ok(r) => RunEnd {
            outcome: super::run_outcome(r.exit_code()),
            exit_code: r.exit_code(),
            checked: r.queued as u64,
            updated: r.created.len() as u64,
            failed: r.failed.len() as u64,
            round_trips: r.round_trips,
            error: r.stopped.clone(),
        },
        Err(e) => super::run_failed(e),
    };
    store.finish_run(run_id, &end)?;
    result
}

/// The flush, for a caller holding the run lock (`flush`, `sync-amounts`, `serve`).
pub(crate) async fn flush_locked(
    store: &Store,
    client: &OdooClient,
    settings: &FlushSettings,
) -> Result<FlushReport, Error> {
    let owner = Claimant::this_process();
    let until = to_text(
        chrono::Utc::now() + chrono::Duration::from_std(settings.lease).unwrap_or_default(),
    );
    // Every claim in one transaction (a thousand commits would take longer than the flush);
    // entries another flush holds, on this host or another, are left to it.
    let (claimed, busy) = store.claim_queued(&owner, &until)?;
    let mut report = FlushReport {
        queued: claimed.len() + busy,
        busy,
        ..Default::default()
    };
    if claimed.is_empty() {
        return Ok(report);
    }
    let before = client.round_trips();
    // Cancels and updates first, one at a time: each reads its order back.
    let (changes, claimed): (Vec<_>, Vec<_>) = claimed
        .into_iter()
        .partition(|i| super::order_actions::Action::of_payload(&i.payload).is_some());
    for intent in changes {
        let Some(action) = super::order_actions::Action::of_payload(&intent.payload) else {
            continue;
        };
        let opts =
            super::order_actions::read_back_options(settings.max_change, settings.status_words);
        match super::order_actions::perform(store, client, &intent.key, &action, &opts, false).await
        {
            Ok((outcome, reason, _)) => report.changes.push(ChangeFlushed {
                key: intent.key.clone(),
                action: action.name(),
                outcome,
                reason,
            }),
            Err(Error::Odoo(e)) if e.is_unavailable() && !e.outcome_unknown() => {
                report.stopped = Some(e.to_string());
                break;
            }
            Err(e) => {
                // Unanswered: left pending, read back by the next try (`orders recover`).
                let _ = store.release_intent(&intent.key, &e.to_string());
                report.failed.push(NotFlushed {
                    key: intent.key,
                    reason: e.to_string(),
                });
            }
        }
    }
    if claimed.is_empty() || report.stopped.is_some() {
        let left = store.queued_intents(false)?;
        for intent in left
            .iter()
            .filter(|i| i.claimed_by.as_deref() == Some(owner.id()))
        {
            store.unclaim_intent(&intent.key)?;
        }
        report.round_trips = client.round_trips().saturating_sub(before);
        return Ok(report);
    }
    // The requests are prepared while the session opens (two round trips).
    let prepare = async {
        let mut maybe_sent = Vec::new();
        let mut fresh = Vec::new();
        for intent in claimed {
            match entry(store, &intent) {
                Ok(e) if intent.sent_at.is_some() => maybe_sent.push((intent, e)),
                Ok(e) => fresh.push(e),
                Err(reason) => {
                    store.set_aside_intent(&intent.key, &reason)?;
                    report.failed.push(NotFlushed {
                        key: intent.key,
                        reason,
                    });
                }
            }
        }
        Ok::<_, Error>((maybe_sent, fresh))
    };
    let (session, prepared) = tokio::join!(client.session(), prepare);
    let result = match (session, prepared) {
        (Ok(_), Ok((maybe_sent, fresh))) => {
            send_all(store, client, settings, maybe_sent, fresh, &mut report).await
        }
        (Err(e), _) => Err(e.into()),
        (_, Err(e)) => Err(e),
    };
    report.round_trips = client.round_trips().saturating_sub(before);
    // Whatever this flush did not finish goes back to the queue for the next one.
    let left = store.queued_intents(false)?;
    store.in_write_tx(|s| {
        for intent in left
            .iter()
            .filter(|i| i.claimed_by.as_deref() == Some(owner.id()))
        {
            s.unclaim_intent(&intent.key)?;
        }
        Ok(())
    })?;
    match result {
        Ok(()) => {}
        // Odoo went away, or an answer was lost: the rest stays queued (sent ones are looked
        // up by key next time).
        Err(Error::Odoo(e)) if e.is_unavailable() || e.outcome_unknown() => {
            tracing::error!(error = %e, "Flush stopped: Odoo unavailable; the rest stays queued");
            report.stopped = Some(e.to_string());
        }
        Err(e) => return Err(e),
    }
    tracing::info!(
        queued = report.queued,
        created = report.created.len(),
        failed = report.failed.len(),
        waiting = report.waiting.len(),
        create_calls = report.create_calls,
        "Outbox flushed"
    );
    Ok(report)
}

/// The request and Odoo partner of a queued intent, or why it cannot be sent.
fn entry(store: &Store, intent: &Intent) -> Result<Entry, String> {
    let mut req = OrderRequest::from_json(&intent.payload)
        .map_err(|e| format!("the queued order cannot be read back: {e}"))?;
    req.idempotency_key = Some(intent.key.clone());
    let customer = store.customer(req.customer_id).map_err(|e| e.to_string())?;
    let partner = customer.odoo_partner_id.ok_or_else(|| {
        format!(
            "customer {} is no longer linked to an Odoo partner",
            customer.id
        )
    })?;
    Ok(Entry {
        key: intent.key.clone(),
        req,
        partner,
    })
}

async fn send_all(
    store: &Store,
    client: &OdooClient,
    settings: &FlushSettings,
    maybe_sent: Vec<(Intent, Entry)>,
    mut fresh: Vec<Entry>,
    report: &mut FlushReport,
) -> Result<(), Error> {
    // Sent before, answer lost: Odoo may have them. Look their keys up first.
    let mut maybe_sent = maybe_sent;
    while !maybe_sent.is_empty() {
        let chunk: Vec<(Intent, Entry)> = maybe_sent.drain(..maybe_sent.len().min(1000)).collect();
        let keys: Vec<&str> = chunk.iter().map(|(i, _)| i.key.as_str()).collect();
        let mut by_key = orders_by_key(client, &settings.key_field, &keys).await?;
        let mut adopted = Vec::new();
        for (intent, e) in chunk {
            match by_key.remove(&e.key) {
                Some(o) => adopted.push((e, o)),
                None => match in_doubt(&intent, settings.grace) {
                    Some(doubt) => report.waiting.push(NotFlushed {
                        key: e.key,
                        reason: format!(
                            "sent at {} UTC, not in Odoo yet, may still commit: sent again after {} UTC",
                            doubt.sent_at, doubt.retry_after
                        ),
                    }),
                    None => fresh.push(e),
                },
            }
        }
        store_done(store, &adopted, true, settings.max_change, report)?;
    }
    // Never sent (or sent long enough ago and not in Odoo): in batches.
    let dialect = client.dialect().await?;
    let mut created: Vec<(Entry, i64)> = Vec::new();
    let mut rest = fresh;
    while !rest.is_empty() {
        let batch: Vec<Entry> = rest.drain(..settings.batch.min(rest.len())).collect();
        let outcome = send_isolating(store, client, settings, dialect, batch, report).await;
        match outcome {
            Ok(mut done) => created.append(&mut done),
            Err(e) => {
                read_back(store, client, created, settings.max_change, report).await?;
                return Err(e);
            }
        }
    }
    read_back(store, client, created, settings.max_change, report).await
}

/// The Odoo orders carrying these keys in `key_field`, by key; the oldest when a key is on
/// several (the one to adopt).
async fn orders_by_key(
    client: &OdooClient,
    key_field: &str,
    keys: &[&str],
) -> Result<HashMap<String, SaleOrder>, Error> {
    let mut fields = SaleOrder::FIELDS.to_vec();
    if !fields.contains(&key_field) {
        fields.push(key_field);
    }
    let opts = crate::odoo::SearchOpts {
        order: Some("id"),
        ..Default::default()
    };
    let rows = client
        .search_read(
            "sale.order",
            domain(key_field, "in", Value::strs(keys)),
            &fields,
            opts,
        )
        .await?;
    let mut by_key = HashMap::new();
    for v in &rows {
        let key = Record(v).opt_str(key_field).map_err(OdooError::from)?;
        let o = SaleOrder::from_value(v).map_err(OdooError::from)?;
        if let Some(k) = key {
            by_key.entry(k).or_insert(o);
        }
    }
    Ok(by_key)
}

/// Sends one batch; when Odoo refuses it, halves it until the refused orders are alone
/// (`⌈log2 batch⌉` calls for one bad order, plus one for the halves left untried).
async fn send_isolating(
    store: &Store,
    client: &OdooClient,
    settings: &FlushSettings,
    dialect: Dialect,
    batch: Vec<Entry>,
    report: &mut FlushReport,
) -> Result<Vec<(Entry, i64)>, Error> {
    let mut created = Vec::new();
    let mut to_send = vec![batch];
    while let Some(group) = to_send.pop() {
        let mut message = match send(store, client, settings, dialect, &group, report).await? {
            Sent::Created(ids) => {
                created.extend(group.into_iter().zip(ids));
                continue;
            }
            Sent::Refused(m) => m,
        };
        let mut suspects = group;
        let mut untried = Vec::new();
        while suspects.len() > 1 {
            let second = suspects.split_off(suspects.len() / 2);
            let first = suspects;
            match send(store, client, settings, dialect, &first, report).await? {
                Sent::Created(ids) => {
                    created.extend(first.into_iter().zip(ids));
                    suspects = second;
                }
                Sent::Refused(m) => {
                    untried.extend(second);
                    suspects = first;
                    message = m;
                }
            }
        }
        for bad in suspects {
            tracing::warn!(key = %bad.key, error = %message, "Odoo refused the queued order");
            store.fail_intent(&bad.key, &message)?;
            report.failed.push(NotFlushed {
                key: bad.key,
                reason: message.clone(),
            });
        }
        if !untried.is_empty() {
            to_send.push(untried);
        }
    }
    Ok(created)
}

/// One `create` of a group of orders, marked sent before it goes.
async fn send(
    store: &Store,
    client: &OdooClient,
    settings: &FlushSettings,
    dialect: Dialect,
    group: &[Entry],
    report: &mut FlushReport,
) -> Result<Sent, Error> {
    let keys: Vec<&str> = group.iter().map(|e| e.key.as_str()).collect();
    let vals = group
        .iter()
        .map(|e| order_vals(&e.req, e.partner, &settings.key_field, &e.key, dialect))
        .collect();
    store.mark_intents_sent(&keys, true)?;
    crate::failpoint::hit("flush-before-create");
    report.create_calls += 1;
    match client.create_many("sale.order", vals).await {
        Ok(ids) => {
            crate::failpoint::hit("flush-after-create");
            Ok(Sent::Created(ids))
        }
        Err(OdooError::Fault {
            kind: FaultKind::User | FaultKind::Internal,
            message,
            ..
        }) => {
            // A refusal rolled the whole call back: none of these orders is in doubt.
            store.mark_intents_sent(&keys, false)?;
            Ok(Sent::Refused(message))
        }
        Err(e) => {
            // Refused outright, or never left: Odoo has none of them.
            let answered = matches!(&e, OdooError::Fault { .. });
            let never_sent = matches!(&e, OdooError::Transport { kind, .. } if kind.never_sent());
            if answered || never_sent {
                store.mark_intents_sent(&keys, false)?;
            }
            Err(e.into())
        }
    }
}

/// Reads every created order once (by id, 1000 per call) and stores them.
async fn read_back(
    store: &Store,
    client: &OdooClient,
    created: Vec<(Entry, i64)>,
    max_change: crate::rules::MaxChange,
    report: &mut FlushReport,
) -> Result<(), Error> {
    for chunk in created.chunks(1000) {
        let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
        let rows = client.read("sale.order", &ids, SaleOrder::FIELDS).await?;
        let mut by_id: HashMap<i64, SaleOrder> = HashMap::new();
        for v in &rows {
            let o = SaleOrder::from_value(v).map_err(OdooError::from)?;
            by_id.insert(o.id, o);
        }
        let done: Vec<(&Entry, SaleOrder)> = chunk
            .iter()
            .filter_map(|(e, id)| by_id.remove(id).map(|o| (e, o)))
            .collect();
        store_done(store, &done, false, max_change, report)?;
    }
    Ok(())
}

/// Stores the local orders and marks their intents done, in one transaction.
fn store_done<E: std::borrow::Borrow<Entry>>(
    store: &Store,
    done: &[(E, SaleOrder)],
    adopted: bool,
    max_change: crate::rules::MaxChange,
    report: &mut FlushReport,
) -> Result<(), Error> {
    let rows: Vec<(String, NewOrder)> = done
        .iter()
        .map(|(e, o)| {
            let e = e.borrow();
            (
                e.key.clone(),
                new_order(
                    o,
                    Some(e.req.customer_id),
                    Some(Placed {
                        req: &e.req,
                        key: &e.key,
                        max_change,
                    }),
                ),
            )
        })
        .collect();
    let stored = store.complete_intents(&rows)?;
    for (row, (e, o)) in stored.iter().zip(done) {
        let e = e.borrow();
        tracing::info!(order_id = row.id, odoo_order_id = o.id, order_number = %o.name, key = %e.key, "Order created in local database");
        report.created.push(Flushed {
            key: e.key.clone(),
            order_id: row.id,
            odoo_order_id: o.id,
            order_number: o.name.clone(),
            adopted,
        });
    }
    Ok(())
}

/// `orders queue`: what waits, and what Odoo refused.
pub(crate) fn list(ctx: &Context) -> Result<Vec<Intent>, Error> {
    Ok(ctx.store()?.queued_intents(true)?)
}

/// `orders queue retry KEY`: a failed order back into the outbox.
pub(crate) fn retry(ctx: &Context, key: &str) -> Result<Intent, Error> {
    let store = ctx.store()?;
    if !store.move_intent(key, &["failed"], "queued")? {
        return Err(not_movable(
            &store,
            key,
            "retried (only a failed order can be)",
        )?);
    }
    store
        .intent(key)?
        .ok_or_else(|| Error::Usage(format!("no order with key {key}")))
}

/// `orders queue cancel KEY`: takes an order out of the outbox, only when Odoo does not have
/// it (never sent, or looked up by key and not found after the grace period).
pub(crate) async fn cancel(ctx: &Context, key: &str) -> Result<Intent, Error> {
    let store = ctx.store()?;
    let Some(intent) = store.intent(key)? else {
        return Err(Error::Usage(format!(
            "no queued order has the key {key}; nothing was changed"
        )));
    };
    if !matches!(intent.state, IntentState::Queued | IntentState::Failed) {
        return Err(not_movable(
            &store,
            key,
            "cancelled (only a queued or failed order can be)",
        )?);
    }
    if intent.sent_at.is_some() {
        // It may be in Odoo: ask before taking it back.
        if let Some(doubt) = in_doubt(&intent, ctx.settings.create_grace()?) {
            return Err(Error::Busy {
                message: format!(
                    "the order with key {key} was sent at {} UTC and may still be committing in Odoo; nothing was changed (try again after {} UTC)",
                    doubt.sent_at, doubt.retry_after
                ),
            });
        }
        let client = ctx.odoo()?;
        let field = ctx.settings.key_field()?;
        let found = client
            .sale_orders(domain(&field, "=", Value::str(key)))
            .await?;
        if let Some(o) = found.first() {
            return Err(Error::Failed {
                message: format!(
                    "Odoo has the order with key {key} ({}, id {}); it was not cancelled",
                    o.name, o.id
                ),
                hint: Some("run `orderbridge orders flush` to store it, then cancel it in Odoo if it must go".into()),
            });
        }
    }
    if !store.move_intent(key, &["queued", "failed"], "cancelled")? {
        return Err(not_movable(&store, key, "cancelled")?);
    }
    tracing::info!(key, "Queued order cancelled");
    store
        .intent(key)?
        .ok_or_else(|| Error::Usage(format!("no order with key {key}")))
}

fn not_movable(store: &Store, key: &str, what: &str) -> Result<Error, Error> {
    Ok(match store.intent(key)? {
        None => Error::Usage(format!(
            "no queued order has the key {key}; nothing was changed"
        )),
        Some(i) => Error::Usage(format!(
            "the order with key {key} is {}, so it cannot be {what}; nothing was changed",
            serde_json::to_value(&i.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )),
    })
}

/// Sends what waits in the outbox before a sync (under its lock): a queued order becomes a
/// stored one the sync then sees. A failure is logged; the sync goes on and says its own.
pub(crate) async fn flush_first(
    store: &Store,
    client: &OdooClient,
    settings: &FlushSettings,
) -> Option<super::sync::FlushedFirst> {
    match store.intent_stats("queued") {
        Ok((0, _)) => None,
        Ok((n, _)) => match flush_locked(store, client, settings).await {
            Ok(r) => {
                let done = super::sync::FlushedFirst {
                    created: r.created.len(),
                    changes: r.changes.len(),
                    failed: r.failed.len(),
                    still_queued: r.waiting.len() + r.busy,
                    error: r.stopped.clone(),
                };
                tracing::info!(
                    created = done.created,
                    changes = done.changes,
                    failed = done.failed,
                    still_queued = done.still_queued,
                    "Outbox flushed before the sync"
                );
                Some(done)
            }
            Err(e) => {
                tracing::warn!(error = %e, "The outbox could not be flushed; it stays queued");
                Some(super::sync::FlushedFirst {
                    still_queued: usize::try_from(n).unwrap_or(usize::MAX),
                    error: Some(e.to_string()),
                    ..Default::default()
                })
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "The outbox could not be read");
            None
        }
    }
}
