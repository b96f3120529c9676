//! `serve`'s order API (`/v1`) through real HTTP, the fake Odoo behind: idempotency keys
//! with Stripe's semantics, one Odoo request per checkout, the token and the unix socket,
//! body limits and slow clients, a kill mid-create, and signed events back to the portal.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_odoo::{Fault, FaultRule};
use hmac::{Hmac, KeyInit, Mac};

use crate::env::TestEnv;
use crate::orders::odoo_orders_with_origin;
use crate::serve::{Served, body, later, wait_for};

pub(crate) const TOKEN: &str = "api-token-0123456789abcdefghij";
const PORTAL_SECRET: &str = "portal-secret-0123456789abcdef";

/// An answer: status, headers (lower-case names), JSON body.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: serde_json::Value,
}

fn parse_answer(reply: &str) -> Answer {
    let (head, rest) = reply.split_once("\r\n\r\n").unwrap_or((reply, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: serde_json::from_str(rest).unwrap_or(serde_json::Value::Null),
    }
}

fn request_text(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req
}

/// One request over TCP.
pub(crate) fn call(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request_text(addr, method, path, headers, body).as_bytes())
        .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    parse_answer(&reply)
}

const AUTH: (&str, &str) = ("Authorization", "Bearer api-token-0123456789abcdefghij");

/// `POST /v1/orders` with the token and, when given, an idempotency key.
pub(crate) fn checkout(addr: &str, key: Option<&str>, order: &str) -> Answer {
    let mut headers = vec![AUTH];
    if let Some(k) = key {
        headers.push(("Idempotency-Key", k));
    }
    call(addr, "POST", "/v1/orders", &headers, order)
}

pub(crate) fn order_json(amount: &str) -> String {
    format!(
        r#"{{"customer_id": 1, "amount": "{amount}", "currency": "USD", "lines": [{{"product_id": 5, "quantity": 2, "price_unit": "100.00"}}]}}"#
    )
}

/// A store with customer 1 linked to partner 9, and `serve` with the API token.
fn serving(extra_env: &[(&str, &str)]) -> (TestEnv, Served) {
    let env = TestEnv::new();
    env.link_deco();
    let mut vals = vec![("ORDERBRIDGE_API_TOKEN", TOKEN)];
    vals.extend_from_slice(extra_env);
    let served = Served::start_with_env(&env, &["--poll", "0"], &vals);
    (env, served)
}

#[test]
fn a_checkout_with_a_new_key_is_created_with_201() {
    let (env, served) = serving(&[]);
    let a = checkout(&served.addr, Some("chk-1"), &order_json("200.00"));
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["ok"], true);
    assert_eq!(a.body["command"], "orders create");
    assert_eq!(a.body["data"]["outcome"], "created");
    assert_eq!(a.body["data"]["idempotency_key"], "chk-1");
    assert_eq!(a.body["data"]["order"]["odoo_amount_total"], "230.00");
    assert_eq!(odoo_orders_with_origin(&env, "chk-1"), 1);
    assert_eq!(served.stop().code, 0);
}

#[test]
fn a_checkout_with_a_fresh_key_costs_one_odoo_request_and_no_login() {
    let (env, served) = serving(&[]);
    // The first opens the process's one session.
    assert_eq!(
        checkout(&served.addr, Some("warm"), &order_json("10")).status,
        201
    );
    let (before, logins) = (
        env.fake.requests(),
        env.fake.calls("common", "authenticate"),
    );
    for i in 0..5 {
        let a = checkout(&served.addr, Some(&format!("one-{i}")), &order_json("10"));
        assert_eq!(a.status, 201, "{}", a.body);
    }
    assert_eq!(
        env.fake.requests() - before,
        5,
        "{:?}",
        env.fake.all_calls()
    );
    assert_eq!(env.fake.calls("common", "authenticate"), logins);
    served.stop();
}

#[test]
fn the_same_key_and_body_replay_the_first_answer_without_odoo() {
    let (env, served) = serving(&[]);
    let first = checkout(&served.addr, Some("chk-replay"), &order_json("200.00"));
    assert_eq!(first.status, 201);
    let before = env.fake.requests();
    let again = checkout(&served.addr, Some("chk-replay"), &order_json("200.00"));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["data"]["outcome"], "already_done");
    assert_eq!(
        again.headers.get("idempotent-replayed").map(String::as_str),
        Some("true")
    );
    assert_eq!(again.body["data"]["order"], first.body["data"]["order"]);
    assert_eq!(env.fake.requests(), before);
    served.stop();
}

#[test]
fn the_same_key_with_another_body_is_refused_with_422() {
    let (env, served) = serving(&[]);
    assert_eq!(
        checkout(&served.addr, Some("chk-x"), &order_json("200.00")).status,
        201
    );
    let other = checkout(&served.addr, Some("chk-x"), &order_json("999.00"));
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(other.body["ok"], false);
    assert!(
        other.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used for a different order"),
        "{}",
        other.body
    );
    assert_eq!(odoo_orders_with_origin(&env, "chk-x"), 1);
    served.stop();
}

#[test]
fn concurrent_checkouts_with_one_key_make_one_odoo_order() {
    let (env, served) = serving(&[]);
    env.fake.set_latency(Duration::from_millis(20));
    let addr = served.addr.clone();
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| s.spawn(|| checkout(&addr, Some("chk-race"), &order_json("200.00"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = answers.iter().filter(|a| a.status == 201).count();
    let replayed = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!((created, replayed), (1, 19));
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| a.body["data"]["order"]["odoo_order_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(odoo_orders_with_origin(&env, "chk-race"), 1);
    served.stop();
}

#[test]
fn a_key_in_flight_longer_than_the_wait_gets_409() {
    let (env, served) = serving(&[("ORDERBRIDGE_API_KEY_WAIT", "0.5")]);
    env.fake.inject(FaultRule::once(
        Fault::Latency(Duration::from_millis(2500)),
        "sale.order",
        "web_save",
    ));
    let addr = served.addr.clone();
    let slow = std::thread::spawn(move || checkout(&addr, Some("chk-busy"), &order_json("200.00")));
    wait_for("the first create to reach Odoo", || {
        env.fake.calls("sale.order", "web_save") == 1
    });
    let second = checkout(&served.addr, Some("chk-busy"), &order_json("200.00"));
    assert_eq!(second.status, 409, "{}", second.body);
    assert!(second.headers.contains_key("retry-after"));
    assert_eq!(slow.join().unwrap().status, 201);
    let third = checkout(&served.addr, Some("chk-busy"), &order_json("200.00"));
    assert_eq!(third.status, 200);
    assert_eq!(odoo_orders_with_origin(&env, "chk-busy"), 1);
    served.stop();
}

#[test]
fn odoo_unavailable_with_queueing_on_answers_202_queued() {
    let (env, served) = serving(&[("ORDERBRIDGE_QUEUE_IF_UNAVAILABLE", "true")]);
    env.fake.go_down();
    let a = checkout(&served.addr, Some("chk-q"), &order_json("200.00"));
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.body["data"]["outcome"], "queued");
    assert_eq!(a.body["exit_code"], 5);
    env.fake.come_up();
    // Sent again once Odoo is back: created now, once.
    let b = checkout(&served.addr, Some("chk-q"), &order_json("200.00"));
    assert!(matches!(b.status, 200 | 201), "{}", b.body);
    assert_eq!(odoo_orders_with_origin(&env, "chk-q"), 1);
    served.stop();
}

#[test]
fn odoo_unavailable_without_queueing_answers_503_and_stores_nothing() {
    let (env, served) = serving(&[]);
    env.fake.go_down();
    let a = checkout(&served.addr, Some("chk-down"), &order_json("200.00"));
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.body["exit_code"], 3);
    assert!(a.headers.contains_key("retry-after"));
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM sales_orders WHERE idempotency_key = 'chk-down'")
            .as_deref(),
        Some("0")
    );
    served.stop();
}

#[test]
fn a_missing_or_wrong_token_is_refused_and_nothing_is_created() {
    let (env, served) = serving(&[]);
    let none = call(&served.addr, "POST", "/v1/orders", &[], &order_json("1"));
    assert_eq!(none.status, 401);
    assert!(none.headers.contains_key("www-authenticate"));
    let wrong = call(
        &served.addr,
        "POST",
        "/v1/orders",
        &[("Authorization", "Bearer api-token-0123456789abcdefghiX")],
        &order_json("1"),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 0);
    let run = served.stop();
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
}

#[test]
fn without_a_token_the_api_answers_only_on_the_unix_socket() {
    let env = TestEnv::new();
    env.link_deco();
    let socket = env.path("api.sock");
    let served = Served::start_with_env(
        &env,
        &["--poll", "0"],
        &[("ORDERBRIDGE_API_SOCKET", socket.to_str().unwrap())],
    );
    let tcp = checkout(&served.addr, Some("chk-u"), &order_json("200.00"));
    assert_eq!(tcp.status, 403, "{}", tcp.body);
    let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    let req = request_text(
        "localhost",
        "POST",
        "/v1/orders",
        &[("Idempotency-Key", "chk-u")],
        &order_json("200.00"),
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let a = parse_answer(&reply);
    assert_eq!(a.status, 201, "{}", a.body);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    assert_eq!(served.stop().code, 0);
    assert!(!socket.exists(), "the socket file is removed at the stop");
}

#[test]
fn an_oversize_body_is_refused_before_it_is_read() {
    let (env, served) = serving(&[]);
    let mut s = std::net::TcpStream::connect(&served.addr).unwrap();
    // Headers only: a declared length over the limit is refused without waiting for it.
    write!(
        s,
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert_eq!(env.fake.calls("sale.order", "web_save"), 0);
    served.stop();
}

#[test]
fn a_slow_client_holds_no_one_else_up() {
    let (_env, served) = serving(&[]);
    let mut slow = std::net::TcpStream::connect(&served.addr).unwrap();
    let half = format!(
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 200\r\n\r\n{{\"customer_id\": 1,"
    );
    slow.write_all(half.as_bytes()).unwrap();
    let started = Instant::now();
    let a = checkout(&served.addr, Some("chk-fast"), &order_json("200.00"));
    assert_eq!(a.status, 201);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(slow);
    served.stop();
}

#[test]
fn get_order_by_id_and_by_number() {
    let (_env, served) = serving(&[]);
    let made = checkout(&served.addr, Some("chk-get"), &order_json("200.00"));
    let id = made.body["data"]["order"]["id"].as_i64().unwrap();
    let number = made.body["data"]["order"]["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    let by_id = call(
        &served.addr,
        "GET",
        &format!("/v1/orders/{id}"),
        &[AUTH],
        "",
    );
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body["command"], "orders show");
    assert_eq!(by_id.body["data"]["order_number"], number.as_str());
    let by_number = call(
        &served.addr,
        "GET",
        &format!("/v1/orders/{number}"),
        &[AUTH],
        "",
    );
    assert_eq!(by_number.body["data"]["id"], id);
    let missing = call(&served.addr, "GET", "/v1/orders/S99999", &[AUTH], "");
    assert_eq!(missing.status, 404, "{}", missing.body);
    served.stop();
}

#[test]
fn a_customers_orders_are_pulled_from_odoo_on_read_and_stale_when_odoo_is_down() {
    let (env, served) = serving(&[]);
    let listed = call(
        &served.addr,
        "GET",
        "/v1/customers/1/orders?limit=3",
        &[AUTH],
        "",
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["data"]["stale"], false);
    assert_eq!(listed.body["data"]["orders"].as_array().unwrap().len(), 3);
    assert!(listed.body["data"]["total"].as_u64().unwrap() >= 5);
    env.fake.go_down();
    let stale = call(&served.addr, "GET", "/v1/customers/1/orders", &[AUTH], "");
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert_eq!(stale.body["data"]["stale"], true);
    assert!(
        stale.body["data"]["warning"]
            .as_str()
            .unwrap()
            .contains("could not sync")
    );
    assert!(!stale.body["data"]["orders"].as_array().unwrap().is_empty());
    served.stop();
}

#[test]
fn post_customers_adds_and_links_once() {
    let (env, served) = serving(&[]);
    let body = r#"{"name": "New Shop", "email": "new.shop@example.com"}"#;
    let first = call(&served.addr, "POST", "/v1/customers", &[AUTH], body);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["data"]["created_partner"], true);
    let partner = first.body["data"]["customer"]["odoo_partner_id"]
        .as_i64()
        .unwrap();
    let again = call(&served.addr, "POST", "/v1/customers", &[AUTH], body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["data"]["customer"]["odoo_partner_id"], partner);
    assert_eq!(env.fake.calls("res.partner", "create"), 1);
    served.stop();
}

/// A server killed while Odoo creates the order of `key` (Odoo commits after the kill);
/// returns the settings to start the next one with.
fn killed_mid_create(env: &TestEnv, key: &str) -> [(&'static str, &'static str); 1] {
    let vals = [("ORDERBRIDGE_API_TOKEN", TOKEN)];
    let served = Served::start_with_env(env, &["--poll", "0"], &vals);
    env.fake.inject(FaultRule::once(
        Fault::Latency(Duration::from_millis(1000)),
        "sale.order",
        "web_save",
    ));
    let (addr, key_header) = (served.addr.clone(), key.to_string());
    let cut = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let headers = [AUTH, ("Idempotency-Key", key_header.as_str())];
        let req = request_text(&addr, "POST", "/v1/orders", &headers, &order_json("200.00"));
        let _ = s.write_all(req.as_bytes());
        let mut sink = String::new();
        let _ = s.read_to_string(&mut sink);
    });
    wait_for("the create to reach Odoo", || {
        env.fake.calls("sale.order", "web_save") == 1
    });
    served.kill();
    cut.join().unwrap();
    wait_for("Odoo to commit", || odoo_orders_with_origin(env, key) == 1);
    vals
}

#[test]
fn serve_killed_mid_create_resolves_by_key_on_restart_never_twice() {
    let env = TestEnv::new();
    env.link_deco();
    let vals = killed_mid_create(&env, "chk-kill");
    let again = Served::start_with_env(&env, &["--poll", "0"], &vals);
    let a = checkout(&again.addr, Some("chk-kill"), &order_json("200.00"));
    assert_eq!(a.status, 200, "{}", a.body);
    let outcome = a.body["data"]["outcome"].as_str().unwrap();
    assert!(matches!(outcome, "adopted" | "already_done"), "{outcome}");
    assert_eq!(odoo_orders_with_origin(&env, "chk-kill"), 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
    again.stop();
}

#[test]
fn a_restarted_serve_settles_a_killed_create_by_itself() {
    let env = TestEnv::new();
    env.link_deco();
    let vals = killed_mid_create(&env, "chk-self");
    // No retry from the portal: the new server finds the order by its key at its start.
    let again = Served::start_with_env(&env, &["--poll", "0"], &vals);
    wait_for("the order stored locally", || {
        env.scalar("SELECT COUNT(*) FROM sales_orders WHERE idempotency_key = 'chk-self'")
            .as_deref()
            == Some("1")
    });
    assert_eq!(env.fake.calls("sale.order", "web_save"), 1);
    again.stop();
}

#[test]
fn an_unknown_customer_in_the_body_is_refused_with_422() {
    let (env, served) = serving(&[]);
    let a = checkout(
        &served.addr,
        Some("chk-nobody"),
        r#"{"customer_id": 999, "amount": "10.00"}"#,
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 0);
    served.stop();
}

/// One request the portal received: its headers (lower-case names) and body.
type Received = (HashMap<String, String>, String);

/// A portal's webhook receiver: records each event, answers the statuses given in turn
/// (then 200).
struct Portal {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Portal {
    fn start(statuses: Vec<u16>) -> Portal {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/orderbridge/events",
            listener.local_addr().unwrap()
        );
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut r = BufReader::new(stream);
                let mut headers = HashMap::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let n: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; n];
                let _ = r.read_exact(&mut body);
                let status = statuses.next().unwrap_or(200);
                seen.lock()
                    .unwrap()
                    .push((headers, String::from_utf8_lossy(&body).to_string()));
                let mut stream = r.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Portal { url, got }
    }

    fn events(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Checks the signature as a portal does: HMAC-SHA256 over "<t>.<body>".
fn signed(headers: &HashMap<String, String>, body: &str) -> bool {
    let Some(sig) = headers.get("orderbridge-signature") else {
        return false;
    };
    let parts: HashMap<&str, &str> = sig.split(',').filter_map(|p| p.split_once('=')).collect();
    let (Some(t), Some(v1)) = (parts.get("t"), parts.get("v1")) else {
        return false;
    };
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(PORTAL_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fresh = t.parse::<i64>().unwrap() >= chrono::Utc::now().timestamp() - 60;
    hex == *v1 && fresh
}

fn with_portal(statuses: Vec<u16>) -> (TestEnv, Served, Portal) {
    let portal = Portal::start(statuses);
    let (env, served) = serving(&[
        ("ORDERBRIDGE_PORTAL_WEBHOOK_URL", &portal.url.clone()),
        ("ORDERBRIDGE_PORTAL_WEBHOOK_SECRET", PORTAL_SECRET),
    ]);
    (env, served, portal)
}

#[test]
fn a_checkout_sends_one_signed_order_created_event() {
    let (_env, served, portal) = with_portal(vec![]);
    let a = checkout(&served.addr, Some("chk-ev"), &order_json("200.00"));
    assert_eq!(a.status, 201);
    wait_for("the event", || !portal.events().is_empty());
    std::thread::sleep(Duration::from_millis(300));
    let events = portal.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let (headers, body) = &events[0];
    assert!(signed(headers, body), "{headers:?} {body}");
    let e: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(e["type"], "order.created");
    assert_eq!(e["order"]["id"], a.body["data"]["order"]["id"]);
    assert_eq!(e["data"]["source"], "portal");
    assert_eq!(e["data"]["idempotency_key"], "chk-ev");
    assert_eq!(
        headers.get("orderbridge-event-type").map(String::as_str),
        Some("order.created")
    );
    served.stop();
}

#[test]
fn an_event_the_portal_answered_500_is_delivered_again_and_the_next_waits_for_it() {
    let (env, served, portal) = with_portal(vec![500]);
    let a = checkout(&served.addr, Some("chk-500"), &order_json("200.00"));
    let odoo_id = a.body["data"]["order"]["odoo_order_id"].as_i64().unwrap();
    // A change from Odoo right after: its event must not overtake the first.
    let t = later();
    let (status, _) = served.deliver(&body(odoo_id, "345.0", "sale", &format!("{t}.000001")));
    assert_eq!(status, 200);
    wait_for("both events, the first twice", || {
        portal.events().len() >= 3
    });
    let kinds: Vec<String> = portal
        .events()
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds[0], "order.created");
    assert_eq!(
        kinds[1], "order.created",
        "redelivered after the 500: {kinds:?}"
    );
    assert_eq!(kinds[2], "order.amount_changed", "{kinds:?}");
    let ids: Vec<i64> = portal
        .events()
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert!(ids[2] > ids[1]);
    let (_, metrics) = served.request("GET", "/metrics", "");
    assert!(
        metrics.contains("orderbridge_event_attempts_failed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("orderbridge_events_delivered_total 2"),
        "{metrics}"
    );
    let _ = env;
    served.stop();
}

#[test]
fn events_can_be_polled_after_a_cursor() {
    let (env, served) = serving(&[]);
    checkout(&served.addr, Some("chk-p1"), &order_json("200.00"));
    checkout(&served.addr, Some("chk-p2"), &order_json("200.00"));
    let page = call(&served.addr, "GET", "/v1/events?after=0", &[AUTH], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let events = page.body["data"]["events"].as_array().unwrap().clone();
    let ours: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["data"]["source"] == "portal")
        .collect();
    assert_eq!(ours.len(), 2, "{}", page.body);
    let next = page.body["data"]["next_after"].as_i64().unwrap();
    assert_eq!(next, events.last().unwrap()["id"].as_i64().unwrap());
    let rest = call(
        &served.addr,
        "GET",
        &format!("/v1/events?after={next}"),
        &[AUTH],
        "",
    );
    assert!(rest.body["data"]["events"].as_array().unwrap().is_empty());
    assert_eq!(rest.body["data"]["next_after"], next);
    let _ = env;
    served.stop();
}

#[test]
fn a_stop_lets_a_create_under_way_finish_and_answer() {
    let (env, served) = serving(&[]);
    env.fake.inject(FaultRule::once(
        Fault::Latency(Duration::from_millis(1500)),
        "sale.order",
        "web_save",
    ));
    let addr = served.addr.clone();
    let pending =
        std::thread::spawn(move || checkout(&addr, Some("chk-stop"), &order_json("200.00")));
    wait_for("the create to reach Odoo", || {
        env.fake.calls("sale.order", "web_save") == 1
    });
    served.signal_stop();
    let answer = pending.join().unwrap();
    assert_eq!(answer.status, 201, "{}", answer.body);
    let run = served.wait();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM sales_orders WHERE idempotency_key = 'chk-stop'")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn on_odoo_16_and_18_a_checkout_is_created_once_in_the_calls_each_has() {
    for (version, calls) in [
        (16, [("create", 1), ("read", 1), ("web_save", 0)]),
        (18, [("create", 0), ("read", 0), ("web_save", 1)]),
    ] {
        let env = TestEnv::with(fake_odoo::FakeOptions {
            version,
            ..Default::default()
        });
        env.link_deco();
        let served =
            Served::start_with_env(&env, &["--poll", "0"], &[("ORDERBRIDGE_API_TOKEN", TOKEN)]);
        assert_eq!(
            checkout(&served.addr, Some("warm"), &order_json("200.00")).status,
            201
        );
        env.fake.reset_calls();
        let a = checkout(
            &served.addr,
            Some(&format!("v{version}")),
            &order_json("200.00"),
        );
        assert_eq!(a.status, 201, "Odoo {version}: {}", a.body);
        for (method, n) in calls {
            assert_eq!(
                env.fake.calls("sale.order", method),
                n,
                "Odoo {version}: {method}"
            );
        }
        served.stop();
    }
}

#[test]
fn post_customers_with_odoo_down_stores_nothing() {
    let (env, served) = serving(&[]);
    env.fake.go_down();
    let body = r#"{"name": "Down Shop", "email": "down@example.com"}"#;
    let a = call(&served.addr, "POST", "/v1/customers", &[AUTH], body);
    assert_eq!(a.status, 503, "{}", a.body);
    let stored = env.scalar("SELECT COUNT(*) FROM customers WHERE email = 'down@example.com'");
    assert_eq!(stored.as_deref(), Some("0"));
    env.fake.come_up();
    let b = call(&served.addr, "POST", "/v1/customers", &[AUTH], body);
    assert_eq!(b.status, 201, "{}", b.body);
    served.stop();
}

#[test]
fn two_servers_on_one_store_deliver_each_event_once_and_one_takes_over() {
    let portal = Portal::start(vec![]);
    let env = TestEnv::new();
    env.link_deco();
    let vals = [
        ("ORDERBRIDGE_API_TOKEN", TOKEN),
        ("ORDERBRIDGE_PORTAL_WEBHOOK_URL", portal.url.as_str()),
        ("ORDERBRIDGE_PORTAL_WEBHOOK_SECRET", PORTAL_SECRET),
    ];
    let first = Served::start_with_env(&env, &["--poll", "0"], &vals);
    let second = Served::start_with_env(&env, &["--poll", "0"], &vals);
    assert_eq!(
        checkout(&first.addr, Some("two-1"), &order_json("200.00")).status,
        201
    );
    assert_eq!(
        checkout(&second.addr, Some("two-2"), &order_json("200.00")).status,
        201
    );
    wait_for("both events", || portal.events().len() >= 2);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(portal.events().len(), 2, "each once: {:?}", portal.events());
    // The deliverer goes; the other takes over.
    first.kill();
    assert_eq!(
        checkout(&second.addr, Some("two-3"), &order_json("200.00")).status,
        201
    );
    wait_for("the third event", || portal.events().len() >= 3);
    let keys: Vec<String> = portal
        .events()
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["data"]["idempotency_key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(keys, ["two-1", "two-2", "two-3"]);
    second.stop();
}

#[test]
fn an_order_odoo_refuses_is_422_and_the_same_key_may_be_sent_again_fixed() {
    let (env, served) = serving(&[]);
    let bad = r#"{"customer_id": 1, "amount": "10.00", "lines": [{"product_id": 999999, "quantity": 1}]}"#;
    let a = checkout(&served.addr, Some("chk-bad"), bad);
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["exit_code"], 1);
    assert_eq!(odoo_orders_with_origin(&env, "chk-bad"), 0);
    // The same key with the same body is refused the same way, and costs one call (no lookup:
    // the refusal proved nothing was made).
    env.fake.reset_calls();
    let again = checkout(&served.addr, Some("chk-bad"), bad);
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(env.fake.calls("sale.order", "search_read"), 0);
    served.stop();
}

#[test]
fn over_json_2_a_checkout_is_one_web_save_too() {
    let env = TestEnv::new();
    env.link_deco();
    let served = Served::start_with_env(
        &env,
        &["--poll", "0"],
        &[
            ("ORDERBRIDGE_API_TOKEN", TOKEN),
            ("ODOO_PASSWORD", ""),
            ("ODOO_API_KEY", fake_odoo::world::ADMIN_API_KEY),
            ("ODOO_PROTOCOL", "json2"),
        ],
    );
    assert_eq!(
        checkout(&served.addr, Some("j2-warm"), &order_json("200.00")).status,
        201
    );
    let before = env.fake.requests();
    let a = checkout(&served.addr, Some("j2-1"), &order_json("200.00"));
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["data"]["order"]["odoo_amount_total"], "230.00");
    assert_eq!(env.fake.requests() - before, 1);
    assert_eq!(env.fake.calls("sale.order", "web_save"), 2);
    served.stop();
}
