//! Watching the fleet on a shift: what changed between two looks at the cache (things entering
//! or leaving alarm, new audit findings, triage scores crossing a threshold, colleagues'
//! actions), and when each source syncs next (its interval, backing off on errors).
//!
//! A look is a [`Snapshot`]; [`changes`] compares two. Nothing here syncs or prints: `ddesk
//! watch` and the app drive it, so the logic is tested without servers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

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
    findings: BTreeMap<String, (String, Option<String>, String)>,
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
    pub at: Millis,
    /// What kind.
    pub kind: ChangeKind,
    /// The thing, when it is about one.
    pub thing: Option<String>,
    /// For people, one line.
    pub what: String,
    /// The violation, finding or action it is about (id or `cache#seq`).
    pub id: Option<String>,
    /// A finding's severity (`CRITICAL`, `HIGH`, …).
    pub severity: Option<String>,
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
        for c in crate::anchor::colleagues(store)? {
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
    let change = |kind, thing: Option<&str>, what: String, id: Option<&str>| Change {
        at: now,
        kind,
        thing: thing.map(String::from),
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
                format!("{thing} went into alarm: {behavior}"),
                Some(id),
            ));
        }
    }
    for (id, (thing, behavior)) in &before.alarms {
        if !after.alarms.contains_key(id) {
            out.push(change(
                ChangeKind::AlarmCleared,
                Some(thing),
                format!("{thing} left alarm: {behavior}"),
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
                severity.as_deref().unwrap_or("unrated")
            ),
            Some(id),
        );
        c.severity = severity.clone();
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
            format!("{thing}: triage score {was:.0} → {now_score:.0} (threshold {threshold:.0})"),
            None,
        );
        c.score = Some(now_score);
        out.push(c);
    }
    let fresh: Vec<&(String, i64)> = after.colleagues.difference(&before.colleagues).collect();
    if !fresh.is_empty() {
        for a in crate::anchor::colleagues(store)? {
            if fresh.contains(&&(a.cache.clone(), a.seq)) {
                out.push(change(
                    ChangeKind::ColleagueAction,
                    a.thing.as_deref(),
                    format!(
                        "{} ({}) {} {}: {} — {}",
                        a.who,
                        a.os_user,
                        a.action,
                        a.thing.as_deref().unwrap_or(""),
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
    /// It failed: every error, said plainly, in one line.
    Failed(String),
    /// It was cancelled (Ctrl-C, or the analyst's Cancel).
    Cancelled,
}

/// Syncs one source of the cache at `db`, quietly (no progress events): what a watcher does
/// when the source's time has come.
pub async fn sync_one(
    db: &std::path::Path,
    source: &str,
    secrets: &dyn crate::secrets::SecretStore,
    cancel: tokio_util::sync::CancellationToken,
) -> Synced {
    let options = crate::sync::SyncOptions {
        sources: vec![source.to_string()],
        ..crate::sync::SyncOptions::default()
    };
    let quiet: crate::sync::Progress = std::sync::Arc::new(|_| {});
    match crate::sync::sync(db, &options, secrets, quiet, cancel).await {
        Ok(s) if s.cancelled => Synced::Cancelled,
        Ok(s) if !s.failed() => Synced::Ok,
        Ok(s) => Synced::Failed(
            s.errors
                .iter()
                .map(|e| e.error.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(e) => Synced::Failed(e.to_string()),
    }
}

/// Reads colleagues' actions back from the shared anchor, when one is configured (so a round
/// can tell them); `Some(error)` when the anchor could not be read.
pub async fn pull_colleagues(store: &Store) -> Option<String> {
    match crate::anchor::configured(store) {
        Ok(Some(_)) => crate::anchor::pull_colleagues(store)
            .await
            .err()
            .map(|e| e.to_string()),
        Ok(None) => None,
        Err(e) => Some(e.to_string()),
    }
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

/// Whether an error says the service throttled us (AWS `ThrottlingException`, S3 `SlowDown`,
/// Splunk's 503 "too many searches").
pub fn is_throttling(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    [
        "throttl",
        "slowdown",
        "slow down",
        "too many",
        "rate exceeded",
        "503",
    ]
    .iter()
    .any(|w| e.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn throttling_is_told_apart() {
        assert!(is_throttling("ThrottlingException: Rate exceeded"));
        assert!(is_throttling("S3 said SlowDown"));
        assert!(!is_throttling("AccessDenied"));
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
            ("CA_CERT".into(), Some("LOW".into()), "ca".into()),
        );
        let mut after = before.clone();
        after.alarms.remove("v1");
        after
            .alarms
            .insert("v2".into(), ("gw-1".into(), "ports".into()));
        after.findings.insert(
            "f2".into(),
            ("LOGGING".into(), Some("CRITICAL".into()), "acct".into()),
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
        assert_eq!(got[2].severity.as_deref(), Some("CRITICAL"));
        assert_eq!(got[4].score, Some(80.0));
        assert!(changes(&after, &after, &store, 60.0, 5).unwrap().is_empty());
    }
}
