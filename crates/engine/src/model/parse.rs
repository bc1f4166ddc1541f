//! Bytes → model. Recognises every Device Defender document kind by its keys (see
//! [`DocKind`]), and converts each channel's timestamps to UTC epoch milliseconds, deciding
//! seconds or milliseconds per value ([`time::from_auto`]), never from the document's shape: a
//! violation event cut out of a ListViolationEvents response (`jq -c '.violationEvents[]'`,
//! seconds) looks like an SNS alert (milliseconds).
//!
//! Pure and panic-free on any input (fuzzed: `fuzz/fuzz_targets/parse.rs`).
//!
//! Over 900 lines: one converter per document kind, all sharing the time and bound rules above
//! them; splitting it by kind is left for the structural step of issue #16.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, Cursor, Read};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use super::framing::{self, Records};
use super::limits;
use super::{
    ActiveViolation, AuditCheck, AuditFinding, AuditTask, Batch, Behavior, Datapoint, Dimension,
    DocKind, MetricValue, SecurityProfile, ViolationEvent, VIOLATION_EVENT_TYPES,
};
use crate::time::{self, Millis};

/// What a document may not carry itself and the caller knows (from a topic, a request, a flag).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Thing for device reports and ListMetricValues responses.
    pub thing: Option<String>,
    /// Metric for ListMetricValues responses.
    pub metric: Option<String>,
    /// Dimension for ListMetricValues responses queried with `--dimension-name` (the
    /// response does not carry it): without it, dimensioned values would land in the plain series.
    pub dimension: Option<Dimension>,
    /// Task id for DescribeAuditTask responses and lone audit-check items.
    pub task_id: Option<String>,
    /// When the document was observed (Splunk `_time`), for items with no time of their own.
    pub observed: Option<Millis>,
    /// Caps on the stream as a whole.
    pub limits: limits::ObjectLimits,
    /// The latest plausible time (now plus a skew, [`FUTURE_SKEW`]): datapoints after it are
    /// set aside by name ([`Batch::future`]), never stored, and a device report whose
    /// `report_id` is no epoch time before it is refused (or takes `observed`). `None` checks
    /// nothing (pure parsing, tests).
    pub not_after: Option<Millis>,
}

/// How far past now a datapoint's time may be (device clocks drift; nothing is reported ahead).
pub const FUTURE_SKEW: Millis = 60 * 60 * 1000;

/// The earliest plausible device report time: 2015-01-01 (Device Defender came later).
pub const EARLIEST_REPORT: Millis = 1_420_070_400_000;

impl Context {
    /// A context checking times against the clock: `not_after` = now + [`FUTURE_SKEW`].
    pub fn now() -> Self {
        Self {
            not_after: Some(time::now() + FUTURE_SKEW),
            ..Self::default()
        }
    }
}

/// Why a document was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", offset.map(|o| format!("record at byte {o}: ")).unwrap_or_default())]
pub struct ParseError {
    /// Offset of the failing record in the decompressed stream.
    pub offset: Option<u64>,
    /// What was wrong, and what was expected.
    pub message: String,
    /// Whether the error condemns the whole file, not one record (audit runs that cannot be
    /// told apart, the datapoint cap): nothing of it is kept.
    pub whole: bool,
}

impl ParseError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        Self {
            offset: None,
            message: message.into(),
            whole: false,
        }
    }

    /// An error that refuses the whole file.
    pub(super) fn whole(message: impl Into<String>) -> Self {
        Self {
            whole: true,
            ..Self::new(message)
        }
    }
}

pub(super) type Res<T> = Result<T, ParseError>;

/// The document kinds the parser knows, for the "what was expected" part of errors.
const EXPECTED: &str = "expected a metrics-export batch {version, metrics:[...]}, a metric entry \
{name, thing, value, timestamp}, a device metrics report {header, metrics}, a Detect alert, an \
audit notification, an audit check item, a Firehose processing-failed record, an SNS envelope \
of one of these, or a Device Defender API response (ListActiveViolations, ListViolationEvents, \
ListMetricValues, ListAuditTasks, DescribeAuditTask, ListAuditFindings, DescribeAuditFinding, \
ListSecurityProfiles, DescribeSecurityProfile, List{Audit,Detect}MitigationActions{Tasks,Executions}), \
a top-level array of their elements, a Splunk export row or HEC payload, a Firehose backup record, \
or an AWS IoT lifecycle event {clientId, eventType, timestamp}";

/// Parses a whole stream (plain or gzip; records framed as Firehose writes them). A bad record
/// is named in [`Batch::bad_records`] and the others are read; a stream none of whose records
/// can be read is refused with its first error. Past a record that framing cannot follow (cut
/// off, not JSON), nothing more is read.
pub fn parse_reader<R: Read + 'static>(reader: R, ctx: &Context) -> Res<Batch> {
    let buffered = framing::open_capped(reader, ctx.limits.max_inflated_bytes)
        .map_err(|e| ParseError::new(format!("cannot read: {e}")))?;
    parse_buffered(buffered, ctx)
}

/// Refused records kept by name per file (the rest are counted).
pub const MAX_BAD_RECORDS: usize = 20;

impl Batch {
    /// Notes a record refused while the rest of its file is kept.
    fn refuse(&mut self, e: ParseError) {
        self.bad_records_total += 1;
        if self.bad_records.len() < MAX_BAD_RECORDS {
            self.bad_records.push(e);
        }
    }

    /// A file none of whose records could be read is refused whole, with its first error.
    fn or_first_error(mut self, read: usize) -> Res<Batch> {
        if read == 0 && !self.bad_records.is_empty() {
            return Err(self.bad_records.swap_remove(0));
        }
        Ok(self)
    }
}

/// Parses one record of a file at `offset`: whether it was read. A refused record is named in
/// the batch and loses nothing else; an error that condemns the file is returned.
fn read_or_refuse(bytes: &[u8], ctx: &Context, batch: &mut Batch, offset: u64) -> Res<bool> {
    match parse_record(bytes, ctx, batch, 0) {
        Ok(()) => Ok(true),
        Err(mut e) => {
            e.offset.get_or_insert(offset);
            if e.whole {
                return Err(e);
            }
            batch.refuse(e);
            Ok(false)
        }
    }
}

/// [`parse_reader`] over bytes in memory.
pub fn parse_bytes(bytes: &[u8], ctx: &Context) -> Res<Batch> {
    parse_reader(Cursor::new(bytes.to_vec()), ctx)
}

/// Whether a stream starts with a CBOR map (major type 5): a device report in CBOR, as the
/// Agent SDK's `--format cbor` and the reserved topic `.../defender/metrics/cbor` carry it. JSON
/// documents start with `{`, `[` or whitespace, never with a byte in 0xa0–0xbf.
fn is_cbor(reader: &mut dyn BufRead) -> bool {
    reader
        .fill_buf()
        .is_ok_and(|b| b.first().is_some_and(|c| (0xa0..=0xbf).contains(c)))
}

/// CBOR items, one after another, each decoded to JSON and parsed as a record.
fn parse_cbor(reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    let mut reader = std::io::BufReader::new(reader);
    let mut batch = Batch::default();
    let mut offset: u64 = 0;
    let mut read = 0;
    loop {
        if reader.fill_buf().map_or(true, |b| b.is_empty()) {
            return batch.or_first_error(read);
        }
        let mut counted = CountingReader {
            inner: &mut reader,
            n: 0,
        };
        let value: Value = match ciborium::from_reader(&mut counted) {
            Ok(v) => v,
            Err(e) => {
                // The stream cannot be followed past a broken item: keep what came before.
                batch.refuse(ParseError {
                    offset: Some(offset),
                    ..ParseError::new(format!("invalid CBOR device report: {e}"))
                });
                return batch.or_first_error(read);
            }
        };
        let json = serde_json::to_vec(&value).map_err(|e| ParseError::new(e.to_string()))?;
        read += usize::from(read_or_refuse(&json, ctx, &mut batch, offset)?);
        offset += counted.n;
        if batch.points.len() > ctx.limits.max_points {
            return Err(ParseError::new(format!(
                "more than {} datapoints in one file or object, the cap (--max-points): refused whole",
                ctx.limits.max_points
            )));
        }
    }
}

/// Counts the bytes a decoder takes, for error offsets.
struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

fn parse_buffered(mut reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    if is_cbor(&mut reader) {
        return parse_cbor(reader, ctx);
    }
    let mut batch = Batch::default();
    let mut any = false;
    let mut read = 0;
    let mut records = Records::new(reader);
    for record in records.by_ref() {
        let (offset, bytes) = match record {
            Ok(r) => r,
            Err(e) => {
                // Framing cannot go on past a broken record (cut off, not JSON): what came
                // before it is kept, the rest of the file named as refused.
                batch.refuse(ParseError::new(e.to_string()));
                any = true;
                break;
            }
        };
        any = true;
        if !read_or_refuse(&bytes, ctx, &mut batch, offset)? {
            continue;
        }
        read += 1;
        if batch.points.len() > ctx.limits.max_points {
            return Err(ParseError {
                offset: Some(offset),
                ..ParseError::whole(format!(
                    "more than {} datapoints in one file or object, the cap (--max-points): refused whole",
                    ctx.limits.max_points
                ))
            });
        }
    }
    if records.arrays() > 0 {
        *batch.documents.entry(DocKind::Array).or_default() += records.arrays();
    } else if !any {
        return Err(ParseError::new(format!(
            "no JSON document found; {EXPECTED}"
        )));
    }
    batch.or_first_error(read)
}

/// A record's `metrics`: the export's entry array, parsed in the same pass as the probe (the
/// hot path), or a device report's metrics object, skipped here and parsed with the report.
enum MetricsField<'a> {
    Entries(Vec<ExportEntry<'a>>),
    Object,
}

impl<'de: 'a, 'a> Deserialize<'de> for MetricsField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = MetricsField<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of metric entries or a device report's metrics object")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(e) = seq.next_element::<ExportEntry<'a>>()? {
                    v.push(e);
                }
                Ok(MetricsField::Entries(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(MetricsField::Object)
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// The keys that tell document kinds apart; everything else is ignored.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Probe<'a> {
    #[serde(borrow)]
    metrics: Option<MetricsField<'a>>,
    #[serde(borrow)]
    met: Option<&'a RawValue>,
    #[serde(borrow)]
    header: Option<&'a RawValue>,
    #[serde(borrow)]
    hed: Option<&'a RawValue>,
    #[serde(borrow)]
    custom_metrics: Option<&'a RawValue>,
    #[serde(borrow)]
    cmet: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    thing: Option<&'a RawValue>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    #[serde(borrow)]
    violationEventType: Option<&'a RawValue>,
    #[serde(borrow)]
    Type: Option<&'a RawValue>,
    #[serde(borrow)]
    Message: Option<&'a RawValue>,
    #[serde(borrow)]
    Records: Option<&'a RawValue>,
    #[serde(borrow)]
    taskId: Option<&'a RawValue>,
    #[serde(borrow)]
    auditDetails: Option<&'a RawValue>,
    #[serde(borrow)]
    checkName: Option<&'a RawValue>,
    #[serde(borrow)]
    checkRunStatus: Option<&'a RawValue>,
    #[serde(borrow)]
    activeViolations: Option<&'a RawValue>,
    #[serde(borrow)]
    violationEvents: Option<&'a RawValue>,
    #[serde(borrow)]
    metricDatumList: Option<&'a RawValue>,
    #[serde(borrow)]
    tasks: Option<&'a RawValue>,
    #[serde(borrow)]
    findings: Option<&'a RawValue>,
    #[serde(borrow)]
    securityProfileIdentifiers: Option<&'a RawValue>,
    #[serde(borrow)]
    securityProfileName: Option<&'a RawValue>,
    #[serde(borrow)]
    behaviors: Option<&'a RawValue>,
    #[serde(borrow)]
    rawData: Option<&'a RawValue>,
    #[serde(borrow)]
    errorCode: Option<&'a RawValue>,
    #[serde(borrow)]
    ErrorCode: Option<&'a RawValue>,
    #[serde(borrow)]
    thingName: Option<&'a RawValue>,
    #[serde(borrow)]
    metricName: Option<&'a RawValue>,
    #[serde(borrow)]
    topic: Option<&'a RawValue>,
    #[serde(borrow)]
    clientId: Option<&'a RawValue>,
    #[serde(borrow)]
    eventType: Option<&'a RawValue>,
    #[serde(borrow)]
    finding: Option<&'a RawValue>,
    #[serde(borrow)]
    findingId: Option<&'a RawValue>,
    #[serde(borrow)]
    violationId: Option<&'a RawValue>,
    #[serde(borrow)]
    actionName: Option<&'a RawValue>,
    #[serde(borrow)]
    actionsExecutions: Option<&'a RawValue>,
    #[serde(borrow)]
    taskType: Option<&'a RawValue>,
    #[serde(borrow)]
    startTime: Option<&'a RawValue>,
    #[serde(borrow)]
    taskStartTime: Option<&'a RawValue>,
    #[serde(borrow)]
    target: Option<&'a RawValue>,
    #[serde(borrow)]
    actionsDefinition: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    results: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    sourcetype: Option<&'a RawValue>,
    #[serde(borrow)]
    EventId: Option<&'a RawValue>,
    #[serde(borrow)]
    time: Option<&'a RawValue>,
    #[serde(borrow)]
    host: Option<&'a RawValue>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(borrow)]
    index: Option<&'a RawValue>,
}

impl Probe<'_> {
    /// A HEC payload carries `time`, `host`, `source` or `index` beside `event`.
    fn time_like(&self) -> bool {
        self.time.is_some() || self.host.is_some() || self.source.is_some() || self.index.is_some()
    }

    /// A Firehose delivery-failure record for Splunk: `errorCode` `Splunk.*` or an `EventId`.
    fn is_splunk_backup(&self) -> bool {
        self.EventId.is_some() || raw_str(self.errorCode).is_some_and(|c| c.starts_with("Splunk."))
    }
}

pub(super) fn json<'a, T: Deserialize<'a>>(raw: &'a str, what: &str) -> Res<T> {
    serde_json::from_str(raw).map_err(|e| ParseError::new(format!("{what}: {e}")))
}

fn raw_str(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok())
}

pub(super) fn count(doc: &mut Batch, kind: DocKind) {
    *doc.documents.entry(kind).or_default() += 1;
}

/// Parses one record into `batch`, then checks what it added against [`super::limits`]. A
/// refused record leaves the batch as it was (a Splunk export goes on with the next row).
pub fn parse_record(bytes: &[u8], ctx: &Context, batch: &mut Batch, depth: u8) -> Res<()> {
    let mark = batch.mark();
    let start = batch.points.len();
    let checked = record(bytes, ctx, batch, depth).and_then(|()| {
        batch.points[start..]
            .iter()
            .try_for_each(|p| limits::check_point(p).map_err(ParseError::new))
    });
    if checked.is_err() {
        batch.rewind(mark);
        return checked;
    }
    if let Some(limit) = ctx.not_after {
        // A device can date its data in 2100: that moved every window there and zeroed the
        // fleet's scores. Such points are set aside, named, and the rest of the record kept.
        if batch.points[start..].iter().any(|p| p.ts > limit) {
            let added: Vec<Datapoint> = batch.points.drain(start..).collect();
            for p in added {
                if p.ts > limit {
                    batch.future.push(super::FutureDated {
                        thing: p.thing,
                        metric: p.metric,
                        ts: p.ts,
                    });
                } else {
                    batch.points.push(p);
                }
            }
        }
    }
    Ok(())
}

pub(super) fn record(bytes: &[u8], ctx: &Context, batch: &mut Batch, depth: u8) -> Res<()> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| ParseError::new(format!("not UTF-8 JSON: {e}")))?;
    let p: Probe = serde_json::from_str(text)
        .map_err(|e| ParseError::new(format!("invalid document: {e}")))?;

    // Containers first: SNS envelopes (raw subscription or Lambda event) carry a document in a string.
    if let (Some(_), Some(msg)) = (p.Type, p.Message) {
        let inner: String = json(msg.get(), "SNS envelope Message")?;
        return nested(&inner, ctx, batch, depth);
    }
    if let Some(records) = p.Records {
        let recs: Vec<LambdaRecord> = json(records.get(), "SNS Lambda event Records")?;
        for r in recs {
            nested(&r.Sns.Message, ctx, batch, depth)?;
        }
        return Ok(());
    }
    if let Some(r) = p.result {
        // A Splunk search export line in JSON (`output_mode=json`).
        super::wrappers::splunk_rows(std::slice::from_ref(&r), text, ctx, batch, depth)?;
        count(batch, DocKind::SplunkExport);
        return Ok(());
    }
    if let Some(rs) = p.results.filter(|r| r.get().trim_start().starts_with('[')) {
        let rows: Vec<&RawValue> = json(rs.get(), "Splunk results")?;
        super::wrappers::splunk_rows(&rows, text, ctx, batch, depth)?;
        count(batch, DocKind::SplunkExport);
        return Ok(());
    }
    // No Device Defender document has a top-level `event`: a HEC payload (Firehose's Splunk
    // destination sends `{"event": ...}` alone, the Splunk sample adds `sourcetype`, `time`).
    if let Some(event) = p.event.filter(|e| {
        p.sourcetype.is_some() || p.time_like() || e.get().trim_start().starts_with(['{', '"'])
    }) {
        super::wrappers::hec_event(event, text, ctx, batch, depth)?;
        count(batch, DocKind::HecEvent);
        return Ok(());
    }
    if let (Some(raw), true) = (p.rawData, p.is_splunk_backup()) {
        super::wrappers::firehose_backup(raw, text, ctx, batch, depth)?;
        count(batch, DocKind::FirehoseSplunkBackup);
        return Ok(());
    }

    if p.header.is_some()
        || p.hed.is_some()
        || p.met.is_some()
        || p.cmet.is_some()
        || p.custom_metrics.is_some()
        || matches!(p.metrics, Some(MetricsField::Object))
    {
        let thing = report_thing(&p, ctx)?;
        let report: DeviceReport = json(text, "device metrics report")?;
        device_report(report, &thing, ctx, batch)?;
        count(batch, DocKind::DeviceReport);
    } else if let Some(MetricsField::Entries(entries)) = p.metrics {
        batch.points.reserve(entries.len());
        for e in entries {
            batch.points.push(e.into_point()?);
        }
        count(batch, DocKind::MetricsExport);
    } else if p.name.is_some() && p.thing.is_some() && p.value.is_some() {
        let e: ExportEntry = json(text, "metric entry")?;
        batch.points.push(e.into_point()?);
        count(batch, DocKind::MetricEntry);
    } else if let (Some(_), Some(kind)) = (p.clientId, raw_str(p.eventType)) {
        if !super::lifecycle::is_event_type(&kind) {
            return Err(ParseError::new(format!(
                "a record with clientId and eventType {kind:?} is no lifecycle event this reads (connected, disconnected, subscribed, unsubscribed)"
            )));
        }
        super::lifecycle::event(text, ctx, batch)?;
    } else if p.violationEventType.is_some() {
        let a: ViolationDoc = json(text, "Detect alert")?;
        batch.violation_events.push(a.into_event(time::from_auto)?);
        count(batch, DocKind::DetectAlert);
    } else if let (Some(_), Some(details)) = (p.taskId, p.auditDetails) {
        if details.get().trim_start().starts_with('{') {
            describe_audit_task(text, ctx, batch)?;
        } else {
            audit_notification(text, batch)?;
        }
    } else if p.checkName.is_some() && p.checkRunStatus.is_some() {
        let c: CheckDoc = json(text, "audit check item")?;
        let check = c.checkName.clone().unwrap_or_default();
        let (task_id, start) = batch.runs.place(&check, ctx)?;
        batch.audit_checks.push(c.into_check(task_id, start));
        count(batch, DocKind::AuditCheckItem);
    } else if let Some(v) = p.activeViolations {
        let list: Vec<ActiveDoc> = json(v.get(), "ListActiveViolations activeViolations")?;
        for a in list {
            batch.active_violations.push(a.into_active()?);
        }
        count(batch, DocKind::ListActiveViolations);
    } else if let Some(v) = p.violationEvents {
        let list: Vec<ViolationDoc> = json(v.get(), "ListViolationEvents violationEvents")?;
        for e in list {
            batch.violation_events.push(e.into_event(time::from_auto)?);
        }
        count(batch, DocKind::ListViolationEvents);
    } else if let Some(v) = p.metricDatumList {
        let thing = ctx.thing.clone().or_else(|| raw_str(p.thingName));
        let metric = ctx.metric.clone().or_else(|| raw_str(p.metricName));
        let (Some(thing), Some(metric)) = (thing, metric) else {
            return Err(ParseError::new(
                "a ListMetricValues response names neither thing nor metric: give them as context (ddesk ingest --thing T --metric M)",
            ));
        };
        let list: Vec<DatumDoc> = json(v.get(), "ListMetricValues metricDatumList")?;
        for d in list {
            batch.points.push(Datapoint {
                thing: thing.clone(),
                metric: metric.clone(),
                dimension: ctx.dimension.clone(),
                ts: d.timestamp.to_ms(time::from_auto)?,
                version: 0,
                value: d.value.into_value()?,
            });
        }
        count(batch, DocKind::ListMetricValues);
    } else if let Some(v) = p.tasks {
        super::wrappers::task_list(v, batch)?;
    } else if let Some(v) = p.actionsExecutions {
        super::wrappers::execution_list(v, batch)?;
    } else if let Some(f) = p.finding {
        let f: FindingDoc = json(f.get(), "DescribeAuditFinding finding")?;
        batch.findings.push(f.into_finding()?);
        count(batch, DocKind::DescribeAuditFinding);
    } else if p.auditDetails.is_some() && p.taskId.is_none() {
        describe_audit_task(text, ctx, batch)?;
    } else if let Some(v) = p.findings {
        let list: Vec<FindingDoc> = json(v.get(), "ListAuditFindings findings")?;
        for f in list {
            batch.findings.push(f.into_finding()?);
        }
        count(batch, DocKind::ListAuditFindings);
    } else if let Some(v) = p.securityProfileIdentifiers {
        #[derive(Deserialize)]
        struct Ident {
            name: String,
            arn: Option<String>,
        }
        let list: Vec<Ident> = json(v.get(), "ListSecurityProfiles securityProfileIdentifiers")?;
        for i in list {
            batch.profiles.push(SecurityProfile {
                name: i.name,
                arn: i.arn,
                ..Default::default()
            });
        }
        count(batch, DocKind::ListSecurityProfiles);
    } else if p.securityProfileName.is_some() && p.behaviors.is_some() {
        let d: ProfileDoc = json(text, "DescribeSecurityProfile")?;
        let behaviors = d
            .behaviors
            .into_iter()
            .map(BehaviorDoc::into_behavior)
            .collect::<Res<Vec<_>>>()?;
        batch.profiles.push(SecurityProfile {
            name: d.securityProfileName,
            arn: d.securityProfileArn,
            description: d.securityProfileDescription,
            version: d.version,
            behaviors: Some(behaviors),
        });
        count(batch, DocKind::DescribeSecurityProfile);
    } else if p.rawData.is_some() && (p.errorCode.is_some() || p.ErrorCode.is_some()) {
        count(batch, DocKind::FirehoseFailure);
    } else if p.findingId.is_some() && p.checkName.is_some() {
        // An element of `findings` (`aws iot list-audit-findings --query findings`).
        let f: FindingDoc = json(text, "audit finding")?;
        batch.findings.push(f.into_finding()?);
        count(batch, DocKind::ListAuditFindings);
    } else if p.taskId.is_some() && p.actionName.is_some() {
        super::wrappers::execution(text, batch)?;
    } else if p.violationId.is_some() && p.thingName.is_some() {
        let a: ActiveDoc = json(text, "active violation")?;
        batch.active_violations.push(a.into_active()?);
        count(batch, DocKind::ListActiveViolations);
    } else if p.taskId.is_some()
        && (p.startTime.is_some()
            || p.taskStartTime.is_some()
            || p.target.is_some()
            || p.actionsDefinition.is_some())
    {
        super::wrappers::mitigation_task(text, batch)?;
    } else if p.taskId.is_some() && p.taskType.is_some() {
        let t: TaskDoc = json(text, "audit task")?;
        batch.audit_tasks.push(t.into_task());
        count(batch, DocKind::ListAuditTasks);
    } else if let (Some(_), Some(_)) = (p.timestamp, p.value) {
        // An element of `metricDatumList`.
        let (Some(thing), Some(metric)) = (ctx.thing.clone(), ctx.metric.clone()) else {
            return Err(ParseError::new(
                "a metric datum {timestamp, value} names neither thing nor metric: give them as context (ddesk ingest --thing T --metric M)",
            ));
        };
        let d: DatumDoc = json(text, "metric datum")?;
        batch.points.push(Datapoint {
            thing,
            metric,
            dimension: ctx.dimension.clone(),
            ts: d.timestamp.to_ms(time::from_auto)?,
            version: 0,
            value: d.value.into_value()?,
        });
        count(batch, DocKind::ListMetricValues);
    } else {
        let keys: Vec<String> = serde_json::from_str::<BTreeMap<String, &RawValue>>(text)
            .map(|m| m.into_keys().take(12).collect())
            .unwrap_or_default();
        return Err(ParseError::new(format!(
            "document of no known kind (top-level keys {keys:?}); {EXPECTED}"
        )));
    }
    Ok(())
}

pub(super) fn nested(inner: &str, ctx: &Context, batch: &mut Batch, depth: u8) -> Res<()> {
    if depth >= 3 {
        return Err(ParseError::new("SNS envelopes nested more than 3 deep"));
    }
    let trimmed = inner.trim();
    if !trimmed.starts_with('{') {
        return Err(ParseError::new(
            "SNS Message is not a JSON object; expected a Detect alert or an audit notification",
        ));
    }
    record(trimmed.as_bytes(), ctx, batch, depth + 1)
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct LambdaRecord {
    Sns: LambdaSns,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct LambdaSns {
    Message: String,
}

/// A timestamp as a JSON number, or (leniently) a numeric or RFC 3339 string.
/// (Hand-written rather than `#[serde(untagged)]`, which buffers every value: this is the hot path.)
pub(super) enum TimeDoc {
    Num(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for TimeDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = TimeDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a timestamp (epoch number or RFC 3339 string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Text(v.to_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl TimeDoc {
    pub(super) fn to_ms(&self, unit: fn(f64) -> Result<Millis, time::TimeError>) -> Res<Millis> {
        match self {
            TimeDoc::Num(v) => unit(*v).map_err(|e| ParseError::new(e.to_string())),
            TimeDoc::Text(s) => match s.trim().parse::<f64>() {
                Ok(v) => unit(v).map_err(|e| ParseError::new(e.to_string())),
                Err(_) => chrono::DateTime::parse_from_rfc3339(s.trim())
                    .map(|d| d.timestamp_millis())
                    .map_err(|_| ParseError::new(format!("unreadable timestamp {s:?}"))),
            },
        }
    }
}

pub(super) fn opt_ms(
    t: Option<TimeDoc>,
    unit: fn(f64) -> Result<Millis, time::TimeError>,
) -> Res<Option<Millis>> {
    t.map(|t| t.to_ms(unit)).transpose()
}

/// `MetricValue` as it appears on the wire (export `value`, API `metricValue`, criteria `value`).
#[derive(Deserialize, Default)]
struct ValueDoc {
    count: Option<Number>,
    number: Option<f64>,
    ports: Option<Vec<i64>>,
    cidrs: Option<Vec<String>>,
    numbers: Option<Vec<f64>>,
    strings: Option<Vec<String>>,
}

impl ValueDoc {
    fn into_value(self) -> Res<MetricValue> {
        Ok(if let Some(c) = self.count {
            if let Some(i) = c.as_i64() {
                MetricValue::Count(i)
            } else if c.is_u64() {
                // Beyond 2^63 − 1: no device counts that far; stored, it would wrap or round.
                return Err(ParseError::new(format!(
                    "count {c} is out of range (0 to 9223372036854775807)"
                )));
            } else {
                match c.as_f64() {
                    Some(f) if (0.0..9.2e18).contains(&f) => MetricValue::Number(f),
                    _ => return Err(ParseError::new(format!("count {c} is out of range"))),
                }
            }
        } else if let Some(n) = self.number {
            MetricValue::Number(n)
        } else if let Some(p) = self.ports {
            MetricValue::Ports(p)
        } else if let Some(c) = self.cidrs {
            MetricValue::Cidrs(c)
        } else if let Some(n) = self.numbers {
            MetricValue::Numbers(n)
        } else if let Some(s) = self.strings {
            MetricValue::Strings(s)
        } else {
            return Err(ParseError::new(
                "metric value has none of count, number, ports, cidrs, numbers, strings",
            ));
        })
    }
}

#[derive(Deserialize)]
struct DimDoc {
    name: String,
    operator: Option<String>,
}

#[derive(Deserialize)]
struct ExportEntry<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    thing: Cow<'a, str>,
    value: ValueDoc,
    version: Option<Number>,
    timestamp: TimeDoc,
    dimension: Option<DimDoc>,
}

impl ExportEntry<'_> {
    fn into_point(self) -> Res<Datapoint> {
        let version = match self.version {
            None => 0,
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .unwrap_or(0),
        };
        if self.thing.is_empty() || self.name.is_empty() {
            return Err(ParseError::new(
                "metric entry with an empty thing or metric name",
            ));
        }
        Ok(Datapoint {
            ts: self.timestamp.to_ms(time::from_auto)?,
            thing: self.thing.into_owned(),
            metric: self.name.into_owned(),
            dimension: self.dimension.map(|d| Dimension {
                name: d.name,
                operator: d.operator.unwrap_or_else(|| "IN".into()),
            }),
            version,
            value: self.value.into_value()?,
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MetricDimensionDoc {
    dimensionName: String,
    operator: Option<String>,
}

#[derive(Deserialize)]
struct StatDoc {
    statistic: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MlDoc {
    confidenceLevel: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct CriteriaDoc {
    comparisonOperator: Option<String>,
    value: Option<ValueDoc>,
    durationSeconds: Option<i64>,
    statisticalThreshold: Option<StatDoc>,
    mlDetectionConfig: Option<MlDoc>,
    consecutiveDatapointsToAlarm: Option<i64>,
    consecutiveDatapointsToClear: Option<i64>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct BehaviorDoc {
    name: String,
    metric: Option<String>,
    metricDimension: Option<MetricDimensionDoc>,
    criteria: Option<CriteriaDoc>,
    suppressAlerts: Option<bool>,
    exportMetric: Option<bool>,
}

impl BehaviorDoc {
    fn into_behavior(self) -> Res<Behavior> {
        let c = self.criteria;
        let (operator, value, duration, statistic, ml, to_alarm, to_clear) = match c {
            None => (None, None, None, None, None, None, None),
            Some(c) => (
                c.comparisonOperator,
                c.value.map(ValueDoc::into_value).transpose()?,
                c.durationSeconds,
                c.statisticalThreshold.and_then(|s| s.statistic),
                c.mlDetectionConfig.and_then(|m| m.confidenceLevel),
                c.consecutiveDatapointsToAlarm,
                c.consecutiveDatapointsToClear,
            ),
        };
        Ok(Behavior {
            name: self.name,
            metric: self.metric,
            dimension: self.metricDimension.map(|d| Dimension {
                name: d.dimensionName,
                operator: d.operator.unwrap_or_else(|| "IN".into()),
            }),
            operator,
            value,
            statistic,
            ml_confidence: ml,
            duration_seconds: duration,
            suppress_alerts: self.suppressAlerts.unwrap_or(false),
            consecutive_to_alarm: to_alarm,
            consecutive_to_clear: to_clear,
            export_metric: self.exportMetric,
        })
    }
}

/// An SNS Detect alert and a ListViolationEvents element share this shape.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ViolationDoc {
    violationId: String,
    thingName: String,
    securityProfileName: Option<String>,
    behavior: Option<BehaviorDoc>,
    metricValue: Option<ValueDoc>,
    violationEventType: String,
    violationEventTime: TimeDoc,
    verificationState: Option<String>,
    verificationStateDescription: Option<String>,
    violationEventAdditionalInfo: Option<AdditionalInfoDoc>,
}

/// `ViolationEventAdditionalInfo`: ML Detect's confidence.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct AdditionalInfoDoc {
    confidenceLevel: Option<String>,
}

impl ViolationDoc {
    fn into_event(self, unit: fn(f64) -> Result<Millis, time::TimeError>) -> Res<ViolationEvent> {
        if !VIOLATION_EVENT_TYPES.contains(&self.violationEventType.as_str()) {
            return Err(ParseError::new(format!(
                "violationEventType {:?} is none of {VIOLATION_EVENT_TYPES:?}",
                self.violationEventType
            )));
        }
        Ok(ViolationEvent {
            time: self.violationEventTime.to_ms(unit)?,
            violation_id: self.violationId,
            thing: self.thingName,
            security_profile: self.securityProfileName.unwrap_or_default(),
            behavior: self
                .behavior
                .map(BehaviorDoc::into_behavior)
                .transpose()?
                .unwrap_or_default(),
            event_type: self.violationEventType,
            value: self.metricValue.map(ValueDoc::into_value).transpose()?,
            verification_state: self.verificationState,
            verification_description: self.verificationStateDescription,
            confidence: self
                .violationEventAdditionalInfo
                .and_then(|i| i.confidenceLevel),
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ActiveDoc {
    violationId: String,
    thingName: String,
    securityProfileName: Option<String>,
    behavior: Option<BehaviorDoc>,
    lastViolationValue: Option<ValueDoc>,
    lastViolationTime: Option<TimeDoc>,
    violationStartTime: Option<TimeDoc>,
    verificationState: Option<String>,
    verificationStateDescription: Option<String>,
    violationEventAdditionalInfo: Option<AdditionalInfoDoc>,
}

impl ActiveDoc {
    fn into_active(self) -> Res<ActiveViolation> {
        Ok(ActiveViolation {
            violation_id: self.violationId,
            thing: self.thingName,
            security_profile: self.securityProfileName.unwrap_or_default(),
            behavior: self
                .behavior
                .map(BehaviorDoc::into_behavior)
                .transpose()?
                .unwrap_or_default(),
            last_value: self
                .lastViolationValue
                .map(ValueDoc::into_value)
                .transpose()?,
            started: opt_ms(self.violationStartTime, time::from_auto)?,
            last_violation: opt_ms(self.lastViolationTime, time::from_auto)?,
            verification_state: self.verificationState,
            verification_description: self.verificationStateDescription,
            confidence: self
                .violationEventAdditionalInfo
                .and_then(|i| i.confidenceLevel),
        })
    }
}

#[derive(Deserialize)]
pub(super) struct DatumDoc {
    timestamp: TimeDoc,
    value: ValueDoc,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct TaskDoc {
    taskId: String,
    taskStatus: Option<String>,
    taskType: Option<String>,
}

impl TaskDoc {
    pub(super) fn into_task(self) -> AuditTask {
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
struct CheckDoc {
    checkName: Option<String>,
    checkRunStatus: String,
    nonCompliantResourcesCount: Option<i64>,
    totalResourcesCount: Option<i64>,
    suppressedNonCompliantResourcesCount: Option<i64>,
    errorCode: Option<String>,
    message: Option<String>,
}

impl CheckDoc {
    fn into_check(self, task_id: String, task_start: Option<Millis>) -> AuditCheck {
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

fn audit_notification(text: &str, batch: &mut Batch) -> Res<()> {
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

fn describe_audit_task(text: &str, ctx: &Context, batch: &mut Batch) -> Res<()> {
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
pub(super) struct FindingDoc {
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
    fn into_resource(self) -> super::Resource {
        let identifier = self.resourceIdentifier.unwrap_or_default();
        super::Resource {
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
    pub(super) fn into_finding(self) -> Res<AuditFinding> {
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
            severity: self.severity,
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
                .take(super::wrappers::MAX_RELATED)
                .map(ResourceDoc::into_resource)
                .collect(),
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ProfileDoc {
    securityProfileName: String,
    securityProfileArn: Option<String>,
    securityProfileDescription: Option<String>,
    #[serde(default)]
    behaviors: Vec<BehaviorDoc>,
    version: Option<i64>,
}

// ---- device-side metrics reports (long and short keys) ----

#[derive(Deserialize)]
struct DeviceReport {
    #[serde(alias = "hed")]
    header: ReportHeader,
    #[serde(alias = "met")]
    metrics: Option<ReportMetrics>,
    #[serde(alias = "cmet")]
    custom_metrics: Option<BTreeMap<String, Vec<CustomValue>>>,
}

#[derive(Deserialize)]
struct ReportHeader {
    #[serde(alias = "rid")]
    report_id: Number,
}

#[derive(Deserialize)]
struct ReportMetrics {
    #[serde(alias = "tp")]
    listening_tcp_ports: Option<PortList>,
    #[serde(alias = "up")]
    listening_udp_ports: Option<PortList>,
    #[serde(alias = "ns")]
    network_stats: Option<NetworkStats>,
    #[serde(alias = "tc")]
    tcp_connections: Option<TcpConnections>,
}

#[derive(Deserialize)]
struct PortList {
    #[serde(alias = "pts")]
    ports: Option<Vec<PortEntry>>,
    #[serde(alias = "t")]
    total: Option<i64>,
}

#[derive(Deserialize)]
struct PortEntry {
    #[serde(alias = "pt")]
    port: i64,
}

#[derive(Deserialize)]
struct NetworkStats {
    #[serde(alias = "bi")]
    bytes_in: Option<i64>,
    #[serde(alias = "bo")]
    bytes_out: Option<i64>,
    #[serde(alias = "pi")]
    packets_in: Option<i64>,
    #[serde(alias = "po")]
    packets_out: Option<i64>,
}

#[derive(Deserialize)]
struct TcpConnections {
    #[serde(alias = "ec")]
    established_connections: Option<Established>,
}

#[derive(Deserialize)]
struct Established {
    #[serde(alias = "cs")]
    connections: Option<Vec<Connection>>,
    #[serde(alias = "t")]
    total: Option<i64>,
}

#[derive(Deserialize)]
struct Connection {
    #[serde(alias = "rad")]
    remote_addr: String,
}

/// Custom metric values: always inside a one-element array (AWS rejects a bare `number`).
#[derive(Deserialize)]
struct CustomValue {
    number: Option<f64>,
    number_list: Option<Vec<f64>>,
    string_list: Option<Vec<String>>,
    ip_list: Option<Vec<String>>,
}

fn report_thing(p: &Probe, ctx: &Context) -> Res<String> {
    if let Some(t) = &ctx.thing {
        return Ok(t.clone());
    }
    if let Some(topic) = raw_str(p.topic) {
        // $aws/things/<thing>/defender/metrics/json
        let parts: Vec<&str> = topic.split('/').collect();
        if parts.len() >= 3 && parts[0] == "$aws" && parts[1] == "things" && !parts[2].is_empty() {
            return Ok(parts[2].to_string());
        }
    }
    raw_str(p.thingName)
        .or_else(|| raw_str(p.thing))
        .or_else(|| raw_str(p.clientId))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ParseError::new(
                "a device metrics report does not name its thing (it travels in the MQTT topic): \
                 give it as context (ddesk ingest --thing T) or add topic() in the IoT rule",
            )
        })
}

/// The IP of `ip:port` or `[v6]:port`, as a host CIDR like the export writes.
/// A connection's `remote_addr` as a CIDR. Device agents write `ip:port`, IPv6 unbracketed
/// (the Agent SDK and aws-c-iot write `2001:db8::10:443`, `::1:60696`): the last `:N` is the
/// port. `[v6]:port`, `v4:port` and a bare address are read too.
fn remote_cidr(addr: &str) -> String {
    use std::net::{IpAddr, SocketAddr};
    let unbracketed = || {
        let (head, port) = addr.rsplit_once(':')?;
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
            return None;
        }
        head.parse::<IpAddr>().ok()
    };
    let ip = addr
        .parse::<SocketAddr>()
        .map(|s| s.ip())
        .ok()
        .or_else(unbracketed)
        .ok_or(())
        .or_else(|_| addr.parse::<IpAddr>());
    match ip {
        Ok(IpAddr::V4(v4)) => format!("{v4}/32"),
        Ok(IpAddr::V6(v6)) => format!("{v6}/128"),
        Err(_) => addr.to_string(),
    }
}

fn device_report(r: DeviceReport, thing: &str, ctx: &Context, batch: &mut Batch) -> Res<()> {
    if r.metrics.is_none() && r.custom_metrics.is_none() {
        return Err(ParseError::new(
            "device metrics report has neither metrics nor custom_metrics",
        ));
    }
    let rid = r
        .header
        .report_id
        .as_f64()
        .ok_or_else(|| ParseError::new("report_id is not a number"))?;
    // report_id is only "monotonically increasing, epoch recommended": FreeRTOS demos send a
    // tick count, which read as epoch seconds is 1970. Such an id takes the time the context
    // knows (Splunk `_time`, `ingest --observed`), else the report is refused.
    let plausible = |ts: Millis| {
        ts >= EARLIEST_REPORT
            && ctx
                .not_after
                .is_none_or(|limit| ts <= limit + 23 * FUTURE_SKEW)
    };
    let ts = match time::from_auto(rid) {
        Ok(ts) if plausible(ts) => ts,
        _ => match ctx.observed {
            Some(at) => {
                batch.notes.push(format!(
                    "report_id {rid} is not an epoch time: the report of {thing} is dated by its arrival ({})",
                    time::to_rfc3339(at)
                ));
                at
            }
            None => {
                return Err(ParseError::new(format!(
                    "report_id {rid} is not a plausible epoch time (seconds or milliseconds between 2015 and now + 1 day; FreeRTOS demos send a tick count): give the report's time with `ingest --observed TIME`"
                )))
            }
        },
    };
    let mut push = |metric: &str, value: MetricValue| {
        batch.points.push(Datapoint {
            thing: thing.to_string(),
            metric: metric.to_string(),
            dimension: None,
            ts,
            version: 0,
            value,
        })
    };
    if let Some(m) = r.metrics {
        for (list, set, num) in [
            (
                m.listening_tcp_ports,
                "aws:listening-tcp-ports",
                "aws:num-listening-tcp-ports",
            ),
            (
                m.listening_udp_ports,
                "aws:listening-udp-ports",
                "aws:num-listening-udp-ports",
            ),
        ] {
            if let Some(l) = list {
                let ports: Vec<i64> = l.ports.unwrap_or_default().iter().map(|p| p.port).collect();
                push(
                    num,
                    MetricValue::Count(l.total.unwrap_or(ports.len() as i64)),
                );
                push(set, MetricValue::Ports(ports));
            }
        }
        if let Some(ns) = m.network_stats {
            for (v, name) in [
                (ns.bytes_in, "aws:all-bytes-in"),
                (ns.bytes_out, "aws:all-bytes-out"),
                (ns.packets_in, "aws:all-packets-in"),
                (ns.packets_out, "aws:all-packets-out"),
            ] {
                if let Some(v) = v {
                    push(name, MetricValue::Count(v));
                }
            }
        }
        if let Some(ec) = m.tcp_connections.and_then(|t| t.established_connections) {
            let conns = ec.connections.unwrap_or_default();
            push(
                "aws:num-established-tcp-connections",
                MetricValue::Count(ec.total.unwrap_or(conns.len() as i64)),
            );
            let mut cidrs: Vec<String> = Vec::new();
            for c in &conns {
                let cidr = remote_cidr(&c.remote_addr);
                if !cidrs.contains(&cidr) {
                    cidrs.push(cidr);
                }
            }
            push("aws:destination-ip-addresses", MetricValue::Cidrs(cidrs));
        }
    }
    for (name, values) in r.custom_metrics.unwrap_or_default() {
        let Some(v) = values.into_iter().next() else {
            return Err(ParseError::new(format!(
                "custom metric {name:?} has no value"
            )));
        };
        let value = if let Some(n) = v.number {
            MetricValue::Number(n)
        } else if let Some(n) = v.number_list {
            MetricValue::Numbers(n)
        } else if let Some(s) = v.string_list {
            MetricValue::Strings(s)
        } else if let Some(ip) = v.ip_list {
            MetricValue::Cidrs(ip)
        } else {
            return Err(ParseError::new(format!(
                "custom metric {name:?} has none of number, number_list, string_list, ip_list"
            )));
        };
        push(&name, value);
    }
    Ok(())
}
