//! `orders sync-amounts`: the rules, exactness, batching, the lock, exit codes.

use std::str::FromStr;
use std::time::Duration;

use fake_odoo::{FakeOptions, Fault, FaultRule};
use rust_decimal::Decimal;

use crate::env::TestEnv;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Stores local orders for these Odoo ids with these portal amounts, created now.
fn seed(env: &TestEnv, orders: &[(i64, &str)]) {
    assert_eq!(env.run(&["db", "migrate"]).code, 0, "create the database");
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S");
    let values = orders
        .iter()
        .map(|(odoo_id, amount)| {
            format!("({odoo_id}, 'S{odoo_id:05}', '{amount}', 'USD', 'pending', '{now}', '{now}')")
        })
        .collect::<Vec<_>>()
        .join(", ");
    env.sql(&format!(
        "INSERT INTO sales_orders (odoo_order_id, order_number, total_amount, currency, status, created_at, updated_at)
         VALUES {values}"
    ));
}

fn portal_amount(env: &TestEnv, odoo_id: i64) -> Decimal {
    let s = env
        .scalar(&format!(
            "SELECT total_amount FROM sales_orders WHERE odoo_order_id = {odoo_id}"
        ))
        .unwrap();
    d(&s)
}

fn set_odoo_total(env: &TestEnv, odoo_id: i64, total: &str) {
    env.fake
        .with_world(|w| w.set_order_total(odoo_id, d(total)));
}

fn result_of(j: &serde_json::Value, odoo_id: i64) -> serde_json::Value {
    j["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["odoo_order_id"] == odoo_id)
        .cloned()
        .unwrap()
}

#[test]
fn greater_and_different_in_odoo_updates_the_portal_amount() {
    let env = TestEnv::new();
    seed(&env, &[(1, "857.87")]);
    set_odoo_total(&env, 1, "950.00");
    let run = env.run(&["orders", "sync-amounts", "-v"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("[updated] S00001: $857.87 -> $950.00"),
        "{}",
        run.stdout
    );
    assert_eq!(portal_amount(&env, 1), d("950.00"));
    assert!(
        run.stderr.contains("Synced order amount from Odoo"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("old_amount=857.87") && run.stderr.contains("new_amount=950.00"),
        "{}",
        run.stderr
    );
}

#[test]
fn equal_amount_is_no_change() {
    let env = TestEnv::new();
    seed(&env, &[(1, "857.87")]);
    set_odoo_total(&env, 1, "857.87");
    let run = env.run(&["orders", "sync-amounts"]);
    assert!(
        run.stdout.contains("[skipped] S00001: No change ($857.87)"),
        "{}",
        run.stdout
    );
    assert_eq!(portal_amount(&env, 1), d("857.87"));
}

#[test]
fn float_noise_from_odoo_is_no_change() {
    let env = TestEnv::new();
    seed(&env, &[(1, "857.87")]);
    env.fake.with_world(|w| {
        w.orders.get_mut(&1).unwrap().amount_total_wire = Some("857.8699999".into())
    });
    let j = env.run(&["orders", "sync-amounts", "--json"]).json();
    assert_eq!(result_of(&j, 1)["result"], "no_change");
    assert_eq!(portal_amount(&env, 1), d("857.87"));
}

#[test]
fn zero_in_odoo_keeps_the_portal_amount() {
    let env = TestEnv::new();
    seed(&env, &[(1, "857.87")]);
    set_odoo_total(&env, 1, "0");
    let run = env.run(&["orders", "sync-amounts"]);
    assert!(
        run.stdout
            .contains("[skipped] S00001: Still $0.00 in Odoo (keeping portal amount: $857.87)"),
        "{}",
        run.stdout
    );
    assert_eq!(portal_amount(&env, 1), d("857.87"));
}

#[test]
fn order_gone_from_odoo_is_reported_and_not_changed() {
    let env = TestEnv::new();
    seed(&env, &[(1, "10.00"), (999_999, "20.00")]);
    let run = env.run(&["orders", "sync-amounts", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("[missing] S999999: not found in Odoo"),
        "{}",
        run.stdout
    );
    assert_eq!(portal_amount(&env, 999_999), d("20.00"));
}

#[test]
fn unreadable_amount_fails_that_order_only() {
    let env = TestEnv::new();
    seed(&env, &[(1, "10.00"), (2, "20.00")]);
    set_odoo_total(&env, 2, "30.00");
    env.fake
        .with_world(|w| w.orders.get_mut(&1).unwrap().amount_total_wire = Some("12,50".into()));
    let run = env.run(&["orders", "sync-amounts"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("[failed] S00001"), "{}", run.stdout);
    assert!(run.stdout.contains("[updated] S00002"), "{}", run.stdout);
    assert_eq!(portal_amount(&env, 1), d("10.00"));
    assert_eq!(portal_amount(&env, 2), d("30.00"));
}

/// 30 orders, all to update; Odoo answers the first chunk's read with a proxy's 502.
fn first_chunk_fails() -> TestEnv {
    let env = TestEnv::with(FakeOptions {
        orders: 30,
        ..FakeOptions::default()
    });
    seed(&env, &(1..=30).map(|i| (i, "1.00")).collect::<Vec<_>>());
    env.fake.inject(FaultRule::once(
        Fault::BadGateway,
        "sale.order",
        "search_read",
    ));
    env
}

#[test]
fn a_failed_chunk_does_not_stop_the_others() {
    let env = first_chunk_fails();
    let run = env.run(&[
        "orders",
        "sync-amounts",
        "--batch-size",
        "10",
        "--concurrency",
        "1",
        "--json",
    ]);
    let j = run.json();
    assert_eq!(j["summary"]["failed"], 10, "{}", run.stderr);
    assert_eq!(j["summary"]["updated"], 20);
    assert_ne!(run.code, 0);
}

#[test]
fn a_run_odoo_failed_midway_says_what_it_updated() {
    let env = first_chunk_fails();
    let run = env.run(&[
        "orders",
        "sync-amounts",
        "--batch-size",
        "10",
        "--concurrency",
        "1",
        "--quiet",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr
            .contains("20 order(s) were updated in this run (committed, and kept)"),
        "{}",
        run.stderr
    );
}

#[test]
fn odoo_unreachable_exits_3_with_one_line() {
    let mut env = TestEnv::new();
    seed(&env, &[(1, "10.00")]);
    env.fake.stop();
    let run = env.run(&["orders", "sync-amounts", "--quiet"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert_eq!(portal_amount(&env, 1), d("10.00"));
}

#[test]
fn order_id_syncs_one_order_and_accepts_the_equals_form() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00"), (2, "2.00")]);
    set_odoo_total(&env, 1, "5.00");
    set_odoo_total(&env, 2, "6.00");
    let run = env.run(&["orders", "sync-amounts", "--order-id=2"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("Found 1 order"), "{}", run.stdout);
    assert_eq!(portal_amount(&env, 1), d("1.00"));
    assert_eq!(portal_amount(&env, 2), d("6.00"));
}

#[test]
fn unknown_order_id_is_a_clear_error() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    let run = env.run(&["orders", "sync-amounts", "--order-id", "77"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("there is no local order 77"),
        "{}",
        run.stderr
    );
}

#[test]
fn recent_means_created_in_the_last_30_days_and_all_means_all() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00"), (2, "2.00")]);
    env.sql("UPDATE sales_orders SET created_at = '2020-01-01 00:00:00' WHERE odoo_order_id = 2");
    let recent = env.run(&["orders", "sync-amounts", "--json"]);
    assert_eq!(recent.json()["summary"]["found"], 1);
    let all = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert_eq!(all.json()["summary"]["found"], 2);
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new();
    seed(&env, &[(1, "857.87")]);
    set_odoo_total(&env, 1, "950.00");
    let run = env.run(&["orders", "sync-amounts", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("$857.87 -> $950.00"), "{}", run.stdout);
    assert!(run.stdout.contains("nothing was changed"), "{}", run.stdout);
    assert_eq!(portal_amount(&env, 1), d("857.87"));
    assert_eq!(env.scalar("SELECT last_synced_at FROM sales_orders"), None);
}

#[test]
fn batches_of_1000_read_2500_orders_in_exactly_3_calls() {
    let env = TestEnv::with(FakeOptions {
        orders: 2500,
        ..FakeOptions::default()
    });
    seed(&env, &(1..=2500).map(|i| (i, "1.00")).collect::<Vec<_>>());
    env.fake.reset_calls();
    let run = env.run(&["orders", "sync-amounts", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.fake.calls("sale.order", "search_read"), 3);
    // Per chunk the orders and their lines (none invoiced: no invoice read).
    assert_eq!(env.fake.calls("sale.order.line", "search_read"), 3);
    // 2 × ⌈N / batch⌉ + at most 3 (version, login, what the server offers).
    assert!(env.fake.requests() <= 9, "{:?}", env.fake.all_calls());
}

#[test]
fn with_status_syncs_the_state_in_the_same_pass() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00"), (2, "2.00")]);
    env.fake
        .with_world(|w| w.orders.get_mut(&1).unwrap().state = "cancel".into());
    env.fake.reset_calls();
    let j = env
        .run(&["orders", "sync-amounts", "--with-status", "--json"])
        .json();
    assert_eq!(
        result_of(&j, 1)["status_change"],
        serde_json::json!(["pending", "cancelled"])
    );
    assert_eq!(env.fake.calls("sale.order", "search_read"), 1);
}

#[test]
fn quiet_prints_only_problems() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    set_odoo_total(&env, 1, "5.00");
    let run = env.run(&["orders", "sync-amounts", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.stdout, "", "{}", run.stdout);
    assert_eq!(run.stderr, "", "{}", run.stderr);
}

#[test]
fn output_is_plain_without_a_terminal() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    let run = env.run(&["orders", "sync-amounts"]);
    assert!(
        run.stdout.starts_with("Syncing order amounts from Odoo..."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Found 1 recent order (last 30 days)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Synced: 1"), "{}", run.stdout);
    assert!(run.stdout.contains("Sync complete!"), "{}", run.stdout);
    assert!(
        !run.stdout.contains('✅') && !run.stdout.contains('🔄'),
        "{}",
        run.stdout
    );
}

#[test]
fn a_held_lock_makes_a_second_run_exit_75_and_do_nothing() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    set_odoo_total(&env, 1, "5.00");
    let lock = env.hold_sync_lock();
    let run = env.run(&["orders", "sync-amounts"]);
    assert_eq!(run.code, 75, "{}", run.all());
    assert!(
        run.stderr.contains("another sync run holds"),
        "{}",
        run.stderr
    );
    assert_eq!(portal_amount(&env, 1), d("1.00"));
    drop(lock);
    assert_eq!(env.run(&["orders", "sync-amounts"]).code, 0);
}

#[test]
fn a_killed_run_leaves_no_stale_lock() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    env.fake.inject(FaultRule {
        fault: Fault::Latency(Duration::from_secs(5)),
        model: Some("sale.order".into()),
        method: Some("search_read".into()),
        times: Some(1),
    });
    let mut child = env
        .command(env.dir.path(), &["orders", "sync-amounts"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it holds the lock and waits on Odoo, then kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while env.fake.calls("sale.order", "search_read") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let run = env.run(&["orders", "sync-amounts"]);
    assert_eq!(run.code, 0, "{}", run.all());
}

fn stored_status(env: &TestEnv, odoo_id: i64) -> String {
    env.scalar(&format!(
        "SELECT status FROM sales_orders WHERE odoo_order_id = {odoo_id}"
    ))
    .unwrap()
}

#[test]
fn an_unknown_state_fails_that_order_and_changes_nothing_of_it() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00"), (2, "2.00")]);
    env.fake
        .with_world(|w| w.orders.get_mut(&1).unwrap().state = "dra}t".into());
    let run = env.run(&["orders", "sync-amounts", "--all", "--with-status", "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let j = run.json();
    assert_eq!(j["summary"]["failed"], 1, "{j}");
    assert_eq!(result_of(&j, 1)["result"], "failed", "{j}");
    assert!(
        result_of(&j, 1)["reason"].to_string().contains("dra}t"),
        "{j}"
    );
    assert_eq!(portal_amount(&env, 1), d("1.00"));
    assert_eq!(stored_status(&env, 1), "pending");
    assert_ne!(
        portal_amount(&env, 2),
        d("2.00"),
        "the other order is synced"
    );
}

#[test]
fn a_garbled_answer_is_not_called_unreachable() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    env.fake.inject(FaultRule::once(
        Fault::MalformedBody,
        "sale.order",
        "search_read",
    ));
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("not Odoo's protocol"), "{}", run.stderr);
    assert!(!run.stderr.contains("unreachable"), "{}", run.stderr);
}

#[test]
fn sync_status_is_refused_while_another_sync_holds_the_lock() {
    let env = TestEnv::new();
    seed(&env, &[(1, "1.00")]);
    let _lock = env.hold_sync_lock();
    let run = env.run(&["orders", "sync-status", "--all"]);
    assert_eq!(run.code, 75, "{}", run.all());
}

#[test]
fn sync_status_reads_in_batches_like_sync_amounts() {
    let env = TestEnv::with(FakeOptions {
        orders: 2500,
        ..FakeOptions::default()
    });
    seed(&env, &(1..=2500).map(|i| (i, "1.00")).collect::<Vec<_>>());
    env.fake.reset_calls();
    let run = env.run(&["orders", "sync-status", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["checked"], 2500);
    assert_eq!(env.fake.calls("sale.order", "search_read"), 3);
    assert_eq!(portal_amount(&env, 1), d("1.00"), "amounts are not touched");
}
