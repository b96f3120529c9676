//! Odoo's `write_date` as a stored stamp, comparable as text: `YYYY-MM-DD HH:MM:SS.ffffff`.
//!
//! A webhook carries microseconds (`2026-11-22 11:20:47.374070`); an API read gives the
//! second (`2026-11-22 11:20:47`), which may stand for any instant in it. A read is stored
//! at the *end* of its second, so that a late webhook of the same second never replaces
//! what a read already saw; the next read (the poll's overlap re-reads it) settles that
//! second either way.

use chrono::NaiveDateTime;

const WIRE: &str = "%Y-%m-%d %H:%M:%S%.f";
const STORED: &str = "%Y-%m-%d %H:%M:%S%.6f";

fn parse(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, WIRE).ok()
}

/// The stamp of a webhook's `write_date` (exact), or `None` when it is not Odoo's format.
pub(crate) fn from_webhook(text: &str) -> Option<String> {
    parse(text).map(|t| t.format(STORED).to_string())
}

/// The stamp of a read's `write_date`: the last microsecond of its second when the read has
/// no fraction.
pub(crate) fn from_read(text: &str) -> Option<String> {
    let t = parse(text)?;
    let t = if text.contains('.') {
        t
    } else {
        t + chrono::Duration::microseconds(999_999)
    };
    Some(t.format(STORED).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_stamp_keeps_its_microseconds() {
        assert_eq!(
            from_webhook("2026-11-22 11:20:47.374070").as_deref(),
            Some("2026-11-22 11:20:47.374070")
        );
    }

    #[test]
    fn a_read_stamp_stands_at_the_end_of_its_second() {
        assert_eq!(
            from_read("2026-11-22 11:20:47").as_deref(),
            Some("2026-11-22 11:20:47.999999")
        );
    }

    #[test]
    fn a_webhook_of_the_same_second_is_not_newer_than_a_read() {
        let read = from_read("2026-11-22 11:20:47").unwrap();
        let hook = from_webhook("2026-11-22 11:20:47.374070").unwrap();
        assert!(hook < read);
        assert!(from_webhook("2026-11-22 11:20:48.000001").unwrap() > read);
    }

    #[test]
    fn anything_else_is_not_a_stamp() {
        assert_eq!(from_webhook("yesterday"), None);
        assert_eq!(from_webhook("2026-11-22T11:20:47Z"), None);
        assert_eq!(from_read(""), None);
    }
}
