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

#[test]
fn regressions_and_fixtures_never_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut n = 0;
    for dir in ["fuzz/regressions", "tests/fixtures"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
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
