//! Numbers as Odoo writes them (Python's float repr: `857.87`, `0.0`, `1e-05`, `1.5e+16`),
//! read into exact decimals of that text: money never passes through a binary float.

use std::str::FromStr;

use rust_decimal::Decimal;

/// Why a wire number could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Not digits, sign, point and exponent.
    NotANumber,
    /// Malformed, or beyond what a decimal holds.
    OutOfRange,
}

/// The exact decimal of a wire number's text.
pub fn decimal(text: &str) -> Result<Decimal, NumberError> {
    let t = text.trim();
    let ok_chars = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !ok_chars {
        return Err(NumberError::NotANumber);
    }
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).map_err(|_| NumberError::OutOfRange)
    } else {
        Decimal::from_str(t).map_err(|_| NumberError::OutOfRange)
    }
}
