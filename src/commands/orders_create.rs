//! `orders create` and `orders recover`: Odoo first, exactly once.
//!
//! Every create carries an idempotency key that travels into the Odoo order (`origin` by
//! default). A local intent (key, payload hash, state) is written before the Odoo call and
//! resolved after it. When the outcome is unknown (timeout, connection lost, crash before
//! the local insert), the next attempt with the key searches Odoo for it and adopts the
//! order it finds instead of creating a second one. See README, "Exactly once".

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::Context;
use crate::error::Error;
use crate::money::parse_user_amount;
use crate::odoo::{OdooClient, OdooError, SaleOrder, Value, domain};
use crate::store::intents::{Intent, IntentState};
use crate::store::orders::{NewOrder, OrderRow};
use crate::store::{Store, from_text, to_text};

/// One order line: a product, a quantity, and optionally a unit price (else Odoo's price).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LineRequest {
    pub product_id: i64,
    pub quantity: Decimal,
    pub price_unit: Option<Decimal>,
}

/// What `orders create` takes, from flags or as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderRequest {
    pub customer_id: i64,
    /// The portal's amount.
    pub amount: Decimal,
    pub currency: String,
    pub lines: Vec<LineRequest>,
    pub note: Option<String>,
    /// The customer's own reference (PO number), sent as `client_order_ref`.
    pub customer_ref: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl LineRequest {
    /// Parses `PRODUCT_ID:QTY[:PRICE]`.
    pub fn parse(s: &str, currency: &str) -> Result<LineRequest, Error> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "--line '{s}': {why} (expected PRODUCT_ID:QTY[:PRICE], e.g. 5:2:100.00)"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("wrong number of parts"));
        }
        let product_id = parts[0]
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the product id is not a positive integer"))?;
        let quantity =
            Decimal::from_str(parts[1].trim()).map_err(|_| bad("the quantity is not a number"))?;
        let price_unit = match parts.get(2) {
            Some(p) => Some(parse_user_amount(p, currency).map_err(|e| bad(&e.to_string()))?),
            None => None,
        };
        Ok(LineRequest {
            product_id,
            quantity,
            price_unit,
        })
    }
}

fn json_amount(v: &serde_json::Value, field: &str, currency: &str) -> Result<Decimal, Error> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        // serde_json keeps the number's text (arbitrary_precision): no float on the way.
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(Error::Usage(format!(
                "'{field}' must be an amount like \"857.87\""
            )));
        }
    };
    parse_user_amount(&text, currency).map_err(|e| Error::Usage(format!("'{field}': {e}")))
}

impl OrderRequest {
    /// Parses the JSON form the portal sends:
    /// `{"customer_id": 1, "amount": "857.87", "currency": "USD", "lines": [{"product_id": 5,
    /// "quantity": 2, "price_unit": "100.00"}], "note": "...", "customer_ref": "PO-1",
    /// "idempotency_key": "..."}`.
    pub fn from_json(text: &str) -> Result<OrderRequest, Error> {
        let j: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::Usage(format!("the order JSON is invalid: {e}")))?;
        let obj = j
            .as_object()
            .ok_or_else(|| Error::Usage("the order JSON must be an object".into()))?;
        const KNOWN: &[&str] = &[
            "customer_id",
            "amount",
            "currency",
            "lines",
            "note",
            "customer_ref",
            "idempotency_key",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(Error::Usage(format!(
                "the order JSON has an unknown field '{k}' (known: {})",
                KNOWN.join(", ")
            )));
        }
        let customer_id = j["customer_id"]
            .as_i64()
            .ok_or_else(|| Error::Usage("'customer_id' must be an integer".into()))?;
        let currency = j["currency"].as_str().unwrap_or("USD").to_ascii_uppercase();
        let amount = json_amount(&j["amount"], "amount", &currency)?;
        let mut lines = Vec::new();
        for (i, l) in j["lines"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let product_id = l["product_id"]
                .as_i64()
                .ok_or_else(|| Error::Usage(format!("lines[{i}].product_id must be an integer")))?;
            let quantity = match &l["quantity"] {
                serde_json::Value::Null => Decimal::ONE,
                serde_json::Value::Number(n) => Decimal::from_str(&n.to_string())
                    .map_err(|_| Error::Usage(format!("lines[{i}].quantity is not a number")))?,
                serde_json::Value::String(s) => Decimal::from_str(s)
                    .map_err(|_| Error::Usage(format!("lines[{i}].quantity is not a number")))?,
                _ => return Err(Error::Usage(format!("lines[{i}].quantity is not a number"))),
            };
            let price_unit = match &l["price_unit"] {
                serde_json::Value::Null => None,
                p => Some(json_amount(
                    p,
                    &format!("lines[{i}].price_unit"),
                    &currency,
                )?),
            };
            lines.push(LineRequest {
                product_id,
                quantity,
                price_unit,
            });
        }
        Ok(OrderRequest {
            customer_id,
            amount,
            currency,
            lines,
            note: j["note"].as_str().map(str::to_string),
            customer_ref: j["customer_ref"].as_str().map(str::to_string),
            idempotency_key: j["idempotency_key"].as_str().map(str::to_string),
        })
    }

    fn validate(&self) -> Result<(), Error> {
        if self.amount.is_sign_negative() {
            return Err(Error::Usage(format!(
                "the amount {} is negative",
                self.amount
            )));
        }
        for l in &self.lines {
            if l.quantity <= Decimal::ZERO {
                return Err(Error::Usage(format!(
                    "product {}: the quantity must be above zero",
                    l.product_id
                )));
            }
            if l.price_unit.is_some_and(|p| p.is_sign_negative()) {
                return Err(Error::Usage(format!(
                    "product {}: the price is negative",
                    l.product_id
                )));
            }
        }
        if let Some(k) = &self.idempotency_key
            && (k.trim().is_empty() || k.len() > 200)
        {
            return Err(Error::Usage(
                "the idempotency key must be 1 to 200 characters".into(),
            ));
        }
        Ok(())
    }

    /// The payload as canonical JSON, and its SHA-256: a key reused with another payload
    /// is refused.
    fn fingerprint(&self) -> (String, String) {
        let payload = serde_json::to_string(self).unwrap_or_default();
        let hash = Sha256::digest(payload.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (payload, hash)
    }
}

/// How the Odoo order came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Created in Odoo by this run.
    Created,
    /// Found in Odoo by its key (an earlier attempt had created it) and adopted.
    Adopted,
    /// The key had already completed: the stored order, no Odoo call.
    AlreadyDone,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CreateReport {
    pub outcome: Outcome,
    pub idempotency_key: String,
    /// The key was generated by this run (print it: it is how to retry safely).
    pub key_generated: bool,
    pub order: OrderRow,
}

/// A test hook: `ORDERBRIDGE_FAILPOINT=after-odoo-create` stops the process right after
/// Odoo has created the order, before the local insert, as a crash would.
fn failpoint(name: &str) {
    if std::env::var("ORDERBRIDGE_FAILPOINT").is_ok_and(|v| v == name) {
        tracing::error!(
            failpoint = name,
            "failpoint reached: exiting as a crash would"
        );
        std::process::exit(70);
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `host:pid:random`: who holds a claim, so that a crashed holder can be recognised.
fn owner_id() -> String {
    format!(
        "{}:{}:{}",
        hostname(),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// True when the claim's holder ran on this host and its process is gone (it crashed).
fn holder_is_dead(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (_rand, pid, host) = (parts.next(), parts.next(), parts.next());
    match (host, pid.and_then(|p| p.parse::<u32>().ok())) {
        (Some(h), Some(pid)) if h == hostname() && pid != std::process::id() => {
            let proc = std::path::Path::new("/proc");
            // Without /proc we cannot tell: the lease will expire instead.
            proc.exists() && !proc.join(pid.to_string()).exists()
        }
        _ => false,
    }
}

/// Claims the intent, taking it over from a holder that crashed.
fn claim(store: &Store, key: &str, owner: &str, until: &str) -> Result<bool, Error> {
    if store.claim_intent(key, owner, until)? {
        return Ok(true);
    }
    match store.intent(key)?.and_then(|i| i.claimed_by) {
        Some(holder) if holder_is_dead(&holder) => {
            Ok(store.steal_intent(key, &holder, owner, until)?)
        }
        _ => Ok(false),
    }
}

/// How long a claim on an intent lasts: past every request's timeout, so that a live
/// process is never overtaken.
fn lease(ctx: &Context) -> Duration {
    let timeout = ctx
        .settings
        .odoo()
        .map(|c| c.timeout)
        .unwrap_or(Duration::from_secs(30));
    timeout * 3 + Duration::from_secs(10)
}

/// An unanswered create request Odoo may still be working on.
struct Doubt {
    sent_at: String,
    retry_after: String,
}

/// `Some` while the intent's last request is younger than the grace period: Odoo may still
/// commit it, and a search cannot see a transaction that has not committed.
fn in_doubt(intent: &Intent, grace: Duration) -> Option<Doubt> {
    let sent_at = intent.sent_at.as_deref()?;
    let sent = from_text(sent_at)?;
    let until = sent + chrono::Duration::from_std(grace).unwrap_or_default();
    (chrono::Utc::now() < until).then(|| Doubt {
        sent_at: sent_at.to_string(),
        retry_after: to_text(until),
    })
}

async fn find_by_key(
    client: &OdooClient,
    field: &str,
    key: &str,
) -> Result<Option<SaleOrder>, OdooError> {
    let orders = client
        .sale_orders(domain(field, "=", Value::str(key)))
        .await?;
    if orders.len() > 1 {
        tracing::warn!(
            key,
            count = orders.len(),
            "several Odoo orders carry this idempotency key; adopting the oldest"
        );
    }
    Ok(orders.into_iter().next())
}

fn local_order(req: &OrderRequest, customer_id: i64, key: &str, o: &SaleOrder) -> NewOrder {
    NewOrder {
        total_amount: req.amount,
        idempotency_key: Some(key.to_string()),
        note: req.note.clone(),
        ..super::order_from_odoo(o, Some(customer_id))
    }
}

fn done_report(store: &Store, intent: &Intent, generated: bool) -> Result<CreateReport, Error> {
    let order = match intent.local_order_id {
        Some(id) => store.order(id)?,
        None => {
            return Err(Error::Failed {
                message: "the intent is done but names no order".into(),
                hint: None,
            });
        }
    };
    tracing::info!(order_id = order.id, odoo_order_id = ?order.odoo_order_id, order_number = ?order.order_number, key = %intent.key, "Order already exists locally");
    Ok(CreateReport {
        outcome: Outcome::AlreadyDone,
        idempotency_key: intent.key.clone(),
        key_generated: generated,
        order,
    })
}

/// Waits for the process holding the intent to finish; returns the intent when it is free.
async fn wait_for_claim(
    store: &Store,
    key: &str,
    owner: &str,
    lease: Duration,
) -> Result<Intent, Error> {
    let deadline = std::time::Instant::now() + lease;
    loop {
        let until =
            to_text(chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default());
        if claim(store, key, owner, &until)? {
            return store.intent(key)?.ok_or_else(|| Error::Failed {
                message: "the intent vanished".into(),
                hint: None,
            });
        }
        let intent = store.intent(key)?.ok_or_else(|| Error::Failed {
            message: "the intent vanished".into(),
            hint: None,
        })?;
        if intent.state == IntentState::Done {
            return Ok(intent);
        }
        if std::time::Instant::now() > deadline {
            return Err(Error::Failed {
                message: format!("another orderbridge run is creating the order with key {key}"),
                hint: Some("wait for it to finish, then run the command again".into()),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn create(ctx: &Context, req: OrderRequest) -> Result<CreateReport, Error> {
    req.validate()?;
    let store = ctx.store_unverified()?;
    let customer = store.customer(req.customer_id)?;
    let partner = customer.odoo_partner_id.ok_or_else(|| Error::Failed {
        message: format!(
            "customer {} ({}) is not linked to an Odoo partner; nothing was created",
            customer.id, customer.email
        ),
        hint: Some(format!(
            "run `orderbridge customers link {}` first",
            customer.id
        )),
    })?;
    let key_field = ctx.settings.key_field()?;
    let client = ctx.odoo()?;
    let (key, generated) = match &req.idempotency_key {
        Some(k) => (k.trim().to_string(), false),
        None => (format!("ob-{}", uuid::Uuid::new_v4()), true),
    };
    // Check the store's pages while the session opens (a login takes Odoo about a second):
    // nothing is written, here or in Odoo, into a damaged store.
    let (path, busy) = (ctx.settings.database(), ctx.settings.busy_timeout()?);
    let verify = tokio::task::spawn_blocking(move || Store::verify_file(&path, busy));
    let session = client.session().await.map(|_| ());
    verify.await.map_err(|e| Error::Failed {
        message: format!("the store check stopped: {e}"),
        hint: None,
    })??;
    session.map_err(|e| Error::NotCreated {
        cause: Box::new(e),
        key: key.clone(),
        outcome_unknown: false,
    })?;
    let (payload, hash) = req.fingerprint();
    let (intent, new) = store.record_intent(&key, &hash, &payload)?;
    if intent.payload_hash != hash {
        return Err(Error::Usage(format!(
            "the idempotency key '{key}' was already used for a different order; nothing was created (use a new key for a new order)"
        )));
    }
    if intent.state == IntentState::Done {
        return done_report(&store, &intent, generated);
    }
    let owner = owner_id();
    let intent = wait_for_claim(&store, &key, &owner, lease(ctx)).await?;
    if intent.state == IntentState::Done {
        return done_report(&store, &intent, generated);
    }
    // A key generated by this run has never been sent: nothing to look up.
    let must_search = !(generated && new);
    let found = if must_search {
        find_by_key(&client, &key_field, &key).await.map_err(|e| {
            let _ = store.release_intent(&key, &e.to_string());
            Error::NotCreated {
                cause: Box::new(e),
                key: key.clone(),
                outcome_unknown: false,
            }
        })?
    } else {
        None
    };
    let (odoo_order, outcome) = match found {
        Some(o) => {
            tracing::info!(odoo_order_id = o.id, order_number = %o.name, key = %key, "Order found in Odoo by its key; adopting it");
            (o, Outcome::Adopted)
        }
        None => {
            if let Some(doubt) = in_doubt(&intent, ctx.settings.create_grace()?) {
                store.unclaim_intent(&key)?;
                tracing::warn!(key = %key, sent_at = %doubt.sent_at, retry_after = %doubt.retry_after, "Order outcome still unknown; not creating it again yet");
                return Err(Error::StillUnknown {
                    key,
                    sent_at: doubt.sent_at,
                    retry_after: doubt.retry_after,
                });
            }
            (
                create_in_odoo(&client, &store, &req, partner, &key_field, &key).await?,
                Outcome::Created,
            )
        }
    };
    let (order, inserted) = store
        .complete_intent(&key, &local_order(&req, customer.id, &key, &odoo_order))
        .map_err(|cause| Error::CreatedNotStored {
            name: odoo_order.name.clone(),
            odoo_id: odoo_order.id,
            key: key.clone(),
            cause,
        })?;
    if inserted {
        tracing::info!(order_id = order.id, odoo_order_id = odoo_order.id, order_number = %odoo_order.name, key = %key, "Order created in local database");
    } else {
        tracing::info!(order_id = order.id, odoo_order_id = odoo_order.id, order_number = %odoo_order.name, key = %key, "Order already exists locally");
    }
    Ok(CreateReport {
        outcome,
        idempotency_key: key,
        key_generated: generated,
        order,
    })
}

async fn create_in_odoo(
    client: &OdooClient,
    store: &Store,
    req: &OrderRequest,
    partner: i64,
    key_field: &str,
    key: &str,
) -> Result<SaleOrder, Error> {
    let dialect = client.dialect().await.map_err(|e| {
        let _ = store.release_intent(key, &e.to_string());
        Error::NotCreated {
            cause: Box::new(e),
            key: key.to_string(),
            outcome_unknown: false,
        }
    })?;
    let lines: Vec<Value> = req
        .lines
        .iter()
        .map(|l| {
            dialect.order_line(
                l.product_id,
                Value::decimal(l.quantity),
                l.price_unit.map(Value::decimal),
                None,
            )
        })
        .collect();
    let mut vals = vec![
        ("partner_id".to_string(), Value::Int(partner)),
        (key_field.to_string(), Value::str(key)),
    ];
    if !lines.is_empty() {
        vals.push(("order_line".into(), Value::Array(lines)));
    }
    if let Some(n) = &req.note {
        vals.push(("note".into(), Value::str(n)));
    }
    if let Some(r) = &req.customer_ref {
        vals.push(("client_order_ref".into(), Value::str(r)));
    }
    store.mark_intent_sent(key)?;
    let id = match client.create("sale.order", Value::Struct(vals)).await {
        Ok(id) => id,
        Err(e) => {
            let unknown = e.outcome_unknown();
            tracing::error!(key, error = %e, outcome_unknown = unknown, "Failed to create order in Odoo");
            if unknown {
                store.release_intent(key, &e.to_string())?;
            } else {
                store.fail_intent(key, &e.to_string())?;
            }
            return Err(Error::NotCreated {
                cause: Box::new(e),
                key: key.to_string(),
                outcome_unknown: unknown,
            });
        }
    };
    failpoint("after-odoo-create");
    let order = match client.read("sale.order", &[id], SaleOrder::FIELDS).await {
        Ok(rows) if !rows.is_empty() => SaleOrder::from_value(&rows[0]).map_err(OdooError::from),
        Ok(_) => Err(OdooError::Protocol {
            detail: format!("sale.order {id} vanished right after its creation"),
        }),
        Err(e) => Err(e),
    };
    let order = order.map_err(|e| {
        let _ = store.release_intent(key, &e.to_string());
        Error::Failed {
            message: format!("the order was created in Odoo (id {id}) but could not be read back: {e}; nothing was stored locally yet"),
            hint: Some("run `orderbridge orders recover` to store it".into()),
        }
    })?;
    tracing::info!(odoo_order_id = order.id, order_number = %order.name, key, "Order created in Odoo first");
    Ok(order)
}

/// What `orders recover` did with one pending intent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recovered {
    pub key: String,
    /// `adopted`: found in Odoo and stored; `still_unknown`: not in Odoo yet, but its last
    /// request may still commit (still pending; run recover again later); `not_in_odoo`:
    /// marked failed (re-run the create with the key to create it); `busy`: another run
    /// holds it; `error`: Odoo could not be asked (still pending).
    pub result: &'static str,
    pub order: Option<OrderRow>,
    pub detail: Option<String>,
}

/// Resolves every pending intent: looks its key up in Odoo and adopts what it finds. It
/// never creates an order itself.
pub async fn recover(ctx: &Context) -> Result<Vec<Recovered>, Error> {
    let store = ctx.store()?;
    let pending = store.pending_intents()?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let client = ctx.odoo()?;
    let key_field = ctx.settings.key_field()?;
    let grace = ctx.settings.create_grace()?;
    let owner = owner_id();
    let until =
        to_text(chrono::Utc::now() + chrono::Duration::from_std(lease(ctx)).unwrap_or_default());
    let mut out = Vec::new();
    for intent in pending {
        let key = intent.key.clone();
        if !claim(&store, &key, &owner, &until)? {
            out.push(Recovered {
                key,
                result: "busy",
                order: None,
                detail: None,
            });
            continue;
        }
        let req: Option<OrderRequest> = serde_json::from_str::<serde_json::Value>(&intent.payload)
            .ok()
            .and_then(|j| {
                let mut r = OrderRequest::from_json(&j.to_string()).ok()?;
                r.idempotency_key = Some(key.clone());
                Some(r)
            });
        match find_by_key(&client, &key_field, &key).await {
            Ok(Some(o)) => {
                let customer = req.as_ref().map(|r| r.customer_id).unwrap_or_default();
                let fallback = OrderRequest {
                    customer_id: customer,
                    amount: o.amount_total,
                    currency: o.currency.clone(),
                    lines: vec![],
                    note: None,
                    customer_ref: None,
                    idempotency_key: Some(key.clone()),
                };
                let r = req.unwrap_or(fallback);
                let (order, _) =
                    store.complete_intent(&key, &local_order(&r, r.customer_id, &key, &o))?;
                tracing::info!(order_id = order.id, odoo_order_id = o.id, order_number = %o.name, key = %key, "Order created in local database");
                out.push(Recovered {
                    key,
                    result: "adopted",
                    order: Some(order),
                    detail: None,
                });
            }
            Ok(None) if let Some(doubt) = in_doubt(&intent, grace) => {
                store.unclaim_intent(&key)?;
                out.push(Recovered {
                    key,
                    result: "still_unknown",
                    order: None,
                    detail: Some(format!(
                        "not in Odoo yet, but its request (sent at {} UTC) may still commit; run recover again after {} UTC",
                        doubt.sent_at, doubt.retry_after
                    )),
                });
            }
            Ok(None) => {
                store.fail_intent(&key, "not found in Odoo by orders recover")?;
                out.push(Recovered {
                    key,
                    result: "not_in_odoo",
                    order: None,
                    detail: Some("no Odoo order carries this key; marked failed".into()),
                });
            }
            Err(e) => {
                store.release_intent(&key, &e.to_string())?;
                tracing::warn!(key = %key, error = %e, "Failed to sync order from Odoo");
                out.push(Recovered {
                    key,
                    result: "error",
                    order: None,
                    detail: Some(e.to_string()),
                });
            }
        }
    }
    Ok(out)
}
