//! Benchmark of `orders sync-amounts` against the fake Odoo:
//!
//!     cargo build --release && cargo run --release --example bench_sync
//!
//! For 1k, 10k and 100k orders and 0 ms / 20 ms of latency per call, it seeds a local
//! database, runs the real binary (`target/release/orderbridge`) and prints wall time, round
//! trips and the binary's peak RSS (VmHWM, sampled every 5 ms). Then it sweeps `--concurrency` at 20 ms.
//! `--quick` runs only the 1k and 10k sizes; `--changed-only` only the `--changed` against
//! `--all` comparison at 100k; `--lines` only the whole order against amounts only: 10k
//! orders of 3 lines each (Odoo 19 with Inventory), `--all` with its lines, delivery and
//! invoicing read against `ORDERBRIDGE_ORDER_DETAILS=false`.

mod common;
use common::{Measure, binary, seed_orders};

use std::path::Path;
use std::time::Duration;

use fake_odoo::{FakeOdoo, FakeOptions};

/// `n` orders; a third differ from Odoo, the rest start at some other amount too: all get
/// compared.
fn seed(db: &Path, n: usize) -> anyhow::Result<()> {
    seed_orders(db, n as i64, |i| {
        format!("{}.{:02}", 100 + i % 500, i % 100)
    })
}

/// Runs the binary's `orders sync-amounts` with `extra`, amounts only (as README's first
/// tables), sampling its peak RSS until it exits.
fn run(bin: &Path, fake: &FakeOdoo, db: &Path, extra: &[&str]) -> anyhow::Result<Measure> {
    run_with(bin, fake, db, extra, false)
}

fn run_with(
    bin: &Path,
    fake: &FakeOdoo,
    db: &Path,
    extra: &[&str],
    details: bool,
) -> anyhow::Result<Measure> {
    let mut cmd = common::against(bin, &fake.url());
    if !details {
        cmd.env("ORDERBRIDGE_ORDER_DETAILS", "false");
    }
    cmd.arg("--database")
        .arg(db)
        .args(["--quiet", "orders", "sync-amounts"])
        .args(extra);
    common::measure(cmd, fake)
}

/// `--changed` against `--all` on the same data: `n` local orders, of which 100 changed in
/// Odoo since the last run.
fn incremental(bin: &Path, dir: &Path, n: usize) -> anyhow::Result<()> {
    println!("\n--changed against --all, {n} local orders of which 100 changed in Odoo:\n");
    println!(
        "| latency | --changed | round trips | --all | round trips | speed-up | peak RSS (--changed) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for latency in [0u64, 20] {
        let fake = FakeOdoo::start(FakeOptions {
            orders: n,
            ..FakeOptions::default()
        })?;
        // Changes spread over the past days, one a second, none in the last hour (the demo
        // stamps a sixtieth of its orders "now", which no real history does).
        fake.with_world(|w| {
            let base = chrono::Utc::now() - chrono::Duration::hours(30);
            for o in w.orders.values_mut() {
                o.write_date = base + chrono::Duration::seconds(o.id);
            }
        });
        let db = dir.join(format!("bench-changed-{latency}.db"));
        let _ = std::fs::remove_file(&db);
        seed(&db, n)?;
        fake.set_latency(Duration::from_millis(latency));
        // The first --changed run is a full sync that sets the cursor.
        anyhow::ensure!(run(bin, &fake, &db, &["--changed"])?.code == 0);
        let step = (n / 100).max(1) as i64;
        fake.with_world(|w| {
            for i in 1..=100i64 {
                w.set_order_total(i * step, rust_decimal::Decimal::new(12_345 + i, 2));
            }
        });
        fake.reset_calls();
        let changed = run(bin, &fake, &db, &["--changed"])?;
        anyhow::ensure!(changed.code == 0, "--changed exited {}", changed.code);
        fake.reset_calls();
        let all = run(bin, &fake, &db, &["--all"])?;
        println!(
            "| {latency} ms | {:.3} s | {} | {:.2} s | {} | {:.0}x | {:.1} MB |",
            changed.wall.as_secs_f64(),
            changed.round_trips,
            all.wall.as_secs_f64(),
            all.round_trips,
            all.wall.as_secs_f64() / changed.wall.as_secs_f64(),
            changed.peak_rss_mb
        );
    }
    Ok(())
}

/// The whole order against amounts only: `n` orders of 3 lines each, `--all`, each run on a
/// fresh copy of the store (median of 3).
fn lines(bin: &Path, dir: &Path, n: usize) -> anyhow::Result<()> {
    println!("\n`--all` over {n} orders of 3 lines each (Odoo 19 with Inventory), median of 3:\n");
    println!("| latency | amounts only | round trips | whole order | round trips | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let fake = FakeOdoo::start(FakeOptions {
        orders: n,
        inventory: true,
        ..FakeOptions::default()
    })?;
    fake.with_world(|w| {
        for id in w.order_ids() {
            w.add_line(id, 5, rust_decimal::Decimal::from(2));
            w.add_line(id, 6, rust_decimal::Decimal::from(1));
        }
    });
    for latency in [0u64, 20] {
        fake.set_latency(Duration::from_millis(latency));
        let median = |details: bool| -> anyhow::Result<Measure> {
            let mut runs = Vec::new();
            for i in 0..3 {
                let db = dir.join(format!("bench-lines-{latency}-{details}-{i}.db"));
                let _ = std::fs::remove_file(&db);
                seed(&db, n)?;
                fake.reset_calls();
                let m = run_with(bin, &fake, &db, &["--all"], details)?;
                anyhow::ensure!(m.code == 0, "sync-amounts exited {}", m.code);
                runs.push(m);
            }
            runs.sort_by_key(|m| m.wall);
            Ok(runs.swap_remove(1))
        };
        let amounts = median(false)?;
        let whole = median(true)?;
        if std::env::var("BENCH_AGAIN").is_ok() {
            let db = dir.join(format!("bench-lines-{latency}-true-0.db"));
            let again = run_with(bin, &fake, &db, &["--all"], true)?;
            println!(
                "(again, nothing changed: {:.3} s)",
                again.wall.as_secs_f64()
            );
        }
        println!(
            "| {latency} ms | {:.3} s | {} | {:.3} s | {} | {:.2}x |",
            amounts.wall.as_secs_f64(),
            amounts.round_trips,
            whole.wall.as_secs_f64(),
            whole.round_trips,
            whole.wall.as_secs_f64() / amounts.wall.as_secs_f64()
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let bin = binary()?;
    let dir = std::env::temp_dir().join(format!("orderbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if std::env::args().any(|a| a == "--lines") {
        lines(&bin, &dir, 10_000)?;
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    if std::env::args().any(|a| a == "--changed-only") {
        incremental(&bin, &dir, 100_000)?;
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let sizes: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    println!("| orders | latency | wall time | round trips | peak RSS |");
    println!("|---:|---:|---:|---:|---:|");
    for &n in sizes {
        let fake = FakeOdoo::start(FakeOptions {
            orders: n,
            ..FakeOptions::default()
        })?;
        for latency in [0u64, 20] {
            let db = dir.join(format!("bench-{n}-{latency}.db"));
            let _ = std::fs::remove_file(&db);
            seed(&db, n)?;
            fake.set_latency(Duration::from_millis(latency));
            fake.reset_calls();
            let m = run(&bin, &fake, &db, &["--all"])?;
            anyhow::ensure!(m.code == 0, "sync-amounts exited {}", m.code);
            println!(
                "| {n} | {latency} ms | {:.2} s | {} | {:.1} MB |",
                m.wall.as_secs_f64(),
                m.round_trips,
                m.peak_rss_mb
            );
        }
    }
    let n = if quick { 10_000 } else { 100_000 };
    println!("\n--concurrency at 20 ms latency, {n} orders (batch 1000):\n");
    println!("| concurrency | wall time |");
    println!("|---:|---:|");
    let fake = FakeOdoo::start(FakeOptions {
        orders: n,
        latency: Duration::from_millis(20),
        ..FakeOptions::default()
    })?;
    for k in [1, 2, 4, 8] {
        let db = dir.join(format!("bench-k{k}.db"));
        let _ = std::fs::remove_file(&db);
        seed(&db, n)?;
        fake.reset_calls();
        let m = run(
            &bin,
            &fake,
            &db,
            &["--all", "--concurrency", &k.to_string()],
        )?;
        println!("| {k} | {:.2} s |", m.wall.as_secs_f64());
    }
    incremental(&bin, &dir, n)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
