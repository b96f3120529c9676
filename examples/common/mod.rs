//! What the benchmarks share.

// Each example compiles this module and uses what it needs of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The release binary beside the running example (`target/release/orderbridge`).
pub(crate) fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("orderbridge"))
        .ok_or_else(|| anyhow::anyhow!("no target dir"))?;
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    Ok(bin)
}

/// The binary with a clean environment, logging in to the fake at `fake_url` as admin.
pub(crate) fn against(bin: &Path, fake_url: &str) -> std::process::Command {
    use fake_odoo::world;
    let mut c = std::process::Command::new(bin);
    c.env_clear()
        .env("ODOO_URL", fake_url)
        .env("ODOO_DB", world::DB)
        .env("ODOO_USERNAME", world::ADMIN_LOGIN)
        .env("ODOO_PASSWORD", world::ADMIN_PASSWORD);
    c
}

/// A database at the current schema holding orders 1..=n (Odoo ids 1..=n, numbers `S0000n`),
/// each with the portal amount `amount(i)`.
pub(crate) fn seed_orders(db: &Path, n: i64, amount: impl Fn(i64) -> String) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.execute_batch(include_str!("../../schema.sql"))?;
    conn.execute_batch(&format!(
        "PRAGMA user_version = {}; PRAGMA journal_mode = WAL;",
        orderbridge::store::SCHEMA_VERSION
    ))?;
    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare(
            "INSERT INTO sales_orders (odoo_order_id, order_number, total_amount, currency, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'USD', 'pending', datetime('now'), datetime('now'))",
        )?;
        for i in 1..=n {
            st.execute(rusqlite::params![i, format!("S{i:05}"), amount(i)])?;
        }
    }
    tx.commit()?;
    Ok(())
}
