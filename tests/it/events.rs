//! The portal's events, as the store records them, whichever process makes the change: one
//! per change, in the change's own transaction, with what changed.

use crate::env::TestEnv;

/// `(kind, data)` of the stored events, oldest first.
fn events(env: &TestEnv) -> Vec<(String, serde_json::Value)> {
    env.rows("SELECT kind, data FROM orderbridge_events ORDER BY id")
        .into_iter()
        .map(|r| {
            let kind = r[0].clone().unwrap();
            let data = serde_json::from_str(r[1].as_deref().unwrap()).unwrap();
            (kind, data)
        })
        .collect()
}

fn of_kind(env: &TestEnv, kind: &str) -> Vec<serde_json::Value> {
    events(env)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, d)| d)
        .collect()
}

/// Customer 1's five demo orders pulled, the first one's Odoo id.
fn pulled() -> (TestEnv, i64) {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id = env.first_odoo_id();
    (env, id)
}

#[test]
fn orders_pulled_from_odoo_are_told_as_created_from_odoo() {
    let (env, _) = pulled();
    let created = of_kind(&env, "order.created");
    assert_eq!(created.len(), 5, "{created:?}");
    assert!(created.iter().all(|d| d["source"] == "odoo"));
}

#[test]
fn an_order_flushed_from_the_outbox_is_told_as_created_once() {
    let env = crate::outbox::down();
    crate::outbox::queue_order(&env, "q-ev", "5");
    assert!(
        of_kind(&env, "order.created").is_empty(),
        "queued is not created"
    );
    env.fake.come_up();
    assert_eq!(env.run(&["orders", "flush"]).code, 0);
    assert_eq!(env.run(&["orders", "flush"]).code, 0);
    let created = of_kind(&env, "order.created");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["source"], "portal");
    assert_eq!(created[0]["idempotency_key"], "q-ev");
}

#[test]
fn a_synced_amount_change_is_told_with_from_and_to_and_an_unchanged_one_is_not() {
    let (env, id) = pulled();
    let before = env.portal_amount(id).unwrap();
    env.set_total(id, "999.50");
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let changed = of_kind(&env, "order.amount_changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["from"], before.as_str());
    assert_eq!(changed[0]["to"], "999.50");
}

#[test]
fn a_status_change_is_told_once() {
    let (env, id) = pulled();
    env.fake.with_world(|w| w.confirm(id));
    let sync = ["orders", "sync-amounts", "--all", "--with-status"];
    assert_eq!(env.run(&sync).code, 0);
    assert_eq!(env.run(&sync).code, 0);
    let changed = of_kind(&env, "order.status_changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["odoo_state"], "sale");
    assert_ne!(changed[0]["from"], changed[0]["to"]);
}

#[test]
fn an_amount_held_for_review_is_told_as_a_conflict_not_a_change() {
    let (env, id) = pulled();
    let before: rust_decimal::Decimal = env.portal_amount(id).unwrap().parse().unwrap();
    let tenfold = (before * rust_decimal::Decimal::TEN)
        .round_dp(2)
        .to_string();
    env.set_total(id, &tenfold);
    env.write_env(&[("ORDERBRIDGE_MAX_CHANGE", "50%")]);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 1);
    let opened = of_kind(&env, "order.conflict_opened");
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["kind"], "amount");
    assert_eq!(opened[0]["odoo_amount"], tenfold.as_str());
    assert!(of_kind(&env, "order.amount_changed").is_empty());
}
