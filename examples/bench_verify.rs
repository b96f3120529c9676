//! What checking the store's pages costs: `PRAGMA quick_check` on a store of 100,000 orders
//! (and as many create intents), as every writing run does before it writes.
//!
//!     cargo run --release --example bench_verify

use std::time::{Duration, Instant};

use orderbridge::store::{Location, SCHEMA_VERSION, Store};

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for n in [10_000i64, 100_000] {
        let db = dir.path().join(format!("verify-{n}.db"));
        let mut conn = rusqlite::Connection::open(&db)?;
        conn.execute_batch(include_str!("../schema.sql"))?;
        conn.execute_batch(&format!(
            "PRAGMA user_version = {SCHEMA_VERSION}; PRAGMA journal_mode = WAL;"
        ))?;
        let tx = conn.transaction()?;
        for i in 1..=n {
            let key = format!("ob-{i:036}");
            tx.execute(
                "INSERT INTO sales_orders (odoo_order_id, order_number, total_amount, currency, status, idempotency_key, created_at, updated_at)
                 VALUES (?1, 'S' || ?1, '857.87', 'USD', 'confirmed', ?2, datetime('now'), datetime('now'))",
                rusqlite::params![i, key],
            )?;
            tx.execute(
                "INSERT INTO orderbridge_order_intents (key, payload_hash, payload, state, odoo_order_id, local_order_id, created_at, updated_at)
                 VALUES (?1, ?2, '{\"customer_id\":1,\"amount\":\"857.87\",\"currency\":\"USD\",\"lines\":[]}', 'done', ?3, ?3, datetime('now'), datetime('now'))",
                rusqlite::params![key, "0".repeat(64), i],
            )?;
        }
        tx.commit()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        drop(conn);
        let size = std::fs::metadata(&db)?.len() as f64 / 1e6;
        let store = Store::open(&Location::File(db.clone()), Duration::from_secs(5))?;
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            store.verify()?;
            best = best.min(t.elapsed());
        }
        println!(
            "{n:>7} orders ({size:.1} MB): quick_check {:.0} ms (best of 5)",
            best.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
