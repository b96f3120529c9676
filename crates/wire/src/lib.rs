//! What travels between orderbridge and Odoo: loose wire values ([`Value`]), the exact numbers
//! inside them, and the XML-RPC codec in both directions. The client (orderbridge) and the
//! fake Odoo of its tests share it, so neither has to export the other's code.

pub mod number;
pub mod value;
pub mod xmlrpc;

pub use value::{Value, domain, format_odoo_datetime, parse_odoo_datetime};
