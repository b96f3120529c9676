-- 0003: run history. One row per sync, flush or dedupe run: when, how it ended, what it did.
-- `orderbridge status` and the metrics file read it; monitoring alerts on its age.
CREATE TABLE IF NOT EXISTS orderbridge_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,     -- sync-amounts, sync-status, dedupe
    started_at  TEXT NOT NULL,
    finished_at TEXT,              -- NULL while running (or if the process died)
    outcome     TEXT,              -- ok, failed, odoo_unavailable, error
    exit_code   INTEGER,
    checked     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    round_trips INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS orderbridge_runs_kind_started_at ON orderbridge_runs (kind, started_at);
