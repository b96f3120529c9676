//! The business rules, free of I/O: which amount to show, when to take Odoo's amount, and
//! how Odoo's order state maps onto the portal's status.

use rust_decimal::Decimal;

use crate::money::{currency_decimals, round_to, same_amount};

/// Which amount a display shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AmountSource {
    Odoo,
    Portal,
}

/// Odoo's amount when it is above zero, else the portal's (an order without lines in Odoo
/// has `amount_total` 0.0 until staff add them).
pub(crate) fn effective_amount(
    portal: Decimal,
    odoo: Option<Decimal>,
    currency: &str,
) -> (Decimal, AmountSource) {
    match odoo {
        Some(o) if round_to(o, currency_decimals(currency)) > Decimal::ZERO => {
            (o, AmountSource::Odoo)
        }
        _ => (portal, AmountSource::Portal),
    }
}

/// What sync-amounts does with one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmountDecision {
    /// Odoo's amount is above zero and differs: take it.
    Update { from: Decimal, to: Decimal },
    /// Equal at the currency's precision.
    NoChange,
    /// Odoo still says 0.00 (no lines yet): keep the portal's amount.
    KeepPortal,
}

pub(crate) fn decide_amount(portal: Decimal, odoo: Decimal, currency: &str) -> AmountDecision {
    let dp = currency_decimals(currency);
    let odoo = round_to(odoo, dp);
    if odoo <= Decimal::ZERO {
        AmountDecision::KeepPortal
    } else if same_amount(portal, odoo, currency) {
        AmountDecision::NoChange
    } else {
        AmountDecision::Update {
            from: portal,
            to: odoo,
        }
    }
}

/// The review threshold (`ORDERBRIDGE_MAX_CHANGE`, `--max-change`): an amount change beyond
/// it is held as a conflict instead of applied. With both limits, a change must exceed both
/// (a tenfold change of a 5.00 order is not worth a person's time under "50%,100").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MaxChange {
    /// Percent of the portal's amount.
    pub percent: Option<Decimal>,
    /// In the order's currency.
    pub amount: Option<Decimal>,
}

impl MaxChange {
    /// `50%`, `1000`, `50%,1000` (or `1000,50%`); `off` or empty for none.
    pub(crate) fn parse(text: &str) -> Result<MaxChange, String> {
        let mut out = MaxChange::default();
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("off") {
            return Ok(out);
        }
        for part in t.split(',').map(str::trim) {
            let bad = || format!("'{part}' is not a percentage (50%) or an amount (1000.00)");
            if let Some(p) = part.strip_suffix('%') {
                let p: Decimal = p.trim().parse().map_err(|_| bad())?;
                if p <= Decimal::ZERO || out.percent.is_some() {
                    return Err(bad());
                }
                out.percent = Some(p);
            } else {
                let a: Decimal = part.parse().map_err(|_| bad())?;
                if a <= Decimal::ZERO || out.amount.is_some() {
                    return Err(bad());
                }
                out.amount = Some(a);
            }
        }
        Ok(out)
    }

    pub(crate) fn is_set(&self) -> bool {
        self.percent.is_some() || self.amount.is_some()
    }

    /// Whether the change `from` → `to` goes beyond every limit set.
    pub(crate) fn exceeded(&self, from: Decimal, to: Decimal, currency: &str) -> bool {
        if !self.is_set() {
            return false;
        }
        let diff = round_to((to - from).abs(), currency_decimals(currency));
        let by_percent = self
            .percent
            .is_none_or(|p| from.is_zero() || diff * Decimal::ONE_HUNDRED / from.abs() > p);
        let by_amount = self.amount.is_none_or(|a| diff > a);
        by_percent && by_amount
    }
}

/// The portal's status for an Odoo `sale.order` state (Odoo 19: draft, sent, sale, cancel;
/// older servers also have done).
pub(crate) fn status_for_state(state: &str) -> &'static str {
    match state {
        "draft" => "pending",
        "sent" => "quotation_sent",
        "sale" => "confirmed",
        "done" => "done",
        "cancel" => "cancelled",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn display_uses_odoo_amount_when_above_zero() {
        assert_eq!(
            effective_amount(d("857.87"), Some(d("950")), "USD"),
            (d("950"), AmountSource::Odoo)
        );
    }

    #[test]
    fn display_falls_back_to_portal_when_odoo_is_zero_or_unknown() {
        assert_eq!(
            effective_amount(d("857.87"), Some(d("0.0")), "USD").1,
            AmountSource::Portal
        );
        assert_eq!(
            effective_amount(d("857.87"), None, "USD").1,
            AmountSource::Portal
        );
    }

    #[test]
    fn greater_and_different_updates() {
        assert_eq!(
            decide_amount(d("857.87"), d("950.00"), "USD"),
            AmountDecision::Update {
                from: d("857.87"),
                to: d("950.00")
            }
        );
    }

    #[test]
    fn lower_but_positive_also_updates() {
        assert!(matches!(
            decide_amount(d("950"), d("857.87"), "USD"),
            AmountDecision::Update { .. }
        ));
    }

    #[test]
    fn equal_at_currency_precision_is_no_change() {
        assert_eq!(
            decide_amount(d("857.87"), d("857.8699999"), "USD"),
            AmountDecision::NoChange
        );
    }

    #[test]
    fn zero_in_odoo_keeps_the_portal_amount() {
        assert_eq!(
            decide_amount(d("857.87"), d("0.0"), "USD"),
            AmountDecision::KeepPortal
        );
        assert_eq!(
            decide_amount(d("857.87"), d("0.001"), "USD"),
            AmountDecision::KeepPortal
        );
    }

    #[test]
    fn a_tenfold_typo_is_beyond_50_percent() {
        let m = MaxChange::parse("50%").unwrap();
        assert!(m.exceeded(d("857.87"), d("8578.70"), "USD"));
        assert!(!m.exceeded(d("857.87"), d("950.00"), "USD"));
    }

    #[test]
    fn with_both_limits_a_change_must_exceed_both() {
        let m = MaxChange::parse("50%,100").unwrap();
        assert!(!m.exceeded(d("5.00"), d("50.00"), "USD"), "900 % but 45.00");
        assert!(m.exceeded(d("857.87"), d("8578.70"), "USD"));
        assert!(
            !m.exceeded(d("857.87"), d("957.87"), "USD"),
            "100.00 is not beyond 100"
        );
    }

    #[test]
    fn no_threshold_holds_nothing() {
        assert!(
            !MaxChange::parse("off")
                .unwrap()
                .exceeded(d("1"), d("1000000"), "USD")
        );
        assert!(MaxChange::parse("ten").is_err());
        assert!(MaxChange::parse("-5%").is_err());
    }

    #[test]
    fn states_map_to_statuses() {
        assert_eq!(status_for_state("sale"), "confirmed");
        assert_eq!(status_for_state("cancel"), "cancelled");
        assert_eq!(status_for_state("draft"), "pending");
    }
}
