//! Datapoint chunks: all points of one series on one UTC day in one compact blob.
//!
//! A chunk holds points sorted by time with one point per timestamp — the highest `version`,
//! ties settled by kind then value, so merging is order-independent and idempotent. Its first
//! byte is its format:
//! - 3 (what is written when the time column is long): format 2 without its time column, which
//!   is kept apart as a *timeline* ([`Encoded::times`]) that the thing's other series of the day
//!   share — one device report gives every metric the same timestamps, so a day's times are
//!   stored once per thing, not once per metric;
//! - 2 (`v2`: each column stated once and predicted — delta-of-delta times in the chunk's unit,
//!   the common kind and version with exceptions, values as deltas, runs, or XOR), written when
//!   the time column is too short to be worth sharing;
//! - 1 (a varint count, then per point the zigzag varint of the time delta, the zigzag varint
//!   version, the kind byte, and the value — a zigzag varint for counts and set ids, 8 bytes
//!   little-endian for numbers), read, as caches made before hold it, and rewritten by the
//!   upgrade ([`crate::store::Store::upgrade_chunks`]) or when its chunk next changes.

mod v2;

use std::cmp::Ordering;

use crate::model::ValueKind;
use crate::time::Millis;

/// Milliseconds per chunk.
pub const CHUNK_MS: Millis = 86_400_000;

/// Format 1's first byte.
const FORMAT_V1: u8 = 1;

/// Format 3's first byte.
const FORMAT_V3: u8 = 3;

/// The format chunks are written in now: 2 or 3 (a chunk of format 1 is upgraded).
pub const CURRENT_FORMATS: [u8; 2] = [v2::FORMAT, FORMAT_V3];

/// A time column shorter than this stays in its chunk (format 2): a shared one costs a row.
pub const SHARE_MIN: usize = 48;

/// The chunk (UTC day number) holding `ts`.
pub fn day_of(ts: Millis) -> i64 {
    ts.div_euclid(CHUNK_MS)
}

/// One stored point: the number itself, or a set id for set kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Time.
    pub ts: Millis,
    /// Version.
    pub version: i64,
    /// [`ValueKind`] code.
    pub kind: u8,
    /// Integer value (counts, set ids) or the bits of an `f64` (numbers).
    pub bits: i64,
}

impl Point {
    /// Whether the value is an `f64` stored as bits.
    pub fn is_real(&self) -> bool {
        self.kind == ValueKind::Number as u8
    }

    /// The value as f64 (counts and numbers).
    pub fn as_f64(&self) -> f64 {
        if self.is_real() {
            f64::from_bits(self.bits as u64)
        } else {
            self.bits as f64
        }
    }

    /// The rule that decides which of two points at one timestamp is kept.
    pub fn rank(&self, other: &Self) -> Ordering {
        self.version
            .cmp(&other.version)
            .then(self.kind.cmp(&other.kind))
            .then_with(|| {
                if self.is_real() && other.is_real() {
                    f64::from_bits(self.bits as u64).total_cmp(&f64::from_bits(other.bits as u64))
                } else {
                    self.bits.cmp(&other.bits)
                }
            })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn fixed(&mut self) -> Option<i64> {
        let bytes = self.data.get(self.pos..self.pos + 8)?;
        self.pos += 8;
        Some(i64::from_le_bytes(bytes.try_into().ok()?))
    }
}

/// Encodes points (sorted by time, one per timestamp) in format 2, times inline.
pub fn encode(points: &[Point]) -> Vec<u8> {
    v2::encode(points)
}

/// An encoded chunk: its data and, in format 3, its time column kept apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The chunk's blob.
    pub data: Vec<u8>,
    /// The time column (a timeline) when the chunk is format 3; `None` when inline.
    pub times: Option<Vec<u8>>,
}

/// Encodes points in the current format: the time column apart when it is long enough to be
/// worth sharing ([`SHARE_MIN`]), else inline.
pub fn encode_shared(points: &[Point]) -> Encoded {
    let mut times = Vec::with_capacity(8 + points.len() * 2);
    v2::encode_times(&mut times, points);
    if times.len() < SHARE_MIN {
        return Encoded {
            data: encode(points),
            times: None,
        };
    }
    let mut data = Vec::with_capacity(8 + points.len());
    data.push(FORMAT_V3);
    v2::encode_body(&mut data, points);
    Encoded {
        data,
        times: Some(times),
    }
}

/// A chunk's format byte (`None` for an empty blob).
pub fn format(data: &[u8]) -> Option<u8> {
    data.first().copied()
}

/// The key a timeline is found by (FNV-1a, 64 bits; stable across versions and platforms, as
/// it is stored). Timelines with one hash are told apart by their bytes.
pub fn timeline_hash(times: &[u8]) -> i64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(times);
    h.finish() as i64
}

/// Encodes points in format 1, as versions before format 2 wrote them (for the upgrade tests
/// and the benchmarks that compare the two).
pub fn encode_v1(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + points.len() * 8);
    out.push(FORMAT_V1);
    put_varint(&mut out, points.len() as u64);
    let mut prev = 0;
    for p in points {
        put_varint(&mut out, zigzag(p.ts.wrapping_sub(prev)));
        prev = p.ts;
        put_varint(&mut out, zigzag(p.version));
        out.push(p.kind);
        if p.is_real() {
            out.extend_from_slice(&p.bits.to_le_bytes());
        } else {
            put_varint(&mut out, zigzag(p.bits));
        }
    }
    out
}

/// Decodes a chunk of any format, appending its points to `out`; `times` is its timeline
/// (format 3 needs one; the others have none). `None` if the blob is malformed (`out` may
/// then hold some of its points).
pub fn decode_into(data: &[u8], times: Option<&[u8]>, out: &mut Vec<Point>) -> Option<()> {
    let mut r = Reader { data, pos: 0 };
    match r.byte()? {
        FORMAT_V1 => decode_v1(&mut r, out),
        v2::FORMAT => v2::decode_into(&mut r, out),
        FORMAT_V3 => {
            let times = times?;
            let mut t = Reader {
                data: times,
                pos: 0,
            };
            let base = out.len();
            let n = v2::decode_times(&mut t, out)?;
            if t.pos != times.len() {
                return None;
            }
            v2::decode_body(&mut r, &mut out[base..], n)
        }
        _ => None,
    }
}

fn decode_v1(r: &mut Reader<'_>, out: &mut Vec<Point>) -> Option<()> {
    let data = r.data;
    let n = r.varint()?;
    if n > data.len() as u64 {
        return None;
    }
    out.reserve(n as usize);
    let mut ts: i64 = 0;
    for _ in 0..n {
        ts = ts.wrapping_add(unzigzag(r.varint()?));
        let version = unzigzag(r.varint()?);
        let kind = r.byte()?;
        ValueKind::from_code(i64::from(kind))?;
        let bits = if kind == ValueKind::Number as u8 {
            r.fixed()?
        } else {
            unzigzag(r.varint()?)
        };
        out.push(Point {
            ts,
            version,
            kind,
            bits,
        });
    }
    (r.pos == data.len()).then_some(())
}

/// Sorts points by time and keeps the winner per timestamp.
pub fn normalize(points: &mut Vec<Point>) {
    points.sort_unstable_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.rank(b)));
    // After the sort the winner is the last point of each timestamp run.
    let mut out = 0;
    for i in 0..points.len() {
        if i + 1 < points.len() && points[i + 1].ts == points[i].ts {
            continue;
        }
        points[out] = points[i];
        out += 1;
    }
    points.truncate(out);
}

/// Merges normalized `incoming` into normalized `existing`; returns whether anything changed.
pub fn merge(existing: &mut Vec<Point>, incoming: &[Point]) -> bool {
    let mut merged = Vec::with_capacity(existing.len() + incoming.len());
    let (mut i, mut j) = (0, 0);
    let mut changed = false;
    while i < existing.len() || j < incoming.len() {
        match (existing.get(i), incoming.get(j)) {
            (Some(a), Some(b)) if a.ts == b.ts => {
                if b.rank(a) == Ordering::Greater {
                    merged.push(*b);
                    changed = true;
                } else {
                    merged.push(*a);
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.ts < b.ts => {
                merged.push(*a);
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                merged.push(*b);
                changed = true;
                j += 1;
            }
            (Some(a), None) => {
                merged.push(*a);
                i += 1;
            }
            (None, None) => break,
        }
    }
    *existing = merged;
    changed
}

/// One UTC hour of a numeric series: exact aggregates of its points (what triage reads, and
/// what a compacted day keeps of its points).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hour {
    /// Hour of the day, 0..24.
    pub hour: u8,
    /// Points in the hour.
    pub count: u32,
    /// Their sum, added in time order (exact for counts while it stays below 2^53).
    pub sum: f64,
    /// The smallest value (NaN when unknown: summaries of format 1 did not keep it).
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Hour {
    /// The hour's mean.
    pub fn mean(&self) -> f64 {
        self.sum / f64::from(self.count.max(1))
    }
}

/// A chunk's summary: enough for fleet-wide triage without decoding points, and what a
/// compacted day keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Numeric kinds: each UTC hour present, in order.
    pub hours: Vec<Hour>,
    /// Set kinds: each distinct set id with the first and last time it was reported that day.
    pub sets: Vec<(i64, Millis, Millis)>,
    /// The [`ValueKind`] code of those sets (0 when there are none).
    pub set_kind: u8,
}

/// Summary format 1: per hour the count, the mean and the largest value, 8-byte floats.
const SUMMARY_V1: u8 = 1;
/// Summary format 2: per hour count, sum, min and max, each a column coded as chunk values are
/// (runs, deltas, XOR); set times relative to the day.
const SUMMARY_V2: u8 = 2;

/// Summarises normalized points of one chunk (of day `day`).
pub fn summarize(points: &[Point], day: i64) -> Summary {
    let mut s = Summary::default();
    let start = day * CHUNK_MS;
    // Integer values summed exactly (i128), floats in time order.
    let (mut int_sum, mut float_sum): (i128, f64) = (0, 0.0);
    for p in points {
        if ValueKind::from_code(i64::from(p.kind)).is_some_and(ValueKind::is_set) {
            s.set_kind = p.kind;
            match s.sets.iter_mut().find(|(id, _, _)| *id == p.bits) {
                Some(e) => e.2 = p.ts,
                None => s.sets.push((p.bits, p.ts, p.ts)),
            }
            continue;
        }
        let hour = (p.ts.saturating_sub(start).clamp(0, CHUNK_MS - 1) / 3_600_000) as u8;
        let v = p.as_f64();
        let h = match s.hours.last_mut() {
            Some(h) if h.hour == hour => h,
            _ => {
                (int_sum, float_sum) = (0, 0.0);
                s.hours.push(Hour {
                    hour,
                    count: 0,
                    sum: 0.0,
                    min: v,
                    max: v,
                });
                s.hours.last_mut().expect("just pushed")
            }
        };
        h.count += 1;
        if p.is_real() {
            float_sum += v;
        } else {
            int_sum += i128::from(p.bits);
        }
        h.sum = if int_sum == 0 {
            float_sum
        } else {
            float_sum + int_sum as f64
        };
        h.min = h.min.min(v);
        h.max = h.max.max(v);
    }
    s
}

/// Encodes a summary (of day `day`), in summary format 2.
pub fn encode_summary(s: &Summary, day: i64) -> Vec<u8> {
    let mut out = vec![SUMMARY_V2];
    put_varint(&mut out, s.hours.len() as u64);
    if !s.hours.is_empty() {
        out.extend(s.hours.iter().map(|h| h.hour));
        let counts: Vec<i64> = s.hours.iter().map(|h| i64::from(h.count)).collect();
        v2::write_ints(&mut out, &counts);
        for f in [|h: &Hour| h.sum, |h: &Hour| h.min, |h: &Hour| h.max] {
            let bits: Vec<u64> = s.hours.iter().map(|h| f(h).to_bits()).collect();
            v2::write_floats(&mut out, &bits);
        }
    }
    put_varint(&mut out, s.sets.len() as u64);
    out.push(s.set_kind);
    let start = day * CHUNK_MS;
    let mut prev = 0i64;
    for (id, first, last) in &s.sets {
        put_varint(&mut out, zigzag(id.wrapping_sub(prev)));
        put_varint(&mut out, zigzag(first.wrapping_sub(start)));
        put_varint(&mut out, zigzag(last.wrapping_sub(*first)));
        prev = *id;
    }
    out
}

/// Decodes a summary of day `day`; `None` if malformed.
pub fn decode_summary(data: &[u8], day: i64) -> Option<Summary> {
    let mut s = Summary::default();
    decode_summary_into(data, day, &mut s).map(|()| s)
}

/// Decodes a summary of day `day` into `s`, reusing its buffers; `None` if malformed.
pub fn decode_summary_into(data: &[u8], day: i64, s: &mut Summary) -> Option<()> {
    s.hours.clear();
    s.sets.clear();
    let mut r = Reader { data, pos: 0 };
    let format = r.byte()?;
    let n = r.varint()?;
    if n > 24 {
        return None;
    }
    let blank = |hour| Hour {
        hour,
        count: 0,
        sum: 0.0,
        min: f64::NAN,
        max: 0.0,
    };
    match format {
        SUMMARY_V1 => {
            for _ in 0..n {
                let h = r.byte()?;
                let count = u32::try_from(r.varint()?).ok()?;
                let mean = f64::from_bits(r.fixed()? as u64);
                let max = f64::from_bits(r.fixed()? as u64);
                s.hours.push(Hour {
                    count,
                    sum: mean * f64::from(count),
                    max,
                    ..blank(h)
                });
            }
        }
        SUMMARY_V2 if n > 0 => {
            for _ in 0..n {
                s.hours.push(blank(r.byte()?));
            }
            v2::read_int_column(&mut r, &mut s.hours, |h, v| {
                h.count = u32::try_from(v).unwrap_or(u32::MAX);
            })?;
            v2::read_floats(&mut r, &mut s.hours, |h, b| h.sum = f64::from_bits(b))?;
            v2::read_floats(&mut r, &mut s.hours, |h, b| h.min = f64::from_bits(b))?;
            v2::read_floats(&mut r, &mut s.hours, |h, b| h.max = f64::from_bits(b))?;
        }
        SUMMARY_V2 => {}
        _ => return None,
    }
    let n = r.varint()?;
    if n > data.len() as u64 {
        return None;
    }
    s.set_kind = r.byte()?;
    let start = day * CHUNK_MS;
    let mut prev = 0i64;
    for _ in 0..n {
        let a = unzigzag(r.varint()?);
        let b = unzigzag(r.varint()?);
        let c = unzigzag(r.varint()?);
        if format == SUMMARY_V1 {
            s.sets.push((a, b, c));
        } else {
            prev = prev.wrapping_add(a);
            let first = start.wrapping_add(b);
            s.sets.push((prev, first, first.wrapping_add(c)));
        }
    }
    (r.pos == data.len()).then_some(())
}

/// Encodes a summary in format 1, as versions before wrote it (for the upgrade tests).
pub fn encode_summary_v1(s: &Summary) -> Vec<u8> {
    let mut out = vec![SUMMARY_V1];
    put_varint(&mut out, s.hours.len() as u64);
    for h in &s.hours {
        out.push(h.hour);
        put_varint(&mut out, u64::from(h.count));
        out.extend_from_slice(&h.mean().to_le_bytes());
        out.extend_from_slice(&h.max.to_le_bytes());
    }
    put_varint(&mut out, s.sets.len() as u64);
    out.push(s.set_kind);
    for (id, first, last) in &s.sets {
        put_varint(&mut out, zigzag(*id));
        put_varint(&mut out, zigzag(*first));
        put_varint(&mut out, zigzag(*last));
    }
    out
}

/// The summary format written now.
pub const SUMMARY_FORMAT: u8 = SUMMARY_V2;

/// One device's day as devices behave, for measuring density and decoding (the tests and
/// `examples/chunk_codec.rs`): eight series of 288 reports every 5 minutes with seconds of
/// jitter in milliseconds — bytes and packets out with a daily rhythm and noise, a connection
/// count that wavers, auth failures stuck at zero, a port set and a CIDR set that never change,
/// a noisy float and a constant one; about one report in a hundred re-delivered (version 2).
pub fn realistic_day(day: i64, seed: u64) -> Vec<Vec<Point>> {
    /// A series' (kind, value) at report `i`, given the day's random numbers.
    type Shape<'a> = &'a mut dyn FnMut(usize, &mut dyn FnMut() -> u64) -> (u8, i64);
    let mut seed = seed | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let day0 = day * CHUNK_MS;
    let times: Vec<i64> = (0..288)
        .map(|i| day0 + i * 300_000 + (rand() % 6_000) as i64)
        .collect();
    let rhythm = |i: usize| 1.0 + 0.5 * (i as f64 / 288.0 * std::f64::consts::TAU).sin();
    let mut series = |f: Shape<'_>| -> Vec<Point> {
        times
            .iter()
            .enumerate()
            .map(|(i, ts)| {
                let (kind, bits) = f(i, &mut rand);
                Point {
                    ts: *ts,
                    version: if (ts / 1000) % 97 == 0 { 2 } else { 1 },
                    kind,
                    bits,
                }
            })
            .collect()
    };
    vec![
        series(&mut |i, r| (0, (200_000.0 * rhythm(i)) as i64 + (r() % 20_000) as i64)),
        series(&mut |i, r| (0, (900.0 * rhythm(i)) as i64 + (r() % 90) as i64)),
        series(&mut |_, r| (0, 3 + (r() % 2) as i64)),
        series(&mut |_, _| (0, 0)),
        series(&mut |_, _| (2, 17)),
        series(&mut |_, _| (3, 4)),
        series(&mut |i, r| {
            (
                1,
                (0.4 * rhythm(i) + (r() % 100) as f64 / 1000.0).to_bits() as i64,
            )
        }),
        series(&mut |_, _| (1, 12.0f64.to_bits() as i64)),
    ]
}

/// [`realistic_day`] as the datapoints a device's reports give (for the density benchmark and
/// tests that write a cache): the metrics Device Defender names, the port set `{22, 443, 8883}`
/// and one destination, for `thing` on `day`.
pub fn realistic_datapoints(thing: &str, day: i64, seed: u64) -> Vec<crate::model::Datapoint> {
    use crate::model::{Datapoint, MetricValue};
    const METRICS: [&str; 8] = [
        "aws:all-bytes-out",
        "aws:all-packets-out",
        "aws:num-established-tcp-connections",
        "aws:num-authorization-failures",
        "aws:listening-tcp-ports",
        "aws:destination-ip-addresses",
        "cpu-load",
        "firmware-build",
    ];
    realistic_day(day, seed)
        .into_iter()
        .zip(METRICS)
        .flat_map(|(series, metric)| {
            series.into_iter().map(move |p| Datapoint {
                thing: thing.to_string(),
                metric: metric.to_string(),
                dimension: None,
                ts: p.ts,
                version: p.version,
                value: match p.kind {
                    0 => MetricValue::Count(p.bits),
                    1 => MetricValue::Number(f64::from_bits(p.bits as u64)),
                    2 => MetricValue::Ports(vec![22, 443, 8883]),
                    _ => MetricValue::Cidrs(vec!["198.51.100.20/32".to_string()]),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ts: i64, version: i64, bits: i64) -> Point {
        Point {
            ts,
            version,
            kind: 0,
            bits,
        }
    }

    #[test]
    fn round_trip_and_reject_garbage() {
        let pts = vec![
            p(1_717_430_400_000, 1, 5),
            p(1_717_430_700_000, 3, -9),
            Point {
                ts: 1_717_431_000_000,
                version: 0,
                kind: 1,
                bits: 81.5f64.to_bits() as i64,
            },
        ];
        let blob = encode(&pts);
        let mut back = Vec::new();
        decode_into(&blob, None, &mut back).unwrap();
        assert_eq!(back, pts);
        assert!(decode_into(&blob[..blob.len() - 1], None, &mut Vec::new()).is_none());
        assert!(decode_into(&[FORMAT_V1, 200], None, &mut Vec::new()).is_none());
    }

    fn hour(hour: u8, count: u32, sum: f64, min: f64, max: f64) -> Hour {
        Hour {
            hour,
            count,
            sum,
            min,
            max,
        }
    }

    #[test]
    fn summaries_round_trip() {
        let day = 19_877;
        let t0 = day * CHUNK_MS;
        let pts = vec![
            p(t0, 1, 10),
            p(t0 + 300_000, 1, 20),
            p(t0 + 3_600_000, 1, 5),
        ];
        let s = summarize(&pts, day);
        assert_eq!(
            s.hours,
            vec![hour(0, 2, 30.0, 10.0, 20.0), hour(1, 1, 5.0, 5.0, 5.0)]
        );
        assert_eq!(s.hours[0].mean(), 15.0);
        assert_eq!(
            decode_summary(&encode_summary(&s, day), day),
            Some(s.clone())
        );
        // Format 1 (caches made before) still reads: mean and max, the minimum unknown.
        let old = decode_summary(&encode_summary_v1(&s), day).unwrap();
        assert_eq!(old.hours[0].mean(), 15.0);
        assert_eq!(old.hours[0].max, 20.0);
        assert!(old.hours[0].min.is_nan());
        let set = |ts, bits| Point {
            ts,
            version: 1,
            kind: 2,
            bits,
        };
        let sets = vec![set(t0, 77), set(t0 + 1, 78), set(t0 + 2, 77)];
        let s = summarize(&sets, day);
        assert_eq!(s.sets, vec![(77, t0, t0 + 2), (78, t0 + 1, t0 + 1)]);
        assert_eq!(
            decode_summary(&encode_summary(&s, day), day),
            Some(s.clone())
        );
        assert_eq!(decode_summary(&encode_summary_v1(&s), day), Some(s));
    }

    #[test]
    fn summaries_are_exact_and_small() {
        let day = 19_877;
        let realistic = realistic_day(day, 7);
        let (mut v1, mut v2) = (0, 0);
        for series in &realistic {
            let s = summarize(series, day);
            let blob = encode_summary(&s, day);
            let back = decode_summary(&blob, day).unwrap();
            for (a, b) in s.hours.iter().zip(&back.hours) {
                assert_eq!(a.hour, b.hour);
                assert_eq!(a.count, b.count);
                for (x, y) in [(a.sum, b.sum), (a.min, b.min), (a.max, b.max)] {
                    assert_eq!(x.to_bits(), y.to_bits());
                }
            }
            assert_eq!(back.sets, s.sets);
            v1 += encode_summary_v1(&s).len();
            v2 += blob.len();
        }
        // Format 1 took 18 bytes an hour; format 2 keeps a minimum too, in less (noisy floats
        // cost more than 18, counts and steady values far less).
        assert!(v2 * 2 < v1, "format 2 {v2} bytes, format 1 {v1}");
        // Counts sum exactly (in integers), not in floating point.
        let big = [
            p(day * CHUNK_MS, 1, (1 << 53) + 1),
            p(day * CHUNK_MS + 1, 1, 1),
        ];
        assert_eq!(summarize(&big, day).hours[0].sum, ((1i64 << 53) + 2) as f64);
    }

    #[test]
    fn shared_times_round_trip_and_need_their_timeline() {
        let day = realistic_day(19_877, 3);
        let a = encode_shared(&day[0]);
        let b = encode_shared(&day[4]);
        let times = a.times.clone().expect("288 jittered times are shared");
        assert_eq!(b.times.as_ref(), Some(&times), "one report, one timeline");
        assert_eq!(
            timeline_hash(&times),
            timeline_hash(b.times.as_ref().unwrap())
        );
        for (enc, pts) in [(&a, &day[0]), (&b, &day[4])] {
            let mut back = Vec::new();
            decode_into(&enc.data, Some(&times), &mut back).unwrap();
            assert_eq!(&back, pts);
            assert!(decode_into(&enc.data, None, &mut Vec::new()).is_none());
            assert!(
                decode_into(&enc.data, Some(&times[..times.len() - 1]), &mut Vec::new()).is_none()
            );
        }
        // A short day keeps its times inline.
        let short = encode_shared(&day[0][..3]);
        assert!(short.times.is_none());
        let mut back = Vec::new();
        decode_into(&short.data, None, &mut back).unwrap();
        assert_eq!(&back[..], &day[0][..3]);
    }

    #[test]
    fn highest_version_wins_in_any_order() {
        let mut a = vec![p(10, 2, 7), p(10, 1, 99), p(5, 1, 1)];
        normalize(&mut a);
        assert_eq!(a, vec![p(5, 1, 1), p(10, 2, 7)]);
        let mut existing = a.clone();
        assert!(!merge(&mut existing, &[p(10, 1, 50)]));
        assert!(merge(&mut existing, &[p(10, 3, 50), p(20, 1, 0)]));
        assert_eq!(existing, vec![p(5, 1, 1), p(10, 3, 50), p(20, 1, 0)]);
    }

    use proptest::prelude::*;

    fn any_point() -> impl Strategy<Value = Point> {
        let ts = prop_oneof![
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
            (0i64..288).prop_map(|i| 1_717_430_400_000 + i * 300_000),
            (0i64..2_000).prop_map(|i| 1_717_430_400_000 + i * 1_000),
        ];
        let bits = prop_oneof![
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
            Just((-0.0f64).to_bits() as i64),
            Just(f64::NAN.to_bits() as i64),
            Just((f64::NAN.to_bits() | 0xdead) as i64),
            Just(f64::INFINITY.to_bits() as i64),
            (0i64..5).prop_map(|v| (v as f64).to_bits() as i64),
            -3i64..3,
        ];
        (
            ts,
            prop_oneof![Just(1i64), Just(2), any::<i64>()],
            0u8..6,
            bits,
        )
            .prop_map(|(ts, version, kind, bits)| Point {
                ts,
                version,
                kind,
                bits,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any points — unsorted, duplicate timestamps with versions, extreme times, any float
        /// bits (NaN payloads, −0.0), i64 extremes, mixed kinds — come back exactly, in either
        /// format.
        #[test]
        fn any_points_round_trip_in_both_formats(mut pts in proptest::collection::vec(any_point(), 0..300)) {
            normalize(&mut pts);
            let shared = encode_shared(&pts);
            for (blob, times) in [(encode(&pts), None), (encode_v1(&pts), None), (shared.data, shared.times)] {
                let mut back = Vec::new();
                prop_assert!(decode_into(&blob, times.as_deref(), &mut back).is_some());
                prop_assert_eq!(back.len(), pts.len());
                for (a, b) in back.iter().zip(&pts) {
                    prop_assert_eq!((a.ts, a.version, a.kind, a.bits), (b.ts, b.version, b.kind, b.bits));
                }
            }
        }

        /// Same-kind runs (what real series are) too, where the layouts that predict apply.
        #[test]
        fn one_kind_series_round_trip(kind in 0u8..6, start in any::<i64>(), step in 1i64..1_000_000,
                                      vals in proptest::collection::vec(any::<i64>(), 1..300), runs in any::<bool>()) {
            let mut pts: Vec<Point> = vals.iter().enumerate().map(|(i, v)| Point {
                ts: start.wrapping_add(step.wrapping_mul(i as i64)),
                version: 1,
                kind,
                bits: if runs { *v % 3 } else { *v },
            }).collect();
            normalize(&mut pts);
            let mut back = Vec::new();
            prop_assert!(decode_into(&encode(&pts), None, &mut back).is_some());
            prop_assert_eq!(back, pts);
        }

        /// Summaries keep every hour's count, sum, min and max bit for bit.
        #[test]
        fn summaries_round_trip_exactly(mut pts in proptest::collection::vec(any_point(), 0..300)) {
            normalize(&mut pts);
            let day = 19_877;
            let s = summarize(&pts, day);
            let back = decode_summary(&encode_summary(&s, day), day).expect("decodes");
            prop_assert_eq!(back.hours.len(), s.hours.len());
            for (a, b) in s.hours.iter().zip(&back.hours) {
                prop_assert_eq!((a.hour, a.count), (b.hour, b.count));
                prop_assert_eq!(
                    (a.sum.to_bits(), a.min.to_bits(), a.max.to_bits()),
                    (b.sum.to_bits(), b.min.to_bits(), b.max.to_bits())
                );
            }
            prop_assert_eq!(back.sets, s.sets);
        }

        /// A damaged chunk is refused (or read as some points), never a panic or a huge
        /// allocation.
        #[test]
        fn garbage_never_panics(mut blob in proptest::collection::vec(any::<u8>(), 0..200),
                                format in 1u8..4, times in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(b) = blob.first_mut() {
                *b = format;
            }
            let mut out = Vec::new();
            let _ = decode_into(&blob, Some(&times), &mut out);
            prop_assert!(out.len() <= blob.len().max(times.len()));
            let _ = decode_summary(&blob, 19_877);
        }
    }

    /// A day of one device as devices behave: format 2 holds the points in under half of
    /// format 1's bytes (the chunk only: summaries, names and indexes are measured by the
    /// density benchmark, `examples/chunk_codec.rs`).
    #[test]
    fn a_realistic_day_takes_under_half_the_bytes() {
        let day = realistic_day(19_877, 0x2545_f491_4f6c_dd1d);
        let times = &day[0];
        let (v1, v2): (usize, usize) = day
            .iter()
            .map(|s| (encode_v1(s).len(), encode(s).len()))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let points = (day.len() * times.len()) as f64;
        println!(
            "format 1: {:.2} B/pt, format 2: {:.2} B/pt",
            v1 as f64 / points,
            v2 as f64 / points
        );
        assert!(v2 * 2 < v1, "format 2 {v2} bytes, format 1 {v1}");
        for s in &day {
            let mut back = Vec::new();
            decode_into(&encode(s), None, &mut back).unwrap();
            assert_eq!(&back, s);
        }
    }
}
