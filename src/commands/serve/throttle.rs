//! Warnings that anyone on the network can cause (a wrong secret, a bad body, a slow
//! client) are logged once a minute per kind, with a count of the rest: a flood of bad
//! requests cannot flood the log.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One summary line a kind per this period.
pub(super) const PERIOD: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(super) struct Throttle {
    kinds: Mutex<BTreeMap<&'static str, Window>>,
}

#[derive(Debug)]
struct Window {
    /// When this kind was last logged in full.
    logged: Instant,
    /// Occurrences since then, not logged.
    suppressed: u64,
}

impl Throttle {
    /// Whether this occurrence of `kind` is logged in full: the first in a period.
    pub(super) fn first(&self, kind: &'static str) -> bool {
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        match kinds.get_mut(kind) {
            Some(w) if w.logged.elapsed() < PERIOD => {
                w.suppressed += 1;
                false
            }
            _ => {
                kinds.insert(
                    kind,
                    Window {
                        logged: Instant::now(),
                        suppressed: 0,
                    },
                );
                true
            }
        }
    }

    /// The kinds whose period is over and that had occurrences not logged, with their
    /// counts; those counts start again.
    pub(super) fn due(&self) -> Vec<(&'static str, u64)> {
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        for (kind, w) in kinds.iter_mut() {
            if w.suppressed > 0 && w.logged.elapsed() >= PERIOD {
                due.push((*kind, w.suppressed));
                w.suppressed = 0;
                w.logged = Instant::now();
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_of_a_kind_in_a_period_is_logged() {
        let t = Throttle::default();
        assert!(t.first("wrong_secret"));
        assert!(!t.first("wrong_secret"));
        assert!(!t.first("wrong_secret"));
        assert!(t.first("invalid_body"));
        assert!(t.due().is_empty(), "the period is not over");
    }
}
