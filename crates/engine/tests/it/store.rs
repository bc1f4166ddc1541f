//! The cache file: migrations, reopening, refusing a newer schema.

use desk_engine::store::{schema::SCHEMA_VERSION, Store, StoreError};

#[test]
fn reopening_keeps_data_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/cache.sqlite");
    {
        let mut s = Store::open(&path).unwrap();
        let b = desk_engine::model::parse::parse_bytes(
            br#"{"name":"m","thing":"t","value":{"count":5},"version":1,"timestamp":1717430700}"#,
            &Default::default(),
        )
        .unwrap();
        s.write_batch(&b).unwrap();
        let mode: String = s
            .connection()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    {
        let s = Store::open(&path).unwrap();
        assert_eq!(s.point_count().unwrap(), 1);
        let v: u32 = s
            .connection()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        s.connection()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    match Store::open(&path) {
        Err(e @ StoreError::TooNew { .. }) => {
            assert!(e.to_string().contains("newer than this Defender Desk"))
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn a_corrupt_chunk_is_reported_not_panicked_on() {
    let mut s = Store::open_in_memory().unwrap();
    let b = desk_engine::model::parse::parse_bytes(
        br#"{"name":"m","thing":"t","value":{"count":5},"version":1,"timestamp":1717430700}"#,
        &Default::default(),
    )
    .unwrap();
    s.write_batch(&b).unwrap();
    s.connection()
        .execute("UPDATE chunk SET data = x'0102'", [])
        .unwrap();
    let err = s.series("t", "m", None, i64::MIN, i64::MAX).unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
    // Writing over a corrupt chunk fails the whole batch, leaving the cache as it was.
    assert!(s.write_batch(&b).is_err());
}

#[test]
fn the_point_count_reads_an_index_not_the_chunks() {
    let s = Store::open_in_memory().unwrap();
    let plan: Vec<String> = s
        .connection()
        .prepare("EXPLAIN QUERY PLAN SELECT coalesce(sum(n), 0) FROM chunk")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|d| d.contains("COVERING INDEX chunk_points")),
        "{plan:?}"
    );
}

#[test]
fn triage_reports_a_corrupt_summary_and_does_not_hang() {
    use desk_engine::analysis::triage::{rank, TriageOptions};
    let mut s = Store::open_in_memory().unwrap();
    // Two things, so every triage worker has a series to own.
    let b = desk_engine::model::parse::parse_bytes(
        br#"{"name":"m","thing":"t","value":{"count":5},"version":1,"timestamp":1717430700}
            {"name":"m","thing":"u","value":{"count":6},"version":1,"timestamp":1717430700}"#,
        &Default::default(),
    )
    .unwrap();
    s.write_batch(&b).unwrap();
    assert_eq!(rank(&s, TriageOptions::default()).unwrap().len(), 2);
    s.connection()
        .execute("UPDATE chunk_summary SET summary = x'01ff'", [])
        .unwrap();
    let err = rank(&s, TriageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("summary of series"), "{err}");
}

#[test]
fn each_cache_has_its_own_lasting_keychain_scope() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    let scope_a = Store::open(&a).unwrap().keychain_scope().unwrap();
    assert_eq!(scope_a.len(), 16, "{scope_a}");
    assert_eq!(Store::open(&a).unwrap().keychain_scope().unwrap(), scope_a);
    assert_ne!(Store::open(&b).unwrap().keychain_scope().unwrap(), scope_a);
}
