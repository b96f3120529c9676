//! clap definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `--help` says after the options: the settings (from their one definition), the
/// exit codes.
fn root_after_help() -> String {
    format!(
        "{}
Exit codes:
  0   done; every check passed
  1   done, but something failed (listed), an amount change was held for review, or Odoo
      refused an operation
  2   usage or configuration error (names the key or flag)
  3   Odoo unreachable, or authentication refused
  4   local storage error (database missing, locked, damaged, read-only, disk full, lost)
  5   orders create --queue-if-unavailable: Odoo was unavailable, the order waits in the
      local outbox for `orders flush`
  75  nothing done, try again later (another run holds the lock; an earlier create may
      still commit in Odoo)

Start with: orderbridge odoo test-connection",
        crate::config::settings_help()
    )
}

/// Keeps the customer portal's orders and Odoo in agreement. Odoo is the source of truth.
#[derive(Debug, Parser)]
#[command(name = "orderbridge", version, about, long_about = None, after_help = root_after_help())]
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
    /// The store: a SQLite file or a postgres:// URL [env: ORDERBRIDGE_DATABASE]
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
    #[arg(long, global = true, value_name = "PROTOCOL", value_parser = check_protocol)]
    pub odoo_protocol: Option<String>,
    /// Timeout of each Odoo request, in seconds [env: ODOO_TIMEOUT] [default: 30]
    #[arg(long, global = true, value_name = "SECONDS", value_parser = check_seconds)]
    pub odoo_timeout: Option<String>,
    /// More on the console: -v info logs and Odoo's tracebacks, -vv debug logs
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on the console, and no per-order lines (the log file keeps everything)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Also write the logs, from info up whatever --quiet says, to this file (appended)
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Log lines as text or as JSON objects, one per line
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// After each sync or dedupe run, write a Prometheus textfile-collector file here
    /// (replaced atomically)
    #[arg(long, global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Colors on the console (auto: on a terminal, unless NO_COLOR is set)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Machine-readable output: the report as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    crate::commands::status::parse_age(s)
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a day like 2026-11-01"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Csv,
}

fn check_protocol(s: &str) -> Result<String, String> {
    s.parse::<crate::odoo::ProtocolChoice>()?;
    Ok(s.to_string())
}

fn check_seconds(s: &str) -> Result<String, String> {
    match s.trim().trim_end_matches('s').parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(s.to_string()),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 3600"
        )),
    }
}

/// A count that must be at least 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a whole number of at least 1")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to Odoo directly
    Odoo {
        #[command(subcommand)]
        command: OdooCommand,
    },
    /// The portal's customers and their Odoo partners
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
    },
    /// Sales orders: create in Odoo first, import, list, sync
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
    },
    /// Print the crontab line and systemd units for the hourly amount sync
    #[command(
        after_help = "Examples (run them from the portal's folder, where its .env is):
  (crontab -l; orderbridge schedule --cron) | crontab -
  orderbridge schedule --systemd --user www-data"
    )]
    Schedule(ScheduleArgs),
    /// Shell completions: `orderbridge completions bash > /etc/bash_completion.d/orderbridge`
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// The manual page, in roff: `orderbridge man > orderbridge.1 && man ./orderbridge.1`
    Man {
        /// Write a page for every command (orderbridge.1, orderbridge-orders-create.1, ...)
        /// into DIR instead
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
    /// The settings in force
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The last run of each kind, creates in doubt, the age of the last good sync; with
    /// --max-age a monitoring check (exit 1 when too old or the last sync failed)
    #[command(after_help = "Examples:
  orderbridge status
  orderbridge status --max-age 2h || alert 'orderbridge has not synced for 2 hours'")]
    Status {
        /// The longest acceptable time since a sync last ended well, e.g. 2h, 90m
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        max_age: Option<std::time::Duration>,
    },
    /// Receive Odoo's webhooks and apply them as they come, with the incremental sync every
    /// --poll as the safety net (Odoo never resends a webhook); answer the portal's order API
    /// (/v1) and post it signed events
    #[command(
        after_help = "Odoo posts to http://LISTEN/odoo/webhook/<ORDERBRIDGE_WEBHOOK_SECRET>; set that up
with `orderbridge odoo install-webhook --url https://portal.example.com/odoo/webhook`.
The order API: POST /v1/orders (header Idempotency-Key), GET /v1/orders/{id|S00021},
GET /v1/customers/{id}/orders, POST /v1/customers, GET /v1/events?after=, described at
GET /v1/openapi.json; over TCP with `Authorization: Bearer <ORDERBRIDGE_API_TOKEN>`, on
--api-socket without. Events go to ORDERBRIDGE_PORTAL_WEBHOOK_URL, signed with
ORDERBRIDGE_PORTAL_WEBHOOK_SECRET (header Orderbridge-Signature: t=...,v1=...).
Also: GET /healthz (503 with the reason when the store cannot take a write or the poll is
late), GET /metrics (Prometheus). SIGTERM or Ctrl-C stops it: the requests (creates
included) and the poll under way finish (exit 0); what is still running at --stop-timeout is
cut (exit 1). No TLS: put it behind the portal's reverse proxy.

Examples:
  orderbridge serve                                   # 127.0.0.1:8787, poll every 60s
  orderbridge serve --listen 127.0.0.1:9000 --poll 5m --with-status"
    )]
    Serve(ServeArgs),
    /// The local database
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Each setting's value (secrets masked) and where it came from
    Show,
    /// A settings file with every setting described and commented out, secrets empty:
    /// `orderbridge config template > .env`
    Template {
        /// The Debian package's /etc/orderbridge/orderbridge.env (the store in
        /// /var/lib/orderbridge)
        #[arg(long)]
        packaged: bool,
    },
}

/// `serve`: where to listen, how often to poll.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (loopback unless you mean it)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
    /// Run the incremental sync this often as the safety net, e.g. 60s, 5m; 0 turns it off
    #[arg(long, value_name = "PERIOD", default_value = "60s", value_parser = parse_period)]
    pub poll: std::time::Duration,
    /// Also set the status from Odoo's state
    #[arg(long)]
    pub with_status: bool,
    /// Hold amount changes beyond this for review: 50%, 1000 or 50%,1000; off
    /// [env: ORDERBRIDGE_MAX_CHANGE]
    #[arg(long, value_name = "LIMIT", value_parser = parse_max_change)]
    pub max_change: Option<String>,
    /// A request's headers and its body must each arrive within this; an idle connection
    /// is closed after it
    #[arg(long, value_name = "PERIOD", default_value = "10s", value_parser = parse_age)]
    pub read_timeout: std::time::Duration,
    /// The most open connections (lowered to what the open-file limit leaves); at the
    /// limit the longest-idle connection is closed to make room
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// How long a stop (SIGTERM) waits for the work under way before cutting it
    /// [env: ORDERBRIDGE_STOP_TIMEOUT] [default: 20s]
    #[arg(long, value_name = "PERIOD", value_parser = parse_age)]
    pub stop_timeout: Option<std::time::Duration>,
    /// The order API (/v1) also on this unix socket, mode 0660: its permissions are the
    /// access control [env: ORDERBRIDGE_API_SOCKET]
    #[arg(long, value_name = "PATH")]
    pub api_socket: Option<std::path::PathBuf>,
}

/// A promised date as Odoo stores it: UTC `YYYY-MM-DD HH:MM:SS`.
fn parse_commitment(s: &str) -> Result<String, String> {
    let t = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string());
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Ok(d.format("%Y-%m-%d %H:%M:%S").to_string());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(|d| format!("{} 00:00:00", d.format("%Y-%m-%d")))
        .map_err(|_| format!("'{s}' is not a date like 2026-12-24 or 2026-12-24 10:00"))
}

fn parse_max_change(s: &str) -> Result<String, String> {
    crate::rules::MaxChange::parse(s).map(|_| s.to_string())
}

fn parse_period(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    parse_age(s)
}

/// `schedule`: what to print.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Print only the crontab entry (to pipe into place)
    #[arg(long, conflicts_with = "systemd")]
    pub cron: bool,
    /// Print only the systemd service and timer
    #[arg(long)]
    pub systemd: bool,
    /// The account the systemd service runs as [default: the user running this command]
    #[arg(long, value_name = "USER", conflicts_with = "packaged")]
    pub user: Option<String>,
    /// The units as the Debian package installs them: /usr/bin/orderbridge, the settings in
    /// /etc/orderbridge/orderbridge.env, user orderbridge, logs to the journal
    #[arg(long)]
    pub packaged: bool,
    /// Write the systemd units into DIR (e.g. /etc/systemd/system) instead of printing them
    #[arg(long, value_name = "DIR", conflicts_with = "cron")]
    pub write: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Bring the database up to date (refuses, changing nothing, while duplicates remain)
    Migrate,
    /// Copy this SQLite store into an empty PostgreSQL one, all or nothing, verified by
    /// counts and amount sums
    #[command(
        after_help = "Example:\n  orderbridge db copy --to postgres://orderbridge@db.internal/portal\n\n\
        Stop cron and the portal's writers first; then point ORDERBRIDGE_DATABASE at the server."
    )]
    Copy {
        /// The PostgreSQL store: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Add a customer (optionally linked to, or created as, an Odoo partner)
    Add {
        /// The customer's name (one line, at most 200 characters)
        #[arg(long)]
        name: String,
        /// The customer's email, which also finds its Odoo partner
        #[arg(long)]
        email: String,
        /// Link to this existing res.partner
        #[arg(long, value_name = "ID", conflicts_with = "create_partner")]
        odoo_partner_id: Option<i64>,
        /// Create the res.partner in Odoo first
        #[arg(long)]
        create_partner: bool,
    },
    /// Link a customer to the Odoo partner with its email (created in Odoo if none)
    Link {
        /// The local customer's id
        id: i64,
    },
    /// List customers
    List,
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Create an order in Odoo first, then locally (exactly once per idempotency key)
    #[command(after_help = "Examples:
  orderbridge orders create --customer 1 --amount 230 --line 5:2:100 --idempotency-key checkout-1001
  echo '{\"customer_id\": 1, \"amount\": \"857.87\"}' | orderbridge orders create --input - --json

Retrying with the same --idempotency-key never makes a second Odoo order; after a lost
answer it adopts the order Odoo made (exit 75 while Odoo may still be making it).")]
    Create(CreateArgs),
    /// Resolve creates whose outcome was unknown (timeout, crash): adopt what Odoo has
    Recover,
    /// Get or create the local order for an Odoo order id (safe to repeat)
    Import {
        /// The sale.order's id in Odoo
        #[arg(long, value_name = "ID")]
        odoo_id: i64,
        /// The local customer (default: the one linked to the order's partner)
        #[arg(long, value_name = "ID")]
        customer: Option<i64>,
    },
    /// List orders, first pulling missing ones from Odoo for linked customers
    #[command(after_help = "Examples:
  orderbridge orders list --customer 1
  orderbridge orders list --status pending --since 2026-11-01 --no-sync
  orderbridge orders list --limit 1000 --format csv > orders.csv")]
    List {
        /// Only this local customer's orders (and only its pull from Odoo)
        #[arg(long, value_name = "ID")]
        customer: Option<i64>,
        /// Show local orders only, without asking Odoo
        #[arg(long)]
        no_sync: bool,
        /// Only orders with this status: pending, quotation_sent, confirmed, done, cancelled
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Only orders created on or after this day (YYYY-MM-DD, UTC)
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<chrono::NaiveDate>,
        /// At most this many orders, newest first (the total is shown)
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = at_least_one)]
        limit: usize,
        /// A table for people, or CSV for a spreadsheet
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one local order, by its id, its Odoo number (S00021) or --odoo-id
    Show {
        /// The local order's id, or its Odoo number (S00021)
        #[arg(required_unless_present = "odoo_id")]
        order: Option<String>,
        /// The order's id in Odoo
        #[arg(long, value_name = "ID", conflicts_with = "order")]
        odoo_id: Option<i64>,
    },
    /// Cancel an order in Odoo, exactly once: refused once anything is delivered or
    /// invoiced; confirmed by reading the state back
    #[command(after_help = "Examples:
  orderbridge orders cancel 42
  orderbridge orders cancel S00021 --idempotency-key portal-cancel-1001

Exit codes: 0 cancelled (or already), 1 refused (the reason is printed), 5 queued.")]
    Cancel {
        /// The local order's id, or its Odoo number (S00021)
        order: String,
        /// The key a retry repeats [default: one per order]
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Queue the cancel when Odoo is unavailable [env: ORDERBRIDGE_QUEUE_IF_UNAVAILABLE]
        #[arg(long)]
        queue_if_unavailable: bool,
    },
    /// Change an order's note, customer reference or promised date in Odoo, exactly once;
    /// held for review when staff changed the order in Odoo since the portal saw it
    #[command(after_help = "Examples:
  orderbridge orders update 42 --customer-ref PO-7781
  orderbridge orders update S00021 --note 'Leave at the back door' --commitment-date 2026-12-24

Exit codes: 0 updated (or already), 1 refused or held for review (`orders conflicts`), 5 queued.")]
    Update {
        /// The local order's id, or its Odoo number (S00021)
        order: String,
        /// The order's note (Odoo: note)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// The customer's reference, e.g. a PO number (Odoo: client_order_ref)
        #[arg(long, value_name = "TEXT")]
        customer_ref: Option<String>,
        /// The delivery date promised: YYYY-MM-DD[ HH:MM[:SS]] (UTC) or RFC 3339
        #[arg(long, value_name = "DATE", value_parser = parse_commitment)]
        commitment_date: Option<String>,
        /// The key a retry repeats [default: one per order, values and what was seen]
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Queue the update when Odoo is unavailable [env: ORDERBRIDGE_QUEUE_IF_UNAVAILABLE]
        #[arg(long)]
        queue_if_unavailable: bool,
    },
    /// Update portal amounts from Odoo's amount_total (recent 30 days by default; hourly by cron)
    #[command(after_help = "Examples:
  orderbridge orders sync-amounts                       # orders of the last 30 days
  orderbridge orders sync-amounts --all --dry-run       # what would change, changing nothing
  orderbridge orders sync-amounts --order-id 42 --with-status
  orderbridge orders sync-amounts --all --json-lines | jq -c .order

Only an Odoo amount above 0.00 that differs at the currency's precision replaces the
portal's amount.")]
    SyncAmounts(SyncAmountsArgs),
    /// Remove duplicate orders (same odoo_order_id), keeping the oldest; dry run by default
    #[command(after_help = "Examples:
  orderbridge orders dedupe                  # what would be removed (changes nothing)
  orderbridge orders dedupe --yes            # remove, archiving each row
  orderbridge orders dedupe --list-archived  # what was removed
  orderbridge orders dedupe --restore 42     # put row 42 back")]
    Dedupe {
        /// Apply: remove the extra rows (archived first, references moved to the kept row)
        #[arg(long, conflicts_with_all = ["restore", "odoo", "list_archived"])]
        yes: bool,
        /// List the rows dedupe removed and archived
        #[arg(long, conflicts_with_all = ["restore", "odoo"])]
        list_archived: bool,
        /// Put this archived order back
        #[arg(long, value_name = "ID", conflicts_with = "odoo")]
        restore: Option<i64>,
        /// Report Odoo orders that share one idempotency key instead (read-only)
        #[arg(long)]
        odoo: bool,
    },
    /// Send the orders queued while Odoo was unavailable, many per Odoo call, exactly once
    #[command(after_help = "Examples:
  orderbridge orders flush                    # every queued order, 100 per create call
  orderbridge orders flush --batch-size 500

An order Odoo refuses (an unknown product, ...) is isolated from its batch and marked
failed with Odoo's message; the others are created. sync-amounts and serve flush first.")]
    Flush {
        /// Orders per create call
        #[arg(long, default_value_t = crate::flows::outbox::DEFAULT_BATCH, value_name = "N", value_parser = at_least_one)]
        batch_size: usize,
    },
    /// Amount changes held for review (ORDERBRIDGE_MAX_CHANGE): list, accept or keep
    #[command(after_help = "Examples:
  orderbridge orders conflicts                # the open ones
  orderbridge orders conflicts accept 3       # the portal takes Odoo's amount
  orderbridge orders conflicts keep 3         # the portal keeps its amount until Odoo's changes again

Nothing is written to Odoo; each decision is recorded with the OS user and the time.")]
    Conflicts {
        #[command(subcommand)]
        command: Option<ConflictsCommand>,
    },
    /// Where the portal and Odoo disagree, in one read-only pass (exit 1 when they do)
    Reconcile {
        /// Only this local customer's orders
        #[arg(long, value_name = "ID")]
        customer: Option<i64>,
        /// A report for people, or CSV (one row per disagreement)
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// The outbox: queued orders and those Odoo refused; retry or cancel one
    Queue {
        #[command(subcommand)]
        command: Option<QueueCommand>,
    },
    /// Set the local status from Odoo's state (recent 30 days by default)
    SyncStatus {
        #[command(flatten)]
        selection: SelectionArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    /// Apply Odoo's amount to the portal's order (ID), or send a held update over staff's
    /// change in Odoo (u<ID>)
    Accept { id: String },
    /// Keep the portal's amount until Odoo's amount changes again (ID), or drop a held
    /// update, keeping Odoo's values (u<ID>)
    Keep { id: String },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Put an order Odoo refused back in the queue (after fixing its cause)
    Retry { key: String },
    /// Take an order out of the queue, when Odoo does not have it
    Cancel { key: String },
}

/// Which local orders a sync looks at (shared by sync-amounts and sync-status).
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Only this local order (also --order-id=N)
    #[arg(long, value_name = "N", conflicts_with_all = ["all", "days"])]
    pub order_id: Option<i64>,
    /// Every order with an Odoo id
    #[arg(long, conflicts_with = "days")]
    pub all: bool,
    /// How many days back "recent" reaches
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct SyncAmountsArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Only the orders Odoo changed since the last --changed run (a change cursor; the first
    /// run is a full sync). Deletions and local drift stay the full sync's job.
    #[arg(long, conflicts_with_all = ["order_id", "all", "days"])]
    pub changed: bool,
    /// Show what would change, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also sync the status from Odoo's state, in the same pass
    #[arg(long)]
    pub with_status: bool,
    /// Hold amount changes beyond this for review instead of applying them: 50%, 1000 or
    /// 50%,1000 (both exceeded); off [env: ORDERBRIDGE_MAX_CHANGE]
    #[arg(long, value_name = "LIMIT", value_parser = parse_max_change)]
    pub max_change: Option<String>,
    /// Orders read from Odoo per call
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = at_least_one)]
    pub batch_size: usize,
    /// Chunk reads in flight at once
    #[arg(long, default_value_t = 4, value_name = "K", value_parser = at_least_one)]
    pub concurrency: usize,
    /// Plain text without emoji (the default when stdout is not a terminal)
    #[arg(long)]
    pub plain: bool,
    /// One JSON object per order as it is synced, then the summary envelope: memory stays
    /// flat whatever the number of orders (--json holds every result until the end)
    #[arg(long, conflicts_with = "plain")]
    pub json_lines: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The local customer
    #[arg(long, value_name = "ID", required_unless_present = "input")]
    pub customer: Option<i64>,
    /// The portal's amount, e.g. 857.87
    #[arg(long, required_unless_present = "input", allow_hyphen_values = true)]
    pub amount: Option<String>,
    /// The ISO 4217 currency of the amounts
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// An order line: PRODUCT_ID:QTY[:PRICE] (repeatable)
    #[arg(long = "line", value_name = "PRODUCT_ID:QTY[:PRICE]")]
    pub lines: Vec<String>,
    /// A note for the order (at most 10,000 characters)
    #[arg(long)]
    pub note: Option<String>,
    /// The customer's own reference (PO number), sent as client_order_ref
    #[arg(long, value_name = "REF")]
    pub customer_ref: Option<String>,
    /// Makes retries safe: the same key never creates a second order [default: generated]
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// When Odoo is unreachable (or answers 5xx) before the order could reach it, keep it in
    /// the local outbox for `orders flush` and exit 5, instead of failing
    /// [env: ORDERBRIDGE_QUEUE_IF_UNAVAILABLE=true]
    #[arg(long)]
    pub queue_if_unavailable: bool,
    /// The order as JSON, from a file or - for stdin
    #[arg(long, value_name = "FILE", conflicts_with_all = ["customer", "amount", "lines", "note", "customer_ref"])]
    pub input: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum OdooCommand {
    /// Check the URL, database, credentials and the rights on sale.order
    TestConnection,
    /// Make Odoo post each change of an order's amount or state to `orderbridge serve`:
    /// creates or updates (found by name) a server action and an automation rule
    #[command(
        after_help = "Needs Odoo 17 or later with the Automation Rules module (base_automation), and an
Odoo user in Administration / Settings. The secret (ORDERBRIDGE_WEBHOOK_SECRET) goes into
the URL Odoo posts to: https://PUBLIC/odoo/webhook/<secret>.

Examples:
  orderbridge odoo install-webhook --url https://portal.example.com/orderbridge
  orderbridge odoo install-webhook --url http://10.0.0.5:8787 --fields origin,client_order_ref
  orderbridge odoo install-webhook --remove"
    )]
    InstallWebhook {
        /// Where Odoo reaches `orderbridge serve` (its root, as the reverse proxy publishes it)
        #[arg(long, value_name = "PUBLIC_URL", required_unless_present = "remove")]
        url: Option<String>,
        /// More sale.order fields to post, besides amount_total, state, write_date, name, partner_id
        #[arg(long, value_name = "FIELD,...", value_delimiter = ',')]
        fields: Vec<String>,
        /// Delete the server action and the rule instead
        #[arg(long, conflicts_with_all = ["url", "fields"])]
        remove: bool,
    },
}

impl Command {
    /// The command's words, for the log's closing line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Odoo { command } => match command {
                OdooCommand::TestConnection => "odoo test-connection",
                OdooCommand::InstallWebhook { .. } => "odoo install-webhook",
            },
            Command::Customers { command } => match command {
                CustomersCommand::Add { .. } => "customers add",
                CustomersCommand::Link { .. } => "customers link",
                CustomersCommand::List => "customers list",
            },
            Command::Orders { command } => match command {
                OrdersCommand::Create(_) => "orders create",
                OrdersCommand::Recover => "orders recover",
                OrdersCommand::Import { .. } => "orders import",
                OrdersCommand::List { .. } => "orders list",
                OrdersCommand::Show { .. } => "orders show",
                OrdersCommand::Cancel { .. } => "orders cancel",
                OrdersCommand::Update { .. } => "orders update",
                OrdersCommand::SyncAmounts(_) => "orders sync-amounts",
                OrdersCommand::Dedupe { .. } => "orders dedupe",
                OrdersCommand::SyncStatus { .. } => "orders sync-status",
                OrdersCommand::Flush { .. } => "orders flush",
                OrdersCommand::Conflicts { command } => match command {
                    None => "orders conflicts",
                    Some(ConflictsCommand::Accept { .. }) => "orders conflicts accept",
                    Some(ConflictsCommand::Keep { .. }) => "orders conflicts keep",
                },
                OrdersCommand::Reconcile { .. } => "orders reconcile",
                OrdersCommand::Queue { command } => match command {
                    None => "orders queue",
                    Some(QueueCommand::Retry { .. }) => "orders queue retry",
                    Some(QueueCommand::Cancel { .. }) => "orders queue cancel",
                },
            },
            Command::Db {
                command: DbCommand::Migrate,
            } => "db migrate",
            Command::Db {
                command: DbCommand::Copy { .. },
            } => "db copy",
            Command::Schedule(_) => "schedule",
            Command::Serve(_) => "serve",
            Command::Status { .. } => "status",
            Command::Completions { .. } => "completions",
            Command::Man { .. } => "man",
            Command::Config { .. } => "config show",
        }
    }
}
