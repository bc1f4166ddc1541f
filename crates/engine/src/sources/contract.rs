//! The contract between sync and a kind of source: what a source's [`Pull`] reads from and
//! writes to ([`SyncCtx`]: the window, where the last sync left off ([`Resume`]), the sink of
//! batches and marks ([`Sink`]), the counters ([`Meter`]), cancellation), what it reports
//! ([`SourceSummary`], [`SyncFailure`], [`SyncEvent`]) and the options it runs under
//! ([`SyncOptions`]). It lives here, beside the kinds, so a source depends on nothing of
//! `sync`; `sync` only orchestrates (and re-exports these for its callers).
//!
//! *Invariant every kind keeps:* marks go to the sink with the batches they cover, in one
//! write, so a mark is never ahead of its data.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::{BoxFuture, LocalBoxFuture};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::model::Batch;
use crate::store::{Store, SyncMarks, WriteStats};
use crate::time::Millis;
use crate::Result;

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
        kind: crate::sources::SourceKind,
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
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct SourceSummary {
    /// Source name.
    pub source: String,
    /// Kind.
    pub kind: crate::sources::SourceKind,
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
    /// Things a fleet screen where the data lies covered (Athena; 0 for other kinds).
    #[ts(as = "crate::ts::Count")]
    pub things_screened: u64,
    /// Things the screen kept as candidates.
    #[ts(as = "crate::ts::Count")]
    pub candidates: u64,
    /// Queries run where the data lies.
    #[ts(as = "crate::ts::Count")]
    pub queries: u64,
    /// Bytes those queries scanned.
    #[ts(as = "crate::ts::Count")]
    pub bytes_scanned: u64,
    /// What they cost (Athena: $5 per TB scanned, 10 MB at least per query).
    pub cost_usd: f64,
    /// Colleagues' changes read back from Security Hub into case history (states and notes).
    #[ts(as = "crate::ts::Count")]
    pub hub_changes: u64,
}

impl SourceSummary {
    /// Nothing done yet, of `source`.
    pub fn new(source: &str, kind: crate::sources::SourceKind) -> Self {
        Self {
            source: source.to_string(),
            kind,
            ok: false,
            objects_fetched: 0,
            bytes: 0,
            events: 0,
            list_calls: 0,
            datapoints: 0,
            violation_events: 0,
            audit_checks: 0,
            audit_findings: 0,
            skipped: 0,
            unchanged: 0,
            recovered: Default::default(),
            warnings: Vec::new(),
            things_screened: 0,
            candidates: 0,
            queries: 0,
            bytes_scanned: 0,
            cost_usd: 0.0,
            hub_changes: 0,
        }
    }
}

/// Receives progress events.
pub type Progress = Arc<dyn Fn(SyncEvent) + Send + Sync>;

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

    /// Checks the connection: its health, plainly (an `Err` is turned into one by
    /// [`Health::of`]).
    fn test(&self) -> LocalBoxFuture<'_, Result<Health>>;

    /// Reads one thing's recent data into `store` (a source without a per-thing index says so),
    /// `thing` its bare name (as the source knows it), written under `scope`; `cancel` stops it with [`crate::Error::Cancelled`] (what was written stays consistent).
    fn drill_down<'a>(
        &'a self,
        store: &'a mut Store,
        thing: &'a str,
        scope: &'a crate::model::scope::Scope,
        summary: &'a mut SourceSummary,
        cancel: &'a CancellationToken,
    ) -> LocalBoxFuture<'a, Result<()>>;
}

/// `work`, or [`crate::Error::Cancelled`] as soon as `cancel` fires (`work` is dropped between
/// two of its awaits; each of its writes is one transaction).
pub(crate) async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(crate::Error::Cancelled),
        r = work => r,
    }
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

impl SyncCtx<'_> {
    /// Records that one unit (an object, a window, a task) failed; the pull carries on.
    pub(crate) fn fail(&mut self, object: &str, error: impl Into<super::SourceError>) {
        let error = error.into();
        self.failures.push(SyncFailure {
            source: self.name.to_string(),
            kind: error.kind,
            object: Some(object.to_string()),
            error: error.message,
        });
    }
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
    pub(crate) fn new(source: &str, progress: Progress) -> Self {
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

/// Where a source's last sync left off.
#[derive(Default)]
pub(crate) struct Resume {
    /// End of the covered violation-event windows.
    pub(crate) violation_events: Option<Millis>,
    /// End of the covered Splunk windows.
    pub(crate) splunk_events: Option<Millis>,
    /// The newest `UpdatedAt` of the Security Hub findings read.
    pub(crate) hub_findings: Option<Millis>,
    /// The cache's Security Hub findings, for the read-back (a security-hub source's only).
    pub(crate) hub_seen: Vec<crate::store::HubSeen>,
    /// End of the S3 windows listed and read without a failure.
    pub(crate) s3_listing: Option<Millis>,
    /// S3 objects (and finished audit tasks) already read: key → ETag or status.
    pub(crate) ledger: std::collections::HashMap<String, String>,
}

/// How a source's connection check went (`ddesk sources test`, the app's *Test*): like
/// Grafana's `CheckHealth`, a status to branch on, a message for people and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Health {
    /// Ok, usable with a caveat, or not usable.
    pub status: HealthStatus,
    /// What was found, plainly.
    pub message: String,
    /// What to do about it, when something is to be done.
    pub hint: Option<String>,
    /// The kind of failure (status `error`), typed where it arose.
    pub kind: Option<crate::sources::SourceErrorKind>,
}

/// A health's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Reachable and readable.
    Ok,
    /// Reachable, with something to look at (an empty prefix, Detect not available).
    Warn,
    /// Not usable as configured.
    Error,
}

impl Health {
    /// All is well.
    pub fn ok(message: impl Into<String>) -> Self {
        Self {
            status: HealthStatus::Ok,
            message: message.into(),
            hint: None,
            kind: None,
        }
    }

    /// Usable, with `hint` on what to look at.
    pub fn warn(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            status: HealthStatus::Warn,
            message: message.into(),
            hint: Some(hint.into()),
            kind: None,
        }
    }

    /// The health a check's result says: its own, or an error with the hint its kind calls for.
    pub fn of(result: Result<Health>) -> Self {
        match result {
            Ok(h) => h,
            Err(crate::Error::Source(e)) => Self {
                status: HealthStatus::Error,
                hint: Some(hint(e.kind).into()),
                kind: Some(e.kind),
                message: e.message,
            },
            Err(e) => Self {
                status: HealthStatus::Error,
                message: e.to_string(),
                hint: None,
                kind: None,
            },
        }
    }
}

/// What to do about a failure of `kind`.
fn hint(kind: crate::sources::SourceErrorKind) -> &'static str {
    use crate::sources::SourceErrorKind::*;
    match kind {
        Throttled => "the service is slowing requests down: try again in a minute (the watch backs off by itself)",
        AccessDenied => "the credentials work but lack a permission: grant the one the message names (README's IAM policy) to the role or user",
        NotSubscribed => "this account cannot use the service (Device Defender Detect closed to new accounts on 31 Aug 2026): read device reports instead",
        Credentials => "the credentials or token are missing, expired or wrong: check the profile (aws sso login, AWS_PROFILE) or store a new token",
        NotFound => "check the name: bucket, prefix, index, region or endpoint",
        Tls => "the server's certificate is not trusted: give its CA with --ca-bundle (Splunk) or fix the endpoint's certificate",
        Network => "the server could not be reached: check the URL or endpoint, the port, a proxy or the VPN",
        Stuck => "the source answered too slowly: check the network, or raise the deadline",
        Data => "what the source holds could not be read: check that the source points at Device Defender data",
        Service => "the service failed on its side: try again, or check its status page",
    }
}
