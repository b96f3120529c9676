//! One module per command: each takes typed arguments and a context, does the work through
//! the library, and returns a typed report for `cli/` to render. Nothing here prints.

pub mod test_connection;

use crate::config::Settings;
use crate::error::Error;
use crate::odoo::OdooClient;

/// What every command may need, built lazily so that a command that needs no database
/// never opens one, and one that needs no Odoo never asks for its settings.
pub struct Context {
    pub settings: Settings,
}

impl Context {
    pub fn new(settings: Settings) -> Self {
        Context { settings }
    }

    pub fn odoo(&self) -> Result<OdooClient, Error> {
        let cfg = self.settings.odoo()?;
        Ok(OdooClient::new(&cfg)?)
    }
}
