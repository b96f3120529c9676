//! The newcomer's first command: `cargo run --release --example demo`.
//!
//! Starts the built-in fake Odoo 19 server, writes a `.env` for it in a temporary folder,
//! and runs orderbridge's commands against it, printing each command line first: the
//! connection check over each protocol, customers and orders, then the amount-sync guide's
//! two scenarios (staff add lines in Odoo; staff change a price), then a duplicate cleanup on
//! a small legacy database.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use fake_odoo::{FakeOdoo, FakeOptions, world};
use rust_decimal::Decimal;

struct Demo {
    env_file: PathBuf,
    db: PathBuf,
    log: PathBuf,
}

impl Demo {
    fn run(&self, args: &[&str]) -> i32 {
        self.run_on(&self.db, args)
    }

    fn run_on(&self, db: &Path, args: &[&str]) -> i32 {
        println!("\n$ orderbridge {}", args.join(" "));
        let mut argv = vec![
            "orderbridge".to_string(),
            "--env-file".into(),
            self.env_file.display().to_string(),
            "--database".into(),
            db.display().to_string(),
            // The log lines ("Order created in Odoo first", ...) go to a file,
            // shown at the end, so that the commands' own output reads cleanly here.
            "--log-file".into(),
            self.log.display().to_string(),
        ];
        argv.extend(args.iter().map(|s| s.to_string()));
        let code = orderbridge::cli::run_args(argv);
        if code != 0 {
            println!("(exit code {code})");
        }
        code
    }
}

/// A small legacy portal database: two duplicate groups (one whose rows disagree), a NULL
/// odoo id, and order items.
fn make_legacy(path: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "CREATE TABLE sales_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER, order_number TEXT,
            odoo_order_id INTEGER, total_amount DECIMAL(10,2), status TEXT, created_at TEXT, updated_at TEXT);
         CREATE TABLE sales_order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, sales_order_id INTEGER NOT NULL,
            product_name TEXT, quantity INTEGER, price DECIMAL(10,2));
         INSERT INTO sales_orders VALUES
            (1, 1, 'AFINET-SO-699C2E7046573', 21, 857.87, 'pending', '2026-02-23 10:00:00', '2026-02-23 10:00:00'),
            (2, 1, 'AFINET-SO-699C2E7046573', 21, 857.87, 'pending', '2026-02-23 10:00:03', '2026-02-23 10:00:03'),
            (3, 2, 'AFINET-SO-699C2E20AFF48', 22, 950.00, 'confirmed', '2026-02-23 11:00:00', '2026-02-23 11:00:00'),
            (4, 2, 'AFINET-SO-699C2E20AFF48', 22, 857.87, 'pending', '2026-02-23 11:00:01', '2026-02-23 11:00:01'),
            (5, 3, NULL, NULL, 12.00, 'pending', '2026-02-24 09:00:00', '2026-02-24 09:00:00');
         INSERT INTO sales_order_items (sales_order_id, product_name, quantity, price) VALUES
            (1, 'Office Chair', 1, 857.87), (2, 'Office Chair', 1, 857.87), (4, 'Desk', 1, 857.87);",
    )?;
    Ok(())
}

fn step(title: &str) {
    println!("\n──── {title} ────");
}

fn main() -> anyhow::Result<()> {
    let fake = FakeOdoo::start(FakeOptions::default())?;
    let dir = std::env::temp_dir().join(format!("orderbridge-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let env_file = dir.join(".env");
    std::fs::write(
        &env_file,
        format!(
            "ODOO_URL={}\nODOO_DB={}\nODOO_USERNAME={}\nODOO_PASSWORD={}\nODOO_API_KEY={}\n",
            fake.url(),
            world::DB,
            world::ADMIN_LOGIN,
            world::ADMIN_PASSWORD,
            world::ADMIN_API_KEY
        ),
    )?;
    let demo = Demo {
        env_file,
        db: dir.join("orderbridge.db"),
        log: dir.join("orderbridge.log"),
    };
    println!(
        "Fake Odoo 19 at {} (database '{}'); settings in {}",
        fake.url(),
        world::DB,
        demo.env_file.display()
    );

    step("1. Connection, over each protocol");
    for protocol in ["json2", "jsonrpc", "xmlrpc"] {
        demo.run(&["--odoo-protocol", protocol, "odoo", "test-connection"]);
    }

    step("2. A customer, created as an Odoo partner first");
    demo.run(&[
        "customers",
        "add",
        "--name",
        "Afinet Labs",
        "--email",
        "orders@afinet.example",
        "--create-partner",
    ]);

    step("3. Scenario: staff add order lines in Odoo");
    println!(
        "10:00 The customer places an order for $857.87. Odoo first: the order has no lines yet."
    );
    demo.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "857.87",
        "--idempotency-key",
        "portal-checkout-1001",
    ]);
    println!("\nA retry with the same key (say the portal timed out) creates nothing new:");
    demo.run(&[
        "orders",
        "create",
        "--customer",
        "1",
        "--amount",
        "857.87",
        "--idempotency-key",
        "portal-checkout-1001",
    ]);
    demo.run(&["orders", "list", "--customer", "1"]);
    println!("\n10:15 An hourly sync runs before staff have added lines: Odoo still says $0.00.");
    demo.run(&["orders", "sync-amounts"]);
    let odoo_id = fake.with_world(|w| *w.orders.keys().last().expect("an order"));
    println!("\n10:30 Staff add order lines in Odoo: its total becomes $857.87.");
    fake.with_world(|w| w.set_order_total(odoo_id, Decimal::from_str("857.87").expect("amount")));
    println!("11:00 The hourly sync runs:");
    demo.run(&["orders", "sync-amounts"]);

    step("4. Scenario: staff change a price in Odoo");
    println!("14:15 Staff update the order line price: Odoo now says $950.00.");
    fake.with_world(|w| w.set_order_total(odoo_id, Decimal::from_str("950.00").expect("amount")));
    println!("The dashboard already shows Odoo's amount (the list syncs on read):");
    demo.run(&["orders", "list", "--customer", "1"]);
    println!("\n15:00 The hourly sync runs:");
    demo.run(&["orders", "sync-amounts"]);
    demo.run(&["orders", "show", "1"]);

    step("5. Orders made in Odoo are pulled into the portal on read");
    demo.run(&[
        "customers",
        "add",
        "--name",
        "Deco Addict",
        "--email",
        "deco.addict@example.com",
    ]);
    demo.run(&["customers", "link", "2"]);
    demo.run(&["orders", "list", "--customer", "2"]);
    demo.run(&["orders", "sync-status", "--all"]);

    println!(
        "\n(`orderbridge schedule` prints the crontab line and systemd timer for the hourly sync.)"
    );

    step("6. Cleaning a legacy portal database before the unique index");
    let legacy = dir.join("legacy.db");
    make_legacy(&legacy)?;
    println!(
        "A Laravel sales_orders table with the same Odoo order stored twice, and items pointing at both:"
    );
    demo.run_on(&legacy, &["db", "migrate"]);
    demo.run_on(&legacy, &["orders", "dedupe"]);
    demo.run_on(&legacy, &["orders", "dedupe", "--yes"]);
    demo.run_on(&legacy, &["db", "migrate"]);
    demo.run_on(&legacy, &["orders", "dedupe"]);

    step("The log lines these commands wrote");
    let log = std::fs::read_to_string(&demo.log).unwrap_or_default();
    for line in log.lines().filter(|l| !l.contains("DEBUG")).take(14) {
        println!("{line}");
    }
    println!(
        "\nRound trips the fake Odoo served, by model.method: {:?}",
        fake.all_calls()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
