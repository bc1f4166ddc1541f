//! Executing a confirmed plan (intent logged before the first call, outcome after) and
//! reconciling an action interrupted between its call and its log.
//!
//! Over 600 lines only with its regression tests (the code is about 430 lines): they stay beside
//! the execution and reconciliation they pin down.

use serde::Serialize;
use serde_json::{json, Value};

use super::log::{ActionLog, Outcome};
use super::*;
use crate::store::Store;
use crate::{Error, Result};

/// The result of an executed plan.
#[derive(Debug, Clone, Serialize)]
pub struct Executed {
    /// Sequence number of the intent record.
    pub intent: i64,
    /// Sequence number of the outcome record.
    pub outcome: i64,
    /// What it came to (serialized as the log's text: `succeeded`, `failed`, `unknown (…)`).
    pub status: Outcome,
    /// Per call: request id or error.
    pub steps: Vec<Value>,
    /// Mitigation task result, when one ran.
    pub task: Option<TaskObservation>,
}

fn failed() -> Outcome {
    Outcome::Failed {
        reconciled: false,
        why: None,
    }
}

/// Executes a plan: intent logged, calls made in order (stopping at the first failure), outcome
/// logged. A call whose response was lost is checked against AWS before it is logged. About
/// 130 lines because it is the security path, kept in one piece so that it reads in the order
/// the log is written (intent, each call, reconciliation, outcome); its parts are named below.
pub async fn execute(
    store: &mut Store,
    backend: &Backend,
    plan: &Plan,
    reason: &str,
    actor: &Actor,
) -> Result<Executed> {
    super::check_reason(reason)?;
    if let Some(planned) = &plan.target {
        let now = backend.target().await?;
        if &now != planned {
            return Err(Error::InvalidInput(format!(
                "the plan was made for account {} in {} (source {}, caller {}) but would run against account {} in {} (source {}, caller {}): nothing was done — plan the action again",
                planned.account, planned.region, planned.source, planned.caller,
                now.account, now.region, now.source, now.caller
            )));
        }
    }
    if plan.steps.is_empty() {
        return Err(Error::InvalidInput(format!(
            "the {} plan has no step: nothing to do, nothing logged{}",
            plan.action,
            if plan.warnings.is_empty() {
                String::new()
            } else {
                format!(" ({})", plan.warnings.join("; "))
            }
        )));
    }
    // Claimed in the same transaction: no other process reconciles this intent while it runs.
    let intent = store.append_intent(
        &json!({
            "type": "intent",
            "reason": reason,
            "who": actor,
            "plan": plan,
            "calls": plan.preview(),
            "demo": plan.demo,
        }),
        EXECUTE_LEASE,
    )?;
    let mut steps = Vec::new();
    let mut status = Outcome::Succeeded { reconciled: false };
    let mut task = None;
    for (i, step) in plan.steps.iter().enumerate() {
        let result = backend.call(store, step).await;
        // Fault injection for the crash test: die between the call and the log. Compiled in
        // only with the `fault-injection` feature (the test command's); no shipped build has it.
        #[cfg(feature = "fault-injection")]
        if std::env::var_os("DDESK_FAULT_CRASH_AFTER_CALL").is_some() {
            std::process::abort();
        }
        match result {
            Ok(request_id) => {
                steps.push(json!({"step": i, "ok": true, "request_id": request_id}));
                if let Step::BatchUpdateFindings {
                    product_arn,
                    id,
                    workflow_status,
                    note,
                    ..
                } = step
                {
                    // What the hub now holds, and that this cache set it (the read-back of
                    // colleagues' changes passes over its own).
                    let _ = store.set_hub_pushed(product_arn, id, workflow_status, note);
                }
                if matches!(
                    step,
                    Step::StartDetectMitigationActionsTask { .. }
                        | Step::StartAuditMitigationActionsTask { .. }
                ) {
                    task = backend.follow(step, FOLLOW_PATIENCE).await;
                    match judge_task(task.as_ref()) {
                        Seen::Applied => {}
                        Seen::NotApplied(_) => status = failed(),
                        Seen::Unknown(why) => {
                            status = Outcome::Unknown {
                                reconciled: false,
                                why,
                            }
                        }
                    }
                }
            }
            Err(e) if e.lost => {
                // The call may have taken effect: look before logging.
                let applied = match (step, plan.thing.as_deref()) {
                    (Step::AddThingToThingGroup { group, .. }, Some(thing)) => backend
                        .groups(store, thing)
                        .await
                        .ok()
                        .map(|g| g.contains(group)),
                    (Step::RemoveThingFromThingGroup { group, .. }, Some(thing)) => backend
                        .groups(store, thing)
                        .await
                        .ok()
                        .map(|g| !g.contains(group)),
                    _ => None,
                };
                steps.push(
                    json!({"step": i, "ok": applied == Some(true), "error_code": e.code,
                                  "message": e.message, "verified_after_lost_response": applied}),
                );
                if applied != Some(true) {
                    status = failed();
                    break;
                }
            }
            Err(e) => {
                steps.push(
                    json!({"step": i, "ok": false, "error_code": e.code, "message": e.message}),
                );
                status = failed();
                break;
            }
        }
    }
    let outcome = store.append_action(&json!({
        "type": "outcome",
        "intent": intent.seq,
        "status": status,
        "steps": steps,
        "task": task,
        "demo": plan.demo,
    }))?;
    store.release_intent(intent.seq)?;
    anchor_now(store).await;
    let on_iot = plan.action != super::ActionKind::Hub;
    if let (Some(thing), Backend::Aws { .. }, true) = (plan.thing.as_deref(), backend, on_iot) {
        if let Ok(groups) = backend.groups(store, thing).await {
            let g: Vec<_> = groups.into_iter().map(|g| (g, None)).collect();
            let _ = store.set_thing_groups(thing, &g);
        }
    }
    Ok(Executed {
        intent: intent.seq,
        outcome: outcome.seq,
        status,
        steps,
        task,
    })
}

/// Records what really happened to every intent that has no outcome (the app died between the
/// call and the log). Returns the outcome records written.
pub async fn reconcile(store: &mut Store, backend: &Backend) -> Result<Vec<Value>> {
    let log = ActionLog::read(&store.action_log()?);
    let mut written = Vec::new();
    for intent in log.intents() {
        if log.outcome_of(intent.seq).is_some() {
            continue;
        }
        let plan = &intent.plan;
        if plan.demo != backend.is_demo() {
            continue;
        }
        // One process per intent: one still acting on it (or reconciling it) holds the claim.
        if !store.claim_intent(intent.seq, RECONCILE_LEASE)? {
            continue;
        }
        let observed = observe(store, backend, plan).await;
        let (verdict, steps) = judge(plan, &observed);
        let status = match verdict {
            Seen::Applied => Outcome::Succeeded { reconciled: true },
            Seen::NotApplied(why) => Outcome::Failed {
                reconciled: true,
                why: Some(why),
            },
            Seen::Unknown(why) => Outcome::Unknown {
                reconciled: true,
                why,
            },
        };
        let rec = json!({
            "type": "outcome",
            "intent": intent.seq,
            "status": status,
            "reconciled": true,
            "steps": steps,
            "observed": observed.to_json(),
            "demo": plan.demo,
        });
        match store.append_action(&rec) {
            Ok(_) => written.push(rec),
            // Another process logged it first: its outcome stands.
            Err(crate::store::StoreError::OutcomeExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        store.release_intent(intent.seq)?;
    }
    if !written.is_empty() {
        anchor_now(store).await;
    }
    Ok(written)
}

/// Sends what the anchor lacks; a failure is logged and retried later, never raised.
async fn anchor_now(store: &Store) {
    match crate::actions::anchor::push(store).await {
        Ok(r) if r.error.is_some() => tracing::warn!(error = ?r.error, "action log anchor behind"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "action log anchor not reached"),
    }
}

/// How long an executing process holds its intent (its calls and following a mitigation task).
const EXECUTE_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How long reconciling one intent may take.
const RECONCILE_LEASE: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How long an execution follows a mitigation task before logging it as unknown.
const FOLLOW_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// What one step (or the whole plan) was seen to have done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seen {
    /// Its effect is there.
    Applied,
    /// Its effect is not there (or AWS says it failed).
    NotApplied(String),
    /// It could not be told.
    Unknown(String),
}

/// What reconciling read of the account, once per plan.
#[derive(Debug, Default)]
struct Observed {
    groups: Option<std::result::Result<Vec<String>, String>>,
    certificates: Option<std::result::Result<Vec<Cert>, String>>,
    tasks: Vec<Option<TaskObservation>>,
}

impl Observed {
    fn to_json(&self) -> Value {
        fn read<T: Serialize>(x: &Option<std::result::Result<T, String>>) -> Value {
            match x {
                None => Value::Null,
                Some(Ok(v)) => json!(v),
                Some(Err(e)) => json!({ "error": e }),
            }
        }
        json!({
            "groups": read(&self.groups),
            "certificates": read(&self.certificates),
            "tasks": self.tasks,
        })
    }
}

/// Reads what the plan's steps change: group membership, certificate statuses, task status
/// (once, no waiting: a reconcile never waits out a task).
async fn observe(store: &Store, backend: &Backend, plan: &Plan) -> Observed {
    let thing = plan.thing.clone().unwrap_or_default();
    let mut seen = Observed::default();
    let needs = |f: fn(&Step) -> bool| plan.steps.iter().any(f);
    if needs(|s| {
        matches!(
            s,
            Step::AddThingToThingGroup { .. } | Step::RemoveThingFromThingGroup { .. }
        )
    }) {
        seen.groups = Some(
            backend
                .groups(store, &thing)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    if needs(|s| matches!(s, Step::UpdateCertificate { .. })) {
        let certs = match backend.principals(&thing).await {
            Ok(p) => backend.certificates(store, &thing, &p).await,
            Err(e) => Err(e),
        };
        seen.certificates = Some(certs.map_err(|e| e.to_string()));
    }
    for step in &plan.steps {
        if matches!(
            step,
            Step::StartDetectMitigationActionsTask { .. }
                | Step::StartAuditMitigationActionsTask { .. }
        ) {
            seen.tasks
                .push(backend.follow(step, std::time::Duration::ZERO).await);
        }
    }
    seen
}

/// The verdict on every step of `plan` from what was observed, and on the plan: applied only
/// when every step is; not applied when one is seen not to be; unknown otherwise.
fn judge(plan: &Plan, seen: &Observed) -> (Seen, Vec<Value>) {
    let mut tasks = seen.tasks.iter();
    let mut seen_steps = Vec::new();
    for step in &plan.steps {
        let v = match step {
            Step::AddThingToThingGroup { group, .. }
            | Step::RemoveThingFromThingGroup { group, .. } => {
                let adding = matches!(step, Step::AddThingToThingGroup { .. });
                match &seen.groups {
                    Some(Ok(groups)) if groups.contains(group) == adding => Seen::Applied,
                    Some(Ok(_)) if adding => Seen::NotApplied(format!("not in {group}")),
                    Some(Ok(_)) => Seen::NotApplied(format!("still in {group}")),
                    Some(Err(e)) => Seen::Unknown(format!("groups not read: {e}")),
                    None => Seen::Unknown("groups not read".into()),
                }
            }
            Step::UpdateCertificate {
                certificate_id,
                new_status,
            } => match &seen.certificates {
                Some(Ok(certs)) => match certs.iter().find(|c| &c.id == certificate_id) {
                    Some(c) if &c.status == new_status => Seen::Applied,
                    Some(c) => Seen::NotApplied(format!(
                        "certificate {certificate_id} is {}, not {new_status}",
                        c.status
                    )),
                    None => Seen::Unknown(format!("certificate {certificate_id} not found")),
                },
                Some(Err(e)) => Seen::Unknown(format!("certificates not read: {e}")),
                None => Seen::Unknown("certificates not read".into()),
            },
            Step::StartDetectMitigationActionsTask { .. }
            | Step::StartAuditMitigationActionsTask { .. } => tasks
                .next()
                .map_or(Seen::Unknown("task not read".into()), |t| {
                    judge_task(t.as_ref())
                }),
            Step::PutVerificationStateOnViolation { .. } => {
                Seen::Unknown("the violation's verification state is not read back".into())
            }
            Step::BatchUpdateFindings { .. } => {
                Seen::Unknown("the Security Hub finding's workflow is not read back".into())
            }
            // Not read back. The executor runs the steps in order and stops at the first
            // failure, so a later membership the thing did not have before shows these ran.
            Step::CreateThingGroup { .. }
            | Step::CreatePolicy { .. }
            | Step::AttachPolicy { .. } => {
                let later_joined = plan.steps.iter().any(|s| match s {
                    Step::AddThingToThingGroup { group, .. } => {
                        !plan.prior.groups.contains(group)
                            && matches!(&seen.groups, Some(Ok(g)) if g.contains(group))
                    }
                    _ => false,
                });
                if later_joined {
                    Seen::Applied
                } else {
                    Seen::Unknown("group or policy creation not read back".into())
                }
            }
        };
        seen_steps.push(v);
    }
    let verdicts = seen_steps
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Seen::Applied => json!({"step": i, "applied": true}),
            Seen::NotApplied(w) => json!({"step": i, "applied": false, "why": w}),
            Seen::Unknown(w) => json!({"step": i, "applied": null, "why": w}),
        })
        .collect();
    let failed = seen_steps.iter().find(|v| matches!(v, Seen::NotApplied(_)));
    let unknown = seen_steps.iter().find(|v| matches!(v, Seen::Unknown(_)));
    let verdict = failed.or(unknown).cloned().unwrap_or(Seen::Applied);
    (verdict, verdicts)
}

/// A mitigation task's verdict ([`TaskObservation::verdict`]); a step whose task was not
/// followed is unknown.
fn judge_task(task: Option<&TaskObservation>) -> Seen {
    task.map_or(
        Seen::Unknown("task not read".into()),
        TaskObservation::verdict,
    )
}

#[cfg(test)]
mod reconcile_tests {
    use super::*;

    #[test]
    fn only_a_successful_task_with_every_target_successful_is_applied() {
        // Regression: any task that existed was logged "succeeded (reconciled)", FAILED included.
        let t = |v: Value| {
            let observed: TaskObservation = serde_json::from_value(v).unwrap();
            judge_task(Some(&observed))
        };
        assert_eq!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL"}]})),
            Seen::Applied
        );
        assert_eq!(
            t(json!({"status": "COMPLETED", "executions": [{"status": "COMPLETED"}]})),
            Seen::Applied
        );
        assert!(matches!(
            t(json!({"status": "FAILED"})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "CANCELED"})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL"}, {"status": "FAILED", "error_code": "AccessDenied"}]})),
            Seen::NotApplied(w) if w.contains("FAILED (AccessDenied)")
        ));
        assert!(matches!(
            t(json!({"status": "SUCCESSFUL", "executions": [{"status": "SKIPPED"}]})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(json!({"status": "IN_PROGRESS", "finished": false})),
            Seen::Unknown(_)
        ));
        // Regression: a denied Describe waited 120 s and then logged success.
        assert!(matches!(
            t(json!({"status": "UNKNOWN", "error": "AccessDeniedException", "finished": false})),
            Seen::Unknown(w) if w.contains("AccessDenied")
        ));
        assert!(matches!(
            t(json!({"status": "x", "found": false})),
            Seen::NotApplied(_)
        ));
        assert!(matches!(
            t(
                json!({"status": "SUCCESSFUL", "executions": "ListDetectMitigationActionsExecutions: denied"})
            ),
            Seen::Unknown(_)
        ));
    }

    fn quarantine_with_certificate() -> Plan {
        Plan {
            action: ActionKind::Quarantine,
            thing: Some("cam-1".into()),
            group: Some("Quarantine".into()),
            steps: vec![
                Step::AddThingToThingGroup {
                    thing: "cam-1".into(),
                    group: "Quarantine".into(),
                    override_dynamic_groups: true,
                },
                Step::UpdateCertificate {
                    certificate_id: "c1".into(),
                    new_status: "INACTIVE".into(),
                },
            ],
            warnings: Vec::new(),
            needs_group: false,
            prior: Prior {
                groups: vec!["edge".into()],
                certificates: vec![Cert {
                    id: "c1".into(),
                    status: "ACTIVE".into(),
                }],
            },
            demo: false,
            target: None,
        }
    }

    #[test]
    fn every_step_of_a_plan_is_verified_not_only_the_first() {
        // Regression: a quarantine with --deactivate-certificate that crashed after
        // AddThingToThingGroup reconciled as succeeded with the certificate still ACTIVE.
        let plan = quarantine_with_certificate();
        let cert = |status: &str| {
            Some(Ok(vec![Cert {
                id: "c1".into(),
                status: status.into(),
            }]))
        };
        let seen = Observed {
            groups: Some(Ok(vec!["edge".into(), "Quarantine".into()])),
            certificates: cert("ACTIVE"),
            tasks: Vec::new(),
        };
        let (verdict, steps) = judge(&plan, &seen);
        assert!(
            matches!(&verdict, Seen::NotApplied(w) if w.contains("is ACTIVE, not INACTIVE")),
            "{verdict:?}"
        );
        assert_eq!(steps[0]["applied"], true);
        assert_eq!(steps[1]["applied"], false);
        let seen = Observed {
            certificates: cert("INACTIVE"),
            ..seen
        };
        assert_eq!(judge(&plan, &seen).0, Seen::Applied);
        let unread = Observed {
            certificates: Some(Err("AccessDenied".into())),
            ..seen
        };
        assert!(matches!(judge(&plan, &unread).0, Seen::Unknown(_)));
    }
}
