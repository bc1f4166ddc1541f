//! Pulling an S3 bucket of Firehose objects (metrics exports, Detect alerts, device reports,
//! lifecycle events, run together, gzip or not).

use futures_util::StreamExt as _;

use crate::model::parse::Context;
use crate::sources::s3::{self, S3Source};
use crate::store::ObjectMark;
use std::sync::atomic::Ordering;

use futures_util::future::LocalBoxFuture;

use crate::model::Batch;
use crate::sources::contract::{
    add_stats, Meter, Pull, Sink, SourceSummary, SyncCtx, SyncFailure, S3_LISTING,
};
use crate::sources::{self, SourceError, SourceErrorKind};
use crate::store::{SyncMarks, Watermark};
use crate::time::{DAY, HOUR};

/// What became of one S3 object.
enum Fetched {
    Parsed {
        batch: Box<Batch>,
        etag: String,
        size: i64,
    },
    Corrupt {
        error: String,
        etag: String,
        size: i64,
    },
}

/// An S3 bucket Firehose delivers to: objects listed by hour partition, each read once per
/// ETag (the ledger), error-output prefixes recovered, a corrupt object reported by key.
pub(super) struct S3Pull(pub(super) sources::S3Settings);

impl Pull for S3Pull {
    fn pull<'a>(&'a self, ctx: &'a mut SyncCtx<'_>) -> LocalBoxFuture<'a, Result<(), SourceError>> {
        Box::pin(pull(&self.0, ctx))
    }

    fn test(&self) -> LocalBoxFuture<'_, crate::Result<crate::sources::contract::Health>> {
        Box::pin(async move { S3Source::connect(&self.0).await.test().await })
    }

    fn drill_down<'a>(
        &'a self,
        _store: &'a mut crate::store::Store,
        _thing: &'a str,
        _scope: &'a crate::model::scope::Scope,
        _summary: &'a mut crate::sources::contract::SourceSummary,
        _cancel: &'a tokio_util::sync::CancellationToken,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(async {
            Err(crate::Error::InvalidInput(
                "it is S3, which has no per-thing index: run `ddesk sync` for a window".into(),
            ))
        })
    }
}

async fn pull(settings: &sources::S3Settings, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    let (name, options, writer, meter, cancel) =
        (ctx.name, ctx.options, ctx.sink, ctx.meter, ctx.cancel);
    let to = ctx.to;
    let from = ctx
        .from
        .or(ctx.resume.s3_listing.map(|w| (w - HOUR).min(to - HOUR)))
        .unwrap_or(to - 14 * DAY);
    let ledger = &ctx.resume.ledger;
    let summary = &mut ctx.summary;
    let failures = &mut ctx.failures;
    let client = S3Source::connect(settings).await;
    let ctx = &Context {
        limits: options.limits,
        carries: settings.carries.clone(),
        ..Context::now()
    };
    let listed = tokio::select! {
        r = client.list(from, to) => r,
        () = cancel.cancelled() => return Ok(()),
    };
    summary.list_calls = client.list_requests();
    let listed = listed?;
    // Error-output objects are read like the others: their records' rawData is the only copy
    // of what the delivery or transform failed on (recovered, and counted by kind).
    let mut todo = Vec::new();
    for obj in listed {
        if ledger.get(&obj.key) == Some(&obj.etag) {
            summary.unchanged += 1;
        } else {
            todo.push(obj);
        }
    }
    meter.total.store(todo.len() as u64, Ordering::Relaxed);
    meter.report();
    let client = &client;
    let mut results = futures_util::stream::iter(todo.into_iter().map(|obj| async move {
        let out: Result<Fetched, SourceError> = async {
            let s3::Fetched { parsed, etag, size } = client
                .fetch_parsed(&obj.key, ctx)
                .await
                .map_err(SourceError::from)?;
            Ok(match parsed {
                Ok(batch) => Fetched::Parsed {
                    batch: Box::new(batch),
                    etag,
                    size,
                },
                Err(e) => Fetched::Corrupt {
                    error: e.to_string(),
                    etag,
                    size,
                },
            })
        }
        .await;
        (obj, out)
    }))
    .buffer_unordered(options.concurrency.max(1));
    loop {
        let next = tokio::select! {
            n = results.next() => n,
            () = cancel.cancelled() => break,
        };
        let Some((obj, out)) = next else { break };
        meter.done.fetch_add(1, Ordering::Relaxed);
        keep_object(name, writer, meter, (summary, failures), &obj.key, out).await?;
        meter.report();
    }
    // The window was listed and every object in it read: the next sync without `--from` starts
    // an hour before its end. Not after a failure (the failed object is listed again) nor a
    // cancel (the rest was never read).
    if failures.is_empty() && !cancel.is_cancelled() {
        let marks = SyncMarks {
            watermarks: vec![Watermark {
                source: name.to_string(),
                stream: S3_LISTING.into(),
                from,
                to,
            }],
            ..SyncMarks::default()
        };
        writer.write(Vec::new(), marks).await?;
    }
    Ok(())
}

/// Keeps what one object gave — its batch and ledger mark in one write, its refused records,
/// notes and future-dated points named — or records why it failed.
async fn keep_object(
    name: &str,
    writer: &dyn Sink,
    meter: &Meter,
    (summary, failures): (&mut SourceSummary, &mut Vec<SyncFailure>),
    key: &str,
    out: Result<Fetched, SourceError>,
) -> Result<(), SourceError> {
    let mark = |outcome, etag: String, size, detail| ObjectMark {
        source: name.to_string(),
        key: key.to_string(),
        etag,
        size,
        outcome,
        detail,
    };
    match out {
        Err(error) => failures.push(SyncFailure {
            source: name.to_string(),
            kind: error.kind,
            object: Some(key.to_string()),
            error: error.message,
        }),
        Ok(Fetched::Corrupt { error, etag, size }) => {
            // The whole object arrived and does not parse: record it, so it is reported once
            // and not fetched again until it changes.
            meter.bytes.fetch_add(size as u64, Ordering::Relaxed);
            let marks = SyncMarks {
                objects: vec![mark("rejected", etag, size, Some(error.clone()))],
                ..SyncMarks::default()
            };
            writer.write(Vec::new(), marks).await?;
            failures.push(SyncFailure {
                source: name.to_string(),
                kind: SourceErrorKind::Data,
                object: Some(key.to_string()),
                error,
            });
        }
        Ok(Fetched::Parsed { batch, etag, size }) => {
            meter.bytes.fetch_add(size as u64, Ordering::Relaxed);
            let outcome = "ingested";
            summary.objects_fetched += 1;
            for (kind, n) in &batch.recovered {
                *summary.recovered.entry(kind.clone()).or_default() += n;
            }
            summary.bytes += size as u64;
            meter
                .events
                .fetch_add(batch.documents.values().sum::<u64>(), Ordering::Relaxed);
            // Records refused in an object whose others are kept: named once as a failure
            // (the object is not fetched again until it changes).
            let refused = batch.bad_records.first().map(|first| {
                format!(
                    "{} record(s) refused, the rest kept (first: {first})",
                    batch.bad_records_total
                )
            });
            if let Some(error) = &refused {
                failures.push(SyncFailure {
                    source: name.to_string(),
                    kind: SourceErrorKind::Data,
                    object: Some(key.to_string()),
                    error: error.clone(),
                });
            }
            let marks = SyncMarks {
                objects: vec![mark(outcome, etag, size, refused)],
                ..SyncMarks::default()
            };
            // How its device reports were dated (a report id that disagreed with the
            // object's arrival), named by the object.
            let notes: Vec<String> = batch
                .notes
                .iter()
                .map(|n| format!("{}: {n}", key))
                .collect();
            crate::sources::contract::keep_notes(&mut summary.warnings, &notes);
            if !batch.future.is_empty() {
                summary.warnings.push(format!(
                    "{}: {} datapoints dated after now + 1 h set aside (first: {} {} at {})",
                    key,
                    batch.future.len(),
                    batch.future[0].thing,
                    batch.future[0].metric,
                    crate::time::to_rfc3339(batch.future[0].ts)
                ));
            }
            match writer.write(vec![*batch], marks).await {
                Ok(stats) => {
                    add_stats(summary, &stats);
                    meter
                        .datapoints
                        .store(summary.datapoints, Ordering::Relaxed);
                }
                Err(error) => failures.push(SyncFailure {
                    source: name.to_string(),
                    kind: SourceErrorKind::Service,
                    object: Some(key.to_string()),
                    error,
                }),
            }
        }
    }
    Ok(())
}
