//! What Odoo's "Send Webhook Notification" posts, checked before anything is written.
//!
//! The body (Odoo 17 to 19, `base_automation`): `_action`, `_id`, `_model`, `id` and the
//! fields the server action names, read with `load=None`: a many2one is a bare id, empty
//! fields are `false`, `write_date` has microseconds. Odoo signs nothing: the secret lives
//! in the URL, and the body is trusted for nothing beyond its own order.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::odoo::models::ORDER_STATES;

/// The fields a delivery must carry (`partner_id` to import an unknown order, `name` for
/// the log); `install-webhook` asks Odoo to post them.
pub(crate) const FIELDS: &[&str] = &["amount_total", "state", "write_date", "name", "partner_id"];

/// The fields whose change makes Odoo post.
pub(crate) const TRIGGER_FIELDS: &[&str] = &["amount_total", "state"];

/// Also triggers where the server has them: a delivery or an invoice changes these stored
/// computed fields, and Odoo posts for their recomputation too (captures-3 067-079);
/// posting and paying an invoice change neither (the `--changed` poll follows invoices).
pub(crate) const OPTIONAL_TRIGGER_FIELDS: &[&str] = &["delivery_status", "invoice_status"];

/// One webhook delivery about one `sale.order`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Delivery {
    pub odoo_id: i64,
    pub amount: Decimal,
    pub state: String,
    /// Its `write_date` as a stored stamp (see [`crate::stamp`]).
    pub stamp: String,
    /// The order's customer in Odoo, when the rule posts it (to import unknown orders).
    pub partner_id: Option<i64>,
    pub name: Option<String>,
}

/// How far ahead of this machine's clock a `write_date` may be (the two clocks' skew). A
/// later stamp is refused: stored, it would make every later delivery and read "older" and
/// freeze the order.
pub(crate) const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A value a client sent, as an answer or a log line shows it: at most 64 characters, with
/// the length of what was cut (a 2 MB `_model` is not echoed whole, twice).
pub(crate) fn clip(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        None => value.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes)", &value[..cut], value.len()),
    }
}

/// Reads a delivery, or says what is wrong with it (for a 400 answer). `now` is this
/// machine's UTC clock.
pub(crate) fn parse(body: &[u8], now: chrono::DateTime<chrono::Utc>) -> Result<Delivery, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON: {}", clip(&e.to_string())))?;
    let obj = v
        .as_object()
        .ok_or("the body is not a JSON object".to_string())?;
    match obj.get("_model").and_then(Value::as_str) {
        Some("sale.order") => {}
        Some(other) => {
            return Err(format!(
                "_model is {}, not \"sale.order\"",
                clip(&format!("{other:?}"))
            ));
        }
        None => return Err("_model is missing".into()),
    }
    let odoo_id = obj
        .get("id")
        .and_then(Value::as_i64)
        .filter(|id| *id > 0)
        .ok_or("id is missing or not a positive integer")?;
    if let Some(other) = obj.get("_id")
        && other.as_i64() != Some(odoo_id)
    {
        return Err(format!(
            "_id {} differs from id {odoo_id}",
            clip(&other.to_string())
        ));
    }
    let amount = match obj.get("amount_total") {
        Some(Value::Number(n)) => crate::money::parse_wire_amount(&n.to_string())
            .map_err(|e| format!("amount_total: {}", clip(&e.to_string())))?,
        Some(other) => {
            return Err(format!(
                "amount_total is {}, not a number",
                clip(&other.to_string())
            ));
        }
        None => return Err("amount_total is missing (add it to the webhook's fields)".into()),
    };
    let state = match obj.get("state").and_then(Value::as_str) {
        Some(s) if ORDER_STATES.contains(&s) => s.to_string(),
        Some(s) => {
            return Err(format!(
                "state {} is not a sale.order state",
                clip(&format!("{s:?}"))
            ));
        }
        None => return Err("state is missing or not text (add it to the webhook's fields)".into()),
    };
    let stamp = match obj.get("write_date").and_then(Value::as_str) {
        Some(t) => crate::stamp::from_webhook(t).ok_or_else(|| {
            format!(
                "write_date {} is not 'YYYY-MM-DD HH:MM:SS.ffffff'",
                clip(&format!("{t:?}"))
            )
        })?,
        None => {
            return Err(
                "write_date is missing or not text (add it to the webhook's fields)".into(),
            );
        }
    };
    if let Some(t) = crate::store::from_text(&stamp)
        && t > now + MAX_CLOCK_SKEW
    {
        return Err(format!(
            "write_date {stamp} is later than this server's clock ({}) by more than {} minutes",
            now.format("%Y-%m-%d %H:%M:%S"),
            MAX_CLOCK_SKEW.num_minutes()
        ));
    }
    let partner_id = match obj.get("partner_id") {
        None | Some(Value::Bool(false)) => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("partner_id is {}, not an id", clip(&v.to_string())))?,
        ),
    };
    let name = obj.get("name").and_then(Value::as_str).map(str::to_string);
    Ok(Delivery {
        odoo_id,
        amount,
        state,
        stamp,
        partner_id,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_cut_with_its_length() {
        let body = format!(r#"{{"_model": "{}"}}"#, "x".repeat(2_000_000));
        let reason = parse(body.as_bytes(), now()).unwrap_err();
        assert!(reason.len() < 120, "{reason}");
        assert!(reason.contains("(2000002 bytes)"), "{reason}");
        assert_eq!(clip("sale.order"), "sale.order");
    }

    /// A clock just after the recorded deliveries.
    fn now() -> chrono::DateTime<chrono::Utc> {
        crate::store::from_text("2026-11-22 12:00:00").unwrap()
    }

    /// The first body Odoo 19 posted (`../shared/odoo/webhooks/`).
    const RECORDED: &str = r#"{"_action": "orderbridge webhook 6cc7fa(#353)", "_id": 10381, "_model": "sale.order", "amount_total": 99.5, "client_order_ref": false, "currency_id": 1, "id": 10381, "name": "S10389", "origin": "orderbridge:cap-6cc7fa-1", "state": "draft", "write_date": "2026-11-22 11:20:47.374070"}"#;

    fn with(key: &str, value: &str) -> String {
        let mut v: serde_json::Map<String, Value> = serde_json::from_str(RECORDED).unwrap();
        match serde_json::from_str(value) {
            Ok(Value::Null) => {
                v.remove(key);
            }
            Ok(x) => {
                v.insert(key.into(), x);
            }
            Err(e) => panic!("{e}"),
        }
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn the_recorded_body_is_a_delivery() {
        let d = parse(RECORDED.as_bytes(), now()).unwrap();
        assert_eq!(d.odoo_id, 10381);
        assert_eq!(d.amount.to_string(), "99.5");
        assert_eq!(d.state, "draft");
        assert_eq!(d.stamp, "2026-11-22 11:20:47.374070");
        assert_eq!(d.name.as_deref(), Some("S10389"));
        assert_eq!(d.partner_id, None);
    }

    #[test]
    fn an_amount_keeps_its_exact_digits() {
        let d = parse(with("amount_total", "857.8699999999").as_bytes(), now()).unwrap();
        assert_eq!(d.amount.to_string(), "857.8699999999");
    }

    #[test]
    fn another_model_is_refused() {
        let e = parse(with("_model", r#""res.partner""#).as_bytes(), now()).unwrap_err();
        assert!(e.contains("not \"sale.order\""), "{e}");
    }

    #[test]
    fn each_missing_field_is_named() {
        for key in ["id", "amount_total", "state", "write_date", "_model"] {
            let e = parse(with(key, "null").as_bytes(), now()).unwrap_err();
            assert!(e.contains(key), "{key}: {e}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for (key, value) in [
            ("amount_total", r#""99.5""#),
            ("amount_total", "false"),
            ("state", r#""shipped""#),
            ("write_date", r#""yesterday""#),
            ("id", "-3"),
            ("_id", "10382"),
            ("partner_id", r#""7""#),
        ] {
            assert!(
                parse(with(key, value).as_bytes(), now()).is_err(),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_refused() {
        assert!(parse(b"<html>", now()).is_err());
        assert!(parse(b"[1]", now()).is_err());
    }

    #[test]
    fn a_partner_is_a_bare_id_or_false() {
        assert_eq!(
            parse(with("partner_id", "7").as_bytes(), now())
                .unwrap()
                .partner_id,
            Some(7)
        );
        assert_eq!(
            parse(with("partner_id", "false").as_bytes(), now())
                .unwrap()
                .partner_id,
            None
        );
    }

    #[test]
    fn a_write_date_beyond_the_clock_skew_is_refused() {
        let e = parse(
            with("write_date", r#""9999-12-31 23:59:59.000000""#).as_bytes(),
            now(),
        )
        .unwrap_err();
        assert!(e.contains("later than this server's clock"), "{e}");
        let within = with("write_date", r#""2026-11-22 12:04:00.000000""#);
        assert!(parse(within.as_bytes(), now()).is_ok());
    }
}
