//! The action log table: append-only (triggers refuse UPDATE and DELETE) and hash-chained, with
//! the chain head also kept in `meta` so that removing the newest records is detected too.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::time::Millis;

/// How long an action-log append keeps retrying a busy cache before it gives up.
pub const APPEND_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// Sequence number, from 1, no gaps.
    pub seq: i64,
    /// When it was appended, epoch ms.
    pub at: Millis,
    /// The record (canonical JSON).
    pub record: serde_json::Value,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// This record's hash: SHA-256 over `seq`, `at`, the record text and `prev_hash`.
    pub hash: String,
}

/// The hash of a record.
pub fn record_hash(seq: i64, at: Millis, record: &str, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("{seq}\n{at}\n{prev_hash}\n"));
    h.update(record.as_bytes());
    format!("{:x}", h.finalize())
}

/// The outcome record logged for the intent `seq`, if any (the newest, should there be several).
pub fn outcome_of(log: &[LogRecord], seq: i64) -> Option<&LogRecord> {
    log.iter()
        .rev()
        .find(|o| o.record["type"] == "outcome" && o.record["intent"] == seq)
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ChainReport {
    /// Whether the chain is intact.
    pub ok: bool,
    /// Records checked.
    pub records: i64,
    /// Every problem found, with the sequence number it concerns.
    pub problems: Vec<String>,
}

impl Store {
    /// Appends a record to the action log, chained to the one before, in one transaction.
    ///
    /// The append is durable when it returns (`synchronous=FULL` for it: an action applied in
    /// AWS must not lose its record to a power cut), and it waits for a busy cache instead of
    /// failing: a concurrent writer (a sync) delays the record, never drops it — it retries for
    /// up to [`APPEND_PATIENCE`], far past SQLite's own 5 s busy timeout.
    pub fn append_action(&mut self, record: &serde_json::Value) -> Result<LogRecord, StoreError> {
        let started = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(50);
        loop {
            match self.append_once(record) {
                Err(StoreError::Sqlite(e))
                    if is_busy(&e) && started.elapsed() < APPEND_PATIENCE =>
                {
                    tracing::warn!(error = %e, "action log busy; retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(std::time::Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    fn append_once(&mut self, record: &serde_json::Value) -> Result<LogRecord, StoreError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let appended = self.append_tx(record);
        let restored = self.conn.pragma_update(None, "synchronous", "NORMAL");
        let appended = appended?;
        restored?;
        Ok(appended)
    }

    fn append_tx(&mut self, record: &serde_json::Value) -> Result<LogRecord, StoreError> {
        let text = serde_json::to_string(record).expect("record serializes");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM action_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_string()),
        };
        let at = crate::time::now();
        let hash = record_hash(seq, at, &text, &prev);
        tx.execute(
            "INSERT INTO action_log(seq, at, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, at, text, prev, hash],
        )?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('action_log_head', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [format!("{seq}:{hash}")],
        )?;
        tx.commit()?;
        Ok(LogRecord {
            seq,
            at,
            record: record.clone(),
            prev_hash: prev,
            hash,
        })
    }

    /// Every record, oldest first.
    pub fn action_log(&self) -> Result<Vec<LogRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, record, prev_hash, hash FROM action_log ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            let text: String = r.get(2)?;
            Ok(LogRecord {
                seq: r.get(0)?,
                at: r.get(1)?,
                record: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
                prev_hash: r.get(3)?,
                hash: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Recomputes the chain: every hash, every link, no gaps, and the head recorded in `meta`.
    pub fn verify_action_log(&self) -> Result<ChainReport, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, record, prev_hash, hash FROM action_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut problems = Vec::new();
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_string();
        let mut count = 0;
        let mut last = None;
        while let Some(r) = rows.next()? {
            let (seq, at, text, prev_hash, hash): (i64, Millis, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            count += 1;
            if seq != expected_seq {
                problems.push(format!(
                    "record {expected_seq}{} is missing",
                    if seq > expected_seq + 1 {
                        format!("..{}", seq - 1)
                    } else {
                        String::new()
                    }
                ));
            }
            if prev_hash != prev {
                problems.push(format!(
                    "record {seq} does not link to the record before it"
                ));
            }
            if record_hash(seq, at, &text, &prev_hash) != hash {
                problems.push(format!(
                    "record {seq} was altered (its hash does not match)"
                ));
            }
            prev = hash.clone();
            expected_seq = seq + 1;
            last = Some(format!("{seq}:{hash}"));
        }
        let head = self.meta("action_log_head")?;
        if head != last {
            problems.push(format!(
                "the log ends at {} but its recorded head is {}: records were removed or added outside Defender Desk",
                last.as_deref().unwrap_or("nothing"),
                head.as_deref().unwrap_or("nothing")
            ));
        }
        Ok(ChainReport {
            ok: problems.is_empty(),
            records: count,
            problems,
        })
    }
}
