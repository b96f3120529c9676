//! `odoo install-webhook`: the server action and the automation rule, made once, updated in
//! place, removed; refused clearly where Odoo cannot; and the whole path through `serve`.

use std::str::FromStr;

use fake_odoo::FakeOptions;
use fake_odoo::world::{SALESMAN_LOGIN, SALESMAN_PASSWORD};
use rust_decimal::Decimal;

use crate::env::TestEnv;
use crate::serve::{SECRET, Served};

fn on_version(version: u32) -> TestEnv {
    let env = TestEnv::with(FakeOptions {
        version,
        ..FakeOptions::default()
    });
    env.write_env(&[("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)]);
    env
}

const URL: &str = "https://portal.example.com/orderbridge";

/// (action count, rule count) in the fake Odoo.
fn made(env: &TestEnv) -> (usize, usize) {
    env.fake
        .with_world(|w| (w.actions.len(), w.automations.len()))
}

#[test]
fn it_creates_the_action_and_the_rule_on_odoo_17_18_and_19() {
    for version in [17, 18, 19] {
        let env = on_version(version);
        let run = env.run(&["odoo", "install-webhook", "--url", URL]);
        assert_eq!(run.code, 0, "Odoo {version}: {}", run.all());
        assert!(
            run.stdout.contains("created ir.actions.server"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("created base.automation"),
            "{}",
            run.stdout
        );
        env.fake.with_world(|w| {
            let action = w.actions.values().next().unwrap();
            assert_eq!(action.state, "webhook");
            assert_eq!(
                action.webhook_url.as_deref(),
                Some(format!("{URL}/odoo/webhook/{SECRET}").as_str())
            );
            assert_eq!(action.webhook_field_ids.len(), 5);
            let rule = w.automations.values().next().unwrap();
            assert_eq!(rule.trigger, "on_create_or_write");
            // invoice_status too (Sales has it; delivery_status needs Inventory).
            assert_eq!(
                rule.trigger_field_ids.len(),
                3,
                "amount_total, state, invoice_status"
            );
            assert_eq!(rule.trigger_field_ids[..2], [6558, 6526]);
            assert_eq!(rule.action_server_ids, vec![action.id]);
            assert!(rule.active);
        });
    }
}

#[test]
fn the_report_never_shows_the_secret() {
    let env = on_version(19);
    let run = env.run(&["odoo", "install-webhook", "--url", URL]);
    assert!(!run.all().contains(SECRET), "{}", run.all());
    assert!(run.stdout.contains("/odoo/webhook/****"), "{}", run.stdout);
}

#[test]
fn running_it_again_updates_in_place() {
    let env = on_version(19);
    assert_eq!(env.run(&["odoo", "install-webhook", "--url", URL]).code, 0);
    env.fake.with_world(|w| {
        for r in w.automations.values_mut() {
            r.active = false;
        }
    });
    let run = env.run(&[
        "odoo",
        "install-webhook",
        "--url",
        "https://new.example.com",
        "--fields",
        "origin",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("updated base.automation"),
        "{}",
        run.stdout
    );
    assert_eq!(made(&env), (1, 1));
    env.fake.with_world(|w| {
        let action = w.actions.values().next().unwrap();
        assert!(
            action
                .webhook_url
                .as_deref()
                .unwrap()
                .starts_with("https://new.example.com/")
        );
        assert_eq!(action.webhook_field_ids.len(), 6);
        assert!(w.automations.values().next().unwrap().active, "reactivated");
    });
}

#[test]
fn remove_deletes_both_and_then_finds_nothing() {
    let env = on_version(19);
    assert_eq!(env.run(&["odoo", "install-webhook", "--url", URL]).code, 0);
    let run = env.run(&["odoo", "install-webhook", "--remove"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("removed base.automation"),
        "{}",
        run.stdout
    );
    assert_eq!(made(&env), (0, 0));
    let again = env.run(&["odoo", "install-webhook", "--remove"]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("nothing to remove"),
        "{}",
        again.stdout
    );
}

#[test]
fn odoo_16_is_told_it_has_no_webhook_action() {
    let env = on_version(16);
    let run = env.run(&["odoo", "install-webhook", "--url", URL]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("no \"Send Webhook Notification\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(made(&env), (0, 0));
}

#[test]
fn without_base_automation_it_says_which_module_to_install() {
    let env = on_version(19);
    env.fake.with_world(|w| w.base_automation = false);
    let run = env.run(&["odoo", "install-webhook", "--url", URL]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("base_automation"), "{}", run.stderr);
    assert_eq!(made(&env), (0, 0));
}

#[test]
fn a_user_without_settings_rights_is_told_so_and_nothing_is_made() {
    let env = on_version(19);
    env.write_env(&[
        ("ORDERBRIDGE_WEBHOOK_SECRET", SECRET),
        ("ODOO_USERNAME", SALESMAN_LOGIN),
        ("ODOO_PASSWORD", SALESMAN_PASSWORD),
    ]);
    let run = env.run(&["odoo", "install-webhook", "--url", URL]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("may not manage server actions"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Administration / Settings"),
        "{}",
        run.stderr
    );
    assert_eq!(made(&env), (0, 0));
}

#[test]
fn an_unknown_field_is_refused_before_anything_is_made() {
    let env = on_version(19);
    let run = env.run(&[
        "odoo",
        "install-webhook",
        "--url",
        URL,
        "--fields",
        "colour",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("colour"), "{}", run.stderr);
    assert_eq!(made(&env), (0, 0));
}

/// Odoo posts a change to `serve` before the staff's save returns: the store has it then.
#[test]
fn a_price_change_in_odoo_reaches_the_store_through_serve() {
    let env = on_version(19);
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id =
        env.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"][0]["odoo_order_id"]
            .as_i64()
            .unwrap();
    let served = Served::start(&env, &["--poll", "0"]);
    let url = format!("http://{}", served.addr);
    assert_eq!(env.run(&["odoo", "install-webhook", "--url", &url]).code, 0);
    env.fake
        .edit(|w| w.set_order_total(id, Decimal::from_str("555.55").unwrap()));
    let show = env.run(&["orders", "show", "--odoo-id", &id.to_string(), "--json"]);
    assert_eq!(show.json()["total_amount"], "555.55");
    let run = served.stop();
    assert!(run.stdout.contains("1 updated"), "{}", run.stdout);
}

#[test]
fn it_works_over_every_protocol() {
    for (protocol, secret_key, secret) in [
        ("xmlrpc", "ODOO_PASSWORD", fake_odoo::world::ADMIN_PASSWORD),
        ("jsonrpc", "ODOO_PASSWORD", fake_odoo::world::ADMIN_PASSWORD),
        ("json2", "ODOO_API_KEY", fake_odoo::world::ADMIN_API_KEY),
    ] {
        let env = on_version(19);
        env.write_env(&[
            ("ORDERBRIDGE_WEBHOOK_SECRET", SECRET),
            ("ODOO_PROTOCOL", protocol),
            ("ODOO_PASSWORD", ""),
            (secret_key, secret),
        ]);
        let run = env.run(&["odoo", "install-webhook", "--url", URL]);
        assert_eq!(run.code, 0, "{protocol}: {}", run.all());
        assert_eq!(made(&env), (1, 1), "{protocol}");
        assert_eq!(env.run(&["odoo", "install-webhook", "--remove"]).code, 0);
        assert_eq!(made(&env), (0, 0), "{protocol}");
    }
}

#[test]
fn with_inventory_deliveries_and_invoices_trigger_too() {
    let env = crate::env::TestEnv::with(fake_odoo::FakeOptions {
        inventory: true,
        ..fake_odoo::FakeOptions::default()
    });
    env.write_env(&[("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)]);
    let run = env.run(&["odoo", "install-webhook", "--url", URL, "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.json()["trigger_fields"],
        serde_json::json!(["amount_total", "state", "delivery_status", "invoice_status"])
    );
}
