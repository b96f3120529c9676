//! How each one-shot report reads for people; `--json` serializes the same report.
//! (A little over 500 lines: one short `impl Report` per report, fifteen of them; split by
//! command they would scatter one concern over as many files.)

use std::io::{self, Write};

use console::Style;

use super::output::{Report, printable};
use crate::commands::config_show::ConfigReport;
use crate::commands::conflicts::Review;
use crate::commands::dedupe::{DedupeReport, RemoteDuplicate};
use crate::commands::install_webhook::WebhookReport;
use crate::commands::migrate::{CopyDone, MigrateReport};
use crate::commands::reconcile::ReconcileReport;
use crate::commands::schedule::{Part, Plan, SERVE_UNIT};
use crate::commands::serve::ServeReport;
use crate::commands::status::HealthReport;
use crate::commands::test_connection::ConnectionReport;
use crate::error::Exit;
use crate::flows::customers::LinkReport;
use crate::flows::orders_create::{CreateReport, Outcome, Recovery};
use crate::flows::orders_read::{ImportReport, ListReport, OrderView, ShownOrder};
use crate::flows::outbox::FlushReport;
use crate::flows::sync::StatusReport;
use crate::money::Money;
use crate::rules::AmountSource;
use crate::store::conflicts::Conflict;
use crate::store::customers::Customer;
use crate::store::dedupe::{Archived, DupRow};
use crate::store::held::HeldUpdate;
use crate::store::intents::Intent;

fn mark(ok: bool) -> String {
    if ok {
        Style::new().green().apply_to("yes").to_string()
    } else {
        Style::new().red().apply_to("NO").to_string()
    }
}

fn partner(p: Option<i64>) -> String {
    p.map_or_else(|| "not linked".to_string(), |p| format!("Odoo partner {p}"))
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

fn dup_row(r: &DupRow) -> String {
    format!(
        "#{} {} {} {}",
        r.id,
        r.total_amount.map_or("-".into(), |a| a.to_string()),
        r.status.as_deref().unwrap_or("-"),
        r.created_at.as_deref().unwrap_or("(no date)")
    )
}

fn print_groups(out: &mut dyn Write, r: &DedupeReport) -> io::Result<()> {
    for g in &r.groups {
        let flag = if g.disagree {
            "  ⚠ rows disagree (amount or status): review"
        } else {
            ""
        };
        writeln!(out, "odoo_order_id {}:{flag}", g.odoo_order_id)?;
        writeln!(out, "  keep    {}", dup_row(&g.keep))?;
        for x in &g.remove {
            writeln!(out, "  remove  {}", dup_row(x))?;
        }
    }
    Ok(())
}

/// Asks on the terminal before applying a dedupe.
pub(super) fn confirm_dedupe(r: &DedupeReport) -> bool {
    let _ = print_groups(&mut std::io::stderr(), r);
    let prompt = format!(
        "Remove {} row(s) in {} group(s)? They are archived first and can be restored. [y/N] ",
        r.rows_to_remove,
        r.groups.len()
    );
    let term = console::Term::stderr();
    let _ = term.write_str(&prompt);
    matches!(term.read_line().map(|s| s.trim().to_ascii_lowercase()), Ok(ref s) if s == "y" || s == "yes")
}

impl Report for ConnectionReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        writeln!(
            out,
            "Odoo server:   {} (version {})",
            r.url, r.server_version
        )?;
        writeln!(out, "Protocol:      {}", r.protocol)?;
        writeln!(
            out,
            "Database:      {}",
            if r.database.is_empty() {
                "(server default)"
            } else {
                &r.database
            }
        )?;
        writeln!(
            out,
            "Logged in as:  {} (uid {})",
            printable(&r.login),
            r.uid
        )?;
        writeln!(
            out,
            "sale.order:    read {}  create {}  write {}",
            mark(r.sale_order.read),
            mark(r.sale_order.create),
            mark(r.sale_order.write)
        )?;
        if r.ok {
            writeln!(out, "Connection OK ({} round trips)", r.round_trips)?;
        } else {
            writeln!(
                out,
                "Connection works, but the user lacks rights on sale.order: ask an Odoo administrator"
            )?;
        }
        Ok(())
    }
}

impl Report for Customer {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let c = self;
        writeln!(
            out,
            "Customer {}: {} <{}> ({})",
            c.id,
            printable(&c.name),
            printable(&c.email),
            partner(c.odoo_partner_id)
        )?;
        Ok(())
    }
}

impl Report for LinkReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        let how = if r.created_partner {
            "created in Odoo"
        } else {
            "found by email"
        };
        writeln!(
            out,
            "Customer {} linked to Odoo partner {} ({}, {how})",
            r.customer.id,
            r.partner.id,
            printable(&r.partner.name)
        )?;
        Ok(())
    }
}

impl Report for Vec<Customer> {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let list = self;
        if list.is_empty() {
            writeln!(out, "No customers.")?;
            return Ok(());
        }
        writeln!(
            out,
            "{:>5}  {:<24} {:<32} {:<12}",
            "ID", "NAME", "EMAIL", "ODOO PARTNER"
        )?;
        for c in list {
            let p = c
                .odoo_partner_id
                .map_or_else(|| "-".to_string(), |p| p.to_string());
            writeln!(
                out,
                "{:>5}  {} {} {p}",
                c.id,
                cell(&c.name, 24),
                cell(&c.email, 32)
            )?;
        }
        Ok(())
    }
}

impl Report for OrderView {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let v = self;
        let r = &v.row;
        writeln!(out, "Order {}", r.id)?;
        writeln!(
            out,
            "  number:        {}",
            printable(r.order_number.as_deref().unwrap_or("-"))
        )?;
        writeln!(
            out,
            "  Odoo id:       {}",
            r.odoo_order_id.map_or("-".into(), |i| i.to_string())
        )?;
        writeln!(
            out,
            "  customer:      {}",
            r.customer_id.map_or("-".into(), |i| i.to_string())
        )?;
        writeln!(out, "  amount:        {}", amount_text(v))?;
        writeln!(
            out,
            "  portal amount: {}",
            Money {
                amount: r.total_amount,
                currency: &r.currency
            }
        )?;
        if let Some(o) = r.odoo_amount_total {
            writeln!(
                out,
                "  Odoo amount:   {}",
                Money {
                    amount: o,
                    currency: &r.currency
                }
            )?;
        }
        writeln!(
            out,
            "  status:        {}{}",
            r.status,
            r.odoo_state
                .as_ref()
                .map_or(String::new(), |s| format!(" (Odoo: {s})"))
        )?;
        writeln!(out, "  ordered:       {}", r.order_date)?;
        writeln!(out, "  stored:        {}", r.created_at)?;
        if let Some(k) = &r.idempotency_key {
            writeln!(out, "  key:           {k}")?;
        }
        Ok(())
    }
}

impl Report for crate::flows::order_actions::ActionReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        use crate::flows::order_actions::ActionOutcome;
        let o = &self.order;
        let which = format!(
            "order {} ({})",
            o.id,
            printable(o.order_number.as_deref().unwrap_or("-"))
        );
        let what = match (self.action, self.outcome) {
            ("cancel", ActionOutcome::Done) => format!("Cancelled in Odoo: {which}"),
            ("cancel", ActionOutcome::AlreadyDone) => {
                format!("Already cancelled earlier with this key: {which}")
            }
            (_, ActionOutcome::Done) => format!("Updated in Odoo: {which}"),
            (_, ActionOutcome::AlreadyDone) => {
                format!("Already updated earlier with this key: {which}")
            }
            (_, ActionOutcome::Refused) => format!("Not done, nothing changed: {which}"),
            (_, ActionOutcome::Held) => format!("Held for review, nothing sent: {which}"),
            (_, ActionOutcome::Queued) => format!(
                "Queued: Odoo is unavailable; `orderbridge orders flush` sends it ({which})"
            ),
        };
        writeln!(out, "{what}")?;
        if let Some(r) = &self.reason {
            writeln!(out, "Reason: {}", printable(r))?;
        }
        writeln!(
            out,
            "Status: {}{}",
            o.status,
            o.odoo_state
                .as_deref()
                .map_or(String::new(), |s| format!(" (Odoo: {s})"))
        )?;
        writeln!(out, "Idempotency key: {}", self.idempotency_key)
    }
}

impl Report for ShownOrder {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        self.order.human(out)?;
        let Some(d) = &self.details else {
            return writeln!(
                out,
                "  (lines, delivery and invoicing: not read from Odoo yet; the next sync reads them)"
            );
        };
        let currency = &self.order.row.currency;
        let money = |a: rust_decimal::Decimal| {
            Money {
                amount: a,
                currency,
            }
            .to_string()
        };
        let s = &d.stored.details;
        let u = &d.units;
        let qty = |q: rust_decimal::Decimal| q.normalize().to_string();
        // A quotation has nothing delivered or invoiced to tell: its lines only.
        let quotation = matches!(self.order.row.odoo_state.as_deref(), Some("draft" | "sent"));
        if !quotation {
            let delivered = format!("{} of {} units delivered", qty(u.delivered), qty(u.ordered));
            match s.delivery_status.as_deref() {
                // Odoo's "full" with units missing: a picking cancelled or closed without a
                // backorder. The customer is told what left.
                Some("full") if !u.all_delivered() => writeln!(
                    out,
                    "  delivery:      {delivered} (Odoo: full — no delivery open, the rest will not be sent)"
                )?,
                Some(status) => writeln!(out, "  delivery:      {delivered} (Odoo: {status})")?,
                None => writeln!(out, "  delivery:      {delivered}")?,
            }
            if let Some(c) = &s.commitment_date {
                writeln!(out, "  promised:      {}", printable(c))?;
            }
            if let Some(e) = &s.expected_date {
                writeln!(out, "  expected:      {}", printable(e))?;
            }
            if let Some(e) = &s.effective_date {
                writeln!(out, "  first shipped: {}", printable(e))?;
            }
            writeln!(
                out,
                "  invoicing:     invoiced {}, to invoice {}{}",
                s.amount_invoiced.map_or("-".into(), money),
                s.amount_to_invoice.map_or("-".into(), money),
                s.invoice_status
                    .as_deref()
                    .map_or(String::new(), |i| format!(" (Odoo: {})", printable(i)))
            )?;
            writeln!(
                out,
                "  payment:       {}",
                s.payment_state
                    .as_deref()
                    .map_or("not invoiced", |p| match p {
                        "not_paid" => "not paid",
                        other => other,
                    })
            )?;
        }
        if s.lines.is_empty() {
            return writeln!(out, "  lines:         none");
        }
        writeln!(out, "  lines:")?;
        for l in &s.lines {
            let text = printable(l.description.lines().next().unwrap_or(""));
            match l.display_type.as_deref() {
                Some("line_note") => writeln!(out, "    note: {text}")?,
                Some(_) => writeln!(out, "    == {text} ==")?,
                None => {
                    let discount = if l.discount.is_zero() {
                        String::new()
                    } else {
                        format!(" − {}%", qty(l.discount))
                    };
                    writeln!(
                        out,
                        "    {text}: {} × {}{discount} = {} (with tax {}); delivered {}, invoiced {}",
                        qty(l.quantity),
                        money(l.unit_price),
                        money(l.subtotal),
                        money(l.total),
                        qty(l.qty_delivered),
                        qty(l.qty_invoiced)
                    )?;
                }
            }
        }
        Ok(())
    }
}

impl Report for CreateReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        let what = match r.outcome {
            Outcome::Created => "Created",
            Outcome::Adopted => "Found in Odoo by its key and stored",
            Outcome::AlreadyDone => "Already created earlier with this key",
            Outcome::Queued => "Queued",
        };
        let Some(o) = &r.order else {
            writeln!(
                out,
                "{what}: Odoo is unavailable ({}); the order waits in the local outbox and is created in Odoo by `orderbridge orders flush` (not in Odoo yet, not a local order yet)",
                printable(r.queued_because.as_deref().unwrap_or("-"))
            )?;
            return writeln!(out, "Idempotency key: {}", r.idempotency_key);
        };
        writeln!(
            out,
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
        )?;
        writeln!(
            out,
            "Idempotency key: {}{}",
            r.idempotency_key,
            if r.key_generated {
                " (generated; reuse it to retry safely)"
            } else {
                ""
            }
        )?;
        Ok(())
    }
}

impl Report for crate::flows::orders_create::RecoverReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let items = &self.0;
        if items.is_empty() {
            writeln!(out, "No pending creates: nothing to recover.")?;
            return Ok(());
        }
        for r in items {
            match (&r.order, r.result) {
                (Some(o), _) => writeln!(
                    out,
                    "{}: found in Odoo as {} and stored as order {}",
                    r.key,
                    printable(o.order_number.as_deref().unwrap_or("-")),
                    o.id
                )?,
                (None, res) => writeln!(
                    out,
                    "{}: {}{}",
                    r.key,
                    match res {
                        Recovery::Adopted => "adopted",
                        Recovery::StillUnknown => "still unknown",
                        Recovery::NotInOdoo => "not in Odoo",
                        Recovery::Busy => "busy",
                        Recovery::Error => "error",
                        Recovery::ChangeSettled => "change settled",
                    },
                    r.detail
                        .as_ref()
                        .map_or(String::new(), |d| format!(" ({d})"))
                )?,
            }
        }
        Ok(())
    }
}

impl Report for ImportReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        let what = if r.created {
            "Imported from Odoo"
        } else {
            "Already stored"
        };
        writeln!(
            out,
            "{what}: order {} ({}), Odoo id {}, {}",
            r.order.row.id,
            printable(r.order.row.order_number.as_deref().unwrap_or("-")),
            r.order.row.odoo_order_id.unwrap_or_default(),
            amount_text(&r.order)
        )?;
        Ok(())
    }
}

impl Report for ListReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        if r.sync.pulled > 0 {
            writeln!(out, "Pulled {} order(s) from Odoo.", r.sync.pulled)?;
        }
        if r.orders.is_empty() {
            writeln!(out, "No orders.")?;
            return Ok(());
        }
        writeln!(
            out,
            "{:>6}  {:<12} {:>8}  {:>8}  {:<15} {:>22}  {:<19}",
            "ID", "NUMBER", "ODOO ID", "CUSTOMER", "STATUS", "AMOUNT", "ORDERED"
        )?;
        for v in &r.orders {
            let o = &v.row;
            writeln!(
                out,
                "{:>6}  {:<12} {:>8}  {:>8}  {:<15} {:>22}  {}",
                o.id,
                cell(o.order_number.as_deref().unwrap_or("-"), 12),
                o.odoo_order_id.map_or("-".into(), |i| i.to_string()),
                o.customer_id.map_or("-".into(), |i| i.to_string()),
                o.status,
                amount_text(v),
                o.order_date
            )?;
        }
        if r.total > r.orders.len() as u64 {
            writeln!(
                out,
                "Showing the newest {} of {} orders (--limit N for more).",
                r.orders.len(),
                r.total
            )?;
        } else {
            writeln!(out, "{} order(s).", r.total)?;
        }
        Ok(())
    }
}

/// `text` cut (with …) and padded to `width` terminal columns: wide characters (Chinese)
/// count twice, so the columns after it stay in place.
fn cell(text: &str, width: usize) -> String {
    let cut = console::truncate_str(&printable(text), width, "…").into_owned();
    let pad = width.saturating_sub(console::measure_text_width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

impl Report for StatusReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        writeln!(
            out,
            "Checked {} order(s): {} changed, {} unchanged.",
            r.checked,
            r.changed.len(),
            r.unchanged
        )?;
        for c in &r.changed {
            writeln!(
                out,
                "  {}: {} → {} (Odoo: {})",
                printable(&c.order_number),
                c.from,
                c.to,
                c.odoo_state
            )?;
        }
        if !r.missing_in_odoo.is_empty() {
            writeln!(
                out,
                "Not found in Odoo (left unchanged): local order(s) {:?}",
                r.missing_in_odoo
            )?;
        }
        Ok(())
    }
}

impl Report for DedupeReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        if r.groups.is_empty() {
            writeln!(
                out,
                "No duplicate orders: every odoo_order_id is stored once."
            )?;
            return Ok(());
        }
        if r.applied {
            writeln!(
                out,
                "Removed {} duplicate row(s) in {} group(s); each is archived in orderbridge_sales_orders_archive (restore with `orders dedupe --restore ID`).",
                r.removed,
                r.groups.len()
            )?;
            let ids: Vec<String> = r.archived_ids.iter().map(i64::to_string).collect();
            writeln!(out, "Archived ids: {}", ids.join(", "))?;
            writeln!(out, "Next: `orderbridge db migrate` adds the unique index.")?;
            return Ok(());
        }
        print_groups(out, r)?;
        writeln!(
            out,
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
        )?;
        Ok(())
    }
}

impl Report for Archived {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let a = self;
        writeln!(
            out,
            "Restored order {} (it had been removed in favour of order {} on {}).",
            a.archived_id, a.kept_id, a.archived_at
        )?;
        Ok(())
    }
}

impl Report for Vec<RemoteDuplicate> {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let list = self;
        if list.is_empty() {
            writeln!(out, "No Odoo orders share an idempotency key.")?;
            return Ok(());
        }
        for d in list {
            let names: Vec<String> = d
                .orders
                .iter()
                .map(|o| format!("{} (id {}, {} {})", o.name, o.id, o.amount_total, o.state))
                .collect();
            writeln!(out, "key {}: {}", d.key, names.join(", "))?;
        }
        writeln!(
            out,
            "{} key(s) with more than one Odoo order. Nothing was changed; cancel the extras in Odoo.",
            list.len()
        )?;
        Ok(())
    }
}

impl Report for CopyDone {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Copied {} into {}:", self.from, self.to)?;
        for t in &self.copied.tables {
            let sums = t
                .sums
                .iter()
                .map(|(c, s)| format!(", {c} sum {s}"))
                .collect::<String>();
            writeln!(out, "  {:<17} {:>9} rows{sums}", t.table, t.rows)?;
        }
        writeln!(
            out,
            "Counts and sums checked in the destination. Point ORDERBRIDGE_DATABASE at it to use it."
        )
    }
}

impl Report for MigrateReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self;
        if r.changed {
            writeln!(
                out,
                "Database migrated from version {} to {} (unique index on odoo_order_id added).",
                r.from_version, r.to_version
            )?;
        } else {
            writeln!(out, "Database is up to date (version {}).", r.to_version)?;
        }
        Ok(())
    }
}

impl Report for Plan {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        let p = self;
        let enable = "systemctl daemon-reload && systemctl enable --now orderbridge-sync-changed.timer orderbridge-sync-all.timer";
        if !p.written.is_empty() {
            for f in &p.written {
                writeln!(out, "Wrote {f}")?;
            }
            return writeln!(
                out,
                "Then: {enable}
(and `systemctl enable --now {SERVE_UNIT}` on a host that receives Odoo's webhooks)"
            );
        }
        let units = |out: &mut dyn Write| -> io::Result<()> {
            for j in &p.jobs {
                writeln!(
                    out,
                    "## /etc/systemd/system/{}.service\n{}\n## /etc/systemd/system/{}.timer\n{}",
                    j.name, j.systemd_service, j.name, j.systemd_timer
                )?;
            }
            writeln!(
                out,
                "## /etc/systemd/system/{SERVE_UNIT} (only on a host that receives Odoo's webhooks)\n{}",
                p.serve_service
            )
        };
        match p.part {
            Part::Cron => return write!(out, "{}", p.crontab),
            Part::Systemd => return units(out),
            Part::All => {}
        }
        for j in &p.jobs {
            let minutes = (j.next_run - chrono::Local::now()).num_minutes().max(0);
            writeln!(
                out,
                "{:<20} next run {} local time ({minutes} min from now), cron `{}`",
                j.name,
                j.next_run.format("%H:%M"),
                j.cron
            )?;
        }
        if p.files.is_empty() {
            writeln!(
                out,
                "No .env or config file was read: the commands find settings only in their environment."
            )?;
        } else {
            writeln!(out, "Settings from: {}", p.files.join(", "))?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "## cron: add these with `crontab -e` (or: (crontab -l; orderbridge schedule --cron) | crontab -)\n{}",
            p.crontab
        )?;
        writeln!(out, "## systemd")?;
        units(out)?;
        writeln!(out, "## then: {enable}")
    }
}

impl Report for HealthReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.runs.is_empty() {
            writeln!(out, "No sync, flush or dedupe has run yet.")?;
        }
        for r in &self.runs {
            writeln!(
                out,
                "{:<14} {}  {:<17} checked {}, updated {}, failed {}, {} round trips{}",
                r.kind,
                r.started_at,
                match (r.outcome.as_deref(), r.state) {
                    (Some(o), _) => o.to_string(),
                    (None, "running") => format!("running (pid {})", r.pid.unwrap_or_default()),
                    (None, _) => format!(
                        "unfinished (on {}; cannot be checked from here)",
                        r.host.as_deref().unwrap_or("an unknown host")
                    ),
                },
                r.checked,
                r.updated,
                r.failed,
                r.round_trips,
                r.error.as_deref().map_or(String::new(), |e| format!(
                    "\n{:<14} {}",
                    "",
                    printable(e)
                ))
            )?;
        }
        match (&self.last_successful_sync, self.last_successful_sync_age_s) {
            (Some(t), Some(age)) => writeln!(
                out,
                "Last successful sync: {t} UTC ({} ago)",
                human_age(age)
            )?,
            _ => writeln!(out, "Last successful sync: never")?,
        }
        writeln!(
            out,
            "Pending creates: {}{}",
            self.pending_intents,
            self.oldest_pending_intent
                .as_deref()
                .map_or(String::new(), |t| format!(
                    " (oldest from {t} UTC; see `orders recover`)"
                ))
        )?;
        if self.open_conflicts > 0 {
            writeln!(
                out,
                "Amount changes held for review: {} (see `orders conflicts`)",
                self.open_conflicts
            )?;
        }
        for m in &self.odoo_missing {
            let what = if m.modules.iter().any(|x| x == "sale_stock") {
                "delivery status and dates are not synced (install Inventory for them)"
            } else {
                "some order fields are not synced"
            };
            writeln!(
                out,
                "Odoo {} lacks {}: {what}",
                printable(&m.server),
                m.modules.join(", ")
            )?;
        }
        writeln!(
            out,
            "Queued orders: {}{}",
            self.queued_orders,
            self.oldest_queued_order_age_s
                .map_or(String::new(), |age| format!(
                    " (oldest taken {} ago; `orders flush` sends them)",
                    human_age(age)
                ))
        )?;
        for p in &self.problems {
            writeln!(out, "PROBLEM: {p}")?;
        }
        Ok(())
    }
}

fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// `orders list --format csv`: a header, then one row per order, amounts as plain decimals.
pub(super) fn orders_csv(r: &ListReport) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "id",
            "order_number",
            "odoo_order_id",
            "customer_id",
            "status",
            "amount",
            "amount_source",
            "portal_amount",
            "odoo_amount",
            "currency",
            "created_at",
            "order_date",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for v in &r.orders {
        let o = &v.row;
        let opt = |x: Option<String>| x.unwrap_or_default();
        rows.push(vec![
            o.id.to_string(),
            opt(o.order_number.clone()),
            opt(o.odoo_order_id.map(|i| i.to_string())),
            opt(o.customer_id.map(|i| i.to_string())),
            o.status.clone(),
            v.amount.to_string(),
            match v.amount_source {
                AmountSource::Odoo => "odoo".into(),
                AmountSource::Portal => "portal".into(),
            },
            o.total_amount.to_string(),
            opt(o.odoo_amount_total.map(|a| a.to_string())),
            o.currency.clone(),
            o.created_at.clone(),
            o.order_date.clone(),
        ]);
    }
    rows
}

impl Report for ConfigReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        for s in &self.settings {
            writeln!(
                out,
                "{:<26} {:<40} {}",
                s.key,
                cell(s.value.as_deref().unwrap_or("(not set)"), 40),
                s.from
            )?;
        }
        writeln!(
            out,
            "\nDatabase: {}\n  from {}",
            self.database, self.database_from
        )?;
        if self.files.is_empty() {
            writeln!(out, "Files read: none")
        } else {
            writeln!(out, "Files read: {}", self.files.join(", "))
        }
    }
}

impl Report for Vec<Archived> {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.is_empty() {
            return writeln!(out, "Nothing was removed by dedupe.");
        }
        writeln!(
            out,
            "{:>8}  {:>8}  {:>13}  ARCHIVED AT",
            "ID", "KEPT", "ODOO ORDER ID"
        )?;
        for a in self {
            writeln!(
                out,
                "{:>8}  {:>8}  {:>13}  {}",
                a.archived_id,
                a.kept_id,
                a.odoo_order_id.map_or("-".into(), |i| i.to_string()),
                a.archived_at
            )?;
        }
        writeln!(
            out,
            "Restore one with `orderbridge orders dedupe --restore ID`."
        )
    }
}

impl Report for ServeReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Stopped serving on {}.", self.listen)?;
        let received: u64 = self.webhooks.values().sum();
        let counts: Vec<String> = self
            .webhooks
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        writeln!(
            out,
            "Webhooks: {received} received{}{}",
            if counts.is_empty() { "" } else { ": " },
            counts.join(", ")
        )?;
        if self.imported + self.import_skipped + self.import_not_in_odoo + self.import_failed > 0 {
            writeln!(
                out,
                "Unknown orders: {} imported, {} skipped, {} not in Odoo, {} failed",
                self.imported, self.import_skipped, self.import_not_in_odoo, self.import_failed
            )?;
        }
        if self.late_answers > 0 {
            writeln!(
                out,
                "Written after Odoo stopped waiting (1 s): {}",
                self.late_answers
            )?;
        }
        if self.connections_shed > 0 {
            writeln!(
                out,
                "Idle connections closed at the connection limit: {}",
                self.connections_shed
            )?;
        }
        if self.exit_code() != 0 {
            writeln!(
                out,
                "The stop deadline cut: {} connection(s) without an answer{}{} (nothing half-written: each write is one transaction; the next poll catches up)",
                self.cut_connections,
                if self.cut_poll {
                    ", the poll under way"
                } else {
                    ""
                },
                if self.cut_imports > 0 {
                    format!(", {} import(s)", self.cut_imports)
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(
            out,
            "Polls: {} ok, {} failed, {} skipped while another run held the lock",
            self.polls_ok, self.polls_failed, self.polls_skipped_busy
        )
    }
}

impl Report for WebhookReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.records.is_empty() {
            return writeln!(
                out,
                "Odoo {}: no orderbridge webhook was installed; nothing to remove.",
                self.server_version
            );
        }
        for r in &self.records {
            writeln!(out, "{} {} {} \"{}\"", r.change, r.model, r.id, r.name)?;
        }
        if let Some(url) = &self.url {
            writeln!(
                out,
                "Odoo {} now posts {} to {url}\nwhen {} of a sale order changes (and when one is created).",
                self.server_version,
                self.fields.join(", "),
                self.trigger_fields.join(" or ")
            )?;
            writeln!(
                out,
                "Keep `orderbridge serve` running there; its --poll catches what a lost post misses."
            )?;
        }
        Ok(())
    }
}

impl Report for FlushReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.queued == 0 {
            return writeln!(out, "The outbox is empty: nothing to flush.");
        }
        for c in &self.created {
            writeln!(
                out,
                "{} {}: order {} ({}), Odoo id {}",
                if c.adopted {
                    "found in Odoo"
                } else {
                    "created"
                },
                c.key,
                c.order_id,
                printable(&c.order_number),
                c.odoo_order_id
            )?;
        }
        for f in &self.failed {
            writeln!(out, "FAILED {}: {}", f.key, printable(&f.reason))?;
        }
        for w in &self.waiting {
            writeln!(out, "waiting {}: {}", w.key, w.reason)?;
        }
        writeln!(
            out,
            "{} queued: {} stored, {} refused by Odoo, {} waiting, {} held by another run; {} create calls, {} round trips",
            self.queued,
            self.created.len(),
            self.failed.len(),
            self.waiting.len(),
            self.busy,
            self.create_calls,
            self.round_trips
        )?;
        if let Some(why) = &self.stopped {
            writeln!(
                out,
                "Stopped early: {}; the rest stays queued for the next flush.",
                printable(why)
            )?;
        }
        Ok(())
    }
}

fn intent_line(i: &Intent) -> String {
    let state = serde_json::to_value(&i.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let why = i
        .error
        .as_deref()
        .map(|e| format!(": {}", printable(e)))
        .unwrap_or_default();
    format!("{:<9} {}  since {}{why}", state, i.key, i.created_at)
}

impl Report for Vec<Intent> {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.is_empty() {
            return writeln!(out, "The outbox is empty.");
        }
        for i in self {
            writeln!(out, "{}", intent_line(i))?;
        }
        Ok(())
    }
}

impl Report for Intent {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", intent_line(self))
    }
}

fn conflict_line(c: &Conflict) -> String {
    let m = |a| {
        Money {
            amount: a,
            currency: &c.currency,
        }
        .to_string()
    };
    let decided = match (&c.decided_by, &c.decided_at) {
        (Some(who), Some(at)) => format!(", {} by {who} at {at} UTC", c.state),
        _ => String::new(),
    };
    format!(
        "#{} order {} ({}): portal {}, Odoo {}; held since {} UTC, last seen {} UTC{decided}",
        c.id,
        c.order_id,
        printable(c.order_number.as_deref().unwrap_or("-")),
        m(c.portal_amount),
        m(c.odoo_amount),
        c.first_seen,
        c.last_seen
    )
}

fn held_line(h: &HeldUpdate) -> String {
    format!(
        "u{:<4} order {} ({}): update {} held ({}) — Odoo changed the order at {} after the portal saw {}",
        h.id,
        h.order_id,
        printable(h.order_number.as_deref().unwrap_or("-")),
        printable(&h.values.to_string()),
        h.state,
        h.odoo_write_date,
        h.seen_write_date.as_deref().unwrap_or("nothing")
    )
}

impl Report for Vec<Review> {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.is_empty() {
            return writeln!(out, "Nothing waits for review.");
        }
        for r in self {
            match r {
                Review::Amount(c) => writeln!(out, "{}", conflict_line(c))?,
                Review::Update(h) => writeln!(out, "{}", held_line(h))?,
            }
        }
        writeln!(
            out,
            "`orders conflicts accept ID` takes Odoo's amount; `orders conflicts keep ID` keeps the portal's until Odoo's changes again.\n`orders conflicts accept uID` sends a held update over the change in Odoo; `keep uID` drops it."
        )
    }
}

impl Report for Review {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Review::Amount(c) => writeln!(out, "{}", conflict_line(c)),
            Review::Update(h) => writeln!(out, "{}", held_line(h)),
        }
    }
}

impl Report for ReconcileReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} local orders, {} Odoo orders of linked customers: {} missing in Odoo, {} missing locally, {} amounts differ, {} states differ",
            self.local_orders,
            self.odoo_orders_of_linked_customers,
            self.missing_in_odoo,
            self.missing_locally,
            self.amount_differs,
            self.state_differs
        )?;
        for d in &self.disagreements {
            let order = match d.order_id {
                Some(id) => format!("order {id}"),
                None => "no local order".into(),
            };
            let what = match d.kind {
                "missing_in_odoo" => "not in Odoo (deleted there?)".to_string(),
                "missing_locally" => format!(
                    "in Odoo only ({}); `orders import --odoo-id {}` stores it",
                    d.odoo.as_deref().unwrap_or("-"),
                    d.odoo_order_id
                ),
                "amount" => format!(
                    "amount: portal {} {}, Odoo {} {}",
                    d.portal.as_deref().unwrap_or("-"),
                    d.currency,
                    d.odoo.as_deref().unwrap_or("-"),
                    d.currency
                ),
                _ => format!(
                    "state: portal {}, Odoo {}",
                    d.portal.as_deref().unwrap_or("-"),
                    d.odoo.as_deref().unwrap_or("-")
                ),
            };
            writeln!(
                out,
                "{:<16} {} ({}, Odoo id {}): {what}",
                d.kind,
                order,
                printable(d.order_number.as_deref().unwrap_or("-")),
                d.odoo_order_id
            )?;
        }
        if self.disagreements.is_empty() {
            writeln!(out, "The portal and Odoo agree.")?;
        }
        Ok(())
    }
}
