//! A SQLite connection (rusqlite, SQLite compiled in): parameters as SQLite takes them,
//! rows read from cached prepared statements, errors classified by SQLite's codes.

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{Arg, Origin, Row};
use crate::store::{Result, StoreError};

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

/// Up to `max` rows of a SQLite query, each read by `f`.
pub(super) fn lite_rows<T>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

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
