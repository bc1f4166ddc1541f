//! Device Defender mitigation actions as the backend sees them: the account's actions usable on
//! a violation or finding, and a started task followed to its end with its executions.

use serde::{Deserialize, Serialize};

use super::execute::Seen;
use super::*;
use crate::sources::aws;

/// A mitigation task's status as AWS reports it (`DetectMitigationActionsTaskStatus`,
/// `AuditMitigationActionsTaskStatus`, and the executions' `…ExecutionStatus`), or what was
/// read instead. Written to the log as AWS's word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum TaskStatus {
    /// `SUCCESSFUL` (Detect tasks) or `COMPLETED` (audit tasks, executions).
    Successful(String),
    /// `FAILED`, `CANCELED`/`CANCELLED`, `SKIPPED`: ended without taking effect.
    Failed(String),
    /// `IN_PROGRESS`, `PENDING`: still running.
    Running(String),
    /// Anything else: an unknown word, or the reason the status was not read.
    Other(String),
}

impl From<String> for TaskStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "SUCCESSFUL" | "COMPLETED" => Self::Successful(s),
            "FAILED" | "CANCELED" | "CANCELLED" | "SKIPPED" => Self::Failed(s),
            "IN_PROGRESS" | "PENDING" => Self::Running(s),
            _ => Self::Other(s),
        }
    }
}

impl From<TaskStatus> for String {
    fn from(s: TaskStatus) -> Self {
        match s {
            TaskStatus::Successful(w)
            | TaskStatus::Failed(w)
            | TaskStatus::Running(w)
            | TaskStatus::Other(w) => w,
        }
    }
}

impl TaskStatus {
    fn word(&self) -> &str {
        match self {
            Self::Successful(w) | Self::Failed(w) | Self::Running(w) | Self::Other(w) => w,
        }
    }
}

/// One target's execution of a mitigation task (`ListDetectMitigationActionsExecutions`,
/// `ListAuditMitigationActionsExecutions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskExecution {
    /// The thing (Detect tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing: Option<String>,
    /// The violation (Detect tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation_id: Option<String>,
    /// The finding (audit tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    /// The mitigation action's name.
    #[serde(default)]
    pub action: Option<String>,
    /// Its status; none when AWS gave none.
    #[serde(default)]
    pub status: Option<TaskStatus>,
    /// AWS's error code, when it failed.
    #[serde(default)]
    pub error_code: Option<String>,
    /// AWS's message.
    #[serde(default)]
    pub message: Option<String>,
    /// Simulated (the demo account).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
}

/// The per-target executions as read: a list, why they were not read, or not asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Executions {
    /// Read.
    Read(Vec<TaskExecution>),
    /// Not read, and why.
    NotRead(String),
    /// Not asked for (the task itself was not read).
    #[default]
    Absent,
}

impl Executions {
    fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }
}

/// A mitigation task as followed: what an execution and a reconcile decide an outcome
/// from, and what the log keeps (`task` of an outcome, `tasks` of a reconcile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskObservation {
    /// The task's status (or why it was not read: see `error`, `found`).
    pub status: TaskStatus,
    /// False when AWS says the task does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// False when following stopped before the task ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<bool>,
    /// Why the task's status was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its per-target executions.
    #[serde(default, skip_serializing_if = "Executions::is_absent")]
    pub executions: Executions,
}

impl TaskObservation {
    fn ended(status: String, executions: Executions) -> Self {
        Self {
            status: status.into(),
            found: None,
            finished: None,
            error: None,
            executions,
        }
    }

    /// Whether the task took effect on every target: applied only when the task is
    /// SUCCESSFUL/COMPLETED and every target's execution is too; FAILED, CANCELED, a missing
    /// task or a failed target is not applied; anything else (still running, not readable)
    /// is unknown.
    pub(super) fn verdict(&self) -> Seen {
        if self.found == Some(false) {
            return Seen::NotApplied("the task does not exist".into());
        }
        match &self.status {
            TaskStatus::Successful(_) => {}
            TaskStatus::Failed(w) => return Seen::NotApplied(format!("task {w}")),
            _ if self.error.is_some() => {
                return Seen::Unknown(format!(
                    "task not readable: {}",
                    self.error.as_deref().unwrap_or_default()
                ))
            }
            other => return Seen::Unknown(format!("task {}", other.word())),
        }
        let Executions::Read(executions) = &self.executions else {
            return Seen::Unknown(
                "task SUCCESSFUL but its per-target executions were not read".into(),
            );
        };
        for x in executions {
            match &x.status {
                Some(TaskStatus::Successful(_)) => {}
                Some(TaskStatus::Running(_)) => {
                    return Seen::Unknown("a target's execution is still running".into())
                }
                other => {
                    return Seen::NotApplied(format!(
                        "a target's execution is {}{}",
                        other.as_ref().map_or("unknown", TaskStatus::word),
                        x.error_code
                            .as_deref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default()
                    ))
                }
            }
        }
        Seen::Applied
    }
}

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
    pub(super) async fn follow(
        &self,
        step: &Step,
        patience: std::time::Duration,
    ) -> Option<TaskObservation> {
        let Some(iot) = self.iot() else {
            let demo = TaskExecution {
                thing: None,
                violation_id: None,
                finding_id: None,
                action: None,
                status: Some("SUCCESSFUL".to_string().into()),
                error_code: None,
                message: None,
                demo: true,
            };
            return Some(TaskObservation::ended(
                "SUCCESSFUL".into(),
                Executions::Read(vec![demo]),
            ));
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
                _ => return None,
            };
            match status {
                // A task that does not exist will not appear by waiting.
                Err((error, true)) => {
                    return Some(TaskObservation {
                        found: Some(false),
                        ..TaskObservation::ended(error, Executions::Absent)
                    })
                }
                Ok(status) if status != "IN_PROGRESS" => {
                    let executions = self.executions(step).await;
                    return Some(TaskObservation::ended(status, executions));
                }
                Ok(status) if std::time::Instant::now() >= deadline => {
                    let executions = self.executions(step).await;
                    return Some(TaskObservation {
                        finished: Some(false),
                        ..TaskObservation::ended(status, executions)
                    });
                }
                // Describe failed (denied, throttled past the SDK's retries): not seen.
                Err((error, false)) if std::time::Instant::now() >= deadline => {
                    return Some(TaskObservation {
                        finished: Some(false),
                        error: Some(error),
                        ..TaskObservation::ended("UNKNOWN".into(), Executions::Absent)
                    });
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
    }

    pub(super) async fn executions(&self, step: &Step) -> Executions {
        let Some(iot) = self.iot() else {
            return Executions::Absent;
        };
        let status = |s: Option<&str>| s.map(|s| TaskStatus::from(s.to_string()));
        let text = |s: Option<&str>| s.map(str::to_string);
        match step {
            Step::StartDetectMitigationActionsTask { task_id, .. } => {
                match iot
                    .list_detect_mitigation_actions_executions()
                    .task_id(task_id)
                    .send()
                    .await
                {
                    Ok(l) => Executions::Read(
                        l.actions_executions()
                            .iter()
                            .map(|x| TaskExecution {
                                thing: text(x.thing_name()),
                                violation_id: text(x.violation_id()),
                                finding_id: None,
                                action: text(x.action_name()),
                                status: status(x.status().map(|s| s.as_str())),
                                error_code: text(x.error_code()),
                                message: text(x.message()),
                                demo: false,
                            })
                            .collect(),
                    ),
                    Err(e) => Executions::NotRead(aws::describe(
                        "ListDetectMitigationActionsExecutions",
                        &e,
                    )),
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
                Ok(l) => Executions::Read(
                    l.actions_executions()
                        .iter()
                        .map(|x| TaskExecution {
                            thing: None,
                            violation_id: None,
                            finding_id: text(x.finding_id()),
                            action: text(x.action_name()),
                            status: status(x.status().map(|s| s.as_str())),
                            error_code: text(x.error_code()),
                            message: text(x.message()),
                            demo: false,
                        })
                        .collect(),
                ),
                Err(e) => {
                    Executions::NotRead(aws::describe("ListAuditMitigationActionsExecutions", &e))
                }
            },
            _ => Executions::Absent,
        }
    }
}
