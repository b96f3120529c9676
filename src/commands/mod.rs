//! One module per command: each takes typed arguments and a context, does the work through
//! the library, and returns a typed report for `cli/` to render. Nothing here prints.

pub mod customers;
pub mod dedupe;
pub mod orders_create;
pub mod orders_read;
pub mod schedule;
pub mod sync_amounts;
pub mod sync_status;
pub mod test_connection;

use crate::config::Settings;
use crate::error::Error;
use crate::odoo::OdooClient;
use crate::store::Store;

/// What every command may need, built lazily so that a command that needs no database
/// never opens one, and one that needs no Odoo never asks for its settings.
pub struct Context {
    pub settings: Settings,
}

impl Context {
    pub fn new(settings: Settings) -> Self {
        Context { settings }
    }

    /// Opens (and migrates) the local store.
    pub fn store(&self) -> Result<Store, Error> {
        Ok(Store::open(
            &self.settings.database(),
            self.settings.busy_timeout()?,
        )?)
    }

    pub fn odoo(&self) -> Result<OdooClient, Error> {
        let cfg = self.settings.odoo()?;
        Ok(OdooClient::new(&cfg)?)
    }
}
