//! What only a MySQL / MariaDB store does: its migrations (MySQL commits each schema change,
//! so they run under a named lock rather than in one transaction), adopting a Laravel
//! portal's own `sales_orders` and `customers` in place, and its indexes.

use super::db::args;
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
        self.adopt_portal_tables()?;
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

    /// A portal's own tables get the columns orderbridge needs; nothing of theirs is
    /// dropped, renamed or retyped. Duplicates of `odoo_order_id` are refused before its
    /// unique key is made (the seeds' guide: clean them with `orders dedupe` first).
    fn adopt_portal_tables(&self) -> Result<()> {
        for (table, columns) in PORTAL_COLUMNS {
            if !self.table_exists(table)? {
                continue;
            }
            for (name, decl) in *columns {
                if !self.column_exists(table, name)? {
                    self.batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {decl}"))?;
                }
            }
        }
        if !self.mysql_unique_on("sales_orders", "odoo_order_id")? {
            let (groups, rows) = self.duplicate_counts()?;
            if groups > 0 {
                return Err(StoreError::LegacyDuplicates { groups, rows });
            }
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
