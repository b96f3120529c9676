//! The behaviour suite again, on a MySQL store (a throwaway MariaDB server): the same tests
//! as `tests/it` (included from there), each against a fresh database, plus what only the
//! portal's own MySQL database has (`portal`: a Laravel portal's tables adopted in place).

// Tests: an unexpected error should fail the test where it happens.
#![allow(clippy::unwrap_used)]

#[path = "../it/answers.rs"]
mod answers;
#[path = "../it/api.rs"]
mod api;
#[path = "../it/changed.rs"]
mod changed;
#[path = "../it/conflicts.rs"]
mod conflicts;
#[path = "../it/env.rs"]
mod env;
#[path = "../it/events.rs"]
mod events;
#[path = "../it/hosts.rs"]
mod hosts;
#[path = "../it/listing.rs"]
mod listing;
#[path = "../it/my_server.rs"]
mod my_server;
mod mysql;
#[path = "../it/orders.rs"]
mod orders;
#[path = "../it/outbox.rs"]
mod outbox;
#[path = "../it/pg_server.rs"]
mod pg_server;
mod portal;
#[path = "../it/portal_changes.rs"]
mod portal_changes;
#[path = "../it/serve.rs"]
mod serve;
#[path = "../it/sync_amounts.rs"]
mod sync_amounts;
#[path = "../it/unknown_outcome.rs"]
mod unknown_outcome;
#[path = "../it/whole_order.rs"]
mod whole_order;

/// This binary runs the suite on MySQL.
pub(crate) const BACKEND: env::Backend = env::Backend::Mysql;
