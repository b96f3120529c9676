//! "Maybe" is never "no": a create whose answer was lost is resolved by its key, and never
//! sent again while Odoo may still be working on it.

use std::time::Duration;

use fake_odoo::{FakeOptions, Fault, FaultRule};

use crate::env::TestEnv;

fn odoo_orders_with_origin(env: &TestEnv, key: &str) -> usize {
    env.fake.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.origin.as_deref() == Some(key))
            .count()
    })
}

fn create_args(key: &str) -> Vec<String> {
    [
        "--odoo-timeout",
        "1",
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "5",
        "--idempotency-key",
        key,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(env: &TestEnv, args: &[String]) -> crate::env::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args)
}

#[test]
fn a_create_odoo_commits_after_the_client_gave_up_is_adopted_not_made_twice() {
    let env = TestEnv::new();
    env.link_deco();
    // Odoo takes 3 s, then commits: the client (1 s timeout) has long given up.
    env.fake.inject(FaultRule::once(
        Fault::Latency(Duration::from_secs(3)),
        "sale.order",
        "web_save",
    ));
    let args = create_args("K-slow-commit");
    let first = run(&env, &args);
    assert_eq!(first.code, 3, "{}", first.all());
    assert!(
        first.stderr.contains("may or may not exist"),
        "{}",
        first.stderr
    );

    // Odoo is still working on it: a retry and recover only look the key up.
    let retry = run(&env, &args);
    assert_eq!(retry.code, 75, "{}", retry.all());
    assert!(retry.stderr.contains("still unknown"), "{}", retry.stderr);
    assert!(retry.stderr.contains("again after"), "{}", retry.stderr);
    let recover = env.run(&["orders", "recover", "--json"]);
    assert_eq!(recover.code, 75, "{}", recover.all());
    assert_eq!(recover.json()[0]["result"], "still_unknown");
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);

    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        odoo_orders_with_origin(&env, "K-slow-commit"),
        1,
        "Odoo committed"
    );
    let later = run(&env, &args);
    assert_eq!(later.code, 0, "{}", later.all());
    assert_eq!(later.json()["outcome"], "adopted");
    assert_eq!(odoo_orders_with_origin(&env, "K-slow-commit"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
}

#[test]
fn after_the_grace_period_a_create_odoo_never_made_is_made_once() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_CREATE_GRACE", "2")]);
    env.link_deco();
    // A proxy's 502: the request may or may not have reached Odoo (here it did not).
    env.fake
        .inject(FaultRule::once(Fault::BadGateway, "sale.order", "web_save"));
    let args = create_args("K-502");
    assert_eq!(run(&env, &args).code, 3);
    assert_eq!(run(&env, &args).code, 75, "still within the grace period");
    std::thread::sleep(Duration::from_millis(3100));
    let after = run(&env, &args);
    assert_eq!(after.code, 0, "{}", after.all());
    assert_eq!(after.json()["outcome"], "created");
    assert_eq!(odoo_orders_with_origin(&env, "K-502"), 1);
}

#[test]
fn a_dropped_connection_is_an_unknown_outcome_whatever_the_url_says() {
    let env = TestEnv::with(FakeOptions {
        base_path: Some("/odoo-tls".into()),
        ..FakeOptions::default()
    });
    let url = format!("{}/odoo-tls", env.fake.url());
    env.write_env(&[("ODOO_URL", &url)]);
    env.link_deco();
    env.fake.inject(FaultRule::once(
        Fault::CommitThenDrop,
        "sale.order",
        "web_save",
    ));
    let first = run(&env, &create_args("K-tls-url"));
    assert_eq!(first.code, 3, "{}", first.all());
    assert!(
        first.stderr.contains("may or may not exist"),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains("TLS"), "{}", first.stderr);
    let recover = env.run(&["orders", "recover", "--json"]);
    assert_eq!(recover.json()[0]["result"], "adopted", "{}", recover.all());
    assert_eq!(odoo_orders_with_origin(&env, "K-tls-url"), 1);
}

#[test]
fn a_refused_connection_is_known_not_sent() {
    let mut env = TestEnv::new();
    env.link_deco();
    env.fake.stop();
    let first = run(&env, &create_args("K-refused"));
    assert_eq!(first.code, 3, "{}", first.all());
    assert!(
        first.stderr.contains("nothing was created"),
        "{}",
        first.stderr
    );
}

#[test]
fn a_store_failure_after_odoo_created_the_order_names_it_and_how_to_record_it() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_BUSY_TIMEOUT", "0.2")]);
    env.link_deco();
    // The create (and read back, one call) is slow: the test locks the database meanwhile.
    env.fake.inject(FaultRule::once(
        Fault::Latency(Duration::from_millis(1500)),
        "sale.order",
        "web_save",
    ));
    let child = env
        .command(
            env.dir.path(),
            &["orders", "create", "--customer", "1", "--amount", "5"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while env.fake.calls("sale.order", "web_save") == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lock = env.hold_write_lock();
    let run = TestEnv::collect(child.wait_with_output().unwrap());
    drop(lock);

    assert_eq!(run.code, 4, "{}", run.all());
    let name = env.fake.with_world(|w| {
        w.orders
            .values()
            .find(|o| o.origin.as_deref().is_some_and(|k| k.starts_with("ob-")))
            .map(|o| o.name.clone())
            .unwrap()
    });
    assert!(
        run.stderr.contains(&format!("exists in Odoo as {name}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("key ob-"), "{}", run.stderr);
    assert!(run.stderr.contains("orders recover"), "{}", run.stderr);

    let recover = env.run(&["orders", "recover", "--json"]);
    assert_eq!(recover.json()[0]["result"], "adopted", "{}", recover.all());
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
}

#[test]
fn a_secret_echoed_by_the_server_is_never_printed_logged_or_stored() {
    let env = TestEnv::new();
    // The API key doubles as the RPC password: it travels in every JSON-RPC body.
    let key = fake_odoo::world::ADMIN_API_KEY;
    env.write_env(&[
        ("ODOO_PASSWORD", ""),
        ("ODOO_API_KEY", key),
        ("ODOO_PROTOCOL", "jsonrpc"),
    ]);
    env.link_deco();
    env.fake.inject(FaultRule::once(
        Fault::EchoRequest,
        "sale.order",
        "web_save",
    ));
    let log = env.path("run.log");
    let run = env.run(&[
        "--log-file",
        log.to_str().unwrap(),
        "-v",
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "5",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr.contains("***"),
        "the echo is shown, redacted: {}",
        run.stderr
    );
    assert!(!run.all().contains(key), "printed: {}", run.all());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(key), "logged: {logged}");
    let stored = env
        .scalar("SELECT error FROM orderbridge_order_intents")
        .unwrap();
    assert!(
        stored.contains("***") && !stored.contains(key),
        "stored: {stored}"
    );
}
