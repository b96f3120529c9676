//! What differs between the Odoo versions orderbridge supports (16 to 19): the one place
//! that picks field names and states by the server's major version, never by trial.

use super::ServerVersion;
use super::value::Value;

/// The oldest and newest major versions the project is tested against.
pub(super) const SUPPORTED: std::ops::RangeInclusive<u32> = 16..=19;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub major: u32,
}

impl Dialect {
    pub fn of(version: &ServerVersion) -> Dialect {
        Dialect {
            major: version.major,
        }
    }

    /// Odoo 19 added the JSON-2 API; older servers redirect `/json/2/...` to their login page.
    pub fn has_json2(self) -> bool {
        self.major >= 19
    }

    /// `sale.order.line`'s taxes: `tax_id` up to 18, `tax_ids` from 19.
    /// `web_save`: create and read back in one call (the `web` module, 17.0 and later;
    /// Odoo 16 has neither `web_save` nor `web_read`).
    pub fn has_web_save(self) -> bool {
        self.major >= 17
    }

    pub fn line_taxes_field(self) -> &'static str {
        if self.major >= 19 {
            "tax_ids"
        } else {
            "tax_id"
        }
    }

    /// An order line as a `(0, 0, vals)` create command. `taxes`: `None` keeps the
    /// product's taxes; `Some(ids)` replaces them (`(6, 0, ids)`).
    pub fn order_line(
        self,
        product_id: i64,
        quantity: Value,
        price_unit: Option<Value>,
        taxes: Option<&[i64]>,
    ) -> Value {
        let mut vals = vec![
            ("product_id", Value::Int(product_id)),
            ("product_uom_qty", quantity),
        ];
        if let Some(p) = price_unit {
            vals.push(("price_unit", p));
        }
        if let Some(ids) = taxes {
            let set = Value::Array(vec![Value::Int(6), Value::Int(0), Value::ints(ids)]);
            vals.push((self.line_taxes_field(), Value::Array(vec![set])));
        }
        Value::Array(vec![Value::Int(0), Value::Int(0), Value::object(vals)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(major: u32) -> Dialect {
        Dialect { major }
    }

    #[test]
    fn the_taxes_field_follows_the_version() {
        assert_eq!(d(18).line_taxes_field(), "tax_id");
        assert_eq!(d(19).line_taxes_field(), "tax_ids");
    }

    #[test]
    fn json2_starts_at_odoo_19() {
        assert!(!d(18).has_json2());
        assert!(d(19).has_json2());
    }

    #[test]
    fn a_line_with_taxes_names_the_versions_field() {
        let line = d(17).order_line(5, Value::Int(2), None, Some(&[]));
        let vals = &line.as_array().unwrap()[2];
        assert!(vals.get("tax_id").is_some());
        assert!(vals.get("tax_ids").is_none());
    }
}
