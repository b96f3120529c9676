//! Input the tool refuses, with exit 2, before anything is written (README, "Input rules").

use crate::env::TestEnv;

fn intents(env: &TestEnv) -> i64 {
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM orderbridge_order_intents", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Sends `json` as the order on `--input` and checks it is refused with `needle`.
fn refused_order(env: &TestEnv, json: &str, needle: &str) {
    let file = env.path("order.json");
    std::fs::write(&file, json).unwrap();
    let run = env.run(&["orders", "create", "--input", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{json}: {}", run.all());
    assert!(
        run.stderr.contains(needle),
        "{needle:?} not in {}",
        run.stderr
    );
    assert_eq!(
        env.fake.calls("sale.order", "web_save"),
        0,
        "{json}: Odoo was asked"
    );
    assert_eq!(intents(env), 0, "{json}: an intent was written");
}

#[test]
fn an_order_json_with_wrong_types_is_refused() {
    let env = TestEnv::new();
    env.link_deco();
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "idempotency_key": 42}"#,
        "expected a string",
    );
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "lines": "5:1"}"#,
        "expected a sequence",
    );
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "note": 3}"#,
        "expected a string",
    );
}

#[test]
fn an_unknown_currency_is_refused() {
    let env = TestEnv::new();
    env.link_deco();
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "currency": "XYZ"}"#,
        "ISO 4217",
    );
}

#[test]
fn amounts_out_of_range_are_refused() {
    let env = TestEnv::new();
    env.link_deco();
    for a in ["0", "-0", "99999999999999999999.99"] {
        refused_order(
            &env,
            &format!(r#"{{"customer_id": 1, "amount": "{a}"}}"#),
            "amount",
        );
    }
}

#[test]
fn a_quantity_odoo_would_round_to_zero_is_refused() {
    let env = TestEnv::new();
    env.link_deco();
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "lines": [{"product_id": 5, "quantity": 0.0000001}]}"#,
        "decimal places",
    );
}

#[test]
fn oversized_and_control_character_text_is_refused() {
    let env = TestEnv::new();
    env.link_deco();
    let big = "x".repeat(100_000);
    refused_order(
        &env,
        &format!(r#"{{"customer_id": 1, "amount": "5", "note": "{big}"}}"#),
        "at most 10000",
    );
    refused_order(
        &env,
        r#"{"customer_id": 1, "amount": "5", "note": "a\u0000b"}"#,
        "control character",
    );
}

#[test]
fn a_customer_name_with_escape_characters_is_refused() {
    let env = TestEnv::new();
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "Evil\u{1b}[2J",
        "--email",
        "e@example.com",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("control character"), "{}", run.stderr);
    assert!(
        !run.all().contains('\u{1b}'),
        "the escape reached the terminal"
    );
}

#[test]
fn a_database_in_a_missing_folder_is_refused_and_not_created() {
    let env = TestEnv::new();
    let db = env.path("no/such/dir/x.db");
    let mut cmd = env.command(env.dir.path(), &["customers", "list"]);
    // The last --database wins.
    cmd.arg("--database").arg(&db);
    let run = TestEnv::collect(cmd.output().unwrap());
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!env.path("no").exists(), "the folder was created");
}
