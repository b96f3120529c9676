//! Odoo's `write_date` as a stored stamp, comparable as text: `YYYY-MM-DD HH:MM:SS.ffffff`.
//!
//! A webhook carries microseconds (`2026-11-22 11:20:47.374070`); an API read gives the
//! second (`2026-11-22 11:20:47`), stored as its first microsecond. What they mean differs:
//! - a read is Odoo's state when read: it may replace anything stored from its second or
//!   earlier (a webhook of that second may be older than the read), never a stamp of a
//!   later second (a webhook applied while the read was on its way);
//! - a webhook applies unless what is stored is strictly newer. Not "strictly newer than
//!   stored": a change made through an order's lines posts the order's `write_date` from
//!   *before* the change (captures-2 029 posted 11:20:47.374070, the previous write's stamp,
//!   from a request answered at 11:20:49), so it ties with what the previous change stored.
//!   A delivery sent twice ties too, and re-applying the same values changes nothing.

use chrono::NaiveDateTime;

const WIRE: &str = "%Y-%m-%d %H:%M:%S%.f";
const STORED: &str = "%Y-%m-%d %H:%M:%S%.6f";

fn parse(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, WIRE).ok()
}

/// The stamp of a webhook's `write_date`, or `None` when it is not Odoo's format.
pub(crate) fn from_webhook(text: &str) -> Option<String> {
    parse(text).map(|t| t.format(STORED).to_string())
}

/// The stamp of a read's `write_date` (to the second).
pub(crate) fn from_read(text: &str) -> Option<String> {
    // A sync reads one per order: the usual shape is checked by hand, not by chrono's
    // pattern parser (a tenth of a second over 100,000 orders).
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let plain = b.len() == 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(99);
    if plain
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 60
    {
        return Some(format!("{text}.000000"));
    }
    from_webhook(text)
}

/// Whether a webhook stamped `incoming` may replace what was stored with `stored`.
pub(crate) fn webhook_applies(incoming: &str, stored: Option<&str>) -> bool {
    stored.is_none_or(|s| incoming >= s)
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
    fn a_read_stamp_is_the_start_of_its_second() {
        assert_eq!(
            from_read("2026-11-22 11:20:47").as_deref(),
            Some("2026-11-22 11:20:47.000000")
        );
    }

    #[test]
    fn an_older_webhook_does_not_apply() {
        let stored = from_webhook("2026-11-22 11:20:51.543911").unwrap();
        let older = from_webhook("2026-11-22 11:20:47.374070").unwrap();
        assert!(!webhook_applies(&older, Some(&stored)));
    }

    #[test]
    fn a_webhook_tying_with_the_stored_stamp_applies() {
        let stored = from_webhook("2026-11-22 11:20:47.374070").unwrap();
        assert!(webhook_applies(&stored, Some(&stored)));
        assert!(webhook_applies(&stored, None));
    }

    #[test]
    fn a_webhook_of_a_read_second_applies() {
        let read = from_read("2026-11-22 11:20:47").unwrap();
        let hook = from_webhook("2026-11-22 11:20:47.374070").unwrap();
        assert!(webhook_applies(&hook, Some(&read)));
    }

    #[test]
    fn a_read_of_no_real_time_is_not_a_stamp() {
        assert_eq!(from_read("2026-13-22 11:20:47"), None);
        assert_eq!(from_read("2026-11-22 24:00:00"), None);
    }

    #[test]
    fn anything_else_is_not_a_stamp() {
        assert_eq!(from_webhook("yesterday"), None);
        assert_eq!(from_webhook("2026-11-22T11:20:47Z"), None);
        assert_eq!(from_read(""), None);
    }
}
