//! Opening the cache and migrating it: ordered migrations keyed on `PRAGMA user_version`,
//! all pending ones applied in one IMMEDIATE transaction; a newer database is refused.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// The migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_sources_sync_actions.sql"),
    include_str!("migrations/0003_thing_principal.sql"),
    include_str!("migrations/0004_chunk_points.sql"),
    include_str!("migrations/0005_keychain_scope.sql"),
    include_str!("migrations/0006_evidence.sql"),
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Per-connection settings, outside any transaction.
pub(crate) fn prepare(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Chunks are a few KiB each: larger pages pack them with less slack. Only takes effect on a
    // new database (before the first table is created).
    conn.pragma_update(None, "page_size", 16384)?;
    // WAL: readers (the UI) never block the writer (sync). NORMAL is durable across app crashes;
    // only an OS crash can lose the last commits, which a re-sync restores.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Brings the schema to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // A cache already at this version is opened without the write lock: a read-only command
    // must not wait for (or block) a writer. The version is read again under the lock, since
    // another process may migrate in between.
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
