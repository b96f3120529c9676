//! What only a shared store has: several hosts (processes with different host identities)
//! working on one server database (PostgreSQL or MySQL) at once.

use std::time::Duration;

use fake_odoo::{Fault, FaultRule};

use crate::env::{Run, TestEnv};
use crate::outbox::{down, odoo_orders_with, queue_order};

fn wait_all(children: Vec<std::process::Child>) -> Vec<Run> {
    children
        .into_iter()
        .map(|c| TestEnv::collect(c.wait_with_output().unwrap()))
        .collect()
}

fn slow(env: &TestEnv, method: &str, ms: u64) {
    env.fake.inject(FaultRule {
        fault: Fault::Latency(Duration::from_millis(ms)),
        model: Some("sale.order".into()),
        method: Some(method.into()),
        times: None,
    });
}

#[test]
fn two_hosts_cron_runs_at_once_one_syncs_and_the_other_exits_75() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    slow(&env, "search_read", 1500);
    let runs = wait_all(
        ["web-1", "web-2"]
            .iter()
            .map(|h| {
                env.host_command(h, &["orders", "sync-amounts", "--all"])
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let mut codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![0, 75],
        "{:?}",
        runs.iter().map(Run::all).collect::<Vec<_>>()
    );
    let busy = runs.iter().find(|r| r.code == 75).unwrap();
    assert!(
        busy.stderr.contains("another sync run holds"),
        "{}",
        busy.stderr
    );
}

#[test]
fn eight_hosts_racing_on_one_key_make_one_odoo_order() {
    let env = TestEnv::new();
    env.link_deco();
    slow(&env, "web_save", 400);
    let args = [
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "99",
        "--idempotency-key",
        "K-hosts",
        "--json",
    ];
    let runs = wait_all(
        (1..=8)
            .map(|i| {
                env.host_command(&format!("web-{i}"), &args)
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let mut ids = Vec::new();
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.all());
        ids.push(r.json()["order"]["odoo_order_id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(odoo_orders_with(&env, "K-hosts"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
}

#[test]
fn a_flush_killed_on_one_host_is_finished_by_another_without_sending_twice() {
    let env = down();
    // A short lease: the other host cannot see whether the first one's process lives.
    env.write_env(&[("ODOO_TIMEOUT", "1")]);
    for i in 1..=4 {
        queue_order(&env, &format!("h-{i}"), "5");
    }
    env.fake.come_up();
    let mut killed = env.host_command("web-1", &["orders", "flush"]);
    killed.env("ORDERBRIDGE_FAILPOINT", "flush-after-create");
    assert_eq!(killed.output().unwrap().status.code(), Some(70));
    assert_eq!(odoo_orders_with(&env, "h-"), 4);

    // Within web-1's lease, web-2 leaves its entries alone.
    let early = TestEnv::collect(
        env.host_command("web-2", &["orders", "flush", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(early.json()["busy"], 4, "{}", early.all());
    assert_eq!(odoo_orders_with(&env, "h-"), 4);

    std::thread::sleep(Duration::from_secs(14));
    let run = TestEnv::collect(
        env.host_command("web-2", &["orders", "flush", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let created = run.json()["created"].as_array().unwrap().clone();
    assert_eq!(created.len(), 4, "{}", run.all());
    assert!(
        created.iter().all(|c| c["adopted"] == true),
        "{}",
        run.all()
    );
    assert_eq!(odoo_orders_with(&env, "h-"), 4, "nothing sent twice");
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM sales_orders").as_deref(),
        Some("4")
    );
}

#[test]
fn two_hosts_flushing_at_once_send_each_order_once() {
    let env = down();
    for i in 1..=6 {
        queue_order(&env, &format!("f-{i}"), "5");
    }
    env.fake.come_up();
    slow(&env, "web_save", 500);
    let runs = wait_all(
        ["web-1", "web-2"]
            .iter()
            .map(|h| {
                env.host_command(h, &["orders", "flush", "--batch-size", "2"])
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    for r in &runs {
        assert!(r.code == 0 || r.code == 75, "{}", r.all());
    }
    assert_eq!(odoo_orders_with(&env, "f-"), 6);
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM orderbridge_order_intents WHERE state = 'done'")
            .as_deref(),
        Some("6")
    );
}
