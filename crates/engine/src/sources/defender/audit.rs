//! Device Defender Audit through the API: one audit task whole (DescribeAuditTask, its checks'
//! results, ListAuditFindings), its findings' resource identifiers as the export spells them.

use std::collections::BTreeMap;

use aws_sdk_iot::types as t;
use serde_json::Value;

use super::client::{ms, note, DefenderSource, PAGE};
use crate::model::{AuditCheck, AuditFinding, AuditTask, Batch, DocKind, Resource};
use crate::sources::aws::failure;
use crate::{Error, Result};

fn identifier(r: Option<&t::ResourceIdentifier>) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    let Some(r) = r else { return m };
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    put("deviceCertificateId", r.device_certificate_id());
    put("caCertificateId", r.ca_certificate_id());
    put("cognitoIdentityPoolId", r.cognito_identity_pool_id());
    put("clientId", r.client_id());
    put("account", r.account());
    put("iamRoleArn", r.iam_role_arn());
    put("roleAliasArn", r.role_alias_arn());
    put("deviceCertificateArn", r.device_certificate_arn());
    if let Some(p) = r.policy_version_identifier() {
        let mut o = serde_json::Map::new();
        if let Some(n) = p.policy_name() {
            o.insert("policyName".into(), n.into());
        }
        if let Some(v) = p.policy_version_id() {
            o.insert("policyVersionId".into(), v.into());
        }
        m.insert("policyVersionIdentifier".into(), Value::Object(o));
    }
    if let Some(i) = r.issuer_certificate_identifier() {
        let mut o = serde_json::Map::new();
        if let Some(v) = i.issuer_certificate_subject() {
            o.insert("issuerCertificateSubject".into(), v.into());
        }
        if let Some(v) = i.issuer_id() {
            o.insert("issuerId".into(), v.into());
        }
        if let Some(v) = i.issuer_certificate_serial_number() {
            o.insert("issuerCertificateSerialNumber".into(), v.into());
        }
        m.insert("issuerCertificateIdentifier".into(), Value::Object(o));
    }
    m
}

fn finding(f: &t::AuditFinding) -> AuditFinding {
    let (resource_type, resource, resource_json) = match f.non_compliant_resource() {
        None => (None, String::new(), "{}".to_string()),
        Some(r) => {
            let id = identifier(r.resource_identifier());
            let info: BTreeMap<&String, &String> = r
                .additional_info()
                .map(|m| m.iter().collect())
                .unwrap_or_default();
            let json = serde_json::json!({ "resourceIdentifier": id, "additionalInfo": info });
            (
                r.resource_type().map(|t| t.as_str().to_string()),
                crate::model::parse::render_identifier(&id),
                json.to_string(),
            )
        }
    };
    AuditFinding {
        finding_id: f.finding_id().unwrap_or_default().to_string(),
        task_id: f.task_id().map(str::to_string),
        check: f.check_name().unwrap_or_default().to_string(),
        severity: crate::model::sets::stored(f.severity().map(|s| s.as_str().to_string())),
        resource_type,
        resource,
        resource_json,
        reason: f.reason_for_non_compliance().map(str::to_string),
        reason_code: f.reason_for_non_compliance_code().map(str::to_string),
        suppressed: f.is_suppressed().unwrap_or(false),
        found: ms(f.finding_time()),
        task_start: ms(f.task_start_time()),
        related: f
            .related_resources()
            .iter()
            .take(crate::model::wrappers::MAX_RELATED)
            .map(|r| {
                let identifier = identifier(r.resource_identifier());
                Resource {
                    resource_type: r.resource_type().map(|t| t.as_str().to_string()),
                    id: crate::model::parse::render_identifier(&identifier),
                    identifier,
                    additional_info: r
                        .additional_info()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
    }
}

impl DefenderSource {
    /// One audit task whole: the task, every check's result and every finding.
    pub async fn audit_task(&self, task_id: &str) -> Result<Batch> {
        let mut batch = Batch::default();
        self.pacer.wait("DescribeAuditTask", 25).await;
        let d = self
            .client
            .describe_audit_task()
            .task_id(task_id)
            .send()
            .await
            .map_err(|e| Error::Source(failure(&format!("DescribeAuditTask {task_id}"), &e)))?;
        let start = ms(d.task_start_time());
        batch.audit_tasks.push(AuditTask {
            task_id: task_id.to_string(),
            start,
            task_type: d.task_type().map(|t| t.as_str().to_string()),
            status: d.task_status().map(|t| t.as_str().to_string()),
            scheduled_name: d.scheduled_audit_name().map(str::to_string),
        });
        if let Some(details) = d.audit_details() {
            let mut checks: Vec<_> = details.iter().collect();
            checks.sort_by(|a, b| a.0.cmp(b.0));
            for (name, c) in checks {
                batch.audit_checks.push(AuditCheck {
                    task_id: task_id.to_string(),
                    task_start: start,
                    check: name.clone(),
                    status: c
                        .check_run_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    non_compliant: c.non_compliant_resources_count(),
                    total: c.total_resources_count(),
                    suppressed: c.suppressed_non_compliant_resources_count(),
                    error_code: c.error_code().map(str::to_string),
                    message: c.message().map(str::to_string),
                });
            }
        }
        note(&mut batch, DocKind::DescribeAuditTask);
        self.paginate("ListAuditFindings", 10, async |token| {
            let page = self
                .client
                .list_audit_findings()
                .task_id(task_id)
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure(&format!("ListAuditFindings {task_id}"), &e)))?;
            batch.findings.extend(page.findings().iter().map(finding));
            note(&mut batch, DocKind::ListAuditFindings);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(batch)
    }
}
