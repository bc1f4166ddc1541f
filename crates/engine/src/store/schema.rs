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
    include_str!("migrations/0007_thing_type.sql"),
    include_str!("migrations/0008_cases.sql"),
    include_str!("migrations/0009_screen.sql"),
    include_str!("migrations/0010_screen_stat.sql"),
    include_str!("migrations/0011_security_hub.sql"),
    include_str!("migrations/0012_hub_finding.sql"),
    include_str!("migrations/0013_account_scope.sql"),
    include_str!("migrations/0014_hub_readback.sql"),
    include_str!("migrations/0015_history.sql"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A cache left by any earlier version opens, is brought to the current schema with what it
    /// held, and takes new data: for each version from an empty file to the one before this.
    #[test]
    fn a_cache_made_by_each_earlier_schema_version_upgrades_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        for version in 0..SCHEMA_VERSION {
            let path = dir.path().join(format!("v{version}.sqlite"));
            {
                let mut conn = Connection::open(&path).unwrap();
                prepare(&conn).unwrap();
                let tx = conn.transaction().unwrap();
                for sql in &MIGRATIONS[..version as usize] {
                    tx.execute_batch(sql).unwrap();
                }
                tx.pragma_update(None, "user_version", version).unwrap();
                if version >= 1 {
                    tx.execute("INSERT INTO thing(name) VALUES ('cam-old-1')", [])
                        .unwrap();
                    tx.execute("INSERT INTO meta(key, value) VALUES ('demo', 'false')", [])
                        .unwrap();
                }
                tx.commit().unwrap();
            }
            let mut store = Store::open(&path).unwrap();
            let found: u32 = store
                .connection()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(found, SCHEMA_VERSION, "from version {version}");
            if version >= 1 {
                let kept: i64 = store
                    .connection()
                    .query_row(
                        "SELECT count(*) FROM thing WHERE name = 'cam-old-1'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(kept, 1, "from version {version}");
                assert_eq!(store.meta("demo").unwrap().as_deref(), Some("false"));
            }
            // Every migration ran: the keychain scope (version 5) exists, and new data goes in.
            assert_eq!(store.keychain_scope().unwrap().len(), 16, "from {version}");
            let batch =
                br#"{"version":"1.0","metrics":[{"name":"aws:all-bytes-out","thing":"cam-new-1",
                "value":{"count":1048576},"version":1,"timestamp":1717430700000}]}"#;
            let report =
                crate::ingest::ingest_bytes(&mut store, "m.json", batch, &Default::default());
            assert!(report.rejected.is_empty(), "from {version}: {report:?}");
            assert_eq!(store.point_count().unwrap(), 1, "from version {version}");
            drop(store);
            // And it opens again without migrating (the version is current).
            Store::open(&path).unwrap();
        }
    }

    /// A cache of the schema before accounts (version 12) upgrades without a row rewritten: its
    /// things are of unknown account; `assign_unknown` then gives every table's thing rows (the
    /// thing, its groups, type, certificates, case events) and the findings the account, at
    /// once, and is refused — changing nothing — where the name is already a thing of it.
    #[test]
    fn a_cache_from_before_accounts_keeps_its_things_unknown_until_assigned() {
        use crate::model::scope::{Scope, ThingKey};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v12.sqlite");
        {
            let mut conn = Connection::open(&path).unwrap();
            prepare(&conn).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..12] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 12).unwrap();
            tx.execute_batch(
                "INSERT INTO thing(name) VALUES ('cam-old-1'), ('cam-old-2');
                 INSERT INTO thing_group(thing, group_name, observed) VALUES ('cam-old-1', 'lobby', 1);
                 INSERT INTO thing_type(thing, type_name, observed) VALUES ('cam-old-1', 'camera', 1);
                 INSERT INTO thing_principal(thing, cert_id, observed) VALUES ('cam-old-1', 'c1', 1);
                 INSERT INTO case_event(subject, at, who, state) VALUES ('thing:cam-old-1', 1, 'ana', 'investigating');
                 INSERT INTO finding(finding_id, check_name, resource, resource_json, suppressed)
                   VALUES ('f-1', 'LOGGING_DISABLED_CHECK', '', '{}', 0);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let keys = store.thing_keys("cam-old-1").unwrap();
        assert_eq!(keys, ["cam-old-1"]);
        assert_eq!(
            ThingKey::parse(&keys[0]).account,
            None,
            "unknown until the analyst says"
        );
        assert!(!store.has_scoped_things().unwrap());

        let a = Scope::new(Some("111122223333"), Some("eu-west-1")).unwrap();
        assert_eq!(store.assign_unknown(&a).unwrap(), 2);
        let key = a.key("cam-old-1");
        assert_eq!(
            crate::store::resolve_thing(&store, "cam-old-1").unwrap(),
            key
        );
        assert_eq!(store.thing_groups(&key).unwrap().len(), 1);
        assert_eq!(store.thing_certificates(&key).unwrap(), ["c1"]);
        assert_eq!(
            store
                .all_thing_types()
                .unwrap()
                .get(&key)
                .map(String::as_str),
            Some("camera")
        );
        assert_eq!(store.case_events(&format!("thing:{key}")).unwrap().len(), 1);
        let account: Option<String> = store
            .connection()
            .query_row(
                "SELECT account FROM finding WHERE finding_id = 'f-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(account.as_deref(), Some("111122223333"));
        assert!(store.thing_keys("cam-old-1").unwrap() == [key.clone()]);

        // Another unknown cam-old-2 arrives; the account already has one: refused, unchanged.
        store
            .connection()
            .execute("INSERT INTO thing(name) VALUES ('cam-old-2')", [])
            .unwrap();
        let before = store.thing_keys("cam-old-2").unwrap();
        assert!(matches!(
            store.assign_unknown(&a),
            Err(crate::store::StoreError::Conflict(m)) if m.contains("cam-old-2")
        ));
        assert_eq!(store.thing_keys("cam-old-2").unwrap(), before);
        // Two accounts' cam-old-2 now: a bare name is refused, the account picks one.
        assert!(
            crate::store::resolve_thing(&store, "cam-old-2").is_ok(),
            "the bare name is a key"
        );
        let b = Scope::new(Some("444455556666"), None).unwrap();
        assert_eq!(store.assign_things(&b, &["cam-old-2".into()]).unwrap(), 1);
        assert!(crate::store::resolve_thing(&store, "cam-old-2").is_err());
        assert_eq!(
            crate::store::resolve_thing(
                &store,
                &Scope::new(Some("444455556666"), None)
                    .unwrap()
                    .key("cam-old-2")
            )
            .unwrap(),
            b.key("cam-old-2")
        );
    }
}
