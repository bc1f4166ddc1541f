//! Investigation state: each thing (and each audit finding) is *new*, *investigating*,
//! *resolved — benign* or *resolved — compromised*, with an owner and time-stamped notes that
//! say who wrote them. The record is append-only (see `store::cases`): the current state is
//! the newest state event, and every change stays in the thing's timeline and report.
//!
//! A thing resolved benign stays down-ranked in triage until new evidence appears: a reason on
//! a metric and comparison that was not among the reasons it was resolved on, or one that
//! started after it was resolved. The same reasons persisting do not bring it back up.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::analysis::triage::{Ranked, Reason, ReasonSource};
use crate::store::{CaseEventRow, Store};
use crate::time::{self, Millis};
use crate::{Error, Result};

/// How much a benign-resolved thing's score keeps while no new evidence appears.
pub const BENIGN_FACTOR: f64 = 0.2;

/// Longest note, in characters.
pub use crate::model::limits::MAX_NOTE_CHARS;

/// Longest owner name, in characters.
pub const MAX_OWNER_CHARS: usize = 128;

/// Where an investigation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum CaseState {
    /// Not looked at yet (every thing without a state).
    #[default]
    New,
    /// Someone is on it.
    Investigating,
    /// Resolved: nothing wrong (down-ranked until new evidence).
    Benign,
    /// Resolved: it was compromised.
    Compromised,
}

impl CaseState {
    /// `new`, `investigating`, `benign` or `compromised` (as stored and on the command line).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Investigating => "investigating",
            Self::Benign => "benign",
            Self::Compromised => "compromised",
        }
    }

    /// Reads the stored or typed word.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "new" => Ok(Self::New),
            "investigating" => Ok(Self::Investigating),
            "benign" => Ok(Self::Benign),
            "compromised" => Ok(Self::Compromised),
            other => Err(Error::InvalidInput(format!(
                "unknown investigation state {other:?}: new, investigating, benign or compromised"
            ))),
        }
    }

    /// For people: "resolved — benign".
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Investigating => "investigating",
            Self::Benign => "resolved — benign",
            Self::Compromised => "resolved — compromised",
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use crate::store::cases::Subject;

impl Subject {
    /// Checks that it exists in the cache.
    pub fn require(&self, store: &Store) -> Result<Subject> {
        let resolved = self.resolved(store)?;
        match &resolved {
            Self::Thing(t) => {
                if !store.things()?.iter().any(|s| &s.name == t) {
                    return Err(Error::NotFound(format!("no thing {t:?} in the cache")));
                }
            }
            Self::Finding(f) => {
                if !store
                    .findings(None, None)?
                    .iter()
                    .any(|x| &x.finding_id == f)
                {
                    return Err(Error::NotFound(format!(
                        "no audit finding {f:?} in the cache"
                    )));
                }
            }
        }
        Ok(resolved)
    }

    /// The subject with a thing's name resolved to its stored key
    /// ([`crate::store::resolve_thing`]).
    pub fn resolved(&self, store: &Store) -> Result<Subject> {
        Ok(match self {
            Self::Thing(t) => Self::Thing(crate::store::resolve_thing(store, t)?),
            Self::Finding(f) => Self::Finding(f.clone()),
        })
    }
}

/// Where a case event came from when not from this cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOrigin {
    /// A colleague's change made in AWS Security Hub, read back on sync.
    SecurityHub,
}

impl CaseOrigin {
    fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            Some("security-hub") => Some(Self::SecurityHub),
            _ => None,
        }
    }
}

/// A note on an investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Note {
    /// When it was written, epoch ms.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub at: Millis,
    /// Who wrote it (the OS user; for a note from Security Hub, its `UpdatedBy`).
    pub who: String,
    /// The note.
    pub text: String,
    /// `security-hub` for a colleague's note read back from Security Hub; `null` for this
    /// cache's.
    pub origin: Option<CaseOrigin>,
}

/// A change of state, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StateChange {
    /// When, epoch ms.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub at: Millis,
    /// Who (the OS user; for a change from Security Hub, the caller's identity there).
    pub who: String,
    /// The state set.
    pub state: CaseState,
    /// The owner after the change.
    pub owner: Option<String>,
    /// `security-hub` for a colleague's change read back from Security Hub; `null` for this
    /// cache's.
    pub origin: Option<CaseOrigin>,
}

/// One investigation: state, owner, notes and the history of its states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Case {
    /// Where it stands (`new` when never set).
    pub state: CaseState,
    /// Who owns it.
    pub owner: Option<String>,
    /// When the state was last set.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub updated: Option<Millis>,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
    /// Every state change, oldest first.
    pub history: Vec<StateChange>,
}

/// The current state of a subject, as triage needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// The state.
    pub state: CaseState,
    /// Its owner.
    pub owner: Option<String>,
    /// When it was set.
    pub at: Millis,
    /// Who set it.
    pub who: String,
    /// The reasons (metric and comparison) it was decided on; `None` for a state set in
    /// Security Hub, decided on what there was then.
    evidence: Option<BTreeSet<String>>,
}

/// The key of a reason for "is this new evidence": its metric and what it was compared with.
pub fn evidence_key(metric: &str, source: ReasonSource) -> String {
    format!("{metric}|{}", source.as_str())
}

/// The evidence keys of triage reasons.
pub fn evidence_of(reasons: &[Reason]) -> BTreeSet<String> {
    reasons
        .iter()
        .map(|r| evidence_key(&r.metric, r.source))
        .collect()
}

/// The evidence a thing's state is decided on now: the reasons triage gives it over its default
/// window (none for an audit finding, or a thing with no reason). The app takes them from the
/// ranking it has on screen instead ([`evidence_of`] either way).
pub fn current_evidence(store: &Store, subject: &Subject) -> Result<BTreeSet<String>> {
    let Subject::Thing(thing) = subject else {
        return Ok(BTreeSet::new());
    };
    Ok(
        crate::analysis::triage::rank(store, crate::analysis::triage::TriageOptions::default())?
            .into_iter()
            .find(|r| &r.thing == thing)
            .map(|r| evidence_of(&r.reasons))
            .unwrap_or_default(),
    )
}

pub use crate::model::limits::{foreign_text, is_bidi_control};

/// An analyst's text, checked: not empty, at most `max` characters, no control characters
/// (notes may hold newlines and tabs: `lines`), no bidirectional controls.
fn check_text(what: &str, text: &str, max: usize, lines: bool) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::InvalidInput(format!("the {what} is empty")));
    }
    if t.chars().count() > max {
        return Err(Error::InvalidInput(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    if t.chars()
        .any(|c| c.is_control() && !(lines && (c == '\n' || c == '\t')))
    {
        return Err(Error::InvalidInput(format!(
            "the {what} holds control characters{}",
            if lines {
                " (only newlines and tabs may be in it)"
            } else {
                " (it is one line)"
            }
        )));
    }
    if t.chars().any(is_bidi_control) {
        return Err(Error::InvalidInput(format!(
            "the {what} holds bidirectional control characters (U+202A–U+202E, U+2066–U+2069, …), which would reorder it on screen"
        )));
    }
    Ok(t.to_string())
}

/// The OS user, who every state and note is attributed to (as in the action log).
pub fn os_user() -> String {
    whoami::username().unwrap_or_else(|_| "unknown".into())
}

/// Sets the state of `subject` (and its owner; `None` keeps the current owner), attributed to
/// `who`. A thing's state records the triage reasons it was decided on (`evidence`, see
/// [`evidence_of`]), so a benign thing comes back up only on new evidence.
pub fn set_state(
    store: &Store,
    subject: &Subject,
    state: CaseState,
    owner: Option<&str>,
    who: &str,
    evidence: BTreeSet<String>,
) -> Result<Case> {
    let subject = &subject.require(store)?;
    let owner = match owner {
        Some(o) => Some(check_text("owner", o, MAX_OWNER_CHARS, false)?),
        None => show(store, subject)?.owner,
    };
    store.append_case_event(&CaseEventRow {
        id: 0,
        subject: subject.key(),
        at: time::now(),
        who: who.to_string(),
        state: Some(state.as_str().to_string()),
        owner,
        note: None,
        evidence: Some(serde_json::to_string(&evidence).expect("strings serialize")),
        origin: None,
    })?;
    show(store, subject)
}

/// Adds a note to `subject`, attributed to `who`.
pub fn add_note(store: &Store, subject: &Subject, text: &str, who: &str) -> Result<Case> {
    let subject = &subject.require(store)?;
    let text = check_text("note", text, MAX_NOTE_CHARS, true)?;
    store.append_case_event(&CaseEventRow {
        id: 0,
        subject: subject.key(),
        at: time::now(),
        who: who.to_string(),
        state: None,
        owner: None,
        note: Some(text),
        evidence: None,
        origin: None,
    })?;
    show(store, subject)
}

/// The investigation of `subject` (`new`, no notes, when there is none).
pub fn show(store: &Store, subject: &Subject) -> Result<Case> {
    let subject = &subject.resolved(store)?;
    let mut case = Case::default();
    for e in store.case_events(&subject.key())? {
        let origin = CaseOrigin::parse(e.origin.as_deref());
        match (e.state, e.note) {
            (Some(s), _) => {
                let state = CaseState::parse(&s)?;
                case.state = state;
                case.owner = e.owner.clone();
                case.updated = Some(e.at);
                case.history.push(StateChange {
                    at: e.at,
                    who: e.who,
                    state,
                    owner: e.owner,
                    origin,
                });
            }
            (None, Some(text)) => case.notes.push(Note {
                at: e.at,
                who: e.who,
                text,
                origin,
            }),
            (None, None) => {}
        }
    }
    Ok(case)
}

/// The current state of every thing that has one, by thing name.
pub fn thing_states(store: &Store) -> Result<HashMap<String, Current>> {
    states(store, Subject::THING)
}

/// The current state of every audit finding that has one, by finding id.
pub fn finding_states(store: &Store) -> Result<HashMap<String, Current>> {
    states(store, Subject::FINDING)
}

fn states(store: &Store, prefix: &str) -> Result<HashMap<String, Current>> {
    let mut out = HashMap::new();
    for e in store.case_states()? {
        let Some(thing) = e.subject.strip_prefix(prefix) else {
            continue;
        };
        let Some(state) = e.state.as_deref() else {
            continue;
        };
        let evidence = match (&e.origin, e.evidence.as_deref()) {
            (Some(_), _) => None,
            (None, j) => Some(
                j.and_then(|j| serde_json::from_str(j).ok())
                    .unwrap_or_default(),
            ),
        };
        out.insert(
            thing.to_string(),
            Current {
                state: CaseState::parse(state)?,
                owner: e.owner,
                at: e.at,
                who: e.who,
                evidence,
            },
        );
    }
    Ok(out)
}

/// Whether `reasons` hold evidence that `current` was not decided on: a reason on another
/// metric or comparison, or one that started after the state was set (only the latter for a
/// state set in Security Hub, whose evidence this cache does not know).
pub fn has_new_evidence(current: &Current, reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| {
        r.since > current.at
            || current
                .evidence
                .as_ref()
                .is_some_and(|ev| !ev.contains(&evidence_key(&r.metric, r.source)))
    })
}

/// A ranked thing with its investigation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRanked {
    /// The ranking (score already down-ranked where resolved benign without new evidence).
    pub ranked: Ranked,
    /// Its state (`new` when never set).
    pub state: CaseState,
    /// Its owner.
    pub owner: Option<String>,
    /// Why its score was lowered, in one line; `None` when it was not.
    pub down_ranked: Option<String>,
}

/// Applies investigation states to a ranking: a thing resolved benign with no new evidence
/// keeps [`BENIGN_FACTOR`] of its score, and the ranking is sorted again.
pub fn apply(ranked: Vec<Ranked>, states: &HashMap<String, Current>) -> Vec<CaseRanked> {
    let mut out: Vec<CaseRanked> = ranked
        .into_iter()
        .map(|mut r| {
            let current = states.get(&r.thing);
            let down_ranked = current
                .filter(|c| c.state == CaseState::Benign && !has_new_evidence(c, &r.reasons))
                .map(|c| {
                    r.score *= BENIGN_FACTOR;
                    format!(
                        "resolved benign by {} at {}: score ×{BENIGN_FACTOR} until new evidence",
                        c.who,
                        time::to_rfc3339(c.at)
                    )
                });
            CaseRanked {
                state: current.map_or(CaseState::New, |c| c.state),
                owner: current.and_then(|c| c.owner.clone()),
                down_ranked,
                ranked: r,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.ranked
            .score
            .total_cmp(&a.ranked.score)
            .then_with(|| a.ranked.thing.cmp(&b.ranked.thing))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(metric: &str, source: ReasonSource, since: Millis) -> Reason {
        Reason {
            text: format!("{metric} odd"),
            metric: metric.into(),
            categories: Vec::new(),
            since,
            weight: 10.0,
            source,
        }
    }

    /// Evidence keys are stored in cases (`case_evidence`): each source keeps the word it had
    /// when it was a string, so a case's evidence recorded before the enum still matches.
    #[test]
    fn evidence_keys_keep_the_words_stored_before_the_enum() {
        let stored = [
            "baseline",
            "baseline+fleet",
            "baseline+peers",
            "peers",
            "expected-set",
            "attack-surface",
            "counter-restart",
            "aws-detect",
            "lifecycle",
        ];
        for (source, word) in ReasonSource::ALL.into_iter().zip(stored) {
            assert_eq!(
                evidence_key("aws:all-bytes-out", source),
                format!("aws:all-bytes-out|{word}")
            );
            assert_eq!(serde_json::to_value(source).unwrap(), word);
            let back: ReasonSource = serde_json::from_value(word.into()).unwrap();
            assert_eq!(back, source);
        }
    }

    fn ranked(thing: &str, score: f64, reasons: Vec<Reason>) -> Ranked {
        Ranked {
            thing: thing.into(),
            score,
            reasons,
            categories: Vec::new(),
            open_violations: 0,
            last_report: None,
        }
    }

    #[test]
    fn states_read_and_write_the_same_words() {
        for s in [
            CaseState::New,
            CaseState::Investigating,
            CaseState::Benign,
            CaseState::Compromised,
        ] {
            assert_eq!(CaseState::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(CaseState::parse("resolved").is_err());
    }

    #[test]
    fn a_benign_thing_stays_down_until_new_evidence() {
        let bytes = reason("aws:all-bytes-out", ReasonSource::Peers, 1_000);
        let mut states = HashMap::new();
        states.insert(
            "cam-1".to_string(),
            Current {
                state: CaseState::Benign,
                owner: Some("ana".into()),
                at: 5_000,
                who: "ana".into(),
                evidence: Some(evidence_of(std::slice::from_ref(&bytes))),
            },
        );
        let fleet = || {
            vec![
                ranked("cam-1", 80.0, vec![bytes.clone()]),
                ranked("cam-2", 30.0, Vec::new()),
            ]
        };
        let out = apply(fleet(), &states);
        assert_eq!(out[0].ranked.thing, "cam-2", "{out:?}");
        assert_eq!(out[1].ranked.score, 80.0 * BENIGN_FACTOR);
        assert!(out[1].down_ranked.as_deref().unwrap().contains("ana"));
        // The same reason persisting is no new evidence; another metric is.
        let mut more = fleet();
        more[0].reasons.push(reason(
            "aws:listening-tcp-ports",
            ReasonSource::AttackSurface,
            2_000,
        ));
        let out = apply(more, &states);
        assert_eq!(
            (out[0].ranked.thing.as_str(), out[0].ranked.score),
            ("cam-1", 80.0)
        );
        assert_eq!(out[0].state, CaseState::Benign);
        assert!(out[0].down_ranked.is_none());
        // So is the same kind of reason starting again after it was resolved.
        let mut again = fleet();
        again[0].reasons[0].since = 6_000;
        assert!(apply(again, &states)[0].down_ranked.is_none());
    }

    /// A state set in Security Hub has no evidence this cache knows: any reason that was there
    /// when it was set is what it was decided on; one starting later is new.
    #[test]
    fn a_benign_state_from_the_hub_stays_down_until_a_later_reason() {
        let bytes = reason("aws:all-bytes-out", ReasonSource::Peers, 1_000);
        let ports = reason(
            "aws:listening-tcp-ports",
            ReasonSource::AttackSurface,
            2_000,
        );
        let current = Current {
            state: CaseState::Benign,
            owner: None,
            at: 5_000,
            who: "arn:aws:iam::123456789012:user/alice".into(),
            evidence: None,
        };
        assert!(!has_new_evidence(&current, &[bytes.clone(), ports.clone()]));
        let later = reason(
            "aws:num-established-tcp-connections",
            ReasonSource::Peers,
            6_000,
        );
        assert!(has_new_evidence(&current, &[bytes, later]));
    }

    #[test]
    fn foreign_text_is_shown_not_obeyed() {
        assert_eq!(
            foreign_text(" ok\u{202e}evil\u{1b}[2J\nnext ", 100).as_deref(),
            Some("ok\u{fffd}evil\u{fffd}[2J\nnext")
        );
        assert_eq!(foreign_text("abcdef", 3).as_deref(), Some("abc"));
        assert_eq!(foreign_text(" \n ", 10), None);
    }

    #[test]
    fn notes_and_owners_are_bounded_and_plain_text() {
        assert!(check_text("note", "  ", 10, true).is_err());
        assert!(check_text("note", &"x".repeat(11), 10, true).is_err());
        assert!(check_text("note", "a\u{1b}[31mred", 100, true).is_err());
        assert_eq!(
            check_text("note", " two\nlines ", 100, true).unwrap(),
            "two\nlines"
        );
    }

    /// Owners are one line (the notes' rule let newlines and tabs in); neither notes nor owners
    /// may hold bidirectional controls, which reverse what follows them on screen.
    #[test]
    fn owners_are_one_line_and_no_text_holds_bidi_controls() {
        for owner in ["alice\nbob", "alice\tbob"] {
            let e = check_text("owner", owner, 128, false).unwrap_err();
            assert!(e.to_string().contains("one line"), "{e}");
        }
        for bidi in [
            '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200f}',
        ] {
            let text = format!("approved{bidi}devorppa");
            assert!(check_text("note", &text, 100, true).is_err(), "{bidi:?}");
            assert!(check_text("owner", &text, 128, false).is_err(), "{bidi:?}");
        }
        assert_eq!(
            check_text("owner", "José Müller", 128, false).unwrap(),
            "José Müller"
        );
    }
}
