//! The compliance suite every source kind runs: the same three properties, proven against each
//! kind's real or emulated server (S3 on moto, the Device Defender API emulator, the Splunk
//! emulator, the Security Hub emulator), so a new kind is added to [`KINDS`] and proven by the same tests.
//!
//! - **idempotent:** a second sync of the same window leaves the cache as it was;
//! - **resumes:** syncs killed (SIGKILL) at random points, then one more, give the cache an
//!   uninterrupted sync gives — which also proves a mark (ledger entry, watermark) is never
//!   written ahead of its data: a mark ahead would make the last sync skip data it never kept;
//! - **cancels:** SIGINT during a slow sync exits 130 with `"cancelled": true` and an intact
//!   cache, and the next sync completes it to the same cache;
//!
//! Not here yet: bounded bodies per kind (S3's object limits are proven in `hostile.rs`; the
//! API kinds' page and response bounds in their own modules).

use crate::support;

use std::process::{Command, Stdio};
use std::time::Duration;

use desk_engine::store::Store;
use serde_json::{json, Value};
use support::servers::{self, control, env, fingerprint, Env, Server};

const SPLUNK_TOKEN: &str = "eyJrIjoi.compliance-token.test-only";

/// A source kind under test: how to stand up its server and add it as a source, and how to
/// make its server slow (for cancellation).
struct Kind {
    name: &'static str,
    /// Starts the servers and adds the source to `e`'s cache; returns the servers (kept
    /// running) and the sync's window end (epoch s).
    setup: fn(&Env, &Fixture) -> Vec<Server>,
    /// Makes every later request slow.
    slow: fn(&[Server]),
}

/// Data shared by the clean and the tested cache of one kind (same objects, same window).
struct Fixture {
    moto: Server,
    end_ms: i64,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "s3",
        setup: s3_setup,
        slow: |servers| {
            control(
                &servers[0],
                "/_emu/faults",
                &json!([{"op": "S3", "kind": "slow", "delay": 1, "count": 1000}]),
            )
        },
    },
    Kind {
        name: "defender",
        setup: defender_setup,
        slow: |servers| {
            control(
                &servers[0],
                "/_emu/faults",
                &json!([{"op": "*", "kind": "slow", "delay": 1, "count": 1000}]),
            )
        },
    },
    Kind {
        name: "security-hub",
        setup: hub_setup,
        slow: |servers| {
            control(
                &servers[0],
                "/_emu/faults",
                &json!([{"kind": "slow", "delay": 1, "count": 1000}]),
            )
        },
    },
    Kind {
        name: "splunk",
        setup: splunk_setup,
        slow: |servers| {
            control(
                &servers[0],
                "/_emu/faults",
                &json!([{"kind": "slow", "delay": 1, "count": 1000}]),
            )
        },
    },
];

fn cmd(e: &Env) -> Command {
    support::command(&e.db, Some(&e.home))
}

/// S3 through the emulator's S3 proxy (so faults can be injected) to moto's bucket.
fn s3_setup(e: &Env, f: &Fixture) -> Vec<Server> {
    let data = e.root.join("proxy.json");
    std::fs::write(&data, "{}").unwrap();
    let proxy = servers::defender(&data, &f.moto);
    support::ok(cmd(e).args([
        "sources",
        "add",
        "s3",
        "--name",
        "src",
        "--bucket",
        "dd-compliance",
        "--prefix",
        "exports/",
        "--endpoint-url",
        &proxy.url,
        "--path-style",
    ]));
    vec![proxy]
}

fn defender_setup(e: &Env, f: &Fixture) -> Vec<Server> {
    let data = e.root.join("defender.json");
    servers::dataset("defender", f.end_ms / 1000, &data);
    let emu = servers::defender(&data, &f.moto);
    support::ok(cmd(e).args([
        "sources",
        "add",
        "defender",
        "--name",
        "src",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &emu.url,
    ]));
    vec![emu]
}

/// The corpus's findings and 250 more, updated over the window's last hours: three pages.
fn hub_setup(e: &Env, f: &Fixture) -> Vec<Server> {
    let hub = servers::python_server("securityhub_emulator.py", &[]);
    crate::securityhub::import(&hub, f.end_ms / 1000 - 3600, 250, "corpus");
    support::ok(cmd(e).args([
        "sources",
        "add",
        "security-hub",
        "--name",
        "src",
        "--endpoint-url",
        &hub.url,
    ]));
    vec![hub]
}

fn splunk_setup(e: &Env, f: &Fixture) -> Vec<Server> {
    let data = e.root.join("splunk.json");
    servers::dataset("splunk", f.end_ms / 1000, &data);
    let splunk = servers::splunk(&data, SPLUNK_TOKEN);
    let (out, v) = support::run_with_stdin(
        cmd(e).args([
            "sources",
            "add",
            "splunk",
            "--name",
            "src",
            "--url",
            &splunk.url,
            "--index",
            "iot",
            "--token-stdin",
        ]),
        &format!("{SPLUNK_TOKEN}\n"),
    );
    assert!(out.status.success(), "{v}");
    vec![splunk]
}

fn sync_args(f: &Fixture) -> Vec<String> {
    vec![
        "sync".into(),
        "--from".into(),
        ((f.end_ms - 4 * 86_400_000) / 1000).to_string(),
        "--to".into(),
        (f.end_ms / 1000).to_string(),
        "--concurrency".into(),
        "2".into(),
    ]
}

/// A sync either completes (0) or completes all but a unit the data makes fail (3: the S3
/// fixture's corrupt object); anything else is a broken kind.
fn sync(e: &Env, f: &Fixture) -> (std::process::Output, Value) {
    let (out, v) = support::run(cmd(e).args(sync_args(f)));
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, v)
}

fn integrity(e: &Env) -> String {
    Store::open(&e.db)
        .unwrap()
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn fixture() -> Fixture {
    let moto = servers::moto();
    let end_ms = crate::sync::hour_floor(desk_engine::time::now());
    crate::sync::fill_bucket(&moto, "dd-compliance", end_ms, 12);
    Fixture { moto, end_ms }
}

/// Runs `check` for every kind, naming the kind that fails.
fn for_every_kind(check: impl Fn(&Kind, &Fixture)) {
    let f = fixture();
    for kind in KINDS {
        eprintln!("compliance: {}", kind.name);
        check(kind, &f);
    }
}

#[test]
fn every_kind_syncs_idempotently() {
    for_every_kind(|kind, f| {
        let e = env();
        let _servers = (kind.setup)(&e, f);
        sync(&e, f);
        let once = fingerprint(&e.db);
        assert_ne!(
            once,
            fingerprint_of_empty(),
            "{}: the sync kept nothing",
            kind.name
        );
        sync(&e, f);
        assert_eq!(
            fingerprint(&e.db),
            once,
            "{}: a second sync changed the cache",
            kind.name
        );
    });
}

fn fingerprint_of_empty() -> String {
    let e = env();
    support::ok(cmd(&e).args(["things"]));
    fingerprint(&e.db)
}

#[test]
fn every_kind_resumes_after_kills_to_the_uninterrupted_cache() {
    for_every_kind(|kind, f| {
        let clean = env();
        let _clean_servers = (kind.setup)(&clean, f);
        let started = std::time::Instant::now();
        sync(&clean, f);
        let full = started.elapsed();
        let expected = fingerprint(&clean.db);

        let e = env();
        let _servers = (kind.setup)(&e, f);
        let mut rng = fastrand::Rng::with_seed(0xc0ff_ee00 ^ kind.name.len() as u64);
        for i in 0..6 {
            let mut child = cmd(&e)
                .args(sync_args(f))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let at = Duration::from_millis(rng.u64(30..(full.as_millis() as u64).max(60)));
            std::thread::sleep(at);
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            assert_eq!(
                integrity(&e),
                "ok",
                "{}: after kill {i} at {at:?}",
                kind.name
            );
        }
        sync(&e, f);
        assert_eq!(
            fingerprint(&e.db),
            expected,
            "{}: the resumed cache differs from the uninterrupted one",
            kind.name
        );
    });
}

#[test]
fn every_kind_cancels_cleanly_and_completes_on_the_next_sync() {
    for_every_kind(|kind, f| {
        let clean = env();
        let _clean_servers = (kind.setup)(&clean, f);
        sync(&clean, f);
        let expected = fingerprint(&clean.db);

        let e = env();
        let servers = (kind.setup)(&e, f);
        (kind.slow)(&servers);
        let child = cmd(&e)
            .args(sync_args(f))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(2500));
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{}: {}",
            kind.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["cancelled"], true, "{}: {summary}", kind.name);
        assert_eq!(integrity(&e), "ok", "{}", kind.name);
        control(&servers[0], "/_emu/faults", &json!([]));
        sync(&e, f);
        assert_eq!(
            fingerprint(&e.db),
            expected,
            "{}: the sync after a cancel differs from the uninterrupted one",
            kind.name
        );
    });
}
