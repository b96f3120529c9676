//! The whole order from Odoo to the portal: lines (sections and notes kept), delivery by the
//! lines' quantities, invoicing and payment, on every sync path, in the same round trips.

use rust_decimal::Decimal;

use crate::env::TestEnv;

/// A fake Odoo 19 with Inventory, Deco Addict linked and its orders stored.
fn with_inventory() -> TestEnv {
    with_inventory_of(19)
}

/// [`with_inventory`] on Odoo `version`.
pub(crate) fn with_inventory_of(version: u32) -> TestEnv {
    let env = TestEnv::with(fake_odoo::FakeOptions {
        inventory: true,
        version,
        ..fake_odoo::FakeOptions::default()
    });
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0, "Odoo {version}");
    env
}

/// Moves the fake's clock on, so that what staff do next is stamped later than what was
/// read before.
pub(crate) fn later(env: &TestEnv, minutes: i64) {
    env.fake
        .with_world(|w| w.set_clock(chrono::Utc::now() + chrono::TimeDelta::minutes(minutes)));
}

fn show(env: &TestEnv, odoo_id: i64) -> serde_json::Value {
    let run = env.run(&[
        "orders",
        "show",
        "--odoo-id",
        &odoo_id.to_string(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    run.json()
}

fn sync_all(env: &TestEnv) {
    let run = env.run(&["orders", "sync-amounts", "--all", "--with-status"]);
    assert_eq!(run.code, 0, "{}", run.all());
}

/// Staff add a line (3 desks) to Odoo order 1 and confirm it: 1 chair + 3 desks.
fn confirmed_with_desks(env: &TestEnv) -> i64 {
    env.fake.with_world(|w| {
        w.add_goods(
            8,
            ("FURN_7800", "Desk Combination", ""),
            Decimal::from(450),
            Decimal::from(100),
        );
        let line = w.add_line(1, 8, Decimal::from(3));
        w.confirm(1);
        line
    })
}

#[test]
fn a_full_sync_stores_the_lines_staff_added() {
    let env = with_inventory();
    later(&env, 1);
    confirmed_with_desks(&env);
    sync_all(&env);
    let j = show(&env, 1);
    let lines = j["details"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{j}");
    assert_eq!(lines[1]["product_name"], "[FURN_7800] Desk Combination");
    assert_eq!(lines[1]["quantity"], "3");
    assert_eq!(lines[1]["unit_price"], "450.00");
    assert_eq!(lines[1]["total"], "1552.50");
    assert_eq!(j["details"]["delivery_status"], "pending");
    assert_eq!(j["status"], "confirmed");
}

#[test]
fn delivery_is_told_by_the_lines_quantities() {
    let env = with_inventory();
    later(&env, 1);
    let desks = confirmed_with_desks(&env);
    later(&env, 2);
    env.fake
        .with_world(|w| w.deliver_line(1, desks, Decimal::from(2)));
    sync_all(&env);
    let j = show(&env, 1);
    assert_eq!(j["details"]["delivery_status"], "partial", "{j}");
    assert_eq!(j["details"]["units"]["ordered"], "4");
    assert_eq!(j["details"]["units"]["delivered"], "2");
    assert_eq!(j["details"]["lines"][1]["qty_delivered"], "2");
    assert_eq!(j["status"], "partially_shipped");
}

#[test]
fn odoos_full_with_units_missing_is_shown_as_what_left() {
    let env = with_inventory();
    later(&env, 1);
    let desks = confirmed_with_desks(&env);
    later(&env, 2);
    // Two desks leave, the rest goes to a backorder that staff then cancel with the order:
    // every picking is done or cancelled, so Odoo says "full".
    env.fake.with_world(|w| {
        w.deliver_line(1, desks, Decimal::from(2));
        w.cancel(1);
    });
    sync_all(&env);
    let j = show(&env, 1);
    assert_eq!(j["details"]["delivery_status"], "full", "{j}");
    assert_eq!(j["details"]["units"]["delivered"], "2");
    assert_eq!(j["status"], "cancelled");
    let human = env.run(&["orders", "show", "--odoo-id", "1"]).stdout;
    assert!(human.contains("2 of 4 units delivered"), "{human}");
    assert!(human.contains("the rest will not be sent"), "{human}");
}

#[test]
fn invoicing_and_payment_reach_the_store() {
    let env = with_inventory();
    later(&env, 1);
    confirmed_with_desks(&env);
    later(&env, 2);
    let invoice = env.fake.with_world(|w| {
        w.deliver_all(1);
        w.invoice_delivered(1).unwrap()
    });
    sync_all(&env);
    let j = show(&env, 1);
    assert_eq!(j["details"]["invoice_status"], "invoiced", "{j}");
    assert_eq!(j["details"]["payment_state"], "not_paid");
    assert_eq!(j["details"]["amount_to_invoice"], "0.00");
    assert_eq!(j["status"], "invoiced");
    env.fake.with_world(|w| w.pay_invoice(invoice));
    sync_all(&env);
    let j = show(&env, 1);
    assert_eq!(j["details"]["payment_state"], "paid", "{j}");
    assert_eq!(j["status"], "paid");
}

#[test]
fn a_payment_reaches_the_store_within_the_changed_interval() {
    let env = with_inventory();
    later(&env, 1);
    confirmed_with_desks(&env);
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    later(&env, 2);
    let invoice = env.fake.with_world(|w| {
        w.deliver_all(1);
        w.invoice_delivered(1).unwrap()
    });
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    assert_eq!(show(&env, 1)["details"]["payment_state"], "not_paid");
    // Paying moves no write_date of the order: only the invoice's cursor sees it.
    later(&env, 10);
    let before = env.fake.with_world(|w| w.order_write_date(1));
    env.fake.with_world(|w| w.pay_invoice(invoice));
    assert_eq!(env.fake.with_world(|w| w.order_write_date(1)), before);
    let run = env.run(&["orders", "sync-amounts", "--changed"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(show(&env, 1)["details"]["payment_state"], "paid");
}

#[test]
fn sections_and_notes_are_kept_as_such_in_odoos_order() {
    let env = with_inventory();
    later(&env, 1);
    env.fake.with_world(|w| {
        w.add_text_line(1, "Office", false);
        w.add_text_line(1, "Delivered to the back door", true);
    });
    sync_all(&env);
    let j = show(&env, 1);
    let kinds: Vec<&serde_json::Value> = j["details"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["display_type"])
        .collect();
    assert_eq!(
        kinds,
        [
            &serde_json::Value::Null,
            &serde_json::json!("line_section"),
            &serde_json::json!("line_note")
        ]
    );
    assert_eq!(
        j["details"]["lines"][2]["description"],
        "Delivered to the back door"
    );
    assert_eq!(
        j["details"]["units"]["ordered"], "1",
        "only product lines count"
    );
}

#[test]
fn an_unchanged_order_is_not_written_again() {
    let env = with_inventory();
    sync_all(&env);
    let first = show(&env, 1)["details"]["synced_at"].clone();
    assert!(first.is_string());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sync_all(&env);
    assert_eq!(show(&env, 1)["details"]["synced_at"], first);
}

#[test]
fn sync_on_read_and_import_carry_the_whole_order() {
    let env = with_inventory();
    // Listed (sync on read) before any sync: its lines came with it.
    let j = show(&env, 5);
    assert_eq!(j["details"]["lines"].as_array().unwrap().len(), 1, "{j}");
    // Imported: the same.
    let other = TestEnv::with(fake_odoo::FakeOptions {
        inventory: true,
        ..fake_odoo::FakeOptions::default()
    });
    other.link_deco();
    assert_eq!(other.run(&["orders", "import", "--odoo-id", "9"]).code, 0);
    assert_eq!(
        show(&other, 9)["details"]["lines"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn lines_and_invoices_cost_a_call_each_per_chunk() {
    let env = with_inventory();
    sync_all(&env);
    env.fake.reset_calls();
    sync_all(&env);
    // One chunk: its orders, their lines; none invoiced, so no invoice read; what the
    // server offers is remembered.
    assert_eq!(env.fake.calls("sale.order", "search_read"), 1);
    assert_eq!(env.fake.calls("sale.order.line", "search_read"), 1);
    assert_eq!(env.fake.calls("account.move", "search_read"), 0);
    assert_eq!(env.fake.calls("sale.order", "fields_get"), 0);
}

#[test]
fn a_server_without_inventory_syncs_without_delivery_and_says_so_in_status() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    sync_all(&env);
    let j = show(&env, 1);
    assert_eq!(
        j["details"]["delivery_status"],
        serde_json::Value::Null,
        "{j}"
    );
    assert_eq!(j["details"]["lines"].as_array().unwrap().len(), 1);
    let status = env.run(&["status"]);
    assert_eq!(
        status.stdout.matches("lacks sale_stock").count(),
        1,
        "{}",
        status.stdout
    );
    let j = env.run(&["status", "--json"]).json();
    assert_eq!(j["odoo_missing"][0]["modules"][0], "sale_stock");
}

#[test]
fn a_webhook_brings_the_whole_order_shortly_after() {
    use crate::serve::{Served, body, wait_for};
    let env = with_inventory();
    later(&env, 1);
    let desks = confirmed_with_desks(&env);
    sync_all(&env);
    let served = Served::start(&env, &["--poll", "0"]);
    later(&env, 2);
    env.fake
        .with_world(|w| w.deliver_line(1, desks, Decimal::from(2)));
    let (amount, stamp) = env.fake.with_world(|w| {
        let o = &w.orders[&1];
        (w.amounts(o).2, o.write_date)
    });
    // What Odoo posts for the recomputed delivery_status: amount, state, write_date.
    let reply = served.deliver(&body(
        1,
        &amount.to_string(),
        "sale",
        &stamp.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
    ));
    assert_eq!(reply.0, 200, "{reply:?}");
    wait_for("the lines read after the webhook", || {
        show(&env, 1)["details"]["units"]["delivered"] == "2"
    });
    assert_eq!(show(&env, 1)["details"]["delivery_status"], "partial");
    served.stop();
}

#[test]
fn order_details_off_reads_amounts_and_states_only() {
    let env = with_inventory();
    env.write_env(&[("ORDERBRIDGE_ORDER_DETAILS", "false")]);
    env.fake.reset_calls();
    sync_all(&env);
    assert_eq!(env.fake.calls("sale.order.line", "search_read"), 0);
    assert_eq!(env.fake.calls("sale.order", "fields_get"), 0);
}

#[test]
fn the_portals_status_words_can_be_renamed() {
    let env = with_inventory();
    env.write_env(&[(
        "ORDERBRIDGE_STATUS_WORDS",
        "shipped=delivered,paid=completed",
    )]);
    later(&env, 1);
    confirmed_with_desks(&env);
    later(&env, 2);
    env.fake.with_world(|w| w.deliver_all(1));
    let run = env.run(&["orders", "sync-status", "--all"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(show(&env, 1)["status"], "delivered");
    env.write_env(&[("ORDERBRIDGE_STATUS_WORDS", "sent=x")]);
    let refused = env.run(&["orders", "sync-status", "--all"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.stderr.contains("is not a stage"),
        "{}",
        refused.stderr
    );
}

#[test]
fn odoo_16_to_18_give_the_whole_order_by_the_same_reads() {
    for version in [16, 17, 18] {
        let env = with_inventory_of(version);
        later(&env, 1);
        let desks = confirmed_with_desks(&env);
        later(&env, 2);
        env.fake
            .with_world(|w| w.deliver_line(1, desks, Decimal::from(1)));
        sync_all(&env);
        let j = show(&env, 1);
        assert_eq!(
            j["details"]["units"]["delivered"], "1",
            "Odoo {version}: {j}"
        );
        assert_eq!(j["details"]["delivery_status"], "partial", "Odoo {version}");
        assert_eq!(j["status"], "partially_shipped", "Odoo {version}");
    }
}
