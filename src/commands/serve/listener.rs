//! `serve`'s accept loop, built so that no client can take the service down:
//! - a request's headers must arrive within the read timeout, and an idle keep-alive
//!   connection is closed after it (hyper's header timeout covers both); a body must arrive
//!   within it too (the handlers read it with [`read_body`]);
//! - at most `limit` connections are open, the limit sized to leave file descriptors for
//!   the store, the poll and Odoo. At the limit, the connection idle the longest (no request
//!   under way for at least [`EVICTABLE_AFTER`]) is closed to make room — shedding, said
//!   once in the log and counted in `/metrics`; when every connection is busy, new ones wait
//!   in the listen backlog;
//! - a stop closes the port, lets the requests under way finish, and cuts what is still
//!   open at the deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// A connection with no request under way for this long may be closed to make room.
const EVICTABLE_AFTER: Duration = Duration::from_millis(500);
/// File descriptors kept for everything but connections: the store's files or sockets,
/// the poll's, Odoo's connections, the log, the lock files.
const RESERVED_FDS: u64 = 64;
/// The listen backlog: a burst waits there, not in SYN retries.
const BACKLOG: u32 = 4096;

/// How the server treats its clients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// For a request's headers, for its body, and for an idle connection.
    pub read_timeout: Duration,
    /// The most open connections asked for; the open-file limit may lower it.
    pub max_connections: usize,
    /// How long a stop waits for the work under way.
    pub stop_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            stop_timeout: Duration::from_secs(20),
        }
    }
}

struct Slot {
    /// When it last started or finished something (accepted, a request answered).
    since: Mutex<Instant>,
    /// Requests under way on it.
    busy: AtomicU32,
    evict: Notify,
}

/// The open connections.
pub(super) struct Conns {
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
    next: AtomicU64,
    ended: Notify,
    pub limit: usize,
    /// The most open at once since memory was last given back.
    high: std::sync::atomic::AtomicUsize,
    shed: AtomicU64,
    /// When shedding began, while it goes on (it ends a minute after the last shed).
    shedding_since: Mutex<Option<(Instant, Instant, u64)>>,
}

impl Conns {
    pub(super) fn new(limit: usize) -> Conns {
        Conns {
            slots: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            ended: Notify::new(),
            limit,
            high: std::sync::atomic::AtomicUsize::new(0),
            shed: AtomicU64::new(0),
            shedding_since: Mutex::new(None),
        }
    }

    pub(super) fn open(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(super) fn shed_total(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    pub(super) fn shedding(&self) -> bool {
        self.shedding_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    fn add(&self) -> (u64, Arc<Slot>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            since: Mutex::new(Instant::now()),
            busy: AtomicU32::new(0),
            evict: Notify::new(),
        });
        let open = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.insert(id, Arc::clone(&slot));
            slots.len()
        };
        self.high.fetch_max(open, Ordering::Relaxed);
        (id, slot)
    }

    fn remove(&self, id: u64) {
        let open = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.remove(&id);
            slots.len()
        };
        self.ended.notify_waiters();
        // A burst is over: give the allocator's free memory back to the system, so that
        // the process returns to its idle size instead of keeping its peak.
        let high = self.high.load(Ordering::Relaxed);
        if high >= 64 && open <= high / 8 {
            self.high.store(open, Ordering::Relaxed);
            tokio::task::spawn_blocking(give_back_memory);
        }
    }

    /// Closes the connection idle the longest, if one has been idle long enough.
    fn evict_one(&self) -> bool {
        let victim = {
            let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .values()
                .filter(|s| s.busy.load(Ordering::Relaxed) == 0)
                .map(|s| (*s.since.lock().unwrap_or_else(|e| e.into_inner()), s))
                .filter(|(since, _)| since.elapsed() >= EVICTABLE_AFTER)
                .min_by_key(|(since, _)| *since)
                .map(|(_, s)| Arc::clone(s))
        };
        let Some(victim) = victim else {
            return false;
        };
        victim.evict.notify_one();
        let total = self.shed.fetch_add(1, Ordering::Relaxed) + 1;
        let mut shedding = self
            .shedding_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match shedding.as_mut() {
            Some((_, last, _)) => *last = Instant::now(),
            None => {
                tracing::warn!(
                    open = self.open(),
                    limit = self.limit,
                    "Shedding connections: at the limit, the longest-idle connections are closed to make room (idle or slow clients?); said once until it stops"
                );
                *shedding = Some((Instant::now(), Instant::now(), total - 1));
            }
        }
        true
    }

    /// Says that shedding stopped, a minute after the last shed.
    pub(super) fn tick(&self) {
        let mut shedding = self
            .shedding_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((began, last, before)) = *shedding
            && last.elapsed() >= Duration::from_secs(60)
        {
            tracing::info!(
                closed = self.shed_total() - before,
                lasted_s = began.elapsed().as_secs().saturating_sub(60),
                "Stopped shedding connections"
            );
            *shedding = None;
        }
    }
}

fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The soft open-file limit, raised to the hard one first (as Go's runtime does): the
/// connection limit comes from it.
pub(super) fn open_file_limit() -> u64 {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the struct given, nothing else.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
                return 1024;
            }
            if r.rlim_cur < r.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: r.rlim_max.min(1 << 20),
                    rlim_max: r.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    r = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let limit = r.rlim_cur as u64;
        limit
    }
    #[cfg(not(unix))]
    {
        1024
    }
}

/// The connection limit: the one asked for, lowered to what the open-file limit allows.
pub(super) fn connection_limit(asked: usize) -> usize {
    let fds = open_file_limit();
    let room = fds.saturating_sub(RESERVED_FDS).max(8);
    asked
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

/// Binds with a deep backlog.
pub(super) fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// What a stop left undone.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Stopped {
    /// Connections still open at the deadline, closed without an answer.
    pub cut: u64,
}

/// How a request reached the server: its handlers trust a unix socket's caller (the file's
/// permissions let it in) and ask a TCP caller for the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Tcp,
    Unix,
}

/// A listening socket the accept loop takes connections from.
pub(super) trait Acceptor: Send + 'static {
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    const VIA: Via;
    fn accept(&self) -> impl Future<Output = std::io::Result<Self::Io>> + Send;
}

impl Acceptor for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    const VIA: Via = Via::Tcp;
    async fn accept(&self) -> std::io::Result<Self::Io> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

#[cfg(unix)]
impl Acceptor for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    const VIA: Via = Via::Unix;
    async fn accept(&self) -> std::io::Result<Self::Io> {
        Ok(tokio::net::UnixListener::accept(self).await?.0)
    }
}

/// Binds the API's unix socket, 0660: a socket file left by a server that is gone is
/// replaced; one a live server answers on is refused.
#[cfg(unix)]
pub(super) fn bind_unix(path: &std::path::Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another server answers on it",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves `router` until `stop` turns true; then closes the port and waits up to
/// `stop_timeout` for the connections under way.
pub(super) async fn serve<A: Acceptor>(
    listener: A,
    router: Router,
    conns: Arc<Conns>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> Stopped {
    let mut tasks: JoinSet<()> = JoinSet::new();
    let (closing_tx, closing) = watch::channel(false);
    loop {
        while tasks.try_join_next().is_some() {}
        // At the limit: make room, or wait for a connection to end.
        while conns.open() >= conns.limit {
            if !conns.evict_one() {
                let ended = conns.ended.notified();
                tokio::select! {
                    () = ended => {}
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            } else {
                tokio::select! {
                    () = conns.ended.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
            if *stop.borrow() {
                break;
            }
        }
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        match accepted {
            Ok(stream) => {
                let (id, slot) = conns.add();
                let conns = Arc::clone(&conns);
                let router = router.clone();
                let closing = closing.clone();
                tasks.spawn(async move {
                    connection(stream, A::VIA, router, &slot, limits, closing).await;
                    conns.remove(id);
                });
            }
            Err(e) => {
                // Out of file descriptors (other work holds them): make room, then go on.
                let fds = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
                if fds {
                    conns.evict_one();
                } else {
                    tracing::debug!(error = %e, "accept failed");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let all_done = async { while tasks.join_next().await.is_some() {} };
    let mut stopped = Stopped::default();
    if tokio::time::timeout(limits.stop_timeout, all_done)
        .await
        .is_err()
    {
        stopped.cut = tasks.len() as u64;
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    stopped
}

async fn connection<S>(
    stream: S,
    via: Via,
    router: Router,
    slot: &Arc<Slot>,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let inner = TowerToHyperService::new(router);
    let busy = Arc::clone(slot);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(via);
        busy.busy.fetch_add(1, Ordering::Relaxed);
        let call = hyper::service::Service::call(&inner, req);
        let busy = Arc::clone(&busy);
        async move {
            let answer = call.await;
            *busy.since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            busy.busy.fetch_sub(1, Ordering::Relaxed);
            answer
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut shutting = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = slot.evict.notified() => return,
            _ = closing.wait_for(|c| *c), if !shutting => {
                // No request under way (idle, or headers half sent): closed now; one under
                // way: answered, then closed.
                if slot.busy.load(Ordering::Relaxed) == 0 {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                shutting = true;
            }
        }
    }
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyRefused {
    /// Larger than the limit: 413.
    TooLarge,
    /// Not all there within the read timeout: 408.
    TooSlow,
    /// The client broke off: nobody is left to answer.
    Broken,
}

/// Reads a request's body: at most `limit` bytes, within `timeout`. A declared length over
/// the limit is refused before a byte of the body is read.
pub(super) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyRefused> {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(body, limit);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyRefused::TooLarge),
        Ok(Err(_)) => Err(BodyRefused::Broken),
        Err(_) => Err(BodyRefused::TooSlow),
    }
}
