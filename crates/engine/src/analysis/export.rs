//! A thing's data for export: every metric in a window as flat rows, to CSV or Parquet.

use std::io::Write;

use polars::prelude::*;
use serde::Serialize;

use crate::model::MetricValue;
use crate::store::{Store, StoreError};
use crate::time::Millis;

/// One datapoint, flat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    /// Time (UTC epoch ms).
    pub t: Millis,
    /// Metric.
    pub metric: String,
    /// Dimension key, if any.
    pub dimension: Option<String>,
    /// Number (counts, numbers).
    pub value: Option<f64>,
    /// Set members as JSON (ports, cidrs, numbers, strings), exactly as sent.
    pub values: Option<String>,
    /// Version kept.
    pub version: i64,
}

/// Every metric of `thing` in `[from, to]`, by metric then time.
pub fn thing_rows(
    store: &Store,
    thing: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<ExportRow>, StoreError> {
    let mut rows = Vec::new();
    for metric in store.thing_metrics(thing)? {
        for p in store.series(thing, &metric, None, from, to)? {
            let (value, values) = match &p.value {
                MetricValue::Count(c) => (Some(*c as f64), None),
                MetricValue::Number(n) => (Some(*n), None),
                other => {
                    let mut buf = Vec::new();
                    other.write_set_json(&mut buf);
                    (None, Some(String::from_utf8_lossy(&buf).into_owned()))
                }
            };
            rows.push(ExportRow {
                t: p.ts,
                metric: metric.clone(),
                dimension: p.dimension,
                value,
                values,
                version: p.version,
            });
        }
    }
    Ok(rows)
}

/// Why a Parquet export failed.
#[derive(Debug, thiserror::Error)]
#[error("parquet export failed: {0}")]
pub struct ExportError(String);

/// Writes rows as Parquet (`t` as a UTC millisecond timestamp).
pub fn write_parquet<W: Write + Send>(rows: &[ExportRow], out: W) -> Result<(), ExportError> {
    let e = |e: PolarsError| ExportError(e.to_string());
    let t = Column::new("t".into(), rows.iter().map(|r| r.t).collect::<Vec<i64>>())
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .map_err(e)?;
    let mut df = DataFrame::new(
        rows.len(),
        vec![
            t,
            Column::new(
                "metric".into(),
                rows.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "dimension".into(),
                rows.iter()
                    .map(|r| r.dimension.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "value".into(),
                rows.iter().map(|r| r.value).collect::<Vec<_>>(),
            ),
            Column::new(
                "values".into(),
                rows.iter().map(|r| r.values.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new(
                "version".into(),
                rows.iter().map(|r| r.version).collect::<Vec<i64>>(),
            ),
        ],
    )
    .map_err(e)?;
    ParquetWriter::new(out).finish(&mut df).map_err(e)?;
    Ok(())
}
