//! Benchmark of `orders flush` against the fake Odoo at 20 ms latency per call:
//!
//!     cargo build --release && cargo run --release --example bench_flush
//!
//! 1,000 orders with one line each are queued (one through the real binary while the fake
//! is down, the rest copied from it in the store), then the release binary flushes them.
//! It prints create calls, round trips and wall time next to one `create` of the same 1,000
//! orders made directly (a fresh client: version, login, create), for several batch sizes;
//! then the same with one order of an unknown product among them.

mod common;
use common::binary;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_odoo::{FakeOdoo, FakeOptions, world};
use orderbridge::odoo::{OdooClient, OdooConfig, ProtocolChoice, Value};

const N: usize = 1000;

fn cmd(bin: &Path, fake: &FakeOdoo, db: &Path) -> Command {
    let mut c = common::against(bin, &fake.url());
    c.arg("--quiet").arg("--database").arg(db);
    c
}

/// A database with customer 1 (partner 9) and `N` queued orders; `bad` is the position of
/// the one whose product does not exist.
fn seed(bin: &Path, fake: &FakeOdoo, db: &Path, bad: Option<usize>) -> anyhow::Result<()> {
    let ok = |c: &mut Command| -> anyhow::Result<i32> { Ok(c.status()?.code().unwrap_or(-1)) };
    ok(cmd(bin, fake, db).args([
        "customers",
        "add",
        "--name",
        "Deco",
        "--email",
        "deco@example.com",
        "--odoo-partner-id",
        "9",
    ]))?;
    fake.go_down();
    for (key, product) in [("template-good", "5"), ("template-bad", "999999")] {
        let code = ok(cmd(bin, fake, db).args([
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "70",
            "--line",
            &format!("{product}:1"),
            "--idempotency-key",
            key,
            "--queue-if-unavailable",
        ]))?;
        anyhow::ensure!(code == 5, "queueing exited {code}");
    }
    fake.come_up();
    let conn = rusqlite::Connection::open(db)?;
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N})
         INSERT INTO orderbridge_order_intents (key, payload_hash, payload, state, created_at, updated_at)
         SELECT printf('bench-%04d', i), payload_hash || i, payload, 'queued',
                strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || i || ' seconds'), created_at
         FROM n, orderbridge_order_intents
         WHERE key = CASE WHEN i = {} THEN 'template-bad' ELSE 'template-good' END;
         DELETE FROM orderbridge_order_intents WHERE key LIKE 'template-%';",
        bad.unwrap_or(0)
    ))?;
    Ok(())
}

/// One `create` of the same orders, made directly with a fresh client.
fn direct(fake: &FakeOdoo) -> anyhow::Result<Duration> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cfg = OdooConfig {
        url: fake.url(),
        db: world::DB.into(),
        login: world::ADMIN_LOGIN.into(),
        password: Some(orderbridge::Secret::new(world::ADMIN_PASSWORD)),
        api_key: None,
        protocol: ProtocolChoice::Auto,
        timeout: Duration::from_secs(60),
    };
    let started = Instant::now();
    rt.block_on(async {
        let client = OdooClient::new(&cfg)?;
        let vals: Vec<Value> = (0..N)
            .map(|i| {
                Value::object([
                    ("partner_id", Value::Int(9)),
                    ("origin", Value::str(format!("direct-{i}"))),
                    (
                        "order_line",
                        Value::Array(vec![Value::Array(vec![
                            Value::Int(0),
                            Value::Int(0),
                            Value::object([
                                ("product_id", Value::Int(5)),
                                ("product_uom_qty", Value::Int(1)),
                            ]),
                        ])]),
                    ),
                ])
            })
            .collect();
        client.create_many("sale.order", vals).await?;
        anyhow::Ok(())
    })?;
    Ok(started.elapsed())
}

fn main() -> anyhow::Result<()> {
    let bin = binary()?;
    let dir = tempfile::tempdir()?;
    println!(
        "| batch size | bad orders | create calls | round trips | flush | direct create | ratio |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (batch, bad) in [
        (100, None),
        (250, None),
        (1000, None),
        (100, Some(500)),
        (1000, Some(500)),
    ] {
        let fake = FakeOdoo::start(FakeOptions {
            orders: 20,
            ..FakeOptions::default()
        })?;
        let db = dir
            .path()
            .join(format!("flush-{batch}-{}.db", bad.is_some()));
        seed(&bin, &fake, &db, bad)?;
        fake.set_latency(Duration::from_millis(20));
        fake.reset_calls();
        let started = Instant::now();
        let mut flush = cmd(&bin, &fake, &db);
        if std::env::var_os("BENCH_TRACE").is_some() {
            flush.env("RUST_LOG", "debug");
        }
        let out = flush
            .args([
                "orders",
                "flush",
                "--json",
                "--batch-size",
                &batch.to_string(),
            ])
            .output()?;
        if std::env::var_os("BENCH_TRACE").is_some() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        let wall = started.elapsed();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let data = &report["data"];
        anyhow::ensure!(
            data["created"].as_array().map_or(0, Vec::len) == N - usize::from(bad.is_some()),
            "flush: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls = fake.calls("sale.order", "create");
        let trips = fake.requests();
        let direct = direct(&fake)?;
        println!(
            "| {batch} | {} | {calls} | {trips} | {:.3} s | {:.3} s | {:.2} |",
            usize::from(bad.is_some()),
            wall.as_secs_f64(),
            direct.as_secs_f64(),
            wall.as_secs_f64() / direct.as_secs_f64()
        );
    }
    Ok(())
}
