//! `orderbridge serve`: Odoo's webhooks applied as they arrive, and the incremental sync
//! every `--poll` as the safety net (Odoo sends each webhook once and never retries).
//!
//! ```text
//! POST /odoo/webhook/<secret> ─► secret (constant time) ─► body checked ─► one write
//!     transaction: applied by the sync rules only if newer than the stored write_date
//! every --poll: the run lock (as cron's runs) ─► `sync-amounts --changed` ─► run history
//! GET /healthz, GET /metrics (Prometheus)
//! ```
//! Webhook writes use their own connection, so a long poll never delays an answer: Odoo's
//! user waits for it (Odoo gives the receiver 1 s).

mod apply;
mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Context;
use super::sync::{Selection, SyncOptions, run_recorded};
use crate::error::{Error, exit};
use crate::odoo::OdooClient;
use crate::secret::Secret;
use crate::store::Location;
use crate::store::Store;
pub(crate) use metrics::Delivered;
use metrics::{Metrics, Polled};

#[derive(Debug, Clone)]
pub(crate) struct ServeOptions {
    pub listen: SocketAddr,
    /// The safety-net poll's period; `None` turns it off.
    pub poll: Option<Duration>,
    /// Also set the status from Odoo's state (webhooks and polls).
    pub with_status: bool,
    /// Amount changes beyond it are held for review.
    pub max_change: crate::rules::MaxChange,
}

struct Shared {
    secret: Secret,
    /// The webhooks' connection.
    store: Mutex<Store>,
    client: Arc<OdooClient>,
    sync: SyncOptions,
    metrics: Metrics,
    /// Imports of unknown orders, awaited at shutdown.
    imports: Mutex<JoinSet<()>>,
}

/// A bound server, ready to run.
pub(crate) struct Server {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    poll_store: Store,
    /// The store whose run lock each poll takes, and how long its locks are waited for.
    lock: (Location, Duration),
    overlap: Duration,
    poll: Option<Duration>,
    flush: super::outbox::FlushSettings,
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
}

impl Server {
    /// Checks the settings and the store, and binds the address: every mistake shows here,
    /// before the server says it is listening.
    pub(crate) async fn bind(ctx: &Context, opts: &ServeOptions) -> Result<Server, Error> {
        let secret = ctx.settings.webhook_secret()?;
        let client = Arc::new(ctx.odoo()?);
        let overlap = ctx.settings.change_overlap()?;
        let store = ctx.store()?;
        let poll_store = ctx.store_unverified()?;
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", opts.listen)))?;
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
        };
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                secret,
                store: Mutex::new(store),
                client,
                sync,
                metrics: Metrics::default(),
                imports: Mutex::new(JoinSet::new()),
            }),
            poll_store,
            lock: (ctx.database()?, ctx.settings.busy_timeout()?),
            overlap,
            poll: opts.poll,
            flush: super::outbox::FlushSettings {
                max_change: opts.max_change,
                ..super::outbox::FlushSettings::of(ctx, super::outbox::DEFAULT_BATCH)?
            },
        })
    }

    pub(crate) fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("cannot read the bound address: {e}")))
    }

    /// Serves until `stop` resolves (SIGTERM, Ctrl-C): then accepts nothing more, lets the
    /// requests, the poll and the imports under way finish, and reports.
    pub(crate) async fn run(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<ServeReport, Error> {
        let listen = self.local_addr()?.to_string();
        let (tx, rx) = watch::channel(false);
        let app = Router::new()
            .route("/odoo/webhook/{secret}", post(webhook))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics_text))
            .with_state(Arc::clone(&self.shared));
        let mut stopped = rx.clone();
        let http = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        tracing::info!(%listen, poll_s = self.poll.map(|p| p.as_secs()), "Serving Odoo webhooks");
        let signal = async move {
            stop.await;
            tracing::info!("Stopping: finishing the requests and the poll under way");
            let _ = tx.send(true);
        };
        // The poll and its store work on a thread of their own: the listener (driven by
        // this task) and the async workers never wait for a sync's database writes.
        let runtime = tokio::runtime::Handle::current();
        let (shared, lock) = (Arc::clone(&self.shared), self.lock.clone());
        let (poll_store, overlap, period, flush) =
            (self.poll_store, self.overlap, self.poll, self.flush);
        let poll = tokio::task::spawn_blocking(move || {
            runtime.block_on(poll_loop(
                &poll_store,
                &shared,
                &lock,
                overlap,
                period,
                &flush,
                rx,
            ));
        });
        let poll = async {
            if let Err(e) = poll.await {
                tracing::error!(error = %e, "The poll stopped");
            }
        };
        let (served, (), ()) = tokio::join!(http.into_future(), poll, signal);
        served.map_err(|e| Error::Failed {
            message: format!("the webhook server failed: {e}"),
            hint: None,
        })?;
        let imports = std::mem::take(
            &mut *self
                .shared
                .imports
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        imports.join_all().await;
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
        })
    }
}

/// Every `period`, the incremental sync under the run lock (a cron run holding it makes this
/// poll skip); never interrupted midway: a stop waits for the poll under way.
async fn poll_loop(
    store: &Store,
    shared: &Shared,
    lock: &(Location, Duration),
    overlap: Duration,
    period: Option<Duration>,
    flush: &super::outbox::FlushSettings,
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
        super::sync::flush_first(store, &shared.client, flush).await;
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
    body: Bytes,
) -> Response {
    let started = Instant::now();
    // Constant time: the answer's timing says nothing about how much of a guess was right.
    let expected = shared.secret.expose().as_bytes();
    if !bool::from(given.as_bytes().ct_eq(expected)) {
        shared
            .metrics
            .delivered(Delivered::Forbidden, started.elapsed());
        tracing::warn!("Webhook with a wrong secret refused");
        return StatusCode::NOT_FOUND.into_response();
    }
    let delivery = match crate::webhook::parse(&body, chrono::Utc::now()) {
        Ok(d) => d,
        Err(reason) => {
            shared
                .metrics
                .delivered(Delivered::Invalid, started.elapsed());
            tracing::warn!(%reason, "Webhook refused: nothing written");
            return answer(StatusCode::BAD_REQUEST, "invalid", Some(&reason));
        }
    };
    let work = Arc::clone(&shared);
    let d = delivery.clone();
    let applied = tokio::task::spawn_blocking(move || {
        let store = work.store.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = apply::apply(&store, &d, &work.sync)?;
        let import = outcome == Delivered::Unknown && apply::worth_importing(&store, &d)?;
        Ok::<_, crate::store::StoreError>((outcome, import))
    })
    .await;
    let outcome = match applied {
        Ok(Ok((Delivered::Unknown, true))) => {
            spawn_import(&shared, delivery.odoo_id);
            Delivered::Importing
        }
        Ok(Ok((outcome, _))) => outcome,
        Ok(Err(e)) => {
            tracing::error!(error = %e, odoo_order_id = delivery.odoo_id, "Webhook not applied: the local store failed");
            shared
                .metrics
                .delivered(Delivered::Failed, started.elapsed());
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "failed",
                Some("the local store failed; the next poll catches up"),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "Webhook not applied");
            shared
                .metrics
                .delivered(Delivered::Failed, started.elapsed());
            return answer(StatusCode::INTERNAL_SERVER_ERROR, "failed", None);
        }
    };
    if outcome == Delivered::Unknown {
        tracing::info!(
            odoo_order_id = delivery.odoo_id,
            order_number = delivery.name.as_deref().unwrap_or("-"),
            "Webhook for an order not stored locally (customer not linked)"
        );
    }
    let took = started.elapsed();
    shared.metrics.delivered(outcome, took);
    if took > ODOO_WAITS && outcome.wrote() {
        // Committed all the same; Odoo logged a timeout and will not send it again.
        tracing::warn!(
            odoo_order_id = delivery.odoo_id,
            took_ms = took.as_millis() as u64,
            result = outcome.name(),
            "Webhook applied after Odoo stopped waiting for the answer"
        );
    }
    answer(StatusCode::OK, outcome.name(), None)
}

/// How long Odoo waits for a webhook's answer (`base_automation`'s post timeout).
const ODOO_WAITS: Duration = Duration::from_secs(1);

fn spawn_import(shared: &Arc<Shared>, odoo_id: i64) {
    let work = Arc::clone(shared);
    let mut imports = shared.imports.lock().unwrap_or_else(|e| e.into_inner());
    // Finished imports are dropped as new ones start: the set holds only those under way.
    while imports.try_join_next().is_some() {}
    imports.spawn(async move {
        match apply::import(Arc::clone(&work), odoo_id).await {
            Ok(done) => work.metrics.imported(Some(done)),
            Err(e) => {
                tracing::warn!(error = %e, odoo_order_id = odoo_id, "Import of an unknown order failed; the next full sync or list pulls it");
                work.metrics.imported(None);
            }
        }
    });
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let work = Arc::clone(&shared);
    let store_ok = tokio::task::spawn_blocking(move || {
        let store = work.store.lock().unwrap_or_else(|e| e.into_inner());
        store.user_version().is_ok()
    })
    .await
    .unwrap_or(false);
    let body = serde_json::json!({
        "status": if store_ok { "ok" } else { "store_unavailable" },
        "last_poll_ok": shared.metrics.last_poll_ok().map(|t| t.to_rfc3339()),
    });
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(),
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
