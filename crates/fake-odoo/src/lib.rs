//! A fake Odoo (16 to 19) for orderbridge's tests, demo and benchmarks.
//!
//! It listens on a loopback port and speaks XML-RPC, JSON-RPC and JSON-2 the way a real Odoo
//! answers (the tests replay exchanges recorded from one): fault codes and strings, JSON-2
//! HTTP statuses, `False` for empty fields, the `S000nn` name sequence, amounts recomputed
//! with 15 % tax. It refuses what Odoo refuses (argument binding, unknown fields), counts
//! calls per `model.method` and injects faults.
//!
//! ```no_run
//! let fake = fake_odoo::FakeOdoo::start(fake_odoo::FakeOptions::default()).unwrap();
//! println!("{}", fake.url());
//! ```

// A test server: a poisoned lock or a broken invariant should stop the test loudly.
#![allow(clippy::unwrap_used)]

mod binding;
mod domain;
mod exception;
mod fields;
mod http;
mod webhooks;
pub mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use world::World;

/// A failure to inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer HTTP 502 with a proxy's HTML page; the call is not run.
    BadGateway,
    /// Answer 200 with a body that is neither valid XML nor JSON; the call is not run.
    MalformedBody,
    /// Run the call, then send half of the answer and close.
    TruncatedBody,
    /// Run the call (Odoo commits), then close the connection without answering.
    CommitThenDrop,
    /// Run the call, then hold the connection this long before closing it unanswered
    /// (the client sees a timeout).
    CommitThenHang(Duration),
    /// Wait this long before handling the call.
    Latency(Duration),
    /// Answer HTTP 500 with an HTML page that echoes the request, headers and body, as a
    /// debugging proxy does; the call is not run.
    EchoRequest,
}

/// Injects `fault` into calls matching `model` / `method` (any when `None`), `times` times
/// (always when `None`).
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub fault: Fault,
    pub model: Option<String>,
    pub method: Option<String>,
    pub times: Option<u32>,
}

impl FaultRule {
    /// The fault on every call.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            fault,
            model: None,
            method: None,
            times: None,
        }
    }

    /// The fault on the next call of `model.method` only.
    pub fn once(fault: Fault, model: &str, method: &str) -> Self {
        FaultRule {
            fault,
            model: Some(model.into()),
            method: Some(method.into()),
            times: Some(1),
        }
    }

    fn matches(&self, key: &str) -> bool {
        let (model, method) = key.rsplit_once('.').unwrap_or((key, ""));
        self.model.as_deref().is_none_or(|m| m == model)
            && self.method.as_deref().is_none_or(|m| m == method)
    }
}

#[derive(Debug, Clone)]
pub struct FakeOptions {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// How many demo sale orders to start with.
    pub orders: usize,
    /// Latency added to every call.
    pub latency: Duration,
    /// The Odoo major version to play: 16, 17, 18 or 19.
    pub version: u32,
    /// Serve under this path, as behind a reverse proxy (e.g. `/odoo-tls`).
    pub base_path: Option<String>,
    /// What a login (`common.authenticate`) costs on top: Odoo checks the password with
    /// PBKDF2 on every authenticate (never cached), about 0.75 s on a lab server.
    pub login_cost: Duration,
    /// Inventory (`sale_stock`) is installed: confirmed orders get deliveries.
    pub inventory: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            orders: 20,
            latency: Duration::ZERO,
            version: 19,
            base_path: None,
            login_cost: Duration::ZERO,
            inventory: false,
        }
    }
}

pub(crate) struct Shared {
    /// The Odoo major version played (16 to 19).
    pub version: u32,
    /// A reverse proxy's mount path, stripped from request paths.
    pub base_path: Option<String>,
    pub world: Mutex<World>,
    calls: Mutex<BTreeMap<String, u64>>,
    requests: AtomicU64,
    rules: Mutex<Vec<FaultRule>>,
    latency: Mutex<Duration>,
    pub login_cost: Duration,
    reject_credentials: AtomicBool,
}

impl Shared {
    fn count(&self, key: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .calls
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_default() += 1;
    }

    /// Latency to apply and the fault (other than latency) to inject for this call.
    fn take_fault(&self, key: &str) -> (Duration, Option<Fault>) {
        let mut latency = *self.latency.lock().unwrap();
        let mut fault = None;
        let mut rules = self.rules.lock().unwrap();
        for rule in rules
            .iter_mut()
            .filter(|r| r.matches(key) && r.times != Some(0))
        {
            match &rule.fault {
                Fault::Latency(d) => latency += *d,
                f if fault.is_none() => fault = Some(f.clone()),
                _ => continue,
            }
            if let Some(t) = rule.times.as_mut() {
                *t -= 1;
            }
        }
        rules.retain(|r| r.times != Some(0));
        (latency, fault)
    }

    fn rejects_credentials(&self) -> bool {
        self.reject_credentials.load(Ordering::Relaxed)
    }
}

/// A running fake Odoo; stops when dropped.
pub struct FakeOdoo {
    inner: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    runtime: tokio::runtime::Handle,
    down: tokio::sync::watch::Sender<bool>,
}

impl FakeOdoo {
    /// Starts the server on its own thread (so that it serves blocking tests and
    /// subprocesses alike).
    pub fn start(opts: FakeOptions) -> std::io::Result<FakeOdoo> {
        let listener = std::net::TcpListener::bind(opts.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        if !(16..=19).contains(&opts.version) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the fake plays Odoo 16 to 19, not {}", opts.version),
            ));
        }
        let inner = Arc::new(Shared {
            version: opts.version,
            base_path: opts.base_path.clone(),
            world: Mutex::new({
                let mut w = World::demo_of(opts.version, opts.orders);
                w.set_inventory(opts.inventory);
                w
            }),
            calls: Mutex::new(BTreeMap::new()),
            requests: AtomicU64::new(0),
            rules: Mutex::new(Vec::new()),
            latency: Mutex::new(opts.latency),
            login_cost: opts.login_cost,
            reject_credentials: AtomicBool::new(false),
        });
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (down_tx, mut down_rx) = tokio::sync::watch::channel(false);
        let served = Arc::clone(&inner);
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("fake-odoo".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let _ = handle_tx.send(rt.handle().clone());
                rt.block_on(async move {
                    let mut listener =
                        Some(tokio::net::TcpListener::from_std(listener).expect("listener"));
                    enum Event {
                        Stop,
                        Down(bool),
                        Accepted(Option<tokio::net::TcpStream>),
                    }
                    loop {
                        let event = {
                            let accept = async {
                                match listener.as_ref() {
                                    Some(l) => l.accept().await.ok().map(|(s, _)| s),
                                    None => std::future::pending().await,
                                }
                            };
                            tokio::select! {
                                _ = &mut rx => Event::Stop,
                                _ = down_rx.changed() => Event::Down(*down_rx.borrow()),
                                stream = accept => Event::Accepted(stream),
                            }
                        };
                        match event {
                            Event::Stop => break,
                            // Down: the port refuses connections, as a stopped server's does.
                            Event::Down(true) => listener = None,
                            Event::Down(false) => {
                                if listener.is_none() {
                                    listener = tokio::net::TcpListener::bind(addr).await.ok();
                                }
                            }
                            Event::Accepted(Some(stream)) => {
                                let _ = stream.set_nodelay(true);
                                tokio::spawn(http::serve(stream, Arc::clone(&served)));
                            }
                            Event::Accepted(None) => {}
                        }
                    }
                });
            })?;
        let runtime = handle_rx
            .recv()
            .map_err(|_| std::io::Error::other("the fake's runtime did not start"))?;
        Ok(FakeOdoo {
            inner,
            addr,
            stop: Some(tx),
            thread: Some(thread),
            runtime,
            down: down_tx,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Calls of `model.method` so far (`common.authenticate` for logins).
    pub fn calls(&self, model: &str, method: &str) -> u64 {
        self.inner
            .calls
            .lock()
            .unwrap()
            .get(&format!("{model}.{method}"))
            .copied()
            .unwrap_or(0)
    }

    /// Every call so far, by `model.method`.
    pub fn all_calls(&self) -> BTreeMap<String, u64> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// HTTP requests so far, of any kind.
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    pub fn reset_calls(&self) {
        self.inner.calls.lock().unwrap().clear();
        self.inner.requests.store(0, Ordering::Relaxed);
    }

    pub fn inject(&self, rule: FaultRule) {
        self.inner.rules.lock().unwrap().push(rule);
    }

    pub fn clear_faults(&self) {
        self.inner.rules.lock().unwrap().clear();
    }

    pub fn set_latency(&self, d: Duration) {
        *self.inner.latency.lock().unwrap() = d;
    }

    /// Makes every credential wrong (authenticate → False, execute_kw → Access Denied,
    /// JSON-2 → 401), as if the password or key had been changed.
    pub fn reject_credentials(&self, on: bool) {
        self.inner.reject_credentials.store(on, Ordering::Relaxed);
    }

    /// Reads or changes the data, as Odoo staff would through the web client.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        http::with_world(&self.inner, f)
    }

    /// Changes the data as Odoo staff would in the web client, with its consequences: the
    /// automation rules that the change triggers post their webhooks before this returns.
    pub fn edit<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let (out, hooks) = http::with_world(&self.inner, |w| {
            let before = w.trigger_snapshot();
            let out = f(w);
            if let Some(before) = before {
                w.fire(&before, false);
            }
            (out, w.take_webhooks())
        });
        self.runtime.block_on(async {
            for hook in &hooks {
                webhooks::post(hook).await;
            }
        });
        out
    }

    /// An outage: from now on connections are refused, until [`FakeOdoo::come_up`]; the
    /// data stays as it is.
    pub fn go_down(&self) {
        let _ = self.down.send(true);
        self.wait_until(false);
    }

    /// The end of an outage: the same port answers again.
    pub fn come_up(&self) {
        let _ = self.down.send(false);
        self.wait_until(true);
    }

    fn wait_until(&self, reachable: bool) {
        for _ in 0..200 {
            if std::net::TcpStream::connect(self.addr).is_ok() == reachable {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops listening: further connections are refused.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeOdoo {
    fn drop(&mut self) {
        self.stop();
    }
}
