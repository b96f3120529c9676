//! Benchmark of `serve`'s order API against the fake Odoo at 20 ms latency:
//!
//!     cargo build --release && cargo run --release --example bench_api [-- --quick]
//!
//! 1. Odoo's own create: a `web_save` sent straight to the fake (what no client can beat);
//! 2. a checkout through a CLI process (`orderbridge orders create`, a process each) and
//!    through the API (`POST /v1/orders`), one after another: p50 and what each added over
//!    Odoo's own create, Odoo requests and logins per checkout;
//! 3. 200 concurrent checkouts with distinct keys: p50/p99 from their release, each key one
//!    Odoo order;
//! 4. 50 concurrent checkouts with one key: how many Odoo orders (one);
//! 5. event delivery lag: an Odoo webhook to `serve`, until the portal receives the signed
//!    `order.amount_changed`: p50.

mod common;
use common::{against, binary, spawn_serve};

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_odoo::{FakeOdoo, FakeOptions, world};

const SECRET: &str = "bench-secret-0123456789abcdef";
const TOKEN: &str = "bench-token-0123456789abcdefgh";
const ORDER: &str = r#"{"customer_id": 1, "amount": "230.00", "currency": "USD", "lines": [{"product_id": 5, "quantity": 2, "price_unit": "100.00"}]}"#;

fn percentile(v: &[Duration], p: f64) -> Duration {
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One HTTP/1.1 request on a fresh connection: status and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    let status = reply.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn checkout(addr: &str, key: &str) -> std::io::Result<(u16, String)> {
    http(
        addr,
        "POST",
        "/v1/orders",
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Idempotency-Key", key),
        ],
        ORDER,
    )
}

fn odoo_orders_with(fake: &FakeOdoo, key: &str) -> usize {
    fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref() == Some(key))
            .count()
    })
}

/// Events received: `(type, odoo id, arrival)`.
type Arrivals = Arc<Mutex<Vec<(String, i64, Instant)>>>;

/// A portal receiving events: the arrival time of each `(type, odoo id)`.
fn portal() -> anyhow::Result<(String, Arrivals)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/events", listener.local_addr()?);
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            let at = Instant::now();
            if let Ok(e) = serde_json::from_slice::<serde_json::Value>(&body) {
                let kind = e["type"].as_str().unwrap_or_default().to_string();
                let id = e["order"]["odoo_order_id"].as_i64().unwrap_or_default();
                if let Ok(mut g) = seen.lock() {
                    g.push((kind, id, at));
                }
            }
            let mut s = r.into_inner();
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    Ok((url, got))
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let fake = FakeOdoo::start(FakeOptions::default())?;
    let run = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(against(&bin, &fake.url())
            .arg("--quiet")
            .arg("--database")
            .arg(&db)
            .args(args)
            .output()?)
    };
    anyhow::ensure!(run(&["db", "migrate"])?.status.success(), "db migrate");
    let added = run(&[
        "customers",
        "add",
        "--name",
        "Deco",
        "--email",
        "deco@example.com",
        "--odoo-partner-id",
        "9",
    ])?;
    anyhow::ensure!(added.status.success(), "customers add");
    fake.set_latency(Duration::from_millis(20));

    // 1. Odoo's own create, straight to the fake.
    let n = if quick { 20 } else { 100 };
    let mut own = Vec::new();
    for i in 0..n {
        let body = serde_json::json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw", "args": [world::DB, world::ADMIN_UID, world::ADMIN_PASSWORD,
            "sale.order", "web_save", [[], {"partner_id": 9, "origin": format!("own-{i}"),
              "order_line": [[0, 0, {"product_id": 5, "product_uom_qty": 2, "price_unit": 100.0}]]}],
            {"specification": {"name": {}, "amount_total": {}, "state": {}}}]}}).to_string();
        let started = Instant::now();
        let (status, _) = http(&fake.addr().to_string(), "POST", "/jsonrpc", &[], &body)?;
        own.push(started.elapsed());
        anyhow::ensure!(status == 200, "fake: HTTP {status}");
    }
    own.sort();
    let own_p50 = percentile(&own, 0.5);
    println!(
        "Odoo's own create (web_save straight to the fake, 20 ms latency): p50 {:.1} ms",
        ms(own_p50)
    );

    // 2a. A CLI process per checkout.
    let cli_n = if quick { 10 } else { 30 };
    let before = (fake.requests(), fake.calls("common", "authenticate"));
    let mut cli = Vec::new();
    for i in 0..cli_n {
        let started = Instant::now();
        let out = run(&[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "230",
            "--line",
            "5:2:100",
            "--idempotency-key",
            &format!("cli-{i}"),
        ])?;
        cli.push(started.elapsed());
        anyhow::ensure!(
            out.status.success(),
            "orders create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    cli.sort();
    let cli_requests = (fake.requests() - before.0) as f64 / cli_n as f64;
    let cli_logins = (fake.calls("common", "authenticate") - before.1) as f64 / cli_n as f64;

    // 2b. The API.
    let (portal_url, events) = portal()?;
    let mut serve = against(&bin, &fake.url());
    serve
        .env("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)
        .env("ORDERBRIDGE_API_TOKEN", TOKEN)
        .env("ORDERBRIDGE_PORTAL_WEBHOOK_URL", &portal_url)
        .env("ORDERBRIDGE_PORTAL_WEBHOOK_SECRET", SECRET)
        .args(["--quiet", "--database"])
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0", "--poll", "0"]);
    let (mut child, addr) = spawn_serve(serve)?;
    anyhow::ensure!(checkout(&addr, "warm")?.0 == 201, "warm-up checkout");
    let before = (fake.requests(), fake.calls("common", "authenticate"));
    let mut api = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let (status, body) = checkout(&addr, &format!("api-{i}"))?;
        api.push(started.elapsed());
        anyhow::ensure!(status == 201, "checkout {i}: HTTP {status} {body}");
    }
    api.sort();
    let api_requests = (fake.requests() - before.0) as f64 / n as f64;
    let api_logins = fake.calls("common", "authenticate") - before.1;
    println!(
        "checkout through a CLI process: p50 {:.1} ms (+{:.1} ms over Odoo's create), {cli_requests:.1} Odoo requests and {cli_logins:.1} logins each ({cli_n} runs)",
        ms(percentile(&cli, 0.5)),
        ms(percentile(&cli, 0.5)) - ms(own_p50)
    );
    println!(
        "checkout through the API: p50 {:.1} ms (+{:.1} ms over Odoo's create), p99 {:.1} ms, {api_requests:.2} Odoo requests each, {api_logins} logins in {n}",
        ms(percentile(&api, 0.5)),
        ms(percentile(&api, 0.5)) - ms(own_p50),
        ms(percentile(&api, 0.99)),
    );

    // 3. 200 concurrent, distinct keys.
    let gate = Arc::new(std::sync::Barrier::new(200));
    let handles: Vec<_> = (0..200)
        .map(|i| {
            let (addr, gate) = (addr.clone(), Arc::clone(&gate));
            std::thread::spawn(move || {
                gate.wait();
                let started = Instant::now();
                let r = checkout(&addr, &format!("burst-{i}"));
                (started.elapsed(), r.map(|(s, _)| s).unwrap_or(0))
            })
        })
        .collect();
    let mut burst: Vec<Duration> = Vec::new();
    let mut failed = 0;
    for h in handles {
        let (took, status) = h.join().map_err(|_| anyhow::anyhow!("thread"))?;
        burst.push(took);
        failed += usize::from(status != 201);
    }
    burst.sort();
    let once = (0..200)
        .filter(|i| odoo_orders_with(&fake, &format!("burst-{i}")) == 1)
        .count();
    println!(
        "200 concurrent checkouts, distinct keys: p50 {:.0} ms, p99 {:.0} ms; {once}/200 keys with exactly one Odoo order, {failed} not 201",
        ms(percentile(&burst, 0.5)),
        ms(percentile(&burst, 0.99))
    );

    // 4. 50 concurrent, one key.
    let gate = Arc::new(std::sync::Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (addr, gate) = (addr.clone(), Arc::clone(&gate));
            std::thread::spawn(move || {
                gate.wait();
                checkout(&addr, "same-key").map(|(s, _)| s).unwrap_or(0)
            })
        })
        .collect();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for h in handles {
        *statuses
            .entry(h.join().map_err(|_| anyhow::anyhow!("thread"))?)
            .or_default() += 1;
    }
    println!(
        "50 concurrent checkouts, one key: {} Odoo order(s); answers {statuses:?}",
        odoo_orders_with(&fake, "same-key")
    );

    // 5. Event lag after an Odoo webhook.
    std::thread::sleep(Duration::from_secs(1));
    // Orders the API made: stored locally, so a webhook changes them.
    let local: Vec<i64> = fake.with_world(|w| {
        w.orders
            .iter()
            .filter(|(_, o)| o.origin.as_deref().is_some_and(|k| k.starts_with("api-")))
            .map(|(id, _)| *id)
            .collect()
    });
    let stamp = chrono::Utc::now() + chrono::TimeDelta::seconds(60);
    let mut lags = Vec::new();
    for (k, id) in local.iter().take(if quick { 10 } else { 40 }).enumerate() {
        let body = format!(
            r#"{{"_action": "orderbridge(#353)", "_id": {id}, "_model": "sale.order", "amount_total": {}.00, "id": {id}, "name": "S{id:05}", "partner_id": 9, "state": "draft", "write_date": "{}"}}"#,
            300 + k,
            (stamp + chrono::TimeDelta::microseconds(k as i64 + 1)).format("%Y-%m-%d %H:%M:%S%.6f")
        );
        let sent = Instant::now();
        let (status, _) = http(
            &addr,
            "POST",
            &format!("/odoo/webhook/{SECRET}"),
            &[],
            &body,
        )?;
        anyhow::ensure!(status == 200, "webhook: HTTP {status}");
        let until = sent + Duration::from_secs(10);
        loop {
            let arrived = events
                .lock()
                .map_err(|_| anyhow::anyhow!("lock"))?
                .iter()
                .find(|(kind, oid, at)| kind == "order.amount_changed" && oid == id && *at >= sent)
                .map(|(_, _, at)| *at);
            if let Some(at) = arrived {
                lags.push(at - sent);
                break;
            }
            anyhow::ensure!(Instant::now() < until, "no event for order {id}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    lags.sort();
    println!(
        "event delivery after an Odoo webhook: p50 {:.1} ms, p99 {:.1} ms ({} webhooks)",
        ms(percentile(&lags, 0.5)),
        ms(percentile(&lags, 0.99)),
        lags.len()
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    Ok(())
}
