//! `serve` as a long-running receiver that bad luck and attackers try: slow and idle
//! clients, descriptors run out, a stop while a request is half sent, a burst, floods of
//! bad requests in the log.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::env::TestEnv;
use crate::serve::{SECRET, Served, body, later, result, wait_for, with_orders};

/// Reads until the server closes the connection (or `limit` passes); what it sent, and how
/// long it took.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn metric(served: &Served, name: &str) -> f64 {
    let (_, text) = served.request("GET", "/metrics", "");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

fn threads_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .map_or(0, |n| n.trim().parse().unwrap_or(0))
}

#[test]
fn headers_that_never_end_are_cut_at_the_read_timeout() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--read-timeout", "1s"]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    s.write_all(b"POST /odoo/webhook/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        .unwrap();
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(took < Duration::from_secs(4), "kept for {took:?}");
    served.stop();
}

#[test]
fn a_body_that_never_arrives_gets_408_at_the_read_timeout() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--read-timeout", "1s"]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    write!(
        s,
        "POST /odoo/webhook/{SECRET} HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n{{\"id\":"
    )
    .unwrap();
    let (reply, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(took < Duration::from_secs(4), "kept for {took:?}");
    served.stop();
}

#[test]
fn an_idle_connection_is_closed_at_the_read_timeout() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--read-timeout", "1s"]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    // One request kept alive, then nothing.
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let (reply, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(took < Duration::from_secs(4), "kept for {took:?}");
    served.stop();
}

#[test]
fn idle_connections_beyond_the_limit_are_shed_and_webhooks_still_land() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--max-connections", "20"]);
    let idle: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(&served.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let asked = Instant::now();
    let reply = served.deliver(&body(1, "1234.00", "sale", &format!("{}.000001", later())));
    assert_eq!(reply.0, 200, "{reply:?}");
    assert_eq!(result(&reply), "updated");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(served.request("GET", "/healthz", "").0, 200);
    assert!(metric(&served, "orderbridge_serve_connections_shed_total") >= 1.0);
    assert_eq!(metric(&served, "orderbridge_serve_shedding"), 1.0);
    assert!(metric(&served, "orderbridge_serve_connections") <= 20.0);
    drop(idle);
    let run = served.stop();
    assert_eq!(
        run.stderr.matches("Shedding connections").count(),
        1,
        "said once: {}",
        run.stderr
    );
}

#[test]
fn under_a_low_open_file_limit_idle_sockets_cannot_exhaust_its_descriptors() {
    let env = with_orders();
    let served = Served::start_with_files(&env, &["--poll", "1s"], Some(128));
    // More sockets than the process may open.
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(&served.addr).ok())
        .collect();
    assert!(idle.len() > 128, "only {} connected", idle.len());
    std::thread::sleep(Duration::from_millis(700));
    assert!(metric(&served, "orderbridge_serve_connection_limit") <= 64.0);
    let reply = served.deliver(&body(1, "777.00", "sale", &format!("{}.000001", later())));
    assert_eq!(result(&reply), "updated", "{reply:?}");
    assert_eq!(served.request("GET", "/healthz", "").0, 200);
    // The poll still opens what it needs (the store's files, Odoo's sockets).
    let polls = metric(&served, "orderbridge_polls_total{outcome=\"ok\"}");
    wait_for("a poll after the flood", || {
        metric(&served, "orderbridge_polls_total{outcome=\"ok\"}") > polls
    });
    drop(idle);
    let run = served.stop();
    assert!(
        !run.stderr.contains("Too many open files"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_stop_while_a_client_sent_half_its_headers_ends_at_once() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--stop-timeout", "3s"]);
    let mut s = TcpStream::connect(&served.addr).unwrap();
    s.write_all(b"POST /odoo/webhook/x HTTP/1.1\r\nHost: a\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    served.signal_stop();
    let run = served.wait();
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn a_stop_cuts_a_request_still_under_way_at_its_deadline_with_exit_1() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0", "--stop-timeout", "1s"]);
    // A webhook waiting for the store's write lock: under way past the deadline.
    let lock = env.hold_write_lock();
    let addr = served.addr.clone();
    let waiting = std::thread::spawn(move || {
        let b = body(1, "555.00", "sale", &format!("{}.000001", later()));
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /odoo/webhook/{SECRET} HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )
        .unwrap();
        read_until_closed(&mut s, Duration::from_secs(20)).0
    });
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    served.signal_stop();
    let run = served.wait();
    let took = asked.elapsed();
    drop(lock);
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("cut"), "{}", run.stdout);
    assert_eq!(waiting.join().unwrap(), "", "no answer for a cut request");
}

#[test]
fn a_burst_of_webhooks_is_applied_with_a_few_threads() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let pid = served.pid();
    let stamp = later();
    let addr = served.addr.clone();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (peak, watching) = (peak.clone(), watching.clone());
        std::thread::spawn(move || {
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(threads_of(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let senders: Vec<_> = (0..200)
        .map(|i| {
            let (addr, stamp) = (addr.clone(), stamp.clone());
            std::thread::spawn(move || {
                let b = body(
                    1 + i % 3,
                    &format!("{}.00", 100 + i),
                    "sale",
                    &format!("{stamp}.{:06}", i + 1),
                );
                crate::serve::http(&addr, "POST", &format!("/odoo/webhook/{SECRET}"), &b).0
            })
        })
        .collect();
    let codes: Vec<u16> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    let threads = peak.load(std::sync::atomic::Ordering::Relaxed);
    assert!(threads <= 16, "{threads} threads at the peak");
    // The newest stamp of each order won.
    let id = env
        .scalar("SELECT id FROM sales_orders WHERE odoo_order_id = 1")
        .unwrap();
    let shown = env.run(&["orders", "show", &id, "--json"]).json();
    assert_eq!(shown["total_amount"], "298.00", "{shown}");
    served.stop();
}

#[test]
fn a_huge_bad_field_is_clipped_in_the_answer_and_the_log() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    let huge = format!(r#"{{"_model": "{}", "id": 1}}"#, "x".repeat(900_000));
    let (status, answer) = served.deliver(&huge);
    assert_eq!(status, 400);
    assert!(answer.len() < 300, "{} bytes", answer.len());
    let run = served.stop();
    assert!(
        run.stderr.lines().all(|l| l.len() < 1000),
        "a log line of {} bytes",
        run.stderr.lines().map(str::len).max().unwrap_or(0)
    );
}

#[test]
fn a_flood_of_wrong_secrets_is_logged_once() {
    let env = with_orders();
    let served = Served::start(&env, &["--poll", "0"]);
    for _ in 0..50 {
        let (status, _) = served.request("POST", "/odoo/webhook/wrong-secret-guess", "{}");
        assert_eq!(status, 404);
    }
    let run = served.stop();
    assert_eq!(
        run.stderr.matches("wrong secret").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn serve_refuses_a_store_it_cannot_write_with_exit_4() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    env.write_env(&[("ORDERBRIDGE_WEBHOOK_SECRET", SECRET)]);
    // A read-only folder and file, opened by a user the permissions bind (root's are not).
    let dir = env.path("ro");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("store.db");
    std::fs::copy(env.database(), &db).unwrap();
    let chmod = |mode: &str, p: &std::path::Path| {
        assert!(
            std::process::Command::new("chmod")
                .args([mode, p.to_str().unwrap()])
                .status()
                .unwrap()
                .success()
        );
    };
    chmod("0444", &db);
    chmod("0555", &dir);
    chmod("0755", env.dir.path());
    chmod("0644", &env.path(".env"));
    let mut cmd = env.command_on(
        env.dir.path(),
        db.to_str().unwrap(),
        &["serve", "--listen", "127.0.0.1:0", "--poll", "0"],
    );
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let mut as_nobody = std::process::Command::new("setpriv");
        as_nobody
            .current_dir(env.dir.path())
            .env_clear()
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        cmd = as_nobody;
    }
    let out = cmd.output().unwrap();
    let run = TestEnv::collect(out);
    chmod("0755", &dir);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
}
