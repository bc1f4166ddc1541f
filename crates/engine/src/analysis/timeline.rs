//! One timeline per thing: violation events, audit findings on its identity and its
//! certificates, and the response actions taken on it — in time order.

use serde::Serialize;

use crate::actions::ActionLog;
use crate::store::{FindingRow, MitigationRow, Store, StoreError};
use crate::time::Millis;

/// What a timeline entry is (entries at the same instant are listed in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// An action from the action log (this cache's or a colleague's).
    Action,
    /// A change of investigation state, or a note.
    Case,
    /// An audit finding on the thing or one of its certificates.
    Finding,
    /// A mitigation action execution.
    Mitigation,
    /// A Detect violation event.
    Violation,
}

impl EntryKind {
    /// `action`, `case`, `finding`, `mitigation` or `violation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Action => "action",
            Self::Case => "case",
            Self::Finding => "finding",
            Self::Mitigation => "mitigation",
            Self::Violation => "violation",
        }
    }
}

/// One entry of a thing's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When.
    pub t: Millis,
    /// What it is.
    pub kind: EntryKind,
    /// What happened, for people.
    pub what: String,
    /// The record's id (violation id, finding id, action-log sequence number).
    pub id: String,
}

/// The audit findings of `thing`: those whose resource is exactly the thing's name (or client
/// id) or one of its certificates (as read by a drill-down sync or snapshotted by an action).
/// Exact, never by substring: `cam-1` is not `cam-10`, and a device cannot plant a finding in
/// another thing's report by choosing a client id that contains its name.
pub fn thing_findings(store: &Store, thing: &str) -> Result<Vec<FindingRow>, StoreError> {
    findings_of(store, thing, &ActionLog::read(&store.action_log()?))
}

fn findings_of(store: &Store, thing: &str, log: &ActionLog) -> Result<Vec<FindingRow>, StoreError> {
    let mut certs = store.thing_certificates(thing)?;
    for i in log.intents_on(thing) {
        certs.extend(i.plan.prior.certificates.iter().map(|c| c.id.clone()));
    }
    certs.sort();
    certs.dedup();
    // Findings name resources as AWS knows them (the bare thing name); of another account
    // they are another thing's.
    let key = crate::model::scope::ThingKey::parse(thing);
    let mut findings = store.findings(None, Some(key.name))?;
    for c in &certs {
        findings.extend(store.findings(None, Some(c))?);
    }
    findings.retain(|f| {
        key.account.is_none() || f.account.is_none() || f.account.as_deref() == key.account
    });
    findings.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
    findings.dedup_by(|a, b| a.finding_id == b.finding_id);
    Ok(findings)
}

/// A mitigation execution with the action-log intent that started its task, if this cache's.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mitigation {
    /// The execution.
    #[serde(flatten)]
    pub row: MitigationRow,
    /// The sequence number of the intent whose plan started the task (`ddesk actions log`).
    pub logged: Option<i64>,
}

/// The intent (by sequence number) of each mitigation task id this cache's action log started.
fn logged_tasks(log: &ActionLog) -> std::collections::HashMap<String, i64> {
    use crate::actions::Step;
    let mut out = std::collections::HashMap::new();
    for i in log.intents() {
        for step in &i.plan.steps {
            if let Step::StartDetectMitigationActionsTask { task_id, .. }
            | Step::StartAuditMitigationActionsTask { task_id, .. } = step
            {
                out.entry(task_id.clone()).or_insert(i.seq);
            }
        }
    }
    out
}

/// Every mitigation execution, joined to the action log; only `thing`'s when given (named by
/// the execution, through its violation, or through one of the thing's findings).
pub fn mitigations(store: &Store, thing: Option<&str>) -> Result<Vec<Mitigation>, StoreError> {
    let log = ActionLog::read(&store.action_log()?);
    match thing {
        None => {
            let logged = logged_tasks(&log);
            Ok(store
                .mitigations()?
                .into_iter()
                .map(|row| Mitigation {
                    logged: logged.get(&row.task_id).copied(),
                    row,
                })
                .collect())
        }
        Some(t) => {
            let findings = findings_of(store, t, &log)?;
            mitigations_of(store, t, &findings, &log)
        }
    }
}

fn mitigations_of(
    store: &Store,
    thing: &str,
    findings: &[FindingRow],
    log: &ActionLog,
) -> Result<Vec<Mitigation>, StoreError> {
    let logged = logged_tasks(log);
    let ids: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.finding_id.as_str()).collect();
    Ok(store
        .mitigations()?
        .into_iter()
        .filter(|m| {
            m.thing.as_deref() == Some(thing)
                || m.finding_id.as_deref().is_some_and(|f| ids.contains(f))
        })
        .map(|row| Mitigation {
            logged: logged.get(&row.task_id).copied(),
            row,
        })
        .collect())
}

/// The timeline of `thing`. Findings are joined on resources that name the thing itself
/// (client IDs, thing names in identifiers) and on its certificates (as read by a drill-down
/// sync or snapshotted by an action); actions come from the action log, with their outcome.
pub fn thing_timeline(store: &Store, thing: &str) -> Result<Vec<Entry>, StoreError> {
    let mut out = Vec::new();
    case_entries(store, thing, &mut out)?;
    violation_entries(store, thing, &mut out)?;
    let log = ActionLog::read(&store.action_log()?);
    action_entries(store, thing, &log, &mut out);
    audit_entries(store, thing, &log, &mut out)?;
    out.sort_by(|a, b| a.t.cmp(&b.t).then_with(|| a.kind.cmp(&b.kind)));
    Ok(out)
}

/// The investigation: every state set and every note, with who and when.
fn case_entries(store: &Store, thing: &str, out: &mut Vec<Entry>) -> Result<(), StoreError> {
    for e in store.case_events(&crate::store::cases::Subject::Thing(thing.to_string()).key())? {
        let from = if e.origin.is_some() {
            " in Security Hub"
        } else {
            ""
        };
        let what = match (&e.state, &e.note) {
            (Some(state), _) => format!(
                "investigation {state}{} — set by {}{from}",
                e.owner
                    .as_deref()
                    .map(|o| format!(" (owner {o})"))
                    .unwrap_or_default(),
                e.who
            ),
            (None, Some(note)) => format!("note by {}{from}: {note}", e.who),
            (None, None) => continue,
        };
        out.push(Entry {
            t: e.at,
            kind: EntryKind::Case,
            what,
            id: format!("case-{}", e.id),
        });
    }
    Ok(())
}

/// Detect's violation events of the thing.
fn violation_entries(store: &Store, thing: &str, out: &mut Vec<Entry>) -> Result<(), StoreError> {
    for e in store.violation_events(thing)? {
        let value = e.value.map(|v| format!(" (value {v})")).unwrap_or_default();
        out.push(Entry {
            t: e.time,
            kind: EntryKind::Violation,
            what: format!(
                "{}: {} on {} [{}]{value}",
                e.event_type,
                e.behavior,
                e.metric.unwrap_or_default(),
                e.security_profile
            ),
            id: e.violation_id,
        });
    }
    Ok(())
}

/// The action log's actions on the thing with their outcome, and colleagues' actions as last
/// read back from the shared anchor.
fn action_entries(store: &Store, thing: &str, log: &ActionLog, out: &mut Vec<Entry>) {
    for i in log.intents_on(thing) {
        let outcome = log
            .outcome_of(i.seq)
            .map_or_else(|| "pending".to_string(), |o| o.outcome.to_string());
        out.push(Entry {
            t: i.at,
            kind: EntryKind::Action,
            what: format!(
                "{}{} by {} ({}): {} — {outcome}",
                if i.demo { "[demo] " } else { "" },
                i.plan.action,
                i.who.aws,
                i.who.os_user,
                i.reason
            ),
            id: i.seq.to_string(),
        });
    }
    // Colleagues' actions on this thing, as last read back from the shared anchor.
    for c in crate::actions::anchor::colleagues(store).unwrap_or_default() {
        if c.thing.as_deref() != Some(thing) {
            continue;
        }
        out.push(Entry {
            t: c.at,
            kind: EntryKind::Action,
            // An unverified record (its hash or chain does not hold) says so first: anyone who
            // can write the anchor can write one. The cache id shows which identity it is.
            what: format!(
                "{} {}{} by {} ({}): {} — {} · cache {}{}",
                if c.verified {
                    "[colleague]"
                } else {
                    "[colleague, UNVERIFIED: its hash chain does not hold]"
                },
                if c.demo { "[demo] " } else { "" },
                c.action,
                c.who,
                c.os_user,
                c.reason,
                c.status,
                c.cache,
                if c.late {
                    " (reached the anchor more than a day after it says it was logged)"
                } else {
                    ""
                }
            ),
            id: format!("{}:{}", c.cache, c.seq),
        });
    }
}

/// Mitigation executions on the thing's findings, and the findings themselves.
fn audit_entries(
    store: &Store,
    thing: &str,
    log: &ActionLog,
    out: &mut Vec<Entry>,
) -> Result<(), StoreError> {
    let findings = findings_of(store, thing, log)?;
    for m in mitigations_of(store, thing, &findings, log)? {
        out.push(Entry {
            t: m.row.start.unwrap_or(0),
            kind: EntryKind::Mitigation,
            what: format!(
                "AWS {} mitigation {} on {}: {}{}{}",
                m.row.kind.as_str(),
                m.row.action,
                m.row
                    .finding_id
                    .as_deref()
                    .map(|f| format!("finding {f}"))
                    .or_else(|| m
                        .row
                        .violation_id
                        .as_deref()
                        .map(|v| format!("violation {v}")))
                    .unwrap_or_else(|| "the thing".into()),
                m.row.status,
                m.row
                    .error_code
                    .as_deref()
                    .map(|c| format!(" ({c}: {})", m.row.message.as_deref().unwrap_or("")))
                    .unwrap_or_default(),
                m.logged
                    .map(|s| format!(" — started by action #{s}"))
                    .unwrap_or_default(),
            ),
            id: m.row.task_id,
        });
    }
    for f in findings {
        out.push(Entry {
            t: f.found.unwrap_or(0),
            kind: EntryKind::Finding,
            what: format!(
                "{} {}: {}",
                f.severity.map(|s| s.as_str()).unwrap_or_default(),
                f.check,
                f.reason.unwrap_or_default()
            ),
            id: f.finding_id,
        });
    }
    Ok(())
}
