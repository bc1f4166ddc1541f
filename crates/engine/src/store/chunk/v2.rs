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
//!
//! Format 3 is this format's body alone: its time column, coded the same way, is kept apart
//! as a timeline (see the parent module). The column codings are shared with the summaries'
//! hourly columns (`write_ints`, `write_floats`).

use super::{put_varint, unzigzag, zigzag, Point, Reader};
use crate::model::ValueKind;

/// This format's first byte.
pub(super) const FORMAT: u8 = 2;

const INTS: u8 = 0;
const INT_RUNS: u8 = 1;
const FLOAT_XOR: u8 = 2;
const FLOAT_INTS: u8 = 3;
const MIXED: u8 = 4;
const FLOAT_INT_RUNS: u8 = 5;

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

/// Encodes points (sorted by time, one per timestamp) in format 2: times inline.
pub(super) fn encode(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + points.len() * 2);
    out.push(FORMAT);
    encode_times(&mut out, points);
    encode_body(&mut out, points);
    out
}

/// The time column: the count, the first timestamp, the unit and the deltas-of-deltas.
pub(super) fn encode_times(out: &mut Vec<u8>, points: &[Point]) {
    put_varint(out, points.len() as u64);
    let Some(first) = points.first() else {
        return;
    };
    put_varint(out, zigzag(first.ts));
    if points.len() > 1 {
        let unit = points
            .windows(2)
            .fold(0u64, |g, w| gcd(g, w[1].ts.wrapping_sub(w[0].ts) as u64))
            .max(1);
        put_varint(out, unit);
        let mut prev_gap = 0i64;
        for w in points.windows(2) {
            let gap = (w[1].ts.wrapping_sub(w[0].ts) as u64 / unit) as i64;
            put_varint(out, zigzag(gap.wrapping_sub(prev_gap)));
            prev_gap = gap;
        }
    }
}

/// Everything but the time column: kinds, versions, values (nothing for no points).
pub(super) fn encode_body(out: &mut Vec<u8>, points: &[Point]) {
    if points.is_empty() {
        return;
    }
    // Kind and version.
    let kind = mode(points.iter().map(|p| p.kind)).unwrap_or(0);
    out.push(kind);
    exceptions(
        out,
        points.iter().map(|p| i64::from(p.kind)),
        i64::from(kind),
    );
    let version = mode(points.iter().map(|p| p.version)).unwrap_or(0);
    put_varint(out, zigzag(version));
    exceptions(out, points.iter().map(|p| p.version), version);
    // Values.
    let real = |p: &Point| p.kind == ValueKind::Number as u8;
    if points.iter().all(|p| !real(p)) {
        put_ints(out, points.iter().map(|p| p.bits), INTS, INT_RUNS);
    } else if points.iter().all(real) {
        put_floats(out, points.iter().map(|p| p.bits as u64));
    } else {
        out.push(MIXED);
        for p in points {
            if real(p) {
                out.extend_from_slice(&p.bits.to_le_bytes());
            } else {
                put_varint(out, zigzag(p.bits));
            }
        }
    }
}

/// An integer column: its layout byte (`deltas` or `runs`, whichever is smaller), then zigzag
/// deltas, or (delta, length) runs when values repeat.
fn put_ints<I>(out: &mut Vec<u8>, values: I, deltas: u8, runs: u8)
where
    I: Iterator<Item = i64> + Clone,
{
    let n = values.clone().count();
    let mut changes = 0usize;
    let mut last = None;
    for v in values.clone() {
        if last != Some(v) {
            changes += 1;
            last = Some(v);
        }
    }
    let mut prev = 0i64;
    if changes * 2 < n {
        out.push(runs);
        put_varint(out, changes as u64);
        let mut it = values.peekable();
        while let Some(v) = it.next() {
            let mut len = 1u64;
            while it.next_if_eq(&v).is_some() {
                len += 1;
            }
            put_varint(out, zigzag(v.wrapping_sub(prev)));
            put_varint(out, len);
            prev = v;
        }
    } else {
        out.push(deltas);
        for v in values {
            put_varint(out, zigzag(v.wrapping_sub(prev)));
            prev = v;
        }
    }
}

/// A float column (bits): as integers when every value is one, else XOR-coded.
fn put_floats<I>(out: &mut Vec<u8>, bits: I)
where
    I: Iterator<Item = u64> + Clone,
{
    let ints = bits.clone().map(|b| integral(b as i64));
    if ints.clone().all(|i| i.is_some()) {
        put_ints(out, ints.flatten(), FLOAT_INTS, FLOAT_INT_RUNS);
        return;
    }
    out.push(FLOAT_XOR);
    let mut prev = 0u64;
    for b in bits {
        let x = b ^ prev;
        prev = b;
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

/// Decodes a format-2 chunk (its format byte already read), appending to `out`.
pub(super) fn decode_into(r: &mut Reader<'_>, out: &mut Vec<Point>) -> Option<()> {
    let base = out.len();
    let n = decode_times(r, out)?;
    decode_body(r, &mut out[base..], n)
}

/// Reads a time column, appending its points (times only) to `out`; returns their count.
pub(super) fn decode_times(r: &mut Reader<'_>, out: &mut Vec<Point>) -> Option<usize> {
    let n = r.varint()?;
    // Every point past the first costs at least one byte of the time column.
    if n > r.data.len() as u64 {
        return None;
    }
    let n = n as usize;
    if n == 0 {
        return Some(0);
    }
    out.reserve(n);
    let mut ts = unzigzag(r.varint()?);
    let blank = |ts| Point {
        ts,
        version: 0,
        kind: 0,
        bits: 0,
    };
    out.push(blank(ts));
    if n > 1 {
        let unit = r.varint()?;
        if unit == 0 {
            return None;
        }
        let mut gap = 0i64;
        for _ in 1..n {
            gap = gap.wrapping_add(unzigzag(r.varint()?));
            ts = ts.wrapping_add(gap.wrapping_mul(unit as i64));
            out.push(blank(ts));
        }
    }
    Some(n)
}

/// Reads the rest of a chunk into `pts` (its `n` points, times set), to the end of `r`.
pub(super) fn decode_body(r: &mut Reader<'_>, pts: &mut [Point], n: usize) -> Option<()> {
    if n == 0 || pts.len() != n {
        return (n == pts.len() && r.pos == r.data.len()).then_some(());
    }
    let kind = r.byte()?;
    ValueKind::from_code(i64::from(kind))?;
    for p in pts.iter_mut() {
        p.kind = kind;
    }
    read_exceptions(r, n, |i, v| {
        let k = u8::try_from(v).ok()?;
        ValueKind::from_code(i64::from(k))?;
        pts[i].kind = k;
        Some(())
    })?;
    let version = unzigzag(r.varint()?);
    for p in pts.iter_mut() {
        p.version = version;
    }
    read_exceptions(r, n, |i, v| {
        pts[i].version = v;
        Some(())
    })?;
    let real = ValueKind::Number as u8;
    let layout = r.byte()?;
    // Each layout holds one class of kind; only the mixed one both.
    let reals = pts.iter().filter(|p| p.kind == real).count();
    match layout {
        INTS | INT_RUNS if reals != 0 => return None,
        FLOAT_INTS | FLOAT_INT_RUNS | FLOAT_XOR if reals != n => return None,
        _ => {}
    }
    match layout {
        INTS | INT_RUNS => read_ints(r, layout == INT_RUNS, pts, |p, v| p.bits = v)?,
        FLOAT_INTS | FLOAT_INT_RUNS => read_ints(r, layout == FLOAT_INT_RUNS, pts, |p, v| {
            p.bits = (v as f64).to_bits() as i64;
        })?,
        FLOAT_XOR => read_xor(r, pts, |p, b| p.bits = b as i64)?,
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

/// Reads an exceptions list of a column of `n`: `set(index, value)` for each.
fn read_exceptions(
    r: &mut Reader<'_>,
    n: usize,
    mut set: impl FnMut(usize, i64) -> Option<()>,
) -> Option<()> {
    let k = r.varint()?;
    if k > n as u64 {
        return None;
    }
    let mut i = 0usize;
    for _ in 0..k {
        i = i.checked_add(usize::try_from(r.varint()?).ok()?)?;
        if i >= n {
            return None;
        }
        set(i, unzigzag(r.varint()?))?;
    }
    Some(())
}

/// Reads an integer column (its layout byte already read) into `items`.
fn read_ints<T>(
    r: &mut Reader<'_>,
    runs: bool,
    items: &mut [T],
    mut set: impl FnMut(&mut T, i64),
) -> Option<()> {
    let mut prev = 0i64;
    if !runs {
        for item in items.iter_mut() {
            prev = prev.wrapping_add(unzigzag(r.varint()?));
            set(item, prev);
        }
        return Some(());
    }
    let count = r.varint()?;
    let mut i = 0usize;
    for _ in 0..count {
        prev = prev.wrapping_add(unzigzag(r.varint()?));
        let len = usize::try_from(r.varint()?).ok()?;
        let end = i.checked_add(len)?;
        for item in items.get_mut(i..end)? {
            set(item, prev);
        }
        i = end;
    }
    (i == items.len()).then_some(())
}

/// Reads an XOR-coded float column (its layout byte already read) into `items`.
fn read_xor<T>(
    r: &mut Reader<'_>,
    items: &mut [T],
    mut set: impl FnMut(&mut T, u64),
) -> Option<()> {
    let mut prev = 0u64;
    for item in items.iter_mut() {
        let c = r.byte()?;
        let (trail, len) = (usize::from(c >> 4), usize::from(c & 0x0f));
        if trail > 7 || trail + len > 8 {
            return None;
        }
        let bytes = r.data.get(r.pos..r.pos + len)?;
        r.pos += len;
        let mut x = 0u64;
        for b in bytes {
            x = (x << 8) | u64::from(*b);
        }
        prev ^= x << (8 * trail);
        set(item, prev);
    }
    Some(())
}

/// A float column: its layout byte, then as [`put_floats`] wrote it.
pub(super) fn write_floats(out: &mut Vec<u8>, bits: &[u64]) {
    put_floats(out, bits.iter().copied());
}

/// Reads a float column [`write_floats`] wrote into `items`.
pub(super) fn read_floats<T>(
    r: &mut Reader<'_>,
    items: &mut [T],
    mut set: impl FnMut(&mut T, u64),
) -> Option<()> {
    match r.byte()? {
        FLOAT_XOR => read_xor(r, items, set),
        l @ (FLOAT_INTS | FLOAT_INT_RUNS) => read_ints(r, l == FLOAT_INT_RUNS, items, |t, v| {
            set(t, (v as f64).to_bits());
        }),
        _ => None,
    }
}

/// An integer column: its layout byte, then as [`put_ints`] wrote it.
pub(super) fn write_ints(out: &mut Vec<u8>, values: &[i64]) {
    put_ints(out, values.iter().copied(), INTS, INT_RUNS);
}

/// Reads an integer column [`write_ints`] wrote into `items`.
pub(super) fn read_int_column<T>(
    r: &mut Reader<'_>,
    items: &mut [T],
    set: impl FnMut(&mut T, i64),
) -> Option<()> {
    match r.byte()? {
        l @ (INTS | INT_RUNS) => read_ints(r, l == INT_RUNS, items, set),
        _ => None,
    }
}
