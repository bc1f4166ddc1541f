//! The UI's TypeScript types are generated from the Rust types: this test fails when the
//! committed `ui/src/bindings.ts` drifts from them (`UPDATE_BINDINGS=1` rewrites it).

use std::path::PathBuf;

#[test]
fn ui_bindings_match_the_rust_types() {
    // The checkout being tested, read at run time: a test binary reused from a target dir
    // shared between checkouts would otherwise compare (and rewrite) another checkout's file.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let path = manifest.join("../../ui/src/bindings.ts");
    let generated = desk_engine::app::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.ts is out of date with the Rust types: run \
         `UPDATE_BINDINGS=1 cargo test --workspace --test bindings` and commit the result"
    );
    assert!(
        !generated.contains("bigint"),
        "a 64-bit integer crosses IPC as a JSON number, never a bigint: mark the field \
         #[ts(as = \"crate::ts::Millis\")] (or ts::Count, Option<…>, Vec<…>)"
    );
}
