//! clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keeps the customer portal's orders and Odoo in agreement. Odoo is the source of truth.
#[derive(Debug, Parser)]
#[command(name = "orderbridge", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes. Passwords and API keys have no flag on purpose (a flag
/// shows in `ps`): set ODOO_PASSWORD / ODOO_API_KEY in the environment, .env or config file.
#[derive(Debug, Args)]
pub struct Global {
    /// TOML config file [default: the platform's config dir, orderbridge/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// .env file to read (e.g. the Laravel portal's) [default: ./.env if present]
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Local SQLite database [env: ORDERBRIDGE_DATABASE]
    #[arg(long, global = true, value_name = "PATH")]
    pub database: Option<PathBuf>,
    /// Odoo base URL, e.g. https://odoo.example.com [env: ODOO_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub odoo_url: Option<String>,
    /// Odoo database name [env: ODOO_DB]
    #[arg(long, global = true, value_name = "NAME")]
    pub odoo_db: Option<String>,
    /// Odoo login [env: ODOO_USERNAME]
    #[arg(long, global = true, value_name = "LOGIN")]
    pub odoo_username: Option<String>,
    /// auto, json2, jsonrpc or xmlrpc [env: ODOO_PROTOCOL] [default: auto]
    #[arg(long, global = true, value_name = "PROTOCOL")]
    pub odoo_protocol: Option<String>,
    /// Timeout of each Odoo request, in seconds [env: ODOO_TIMEOUT] [default: 30]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub odoo_timeout: Option<String>,
    /// More detail: -v shows debug logs and server tracebacks
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Write logs to this file instead of stderr
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to Odoo directly
    Odoo {
        #[command(subcommand)]
        command: OdooCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OdooCommand {
    /// Check the URL, database, credentials and the rights on sale.order
    TestConnection {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
}
