//! Orders: Odoo first, exactly once, get-or-create, sync on read, status, bad input.

use std::time::Duration;

use fake_odoo::{Fault, FaultRule};

use crate::env::{Run, TestEnv};

/// A TestEnv with customer 1 linked to a new Odoo partner.
fn with_customer() -> TestEnv {
    let env = TestEnv::new();
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "Lab Customer",
        "--email",
        "lab@example.com",
        "--create-partner",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    env
}

pub(crate) fn odoo_orders_with_origin(env: &TestEnv, key: &str) -> usize {
    env.fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref() == Some(key))
            .count()
    })
}

fn local_orders(env: &TestEnv) -> Vec<serde_json::Value> {
    let run = env.run(&["orders", "list", "--no-sync", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    run.json()["orders"].as_array().unwrap().clone()
}

#[test]
fn create_makes_the_odoo_order_first_and_stores_its_id_and_name() {
    let env = with_customer();
    let next = env.fake.with_world(|w| w.next_order_name());
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "857.87",
        "--json",
        "-v",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    let key = j["idempotency_key"].as_str().unwrap();
    assert_eq!(j["outcome"], "created");
    assert_eq!(j["order"]["order_number"], next.as_str());
    assert_eq!(j["order"]["total_amount"], "857.87");
    // Odoo has it, with the key in origin and the customer's partner.
    assert_eq!(odoo_orders_with_origin(&env, key), 1);
    let odoo_id = j["order"]["odoo_order_id"].as_i64().unwrap();
    assert!(env.fake.with_world(|w| w.orders.contains_key(&odoo_id)));
    // The log says Odoo came first.
    let first = run
        .stderr
        .find("Order created in Odoo first")
        .expect("odoo log line");
    let second = run
        .stderr
        .find("Order created in local database")
        .expect("local log line");
    assert!(first < second, "{}", run.stderr);
}

#[test]
fn create_with_lines_sends_them_in_the_same_create_call() {
    let env = with_customer();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "230",
        "--line",
        "5:2:100",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["order"]["odoo_amount_total"], "230.00");
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
    assert_eq!(env.fake.calls("sale.order.line", "create"), 0);
}

#[test]
fn generated_key_is_printed_so_the_user_can_retry() {
    let env = with_customer();
    let run = env.run(&["orders", "create", "--customer", "1", "--amount", "10"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Idempotency key: ob-"),
        "{}",
        run.stdout
    );
}

#[test]
fn same_key_twice_returns_the_first_order_without_calling_odoo_again() {
    let env = with_customer();
    let args = [
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "10",
        "--idempotency-key",
        "K-1",
        "--json",
    ];
    let a = env.run(&args).json();
    let creates = env.fake.calls("sale.order", "web_save");
    let b = env.run(&args).json();
    assert_eq!(a["order"]["id"], b["order"]["id"]);
    assert_eq!(b["outcome"], "already_done");
    assert_eq!(env.fake.calls("sale.order", "web_save"), creates);
    assert_eq!(odoo_orders_with_origin(&env, "K-1"), 1);
}

#[test]
fn key_reused_with_another_payload_is_refused() {
    let env = with_customer();
    assert_eq!(
        env.run(&[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "10",
            "--idempotency-key",
            "K-2"
        ])
        .code,
        0
    );
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "11",
        "--idempotency-key",
        "K-2",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("already used for a different order"),
        "{}",
        run.stderr
    );
    assert_eq!(odoo_orders_with_origin(&env, "K-2"), 1);
    assert_eq!(local_orders(&env).len(), 1);
}

#[test]
fn odoo_refusal_stores_nothing_locally() {
    let env = with_customer();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "10",
        "--line",
        "999:1",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("nothing was created in Odoo or locally"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Failed to create order in Odoo"),
        "{}",
        run.stderr
    );
    assert!(local_orders(&env).is_empty());
}

#[test]
fn odoo_down_stores_nothing_locally() {
    let mut env = with_customer();
    env.fake.stop();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "10",
        "--idempotency-key",
        "K-down",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("nothing was created"), "{}", run.stderr);
    assert!(
        run.stderr.contains("K-down"),
        "the hint names the key: {}",
        run.stderr
    );
    assert!(local_orders(&env).is_empty());
}

#[test]
fn lost_response_then_retry_with_the_key_gives_one_order() {
    let env = with_customer();
    env.fake.inject(FaultRule::once(
        Fault::CommitThenDrop,
        "sale.order",
        "web_save",
    ));
    let args = [
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "857.87",
        "--idempotency-key",
        "K-lost",
        "--json",
    ];
    let first = env.run(&args);
    assert_eq!(first.code, 3, "{}", first.all());
    assert!(
        first.stderr.contains("may or may not exist in Odoo"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("--idempotency-key K-lost"),
        "{}",
        first.stderr
    );
    assert!(local_orders(&env).is_empty());
    assert_eq!(
        odoo_orders_with_origin(&env, "K-lost"),
        1,
        "Odoo committed it"
    );

    let retry = env.run(&args);
    assert_eq!(retry.code, 0, "{}", retry.all());
    assert_eq!(retry.json()["outcome"], "adopted");
    assert_eq!(odoo_orders_with_origin(&env, "K-lost"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
    assert_eq!(local_orders(&env).len(), 1);
}

#[test]
fn timeout_after_commit_then_retry_gives_one_order() {
    let env = with_customer();
    env.fake.inject(FaultRule::once(
        Fault::CommitThenHang(Duration::from_secs(5)),
        "sale.order",
        "web_save",
    ));
    let args = [
        "--odoo-timeout",
        "0.5",
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "5",
        "--idempotency-key",
        "K-slow",
    ];
    let first = env.run(&args);
    assert_eq!(first.code, 3, "{}", first.all());
    assert!(first.stderr.contains("timeout"), "{}", first.stderr);
    assert_eq!(env.run(&args).code, 0);
    assert_eq!(odoo_orders_with_origin(&env, "K-slow"), 1);
    assert_eq!(local_orders(&env).len(), 1);
}

#[test]
fn crash_between_odoo_create_and_local_insert_is_recovered_once() {
    let env = with_customer();
    let out = env
        .command(
            env.dir.path(),
            &[
                "orders",
                "create",
                "--customer",
                "1",
                "--amount",
                "42",
                "--idempotency-key",
                "K-crash",
            ],
        )
        .env("ORDERBRIDGE_FAILPOINT", "after-odoo-create")
        .output()
        .unwrap();
    let crashed = TestEnv::collect(out);
    assert_eq!(crashed.code, 70, "{}", crashed.all());
    assert_eq!(odoo_orders_with_origin(&env, "K-crash"), 1);
    assert!(local_orders(&env).is_empty());

    let run = env.run(&["orders", "recover", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()[0]["result"], "adopted");
    let orders = local_orders(&env);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["total_amount"], "42.00");
    // Nothing left to recover, and Odoo still has exactly one.
    assert_eq!(
        env.run(&["orders", "recover", "--json"]).json(),
        serde_json::json!([])
    );
    assert_eq!(odoo_orders_with_origin(&env, "K-crash"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
}

#[test]
fn two_processes_creating_with_one_key_make_one_order() {
    let env = with_customer();
    // Slow creates widen the race window.
    env.fake.inject(FaultRule {
        fault: Fault::Latency(Duration::from_millis(400)),
        model: Some("sale.order".into()),
        method: Some("web_save".into()),
        times: None,
    });
    let args = [
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "99",
        "--idempotency-key",
        "K-race",
        "--json",
    ];
    let children: Vec<_> = (0..3)
        .map(|_| {
            env.command(env.dir.path(), &args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| TestEnv::collect(c.wait_with_output().unwrap()))
        .collect();
    let mut ids = Vec::new();
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.all());
        ids.push(r.json()["order"]["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(odoo_orders_with_origin(&env, "K-race"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
    assert_eq!(local_orders(&env).len(), 1);
}

#[test]
fn order_as_json_on_stdin() {
    use std::io::Write;
    let env = with_customer();
    let mut child = env
        .command(
            env.dir.path(),
            &["orders", "create", "--input", "-", "--json"],
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"customer_id": 1, "amount": 857.87, "lines": [{"product_id": 5, "quantity": 2, "price_unit": "100.00"}], "idempotency_key": "K-json"}"#)
        .unwrap();
    let run = TestEnv::collect(child.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    assert_eq!(j["order"]["total_amount"], "857.87");
    assert_eq!(j["idempotency_key"], "K-json");
}

fn assert_rejected_without_change(env: &TestEnv, args: &[&str], code: i32, needle: &str) {
    let creates = env.fake.calls("sale.order", "web_save");
    let run = env.run(args);
    assert_eq!(run.code, code, "{}", run.all());
    assert!(
        run.stderr.contains(needle),
        "{needle:?} not in {}",
        run.stderr
    );
    assert_eq!(
        env.fake.calls("sale.order", "web_save"),
        creates,
        "Odoo was called"
    );
    assert!(local_orders(env).is_empty());
}

#[test]
fn unknown_customer_is_a_clear_error() {
    let env = with_customer();
    assert_rejected_without_change(
        &env,
        &["orders", "create", "--customer", "42", "--amount", "1"],
        2,
        "there is no customer 42",
    );
}

#[test]
fn negative_amount_is_a_clear_error() {
    let env = with_customer();
    assert_rejected_without_change(
        &env,
        &["orders", "create", "--customer", "1", "--amount", "-5"],
        2,
        "must be above zero",
    );
}

#[test]
fn malformed_amount_is_a_clear_error() {
    let env = with_customer();
    assert_rejected_without_change(
        &env,
        &["orders", "create", "--customer", "1", "--amount", "12,50"],
        2,
        "not a valid amount",
    );
    assert_rejected_without_change(
        &env,
        &["orders", "create", "--customer", "1", "--amount", "1.234"],
        2,
        "decimal places",
    );
}

#[test]
fn malformed_line_is_a_clear_error() {
    let env = with_customer();
    assert_rejected_without_change(
        &env,
        &[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "1",
            "--line",
            "5",
        ],
        2,
        "PRODUCT_ID:QTY",
    );
}

#[test]
fn unknown_product_is_refused_by_odoo_and_nothing_is_stored() {
    let env = with_customer();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "1",
        "--line",
        "777:1",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("product.product(777"), "{}", run.stderr);
    assert!(local_orders(&env).is_empty());
}

#[test]
fn unlinked_customer_is_a_clear_error() {
    let env = TestEnv::new();
    env.run(&[
        "customers",
        "add",
        "--name",
        "X",
        "--email",
        "x@example.com",
    ]);
    let run = env.run(&["orders", "create", "--customer", "1", "--amount", "1"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("customers link 1"), "{}", run.stderr);
}

#[test]
fn import_twice_gives_the_same_local_order() {
    let env = TestEnv::new();
    env.link_deco();
    let a = env
        .run(&["orders", "import", "--odoo-id", "1", "--json"])
        .json();
    let b = env
        .run(&["orders", "import", "--odoo-id", "1", "--json"])
        .json();
    assert_eq!(a["created"], true);
    assert_eq!(b["created"], false);
    assert_eq!(a["order"]["id"], b["order"]["id"]);
    assert_eq!(
        env.fake.calls("sale.order", "read"),
        1,
        "the second import needs no Odoo call"
    );
}

#[test]
fn concurrent_imports_store_one_row() {
    let env = TestEnv::new();
    env.link_deco();
    // Open (and migrate) the database before the race, as a deployed portal would have.
    env.run(&["db", "migrate"]);
    env.fake.set_latency(Duration::from_millis(100));
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.command(
                env.dir.path(),
                &["orders", "import", "--odoo-id", "5", "--json"],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| TestEnv::collect(c.wait_with_output().unwrap()))
        .collect();
    let ids: Vec<_> = runs
        .iter()
        .map(|r| {
            assert_eq!(r.code, 0, "{}", r.all());
            r.json()["order"]["id"].clone()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(local_orders(&env).len(), 1);
}

#[test]
fn import_of_an_unknown_odoo_id_is_a_clear_error() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let run = env.run(&["orders", "import", "--odoo-id", "999999"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("Odoo has no sale.order 999999"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_pulls_missing_orders_with_one_search_read() {
    let env = TestEnv::new();
    env.link_deco();
    env.fake.reset_calls();
    let run = env.run(&["orders", "list", "--customer", "1", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    assert_eq!(
        j["sync"]["pulled"], 5,
        "the demo has 5 orders for partner 9"
    );
    assert_eq!(j["orders"].as_array().unwrap().len(), 5);
    assert_eq!(env.fake.calls("sale.order", "search_read"), 1);
    // version (auto), what the server offers (asked once, then remembered), the page of
    // orders and their lines in one call (the login's uid is remembered from `customers
    // add`): nothing per order.
    assert_eq!(env.fake.calls("sale.order.line", "search_read"), 1);
    assert_eq!(env.fake.requests(), 4, "{:?}", env.fake.all_calls());
    // Again: nothing new to pull, and the login's uid is remembered.
    env.fake.reset_calls();
    let again = env
        .run(&["orders", "list", "--customer", "1", "--json"])
        .json();
    assert_eq!(again["sync"]["pulled"], 0);
    assert_eq!(env.fake.requests(), 2, "{:?}", env.fake.all_calls());
}

#[test]
fn list_with_odoo_down_still_shows_local_orders_with_a_warning() {
    let mut env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env.fake.stop();
    let run = env.run(&["orders", "list", "--customer", "1"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("showing local orders only"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Failed to sync order from Odoo"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("S00001"), "{}", run.stdout);
}

#[test]
fn list_shows_odoo_amount_when_above_zero_else_portal_amount() {
    let env = with_customer();
    env.run(&["orders", "create", "--customer", "1", "--amount", "857.87"]);
    let run = env.run(&["orders", "list", "--customer", "1"]);
    assert!(run.stdout.contains("$857.87 (portal)"), "{}", run.stdout);
    // Staff add lines in Odoo: the list (which syncs) shows Odoo's amount.
    let odoo_id = env.fake.with_world(|w| *w.orders.keys().last().unwrap());
    env.fake
        .with_world(|w| w.set_order_total(odoo_id, rust_decimal::Decimal::new(95000, 2)));
    let run = env.run(&["orders", "list", "--customer", "1"]);
    assert!(run.stdout.contains("$950.00 (odoo)"), "{}", run.stdout);
}

#[test]
fn sync_status_follows_odoo_state() {
    let env = with_customer();
    let j = env
        .run(&[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "5",
            "--json",
        ])
        .json();
    let odoo_id = j["order"]["odoo_order_id"].as_i64().unwrap();
    env.fake
        .with_world(|w| w.orders.get_mut(&odoo_id).unwrap().state = "sale".into());
    let run = env.run(&["orders", "sync-status", "--order-id", "1", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let r = run.json();
    assert_eq!(r["changed"][0]["to"], "confirmed");
    let show = env.run(&["orders", "show", "1", "--json"]).json();
    assert_eq!(show["status"], "confirmed");
    assert_eq!(show["odoo_state"], "sale");
}

#[test]
fn sync_status_of_an_unknown_order_is_a_clear_error() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let run = env.run(&["orders", "sync-status", "--order-id", "3"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("there is no local order 3"),
        "{}",
        run.stderr
    );
}

#[test]
fn customers_link_finds_the_partner_by_email_or_creates_it() {
    let env = TestEnv::new();
    env.run(&[
        "customers",
        "add",
        "--name",
        "Deco",
        "--email",
        "DECO.ADDICT@example.com",
    ]);
    env.run(&[
        "customers",
        "add",
        "--name",
        "New",
        "--email",
        "new@example.com",
    ]);
    let a = env.run(&["customers", "link", "1", "--json"]).json();
    assert_eq!(a["partner"]["id"], 9);
    assert_eq!(a["created_partner"], false);
    let b = env.run(&["customers", "link", "2", "--json"]).json();
    assert_eq!(b["created_partner"], true);
    assert!(env.fake.with_world(|w| {
        w.partners
            .values()
            .any(|p| p.email.as_deref() == Some("new@example.com"))
    }));
}
