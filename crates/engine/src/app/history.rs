//! The cache's history on the app's side: chunks an older version wrote are upgraded in the
//! background in short steps, and the *keep raw points* setting compacts older days into exact
//! hourly aggregates (`ddesk compact` does the same by hand). Both run on the shell's history
//! thread ([`Desk::maintain_history`]), each step a short write transaction of its own
//! connection, so screens and syncs keep working meanwhile.

use serde::Serialize;
use ts_rs::TS;

use super::query::STEP_CHUNKS;
use super::Desk;
use crate::store::Store;
use crate::time::{self, Millis, DAY};
use crate::{Error, Result};

/// The setting's key in the cache's metadata: days of raw points kept.
const KEEP_RAW_META: &str = "keep_raw_days";

/// The longest *keep raw points* setting: ten years.
pub const MAX_KEEP_RAW_DAYS: u32 = 3_660;

/// Steps one [`Desk::maintain_history`] call takes at most (about half a second of work).
const STEPS_PER_CALL: usize = 5;

/// The cache's history as the Sources screen shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HistoryView {
    /// Bytes of the cache's pages in use.
    pub file_bytes: f64,
    /// Points held raw.
    pub points: f64,
    /// Points held as hourly aggregates (compacted days).
    pub compacted_points: f64,
    /// Bytes per point, the whole file counted.
    pub bytes_per_point: f64,
    /// The oldest data.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub oldest: Option<Millis>,
    /// Chunks an older version wrote are still being upgraded (in the background).
    pub upgrade_pending: bool,
    /// Raw points are kept this many days, older days become hourly aggregates; `None`: never
    /// compacted (the default).
    pub keep_raw_days: Option<u32>,
}

fn keep_raw_days(store: &Store) -> Result<Option<u32>> {
    Ok(store
        .meta(KEEP_RAW_META)?
        .and_then(|v| v.parse().ok())
        .filter(|d| (1..=MAX_KEEP_RAW_DAYS).contains(d)))
}

impl Desk {
    /// The shown cache's size and span (the demo fleet's while it is shown), and the
    /// analyst's cache's *keep raw points* setting.
    pub fn history(&self) -> Result<HistoryView> {
        let store = Store::open(&self.active()?)?;
        // The totals come from indexes: the panel opens in milliseconds on any size of cache.
        let s = store.totals()?;
        let keep = keep_raw_days(&Store::open(&self.cache)?)?;
        Ok(HistoryView {
            file_bytes: s.file_bytes as f64,
            points: s.points as f64,
            compacted_points: s.compacted_points as f64,
            bytes_per_point: s.bytes_per_point,
            oldest: s.oldest,
            upgrade_pending: s.upgrade_pending,
            keep_raw_days: keep,
        })
    }

    /// Sets how many days of raw points the analyst's cache keeps (`None`: all of them); the
    /// compaction it asks for runs on the history thread.
    pub fn set_keep_raw(&self, days: Option<u32>) -> Result<HistoryView> {
        let store = Store::open(&self.cache)?;
        match days {
            Some(d) if !(1..=MAX_KEEP_RAW_DAYS).contains(&d) => {
                return Err(Error::InvalidInput(format!(
                    "keep raw points for 1 to {MAX_KEEP_RAW_DAYS} days, not {d}"
                )))
            }
            Some(d) => store.set_meta(KEEP_RAW_META, &d.to_string())?,
            None => store.delete_meta(KEEP_RAW_META)?,
        }
        drop(store);
        self.history()
    }

    /// One bounded slice of background work on the analyst's cache (once it exists): upgrade
    /// steps while chunks of an older format are left, then compaction steps when *keep raw
    /// points* is set. Returns whether work is left (call again soon) or not (call again
    /// later).
    pub fn maintain_history(&self) -> Result<bool> {
        if !self.cache.is_file() {
            return Ok(false);
        }
        let mut store = Store::open(&self.cache)?;
        let (more, compacted) = maintain(&mut store, self.clock.now())?;
        if compacted > 0 {
            self.forget_rankings();
        }
        Ok(more)
    }
}

/// One bounded slice of the cache's background work (the app's history thread and each round
/// of `ddesk watch`): up to [`STEPS_PER_CALL`] upgrade steps while chunks of an older format
/// are left, then as many compaction steps when *keep raw points* is set. Returns whether work
/// is left, and how many series-days it compacted.
pub fn maintain(store: &mut Store, now: Millis) -> Result<(bool, u64)> {
    if store.read_only() {
        return Ok((false, 0));
    }
    for _ in 0..STEPS_PER_CALL {
        if !store.upgrade_chunks(STEP_CHUNKS)?.pending {
            break;
        }
    }
    if store.upgrade_pending()? {
        return Ok((true, 0));
    }
    let Some(days) = keep_raw_days(store)? else {
        return Ok((false, 0));
    };
    let keep_from = now - i64::from(days) * DAY;
    let mut compacted = 0;
    for _ in 0..STEPS_PER_CALL {
        let step = store.compact(keep_from, STEP_CHUNKS)?;
        compacted += step.days;
        if !step.pending {
            if compacted > 0 {
                tracing::info!(
                    days = compacted,
                    "compacted the days before {}",
                    time::to_rfc3339(keep_from)
                );
            }
            return Ok((false, compacted));
        }
    }
    Ok((true, compacted))
}
