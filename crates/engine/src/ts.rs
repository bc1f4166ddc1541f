//! How 64-bit integers cross to the UI: as JSON numbers, named for what they hold.
//!
//! ts-rs declares `i64`/`u64` as TypeScript `bigint`, which `JSON.parse` never produces: the
//! UI would be typed against values it cannot receive. Every 64-bit field of a type that
//! crosses IPC says instead what it is, with `#[ts(as = "crate::ts::Millis")]` (or
//! `Option<…>`, `Vec<…>`) — declared once in `ui/src/bindings.ts` as `type Millis = number` —
//! and the bindings test fails on any `bigint` left.
//!
//! Exact as numbers: an instant is at most 9999-12-31 ([`crate::time::MAX_MS`], 2.5·10^14, far
//! below 2^53), and a count or log sequence number would need 2^53 records to lose a unit.

use ts_rs::TS;

/// Epoch milliseconds, UTC ([`crate::time::Millis`]), as the UI receives them.
#[derive(TS)]
#[ts(type = "number")]
pub struct Millis;

/// A count, a size in bytes or a log sequence number (`u64`), as the UI receives it.
#[derive(TS)]
#[ts(type = "number")]
pub struct Count;
