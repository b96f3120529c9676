//! `orderbridge schedule`: the syncs as crontab lines and as systemd services and timers,
//! and when each is next due (as Laravel's `schedule:list` shows it). Two jobs: every five
//! minutes the orders Odoo changed (`--changed`), and once a night the full sync, which also
//! sees deletions and local drift. Both take one lock: an overlap exits 75, quietly.
//!
//! cron and systemd start in another folder with another environment: the command names
//! every file this run read (the implicit `./.env` included) and a SQLite database by
//! absolute path, so that it finds the same settings and the same store wherever it runs.
//! With a PostgreSQL store the same lines go on every host: the lock is in the database.

use chrono::{DateTime, Duration, Local, Timelike};

use super::Context;
use crate::error::Error;
use crate::store::Location;

/// Which part `schedule` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Part {
    All,
    Cron,
    Systemd,
}

/// One scheduled run.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Job {
    /// `orderbridge-changed`, `orderbridge-full`: the systemd unit names.
    pub name: &'static str,
    /// The command, as a shell line.
    pub command: String,
    /// When, in cron's words.
    pub cron: &'static str,
    /// When, in systemd's words.
    pub on_calendar: &'static str,
    pub systemd_service: String,
    pub systemd_timer: String,
    /// The next run (shown in local time; RFC 3339 UTC in JSON).
    #[serde(serialize_with = "utc")]
    pub next_run: DateTime<Local>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Plan {
    pub jobs: Vec<Job>,
    /// The crontab entries (comments, then one line a job; `%` escaped for cron).
    pub crontab: String,
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
    let database = ctx.database()?;
    let shared_store = matches!(database, Location::Postgres(_) | Location::Mysql(_));
    let log = match &database {
        Location::File(db) => {
            // The database by absolute path; the log beside it.
            args.extend(["--database".into(), absolute(db)]);
            db.with_extension("log")
        }
        // A server's URL may hold a password: the command finds it in the files it names
        // (never on a command line, which every user of the host can read). The log goes
        // beside the first of them.
        Location::Postgres(_) | Location::Mysql(_) => ctx
            .settings
            .files_read()
            .first()
            .and_then(|f| f.parent())
            .unwrap_or(std::path::Path::new("."))
            .join("orderbridge.log"),
    };
    args.extend([
        "--log-file".into(),
        absolute(&log),
        "orders".into(),
        "sync-amounts".into(),
    ]);
    let from_environment = ctx.settings.keys_from_environment();
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
    let now = Local::now();
    let job = |name: &'static str,
               what: &str,
               selection: &str,
               cron: &'static str,
               on_calendar: &'static str,
               next_run: DateTime<Local>| {
        let mut line = args.clone();
        line.push(selection.to_string());
        line.push("--quiet".into());
        let command = line.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
        // systemd expands %-specifiers: a literal % is %%.
        let systemd_service = format!(
            "[Unit]\nDescription=orderbridge: {what}\nWants=network-online.target\nAfter=network-online.target\n\n\
             [Service]\nType=oneshot\n{user_line}WorkingDirectory={}\nExecStart={}\n# 75: another sync holds the lock; not a failure.\nSuccessExitStatus=75\n",
            workdir.replace('%', "%%"),
            command.replace('%', "%%")
        );
        let systemd_timer = format!(
            "[Unit]\nDescription=Run {name}: {what}\n\n[Timer]\nOnCalendar={on_calendar}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
        );
        Job {
            name,
            command,
            cron,
            on_calendar,
            systemd_service,
            systemd_timer,
            next_run,
        }
    };
    let next_five = {
        let m = now.minute();
        let ahead = 5 - m % 5;
        (now + Duration::minutes(i64::from(ahead)))
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now)
    };
    let next_night = {
        let today = now
            .with_hour(2)
            .and_then(|t| t.with_minute(30))
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        if today > now {
            today
        } else {
            today + Duration::days(1)
        }
    };
    let jobs = vec![
        job(
            "orderbridge-changed",
            "sync the orders Odoo changed",
            "--changed",
            "*/5 * * * *",
            "*:0/5",
            next_five,
        ),
        job(
            "orderbridge-full",
            "sync every order with Odoo",
            "--all",
            "30 2 * * *",
            "*-*-* 02:30:00",
            next_night,
        ),
    ];
    let mut crontab = String::from(
        "# orderbridge: every 5 minutes the orders Odoo changed; every night at 02:30 all of them\n\
         # (which also sees orders deleted in Odoo). Every result goes to the log file; cron\n\
         # mails only errors. A run that finds another still going exits 75 quietly.\n",
    );
    if shared_store {
        crontab.push_str(
            "# The store is PostgreSQL: install these lines on every host that should be able to\n\
             # sync. The run lock is held in the database, so at each time one host syncs and the\n\
             # others exit 75 quietly; the schedule survives any one host going down.\n",
        );
    }
    for key in &from_environment {
        crontab.push_str(&format!(
            "# {key} came from this shell's environment, which cron does not have: put it in the .env or config file.\n"
        ));
    }
    for j in &jobs {
        // cron turns an unescaped % into a newline.
        crontab.push_str(&format!("{} {}\n", j.cron, j.command.replace('%', "\\%")));
    }
    Ok(Plan {
        jobs,
        crontab,
        files,
        from_environment,
        part,
    })
}
