//! Sync: every configured source read concurrently into the cache — incrementally, with progress
//! events, cancellable, and crash-safe.
//!
//! One writer thread owns the cache connection; sources send it parsed batches together with the
//! marks that cover them (an S3 object's key and ETag, an audit task done, a window of violation
//! events or Splunk events read), written in one transaction ([`Store::write_synced`]). A mark is
//! therefore never ahead of its data, and re-reading data is harmless (the cache keeps the highest
//! `version` per datapoint and keys every other record), so a sync killed at any moment and run
//! again ends with the same cache as one that was never interrupted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::model::parse::Context;
use crate::model::{Batch, DocKind};
use crate::secrets::SecretStore;
use crate::sources::defender::{self, DefenderSource};
use crate::sources::s3::{self, S3Source};
use crate::sources::splunk::SplunkSource;
use crate::sources::{self, Source, SourceSettings};
use crate::store::{ObjectMark, Store, SyncMarks, Watermark, WriteStats};
use crate::time::Millis;
use crate::{Error, Result};

const DAY: Millis = 86_400_000;
const HOUR: Millis = 3_600_000;

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
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            from: None,
            to: None,
            concurrency: 8,
            limits: Default::default(),
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
        done: u64,
        /// Units known in all (0 when unknown).
        total: u64,
        /// Bytes fetched.
        bytes: u64,
        /// Events or records read.
        events: u64,
        /// Datapoints written.
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
    pub objects_fetched: u64,
    /// Bytes fetched.
    pub bytes: u64,
    /// Splunk events or API records read.
    pub events: u64,
    /// Datapoints written.
    pub datapoints: u64,
    /// Violation events written.
    pub violation_events: u64,
    /// Audit check results written.
    pub audit_checks: u64,
    /// Audit findings written.
    pub audit_findings: u64,
    /// Objects skipped: error-output prefixes, Firehose failure records.
    pub skipped: u64,
    /// Already in the cache, not fetched again.
    pub unchanged: u64,
    /// Warnings (Detect unavailable, Splunk WARN messages).
    pub warnings: Vec<String>,
}

/// The JSON summary `ddesk sync` prints.
#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
pub struct SyncSummary {
    /// S3 objects fetched.
    pub objects_fetched: u64,
    /// Datapoints written.
    pub datapoints: u64,
    /// Violation events written.
    pub violation_events: u64,
    /// Audit findings written.
    pub audit_findings: u64,
    /// Objects skipped (error outputs).
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

    async fn write(
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
        tokio::task::spawn_blocking(move || tx.send(job))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|_| "the cache writer stopped".to_string())?;
        rx.await
            .map_err(|_| "the cache writer stopped".to_string())?
    }
}

/// Shared counters of one source, reported as progress.
struct Meter {
    source: String,
    progress: Progress,
    started: Instant,
    done: AtomicU64,
    total: AtomicU64,
    bytes: AtomicU64,
    events: AtomicU64,
    datapoints: AtomicU64,
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

    fn report(&self) {
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

fn add_stats(s: &mut SourceSummary, stats: &[WriteStats]) {
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
        return Err(Error::InvalidInput(
            "no source is configured: add one with `ddesk sources add s3|splunk|defender`".into(),
        ));
    }
    // Secrets are read up front, on this thread: keychains may prompt.
    let mut tokens = std::collections::HashMap::new();
    for s in &chosen {
        if matches!(s.settings, SourceSettings::Splunk(_)) {
            tokens.insert(s.name.clone(), splunk_token(secrets, &s.name));
        }
    }
    let mut resumes = std::collections::HashMap::new();
    for s in &chosen {
        resumes.insert(
            s.name.clone(),
            Resume {
                violation_events: store.watermark(&s.name, "violation-events")?,
                splunk_events: store.watermark(&s.name, "splunk-events")?,
                ledger: store.ledger(&s.name)?,
            },
        );
    }
    let (writer, handle) = Writer::start(db.to_path_buf())?;
    let now = crate::time::now();
    let futures = chosen.into_iter().map(|source| {
        let writer = writer.clone();
        let progress = progress.clone();
        let cancel = cancel.clone();
        let token = tokens.remove(&source.name);
        let resume = resumes.remove(&source.name).unwrap_or_default();
        async move {
            let mut summary = SourceSummary {
                source: source.name.clone(),
                kind: source.settings.kind().to_string(),
                ..SourceSummary::default()
            };
            progress(SyncEvent::SourceStarted {
                source: source.name.clone(),
                kind: summary.kind.clone(),
            });
            let meter = Meter::new(&source.name, progress.clone());
            let mut failures = Vec::new();
            let to = options.to.unwrap_or(now);
            let result = match &source.settings {
                SourceSettings::S3(s) => {
                    let from = options.from.unwrap_or(to - 14 * DAY);
                    sync_s3(
                        &source.name,
                        s,
                        from,
                        to,
                        options,
                        &resume.ledger,
                        &writer,
                        &meter,
                        &cancel,
                        &mut summary,
                        &mut failures,
                    )
                    .await
                }
                SourceSettings::Defender(d) => {
                    sync_defender(
                        &source.name,
                        d,
                        options.from,
                        to,
                        resume.violation_events,
                        &resume.ledger,
                        &writer,
                        &meter,
                        &cancel,
                        &mut summary,
                        &mut failures,
                    )
                    .await
                }
                SourceSettings::Splunk(s) => match token {
                    Some(Ok(token)) => {
                        let from = options
                            .from
                            .or(resume.splunk_events.map(|w| w - HOUR))
                            .unwrap_or(to - 14 * DAY);
                        match SplunkSource::connect(s, token) {
                            Ok(client) => {
                                sync_splunk(
                                    &source.name,
                                    s,
                                    &client,
                                    from,
                                    to,
                                    &writer,
                                    &meter,
                                    &cancel,
                                    &mut summary,
                                )
                                .await
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err(format!("source {:?}: its token was not read", source.name)),
                },
            };
            meter.report();
            if let Err(error) = &result {
                failures.push(SyncFailure {
                    source: source.name.clone(),
                    object: None,
                    error: error.clone(),
                });
            }
            summary.ok = failures.is_empty() && !cancel.is_cancelled();
            progress(SyncEvent::SourceFinished {
                source: source.name.clone(),
                ok: summary.ok,
                error: result.err(),
            });
            (summary, failures)
        }
    });
    let results = futures_util::future::join_all(futures).await;
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

/// Where a source's last sync left off.
#[derive(Default)]
struct Resume {
    /// End of the covered violation-event windows.
    violation_events: Option<Millis>,
    /// End of the covered Splunk windows.
    splunk_events: Option<Millis>,
    /// S3 objects (and finished audit tasks) already read: key → ETag or status.
    ledger: std::collections::HashMap<String, String>,
}

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

#[allow(clippy::too_many_arguments)]
async fn sync_s3(
    name: &str,
    settings: &sources::S3Settings,
    from: Millis,
    to: Millis,
    options: &SyncOptions,
    ledger: &std::collections::HashMap<String, String>,
    writer: &Writer,
    meter: &Meter,
    cancel: &CancellationToken,
    summary: &mut SourceSummary,
    failures: &mut Vec<SyncFailure>,
) -> std::result::Result<(), String> {
    let client = S3Source::connect(settings).await;
    let ctx = &Context {
        limits: options.limits,
        ..Context::now()
    };
    let listed = tokio::select! {
        r = client.list(from, to) => r.map_err(|e| e.to_string())?,
        () = cancel.cancelled() => return Ok(()),
    };
    let mut todo = Vec::new();
    let mut skipped = Vec::new();
    for obj in listed {
        if ledger.get(&obj.key) == Some(&obj.etag) {
            summary.unchanged += 1;
        } else if obj.error_output {
            skipped.push(obj);
        } else {
            todo.push(obj);
        }
    }
    if !skipped.is_empty() {
        summary.skipped += skipped.len() as u64;
        let marks = SyncMarks {
            objects: skipped
                .iter()
                .map(|o| ObjectMark {
                    source: name.to_string(),
                    key: o.key.clone(),
                    etag: o.etag.clone(),
                    size: o.size,
                    outcome: "skipped",
                    detail: Some("Firehose error output: not metrics".into()),
                })
                .collect(),
            ..SyncMarks::default()
        };
        writer.write(Vec::new(), marks).await?;
    }
    meter.total.store(todo.len() as u64, Ordering::Relaxed);
    meter.report();
    let client = &client;
    let mut results = futures_util::stream::iter(todo.into_iter().map(|obj| async move {
        let out = async {
            let s3::Fetched { parsed, etag, size } = client
                .fetch_parsed(&obj.key, ctx)
                .await
                .map_err(|e| e.to_string())?;
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
        let mark = |outcome, etag: String, size, detail| ObjectMark {
            source: name.to_string(),
            key: obj.key.clone(),
            etag,
            size,
            outcome,
            detail,
        };
        match out {
            Err(error) => failures.push(SyncFailure {
                source: name.to_string(),
                object: Some(obj.key.clone()),
                error,
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
                    object: Some(obj.key.clone()),
                    error,
                });
            }
            Ok(Fetched::Parsed { batch, etag, size }) => {
                meter.bytes.fetch_add(size as u64, Ordering::Relaxed);
                let failure_only = batch.points.is_empty()
                    && batch.documents.contains_key(&DocKind::FirehoseFailure);
                let outcome = if failure_only { "skipped" } else { "ingested" };
                if failure_only {
                    summary.skipped += 1;
                } else {
                    summary.objects_fetched += 1;
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
                        object: Some(obj.key.clone()),
                        error: error.clone(),
                    });
                }
                let marks = SyncMarks {
                    objects: vec![mark(outcome, etag, size, refused)],
                    ..SyncMarks::default()
                };
                if !batch.future.is_empty() {
                    summary.warnings.push(format!(
                        "{}: {} datapoints dated after now + 1 h set aside (first: {} {} at {})",
                        obj.key,
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
                        object: Some(obj.key.clone()),
                        error,
                    }),
                }
            }
        }
        meter.report();
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sync_defender(
    name: &str,
    settings: &sources::DefenderSettings,
    from: Option<Millis>,
    to: Millis,
    watermark: Option<Millis>,
    ledger: &std::collections::HashMap<String, String>,
    writer: &Writer,
    meter: &Meter,
    cancel: &CancellationToken,
    summary: &mut SourceSummary,
    failures: &mut Vec<SyncFailure>,
) -> std::result::Result<(), String> {
    let api = DefenderSource::connect(settings).await;
    let fail = |failures: &mut Vec<SyncFailure>, object: &str, error: String| {
        failures.push(SyncFailure {
            source: name.to_string(),
            object: Some(object.to_string()),
            error,
        })
    };
    // Detect: profiles, active violations, violation events by day (30 days kept by AWS).
    let mut detect = true;
    match api.security_profiles().await {
        Ok(batch) => {
            meter
                .events
                .fetch_add(batch.profiles.len() as u64, Ordering::Relaxed);
            let stats = writer.write(vec![batch], SyncMarks::default()).await?;
            add_stats(summary, &stats);
        }
        Err(e) if defender::detect_unavailable(&e) => {
            detect = false;
            summary.warnings.push(format!(
                "Detect is not available to this account or identity: {e}"
            ));
        }
        Err(e) => fail(failures, "security-profiles", e.to_string()),
    }
    if detect && !cancel.is_cancelled() {
        match api.active_violations().await {
            Ok(batch) => {
                meter
                    .events
                    .fetch_add(batch.active_violations.len() as u64, Ordering::Relaxed);
                let stats = writer.write(vec![batch], SyncMarks::default()).await?;
                add_stats(summary, &stats);
            }
            Err(e) => fail(failures, "active-violations", e.to_string()),
        }
        let start = from
            .or(watermark.map(|w| w - HOUR))
            .unwrap_or(to - 30 * DAY)
            .max(to - 30 * DAY);
        let mut slice = start;
        let slices = ((to - start) + DAY - 1) / DAY;
        meter
            .total
            .fetch_add(slices.max(0) as u64, Ordering::Relaxed);
        while slice < to && !cancel.is_cancelled() {
            let end = (slice + DAY).min(to);
            match api.violation_events(slice, end).await {
                Ok(batch) => {
                    meter
                        .events
                        .fetch_add(batch.violation_events.len() as u64, Ordering::Relaxed);
                    let marks = SyncMarks {
                        watermarks: vec![Watermark {
                            source: name.to_string(),
                            stream: "violation-events".into(),
                            from: slice,
                            to: end,
                        }],
                        ..SyncMarks::default()
                    };
                    let stats = writer.write(vec![batch], marks).await?;
                    add_stats(summary, &stats);
                }
                Err(e) => {
                    fail(
                        failures,
                        &format!(
                            "violation-events {}..{}",
                            crate::time::to_rfc3339(slice),
                            crate::time::to_rfc3339(end)
                        ),
                        e.to_string(),
                    );
                    // Later windows would leave a hole behind the watermark: stop here.
                    break;
                }
            }
            meter.done.fetch_add(1, Ordering::Relaxed);
            meter.report();
            slice = end;
        }
        // Detect mitigation history of the same window: what AWS ran on which violation.
        if !cancel.is_cancelled() {
            match api.detect_mitigations(start, to).await {
                Ok(batch) => {
                    let stats = writer.write(vec![batch], SyncMarks::default()).await?;
                    add_stats(summary, &stats);
                }
                Err(e) => fail(failures, "detect-mitigation-tasks", e.to_string()),
            }
        }
    }
    // Audit: tasks of the window (90 days kept), each read whole once it has finished.
    if cancel.is_cancelled() {
        return Ok(());
    }
    let audit_from = from.unwrap_or(to - 90 * DAY).max(to - 90 * DAY + HOUR);
    let tasks = api
        .audit_tasks(audit_from, to)
        .await
        .map_err(|e| e.to_string())?;
    meter.total.fetch_add(tasks.len() as u64, Ordering::Relaxed);
    for (task, status) in tasks {
        if cancel.is_cancelled() {
            break;
        }
        let key = format!("audit-task/{task}");
        if ledger.get(&key) == Some(&status) {
            summary.unchanged += 1;
            meter.done.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match api.audit_task(&task).await {
            Ok(batch) => {
                meter.events.fetch_add(
                    (batch.audit_checks.len() + batch.findings.len()) as u64,
                    Ordering::Relaxed,
                );
                let finished = matches!(status.as_str(), "COMPLETED" | "FAILED" | "CANCELED");
                let marks = SyncMarks {
                    objects: if finished {
                        vec![ObjectMark {
                            source: name.to_string(),
                            key,
                            etag: status,
                            size: 0,
                            outcome: "ingested",
                            detail: None,
                        }]
                    } else {
                        Vec::new()
                    },
                    ..SyncMarks::default()
                };
                let stats = writer.write(vec![batch], marks).await?;
                add_stats(summary, &stats);
            }
            Err(e) => fail(failures, &key, e.to_string()),
        }
        meter.done.fetch_add(1, Ordering::Relaxed);
        meter.report();
    }
    // Audit mitigation history of the same window; a finished task is read once.
    if !cancel.is_cancelled() {
        let unchanged = |id: &str, status: &str| {
            ledger
                .get(&format!("audit-mitigation/{id}"))
                .is_some_and(|s| s == status)
        };
        match api.audit_mitigations(audit_from, to, unchanged).await {
            Ok(batch) => {
                let objects = batch
                    .mitigation_tasks
                    .iter()
                    .filter_map(|t| {
                        let status = t.status.clone()?;
                        matches!(status.as_str(), "COMPLETED" | "FAILED" | "CANCELED").then(|| {
                            ObjectMark {
                                source: name.to_string(),
                                key: format!("audit-mitigation/{}", t.task_id),
                                etag: status,
                                size: 0,
                                outcome: "ingested",
                                detail: None,
                            }
                        })
                    })
                    .collect();
                let marks = SyncMarks {
                    objects,
                    ..SyncMarks::default()
                };
                let stats = writer.write(vec![batch], marks).await?;
                add_stats(summary, &stats);
            }
            Err(e) => fail(failures, "audit-mitigation-tasks", e.to_string()),
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sync_splunk(
    name: &str,
    settings: &sources::SplunkSettings,
    client: &SplunkSource,
    from: Millis,
    to: Millis,
    writer: &Writer,
    meter: &Meter,
    cancel: &CancellationToken,
    summary: &mut SourceSummary,
) -> std::result::Result<(), String> {
    let spl = sources::splunk::events_query(settings, None).map_err(|e| e.to_string())?;
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
            let export = client.export(&spl, slice, end, 5000, async |batch: Batch, rows| {
                meter.events.fetch_add(rows, Ordering::Relaxed);
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
                Err(e) if write_err.is_some() => return Err(e.message),
                Err(e) if e.retryable && attempt < 5 => {
                    let wait = Duration::from_millis(300 << attempt);
                    tracing::warn!(source = name, error = %e.message, ?wait, "Splunk export failed; running it again");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(format!(
                        "{} (window {}..{}, attempt {attempt})",
                        e.message,
                        crate::time::to_rfc3339(slice),
                        crate::time::to_rfc3339(end)
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

/// A Splunk source's token from the keychain, or an error that says what to do.
fn splunk_token(secrets: &dyn SecretStore, source: &str) -> Result<crate::secrets::Secret> {
    secrets.get(source)?.ok_or_else(|| {
        Error::Secrets(format!(
            "no Splunk token in the OS keychain for source {source:?}: remove and add the source again to store one"
        ))
    })
}

/// Checks a source's connection and says what is wrong, plainly.
pub async fn test_source(source: &Source, secrets: &dyn SecretStore) -> Result<String> {
    match &source.settings {
        SourceSettings::S3(s) => S3Source::connect(s).await.test().await,
        SourceSettings::Defender(d) => DefenderSource::connect(d).await.test().await,
        SourceSettings::Splunk(s) => {
            let token = splunk_token(secrets, &source.name)?;
            SplunkSource::connect(s, token)?.test().await
        }
    }
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
    let to = crate::time::now();
    match &source.settings {
        SourceSettings::S3(_) => {
            return Err(Error::InvalidInput(format!(
                "source {:?} is S3, which has no per-thing index: run `ddesk sync` for a window",
                source.name
            )))
        }
        SourceSettings::Defender(d) => {
            let api = DefenderSource::connect(d).await;
            let mut store = Store::open(db)?;
            let groups = api.thing_groups(thing).await?;
            store.set_thing_groups(thing, &groups)?;
            let certs = api.thing_certificates(thing).await?;
            store.set_thing_certificates(thing, &certs)?;
            // Each (metric, dimension) a behavior watches: the dimensioned values are their
            // own series, never the plain one.
            let metrics: std::collections::BTreeSet<(String, Option<String>)> = store
                .thresholds(None)?
                .into_iter()
                .filter_map(|t| Some((t.metric?, t.dimension)))
                .collect();
            for (metric, dim) in metrics {
                let dim = dim
                    .map(|k| crate::model::Dimension::parse(&k))
                    .transpose()
                    .map_err(Error::InvalidInput)?;
                let batch = api
                    .metric_values(thing, &metric, dim.as_ref(), to - 14 * DAY, to)
                    .await?;
                let stats = store.write_batch(&batch)?;
                add_stats(&mut summary, &[stats]);
            }
        }
        SourceSettings::Splunk(s) => {
            let token = splunk_token(secrets, &source.name)?;
            let client = SplunkSource::connect(s, token)?;
            let spl = sources::splunk::events_query(s, Some(thing))?;
            let mut store = Store::open(db)?;
            let mut written = Vec::new();
            let stats = client
                .export(
                    &spl,
                    to - 14 * DAY,
                    to,
                    5000,
                    async |batch: Batch, _rows| {
                        store
                            .write_batch(&batch)
                            .map(|s| written.push(s))
                            .map_err(|e| e.to_string())
                    },
                )
                .await
                .map_err(|e| Error::Source(e.message))?;
            summary.events = stats.rows;
            summary.warnings = stats.warnings;
            add_stats(&mut summary, &written);
        }
    }
    summary.ok = true;
    Ok(summary)
}
