//! Typed reads: one function per question the CLI and the UI ask.
//!
//! Just over 600 lines: each read is a short query with its row type, independent of the others;
//! the families that grew large have their own modules (`sync`, `actions`, `cases`, `chunk`).

use crate::model::sets::stored;
use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::chunk::{self, day_of, Point};
use super::{Store, StoreError};
use crate::model::{MetricValue, ValueKind};
use crate::time::Millis;

/// One thing in the fleet list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThingSummary {
    /// Thing name.
    pub name: String,
    /// Time of the newest datapoint.
    pub last_report: Option<Millis>,
    /// Metric names seen for this thing.
    pub metrics: Vec<String>,
    /// Violations without an end.
    pub open_violations: i64,
}

/// One datapoint read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    /// Time.
    pub ts: Millis,
    /// Dimension key (`NAME:OP`), when the series has one.
    pub dimension: Option<String>,
    /// Version kept.
    pub version: i64,
    /// Value.
    pub value: MetricValue,
    /// The point stands for a compacted hour (its mean, at the hour's middle) or a set seen
    /// on a compacted day (at its first and last sighting), not for a report.
    pub compacted: bool,
}

/// One folded violation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViolationRow {
    /// Violation id.
    pub violation_id: String,
    /// Thing.
    pub thing: String,
    /// Security profile.
    pub security_profile: String,
    /// Behavior name.
    pub behavior: String,
    /// Metric.
    pub metric: Option<String>,
    /// Start.
    pub started: Option<Millis>,
    /// End (cleared or invalidated), none while active.
    pub ended: Option<Millis>,
    /// Type of the latest event.
    pub last_event: Option<String>,
    /// Time of the latest event.
    pub last_event_time: Option<Millis>,
    /// Latest value, as JSON.
    pub last_value: Option<serde_json::Value>,
    /// Verification state (the newest sighting's).
    pub verification_state: Option<crate::model::VerificationState>,
    /// The analyst's note on it (`verificationStateDescription`).
    pub verification_description: Option<String>,
    /// ML Detect's confidence level.
    pub confidence: Option<crate::model::Confidence>,
    /// The behavior (criteria) as JSON.
    pub behavior_json: serde_json::Value,
}

/// One check of one audit task: `ddesk audits` prints it, the Audit screen lists the latest
/// task's.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct AuditRow {
    /// Task id.
    pub task_id: String,
    /// Task start.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub task_start: Option<Millis>,
    /// Check name.
    pub check: String,
    /// Check run status.
    pub status: String,
    /// Non-compliant resources.
    #[ts(as = "Option<crate::ts::Count>")]
    pub non_compliant: Option<i64>,
    /// Resources evaluated.
    #[ts(as = "Option<crate::ts::Count>")]
    pub total: Option<i64>,
    /// Suppressed non-compliant resources.
    #[ts(as = "Option<crate::ts::Count>")]
    pub suppressed: Option<i64>,
    /// Why a check failed (`INSUFFICIENT_PERMISSIONS`, `AUDIT_CHECK_DISABLED`).
    pub error_code: Option<String>,
    /// The message that came with it.
    pub message: Option<String>,
}

/// One audit finding: `ddesk findings` prints it, the Audit screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct FindingRow {
    /// Finding id.
    pub finding_id: String,
    /// Task id.
    pub task_id: Option<String>,
    /// Check name.
    pub check: String,
    /// Severity.
    pub severity: Option<crate::model::Severity>,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource, as one string.
    pub resource: String,
    /// Reason.
    pub reason: Option<String>,
    /// `reasonForNonComplianceCode`.
    pub reason_code: Option<String>,
    /// Suppressed.
    pub suppressed: bool,
    /// Finding time.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub found: Option<Millis>,
    /// `relatedResources`: the evidence beside the resource.
    pub related_resources: Vec<crate::model::Resource>,
    /// The account it belongs to, when known (Security Hub's, or its source's).
    pub account: Option<String>,
    /// Its region, when known.
    pub region: Option<String>,
}

/// A behavior from a security profile: a threshold line or an expected set on a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// Profile name.
    pub security_profile: String,
    /// Behavior name.
    pub behavior: String,
    /// Metric.
    pub metric: Option<String>,
    /// Dimension key.
    pub dimension: Option<String>,
    /// Comparison operator.
    pub operator: Option<String>,
    /// Threshold value or expected set, as JSON.
    pub value: Option<serde_json::Value>,
    /// Statistical threshold.
    pub statistic: Option<String>,
}

fn json_col(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// Turns a stored point into a value; set members are looked up (and memoised) by id.
fn decode(
    store: &Store,
    sets: &mut HashMap<i64, MetricValue>,
    p: &Point,
) -> Result<MetricValue, StoreError> {
    let kind = ValueKind::from_code(i64::from(p.kind))
        .ok_or_else(|| StoreError::Corrupt(format!("unknown value kind {}", p.kind)))?;
    let bad = || StoreError::Corrupt(format!("bad stored set for kind {}", kind.key()));
    Ok(match kind {
        ValueKind::Count => MetricValue::Count(p.bits),
        ValueKind::Number => MetricValue::Number(f64::from_bits(p.bits as u64)),
        _ => {
            if let Some(v) = sets.get(&p.bits) {
                return Ok(v.clone());
            }
            let members: String = store
                .conn
                .prepare_cached("SELECT members FROM set_value WHERE id = ?1")?
                .query_row([p.bits], |r| r.get(0))?;
            let v = match kind {
                ValueKind::Ports => {
                    MetricValue::Ports(serde_json::from_str(&members).map_err(|_| bad())?)
                }
                ValueKind::Cidrs => {
                    MetricValue::Cidrs(serde_json::from_str(&members).map_err(|_| bad())?)
                }
                ValueKind::Numbers => {
                    MetricValue::Numbers(serde_json::from_str(&members).map_err(|_| bad())?)
                }
                _ => MetricValue::Strings(serde_json::from_str(&members).map_err(|_| bad())?),
            };
            sets.insert(p.bits, v.clone());
            v
        }
    })
}

impl Store {
    /// Every thing with its newest report, metrics and open violations, by name.
    pub fn things(&self) -> Result<Vec<ThingSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT t.name,
                    (SELECT max(s.last_ts) FROM series s WHERE s.thing_id = t.id),
                    (SELECT group_concat(name, char(31)) FROM
                        (SELECT DISTINCT m.name AS name FROM series s JOIN metric m ON m.id = s.metric_id
                         WHERE s.thing_id = t.id ORDER BY m.name)),
                    (SELECT count(*) FROM violation v WHERE v.thing_id = t.id AND v.ended IS NULL)
             FROM thing t ORDER BY t.name",
        )?;
        let rows = stmt.query_map([], |r| {
            let metrics: Option<String> = r.get(2)?;
            Ok(ThingSummary {
                name: r.get(0)?,
                last_report: r.get(1)?,
                metrics: metrics
                    .map(|m| m.split('\u{1f}').map(str::to_string).collect())
                    .unwrap_or_default(),
                open_violations: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the cache knows this thing.
    pub fn has_thing(&self, thing: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM thing WHERE name = ?1")?
            .query_row([thing], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Metric names that have datapoints for this thing.
    pub fn thing_metrics(&self, thing: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT m.name FROM series s JOIN thing t ON t.id = s.thing_id
             JOIN metric m ON m.id = s.metric_id WHERE t.name = ?1 ORDER BY m.name",
        )?;
        let rows = stmt.query_map([thing], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A thing's datapoints for one metric in `[from, to]`, in time order. With `dimension`
    /// (`NAME:OP`, or `""` for none) only that series; otherwise every series of the metric.
    pub fn series(
        &self,
        thing: &str,
        metric: &str,
        dimension: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.dim, c.data, tl.data FROM series s
             JOIN thing t ON t.id = s.thing_id JOIN metric m ON m.id = s.metric_id
             JOIN chunk c ON c.series = s.id LEFT JOIN timeline tl ON tl.id = c.timeline
             WHERE t.name = ?1 AND m.name = ?2 AND (?3 IS NULL OR s.dim = ?3) AND c.day BETWEEN ?4 AND ?5
             ORDER BY s.dim, c.day",
        )?;
        let mut rows = stmt.query(params![thing, metric, dimension, day_of(from), day_of(to)])?;
        let mut points: Vec<(String, Point, bool)> = Vec::new();
        let mut buf = Vec::new();
        let corrupt = |e: rusqlite::types::FromSqlError| StoreError::Corrupt(e.to_string());
        while let Some(r) = rows.next()? {
            let dim: String = r.get(0)?;
            let data = r.get_ref(1)?.as_blob().map_err(corrupt)?;
            let times = r.get_ref(2)?.as_blob_or_null().map_err(corrupt)?;
            buf.clear();
            chunk::decode_into(data, times, &mut buf).ok_or_else(|| {
                StoreError::Corrupt(format!("a chunk of {thing:?} {metric:?} cannot be decoded"))
            })?;
            points.extend(
                buf.iter()
                    .filter(|p| p.ts >= from && p.ts <= to)
                    .map(|p| (dim.clone(), *p, false)),
            );
        }
        self.compacted_points(thing, metric, dimension, from, to, &mut points)?;
        points.sort_by(|a, b| a.1.ts.cmp(&b.1.ts).then_with(|| a.0.cmp(&b.0)));
        let mut sets = HashMap::new();
        points
            .into_iter()
            .map(|(dim, p, compacted)| {
                Ok(SeriesPoint {
                    ts: p.ts,
                    dimension: (!dim.is_empty()).then_some(dim),
                    version: p.version,
                    value: decode(self, &mut sets, &p)?,
                    compacted,
                })
            })
            .collect()
    }

    /// What compacted days in `[from, to]` keep of a thing's metric, as points: each hour's
    /// mean at its middle (a number), each set at its first and last sighting.
    fn compacted_points(
        &self,
        thing: &str,
        metric: &str,
        dimension: Option<&str>,
        from: Millis,
        to: Millis,
        out: &mut Vec<(String, Point, bool)>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.dim, k.day, cs.summary FROM series s
             JOIN thing t ON t.id = s.thing_id JOIN metric m ON m.id = s.metric_id
             JOIN compacted k ON k.series = s.id
             JOIN chunk_summary cs ON cs.day = k.day AND cs.series = k.series
             WHERE t.name = ?1 AND m.name = ?2 AND (?3 IS NULL OR s.dim = ?3) AND k.day BETWEEN ?4 AND ?5",
        )?;
        let mut rows = stmt.query(params![thing, metric, dimension, day_of(from), day_of(to)])?;
        let mut summary = chunk::Summary::default();
        while let Some(r) = rows.next()? {
            let dim: String = r.get(0)?;
            let day: i64 = r.get(1)?;
            let blob = r
                .get_ref(2)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            chunk::decode_summary_into(blob, day, &mut summary).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "a summary of {thing:?} {metric:?} cannot be decoded"
                ))
            })?;
            let mut push = |ts: Millis, kind: u8, bits: i64| {
                if ts >= from && ts <= to {
                    let p = Point {
                        ts,
                        version: 0,
                        kind,
                        bits,
                    };
                    out.push((dim.clone(), p, true));
                }
            };
            for h in &summary.hours {
                let ts = day * chunk::CHUNK_MS + i64::from(h.hour) * 3_600_000 + 1_800_000;
                push(ts, ValueKind::Number as u8, h.mean().to_bits() as i64);
            }
            for &(id, first, last) in &summary.sets {
                push(first, summary.set_kind, id);
                if last != first {
                    push(last, summary.set_kind, id);
                }
            }
        }
        Ok(())
    }

    /// Folded violations, newest first; optionally one thing's, optionally only open ones.
    pub fn violations(
        &self,
        thing: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<ViolationRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.violation_id, t.name, v.security_profile, v.behavior, v.metric, v.started, v.ended,
                    v.last_event, v.last_event_time, v.last_value, v.verification_state, v.behavior_json,
                    v.verification_description, v.confidence
             FROM violation v JOIN thing t ON t.id = v.thing_id
             WHERE (?1 IS NULL OR t.name = ?1) AND (?2 = 0 OR v.ended IS NULL)
             ORDER BY coalesce(v.started, v.last_event_time) DESC, v.violation_id",
        )?;
        let rows = stmt.query_map(params![thing, active_only], |r| {
            Ok(ViolationRow {
                violation_id: r.get(0)?,
                thing: r.get(1)?,
                security_profile: r.get(2)?,
                behavior: r.get(3)?,
                metric: r.get(4)?,
                started: r.get(5)?,
                ended: r.get(6)?,
                last_event: r.get(7)?,
                last_event_time: r.get(8)?,
                last_value: json_col(r.get(9)?),
                verification_state: stored(r.get(10)?),
                behavior_json: json_col(r.get(11)?).unwrap_or(serde_json::Value::Null),
                verification_description: r.get(12)?,
                confidence: stored(r.get(13)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Audit history: one row per (task, check), newest task first.
    pub fn audits(&self, check: Option<&str>) -> Result<Vec<AuditRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.task_id, coalesce(t.start, c.task_start), c.check_name, c.status, c.non_compliant, c.total, c.suppressed,
                    c.error_code, c.message
             FROM audit_check c LEFT JOIN audit_task t ON t.task_id = c.task_id
             WHERE (?1 IS NULL OR c.check_name = ?1)
             ORDER BY coalesce(t.start, c.task_start) DESC, c.task_id, c.check_name",
        )?;
        let rows = stmt.query_map(params![check], |r| {
            Ok(AuditRow {
                task_id: r.get(0)?,
                task_start: r.get(1)?,
                check: r.get(2)?,
                status: r.get(3)?,
                non_compliant: r.get(4)?,
                total: r.get(5)?,
                suppressed: r.get(6)?,
                error_code: r.get(7)?,
                message: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Audit findings, newest first; optionally one check's, optionally those naming `resource`
    /// exactly: as the non-compliant resource or among the related resources (a client id, a
    /// certificate id, a policy name).
    pub fn findings(
        &self,
        check: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT finding_id, task_id, check_name, severity, resource_type, resource, reason, suppressed, found,
                    reason_code, related_json, account, region
             FROM finding WHERE (?1 IS NULL OR check_name = ?1)
               AND (?2 IS NULL OR resource = ?2
                    OR finding_id IN (SELECT finding_id FROM finding_name WHERE name = ?2))
             ORDER BY coalesce(found, task_start) DESC, finding_id",
        )?;
        let rows = stmt.query_map(params![check, resource], |r| {
            Ok(FindingRow {
                finding_id: r.get(0)?,
                task_id: r.get(1)?,
                check: r.get(2)?,
                severity: stored(r.get(3)?),
                resource_type: r.get(4)?,
                resource: r.get(5)?,
                reason: r.get(6)?,
                suppressed: r.get(7)?,
                found: r.get(8)?,
                reason_code: r.get(9)?,
                related_resources: r
                    .get::<_, String>(10)
                    .ok()
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
                account: r.get(11)?,
                region: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Behaviors that watch `metric` (all metrics when `None`).
    pub fn thresholds(&self, metric: Option<&str>) -> Result<Vec<Threshold>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT profile, name, metric, dim, operator, value, statistic FROM behavior
             WHERE (?1 IS NULL OR metric = ?1) ORDER BY profile, name",
        )?;
        let rows = stmt.query_map(params![metric], |r| {
            let dim: String = r.get(3)?;
            Ok(Threshold {
                security_profile: r.get(0)?,
                behavior: r.get(1)?,
                metric: r.get(2)?,
                dimension: (!dim.is_empty()).then_some(dim),
                operator: r.get(4)?,
                value: json_col(r.get(5)?),
                statistic: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of datapoints in the cache: raw, and those compacted into hourly aggregates
    /// (a cache whose every day is compacted still holds data).
    pub fn point_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT coalesce(sum(n), 0) FROM chunk) + (SELECT coalesce(sum(n), 0) FROM compacted)",
            [],
            |r| r.get(0),
        )?)
    }
}

/// A series and whose it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInfo {
    /// Series id.
    pub id: i64,
    /// Thing name.
    pub thing: String,
    /// Metric name.
    pub metric: String,
    /// Dimension key, `""` for none.
    pub dim: String,
    /// First datapoint.
    pub first_ts: Option<Millis>,
    /// Newest datapoint.
    pub last_ts: Option<Millis>,
}

/// Raw chunk summaries read by [`Store::summary_batches`].
#[derive(Debug, Default)]
pub struct SummaryBatch {
    /// (series, day, end of its summary in `bytes`).
    rows: Vec<(i64, i64, usize)>,
    bytes: Vec<u8>,
}

impl SummaryBatch {
    /// (series, day, encoded summary) per row.
    pub fn iter(&self) -> impl Iterator<Item = (i64, i64, &[u8])> {
        let mut start = 0;
        self.rows.iter().map(move |&(series, day, end)| {
            let blob = &self.bytes[start..end];
            start = end;
            (series, day, blob)
        })
    }
}

impl Store {
    /// Every series with its thing, metric and time span.
    pub fn series_catalog(&self) -> Result<Vec<SeriesInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, t.name, m.name, s.dim, s.first_ts, s.last_ts FROM series s
             JOIN thing t ON t.id = s.thing_id JOIN metric m ON m.id = s.metric_id ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SeriesInfo {
                id: r.get(0)?,
                thing: r.get(1)?,
                metric: r.get(2)?,
                dim: r.get(3)?,
                first_ts: r.get(4)?,
                last_ts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Hands `each` the raw chunk summaries of the UTC days overlapping `[from, to]` in
    /// batches of up to `rows` rows, in day order: what fleet-wide triage reads instead of
    /// points. The caller decodes them ([`chunk::decode_summary_into`]), on other threads if it
    /// likes, while the next batch is read — all from one snapshot of the cache.
    pub fn summary_batches(
        &self,
        from: Millis,
        to: Millis,
        rows: usize,
        mut each: impl FnMut(SummaryBatch),
    ) -> Result<(), StoreError> {
        let rows_per_batch = rows.max(1);
        let mut stmt = self.conn.prepare_cached(
            "SELECT series, day, summary FROM chunk_summary WHERE day BETWEEN ?1 AND ?2",
        )?;
        let mut rows = stmt.query(params![day_of(from), day_of(to)])?;
        let mut batch = SummaryBatch::default();
        while let Some(r) = rows.next()? {
            let blob = r
                .get_ref(2)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            batch.bytes.extend_from_slice(blob);
            batch.rows.push((r.get(0)?, r.get(1)?, batch.bytes.len()));
            if batch.rows.len() >= rows_per_batch {
                each(std::mem::take(&mut batch));
            }
        }
        if !batch.rows.is_empty() {
            each(batch);
        }
        Ok(())
    }

    /// The members of a stored set.
    pub fn set_value(&self, kind: ValueKind, id: i64) -> Result<MetricValue, StoreError> {
        decode(
            self,
            &mut HashMap::new(),
            &Point {
                ts: 0,
                version: 0,
                kind: kind as u8,
                bits: id,
            },
        )
    }
}

/// One violation event of a thing, for its timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViolationEventRow {
    /// Violation id.
    pub violation_id: String,
    /// Event time.
    pub time: Millis,
    /// `in-alarm`, `alarm-cleared`, `alarm-invalidated`.
    pub event_type: String,
    /// Behavior.
    pub behavior: String,
    /// Metric.
    pub metric: Option<String>,
    /// Security profile.
    pub security_profile: String,
    /// Value at the event, as JSON.
    pub value: Option<serde_json::Value>,
    /// ML Detect's confidence at the event.
    pub confidence: Option<crate::model::Confidence>,
}

impl Store {
    /// A thing's violation events in time order.
    pub fn violation_events(&self, thing: &str) -> Result<Vec<ViolationEventRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.violation_id, e.time, e.event_type, v.behavior, v.metric, v.security_profile, e.value,
                    e.confidence
             FROM violation_event e JOIN violation v ON v.violation_id = e.violation_id
             JOIN thing t ON t.id = v.thing_id WHERE t.name = ?1 ORDER BY e.time, e.event_type",
        )?;
        let rows = stmt.query_map([thing], |r| {
            Ok(ViolationEventRow {
                violation_id: r.get(0)?,
                time: r.get(1)?,
                event_type: r.get(2)?,
                behavior: r.get(3)?,
                metric: r.get(4)?,
                security_profile: r.get(5)?,
                value: json_col(r.get(6)?),
                confidence: stored(r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// One mitigation action on one target, with its task, as AWS recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MitigationRow {
    /// Task id.
    pub task_id: String,
    /// Audit or Detect.
    pub kind: crate::model::MitigationKind,
    /// Action name.
    pub action: String,
    /// The finding acted on (audit).
    pub finding_id: Option<String>,
    /// The violation acted on (Detect).
    pub violation_id: Option<String>,
    /// The thing: named by the execution, or the violation's thing.
    pub thing: Option<String>,
    /// The execution's status.
    pub status: String,
    /// The task's status.
    pub task_status: Option<String>,
    /// Start.
    pub start: Option<Millis>,
    /// End.
    pub end: Option<Millis>,
    /// Error code of a failed execution.
    pub error_code: Option<String>,
    /// Its message.
    pub message: Option<String>,
}

impl Store {
    /// Every mitigation action execution, newest first (mitigations are few: a handful a day).
    pub fn mitigations(&self) -> Result<Vec<MitigationRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.task_id, e.kind, e.action, e.finding_id, e.violation_id,
                    coalesce(e.thing, (SELECT t.name FROM violation v JOIN thing t ON t.id = v.thing_id
                                       WHERE v.violation_id = e.violation_id)),
                    e.status, k.status, coalesce(e.start, k.start), coalesce(e.end_time, k.end_time),
                    e.error_code, e.message
             FROM mitigation_execution e LEFT JOIN mitigation_task k ON k.task_id = e.task_id
             ORDER BY coalesce(e.start, k.start) DESC, e.task_id, e.action, e.target",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MitigationRow {
                task_id: r.get(0)?,
                kind: {
                    let word: String = r.get(1)?;
                    crate::model::MitigationKind::from_stored(&word).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Text,
                            format!("mitigation kind {word:?} is neither audit nor detect").into(),
                        )
                    })?
                },
                action: r.get(2)?,
                finding_id: r.get(3)?,
                violation_id: r.get(4)?,
                thing: r.get(5)?,
                status: r.get(6)?,
                task_status: r.get(7)?,
                start: r.get(8)?,
                end: r.get(9)?,
                error_code: r.get(10)?,
                message: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A record's identity in Security Hub, as `ddesk hub findings` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubFindingRow {
    /// `ProductArn`.
    pub product_arn: String,
    /// The finding's `Id`.
    pub id: String,
    /// The AWS account it belongs to.
    pub account: String,
    /// Its region, when the finding said.
    pub region: Option<String>,
    /// `violation`, `finding` or `check`.
    pub kind: String,
    /// The violation id, audit finding id, or `task/check`.
    pub record: String,
    /// `Workflow.Status` as last read.
    pub workflow: Option<String>,
    /// `UpdatedAt` (epoch ms).
    pub updated: Option<Millis>,
}

impl Store {
    /// The Security Hub findings the cache holds records of, optionally of one account.
    pub fn hub_findings(&self, account: Option<&str>) -> Result<Vec<HubFindingRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT product_arn, id, account, region, kind, record, workflow, updated
             FROM hub_finding WHERE ?1 IS NULL OR account = ?1 ORDER BY account, kind, record",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(HubFindingRow {
                product_arn: r.get(0)?,
                id: r.get(1)?,
                account: r.get(2)?,
                region: r.get(3)?,
                kind: r.get(4)?,
                record: r.get(5)?,
                workflow: r.get(6)?,
                updated: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The Security Hub findings that gave these records of `kind` (`violation`, `finding`,
    /// `check`), by ProductArn and Id.
    pub fn hub_findings_of(
        &self,
        kind: &str,
        records: &[String],
    ) -> Result<Vec<HubFindingRow>, StoreError> {
        let mut out: Vec<HubFindingRow> = self
            .hub_findings(None)?
            .into_iter()
            .filter(|h| h.kind == kind && records.contains(&h.record))
            .collect();
        out.sort_by(|a, b| (&a.product_arn, &a.id).cmp(&(&b.product_arn, &b.id)));
        Ok(out)
    }
}
