//! The UI's TypeScript is generated from the Rust types and the one command list: this test
//! fails when the committed `ui/src/bindings.ts`, `ui/src/api/commands.ts` or
//! `ui/src/api/events.ts` drifts from them (`UPDATE_BINDINGS=1` rewrites them).

use std::path::PathBuf;

use desk_engine::app::{bindings, commands};

/// Checks (or with `UPDATE_BINDINGS`, rewrites) one generated file of `ui/src/`.
fn check(relative: &str, generated: &str) {
    // The checkout being tested, read at run time: a test binary reused from a target dir
    // shared between checkouts would otherwise compare (and rewrite) another checkout's file.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let path = manifest.join("../../ui/src").join(relative);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/{relative} is out of date with the Rust side: run \
         `UPDATE_BINDINGS=1 cargo test -p desk-engine --test it bindings` and commit the result"
    );
    assert!(
        !generated.contains("bigint"),
        "a 64-bit integer crosses IPC as a JSON number, never a bigint: mark the field \
         #[ts(as = \"crate::ts::Millis\")] (or ts::Count, Option<…>, Vec<…>)"
    );
}

#[test]
fn ui_bindings_match_the_rust_types() {
    check("bindings.ts", &bindings::typescript());
}

#[test]
fn ui_commands_and_events_are_the_engine_list() {
    check("api/commands.ts", &commands::typescript_commands());
    check("api/events.ts", &commands::typescript_events());
}

/// The UI reaches IPC only through the generated `api` and listeners: no file outside them
/// (and the one door, `api/client.ts`) invokes a command or listens for an event by name.
#[test]
fn no_command_or_event_name_is_written_by_hand_in_the_ui() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src");
    let allowed = [
        "bindings.ts",
        "api/commands.ts",
        "api/events.ts",
        "api/client.ts",
    ];
    let mut stack = vec![src.clone()];
    let mut read = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let code = rel.ends_with(".ts") || rel.ends_with(".tsx");
            if !code || rel.contains(".test.") || allowed.contains(&rel.as_str()) {
                continue;
            }
            read += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in [
                "invoke(",
                "invoke<",
                "listen(",
                "listen<",
                " call(",
                " call<",
                "\"@tauri-apps/api/core\"",
                "\"@tauri-apps/api/event\"",
            ] {
                assert!(
                    !text.contains(needle),
                    "ui/src/{rel} reaches IPC by name ({needle}) outside the generated api"
                );
            }
        }
    }
    assert!(
        read > 10,
        "the UI sources were not found ({read} files read)"
    );
}
