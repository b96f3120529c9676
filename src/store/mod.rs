//! The local store: a SQLite file (the embedded default) or a PostgreSQL database (for
//! portals on several hosts), behind one interface. Every SQL statement of the crate lives
//! under this module, written once in the SQL both engines share ([`db`]).
//!
//! Opening a SQLite file checks it before touching it (a corrupt file, a schema newer than
//! this binary, or a legacy table with duplicates is reported and left byte-for-byte as it
//! was), then switches to WAL with a busy timeout so that an operator's run and cron's run
//! wait for each other. Either backend applies the numbered migrations in one transaction.

pub(crate) mod claims;
pub(crate) mod conflicts;
pub(crate) mod copy;
pub(crate) mod customers;
pub(crate) mod db;
pub(crate) mod dedupe;
pub(crate) mod details;
pub(crate) mod events;
pub(crate) mod held;
pub(crate) mod intents;
pub mod location;
pub(crate) mod lock;
pub(crate) mod logins;
mod mysql;
pub(crate) mod orders;
pub(crate) mod runs;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use db::{Arg, Conn, Dialect, MyConn, Origin, PgConn, Row, args, classify_lite};
pub use location::Location;

/// The numbered migrations, in order: migration `n` brings the schema from `n - 1` to `n`
/// (SQLite's `user_version`; PostgreSQL's `orderbridge_schema_migrations` table).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_intent_sent_at.sql"),
    include_str!("../../migrations/0003_runs.sql"),
    include_str!("../../migrations/0004_sync_cursor.sql"),
    include_str!("../../migrations/0005_odoo_write_date.sql"),
    include_str!("../../migrations/0006_outbox.sql"),
    include_str!("../../migrations/0007_amount_conflicts.sql"),
    include_str!("../../migrations/0008_order_date_runs_logins.sql"),
    include_str!("../../migrations/0009_prefixed_tables.sql"),
    include_str!("../../migrations/0010_timestamptz.sql"),
    include_str!("../../migrations/0011_order_details.sql"),
    include_str!("../../migrations/0012_events.sql"),
];

/// The same migrations in PostgreSQL's dialect (`numeric` money, identity ids).
const PG_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_intent_sent_at.sql"),
    include_str!("../../migrations/postgres/0003_runs.sql"),
    include_str!("../../migrations/postgres/0004_sync_cursor.sql"),
    include_str!("../../migrations/postgres/0005_odoo_write_date.sql"),
    include_str!("../../migrations/postgres/0006_outbox.sql"),
    include_str!("../../migrations/postgres/0007_amount_conflicts.sql"),
    include_str!("../../migrations/postgres/0008_order_date_runs_logins.sql"),
    include_str!("../../migrations/postgres/0009_prefixed_tables.sql"),
    include_str!("../../migrations/postgres/0010_timestamptz.sql"),
    include_str!("../../migrations/postgres/0011_order_details.sql"),
    include_str!("../../migrations/postgres/0012_events.sql"),
];

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The same for MySQL / MariaDB, whose support began at version 9: step 1 makes the whole
/// schema, the others are empty.
const MY_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/mysql/0001_schema.sql"),
    include_str!("../../migrations/mysql/0002_empty.sql"),
    include_str!("../../migrations/mysql/0003_empty.sql"),
    include_str!("../../migrations/mysql/0004_empty.sql"),
    include_str!("../../migrations/mysql/0005_empty.sql"),
    include_str!("../../migrations/mysql/0006_empty.sql"),
    include_str!("../../migrations/mysql/0007_empty.sql"),
    include_str!("../../migrations/mysql/0008_empty.sql"),
    include_str!("../../migrations/mysql/0009_empty.sql"),
    include_str!("../../migrations/mysql/0010_empty.sql"),
    include_str!("../../migrations/mysql/0011_order_details.sql"),
    include_str!("../../migrations/mysql/0012_events.sql"),
];

const _: () = assert!(MIGRATIONS.len() == PG_MIGRATIONS.len());
const _: () = assert!(MIGRATIONS.len() == MY_MIGRATIONS.len());

/// The portal's customers table unless told otherwise (`ORDERBRIDGE_CUSTOMERS_TABLE`).
pub(crate) const DEFAULT_CUSTOMERS: &str = "customers";

/// Advisory lock keys (PostgreSQL): the namespace `'ob'`, then what is locked.
pub(crate) const LOCK_NAMESPACE: i32 = 0x6f62;
/// Held by each write transaction, so that writes queue as they do on SQLite.
const WRITE_LOCK: i32 = 1;

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
    #[error("cannot reach the PostgreSQL database {url}: {detail}; nothing was changed")]
    Unreachable { url: String, detail: String },
    /// The connection went away while in use: the statement under way was rolled back,
    /// what was committed before it stays (the command says how much).
    #[error(
        "lost the connection to the PostgreSQL database {url}: {detail}; the write under way was rolled back"
    )]
    Lost { url: String, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot open {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("database error: {0}")]
    Database(String),
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
            StoreError::Lost { .. } => {
                "check that the server is up (it may have restarted or closed the connection)"
            }
            StoreError::Unreachable { .. } => {
                "check that the server is up and the URL's host, port, user, password and database name (ORDERBRIDGE_DATABASE)"
            }
            StoreError::NotFound(_) | StoreError::Conflict(_) => return None,
            StoreError::Io { .. } => "check the path and its parent folder",
            StoreError::Database(_) => {
                "run again with -v; if it persists, keep a copy of the database for analysis"
            }
        })
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open store.
pub struct Store {
    pub(crate) db: Conn,
    origin: Origin,
    /// Where it was opened, to open it again (a run whose connection was lost records its
    /// end on a new one).
    location: Location,
    /// The portal's table of customers (`customers`, or Laravel's `users`).
    pub(crate) customers: String,
    /// A transaction is open on the connection ([`Store::begin`]).
    in_tx: std::cell::Cell<bool>,
}

/// UTC now as stored: `YYYY-MM-DD HH:MM:SS`.
/// Ids for an `IN (...)`: integers only, so inlined safely, one statement for the lot.
pub(crate) fn int_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

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
/// A stored UTC time as RFC 3339 text (as [`rfc3339`] serializes it).
pub(crate) fn rfc3339_text(t: &str) -> String {
    match from_text(t) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => t.to_string(),
    }
}

pub(crate) fn rfc3339<S: serde::Serializer>(t: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    match from_text(t) {
        // Whole seconds as `...:47Z`; a stamp with microseconds keeps them.
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
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
    /// Opens (creating a SQLite file if needed) and migrates the store.
    pub fn open(location: &Location, busy: Duration) -> Result<Store> {
        Self::open_with(location, busy, Migrate::Yes)
    }

    pub fn open_with(location: &Location, busy: Duration, migrate: Migrate) -> Result<Store> {
        match location {
            Location::File(path) => Self::open_file(path, busy, migrate),
            Location::Postgres(url) => {
                let store = Store {
                    db: Conn::Pg(Box::new(std::cell::RefCell::new(PgConn::connect(
                        url, busy,
                    )?))),
                    origin: Origin::server(url, busy),
                    location: location.clone(),
                    customers: DEFAULT_CUSTOMERS.into(),
                    in_tx: Default::default(),
                };
                store.migrate_if(migrate)?;
                Ok(store)
            }
            Location::Mysql(url) => {
                let store = Store {
                    db: Conn::My(Box::new(std::cell::RefCell::new(MyConn::connect(
                        url, busy,
                    )?))),
                    origin: Origin::mysql(url, busy),
                    location: location.clone(),
                    customers: DEFAULT_CUSTOMERS.into(),
                    in_tx: Default::default(),
                };
                store.migrate_if(migrate)?;
                Ok(store)
            }
        }
    }

    /// A server's store: refused when newer than this binary, migrated when older (if asked).
    fn migrate_if(&self, migrate: Migrate) -> Result<()> {
        let version = self.user_version()?;
        self.refuse_newer(version)?;
        if migrate == Migrate::Yes && version < SCHEMA_VERSION {
            self.migrate()?;
        }
        Ok(())
    }

    fn open_file(path: &Path, busy: Duration, migrate: Migrate) -> Result<Store> {
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
        let origin = Origin::file(path, busy);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| classify_lite(&origin, e))?;
        conn.busy_timeout(busy)
            .map_err(|e| classify_lite(&origin, e))?;
        let store = Store {
            db: Conn::Lite(conn),
            origin,
            location: Location::File(path.to_path_buf()),
            customers: DEFAULT_CUSTOMERS.into(),
            in_tx: Default::default(),
        };
        // Read before writing anything: a damaged or foreign file must stay as it is.
        let version = store.user_version()?;
        store.refuse_newer(version)?;
        if exists {
            // Reads the schema page: a damaged or foreign file fails here, unmodified.
            store.one("SELECT COUNT(*) FROM sqlite_master", &[], |r| {
                r.get::<i64>(0)
            })?;
        }
        if migrate == Migrate::Yes && version < SCHEMA_VERSION {
            store.migrate()?;
        }
        if migrate == Migrate::Yes || version == SCHEMA_VERSION || !exists {
            // WAL lets readers and one writer work at once; it persists in the file.
            let mode: String = store.one("PRAGMA journal_mode=WAL", &[], |r| r.get(0))?;
            tracing::debug!(journal_mode = %mode, "store opened");
        }
        store.batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
        Ok(store)
    }

    fn refuse_newer(&self, version: i64) -> Result<()> {
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.origin.shown.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// The same store on a new connection (migrated already), for when this one was lost.
    pub(crate) fn reopen(&self) -> Result<Store> {
        let mut store = Self::open_with(&self.location, self.origin.busy, Migrate::No)?;
        store.customers = self.customers.clone();
        Ok(store)
    }

    /// Uses the portal's own table of customers (`users` in the seeds' second form): it gets
    /// the one column orderbridge needs, `odoo_partner_id` (nullable), and its unique index;
    /// nothing else of it is touched. `customers` is the schema's own table.
    pub(crate) fn with_customers(mut self, table: &str) -> Result<Store> {
        if table != DEFAULT_CUSTOMERS {
            if !self.table_exists(table)? {
                return Err(StoreError::NotFound(format!(
                    "the customers table '{table}' (ORDERBRIDGE_CUSTOMERS_TABLE) does not exist in {}",
                    self.origin.shown
                )));
            }
            if !self.column_exists(table, "odoo_partner_id")? {
                let decl = match self.dialect() {
                    Dialect::Sqlite => "INTEGER",
                    Dialect::Postgres => "BIGINT",
                    Dialect::Mysql => "BIGINT NULL",
                };
                self.batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN odoo_partner_id {decl}"
                ))?;
            }
            match self.dialect() {
                Dialect::Mysql => self.ensure_index(
                    table,
                    &format!("{table}_odoo_partner_id_unique"),
                    "odoo_partner_id",
                    true,
                )?,
                _ => self.batch(&format!(
                    "CREATE UNIQUE INDEX IF NOT EXISTS {table}_odoo_partner_id_unique ON {table} (odoo_partner_id)"
                ))?,
            }
        }
        self.customers = table.to_string();
        Ok(self)
    }

    /// Whether `table` has `column`.
    pub(crate) fn column_exists(&self, table: &str, column: &str) -> Result<bool> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(self
                .columns(table)?
                .iter()
                .any(|c| c.eq_ignore_ascii_case(column)));
        }
        let schema = match self.dialect() {
            Dialect::Mysql => "DATABASE()",
            _ => "current_schema()",
        };
        Ok(self
            .first(
                &format!(
                    "SELECT 1 FROM information_schema.columns
                     WHERE table_schema = {schema} AND table_name = ?1 AND column_name = ?2"
                ),
                args![table, column],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// Test failpoint: the server ends this session, as a restart or a network cut would.
    pub(crate) fn lose_connection(&self) {
        if crate::failpoint::armed("sync-lose-store-after-chunk")
            && self.dialect() == Dialect::Postgres
        {
            let _ = self.batch("SELECT pg_terminate_backend(pg_backend_pid())");
        }
    }

    /// Which engine this store runs on.
    pub(crate) fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Where the store is, as shown to users (a server's password hidden).
    pub(crate) fn shown(&self) -> &str {
        &self.origin.shown
    }

    /// Checks every page of a SQLite file (`PRAGMA quick_check`): a damaged store is
    /// reported before anything is written into it, or sent to Odoo. About 0.2 s for
    /// 100,000 orders. A PostgreSQL server checks its own pages as it reads them.
    pub fn verify(&self) -> Result<()> {
        match self.db.lite() {
            Some(conn) => verify_conn(conn, &self.origin),
            None => Ok(()),
        }
    }

    /// [`Store::verify`] on a connection of its own, so that it can run on another thread
    /// while the network is busy.
    pub fn verify_location(location: &Location, busy: Duration) -> Result<()> {
        let Location::File(path) = location else {
            return Ok(());
        };
        let origin = Origin::file(path, busy);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| classify_lite(&origin, e))?;
        conn.busy_timeout(busy)
            .map_err(|e| classify_lite(&origin, e))?;
        verify_conn(&conn, &origin)
    }

    /// Starts a write transaction at once, so that concurrent writers queue (up to the busy
    /// timeout) instead of failing halfway: SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a
    /// transaction-scoped advisory lock that every write transaction takes, so that a
    /// read-then-write in one transaction means the same on both.
    pub(crate) fn write_tx(&self) -> Result<WriteTx<'_>> {
        let tx = self.begin(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::Mysql => "START TRANSACTION",
        })?;
        match self.dialect() {
            Dialect::Sqlite => {}
            Dialect::Postgres => {
                self.exec(
                    "SELECT pg_advisory_xact_lock(?1, ?2)",
                    args![LOCK_NAMESPACE, WRITE_LOCK],
                )?;
            }
            Dialect::Mysql => {
                // The lock row: held until the transaction ends, waited for up to the busy
                // timeout (innodb_lock_wait_timeout).
                self.first(
                    "SELECT name FROM orderbridge_locks WHERE name = 'write' FOR UPDATE",
                    &[],
                    |_| Ok(()),
                )?;
            }
        }
        Ok(tx)
    }

    /// A transaction that does not queue behind other writers on PostgreSQL: for work that
    /// locks only its own rows (outbox claims with `FOR UPDATE SKIP LOCKED`).
    pub(crate) fn row_tx(&self) -> Result<WriteTx<'_>> {
        self.begin(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::Mysql => "START TRANSACTION",
        })
    }

    /// Opens the connection's one transaction. A second one while it is open is refused:
    /// PostgreSQL would only warn and carry on inside the first, MySQL would commit it.
    fn begin(&self, sql: &str) -> Result<WriteTx<'_>> {
        if self.in_tx.replace(true) {
            return Err(StoreError::Database(
                "a transaction was begun inside another on one connection (a bug: nothing was written by the inner one)".into(),
            ));
        }
        let tx = WriteTx {
            store: self,
            done: false,
        };
        self.batch(sql)?;
        Ok(tx)
    }

    /// Whether a write would succeed now: takes the write lock (waiting up to the busy
    /// timeout) and runs a write that changes nothing, then rolls back. A read-only file,
    /// server or transaction fails here as it would on a real write.
    pub(crate) fn probe_writable(&self) -> Result<()> {
        let _tx = self.write_tx()?;
        self.exec("DELETE FROM orderbridge_runs WHERE 1 = 0", &[])?;
        Ok(())
    }

    /// Runs `f` in one write transaction: committed if it succeeds, rolled back if not.
    pub(crate) fn in_write_tx<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let tx = self.write_tx()?;
        let out = f(self)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs one statement; returns how many rows it changed.
    pub(crate) fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
        self.db.execute(&self.origin, sql, args)
    }

    /// Runs an INSERT and returns the new row's id (`RETURNING id`; MySQL's insert id).
    pub(crate) fn insert_id(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64> {
        self.insert_returning(sql, None, args)?
            .ok_or_else(|| StoreError::Database("the insert made no row".into()))
    }

    /// Runs an INSERT into a table with an `id` that makes nothing when the unique key
    /// `unique` (its columns) already holds the row: the new id, or `None` when it was there.
    pub(crate) fn insert_id_unless(
        &self,
        sql: &str,
        unique: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<i64>> {
        self.insert_returning(sql, Some(unique), args)
    }

    /// [`Store::insert_id_unless`] for a table without an `id`: whether it made the row.
    pub(crate) fn insert_unless(&self, sql: &str, unique: &str, args: &[Arg<'_>]) -> Result<bool> {
        if self.dialect() == Dialect::Mysql {
            return Ok(self.db.insert_my(&self.origin, sql, args)?.is_some());
        }
        Ok(self.exec(&format!("{sql} ON CONFLICT ({unique}) DO NOTHING"), args)? == 1)
    }

    fn insert_returning(
        &self,
        sql: &str,
        unique: Option<&str>,
        args: &[Arg<'_>],
    ) -> Result<Option<i64>> {
        if self.dialect() == Dialect::Mysql {
            return Ok(self
                .db
                .insert_my(&self.origin, sql, args)?
                .map(|id| id as i64));
        }
        let sql = match unique {
            Some(k) => format!("{sql} ON CONFLICT ({k}) DO NOTHING RETURNING id"),
            None => format!("{sql} RETURNING id"),
        };
        self.first(&sql, args, |r| r.get(0))
    }

    /// Statements without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        self.db.batch(&self.origin, sql)
    }

    /// Every row of a query.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.db.query(&self.origin, sql, args, f)
    }

    /// The first row of a query, if any.
    pub(crate) fn first<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.db.query_opt(&self.origin, sql, args, f)
    }

    /// The one row of an aggregate query.
    pub(crate) fn one<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.db.query_one(&self.origin, sql, args, f)
    }

    pub(crate) fn lite_err(&self, e: rusqlite::Error) -> StoreError {
        classify_lite(&self.origin, e)
    }

    /// The schema version: SQLite's `user_version`, PostgreSQL's and MySQL's highest
    /// applied migration.
    pub fn user_version(&self) -> Result<i64> {
        match self.dialect() {
            Dialect::Sqlite => self.one("PRAGMA user_version", &[], |r| r.get(0)),
            Dialect::Mysql => self.mysql_version(),
            Dialect::Postgres => {
                // Before migration 9 the table had no prefix.
                let table = if self.table_exists("orderbridge_schema_migrations")? {
                    "orderbridge_schema_migrations"
                } else if self.ours_unprefixed_migrations()? {
                    "schema_migrations"
                } else {
                    return Ok(0);
                };
                self.one(
                    &format!("SELECT COALESCE(MAX(version), 0) FROM {table}"),
                    &[],
                    |r| r.get(0),
                )
            }
        }
    }

    /// A `schema_migrations` table of orderbridge's from before migration 9 (its columns
    /// tell it from another tool's table of that name).
    fn ours_unprefixed_migrations(&self) -> Result<bool> {
        Ok(self
            .first(
                "SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'schema_migrations'
                   AND column_name = 'applied_at'",
                &[],
                |_| Ok(()),
            )?
            .is_some())
    }

    pub(crate) fn table_exists(&self, name: &str) -> Result<bool> {
        let sql = match self.dialect() {
            Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            Dialect::Postgres => "SELECT 1 WHERE to_regclass(?1) IS NOT NULL",
            Dialect::Mysql => {
                "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?1"
            }
        };
        Ok(self.first(sql, args![name], |_| Ok(()))?.is_some())
    }

    /// A SQLite table's column names (legacy tables, dedupe's archive).
    fn columns(&self, table: &str) -> Result<Vec<String>> {
        self.all(&format!("PRAGMA table_info({table})"), &[], |r| {
            r.get("name")
        })
    }

    /// Duplicate `odoo_order_id` groups and the rows in them.
    pub(crate) fn duplicate_counts(&self) -> Result<(u64, u64)> {
        if !self.table_exists("sales_orders")? {
            return Ok((0, 0));
        }
        self.one(
            "SELECT COUNT(*) AS dup_groups, COALESCE(SUM(n), 0) AS dup_rows FROM (SELECT COUNT(*) AS n FROM sales_orders
             WHERE odoo_order_id IS NOT NULL GROUP BY odoo_order_id HAVING COUNT(*) > 1) AS g",
            &[],
            |r| {
                Ok((
                    r.get::<i64>("dup_groups")? as u64,
                    r.get::<i64>("dup_rows")? as u64,
                ))
            },
        )
    }

    /// Brings an older store (empty, or a portal's legacy tables) up to the current schema,
    /// all or nothing: every migration after the store's version, in one transaction (on
    /// PostgreSQL under the write lock, so that hosts opening a new database at once apply
    /// each migration once).
    pub fn migrate(&self) -> Result<()> {
        if self.dialect() == Dialect::Mysql {
            // MySQL commits each schema change: its steps are not one transaction.
            return self.migrate_mysql();
        }
        let tx = self.write_tx()?;
        match self.dialect() {
            Dialect::Mysql => {}
            Dialect::Sqlite => {
                let from = self.user_version()?;
                if from == 0 {
                    self.adapt_legacy_tables()?;
                }
                self.prefix_unprefixed_tables(from)?;
                for (i, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
                    self.batch(sql)?;
                    self.batch(&format!("PRAGMA user_version = {}", i + 1))?;
                }
                // dedupe's archive is made on first use, not by a migration: renamed here.
                self.adopt_legacy_archive()?;
            }
            Dialect::Postgres => {
                if self.ours_unprefixed_migrations()?
                    && !self.table_exists("orderbridge_schema_migrations")?
                {
                    self.batch(
                        "ALTER TABLE schema_migrations RENAME TO orderbridge_schema_migrations",
                    )?;
                }
                self.batch(
                    "CREATE TABLE IF NOT EXISTS orderbridge_schema_migrations (
                       version    BIGINT PRIMARY KEY,
                       applied_at TEXT NOT NULL
                     )",
                )?;
                let from = self.user_version()?;
                if from == 0 {
                    self.adopt_portal_tables_pg()?;
                }
                self.prefix_unprefixed_tables(from)?;
                for (i, sql) in PG_MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
                    self.batch(sql)?;
                    // Not a prepared statement: a step may change the column's type.
                    self.batch(&format!(
                        "INSERT INTO orderbridge_schema_migrations (version, applied_at) VALUES ({}, now())",
                        i + 1
                    ))?;
                }
            }
        }
        tx.commit()
    }

    /// A store made before migration 9 (at version `from`, 1 to 8) has orderbridge's tables
    /// without their prefix: they are renamed in place, with their indexes and constraint,
    /// before the steps it still lacks (which know only the new names). Which tables it has
    /// follows from its version: migration n made them.
    fn prefix_unprefixed_tables(&self, from: i64) -> Result<()> {
        if !(1..9).contains(&from) {
            return Ok(());
        }
        for (made_by, table) in UNPREFIXED_TABLES {
            let new = format!("orderbridge_{table}");
            if from >= *made_by && self.table_exists(table)? && !self.table_exists(&new)? {
                self.batch(&format!("ALTER TABLE {table} RENAME TO {new}"))?;
            }
        }
        for (made_by, index, table, columns) in UNPREFIXED_INDEXES {
            if from < *made_by {
                continue;
            }
            self.batch(&match self.dialect() {
                Dialect::Sqlite => format!(
                    "DROP INDEX IF EXISTS {index}; CREATE INDEX IF NOT EXISTS orderbridge_{index} ON orderbridge_{table} {columns}"
                ),
                Dialect::Postgres | Dialect::Mysql => {
                    format!("ALTER INDEX IF EXISTS {index} RENAME TO orderbridge_{index}")
                }
            })?;
        }
        if self.dialect() == Dialect::Postgres
            && self
                .first(
                    "SELECT 1 FROM pg_constraint WHERE conname = 'order_intents_state_check'",
                    &[],
                    |_| Ok(()),
                )?
                .is_some()
        {
            self.batch(
                "ALTER TABLE orderbridge_order_intents RENAME CONSTRAINT order_intents_state_check TO orderbridge_order_intents_state_check",
            )?;
        }
        Ok(())
    }

    /// A portal's own tables in a PostgreSQL database (a Laravel pgsql app's): the columns
    /// of the first schema they lack are added, nullable or with a default; nothing of
    /// theirs is dropped, renamed or retyped; duplicates are refused before the unique index.
    fn adopt_portal_tables_pg(&self) -> Result<()> {
        self.adopt_portal_tables(PG_PORTAL_COLUMNS)
    }

    /// Legacy tables: add what the first schema has and they lack, and refuse duplicates
    /// (the unique index would fail on them).
    fn adapt_legacy_tables(&self) -> Result<()> {
        // Dropping the transaction rolls back the columns added, when duplicates refuse it.
        self.adopt_portal_tables(LEGACY_COLUMNS)
    }

    /// A portal's own tables, in any engine: the columns of `spec` they lack are added (each
    /// declared so that a table with rows takes it), nothing of theirs is touched; then
    /// duplicates of `odoo_order_id` are refused, before its unique index.
    pub(crate) fn adopt_portal_tables(&self, spec: &[(&str, &[(&str, &str)])]) -> Result<()> {
        for (table, cols) in spec {
            if !self.table_exists(table)? {
                continue;
            }
            for (name, decl) in *cols {
                if !self.column_exists(table, name)? {
                    self.batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {decl}"))?;
                }
            }
        }
        let (groups, rows) = self.duplicate_counts()?;
        if groups > 0 {
            return Err(StoreError::LegacyDuplicates { groups, rows });
        }
        Ok(())
    }
}

fn verify_conn(conn: &Connection, origin: &Origin) -> Result<()> {
    let problems = (|| -> rusqlite::Result<Vec<String>> {
        let mut st = conn.prepare("PRAGMA quick_check(5)")?;
        st.query_map([], |r| r.get::<_, String>(0))?.collect()
    })()
    .map_err(|e| classify_lite(origin, e))?;
    match problems.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        _ => Err(StoreError::Corrupt {
            path: origin.shown.clone(),
            detail: format!("damaged pages: {}", problems.join("; ")),
        }),
    }
}

/// A write transaction; rolled back when dropped uncommitted. One at a time per connection:
/// a second is refused while it is open.
pub(crate) struct WriteTx<'a> {
    store: &'a Store,
    done: bool,
}

impl WriteTx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        self.store.in_tx.set(false);
        self.store.batch("COMMIT")
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.store.in_tx.set(false);
            let _ = self.store.batch("ROLLBACK");
        }
    }
}

/// orderbridge's tables as stores made before migration 9 named them, with the migration
/// that made each.
const UNPREFIXED_TABLES: &[(i64, &str)] = &[
    (1, "order_intents"),
    (3, "runs"),
    (4, "sync_cursors"),
    (7, "amount_conflicts"),
    (8, "odoo_logins"),
];

/// Their indexes: (made by, index, table, columns).
const UNPREFIXED_INDEXES: &[(i64, &str, &str, &str)] = &[
    (3, "runs_kind_started_at", "runs", "(kind, started_at)"),
    (
        6,
        "order_intents_state_created_at",
        "order_intents",
        "(state, created_at)",
    ),
    (
        7,
        "amount_conflicts_order_state",
        "amount_conflicts",
        "(order_id, state)",
    ),
];

/// What the first PostgreSQL schema has of the portal's tables, as a table that lacks a
/// column gets it.
const PG_PORTAL_COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "customers",
        &[
            ("name", "TEXT NOT NULL DEFAULT ''"),
            ("email", "TEXT NOT NULL DEFAULT ''"),
            ("odoo_partner_id", "BIGINT"),
            ("created_at", "TEXT"),
            ("updated_at", "TEXT"),
        ],
    ),
    (
        "sales_orders",
        &[
            ("customer_id", "BIGINT"),
            ("order_number", "TEXT"),
            ("odoo_order_id", "BIGINT"),
            ("total_amount", "NUMERIC NOT NULL DEFAULT 0"),
            ("odoo_amount_total", "NUMERIC"),
            ("currency", "TEXT NOT NULL DEFAULT 'USD'"),
            ("status", "TEXT NOT NULL DEFAULT 'pending'"),
            ("odoo_state", "TEXT"),
            ("idempotency_key", "TEXT"),
            ("note", "TEXT"),
            ("created_at", "TEXT"),
            ("updated_at", "TEXT"),
            ("last_synced_at", "TEXT"),
        ],
    ),
];

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

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> Store {
        let path = dir.path().join("t.db");
        Store::open(&Location::File(path), Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn a_transaction_inside_another_is_refused_and_the_outer_one_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        let outer = s.write_tx().unwrap();
        assert!(s.write_tx().is_err());
        assert!(s.row_tx().is_err());
        outer.commit().unwrap();
        // Once it ended, the next one opens.
        s.write_tx().unwrap().commit().unwrap();
    }

    #[test]
    fn a_transaction_dropped_uncommitted_frees_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        drop(s.write_tx().unwrap());
        s.write_tx().unwrap().commit().unwrap();
    }
}
