//! Chunk formats 1 and 2 side by side on realistic device days (`store::chunk::realistic_day`):
//! bytes per point of the chunks alone, and decoding time per point, interleaved in one run.
//!
//!     cargo run --release -p desk-engine --example chunk_codec [DAYS] [ROUNDS]
//!
//! DAYS device-days are generated (8 series each); each round decodes all of them in format 1
//! and in format 2, alternately. Prints the medians and their ratio.

use std::time::Instant;

use desk_engine::store::chunk::{decode_into, encode, encode_v1, realistic_day};

fn main() {
    let mut args = std::env::args().skip(1);
    let days: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let series: Vec<_> = (0..days)
        .flat_map(|d| realistic_day(19_877 + (d % 30) as i64, 0x9e37_79b9 ^ d))
        .collect();
    let points: usize = series.iter().map(Vec::len).sum();
    let v1: Vec<Vec<u8>> = series.iter().map(|s| encode_v1(s)).collect();
    let v2: Vec<Vec<u8>> = series.iter().map(|s| encode(s)).collect();
    let bytes = |b: &[Vec<u8>]| b.iter().map(Vec::len).sum::<usize>() as f64 / points as f64;
    let mut buf = Vec::with_capacity(512);
    let mut time = |blobs: &[Vec<u8>]| {
        let t = Instant::now();
        let mut n = 0usize;
        for b in blobs {
            buf.clear();
            decode_into(b, &mut buf).expect("decodes");
            n += buf.len();
        }
        assert_eq!(n, points);
        t.elapsed().as_secs_f64() * 1e9 / points as f64
    };
    let (mut t1, mut t2) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        t1.push(time(&v1));
        t2.push(time(&v2));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (m1, m2) = (median(&mut t1), median(&mut t2));
    println!(
        "{points} points in {} chunks, {rounds} rounds",
        series.len()
    );
    println!("format 1: {:.2} B/pt, decode {m1:.2} ns/pt", bytes(&v1));
    println!("format 2: {:.2} B/pt, decode {m2:.2} ns/pt", bytes(&v2));
    println!(
        "format 2 / format 1: {:.2}x the bytes, {:.2}x the decode time",
        bytes(&v2) / bytes(&v1),
        m2 / m1
    );
}
