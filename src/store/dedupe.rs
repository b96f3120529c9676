//! Duplicate `odoo_order_id` rows (legacy data from before the unique index): find them,
//! remove all but the oldest with an archive copy, and put an archived row back.

use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::{Result, Store, StoreError, now_text};

/// One row of a duplicate group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct DupRow {
    pub id: i64,
    pub total_amount: Option<Decimal>,
    pub status: Option<String>,
    #[serde(serialize_with = "super::rfc3339_opt")]
    pub created_at: Option<String>,
}

/// Rows sharing one `odoo_order_id`: the first is kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct DupGroup {
    pub odoo_order_id: i64,
    pub keep: DupRow,
    pub remove: Vec<DupRow>,
    /// The rows disagree (amounts or statuses differ): review before applying.
    pub disagree: bool,
}

/// A column elsewhere that points at sales_orders.id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Reference {
    pub table: String,
    pub column: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Archived {
    pub archived_id: i64,
    pub kept_id: i64,
    pub odoo_order_id: Option<i64>,
    #[serde(serialize_with = "super::rfc3339")]
    pub archived_at: String,
}

const ARCHIVE_DDL: &str = "CREATE TABLE IF NOT EXISTS orderbridge_sales_orders_archive (
    archived_id  INTEGER PRIMARY KEY,   -- the removed row's id
    kept_id      INTEGER NOT NULL,      -- the row kept in its place
    odoo_order_id INTEGER,
    archived_at  TEXT NOT NULL,
    row_json     TEXT NOT NULL,         -- the whole row, every column
    repointed    TEXT NOT NULL          -- [{table, column, ids}] moved to kept_id
)";

fn sql_to_json(v: Sql) -> serde_json::Value {
    match v {
        Sql::Null => serde_json::Value::Null,
        Sql::Integer(i) => serde_json::json!({"i": i}),
        // Keeps a legacy REAL exactly as SQLite had it (bits), so a restore gives it back.
        Sql::Real(f) => serde_json::json!({"r": f.to_bits()}),
        Sql::Text(t) => serde_json::json!({"t": t}),
        Sql::Blob(b) => serde_json::json!({"b": b}),
    }
}

fn json_to_sql(v: &serde_json::Value) -> Sql {
    if let Some(i) = v.get("i").and_then(|x| x.as_i64()) {
        Sql::Integer(i)
    } else if let Some(r) = v.get("r").and_then(|x| x.as_u64()) {
        Sql::Real(f64::from_bits(r))
    } else if let Some(t) = v.get("t").and_then(|x| x.as_str()) {
        Sql::Text(t.to_string())
    } else if let Some(b) = v.get("b").and_then(|x| x.as_array()) {
        Sql::Blob(
            b.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u8)
                .collect(),
        )
    } else {
        Sql::Null
    }
}

impl Store {
    /// The SQLite connection: duplicates are legacy rows of a SQLite file (or of a portal's
    /// MySQL table, which has its own path). A PostgreSQL store has had the unique index
    /// from its first migration, so it never holds any.
    fn legacy_only(&self) -> Result<&rusqlite::Connection> {
        self.db.lite().ok_or_else(|| {
            StoreError::Conflict(
                "a PostgreSQL store cannot hold duplicate orders (its unique index is there from the start); nothing to remove or restore".into(),
            )
        })
    }

    /// Duplicate groups, oldest row first in each (created_at ascending, a missing date
    /// last, ties by lowest id). NULL `odoo_order_id` is never a duplicate.
    pub(crate) fn duplicate_groups(&self) -> Result<Vec<DupGroup>> {
        let rows = self.all(
            "SELECT odoo_order_id, id, total_amount, status, created_at FROM sales_orders
             WHERE odoo_order_id IN (SELECT odoo_order_id FROM sales_orders WHERE odoo_order_id IS NOT NULL
                                     GROUP BY odoo_order_id HAVING COUNT(*) > 1)
             ORDER BY odoo_order_id, created_at IS NULL, created_at, id",
            &[],
            |r| {
                Ok((
                    r.get::<i64>("odoo_order_id")?,
                    DupRow {
                        id: r.get("id")?,
                        total_amount: r.get("total_amount")?,
                        status: r.get("status")?,
                        created_at: r.get("created_at")?,
                    },
                ))
            },
        )?;
        let mut groups: Vec<DupGroup> = Vec::new();
        for (oid, row) in rows {
            match groups.last_mut() {
                Some(g) if g.odoo_order_id == oid => g.remove.push(row),
                _ => groups.push(DupGroup {
                    odoo_order_id: oid,
                    keep: row,
                    remove: Vec::new(),
                    disagree: false,
                }),
            }
        }
        for g in &mut groups {
            g.disagree = g
                .remove
                .iter()
                .any(|r| r.total_amount != g.keep.total_amount || r.status != g.keep.status);
        }
        Ok(groups)
    }

    /// Columns of other tables that point at sales_orders.id: declared foreign keys, and
    /// Laravel's `sales_order_id` convention (legacy tables often declare none).
    pub(crate) fn order_references(&self) -> Result<Vec<Reference>> {
        let conn = self.legacy_only()?;
        let tables: Vec<String> = {
            let mut st = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('sales_orders', 'orderbridge_sales_orders_archive', 'sales_orders_archive')")
                .map_err(|e| self.lite_err(e))?;
            st.query_map([], |r| r.get(0))
                .map_err(|e| self.lite_err(e))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| self.lite_err(e))?
        };
        let mut refs = Vec::new();
        for t in tables {
            let mut fk = conn
                .prepare(&format!("PRAGMA foreign_key_list(\"{t}\")"))
                .map_err(|e| self.lite_err(e))?;
            let fks: Vec<(String, String)> = fk
                .query_map([], |r| Ok((r.get::<_, String>(2)?, r.get::<_, String>(3)?)))
                .map_err(|e| self.lite_err(e))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| self.lite_err(e))?;
            for (target, from) in fks {
                if target == "sales_orders" {
                    refs.push(Reference {
                        table: t.clone(),
                        column: from,
                    });
                }
            }
            for c in self.columns(&t)? {
                let is_ref = c == "sales_order_id"
                    || (t == "orderbridge_order_intents" && c == "local_order_id");
                if is_ref && !refs.iter().any(|r| r.table == t && r.column == c) {
                    refs.push(Reference {
                        table: t.clone(),
                        column: c,
                    });
                }
            }
        }
        Ok(refs)
    }

    /// Removes every duplicate but the kept row, in one transaction: references are moved to
    /// the kept row and each removed row is archived whole first. Set-based (a temp mapping
    /// table, one statement per referencing table), so an unindexed legacy `sales_order_id`
    /// column is scanned once, not once per row. Returns the number of rows removed.
    pub(crate) fn apply_dedupe(&self, groups: &[DupGroup]) -> Result<usize> {
        if groups.is_empty() {
            return Ok(0);
        }
        if self.dialect() == super::db::Dialect::Mysql {
            return self.mysql_apply_dedupe(groups);
        }
        let conn = self.legacy_only()?;
        let refs = self.order_references()?;
        let tx = self.write_tx()?;
        self.adopt_legacy_archive()?;
        conn.execute_batch(ARCHIVE_DDL)
            .map_err(|e| self.lite_err(e))?;
        conn
            .execute_batch("CREATE TEMP TABLE IF NOT EXISTS dedupe_map (removed INTEGER PRIMARY KEY, kept INTEGER NOT NULL, odoo_order_id INTEGER); DELETE FROM temp.dedupe_map;")
            .map_err(|e| self.lite_err(e))?;
        {
            let mut st = conn.prepare("INSERT INTO temp.dedupe_map (removed, kept, odoo_order_id) VALUES (?1, ?2, ?3)").map_err(|e| self.lite_err(e))?;
            for g in groups {
                for r in &g.remove {
                    st.execute(params![r.id, g.keep.id, g.odoo_order_id])
                        .map_err(|e| self.lite_err(e))?;
                }
            }
        }
        // Which rows of each referencing table move, per removed order (kept for restore).
        let mut moved: std::collections::HashMap<i64, Vec<serde_json::Value>> =
            std::collections::HashMap::new();
        for rf in &refs {
            let mut per: std::collections::BTreeMap<i64, Vec<i64>> =
                std::collections::BTreeMap::new();
            {
                let mut st = conn
                    .prepare(&format!(
                        "SELECT rowid, \"{c}\" FROM \"{t}\" WHERE \"{c}\" IN (SELECT removed FROM temp.dedupe_map)",
                        t = rf.table,
                        c = rf.column
                    ))
                    .map_err(|e| self.lite_err(e))?;
                let rows = st
                    .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(|e| self.lite_err(e))?;
                for row in rows {
                    let (rowid, order) = row.map_err(|e| self.lite_err(e))?;
                    per.entry(order).or_default().push(rowid);
                }
            }
            for (order, ids) in per {
                moved
                    .entry(order)
                    .or_default()
                    .push(serde_json::json!({"table": rf.table, "column": rf.column, "ids": ids}));
            }
            conn
                .execute(
                    &format!(
                        "UPDATE \"{t}\" SET \"{c}\" = (SELECT kept FROM temp.dedupe_map WHERE removed = \"{t}\".\"{c}\")
                         WHERE \"{c}\" IN (SELECT removed FROM temp.dedupe_map)",
                        t = rf.table,
                        c = rf.column
                    ),
                    [],
                )
                .map_err(|e| self.lite_err(e))?;
        }
        let cols = self.columns("sales_orders")?;
        let now = now_text();
        {
            let mut read = conn
                .prepare("SELECT m.kept, m.odoo_order_id, o.* FROM sales_orders o JOIN temp.dedupe_map m ON m.removed = o.id")
                .map_err(|e| self.lite_err(e))?;
            let mut insert = conn
                .prepare(
                    "INSERT OR REPLACE INTO orderbridge_sales_orders_archive (archived_id, kept_id, odoo_order_id, archived_at, row_json, repointed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|e| self.lite_err(e))?;
            let mut rows = read.query([]).map_err(|e| self.lite_err(e))?;
            while let Some(row) = rows.next().map_err(|e| self.lite_err(e))? {
                let kept: i64 = row.get(0).map_err(|e| self.lite_err(e))?;
                let oid: Option<i64> = row.get(1).map_err(|e| self.lite_err(e))?;
                let mut json = serde_json::Map::new();
                let mut id = 0;
                for (i, c) in cols.iter().enumerate() {
                    let v: Sql = row.get(i + 2).map_err(|e| self.lite_err(e))?;
                    if c == "id"
                        && let Sql::Integer(x) = v
                    {
                        id = x;
                    }
                    json.insert(c.clone(), sql_to_json(v));
                }
                let repointed = serde_json::Value::Array(moved.remove(&id).unwrap_or_default());
                insert
                    .execute(params![
                        id,
                        kept,
                        oid,
                        now,
                        serde_json::Value::Object(json).to_string(),
                        repointed.to_string()
                    ])
                    .map_err(|e| self.lite_err(e))?;
            }
        }
        let removed = conn
            .execute(
                "DELETE FROM sales_orders WHERE id IN (SELECT removed FROM temp.dedupe_map)",
                [],
            )
            .map_err(|e| self.lite_err(e))?;
        conn.execute_batch("DROP TABLE temp.dedupe_map")
            .map_err(|e| self.lite_err(e))?;
        tx.commit()?;
        Ok(removed)
    }

    /// An archive made before orderbridge's tables carried its name takes the new name.
    pub(crate) fn adopt_legacy_archive(&self) -> Result<()> {
        if self.table_exists("sales_orders_archive")?
            && !self.table_exists("orderbridge_sales_orders_archive")?
        {
            self.batch(
                "ALTER TABLE sales_orders_archive RENAME TO orderbridge_sales_orders_archive",
            )?;
        }
        Ok(())
    }

    /// Every archived row, oldest removal first.
    pub(crate) fn archived(&self) -> Result<Vec<Archived>> {
        self.adopt_legacy_archive()?;
        if !self.table_exists("orderbridge_sales_orders_archive")? {
            return Ok(Vec::new());
        }
        self.all(
            "SELECT archived_id, kept_id, odoo_order_id, archived_at FROM orderbridge_sales_orders_archive ORDER BY archived_id",
            &[],
            |r| {
                Ok(Archived {
                    archived_id: r.get("archived_id")?,
                    kept_id: r.get("kept_id")?,
                    odoo_order_id: r.get("odoo_order_id")?,
                    archived_at: r.get("archived_at")?,
                })
            },
        )
    }

    /// Puts an archived row back (with the references that were moved off it), unless that
    /// would break uniqueness; says why when it would.
    pub(crate) fn restore_archived(&self, id: i64) -> Result<Archived> {
        self.adopt_legacy_archive()?;
        if !self.table_exists("orderbridge_sales_orders_archive")? {
            return Err(StoreError::NotFound(format!(
                "no archived order {id}: nothing was ever removed by dedupe"
            )));
        }
        if self.dialect() == super::db::Dialect::Mysql {
            return self.mysql_restore(id);
        }
        let conn = self.legacy_only()?;
        let found: Option<(i64, Option<i64>, String, String, String)> = conn
            .query_row(
                "SELECT kept_id, odoo_order_id, archived_at, row_json, repointed FROM orderbridge_sales_orders_archive WHERE archived_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| self.lite_err(e))?;
        let Some((kept_id, odoo_order_id, archived_at, row_json, repointed)) = found else {
            return Err(StoreError::NotFound(format!(
                "there is no archived order {id}"
            )));
        };
        let exists = |sql: &str, v: i64| -> Result<Option<i64>> {
            conn.query_row(sql, [v], |r| r.get(0))
                .optional()
                .map_err(|e| self.lite_err(e))
        };
        if exists("SELECT id FROM sales_orders WHERE id = ?1", id)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "order {id} cannot be restored: a row with id {id} exists again"
            )));
        }
        let unique = conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sales_orders_odoo_order_id_unique'", [], |_| Ok(()))
            .optional()
            .map_err(|e| self.lite_err(e))?
            .is_some();
        if unique
            && let Some(oid) = odoo_order_id
            && let Some(other) =
                exists("SELECT id FROM sales_orders WHERE odoo_order_id = ?1", oid)?
        {
            return Err(StoreError::Conflict(format!(
                "order {id} cannot be restored: order {other} already has Odoo id {oid}, and the unique index allows one local row per Odoo order (remove or change order {other} first)"
            )));
        }
        let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row_json)
            .map_err(|e| StoreError::Database(format!("archived row unreadable: {e}")))?;
        let cols = self.columns("sales_orders")?;
        // Only the columns the table still has.
        let present: Vec<(&String, Sql)> = row
            .iter()
            .filter(|(k, _)| cols.contains(k))
            .map(|(k, v)| (k, json_to_sql(v)))
            .collect();
        let tx = self.write_tx()?;
        let names = present
            .iter()
            .map(|(k, _)| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let marks = (1..=present.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        conn.execute(
            &format!("INSERT INTO sales_orders ({names}) VALUES ({marks})"),
            rusqlite::params_from_iter(present.iter().map(|(_, v)| v)),
        )
        .map_err(|e| self.lite_err(e))?;
        let moves: Vec<serde_json::Value> = serde_json::from_str(&repointed).unwrap_or_default();
        for m in moves {
            let (Some(t), Some(c)) = (m["table"].as_str(), m["column"].as_str()) else {
                continue;
            };
            for rid in m["ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_i64())
            {
                conn.execute(
                    &format!("UPDATE \"{t}\" SET \"{c}\" = ?1 WHERE rowid = ?2 AND \"{c}\" = ?3"),
                    params![id, rid, kept_id],
                )
                .map_err(|e| self.lite_err(e))?;
            }
        }
        conn.execute(
            "DELETE FROM orderbridge_sales_orders_archive WHERE archived_id = ?1",
            [id],
        )
        .map_err(|e| self.lite_err(e))?;
        tx.commit()?;
        Ok(Archived {
            archived_id: id,
            kept_id,
            odoo_order_id,
            archived_at,
        })
    }
}
