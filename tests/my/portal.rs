//! The portal's own MySQL database, as a Laravel portal has it: its `users` (the customers),
//! its `sales_orders` with columns of its own, `sales_order_items` pointing at them, and
//! Laravel's `migrations`. orderbridge works on those tables in place.

use crate::env::TestEnv;

/// A Laravel portal's schema and rows: user 1 (Deco), two orders the portal stored for Odoo
/// orders 1 and 5, one not in Odoo yet, and an item of each.
fn laravel_portal() -> TestEnv {
    let env = TestEnv::new();
    env.sql(
        "CREATE TABLE migrations (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, migration VARCHAR(255) NOT NULL, batch INT NOT NULL);
         INSERT INTO migrations (migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1), ('2024_01_01_000000_create_sales_orders_table', 1);
         CREATE TABLE users (
           id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL,
           email VARCHAR(255) NOT NULL UNIQUE, email_verified_at TIMESTAMP NULL,
           password VARCHAR(255) NOT NULL, remember_token VARCHAR(100) NULL,
           created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL);
         INSERT INTO users (name, email, password, created_at, updated_at)
           VALUES ('Deco Addict', 'deco@example.com', '$2y$12$hash', NOW(), NOW());
         CREATE TABLE sales_orders (
           id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT UNSIGNED NOT NULL,
           order_number VARCHAR(255) NOT NULL, odoo_order_id BIGINT UNSIGNED NULL,
           total_amount DECIMAL(10, 2) NOT NULL, status VARCHAR(255) NOT NULL DEFAULT 'pending',
           shipping_address TEXT NULL, coupon_code VARCHAR(50) NULL,
           created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL);
         INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, status, shipping_address, coupon_code, created_at, updated_at) VALUES
           (1, 'S00001', 1, 11.50, 'pending', '1 Main St', 'WELCOME', NOW(), NOW()),
           (1, 'S00005', 5, 300.00, 'pending', '1 Main St', NULL, NOW(), NOW()),
           (1, 'PORTAL-3', NULL, 42.00, 'pending', '2 Side St', NULL, NOW(), NOW());
         CREATE TABLE sales_order_items (
           id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
           sales_order_id BIGINT UNSIGNED NOT NULL, sku VARCHAR(64) NOT NULL, qty INT NOT NULL,
           FOREIGN KEY (sales_order_id) REFERENCES sales_orders (id));
         INSERT INTO sales_order_items (sales_order_id, sku, qty) VALUES (1, 'CHAIR', 1), (2, 'CHAIR', 3);",
    );
    env.write_env(&[("ORDERBRIDGE_CUSTOMERS_TABLE", "users")]);
    env
}

fn migrated(env: &TestEnv) {
    let run = env.run(&["db", "migrate"]);
    assert_eq!(run.code, 0, "{}", run.all());
    // The portal links its user to the Odoo partner (or `customers link` does).
    env.sql("UPDATE users SET odoo_partner_id = 9 WHERE id = 1");
}

/// The sum of customer 1's portal amounts as orderbridge lists them.
fn listed_total(env: &TestEnv) -> rust_decimal::Decimal {
    let listed = env
        .run(&["orders", "list", "--customer", "1", "--no-sync", "--json"])
        .json();
    listed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["total_amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum()
}

fn column_type(env: &TestEnv, table: &str, column: &str) -> Option<String> {
    env.scalar(&format!(
        "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = '{column}'"
    ))
}

#[test]
fn the_portals_tables_are_adopted_and_its_own_columns_and_rows_left_alone() {
    let env = laravel_portal();
    migrated(&env);
    assert_eq!(
        column_type(&env, "sales_orders", "total_amount").as_deref(),
        Some("decimal(10,2)")
    );
    assert_eq!(
        column_type(&env, "sales_orders", "shipping_address").as_deref(),
        Some("text")
    );
    assert_eq!(
        column_type(&env, "sales_orders", "odoo_order_id").as_deref(),
        Some("bigint(20) unsigned")
    );
    assert!(column_type(&env, "users", "odoo_partner_id").is_some());
    assert!(column_type(&env, "users", "password").is_some());
    assert_eq!(
        env.scalar("SELECT COUNT(*) FROM migrations").as_deref(),
        Some("2"),
        "Laravel's migrations table is left alone"
    );
    assert_eq!(
        env.scalar("SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'sales_orders' AND column_name = 'odoo_order_id' AND non_unique = 0").as_deref(),
        Some("sales_orders_odoo_order_id_unique")
    );
}

#[test]
fn a_listing_pulls_into_the_portals_table_and_sees_its_own_rows() {
    let env = laravel_portal();
    migrated(&env);
    let list = env.run(&["orders", "list", "--customer", "1", "--json"]);
    assert_eq!(list.code, 0, "{}", list.all());
    let j = list.json();
    assert_eq!(j["sync"]["pulled"], 3, "Odoo orders 9, 13, 17: {j}");
    assert_eq!(j["total"], 6, "the portal's three and the three pulled");
    let portal_row = env
        .rows("SELECT shipping_address, coupon_code, order_number FROM sales_orders WHERE id = 1");
    assert_eq!(
        portal_row[0],
        vec![
            Some("1 Main St".to_string()),
            Some("WELCOME".to_string()),
            Some("S00001".to_string())
        ]
    );
}

#[test]
fn the_hourly_sync_updates_the_portals_amounts_in_place() {
    let env = laravel_portal();
    migrated(&env);
    // Odoo order 5's total is 375.77 in the demo; the portal stored 300.00.
    let run = env.run(&["orders", "sync-amounts", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        env.scalar("SELECT total_amount FROM sales_orders WHERE odoo_order_id = 5")
            .as_deref(),
        Some("375.77")
    );
    assert_eq!(
        env.scalar("SELECT coupon_code FROM sales_orders WHERE id = 1")
            .as_deref(),
        Some("WELCOME")
    );
}

#[test]
fn the_dashboard_query_reads_what_orderbridge_wrote() {
    let env = laravel_portal();
    migrated(&env);
    assert_eq!(env.run(&["orders", "list", "--customer", "1"]).code, 0);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    // The seeds' dashboard: amounts by customer, straight from the portal's table.
    let dashboard = env.rows(
        "SELECT customer_id, COUNT(*), SUM(total_amount) FROM sales_orders GROUP BY customer_id",
    );
    let sum = listed_total(&env);
    assert_eq!(dashboard.len(), 1);
    assert_eq!(dashboard[0][1].as_deref(), Some("6"));
    assert_eq!(
        dashboard[0][2]
            .as_deref()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        sum
    );
}

#[test]
fn a_checkout_creates_the_order_in_the_portals_table() {
    let env = laravel_portal();
    migrated(&env);
    let run = env.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "230",
        "--line",
        "5:2:100",
        "--idempotency-key",
        "checkout-1001",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let id = run.json()["order"]["id"].as_i64().unwrap();
    let row = env.rows(&format!(
        "SELECT customer_id, total_amount, order_number FROM sales_orders WHERE id = {id}"
    ));
    assert_eq!(row[0][0].as_deref(), Some("1"));
    assert_eq!(row[0][1].as_deref(), Some("230.00"));
    assert!(row[0][2].as_deref().unwrap().starts_with('S'));
}

/// The portal as the seeds found it: order S00001 stored twice (the second five minutes
/// later), the second with an item of its own, and no unique key yet.
fn portal_with_duplicates() -> TestEnv {
    let env = laravel_portal();
    env.sql(
        "INSERT INTO sales_orders (customer_id, order_number, odoo_order_id, total_amount, status, shipping_address, created_at, updated_at)
           VALUES (1, 'S00001', 1, 11.50, 'pending', 'dup', DATE_ADD(NOW(), INTERVAL 5 MINUTE), NOW());
         INSERT INTO sales_order_items (sales_order_id, sku, qty) VALUES (4, 'LAMP', 2);",
    );
    env
}

fn count(env: &TestEnv, sql: &str) -> String {
    env.scalar(sql).unwrap_or_default()
}

#[test]
fn the_seeds_migration_guide_runs_on_the_portals_mysql_table() {
    let env = portal_with_duplicates();
    // The unique key is refused while the duplicate is there.
    assert_eq!(env.run(&["db", "migrate"]).code, 1);
    // The dry run says what it would remove and changes nothing.
    let dry = env.run(&["orders", "dedupe", "--json"]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    let j = dry.json();
    assert_eq!(j["rows_to_remove"], 1, "{j}");
    assert_eq!(j["groups"][0]["keep"]["id"], 1, "the oldest is kept: {j}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM sales_orders"), "4");
    // Applied: the newer row archived and removed, its item moved to the kept order.
    let apply = env.run(&["orders", "dedupe", "--yes", "--json"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_eq!(apply.json()["removed"], 1);
    assert_eq!(
        count(
            &env,
            "SELECT COUNT(*) FROM sales_orders WHERE odoo_order_id = 1"
        ),
        "1"
    );
    assert_eq!(
        count(
            &env,
            "SELECT sales_order_id FROM sales_order_items WHERE sku = 'LAMP'"
        ),
        "1"
    );
    assert_eq!(
        count(
            &env,
            "SELECT archived_id FROM orderbridge_sales_orders_archive"
        ),
        "4"
    );
    // Then the unique key under the seeds' name.
    let migrate = env.run(&["db", "migrate"]);
    assert_eq!(migrate.code, 0, "{}", migrate.all());
    assert_eq!(
        count(
            &env,
            "SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'sales_orders' AND column_name = 'odoo_order_id' AND non_unique = 0"
        ),
        "sales_orders_odoo_order_id_unique"
    );
}

#[test]
fn an_archived_row_is_restored_exactly_with_its_item() {
    let env = portal_with_duplicates();
    let before = env.rows("SELECT * FROM sales_orders WHERE id = 4");
    assert_eq!(env.run(&["orders", "dedupe", "--yes"]).code, 0);
    let restore = env.run(&["orders", "dedupe", "--restore", "4"]);
    assert_eq!(restore.code, 0, "{}", restore.all());
    assert_eq!(env.rows("SELECT * FROM sales_orders WHERE id = 4"), before);
    assert_eq!(
        count(
            &env,
            "SELECT sales_order_id FROM sales_order_items WHERE sku = 'LAMP'"
        ),
        "4"
    );
    assert_eq!(
        count(
            &env,
            "SELECT COUNT(*) FROM orderbridge_sales_orders_archive"
        ),
        "0"
    );
}

/// The portal's own PHP: PDO, as Laravel connects, reading the dashboard's query.
const DASHBOARD_PHP: &str = r#"<?php
$u = parse_url(getenv('PORTAL_DB_URL'));
$pdo = new PDO(
    sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', $u['host'], $u['port'], ltrim($u['path'], '/')),
    urldecode($u['user']), urldecode($u['pass']),
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]
);
$rows = $pdo->query(
    'SELECT customer_id, COUNT(*) AS orders, SUM(total_amount) AS total FROM sales_orders GROUP BY customer_id'
)->fetchAll(PDO::FETCH_ASSOC);
$recent = $pdo->query(
    "SELECT order_number, total_amount, status FROM sales_orders WHERE created_at >= NOW() - INTERVAL 30 DAY ORDER BY created_at DESC, id DESC"
)->fetchAll(PDO::FETCH_ASSOC);
echo json_encode(['by_customer' => $rows, 'recent' => $recent]);
"#;

#[test]
fn the_portals_php_reads_with_pdo_what_orderbridge_wrote() {
    let env = laravel_portal();
    migrated(&env);
    assert_eq!(env.run(&["orders", "list", "--customer", "1"]).code, 0);
    assert_eq!(env.run(&["orders", "sync-amounts", "--all"]).code, 0);
    let script = env.path("dashboard.php");
    std::fs::write(&script, DASHBOARD_PHP).unwrap();
    let out = std::process::Command::new("php")
        .arg(&script)
        .env("PORTAL_DB_URL", env.my.as_deref().unwrap())
        .output()
        .expect("php (php-cli with php-mysql: .ci/run installs them)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sum = listed_total(&env);
    assert_eq!(seen["by_customer"][0]["customer_id"], 1, "{seen}");
    assert_eq!(seen["by_customer"][0]["orders"], 6, "{seen}");
    assert_eq!(
        seen["by_customer"][0]["total"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        sum
    );
    // The portal's amount after the hourly sync: Odoo's 375.77 for S00005.
    let s5 = seen["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["order_number"] == "S00005")
        .unwrap();
    assert_eq!(s5["total_amount"], "375.77");
}
