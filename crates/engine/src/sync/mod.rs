//! Sync: every configured source read concurrently into the cache — incrementally, with progress
//! events, cancellable, and crash-safe.
//!
//! One writer thread owns the cache connection; sources send it parsed batches together with the
//! marks that cover them (an S3 object's key and ETag, an audit task done, a window of violation
//! events or Splunk events read), written in one transaction ([`Store::write_synced`]). A mark is
//! therefore never ahead of its data, and re-reading data is harmless (the cache keeps the highest
//! `version` per datapoint and keys every other record), so a sync killed at any moment and run
//! again ends with the same cache as one that was never interrupted.
//!
//! Each kind of source pulls behind the [`Pull`] trait, in its own module under
//! [`crate::sources`] (`sources::s3::pull`, …); what they share — the writer ([`Sink`]), the counters ([`Meter`]), where the last
//! sync left off ([`Resume`]), the summary and failures — travels in one [`SyncCtx`]. The
//! orchestration ([`run_pulls`]) is unit-tested against in-memory fakes of both traits; the
//! tests against moto and the emulators are the end-to-end proof.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::{BoxFuture, LocalBoxFuture};
use serde::Serialize;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::model::Batch;
use crate::secrets::SecretStore;
use crate::sources::{self, Source};
use crate::store::{Store, SyncMarks, WriteStats};
use crate::time::Millis;
use crate::{Error, Result};

pub(crate) use crate::time::{DAY, HOUR};

/// The stream whose watermark says how far an S3 source was listed and read without a failure:
/// a sync without `--from` lists from an hour before it (Firehose keys objects by the hour
/// they were written), so a sync that brings nothing new lists a day or two of partitions,
/// not the whole retention.
pub(crate) const S3_LISTING: &str = "s3-listing";

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Source names; empty = all configured sources.
    pub sources: Vec<String>,
    /// Window start; default: where the last sync of each stream ended (less an hour of
    /// overlap for late arrivals), or the source's retention on the first sync.
    pub from: Option<Millis>,
    /// Window end; default: now.
    pub to: Option<Millis>,
    /// S3 objects fetched at once.
    pub concurrency: usize,
    /// Caps on each object (inflated bytes, datapoints).
    pub limits: crate::model::limits::ObjectLimits,
    /// The longest one source's pull may take (`None`: no deadline). Past it the source is
    /// reported stuck and stopped — what it wrote stays, with its marks — while the others
    /// carry on: a server that trickles bytes keeps no other source waiting.
    pub deadline: Option<std::time::Duration>,
}

/// The deadline of one source's sync on the watch (`ddesk watch --source-deadline`, the app's
/// `DDESK_SOURCE_DEADLINE`): 10 minutes, twice the default interval.
pub const DEFAULT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            from: None,
            to: None,
            concurrency: 8,
            limits: Default::default(),
            deadline: None,
        }
    }
}

/// Progress, as the CLI prints it and the UI shows it.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A source began.
    SourceStarted {
        /// Source name.
        source: String,
        /// Kind.
        kind: String,
    },
    /// Counters of a source so far.
    Progress {
        /// Source name.
        source: String,
        /// Units (objects, pages, slices) done.
        #[ts(as = "crate::ts::Count")]
        done: u64,
        /// Units known in all (0 when unknown).
        #[ts(as = "crate::ts::Count")]
        total: u64,
        /// Bytes fetched.
        #[ts(as = "crate::ts::Count")]
        bytes: u64,
        /// Events or records read.
        #[ts(as = "crate::ts::Count")]
        events: u64,
        /// Datapoints written.
        #[ts(as = "crate::ts::Count")]
        datapoints: u64,
        /// Bytes per second so far.
        bytes_per_sec: f64,
        /// Estimated seconds left, when the total is known.
        eta_secs: Option<f64>,
    },
    /// A source finished.
    SourceFinished {
        /// Source name.
        source: String,
        /// Whether it finished without errors.
        ok: bool,
        /// The source-level error, if it failed as a whole.
        error: Option<String>,
    },
}

/// A failure inside a sync: a whole source or one object.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct SyncFailure {
    /// Source name.
    pub source: String,
    /// What kind of failure, typed where the error arose: the watch backs off, marks a source
    /// throttled or stuck, from this — never from `error`'s text.
    pub kind: crate::sources::SourceErrorKind,
    /// Object key (or task, window) when one unit failed.
    pub object: Option<String>,
    /// What went wrong.
    pub error: String,
}

/// One source's part of a sync.
#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
pub struct SourceSummary {
    /// Source name.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Finished without errors.
    pub ok: bool,
    /// Objects (S3) fetched and read.
    #[ts(as = "crate::ts::Count")]
    pub objects_fetched: u64,
    /// Bytes fetched.
    #[ts(as = "crate::ts::Count")]
    pub bytes: u64,
    /// Splunk events or API records read.
    #[ts(as = "crate::ts::Count")]
    pub events: u64,
    /// Listing requests made (S3 ListObjectsV2 pages): what a sync that brings nothing new
    /// costs.
    #[ts(as = "crate::ts::Count")]
    pub list_calls: u64,
    /// Datapoints written.
    #[ts(as = "crate::ts::Count")]
    pub datapoints: u64,
    /// Violation events written.
    #[ts(as = "crate::ts::Count")]
    pub violation_events: u64,
    /// Audit check results written.
    #[ts(as = "crate::ts::Count")]
    pub audit_checks: u64,
    /// Audit findings written.
    #[ts(as = "crate::ts::Count")]
    pub audit_findings: u64,
    /// Objects skipped: error-output prefixes, Firehose failure records.
    #[ts(as = "crate::ts::Count")]
    pub skipped: u64,
    /// Already in the cache, not fetched again.
    #[ts(as = "crate::ts::Count")]
    pub unchanged: u64,
    /// Records recovered from Firehose error outputs (`processing-failed`,
    /// `format-conversion-failed`, `splunk-failed`), by kind.
    #[ts(as = "std::collections::BTreeMap<String, crate::ts::Count>")]
    pub recovered: std::collections::BTreeMap<String, u64>,
    /// Warnings (Detect unavailable, Splunk WARN messages).
    pub warnings: Vec<String>,
}

/// The JSON summary `ddesk sync` prints.
#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
pub struct SyncSummary {
    /// S3 objects fetched.
    #[ts(as = "crate::ts::Count")]
    pub objects_fetched: u64,
    /// Datapoints written.
    #[ts(as = "crate::ts::Count")]
    pub datapoints: u64,
    /// Violation events written.
    #[ts(as = "crate::ts::Count")]
    pub violation_events: u64,
    /// Audit findings written.
    #[ts(as = "crate::ts::Count")]
    pub audit_findings: u64,
    /// Objects skipped (error outputs).
    #[ts(as = "crate::ts::Count")]
    pub skipped: u64,
    /// Everything that failed.
    pub errors: Vec<SyncFailure>,
    /// Whether the sync was cancelled.
    pub cancelled: bool,
    /// Per source.
    pub sources: Vec<SourceSummary>,
}

impl SyncSummary {
    /// Whether anything failed or the sync was cancelled.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() || self.cancelled
    }
}

/// Receives progress events.
pub type Progress = Arc<dyn Fn(SyncEvent) + Send + Sync>;

struct Job {
    batches: Vec<Batch>,
    marks: SyncMarks,
    reply: oneshot::Sender<std::result::Result<Vec<WriteStats>, String>>,
}

/// The single writer: a thread that owns the cache connection.
#[derive(Clone)]
struct Writer {
    tx: std::sync::mpsc::SyncSender<Job>,
}

impl Writer {
    fn start(db: PathBuf) -> Result<(Self, std::thread::JoinHandle<()>)> {
        let mut store = Store::open(&db)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(4);
        let handle = std::thread::Builder::new()
            .name("sync-writer".into())
            .spawn(move || {
                for job in rx {
                    let refs: Vec<&Batch> = job.batches.iter().collect();
                    let result = store
                        .write_synced(&refs, &job.marks)
                        .map_err(|e| e.to_string());
                    let _ = job.reply.send(result);
                }
            })
            .map_err(|source| Error::Io {
                path: "sync writer thread".into(),
                source,
            })?;
        Ok((Self { tx }, handle))
    }

    async fn send(
        &self,
        batches: Vec<Batch>,
        marks: SyncMarks,
    ) -> std::result::Result<Vec<WriteStats>, String> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.clone();
        let job = Job {
            batches,
            marks,
            reply,
        };
        // The unsent job is dropped in the blocking task, not carried back.
        tokio::task::spawn_blocking(move || tx.send(job).map_err(drop))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|()| "the cache writer stopped".to_string())?;
        rx.await
            .map_err(|_| "the cache writer stopped".to_string())?
    }
}

impl Sink for Writer {
    fn write(
        &self,
        batches: Vec<Batch>,
        marks: SyncMarks,
    ) -> BoxFuture<'_, std::result::Result<Vec<WriteStats>, String>> {
        Box::pin(self.send(batches, marks))
    }
}

/// Where pulled data goes: batches written with the marks that cover them, in one
/// transaction (the cache's writer thread; an in-memory fake in the unit tests).
pub(crate) trait Sink: Send + Sync {
    /// Writes `batches` and `marks` together; the per-batch counts, or why it failed.
    fn write(
        &self,
        batches: Vec<Batch>,
        marks: SyncMarks,
    ) -> BoxFuture<'_, std::result::Result<Vec<WriteStats>, String>>;
}

/// One kind of source as sync drives it: reads the window of [`SyncCtx`] into its sink,
/// counting in its meter and summary, listing failed units in its failures, stopping at the
/// next unit when cancelled. `Err` is a failure of the whole source. The pulls of one sync run
/// concurrently on one task (`join_all`), so their futures need not be `Send`.
pub(crate) trait Pull: Send + Sync {
    /// Pulls the source.
    fn pull<'a>(
        &'a self,
        ctx: &'a mut SyncCtx<'_>,
    ) -> LocalBoxFuture<'a, std::result::Result<(), crate::sources::SourceError>>;

    /// Checks the connection and says what is wrong, plainly.
    fn test(&self) -> LocalBoxFuture<'_, Result<String>>;

    /// Reads one thing's recent data into `store` (a source without a per-thing index says so).
    fn drill_down<'a>(
        &'a self,
        store: &'a mut Store,
        thing: &'a str,
        summary: &'a mut SourceSummary,
    ) -> LocalBoxFuture<'a, Result<()>>;
}

/// What one source's pull reads from and writes to.
pub(crate) struct SyncCtx<'a> {
    /// Source name.
    pub name: &'a str,
    /// Window start as asked (`None`: resume, or the source's retention).
    pub from: Option<Millis>,
    /// Window end.
    pub to: Millis,
    /// The sync's options (concurrency, object limits).
    pub options: &'a SyncOptions,
    /// Where the last sync of this source left off.
    pub resume: &'a Resume,
    /// Where data goes.
    pub sink: &'a dyn Sink,
    /// Progress counters.
    pub meter: &'a Meter,
    /// Stops the pull at the next unit.
    pub cancel: &'a CancellationToken,
    /// Counts so far.
    pub summary: SourceSummary,
    /// Units that failed (the rest carried on).
    pub failures: Vec<SyncFailure>,
}

/// Shared counters of one source, reported as progress.
pub(crate) struct Meter {
    source: String,
    progress: Progress,
    started: Instant,
    pub(crate) done: AtomicU64,
    pub(crate) total: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) datapoints: AtomicU64,
}

impl Meter {
    fn new(source: &str, progress: Progress) -> Self {
        Self {
            source: source.to_string(),
            progress,
            started: Instant::now(),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            events: AtomicU64::new(0),
            datapoints: AtomicU64::new(0),
        }
    }

    pub(crate) fn report(&self) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        let bytes = self.bytes.load(Ordering::Relaxed);
        let eta = (total > 0 && done > 0 && done <= total)
            .then(|| secs / done as f64 * (total - done) as f64);
        (self.progress)(SyncEvent::Progress {
            source: self.source.clone(),
            done,
            total,
            bytes,
            events: self.events.load(Ordering::Relaxed),
            datapoints: self.datapoints.load(Ordering::Relaxed),
            bytes_per_sec: bytes as f64 / secs,
            eta_secs: eta,
        });
    }
}

/// Parser notes kept per source summary (its `warnings`); the rest are dropped.
pub(crate) const MAX_NOTES: usize = 20;

/// Adds parser notes (how device reports were dated) to `into`, up to [`MAX_NOTES`], once each.
pub(crate) fn keep_notes(into: &mut Vec<String>, notes: &[String]) {
    for n in notes {
        if into.len() >= MAX_NOTES {
            break;
        }
        if !into.contains(n) {
            into.push(n.clone());
        }
    }
}

pub(crate) fn add_stats(s: &mut SourceSummary, stats: &[WriteStats]) {
    for w in stats {
        s.datapoints += w.datapoints;
        s.violation_events += w.violation_events;
        s.audit_checks += w.audit_checks;
        s.audit_findings += w.audit_findings;
    }
}

/// Runs a sync of the cache at `db`. Sources run concurrently; a failing source or object is
/// reported and the others carry on. Cancelling stops at the next unit boundary; what was
/// written stays consistent.
pub async fn sync(
    db: &Path,
    options: &SyncOptions,
    secrets: &dyn SecretStore,
    progress: Progress,
    cancel: CancellationToken,
) -> Result<SyncSummary> {
    // One read connection for what the sync starts from and the runs it records at the end;
    // the writer thread has its own.
    let store = Store::open(db)?;
    let all = sources::list(&store)?;
    let chosen: Vec<Source> = if options.sources.is_empty() {
        all
    } else {
        let mut v = Vec::new();
        for name in &options.sources {
            match all.iter().find(|s| &s.name == name) {
                Some(s) => v.push(s.clone()),
                None => {
                    return Err(Error::NotFound(format!(
                        "no source named {name:?} (see `ddesk sources list`)"
                    )))
                }
            }
        }
        v
    };
    if chosen.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no source is configured: add one with `ddesk sources add {}`",
            sources::SourceKind::names().join("|")
        )));
    }
    // Secrets are read up front, on this thread: keychains may prompt.
    let mut jobs = Vec::new();
    for source in chosen {
        let resume = Resume {
            violation_events: store.watermark(&source.name, "violation-events")?,
            splunk_events: store.watermark(&source.name, "splunk-events")?,
            s3_listing: store.watermark(&source.name, S3_LISTING)?,
            ledger: store.ledger(&source.name)?,
        };
        let pull = puller(&source, secrets).map_err(|e| match e {
            Error::Source(s) => s,
            Error::Secrets(m) => {
                crate::sources::SourceError::new(crate::sources::SourceErrorKind::Credentials, m)
            }
            other => crate::sources::SourceError::service(other.to_string()),
        });
        jobs.push(PullJob {
            kind: source.settings.kind().to_string(),
            name: source.name,
            resume,
            pull,
        });
    }
    let (writer, handle) = Writer::start(db.to_path_buf())?;
    let to = options.to.unwrap_or_else(crate::time::now);
    let results = run_pulls(jobs, options, to, &writer, progress, &cancel).await;
    drop(writer);
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
    let mut out = SyncSummary {
        cancelled: cancel.is_cancelled(),
        ..SyncSummary::default()
    };
    for (s, failures) in results {
        out.objects_fetched += s.objects_fetched;
        out.datapoints += s.datapoints;
        out.violation_events += s.violation_events;
        out.audit_findings += s.audit_findings;
        out.skipped += s.skipped;
        let json = serde_json::json!({ "summary": &s, "errors": &failures });
        store.record_sync_run(&s.source, s.ok, &json)?;
        out.errors.extend(failures);
        out.sources.push(s);
    }
    Ok(out)
}

/// The puller of a source's kind, with its keychain secret when the kind keeps one (read now:
/// keychains may prompt).
fn puller(source: &Source, secrets: &dyn SecretStore) -> Result<Box<dyn Pull>> {
    let secret = match source.settings.secret() {
        Some(what) => Some(
            crate::secrets::get_bound(
                secrets,
                &source.name,
                &source.settings.secret_server().unwrap_or_default(),
            )?
            .ok_or_else(|| {
            Error::Secrets(format!(
                "no {what} in the OS keychain for source {:?}: remove and add the source again to store one",
                source.name
            ))
            })?,
        ),
        None => None,
    };
    source.settings.puller(secret)
}

/// One source to pull: where it left off, and its puller (or why there is none).
pub(crate) struct PullJob {
    /// Source name.
    pub name: String,
    /// Its kind, as the summary says it.
    pub kind: String,
    /// Where its last sync left off.
    pub resume: Resume,
    /// Its puller, or why none could be made (a missing token).
    pub pull: std::result::Result<Box<dyn Pull>, crate::sources::SourceError>,
}

/// Pulls every job concurrently into `sink`: a source's failure is its own (the others carry
/// on), each source starts and finishes with a progress event, and a cancelled sync marks no
/// source ok. Returns each source's summary and failures, in the jobs' order.
pub(crate) async fn run_pulls(
    jobs: Vec<PullJob>,
    options: &SyncOptions,
    to: Millis,
    sink: &dyn Sink,
    progress: Progress,
    cancel: &CancellationToken,
) -> Vec<(SourceSummary, Vec<SyncFailure>)> {
    let futures = jobs.into_iter().map(|job| {
        let progress = progress.clone();
        async move {
            progress(SyncEvent::SourceStarted {
                source: job.name.clone(),
                kind: job.kind.clone(),
            });
            let meter = Meter::new(&job.name, progress.clone());
            let mut ctx = SyncCtx {
                name: &job.name,
                from: options.from,
                to,
                options,
                resume: &job.resume,
                sink,
                meter: &meter,
                cancel,
                summary: SourceSummary {
                    source: job.name.clone(),
                    kind: job.kind.clone(),
                    ..SourceSummary::default()
                },
                failures: Vec::new(),
            };
            let result = match (&job.pull, options.deadline) {
                (Ok(p), None) => p.pull(&mut ctx).await,
                (Ok(p), Some(deadline)) => {
                    match tokio::time::timeout(deadline, p.pull(&mut ctx)).await {
                        Ok(r) => r,
                        Err(_) => Err(crate::sources::SourceError::new(
                            crate::sources::SourceErrorKind::Stuck,
                            format!(
                                "stuck: its sync did not finish within {deadline:?}, the deadline (the server kept the connection open without finishing); what it read before is kept, the rest is read next time"
                            ),
                        )),
                    }
                }
                (Err(e), _) => Err(e.clone()),
            };
            let SyncCtx {
                mut summary,
                mut failures,
                ..
            } = ctx;
            meter.report();
            if let Err(error) = &result {
                failures.push(SyncFailure {
                    source: job.name.clone(),
                    kind: error.kind,
                    object: None,
                    error: error.message.clone(),
                });
            }
            summary.ok = failures.is_empty() && !cancel.is_cancelled();
            progress(SyncEvent::SourceFinished {
                source: job.name.clone(),
                ok: summary.ok,
                error: result.err().map(|e| e.message),
            });
            (summary, failures)
        }
    });
    futures_util::future::join_all(futures).await
}

/// Where a source's last sync left off.
#[derive(Default)]
pub(crate) struct Resume {
    /// End of the covered violation-event windows.
    pub(crate) violation_events: Option<Millis>,
    /// End of the covered Splunk windows.
    pub(crate) splunk_events: Option<Millis>,
    /// End of the S3 windows listed and read without a failure.
    pub(crate) s3_listing: Option<Millis>,
    /// S3 objects (and finished audit tasks) already read: key → ETag or status.
    pub(crate) ledger: std::collections::HashMap<String, String>,
}

/// Checks a source's connection and says what is wrong, plainly.
pub async fn test_source(source: &Source, secrets: &dyn SecretStore) -> Result<String> {
    puller(source, secrets)?.test().await
}

/// A thing's drill-down. From the Device Defender API: its thing groups and, for every metric a
/// behavior watches, its values of the last 14 days (ListMetricValues). From Splunk: its events
/// of the last 14 days (`where thing="..."`, the name validated and quoted). S3 has no per-thing
/// index: sync the window instead.
pub async fn drill_down(
    db: &Path,
    source: &Source,
    thing: &str,
    secrets: &dyn SecretStore,
) -> Result<SourceSummary> {
    sources::splunk::validate_thing(thing)?;
    let mut summary = SourceSummary {
        source: source.name.clone(),
        kind: source.settings.kind().into(),
        ..SourceSummary::default()
    };
    let pull = puller(source, secrets)?;
    pull.drill_down(&mut Store::open(db)?, thing, &mut summary)
        .await
        .map_err(|e| match e {
            Error::InvalidInput(m) => Error::InvalidInput(format!("source {:?}: {m}", source.name)),
            other => other,
        })?;
    summary.ok = true;
    Ok(summary)
}

#[cfg(test)]
mod tests;
