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
    ];

    pub fn from_value(v: &Value) -> Result<SaleOrder, DecodeError> {
        let r = Record(v);
        Ok(SaleOrder {
            id: r.id()?,
            name: r.string("name")?,
            partner_id: r.many2one("partner_id")?.map(|p| p.id),
            amount_total: r.decimal("amount_total")?,
            state: r.string("state")?,
            currency: r
                .many2one("currency_id")?
                .map_or_else(|| "USD".to_string(), |c| c.name),
            origin: r.opt_str("origin")?,
            client_order_ref: r.opt_str("client_order_ref")?,
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
