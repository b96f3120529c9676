//! What the store already knows is answered from it; what a run reports is what it
//! committed. (Wrong answers real use found: issue 20.)

use crate::env::TestEnv;

/// Customer 1 linked to partner 9, and one order created with key `K-1`.
fn with_done_order() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    let run = env.run(&CREATE_K1);
    assert_eq!(run.code, 0, "{}", run.all());
    env
}

const CREATE_K1: [&str; 9] = [
    "orders",
    "create",
    "--customer",
    "1",
    "--amount",
    "857.87",
    "--idempotency-key",
    "K-1",
    "--json",
];

#[test]
fn a_finished_order_is_answered_from_the_store_while_odoo_is_down() {
    let env = with_done_order();
    env.fake.go_down();
    let run = env.run(&CREATE_K1);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["outcome"], "already_done");
    assert!(run.json()["order"]["order_number"].is_string());
}

#[test]
fn a_finished_order_is_answered_without_any_odoo_request() {
    let env = with_done_order();
    env.fake.reset_calls();
    let run = env.run(&CREATE_K1);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.fake.requests(), 0, "{:?}", env.fake.all_calls());
}

#[test]
fn a_reused_key_with_another_order_is_refused_without_odoo() {
    let env = with_done_order();
    env.fake.go_down();
    let mut other = CREATE_K1;
    other[5] = "1.00";
    let run = env.run(&other);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("already used"), "{}", run.stderr);
}

#[test]
fn reads_of_the_store_alone_make_no_odoo_request() {
    let env = with_done_order();
    env.fake.reset_calls();
    for args in [
        &["orders", "show", "1"][..],
        &["orders", "list", "--no-sync"],
        &["status"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.all());
    }
    assert_eq!(env.fake.requests(), 0, "{:?}", env.fake.all_calls());
}

#[test]
fn a_store_url_of_an_unsupported_scheme_is_refused_without_its_password() {
    let env = TestEnv::new();
    let run = env.run_on(
        "mssql://portal:Sup3rSecretPW@db.example/portal",
        &["orders", "list", "--no-sync"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("unsupported store URL"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("mssql://portal:***@db.example/portal"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("Sup3rSecretPW"), "{}", run.all());
}

#[test]
fn config_show_masks_the_password_of_a_store_url() {
    let env = TestEnv::new();
    for json in [false, true] {
        let mut args = vec!["config", "show"];
        if json {
            args.push("--json");
        }
        let run = env.run_on("postgres://ob:Sup3rSecretPW@127.0.0.1:1/portal", &args);
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(!run.all().contains("Sup3rSecretPW"), "{}", run.all());
        assert!(
            run.stdout.contains("postgres://ob:***@127.0.0.1:1/portal"),
            "{}",
            run.stdout
        );
    }
}

/// Moves an Odoo order's `date_order` back by `days`; returns the new date as RFC 3339.
fn age_order(env: &TestEnv, odoo_id: i64, days: i64) -> String {
    env.fake.with_world(|w| {
        let o = w.orders.get_mut(&odoo_id).unwrap();
        let when = chrono::Utc::now() - chrono::TimeDelta::days(days);
        o.date_order = chrono::DateTime::from_timestamp(when.timestamp(), 0).unwrap();
        o.date_order
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

#[test]
fn an_order_pulled_on_read_keeps_odoos_order_date() {
    let env = TestEnv::new();
    env.link_deco();
    let date = age_order(&env, 5, 40);
    assert_eq!(env.run(&["orders", "list", "--customer", "1"]).code, 0);
    let shown = env
        .run(&["orders", "show", "--odoo-id", "5", "--json"])
        .json();
    assert_eq!(shown["order_date"], date.as_str(), "{shown}");
    assert_eq!(
        shown["created_at"],
        date.as_str(),
        "an import is as old as Odoo says"
    );
}

#[test]
fn an_imported_order_keeps_odoos_order_date() {
    let env = TestEnv::new();
    env.link_deco();
    let date = age_order(&env, 5, 40);
    let run = env.run(&["orders", "import", "--odoo-id", "5", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["order"]["order_date"], date.as_str());
}

#[test]
fn listings_sort_by_odoos_order_date() {
    let env = TestEnv::new();
    env.link_deco();
    // Order 1 is the demo's newest; make it the oldest.
    age_order(&env, 1, 50);
    let list = env
        .run(&["orders", "list", "--customer", "1", "--json"])
        .json();
    let ids: Vec<i64> = list["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["odoo_order_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.last(), Some(&1), "{ids:?}");
}

#[test]
fn the_30_day_window_goes_by_the_order_date_not_the_import() {
    let env = TestEnv::new();
    env.link_deco();
    age_order(&env, 5, 40);
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let before = env.portal_amount(5);
    env.set_total(5, "999.00");
    let recent = env.run(&["orders", "sync-amounts", "--json"]);
    assert_eq!(recent.code, 0, "{}", recent.all());
    assert_eq!(env.portal_amount(5), before, "40 days old: not recent");
    let all = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(all.code, 0, "{}", all.all());
    assert_eq!(env.portal_amount(5).as_deref(), Some("999.00"));
}

/// Customer 1's orders stored; one of them holds a change of Odoo's newer than any read (as
/// a webhook of a later second leaves it), and Odoo's amount has changed since.
fn with_newer_change_stored() -> (TestEnv, i64) {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id = env.first_odoo_id();
    env.sql(&format!(
        "UPDATE sales_orders SET odoo_write_date = '2099-01-01 00:00:00.000000' WHERE odoo_order_id = {id}"
    ));
    env.set_total(id, "647.54");
    (env, id)
}

#[test]
fn a_sync_counts_what_it_wrote_not_what_it_compared() {
    let (env, id) = with_newer_change_stored();
    let before = env.portal_amount(id);
    let run = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let summary = &run.json()["summary"];
    assert_eq!(summary["updated"], 0, "{summary}");
    assert_eq!(summary["superseded"], 1, "{summary}");
    assert_eq!(env.portal_amount(id), before);
}

#[test]
fn a_sync_of_one_order_does_not_print_an_update_it_did_not_write() {
    let (env, id) = with_newer_change_stored();
    let local = env
        .run(&["orders", "show", "--odoo-id", &id.to_string(), "--json"])
        .json()["id"]
        .to_string();
    let run = env.run(&["orders", "sync-amounts", "--order-id", &local, "--plain"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.stdout.contains("[updated]"), "{}", run.stdout);
    assert!(run.stdout.contains("nothing written"), "{}", run.stdout);
    assert!(
        !run.stderr.contains("Synced order amount"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_run_history_counts_what_was_written() {
    let (env, _) = with_newer_change_stored();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(
        env.scalar("SELECT updated FROM orderbridge_runs ORDER BY id DESC LIMIT 1")
            .as_deref(),
        Some("0")
    );
}

#[test]
fn a_dry_run_says_what_would_change() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let id = env.first_odoo_id();
    env.set_total(id, "647.54");
    let run = env.run(&["orders", "sync-amounts", "--all", "--dry-run", "--plain"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("[would update]"), "{}", run.stdout);
    assert!(!run.stdout.contains("[updated]"), "{}", run.stdout);
}

#[test]
fn a_run_whose_process_died_is_shown_as_died() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let mut killed = env.command(
        env.dir.path(),
        &[
            "orders",
            "sync-amounts",
            "--all",
            "--batch-size",
            "2",
            "--concurrency",
            "1",
        ],
    );
    killed.env("ORDERBRIDGE_FAILPOINT", "sync-after-chunk");
    assert_eq!(killed.output().unwrap().status.code(), Some(70));
    let status = env.run(&["status", "--json"]).json();
    let run = &status["runs"][0];
    assert_eq!(run["state"], "died", "{status}");
    assert_eq!(run["outcome"], "died", "{status}");
    // The next run closes it in the history.
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(
        env.scalar("SELECT outcome FROM orderbridge_runs ORDER BY id LIMIT 1")
            .as_deref(),
        Some("died")
    );
}

#[test]
fn a_run_logs_in_once_and_later_runs_reuse_the_uid() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env.fake.reset_calls();
    for _ in 0..3 {
        assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    }
    assert_eq!(
        env.fake.calls("common", "authenticate"),
        0,
        "{:?}",
        env.fake.all_calls()
    );
    assert_eq!(
        env.scalar("SELECT uid FROM orderbridge_odoo_logins")
            .as_deref(),
        Some(fake_odoo::world::ADMIN_UID.to_string().as_str())
    );
}

#[test]
fn a_refused_remembered_uid_is_replaced_by_a_login() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env.sql("UPDATE orderbridge_odoo_logins SET uid = 999");
    env.fake.reset_calls();
    let run = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.fake.calls("common", "authenticate"), 1);
    assert_eq!(
        env.scalar("SELECT uid FROM orderbridge_odoo_logins")
            .as_deref(),
        Some(fake_odoo::world::ADMIN_UID.to_string().as_str())
    );
}

#[test]
fn a_wrong_password_with_a_remembered_uid_is_as_clear_as_ever() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env.write_env(&[("ODOO_PASSWORD", "wrong-password")]);
    let run = env.run(&["orders", "sync-amounts", "--all"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr
            .contains("authentication failed for user 'admin'"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("wrong-password"), "{}", run.all());
}

#[test]
fn a_create_refused_for_a_stale_uid_is_sent_once_after_the_login() {
    let env = with_done_order();
    env.sql("UPDATE orderbridge_odoo_logins SET uid = 999");
    let mut args = CREATE_K1;
    args[7] = "K-2";
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["outcome"], "created");
    let made = env.fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref() == Some("K-2"))
            .count()
    });
    assert_eq!(made, 1);
}
