//! One module per command that has work of its own: each takes typed arguments and a
//! context, does the work through the library (`crate::flows` holds the steps the CLI and
//! `serve` share), and returns a typed report for `cli/` to render. Nothing here prints, and
//! no command module imports another.

pub(crate) mod config_show;
pub(crate) mod conflicts;
pub(crate) mod dedupe;
pub(crate) mod install_webhook;
pub(crate) mod migrate;
pub(crate) mod reconcile;
pub(crate) mod schedule;
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod sync;
pub(crate) mod test_connection;

pub(crate) use crate::context::{Context, run_lock_at};
