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
//!
//! Posting and paying an invoice move no `write_date` of its order (captures-3 031, 036):
//! a second cursor follows the customer invoices (`account.move`) by their own `write_date`,
//! and the orders they name (`invoice_origin`) are read again, whole.

use std::time::Duration;

use super::{
    Event, OdooChunk, OdooOrder, Selection, Summary, SyncOptions, compare_chunk, fetch,
    pipeline as full_pipeline, superseded, sync_fields, tally,
};
use crate::error::{Error, Exit, exit};
use crate::flows::changes::{odoo_now, page_domain};
use crate::odoo::{OdooClient, Record, SearchOpts, Value};
use crate::store::Store;
use crate::store::orders::{Cursor, Start};

/// The cursor's name in the store.
const CURSOR: &str = "sale.order";
/// The customer invoices' cursor.
const INVOICES: &str = "account.move";

/// One page of Odoo's changes: `(id, write_date, what Odoo says or why it is unreadable)`,
/// and the rows as read (their details are read for the local ones only).
type Changes = (Vec<(i64, String, Result<OdooOrder, String>)>, Vec<Value>);

/// Where this run's reading starts (and Odoo's clock at its first read, for the cursor).
pub(crate) fn read_cursor(
    start_from: &Cursor,
    page: Option<&(String, i64)>,
    read_at: Option<String>,
) -> Cursor {
    let (write_date, odoo_id) = page
        .cloned()
        .unwrap_or_else(|| (start_from.write_date.clone(), start_from.odoo_id));
    Cursor {
        write_date,
        odoo_id,
        read_at,
    }
}

async fn changes(
    client: &OdooClient,
    domain: Value,
    limit: usize,
    details: bool,
) -> Result<Changes, crate::odoo::OdooError> {
    let opts = SearchOpts {
        limit: Some(limit as u32),
        order: Some("write_date asc, id asc"),
    };
    let fields = if details {
        sync_fields(client).await?
    } else {
        super::SYNC_FIELDS.to_vec()
    };
    let rows = client
        .search_read("sale.order", domain, &fields, opts)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for v in &rows {
        let r = Record(v);
        let id = r.id()?;
        let write_date = r.string("write_date")?;
        out.push((id, write_date, OdooOrder::from_record(&r)));
    }
    Ok((out, rows))
}

/// The newest change of a model in Odoo, where a first full sync leaves its cursor.
async fn newest_change(
    client: &OdooClient,
    model: &str,
    domain: Option<Value>,
) -> Result<Option<(String, i64)>, crate::odoo::OdooError> {
    let opts = SearchOpts {
        limit: Some(1),
        order: Some("write_date desc, id desc"),
    };
    let rows = client
        .search_read(
            model,
            domain.unwrap_or(Value::Array(vec![])),
            &["write_date"],
            opts,
        )
        .await?;
    match rows.first() {
        Some(v) => {
            let r = Record(v);
            Ok(Some((r.string("write_date")?, r.id()?)))
        }
        None => Ok(None),
    }
}

pub(crate) async fn pipeline(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    overlap: Duration,
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    client.session().await?;
    let Some(cursor) = store.cursor(CURSOR)? else {
        // The first run: a full sync, then the cursor at Odoo's newest change, read before
        // the sync so that nothing changed during it is skipped.
        on_event(Event::ChangedSince(None));
        let newest = newest_change(client, "sale.order", None).await?;
        // The full sync reads every order whole, invoices included: their cursor starts at
        // the newest too (none without the whole order, which does not follow invoices).
        let newest_invoice = if opts.details {
            newest_change(
                client,
                "account.move",
                Some(Value::Array(vec![invoice_term()])),
            )
            .await?
        } else {
            None
        };
        let read_at = odoo_now(client);
        let full = SyncOptions {
            selection: Selection::All,
            ..opts
        };
        full_pipeline(store, client, full, summary, on_event).await?;
        if !opts.dry_run && summary.exit_code() == exit::OK {
            for (name, newest) in [(CURSOR, newest), (INVOICES, newest_invoice)] {
                if let Some((write_date, odoo_id)) = newest {
                    let c = Cursor {
                        write_date,
                        odoo_id,
                        read_at: read_at.clone(),
                    };
                    store.apply_sync_and_cursor(&[], Some((name, &c)))?;
                }
            }
        }
        return Ok(());
    };
    let start = cursor.start(overlap);
    match &start {
        Start::Since(t) | Start::After(t, _) => on_event(Event::ChangedSince(Some(t))),
        Start::All => on_event(Event::ChangedSince(None)),
    }
    let mut after: Option<(String, i64)> = None;
    let mut read_at: Option<String> = None;
    loop {
        let read = async {
            let (page, rows) = changes(
                client,
                page_domain(None, &start, after.as_ref()),
                opts.batch,
                opts.details,
            )
            .await?;
            // The whole order of the local ones among them: their lines and invoices.
            let ids: Vec<i64> = page.iter().map(|(id, _, _)| *id).collect();
            let local = store.sync_rows_for(&ids).map_err(Error::from)?;
            let mine: std::collections::HashSet<i64> =
                local.iter().map(|r| r.odoo_order_id).collect();
            let changed: Vec<(i64, String)> = page
                .iter()
                .filter(|(id, _, _)| mine.contains(id))
                .map(|(id, w, _)| (*id, w.clone()))
                .collect();
            let wanted = store.details_wanted(&changed).map_err(Error::from)?;
            let rows: Vec<Value> = rows
                .into_iter()
                .filter(|v| Record(v).id().is_ok_and(|id| wanted.contains(&id)))
                .collect();
            let details = if opts.details {
                client.details_of(&rows).await?
            } else {
                Default::default()
            };
            Ok::<_, Error>((page, local, details))
        };
        let (page, local, mut details) = match read.await {
            Ok(read) => read,
            // The cursor stays where the last committed page left it.
            Err(Error::Odoo(e)) if matches!(e, crate::odoo::OdooError::Protocol { .. }) => {
                tracing::error!(error = %e, "Failed to read Odoo's changes");
                summary.odoo_garbled = Some(e.to_string());
                return Ok(());
            }
            Err(Error::Odoo(e)) if e.is_unavailable() => {
                tracing::error!(error = %e, "Failed to read Odoo's changes");
                summary.odoo_unreachable = Some(e.to_string());
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // Odoo's clock at this run's first read: what has not committed by then is stamped
        // after it less a request's time limit.
        if read_at.is_none() {
            read_at = odoo_now(client);
        }
        let chunk: OdooChunk = page
            .iter()
            .map(|(id, _, decoded)| {
                let mut decoded = decoded.clone();
                if let Ok(o) = &mut decoded {
                    o.details = details.remove(id).and_then(Result::ok);
                }
                (*id, decoded)
            })
            .collect();
        let (mut results, writes) = compare_chunk(&local, &Ok(chunk), &opts);
        let last = page.last().map(|(id, date, _)| (date.clone(), *id));
        if !opts.dry_run {
            let moved = read_cursor(&cursor, last.as_ref(), read_at.clone());
            let skipped = store.apply_sync_and_cursor(&writes, Some((CURSOR, &moved)))?;
            superseded(&mut results, &skipped);
        }
        summary.found += local.len() as u64;
        tally(summary, &results, opts.dry_run, on_event);
        if page.len() < opts.batch {
            break;
        }
        after = last;
    }
    if opts.details {
        follow_invoices(store, client, opts, overlap, summary, on_event).await?;
    }
    summary.round_trips = client.round_trips();
    Ok(())
}

/// Customer invoices and refunds: one domain term.
fn invoice_term() -> Value {
    Value::Array(vec![
        Value::str("move_type"),
        Value::str("in"),
        Value::strs(&["out_invoice", "out_refund"]),
    ])
}

/// The customer invoices changed since their cursor (posted, paid, reversed: none of which
/// moves its order's `write_date`), a page at a time: the local orders they name are read
/// again, whole, and stored by the sync's rules with the cursor, in one transaction.
async fn follow_invoices(
    store: &Store,
    client: &OdooClient,
    opts: SyncOptions,
    overlap: Duration,
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), Error> {
    let cursor = store.cursor(INVOICES)?;
    let start = cursor.as_ref().map_or(Start::All, |c| c.start(overlap));
    let base = invoice_term();
    let page_opts = SearchOpts {
        limit: Some(opts.batch as u32),
        order: Some("write_date asc, id asc"),
    };
    let mut after: Option<(String, i64)> = None;
    let mut read_at: Option<String> = None;
    loop {
        let read = client
            .search_read(
                "account.move",
                page_domain(Some(base.clone()), &start, after.as_ref()),
                &["invoice_origin", "write_date"],
                page_opts,
            )
            .await;
        let rows = match read {
            Ok(rows) => rows,
            Err(e) if e.is_unavailable() => {
                tracing::error!(error = %e, "Failed to read Odoo's changed invoices");
                summary
                    .odoo_unreachable
                    .get_or_insert_with(|| e.to_string());
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        if read_at.is_none() {
            read_at = odoo_now(client);
        }
        let mut names: Vec<String> = Vec::new();
        let mut last = None;
        for v in &rows {
            let r = Record(v);
            if let Some(origin) = r.opt_str("invoice_origin").ok().flatten() {
                names.extend(origin.split(',').map(|n| n.trim().to_string()));
            }
            if let (Ok(id), Ok(w)) = (r.id(), r.string("write_date")) {
                last = Some((w, id));
            }
        }
        names.sort();
        names.dedup();
        let odoo_ids = store.odoo_ids_by_number(&names)?;
        let local = store.sync_rows_for(&odoo_ids)?;
        let fetched = if local.is_empty() {
            Ok(OdooChunk::new())
        } else {
            fetch(client, odoo_ids, opts.batch.max(local.len()), true).await
        };
        if let Err(e) = &fetched {
            tracing::error!(error = %e, "Failed to read the orders of Odoo's changed invoices");
            if e.is_unavailable() {
                summary
                    .odoo_unreachable
                    .get_or_insert_with(|| e.to_string());
            }
            return Ok(());
        }
        let (mut results, writes) = compare_chunk(&local, &fetched, &opts);
        if !opts.dry_run {
            let from = cursor.clone().unwrap_or(Cursor {
                write_date: String::new(),
                odoo_id: 0,
                read_at: None,
            });
            let moved = read_cursor(&from, last.as_ref(), read_at.clone());
            let skipped = store.apply_sync_and_cursor(&writes, Some((INVOICES, &moved)))?;
            superseded(&mut results, &skipped);
        }
        summary.found += local.len() as u64;
        tally(summary, &results, opts.dry_run, on_event);
        if rows.len() < opts.batch {
            return Ok(());
        }
        after = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::changes::leaf;

    #[test]
    fn the_next_page_starts_strictly_after_the_last_row_seen() {
        let d = page_domain(
            None,
            &Start::Since("2026-11-22 11:00:00".into()),
            Some(&("2026-11-22 11:20:47".into(), 10381)),
        );
        assert_eq!(
            d.to_json().to_string(),
            r#"["|",["write_date",">","2026-11-22 11:20:47"],"&",["write_date","=","2026-11-22 11:20:47"],["id",">",10381]]"#
        );
    }

    #[test]
    fn a_partners_pages_and_their_keyset_are_one_domain() {
        let d = page_domain(
            Some(leaf("partner_id", "in", Value::ints(&[9]))),
            &Start::After("2026-11-22 11:20:47".into(), 7),
            None,
        );
        assert_eq!(
            d.to_json().to_string(),
            r#"["&",["partner_id","in",[9]],"|",["write_date",">","2026-11-22 11:20:47"],"&",["write_date","=","2026-11-22 11:20:47"],["id",">",7]]"#
        );
    }

    fn cursor(read_at: Option<&str>) -> Cursor {
        Cursor {
            write_date: "2026-11-22 11:20:47".into(),
            odoo_id: 7,
            read_at: read_at.map(str::to_string),
        }
    }

    #[test]
    fn a_cursor_read_long_after_its_last_change_starts_after_it() {
        let c = cursor(Some("2026-11-22 11:40:00"));
        assert_eq!(
            c.start(Duration::from_secs(300)),
            Start::After("2026-11-22 11:20:47".into(), 7)
        );
    }

    #[test]
    fn a_cursor_read_within_the_overlap_re_reads_behind_odoos_clock() {
        let c = cursor(Some("2026-11-22 11:22:00"));
        assert_eq!(
            c.start(Duration::from_secs(300)),
            Start::Since("2026-11-22 11:17:00".into())
        );
    }

    #[test]
    fn without_odoos_clock_the_cursor_less_the_overlap() {
        assert_eq!(
            cursor(None).start(Duration::from_secs(300)),
            Start::Since("2026-11-22 11:15:47".into())
        );
    }
}
