//! The action log as typed entries: the one reader of the stored records (the store keeps them
//! as hash-chained JSON text, see `store::actions`), so what an outcome *means* is decided here
//! once — for the app, `ddesk`, the timeline, release planning and colleagues' actions alike.
//!
//! The stored text is unchanged from what earlier versions wrote: an outcome's `status` is one
//! of `succeeded`, `succeeded (reconciled)`, `failed`, `failed (reconciled: why)`,
//! `unknown (why)`, `unknown (reconciled: why)`. [`Outcome`] reads and writes exactly these.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionKind, Actor, Plan};
use crate::store::LogRecord;
use crate::time::Millis;

/// What an action came to, as its outcome record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every call took effect.
    Succeeded {
        /// Found applied after the process died between the call and the log.
        reconciled: bool,
    },
    /// A call failed (or was found not applied).
    Failed {
        /// Found by reconciling an interrupted action.
        reconciled: bool,
        /// Why, when the record says (reconciled outcomes do).
        why: Option<String>,
    },
    /// Whether it took effect could not be told (a mitigation task still running, AWS
    /// unreachable while reconciling).
    Unknown {
        /// Found by reconciling an interrupted action.
        reconciled: bool,
        /// Why.
        why: String,
    },
}

impl Outcome {
    /// Reads a stored `status`; text no version wrote is `Unknown` with that text as the why.
    pub fn parse(status: &str) -> Self {
        let (word, rest) = match status.split_once(' ') {
            Some((w, r)) => (w, Some(r)),
            None => (status, None),
        };
        // `(reconciled)`, `(reconciled: why)` or `(why)`.
        let inner = rest.and_then(|r| r.strip_prefix('(')?.strip_suffix(')'));
        let (reconciled, why) = match inner {
            Some("reconciled") => (true, None),
            Some(i) => match i.strip_prefix("reconciled: ") {
                Some(w) => (true, Some(w.to_string())),
                None => (false, Some(i.to_string())),
            },
            None => (false, None),
        };
        match (word, rest.is_some() == inner.is_some()) {
            ("succeeded", true) if why.is_none() => Self::Succeeded { reconciled },
            ("failed", true) => Self::Failed { reconciled, why },
            ("unknown", true) => Self::Unknown {
                reconciled,
                why: why.unwrap_or_default(),
            },
            _ => Self::Unknown {
                reconciled: false,
                why: status.to_string(),
            },
        }
    }

    /// Whether the action took effect (reconciled or not).
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Succeeded { .. })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Succeeded { reconciled: false } => f.write_str("succeeded"),
            Self::Succeeded { reconciled: true } => f.write_str("succeeded (reconciled)"),
            Self::Failed {
                reconciled: false,
                why: None,
            } => f.write_str("failed"),
            Self::Failed {
                reconciled: true,
                why: None,
            } => f.write_str("failed (reconciled)"),
            Self::Failed {
                reconciled: false,
                why: Some(w),
            } => write!(f, "failed ({w})"),
            Self::Failed {
                reconciled: true,
                why: Some(w),
            } => write!(f, "failed (reconciled: {w})"),
            Self::Unknown {
                reconciled: false,
                why,
            } => write!(f, "unknown ({why})"),
            Self::Unknown {
                reconciled: true,
                why,
            } => write!(f, "unknown (reconciled: {why})"),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// What an action came to, as it crosses to the UI and `ddesk`: a closed set to branch on
/// (`status` keeps the stored sentence beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// No outcome logged yet.
    Pending,
    /// Every call took effect.
    Succeeded,
    /// A call failed (or was found not applied).
    Failed,
    /// Whether it took effect could not be told yet (a mitigation task still running).
    Unknown,
}

/// An outcome, typed: its kind, whether reconciling found it, and why (failed, unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct OutcomeState {
    /// What it came to.
    pub kind: OutcomeKind,
    /// Found by reconciling an interrupted action.
    pub reconciled: bool,
    /// Why, when it failed or is unknown and the record says.
    pub why: Option<String>,
}

impl OutcomeState {
    /// An intent with no outcome yet.
    pub fn pending() -> Self {
        Self {
            kind: OutcomeKind::Pending,
            reconciled: false,
            why: None,
        }
    }
}

impl Outcome {
    /// The outcome as a closed set with its detail.
    pub fn state(&self) -> OutcomeState {
        match self {
            Self::Succeeded { reconciled } => OutcomeState {
                kind: OutcomeKind::Succeeded,
                reconciled: *reconciled,
                why: None,
            },
            Self::Failed { reconciled, why } => OutcomeState {
                kind: OutcomeKind::Failed,
                reconciled: *reconciled,
                why: why.clone(),
            },
            Self::Unknown { reconciled, why } => OutcomeState {
                kind: OutcomeKind::Unknown,
                reconciled: *reconciled,
                why: Some(why.clone()),
            },
        }
    }
}

/// An intent: what was about to be done, logged before the first call.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    /// Sequence number in the log.
    pub seq: i64,
    /// When it was logged, epoch ms.
    pub at: Millis,
    /// The record's hash in the chain.
    pub hash: String,
    /// The analyst's reason.
    pub reason: String,
    /// Who acted.
    pub who: Actor,
    /// The plan as confirmed.
    pub plan: Plan,
    /// The calls as shown before confirming.
    pub calls: Vec<String>,
    /// Against the simulated demo account.
    pub demo: bool,
}

/// An outcome: what an intent came to, logged after its calls (or by reconciling).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeEntry {
    /// Sequence number in the log.
    pub seq: i64,
    /// When it was logged, epoch ms.
    pub at: Millis,
    /// The intent it closes.
    pub intent: i64,
    /// What it came to.
    pub outcome: Outcome,
    /// Per call: request id or error (as logged).
    pub steps: Value,
    /// The mitigation task's result, when one ran.
    pub task: Value,
    /// What reconciling observed, when it did.
    pub observed: Value,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEntry {
    /// Logged before the calls.
    Intent(Box<Intent>),
    /// Logged after them.
    Outcome(Box<OutcomeEntry>),
    /// A record this version cannot read (kept in the chain, shown nowhere).
    Unreadable {
        /// Sequence number in the log.
        seq: i64,
    },
}

/// The stored shape of an intent record.
#[derive(Deserialize)]
struct IntentRecord {
    #[serde(default)]
    reason: String,
    who: Actor,
    plan: Plan,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    demo: bool,
}

/// The stored shape of an outcome record.
#[derive(Deserialize)]
struct OutcomeRecord {
    intent: i64,
    status: Outcome,
    #[serde(default)]
    steps: Value,
    #[serde(default)]
    task: Value,
    #[serde(default)]
    observed: Value,
}

impl LogEntry {
    /// Reads one stored record (its `type` says which entry it is).
    pub fn read(seq: i64, at: Millis, hash: &str, record: &Value) -> Self {
        match record.get("type").and_then(Value::as_str) {
            Some("intent") => match IntentRecord::deserialize(record) {
                Ok(r) => Self::Intent(Box::new(Intent {
                    seq,
                    at,
                    hash: hash.to_string(),
                    reason: r.reason,
                    who: r.who,
                    plan: r.plan,
                    calls: r.calls,
                    demo: r.demo,
                })),
                Err(_) => Self::Unreadable { seq },
            },
            Some("outcome") => match OutcomeRecord::deserialize(record) {
                Ok(r) => Self::Outcome(Box::new(OutcomeEntry {
                    seq,
                    at,
                    intent: r.intent,
                    outcome: r.status,
                    steps: r.steps,
                    task: r.task,
                    observed: r.observed,
                })),
                Err(_) => Self::Unreadable { seq },
            },
            _ => Self::Unreadable { seq },
        }
    }
}

/// A whole log, read once: intents in order, each with its outcome.
#[derive(Debug, Clone, Default)]
pub struct ActionLog {
    entries: Vec<LogEntry>,
}

impl ActionLog {
    /// Reads the stored records.
    pub fn read(records: &[LogRecord]) -> Self {
        Self {
            entries: records
                .iter()
                .map(|r| LogEntry::read(r.seq, r.at, &r.hash, &r.record))
                .collect(),
        }
    }

    /// Adds an entry read elsewhere (a colleague's log read back from the anchor).
    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
    }

    /// Every entry, in log order.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    /// The intents, in log order.
    pub fn intents(&self) -> impl Iterator<Item = &Intent> {
        self.entries.iter().filter_map(|e| match e {
            LogEntry::Intent(i) => Some(&**i),
            _ => None,
        })
    }

    /// The intents about one thing, in log order.
    pub fn intents_on<'a>(&'a self, thing: &'a str) -> impl Iterator<Item = &'a Intent> {
        self.intents()
            .filter(move |i| i.plan.thing.as_deref() == Some(thing))
    }

    /// The outcome logged for the intent `seq`, if any (the newest, should there be several).
    pub fn outcome_of(&self, seq: i64) -> Option<&OutcomeEntry> {
        self.entries.iter().rev().find_map(|e| match e {
            LogEntry::Outcome(o) if o.intent == seq => Some(&**o),
            _ => None,
        })
    }

    /// Whether any intent has no outcome yet (an action interrupted between call and log).
    pub fn has_pending(&self) -> bool {
        self.intents().any(|i| self.outcome_of(i.seq).is_none())
    }

    /// The intents that took effect (reconciled or not), in log order.
    fn succeeded(&self) -> impl Iterator<Item = &Intent> {
        self.intents().filter(|i| {
            self.outcome_of(i.seq)
                .is_some_and(|o| o.outcome.succeeded())
        })
    }

    /// Things whose latest successful quarantine or release was a quarantine.
    pub fn quarantined(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for i in self.succeeded() {
            for thing in keys_of(&i.plan) {
                match i.plan.action {
                    ActionKind::Quarantine => {
                        out.insert(thing);
                    }
                    ActionKind::Release => {
                        out.remove(&thing);
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// The first successful quarantine of `thing` since its last successful release: a repeated
    /// quarantine snapshots a thing already in the group, and restoring that would keep it there.
    pub fn open_quarantine(&self, thing: &str) -> Option<&Plan> {
        let mut open = None;
        for i in self
            .succeeded()
            .filter(|i| keys_of(&i.plan).iter().any(|k| k == thing))
        {
            match i.plan.action {
                ActionKind::Quarantine if open.is_none() => open = Some(&i.plan),
                ActionKind::Release => open = None,
                _ => {}
            }
        }
        open
    }
}

/// The thing keys a plan was on: its recorded key, and — for a plan recorded before things had
/// accounts (a bare name) — also the key of that name in the account and region it acted in, so
/// a thing assigned its account later keeps its quarantine.
fn keys_of(plan: &Plan) -> Vec<String> {
    let Some(thing) = plan.thing.as_deref() else {
        return Vec::new();
    };
    let mut out = vec![thing.to_string()];
    let key = crate::model::scope::ThingKey::parse(thing);
    if key.account.is_none() {
        if let Some(t) = &plan.target {
            if let Ok(scope) = crate::model::scope::Scope::new(Some(&t.account), Some(&t.region)) {
                if scope.is_known() {
                    out.push(scope.key(thing));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Prior;
    use serde_json::json;

    fn plan(action: &str, thing: &str) -> Value {
        json!(Plan {
            action: serde_json::from_value(json!(action)).unwrap(),
            thing: Some(thing.into()),
            group: Some("quarantine".into()),
            steps: Vec::new(),
            warnings: Vec::new(),
            needs_group: false,
            prior: Prior::default(),
            demo: true,
            target: None,
        })
    }

    fn intent(seq: i64, action: &str) -> LogRecord {
        LogRecord {
            seq,
            at: seq,
            record: json!({"type": "intent", "reason": "a reason of some length",
                "who": {"aws": "demo", "os_user": "ana"}, "plan": plan(action, "cam-1"),
                "calls": [], "demo": true}),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn outcome(seq: i64, intent: i64, status: &str) -> LogRecord {
        LogRecord {
            seq,
            at: seq,
            record: json!({"type": "outcome", "intent": intent, "status": status}),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// A quarantine logged before things had accounts names the bare thing; once the thing is
    /// assigned the account it was acted in, it is still that thing's open quarantine.
    #[test]
    fn a_quarantine_from_before_accounts_stays_the_assigned_things() {
        let mut q = intent(1, "quarantine");
        q.record["plan"]["target"] = json!({"account": "111111111111", "region": "eu-west-1",
            "source": "prod", "caller": "arn:aws:iam::111111111111:user/ana"});
        let log = ActionLog::read(&[q, outcome(2, 1, "succeeded")]);
        let scoped = crate::model::scope::Scope::new(Some("111111111111"), Some("eu-west-1"))
            .unwrap()
            .key("cam-1");
        let open = log.quarantined();
        assert!(open.contains("cam-1") && open.contains(&scoped), "{open:?}");
        assert!(log.open_quarantine(&scoped).is_some());
        let other = crate::model::scope::Scope::new(Some("222222222222"), Some("eu-west-1"))
            .unwrap()
            .key("cam-1");
        assert!(
            log.open_quarantine(&other).is_none(),
            "another account's cam-1"
        );
        // The demo account is no account: nothing but the name.
        let log = ActionLog::read(&[intent(1, "quarantine"), outcome(2, 1, "succeeded")]);
        assert_eq!(log.quarantined().len(), 1);
    }

    #[test]
    fn every_status_ever_written_reads_back_to_the_same_text() {
        for s in [
            "succeeded",
            "succeeded (reconciled)",
            "failed",
            "failed (reconciled: the thing is not in quarantine)",
            "unknown (task IN_PROGRESS)",
            "unknown (reconciled: AccessDeniedException)",
        ] {
            assert_eq!(Outcome::parse(s).to_string(), s);
        }
        assert_eq!(
            Outcome::parse("succeeded (reconciled)"),
            Outcome::Succeeded { reconciled: true }
        );
        // Text no version wrote is never read as a success.
        for s in ["succeeded!", "succeeded (because)", "SUCCEEDED", ""] {
            assert!(!Outcome::parse(s).succeeded(), "{s}");
        }
    }

    /// Regression: after a crash, reconcile logs "succeeded (reconciled)"; the app compared
    /// with == "succeeded" and showed a reconciled quarantine as not quarantined, while the
    /// CLI's release planning (starts_with) still found it. Both now read this one log.
    #[test]
    fn a_reconciled_quarantine_is_a_quarantine_everywhere() {
        let log = ActionLog::read(&[
            intent(1, "quarantine"),
            outcome(2, 1, "succeeded (reconciled)"),
        ]);
        assert!(log.quarantined().contains("cam-1"));
        assert!(log.open_quarantine("cam-1").is_some());
        let log = ActionLog::read(&[
            intent(1, "quarantine"),
            outcome(2, 1, "succeeded"),
            intent(3, "release"),
            outcome(4, 3, "failed (reconciled: still in the group)"),
        ]);
        assert!(log.quarantined().contains("cam-1"));
        let log = ActionLog::read(&[
            intent(1, "quarantine"),
            outcome(2, 1, "succeeded"),
            intent(3, "release"),
            outcome(4, 3, "succeeded (reconciled)"),
        ]);
        assert!(log.quarantined().is_empty());
        assert!(log.open_quarantine("cam-1").is_none());
        let log = ActionLog::read(&[
            intent(1, "quarantine"),
            outcome(2, 1, "succeeded"),
            intent(3, "release"),
            outcome(4, 3, "unknown (reconciled: groups not read)"),
        ]);
        assert!(
            log.quarantined().contains("cam-1"),
            "an unknown release leaves it quarantined"
        );
    }

    #[test]
    fn a_pending_intent_and_an_unreadable_record_are_told_apart() {
        let mut garbage = outcome(3, 1, "x");
        garbage.record = json!({"type": "intent", "plan": 7});
        let log = ActionLog::read(&[intent(1, "quarantine"), garbage]);
        assert!(log.has_pending());
        assert_eq!(log.intents().count(), 1);
        assert!(matches!(log.entries()[1], LogEntry::Unreadable { seq: 3 }));
    }
}
