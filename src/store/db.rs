//! One connection to any of the three engines, with the few operations the store needs:
//! statements are written once, in the SQL they share (`?N` placeholders; PostgreSQL gets
//! them as `$N`, MySQL as positional `?`), and rows are read through [`Row`] whatever the
//! engine. MySQL's session lives in [`mysql`].

mod mysql;
pub(crate) use self::mysql::MyConn;

/// A MySQL value as an integer (an id of a row read raw).
pub(crate) fn mysql_i64(v: &::mysql::Value) -> Result<i64> {
    self::mysql::as_i64(v).map_err(StoreError::Database)
}

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::location::{MyUrl, PgUrl};
use super::{Result, StoreError};

/// A statement parameter.
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(Cow<'a, str>),
    /// Money: decimal text in SQLite, `numeric` in PostgreSQL.
    Dec(Decimal),
    /// Arrays, for PostgreSQL's set-based statements (`unnest`) only.
    Ints(Vec<i64>),
    Bools(Vec<bool>),
    Texts(Vec<Option<String>>),
    Decs(Vec<Option<Decimal>>),
}

/// What can be a statement parameter.
pub(crate) trait ToArg {
    fn arg(&self) -> Arg<'_>;
}

impl ToArg for i64 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(*self)
    }
}
impl ToArg for i32 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}
impl ToArg for bool {
    fn arg(&self) -> Arg<'_> {
        Arg::Bool(*self)
    }
}
impl ToArg for str {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(Cow::Borrowed(self))
    }
}
impl ToArg for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(Cow::Borrowed(self))
    }
}
impl ToArg for Decimal {
    fn arg(&self) -> Arg<'_> {
        Arg::Dec(*self)
    }
}
impl<T: ToArg + ?Sized> ToArg for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}
impl<T: ToArg> ToArg for Option<T> {
    fn arg(&self) -> Arg<'_> {
        self.as_ref().map_or(Arg::Null, ToArg::arg)
    }
}

/// The parameters of a statement: `args![a, b]`.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$($crate::store::db::ToArg::arg(&$a)),*][..]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Arg::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Arg::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            Arg::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Arg::Dec(d) => ToSqlOutput::Owned(rusqlite::types::Value::Text(d.to_string())),
            Arg::Ints(_) | Arg::Bools(_) | Arg::Texts(_) | Arg::Decs(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "SQLite has no array parameters".into(),
                ));
            }
        })
    }
}

/// PostgreSQL infers each parameter's type from the statement: the value is written as the
/// type it asked for (an id compared with a text column is sent as text, as SQLite would).
impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let text_like = matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME);
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ if text_like => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer cannot be sent as {ty}").into()),
            },
            Arg::Bool(b) => match *ty {
                Type::BOOL => b.to_sql(ty, out),
                Type::INT8 => i64::from(*b).to_sql(ty, out),
                Type::INT4 => i32::from(*b).to_sql(ty, out),
                _ => Err(format!("a boolean cannot be sent as {ty}").into()),
            },
            Arg::Text(t) => match *ty {
                Type::NUMERIC => Decimal::from_str_exact(t)?.to_sql(ty, out),
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                _ => t.as_ref().to_sql(ty, out),
            },
            Arg::Dec(d) => match *ty {
                Type::NUMERIC => d.to_sql(ty, out),
                _ if text_like => d.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an amount cannot be sent as {ty}").into()),
            },
            Arg::Ints(v) => v.to_sql(ty, out),
            Arg::Bools(v) => v.to_sql(ty, out),
            Arg::Texts(v) => v.to_sql(ty, out),
            Arg::Decs(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A row being read, from any engine.
pub(crate) enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
    My(&'a ::mysql::Row),
}

/// How a column of a row is named: by name (`"total_amount"`, what a row mapping uses, so
/// that it cannot drift from its SELECT), or by position (the one value of an aggregate).
pub(crate) trait Column: Copy + std::fmt::Display {
    /// The column's position in `row`.
    fn index(self, row: &Row<'_>) -> std::result::Result<usize, String>;
}

impl Column for usize {
    fn index(self, _: &Row<'_>) -> std::result::Result<usize, String> {
        Ok(self)
    }
}

impl Column for &str {
    fn index(self, row: &Row<'_>) -> std::result::Result<usize, String> {
        let found = match row {
            Row::Lite(r) => r.as_ref().column_index(self).ok(),
            Row::Pg(r) => r
                .columns()
                .iter()
                .position(|c| c.name().eq_ignore_ascii_case(self)),
            Row::My(r) => r
                .columns_ref()
                .iter()
                .position(|c| c.name_str().eq_ignore_ascii_case(self)),
        };
        found.ok_or_else(|| "no such column in the row".to_string())
    }
}

impl Row<'_> {
    pub(crate) fn get<T: FromCell>(&self, column: impl Column) -> Result<T> {
        let got = column.index(self).and_then(|i| match self {
            Row::Lite(r) => r.get_ref(i).map_err(|e| e.to_string()).and_then(T::lite),
            Row::Pg(r) => T::pg(r, i),
            Row::My(r) => self::mysql::cell(r, i).and_then(T::my),
        });
        got.map_err(|e| StoreError::Database(format!("column {column}: {e}")))
    }
}

/// What a column can be read as.
pub(crate) trait FromCell: Sized {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String>;
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String>;
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String>;
}

fn pg_get<'a, T: FromSql<'a>>(r: &'a postgres::Row, i: usize) -> std::result::Result<T, String> {
    r.try_get::<_, T>(i).map_err(|e| e.to_string())
}

fn pg_type(r: &postgres::Row, i: usize) -> std::result::Result<Type, String> {
    r.columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| format!("no column {i}"))
}

/// A column's value as whatever it is, to tell NULL apart.
struct Raw;
impl<'a> FromSql<'a> for Raw {
    fn from_sql(
        _: &Type,
        _: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl FromCell for i64 {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        v.as_i64().map_err(|e| e.to_string())
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_type(r, i)? {
            Type::INT8 => pg_get(r, i),
            Type::INT4 => pg_get::<i32>(r, i).map(i64::from),
            Type::INT2 => pg_get::<i16>(r, i).map(i64::from),
            Type::BOOL => pg_get::<bool>(r, i).map(i64::from),
            Type::NUMERIC => pg_get::<Decimal>(r, i)?
                .to_i64()
                .ok_or_else(|| "not an integer".to_string()),
            t => Err(format!("{t} is not an integer")),
        }
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        self::mysql::as_i64(v)
    }
}

impl FromCell for i32 {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        i32::try_from(i64::lite(v)?).map_err(|e| e.to_string())
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        i32::try_from(i64::pg(r, i)?).map_err(|e| e.to_string())
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        i32::try_from(i64::my(v)?).map_err(|e| e.to_string())
    }
}

impl FromCell for bool {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        Ok(i64::lite(v)? != 0)
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_type(r, i)? {
            Type::BOOL => pg_get(r, i),
            _ => Ok(i64::pg(r, i)? != 0),
        }
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        Ok(i64::my(v)? != 0)
    }
}

impl FromCell for String {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Integer(i) => Ok(i.to_string()),
            other => Err(format!("{:?} is not text", other.data_type())),
        }
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_type(r, i)? {
            Type::NUMERIC => Ok(pg_get::<Decimal>(r, i)?.to_string()),
            Type::INT8 | Type::INT4 | Type::INT2 => Ok(i64::pg(r, i)?.to_string()),
            _ => pg_get(r, i),
        }
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        self::mysql::as_text(v)
    }
}

/// Money: decimal text or `numeric`, or a legacy SQLite REAL/INTEGER column.
impl FromCell for Decimal {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Integer(n) => Ok(Decimal::from(n)),
            // A legacy float column: its shortest decimal form is what the portal meant.
            ValueRef::Real(f) => Decimal::from_str_exact(&f.to_string()).map_err(|e| e.to_string()),
            ValueRef::Text(t) => crate::money::parse_wire_amount(&String::from_utf8_lossy(t))
                .map_err(|e| e.to_string()),
            ValueRef::Null => Err("NULL where an amount was expected".into()),
            ValueRef::Blob(_) => Err("a blob where an amount was expected".into()),
        }
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_type(r, i)? {
            Type::NUMERIC => pg_get(r, i),
            Type::INT8 | Type::INT4 | Type::INT2 => i64::pg(r, i).map(Decimal::from),
            _ => {
                crate::money::parse_wire_amount(&pg_get::<String>(r, i)?).map_err(|e| e.to_string())
            }
        }
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        self::mysql::as_decimal(v)
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::lite(v).map(Some),
        }
    }
    fn pg(r: &postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_get::<Option<Raw>>(r, i)? {
            None => Ok(None),
            Some(_) => T::pg(r, i).map(Some),
        }
    }
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String> {
        match v {
            ::mysql::Value::NULL => Ok(None),
            v => T::my(v).map(Some),
        }
    }
}

/// Which database engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// A PostgreSQL session and its prepared statements.
pub(crate) struct PgConn {
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub(crate) fn connect(url: &PgUrl, busy: Duration) -> Result<PgConn> {
        let mut client = blocking(|| postgres::Client::connect(url.secret(), postgres::NoTls))
            .map_err(|e| StoreError::Unreachable {
                url: url.to_string(),
                detail: pg_detail(&e),
            })?;
        // A lock held by another run is waited for as long as SQLite's busy timeout.
        let setup = format!(
            "SET lock_timeout = '{}ms'; SET application_name = 'orderbridge'",
            busy.as_millis()
        );
        blocking(|| client.batch_execute(&setup)).map_err(|e| classify_pg(url, busy, e))?;
        Ok(PgConn {
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    /// A one-value boolean query on this session (advisory locks).
    pub(crate) fn query_bool(&mut self, o: &Origin, sql: &str, args: &[Arg<'_>]) -> Result<bool> {
        let st = self.statement(sql).map_err(|e| o.pg_err(e))?;
        let params = pg_params(args);
        let row = blocking(|| self.client().query_one(&st, &params)).map_err(|e| o.pg_err(e))?;
        row.try_get::<_, bool>(0)
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    fn client(&mut self) -> &mut postgres::Client {
        // Only `Drop` takes it out.
        self.client.as_mut().expect("client present until drop")
    }

    /// The prepared statement of `sql` (placeholders `?N` become `$N`), prepared once.
    fn statement(
        &mut self,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let translated = dollar_placeholders(sql);
        let st = blocking(|| self.client().prepare(&translated))?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // The client owns a small runtime, which may not be dropped on an async worker.
        if let Some(client) = self.client.take() {
            blocking(move || drop(client));
        }
    }
}

/// Runs blocking database work from async code without stalling the runtime (the
/// PostgreSQL client drives its own runtime, which may not start inside another's).
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The parameters as the PostgreSQL client takes them.
fn pg_params<'a>(args: &'a [Arg<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// Up to `max` rows of a SQLite query, each read by `f`.
fn lite_rows<T>(
    c: &rusqlite::Connection,
    o: &Origin,
    sql: &str,
    args: &[Arg<'_>],
    max: usize,
    mut f: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(sql).map_err(|e| classify_lite(o, e))?;
    let mut rows = st
        .query(rusqlite::params_from_iter(args.iter()))
        .map_err(|e| classify_lite(o, e))?;
    let mut out = Vec::new();
    while out.len() < max
        && let Some(r) = rows.next().map_err(|e| classify_lite(o, e))?
    {
        out.push(f(&Row::Lite(r))?);
    }
    Ok(out)
}

/// `?N` → `$N`, outside quoted text.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// The open connection.
pub(crate) enum Conn {
    Lite(rusqlite::Connection),
    Pg(Box<RefCell<PgConn>>),
    My(Box<RefCell<MyConn>>),
}

/// Where errors are reported against: the file, or the server (password hidden).
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub shown: String,
    pub pg: Option<PgUrl>,
    pub busy: Duration,
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Lite(_) => Dialect::Sqlite,
            Conn::Pg(_) => Dialect::Postgres,
            Conn::My(_) => Dialect::Mysql,
        }
    }

    /// The SQLite connection, for what only SQLite has (legacy tables, page checks).
    pub(crate) fn lite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Lite(c) => Some(c),
            Conn::Pg(_) | Conn::My(_) => None,
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, o: &Origin, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
        match self {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| classify_lite(o, e))?;
                st.execute(rusqlite::params_from_iter(args.iter()))
                    .map_err(|e| classify_lite(o, e))
            }
            Conn::Pg(c) => {
                let mut c = c.borrow_mut();
                let st = c.statement(sql).map_err(|e| o.pg_err(e))?;
                let params = pg_params(args);
                let n = blocking(|| c.client().execute(&st, &params)).map_err(|e| o.pg_err(e))?;
                Ok(n as usize)
            }
            Conn::My(c) => Ok(c.borrow_mut().execute(o, sql, args)?.0),
        }
    }

    /// Runs an INSERT on MySQL: the id it made, or `None` when a unique key already holds
    /// the row (MySQL has no `RETURNING`).
    pub(crate) fn insert_my(&self, o: &Origin, sql: &str, args: &[Arg<'_>]) -> Result<Option<u64>> {
        match self {
            Conn::My(c) => c.borrow_mut().insert(o, sql, args),
            _ => Err(StoreError::Database("insert_my on another engine".into())),
        }
    }

    /// Runs statements without parameters (schema changes, transaction control).
    pub(crate) fn batch(&self, o: &Origin, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => c.execute_batch(sql).map_err(|e| classify_lite(o, e)),
            Conn::Pg(c) => {
                let mut c = c.borrow_mut();
                blocking(|| c.client().batch_execute(sql)).map_err(|e| o.pg_err(e))
            }
            Conn::My(c) => c.borrow_mut().batch(o, sql),
        }
    }

    /// Every row of a query, each read by `f`.
    pub(crate) fn query<T>(
        &self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Conn::Lite(c) => lite_rows(c, o, sql, args, usize::MAX, &mut f),
            Conn::Pg(c) => {
                let mut c = c.borrow_mut();
                let st = c.statement(sql).map_err(|e| o.pg_err(e))?;
                let params = pg_params(args);
                let rows = blocking(|| c.client().query(&st, &params)).map_err(|e| o.pg_err(e))?;
                rows.iter().map(|r| f(&Row::Pg(r))).collect()
            }
            Conn::My(c) => c.borrow_mut().query(o, sql, args, usize::MAX, f),
        }
    }

    /// The first row of a query, if any.
    pub(crate) fn query_opt<T>(
        &self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let rows = match self {
            // SQLite stops at the first row; a PostgreSQL query returns what it found.
            Conn::Lite(c) => lite_rows(c, o, sql, args, 1, f)?,
            Conn::Pg(_) | Conn::My(_) => self.query(o, sql, args, f)?,
        };
        Ok(rows.into_iter().next())
    }

    /// The one row of a query (an aggregate).
    pub(crate) fn query_one<T>(
        &self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(o, sql, args, f)?
            .ok_or_else(|| StoreError::Database(format!("no row from: {sql}")))
    }
}

impl Origin {
    pub(crate) fn file(path: &std::path::Path, busy: Duration) -> Origin {
        Origin {
            shown: path.display().to_string(),
            pg: None,
            busy,
        }
    }

    pub(crate) fn server(url: &PgUrl, busy: Duration) -> Origin {
        Origin {
            shown: url.to_string(),
            pg: Some(url.clone()),
            busy,
        }
    }

    pub(crate) fn mysql(url: &MyUrl, busy: Duration) -> Origin {
        Origin {
            shown: url.to_string(),
            pg: None,
            busy,
        }
    }

    fn pg_err(&self, e: postgres::Error) -> StoreError {
        match &self.pg {
            Some(url) => classify_pg(url, self.busy, e),
            None => StoreError::Database(e.to_string()),
        }
    }
}

/// Maps a SQLite error onto what a user can act on.
pub(crate) fn classify_lite(o: &Origin, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let shown = o.shown.clone();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: shown,
            waited_s: o.busy.as_secs(),
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
        _ => StoreError::Database(e.to_string()),
    }
}

/// Maps a PostgreSQL error onto what a user can act on, by its SQLSTATE.
pub(crate) fn classify_pg(url: &PgUrl, busy: Duration, e: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let shown = url.to_string();
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection itself failed (closed, reset) after it was made.
        return StoreError::Lost {
            url: shown,
            detail: pg_detail(&e),
        };
    };
    match code {
        c if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            StoreError::Locked {
                path: shown,
                waited_s: busy.as_secs(),
            }
        }
        c if *c == SqlState::READ_ONLY_SQL_TRANSACTION => StoreError::ReadOnly { path: shown },
        c if *c == SqlState::DISK_FULL => StoreError::DiskFull { path: shown },
        c if c.code().starts_with("08") || c.code().starts_with("57P") => StoreError::Lost {
            url: shown,
            detail: pg_detail(&e),
        },
        c if c.code().starts_with("28") || *c == SqlState::INVALID_CATALOG_NAME => {
            StoreError::Unreachable {
                url: shown,
                detail: pg_detail(&e),
            }
        }
        _ => StoreError::Database(pg_detail(&e)),
    }
}

/// The server's message (a `postgres::Error` displays only "db error" for it).
fn pg_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s = format!("{s}: {inner}");
                src = inner.source();
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', ?1 FROM t WHERE a = ?12 AND b = \"x?\""),
            "SELECT '?1', $1 FROM t WHERE a = $12 AND b = \"x?\""
        );
    }

    #[test]
    fn arguments_keep_money_exact_in_sqlite() {
        let d = Decimal::from_str_exact("0.10").unwrap();
        let arg = Arg::Dec(d);
        let out = rusqlite::ToSql::to_sql(&arg).unwrap();
        assert_eq!(
            out,
            ToSqlOutput::Owned(rusqlite::types::Value::Text("0.10".into()))
        );
    }
}
