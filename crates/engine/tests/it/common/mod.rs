//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use desk_engine::ingest::{self, IngestReport};
use desk_engine::model::parse::Context;
use desk_engine::store::Store;

/// `tests/fixtures/NAME` at the workspace root.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// Reads a fixture.
pub fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Ingests fixtures by name into `store`, with `ctx`.
pub fn ingest(store: &mut Store, names: &[&str], ctx: &Context) -> IngestReport {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    ingest::ingest_paths(store, &paths, ctx)
}

/// Every table's rows in a stable order: two caches with equal dumps hold the same data.
pub fn dump(store: &Store) -> Vec<String> {
    let conn = store.connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        // A cache's keychain scope is its identity, not its data.
        let filter = if t == "meta" {
            " WHERE key <> 'keychain_scope'"
        } else {
            ""
        };
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\"{filter}"))
            .unwrap();
        let cols = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut s = format!("{t}:");
                for i in 0..cols {
                    // Chunk rowids are an implementation detail; compare content.
                    if t == "chunk" && i == 0 {
                        continue;
                    }
                    s.push_str(&format!("{:?}|", r.get_ref(i)?));
                }
                Ok(s)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows);
    }
    out
}
