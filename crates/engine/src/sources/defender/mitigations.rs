//! Mitigation history from the Device Defender API: the Detect and Audit mitigation actions
//! tasks of a window, with their executions.

use super::client::{dt, ms, note, DefenderSource, PAGE};
use crate::model::{Batch, DocKind, MitigationExecution, MitigationKind, MitigationTask};
use crate::sources::aws::failure;
use crate::time::Millis;
use crate::{Error, Result};

/// Findings of one audit mitigation task whose executions are read (one call each).
pub const MAX_MITIGATED_FINDINGS: usize = 1000;

impl DefenderSource {
    /// Detect mitigation actions tasks started in `[from, to)`, each with its executions
    /// (what AWS ran on which violation and thing, and how it ended).
    pub async fn detect_mitigations(&self, from: Millis, to: Millis) -> Result<Batch> {
        let mut batch = Batch::default();
        self.paginate("ListDetectMitigationActionsTasks", 10, async |token| {
            let page = self
                .client
                .list_detect_mitigation_actions_tasks()
                .start_time(dt(from))
                .end_time(dt(to))
                .set_next_token(token)
                .max_results(PAGE.min(100))
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListDetectMitigationActionsTasks", &e)))?;
            for t in page.tasks() {
                batch.mitigation_tasks.push(MitigationTask {
                    task_id: t.task_id().unwrap_or_default().to_string(),
                    kind: MitigationKind::Detect,
                    status: t.task_status().map(|s| s.as_str().to_string()),
                    start: ms(t.task_start_time()),
                    end: ms(t.task_end_time()),
                    violation_ids: t
                        .target()
                        .map(|g| g.violation_ids().to_vec())
                        .unwrap_or_default(),
                    actions: t
                        .actions_definition()
                        .iter()
                        .filter_map(|a| a.name().map(str::to_string))
                        .collect(),
                });
            }
            note(&mut batch, DocKind::ListDetectMitigationTasks);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        let ids: Vec<String> = batch
            .mitigation_tasks
            .iter()
            .map(|t| t.task_id.clone())
            .collect();
        for id in ids {
            let mut execs = Vec::new();
            self.paginate("ListDetectMitigationActionsExecutions", 10, async |token| {
                let page = self
                    .client
                    .list_detect_mitigation_actions_executions()
                    .task_id(&id)
                    .set_next_token(token)
                    .max_results(PAGE.min(100))
                    .send()
                    .await
                    .map_err(|e| {
                        Error::Source(failure("ListDetectMitigationActionsExecutions", &e))
                    })?;
                for x in page.actions_executions() {
                    execs.push(MitigationExecution {
                        task_id: x.task_id().unwrap_or(&id).to_string(),
                        kind: MitigationKind::Detect,
                        action: x.action_name().unwrap_or_default().to_string(),
                        finding_id: None,
                        violation_id: x.violation_id().map(str::to_string),
                        thing: x.thing_name().map(str::to_string),
                        status: x
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        start: ms(x.execution_start_date()),
                        end: ms(x.execution_end_date()),
                        error_code: x.error_code().map(str::to_string),
                        message: x.message().map(str::to_string),
                    });
                }
                Ok(page.next_token().map(str::to_string))
            })
            .await?;
            batch.mitigation_executions.extend(execs);
            note(&mut batch, DocKind::ListDetectMitigationExecutions);
        }
        Ok(batch)
    }

    /// Audit tasks started in `[from, to)` (the service keeps 90 days): `(id, status)`.
    pub async fn audit_tasks(&self, from: Millis, to: Millis) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        self.paginate("ListAuditTasks", 10, async |token| {
            let page = self
                .client
                .list_audit_tasks()
                .start_time(dt(from))
                .end_time(dt(to))
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListAuditTasks", &e)))?;
            out.extend(page.tasks().iter().map(|t| {
                (
                    t.task_id().unwrap_or_default().to_string(),
                    t.task_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            }));
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(out)
    }

    /// Audit mitigation history of `[from, to)`: ListAuditMitigationActionsTasks, each task's
    /// target and actions (DescribeAuditMitigationActionsTask), and the executions per finding
    /// (ListAuditMitigationActionsExecutions needs the finding: the target's finding ids, or
    /// the findings of its audit task for the checks it maps, at most
    /// [`MAX_MITIGATED_FINDINGS`] per task). A task for which `unchanged(task id, status)`
    /// holds (read before, in that status) is not read again.
    pub async fn audit_mitigations(
        &self,
        from: Millis,
        to: Millis,
        unchanged: impl Fn(&str, &str) -> bool,
    ) -> Result<Batch> {
        let mut batch = Batch::default();
        let mut listed: Vec<(String, Option<String>, Option<Millis>)> = Vec::new();
        self.paginate("ListAuditMitigationActionsTasks", 10, async |token| {
            let page = self
                .client
                .list_audit_mitigation_actions_tasks()
                .start_time(dt(from))
                .end_time(dt(to))
                .set_next_token(token)
                .max_results(PAGE.min(100))
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListAuditMitigationActionsTasks", &e)))?;
            for t in page.tasks() {
                listed.push((
                    t.task_id().unwrap_or_default().to_string(),
                    t.task_status().map(|s| s.as_str().to_string()),
                    ms(t.start_time()),
                ));
            }
            note(&mut batch, DocKind::ListAuditMitigationTasks);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        for (id, status, start) in listed {
            if status.as_deref().is_some_and(|st| unchanged(&id, st)) {
                continue;
            }
            self.pacer
                .wait("DescribeAuditMitigationActionsTask", 10)
                .await;
            let d = self
                .client
                .describe_audit_mitigation_actions_task()
                .task_id(&id)
                .send()
                .await
                .map_err(|e| {
                    Error::Source(failure(
                        &format!("DescribeAuditMitigationActionsTask {id}"),
                        &e,
                    ))
                })?;
            let mut finding_ids: Vec<String> = d
                .target()
                .map(|t| t.finding_ids().to_vec())
                .unwrap_or_default();
            if let Some(audit) = d.target().and_then(|t| t.audit_task_id()) {
                let checks: Vec<&String> = d
                    .audit_check_to_actions_mapping()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                self.paginate("ListAuditFindings", 10, async |token| {
                    let page = self
                        .client
                        .list_audit_findings()
                        .task_id(audit)
                        .set_next_token(token)
                        .max_results(PAGE)
                        .send()
                        .await
                        .map_err(|e| {
                            Error::Source(failure(&format!("ListAuditFindings {audit}"), &e))
                        })?;
                    finding_ids.extend(
                        page.findings()
                            .iter()
                            .filter(|f| {
                                checks.is_empty()
                                    || f.check_name()
                                        .is_some_and(|c| checks.iter().any(|k| *k == c))
                            })
                            .filter_map(|f| f.finding_id().map(str::to_string)),
                    );
                    Ok(page.next_token().map(str::to_string))
                })
                .await?;
            }
            finding_ids.sort();
            finding_ids.dedup();
            finding_ids.truncate(MAX_MITIGATED_FINDINGS);
            let mut actions: Vec<String> = d
                .actions_definition()
                .iter()
                .filter_map(|a| a.name().map(str::to_string))
                .collect();
            actions.sort();
            batch.mitigation_tasks.push(MitigationTask {
                task_id: id.clone(),
                kind: MitigationKind::Audit,
                status: d.task_status().map(|s| s.as_str().to_string()).or(status),
                start: ms(d.start_time()).or(start),
                end: ms(d.end_time()),
                violation_ids: Vec::new(),
                actions,
            });
            for finding_id in finding_ids {
                let execs = self.audit_executions(&id, &finding_id).await?;
                batch.mitigation_executions.extend(execs);
                note(&mut batch, DocKind::ListAuditMitigationExecutions);
            }
        }
        Ok(batch)
    }

    /// One audit mitigation task's executions on one finding
    /// (ListAuditMitigationActionsExecutions).
    async fn audit_executions(
        &self,
        id: &str,
        finding_id: &str,
    ) -> Result<Vec<MitigationExecution>> {
        let mut execs = Vec::new();
        self.paginate("ListAuditMitigationActionsExecutions", 10, async |token| {
            let page = self
                .client
                .list_audit_mitigation_actions_executions()
                .task_id(id)
                .finding_id(finding_id)
                .set_next_token(token)
                .max_results(PAGE.min(100))
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListAuditMitigationActionsExecutions", &e)))?;
            for x in page.actions_executions() {
                execs.push(MitigationExecution {
                    task_id: x.task_id().unwrap_or(id).to_string(),
                    kind: MitigationKind::Audit,
                    action: x.action_name().unwrap_or_default().to_string(),
                    finding_id: Some(x.finding_id().unwrap_or(finding_id).to_string()),
                    violation_id: None,
                    thing: None,
                    status: x
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    start: ms(x.start_time()),
                    end: ms(x.end_time()),
                    error_code: x.error_code().map(str::to_string),
                    message: x.message().map(str::to_string),
                });
            }
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(execs)
    }
}
