//! Pulling a Splunk index (the REST search API's export endpoint).

use std::time::Duration;

use crate::sources::splunk::SplunkSource;
use std::sync::atomic::Ordering;

use futures_util::future::LocalBoxFuture;

use crate::model::Batch;
use crate::sources::contract::{add_stats, Pull, SourceSummary, SyncCtx};
use crate::sources::{self, SourceError};
use crate::store::{Store, SyncMarks, Watermark};
use crate::time::{DAY, HOUR};

/// A Splunk index through the REST export endpoint, one day per search, resumed from the last
/// window read (less an hour for late arrivals).
pub(super) struct SplunkPull {
    pub(super) settings: sources::SplunkSettings,
    pub(super) token: crate::secrets::Secret,
}

impl SplunkPull {
    fn client(&self) -> crate::Result<SplunkSource> {
        SplunkSource::connect(&self.settings, self.token.clone())
    }
}

impl Pull for SplunkPull {
    fn pull<'a>(&'a self, ctx: &'a mut SyncCtx<'_>) -> LocalBoxFuture<'a, Result<(), SourceError>> {
        Box::pin(async move {
            let client = self.client().map_err(SourceError::from)?;
            pull(&self.settings, &client, ctx).await
        })
    }

    fn test(&self) -> LocalBoxFuture<'_, crate::Result<crate::sources::contract::Health>> {
        Box::pin(async move { self.client()?.test().await })
    }

    fn drill_down<'a>(
        &'a self,
        store: &'a mut Store,
        thing: &'a str,
        scope: &'a crate::model::scope::Scope,
        summary: &'a mut SourceSummary,
        cancel: &'a tokio_util::sync::CancellationToken,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(crate::sources::contract::unless_cancelled(
            cancel,
            async move {
                let to = crate::time::now();
                let client = self.client()?;
                let spl = sources::splunk::events_query(&self.settings, Some(thing))?;
                let mut written = Vec::new();
                let stats = client
                    .export(
                        &spl,
                        to - 14 * DAY,
                        to,
                        5000,
                        async |mut batch: Batch, _rows| {
                            batch.scope = scope.clone();
                            store
                                .write_batch(&batch)
                                .map(|s| written.push(s))
                                .map_err(|e| e.to_string())
                        },
                    )
                    .await
                    .map_err(|e| {
                        crate::Error::Source(crate::sources::SourceError::new(e.kind, e.message))
                    })?;
                summary.events = stats.rows;
                summary.warnings = stats.warnings;
                add_stats(summary, &written);
                Ok(())
            },
        ))
    }
}

async fn pull(
    settings: &sources::SplunkSettings,
    client: &SplunkSource,
    ctx: &mut SyncCtx<'_>,
) -> Result<(), SourceError> {
    let (name, writer, meter, cancel) = (ctx.name, ctx.sink, ctx.meter, ctx.cancel);
    let to = ctx.to;
    let from = ctx
        .from
        .or(ctx.resume.splunk_events.map(|w| w - HOUR))
        .unwrap_or(to - 14 * DAY);
    let summary = &mut ctx.summary;
    let spl = sources::splunk::events_query(settings, None).map_err(SourceError::from)?;
    let slices = ((to - from) + DAY - 1) / DAY;
    meter.total.store(slices.max(0) as u64, Ordering::Relaxed);
    let mut slice = from;
    while slice < to {
        let end = (slice + DAY).min(to);
        let mut attempt = 0u32;
        loop {
            if cancel.is_cancelled() {
                return Ok(());
            }
            attempt += 1;
            // The newest batch is held back and written with the slice's watermark.
            let mut held: Option<Batch> = None;
            let mut written = Vec::new();
            let mut write_err = None;
            let mut notes: Vec<String> = Vec::new();
            let export = client.export(&spl, slice, end, 5000, async |batch: Batch, rows| {
                meter.events.fetch_add(rows, Ordering::Relaxed);
                crate::sources::contract::keep_notes(&mut notes, &batch.notes);
                if let Some(prev) = held.replace(batch) {
                    match writer.write(vec![prev], SyncMarks::default()).await {
                        Ok(s) => written.extend(s),
                        Err(e) => {
                            write_err = Some(e.clone());
                            return Err(e);
                        }
                    }
                }
                Ok(())
            });
            let result = tokio::select! {
                r = export => r,
                () = cancel.cancelled() => return Ok(()),
            };
            add_stats(summary, &written);
            crate::sources::contract::keep_notes(&mut summary.warnings, &notes);
            match result {
                Ok(stats) => {
                    summary.events += stats.rows;
                    summary.warnings.extend(stats.warnings);
                    if stats.rejected > 0 {
                        summary.warnings.push(format!(
                            "{} Splunk event(s) of {}..{} could not be parsed; first: {}",
                            stats.rejected,
                            crate::time::to_rfc3339(slice),
                            crate::time::to_rfc3339(end),
                            stats.row_errors.first().cloned().unwrap_or_default()
                        ));
                    }
                    let marks = SyncMarks {
                        watermarks: vec![Watermark {
                            source: name.to_string(),
                            stream: "splunk-events".into(),
                            from: slice,
                            to: end,
                        }],
                        ..SyncMarks::default()
                    };
                    let stats = writer
                        .write(held.take().into_iter().collect(), marks)
                        .await?;
                    add_stats(summary, &stats);
                    meter
                        .datapoints
                        .store(summary.datapoints, Ordering::Relaxed);
                    break;
                }
                Err(e) if write_err.is_some() => return Err(SourceError::new(e.kind, e.message)),
                Err(e) if e.retryable && attempt < 5 => {
                    let wait = Duration::from_millis(300 << attempt);
                    tracing::warn!(source = name, error = %e.message, ?wait, "Splunk export failed; running it again");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(SourceError::new(
                        e.kind,
                        format!(
                            "{} (window {}..{}, attempt {attempt})",
                            e.message,
                            crate::time::to_rfc3339(slice),
                            crate::time::to_rfc3339(end)
                        ),
                    ))
                }
            }
        }
        meter.done.fetch_add(1, Ordering::Relaxed);
        meter.report();
        slice = end;
    }
    Ok(())
}
