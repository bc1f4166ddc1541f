//! Response actions: quarantine (a static thing group with a deny-all policy), release (back to
//! exactly the snapshot taken before), certificate deactivation with its undo, and the account's
//! mitigation actions on a violation or an audit finding.
//!
//! Every action is a [`Plan`] first — the exact API calls on the exact resources, with the prior
//! state and pre-flight warnings — which the caller shows for confirmation (`--dry-run` stops
//! there). [`execute`](mod@execute) then appends the intent to the hash-chained log *before* the first call
//! and the outcome (with AWS request ids or error codes) *after*; a call whose response was lost
//! is checked against AWS before it is logged. If the process dies in between, [`reconcile`]
//! (run at every start) reads the thing's real state and records what really happened.
//!
//! On the demo fleet the same code runs against a simulated account kept in the cache, and
//! every record says `demo: true`.
//!
//! Just over 600 lines because the planning of every action (quarantine, release, certificate,
//! mitigation) is here with the types it shares; the calls are in `backend`, execution in
//! `execute`, mitigation tasks in `mitigation`, the log in [`log`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::Store;
use crate::{Error, Result};

pub mod anchor;
mod backend;
mod execute;
pub mod log;
mod mitigation;

pub use backend::{Backend, DEFAULT_CHAIN};
pub use execute::{execute, reconcile, Executed};
pub use log::{ActionLog, LogEntry, Outcome, OutcomeKind, OutcomeState};
pub use mitigation::{Executions, TaskExecution, TaskObservation, TaskStatus};

/// Minimum length of a reason.
pub const MIN_REASON: usize = 10;

/// The deny-all policy attached to a quarantine group.
pub const DENY_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;

/// One API call of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call")]
pub enum Step {
    /// Create the quarantine group.
    CreateThingGroup {
        /// Group.
        group: String,
    },
    /// Create the deny-all policy.
    CreatePolicy {
        /// Policy name.
        policy: String,
        /// Policy document.
        document: String,
    },
    /// Attach the policy to the group.
    AttachPolicy {
        /// Policy name.
        policy: String,
        /// Group the policy is attached to.
        group: String,
    },
    /// Add the thing to a group.
    AddThingToThingGroup {
        /// Thing.
        thing: String,
        /// Group.
        group: String,
        /// Evict a dynamic group membership if the thing is in 10 groups.
        override_dynamic_groups: bool,
    },
    /// Remove the thing from a group.
    RemoveThingFromThingGroup {
        /// Thing.
        thing: String,
        /// Group.
        group: String,
    },
    /// Set a certificate's status.
    UpdateCertificate {
        /// Certificate id.
        certificate_id: String,
        /// `ACTIVE` or `INACTIVE`.
        new_status: String,
    },
    /// Run mitigation actions on a violation.
    StartDetectMitigationActionsTask {
        /// Task id (derived from the action, target and minute).
        task_id: String,
        /// Violation.
        violation_id: String,
        /// Mitigation action name.
        action: String,
        /// Idempotency token, persisted in the intent before the call.
        client_request_token: String,
    },
    /// Set the analyst's verification state on a Detect violation (PutVerificationStateOnViolation).
    PutVerificationStateOnViolation {
        /// Violation.
        violation_id: String,
        /// The verdict.
        state: crate::model::VerificationState,
        /// The analyst's note for AWS (at most 1,000 characters).
        description: Option<String>,
    },
    /// Set a Security Hub finding's workflow status and note (BatchUpdateFindings): the
    /// analyst's investigation state pushed to the SOC's hub.
    BatchUpdateFindings {
        /// The finding's `ProductArn`.
        product_arn: String,
        /// The finding's `Id`.
        id: String,
        /// `Workflow.Status`: NEW, NOTIFIED or RESOLVED.
        workflow_status: String,
        /// `Note.Text` (at most 512 characters).
        note: String,
        /// `Note.UpdatedBy`.
        updated_by: String,
    },
    /// Run a mitigation action on an audit finding.
    StartAuditMitigationActionsTask {
        /// Task id.
        task_id: String,
        /// Finding.
        finding_id: String,
        /// The finding's check.
        check: String,
        /// Mitigation action name.
        action: String,
        /// Idempotency token.
        client_request_token: String,
    },
}

/// A certificate and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cert {
    /// Certificate id.
    pub id: String,
    /// `ACTIVE`, `INACTIVE`, `REVOKED`, …
    pub status: String,
}

/// The state an action changes, read before it, so the undo restores exactly this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prior {
    /// The thing's thing groups.
    pub groups: Vec<String>,
    /// The thing's certificates.
    pub certificates: Vec<Cert>,
}

/// Which response action a plan is. Its word is in every logged plan: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Move the thing into the quarantine group (its policy denies everything).
    Quarantine,
    /// Take it out again.
    Release,
    /// Start a Device Defender mitigation actions task on a violation or finding.
    Mitigate,
    /// Set a Detect violation's verification state.
    Verify,
    /// Push an investigation's state and note to its Security Hub findings.
    Hub,
}

impl ActionKind {
    /// Its word (as logged).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quarantine => "quarantine",
            Self::Release => "release",
            Self::Mitigate => "mitigate",
            Self::Verify => "verify",
            Self::Hub => "hub",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Which action.
    pub action: ActionKind,
    /// The thing acted on.
    pub thing: Option<String>,
    /// The quarantine group.
    pub group: Option<String>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// Pre-flight warnings.
    pub warnings: Vec<String>,
    /// A quarantine whose group does not exist yet and was not chosen to be created: it
    /// cannot run until planned again with the group's creation (`--create-group`).
    #[serde(default)]
    pub needs_group: bool,
    /// State before the action.
    pub prior: Prior,
    /// Whether this runs against the simulated demo account.
    pub demo: bool,
    /// Where it runs: set when planned ([`Backend::target`]); execution refuses any other
    /// account, region, source or caller. Absent in plans logged before targets existed.
    #[serde(default)]
    pub target: Option<Target>,
}

/// The account an action runs against, as the analyst confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Target {
    /// AWS account id (`demo` for the simulated account).
    pub account: String,
    /// Region (`demo` for the simulated account).
    pub region: String,
    /// The Device Defender source acted through, `default credential chain`, or `demo`.
    pub source: String,
    /// The caller's ARN (STS GetCallerIdentity).
    pub caller: String,
}

impl Plan {
    /// The calls as lines a person can check before confirming.
    pub fn preview(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::CreateThingGroup { group } => format!("CreateThingGroup {group}"),
                Step::CreatePolicy { policy, document } => {
                    format!("CreatePolicy {policy} with document {document}")
                }
                Step::AttachPolicy { policy, group } => {
                    format!("AttachPolicy {policy} to thing group {group}")
                }
                Step::AddThingToThingGroup {
                    thing,
                    group,
                    override_dynamic_groups,
                } => format!(
                    "AddThingToThingGroup thing {thing} -> group {group} (overrideDynamicGroups={override_dynamic_groups})"
                ),
                Step::RemoveThingFromThingGroup { thing, group } => {
                    format!("RemoveThingFromThingGroup thing {thing} <- group {group}")
                }
                Step::UpdateCertificate {
                    certificate_id,
                    new_status,
                } => format!("UpdateCertificate {certificate_id} newStatus={new_status}"),
                Step::StartDetectMitigationActionsTask {
                    task_id,
                    violation_id,
                    action,
                    ..
                } => format!(
                    "StartDetectMitigationActionsTask {task_id}: action {action} on violation {violation_id}"
                ),
                Step::StartAuditMitigationActionsTask {
                    task_id,
                    finding_id,
                    check,
                    action,
                    ..
                } => format!(
                    "StartAuditMitigationActionsTask {task_id}: action {action} on finding {finding_id} ({check})"
                ),
                Step::BatchUpdateFindings {
                    product_arn,
                    id,
                    workflow_status,
                    note,
                    updated_by,
                } => format!(
                    "BatchUpdateFindings {product_arn} {id}: Workflow.Status={workflow_status} Note={note:?} UpdatedBy={updated_by:?}"
                ),
                Step::PutVerificationStateOnViolation {
                    violation_id,
                    state,
                    description,
                } => format!(
                    "PutVerificationStateOnViolation {violation_id} verificationState={state}{}",
                    description
                        .as_deref()
                        .map(|d| format!(" verificationStateDescription={d:?}"))
                        .unwrap_or_default()
                ),
            })
            .collect()
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallError {
    /// AWS error code, or `ConnectionLost` / `Timeout` when no response came.
    pub code: String,
    /// Message.
    pub message: String,
    /// Whether the response was lost (the call may or may not have taken effect).
    pub lost: bool,
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The AWS caller identity (STS GetCallerIdentity ARN), or `demo`.
    pub aws: String,
    /// The OS user.
    pub os_user: String,
}

/// Whether a policy document allows `iot:Connect` for any client id.
pub fn allows_any_client_id(document: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    let as_list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        v @ Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && as_list(&s["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "iot:Connect" | "iot:*" | "*"))
            && as_list(&s["Resource"])
                .iter()
                .any(|r| r == "*" || r.ends_with(":client/*") || r.contains("${iot:ClientId}"))
    })
}

/// An investigation to push to Security Hub, as the application layer read it from the case:
/// the records it came through and what to set on their findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubPush {
    /// The thing's key, when the subject is a thing.
    pub thing: Option<String>,
    /// What the subject is called in messages (the thing's name, `finding ID`).
    pub named: String,
    /// The kind of the records (`violation`, `finding`).
    pub kind: &'static str,
    /// The records (violation ids, or the audit finding id).
    pub records: Vec<String>,
    /// `Workflow.Status` (NEW, NOTIFIED, RESOLVED).
    pub workflow: &'static str,
    /// `Note.Text`, cut to Security Hub's 512 characters here.
    pub note: String,
    /// `Note.UpdatedBy`.
    pub updated_by: String,
}

/// Plans pushing an investigation to the Security Hub findings its records came through: one
/// BatchUpdateFindings per finding. A subject with no Security Hub finding is refused.
pub fn plan_hub_push(store: &Store, push: &HubPush) -> Result<Plan> {
    let refs = store.hub_findings_of(push.kind, &push.records)?;
    if refs.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} came through no Security Hub finding: nothing to push (see `ddesk hub findings`)",
            push.named
        )));
    }
    let note: String = if push.note.chars().count() > 512 {
        push.note.chars().take(511).collect::<String>() + "…"
    } else {
        push.note.clone()
    };
    let mut warnings = Vec::new();
    let steps = refs
        .iter()
        .map(|r| {
            if r.workflow.as_deref() == Some(push.workflow) {
                warnings.push(format!(
                    "{} is already {} in Security Hub (as last read): the note is still added",
                    r.id, push.workflow
                ));
            }
            Step::BatchUpdateFindings {
                product_arn: r.product_arn.clone(),
                id: r.id.clone(),
                workflow_status: push.workflow.to_string(),
                note: note.clone(),
                updated_by: push.updated_by.clone(),
            }
        })
        .collect();
    Ok(Plan {
        action: ActionKind::Hub,
        thing: push.thing.clone(),
        group: None,
        steps,
        warnings,
        needs_group: false,
        prior: Prior::default(),
        demo: false,
        target: None,
    })
}

pub(crate) fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().chars().count() < MIN_REASON
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Error::InvalidInput(format!(
            "a reason of at least {MIN_REASON} characters is required (it goes into the action log)"
        )));
    }
    Ok(())
}

/// Plans a quarantine: snapshot, warnings, and the calls (group creation only with `create_group`).
pub async fn plan_quarantine(
    backend: &Backend,
    store: &Store,
    thing: &str,
    group: &str,
    create_group: bool,
    deactivate_certificate: bool,
) -> Result<Plan> {
    let name = crate::model::scope::name_of(thing);
    crate::sources::splunk::validate_thing(name)?;
    crate::sources::splunk::validate_thing(group)
        .map_err(|_| Error::InvalidInput(format!("{group:?} is not a valid thing group name")))?;
    let groups = backend.groups(store, thing).await?;
    let principals = backend.principals(thing).await?;
    let certificates = backend.certificates(store, thing, &principals).await?;
    let mut warnings = backend.client_id_warnings(&principals).await;
    let mut steps = Vec::new();
    if groups.iter().any(|g| g == group) {
        warnings.push(format!(
            "{name} is already in {group} (already quarantined)"
        ));
    }
    let mut needs_group = false;
    if !backend.group_exists(store, group).await? {
        if create_group {
            let policy = format!("{group}-DenyAll");
            steps.push(Step::CreateThingGroup {
                group: group.to_string(),
            });
            steps.push(Step::CreatePolicy {
                policy: policy.clone(),
                document: DENY_ALL_POLICY.to_string(),
            });
            steps.push(Step::AttachPolicy {
                policy,
                group: group.to_string(),
            });
        } else {
            needs_group = true;
            warnings.push(format!(
                "there is no thing group {group} yet: confirm its creation with a deny-all policy ({DENY_ALL_POLICY}) by passing --create-group"
            ));
        }
    }
    if !groups.iter().any(|g| g == group) {
        steps.push(Step::AddThingToThingGroup {
            thing: name.to_string(),
            group: group.to_string(),
            override_dynamic_groups: true,
        });
    }
    if deactivate_certificate {
        for c in certificates.iter().filter(|c| c.status == "ACTIVE") {
            steps.push(Step::UpdateCertificate {
                certificate_id: c.id.clone(),
                new_status: "INACTIVE".into(),
            });
        }
    }
    Ok(Plan {
        action: ActionKind::Quarantine,
        thing: Some(thing.to_string()),
        group: Some(group.to_string()),
        steps,
        warnings,
        needs_group,
        prior: Prior {
            groups,
            certificates,
        },
        demo: backend.is_demo(),
        target: None,
    })
}

/// Plans a release: back to the snapshot of the thing's open quarantine.
pub async fn plan_release(backend: &Backend, store: &Store, thing: &str) -> Result<Plan> {
    let name = crate::model::scope::name_of(thing);
    crate::sources::splunk::validate_thing(name)?;
    let log = ActionLog::read(&store.action_log()?);
    let quarantine = log.open_quarantine(thing).cloned().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{name} has no quarantine in the action log to release"
        ))
    })?;
    let group = quarantine.group.clone().unwrap_or_default();
    let now_groups = backend.groups(store, thing).await?;
    let principals = backend.principals(thing).await?;
    let now_certs = backend.certificates(store, thing, &principals).await?;
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    // A release always leaves the quarantine group, whatever the snapshot says.
    if now_groups.contains(&group) {
        steps.push(Step::RemoveThingFromThingGroup {
            thing: name.to_string(),
            group: group.clone(),
        });
    } else {
        warnings.push(format!("{name} is no longer in {group}"));
    }
    for g in &quarantine.prior.groups {
        if g != &group && !now_groups.contains(g) {
            steps.push(Step::AddThingToThingGroup {
                thing: name.to_string(),
                group: g.clone(),
                override_dynamic_groups: false,
            });
        }
    }
    for c in &quarantine.prior.certificates {
        if let Some(now) = now_certs.iter().find(|n| n.id == c.id) {
            if now.status != c.status && matches!(c.status.as_str(), "ACTIVE" | "INACTIVE") {
                steps.push(Step::UpdateCertificate {
                    certificate_id: c.id.clone(),
                    new_status: c.status.clone(),
                });
            }
        }
    }
    Ok(Plan {
        action: ActionKind::Release,
        thing: Some(thing.to_string()),
        group: Some(group),
        steps,
        warnings,
        needs_group: false,
        prior: Prior {
            groups: now_groups,
            certificates: now_certs,
        },
        demo: backend.is_demo(),
        target: None,
    })
}

/// What to run a mitigation action on.
#[derive(Debug, Clone)]
pub enum MitigationTarget {
    /// A Detect violation.
    Violation(String),
    /// An audit finding.
    Finding(String),
}

impl MitigationTarget {
    /// Which kind of target it is.
    pub fn kind(&self) -> MitigationFor {
        match self {
            Self::Violation(_) => MitigationFor::Violation,
            Self::Finding(_) => MitigationFor::Finding,
        }
    }
}

/// The kind of target a mitigation action is asked to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum MitigationFor {
    /// A Detect violation (only `ADD_THINGS_TO_THING_GROUP` actions apply).
    Violation,
    /// An audit finding (every action type applies).
    Finding,
}

/// The one action type Detect runs on violations.
pub const DETECT_ACTION_TYPE: &str = "ADD_THINGS_TO_THING_GROUP";

/// The demo account's `ADD_THINGS_TO_THING_GROUP` action (usable on violations and findings).
pub const DEMO_DETECT_ACTIONS: &[&str] = &["demo-isolate-in-quarantine-group"];

/// The demo account's other actions (findings only).
pub const DEMO_AUDIT_ACTIONS: &[&str] = &[
    "demo-deactivate-device-certificate",
    "demo-publish-finding-to-sns",
];

/// Plans pushing the analyst's verification state of a Detect violation to AWS
/// (PutVerificationStateOnViolation); the violation must be in the cache.
pub async fn plan_verification(
    backend: &Backend,
    store: &Store,
    violation: &str,
    state: crate::model::VerificationState,
    description: Option<&str>,
) -> Result<Plan> {
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = description {
        if d.chars().count() > 1000 || d.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Error::InvalidInput(
                "the verification note is at most 1,000 characters, without control characters"
                    .into(),
            ));
        }
    }
    let v = store
        .violations(None, false)?
        .into_iter()
        .find(|v| v.violation_id == violation)
        .ok_or_else(|| Error::NotFound(format!("no violation {violation:?} in the cache")))?;
    let mut warnings = Vec::new();
    if v.verification_state == Some(state) {
        warnings.push(format!("the violation is already {state} in the cache"));
    }
    Ok(Plan {
        action: ActionKind::Verify,
        thing: Some(v.thing),
        group: None,
        steps: vec![Step::PutVerificationStateOnViolation {
            violation_id: violation.to_string(),
            state,
            description: description.map(String::from),
        }],
        warnings,
        needs_group: false,
        prior: Prior::default(),
        demo: backend.is_demo(),
        target: None,
    })
}

/// Plans a mitigation action on a violation or finding (both must be in the cache).
pub async fn plan_mitigation(
    backend: &Backend,
    store: &Store,
    target: &MitigationTarget,
    action: &str,
) -> Result<Plan> {
    crate::sources::splunk::validate_token_like("action", action)?;
    let minute = crate::time::now() / 60_000;
    let token = uuid_like(&format!("{target:?}{action}{minute}"));
    // The id goes into an AWS task id (`[a-zA-Z0-9_-]`, at most 128): only those characters,
    // at most 40 of them — cut by character, never at a byte inside one.
    let task_part = |id: &str| -> String {
        id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(40)
            .collect()
    };
    let (thing, step) = match target {
        MitigationTarget::Violation(id) => {
            let v = store
                .violations(None, false)?
                .into_iter()
                .find(|v| &v.violation_id == id)
                .ok_or_else(|| {
                    Error::NotFound(format!("no violation {id:?} in the cache (sync first)"))
                })?;
            (
                Some(v.thing),
                Step::StartDetectMitigationActionsTask {
                    task_id: format!("ddesk-{action}-{}-{minute}", task_part(id)),
                    violation_id: id.clone(),
                    action: action.to_string(),
                    client_request_token: token,
                },
            )
        }
        MitigationTarget::Finding(id) => {
            let f = store
                .findings(None, None)?
                .into_iter()
                .find(|f| &f.finding_id == id)
                .ok_or_else(|| {
                    Error::NotFound(format!("no audit finding {id:?} in the cache (sync first)"))
                })?;
            (
                None,
                Step::StartAuditMitigationActionsTask {
                    task_id: format!("ddesk-{action}-{}-{minute}", task_part(id)),
                    finding_id: id.clone(),
                    check: f.check,
                    action: action.to_string(),
                    client_request_token: token,
                },
            )
        }
    };
    let kind = target.kind();
    let defined = backend.mitigation_actions(kind).await?;
    if !defined.iter().any(|a| a == action) {
        let usable = match kind {
            MitigationFor::Violation => {
                format!(" usable on a violation (type {DETECT_ACTION_TYPE})")
            }
            MitigationFor::Finding => String::new(),
        };
        return Err(Error::NotFound(format!(
            "no mitigation action {action:?}{usable} in the account; defined: {}",
            if defined.is_empty() {
                "none".to_string()
            } else {
                defined.join(", ")
            }
        )));
    }
    Ok(Plan {
        action: ActionKind::Mitigate,
        thing,
        group: None,
        steps: vec![step],
        warnings: Vec::new(),
        needs_group: false,
        prior: Prior::default(),
        demo: backend.is_demo(),
        target: None,
    })
}

/// A client request token that is the same for the same seed: a version 8 UUID (RFC 9562,
/// "custom") over the seed's SHA-256, so a retried plan within the minute is idempotent at AWS.
fn uuid_like(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::uuid_like;

    #[test]
    fn client_tokens_are_stable_per_seed_and_valid_uuids() {
        let a = uuid_like("violation v-1 isolate 29000000");
        assert_eq!(
            a,
            uuid_like("violation v-1 isolate 29000000"),
            "a retry is idempotent"
        );
        assert_ne!(
            a,
            uuid_like("violation v-1 isolate 29000001"),
            "the next minute is new"
        );
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 8);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        // AWS: clientRequestToken matches ^[a-zA-Z0-9-]+$, 1 to 64 characters.
        assert!(a.len() <= 64 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
