//! `orders conflicts`: what waits for a person's review, and the decision on each — amount
//! changes held by the review threshold (nothing is written to Odoo: the decision is whether
//! the portal follows Odoo's amount now, accept, or keeps its own until Odoo's changes,
//! keep), and portal updates held because staff changed the order in Odoo since the portal
//! saw it (`u<ID>`: accept sends the update over staff's change, keep drops it).

use super::Context;
use crate::error::Error;
use crate::store::conflicts::Conflict;
use crate::store::held::HeldUpdate;

/// One item waiting for review.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Review {
    Amount(Conflict),
    Update(HeldUpdate),
}

/// What waits for review, oldest first: amounts, then updates.
pub(crate) fn list(ctx: &Context) -> Result<Vec<Review>, Error> {
    let store = ctx.store()?;
    let mut all: Vec<Review> = store
        .conflicts(&["open"])?
        .into_iter()
        .map(Review::Amount)
        .collect();
    all.extend(
        store
            .held_updates(&["open"])?
            .into_iter()
            .map(Review::Update),
    );
    Ok(all)
}

/// Who decides: the OS user running the command.
fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// `accept ID` / `keep ID`: an amount conflict (`3`) or a held update (`u3`).
pub(crate) async fn decide(ctx: &Context, id: &str, accept: bool) -> Result<Review, Error> {
    let who = os_user();
    if let Some(held) = id.strip_prefix('u') {
        let id: i64 = held
            .parse()
            .map_err(|_| Error::Usage(format!("'{id}' is not a conflict id like 3 or u3")))?;
        return decide_update(ctx, id, accept, &who)
            .await
            .map(Review::Update);
    }
    let id: i64 = id
        .parse()
        .map_err(|_| Error::Usage(format!("'{id}' is not a conflict id like 3 or u3")))?;
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
    Ok(Review::Amount(c))
}

/// A held update: sent to Odoo over staff's change (accept), or dropped (keep).
async fn decide_update(
    ctx: &Context,
    id: i64,
    accept: bool,
    who: &str,
) -> Result<HeldUpdate, Error> {
    let store = ctx.store()?;
    let held = store.held_update(id)?;
    if held.state != "open" {
        return Err(Error::Usage(format!(
            "held update u{id} is {}, not open; nothing was changed",
            held.state
        )));
    }
    if accept {
        crate::flows::order_actions::send_held(ctx, &store, &held).await?;
    }
    store.decide_held_update(id, accept, who)?;
    tracing::info!(held_update = id, order_id = held.order_id, decision = if accept { "accepted" } else { "kept" }, decided_by = %who, "Held order update decided");
    Ok(store.held_update(id)?)
}
