//! Typed decoding of Odoo's wire values at this edge: `False`-for-empty, many2one pairs, naive
//! UTC date strings and float money are handled here, once.

use rust_decimal::Decimal;

pub use orderbridge_wire::{Value, domain};

use crate::money;

/// A field of a record that did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field '{field}': expected {expected}, got {got}")]
pub struct DecodeError {
    pub field: String,
    pub expected: &'static str,
    pub got: String,
}

impl From<DecodeError> for super::OdooError {
    fn from(e: DecodeError) -> Self {
        super::OdooError::Protocol {
            detail: e.to_string(),
        }
    }
}

/// A many2one value: `[id, "display name"]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Many2One {
    pub id: i64,
    pub name: String,
}

/// One record as returned by `read` / `search_read`, with typed accessors.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a>(pub &'a Value);

impl<'a> Record<'a> {
    fn field(&self, name: &str) -> Result<&'a Value, DecodeError> {
        self.0.get(name).ok_or_else(|| DecodeError {
            field: name.into(),
            expected: "the field to be present",
            got: "nothing".into(),
        })
    }

    fn bad(name: &str, expected: &'static str, got: &Value) -> DecodeError {
        DecodeError {
            field: name.into(),
            expected,
            got: got.describe(),
        }
    }

    pub fn id(&self) -> Result<i64, DecodeError> {
        self.int("id")
    }

    pub fn int(&self, name: &str) -> Result<i64, DecodeError> {
        let v = self.field(name)?;
        v.as_i64().ok_or_else(|| Self::bad(name, "an integer", v))
    }

    /// A char/text/selection field: `False` is `None`.
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, DecodeError> {
        match self.field(name)? {
            Value::Bool(false) | Value::Nil => Ok(None),
            Value::Str(s) => Ok(Some(s.clone())),
            v => Err(Self::bad(name, "a string or False", v)),
        }
    }

    pub fn string(&self, name: &str) -> Result<String, DecodeError> {
        let v = self.field(name)?;
        match v {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(Self::bad(name, "a string", v)),
        }
    }

    /// A many2one field: `[id, "name"]`, or `False` for none.
    pub fn many2one(&self, name: &str) -> Result<Option<Many2One>, DecodeError> {
        let v = self.field(name)?;
        match v {
            Value::Bool(false) | Value::Nil => Ok(None),
            Value::Array(pair) => match pair.as_slice() {
                [Value::Int(id), Value::Str(n)] => Ok(Some(Many2One {
                    id: *id,
                    name: n.clone(),
                })),
                // Odoo sends the name as False when the user may not read it.
                [Value::Int(id), Value::Bool(false)] => Ok(Some(Many2One {
                    id: *id,
                    name: String::new(),
                })),
                _ => Err(Self::bad(name, "an [id, name] pair", v)),
            },
            // `web_read` / `web_save` with `{"fields": {"display_name": {}}}`.
            Value::Struct(m) => {
                let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v);
                match (get("id"), get("display_name")) {
                    (Some(Value::Int(id)), Some(Value::Str(n))) => Ok(Some(Many2One {
                        id: *id,
                        name: n.clone(),
                    })),
                    (Some(Value::Int(id)), _) => Ok(Some(Many2One {
                        id: *id,
                        name: String::new(),
                    })),
                    _ => Err(Self::bad(name, "an {id, display_name} record", v)),
                }
            }
            _ => Err(Self::bad(name, "an [id, name] pair or False", v)),
        }
    }

    /// A float field holding money, parsed exactly from the wire text.
    pub fn decimal(&self, name: &str) -> Result<Decimal, DecodeError> {
        let v = self.field(name)?;
        match v {
            Value::Double(s) => {
                money::parse_wire_amount(s).map_err(|_| Self::bad(name, "a number", v))
            }
            Value::Int(i) => Ok(Decimal::from(*i)),
            _ => Err(Self::bad(name, "a number", v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rec(members: Vec<(&str, Value)>) -> Value {
        Value::object(members)
    }

    #[test]
    fn false_is_none_for_empty_fields() {
        let v = rec(vec![
            ("client_order_ref", Value::Bool(false)),
            ("partner_id", Value::Bool(false)),
            ("validity_date", Value::Bool(false)),
            ("commitment_date", Value::Bool(false)),
        ]);
        let r = Record(&v);
        assert_eq!(r.opt_str("client_order_ref").unwrap(), None);
        assert_eq!(r.many2one("partner_id").unwrap(), None);
    }

    #[test]
    fn many2one_is_a_pair() {
        let v = rec(vec![(
            "partner_id",
            Value::Array(vec![Value::Int(44), Value::str("Lab Customer 232430")]),
        )]);
        assert_eq!(
            Record(&v).many2one("partner_id").unwrap(),
            Some(Many2One {
                id: 44,
                name: "Lab Customer 232430".into()
            })
        );
    }

    #[test]
    fn money_is_exact_decimal_from_wire_text() {
        let v = rec(vec![
            ("amount_total", Value::Double("14.38".into())),
            ("zero", Value::Double("0.0".into())),
            ("noisy", Value::Double("857.8699999".into())),
        ]);
        let r = Record(&v);
        assert_eq!(
            r.decimal("amount_total").unwrap(),
            Decimal::from_str("14.38").unwrap()
        );
        assert!(r.decimal("zero").unwrap().is_zero());
        assert_eq!(r.decimal("noisy").unwrap().to_string(), "857.8699999");
    }

    #[test]
    fn malformed_number_is_a_decode_error() {
        let v = rec(vec![("amount_total", Value::str("12,50"))]);
        let e = Record(&v).decimal("amount_total").unwrap_err();
        assert!(e.to_string().contains("amount_total"), "{e}");
    }
}
