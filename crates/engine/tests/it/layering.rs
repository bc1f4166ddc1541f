//! The layering ARCHITECTURE.md states is the layering the code has: every `crate::<module>`
//! edge of the engine's non-test code goes to a lower layer of its table; and nothing under
//! `crates/` depends on tauri.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The layer of each module, from ARCHITECTURE.md's table.
fn layers() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let table = text
        .split("<!-- layers:")
        .nth(1)
        .expect("ARCHITECTURE.md has its layers table");
    let mut out = BTreeMap::new();
    for line in table.lines().skip(1) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 3 {
            if !out.is_empty() {
                break;
            }
            continue;
        }
        let Ok(layer) = cells[1].parse::<usize>() else {
            continue;
        };
        for m in cells[2].split(',') {
            out.insert(m.trim().trim_matches('`').to_string(), layer);
        }
    }
    out
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<name>` a line of code names (comments skipped).
fn edges_of(line: &str) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if matches!(before, Some(c) if c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect();
        let after = &rest[name.len()..];
        if !name.is_empty() && (after.starts_with("::") || after.starts_with([';', ',', '}', ' ']))
        {
            out.push(name);
        }
    }
    out
}

/// The non-test lines of a file: a `#[cfg(test)]` module ends what is read, and a file that is
/// itself a test module (`tests.rs`) is not read.
fn code_lines(file: &Path) -> Vec<String> {
    if file.file_name().is_some_and(|n| n == "tests.rs") {
        return Vec::new();
    }
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim() == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        out.push(l.to_string());
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let layers = layers();
    let src = root().join("crates/engine/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeSet::new();
    let mut bad = Vec::new();
    for f in &files {
        let from = module_of(&src, f);
        if from == "lib" || from == "error" {
            continue;
        }
        modules.insert(from.clone());
        let Some(&lf) = layers.get(&from) else {
            bad.push(format!("module {from} is not in ARCHITECTURE.md's layers"));
            continue;
        };
        for line in code_lines(f) {
            for to in edges_of(&line) {
                if to == from
                    || to == "error"
                    || !layers.contains_key(&to)
                        && !src.join(&to).exists()
                        && !src.join(format!("{to}.rs")).exists()
                {
                    continue;
                }
                match layers.get(&to) {
                    Some(&lt) if lt < lf => {}
                    Some(&lt) => bad.push(format!(
                        "{}: {from} (layer {lf}) uses {to} (layer {lt})",
                        f.strip_prefix(&src).unwrap().display()
                    )),
                    None => bad.push(format!("{from} uses {to}, which has no layer")),
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "edges ARCHITECTURE.md does not allow:\n{}",
        bad.join("\n")
    );
    // The table lists only modules that exist.
    for m in layers.keys() {
        assert!(
            modules.contains(m),
            "ARCHITECTURE.md lists {m}, which is not a module"
        );
    }
}

#[test]
fn the_checker_sees_an_upward_edge() {
    assert_eq!(edges_of("use crate::app::Desk;"), ["app"]);
    assert_eq!(edges_of("    let x = crate::sync::sync(db);"), ["sync"]);
    assert!(edges_of("// see crate::app").is_empty());
    assert!(edges_of("use crate::{Error, Result};").is_empty());
    assert!(edges_of("$crate::app::Status").is_empty());
}

#[test]
fn nothing_under_crates_depends_on_tauri() {
    for krate in ["engine", "cli"] {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
        for line in manifest.lines() {
            let name = line.split('=').next().unwrap_or("").trim();
            assert!(
                !name.starts_with("tauri"),
                "crates/{krate} depends on {name}: only src-tauri may"
            );
        }
    }
}
