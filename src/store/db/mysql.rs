//! A MySQL 8 / MariaDB 10.6+ session (the `mysql` crate's synchronous client): the store's
//! statements translated from `?N` to MySQL's positional `?`, its values read back, its
//! errors classified by their server codes.
//!
//! Each session runs with `time_zone = '+00:00'` (a portal's TIMESTAMP columns are read and
//! written in UTC whatever the server's zone), `sql_mode` plus `ANSI_QUOTES` (identifiers
//! such as `"key"` quoted as on SQLite and PostgreSQL), `PIPES_AS_CONCAT` and
//! `STRICT_ALL_TABLES` (an out-of-range amount is an error, never a silent truncation), and
//! READ COMMITTED: InnoDB's default REPEATABLE READ takes gap and next-key locks on every
//! locking read, so two checkouts inserting near each other in `sales_orders` would wait on
//! each other or deadlock; the store's read-then-write steps are serialised by its write lock
//! instead (see `Store::write_tx`), as on PostgreSQL.

use std::collections::HashMap;
use std::time::Duration;

use mysql::prelude::Queryable;
use rust_decimal::Decimal;

use super::{Arg, Origin, blocking};
use crate::store::location::MyUrl;
use crate::store::{Result, StoreError};

/// A MySQL session, and each statement's translation.
pub(crate) struct MyConn {
    conn: mysql::Conn,
    /// `?N` SQL → (`?` SQL, which argument each `?` takes).
    translated: HashMap<String, (String, Vec<usize>)>,
}

impl MyConn {
    pub(crate) fn connect(url: &MyUrl, busy: Duration) -> Result<MyConn> {
        let unreachable = |detail: String| StoreError::Unreachable {
            url: url.to_string(),
            detail,
        };
        let opts = mysql::Opts::from_url(&url.secret())
            .map_err(|e| unreachable(format!("the URL is not valid: {e}")))?;
        let opts = mysql::OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .tcp_connect_timeout(Some(busy.max(Duration::from_secs(1))))
            .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
            .init(vec![
                "SET time_zone = '+00:00'".to_string(),
                "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'ANSI_QUOTES', 'PIPES_AS_CONCAT', 'STRICT_ALL_TABLES')".to_string(),
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_string(),
                format!(
                    "SET SESSION innodb_lock_wait_timeout = {}",
                    busy.as_secs().max(1)
                ),
            ]);
        let conn = blocking(|| mysql::Conn::new(opts)).map_err(|e| unreachable(detail(&e)))?;
        Ok(MyConn {
            conn,
            translated: HashMap::new(),
        })
    }

    /// The statement in MySQL's placeholders, and its parameters in their order.
    fn prepare(&mut self, sql: &str, args: &[Arg<'_>]) -> (String, mysql::Params) {
        let (text, order) = self
            .translated
            .entry(sql.to_string())
            .or_insert_with(|| positional(sql))
            .clone();
        let params = if order.is_empty() {
            mysql::Params::Empty
        } else {
            mysql::Params::Positional(
                order
                    .iter()
                    .map(|i| args.get(*i).map_or(mysql::Value::NULL, value))
                    .collect(),
            )
        };
        (text, params)
    }

    /// Runs one statement; returns the rows it matched (`CLIENT_FOUND_ROWS`, as SQLite and
    /// PostgreSQL count them) and the id an insert made.
    pub(crate) fn execute(
        &mut self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<(usize, u64)> {
        let (text, params) = self.prepare(sql, args);
        let conn = &mut self.conn;
        blocking(|| conn.exec_drop(&text, params)).map_err(|e| classify(o, e))?;
        Ok((
            self.conn.affected_rows() as usize,
            self.conn.last_insert_id(),
        ))
    }

    /// Runs an INSERT: the id it made (0 for a table without an auto-increment id), or
    /// `None` when a unique key already holds the row (MySQL has no `ON CONFLICT DO
    /// NOTHING`; `INSERT IGNORE` would also turn a truncated amount into a warning).
    pub(crate) fn insert(
        &mut self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<u64>> {
        let (text, params) = self.prepare(sql, args);
        let conn = &mut self.conn;
        match blocking(|| conn.exec_drop(&text, params)) {
            Ok(()) => Ok(Some(self.conn.last_insert_id())),
            // ER_DUP_ENTRY
            Err(mysql::Error::MySqlError(e)) if e.code == 1062 => Ok(None),
            Err(e) => Err(classify(o, e)),
        }
    }

    /// Statements without parameters (schema changes, transaction control).
    pub(crate) fn batch(&mut self, o: &Origin, sql: &str) -> Result<()> {
        let conn = &mut self.conn;
        blocking(|| conn.query_drop(sql)).map_err(|e| classify(o, e))
    }

    /// Up to `max` rows of a query, each turned into a `T` by `f`.
    pub(crate) fn query<T>(
        &mut self,
        o: &Origin,
        sql: &str,
        args: &[Arg<'_>],
        max: usize,
        mut f: impl FnMut(&super::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let (text, params) = self.prepare(sql, args);
        let rows: Vec<mysql::Row> = {
            let conn = &mut self.conn;
            blocking(|| conn.exec(&text, params)).map_err(|e| classify(o, e))?
        };
        rows.iter()
            .take(max)
            .map(|r| f(&super::Row::My(r)))
            .collect()
    }
}

/// `?N` → `?`, outside quoted text, with the argument each takes (MySQL's placeholders are
/// positional: one reused twice is sent twice).
fn positional(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' || c == '`' => quote = Some(c),
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n: usize = digits.parse().unwrap_or(order.len() + 1);
                order.push(n.saturating_sub(1));
                out.push('?');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    (out, order)
}

/// A parameter as MySQL takes it: money as its exact decimal text (a DECIMAL column parses
/// it), a boolean as 0 or 1.
fn value(a: &Arg<'_>) -> mysql::Value {
    match a {
        Arg::Null => mysql::Value::NULL,
        Arg::Int(i) => mysql::Value::Int(*i),
        Arg::Bool(b) => mysql::Value::Int(i64::from(*b)),
        Arg::Text(t) => mysql::Value::Bytes(t.as_bytes().to_vec()),
        Arg::Dec(d) => mysql::Value::Bytes(d.to_string().into_bytes()),
        // Arrays are PostgreSQL's (`unnest`); no MySQL statement takes one.
        Arg::Ints(_) | Arg::Bools(_) | Arg::Texts(_) | Arg::Decs(_) => mysql::Value::NULL,
    }
}

/// A column of a MySQL row as text, an integer or an amount.
pub(crate) fn cell(r: &mysql::Row, i: usize) -> std::result::Result<&mysql::Value, String> {
    r.as_ref(i).ok_or_else(|| format!("no column {i}"))
}

pub(crate) fn as_i64(v: &mysql::Value) -> std::result::Result<i64, String> {
    match v {
        mysql::Value::Int(i) => Ok(*i),
        mysql::Value::UInt(u) => i64::try_from(*u).map_err(|e| e.to_string()),
        mysql::Value::Bytes(b) => {
            let t = String::from_utf8_lossy(b);
            t.parse::<i64>().or_else(|_| {
                // A DECIMAL aggregate (SUM) of whole numbers.
                Decimal::from_str_exact(&t)
                    .ok()
                    .filter(|d| d.fract().is_zero())
                    .and_then(|d| i64::try_from(d).ok())
                    .ok_or_else(|| format!("'{t}' is not an integer"))
            })
        }
        other => Err(format!("{other:?} is not an integer")),
    }
}

pub(crate) fn as_text(v: &mysql::Value) -> std::result::Result<String, String> {
    match v {
        mysql::Value::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        mysql::Value::Int(i) => Ok(i.to_string()),
        mysql::Value::UInt(u) => Ok(u.to_string()),
        // A portal's TIMESTAMP / DATETIME column, read in the session's UTC.
        mysql::Value::Date(y, mo, d, h, mi, s, _) => {
            Ok(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
        }
        other => Err(format!("{other:?} is not text")),
    }
}

pub(crate) fn as_decimal(v: &mysql::Value) -> std::result::Result<Decimal, String> {
    match v {
        mysql::Value::Bytes(b) => {
            crate::money::parse_wire_amount(&String::from_utf8_lossy(b)).map_err(|e| e.to_string())
        }
        mysql::Value::Int(i) => Ok(Decimal::from(*i)),
        mysql::Value::UInt(u) => Ok(Decimal::from(*u)),
        // A legacy FLOAT / DOUBLE column: its shortest decimal form is what the portal meant.
        mysql::Value::Float(f) => {
            Decimal::from_str_exact(&f.to_string()).map_err(|e| e.to_string())
        }
        mysql::Value::Double(f) => {
            Decimal::from_str_exact(&f.to_string()).map_err(|e| e.to_string())
        }
        other => Err(format!("{other:?} is not an amount")),
    }
}

/// The server's message, or the client's.
fn detail(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("{} ({})", m.message, m.code),
        other => other.to_string(),
    }
}

/// Maps a MySQL error onto what a user can act on, by its server code.
pub(crate) fn classify(o: &Origin, e: mysql::Error) -> StoreError {
    let shown = o.shown.clone();
    match &e {
        mysql::Error::MySqlError(m) => match m.code {
            // Lock wait timeout, deadlock.
            1205 | 1213 => StoreError::Locked {
                path: shown,
                waited_s: o.busy.as_secs(),
            },
            // --read-only / a transaction in READ ONLY mode.
            1290 | 1792 | 1836 => StoreError::ReadOnly { path: shown },
            // Disk full, table full.
            1021 | 1114 => StoreError::DiskFull { path: shown },
            // Access denied, unknown database.
            1044 | 1045 | 1049 => StoreError::Unreachable {
                url: shown,
                detail: detail(&e),
            },
            _ => StoreError::Database(detail(&e)),
        },
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) | mysql::Error::CodecError(_) => {
            StoreError::Lost {
                url: shown,
                detail: detail(&e),
            }
        }
        _ => StoreError::Database(detail(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_become_positional_ones_with_their_arguments() {
        let (sql, order) =
            positional("SELECT '?1', ?2 FROM t WHERE a = ?1 OR ?1 IS NULL AND b = \"x?\"");
        assert_eq!(
            sql,
            "SELECT '?1', ? FROM t WHERE a = ? OR ? IS NULL AND b = \"x?\""
        );
        assert_eq!(order, vec![1, 0, 0]);
    }
}
