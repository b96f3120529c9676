//! Reading Odoo's changes behind a cursor: the domain of each page (a keyset on
//! `(write_date, id)`), and Odoo's clock, which the cursors anchor their overlap on (see
//! [`crate::store::orders::Cursor::start`]).

use crate::odoo::{OdooClient, Value};
use crate::store::orders::Start;
use crate::store::to_text;

pub(crate) fn leaf(f: &str, op: &str, v: Value) -> Value {
    Value::Array(vec![Value::str(f), Value::str(op), v])
}

/// The domain of one page of changes: `base` (a leaf, or none), from where the cursor says
/// for the first page (`after` = `None`), then strictly after the last row seen.
pub(crate) fn page_domain(
    base: Option<Value>,
    start: &Start,
    after: Option<&(String, i64)>,
) -> Value {
    let mut terms: Vec<Value> = Vec::new();
    let keyset = |terms: &mut Vec<Value>, wd: &str, id: i64| {
        terms.extend([
            Value::str("|"),
            leaf("write_date", ">", Value::str(wd)),
            Value::str("&"),
            leaf("write_date", "=", Value::str(wd)),
            leaf("id", ">", Value::Int(id)),
        ]);
    };
    match (after, start) {
        (Some((wd, id)), _) | (None, Start::After(wd, id)) => keyset(&mut terms, wd, *id),
        (None, Start::Since(since)) => terms.push(leaf("write_date", ">=", Value::str(since))),
        (None, Start::All) => {}
    }
    match base {
        Some(b) if terms.is_empty() => Value::Array(vec![b]),
        Some(b) => {
            let mut all = vec![Value::str("&"), b];
            all.extend(terms);
            Value::Array(all)
        }
        None => Value::Array(terms),
    }
}

/// Odoo's clock at its last answer, as stored.
pub(crate) fn odoo_now(client: &OdooClient) -> Option<String> {
    client.server_clock().map(to_text)
}
