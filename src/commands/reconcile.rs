//! `orders reconcile`: where the portal and Odoo disagree, in one read-only pass.
//!
//! ```text
//! local orders (keyset pages of 1000) ─► search_read id-in chunk ─► missing in Odoo,
//!     amount (Odoo's above 0 and different at the currency's precision), state
//! linked customers' partners ─► one search of their Odoo orders ─► missing locally
//! ```

use super::Context;
use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::flows::sync::{OdooOrder, fetch};
use crate::money::{at_scale, same_amount};
use crate::odoo::{SaleOrder, Value, domain};
use crate::rules::status_for_state;

const PAGE: usize = 1000;

/// One place where the two disagree.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Disagreement {
    /// missing_in_odoo, missing_locally, amount or state.
    pub kind: &'static str,
    pub order_id: Option<i64>,
    pub odoo_order_id: i64,
    pub order_number: Option<String>,
    pub currency: String,
    /// The portal's side (amount or status), when it has one.
    pub portal: Option<String>,
    /// Odoo's side (amount or state), when it has one.
    pub odoo: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct ReconcileReport {
    pub local_orders: u64,
    pub odoo_orders_of_linked_customers: u64,
    pub missing_in_odoo: u64,
    pub missing_locally: u64,
    pub amount_differs: u64,
    pub state_differs: u64,
    pub round_trips: u64,
    pub disagreements: Vec<Disagreement>,
}

impl ReconcileReport {
    pub(crate) fn csv_rows(&self) -> Vec<Vec<String>> {
        let mut rows = vec![
            [
                "kind",
                "order_id",
                "odoo_order_id",
                "order_number",
                "currency",
                "portal",
                "odoo",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for d in &self.disagreements {
            rows.push(vec![
                d.kind.to_string(),
                d.order_id.map(|i| i.to_string()).unwrap_or_default(),
                d.odoo_order_id.to_string(),
                d.order_number.clone().unwrap_or_default(),
                d.currency.clone(),
                d.portal.clone().unwrap_or_default(),
                d.odoo.clone().unwrap_or_default(),
            ]);
        }
        rows
    }

    fn add(&mut self, d: Disagreement) {
        match d.kind {
            "missing_in_odoo" => self.missing_in_odoo += 1,
            "missing_locally" => self.missing_locally += 1,
            "amount" => self.amount_differs += 1,
            _ => self.state_differs += 1,
        }
        self.disagreements.push(d);
    }
}

impl Exit for ReconcileReport {
    /// 0 when the two agree, 1 when they do not.
    fn exit_status(&self) -> ExitStatus {
        if self.disagreements.is_empty() {
            ExitStatus::Ok
        } else {
            ExitStatus::Failed
        }
    }
}

pub(crate) async fn run(ctx: &Context, customer: Option<i64>) -> Result<ReconcileReport, Error> {
    let store = ctx.store()?;
    let partners: Vec<i64> = match customer {
        Some(c) => store.customer(c)?.odoo_partner_id.into_iter().collect(),
        None => store
            .customers()?
            .into_iter()
            .filter_map(|c| c.odoo_partner_id)
            .collect(),
    };
    let client = ctx.odoo()?;
    client.session().await?;
    let mut report = ReconcileReport::default();

    // The local side, page by page, each page read from Odoo in one call.
    let mut after_id = 0;
    loop {
        let page = store.sync_page(None, customer, after_id, PAGE)?;
        let Some(last) = page.last() else { break };
        after_id = last.id;
        report.local_orders += page.len() as u64;
        let ids: Vec<i64> = page.iter().map(|r| r.odoo_order_id).collect();
        let odoo = fetch(&client, ids, PAGE, false).await?;
        for row in &page {
            let base = |kind, portal: Option<String>, odoo: Option<String>| Disagreement {
                kind,
                order_id: Some(row.id),
                odoo_order_id: row.odoo_order_id,
                order_number: row.order_number.clone(),
                currency: row.currency.clone(),
                portal,
                odoo,
            };
            match odoo.get(&row.odoo_order_id) {
                None => report.add(base("missing_in_odoo", None, None)),
                Some(Err(reason)) => {
                    return Err(Error::Failed {
                        message: format!(
                            "Odoo order {} could not be read: {reason}; nothing was changed",
                            row.odoo_order_id
                        ),
                        hint: None,
                    });
                }
                Some(Ok(OdooOrder { amount, state, .. })) => {
                    let odoo_amount = at_scale(*amount, &row.currency);
                    let portal = at_scale(row.total_amount, &row.currency);
                    // Odoo's 0.00 (no lines yet) is no disagreement: the portal's amount stands.
                    if odoo_amount > rust_decimal::Decimal::ZERO
                        && !same_amount(portal, odoo_amount, &row.currency)
                    {
                        report.add(base(
                            "amount",
                            Some(portal.to_string()),
                            Some(odoo_amount.to_string()),
                        ));
                    }
                    if status_for_state(state) != row.status {
                        report.add(base("state", Some(row.status.clone()), Some(state.clone())));
                    }
                }
            }
        }
    }

    // Odoo's side: the orders of the linked customers that the portal does not have.
    if !partners.is_empty() {
        let ids = client
            .search(
                "sale.order",
                domain("partner_id", "in", Value::ints(&partners)),
            )
            .await?;
        report.odoo_orders_of_linked_customers = ids.len() as u64;
        let present = store.odoo_ids_present(&ids)?;
        let mut missing: Vec<i64> = ids.into_iter().filter(|i| !present.contains(i)).collect();
        missing.sort_unstable();
        for chunk in missing.chunks(PAGE) {
            let rows = client.read("sale.order", chunk, SaleOrder::FIELDS).await?;
            for v in &rows {
                let o = SaleOrder::from_value(v).map_err(crate::odoo::OdooError::from)?;
                report.add(Disagreement {
                    kind: "missing_locally",
                    order_id: None,
                    odoo_order_id: o.id,
                    order_number: Some(o.name.clone()),
                    currency: o.currency.clone(),
                    portal: None,
                    odoo: Some(format!("{} {}", o.amount_total, o.state)),
                });
            }
        }
    }
    report.round_trips = client.round_trips();
    tracing::info!(
        local_orders = report.local_orders,
        missing_in_odoo = report.missing_in_odoo,
        missing_locally = report.missing_locally,
        amount_differs = report.amount_differs,
        state_differs = report.state_differs,
        "Reconciled the portal with Odoo"
    );
    Ok(report)
}
