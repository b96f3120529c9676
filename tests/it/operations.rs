//! What cron and operators rely on: no silent success, files found from anywhere, logs that
//! keep the audit trail, a schedule that runs as printed.

use std::process::Command;

use crate::env::TestEnv;

fn linked(env: &TestEnv) {
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "Deco",
        "--email",
        "deco@example.com",
        "--odoo-partner-id",
        "9",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
}

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
    linked(&env);
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
    let line = printed
        .stdout
        .lines()
        .find(|l| l.starts_with("0 * * * * "))
        .unwrap_or_else(|| panic!("no cron line: {}", printed.stdout));
    assert!(line.contains("--env-file"), "{line}");
    let command = line.trim_start_matches("0 * * * * ");
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
    assert!(!run.stdout.contains("0 * * * *"), "only the systemd part");
}

#[test]
fn an_overlapping_run_is_silent_under_quiet() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let mut name = env.database().file_name().unwrap().to_os_string();
    name.push(".sync-amounts.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.database().with_file_name(name))
        .unwrap();
    lock.try_lock().unwrap();
    let run = env.run(&["--quiet", "orders", "sync-amounts"]);
    assert_eq!(run.code, 75, "{}", run.all());
    assert_eq!(run.stderr, "", "cron would mail this");
}

#[test]
fn the_log_file_keeps_every_result_under_quiet() {
    let env = TestEnv::new();
    linked(&env);
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
    linked(&env);
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
    linked(&env);
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
