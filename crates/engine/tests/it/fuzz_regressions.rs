//! The fuzz target's body over every regression input and every fixture: any bytes parse or
//! are rejected — never a panic — and whatever parses is storable and reads back.

use std::path::PathBuf;

use desk_engine::model::parse::{parse_bytes, Context};
use desk_engine::store::Store;

fn check(data: &[u8]) {
    let ctx = Context {
        thing: Some("fuzz-thing".into()),
        metric: Some("aws:all-bytes-out".into()),
        task_id: Some("fuzz-task".into()),
        observed: None,
        ..Context::default()
    };
    if let Ok(batch) = parse_bytes(data, &ctx) {
        let mut store = Store::open_in_memory().unwrap();
        store.write_batch(&batch).unwrap();
        for t in store.things().unwrap() {
            for m in &t.metrics {
                store.series(&t.name, m, None, i64::MIN, i64::MAX).unwrap();
            }
        }
    }
}

/// The Splunk export target's body (`fuzz/fuzz_targets/splunk_export.rs`).
fn check_splunk(data: &[u8]) {
    if let Ok((batch, _)) = desk_engine::sources::splunk::parse_export(data) {
        let mut store = Store::open_in_memory().unwrap();
        store.write_batch(&batch).unwrap();
    }
}

#[test]
fn splunk_export_regressions_never_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut n = 0;
    for entry in std::fs::read_dir(root.join("fuzz/regressions")).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        check_splunk(&data);
        for cut in (0..data.len()).step_by(7) {
            check_splunk(&data[..cut]);
        }
        n += 1;
    }
    assert!(n > 5);
    // A well-formed export line is read; a row whose event is refused is counted, not fatal.
    let line = |raw: &str| {
        serde_json::json!({"preview": false, "lastrow": true, "result": {"_raw": raw, "epoch_time": "1717430700"}})
            .to_string()
    };
    let good = r#"{"version":"1.0","metrics":[{"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":5},"version":1,"timestamp":1717430700000}]}"#;
    let (batch, stats) = desk_engine::sources::splunk::parse_export(line(good).as_bytes()).unwrap();
    assert_eq!((batch.points.len(), stats.rows, stats.rejected), (1, 1, 0));
    let bad = r#"{"version":"1.0","metrics":[{"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":-5},"version":1,"timestamp":1717430700000}]}"#;
    let (batch, stats) = desk_engine::sources::splunk::parse_export(line(bad).as_bytes()).unwrap();
    assert_eq!((batch.points.len(), stats.rejected), (0, 1));
}

#[test]
fn regressions_and_fixtures_never_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut n = 0;
    for dir in ["fuzz/regressions", "tests/fixtures", "tests/fixtures/real"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            check(&data);
            // Every prefix too: truncation anywhere must be handled.
            for cut in (0..data.len()).step_by(7) {
                check(&data[..cut]);
            }
            n += 1;
        }
    }
    assert!(n > 20, "only {n} inputs found");
    let deep = parse_bytes(
        &std::fs::read(root.join("fuzz/regressions/deep-nesting.json")).unwrap(),
        &Context::default(),
    );
    assert!(deep.is_err());
}

#[test]
fn a_splunk_line_beyond_the_cap_is_refused() {
    let cap = desk_engine::sources::splunk::MAX_LINE_BYTES;
    let mut body = vec![b'x'; cap + 1];
    body.push(b'\n');
    let Err(e) = desk_engine::sources::splunk::parse_export(&body) else {
        panic!("a line over the cap was read");
    };
    assert!(e.message.contains("longer than"), "{}", e.message);
}
