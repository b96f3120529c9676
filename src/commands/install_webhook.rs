//! `odoo install-webhook`: the server action ("Send Webhook Notification") and the
//! automation rule that make Odoo post each change of a sale order's amount or state to
//! `serve`, created or updated in place (found by name), or removed.
//!
//! Whether this Odoo can is asked, not guessed from its version: the rule's model must exist
//! (module `base_automation`), the action's `state` must offer `webhook` and the rule must
//! take several actions (`action_server_ids`), as Odoo 17 to 19 do; Odoo 16 does not.

use super::Context;
use crate::error::Error;
use crate::odoo::{FaultKind, OdooClient, OdooError, SearchOpts, Value, domain};
use crate::webhook::{FIELDS, OPTIONAL_TRIGGER_FIELDS, TRIGGER_FIELDS};

/// The server action's name, by which a later run finds it.
pub(crate) const ACTION_NAME: &str = "orderbridge: post order changes";
/// The automation rule's name.
pub(crate) const RULE_NAME: &str = "orderbridge: order amount or state changed";

#[derive(Debug, Clone)]
pub(crate) struct InstallOptions {
    /// Where Odoo reaches `serve` (its root); `/odoo/webhook/<secret>` is appended.
    pub url: Option<String>,
    pub extra_fields: Vec<String>,
    pub remove: bool,
}

/// One record install-webhook made, changed or removed.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Record {
    pub model: &'static str,
    pub id: i64,
    pub name: &'static str,
    /// created, updated or removed.
    pub change: &'static str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct WebhookReport {
    pub server_version: String,
    pub records: Vec<Record>,
    /// The URL Odoo posts to, with the secret masked.
    pub url: Option<String>,
    pub fields: Vec<String>,
    pub trigger_fields: Vec<&'static str>,
    pub removed: bool,
}

/// `base_url/odoo/webhook/<secret>` (not twice `/odoo/webhook` when it is given).
fn webhook_url(base: &str, secret: &str) -> Result<String, Error> {
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(Error::Usage(format!(
            "--url {base:?} must start with https:// (or http:// on a private network): it is where Odoo reaches `orderbridge serve`"
        )));
    }
    let base = base.strip_suffix("/odoo/webhook").unwrap_or(base);
    Ok(format!("{base}/odoo/webhook/{secret}"))
}

fn masked(url: &str) -> String {
    match url.rsplit_once('/') {
        Some((head, _)) => format!("{head}/****"),
        None => "****".into(),
    }
}

fn leaf(f: &str, op: &str, v: Value) -> Value {
    Value::Array(vec![Value::str(f), Value::str(op), v])
}

/// A clear error for what Odoo refused, saying what was already made.
fn refused(e: OdooError, login: &str, done: &[Record]) -> Error {
    let made = if done.is_empty() {
        "nothing was changed".to_string()
    } else {
        let list: Vec<String> = done
            .iter()
            .map(|r| format!("{} {} ({} {})", r.change, r.name, r.model, r.id))
            .collect();
        format!("already done: {} (run it again to finish)", list.join(", "))
    };
    match &e {
        OdooError::Fault {
            kind: FaultKind::Access,
            ..
        } => Error::Failed {
            message: format!(
                "the Odoo user {login} may not manage server actions and automation rules; {made}"
            ),
            hint: Some(
                "run it with an Odoo user in Administration / Settings (set ODOO_USERNAME and its password or API key for this one command)".into(),
            ),
        },
        OdooError::Fault { .. } => Error::Failed {
            message: format!("Odoo refused: {e}; {made}"),
            hint: None,
        },
        // Not a refusal (unreachable, garbled): its own kind and exit code.
        _ => Error::Odoo(e),
    }
}

/// Whether `model` offers these fields, and the selection values of each.
async fn described(client: &OdooClient, model: &str, fields: &[&str]) -> Result<Value, OdooError> {
    client
        .execute(crate::odoo::Call::fields_get(
            model,
            fields,
            &["type", "selection", "relation"],
        ))
        .await
}

fn offers(fields: &Value, field: &str, value: &str) -> bool {
    fields
        .get(field)
        .and_then(|f| f.get("selection"))
        .and_then(Value::as_array)
        .is_some_and(|opts| {
            opts.iter().any(|o| {
                o.as_array()
                    .and_then(|pair| pair.first())
                    .and_then(Value::as_str)
                    == Some(value)
            })
        })
}

fn set(ids: &[i64]) -> Value {
    Value::Array(vec![Value::Array(vec![
        Value::Int(6),
        Value::Int(0),
        Value::ints(ids),
    ])])
}

pub(crate) async fn run(ctx: &Context, opts: &InstallOptions) -> Result<WebhookReport, Error> {
    let url = match (&opts.url, opts.remove) {
        (Some(base), false) => Some(webhook_url(base, ctx.settings.webhook_secret()?.expose())?),
        (None, false) => {
            return Err(Error::Usage(
                "--url is required: where Odoo reaches `orderbridge serve`, e.g. https://portal.example.com/orderbridge".into(),
            ));
        }
        (_, true) => None,
    };
    let client = ctx.odoo()?;
    let session = client.session().await?;
    let server_version = session.version.server_version.clone();
    let login = ctx.settings.odoo()?.login;
    let mut done: Vec<Record> = Vec::new();

    // The first call is where missing rights show (Odoo guards `ir.model` as it guards
    // server actions and rules).
    if client
        .search(
            "ir.model",
            domain("model", "=", Value::str("base.automation")),
        )
        .await
        .map_err(|e| refused(e, &login, &done))?
        .is_empty()
    {
        return Err(Error::Failed {
            message: format!(
                "Odoo {server_version} has no automation rules: the module base_automation (\"Automation Rules\") is not installed; nothing was changed"
            ),
            hint: Some("install it from Odoo's Apps, then run this again; until then `orderbridge serve --poll 60s` alone keeps the store in step".into()),
        });
    }
    let action_fields = described(
        &client,
        "ir.actions.server",
        &["state", "webhook_url", "webhook_field_ids"],
    )
    .await?;
    let rule_fields = described(
        &client,
        "base.automation",
        &["trigger", "trigger_field_ids", "action_server_ids"],
    )
    .await?;
    let can = offers(&action_fields, "state", "webhook")
        && action_fields.get("webhook_url").is_some()
        && action_fields.get("webhook_field_ids").is_some()
        && offers(&rule_fields, "trigger", "on_create_or_write")
        && rule_fields.get("trigger_field_ids").is_some()
        && rule_fields.get("action_server_ids").is_some();
    if !can {
        return Err(Error::Failed {
            message: format!(
                "Odoo {server_version} has no \"Send Webhook Notification\" server action (Odoo 17 and later have it); nothing was changed"
            ),
            hint: Some("run `orderbridge serve --poll 60s` without webhooks, or cron's `orders sync-amounts --changed` every few minutes".into()),
        });
    }

    let any_active = leaf(
        "active",
        "in",
        Value::Array(vec![Value::Bool(true), Value::Bool(false)]),
    );
    let rules = client
        .search(
            "base.automation",
            Value::Array(vec![leaf("name", "=", Value::str(RULE_NAME)), any_active]),
        )
        .await
        .map_err(|e| refused(e, &login, &done))?;
    let actions = client
        .search(
            "ir.actions.server",
            domain("name", "=", Value::str(ACTION_NAME)),
        )
        .await
        .map_err(|e| refused(e, &login, &done))?;

    if opts.remove {
        // The rule first: it refers to the action.
        for (model, name, found) in [
            ("base.automation", RULE_NAME, &rules),
            ("ir.actions.server", ACTION_NAME, &actions),
        ] {
            if found.is_empty() {
                continue;
            }
            client
                .execute(crate::odoo::Call::unlink(model, found))
                .await
                .map_err(|e| refused(e, &login, &done))?;
            done.extend(found.iter().map(|&id| Record {
                model,
                id,
                name,
                change: "removed",
            }));
        }
        return Ok(WebhookReport {
            server_version,
            records: done,
            url: None,
            fields: Vec::new(),
            trigger_fields: Vec::new(),
            removed: true,
        });
    }

    let model_id = *client
        .search("ir.model", domain("model", "=", Value::str("sale.order")))
        .await?
        .first()
        .ok_or_else(|| Error::Failed {
            message: "Odoo lists no sale.order model (is Sales installed?); nothing was changed"
                .into(),
            hint: None,
        })?;
    let mut fields: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
    for f in &opts.extra_fields {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let asked: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .chain(OPTIONAL_TRIGGER_FIELDS.iter().copied())
        .collect();
    let rows = client
        .search_read(
            "ir.model.fields",
            Value::Array(vec![
                leaf("model", "=", Value::str("sale.order")),
                leaf("name", "in", Value::strs(&asked)),
            ]),
            &["name"],
            SearchOpts::default(),
        )
        .await?;
    let field_id = |name: &str| {
        rows.iter().find_map(|r| {
            (r.get("name").and_then(Value::as_str) == Some(name))
                .then(|| r.get("id").and_then(Value::as_i64))
                .flatten()
        })
    };
    let unknown: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| field_id(f).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Usage(format!(
            "sale.order has no field {} in this Odoo; nothing was changed",
            unknown.join(", ")
        )));
    }
    let posted: Vec<i64> = fields.iter().filter_map(|f| field_id(f)).collect();
    // Delivery and invoicing trigger too where the server has them (Inventory for
    // delivery_status).
    let trigger_fields: Vec<&'static str> = TRIGGER_FIELDS
        .iter()
        .chain(OPTIONAL_TRIGGER_FIELDS)
        .copied()
        .filter(|f| field_id(f).is_some())
        .collect();
    let triggers: Vec<i64> = trigger_fields.iter().filter_map(|f| field_id(f)).collect();
    let url = url.unwrap_or_default();

    let action_vals = Value::object([
        ("name", Value::str(ACTION_NAME)),
        ("model_id", Value::Int(model_id)),
        ("state", Value::str("webhook")),
        ("webhook_url", Value::str(&url)),
        ("webhook_field_ids", set(&posted)),
    ]);
    let action_id = upsert(
        &client,
        "ir.actions.server",
        ACTION_NAME,
        &actions,
        action_vals,
        &mut done,
    )
    .await
    .map_err(|e| refused(e, &login, &done))?;
    let rule_vals = Value::object([
        ("name", Value::str(RULE_NAME)),
        ("model_id", Value::Int(model_id)),
        ("trigger", Value::str("on_create_or_write")),
        ("trigger_field_ids", set(&triggers)),
        ("action_server_ids", set(&[action_id])),
        ("active", Value::Bool(true)),
    ]);
    upsert(
        &client,
        "base.automation",
        RULE_NAME,
        &rules,
        rule_vals,
        &mut done,
    )
    .await
    .map_err(|e| refused(e, &login, &done))?;
    tracing::info!(records = done.len(), "Odoo webhook installed");
    Ok(WebhookReport {
        server_version,
        records: done,
        url: Some(masked(&url)),
        fields,
        trigger_fields,
        removed: false,
    })
}

/// Updates the record found by name (the first; extra copies are removed), or creates it.
async fn upsert(
    client: &OdooClient,
    model: &'static str,
    name: &'static str,
    found: &[i64],
    vals: Value,
    done: &mut Vec<Record>,
) -> Result<i64, OdooError> {
    match found.split_first() {
        Some((&id, extra)) => {
            client
                .execute(crate::odoo::Call::write(model, &[id], vals))
                .await?;
            done.push(Record {
                model,
                id,
                name,
                change: "updated",
            });
            if !extra.is_empty() {
                client
                    .execute(crate::odoo::Call::unlink(model, extra))
                    .await?;
                done.extend(extra.iter().map(|&id| Record {
                    model,
                    id,
                    name,
                    change: "removed",
                }));
            }
            Ok(id)
        }
        None => {
            let id = client.create(model, vals).await?;
            done.push(Record {
                model,
                id,
                name,
                change: "created",
            });
            Ok(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_appended_to_the_public_url_once() {
        for base in [
            "https://portal.example.com/ob",
            "https://portal.example.com/ob/",
            "https://portal.example.com/ob/odoo/webhook",
        ] {
            assert_eq!(
                webhook_url(base, "S").unwrap(),
                "https://portal.example.com/ob/odoo/webhook/S"
            );
        }
    }

    #[test]
    fn a_url_without_a_scheme_is_refused() {
        assert!(webhook_url("portal.example.com", "S").is_err());
    }

    #[test]
    fn the_secret_is_masked_in_the_report() {
        assert_eq!(
            masked("https://p.example.com/odoo/webhook/S3CRET"),
            "https://p.example.com/odoo/webhook/****"
        );
    }
}
