//! The three stores side by side, with the fake Odoo:
//!
//!     cargo build --release && cargo run --release --example bench_stores
//!
//! `orders sync-amounts --all` over 10,000 orders at 20 ms a call, on a SQLite file, a
//! PostgreSQL database and a MariaDB database (throwaway servers, as the tests start them),
//! each seeded with the same orders: wall time (median of 3) and round trips.

mod common;
// The tests' server harnesses: a failure to start one ends the benchmark with its message.
#[allow(clippy::unwrap_used, dead_code)]
#[path = "../tests/it/my_server.rs"]
mod my_server;
#[allow(clippy::unwrap_used)]
#[path = "../tests/it/pg_server.rs"]
mod pg_server;

use common::binary;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_odoo::{FakeOdoo, FakeOptions};
use mysql::prelude::Queryable;

const N: i64 = 10_000;

fn command(bin: &Path, fake: &FakeOdoo, database: &str) -> Command {
    let mut c = common::against(bin, &fake.url());
    c.arg("--database").arg(database).arg("--quiet");
    c
}

fn run(bin: &Path, fake: &FakeOdoo, database: &str, args: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = command(bin, fake, database).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{args:?} on {database}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(started.elapsed())
}

/// The orders as one multi-row INSERT per 1,000: Odoo ids 1..=N, amounts that all differ.
fn inserts() -> Vec<String> {
    (1..=N)
        .collect::<Vec<_>>()
        .chunks(1000)
        .map(|chunk| {
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| {
                    format!(
                        "({i}, 'S{i:05}', {}.{:02}, 'USD', 'pending', '2026-11-30 10:00:00', '2026-11-30 10:00:00', '2026-11-30 10:00:00')",
                        100 + i % 500,
                        i % 100
                    )
                })
                .collect();
            format!(
                "INSERT INTO sales_orders (odoo_order_id, order_number, total_amount, currency, status, created_at, updated_at, order_date) VALUES {}",
                rows.join(", ")
            )
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    let fake = FakeOdoo::start(FakeOptions {
        orders: N as usize,
        ..FakeOptions::default()
    })?;
    let mut results = Vec::new();
    for store in ["SQLite", "PostgreSQL", "MariaDB"] {
        let mut times = Vec::new();
        let mut trips = 0;
        for i in 0..3 {
            let database = match store {
                "SQLite" => dir.path().join(format!("s{i}.db")).display().to_string(),
                "PostgreSQL" => pg_server::server().fresh_database(),
                _ => my_server::server().fresh_database(),
            };
            run(&bin, &fake, &database, &["db", "migrate"])?;
            match store {
                "SQLite" => {
                    let conn = rusqlite::Connection::open(&database)?;
                    for sql in inserts() {
                        conn.execute_batch(&sql)?;
                    }
                }
                "PostgreSQL" => {
                    let mut c = postgres::Client::connect(&database, postgres::NoTls)?;
                    for sql in inserts() {
                        c.batch_execute(&sql)?;
                    }
                }
                _ => {
                    let mut c = mysql::Conn::new(mysql::Opts::from_url(&database)?)?;
                    for sql in inserts() {
                        c.query_drop(&sql)?;
                    }
                }
            }
            fake.set_latency(Duration::from_millis(20));
            fake.reset_calls();
            times.push(run(
                &bin,
                &fake,
                &database,
                &["orders", "sync-amounts", "--all"],
            )?);
            trips = fake.requests();
            fake.set_latency(Duration::ZERO);
        }
        results.push((store, median(times), trips));
    }
    println!("sync-amounts --all, {N} orders, 20 ms a call (median of 3)\n");
    println!("| store | wall time | round trips | / SQLite |\n|---|---:|---:|---:|");
    let lite = results[0].1.as_secs_f64();
    for (store, wall, trips) in &results {
        println!(
            "| {store} | {:.3} s | {trips} | {:.2} |",
            wall.as_secs_f64(),
            wall.as_secs_f64() / lite
        );
    }
    Ok(())
}
