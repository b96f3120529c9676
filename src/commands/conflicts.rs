//! `orders conflicts`: amount changes held for review, and a person's decision on each.
//! Nothing is ever written to Odoo: it stays the source of truth; the decision is whether
//! the portal follows it now (accept) or keeps its amount until Odoo's changes again (keep).

use super::Context;
use crate::error::Error;
use crate::store::conflicts::Conflict;

/// The open conflicts, oldest first.
pub(crate) fn list(ctx: &Context) -> Result<Vec<Conflict>, Error> {
    Ok(ctx.store()?.conflicts(&["open"])?)
}

/// Who decides: the OS user running the command.
fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// `accept ID` (the portal takes Odoo's amount) or `keep ID` (it keeps its own).
pub(crate) fn decide(ctx: &Context, id: i64, accept: bool) -> Result<Conflict, Error> {
    let who = os_user();
    let c = ctx.store()?.decide_conflict(id, accept, &who)?;
    tracing::info!(
        conflict_id = c.id,
        order_id = c.order_id,
        portal_amount = %c.portal_amount,
        odoo_amount = %c.odoo_amount,
        decision = %c.state,
        decided_by = %who,
        "Amount conflict decided"
    );
    Ok(c)
}
