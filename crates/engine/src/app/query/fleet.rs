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
    /// Only things of this account (`unknown` for things whose account is not known).
    pub account: Option<String>,
}

/// Whether a stored key is of `account` (`unknown`: of no known account).
pub fn of_account(key: &str, account: &str) -> bool {
    match crate::model::scope::ThingKey::parse(key).account {
        Some(a) => a == account,
        None => account == "unknown",
    }
}

/// The fleet ranked, filtered by investigation state and cut to a limit.
pub fn triage(store: &Store, query: &TriageQuery) -> Result<Vec<FleetRow>> {
    let mut ranked = ranked(store, query.options)?;
    if let Some(s) = query.case_state {
        ranked.retain(|r| r.state == s);
    }
    if let Some(a) = &query.account {
        ranked.retain(|r| of_account(&r.ranked.thing, a));
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
        id: crate::model::scope::Thing::from_key(&r.thing),
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

/// A kept screen of the whole fleet where the data lies, as `ddesk athena screens` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScreenRecord {
    /// The Athena source.
    pub source: String,
    /// Window start (epoch ms).
    pub from: crate::time::Millis,
    /// Window end (epoch ms).
    pub to: crate::time::Millis,
    /// Things that reported in the window.
    pub things_screened: u64,
    /// Things kept as candidates.
    pub candidates: u64,
    /// Queries the screen ran.
    pub queries: u64,
    /// Bytes they scanned.
    pub bytes_scanned: u64,
    /// What they cost.
    pub cost_usd: f64,
    /// Statistics rows kept (the fleet's and the name families' per metric and hour).
    pub statistics: u64,
}

/// Every kept screen, with how many candidates and statistics it keeps.
pub fn screens(store: &Store) -> Result<Vec<ScreenRecord>> {
    let evidence = store.screen_evidence()?;
    store
        .screens()?
        .into_iter()
        .map(|s| {
            let mut things: Vec<&str> = evidence
                .iter()
                .filter(|e| e.source == s.source)
                .map(|e| e.evidence.thing.as_str())
                .collect();
            things.sort_unstable();
            things.dedup();
            Ok(ScreenRecord {
                statistics: store.screen_stats(&s.source, None)?.len() as u64,
                candidates: things.len() as u64,
                source: s.source,
                from: s.from,
                to: s.to,
                things_screened: s.things,
                queries: s.queries,
                bytes_scanned: s.bytes_scanned,
                cost_usd: s.cost_usd,
            })
        })
        .collect()
}

/// The statistics a source's kept screen judged its candidates against, optionally of one
/// metric; a source without a kept screen is an error that says so.
pub fn screen_stats(
    store: &Store,
    source: &str,
    metric: Option<&str>,
) -> Result<Vec<crate::store::ScreenStat>> {
    if !store.screens()?.iter().any(|s| s.source == source) {
        return Err(crate::Error::NotFound(format!(
            "no kept screen of source {source:?}: `ddesk sync --source {source}` screens it"
        )));
    }
    Ok(store.screen_stats(source, metric)?)
}

/// The Security Hub findings the cache holds records of, optionally of one account (12 digits).
pub fn hub_findings(
    store: &Store,
    account: Option<&str>,
) -> Result<Vec<crate::store::HubFindingRow>> {
    if let Some(a) = account {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            return Err(crate::Error::InvalidInput(format!(
                "--account {a:?} is not a 12-digit AWS account"
            )));
        }
    }
    Ok(store.hub_findings(account)?)
}
