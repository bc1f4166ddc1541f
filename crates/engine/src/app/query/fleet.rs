//! The fleet ranking.

use crate::analysis::triage;
use crate::app::{FleetRow, ReasonView};
use crate::cases::{self, CaseRanked, CaseState};

use crate::store::Store;
use crate::Result;

/// The fleet ranked by evidence with the investigation states applied: what the triage screen
/// and `ddesk triage` both show.
pub fn ranked(store: &Store, options: triage::TriageOptions) -> Result<Vec<CaseRanked>> {
    let ranked = triage::rank(store, options)?;
    let states = cases::thing_states(store)?;
    Ok(cases::apply(ranked, &states))
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
pub fn triage(store: &Store, query: &TriageQuery) -> Result<Vec<FleetRow>> {
    let mut ranked = ranked(store, query.options)?;
    if let Some(s) = query.case_state {
        ranked.retain(|r| r.state == s);
    }
    if let Some(n) = query.limit {
        ranked.truncate(n);
    }
    let quarantined = crate::actions::log::ActionLog::read(&store.action_log()?).quarantined();
    Ok(ranked
        .into_iter()
        .map(|c| {
            let q = quarantined.contains(&c.ranked.thing);
            fleet_row(c, q)
        })
        .collect())
}

/// A thing's row in the ranking, as the triage screen and `ddesk triage` show it.
pub fn fleet_row(c: CaseRanked, quarantined: bool) -> FleetRow {
    let r = c.ranked;
    FleetRow {
        thing: r.thing,
        score: r.score,
        reasons: r.reasons.into_iter().map(reason_view).collect(),
        categories: r.categories,
        open_violations: r.open_violations as u32,
        last_report: r.last_report,
        case_state: c.state,
        case_owner: c.owner,
        down_ranked: c.down_ranked,
        quarantined,
    }
}

/// One reason, as a row shows it.
pub fn reason_view(r: triage::Reason) -> ReasonView {
    ReasonView {
        text: r.text,
        metric: r.metric,
        categories: r.categories,
        since: r.since,
        source: r.source,
    }
}
