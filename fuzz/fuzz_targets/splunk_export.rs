//! Any bytes as a Splunk export response (NDJSON lines of `{preview, result, lastrow,
//! messages}` whose `_raw` is a Device Defender document): never a panic, whatever parses is
//! storable.
#![no_main]

use desk_engine::sources::splunk::parse_export;
use desk_engine::store::Store;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((batch, _)) = parse_export(data) {
        let mut store = Store::open_in_memory().expect("in-memory cache");
        store.write_batch(&batch).expect("a parsed batch is always storable");
    }
});
