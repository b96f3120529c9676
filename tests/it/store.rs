//! The local store: migrations, WAL, and files that must be left alone.

use crate::env::TestEnv;

#[test]
fn new_database_gets_the_current_schema_in_wal_mode() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, orderbridge::store::SCHEMA_VERSION);
    assert_eq!(mode, "wal");
}

#[test]
fn odoo_order_id_is_unique_but_nulls_are_allowed() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let insert = |odoo: Option<i64>| {
        conn.execute(
            "INSERT INTO sales_orders (odoo_order_id, total_amount, created_at, updated_at) VALUES (?1, '1', 'x', 'x')",
            [odoo],
        )
    };
    insert(None).unwrap();
    insert(None).unwrap();
    insert(Some(7)).unwrap();
    assert!(insert(Some(7)).is_err());
}

fn assert_refused_unchanged(env: &TestEnv, needle: &str) {
    let before = std::fs::read(env.database()).unwrap();
    let run = env.run(&["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains(needle),
        "{needle:?} not in {}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(env.database()).unwrap(),
        before,
        "the file was modified"
    );
}

#[test]
fn corrupt_file_is_reported_and_left_unchanged() {
    let env = TestEnv::new();
    std::fs::write(
        env.database(),
        b"this is not a database, it is a grocery list\n".repeat(200),
    )
    .unwrap();
    assert_refused_unchanged(&env, "is not an orderbridge database, or is damaged");
}

#[test]
fn newer_schema_is_refused_and_left_unchanged() {
    let env = TestEnv::new();
    {
        let conn = rusqlite::Connection::open(env.database()).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    assert_refused_unchanged(
        &env,
        "schema version 99, newer than this orderbridge understands",
    );
}

#[test]
fn locked_database_waits_for_the_busy_timeout_then_says_so() {
    let env = TestEnv::new();
    env.run(&["db", "migrate"]);
    env.write_env(&[("ORDERBRIDGE_BUSY_TIMEOUT", "0.3")]);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE; INSERT INTO customers (name, email, created_at, updated_at) VALUES ('a', 'a@b.c', 'x', 'x');").unwrap();
    let run = env.run(&[
        "customers",
        "add",
        "--name",
        "B",
        "--email",
        "b@example.com",
    ]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains("is locked by another orderbridge run"),
        "{}",
        run.stderr
    );
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        env.run(&[
            "customers",
            "add",
            "--name",
            "B",
            "--email",
            "b@example.com"
        ])
        .code,
        0
    );
}

/// Tables with their columns (name, type, not null, default, pk) and indexes, sorted.
fn schema_of(conn: &rusqlite::Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut st = conn
        .prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (kind, name, table) in objects {
        if kind == "table" {
            let mut cols = conn.prepare(&format!("PRAGMA table_info({name})")).unwrap();
            let cols: Vec<String> = cols
                .query_map([], |r| {
                    Ok(format!(
                        "{}.{} {} notnull={} default={:?} pk={}",
                        name,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, i64>(5)?
                    ))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            out.extend(cols);
        } else {
            let unique: i64 = conn
                .query_row(
                    &format!("SELECT \"unique\" FROM pragma_index_list('{table}') WHERE name = ?1"),
                    [&name],
                    |r| r.get(0),
                )
                .unwrap();
            let mut cols = conn
                .prepare(&format!("SELECT name FROM pragma_index_info('{name}')"))
                .unwrap();
            let cols: Vec<String> = cols
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            out.push(format!(
                "{kind} {name} on {table}({}) unique={unique}",
                cols.join(",")
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn migrations_step_by_step_give_the_schema_of_schema_sql() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    let migrated = rusqlite::Connection::open(env.database()).unwrap();
    let fresh = rusqlite::Connection::open_in_memory().unwrap();
    fresh
        .execute_batch(include_str!("../../schema.sql"))
        .unwrap();
    assert_eq!(schema_of(&migrated), schema_of(&fresh));
}

#[test]
fn a_version_1_file_is_migrated_and_keeps_its_rows() {
    let env = TestEnv::new();
    {
        let conn = rusqlite::Connection::open(env.database()).unwrap();
        // What version 1 made (its intents table before the prefix).
        conn.execute_batch(include_str!("../../migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch("ALTER TABLE orderbridge_order_intents RENAME TO order_intents")
            .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO order_intents (key, payload_hash, payload, state, created_at, updated_at)
             VALUES ('K', 'h', '{}', 'pending', '2026-01-01 00:00:00', '2026-01-01 00:00:00');",
        )
        .unwrap();
    }
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, orderbridge::store::SCHEMA_VERSION);
    let (key, sent): (String, Option<String>) = conn
        .query_row(
            "SELECT key, sent_at FROM orderbridge_order_intents",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((key.as_str(), sent), ("K", None));
}

/// The store as a version 8 binary left it: orderbridge's tables and indexes without their
/// prefix.
fn unprefixed_version_8(env: &TestEnv) {
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.execute_batch(
        "ALTER TABLE orderbridge_order_intents RENAME TO order_intents;
         ALTER TABLE orderbridge_runs RENAME TO runs;
         ALTER TABLE orderbridge_sync_cursors RENAME TO sync_cursors;
         ALTER TABLE orderbridge_amount_conflicts RENAME TO amount_conflicts;
         ALTER TABLE orderbridge_odoo_logins RENAME TO odoo_logins;
         DROP INDEX orderbridge_runs_kind_started_at;
         CREATE INDEX runs_kind_started_at ON runs (kind, started_at);
         DROP INDEX orderbridge_order_intents_state_created_at;
         CREATE INDEX order_intents_state_created_at ON order_intents (state, created_at);
         DROP INDEX orderbridge_amount_conflicts_order_state;
         CREATE INDEX amount_conflicts_order_state ON amount_conflicts (order_id, state);
         DROP TABLE sales_order_lines;
         DROP TABLE orderbridge_odoo_features;
         ALTER TABLE sales_orders DROP COLUMN odoo_delivery_status;
         ALTER TABLE sales_orders DROP COLUMN odoo_invoice_status;
         ALTER TABLE sales_orders DROP COLUMN odoo_amount_invoiced;
         ALTER TABLE sales_orders DROP COLUMN odoo_amount_to_invoice;
         ALTER TABLE sales_orders DROP COLUMN odoo_payment_state;
         ALTER TABLE sales_orders DROP COLUMN odoo_commitment_date;
         ALTER TABLE sales_orders DROP COLUMN odoo_expected_date;
         ALTER TABLE sales_orders DROP COLUMN odoo_effective_date;
         ALTER TABLE sales_orders DROP COLUMN odoo_details_hash;
         ALTER TABLE sales_orders DROP COLUMN odoo_details_synced_at;
         PRAGMA user_version = 8;",
    )
    .unwrap();
}

#[test]
fn a_store_from_before_the_prefix_is_renamed_in_place_with_its_rows() {
    let env = TestEnv::new();
    unprefixed_version_8(&env);
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    let migrated = rusqlite::Connection::open(env.database()).unwrap();
    let fresh = rusqlite::Connection::open_in_memory().unwrap();
    fresh
        .execute_batch(include_str!("../../schema.sql"))
        .unwrap();
    assert_eq!(schema_of(&migrated), schema_of(&fresh));
    let runs: i64 = migrated
        .query_row("SELECT COUNT(*) FROM orderbridge_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1, "the run history is kept");
}

#[test]
fn a_portal_table_named_like_an_old_orderbridge_table_is_left_alone() {
    let env = TestEnv::new();
    {
        let conn = rusqlite::Connection::open(env.database()).unwrap();
        conn.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, athlete TEXT NOT NULL, km REAL);
             INSERT INTO runs (athlete, km) VALUES ('ana', 5.5), ('bo', 10);",
        )
        .unwrap();
    }
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    env.link_deco();
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let portal: Vec<(String, f64)> = conn
        .prepare("SELECT athlete, km FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        portal,
        vec![("ana".to_string(), 5.5), ("bo".to_string(), 10.0)]
    );
    let columns: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_table_info('runs')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(columns, 3, "no column added to the portal's table");
    let ours: i64 = conn
        .query_row("SELECT COUNT(*) FROM orderbridge_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ours, 1);
}

/// A store with 3,000 orders whose middle pages are overwritten with random bytes.
fn damaged(env: &TestEnv) {
    assert_eq!(env.run(&["db", "migrate"]).code, 0);
    {
        let conn = rusqlite::Connection::open(env.database()).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 1..=3000 {
            tx.execute(
                "INSERT INTO sales_orders (odoo_order_id, order_number, total_amount, created_at, updated_at)
                 VALUES (?1, 'S' || ?1, '10.00', datetime('now'), datetime('now'))",
                [i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let mut bytes = std::fs::read(env.database()).unwrap();
    let mid = bytes.len() / 2;
    let mut x: u32 = 2_463_534_242;
    for b in &mut bytes[mid..mid + 3000] {
        // xorshift: the same "random" bytes every run.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(env.database(), bytes).unwrap();
}

fn assert_refused_before_writing(env: &TestEnv, args: &[&str]) {
    let before = std::fs::read(env.database()).unwrap();
    let run = env.run(args);
    assert_eq!(run.code, 4, "{args:?}: {}", run.all());
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    // Compared without printing: a megabyte of bytes helps no one.
    assert!(
        std::fs::read(env.database()).unwrap() == before,
        "{args:?} wrote into it"
    );
}

#[test]
fn a_damaged_store_is_refused_by_a_sync_before_it_writes() {
    let env = TestEnv::new();
    damaged(&env);
    assert_refused_before_writing(&env, &["orders", "sync-amounts", "--all"]);
}

#[test]
fn a_damaged_store_is_refused_by_customers_add_before_it_writes() {
    let env = TestEnv::new();
    damaged(&env);
    assert_refused_before_writing(
        &env,
        &[
            "customers",
            "add",
            "--name",
            "A",
            "--email",
            "a@example.com",
        ],
    );
}

#[test]
fn a_damaged_store_is_refused_by_create_before_odoo_is_asked_to_create() {
    let env = TestEnv::new();
    env.link_deco();
    damaged(&env);
    assert_refused_before_writing(
        &env,
        &["orders", "create", "--customer", "1", "--amount", "5"],
    );
    assert_eq!(env.fake.calls("sale.order", "web_save"), 0);
}
