//! One module per command: each takes typed arguments and a context, does the work through
//! the library, and returns a typed report for `cli/` to render. Nothing here prints.

pub(crate) mod changes;
pub(crate) mod config_show;
pub(crate) mod conflicts;
pub(crate) mod customers;
pub(crate) mod dedupe;
pub(crate) mod install_webhook;
pub(crate) mod migrate;
pub(crate) mod order_actions;
pub(crate) mod order_request;
pub(crate) mod orders_create;
pub(crate) mod orders_read;
pub(crate) mod outbox;
pub(crate) mod reconcile;
pub(crate) mod schedule;
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod sync;
pub(crate) mod sync_changed;
pub(crate) mod test_connection;

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

/// The portal's side of an order it created: the request, its key, and the review
/// threshold in force.
pub(crate) struct Placed<'a> {
    pub req: &'a order_request::OrderRequest,
    pub key: &'a str,
    pub max_change: crate::rules::MaxChange,
}

/// The local row for an Odoo order: its id, name, amount and state as Odoo has them. An
/// order the portal placed keeps the portal's amount, key and note (Odoo's amount is held
/// for review, not recorded, when it differs from the portal's beyond the threshold: the
/// rule every sync applies); one imported from Odoo starts at Odoo's amount, with the key
/// orderbridge generated if `origin` holds one.
pub(crate) fn new_order(
    o: &crate::odoo::SaleOrder,
    customer_id: Option<i64>,
    placed: Option<Placed<'_>>,
) -> crate::store::orders::NewOrder {
    let mut held = None;
    let mut odoo_amount_total = Some(o.amount_total);
    let (total_amount, idempotency_key, note) = match &placed {
        Some(p) => {
            // The sync's rule, for an order that has no review yet.
            if let crate::rules::Verdict::Held { from, to } = crate::rules::judge_amount(
                p.req.amount,
                o.amount_total,
                &o.currency,
                None,
                &p.max_change,
            ) {
                tracing::warn!(odoo_order_id = o.id, order_number = %o.name, portal_amount = %from, odoo_amount = %to, "Order amount change held for review");
                held = Some(to);
                odoo_amount_total = None;
            }
            (p.req.amount, Some(p.key.to_string()), p.req.note.clone())
        }
        None => (
            o.amount_total,
            o.origin.clone().filter(|s| s.starts_with("ob-")),
            None,
        ),
    };
    crate::store::orders::NewOrder {
        customer_id,
        order_number: Some(o.name.clone()),
        odoo_order_id: Some(o.id),
        total_amount,
        odoo_amount_total,
        currency: o.currency.clone(),
        status: crate::rules::status_for_state(&o.state).to_string(),
        odoo_state: Some(o.state.clone()),
        idempotency_key,
        note,
        order_date: o.date_order.clone(),
        imported: placed.is_none(),
        held,
        odoo_write_date: o.write_date.as_deref().and_then(crate::stamp::from_read),
    }
}
