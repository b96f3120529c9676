//! `orderbridge schedule`: the hourly run as a crontab line and as a systemd timer, and
//! when it is next due (as Laravel's `schedule:list` shows it).

use chrono::{DateTime, Duration, Timelike, Utc};

use super::Context;
use crate::error::Error;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Plan {
    /// The command the schedule runs.
    pub command: String,
    pub crontab: String,
    pub systemd_service: String,
    pub systemd_timer: String,
    pub next_run: DateTime<Utc>,
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

pub(crate) fn plan(global_args: &[String], ctx: &Context) -> Result<Plan, Error> {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map_or_else(|| "orderbridge".to_string(), |p| p.display().to_string());
    let mut args: Vec<String> = vec![exe];
    args.extend(global_args.iter().cloned());
    let log = ctx.settings.database().with_extension("log");
    args.extend([
        "--log-file".into(),
        log.display().to_string(),
        "orders".into(),
        "sync-amounts".into(),
        "--quiet".into(),
    ]);
    let command = args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    let mut crontab = String::from(
        "# orderbridge: sync order amounts from Odoo every hour, at the top of the hour.\n\
         # A run that finds the previous one still going exits 75 and does nothing.\n",
    );
    if !global_args
        .iter()
        .any(|a| a == "--env-file" || a == "--config")
    {
        crontab.push_str(
            "# cron does not see your shell's variables: add --env-file PATH or --config PATH.\n",
        );
    }
    crontab.push_str(&format!("0 * * * * {command}"));
    let systemd_service = format!(
        "[Unit]\nDescription=orderbridge: sync order amounts from Odoo\nWants=network-online.target\nAfter=network-online.target\n\n\
         [Service]\nType=oneshot\nExecStart={command}\n# 75: the previous run still holds the lock; not a failure.\nSuccessExitStatus=75\n"
    );
    let systemd_timer = "[Unit]\nDescription=Run orderbridge-sync hourly\n\n[Timer]\nOnCalendar=hourly\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n".to_string();
    let now = Utc::now();
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
    })
}
