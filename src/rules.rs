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
    fn states_map_to_statuses() {
        assert_eq!(status_for_state("sale"), "confirmed");
        assert_eq!(status_for_state("cancel"), "cancelled");
        assert_eq!(status_for_state("draft"), "pending");
    }
}
