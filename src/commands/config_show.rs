//! `orderbridge config show`: each setting's value and where it came from, secrets masked,
//! so that "which .env did cron read?" has an answer.

use super::Context;
use crate::config::keys;

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Setting {
    pub key: &'static str,
    /// The value (`***` for a secret that is set); `None` when not set.
    pub value: Option<String>,
    /// `flag --x`, `environment`, the .env or config file's path, or `default`.
    pub from: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ConfigReport {
    pub settings: Vec<Setting>,
    /// The database this run would use, resolved (a password as `***`).
    pub database: String,
    /// Where that came from (for `laravel`: which of Laravel's keys decided).
    pub database_from: String,
    /// The .env and config files that were read.
    pub files: Vec<String>,
}

pub(crate) fn report(ctx: &Context) -> ConfigReport {
    let settings = keys()
        .map(|key| match ctx.settings.get(key) {
            Some((_, origin)) => Setting {
                key,
                value: ctx.settings.shown(key),
                from: origin.to_string(),
            },
            None => Setting {
                key,
                value: None,
                from: "default".into(),
            },
        })
        .collect();
    ConfigReport {
        settings,
        database: match ctx.settings.database() {
            Ok(location) => location.to_string(),
            Err(e) => e.to_string(),
        },
        database_from: ctx.settings.database_source(),
        files: ctx
            .settings
            .files_read()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}
