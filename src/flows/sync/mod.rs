//! `orders sync-amounts` and `orders sync-status`: one pipeline, with amounts, status or both.
//!
//! ```text
//! local orders (keyset pages of `batch` ids) ─► search_read id-in chunk (≤ k in flight)
//!     ─► compare at currency precision (rules) ─► one write transaction per chunk ─► events
//! ```
//! Round trips: ⌈N / batch⌉ plus the login; memory: a few chunks, whatever N is. A lock
//! file next to the database keeps two runs from overlapping; the OS drops it with the
//! process, so a killed run leaves no stale lock. `changed` is its `--changed` variant:
//! the same comparison and writes, over what Odoo changed since a cursor.

pub(crate) mod changed;

use std::collections::HashMap;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use rust_decimal::Decimal;

use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::money::at_scale;
use crate::odoo::{OdooClient, OdooError, Record, SearchOpts, Value, domain, order_state};
use crate::rules::{MaxChange, Verdict, judge_amount};
use crate::store::orders::{ConflictWrite, SyncRow, SyncWrite};
use crate::store::runs::RunEnd;
use crate::store::{Store, to_text};

/// Which local orders a sync looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// Orders with an Odoo id created in the last N days.
    RecentDays(u32),
    /// Every order with an Odoo id.
    All,
    /// One local order.
    Order(i64),
    /// The orders Odoo changed since the change cursor (`--changed`).
    Changed,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncOptions {
    pub selection: Selection,
    pub dry_run: bool,
    pub batch: usize,
    pub concurrency: usize,
    /// Apply Odoo's amount by the rules (`sync-amounts`); off for `sync-status`.
    pub amounts: bool,
    /// Set the status from Odoo's state (`sync-status`, `sync-amounts --with-status`).
    pub status: bool,
    /// Amount changes beyond it are held for review instead of applied.
    pub max_change: MaxChange,
    /// The portal's status words (`ORDERBRIDGE_STATUS_WORDS`).
    pub status_words: &'static crate::rules::StatusWords,
    /// Read the whole order (lines, delivery, invoicing), not only amount and state.
    pub details: bool,
}

impl SyncOptions {
    /// Sync on read: Odoo's state and (unless held) amount recorded, the portal's amount
    /// left alone.
    pub(crate) fn seen_on_read(
        max_change: MaxChange,
        status_words: &'static crate::rules::StatusWords,
    ) -> SyncOptions {
        SyncOptions {
            status_words,
            details: true,
            selection: Selection::All,
            dry_run: false,
            batch: 1000,
            concurrency: 1,
            amounts: false,
            status: true,
            max_change,
        }
    }
}

/// What happened to one order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// Odoo's amount is above zero and differed: the portal amount now follows it.
    Updated { from: Decimal, to: Decimal },
    /// Equal at the currency's precision.
    NoChange { amount: Decimal },
    /// Odoo still says 0.00: the portal amount stays.
    KeptPortal { amount: Decimal },
    /// Beyond the review threshold: not applied, held as a conflict (`orders conflicts`).
    Held { from: Decimal, to: Decimal },
    /// Odoo's amount is the one a person chose not to take (`orders conflicts keep`).
    KeptByReview { amount: Decimal, odoo: Decimal },
    /// The Odoo order no longer exists; nothing changed.
    MissingInOdoo,
    /// Odoo could not be asked, or sent something unreadable; nothing changed.
    Failed { reason: String },
    /// Amounts were not asked for (`sync-status`): Odoo's state was compared.
    StatusChecked,
    /// Odoo's answer is older than what the order already holds (a webhook of a later
    /// second was stored meanwhile): nothing was written.
    Superseded,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct OrderResult {
    pub order_id: i64,
    pub odoo_order_id: i64,
    /// The order number, or `#<id>` when the order has none.
    pub order_number: String,
    pub currency: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// `(from, to)` when `--with-status` changed the status.
    pub status_change: Option<(String, String)>,
    /// Odoo's state, when the status was synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odoo_state: Option<String>,
}

/// One status that changed, in `sync-status`'s report.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct StatusChange {
    pub order_id: i64,
    pub order_number: String,
    pub from: String,
    pub to: String,
    pub odoo_state: String,
}

/// `sync-status`'s report, gathered from the pipeline's events (only changes are kept).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct StatusReport {
    pub checked: u64,
    pub changed: Vec<StatusChange>,
    pub unchanged: u64,
    /// Local orders whose Odoo order no longer exists (reported, not changed).
    pub missing_in_odoo: Vec<i64>,
    /// Local orders Odoo could not be asked about, or answered unreadably for.
    pub failed: Vec<i64>,
    /// Why Odoo could not be asked, when it could not.
    #[serde(skip)]
    pub odoo_problem: Option<String>,
}

impl StatusReport {
    pub(crate) fn add(&mut self, r: &OrderResult) {
        self.checked += 1;
        match (&r.outcome, &r.status_change) {
            (Outcome::MissingInOdoo, _) => self.missing_in_odoo.push(r.order_id),
            (Outcome::Failed { .. }, _) => self.failed.push(r.order_id),
            (_, Some((from, to))) => self.changed.push(StatusChange {
                order_id: r.order_id,
                order_number: r.order_number.clone(),
                from: from.clone(),
                to: to.clone(),
                odoo_state: r.odoo_state.clone().unwrap_or_default(),
            }),
            (_, None) => self.unchanged += 1,
        }
    }
}

impl Exit for StatusReport {
    /// 3 when Odoo could not be asked (or answered garbage), 1 when an order failed, else 0.
    fn exit_status(&self) -> ExitStatus {
        if self.odoo_problem.is_some() {
            ExitStatus::OdooUnavailable
        } else if !self.failed.is_empty() {
            ExitStatus::Failed
        } else {
            ExitStatus::Ok
        }
    }
}

/// Progress, as it happens, for the CLI to render.
pub(crate) enum Event<'a> {
    Found(u64),
    /// `--changed`: Odoo's changes since this `write_date` (the cursor less the overlap) are
    /// read; `None` on the first run, which is a full sync.
    ChangedSince(Option<&'a str>),
    Order(&'a OrderResult),
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Summary {
    pub found: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub kept_portal: u64,
    /// Held for review (exit 1).
    pub held: u64,
    pub missing_in_odoo: u64,
    /// Odoo's answer was older than what the order holds: nothing written.
    pub superseded: u64,
    pub failed: u64,
    pub status_changed: u64,
    pub dry_run: bool,
    /// The round trips to Odoo this run made (login included).
    pub round_trips: u64,
    /// Set when a chunk could not be read because Odoo was unreachable.
    pub odoo_unreachable: Option<String>,
    /// Odoo (or what answers at its URL) sent something that is not its protocol.
    pub odoo_garbled: Option<String>,
    /// The outbox flushed before the sync (queued orders created in Odoo, queued changes
    /// sent), when anything waited in it.
    pub flushed: Option<FlushedFirst>,
}

/// What the flush before a sync did: a sync that creates orders in Odoo says so.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct FlushedFirst {
    /// Queued orders created in Odoo (or found there) and stored.
    pub created: usize,
    /// Queued cancels and updates sent.
    pub changes: usize,
    /// Refused by Odoo, now `failed` (`orders queue`).
    pub failed: usize,
    /// Still queued (Odoo unavailable, or an answer still awaited).
    pub still_queued: usize,
    /// Why the flush stopped or could not run.
    pub error: Option<String>,
}

impl Summary {
    /// Synced or skipped by the rules.
    pub(crate) fn synced(&self) -> u64 {
        self.updated + self.unchanged + self.kept_portal + self.missing_in_odoo + self.superseded
    }
}

impl Exit for Summary {
    /// 3 when Odoo could not be asked (or answered garbage), 1 when an order failed or a
    /// change was held for review, else 0.
    fn exit_status(&self) -> ExitStatus {
        if self.odoo_unreachable.is_some() || self.odoo_garbled.is_some() {
            ExitStatus::OdooUnavailable
        } else if self.failed > 0 || self.held > 0 {
            ExitStatus::Failed
        } else {
            ExitStatus::Ok
        }
    }
}

/// What Odoo says of one order.
#[derive(Debug, Clone)]
pub(crate) struct OdooOrder {
    pub amount: Decimal,
    pub state: String,
    /// Its `write_date` as a stored stamp (see [`crate::stamp`]), when Odoo sent one.
    pub stamp: Option<String>,
    /// The whole order, when it was read with it.
    pub details: Option<crate::details::OrderDetails>,
}

impl OdooOrder {
    /// What a decoded order says (a read's `write_date`, to the second).
    pub(crate) fn of(o: &crate::odoo::SaleOrder) -> OdooOrder {
        OdooOrder {
            amount: o.amount_total,
            state: o.state.clone(),
            stamp: o.write_date.as_deref().and_then(crate::stamp::from_read),
            details: None,
        }
    }

    /// Decodes a `search_read` row with `amount_total`, `state` and `write_date`.
    pub(crate) fn from_record(r: &Record<'_>) -> Result<OdooOrder, String> {
        let decoded = r.decimal("amount_total").and_then(|amount| {
            Ok(OdooOrder {
                amount,
                state: order_state(r)?,
                stamp: r
                    .string("write_date")
                    .ok()
                    .and_then(|t| crate::stamp::from_read(&t)),
                details: None,
            })
        });
        decoded.map_err(|e| format!("Odoo sent an unreadable value: {e}"))
    }
}

/// The fields a sync reads of each order.
pub(crate) const SYNC_FIELDS: &[&str] = &["amount_total", "state", "write_date"];

/// Odoo's answer for one chunk, per Odoo id (decode errors per order).
pub(crate) type OdooChunk = HashMap<i64, Result<OdooOrder, String>>;

pub(crate) async fn fetch(
    client: &OdooClient,
    ids: Vec<i64>,
    batch: usize,
    details: bool,
) -> Result<OdooChunk, OdooError> {
    let domain = domain("id", "in", Value::ints(&ids));
    // By id: Odoo's default order (date_order desc) would make it sort every chunk.
    let opts = SearchOpts {
        limit: Some(batch as u32),
        order: Some("id"),
    };
    if details {
        // The lines need only the ids: read beside the orders, not after them.
        let fields = sync_fields(client).await?;
        let (rows, lines) = tokio::join!(
            client.search_read("sale.order", domain, &fields, opts),
            client.order_lines(&ids)
        );
        let (rows, lines) = (rows?, lines?);
        let details = client.details_with_lines(&rows, &lines).await?;
        return Ok(decode_with(&rows, details));
    }
    let rows = client
        .search_read("sale.order", domain, SYNC_FIELDS, opts)
        .await?;
    Ok(decode_with(&rows, HashMap::new()))
}

/// What a sync reads of each order: its amount, state and stamp, and the whole order's
/// fields the server has (asked once per client).
pub(crate) async fn sync_fields(client: &OdooClient) -> Result<Vec<&'static str>, OdooError> {
    let features = client.features().await?;
    Ok(SYNC_FIELDS
        .iter()
        .chain(features.order_fields())
        .copied()
        .collect())
}

/// Decodes `search_read` rows of [`sync_fields`] with their details.
fn decode_with(
    rows: &[Value],
    mut details: HashMap<i64, Result<crate::details::OrderDetails, String>>,
) -> OdooChunk {
    let mut out = HashMap::with_capacity(rows.len());
    for v in rows {
        let r = Record(v);
        let Ok(id) = r.id() else { continue };
        let mut order = OdooOrder::from_record(&r);
        if let Ok(o) = &mut order {
            match details.remove(&id) {
                Some(Ok(d)) => o.details = Some(d),
                Some(Err(reason)) => {
                    tracing::warn!(odoo_order_id = id, %reason, "The order's lines or invoices could not be read; its amount and state are synced");
                }
                None => {}
            }
        }
        out.insert(id, order);
    }
    out
}

fn label(r: &SyncRow) -> String {
    r.order_number
        .clone()
        .unwrap_or_else(|| format!("#{}", r.id))
}

/// The verdict for one stored order (`odoo_amount` at the currency's scale).
pub(crate) fn judge(row: &SyncRow, odoo_amount: Decimal, max_change: &MaxChange) -> Verdict {
    judge_amount(
        at_scale(row.total_amount, &row.currency),
        odoo_amount,
        &row.currency,
        row.review.as_ref(),
        max_change,
    )
}

impl Verdict {
    /// The outcome and the writes: the portal's new amount (only when `amounts` is asked
    /// for), Odoo's amount to record (never a held or rejected one), the conflict's fate.
    fn apply(
        self,
        row: &SyncRow,
        odoo_amount: Decimal,
        amounts: bool,
    ) -> (Outcome, Option<Decimal>, Option<Decimal>, ConflictWrite) {
        let portal = at_scale(row.total_amount, &row.currency);
        // An open or kept review ends when Odoo's amount needs none.
        let settle = || match row.review {
            Some(_) => ConflictWrite::Resolve,
            None => ConflictWrite::None,
        };
        let (outcome, new_total, odoo_total, conflict) = match self {
            Verdict::KeptByReview { amount, odoo } => (
                Outcome::KeptByReview { amount, odoo },
                None,
                None,
                ConflictWrite::None,
            ),
            Verdict::Held { from, to } => (
                Outcome::Held { from, to },
                None,
                None,
                ConflictWrite::Hold {
                    odoo_order_id: row.odoo_order_id,
                    currency: row.currency.clone(),
                    portal: from,
                    odoo: to,
                },
            ),
            Verdict::Update { from, to } => {
                (Outcome::Updated { from, to }, Some(to), Some(to), settle())
            }
            Verdict::NoChange => (
                Outcome::NoChange { amount: portal },
                None,
                Some(odoo_amount),
                settle(),
            ),
            Verdict::KeepPortal => (
                Outcome::KeptPortal { amount: portal },
                None,
                Some(odoo_amount),
                settle(),
            ),
        };
        if amounts {
            return (outcome, new_total, odoo_total, conflict);
        }
        // Status only: the portal's amount is never touched, but what may be recorded of
        // Odoo's follows the same verdict.
        let outcome = match outcome {
            held @ Outcome::Held { .. } => held,
            _ => Outcome::StatusChecked,
        };
        let odoo_total = match self {
            Verdict::Update { to, .. } => Some(to),
            _ => odoo_total,
        };
        (outcome, None, odoo_total, conflict)
    }
}

/// Compares one chunk with Odoo's answer by the rules; returns the results and the writes.
pub(crate) fn compare_chunk(
    page: &[SyncRow],
    fetched: &Result<OdooChunk, OdooError>,
    opts: &SyncOptions,
) -> (Vec<OrderResult>, Vec<SyncWrite>) {
    let mut results = Vec::with_capacity(page.len());
    let mut writes = Vec::with_capacity(page.len());
    for row in page {
        let mut status_change = None;
        let mut odoo_state = None;
        let outcome = match fetched {
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
            Ok(map) => match map.get(&row.odoo_order_id) {
                None => Outcome::MissingInOdoo,
                Some(Err(reason)) => Outcome::Failed {
                    reason: reason.clone(),
                },
                Some(Ok(OdooOrder {
                    amount: odoo_amount,
                    state,
                    stamp,
                    details,
                })) => {
                    // Both amounts at the currency's scale: compared, stored and shown there.
                    let odoo_amount = &at_scale(*odoo_amount, &row.currency);
                    let state_write = opts.status.then(|| {
                        odoo_state = Some(state.clone());
                        let status = crate::rules::portal_status(
                            state,
                            details.as_ref(),
                            &row.status,
                            opts.status_words,
                        )
                        .to_string();
                        if status != row.status {
                            status_change = Some((row.status.clone(), status.clone()));
                        }
                        (state.clone(), status)
                    });
                    let verdict = judge(row, *odoo_amount, &opts.max_change);
                    let (outcome, new_total, odoo_total, conflict) =
                        verdict.apply(row, *odoo_amount, opts.amounts);
                    writes.push(SyncWrite {
                        id: row.id,
                        total_amount: new_total,
                        odoo_amount_total: odoo_total,
                        state: state_write,
                        stamp: stamp.clone(),
                        from_webhook: false,
                        conflict,
                        details: details.clone(),
                    });
                    outcome
                }
            },
        };
        results.push(OrderResult {
            order_id: row.id,
            odoo_order_id: row.odoo_order_id,
            order_number: label(row),
            currency: row.currency.clone(),
            outcome,
            status_change,
            odoo_state,
        });
    }
    (results, writes)
}

/// Marks the results whose write the store skipped (it held something newer of Odoo's):
/// a run reports what it committed, not what it compared.
pub(crate) fn superseded(results: &mut [OrderResult], skipped: &std::collections::HashSet<i64>) {
    for r in results.iter_mut().filter(|r| skipped.contains(&r.order_id)) {
        r.outcome = Outcome::Superseded;
        r.status_change = None;
    }
}

/// Counts a chunk's results, logs the changes (after their commit), and hands each result
/// to the caller.
pub(crate) fn tally(
    summary: &mut Summary,
    results: &[OrderResult],
    dry_run: bool,
    on_event: &mut dyn FnMut(Event<'_>),
) {
    for r in results {
        match &r.outcome {
            Outcome::Updated { from, to } => {
                summary.updated += 1;
                if !dry_run {
                    tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_amount = %from, new_amount = %to, "Synced order amount from Odoo");
                }
            }
            Outcome::NoChange { .. } => summary.unchanged += 1,
            Outcome::KeptPortal { .. } | Outcome::KeptByReview { .. } => summary.kept_portal += 1,
            Outcome::Held { from, to } => {
                summary.held += 1;
                if !dry_run {
                    tracing::warn!(order_id = r.order_id, order_number = %r.order_number, portal_amount = %from, odoo_amount = %to, "Order amount change held for review");
                }
            }
            Outcome::MissingInOdoo => {
                summary.missing_in_odoo += 1;
                tracing::warn!(order_id = r.order_id, odoo_order_id = r.odoo_order_id, order_number = %r.order_number, "Order not found in Odoo");
            }
            Outcome::Failed { .. } => summary.failed += 1,
            Outcome::Superseded => summary.superseded += 1,
            Outcome::StatusChecked => summary.unchanged += u64::from(r.status_change.is_none()),
        }
        if let Some((from, to)) = &r.status_change {
            summary.status_changed += 1;
            if !dry_run {
                tracing::info!(order_id = r.order_id, order_number = %r.order_number, old_status = %from, new_status = %to, "Synced order status from Odoo");
            }
        }
        on_event(Event::Order(r));
    }
}

/// The one local order `--order-id` names; it must have an Odoo id.
fn one_order(store: &Store, id: i64) -> Result<crate::store::orders::OrderRow, Error> {
    let o = store.order(id)?;
    if o.odoo_order_id.is_none() {
        return Err(Error::Usage(format!(
            "local order {id} has no Odoo id, so there is nothing to sync"
        )));
    }
    Ok(o)
}

/// The pipeline the selection calls for: the change cursor's, or the one over local orders.
/// A failure midway says what the run had already committed (each chunk commits on its own).
pub(crate) async fn selected_pipeline(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    overlap: std::time::Duration,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, Error> {
    let mut summary = Summary {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let ran = match opts.selection {
        Selection::Changed => {
            changed::pipeline(store, client, opts, overlap, &mut summary, on_event).await
        }
        _ => pipeline(store, client, opts, &mut summary, on_event).await,
    };
    match ran {
        Ok(()) => Ok(summary),
        Err(e) if opts.dry_run => Err(e),
        Err(e) => Err(Error::Stopped {
            cause: Box::new(e),
            updated: summary.updated + summary.status_changed,
            checked: summary.synced() + summary.held + summary.failed,
        }),
    }
}

/// One sync on an open store and client, recorded in the run history; the caller holds the
/// run lock. `serve`'s polls share their client, so the round trips are this run's only.
pub(crate) async fn run_recorded(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    overlap: std::time::Duration,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, Error> {
    let kind = match (opts.selection, opts.amounts) {
        (Selection::Changed, _) => "sync-changed",
        (_, true) => "sync-amounts",
        (_, false) => "sync-status",
    };
    let before = client.round_trips();
    let run_id = store.start_run(kind)?;
    let mut result = selected_pipeline(store, client, opts, overlap, on_event).await;
    if let Ok(s) = &mut result {
        s.round_trips = s.round_trips.saturating_sub(before);
    }
    let end = run_end(&result);
    if let Err(first) = store.finish_run(run_id, &end) {
        // The run's connection may be gone with the failure: record its end on a new one,
        // so that the history never shows a stopped run as running.
        let closed = store.reopen().and_then(|s| s.finish_run(run_id, &end));
        if let Err(e) = closed {
            tracing::error!(error = %e, run_id, "The run's end could not be recorded");
            return Err(result.err().unwrap_or(Error::Store(first)));
        }
    }
    result
}

/// How the run ends, for the run history.
fn run_end(result: &Result<Summary, Error>) -> RunEnd {
    match result {
        Ok(s) => RunEnd {
            outcome: super::run_outcome(s.exit_code()),
            exit_code: s.exit_code(),
            checked: s.found,
            updated: s.updated + s.status_changed,
            failed: s.failed,
            round_trips: s.round_trips,
            error: s
                .odoo_garbled
                .clone()
                .or_else(|| s.odoo_unreachable.clone()),
        },
        Err(e) => super::run_failed(e),
    }
}

pub(crate) async fn pipeline(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    let since = match opts.selection {
        Selection::RecentDays(days) => Some(to_text(
            chrono::Utc::now() - chrono::Duration::days(i64::from(days)),
        )),
        _ => None,
    };
    let single = match opts.selection {
        Selection::Order(id) => Some(one_order(store, id)?),
        _ => None,
    };
    let found = match &single {
        Some(_) => 1,
        None => store.count_orders_with_odoo_id(since.as_deref())?,
    };
    summary.found += found;
    on_event(Event::Found(found));
    if found == 0 {
        return Ok(());
    }
    // Log in first: an unreachable Odoo or refused credentials stop the run here, clearly.
    client.session().await?;

    let mut after_id = 0;
    let mut exhausted = false;
    let mut in_flight = FuturesOrdered::new();
    loop {
        // Keep up to `concurrency` chunk reads in flight while earlier chunks are written.
        while !exhausted && in_flight.len() < opts.concurrency {
            let page: Vec<SyncRow> = match &single {
                Some(o) if after_id == 0 => {
                    store.sync_rows_for(&[o.odoo_order_id.unwrap_or_default()])?
                }
                Some(_) => Vec::new(),
                None => store.sync_page(since.as_deref(), None, after_id, opts.batch)?,
            };
            let Some(last) = page.last() else {
                exhausted = true;
                break;
            };
            after_id = last.id;
            let ids: Vec<i64> = page.iter().map(|r| r.odoo_order_id).collect();
            let batch = opts.batch;
            in_flight.push_back(async move {
                let fetched = fetch(client, ids, batch, opts.details).await;
                (page, fetched)
            });
        }
        let Some((page, fetched)) = in_flight.next().await else {
            break;
        };
        if let Err(e) = &fetched {
            tracing::error!(error = %e, orders = page.len(), "Failed to sync order amounts from Odoo");
            if matches!(e, OdooError::Protocol { .. }) {
                summary.odoo_garbled.get_or_insert_with(|| e.to_string());
            } else if e.is_unavailable() {
                summary
                    .odoo_unreachable
                    .get_or_insert_with(|| e.to_string());
            }
        }
        let (mut results, writes) = compare_chunk(&page, &fetched, &opts);
        if !opts.dry_run {
            let skipped = store.apply_sync(&writes)?;
            superseded(&mut results, &skipped);
        }
        tally(summary, &results, opts.dry_run, on_event);
        crate::failpoint::hit("sync-after-chunk");
        if crate::failpoint::armed("sync-lose-store-after-chunk") {
            store.lose_connection();
        }
    }
    summary.round_trips = client.round_trips();
    Ok(())
}
