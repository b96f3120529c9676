//! Big amount changes held for review, and `orders reconcile`.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::env::TestEnv;

/// Customer 1's orders stored, one of them (returned) at 857.87 on both sides; the review
/// threshold at 50 %.
fn with_threshold() -> (TestEnv, i64) {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_MAX_CHANGE", "50%")]);
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id =
        env.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"][0]["odoo_order_id"]
            .as_i64()
            .unwrap();
    env.set_total(id, "857.87");
    let setup = ["orders", "sync-amounts", "--all", "--max-change", "off"];
    assert_eq!(env.run(&setup).code, 0);
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
    (env, id)
}

fn open_conflicts(env: &TestEnv) -> serde_json::Value {
    env.run(&["orders", "conflicts", "--json"]).json()
}

#[test]
fn a_tenfold_change_is_held_and_the_run_exits_1() {
    let (env, id) = with_threshold();
    env.set_total(id, "8578.70");
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("held for review 1"), "{}", run.stdout);
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
    let shown = env
        .run(&["orders", "show", "--odoo-id", &id.to_string(), "--json"])
        .json();
    assert_eq!(
        shown["amount"], "857.87",
        "the display keeps the reviewed amount"
    );
    let conflicts = open_conflicts(&env);
    assert_eq!(conflicts[0]["portal_amount"], "857.87");
    assert_eq!(conflicts[0]["odoo_amount"], "8578.70");
}

#[test]
fn accept_applies_odoos_amount_and_records_who() {
    let (env, id) = with_threshold();
    env.set_total(id, "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 1);
    let cid = open_conflicts(&env)[0]["id"].as_i64().unwrap().to_string();
    let mut accept = env.command(
        env.path("").as_path(),
        &["orders", "conflicts", "accept", &cid, "--json"],
    );
    accept.env("USER", "support-anna");
    let run = crate::env::TestEnv::collect(accept.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["state"], "accepted");
    assert_eq!(run.json()["decided_by"], "support-anna");
    assert_eq!(env.portal_amount(id).unwrap(), "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert!(open_conflicts(&env)[0].is_null());
}

#[test]
fn a_change_within_the_threshold_is_applied_as_before() {
    let (env, id) = with_threshold();
    env.set_total(id, "950.00");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.portal_amount(id).unwrap(), "950.00");
    assert!(open_conflicts(&env)[0].is_null());
}

#[test]
fn keep_holds_the_portal_amount_until_odoos_changes_again() {
    let (env, id) = with_threshold();
    env.set_total(id, "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 1);
    let cid = open_conflicts(&env)[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(env.run(&["orders", "conflicts", "keep", &cid]).code, 0);
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 0, "kept, not held again: {}", run.all());
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
    env.set_total(id, "900.00");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.portal_amount(id).unwrap(), "900.00");
}

#[test]
fn a_held_conflict_follows_odoo_and_resolves_itself_within_the_threshold() {
    let (env, id) = with_threshold();
    env.set_total(id, "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 1);
    env.set_total(id, "9000.00");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 1);
    let conflicts = open_conflicts(&env);
    assert_eq!(
        conflicts.as_array().unwrap().len(),
        1,
        "updated, not doubled"
    );
    assert_eq!(conflicts[0]["odoo_amount"], "9000.00");
    env.set_total(id, "860.00");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.portal_amount(id).unwrap(), "860.00");
    assert!(open_conflicts(&env)[0].is_null());
}

#[test]
fn the_incremental_sync_holds_too() {
    let (env, id) = with_threshold();
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    env.set_total(id, "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 1);
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
}

#[test]
fn a_webhook_beyond_the_threshold_is_held() {
    let t = crate::serve::later();
    let (env, id) = with_threshold();
    let served = crate::serve::Served::start(&env, &["--poll", "0", "--max-change", "50%"]);
    let reply = served.deliver(&crate::serve::body(
        id,
        "8578.7",
        "draft",
        &format!("{t}.000001"),
    ));
    assert!(reply.1.contains("\"held\""), "{}", reply.1);
    served.stop();
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
    assert_eq!(open_conflicts(&env)[0]["odoo_amount"], "8578.70");
}

#[test]
fn without_a_threshold_every_change_is_applied() {
    let (env, id) = with_threshold();
    env.write_env(&[]);
    env.set_total(id, "8578.70");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.portal_amount(id).unwrap(), "8578.70");
}

#[test]
fn status_counts_open_conflicts() {
    let (env, id) = with_threshold();
    env.set_total(id, "8578.70");
    env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(env.run(&["status", "--json"]).json()["open_conflicts"], 1);
}

/// Customer 1's orders stored and in agreement with Odoo.
fn in_agreement() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env
}

#[test]
fn reconcile_finds_nothing_when_the_two_agree() {
    let env = in_agreement();
    let run = env.run(&["orders", "reconcile"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("agree"), "{}", run.stdout);
}

#[test]
fn reconcile_lists_a_deleted_a_new_and_a_changed_order_and_nothing_else() {
    let env = in_agreement();
    let ids: Vec<i64> = env.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["odoo_order_id"].as_i64().unwrap())
        .collect();
    let (new_id, changed) = env.fake.with_world(|w| {
        w.orders.remove(&ids[0]);
        let changed = ids[1..]
            .iter()
            .copied()
            .find(|id| w.orders[id].state != "sale")
            .unwrap();
        w.orders.get_mut(&changed).unwrap().state = "sale".into();
        (w.add_order(9, Decimal::from_str("10.00").unwrap()), changed)
    });
    let run = env.run(&["orders", "reconcile", "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let j = run.json();
    let rows = j["disagreements"].as_array().unwrap();
    let mut found: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["odoo_order_id"].as_i64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let mut want = vec![
        ("missing_in_odoo".to_string(), ids[0]),
        ("state".to_string(), changed),
        ("missing_locally".to_string(), new_id),
    ];
    want.sort();
    assert_eq!(found, want);
    assert_eq!(j["missing_in_odoo"], 1);
    assert_eq!(j["missing_locally"], 1);
    assert_eq!(j["state_differs"], 1);
    assert_eq!(j["amount_differs"], 0);
}

#[test]
fn reconcile_reports_an_amount_difference_and_writes_csv() {
    let env = in_agreement();
    let id =
        env.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"][0]["odoo_order_id"]
            .as_i64()
            .unwrap();
    env.set_total(id, "123.45");
    let run = env.run(&["orders", "reconcile", "--format", "csv"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "kind,order_id,odoo_order_id,order_number,currency,portal,odoo"
    );
    assert!(lines[1].starts_with("amount,"), "{}", run.stdout);
    assert!(lines[1].ends_with(",123.45"), "{}", run.stdout);
    assert_eq!(lines.len(), 2);
}

#[test]
fn reconcile_changes_nothing() {
    let env = in_agreement();
    let id =
        env.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"][0]["odoo_order_id"]
            .as_i64()
            .unwrap();
    let before = env.portal_amount(id).unwrap();
    env.set_total(id, "123.45");
    env.run(&["orders", "reconcile"]);
    assert_eq!(env.portal_amount(id).unwrap(), before);
}

#[test]
fn reconcile_of_one_customer_looks_at_its_orders_only() {
    let env = in_agreement();
    let other = env.run(&[
        "customers",
        "add",
        "--name",
        "Gemini",
        "--email",
        "gemini@example.com",
        "--odoo-partner-id",
        "10",
    ]);
    assert_eq!(other.code, 0, "{}", other.all());
    // Customer 2's Odoo orders are not stored: a disagreement for it, none for customer 1.
    assert_eq!(env.run(&["orders", "reconcile", "--customer", "2"]).code, 1);
    let run = env.run(&["orders", "reconcile", "--customer", "1", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.json()["local_orders"].as_u64().unwrap() > 0);
}

/// Customer 1's orders stored; one of them (returned) held for review by a run given
/// `--max-change 50%` on its command line only: 857.87 kept, Odoo at 8578.70.
fn held_by_flag() -> (TestEnv, i64) {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id = env.first_odoo_id();
    env.set_total(id, "857.87");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    env.set_total(id, "8578.70");
    let held = env.run(&["orders", "sync-amounts", "--all", "--max-change", "50%"]);
    assert_eq!(held.code, 1, "{}", held.all());
    (env, id)
}

fn shown(env: &TestEnv, id: i64) -> serde_json::Value {
    env.run(&["orders", "show", "--odoo-id", &id.to_string(), "--json"])
        .json()
}

#[test]
fn sync_status_does_not_record_a_held_amount() {
    let (env, id) = held_by_flag();
    let local = shown(&env, id)["id"].as_i64().unwrap().to_string();
    let run = env.run(&["orders", "sync-status", "--order-id", &local]);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    let s = shown(&env, id);
    assert_eq!(s["amount"], "857.87", "{s}");
    assert_ne!(s["odoo_amount_total"], "8578.70", "{s}");
}

#[test]
fn sync_on_read_does_not_record_a_held_amount() {
    let (env, id) = held_by_flag();
    assert_eq!(env.run(&["orders", "list", "--customer", "1"]).code, 0);
    let s = shown(&env, id);
    assert_eq!(s["amount"], "857.87", "{s}");
    assert_ne!(s["odoo_amount_total"], "8578.70", "{s}");
    assert_eq!(open_conflicts(&env)[0]["odoo_amount"], "8578.70");
}

#[test]
fn a_sync_without_a_threshold_keeps_an_open_conflict_held() {
    let (env, id) = held_by_flag();
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(env.portal_amount(id).unwrap(), "857.87");
}

#[test]
fn sync_on_read_holds_a_change_beyond_the_configured_threshold() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_MAX_CHANGE", "50%")]);
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id = env.first_odoo_id();
    let before = shown(&env, id)["amount"].clone();
    let tenfold = (Decimal::from_str(before.as_str().unwrap()).unwrap() * Decimal::TEN).to_string();
    env.set_total(id, &tenfold);
    assert_eq!(env.run(&["orders", "list", "--customer", "1"]).code, 0);
    assert_eq!(shown(&env, id)["amount"], before);
    assert_eq!(open_conflicts(&env)[0]["odoo_amount"], tenfold.as_str());
}

#[test]
fn an_order_whose_odoo_amount_is_beyond_the_threshold_at_creation_is_held() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_MAX_CHANGE", "50%")]);
    env.link_deco();
    // The portal says 23.00; Odoo prices the two chairs at 2 × 100 + 15 % tax = 230.00.
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "23.00",
        "--line",
        "5:2:100",
        "--idempotency-key",
        "typo-1",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let order = &run.json()["order"];
    assert_eq!(order["total_amount"], "23.00", "{order}");
    assert!(
        order["odoo_amount_total"].is_null(),
        "held, not recorded: {order}"
    );
    let conflicts = open_conflicts(&env);
    assert_eq!(conflicts[0]["odoo_amount"], "230.00", "{conflicts}");
}
