//! The run lock: one sync or flush at a time. On a SQLite store it is an OS lock on a file
//! beside the database (one host); on PostgreSQL a session advisory lock, on MySQL a named
//! lock (`GET_LOCK`, named after the database), each of which holds across every host sharing
//! the database and ends with the connection, so a killed run leaves none.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

use super::db::{Arg, MyConn, PgConn};
use super::{LOCK_NAMESPACE, Location, Result, StoreError};

/// Which lock: a sync or flush run's, or the event delivery's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockKind {
    /// One sync or flush at a time.
    Run,
    /// One `serve` delivers the portal's events at a time (in sequence, once per store).
    Events,
}

impl LockKind {
    /// The advisory lock key (with [`LOCK_NAMESPACE`]).
    fn key(self) -> i32 {
        match self {
            LockKind::Run => 2,
            LockKind::Events => 3,
        }
    }

    /// The named lock's prefix on MySQL, and the lock file's suffix on SQLite.
    fn name(self) -> &'static str {
        match self {
            LockKind::Run => "run",
            LockKind::Events => "events",
        }
    }
}

/// Held while a run works; released when dropped or when the process dies.
pub(crate) struct RunLock {
    _held: Held,
}

/// What holds the lock: the locked file, or the session that took the advisory lock. Never
/// read: holding it is the point.
#[allow(dead_code)]
enum Held {
    File(File),
    Pg(Box<PgConn>),
    My(Box<MyConn>),
}

/// The lock file of a SQLite store.
pub(crate) fn lock_file(db: &std::path::Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".sync-amounts.lock");
    db.with_file_name(name)
}

impl RunLock {
    /// Takes the run lock of the store at `location`, or `None` at once when another run
    /// holds it.
    pub(crate) fn try_acquire(location: &Location, busy: Duration) -> Result<Option<RunLock>> {
        Self::try_acquire_kind(location, busy, LockKind::Run)
    }

    /// Takes the lock `kind` of the store, or `None` at once when another process holds it.
    pub(crate) fn try_acquire_kind(
        location: &Location,
        busy: Duration,
        kind: LockKind,
    ) -> Result<Option<RunLock>> {
        match location {
            Location::File(db) => Self::try_file(&match kind {
                LockKind::Run => lock_file(db),
                LockKind::Events => {
                    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                    name.push(".events.lock");
                    db.with_file_name(name)
                }
            }),
            Location::Postgres(url) => {
                let mut conn = PgConn::connect(url, busy)?;
                let origin = super::db::Origin::server(url, busy);
                let got = conn.query_bool(
                    &origin,
                    "SELECT pg_try_advisory_lock(?1, ?2)",
                    &[Arg::Int(LOCK_NAMESPACE.into()), Arg::Int(kind.key().into())],
                )?;
                Ok(got.then_some(RunLock {
                    _held: Held::Pg(Box::new(conn)),
                }))
            }
            Location::Mysql(url) => {
                let mut conn = MyConn::connect(url, busy)?;
                let origin = super::db::Origin::mysql(url, busy);
                // Named locks are the server's, not the database's: the name carries it.
                let got = conn.query(
                    &origin,
                    "SELECT GET_LOCK(CONCAT('orderbridge.', ?1, '.', DATABASE()), 0)",
                    &[Arg::Text(kind.name().into())],
                    1,
                    |r| r.get::<Option<i64>>(0),
                )?;
                Ok(
                    (got.first().copied().flatten() == Some(1)).then_some(RunLock {
                        _held: Held::My(Box::new(conn)),
                    }),
                )
            }
        }
    }

    fn try_file(path: &std::path::Path) -> Result<Option<RunLock>> {
        // A lock file that cannot be made is a local storage problem (read-only disk, rights).
        let storage = |e: std::io::Error| StoreError::Io {
            path: path.display().to_string(),
            detail: format!("cannot create the run lock: {e}"),
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(storage)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock {
                _held: Held::File(file),
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(storage(e)),
        }
    }
}
