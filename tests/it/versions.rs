//! The core scenarios against the fake playing Odoo 16, 17, 18 and 19, over every protocol
//! each version has (JSON-2 from 19 only).

use std::str::FromStr;

use fake_odoo::{FakeOptions, world};
use rust_decimal::Decimal;

use crate::env::{Run, TestEnv};

/// (Odoo version, protocol) pairs a real portal may meet.
const SERVERS: &[(u32, &str)] = &[
    (16, "jsonrpc"),
    (16, "xmlrpc"),
    (17, "jsonrpc"),
    (17, "xmlrpc"),
    (18, "jsonrpc"),
    (18, "xmlrpc"),
    (19, "jsonrpc"),
    (19, "xmlrpc"),
    (19, "json2"),
];

struct Server {
    env: TestEnv,
    version: u32,
    protocol: &'static str,
}

impl Server {
    fn start(version: u32, protocol: &'static str) -> Server {
        let env = TestEnv::with(FakeOptions {
            version,
            ..FakeOptions::default()
        });
        env.write_env(&[
            ("ODOO_PROTOCOL", protocol),
            ("ODOO_API_KEY", world::ADMIN_API_KEY),
        ]);
        Server {
            env,
            version,
            protocol,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let run = self.env.run(args);
        assert_eq!(run.code, 0, "{self}: {args:?}: {}", run.all());
        run
    }

    /// Customer 1, linked to the demo's partner 9.
    fn link_deco(&self) {
        self.env.link_deco();
    }
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Odoo {} over {}", self.version, self.protocol)
    }
}

fn each_server(check: impl Fn(&Server)) {
    for &(version, protocol) in SERVERS {
        check(&Server::start(version, protocol));
    }
}

#[test]
fn test_connection_passes_on_every_version_and_protocol() {
    each_server(|s| {
        let j = s.run(&["odoo", "test-connection", "--json"]).json();
        assert_eq!(j["protocol"], s.protocol, "{s}");
        let version = j["server_version"].as_str().unwrap();
        assert!(version.starts_with(&format!("{}.0", s.version)), "{s}: {j}");
        assert_eq!(j["sale_order"]["create"], true, "{s}");
    });
}

#[test]
fn create_with_lines_makes_one_odoo_order_per_key_on_every_version_and_protocol() {
    each_server(|s| {
        s.link_deco();
        let args = [
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "230",
            "--line",
            "5:2:100",
            "--idempotency-key",
            "K-V",
            "--json",
        ];
        let first = s.run(&args).json();
        assert_eq!(first["outcome"], "created", "{s}");
        assert_eq!(first["order"]["odoo_amount_total"], "230.00", "{s}");
        let again = s.run(&args).json();
        assert_eq!(again["outcome"], "already_done", "{s}");
        let in_odoo = s.env.fake.with_world(|w| {
            w.orders
                .values()
                .filter(|o| o.origin.as_deref() == Some("K-V"))
                .count()
        });
        assert_eq!(in_odoo, 1, "{s}");
    });
}

#[test]
fn create_refused_by_odoo_stores_nothing_on_every_version_and_protocol() {
    each_server(|s| {
        s.link_deco();
        let run = s.env.run(&[
            "orders",
            "create",
            "--customer",
            "1",
            "--amount",
            "5",
            "--line",
            "999:1",
        ]);
        assert_eq!(run.code, 1, "{s}: {}", run.all());
        assert!(
            run.stderr.contains("Record does not exist"),
            "{s}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("fix the order"), "{s}: {}", run.stderr);
        let list = s.run(&["orders", "list", "--no-sync", "--json"]).json();
        assert_eq!(list["orders"].as_array().unwrap().len(), 0, "{s}");
    });
}

#[test]
fn import_and_sync_on_read_work_on_every_version_and_protocol() {
    each_server(|s| {
        s.link_deco();
        let j = s
            .run(&["orders", "import", "--odoo-id", "1", "--json"])
            .json();
        assert_eq!(j["created"], true, "{s}");
        let list = s
            .run(&["orders", "list", "--customer", "1", "--json"])
            .json();
        assert_eq!(list["orders"].as_array().unwrap().len(), 5, "{s}");
    });
}

#[test]
fn sync_amounts_applies_the_rules_on_every_version_and_protocol() {
    each_server(|s| {
        s.link_deco();
        s.run(&["orders", "import", "--odoo-id", "1"]);
        s.env
            .fake
            .with_world(|w| w.set_order_total(1, Decimal::from_str("857.87").unwrap()));
        let j = s.run(&["orders", "sync-amounts", "--all", "--json"]).json();
        assert_eq!(j["summary"]["updated"], 1, "{s}: {j}");
        let show = s.run(&["orders", "show", "1", "--json"]).json();
        assert_eq!(show["total_amount"], "857.87", "{s}");
    });
}

#[test]
fn sync_status_follows_odoo_on_every_version_and_protocol() {
    each_server(|s| {
        s.link_deco();
        s.run(&["orders", "import", "--odoo-id", "1"]);
        let state = if s.version == 16 { "done" } else { "cancel" };
        s.env
            .fake
            .with_world(|w| w.orders.get_mut(&1).unwrap().state = state.into());
        let j = s
            .run(&["orders", "sync-status", "--order-id", "1", "--json"])
            .json();
        let expected = if s.version == 16 { "done" } else { "cancelled" };
        assert_eq!(j["changed"][0]["to"], expected, "{s}: {j}");
    });
}

#[test]
fn json2_on_odoo_18_names_the_version_and_what_to_use_instead() {
    let s = Server::start(18, "json2");
    let run = s.env.run(&["odoo", "test-connection"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("this server is Odoo 18.0-20250421; JSON-2 needs Odoo 19 or later"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("jsonrpc or auto"), "{}", run.stderr);
}

#[test]
fn auto_uses_jsonrpc_below_odoo_19_even_with_an_api_key() {
    let s = Server::start(18, "auto");
    let j = s.run(&["odoo", "test-connection", "--json"]).json();
    assert_eq!(j["protocol"], "jsonrpc");
}

#[test]
fn a_session_costs_one_round_trip_once_the_login_is_known() {
    for protocol in ["jsonrpc", "xmlrpc", "json2", "auto"] {
        let s = Server::start(19, protocol);
        // Its first run logs in (over JSON-RPC and XML-RPC) and remembers the uid.
        s.link_deco();
        s.run(&["orders", "import", "--odoo-id", "5"]);
        s.env.fake.reset_calls();
        s.run(&["orders", "import", "--odoo-id", "1"]);
        // The version, then the read and its lines: no login (JSON-2 checks its key on each
        // call), and what the server offers is remembered from the first import.
        assert_eq!(
            s.env.fake.requests(),
            3,
            "{protocol}: {:?}",
            s.env.fake.all_calls()
        );
    }
}

/// A raw JSON-RPC `execute_kw` against the fake, as an older client would send it.
fn raw_execute_kw(s: &Server, method: &str, args: &str, kwargs: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let body = format!(
        r#"{{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {{"service": "object", "method": "execute_kw", "args": ["portal", 2, "admin", "sale.order", "{method}", {args}, {kwargs}]}}}}"#
    );
    let mut stream = std::net::TcpStream::connect(s.env.fake.addr()).unwrap();
    write!(
        stream,
        "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[test]
fn the_fake_refuses_create_values_given_as_a_keyword_as_odoo_does() {
    for (version, text) in [
        (19, "list index out of range"),
        (18, "tuple index out of range"),
    ] {
        let s = Server::start(version, "jsonrpc");
        let before = s.env.fake.with_world(|w| w.orders.len());
        let j = raw_execute_kw(&s, "create", "[]", r#"{"vals_list": [{"partner_id": 9}]}"#);
        assert_eq!(j["error"]["data"]["name"], "builtins.IndexError", "{j}");
        assert_eq!(j["error"]["data"]["message"], text);
        assert_eq!(s.env.fake.with_world(|w| w.orders.len()), before);
    }
}

#[test]
fn the_fake_refuses_record_ids_given_as_a_keyword_as_odoo_does() {
    let s = Server::start(19, "jsonrpc");
    let j = raw_execute_kw(&s, "read", "[]", r#"{"ids": [1], "fields": ["name"]}"#);
    assert_eq!(j["error"]["data"]["name"], "builtins.IndexError", "{j}");
}

#[test]
fn the_fake_refuses_a_field_the_version_does_not_have() {
    let s = Server::start(18, "jsonrpc");
    let j = raw_execute_kw(
        &s,
        "create",
        r#"[{"partner_id": 9, "order_line": [[0, 0, {"product_id": 5, "tax_ids": [[6, 0, []]]}]]}]"#,
        "{}",
    );
    assert_eq!(j["error"]["data"]["name"], "builtins.ValueError", "{j}");
    let ok = raw_execute_kw(
        &s,
        "create",
        r#"[{"partner_id": 9, "order_line": [[0, 0, {"product_id": 5, "tax_id": [[6, 0, []]]}]]}]"#,
        "{}",
    );
    assert!(ok["result"].is_i64(), "{ok}");
}
