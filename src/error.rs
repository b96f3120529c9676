//! The library's top-level error: one per layer below (config, Odoo, store), each with the
//! exit code that cron and monitoring rely on and a hint a person can act on.

use crate::config::ConfigError;
use crate::odoo::OdooError;

/// Exit codes (documented in README).
pub mod exit {
    /// Done; every check passed, every order synced or skipped by the rules.
    pub const OK: i32 = 0;
    /// Done, but something failed (listed): an order, a check, an Odoo refusal.
    pub const FAILED: i32 = 1;
    /// Usage or configuration error (names the key or flag).
    pub const USAGE: i32 = 2;
    /// Odoo unreachable, or authentication refused.
    pub const ODOO_UNAVAILABLE: i32 = 3;
    /// Local database error (locked past the timeout, corrupt, read-only, newer schema).
    pub const DATABASE: i32 = 4;
    /// Another run holds the lock; nothing was done (EX_TEMPFAIL).
    pub const LOCKED: i32 = 75;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Odoo(#[from] OdooError),
    /// Something failed; the message says what was and was not changed.
    #[error("{message}")]
    Failed {
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) => exit::USAGE,
            Error::Odoo(OdooError::Config(_)) => exit::USAGE,
            Error::Odoo(e) if e.is_unavailable() => exit::ODOO_UNAVAILABLE,
            Error::Odoo(_) | Error::Failed { .. } => exit::FAILED,
        }
    }

    /// What to do next, in one line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(_) => {
                Some("run `orderbridge --help` for the flags; see README for the keys".into())
            }
            Error::Usage(_) => None,
            Error::Odoo(e) => Some(e.hint().to_string()),
            Error::Failed { hint, .. } => hint.clone(),
        }
    }

    /// Extra detail shown with `-v` (a server traceback).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Odoo(e) => e.traceback(),
            _ => None,
        }
    }
}
