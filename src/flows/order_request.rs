//! What `orders create` takes, from flags or as JSON, and the rules it must pass before
//! anything is written (README, "Input rules"): exact types, known currency, positive and
//! bounded amounts, quantities Odoo keeps, sizes and characters that fit a terminal and a
//! database.

use std::str::FromStr;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::money::{currency_decimals, is_currency, parse_user_amount};

/// The largest portal amount or unit price accepted: 12 digits before the point.
const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 0); // 999_999_999_999
/// The largest quantity on a line.
const MAX_QUANTITY: u32 = 1_000_000;
/// Decimal places of a quantity: Odoo's default precision for units of measure; a finer
/// quantity would be rounded (to 0, for 0.0000001) by Odoo.
pub(crate) const QUANTITY_DECIMALS: u32 = 2;
const MAX_LINES: usize = 1_000;
const MAX_NOTE_CHARS: usize = 10_000;
const MAX_REF_CHARS: usize = 200;
const MAX_KEY_CHARS: usize = 200;
/// The largest order JSON read from a file or stdin.
pub(crate) const MAX_INPUT_BYTES: usize = 1 << 20;

/// One order line: a product, a quantity, and optionally a unit price (else Odoo's price).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct LineRequest {
    pub product_id: i64,
    pub quantity: Decimal,
    pub price_unit: Option<Decimal>,
}

/// What `orders create` takes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct OrderRequest {
    pub customer_id: i64,
    /// The portal's amount.
    pub amount: Decimal,
    pub currency: String,
    pub lines: Vec<LineRequest>,
    pub note: Option<String>,
    /// The customer's own reference (PO number), sent as `client_order_ref`.
    pub customer_ref: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

/// The JSON form, typed: a field of the wrong type is refused, not dropped.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderJson {
    customer_id: i64,
    amount: serde_json::Value,
    currency: Option<String>,
    #[serde(default)]
    lines: Vec<LineJson>,
    note: Option<String>,
    customer_ref: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LineJson {
    product_id: i64,
    quantity: Option<serde_json::Value>,
    price_unit: Option<serde_json::Value>,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// A JSON number (its exact text, kept by `arbitrary_precision`) or string, as text.
fn number_text(v: &serde_json::Value, field: &str) -> Result<String, Error> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(usage(format!(
            "'{field}' must be a number or a string like \"857.87\""
        ))),
    }
}

fn parse_amount(text: &str, field: &str, currency: &str) -> Result<Decimal, Error> {
    parse_user_amount(text, currency).map_err(|e| usage(format!("{field}: {e}")))
}

/// A quantity: plain decimal text, at most [`QUANTITY_DECIMALS`] places.
fn quantity(text: &str, field: &str) -> Result<Decimal, Error> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && t.matches('.').count() <= 1;
    let q = Decimal::from_str(t)
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| usage(format!("{field}: '{}' is not a number", shown(t))))?;
    if q.scale() > QUANTITY_DECIMALS && q.normalize().scale() > QUANTITY_DECIMALS {
        return Err(usage(format!(
            "{field}: {t} has more than {QUANTITY_DECIMALS} decimal places, which Odoo would round away"
        )));
    }
    Ok(q)
}

/// At most 40 characters of a value, for messages.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    cut.escape_debug().to_string()
}

/// Text that fits one line of a terminal and a database: no control characters (a note may
/// have line breaks and tabs), at most `max` characters.
pub(crate) fn check_text(
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<(), Error> {
    let n = value.chars().count();
    if n > max {
        return Err(usage(format!(
            "{field} has {n} characters; at most {max} are accepted"
        )));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = value.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(usage(format!(
            "{field} contains the control character {}; remove it",
            c.escape_unicode()
        )));
    }
    Ok(())
}

impl LineRequest {
    /// Parses `PRODUCT_ID:QTY[:PRICE]`.
    pub(crate) fn parse(s: &str, currency: &str) -> Result<LineRequest, Error> {
        let bad = |why: &str| {
            usage(format!(
                "--line '{}': {why} (expected PRODUCT_ID:QTY[:PRICE], e.g. 5:2:100.00)",
                shown(s)
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("wrong number of parts"));
        }
        let product_id = parts[0]
            .trim()
            .parse::<i64>()
            .map_err(|_| bad("the product id is not an integer"))?;
        Ok(LineRequest {
            product_id,
            quantity: quantity(parts[1], "--line quantity")?,
            price_unit: parts
                .get(2)
                .map(|p| parse_amount(p, "--line price", currency))
                .transpose()?,
        })
    }
}

impl OrderRequest {
    /// Parses the JSON form the portal sends:
    /// `{"customer_id": 1, "amount": "857.87", "currency": "USD", "lines": [{"product_id": 5,
    /// "quantity": 2, "price_unit": "100.00"}], "note": "...", "customer_ref": "PO-1",
    /// "idempotency_key": "..."}`.
    pub(crate) fn from_json(text: &str) -> Result<OrderRequest, Error> {
        if text.len() > MAX_INPUT_BYTES {
            return Err(usage(format!(
                "the order JSON has {} bytes; at most {MAX_INPUT_BYTES} are accepted",
                text.len()
            )));
        }
        let j: OrderJson = serde_json::from_str(text)
            .map_err(|e| usage(format!("the order JSON is not valid: {e}")))?;
        let currency = j
            .currency
            .map_or_else(|| "USD".into(), |c| c.to_ascii_uppercase());
        let amount = parse_amount(&number_text(&j.amount, "amount")?, "amount", &currency)?;
        let lines = j
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(LineRequest {
                    product_id: l.product_id,
                    quantity: match &l.quantity {
                        None => Decimal::ONE,
                        Some(q) => quantity(
                            &number_text(q, &format!("lines[{i}].quantity"))?,
                            &format!("lines[{i}].quantity"),
                        )?,
                    },
                    price_unit: l
                        .price_unit
                        .as_ref()
                        .map(|p| {
                            let field = format!("lines[{i}].price_unit");
                            parse_amount(&number_text(p, &field)?, &field, &currency)
                        })
                        .transpose()?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(OrderRequest {
            customer_id: j.customer_id,
            amount,
            currency,
            lines,
            note: j.note,
            customer_ref: j.customer_ref,
            idempotency_key: j.idempotency_key,
        })
    }

    /// Every rule an order must pass, whichever form it came in.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.customer_id <= 0 {
            return Err(usage("the customer id must be a positive integer"));
        }
        if !is_currency(&self.currency) {
            return Err(usage(format!(
                "'{}' is not an ISO 4217 currency code (e.g. USD, EUR)",
                shown(&self.currency)
            )));
        }
        let decimals = currency_decimals(&self.currency);
        if self.amount <= Decimal::ZERO {
            return Err(usage(format!(
                "the amount {} must be above zero",
                self.amount
            )));
        }
        if self.amount.trunc() > MAX_AMOUNT || self.amount.scale() > decimals {
            return Err(usage(format!(
                "the amount {} is out of range (at most {MAX_AMOUNT}, {decimals} decimal places)",
                self.amount
            )));
        }
        if self.lines.len() > MAX_LINES {
            return Err(usage(format!(
                "the order has {} lines; at most {MAX_LINES} are accepted",
                self.lines.len()
            )));
        }
        for (i, l) in self.lines.iter().enumerate() {
            let which = format!("line {} (product {})", i + 1, l.product_id);
            if l.product_id <= 0 {
                return Err(usage(format!(
                    "{which}: the product id must be a positive integer"
                )));
            }
            if l.quantity <= Decimal::ZERO || l.quantity > Decimal::from(MAX_QUANTITY) {
                return Err(usage(format!(
                    "{which}: the quantity {} must be above zero and at most {MAX_QUANTITY}",
                    l.quantity
                )));
            }
            if let Some(p) = l.price_unit
                && (p.is_sign_negative() || p.trunc() > MAX_AMOUNT)
            {
                return Err(usage(format!(
                    "{which}: the price {p} must be between 0 and {MAX_AMOUNT}"
                )));
            }
        }
        if let Some(n) = &self.note {
            check_text("the note", n, MAX_NOTE_CHARS, true)?;
        }
        if let Some(r) = &self.customer_ref {
            check_text("the customer reference", r, MAX_REF_CHARS, false)?;
        }
        if let Some(k) = &self.idempotency_key {
            check_text("the idempotency key", k, MAX_KEY_CHARS, false)?;
            if k.trim().is_empty() || k.trim() != k {
                return Err(usage(
                    "the idempotency key must not be empty or start or end with spaces",
                ));
            }
        }
        Ok(())
    }

    /// The payload as canonical JSON, and its SHA-256: a key reused with another payload
    /// is refused.
    pub(crate) fn fingerprint(&self) -> (String, String) {
        let payload = serde_json::to_string(self).unwrap_or_default();
        let hash = Sha256::digest(payload.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (payload, hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_amount_has_twelve_digits() {
        assert_eq!(MAX_AMOUNT.to_string(), "999999999999");
    }

    fn parse(json: &str) -> Result<OrderRequest, String> {
        OrderRequest::from_json(json)
            .and_then(|r| r.validate().map(|()| r))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_portal_order_is_read_exactly() {
        let r = parse(r#"{"customer_id": 1, "amount": 857.87, "currency": "EUR", "lines": [{"product_id": 5, "quantity": "2", "price_unit": "100.00"}], "idempotency_key": "K"}"#).unwrap();
        assert_eq!(r.amount.to_string(), "857.87");
        assert_eq!(r.lines[0].price_unit.unwrap().to_string(), "100.00");
        assert_eq!(r.idempotency_key.as_deref(), Some("K"));
    }

    #[test]
    fn a_numeric_idempotency_key_is_refused_not_dropped() {
        let e =
            parse(r#"{"customer_id": 1, "amount": "5", "idempotency_key": 12345}"#).unwrap_err();
        assert!(e.contains("expected a string"), "{e}");
    }

    #[test]
    fn fields_of_the_wrong_type_are_refused() {
        for json in [
            r#"{"customer_id": 1, "amount": "5", "lines": "5:1"}"#,
            r#"{"customer_id": 1, "amount": "5", "note": 7}"#,
            r#"{"customer_id": 1, "amount": "5", "currency": 840}"#,
            r#"{"customer_id": "1", "amount": "5"}"#,
            r#"{"customer_id": 1, "amount": true}"#,
        ] {
            assert!(parse(json).is_err(), "{json} was accepted");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = parse(r#"{"customer_id": 1, "amount": "5", "amount_total": "5"}"#).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn an_unknown_currency_is_refused() {
        let e = parse(r#"{"customer_id": 1, "amount": "5", "currency": "XYZ"}"#).unwrap_err();
        assert!(e.contains("ISO 4217"), "{e}");
    }

    #[test]
    fn zero_negative_zero_and_huge_amounts_are_refused() {
        for a in [
            "0",
            "-0",
            "0.00",
            "-5",
            "99999999999999999999.99",
            "1000000000000",
        ] {
            let json = format!(r#"{{"customer_id": 1, "amount": "{a}"}}"#);
            assert!(parse(&json).is_err(), "{a} was accepted");
        }
        assert!(parse(r#"{"customer_id": 1, "amount": "999999999999.99"}"#).is_ok());
    }

    #[test]
    fn a_quantity_odoo_would_round_away_is_refused() {
        let e = parse(r#"{"customer_id": 1, "amount": "5", "lines": [{"product_id": 5, "quantity": 0.0000001}]}"#).unwrap_err();
        assert!(e.contains("decimal places"), "{e}");
        assert!(parse(r#"{"customer_id": 1, "amount": "5", "lines": [{"product_id": 5, "quantity": 0.25}]}"#).is_ok());
    }

    #[test]
    fn oversized_and_control_character_text_is_refused() {
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        let json = format!(r#"{{"customer_id": 1, "amount": "5", "note": "{long}"}}"#);
        assert!(parse(&json).unwrap_err().contains("at most"));
        let e = parse(r#"{"customer_id": 1, "amount": "5", "note": "a\u0000b"}"#).unwrap_err();
        assert!(e.contains("control character"), "{e}");
        let e = parse(r#"{"customer_id": 1, "amount": "5", "customer_ref": "PO\u001b[31m"}"#)
            .unwrap_err();
        assert!(e.contains("control character"), "{e}");
        assert!(parse(r#"{"customer_id": 1, "amount": "5", "note": "line 1\nline 2"}"#).is_ok());
    }

    #[test]
    fn a_line_flag_is_read_exactly() {
        let l = LineRequest::parse("5:2:100.00", "USD").unwrap();
        assert_eq!((l.product_id, l.quantity.to_string()), (5, "2".into()));
        assert!(LineRequest::parse("5:0.001", "USD").is_err());
        assert!(LineRequest::parse("5", "USD").is_err());
    }
}
