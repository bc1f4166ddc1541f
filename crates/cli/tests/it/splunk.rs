//! `ddesk` against the Splunk emulator, with the token in a real Secret Service (the test
//! command runs these under `dbus-run-session` with an unlocked gnome-keyring; see
//! `scripts/test.sh`). Faults heal or fail clearly; the token never reaches a file.

use crate::support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use desk_engine::store::Store;
use serde_json::{json, Value};
use support::servers::{self, control, env, fingerprint, Env, Server};

const TOKEN: &str = "eyJrIjoi.splunk-token-4f1d9c.test-only";

fn ddesk(e: &Env, args: &[&str], stdin: Option<&str>) -> (Output, Value) {
    let mut c = support::command(&e.db, Some(&e.home));
    // Keep the process's config/log dirs inside the test root so the secrets scan covers them.
    c.env("XDG_CONFIG_HOME", e.root.join("config"))
        .env("XDG_STATE_HOME", e.root.join("state"))
        .env("XDG_CACHE_HOME", e.root.join("cache"))
        .env("DDESK_LOG", "debug")
        .args(args);
    let (out, v) = support::run_with_stdin(&mut c, stdin.unwrap_or(""));
    // Logs go to stderr: keep them where the scan looks.
    std::fs::create_dir_all(e.root.join("state")).unwrap();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(e.root.join("state/ddesk.log"))
        .unwrap();
    log.write_all(&out.stderr).unwrap();
    (out, v)
}

fn setup(e: &Env, now: i64) -> (Server, Value) {
    let data_path = e.root.join("splunk.json");
    let data = servers::dataset("splunk", now, &data_path);
    let splunk = servers::splunk(&data_path, TOKEN);
    let (out, v) = ddesk(
        e,
        &[
            "sources",
            "add",
            "splunk",
            "--name",
            "spl",
            "--url",
            &splunk.url,
            "--index",
            "iot",
            "--token-stdin",
        ],
        Some(&format!("{TOKEN}\n")),
    );
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (splunk, data)
}

fn sync(e: &Env, now: i64) -> (Output, Value) {
    ddesk(
        e,
        &[
            "sync",
            "--from",
            &(now - 4 * 86_400).to_string(),
            "--to",
            &now.to_string(),
        ],
        None,
    )
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(p);
            }
        }
    }
    hits
}

#[test]
fn splunk_sync_reads_metrics_at_their_own_time_and_audit_checks_and_keeps_the_token_secret() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let (splunk, data) = setup(&e, now);
    let (out, test) = ddesk(&e, &["sources", "test", "spl"], None);
    assert!(out.status.success(), "{test}");
    assert!(test["message"].as_str().unwrap().contains("token accepted"));
    assert_eq!(
        (&test["status"], &test["hint"]),
        (&json!("ok"), &json!(null)),
        "{test}"
    );

    let (out, summary) = sync(&e, now);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wanted: Vec<&Value> = data
        .as_array()
        .unwrap()
        .iter()
        .filter(|ev| ev["index"] == "iot" && ev["sourcetype"] == "aws-iot-device-defender")
        .collect();
    let metrics = wanted
        .iter()
        .filter(|ev| ev["event"]["name"].is_string())
        .count();
    assert_eq!(summary["datapoints"], metrics as u64, "{summary}");
    assert_eq!(summary["sources"][0]["events"], wanted.len() as u64);
    let (_, things) = ddesk(&e, &["things"], None);
    let names: Vec<&str> = things
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thing"].as_str().or(t["name"].as_str()).unwrap())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("intruder")),
        "other index/sourcetype read"
    );
    // Metric time is the event's own timestamp, not _time (index time 2 minutes later).
    let first = wanted
        .iter()
        .find(|ev| ev["event"]["thing"] == "cam-000")
        .unwrap();
    let ts = first["event"]["timestamp"].as_i64().unwrap();
    let (_, series) = ddesk(
        &e,
        &[
            "series",
            "--thing",
            "cam-000",
            "--metric",
            "aws:all-bytes-out",
        ],
        None,
    );
    let t0 = series[0]["t"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(t0)
            .unwrap()
            .timestamp_millis(),
        ts,
        "{series}"
    );
    let (_, audits) = ddesk(&e, &["audits"], None);
    assert_eq!(audits.as_array().unwrap().len(), 12, "{audits}");

    // The token is in no file under the data, config, state/log and home dirs.
    let leaks = files_containing(&e.root, TOKEN.as_bytes());
    assert!(leaks.is_empty(), "token found in {leaks:?}");
    let calls = std::process::Command::new("curl")
        .args(["-sf", &format!("{}/_emu/calls", splunk.url)])
        .output()
        .unwrap();
    assert!(!calls.stdout.is_empty());

    // Second sync: only the overlap hour is read again — one search, as the emulator's call
    // log shows; the cache is unchanged.
    let searches = || -> usize {
        let out = std::process::Command::new("curl")
            .args(["-sf", &format!("{}/_emu/calls", splunk.url)])
            .output()
            .unwrap();
        let calls: Value = serde_json::from_slice(&out.stdout).unwrap();
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["path"].as_str().is_some_and(|p| p.ends_with("/export")))
            .count()
    };
    let before_searches = searches();
    let before = fingerprint(&e.db);
    let (out, again) = ddesk(&e, &["sync", "--to", &now.to_string()], None);
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert_eq!(fingerprint(&e.db), before);
    assert_eq!(
        searches() - before_searches,
        1,
        "one search for the resumed hour"
    );

    // Removing the source deletes the keychain entry.
    let (out, _) = ddesk(&e, &["sources", "remove", "spl"], None);
    assert!(out.status.success());
    let (out, v) = setup_again(&e, &splunk);
    assert!(out.status.success(), "{v}");
}

fn setup_again(e: &Env, splunk: &Server) -> (Output, Value) {
    ddesk(
        e,
        &[
            "sources",
            "add",
            "splunk",
            "--name",
            "spl",
            "--url",
            &splunk.url,
            "--index",
            "iot",
            "--token-stdin",
        ],
        Some("another-token\n"),
    )
}

#[test]
fn splunk_faults_heal_or_fail_clearly() {
    let now = desk_engine::time::now() / 1000;
    let clean = env();
    let (_s, _) = setup(&clean, now);
    let (out, _) = sync(&clean, now);
    assert_eq!(out.status.code(), Some(0));
    let expected = fingerprint(&clean.db);

    for faults in [
        json!([{"kind": "refuse", "count": 2}]),
        json!([{"kind": "cut", "count": 2}]),
        json!([{"kind": "slow", "delay": 2, "count": 1}]),
        json!([{"kind": "v1only", "count": 100}]),
    ] {
        let e = env();
        let (splunk, _) = setup(&e, now);
        control(&splunk, "/_emu/faults", &faults);
        let (out, summary) = sync(&e, now);
        assert_eq!(out.status.code(), Some(0), "{faults}: {summary}");
        assert_eq!(fingerprint(&e.db), expected, "{faults}: cache differs");
    }

    let e = env();
    let (splunk, _) = setup(&e, now);
    control(
        &splunk,
        "/_emu/faults",
        &json!([{"kind": "warn", "count": 1, "text": "peer idx-02 down"}]),
    );
    let (out, summary) = sync(&e, now);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        summary.to_string().contains("peer idx-02 down"),
        "{summary}"
    );

    let e = env();
    let (splunk, _) = setup(&e, now);
    control(
        &splunk,
        "/_emu/faults",
        &json!([{"kind": "fatal", "count": 1}]),
    );
    let (out, summary) = sync(&e, now);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert!(summary["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("Search auto-canceled"));

    let e = env();
    let (splunk, _) = setup(&e, now);
    control(&splunk, "/_emu/token", &json!({"revoked": true}));
    let (out, summary) = sync(&e, now);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert!(summary["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("rejected the token"));
    let (out, test) = ddesk(&e, &["sources", "test", "spl"], None);
    assert!(!out.status.success());
    assert!(
        test["message"]
            .as_str()
            .unwrap()
            .contains("expired or revoked"),
        "{test}"
    );
    assert_eq!(
        Store::open(&e.db).unwrap().things().unwrap().len(),
        0,
        "nothing half-written"
    );

    // A refusal that never ends: a clear error after bounded back-off.
    let e = env();
    let (splunk, _) = setup(&e, now);
    control(
        &splunk,
        "/_emu/faults",
        &json!([{"kind": "refuse", "count": 1000}]),
    );
    let (out, summary) = sync(&e, now);
    assert_eq!(out.status.code(), Some(3));
    assert!(summary["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("Search not executed"));
}

#[test]
fn hostile_thing_names_never_reach_splunk() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let (splunk, _) = setup(&e, now);
    for hostile in [
        r#"x" | delete"#,
        "x OR index=*",
        "a*",
        "[search index=_audit]",
        "x\\",
    ] {
        let (out, _) = ddesk(&e, &["sync", "--source", "spl", "--thing", hostile], None);
        assert!(!out.status.success(), "{hostile:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not a valid AWS IoT thing name"),
            "{hostile:?}: {err}"
        );
    }
    let calls = std::process::Command::new("curl")
        .args(["-sf", &format!("{}/_emu/calls", splunk.url)])
        .output()
        .unwrap();
    let calls: Value = serde_json::from_slice(&calls.stdout).unwrap();
    assert!(
        !calls.to_string().contains("export"),
        "a search was sent: {calls}"
    );
    // A valid name is quoted and matched exactly.
    let (out, v) = ddesk(&e, &["sync", "--source", "spl", "--thing", "cam-003"], None);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, things) = ddesk(&e, &["things"], None);
    assert_eq!(things.as_array().unwrap().len(), 1, "{things}");
}

/// A test CA and a server certificate for 127.0.0.1 signed by it.
fn test_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let sh = |cmd: &str| {
        let out = Command::new("bash")
            .args(["-c", cmd])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ddesk-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
    sh("openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null");
    sh("printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && \
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null");
    (dir.join("ca.pem"), dir.join("srv.pem"), dir.join("srv.key"))
}

#[test]
fn self_signed_splunk_needs_its_ca_and_verification_is_never_off() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let (ca, cert, key) = test_pki(&e.root);
    let data_path = e.root.join("splunk.json");
    servers::dataset("splunk", now, &data_path);
    let splunk = servers::splunk_tls(&data_path, TOKEN, &cert, &key);
    let add = |extra: &[&str]| {
        let mut args = vec![
            "sources",
            "add",
            "splunk",
            "--name",
            "tls",
            "--url",
            &splunk.url,
            "--index",
            "iot",
            "--token-stdin",
        ];
        args.extend_from_slice(extra);
        let (out, v) = ddesk(&e, &args, Some(&format!("{TOKEN}\n")));
        assert!(
            out.status.success(),
            "{v} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    add(&[]);
    let (out, test) = ddesk(&e, &["sources", "test", "tls"], None);
    assert!(
        !out.status.success(),
        "an untrusted certificate was accepted: {test}"
    );
    let msg = test["message"].as_str().unwrap();
    assert!(msg.contains("TLS") && msg.contains("--ca-bundle"), "{msg}");
    // The health is typed: an error of kind tls, with what to do.
    assert_eq!(
        (&test["status"], &test["kind"]),
        (&json!("error"), &json!("tls")),
        "{test}"
    );
    assert!(
        test["hint"].as_str().unwrap().contains("--ca-bundle"),
        "{test}"
    );
    let (out, _) = ddesk(&e, &["sources", "remove", "tls"], None);
    assert!(out.status.success());

    add(&["--ca-bundle", ca.to_str().unwrap()]);
    let (out, test) = ddesk(&e, &["sources", "test", "tls"], None);
    assert!(out.status.success(), "{test}");
    let (out, summary) = sync(&e, now);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert!(summary["datapoints"].as_u64().unwrap() > 0);
}

#[test]
fn caches_with_a_source_of_the_same_name_keep_their_own_tokens() {
    let now = desk_engine::time::now() / 1000;
    let a = env();
    let (splunk, _) = setup(&a, now);
    // Another cache, a source of the same name, another token.
    let b = env();
    let (out, v) = setup_again(&b, &splunk);
    assert!(out.status.success(), "{v}");
    let (out, summary) = sync(&a, now);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a's token was replaced: {summary}"
    );
    let (out, summary) = sync(&b, now);
    assert_ne!(out.status.code(), Some(0), "{summary}");
    assert!(
        summary.to_string().contains("rejected the token"),
        "{summary}"
    );
    // Removing b's source deletes b's token only.
    let (out, _) = ddesk(&b, &["sources", "remove", "spl"], None);
    assert!(out.status.success());
    let (out, summary) = sync(&a, now);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a's token was deleted: {summary}"
    );
}
