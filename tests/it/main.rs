//! One integration-test binary: the real `orderbridge` binary against the fake Odoo.

// Tests: an unexpected error should fail the test where it happens.
#![allow(clippy::unwrap_used)]

mod changed;
mod conflicts;
mod dedupe;
mod env;
mod input;
mod install_webhook;
mod operations;
mod orders;
mod outbox;
mod output;
mod replay;
mod serve;
mod store;
mod sync_amounts;
mod test_connection;
mod unknown_outcome;
mod versions;
