//! `customers add | link | list`: the portal's customers and their Odoo partners.

use super::Context;
use super::order_request::check_text;
use crate::error::Error;
use crate::odoo::{OdooClient, Partner, SearchOpts, Value, domain};
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
    let partner_id = match choice {
        PartnerChoice::None => None,
        PartnerChoice::Existing(id) => {
            let client = ctx.odoo()?;
            read_partner(&client, id).await?.ok_or_else(|| {
                Error::Usage(format!("Odoo has no res.partner {id}; nothing was stored"))
            })?;
            Some(id)
        }
        PartnerChoice::Create => {
            // Odoo first: a customer is stored only once its partner exists.
            let client = ctx.odoo()?;
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
    let store = ctx.store()?;
    let customer = store.customer(id)?;
    let client = ctx.odoo()?;
    let domain = domain("email", "=ilike", Value::str(&customer.email));
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
    let (partner, created) = match found.first() {
        Some(v) => {
            if found.len() > 1 {
                tracing::warn!(email = %customer.email, "several Odoo partners have this email; linking the oldest");
            }
            (
                Partner::from_value(v).map_err(crate::odoo::OdooError::from)?,
                false,
            )
        }
        None => {
            let pid = client
                .create(
                    "res.partner",
                    Value::object([
                        ("name", Value::str(&customer.name)),
                        ("email", Value::str(&customer.email)),
                    ]),
                )
                .await?;
            tracing::info!(partner_id = pid, email = %customer.email, "Partner created in Odoo first");
            (
                Partner {
                    id: pid,
                    name: customer.name.clone(),
                    email: Some(customer.email.clone()),
                },
                true,
            )
        }
    };
    let customer = store.link_customer(id, partner.id)?;
    Ok(LinkReport {
        customer,
        partner,
        created_partner: created,
    })
}

pub(crate) fn list(ctx: &Context) -> Result<Vec<Customer>, Error> {
    Ok(ctx.store()?.customers()?)
}
