//! Detect and Audit records: violations, audit results, findings, mitigation executions.

use crate::analysis::timeline;
use serde::Serialize;

use crate::store::Store;
use crate::time::{self, Millis};
use crate::Result;

/// A Detect violation (`ddesk violations`).
#[derive(Debug, Clone, Serialize)]
pub struct ViolationRecord {
    /// Violation id.
    pub violation_id: String,
    /// Thing.
    pub thing: String,
    /// Security profile.
    pub security_profile: String,
    /// Behavior.
    pub behavior: String,
    /// Metric.
    pub metric: Option<String>,
    /// Start.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub started: Option<Millis>,
    /// End; null while in alarm.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub ended: Option<Millis>,
    /// The newest event type.
    pub last_event: Option<String>,
    /// The value that last violated, as AWS sent it.
    pub last_value: Option<serde_json::Value>,
    /// The analyst's verification state.
    pub verification_state: Option<crate::model::VerificationState>,
    /// Its note.
    pub verification_description: Option<String>,
    /// ML Detect confidence.
    pub confidence: Option<crate::model::Confidence>,
}

/// Violations, of one thing or all, all or only those in alarm.
pub fn violations(
    store: &Store,
    thing: Option<&str>,
    active_only: bool,
) -> Result<Vec<ViolationRecord>> {
    if let Some(t) = thing {
        crate::app::require_thing(store, t)?;
    }
    Ok(store
        .violations(thing, active_only)?
        .into_iter()
        .map(|v| ViolationRecord {
            violation_id: v.violation_id,
            thing: v.thing,
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
        })
        .collect())
}

/// One check of one audit task (`ddesk audits`).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Task id.
    pub task_id: String,
    /// Task start.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub task_start: Option<Millis>,
    /// Check name.
    pub check: String,
    /// Check status.
    pub status: String,
    /// Non-compliant resources.
    pub non_compliant: Option<i64>,
    /// Resources evaluated.
    pub total: Option<i64>,
    /// Suppressed non-compliant resources.
    pub suppressed: Option<i64>,
    /// Error code of a failed check.
    pub error_code: Option<String>,
    /// Its message.
    pub message: Option<String>,
}

/// Audit history per task and check (of one check, if given).
pub fn audits(store: &Store, check: Option<&str>) -> Result<Vec<AuditRecord>> {
    Ok(store
        .audits(check)?
        .into_iter()
        .map(|a| AuditRecord {
            task_id: a.task_id,
            task_start: a.task_start,
            check: a.check,
            status: a.status,
            non_compliant: a.non_compliant,
            total: a.total,
            suppressed: a.suppressed,
            error_code: a.error_code,
            message: a.message,
        })
        .collect())
}

/// An audit finding (`ddesk findings`).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRecord {
    /// Finding id.
    pub finding_id: String,
    /// Audit task.
    pub task_id: Option<String>,
    /// Check.
    pub check: String,
    /// Severity.
    pub severity: Option<crate::model::Severity>,
    /// Resource type.
    pub resource_type: Option<String>,
    /// The non-compliant resource.
    pub resource: String,
    /// Why, for people.
    pub reason: Option<String>,
    /// Why, as a code.
    pub reason_code: Option<String>,
    /// Suppressed.
    pub suppressed: bool,
    /// When found.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub found: Option<Millis>,
    /// Related resources (certificates, client ids, things, policies).
    pub related_resources: Vec<crate::model::Resource>,
}

/// Findings, of one check and/or naming one resource.
pub fn findings(
    store: &Store,
    check: Option<&str>,
    resource: Option<&str>,
) -> Result<Vec<FindingRecord>> {
    Ok(store
        .findings(check, resource)?
        .into_iter()
        .map(|f| FindingRecord {
            finding_id: f.finding_id,
            task_id: f.task_id,
            check: f.check,
            severity: f.severity,
            resource_type: f.resource_type,
            resource: f.resource,
            reason: f.reason,
            reason_code: f.reason_code,
            suppressed: f.suppressed,
            found: f.found,
            related_resources: f.related_resources,
        })
        .collect())
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
    /// Thing.
    pub thing: Option<String>,
    /// Finding.
    pub finding_id: Option<String>,
    /// Violation.
    pub violation_id: Option<String>,
    /// The execution's status.
    pub status: String,
    /// The task's status.
    pub task_status: Option<String>,
    /// Start.
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub started: Option<Millis>,
    /// End.
    #[serde(serialize_with = "time::rfc3339_opt")]
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
    if let Some(t) = thing {
        crate::app::require_thing(store, t)?;
    }
    Ok(timeline::mitigations(store, thing)?
        .into_iter()
        .map(|m| {
            let r = m.row;
            MitigationRecord {
                task_id: r.task_id,
                kind: r.kind,
                action: r.action,
                thing: r.thing,
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
