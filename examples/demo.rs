//! The newcomer's first command: `cargo run --release --example demo`.
//!
//! Starts the built-in fake Odoo 19 server, writes a `.env` for it in a temporary folder,
//! and runs orderbridge's commands against it, printing each command line first.

use std::path::Path;

use orderbridge::fake::{FakeOdoo, FakeOptions, world};

fn run(env_file: &Path, db: &Path, args: &[&str]) -> i32 {
    println!("\n$ orderbridge {}", args.join(" "));
    let mut argv = vec![
        "orderbridge".to_string(),
        "--env-file".into(),
        env_file.display().to_string(),
        "--database".into(),
        db.display().to_string(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let code = orderbridge::cli::run_args(argv);
    println!("(exit code {code})");
    code
}

fn main() -> anyhow::Result<()> {
    let fake = FakeOdoo::start(FakeOptions::default())?;
    let dir = tempfile_dir()?;
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
    let db = dir.join("orderbridge.db");
    println!(
        "Fake Odoo 19 at {} (database '{}'); settings in {}",
        fake.url(),
        world::DB,
        env_file.display()
    );

    for protocol in ["json2", "jsonrpc", "xmlrpc"] {
        run(
            &env_file,
            &db,
            &["--odoo-protocol", protocol, "odoo", "test-connection"],
        );
    }
    println!(
        "\nRound trips the fake Odoo served, by model.method: {:?}",
        fake.all_calls()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("orderbridge-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
