//! `orders sync-amounts` and `orders sync-status`: the sync pipeline (`flows::sync`) under
//! the run lock, after the outbox's flush, recorded in the run history.

use super::Context;
use crate::error::Error;
use crate::flows::outbox::{DEFAULT_BATCH, FlushSettings, flush_first};
use crate::flows::sync::{
    Event, Selection, StatusReport, Summary, SyncOptions, run_recorded, selected_pipeline,
};

/// `orders sync-amounts` (and `--changed`): what waits in the outbox first (said in the
/// report), then the pipeline the selection calls for, recorded in the run history.
pub(crate) async fn run(
    ctx: &Context,
    opts: SyncOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, Error> {
    if opts.batch == 0 || opts.concurrency == 0 {
        return Err(Error::Usage(
            "--batch-size and --concurrency must be at least 1".into(),
        ));
    }
    // The Odoo settings first, even when there turns out to be nothing to do: a cron job
    // that finds no settings must fail, not report an empty success every hour.
    let client = ctx.odoo()?;
    let _lock = ctx.run_lock()?;
    // `--changed` runs every few minutes and touches a few rows: it skips the whole-file page
    // check (a tenth of a second at 100,000 orders, most of its run), leaving damage to
    // SQLite's own checks of the pages it reads and writes, and to the nightly full run.
    let store = match opts.selection {
        Selection::Changed => ctx.store_unverified()?,
        _ => ctx.store()?,
    };
    let flushed = if opts.dry_run {
        None
    } else {
        flush_first(
            &store,
            &client,
            &FlushSettings {
                max_change: opts.max_change,
                ..FlushSettings::of(ctx, DEFAULT_BATCH)?
            },
        )
        .await
    };
    let overlap = ctx.settings.change_overlap()?;
    // A dry run changes nothing, so it is no run to report.
    if opts.dry_run {
        return selected_pipeline(&store, &client, opts, overlap, on_event).await;
    }
    let mut summary = run_recorded(&store, &client, opts, overlap, on_event).await?;
    summary.flushed = flushed;
    Ok(summary)
}

/// The batches and parallel requests of `sync-status`.
const STATUS_BATCH: usize = 1000;
const STATUS_CONCURRENCY: usize = 4;

/// `orders sync-status`: every selected order's status from Odoo's state.
pub(crate) async fn sync_status(
    ctx: &Context,
    selection: Selection,
) -> Result<StatusReport, Error> {
    let opts = SyncOptions {
        selection,
        dry_run: false,
        batch: STATUS_BATCH,
        concurrency: STATUS_CONCURRENCY,
        amounts: false,
        status: true,
        max_change: Default::default(),
        status_words: ctx.settings.status_words()?,
        details: ctx.settings.order_details()?,
    };
    let mut report = StatusReport::default();
    let summary = run(ctx, opts, &mut |e| {
        if let Event::Order(r) = e {
            report.add(r);
        }
    })
    .await?;
    report.odoo_problem = summary.odoo_garbled.or(summary.odoo_unreachable);
    if let Some(reason) = &report.odoo_problem {
        tracing::error!(error = %reason, "Odoo failed during the status sync");
    }
    Ok(report)
}
