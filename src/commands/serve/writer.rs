//! The one thread that writes webhooks and imports to the store. Requests queue their work
//! here and wait for the answer; whatever waits when the thread comes round is applied in
//! one transaction. A burst of 2,000 deliveries costs this one thread and a few commits,
//! not a blocking thread per request.

use tokio::sync::{mpsc, oneshot};

use super::apply::{self, Imported};
use super::health::Health;
use super::metrics::Delivered;
use crate::details::OrderDetails;
use crate::error::Error;
use crate::flows::sync::{OdooChunk, SyncOptions, compare_chunk, superseded, tally};
use crate::odoo::SaleOrder;
use crate::store::{Store, StoreError};
use crate::webhook::Delivery;

/// The most deliveries one transaction takes.
const BATCH: usize = 256;
/// How many requests may wait for the writer; more wait for a place.
const QUEUE: usize = 4096;

/// A delivery's result: what became of it, and whether its order is worth importing.
pub(super) type Applied = Result<(Delivered, bool), StoreError>;

enum Job {
    Apply(Delivery, oneshot::Sender<Applied>),
    Import(
        Box<(SaleOrder, Option<OrderDetails>)>,
        oneshot::Sender<Result<Imported, Error>>,
    ),
    /// Orders read again, whole, after their webhooks: stored by the sync's rules.
    Refresh(Vec<i64>, OdooChunk),
}

/// The handle requests queue work through.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The writer is gone (it stopped, or its thread died): nothing was written.
fn gone() -> StoreError {
    StoreError::Database("the store's writer has stopped; nothing was written".into())
}

impl Writer {
    /// Starts the writer's thread on `store`. It ends when every [`Writer`] is dropped, after
    /// the work already queued.
    pub(super) fn start(
        store: Store,
        opts: SyncOptions,
        health: std::sync::Arc<Health>,
    ) -> Result<(Writer, std::thread::JoinHandle<()>), Error> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("webhook-writer".into())
            .spawn(move || run(&store, &opts, &health, rx))
            .map_err(|e| Error::Failed {
                message: format!("cannot start the store's writer thread: {e}"),
                hint: None,
            })?;
        Ok((Writer { jobs: tx }, thread))
    }

    /// Applies one delivery; answers once its transaction has committed (or failed).
    pub(super) async fn apply(&self, d: Delivery) -> Applied {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Apply(d, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Stores an order read from Odoo for an unknown delivery, whole when read so.
    pub(super) async fn import(
        &self,
        o: SaleOrder,
        details: Option<OrderDetails>,
    ) -> Result<Imported, Error> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Import(Box::new((o, details)), tx))
            .await
            .map_err(|_| Error::from(gone()))?;
        rx.await.map_err(|_| Error::from(gone()))?
    }

    /// Stores orders read again, whole (their lines, delivery, invoicing), after their
    /// webhooks; answers nothing (the webhooks were answered already).
    pub(super) async fn refresh(&self, ids: Vec<i64>, chunk: OdooChunk) {
        let _ = self.jobs.send(Job::Refresh(ids, chunk)).await;
    }
}

fn run(store: &Store, opts: &SyncOptions, health: &Health, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut deliveries = Vec::new();
        for job in jobs {
            match job {
                Job::Apply(d, reply) => deliveries.push((d, reply)),
                Job::Import(o, reply) => {
                    let (order, details) = *o;
                    let stored = apply::store_import(store, &order);
                    if matches!(stored, Ok(Imported::Stored))
                        && let Err(e) = store.save_details(details.as_slice())
                    {
                        tracing::warn!(error = %e, odoo_order_id = order.id, "The imported order's lines could not be stored; the next sync stores them");
                    }
                    let _ = reply.send(stored);
                }
                Job::Refresh(ids, chunk) => refresh(store, opts, &ids, chunk),
            }
        }
        if !deliveries.is_empty() {
            apply_all(store, opts, health, deliveries);
        }
    }
}

/// Orders read again after their webhooks, stored by the sync's rules (the stamp guard
/// keeps a webhook of a later second).
fn refresh(store: &Store, opts: &SyncOptions, ids: &[i64], chunk: OdooChunk) {
    let stored = store.sync_rows_for(ids).and_then(|rows| {
        let (mut results, writes) = compare_chunk(&rows, &Ok(chunk), opts);
        let skipped = store.apply_sync(&writes)?;
        superseded(&mut results, &skipped);
        Ok(results)
    });
    match stored {
        Ok(results) => {
            let mut summary = crate::flows::sync::Summary::default();
            tally(&mut summary, &results, false, &mut |_| {});
        }
        Err(e) => {
            tracing::warn!(error = %e, orders = ids.len(), "Orders read after their webhooks could not be stored; the next poll stores them");
        }
    }
}

/// One transaction for the lot; if it fails, each on its own, so that one delivery the
/// store refuses does not fail the others.
fn apply_all(
    store: &Store,
    opts: &SyncOptions,
    health: &Health,
    deliveries: Vec<(Delivery, oneshot::Sender<Applied>)>,
) {
    let batch = {
        let all: Vec<&Delivery> = deliveries.iter().map(|(d, _)| d).collect();
        apply::apply_batch(store, &all, opts)
    };
    // What webhooks meet now is what /healthz says.
    health.wrote(batch.as_ref().map(|_| ()));
    match batch {
        Ok(outcomes) => {
            for ((d, reply), outcome) in deliveries.into_iter().zip(outcomes) {
                reply_to(store, &d, Ok(outcome), reply);
            }
        }
        Err(e) if deliveries.len() == 1 => {
            if let Some((_, reply)) = deliveries.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(_) => {
            for (d, reply) in deliveries {
                let outcome = apply::apply_batch(store, &[&d], opts)
                    .map(|mut o| o.pop().unwrap_or(Delivered::Unchanged));
                health.wrote(outcome.as_ref().map(|_| ()));
                reply_to(store, &d, outcome, reply);
            }
        }
    }
}

/// Answers a delivery: an unknown order's import is worth it when its partner is linked
/// (read after the commit, outside the batch's transaction).
fn reply_to(
    store: &Store,
    d: &Delivery,
    outcome: Result<Delivered, StoreError>,
    reply: oneshot::Sender<Applied>,
) {
    let answer = outcome.and_then(|o| {
        if o == Delivered::Unknown {
            apply::worth_importing(store, d).map(|worth| (o, worth))
        } else {
            Ok((o, false))
        }
    });
    // The request may have gone (its client hung up): the write stands all the same.
    let _ = reply.send(answer);
}
