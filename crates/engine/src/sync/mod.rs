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

use futures_util::future::BoxFuture;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::model::scope::Scope;
use crate::model::Batch;
use crate::secrets::SecretStore;
use crate::sources::{self, Source, SourceSettings};
use crate::store::{Store, SyncMarks, WriteStats};
use crate::time::Millis;
use crate::{Error, Result};

pub use crate::sources::contract::{
    Health, HealthStatus, Progress, SourceSummary, SyncEvent, SyncFailure, SyncOptions,
    DEFAULT_DEADLINE,
};
pub(crate) use crate::sources::contract::{Meter, Pull, Resume, Sink, SyncCtx, S3_LISTING};

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
    let mut store = Store::open(db)?;
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
            hub_findings: store.watermark(&source.name, sources::securityhub::STREAM)?,
            hub_seen: if source.settings.source_kind() == sources::SourceKind::SecurityHub {
                store.hub_seen()?
            } else {
                Vec::new()
            },
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
        let scope = source_scope(&mut store, &source).await?;
        jobs.push(PullJob {
            kind: source.settings.source_kind(),
            name: source.name,
            resume,
            pull,
            scope,
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
    /// Its kind.
    pub kind: crate::sources::SourceKind,
    /// Where its last sync left off.
    pub resume: Resume,
    /// Its puller, or why none could be made (a missing token).
    pub pull: std::result::Result<Box<dyn Pull>, crate::sources::SourceError>,
    /// The account and region of the things it brings (see [`source_scope`]).
    pub scope: Scope,
}

/// The scope a source's data is written under: the analyst's statement, else — for a Device
/// Defender API source — the account and region its credentials act in (STS, recorded as
/// learned; when STS cannot be asked, what was learned before), else unknown. The first time a
/// cache's only source learns or states its account, the cache's things of unknown account
/// take it ([`Store::assign_unknown`]): they can only have come from that source or from files.
pub(crate) async fn source_scope(store: &mut Store, source: &Source) -> Result<Scope> {
    let mut scope = source.scope.clone();
    if source.account_from.as_deref() != Some("stated") {
        if let SourceSettings::Defender(d) = &source.settings {
            match crate::sources::aws::caller_scope(&d.aws).await {
                Ok(learned) => {
                    store.learn_source_scope(&source.name, &learned)?;
                    scope = learned;
                }
                Err(e) => tracing::warn!(source = %source.name, "account not learned: {e}"),
            }
        }
    }
    if scope.is_known() && store.sources()?.len() == 1 && !store.has_scoped_things()? {
        let n = store.assign_unknown(&scope)?;
        if n > 0 {
            tracing::info!(source = %source.name, things = n, %scope, "things of unknown account assigned to the cache's only source's");
        }
    }
    Ok(scope)
}

/// A sink that writes a source's batches and marks under its scope (a Security Hub finding's
/// own account, kept in its batch's hub references, still wins record by record).
struct Scoped<'a> {
    inner: &'a dyn Sink,
    scope: &'a Scope,
}

impl Sink for Scoped<'_> {
    fn write(
        &self,
        mut batches: Vec<Batch>,
        mut marks: SyncMarks,
    ) -> BoxFuture<'_, std::result::Result<Vec<WriteStats>, String>> {
        for b in &mut batches {
            if !b.scope.is_known() {
                b.scope = self.scope.clone();
            }
        }
        if !marks.scope.is_known() {
            marks.scope = self.scope.clone();
        }
        self.inner.write(batches, marks)
    }
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
                kind: job.kind,
            });
            let meter = Meter::new(&job.name, progress.clone());
            let sink = Scoped {
                inner: sink,
                scope: &job.scope,
            };
            let sink: &dyn Sink = &sink;
            let mut ctx = SyncCtx {
                name: &job.name,
                from: options.from,
                to,
                options,
                resume: &job.resume,
                sink,
                meter: &meter,
                cancel,
                summary: SourceSummary::new(&job.name, job.kind),
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

/// Checks a source's connection: its health, with what to do when it is not ok (a source that
/// cannot even be set up — its secret missing — is an error health too).
pub async fn test_source(source: &Source, secrets: &dyn SecretStore) -> Health {
    let pull = match puller(source, secrets) {
        Ok(p) => p,
        Err(e) => return Health::of(Err(e)),
    };
    Health::of(pull.test().await)
}

/// A thing's drill-down. From the Device Defender API: its thing groups and, for every metric a
/// behavior watches, its values of the last 14 days (ListMetricValues). From Splunk: its events
/// of the last 14 days (`where thing="..."`, the name validated and quoted). S3 has no per-thing
/// index: sync the window instead.
///
/// `thing` is the stored key: a thing of a known account is read only through a source of that
/// account (and region); what is read is written under the thing's scope, or the source's.
pub async fn drill_down(
    db: &Path,
    source: &Source,
    thing: &str,
    secrets: &dyn SecretStore,
    cancel: &CancellationToken,
) -> Result<SourceSummary> {
    let key = crate::model::scope::ThingKey::parse(thing);
    sources::splunk::validate_thing(key.name)?;
    let mut store = Store::open(db)?;
    let source_scope = match source_scope(&mut store, source).await {
        Ok(s) => s,
        Err(_) => source.scope.clone(),
    };
    let scope = if key.account.is_some() {
        key.scope()
    } else {
        source_scope.clone()
    };
    if let (Some(a), Some(b)) = (key.account, source_scope.account.as_deref()) {
        let regions_differ =
            matches!((key.region, source_scope.region.as_deref()), (Some(x), Some(y)) if x != y);
        if a != b || regions_differ {
            return Err(Error::InvalidInput(format!(
                "{} belongs to {}; source {:?} reads {}: drill down through a source of its account",
                key.name,
                key.scope(),
                source.name,
                source_scope
            )));
        }
    }
    let mut summary = SourceSummary::new(&source.name, source.settings.source_kind());
    let pull = puller(source, secrets)?;
    pull.drill_down(&mut store, key.name, &scope, &mut summary, cancel)
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
