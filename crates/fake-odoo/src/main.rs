//! Runs the fake Odoo server on its own, for trying orderbridge by hand:
//!
//!     cargo run --example fake_odoo -- --listen 127.0.0.1:8069 --orders 1000
//!
//! `--odoo-version 16|17|18|19` (default 19) plays that version: its `common.version`, field
//! names and states, and no JSON-2 below 19.
//! Log in with database `portal`, user `admin`, password `admin`, or the API key printed at
//! start. `--latency-ms 20` adds latency to every call.

use std::time::Duration;

use fake_odoo::{FakeOdoo, FakeOptions, world};

fn main() -> anyhow::Result<()> {
    let mut opts = FakeOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--listen" => opts.listen = value()?.parse()?,
            "--orders" => opts.orders = value()?.parse()?,
            "--latency-ms" => opts.latency = Duration::from_millis(value()?.parse()?),
            "--login-cost-ms" => opts.login_cost = Duration::from_millis(value()?.parse()?),
            "--odoo-version" => opts.version = value()?.parse()?,
            "--inventory" => opts.inventory = true,
            "-h" | "--help" => {
                println!(
                    "fake_odoo [--listen ADDR] [--orders N] [--latency-ms MS] [--login-cost-ms MS] [--odoo-version 16|17|18|19] [--inventory]"
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}; try --help"),
        }
    }
    let fake = FakeOdoo::start(opts.clone())?;
    println!(
        "fake Odoo {} listening on {} with {} orders",
        opts.version,
        fake.url(),
        opts.orders
    );
    println!(
        "  ODOO_URL={} ODOO_DB={} ODOO_USERNAME={} ODOO_PASSWORD={}",
        fake.url(),
        world::DB,
        world::ADMIN_LOGIN,
        world::ADMIN_PASSWORD
    );
    if opts.version >= 19 {
        println!(
            "  ODOO_API_KEY={} (for ODOO_PROTOCOL=json2)",
            world::ADMIN_API_KEY
        );
    }
    println!("Ctrl-C to stop.");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
