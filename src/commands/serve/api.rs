//! `/v1`: the order API for the portal, beside the webhook receiver. Each route calls the
//! library function its command calls (`orders create`, `orders show`, `orders list`,
//! `customers add`/`link`) and answers in the commands' JSON envelope, its HTTP status from
//! the exit code's class (README, "Order API").
//!
//! A checkout keeps one Odoo session for the process and costs one Odoo request with a new
//! key. Store work runs on the blocking pool, a bounded number at a time, with connections
//! kept between requests. Requests with the same idempotency key wait for each other here,
//! and for other processes through the intents table.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::Shared;
use super::listener::{BodyRefused, Via, read_body};
use crate::envelope::Envelope;
use crate::error::{Error, Exit, ExitStatus, exit};
use crate::flows::customers::add_or_link;
use crate::flows::orders_create::{Creator, OrderRequest, Outcome, create_with};
use crate::flows::orders_read::{ListRules, OrderRef, list_with, show_in};
use crate::secret::Secret;
use crate::store::orders::OrderFilter;
use crate::store::{Location, Store, StoreError};

/// The largest request body read (an order of a few hundred lines fits).
pub(super) const BODY_LIMIT: usize = 256 * 1024;

/// The OpenAPI description of these routes, served at `/v1/openapi.json`.
pub(super) const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// Idle store connections kept between requests.
const POOLED: usize = 16;

/// What the API needs besides the server's shared parts.
pub(super) struct Api {
    pub token: Option<Secret>,
    pub creator: Creator,
    pub rules: ListRules,
    pub queue_if_unavailable: bool,
    pub stores: StorePool,
    /// Store work under way at once (each holds a connection and a blocking thread).
    pub workers: Arc<tokio::sync::Semaphore>,
    /// The keys being created by this process: a second request waits for the first.
    keys: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    /// How long a request waits for another one with its key before it answers 409.
    pub key_wait: Duration,
}

impl Api {
    pub(super) fn new(
        token: Option<Secret>,
        creator: Creator,
        rules: ListRules,
        queue_if_unavailable: bool,
        stores: StorePool,
        workers: usize,
        key_wait: Duration,
    ) -> Api {
        Api {
            token,
            creator,
            rules,
            queue_if_unavailable,
            stores,
            workers: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
            keys: Mutex::new(HashMap::new()),
            key_wait,
        }
    }

    /// The lock of one idempotency key in this process.
    fn key_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = keys.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if keys.len() >= 1024 {
            keys.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        keys.insert(key.to_string(), Arc::downgrade(&lock));
        lock
    }
}

/// Store connections kept open between requests.
pub(super) struct StorePool {
    location: Location,
    busy: Duration,
    customers: String,
    idle: Mutex<Vec<Store>>,
}

impl StorePool {
    pub(super) fn new(location: Location, busy: Duration, customers: String) -> StorePool {
        StorePool {
            location,
            busy,
            customers,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Result<Store, Error> {
        if let Some(s) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(s);
        }
        Ok(Store::open(&self.location, self.busy)?.with_customers(&self.customers)?)
    }

    fn give(&self, store: Store) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOLED {
            idle.push(store);
        }
    }
}

/// Runs `work` with a store connection on the blocking pool, a bounded number at once: the
/// async workers never wait for the database. Work under way finishes even when its client
/// has gone (a create is never left half done by a disconnect).
async fn with_store<T, F, Fut>(shared: &Arc<Shared>, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(Store, Arc<Shared>) -> Fut + Send + 'static,
    Fut: Future<Output = (Store, Result<T, Error>)>,
{
    let shared = Arc::clone(shared);
    let _turn = Arc::clone(&shared.api.workers)
        .acquire_owned()
        .await
        .map_err(|_| Error::Failed {
            message: "the server is stopping".into(),
            hint: None,
        })?;
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let store = shared.api.stores.take()?;
        let (store, out) = handle.block_on(work(store, Arc::clone(&shared)));
        shared.api.stores.give(store);
        out
    })
    .await
    .map_err(|e| Error::Failed {
        message: format!("the request's work stopped: {e}"),
        hint: None,
    })?
}

/// The HTTP status of a failure, from its exit code's class (README, "Order API").
fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
        Error::KeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => http_status(e.exit_status()),
    }
}

/// An exit status's HTTP status (the class; routes refine 201 and 404).
fn http_status(exit: ExitStatus) -> StatusCode {
    match exit {
        ExitStatus::Ok => StatusCode::OK,
        ExitStatus::Queued => StatusCode::ACCEPTED,
        ExitStatus::Usage => StatusCode::BAD_REQUEST,
        ExitStatus::Failed => StatusCode::UNPROCESSABLE_ENTITY,
        ExitStatus::Locked => StatusCode::CONFLICT,
        ExitStatus::OdooUnavailable | ExitStatus::Database => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn reply<T: serde::Serialize>(status: StatusCode, command: &str, code: i32, data: &T) -> Response {
    json(
        status,
        serde_json::to_string(&Envelope::of(command, code, data)).unwrap_or_default(),
    )
}

fn fail(command: &str, e: &Error) -> Response {
    let status = status_of(e);
    let mut r = json(
        status,
        serde_json::to_string(&Envelope::failed(command, e)).unwrap_or_default(),
    );
    if matches!(
        status,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT
    ) {
        // An outcome still unknown is worth asking again only once Odoo's grace is over.
        let wait = match e {
            Error::StillUnknown { retry_after, .. } => crate::store::from_text(retry_after)
                .map(|at| (at - chrono::Utc::now()).num_seconds().max(1))
                .unwrap_or(1),
            _ => 1,
        };
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

/// A refusal before any work: 400 (bad request), 401 and 403 (access), 413, 408.
fn refuse(status: StatusCode, command: &str, message: String, hint: Option<String>) -> Response {
    let code = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => exit::USAGE,
        _ => exit::FAILED,
    };
    let body = Envelope::refused(command, code, message, hint, None);
    let mut r = json(status, serde_json::to_string(&body).unwrap_or_default());
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"orderbridge\""),
        );
    }
    r
}

/// The caller may use the API: on the unix socket always (its file permissions let it
/// in); over TCP with the bearer token, compared in constant time.
fn authorize(shared: &Shared, via: Via, headers: &HeaderMap, command: &str) -> Option<Response> {
    if via == Via::Unix {
        return None;
    }
    let Some(token) = &shared.api.token else {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            command,
            "the order API answers over TCP only with a token; none is set".into(),
            Some(
                "set ORDERBRIDGE_API_TOKEN (24+ characters), or use the unix socket (--api-socket)"
                    .into(),
            ),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("");
    if bool::from(given.trim().as_bytes().ct_eq(token.expose().as_bytes())) {
        return None;
    }
    if shared.throttle.first("api_token") {
        tracing::warn!(
            "API request with a missing or wrong token refused (logged once a minute, then counted)"
        );
    }
    Some(refuse(
        StatusCode::UNAUTHORIZED,
        command,
        "missing or wrong bearer token".into(),
        Some("send `Authorization: Bearer <ORDERBRIDGE_API_TOKEN>`".into()),
    ))
}

/// Reads a JSON body under the limit and the read timeout.
async fn body_text(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    command: &str,
) -> Result<String, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let read = match declared {
        Some(n) if n > BODY_LIMIT => Err(BodyRefused::TooLarge),
        _ => read_body(body, BODY_LIMIT, shared.limits.read_timeout).await,
    };
    let bytes = read.map_err(|refused| match refused {
        BodyRefused::TooLarge => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            command,
            format!("the body is larger than {BODY_LIMIT} bytes; nothing was done"),
            None,
        ),
        BodyRefused::TooSlow => refuse(
            StatusCode::REQUEST_TIMEOUT,
            command,
            "the body did not arrive within the read timeout; nothing was done".into(),
            None,
        ),
        BodyRefused::Broken => refuse(
            StatusCode::BAD_REQUEST,
            command,
            "the body could not be read; nothing was done".into(),
            None,
        ),
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        refuse(
            StatusCode::BAD_REQUEST,
            command,
            "the body is not UTF-8 JSON; nothing was done".into(),
            None,
        )
    })
}

fn via(headers_ext: Option<axum::Extension<Via>>) -> Via {
    headers_ext.map_or(Via::Tcp, |axum::Extension(v)| v)
}

/// `POST /v1/orders`: `orders create`, with Stripe's `Idempotency-Key`.
pub(super) async fn create_order(
    State(shared): State<Arc<Shared>>,
    ext: Option<axum::Extension<Via>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const CMD: &str = "orders create";
    if let Some(refused) = authorize(&shared, via(ext), &headers, CMD) {
        return refused;
    }
    let text = match body_text(&shared, &headers, body, CMD).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut req = match OrderRequest::from_json(&text) {
        Ok(r) => r,
        Err(e) => return fail(CMD, &e),
    };
    let header_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if is_key(k) => Some(k.to_string()),
        Some(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                CMD,
                "the Idempotency-Key header must be 1 to 255 printable ASCII characters; nothing was done".into(),
                None,
            );
        }
    };
    match (&header_key, &req.idempotency_key) {
        (Some(h), Some(b)) if h != b => {
            return refuse(
                StatusCode::BAD_REQUEST,
                CMD,
                "the Idempotency-Key header and the body's idempotency_key differ; nothing was done".into(),
                None,
            );
        }
        (Some(h), _) => req.idempotency_key = Some(h.clone()),
        _ => {}
    }
    // The same key in this process: the second waits for the first's answer, then finds
    // it in the store (no Odoo call); past the wait, 409.
    let _key_turn = match &req.idempotency_key {
        Some(key) => {
            let lock = shared.api.key_lock(key);
            match tokio::time::timeout(shared.api.key_wait, lock.lock_owned()).await {
                Ok(turn) => Some(turn),
                Err(_) => return fail(CMD, &Error::KeyInFlight { key: key.clone() }),
            }
        }
        None => None,
    };
    let done = with_store(&shared, move |store, shared| async move {
        let api = &shared.api;
        let out = create_with(&api.creator, &store, req, api.queue_if_unavailable).await;
        (store, out)
    })
    .await;
    shared.events_ready.notify_one();
    match done {
        Ok(report) => {
            let status = match report.outcome {
                Outcome::Created => StatusCode::CREATED,
                Outcome::Adopted | Outcome::AlreadyDone => StatusCode::OK,
                Outcome::Queued => StatusCode::ACCEPTED,
            };
            let mut r = reply(status, CMD, report.exit_code(), &report);
            if report.outcome == Outcome::AlreadyDone {
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            r
        }
        // A customer the body names that is not there: the request's content, not the route.
        Err(e @ Error::Store(StoreError::NotFound(_))) => {
            let mut r = fail(CMD, &e);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        // Odoo refusing the order's data is exit 1: 422 by its class.
        Err(e) => fail(CMD, &e),
    }
}

/// A key as Stripe takes them: printable ASCII, at most 255 characters.
fn is_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// `GET /v1/orders/{id or S00021}`: `orders show`.
pub(super) async fn show_order(
    State(shared): State<Arc<Shared>>,
    ext: Option<axum::Extension<Via>>,
    headers: HeaderMap,
    Path(which): Path<String>,
) -> Response {
    const CMD: &str = "orders show";
    if let Some(refused) = authorize(&shared, via(ext), &headers, CMD) {
        return refused;
    }
    let which = OrderRef::parse(&which);
    let found = with_store(&shared, move |store, _| async move {
        let out = show_in(&store, &which);
        (store, out)
    })
    .await;
    match found {
        Ok(order) => reply(StatusCode::OK, CMD, exit::OK, &order),
        Err(e) => fail(CMD, &e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ListQuery {
    limit: Option<usize>,
    /// `YYYY-MM-DD`: orders placed on or after it.
    since: Option<String>,
    status: Option<String>,
}

/// `GET /v1/customers/{id}/orders`: `orders list --customer ID` (sync on read).
pub(super) async fn customer_orders(
    State(shared): State<Arc<Shared>>,
    ext: Option<axum::Extension<Via>>,
    headers: HeaderMap,
    Path(customer): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Response {
    const CMD: &str = "orders list";
    if let Some(refused) = authorize(&shared, via(ext), &headers, CMD) {
        return refused;
    }
    let since = match q.since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(format!("{d} 00:00:00")),
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    CMD,
                    format!("since '{}' is not a date (YYYY-MM-DD)", d.escape_debug()),
                    None,
                );
            }
        },
    };
    let filter = OrderFilter {
        customer_id: Some(customer),
        status: q.status,
        since,
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
    };
    let listed = with_store(&shared, move |store, shared| async move {
        let client = Ok(&*shared.client);
        let out = list_with(&store, Some(client), shared.api.rules, &filter).await;
        (store, out)
    })
    .await;
    match listed {
        Ok(report) => {
            #[derive(serde::Serialize)]
            struct Listing<'a> {
                /// Odoo could not be asked: the local orders only.
                stale: bool,
                warning: Option<&'a str>,
                #[serde(flatten)]
                report: &'a crate::flows::orders_read::ListReport,
            }
            let listing = Listing {
                stale: report.sync.warning.is_some(),
                warning: report.sync.warning.as_deref(),
                report: &report,
            };
            reply(StatusCode::OK, CMD, exit::OK, &listing)
        }
        Err(e) => fail(CMD, &e),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerJson {
    name: String,
    email: String,
    odoo_partner_id: Option<i64>,
}

/// `POST /v1/customers`: the customer with this email, added when missing and linked to an
/// Odoo partner. 201 when the customer was added, 200 when it was there.
pub(super) async fn add_customer(
    State(shared): State<Arc<Shared>>,
    ext: Option<axum::Extension<Via>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const CMD: &str = "customers add";
    if let Some(refused) = authorize(&shared, via(ext), &headers, CMD) {
        return refused;
    }
    let text = match body_text(&shared, &headers, body, CMD).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c: CustomerJson = match serde_json::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                CMD,
                format!("the customer JSON is not valid: {e}; nothing was done"),
                Some(
                    "send {\"name\": ..., \"email\": ..., \"odoo_partner_id\": (optional)}".into(),
                ),
            );
        }
    };
    let done = with_store(&shared, move |store, shared| async move {
        let out = add_or_link(&store, &shared.client, &c.name, &c.email, c.odoo_partner_id).await;
        (store, out)
    })
    .await;
    match done {
        Ok(r) => {
            let status = if r.created_customer {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            reply(status, CMD, exit::OK, &r)
        }
        Err(e) => fail(CMD, &e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /v1/events?after=CURSOR`: the events after a cursor, oldest first, for a portal
/// that polls instead of (or besides) receiving them.
pub(super) async fn events(
    State(shared): State<Arc<Shared>>,
    ext: Option<axum::Extension<Via>>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    const CMD: &str = "events";
    if let Some(refused) = authorize(&shared, via(ext), &headers, CMD) {
        return refused;
    }
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let read = with_store(&shared, move |store, _| async move {
        // What committed since the last sequencing is given its place first.
        let out = store
            .sequence_events()
            .and_then(|_| store.events_after(after, limit))
            .map_err(Error::from);
        (store, out)
    })
    .await;
    match read {
        Ok(events) => {
            #[derive(serde::Serialize)]
            struct Page<'a> {
                events: &'a [crate::store::events::Event],
                /// The cursor of the next read: the last event's id, or `after` when none.
                next_after: i64,
            }
            let next_after = events.last().map_or(after, |e| e.id);
            reply(
                StatusCode::OK,
                CMD,
                exit::OK,
                &Page {
                    events: &events,
                    next_after,
                },
            )
        }
        Err(e) => fail(CMD, &e),
    }
}

/// `GET /v1/openapi.json`: public, like any API's description.
pub(super) async fn openapi() -> Response {
    json(StatusCode::OK, OPENAPI.to_string())
}
