//! `serve`'s counters, and their Prometheus text form for `/metrics`.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What became of one webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Delivered {
    /// Its amount or status was written.
    Updated,
    /// Newer than what was stored, and equal to it by the rules.
    Unchanged,
    /// Odoo's amount is 0.00: the portal's stays.
    KeptPortal,
    /// Beyond the review threshold: held as a conflict, not applied.
    Held,
    /// Not newer than what is stored (late, or sent twice): nothing written.
    Stale,
    /// No local order has its id, and its customer is not linked: counted only.
    Unknown,
    /// No local order has its id; its customer is linked: imported in the background.
    Importing,
    /// The body is not a sale.order delivery: 400.
    Invalid,
    /// The path's secret is wrong: 404.
    Forbidden,
    /// The local store failed: 503.
    Failed,
}

impl Delivered {
    /// Whether the delivery wrote to the store (or started an import).
    pub(crate) fn wrote(self) -> bool {
        matches!(
            self,
            Delivered::Updated | Delivered::Held | Delivered::Importing
        )
    }

    pub(crate) const ALL: [Delivered; 10] = [
        Delivered::Updated,
        Delivered::Unchanged,
        Delivered::KeptPortal,
        Delivered::Held,
        Delivered::Stale,
        Delivered::Unknown,
        Delivered::Importing,
        Delivered::Invalid,
        Delivered::Forbidden,
        Delivered::Failed,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Delivered::Updated => "updated",
            Delivered::Unchanged => "unchanged",
            Delivered::KeptPortal => "kept_portal",
            Delivered::Held => "held",
            Delivered::Stale => "stale",
            Delivered::Unknown => "unknown",
            Delivered::Importing => "importing",
            Delivered::Invalid => "invalid",
            Delivered::Forbidden => "forbidden",
            Delivered::Failed => "failed",
        }
    }
}

/// How one safety-net poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polled {
    Ok,
    /// Odoo unreachable or garbled, or some orders failed.
    Failed,
    /// A cron run held the lock: skipped.
    Busy,
}

/// How the imports of unknown orders ended.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Imports {
    pub stored: u64,
    pub skipped: u64,
    pub not_in_odoo: u64,
    pub failed: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    deliveries: [AtomicU64; 10],
    apply_micros_sum: AtomicU64,
    apply_count: AtomicU64,
    /// Imports: stored, skipped, not in Odoo, failed.
    imports: [AtomicU64; 4],
    /// Deliveries that wrote after Odoo stopped waiting for the answer.
    late: AtomicU64,
    polls: [AtomicU64; 3],
    last_poll_ok: Mutex<Option<(std::time::Instant, chrono::DateTime<chrono::Utc>)>>,
}

impl Metrics {
    pub(crate) fn delivered(&self, d: Delivered, took: Duration) {
        self.deliveries[d as usize].fetch_add(1, Ordering::Relaxed);
        if took > super::ODOO_WAITS && d.wrote() {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
        if !matches!(d, Delivered::Forbidden) {
            self.apply_micros_sum
                .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
            self.apply_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An import's end: what it did, or `None` when it failed.
    pub(crate) fn imported(&self, done: Option<super::apply::Imported>) {
        use super::apply::Imported;
        let i = match done {
            Some(Imported::Stored) => 0,
            Some(Imported::Skipped) => 1,
            Some(Imported::NotInOdoo) => 2,
            None => 3,
        };
        self.imports[i].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn late(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    pub(crate) fn polled(&self, p: Polled) {
        self.polls[p as usize].fetch_add(1, Ordering::Relaxed);
        if p == Polled::Ok {
            *self.last_poll_ok.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((std::time::Instant::now(), chrono::Utc::now()));
        }
    }

    pub(crate) fn count(&self, d: Delivered) -> u64 {
        self.deliveries[d as usize].load(Ordering::Relaxed)
    }

    pub(crate) fn polls(&self, p: Polled) -> u64 {
        self.polls[p as usize].load(Ordering::Relaxed)
    }

    pub(crate) fn imports(&self) -> Imports {
        let n = |i: usize| self.imports[i].load(Ordering::Relaxed);
        Imports {
            stored: n(0),
            skipped: n(1),
            not_in_odoo: n(2),
            failed: n(3),
        }
    }

    pub(crate) fn last_poll_ok(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.last_poll_ok_at().map(|(_, t)| t)
    }

    /// When a poll last ended well: the monotonic instant (for ages) and the wall clock.
    pub(crate) fn last_poll_ok_at(
        &self,
    ) -> Option<(std::time::Instant, chrono::DateTime<chrono::Utc>)> {
        *self.last_poll_ok.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub(crate) fn render(
        &self,
        conns: &super::Conns,
        health: &super::health::Verdict,
        events: &super::deliver::Delivery,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP orderbridge_serve_connections Open client connections.\n# TYPE orderbridge_serve_connections gauge\norderbridge_serve_connections {}\n\
             # HELP orderbridge_serve_connection_limit The most open connections (the open-file limit may lower the one asked for).\n# TYPE orderbridge_serve_connection_limit gauge\norderbridge_serve_connection_limit {}\n\
             # HELP orderbridge_serve_connections_shed_total Idle connections closed to make room at the limit.\n# TYPE orderbridge_serve_connections_shed_total counter\norderbridge_serve_connections_shed_total {}\n\
             # HELP orderbridge_serve_shedding 1 while connections are being shed (until a minute after the last).\n# TYPE orderbridge_serve_shedding gauge\norderbridge_serve_shedding {}\n\
             # HELP orderbridge_serve_healthy 1 when /healthz answers ok.\n# TYPE orderbridge_serve_healthy gauge\norderbridge_serve_healthy {}",
            conns.open(),
            conns.limit,
            conns.shed_total(),
            u8::from(conns.shedding()),
            u8::from(health.ok())
        );
        let _ = writeln!(
            out,
            "# HELP orderbridge_webhooks_total Webhook deliveries received, by what became of them.\n# TYPE orderbridge_webhooks_total counter"
        );
        for d in Delivered::ALL {
            let _ = writeln!(
                out,
                "orderbridge_webhooks_total{{result=\"{}\"}} {}",
                d.name(),
                self.count(d)
            );
        }
        let _ = writeln!(
            out,
            "# HELP orderbridge_webhook_seconds Time from a delivery's arrival to its answer, local commit included.\n# TYPE orderbridge_webhook_seconds summary\norderbridge_webhook_seconds_sum {}\norderbridge_webhook_seconds_count {}",
            self.apply_micros_sum.load(Ordering::Relaxed) as f64 / 1e6,
            self.apply_count.load(Ordering::Relaxed)
        );
        let i = self.imports();
        let _ = writeln!(
            out,
            "# HELP orderbridge_webhook_imports_total Imports of unknown orders, by outcome (ok: stored).\n# TYPE orderbridge_webhook_imports_total counter\norderbridge_webhook_imports_total{{outcome=\"ok\"}} {}\norderbridge_webhook_imports_total{{outcome=\"skipped\"}} {}\norderbridge_webhook_imports_total{{outcome=\"not_in_odoo\"}} {}\norderbridge_webhook_imports_total{{outcome=\"failed\"}} {}",
            i.stored, i.skipped, i.not_in_odoo, i.failed
        );
        let _ = writeln!(
            out,
            "# HELP orderbridge_webhooks_late_total Deliveries written after Odoo stopped waiting for the answer (1 s).\n# TYPE orderbridge_webhooks_late_total counter\norderbridge_webhooks_late_total {}",
            self.late()
        );
        let _ = writeln!(
            out,
            "# HELP orderbridge_polls_total Safety-net incremental syncs, by outcome.\n# TYPE orderbridge_polls_total counter"
        );
        for (p, name) in [
            (Polled::Ok, "ok"),
            (Polled::Failed, "failed"),
            (Polled::Busy, "busy"),
        ] {
            let _ = writeln!(
                out,
                "orderbridge_polls_total{{outcome=\"{name}\"}} {}",
                self.polls(p)
            );
        }
        if let Some(t) = self.last_poll_ok() {
            let _ = writeln!(
                out,
                "# HELP orderbridge_last_poll_success_timestamp_seconds When a poll last ended well.\n# TYPE orderbridge_last_poll_success_timestamp_seconds gauge\norderbridge_last_poll_success_timestamp_seconds {}",
                t.timestamp()
            );
        }
        let _ = writeln!(
            out,
            "# HELP orderbridge_events_delivered_total Events the portal answered 2xx to.\n# TYPE orderbridge_events_delivered_total counter\norderbridge_events_delivered_total {}\n\
             # HELP orderbridge_event_attempts_failed_total Event posts the portal refused or did not answer (each retried).\n# TYPE orderbridge_event_attempts_failed_total counter\norderbridge_event_attempts_failed_total {}",
            events.delivered.load(Ordering::Relaxed),
            events.failed_attempts.load(Ordering::Relaxed)
        );
        out
    }
}
