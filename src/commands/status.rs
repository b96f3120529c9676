//! `orderbridge status`: the last run of each kind, the creates still in doubt, and how long
//! ago a sync last ended well; with `--max-age`, a monitoring check. Also the Prometheus
//! textfile that `--metrics-file` writes after each run.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Context;
use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::store::runs::Run;
use crate::store::{Store, from_text};

/// The kinds whose success counts as "synced".
const SYNC_KINDS: &[&str] = &["sync-amounts", "sync-status", "sync-changed"];

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct HealthReport {
    /// The latest run of each kind.
    pub runs: Vec<Run>,
    /// Creates whose outcome is not known yet (`orders recover` resolves them).
    pub pending_intents: u64,
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub oldest_pending_intent: Option<String>,
    /// Orders waiting in the outbox for `orders flush`.
    pub queued_orders: u64,
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub oldest_queued_order: Option<String>,
    /// Seconds since the oldest queued order was taken.
    pub oldest_queued_order_age_s: Option<i64>,
    /// Amount changes held for review (`orders conflicts`).
    pub open_conflicts: u64,
    #[serde(serialize_with = "crate::store::rfc3339_opt")]
    pub last_successful_sync: Option<String>,
    /// Seconds since the last successful sync.
    pub last_successful_sync_age_s: Option<i64>,
    /// What `--max-age` found wrong, if anything.
    pub problems: Vec<String>,
    /// What is not synced because the Odoo server lacks a module: `(server, modules)`.
    pub odoo_missing: Vec<MissingModules>,
}

/// Modules an Odoo server lacks, as last checked.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct MissingModules {
    pub server: String,
    pub modules: Vec<String>,
    #[serde(serialize_with = "crate::store::rfc3339")]
    pub checked_at: String,
}

impl Exit for HealthReport {
    /// 0 when healthy; 1 when a check of `--max-age` failed.
    fn exit_status(&self) -> ExitStatus {
        if self.problems.is_empty() {
            ExitStatus::Ok
        } else {
            ExitStatus::Failed
        }
    }
}

/// Parses `90s`, `30m`, `2h`, `1d` (a bare number is seconds).
pub(crate) fn parse_age(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 30m, 2h or 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("'{text}': the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

fn report(store: &Store, max_age: Option<Duration>) -> Result<HealthReport, Error> {
    let runs = store.last_runs()?;
    let (pending_intents, oldest_pending_intent) = store.intent_stats("pending")?;
    let (queued_orders, oldest_queued_order) = store.intent_stats("queued")?;
    let open_conflicts = store.conflicts(&["open"])?.len() as u64;
    let oldest_queued_order_age_s = oldest_queued_order
        .as_deref()
        .and_then(from_text)
        .map(|t| (Utc::now() - t).num_seconds().max(0));
    let last_successful_sync = store.last_success(SYNC_KINDS)?;
    let age = last_successful_sync
        .as_deref()
        .and_then(from_text)
        .map(|t| (Utc::now() - t).num_seconds().max(0));
    let mut problems = Vec::new();
    if let Some(max) = max_age {
        match age {
            None => problems.push("no sync has ever ended well".to_string()),
            Some(a) if a > max.as_secs() as i64 => problems.push(format!(
                "the last successful sync was {a} s ago, more than {} s",
                max.as_secs()
            )),
            Some(_) => {}
        }
        for r in runs
            .iter()
            .filter(|r| SYNC_KINDS.contains(&r.kind.as_str()))
        {
            if r.outcome.as_deref().is_some_and(|o| o != "ok") {
                problems.push(format!(
                    "the last {} run ended {}{}",
                    r.kind,
                    r.outcome.as_deref().unwrap_or("?"),
                    r.error
                        .as_deref()
                        .map_or(String::new(), |e| format!(": {e}"))
                ));
            }
        }
    }
    Ok(HealthReport {
        runs,
        pending_intents,
        oldest_pending_intent,
        queued_orders,
        oldest_queued_order,
        oldest_queued_order_age_s,
        open_conflicts,
        last_successful_sync,
        last_successful_sync_age_s: age,
        problems,
        odoo_missing: store
            .missing_features()?
            .into_iter()
            .filter(|(_, modules, _)| !modules.is_empty())
            .map(|(server, modules, checked_at)| MissingModules {
                server,
                modules,
                checked_at,
            })
            .collect(),
    })
}

pub(crate) fn run(ctx: &Context, max_age: Option<Duration>) -> Result<HealthReport, Error> {
    report(&ctx.store()?, max_age)
}

/// Writes the Prometheus textfile-collector file, atomically (a temporary file in the same
/// folder, then a rename), so that the collector never reads half a file.
pub(crate) fn write_metrics(ctx: &Context, path: &Path) -> Result<(), Error> {
    let store = ctx.store_unverified()?;
    let status = report(&store, None)?;
    let mut text = String::new();
    let mut metric = |name: &str, help: &str, values: Vec<(String, f64)>| {
        text.push_str(&format!(
            "# HELP orderbridge_{name} {help}\n# TYPE orderbridge_{name} gauge\n"
        ));
        for (labels, v) in values {
            text.push_str(&format!("orderbridge_{name}{labels} {v}\n"));
        }
    };
    let per_kind = |f: &dyn Fn(&Run) -> Option<f64>| -> Vec<(String, f64)> {
        status
            .runs
            .iter()
            .filter_map(|r| f(r).map(|v| (format!("{{kind=\"{}\"}}", r.kind), v)))
            .collect()
    };
    let stamp = |t: &str| from_text(t).map(|t: DateTime<Utc>| t.timestamp() as f64);
    metric(
        "last_run_timestamp_seconds",
        "When the last run of each kind ended (Unix time).",
        per_kind(&|r| r.finished_at.as_deref().and_then(stamp)),
    );
    metric(
        "last_run_success",
        "1 when the last run of each kind ended well, else 0.",
        per_kind(&|r| Some(f64::from(u8::from(r.outcome.as_deref() == Some("ok"))))),
    );
    metric(
        "last_run_exit_code",
        "The exit code of the last run of each kind.",
        per_kind(&|r| r.exit_code.map(f64::from)),
    );
    metric(
        "last_run_duration_seconds",
        "How long the last run of each kind took.",
        per_kind(&|r| {
            let start = stamp(&r.started_at)?;
            let end = r.finished_at.as_deref().and_then(stamp)?;
            Some(end - start)
        }),
    );
    metric(
        "last_run_orders_checked",
        "Orders the last run of each kind looked at.",
        per_kind(&|r| Some(r.checked as f64)),
    );
    metric(
        "last_run_orders_updated",
        "Orders the last run of each kind changed.",
        per_kind(&|r| Some(r.updated as f64)),
    );
    metric(
        "last_run_orders_failed",
        "Orders the last run of each kind failed on.",
        per_kind(&|r| Some(r.failed as f64)),
    );
    metric(
        "last_run_round_trips",
        "Round trips to Odoo of the last run of each kind.",
        per_kind(&|r| Some(r.round_trips as f64)),
    );
    metric(
        "last_success_timestamp_seconds",
        "When a sync last ended well (Unix time).",
        status
            .last_successful_sync
            .as_deref()
            .and_then(stamp)
            .map(|v| vec![(String::new(), v)])
            .unwrap_or_default(),
    );
    metric(
        "pending_intents",
        "Creates whose outcome is not known yet.",
        vec![(String::new(), status.pending_intents as f64)],
    );
    metric(
        "open_conflicts",
        "Amount changes held for review.",
        vec![(String::new(), status.open_conflicts as f64)],
    );
    metric(
        "outbox_queued_orders",
        "Orders waiting in the outbox for orders flush.",
        vec![(String::new(), status.queued_orders as f64)],
    );
    metric(
        "outbox_oldest_age_seconds",
        "Seconds since the oldest queued order was taken (0 when none waits).",
        vec![(
            String::new(),
            status.oldest_queued_order_age_s.unwrap_or(0) as f64,
        )],
    );
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |e: std::io::Error| Error::Failed {
        message: format!("cannot write the metrics file {}: {e}", path.display()),
        hint: Some("check the folder exists and is writable".into()),
    };
    let mut tmp = tempfile_in(dir).map_err(io)?;
    tmp.1.write_all(text.as_bytes()).map_err(io)?;
    tmp.1.sync_all().map_err(io)?;
    std::fs::rename(&tmp.0, path).map_err(io)?;
    Ok(())
}

/// A new file next to the target, named so that collectors (which read `*.prom`) skip it.
fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = format!(
        ".orderbridge-metrics-{}-{}.tmp",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_with_their_unit() {
        assert_eq!(parse_age("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_age("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_age("1d").unwrap(), Duration::from_secs(86_400));
        assert!(parse_age("2 hours").is_err());
    }
}
