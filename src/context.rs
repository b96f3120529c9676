//! What every command and flow may need, built lazily: the settings, and from them the
//! store, the run lock and the Odoo client.

use crate::config::Settings;
use crate::error::Error;
use crate::odoo::OdooClient;
use crate::store::lock::RunLock;
use crate::store::{Location, Store};

/// What every command may need, built lazily so that a command that needs no database
/// never opens one, and one that needs no Odoo never asks for its settings.
pub(crate) struct Context {
    pub settings: Settings,
}

impl Context {
    pub(crate) fn new(settings: Settings) -> Self {
        Context { settings }
    }

    /// Opens (and migrates) the local store, which must exist, and checks that no page of
    /// it is damaged before the command writes anything, there or to Odoo.
    pub(crate) fn store(&self) -> Result<Store, Error> {
        let store = self.store_unverified()?;
        store.verify()?;
        Ok(store)
    }

    /// Like [`Context::store`], creating the database when there is none (`customers add`):
    /// the first write of a new portal. Says so in the log.
    pub(crate) fn store_creating(&self) -> Result<Store, Error> {
        let location = self.database()?;
        self.warn_if_new(&location);
        let store = Store::open(&location, self.settings.busy_timeout()?)?
            .with_customers(&self.settings.customers_table()?)?;
        store.verify()?;
        Ok(store)
    }

    /// Opens the existing store without checking its pages: for a command that checks them
    /// itself (`orders create`, while it waits for Odoo).
    pub(crate) fn store_unverified(&self) -> Result<Store, Error> {
        Ok(
            Store::open(&self.existing_database()?, self.settings.busy_timeout()?)?
                .with_customers(&self.settings.customers_table()?)?,
        )
    }

    /// [`Context::store_unmigrated`] for `db migrate`, which creates a missing database.
    pub(crate) fn store_unmigrated_creating(&self) -> Result<Store, Error> {
        let location = self.database()?;
        self.warn_if_new(&location);
        let store = Store::open_with(
            &location,
            self.settings.busy_timeout()?,
            crate::store::Migrate::No,
        )?;
        store.verify()?;
        Ok(store)
    }

    fn warn_if_new(&self, location: &Location) {
        if let Location::File(path) = location
            && !path.exists()
        {
            tracing::warn!(path = %path.display(), from = %self.database_origin(), "Creating a new local database");
        }
    }

    /// Where the database setting came from, for messages.
    fn database_origin(&self) -> String {
        self.settings.database_source()
    }

    /// The store, which must exist: a command that reads or syncs never succeeds on an
    /// empty SQLite file it just made (a cron job run from the wrong folder would). A
    /// PostgreSQL database is made by its administrator; orderbridge makes its tables.
    fn existing_database(&self) -> Result<Location, Error> {
        let location = self.database()?;
        match &location {
            Location::File(path) if !path.exists() => {
                Err(Error::Store(crate::store::StoreError::Missing {
                    path: path.display().to_string(),
                    origin: self.database_origin(),
                }))
            }
            _ => Ok(location),
        }
    }

    /// Opens the store as it is, without migrating: dedupe and `db migrate` work on legacy
    /// files, before the unique index exists. Its pages are checked all the same.
    pub(crate) fn store_unmigrated(&self) -> Result<Store, Error> {
        let store = Store::open_with(
            &self.existing_database()?,
            self.settings.busy_timeout()?,
            crate::store::Migrate::No,
        )?;
        store.verify()?;
        Ok(store)
    }

    /// The store's location. Only the default location's folder is created: a folder named
    /// by the user that does not exist is a typo more often than a wish.
    pub(crate) fn database(&self) -> Result<Location, Error> {
        let location = self.settings.database()?;
        if let Location::File(path) = &location
            && let Some((_, origin)) = self.settings.get("ORDERBRIDGE_DATABASE")
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(Error::Usage(format!(
                "the folder {} of the database {} (from {origin}) does not exist; nothing was created (create the folder, or fix the path)",
                parent.display(),
                path.display()
            )));
        }
        Ok(location)
    }

    /// Takes the run lock (one sync or flush at a time, across hosts on PostgreSQL), or
    /// fails at once with [`Error::Busy`].
    pub(crate) fn run_lock(&self) -> Result<RunLock, Error> {
        let location = self.database()?;
        run_lock_at(&location, self.settings.busy_timeout()?)
    }

    /// The Odoo client, remembering its login's uid in the store when there is one (a run
    /// then logs in only when Odoo refuses the remembered uid).
    pub(crate) fn odoo(&self) -> Result<OdooClient, Error> {
        let cfg = self.settings.odoo()?;
        let client = OdooClient::new(&cfg)?;
        let location = match self.settings.database() {
            Ok(Location::File(p)) if !p.exists() => return Ok(client),
            Ok(location) => location,
            Err(_) => return Ok(client),
        };
        Ok(
            client.with_login_memory(std::sync::Arc::new(crate::store::logins::Logins {
                location,
                busy: self.settings.busy_timeout()?,
                server: cfg.url.trim_end_matches('/').to_string(),
                database: cfg.db.clone(),
                login: cfg.login.clone(),
            })),
        )
    }

    /// How long a claim on an intent lasts: past every request's timeout (three of them,
    /// and 10 s), so that a live process is never overtaken.
    pub(crate) fn claim_lease(&self) -> std::time::Duration {
        let timeout = self
            .settings
            .odoo()
            .map(|c| c.timeout)
            .unwrap_or(std::time::Duration::from_secs(30));
        timeout * 3 + std::time::Duration::from_secs(10)
    }

    /// The Odoo client without the store: it logs in (`odoo test-connection` checks the
    /// credentials, and never touches the database).
    pub(crate) fn odoo_alone(&self) -> Result<OdooClient, Error> {
        Ok(OdooClient::new(&self.settings.odoo()?)?)
    }
}

/// [`Context::run_lock`] for a location known already (`serve`'s polls).
pub(crate) fn run_lock_at(
    location: &Location,
    busy: std::time::Duration,
) -> Result<RunLock, Error> {
    RunLock::try_acquire(location, busy)?.ok_or_else(|| Error::Busy {
        message: match location {
            Location::File(db) => format!(
                "another sync run holds {}; nothing was done",
                crate::store::lock::lock_file(db).display()
            ),
            Location::Postgres(_) | Location::Mysql(_) => format!(
                "another sync run holds the run lock of {location} (on this host or another); nothing was done"
            ),
        },
    })
}

/// A run's outcome in the run history, from its exit code.
pub(crate) fn run_outcome(code: i32) -> &'static str {
    match code {
        crate::error::exit::OK => "ok",
        crate::error::exit::ODOO_UNAVAILABLE => "odoo_unavailable",
        _ => "failed",
    }
}

/// The run history's end of a run that stopped on an error.
pub(crate) fn run_failed(e: &Error) -> crate::store::runs::RunEnd {
    let (updated, checked) = match e {
        Error::Stopped {
            updated, checked, ..
        } => (*updated, *checked),
        _ => (0, 0),
    };
    crate::store::runs::RunEnd {
        outcome: "error",
        exit_code: e.exit_code(),
        error: Some(e.to_string()),
        updated,
        checked,
        ..Default::default()
    }
}
