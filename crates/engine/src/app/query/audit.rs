//! Detect and Audit records: violations, audit results, findings, mitigation executions.

use crate::analysis::timeline;
use serde::Serialize;

use crate::app::ViolationView;
use crate::store::{AuditRow, FindingRow, Store};
use crate::time::{self, Millis};
use crate::Result;

/// Violations, of one thing or all, all or only those in alarm.
pub fn violations(
    store: &Store,
    thing: Option<&str>,
    active_only: bool,
) -> Result<Vec<ViolationView>> {
    let thing = thing
        .map(|t| crate::app::require_thing(store, t))
        .transpose()?;
    let thing = thing.as_deref();
    Ok(store
        .violations(thing, active_only)?
        .into_iter()
        .map(violation_view)
        .collect())
}

/// A violation as the page and `ddesk violations` show it.
pub fn violation_view(v: crate::store::ViolationRow) -> ViolationView {
    ViolationView {
        categories: v
            .metric
            .as_deref()
            .map(crate::analysis::categories::for_metric)
            .unwrap_or_default(),
        violation_id: v.violation_id,
        id: crate::model::scope::Thing::from_key(&v.thing),
        security_profile: v.security_profile,
        behavior: v.behavior,
        metric: v.metric,
        started: v.started,
        ended: v.ended,
        last_event: v.last_event,
        last_value: v.last_value,
        verification_state: v.verification_state,
        verification_description: v.verification_description,
        confidence: v.confidence,
    }
}

/// Audit history per task and check (of one check, if given).
pub fn audits(store: &Store, check: Option<&str>) -> Result<Vec<AuditRow>> {
    Ok(store.audits(check)?)
}

/// Findings, of one check and/or naming one resource.
pub fn findings(
    store: &Store,
    check: Option<&str>,
    resource: Option<&str>,
) -> Result<Vec<FindingRow>> {
    Ok(store.findings(check, resource)?)
}

/// A mitigation task as AWS ran it, joined to the action log (`ddesk mitigations`).
#[derive(Debug, Clone, Serialize)]
pub struct MitigationRecord {
    /// Task id.
    pub task_id: String,
    /// Audit or Detect.
    pub kind: crate::model::MitigationKind,
    /// Mitigation action name.
    pub action: String,
    /// Thing (its name).
    pub thing: Option<String>,
    /// The thing's account, when known.
    pub account: Option<String>,
    /// Finding.
    pub finding_id: Option<String>,
    /// Violation.
    pub violation_id: Option<String>,
    /// The execution's status.
    pub status: String,
    /// The task's status.
    pub task_status: Option<String>,
    /// Start.
    #[serde(serialize_with = "time::instant_opt")]
    pub started: Option<Millis>,
    /// End.
    #[serde(serialize_with = "time::instant_opt")]
    pub ended: Option<Millis>,
    /// Error code.
    pub error_code: Option<String>,
    /// Its message.
    pub message: Option<String>,
    /// The sequence number of the logged intent that started it.
    pub logged_action: Option<i64>,
}

/// Mitigation executions, of one thing or all.
pub fn mitigations(store: &Store, thing: Option<&str>) -> Result<Vec<MitigationRecord>> {
    let thing = thing
        .map(|t| crate::app::require_thing(store, t))
        .transpose()?;
    let thing = thing.as_deref();
    Ok(timeline::mitigations(store, thing)?
        .into_iter()
        .map(|m| {
            let r = m.row;
            MitigationRecord {
                task_id: r.task_id,
                kind: r.kind,
                action: r.action,
                account: r
                    .thing
                    .as_deref()
                    .and_then(|t| crate::model::scope::ThingKey::parse(t).account)
                    .map(str::to_string),
                thing: r
                    .thing
                    .as_deref()
                    .map(|t| crate::model::scope::name_of(t).to_string()),
                finding_id: r.finding_id,
                violation_id: r.violation_id,
                status: r.status,
                task_status: r.task_status,
                started: r.start,
                ended: r.end,
                error_code: r.error_code,
                message: r.message,
                logged_action: m.logged,
            }
        })
        .collect())
}
