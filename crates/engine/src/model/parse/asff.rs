//! AWS Security Hub's findings (ASFF) of Device Defender: what `aws securityhub get-findings`
//! and boto3 save, a bare finding or a list of them, the EventBridge event "Security Hub
//! Findings - Imported" and a Firehose object of those events. Read by the field mapping AWS
//! documents for the integration (`securityhub-integration.html`): a Detect finding is the
//! violation the Device Defender API gives (`ProductFields.ViolationId`; an `ARCHIVED` record
//! ends it at its `UpdatedAt`), an audit finding the finding (`ProductFields.FindingId`, the
//! Device Defender finding id), a check summary the check's result in its task — so the same
//! violation or finding from Security Hub and from the API is one record. Findings of other
//! products are skipped and counted ([`DocKind::OtherProductFinding`]), never read.

use super::*;
use crate::model::HubRef;

/// Device Defender's two products, by the tail of their `ProductArn`
/// (`arn:aws:securityhub:<region>::product/aws/iot-device-defender-detect`).
const DETECT: &str = "::product/aws/iot-device-defender-detect";
const AUDIT: &str = "::product/aws/iot-device-defender-audit";

/// The EventBridge `detail-type` of a finding Security Hub imported or updated.
pub(super) const IMPORTED: &str = "Security Hub Findings - Imported";

/// At most this many findings in one document (GetFindings pages hold 100; an EventBridge
/// event one): a larger list is a file, not a page, and is read as such up to this bound.
const MAX_FINDINGS: usize = 100_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Finding {
    id: String,
    product_arn: String,
    aws_account_id: Option<String>,
    region: Option<String>,
    workflow: Option<WorkflowDoc>,
    generator_id: Option<String>,
    created_at: Option<TimeDoc>,
    updated_at: Option<TimeDoc>,
    severity: Option<SeverityDoc>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    product_fields: BTreeMap<String, String>,
    #[serde(default)]
    resources: Vec<ResourceDoc>,
    record_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WorkflowDoc {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SeverityDoc {
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceDoc {
    #[serde(rename = "Type")]
    kind: String,
    id: String,
    details: Option<DetailsDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DetailsDoc {
    #[serde(default)]
    other: BTreeMap<String, String>,
}

/// Reads a list of findings (`Findings` of GetFindings, `detail.findings` of an event), each
/// as its own record: one a limit or the mapping refuses is named and costs only itself.
pub(super) fn findings(
    raw: &RawValue,
    what: &str,
    ctx: &Context,
    batch: &mut Batch,
    depth: u8,
) -> Res<()> {
    if depth >= 3 {
        return Err(ParseError::new(format!(
            "{what}: findings nested more than 3 deep"
        )));
    }
    let list: Vec<&RawValue> = json(raw.get(), what)?;
    if list.len() > MAX_FINDINGS {
        return Err(ParseError::new(format!(
            "{what}: {} findings in one document, more than {MAX_FINDINGS}",
            list.len()
        )));
    }
    for f in list {
        if let Err(e) = parse_record(f.get().as_bytes(), ctx, batch, depth + 1) {
            if e.whole {
                return Err(e);
            }
            batch.refuse(e);
        }
    }
    Ok(())
}

/// Reads an EventBridge event of Security Hub.
pub(super) fn event(detail: &RawValue, ctx: &Context, batch: &mut Batch, depth: u8) -> Res<()> {
    #[derive(Deserialize)]
    struct Detail<'a> {
        #[serde(borrow)]
        findings: &'a RawValue,
    }
    let d: Detail = json(detail.get(), "Security Hub event detail")?;
    findings(
        d.findings,
        "Security Hub event detail.findings",
        ctx,
        batch,
        depth,
    )
}

/// Reads one finding; another product's is counted and skipped.
pub(super) fn finding(text: &str, batch: &mut Batch) -> Res<()> {
    let f: Finding = json(text, "Security Hub finding (ASFF)")?;
    let mark = batch.hub_refs.len();
    let result = read(f, batch);
    if result.is_err() {
        batch.hub_refs.truncate(mark);
    }
    result
}

fn read(f: Finding, batch: &mut Batch) -> Res<()> {
    if f.product_arn.ends_with(DETECT) {
        detect(f, batch)?;
        count(batch, DocKind::SecurityHubFinding);
    } else if f.product_arn.ends_with(AUDIT) {
        audit(f, batch)?;
        count(batch, DocKind::SecurityHubFinding);
    } else {
        count(batch, DocKind::OtherProductFinding);
    }
    Ok(())
}

impl Finding {
    /// Its identity in Security Hub, checked: an account is 12 digits, a region a name, the
    /// ProductArn and Id at most 512 characters of no control character (ASFF's own bound).
    fn hub_ref(&self, kind: &'static str, record: String) -> Res<HubRef> {
        let account = self.aws_account_id.clone().unwrap_or_default();
        let checked =
            super::super::scope::check_account(&account).and_then(|()| match &self.region {
                Some(r) => super::super::scope::check_region(r),
                None => Ok(()),
            });
        if let Err(e) = checked {
            return Err(ParseError::new(format!("finding {:?}: {e}", self.id)));
        }
        for (what, v) in [("ProductArn", &self.product_arn), ("Id", &self.id)] {
            if v.is_empty() || v.len() > 512 || v.chars().any(char::is_control) {
                return Err(ParseError::new(format!(
                    "finding {what} must be 1-512 characters without control characters"
                )));
            }
        }
        let workflow = self
            .workflow
            .as_ref()
            .and_then(|w| w.status.clone())
            .filter(|s| matches!(s.as_str(), "NEW" | "NOTIFIED" | "RESOLVED" | "SUPPRESSED"));
        Ok(HubRef {
            product_arn: self.product_arn.clone(),
            id: self.id.clone(),
            account,
            region: self.region.clone(),
            kind,
            record,
            workflow,
            updated: self.updated()?,
        })
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.product_fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn ms(&self, key: &str) -> Res<Option<Millis>> {
        self.field(key)
            .map(|v| TimeDoc::Text(v.to_string()).to_ms(time::from_auto))
            .transpose()
            .map_err(|e| ParseError::new(format!("ProductFields.{key}: {}", e.message)))
    }

    fn updated(&self) -> Res<Option<Millis>> {
        opt_ms(self.updated_at.as_ref().map(clone_time), time::from_auto)
    }

    fn created(&self) -> Res<Option<Millis>> {
        opt_ms(self.created_at.as_ref().map(clone_time), time::from_auto)
    }

    fn archived(&self) -> bool {
        self.record_state.as_deref() == Some("ARCHIVED")
    }

    fn severity(&self) -> Res<Option<crate::model::Severity>> {
        // ASFF adds INFORMATIONAL, which Device Defender never sends: no severity.
        let label = self
            .severity
            .as_ref()
            .and_then(|s| s.label.clone())
            .filter(|l| l != "INFORMATIONAL");
        super::detect::word(label)
    }
}

fn clone_time(t: &TimeDoc) -> TimeDoc {
    match t {
        TimeDoc::Num(v) => TimeDoc::Num(*v),
        TimeDoc::Text(s) => TimeDoc::Text(s.clone()),
    }
}

/// The thing a Detect finding is about: `ProductFields.ThingName`, else its
/// `AwsIotRegisteredThing` resource (`Details.Other.ThingName`, or the ARN's `thing/NAME`).
fn thing_of(f: &Finding) -> Option<String> {
    if let Some(t) = f.field("ThingName") {
        return Some(t.to_string());
    }
    let r = f
        .resources
        .iter()
        .find(|r| r.kind == "AwsIotRegisteredThing")?;
    r.details
        .as_ref()
        .and_then(|d| d.other.get("ThingName").cloned())
        .or_else(|| {
            r.id.rsplit_once(":thing/")
                .map(|(_, n)| n.to_string())
                .or_else(|| (!r.id.contains(':')).then(|| r.id.clone()))
        })
}

fn detect(f: Finding, batch: &mut Batch) -> Res<()> {
    let violation_id = f.field("ViolationId").unwrap_or(&f.id).to_string();
    let thing = thing_of(&f).ok_or_else(|| {
        ParseError::new(format!(
            "Detect finding {violation_id:?} names no thing (no ProductFields.ThingName, no AwsIotRegisteredThing resource)"
        ))
    })?;
    let profile = f
        .field("SecurityProfileName")
        .map(str::to_string)
        .or_else(|| {
            f.generator_id
                .as_deref()
                .and_then(|g| g.rsplit_once(":securityprofile/"))
                .map(|(_, n)| n.to_string())
        })
        .unwrap_or_default();
    let behavior = Behavior {
        name: f.field("BehaviorName").unwrap_or_default().to_string(),
        metric: f.field("MetricName").map(str::to_string),
        operator: f.field("ComparisonOperator").map(str::to_string),
        ..Behavior::default()
    };
    let started = match f.ms("ViolationStartTime")? {
        Some(t) => t,
        None => f.created()?.ok_or_else(|| {
            ParseError::new(format!(
                "Detect finding {violation_id:?} has neither ViolationStartTime nor CreatedAt"
            ))
        })?,
    };
    let event = |event_type: &str, time: Millis| ViolationEvent {
        violation_id: violation_id.clone(),
        thing: thing.clone(),
        security_profile: profile.clone(),
        behavior: behavior.clone(),
        event_type: event_type.to_string(),
        time,
        value: None,
        verification_state: None,
        verification_description: None,
        confidence: None,
    };
    batch
        .hub_refs
        .push(f.hub_ref("violation", violation_id.clone())?);
    batch.violation_events.push(event("in-alarm", started));
    if f.archived() {
        // Security Hub archives a Detect finding when its alarm clears.
        let ended = f.updated()?.unwrap_or(started).max(started);
        batch.violation_events.push(event("alarm-cleared", ended));
    }
    Ok(())
}

fn audit(f: Finding, batch: &mut Batch) -> Res<()> {
    let check = f
        .field("CheckName")
        .ok_or_else(|| {
            ParseError::new(format!(
                "audit finding {:?} has no ProductFields.CheckName",
                f.id
            ))
        })?
        .to_string();
    let task_id = f.field("TaskId").map(str::to_string);
    let task_start = f.ms("TaskStartTime")?;
    match f.field("ReportType") {
        Some("CheckSummary") => {
            let Some(task_id) = task_id else {
                return Err(ParseError::new(format!(
                    "audit check summary {:?} has no ProductFields.TaskId",
                    f.id
                )));
            };
            let n = |k: &str| -> Res<Option<i64>> {
                f.field(k)
                    .map(|v| {
                        v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                            ParseError::new(format!("ProductFields.{k} {v:?} is not a count"))
                        })
                    })
                    .transpose()
            };
            let non_compliant = n("NonCompliantResourcesCount")?;
            let status = f
                .field("CheckRunStatus")
                .map(str::to_string)
                .unwrap_or_else(|| {
                    match (f.archived(), non_compliant) {
                        (_, Some(n)) if n > 0 => "COMPLETED_NON_COMPLIANT",
                        (true, _) | (_, Some(0)) => "COMPLETED_COMPLIANT",
                        _ => "COMPLETED_NON_COMPLIANT",
                    }
                    .to_string()
                });
            batch
                .hub_refs
                .push(f.hub_ref("check", format!("{task_id}/{check}"))?);
            batch.audit_checks.push(AuditCheck {
                task_id: task_id.clone(),
                task_start,
                check,
                status,
                non_compliant,
                total: n("TotalResourcesCount")?,
                suppressed: n("SuppressedNonCompliantResourcesCount")?,
                error_code: None,
                message: None,
            });
            batch.audit_tasks.push(AuditTask {
                task_id,
                start: task_start,
                task_type: f.field("TaskType").map(str::to_string),
                status: None,
                scheduled_name: None,
            });
        }
        Some("AuditFinding") | None => {
            let finding_id = f.field("FindingId").unwrap_or(&f.id).to_string();
            let policy = f.resources.iter().find(|r| r.kind == "AwsIotPolicy");
            let (resource_type, resource) = match policy {
                Some(p) => (
                    Some("IOT_POLICY".to_string()),
                    p.id.rsplit_once(":policy/")
                        .map_or(p.id.clone(), |(_, n)| n.to_string()),
                ),
                None => (None, String::new()),
            };
            let resources: Vec<serde_json::Value> = f
                .resources
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "type": r.kind,
                        "id": r.id,
                        "other": r.details.as_ref().map(|d| &d.other),
                    })
                })
                .collect();
            batch
                .hub_refs
                .push(f.hub_ref("finding", finding_id.clone())?);
            batch.findings.push(AuditFinding {
                finding_id,
                task_id,
                check,
                severity: f.severity()?,
                resource_type,
                resource,
                resource_json: serde_json::json!({ "securityHubResources": resources }).to_string(),
                reason: f.description.clone().or_else(|| f.title.clone()),
                reason_code: f.field("ReasonForNonComplianceCode").map(str::to_string),
                suppressed: f.field("IsSuppressed") == Some("true"),
                found: f.created()?,
                task_start,
                related: Vec::new(),
            });
        }
        Some(other) => {
            return Err(ParseError::new(format!(
            "audit finding {:?} has ReportType {other:?}: expected AuditFinding or CheckSummary",
            f.id
        )))
        }
    }
    Ok(())
}
