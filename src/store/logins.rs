//! The uid Odoo gave each login (server, database, login), remembered across runs: a run
//! sends its calls with it and logs in only when Odoo refuses it. Each look-up opens a
//! connection of its own (it runs on a blocking thread beside the run's own), and any
//! failure only means a login.

use std::time::Duration;

use super::db::args;
use super::{Location, Migrate, Store, now_text};
use crate::odoo::LoginMemory;

/// A login's place in the store.
pub(crate) struct Logins {
    pub location: Location,
    pub busy: Duration,
    pub server: String,
    pub database: String,
    pub login: String,
}

impl Logins {
    fn store(&self) -> Option<Store> {
        let store = Store::open_with(&self.location, self.busy, Migrate::No).ok()?;
        store
            .table_exists("orderbridge_odoo_logins")
            .ok()?
            .then_some(store)
    }
}

impl LoginMemory for Logins {
    fn recall(&self) -> Option<i64> {
        let store = self.store()?;
        store
            .first(
                "SELECT uid FROM orderbridge_odoo_logins WHERE server = ?1 AND \"database\" = ?2 AND login = ?3",
                args![self.server, self.database, self.login],
                |r| r.get::<i64>(0),
            )
            .ok()
            .flatten()
    }

    fn remember(&self, uid: i64) {
        let Some(store) = self.store() else { return };
        // Updated, else inserted, in one write transaction: the same SQL on every engine.
        let saved = store.in_write_tx(|s| {
            let now = now_text();
            let args = args![self.server, self.database, self.login, uid, now];
            let updated = s.exec(
                "UPDATE orderbridge_odoo_logins SET uid = ?4, updated_at = ?5
                 WHERE server = ?1 AND \"database\" = ?2 AND login = ?3",
                args,
            )?;
            if updated == 0 {
                s.exec(
                    "INSERT INTO orderbridge_odoo_logins (server, \"database\", login, uid, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    args,
                )?;
            }
            Ok(())
        });
        if let Err(e) = saved {
            tracing::debug!(error = %e, "the login's uid could not be remembered");
        }
    }

    fn recall_missing(&self) -> Option<Vec<String>> {
        let store = self.store()?;
        let (missing, checked_at): (String, String) = store
            .first(
                "SELECT missing, checked_at FROM orderbridge_odoo_features WHERE server = ?1 AND \"database\" = ?2",
                args![self.server, self.database],
                |r| Ok((r.get("missing")?, r.get("checked_at")?)),
            )
            .ok()
            .flatten()?;
        // A module may be installed since: asked again once a day.
        let fresh = super::from_text(&checked_at)
            .is_some_and(|t| chrono::Utc::now() - t < chrono::TimeDelta::hours(24));
        fresh.then(|| {
            missing
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    fn remember_missing(&self, missing: &[&str]) {
        let Some(store) = self.store() else { return };
        if let Err(e) = store.record_missing_features(&self.server, &self.database, missing) {
            tracing::debug!(error = %e, "what the server offers could not be remembered");
        }
    }
}
