//! One integration-test binary: the real `orderbridge` binary against the fake Odoo.

// Tests: an unexpected error should fail the test where it happens.
#![allow(clippy::unwrap_used)]

mod answers;
mod api;
mod changed;
mod conflicts;
mod dedupe;
mod env;
mod events;
mod input;
mod install_webhook;
mod laravel;
mod layers;
mod listing;
mod my_server;
mod openapi;
mod operations;
mod orders;
mod outbox;
mod output;
mod packaging;
mod pg_server;
mod portal_changes;
mod replay;
mod serve;
mod serve_holds;
mod store;
mod sync_amounts;
mod test_connection;
mod unknown_outcome;
mod versions;
mod whole_order;

/// This binary runs the suite on SQLite; `tests/pg` runs it again on PostgreSQL.
pub(crate) const BACKEND: env::Backend = env::Backend::Sqlite;
