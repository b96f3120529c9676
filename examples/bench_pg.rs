//! Benchmark of the PostgreSQL store against SQLite, with the fake Odoo:
//!
//!     cargo build --release && cargo run --release --example bench_pg
//!
//! It starts a throwaway PostgreSQL server (as the tests do; `initdb` must be installed).
//! 1. `orders sync-amounts --all` over 100,000 orders at 20 ms a call, on a SQLite file and
//!    on a PostgreSQL copy of it (`db copy`), three runs each on fresh copies: wall time
//!    (median) and round trips.
//! 2. 8 processes (8 "hosts") running 1,000 `orders create` between them, 800 keys of which
//!    200 are sent twice by different hosts at about the same time: Odoo orders made (must
//!    be 800), errors, wall time.

mod common;
// The tests' server harness: a failure to start it ends the benchmark with its message.
#[allow(clippy::unwrap_used)]
#[path = "../tests/it/pg_server.rs"]
mod pg_server;

use common::{binary, seed_orders};

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_odoo::{FakeOdoo, FakeOptions};

fn command(bin: &Path, fake: &FakeOdoo, database: &str) -> Command {
    let mut c = common::against(bin, &fake.url());
    c.arg("--database").arg(database).arg("--quiet");
    c
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn sync_all(bin: &Path, fake: &FakeOdoo, database: &str) -> anyhow::Result<(Duration, u64)> {
    fake.reset_calls();
    let started = Instant::now();
    let out = command(bin, fake, database)
        .args(["orders", "sync-amounts", "--all"])
        .output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "sync on {database}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((wall, fake.requests()))
}

fn sync_comparison(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    let n = 100_000;
    let fake = FakeOdoo::start(FakeOptions {
        orders: n,
        ..FakeOptions::default()
    })?;
    let seeded = dir.join("seed.db");
    seed_orders(&seeded, n as i64, |i| {
        format!("{}.{:02}", 100 + i % 500, i % 100)
    })?;
    let server = pg_server::server();
    let (mut lite, mut pg) = (Vec::new(), Vec::new());
    let (mut lite_rt, mut pg_rt) = (0, 0);
    let mut copy_times = Vec::new();
    for run in 0..3 {
        let file = dir.join(format!("run-{run}.db"));
        std::fs::copy(&seeded, &file)?;
        let url = server.fresh_database();
        let started = Instant::now();
        let out = command(bin, &fake, seeded.to_str().unwrap_or_default())
            .args(["db", "copy", "--to", &url])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "db copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        copy_times.push(started.elapsed());
        fake.set_latency(Duration::from_millis(20));
        let (w, rt) = sync_all(bin, &fake, file.to_str().unwrap_or_default())?;
        lite.push(w);
        lite_rt = rt;
        let (w, rt) = sync_all(bin, &fake, &url)?;
        pg.push(w);
        pg_rt = rt;
        fake.set_latency(Duration::ZERO);
        // The fake's amounts were not changed by the syncs: every run does the same work.
    }
    let (lite, pg) = (median(lite), median(pg));
    println!("sync-amounts --all, {n} orders, 20 ms a call (median of 3)");
    println!("| store | wall time | round trips |");
    println!("|---|---|---|");
    println!("| SQLite | {:.2} s | {lite_rt} |", lite.as_secs_f64());
    println!("| PostgreSQL | {:.2} s | {pg_rt} |", pg.as_secs_f64());
    println!(
        "PostgreSQL / SQLite: {:.2}x; db copy of the {n} orders: {:.2} s (median)",
        pg.as_secs_f64() / lite.as_secs_f64(),
        median(copy_times).as_secs_f64()
    );
    Ok(())
}

fn racing_creates(bin: &Path) -> anyhow::Result<()> {
    let fake = FakeOdoo::start(FakeOptions::default())?;
    let url = pg_server::server().fresh_database();
    let out = command(bin, &fake, &url)
        .args([
            "customers",
            "add",
            "--name",
            "Deco",
            "--email",
            "deco@example.com",
            "--odoo-partner-id",
            "9",
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 800 keys; keys 0..200 are also sent by the next host, at the same point of its list.
    let hosts = 8;
    let mut lists: Vec<Vec<String>> = vec![Vec::new(); hosts];
    for k in 0..800 {
        lists[k % hosts].push(format!("bench-{k}"));
    }
    for k in 0..200 {
        lists[(k + 1) % hosts].insert(k / hosts, format!("bench-{k}"));
    }
    let started = Instant::now();
    let workers: Vec<_> = lists
        .into_iter()
        .enumerate()
        .map(|(h, keys)| {
            let (bin, fake_url, url) = (bin.to_path_buf(), fake.url(), url.clone());
            std::thread::spawn(move || {
                let (mut ok, mut errors) = (0, Vec::new());
                for key in keys {
                    let out = common::against(&bin, &fake_url)
                        .env("ORDERBRIDGE_HOST_ID", format!("web-{h}"))
                        .args(["--database", &url, "--quiet", "orders", "create"])
                        .args(["--customer", "1", "--amount", "10", "--idempotency-key"])
                        .arg(&key)
                        .output();
                    match out {
                        Ok(o) if o.status.success() => ok += 1,
                        Ok(o) => errors.push(format!(
                            "{key}: exit {:?}: {}",
                            o.status.code(),
                            String::from_utf8_lossy(&o.stderr).trim()
                        )),
                        Err(e) => errors.push(format!("{key}: {e}")),
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let (mut ok, mut errors) = (0, Vec::new());
    for w in workers {
        let (o, e) = w.join().map_err(|_| anyhow::anyhow!("a worker panicked"))?;
        ok += o;
        errors.extend(e);
    }
    let wall = started.elapsed();
    let made = fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref().is_some_and(|k| k.starts_with("bench-")))
            .count()
    });
    println!(
        "\n8 hosts, 1000 creates, 800 keys (200 sent twice): {made} Odoo orders, {ok} commands answered with the order, {} errors, {:.2} s",
        errors.len(),
        wall.as_secs_f64()
    );
    for e in errors.iter().take(5) {
        println!("  {e}");
    }
    anyhow::ensure!(made == 800, "expected exactly 800 Odoo orders, got {made}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    let only_creates = std::env::args().any(|a| a == "--creates-only");
    if !only_creates {
        sync_comparison(&bin, dir.path())?;
    }
    racing_creates(&bin)
}
