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

use crate::commands::customers::LinkReport;
use crate::commands::orders_create::{CreateReport, Outcome, Recovered};
use crate::commands::orders_read::{ImportReport, ListReport, OrderView};
use crate::commands::sync_status::StatusReport;
use crate::money::Money;
use crate::rules::AmountSource;
use crate::store::customers::Customer;

fn partner(p: Option<i64>) -> String {
    p.map_or_else(|| "not linked".to_string(), |p| format!("Odoo partner {p}"))
}

pub fn customer(c: &Customer, as_json: bool) {
    if as_json {
        return json(c);
    }
    println!(
        "Customer {}: {} <{}> ({})",
        c.id,
        c.name,
        c.email,
        partner(c.odoo_partner_id)
    );
}

pub fn link(r: &LinkReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    let how = if r.created_partner {
        "created in Odoo"
    } else {
        "found by email"
    };
    println!(
        "Customer {} linked to Odoo partner {} ({}, {how})",
        r.customer.id, r.partner.id, r.partner.name
    );
}

pub fn customers(list: &[Customer], as_json: bool) {
    if as_json {
        return json(&list);
    }
    if list.is_empty() {
        println!("No customers.");
        return;
    }
    println!(
        "{:>5}  {:<24} {:<32} {:<12}",
        "ID", "NAME", "EMAIL", "ODOO PARTNER"
    );
    for c in list {
        let p = c
            .odoo_partner_id
            .map_or_else(|| "-".to_string(), |p| p.to_string());
        println!("{:>5}  {:<24} {:<32} {p}", c.id, c.name, c.email);
    }
}

fn amount_text(v: &OrderView) -> String {
    let m = Money {
        amount: v.amount,
        currency: &v.row.currency,
    };
    let src = match v.amount_source {
        AmountSource::Odoo => "odoo",
        AmountSource::Portal => "portal",
    };
    format!("{m} ({src})")
}

pub fn order(v: &OrderView, as_json: bool) {
    if as_json {
        return json(v);
    }
    let r = &v.row;
    println!("Order {}", r.id);
    println!(
        "  number:        {}",
        r.order_number.as_deref().unwrap_or("-")
    );
    println!(
        "  Odoo id:       {}",
        r.odoo_order_id.map_or("-".into(), |i| i.to_string())
    );
    println!(
        "  customer:      {}",
        r.customer_id.map_or("-".into(), |i| i.to_string())
    );
    println!("  amount:        {}", amount_text(v));
    println!(
        "  portal amount: {}",
        Money {
            amount: r.total_amount,
            currency: &r.currency
        }
    );
    if let Some(o) = r.odoo_amount_total {
        println!(
            "  Odoo amount:   {}",
            Money {
                amount: o,
                currency: &r.currency
            }
        );
    }
    println!(
        "  status:        {}{}",
        r.status,
        r.odoo_state
            .as_ref()
            .map_or(String::new(), |s| format!(" (Odoo: {s})"))
    );
    println!("  created:       {}", r.created_at);
    if let Some(k) = &r.idempotency_key {
        println!("  key:           {k}");
    }
}

pub fn created(r: &CreateReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    let o = &r.order;
    let what = match r.outcome {
        Outcome::Created => "Created",
        Outcome::Adopted => "Found in Odoo by its key and stored",
        Outcome::AlreadyDone => "Already created earlier with this key",
    };
    println!(
        "{what}: order {} ({}), Odoo id {}, portal amount {}, Odoo amount {}",
        o.id,
        o.order_number.as_deref().unwrap_or("-"),
        o.odoo_order_id.map_or("-".into(), |i| i.to_string()),
        Money {
            amount: o.total_amount,
            currency: &o.currency
        },
        o.odoo_amount_total.map_or("-".into(), |a| Money {
            amount: a,
            currency: &o.currency
        }
        .to_string()),
    );
    println!(
        "Idempotency key: {}{}",
        r.idempotency_key,
        if r.key_generated {
            " (generated; reuse it to retry safely)"
        } else {
            ""
        }
    );
}

pub fn recovered(items: &[Recovered], as_json: bool) {
    if as_json {
        return json(&items);
    }
    if items.is_empty() {
        println!("No pending creates: nothing to recover.");
        return;
    }
    for r in items {
        match (&r.order, r.result) {
            (Some(o), _) => println!(
                "{}: found in Odoo as {} and stored as order {}",
                r.key,
                o.order_number.as_deref().unwrap_or("-"),
                o.id
            ),
            (None, res) => println!(
                "{}: {res}{}",
                r.key,
                r.detail
                    .as_ref()
                    .map_or(String::new(), |d| format!(" ({d})"))
            ),
        }
    }
}

pub fn imported(r: &ImportReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    let what = if r.created {
        "Imported from Odoo"
    } else {
        "Already stored"
    };
    println!(
        "{what}: order {} ({}), Odoo id {}, {}",
        r.order.row.id,
        r.order.row.order_number.as_deref().unwrap_or("-"),
        r.order.row.odoo_order_id.unwrap_or_default(),
        amount_text(&r.order)
    );
}

pub fn order_list(r: &ListReport, as_json: bool) {
    if let Some(w) = &r.sync.warning {
        eprintln!("{} {w}", Style::new().yellow().bold().apply_to("warning:"));
    }
    if as_json {
        return json(r);
    }
    if r.sync.pulled > 0 {
        println!("Pulled {} order(s) from Odoo.", r.sync.pulled);
    }
    if r.orders.is_empty() {
        println!("No orders.");
        return;
    }
    println!(
        "{:>6}  {:<12} {:>8}  {:>8}  {:<15} {:>22}  {:<19}",
        "ID", "NUMBER", "ODOO ID", "CUSTOMER", "STATUS", "AMOUNT", "CREATED"
    );
    for v in &r.orders {
        let o = &v.row;
        println!(
            "{:>6}  {:<12} {:>8}  {:>8}  {:<15} {:>22}  {}",
            o.id,
            o.order_number.as_deref().unwrap_or("-"),
            o.odoo_order_id.map_or("-".into(), |i| i.to_string()),
            o.customer_id.map_or("-".into(), |i| i.to_string()),
            o.status,
            amount_text(v),
            o.created_at
        );
    }
}

pub fn status(r: &StatusReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    println!(
        "Checked {} order(s): {} changed, {} unchanged.",
        r.checked,
        r.changed.len(),
        r.unchanged
    );
    for c in &r.changed {
        println!(
            "  {}: {} → {} (Odoo: {})",
            c.order_number.as_deref().unwrap_or("-"),
            c.from,
            c.to,
            c.odoo_state
        );
    }
    if !r.missing_in_odoo.is_empty() {
        println!(
            "Not found in Odoo (left unchanged): local order(s) {:?}",
            r.missing_in_odoo
        );
    }
}
