//! Chart files: a metric of a thing, the audit history.

use std::path::Path;

use crate::analysis::{audit, view};
use crate::charts::{self, ChartOptions, Geometry};
use serde::Serialize;

use crate::store::Store;
use crate::time::{self, Millis};
use crate::{Error, Result};

use crate::time::DAY;

/// A chart file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    /// Vector, for documents and the web.
    Svg,
    /// Raster, at the options' scale.
    Png,
}

impl ChartFormat {
    /// The format a file name asks for (`.svg` or `.png`, any case).
    pub fn of_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some(Self::Svg),
            "png" => Some(Self::Png),
            _ => None,
        }
    }
}

/// Renders in `format` and writes the file (replacing it whole); returns the plot geometry.
fn write_chart(
    path: &Path,
    format: ChartFormat,
    svg: impl FnOnce() -> std::result::Result<charts::Svg, charts::ChartError>,
    png: impl FnOnce() -> std::result::Result<charts::Raster, charts::ChartError>,
) -> Result<Geometry> {
    let chart_err = |e: charts::ChartError| Error::InvalidInput(e.to_string());
    let (bytes, geometry) = match format {
        ChartFormat::Svg => {
            let s = svg().map_err(chart_err)?;
            (s.svg.into_bytes(), s.geometry)
        }
        ChartFormat::Png => {
            let p = png().map_err(chart_err)?;
            (p.png, p.geometry)
        }
    };
    crate::files::write_replacing(path, |w| w.write_all(&bytes)).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    Ok(geometry)
}

/// The chart window of a thing: the given ends, else the 7 days up to its newest report
/// (never past now: a future-dated point must not move the window).
pub fn chart_window(
    store: &Store,
    thing: &str,
    from: Option<Millis>,
    to: Option<Millis>,
) -> Result<(Millis, Millis)> {
    let to = match to {
        Some(t) => t,
        None => {
            let now = time::now();
            let newest = store
                .things()?
                .into_iter()
                .find(|s| s.name == thing)
                .and_then(|s| s.last_report);
            newest.map_or(now, |n| n.min(now))
        }
    };
    let from = from.unwrap_or_else(|| to.saturating_sub(7 * DAY).max(0));
    Ok((from, to))
}

/// A metric chart written to a file (`ddesk chart`).
#[derive(Debug, Clone, Serialize)]
pub struct ChartRecord {
    /// The file written.
    pub out: std::path::PathBuf,
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Window start.
    #[serde(serialize_with = "time::instant")]
    pub from: Millis,
    /// Window end.
    #[serde(serialize_with = "time::instant")]
    pub to: Millis,
    /// Datapoints read.
    pub points: usize,
    /// For event series: the interval each bar counts.
    pub per_ms: Option<Millis>,
    /// The plot area and its scales.
    pub geometry: Geometry,
    /// Up to this instant the window's days are compacted (`ddesk compact`): the chart shows
    /// hourly means there, not reports; null when every point is a report.
    #[serde(serialize_with = "time::instant_opt")]
    pub compacted_until: Option<Millis>,
}

/// What to chart and where.
#[derive(Debug, Clone)]
pub struct ChartJob<'a> {
    /// Thing.
    pub thing: &'a str,
    /// Metric.
    pub metric: &'a str,
    /// Window start (see [`chart_window`] for the default).
    pub from: Millis,
    /// Window end; after the start.
    pub to: Millis,
    /// Size, zone, theme, scale.
    pub options: ChartOptions,
    /// The file.
    pub out: &'a Path,
    /// Its format.
    pub format: ChartFormat,
}

/// Charts a metric of a thing (thresholds, violation bands, drift) into a file.
pub fn chart(store: &Store, job: &ChartJob<'_>) -> Result<ChartRecord> {
    let thing = &crate::app::thing::require_metric(store, job.thing, job.metric)?;
    let (from, to) = (job.from, job.to);
    if from >= to {
        return Err(Error::InvalidInput(
            "the window's start is not before its end".into(),
        ));
    }
    let opts = &job.options;
    let view = view::metric_view(store, thing, job.metric, from, to, opts.width as usize)?;
    let geometry = write_chart(
        job.out,
        job.format,
        || charts::render_svg(&view, opts),
        || charts::render_raster(&view, opts),
    )?;
    Ok(ChartRecord {
        out: job.out.to_path_buf(),
        thing: job.thing.to_string(),
        metric: job.metric.to_string(),
        from,
        to,
        points: view.points,
        per_ms: view.per,
        geometry,
        compacted_until: view.compacted_until,
    })
}

/// The audit history chart written to a file (`ddesk audit-chart`).
#[derive(Debug, Clone, Serialize)]
pub struct AuditChartRecord {
    /// The file written.
    pub out: std::path::PathBuf,
    /// Window start.
    #[serde(serialize_with = "time::instant")]
    pub from: Millis,
    /// Window end.
    #[serde(serialize_with = "time::instant")]
    pub to: Millis,
    /// Per check: non-compliant and total per audit task.
    pub history: Vec<audit::CheckHistory>,
    /// The plot area and its scales.
    pub geometry: Geometry,
}

/// Charts the audit history (of one check, or every check) over `[from, to)`; the window
/// defaults to the 90 days up to now.
pub fn audit_chart(
    store: &Store,
    check: Option<&str>,
    (from, to): (Option<Millis>, Option<Millis>),
    options: &ChartOptions,
    (out, format): (&Path, ChartFormat),
) -> Result<AuditChartRecord> {
    let to = to.unwrap_or_else(time::now);
    let from = from.unwrap_or(to - 90 * DAY);
    let history = audit::history(store, check, from, to)?;
    if let Some(c) = check {
        if history.is_empty() {
            return Err(Error::NotFound(format!(
                "no audit results for check {c:?} between the given times (see `ddesk audits`)"
            )));
        }
    }
    let geometry = write_chart(
        out,
        format,
        || charts::audit::render_svg(&history, from, to, options),
        || charts::audit::render_raster(&history, from, to, options),
    )?;
    Ok(AuditChartRecord {
        out: out.to_path_buf(),
        from,
        to,
        history,
        geometry,
    })
}
