//! The portal's changes back to Odoo: `orders cancel` and `orders update`, exactly once,
//! never blind (the portal's cancel rule, Odoo 18's wizard, the state read back; an update
//! over staff's change held for review).

use rust_decimal::Decimal;

use crate::env::TestEnv;
use crate::whole_order::{later, with_inventory_of as with_inventory};

fn local_id(env: &TestEnv, odoo_id: i64) -> String {
    env.scalar(&format!(
        "SELECT id FROM sales_orders WHERE odoo_order_id = {odoo_id}"
    ))
    .unwrap()
}

fn odoo_state(env: &TestEnv, odoo_id: i64) -> String {
    env.fake.with_world(|w| w.orders[&odoo_id].state.clone())
}

fn confirmed(env: &TestEnv, odoo_id: i64) {
    env.fake.with_world(|w| w.confirm(odoo_id));
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
}

#[test]
fn a_confirmed_undelivered_order_is_cancelled_in_odoo_and_locally() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    let run = env.run(&["orders", "cancel", &local_id(&env, 1), "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    assert_eq!(j["outcome"], "done");
    assert_eq!(j["order"]["status"], "cancelled");
    assert_eq!(odoo_state(&env, 1), "cancel");
    let picking = env.fake.with_world(|w| {
        w.books
            .pickings
            .values()
            .find(|p| p.order_id == 1)
            .map(|p| p.state.clone())
    });
    assert_eq!(picking.as_deref(), Some("cancel"));
}

#[test]
fn a_retried_cancel_answers_from_the_store_and_never_acts_twice() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    let id = local_id(&env, 1);
    assert_eq!(env.run(&["orders", "cancel", &id]).code, 0);
    env.fake.reset_calls();
    let again = env.run(&["orders", "cancel", &id, "--json"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.json()["outcome"], "already_done");
    assert_eq!(env.fake.requests(), 0, "{:?}", env.fake.all_calls());
}

#[test]
fn a_cancel_is_refused_once_anything_is_delivered_and_nothing_changes() {
    let env = with_inventory(19);
    env.fake.with_world(|w| {
        w.add_goods(
            8,
            ("FURN_7800", "Desk", ""),
            Decimal::from(450),
            Decimal::from(50),
        );
        w.add_line(1, 8, Decimal::from(3));
        w.confirm(1);
    });
    let line = env
        .fake
        .with_world(|w| *w.orders[&1].line_ids.last().unwrap());
    env.fake
        .with_world(|w| w.deliver_line(1, line, Decimal::from(1)));
    env.fake.reset_calls();
    let run = env.run(&["orders", "cancel", &local_id(&env, 1), "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let j = run.json();
    assert_eq!(j["outcome"], "refused");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("1 of 4 units are delivered"),
        "{j}"
    );
    assert_eq!(odoo_state(&env, 1), "sale");
    assert_eq!(env.fake.calls("sale.order", "action_cancel"), 0);
}

#[test]
fn on_odoo_18_the_cancel_goes_through_its_wizard_and_is_read_back() {
    let env = with_inventory(18);
    confirmed(&env, 1);
    env.fake.reset_calls();
    let run = env.run(&["orders", "cancel", &local_id(&env, 1), "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(odoo_state(&env, 1), "cancel");
    assert_eq!(env.fake.calls("sale.order", "action_cancel"), 1);
    assert_eq!(env.fake.calls("sale.order.cancel", "create"), 1);
    assert_eq!(env.fake.calls("sale.order.cancel", "action_cancel"), 1);
    assert_eq!(run.json()["order"]["status"], "cancelled");
}

#[test]
fn a_locked_orders_cancel_shows_odoos_reason() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    env.fake.with_world(|w| w.lock(1));
    let run = env.run(&["orders", "cancel", &local_id(&env, 1), "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let j = run.json();
    assert_eq!(j["outcome"], "refused");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("You cannot cancel a locked order"),
        "{j}"
    );
    assert_eq!(odoo_state(&env, 1), "sale");
}

#[test]
fn an_update_sets_the_note_reference_and_promised_date_in_odoo_once() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    // The update's write is stamped a later second than what the portal had seen: the
    // retry below sees another write_date and is still the same change.
    later(&env, 3);
    let id = local_id(&env, 1);
    let args = [
        "orders",
        "update",
        &id,
        "--note",
        "Leave at the back door",
        "--customer-ref",
        "PO-7781",
        "--commitment-date",
        "2026-12-24",
        "--json",
    ];
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["outcome"], "done");
    let (note, reference, promised) = env.fake.with_world(|w| {
        let o = &w.orders[&1];
        (
            o.note.clone(),
            o.client_order_ref.clone(),
            o.commitment_date,
        )
    });
    assert_eq!(note.as_deref(), Some("Leave at the back door"));
    assert_eq!(reference.as_deref(), Some("PO-7781"));
    assert_eq!(
        promised
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .as_deref(),
        Some("2026-12-24 00:00:00")
    );
    let shown = env.run(&["orders", "show", &id, "--json"]).json();
    assert_eq!(shown["note"], "Leave at the back door");
    assert_eq!(shown["details"]["commitment_date"], "2026-12-24T00:00:00Z");
    env.fake.reset_calls();
    let again = env.run(&args);
    assert_eq!(again.json()["outcome"], "already_done");
    assert_eq!(env.fake.calls("sale.order", "write"), 0);
}

#[test]
fn an_update_over_staffs_later_change_is_held_for_review() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    later(&env, 5);
    env.fake
        .with_world(|w| w.set_note(1, "Staff: call before delivery"));
    let id = local_id(&env, 1);
    let run = env.run(&["orders", "update", &id, "--note", "Portal note", "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let j = run.json();
    assert_eq!(j["outcome"], "held", "{j}");
    let held = j["held_update_id"].as_i64().unwrap();
    assert_eq!(
        env.fake
            .with_world(|w| w.orders[&1].note.clone())
            .as_deref(),
        Some("Staff: call before delivery"),
        "staff's change stays"
    );
    let list = env.run(&["orders", "conflicts", "--json"]).json();
    assert_eq!(list[0]["kind"], "update", "{list}");
    // A person sends it over staff's change.
    let accept = env.run(&["orders", "conflicts", "accept", &format!("u{held}")]);
    assert_eq!(accept.code, 0, "{}", accept.all());
    assert_eq!(
        env.fake
            .with_world(|w| w.orders[&1].note.clone())
            .as_deref(),
        Some("Portal note")
    );
    assert_eq!(
        env.run(&["orders", "conflicts", "--json"]).json(),
        serde_json::json!([])
    );
}

#[test]
fn a_held_update_kept_leaves_odoo_as_staff_left_it() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    later(&env, 5);
    env.fake.with_world(|w| w.set_note(1, "Staff note"));
    let run = env.run(&[
        "orders",
        "update",
        &local_id(&env, 1),
        "--note",
        "Portal",
        "--json",
    ]);
    let held = run.json()["held_update_id"].as_i64().unwrap();
    let keep = env.run(&["orders", "conflicts", "keep", &format!("u{held}")]);
    assert_eq!(keep.code, 0, "{}", keep.all());
    assert_eq!(
        env.fake
            .with_world(|w| w.orders[&1].note.clone())
            .as_deref(),
        Some("Staff note")
    );
}

#[test]
fn a_cancel_while_odoo_is_down_is_queued_and_flushed_later() {
    let env = with_inventory(19);
    confirmed(&env, 1);
    env.fake.go_down();
    let run = env.run(&[
        "orders",
        "cancel",
        &local_id(&env, 1),
        "--queue-if-unavailable",
        "--json",
    ]);
    assert_eq!(run.code, 5, "{}", run.all());
    assert_eq!(run.json()["outcome"], "queued");
    env.fake.come_up();
    let flush = env.run(&["orders", "flush", "--json"]);
    assert_eq!(flush.code, 0, "{}", flush.all());
    assert_eq!(flush.json()["changes"][0]["outcome"], "done");
    assert_eq!(odoo_state(&env, 1), "cancel");
}
