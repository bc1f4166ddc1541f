//! One thing's page: its charts, drift, timeline, violations and reasons; one chart redrawn.

use super::*;

impl Desk {
    /// A thing's page: every chart, drift, diff, timeline, violations, groups.
    pub fn thing(&self, req: &ThingRequest) -> Result<ThingPage> {
        let opts = req.look.options()?;
        let asked = std::time::Instant::now();
        let mut locked = asked;
        // The cache is read under its lock; the charts are drawn after it is released, so a
        // slow or hostile chart never holds up another screen.
        let (mut page, views) = self.with_store(|store| {
            locked = std::time::Instant::now();
            let thing = require_thing(store, &req.thing)?;
            let scored = self.scored(store, &thing)?;
            let last_report = match &scored {
                Some(r) => r.last_report,
                None => store
                    .things()?
                    .into_iter()
                    .find(|t| t.name == thing)
                    .and_then(|t| t.last_report),
            };
            let now = time::now();
            let to = req.to.or(last_report.map(|t| t.min(now))).unwrap_or(now);
            let from = req.from.unwrap_or(to.saturating_sub(7 * DAY).max(0));
            let (from, to) = check_window(from, to)?;
            let mut metrics = store.thing_metrics(&thing)?;
            metrics.sort_by_key(|m| {
                (
                    METRIC_ORDER
                        .iter()
                        .position(|o| o == m)
                        .unwrap_or(METRIC_ORDER.len()),
                    m.clone(),
                )
            });
            let mut views = Vec::with_capacity(metrics.len());
            let mut drift_rows = Vec::new();
            let mut diff_rows = Vec::new();
            for metric in &metrics {
                let v = view::metric_view(store, &thing, metric, from, to, opts.width as usize)?;
                let expected: BTreeSet<&str> = v.expected.iter().map(String::as_str).collect();
                for d in &v.drift {
                    let value = member_text(&d.value);
                    drift_rows.push(DriftRow {
                        metric: metric.clone(),
                        attack_surface: is_attack_port(metric, &d.value),
                        expected: expected.contains(value.as_str()),
                        value,
                        opened: d.opened,
                        closed: d.closed,
                    });
                }
                if !v.drift.is_empty() {
                    let points = store.series(&thing, metric, None, from, to)?;
                    let first = points.first().map_or(from, |p| p.ts);
                    for d in drift::diff(&points, first, to) {
                        diff_rows.push(query::diff_view(metric, d));
                    }
                }
                views.push(v);
            }
            let log = ActionLog::read(&store.action_log()?);
            let page = ThingPage {
                id: crate::model::scope::Thing::from_key(&thing),
                from,
                to,
                last_report,
                charts: Vec::new(),
                drift: drift_rows,
                diff: diff_rows,
                timeline: query::timeline(store, &thing)?,
                violations: store
                    .violations(Some(&thing), false)?
                    .into_iter()
                    .map(query::violation_view)
                    .collect(),
                groups: store
                    .thing_groups(&thing)?
                    .into_iter()
                    .map(|(g, _, _)| g)
                    .collect(),
                quarantined: log.quarantined().contains(&thing),
                score: scored.as_ref().map_or(0.0, |r| r.score),
                reasons: scored.map(|r| r.reasons).unwrap_or_default(),
                status: self.status_of(store)?,
                case: crate::cases::show(store, &crate::cases::Subject::Thing(thing.clone()))?,
                hub_findings: {
                    let records: Vec<String> = store
                        .violations(Some(&thing), false)?
                        .into_iter()
                        .map(|v| v.violation_id)
                        .collect();
                    store.hub_findings_of("violation", &records)?.len() as u64
                },
            };
            Ok((page, views))
        })?;
        let read = std::time::Instant::now();
        page.charts = chart_views(&views, &opts)?;
        tracing::debug!(
            lock_ms = (locked - asked).as_secs_f64() * 1e3,
            read_ms = (read - locked).as_secs_f64() * 1e3,
            draw_ms = read.elapsed().as_secs_f64() * 1e3,
            "thing page"
        );
        Ok(page)
    }

    /// One chart over another window (brush-zoom).
    pub fn chart(&self, req: &ChartRequest) -> Result<ChartView> {
        let (v, opts) = self.chart_request_view(req)?;
        chart_view(&v, &opts)
    }

    /// The view and drawing options a chart request asks for (the zoom and the PNG export).
    pub(super) fn chart_request_view(
        &self,
        req: &ChartRequest,
    ) -> Result<(view::MetricView, ChartOptions)> {
        let opts = req.look.options()?;
        let (from, to) = check_window(req.from, req.to)?;
        let v = self.with_store(|store| {
            let thing = require_metric(store, &req.thing, &req.metric)?;
            view::metric_view(store, &thing, &req.metric, from, to, opts.width as usize)
                .map_err(Error::from)
        })?;
        Ok((v, opts))
    }
}

pub(super) fn require_metric(store: &Store, thing: &str, metric: &str) -> Result<String> {
    let thing = require_thing(store, thing)?;
    let metrics = store.thing_metrics(&thing)?;
    if !metrics.iter().any(|m| m == metric) {
        return Err(Error::NotFound(format!(
            "thing {:?} has no metric {metric:?}; it has: {}",
            crate::model::scope::name_of(&thing),
            metrics.join(", ")
        )));
    }
    Ok(thing)
}

/// Renders a page's charts on every core, in order. Each chart is a pure function of its view,
/// and drawing and encoding them is most of the engine's time for a page (the views come from
/// the cache before, on the caller's connection).
pub(super) fn chart_views(
    views: &[view::MetricView],
    opts: &ChartOptions,
) -> Result<Vec<ChartView>> {
    use rayon::prelude::*;
    views.par_iter().map(|v| chart_view(v, opts)).collect()
}

pub(super) fn chart_view(v: &view::MetricView, opts: &ChartOptions) -> Result<ChartView> {
    let chart = charts::render_raster(v, opts).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok(ChartView {
        metric: v.metric.clone(),
        label: match v.per {
            Some(per) => format!(
                "{} per {}",
                categories::metric_label(&v.metric),
                charts::interval_label(per)
            ),
            None => categories::metric_label(&v.metric),
        },
        image: png_data_url(&chart.png),
        width: chart.width,
        height: chart.height,
        geometry: chart.geometry,
        points: v.points as u32,
        hover: hover_columns(v, opts.width as usize),
        hover_from: v.from,
        hover_to: v.to,
        thresholds: v
            .thresholds
            .iter()
            .map(|t| format!("{} {}", t.label, t.value))
            .collect(),
        bands: v.bands.len() as u32,
        per: v.per,
        compacted_until: v.compacted_until,
    })
}

/// PNG bytes as a `data:` URL.
pub(super) fn png_data_url(png: &[u8]) -> String {
    use base64::Engine as _;
    let mut url = String::with_capacity(22 + png.len().div_ceil(3) * 4);
    url.push_str("data:image/png;base64,");
    base64::engine::general_purpose::STANDARD.encode_string(png, &mut url);
    url
}

/// Per-column `(min, max)` for hover values, rounded to 4 significant digits: a compact
/// payload (times follow from the column), so opening a thing moves little over IPC.
pub(super) fn hover_columns(v: &view::MetricView, width: usize) -> Vec<Option<(f32, f32)>> {
    let width = width.max(1);
    let span = (v.to - v.from).max(1) as i128;
    let mut out = vec![None; width];
    let sig = |x: f64| -> f32 {
        if x == 0.0 || !x.is_finite() {
            return x as f32;
        }
        let m = 10f64.powi(3 - x.abs().log10().floor() as i32);
        ((x * m).round() / m) as f32
    };
    for b in &v.buckets {
        let col =
            ((b.t0 - v.from) as i128 * width as i128 / span).clamp(0, width as i128 - 1) as usize;
        let (lo, hi) = (sig(b.min.1), sig(b.max.1));
        out[col] = Some(match out[col] {
            Some((a, c)) => (lo.min(a), hi.max(c)),
            None => (lo, hi),
        });
    }
    out
}

pub(super) fn member_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn is_attack_port(metric: &str, v: &serde_json::Value) -> bool {
    metric.contains("listening") && v.as_i64().is_some_and(categories::is_attack_surface)
}
