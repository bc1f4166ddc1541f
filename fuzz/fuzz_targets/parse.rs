//! Any bytes, plain or gzip, through the framing and the parsers, then into a cache:
//! never a panic, and a rejected input stores nothing.
#![no_main]

use desk_engine::model::parse::{parse_bytes, Context};
use desk_engine::store::Store;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = Context {
        thing: Some("fuzz-thing".into()),
        metric: Some("aws:all-bytes-out".into()),
        task_id: Some("fuzz-task".into()),
        observed: None,
        ..Context::default()
    };
    if let Ok(batch) = parse_bytes(data, &ctx) {
        let mut store = Store::open_in_memory().expect("in-memory cache");
        // Parsed data must always be storable and readable back.
        store.write_batch(&batch).expect("a parsed batch is always storable");
        for t in store.things().expect("things") {
            for m in &t.metrics {
                store.series(&t.name, m, None, i64::MIN, i64::MAX).expect("series reads back");
            }
        }
    }
});
