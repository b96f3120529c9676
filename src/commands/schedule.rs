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
use crate::systemd::{self, Layout};

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
    /// `orderbridge-sync-changed`, `orderbridge-sync-all`: the systemd unit names.
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
    /// `orderbridge-serve.service`: webhooks and the poll, for hosts that run `serve`.
    pub serve_service: String,
    /// The crontab entries (comments, then one line a job; `%` escaped for cron).
    pub crontab: String,
    /// The settings files the command names.
    pub files: Vec<String>,
    /// Keys whose values came from this shell's environment, which cron and systemd lack.
    pub from_environment: Vec<&'static str>,
    #[serde(skip)]
    pub part: Part,
    /// The unit files `--write` wrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<String>,
}

fn utc<S: serde::Serializer>(t: &DateTime<Local>, s: S) -> Result<S::Ok, S::Error> {
    let utc = t.with_timezone(&chrono::Utc);
    s.serialize_str(&utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
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

/// The layout of a hand-made schedule: this program by absolute path, the settings files
/// this run read, a SQLite store by absolute path, the log beside it.
fn layout_here(ctx: &Context, user: Option<&str>) -> Result<(Layout, bool), Error> {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map_or_else(|| "orderbridge".to_string(), |p| p.display().to_string());
    let mut command: Vec<String> = vec![exe];
    for f in ctx.settings.files_read() {
        let flag = if f.extension().is_some_and(|e| e == "toml") {
            "--config"
        } else {
            "--env-file"
        };
        command.extend([flag.to_string(), absolute(f)]);
    }
    let database = ctx.database()?;
    let shared_store = matches!(database, Location::Postgres(_) | Location::Mysql(_));
    let mut writable = Vec::new();
    let log = match &database {
        Location::File(db) => {
            // The database by absolute path; the log beside it.
            command.extend(["--database".into(), absolute(db)]);
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
    // SQLite writes its journal beside the database: the folder, not only the file.
    if let Some(dir) = std::path::absolute(&log)
        .ok()
        .and_then(|l| l.parent().map(|d| d.display().to_string()))
    {
        writable.push(dir);
    }
    command.extend(["--log-file".into(), absolute(&log)]);
    let workdir = ctx
        .settings
        .files_read()
        .first()
        .and_then(|f| f.parent())
        .map(absolute)
        .or_else(|| std::env::current_dir().ok().map(|d| absolute(&d)))
        .unwrap_or_else(|| "/".into());
    Ok((
        Layout {
            command,
            user: service_user(user),
            workdir,
            writable,
            packaged: false,
        },
        shared_store,
    ))
}

pub(crate) fn plan(
    ctx: &Context,
    part: Part,
    user: Option<&str>,
    packaged: bool,
) -> Result<Plan, Error> {
    let (layout, shared_store, from_environment, files) = if packaged {
        (
            Layout::packaged(),
            false,
            Vec::new(),
            vec![systemd::packaged::ENV_FILE.to_string()],
        )
    } else {
        let (layout, shared) = layout_here(ctx, user)?;
        let files = ctx
            .settings
            .files_read()
            .iter()
            .map(|p| absolute(p))
            .collect();
        (layout, shared, ctx.settings.keys_from_environment(), files)
    };
    let now = Local::now();
    let job = |name: &'static str,
               what: &str,
               selection: &str,
               cron: &'static str,
               on_calendar: &'static str,
               next_run: DateTime<Local>| {
        let mut args = vec!["orders", "sync-amounts", selection];
        // cron mails what a job prints: only errors; the journal keeps everything.
        if !layout.packaged {
            args.push("--quiet");
        }
        Job {
            name,
            command: layout.command_line(&args),
            cron,
            on_calendar,
            systemd_service: layout.sync_service(what, &args),
            systemd_timer: Layout::timer(name, what, on_calendar),
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
            "orderbridge-sync-changed",
            "sync the orders Odoo changed",
            "--changed",
            "*/5 * * * *",
            "*:0/5",
            next_five,
        ),
        job(
            "orderbridge-sync-all",
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
        serve_service: layout.serve_service(),
        jobs,
        crontab,
        files,
        from_environment,
        part,
        written: Vec::new(),
    })
}

/// Writes the units into `dir` (`/etc/systemd/system`, or a package's tree): each job's
/// service and timer, and `orderbridge-serve.service`. Returns the files written.
pub(crate) fn write_units(plan: &Plan, dir: &std::path::Path) -> Result<Vec<String>, Error> {
    let mut files: Vec<(String, &str)> = Vec::new();
    for j in &plan.jobs {
        files.push((format!("{}.service", j.name), &j.systemd_service));
        files.push((format!("{}.timer", j.name), &j.systemd_timer));
    }
    files.push((SERVE_UNIT.to_string(), &plan.serve_service));
    let failed = |path: &std::path::Path, e: std::io::Error| Error::Failed {
        message: format!("cannot write {}: {e}", path.display()),
        hint: Some("nothing after it was written; check the folder and rerun".into()),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|e| failed(&path, e))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// The name of `serve`'s unit.
pub(crate) const SERVE_UNIT: &str = "orderbridge-serve.service";
