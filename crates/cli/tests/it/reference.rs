//! `crates/cli/REFERENCE.md` is checked against the CLI itself (`ddesk … --help`), both ways:
//! every command and flag `ddesk` has is documented, and every command and flag the page names
//! exists — so the reference cannot drift from the contract.

use std::collections::BTreeSet;
use std::process::Command;

/// `ddesk <path> -h` (the short help: one line an entry).
fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ddesk"))
        .args(path)
        .arg("-h")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ddesk {} --help failed",
        path.join(" ")
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The names in one section (`Commands:`, `Options:`) of a help text.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| l.trim() != title).skip(1);
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if l.trim().is_empty() {
            break;
        }
        // An entry starts two spaces in; a continuation line further.
        if l.starts_with("  ") && !l.starts_with("          ") {
            out.push(l.trim());
        }
    }
    out
}

/// Every `--flag` in `text`.
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let before = start.checked_sub(1).map(|j| b[j]);
        let name: String = text[start + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        i = start + 2 + name.len();
        let word_start = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == b'-'));
        if word_start && name.len() > 1 && name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.insert(format!("--{}", name.trim_end_matches('-')));
        }
    }
    out
}

/// Every command path (`["sources", "add", "s3"]`, …) and the flags each has.
fn tree() -> Vec<(Vec<String>, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let text = help(&path);
        let flags: BTreeSet<String> = section(&text, "Options:")
            .into_iter()
            .flat_map(flags_in)
            .collect();
        for entry in section(&text, "Commands:") {
            let name = entry.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name);
                todo.push(sub);
            }
        }
        out.push((path, flags));
    }
    out
}

fn reference() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/REFERENCE.md")).unwrap()
}

/// Other tools' flags the page names (the AWS CLI's `--output` and `--query`, cargo's
/// `--release`), never ddesk's.
const OTHER_TOOLS: [&str; 3] = ["--output", "--query", "--release"];

/// Flags every command has, documented once.
const COMMON: [&str; 3] = ["--help", "--version", "--db"];

#[test]
fn every_command_and_flag_of_ddesk_is_in_the_reference() {
    let doc = reference();
    let documented = flags_in(&doc);
    let mut missing = Vec::new();
    for (path, flags) in tree() {
        if !path.is_empty() && !doc.contains(&format!("ddesk {}", path.join(" "))) {
            missing.push(format!("command `ddesk {}`", path.join(" ")));
        }
        for f in flags {
            if !COMMON.contains(&f.as_str()) && !documented.contains(&f) {
                missing.push(format!("flag {f} of `ddesk {}`", path.join(" ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "REFERENCE.md lacks:\n{}",
        missing.join("\n")
    );
    assert!(
        documented.contains("--db"),
        "REFERENCE.md does not say what --db does"
    );
}

#[test]
fn every_command_and_flag_in_the_reference_exists() {
    let doc = reference();
    let tree = tree();
    let all_flags: BTreeSet<String> = tree.iter().flat_map(|(_, f)| f.iter().cloned()).collect();
    let stale: Vec<String> = flags_in(&doc)
        .into_iter()
        .filter(|f| !all_flags.contains(f) && !OTHER_TOOLS.contains(&f.as_str()))
        .collect();
    assert!(
        stale.is_empty(),
        "REFERENCE.md names flags ddesk does not have: {stale:?}"
    );
    let top: BTreeSet<&str> = tree
        .iter()
        .filter(|(p, _)| p.len() == 1)
        .map(|(p, _)| p[0].as_str())
        .collect();
    for (i, _) in doc.match_indices("`ddesk ") {
        let word: String = doc[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        // `ddesk --help` and the like are flags, checked above.
        let word = if word.starts_with('-') {
            String::new()
        } else {
            word
        };
        assert!(
            word.is_empty() || top.contains(word.as_str()),
            "REFERENCE.md names `ddesk {word}`, which is not a command"
        );
    }
}

#[test]
fn the_checker_reads_flags_and_sections() {
    assert_eq!(
        flags_in("a --from T, --to-x and -- or x--y --a"),
        ["--from", "--to-x"].map(String::from).into()
    );
    let text = "Usage\n\nCommands:\n  add   Add\n  help  Help\n\nOptions:\n      --db <DB>  x\n";
    assert_eq!(section(text, "Commands:"), ["add   Add", "help  Help"]);
}
