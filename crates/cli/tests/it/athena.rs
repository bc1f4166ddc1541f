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
    hours: i64,
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

/// The scripted compromises: gw-0007 opens telnet for the last 3 hours, sensor-0100 talks to 40
/// new destinations for the last 2 (cam-0042's bytes out are in [`bytes_out`]).
fn ports(thing: &str, ts: i64, end: i64) -> Vec<i64> {
    let mut ports = if thing.starts_with("gw") {
        vec![443, 8883]
    } else {
        vec![8080]
    };
    if thing == "gw-0007" && ts >= end - 3 * HOUR {
        ports.push(23);
    }
    ports
}

fn destinations(thing: &str, ts: i64, end: i64) -> Vec<String> {
    let mut dests = vec!["10.0.0.1".to_string()];
    if thing == "sensor-0100" && ts >= end - 2 * HOUR {
        dests.extend((0..40).map(|i| format!("198.51.100.{i}")));
    }
    dests
}

/// `hours` hours ending at `end` in moto S3 under `prefix`, one gzip object per hour holding
/// the lines `line(hour)` gives (one record per line, as a delivery stream with
/// AppendDelimiterToRecord writes them); the Athena emulator over it.
fn lake_of(prefix: &str, hours: i64, mut lines: impl FnMut(i64, i64) -> Vec<Value>) -> Lake {
    let moto = servers::moto();
    let end = crate::sync::hour_floor(desk_engine::time::now()) - HOUR;
    let out = Command::new(venv_bin("python"))
        .args(["-c", "import boto3,sys; boto3.client('s3',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='t',aws_secret_access_key='t').create_bucket(Bucket='dd-lake')"])
        .arg(&moto.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut objects = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for h in 0..hours {
        let hour = end - (hours - h) * HOUR;
        let mut body = Vec::new();
        for line in lines(hour, end) {
            serde_json::to_writer(&mut body, &line).unwrap();
            body.push(b'\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        let gz = gz.finish().unwrap();
        let path = dir.path().join(format!("{h}.gz"));
        std::fs::write(&path, &gz).unwrap();
        let key = format!(
            "{prefix}{}/dd-1-{h}.gz",
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
        hours,
    }
}

/// The export of `HOURS` hours: every thing every 5 minutes, bytes out, its listening ports
/// and destinations, one metrics-export batch per 5 minutes.
fn lake() -> Lake {
    let things = things();
    lake_of("exports/", HOURS, |hour, end| {
        (0..12)
            .map(|step| {
                let ts = hour + step * STEP;
                let mut metrics = Vec::new();
                for t in &things {
                    metrics.push(json!({"name": "aws:all-bytes-out", "thing": t, "value": {"count": bytes_out(t, ts, end)}, "version": 1, "timestamp": ts}));
                    metrics.push(json!({"name": "aws:listening-tcp-ports", "thing": t, "value": {"ports": ports(t, ts, end)}, "version": 1, "timestamp": ts}));
                    let cidrs: Vec<String> = destinations(t, ts, end).iter().map(|d| format!("{d}/32")).collect();
                    metrics.push(json!({"name": "aws:destination-ip-addresses", "thing": t, "value": {"cidrs": cidrs}, "version": 1, "timestamp": ts}));
                }
                json!({"version": "1.0", "metrics": metrics})
            })
            .collect()
    })
}

/// Hours of device reports for a Detect-free account: every thing every 5 minutes publishes a
/// report shaped as the Agent SDK builds it (its real output, tests/fixtures/real/, is the
/// template), its `report_id` epoch seconds as that SDK sends them, with the topic the rule
/// adds. Two things do what real fleets do: cam-0020 runs an aws-c-iot agent whose `report_id`
/// counts milliseconds since boot, and sensor-0003 once an hour sends values no column can hold.
const REPORT_HOURS: i64 = 4;
const MONOTONIC: &str = "cam-0020";

fn report_lake() -> Lake {
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/real/agent-sdk-report-long.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let things = things();
    let mut boot_ms = 0i64;
    lake_of("reports/", REPORT_HOURS, move |hour, end| {
        let mut lines = Vec::new();
        for step in 0..12 {
            let ts = hour + step * STEP;
            for t in &things {
                let mut r = template.clone();
                r["header"]["report_id"] = json!(ts / 1000);
                if t == MONOTONIC {
                    boot_ms += STEP;
                    r["header"]["report_id"] = json!(boot_ms);
                }
                let m = &mut r["metrics"];
                let p = ports(t, ts, end);
                m["listening_tcp_ports"] = json!({
                    "ports": p.iter().map(|p| json!({"port": p, "interface": "eth0"})).collect::<Vec<_>>(),
                    "total": p.len(),
                });
                m["network_stats"]["bytes_out"] = json!(bytes_out(t, ts, end));
                let d = destinations(t, ts, end);
                m["tcp_connections"]["established_connections"] = json!({
                    "connections": d.iter().map(|a| json!({"local_interface": "eth0", "local_port": 50000, "remote_addr": format!("{a}:443")})).collect::<Vec<_>>(),
                    "total": d.len(),
                });
                // Once an hour.
                if t == "sensor-0003" && step == 5 {
                    r["header"]["report_id"] = json!(1e30);
                    r["metrics"]["network_stats"]["bytes_out"] = json!("lots");
                }
                r["topic"] = json!(format!("$aws/things/{t}/defender/metrics/json"));
                lines.push(r);
            }
        }
        lines
    })
}

/// What the emulator's control endpoint `path` says (its queries, its executions).
fn emulator(lake: &Lake, path: &str) -> Value {
    emulator_at(&lake.emu.url, path)
}

fn emulator_at(url: &str, path: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sf", &format!("{url}{path}")])
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
        ((lake.end - lake.hours * HOUR) / 1000).to_string(),
        "--to".into(),
        (lake.end / 1000).to_string(),
    ]
}

fn setup() -> (Env, Lake) {
    setup_with(lake(), &["--prefix", "exports/"])
}

/// The analyst's first steps: the DDL `ddesk athena ddl` prints, run in the console.
fn setup_with(lake: Lake, ddl_args: &[&str]) -> (Env, Lake) {
    let e = env();
    let ddl = support::ok_text(
        cmd(&e, &lake)
            .args(["athena", "ddl", "--bucket", "dd-lake"])
            .args(ddl_args),
    );
    athena(&lake, "CREATE DATABASE IF NOT EXISTS defender");
    athena(&lake, &ddl);
    (e, lake)
}

/// A screen of the lake's window: succeeds, covers the 300 things, keeps no datapoint.
fn screen(e: &Env, lake: &Lake) -> Value {
    let (out, summary) = support::run(cmd(e, lake).arg("sync").args(window(lake)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{summary} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary["sources"][0].clone();
    assert_eq!(s["things_screened"], 300, "{s}");
    assert_eq!(s["queries"], 4);
    assert_eq!(
        s["datapoints"], 0,
        "the cache keeps candidates, not the fleet"
    );
    s
}

/// Triage puts the three scripted compromises first, each with the reason it was scripted for,
/// saying where it came from.
fn assert_the_compromises_lead(e: &Env, source: &str) -> Value {
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
    assert!(text("cam-0042").contains(&format!(
        "in an Athena screen of 300 things (source {source})"
    )));
    ranked
}

/// What the candidates were judged against is kept: for every hour of the window the fleet's
/// and each name family's statistics of bytes out, their medians near the exact median of the
/// generated hourly means (Athena's percentiles are approximate, the emulator's are DuckDB's
/// t-digest: within 5 %, where the devices' own noise is ±20 %).
fn assert_the_statistics_are_kept(e: &Env, lake: &Lake, source: &str) {
    let stats = support::json_out(
        &e.db,
        &[
            "athena",
            "stats",
            "--source",
            source,
            "--metric",
            "aws:all-bytes-out",
        ],
    );
    let rows = stats.as_array().unwrap();
    let find = |scope: &str, family: Option<&str>, hour: i64| {
        rows.iter()
            .find(|r| r["scope"] == scope && r["family"].as_str() == family && r["hour"] == hour)
            .unwrap_or_else(|| panic!("no {scope} {family:?} row at {hour}: {stats:#}"))
    };
    let hours: Vec<i64> = (0..lake.hours)
        .map(|h| lake.end - (lake.hours - h) * HOUR)
        .collect();
    for &hour in &hours {
        assert_eq!(find("fleet", None, hour)["things"], 300);
        for family in ["cam-", "gw-", "sensor-"] {
            let row = find("family", Some(family), hour);
            assert_eq!(row["things"], 100, "{row}");
            let mut means: Vec<f64> = things()
                .iter()
                .filter(|t| t.starts_with(family))
                .map(|t| {
                    (0..12)
                        .map(|s| bytes_out(t, hour + s * STEP, lake.end) as f64)
                        .sum::<f64>()
                        / 12.0
                })
                .collect();
            means.sort_by(f64::total_cmp);
            let exact = (means[49] + means[50]) / 2.0;
            let got = row["median"].as_f64().unwrap();
            assert!(
                (got - exact).abs() <= 0.05 * exact,
                "{family} {hour}: {got} vs {exact}"
            );
            assert!(row["p95"].as_f64().unwrap() >= got, "{row}");
        }
    }
    assert!(
        rows.iter()
            .all(|r| hours.contains(&r["hour"].as_i64().unwrap())),
        "statistics outside the window: {stats:#}"
    );
    let screens = support::json_out(&e.db, &["athena", "screens"]);
    assert_eq!(screens[0]["source"], source, "{screens}");
    assert_eq!(screens[0]["things_screened"], 300, "{screens}");
    assert!(
        screens[0]["statistics"].as_u64().unwrap() >= rows.len() as u64,
        "{screens}"
    );
    // A source that never screened says so.
    let (out, _) = support::run(
        support::command(&e.db, Some(&e.home)).args(["athena", "stats", "--source", "nowhere"]),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no kept screen of source"));
}

/// Every query the engine sent parses as Trino.
fn assert_trino(lake: &Lake) {
    let queries: Value = emulator(lake, "/_emu/queries");
    let mut check = Command::new(venv_bin("python"));
    check.args(["-c", "import json,sys,sqlglot\nfor q in json.load(sys.stdin):\n  if q.lstrip().upper().startswith(('SELECT','WITH')): sqlglot.parse_one(q, read='trino')"]);
    let (out, _) = support::run_with_stdin(&mut check, &queries.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ddesk sync --thing`, then the thing's bytes-out series over the lake's window.
fn drill_down(e: &Env, lake: &Lake, source: &str, thing: &str) -> (Value, Vec<(i64, i64)>) {
    let (out, v) = support::run(cmd(e, lake).args(["sync", "--thing", thing, "--source", source]));
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
            thing,
            "--metric",
            "aws:all-bytes-out",
            "--from",
            &((lake.end - lake.hours * HOUR) / 1000).to_string(),
            "--to",
            &(lake.end / 1000).to_string(),
        ],
    );
    let points = series
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                desk_engine::time::parse_user_time(p["t"].as_str().unwrap(), 0).unwrap(),
                p["value"].as_f64().unwrap() as i64,
            )
        })
        .collect();
    (v, points)
}

/// The series a thing's generator wrote, every 5 minutes of the lake's window.
fn generated(lake: &Lake, thing: &str) -> Vec<(i64, i64)> {
    (0..lake.hours * 12)
        .map(|i| lake.end - lake.hours * HOUR + i * STEP)
        .map(|ts| (ts, bytes_out(thing, ts, lake.end)))
        .collect()
}

#[test]
fn a_fleet_is_screened_where_it_lies_and_its_worst_things_ranked_with_the_cost() {
    let (e, lake) = setup_with(lake(), &["--prefix", "exports/"]);
    add(&e, &lake, "lake", &[]);
    let health = support::ok(cmd(&e, &lake).args(["sources", "test", "lake"]));
    assert_eq!(health["status"], "ok", "{health}");

    let s = screen(&e, &lake);
    // Every query reads the window's partitions, an hour either side: all eight objects.
    let all: usize = lake.objects.iter().map(|(_, n)| n).sum();
    assert_eq!(s["bytes_scanned"], 4 * all as u64, "{s}");
    // Four queries, each billed at least 10 MB at $5 per TB.
    let cost = s["cost_usd"].as_f64().unwrap();
    assert!((cost - 4.0 * 1e7 / 1e12 * 5.0).abs() < 1e-9, "{s}");
    let ranked = assert_the_compromises_lead(&e, "lake");
    assert_the_statistics_are_kept(&e, &lake, "lake");

    // A second screen of the same window reuses Athena's results: nothing scanned, nothing
    // billed, the same ranking.
    let again = screen(&e, &lake);
    assert_eq!(again["bytes_scanned"], 0, "{again}");
    assert_eq!(again["cost_usd"], 0.0, "{again}");
    assert_eq!(support::json_out(&e.db, &["triage"]), ranked);
    assert_trino(&lake);

    // The drill-down: one thing's full-resolution series, exactly as generated.
    let (_, got) = drill_down(&e, &lake, "lake", "cam-0042");
    assert_eq!(got, generated(&lake, "cam-0042"));
}

#[test]
fn a_detect_free_fleet_is_screened_from_its_device_reports() {
    let (e, lake) = setup_with(
        report_lake(),
        &["--prefix", "reports/", "--layout", "device-reports"],
    );
    add(
        &e,
        &lake,
        "reports",
        &["--table", "device_reports", "--layout", "device-reports"],
    );
    let s = screen(&e, &lake);
    let all: usize = lake.objects.iter().map(|(_, n)| n).sum();
    assert_eq!(s["bytes_scanned"], 4 * all as u64, "{s}");
    assert_the_compromises_lead(&e, "reports");
    assert_trino(&lake);

    // Drilled into, a report is dated by its report_id (epoch seconds from the Agent SDK) and
    // read exactly; the values a column could not hold cost only their own report.
    let (_, got) = drill_down(&e, &lake, "reports", "cam-0042");
    assert_eq!(got, generated(&lake, "cam-0042"));
    let (v, got) = drill_down(&e, &lake, "reports", "sensor-0003");
    assert_eq!(
        got.len(),
        generated(&lake, "sensor-0003").len() - REPORT_HOURS as usize,
        "{v}"
    );
    assert_eq!(v["sources"][0]["skipped"], REPORT_HOURS, "{v}");
    // aws-c-iot's report_id counts milliseconds since boot: each report is dated by the
    // partition hour it arrived in, as a report read from S3 is.
    let (_, got) = drill_down(&e, &lake, "reports", MONOTONIC);
    let middles: Vec<i64> = (0..lake.hours)
        .map(|h| lake.end - (lake.hours - h) * HOUR + (HOUR - 1) / 2)
        .collect();
    let mut times: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    times.dedup();
    assert_eq!(times, middles);
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

const APP_CHILD: &str = "DDESK_ATHENA_APP_CHILD";

/// The app's side, through the commands its Sources and thing screens call: the cost shown
/// before a screen, a screen-only candidate's page with its offer, the drill-down and what it
/// cost. It runs in a child process of this test binary, whose environment points S3 at moto
/// as an analyst's `AWS_ENDPOINT_URL_S3` would (the engine reads it from the process).
#[test]
fn the_app_shows_the_cost_before_a_screen_and_drills_into_a_candidate() {
    if let Some(db) = std::env::var_os(APP_CHILD) {
        return app_side(std::path::Path::new(&db));
    }
    let (e, lake) = setup();
    add(&e, &lake, "lake", &[]);
    screen(&e, &lake);
    let all: usize = lake.objects.iter().map(|(_, n)| n).sum();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "athena::the_app_shows_the_cost_before_a_screen_and_drills_into_a_candidate",
        "--nocapture",
    ]);
    servers::aws_env(&mut child, &e.home);
    child
        .env("AWS_ENDPOINT_URL_S3", &lake.moto_url)
        .env(APP_CHILD, &e.db)
        .env("DDESK_ATHENA_BYTES", all.to_string())
        .env("DDESK_ATHENA_EMULATOR", &lake.emu.url);
    let out = child.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran no test: {text}");
}

fn app_side(db: &std::path::Path) {
    use desk_engine::app::{Desk, ThingRequest};
    let exports = tempfile::tempdir().unwrap();
    let desk = Desk::new(
        db.to_path_buf(),
        exports.path().to_path_buf(),
        std::sync::Arc::new(desk_engine::secrets::MemorySecrets::default()),
    )
    .unwrap();
    let bytes: u64 = std::env::var("DDESK_ATHENA_BYTES")
        .unwrap()
        .parse()
        .unwrap();
    // Before a screen: each query reads the default window's partitions, all eight objects.
    let est = desk.screen_estimates().unwrap();
    assert_eq!(est.len(), 1, "{est:?}");
    let est = &est[0];
    assert_eq!(
        (est.source.as_str(), est.queries, est.bytes_per_query),
        ("lake", 4, bytes)
    );
    assert!(
        (est.cost_usd - 4.0 * 1e7 / 1e12 * 5.0).abs() < 1e-12,
        "{est:?}"
    );
    assert!(!est.refused);
    assert_eq!(est.location, "s3://dd-lake/exports/");

    // A candidate the screen named opens (only its evidence is cached) and offers its history.
    let req = |thing: &str| -> ThingRequest {
        serde_json::from_value(json!({"thing": thing, "from": null, "to": null,
            "look": {"width": 620, "height": 230, "tz": "UTC", "theme": "dark"}}))
        .unwrap()
    };
    let page = desk.thing(&req("cam-0042")).unwrap();
    assert!(page.charts.is_empty());
    assert!(
        page.reasons
            .iter()
            .any(|r| r.text.contains("Athena screen")),
        "{:?}",
        page.reasons
    );
    let offers = desk.drill_offers("cam-0042").unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!((offers[0].queries, offers[0].bytes_per_query), (1, bytes));
    assert!(desk.drill_offers("not-in-the-fleet").unwrap().is_empty());
    assert!(
        desk.thing(&req("not-in-the-fleet")).is_err(),
        "a thing no screen named is unknown"
    );

    // Read, it brings the thing's three metrics every 5 minutes, with what the query cost.
    let read = desk.drill_down("cam-0042", "lake").unwrap();
    assert_eq!(read.datapoints, 3 * HOURS as u64 * 12, "{read:?}");
    assert_eq!((read.queries, read.bytes_scanned), (1, bytes));
    assert!(read.cost_usd > 0.0);
    assert_eq!(desk.thing(&req("cam-0042")).unwrap().charts.len(), 3);

    // *Cancel* on a drill-down that is still running stops its query in Athena.
    let emu = std::env::var("DDESK_ATHENA_EMULATOR").unwrap();
    servers::control_at(
        &emu,
        "/_emu/faults",
        &json!([{"kind": "slow", "delay": 30}]),
    );
    let started = std::time::Instant::now();
    let cancelled = std::thread::scope(|s| {
        let read = s.spawn(|| desk.drill_down("gw-0007", "lake"));
        let mut stopped = false;
        while !stopped && started.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stopped = desk.cancel_sync();
        }
        assert!(stopped, "the drill-down never claimed the sync slot");
        read.join().unwrap()
    });
    assert!(
        matches!(cancelled, Err(desk_engine::Error::Cancelled)),
        "{cancelled:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
    let runs = emulator_at(&emu, "/_emu/executions");
    let last = runs.as_array().unwrap().last().unwrap();
    assert!(
        last["query"].as_str().unwrap().contains("gw-0007"),
        "{runs}"
    );
    assert_eq!(
        last["state"], "CANCELLED",
        "StopQueryExecution was sent: {runs}"
    );
    servers::control_at(&emu, "/_emu/faults", &json!([]));
}
