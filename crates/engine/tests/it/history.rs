//! A year of history: shared timelines, the cache's density on realistic devices, compaction
//! into exact hourly aggregates, and the upgrade of a cache the previous version made.

use std::collections::BTreeMap;
use std::path::Path;

use desk_engine::model::{Batch, Datapoint, MetricValue};
use desk_engine::store::chunk::{self, realistic_datapoints, CHUNK_MS};
use desk_engine::store::{SeriesPoint, Store};

const DAY0: i64 = 20_400;

fn batch(points: Vec<Datapoint>) -> Batch {
    let mut b = Batch::default();
    b.points = points;
    b
}

fn write(store: &mut Store, points: Vec<Datapoint>) {
    store.write_batch(&batch(points)).unwrap();
}

/// Every timeline's `refs` is the number of chunks using it, and none is unused.
fn assert_timelines_counted(store: &Store) {
    let bad: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM timeline t
             WHERE t.refs != (SELECT count(*) FROM chunk c WHERE c.timeline = t.id) OR t.refs <= 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0, "timelines whose refs are wrong");
}

/// Every series of every thing, fully decoded: (thing, metric, dimension) → points, floats as
/// bits (so NaN payloads and −0.0 compare exactly).
type Snapshot = BTreeMap<(String, String, String), Vec<(i64, i64, String)>>;

fn snapshot(store: &Store) -> Snapshot {
    let mut out = Snapshot::new();
    for info in store.series_catalog().unwrap() {
        let dim = info.dim.clone();
        let pts: Vec<SeriesPoint> = store
            .series(
                &info.thing,
                &info.metric,
                Some(&dim),
                i64::MIN / 4,
                i64::MAX / 4,
            )
            .unwrap();
        let rows = pts
            .iter()
            .map(|p| {
                let v = match &p.value {
                    MetricValue::Number(f) => format!("f{:x}", f.to_bits()),
                    other => serde_json::to_string(other).unwrap(),
                };
                (p.ts, p.version, v)
            })
            .collect();
        out.insert((info.thing, info.metric, dim), rows);
    }
    out
}

#[test]
fn one_report_gives_every_metric_one_timeline_and_none_is_left_behind() {
    let mut store = Store::open_in_memory().unwrap();
    // Two things, two days, written report by report (as the watch does): each report grows
    // the day's timeline, and the old one must go.
    for (seed, thing) in [(11, "cam-1"), (12, "cam-2")] {
        for day in [DAY0, DAY0 + 1] {
            let all = realistic_datapoints(thing, day, seed);
            let mut by_ts: BTreeMap<i64, Vec<Datapoint>> = BTreeMap::new();
            for p in all {
                by_ts.entry(p.ts).or_default().push(p);
            }
            for (i, (_, report)) in by_ts.into_iter().enumerate() {
                // Every 40th report in one write with the next: batches of any shape.
                write(&mut store, report);
                if i % 40 == 0 {
                    assert_timelines_counted(&store);
                }
            }
        }
    }
    assert_timelines_counted(&store);
    let timelines: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM timeline", [], |r| r.get(0))
        .unwrap();
    assert_eq!(timelines, 4, "one per thing and day");
    // Timelines are found by content: two things whose reports arrive at the same instants
    // share one.
    write(&mut store, realistic_datapoints("cam-3", DAY0, 11));
    let shared: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM timeline", [], |r| r.get(0))
        .unwrap();
    assert_eq!(shared, 4);
    // What was written comes back.
    let pts = store
        .series(
            "cam-2",
            "aws:all-bytes-out",
            None,
            i64::MIN / 4,
            i64::MAX / 4,
        )
        .unwrap();
    let expect: Vec<i64> = realistic_datapoints("cam-2", DAY0, 12)
        .into_iter()
        .chain(realistic_datapoints("cam-2", DAY0 + 1, 12))
        .filter(|p| p.metric == "aws:all-bytes-out")
        .map(|p| p.ts)
        .collect();
    assert_eq!(pts.iter().map(|p| p.ts).collect::<Vec<_>>(), expect);
}

/// Issue #33's bar: at most 4 bytes per datapoint on realistic device data, everything in the
/// file counted — a fleet of 200 things for a week (3.2 million points), so the pages every
/// empty table takes (about 1 MB) weigh as they do in a real cache, not as in a toy one
/// (`examples/cache_density.rs` measures larger fleets; BENCHMARKS.md).
#[test]
fn realistic_devices_take_at_most_four_bytes_a_point_in_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.sqlite")).unwrap();
    for day in DAY0..DAY0 + 7 {
        let batches: Vec<Batch> = (0..200)
            .map(|t| {
                batch(realistic_datapoints(
                    &format!("sensor-{t:03}"),
                    day,
                    t << 20 ^ day as u64,
                ))
            })
            .collect();
        store
            .write_batches(&batches.iter().collect::<Vec<_>>())
            .unwrap();
    }
    let stats = store.stats().unwrap();
    assert_eq!(stats.points, 200 * 7 * 8 * 288);
    println!(
        "{:.2} B/pt; largest tables: {:?}",
        stats.bytes_per_point,
        &stats.tables[..6]
    );
    assert!(
        stats.bytes_per_point <= 4.0,
        "{} B/pt",
        stats.bytes_per_point
    );
    // The first report of the first day, seconds of jitter after midnight.
    let oldest = stats.oldest.unwrap() - DAY0 * CHUNK_MS;
    assert!((0..6_000).contains(&oldest), "{oldest}");
    let numbers = stats.kinds.iter().find(|k| k.kind == "number").unwrap();
    assert_eq!(numbers.points, 200 * 7 * 2 * 288);
    assert_timelines_counted(&store);
}

#[test]
fn compaction_keeps_exact_hourly_aggregates_and_the_recent_days_raw() {
    let mut store = Store::open_in_memory().unwrap();
    let mut written = Vec::new();
    for day in DAY0..DAY0 + 4 {
        let pts = realistic_datapoints("cam-1", day, 5);
        written.extend(pts.clone());
        write(&mut store, pts);
    }
    let before = snapshot(&store);
    let now = (DAY0 + 4) * CHUNK_MS;
    // Keep two days raw: the first two are compacted, in steps of 3 chunks.
    let keep_from = now - 2 * CHUNK_MS;
    let mut days = 0;
    loop {
        let step = store.compact(keep_from, 3).unwrap();
        days += step.days;
        if !step.pending {
            break;
        }
    }
    assert_eq!(days, 2 * 8);
    assert_timelines_counted(&store);
    let stats = store.stats().unwrap();
    assert_eq!(stats.compacted_days, 16);
    assert_eq!(stats.compacted_points, 2 * 8 * 288);
    assert_eq!(stats.points, 2 * 8 * 288);
    assert_eq!(stats.oldest, Some(DAY0 * CHUNK_MS));
    // The app's totals (indexes only) say the same as the full statistics.
    let t = store.totals().unwrap();
    assert_eq!(
        (
            t.points,
            t.compacted_points,
            t.compacted_days,
            t.oldest,
            t.newest
        ),
        (
            stats.points,
            stats.compacted_points,
            stats.compacted_days,
            stats.oldest,
            stats.newest
        )
    );
    assert_eq!(t.bytes_per_point, stats.bytes_per_point);

    // The raw days are untouched.
    let after = snapshot(&store);
    for (key, pts) in &before {
        let raw: Vec<_> = pts.iter().filter(|p| p.0 >= keep_from).cloned().collect();
        let kept: Vec<_> = after[key]
            .iter()
            .filter(|p| p.0 >= keep_from)
            .cloned()
            .collect();
        assert_eq!(raw, kept, "{key:?}");
    }
    // The compacted hours are the exact mean of their points, marked as such.
    let series = store
        .series(
            "cam-1",
            "aws:all-bytes-out",
            None,
            DAY0 * CHUNK_MS,
            keep_from - 1,
        )
        .unwrap();
    assert_eq!(series.len(), 48);
    assert!(series.iter().all(|p| p.compacted));
    for p in &series {
        let hour = p.ts - 1_800_000;
        let vals: Vec<i64> = written
            .iter()
            .filter(|d| d.metric == "aws:all-bytes-out" && d.ts >= hour && d.ts < hour + 3_600_000)
            .filter_map(|d| match d.value {
                MetricValue::Count(c) => Some(c),
                _ => None,
            })
            .collect();
        let mean = vals.iter().sum::<i64>() as f64 / vals.len() as f64;
        assert_eq!(p.value, MetricValue::Number(mean));
    }
    // Their summaries hold count, sum, min and max exactly.
    let (day, blob): (i64, Vec<u8>) = store
        .connection()
        .query_row(
            "SELECT cs.day, cs.summary FROM chunk_summary cs JOIN compacted k
               ON k.day = cs.day AND k.series = cs.series JOIN series s ON s.id = k.series
               JOIN metric m ON m.id = s.metric_id
             WHERE m.name = 'cpu-load' ORDER BY cs.day LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let summary = chunk::decode_summary(&blob, day).unwrap();
    let h = summary.hours[5];
    let start = day * CHUNK_MS + 5 * 3_600_000;
    let vals: Vec<f64> = written
        .iter()
        .filter(|d| d.metric == "cpu-load" && d.ts >= start && d.ts < start + 3_600_000)
        .filter_map(|d| match d.value {
            MetricValue::Number(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(h.count as usize, vals.len());
    assert_eq!(h.sum.to_bits(), vals.iter().sum::<f64>().to_bits());
    assert_eq!(h.min, vals.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(
        h.max,
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    // Sets: each distinct set with its first and last sighting.
    let ports = store
        .series(
            "cam-1",
            "aws:listening-tcp-ports",
            None,
            DAY0 * CHUNK_MS,
            keep_from - 1,
        )
        .unwrap();
    assert_eq!(
        ports.len(),
        4,
        "first and last sighting on each compacted day"
    );
    assert_eq!(ports[0].value, MetricValue::Ports(vec![22, 443, 8883]));

    // A late re-delivery for a compacted day is not stored (nothing to merge it with), and
    // triage still reads every day.
    let late = realistic_datapoints("cam-1", DAY0, 5)
        .into_iter()
        .map(|mut p| {
            p.version = 9;
            p
        })
        .collect();
    write(&mut store, late);
    assert_eq!(store.stats().unwrap().points, 2 * 8 * 288);
    let ranked = desk_engine::analysis::triage::rank(
        &store,
        desk_engine::analysis::triage::TriageOptions {
            window: 4 * CHUNK_MS,
            to: Some(now),
        },
    )
    .unwrap();
    assert_eq!(ranked.len(), 1);
}

/// The caches earlier versions wrote (`scripts/make_upgrade_fixture.sh`): the previous one
/// (chunk format 2, summaries format 1) and the one before (both format 1).
const FIXTURES: [(&str, u8); 2] = [("schema14-f2", 2), ("schema14-f1", 1)];

fn fixture(name: &str, ext: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../tests/fixtures/caches/{name}.{ext}"))
}

#[test]
fn caches_from_earlier_versions_upgrade_exactly_and_resume() {
    for (name, format) in FIXTURES {
        upgrades_exactly(name, format);
    }
}

fn upgrades_exactly(name: &str, format: u8) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    std::fs::copy(fixture(name, "sqlite"), &path).unwrap();
    let expected_fingerprint = std::fs::read_to_string(fixture(name, "fingerprint")).unwrap();
    let (before, total) = {
        let store = Store::open(&path).unwrap();
        // The earlier version's own reading of its cache (its `fingerprint`) and this one's
        // agree before anything is rewritten.
        assert_eq!(
            store.fingerprint().unwrap(),
            expected_fingerprint.trim(),
            "{name}"
        );
        assert!(store.upgrade_pending().unwrap());
        let old: i64 = store
            .connection()
            .query_row(
                "SELECT count(*) FROM chunk WHERE substr(data, 1, 1) = ?1",
                [vec![format]],
                |r| r.get(0),
            )
            .unwrap();
        assert!(old > 50, "{name} holds chunks of format {format}");
        (snapshot(&store), old)
    };
    // Interrupted after two steps (the process goes away), then resumed.
    {
        let mut store = Store::open(&path).unwrap();
        for _ in 0..2 {
            let step = store.upgrade_chunks(20).unwrap();
            assert_eq!(step.checked, 20);
            assert!(step.pending);
        }
    }
    let mut store = Store::open(&path).unwrap();
    // Another writer can write between steps (the app, `ddesk sync`).
    write(&mut store, realistic_datapoints("late-thing", DAY0, 1));
    let mut rewritten = 40;
    loop {
        let step = store.upgrade_chunks(20).unwrap();
        rewritten += step.rewritten;
        if !step.pending {
            break;
        }
    }
    assert!(rewritten >= total as u64);
    assert!(!store.upgrade_pending().unwrap());
    let left: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM chunk c JOIN chunk_summary s ON s.day = c.day AND s.series = c.series
             WHERE substr(c.data, 1, 1) = x'01' OR substr(s.summary, 1, 1) = x'01'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "every chunk and summary in the current formats");
    assert_timelines_counted(&store);
    let mut after = snapshot(&store);
    after.retain(|k, _| k.0 != "late-thing");
    assert_eq!(after.len(), before.len());
    for (key, pts) in &before {
        assert_eq!(&after[key], pts, "{name} {key:?}");
    }
    let dims = before.keys().filter(|k| !k.2.is_empty()).count();
    assert!(dims > 0, "{name} has dimensioned series");
    assert!(
        before.values().flatten().any(|p| p.2.starts_with('f')),
        "{name} has numbers"
    );
}
