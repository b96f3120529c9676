//! orderbridge keeps a customer portal's sales orders and an Odoo ERP in agreement.
//!
//! The library does the work and never prints; the `cli` module parses and renders.
//! Data flows one way: cli → commands → (odoo, store, rules).

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
mod failpoint;
pub mod money;
pub mod odoo;
pub mod rules;
pub mod secret;
pub mod store;

pub use error::Error;
