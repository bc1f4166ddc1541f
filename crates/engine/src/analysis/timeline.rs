//! One timeline per thing: violation events, audit findings on its identity and its
//! certificates, and the response actions taken on it — in time order.

use serde::Serialize;

use crate::store::{outcome_of, FindingRow, LogRecord, Store, StoreError};
use crate::time::Millis;

/// One entry of a thing's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When.
    pub t: Millis,
    /// `violation`, `finding`, `action`.
    pub kind: &'static str,
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
    findings_of(store, thing, &store.action_log()?)
}

fn findings_of(
    store: &Store,
    thing: &str,
    log: &[LogRecord],
) -> Result<Vec<FindingRow>, StoreError> {
    let mut certs = store.thing_certificates(thing)?;
    for r in log {
        if r.record["type"] != "intent" || r.record["plan"]["thing"] != thing {
            continue;
        }
        if let Some(list) = r.record["plan"]["prior"]["certificates"].as_array() {
            certs.extend(
                list.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_string)),
            );
        }
    }
    certs.sort();
    certs.dedup();
    let mut findings = store.findings(None, Some(thing))?;
    for c in &certs {
        findings.extend(store.findings(None, Some(c))?);
    }
    findings.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
    findings.dedup_by(|a, b| a.finding_id == b.finding_id);
    Ok(findings)
}

/// The timeline of `thing`. Findings are joined on resources that name the thing itself
/// (client IDs, thing names in identifiers) and on its certificates (as read by a drill-down
/// sync or snapshotted by an action); actions come from the action log, with their outcome.
pub fn thing_timeline(store: &Store, thing: &str) -> Result<Vec<Entry>, StoreError> {
    let mut out = Vec::new();
    for e in store.violation_events(thing)? {
        let value = e.value.map(|v| format!(" (value {v})")).unwrap_or_default();
        out.push(Entry {
            t: e.time,
            kind: "violation",
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
    let log = store.action_log()?;
    for r in &log {
        if r.record["type"] != "intent" || r.record["plan"]["thing"] != thing {
            continue;
        }
        let outcome = outcome_of(&log, r.seq)
            .and_then(|o| o.record["status"].as_str())
            .unwrap_or("pending");
        out.push(Entry {
            t: r.at,
            kind: "action",
            what: format!(
                "{}{} by {} ({}): {} — {outcome}",
                if r.record["demo"] == true {
                    "[demo] "
                } else {
                    ""
                },
                r.record["plan"]["action"].as_str().unwrap_or("action"),
                r.record["who"]["aws"].as_str().unwrap_or("unknown"),
                r.record["who"]["os_user"].as_str().unwrap_or("unknown"),
                r.record["reason"].as_str().unwrap_or("")
            ),
            id: r.seq.to_string(),
        });
    }
    // Colleagues' actions on this thing, as last read back from the shared anchor.
    for c in crate::anchor::colleagues(store).unwrap_or_default() {
        if c.thing.as_deref() != Some(thing) {
            continue;
        }
        out.push(Entry {
            t: c.at,
            kind: "action",
            what: format!(
                "[colleague] {}{} by {} ({}): {} — {}",
                if c.demo { "[demo] " } else { "" },
                c.action,
                c.who,
                c.os_user,
                c.reason,
                c.status
            ),
            id: format!("{}:{}", c.cache, c.seq),
        });
    }
    for f in findings_of(store, thing, &log)? {
        out.push(Entry {
            t: f.found.unwrap_or(0),
            kind: "finding",
            what: format!(
                "{} {}: {}",
                f.severity.unwrap_or_default(),
                f.check,
                f.reason.unwrap_or_default()
            ),
            id: f.finding_id,
        });
    }
    out.sort_by(|a, b| a.t.cmp(&b.t).then_with(|| a.kind.cmp(b.kind)));
    Ok(out)
}
