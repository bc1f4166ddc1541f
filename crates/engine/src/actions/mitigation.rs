//! Device Defender mitigation actions as the backend sees them: the account's actions usable on
//! a violation or finding, and a started task followed to its end with its executions.

use serde_json::{json, Value};

use super::*;
use crate::sources::aws;

impl Backend {
    /// The account's mitigation actions usable on `target` (ListMitigationActions): a Detect
    /// violation takes only `ADD_THINGS_TO_THING_GROUP` actions, an audit finding every type.
    /// The demo account has a simulated set ([`DEMO_DETECT_ACTIONS`], [`DEMO_AUDIT_ACTIONS`]).
    pub async fn mitigation_actions(&self, target: MitigationFor) -> Result<Vec<String>> {
        match (self, target) {
            (Self::Demo, MitigationFor::Violation) => {
                Ok(DEMO_DETECT_ACTIONS.iter().map(|a| a.to_string()).collect())
            }
            (Self::Demo, MitigationFor::Finding) => {
                let mut all: Vec<String> = DEMO_DETECT_ACTIONS
                    .iter()
                    .chain(DEMO_AUDIT_ACTIONS)
                    .map(|a| a.to_string())
                    .collect();
                all.sort();
                Ok(all)
            }
            (Self::Aws { api, .. }, MitigationFor::Violation) => {
                api.mitigation_actions(Some(DETECT_ACTION_TYPE)).await
            }
            (Self::Aws { api, .. }, MitigationFor::Finding) => api.mitigation_actions(None).await,
        }
    }

    /// Follows a mitigation task to its end: final status and per-target executions.
    pub(super) async fn follow(&self, step: &Step, patience: std::time::Duration) -> Value {
        let Some(iot) = self.iot() else {
            return json!({"status": "SUCCESSFUL", "executions": [{"status": "SUCCESSFUL", "demo": true}]});
        };
        let deadline = std::time::Instant::now() + patience;
        loop {
            // The task's status, or why it could not be read (and whether it does not exist).
            let status: std::result::Result<String, (String, bool)> = match step {
                Step::StartDetectMitigationActionsTask { task_id, .. } => iot
                    .describe_detect_mitigation_actions_task()
                    .task_id(task_id)
                    .send()
                    .await
                    .map(|d| {
                        d.task_summary()
                            .and_then(|t| t.task_status())
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default()
                    })
                    .map_err(|e| {
                        let missing =
                            aws::error_code(&e).as_deref() == Some("ResourceNotFoundException");
                        (
                            aws::describe("DescribeDetectMitigationActionsTask", &e),
                            missing,
                        )
                    }),
                Step::StartAuditMitigationActionsTask { task_id, .. } => iot
                    .describe_audit_mitigation_actions_task()
                    .task_id(task_id)
                    .send()
                    .await
                    .map(|d| {
                        d.task_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default()
                    })
                    .map_err(|e| {
                        let missing =
                            aws::error_code(&e).as_deref() == Some("ResourceNotFoundException");
                        (
                            aws::describe("DescribeAuditMitigationActionsTask", &e),
                            missing,
                        )
                    }),
                _ => return Value::Null,
            };
            match status {
                // A task that does not exist will not appear by waiting.
                Err((error, true)) => return json!({"status": error, "found": false}),
                Ok(status) if status != "IN_PROGRESS" => {
                    return json!({"status": status, "executions": self.executions(step).await});
                }
                Ok(status) if std::time::Instant::now() >= deadline => {
                    return json!({"status": status, "finished": false,
                                  "executions": self.executions(step).await});
                }
                // Describe failed (denied, throttled past the SDK's retries): not seen.
                Err((error, false)) if std::time::Instant::now() >= deadline => {
                    return json!({"status": "UNKNOWN", "error": error, "finished": false});
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
    }

    pub(super) async fn executions(&self, step: &Step) -> Value {
        let Some(iot) = self.iot() else {
            return Value::Null;
        };
        match step {
            Step::StartDetectMitigationActionsTask { task_id, .. } => {
                match iot
                    .list_detect_mitigation_actions_executions()
                    .task_id(task_id)
                    .send()
                    .await
                {
                    Ok(l) => l
                        .actions_executions()
                        .iter()
                        .map(|x| {
                            json!({"thing": x.thing_name(), "violation_id": x.violation_id(),
                                   "action": x.action_name(),
                                   "status": x.status().map(|s| s.as_str()),
                                   "error_code": x.error_code(), "message": x.message()})
                        })
                        .collect(),
                    Err(e) => json!(aws::describe("ListDetectMitigationActionsExecutions", &e)),
                }
            }
            Step::StartAuditMitigationActionsTask {
                task_id,
                finding_id,
                ..
            } => match iot
                .list_audit_mitigation_actions_executions()
                .task_id(task_id)
                .finding_id(finding_id)
                .send()
                .await
            {
                Ok(l) => l
                    .actions_executions()
                    .iter()
                    .map(|x| {
                        json!({"finding_id": x.finding_id(), "action": x.action_name(),
                               "status": x.status().map(|s| s.as_str()),
                               "error_code": x.error_code(), "message": x.message()})
                    })
                    .collect(),
                Err(e) => json!(aws::describe("ListAuditMitigationActionsExecutions", &e)),
            },
            _ => Value::Null,
        }
    }
}
