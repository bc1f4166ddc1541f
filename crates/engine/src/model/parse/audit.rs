//! Audit: tasks, check details (`auditDetails`, DescribeAuditTask), SNS audit notifications,
//! findings with their resources.

use super::*;

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct TaskDoc {
    taskId: String,
    taskStatus: Option<String>,
    taskType: Option<String>,
}

impl TaskDoc {
    pub(crate) fn into_task(self) -> AuditTask {
        AuditTask {
            task_id: self.taskId,
            start: None,
            task_type: self.taskType,
            status: self.taskStatus,
            scheduled_name: None,
        }
    }
}

/// One check's details: an `auditDetails[]` item, a DescribeAuditTask map value, a lone item.
#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct CheckDoc {
    pub(super) checkName: Option<String>,
    checkRunStatus: String,
    nonCompliantResourcesCount: Option<i64>,
    totalResourcesCount: Option<i64>,
    suppressedNonCompliantResourcesCount: Option<i64>,
    errorCode: Option<String>,
    message: Option<String>,
}

impl CheckDoc {
    pub(super) fn into_check(self, task_id: String, task_start: Option<Millis>) -> AuditCheck {
        AuditCheck {
            task_id,
            task_start,
            check: self.checkName.unwrap_or_default(),
            status: self.checkRunStatus,
            non_compliant: self.nonCompliantResourcesCount,
            total: self.totalResourcesCount,
            suppressed: self.suppressedNonCompliantResourcesCount,
            error_code: self.errorCode,
            message: self.message,
        }
    }
}

pub(super) fn audit_notification(text: &str, batch: &mut Batch) -> Res<()> {
    #[derive(Deserialize)]
    #[allow(non_snake_case)]
    struct Notification {
        taskId: String,
        taskStatus: Option<String>,
        taskType: Option<String>,
        scheduledAuditName: Option<String>,
        taskStartTime: Option<TimeDoc>,
        auditDetails: Vec<CheckDoc>,
    }
    let n: Notification = json(text, "audit notification")?;
    let start = opt_ms(n.taskStartTime, time::from_auto)?;
    for c in n.auditDetails {
        if c.checkName.as_deref().is_none_or(str::is_empty) {
            return Err(ParseError::new("audit notification item without checkName"));
        }
        batch
            .audit_checks
            .push(c.into_check(n.taskId.clone(), start));
    }
    batch.audit_tasks.push(AuditTask {
        task_id: n.taskId,
        start,
        task_type: n.taskType,
        status: n.taskStatus,
        scheduled_name: n.scheduledAuditName,
    });
    count(batch, DocKind::AuditNotification);
    Ok(())
}

pub(super) fn describe_audit_task(text: &str, ctx: &Context, batch: &mut Batch) -> Res<()> {
    #[derive(Deserialize)]
    #[allow(non_snake_case)]
    struct Describe {
        taskId: Option<String>,
        taskStatus: Option<String>,
        taskType: Option<String>,
        scheduledAuditName: Option<String>,
        taskStartTime: Option<TimeDoc>,
        auditDetails: BTreeMap<String, CheckDoc>,
    }
    let d: Describe = json(text, "DescribeAuditTask")?;
    let Some(task_id) = d.taskId.or_else(|| ctx.task_id.clone()) else {
        return Err(ParseError::new(
            "a DescribeAuditTask response does not name its task: give it as context (ddesk ingest --task-id ID)",
        ));
    };
    let start = opt_ms(d.taskStartTime, time::from_auto)?;
    for (name, mut c) in d.auditDetails {
        c.checkName = Some(name);
        batch
            .audit_checks
            .push(c.into_check(task_id.clone(), start));
    }
    batch.audit_tasks.push(AuditTask {
        task_id,
        start,
        task_type: d.taskType,
        status: d.taskStatus,
        scheduled_name: d.scheduledAuditName,
    });
    count(batch, DocKind::DescribeAuditTask);
    Ok(())
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ResourceDoc {
    resourceType: Option<String>,
    resourceIdentifier: Option<BTreeMap<String, Value>>,
    additionalInfo: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct FindingDoc {
    findingId: String,
    taskId: Option<String>,
    checkName: String,
    taskStartTime: Option<TimeDoc>,
    findingTime: Option<TimeDoc>,
    severity: Option<String>,
    nonCompliantResource: Option<ResourceDoc>,
    reasonForNonCompliance: Option<String>,
    reasonForNonComplianceCode: Option<String>,
    isSuppressed: Option<bool>,
    #[serde(default)]
    relatedResources: Vec<ResourceDoc>,
}

impl ResourceDoc {
    fn into_resource(self) -> crate::model::Resource {
        let identifier = self.resourceIdentifier.unwrap_or_default();
        crate::model::Resource {
            resource_type: self.resourceType,
            id: render_identifier(&identifier),
            identifier,
            additional_info: self.additionalInfo.unwrap_or_default(),
        }
    }
}

/// One string for a `ResourceIdentifier` (exactly one member is populated).
pub(crate) fn render_identifier(id: &BTreeMap<String, Value>) -> String {
    let render = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .values()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(":"),
        other => other.to_string(),
    };
    // Prefer the specific identifiers over the ARN form when both are present.
    id.iter()
        .find(|(k, _)| k.as_str() != "deviceCertificateArn")
        .or_else(|| id.iter().next())
        .map(|(_, v)| render(v))
        .unwrap_or_default()
}

impl FindingDoc {
    pub(crate) fn into_finding(self) -> Res<AuditFinding> {
        let (resource_type, resource, resource_json) = match self.nonCompliantResource {
            None => (None, String::new(), "{}".to_string()),
            Some(r) => {
                let id = r.resourceIdentifier.unwrap_or_default();
                let json = serde_json::json!({
                    "resourceIdentifier": id,
                    "additionalInfo": r.additionalInfo.unwrap_or_default(),
                });
                (r.resourceType, render_identifier(&id), json.to_string())
            }
        };
        Ok(AuditFinding {
            finding_id: self.findingId,
            task_id: self.taskId,
            check: self.checkName,
            severity: super::detect::word(self.severity)?,
            resource_type,
            resource,
            resource_json,
            reason: self.reasonForNonCompliance,
            reason_code: self.reasonForNonComplianceCode,
            suppressed: self.isSuppressed.unwrap_or(false),
            found: opt_ms(self.findingTime, time::from_auto)?,
            task_start: opt_ms(self.taskStartTime, time::from_auto)?,
            related: self
                .relatedResources
                .into_iter()
                .take(crate::model::wrappers::MAX_RELATED)
                .map(ResourceDoc::into_resource)
                .collect(),
        })
    }
}
