//! `orders sync-amounts --changed`: only the orders Odoo changed since the change cursor.
//!
//! ```text
//! cursor (write_date, id) − overlap ─► search_read write_date ≥ since, by (write_date, id),
//!     one page at a time ─► the local orders among them, by the same rules as the full
//!     sync ─► their writes and the cursor, in one transaction per page
//! ```
//! Odoo's `write_date` is the time the writing transaction *started*, to the second: a
//! transaction that commits late carries an older stamp than changes already seen. Each run
//! therefore re-reads an overlap window (default 300 s: more than Odoo's default 120 s
//! request time limit) before the cursor. Deletions and local drift are the full sync's job.

use std::time::Duration;

use super::sync::{
    Event, OdooChunk, OdooOrder, SYNC_FIELDS, Selection, Summary, SyncOptions, compare_chunk,
    pipeline as full_pipeline, superseded, tally,
};
use crate::error::{Error, exit};
use crate::odoo::{OdooClient, Record, SearchOpts, Value};
use crate::store::{Store, from_text, to_text};

/// The cursor's name in the store.
const CURSOR: &str = "sale.order";

/// One page of Odoo's changes: `(id, write_date, what Odoo says or why it is unreadable)`.
type Changes = Vec<(i64, String, Result<OdooOrder, String>)>;

/// `write_date >= since` for the first page, then strictly after the last row seen.
fn page_domain(since: &str, after: Option<&(String, i64)>) -> Value {
    let leaf = |f: &str, op: &str, v: Value| Value::Array(vec![Value::str(f), Value::str(op), v]);
    match after {
        None => Value::Array(vec![leaf("write_date", ">=", Value::str(since))]),
        Some((wd, id)) => Value::Array(vec![
            Value::str("|"),
            leaf("write_date", ">", Value::str(wd)),
            Value::str("&"),
            leaf("write_date", "=", Value::str(wd)),
            leaf("id", ">", Value::Int(*id)),
        ]),
    }
}

async fn changes(
    client: &OdooClient,
    domain: Value,
    limit: usize,
) -> Result<Changes, crate::odoo::OdooError> {
    let opts = SearchOpts {
        limit: Some(limit as u32),
        order: Some("write_date asc, id asc"),
    };
    let rows = client
        .search_read("sale.order", domain, SYNC_FIELDS, opts)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for v in &rows {
        let r = Record(v);
        let id = r.id()?;
        let write_date = r.string("write_date")?;
        out.push((id, write_date, OdooOrder::from_record(&r)));
    }
    Ok(out)
}

/// The newest change in Odoo, where a first full sync leaves the cursor.
async fn newest_change(
    client: &OdooClient,
) -> Result<Option<(String, i64)>, crate::odoo::OdooError> {
    let opts = SearchOpts {
        limit: Some(1),
        order: Some("write_date desc, id desc"),
    };
    let rows = client
        .search_read("sale.order", Value::Array(vec![]), &["write_date"], opts)
        .await?;
    match rows.first() {
        Some(v) => {
            let r = Record(v);
            Ok(Some((r.string("write_date")?, r.id()?)))
        }
        None => Ok(None),
    }
}

pub(super) async fn pipeline(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    overlap: Duration,
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    client.session().await?;
    let Some((cursor_date, _)) = store.cursor(CURSOR)? else {
        // The first run: a full sync, then the cursor at Odoo's newest change, read before
        // the sync so that nothing changed during it is skipped.
        on_event(Event::ChangedSince(None));
        let newest = newest_change(client).await?;
        let full = SyncOptions {
            selection: Selection::All,
            ..opts
        };
        full_pipeline(store, client, full, summary, on_event).await?;
        if !opts.dry_run
            && summary.exit_code() == exit::OK
            && let Some((date, id)) = newest
        {
            store.apply_sync_and_cursor(&[], Some((CURSOR, &date, id)))?;
        }
        return Ok(());
    };
    let since = from_text(&cursor_date)
        .map(|t| to_text(t - chrono::Duration::from_std(overlap).unwrap_or_default()))
        .unwrap_or(cursor_date);
    on_event(Event::ChangedSince(Some(&since)));
    let mut after: Option<(String, i64)> = None;
    loop {
        let page = match changes(client, page_domain(&since, after.as_ref()), opts.batch).await {
            Ok(page) => page,
            // The cursor stays where the last committed page left it.
            Err(e) if matches!(e, crate::odoo::OdooError::Protocol { .. }) => {
                tracing::error!(error = %e, "Failed to read Odoo's changes");
                summary.odoo_garbled = Some(e.to_string());
                break;
            }
            Err(e) if e.is_unavailable() => {
                tracing::error!(error = %e, "Failed to read Odoo's changes");
                summary.odoo_unreachable = Some(e.to_string());
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let ids: Vec<i64> = page.iter().map(|(id, _, _)| *id).collect();
        let local = store.sync_rows_for(&ids)?;
        let chunk: OdooChunk = page
            .iter()
            .map(|(id, _, decoded)| (*id, decoded.clone()))
            .collect();
        let (mut results, writes) = compare_chunk(&local, &Ok(chunk), &opts);
        let last = page.last().map(|(id, date, _)| (date.clone(), *id));
        if !opts.dry_run {
            let cursor = last.as_ref().map(|(d, id)| (CURSOR, d.as_str(), *id));
            let skipped = store.apply_sync_and_cursor(&writes, cursor)?;
            superseded(&mut results, &skipped);
        }
        summary.found += local.len() as u64;
        tally(summary, &results, opts.dry_run, on_event);
        if page.len() < opts.batch {
            break;
        }
        after = last;
    }
    summary.round_trips = client.round_trips();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_starts_strictly_after_the_last_row_seen() {
        let d = page_domain(
            "2026-11-22 11:00:00",
            Some(&("2026-11-22 11:20:47".into(), 10381)),
        );
        assert_eq!(
            d.to_json().to_string(),
            r#"["|",["write_date",">","2026-11-22 11:20:47"],"&",["write_date","=","2026-11-22 11:20:47"],["id",">",10381]]"#
        );
    }
}
