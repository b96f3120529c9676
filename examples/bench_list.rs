//! Benchmark of sync on read and of logging in once, against the fake Odoo:
//!
//!     cargo build --release && cargo run --release --example bench_list
//!
//! 1. `orders list --customer 1 --limit 20` of a customer with 10,000 orders in Odoo, 20 ms
//!    per call: the first view (a pull of everything), a later view within the overlap of
//!    Odoo's last change, and a later view of a quiet Odoo.
//! 2. The first view of a customer with 100,000 orders: wall time and peak RSS.
//! 3. `sync-amounts --changed` after a burst of 26,200 changes, then while Odoo is quiet.
//! 4. The fake playing Odoo 18 with a login cost of 750 ms (its PBKDF2 check) and 20 ms per
//!    call: `sync-amounts --all` of 1,000 orders and an `orders create`, logging in on every
//!    run (as before) and with the remembered uid.

mod common;
use common::{Measure, binary};

use std::path::Path;
use std::time::Duration;

use fake_odoo::{FakeOdoo, FakeOptions};
use rust_decimal::Decimal;

/// Runs the binary against the fake on the database `db`.
fn run(bin: &Path, fake: &FakeOdoo, db: &Path, args: &[&str]) -> anyhow::Result<Measure> {
    fake.reset_calls();
    let mut cmd = common::against(bin, &fake.url());
    cmd.arg("--database").arg(db).arg("--quiet").args(args);
    let m = common::measure(cmd, fake)?;
    anyhow::ensure!(m.code == 0, "{args:?} exited {}", m.code);
    Ok(m)
}

fn row(what: &str, m: &Measure) {
    println!(
        "| {what} | {:.3} s | {:.2} s | {} | {:.1} MB |",
        m.wall.as_secs_f64(),
        m.cpu_s,
        m.round_trips,
        m.peak_rss_mb
    );
}

/// Customer 1, linked to partner 9, in a new database.
fn customer(bin: &Path, fake: &FakeOdoo, db: &Path) -> anyhow::Result<()> {
    run(
        bin,
        fake,
        db,
        &[
            "customers",
            "add",
            "--name",
            "Deco",
            "--email",
            "d@example.com",
            "--odoo-partner-id",
            "9",
        ],
    )?;
    Ok(())
}

fn views(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    println!(
        "\n`orders list --customer 1 --limit 20`, 10,000 orders of that customer in Odoo, 20 ms a call:\n"
    );
    println!(
        "| view | wall | orderbridge CPU | round trips | peak RSS |\n|---|---:|---:|---:|---:|"
    );
    let fake = FakeOdoo::start(FakeOptions {
        orders: 40_000,
        latency: Duration::from_millis(20),
        ..FakeOptions::default()
    })?;
    let db = dir.join("views.db");
    customer(bin, &fake, &db)?;
    let list = ["orders", "list", "--customer", "1", "--limit", "20"];
    let first = run(bin, &fake, &db, &list)?;
    row("first (pulls 10,000)", &first);
    let within = run(bin, &fake, &db, &list)?;
    row(
        "later, within 5 min of Odoo's last change (re-reads its 667 orders of that second)",
        &within,
    );
    fake.with_world(|w| w.set_clock(chrono::Utc::now() + chrono::TimeDelta::minutes(10)));
    run(bin, &fake, &db, &list)?;
    let quiet = run(bin, &fake, &db, &list)?;
    row("later, Odoo quiet", &quiet);
    println!(
        "\nlater / first: {:.2} (within the overlap), {:.2} (quiet)",
        within.wall.as_secs_f64() / first.wall.as_secs_f64(),
        quiet.wall.as_secs_f64() / first.wall.as_secs_f64()
    );
    Ok(())
}

fn large_first_pull(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    println!("\nThe first view of a customer with 100,000 orders (0 ms a call):\n");
    println!(
        "| view | wall | orderbridge CPU | round trips | peak RSS |\n|---|---:|---:|---:|---:|"
    );
    let fake = FakeOdoo::start(FakeOptions {
        orders: 0,
        ..FakeOptions::default()
    })?;
    fake.with_world(|w| {
        for i in 0..100_000i64 {
            w.add_order(9, Decimal::new(1000 + i % 90_000, 2));
        }
    });
    let db = dir.join("large.db");
    customer(bin, &fake, &db)?;
    let first = run(
        bin,
        &fake,
        &db,
        &["orders", "list", "--customer", "1", "--limit", "20"],
    )?;
    row("first (pulls 100,000)", &first);
    Ok(())
}

fn quiet_after_a_burst(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    println!(
        "\n`sync-amounts --changed` after a burst of 26,200 changes, then a quiet Odoo (20 ms a call):\n"
    );
    println!(
        "| run | wall | orderbridge CPU | round trips | peak RSS |\n|---|---:|---:|---:|---:|"
    );
    let fake = FakeOdoo::start(FakeOptions {
        orders: 30_000,
        latency: Duration::from_millis(20),
        ..FakeOptions::default()
    })?;
    let db = dir.join("burst.db");
    let seed = |i: i64| format!("{}.{:02}", 100 + i % 500, i % 100);
    common::seed_orders(&db, 30_000, seed)?;
    let changed = ["orders", "sync-amounts", "--changed"];
    run(bin, &fake, &db, &changed)?;
    fake.with_world(|w| {
        for id in 1..=26_200 {
            w.set_order_total(id, Decimal::new(5000 + id, 2));
        }
    });
    row("the burst", &run(bin, &fake, &db, &changed)?);
    fake.with_world(|w| w.set_clock(chrono::Utc::now() + chrono::TimeDelta::minutes(10)));
    row(
        "next run (Odoo's clock at the burst was within the overlap)",
        &run(bin, &fake, &db, &changed)?,
    );
    row(
        "every later run while Odoo is quiet",
        &run(bin, &fake, &db, &changed)?,
    );
    Ok(())
}

fn logins(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    println!("\nOdoo 18 (JSON-RPC) with a login cost of 750 ms, 20 ms a call:\n");
    println!(
        "| run | wall | orderbridge CPU | round trips | peak RSS |\n|---|---:|---:|---:|---:|"
    );
    let fake = FakeOdoo::start(FakeOptions {
        orders: 1_000,
        version: 18,
        latency: Duration::from_millis(20),
        login_cost: Duration::from_millis(750),
        ..FakeOptions::default()
    })?;
    let db = dir.join("logins.db");
    customer(bin, &fake, &db)?;
    run(bin, &fake, &db, &["orders", "list"])?;
    let forget = || -> anyhow::Result<()> {
        rusqlite::Connection::open(&db)?.execute_batch("DELETE FROM orderbridge_odoo_logins")?;
        Ok(())
    };
    let sync = ["orders", "sync-amounts", "--all"];
    forget()?;
    row(
        "`sync-amounts --all`, 1,000 orders, logging in",
        &run(bin, &fake, &db, &sync)?,
    );
    row(
        "`sync-amounts --all`, 1,000 orders, remembered uid",
        &run(bin, &fake, &db, &sync)?,
    );
    let create = |key: &str| {
        [
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "10",
            "--idempotency-key",
            key,
        ]
        .map(str::to_string)
    };
    forget()?;
    let c1 = create("bench-1");
    let c1: Vec<&str> = c1.iter().map(String::as_str).collect();
    row("`orders create`, logging in", &run(bin, &fake, &db, &c1)?);
    let c2 = create("bench-2");
    let c2: Vec<&str> = c2.iter().map(String::as_str).collect();
    row(
        "`orders create`, remembered uid",
        &run(bin, &fake, &db, &c2)?,
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    views(&bin, dir.path())?;
    large_first_pull(&bin, dir.path())?;
    quiet_after_a_burst(&bin, dir.path())?;
    logins(&bin, dir.path())?;
    Ok(())
}
