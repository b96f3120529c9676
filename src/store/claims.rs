//! Who works on a create intent: a claim names its holder (`host:pid:random`) and lasts
//! until a lease ends, so that two processes never send one key at once, and a holder that
//! crashed on this host is recognised at once instead of after its lease. A holder on
//! another host (a shared PostgreSQL store) cannot be checked: its claim ends with its
//! lease, and the claim itself is one conditional `UPDATE`, which the database serializes.

use super::{Result, Store};

/// This process, as a claim holder.
#[derive(Debug, Clone)]
pub(crate) struct Claimant(String);

impl Claimant {
    pub(crate) fn this_process() -> Claimant {
        Claimant(format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ))
    }

    pub(crate) fn id(&self) -> &str {
        &self.0
    }
}

/// The host part of a claim: `ORDERBRIDGE_HOST_ID` when set (hosts whose names may
/// collide, or tests standing in for several hosts), else the host's name.
pub(crate) fn hostname() -> String {
    std::env::var("ORDERBRIDGE_HOST_ID")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// True when the claim's holder ran on this host and its process is gone (it crashed).
fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (_rand, pid, host) = (parts.next(), parts.next(), parts.next());
    match (host, pid.and_then(|p| p.parse::<u32>().ok())) {
        (Some(h), Some(pid)) => process_gone(h, pid) == Some(true),
        _ => false,
    }
}

/// Whether the process `pid` of `host` is gone: `None` when it cannot be told (another
/// host, or no /proc).
pub(crate) fn process_gone(host: &str, pid: u32) -> Option<bool> {
    if host != hostname() {
        return None;
    }
    if pid == std::process::id() {
        return Some(false);
    }
    let proc = std::path::Path::new("/proc");
    proc.exists().then(|| !proc.join(pid.to_string()).exists())
}

impl Store {
    /// Claims the intent until `until`, taking it over from a holder that crashed. Returns
    /// whether `who` now holds it.
    pub(crate) fn claim(&self, key: &str, who: &Claimant, until: &str) -> Result<bool> {
        if self.claim_intent(key, who.id(), until)? {
            return Ok(true);
        }
        match self.intent(key)?.and_then(|i| i.claimed_by) {
            Some(holder) if holder_is_dead(&holder) => {
                self.steal_intent(key, &holder, who.id(), until)
            }
            _ => Ok(false),
        }
    }
}
