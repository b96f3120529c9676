//! `db copy`: a SQLite store into an empty PostgreSQL one, all or nothing. Every table is
//! copied row for row (ids kept, so references stay right) in one destination transaction,
//! which commits only when the destination's counts and amount sums equal the source's.

use rusqlite::types::ValueRef;
use rust_decimal::Decimal;

use super::db::{Arg, Dialect};
use super::{Result, Store, StoreError};

/// The tables, parents first (foreign keys), with their money columns.
const TABLES: &[(&str, &[&str])] = &[
    ("customers", &[]),
    ("sales_orders", &["total_amount", "odoo_amount_total"]),
    ("orderbridge_order_intents", &[]),
    ("orderbridge_runs", &[]),
    ("orderbridge_sync_cursors", &[]),
    (
        "orderbridge_amount_conflicts",
        &["portal_amount", "odoo_amount"],
    ),
    ("orderbridge_odoo_logins", &[]),
];

/// Rows per INSERT statement: a round trip per row would make a large copy slow.
const ROWS_PER_INSERT: usize = 500;

/// What a copy moved, per table, as verified in the destination.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct CopyReport {
    pub tables: Vec<TableCopy>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TableCopy {
    pub table: String,
    pub rows: u64,
    /// Sums of the money columns (`column`, sum), equal on both sides.
    pub sums: Vec<(String, Decimal)>,
}

impl Store {
    /// Copies this (SQLite) store into `dest` (PostgreSQL, migrated and empty).
    pub(crate) fn copy_into(&self, dest: &Store) -> Result<CopyReport> {
        let src = self.db.lite().ok_or_else(|| {
            StoreError::Conflict("db copy reads a SQLite store; this one is PostgreSQL".into())
        })?;
        if dest.dialect() != Dialect::Postgres {
            return Err(StoreError::Conflict(
                "db copy writes into a PostgreSQL store (--to postgres://...); to copy a SQLite file, copy the file while nothing runs".into(),
            ));
        }
        for (table, _) in TABLES {
            let n: i64 = dest.one(&format!("SELECT COUNT(*) FROM {table}"), &[], |r| r.get(0))?;
            if n > 0 {
                return Err(StoreError::Conflict(format!(
                    "the destination {} already holds data ({n} rows in {table}); db copy only fills an empty store, and nothing was copied",
                    dest.shown()
                )));
            }
        }
        // One snapshot of the source (WAL readers see the file as of their first read).
        self.batch("BEGIN")?;
        let copied = (|| {
            let tx = dest.write_tx()?;
            let mut report = CopyReport::default();
            for (table, money) in TABLES {
                report
                    .tables
                    .push(copy_table(self, src, dest, table, money)?);
            }
            tx.commit()?;
            Ok(report)
        })();
        self.batch("COMMIT")?;
        copied
    }
}

fn copy_table(
    source: &Store,
    src: &rusqlite::Connection,
    dest: &Store,
    table: &str,
    money: &[&str],
) -> Result<TableCopy> {
    let wanted: Vec<String> = dest.all(
        "SELECT column_name::text FROM information_schema.columns WHERE table_name = ?1 AND table_schema = current_schema() ORDER BY ordinal_position",
        &[Arg::Text(table.into())],
        |r| r.get(0),
    )?;
    // Only the columns both have: a legacy table's own columns stay behind.
    let have = source.columns(table)?;
    let cols: Vec<&String> = wanted.iter().filter(|c| have.contains(c)).collect();
    let names = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut read = src
        .prepare(&format!("SELECT {names} FROM \"{table}\" ORDER BY rowid"))
        .map_err(|e| source.lite_err(e))?;
    let mut rows = read.query([]).map_err(|e| source.lite_err(e))?;
    let mut sums = vec![Decimal::ZERO; money.len()];
    let mut batch: Vec<Arg<'static>> = Vec::new();
    let mut count = 0u64;
    let flush = |batch: &mut Vec<Arg<'static>>| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let n = batch.len() / cols.len();
        let values = (0..n)
            .map(|r| {
                let marks = (1..=cols.len())
                    .map(|c| format!("?{}", r * cols.len() + c))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({marks})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        dest.exec(
            &format!("INSERT INTO {table} ({names}) VALUES {values}"),
            batch,
        )?;
        batch.clear();
        Ok(())
    };
    while let Some(row) = rows.next().map_err(|e| source.lite_err(e))? {
        for (i, c) in cols.iter().enumerate() {
            let v = row.get_ref(i).map_err(|e| source.lite_err(e))?;
            let arg = match money.iter().position(|m| m == c) {
                Some(m) => match v {
                    ValueRef::Null => Arg::Null,
                    v => {
                        let d = <Decimal as super::db::FromCell>::lite(v).map_err(|e| {
                            StoreError::Database(format!("{table}.{c}: {e}; nothing was copied"))
                        })?;
                        sums[m] += d;
                        Arg::Dec(d)
                    }
                },
                None => match v {
                    ValueRef::Null => Arg::Null,
                    ValueRef::Integer(n) => Arg::Int(n),
                    ValueRef::Text(t) => Arg::Text(String::from_utf8_lossy(t).into_owned().into()),
                    other => {
                        return Err(StoreError::Database(format!(
                            "{table}.{c} holds a {:?}, which the PostgreSQL schema has no place for; nothing was copied",
                            other.data_type()
                        )));
                    }
                },
            };
            batch.push(arg);
        }
        count += 1;
        if count.is_multiple_of(ROWS_PER_INSERT as u64) {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    if cols.iter().any(|c| *c == "id") {
        // New rows continue after the copied ids.
        dest.exec(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
            ),
            &[],
        )?;
    }
    verify(dest, table, money, count, &sums)
}

/// The destination's count and sums, which must be the source's.
fn verify(
    dest: &Store,
    table: &str,
    money: &[&str],
    count: u64,
    sums: &[Decimal],
) -> Result<TableCopy> {
    let there: i64 = dest.one(&format!("SELECT COUNT(*) FROM {table}"), &[], |r| r.get(0))?;
    if there as u64 != count {
        return Err(StoreError::Database(format!(
            "{table}: {count} rows read but {there} in the destination; the copy was rolled back"
        )));
    }
    let mut out = Vec::new();
    for (m, col) in money.iter().enumerate() {
        let sum: Decimal = dest.one(
            &format!("SELECT COALESCE(SUM({col}), 0) FROM {table}"),
            &[],
            |r| r.get(0),
        )?;
        if sum != sums[m] {
            return Err(StoreError::Database(format!(
                "{table}.{col}: the amounts add up to {} in the source but {sum} in the destination; the copy was rolled back",
                sums[m]
            )));
        }
        out.push((col.to_string(), sum));
    }
    Ok(TableCopy {
        table: table.to_string(),
        rows: count,
        sums: out,
    })
}
