//! The app on a shift: each configured source syncs on its own schedule while the app runs
//! (pausable per source, backing off on errors and throttling), and after each sync the app
//! works out what changed since the last look (`crate::watch`) and keeps it for the Changes
//! list, the badge and one notification per sync.
//!
//! The shell calls [`Desk::watch_tick`] about once a second from its own thread; a tick that
//! finds nothing due costs a clock read. Never two syncs at once: a tick while the analyst's
//! *Sync* runs (or the other way round) waits for the next one.

use crate::model::Severity;
use std::collections::VecDeque;
use std::time::Duration;

use super::*;
use crate::watch::{Change, ChangeKind, Rota, Snapshot};

/// How many changes the list keeps (newest first).
const KEEP_CHANGES: usize = 500;

/// The `meta` key of a paused source.
fn paused_key(source: &str) -> String {
    format!("watch_paused:{source}")
}

/// What the watcher keeps between ticks.
#[derive(Debug, Default)]
pub(super) struct WatchState {
    rota: Rota,
    before: Option<Snapshot>,
    changes: VecDeque<Change>,
    unseen: usize,
}

/// A source as the header shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceWatchView {
    /// Source name.
    pub source: String,
    /// Paused by the analyst.
    pub paused: bool,
    /// The last sync the watcher ran.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_sync: Option<Millis>,
    /// When it syncs next (none while paused).
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub next_sync: Option<Millis>,
    /// Failed syncs in a row.
    pub failures: u32,
    /// The last failure, said plainly.
    pub error: Option<String>,
    /// Whether the service throttled it (it waits longer).
    pub throttled: bool,
}

/// The watcher's state for the header.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WatchView {
    /// Every configured source (none on the demo fleet).
    pub sources: Vec<SourceWatchView>,
    /// Changes not yet seen in the Changes list.
    pub unseen: u32,
    /// The interval between syncs of a source, ms.
    pub interval_ms: f64,
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct WatchTick {
    /// Sources synced in this tick.
    pub synced: Vec<String>,
    /// What changed (empty when nothing did or nothing synced).
    pub changes: Vec<Change>,
    /// The changes that pass the notification filter, coalesced into one line (none: notify
    /// nothing).
    pub notify: Option<String>,
}

/// What the analyst wants a desktop notification for (kept in the cache): a score crossing
/// `min_score` upwards, findings of the listed severities, alarms starting, colleagues' actions.
/// The default is "score ≥ 60 or a CRITICAL or HIGH finding, any new alarm, any colleague".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NotifyFilter {
    /// The triage score whose crossing (upwards) notifies, 0–100.
    pub min_score: f64,
    /// Finding severities that notify.
    pub severities: Vec<Severity>,
    /// A violation going into alarm notifies.
    pub alarms: bool,
    /// A colleague's action notifies.
    pub colleagues: bool,
}

impl Default for NotifyFilter {
    fn default() -> Self {
        Self {
            min_score: crate::watch::DEFAULT_THRESHOLD,
            severities: vec![Severity::Critical, Severity::High],
            alarms: true,
            colleagues: true,
        }
    }
}

impl NotifyFilter {
    const META: &'static str = "notify_filter";

    fn check(&self) -> Result<()> {
        if !self.min_score.is_finite() || !(0.0..=100.0).contains(&self.min_score) {
            return Err(Error::InvalidInput(
                "the notification score is a triage score, 0 to 100".into(),
            ));
        }
        Ok(())
    }

    /// Whether a change is worth a desktop notification.
    fn passes(&self, c: &Change) -> bool {
        match c.kind {
            ChangeKind::AlarmStarted => self.alarms,
            ChangeKind::ScoreUp => true,
            ChangeKind::ColleagueAction => self.colleagues,
            ChangeKind::Finding => c.severity.is_some_and(|s| self.severities.contains(&s)),
            ChangeKind::AlarmCleared | ChangeKind::ScoreDown => false,
        }
    }
}

/// One notification for a sync's changes that pass the filter: the first two, and how many more.
/// The deadline of one source's sync on the app's watch: `DDESK_SOURCE_DEADLINE` (`10m`,
/// `90s`), else [`crate::sync::DEFAULT_DEADLINE`].
pub fn source_deadline() -> std::time::Duration {
    std::env::var("DDESK_SOURCE_DEADLINE")
        .ok()
        .and_then(|v| time::parse_duration(&v, 86_400_000).ok())
        .filter(|ms| *ms >= 1000)
        .map_or(crate::sync::DEFAULT_DEADLINE, |ms| {
            std::time::Duration::from_millis(ms as u64)
        })
}

/// A notification's body as a notification daemon should get it: device and colleague text
/// shown as text. Control and bidirectional-control characters are dropped everywhere; where
/// the daemon renders markup (the freedesktop notification spec lets servers read `<b>`, `<a>`,
/// `<img>` in bodies: Linux), `&`, `<` and `>` are escaped as entities, so `<a href=…>` reads
/// as those characters. macOS and Windows show bodies as plain text: `markup` false.
pub fn notification_body(text: &str, markup: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || crate::cases::is_bidi_control(c) {
            continue;
        }
        match c {
            '&' if markup => out.push_str("&amp;"),
            '<' if markup => out.push_str("&lt;"),
            '>' if markup => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn coalesce(filter: &NotifyFilter, changes: &[Change]) -> Option<String> {
    let notable: Vec<&Change> = changes.iter().filter(|c| filter.passes(c)).collect();
    let first = notable.first()?;
    Some(match notable.len() {
        1 => first.what.clone(),
        2 => format!("{}; {}", first.what, notable[1].what),
        n => format!("{}; {} (and {} more)", first.what, notable[1].what, n - 2),
    })
}

impl Desk {
    /// Sets the interval between syncs of each source (default: [`crate::watch`]'s five
    /// minutes, Detect's granularity; at least a second).
    pub fn set_watch_interval(&self, interval: Duration) {
        lock(&self.watch).rota.set_interval(interval);
    }

    /// Syncs the sources that are due (not paused), then tells what changed since the last
    /// look. On the demo fleet (no source) it does nothing.
    pub fn watch_tick(&self) -> Result<WatchTick> {
        let store = Store::open(&self.cache)?;
        let configured = crate::sources::list(&store)?;
        let due: Vec<String> = {
            let mut w = lock(&self.watch);
            let now = self.clock.instant();
            w.rota
                .follow(configured.iter().map(|s| s.name.as_str()), now);
            w.rota.due(now)
        };
        let due: Vec<String> = due
            .into_iter()
            .filter(|n| store.meta(&paused_key(n)).ok().flatten().is_none())
            .collect();
        if due.is_empty() {
            return Ok(WatchTick::default());
        }
        let token = CancellationToken::new();
        {
            let mut slot = lock(&self.sync_cancel);
            if slot.is_some() {
                return Ok(WatchTick::default());
            }
            *slot = Some(token.clone());
        }
        let before = lock(&self.watch).before.take();
        let before = match before {
            Some(b) => b,
            None => Snapshot::take(&store)?,
        };
        let attempts = crate::watch::sync_due(
            &self.rt,
            &self.cache,
            &due,
            self.secrets.as_ref(),
            &token,
            source_deadline(),
            |name, error| {
                let (at, now) = (self.clock.now(), self.clock.instant());
                lock(&self.watch).rota.record(name, error, at, now)
            },
        );
        *lock(&self.sync_cancel) = None;
        for a in &attempts {
            if let Some(e) = &a.error {
                tracing::warn!(source = %a.source, error = %e, retry_in = ?a.retry_in, "watch: sync failed");
            }
        }
        let filter = self.notify_filter()?;
        let look = crate::watch::look(&self.rt, &store, &before, filter.min_score);
        self.reset();
        let look = match look {
            Ok(look) => look,
            Err(e) => {
                lock(&self.watch).before = Some(before);
                return Err(e);
            }
        };
        if let Some(e) = &look.colleagues_error {
            tracing::warn!(error = %e, "watch: colleagues' actions not read from the anchor");
        }
        let tick = WatchTick {
            synced: attempts.into_iter().map(|a| a.source).collect(),
            notify: coalesce(&filter, &look.changes),
            changes: look.changes,
        };
        let mut w = lock(&self.watch);
        w.before = Some(look.after);
        for c in tick.changes.iter().rev() {
            w.changes.push_front(c.clone());
        }
        w.changes.truncate(KEEP_CHANGES);
        w.unseen = (w.unseen + tick.changes.len()).min(KEEP_CHANGES);
        Ok(tick)
    }

    /// The watcher's state: each source's last and next sync, and the unseen changes.
    pub fn watch(&self) -> Result<WatchView> {
        let store = Store::open(&self.cache)?;
        let configured = crate::sources::list(&store)?;
        let w = lock(&self.watch);
        let now = self.clock.instant();
        let sources = configured
            .iter()
            .map(|s| {
                let paused = store.meta(&paused_key(&s.name))?.is_some();
                let state = w.rota.get(&s.name);
                Ok(SourceWatchView {
                    source: s.name.clone(),
                    paused,
                    last_sync: state.and_then(|x| x.last_sync),
                    next_sync: (!paused).then(|| {
                        let wait =
                            state.map_or(Duration::ZERO, |x| x.next.saturating_duration_since(now));
                        self.clock.now() + wait.as_millis() as i64
                    }),
                    failures: state.map_or(0, |x| x.schedule.failures),
                    throttled: state.is_some_and(|x| {
                        x.kind == Some(crate::sources::SourceErrorKind::Throttled)
                    }),
                    error: state.and_then(|x| x.error.clone()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(WatchView {
            sources,
            unseen: w.unseen as u32,
            interval_ms: w.rota.interval().as_millis() as f64,
        })
    }

    /// What the analyst wants to be notified of (the default until set).
    pub fn notify_filter(&self) -> Result<NotifyFilter> {
        let store = Store::open(&self.cache)?;
        Ok(store
            .meta(NotifyFilter::META)?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Sets what the analyst wants to be notified of.
    pub fn set_notify_filter(&self, filter: &NotifyFilter) -> Result<NotifyFilter> {
        filter.check()?;
        let store = Store::open(&self.cache)?;
        store.set_meta(
            NotifyFilter::META,
            &serde_json::to_string(filter).expect("the filter serializes"),
        )?;
        Ok(filter.clone())
    }

    /// The changes the watcher found, newest first.
    pub fn changes(&self) -> Vec<Change> {
        lock(&self.watch).changes.iter().cloned().collect()
    }

    /// The analyst has seen the changes.
    pub fn mark_changes_seen(&self) {
        lock(&self.watch).unseen = 0;
    }

    /// Pauses or resumes a source's scheduled syncs (kept in the cache).
    pub fn pause_source(&self, name: &str, paused: bool) -> Result<WatchView> {
        let store = Store::open(&self.cache)?;
        crate::sources::get(&store, name)?;
        if paused {
            store.set_meta(&paused_key(name), "true")?;
        } else {
            store.delete_meta(&paused_key(name))?;
        }
        drop(store);
        self.watch()
    }
}

#[cfg(test)]
mod tests {
    /// A colleague's or device's text in a notification is text: markup escaped where the
    /// daemon renders it, controls dropped everywhere.
    #[test]
    fn notification_bodies_carry_text_not_markup() {
        let hostile = "cam <b>x</b> <a href=\"https://evil\">ok</a> & \u{1b}[2J\u{202e}gnp";
        let linux = super::notification_body(hostile, true);
        assert_eq!(
            linux,
            "cam &lt;b&gt;x&lt;/b&gt; &lt;a href=\"https://evil\"&gt;ok&lt;/a&gt; &amp; [2Jgnp"
        );
        let plain = super::notification_body(hostile, false);
        assert!(plain.starts_with("cam <b>x</b>"), "{plain}");
        assert!(!plain.contains('\u{1b}') && !plain.contains('\u{202e}'));
    }

    use super::*;

    fn change(kind: ChangeKind, what: &str, severity: Option<Severity>) -> Change {
        Change {
            at: 0,
            kind,
            thing: None,
            account: None,
            region: None,
            key: None,
            what: what.into(),
            id: None,
            severity,
            score: None,
        }
    }

    #[test]
    fn one_notification_per_sync_for_what_passes_the_filter() {
        let f = NotifyFilter::default();
        assert_eq!(coalesce(&f, &[]), None);
        assert_eq!(
            coalesce(
                &f,
                &[
                    change(ChangeKind::AlarmCleared, "a left alarm", None),
                    change(ChangeKind::Finding, "low finding", Some(Severity::Low)),
                ]
            ),
            None
        );
        let many = [
            change(ChangeKind::AlarmStarted, "cam-1 in alarm", None),
            change(
                ChangeKind::Finding,
                "critical finding",
                Some(Severity::Critical),
            ),
            change(ChangeKind::ScoreUp, "gw-1 score 80", None),
            change(ChangeKind::ScoreUp, "gw-2 score 90", None),
        ];
        assert_eq!(
            coalesce(&f, &many).unwrap(),
            "cam-1 in alarm; critical finding (and 2 more)"
        );
        // The analyst's own filter: no alarms, LOW findings too.
        let mine = NotifyFilter {
            alarms: false,
            severities: vec![Severity::Low],
            ..NotifyFilter::default()
        };
        assert_eq!(
            coalesce(
                &mine,
                &[change(ChangeKind::AlarmStarted, "cam-1 in alarm", None)]
            ),
            None
        );
        assert_eq!(
            coalesce(
                &mine,
                &[change(
                    ChangeKind::Finding,
                    "low finding",
                    Some(Severity::Low)
                )]
            )
            .unwrap(),
            "low finding"
        );
        assert!(NotifyFilter {
            min_score: 101.0,
            ..NotifyFilter::default()
        }
        .check()
        .is_err());
        // A severity outside AWS's set does not get past the filter's type.
        let e = serde_json::from_str::<NotifyFilter>(
            r#"{"min_score": 50, "severities": ["URGENT"], "alarms": true, "colleagues": true}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown variant `URGENT`"), "{e}");
    }
}
