//! `orders sync-amounts --changed`: only what Odoo changed since the change cursor.

use std::str::FromStr;

use fake_odoo::{Fault, FaultRule};
use rust_decimal::Decimal;

use crate::env::TestEnv;

/// Customer 1 linked to partner 9, whose 5 demo orders are stored locally.
fn with_orders() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env
}

fn cursor(env: &TestEnv) -> Option<(String, i64)> {
    env.rows("SELECT write_date, odoo_id FROM orderbridge_sync_cursors WHERE name = 'sale.order'")
        .into_iter()
        .next()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_deref().unwrap().parse().unwrap(),
            )
        })
}

#[test]
fn the_first_changed_run_is_a_full_sync_that_sets_the_cursor() {
    let env = with_orders();
    env.set_total(5, "123.45");
    let run = env.run(&["orders", "sync-amounts", "--changed"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.portal_amount(5).unwrap(), "123.45");
    let (_, id) = cursor(&env).expect("a cursor");
    assert!(id > 0);
}

#[test]
fn a_later_run_reads_only_the_changes_and_their_lines() {
    let env = with_orders();
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    env.set_total(9, "999.99");
    env.fake.reset_calls();
    let run = env.run(&["orders", "sync-amounts", "--changed", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    // version, one page of changes, the changed order's lines, a page of invoices: the
    // login's uid is remembered from the first run.
    assert_eq!(env.fake.requests(), 4, "{:?}", env.fake.all_calls());
    assert_eq!(env.portal_amount(9).unwrap(), "999.99");
    let j = run.json();
    assert_eq!(j["summary"]["updated"], 1, "{j}");
}

#[test]
fn a_change_stamped_before_the_cursor_is_caught_by_the_overlap() {
    let env = with_orders();
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    // A transaction that started two minutes ago and committed only now.
    env.fake.with_world(|w| {
        w.set_clock(chrono::Utc::now() - chrono::Duration::seconds(120));
        w.set_order_total(13, Decimal::from_str("77.70").unwrap());
    });
    let run = env.run(&["orders", "sync-amounts", "--changed"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.portal_amount(13).unwrap(), "77.70");
}

#[test]
fn changes_are_read_in_pages_and_the_cursor_ends_at_the_last() {
    let env = with_orders();
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    for id in [1, 5, 9, 13, 17] {
        env.set_total(id, "10.00");
    }
    env.fake.reset_calls();
    let run = env.run(&["orders", "sync-amounts", "--changed", "--batch-size", "2"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(env.fake.calls("sale.order", "search_read") >= 3);
    for id in [1, 5, 9, 13, 17] {
        assert_eq!(env.portal_amount(id).unwrap(), "10.00", "order {id}");
    }
}

#[test]
fn a_failed_page_leaves_the_cursor_where_it_was() {
    let env = with_orders();
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    let before = cursor(&env);
    env.set_total(9, "55.00");
    env.fake.inject(FaultRule::once(
        Fault::BadGateway,
        "sale.order",
        "search_read",
    ));
    let run = env.run(&["orders", "sync-amounts", "--changed"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert_eq!(cursor(&env), before);
    // The next run catches up.
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    assert_eq!(env.portal_amount(9).unwrap(), "55.00");
}
