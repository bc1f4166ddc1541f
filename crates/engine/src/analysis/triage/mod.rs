//! Which thing to open first, without AWS Detect.
//!
//! Every numeric series gets a robust baseline of its own — the median and MAD of its hourly
//! means over the window, by hour of day once it has a week of history — and is compared with
//! its fleet peers (the fleet median of the same metric). Set-valued series (listening ports,
//! destination IPs, custom string lists) are compared with the expected set of the security
//! profiles' `in-*-set` behaviors or, failing those, with the thing's own first day in the
//! window. AWS violations add to the score; their absence hides nothing the baselines flag.
//! Each reason is tagged with attack categories ([`Category`]).

use std::collections::BTreeSet;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use fnv::FnvHashMap as HashMap;

use serde::Serialize;

use super::categories::{self, Category, ATTACK_SURFACE_PORTS};
use crate::model::{MetricValue, ValueKind};
use crate::store::chunk::{self, CHUNK_MS};
use crate::store::{SeriesInfo, Store, StoreError, SummaryBatch};
use crate::time::{self, Millis};

const HOUR: Millis = 3_600_000;
const DAY: Millis = 86_400_000;
/// Robust z-score from which an hour counts as anomalous.
const Z_ALERT: f64 = 6.0;
/// Hours of history a series needs before it is judged.
const MIN_HOURS: usize = 6;
/// An anomaly's weight halves every this many hours of age.
const HALF_LIFE_H: f64 = 72.0;

/// One reason a thing is suspicious.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// For people: "bytes out 140× its 7-day median and 95× the fleet median since 14:05".
    pub text: String,
    /// Metric concerned.
    pub metric: String,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// When it started.
    pub since: Millis,
    /// Contribution to the score (before saturation).
    pub weight: f64,
    /// Where it comes from: `baseline`, `fleet`, `expected-set`, `aws-detect`.
    pub source: &'static str,
}

/// One thing in the triage ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Thing name.
    pub thing: String,
    /// Risk score, 0–100.
    pub score: f64,
    /// Reasons, strongest first.
    pub reasons: Vec<Reason>,
    /// All categories of its reasons.
    pub categories: Vec<Category>,
    /// Violations still in alarm.
    pub open_violations: usize,
    /// Newest report.
    pub last_report: Option<Millis>,
}

/// What to rank over.
#[derive(Debug, Clone, Copy)]
pub struct TriageOptions {
    /// Baseline window length.
    pub window: Millis,
    /// End of the window; `None` = the newest datapoint in the cache.
    pub to: Option<Millis>,
}

impl Default for TriageOptions {
    fn default() -> Self {
        Self {
            window: 7 * DAY,
            to: None,
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if v.len() % 2 == 1 {
        m
    } else {
        let lower = v[..mid].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        (lower + m) / 2.0
    }
}

fn hhmm(t: Millis) -> String {
    let s = time::to_rfc3339(t);
    format!("{} {}", &s[5..10], &s[11..16])
}

fn ratio(x: f64, base: f64) -> Option<f64> {
    (base > 0.0 && x.is_finite()).then(|| x / base)
}

fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

fn decay(now: Millis, at: Millis) -> f64 {
    0.5f64.powf(((now - at).max(0) as f64 / HOUR as f64) / HALF_LIFE_H)
}

struct Numeric<'a> {
    info: &'a SeriesInfo,
    hours: Vec<HourStat>,
}

/// One hour of one numeric series, from its chunk summary. There are millions (10,000 things
/// × 4 metrics × 7 days = 6.7 million) and reading them is bound by memory, so 16 bytes each:
/// single precision is ample for a robust z-score and a ratio shown to people.
#[derive(Debug, Clone, Copy)]
struct HourStat {
    /// Hours since the epoch.
    index: i32,
    /// Reports in the hour.
    n: u32,
    /// Mean value.
    mean: f32,
    /// Largest value.
    max: f32,
}

impl HourStat {
    /// Start of the hour.
    fn start(&self) -> Millis {
        i64::from(self.index) * HOUR
    }

    /// Hour of day, UTC.
    fn of_day(&self) -> usize {
        self.index.rem_euclid(24) as usize
    }
}

/// Threads for the summary pass and the baselines.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// Series id → position in the catalog (which is sorted by id): a table when the ids are
/// dense, as SQLite hands them out, else a binary search. Summaries arrive in series order
/// within a day, so either walks memory forwards, unlike a hash map.
struct Positions<'a> {
    catalog: &'a [SeriesInfo],
    table: Vec<u32>,
}

impl<'a> Positions<'a> {
    fn new(catalog: &'a [SeriesInfo]) -> Self {
        let dense = catalog.first().is_some_and(|s| s.id >= 0)
            && catalog
                .last()
                .and_then(|s| usize::try_from(s.id).ok())
                .is_some_and(|max| max <= 4 * catalog.len() + 1024)
            && u32::try_from(catalog.len()).is_ok();
        let mut table = Vec::new();
        if dense {
            let max = catalog.last().map_or(0, |s| s.id as usize);
            table = vec![u32::MAX; max + 1];
            for (i, s) in catalog.iter().enumerate() {
                table[s.id as usize] = i as u32;
            }
        }
        Self { catalog, table }
    }

    fn get(&self, id: i64) -> Option<usize> {
        if self.table.is_empty() {
            self.catalog.binary_search_by_key(&id, |s| s.id).ok()
        } else {
            let p = *self.table.get(usize::try_from(id).ok()?)?;
            (p != u32::MAX).then_some(p as usize)
        }
    }
}

/// The sets a set-valued series reported in the window: its kind and (set id, first seen).
type Sightings = (ValueKind, Vec<(i64, Millis)>);

/// What one worker of the summary pass gathered.
#[derive(Default)]
struct Shard<'a> {
    /// Numeric series by catalog position / worker count.
    numeric: Vec<Option<Numeric<'a>>>,
    fleet: HashMap<&'a str, Vec<f64>>,
    sets: HashMap<i64, Sightings>,
}

/// The read-only context of the summary pass.
struct Gather<'a> {
    positions: &'a Positions<'a>,
    stride: &'a HashMap<&'a str, i64>,
    from: Millis,
    to: Millis,
    window_hours: usize,
}

impl<'a> Gather<'a> {
    /// Decodes the summaries of the series `w` owns (catalog position ≡ w mod `workers`) from
    /// every batch.
    fn shard(
        &self,
        rx: &Receiver<Arc<SummaryBatch>>,
        w: usize,
        workers: usize,
    ) -> Result<Shard<'a>, StoreError> {
        let (from, to) = (self.from, self.to);
        let catalog = self.positions.catalog;
        let mut shard = Shard::default();
        shard
            .numeric
            .resize_with(catalog.len().div_ceil(workers), || None);
        let mut summary = chunk::Summary::default();
        for batch in rx {
            for (series, day, blob) in batch.iter() {
                let Some(pos) = self.positions.get(series) else {
                    continue;
                };
                if pos % workers != w {
                    continue;
                }
                let info = &catalog[pos];
                chunk::decode_summary_into(blob, &mut summary).ok_or_else(|| {
                    StoreError::Corrupt(format!("summary of series {series} day {day}"))
                })?;
                if !summary.hours.is_empty() {
                    let k = self.stride.get(info.metric.as_str()).copied().unwrap_or(1);
                    // The fleet sample: hours whose (series + hours since the epoch) is a
                    // multiple of k, as a bit mask over this day's 24 hours.
                    let mut sampled = 0u32;
                    let mut h = (k - (series + day * 24).rem_euclid(k)) % k;
                    while h < 24 {
                        sampled |= 1 << h;
                        h += k;
                    }
                    let fleet = shard.fleet.entry(info.metric.as_str()).or_default();
                    let n = shard.numeric[pos / workers].get_or_insert_with(|| Numeric {
                        info,
                        hours: Vec::with_capacity(self.window_hours.min(8 * 24)),
                    });
                    for &(h, count, mean, max) in &summary.hours {
                        let hour = day * CHUNK_MS + i64::from(h) * HOUR;
                        if hour + HOUR > from && hour <= to {
                            if sampled >> h & 1 == 1 {
                                fleet.push(mean);
                            }
                            n.hours.push(HourStat {
                                index: i32::try_from(hour / HOUR).unwrap_or(i32::MAX),
                                n: count,
                                mean: mean as f32,
                                max: max as f32,
                            });
                        }
                    }
                }
                if let Some(kind) =
                    ValueKind::from_code(i64::from(summary.set_kind)).filter(|k| k.is_set())
                {
                    let e = shard.sets.entry(series).or_insert((kind, Vec::new()));
                    for &(id, first, last) in &summary.sets {
                        if last >= from && first <= to {
                            e.1.push((id, first));
                        }
                    }
                }
            }
        }
        Ok(shard)
    }
}

/// The longest triage window: a year (memory grows with the hours a window holds data for).
pub const MAX_WINDOW: Millis = 366 * DAY;

/// Ranks every thing in the cache, most suspicious first (a window is taken within an hour and
/// [`MAX_WINDOW`]).
pub fn rank(store: &Store, opts: TriageOptions) -> Result<Vec<Ranked>, StoreError> {
    let catalog = store.series_catalog()?;
    let newest = catalog.iter().filter_map(|s| s.last_ts).max();
    // Never past now: one future-dated point must not move the window (and zero the fleet).
    let Some(to) = opts.to.or(newest.map(|n| n.min(crate::time::now()))) else {
        return Ok(Vec::new());
    };
    let window = opts.window.clamp(HOUR, MAX_WINDOW);
    let from = to.saturating_sub(window);
    let positions = Positions::new(&catalog);

    // One pass over the chunk summaries. The cache reads them on this thread while the
    // workers decode them, each worker owning the series whose catalog position is its number
    // modulo the worker count: numeric hours per series, fleet values per metric, set sightings.
    let mut per_metric: HashMap<&str, usize> = HashMap::default();
    for s in &catalog {
        *per_metric.entry(s.metric.as_str()).or_default() += 1;
    }
    let window_hours = (window / HOUR).max(1) as usize + 24;
    // The fleet median of a metric is taken over at most ~256k hourly values: every k-th hour.
    let stride: HashMap<&str, i64> = per_metric
        .into_iter()
        .map(|(m, n)| (m, (n * window_hours / (1 << 18)).max(1) as i64))
        .collect();
    let gather = Gather {
        positions: &positions,
        stride: &stride,
        from,
        to,
        window_hours,
    };
    let workers = workers();
    let shards: Vec<Shard> = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<SummaryBatch>>(4);
            senders.push(tx);
            let gather = &gather;
            handles.push(scope.spawn(move || gather.shard(&rx, w, workers)));
        }
        let read = store.summary_batches(from, to, 4096, |batch| {
            let batch = Arc::new(batch);
            for tx in &senders {
                // A worker that stopped has an error to report below.
                let _ = tx.send(Arc::clone(&batch));
            }
        });
        drop(senders);
        let shards: Result<Vec<Shard>, StoreError> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        read.and(shards)
    })?;
    let mut numeric: Vec<Numeric> = Vec::new();
    let mut fleet_values: HashMap<&str, Vec<f64>> = HashMap::default();
    let mut by_series: Vec<(i64, Sightings)> = Vec::new();
    for shard in shards {
        numeric.extend(shard.numeric.into_iter().flatten());
        for (metric, values) in shard.fleet {
            fleet_values.entry(metric).or_default().extend(values);
        }
        by_series.extend(shard.sets);
    }
    // Set sightings in series order, whatever the worker count.
    by_series.sort_unstable_by_key(|(series, _)| *series);
    let fleet_median: HashMap<&str, f64> = fleet_values
        .into_iter()
        .map(|(m, mut v)| (m, median(&mut v)))
        .collect();

    let mut reasons: HashMap<&str, Vec<Reason>> = HashMap::default();
    // Baselines are independent per series: spread them over the cores.
    let mut all: Vec<&mut Numeric> = numeric.iter_mut().collect();
    let per = all.len().div_ceil(workers).max(1);
    let fleet_median = &fleet_median;
    let found: Vec<(&str, Anomaly)> = std::thread::scope(|scope| {
        let handles: Vec<_> = all
            .chunks_mut(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter_mut()
                        .filter_map(|n| {
                            let fleet = fleet_median.get(n.info.metric.as_str()).copied();
                            numeric_reason(n, to, from, fleet).map(|a| (n.info.thing.as_str(), a))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (thing, mut a) in found {
        refine(store, thing, &mut a)?;
        reasons.entry(thing).or_default().push(a.reason);
    }

    // Set-valued series.
    let thresholds = store.thresholds(None)?;
    let mut members_cache: HashMap<(u8, i64), MetricValue> = HashMap::default();
    for (series, (kind, mut sightings)) in by_series {
        let Some(info) = positions.get(series).map(|p| &catalog[p]) else {
            continue;
        };
        sightings.sort_by_key(|s| s.1);
        let mut members = Vec::new();
        for (id, first) in &sightings {
            let v = match members_cache.get(&(kind as u8, *id)) {
                Some(v) => v.clone(),
                None => {
                    let v = store.set_value(kind, *id)?;
                    members_cache.insert((kind as u8, *id), v.clone());
                    v
                }
            };
            members.push((*first, v));
        }
        let expected: Option<BTreeSet<String>> = {
            let sets: Vec<&serde_json::Value> = thresholds
                .iter()
                .filter(|t| t.metric.as_deref() == Some(info.metric.as_str()))
                .filter(|t| {
                    matches!(
                        t.operator.as_deref(),
                        Some("in-port-set" | "in-cidr-set" | "in-set")
                    )
                })
                .filter_map(|t| t.value.as_ref())
                .collect();
            (!sets.is_empty()).then(|| {
                sets.iter()
                    .filter_map(|v| v.as_object().and_then(|o| o.values().next()))
                    .filter_map(|v| v.as_array())
                    .flatten()
                    .map(member_key)
                    .collect()
            })
        };
        reasons
            .entry(info.thing.as_str())
            .or_default()
            .extend(set_reasons(info, &members, expected.as_ref(), to));
    }

    // AWS Detect violations.
    let things_by_name: HashMap<&str, &str> = catalog
        .iter()
        .map(|s| (s.thing.as_str(), s.thing.as_str()))
        .collect();
    let mut open: HashMap<String, usize> = HashMap::default();
    for v in store.violations(None, false)? {
        let end = v.ended.unwrap_or(to);
        if end < from {
            continue;
        }
        let started = v.started.unwrap_or(end);
        let metric = v.metric.clone().unwrap_or_default();
        let (weight, text) = if v.ended.is_none() {
            *open.entry(v.thing.clone()).or_default() += 1;
            (
                25.0,
                format!(
                    "AWS Detect: {} ({}) in alarm since {}",
                    v.behavior,
                    metric,
                    hhmm(started)
                ),
            )
        } else {
            (
                12.0 * decay(to, end),
                format!(
                    "AWS Detect: {} ({}) alarmed {} – {}",
                    v.behavior,
                    metric,
                    hhmm(started),
                    hhmm(end)
                ),
            )
        };
        if let Some(thing) = things_by_name.get(v.thing.as_str()).copied() {
            reasons.entry(thing).or_default().push(Reason {
                text,
                categories: categories::for_metric(&metric),
                metric,
                since: started,
                weight,
                source: "aws-detect",
            });
        }
    }

    let mut last_report: HashMap<&str, Millis> = HashMap::default();
    for s in &catalog {
        if let Some(t) = s.last_ts {
            let e = last_report.entry(s.thing.as_str()).or_insert(t);
            *e = (*e).max(t);
        }
    }
    let mut things: Vec<&str> = last_report.keys().copied().collect();
    things.sort_unstable();
    let mut ranked: Vec<Ranked> = things
        .into_iter()
        .map(|thing| {
            let mut rs = reasons.remove(thing).unwrap_or_default();
            rs.sort_by(|a, b| {
                b.weight
                    .total_cmp(&a.weight)
                    .then_with(|| a.text.cmp(&b.text))
            });
            let total: f64 = rs.iter().map(|r| r.weight).sum();
            let categories: BTreeSet<Category> = rs
                .iter()
                .flat_map(|r| r.categories.iter().copied())
                .collect();
            Ranked {
                thing: thing.to_string(),
                score: (1000.0 * (1.0 - (-total / 40.0).exp())).round() / 10.0,
                reasons: rs,
                categories: categories.into_iter().collect(),
                open_violations: open.get(thing).copied().unwrap_or(0),
                last_report: last_report.get(thing).copied(),
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.thing.cmp(&b.thing))
    });
    Ok(ranked)
}

fn member_key(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn members_of(v: &MetricValue) -> Vec<String> {
    match v
        .to_json()
        .as_object()
        .and_then(|o| o.values().next().cloned())
    {
        Some(serde_json::Value::Array(a)) => a.iter().map(member_key).collect(),
        _ => Vec::new(),
    }
}

/// A numeric anomaly: the reason, and what is needed to find its first report.
struct Anomaly {
    reason: Reason,
    dim: String,
    base: f64,
    scale: f64,
    high: bool,
}

fn numeric_reason(
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
        // One sort by (hour of day, value), then the middle of each run.
        let mut pairs: Vec<(usize, f64)> = n
            .hours
            .iter()
            .map(|h| (h.of_day(), f64::from(h.mean)))
            .collect();
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            if run.len() >= 3 {
                let mid = run.len() / 2;
                let m = if run.len() % 2 == 1 {
                    run[mid].1
                } else {
                    (run[mid - 1].1 + run[mid].1) / 2.0
                };
                by_hod[run[0].0] = m;
            }
        }
    }
    // Counts are whole numbers: a deviation under one unit is noise, whatever the MAD says
    // (an authorization-failure series that is almost always 0 has a MAD of 0).
    let counts = n.hours.iter().all(|h| f64::from(h.max).fract() == 0.0);
    let floor = if counts { 1.0 } else { 1e-9 };
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
                "counter-restart"
            } else if fleet.is_some() {
                "baseline+fleet"
            } else {
                "baseline"
            },
        },
        dim: n.info.dim.clone(),
        base,
        scale,
        high: peak_z > 0.0,
    })
}

/// Narrows an anomaly's start from its hour to its first anomalous report.
fn refine(store: &Store, thing: &str, a: &mut Anomaly) -> Result<(), StoreError> {
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

fn set_reasons(
    info: &SeriesInfo,
    sightings: &[(Millis, MetricValue)],
    expected: Option<&BTreeSet<String>>,
    to: Millis,
) -> Vec<Reason> {
    let Some((first_t, _)) = sightings.first() else {
        return Vec::new();
    };
    // Without an expected set from the profiles, the thing's own first day in the window.
    let baseline: BTreeSet<String> = match expected {
        Some(e) => e.clone(),
        None => sightings
            .iter()
            .filter(|(t, _)| *t < first_t + DAY)
            .flat_map(|(_, v)| members_of(v))
            .collect(),
    };
    let mut new: Vec<(String, Millis)> = Vec::new();
    for (t, v) in sightings {
        for m in members_of(v) {
            if !baseline.contains(&m) && !new.iter().any(|(x, _)| *x == m) {
                new.push((m, *t));
            }
        }
    }
    if new.is_empty() {
        return Vec::new();
    }
    let against = if expected.is_some() {
        "not in its expected set"
    } else {
        "not in its baseline"
    };
    let metric = info.metric.as_str();
    let cats = categories::for_metric(metric);
    let mut out = Vec::new();
    if metric.contains("ports") {
        let proto = if metric.contains("udp") { "UDP" } else { "TCP" };
        for (m, t) in &new {
            let port: i64 = m.parse().unwrap_or(-1);
            let surface = ATTACK_SURFACE_PORTS.contains(&port);
            out.push(Reason {
                text: format!(
                    "{proto} {m} opened {}, {against}{}",
                    hhmm(*t),
                    if surface {
                        " (attack-surface port)"
                    } else {
                        ""
                    }
                ),
                metric: metric.to_string(),
                categories: cats.clone(),
                since: *t,
                weight: if surface { 40.0 } else { 20.0 } * decay(to, *t).max(0.5),
                source: if expected.is_some() {
                    "expected-set"
                } else {
                    "baseline"
                },
            });
        }
    } else {
        let since = new.iter().map(|(_, t)| *t).min().unwrap_or(to);
        let sample: Vec<&str> = new.iter().take(3).map(|(m, _)| m.as_str()).collect();
        let what = match metric {
            "aws:destination-ip-addresses" => "destination IPs".to_string(),
            "aws:source-ip-address" => "source IPs".to_string(),
            m => format!("values of {}", categories::metric_label(m)),
        };
        out.push(Reason {
            text: format!(
                "{} new {what} since {}, {against} (e.g. {})",
                new.len(),
                hhmm(since),
                sample.join(", ")
            ),
            metric: metric.to_string(),
            categories: cats,
            since,
            weight: (4.0 * new.len() as f64).min(45.0) * decay(to, since),
            source: if expected.is_some() {
                "expected-set"
            } else {
                "baseline"
            },
        });
    }
    out
}
