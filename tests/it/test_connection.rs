//! `orderbridge odoo test-connection` over each protocol, and each failure mode.

use fake_odoo::{Fault, FaultRule, world};

use crate::env::TestEnv;

#[test]
fn reports_version_protocol_user_and_rights_over_each_protocol() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_API_KEY", world::ADMIN_API_KEY)]);
    for protocol in ["json2", "jsonrpc", "xmlrpc"] {
        let run = env.run(&[
            "--odoo-protocol",
            protocol,
            "odoo",
            "test-connection",
            "--json",
        ]);
        assert_eq!(run.code, 0, "{protocol}: {}", run.all());
        let j = run.json();
        assert_eq!(j["protocol"], protocol);
        assert_eq!(j["server_version"], "19.0");
        assert_eq!(j["uid"], 2);
        assert_eq!(j["login"], "admin");
        assert_eq!(j["database"], "portal");
        assert_eq!(
            j["sale_order"],
            serde_json::json!({"read": true, "create": true, "write": true})
        );
    }
}

#[test]
fn auto_picks_json2_on_odoo_19_with_an_api_key() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_API_KEY", world::ADMIN_API_KEY)]);
    let run = env.run(&["odoo", "test-connection", "--json"]);
    assert_eq!(run.json()["protocol"], "json2", "{}", run.all());
}

#[test]
fn auto_picks_jsonrpc_without_an_api_key() {
    let env = TestEnv::new();
    let run = env.run(&["odoo", "test-connection", "--json"]);
    assert_eq!(run.json()["protocol"], "jsonrpc", "{}", run.all());
}

#[test]
fn authenticates_once_per_run() {
    let env = TestEnv::new();
    let run = env.run(&["--odoo-protocol", "xmlrpc", "odoo", "test-connection"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(env.fake.calls("common", "authenticate"), 1);
}

#[test]
fn readable_output_names_each_check() {
    let env = TestEnv::new();
    let run = env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 0, "{}", run.all());
    for needle in [
        "version 19.0",
        "Protocol:      jsonrpc",
        "admin (uid 2)",
        "read yes",
        "create yes",
        "write yes",
    ] {
        assert!(
            run.stdout.contains(needle),
            "missing {needle:?} in {}",
            run.stdout
        );
    }
}

#[test]
fn user_without_sales_rights_fails_the_check() {
    let env = TestEnv::new();
    env.write_env(&[
        ("ODOO_USERNAME", world::NOSALES_LOGIN),
        ("ODOO_PASSWORD", world::NOSALES_PASSWORD),
    ]);
    let run = env.run(&["odoo", "test-connection", "--json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.json()["sale_order"]["read"], false);
}

fn assert_one_line_error(run: &crate::env::Run, code: i32, needles: &[&str]) {
    assert_eq!(run.code, code, "{}", run.all());
    let first = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", run.all()));
    for n in needles {
        assert!(run.stderr.contains(n), "{n:?} not in {}", run.stderr);
    }
    assert!(run.stderr.contains("hint:"), "no hint: {}", run.stderr);
    assert!(first.len() < 300, "error line too long: {first}");
}

#[test]
fn wrong_password_is_an_authentication_error() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_PASSWORD", "WRONG")]);
    for protocol in ["jsonrpc", "xmlrpc"] {
        let run = env.run(&["--odoo-protocol", protocol, "odoo", "test-connection"]);
        assert_one_line_error(
            &run,
            3,
            &[
                "authentication failed for user 'admin' on database 'portal'",
                "ODOO_PASSWORD",
            ],
        );
    }
}

#[test]
fn bad_api_key_is_an_authentication_error_over_json2() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_API_KEY", "0000000000000000000000000000000000000000")]);
    let run = env.run(&["--odoo-protocol", "json2", "odoo", "test-connection"]);
    assert_one_line_error(
        &run,
        3,
        &["authentication failed", "Invalid apikey", "ODOO_API_KEY"],
    );
}

#[test]
fn rejected_credentials_are_an_authentication_error() {
    let env = TestEnv::new();
    env.fake.reject_credentials(true);
    let run = env.run(&["odoo", "test-connection"]);
    assert_one_line_error(&run, 3, &["authentication failed"]);
}

#[test]
fn unknown_database_is_named() {
    let env = TestEnv::new();
    env.write_env(&[
        ("ODOO_DB", "no_such_db"),
        ("ODOO_API_KEY", world::ADMIN_API_KEY),
    ]);
    for protocol in ["json2", "jsonrpc", "xmlrpc"] {
        let run = env.run(&["--odoo-protocol", protocol, "odoo", "test-connection"]);
        assert_one_line_error(
            &run,
            3,
            &["database 'no_such_db' does not exist", "ODOO_DB"],
        );
    }
}

#[test]
fn refused_connection_says_so() {
    let mut env = TestEnv::new();
    env.fake.stop();
    let run = env.run(&["odoo", "test-connection"]);
    assert_one_line_error(&run, 3, &["connection refused", "ODOO_URL"]);
}

#[test]
fn unknown_host_says_so() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_URL", "http://no-such-host.invalid")]);
    let run = env.run(&["odoo", "test-connection"]);
    assert_one_line_error(&run, 3, &["could not connect", "lookup address"]);
}

#[test]
fn proxy_502_page_is_shown_short() {
    let env = TestEnv::new();
    env.fake.inject(FaultRule::always(Fault::BadGateway));
    let run = env.run(&["odoo", "test-connection"]);
    assert_one_line_error(&run, 3, &["HTTP 502", "502 Bad Gateway"]);
    assert!(!run.stderr.contains("<html"), "{}", run.stderr);
}

#[test]
fn malformed_body_is_a_protocol_error() {
    let env = TestEnv::new();
    for protocol in ["jsonrpc", "xmlrpc"] {
        env.fake.inject(FaultRule::always(Fault::MalformedBody));
        let run = env.run(&["--odoo-protocol", protocol, "odoo", "test-connection"]);
        assert_one_line_error(&run, 3, &["could not be read"]);
        env.fake.clear_faults();
    }
}

#[test]
fn truncated_body_is_reported() {
    let env = TestEnv::new();
    env.fake.inject(FaultRule::always(Fault::TruncatedBody));
    let run = env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("error:"), "{}", run.stderr);
}

#[test]
fn timeout_is_reported() {
    let env = TestEnv::new();
    env.fake.inject(FaultRule::always(Fault::Latency(
        std::time::Duration::from_secs(3),
    )));
    let run = env.run(&["--odoo-timeout", "0.5", "odoo", "test-connection"]);
    assert_one_line_error(&run, 3, &["no answer before the timeout", "ODOO_TIMEOUT"]);
}

#[test]
fn missing_key_names_it_and_where_to_set_it() {
    let env = TestEnv::new();
    env.write_env(&[("ODOO_URL", "")]);
    let run = env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("ODOO_URL is not set"), "{}", run.stderr);
    assert!(run.stderr.contains(".env"), "{}", run.stderr);
}

#[test]
fn json2_without_api_key_names_the_key() {
    let env = TestEnv::new();
    let run = env.run(&["--odoo-protocol", "json2", "odoo", "test-connection"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("ODOO_API_KEY is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn never_needs_the_local_database() {
    let env = TestEnv::new();
    let run = env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!env.database().exists());
}

#[test]
fn secrets_never_appear_in_output_at_any_verbosity() {
    let env = TestEnv::new();
    let secret_pw = "S3cret-Pa55word";
    let secret_key = "feedfacefeedfacefeedfacefeedfacefeedface";
    // Failing and succeeding runs, every protocol, quiet to -vv, stderr and a log file.
    env.write_env(&[("ODOO_PASSWORD", secret_pw), ("ODOO_API_KEY", secret_key)]);
    let log = env.path("run.log");
    let log_s = log.display().to_string();
    for protocol in ["json2", "jsonrpc", "xmlrpc"] {
        for v in ["-q", "-v", "-vv"] {
            let run = env.run(&[
                "--odoo-protocol",
                protocol,
                v,
                "odoo",
                "test-connection",
                "--json",
            ]);
            assert!(
                !run.all().contains(secret_pw) && !run.all().contains(secret_key),
                "{}",
                run.all()
            );
            let run = env.run(&[
                "--odoo-protocol",
                protocol,
                v,
                "--log-file",
                &log_s,
                "odoo",
                "test-connection",
            ]);
            assert!(
                !run.all().contains(secret_pw) && !run.all().contains(secret_key),
                "{}",
                run.all()
            );
        }
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !logged.contains(secret_pw) && !logged.contains(secret_key),
        "{logged}"
    );
    // The real admin password works too: a successful -vv run shows no password either.
    env.write_env(&[]);
    let run = env.run(&["-vv", "odoo", "test-connection"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        !run.all()
            .contains(&format!("\"{}\"", world::ADMIN_PASSWORD)),
        "{}",
        run.all()
    );
}

#[test]
fn verbose_shows_the_server_traceback_of_a_fault() {
    use orderbridge::odoo::{Call, OdooClient, OdooConfig, OdooError, ProtocolChoice};
    let env = TestEnv::new();
    let cfg = OdooConfig {
        url: env.fake.url(),
        db: world::DB.into(),
        login: world::ADMIN_LOGIN.into(),
        password: Some(orderbridge::Secret::new(world::ADMIN_PASSWORD)),
        api_key: None,
        protocol: ProtocolChoice::Auto,
        timeout: std::time::Duration::from_secs(5),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(async {
            OdooClient::new(&cfg)?
                .execute(Call::new("sale.order", "no_such_method").on(&[1]))
                .await
        })
        .unwrap_err();
    match &err {
        OdooError::Fault {
            exception,
            message,
            traceback,
            ..
        } => {
            assert_eq!(exception, "AttributeError");
            assert_eq!(
                message,
                "The method 'sale.order.no_such_method' does not exist"
            );
            assert!(traceback.as_deref().unwrap_or("").contains("Traceback"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("Traceback"));
}
