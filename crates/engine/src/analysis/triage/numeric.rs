//! Numeric series against their own robust baseline and against their peers.

use super::{
    decay, fmt_ratio, hhmm, median, ratio, HourStat, Numeric, Reason, ReasonSource, DAY, HOUR,
    MIN_HOURS, PEER_RATIO, Z_ALERT,
};
use crate::analysis::categories;
use crate::analysis::peers::{self, PeerStat};
use crate::model::MetricValue;
use crate::store::{Store, StoreError};
use crate::time::Millis;

/// A numeric anomaly: the reason, and what is needed to find its first report.
pub(super) struct Anomaly {
    pub(super) reason: Reason,
    dim: String,
    base: f64,
    scale: f64,
    pub(super) high: bool,
}

pub(super) fn numeric_reason(
    n: &mut Numeric,
    to: Millis,
    from: Millis,
    fleet: Option<f64>,
) -> Option<Anomaly> {
    if n.hours.len() < MIN_HOURS {
        return None;
    }
    // Summaries arrive in day order, so this is usually already sorted.
    if !n.hours.is_sorted_by_key(|h| h.index) {
        n.hours.sort_by_key(|h| h.index);
    }
    let mut values: Vec<f64> = n.hours.iter().map(|h| f64::from(h.mean)).collect();
    let med = median(&mut values);
    let mut dev: Vec<f64> = n
        .hours
        .iter()
        .map(|h| (f64::from(h.mean) - med).abs())
        .collect();
    let mad = median(&mut dev);
    // Hour-of-day seasonality once the series has a week of history.
    let seasonal = n.info.first_ts.is_some_and(|f| f <= to - 7 * DAY) && from <= to - 7 * DAY;
    let mut by_hod = [f64::NAN; 24];
    if seasonal {
        // The values grouped by hour of day (a counting sort), then each group's median.
        let mut starts = [0usize; 25];
        for h in &n.hours {
            starts[h.of_day() + 1] += 1;
        }
        for d in 0..24 {
            starts[d + 1] += starts[d];
        }
        let mut next = starts;
        let mut grouped = vec![0f64; n.hours.len()];
        for h in &n.hours {
            grouped[next[h.of_day()]] = f64::from(h.mean);
            next[h.of_day()] += 1;
        }
        for (d, m) in by_hod.iter_mut().enumerate() {
            let run = &mut grouped[starts[d]..starts[d + 1]];
            if run.len() >= 3 {
                *m = median(run);
            }
        }
    }
    // Counts are whole numbers: a deviation under one unit is noise, whatever the MAD says
    // (an authorization-failure series that is almost always 0 has a MAD of 0).
    let floor = if n.whole { 1.0 } else { 1e-9 };
    let scale = (1.4826 * mad).max(0.05 * med.abs()).max(floor);
    let z_of = |h: &HourStat| {
        let base = Some(by_hod[h.of_day()])
            .filter(|b| !b.is_nan())
            .unwrap_or(med);
        (f64::from(h.mean) - base) / scale
    };
    let (peak_i, peak_z) = n
        .hours
        .iter()
        .enumerate()
        .map(|(i, h)| (i, z_of(h)))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    if peak_z.abs() < Z_ALERT {
        return None;
    }
    // The anomalous run containing the peak: when it started.
    let mut start = peak_i;
    while start > 0
        && n.hours[start - 1].index == n.hours[start].index - 1
        && z_of(&n.hours[start - 1]).signum() == peak_z.signum()
        && z_of(&n.hours[start - 1]).abs() >= Z_ALERT
    {
        start -= 1;
    }
    let peak = &n.hours[peak_i];
    let since = n.hours[start].start();
    let label = categories::metric_label(&n.info.metric);
    let days = ((to - from) as f64 / DAY as f64).round() as i64;
    // A lone anomalous hour with a missing report whose excess is one report: the first delta
    // after an agent restart counts everything since boot. Say so, and weigh it little.
    let mut counts: Vec<f64> = n.hours.iter().map(|h| f64::from(h.n)).collect();
    let usual = median(&mut counts);
    let restart = start == peak_i
        && (peak_i + 1 == n.hours.len() || z_of(&n.hours[peak_i + 1]).abs() < Z_ALERT)
        && f64::from(peak.n) < usual
        && peak_z > 0.0
        && f64::from(peak.max) >= 0.8 * f64::from(peak.mean) * f64::from(peak.n);
    let text = if restart {
        format!(
            "{label}: one huge report after a missing one at {} (agent restart? network stats are deltas since the last report)",
            hhmm(since)
        )
    } else if peak_z > 0.0 {
        let mut parts = Vec::new();
        if let Some(r) = ratio(f64::from(peak.mean), med) {
            parts.push(format!("{} its {days}-day median", fmt_ratio(r)));
        }
        if let Some(r) = fleet.and_then(|f| ratio(f64::from(peak.mean), f)) {
            if r >= 2.0 {
                parts.push(format!("{} the fleet median", fmt_ratio(r)));
            }
        }
        if parts.is_empty() {
            parts.push(format!(
                "{peak_z:.0} robust deviations above its {days}-day median"
            ));
        }
        format!("{label} {} since {}", parts.join(" and "), hhmm(since))
    } else {
        format!(
            "{label} fell to {:.1} (its {days}-day median {:.1}) since {}",
            f64::from(peak.mean),
            med,
            hhmm(since)
        )
    };
    let base = Some(by_hod[(since.rem_euclid(DAY) / HOUR) as usize])
        .filter(|b| !b.is_nan())
        .unwrap_or(med);
    Some(Anomaly {
        reason: Reason {
            text,
            metric: n.info.metric.clone(),
            categories: categories::for_metric(&n.info.metric),
            since,
            weight: peak_z.abs().min(60.0)
                * decay(to, peak.start())
                * if restart { 0.1 } else { 1.0 },
            source: if restart {
                ReasonSource::CounterRestart
            } else if fleet.is_some() {
                ReasonSource::BaselineFleet
            } else {
                ReasonSource::Baseline
            },
        },
        dim: n.info.dim.clone(),
        base,
        scale,
        high: peak_z > 0.0,
    })
}

/// Narrows an anomaly's start from its hour to its first anomalous report.
pub(super) fn refine(store: &Store, thing: &str, a: &mut Anomaly) -> Result<(), StoreError> {
    let r = &mut a.reason;
    let points = store.series(thing, &r.metric, Some(&a.dim), r.since, r.since + HOUR - 1)?;
    let first = points.iter().find(|p| {
        let v = match p.value {
            MetricValue::Count(c) => c as f64,
            MetricValue::Number(x) => x,
            _ => return false,
        };
        let z = (v - a.base) / a.scale;
        if a.high {
            z >= Z_ALERT
        } else {
            z <= -Z_ALERT
        }
    });
    if let Some(p) = first {
        r.text = r.text.replace(&hhmm(r.since), &hhmm(p.ts));
        r.since = p.ts;
    }
    Ok(())
}

/// A numeric series well above its peers in one of the last hours.
pub(super) struct PeerHit {
    /// Start of the hour.
    hour: Millis,
    /// The series' mean that hour.
    mean: f64,
    /// Its peers' statistics that hour.
    pub(super) stat: PeerStat,
    /// mean / peers' median.
    pub(super) ratio: f64,
    /// Robust deviations above the peers.
    z: f64,
}

/// The hour since `recent` (hours since the epoch) in which the series stands highest above
/// its peers, if it is [`PEER_RATIO`] times their median and [`Z_ALERT`] deviations above.
pub(super) fn peer_hit(
    n: &Numeric,
    recent: i64,
    stat: impl Fn(i64) -> Option<PeerStat>,
) -> Option<PeerHit> {
    n.hours
        .iter()
        .filter(|h| i64::from(h.index) >= recent)
        .filter_map(|h| {
            let stat = stat(i64::from(h.index))?;
            let mean = f64::from(h.mean);
            let ratio = ratio(mean, stat.median)?;
            let z = (mean - stat.median) / stat.scale;
            (ratio >= PEER_RATIO && z >= Z_ALERT).then_some(PeerHit {
                hour: h.start(),
                mean,
                stat,
                ratio,
                z,
            })
        })
        .max_by(|a, b| a.z.total_cmp(&b.z))
}

/// A young series judged by its peers alone: says so, and how much history it had.
pub(super) fn peer_reason(n: &Numeric, to: Millis, basis: &peers::Basis, hit: &PeerHit) -> Anomaly {
    let label = categories::metric_label(&n.info.metric);
    let history = n.info.first_ts.map_or(0, |f| to - f);
    Anomaly {
        reason: Reason {
            text: format!(
                "{label} {} the median of its {} peers ({}) since {} ({} of history: compared with peers only)",
                fmt_ratio(hit.ratio),
                hit.stat.n - 1,
                basis.describe(),
                hhmm(hit.hour),
                peers::history(history)
            ),
            metric: n.info.metric.clone(),
            categories: categories::for_metric(&n.info.metric),
            since: hit.hour,
            weight: hit.z.min(45.0) * decay(to, hit.hour),
            source: ReasonSource::Peers,
        },
        dim: n.info.dim.clone(),
        base: hit.stat.median,
        scale: hit.stat.scale,
        high: hit.mean > hit.stat.median,
    }
}
