//! Chunk format 2: each column of a chunk stated once and predicted, byte-aligned so decoding
//! stays a run of varint reads with few branches.
//!
//! - **Time**: the first timestamp, then the chunk's *unit* (the greatest common divisor of its
//!   gaps: 1000 when a device reports whole seconds), the first gap and, per further point, the
//!   zigzag varint of the change of gap in units (delta-of-delta): reports every 5 minutes give
//!   0 each, seconds of jitter one byte.
//! - **Kind** and **version**: the most common one stated once, the points that differ listed
//!   after it as (gap in points, value) — a chunk of one kind and version costs two bytes.
//! - **Values**, in one of five layouts chosen per chunk: integers as zigzag deltas, or as runs
//!   of (delta, length) when they repeat (a set id that never changes, a counter stuck at zero:
//!   a few bytes for the whole day); floats that are all integers (not −0.0) as such, others by
//!   XOR with the previous value with its leading and trailing zero bytes dropped (Gorilla's
//!   idea on bytes); a chunk mixing floats and integers (kinds differing) point by point.
//!
//! Every point round-trips exactly (any float bits, NaN payloads, −0.0, i64 extremes).

use super::{put_varint, unzigzag, zigzag, Point, Reader};
use crate::model::ValueKind;

/// This format's first byte.
pub(super) const FORMAT: u8 = 2;

const INTS: u8 = 0;
const INT_RUNS: u8 = 1;
const FLOAT_XOR: u8 = 2;
const FLOAT_INTS: u8 = 3;
const MIXED: u8 = 4;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The most common value of `it` (the first of the most common on ties).
fn mode<T: Copy + Eq + std::hash::Hash>(it: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for v in it {
        match counts.iter_mut().find(|(x, _)| *x == v) {
            Some(c) => c.1 += 1,
            None => {
                if counts.len() < 16 {
                    counts.push((v, 1));
                }
            }
        }
    }
    let max = counts.iter().map(|c| c.1).max()?;
    counts.into_iter().find(|c| c.1 == max).map(|c| c.0)
}

/// Exceptions to a column's common value: (gap in points since the last, value).
fn exceptions(out: &mut Vec<u8>, values: impl Iterator<Item = i64>, common: i64) {
    let list: Vec<(usize, i64)> = values.enumerate().filter(|(_, v)| *v != common).collect();
    put_varint(out, list.len() as u64);
    let mut last = 0;
    for (i, v) in list {
        put_varint(out, (i - last) as u64);
        put_varint(out, zigzag(v));
        last = i;
    }
}

/// Whether an `f64`'s bits are an integer kept exactly as an `i64` (and back).
fn integral(bits: i64) -> Option<i64> {
    let v = f64::from_bits(bits as u64);
    let i = v as i64;
    ((i as f64).to_bits() == bits as u64 && v.abs() < 9.0e15).then_some(i)
}

/// Encodes points (sorted by time, one per timestamp).
pub(super) fn encode(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + points.len() * 2);
    out.push(FORMAT);
    put_varint(&mut out, points.len() as u64);
    let Some(first) = points.first() else {
        return out;
    };
    // Time.
    put_varint(&mut out, zigzag(first.ts));
    if points.len() > 1 {
        let unit = points
            .windows(2)
            .fold(0u64, |g, w| gcd(g, w[1].ts.wrapping_sub(w[0].ts) as u64))
            .max(1);
        put_varint(&mut out, unit);
        let mut prev_gap = 0i64;
        for w in points.windows(2) {
            let gap = (w[1].ts.wrapping_sub(w[0].ts) as u64 / unit) as i64;
            put_varint(&mut out, zigzag(gap.wrapping_sub(prev_gap)));
            prev_gap = gap;
        }
    }
    // Kind and version.
    let kind = mode(points.iter().map(|p| p.kind)).unwrap_or(0);
    out.push(kind);
    exceptions(
        &mut out,
        points.iter().map(|p| i64::from(p.kind)),
        i64::from(kind),
    );
    let version = mode(points.iter().map(|p| p.version)).unwrap_or(0);
    put_varint(&mut out, zigzag(version));
    exceptions(&mut out, points.iter().map(|p| p.version), version);
    // Values.
    let real = |p: &Point| p.kind == ValueKind::Number as u8;
    if points.iter().all(|p| !real(p)) {
        let runs = 1 + points.windows(2).filter(|w| w[0].bits != w[1].bits).count();
        if runs * 2 < points.len() {
            out.push(INT_RUNS);
            put_varint(&mut out, runs as u64);
            let mut prev = 0i64;
            let mut i = 0;
            while i < points.len() {
                let v = points[i].bits;
                let mut j = i + 1;
                while j < points.len() && points[j].bits == v {
                    j += 1;
                }
                put_varint(&mut out, zigzag(v.wrapping_sub(prev)));
                put_varint(&mut out, (j - i) as u64);
                prev = v;
                i = j;
            }
        } else {
            out.push(INTS);
            let mut prev = 0i64;
            for p in points {
                put_varint(&mut out, zigzag(p.bits.wrapping_sub(prev)));
                prev = p.bits;
            }
        }
    } else if points.iter().all(real) {
        let ints: Option<Vec<i64>> = points.iter().map(|p| integral(p.bits)).collect();
        match ints {
            Some(ints) => {
                out.push(FLOAT_INTS);
                let mut prev = 0i64;
                for v in ints {
                    put_varint(&mut out, zigzag(v.wrapping_sub(prev)));
                    prev = v;
                }
            }
            None => {
                out.push(FLOAT_XOR);
                let mut prev = 0u64;
                for p in points {
                    let x = (p.bits as u64) ^ prev;
                    prev = p.bits as u64;
                    let lead = (x.leading_zeros() / 8) as usize;
                    let trail = if x == 0 {
                        0
                    } else {
                        (x.trailing_zeros() / 8) as usize
                    };
                    let len = if x == 0 { 0 } else { 8 - lead - trail };
                    // Control byte: trailing zero bytes (0–7), meaningful bytes (0–8).
                    out.push(((trail as u8) << 4) | len as u8);
                    let bytes = x.to_be_bytes();
                    out.extend_from_slice(&bytes[lead..lead + len]);
                }
            }
        }
    } else {
        out.push(MIXED);
        for p in points {
            if real(p) {
                out.extend_from_slice(&p.bits.to_le_bytes());
            } else {
                put_varint(&mut out, zigzag(p.bits));
            }
        }
    }
    out
}

/// Reads an exceptions list into `col` (already filled with the common value).
fn read_exceptions(r: &mut Reader<'_>, col: &mut [i64]) -> Option<()> {
    let k = r.varint()?;
    if k > col.len() as u64 {
        return None;
    }
    let mut i = 0usize;
    for _ in 0..k {
        i = i.checked_add(usize::try_from(r.varint()?).ok()?)?;
        *col.get_mut(i)? = unzigzag(r.varint()?);
    }
    Some(())
}

/// Decodes a format-2 chunk (its format byte already read), appending to `out`.
pub(super) fn decode_into(r: &mut Reader<'_>, out: &mut Vec<Point>) -> Option<()> {
    let n = r.varint()?;
    // Every point past the first costs at least one byte of the time column.
    if n > r.data.len() as u64 {
        return None;
    }
    let n = n as usize;
    if n == 0 {
        return (r.pos == r.data.len()).then_some(());
    }
    let base = out.len();
    out.reserve(n);
    let mut ts = unzigzag(r.varint()?);
    out.push(Point {
        ts,
        version: 0,
        kind: 0,
        bits: 0,
    });
    if n > 1 {
        let unit = r.varint()?;
        if unit == 0 {
            return None;
        }
        let mut gap = 0i64;
        for _ in 1..n {
            gap = gap.wrapping_add(unzigzag(r.varint()?));
            ts = ts.wrapping_add(gap.wrapping_mul(unit as i64));
            out.push(Point {
                ts,
                version: 0,
                kind: 0,
                bits: 0,
            });
        }
    }
    let pts = &mut out[base..];
    let kind = r.byte()?;
    let mut kinds = vec![i64::from(kind); n];
    read_exceptions(r, &mut kinds)?;
    let version = unzigzag(r.varint()?);
    let mut versions = vec![version; n];
    read_exceptions(r, &mut versions)?;
    for ((p, k), v) in pts.iter_mut().zip(&kinds).zip(&versions) {
        let k = u8::try_from(*k).ok()?;
        ValueKind::from_code(i64::from(k))?;
        p.kind = k;
        p.version = *v;
    }
    let real = ValueKind::Number as u8;
    let layout = r.byte()?;
    // Each layout holds one class of kind; only the mixed one both.
    let reals = pts.iter().filter(|p| p.kind == real).count();
    match layout {
        INTS | INT_RUNS if reals != 0 => return None,
        FLOAT_INTS | FLOAT_XOR if reals != n => return None,
        _ => {}
    }
    match layout {
        INTS => {
            let mut prev = 0i64;
            for p in pts.iter_mut() {
                prev = prev.wrapping_add(unzigzag(r.varint()?));
                p.bits = prev;
            }
        }
        INT_RUNS => {
            let runs = r.varint()?;
            let mut i = 0usize;
            let mut prev = 0i64;
            for _ in 0..runs {
                prev = prev.wrapping_add(unzigzag(r.varint()?));
                let len = usize::try_from(r.varint()?).ok()?;
                let end = i.checked_add(len)?;
                for p in pts.get_mut(i..end)? {
                    p.bits = prev;
                }
                i = end;
            }
            if i != n {
                return None;
            }
        }
        FLOAT_INTS => {
            let mut prev = 0i64;
            for p in pts.iter_mut() {
                prev = prev.wrapping_add(unzigzag(r.varint()?));
                p.bits = (prev as f64).to_bits() as i64;
            }
        }
        FLOAT_XOR => {
            let mut prev = 0u64;
            for p in pts.iter_mut() {
                let c = r.byte()?;
                let (trail, len) = (usize::from(c >> 4), usize::from(c & 0x0f));
                if len > 8 || trail + len > 8 {
                    return None;
                }
                let bytes = r.data.get(r.pos..r.pos + len)?;
                r.pos += len;
                let mut x = 0u64;
                for b in bytes {
                    x = (x << 8) | u64::from(*b);
                }
                x <<= 8 * trail;
                prev ^= x;
                p.bits = prev as i64;
            }
        }
        MIXED => {
            for p in pts.iter_mut() {
                p.bits = if p.kind == real {
                    r.fixed()?
                } else {
                    unzigzag(r.varint()?)
                };
            }
        }
        _ => return None,
    }
    (r.pos == r.data.len()).then_some(())
}
