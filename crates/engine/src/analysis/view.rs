//! One metric of one thing over a window, prepared for drawing: downsampled without losing
//! extremes, with gaps, agent restarts, thresholds and violation intervals.

use serde::Serialize;

use super::drift::{self, DriftInterval};
use crate::model::MetricValue;
use crate::store::{SeriesPoint, Store, StoreError};
use crate::time::Millis;

/// One pixel column of a numeric series (M4: first, min, max and last of the column).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    /// Column start.
    pub t0: Millis,
    /// Column end (exclusive).
    pub t1: Millis,
    /// First point (time, value).
    pub first: (Millis, f64),
    /// Smallest value and its time.
    pub min: (Millis, f64),
    /// Largest value and its time.
    pub max: (Millis, f64),
    /// Last point.
    pub last: (Millis, f64),
    /// Reports in the column.
    pub n: u32,
}

/// Something to mark on a time axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Marker {
    /// No report between `from` and `to` (not a zero).
    Gap {
        /// Last report before.
        from: Millis,
        /// First report after.
        to: Millis,
    },
    /// A report right after a gap that dwarfs the usual values: the first delta after an
    /// agent restart counts everything since boot.
    AgentRestart {
        /// The suspicious report.
        at: Millis,
        /// Its value.
        value: f64,
    },
}

/// A horizontal threshold from a behavior.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdLine {
    /// Label ("BytesOutHigh > 50000000").
    pub label: String,
    /// Value.
    pub value: f64,
}

/// A violation drawn as a band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Start.
    pub from: Millis,
    /// End (the window's end while still in alarm).
    pub to: Millis,
    /// Still in alarm.
    pub open: bool,
    /// Label.
    pub label: String,
}

/// Everything a chart of one metric shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricView {
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Window start.
    pub from: Millis,
    /// Window end.
    pub to: Millis,
    /// Numeric series, downsampled; empty for sets.
    pub buckets: Vec<Bucket>,
    /// Set-valued series: intervals per member; empty for numbers.
    pub drift: Vec<DriftInterval>,
    /// Expected members of a set (from `in-*-set` behaviors), as strings.
    pub expected: Vec<String>,
    /// Gaps and agent restarts.
    pub markers: Vec<Marker>,
    /// Threshold lines.
    pub thresholds: Vec<ThresholdLine>,
    /// Violation bands.
    pub bands: Vec<Band>,
    /// Points read.
    pub points: usize,
    /// For event series (lifecycle connects and disconnects): the interval the buckets count
    /// events over; each bucket's value is the number of events in it (0 where none).
    pub per: Option<Millis>,
    /// The window holds compacted days (`ddesk compact`): up to this instant the chart shows
    /// hourly means (sets: each seen with its first and last sighting), not reports.
    pub compacted_until: Option<Millis>,
}

/// Intervals an event chart counts over: the shortest that gives at most [`MAX_BARS`] bars.
const EVENT_INTERVALS: [Millis; 8] = [
    60_000,
    300_000,
    900_000,
    3_600_000,
    6 * 3_600_000,
    86_400_000,
    7 * 86_400_000,
    30 * 86_400_000,
];

/// Most bars an event chart draws.
pub const MAX_BARS: i64 = 180;

/// The interval to count events over in a window of `span`.
pub fn event_interval(span: Millis) -> Millis {
    EVENT_INTERVALS
        .iter()
        .copied()
        .find(|per| span / per <= MAX_BARS)
        .unwrap_or(EVENT_INTERVALS[EVENT_INTERVALS.len() - 1])
}

/// Events per interval of `per` over `[from, to]`, one point at each interval's start (zero
/// where there was none: no event is a real zero, not a missing report). Intervals are aligned
/// to the epoch, so the same hour is one bar whatever the window.
pub fn event_counts(
    events: &[(Millis, f64)],
    from: Millis,
    to: Millis,
    per: Millis,
) -> Vec<(Millis, f64)> {
    let per = per.max(1);
    let first = from.div_euclid(per) * per;
    let n = ((to - first).max(0) / per + 1).min(4 * MAX_BARS) as usize;
    let mut counts = vec![0f64; n];
    for &(t, v) in events {
        if t < from || t > to {
            continue;
        }
        if let Some(c) = usize::try_from((t - first) / per)
            .ok()
            .and_then(|i| counts.get_mut(i))
        {
            // Each event is a datapoint of 1; a larger value counts as that many events.
            *c += v.max(0.0);
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| ((first + i as i64 * per).max(from), c))
        .collect()
}

fn number(v: &MetricValue) -> Option<f64> {
    match v {
        MetricValue::Count(c) => Some(*c as f64),
        MetricValue::Number(n) => Some(*n),
        _ => None,
    }
}

/// Downsamples to at most `width` columns keeping, per column, the first, last, smallest and
/// largest point: a spike survives any zoom.
pub fn m4(points: &[(Millis, f64)], from: Millis, to: Millis, width: usize) -> Vec<Bucket> {
    let width = width.max(1) as i64;
    let span = (to - from).max(1);
    let mut out: Vec<Bucket> = Vec::new();
    for &(t, v) in points {
        if t < from || t > to {
            continue;
        }
        let col = ((t - from) as i128 * width as i128 / span as i128).min(width as i128 - 1) as i64;
        let t0 = from + (span as i128 * col as i128 / width as i128) as i64;
        match out.last_mut() {
            Some(b) if b.t0 == t0 => {
                if v < b.min.1 {
                    b.min = (t, v);
                }
                if v > b.max.1 {
                    b.max = (t, v);
                }
                b.last = (t, v);
                b.n += 1;
            }
            _ => out.push(Bucket {
                t0,
                t1: from + (span as i128 * (col + 1) as i128 / width as i128) as i64,
                first: (t, v),
                min: (t, v),
                max: (t, v),
                last: (t, v),
                n: 1,
            }),
        }
    }
    out
}

/// Gaps (no report for more than 2.5 usual steps) and agent restarts (the first report after
/// a gap, over 20× the median).
pub fn markers(points: &[(Millis, f64)]) -> Vec<Marker> {
    if points.len() < 3 {
        return Vec::new();
    }
    // Medians by selection, not sorting: this runs for every metric of every thing view.
    let mut steps: Vec<Millis> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mid = steps.len() / 2;
    let step = (*steps.select_nth_unstable(mid).1).max(1);
    let mut values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let mid = values.len() / 2;
    let med = *values.select_nth_unstable_by(mid, f64::total_cmp).1;
    let mut out = Vec::new();
    for w in points.windows(2) {
        if w[1].0 - w[0].0 > step * 5 / 2 {
            out.push(Marker::Gap {
                from: w[0].0,
                to: w[1].0,
            });
            if med > 0.0 && w[1].1 > 20.0 * med {
                out.push(Marker::AgentRestart {
                    at: w[1].0,
                    value: w[1].1,
                });
            }
        }
    }
    out
}

/// Builds the view of `metric` for `thing` over `[from, to]`, downsampled to `width` columns.
pub fn metric_view(
    store: &Store,
    thing: &str,
    metric: &str,
    from: Millis,
    to: Millis,
    width: usize,
) -> Result<MetricView, StoreError> {
    let points: Vec<SeriesPoint> = store.series(thing, metric, None, from, to)?;
    let mut numeric: Vec<(Millis, f64)> = points
        .iter()
        .filter_map(|p| number(&p.value).map(|v| (p.ts, v)))
        .collect();
    let is_set = points.first().is_some_and(|p| p.value.kind().is_set());
    let per = (!is_set && crate::model::lifecycle::is_event_count(metric))
        .then(|| event_interval(to - from));
    if let Some(per) = per {
        numeric = event_counts(&numeric, from, to, per);
    }
    let mut thresholds = Vec::new();
    let mut expected = Vec::new();
    for t in store.thresholds(Some(metric))? {
        let op = t.operator.clone().unwrap_or_default();
        let value = t
            .value
            .as_ref()
            .and_then(|v| v.as_object())
            .and_then(|o| o.values().next().cloned());
        match value {
            Some(serde_json::Value::Number(n)) => {
                let sym = match op.as_str() {
                    "greater-than" => ">",
                    "greater-than-equals" => "≥",
                    "less-than" => "<",
                    "less-than-equals" => "≤",
                    other => other,
                };
                thresholds.push(ThresholdLine {
                    label: format!("{} {sym} {n}", t.behavior),
                    value: n.as_f64().unwrap_or(0.0),
                });
            }
            Some(serde_json::Value::Array(a)) if op.starts_with("in-") => {
                for m in a {
                    let s = m
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| m.to_string());
                    if !expected.contains(&s) {
                        expected.push(s);
                    }
                }
            }
            _ => {}
        }
    }
    let bands = store
        .violations(Some(thing), false)?
        .into_iter()
        .filter(|v| v.metric.as_deref() == Some(metric))
        .filter_map(|v| {
            let start = v.started?;
            let end = v.ended.unwrap_or(to);
            (end >= from && start <= to).then(|| Band {
                from: start.max(from),
                to: end.min(to),
                open: v.ended.is_none(),
                label: format!("{} ({})", v.behavior, v.security_profile),
            })
        })
        .collect();
    Ok(MetricView {
        thing: thing.to_string(),
        metric: metric.to_string(),
        from,
        to,
        buckets: if is_set {
            Vec::new()
        } else {
            m4(&numeric, from, to, width)
        },
        drift: if is_set {
            drift::intervals(&points)
        } else {
            Vec::new()
        },
        expected,
        markers: if is_set || per.is_some() {
            Vec::new()
        } else {
            markers(&numeric)
        },
        thresholds,
        bands,
        points: points.len(),
        compacted_until: points.iter().filter(|p| p.compacted).map(|p| p.ts).max(),
        per,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_point_spike_survives_any_downsampling() {
        let mut pts: Vec<(Millis, f64)> = (0..8640).map(|i| (i * 300_000, 100.0)).collect();
        pts[4321].1 = 1e9;
        for width in [1, 7, 300, 1000, 8640] {
            let b = m4(&pts, 0, 8639 * 300_000, width);
            assert!(b.len() <= width);
            assert!(b.iter().any(|b| b.max.1 == 1e9), "width {width}");
            assert_eq!(b.iter().map(|b| b.n).sum::<u32>(), 8640);
        }
    }

    #[test]
    fn events_are_counted_per_interval_with_zeros_between() {
        let hour = 3_600_000;
        assert_eq!(event_interval(50 * 60_000), 60_000);
        assert_eq!(event_interval(24 * hour), 900_000);
        assert_eq!(event_interval(7 * 24 * hour), hour);
        assert_eq!(event_interval(400 * 24 * hour), 7 * 24 * hour);
        assert_eq!(event_interval(3000 * 24 * hour), 30 * 24 * hour);
        // Three disconnects at 10:00–10:14, one at 11:59, none in between.
        let events = [
            (10 * hour, 1.0),
            (10 * hour + 60_000, 1.0),
            (10 * hour + 14 * 60_000, 1.0),
            (12 * hour - 1, 1.0),
        ];
        let c = event_counts(&events, 10 * hour, 12 * hour, 900_000);
        assert_eq!(
            c.len(),
            9,
            "8 quarters and the one the window's end falls in"
        );
        assert_eq!(c[0], (10 * hour, 3.0));
        assert_eq!(c[1], (10 * hour + 900_000, 0.0));
        assert_eq!(c[7].1, 1.0);
        assert_eq!(c.iter().map(|p| p.1).sum::<f64>(), 4.0);
        // An unaligned window starts its first bar at the window's start.
        let c = event_counts(&events, 10 * hour + 5 * 60_000, 12 * hour, 900_000);
        assert_eq!(c[0], (10 * hour + 5 * 60_000, 1.0));
        // A huge window cannot make a huge vector.
        assert!(event_counts(&events, 0, i64::MAX / 2, 60_000).len() <= 4 * MAX_BARS as usize);
    }

    #[test]
    fn gaps_and_restarts_are_told_apart_from_zero() {
        let pts = vec![
            (0, 10.0),
            (300, 0.0),
            (600, 11.0),
            (2100, 5000.0),
            (2400, 12.0),
        ];
        let m = markers(&pts);
        assert_eq!(
            m,
            vec![
                Marker::Gap {
                    from: 600,
                    to: 2100
                },
                Marker::AgentRestart {
                    at: 2100,
                    value: 5000.0
                }
            ]
        );
    }
}
