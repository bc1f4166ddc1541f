//! The fleet ranking.

use crate::analysis::categories::Category;
use crate::analysis::triage;
use crate::cases::{self, CaseRanked, CaseState};
use serde::Serialize;

use crate::store::Store;
use crate::time::{self, Millis};
use crate::Result;

/// The fleet ranked by evidence with the investigation states applied: what the triage screen
/// and `ddesk triage` both show.
pub fn ranked(store: &Store, options: triage::TriageOptions) -> Result<Vec<CaseRanked>> {
    let ranked = triage::rank(store, options)?;
    let states = cases::thing_states(store)?;
    Ok(cases::apply(ranked, &states))
}

/// One reason a thing is suspicious.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonRecord {
    /// For people, in one line.
    pub text: String,
    /// Metric concerned.
    pub metric: String,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// Since when.
    #[serde(serialize_with = "time::rfc3339")]
    pub since: Millis,
    /// What it was compared with.
    pub source: crate::analysis::triage::ReasonSource,
}

/// A thing in the ranking (`ddesk triage`).
#[derive(Debug, Clone, Serialize)]
pub struct TriageRecord {
    /// Thing.
    pub thing: String,
    /// Score, 0–100.
    pub score: f64,
    /// Why.
    pub reasons: Vec<ReasonRecord>,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// Open violations.
    pub open_violations: usize,
    /// Newest datapoint.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub last_report: Option<Millis>,
    /// Investigation state.
    pub case_state: CaseState,
    /// Its owner.
    pub case_owner: Option<String>,
    /// Why the score was lowered (resolved benign, no new evidence).
    pub down_ranked: Option<String>,
}

/// What `ddesk triage` ranks.
#[derive(Debug, Clone, Default)]
pub struct TriageQuery {
    /// Window and end.
    pub options: triage::TriageOptions,
    /// Only things in this investigation state.
    pub case_state: Option<CaseState>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// The fleet ranked, filtered by investigation state and cut to a limit.
pub fn triage(store: &Store, query: &TriageQuery) -> Result<Vec<TriageRecord>> {
    let mut ranked = ranked(store, query.options)?;
    if let Some(s) = query.case_state {
        ranked.retain(|r| r.state == s);
    }
    if let Some(n) = query.limit {
        ranked.truncate(n);
    }
    Ok(ranked
        .into_iter()
        .map(|c| {
            let r = c.ranked;
            TriageRecord {
                thing: r.thing,
                score: r.score,
                reasons: r
                    .reasons
                    .into_iter()
                    .map(|x| ReasonRecord {
                        text: x.text,
                        metric: x.metric,
                        categories: x.categories,
                        since: x.since,
                        source: x.source,
                    })
                    .collect(),
                categories: r.categories,
                open_violations: r.open_violations,
                last_report: r.last_report,
                case_state: c.state,
                case_owner: c.owner,
                down_ranked: c.down_ranked,
            }
        })
        .collect())
}
