//! The command line: clap definitions, logging set-up, and rendering. The only code that
//! prints.

mod args;
mod output;
mod reports;
mod sync_view;

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;

use crate::commands::{self, Context};
use crate::config::{Settings, Sources};
use crate::error::{Error, Exit, exit};
pub use args::{
    Cli, ColorChoice, Command, ConfigCommand, ConflictsCommand, CreateArgs, CustomersCommand,
    DbCommand, Global, ListFormat, LogFormat, OdooCommand, OrdersCommand, QueueCommand,
    ScheduleArgs, SelectionArgs, ServeArgs, SyncAmountsArgs,
};
use output::{Format, Output, emit};

/// Parses the command line, runs the command, prints the result or the error; returns the
/// exit code.
pub fn main() -> i32 {
    run_args(std::env::args_os())
}

/// Like [`main`], with the arguments given (the demo uses this).
pub fn run_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let (verbose, quiet) = (cli.global.verbose, cli.global.quiet);
    let name = cli.command.name();
    let out = Output {
        format: if cli.global.json {
            Format::Json
        } else {
            Format::Human
        },
        command: name,
    };
    let started = std::time::Instant::now();
    if let Err(e) = init_logging(&cli.global) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILED;
        }
    };
    let code = match rt.block_on(run(cli, out)) {
        Ok(code) => code,
        // "Try again later" (75) is cron's normal case: under --quiet only the log says it.
        Err(Failure::Command(e)) if quiet && e.exit_code() == exit::LOCKED => {
            tracing::info!(target: RUN, reason = %e, "Nothing done: try again later");
            e.exit_code()
        }
        Err(Failure::Command(e)) => {
            tracing::error!(target: RUN, error = %e, exit_code = e.exit_code(), "Run failed");
            report_error(&e, verbose);
            if out.format == Format::Json {
                // Scripts read stdout: the error is an envelope there too.
                let _ = output::emit_error(&e, out);
            }
            e.exit_code()
        }
        // The reader closed the pipe (`| head`): its choice, not a failure.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(Failure::Output(e)) => {
            eprintln!("error: cannot write the output: {e}");
            exit::FAILED
        }
    };
    // A serve whose stop deadline cut the poll leaves its thread behind: the process ends
    // all the same (what it had not committed rolls back).
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    tracing::info!(
        target: RUN,
        command = name,
        exit_code = code,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Run finished"
    );
    code
}

/// The log target of a run's own lines (its failure, its closing summary): they go to the log
/// file, and to the console only with -v, where the error is already printed once.
const RUN: &str = "orderbridge::run";

/// Why a run stopped early: its command failed, or its output could not be written.
enum Failure {
    Command(Error),
    Output(std::io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Command(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Self {
        Failure::Command(e.into())
    }
}

fn report_error(e: &Error, verbose: u8) {
    let stderr = console::Term::stderr();
    let red = console::Style::new().red().bold();
    let _ = writeln!(
        &stderr,
        "{} {}",
        red.apply_to("error:"),
        output::printable(&e.to_string())
    );
    if let Some(h) = e.hint() {
        let _ = writeln!(&stderr, "  hint: {h}");
    }
    if let Some(d) = e.detail() {
        if verbose > 0 {
            let _ = writeln!(&stderr, "  server traceback:");
            for line in d.lines() {
                let _ = writeln!(&stderr, "{}", output::printable(line));
            }
        } else {
            let _ = writeln!(&stderr, "  (run with -v for the server's traceback)");
        }
    }
}

/// Colors on, by `--color` and `NO_COLOR` (https://no-color.org).
fn colors(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && console::Term::stderr().is_term()
        }
    }
}

/// The console gets warnings and errors (errors only with --quiet; more with -v, -vv); the
/// log file gets info and up whatever --quiet says. `RUST_LOG` (targets=level, ...) replaces
/// both levels when set.
fn init_logging(g: &Global) -> Result<(), String> {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{Layer, Registry, fmt};

    let ansi = colors(g.color);
    console::set_colors_enabled(ansi);
    console::set_colors_enabled_stderr(ansi);
    let console_level = match (g.quiet, g.verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, _) => LevelFilter::DEBUG,
    };
    let file_level = if g.verbose >= 2 {
        LevelFilter::DEBUG
    } else {
        LevelFilter::INFO
    };
    let from_env: Option<Targets> = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|e| format!("RUST_LOG '{v}' is not a filter: {e}"))
        })
        .transpose()?;
    let run_on_console = if g.verbose > 0 {
        LevelFilter::INFO
    } else {
        LevelFilter::OFF
    };
    let filter = |level: LevelFilter, run: LevelFilter| {
        from_env
            .clone()
            .unwrap_or_else(|| Targets::new().with_default(level).with_target(RUN, run))
    };
    type Boxed = Box<dyn Layer<Registry> + Send + Sync>;
    let layer = |writer: fmt::writer::BoxMakeWriter, ansi: bool| -> Boxed {
        let base = fmt::layer().with_target(false).with_writer(writer);
        match g.log_format {
            LogFormat::Text => base.with_ansi(ansi).boxed(),
            LogFormat::Json => base.json().flatten_event(true).boxed(),
        }
    };
    let mut layers: Vec<Boxed> = vec![
        layer(fmt::writer::BoxMakeWriter::new(std::io::stderr), ansi)
            .with_filter(filter(console_level, run_on_console))
            .boxed(),
    ];
    if let Some(path) = &g.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
        let writer = fmt::writer::BoxMakeWriter::new(std::sync::Mutex::new(file));
        layers.push(
            layer(writer, false)
                .with_filter(filter(file_level, LevelFilter::INFO))
                .boxed(),
        );
    }
    // try_init: a second run in one process (the demo) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(())
}

/// Where the settings come from: the flags given, the .env and config files named.
fn sources(g: &Global) -> Sources {
    let mut flags = Vec::new();
    let mut flag = |key: &'static str, name: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            flags.push((key, name, v.clone()));
        }
    };
    flag("ODOO_URL", "--odoo-url", &g.odoo_url);
    flag("ODOO_DB", "--odoo-db", &g.odoo_db);
    flag("ODOO_USERNAME", "--odoo-username", &g.odoo_username);
    flag("ODOO_PROTOCOL", "--odoo-protocol", &g.odoo_protocol);
    flag("ODOO_TIMEOUT", "--odoo-timeout", &g.odoo_timeout);
    flag(
        "ORDERBRIDGE_DATABASE",
        "--database",
        &g.database
            .as_ref()
            .map(|p: &PathBuf| p.display().to_string()),
    );
    Sources {
        flags,
        env_file: g.env_file.clone(),
        config_file: g.config.clone(),
        ignore_process_env: false,
    }
}

async fn run(cli: Cli, out: Output) -> Result<i32, Failure> {
    // These need no settings: they describe the command line itself.
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "orderbridge", &mut buf);
            output::write_raw(&buf)?;
            return Ok(exit::OK);
        }
        Command::Man { out_dir: Some(dir) } => {
            let cmd = <Cli as clap::CommandFactory>::command();
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(cmd, dir))
                .map_err(|e| {
                    Failure::Command(Error::Failed {
                        message: format!(
                            "cannot write the manual pages into {}: {e}",
                            dir.display()
                        ),
                        hint: None,
                    })
                })?;
            return Ok(exit::OK);
        }
        Command::Config {
            command: ConfigCommand::Template { packaged },
        } => {
            output::write_raw(crate::config::env_template(*packaged).as_bytes())?;
            return Ok(exit::OK);
        }
        Command::Man { out_dir: None } => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            output::write_raw(&buf)?;
            return Ok(exit::OK);
        }
        _ => {}
    }
    let settings = Settings::resolve(&sources(&cli.global))?;
    let ctx = Context::new(settings);
    match cli.command {
        Command::Odoo {
            command: OdooCommand::TestConnection,
        } => {
            let client = ctx.odoo_alone()?;
            let report = commands::test_connection::run(&client).await?;
            let code = report.exit_code();
            Ok(emit(&report, out, code)?)
        }
        Command::Odoo {
            command:
                OdooCommand::InstallWebhook {
                    url,
                    fields,
                    remove,
                },
        } => {
            use commands::install_webhook::{InstallOptions, run};
            let opts = InstallOptions {
                url,
                extra_fields: fields,
                remove,
            };
            Ok(emit(&run(&ctx, &opts).await?, out, exit::OK)?)
        }
        Command::Customers { command } => customers(&ctx, command, out).await,
        Command::Orders { command } => {
            let writes_metrics = matches!(
                command,
                OrdersCommand::SyncAmounts(_)
                    | OrdersCommand::Flush { .. }
                    | OrdersCommand::SyncStatus { .. }
                    | OrdersCommand::Dedupe { .. }
            );
            let result = orders(&ctx, command, out, cli.global.quiet).await;
            // After the run, whatever its end: monitoring needs failures most.
            if writes_metrics
                && let Some(path) = &cli.global.metrics_file
                && let Err(e) = commands::status::write_metrics(&ctx, path)
            {
                tracing::warn!(error = %e, "Cannot write the metrics file");
            }
            result
        }
        Command::Db {
            command: DbCommand::Migrate,
        } => Ok(emit(&commands::migrate::migrate(&ctx)?, out, exit::OK)?),
        Command::Db {
            command: DbCommand::Copy { to },
        } => Ok(emit(&commands::migrate::copy(&ctx, &to)?, out, exit::OK)?),
        Command::Completions { .. }
        | Command::Man { .. }
        | Command::Config {
            command: ConfigCommand::Template { .. },
        } => unreachable!("handled above"),
        Command::Config {
            command: ConfigCommand::Show,
        } => Ok(emit(&commands::config_show::report(&ctx), out, exit::OK)?),
        Command::Status { max_age } => {
            let report = commands::status::run(&ctx, max_age)?;
            if let Some(path) = &cli.global.metrics_file {
                commands::status::write_metrics(&ctx, path)?;
            }
            let code = report.exit_code();
            Ok(emit(&report, out, code)?)
        }
        Command::Serve(a) => {
            use commands::serve::{ServeOptions, Server, stop_signal};
            let opts = ServeOptions {
                max_change: max_change(&ctx, a.max_change.as_deref())?,
                listen: a.listen,
                poll: (!a.poll.is_zero()).then_some(a.poll),
                with_status: a.with_status,
                api_socket: a.api_socket.clone().or_else(|| ctx.settings.api_socket()),
                limits: commands::serve::Limits {
                    read_timeout: a.read_timeout,
                    max_connections: a.max_connections as usize,
                    stop_timeout: match a.stop_timeout {
                        Some(t) => t,
                        None => ctx.settings.stop_timeout()?,
                    },
                },
            };
            let server = Server::bind(&ctx, &opts).await?;
            let stop = stop_signal();
            // On stderr, whatever --quiet says: a caller that asked for port 0 needs it.
            eprintln!(
                "orderbridge serve: listening on http://{} (webhooks at /odoo/webhook/<secret>, the order API at /v1, /healthz, /metrics); poll {}",
                server.local_addr()?,
                opts.poll
                    .map_or_else(|| "off".to_string(), |p| format!("every {}s", p.as_secs()))
            );
            let report = server.run(stop).await?;
            let code = report.exit_code();
            Ok(emit(&report, out, code)?)
        }
        Command::Schedule(a) => {
            use commands::schedule::{Part, plan};
            let part = match (a.cron, a.systemd) {
                (true, _) => Part::Cron,
                (_, true) => Part::Systemd,
                _ => Part::All,
            };
            let mut plan = plan(&ctx, part, a.user.as_deref(), a.packaged)?;
            if let Some(dir) = &a.write {
                plan.written = commands::schedule::write_units(&plan, dir)?;
            }
            Ok(emit(&plan, out, exit::OK)?)
        }
    }
}

/// The local order a command names (its id, or its Odoo number).
fn stored_order(ctx: &Context, order: &str) -> Result<crate::store::orders::OrderRow, Failure> {
    use crate::flows::orders_read::{OrderRef, show};
    Ok(show(ctx, &OrderRef::parse(order))?.order.row)
}

async fn customers(ctx: &Context, command: CustomersCommand, out: Output) -> Result<i32, Failure> {
    use crate::flows::customers::{self, PartnerChoice};
    let code = match command {
        CustomersCommand::Add {
            name,
            email,
            odoo_partner_id,
            create_partner,
        } => {
            let choice = match (odoo_partner_id, create_partner) {
                (Some(id), _) => PartnerChoice::Existing(id),
                (None, true) => PartnerChoice::Create,
                (None, false) => PartnerChoice::None,
            };
            emit(
                &customers::add(ctx, &name, &email, choice).await?,
                out,
                exit::OK,
            )?
        }
        CustomersCommand::Link { id } => emit(&customers::link(ctx, id).await?, out, exit::OK)?,
        CustomersCommand::List => emit(&customers::list(ctx)?, out, exit::OK)?,
    };
    Ok(code)
}

fn order_request(a: CreateArgs) -> Result<crate::flows::orders_create::OrderRequest, Error> {
    use crate::flows::orders_create::{LineRequest, OrderRequest};
    let mut req = match &a.input {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| Error::Usage(format!("cannot read the order from stdin: {e}")))?;
                s
            } else {
                std::fs::read_to_string(path)
                    .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?
            };
            OrderRequest::from_json(&text)?
        }
        None => {
            let currency = a.currency.trim().to_ascii_uppercase();
            let amount_text = a.amount.clone().unwrap_or_default();
            let amount = crate::money::parse_user_amount(&amount_text, &currency)
                .map_err(|e| Error::Usage(format!("--amount: {e}")))?;
            let lines = a
                .lines
                .iter()
                .map(|l| LineRequest::parse(l, &currency))
                .collect::<Result<_, _>>()?;
            OrderRequest {
                customer_id: a.customer.unwrap_or_default(),
                amount,
                currency,
                lines,
                note: a.note.clone(),
                customer_ref: a.customer_ref.clone(),
                idempotency_key: None,
            }
        }
    };
    if a.idempotency_key.is_some() {
        req.idempotency_key = a.idempotency_key.clone();
    }
    Ok(req)
}

fn selection(a: &SelectionArgs) -> crate::flows::sync::Selection {
    use crate::flows::sync::Selection;
    match (a.order_id, a.all) {
        (Some(id), _) => Selection::Order(id),
        (None, true) => Selection::All,
        (None, false) => Selection::RecentDays(a.days),
    }
}

async fn sync_amounts(
    ctx: &Context,
    a: SyncAmountsArgs,
    out: Output,
    quiet: bool,
) -> Result<i32, Failure> {
    use crate::flows::sync::{Selection, SyncOptions};
    let selection = if a.changed {
        Selection::Changed
    } else {
        selection(&a.selection)
    };
    let opts = SyncOptions {
        selection,
        dry_run: a.dry_run,
        batch: a.batch_size,
        concurrency: a.concurrency,
        amounts: true,
        status: a.with_status,
        max_change: max_change(ctx, a.max_change.as_deref())?,
        status_words: ctx.settings.status_words()?,
        details: ctx.settings.order_details()?,
    };
    let mut view =
        sync_view::SyncRenderer::new(selection, a.plain, a.json_lines, out, quiet, a.dry_run);
    let summary = commands::sync::run(ctx, opts, &mut |e| view.event(e)).await?;
    let code = summary.exit_code();
    view.finish(&summary, code)?;
    Ok(code)
}

/// `--max-change` (checked by clap), else the setting.
fn max_change(ctx: &Context, flag: Option<&str>) -> Result<crate::rules::MaxChange, Failure> {
    match flag {
        Some(text) => crate::rules::MaxChange::parse(text)
            .map_err(|e| Failure::Command(crate::error::Error::Usage(e))),
        None => Ok(ctx.settings.max_change()?),
    }
}

async fn orders(
    ctx: &Context,
    command: OrdersCommand,
    out: Output,
    quiet: bool,
) -> Result<i32, Failure> {
    use crate::flows::{orders_create, orders_read};
    let code = match command {
        OrdersCommand::Create(a) => {
            let queue = a.queue_if_unavailable || ctx.settings.queue_if_unavailable()?;
            let report = orders_create::create(ctx, order_request(a)?, queue).await?;
            let code = report.exit_code();
            emit(&report, out, code)?
        }
        OrdersCommand::Conflicts { command } => match command {
            None => emit(&commands::conflicts::list(ctx)?, out, exit::OK)?,
            Some(ConflictsCommand::Accept { id }) => emit(
                &commands::conflicts::decide(ctx, &id, true).await?,
                out,
                exit::OK,
            )?,
            Some(ConflictsCommand::Keep { id }) => emit(
                &commands::conflicts::decide(ctx, &id, false).await?,
                out,
                exit::OK,
            )?,
        },
        OrdersCommand::Reconcile { customer, format } => {
            let report = commands::reconcile::run(ctx, customer).await?;
            let code = report.exit_code();
            if format == ListFormat::Csv && out.format != Format::Json {
                output::write_csv(&report.csv_rows())?;
                code
            } else {
                emit(&report, out, code)?
            }
        }
        OrdersCommand::Flush { batch_size } => {
            let report = crate::flows::outbox::flush(ctx, batch_size).await?;
            let code = report.exit_code();
            emit(&report, out, code)?
        }
        OrdersCommand::Queue { command } => match command {
            None => emit(&crate::flows::outbox::list(ctx)?, out, exit::OK)?,
            Some(QueueCommand::Retry { key }) => {
                emit(&crate::flows::outbox::retry(ctx, &key)?, out, exit::OK)?
            }
            Some(QueueCommand::Cancel { key }) => emit(
                &crate::flows::outbox::cancel(ctx, &key).await?,
                out,
                exit::OK,
            )?,
        },
        OrdersCommand::Recover => {
            let report = orders_create::recover(ctx).await?;
            let code = report.exit_code();
            emit(&report, out, code)?
        }
        OrdersCommand::Import { odoo_id, customer } => {
            let report = orders_read::import(ctx, odoo_id, customer).await?;
            emit(&report, out, exit::OK)?
        }
        OrdersCommand::List {
            customer,
            no_sync,
            status,
            since,
            limit,
            format,
        } => {
            let filter = crate::store::orders::OrderFilter {
                customer_id: customer,
                status,
                since: since.map(|d| format!("{d} 00:00:00")),
                limit,
            };
            let r = orders_read::list(ctx, &filter, no_sync).await?;
            if let Some(w) = &r.sync.warning {
                let label = console::Style::new().yellow().bold().apply_to("warning:");
                eprintln!("{label} {}", output::printable(w));
            }
            if format == ListFormat::Csv && out.format == Format::Human {
                output::write_csv(&reports::orders_csv(&r))?;
                exit::OK
            } else {
                emit(&r, out, exit::OK)?
            }
        }
        OrdersCommand::Cancel {
            order,
            idempotency_key,
            queue_if_unavailable,
        } => {
            let queue = queue_if_unavailable || ctx.settings.queue_if_unavailable()?;
            let row = stored_order(ctx, &order)?;
            let r =
                crate::flows::order_actions::run(ctx, &row, None, idempotency_key, queue).await?;
            let code = r.exit_code();
            emit(&r, out, code)?
        }
        OrdersCommand::Update {
            order,
            note,
            customer_ref,
            commitment_date,
            idempotency_key,
            queue_if_unavailable,
        } => {
            let queue = queue_if_unavailable || ctx.settings.queue_if_unavailable()?;
            let row = stored_order(ctx, &order)?;
            let values = crate::flows::order_actions::UpdateValues {
                note,
                client_order_ref: customer_ref,
                commitment_date,
            };
            let r =
                crate::flows::order_actions::run(ctx, &row, Some(values), idempotency_key, queue)
                    .await?;
            let code = r.exit_code();
            emit(&r, out, code)?
        }
        OrdersCommand::Show { order, odoo_id } => {
            let which = match (order, odoo_id) {
                (_, Some(id)) => orders_read::OrderRef::Odoo(id),
                (Some(o), None) => orders_read::OrderRef::parse(&o),
                (None, None) => unreachable!("clap requires one"),
            };
            emit(&orders_read::show(ctx, &which)?, out, exit::OK)?
        }
        OrdersCommand::Dedupe {
            yes,
            restore,
            odoo,
            list_archived,
        } => {
            use commands::dedupe;
            if list_archived {
                emit(&dedupe::archived(ctx)?, out, exit::OK)?
            } else if let Some(id) = restore {
                emit(&dedupe::restore(ctx, id)?, out, exit::OK)?
            } else if odoo {
                emit(&dedupe::remote(ctx).await?, out, exit::OK)?
            } else {
                let interactive = out.format == Format::Human
                    && console::Term::stdout().is_term()
                    && console::Term::stderr().is_term();
                let mut confirm = |r: &dedupe::DedupeReport| yes || reports::confirm_dedupe(r);
                emit(
                    &dedupe::run(ctx, yes || interactive, &mut confirm)?,
                    out,
                    exit::OK,
                )?
            }
        }
        OrdersCommand::SyncAmounts(a) => return sync_amounts(ctx, a, out, quiet).await,
        OrdersCommand::SyncStatus { selection: sel } => {
            let report = commands::sync::sync_status(ctx, selection(&sel)).await?;
            let code = report.exit_code();
            emit(&report, out, code)?
        }
    };
    Ok(code)
}
