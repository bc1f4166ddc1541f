//! The UI's TypeScript types are generated from the Rust types: this test fails when the
//! committed `ui/src/bindings.ts` drifts from them (`UPDATE_BINDINGS=1` rewrites it).

use std::path::PathBuf;

#[test]
fn ui_bindings_match_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings.ts");
    let generated = desk_engine::desk::bindings::typescript();
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
        "64-bit integers must be numbers on the wire"
    );
}
