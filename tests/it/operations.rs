//! What cron and operators rely on: no silent success, files found from anywhere, logs that
//! keep the audit trail, a schedule that runs as printed.

use std::process::Command;

use crate::env::TestEnv;

/// The binary with a clean environment and no flags of the test harness.
fn bare(env: &TestEnv, cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orderbridge"));
    cmd.current_dir(cwd)
        .env_clear()
        .env("HOME", env.dir.path())
        .env("XDG_CONFIG_HOME", env.path("config"))
        .env("XDG_DATA_HOME", env.path("data"))
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn a_sync_without_odoo_settings_fails_even_with_nothing_to_do() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    env.write_env(&[("ODOO_URL", ""), ("ODOO_PASSWORD", "")]);
    let run = env.run(&["orders", "sync-amounts"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("ODOO_URL is not set"), "{}", run.stderr);
}

#[test]
fn a_read_command_refuses_a_missing_database_and_names_it() {
    let env = TestEnv::new();
    let run = env.run(&["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("flag --database"), "{}", run.stderr);
    assert!(!env.database().exists(), "it was created");
}

#[test]
fn the_first_customer_creates_the_database_and_says_so() {
    let env = TestEnv::new();
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "A",
        "--email",
        "a@example.com",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("Creating a new local database"),
        "{}",
        run.stderr
    );
    assert!(env.database().exists());
}

#[test]
fn a_relative_database_in_a_dotenv_is_relative_to_its_folder() {
    let env = TestEnv::new();
    let portal = env.path("portal");
    std::fs::create_dir_all(portal.join("storage")).unwrap();
    let dotenv = std::fs::read_to_string(env.path(".env")).unwrap();
    std::fs::write(
        portal.join(".env"),
        format!("{dotenv}ORDERBRIDGE_DATABASE=storage/orderbridge.db\n"),
    )
    .unwrap();
    let out = bare(&env, &env.path("."))
        .args(["--env-file", portal.join(".env").to_str().unwrap()])
        .args(["db", "migrate"])
        .output()
        .unwrap();
    let run = TestEnv::collect(out);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(portal.join("storage/orderbridge.db").exists());
    assert!(!env.path("storage").exists());
}

#[test]
fn the_printed_cron_line_syncs_the_real_database_from_any_folder() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env.fake
        .with_world(|w| w.set_order_total(1, rust_decimal::Decimal::new(12345, 2)));
    // The portal's folder: its .env names the database, relative to it.
    let portal = env.path("portal");
    std::fs::create_dir_all(&portal).unwrap();
    let dotenv = std::fs::read_to_string(env.path(".env")).unwrap();
    std::fs::write(
        portal.join(".env"),
        format!("{dotenv}ORDERBRIDGE_DATABASE=../orderbridge.db\n"),
    )
    .unwrap();
    let out = bare(&env, &portal)
        .args(["schedule", "--cron"])
        .output()
        .unwrap();
    let printed = TestEnv::collect(out);
    assert_eq!(printed.code, 0, "{}", printed.all());
    // The nightly full sync; the five-minute one reads Odoo's changes.
    let line = printed
        .stdout
        .lines()
        .find(|l| l.starts_with("30 2 * * * "))
        .unwrap_or_else(|| panic!("no nightly line: {}", printed.stdout));
    assert!(line.contains("--env-file"), "{line}");
    assert!(
        printed.stdout.contains("*/5 * * * * ") && printed.stdout.contains("--changed"),
        "{}",
        printed.stdout
    );
    let command = line.trim_start_matches("30 2 * * * ");
    // As cron runs it: from /, with no environment of ours.
    let run = TestEnv::collect(
        Command::new("sh")
            .current_dir("/")
            .env_clear()
            .arg("-c")
            .arg(command)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let show = env.run(&["orders", "show", "1", "--json"]).json();
    assert_eq!(show["total_amount"], "123.45");
    let log = std::fs::read_to_string(env.path("orderbridge.log")).unwrap();
    assert!(log.contains("Synced order amount from Odoo"), "{log}");
}

#[test]
fn the_systemd_unit_sets_user_workdir_and_escapes_percent() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let run = env.run(&["schedule", "--systemd", "--user", "portal"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("User=portal"), "{}", run.stdout);
    assert!(run.stdout.contains("WorkingDirectory=/"), "{}", run.stdout);
    assert!(!run.stdout.contains("*/5 * * * *"), "only the systemd part");
    assert!(run.stdout.contains("OnCalendar=*:0/5"), "{}", run.stdout);
    assert!(
        run.stdout.contains("orderbridge-sync-all.timer"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_overlapping_run_is_silent_under_quiet() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let _lock = env.hold_sync_lock();
    let run = env.run(&["--quiet", "orders", "sync-amounts"]);
    assert_eq!(run.code, 75, "{}", run.all());
    assert_eq!(run.stderr, "", "cron would mail this");
}

#[test]
fn the_log_file_keeps_every_result_under_quiet() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env.fake
        .with_world(|w| w.set_order_total(1, rust_decimal::Decimal::new(99900, 2)));
    let log = env.path("sync.log");
    let run = env.run(&[
        "--quiet",
        "--log-file",
        log.to_str().unwrap(),
        "orders",
        "sync-amounts",
        "--all",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.stderr, "");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Synced order amount from Odoo"), "{text}");
    assert!(text.contains("Run finished"), "one closing line: {text}");
}

#[test]
fn json_log_lines_are_json_objects() {
    let env = TestEnv::new();
    let log = env.path("run.log");
    let run = env.run(&[
        "--log-format",
        "json",
        "--log-file",
        log.to_str().unwrap(),
        "customers",
        "add",
        "--name",
        "A",
        "--email",
        "a@example.com",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let text = std::fs::read_to_string(&log).unwrap();
    for line in text.lines() {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(j["level"].is_string() && j["message"].is_string(), "{line}");
    }
    assert!(text.contains("Customer created in local database"));
}

#[test]
fn the_console_shows_warnings_only_unless_asked() {
    let env = TestEnv::new();
    env.link_deco();
    let quiet = env.run(&["orders", "import", "--odoo-id", "1"]);
    assert!(!quiet.stderr.contains("INFO"), "{}", quiet.stderr);
    let verbose = env.run(&["-v", "orders", "import", "--odoo-id", "5"]);
    assert!(verbose.stderr.contains("INFO"), "{}", verbose.stderr);
}

#[test]
fn colors_follow_the_color_flag() {
    let env = TestEnv::new();
    let always = env.run(&["--color", "always", "odoo", "test-connection"]);
    assert!(always.stdout.contains('\u{1b}'), "{}", always.stdout);
    let never = env.run(&["--color", "never", "odoo", "test-connection"]);
    assert!(!never.all().contains('\u{1b}'), "{}", never.all());
}

fn seeded_with_one_order() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "1"]);
    env
}

#[test]
fn every_sync_is_in_the_run_history_that_status_shows() {
    let env = seeded_with_one_order();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let j = env.run(&["status", "--json"]).json();
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{j}");
    assert_eq!(runs[0]["kind"], "sync-amounts");
    assert_eq!(runs[0]["outcome"], "ok");
    assert_eq!(runs[0]["checked"], 1);
    assert!(
        j["last_successful_sync_age_s"].as_i64().unwrap() < 60,
        "{j}"
    );
}

#[test]
fn status_max_age_fails_after_a_failed_sync() {
    let mut env = seeded_with_one_order();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.run(&["status", "--max-age", "2h"]).code, 0);
    env.fake.stop();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 3);
    let run = env.run(&["status", "--max-age", "2h"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("PROBLEM"), "{}", run.stdout);
}

#[test]
fn status_max_age_fails_when_no_sync_ever_ended_well() {
    let env = seeded_with_one_order();
    let run = env.run(&["status", "--max-age", "1h"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

#[test]
fn the_metrics_file_is_prometheus_text_written_whole() {
    let env = seeded_with_one_order();
    let metrics = env.path("orderbridge.prom");
    let run = env.run(&[
        "--metrics-file",
        metrics.to_str().unwrap(),
        "orders",
        "sync-amounts",
        "--all",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let text = std::fs::read_to_string(&metrics).unwrap();
    let mut samples = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP ") || rest.starts_with("TYPE "),
                "{line}"
            );
            continue;
        }
        // name{labels} value
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(name.starts_with("orderbridge_"), "{line}");
        let bare = name.split('{').next().unwrap();
        assert!(
            bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        value.parse::<f64>().unwrap();
        samples += 1;
    }
    assert!(
        text.contains("orderbridge_last_run_success{kind=\"sync-amounts\"} 1"),
        "{text}"
    );
    assert!(text.contains("orderbridge_pending_intents 0"), "{text}");
    assert!(samples >= 8, "{text}");
    // Nothing half-written is left beside it.
    let leftovers = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn an_odoo_url_of_the_web_client_names_the_base_url_to_use() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_URL", "https://erp.example.com/odoo")]);
    let run = env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("use the server's base URL, 'https://erp.example.com'"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_show_names_each_value_and_its_origin_and_masks_secrets() {
    let env = TestEnv::new();
    let run = env.run(&["config", "show", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    let setting = |key: &str| {
        j["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(setting("ODOO_PASSWORD")["value"], "***");
    assert!(
        setting("ODOO_URL")["from"]
            .as_str()
            .unwrap()
            .ends_with(".env")
    );
    assert_eq!(setting("ORDERBRIDGE_DATABASE")["from"], "flag --database");
    assert!(
        !run.stdout.contains(fake_odoo::world::ADMIN_PASSWORD)
            || fake_odoo::world::ADMIN_PASSWORD == "admin"
    );
}

#[test]
fn completions_load_in_bash() {
    let env = TestEnv::new();
    let run = env.run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let script = env.path("orderbridge.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p orderbridge",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("orderbridge"));
}

#[test]
fn the_man_page_is_roff() {
    let env = TestEnv::new();
    let run = env.run(&["man"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
}

#[test]
fn help_lists_the_settings_the_secrets_and_the_exit_codes() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    assert_eq!(run.code, 0);
    for needle in [
        "ODOO_PASSWORD",
        "ODOO_API_KEY",
        "ORDERBRIDGE_DATABASE",
        "Exit codes",
        "75",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
}

#[test]
fn bad_flag_values_are_refused_with_the_flag_named() {
    let env = TestEnv::new();
    let zero = env.run(&["orders", "sync-amounts", "--concurrency", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.all());
    assert!(zero.stderr.contains("--concurrency"), "{}", zero.stderr);
    let protocol = env.run(&["--odoo-protocol", "soap", "odoo", "test-connection"]);
    assert_eq!(protocol.code, 2, "{}", protocol.all());
    assert!(
        protocol.stderr.contains("--odoo-protocol"),
        "{}",
        protocol.stderr
    );
}

#[test]
fn orders_list_filters_limits_and_counts() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "list"]);
    let j = env
        .run(&[
            "orders",
            "list",
            "--no-sync",
            "--status",
            "confirmed",
            "--limit",
            "1",
            "--json",
        ])
        .json();
    assert_eq!(j["total"], 2, "{j}");
    assert_eq!(j["orders"].as_array().unwrap().len(), 1);
    assert_eq!(j["orders"][0]["status"], "confirmed");
}

#[test]
fn orders_list_as_csv_has_a_header_and_a_row_per_order() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "list"]);
    let run = env.run(&["orders", "list", "--no-sync", "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("id,order_number,"), "{}", run.stdout);
    assert_eq!(lines.len(), 6, "{}", run.stdout);
}

#[test]
fn orders_show_takes_the_odoo_number_or_the_odoo_id() {
    let env = TestEnv::new();
    env.link_deco();
    env.run(&["orders", "import", "--odoo-id", "5"]);
    let by_number = env.run(&["orders", "show", "S00005", "--json"]).json();
    let by_odoo_id = env
        .run(&["orders", "show", "--odoo-id", "5", "--json"])
        .json();
    assert_eq!(by_number["id"], by_odoo_id["id"]);
    assert_eq!(by_number["odoo_order_id"], 5);
}

#[test]
fn wide_names_keep_the_table_columns_in_place() {
    let env = TestEnv::new();
    for (name, email) in [
        (
            "Müller Straßenbau GmbH & Co. KG Niederlassung Süd",
            "a@example.com",
        ),
        ("北京远大科技有限公司销售部", "b@example.com"),
    ] {
        let run = env.run(&["customers", "add", "--name", name, "--email", email]);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let run = env.run(&["customers", "list"]);
    let columns: Vec<usize> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            console::measure_text_width(l.split(" a@").next().unwrap().split(" b@").next().unwrap())
        })
        .collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]), "{}", run.stdout);
}
