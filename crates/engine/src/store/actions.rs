//! The action log table: append-only (triggers refuse UPDATE and DELETE) and hash-chained, with
//! the chain head also kept in `meta` so that removing the newest records is detected too.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::time::Millis;

/// How long an action-log append keeps retrying a busy cache before it gives up.
pub const APPEND_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// Who holds a claim on an intent: a process (id and start time, so a reused id is not taken
/// for the holder) and until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Holder {
    pid: u32,
    started: u64,
    until: Millis,
}

impl Holder {
    fn this_process() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            started: process_start(pid).unwrap_or(0),
            until: 0,
        }
    }

    fn alive(&self) -> bool {
        process_start(self.pid) == Some(self.started)
    }

    fn same_process(&self, other: &Holder) -> bool {
        self.pid == other.pid && self.started == other.started
    }
}

/// When process `pid` started (seconds since the epoch), if it is running.
fn process_start(pid: u32) -> Option<u64> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let pid = Pid::from_u32(pid);
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    sys.process(pid).map(|p| p.start_time())
}

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
        self.append_claimed(record, None)
    }

    /// [`Store::append_action`] for an intent about to be acted on: claimed for this process
    /// for `lease` in the same transaction, so no other process reconciles it meanwhile.
    pub fn append_intent(
        &mut self,
        record: &serde_json::Value,
        lease: std::time::Duration,
    ) -> Result<LogRecord, StoreError> {
        self.append_claimed(record, Some(lease))
    }

    fn append_claimed(
        &mut self,
        record: &serde_json::Value,
        lease: Option<std::time::Duration>,
    ) -> Result<LogRecord, StoreError> {
        let started = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(50);
        loop {
            match self.append_once(record, lease) {
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

    fn append_once(
        &mut self,
        record: &serde_json::Value,
        lease: Option<std::time::Duration>,
    ) -> Result<LogRecord, StoreError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let appended = self.append_tx(record, lease);
        let restored = self.conn.pragma_update(None, "synchronous", "NORMAL");
        let appended = appended?;
        restored?;
        Ok(appended)
    }

    fn append_tx(
        &mut self,
        record: &serde_json::Value,
        lease: Option<std::time::Duration>,
    ) -> Result<LogRecord, StoreError> {
        let text = serde_json::to_string(record).expect("record serializes");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if record["type"] == "outcome" {
            if let Some(intent) = record["intent"].as_i64() {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM action_log WHERE json_extract(record, '$.type') = 'outcome'
                       AND json_extract(record, '$.intent') = ?1)",
                    [intent],
                    |r| r.get(0),
                )?;
                if exists {
                    return Err(StoreError::OutcomeExists(intent));
                }
            }
        }
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
        if let Some(lease) = lease {
            let holder = Holder {
                until: at.saturating_add(lease.as_millis() as i64),
                ..Holder::this_process()
            };
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![
                    format!("claim:{seq}"),
                    serde_json::to_string(&holder).expect("holder serializes")
                ],
            )?;
        }
        tx.commit()?;
        Ok(LogRecord {
            seq,
            at,
            record: record.clone(),
            prev_hash: prev,
            hash,
        })
    }

    /// Claims intent `seq` for this process for `lease`, unless a live process holds it: the
    /// one process that acts on (or reconciles) an intent. A claim whose process has exited —
    /// a crash between a call and its outcome — is void, so the next start can reconcile it.
    /// Returns whether this process holds the claim now.
    pub fn claim_intent(
        &mut self,
        seq: i64,
        lease: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let key = format!("claim:{seq}");
        let me = Holder::this_process();
        let now = crate::time::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(h) = held.and_then(|v| serde_json::from_str::<Holder>(&v).ok()) {
            if !h.same_process(&me) && h.until > now && h.alive() {
                return Ok(false);
            }
        }
        let mine = Holder {
            until: now.saturating_add(lease.as_millis() as i64),
            ..me
        };
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![
                key,
                serde_json::to_string(&mine).expect("holder serializes")
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Gives up this process's claim on intent `seq` (once its outcome is logged).
    pub fn release_intent(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [format!("claim:{seq}")])?;
        Ok(())
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

#[cfg(test)]
mod claim_tests {
    use super::*;

    #[test]
    fn one_outcome_per_intent_and_one_live_process_per_claim() {
        let mut store = Store::open_in_memory().unwrap();
        let intent = store
            .append_intent(
                &serde_json::json!({"type": "intent"}),
                std::time::Duration::from_secs(60),
            )
            .unwrap();
        // This process holds it: claiming again is fine.
        assert!(store
            .claim_intent(intent.seq, std::time::Duration::from_secs(60))
            .unwrap());
        let outcome =
            serde_json::json!({"type": "outcome", "intent": intent.seq, "status": "succeeded"});
        store.append_action(&outcome).unwrap();
        // Regression: a second process's reconcile added a second outcome, and the newest won.
        assert!(matches!(
            store.append_action(&outcome),
            Err(StoreError::OutcomeExists(s)) if s == intent.seq
        ));

        // A claim held by another live process is refused; once that process is gone (a crash
        // between a call and its outcome), the claim is void.
        let mut other = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        // Let the OS report the child's start time.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let holder = Holder {
            pid: other.id(),
            started: process_start(other.id()).unwrap(),
            until: crate::time::now() + 60_000,
        };
        store
            .set_meta("claim:7", &serde_json::to_string(&holder).unwrap())
            .unwrap();
        assert!(!store
            .claim_intent(7, std::time::Duration::from_secs(60))
            .unwrap());
        other.kill().unwrap();
        other.wait().unwrap();
        assert!(store
            .claim_intent(7, std::time::Duration::from_secs(60))
            .unwrap());
        // An expired claim is void too.
        let expired = Holder {
            until: crate::time::now() - 1,
            ..Holder::this_process()
        };
        store
            .set_meta("claim:8", &serde_json::to_string(&expired).unwrap())
            .unwrap();
        assert!(store
            .claim_intent(8, std::time::Duration::from_secs(60))
            .unwrap());
    }
}
