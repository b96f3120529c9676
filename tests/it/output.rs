//! Output contracts: one `--json` for every report, a closed pipe ends quietly, and the
//! human output of the main commands, pinned by snapshots.

use std::io::Read;

use crate::env::{Run, TestEnv};

/// The output with what changes from run to run (ports, clocks, generated keys) replaced.
fn normalized(env: &TestEnv, run: &Run) -> String {
    let text = run.stdout.replace(&env.fake.url(), "http://FAKE");
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    // A timestamp is `dddd-dd-dd dd:dd:dd`.
    let shape: Vec<char> = "0000-00-00 00:00:00".chars().collect();
    while i < chars.len() {
        let fits = chars.len() - i >= shape.len()
            && shape.iter().zip(&chars[i..]).all(|(s, c)| {
                if *s == '0' {
                    c.is_ascii_digit()
                } else {
                    s == c
                }
            });
        if fits {
            out.push_str("TIMESTAMP");
            i += shape.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let env = TestEnv::new();
    env.link_deco();
    let mut child = env
        .command(env.dir.path(), &["orders", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first line, as `| head -0` would.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn json_is_taken_before_or_after_the_command() {
    let env = TestEnv::new();
    env.link_deco();
    let before = env.run(&["--json", "customers", "list"]);
    let after = env.run(&["customers", "list", "--json"]);
    assert_eq!(before.code, 0, "{}", before.all());
    assert_eq!(before.json(), after.json());
}

#[test]
fn test_connection_reads_well() {
    let env = TestEnv::new();
    let run = env.run(&["odoo", "test-connection"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn customers_list_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    let run = env.run(&["customers", "list"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn orders_list_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    let run = env.run(&["orders", "list"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn orders_create_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "230",
        "--line",
        "5:2:100",
        "--idempotency-key",
        "checkout-1",
    ]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn orders_show_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    let run = env.run(&["orders", "show", "1"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn sync_amounts_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env.fake.with_world(|w| {
        w.set_order_total(1, rust_decimal::Decimal::new(85787, 2));
    });
    let run = env.run(&["orders", "sync-amounts", "--all", "--plain"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

#[test]
fn sync_status_reads_well() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env.fake
        .with_world(|w| w.orders.get_mut(&1).unwrap().state = "cancel".into());
    let run = env.run(&["orders", "sync-status", "--all"]);
    insta::assert_snapshot!(normalized(&env, &run));
}

/// Every member of the envelope (docs/json-output.md), with `data` or `error`.
fn assert_envelope(run: &Run, command: &str) -> serde_json::Value {
    let e = run.envelope();
    assert_eq!(e["command"], command, "{e}");
    assert_eq!(e["exit_code"], run.code, "{e}");
    assert_eq!(e["ok"], run.code == 0, "{e}");
    assert!(
        e.get("data").is_some() != e.get("error").is_some(),
        "data or error: {e}"
    );
    e
}

#[test]
fn every_command_prints_the_envelope() {
    let env = TestEnv::new();
    env.link_deco();
    let cases: &[(&[&str], &str)] = &[
        (&["odoo", "test-connection"], "odoo test-connection"),
        (&["customers", "list"], "customers list"),
        (
            &["orders", "create", "--customer", "1", "--amount", "5"],
            "orders create",
        ),
        (&["orders", "import", "--odoo-id", "1"], "orders import"),
        (&["orders", "list"], "orders list"),
        (&["orders", "show", "1"], "orders show"),
        (&["orders", "recover"], "orders recover"),
        (&["orders", "sync-amounts", "--all"], "orders sync-amounts"),
        (&["orders", "sync-status", "--all"], "orders sync-status"),
        (&["orders", "dedupe"], "orders dedupe"),
        (&["db", "migrate"], "db migrate"),
        (&["schedule"], "schedule"),
        (&["status"], "status"),
        // Last: it links customer 1 to another partner.
        (&["customers", "link", "1"], "customers link"),
    ];
    for (args, command) in cases {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let run = env.run(&with_json);
        let e = assert_envelope(&run, command);
        assert!(e.get("data").is_some(), "{command}: {e}");
    }
}

#[test]
fn an_error_under_json_is_an_envelope_on_stdout() {
    let env = TestEnv::new();
    env.link_deco();
    let run = env.run(&["orders", "show", "999", "--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let e = assert_envelope(&run, "orders show");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no local order 999"),
        "{e}"
    );
    assert!(e["error"].get("hint").is_some(), "{e}");
}

#[test]
fn money_is_a_string_at_the_currency_scale_and_times_are_rfc3339_utc() {
    let env = TestEnv::new();
    env.link_deco();
    let j = env
        .run(&[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "5",
            "--json",
        ])
        .json();
    assert_eq!(j["order"]["total_amount"], "5.00");
    let created = j["order"]["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "{created}"
    );
}

#[test]
fn json_lines_stream_one_object_per_order_then_the_envelope() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "list"]);
    let run = env.run(&["orders", "sync-amounts", "--all", "--json-lines"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        6,
        "5 orders, then the envelope: {}",
        run.stdout
    );
    assert!(lines[..5].iter().all(|l| l["order"]["order_id"].is_i64()));
    assert_eq!(lines[5]["command"], "orders sync-amounts");
    assert_eq!(lines[5]["data"]["summary"]["found"], 5);
}

/// Every string in `v` that starts like a date (`dddd-dd-dd`) and goes on as a time, with
/// where it is.
fn times_in(v: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => {
            let b = s.as_bytes();
            let dated = b.len() >= 13
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[7] == b'-'
                && (b[10] == b' ' || b[10] == b'T')
                && b[11].is_ascii_digit();
            if dated {
                out.push((at.to_string(), s.clone()));
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                times_in(x, &format!("{at}[{i}]"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                times_in(x, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_time_in_every_commands_json_is_rfc3339_utc() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_MAX_CHANGE", "50%")]);
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    // A conflict with Odoo's write_date, a queued order with its times, a run history.
    let id = env.first_odoo_id();
    env.set_total(id, "99999.00");
    env.run(&["orders", "sync-amounts", "--all"]);
    env.fake.go_down();
    let queued = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "5",
        "--idempotency-key",
        "q-1",
        "--queue-if-unavailable",
    ]);
    assert_eq!(queued.code, 5, "{}", queued.all());
    env.fake.come_up();
    let commands: &[&[&str]] = &[
        &["customers", "list"],
        &["orders", "create", "--customer", "1", "--amount", "5"],
        &["orders", "import", "--odoo-id", "1"],
        &["orders", "list"],
        &["orders", "show", "1"],
        &["orders", "recover"],
        &["orders", "conflicts"],
        &["orders", "queue"],
        &["orders", "reconcile"],
        &["orders", "sync-amounts", "--all"],
        &["orders", "sync-amounts", "--changed"],
        &["orders", "sync-status", "--all"],
        &["orders", "dedupe"],
        &["status"],
        &["config", "show"],
    ];
    let mut times = Vec::new();
    for args in commands {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let run = env.run(&with_json);
        times_in(&run.envelope(), &args.join(" "), &mut times);
    }
    assert!(times.len() > 20, "{times:?}");
    for field in ["odoo_write_date", "order_date", "started_at", "finished_at"] {
        assert!(
            times.iter().any(|(at, _)| at.ends_with(field)),
            "{field}: {times:?}"
        );
    }
    for (at, t) in &times {
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{at}: {t}"
        );
    }
}

#[test]
fn help_and_readme_name_every_setting_and_exit_code() {
    let env = TestEnv::new();
    let shown = env.run(&["config", "show", "--json"]).json();
    let help = env.run(&["--help"]).stdout;
    let readme = include_str!("../../README.md");
    let mut keys: Vec<String> = shown["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    keys.push("ORDERBRIDGE_HOST_ID".into());
    assert!(keys.len() >= 16, "{keys:?}");
    for key in &keys {
        assert!(help.contains(key.as_str()), "--help lacks {key}");
        assert!(readme.contains(&format!("`{key}`")), "README lacks {key}");
    }
    for code in ["0", "1", "2", "3", "4", "5", "75"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "--help lacks exit code {code}"
        );
    }
}
