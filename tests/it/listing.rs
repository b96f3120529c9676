//! Sync on read that scales: a listing pulls only what Odoo has new or changed since that
//! customer's last pull, a page at a time; change cursors anchor their overlap on Odoo's
//! clock, so a quiet Odoo costs one empty read.

use std::str::FromStr;

use fake_odoo::FakeOptions;
use rust_decimal::Decimal;

use crate::env::TestEnv;

fn list(env: &TestEnv) -> serde_json::Value {
    let run = env.run(&["orders", "list", "--customer", "1", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    run.json()
}

/// Moves the fake's clock `minutes` ahead of now: Odoo has been quiet since.
fn later_by(env: &TestEnv, minutes: i64) {
    env.fake
        .with_world(|w| w.set_clock(chrono::Utc::now() + chrono::TimeDelta::minutes(minutes)));
}

#[test]
fn a_later_view_of_an_unchanged_customer_reads_nothing() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(list(&env)["sync"]["read"], 5);
    later_by(&env, 10);
    // Odoo's clock at the first view was within the overlap of its last change: re-read once.
    list(&env);
    env.fake.reset_calls();
    let quiet = list(&env);
    assert_eq!(quiet["sync"]["read"], 0, "{quiet}");
    assert_eq!(quiet["orders"].as_array().unwrap().len(), 5);
    // The version, one empty read.
    assert_eq!(env.fake.requests(), 2, "{:?}", env.fake.all_calls());
}

#[test]
fn a_later_view_pulls_what_odoo_added_or_changed_since() {
    let env = TestEnv::new();
    env.link_deco();
    list(&env);
    later_by(&env, 10);
    list(&env);
    env.set_total(9, "321.00");
    let new_id = env
        .fake
        .with_world(|w| w.add_order(9, Decimal::from_str("40.00").unwrap()));
    let next = list(&env);
    assert_eq!(next["sync"]["read"], 2, "{next}");
    assert_eq!(next["sync"]["pulled"], 1, "{next}");
    assert_eq!(next["total"], 6);
    let shown = env
        .run(&["orders", "show", "--odoo-id", "9", "--json"])
        .json();
    assert_eq!(shown["amount"], "321.00");
    assert!(env.portal_amount(new_id).is_some());
}

#[test]
fn the_first_pull_of_a_large_customer_is_read_a_page_at_a_time() {
    let env = TestEnv::with(FakeOptions {
        orders: 24_000,
        ..FakeOptions::default()
    });
    env.link_deco();
    env.fake.reset_calls();
    let first = list(&env);
    assert_eq!(first["sync"]["pulled"], 6000, "{}", first["sync"]);
    // 5,000 orders a page.
    assert_eq!(env.fake.calls("sale.order", "search_read"), 2);
    assert_eq!(first["total"], 6000);
}

#[test]
fn a_newly_linked_partner_is_pulled_whole() {
    let env = TestEnv::new();
    env.link_deco();
    later_by(&env, 10);
    let run = env.run(&["orders", "list", "--json"]);
    assert_eq!(run.json()["sync"]["pulled"], 5);
    let add = env.run(&[
        "customers",
        "add",
        "--name",
        "Gemini",
        "--email",
        "g@example.com",
        "--odoo-partner-id",
        "10",
    ]);
    assert_eq!(add.code, 0, "{}", add.all());
    let all = env.run(&["orders", "list", "--json"]).json();
    assert_eq!(
        all["sync"]["pulled"], 5,
        "partner 10's older orders too: {all}"
    );
}

#[test]
fn a_quiet_odoo_costs_the_changed_sync_two_empty_reads() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    // The cursor is set at Odoo's newest change; then a burst of changes.
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    for id in [1, 5, 9, 13, 17] {
        env.set_total(id, "77.00");
    }
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    later_by(&env, 10);
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    env.fake.reset_calls();
    let quiet = env.run(&["orders", "sync-amounts", "--changed", "--json"]);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(
        quiet.json()["summary"]["found"],
        0,
        "the burst is not re-read"
    );
    // The version, an empty page of orders, an empty page of invoices.
    assert_eq!(env.fake.requests(), 3, "{:?}", env.fake.all_calls());
}
