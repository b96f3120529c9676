//! What the Debian package ships, as the binary writes it (`packaging/deb/build`): units
//! that are `schedule --systemd`'s own, a settings template naming every setting, a man page
//! for every command. `packaging/deb/check` (CI) installs the package and runs it.

use std::collections::BTreeMap;

use crate::env::TestEnv;

/// The unit files in `schedule --systemd`'s printout, by name.
fn printed_units(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .split("## /etc/systemd/system/")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let (head, body) = block.split_once('\n').expect("a header line");
            let name = head.split_whitespace().next().unwrap().to_string();
            (name, body.trim_end().to_string())
        })
        .collect()
}

#[test]
fn the_written_units_are_the_printed_ones() {
    let env = TestEnv::new();
    let printed = env.run(&["schedule", "--systemd", "--packaged"]);
    assert_eq!(printed.code, 0, "{}", printed.all());
    let dir = env.path("units");
    let wrote = env.run(&[
        "schedule",
        "--systemd",
        "--packaged",
        "--write",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(wrote.code, 0, "{}", wrote.all());
    let printed = printed_units(&printed.stdout);
    let names: Vec<&str> = printed.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "orderbridge-serve.service",
            "orderbridge-sync-all.service",
            "orderbridge-sync-all.timer",
            "orderbridge-sync-changed.service",
            "orderbridge-sync-changed.timer",
        ]
    );
    for (name, text) in &printed {
        let file = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(file.trim_end(), text, "{name}");
    }
}

#[test]
fn packaged_units_run_the_installed_binary_with_the_env_file_as_the_system_user() {
    let env = TestEnv::new();
    let run = env.run(&["schedule", "--systemd", "--packaged"]);
    let units = printed_units(&run.stdout);
    for service in [
        "orderbridge-serve.service",
        "orderbridge-sync-all.service",
        "orderbridge-sync-changed.service",
    ] {
        let unit = &units[service];
        assert!(
            unit.contains(
                "ExecStart=/usr/bin/orderbridge --env-file /etc/orderbridge/orderbridge.env "
            ),
            "{unit}"
        );
        assert!(unit.contains("User=orderbridge\n"), "{unit}");
        for hardening in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/orderbridge",
            "PrivateTmp=yes",
        ] {
            assert!(unit.contains(hardening), "{service}: {hardening}");
        }
        // Nothing of this machine: not its database, its user or its settings files.
        assert!(!unit.contains(env.dir.path().to_str().unwrap()), "{unit}");
    }
}

#[test]
fn a_timers_service_counts_exit_75_as_success_and_no_other() {
    let env = TestEnv::new();
    let units = printed_units(&env.run(&["schedule", "--systemd", "--packaged"]).stdout);
    for service in [
        "orderbridge-sync-all.service",
        "orderbridge-sync-changed.service",
    ] {
        let lines: Vec<&str> = units[service]
            .lines()
            .filter(|l| l.starts_with("SuccessExitStatus="))
            .collect();
        assert_eq!(lines, ["SuccessExitStatus=75"], "{service}");
    }
    assert!(units["orderbridge-sync-changed.timer"].contains("OnCalendar=*:0/5"));
    assert!(units["orderbridge-sync-all.timer"].contains("OnCalendar=*-*-* 02:30:00"));
}

#[test]
fn a_hand_made_unit_may_write_only_the_store_and_log_folder() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let run = env.run(&["schedule", "--systemd"]);
    let units = printed_units(&run.stdout);
    let unit = &units["orderbridge-sync-all.service"];
    let folder = std::path::absolute(env.dir.path()).unwrap();
    let writable = format!("ReadWritePaths={}", folder.display());
    assert!(unit.lines().any(|l| l == writable), "{unit}");
    assert!(unit.lines().any(|l| l == "ProtectSystem=strict"), "{unit}");
}

#[test]
fn the_template_names_every_setting_commented_with_no_secret_value() {
    let env = TestEnv::new();
    let template = env.run(&["config", "template"]);
    assert_eq!(template.code, 0, "{}", template.all());
    let keys = env.run(&["config", "show", "--json"]).json();
    for s in keys["settings"].as_array().unwrap() {
        let key = s["key"].as_str().unwrap();
        assert!(
            template.stdout.contains(&format!("\n#{key}=\n")),
            "{key} is not in the template commented out"
        );
    }
    assert!(
        template
            .stdout
            .lines()
            .all(|l| l.is_empty() || l.starts_with('#')),
        "only comments: {}",
        template.stdout
    );
}

#[test]
fn the_packaged_template_keeps_the_store_in_the_state_folder() {
    let env = TestEnv::new();
    let template = env.run(&["config", "template", "--packaged"]).stdout;
    let set: Vec<&str> = template
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        set,
        ["ORDERBRIDGE_DATABASE=/var/lib/orderbridge/orderbridge.db"]
    );
}

#[test]
fn the_template_read_back_is_valid_settings() {
    let env = TestEnv::new();
    let template = env.run(&["config", "template"]).stdout;
    std::fs::write(env.path(".env"), template).unwrap();
    let show = env.run(&["config", "show"]);
    assert_eq!(show.code, 0, "{}", show.all());
}

#[test]
fn man_writes_a_page_for_every_command() {
    let env = TestEnv::new();
    let dir = env.path("man");
    let run = env.run(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all());
    for page in [
        "orderbridge.1",
        "orderbridge-orders-sync-amounts.1",
        "orderbridge-serve.1",
        "orderbridge-schedule.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(
            text.starts_with(".ie"),
            "{page}: {}",
            &text[..text.len().min(80)]
        );
    }
}
