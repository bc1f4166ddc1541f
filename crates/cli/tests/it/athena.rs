//! `ddesk` with an Athena source: moto holds the export (one record per line, as a delivery
//! stream with AppendDelimiterToRecord writes it), the Athena emulator runs the SQL with DuckDB
//! (`tests/emulators/athena_emulator.py`). A fleet of 300 things with three scripted
//! compromises is screened where it lies; the cache keeps only candidates; a drill-down brings
//! one thing's series exactly; the scan limit refuses; a failed query says why.

use crate::support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::servers::{self, control, env, venv_bin, Env, Server};

const HOUR: i64 = 3_600_000;
const STEP: i64 = 300_000;
const HOURS: i64 = 8;

struct Lake {
    _moto: Server,
    emu: Server,
    moto_url: String,
    /// (hour start, object bytes)
    objects: Vec<(i64, usize)>,
    end: i64,
}

fn bytes_out(thing: &str, ts: i64, end: i64) -> i64 {
    let seed = thing
        .bytes()
        .fold(ts as u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let noise =
        0.8 + (seed.wrapping_mul(6364136223846793005) >> 40) as f64 / (1u64 << 24) as f64 * 0.4;
    let base = if thing.starts_with("cam") {
        2_000_000.0
    } else {
        40_000.0
    };
    let boost = if thing == "cam-0042" && ts >= end - 2 * HOUR {
        100.0
    } else {
        1.0
    };
    (base * noise * boost) as i64
}

fn things() -> Vec<String> {
    let mut t = Vec::new();
    for family in ["cam", "gw", "sensor"] {
        for i in 1..=100 {
            t.push(format!("{family}-{i:04}"));
        }
    }
    t
}

/// The export of `HOURS` hours ending at `end`: every thing every 5 minutes, bytes out, its
/// listening ports and destinations.
fn lake() -> Lake {
    let moto = servers::moto();
    let end = crate::sync::hour_floor(desk_engine::time::now()) - HOUR;
    let s3 = |args: &[&str]| {
        let out = Command::new(venv_bin("python"))
            .args(["-c", "import boto3,sys; c=boto3.client('s3',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t'); getattr(c,sys.argv[2])(**dict(a.split('=',1) for a in sys.argv[3:]))"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    s3(&[&moto.url, "create_bucket", "Bucket=dd-lake"]);
    let things = things();
    let mut objects = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for h in 0..HOURS {
        let hour = end - (HOURS - h) * HOUR;
        let mut body = Vec::new();
        for step in 0..12 {
            let ts = hour + step * STEP;
            let mut metrics = Vec::new();
            for t in &things {
                metrics.push(json!({"name": "aws:all-bytes-out", "thing": t, "value": {"count": bytes_out(t, ts, end)}, "version": 1, "timestamp": ts}));
                let mut ports = if t.starts_with("gw") {
                    vec![443, 8883]
                } else {
                    vec![8080]
                };
                if t == "gw-0007" && ts >= end - 3 * HOUR {
                    ports.push(23);
                }
                metrics.push(json!({"name": "aws:listening-tcp-ports", "thing": t, "value": {"ports": ports}, "version": 1, "timestamp": ts}));
                let mut dests = vec!["10.0.0.1/32".to_string()];
                if t == "sensor-0100" && ts >= end - 2 * HOUR {
                    dests.extend((0..40).map(|i| format!("198.51.100.{i}/32")));
                }
                metrics.push(json!({"name": "aws:destination-ip-addresses", "thing": t, "value": {"cidrs": dests}, "version": 1, "timestamp": ts}));
            }
            serde_json::to_writer(&mut body, &json!({"version": "1.0", "metrics": metrics}))
                .unwrap();
            body.push(b'\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        let gz = gz.finish().unwrap();
        let path = dir.path().join(format!("{h}.gz"));
        std::fs::write(&path, &gz).unwrap();
        let key = format!(
            "exports/{}/dd-1-{h}.gz",
            desk_engine::sources::athena::sql::datehour(hour)
        );
        let out = Command::new(venv_bin("python"))
            .args(["-c", "import boto3,sys; c=boto3.client('s3',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t'); c.put_object(Bucket='dd-lake',Key=sys.argv[2],Body=open(sys.argv[3],'rb').read())"])
            .args([&moto.url, &key])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
        objects.push((hour, gz.len()));
    }
    let emu = servers::python_server("athena_emulator.py", &["--s3", &moto.url]);
    Lake {
        moto_url: moto.url.clone(),
        _moto: moto,
        emu,
        objects,
        end,
    }
}

/// What the emulator's control endpoint `path` says (its queries, its executions).
fn emulator(lake: &Lake, path: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sf", &format!("{}{path}", lake.emu.url)])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a statement in the emulator as an analyst would in the console (boto3).
fn athena(lake: &Lake, sql: &str) {
    let mut child = Command::new(venv_bin("python"));
    child.args(["-c", "import boto3,sys,time; c=boto3.client('athena',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t'); q=c.start_query_execution(QueryString=sys.stdin.read())['QueryExecutionId']\nwhile True:\n  s=c.get_query_execution(QueryExecutionId=q)['QueryExecution']['Status']\n  if s['State'] in ('SUCCEEDED','FAILED','CANCELLED'): break\n  time.sleep(0.05)\nassert s['State']=='SUCCEEDED', s"])
        .arg(&lake.emu.url);
    let (out, _) = support::run_with_stdin(&mut child, sql);
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cmd(e: &Env, lake: &Lake) -> Command {
    let mut c = support::command(&e.db, Some(&e.home));
    c.env("AWS_ENDPOINT_URL_S3", &lake.moto_url);
    c
}

fn add(e: &Env, lake: &Lake, name: &str, extra: &[&str]) {
    support::ok(
        cmd(e, lake)
            .args([
                "sources",
                "add",
                "athena",
                "--name",
                name,
                "--output",
                "s3://dd-lake/athena-results/",
                "--endpoint-url",
                &lake.emu.url,
            ])
            .args(extra),
    );
}

fn window(lake: &Lake) -> [String; 4] {
    [
        "--from".into(),
        ((lake.end - HOURS * HOUR) / 1000).to_string(),
        "--to".into(),
        (lake.end / 1000).to_string(),
    ]
}

fn setup() -> (Env, Lake) {
    let lake = lake();
    let e = env();
    let ddl = support::ok_text(cmd(&e, &lake).args([
        "athena", "ddl", "--bucket", "dd-lake", "--prefix", "exports/",
    ]));
    athena(&lake, "CREATE DATABASE IF NOT EXISTS defender");
    athena(&lake, &ddl);
    (e, lake)
}

#[test]
fn a_fleet_is_screened_where_it_lies_and_its_worst_things_ranked_with_the_cost() {
    let (e, lake) = setup();
    add(&e, &lake, "lake", &[]);
    let health = support::ok(cmd(&e, &lake).args(["sources", "test", "lake"]));
    assert_eq!(health["status"], "ok", "{health}");

    let (out, summary) = support::run(cmd(&e, &lake).arg("sync").args(window(&lake)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = &summary["sources"][0];
    assert_eq!(s["things_screened"], 300, "{s}");
    assert_eq!(s["queries"], 3);
    // Every query reads the window's partitions, an hour either side: all eight objects.
    let all: usize = lake.objects.iter().map(|(_, n)| n).sum();
    assert_eq!(s["bytes_scanned"], 3 * all as u64, "{s}");
    // Three queries, each billed at least 10 MB at $5 per TB.
    let cost = s["cost_usd"].as_f64().unwrap();
    assert!((cost - 3.0 * 1e7 / 1e12 * 5.0).abs() < 1e-9, "{s}");
    assert_eq!(
        s["datapoints"], 0,
        "the cache keeps candidates, not the fleet"
    );
    // A second screen of the same window replaces the first with the same evidence.
    let once = servers::fingerprint(&e.db);
    let (out, again) = support::run(cmd(&e, &lake).arg("sync").args(window(&lake)));
    assert_eq!(out.status.code(), Some(0), "{again}");
    assert_eq!(
        servers::fingerprint(&e.db),
        once,
        "a second screen changed the evidence"
    );

    let ranked = support::json_out(&e.db, &["triage"]);
    let top: Vec<&str> = ranked.as_array().unwrap()[..3]
        .iter()
        .map(|r| r["thing"].as_str().unwrap())
        .collect();
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(sorted, ["cam-0042", "gw-0007", "sensor-0100"], "{ranked:#}");
    let text = |thing: &str| -> String {
        ranked
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["thing"] == thing)
            .unwrap()["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        text("cam-0042").contains("bytes out"),
        "{}",
        text("cam-0042")
    );
    assert!(text("cam-0042").contains("the median of its name family (100 things)"));
    assert!(
        text("gw-0007").contains("TCP 23 appeared"),
        "{}",
        text("gw-0007")
    );
    assert!(text("sensor-0100").contains("destination 198.51.100."));
    assert!(text("cam-0042").contains("in an Athena screen of 300 things (source lake)"));

    // Every query the engine sent parses as Trino.
    let queries: Value = emulator(&lake, "/_emu/queries");
    let mut check = Command::new(venv_bin("python"));
    check.args(["-c", "import json,sys,sqlglot\nfor q in json.load(sys.stdin):\n  if q.lstrip().upper().startswith(('SELECT','WITH')): sqlglot.parse_one(q, read='trino')"]);
    let (out, _) = support::run_with_stdin(&mut check, &queries.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The drill-down: one thing's full-resolution series, exactly as generated.
    let (out, v) =
        support::run(cmd(&e, &lake).args(["sync", "--thing", "cam-0042", "--source", "lake"]));
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let series = support::json_out(
        &e.db,
        &[
            "series",
            "--thing",
            "cam-0042",
            "--metric",
            "aws:all-bytes-out",
            "--from",
            &((lake.end - HOURS * HOUR) / 1000).to_string(),
            "--to",
            &(lake.end / 1000).to_string(),
        ],
    );
    let got: Vec<(String, i64)> = series
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["t"].as_str().unwrap().to_string(),
                p["value"].as_f64().unwrap() as i64,
            )
        })
        .collect();
    let want: Vec<(String, i64)> = (0..HOURS * 12)
        .map(|i| lake.end - HOURS * HOUR + i * STEP)
        .map(|ts| {
            (
                desk_engine::time::to_rfc3339(ts),
                bytes_out("cam-0042", ts, lake.end),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_scan_limit_refuses_and_a_failed_query_says_why() {
    let (e, lake) = setup();
    add(&e, &lake, "tight", &["--max-scan-gb", "0.00001"]);
    let (out, v) = support::run(cmd(&e, &lake).arg("sync").args(window(&lake)));
    assert_eq!(out.status.code(), Some(3), "{v}");
    let err = v["errors"].to_string();
    assert!(err.contains("refused") && err.contains("GB"), "{v}");
    let queries: Value = emulator(&lake, "/_emu/queries");
    assert!(
        !queries
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q.as_str().unwrap().contains("UNNEST")),
        "a refused screen runs no query: {queries}"
    );

    support::ok(cmd(&e, &lake).args(["sources", "remove", "tight"]));
    add(&e, &lake, "lake", &[]);
    control(
        &lake.emu,
        "/_emu/faults",
        &json!([{"kind": "fail", "count": 1}]),
    );
    let (out, v) = support::run(cmd(&e, &lake).arg("sync").args(window(&lake)));
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert!(v["errors"].to_string().contains("injected failure"), "{v}");
    assert_eq!(
        support::json_out(&e.db, &["triage"]),
        json!([]),
        "a failed screen keeps nothing"
    );
}

#[test]
fn ctrl_c_stops_the_running_query_and_keeps_nothing() {
    let (e, lake) = setup();
    add(&e, &lake, "lake", &[]);
    control(
        &lake.emu,
        "/_emu/faults",
        &json!([{"kind": "slow", "delay": 30}]),
    );
    let child = cmd(&e, &lake)
        .arg("sync")
        .args(window(&lake))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["cancelled"], true, "{summary}");
    let runs: Value = emulator(&lake, "/_emu/executions");
    let screens: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["query"].as_str().unwrap().contains("UNNEST"))
        .collect();
    assert_eq!(screens.len(), 1, "{runs}");
    assert_eq!(
        screens[0]["state"], "CANCELLED",
        "StopQueryExecution was sent: {runs}"
    );
    assert_eq!(
        support::json_out(&e.db, &["triage"]),
        json!([]),
        "a cancelled screen keeps nothing"
    );
}
