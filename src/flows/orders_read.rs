//! `orders import`, `orders list` (sync on read) and `orders show`.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::Context;
use super::changes::{odoo_now, page_domain};
use super::sync::{OdooChunk, OdooOrder, SyncOptions, compare_chunk};
use crate::details::OrderDetails;
use crate::error::Error;
use crate::odoo::{OdooClient, OdooError, SaleOrder, SearchOpts, Value};
use crate::rules::{AmountSource, MaxChange, effective_amount};
use crate::store::Store;
use crate::store::orders::{Cursor, Start};
use crate::store::orders::{OrderFilter, OrderRow};

/// An order as displayed: the stored row and the amount to show.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct OrderView {
    #[serde(flatten)]
    pub row: OrderRow,
    /// Odoo's amount when it is above zero, else the portal's.
    pub amount: Decimal,
    pub amount_source: AmountSource,
}

impl From<OrderRow> for OrderView {
    fn from(row: OrderRow) -> Self {
        let (amount, amount_source) =
            effective_amount(row.total_amount, row.odoo_amount_total, &row.currency);
        OrderView {
            row,
            amount,
            amount_source,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ImportReport {
    pub created: bool,
    pub order: OrderView,
}

/// getOrCreateFromOdoo: the local order for an Odoo id, created from Odoo when missing.
/// Safe to repeat and to run in concurrent processes (unique index, insert-or-ignore,
/// re-read).
pub(crate) async fn import(
    ctx: &Context,
    odoo_id: i64,
    customer: Option<i64>,
) -> Result<ImportReport, Error> {
    let store = ctx.store()?;
    if let Some(c) = customer {
        store.customer(c)?;
    }
    if let Some(row) = store.order_by_odoo_id(odoo_id)? {
        tracing::info!(
            order_id = row.id,
            odoo_order_id = odoo_id,
            order_number = row.order_number.as_deref().unwrap_or("-"),
            "Order already exists locally"
        );
        return Ok(ImportReport {
            created: false,
            order: row.into(),
        });
    }
    let client = ctx.odoo()?;
    let details_on = ctx.settings.order_details()?;
    let mut fields: Vec<&str> = SaleOrder::FIELDS.to_vec();
    if details_on {
        fields.extend(client.features().await?.order_fields());
    }
    let rows = client.read("sale.order", &[odoo_id], &fields).await?;
    let details = if details_on {
        client
            .details_of(&rows)
            .await?
            .remove(&odoo_id)
            .and_then(Result::ok)
    } else {
        None
    };
    let Some(v) = rows.first() else {
        return Err(Error::Usage(format!(
            "Odoo has no sale.order {odoo_id} (wrong id, or deleted in Odoo); nothing was stored"
        )));
    };
    let o = SaleOrder::from_value(v).map_err(OdooError::from)?;
    let customer_id = match customer {
        Some(c) => c,
        None => {
            let pid = o.partner_id.unwrap_or_default();
            store
                .customer_by_partner(pid)?
                .ok_or_else(|| Error::Failed {
                    message: format!("no local customer is linked to Odoo partner {pid} of order {}; nothing was stored", o.name),
                    hint: Some(format!("pass --customer ID, or add one with `orderbridge customers add --odoo-partner-id {pid}`")),
                })?
                .id
        }
    };
    let (row, created) = store.insert_order(&super::new_order(&o, Some(customer_id), None))?;
    if created {
        store.save_details(details.as_slice())?;
    }
    if created {
        tracing::info!(order_id = row.id, odoo_order_id = o.id, order_number = %o.name, "Order created in local database");
    } else {
        tracing::info!(order_id = row.id, odoo_order_id = o.id, order_number = %o.name, "Order already exists locally");
    }
    Ok(ImportReport {
        created,
        order: row.into(),
    })
}

/// What the sync before a listing did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct SyncSummary {
    pub attempted: bool,
    /// Orders Odoo sent: what is new or changed since the listing's cursor (all of them the
    /// first time).
    pub read: usize,
    /// Orders pulled from Odoo that were missing locally.
    pub pulled: usize,
    /// Why the local orders are shown without syncing, when they are.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ListReport {
    pub sync: SyncSummary,
    /// Orders matching the filter, of which `orders` shows the newest `limit`.
    pub total: u64,
    pub orders: Vec<OrderView>,
}

/// Orders per page of a pull: memory stays flat whatever a customer has in Odoo.
const PULL_PAGE: usize = 5000;

/// The change cursor of a listing of these partners: a link that changes the set starts a
/// new one (a newly linked partner's older orders are pulled whole).
fn list_cursor_name(partners: &[i64]) -> String {
    let ids: Vec<String> = partners.iter().map(i64::to_string).collect();
    let joined = ids.join(",");
    if joined.len() <= 100 {
        return format!("list:{joined}");
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(joined.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("list:sha256:{hex}")
}

/// Pulls what Odoo has new or changed for these partners since their listing cursor (all
/// of it the first time), a page at a time: orders missing locally are stored, Odoo's amount
/// and state recorded for the others by the sync's rules (an amount held for review stays
/// held; the portal's amount is never touched), and the cursor moved with each page, in one
/// transaction. A later view of an unchanged customer is one empty read.
async fn pull(
    client: &OdooClient,
    store: &Store,
    partners: &HashMap<i64, i64>,
    rules: (MaxChange, &'static crate::rules::StatusWords),
    overlap: std::time::Duration,
    details_on: bool,
) -> Result<(usize, usize), Error> {
    let mut fields: Vec<&str> = SaleOrder::FIELDS.to_vec();
    if details_on {
        fields.extend(client.features().await?.order_fields());
    }
    let mut ids: Vec<i64> = partners.keys().copied().collect();
    ids.sort_unstable();
    let name = list_cursor_name(&ids);
    let cursor = store.cursor(&name)?;
    let start = cursor.as_ref().map_or(Start::All, |c| c.start(overlap));
    let base = Value::Array(vec![
        Value::str("partner_id"),
        Value::str("in"),
        Value::ints(&ids),
    ]);
    let opts = SearchOpts {
        limit: Some(PULL_PAGE as u32),
        order: Some("write_date asc, id asc"),
    };
    let mut after: Option<(String, i64)> = None;
    let mut read_at: Option<String> = None;
    let (mut read, mut pulled) = (0, 0);
    loop {
        let domain = page_domain(Some(base.clone()), &start, after.as_ref());
        let rows = client
            .search_read("sale.order", domain, &fields, opts)
            .await?;
        if read_at.is_none() {
            read_at = odoo_now(client);
        }
        // The lines and invoices of the orders new or changed since stored, a call each
        // (none when nothing changed).
        let wanted = if details_on {
            store.details_wanted(&stamped(&rows))?
        } else {
            Vec::new()
        };
        let rows_wanted: Vec<Value> = rows
            .iter()
            .filter(|v| {
                crate::odoo::Record(v)
                    .id()
                    .is_ok_and(|id| wanted.contains(&id))
            })
            .cloned()
            .collect();
        let details: HashMap<i64, OrderDetails> = client
            .details_of(&rows_wanted)
            .await?
            .into_iter()
            .filter_map(|(id, d)| d.ok().map(|d| (id, d)))
            .collect();
        let orders = rows
            .iter()
            .map(|v| SaleOrder::from_value(v).map_err(OdooError::from))
            .collect::<Result<Vec<_>, _>>()?;
        let last = orders
            .last()
            .and_then(|o| Some((o.write_date.clone()?, o.id)));
        let moved = match (&last, &cursor) {
            (Some((write_date, odoo_id)), _) => Some(Cursor {
                write_date: write_date.clone(),
                odoo_id: *odoo_id,
                read_at: read_at.clone(),
            }),
            (None, Some(c)) => Some(Cursor {
                read_at: read_at.clone(),
                ..c.clone()
            }),
            (None, None) => None,
        };
        read += orders.len();
        pulled += store_page(store, &orders, details, partners, rules, (&name, moved))?;
        if rows.len() < PULL_PAGE {
            break;
        }
        after = last;
    }
    Ok((read, pulled))
}

/// `(id, write_date)` of `search_read` rows.
pub(crate) fn stamped(rows: &[Value]) -> Vec<(i64, String)> {
    rows.iter()
        .filter_map(|v| {
            let r = crate::odoo::Record(v);
            Some((r.id().ok()?, r.string("write_date").ok()?))
        })
        .collect()
}

/// One page of a pull in one transaction, its cursor with it; logged once committed.
fn store_page(
    store: &Store,
    orders: &[SaleOrder],
    mut details: HashMap<i64, OrderDetails>,
    partners: &HashMap<i64, i64>,
    (max_change, words): (MaxChange, &'static crate::rules::StatusWords),
    (name, cursor): (&str, Option<Cursor>),
) -> Result<usize, Error> {
    let local = store.sync_rows_for(&orders.iter().map(|o| o.id).collect::<Vec<_>>())?;
    let present: std::collections::HashSet<i64> = local.iter().map(|r| r.odoo_order_id).collect();
    let seen: OdooChunk = orders
        .iter()
        .filter(|o| present.contains(&o.id))
        .map(|o| {
            let mut seen = OdooOrder::of(o);
            seen.details = details.remove(&o.id);
            (o.id, Ok(seen))
        })
        .collect();
    let (results, writes) = compare_chunk(
        &local,
        &Ok(seen),
        &SyncOptions::seen_on_read(max_change, words),
    );
    let mut stored = Vec::new();
    store.in_write_tx(|store| {
        store.apply_writes_in_tx(&writes)?;
        let mut new_details = Vec::new();
        for o in orders.iter().filter(|o| !present.contains(&o.id)) {
            let customer = o.partner_id.and_then(|p| partners.get(&p).copied());
            if let Some(id) = store.insert_order_only_in_tx(&super::new_order(o, customer, None))? {
                stored.push((id, o.id, o.name.clone()));
                new_details.extend(details.remove(&o.id));
            }
        }
        store.save_details_in_tx(&new_details.iter().collect::<Vec<_>>())?;
        if let Some(c) = &cursor {
            store.move_cursor_in_tx(name, c)?;
        }
        Ok(())
    })?;
    for r in &results {
        if let super::sync::Outcome::Held { from, to } = &r.outcome {
            tracing::warn!(order_id = r.order_id, order_number = %r.order_number, portal_amount = %from, odoo_amount = %to, "Order amount change held for review");
        }
    }
    for (order_id, odoo_id, name) in &stored {
        tracing::info!(order_id, odoo_order_id = odoo_id, order_number = %name, "Order created in local database");
    }
    Ok(stored.len())
}

/// Lists orders (of one customer, or all), first pulling missing ones from Odoo for linked
/// customers unless `no_sync`. If Odoo fails, the local orders are still listed, with a
/// warning.
/// The settings a listing's sync on read follows, read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListRules {
    pub max_change: MaxChange,
    pub status_words: &'static crate::rules::StatusWords,
    pub overlap: std::time::Duration,
    pub details: bool,
}

impl ListRules {
    pub(crate) fn of(ctx: &Context) -> Result<ListRules, Error> {
        Ok(ListRules {
            max_change: ctx.settings.max_change()?,
            status_words: ctx.settings.status_words()?,
            overlap: ctx.settings.change_overlap()?,
            details: ctx.settings.order_details()?,
        })
    }
}

pub(crate) async fn list(
    ctx: &Context,
    filter: &OrderFilter,
    no_sync: bool,
) -> Result<ListReport, Error> {
    let store = ctx.store()?;
    let client = (!no_sync).then(|| ctx.odoo());
    let client = client.as_ref().map(Result::as_ref);
    list_with(&store, client, ListRules::of(ctx)?, filter).await
}

/// The orders of a filter, after pulling what Odoo has new or changed for their linked
/// customers (no pull without a client). Odoo unreachable (or its client not made): the
/// local orders, with a warning.
pub(crate) async fn list_with(
    store: &Store,
    client: Option<Result<&OdooClient, &Error>>,
    rules: ListRules,
    filter: &OrderFilter,
) -> Result<ListReport, Error> {
    let customers = match filter.customer_id {
        Some(id) => vec![store.customer(id)?],
        None => store.customers()?,
    };
    let partners: HashMap<i64, i64> = customers
        .iter()
        .filter_map(|c| c.odoo_partner_id.map(|p| (p, c.id)))
        .collect();
    let mut sync = SyncSummary::default();
    if let Some(client) = client
        && !partners.is_empty()
    {
        sync.attempted = true;
        let result = match client {
            Ok(client) => {
                pull(
                    client,
                    store,
                    &partners,
                    (rules.max_change, rules.status_words),
                    rules.overlap,
                    rules.details,
                )
                .await
            }
            Err(e) => Err(Error::Failed {
                message: e.to_string(),
                hint: None,
            }),
        };
        match result {
            Ok((read, pulled)) => (sync.read, sync.pulled) = (read, pulled),
            Err(e) => {
                tracing::warn!(error = %e, "Failed to sync order from Odoo");
                sync.warning = Some(format!(
                    "could not sync with Odoo ({e}); showing local orders only"
                ));
            }
        }
    }
    let (rows, total) = store.orders(filter)?;
    let orders = rows.into_iter().map(OrderView::from).collect();
    Ok(ListReport {
        sync,
        total,
        orders,
    })
}

/// How `orders show` names an order: what support has at hand.
#[derive(Debug, Clone)]
pub(crate) enum OrderRef {
    /// The local id.
    Local(i64),
    /// The Odoo number, `S00021`.
    Number(String),
    /// The sale.order id in Odoo.
    Odoo(i64),
}

impl OrderRef {
    /// A number is a local id; anything else an order number.
    pub(crate) fn parse(text: &str) -> OrderRef {
        match text.trim().parse::<i64>() {
            Ok(id) => OrderRef::Local(id),
            Err(_) => OrderRef::Number(text.trim().to_string()),
        }
    }
}

/// `orders show`: the order, and the whole order as Odoo has it once a sync has read it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ShownOrder {
    #[serde(flatten)]
    pub order: OrderView,
    /// `null` until a sync read the order whole.
    pub details: Option<ShownDetails>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ShownDetails {
    #[serde(flatten)]
    pub stored: crate::store::details::StoredDetails,
    /// Units of the product lines ordered and delivered: what left, whatever Odoo's
    /// `delivery_status` says (its `full` only means no picking is open).
    pub units: crate::details::Units,
}

pub(crate) fn show(ctx: &Context, which: &OrderRef) -> Result<ShownOrder, Error> {
    show_in(&ctx.store()?, which)
}

/// One order, whole, from the store.
pub(crate) fn show_in(store: &Store, which: &OrderRef) -> Result<ShownOrder, Error> {
    let found = match which {
        OrderRef::Local(id) => Some(store.order(*id)?),
        OrderRef::Number(n) => store.order_by_number(n)?,
        OrderRef::Odoo(id) => store.order_by_odoo_id(*id)?,
    };
    if let Some(row) = found {
        let details = store.details(row.id)?.map(|stored| ShownDetails {
            units: stored.details.units(),
            stored,
        });
        return Ok(ShownOrder {
            order: OrderView::from(row),
            details,
        });
    }
    Err({
        let what = match which {
            OrderRef::Number(n) => format!("order number {}", n.escape_debug()),
            OrderRef::Odoo(id) => format!("Odoo order id {id}"),
            OrderRef::Local(id) => format!("local order {id}"),
        };
        Error::Store(crate::store::StoreError::NotFound(format!(
            "there is no local order with {what}; `orders list` shows them, `orders import --odoo-id ID` fetches one from Odoo"
        )))
    })
}
