//! The cache's own history: `ddesk stats` (size by kind, points, bytes per point, the oldest
//! data), `ddesk compact` (old days into exact hourly aggregates) and `ddesk upgrade` (chunks
//! an older version wrote, rewritten in short steps).

use serde::Serialize;

use crate::store::{CacheStats, Store};
use crate::time::{self, Millis};
use crate::Result;

/// Chunks per upgrade or compaction step: one short write transaction each (tens of
/// milliseconds), so the app and other `ddesk` commands keep working meanwhile.
pub const STEP_CHUNKS: usize = 1_000;

/// `ddesk stats`: the store's figures.
pub fn stats(store: &Store) -> Result<CacheStats> {
    Ok(store.stats()?)
}

/// What `ddesk compact` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompactRecord {
    /// Raw points are kept from this instant on; the days before it are hourly aggregates.
    #[serde(serialize_with = "time::instant")]
    pub keep_raw_from: Millis,
    /// Series-days compacted by this run.
    pub days: u64,
    /// The points those days held.
    pub points: u64,
    /// Bytes in use before (pages; freed pages are reused, `VACUUM` returns them to the OS).
    pub bytes_before: i64,
    /// Bytes in use after.
    pub bytes_after: i64,
}

/// Compacts every day that ends before `now - keep_raw`, in steps of [`STEP_CHUNKS`]; a run
/// interrupted between steps leaves a consistent cache, and the next run continues.
pub fn compact(store: &mut Store, keep_raw: Millis, now: Millis) -> Result<CompactRecord> {
    let keep_raw_from = now.saturating_sub(keep_raw);
    let bytes_before = store.size_bytes()?;
    let (mut days, mut points) = (0, 0);
    loop {
        let step = store.compact(keep_raw_from, STEP_CHUNKS)?;
        days += step.days;
        points += step.points;
        if !step.pending {
            break;
        }
    }
    Ok(CompactRecord {
        keep_raw_from,
        days,
        points,
        bytes_before,
        bytes_after: store.size_bytes()?,
    })
}

/// What `ddesk upgrade` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UpgradeRecord {
    /// Chunks looked at.
    pub checked: u64,
    /// Chunks rewritten in the current formats.
    pub rewritten: u64,
    /// Steps (write transactions) taken.
    pub steps: u64,
}

/// Upgrades every chunk an older version wrote, in steps of [`STEP_CHUNKS`], resuming where
/// an earlier run (or the app) stopped.
pub fn upgrade(store: &mut Store) -> Result<UpgradeRecord> {
    let mut r = UpgradeRecord {
        checked: 0,
        rewritten: 0,
        steps: 0,
    };
    loop {
        let step = store.upgrade_chunks(STEP_CHUNKS)?;
        r.checked += step.checked;
        r.rewritten += step.rewritten;
        r.steps += 1;
        if !step.pending {
            return Ok(r);
        }
    }
}
