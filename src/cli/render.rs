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

/// Text from a user or from Odoo, safe to print: control characters (escape sequences, line
/// breaks) are shown escaped instead of acting on the terminal.
pub(super) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

pub(super) fn json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

pub(super) fn connection(r: &ConnectionReport, as_json: bool) {
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
    println!("Logged in as:  {} (uid {})", printable(&r.login), r.uid);
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
use crate::commands::orders_create::{CreateReport, Outcome, Recovered, Recovery};
use crate::commands::orders_read::{ImportReport, ListReport, OrderView};
use crate::commands::sync::StatusReport;
use crate::money::Money;
use crate::rules::AmountSource;
use crate::store::customers::Customer;

fn partner(p: Option<i64>) -> String {
    p.map_or_else(|| "not linked".to_string(), |p| format!("Odoo partner {p}"))
}

pub(super) fn customer(c: &Customer, as_json: bool) {
    if as_json {
        return json(c);
    }
    println!(
        "Customer {}: {} <{}> ({})",
        c.id,
        printable(&c.name),
        printable(&c.email),
        partner(c.odoo_partner_id)
    );
}

pub(super) fn link(r: &LinkReport, as_json: bool) {
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
        r.customer.id,
        r.partner.id,
        printable(&r.partner.name)
    );
}

pub(super) fn customers(list: &[Customer], as_json: bool) {
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
        println!(
            "{:>5}  {:<24} {:<32} {p}",
            c.id,
            printable(&c.name),
            printable(&c.email)
        );
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

pub(super) fn order(v: &OrderView, as_json: bool) {
    if as_json {
        return json(v);
    }
    let r = &v.row;
    println!("Order {}", r.id);
    println!(
        "  number:        {}",
        printable(r.order_number.as_deref().unwrap_or("-"))
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

pub(super) fn created(r: &CreateReport, as_json: bool) {
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
        printable(o.order_number.as_deref().unwrap_or("-")),
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

pub(super) fn recovered(items: &[Recovered], as_json: bool) {
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
                printable(o.order_number.as_deref().unwrap_or("-")),
                o.id
            ),
            (None, res) => println!(
                "{}: {}{}",
                r.key,
                match res {
                    Recovery::Adopted => "adopted",
                    Recovery::StillUnknown => "still unknown",
                    Recovery::NotInOdoo => "not in Odoo",
                    Recovery::Busy => "busy",
                    Recovery::Error => "error",
                },
                r.detail
                    .as_ref()
                    .map_or(String::new(), |d| format!(" ({d})"))
            ),
        }
    }
}

pub(super) fn imported(r: &ImportReport, as_json: bool) {
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
        printable(r.order.row.order_number.as_deref().unwrap_or("-")),
        r.order.row.odoo_order_id.unwrap_or_default(),
        amount_text(&r.order)
    );
}

pub(super) fn order_list(r: &ListReport, as_json: bool) {
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
            printable(o.order_number.as_deref().unwrap_or("-")),
            o.odoo_order_id.map_or("-".into(), |i| i.to_string()),
            o.customer_id.map_or("-".into(), |i| i.to_string()),
            o.status,
            amount_text(v),
            o.created_at
        );
    }
}

pub(super) fn status(r: &StatusReport, as_json: bool) {
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
            printable(&c.order_number),
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

use crate::commands::schedule::Plan;
use crate::commands::sync::{Event, OrderResult, Outcome as SyncOutcome, Selection, Summary};

pub(super) fn schedule(p: &Plan) {
    let minutes = (p.next_run - chrono::Utc::now()).num_minutes().max(0);
    println!(
        "0 * * * * {}  Next Due: {minutes} minutes from now ({} UTC)\n",
        p.command,
        p.next_run.format("%H:%M")
    );
    println!("## cron: add this line with `crontab -e`\n{}\n", p.crontab);
    println!(
        "## systemd: /etc/systemd/system/orderbridge-sync.service\n{}",
        p.systemd_service
    );
    println!(
        "## systemd: /etc/systemd/system/orderbridge-sync.timer\n{}",
        p.systemd_timer
    );
    println!("## then: systemctl daemon-reload && systemctl enable --now orderbridge-sync.timer");
}

/// Renders sync-amounts as it runs: the seeds' lines with emoji on a terminal, plain text
/// otherwise, only problems with --quiet, JSON at the end with --json, and a progress bar
/// on stderr for large runs on a terminal.
pub(super) struct SyncRenderer {
    selection: Selection,
    fancy: bool,
    json: bool,
    quiet: bool,
    dry_run: bool,
    results: Vec<OrderResult>,
    bar: Option<indicatif::ProgressBar>,
}

const PROGRESS_FROM: u64 = 2000;

impl SyncRenderer {
    pub(super) fn new(
        selection: Selection,
        plain: bool,
        json: bool,
        quiet: bool,
        dry_run: bool,
    ) -> Self {
        let fancy = !plain && !json && console::Term::stdout().is_term();
        SyncRenderer {
            selection,
            fancy,
            json,
            quiet,
            dry_run,
            results: Vec::new(),
            bar: None,
        }
    }

    fn line(&self, r: &OrderResult) -> Option<String> {
        let m = |a| {
            Money {
                amount: a,
                currency: &r.currency,
            }
            .to_string()
        };
        let (icon, plain, text) = match &r.outcome {
            SyncOutcome::Updated { from, to } => (
                "✅",
                "[updated]",
                format!("{}: {} → {}", r.order_number, m(*from), m(*to)),
            ),
            SyncOutcome::NoChange { amount } => (
                "⏭️ ",
                "[skipped]",
                format!("{}: No change ({})", r.order_number, m(*amount)),
            ),
            SyncOutcome::KeptPortal { amount } => (
                "⏭️ ",
                "[skipped]",
                format!(
                    "{}: Still {} in Odoo (keeping portal amount: {})",
                    r.order_number,
                    m(Default::default()),
                    m(*amount)
                ),
            ),
            SyncOutcome::MissingInOdoo => (
                "⚠️ ",
                "[missing]",
                format!(
                    "{}: not found in Odoo (Odoo id {}); left unchanged",
                    r.order_number, r.odoo_order_id
                ),
            ),
            SyncOutcome::Failed { reason } => (
                "❌",
                "[failed]",
                format!("{}: failed: {reason}", r.order_number),
            ),
            SyncOutcome::StatusChecked => (
                "✅",
                "[checked]",
                match &r.status_change {
                    Some((from, to)) => format!("{}: status {from} → {to}", r.order_number),
                    None => format!("{}: status unchanged", r.order_number),
                },
            ),
        };
        let problem = matches!(
            r.outcome,
            SyncOutcome::MissingInOdoo | SyncOutcome::Failed { .. }
        );
        if self.quiet && !problem {
            return None;
        }
        let status = r
            .status_change
            .as_ref()
            .map_or(String::new(), |(a, b)| format!(" [status {a} → {b}]"));
        let text = if self.fancy {
            text
        } else {
            text.replace('→', "->")
        };
        Some(if self.fancy {
            format!("  {icon} {text}{status}")
        } else {
            format!("{plain} {text}{}", status.replace('→', "->"))
        })
    }

    pub(super) fn event(&mut self, e: Event<'_>) {
        match e {
            Event::Found(n) => {
                if self.json || self.quiet {
                    return;
                }
                let header = if self.dry_run {
                    "Syncing order amounts from Odoo (dry run: nothing will be changed)..."
                } else {
                    "Syncing order amounts from Odoo..."
                };
                if self.fancy {
                    println!("🔄 {header}\n");
                } else {
                    println!("{header}");
                }
                let s = if n == 1 { "" } else { "s" };
                match self.selection {
                    Selection::RecentDays(d) => {
                        println!("Found {n} recent order{s} (last {d} days)")
                    }
                    Selection::All => println!("Found {n} order{s} with an Odoo id"),
                    Selection::Order(id) => println!("Found {n} order{s} (local order {id})"),
                }
                if self.fancy {
                    println!();
                }
                if n >= PROGRESS_FROM && console::Term::stderr().is_term() {
                    let bar = indicatif::ProgressBar::new(n);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} orders {eta}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    self.bar = Some(bar);
                }
            }
            Event::Order(r) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if self.json {
                    self.results.push(r.clone());
                } else if let Some(l) = self.line(r) {
                    match &self.bar {
                        Some(bar) => bar.println(l),
                        None => println!("{l}"),
                    }
                }
            }
        }
    }

    pub(super) fn finish(self, s: &Summary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.json {
            json(&serde_json::json!({"summary": s, "synced": s.synced(), "orders": self.results}));
            return;
        }
        if let Some(reason) = &s.odoo_garbled {
            eprintln!(
                "error: Odoo answered something that is not Odoo's protocol during the sync: {}",
                printable(reason)
            );
        }
        if let Some(reason) = &s.odoo_unreachable {
            eprintln!("error: Odoo became unreachable during the sync: {reason}");
        }
        if self.quiet {
            if s.failed > 0 {
                eprintln!("error: {} of {} order(s) failed to sync", s.failed, s.found);
            }
            return;
        }
        if self.fancy {
            println!();
        }
        println!("Synced: {}", s.synced());
        let mut parts = vec![
            format!("updated {}", s.updated),
            format!("no change {}", s.unchanged),
            format!("kept portal amount {}", s.kept_portal),
        ];
        if s.missing_in_odoo > 0 {
            parts.push(format!("not in Odoo {}", s.missing_in_odoo));
        }
        if s.failed > 0 {
            parts.push(format!("failed {}", s.failed));
        }
        if s.status_changed > 0 {
            parts.push(format!("status changed {}", s.status_changed));
        }
        println!("({}; {} round trips)", parts.join(", "), s.round_trips);
        if self.fancy {
            println!();
        }
        let done = if self.dry_run {
            "Dry run complete: nothing was changed."
        } else {
            "Sync complete!"
        };
        match (s.failed > 0, self.fancy) {
            (true, true) => println!("❌ Sync finished with {} failure(s).", s.failed),
            (true, false) => println!("Sync finished with {} failure(s).", s.failed),
            (false, true) => println!("✅ {done}"),
            (false, false) => println!("{done}"),
        }
    }
}

use crate::commands::dedupe::{DedupeReport, RemoteDuplicate};
use crate::commands::migrate::MigrateReport;
use crate::store::dedupe::{Archived, DupRow};

fn dup_row(r: &DupRow) -> String {
    format!(
        "#{} {} {} {}",
        r.id,
        r.total_amount.map_or("-".into(), |a| a.to_string()),
        r.status.as_deref().unwrap_or("-"),
        r.created_at.as_deref().unwrap_or("(no date)")
    )
}

fn print_groups(r: &DedupeReport) {
    for g in &r.groups {
        let flag = if g.disagree {
            "  ⚠ rows disagree (amount or status): review"
        } else {
            ""
        };
        println!("odoo_order_id {}:{flag}", g.odoo_order_id);
        println!("  keep    {}", dup_row(&g.keep));
        for x in &g.remove {
            println!("  remove  {}", dup_row(x));
        }
    }
}

/// Asks on the terminal before applying a dedupe.
pub(super) fn confirm_dedupe(r: &DedupeReport) -> bool {
    print_groups(r);
    let prompt = format!(
        "Remove {} row(s) in {} group(s)? They are archived first and can be restored. [y/N] ",
        r.rows_to_remove,
        r.groups.len()
    );
    let term = console::Term::stderr();
    let _ = term.write_str(&prompt);
    matches!(term.read_line().map(|s| s.trim().to_ascii_lowercase()), Ok(ref s) if s == "y" || s == "yes")
}

pub(super) fn dedupe(r: &DedupeReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    if r.groups.is_empty() {
        println!("No duplicate orders: every odoo_order_id is stored once.");
        return;
    }
    if r.applied {
        println!(
            "Removed {} duplicate row(s) in {} group(s); each is archived in sales_orders_archive (restore with `orders dedupe --restore ID`).",
            r.removed,
            r.groups.len()
        );
        println!("Next: `orderbridge db migrate` adds the unique index.");
        return;
    }
    print_groups(r);
    println!(
        "\nDry run: {} group(s), {} row(s) would be removed{}. Nothing was changed; run with --yes to apply.",
        r.groups.len(),
        r.rows_to_remove,
        if r.disagreeing_groups > 0 {
            format!(
                ", {} group(s) disagree and need a look",
                r.disagreeing_groups
            )
        } else {
            String::new()
        }
    );
}

pub(super) fn restored(a: &Archived, as_json: bool) {
    if as_json {
        return json(a);
    }
    println!(
        "Restored order {} (it had been removed in favour of order {} on {}).",
        a.archived_id, a.kept_id, a.archived_at
    );
}

pub(super) fn remote_duplicates(list: &[RemoteDuplicate], as_json: bool) {
    if as_json {
        return json(&list);
    }
    if list.is_empty() {
        println!("No Odoo orders share an idempotency key.");
        return;
    }
    for d in list {
        let names: Vec<String> = d
            .orders
            .iter()
            .map(|o| format!("{} (id {}, {} {})", o.name, o.id, o.amount_total, o.state))
            .collect();
        println!("key {}: {}", d.key, names.join(", "));
    }
    println!(
        "{} key(s) with more than one Odoo order. Nothing was changed; cancel the extras in Odoo.",
        list.len()
    );
}

pub(super) fn migrated(r: &MigrateReport, as_json: bool) {
    if as_json {
        return json(r);
    }
    if r.changed {
        println!(
            "Database migrated from version {} to {} (unique index on odoo_order_id added).",
            r.from_version, r.to_version
        );
    } else {
        println!("Database is up to date (version {}).", r.to_version);
    }
}
