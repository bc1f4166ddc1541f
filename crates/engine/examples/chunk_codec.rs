//! Chunk formats side by side on realistic device days (`store::chunk::realistic_day`): bytes
//! per point of the chunks (and the shared timelines of format 3) and of their summaries, and
//! decoding time per point, the formats interleaved in one run.
//!
//!     cargo run --release -p desk-engine --example chunk_codec [DAYS] [ROUNDS]
//!
//! DAYS device-days are generated (8 series each); each round decodes all of them in format 1,
//! format 2 (times inline) and format 3 (times in the day's shared timeline), alternately.
//! Prints the medians and their ratios. The whole file (rows, indexes, page slack) is measured
//! by `examples/cache_density.rs`.

use std::time::Instant;

use desk_engine::store::chunk::{
    decode_into, encode, encode_shared, encode_summary, encode_summary_v1, encode_v1,
    realistic_day, summarize,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let days: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let device_days: Vec<(i64, Vec<_>)> = (0..days)
        .map(|d| {
            let day = 19_877 + (d % 30) as i64;
            (day, realistic_day(day, 0x9e37_79b9 ^ d))
        })
        .collect();
    let series: Vec<_> = device_days.iter().flat_map(|(_, s)| s.iter()).collect();
    let points: usize = series.iter().map(|s| s.len()).sum();
    let v1: Vec<(Vec<u8>, Option<Vec<u8>>)> = series.iter().map(|s| (encode_v1(s), None)).collect();
    let v2: Vec<(Vec<u8>, Option<Vec<u8>>)> = series.iter().map(|s| (encode(s), None)).collect();
    let v3: Vec<(Vec<u8>, Option<Vec<u8>>)> = series
        .iter()
        .map(|s| {
            let e = encode_shared(s);
            (e.data, e.times)
        })
        .collect();
    // Format 3's timelines are stored once per device-day (its series share them).
    let mut timelines = std::collections::HashSet::new();
    let timeline_bytes: usize = v3
        .iter()
        .filter_map(|(_, t)| t.as_ref())
        .filter(|t| timelines.insert(t.as_slice()))
        .map(Vec::len)
        .sum();
    let per_pt = |b: usize| b as f64 / points as f64;
    let blobs = |b: &[(Vec<u8>, Option<Vec<u8>>)]| b.iter().map(|(d, _)| d.len()).sum::<usize>();
    let (s1, s2): (usize, usize) = device_days
        .iter()
        .flat_map(|(day, s)| s.iter().map(move |s| (*day, summarize(s, *day))))
        .map(|(day, s)| (encode_summary_v1(&s).len(), encode_summary(&s, day).len()))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut buf = Vec::with_capacity(512);
    let mut time = |blobs: &[(Vec<u8>, Option<Vec<u8>>)]| {
        let t = Instant::now();
        let mut n = 0usize;
        for (b, times) in blobs {
            buf.clear();
            decode_into(b, times.as_deref(), &mut buf).expect("decodes");
            n += buf.len();
        }
        assert_eq!(n, points);
        t.elapsed().as_secs_f64() * 1e9 / points as f64
    };
    let (mut t1, mut t2, mut t3) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        t1.push(time(&v1));
        t2.push(time(&v2));
        t3.push(time(&v3));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (m1, m2, m3) = (median(&mut t1), median(&mut t2), median(&mut t3));
    println!(
        "{points} points in {} chunks, {rounds} rounds",
        series.len()
    );
    println!(
        "format 1: {:.2} B/pt, decode {m1:.2} ns/pt",
        per_pt(blobs(&v1))
    );
    println!(
        "format 2: {:.2} B/pt, decode {m2:.2} ns/pt",
        per_pt(blobs(&v2))
    );
    println!(
        "format 3: {:.2} B/pt ({:.2} chunks + {:.2} timelines), decode {m3:.2} ns/pt",
        per_pt(blobs(&v3) + timeline_bytes),
        per_pt(blobs(&v3)),
        per_pt(timeline_bytes)
    );
    println!(
        "summaries: format 1 {:.2} B/pt, format 2 {:.2} B/pt",
        per_pt(s1),
        per_pt(s2)
    );
    println!(
        "decode time vs format 1: format 2 {:.2}x, format 3 {:.2}x",
        m2 / m1,
        m3 / m1
    );
}
