//! What only a PostgreSQL store has or does: a SQLite store copied over, its migrations
//! table, a lost connection, the rename of a store from before the prefix.

use fake_odoo::FakeOptions;

use crate::env::TestEnv;

/// A SQLite store with customers, imported orders, a created one and a run behind it.
fn sqlite_store() -> TestEnv {
    let env = TestEnv::with(FakeOptions::default());
    let sqlite = env.path("portal.db");
    let run = |args: &[&str]| {
        let out = env
            .command_on(env.dir.path(), sqlite.to_str().unwrap(), args)
            .output()
            .unwrap();
        TestEnv::collect(out)
    };
    let r = run(&[
        "customers",
        "add",
        "--name",
        "Deco",
        "--email",
        "deco@example.com",
        "--odoo-partner-id",
        "9",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(run(&["orders", "list"]).code, 0);
    let r = run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "12.34",
        "--idempotency-key",
        "c-1",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(run(&["orders", "sync-amounts", "--all"]).code, 0);
    env
}

fn listing(env: &TestEnv, database: &str) -> serde_json::Value {
    let out = env
        .command_on(
            env.dir.path(),
            database,
            &["orders", "list", "--no-sync", "--json"],
        )
        .output()
        .unwrap();
    let run = TestEnv::collect(out);
    assert_eq!(run.code, 0, "{}", run.all());
    run.json()["orders"].clone()
}

#[test]
fn a_sqlite_store_copied_over_has_the_same_counts_and_amounts() {
    let env = sqlite_store();
    let sqlite = env.path("portal.db").display().to_string();
    let url = env.pg.clone().unwrap();
    let out = env
        .command_on(
            env.dir.path(),
            &sqlite,
            &["db", "copy", "--to", &url, "--json"],
        )
        .output()
        .unwrap();
    let run = TestEnv::collect(out);
    assert_eq!(run.code, 0, "{}", run.all());
    let tables = run.json()["tables"].clone();
    let orders = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "sales_orders")
        .unwrap()
        .clone();
    assert_eq!(orders["rows"], 6, "{tables}");
    assert_eq!(listing(&env, &sqlite), listing(&env, &url));
    // New rows continue after the copied ids.
    let r = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "1",
        "--idempotency-key",
        "c-2",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["order"]["id"], 7);
}

#[test]
fn a_copy_into_a_store_that_holds_data_copies_nothing() {
    let env = sqlite_store();
    env.link_deco();
    let sqlite = env.path("portal.db").display().to_string();
    let url = env.pg.clone().unwrap();
    let out = env
        .command_on(env.dir.path(), &sqlite, &["db", "copy", "--to", &url])
        .output()
        .unwrap();
    let run = TestEnv::collect(out);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("already holds data"), "{}", run.stderr);
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM sales_orders").as_deref(),
        Some("0")
    );
}

#[test]
fn dedupe_on_postgres_finds_nothing_to_remove() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    let run = env.run(&["orders", "dedupe", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.json()["groups"].as_array().map(Vec::len),
        Some(0),
        "{}",
        run.all()
    );
}

#[test]
fn the_schedule_for_a_shared_store_names_no_database_and_says_every_host_may_run_it() {
    let env = TestEnv::new();
    env.write_env(&[("ORDERBRIDGE_DATABASE", env.pg.as_deref().unwrap())]);
    let out = env
        .command(env.dir.path(), &["schedule", "--cron"])
        .output()
        .unwrap();
    let run = TestEnv::collect(out);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("on every host"), "{}", run.stdout);
    assert!(!run.stdout.contains("postgres://"), "{}", run.stdout);
}

#[test]
fn an_unreachable_server_is_exit_4_and_its_password_is_never_shown() {
    let env = TestEnv::new();
    let run = env.run_on(
        "postgres://ob:s3cret-pw@127.0.0.1:1/portal",
        &["orders", "list", "--no-sync"],
    );
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains("cannot reach the PostgreSQL database"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("postgres://ob:***@127.0.0.1:1/portal"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("s3cret-pw"), "{}", run.all());
}

#[test]
fn the_migrations_are_tracked_in_a_table_and_money_is_numeric() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(
        env.scalar("SELECT MAX(version) FROM orderbridge_schema_migrations"),
        Some(orderbridge::store::SCHEMA_VERSION.to_string())
    );
    assert_eq!(
        env.scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'sales_orders' AND column_name = 'total_amount'"
        )
        .as_deref(),
        Some("numeric")
    );
}

#[test]
fn a_schema_newer_than_the_binary_is_refused_and_left_alone() {
    let env = TestEnv::new();
    env.link_deco();
    env.sql("INSERT INTO orderbridge_schema_migrations (version, applied_at) VALUES (99, NOW())");
    let run = env.run(&["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.stderr.contains("schema version 99"), "{}", run.stderr);
}

#[test]
fn a_sync_whose_connection_is_lost_says_what_it_had_updated_and_closes_its_run() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    for id in [1, 5, 9, 13, 17] {
        env.set_total(id, "1234.56");
    }
    let mut cmd = env.command(
        env.dir.path(),
        &[
            "orders",
            "sync-amounts",
            "--all",
            "--batch-size",
            "2",
            "--concurrency",
            "1",
        ],
    );
    cmd.env("ORDERBRIDGE_FAILPOINT", "sync-lose-store-after-chunk");
    let run = TestEnv::collect(cmd.output().unwrap());
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains("after 2 order(s) had been updated"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    let row = &env.rows(
        "SELECT finished_at, outcome, updated FROM orderbridge_runs ORDER BY id DESC LIMIT 1",
    )[0];
    assert!(row[0].is_some(), "the run is closed: {row:?}");
    assert_eq!(row[1].as_deref(), Some("error"));
    assert_eq!(row[2].as_deref(), Some("2"));
}

#[test]
fn a_laravel_pgsql_portal_is_used_from_its_db_keys() {
    // postgres://USER@HOST:PORT/DB of a fresh database on the throwaway server.
    let url = crate::pg_server::server().fresh_database();
    let rest = url.strip_prefix("postgres://").unwrap();
    let (user, rest) = rest.split_once('@').unwrap();
    let (host_port, database) = rest.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let env = crate::laravel::portal(&[
        ("DB_CONNECTION", "pgsql"),
        ("DB_HOST", host),
        ("DB_PORT", port),
        ("DB_DATABASE", database),
        ("DB_USERNAME", user),
    ]);
    crate::laravel::add_customer(&env);
    let list = env.run_with_settings(env.dir.path(), &["orders", "list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert_eq!(list.json()["sync"]["pulled"], 5);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM sales_orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5, "the orders are in the portal's database");
}

#[test]
fn a_store_from_before_the_prefix_is_renamed_in_place_with_its_rows() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    // As a version 8 binary left it.
    env.sql(
        "ALTER TABLE orderbridge_order_intents RENAME TO order_intents;
         ALTER TABLE order_intents RENAME CONSTRAINT orderbridge_order_intents_state_check TO order_intents_state_check;
         ALTER TABLE orderbridge_runs RENAME TO runs;
         ALTER TABLE orderbridge_sync_cursors RENAME TO sync_cursors;
         ALTER TABLE orderbridge_amount_conflicts RENAME TO amount_conflicts;
         ALTER TABLE orderbridge_odoo_logins RENAME TO odoo_logins;
         ALTER INDEX orderbridge_runs_kind_started_at RENAME TO runs_kind_started_at;
         ALTER INDEX orderbridge_order_intents_state_created_at RENAME TO order_intents_state_created_at;
         ALTER INDEX orderbridge_amount_conflicts_order_state RENAME TO amount_conflicts_order_state;
         ALTER TABLE orderbridge_schema_migrations RENAME TO schema_migrations;
         DELETE FROM schema_migrations WHERE version >= 9;",
    );
    let run = env.run(&["status", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        env.scalar("SELECT MAX(version) FROM orderbridge_schema_migrations"),
        Some(orderbridge::store::SCHEMA_VERSION.to_string())
    );
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM orderbridge_runs")
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        env.scalar("SELECT to_regclass('runs')::text"),
        None,
        "nothing left under the old names"
    );
    // The outbox still works under the renamed constraint.
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM pg_constraint WHERE conname = 'orderbridge_order_intents_state_check'")
            .as_deref(),
        Some("1")
    );
}

#[test]
fn times_are_timestamptz_and_a_store_with_text_times_is_migrated_keeping_them() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(env.run(&["orders", "list"]).code, 0);
    assert_eq!(
        env.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'sales_orders' AND column_name = 'created_at'")
            .as_deref(),
        Some("timestamp with time zone")
    );
    // As a version 9 store kept them: text.
    env.sql(
        "ALTER TABLE sales_orders ALTER COLUMN created_at TYPE text USING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS');
         DELETE FROM orderbridge_schema_migrations WHERE version >= 10;",
    );
    let before = env
        .scalar("SELECT created_at FROM sales_orders ORDER BY id LIMIT 1")
        .unwrap();
    assert_eq!(env.run(&["status"]).code, 0);
    assert_eq!(
        env.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'sales_orders' AND column_name = 'created_at'")
            .as_deref(),
        Some("timestamp with time zone")
    );
    let after = env
        .scalar("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM sales_orders ORDER BY id LIMIT 1")
        .unwrap();
    assert_eq!(after, before);
    // Odoo's stamps stay its text.
    assert_eq!(
        env.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'sales_orders' AND column_name = 'odoo_write_date'")
            .as_deref(),
        Some("text")
    );
}

#[test]
fn a_laravel_pgsql_portals_own_tables_are_adopted_in_place() {
    let env = TestEnv::new();
    env.sql(
        "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL,
           email VARCHAR(255) NOT NULL UNIQUE, password VARCHAR(255) NOT NULL,
           created_at TIMESTAMP(0) NULL, updated_at TIMESTAMP(0) NULL);
         INSERT INTO users (name, email, password, created_at) VALUES ('Deco', 'deco@example.com', 'x', NOW());
         CREATE TABLE sales_orders (id BIGSERIAL PRIMARY KEY, customer_id BIGINT NOT NULL,
           order_number VARCHAR(255) NOT NULL, odoo_order_id BIGINT NULL,
           total_amount NUMERIC(10, 2) NOT NULL, status VARCHAR(255) NOT NULL DEFAULT 'pending',
           shipping_address TEXT NULL, order_date DATE NULL,
           created_at TIMESTAMP(0) NULL, updated_at TIMESTAMP(0) NULL);
         INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, shipping_address, order_date, created_at)
           VALUES (1, 'S00005', 5, 300.00, '1 Main St', '2026-11-01', NOW());",
    );
    env.write_env(&[("ORDERBRIDGE_CUSTOMERS_TABLE", "users")]);
    let migrate = env.run(&["db", "migrate"]);
    assert_eq!(migrate.code, 0, "{}", migrate.all());
    env.sql("UPDATE users SET odoo_partner_id = 9");
    let list = env.run(&["orders", "list", "--customer", "1", "--json"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert_eq!(list.json()["sync"]["pulled"], 4, "{}", list.stdout);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let column = |t: &str, c: &str| {
        env.scalar(&format!(
            "SELECT data_type FROM information_schema.columns WHERE table_name = '{t}' AND column_name = '{c}'"
        ))
    };
    assert_eq!(
        column("sales_orders", "created_at").as_deref(),
        Some("timestamp without time zone")
    );
    assert_eq!(
        column("sales_orders", "order_date").as_deref(),
        Some("date"),
        "the portal's own"
    );
    assert_eq!(
        column("sales_orders", "total_amount").as_deref(),
        Some("numeric")
    );
    assert_eq!(
        env.scalar("SELECT total_amount::text || ' ' || shipping_address || ' ' || order_date::text FROM sales_orders WHERE odoo_order_id = 5")
            .as_deref(),
        Some("375.77 1 Main St 2026-11-01")
    );
}
