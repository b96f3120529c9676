//! orderbridge keeps a customer portal's sales orders and an Odoo ERP in agreement.
//!
//! The library does the work and never prints; the `cli` module parses and renders.
//! Data flows one way: cli → commands → flows → (odoo, store, rules); `serve`'s API calls
//! the flows the commands call.
//!
//! Public: what the `orderbridge` binary needs ([`cli`]) and what a program embedding the
//! library needs: the Odoo client ([`odoo`]), the local store ([`store`]) and [`Secret`].
//! Everything else is the crate's own.

pub mod cli;
mod commands;
mod config;
mod context;
mod details;
mod envelope;
mod error;
mod failpoint;
mod flows;
mod money;
pub mod odoo;
mod rules;
mod secret;
mod stamp;
pub mod store;
mod systemd;
mod webhook;

pub use error::{Error, ExitStatus, exit};
pub use secret::Secret;
