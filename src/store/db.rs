//! One connection to any of the three engines, with the few operations the store needs:
//! statements are written once, in the SQL they share (`?N` placeholders; PostgreSQL gets
//! them as `$N`, MySQL as positional `?`), and rows are read through [`Row`] whatever the
//! engine: the boundary every store statement goes through. Each engine's session is one
//! module: [`sqlite`], [`postgres`], [`mysql`].

mod mysql;
mod postgres;
mod sqlite;
pub(crate) use self::mysql::MyConn;
pub(crate) use self::postgres::{PgConn, classify_pg};
use self::postgres::{Raw, pg_get, pg_params, pg_type};
pub(crate) use self::sqlite::classify_lite;
use self::sqlite::lite_rows;

/// A MySQL value as an integer (an id of a row read raw).
pub(crate) fn mysql_i64(v: &::mysql::Value) -> Result<i64> {
    self::mysql::as_i64(v).map_err(StoreError::Database)
}

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::Duration;

use ::postgres::types::Type;
use rusqlite::types::ValueRef;
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

/// A row being read, from any engine.
pub(crate) enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a ::postgres::Row),
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String>;
    fn my(v: &::mysql::Value) -> std::result::Result<Self, String>;
}

impl FromCell for i64 {
    fn lite(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        v.as_i64().map_err(|e| e.to_string())
    }
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
        match pg_type(r, i)? {
            Type::NUMERIC => Ok(pg_get::<Decimal>(r, i)?.to_string()),
            Type::INT8 | Type::INT4 | Type::INT2 => Ok(i64::pg(r, i)?.to_string()),
            // Times as the store's UTC text, whatever the engine keeps them as.
            Type::TIMESTAMPTZ => Ok(crate::store::to_text(pg_get::<
                chrono::DateTime<chrono::Utc>,
            >(r, i)?)),
            Type::TIMESTAMP => Ok(crate::store::to_text(
                pg_get::<chrono::NaiveDateTime>(r, i)?.and_utc(),
            )),
            Type::DATE => Ok(crate::store::to_text(
                pg_get::<chrono::NaiveDate>(r, i)?
                    .and_time(chrono::NaiveTime::MIN)
                    .and_utc(),
            )),
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
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
    fn pg(r: &::postgres::Row, i: usize) -> std::result::Result<Self, String> {
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

/// Runs a server driver's blocking call off the async runtime: inside a runtime (a command's
/// future, `serve`), on a scoped thread of its own, so that no runtime thread waits on the
/// network for the database (and the PostgreSQL client's own runtime never starts inside
/// ours); outside one, as it is. A thread costs microseconds against a round trip's
/// fraction of a millisecond, and a sync makes one call per chunk, not per order.
pub(crate) fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
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
                let client = c.client();
                let n = blocking(|| client.execute(&st, &params)).map_err(|e| o.pg_err(e))?;
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
                let client = c.client();
                blocking(|| client.batch_execute(sql)).map_err(|e| o.pg_err(e))
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
                let client = c.client();
                let rows = blocking(|| client.query(&st, &params)).map_err(|e| o.pg_err(e))?;
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

    fn pg_err(&self, e: ::postgres::Error) -> StoreError {
        match &self.pg {
            Some(url) => classify_pg(url, self.busy, e),
            None => StoreError::Database(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driver_that_runs_its_own_runtime_works_under_a_current_thread_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // As the PostgreSQL client does inside each call: a runtime of its own.
        let got = rt.block_on(async {
            blocking(|| {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(async { 7 })
            })
        });
        assert_eq!(got, 7);
    }
}
