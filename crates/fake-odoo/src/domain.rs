//! Odoo search domains for the fake: prefix `&`, `|`, `!` and `[field, op, value]` leaves,
//! evaluated over field values; plus `order` strings.

use std::cmp::Ordering;

use super::exception::Exception;
use orderbridge_wire::Value;
use orderbridge_wire::number;

pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Leaf {
        field: String,
        op: String,
        value: Value,
    },
    True,
}

/// Compiles a domain, checking every field against the model.
pub(crate) fn compile(
    model: &str,
    domain: &Value,
    known: &dyn Fn(&str) -> bool,
) -> Result<Expr, Exception> {
    let items = match domain {
        Value::Array(a) => a.as_slice(),
        Value::Nil | Value::Bool(false) => &[],
        other => {
            return Err(Exception::ValueError(format!(
                "Invalid domain {}",
                other.describe()
            )));
        }
    };
    let mut pos = 0;
    let mut parts = Vec::new();
    while pos < items.len() {
        parts.push(parse(model, items, &mut pos, known)?);
    }
    // Implicit AND between top-level terms.
    Ok(parts
        .into_iter()
        .rev()
        .fold(Expr::True, |acc, e| match acc {
            Expr::True => e,
            acc => Expr::And(Box::new(e), Box::new(acc)),
        }))
}

fn parse(
    model: &str,
    items: &[Value],
    pos: &mut usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<Expr, Exception> {
    let item = items
        .get(*pos)
        .ok_or_else(|| Exception::ValueError("Domain ended too early".into()))?;
    *pos += 1;
    match item {
        Value::Str(op) if op == "&" || op == "|" => {
            let a = parse(model, items, pos, known)?;
            let b = parse(model, items, pos, known)?;
            Ok(if op == "&" {
                Expr::And(Box::new(a), Box::new(b))
            } else {
                Expr::Or(Box::new(a), Box::new(b))
            })
        }
        Value::Str(op) if op == "!" => Ok(Expr::Not(Box::new(parse(model, items, pos, known)?))),
        Value::Array(leaf) if leaf.len() == 3 => {
            let field = leaf[0].as_str().unwrap_or("").to_string();
            let op = leaf[1].as_str().unwrap_or("").to_string();
            let shown = format!("('{field}', '{op}', {})", python_repr(&leaf[2]));
            if !known(&field) {
                return Err(Exception::ValueError(format!(
                    "Invalid field {model}.{field} in condition {shown}"
                )));
            }
            const OPS: &[&str] = &[
                "=",
                "!=",
                "<>",
                "in",
                "not in",
                "<",
                ">",
                "<=",
                ">=",
                "like",
                "ilike",
                "=like",
                "=ilike",
                "not like",
                "not ilike",
            ];
            if !OPS.contains(&op.as_str()) {
                return Err(Exception::ValueError(format!(
                    "Invalid operator {op} in condition {shown}"
                )));
            }
            Ok(Expr::Leaf {
                field,
                op,
                value: leaf[2].clone(),
            })
        }
        other => Err(Exception::ValueError(format!(
            "Invalid domain term {}",
            other.describe()
        ))),
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Nil => "None".into(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Struct(_) => "{...}".into(),
    }
}

impl Expr {
    /// For a lone `('id', 'in', [...])` or `('id', '=', n)` leaf: the ids it allows, deduplicated.
    pub(crate) fn id_filter(&self) -> Option<Vec<i64>> {
        self.in_filter("id")
    }

    /// The ids a domain that is one `field in [...]` (or `=`) names: what an index answers.
    pub(crate) fn in_filter(&self, wanted: &str) -> Option<Vec<i64>> {
        let Expr::Leaf { field, op, value } = self else {
            return None;
        };
        if field != wanted {
            return None;
        }
        let mut ids: Vec<i64> = match (op.as_str(), value) {
            ("in", Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
            ("=", Value::Int(i)) => vec![*i],
            _ => return None,
        };
        ids.sort_unstable();
        ids.dedup();
        Some(ids)
    }

    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Value) -> Result<bool, Exception> {
        Ok(match self {
            Expr::True => true,
            Expr::And(a, b) => a.matches(get)? && b.matches(get)?,
            Expr::Or(a, b) => a.matches(get)? || b.matches(get)?,
            Expr::Not(a) => !a.matches(get)?,
            Expr::Leaf { field, op, value } => leaf_matches(&get(field), op, value),
        })
    }
}

/// A many2one compares by its id; other values as they are.
fn scalar(v: &Value) -> &Value {
    match v {
        Value::Array(pair)
            if pair.len() == 2
                && matches!(pair[0], Value::Int(_))
                && matches!(pair[1], Value::Str(_)) =>
        {
            &pair[0]
        }
        other => other,
    }
}

pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Double(_) | Value::Int(_), Value::Double(_) | Value::Int(_)) => {
            let as_decimal = |v: &Value| match v {
                Value::Int(i) => Some(rust_decimal::Decimal::from(*i)),
                Value::Double(s) => number::decimal(s).ok(),
                _ => None,
            };
            Some(as_decimal(a)?.cmp(&as_decimal(b)?))
        }
        _ => None,
    }
}

fn like(hay: &str, pattern: &str, case_insensitive: bool, anchored: bool) -> bool {
    let (h, p) = if case_insensitive {
        (hay.to_lowercase(), pattern.to_lowercase())
    } else {
        (hay.to_string(), pattern.to_string())
    };
    if !anchored {
        return h.contains(&p);
    }
    // =like: SQL pattern with % and _.
    fn m(h: &[char], p: &[char]) -> bool {
        match p.first() {
            None => h.is_empty(),
            Some('%') => (0..=h.len()).any(|i| m(&h[i..], &p[1..])),
            Some('_') => !h.is_empty() && m(&h[1..], &p[1..]),
            Some(c) => h.first() == Some(c) && m(&h[1..], &p[1..]),
        }
    }
    m(
        &h.chars().collect::<Vec<_>>(),
        &p.chars().collect::<Vec<_>>(),
    )
}

fn leaf_matches(actual: &Value, op: &str, wanted: &Value) -> bool {
    let a = scalar(actual);
    let eq = |w: &Value| match (a, w) {
        (Value::Bool(false), Value::Bool(false) | Value::Nil) => true,
        (x, y) => compare(x, y) == Some(Ordering::Equal),
    };
    match op {
        "=" => eq(wanted),
        "!=" | "<>" => !eq(wanted),
        "in" => wanted.as_array().is_some_and(|l| l.iter().any(eq)),
        "not in" => !wanted.as_array().is_some_and(|l| l.iter().any(eq)),
        "<" | ">" | "<=" | ">=" => match compare(a, wanted) {
            Some(o) => match op {
                "<" => o == Ordering::Less,
                ">" => o == Ordering::Greater,
                "<=" => o != Ordering::Greater,
                _ => o != Ordering::Less,
            },
            None => false,
        },
        _ => {
            let (Value::Str(h), Value::Str(p)) = (a, wanted) else {
                return op.starts_with("not");
            };
            let hit = match op {
                "like" | "not like" => like(h, p, false, false),
                "ilike" | "not ilike" => like(h, p, true, false),
                "=like" => like(h, p, false, true),
                _ => like(h, p, true, true),
            };
            if op.starts_with("not") { !hit } else { hit }
        }
    }
}

/// Sorts ids by an Odoo `order` string such as `date_order desc, id desc`.
pub(crate) fn sort(
    ids: &mut [i64],
    order: &str,
    get: &dyn Fn(i64, &str) -> Value,
    known: &dyn Fn(&str) -> bool,
) -> Result<(), Exception> {
    let mut keys = Vec::new();
    for part in order.split(',') {
        let mut words = part.split_whitespace();
        let Some(field) = words.next() else { continue };
        let desc = matches!(
            words.next().map(str::to_ascii_lowercase).as_deref(),
            Some("desc")
        );
        if field != "id" && !known(field) {
            return Err(Exception::ValueError(format!(
                "Invalid field {field:?} in order"
            )));
        }
        keys.push((field.to_string(), desc));
    }
    // Each id's sort values, read once: a comparison sort would read them O(n log n) times.
    let mut rows: Vec<(i64, Vec<Value>)> = ids
        .iter()
        .map(|&id| {
            let values = keys
                .iter()
                .map(|(f, _)| {
                    if f == "id" {
                        Value::Int(id)
                    } else {
                        scalar(&get(id, f)).clone()
                    }
                })
                .collect();
            (id, values)
        })
        .collect();
    rows.sort_by(|(_, x), (_, y)| {
        for ((_, desc), (a, b)) in keys.iter().zip(x.iter().zip(y)) {
            let o = compare(a, b).unwrap_or(Ordering::Equal);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    for (slot, (id, _)) in ids.iter_mut().zip(rows) {
        *slot = id;
    }
    Ok(())
}
