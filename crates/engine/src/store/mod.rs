//! The SQLite cache: the only long-term history of a fleet (AWS keeps metrics 14 days,
//! violations 30, audits 90).
//!
//! [`Store::write_batch`] writes everything parsed from one file in one transaction, so a file is
//! stored whole or not at all, and writing the same data again changes nothing: datapoints keep
//! the highest `version` per (thing, metric, dimension, timestamp) whatever the arrival order.

mod actions;
mod cases;
pub mod chunk;
mod queries;
pub mod schema;
mod sync;
mod write;

use fnv::FnvHashMap as HashMap;
use std::path::Path;

use rusqlite::Connection;

pub use actions::{record_hash, ChainReport, LogRecord, GENESIS};
pub use cases::CaseEventRow;
pub use queries::{
    AuditRow, FindingRow, MitigationRow, SeriesInfo, SeriesPoint, SummaryBatch, ThingSummary,
    Threshold, ViolationEventRow, ViolationRow,
};
pub use sync::{GroupRef, ObjectMark, SourceRow, SyncMarks, SyncRunRow, Watermark};
pub use write::WriteStats;

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("cache database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Defender Desk.
    #[error("the cache database has schema version {found}, newer than this Defender Desk supports ({supported}); upgrade Defender Desk or use another --db")]
    TooNew {
        /// Version found in the file.
        found: u32,
        /// Newest version this code knows.
        supported: u32,
    },
    /// The database directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// Directory.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Stored data this code cannot read (a corrupt or hand-edited cache).
    #[error("corrupt cache: {0}")]
    Corrupt(String),
    /// An intent already has its outcome: one outcome per intent, the first one written.
    #[error("action {0} already has an outcome in the log")]
    OutcomeExists(i64),
}

/// Ids already resolved in this connection. Cleared whenever a write rolls back, since ids
/// handed out inside a failed transaction do not exist.
#[derive(Default)]
pub(crate) struct Interner {
    things: HashMap<String, i64>,
    metrics: HashMap<String, i64>,
    series: HashMap<(i64, i64), Vec<(String, i64)>>,
    sets: HashMap<i64, HashMap<String, i64>>,
}

/// A handle on the cache database.
pub struct Store {
    conn: Connection,
    ids: Interner,
}

impl Store {
    /// Opens (creating if needed) the cache at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Self::init(Connection::open(path)?)
    }

    /// A private in-memory cache (tests, previews).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        schema::prepare(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn,
            ids: Interner::default(),
        })
    }

    /// The underlying connection, for read-only checks in tests and benchmarks.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Sets a metadata flag (e.g. `demo`).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )?;
        Ok(())
    }

    /// Removes a metadata flag.
    pub fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// The scope this cache's keychain entries are filed under (see
    /// [`crate::secrets::Keychain::for_cache`]).
    pub fn keychain_scope(&self) -> Result<String, StoreError> {
        self.meta("keychain_scope")?
            .ok_or_else(|| StoreError::Corrupt("the cache has no keychain scope".into()))
    }

    /// Reads a metadata flag.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Bytes the database occupies (pages in use × page size).
    pub fn size_bytes(&self) -> Result<i64, StoreError> {
        let pages: i64 = self.conn.query_row(
            "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())",
            [],
            |r| r.get(0),
        )?;
        let size: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))?;
        Ok(pages * size)
    }
}
