//! The outbox: orders queued while Odoo is down, flushed in batches, exactly once.

use crate::env::TestEnv;

/// Customer 1 linked to partner 9; Odoo then goes down.
pub(crate) fn down() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    env.fake.go_down();
    env
}

pub(crate) fn queue_order(env: &TestEnv, key: &str, product: &str) {
    let line = format!("{product}:1");
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "70",
        "--line",
        &line,
        "--idempotency-key",
        key,
        "--queue-if-unavailable",
    ]);
    assert_eq!(run.code, 5, "{}", run.all());
}

fn local_orders(env: &TestEnv) -> i64 {
    env.scalar("SELECT COUNT(*) FROM sales_orders")
        .unwrap()
        .parse()
        .unwrap()
}

/// Odoo orders carrying one of these keys in origin.
pub(crate) fn odoo_orders_with(env: &TestEnv, prefix: &str) -> usize {
    env.fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref().is_some_and(|k| k.starts_with(prefix)))
            .count()
    })
}

#[test]
fn an_order_taken_while_odoo_is_down_is_queued_with_exit_5() {
    let env = down();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "70",
        "--idempotency-key",
        "q-1",
        "--queue-if-unavailable",
        "--json",
    ]);
    assert_eq!(run.code, 5, "{}", run.all());
    assert_eq!(run.json()["outcome"], "queued");
    assert!(run.json()["order"].is_null());
    assert_eq!(local_orders(&env), 0, "no local order without an Odoo id");
    let queue = env.run(&["orders", "queue", "--json"]).json();
    assert_eq!(queue[0]["key"], "q-1");
    assert_eq!(queue[0]["state"], "queued");
}

#[test]
fn without_the_flag_a_create_fails_as_before() {
    let env = down();
    let run = env.run(&["orders", "create", "--customer", "1", "--amount", "70"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(env.run(&["orders", "queue", "--json"]).json()[0].is_null());
}

#[test]
fn the_config_key_queues_without_the_flag() {
    let env = down();
    env.write_env(&[("ORDERBRIDGE_QUEUE_IF_UNAVAILABLE", "true")]);
    let run = env.run(&["orders", "create", "--customer", "1", "--amount", "70"]);
    assert_eq!(run.code, 5, "{}", run.all());
}

#[test]
fn a_flush_creates_each_queued_order_once_in_batched_calls() {
    let env = down();
    for i in 1..=5 {
        queue_order(&env, &format!("q-{i}"), "5");
    }
    env.fake.come_up();
    env.fake.reset_calls();
    let run = env.run(&["orders", "flush", "--batch-size", "2", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["created"].as_array().unwrap().len(), 5);
    assert_eq!(env.fake.calls("sale.order", "create"), 3, "⌈5 / 2⌉");
    assert_eq!(odoo_orders_with(&env, "q-"), 5, "each key in origin, once");
    assert_eq!(local_orders(&env), 5);
    assert!(run.json()["round_trips"].as_u64().unwrap() <= 3 + 3);
    let runs = env.run(&["status", "--json"]).json()["runs"].clone();
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "flush" && r["updated"] == 5),
        "{runs}"
    );
    let again = env.run(&["orders", "flush", "--json"]);
    assert_eq!(again.code, 0);
    assert_eq!(again.json()["queued"], 0);
    assert_eq!(odoo_orders_with(&env, "q-"), 5);
}

#[test]
fn one_refused_order_is_isolated_with_odoos_message_and_the_rest_created() {
    let env = down();
    for i in 1..=8 {
        let product = if i == 3 { "999999" } else { "5" };
        queue_order(&env, &format!("q-{i}"), product);
    }
    env.fake.come_up();
    env.fake.reset_calls();
    let run = env.run(&["orders", "flush", "--batch-size", "8", "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let failed = run.json()["failed"].clone();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["key"], "q-3");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("product.product(999999,)"),
        "{failed}"
    );
    assert_eq!(odoo_orders_with(&env, "q-"), 7);
    // The first call, then at most ⌈log2 8⌉ + 1 to isolate it.
    assert!(env.fake.calls("sale.order", "create") <= 1 + 3 + 1);
    let queue = env.run(&["orders", "queue", "--json"]).json();
    assert_eq!(queue[0]["state"], "failed");
}

#[test]
fn a_flush_killed_after_odoo_created_the_batch_creates_nothing_twice() {
    let env = down();
    for i in 1..=4 {
        queue_order(&env, &format!("q-{i}"), "5");
    }
    env.fake.come_up();
    let mut killed = env.command(env.path("").as_path(), &["orders", "flush"]);
    killed.env("ORDERBRIDGE_FAILPOINT", "flush-after-create");
    let out = killed.output().unwrap();
    assert_eq!(out.status.code(), Some(70));
    assert_eq!(odoo_orders_with(&env, "q-"), 4);
    let run = env.run(&["orders", "flush", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.json()["created"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["adopted"] == true)
    );
    assert_eq!(odoo_orders_with(&env, "q-"), 4, "nothing created twice");
    assert_eq!(local_orders(&env), 4);
}

#[test]
fn a_flush_killed_before_its_call_waits_out_the_grace_then_sends_once() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let mut killed = env.command(env.path("").as_path(), &["orders", "flush"]);
    killed.env("ORDERBRIDGE_FAILPOINT", "flush-before-create");
    assert_eq!(killed.output().unwrap().status.code(), Some(70));
    // Marked sent, not in Odoo: maybe still committing, so not sent again yet.
    let run = env.run(&["orders", "flush", "--json"]);
    assert_eq!(run.code, 75, "{}", run.all());
    assert_eq!(odoo_orders_with(&env, "q-"), 0);
    env.write_env(&[("ORDERBRIDGE_CREATE_GRACE", "0")]);
    let run = env.run(&["orders", "flush", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(odoo_orders_with(&env, "q-"), 1);
}

#[test]
fn a_second_flush_while_one_runs_does_nothing_and_exits_75() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let lock = env.hold_sync_lock();
    let run = env.run(&["orders", "flush"]);
    assert_eq!(run.code, 75, "{}", run.all());
    drop(lock);
    assert_eq!(odoo_orders_with(&env, "q-"), 0);
}

#[test]
fn a_flush_while_odoo_is_still_down_keeps_the_queue() {
    let env = down();
    queue_order(&env, "q-1", "5");
    let run = env.run(&["orders", "flush"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert_eq!(
        env.run(&["orders", "queue", "--json"]).json()[0]["state"],
        "queued"
    );
}

#[test]
fn a_refused_order_can_be_retried_and_a_queued_one_cancelled() {
    let env = down();
    queue_order(&env, "q-bad", "999999");
    queue_order(&env, "q-2", "5");
    let cancel = env.run(&["orders", "queue", "cancel", "q-2"]);
    assert_eq!(cancel.code, 0, "{}", cancel.all());
    env.fake.come_up();
    assert_eq!(env.run(&["orders", "flush"]).code, 1);
    assert_eq!(
        odoo_orders_with(&env, "q-"),
        0,
        "the cancelled one is not sent"
    );
    let retry = env.run(&["orders", "queue", "retry", "q-bad"]);
    assert_eq!(retry.code, 0, "{}", retry.all());
    assert_eq!(
        env.run(&["orders", "queue", "--json"]).json()[0]["state"],
        "queued"
    );
    let again = env.run(&["orders", "queue", "retry", "q-2"]);
    assert_eq!(
        again.code,
        2,
        "a cancelled order is not retried: {}",
        again.all()
    );
}

#[test]
fn sync_amounts_flushes_the_queue_first() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(odoo_orders_with(&env, "q-"), 1);
    assert_eq!(local_orders(&env), 1);
}

#[test]
fn the_flush_before_a_sync_is_in_its_report() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let run = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let flushed = &run.json()["summary"]["flushed"];
    assert_eq!(flushed["created"], 1, "{}", run.stdout);
    assert_eq!(flushed["still_queued"], 0);
    let quiet = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert!(
        quiet.json()["summary"]["flushed"].is_null(),
        "nothing queued: no flush"
    );
}

#[test]
fn a_sync_that_created_queued_orders_says_so_to_people() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert!(
        run.stdout
            .contains("Outbox flushed first: 1 queued order(s) created in Odoo"),
        "{}",
        run.stdout
    );
}

#[test]
fn status_shows_the_queue_depth_and_its_oldest_entry() {
    let env = down();
    queue_order(&env, "q-1", "5");
    let status = env.run(&["status", "--json"]).json();
    assert_eq!(status["queued_orders"], 1);
    assert!(status["oldest_queued_order"].is_string(), "{status}");
}

#[test]
fn serve_flushes_the_queue_before_its_poll() {
    let env = down();
    queue_order(&env, "q-1", "5");
    env.fake.come_up();
    let served = crate::serve::Served::start(&env, &["--poll", "1s"]);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while odoo_orders_with(&env, "q-") == 0 {
        assert!(std::time::Instant::now() < until, "serve did not flush");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let run = served.stop();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(local_orders(&env), 1);
}

#[test]
fn the_metrics_file_has_the_queue() {
    let env = down();
    queue_order(&env, "q-1", "5");
    let metrics = env.path("metrics.prom");
    let run = env.run(&["--metrics-file", metrics.to_str().unwrap(), "status"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let text = std::fs::read_to_string(metrics).unwrap();
    assert!(
        text.contains("orderbridge_outbox_queued_orders 1"),
        "{text}"
    );
    assert!(
        text.contains("orderbridge_outbox_oldest_age_seconds "),
        "{text}"
    );
}

#[test]
fn a_refused_order_retried_is_sent_again_at_once() {
    let env = down();
    queue_order(&env, "q-bad", "999999");
    env.fake.come_up();
    assert_eq!(env.run(&["orders", "flush"]).code, 1);
    // Staff add the product the order named; the retry need not wait for any grace period.
    env.fake.with_world(|w| {
        w.add_product(
            999_999,
            "Late product",
            rust_decimal::Decimal::from_str_exact("70").unwrap(),
        )
    });
    assert_eq!(env.run(&["orders", "queue", "retry", "q-bad"]).code, 0);
    let flush = env.run(&["orders", "flush", "--json"]);
    assert_eq!(flush.code, 0, "{}", flush.all());
    assert_eq!(odoo_orders_with(&env, "q-bad"), 1);
}

#[test]
fn a_refused_order_is_cancelled_at_once() {
    let env = down();
    queue_order(&env, "q-bad", "999999");
    env.fake.come_up();
    assert_eq!(env.run(&["orders", "flush"]).code, 1);
    env.fake.reset_calls();
    let cancel = env.run(&["orders", "queue", "cancel", "q-bad"]);
    assert_eq!(cancel.code, 0, "{}", cancel.all());
    assert_eq!(
        env.fake.requests(),
        0,
        "nothing in doubt: no lookup in Odoo"
    );
}
