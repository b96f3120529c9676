//! Rendering of command reports: readable lines, or JSON with `--json`.

use console::Style;

use crate::commands::test_connection::ConnectionReport;

fn mark(ok: bool) -> String {
    if ok {
        Style::new().green().apply_to("yes").to_string()
    } else {
        Style::new().red().apply_to("NO").to_string()
    }
}

pub fn json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

pub fn connection(r: &ConnectionReport, as_json: bool) {
    if as_json {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        v["ok"] = serde_json::Value::Bool(r.all_ok());
        json(&v);
        return;
    }
    println!("Odoo server:   {} (version {})", r.url, r.server_version);
    println!("Protocol:      {}", r.protocol);
    println!(
        "Database:      {}",
        if r.database.is_empty() {
            "(server default)"
        } else {
            &r.database
        }
    );
    println!("Logged in as:  {} (uid {})", r.login, r.uid);
    println!(
        "sale.order:    read {}  create {}  write {}",
        mark(r.sale_order.read),
        mark(r.sale_order.create),
        mark(r.sale_order.write)
    );
    if r.all_ok() {
        println!("Connection OK ({} round trips)", r.round_trips);
    } else {
        println!(
            "Connection works, but the user lacks rights on sale.order: ask an Odoo administrator"
        );
    }
}
