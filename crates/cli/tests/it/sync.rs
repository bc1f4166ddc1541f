//! `ddesk sources` and `ddesk sync` against real protocol peers: moto_server for S3 (objects in
//! the Firehose layout: gzip, multi-member, run-together records, error prefixes) and the Device
//! Defender emulator (proxying thing groups to moto). Faults are injected in the emulator; a
//! crash test kills the sync at random points. Caches are compared by content fingerprint.

use crate::support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use desk_engine::store::Store;
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use support::servers::{self, control, env, fingerprint, Env, Server};

const HOUR_MS: i64 = 3_600_000;

fn ddesk(db: &Path, home: &Path) -> Command {
    support::command(db, Some(home))
}

fn run(db: &Path, home: &Path, args: &[&str]) -> (Output, Value) {
    support::run(ddesk(db, home).args(args))
}

fn ok(db: &Path, home: &Path, args: &[&str]) -> Value {
    support::ok(ddesk(db, home).args(args))
}

fn curl_put(url: &str, body: Option<&[u8]>) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body.unwrap_or_default()).unwrap();
    let mut c = Command::new("curl");
    c.args([
        "-sf",
        "-H",
        "Expect:",
        "-H",
        "Content-Type: application/octet-stream",
        "-X",
        "PUT",
        url,
    ]);
    if body.is_some() {
        c.arg("--data-binary")
            .arg(format!("@{}", file.path().display()));
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "PUT {url}");
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn partition(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y/%m/%d/%H/")
        .to_string()
}

/// A bucket in the Firehose layout over `hours` hours ending at `end`: per hour two objects of
/// several run-together batches (gzip; one of them two gzip members), plus error outputs, a
/// corrupt object and an object outside the window. Returns (datapoints in window, objects).
pub(crate) fn fill_bucket(moto: &Server, bucket: &str, end: i64, hours: i64) -> (usize, usize) {
    curl_put(&format!("{}/{bucket}", moto.url), None);
    let mut points = 0;
    let mut objects = 0;
    for h in 0..hours {
        let hour = end - (hours - h) * HOUR_MS;
        for part in 0..2 {
            let mut raw = Vec::new();
            let mut members = Vec::new();
            for b in 0..3 {
                let ts = hour + (part * 3 + b) * 300_000;
                let metrics: Vec<Value> = (0..10)
                    .map(|i| {
                        json!({"name": "aws:all-bytes-out", "thing": format!("cam-{i:02}"),
                               "value": {"count": 1000 * i + h}, "version": 1, "timestamp": ts})
                    })
                    .chain((0..10).map(|i| {
                        json!({"name": "aws:listening-tcp-ports", "thing": format!("cam-{i:02}"),
                               "value": {"ports": if i == 3 && h > 2 { vec![21, 443] } else { vec![443] }},
                               "version": 1, "timestamp": ts})
                    }))
                    .collect();
                points += metrics.len();
                let batch = json!({"version": "1.0", "metrics": metrics}).to_string();
                raw.extend_from_slice(batch.as_bytes());
                members.push(batch);
            }
            let body = if part == 0 {
                gz(&raw)
            } else {
                // two gzip members, as Firehose writes when it concatenates compressed records
                let mut b = gz(members[0].as_bytes());
                b.extend(gz(format!("{}{}", members[1], members[2]).as_bytes()));
                b
            };
            let key = format!(
                "exports/{}dd-export-1-{}-{part}.gz",
                partition(hour),
                hour / 1000
            );
            curl_put(&format!("{}/{bucket}/{key}", moto.url), Some(&body));
            objects += 1;
        }
    }
    let failed =
        std::fs::read(servers::repo().join("tests/fixtures/firehose-processing-failed.json"))
            .unwrap();
    curl_put(
        &format!(
            "{}/{bucket}/exports/processing-failed/{}failed-1",
            moto.url,
            partition(end - HOUR_MS)
        ),
        Some(&failed),
    );
    curl_put(
        &format!(
            "{}/{bucket}/processing-failed/{}failed-2",
            moto.url,
            partition(end - HOUR_MS)
        ),
        Some(&failed),
    );
    let truncated = std::fs::read(servers::repo().join("tests/fixtures/truncated.json")).unwrap();
    curl_put(
        &format!(
            "{}/{bucket}/exports/{}dd-export-1-corrupt",
            moto.url,
            partition(end - 2 * HOUR_MS)
        ),
        Some(&truncated),
    );
    // Far outside the window: never listed.
    curl_put(
        &format!(
            "{}/{bucket}/exports/{}dd-export-1-old.gz",
            moto.url,
            partition(end - 40 * 24 * HOUR_MS)
        ),
        Some(&gz(b"{}")),
    );
    (points, objects)
}

pub(crate) fn hour_floor(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

#[test]
fn s3_sync_is_complete_recovers_error_outputs_reports_corrupt_objects_and_is_incremental() {
    let moto = servers::moto();
    let e = env();
    let end = hour_floor(desk_engine::time::now());
    let (points, objects) = fill_bucket(&moto, "dd-exports", end, 6);
    ok(
        &e.db,
        &e.home,
        &[
            "sources",
            "add",
            "s3",
            "--name",
            "exports",
            "--bucket",
            "dd-exports",
            "--prefix",
            "exports/",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &moto.url,
            "--path-style",
        ],
    );
    let list = ok(&e.db, &e.home, &["sources", "list"]);
    assert_eq!(list[0]["kind"], "s3");
    assert_eq!(list[0]["settings"]["bucket"], "dd-exports");
    let test = ok(&e.db, &e.home, &["sources", "test", "exports"]);
    assert_eq!(test["ok"], true, "{test}");
    assert_eq!(
        test["status"], "ok",
        "moto's bucket holds the export: {test}"
    );

    let from = (end - 6 * HOUR_MS) / 1000;
    let to = end / 1000;
    let (out, summary) = run(
        &e.db,
        &e.home,
        &["sync", "--from", &from.to_string(), "--to", &to.to_string()],
    );
    // The corrupt object (cut off after its first record) makes the sync partial: exit 3, its
    // cut record listed, its first record and everything else kept.
    assert_eq!(out.status.code(), Some(3), "{summary}");
    // The two error-output objects are read too: each processing-failed record's rawData (the
    // only copy of its metrics) is recovered — one datapoint of cam-0042 each.
    assert_eq!(summary["objects_fetched"], objects as u64 + 1 + 2);
    assert_eq!(summary["datapoints"], points as u64 + 1 + 2);
    assert_eq!(summary["skipped"], 0, "{summary}");
    assert_eq!(
        summary["sources"][0]["recovered"]["processing-failed"], 2,
        "two error-output objects: {summary}"
    );
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{summary}");
    assert!(errors[0]["object"]
        .as_str()
        .unwrap()
        .ends_with("dd-export-1-corrupt"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[exports]"), "progress on stderr: {stderr}");

    let things = ok(&e.db, &e.home, &["things"]);
    assert_eq!(
        things.as_array().unwrap().len(),
        12,
        "ten, cam-9 of the cut object and cam-0042 recovered from the error outputs"
    );
    let drift = ok(
        &e.db,
        &e.home,
        &[
            "drift",
            "--thing",
            "cam-03",
            "--metric",
            "aws:listening-tcp-ports",
        ],
    );
    assert!(drift.to_string().contains("21"), "{drift}");
    let before = fingerprint(&e.db);

    // Second sync: nothing fetched again, the corrupt object not reported again.
    let (out, again) = run(
        &e.db,
        &e.home,
        &["sync", "--from", &from.to_string(), "--to", &to.to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert_eq!(again["objects_fetched"], 0);
    assert_eq!(again["datapoints"], 0);
    assert_eq!(again["sources"][0]["unchanged"], (objects + 3) as u64);
    assert_eq!(fingerprint(&e.db), before);

    // A sync without a window (what `ddesk watch` and the app's watcher run) resumes an hour
    // before the last complete listing: with nothing new it costs a few list calls — one per
    // day partition (one or two) per base prefix (the export's and Firehose's four error
    // prefixes, under it and at the root) — not the 14 days × 9 of a first sync.
    let resumed = ok(&e.db, &e.home, &["sync"]);
    assert_eq!(resumed["objects_fetched"], 0, "{resumed}");
    let calls = resumed["sources"][0]["list_calls"].as_u64().unwrap();
    assert!((1..=18).contains(&calls), "{calls} list calls: {resumed}");
    assert_eq!(fingerprint(&e.db), before);

    // Removing the source keeps its data.
    ok(&e.db, &e.home, &["sources", "remove", "exports"]);
    assert_eq!(ok(&e.db, &e.home, &["sources", "list"]), json!([]));
    assert_eq!(
        ok(&e.db, &e.home, &["things"]).as_array().unwrap().len(),
        12
    );
}

#[test]
fn sources_are_validated_and_named_in_errors() {
    let e = env();
    for (args, needle) in [
        (
            vec!["s3", "--name", "x", "--bucket", "Bad_Bucket"],
            "bucket name",
        ),
        (
            vec!["s3", "--name", "bad name", "--bucket", "b"],
            "source name",
        ),
        (
            vec!["defender", "--name", "d", "--region", "us east"],
            "region",
        ),
        (
            vec![
                "splunk",
                "--name",
                "s",
                "--url",
                "ftp://x",
                "--index",
                "iot",
                "--token-stdin",
            ],
            "http(s)",
        ),
        (
            vec![
                "splunk",
                "--name",
                "s",
                "--url",
                "https://x:8089",
                "--index",
                "iot OR index=_audit",
                "--token-stdin",
            ],
            "index",
        ),
    ] {
        let mut full = vec!["sources", "add"];
        full.extend(&args);
        let (out, _) = run(&e.db, &e.home, &full);
        assert!(!out.status.success(), "{full:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{full:?}: {err}");
    }
    let (out, _) = run(&e.db, &e.home, &["sync"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source is configured"));
    let (out, _) = run(&e.db, &e.home, &["sources", "test", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source named \"nope\""));
}

fn defender_setup(e: &Env, now: i64) -> (Server, Server, Value, i64) {
    let moto = servers::moto();
    let data_path = e.home.join("defender.json");
    let data = servers::dataset("defender", now, &data_path);
    let emu = servers::defender(&data_path, &moto);
    add_defender_source(e, &emu);
    (moto, emu, data, now)
}

/// Adds the emulator as Device Defender source `dd`.
fn add_defender_source(e: &Env, emu: &Server) {
    ok(
        &e.db,
        &e.home,
        &[
            "sources",
            "add",
            "defender",
            "--name",
            "dd",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &emu.url,
        ],
    );
}

fn sync_window(e: &Env, now: i64) -> (Output, Value) {
    run(&e.db, &e.home, &["sync", "--to", &now.to_string()])
}

#[test]
fn defender_sync_reads_every_page_and_is_incremental() {
    let e = env();
    let (_moto, emu, data, now) = defender_setup(&e, desk_engine::time::now() / 1000);
    let test = ok(&e.db, &e.home, &["sources", "test", "dd"]);
    assert_eq!(test["ok"], true, "{test}");
    let (out, summary) = sync_window(&e, now);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = data["violationEvents"].as_array().unwrap().len() as u64;
    assert_eq!(summary["violation_events"], events, "{summary}");
    let tasks = data["auditTasks"].as_array().unwrap();
    let findings: usize = tasks
        .iter()
        .map(|t| t["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(summary["audit_findings"], findings as u64);
    let profiles = ok(&e.db, &e.home, &["violations", "--active"]);
    assert_eq!(
        profiles.as_array().unwrap().len(),
        data["activeViolations"].as_array().unwrap().len()
    );
    let before = fingerprint(&e.db);

    // Paced within Device Defender's per-API quotas: no 1-second window holds more calls of an
    // operation than its documented TPS.
    let calls = Command::new("curl")
        .args(["-sf", &format!("{}/_emu/calls", emu.url)])
        .output()
        .unwrap();
    let calls: Value = serde_json::from_slice(&calls.stdout).unwrap();
    let quota = |op: &str| match op {
        "DescribeAuditTask" | "DescribeSecurityProfile" => 25,
        "ListMetricValues" => 15,
        _ => 10,
    };
    let mut by_op: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for c in calls.as_array().unwrap() {
        by_op
            .entry(c["op"].as_str().unwrap().to_string())
            .or_default()
            .push(c["t"].as_f64().unwrap());
    }
    assert!(by_op["ListViolationEvents"].len() > 10, "{by_op:?}");
    for (op, mut ts) in by_op {
        ts.sort_by(f64::total_cmp);
        for (i, t) in ts.iter().enumerate() {
            let in_window = ts[i..].iter().take_while(|u| **u < t + 1.0).count();
            assert!(
                in_window <= quota(&op),
                "{op}: {in_window} calls within one second"
            );
        }
    }

    // Incremental: finished audit tasks are not read again; violation events only from the
    // watermark (less an hour of overlap).
    let (out, again) = sync_window(&e, now);
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert_eq!(
        again["sources"][0]["unchanged"], 11,
        "11 finished tasks: {again}"
    );
    assert_eq!(fingerprint(&e.db), before, "a second sync changes nothing");

    // What a sync that brings nothing new costs (the watcher's, every five minutes): a sync
    // without a window resumes from the watermarks, and the emulator's call log says what it
    // asked for.
    let calls_so_far = || -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/_emu/calls", emu.url)])
            .output()
            .unwrap();
        let calls: Value = serde_json::from_slice(&out.stdout).unwrap();
        calls
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["op"].as_str().unwrap().to_string())
            .collect()
    };
    let seen = calls_so_far().len();
    let (out, resumed) = run(&e.db, &e.home, &["sync"]);
    assert_eq!(out.status.code(), Some(0), "{resumed}");
    let made = calls_so_far().split_off(seen);
    // Today: the profiles (list + one describe each), active violations, one day of violation
    // events, the mitigation task lists, the audit task list and the one task still running
    // (its describe and findings): 11 — never the 30 days of events or 90 of audits again.
    assert!(made.len() <= 12, "{} calls: {made:?}", made.len());
    let count = |op: &str| made.iter().filter(|m| *m == op).count();
    assert_eq!(count("ListViolationEvents"), 1, "{made:?}");
    assert!(
        count("DescribeAuditTask") <= 1,
        "finished tasks are not described again: {made:?}"
    );
    assert_eq!(fingerprint(&e.db), before, "{resumed}");

    // Drill-down: thing groups (moto through the emulator) and ListMetricValues.
    let (out, drill) = run(&e.db, &e.home, &["sync", "--thing", "cam-000"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "cam-000 is not a thing in moto yet: {drill}"
    );
    assert!(drill.to_string().contains("does not exist"), "{drill}");
}

/// Each fault either heals through retries (same cache as a fault-free run) or ends with a
/// clear per-source error and exit 3 — never a half-written cache.
#[test]
fn defender_faults_heal_or_fail_clearly_and_never_corrupt_the_cache() {
    let clean = env();
    let (_m0, _emu0, _data0, now) = defender_setup(&clean, desk_engine::time::now() / 1000);
    let (out, _) = sync_window(&clean, now);
    assert_eq!(out.status.code(), Some(0));
    let expected = fingerprint(&clean.db);

    let healing = [
        json!([{"op": "ListViolationEvents", "kind": "throttle", "count": 3}]),
        json!([{"op": "DescribeAuditTask", "kind": "error500", "count": 2}]),
        json!([{"op": "ListAuditFindings", "kind": "reset", "count": 2}]),
        json!([{"op": "ListSecurityProfiles", "kind": "truncate", "count": 1}]),
        json!([{"op": "ListActiveViolations", "kind": "slow", "delay": 2, "count": 1}]),
        json!([{"op": "*", "kind": "unavailable", "count": 2}]),
    ];
    std::thread::scope(|scope| {
        for faults in healing {
            let expected = &expected;
            scope.spawn(move || {
                let e = env();
                let (_m, emu, _d, _) = defender_setup(&e, now);
                control(&emu, "/_emu/faults", &faults);
                let (out, summary) = sync_window(&e, now);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{faults}: {summary} {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(
                    &fingerprint(&e.db),
                    expected,
                    "{faults}: cache differs from the fault-free run"
                );
            });
        }
    });

    // Expired credentials on the audit API: a clear per-source error, Detect data kept.
    let e = env();
    let (_m, emu, _d, _) = defender_setup(&e, now);
    control(
        &emu,
        "/_emu/faults",
        &json!([{"op": "ListAuditTasks", "kind": "expired", "count": 100}]),
    );
    let (out, summary) = sync_window(&e, now);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    let err = summary["errors"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("ExpiredToken") && err.contains("expired"),
        "{err}"
    );
    assert!(summary["violation_events"].as_u64().unwrap() > 0);
    let store = Store::open(&e.db).unwrap();
    let ok: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// kill -9 at 20 random points of a sync of S3 and the Device Defender API; each resumed sync
/// ends with the fault-free cache and an intact database.
#[test]
fn sync_killed_at_random_points_resumes_to_the_same_cache() {
    let moto = servers::moto();
    let end = hour_floor(desk_engine::time::now());
    fill_bucket(&moto, "dd-crash", end, 24);
    let now = end / 1000;
    let setup = |e: &Env| -> Server {
        let data_path = e.home.join("defender.json");
        servers::dataset("defender", now, &data_path);
        let emu = servers::defender(&data_path, &moto);
        ok(
            &e.db,
            &e.home,
            &[
                "sources",
                "add",
                "s3",
                "--name",
                "exports",
                "--bucket",
                "dd-crash",
                "--prefix",
                "exports/",
                "--endpoint-url",
                &moto.url,
                "--path-style",
            ],
        );
        ok(
            &e.db,
            &e.home,
            &[
                "sources",
                "add",
                "defender",
                "--name",
                "dd",
                "--endpoint-url",
                &emu.url,
            ],
        );
        emu
    };
    let args = [
        "sync",
        "--from",
        &((end - 24 * HOUR_MS) / 1000).to_string(),
        "--to",
        &now.to_string(),
        "--concurrency",
        "2",
    ];
    let clean = env();
    let _emu = setup(&clean);
    let started = std::time::Instant::now();
    let (out, _) = run(&clean.db, &clean.home, &args);
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "only the corrupt object fails");
    let expected = fingerprint(&clean.db);

    let e = env();
    let _emu = setup(&e);
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for i in 0..20 {
        let mut child = ddesk(&e.db, &e.home)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let at = Duration::from_millis(rng.u64(50..(full.as_millis() as u64).max(100)));
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let store = Store::open(&e.db).unwrap();
        let check: String = store
            .connection()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "after kill {i} at {at:?}");
    }
    let (out, summary) = run(&e.db, &e.home, &args);
    // 3 if no killed run got as far as recording the corrupt object, else 0.
    assert!(matches!(out.status.code(), Some(0 | 3)), "{summary}");
    assert_eq!(
        fingerprint(&e.db),
        expected,
        "resumed cache differs from the uninterrupted one"
    );
}

/// S3 through a faulty network (the emulator forwards S3 to moto and injects the faults):
/// resets, truncated bodies, 5xx and slow first bytes heal through retries, and the cache
/// equals a fault-free sync.
#[test]
fn s3_faults_heal_to_the_fault_free_cache() {
    let moto = servers::moto();
    let end = hour_floor(desk_engine::time::now());
    fill_bucket(&moto, "dd-faulty", end, 4);
    let data = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(data.path(), "{}").unwrap();
    let proxy = servers::defender(data.path(), &moto);
    let args = [
        "sync",
        "--from",
        &((end - 4 * HOUR_MS) / 1000).to_string(),
        "--to",
        &(end / 1000).to_string(),
    ];
    let add = |e: &Env, url: &str| {
        ok(
            &e.db,
            &e.home,
            &[
                "sources",
                "add",
                "s3",
                "--name",
                "exports",
                "--bucket",
                "dd-faulty",
                "--prefix",
                "exports/",
                "--endpoint-url",
                url,
                "--path-style",
            ],
        );
    };
    let clean = env();
    add(&clean, &moto.url);
    let (out, _) = run(&clean.db, &clean.home, &args);
    assert_eq!(out.status.code(), Some(3), "the corrupt object");
    let expected = fingerprint(&clean.db);

    let e = env();
    add(&e, &proxy.url);
    control(
        &proxy,
        "/_emu/faults",
        &json!([
            {"op": "S3", "kind": "reset", "count": 2},
            {"op": "S3", "kind": "truncate", "count": 2},
            {"op": "S3", "kind": "error500", "count": 2},
            {"op": "S3", "kind": "slow", "delay": 1, "count": 2},
        ]),
    );
    let (out, summary) = run(&e.db, &e.home, &args);
    assert_eq!(out.status.code(), Some(3), "{summary}");
    assert_eq!(
        summary["errors"].as_array().unwrap().len(),
        1,
        "only the corrupt object: {summary}"
    );
    assert_eq!(fingerprint(&e.db), expected);
}

/// An account without Detect (closed to new customers) syncs Audit and says so, exit 0.
#[test]
fn account_without_detect_still_syncs_audit() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let (_moto, emu, data, _) = defender_setup(&e, now);
    let mut data = data;
    data["detectDisabled"] = json!(true);
    control(&emu, "/_emu/data", &data);
    let (out, summary) = sync_window(&e, now);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!(summary["violation_events"], 0);
    assert!(summary["audit_findings"].as_u64().unwrap() > 0);
    assert!(
        summary["sources"][0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Detect is not available"),
        "{summary}"
    );
}

/// Ctrl-C (SIGINT) stops the sync cleanly: exit 130, a summary saying so, an intact cache.
#[test]
fn ctrl_c_cancels_cleanly() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let (_moto, emu, _, _) = defender_setup(&e, now);
    control(
        &emu,
        "/_emu/faults",
        &json!([{"op": "*", "kind": "slow", "delay": 1, "count": 1000}]),
    );
    let child = ddesk(&e.db, &e.home)
        .args(["sync", "--to", &now.to_string()])
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
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["cancelled"], true);
    let store = Store::open(&e.db).unwrap();
    let check: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

// Long because: one scenario over one cache, each step reading what the one before
// left (each step is a call of the helper `ddesk` and an assertion).
/// The AWS CLI corpus's dataset (`scripts/cli_corpus.py`), served by the emulator and read by
/// `ddesk sync` through aws-sdk-iot: the cache holds what the ingest of the CLI's files holds
/// (crates/engine/tests/it/cli_corpus.rs) — exact times, confidence, verification notes, behavior
/// datapoint counts, related resources and a failed check's error.
#[test]
fn defender_sync_keeps_the_evidence_the_cli_corpus_shows() {
    let e = env();
    let now = desk_engine::time::now() / 1000;
    let t0 = now - 3600;
    let moto = servers::moto();
    let data_path = e.home.join("corpus.json");
    let made = Command::new(servers::venv_bin("python"))
        .arg(servers::repo().join("scripts/cli_corpus.py"))
        .args(["--dataset-only"])
        .arg(&data_path)
        .args(["--t0", &t0.to_string()])
        .status()
        .unwrap();
    assert!(made.success());
    let emu = servers::defender(&data_path, &moto);
    add_defender_source(&e, &emu);
    // An analyst ran a Detect mitigation in the console: StartDetectMitigationActionsTask on the
    // REST API as the SDKs send it, then two looks (the emulator's tasks finish on the second).
    let task_url = format!(
        "{}/detect/mitigationactions/tasks/console-quarantine",
        emu.url
    );
    let started = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-X", "PUT", "-H", "content-type: application/json", "-d"])
        .arg(r#"{"target":{"violationIds":["v-bytes-cam-001"]},"actions":["quarantine-group"],"clientRequestToken":"tok"}"#)
        .arg(&task_url)
        .status()
        .unwrap();
    assert!(started.success());
    // And an audit mitigation on the shared-certificate finding (StartAuditMitigationActionsTask,
    // POST; its executions are listed per finding).
    let audit_url = format!(
        "{}/audit/mitigationactions/tasks/console-deactivate",
        emu.url
    );
    let started = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-X", "POST", "-H", "content-type: application/json", "-d"])
        .arg(r#"{"target":{"findingIds":["f-shared-cert"]},"auditCheckToActionsMapping":{"DEVICE_CERTIFICATE_SHARED_CHECK":["deactivate-cert"]},"clientRequestToken":"tok-a"}"#)
        .arg(&audit_url)
        .status()
        .unwrap();
    assert!(started.success());
    for _ in 0..2 {
        for url in [&task_url, &audit_url] {
            assert!(Command::new("curl")
                .args(["-sf", "-o", "/dev/null", url])
                .status()
                .unwrap()
                .success());
        }
    }
    // The task started after `now`: the window ends a minute later.
    let (out, summary) = sync_window(&e, now + 60);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = ok(&e.db, &e.home, &["mitigations", "--thing", "cam-001"]);
    // The audit mitigation reaches cam-001 through the finding's related client id.
    let audit: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["task_id"] == "console-deactivate")
        .collect();
    assert_eq!(audit.len(), 1, "{all}");
    assert_eq!(
        (
            &audit[0]["kind"],
            &audit[0]["finding_id"],
            &audit[0]["action"],
            &audit[0]["status"],
            &audit[0]["task_status"]
        ),
        (
            &json!("audit"),
            &json!("f-shared-cert"),
            &json!("deactivate-cert"),
            &json!("COMPLETED"),
            &json!("COMPLETED")
        ),
        "{all}"
    );
    let m = json!(all
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["task_id"] != "console-deactivate")
        .collect::<Vec<_>>());
    assert_eq!(
        m.as_array().unwrap().len(),
        1,
        "{m} {summary} {}",
        String::from_utf8_lossy(
            &Command::new("curl")
                .args(["-sf", &format!("{}/_emu/calls", emu.url)])
                .output()
                .unwrap()
                .stdout
        )
    );
    assert_eq!(m[0]["task_id"], "console-quarantine");
    assert_eq!(m[0]["status"], "SUCCESSFUL");
    assert_eq!(m[0]["task_status"], "SUCCESSFUL");
    assert_eq!(m[0]["violation_id"], "v-bytes-cam-001");
    assert_eq!(
        m[0]["logged_action"],
        Value::Null,
        "started outside this cache"
    );
    let t = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let ms0 = t0 * 1000;
    let cam1 = ok(&e.db, &e.home, &["violations", "--thing", "cam-001"]);
    assert_eq!(cam1[0]["started"], t(ms0 - 3_600_000 + 123), "{cam1}");
    assert_eq!(cam1[0]["ended"], t(ms0 - 1_800_500), "{cam1}");
    assert_eq!(
        cam1[0]["verification_description"],
        "exfiltration confirmed by the SOC"
    );
    let cam2 = ok(&e.db, &e.home, &["violations", "--thing", "cam-002"]);
    assert_eq!(cam2[0]["confidence"], "HIGH", "{cam2}");
    assert_eq!(cam2[0]["verification_state"], "BENIGN_POSITIVE");
    assert_eq!(cam2[0]["verification_description"], "nightly backup");
    let store = Store::open(&e.db).unwrap();
    let key = desk_engine::store::resolve_thing(&store, "cam-001").unwrap();
    let v = &store.violations(Some(&key), false).unwrap()[0];
    assert_eq!(
        v.behavior_json["consecutive_to_alarm"], 2,
        "{:?}",
        v.behavior_json
    );
    assert_eq!(v.behavior_json["consecutive_to_clear"], 3);
    assert_eq!(v.behavior_json["export_metric"], true);
    let f = ok(&e.db, &e.home, &["findings", "--resource", "cam-002"]);
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f[0]["finding_id"], "f-shared-cert");
    assert_eq!(f[0]["found"], t(ms0 - 7_100_750));
    assert_eq!(
        f[0]["reason_code"],
        "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    );
    assert_eq!(f[0]["related_resources"][0]["id"], "cam-001");
    assert_eq!(
        f[0]["related_resources"][0]["additional_info"]["CONNECTION_TIME"],
        ((t0 - 7300) * 1000).to_string()
    );
    // Drill-down: ListMetricValues for each behavior's (metric, dimension). Only the
    // dimensioned TelemetryMsgs behavior watches aws:num-messages-sent, so only its values
    // (50, 60 — the plain series holds 5, 6 in the emulator) may arrive, in their own series.
    let created = Command::new(servers::venv_bin("python"))
        .args([
            "-c",
            &format!(
                "import boto3; boto3.client('iot', endpoint_url='{}', region_name='us-east-1', \
                 aws_access_key_id='testing', aws_secret_access_key='testing').create_thing(thingName='cam-001')",
                moto.url
            ),
        ])
        .status()
        .unwrap();
    assert!(created.success(), "CreateThing in moto (boto3)");
    let (out, drill) = run(&e.db, &e.home, &["sync", "--thing", "cam-001"]);
    assert_eq!(out.status.code(), Some(0), "{drill}");
    let series = |dim: &str| -> Vec<i64> {
        ok(
            &e.db,
            &e.home,
            &[
                "series",
                "--thing",
                "cam-001",
                "--metric",
                "aws:num-messages-sent",
                "--dimension",
                dim,
            ],
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .collect()
    };
    assert_eq!(series("TelemetryTopics:IN"), vec![50, 60]);
    assert!(series("").is_empty(), "nothing lands in the plain series");
    let a = ok(
        &e.db,
        &e.home,
        &[
            "audits",
            "--check",
            "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        ],
    );
    assert_eq!(a[0]["status"], "FAILED", "{a}");
    assert_eq!(a[0]["error_code"], "INSUFFICIENT_PERMISSIONS");
    assert_eq!(
        a[0]["message"],
        "The audit role cannot read Cognito identity pools."
    );
}

/// Lifecycle events and device reports as an IoT rule writes them (`SELECT *, topic() AS topic`)
/// for an account without Detect.
fn no_detect_records(now_ms: i64) -> Vec<Value> {
    let report = |thing: &str, at: i64, ports: &[i64]| {
        let mut r: Value = serde_json::from_slice(
            &std::fs::read(servers::repo().join("tests/fixtures/real/agent-sdk-report-long.json"))
                .unwrap(),
        )
        .unwrap();
        r["header"]["report_id"] = json!(at / 1000);
        r["metrics"]["listening_tcp_ports"]["ports"] = json!(ports
            .iter()
            .map(|p| json!({"interface": "eth0", "port": p}))
            .collect::<Vec<_>>());
        r["metrics"]["listening_tcp_ports"]["total"] = json!(ports.len());
        r["topic"] = json!(format!("$aws/things/{thing}/defender/metrics/json"));
        r
    };
    let mut out = Vec::new();
    for c in 1..=6 {
        let thing = format!("cam-{c:02}");
        out.push(report(&thing, now_ms - 3_000_000, &[443]));
        out.push(json!({"clientId": thing, "timestamp": now_ms - 3_000_000, "eventType": "connected",
            "sessionIdentifier": format!("s{c}"), "principalIdentifier": format!("{c:032x}"),
            "ipAddress": "192.0.2.1", "versionNumber": 0, "topic": format!("$aws/events/presence/connected/{thing}")}));
    }
    for k in 0..14 {
        let at = now_ms - 2_400_000 + k * 60_000;
        out.push(
            json!({"clientId": "cam-04", "timestamp": at, "eventType": "disconnected",
            "sessionIdentifier": format!("d{k}"), "principalIdentifier": format!("{:032x}", 4),
            "clientInitiatedDisconnect": false, "disconnectReason": "DUPLICATE_CLIENTID",
            "versionNumber": 0}),
        );
    }
    out.push(report("cam-04", now_ms - 1_200_000, &[23, 443]));
    out
}

/// An account that never had Detect: device reports and lifecycle events delivered by IoT
/// rules to S3 (Firehose layout, records run together, gzip) and to a Splunk index are synced
/// as first-class data — thing from the topic or client id, time from the report id or the
/// event — and triage finds the cloned camera with its own reasons.
#[test]
fn an_account_without_detect_syncs_device_reports_and_lifecycle_events() {
    let now_ms = desk_engine::time::now();
    let records = no_detect_records(now_ms);
    let (first, second) = records.split_at(records.len() / 2);
    let moto = servers::moto();
    // S3: the first half, one gzip object of records run together.
    let e = env();
    curl_put(&format!("{}/dd-raw", moto.url), None);
    let body: String = first.iter().map(Value::to_string).collect();
    curl_put(
        &format!(
            "{}/dd-raw/iot/{}raw-1.gz",
            moto.url,
            partition(now_ms - HOUR_MS)
        ),
        Some(&gz(body.as_bytes())),
    );
    ok(
        &e.db,
        &e.home,
        &[
            "sources",
            "add",
            "s3",
            "--name",
            "raw",
            "--bucket",
            "dd-raw",
            "--prefix",
            "iot/",
            "--endpoint-url",
            &moto.url,
            "--path-style",
        ],
    );
    // Splunk: the second half, indexed as the rule's HEC action would.
    let data = e.root.join("splunk-raw.json");
    let events: Vec<Value> = second
        .iter()
        .map(|r| json!({"index": "iot", "sourcetype": "aws-iot-device-defender", "_time": (now_ms / 1000) as f64 - 60.0, "event": r}))
        .collect();
    std::fs::write(&data, serde_json::to_vec(&events).unwrap()).unwrap();
    let splunk = servers::splunk(&data, "raw-token");
    let mut add = ddesk(&e.db, &e.home);
    add.args([
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
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"raw-token\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let (out, summary) = run(
        &e.db,
        &e.home,
        &[
            "sync",
            "--from",
            "-3h",
            "--to",
            &((now_ms / 1000) + 60).to_string(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let things = ok(&e.db, &e.home, &["things"]);
    assert_eq!(things.as_array().unwrap().len(), 6, "{things}");
    let burst = ok(
        &e.db,
        &e.home,
        &[
            "series",
            "--thing",
            "cam-04",
            "--metric",
            "lifecycle:disconnects:DUPLICATE_CLIENTID",
        ],
    );
    assert_eq!(burst.as_array().unwrap().len(), 14, "{burst}");
    let triage = ok(&e.db, &e.home, &["triage", "--window", "1d"]);
    assert_eq!(triage[0]["thing"], "cam-04", "{triage}");
    let reasons = triage[0]["reasons"].to_string();
    assert!(
        reasons.contains("DUPLICATE_CLIENTID disconnects in 1 h"),
        "{reasons}"
    );
    assert!(reasons.contains("TCP 23"), "{reasons}");
}

/// Triage's peers come from the registry: sync reads every thing's thing type and thing groups
/// (ListThings, ListThingGroups, ListThingsInThingGroup — moto behind the emulator, the registry
/// made with boto3), a thing with no group of four or more is compared with the things of its
/// type, and the registry is read again only after six hours.
#[test]
fn defender_sync_reads_thing_types_and_groups_for_peers() {
    let e = env();
    let (moto, emu, _data, now) = defender_setup(&e, desk_engine::time::now() / 1000);
    let script = format!(
        "import boto3\n\
         iot = boto3.client('iot', endpoint_url='{}', region_name='us-east-1', \
           aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         iot.create_thing_type(thingTypeName='camera')\n\
         for t in ['alpha', 'bravo', 'charlie', 'delta', 'echo']:\n\
         \x20   iot.create_thing(thingName=t, thingTypeName='camera')\n\
         iot.create_thing_group(thingGroupName='floor')\n\
         for t in ['hotel', 'india', 'juliet', 'kilo']:\n\
         \x20   iot.create_thing(thingName=t)\n\
         \x20   iot.add_thing_to_thing_group(thingGroupName='floor', thingName=t)\n",
        moto.url
    );
    let made = Command::new(servers::venv_bin("python"))
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(made.success(), "the registry in moto (boto3)");
    let (out, summary) = sync_window(&e, now);
    assert_eq!(out.status.code(), Some(0), "{summary}");

    // An hour of bytes out every 5 minutes; echo and kilo send 100x for the last 15 minutes.
    let mut doc = String::new();
    for (thing, usual) in [
        ("alpha", 1000),
        ("bravo", 1100),
        ("charlie", 900),
        ("delta", 1000),
        ("echo", 1000),
        ("hotel", 500),
        ("india", 520),
        ("juliet", 480),
        ("kilo", 500),
    ] {
        for k in 0..12 {
            let ts = now - 3600 + k * 300;
            let v = if ["echo", "kilo"].contains(&thing) && k >= 9 {
                usual * 100
            } else {
                usual
            };
            doc.push_str(&format!(
                r#"{{"version":"1.0","metrics":[{{"name":"aws:all-bytes-out","thing":"{thing}","value":{{"count":{v}}},"version":1,"timestamp":{ts}}}]}}"#
            ));
            doc.push('\n');
        }
    }
    let file = e.home.join("bytes.json");
    std::fs::write(&file, doc).unwrap();
    ok(&e.db, &e.home, &["ingest", file.to_str().unwrap()]);
    let triage = ok(&e.db, &e.home, &["triage", "--limit", "2"]);
    let reason = |thing: &str| -> String {
        triage
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["thing"] == thing)
            .unwrap_or_else(|| panic!("{thing} not ranked: {triage}"))["reasons"][0]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let echo = reason("echo");
    assert!(
        echo.contains("of its 4 peers (thing type camera)"),
        "{echo}"
    );
    let kilo = reason("kilo");
    assert!(
        kilo.contains("of its 3 peers (thing group floor)"),
        "{kilo}"
    );

    let calls = || -> usize {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/_emu/calls", emu.url)])
            .output()
            .unwrap();
        let calls: Value = serde_json::from_slice(&out.stdout).unwrap();
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["op"] == "ListThings")
            .count()
    };
    assert_eq!(calls(), 1);
    let (out, again) = sync_window(&e, now + 3600);
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert_eq!(calls(), 1, "an hour later the registry is not read again");
    let (out, later) = sync_window(&e, now + 7 * 3600);
    assert_eq!(out.status.code(), Some(0), "{later}");
    assert_eq!(calls(), 2, "seven hours later it is");
}

/// `ddesk watch` against moto S3: each source syncs on its schedule; an alarm that lands in the
/// bucket between two rounds is told in the next round's lines; a source that fails backs off
/// (twice the interval, then four times) and says so, while the healthy one keeps its pace.
#[test]
fn watch_tells_new_alarms_within_one_interval_and_backs_off_a_failing_source() {
    use std::io::{BufRead, BufReader};
    let moto = servers::moto();
    let e = env();
    curl_put(&format!("{}/dd-watch", moto.url), None);
    for (name, bucket) in [("live", "dd-watch"), ("gone", "dd-never-created")] {
        ok(
            &e.db,
            &e.home,
            &[
                "sources",
                "add",
                "s3",
                "--name",
                name,
                "--bucket",
                bucket,
                "--prefix",
                "dd/",
                "--endpoint-url",
                &moto.url,
                "--path-style",
            ],
        );
    }
    let mut child = ddesk(&e.db, &e.home)
        .args(["watch", "--interval", "2s", "--rounds", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap());
    let mut round1 = Vec::new();
    for v in lines.by_ref() {
        let done = v["kind"] == "round";
        round1.push(v);
        if done {
            break;
        }
    }
    let failed: Vec<&Value> = round1
        .iter()
        .filter(|v| v["kind"] == "sync_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{round1:?}");
    assert_eq!(
        (
            failed[0]["source"].as_str(),
            failed[0]["failures"].as_u64(),
            failed[0]["retry_in_ms"].as_u64()
        ),
        (Some("gone"), Some(1), Some(4000)),
        "{round1:?}"
    );
    assert!(round1.last().unwrap()["next_sync"]["live"].is_string());
    // An alarm arrives (a Detect violation event in the Firehose layout).
    let now = desk_engine::time::now();
    let event = json!({"violationEventTime": now - 60_000, "thingName": "cam-watch-1",
        "securityProfileName": "Baseline", "violationId": "watch-v1", "violationEventType": "in-alarm",
        "behavior": {"name": "BytesOut", "metric": "aws:all-bytes-out",
            "criteria": {"comparisonOperator": "greater-than", "value": {"count": 1000}, "durationSeconds": 300}},
        "metricValue": {"count": 900_000}});
    curl_put(
        &format!("{}/dd-watch/dd/{}alarm-1.gz", moto.url, partition(now)),
        Some(&gz(event.to_string().as_bytes())),
    );
    let rest: Vec<Value> = lines.collect();
    assert!(child.wait().unwrap().success());
    let alarm = rest
        .iter()
        .find(|v| v["kind"] == "alarm_started")
        .unwrap_or_else(|| panic!("no alarm told: {rest:?}"));
    assert_eq!(
        (alarm["thing"].as_str(), alarm["id"].as_str()),
        (Some("cam-watch-1"), Some("watch-v1"))
    );
    // Round 2 (2 s) synced only the healthy source; round 3 (4 s) the failing one again, now
    // waiting four intervals.
    let failed: Vec<(u64, u64)> = rest
        .iter()
        .filter(|v| v["kind"] == "sync_failed")
        .map(|v| {
            (
                v["failures"].as_u64().unwrap(),
                v["retry_in_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(failed, [(2, 8000)], "{rest:?}");
    assert_eq!(rest.iter().filter(|v| v["kind"] == "round").count(), 2);
}

/// `ddesk watch` against the Device Defender emulator: a violation that starts in the account
/// between two rounds is told in the next round's lines, once.
#[test]
fn watch_tells_a_new_detect_violation_from_the_api_within_one_interval() {
    use std::io::{BufRead, BufReader};
    let e = env();
    let (_moto, emu, mut data, now) = defender_setup(&e, desk_engine::time::now() / 1000);
    let mut child = ddesk(&e.db, &e.home)
        .args(["watch", "--interval", "2s", "--rounds", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap());
    let mut round1 = Vec::new();
    for v in lines.by_ref() {
        let done = v["kind"] == "round";
        round1.push(v);
        if done {
            break;
        }
    }
    assert!(
        round1.iter().all(|v| v["thing"] != "cam-watch-9"),
        "{round1:?}"
    );
    // A camera goes into alarm in the account: its event and its active violation.
    let behavior = data["violationEvents"][0]["behavior"].clone();
    let t = (now - 120) as f64;
    data["violationEvents"].as_array_mut().unwrap().push(json!({
        "violationId": "watch-api-v1", "thingName": "cam-watch-9", "securityProfileName": "Baseline",
        "behavior": behavior, "metricValue": {"count": 9_999_999},
        "violationEventType": "in-alarm", "violationEventTime": t}));
    data["activeViolations"].as_array_mut().unwrap().push(json!({
        "violationId": "watch-api-v1", "thingName": "cam-watch-9", "securityProfileName": "Baseline",
        "behavior": behavior, "lastViolationValue": {"count": 9_999_999}, "lastViolationTime": t,
        "violationStartTime": t, "verificationState": "UNKNOWN"}));
    control(&emu, "/_emu/data", &data);
    let rest: Vec<Value> = lines.collect();
    assert!(child.wait().unwrap().success());
    let told: Vec<&Value> = rest
        .iter()
        .filter(|v| v["kind"] == "alarm_started" && v["thing"] == "cam-watch-9")
        .collect();
    assert_eq!(told.len(), 1, "told once: {rest:?}");
    assert_eq!(told[0]["id"], "watch-api-v1");
}

/// #28 through sync: an S3 bucket of the Detect-free rule holding aws-c-iot reports (their
/// report ids count milliseconds since boot, `scripts/c_sdk_corpus.py`) and a forged export
/// batch on a device's topic. Sync dates the reports by the object's arrival (S3
/// `LastModified`) and says so in the source's warnings; a bucket declared `--carries
/// device-reports` refuses a metrics-export batch by name; the forged record names nothing.
#[test]
fn a_detect_free_bucket_is_read_by_arrival_and_carries_only_device_reports() {
    let moto = servers::moto();
    let e = env();
    let bucket = "dd-detect-free";
    curl_put(&format!("{}/{bucket}", moto.url), None);
    let now = desk_engine::time::now();
    let corpus = servers::repo().join(
        "tests/fixtures/real/c-sdk/2026/12/05/07/dd-detect-free-1-2026-12-05-07-00-07-6f1c2a9e-3b1d-4c2e-9a51-2f0e8d7c6b5a",
    );
    let mut body = std::fs::read(corpus).unwrap();
    // A cloud-side export batch in a bucket declared Detect-free, and a forgery on a device's
    // topic that names another thing.
    body.extend_from_slice(
        json!({"version": "1.0", "metrics": [{"name": "aws:all-bytes-out", "thing": "gw-core-1",
            "value": {"count": 1}, "version": 1, "timestamp": now - 60_000}]})
        .to_string()
        .as_bytes(),
    );
    body.extend_from_slice(
        json!({"version": "1.0", "topic": "$aws/things/gateway-c-01/defender/metrics/json",
            "metrics": [{"name": "aws:num-messages-sent", "thing": "gw-core-1", "value": {"count": 3},
            "version": 9_000_000_000i64, "timestamp": now - 60_000}]})
        .to_string()
        .as_bytes(),
    );
    let key = format!("detect-free/{}dd-detect-free-1-object", partition(now));
    curl_put(&format!("{}/{bucket}/{key}", moto.url), Some(&gz(&body)));
    let uploaded = desk_engine::time::now();
    ok(
        &e.db,
        &e.home,
        &[
            "sources",
            "add",
            "s3",
            "--name",
            "df",
            "--bucket",
            bucket,
            "--prefix",
            "detect-free/",
            "--carries",
            "device-reports",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &moto.url,
            "--path-style",
        ],
    );
    let list = ok(&e.db, &e.home, &["sources", "list"]);
    assert_eq!(
        list[0]["settings"]["carries"],
        json!(["device-reports"]),
        "{list}"
    );
    let (out, summary) = run(&e.db, &e.home, &["sync", "--from", "-2h"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "two refused records make it partial: {summary}"
    );
    let errors = summary["errors"].to_string();
    assert!(errors.contains("2 record(s) refused"), "{summary}");
    let warnings = summary["sources"][0]["warnings"].to_string();
    assert!(warnings.contains("reads as 2022-01-08"), "{summary}");
    assert!(warnings.contains("S3 LastModified"), "{summary}");
    let things: Vec<String> = ok(&e.db, &e.home, &["things"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["thing"]
                .as_str()
                .or(t["name"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        things,
        ["gateway-c-01", "gateway-c-02"],
        "nothing of gw-core-1"
    );
    let series = ok(
        &e.db,
        &e.home,
        &[
            "series",
            "--thing",
            "gateway-c-01",
            "--metric",
            "aws:all-bytes-out",
        ],
    );
    let t = series[0]["t"].as_str().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(t)
        .unwrap()
        .timestamp_millis();
    assert!(
        (now - 5_000..=uploaded + 5_000).contains(&t),
        "dated by LastModified, not 2022 nor the name's 2026-12-05: {series}"
    );
}
