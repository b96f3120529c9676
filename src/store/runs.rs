//! Run history: one row per sync, flush or dedupe run, for `status` and the metrics file.

use super::db::{Arg, Row, args};
use super::{Result, Store, now_text};

/// How a run ended, in its own words and with its exit code.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunEnd {
    pub outcome: &'static str,
    pub exit_code: i32,
    pub checked: u64,
    pub updated: u64,
    pub failed: u64,
    pub round_trips: u64,
    pub error: Option<String>,
}

/// One recorded run.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Run {
    pub kind: String,
    #[serde(serialize_with = "super::rfc3339")]
    pub started_at: String,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub exit_code: Option<i32>,
    pub checked: u64,
    pub updated: u64,
    pub failed: u64,
    pub round_trips: u64,
    pub error: Option<String>,
    /// The host and process that ran it.
    pub host: Option<String>,
    pub pid: Option<i64>,
    /// `finished`, `running`, `died` (its process is gone and it never finished), or
    /// `unknown` (unfinished, on another host: its process cannot be checked from here).
    pub state: &'static str,
}

const COLS: &str = "kind, started_at, finished_at, outcome, exit_code, checked, updated, failed, round_trips, error, host, pid";

/// A run's state from its row: an unfinished run whose process is gone has died.
fn state_of(finished: bool, host: Option<&str>, pid: Option<i64>) -> &'static str {
    if finished {
        return "finished";
    }
    match (host, pid.and_then(|p| u32::try_from(p).ok())) {
        (Some(h), Some(pid)) => match super::claims::process_gone(h, pid) {
            Some(true) => "died",
            Some(false) => "running",
            None => "unknown",
        },
        // A row from before runs recorded their process.
        _ => "unknown",
    }
}

fn row(r: &Row<'_>) -> Result<Run> {
    Ok(Run {
        kind: r.get("kind")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        outcome: r.get("outcome")?,
        exit_code: r.get("exit_code")?,
        checked: r.get::<i64>("checked")? as u64,
        updated: r.get::<i64>("updated")? as u64,
        failed: r.get::<i64>("failed")? as u64,
        round_trips: r.get::<i64>("round_trips")? as u64,
        error: r.get("error")?,
        host: r.get("host")?,
        pid: r.get("pid")?,
        state: "finished",
    })
    .map(|mut run: Run| {
        run.state = state_of(run.finished_at.is_some(), run.host.as_deref(), run.pid);
        if run.state == "died" {
            run.outcome = Some("died".into());
        }
        run
    })
}

impl Store {
    /// Records that a run of `kind` starts, by this host and process; returns its id. Runs
    /// of this host left unfinished by a process that is gone are closed as died first.
    pub(crate) fn start_run(&self, kind: &str) -> Result<i64> {
        let host = super::claims::hostname();
        let open: Vec<(i64, Option<i64>)> = self.all(
            "SELECT id, pid FROM orderbridge_runs WHERE finished_at IS NULL AND host = ?1",
            args![host],
            |r| Ok((r.get("id")?, r.get("pid")?)),
        )?;
        for (id, pid) in open {
            if state_of(false, Some(&host), pid) == "died" {
                self.exec(
                    "UPDATE orderbridge_runs SET finished_at = ?2, outcome = 'died',
                       error = 'its process ended without recording an end (killed?)'
                     WHERE id = ?1 AND finished_at IS NULL",
                    args![id, now_text()],
                )?;
            }
        }
        self.insert_id(
            "INSERT INTO orderbridge_runs (kind, started_at, host, pid) VALUES (?1, ?2, ?3, ?4)",
            args![kind, now_text(), host, i64::from(std::process::id())],
        )
    }

    pub(crate) fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()> {
        self.exec(
            "UPDATE orderbridge_runs SET finished_at = ?2, outcome = ?3, exit_code = ?4, checked = ?5,
               updated = ?6, failed = ?7, round_trips = ?8, error = ?9 WHERE id = ?1",
            args![
                id,
                now_text(),
                end.outcome,
                end.exit_code,
                end.checked as i64,
                end.updated as i64,
                end.failed as i64,
                end.round_trips as i64,
                end.error
            ],
        )?;
        Ok(())
    }

    /// The latest run of each kind, by kind.
    pub(crate) fn last_runs(&self) -> Result<Vec<Run>> {
        self.all(
            &format!(
                "SELECT {COLS} FROM orderbridge_runs r WHERE id = (SELECT MAX(id) FROM orderbridge_runs WHERE kind = r.kind) ORDER BY kind"
            ),
            &[],
            row,
        )
    }

    /// When the last run of these kinds ended well.
    pub(crate) fn last_success(&self, kinds: &[&str]) -> Result<Option<String>> {
        let placeholders = (1..=kinds.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let args: Vec<Arg<'_>> = kinds.iter().map(|k| Arg::Text((*k).into())).collect();
        self.one(
            &format!(
                "SELECT MAX(finished_at) FROM orderbridge_runs WHERE outcome = 'ok' AND kind IN ({placeholders})"
            ),
            &args,
            |r| r.get::<Option<String>>(0),
        )
    }
}
