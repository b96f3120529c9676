//! A PostgreSQL session (the `postgres` crate's synchronous client): the store's statements
//! with `$N` placeholders, prepared once per session, parameters written as the type each
//! asks for, errors classified by SQLSTATE.

use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rust_decimal::Decimal;

use super::{Arg, Origin, blocking};
use crate::store::location::PgUrl;
use crate::store::{Result, StoreError};

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
                // A stored UTC time ('YYYY-MM-DD HH:MM:SS') into a timestamptz column.
                Type::TIMESTAMPTZ => crate::store::from_text(t)
                    .ok_or_else(|| format!("'{t}' is not a time"))?
                    .to_sql(ty, out),
                Type::TIMESTAMP => crate::store::from_text(t)
                    .ok_or_else(|| format!("'{t}' is not a time"))?
                    .naive_utc()
                    .to_sql(ty, out),
                // A portal's own DATE column (an order date kept as a day).
                Type::DATE => crate::store::from_text(t)
                    .ok_or_else(|| format!("'{t}' is not a time"))?
                    .date_naive()
                    .to_sql(ty, out),
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

pub(super) fn pg_get<'a, T: FromSql<'a>>(
    r: &'a postgres::Row,
    i: usize,
) -> std::result::Result<T, String> {
    r.try_get::<_, T>(i).map_err(|e| e.to_string())
}

pub(super) fn pg_type(r: &postgres::Row, i: usize) -> std::result::Result<Type, String> {
    r.columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| format!("no column {i}"))
}

/// A column's value as whatever it is, to tell NULL apart.
pub(super) struct Raw;
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
            "SET lock_timeout = '{}ms'; SET application_name = 'orderbridge'; SET TIME ZONE 'UTC'",
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
        let client = self.client();
        let row = blocking(|| client.query_one(&st, &params)).map_err(|e| o.pg_err(e))?;
        row.try_get::<_, bool>(0)
            .map_err(|e| StoreError::Database(e.to_string()))
    }

    pub(super) fn client(&mut self) -> &mut postgres::Client {
        // Only `Drop` takes it out.
        self.client.as_mut().expect("client present until drop")
    }

    /// The prepared statement of `sql` (placeholders `?N` become `$N`), prepared once.
    pub(super) fn statement(
        &mut self,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let translated = dollar_placeholders(sql);
        let client = self.client();
        let st = blocking(|| client.prepare(&translated))?;
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

/// The parameters as the PostgreSQL client takes them.
pub(super) fn pg_params<'a>(args: &'a [Arg<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
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
pub(super) fn pg_detail(e: &postgres::Error) -> String {
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
}
