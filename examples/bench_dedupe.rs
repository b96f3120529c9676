//! Benchmark of `orders dedupe` on a legacy database:
//!
//!     cargo build --release && cargo run --release --example bench_dedupe
//!
//! Builds a Laravel-style `sales_orders` of 100,000 rows of which 10 % duplicate another
//! row's `odoo_order_id`, plus 100,000 order items pointing at orders (no index on the
//! pointer, as legacy tables often have none), then times the dry run, the apply and the
//! `db migrate` that follows, with the release binary.

mod common;
use common::binary;

use std::process::Command;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let rows: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dups = rows / 10;
    let dir = std::env::temp_dir().join(format!("orderbridge-bench-dedupe-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("legacy.db");
    {
        let mut conn = rusqlite::Connection::open(&db)?;
        conn.execute_batch(
            "CREATE TABLE sales_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER, order_number TEXT,
                odoo_order_id INTEGER, total_amount DECIMAL(10,2), status TEXT, created_at TEXT, updated_at TEXT);
             CREATE TABLE sales_order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, sales_order_id INTEGER NOT NULL,
                product_name TEXT, quantity INTEGER, price DECIMAL(10,2));",
        )?;
        let tx = conn.transaction()?;
        {
            let mut o = tx.prepare("INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)")?;
            let mut it = tx.prepare("INSERT INTO sales_order_items (sales_order_id, product_name, quantity, price) VALUES (?1, 'Chair', 1, ?2)")?;
            for i in 1..=rows {
                // The last 10 % repeat an earlier odoo id (spread over the table).
                let odoo = if i > rows - dups {
                    (i * 7919) % (rows - dups) + 1
                } else {
                    i
                };
                let when = format!("2026-01-{:02} {:02}:{:02}:00", 1 + i % 28, i % 24, i % 60);
                o.execute(rusqlite::params![
                    i % 500,
                    format!("S{odoo:06}"),
                    odoo,
                    100.0 + (i % 900) as f64,
                    when
                ])?;
                it.execute(rusqlite::params![i, 100.0 + (i % 900) as f64])?;
            }
        }
        tx.commit()?;
    }
    let bin = binary()?;
    let run = |args: &[&str]| -> anyhow::Result<f64> {
        let t = Instant::now();
        let out = Command::new(&bin)
            .env_clear()
            .arg("--database")
            .arg(&db)
            .arg("-q")
            .args(args)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(t.elapsed().as_secs_f64())
    };
    let dry = run(&["orders", "dedupe", "--json"])?;
    let apply = run(&["orders", "dedupe", "--yes"])?;
    let migrate = run(&["db", "migrate"])?;
    println!(
        "| legacy rows | duplicates removed | dry run | apply (archive + re-point + delete) | db migrate |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!("| {rows} | {dups} | {dry:.2} s | {apply:.2} s | {migrate:.2} s |");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
