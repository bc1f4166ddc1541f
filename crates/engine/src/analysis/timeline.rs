//! One timeline per thing: violation events, audit findings on its identity, and (once the
//! action log lands) actions taken — in time order.

use serde::Serialize;

use crate::store::{Store, StoreError};
use crate::time::Millis;

/// One entry of a thing's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When.
    pub t: Millis,
    /// `violation`, `finding`.
    pub kind: &'static str,
    /// What happened, for people.
    pub what: String,
    /// The record's id (violation id, finding id).
    pub id: String,
}

/// The timeline of `thing`. Findings are joined on resources that name the thing itself
/// (client IDs, thing names in identifiers); certificate findings join once the thing's
/// principals are synced.
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
    for f in store.findings(None, Some(thing))? {
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
