//! Exact money: amounts are `Decimal`s parsed from text, never binary floats.
//!
//! Odoo sends monetary fields as floats (`<double>857.87</double>`, JSON `857.87`). We keep the
//! wire text, parse it into a decimal and compare at the currency's precision, so that
//! `857.8699999` from Odoo equals the portal's `857.87`.

use std::fmt;
use std::str::FromStr;

pub(crate) use rust_decimal::Decimal;
use rust_decimal::RoundingStrategy;

/// An amount that could not be read as money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid amount: {why}")]
pub(crate) struct MoneyError {
    pub text: String,
    pub why: &'static str,
}

fn err(text: &str, why: &'static str) -> MoneyError {
    MoneyError {
        text: text.chars().take(40).collect(),
        why,
    }
}

/// Decimal places of a currency (ISO 4217 minor units); 2 when the code is not listed.
pub(crate) fn currency_decimals(code: &str) -> u32 {
    match code.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// ISO 4217 currency codes in use (and a few recently replaced ones an Odoo may still hold).
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF",
    "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR",
    "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC",
    "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX",
    "USD", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

/// True for an ISO 4217 currency code (upper case, as Odoo names currencies).
pub(crate) fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

/// Rounds half away from zero, as Odoo's `float_round` does for money.
pub(crate) fn round_to(amount: Decimal, decimals: u32) -> Decimal {
    let mut r = amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(decimals);
    r
}

/// The amount at the currency's scale (rounded half away from zero): `5` in USD is `5.00`.
pub(crate) fn at_scale(amount: Decimal, currency: &str) -> Decimal {
    round_to(amount, currency_decimals(currency))
}

/// True when the two amounts are equal once rounded to the currency's precision.
pub(crate) fn same_amount(a: Decimal, b: Decimal, currency: &str) -> bool {
    let dp = currency_decimals(currency);
    round_to(a, dp) == round_to(b, dp)
}

/// Parses an amount typed by a person or sent by the portal: plain decimal notation,
/// optional leading minus, no exponent, no thousands separators, at most the currency's
/// decimal places (so nothing is silently rounded away).
pub(crate) fn parse_user_amount(text: &str, currency: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(err(text, "it is empty"));
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(err(text, "use digits with an optional '.' (e.g. 857.87)"));
    }
    if frac.map_or(0, str::len) as u32 > currency_decimals(currency) {
        return Err(err(
            text,
            "it has more decimal places than the currency allows",
        ));
    }
    Decimal::from_str_exact(t).map_err(|_| err(text, "it is out of range"))
}

/// Parses a number as Odoo puts it on the wire (Python's float repr: `857.87`, `0.0`,
/// `1e-05`, `1.5e+16`) into an exact decimal of that text.
pub(crate) fn parse_wire_amount(text: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    let ok_chars = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !ok_chars {
        return Err(err(text, "Odoo sent something that is not a number"));
    }
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).map_err(|_| err(text, "the number is out of range"))
    } else {
        Decimal::from_str(t).map_err(|_| err(text, "the number is malformed or out of range"))
    }
}

/// An amount in a currency, displayed with its symbol and precision (`$857.87`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Money<'a> {
    pub amount: Decimal,
    pub currency: &'a str,
}

impl fmt::Display for Money<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dp = currency_decimals(self.currency);
        let v = round_to(self.amount, dp);
        let symbol = match self.currency.to_ascii_uppercase().as_str() {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            _ => None,
        };
        match symbol {
            Some(s) if v.is_sign_negative() => write!(f, "-{s}{}", v.abs()),
            Some(s) => write!(f, "{s}{v}"),
            None => write!(f, "{v} {}", self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_iso_4217_codes() {
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(is_currency("USD") && is_currency("EUR") && is_currency("JPY"));
        assert!(!is_currency("XYZ") && !is_currency("usd"));
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn wire_text_is_parsed_exactly() {
        assert_eq!(parse_wire_amount("857.87").unwrap(), d("857.87"));
        assert_eq!(parse_wire_amount("0.0").unwrap(), d("0"));
        assert_eq!(parse_wire_amount("1e-05").unwrap(), d("0.00001"));
        assert_eq!(parse_wire_amount("1.5e+3").unwrap(), d("1500"));
    }

    #[test]
    fn wire_garbage_is_an_error() {
        assert!(parse_wire_amount("abc").is_err());
        assert!(parse_wire_amount("").is_err());
        assert!(parse_wire_amount("nan").is_err());
        assert!(parse_wire_amount("1.2.3").is_err());
    }

    #[test]
    fn float_noise_is_equal_at_currency_precision() {
        assert!(same_amount(d("857.8699999"), d("857.87"), "USD"));
        assert!(!same_amount(d("857.86"), d("857.87"), "USD"));
        assert!(same_amount(d("1000.4"), d("1000"), "JPY"));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_to(d("1.875"), 2), d("1.88"));
        assert_eq!(round_to(d("-1.875"), 2), d("-1.88"));
        assert_eq!(round_to(d("2"), 2).to_string(), "2.00");
    }

    #[test]
    fn user_amounts_are_strict() {
        assert_eq!(parse_user_amount("857.87", "USD").unwrap(), d("857.87"));
        assert_eq!(parse_user_amount("-5", "USD").unwrap(), d("-5"));
        assert!(parse_user_amount("857.871", "USD").is_err());
        assert!(parse_user_amount("8e2", "USD").is_err());
        assert!(parse_user_amount("1,000.00", "USD").is_err());
        assert!(parse_user_amount("12.", "USD").is_err());
        assert!(parse_user_amount("", "USD").is_err());
    }

    #[test]
    fn display_uses_symbol_and_precision() {
        let m = |s: &str, c| {
            Money {
                amount: d(s),
                currency: c,
            }
            .to_string()
        };
        assert_eq!(m("857.87", "USD"), "$857.87");
        assert_eq!(m("950", "USD"), "$950.00");
        assert_eq!(m("0", "USD"), "$0.00");
        assert_eq!(m("12.5", "CHF"), "12.50 CHF");
        assert_eq!(m("-3", "EUR"), "-€3.00");
    }
}
