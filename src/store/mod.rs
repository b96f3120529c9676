//! The local SQLite store. Every SQL statement of the crate lives under this module.
//!
//! Opening checks the file before touching it (a corrupt file, a schema newer than this
//! binary, or a legacy table with duplicates is reported and left byte-for-byte as it was),
//! then switches to WAL with a busy timeout so that an operator's run and cron's run wait
//! for each other, and applies the migrations in one transaction.

pub(crate) mod claims;
pub(crate) mod conflicts;
pub(crate) mod customers;
pub(crate) mod dedupe;
pub(crate) mod intents;
pub(crate) mod orders;
pub(crate) mod runs;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

/// The numbered migrations, in order: migration `n` brings `user_version` from `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_intent_sent_at.sql"),
    include_str!("../../migrations/0003_runs.sql"),
    include_str!("../../migrations/0004_sync_cursor.sql"),
    include_str!("../../migrations/0005_odoo_write_date.sql"),
    include_str!("../../migrations/0006_outbox.sql"),
    include_str!("../../migrations/0007_amount_conflicts.sql"),
];

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {path} is locked by another orderbridge run (waited {waited_s}s)")]
    Locked { path: String, waited_s: u64 },
    #[error("{path} is not an orderbridge database, or is damaged ({detail})")]
    Corrupt { path: String, detail: String },
    #[error("the database {path} is read-only")]
    ReadOnly { path: String },
    #[error("the disk holding {path} is full; the write was rolled back")]
    DiskFull { path: String },
    #[error(
        "the database {path} has schema version {found}, newer than this orderbridge understands ({supported})"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "the legacy table sales_orders has {groups} odoo_order_id values stored more than once ({rows} rows in all); nothing was changed"
    )]
    LegacyDuplicates { groups: u64, rows: u64 },
    #[error("the database {path} (from {origin}) does not exist; nothing was done")]
    Missing { path: String, origin: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot open {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("database error: {0}")]
    Sqlite(String),
}

impl StoreError {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            StoreError::Locked { .. } => "another run is writing; try again when it has finished",
            StoreError::Corrupt { .. } => {
                "check --database / ORDERBRIDGE_DATABASE; restore the file from a backup if it is damaged"
            }
            StoreError::ReadOnly { .. } => "check the file's permissions and the disk",
            StoreError::DiskFull { .. } => "free space on that disk, then run the command again",
            StoreError::NewerSchema { .. } => {
                "upgrade orderbridge; this binary will not touch the file"
            }
            StoreError::LegacyDuplicates { .. } => {
                "review and remove them with `orderbridge orders dedupe`, then run `orderbridge db migrate`"
            }
            StoreError::Missing { .. } => {
                "check --database / ORDERBRIDGE_DATABASE (a cron job must name the portal's .env with --env-file); `orderbridge db migrate` creates a new database"
            }
            StoreError::NotFound(_) | StoreError::Conflict(_) => return None,
            StoreError::Io { .. } => "check the path and its parent folder",
            StoreError::Sqlite(_) => {
                "run again with -v; if it persists, keep a copy of the database for analysis"
            }
        })
    }
}

/// Maps a SQLite error onto what a user can act on.
fn classify(path: &Path, e: rusqlite::Error, busy: Duration) -> StoreError {
    let shown = path.display().to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: shown,
            waited_s: busy.as_secs(),
        },
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: shown,
            detail: e.to_string(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path: shown },
        Some(ErrorCode::DiskFull) => StoreError::DiskFull { path: shown },
        Some(ErrorCode::CannotOpen) => StoreError::Io {
            path: shown,
            detail: e.to_string(),
        },
        _ => StoreError::Sqlite(e.to_string()),
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open store.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    busy: Duration,
}

/// UTC now as stored: `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn now_text() -> String {
    to_text(Utc::now())
}

pub(crate) fn to_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn from_text(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|n| n.and_utc())
}

/// Serializes a stored UTC time (`YYYY-MM-DD HH:MM:SS`) as RFC 3339 (`...T...Z`); a value
/// that is not a time (a legacy row's) is kept as it is.
pub(crate) fn rfc3339<S: serde::Serializer>(t: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    match from_text(t) {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => s.serialize_str(t),
    }
}

pub(crate) fn rfc3339_opt<S: serde::Serializer>(
    t: &Option<String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// How `open` treats an older schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrate {
    /// Bring the file up to date (every command but dedupe).
    Yes,
    /// Leave the schema as it is (dedupe works on legacy files before the unique index).
    No,
}

impl Store {
    /// Opens (creating if needed) and migrates the store.
    pub fn open(path: &Path, busy: Duration) -> Result<Store> {
        Self::open_with(path, busy, Migrate::Yes)
    }

    pub fn open_with(path: &Path, busy: Duration, migrate: Migrate) -> Result<Store> {
        let exists = path.exists();
        if !exists {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                    path: path.display().to_string(),
                    detail: e.to_string(),
                })?;
            }
        } else if path.is_dir() {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                detail: "it is a directory".into(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(path, e, busy))?;
        conn.busy_timeout(busy)
            .map_err(|e| classify(path, e, busy))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            busy,
        };
        // Read before writing anything: a damaged or foreign file must stay as it is.
        let version = store.user_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.display().to_string(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if exists {
            // Reads the schema page: a damaged or foreign file fails here, unmodified.
            let probe: std::result::Result<i64, _> =
                store
                    .conn
                    .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0));
            probe.map_err(|e| store.err(e))?;
        }
        if migrate == Migrate::Yes && version < SCHEMA_VERSION {
            store.migrate()?;
        }
        if migrate == Migrate::Yes || version == SCHEMA_VERSION || !exists {
            // WAL lets readers and one writer work at once; it persists in the file.
            let mode: String = store
                .conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .map_err(|e| store.err(e))?;
            tracing::debug!(journal_mode = %mode, "store opened");
        }
        store
            .conn
            .execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

    /// Checks every page of the file (`PRAGMA quick_check`): a damaged store is reported
    /// before anything is written into it, or sent to Odoo. About 0.2 s for 100,000 orders.
    pub fn verify(&self) -> Result<()> {
        verify_conn(&self.conn, &self.path).map_err(|e| self.err(e))?
    }

    /// [`Store::verify`] on a connection of its own, so that it can run on another thread
    /// while the network is busy.
    pub fn verify_file(path: &Path, busy: Duration) -> Result<()> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(path, e, busy))?;
        conn.busy_timeout(busy)
            .map_err(|e| classify(path, e, busy))?;
        verify_conn(&conn, path).map_err(|e| classify(path, e, busy))?
    }

    /// Starts a write transaction at once (`BEGIN IMMEDIATE`), so that concurrent writers
    /// queue on the busy timeout instead of failing on a lock upgrade.
    pub(crate) fn write_tx(&self) -> Result<WriteTx<'_>> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        Ok(WriteTx {
            store: self,
            done: false,
        })
    }

    /// Runs `f` in one write transaction: committed if it succeeds, rolled back if not.
    pub(crate) fn in_write_tx<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let tx = self.write_tx()?;
        let out = f(self)?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e, self.busy)
    }

    pub fn user_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn table_exists(&self, name: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .map_err(|e| self.err(e))?;
        let cols = st
            .query_map([], |r| r.get::<_, String>(1))
            .map_err(|e| self.err(e))?;
        cols.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Duplicate `odoo_order_id` groups and the rows in them.
    pub(crate) fn duplicate_counts(&self) -> Result<(u64, u64)> {
        if !self.table_exists("sales_orders")? {
            return Ok((0, 0));
        }
        self.conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM sales_orders
                 WHERE odoo_order_id IS NOT NULL GROUP BY odoo_order_id HAVING COUNT(*) > 1)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| self.err(e))
    }

    /// Brings an older file (empty, or a portal's legacy tables) up to the current schema,
    /// all or nothing: every migration after the file's `user_version`, in one transaction.
    pub fn migrate(&self) -> Result<()> {
        let tx = self.write_tx()?;
        let from = self.user_version()?;
        if from == 0 {
            self.adapt_legacy_tables()?;
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
            self.conn.execute_batch(sql).map_err(|e| self.err(e))?;
            self.conn
                .execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(|e| self.err(e))?;
        }
        tx.commit()
    }

    /// Legacy tables: add what the first schema has and they lack, and refuse duplicates
    /// (the unique index would fail on them).
    fn adapt_legacy_tables(&self) -> Result<()> {
        // Legacy tables: add what the current schema has and they lack.
        for (table, cols) in LEGACY_COLUMNS {
            if !self.table_exists(table)? {
                continue;
            }
            let have = self.columns(table)?;
            for (name, decl) in *cols {
                if !have.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                    self.conn
                        .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {decl}"))
                        .map_err(|e| self.err(e))?;
                }
            }
        }
        let (groups, rows) = self.duplicate_counts()?;
        if groups > 0 {
            // Dropping the transaction rolls back the columns added above.
            return Err(StoreError::LegacyDuplicates { groups, rows });
        }
        Ok(())
    }
}

fn verify_conn(conn: &Connection, path: &Path) -> rusqlite::Result<Result<()>> {
    let mut st = conn.prepare("PRAGMA quick_check(5)")?;
    let problems: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(match problems.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        _ => Err(StoreError::Corrupt {
            path: path.display().to_string(),
            detail: format!("damaged pages: {}", problems.join("; ")),
        }),
    })
}

/// A write transaction; rolled back when dropped uncommitted.
pub(crate) struct WriteTx<'a> {
    store: &'a Store,
    done: bool,
}

impl WriteTx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        self.store
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| self.store.err(e))
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Columns the current schema adds to a legacy (Laravel) table, with declarations that
/// `ALTER TABLE ADD COLUMN` accepts on a table that already has rows.
const LEGACY_COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "customers",
        &[
            ("name", "TEXT NOT NULL DEFAULT ''"),
            ("email", "TEXT NOT NULL DEFAULT ''"),
            ("odoo_partner_id", "INTEGER"),
            ("created_at", "TEXT NOT NULL DEFAULT '1970-01-01 00:00:00'"),
            ("updated_at", "TEXT NOT NULL DEFAULT '1970-01-01 00:00:00'"),
        ],
    ),
    (
        "sales_orders",
        &[
            ("customer_id", "INTEGER"),
            ("order_number", "TEXT"),
            ("odoo_order_id", "INTEGER"),
            ("total_amount", "TEXT NOT NULL DEFAULT '0'"),
            ("odoo_amount_total", "TEXT"),
            ("currency", "TEXT NOT NULL DEFAULT 'USD'"),
            ("status", "TEXT NOT NULL DEFAULT 'pending'"),
            ("odoo_state", "TEXT"),
            ("idempotency_key", "TEXT"),
            ("note", "TEXT"),
            ("created_at", "TEXT NOT NULL DEFAULT '1970-01-01 00:00:00'"),
            ("updated_at", "TEXT NOT NULL DEFAULT '1970-01-01 00:00:00'"),
            ("last_synced_at", "TEXT"),
        ],
    ),
];
