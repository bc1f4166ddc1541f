//! A year of history in the cache: the shared timelines chunks keep their times in, writing a
//! chunk with its summary, the bounded upgrade of chunks older versions wrote, compaction of
//! old days into exact hourly aggregates, and the cache's statistics (`ddesk stats`).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::chunk::{self, Point, CHUNK_MS};
use super::{Store, StoreError};
use crate::model::ValueKind;
use crate::time::Millis;

/// The meta key holding the upgrade's position: the last chunk id it looked at, or `done`.
/// Absent in a cache created by this version (nothing to upgrade).
const UPGRADE_KEY: &str = "chunk_upgrade";

/// The timeline references one transaction takes and lets go of, counted in memory and
/// written once at [`Timelines::flush`]: one report gives every metric of a thing the same
/// times, so the first series of a thing-day finds (or stores) its timeline and the others
/// take it without a statement.
#[derive(Default)]
pub(super) struct Timelines {
    /// The timelines looked up in this transaction, by hash: (bytes, id).
    seen: fnv::FnvHashMap<i64, Vec<(Vec<u8>, i64)>>,
    /// Change of refs not yet written, by id.
    delta: fnv::FnvHashMap<i64, i64>,
}

impl Timelines {
    /// Finds or stores a timeline and takes one reference on it.
    fn take(&mut self, conn: &Connection, times: &[u8]) -> Result<i64, StoreError> {
        let hash = chunk::timeline_hash(times);
        let known = self.seen.entry(hash).or_default();
        let id = match known.iter().find(|e| e.0 == times) {
            Some(e) => e.1,
            None => {
                let mut find =
                    conn.prepare_cached("SELECT id, data FROM timeline WHERE hash = ?1")?;
                let mut rows = find.query([hash])?;
                let mut id = None;
                while let Some(r) = rows.next()? {
                    if r.get_ref(1)?.as_blob().ok() == Some(times) {
                        id = Some(r.get(0)?);
                        break;
                    }
                }
                let id = match id {
                    Some(id) => id,
                    None => {
                        conn.prepare_cached(
                            "INSERT INTO timeline(hash, refs, data) VALUES (?1, 0, ?2)",
                        )?
                        .execute(params![hash, times])?;
                        conn.last_insert_rowid()
                    }
                };
                known.push((times.to_vec(), id));
                id
            }
        };
        *self.delta.entry(id).or_default() += 1;
        Ok(id)
    }

    /// Lets go of one reference on a timeline.
    fn release(&mut self, id: i64) {
        *self.delta.entry(id).or_default() -= 1;
    }

    /// Writes the changes of refs, deleting the timelines no chunk uses any more.
    pub(super) fn flush(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let mut update =
            conn.prepare_cached("UPDATE timeline SET refs = refs + ?2 WHERE id = ?1")?;
        let mut delete = conn.prepare_cached("DELETE FROM timeline WHERE id = ?1 AND refs <= 0")?;
        for (id, d) in self.delta.drain() {
            if d != 0 {
                update.execute(params![id, d])?;
            }
            if d <= 0 {
                delete.execute([id])?;
            }
        }
        self.seen.clear();
        Ok(())
    }
}

/// The timeline a stored chunk used: its id and bytes.
pub(super) type OldTimeline<'a> = Option<(i64, &'a [u8])>;

/// A chunk as stored: its row, blob and timeline. Read by [`StoredChunk::COLUMNS`] (from
/// `chunk c LEFT JOIN timeline t ON t.id = c.timeline`), in that order.
pub(super) struct StoredChunk {
    pub id: i64,
    pub series: i64,
    pub day: i64,
    pub data: Vec<u8>,
    pub timeline: Option<i64>,
    pub times: Option<Vec<u8>>,
}

impl StoredChunk {
    /// The columns [`StoredChunk::read`] expects first.
    pub const COLUMNS: &'static str = "c.id, c.series, c.day, c.data, c.timeline, t.data";

    pub fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            series: r.get(1)?,
            day: r.get(2)?,
            data: r.get(3)?,
            timeline: r.get(4)?,
            times: r.get(5)?,
        })
    }

    /// Its timeline, as [`put_chunk`] takes it.
    pub fn old_timeline(&self) -> OldTimeline<'_> {
        self.timeline.zip(self.times.as_deref())
    }

    /// Decodes its points into `out`.
    pub fn decode_into(&self, out: &mut Vec<Point>) -> Result<(), StoreError> {
        decode(&self.data, self.times.as_deref(), out, || {
            format!("chunk (series {}, day {})", self.series, self.day)
        })
    }
}

/// Writes the chunk of (`series`, `day`) — `points` normalized and not empty — in the current
/// format with its summary, moving its timeline reference from `old` (what the stored chunk
/// used) to the one its times need.
pub(super) fn put_chunk(
    conn: &Connection,
    timelines: &mut Timelines,
    series: i64,
    day: i64,
    points: &[Point],
    old: OldTimeline<'_>,
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Ok(());
    };
    let enc = chunk::encode_shared(points);
    let timeline = match (&enc.times, old) {
        (Some(t), Some((id, bytes))) if t.as_slice() == bytes => Some(id),
        (Some(t), old) => {
            let id = timelines.take(conn, t)?;
            if let Some((old, _)) = old {
                timelines.release(old);
            }
            Some(id)
        }
        (None, old) => {
            if let Some((old, _)) = old {
                timelines.release(old);
            }
            None
        }
    };
    conn.prepare_cached(
        "INSERT INTO chunk(series, day, n, first_ts, last_ts, data, timeline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(series, day) DO UPDATE SET n = excluded.n, first_ts = excluded.first_ts,
           last_ts = excluded.last_ts, data = excluded.data, timeline = excluded.timeline",
    )?
    .execute(params![
        series,
        day,
        points.len() as i64,
        first.ts,
        last.ts,
        enc.data,
        timeline
    ])?;
    conn.prepare_cached(
        "INSERT INTO chunk_summary(day, series, summary) VALUES (?1, ?2, ?3)
         ON CONFLICT(day, series) DO UPDATE SET summary = excluded.summary",
    )?
    .execute(params![
        day,
        series,
        chunk::encode_summary(&chunk::summarize(points, day), day)
    ])?;
    Ok(())
}

/// Decodes a stored chunk (`data` with its timeline's bytes, if any).
pub(super) fn decode(
    data: &[u8],
    times: Option<&[u8]>,
    out: &mut Vec<Point>,
    what: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    chunk::decode_into(data, times, out)
        .ok_or_else(|| StoreError::Corrupt(format!("{} cannot be decoded", what())))
}

/// One step of the upgrade ([`Store::upgrade_chunks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UpgradeStep {
    /// Chunks looked at in this step.
    pub checked: u64,
    /// Chunks (or their summaries) rewritten in the current formats.
    pub rewritten: u64,
    /// Whether chunks are left to look at.
    pub pending: bool,
}

/// What one compaction step did ([`Store::compact`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompactStep {
    /// Series-days turned into hourly aggregates.
    pub days: u64,
    /// Points they held.
    pub points: u64,
    /// Whether days older than the limit are left (another step continues).
    pub pending: bool,
}

/// A table's or index's share of the file (SQLite's `dbstat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableBytes {
    /// Table or index name.
    pub name: String,
    /// Bytes of its pages (slack included).
    pub bytes: i64,
}

/// The stored points of one value kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindStats {
    /// Kind (`count`, `number`, `ports`, `cidrs`, `numbers`, `strings`).
    pub kind: &'static str,
    /// Series-days held as points.
    pub chunks: u64,
    /// Points.
    pub points: u64,
    /// Bytes of their chunk blobs (timelines, summaries and page slack not included).
    pub chunk_bytes: u64,
}

/// The cache's totals, read from its indexes ([`Store::totals`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheTotals {
    /// Bytes of the file's pages in use.
    pub file_bytes: i64,
    /// Points held raw.
    pub points: u64,
    /// Points held as hourly aggregates.
    pub compacted_points: u64,
    /// Series-days compacted.
    pub compacted_days: u64,
    /// `file_bytes` over every point held, raw or compacted.
    pub bytes_per_point: f64,
    /// The oldest datapoint's time.
    #[serde(serialize_with = "crate::time::instant_opt")]
    pub oldest: Option<Millis>,
    /// The newest datapoint's time.
    #[serde(serialize_with = "crate::time::instant_opt")]
    pub newest: Option<Millis>,
    /// Chunks an older version wrote are still being upgraded.
    pub upgrade_pending: bool,
}

/// The cache's size and contents (`ddesk stats`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheStats {
    /// Bytes of the file's pages in use.
    pub file_bytes: i64,
    /// Points held raw (in chunks).
    pub points: u64,
    /// Points held as hourly aggregates (compacted days).
    pub compacted_points: u64,
    /// Series-days compacted.
    pub compacted_days: u64,
    /// `file_bytes` over every point the cache holds or summarises (raw and compacted).
    pub bytes_per_point: f64,
    /// Raw points by value kind.
    pub kinds: Vec<KindStats>,
    /// Shared timelines and their bytes.
    pub timelines: u64,
    /// Bytes of the timelines' blobs.
    pub timeline_bytes: u64,
    /// Every table and index by size, largest first.
    pub tables: Vec<TableBytes>,
    /// The oldest datapoint's time (raw or compacted).
    #[serde(serialize_with = "crate::time::instant_opt")]
    pub oldest: Option<Millis>,
    /// The newest datapoint's time.
    #[serde(serialize_with = "crate::time::instant_opt")]
    pub newest: Option<Millis>,
    /// Chunks written by an older version are still being upgraded.
    pub upgrade_pending: bool,
}

impl Store {
    /// Whether chunks written by an older version are left to upgrade.
    pub fn upgrade_pending(&self) -> Result<bool, StoreError> {
        Ok(self.meta(UPGRADE_KEY)?.is_some_and(|v| v != "done"))
    }

    /// Rewrites up to `batch` chunks that an older version wrote (format 1, or a summary of
    /// format 1) in the current formats, in one short transaction, so a large cache upgrades
    /// in steps that never hold the write lock for long; the position is kept in the cache,
    /// so an interrupted upgrade resumes where it stopped. Every point is kept exactly.
    pub fn upgrade_chunks(&mut self, batch: usize) -> Result<UpgradeStep, StoreError> {
        let Some(at) = self.meta(UPGRADE_KEY)? else {
            return Ok(UpgradeStep {
                checked: 0,
                rewritten: 0,
                pending: false,
            });
        };
        if at == "done" {
            return Ok(UpgradeStep {
                checked: 0,
                rewritten: 0,
                pending: false,
            });
        }
        let mut cursor: i64 = at
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("upgrade position {at:?}")))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(StoredChunk, Option<u8>)> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {}, substr(s.summary, 1, 1)
                 FROM chunk c LEFT JOIN timeline t ON t.id = c.timeline
                 LEFT JOIN chunk_summary s ON s.day = c.day AND s.series = c.series
                 WHERE c.id > ?1 ORDER BY c.id LIMIT ?2",
                StoredChunk::COLUMNS
            ))?;
            let rows = stmt.query_map(params![cursor, batch as i64], |r| {
                let summary: Option<Vec<u8>> = r.get(6)?;
                Ok((
                    StoredChunk::read(r)?,
                    summary.and_then(|s| s.first().copied()),
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut points = Vec::new();
        let mut rewritten = 0;
        let mut timelines = Timelines::default();
        for (c, summary) in &rows {
            cursor = c.id;
            let current = chunk::format(&c.data)
                .is_some_and(|f| chunk::CURRENT_FORMATS.contains(&f))
                && *summary == Some(chunk::SUMMARY_FORMAT);
            if current {
                continue;
            }
            points.clear();
            c.decode_into(&mut points)?;
            put_chunk(
                &tx,
                &mut timelines,
                c.series,
                c.day,
                &points,
                c.old_timeline(),
            )?;
            rewritten += 1;
        }
        timelines.flush(&tx)?;
        let pending = rows.len() == batch;
        let mark = if pending {
            cursor.to_string()
        } else {
            "done".to_string()
        };
        tx.execute(
            "UPDATE meta SET value = ?2 WHERE key = ?1",
            params![UPGRADE_KEY, mark],
        )?;
        tx.commit()?;
        Ok(UpgradeStep {
            checked: rows.len() as u64,
            rewritten,
            pending,
        })
    }

    /// Turns up to `batch` series-days before `keep_from` (raw points kept from that time on)
    /// into their exact hourly aggregates: the chunk goes, its summary (count, sum, min, max
    /// per hour; the sets seen) stays, and the day is listed as compacted. One short
    /// transaction per step; call again while [`CompactStep::pending`]. Points that arrive
    /// later for a compacted day are not stored (their day holds no points to merge with).
    pub fn compact(&mut self, keep_from: Millis, batch: usize) -> Result<CompactStep, StoreError> {
        let before_day = chunk::day_of(keep_from);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<StoredChunk> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {} FROM chunk c LEFT JOIN timeline t ON t.id = c.timeline
                 WHERE c.day < ?1 ORDER BY c.day, c.series LIMIT ?2",
                StoredChunk::COLUMNS
            ))?;
            let rows = stmt.query_map(params![before_day, batch as i64], StoredChunk::read)?;
            rows.collect::<Result<_, _>>()?
        };
        let mut step = CompactStep::default();
        let mut points = Vec::new();
        let mut timelines = Timelines::default();
        for c in &rows {
            points.clear();
            c.decode_into(&mut points)?;
            // The summary is recomputed from the points, so it is exact whatever format the
            // stored one was.
            tx.prepare_cached(
                "INSERT INTO chunk_summary(day, series, summary) VALUES (?1, ?2, ?3)
                 ON CONFLICT(day, series) DO UPDATE SET summary = excluded.summary",
            )?
            .execute(params![
                c.day,
                c.series,
                chunk::encode_summary(&chunk::summarize(&points, c.day), c.day)
            ])?;
            tx.prepare_cached("INSERT INTO compacted(series, day, n) VALUES (?1, ?2, ?3)")?
                .execute(params![c.series, c.day, points.len() as i64])?;
            tx.prepare_cached("DELETE FROM chunk WHERE id = ?1")?
                .execute([c.id])?;
            if let Some(t) = c.timeline {
                timelines.release(t);
            }
            step.days += 1;
            step.points += points.len() as u64;
        }
        timelines.flush(&tx)?;
        step.pending = rows.len() == batch;
        tx.commit()?;
        Ok(step)
    }

    /// Whether any day is compacted (the write path checks points against them only then).
    pub(super) fn any_compacted(conn: &Connection) -> Result<bool, StoreError> {
        Ok(conn
            .prepare_cached("SELECT 1 FROM compacted LIMIT 1")?
            .query_row([], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The cache's totals from its indexes alone, without reading a chunk (the app's History
    /// panel asks for them each time it opens; [`Store::stats`] reads the whole file).
    pub fn totals(&self) -> Result<CacheTotals, StoreError> {
        let conn = &self.conn;
        let file_bytes = self.size_bytes()?;
        let points: i64 =
            conn.query_row("SELECT coalesce(sum(n), 0) FROM chunk", [], |r| r.get(0))?;
        let (compacted_days, compacted_points): (i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(n), 0) FROM compacted",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // The first and last day by the day indexes, then the times within those days.
        let (raw_lo, raw_hi): (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT (SELECT min(first_ts) FROM chunk WHERE day = (SELECT min(day) FROM chunk)),
                    (SELECT max(last_ts) FROM chunk WHERE day = (SELECT max(day) FROM chunk))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (old_day, new_day): (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT (SELECT min(day) FROM compacted), (SELECT max(day) FROM compacted)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let oldest = match (raw_lo, old_day) {
            (Some(a), Some(d)) => Some(a.min(d * CHUNK_MS)),
            (a, d) => a.or(d.map(|d| d * CHUNK_MS)),
        };
        let newest = match (raw_hi, new_day) {
            (Some(a), Some(d)) => Some(a.max((d + 1) * CHUNK_MS - 1)),
            (a, d) => a.or(d.map(|d| (d + 1) * CHUNK_MS - 1)),
        };
        let held = (points + compacted_points) as u64;
        Ok(CacheTotals {
            file_bytes,
            points: points as u64,
            compacted_points: compacted_points as u64,
            compacted_days: compacted_days as u64,
            bytes_per_point: if held == 0 {
                0.0
            } else {
                file_bytes as f64 / held as f64
            },
            oldest,
            newest,
            upgrade_pending: self.upgrade_pending()?,
        })
    }

    /// The cache's size by table and by value kind, its points and the span they cover: reads
    /// every chunk and every page (`ddesk stats`).
    pub fn stats(&self) -> Result<CacheStats, StoreError> {
        let conn = &self.conn;
        let file_bytes = self.size_bytes()?;
        let mut kinds: Vec<KindStats> = Vec::new();
        {
            // The kind of a chunk is the most common kind of its points: its summary says
            // sets or numbers; the blob's own columns say which numbers.
            let mut stmt = conn.prepare(
                "SELECT c.data, c.n, length(c.data), t.data FROM chunk c
                 LEFT JOIN timeline t ON t.id = c.timeline",
            )?;
            let mut rows = stmt.query([])?;
            let mut points = Vec::new();
            while let Some(r) = rows.next()? {
                let data = r
                    .get_ref(0)?
                    .as_blob()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let times = r
                    .get_ref(3)?
                    .as_blob_or_null()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                points.clear();
                decode(data, times, &mut points, || "a chunk".into())?;
                let kind = points
                    .first()
                    .and_then(|p| ValueKind::from_code(i64::from(p.kind)))
                    .map_or("count", ValueKind::key);
                let n: i64 = r.get(1)?;
                let bytes: i64 = r.get(2)?;
                let e = match kinds.iter_mut().position(|k| k.kind == kind) {
                    Some(i) => &mut kinds[i],
                    None => {
                        kinds.push(KindStats {
                            kind,
                            chunks: 0,
                            points: 0,
                            chunk_bytes: 0,
                        });
                        kinds.last_mut().expect("just pushed")
                    }
                };
                e.chunks += 1;
                e.points += n as u64;
                e.chunk_bytes += bytes as u64;
            }
        }
        kinds.sort_by(|a, b| b.points.cmp(&a.points).then(a.kind.cmp(b.kind)));
        let points: u64 = kinds.iter().map(|k| k.points).sum();
        let (timelines, timeline_bytes): (i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM timeline",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let tables = {
            let mut stmt = conn
                .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC, 1")?;
            let rows = stmt.query_map([], |r| {
                Ok(TableBytes {
                    name: r.get(0)?,
                    bytes: r.get(1)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let t = self.totals()?;
        Ok(CacheStats {
            file_bytes,
            points,
            compacted_points: t.compacted_points,
            compacted_days: t.compacted_days,
            bytes_per_point: t.bytes_per_point,
            kinds,
            timelines: timelines as u64,
            timeline_bytes: timeline_bytes as u64,
            tables,
            oldest: t.oldest,
            newest: t.newest,
            upgrade_pending: t.upgrade_pending,
        })
    }
}
