//! What only a MySQL store has: its migrations table, DECIMAL money, UTC times whatever the
//! server's zone, its errors.

use crate::env::TestEnv;

#[test]
fn the_migrations_are_tracked_in_a_table_and_money_is_decimal() {
    let env = TestEnv::new();
    env.link_deco();
    assert_eq!(
        env.scalar("SELECT MAX(version) FROM orderbridge_schema_migrations"),
        Some(orderbridge::store::SCHEMA_VERSION.to_string())
    );
    for (table, column) in [
        ("sales_orders", "total_amount"),
        ("sales_orders", "odoo_amount_total"),
        ("orderbridge_amount_conflicts", "odoo_amount"),
    ] {
        assert_eq!(
            env.scalar(&format!(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = '{column}'"
            ))
            .as_deref(),
            Some("decimal"),
            "{table}.{column}"
        );
    }
}

#[test]
fn a_schema_newer_than_the_binary_is_refused_and_left_alone() {
    let env = TestEnv::new();
    env.link_deco();
    env.sql("INSERT INTO orderbridge_schema_migrations (version, applied_at) VALUES (99, 'later')");
    let run = env.run(&["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.stderr.contains("schema version 99"), "{}", run.stderr);
}

#[test]
fn an_unreachable_server_is_exit_4_and_its_password_is_never_shown() {
    let env = TestEnv::new();
    let run = env.run_on(
        "mariadb://ob:s3cret-pw@127.0.0.1:1/portal",
        &["orders", "list", "--no-sync"],
    );
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(
        run.stderr.contains("mariadb://ob:***@127.0.0.1:1/portal"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("s3cret-pw"), "{}", run.all());
}

#[test]
fn a_wrong_password_is_exit_4_and_is_never_shown() {
    let env = TestEnv::new();
    let url = env
        .my
        .clone()
        .unwrap()
        .replace(crate::my_server::PASSWORD, "Wr0ng-pw");
    let run = env.run_on(&url, &["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.stderr.contains("Access denied"), "{}", run.stderr);
    assert!(!run.all().contains("Wr0ng-pw"), "{}", run.all());
}

#[test]
fn times_are_utc_whatever_the_servers_zone() {
    let env = TestEnv::new();
    // The server's zone for new sessions, as a host outside UTC would have it.
    env.sql("SET GLOBAL time_zone = '+05:00'");
    env.link_deco();
    let list = env.run(&["orders", "list", "--json"]);
    env.sql("SET GLOBAL time_zone = SYSTEM");
    assert_eq!(list.code, 0, "{}", list.all());
    let stored = env
        .scalar("SELECT UNIX_TIMESTAMP(MAX(updated_at)) FROM sales_orders")
        .unwrap();
    let stored: f64 = stored.parse().unwrap();
    let drift = (chrono::Utc::now().timestamp() as f64 - stored).abs();
    assert!(drift < 120.0, "updated_at is {drift} s from now: not UTC");
}

#[test]
fn the_portals_unique_key_is_refused_while_duplicates_remain() {
    let env = TestEnv::new();
    env.sql(
        "CREATE TABLE sales_orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT UNSIGNED NULL,
           order_number VARCHAR(255) NULL, odoo_order_id BIGINT NULL, total_amount DECIMAL(10, 2) NOT NULL,
           status VARCHAR(255) NOT NULL DEFAULT 'pending', created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL);
         INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, created_at)
           VALUES (1, 'S00100', 100, 857.87, '2026-01-01 10:00:00'), (1, 'S00100', 100, 857.87, '2026-01-01 10:05:00');",
    );
    let run = env.run(&["db", "migrate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("orders dedupe"), "{}", run.stderr);
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM sales_orders").as_deref(),
        Some("2"),
        "nothing removed"
    );
}
