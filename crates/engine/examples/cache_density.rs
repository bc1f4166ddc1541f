//! Whole-file density of the cache on devices that behave like devices: THINGS things × DAYS
//! days of `store::chunk::realistic_datapoints` (8 metrics, 288 jittered reports a day, daily
//! rhythm and noise, stable port and destination sets, one report in a hundred re-delivered)
//! written through the store as ingest writes them, then `Store::stats` — every byte of the
//! file counted: chunks, timelines, summaries, names, series, indexes, page slack.
//!
//!     cargo run --release -p desk-engine --example cache_density [THINGS] [DAYS] [FILE]
//!
//! With FILE, the cache is left there (for `ddesk stats`, or to compare); else a temp file.

use desk_engine::model::Batch;
use desk_engine::store::chunk::realistic_datapoints;
use desk_engine::store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let things: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let days: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("density.sqlite"));
    let _ = std::fs::remove_file(&path);
    let mut store = Store::open(&path).expect("opens");
    let first_day = 20_400;
    for day in first_day..first_day + days {
        // One day of the fleet per transaction, as a daily export's files arrive.
        let batches: Vec<Batch> = (0..things)
            .map(|t| {
                let mut b = Batch::default();
                b.points = realistic_datapoints(
                    &format!("sensor-{t:05}"),
                    day,
                    (t as u64) << 20 ^ day as u64,
                );
                b
            })
            .collect();
        let refs: Vec<&Batch> = batches.iter().collect();
        store.write_batches(&refs).expect("writes");
    }
    let stats = store.stats().expect("stats");
    println!(
        "{things} things x {days} days: {} points, {} bytes, {:.2} B/pt (whole file)",
        stats.points, stats.file_bytes, stats.bytes_per_point
    );
    for t in stats.tables.iter().take(8) {
        println!(
            "  {:<28} {:>12} bytes  {:.2} B/pt",
            t.name,
            t.bytes,
            t.bytes as f64 / stats.points as f64
        );
    }
}
