//! Odoo's loose wire values: every protocol decodes into [`Value`]. Doubles keep their wire
//! text, so money never passes through a binary float.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;

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
            Value::Double(s) => crate::number::decimal(s).is_ok_and(|d| !d.is_zero()),
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

/// Parses Odoo's naive UTC datetime text.
pub fn parse_odoo_datetime(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// Formats a datetime the way Odoo expects it in domains and vals.
pub fn format_odoo_datetime(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%d %H:%M:%S").to_string();
    }
    // Digit by digit, not `t.format(...)` (which parses its pattern on every call): the
    // fake formats a date per order when it searches on one.
    let mut b = *b"0000-00-00 00:00:00";
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for k in (at..at + width).rev() {
            b[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    b.iter().map(|&c| c as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn a_datetime_is_formatted_as_odoo_sends_it() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:05:07.374070Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_odoo_datetime(t), "2026-11-22 09:05:07");
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
