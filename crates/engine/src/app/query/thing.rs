//! A thing's records: the things in the cache, a metric's series and drift, the export, the
//! timeline.

use crate::analysis::drift;
use crate::app::{DiffView, Member, TimelineRow};
use std::path::Path;

use crate::analysis::export;
use crate::analysis::timeline;
use crate::model::MetricValue;
use serde::Serialize;

use crate::store::Store;
use crate::time::{self, Millis};
use crate::{Error, Result};

/// A thing in the cache (`ddesk things`).
#[derive(Debug, Clone, Serialize)]
pub struct ThingRecord {
    /// Thing name.
    pub name: String,
    /// The thing again, with its `account`, `region` and `key`.
    #[serde(flatten)]
    pub id: crate::model::scope::Thing,
    /// Its newest datapoint.
    #[serde(serialize_with = "time::instant_opt")]
    pub last_report: Option<Millis>,
    /// Metrics seen.
    pub metrics: Vec<String>,
    /// Violations without an end.
    pub open_violations: i64,
}

/// Every thing in the cache.
pub fn things(store: &Store) -> Result<Vec<ThingRecord>> {
    Ok(store
        .things()?
        .into_iter()
        .map(|s| ThingRecord {
            id: crate::model::scope::Thing::from_key(&s.name),
            name: crate::model::scope::name_of(&s.name).to_string(),
            last_report: s.last_report,
            metrics: s.metrics,
            open_violations: s.open_violations,
        })
        .collect())
}

/// A number as the device sent it: an integer count or a floating-point value.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `count`.
    Count(i64),
    /// `number`.
    Number(f64),
}

/// The members of a set-valued datapoint.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Members {
    /// Ports.
    Ports(Vec<i64>),
    /// CIDRs and strings.
    Strings(Vec<String>),
    /// Numbers.
    Numbers(Vec<f64>),
}

/// One datapoint (`ddesk series`): `value` for numbers, `values` for sets.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesRecord {
    /// When.
    #[serde(serialize_with = "time::instant")]
    pub t: Millis,
    /// A number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Scalar>,
    /// A set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Members>,
    /// Its dimension, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// `true` when the record stands for a compacted hour (`value` is the hour's mean, `t` its
    /// middle) or a set seen on a compacted day (`ddesk compact`); absent for reports.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compacted: bool,
}

/// A thing's datapoints of one metric in `[from, to]` (of one dimension, if given).
pub fn series(
    store: &Store,
    thing: &str,
    metric: &str,
    dimension: Option<&str>,
    from: Millis,
    to: Millis,
) -> Result<Vec<SeriesRecord>> {
    let thing = &crate::app::thing::require_metric(store, thing, metric)?;
    Ok(store
        .series(thing, metric, dimension, from, to)?
        .into_iter()
        .map(|p| {
            let (value, values) = match p.value {
                MetricValue::Count(c) => (Some(Scalar::Count(c)), None),
                MetricValue::Number(n) => (Some(Scalar::Number(n)), None),
                MetricValue::Ports(v) => (None, Some(Members::Ports(v))),
                MetricValue::Cidrs(v) | MetricValue::Strings(v) => {
                    (None, Some(Members::Strings(v)))
                }
                MetricValue::Numbers(v) => (None, Some(Members::Numbers(v))),
            };
            SeriesRecord {
                t: p.ts,
                value,
                values,
                dimension: p.dimension,
                compacted: p.compacted,
            }
        })
        .collect())
}

/// When a member of a set was listed (`ddesk drift`): the interval as the reports give it.
/// Not [`DriftRow`](crate::app::DriftRow), which is the thing page's judgement of the same
/// interval (attack surface, expected from behaviours or the baseline) over every set metric;
/// `ddesk drift` names one metric and prints no judgement.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRecord {
    /// The member.
    pub value: serde_json::Value,
    /// First report listing it.
    #[serde(serialize_with = "time::instant")]
    pub opened: Millis,
    /// First later report without it; null while still listed.
    #[serde(serialize_with = "time::instant_opt")]
    pub closed: Option<Millis>,
}

fn set_series(
    store: &Store,
    thing: &str,
    metric: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<crate::store::SeriesPoint>> {
    let thing = &crate::app::thing::require_metric(store, thing, metric)?;
    let points = store.series(thing, metric, None, from, to)?;
    if points.first().is_some_and(|p| !p.value.kind().is_set()) {
        return Err(Error::InvalidInput(format!(
            "metric {metric:?} is not set-valued (ports, cidrs, numbers, strings): drift needs a set"
        )));
    }
    Ok(points)
}

/// When each member of a set-valued metric appeared and went away.
pub fn drift(
    store: &Store,
    thing: &str,
    metric: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<DriftRecord>> {
    let points = set_series(store, thing, metric, from, to)?;
    Ok(drift::intervals(&points)
        .into_iter()
        .map(|d| DriftRecord {
            value: d.value,
            opened: d.opened,
            closed: d.closed,
        })
        .collect())
}

/// The set reported at `a` against the set reported at `b`.
pub fn drift_diff(
    store: &Store,
    thing: &str,
    metric: &str,
    (from, to): (Millis, Millis),
    (a, b): (Millis, Millis),
) -> Result<Vec<DiffView>> {
    let points = set_series(store, thing, metric, from, to)?;
    Ok(drift::diff(&points, a, b)
        .into_iter()
        .map(|d| diff_view(metric, d))
        .collect())
}

/// A member's change, as the page and `ddesk drift --at --vs` show it.
pub fn diff_view(metric: &str, d: drift::DiffRow) -> DiffView {
    DiffView {
        value: Member::new(d.value),
        change: d.change,
        attack_surface: d.attack_surface,
        metric: metric.to_string(),
    }
}

/// One exported value (`ddesk export --format csv`).
#[derive(Debug, Clone, Serialize)]
pub struct ExportRecord {
    /// When.
    #[serde(serialize_with = "time::instant")]
    pub t: Millis,
    /// Metric.
    pub metric: String,
    /// Dimension, if any.
    pub dimension: Option<String>,
    /// A number.
    pub value: Option<f64>,
    /// A set's members as JSON, exactly as sent.
    pub values: Option<String>,
    /// The version kept.
    pub version: i64,
}

/// Every value of a thing in `[from, to]`, by metric then time.
pub fn export_rows(
    store: &Store,
    thing: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<export::ExportRow>> {
    let thing = &crate::app::require_thing(store, thing)?;
    Ok(export::thing_rows(store, thing, from, to)?)
}

/// [`export_rows`] as printed records.
pub fn export_records(rows: Vec<export::ExportRow>) -> Vec<ExportRecord> {
    rows.into_iter()
        .map(|r| ExportRecord {
            t: r.t,
            metric: r.metric,
            dimension: r.dimension,
            value: r.value,
            values: r.values,
            version: r.version,
        })
        .collect()
}

/// Writes a thing's rows as Parquet to `path` (replacing it whole).
pub fn write_parquet(rows: &[export::ExportRow], path: &Path) -> Result<()> {
    let mut failed = None;
    let written = crate::files::write_replacing(path, |w| {
        export::write_parquet(rows, w).map_err(|e| {
            let msg = e.to_string();
            failed = Some(e);
            std::io::Error::other(msg)
        })
    });
    if let Some(e) = failed {
        return Err(Error::InvalidInput(e.to_string()));
    }
    written.map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}

/// A thing's violations, findings, mitigations, actions and case notes in time order.
pub fn timeline(store: &Store, thing: &str) -> Result<Vec<TimelineRow>> {
    let thing = &crate::app::require_thing(store, thing)?;
    Ok(timeline::thing_timeline(store, thing)?
        .into_iter()
        .map(|e| TimelineRow {
            t: e.t,
            kind: e.kind,
            what: e.what,
            id: e.id,
        })
        .collect())
}
