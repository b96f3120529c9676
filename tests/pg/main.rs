//! The behaviour suite again, on a PostgreSQL store: the same tests as `tests/it` (included
//! from there), each against a fresh database on a throwaway server, plus what only a
//! shared store has (`hosts`: several hosts at once, `db copy`).

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
#[path = "../it/laravel.rs"]
mod laravel;
#[path = "../it/listing.rs"]
mod listing;
#[path = "../it/my_server.rs"]
mod my_server;
#[path = "../it/orders.rs"]
mod orders;
#[path = "../it/outbox.rs"]
mod outbox;
#[path = "../it/pg_server.rs"]
mod pg_server;
#[path = "../it/portal_changes.rs"]
mod portal_changes;
mod postgres;
#[path = "../it/serve.rs"]
mod serve;
#[path = "../it/sync_amounts.rs"]
mod sync_amounts;
#[path = "../it/unknown_outcome.rs"]
mod unknown_outcome;
#[path = "../it/whole_order.rs"]
mod whole_order;

/// This binary runs the suite on PostgreSQL.
pub(crate) const BACKEND: env::Backend = env::Backend::Postgres;
