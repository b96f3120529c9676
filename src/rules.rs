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

/// The stages an order goes through, as the portal names them: the one table behind every
/// status the syncs set. Odoo's state decides first (draft, sent, cancel); a confirmed order
/// then takes the furthest of: paid (every posted invoice paid), invoiced (a posted invoice
/// not paid), shipped (every unit of every product line delivered, by the lines, not by
/// Odoo's `delivery_status`, whose `full` only means no picking is open), partially shipped
/// (some units delivered), else confirmed.
pub(crate) const STAGES: &[(&str, &str)] = &[
    ("pending", "a quotation (Odoo: draft)"),
    (
        "quotation_sent",
        "a quotation sent to the customer (Odoo: sent)",
    ),
    (
        "confirmed",
        "confirmed, nothing delivered or invoiced yet (Odoo: sale)",
    ),
    ("partially_shipped", "some units delivered"),
    ("shipped", "every unit delivered"),
    ("invoiced", "invoiced (posted), not paid in full"),
    ("paid", "every posted invoice paid"),
    ("done", "locked (Odoo 16: done)"),
    ("cancelled", "cancelled (Odoo: cancel)"),
];

/// The portal's word for each stage: the stage's own name unless
/// `ORDERBRIDGE_STATUS_WORDS` (`shipped=delivered,paid=completed`) says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StatusWords {
    renamed: Vec<(&'static str, String)>,
}

impl StatusWords {
    /// Reads `stage=word,stage=word`; an unknown stage or an empty word is refused.
    pub(crate) fn parse(text: &str) -> Result<StatusWords, String> {
        let mut renamed = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (stage, word) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not stage=word"))?;
            let stage = STAGES
                .iter()
                .map(|(s, _)| *s)
                .find(|s| *s == stage.trim())
                .ok_or_else(|| {
                    format!(
                        "'{}' is not a stage; the stages are {}",
                        stage.trim(),
                        STAGES
                            .iter()
                            .map(|(s, _)| *s)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let word = word.trim();
            if word.is_empty() || word.len() > 32 {
                return Err(format!("the word for {stage} must be 1 to 32 characters"));
            }
            renamed.push((stage, word.to_string()));
        }
        Ok(StatusWords { renamed })
    }

    /// The portal's word for a stage.
    pub(crate) fn word<'a>(&'a self, stage: &'a str) -> &'a str {
        self.renamed
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(stage, |(_, w)| w.as_str())
    }

    /// The stage a stored word stands for (the word itself when it is no renamed one).
    fn stage_of<'a>(&'a self, word: &'a str) -> &'a str {
        self.renamed
            .iter()
            .find(|(_, w)| w == word)
            .map_or(word, |(s, _)| s)
    }
}

/// The stages past confirmation, which a read without the whole order cannot tell apart.
const PROGRESS: &[&str] = &["partially_shipped", "shipped", "invoiced", "paid"];

/// The portal's status for an Odoo state and, when read with it, the whole order. Without
/// the whole order (a webhook) a confirmed order keeps a stage past confirmation that it
/// holds (`current`), rather than go back to `confirmed`.
pub(crate) fn portal_status<'a>(
    state: &'a str,
    details: Option<&crate::details::OrderDetails>,
    current: &'a str,
    words: &'a StatusWords,
) -> &'a str {
    let stage = match state {
        "draft" => "pending",
        "sent" => "quotation_sent",
        "cancel" => "cancelled",
        "done" => "done",
        "sale" => match details {
            Some(d) => {
                let units = d.units();
                match d.payment_state.as_deref() {
                    Some("paid") => "paid",
                    Some("not_paid" | "partial") => "invoiced",
                    _ if units.all_delivered() => "shipped",
                    _ if units.delivered > Decimal::ZERO => "partially_shipped",
                    _ => "confirmed",
                }
            }
            None => {
                let held = words.stage_of(current);
                if PROGRESS.contains(&held) {
                    return current;
                }
                "confirmed"
            }
        },
        _ => "unknown",
    };
    words.word(stage)
}

/// What the amount rules make of Odoo's amount for one stored order: the one rule every
/// path that records Odoo's amount goes through (full and `--changed` syncs, sync-status,
/// sync on read, webhooks), so that a held amount stays held on each of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Odoo's amount is above zero and differs, within the review threshold: take it.
    Update { from: Decimal, to: Decimal },
    /// Equal at the currency's precision.
    NoChange,
    /// Odoo still says 0.00: the portal's amount stays.
    KeepPortal,
    /// Beyond the review threshold, or a conflict is open and the run has no threshold that
    /// would settle it: Odoo's amount is held, not recorded on the order.
    Held { from: Decimal, to: Decimal },
    /// The very amount a person chose not to take.
    KeptByReview { amount: Decimal, odoo: Decimal },
}

/// The verdict for a portal amount against Odoo's, given the order's review if it has one
/// (a new order has none).
pub(crate) fn judge_amount(
    portal: Decimal,
    odoo_amount: Decimal,
    currency: &str,
    review: Option<&crate::store::orders::Review>,
    max_change: &MaxChange,
) -> Verdict {
    match decide_amount(portal, odoo_amount, currency) {
        AmountDecision::NoChange => Verdict::NoChange,
        AmountDecision::KeepPortal => Verdict::KeepPortal,
        AmountDecision::Update { from, to } => match review {
            Some(r) if !r.open && same_amount(r.odoo_amount, to, currency) => {
                Verdict::KeptByReview {
                    amount: from,
                    odoo: to,
                }
            }
            Some(r) if r.open && !max_change.is_set() => Verdict::Held { from, to },
            _ if max_change.exceeded(from, to, currency) => Verdict::Held { from, to },
            _ => Verdict::Update { from, to },
        },
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
