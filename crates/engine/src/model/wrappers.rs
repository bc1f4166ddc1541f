//! Documents that carry other documents (Splunk export rows, HEC payloads, Firehose's backup
//! of what never reached Splunk), the mitigation history lists, and the lone audit-check items
//! whose runs the parser has to tell apart. Each wrapper hands its content back to
//! [`parse::record`] with the time the wrapper knows as the context's `observed`.

use std::collections::BTreeSet;
use std::io::Cursor;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::framing::Records;
use super::parse::{self, count, json, opt_ms, Context, ParseError, Res, TaskDoc, TimeDoc};
use super::{Batch, DocKind, MitigationExecution, MitigationKind, MitigationTask};
use crate::time::{self, Millis};

/// At most this many related resources or target ids are kept per finding or task.
pub const MAX_RELATED: usize = 10_000;

/// A new run of lone audit-check items starts after this long without an item.
pub const RUN_GAP: Millis = 10 * 60 * 1000;

/// The lone per-check audit items (the AWS Splunk sample indexes each `auditDetails` item on
/// its own, with no task id or task time) seen so far in one stream: a new audit run starts when
/// a check repeats or after [`RUN_GAP`] without an item. Each run is its own task, named by the
/// time its first item was observed (`untasked@TIME`, Splunk `_time`), or by `--task-id`.
#[derive(Debug, Clone, Default)]
pub struct AuditRuns {
    id: Option<String>,
    start: Option<Millis>,
    last: Option<Millis>,
    seen: BTreeSet<String>,
}

impl AuditRuns {
    /// The task id and start of the run `check` belongs to.
    pub(super) fn place(&mut self, check: &str, ctx: &Context) -> Res<(String, Option<Millis>)> {
        let gap = matches!((self.last, ctx.observed), (Some(a), Some(b)) if a.abs_diff(b) > RUN_GAP as u64);
        let repeat = self.seen.contains(check);
        if self.id.is_none() || repeat || gap {
            if self.id.is_some() {
                if ctx.task_id.is_some() {
                    return Err(ParseError::whole(format!(
                        "audit check {check:?} appears twice: the items hold more than one audit run, and --task-id names one task; ingest each run with its own --task-id"
                    )));
                }
                if ctx.observed.is_none() {
                    return Err(ParseError::whole(format!(
                        "audit check {check:?} appears twice and the items carry no time: they hold more than one audit run; split them and ingest each run with --task-id"
                    )));
                }
            }
            self.seen.clear();
            self.start = ctx.observed;
            self.id = Some(ctx.task_id.clone().unwrap_or_else(|| match ctx.observed {
                Some(t) => format!("untasked@{}", time::to_rfc3339(t)),
                None => "untasked".to_string(),
            }));
        }
        self.seen.insert(check.to_string());
        if ctx.observed.is_some() {
            self.last = ctx.observed;
        }
        Ok((self.id.clone().unwrap_or_default(), self.start))
    }
}

/// A time as Splunk writes `_time` in JSON: the export API's `2026-11-30 21:10:00.000 UTC`,
/// ISO 8601 with an offset (`2026-11-30T21:10:00.000+00:00`), or an epoch string. A time in
/// another named zone (`EST`: ambiguous) is not read.
fn splunk_time(v: Option<&serde_json::Value>) -> Option<Millis> {
    splunk_time_str(v?.as_str()?)
}

/// [`splunk_time`] of a string (CSV and XML results carry `_time` as text).
pub(super) fn splunk_time_str(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return time::from_seconds(secs).ok();
    }
    if let Some(utc) = s.strip_suffix(" UTC") {
        return chrono::NaiveDateTime::parse_from_str(utc, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|d| d.and_utc().timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%z"))
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Rows of a Splunk search export in JSON (`output_mode=json`): each row's `_raw` is the event
/// as indexed, `_time` when Splunk indexed it (or the HEC `time`). Preview rows are skipped.
pub(super) fn splunk_rows(
    rows: &[&RawValue],
    text: &str,
    ctx: &Context,
    batch: &mut Batch,
    depth: u8,
) -> Res<()> {
    #[derive(Deserialize)]
    struct Line {
        preview: Option<bool>,
    }
    if json::<Line>(text, "Splunk export row")?.preview == Some(true) {
        return Ok(());
    }
    for row in rows {
        let row: serde_json::Map<String, serde_json::Value> = json(row.get(), "Splunk result")?;
        let Some(raw) = row.get("_raw").and_then(|r| r.as_str()) else {
            return Err(ParseError::new(
                "Splunk result has no _raw event (export with `| table _time _raw` or no table)",
            ));
        };
        let observed = splunk_time(row.get("_time")).or(ctx.observed);
        let inner = Context {
            observed,
            ..ctx.clone()
        };
        parse::nested(raw, &inner, batch, depth)?;
    }
    Ok(())
}

/// A Splunk HTTP Event Collector payload: `event` is the document (an object, or a string
/// holding one); `time` (epoch seconds) is when it was sent.
pub(super) fn hec_event(
    event: &RawValue,
    text: &str,
    ctx: &Context,
    batch: &mut Batch,
    depth: u8,
) -> Res<()> {
    #[derive(Deserialize)]
    struct Hec {
        time: Option<TimeDoc>,
    }
    let h: Hec = json(text, "HEC payload")?;
    let observed = match h.time {
        Some(t) => Some(t.to_ms(time::from_seconds)?),
        None => ctx.observed,
    };
    let inner = Context {
        observed,
        ..ctx.clone()
    };
    let body = event.get().trim_start();
    if body.starts_with('{') {
        parse::nested(body, &inner, batch, depth)
    } else if body.starts_with('"') {
        let s: String = json(body, "HEC event")?;
        parse::nested(&s, &inner, batch, depth)
    } else {
        Err(ParseError::new(
            "HEC event is neither a JSON object nor a string holding one",
        ))
    }
}

/// The kinds of record Firehose writes to its S3 error output, each carrying the original
/// record base64-encoded in `rawData` — the only copy of those metrics left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named as Firehose names their prefixes
pub(super) enum ErrorOutput {
    /// A record it could not deliver to Splunk (`splunk-failed/`).
    SplunkFailed,
    /// A record a Lambda transform failed on (`processing-failed/`: `errorCode`,
    /// `errorMessage`, `lambdaArn`).
    ProcessingFailed,
    /// A record format conversion could not convert (`format-conversion-failed/`:
    /// `ErrorCode`, `ErrorMessage`, `dataCatalogTable`).
    FormatConversionFailed,
}

impl ErrorOutput {
    /// Its name in summaries (the prefix Firehose writes it under).
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::SplunkFailed => "splunk-failed",
            Self::ProcessingFailed => "processing-failed",
            Self::FormatConversionFailed => "format-conversion-failed",
        }
    }
}

/// A record Firehose wrote to its S3 error output: `rawData` is the base64 of what it
/// received (HEC payloads or raw events for Splunk, the IoT rule's records otherwise, run
/// together) and the only copy left. Decoded and read like any stream, dated by
/// `arrivalTimestamp` (`approximateArrivalTimestamp`, else `attemptEndingTimestamp`) where
/// the records have no time of their own; counted in [`Batch::recovered`] by kind.
pub(super) fn firehose_backup(
    raw: &RawValue,
    text: &str,
    ctx: &Context,
    batch: &mut Batch,
    depth: u8,
    kind: ErrorOutput,
) -> Res<()> {
    #[derive(Deserialize)]
    #[allow(non_snake_case)]
    struct Backup {
        arrivalTimestamp: Option<TimeDoc>,
        approximateArrivalTimestamp: Option<TimeDoc>,
        attemptEndingTimestamp: Option<TimeDoc>,
    }
    if depth >= 3 {
        return Err(ParseError::new("documents nested more than 3 deep"));
    }
    let what = kind.as_str();
    let b: Backup = json(text, "Firehose error-output record")?;
    let data: String = json(raw.get(), "Firehose error-output rawData")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| ParseError::new(format!("Firehose {what} rawData is not base64: {e}")))?;
    let observed = match b
        .arrivalTimestamp
        .or(b.approximateArrivalTimestamp)
        .or(b.attemptEndingTimestamp)
    {
        Some(t) => Some(t.to_ms(time::from_auto)?),
        None => ctx.observed,
    };
    let inner = Context {
        observed,
        ..ctx.clone()
    };
    let mut recovered = 0;
    for record in Records::new(Cursor::new(bytes)) {
        let (offset, bytes) =
            record.map_err(|e| ParseError::new(format!("Firehose {what} rawData: {e}")))?;
        parse::record(&bytes, &inner, batch, depth + 1).map_err(|e| {
            ParseError::new(format!(
                "Firehose {what} rawData, record at byte {offset}: {}",
                e.message
            ))
        })?;
        recovered += 1;
    }
    *batch.recovered.entry(what.to_string()).or_default() += recovered;
    Ok(())
}

/// `tasks` of ListAuditTasks, ListAuditMitigationActionsTasks or
/// ListDetectMitigationActionsTasks: told apart by their members (audit tasks have a
/// `taskType`; audit mitigation tasks a `startTime`; Detect mitigation tasks a
/// `taskStartTime`, `target` or `actionsDefinition`).
pub(super) fn task_list(v: &RawValue, batch: &mut Batch) -> Res<()> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = json(v.get(), "tasks")?;
    let detect = items.iter().any(|t| {
        t.contains_key("taskStartTime")
            || t.contains_key("target")
            || t.contains_key("actionsDefinition")
    });
    let audit_mitigation = items.iter().any(|t| t.contains_key("startTime"));
    if !detect && !audit_mitigation {
        let list: Vec<TaskDoc> = json(v.get(), "ListAuditTasks tasks")?;
        batch
            .audit_tasks
            .extend(list.into_iter().map(TaskDoc::into_task));
        count(batch, DocKind::ListAuditTasks);
        return Ok(());
    }
    let list: Vec<MitigationTaskDoc> = json(v.get(), "mitigation actions tasks")?;
    for t in list {
        batch.mitigation_tasks.push(t.into_task()?);
    }
    let kind = if detect {
        MitigationKind::Detect
    } else {
        MitigationKind::Audit
    };
    count(batch, kind.tasks_doc());
    Ok(())
}

/// One element of a mitigation task list.
pub(super) fn mitigation_task(text: &str, batch: &mut Batch) -> Res<()> {
    let t: MitigationTaskDoc = json(text, "mitigation actions task")?;
    let task = t.into_task()?;
    count(batch, task.kind.tasks_doc());
    batch.mitigation_tasks.push(task);
    Ok(())
}

/// `actionsExecutions` of List{Audit,Detect}MitigationActionsExecutions.
pub(super) fn execution_list(v: &RawValue, batch: &mut Batch) -> Res<()> {
    let list: Vec<ExecutionDoc> = json(v.get(), "mitigation actions executions")?;
    let mut kind = MitigationKind::Audit;
    for e in list {
        let x = e.into_execution()?;
        if x.kind == MitigationKind::Detect {
            kind = MitigationKind::Detect;
        }
        batch.mitigation_executions.push(x);
    }
    count(batch, kind.executions_doc());
    Ok(())
}

/// One element of an executions list.
pub(super) fn execution(text: &str, batch: &mut Batch) -> Res<()> {
    let x = json::<ExecutionDoc>(text, "mitigation action execution")?.into_execution()?;
    count(batch, x.kind.executions_doc());
    batch.mitigation_executions.push(x);
    Ok(())
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct TargetDoc {
    #[serde(default)]
    violationIds: Vec<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ActionDefDoc {
    name: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MitigationTaskDoc {
    taskId: String,
    taskStatus: Option<String>,
    startTime: Option<TimeDoc>,
    taskStartTime: Option<TimeDoc>,
    taskEndTime: Option<TimeDoc>,
    target: Option<TargetDoc>,
    #[serde(default)]
    actionsDefinition: Vec<ActionDefDoc>,
}

impl MitigationTaskDoc {
    fn into_task(self) -> Res<MitigationTask> {
        let kind = if self.startTime.is_some() && self.taskStartTime.is_none() {
            MitigationKind::Audit
        } else {
            MitigationKind::Detect
        };
        let mut violation_ids = self.target.map(|t| t.violationIds).unwrap_or_default();
        violation_ids.truncate(MAX_RELATED);
        Ok(MitigationTask {
            task_id: self.taskId,
            kind,
            status: self.taskStatus,
            start: opt_ms(self.taskStartTime.or(self.startTime), time::from_auto)?,
            end: opt_ms(self.taskEndTime, time::from_auto)?,
            violation_ids,
            actions: self
                .actionsDefinition
                .into_iter()
                .filter_map(|a| a.name)
                .take(MAX_RELATED)
                .collect(),
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ExecutionDoc {
    taskId: String,
    actionName: String,
    findingId: Option<String>,
    violationId: Option<String>,
    thingName: Option<String>,
    status: String,
    startTime: Option<TimeDoc>,
    endTime: Option<TimeDoc>,
    executionStartDate: Option<TimeDoc>,
    executionEndDate: Option<TimeDoc>,
    errorCode: Option<String>,
    message: Option<String>,
}

impl ExecutionDoc {
    fn into_execution(self) -> Res<MitigationExecution> {
        let kind = if self.findingId.is_some() {
            MitigationKind::Audit
        } else if self.violationId.is_some() || self.thingName.is_some() {
            MitigationKind::Detect
        } else {
            return Err(ParseError::new(
                "mitigation action execution names neither findingId nor violationId",
            ));
        };
        Ok(MitigationExecution {
            task_id: self.taskId,
            kind,
            action: self.actionName,
            finding_id: self.findingId,
            violation_id: self.violationId,
            thing: self.thingName,
            status: self.status,
            start: opt_ms(self.executionStartDate.or(self.startTime), time::from_auto)?,
            end: opt_ms(self.executionEndDate.or(self.endTime), time::from_auto)?,
            error_code: self.errorCode,
            message: self.message,
        })
    }
}
