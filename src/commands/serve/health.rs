//! `/healthz`: answered at once from what a checker thread last found, never by waiting on
//! the store. The checker probes a write (the write lock, then a write that changes nothing)
//! on a connection of its own every [`EVERY`]; health fails when that probe failed, when it
//! has not come back for longer than a probe may take (another writer holds the lock), or
//! when the last good poll is older than the poll period allows.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::Store;

/// How often the checker probes the store.
pub(super) const EVERY: Duration = Duration::from_secs(2);
/// How long a probe waits for the write lock: the store's busy timeout for the checker.
pub(crate) const PROBE_WAIT: Duration = Duration::from_secs(1);
/// A probe not back after this is a store that cannot take a write now.
const STALE: Duration = Duration::from_secs(5);

/// What a probe found.
#[derive(Debug, Clone)]
enum Found {
    Writable,
    /// Another writer held the lock past the probe's wait: writes wait as long.
    Busy(String),
    /// A write would fail: why.
    Unwritable(String),
}

#[derive(Debug)]
struct Probe {
    /// When the last probe ended, and what it found.
    at: Instant,
    result: Found,
}

#[derive(Debug)]
pub(super) struct Health {
    last: Mutex<Probe>,
    /// Why the writer's last transaction failed, while no later one has succeeded: what
    /// webhooks meet now, whatever the last probe found.
    write_failed: Mutex<Option<Found>>,
    started: Instant,
    /// The poll's period, when it is on.
    poll: Option<Duration>,
}

/// What `/healthz` says.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Verdict {
    /// `ok`, `store_unwritable`, `store_busy` or `poll_late`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Seconds since the checker last heard back from the store.
    pub store_checked_s: u64,
    pub last_poll_ok: Option<String>,
}

impl Verdict {
    pub(super) fn ok(&self) -> bool {
        self.status == "ok"
    }
}

impl Health {
    /// `first`: the probe made before listening.
    pub(super) fn new(poll: Option<Duration>) -> Health {
        Health {
            last: Mutex::new(Probe {
                at: Instant::now(),
                result: Found::Writable,
            }),
            write_failed: Mutex::new(None),
            started: Instant::now(),
            poll,
        }
    }

    /// The writer's last transaction: committed, or why not.
    pub(super) fn wrote(&self, result: Result<(), &crate::store::StoreError>) {
        *self.write_failed.lock().unwrap_or_else(|e| e.into_inner()) = result.err().map(found);
    }

    fn record(&self, result: Found) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Probe {
            at: Instant::now(),
            result,
        };
    }

    /// The verdict now; `last_poll_ok` is when a poll last ended well.
    pub(super) fn verdict(
        &self,
        last_poll_ok: Option<(Instant, chrono::DateTime<chrono::Utc>)>,
    ) -> Verdict {
        let (age, probed) = {
            let p = self.last.lock().unwrap_or_else(|e| e.into_inner());
            (p.at.elapsed(), p.result.clone())
        };
        let result = self
            .write_failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or(probed);
        let shown_poll =
            last_poll_ok.map(|(_, t)| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let verdict = |status, reason| Verdict {
            status,
            reason,
            store_checked_s: age.as_secs(),
            last_poll_ok: shown_poll.clone(),
        };
        match result {
            Found::Unwritable(why) => return verdict("store_unwritable", Some(why)),
            Found::Busy(why) => {
                return verdict(
                    "store_busy",
                    Some(format!("{why}: webhooks would wait as long")),
                );
            }
            Found::Writable => {}
        }
        if age > STALE + EVERY {
            return verdict(
                "store_busy",
                Some(format!(
                    "a write has waited for the store for {} s (another writer holds its lock): webhooks would wait as long",
                    age.as_secs()
                )),
            );
        }
        if let Some(period) = self.poll {
            // A poll may run long; two periods and a minute is late.
            let allowed = period * 2 + Duration::from_secs(60);
            let since = last_poll_ok.map_or(self.started.elapsed(), |(at, _)| at.elapsed());
            if since > allowed {
                return verdict(
                    "poll_late",
                    Some(format!(
                        "no poll has ended well for {} s (every {} s expected): check Odoo and the log",
                        since.as_secs(),
                        period.as_secs()
                    )),
                );
            }
        }
        verdict("ok", None)
    }
}

fn found(e: &crate::store::StoreError) -> Found {
    match e {
        crate::store::StoreError::Locked { .. } => Found::Busy(e.to_string()),
        _ => Found::Unwritable(e.to_string()),
    }
}

/// The checker's loop, on a thread of its own until `stop` says so.
pub(super) fn check_loop(store: &Store, health: &Health, stop: &std::sync::atomic::AtomicBool) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        health.record(match store.probe_writable() {
            Ok(()) => Found::Writable,
            Err(e) => found(&e),
        });
        let mut slept = Duration::ZERO;
        while slept < EVERY && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            slept += Duration::from_millis(100);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_probe_is_unhealthy_with_its_reason() {
        let h = Health::new(None);
        h.record(Found::Unwritable("the database x is read-only".into()));
        let v = h.verdict(None);
        assert_eq!(v.status, "store_unwritable");
        assert!(v.reason.unwrap().contains("read-only"));
    }

    #[test]
    fn a_probe_that_has_not_come_back_is_a_busy_store() {
        let h = Health::new(None);
        *h.last.lock().unwrap() = Probe {
            at: Instant::now() - Duration::from_secs(30),
            result: Found::Writable,
        };
        assert_eq!(h.verdict(None).status, "store_busy");
    }

    #[test]
    fn a_lock_held_past_the_probes_wait_is_a_busy_store() {
        let h = Health::new(None);
        h.record(Found::Busy("locked by another run".into()));
        assert_eq!(h.verdict(None).status, "store_busy");
    }

    #[test]
    fn a_failed_webhook_write_is_unhealthy_until_a_write_succeeds() {
        let h = Health::new(None);
        let e = crate::store::StoreError::ReadOnly {
            path: "x.db".into(),
        };
        h.wrote(Err(&e));
        let v = h.verdict(None);
        assert_eq!(v.status, "store_unwritable");
        assert!(v.reason.unwrap().contains("read-only"));
        h.wrote(Ok(()));
        assert!(h.verdict(None).ok());
    }

    #[test]
    fn a_poll_two_periods_and_a_minute_late_is_unhealthy() {
        let h = Health::new(Some(Duration::from_secs(60)));
        let long_ago = Instant::now() - Duration::from_secs(181);
        let v = h.verdict(Some((long_ago, chrono::Utc::now())));
        assert_eq!(v.status, "poll_late");
        let recent = Instant::now() - Duration::from_secs(100);
        assert!(h.verdict(Some((recent, chrono::Utc::now()))).ok());
    }
}
