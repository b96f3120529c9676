//! What only a MySQL / MariaDB store does: its migrations (MySQL commits each schema change,
//! so they run under a named lock rather than in one transaction), adopting a Laravel
//! portal's own `sales_orders` and `customers` in place, its indexes, and the seeds' cleanup
//! of duplicates in the portal's table (dedupe, archive, restore).

use super::db::{Arg, Row, args};
use super::dedupe::{Archived, DupGroup, Reference};
use super::{MY_MIGRATIONS, Result, SCHEMA_VERSION, Store, StoreError, now_text};

/// Columns orderbridge needs in the portal's tables, as MySQL declares them when a portal's
/// table lacks one: nullable or with a default, so that the portal's rows and its own
/// inserts are unaffected.
const PORTAL_COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "customers",
        &[
            ("name", "VARCHAR(255) NOT NULL DEFAULT ''"),
            ("email", "VARCHAR(255) NOT NULL DEFAULT ''"),
            ("odoo_partner_id", "BIGINT NULL"),
            ("created_at", "TIMESTAMP NULL"),
            ("updated_at", "TIMESTAMP NULL"),
        ],
    ),
    (
        "sales_orders",
        &[
            ("customer_id", "BIGINT UNSIGNED NULL"),
            ("order_number", "VARCHAR(191) NULL"),
            ("odoo_order_id", "BIGINT NULL"),
            ("total_amount", "DECIMAL(20, 6) NOT NULL DEFAULT 0"),
            ("odoo_amount_total", "DECIMAL(20, 6) NULL"),
            ("currency", "VARCHAR(3) NOT NULL DEFAULT 'USD'"),
            ("status", "VARCHAR(32) NOT NULL DEFAULT 'pending'"),
            ("odoo_state", "VARCHAR(16) NULL"),
            ("idempotency_key", "VARCHAR(200) NULL"),
            ("note", "TEXT NULL"),
            ("created_at", "TIMESTAMP NULL"),
            ("updated_at", "TIMESTAMP NULL"),
            ("last_synced_at", "VARCHAR(32) NULL"),
            ("odoo_write_date", "VARCHAR(32) NULL"),
            ("order_date", "VARCHAR(32) NULL"),
            ("odoo_delivery_status", "VARCHAR(16) NULL"),
            ("odoo_invoice_status", "VARCHAR(16) NULL"),
            ("odoo_amount_invoiced", "DECIMAL(20, 6) NULL"),
            ("odoo_amount_to_invoice", "DECIMAL(20, 6) NULL"),
            ("odoo_payment_state", "VARCHAR(16) NULL"),
            ("odoo_commitment_date", "VARCHAR(32) NULL"),
            ("odoo_expected_date", "VARCHAR(32) NULL"),
            ("odoo_effective_date", "VARCHAR(32) NULL"),
            ("odoo_details_hash", "VARCHAR(64) NULL"),
            ("odoo_details_synced_at", "VARCHAR(32) NULL"),
        ],
    ),
];

/// The indexes of the portal's tables: (table, name, columns, unique). The unique key on
/// `odoo_order_id` has the seeds' name.
const PORTAL_INDEXES: &[(&str, &str, &str, bool)] = &[
    (
        "customers",
        "customers_odoo_partner_id_unique",
        "odoo_partner_id",
        true,
    ),
    (
        "sales_orders",
        "sales_orders_odoo_order_id_unique",
        "odoo_order_id",
        true,
    ),
    (
        "sales_orders",
        "sales_orders_customer_id",
        "customer_id",
        false,
    ),
    (
        "sales_orders",
        "sales_orders_created_at",
        "created_at",
        false,
    ),
    (
        "sales_orders",
        "sales_orders_order_date",
        "order_date",
        false,
    ),
];

/// Releases the migration lock when the migration ends, however it ends.
struct MigrationLock<'a>(&'a Store);

impl Drop for MigrationLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.first(
            "SELECT RELEASE_LOCK(CONCAT('orderbridge.migrate.', DATABASE()))",
            &[],
            |_| Ok(()),
        );
    }
}

impl Store {
    /// The highest migration applied (0 for a database orderbridge never opened).
    pub(super) fn mysql_version(&self) -> Result<i64> {
        if !self.table_exists("orderbridge_schema_migrations")? {
            return Ok(0);
        }
        self.one(
            "SELECT COALESCE(MAX(version), 0) FROM orderbridge_schema_migrations",
            &[],
            |r| r.get(0),
        )
    }

    /// Brings a MySQL store up to date: the portal's tables adopted (columns added), each
    /// step after the store's version applied and recorded, the indexes made. Hosts opening
    /// a new database at once wait for each other on a named lock; each step is safe to run
    /// again, so a migration stopped halfway finishes on the next open.
    pub(super) fn migrate_mysql(&self) -> Result<()> {
        let got = self.one(
            "SELECT GET_LOCK(CONCAT('orderbridge.migrate.', DATABASE()), ?1)",
            args![self.origin.busy.as_secs() as i64],
            |r| r.get::<Option<i64>>(0),
        )?;
        if got != Some(1) {
            return Err(StoreError::Locked {
                path: self.origin.shown.clone(),
                waited_s: self.origin.busy.as_secs(),
            });
        }
        let _lock = MigrationLock(self);
        self.batch(
            "CREATE TABLE IF NOT EXISTS orderbridge_schema_migrations (
               version    BIGINT NOT NULL PRIMARY KEY,
               applied_at VARCHAR(32) NOT NULL
             ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4",
        )?;
        let from = self.mysql_version()?;
        if from >= SCHEMA_VERSION {
            return Ok(());
        }
        self.adopt_portal_tables(PORTAL_COLUMNS)?;
        for (i, sql) in MY_MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
            self.batch(sql)?;
            self.exec(
                "INSERT INTO orderbridge_schema_migrations (version, applied_at) VALUES (?1, ?2)",
                args![i as i64 + 1, now_text()],
            )?;
        }
        for (table, name, column, unique) in PORTAL_INDEXES {
            self.ensure_index(table, name, column, *unique)?;
        }
        Ok(())
    }

    /// Whether a unique index of `table` is on `column` alone (whatever its name).
    fn mysql_unique_on(&self, table: &str, column: &str) -> Result<bool> {
        if !self.table_exists(table)? {
            return Ok(false);
        }
        Ok(self
            .first(
                "SELECT index_name FROM information_schema.statistics
                 WHERE table_schema = DATABASE() AND table_name = ?1 AND non_unique = 0
                 GROUP BY index_name HAVING COUNT(*) = 1 AND MAX(column_name) = ?2",
                args![table, column],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// Makes the index unless one on that column exists already (a portal may have made it,
    /// under any name).
    pub(super) fn ensure_index(
        &self,
        table: &str,
        name: &str,
        column: &str,
        unique: bool,
    ) -> Result<()> {
        let exists = if unique {
            self.mysql_unique_on(table, column)?
        } else {
            self.first(
                "SELECT 1 FROM information_schema.statistics
                 WHERE table_schema = DATABASE() AND table_name = ?1 AND column_name = ?2
                   AND seq_in_index = 1",
                args![table, column],
                |_| Ok(()),
            )?
            .is_some()
        };
        if !exists {
            let kind = if unique { "UNIQUE INDEX" } else { "INDEX" };
            self.batch(&format!("CREATE {kind} {name} ON {table} ({column})"))?;
        }
        Ok(())
    }
}

/// A MySQL value as typed JSON, so that a restore writes back exactly what was archived.
fn value_json(v: &::mysql::Value) -> serde_json::Value {
    use ::mysql::Value as V;
    match v {
        V::NULL => serde_json::Value::Null,
        V::Int(i) => serde_json::json!({ "i": i }),
        V::UInt(u) => serde_json::json!({ "u": u }),
        // Float bits, kept exactly (a legacy FLOAT amount).
        V::Float(f) => serde_json::json!({ "f": f.to_bits() }),
        V::Double(f) => serde_json::json!({ "r": f.to_bits() }),
        V::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) => serde_json::json!({ "t": t }),
            Err(_) => serde_json::json!({ "b": b }),
        },
        V::Date(y, mo, d, h, mi, s, us) => serde_json::json!({
            "d": format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }),
        V::Time(neg, d, h, mi, s, us) => serde_json::json!({
            "t": format!("{}{}:{mi:02}:{s:02}.{us:06}", if *neg { "-" } else { "" }, u32::from(*h) + d * 24)
        }),
    }
}

/// An archived value as a statement parameter (MySQL converts text to the column's type).
fn json_arg(v: &serde_json::Value) -> Arg<'static> {
    if let Some(i) = v.get("i").and_then(serde_json::Value::as_i64) {
        Arg::Int(i)
    } else if let Some(u) = v.get("u").and_then(serde_json::Value::as_u64) {
        i64::try_from(u).map_or_else(|_| Arg::Text(u.to_string().into()), Arg::Int)
    } else if let Some(bits) = v.get("f").and_then(serde_json::Value::as_u64) {
        Arg::Text(f32::from_bits(bits as u32).to_string().into())
    } else if let Some(bits) = v.get("r").and_then(serde_json::Value::as_u64) {
        Arg::Text(f64::from_bits(bits).to_string().into())
    } else if let Some(t) = v
        .get("t")
        .or_else(|| v.get("d"))
        .and_then(serde_json::Value::as_str)
    {
        Arg::Text(t.to_string().into())
    } else if let Some(b) = v.get("b").and_then(serde_json::Value::as_array) {
        let bytes: Vec<u8> = b
            .iter()
            .filter_map(|x| x.as_u64())
            .map(|x| x as u8)
            .collect();
        Arg::Text(String::from_utf8_lossy(&bytes).into_owned().into())
    } else {
        Arg::Null
    }
}

const MY_ARCHIVE_DDL: &str = "CREATE TABLE IF NOT EXISTS orderbridge_sales_orders_archive (
    archived_id   BIGINT NOT NULL PRIMARY KEY,   -- the removed row's id
    kept_id       BIGINT NOT NULL,               -- the row kept in its place
    odoo_order_id BIGINT NULL,
    archived_at   VARCHAR(32) NOT NULL,
    row_json      LONGTEXT NOT NULL,             -- the whole row, every column, typed
    repointed     LONGTEXT NOT NULL              -- [{table, column, key, ids}] moved to kept_id
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";

impl Store {
    /// Columns of other tables that point at sales_orders.id: declared foreign keys,
    /// Laravel's `sales_order_id` convention, and the intents' `local_order_id`; each with
    /// its table's one-column primary key (which names the rows moved, for a restore).
    pub(super) fn mysql_order_references(&self) -> Result<Vec<(Reference, String)>> {
        let mut refs: Vec<Reference> = self.all(
            "SELECT table_name, column_name FROM information_schema.key_column_usage
             WHERE table_schema = DATABASE() AND referenced_table_name = 'sales_orders'
               AND referenced_column_name = 'id'",
            &[],
            |r| {
                Ok(Reference {
                    table: r.get("table_name")?,
                    column: r.get("column_name")?,
                })
            },
        )?;
        let by_name: Vec<Reference> = self.all(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = DATABASE()
               AND ((column_name = 'sales_order_id'
                     AND table_name NOT IN ('sales_orders', 'orderbridge_sales_orders_archive'))
                 OR (table_name = 'orderbridge_order_intents' AND column_name = 'local_order_id'))",
            &[],
            |r| {
                Ok(Reference {
                    table: r.get("table_name")?,
                    column: r.get("column_name")?,
                })
            },
        )?;
        for r in by_name {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        let mut out = Vec::new();
        for r in refs {
            let keys: Vec<String> = self.all(
                "SELECT column_name FROM information_schema.key_column_usage
                 WHERE table_schema = DATABASE() AND table_name = ?1 AND constraint_name = 'PRIMARY'",
                args![r.table],
                |row| row.get(0),
            )?;
            let [key] = keys.as_slice() else {
                return Err(StoreError::Conflict(format!(
                    "{}.{} points at sales_orders, but {} has no one-column primary key to record which rows are moved; nothing was changed",
                    r.table, r.column, r.table
                )));
            };
            out.push((r, key.clone()));
        }
        Ok(out)
    }

    /// The write lock's row, which a portal's database has before its first migration when
    /// dedupe runs (the seeds' guide cleans duplicates first).
    fn ensure_lock_row(&self) -> Result<()> {
        self.batch(
            "CREATE TABLE IF NOT EXISTS orderbridge_locks (name VARCHAR(32) NOT NULL PRIMARY KEY)
               ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
             INSERT IGNORE INTO orderbridge_locks (name) VALUES ('write')",
        )
    }

    /// [`Store::apply_dedupe`] on MySQL: the same steps, set-based through a temporary map
    /// of removed → kept rows, in one transaction (the archive table is made before it:
    /// MySQL commits a schema change).
    pub(super) fn mysql_apply_dedupe(&self, groups: &[DupGroup]) -> Result<usize> {
        let refs = self.mysql_order_references()?;
        self.batch(MY_ARCHIVE_DDL)?;
        self.ensure_lock_row()?;
        self.batch(
            "CREATE TEMPORARY TABLE IF NOT EXISTS orderbridge_dedupe_map (
               removed BIGINT NOT NULL PRIMARY KEY, kept BIGINT NOT NULL, odoo_order_id BIGINT NULL
             ) ENGINE = MEMORY",
        )?;
        self.batch("DELETE FROM orderbridge_dedupe_map")?;
        let pairs: Vec<(i64, i64, i64)> = groups
            .iter()
            .flat_map(|g| g.remove.iter().map(|r| (r.id, g.keep.id, g.odoo_order_id)))
            .collect();
        for chunk in pairs.chunks(500) {
            let marks: Vec<String> = (0..chunk.len())
                .map(|i| format!("(?{}, ?{}, ?{})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let args: Vec<Arg<'_>> = chunk
                .iter()
                .flat_map(|(r, k, o)| [Arg::Int(*r), Arg::Int(*k), Arg::Int(*o)])
                .collect();
            self.exec(
                &format!(
                    "INSERT INTO orderbridge_dedupe_map (removed, kept, odoo_order_id) VALUES {}",
                    marks.join(", ")
                ),
                &args,
            )?;
        }
        let tx = self.write_tx()?;
        // Which rows of each referencing table move, per removed order (kept for restore).
        let mut moved: std::collections::HashMap<i64, Vec<serde_json::Value>> =
            std::collections::HashMap::new();
        for (rf, key) in &refs {
            let (t, c) = (&rf.table, &rf.column);
            let rows: Vec<(i64, i64)> = self.all(
                &format!(
                    "SELECT x.\"{key}\" AS row_key, x.\"{c}\" AS order_ref FROM \"{t}\" x JOIN orderbridge_dedupe_map m ON x.\"{c}\" = m.removed"
                ),
                &[],
                |r| Ok((r.get("row_key")?, r.get("order_ref")?)),
            )?;
            let mut per: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
            for (id, order) in rows {
                per.entry(order).or_default().push(id);
            }
            for (order, ids) in per {
                moved
                    .entry(order)
                    .or_default()
                    .push(serde_json::json!({"table": t, "column": c, "key": key, "ids": ids}));
            }
            self.exec(
                &format!(
                    "UPDATE \"{t}\" x JOIN orderbridge_dedupe_map m ON x.\"{c}\" = m.removed SET x.\"{c}\" = m.kept"
                ),
                &[],
            )?;
        }
        let now = now_text();
        let archived: Vec<(i64, i64, Option<i64>, String)> = self.all(
            "SELECT m.kept AS archive_kept, m.odoo_order_id AS archive_odoo_id, o.* FROM sales_orders o JOIN orderbridge_dedupe_map m ON m.removed = o.id",
            &[],
            |r| {
                let Row::My(row) = r else {
                    return Err(StoreError::Database("not a MySQL row".into()));
                };
                let mut json = serde_json::Map::new();
                let mut id = 0;
                for (i, col) in row.columns_ref().iter().enumerate().skip(2) {
                    let v = row.as_ref(i).unwrap_or(&::mysql::Value::NULL);
                    let name = col.name_str().to_string();
                    if name == "id" {
                        id = super::db::mysql_i64(v)?;
                    }
                    json.insert(name, value_json(v));
                }
                Ok((
                    id,
                    r.get("archive_kept")?,
                    r.get("archive_odoo_id")?,
                    serde_json::Value::Object(json).to_string(),
                ))
            },
        )?;
        for (id, kept, oid, row_json) in &archived {
            let repointed = serde_json::Value::Array(moved.remove(id).unwrap_or_default());
            self.exec(
                "REPLACE INTO orderbridge_sales_orders_archive (archived_id, kept_id, odoo_order_id, archived_at, row_json, repointed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![id, kept, oid, now, row_json, repointed.to_string()],
            )?;
        }
        let removed = self.exec(
            "DELETE o FROM sales_orders o JOIN orderbridge_dedupe_map m ON o.id = m.removed",
            &[],
        )?;
        tx.commit()?;
        Ok(removed)
    }

    /// [`Store::restore_archived`] on MySQL.
    pub(super) fn mysql_restore(&self, id: i64) -> Result<Archived> {
        let found: Option<(i64, Option<i64>, String, String, String)> = self.first(
            "SELECT kept_id, odoo_order_id, archived_at, row_json, repointed FROM orderbridge_sales_orders_archive WHERE archived_id = ?1",
            args![id],
            |r| {
                Ok((
                    r.get("kept_id")?,
                    r.get("odoo_order_id")?,
                    r.get("archived_at")?,
                    r.get("row_json")?,
                    r.get("repointed")?,
                ))
            },
        )?;
        let Some((kept_id, odoo_order_id, archived_at, row_json, repointed)) = found else {
            return Err(StoreError::NotFound(format!(
                "there is no archived order {id}"
            )));
        };
        if self
            .first(
                "SELECT 1 FROM sales_orders WHERE id = ?1",
                args![id],
                |_| Ok(()),
            )?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "order {id} cannot be restored: a row with id {id} exists again"
            )));
        }
        if self.mysql_unique_on("sales_orders", "odoo_order_id")?
            && let Some(oid) = odoo_order_id
            && let Some(other) = self.first(
                "SELECT id FROM sales_orders WHERE odoo_order_id = ?1",
                args![oid],
                |r| r.get::<i64>(0),
            )?
        {
            return Err(StoreError::Conflict(format!(
                "order {id} cannot be restored: order {other} already has Odoo id {oid}, and the unique key allows one local row per Odoo order (remove or change order {other} first)"
            )));
        }
        let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row_json)
            .map_err(|e| StoreError::Database(format!("archived row unreadable: {e}")))?;
        // Only the columns the table still has.
        let mut present = Vec::new();
        for (k, v) in &row {
            if self.column_exists("sales_orders", k)? {
                present.push((k.clone(), json_arg(v)));
            }
        }
        self.ensure_lock_row()?;
        let tx = self.write_tx()?;
        let names: Vec<String> = present.iter().map(|(k, _)| format!("\"{k}\"")).collect();
        let marks: Vec<String> = (1..=present.len()).map(|i| format!("?{i}")).collect();
        let values: Vec<Arg<'_>> = present.into_iter().map(|(_, v)| v).collect();
        self.exec(
            &format!(
                "INSERT INTO sales_orders ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            ),
            &values,
        )?;
        let moves: Vec<serde_json::Value> = serde_json::from_str(&repointed).unwrap_or_default();
        for m in moves {
            let (Some(t), Some(c), Some(key)) =
                (m["table"].as_str(), m["column"].as_str(), m["key"].as_str())
            else {
                continue;
            };
            for rid in m["ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_i64)
            {
                self.exec(
                    &format!(
                        "UPDATE \"{t}\" SET \"{c}\" = ?1 WHERE \"{key}\" = ?2 AND \"{c}\" = ?3"
                    ),
                    args![id, rid, kept_id],
                )?;
            }
        }
        self.exec(
            "DELETE FROM orderbridge_sales_orders_archive WHERE archived_id = ?1",
            args![id],
        )?;
        tx.commit()?;
        Ok(Archived {
            archived_id: id,
            kept_id,
            odoo_order_id,
            archived_at,
        })
    }
}
