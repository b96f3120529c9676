//! `orderbridge serve`: Odoo's webhooks applied as they arrive, and the incremental sync
//! every `--poll` as the safety net (Odoo sends each webhook once and never retries).
//!
//! ```text
//! POST /odoo/webhook/<secret> ─► secret (constant time) ─► body checked ─► one write
//!     transaction: applied by the sync rules only if newer than the stored write_date
//! every --poll: the run lock (as cron's runs) ─► `sync-amounts --changed` ─► run history
//! GET /healthz (from the store checker's last probe), GET /metrics (Prometheus)
//! ```
//! Webhook writes go through one writer thread with its own connection (batched into one
//! transaction when many wait), so a long poll never delays an answer — Odoo's user waits
//! for it, and Odoo gives the receiver 1 s — and a burst costs one thread. The accept loop
//! (`listener`) bounds what clients can hold: read timeouts, a connection limit, a stop
//! with a deadline.

mod api;
mod apply;
mod deliver;
mod health;
mod listener;
mod metrics;
mod throttle;
mod writer;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Context;
use crate::error::{Error, Exit, ExitStatus, exit};
use crate::flows::sync::{Selection, SyncOptions, run_recorded};
use crate::odoo::OdooClient;
use crate::secret::Secret;
use crate::store::Location;
use crate::store::Store;
use health::Health;
pub(crate) use listener::Limits;
use listener::{BodyRefused, Conns};
pub(crate) use metrics::Delivered;
use metrics::{Metrics, Polled};
use throttle::Throttle;
use writer::Writer;

/// The largest webhook body read (Odoo's are a few kB).
const WEBHOOK_BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct ServeOptions {
    pub listen: SocketAddr,
    /// The safety-net poll's period; `None` turns it off.
    pub poll: Option<Duration>,
    /// Also set the status from Odoo's state (webhooks and polls).
    pub with_status: bool,
    /// The order API's unix socket, if any.
    pub api_socket: Option<std::path::PathBuf>,
    /// Amount changes beyond it are held for review.
    pub max_change: crate::rules::MaxChange,
    pub limits: Limits,
}

struct Shared {
    secret: Secret,
    /// The order API's parts (`/v1`).
    api: api::Api,
    /// Told when this process committed events (the delivery wakes at once).
    events_ready: Arc<tokio::sync::Notify>,
    delivery: deliver::Delivery,
    /// The store's writer (webhooks, imports).
    writer: Writer,
    client: Arc<OdooClient>,
    sync: SyncOptions,
    metrics: Metrics,
    health: Arc<Health>,
    throttle: Throttle,
    conns: Arc<Conns>,
    limits: Limits,
    /// Orders to read again, whole, after their webhooks (a webhook carries the amount
    /// and state, not the lines, delivery or invoicing).
    refresh: tokio::sync::mpsc::UnboundedSender<i64>,
    /// Imports of unknown orders, awaited at shutdown.
    imports: Mutex<JoinSet<()>>,
}

/// A bound server, ready to run.
pub(crate) struct Server {
    listener: tokio::net::TcpListener,
    /// The order API's unix socket, and its path (removed at the stop).
    #[cfg(unix)]
    unix: Option<(tokio::net::UnixListener, std::path::PathBuf)>,
    /// The delivery's connection, and where events go.
    events_store: Store,
    portal: Option<(String, Secret)>,
    shared: Arc<Shared>,
    poll_store: Store,
    /// The health checker's connection (a short busy timeout).
    check_store: Store,
    refresh_rx: tokio::sync::mpsc::UnboundedReceiver<i64>,
    /// The store whose run lock each poll takes, and how long its locks are waited for.
    lock: (Location, Duration),
    overlap: Duration,
    poll: Option<Duration>,
    flush: crate::flows::outbox::FlushSettings,
    /// The settings, for settling pending intents (what a killed process left).
    ctx: Context,
}

/// What a server did, reported when it stops.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ServeReport {
    pub listen: String,
    pub webhooks: std::collections::BTreeMap<&'static str, u64>,
    /// Unknown orders stored by an import.
    pub imported: u64,
    /// Imports that stored nothing (already stored, being created, partner not linked).
    pub import_skipped: u64,
    /// Imports of an id Odoo does not have.
    pub import_not_in_odoo: u64,
    pub import_failed: u64,
    /// Deliveries written after Odoo had stopped waiting for the answer (1 s).
    pub late_answers: u64,
    pub polls_ok: u64,
    pub polls_failed: u64,
    pub polls_skipped_busy: u64,
    /// Connections closed to make room at the connection limit.
    pub connections_shed: u64,
    /// What the stop's deadline cut: connections closed without an answer (their writes,
    /// if any, committed or not as a whole), a poll and imports stopped midway (rolled
    /// back; the next run redoes them).
    pub cut_connections: u64,
    pub cut_poll: bool,
    pub cut_imports: u64,
    /// Events the portal answered 2xx to.
    pub events_delivered: u64,
    /// Posts of events the portal refused or did not answer (each retried).
    pub event_attempts_failed: u64,
}

impl Exit for ServeReport {
    /// 0 when the stop let everything finish; 1 when its deadline cut work.
    fn exit_status(&self) -> ExitStatus {
        if self.cut_connections > 0 || self.cut_poll || self.cut_imports > 0 {
            ExitStatus::Failed
        } else {
            ExitStatus::Ok
        }
    }
}

impl Server {
    /// Checks the settings and the store, and binds the address: every mistake shows here,
    /// before the server says it is listening.
    pub(crate) async fn bind(ctx: &Context, opts: &ServeOptions) -> Result<Server, Error> {
        let secret = ctx.settings.webhook_secret()?;
        // One client (one Odoo session) for the process: every webhook's import, poll and
        // API request shares it, a bounded number of requests in flight.
        let client = Arc::new(
            ctx.odoo()?
                .with_max_in_flight(ctx.settings.odoo_concurrency()?),
        );
        let api_token = ctx.settings.api_token()?;
        let portal = ctx.settings.portal_webhook()?;
        let overlap = ctx.settings.change_overlap()?;
        let store = ctx.store()?;
        // A store it cannot write is refused now (exit 4, as the syncs), not after Odoo's
        // first webhook.
        store.probe_writable()?;
        let poll_store = ctx.store_unverified()?;
        let check_store = Store::open(&ctx.database()?, health::PROBE_WAIT)?;
        let listener = listener::bind(opts.listen)
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", opts.listen)))?;
        #[cfg(unix)]
        let unix = match opts.api_socket.clone() {
            Some(path) => Some((
                listener::bind_unix(&path).map_err(|e| {
                    Error::Usage(format!(
                        "cannot listen on the unix socket {}: {e}",
                        path.display()
                    ))
                })?,
                path,
            )),
            None => None,
        };
        let events_store = ctx.store_unverified()?;
        let mut creator =
            crate::flows::orders_create::Creator::with_client(ctx, Arc::clone(&client))?;
        // A second request with a key in flight elsewhere waits this long, then gets 409.
        let key_wait = ctx.settings.api_key_wait()?;
        creator.claim_wait = key_wait;
        let concurrency = ctx.settings.odoo_concurrency()?;
        let api = api::Api::new(
            api_token,
            creator,
            crate::flows::orders_read::ListRules::of(ctx)?,
            ctx.settings.queue_if_unavailable()?,
            api::StorePool::new(
                ctx.database()?,
                ctx.settings.busy_timeout()?,
                ctx.settings.customers_table()?,
            ),
            concurrency * 2,
            key_wait,
        );
        let limit = listener::connection_limit(opts.limits.max_connections);
        if limit < opts.limits.max_connections {
            tracing::info!(
                limit,
                asked = opts.limits.max_connections,
                "Connection limit lowered to what the open-file limit allows"
            );
        }
        if !opts.listen.ip().is_loopback() {
            tracing::warn!(listen = %opts.listen, "Listening beyond loopback: put it behind the portal's TLS reverse proxy");
        }
        let sync = SyncOptions {
            selection: Selection::Changed,
            dry_run: false,
            batch: 1000,
            concurrency: 1,
            amounts: true,
            status: opts.with_status,
            max_change: opts.max_change,
            status_words: ctx.settings.status_words()?,
            details: ctx.settings.order_details()?,
        };
        let health = Arc::new(Health::new(opts.poll));
        let (refresh_tx, refresh_rx) = tokio::sync::mpsc::unbounded_channel();
        let (writer, _thread) = Writer::start(store, sync, Arc::clone(&health))?;
        Ok(Server {
            listener,
            #[cfg(unix)]
            unix,
            events_store,
            portal,
            shared: Arc::new(Shared {
                secret,
                api,
                events_ready: Arc::new(tokio::sync::Notify::new()),
                delivery: deliver::Delivery::default(),
                writer,
                client,
                sync,
                metrics: Metrics::default(),
                health,
                throttle: Throttle::default(),
                conns: Arc::new(Conns::new(limit)),
                limits: opts.limits,
                refresh: refresh_tx,
                imports: Mutex::new(JoinSet::new()),
            }),
            poll_store,
            check_store,
            refresh_rx,
            ctx: Context::new(ctx.settings.clone()),
            lock: (ctx.database()?, ctx.settings.busy_timeout()?),
            overlap,
            poll: opts.poll,
            flush: crate::flows::outbox::FlushSettings {
                max_change: opts.max_change,
                ..crate::flows::outbox::FlushSettings::of(ctx, crate::flows::outbox::DEFAULT_BATCH)?
            },
        })
    }

    pub(crate) fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("cannot read the bound address: {e}")))
    }

    /// Serves until `stop` resolves (SIGTERM, Ctrl-C): then accepts nothing more, lets the
    /// requests, the poll and the imports under way finish within the stop timeout, cuts
    /// what is left at it, and reports.
    pub(crate) async fn run(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<ServeReport, Error> {
        let listen = self.local_addr()?.to_string();
        let limits = self.shared.limits;
        let (tx, rx) = watch::channel(false);
        let deadline: Arc<std::sync::OnceLock<tokio::time::Instant>> = Arc::default();
        let app = Router::new()
            .route("/odoo/webhook/{secret}", post(webhook))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics_text))
            .route("/v1/orders", post(api::create_order))
            .route("/v1/orders/{which}", get(api::show_order))
            .route("/v1/customers", post(api::add_customer))
            .route("/v1/customers/{id}/orders", get(api::customer_orders))
            .route("/v1/events", get(api::events))
            .route("/v1/openapi.json", get(api::openapi))
            .with_state(Arc::clone(&self.shared));
        tracing::info!(%listen, poll_s = self.poll.map(|p| p.as_secs()), connection_limit = self.shared.conns.limit, "Serving Odoo webhooks");
        let tcp = listener::serve(
            self.listener,
            app.clone(),
            Arc::clone(&self.shared.conns),
            limits,
            rx.clone(),
        );
        #[cfg(unix)]
        let (unix, socket_path) = match self.unix {
            Some((l, path)) => {
                tracing::info!(path = %path.display(), "Order API on the unix socket");
                (Some(l), Some(path))
            }
            None => (None, None),
        };
        #[cfg(unix)]
        let http = {
            let (conns, rx) = (Arc::clone(&self.shared.conns), rx.clone());
            async move {
                let on_unix = async move {
                    match unix {
                        Some(l) => listener::serve(l, app, conns, limits, rx).await,
                        None => listener::Stopped::default(),
                    }
                };
                let (a, b) = tokio::join!(tcp, on_unix);
                if let Some(p) = socket_path {
                    let _ = std::fs::remove_file(p);
                }
                listener::Stopped { cut: a.cut + b.cut }
            }
        };
        #[cfg(not(unix))]
        let http = tcp;
        let signal = {
            let deadline = Arc::clone(&deadline);
            async move {
                stop.await;
                let _ = deadline.set(tokio::time::Instant::now() + limits.stop_timeout);
                tracing::info!(
                    stop_timeout_s = limits.stop_timeout.as_secs(),
                    "Stopping: finishing the requests and the poll under way"
                );
                let _ = tx.send(true);
            }
        };
        // The store checker behind /healthz, on a thread of its own: a probe waiting for
        // the write lock never holds up an answer.
        let checking = Arc::new(AtomicBool::new(false));
        {
            let (shared, store, checking) = (
                Arc::clone(&self.shared),
                self.check_store,
                Arc::clone(&checking),
            );
            std::thread::Builder::new()
                .name("store-check".into())
                .spawn(move || health::check_loop(&store, &shared.health, &checking))
                .map_err(|e| Error::Failed {
                    message: format!("cannot start the store checker: {e}"),
                    hint: None,
                })?;
        }
        let refresher = tokio::spawn(refresh_loop(Arc::clone(&self.shared), self.refresh_rx));
        // Events: sequenced and delivered on a thread of their own (their store work blocks).
        let delivering = {
            let runtime = tokio::runtime::Handle::current();
            let (shared, store, portal, stop) = (
                Arc::clone(&self.shared),
                self.events_store,
                self.portal,
                rx.clone(),
            );
            if let Some((url, _)) = &portal {
                tracing::info!(url = %crate::webhook::clip(url), "Posting events to the portal");
            }
            let lock = self.lock.clone();
            tokio::task::spawn_blocking(move || {
                runtime.block_on(deliver::deliver_loop(
                    &store,
                    &lock,
                    portal,
                    Arc::clone(&shared.events_ready),
                    &shared.delivery,
                    stop,
                ));
            })
        };
        let ticker = {
            let shared = Arc::clone(&self.shared);
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(10));
                loop {
                    every.tick().await;
                    shared.conns.tick();
                    for (kind, n) in shared.throttle.due() {
                        tracing::warn!(
                            kind,
                            count = n,
                            "More requests refused in the last minute (logged once a minute)"
                        );
                    }
                }
            })
        };
        // The poll and its store work on a thread of their own: the listener (driven by
        // this task) and the async workers never wait for a sync's database writes.
        let runtime = tokio::runtime::Handle::current();
        let (shared, lock) = (Arc::clone(&self.shared), self.lock.clone());
        let (poll_store, overlap, period, flush, settings) = (
            self.poll_store,
            self.overlap,
            self.poll,
            self.flush,
            self.ctx,
        );
        let poll_rx = rx.clone();
        let mut poll = tokio::task::spawn_blocking(move || {
            runtime.block_on(async {
                // What a process killed mid-create left pending is settled now, by its key.
                settle_pending(&settings, &poll_store, &shared).await;
                poll_loop(
                    &poll_store,
                    &shared,
                    &lock,
                    overlap,
                    period,
                    &flush,
                    &settings,
                    poll_rx,
                )
                .await;
            });
        });
        let poll = async {
            let mut stopping = rx.clone();
            tokio::select! {
                r = &mut poll => {
                    if let Err(e) = r {
                        tracing::error!(error = %e, "The poll stopped");
                    }
                    false
                }
                () = async {
                    let _ = stopping.wait_for(|s| *s).await;
                    match deadline.get() {
                        Some(d) => tokio::time::sleep_until(*d).await,
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::warn!("Stop deadline reached: the poll under way is cut (its transaction rolls back; the next run redoes it)");
                    true
                }
            }
        };
        let (stopped, cut_poll, ()) = tokio::join!(http, poll, signal);
        ticker.abort();
        refresher.abort();
        checking.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut imports = std::mem::take(
            &mut *self
                .shared
                .imports
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        let until = deadline
            .get()
            .copied()
            .unwrap_or_else(tokio::time::Instant::now);
        // The delivery stops between two posts; one waiting for the store is left behind
        // at the deadline (what it posted is posted again: at least once).
        let _ = tokio::time::timeout_at(until, delivering).await;
        let imports_done = async { while imports.join_next().await.is_some() {} };
        let cut_imports = match tokio::time::timeout_at(until, imports_done).await {
            Ok(()) => 0,
            Err(_) => {
                let n = imports.len() as u64;
                imports.abort_all();
                n
            }
        };
        if stopped.cut > 0 {
            tracing::warn!(
                connections = stopped.cut,
                "Stop deadline reached: connections still open were closed without an answer"
            );
        }
        let m = &self.shared.metrics;
        let imports = m.imports();
        Ok(ServeReport {
            listen,
            webhooks: Delivered::ALL
                .into_iter()
                .map(|d| (d.name(), m.count(d)))
                .collect(),
            imported: imports.stored,
            import_skipped: imports.skipped,
            import_not_in_odoo: imports.not_in_odoo,
            import_failed: imports.failed,
            late_answers: m.late(),
            polls_ok: m.polls(Polled::Ok),
            polls_failed: m.polls(Polled::Failed),
            polls_skipped_busy: m.polls(Polled::Busy),
            connections_shed: self.shared.conns.shed_total(),
            cut_connections: stopped.cut,
            cut_poll,
            cut_imports,
            events_delivered: self
                .shared
                .delivery
                .delivered
                .load(std::sync::atomic::Ordering::Relaxed),
            event_attempts_failed: self
                .shared
                .delivery
                .failed_attempts
                .load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

/// Settles the intents left pending (a create or change whose answer was lost, a process
/// killed mid-create): each is looked up in Odoo by its key and adopted, never sent again.
async fn settle_pending(ctx: &Context, store: &Store, shared: &Shared) {
    match crate::flows::orders_create::recover_with(ctx, store, &shared.client).await {
        Ok(done) if !done.is_empty() => {
            let adopted = done
                .iter()
                .filter(|r| r.result == crate::flows::orders_create::Recovery::Adopted)
                .count();
            tracing::info!(
                pending = done.len(),
                adopted,
                "Pending intents settled by their keys"
            );
            shared.events_ready.notify_one();
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "Pending intents could not be settled; the next poll tries again");
        }
    }
}

/// Every `period`, the incremental sync under the run lock (a cron run holding it makes this
/// poll skip); never interrupted midway: a stop waits for the poll under way.
#[allow(clippy::too_many_arguments)] // the poll's parts, each owned by the server
async fn poll_loop(
    store: &Store,
    shared: &Shared,
    lock: &(Location, Duration),
    overlap: Duration,
    period: Option<Duration>,
    flush: &crate::flows::outbox::FlushSettings,
    settings: &Context,
    mut stop: watch::Receiver<bool>,
) {
    let Some(period) = period else {
        let _ = stop.wait_for(|s| *s).await;
        return;
    };
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let _lock = match super::run_lock_at(&lock.0, lock.1) {
            Ok(l) => l,
            Err(Error::Busy { message }) => {
                tracing::info!(reason = %message, "Poll skipped: another sync run is under way");
                shared.metrics.polled(Polled::Busy);
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "Poll failed");
                shared.metrics.polled(Polled::Failed);
                continue;
            }
        };
        settle_pending(settings, store, shared).await;
        // Logged by the flush itself ("Outbox flushed before the sync").
        let _ = crate::flows::outbox::flush_first(store, &shared.client, flush).await;
        let polled =
            match run_recorded(store, &shared.client, shared.sync, overlap, &mut |_| {}).await {
                Ok(s) if s.exit_code() == exit::OK => {
                    tracing::info!(
                        checked = s.found,
                        updated = s.updated,
                        status_changed = s.status_changed,
                        round_trips = s.round_trips,
                        "Poll finished"
                    );
                    Polled::Ok
                }
                Ok(s) => {
                    let why = s.odoo_unreachable.or(s.odoo_garbled).unwrap_or_default();
                    tracing::warn!(failed = s.failed, reason = %why, "Poll ended with failures");
                    Polled::Failed
                }
                Err(e) => {
                    tracing::error!(error = %e, "Poll failed");
                    Polled::Failed
                }
            };
        shared.metrics.polled(polled);
    }
}

fn answer(status: StatusCode, result: &str, detail: Option<&str>) -> Response {
    let body = serde_json::json!({ "result": result, "detail": detail });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn webhook(
    State(shared): State<Arc<Shared>>,
    Path(given): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // Constant time: the answer's timing says nothing about how much of a guess was right.
    // Checked before the body is read: a client without the secret costs no body.
    let expected = shared.secret.expose().as_bytes();
    if !bool::from(given.as_bytes().ct_eq(expected)) {
        shared
            .metrics
            .delivered(Delivered::Forbidden, started.elapsed());
        if shared.throttle.first("wrong_secret") {
            tracing::warn!(
                "Webhook with a wrong secret refused (logged once a minute, then counted)"
            );
        }
        return StatusCode::NOT_FOUND.into_response();
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = match declared {
        Some(n) if n > WEBHOOK_BODY_LIMIT => Err(BodyRefused::TooLarge),
        _ => listener::read_body(body, WEBHOOK_BODY_LIMIT, shared.limits.read_timeout).await,
    };
    let body = match body {
        Ok(b) => b,
        Err(refused) => {
            shared
                .metrics
                .delivered(Delivered::Invalid, started.elapsed());
            let (status, kind, detail) = match refused {
                BodyRefused::TooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the body is larger than 1 MiB",
                ),
                BodyRefused::TooSlow => (
                    StatusCode::REQUEST_TIMEOUT,
                    "body_too_slow",
                    "the body did not arrive within the read timeout",
                ),
                BodyRefused::Broken => (
                    StatusCode::BAD_REQUEST,
                    "body_broken",
                    "the body could not be read",
                ),
            };
            if shared.throttle.first(kind) {
                tracing::warn!(
                    reason = detail,
                    "Webhook refused: nothing written (logged once a minute, then counted)"
                );
            }
            return answer(status, "invalid", Some(detail));
        }
    };
    let delivery = match crate::webhook::parse(&body, chrono::Utc::now()) {
        Ok(d) => d,
        Err(reason) => {
            shared
                .metrics
                .delivered(Delivered::Invalid, started.elapsed());
            if shared.throttle.first("invalid_body") {
                tracing::warn!(%reason, "Webhook refused: nothing written (logged once a minute, then counted)");
            }
            return answer(StatusCode::BAD_REQUEST, "invalid", Some(&reason));
        }
    };
    let odoo_id = delivery.odoo_id;
    let name = delivery.name.clone();
    let outcome = match shared.writer.apply(delivery).await {
        Ok((Delivered::Unknown, true)) => {
            spawn_import(&shared, odoo_id);
            Delivered::Importing
        }
        Ok((outcome, _)) => outcome,
        Err(e) => {
            tracing::error!(error = %e, odoo_order_id = odoo_id, "Webhook not applied: the local store failed");
            shared
                .metrics
                .delivered(Delivered::Failed, started.elapsed());
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "failed",
                Some("the local store failed; the next poll catches up"),
            );
        }
    };
    if shared.sync.details
        && matches!(
            outcome,
            Delivered::Updated | Delivered::Unchanged | Delivered::KeptPortal | Delivered::Held
        )
    {
        // Its lines, delivery and invoicing: read again shortly, with the burst's others.
        let _ = shared.refresh.send(odoo_id);
    }
    if outcome == Delivered::Unknown {
        tracing::info!(
            odoo_order_id = odoo_id,
            order_number = name.as_deref().unwrap_or("-"),
            "Webhook for an order not stored locally (customer not linked)"
        );
    }
    if outcome.wrote() {
        shared.events_ready.notify_one();
    }
    let took = started.elapsed();
    shared.metrics.delivered(outcome, took);
    if took > ODOO_WAITS && outcome.wrote() {
        // Committed all the same; Odoo logged a timeout and will not send it again.
        tracing::warn!(
            odoo_order_id = odoo_id,
            took_ms = took.as_millis() as u64,
            result = outcome.name(),
            "Webhook applied after Odoo stopped waiting for the answer"
        );
    }
    answer(StatusCode::OK, outcome.name(), None)
}

/// How long the orders of a burst of webhooks are gathered before they are read again, in
/// one read of a few calls.
const REFRESH_WINDOW: Duration = Duration::from_millis(200);

/// Reads the orders of recent webhooks again, whole (lines, delivery, invoicing: a webhook
/// carries the amount and state only), a batch at a time, and hands them to the writer.
async fn refresh_loop(shared: Arc<Shared>, mut ids: tokio::sync::mpsc::UnboundedReceiver<i64>) {
    while let Some(first) = ids.recv().await {
        let mut batch = std::collections::BTreeSet::from([first]);
        let until = tokio::time::Instant::now() + REFRESH_WINDOW;
        while batch.len() < 1000 {
            tokio::select! {
                next = ids.recv() => match next {
                    Some(id) => { batch.insert(id); }
                    None => break,
                },
                () = tokio::time::sleep_until(until) => break,
            }
        }
        let batch: Vec<i64> = batch.into_iter().collect();
        match crate::flows::sync::fetch(&shared.client, batch.clone(), 1000, true).await {
            Ok(chunk) => shared.writer.refresh(batch, chunk).await,
            Err(e) => {
                if shared.throttle.first("refresh_failed") {
                    tracing::warn!(error = %e, orders = batch.len(), "Orders of webhooks could not be read again; the next poll reads them (logged once a minute)");
                }
            }
        }
    }
}

/// How long Odoo waits for a webhook's answer (`base_automation`'s post timeout).
const ODOO_WAITS: Duration = Duration::from_secs(1);

fn spawn_import(shared: &Arc<Shared>, odoo_id: i64) {
    let work = Arc::clone(shared);
    let mut imports = shared.imports.lock().unwrap_or_else(|e| e.into_inner());
    // Finished imports are dropped as new ones start: the set holds only those under way.
    while imports.try_join_next().is_some() {}
    imports.spawn(async move {
        let done = match apply::read_for_import(&work.client, odoo_id).await {
            Ok(Some((o, details))) => work.writer.import(o, details).await,
            Ok(None) => Ok(apply::Imported::NotInOdoo),
            Err(e) => Err(e),
        };
        match done {
            Ok(done) => work.metrics.imported(Some(done)),
            Err(e) => {
                tracing::warn!(error = %e, odoo_order_id = odoo_id, "Import of an unknown order failed; the next full sync or list pulls it");
                work.metrics.imported(None);
            }
        }
    });
}

/// Answered at once from the store checker's last probe and the poll's last success.
async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let verdict = shared.health.verdict(shared.metrics.last_poll_ok_at());
    let status = if verdict.ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&verdict).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(
            &shared.conns,
            &shared.health.verdict(shared.metrics.last_poll_ok_at()),
            &shared.delivery,
        ),
    )
        .into_response()
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed by this call, not when the
/// future is first polled: a SIGTERM right after "listening" must stop cleanly too.
pub(crate) fn stop_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
