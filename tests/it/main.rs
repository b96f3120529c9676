//! One integration-test binary: the real `orderbridge` binary against the fake Odoo.

mod env;
mod replay;
mod test_connection;
