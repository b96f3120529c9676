//! Events to the portal: sequenced in commit order, then posted one at a time, signed, to
//! `ORDERBRIDGE_PORTAL_WEBHOOK_URL` — at least once, in sequence (so an order's events
//! arrive in the order they happened), the next one only after the portal answered 2xx to
//! this one; a refusal or an unreachable portal is retried with a growing backoff.
//!
//! The signature, as Stripe's: header `Orderbridge-Signature: t=<unix seconds>,v1=<hex>`,
//! where `v1` is HMAC-SHA256 with the shared secret over `"<t>.<body>"`. The portal checks
//! it and that `t` is recent (README shows it in PHP).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, watch};

use crate::secret::Secret;
use crate::store::Store;
use crate::store::events::Undelivered;

/// The header the signature travels in.
pub(crate) const SIGNATURE_HEADER: &str = "orderbridge-signature";
/// Events are kept this long, then forgotten (delivered or not).
const KEEP: chrono::Duration = chrono::Duration::days(30);
/// The longest wait between two attempts of one event.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long the portal has to answer one event.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub(crate) fn signature(secret: &Secret, t: i64, body: &str) -> String {
    // HMAC takes a key of any length: new_from_slice cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    let sum = mac.finalize().into_bytes();
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// What the delivery did, for `/metrics` and the stop's report.
#[derive(Debug, Default)]
pub(super) struct Delivery {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
}

/// The wait before attempt `n + 1` after `n` failed ones: 1 s, 2 s, 4 s ... 5 min.
fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

/// Sequences new events and delivers them until `stop`; runs on a thread of its own (its
/// store work blocks).
pub(super) async fn deliver_loop(
    store: &Store,
    lock: &(crate::store::Location, Duration),
    portal: Option<(String, Secret)>,
    ready: Arc<Notify>,
    stats: &Delivery,
    mut stop: watch::Receiver<bool>,
) {
    // One deliverer per store: several `serve`s sharing a server store would post each
    // event twice and could interleave them. The others stand by and take over when the
    // holder's process (or connection) ends.
    let mut held: Option<crate::store::lock::RunLock> = None;
    let mut told_standby = false;
    let http = reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .build()
        .ok();
    let mut pruned_at: Option<std::time::Instant> = None;
    let mut failing_since_logged = false;
    loop {
        if *stop.borrow() {
            return;
        }
        if pruned_at.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
            pruned_at = Some(std::time::Instant::now());
            let before = crate::store::to_text(chrono::Utc::now() - KEEP);
            match store.prune_events(&before) {
                Ok(n) if n > 0 => tracing::info!(events = n, "Events older than 30 days forgotten"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Old events could not be forgotten"),
            }
        }
        if let Err(e) = store.sequence_events() {
            tracing::warn!(error = %e, "Events could not be sequenced; trying again");
        }
        if portal.is_some() && held.is_none() {
            use crate::store::lock::{LockKind, RunLock};
            match RunLock::try_acquire_kind(&lock.0, lock.1, LockKind::Events) {
                Ok(Some(l)) => {
                    if told_standby {
                        tracing::info!("This server now delivers the portal's events");
                    }
                    held = Some(l);
                }
                Ok(None) if !told_standby => {
                    tracing::info!("Another server delivers the portal's events; standing by");
                    told_standby = true;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "The events' delivery lock could not be taken; trying again")
                }
            }
        }
        let next = match (&portal, &http, &held) {
            (Some(_), Some(_), Some(_)) => store.next_undelivered().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "Events could not be read; trying again");
                None
            }),
            _ => None,
        };
        let Some(ev) = next else {
            // Nothing to post: until something commits here, or a second (events written by
            // other processes: cron's syncs, the CLI).
            tokio::select! {
                () = ready.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        };
        if let Some(wait) = ev
            .next_attempt_at
            .as_deref()
            .and_then(crate::store::from_text)
            .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
        {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        let (Some((url, secret)), Some(http)) = (&portal, &http) else {
            continue;
        };
        match post(http, url, secret, &ev).await {
            Ok(()) => {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
                if failing_since_logged {
                    tracing::info!("Events reach the portal again");
                    failing_since_logged = false;
                }
                if let Err(e) = store.event_delivered(ev.row_id) {
                    // Posted, not recorded: it is posted again (at least once).
                    tracing::warn!(error = %e, event = ev.event.id, "An event's delivery could not be recorded; it will be sent again");
                }
            }
            Err(why) => {
                stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                let wait = backoff(ev.attempts);
                if !failing_since_logged {
                    tracing::warn!(event = ev.event.id, kind = %ev.event.kind, reason = %why, retry_in_s = wait.as_secs(), "The portal did not take an event; retrying with backoff (logged once until it does)");
                    failing_since_logged = true;
                }
                let at = crate::store::to_text(
                    chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                );
                if let Err(e) = store.event_failed(ev.row_id, &why, &at) {
                    tracing::warn!(error = %e, "An event's failed attempt could not be recorded");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Posts one event, signed; `Err` says why the portal did not take it.
async fn post(
    http: &reqwest::Client,
    url: &str,
    secret: &Secret,
    ev: &Undelivered,
) -> Result<(), String> {
    let body = serde_json::to_string(&ev.event).map_err(|e| e.to_string())?;
    let t = chrono::Utc::now().timestamp();
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature(secret, t, &body))
        .header("orderbridge-event-id", ev.event.id.to_string())
        .header("orderbridge-event-type", &ev.event.kind)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("the portal could not be reached: {e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the portal answered HTTP {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_the_time_and_the_body() {
        // As `printf '1700000000.{}' | openssl dgst -sha256 -hmac Jefe` computes it.
        let s = signature(&Secret::new("Jefe"), 1700000000, "{}");
        assert!(s.starts_with("t=1700000000,v1="), "{s}");
        assert_eq!(
            s,
            "t=1700000000,v1=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }
}
