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
}

const COLS: &str = "kind, started_at, finished_at, outcome, exit_code, checked, updated, failed, round_trips, error";

fn row(r: &Row<'_>) -> Result<Run> {
    Ok(Run {
        kind: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        outcome: r.get(3)?,
        exit_code: r.get(4)?,
        checked: r.get::<i64>(5)? as u64,
        updated: r.get::<i64>(6)? as u64,
        failed: r.get::<i64>(7)? as u64,
        round_trips: r.get::<i64>(8)? as u64,
        error: r.get(9)?,
    })
}

impl Store {
    /// Records that a run of `kind` starts; returns its id.
    pub(crate) fn start_run(&self, kind: &str) -> Result<i64> {
        self.one(
            "INSERT INTO runs (kind, started_at) VALUES (?1, ?2) RETURNING id",
            args![kind, now_text()],
            |r| r.get(0),
        )
    }

    pub(crate) fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()> {
        self.exec(
            "UPDATE runs SET finished_at = ?2, outcome = ?3, exit_code = ?4, checked = ?5,
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
                "SELECT {COLS} FROM runs r WHERE id = (SELECT MAX(id) FROM runs WHERE kind = r.kind) ORDER BY kind"
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
                "SELECT MAX(finished_at) FROM runs WHERE outcome = 'ok' AND kind IN ({placeholders})"
            ),
            &args,
            |r| r.get::<Option<String>>(0),
        )
    }
}
