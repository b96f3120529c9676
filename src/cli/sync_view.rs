//! `orders sync-amounts` as it runs: one line per order, with emoji on a terminal, plain text
//! otherwise, only problems with --quiet, JSON at the end with --json, and a progress bar on
//! stderr for large runs on a terminal. Results go to stdout; a closed pipe stops the
//! printing, not the sync.

use std::io::{self, Write};

use super::output::{Format, Output, envelope_line, printable};
use crate::flows::sync::{Event, OrderResult, Outcome as SyncOutcome, Selection, Summary};
use crate::money::Money;

/// Renders sync-amounts as it runs: one line per order, with emoji on a terminal, plain text
/// otherwise, only problems with --quiet, JSON at the end with --json, and a progress bar
/// on stderr for large runs on a terminal.
pub(super) struct SyncRenderer {
    selection: Selection,
    fancy: bool,
    json: bool,
    /// Each result as a JSON line as it comes, instead of all of them at the end.
    json_lines: bool,
    out: Output,
    /// The first error writing to stdout (a closed pipe): nothing more is printed.
    broken: Option<io::Error>,
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
        json_lines: bool,
        out: Output,
        quiet: bool,
        dry_run: bool,
    ) -> Self {
        let json = out.format == Format::Json || json_lines;
        let fancy = !plain && !json && console::Term::stdout().is_term();
        SyncRenderer {
            selection,
            fancy,
            json,
            json_lines,
            out,
            broken: None,
            quiet,
            dry_run,
            results: Vec::new(),
            bar: None,
        }
    }

    /// Writes one line of results on stdout, above the progress bar if there is one.
    fn out(&mut self, line: &str) {
        if self.broken.is_some() {
            return;
        }
        let write = || {
            let mut stdout = io::stdout().lock();
            writeln!(stdout, "{line}").and_then(|()| stdout.flush())
        };
        let result = match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if let Err(e) = result {
            self.broken = Some(e);
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
        // A dry run says what would change, never that it did.
        let dry = self.dry_run;
        let (icon, plain, text) = match &r.outcome {
            SyncOutcome::Updated { from, to } => (
                "✅",
                if dry { "[would update]" } else { "[updated]" },
                format!(
                    "{}: {} → {}{}",
                    r.order_number,
                    m(*from),
                    m(*to),
                    if dry { " (dry run: not written)" } else { "" }
                ),
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
            SyncOutcome::Held { from, to } => (
                "✋",
                if dry { "[would hold]" } else { "[held]" },
                format!(
                    "{}: Odoo says {}, the portal {}: beyond the review threshold, {} (see `orders conflicts`)",
                    r.order_number,
                    m(*to),
                    m(*from),
                    if dry { "would be held" } else { "held" }
                ),
            ),
            SyncOutcome::Superseded => (
                "⏭️ ",
                "[skipped]",
                format!(
                    "{}: the order already holds a later change of Odoo's (a webhook); nothing written",
                    r.order_number
                ),
            ),
            SyncOutcome::KeptByReview { amount, odoo } => (
                "⏭️ ",
                "[skipped]",
                format!(
                    "{}: keeping the portal amount {} (Odoo's {} was reviewed and not taken)",
                    r.order_number,
                    m(*amount),
                    m(*odoo)
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
                    Some((from, to)) if dry => {
                        format!("{}: status would change {from} → {to}", r.order_number)
                    }
                    Some((from, to)) => format!("{}: status {from} → {to}", r.order_number),
                    None => format!("{}: status unchanged", r.order_number),
                },
            ),
        };
        let problem = matches!(
            r.outcome,
            SyncOutcome::MissingInOdoo | SyncOutcome::Failed { .. } | SyncOutcome::Held { .. }
        );
        if self.quiet && !problem {
            return None;
        }
        let status = r.status_change.as_ref().map_or(String::new(), |(a, b)| {
            if dry {
                format!(" [status would change {a} → {b}]")
            } else {
                format!(" [status {a} → {b}]")
            }
        });
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
            Event::ChangedSince(since) => {
                if self.json || self.quiet {
                    return;
                }
                match since {
                    Some(t) => self.out(&format!(
                        "Syncing the orders Odoo changed since {t} UTC (the cursor, or Odoo's clock less the overlap)..."
                    )),
                    None => self.out(
                        "No change cursor yet: a full sync first, then the cursor at Odoo's newest change.",
                    ),
                }
            }
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
                    self.out(&format!("🔄 {header}\n"));
                } else {
                    self.out(header);
                }
                let s = if n == 1 { "" } else { "s" };
                match self.selection {
                    Selection::RecentDays(d) => {
                        self.out(&format!("Found {n} recent order{s} (last {d} days)"))
                    }
                    Selection::All => self.out(&format!("Found {n} order{s} with an Odoo id")),
                    Selection::Order(id) => {
                        self.out(&format!("Found {n} order{s} (local order {id})"))
                    }
                    // The first --changed run is a full sync.
                    Selection::Changed => self.out(&format!(
                        "Found {n} order{s} with an Odoo id (first run: all)"
                    )),
                }
                if self.fancy {
                    self.out("");
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
                if self.json_lines {
                    match serde_json::to_string(&serde_json::json!({"order": r})) {
                        Ok(line) => self.out(&line),
                        Err(e) => self.broken = Some(io::Error::other(e)),
                    }
                } else if self.json {
                    self.results.push(r.clone());
                } else if let Some(l) = self.line(r) {
                    self.out(&l);
                }
            }
        }
    }

    /// Prints the summary; an error when stdout could not be written to.
    pub(super) fn finish(mut self, s: &Summary, exit_code: i32) -> io::Result<()> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.json_lines {
            let data = serde_json::json!({"summary": s, "synced": s.synced()});
            let line = envelope_line(&data, self.out, exit_code)?;
            self.out(&line);
            return self.broken.map_or(Ok(()), Err);
        }
        if self.json {
            let data =
                serde_json::json!({"summary": s, "synced": s.synced(), "orders": self.results});
            let line = envelope_line(&data, self.out, exit_code)?;
            // Pretty, like every other --json report.
            let pretty = serde_json::from_str::<serde_json::Value>(&line)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .map_err(io::Error::other)?;
            self.out(&pretty);
            return self.broken.map_or(Ok(()), Err);
        }
        // What the run committed despite Odoo's failure stays: say so.
        let kept = if s.dry_run {
            String::new()
        } else {
            format!(
                "; {} order(s) were updated in this run (committed, and kept), the orders Odoo could not be asked about were not changed",
                s.updated + s.status_changed
            )
        };
        if let Some(reason) = &s.odoo_garbled {
            eprintln!(
                "error: Odoo answered something that is not Odoo's protocol during the sync: {}{kept}",
                printable(reason)
            );
        }
        if let Some(reason) = &s.odoo_unreachable {
            eprintln!("error: Odoo became unreachable during the sync: {reason}{kept}");
        }
        if self.quiet {
            if s.failed > 0 {
                eprintln!("error: {} of {} order(s) failed to sync", s.failed, s.found);
            }
            if s.held > 0 {
                eprintln!(
                    "error: {} amount change(s) held for review: see `orderbridge orders conflicts`",
                    s.held
                );
            }
            return self.broken.map_or(Ok(()), Err);
        }
        if self.fancy {
            self.out("");
        }
        if let Some(f) = &s.flushed {
            self.out(&format!(
                "Outbox flushed first: {} queued order(s) created in Odoo, {} change(s) sent, {} refused, {} still queued{}",
                f.created,
                f.changes,
                f.failed,
                f.still_queued,
                f.error
                    .as_deref()
                    .map(|e| format!(" ({})", printable(e)))
                    .unwrap_or_default()
            ));
        }
        if self.dry_run {
            self.out(&format!("Would sync: {}", s.synced()));
        } else {
            self.out(&format!("Synced: {}", s.synced()));
        }
        let mut parts = vec![
            if self.dry_run {
                format!("would update {}", s.updated)
            } else {
                format!("updated {}", s.updated)
            },
            format!("no change {}", s.unchanged),
            format!("kept portal amount {}", s.kept_portal),
        ];
        if s.missing_in_odoo > 0 {
            parts.push(format!("not in Odoo {}", s.missing_in_odoo));
        }
        if s.failed > 0 {
            parts.push(format!("failed {}", s.failed));
        }
        if s.held > 0 {
            parts.push(format!("held for review {}", s.held));
        }
        if s.superseded > 0 {
            parts.push(format!("already newer {}", s.superseded));
        }
        if s.status_changed > 0 {
            parts.push(format!("status changed {}", s.status_changed));
        }
        self.out(&format!(
            "({}; {} round trips)",
            parts.join(", "),
            s.round_trips
        ));
        if self.fancy {
            self.out("");
        }
        let done = if self.dry_run {
            "Dry run complete: nothing was changed."
        } else {
            "Sync complete!"
        };
        match (s.failed > 0, self.fancy) {
            (true, true) => self.out(&format!("❌ Sync finished with {} failure(s).", s.failed)),
            (true, false) => self.out(&format!("Sync finished with {} failure(s).", s.failed)),
            (false, true) => self.out(&format!("✅ {done}")),
            (false, false) => self.out(done),
        }
        self.broken.map_or(Ok(()), Err)
    }
}
