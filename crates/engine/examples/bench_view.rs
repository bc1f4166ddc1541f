//! Benchmarks for issue #3 (run by `bench/view_bench.py`, figures in BENCHMARKS.md):
//!
//! - `build-view DB`: a cache of 480 things × 12 metrics × 30 days at 5-minute steps
//!   (8,640 points per series, 49.8 million datapoints);
//! - `build-triage DB`: 10,000 things × 4 metrics × 7 days (80.6 million datapoints), 100 of
//!   them botnet recruits;
//! - `build-triage-100k DB`: 100,000 things × 4 metrics × 1 day (115.2 million datapoints),
//!   1,000 of them recruits: how triage grows with the fleet;
//! - `view DB RUNS`: the full thing view — every metric over 30 days, thresholds, violation
//!   bands, downsampled and rendered to SVG — for RUNS different things: p50 and p95;
//! - `series DB RUNS`: the series query alone (one metric, 30 days) for the DuckDB comparison;
//! - `triage DB RUNS`: the fleet triage ranking;
//! - `scan DB RUNS`: the floor under triage — the series catalog and every chunk summary in
//!   the window read from SQLite, nothing computed.
//!
//! Values follow a formula DuckDB can reproduce: `(i*7919 + m*104729 + s*31) % 1000 + 100`
//! for thing i, metric m, step s.

use std::time::Instant;

use desk_engine::analysis::triage::{rank, TriageOptions};
use desk_engine::analysis::view::metric_view;
use desk_engine::charts::{render_svg, ChartOptions};
use desk_engine::model::{Batch, Datapoint, MetricValue};
use desk_engine::store::Store;

const STEP: i64 = 300_000;
use desk_engine::time::DAY;
/// Day-aligned end of the generated data.
pub const END: i64 = 1_790_035_200_000;
const METRICS: [&str; 12] = [
    "aws:all-bytes-out",
    "aws:all-bytes-in",
    "aws:all-packets-out",
    "aws:all-packets-in",
    "aws:num-established-tcp-connections",
    "aws:num-authorization-failures",
    "aws:num-listening-tcp-ports",
    "aws:message-byte-size",
    "aws:num-messages-sent",
    "aws:num-messages-received",
    "num_child_procs_myapp",
    "mobilerssi",
];

/// Steps per day.
const DAY_STEPS: i64 = DAY / STEP;

/// A datapoint's value (the same formula as the DuckDB copy in `bench/view_bench.py`). With
/// `recruits`, every 100th thing is a botnet recruit whose first metric (bytes out) runs 100×
/// its usual level for the last three hours, so triage has real anomalies to explain (and
/// points to read for them), as in a fleet under attack.
fn value(i: i64, m: i64, s: i64, last: Option<i64>) -> i64 {
    let usual = (i * 7919 + m * 104_729 + s * 31) % 1000 + 100;
    if last.is_some_and(|last| i % 100 == 7 && m == 0 && s > last - 36) {
        usual * 100
    } else {
        usual
    }
}

fn build(
    db: &str,
    things: i64,
    metrics: usize,
    days: i64,
    recruits: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let last = recruits.then_some(days * DAY_STEPS - 1);
    let mut store = Store::open(std::path::Path::new(db))?;
    let start = END - days * DAY;
    let started = Instant::now();
    for d in 0..days {
        for block in (0..things).step_by(1000) {
            let mut batch = Batch::default();
            for i in block..(block + 1000).min(things) {
                let thing = format!("thing-{i:05}");
                for (m, metric) in METRICS.iter().enumerate().take(metrics) {
                    for k in 0..DAY_STEPS {
                        let s = d * DAY_STEPS + k;
                        batch.points.push(Datapoint {
                            thing: thing.clone(),
                            metric: (*metric).to_string(),
                            dimension: None,
                            ts: start + s * STEP,
                            version: 1,
                            value: MetricValue::Count(value(i, m as i64, s, last)),
                        });
                    }
                }
            }
            store.write_batch(&batch)?;
        }
        eprintln!("day {}/{days} written ({:.0?})", d + 1, started.elapsed());
    }
    // One violation per thing on bytes out, so the view draws bands.
    let mut alerts = String::new();
    for i in 0..things.min(1000) {
        alerts.push_str(&format!(
            r#"{{"violationEventTime":{},"thingName":"thing-{i:05}","securityProfileName":"P","violationId":"v{i}","violationEventType":"in-alarm","behavior":{{"name":"BytesOut","metric":"aws:all-bytes-out","criteria":{{"comparisonOperator":"greater-than","value":{{"count":1050}}}}}},"metricValue":{{"count":1099}}}}"#,
            END - 3 * DAY
        ));
    }
    alerts.push_str(r#"{"securityProfileName":"P","behaviors":[{"name":"BytesOut","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"greater-than","value":{"count":1050}}}]}"#);
    store.write_batch(&desk_engine::model::parse::parse_bytes(
        alerts.as_bytes(),
        &Default::default(),
    )?)?;
    println!(
        "built {} datapoints in {:.1?}",
        store.point_count()?,
        started.elapsed()
    );
    Ok(())
}

/// `downgrade DB OUT`: a copy of the cache with every chunk and summary in format 1, as the
/// versions before issue #33 wrote them (no timelines), so one run reads the same data in the
/// old encoding and the new.
fn downgrade(db: &str, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    use desk_engine::store::chunk::{decode_into, encode_summary_v1, encode_v1, summarize};
    let _ = std::fs::remove_file(out);
    std::fs::copy(db, out)?;
    let store = Store::open(std::path::Path::new(out))?;
    let conn = store.connection();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    /// (chunk id, series, day, blob, timeline).
    type Row = (i64, i64, i64, Vec<u8>, Option<Vec<u8>>);
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT c.id, c.series, c.day, c.data, t.data FROM chunk c
             LEFT JOIN timeline t ON t.id = c.timeline",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut points = Vec::new();
    for (id, series, day, data, times) in rows {
        points.clear();
        decode_into(&data, times.as_deref(), &mut points).ok_or("a chunk does not decode")?;
        conn.execute(
            "UPDATE chunk SET data = ?2, timeline = NULL WHERE id = ?1",
            rusqlite::params![id, encode_v1(&points)],
        )?;
        conn.execute(
            "UPDATE chunk_summary SET summary = ?3 WHERE day = ?1 AND series = ?2",
            rusqlite::params![day, series, encode_summary_v1(&summarize(&points, day))],
        )?;
    }
    conn.execute_batch("DELETE FROM timeline; COMMIT; VACUUM;")?;
    println!("downgraded to format 1: {} bytes", store.size_bytes()?);
    Ok(())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (mode, db) = (
        args.get(1).map(String::as_str).unwrap_or(""),
        args.get(2).ok_or("usage: bench_view MODE DB [RUNS]")?,
    );
    // RUNS for the timing modes (`downgrade` takes OUT there).
    let runs: usize = match mode {
        "downgrade" => 0,
        _ => args.get(3).map_or(Ok(30), |s| s.parse())?,
    };
    match mode {
        "build-view" => build(db, 480, 12, 30, false)?,
        "build-triage" => build(db, 10_000, 4, 7, true)?,
        "build-triage-100k" => build(db, 100_000, 4, 1, true)?,
        "view" | "series" => {
            let store = Store::open(std::path::Path::new(db))?;
            let things = store.things()?.len() as i64;
            let (from, to) = (END - 30 * DAY, END);
            let mut times = Vec::new();
            let mut points = 0;
            for r in 0..runs as i64 {
                let thing = format!("thing-{:05}", (r * 7919) % things);
                let t0 = Instant::now();
                if mode == "series" {
                    points = store
                        .series(&thing, "aws:all-bytes-out", None, from, to)?
                        .len();
                } else {
                    points = 0;
                    for metric in store.thing_metrics(&thing)? {
                        let view = metric_view(&store, &thing, &metric, from, to, 900)?;
                        points += view.points;
                        let svg = render_svg(&view, &ChartOptions::default())?;
                        assert!(svg.svg.len() > 1000);
                    }
                }
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            println!(
                "{mode}: {runs} runs, {points} points per run, p50 {:.2} ms, p95 {:.2} ms",
                percentile(&mut times.clone(), 0.5),
                percentile(&mut times, 0.95)
            );
        }
        "triage" => {
            let store = Store::open(std::path::Path::new(db))?;
            let mut times = Vec::new();
            let (mut n, mut flagged) = (0, 0);
            for _ in 0..runs {
                let t0 = Instant::now();
                let ranked = rank(&store, TriageOptions::default())?;
                times.push(t0.elapsed().as_secs_f64() * 1e3);
                n = ranked.len();
                flagged = ranked
                    .iter()
                    .filter(|r| {
                        r.reasons.iter().any(|r| {
                            r.source != desk_engine::analysis::triage::ReasonSource::AwsDetect
                        })
                    })
                    .count();
            }
            println!(
                "triage: {runs} runs, {n} things ({flagged} flagged by baselines), p50 {:.1} ms, p95 {:.1} ms",
                percentile(&mut times.clone(), 0.5),
                percentile(&mut times, 0.95)
            );
        }
        "scan" => {
            let store = Store::open(std::path::Path::new(db))?;
            let mut times = Vec::new();
            let (mut rows, mut bytes) = (0, 0);
            for _ in 0..runs {
                let t0 = Instant::now();
                let catalog = store.series_catalog()?;
                let to = catalog
                    .iter()
                    .filter_map(|s| s.last_ts)
                    .max()
                    .unwrap_or(END);
                (rows, bytes) = (0, 0);
                store.summary_batches(to - 7 * DAY, to, 4096, |b| {
                    for (_, _, blob) in b.iter() {
                        rows += 1;
                        bytes += blob.len();
                    }
                })?;
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            println!(
                "scan: {runs} runs, {rows} summaries ({:.0} MB), p50 {:.1} ms, p95 {:.1} ms",
                bytes as f64 / 1e6,
                percentile(&mut times.clone(), 0.5),
                percentile(&mut times, 0.95)
            );
        }
        "downgrade" => {
            let out = args.get(3).ok_or("usage: bench_view downgrade DB OUT")?;
            downgrade(db, out)?;
        }
        _ => {
            return Err(
                "MODE is build-view, build-triage, build-triage-100k, view, series, triage, scan or downgrade"
                    .into(),
            )
        }
    }
    Ok(())
}
