//! The Device Defender data model: what every source delivers, once parsed.
//!
//! [`framing`] cuts a byte stream (plain or gzip, records run together or delimited) into JSON
//! records; [`parse`] recognises each record's kind and turns it into these types. Both are pure.
//!
//! Just over 600 lines, and kept whole: the model's type declarations with their field docs
//! and their small accessors (codes, keys, names), which every source, the store and the
//! analysis share; the logic that reads them is in [`framing`], [`parse`] and [`lifecycle`].

pub mod framing;
pub mod lifecycle;
pub mod limits;
pub mod parse;
pub mod scope;
pub mod sets;
pub mod surface;
pub mod wrappers;

pub use sets::{Confidence, Severity, VerificationState};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::time::Millis;

/// A metric value as Device Defender exports it (`MetricValue`): exactly one member is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricValue {
    /// `count`: cloud-side and device-side numeric metrics.
    Count(i64),
    /// `number`: custom `number` metrics (and non-integral counts).
    Number(f64),
    /// `ports`: listening TCP/UDP ports.
    Ports(Vec<i64>),
    /// `cidrs`: source/destination IP addresses, custom `ip-address-list`.
    Cidrs(Vec<String>),
    /// `numbers`: custom `number-list`.
    Numbers(Vec<f64>),
    /// `strings`: custom `string-list`.
    Strings(Vec<String>),
}

/// The stored kind of a [`MetricValue`], kept as a small integer in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKind {
    /// `count`
    Count = 0,
    /// `number`
    Number = 1,
    /// `ports`
    Ports = 2,
    /// `cidrs`
    Cidrs = 3,
    /// `numbers`
    Numbers = 4,
    /// `strings`
    Strings = 5,
}

impl ValueKind {
    /// The kind stored under `code` in the cache.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Count,
            1 => Self::Number,
            2 => Self::Ports,
            3 => Self::Cidrs,
            4 => Self::Numbers,
            5 => Self::Strings,
            _ => return None,
        })
    }

    /// Whether values of this kind are sets (drawn as drift, not as a line).
    pub fn is_set(self) -> bool {
        self >= Self::Ports
    }

    /// The export key of this kind (`count`, `ports`, …).
    pub fn key(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Number => "number",
            Self::Ports => "ports",
            Self::Cidrs => "cidrs",
            Self::Numbers => "numbers",
            Self::Strings => "strings",
        }
    }
}

impl MetricValue {
    /// This value's kind.
    pub fn kind(&self) -> ValueKind {
        match self {
            Self::Count(_) => ValueKind::Count,
            Self::Number(_) => ValueKind::Number,
            Self::Ports(_) => ValueKind::Ports,
            Self::Cidrs(_) => ValueKind::Cidrs,
            Self::Numbers(_) => ValueKind::Numbers,
            Self::Strings(_) => ValueKind::Strings,
        }
    }

    /// The value as JSON in the export's own shape (`{"ports":[22,80]}`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// For set kinds, writes the members as JSON (in the order the device sent them) to `out`;
    /// writes nothing for counts and numbers.
    pub fn write_set_json(&self, out: &mut Vec<u8>) {
        // Serialising numbers and strings into a Vec cannot fail.
        let _ = match self {
            Self::Ports(v) => serde_json::to_writer(out, v),
            Self::Cidrs(v) | Self::Strings(v) => serde_json::to_writer(out, v),
            Self::Numbers(v) => serde_json::to_writer(out, v),
            Self::Count(_) | Self::Number(_) => Ok(()),
        };
    }
}

/// A metric's dimension (`{"name": ..., "operator": "IN" | "NOT_IN"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Dimension {
    /// Dimension name.
    pub name: String,
    /// `IN` or `NOT_IN`.
    pub operator: String,
}

impl Dimension {
    /// The key under which the cache interns this dimension (`NAME:OP`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.name, self.operator)
    }

    /// Reads `NAME:OP` (the [`Dimension::key`] form, as `series --dimension` takes it); the
    /// operator is `IN` or `NOT_IN`.
    pub fn parse(key: &str) -> Result<Self, String> {
        match key.rsplit_once(':') {
            Some((name, op)) if !name.is_empty() && (op == "IN" || op == "NOT_IN") => {
                limits::check_name("dimension name", name)?;
                Ok(Self {
                    name: name.to_string(),
                    operator: op.to_string(),
                })
            }
            _ => Err(format!(
                "dimension {key:?} is not NAME:OP with OP one of IN, NOT_IN (e.g. TelemetryTopics:IN)"
            )),
        }
    }
}

/// One metric value of one thing at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    /// Thing name (or client ID for unregistered devices).
    pub thing: String,
    /// Metric name (`aws:all-bytes-out`, or a custom metric's name).
    pub metric: String,
    /// Dimension, when the metric is configured with one.
    pub dimension: Option<Dimension>,
    /// Time, UTC epoch ms.
    pub ts: Millis,
    /// De-duplication version: the highest wins.
    pub version: i64,
    /// The value.
    pub value: MetricValue,
}

/// A Detect behavior: a rule over one metric, as security profiles and violations carry it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Behavior {
    /// Behavior name.
    pub name: String,
    /// Metric the behavior watches.
    pub metric: Option<String>,
    /// Dimension of that metric.
    pub dimension: Option<Dimension>,
    /// `greater-than`, `in-port-set`, …
    pub operator: Option<String>,
    /// Static threshold or expected set.
    pub value: Option<MetricValue>,
    /// Statistical threshold (`p90`, …).
    pub statistic: Option<String>,
    /// ML confidence level.
    pub ml_confidence: Option<String>,
    /// `durationSeconds`.
    pub duration_seconds: Option<i64>,
    /// Alerts suppressed for this behavior.
    pub suppress_alerts: bool,
    /// `consecutiveDatapointsToAlarm`: datapoints in violation before an alarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_to_alarm: Option<i64>,
    /// `consecutiveDatapointsToClear`: datapoints back in bounds before the alarm clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_to_clear: Option<i64>,
    /// `exportMetric`: whether the behavior's metric is exported (metrics export).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_metric: Option<bool>,
}

/// The three Detect violation event types.
pub const VIOLATION_EVENT_TYPES: [&str; 3] = ["in-alarm", "alarm-cleared", "alarm-invalidated"];

/// One violation event (SNS alert or ListViolationEvents element).
#[derive(Debug, Clone, PartialEq)]
pub struct ViolationEvent {
    /// Violation id shared by all events of one alarm.
    pub violation_id: String,
    /// Thing in violation.
    pub thing: String,
    /// Security profile.
    pub security_profile: String,
    /// Behavior violated.
    pub behavior: Behavior,
    /// `in-alarm`, `alarm-cleared` or `alarm-invalidated`.
    pub event_type: String,
    /// Event time, UTC epoch ms.
    pub time: Millis,
    /// Metric value at the event.
    pub value: Option<MetricValue>,
    /// Analyst verification state, if set.
    pub verification_state: Option<VerificationState>,
    /// The analyst's note on the verification state (`verificationStateDescription`).
    pub verification_description: Option<String>,
    /// ML Detect's confidence (`violationEventAdditionalInfo.confidenceLevel`: LOW, MEDIUM, HIGH).
    pub confidence: Option<Confidence>,
}

/// One element of ListActiveViolations.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveViolation {
    /// Violation id.
    pub violation_id: String,
    /// Thing in violation.
    pub thing: String,
    /// Security profile.
    pub security_profile: String,
    /// Behavior violated.
    pub behavior: Behavior,
    /// Last value in violation.
    pub last_value: Option<MetricValue>,
    /// Violation start.
    pub started: Option<Millis>,
    /// Last time the value was in violation.
    pub last_violation: Option<Millis>,
    /// Analyst verification state, if set.
    pub verification_state: Option<VerificationState>,
    /// The analyst's note on the verification state.
    pub verification_description: Option<String>,
    /// ML Detect's confidence level.
    pub confidence: Option<Confidence>,
}

/// An audit task (from a notification, ListAuditTasks or DescribeAuditTask).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditTask {
    /// Task id.
    pub task_id: String,
    /// Start time.
    pub start: Option<Millis>,
    /// `SCHEDULED_AUDIT_TASK` or `ON_DEMAND_AUDIT_TASK`.
    pub task_type: Option<String>,
    /// `COMPLETED`, `FAILED`, …
    pub status: Option<String>,
    /// Scheduled audit name.
    pub scheduled_name: Option<String>,
}

/// One check's result in one audit task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditCheck {
    /// Task id (synthesised for the lone per-check items the Splunk sample indexes).
    pub task_id: String,
    /// When known, the task start (or the time the item was observed).
    pub task_start: Option<Millis>,
    /// Check name (an open string).
    pub check: String,
    /// `COMPLETED_NON_COMPLIANT`, …
    pub status: String,
    /// Non-compliant resources.
    pub non_compliant: Option<i64>,
    /// Resources evaluated.
    pub total: Option<i64>,
    /// Suppressed non-compliant resources.
    pub suppressed: Option<i64>,
    /// `INSUFFICIENT_PERMISSIONS`, `AUDIT_CHECK_DISABLED`.
    pub error_code: Option<String>,
    /// Message that came with an error.
    pub message: Option<String>,
}

/// One audit finding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditFinding {
    /// Finding id.
    pub finding_id: String,
    /// Task id.
    pub task_id: Option<String>,
    /// Check name.
    pub check: String,
    /// How grave.
    pub severity: Option<Severity>,
    /// `DEVICE_CERTIFICATE`, …
    pub resource_type: Option<String>,
    /// The non-compliant resource, rendered to one string (certificate id, policy:version, …).
    pub resource: String,
    /// The full resource identifier and additional info, as JSON.
    pub resource_json: String,
    /// Reason text.
    pub reason: Option<String>,
    /// Reason code.
    pub reason_code: Option<String>,
    /// Suppressed.
    pub suppressed: bool,
    /// Finding time.
    pub found: Option<Millis>,
    /// Task start time.
    pub task_start: Option<Millis>,
    /// `relatedResources`: the evidence beside the non-compliant resource (the client ids that
    /// share a certificate, the certificates of conflicting client ids, a revoked CA's issuer,
    /// the IAM roles of a Cognito pool or role alias).
    pub related: Vec<Resource>,
}

/// A resource an audit finding names (`NonCompliantResource` or a `RelatedResource`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Resource {
    /// `DEVICE_CERTIFICATE`, `CLIENT_ID`, …
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    /// The identifier, rendered to one string (certificate id, client id, policy:version, …).
    pub id: String,
    /// `resourceIdentifier` as AWS sent it.
    #[ts(type = "Record<string, unknown>")]
    pub identifier: BTreeMap<String, serde_json::Value>,
    /// `additionalInfo`.
    #[serde(default)]
    pub additional_info: BTreeMap<String, String>,
}

impl Resource {
    /// Every name this resource carries: the rendered id and each string in the identifier
    /// (a policy's name, an issuer's id). What `findings --resource` and the thing's
    /// timeline match exactly.
    pub fn names(&self) -> Vec<String> {
        let mut out = vec![self.id.clone()];
        for v in self.identifier.values() {
            match v {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Object(m) => {
                    out.extend(m.values().filter_map(|x| x.as_str().map(str::to_string)))
                }
                _ => {}
            }
        }
        out.retain(|n| !n.is_empty());
        out.sort();
        out.dedup();
        out
    }
}

/// Which Device Defender feature ran a mitigation actions task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MitigationKind {
    /// StartAuditMitigationActionsTask (on audit findings).
    Audit,
    /// StartDetectMitigationActionsTask (on Detect violations).
    Detect,
}

impl MitigationKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audit => "audit",
            Self::Detect => "detect",
        }
    }

    /// Read back from its stored word.
    pub fn from_stored(word: &str) -> Option<Self> {
        [Self::Audit, Self::Detect]
            .into_iter()
            .find(|k| k.as_str() == word)
    }

    /// The document kind of a task list of this feature.
    pub fn tasks_doc(self) -> DocKind {
        match self {
            Self::Audit => DocKind::ListAuditMitigationTasks,
            Self::Detect => DocKind::ListDetectMitigationTasks,
        }
    }

    /// The document kind of an executions list of this feature.
    pub fn executions_doc(self) -> DocKind {
        match self {
            Self::Audit => DocKind::ListAuditMitigationExecutions,
            Self::Detect => DocKind::ListDetectMitigationExecutions,
        }
    }
}

/// A mitigation actions task (ListAuditMitigationActionsTasks, ListDetectMitigationActionsTasks).
#[derive(Debug, Clone, PartialEq)]
pub struct MitigationTask {
    /// Task id.
    pub task_id: String,
    /// Audit or Detect.
    pub kind: MitigationKind,
    /// `IN_PROGRESS`, `SUCCESSFUL`, `FAILED`, `CANCELED`.
    pub status: Option<String>,
    /// Start.
    pub start: Option<Millis>,
    /// End.
    pub end: Option<Millis>,
    /// Target violation ids (Detect tasks).
    pub violation_ids: Vec<String>,
    /// Names of the actions the task ran.
    pub actions: Vec<String>,
}

/// One execution of a mitigation action on one target (List*MitigationActionsExecutions).
#[derive(Debug, Clone, PartialEq)]
pub struct MitigationExecution {
    /// Task id.
    pub task_id: String,
    /// Audit or Detect.
    pub kind: MitigationKind,
    /// Action name.
    pub action: String,
    /// The finding acted on (audit).
    pub finding_id: Option<String>,
    /// The violation acted on (Detect).
    pub violation_id: Option<String>,
    /// The thing acted on (Detect).
    pub thing: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`, `CANCELED`, `SKIPPED`, `PENDING`, `SUCCESSFUL`.
    pub status: String,
    /// Start.
    pub start: Option<Millis>,
    /// End.
    pub end: Option<Millis>,
    /// Error code of a failed execution.
    pub error_code: Option<String>,
    /// Message of a failed execution.
    pub message: Option<String>,
}

/// A security profile and its behaviors (thresholds for charts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityProfile {
    /// Profile name.
    pub name: String,
    /// Profile ARN.
    pub arn: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Profile version (newer replaces older).
    pub version: Option<i64>,
    /// Behaviors; `None` when only the identifier is known (ListSecurityProfiles).
    pub behaviors: Option<Vec<Behavior>>,
}

/// The kinds of document the parser recognises, counted in every ingest summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// Metrics-export batch `{version, metrics: [...]}`.
    MetricsExport,
    /// One metric entry (Firehose batch mode).
    MetricEntry,
    /// A device-side metrics report.
    DeviceReport,
    /// Detect SNS alert.
    DetectAlert,
    /// Audit SNS notification.
    AuditNotification,
    /// Lone per-check audit item (AWS Splunk sample).
    AuditCheckItem,
    /// ListActiveViolations response.
    ListActiveViolations,
    /// ListViolationEvents response.
    ListViolationEvents,
    /// ListMetricValues response.
    ListMetricValues,
    /// ListAuditTasks response.
    ListAuditTasks,
    /// DescribeAuditTask response.
    DescribeAuditTask,
    /// ListAuditFindings response.
    ListAuditFindings,
    /// ListSecurityProfiles response.
    ListSecurityProfiles,
    /// DescribeSecurityProfile response.
    DescribeSecurityProfile,
    /// A Firehose error-output record (`processing-failed/`, `format-conversion-failed/`): its
    /// `rawData` is decoded and read.
    FirehoseFailure,
    /// A Firehose delivery-failure backup record for Splunk: its `rawData` is decoded and read.
    FirehoseSplunkBackup,
    /// DescribeAuditFinding response `{finding: {...}}`.
    DescribeAuditFinding,
    /// A top-level JSON array (`aws ... --query violationEvents`): its elements are read.
    Array,
    /// A Splunk search export row in JSON (`{result: {_raw, _time}}`, `{results: [...]}`).
    SplunkExport,
    /// A Splunk HTTP Event Collector payload (`{event: ..., sourcetype: ...}`).
    HecEvent,
    /// ListAuditMitigationActionsTasks response.
    ListAuditMitigationTasks,
    /// ListDetectMitigationActionsTasks response.
    ListDetectMitigationTasks,
    /// ListAuditMitigationActionsExecutions response.
    ListAuditMitigationExecutions,
    /// ListDetectMitigationActionsExecutions response.
    ListDetectMitigationExecutions,
    /// An AWS IoT lifecycle event (connected, disconnected, subscribed, unsubscribed).
    LifecycleEvent,
    /// A Device Defender finding in AWS Security Hub (ASFF): a Detect violation, an audit
    /// finding or an audit check summary.
    SecurityHubFinding,
    /// Another product's finding in Security Hub output (GuardDuty, Inspector, …): skipped.
    OtherProductFinding,
}

impl DocKind {
    /// The family a source declares it carries ([`Carried`]); `None` for containers (Splunk
    /// rows, HEC payloads, Firehose's backups and error outputs, arrays), whose content is
    /// judged record by record.
    pub fn family(self) -> Option<Carried> {
        use DocKind::*;
        match self {
            MetricsExport | MetricEntry => Some(Carried::Export),
            DeviceReport | LifecycleEvent => Some(Carried::DeviceReports),
            DetectAlert | AuditNotification | AuditCheckItem | SecurityHubFinding => {
                Some(Carried::Alerts)
            }
            ListActiveViolations
            | ListViolationEvents
            | ListMetricValues
            | ListAuditTasks
            | DescribeAuditTask
            | ListAuditFindings
            | ListSecurityProfiles
            | DescribeSecurityProfile
            | DescribeAuditFinding
            | ListAuditMitigationTasks
            | ListDetectMitigationTasks
            | ListAuditMitigationExecutions
            | ListDetectMitigationExecutions => Some(Carried::Api),
            FirehoseFailure | FirehoseSplunkBackup | Array | SplunkExport | HecEvent
            | OtherProductFinding => None,
        }
    }
}

/// What a source may carry, by family of document: a Detect-free bucket or index carries
/// device reports and lifecycle events, a metrics-export bucket export batches. A record of a
/// family its source does not carry is refused and reported, never read.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    ts_rs::TS,
)]
#[serde(rename_all = "kebab-case")]
pub enum Carried {
    /// Metrics-export batches and their entries (`{version, metrics: [...]}`): cloud-side.
    Export,
    /// Devices' own metrics reports and AWS IoT lifecycle events (the Detect-free rules).
    DeviceReports,
    /// Detect alerts, audit notifications and audit check items (SNS, the Splunk sample), and
    /// Device Defender's findings in AWS Security Hub.
    Alerts,
    /// Device Defender API responses saved by the AWS CLI or an SDK.
    Api,
}

impl Carried {
    /// The name used in settings, flags and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Carried::Export => "export",
            Carried::DeviceReports => "device-reports",
            Carried::Alerts => "alerts",
            Carried::Api => "api",
        }
    }

    /// Every family.
    pub const ALL: [Carried; 4] = [
        Carried::Export,
        Carried::DeviceReports,
        Carried::Alerts,
        Carried::Api,
    ];

    /// Parses a comma-separated list (`device-reports,alerts`) as flags give it.
    pub fn parse_list(s: &str) -> Result<Vec<Carried>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let c = Carried::ALL
                .into_iter()
                .find(|c| c.as_str() == part)
                .ok_or_else(|| {
                    format!(
                        "{part:?} is no family of documents: expected {}",
                        Carried::list(&Carried::ALL)
                    )
                })?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            return Err("no family of documents given".into());
        }
        out.sort();
        Ok(out)
    }

    /// The families as a list for messages (`export, alerts`).
    pub fn list(set: &[Carried]) -> String {
        set.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The de-duplication version of a value a device reported itself: below every cloud-side
/// version (which are 0 or more), so a device's report never replaces a metric AWS measured
/// for the same time.
pub const DEVICE_VERSION: i64 = -1;

/// Everything parsed from one file or object: written to the cache in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Metric datapoints.
    pub points: Vec<Datapoint>,
    /// Violation events.
    pub violation_events: Vec<ViolationEvent>,
    /// Active violations.
    pub active_violations: Vec<ActiveViolation>,
    /// Audit tasks.
    pub audit_tasks: Vec<AuditTask>,
    /// Per-check audit results.
    pub audit_checks: Vec<AuditCheck>,
    /// Audit findings.
    pub findings: Vec<AuditFinding>,
    /// Security profiles.
    pub profiles: Vec<SecurityProfile>,
    /// Mitigation actions tasks.
    pub mitigation_tasks: Vec<MitigationTask>,
    /// Mitigation action executions.
    pub mitigation_executions: Vec<MitigationExecution>,
    /// Security Hub's identity of the records a Security Hub finding gave.
    pub hub_refs: Vec<HubRef>,
    /// The account and region of the batch's things (the source's, or the analyst's word for
    /// a file); a Security Hub finding's own `AwsAccountId`/`Region` (its [`HubRef`]) wins for
    /// the records it gave.
    pub scope: scope::Scope,
    /// How many documents of each kind.
    pub documents: std::collections::BTreeMap<DocKind, u64>,
    /// Datapoints dated after the context's `not_after`: never stored.
    pub future: Vec<FutureDated>,
    /// What the parser decided that the reader should know (a report dated by its arrival).
    pub notes: Vec<String>,
    /// Records recovered from Firehose error outputs, by kind (`processing-failed`,
    /// `format-conversion-failed`, `splunk-failed`).
    pub recovered: std::collections::BTreeMap<String, u64>,
    /// Records refused while the rest of their file was kept (the first
    /// [`parse::MAX_BAD_RECORDS`]), and how many there were.
    pub bad_records: Vec<parse::ParseError>,
    /// Records refused in all.
    pub bad_records_total: u64,
    /// Where the lone audit-check items of this stream stand (see [`wrappers::AuditRuns`]):
    /// parser state, carried over by [`Batch::take_content`].
    pub(crate) runs: wrappers::AuditRuns,
}

/// Which Security Hub finding a violation, an audit finding or a check result came from: its
/// identity there (`ProductArn`, `Id` — what BatchUpdateFindings names), the account and region
/// it belongs to, and its workflow state when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubRef {
    /// `ProductArn`.
    pub product_arn: String,
    /// The finding's `Id`.
    pub id: String,
    /// `AwsAccountId` (12 digits).
    pub account: String,
    /// `Region`, when the finding says.
    pub region: Option<String>,
    /// `violation`, `finding` or `check`.
    pub kind: &'static str,
    /// The violation id, the audit finding id, or `task/check`.
    pub record: String,
    /// `Workflow.Status` (NEW, NOTIFIED, RESOLVED, SUPPRESSED).
    pub workflow: Option<String>,
    /// `UpdatedAt`.
    pub updated: Option<Millis>,
}

/// A datapoint set aside for being dated in the future.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FutureDated {
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Its time, UTC epoch ms.
    pub ts: Millis,
}

/// How far a [`Batch`] was filled, to undo what a refused record added.
#[derive(Debug, Clone, Copy)]
pub struct BatchMark([usize; 10]);

impl Batch {
    /// Where the batch stands now.
    pub fn mark(&self) -> BatchMark {
        BatchMark([
            self.points.len(),
            self.violation_events.len(),
            self.active_violations.len(),
            self.audit_tasks.len(),
            self.audit_checks.len(),
            self.findings.len(),
            self.profiles.len(),
            self.mitigation_tasks.len(),
            self.mitigation_executions.len(),
            self.hub_refs.len(),
        ])
    }

    /// Takes what was parsed so far, keeping the parser's state (a Splunk export hands its
    /// rows over in batches; an audit run may span two of them).
    pub fn take_content(&mut self) -> Batch {
        let runs = self.runs.clone();
        let mut out = std::mem::take(self);
        self.runs = runs;
        self.scope = out.scope.clone();
        out.runs = wrappers::AuditRuns::default();
        out
    }

    /// Drops everything added since `mark` (document counts excepted).
    pub fn rewind(&mut self, mark: BatchMark) {
        let [p, v, a, t, c, f, s, mt, me, h] = mark.0;
        self.points.truncate(p);
        self.violation_events.truncate(v);
        self.active_violations.truncate(a);
        self.audit_tasks.truncate(t);
        self.audit_checks.truncate(c);
        self.findings.truncate(f);
        self.profiles.truncate(s);
        self.mitigation_tasks.truncate(mt);
        self.mitigation_executions.truncate(me);
        self.hub_refs.truncate(h);
    }

    /// Adds another batch's content to this one.
    pub fn extend(&mut self, other: Batch) {
        for (k, n) in &other.recovered {
            *self.recovered.entry(k.clone()).or_default() += n;
        }
        self.points.extend(other.points);
        self.violation_events.extend(other.violation_events);
        self.active_violations.extend(other.active_violations);
        self.audit_tasks.extend(other.audit_tasks);
        self.audit_checks.extend(other.audit_checks);
        self.findings.extend(other.findings);
        self.profiles.extend(other.profiles);
        self.mitigation_tasks.extend(other.mitigation_tasks);
        self.mitigation_executions
            .extend(other.mitigation_executions);
        self.hub_refs.extend(other.hub_refs);
        self.future.extend(other.future);
        self.notes.extend(other.notes);
        self.bad_records_total += other.bad_records_total;
        let room = parse::MAX_BAD_RECORDS.saturating_sub(self.bad_records.len());
        self.bad_records
            .extend(other.bad_records.into_iter().take(room));
        for (k, n) in other.documents {
            *self.documents.entry(k).or_default() += n;
        }
    }
}
