//! Which thing to open first, without AWS Detect — from the first report on.
//!
//! Every numeric series is compared with its peers ([`super::peers`]: its thing group, name
//! family or the fleet) over the last hours, which needs no history of its own, and — once it
//! has [`MIN_HOURS`] hours — with a robust baseline of its own: the median and MAD of its hourly
//! means over the window, by hour of day once it has a week of history. Set-valued series
//! (listening ports, destination IPs, custom string lists) are compared with the expected set of
//! the security profiles' `in-*-set` behaviors or, failing those, with the thing's own first
//! sightings, and with what its peers report; risky attack-surface ports count from the first
//! report they appear in. AWS violations add to the score but never decide alone. Every reason
//! says what it was compared with; each is tagged with attack categories ([`Category`]).
//!
//! [`rank`] reads the cache's hourly summaries once ([`summary_pass`]) and then runs one stage
//! per kind of signal (numeric, sets, Detect) before scoring; the peer comparison lives in
//! [`super::peers`], the categories in [`super::categories`].

use std::collections::BTreeSet;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use fnv::FnvHashMap as HashMap;

use serde::Serialize;

use super::categories::{self, Category};
use super::peers::{self, HourlyPeers, PeerGroups, SetPeers, MIN_PEERS};

mod numeric;
mod reason_source;
mod screen;
mod sets;
use crate::model::{MetricValue, ValueKind};
use crate::store::chunk::{self, CHUNK_MS};
use crate::store::{SeriesInfo, Store, StoreError, SummaryBatch};
use crate::time::{self, Millis};
use numeric::{numeric_reason, peer_hit, peer_reason, refine, Anomaly};
pub use reason_source::ReasonSource;
use screen::screen_reasons;
use sets::{set_reasons, SetView};

use crate::time::{DAY, HOUR};
/// Robust z-score from which an hour counts as anomalous.
const Z_ALERT: f64 = 6.0;
/// Hours of history a series needs before it is judged.
const MIN_HOURS: usize = 6;
/// An anomaly's weight halves every this many hours of age.
const HALF_LIFE_H: f64 = 72.0;
/// Hours (ending at the window's end) over which numeric series are compared with their peers.
const PEER_HOURS: i64 = 6;
/// How many times its peers' median a value must be to count.
const PEER_RATIO: f64 = 5.0;

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
    /// What it was compared with.
    pub source: ReasonSource,
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
    /// Every hour's largest value is a whole number: a count, whose deviations under one unit
    /// are noise.
    whole: bool,
}

/// `x` is a whole number (as the cast, not `f64::fract`: that is a libm call per hour).
fn is_whole(x: f64) -> bool {
    // From 2^52 on every f64 is whole (and the cast would saturate).
    x.is_finite() && (x.abs() >= 4_503_599_627_370_496.0 || x as i64 as f64 == x)
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

/// Threads for the summary pass and the baselines. The summary pass is a pipeline, not a pool
/// of independent jobs: one reader streams the cache's summary batches to every worker through
/// bounded channels (each keeps its shard of series), so memory stays flat whatever the fleet —
/// which rayon's data-parallel iterators do not model; the baselines use rayon.
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

/// The sets a set-valued series reported in the window: its kind and (set id, first seen, last
/// seen).
type Sightings = (ValueKind, Vec<(i64, Millis, Millis)>);

/// The same with each set's members: (first seen, last seen, set).
type SetsSeen = Vec<(Millis, Millis, MetricValue)>;

/// What one worker of the summary pass gathered.
#[derive(Default)]
struct Shard<'a> {
    /// Numeric series by catalog position / worker count.
    numeric: Vec<Option<Numeric<'a>>>,
    fleet: HashMap<&'a str, Vec<f64>>,
    sets: HashMap<i64, Sightings>,
}

/// The read-only context of the summary pass.
struct Gather<'g, 'a> {
    positions: &'g Positions<'a>,
    stride: &'g HashMap<&'g str, i64>,
    from: Millis,
    to: Millis,
    window_hours: usize,
}

impl<'a> Gather<'_, 'a> {
    /// Hours a series can have in the window: the part of the window it reported in, so a
    /// fleet of young series does not reserve a week each (capped at 8 days: longer windows
    /// grow the vector).
    fn hours_of(&self, info: &SeriesInfo) -> usize {
        let (Some(first), Some(last)) = (info.first_ts, info.last_ts) else {
            return 24;
        };
        let span = last.min(self.to) - first.max(self.from);
        (span.max(0) / HOUR + 2)
            .min(self.window_hours as i64)
            .min(8 * 24) as usize
    }

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
                chunk::decode_summary_into(blob, day, &mut summary).ok_or_else(|| {
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
                        hours: Vec::with_capacity(self.hours_of(info)),
                        whole: true,
                    });
                    for hs in &summary.hours {
                        let (h, count, mean, max) = (hs.hour, hs.count, hs.mean(), hs.max);
                        let hour = day * CHUNK_MS + i64::from(h) * HOUR;
                        if hour + HOUR > from && hour <= to {
                            if sampled >> h & 1 == 1 {
                                fleet.push(mean);
                            }
                            n.whole &= is_whole(max);
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
                            e.1.push((id, first, last));
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
/// [`MAX_WINDOW`]): one pass over the hourly summaries, then one stage per kind of signal.
pub fn rank(store: &Store, opts: TriageOptions) -> Result<Vec<Ranked>, StoreError> {
    let catalog = store.series_catalog()?;
    let (from, to) = window_of(&catalog, &opts);
    let positions = Positions::new(&catalog);
    let Pass {
        mut numeric,
        fleet_median,
        by_series,
    } = summary_pass(store, &catalog, &positions, from, to)?;
    let screened = store.screen_evidence()?;
    let mut names = thing_names(&catalog);
    let screened_things: fnv::FnvHashSet<&str> =
        screened.iter().map(|e| e.evidence.thing.as_str()).collect();
    names.extend(screened_things.iter().copied());
    names.sort_unstable();
    names.dedup();
    let peer_groups = PeerGroups::assign(
        &names,
        &store.all_thing_groups()?,
        &store.all_thing_types()?,
    );
    let mut reasons: HashMap<&str, Vec<Reason>> = HashMap::default();
    numeric_reasons(
        store,
        &mut numeric,
        &fleet_median,
        &peer_groups,
        (from, to),
        &mut reasons,
    )?;
    let set_series = set_members(store, &catalog, &positions, by_series)?;
    set_series_reasons(store, &set_series, &peer_groups, to, &mut reasons)?;
    let open = detect_reasons(store, &names, from, to, &mut reasons)?;
    screen_reasons(&screened, to, &mut reasons);
    Ok(ranked(&catalog, &names, &screened_things, reasons, &open))
}

/// The window triage judges: ending at `opts.to` or the newest point (never past now: one
/// future-dated point must not move the window and zero the fleet).
fn window_of(catalog: &[SeriesInfo], opts: &TriageOptions) -> (Millis, Millis) {
    let newest = catalog.iter().filter_map(|s| s.last_ts).max();
    // A cache holding only a fleet screen's candidates has no points: its window ends now.
    let to = opts
        .to
        .or(newest.map(|n| n.min(crate::time::now())))
        .unwrap_or_else(crate::time::now);
    let window = opts.window.clamp(HOUR, MAX_WINDOW);
    (to.saturating_sub(window), to)
}

/// What the summary pass gathered, merged over its workers.
struct Pass<'a> {
    numeric: Vec<Numeric<'a>>,
    /// Per metric, the fleet's median hourly mean (over a sample of at most ~256k hours).
    fleet_median: HashMap<&'a str, f64>,
    /// Set sightings per series id, in series order whatever the worker count.
    by_series: Vec<(i64, Sightings)>,
}

/// One pass over the chunk summaries. The cache reads them on this thread while the workers
/// decode them, each worker owning the series whose catalog position is its number modulo the
/// worker count: numeric hours per series, fleet values per metric, set sightings.
fn summary_pass<'a>(
    store: &Store,
    catalog: &'a [SeriesInfo],
    positions: &Positions<'a>,
    from: Millis,
    to: Millis,
) -> Result<Pass<'a>, StoreError> {
    let mut per_metric: HashMap<&str, usize> = HashMap::default();
    for s in catalog {
        *per_metric.entry(s.metric.as_str()).or_default() += 1;
    }
    let window_hours = ((to - from) / HOUR).max(1) as usize + 24;
    // The fleet median of a metric is taken over at most ~256k hourly values: every k-th hour.
    let stride: HashMap<&str, i64> = per_metric
        .into_iter()
        .map(|(m, n)| (m, (n * window_hours / (1 << 18)).max(1) as i64))
        .collect();
    let gather = Gather {
        positions,
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
    by_series.sort_unstable_by_key(|(series, _)| *series);
    let fleet_median = fleet_values
        .into_iter()
        .map(|(m, mut v)| (m, median(&mut v)))
        .collect();
    Ok(Pass {
        numeric,
        fleet_median,
        by_series,
    })
}

/// Each thing once (a thing has several series), sorted: a set first, so the sort is over
/// things, not series.
fn thing_names(catalog: &[SeriesInfo]) -> Vec<&str> {
    let mut names: Vec<&str> = catalog
        .iter()
        .map(|s| s.thing.as_str())
        .collect::<fnv::FnvHashSet<&str>>()
        .into_iter()
        .collect();
    names.sort_unstable();
    names
}

/// Numeric series: each against its peers' hourly statistics over the last [`PEER_HOURS`] hours
/// and, with enough history, its own baseline and the fleet's median; then lifecycle bursts.
fn numeric_reasons<'a>(
    store: &Store,
    numeric: &mut [Numeric<'a>],
    fleet_median: &HashMap<&'a str, f64>,
    peer_groups: &PeerGroups,
    (from, to): (Millis, Millis),
    reasons: &mut HashMap<&'a str, Vec<Reason>>,
) -> Result<(), StoreError> {
    let recent = to / HOUR - PEER_HOURS;
    let mut hourly: HashMap<(&str, &str), (HourlyPeers, bool)> = HashMap::default();
    for n in numeric.iter() {
        let Some(g) = peer_groups.of(&n.info.thing) else {
            continue;
        };
        let e = hourly
            .entry((n.info.metric.as_str(), n.info.dim.as_str()))
            .or_insert_with(|| (HourlyPeers::default(), true));
        e.1 &= n.whole;
        for h in &n.hours {
            if i64::from(h.index) >= recent {
                e.0.add(g, i64::from(h.index), f64::from(h.mean));
            }
        }
    }
    for (peers, counts) in hourly.values_mut() {
        peers.finish(*counts);
    }
    let hourly = &hourly;
    // Baselines are independent per series: spread them over the cores.
    let found: Vec<(&str, Anomaly)> = {
        use rayon::prelude::*;
        numeric
            .par_iter_mut()
            .with_min_len(64)
            .filter_map(|n| {
                let fleet = fleet_median.get(n.info.metric.as_str()).copied();
                let peer = peer_groups.of(&n.info.thing).and_then(|g| {
                    let stats = &hourly
                        .get(&(n.info.metric.as_str(), n.info.dim.as_str()))?
                        .0;
                    peer_hit(n, recent, |hour| stats.get(g, hour))
                        .map(|hit| (peer_groups.basis(g), hit))
                });
                let young = n.hours.len() < MIN_HOURS;
                match (numeric_reason(n, to, from, fleet), peer) {
                    (Some(mut a), Some((basis, hit)))
                        if *basis != peers::Basis::Fleet
                            && a.high
                            && a.reason.source != ReasonSource::CounterRestart =>
                    {
                        let peers = format!(
                            " and {} the median of its {} peers ({}) since ",
                            fmt_ratio(hit.ratio),
                            hit.stat.n - 1,
                            basis.describe()
                        );
                        a.reason.text = a.reason.text.replacen(" since ", &peers, 1);
                        a.reason.source = ReasonSource::BaselinePeers;
                        Some(a)
                    }
                    (Some(a), _) => Some(a),
                    (None, Some((basis, hit))) if young => Some(peer_reason(n, to, basis, &hit)),
                    (None, _) => None,
                }
                .map(|a| (n.info.thing.as_str(), a))
            })
            .collect()
    };
    for (thing, mut a) in found {
        refine(store, thing, &mut a)?;
        reasons.entry(thing).or_default().push(a.reason);
    }
    // Lifecycle events: a burst of disconnects of one telling reason in a clock hour.
    for n in numeric.iter() {
        if let Some(r) = lifecycle_reason(n, to) {
            reasons.entry(n.info.thing.as_str()).or_default().push(r);
        }
    }
    Ok(())
}

/// Each set series' sightings with their members, read once per distinct set.
fn set_members<'a>(
    store: &Store,
    catalog: &'a [SeriesInfo],
    positions: &Positions<'_>,
    by_series: Vec<(i64, Sightings)>,
) -> Result<Vec<(&'a SeriesInfo, SetsSeen)>, StoreError> {
    let mut members_cache: HashMap<(u8, i64), MetricValue> = HashMap::default();
    let mut set_series = Vec::new();
    for (series, (kind, mut sightings)) in by_series {
        let Some(info) = positions.get(series).map(|p| &catalog[p]) else {
            continue;
        };
        sightings.sort_by_key(|s| s.1);
        let mut members = Vec::new();
        for (id, first, last) in &sightings {
            let v = match members_cache.get(&(kind as u8, *id)) {
                Some(v) => v.clone(),
                None => {
                    let v = store.set_value(kind, *id)?;
                    members_cache.insert((kind as u8, *id), v.clone());
                    v
                }
            };
            members.push((*first, *last, v));
        }
        set_series.push((info, members));
    }
    Ok(set_series)
}

/// Set-valued series: what each reported against its expected set (the profiles' `in-*-set`
/// behaviors) or its own first sightings, then against what its peers report.
fn set_series_reasons<'a>(
    store: &Store,
    set_series: &[(&'a SeriesInfo, SetsSeen)],
    peer_groups: &PeerGroups,
    to: Millis,
    reasons: &mut HashMap<&'a str, Vec<Reason>>,
) -> Result<(), StoreError> {
    let thresholds = store.thresholds(None)?;
    let union = |members: &[(Millis, Millis, MetricValue)]| -> BTreeSet<String> {
        members.iter().flat_map(|(_, _, v)| members_of(v)).collect()
    };
    let mut set_peers: HashMap<&str, SetPeers> = HashMap::default();
    for (info, members) in set_series {
        if let Some(g) = peer_groups.of(&info.thing) {
            set_peers
                .entry(info.metric.as_str())
                .or_default()
                .add(g, &union(members));
        }
    }
    // How many members a thing of each group usually has that none of its peers has.
    let mut unique_counts: HashMap<(&str, usize), Vec<f64>> = HashMap::default();
    for (info, members) in set_series {
        if let (Some(g), Some(sp)) = (
            peer_groups.of(&info.thing),
            set_peers.get(info.metric.as_str()),
        ) {
            let n = union(members)
                .iter()
                .filter(|m| sp.others_with(g, m) == 0)
                .count();
            unique_counts
                .entry((info.metric.as_str(), g))
                .or_default()
                .push(n as f64);
        }
    }
    let typical_unique: HashMap<(&str, usize), f64> = unique_counts
        .into_iter()
        .map(|(k, mut v)| (k, median(&mut v)))
        .collect();
    for (info, members) in set_series {
        let expected = expected_set(&thresholds, &info.metric);
        let peers = peer_groups.of(&info.thing).and_then(|g| {
            let set = set_peers.get(info.metric.as_str())?;
            (set.peers(g) >= MIN_PEERS).then(|| SetView {
                set,
                group: g,
                basis: peer_groups.basis(g),
                typical_unique: typical_unique
                    .get(&(info.metric.as_str(), g))
                    .copied()
                    .unwrap_or(0.0),
            })
        });
        reasons
            .entry(info.thing.as_str())
            .or_default()
            .extend(set_reasons(info, members, expected.as_ref(), to, peers));
    }
    Ok(())
}

/// The members the security profiles' `in-port-set`/`in-cidr-set`/`in-set` behaviors of a
/// metric expect; `None` when no behavior states one.
fn expected_set(thresholds: &[crate::store::Threshold], metric: &str) -> Option<BTreeSet<String>> {
    let sets: Vec<&serde_json::Value> = thresholds
        .iter()
        .filter(|t| t.metric.as_deref() == Some(metric))
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
}

/// AWS Detect violations that overlap the window, as reasons; returns each thing's count of
/// violations still in alarm.
fn detect_reasons<'a>(
    store: &Store,
    names: &[&'a str],
    from: Millis,
    to: Millis,
    reasons: &mut HashMap<&'a str, Vec<Reason>>,
) -> Result<HashMap<String, usize>, StoreError> {
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
                15.0,
                format!(
                    "AWS Detect: {} ({}) in alarm since {}",
                    v.behavior,
                    metric,
                    hhmm(started)
                ),
            )
        } else {
            (
                8.0 * decay(to, end),
                format!(
                    "AWS Detect: {} ({}) alarmed {} – {}",
                    v.behavior,
                    metric,
                    hhmm(started),
                    hhmm(end)
                ),
            )
        };
        if let Ok(i) = names.binary_search(&v.thing.as_str()) {
            let thing = names[i];
            reasons.entry(thing).or_default().push(Reason {
                text,
                categories: categories::for_metric(&metric),
                metric,
                since: started,
                weight,
                source: ReasonSource::AwsDetect,
            });
        }
    }
    Ok(open)
}

/// Every thing that has reported (or a fleet screen named), with its reasons heaviest first and a score that saturates
/// at 100; most suspicious first, ties by name.
fn ranked(
    catalog: &[SeriesInfo],
    names: &[&str],
    screened: &fnv::FnvHashSet<&str>,
    mut reasons: HashMap<&str, Vec<Reason>>,
    open: &HashMap<String, usize>,
) -> Vec<Ranked> {
    let mut last_report: HashMap<&str, Millis> = HashMap::default();
    for s in catalog {
        if let Some(t) = s.last_ts {
            let e = last_report.entry(s.thing.as_str()).or_insert(t);
            *e = (*e).max(t);
        }
    }
    let mut ranked: Vec<Ranked> = names
        .iter()
        .copied()
        .filter(|thing| last_report.contains_key(thing) || screened.contains(thing))
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
    ranked
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

/// Disconnects of one reason in an hour from which it is a reason (others than the telling
/// ones happen to healthy devices too).
fn lifecycle_burst(reason: &str) -> u32 {
    match reason {
        "DUPLICATE_CLIENTID" => 3,
        "AUTH_ERROR" | "FORBIDDEN_ACCESS" => 5,
        _ => 10,
    }
}

/// "14 DUPLICATE_CLIENTID disconnects in 1 h from 21:00 — a cloned device or a shared
/// certificate": the busiest hour of a `lifecycle:disconnects:<REASON>` series.
fn lifecycle_reason(n: &Numeric, to: Millis) -> Option<Reason> {
    let reason = n
        .info
        .metric
        .strip_prefix(crate::model::lifecycle::DISCONNECTS_BY)?;
    let meaning = crate::model::lifecycle::reason_meaning(reason)?;
    let peak = n.hours.iter().max_by_key(|h| (h.n, h.index))?;
    (peak.n >= lifecycle_burst(reason)).then(|| Reason {
        text: format!(
            "{} {reason} disconnects in 1 h from {} — {meaning}",
            peak.n,
            hhmm(peak.start())
        ),
        metric: n.info.metric.clone(),
        categories: categories::for_metric(&n.info.metric),
        since: peak.start(),
        weight: (3.0 * f64::from(peak.n)).min(45.0) * decay(to, peak.start()),
        source: ReasonSource::Lifecycle,
    })
}
