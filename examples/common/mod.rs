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

/// What one run of the binary cost.
pub(crate) struct Measure {
    pub wall: std::time::Duration,
    /// Requests the fake answered (reset them before the run to count this run's).
    pub round_trips: u64,
    pub peak_rss_mb: f64,
    /// The binary's own CPU time (user + system), as last sampled before it exited.
    pub cpu_s: f64,
    pub code: i32,
}

/// VmHWM of a live process, in kB: its peak RSS since exec (a fork's parent memory is not
/// counted, unlike getrusage's maxrss).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A live process's CPU time (user + system) in seconds, from /proc (100 ticks a second,
/// Linux's USER_HZ).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Runs `cmd` (stdout discarded), sampling its peak RSS every 5 ms until it exits.
pub(crate) fn measure(
    mut cmd: std::process::Command,
    fake: &fake_odoo::FakeOdoo,
) -> anyhow::Result<Measure> {
    let started = std::time::Instant::now();
    let mut child = cmd.stdout(std::process::Stdio::null()).spawn()?;
    let mut peak = 0;
    let mut cpu = 0.0f64;
    let status = loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(s) = cpu_seconds(child.id()) {
            cpu = cpu.max(s);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Ok(Measure {
        wall: started.elapsed(),
        round_trips: fake.requests(),
        peak_rss_mb: peak as f64 / 1024.0,
        cpu_s: cpu,
        code: status.code().unwrap_or(-1),
    })
}

/// Starts `command` (a `serve --listen 127.0.0.1:0`) and returns it with the address it
/// said it listens on; the rest of its stderr is drained.
pub(crate) fn spawn_serve(
    mut command: std::process::Command,
) -> anyhow::Result<(std::process::Child, String)> {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut err = std::io::BufReader::new(
        child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("stderr"))?,
    );
    let addr = loop {
        let mut line = String::new();
        anyhow::ensure!(err.read_line(&mut line)? > 0, "serve did not start");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    Ok((child, addr))
}
