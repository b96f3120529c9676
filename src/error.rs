//! The library's top-level error: one per layer below (config, Odoo, store), each with the
//! exit code that cron and monitoring rely on and a hint a person can act on.

use crate::config::ConfigError;
use crate::odoo::{FaultKind, OdooError};
use crate::store::StoreError;

/// How a run ends, for cron, monitoring and `serve`'s HTTP statuses (README, "Exit codes"):
/// the exit statuses' one typed home. Reports and errors say theirs through [`Exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// Done; every check passed, every order synced or skipped by the rules.
    Ok,
    /// Done, but something failed (listed): an order, a check, an Odoo refusal.
    Failed,
    /// Usage or configuration error (names the key or flag).
    Usage,
    /// Odoo unreachable, or authentication refused.
    OdooUnavailable,
    /// Local database error (locked past the timeout, corrupt, read-only, newer schema).
    Database,
    /// Odoo was unavailable: the order or change waits in the local outbox for `orders
    /// flush` (it is not in Odoo yet).
    Queued,
    /// Another run holds the lock or the key; nothing was done (EX_TEMPFAIL).
    Locked,
}

impl ExitStatus {
    /// The process's exit code.
    pub const fn code(self) -> i32 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Failed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::OdooUnavailable => 3,
            ExitStatus::Database => 4,
            ExitStatus::Queued => 5,
            ExitStatus::Locked => 75,
        }
    }
}

/// A report or error that decides how its run ends.
pub(crate) trait Exit {
    fn exit_status(&self) -> ExitStatus;

    fn exit_code(&self) -> i32 {
        self.exit_status().code()
    }
}

/// Exit codes (documented in README), as numbers.
pub mod exit {
    use super::ExitStatus;

    pub const OK: i32 = ExitStatus::Ok.code();
    pub const FAILED: i32 = ExitStatus::Failed.code();
    pub const USAGE: i32 = ExitStatus::Usage.code();
    pub const ODOO_UNAVAILABLE: i32 = ExitStatus::OdooUnavailable.code();
    pub const DATABASE: i32 = ExitStatus::Database.code();
    pub const QUEUED: i32 = ExitStatus::Queued.code();
    pub const LOCKED: i32 = ExitStatus::Locked.code();
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Odoo(#[from] OdooError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `orders create` did not create the order; says whether Odoo may have it after all.
    #[error("{}", not_created_message(.cause, *.outcome_unknown))]
    NotCreated {
        cause: Box<OdooError>,
        key: String,
        outcome_unknown: bool,
    },
    /// Another run holds the lock; nothing was done.
    #[error("{message}")]
    Busy { message: String },
    /// An idempotency key sent again with a different request.
    #[error(
        "the idempotency key '{key}' was already used for a different {what}; nothing was done (use a new key for a new {what})"
    )]
    KeyReused { key: String, what: &'static str },
    /// Another request (here or in another process) is creating the order of this key.
    #[error(
        "another request is creating the order with key '{key}' right now; nothing was done by this one"
    )]
    KeyInFlight { key: String },
    /// Odoo has the order, but the local store failed before recording it.
    #[error(
        "the order exists in Odoo as {name} (id {odoo_id}, key {key}) but could not be stored locally: {cause}"
    )]
    CreatedNotStored {
        name: String,
        odoo_id: i64,
        key: String,
        cause: StoreError,
    },
    /// An earlier create with this key went unanswered and Odoo may still be working on it:
    /// the key is only looked up, never created again, until `retry_after`.
    #[error(
        "the order with key {key} is still unknown: an earlier request sent at {sent_at} UTC went unanswered and Odoo may still be creating it; it is not in Odoo yet, and nothing was created now"
    )]
    StillUnknown {
        key: String,
        sent_at: String,
        retry_after: String,
    },
    /// A run stopped midway: what it had committed stays, the rest was not changed.
    #[error("{}", stopped_message(.cause, *.updated, *.checked))]
    Stopped {
        cause: Box<Error>,
        /// Orders whose amount or status the run had committed before it stopped.
        updated: u64,
        /// Orders it had checked (and committed the results of).
        checked: u64,
    },
    /// Something failed; the message says what was and was not changed.
    #[error("{message}")]
    Failed {
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    /// How a run that failed with this error ends.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Stopped { cause, .. } => cause.exit_status(),
            Error::Config(_) | Error::Usage(_) => ExitStatus::Usage,
            Error::Busy { .. } | Error::StillUnknown { .. } | Error::KeyInFlight { .. } => {
                ExitStatus::Locked
            }
            Error::KeyReused { .. } => ExitStatus::Usage,
            Error::Odoo(e) if e.is_misconfigured() => ExitStatus::Usage,
            Error::Odoo(e) if e.is_unavailable() => ExitStatus::OdooUnavailable,
            Error::Odoo(_) | Error::Failed { .. } => ExitStatus::Failed,
            Error::Store(StoreError::NotFound(_)) => ExitStatus::Usage,
            Error::Store(StoreError::Conflict(_) | StoreError::LegacyDuplicates { .. }) => {
                ExitStatus::Failed
            }
            Error::Store(_) | Error::CreatedNotStored { .. } => ExitStatus::Database,
            Error::NotCreated { cause, .. } if cause.is_misconfigured() => ExitStatus::Usage,
            Error::NotCreated { cause, .. } if cause.is_unavailable() => {
                ExitStatus::OdooUnavailable
            }
            Error::NotCreated { .. } => ExitStatus::Failed,
        }
    }

    /// [`Error::exit_status`] as the process's exit code.
    pub fn exit_code(&self) -> i32 {
        self.exit_status().code()
    }

    /// What to do next, in one line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(_) => {
                Some("run `orderbridge --help` for the flags; see README for the keys".into())
            }
            Error::Usage(_) | Error::KeyReused { .. } => None,
            Error::KeyInFlight { key } => Some(format!(
                "send it again with the same key {key} in a moment: it answers with that order, never a second one"
            )),
            Error::Busy { .. } => Some(
                "the next scheduled run will pick up the work; this exit (75) is not an error"
                    .into(),
            ),
            Error::StillUnknown {
                key, retry_after, ..
            } => Some(format!(
                "run the same command (with --idempotency-key {key}) again after {retry_after} UTC: it adopts the order if Odoo made it, else creates it"
            )),
            Error::Odoo(e) => Some(e.hint().to_string()),
            Error::Stopped { cause, .. } => Some(match cause.hint() {
                Some(h) => format!("{h}; then run it again: it takes up the orders not yet synced"),
                None => "run it again: it takes up the orders not yet synced".into(),
            }),
            Error::Failed { hint, .. } => hint.clone(),
            Error::Store(e) => e.hint().map(str::to_string),
            Error::CreatedNotStored { key, cause, .. } => Some(format!(
                "{}; then run `orderbridge orders recover`, or the same command with --idempotency-key {key}: either records this order without creating another",
                cause.hint().unwrap_or("make the database usable again")
            )),
            Error::NotCreated {
                key,
                outcome_unknown: true,
                ..
            } => Some(format!(
                "retry with --idempotency-key {key}, or run `orderbridge orders recover`: the retry looks the order up in Odoo first, so it is never created twice"
            )),
            Error::NotCreated { cause, key, .. } if cause.is_unavailable() => Some(format!(
                "{}; then retry (safe with --idempotency-key {key})",
                cause.hint()
            )),
            Error::NotCreated { cause, .. }
                if matches!(
                    **cause,
                    OdooError::Fault {
                        kind: FaultKind::User,
                        ..
                    }
                ) =>
            {
                Some("fix the order and run the command again".into())
            }
            Error::NotCreated { cause, .. } => Some(cause.hint().to_string()),
        }
    }

    /// Extra detail shown with `-v` (a server traceback).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Odoo(e) => e.traceback(),
            Error::NotCreated { cause, .. } => cause.traceback(),
            Error::Stopped { cause, .. } => cause.detail(),
            _ => None,
        }
    }
}

fn stopped_message(cause: &Error, updated: u64, checked: u64) -> String {
    match updated {
        0 => format!("{cause}; the run stopped with no order changed ({checked} checked)"),
        n => format!(
            "{cause}; the run stopped after {n} order(s) had been updated ({checked} checked): those changes were committed and stay, the orders after them were not changed"
        ),
    }
}

fn not_created_message(cause: &OdooError, unknown: bool) -> String {
    if unknown {
        format!("the order may or may not exist in Odoo ({cause}); nothing was stored locally")
    } else {
        format!("the order was not created: {cause}; nothing was created in Odoo or locally")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_created(kind: FaultKind, exception: &str, message: &str) -> Error {
        Error::NotCreated {
            cause: Box::new(OdooError::Fault {
                call: "sale.order.create".into(),
                kind,
                exception: exception.into(),
                message: message.into(),
                traceback: Some("Traceback ...".into()),
            }),
            key: "K".into(),
            outcome_unknown: false,
        }
    }

    #[test]
    fn an_unexpected_exception_inside_odoo_is_not_blamed_on_the_order() {
        let e = not_created(FaultKind::Internal, "IndexError", "list index out of range");
        assert!(
            e.to_string()
                .contains("Odoo failed on sale.order.create with an unexpected IndexError: list index out of range"),
            "{e}"
        );
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("-v") && hint.contains("Odoo version"),
            "{hint}"
        );
        assert!(!hint.contains("fix the order"), "{hint}");
        assert_eq!(e.exit_code(), exit::FAILED);
        assert_eq!(e.detail(), Some("Traceback ..."));
    }

    #[test]
    fn a_refusal_of_the_orders_data_keeps_its_hint() {
        let e = not_created(FaultKind::User, "ValidationError", "Missing required value");
        assert!(
            e.to_string()
                .contains("Odoo refused sale.order.create: ValidationError")
        );
        assert_eq!(e.hint().unwrap(), "fix the order and run the command again");
    }

    #[test]
    fn missing_rights_point_at_an_administrator() {
        let e = not_created(FaultKind::Access, "AccessError", "You are not allowed");
        assert!(e.hint().unwrap().contains("access rights"));
    }

    #[test]
    fn json2_on_an_older_server_is_a_settings_error() {
        let e = Error::Odoo(OdooError::Json2Unsupported {
            server_version: "18.0".into(),
            major: 18,
        });
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(e.hint().unwrap().contains("jsonrpc or auto"));
    }
}
