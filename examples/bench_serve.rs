//! Benchmark of `orderbridge serve` on loopback:
//!
//!     cargo build --release && cargo run --release --example bench_serve [-- --quick]
//!
//! With 100,000 local orders, it starts the real binary (`target/release/orderbridge serve
//! --poll 0`) and posts Odoo-shaped webhooks, one connection each as Odoo does:
//! 1. latency: 2,000 webhooks one after another, each an amount change answered after its
//!    local commit: median, p90, p99;
//! 2. throughput: 500 webhooks/s for 30 s (5 s with `--quick`), paced, from 8 threads,
//!    each to a different order; then every order's stored amount is checked against the
//!    last amount sent to it (no lost update), and errors are counted;
//! 3. burst: 2,000 webhooks at once (2,000 client threads released together), each to a
//!    different order: p50/p90/p99 from the release, every one applied, the server's peak
//!    thread count, and its RSS idle before, at the peak, and 3 s after.

mod common;
use common::{binary, seed_orders, spawn_serve};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_odoo::{FakeOdoo, FakeOptions, world};

const SECRET: &str = "bench-secret-0123456789abcdef";
const ORDERS: i64 = 100_000;

/// A minute from now: every delivery's stamp is newer than the fake's, and within the clock
/// skew `serve` accepts.
static BASE: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> =
    std::sync::LazyLock::new(|| chrono::Utc::now() + chrono::TimeDelta::seconds(60));

fn body(id: i64, cents: i64, micros: i64) -> String {
    let stamp = *BASE + chrono::TimeDelta::microseconds(micros);
    format!(
        r#"{{"_action": "orderbridge: post order changes(#353)", "_id": {id}, "_model": "sale.order", "amount_total": {}.{:02}, "id": {id}, "name": "S{id:05}", "partner_id": 9, "state": "draft", "write_date": "{}"}}"#,
        cents / 100,
        cents % 100,
        stamp.format("%Y-%m-%d %H:%M:%S%.6f")
    )
}

/// One POST on a fresh connection, as Odoo's `requests.post`; the status code.
fn post(addr: &str, body: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    write!(
        s,
        "POST /odoo/webhook/{SECRET} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: python-requests/2.31.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    reply
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))
}

/// `Threads:` and `VmRSS:` (kB) of a process.
fn proc_status(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("Threads:"), field("VmRSS:"))
}

/// Phase 3: 2,000 concurrent webhooks.
fn burst(addr: &str, pid: u32, db: &std::path::Path) -> anyhow::Result<()> {
    const N: i64 = 2_000;
    std::thread::sleep(Duration::from_secs(1));
    let (_, idle_rss) = proc_status(pid);
    let peak = Arc::new(Mutex::new((0u64, 0u64)));
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (peak, watching) = (Arc::clone(&peak), Arc::clone(&watching));
        std::thread::spawn(move || {
            while watching.load(Ordering::Relaxed) {
                let (t, r) = proc_status(pid);
                let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                *p = (p.0.max(t), p.1.max(r));
                drop(p);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let go = Arc::new(std::sync::Barrier::new(N as usize + 1));
    let clients: Vec<_> = (0..N)
        .map(|k| {
            let (go, addr) = (Arc::clone(&go), addr.to_string());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let b = body(50_001 + k, 40_000 + k, 9_000_000 + k);
                    go.wait();
                    let t = Instant::now();
                    let status = post(&addr, &b);
                    (t.elapsed(), status.ok())
                })
        })
        .collect::<Result<_, _>>()?;
    go.wait();
    let mut took = Vec::new();
    let mut failed = 0;
    for c in clients {
        let (d, status) = c.join().map_err(|_| anyhow::anyhow!("a client panicked"))?;
        took.push(d);
        failed += usize::from(status != Some(200));
    }
    watching.store(false, Ordering::Relaxed);
    let _ = watcher.join();
    std::thread::sleep(Duration::from_secs(3));
    let (_, after_rss) = proc_status(pid);
    took.sort();
    let conn = rusqlite::Connection::open(db)?;
    let mut st = conn.prepare("SELECT total_amount FROM sales_orders WHERE odoo_order_id = ?1")?;
    let mut applied = 0;
    for k in 0..N {
        let want = format!("{}.{:02}", (40_000 + k) / 100, (40_000 + k) % 100);
        let got: String = st.query_row([50_001 + k], |r| r.get(0))?;
        applied += usize::from(got == want);
    }
    let (threads, peak_rss) = *peak.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "serve, burst: {N} concurrent webhooks: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {applied} applied, {failed} failed; server threads at peak {threads}; RSS idle {:.1} MB, peak {:.1} MB, 3 s after {:.1} MB",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.9).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3,
        took.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        idle_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0,
        after_rss as f64 / 1024.0,
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    seed_orders(&db, ORDERS, |_| "100.00".into())?;
    let fake = FakeOdoo::start(FakeOptions {
        orders: 5,
        ..FakeOptions::default()
    })?;
    let mut serve = Command::new(&bin);
    serve
        .env_clear()
        .env("ODOO_URL", fake.url())
        .env("ODOO_DB", world::DB)
        .env("ODOO_USERNAME", world::ADMIN_LOGIN)
        .env("ODOO_PASSWORD", world::ADMIN_PASSWORD)
        .env("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)
        .args(["--quiet", "--database"])
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0", "--poll", "0"]);
    let (mut child, addr) = spawn_serve(serve)?;

    // 1. Latency, one after another.
    let mut took = Vec::new();
    for k in 0..2_000i64 {
        let id = k % ORDERS + 1;
        let started = Instant::now();
        let status = post(&addr, &body(id, 20_000 + k, k + 1))?;
        took.push(started.elapsed());
        anyhow::ensure!(status == 200, "webhook {k}: HTTP {status}");
    }
    took.sort();
    println!(
        "serve, 100k local orders, loopback: webhook answered after its commit: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms ({} sequential)",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.9).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3,
        took.len()
    );

    burst(&addr, child.id(), &db)?;

    // 2. 500/s sustained, paced, each webhook to another order (from order 10,001 on).
    let seconds: i64 = if quick { 5 } else { 30 };
    let total = 500 * seconds;
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let start = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (next, errors, slowest, addr) = (
                Arc::clone(&next),
                Arc::clone(&errors),
                Arc::clone(&slowest),
                addr.clone(),
            );
            std::thread::spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed) as i64;
                    if k >= total {
                        break;
                    }
                    // Webhook k leaves at k × 2 ms.
                    let due = start + Duration::from_millis(2 * k as u64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    let id = 10_001 + k;
                    match post(&addr, &body(id, 30_000 + k, 5_000_000 + k)) {
                        Ok(200) => {}
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let d = t.elapsed();
                    let mut s = slowest.lock().unwrap_or_else(|e| e.into_inner());
                    *s = (*s).max(d);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let wall = start.elapsed();
    let conn = rusqlite::Connection::open(&db)?;
    let mut lost = 0;
    let mut st = conn.prepare("SELECT total_amount FROM sales_orders WHERE odoo_order_id = ?1")?;
    for k in 0..total {
        let want = format!("{}.{:02}", (30_000 + k) / 100, (30_000 + k) % 100);
        let got: String = st.query_row([10_001 + k], |r| r.get(0))?;
        lost += usize::from(got != want);
    }
    println!(
        "serve, sustained: {total} webhooks in {:.1} s ({:.0}/s offered 500/s), {} errors, {lost} lost updates, slowest answer {:.1} ms",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        errors.load(Ordering::Relaxed),
        slowest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_secs_f64()
            * 1e3
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait()?;
    println!("serve stopped on SIGTERM with {status}");
    Ok(())
}
