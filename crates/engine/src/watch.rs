//! Watching the fleet on a shift: what changed between two looks at the cache (things entering
//! or leaving alarm, new audit findings, triage scores crossing a threshold, colleagues'
//! actions), and when each source syncs next (its interval, backing off on errors).
//!
//! A look is a [`Snapshot`]; [`changes`] compares two. The sources' schedules are a [`Rota`];
//! [`sync_due`] syncs the due ones in turn and [`look`] tells what changed. Nothing here prints
//! or keeps state between rounds: `ddesk watch` and the app drive the same round (the app on its
//! own thread, pausable per source), so the logic is tested without servers (those tests make
//! it just over 600 lines; the code is about 500).

use crate::model::Severity;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use serde::Serialize;

use crate::analysis::triage;
use crate::cases;
use crate::store::Store;
use crate::time::Millis;
use crate::Result;

/// The triage score whose crossing is a change, by default.
pub const DEFAULT_THRESHOLD: f64 = 60.0;

/// How often each source syncs by default: Detect's granularity.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// The longest a failing source waits before it is tried again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// What the cache held at one look.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Violations in alarm: id → (thing, behavior).
    alarms: BTreeMap<String, (String, String)>,
    /// Audit findings: id → (check, severity, resource).
    findings: BTreeMap<String, (String, Option<Severity>, String)>,
    /// Triage scores (after investigation states), by thing.
    scores: HashMap<String, f64>,
    /// Colleagues' actions read back from the anchor: (cache, seq).
    colleagues: BTreeSet<(String, i64)>,
}

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A violation went into alarm.
    AlarmStarted,
    /// A violation left alarm.
    AlarmCleared,
    /// An audit finding appeared.
    Finding,
    /// A thing's triage score rose to the threshold or above.
    ScoreUp,
    /// A thing's triage score fell below the threshold.
    ScoreDown,
    /// A colleague acted (read back from the shared anchor).
    ColleagueAction,
}

/// One change between two looks.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(rename = "WatchChange")]
pub struct Change {
    /// When it was noticed, epoch ms.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub at: Millis,
    /// What kind.
    pub kind: ChangeKind,
    /// The thing (its name), when it is about one.
    pub thing: Option<String>,
    /// The thing's account, when known.
    pub account: Option<String>,
    /// Its region, when known.
    pub region: Option<String>,
    /// The key that opens it (the app's calls).
    pub key: Option<String>,
    /// For people, one line.
    pub what: String,
    /// The violation, finding or action it is about (id or `cache#seq`).
    pub id: Option<String>,
    /// A finding's severity.
    pub severity: Option<Severity>,
    /// A thing's triage score now.
    pub score: Option<f64>,
}

impl Snapshot {
    /// Looks at the cache now. `window` is triage's (its default when `None`).
    pub fn take(store: &Store) -> Result<Self> {
        let mut s = Self::default();
        for v in store.violations(None, true)? {
            s.alarms.insert(v.violation_id, (v.thing, v.behavior));
        }
        for f in store.findings(None, None)? {
            if f.suppressed {
                continue;
            }
            s.findings
                .insert(f.finding_id, (f.check, f.severity, f.resource));
        }
        if store.point_count()? > 0 {
            let ranked = triage::rank(store, triage::TriageOptions::default())?;
            let states = cases::thing_states(store)?;
            for r in cases::apply(ranked, &states) {
                s.scores.insert(r.ranked.thing, r.ranked.score);
            }
        }
        for c in crate::actions::anchor::colleagues(store)? {
            s.colleagues.insert((c.cache, c.seq));
        }
        Ok(s)
    }
}

/// What changed from `before` to `after`, at `now`: alarms started and cleared, new findings,
/// scores crossing `threshold` either way, and colleagues' actions; in that order, by thing.
pub fn changes(
    before: &Snapshot,
    after: &Snapshot,
    store: &Store,
    threshold: f64,
    now: Millis,
) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    use crate::model::scope::{name_of, ThingKey};
    let change = |kind, thing: Option<&str>, what: String, id: Option<&str>| Change {
        at: now,
        kind,
        thing: thing.map(|t| name_of(t).to_string()),
        account: thing
            .and_then(|t| ThingKey::parse(t).account)
            .map(String::from),
        region: thing
            .and_then(|t| ThingKey::parse(t).region)
            .map(String::from),
        key: thing.map(String::from),
        what,
        id: id.map(String::from),
        severity: None,
        score: None,
    };
    for (id, (thing, behavior)) in &after.alarms {
        if !before.alarms.contains_key(id) {
            out.push(change(
                ChangeKind::AlarmStarted,
                Some(thing),
                format!("{} went into alarm: {behavior}", name_of(thing)),
                Some(id),
            ));
        }
    }
    for (id, (thing, behavior)) in &before.alarms {
        if !after.alarms.contains_key(id) {
            out.push(change(
                ChangeKind::AlarmCleared,
                Some(thing),
                format!("{} left alarm: {behavior}", name_of(thing)),
                Some(id),
            ));
        }
    }
    for (id, (check, severity, resource)) in &after.findings {
        if before.findings.contains_key(id) {
            continue;
        }
        let mut c = change(
            ChangeKind::Finding,
            None,
            format!(
                "new {} audit finding: {check} on {resource}",
                severity.map(|s| s.as_str()).unwrap_or("unrated")
            ),
            Some(id),
        );
        c.severity = *severity;
        out.push(c);
    }
    let mut things: Vec<&String> = after.scores.keys().chain(before.scores.keys()).collect();
    things.sort();
    things.dedup();
    for thing in things {
        let (was, now_score) = (
            before.scores.get(thing).copied().unwrap_or(0.0),
            after.scores.get(thing).copied().unwrap_or(0.0),
        );
        let kind = if was < threshold && now_score >= threshold {
            ChangeKind::ScoreUp
        } else if was >= threshold && now_score < threshold {
            ChangeKind::ScoreDown
        } else {
            continue;
        };
        let mut c = change(
            kind,
            Some(thing),
            format!(
                "{}: triage score {was:.0} → {now_score:.0} (threshold {threshold:.0})",
                name_of(thing)
            ),
            None,
        );
        c.score = Some(now_score);
        out.push(c);
    }
    let fresh: Vec<&(String, i64)> = after.colleagues.difference(&before.colleagues).collect();
    if !fresh.is_empty() {
        for a in crate::actions::anchor::colleagues(store)? {
            if fresh.contains(&&(a.cache.clone(), a.seq)) {
                out.push(change(
                    ChangeKind::ColleagueAction,
                    a.thing.as_deref(),
                    format!(
                        "{} ({}) {} {}: {} — {}",
                        a.who,
                        a.os_user,
                        a.action,
                        name_of(a.thing.as_deref().unwrap_or("")),
                        a.reason,
                        a.status
                    ),
                    Some(&format!("{}#{}", a.cache, a.seq)),
                ));
            }
        }
    }
    Ok(out)
}

/// How one scheduled sync of one source went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// It went well.
    Ok,
    /// It failed: every error, said plainly, in one line, and its kind.
    Failed(Failure),
    /// It was cancelled (Ctrl-C, or the analyst's Cancel).
    Cancelled,
}

/// A failed sync of one source: every error in one line, and the kind that decides how the
/// watch treats it — throttled when any error was (the source is asked to slow down), else the
/// first error's kind (stuck, access denied, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Every error, said plainly.
    pub message: String,
    /// Its kind.
    pub kind: crate::sources::SourceErrorKind,
}

impl Failure {
    /// Whether the service asked us to slow down.
    pub fn throttled(&self) -> bool {
        self.kind == crate::sources::SourceErrorKind::Throttled
    }
}

/// Syncs the sources `names` of the cache at `db` together, quietly (no progress events): what
/// a watcher does when their time has come. They run concurrently behind one writer, each
/// within `deadline`, so one slow source starves no other. Each source's outcome, by name.
pub async fn sync_many(
    db: &std::path::Path,
    names: &[String],
    secrets: &dyn crate::secrets::SecretStore,
    cancel: tokio_util::sync::CancellationToken,
    deadline: Duration,
) -> Vec<(String, Synced)> {
    let options = crate::sync::SyncOptions {
        sources: names.to_vec(),
        deadline: Some(deadline),
        ..crate::sync::SyncOptions::default()
    };
    let quiet: crate::sync::Progress = std::sync::Arc::new(|_| {});
    match crate::sync::sync(db, &options, secrets, quiet, cancel).await {
        Ok(s) if s.cancelled => names
            .iter()
            .map(|n| (n.clone(), Synced::Cancelled))
            .collect(),
        Ok(s) => names
            .iter()
            .map(|n| {
                let errors: Vec<&crate::sync::SyncFailure> =
                    s.errors.iter().filter(|e| &e.source == n).collect();
                let outcome = match errors.first() {
                    None => Synced::Ok,
                    Some(first) => {
                        let throttled = errors
                            .iter()
                            .any(|e| e.kind == crate::sources::SourceErrorKind::Throttled);
                        Synced::Failed(Failure {
                            message: errors
                                .iter()
                                .map(|e| e.error.as_str())
                                .collect::<Vec<_>>()
                                .join("; "),
                            kind: if throttled {
                                crate::sources::SourceErrorKind::Throttled
                            } else {
                                first.kind
                            },
                        })
                    }
                };
                (n.clone(), outcome)
            })
            .collect(),
        Err(e) => names
            .iter()
            .map(|n| {
                let kind = match &e {
                    crate::Error::Source(s) => s.kind,
                    _ => crate::sources::SourceErrorKind::Service,
                };
                (
                    n.clone(),
                    Synced::Failed(Failure {
                        message: e.to_string(),
                        kind,
                    }),
                )
            })
            .collect(),
    }
}

/// Reads colleagues' actions back from the shared anchor, when one is configured (so a round
/// can tell them); `Some(error)` when the anchor could not be read.
pub async fn pull_colleagues(store: &Store) -> Option<crate::sources::SourceError> {
    match crate::actions::anchor::configured(store) {
        Ok(Some(_)) => crate::actions::anchor::pull_colleagues(store)
            .await
            .err()
            .map(crate::sources::SourceError::from),
        Ok(None) => None,
        Err(e) => Some(crate::sources::SourceError::from(e)),
    }
}

/// One source on the watch: its back-off, when it is next due, how its last sync went.
#[derive(Debug, Clone)]
pub struct SourceWatch {
    /// Its interval and errors in a row.
    pub schedule: Schedule,
    /// When it is due.
    pub next: Instant,
    /// When it last synced (either way).
    pub last_sync: Option<Millis>,
    /// Its last sync's error (none when it went well).
    pub error: Option<String>,
    /// That error's kind (throttled, stuck, …).
    pub kind: Option<crate::sources::SourceErrorKind>,
}

/// What one sync of a due source came to, and when it is due again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The source.
    pub source: String,
    /// Its error, said plainly (none when it went well).
    pub error: Option<String>,
    /// That error's kind: the watch says throttled or stuck from this, never from the text.
    pub kind: Option<crate::sources::SourceErrorKind>,
    /// How long until it is tried again.
    pub retry_in: Duration,
    /// Errors in a row (0 after a good sync).
    pub failures: u32,
}

/// Every watched source on its own schedule: the app's watcher and `ddesk watch` keep one each.
#[derive(Debug, Clone)]
pub struct Rota {
    interval: Duration,
    sources: BTreeMap<String, SourceWatch>,
}

impl Default for Rota {
    fn default() -> Self {
        Self::new(DEFAULT_INTERVAL)
    }
}

impl Rota {
    /// Sources synced every `interval` (at least a second).
    pub fn new(interval: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_secs(1)),
            sources: BTreeMap::new(),
        }
    }

    /// The interval between good syncs.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// A new interval for every source (at least a second), from its next sync on.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval.max(Duration::from_secs(1));
        for s in self.sources.values_mut() {
            s.schedule.interval = self.interval;
        }
    }

    /// Follows the configured sources: one not seen before is due at `now`, one no longer
    /// configured is dropped.
    pub fn follow<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, now: Instant) {
        let names: BTreeSet<&str> = names.into_iter().collect();
        self.sources.retain(|n, _| names.contains(n.as_str()));
        for name in names {
            self.sources
                .entry(name.to_string())
                .or_insert_with(|| SourceWatch {
                    schedule: Schedule::every(self.interval),
                    next: now,
                    last_sync: None,
                    error: None,
                    kind: None,
                });
        }
    }

    /// The sources due at `now`, by name.
    pub fn due(&self, now: Instant) -> Vec<String> {
        self.sources
            .iter()
            .filter(|(_, s)| s.next <= now)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Records how a sync of `source` went (at `at`, the monotonic `now`): its back-off moves
    /// and its next time is set. A source the rota does not follow is followed from here.
    pub fn record(
        &mut self,
        source: &str,
        error: Option<Failure>,
        at: Millis,
        now: Instant,
    ) -> Attempt {
        let interval = self.interval;
        let s = self
            .sources
            .entry(source.to_string())
            .or_insert_with(|| SourceWatch {
                schedule: Schedule::every(interval),
                next: now,
                last_sync: None,
                error: None,
                kind: None,
            });
        let retry_in = s.schedule.after(error.is_none());
        s.next = now + retry_in;
        s.last_sync = Some(at);
        let (error, kind) = match error {
            Some(f) => (Some(f.message), Some(f.kind)),
            None => (None, None),
        };
        s.error.clone_from(&error);
        s.kind = kind;
        Attempt {
            source: source.to_string(),
            error,
            kind,
            retry_in,
            failures: s.schedule.failures,
        }
    }

    /// One source's state.
    pub fn get(&self, source: &str) -> Option<&SourceWatch> {
        self.sources.get(source)
    }

    /// Every followed source, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SourceWatch)> {
        self.sources.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// When the next source is due (none when no source is followed).
    pub fn next_due(&self) -> Option<Instant> {
        self.sources.values().map(|s| s.next).min()
    }
}

/// Syncs every source of `due` in one sync ([`sync_many`]: concurrently, one writer, each
/// within `deadline`), handing each outcome to `record` (the caller's [`Rota::record`], under
/// whatever lock keeps its rota). A source past its deadline is recorded as failed — "stuck",
/// by name — and backs off like any failure. A cancel records nothing (it is no failure): the
/// sources wait for the next round. Returns the recorded attempts.
pub fn sync_due(
    rt: &tokio::runtime::Runtime,
    db: &Path,
    due: &[String],
    secrets: &dyn crate::secrets::SecretStore,
    cancel: &CancellationToken,
    deadline: Duration,
    mut record: impl FnMut(&str, Option<Failure>) -> Attempt,
) -> Vec<Attempt> {
    if due.is_empty() {
        return Vec::new();
    }
    let outcomes = rt.block_on(sync_many(db, due, secrets, cancel.clone(), deadline));
    let mut attempts = Vec::with_capacity(due.len());
    for (name, outcome) in outcomes {
        let error = match outcome {
            Synced::Cancelled => continue,
            Synced::Ok => None,
            Synced::Failed(f) => Some(f),
        };
        attempts.push(record(&name, error));
    }
    attempts
}

/// A look after a round: colleagues' actions read from the shared anchor first (so they count),
/// then the cache compared with the last look.
#[derive(Debug)]
pub struct Look {
    /// The cache at this look (the next round's `before`).
    pub after: Snapshot,
    /// What changed since `before`, in order.
    pub changes: Vec<Change>,
    /// Why the anchor could not be read, when it could not.
    pub colleagues_error: Option<crate::sources::SourceError>,
}

/// Reads colleagues' actions, then tells what changed since `before` (a triage score crossing
/// `threshold` is a change).
pub fn look(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    before: &Snapshot,
    threshold: f64,
) -> Result<Look> {
    let colleagues_error = rt.block_on(pull_colleagues(store));
    let after = Snapshot::take(store)?;
    let changes = changes(before, &after, store, threshold, crate::time::now())?;
    Ok(Look {
        after,
        changes,
        colleagues_error,
    })
}

/// When one source syncs next: every `interval`, and after `failures` errors in a row
/// `interval × 2^failures` (at most [`MAX_BACKOFF`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The source's interval.
    pub interval: Duration,
    /// Errors in a row.
    pub failures: u32,
}

impl Schedule {
    /// A source synced every `interval`.
    pub fn every(interval: Duration) -> Self {
        Self {
            interval,
            failures: 0,
        }
    }

    /// Records a sync's outcome; returns how long until the next one.
    pub fn after(&mut self, ok: bool) -> Duration {
        if ok {
            self.failures = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        self.delay()
    }

    /// How long until the next sync.
    pub fn delay(&self) -> Duration {
        let factor = 1u32 << self.failures.min(16);
        self.interval
            .saturating_mul(factor)
            .min(MAX_BACKOFF.max(self.interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rota_follows_the_sources_and_backs_off_each_alone() {
        let t0 = Instant::now();
        let mut rota = Rota::new(Duration::from_secs(300));
        rota.follow(["s3", "splunk"], t0);
        assert_eq!(
            rota.due(t0),
            ["s3", "splunk"],
            "a new source is due at once"
        );
        let ok = rota.record("s3", None, 1_000, t0);
        assert_eq!((ok.failures, ok.retry_in), (0, Duration::from_secs(300)));
        let bad = rota.record(
            "splunk",
            Some(Failure {
                message: "SlowDown".into(),
                kind: crate::sources::SourceErrorKind::Throttled,
            }),
            1_000,
            t0,
        );
        assert_eq!(bad.kind, Some(crate::sources::SourceErrorKind::Throttled));
        assert_eq!((bad.failures, bad.retry_in), (1, Duration::from_secs(600)));
        assert!(rota.due(t0).is_empty(), "neither is due again yet");
        assert_eq!(
            rota.get("splunk").unwrap().error.as_deref(),
            Some("SlowDown")
        );
        assert_eq!(rota.get("s3").unwrap().last_sync, Some(1_000));
        let next = rota.next_due().unwrap();
        assert!(
            next >= t0 + Duration::from_secs(300),
            "the earliest is the good source's"
        );
        assert_eq!(rota.due(next), ["s3"]);
        // A removed source is dropped; an added one is due at once; the interval follows.
        rota.follow(["s3", "defender"], t0);
        assert_eq!(
            rota.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            ["defender", "s3"]
        );
        assert_eq!(rota.due(t0), ["defender"]);
        rota.set_interval(Duration::from_millis(10));
        assert_eq!(rota.interval(), Duration::from_secs(1), "at least a second");
        assert_eq!(
            rota.get("s3").unwrap().schedule.interval,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn back_off_doubles_to_a_cap_and_resets_on_success() {
        let mut s = Schedule::every(Duration::from_secs(300));
        assert_eq!(s.delay(), Duration::from_secs(300));
        assert_eq!(s.after(false), Duration::from_secs(600));
        assert_eq!(s.after(false), Duration::from_secs(1200));
        for _ in 0..40 {
            s.after(false);
        }
        assert_eq!(s.delay(), MAX_BACKOFF);
        assert_eq!(s.after(true), Duration::from_secs(300));
        // An interval longer than the cap is never shortened by it.
        let mut long = Schedule::every(Duration::from_secs(7200));
        assert_eq!(long.after(false), Duration::from_secs(7200));
    }

    /// Regression (#30): an AccessDenied whose message names a bucket `logs-503` backed off
    /// as throttling (the text was searched for "503"); the kind decides now.
    #[test]
    fn throttling_is_told_apart_by_kind_not_by_text() {
        use crate::sources::SourceErrorKind::*;
        let mut rota = Rota::new(Duration::from_secs(300));
        let denied = rota.record(
            "s3",
            Some(Failure {
                message: "ListObjectsV2 on logs-503: AccessDenied (503 too many)".into(),
                kind: AccessDenied,
            }),
            1,
            Instant::now(),
        );
        assert_eq!(denied.kind, Some(AccessDenied));
        let f = Failure {
            message: "ThrottlingException: Rate exceeded".into(),
            kind: Throttled,
        };
        assert!(f.throttled());
        assert!(!Failure {
            message: "503".into(),
            kind: Service
        }
        .throttled());
    }

    #[test]
    fn changes_between_two_looks() {
        let store = Store::open_in_memory().unwrap();
        let mut before = Snapshot::default();
        before
            .alarms
            .insert("v1".into(), ("cam-1".into(), "bytes".into()));
        before.scores.insert("cam-1".into(), 70.0);
        before.scores.insert("gw-1".into(), 20.0);
        before.findings.insert(
            "f1".into(),
            ("CA_CERT".into(), Some(Severity::Low), "ca".into()),
        );
        let mut after = before.clone();
        after.alarms.remove("v1");
        after
            .alarms
            .insert("v2".into(), ("gw-1".into(), "ports".into()));
        after.findings.insert(
            "f2".into(),
            ("LOGGING".into(), Some(Severity::Critical), "acct".into()),
        );
        after.scores.insert("cam-1".into(), 12.0);
        after.scores.insert("gw-1".into(), 80.0);
        let got = changes(&before, &after, &store, 60.0, 5).unwrap();
        let kinds: Vec<(ChangeKind, Option<&str>)> =
            got.iter().map(|c| (c.kind, c.thing.as_deref())).collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::AlarmStarted, Some("gw-1")),
                (ChangeKind::AlarmCleared, Some("cam-1")),
                (ChangeKind::Finding, None),
                (ChangeKind::ScoreDown, Some("cam-1")),
                (ChangeKind::ScoreUp, Some("gw-1")),
            ]
        );
        assert_eq!(got[2].severity, Some(Severity::Critical));
        assert_eq!(got[4].score, Some(80.0));
        assert!(changes(&after, &after, &store, 60.0, 5).unwrap().is_empty());
    }
}
