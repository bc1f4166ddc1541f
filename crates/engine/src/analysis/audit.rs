//! Audit-check history: per check, the non-compliant and total resource counts of each audit
//! task over time — what the Audit screen charts next to the latest findings.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::{Store, StoreError};
use crate::time::Millis;

/// One check's counts per audit task, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckHistory {
    /// Check name.
    pub check: String,
    /// `(task start, non-compliant, total)`; tasks without a start time are left out.
    pub points: Vec<(Millis, i64, i64)>,
}

/// Every check's history in `[from, to)`, or one check's.
pub fn history(
    store: &Store,
    check: Option<&str>,
    from: Millis,
    to: Millis,
) -> Result<Vec<CheckHistory>, StoreError> {
    let mut by_check: BTreeMap<String, Vec<(Millis, i64, i64)>> = BTreeMap::new();
    for r in store.audits(check)? {
        let Some(t) = r.task_start.filter(|t| (from..to).contains(t)) else {
            continue;
        };
        by_check.entry(r.check).or_default().push((
            t,
            r.non_compliant.unwrap_or(0),
            r.total.unwrap_or(0),
        ));
    }
    Ok(by_check
        .into_iter()
        .map(|(check, mut points)| {
            points.sort();
            CheckHistory { check, points }
        })
        .collect())
}
