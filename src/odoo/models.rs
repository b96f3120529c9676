//! Typed Odoo records this crate reads.

use rust_decimal::Decimal;

use super::value::{DecodeError, Record, Value};

/// A `sale.order` as orderbridge needs it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SaleOrder {
    pub id: i64,
    pub name: String,
    pub partner_id: Option<i64>,
    pub amount_total: Decimal,
    pub state: String,
    pub currency: String,
    pub origin: Option<String>,
    pub client_order_ref: Option<String>,
    /// Odoo's `date_order` (UTC, `YYYY-MM-DD HH:MM:SS`): when the order was placed.
    pub date_order: Option<String>,
    /// Odoo's `write_date` as sent (UTC, to the second): what a change cursor moves on.
    pub write_date: Option<String>,
}

impl SaleOrder {
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "partner_id",
        "amount_total",
        "state",
        "currency_id",
        "origin",
        "client_order_ref",
        "date_order",
        "write_date",
    ];

    pub fn from_value(v: &Value) -> Result<SaleOrder, DecodeError> {
        let r = Record(v);
        let currency = r
            .many2one("currency_id")?
            .map_or_else(|| "USD".to_string(), |c| c.name);
        Ok(SaleOrder {
            id: r.id()?,
            name: r.string("name")?,
            partner_id: r.many2one("partner_id")?.map(|p| p.id),
            // At the currency's scale: Odoo's float `230.0` is USD 230.00.
            amount_total: crate::money::at_scale(r.decimal("amount_total")?, &currency),
            state: order_state(&r)?,
            currency,
            origin: r.opt_str("origin")?,
            client_order_ref: r.opt_str("client_order_ref")?,
            // To the second: a server may send microseconds.
            date_order: r
                .opt_str("date_order")?
                .map(|t| t.get(..19).unwrap_or(&t).to_string()),
            write_date: r.opt_str("write_date")?,
        })
    }
}

/// The states `sale.order` has in Odoo 16 to 19.
pub(crate) const ORDER_STATES: &[&str] = &["draft", "sent", "sale", "done", "cancel"];

/// `sale.order.state`, refused when it is none Odoo has: a garbled answer must never become
/// a stored status.
pub fn order_state(r: &Record<'_>) -> Result<String, DecodeError> {
    let s = r.string("state")?;
    if ORDER_STATES.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(DecodeError {
            field: "state".into(),
            expected: "one of draft, sent, sale, done, cancel",
            got: format!("'{}'", s.escape_debug()),
        })
    }
}

/// A `res.partner`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
}

impl Partner {
    pub const FIELDS: &'static [&'static str] = &["name", "email"];

    pub fn from_value(v: &Value) -> Result<Partner, DecodeError> {
        let r = Record(v);
        Ok(Partner {
            id: r.id()?,
            name: r.string("name")?,
            email: r.opt_str("email")?,
        })
    }
}
