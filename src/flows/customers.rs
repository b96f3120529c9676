//! `customers add | link | list`: the portal's customers and their Odoo partners.

use super::Context;
use super::order_request::check_text;
use crate::error::Error;
use crate::odoo::{OdooClient, Partner, SearchOpts, Value, domain};
use crate::store::Store;
use crate::store::customers::Customer;

/// How `customers add` ties the new customer to Odoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartnerChoice {
    /// Not linked yet (`customers link` later).
    None,
    /// An existing res.partner, checked in Odoo.
    Existing(i64),
    /// Create the res.partner in Odoo first.
    Create,
}

/// A name fits one line (at most 200 characters); an email address at most 254 (RFC 5321).
fn validate(name: &str, email: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(Error::Usage("--name must not be empty".into()));
    }
    check_text("--name", name, 200, false)?;
    check_text("--email", email, 254, false)?;
    let (user, domain) = email.split_once('@').unwrap_or(("", ""));
    if user.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
        return Err(Error::Usage(format!(
            "'{}' is not an email address",
            email.escape_debug()
        )));
    }
    Ok(())
}

async fn read_partner(client: &OdooClient, id: i64) -> Result<Option<Partner>, Error> {
    let rows = client.read("res.partner", &[id], Partner::FIELDS).await?;
    Ok(rows
        .first()
        .map(Partner::from_value)
        .transpose()
        .map_err(crate::odoo::OdooError::from)?)
}

pub(crate) async fn add(
    ctx: &Context,
    name: &str,
    email: &str,
    choice: PartnerChoice,
) -> Result<Customer, Error> {
    validate(name, email)?;
    let store = ctx.store_creating()?;
    let client = match choice {
        PartnerChoice::None => None,
        _ => Some(ctx.odoo()?),
    };
    add_with(&store, client.as_ref(), name, email, choice).await
}

/// Adds a customer; `client` is needed unless `choice` is [`PartnerChoice::None`].
pub(crate) async fn add_with(
    store: &Store,
    client: Option<&OdooClient>,
    name: &str,
    email: &str,
    choice: PartnerChoice,
) -> Result<Customer, Error> {
    validate(name, email)?;
    let odoo =
        || client.ok_or_else(|| Error::Usage("linking a partner needs the Odoo settings".into()));
    let partner_id = match choice {
        PartnerChoice::None => None,
        PartnerChoice::Existing(id) => {
            let client = odoo()?;
            read_partner(client, id).await?.ok_or_else(|| {
                Error::Usage(format!("Odoo has no res.partner {id}; nothing was stored"))
            })?;
            Some(id)
        }
        PartnerChoice::Create => {
            // Odoo first: a customer is stored only once its partner exists.
            let client = odoo()?;
            let id = client
                .create(
                    "res.partner",
                    Value::object([
                        ("name", Value::str(name.trim())),
                        ("email", Value::str(email.trim())),
                    ]),
                )
                .await?;
            tracing::info!(partner_id = id, email, "Partner created in Odoo first");
            Some(id)
        }
    };
    let c = store.add_customer(name.trim(), email.trim(), partner_id)?;
    tracing::info!(
        customer_id = c.id,
        partner_id = c
            .odoo_partner_id
            .map_or_else(|| "none".to_string(), |p| p.to_string()),
        "Customer created in local database"
    );
    Ok(c)
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct LinkReport {
    pub customer: Customer,
    pub partner: Partner,
    /// The partner was created in Odoo by this run (none had the email).
    pub created_partner: bool,
}

/// Links a customer to the res.partner with its email, creating the partner if none has it.
pub(crate) async fn link(ctx: &Context, id: i64) -> Result<LinkReport, Error> {
    link_with(&ctx.store()?, &ctx.odoo()?, id).await
}

/// The Odoo partner with this email (the oldest when several have it), created when none
/// has it; whether it was created.
async fn partner_for(
    client: &OdooClient,
    name: &str,
    email: &str,
) -> Result<(Partner, bool), Error> {
    let domain = domain("email", "=ilike", Value::str(email));
    let found = client
        .search_read(
            "res.partner",
            domain,
            Partner::FIELDS,
            SearchOpts {
                limit: Some(2),
                order: Some("id"),
            },
        )
        .await?;
    if let Some(v) = found.first() {
        if found.len() > 1 {
            tracing::warn!(
                email,
                "several Odoo partners have this email; linking the oldest"
            );
        }
        return Ok((
            Partner::from_value(v).map_err(crate::odoo::OdooError::from)?,
            false,
        ));
    }
    let pid = client
        .create(
            "res.partner",
            Value::object([("name", Value::str(name)), ("email", Value::str(email))]),
        )
        .await?;
    tracing::info!(partner_id = pid, email, "Partner created in Odoo first");
    Ok((
        Partner {
            id: pid,
            name: name.to_string(),
            email: Some(email.to_string()),
        },
        true,
    ))
}

/// [`link`] with the store and client given.
pub(crate) async fn link_with(
    store: &Store,
    client: &OdooClient,
    id: i64,
) -> Result<LinkReport, Error> {
    let customer = store.customer(id)?;
    let (partner, created) = partner_for(client, &customer.name, &customer.email).await?;
    let customer = store.link_customer(id, partner.id)?;
    Ok(LinkReport {
        customer,
        partner,
        created_partner: created,
    })
}

/// What [`add_or_link`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AddOrLinkReport {
    pub customer: Customer,
    /// The customer was added by this call (none had the email).
    pub created_customer: bool,
    /// The Odoo partner it is linked to (`None` only for one linked before, unread).
    pub partner: Option<Partner>,
    pub created_partner: bool,
}

/// The portal's "make sure this customer can order": the customer with this email, added
/// when missing, linked to an Odoo partner (the one given, else the one with the email,
/// created when none has it). Safe to repeat: a second call finds what the first made.
pub(crate) async fn add_or_link(
    store: &Store,
    client: &OdooClient,
    name: &str,
    email: &str,
    partner: Option<i64>,
) -> Result<AddOrLinkReport, Error> {
    validate(name, email)?;
    let (name, email) = (name.trim(), email.trim());
    let Some(customer) = store.customer_by_email(email)? else {
        // Odoo first: the partner, then the customer (nothing is stored if Odoo fails).
        let (partner, created_partner) = match partner {
            Some(pid) => (
                read_partner(client, pid).await?.ok_or_else(|| {
                    Error::Usage(format!("Odoo has no res.partner {pid}; nothing was stored"))
                })?,
                false,
            ),
            None => partner_for(client, name, email).await?,
        };
        let customer = store.add_customer(name, email, Some(partner.id))?;
        tracing::info!(
            customer_id = customer.id,
            partner_id = partner.id,
            "Customer created in local database"
        );
        return Ok(AddOrLinkReport {
            customer,
            created_customer: true,
            partner: Some(partner),
            created_partner,
        });
    };
    let created_customer = false;
    if let Some(pid) = customer.odoo_partner_id {
        if partner.is_some_and(|p| p != pid) {
            return Err(Error::Failed {
                message: format!(
                    "customer {} ({}) is linked to Odoo partner {pid}, not {}; nothing was changed",
                    customer.id,
                    customer.email,
                    partner.unwrap_or_default()
                ),
                hint: Some(
                    "link it by hand (`orderbridge customers link`) if it must change".into(),
                ),
            });
        }
        return Ok(AddOrLinkReport {
            customer,
            created_customer,
            partner: None,
            created_partner: false,
        });
    }
    let linked = match partner {
        Some(pid) => {
            let p = read_partner(client, pid).await?.ok_or_else(|| {
                Error::Usage(format!("Odoo has no res.partner {pid}; nothing was linked"))
            })?;
            let customer = store.link_customer(customer.id, pid)?;
            LinkReport {
                customer,
                partner: p,
                created_partner: false,
            }
        }
        None => link_with(store, client, customer.id).await?,
    };
    Ok(AddOrLinkReport {
        customer: linked.customer,
        created_customer,
        partner: Some(linked.partner),
        created_partner: linked.created_partner,
    })
}

pub(crate) fn list(ctx: &Context) -> Result<Vec<Customer>, Error> {
    Ok(ctx.store()?.customers()?)
}
