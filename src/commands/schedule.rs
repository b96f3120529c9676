//! `orderbridge schedule`: the hourly run as a crontab line and as a systemd service and
//! timer, and when it is next due (as Laravel's `schedule:list` shows it).
//!
//! cron and systemd start in another folder with another environment: the command names
//! every file this run read (the implicit `./.env` included) and the database by absolute
//! path, so that it finds the same settings and the same store wherever it runs.

use chrono::{DateTime, Duration, Local, Timelike};

use super::Context;
use crate::error::Error;

/// Which part `schedule` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Part {
    All,
    Cron,
    Systemd,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Plan {
    /// The command the schedule runs, as a shell line.
    pub command: String,
    /// The crontab entry (comments, then the line; `%` escaped for cron).
    pub crontab: String,
    pub systemd_service: String,
    pub systemd_timer: String,
    /// The next top of the hour (shown in local time; RFC 3339 UTC in JSON).
    #[serde(serialize_with = "utc")]
    pub next_run: DateTime<Local>,
    /// The settings files the command names.
    pub files: Vec<String>,
    /// Keys whose values came from this shell's environment, which cron and systemd lack.
    pub from_environment: Vec<&'static str>,
    #[serde(skip)]
    pub part: Part,
}

fn utc<S: serde::Serializer>(t: &DateTime<Local>, s: S) -> Result<S::Ok, S::Error> {
    let utc = t.with_timezone(&chrono::Utc);
    s.serialize_str(&utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Quotes an argument for a shell line if it needs it.
fn quote(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c))
    {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// The user the service runs as: the one asked for, else the one running this command.
fn service_user(asked: Option<&str>) -> Option<String> {
    asked
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|u| !u.is_empty())
}

pub(crate) fn plan(ctx: &Context, part: Part, user: Option<&str>) -> Result<Plan, Error> {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map_or_else(|| "orderbridge".to_string(), |p| p.display().to_string());
    let files: Vec<String> = ctx
        .settings
        .files_read()
        .iter()
        .map(|p| absolute(p))
        .collect();
    let mut args: Vec<String> = vec![exe];
    for f in ctx.settings.files_read() {
        let flag = if f.extension().is_some_and(|e| e == "toml") {
            "--config"
        } else {
            "--env-file"
        };
        args.extend([flag.to_string(), absolute(f)]);
    }
    let database = ctx.database_path()?;
    let log = database.with_extension("log");
    args.extend([
        "--database".into(),
        absolute(&database),
        "--log-file".into(),
        absolute(&log),
        "orders".into(),
        "sync-amounts".into(),
        "--quiet".into(),
    ]);
    let command = args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    let from_environment = ctx.settings.keys_from_environment();

    let mut crontab = String::from(
        "# orderbridge: sync order amounts from Odoo every hour, at the top of the hour.\n\
         # Every order's result goes to the log file; cron mails only warnings and errors.\n\
         # A run that finds the previous one still going exits 75 quietly and does nothing.\n",
    );
    for key in &from_environment {
        crontab.push_str(&format!(
            "# {key} came from this shell's environment, which cron does not have: put it in the .env or config file.\n"
        ));
    }
    // cron turns an unescaped % into a newline.
    crontab.push_str(&format!("0 * * * * {}", command.replace('%', "\\%")));

    let workdir = ctx
        .settings
        .files_read()
        .first()
        .and_then(|f| f.parent())
        .map(absolute)
        .or_else(|| std::env::current_dir().ok().map(|d| absolute(&d)))
        .unwrap_or_else(|| "/".into());
    let user_line = match service_user(user) {
        Some(u) => format!("User={u}\n"),
        None => "# User= (set the account that owns the database)\n".to_string(),
    };
    // systemd expands %-specifiers: a literal % is %%.
    let systemd_service = format!(
        "[Unit]\nDescription=orderbridge: sync order amounts from Odoo\nWants=network-online.target\nAfter=network-online.target\n\n\
         [Service]\nType=oneshot\n{user_line}WorkingDirectory={}\nExecStart={}\n# 75: the previous run still holds the lock; not a failure.\nSuccessExitStatus=75\n",
        workdir.replace('%', "%%"),
        command.replace('%', "%%")
    );
    let systemd_timer = "[Unit]\nDescription=Run orderbridge-sync hourly\n\n[Timer]\nOnCalendar=hourly\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n".to_string();
    let now = Local::now();
    let next_run = (now + Duration::hours(1))
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    Ok(Plan {
        command,
        crontab,
        systemd_service,
        systemd_timer,
        next_run,
        files,
        from_environment,
        part,
    })
}
