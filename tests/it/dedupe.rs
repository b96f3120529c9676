//! `orders dedupe` and `db migrate` on a legacy (Laravel) database with duplicates.

use crate::env::TestEnv;

/// A portal database from before the unique index: duplicate groups (one agreeing, one with
/// a created_at tie and disagreeing amounts), NULL odoo ids, and order items pointing at
/// orders.
fn legacy(env: &TestEnv) {
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.execute_batch(
        "CREATE TABLE sales_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER, order_number TEXT,
            odoo_order_id INTEGER, total_amount DECIMAL(10,2), status TEXT, created_at TEXT, updated_at TEXT);
         CREATE TABLE sales_order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, sales_order_id INTEGER NOT NULL,
            product_name TEXT, quantity INTEGER, price DECIMAL(10,2), FOREIGN KEY (sales_order_id) REFERENCES sales_orders(id));
         INSERT INTO sales_orders VALUES
            (1, 1, 'S00100', 100, 857.87, 'pending',   '2026-01-01 10:00:00', '2026-01-01 10:00:00'),
            (2, 1, 'S00100', 100, 857.87, 'pending',   '2026-01-01 10:05:00', '2026-01-01 10:05:00'),
            (3, 2, 'S00200', 200, 100.00, 'pending',   '2026-01-02 09:00:00', '2026-01-02 09:00:00'),
            (4, 2, 'S00200', 200, 120.00, 'confirmed', '2026-01-02 09:00:00', '2026-01-02 09:00:00'),
            (5, 3, NULL,     NULL, 10.00, 'pending',   '2026-01-03 09:00:00', '2026-01-03 09:00:00'),
            (6, 3, NULL,     NULL, 10.00, 'pending',   '2026-01-03 09:00:00', '2026-01-03 09:00:00'),
            (7, 3, 'S00300', 300,   5.00, 'pending',   '2026-01-04 09:00:00', '2026-01-04 09:00:00'),
            (8, 2, 'S00200', 200, 100.00, 'pending',   '2026-01-01 08:00:00', '2026-01-01 08:00:00');
         INSERT INTO sales_order_items (id, sales_order_id, product_name, quantity, price) VALUES
            (1, 2, 'Chair', 1, 857.87), (2, 4, 'Desk', 1, 120.00), (3, 1, 'Chair', 1, 857.87), (4, 3, 'Desk', 1, 100.00);",
    )
    .unwrap();
}

fn dump(env: &TestEnv, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i)
                    .map(|v| format!("{v:?}"))
            })
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn ids(env: &TestEnv) -> Vec<i64> {
    dump(env, "SELECT id FROM sales_orders ORDER BY id")
        .iter()
        .map(|r| {
            r[0].trim_start_matches("Integer(")
                .trim_end_matches(')')
                .parse()
                .unwrap()
        })
        .collect()
}

fn item_orders(env: &TestEnv) -> Vec<String> {
    dump(
        env,
        "SELECT sales_order_id FROM sales_order_items ORDER BY id",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn dry_run_shows_each_group_and_leaves_the_file_byte_identical() {
    let env = TestEnv::new();
    legacy(&env);
    let before = std::fs::read(env.database()).unwrap();
    let run = env.run(&["orders", "dedupe", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    let groups = j["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "NULL odoo ids are never duplicates");
    assert_eq!(groups[0]["odoo_order_id"], 100);
    assert_eq!(groups[0]["keep"]["id"], 1);
    assert_eq!(groups[0]["remove"][0]["id"], 2);
    assert_eq!(groups[0]["disagree"], false);
    // Oldest created_at is kept; the tie between 3 and 4 goes to the lower id.
    assert_eq!(groups[1]["keep"]["id"], 8);
    assert_eq!(
        groups[1]["remove"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(groups[1]["disagree"], true);
    assert_eq!(j["applied"], false);
    assert_eq!(std::fs::read(env.database()).unwrap(), before);

    let text = env.run(&["orders", "dedupe"]);
    assert!(text.stdout.contains("rows disagree"), "{}", text.stdout);
    assert!(
        text.stdout.contains("Nothing was changed"),
        "{}",
        text.stdout
    );
    assert_eq!(std::fs::read(env.database()).unwrap(), before);
}

#[test]
fn migrate_refuses_while_duplicates_remain_and_changes_nothing() {
    let env = TestEnv::new();
    legacy(&env);
    let before = std::fs::read(env.database()).unwrap();
    let run = env.run(&["db", "migrate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("2 odoo_order_id values stored more than once (5 rows in all)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("orders dedupe"), "{}", run.stderr);
    assert_eq!(std::fs::read(env.database()).unwrap(), before);
}

#[test]
fn other_commands_refuse_a_legacy_file_with_duplicates() {
    let env = TestEnv::new();
    legacy(&env);
    let run = env.run(&["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("orders dedupe"), "{}", run.stderr);
}

#[test]
fn apply_keeps_the_oldest_moves_the_items_and_archives_the_rest() {
    let env = TestEnv::new();
    legacy(&env);
    let run = env.run(&["orders", "dedupe", "--yes", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["removed"], 3);
    assert_eq!(ids(&env), vec![1, 5, 6, 7, 8]);
    // Items of removed orders now point at the kept ones; none is orphaned.
    assert_eq!(
        item_orders(&env),
        vec!["Integer(1)", "Integer(8)", "Integer(1)", "Integer(8)"]
    );
    let archive = dump(
        &env,
        "SELECT archived_id, kept_id FROM orderbridge_sales_orders_archive ORDER BY archived_id",
    );
    assert_eq!(
        archive,
        vec![
            vec!["Integer(2)", "Integer(1)"],
            vec!["Integer(3)", "Integer(8)"],
            vec!["Integer(4)", "Integer(8)"]
        ]
    );
    // A second run finds nothing.
    let again = env.run(&["orders", "dedupe", "--json"]).json();
    assert_eq!(again["groups"], serde_json::json!([]));
}

#[test]
fn apply_then_restore_round_trips() {
    let env = TestEnv::new();
    legacy(&env);
    let orders_before = dump(&env, "SELECT * FROM sales_orders ORDER BY id");
    let items_before = dump(&env, "SELECT * FROM sales_order_items ORDER BY id");
    assert_eq!(env.run(&["orders", "dedupe", "--yes"]).code, 0);
    for id in ["2", "3", "4"] {
        let run = env.run(&["orders", "dedupe", "--restore", id]);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    assert_eq!(
        dump(&env, "SELECT * FROM sales_orders ORDER BY id"),
        orders_before
    );
    assert_eq!(
        dump(&env, "SELECT * FROM sales_order_items ORDER BY id"),
        items_before
    );
}

#[test]
fn migrate_succeeds_after_dedupe_and_restore_then_says_why_it_cannot() {
    let env = TestEnv::new();
    legacy(&env);
    assert_eq!(env.run(&["orders", "dedupe", "--yes"]).code, 0);
    let run = env.run(&["db", "migrate", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["to_version"], orderbridge::store::SCHEMA_VERSION);
    // The legacy rows are usable by every command now.
    let list = env.run(&["orders", "list", "--no-sync", "--json"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert_eq!(list.json()["orders"].as_array().unwrap().len(), 5);
    // Restoring a duplicate would break the unique index: refused, with the reason.
    let restore = env.run(&["orders", "dedupe", "--restore", "2"]);
    assert_eq!(restore.code, 1, "{}", restore.all());
    assert!(
        restore.stderr.contains("order 1 already has Odoo id 100"),
        "{}",
        restore.stderr
    );
    assert_eq!(ids(&env), vec![1, 5, 6, 7, 8]);
    // Migrating again is a no-op.
    assert!(env.run(&["db", "migrate"]).stdout.contains("up to date"));
}

#[test]
fn migrate_without_duplicates_adds_the_unique_index() {
    let env = TestEnv::new();
    legacy(&env);
    let conn = rusqlite::Connection::open(env.database()).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM sales_orders WHERE id IN (2, 3, 4)")
        .unwrap();
    let run = env.run(&["db", "migrate"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(conn
        .execute("INSERT INTO sales_orders (odoo_order_id, total_amount, created_at, updated_at) VALUES (100, '1', 'x', 'x')", [])
        .is_err());
}

#[test]
fn remote_duplicates_are_odoo_orders_sharing_a_key() {
    let env = TestEnv::new();
    env.fake.with_world(|w| {
        for id in [1, 2] {
            w.orders.get_mut(&id).unwrap().origin = Some("ob-twice".into());
        }
        w.orders.get_mut(&3).unwrap().origin = Some("ob-once".into());
    });
    let run = env.run(&["orders", "dedupe", "--odoo", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["key"], "ob-twice");
    assert_eq!(j[0]["orders"].as_array().unwrap().len(), 2);
    assert_eq!(env.fake.calls("sale.order", "write"), 0);
}

#[test]
fn apply_names_the_archived_ids_and_list_archived_shows_them() {
    let env = TestEnv::new();
    legacy(&env);
    let run = env.run(&["orders", "dedupe", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Archived ids: 2, 3, 4"),
        "{}",
        run.stdout
    );
    let listed = env
        .run(&["orders", "dedupe", "--list-archived", "--json"])
        .json();
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["archived_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 3, 4]);
}
