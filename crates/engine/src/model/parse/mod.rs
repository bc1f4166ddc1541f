//! Bytes → model. Recognises every Device Defender document kind by its keys (see
//! [`DocKind`]), and converts each channel's timestamps to UTC epoch milliseconds, deciding
//! seconds or milliseconds per value ([`time::from_auto`]), never from the document's shape: a
//! violation event cut out of a ListViolationEvents response (`jq -c '.violationEvents[]'`,
//! seconds) looks like an SNS alert (milliseconds).
//!
//! Pure and panic-free on any input (fuzzed: `fuzz/fuzz_targets/parse.rs`).
//!
//! Here: the entry points, the probe that tells kinds apart and the one dispatch over every kind
//! ([`parse_record`], a single ordered list of tests: the order decides between shapes that
//! share keys, so it is kept in one place). The converters live by family: [`wire`] (times,
//! values, export entries), [`detect`] (Detect's violations and profiles), [`audit`] (tasks,
//! checks, findings), [`report`] (device-side reports), [`cbor`] (CBOR streams).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, Cursor, Read};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use super::framing::{self, Records};
use super::limits;
use super::{
    ActiveViolation, AuditCheck, AuditFinding, AuditTask, Batch, Behavior, Carried, Datapoint,
    Dimension, DocKind, MetricValue, SecurityProfile, ViolationEvent, VIOLATION_EVENT_TYPES,
};
use crate::time::{self, Millis};

mod asff;
mod audit;
mod cbor;
mod detect;
mod refusals;
mod report;
mod results;
mod topic;
mod wire;

use self::audit::{audit_notification, describe_audit_task, CheckDoc, FindingDoc};
pub(crate) use self::audit::{render_identifier, TaskDoc};
use self::cbor::{is_cbor, parse_cbor};
use self::detect::{ActiveDoc, BehaviorDoc, ProfileDoc, ViolationDoc};
use self::refusals::known_aws_shape;
use self::report::{device_report, report_thing, DeviceReport};
use self::topic::{admitted, device_topic_record, device_topic_thing};
pub(crate) use self::wire::{opt_ms, TimeDoc};
use self::wire::{DatumDoc, ExportEntry};
use super::wrappers::ErrorOutput;

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
    /// When the records reached the place they are read from (S3 `LastModified`, the
    /// Firehose object's name or partition hour): what a device report's `report_id` must
    /// agree with to be taken as its time ([`REPORT_ID_SKEW`]).
    pub arrival: Option<Arrival>,
    /// The families of documents the source may carry ([`Carried`]); a record of another
    /// family is refused by name. `None` admits every family (file ingest without `--carries`,
    /// sources stored before sources declared it).
    pub carries: Option<Vec<Carried>>,
    /// Caps on the stream as a whole.
    pub limits: limits::ObjectLimits,
    /// The latest plausible time (now plus a skew, [`FUTURE_SKEW`]): datapoints after it are
    /// set aside by name ([`Batch::future`]), never stored, and a device report whose
    /// `report_id` is no epoch time before it is refused (or takes `observed`). `None` checks
    /// nothing (pure parsing, tests).
    pub not_after: Option<Millis>,
    /// The account and region the records' things belong to, as the analyst says of a file
    /// (`ddesk ingest --account`): set on the batch read ([`Batch::scope`]); a Security Hub
    /// finding's own account wins for its records.
    pub scope: crate::model::scope::Scope,
}

/// When records reached where they are read from: a window (a partition hour) or an instant
/// (`earliest == latest`: S3 `LastModified`, the time in a Firehose object's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The earliest arrival, UTC epoch ms.
    pub earliest: Millis,
    /// The latest arrival, UTC epoch ms.
    pub latest: Millis,
    /// What the time is, for notes ("S3 LastModified").
    pub what: &'static str,
}

impl Arrival {
    /// An instant.
    pub fn at(t: Millis, what: &'static str) -> Self {
        Self {
            earliest: t,
            latest: t,
            what,
        }
    }

    /// When a file or key's name says it arrived: the time Firehose puts in its object names
    /// (`<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>`), else the `YYYY/MM/DD/HH/` partition
    /// hour of its path. `None` when the name says neither.
    pub fn from_name(path: &str) -> Option<Self> {
        let path = path.replace('\\', "/");
        let file = path.rsplit('/').next().unwrap_or(&path);
        if let Some(t) = firehose_name_time(file) {
            return Some(Self::at(t, "the time in its Firehose object name"));
        }
        let parts: Vec<&str> = path.split('/').collect();
        parts.windows(5).rev().find_map(|w| {
            let num = |s: &str, len: usize| {
                (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<u32>().ok())
                    .flatten()
            };
            let (y, m, d, h) = (num(w[0], 4)?, num(w[1], 2)?, num(w[2], 2)?, num(w[3], 2)?);
            let start = chrono::NaiveDate::from_ymd_opt(y as i32, m, d)?
                .and_hms_opt(h, 0, 0)?
                .and_utc()
                .timestamp_millis();
            Some(Self {
                earliest: start,
                latest: start + 3_600_000 - 1,
                what: "its partition hour",
            })
        })
    }
}

/// The `YYYY-MM-DD-HH-MM-SS` Firehose writes into an object's name, as epoch ms.
fn firehose_name_time(file: &str) -> Option<Millis> {
    let b = file.as_bytes();
    (0..b.len().saturating_sub(18)).find_map(|i| {
        let w = file.get(i..i + 19)?;
        let wb = w.as_bytes();
        let shape = wb.iter().enumerate().all(|(k, c)| match k {
            4 | 7 | 10 | 13 | 16 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
        if !shape || (i > 0 && b[i - 1] != b'-') {
            return None;
        }
        chrono::NaiveDateTime::parse_from_str(w, "%Y-%m-%d-%H-%M-%S")
            .ok()
            .map(|d| d.and_utc().timestamp_millis())
    })
}

/// How far a device report's `report_id`, read as an epoch time, may be from the time its
/// context knows (its arrival, Splunk `_time`, `--observed`) and still be taken as its time:
/// Firehose buffers at most 15 minutes, and device clocks drift. Past it, the context's time
/// wins and the summary's notes say so (aws-c-iot's ids are milliseconds since boot).
pub const REPORT_ID_SKEW: Millis = 60 * 60 * 1000;

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
an AWS IoT lifecycle event {clientId, eventType, timestamp}, or Device Defender's findings in AWS \
Security Hub (ASFF: get-findings output, a finding, the EventBridge event \"Security Hub Findings - Imported\")";

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

fn parse_buffered(mut reader: Box<dyn BufRead>, ctx: &Context) -> Res<Batch> {
    if is_cbor(&mut reader) {
        return parse_cbor(reader, ctx);
    }
    let (sniffed, reader) = results::sniff(reader);
    match sniffed {
        results::Sniffed::Json => {}
        results::Sniffed::Xml => return results::parse_xml(reader, ctx),
        results::Sniffed::Csv => return results::parse_csv(reader, ctx),
        results::Sniffed::Refused(why) => return Err(ParseError::new(why)),
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
    dataCatalogTable: Option<&'a RawValue>,
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
    fields: Option<&'a RawValue>,
    #[serde(borrow)]
    rows: Option<&'a RawValue>,
    #[serde(borrow)]
    columns: Option<&'a RawValue>,
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
    #[serde(borrow)]
    Findings: Option<&'a RawValue>,
    #[serde(borrow)]
    SchemaVersion: Option<&'a RawValue>,
    #[serde(borrow)]
    ProductArn: Option<&'a RawValue>,
    #[serde(borrow, rename = "detail-type")]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
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
        let [_, v, a, _, _, f, ..] = mark.0;
        batch.points[start..]
            .iter()
            .try_for_each(limits::check_point)
            .and_then(|()| {
                batch.violation_events[v..]
                    .iter()
                    .try_for_each(limits::check_violation_event)
            })
            .and_then(|()| {
                batch.active_violations[a..]
                    .iter()
                    .try_for_each(limits::check_active_violation)
            })
            .and_then(|()| {
                batch.findings[f..]
                    .iter()
                    .try_for_each(limits::check_finding)
            })
            .map_err(ParseError::new)
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

    // A record an IoT rule forwarded from a device's own topic (`topic()` is the rule's, not
    // the device's) is only ever that device's report about itself, whatever its keys say:
    // before containers, so no envelope can smuggle a Detect alert or an export batch.
    if let Some(topic) = raw_str(p.topic) {
        if let Some(thing) = device_topic_thing(&topic) {
            let thing = thing.to_string();
            return admitted(ctx, batch, |batch| {
                device_topic_record(&p, text, &topic, &thing, ctx, batch)
            });
        }
    }

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
    if let (Some(fields), true) = (p.fields, p.rows.is_some() || p.columns.is_some()) {
        // A Splunk results document in `json_rows` or `json_cols` mode.
        results::columnar(fields, p.rows, p.columns, ctx, batch)?;
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
        super::wrappers::firehose_backup(raw, text, ctx, batch, depth, ErrorOutput::SplunkFailed)?;
        count(batch, DocKind::FirehoseSplunkBackup);
        return Ok(());
    }
    // Firehose's other error outputs: a Lambda transform's failure (`errorCode`) and a format
    // conversion's (`ErrorCode`, `dataCatalogTable`). Their rawData is the only copy.
    if let Some(raw) = p
        .rawData
        .filter(|_| p.errorCode.is_some() || p.ErrorCode.is_some())
    {
        let kind = if p.ErrorCode.is_some() || p.dataCatalogTable.is_some() {
            ErrorOutput::FormatConversionFailed
        } else {
            ErrorOutput::ProcessingFailed
        };
        super::wrappers::firehose_backup(raw, text, ctx, batch, depth, kind)?;
        count(batch, DocKind::FirehoseFailure);
        return Ok(());
    }
    admitted(ctx, batch, |batch| document(p, text, ctx, batch, depth))
}

/// One document that is no container: recognised by its keys, in the one order that decides
/// between shapes that share keys (over 150 lines because that order is kept in one place: each
/// branch is a line or two handing off to its converter).
fn document(p: Probe, text: &str, ctx: &Context, batch: &mut Batch, depth: u8) -> Res<()> {
    if let Some(list) = p.Findings {
        // `aws securityhub get-findings`, boto3's get_findings (ResponseMetadata beside it).
        asff::findings(list, "GetFindings Findings", ctx, batch, depth)?;
    } else if let (Some(detail), Some(asff::IMPORTED)) =
        (p.detail, raw_str(p.detail_type).as_deref())
    {
        asff::event(detail, ctx, batch, depth)?;
    } else if p.SchemaVersion.is_some() && p.ProductArn.is_some() {
        asff::finding(text, batch)?;
    } else if p.header.is_some()
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
        let map = serde_json::from_str::<BTreeMap<String, &RawValue>>(text).unwrap_or_default();
        if let Some(why) = known_aws_shape(&map) {
            return Err(ParseError::new(why));
        }
        let keys: Vec<&String> = map.keys().take(12).collect();
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
