//! `orderbridge serve`: webhooks applied only when newer, refused when forged or malformed,
//! unknown orders imported for linked customers, the poll as the safety net, a clean stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use crate::env::{Run, TestEnv};

pub(crate) const SECRET: &str = "test-secret-0123456789abcdef";

/// A running `orderbridge serve`, stopped with SIGTERM.
pub(crate) struct Served {
    child: Child,
    pub addr: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Served {
    pub(crate) fn start(env: &TestEnv, extra: &[&str]) -> Served {
        Served::start_with_files(env, extra, None)
    }

    /// [`Served::start`] with these settings besides the webhook secret.
    #[allow(dead_code)] // used by tests/it only
    pub(crate) fn start_with_env(env: &TestEnv, extra: &[&str], vals: &[(&str, &str)]) -> Served {
        let mut all = vec![("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)];
        all.extend_from_slice(vals);
        env.write_env(&all);
        Served::spawn(env, extra, None)
    }

    /// [`Served::start`] under an open-file limit (`ulimit -n`).
    #[allow(dead_code)] // used by tests/it only
    pub(crate) fn start_with_files(env: &TestEnv, extra: &[&str], nofile: Option<u32>) -> Served {
        env.write_env(&[("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)]);
        Served::spawn(env, extra, nofile)
    }

    fn spawn(env: &TestEnv, extra: &[&str], nofile: Option<u32>) -> Served {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut command = env.command(env.path("").as_path(), &args);
        if let Some(n) = nofile {
            let mut limited = std::process::Command::new("sh");
            limited
                .current_dir(env.path(""))
                .env_clear()
                .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
                .arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(command.get_program())
                .args(command.get_args());
            command = limited;
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let addr = loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                panic!("serve ended before listening: {seen}");
            }
            seen.push_str(&line);
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            seen + &rest
        });
        Served {
            child,
            addr,
            stderr,
        }
    }

    #[allow(dead_code)] // used by tests/it only
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `(status, body)` of one HTTP/1.1 request.
    pub(crate) fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(&self.addr, method, path, body)
    }

    pub(crate) fn deliver(&self, body: &str) -> (u16, String) {
        self.request("POST", &format!("/odoo/webhook/{SECRET}"), body)
    }

    /// SIGTERM, then the exit and the output.
    pub(crate) fn stop(self) -> Run {
        self.signal_stop();
        self.wait()
    }

    /// SIGKILL, as a crash or the OOM killer would: no stop, no cleanup.
    #[allow(dead_code)] // used by tests/it only
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, without waiting for the exit.
    pub(crate) fn signal_stop(&self) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    /// The exit and the output.
    pub(crate) fn wait(mut self) -> Run {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.stderr.join().unwrap(),
        }
    }
}

pub(crate) fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A `write_date` a little ahead of now, to the second (a webhook's stamp is this plus its
/// microseconds): newer than anything the fake stored, within the accepted clock skew.
pub(crate) fn later() -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(90))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A body as Odoo 19 posts it (`../shared/odoo/webhooks/`).
pub(crate) fn body(odoo_id: i64, amount: &str, state: &str, write_date: &str) -> String {
    format!(
        r#"{{"_action": "orderbridge webhook(#353)", "_id": {odoo_id}, "_model": "sale.order", "amount_total": {amount}, "client_order_ref": false, "currency_id": 1, "id": {odoo_id}, "name": "S{odoo_id:05}", "partner_id": 9, "state": "{state}", "write_date": "{write_date}"}}"#
    )
}

pub(crate) fn with_orders() -> TestEnv {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    env
}

pub(crate) fn result(reply: &(u16, String)) -> String {
    let v: serde_json::Value = serde_json::from_str(&reply.1).unwrap();
    v["result"].as_str().unwrap().to_string()
}

pub(crate) fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_newer_webhook_updates_the_portal_amount() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let served = Served::start(&env, &["--poll", "0"]);
    let reply = served.deliver(&body(id, "950.0", "draft", &format!("{t}.000001")));
    assert_eq!((reply.0, result(&reply)), (200, "updated".to_string()));
    assert_eq!(env.portal_amount(id).as_deref(), Some("950.00"));
    assert_eq!(served.stop().code, 0);
}

#[test]
fn an_older_webhook_changes_nothing() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let served = Served::start(&env, &["--poll", "0"]);
    let newer = body(id, "950.0", "draft", &format!("{t}.500000"));
    assert_eq!(result(&served.deliver(&newer)), "updated");
    let older = body(id, "111.0", "draft", &format!("{t}.400000"));
    assert_eq!(result(&served.deliver(&older)), "stale");
    assert_eq!(env.portal_amount(id).as_deref(), Some("950.00"));
    served.stop();
}

#[test]
fn a_webhook_delivered_twice_changes_nothing_the_second_time() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let served = Served::start(&env, &["--poll", "0"]);
    let once = body(id, "950.0", "draft", &format!("{t}.500000"));
    assert_eq!(result(&served.deliver(&once)), "updated");
    assert_eq!(result(&served.deliver(&once)), "unchanged");
    assert_eq!(env.portal_amount(id).as_deref(), Some("950.00"));
    served.stop();
}

/// A line edit posts the order's write_date from before the edit (captures-2 029): it ties
/// with what the previous change stored, and its new amount must still apply.
#[test]
fn a_line_edit_webhook_tying_with_the_stored_stamp_applies() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let served = Served::start(&env, &["--poll", "0"]);
    let confirm = body(id, "950.0", "sale", &format!("{t}.500000"));
    assert_eq!(result(&served.deliver(&confirm)), "updated");
    let line_edit = body(id, "990.0", "sale", &format!("{t}.500000"));
    assert_eq!(result(&served.deliver(&line_edit)), "updated");
    assert_eq!(env.portal_amount(id).as_deref(), Some("990.00"));
    served.stop();
}

#[test]
fn a_full_sync_never_replaces_what_a_webhook_of_a_later_second_stored() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let served = Served::start(&env, &["--poll", "0"]);
    let future = body(id, "950.0", "draft", &format!("{t}.500000"));
    assert_eq!(result(&served.deliver(&future)), "updated");
    served.stop();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    assert_eq!(env.portal_amount(id).as_deref(), Some("950.00"));
}

#[test]
fn a_zero_amount_in_a_webhook_keeps_the_portal_amount() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let before = env.portal_amount(id);
    let served = Served::start(&env, &["--poll", "0"]);
    let reply = served.deliver(&body(id, "0.0", "draft", &format!("{t}.000001")));
    assert_eq!(result(&reply), "kept_portal");
    assert_eq!(env.portal_amount(id), before);
    served.stop();
}

#[test]
fn a_wrong_secret_is_not_found_and_writes_nothing() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let before = env.portal_amount(id);
    let served = Served::start(&env, &["--poll", "0"]);
    let forged = body(id, "1.0", "draft", &format!("{t}.000001"));
    for path in [
        "/odoo/webhook/test-secret-0123456789abcdeX",
        "/odoo/webhook/test-secret",
        "/odoo/webhook/",
    ] {
        assert_eq!(served.request("POST", path, &forged).0, 404, "{path}");
    }
    assert_eq!(env.portal_amount(id), before);
    served.stop();
}

#[test]
fn a_malformed_delivery_is_refused_with_its_reason() {
    let t = crate::serve::later();
    let env = with_orders();
    let id = env.first_odoo_id();
    let before = env.portal_amount(id);
    let served = Served::start(&env, &["--poll", "0"]);
    let other_model = body(id, "1.0", "draft", &format!("{t}.000001"))
        .replace(r#""sale.order""#, r#""res.partner""#);
    let reply = served.deliver(&other_model);
    assert_eq!(reply.0, 400);
    assert!(reply.1.contains("res.partner"), "{}", reply.1);
    let no_date = body(id, "1.0", "draft", "soon");
    let reply = served.deliver(&no_date);
    assert_eq!(reply.0, 400);
    assert!(reply.1.contains("write_date"), "{}", reply.1);
    assert_eq!(served.deliver("<html>").0, 400);
    assert_eq!(env.portal_amount(id), before);
    served.stop();
}

#[test]
fn an_unknown_order_of_a_linked_customer_is_imported() {
    let t = crate::serve::later();
    let env = with_orders();
    let new_id = env
        .fake
        .with_world(|w| w.add_order(9, Decimal::from_str("321.00").unwrap()));
    let served = Served::start(&env, &["--poll", "0"]);
    let reply = served.deliver(&body(new_id, "321.0", "draft", &format!("{t}.000001")));
    assert_eq!(result(&reply), "importing");
    wait_for("the import", || env.portal_amount(new_id).is_some());
    assert_eq!(env.portal_amount(new_id).as_deref(), Some("321.00"));
    let run = served.stop();
    assert!(
        run.stdout.contains("Unknown orders: 1 imported, 0 skipped"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_unknown_order_of_an_unlinked_customer_is_only_counted() {
    let t = crate::serve::later();
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let stray = body(999_999, "5.0", "draft", &format!("{t}.000001"))
        .replace(r#""partner_id": 9"#, r#""partner_id": 10"#);
    assert_eq!(result(&served.deliver(&stray)), "unknown");
    let (_, metrics) = served.request("GET", "/metrics", "");
    assert!(
        metrics.contains("orderbridge_webhooks_total{result=\"unknown\"} 1"),
        "{metrics}"
    );
    served.stop();
    assert_eq!(env.portal_amount(999_999), None);
}

#[test]
fn the_poll_catches_a_change_no_webhook_reported() {
    let env = with_orders();
    let id = env.first_odoo_id();
    // The first --changed run sets the cursor; the poll then reads only what changed.
    assert_eq!(env.run(&["orders", "sync-amounts", "--changed"]).code, 0);
    let served = Served::start(&env, &["--poll", "1s"]);
    env.fake
        .with_world(|w| w.set_order_total(id, Decimal::from_str("777.00").unwrap()));
    wait_for("the poll", || {
        env.portal_amount(id).as_deref() == Some("777.00")
    });
    let run = served.stop();
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn a_poll_waits_its_turn_while_cron_holds_the_lock() {
    let env = with_orders();
    let lock = env.hold_sync_lock();
    let served = Served::start(&env, &["--poll", "1s"]);
    wait_for("a skipped poll", || {
        served
            .request("GET", "/metrics", "")
            .1
            .contains("orderbridge_polls_total{outcome=\"busy\"} ")
            && !served
                .request("GET", "/metrics", "")
                .1
                .contains("orderbridge_polls_total{outcome=\"busy\"} 0")
    });
    drop(lock);
    let run = served.stop();
    assert!(
        run.stdout
            .contains("skipped while another run held the lock")
    );
}

#[test]
fn healthz_answers_ok_and_metrics_are_prometheus_text() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let (status, health) = served.request("GET", "/healthz", "");
    assert_eq!(status, 200);
    assert!(health.contains(r#""status":"ok""#), "{health}");
    let (status, metrics) = served.request("GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE orderbridge_webhooks_total counter"));
    served.stop();
}

#[test]
fn sigterm_stops_it_with_exit_0_and_a_report() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let run = served.stop();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Stopped serving on 127.0.0.1:"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_a_secret_it_refuses_to_start() {
    let env = with_orders();
    let run = env.run(&["serve", "--listen", "127.0.0.1:0", "--poll", "0"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("ORDERBRIDGE_WEBHOOK_SECRET"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_short_secret_is_refused_without_being_shown() {
    let env = with_orders();
    env.write_env(&[("ORDERBRIDGE_WEBHOOK_SECRET", "hunter2")]);
    let run = env.run(&["serve", "--listen", "127.0.0.1:0", "--poll", "0"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.all().contains("hunter2"), "{}", run.all());
}

#[test]
fn a_webhook_stamped_beyond_the_clock_skew_is_refused_and_freezes_nothing() {
    let env = with_orders();
    let id = env.first_odoo_id();
    let before = env.portal_amount(id);
    let served = Served::start(&env, &["--poll", "0"]);
    let frozen = served.deliver(&body(id, "1.0", "draft", "9999-12-31 23:59:59.000000"));
    assert_eq!(frozen.0, 400, "{}", frozen.1);
    assert!(
        frozen.1.contains("later than this server's clock"),
        "{}",
        frozen.1
    );
    assert_eq!(env.portal_amount(id), before);
    let t = later();
    let next = served.deliver(&body(id, "950.0", "draft", &format!("{t}.000001")));
    assert_eq!(result(&next), "updated");
    served.stop();
}

#[test]
fn an_import_takes_the_customer_of_odoos_partner_not_the_bodys() {
    let t = later();
    let env = with_orders();
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "Other",
        "--email",
        "other@example.com",
        "--odoo-partner-id",
        "10",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let of_10 = env
        .fake
        .with_world(|w| w.add_order(10, Decimal::from_str("40.00").unwrap()));
    let served = Served::start(&env, &["--poll", "0"]);
    // The body says partner 9; Odoo says 10.
    let reply = served.deliver(&body(of_10, "40.0", "draft", &format!("{t}.000001")));
    assert_eq!(result(&reply), "importing");
    wait_for("the import", || env.portal_amount(of_10).is_some());
    let shown = env.run(&["orders", "show", "--odoo-id", &of_10.to_string(), "--json"]);
    assert_eq!(shown.json()["customer_id"], 2, "{}", shown.stdout);
    served.stop();
}

#[test]
fn imports_that_store_nothing_are_not_counted_as_imported() {
    let t = later();
    let env = with_orders();
    let unlinked = env
        .fake
        .with_world(|w| w.add_order(11, Decimal::from_str("40.00").unwrap()));
    let served = Served::start(&env, &["--poll", "0"]);
    // Both bodies name the linked partner 9: one order is another partner's, one is gone.
    for id in [unlinked, 999_999] {
        let reply = served.deliver(&body(id, "40.0", "draft", &format!("{t}.000001")));
        assert_eq!(result(&reply), "importing");
    }
    let mut metrics = String::new();
    wait_for("both imports", || {
        metrics = served.request("GET", "/metrics", "").1;
        metrics.contains("orderbridge_webhook_imports_total{outcome=\"skipped\"} 1")
            && metrics.contains("orderbridge_webhook_imports_total{outcome=\"not_in_odoo\"} 1")
    });
    assert!(
        metrics.contains("orderbridge_webhook_imports_total{outcome=\"ok\"} 0"),
        "{metrics}"
    );
    let run = served.stop();
    assert!(
        run.stdout
            .contains("Unknown orders: 0 imported, 1 skipped, 1 not in Odoo, 0 failed"),
        "{}",
        run.stdout
    );
    assert_eq!(env.portal_amount(unlinked), None);
}

#[test]
fn health_answers_at_once_and_says_busy_while_another_writer_holds_the_store() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let lock = env.hold_write_lock();
    let until = Instant::now() + Duration::from_secs(15);
    let said = loop {
        let asked = Instant::now();
        let (status, body) = served.request("GET", "/healthz", "");
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "/healthz took {:?} behind the lock",
            asked.elapsed()
        );
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < until, "still {status} {body}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(said.contains(r#""status":"store_busy""#), "{said}");
    drop(lock);
    wait_for("health back to ok", || {
        served.request("GET", "/healthz", "").0 == 200
    });
    served.stop();
}
