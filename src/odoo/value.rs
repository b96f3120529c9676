//! Odoo's loose wire values, and their decoding into typed Rust at this edge.
//!
//! Every transport decodes into [`Value`]; typed records are built from it with the helpers
//! here, so that `False`-for-empty, many2one pairs, naive UTC date strings and float money are
//! handled in one place. Doubles keep their wire text, so money never passes through a binary float.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::money;

/// One value as XML-RPC, JSON-RPC and JSON-2 carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<nil/>` or JSON `null` (Odoo sends it only for methods that return None over JSON).
    Nil,
    Bool(bool),
    Int(i64),
    /// A float, kept as the text Odoo sent (`857.87`, `0.0`, `1e-05`).
    Double(String),
    Str(String),
    Array(Vec<Value>),
    /// A struct / JSON object; member order is kept.
    Struct(Vec<(String, Value)>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A float from exact decimal text; `10` becomes `10.0` like Python's repr.
    pub fn decimal(d: Decimal) -> Value {
        let s = d.normalize().to_string();
        Value::Double(if s.contains('.') { s } else { format!("{s}.0") })
    }

    pub fn ints(ids: &[i64]) -> Value {
        Value::Array(ids.iter().map(|&i| Value::Int(i)).collect())
    }

    pub fn strs<S: AsRef<str>>(items: &[S]) -> Value {
        Value::Array(items.iter().map(|s| Value::str(s.as_ref())).collect())
    }

    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A member of a struct.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Odoo's truthiness, as the server applies it: False, 0, "", [] and {} are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Double(s) => money::parse_wire_amount(s).is_ok_and(|d| !d.is_zero()),
            Value::Str(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Struct(m) => !m.is_empty(),
        }
    }

    /// A short description for error messages ("string 'abc'", "boolean").
    pub fn describe(&self) -> String {
        match self {
            Value::Nil => "nothing (None)".into(),
            Value::Bool(b) => format!("boolean {}", if *b { "True" } else { "False" }),
            Value::Int(i) => format!("integer {i}"),
            Value::Double(s) => format!("number {s}"),
            Value::Str(s) => format!("string '{}'", s.chars().take(40).collect::<String>()),
            Value::Array(a) => format!("list of {}", a.len()),
            Value::Struct(_) => "struct".into(),
        }
    }

    /// Converts to JSON, keeping doubles' exact text (serde_json's arbitrary_precision).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Double(s) => s
                .parse::<serde_json::Number>()
                .map(J::Number)
                .unwrap_or_else(|_| J::String(s.clone())),
            Value::Str(s) => J::String(s.clone()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_json).collect()),
            Value::Struct(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Converts from JSON; numbers with a fraction or exponent become doubles, kept as text.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                let text = n.to_string();
                match (text.contains(['.', 'e', 'E']), n.as_i64()) {
                    (false, Some(i)) => Value::Int(i),
                    _ => Value::Double(text),
                }
            }
            J::String(s) => Value::Str(s.clone()),
            J::Array(a) => Value::Array(a.iter().map(Value::from_json).collect()),
            J::Object(m) => Value::Struct(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A search domain of `[field, operator, value]` leaves (implicitly ANDed).
pub fn domain<V: Into<Value>>(field: &str, op: &str, value: V) -> Value {
    Value::Array(vec![Value::Array(vec![
        Value::str(field),
        Value::str(op),
        value.into(),
    ])])
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

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

    pub fn boolean(&self, name: &str) -> Result<bool, DecodeError> {
        match self.field(name)? {
            Value::Bool(b) => Ok(*b),
            v => Err(Self::bad(name, "a boolean", v)),
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
            _ => Err(Self::bad(name, "an [id, name] pair or False", v)),
        }
    }

    /// An x2many field: a list of ids.
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, DecodeError> {
        let v = self.field(name)?;
        match v {
            Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_i64()
                        .ok_or_else(|| Self::bad(name, "a list of ids", v))
                })
                .collect(),
            Value::Bool(false) => Ok(Vec::new()),
            _ => Err(Self::bad(name, "a list of ids", v)),
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

    /// A date field: `"2026-12-22"`, or `False`.
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, DecodeError> {
        match self.field(name)? {
            Value::Bool(false) | Value::Nil => Ok(None),
            v @ Value::Str(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| Self::bad(name, "a date YYYY-MM-DD", v)),
            v => Err(Self::bad(name, "a date or False", v)),
        }
    }

    /// A datetime field: naive UTC `"2026-11-21 23:24:39"`, or `False`.
    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
        match self.field(name)? {
            Value::Bool(false) | Value::Nil => Ok(None),
            v @ Value::Str(s) => parse_odoo_datetime(s)
                .map(Some)
                .ok_or_else(|| Self::bad(name, "a datetime YYYY-MM-DD HH:MM:SS", v)),
            v => Err(Self::bad(name, "a datetime or False", v)),
        }
    }
}

/// Parses Odoo's naive UTC datetime text.
pub fn parse_odoo_datetime(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// Formats a datetime the way Odoo expects it in domains and vals.
pub fn format_odoo_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
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
        assert_eq!(r.date("validity_date").unwrap(), None);
        assert_eq!(r.datetime("commitment_date").unwrap(), None);
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
    fn dates_and_datetimes_are_naive_utc() {
        let v = rec(vec![
            ("validity_date", Value::str("2026-12-22")),
            ("date_order", Value::str("2026-11-21 23:24:39")),
        ]);
        let r = Record(&v);
        assert_eq!(
            r.date("validity_date").unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 22)
        );
        let t = r.datetime("date_order").unwrap().unwrap();
        assert_eq!(format_odoo_datetime(t), "2026-11-21 23:24:39");
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

    #[test]
    fn json_numbers_keep_their_text() {
        let j: serde_json::Value =
            serde_json::from_str(r#"{"a": 1035.0, "b": 7, "c": 0.1}"#).unwrap();
        let v = Value::from_json(&j);
        assert_eq!(v.get("a"), Some(&Value::Double("1035.0".into())));
        assert_eq!(v.get("b"), Some(&Value::Int(7)));
        assert_eq!(v.get("c"), Some(&Value::Double("0.1".into())));
        assert_eq!(
            serde_json::to_string(&v.to_json()).unwrap(),
            r#"{"a":1035.0,"b":7,"c":0.1}"#
        );
    }

    #[test]
    fn decimal_values_render_like_python_floats() {
        assert_eq!(
            Value::decimal(Decimal::from(230)),
            Value::Double("230.0".into())
        );
        assert_eq!(
            Value::decimal(Decimal::from_str("14.380").unwrap()),
            Value::Double("14.38".into())
        );
    }
}
