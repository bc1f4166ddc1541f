//! The SQLite cache: the only long-term history of a fleet (AWS keeps metrics 14 days,
//! violations 30, audits 90).
//!
//! [`Store::write_batch`] writes everything parsed from one file in one transaction, so a file is
//! stored whole or not at all, and writing the same data again changes nothing: datapoints keep
//! the highest `version` per (thing, metric, dimension, timestamp) whatever the arrival order.

mod actions;
pub mod cases;
pub mod chunk;
mod history;
mod hub;
mod queries;
pub mod schema;
mod scope;
mod sync;
mod write;

use fnv::FnvHashMap as HashMap;
use std::path::Path;

use rusqlite::Connection;

pub use actions::{record_hash, ChainReport, LogRecord, GENESIS};
pub use cases::CaseEventRow;
pub use history::{CacheStats, CacheTotals, CompactStep, KindStats, TableBytes, UpgradeStep};
pub use hub::{HubCaseEvent, HubReadBack, HubSeen, HubSeenMark};
pub use queries::{
    AuditRow, FindingRow, HubFindingRow, MitigationRow, SeriesInfo, SeriesPoint, SummaryBatch,
    ThingSummary, Threshold, ViolationEventRow, ViolationRow,
};
pub use scope::resolve_thing;
pub use sync::{
    GroupRef, ObjectMark, Screen, ScreenEvidence, ScreenStat, ScreenedEvidence, SourceRow,
    SyncMarks, SyncRunRow, Watermark,
};
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
    /// A change that would merge what must stay apart (a thing of unknown account given an
    /// account in which its name is already a thing).
    #[error("{0}")]
    Conflict(String),
    /// An intent already has its outcome: one outcome per intent, the first one written.
    #[error("action {0} already has an outcome in the log")]
    OutcomeExists(i64),
}

/// Whether opening failed because the file or its folder cannot be written.
fn is_read_only(e: &StoreError) -> bool {
    use rusqlite::ffi::ErrorCode;
    matches!(
        e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
    )
}

/// `path` as an SQLite `file:` URI (`?` `#` `%` escaped).
fn url_path(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file:");
    for c in abs.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
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
    read_only: bool,
}

impl Store {
    /// Opens (creating if needed) the cache at `path` and migrates it.
    ///
    /// A cache in a place this process cannot write (an archived case, a read-only mount) is
    /// opened read-only instead ([`Store::read_only`]): it can be read, and every write fails
    /// with SQLite's "readonly database" error. It must already be at this version's schema
    /// (an older one cannot be migrated in place), and its WAL must have been checkpointed (a
    /// cache closed normally is): what a leftover `-wal` file holds is not read.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if path.is_file() {
            let opened = Connection::open(path)
                .map_err(StoreError::from)
                .and_then(Self::init);
            return match opened {
                Err(e) if is_read_only(&e) => Self::open_read_only(path),
                other => other,
            };
        }
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
            read_only: false,
        })
    }

    /// Opens the cache at `path` for reading only: `mode=ro`, or `immutable=1` where even the
    /// WAL's shared-memory file cannot be made (a read-only mount).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let uri = |query: &str| {
            let mut u = url_path(path);
            u.push('?');
            u.push_str(query);
            u
        };
        let try_open = |query: &str| -> Result<Connection, StoreError> {
            let conn = Connection::open_with_flags(uri(query), flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "temp_store", "MEMORY")?;
            // Reading the version reads the file: a WAL cache whose -shm cannot be made fails here.
            let _: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            Ok(conn)
        };
        let conn = try_open("mode=ro").or_else(|_| try_open("immutable=1"))?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        if version < schema::SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "the cache is read-only here and was written by an older Defender Desk (schema {version}, this one writes {}): copy it somewhere writable to upgrade it",
                schema::SCHEMA_VERSION
            )));
        }
        Ok(Self {
            conn,
            ids: Interner::default(),
            read_only: true,
        })
    }

    /// Whether the cache was opened read-only (it lies where this process cannot write).
    pub fn read_only(&self) -> bool {
        self.read_only
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
