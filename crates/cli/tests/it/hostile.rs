//! Hostile devices and careless inputs (each a regression test of a reproduced failure): no
//! panic (exit 101), no hang, bounded work; refusals are clear, usage errors exit 2.

use crate::support;

use std::io::Write as _;
use std::path::Path;

use serde_json::Value;
use support::ddesk;

const NOW_MS: i64 = 1_795_000_000_000;

fn export(points: &[(&str, &str, String, i64)]) -> String {
    let metrics: Vec<String> = points
        .iter()
        .map(|(thing, metric, value, ts)| {
            format!(
                r#"{{"name":"{metric}","thing":"{thing}","value":{value},"version":1,"timestamp":{ts}}}"#
            )
        })
        .collect();
    format!(r#"{{"version":"1.0","metrics":[{}]}}"#, metrics.join(","))
}

fn cache_with(dir: &Path, doc: &str) -> std::path::PathBuf {
    let db = dir.join("c.sqlite");
    let file = dir.join("doc.json");
    std::fs::write(&file, doc).unwrap();
    let out = ddesk(&db).arg("ingest").arg(&file).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

#[test]
fn a_chart_of_extreme_values_finishes_and_says_so() {
    // Regression: 9e307 and -9e307 in a custom number metric hung `ddesk chart` for ever.
    let dir = tempfile::tempdir().unwrap();
    let doc = export(&[
        (
            "cam-1",
            "temperature",
            r#"{"number":9e307}"#.into(),
            NOW_MS - 600_000,
        ),
        (
            "cam-1",
            "temperature",
            r#"{"number":-9e307}"#.into(),
            NOW_MS - 300_000,
        ),
    ]);
    let db = cache_with(dir.path(), &doc);
    for ext in ["svg", "png"] {
        let out_file = dir.path().join(format!("t.{ext}"));
        let out = ddesk(&db)
            .args([
                "chart",
                "--thing",
                "cam-1",
                "--metric",
                "temperature",
                "--out",
            ])
            .arg(&out_file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::metadata(&out_file).unwrap().len() > 100);
    }
    let svg = std::fs::read_to_string(dir.path().join("t.svg")).unwrap();
    assert!(svg.contains("values out of range"));
}

// Long because: one table of hostile arguments, one line each, over one small cache.
#[test]
fn user_times_sizes_and_windows_out_of_range_exit_2_never_101() {
    let dir = tempfile::tempdir().unwrap();
    let doc = export(&[(
        "cam-1",
        "aws:all-bytes-out",
        r#"{"count":5}"#.into(),
        NOW_MS - 300_000,
    )]);
    let db = cache_with(dir.path(), &doc);
    let png = dir.path().join("c.png");
    let chart = |extra: &[&str]| {
        ddesk(&db)
            .args([
                "chart",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--out",
            ])
            .arg(&png)
            .args(extra)
            .output()
            .unwrap()
    };
    for (args, what) in [
        (
            vec![
                "series",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--to=+9223372036854775s",
            ],
            "offset overflow",
        ),
        (
            vec![
                "series",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--from=-9223372036854775807w",
            ],
            "offset overflow",
        ),
        (
            vec![
                "series",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--from",
                "0001-01-01T00:00:00Z",
            ],
            "year 1",
        ),
        (
            vec![
                "series",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--to",
                "0000-01-01T00:00:00Z",
            ],
            "year 0",
        ),
        (
            vec![
                "series",
                "--thing",
                "cam-1",
                "--metric",
                "aws:all-bytes-out",
                "--from",
                "-1h",
                "--to",
                "-2h",
            ],
            "from after to",
        ),
        (
            vec!["triage", "--window", "106751991167d"],
            "a 292-million-year window",
        ),
        (vec!["triage", "--window", "0h"], "an empty window"),
        (vec!["triage", "--window", "367d"], "more than a year"),
    ] {
        let out = ddesk(&db).args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{what}: a message says why");
    }
    for extra in [
        &["--width", "16000"][..],
        &["--height", "5000"],
        &["--width", "4000", "--height", "4000", "--scale", "2"],
        &["--scale", "9"],
        &["--width", "10"],
    ] {
        let out = chart(extra);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        chart(&["--width", "4000", "--height", "4000"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn hostile_names_counts_and_ports_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let long = "x".repeat(60 << 20);
    for (i, (doc, says)) in [
        (
            export(&[(&long, "aws:all-bytes-out", r#"{"count":1}"#.into(), NOW_MS)]),
            "longer than the 128",
        ),
        (
            export(&[(
                "cam-1",
                "aws:all-bytes-out",
                r#"{"count":-5}"#.into(),
                NOW_MS,
            )]),
            "negative",
        ),
        (
            export(&[(
                "cam-1",
                "aws:all-bytes-out",
                r#"{"count":18446744073709551616}"#.into(),
                NOW_MS,
            )]),
            "out of range",
        ),
        (
            export(&[(
                "cam-1",
                "aws:all-bytes-out",
                r#"{"count":9223372036854775808}"#.into(),
                NOW_MS,
            )]),
            "out of range",
        ),
        (
            export(&[(
                "cam-1",
                "aws:listening-tcp-ports",
                r#"{"ports":[22,70000]}"#.into(),
                NOW_MS,
            )]),
            "not 0 to 65535",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir.path().join(format!("bad-{i}.json"));
        std::fs::write(&file, doc).unwrap();
        let out = ddesk(&db).arg("ingest").arg(&file).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let error = report["rejected"][0]["error"].as_str().unwrap();
        assert!(error.contains(says), "{error}");
        assert!(
            error.len() < 400,
            "the refusal does not echo the payload: {} bytes",
            error.len()
        );
    }
    let things: Value =
        serde_json::from_slice(&ddesk(&db).arg("things").output().unwrap().stdout).unwrap();
    assert_eq!(
        things,
        serde_json::json!([]),
        "nothing of the refused files was kept"
    );
}

#[test]
fn objects_beyond_the_caps_are_refused_whole_naming_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    // 20,000 valid points, gzip: far more when inflated than the cap given below.
    let points: Vec<(&str, &str, String, i64)> = (0..20_000)
        .map(|i| {
            (
                "cam-1",
                "aws:all-bytes-out",
                format!(r#"{{"count":{i}}}"#),
                NOW_MS - i * 1000,
            )
        })
        .collect();
    let plain = export(&points);
    let gz = dir.path().join("bomb.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::best(),
    );
    enc.write_all(plain.as_bytes()).unwrap();
    enc.finish().unwrap();
    let run = |args: &[&str]| {
        let out = ddesk(&db)
            .arg("ingest")
            .arg(&gz)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["rejected"][0]["error"].as_str().unwrap().to_string()
    };
    let e = run(&["--max-inflated-bytes", "100000"]);
    assert!(
        e.contains("more than 100000 bytes") && e.contains("--max-inflated-bytes"),
        "{e}"
    );
    let e = run(&["--max-points", "1000"]);
    assert!(
        e.contains("more than 1000 datapoints") && e.contains("--max-points"),
        "{e}"
    );
    // Within the defaults the same object is read whole.
    let out = ddesk(&db).arg("ingest").arg(&gz).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["datapoints"], 20_000);
}

#[test]
fn csv_output_defuses_formulas_and_quotes_every_cell() {
    // Regression: `--format csv` and `ddesk export` wrote device strings as live formulas.
    let dir = tempfile::tempdir().unwrap();
    let doc = export(&[
        (
            "cam-1",
            r#"=HYPERLINK(\"http://evil\")"#,
            r#"{"count":1}"#.into(),
            NOW_MS - 300_000,
        ),
        (
            "cam-1",
            "x;=cmd|' /C calc'!A0",
            r#"{"count":2}"#.into(),
            NOW_MS - 300_000,
        ),
        (
            "cam-1",
            "app-names",
            r#"{"strings":["a","b"]}"#.into(),
            NOW_MS - 300_000,
        ),
    ]);
    let db = cache_with(dir.path(), &doc);
    let out = ddesk(&db)
        .args(["export", "--thing", "cam-1", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK") && csv.contains("x;'=cmd"),
        "{csv}"
    );
    assert!(
        !csv.contains("\"=HYPERLINK") && !csv.contains(";=cmd"),
        "{csv}"
    );
    let out_file = dir.path().join("x.csv");
    let out = ddesk(&db)
        .args([
            "series",
            "--thing",
            "cam-1",
            "--metric",
            "app-names",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let series = String::from_utf8(out.stdout).unwrap();
    assert!(
        series.lines().all(|l| l.starts_with('"')),
        "every cell quoted: {series}"
    );
    // A link at the output path is replaced, never written through.
    #[cfg(unix)]
    {
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, &out_file).unwrap();
        let out = ddesk(&db)
            .args(["export", "--thing", "cam-1", "--format", "csv", "--out"])
            .arg(&out_file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}

#[test]
fn splunk_and_aws_urls_must_be_https_except_to_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let add = |url: &str| {
        ddesk(&db)
            .args([
                "sources",
                "add",
                "splunk",
                "--name",
                "s",
                "--url",
                url,
                "--index",
                "iot",
                "--token-stdin",
            ])
            .write_stdin("tok\n")
            .output()
            .unwrap()
    };
    // Regression: an http:// URL sent the token in clear text.
    for url in [
        "http://splunk.example:8089",
        "https://admin:pw@splunk.example:8089",
        "ftp://splunk.example",
    ] {
        let out = add(url);
        assert!(!out.status.success(), "{url} accepted");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("http") || e.contains("password"), "{url}: {e}");
    }
    let out = ddesk(&db)
        .args([
            "sources",
            "add",
            "defender",
            "--name",
            "d",
            "--endpoint-url",
            "http://iot.example",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "plain http to AWS accepted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("clear text"));
}

#[test]
fn the_demo_fleet_refuses_a_cache_with_real_data() {
    // Regression: `ddesk demo` wrote into a cache holding real data and marked it demo, so a
    // quarantine of a real thing then "succeeded" against the simulated account.
    let dir = tempfile::tempdir().unwrap();
    let doc = export(&[(
        "cam-real",
        "aws:all-bytes-out",
        r#"{"count":5}"#.into(),
        NOW_MS,
    )]);
    let db = cache_with(dir.path(), &doc);
    let out = ddesk(&db)
        .args(["demo", "--things", "5", "--days", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("real data"));
    // An empty cache takes it, and so does the same demo cache again.
    let demo_db = dir.path().join("demo.sqlite");
    for _ in 0..2 {
        let out = ddesk(&demo_db)
            .args(["demo", "--things", "5", "--days", "1"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn future_dated_points_are_set_aside_by_name_and_move_no_window() {
    // Regression: one datapoint in 2100 moved the triage window to 2100 and every thing in the
    // fleet dropped to score 0.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut points: Vec<(&str, &str, String, i64)> = (0..24)
        .map(|i| {
            (
                "cam-1",
                "aws:all-bytes-out",
                format!(r#"{{"count":{}}}"#, 1000 + i),
                now - (24 - i) * 300_000,
            )
        })
        .collect();
    points.push((
        "cam-evil",
        "aws:all-bytes-out",
        r#"{"count":1}"#.into(),
        4_102_444_800_000,
    ));
    let file = dir.path().join("doc.json");
    std::fs::write(&file, export(&points)).unwrap();
    let out = ddesk(&db).arg("ingest").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "the rest of the file is kept");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["future_dated"], 1);
    assert_eq!(report["future_dated_examples"][0]["thing"], "cam-evil");
    assert_eq!(
        report["future_dated_examples"][0]["t"],
        "2100-01-01T00:00:00.000Z"
    );
    assert_eq!(report["datapoints"], 24);
    let things: Value =
        serde_json::from_slice(&ddesk(&db).arg("things").output().unwrap().stdout).unwrap();
    assert_eq!(things.as_array().unwrap().len(), 1, "{things}");
}

#[test]
fn a_report_id_that_is_no_epoch_time_is_refused_or_dated_by_observed() {
    // Regression: FreeRTOS demos send a tick count as report_id; it was stored as 1970.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let file = dir.path().join("report.json");
    std::fs::write(
        &file,
        r#"{"header":{"report_id":53012,"version":"1.0"},"metrics":{"network_stats":{"bytes_in":10,"bytes_out":20,"packets_in":1,"packets_out":2}}}"#,
    )
    .unwrap();
    let out = ddesk(&db)
        .args(["ingest", "--thing", "rtos-1"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = report["rejected"][0]["error"].as_str().unwrap();
    assert!(
        e.contains("report_id 53012") && e.contains("--observed"),
        "{e}"
    );
    let out = ddesk(&db)
        .args([
            "ingest",
            "--thing",
            "rtos-1",
            "--observed",
            "2024-06-03T16:05:00Z",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("dated by its arrival"),
        "{report}"
    );
    let series: Value = serde_json::from_slice(
        &ddesk(&db)
            .args([
                "series",
                "--thing",
                "rtos-1",
                "--metric",
                "aws:all-bytes-out",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(series[0]["t"], "2024-06-03T16:05:00.000Z");
}

/// Regression (#29.11): a violation id whose 40th byte falls inside a multi-byte character
/// made `ddesk mitigate --dry-run` panic (exit 101, `&id[..40]`); the task id keeps only
/// characters AWS allows, cut by character.
#[test]
fn mitigate_dry_run_on_a_multibyte_violation_id_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let demo = ddesk(&db)
        .args(["demo", "--things", "30", "--days", "1"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let id = format!("{}é-violation", "v".repeat(39));
    assert!(!id.is_char_boundary(40));
    let doc = serde_json::json!({"activeViolations": [{"violationId": id, "thingName": "cam-lobby-017",
        "securityProfileName": "p", "behavior": {"name": "b", "metric": "aws:all-bytes-out"},
        "violationStartTime": NOW_MS / 1000 - 600}]});
    let file = dir.path().join("v.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = ddesk(&db).arg("ingest").arg(&file).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ddesk(&db)
        .args([
            "mitigate",
            "--violation",
            &id,
            "--action",
            "demo-isolate-in-quarantine-group",
            "--reason",
            "outbound bytes 140x baseline",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let task = v["plan"]["steps"][0]["StartDetectMitigationActionsTask"]["task_id"]
        .as_str()
        .or_else(|| v["plan"]["steps"][0]["task_id"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        task.starts_with(&format!(
            "ddesk-demo-isolate-in-quarantine-group-{}-",
            "v".repeat(39)
        )),
        "{v}"
    );
    assert!(
        task.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{task}"
    );
}

/// Regression (#29.14): a cache in a read-only place (an archived case, a read-only mount)
/// could not even be read (`PRAGMA journal_mode=WAL` on open). Now it opens read-only, says so
/// on stderr, reads, and a write fails with a message instead of the open. The read-only place
/// is a read-only bind mount in a user namespace (`unshare -rm`, util-linux), so it holds for
/// root too, where file modes do not.
#[test]
fn a_cache_in_a_read_only_place_is_read_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("case.sqlite");
    let demo = ddesk(&db)
        .args(["demo", "--things", "30", "--days", "1"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let bin = env!("CARGO_BIN_EXE_ddesk");
    let d = dir.path().display().to_string();
    let script = format!(
        "mount --bind -o ro {d} {d} && HOME={d} {bin} --db {db} things --format json && ! HOME={d} {bin} --db {db} case note --thing cam-lobby-017 --text 'note on an archive'",
        db = db.display()
    );
    let out = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux) runs the read-only mount");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("opened read-only"), "{stderr}");
    let things: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(things.as_array().is_some_and(|t| t.len() >= 30), "{things}");
    assert!(
        stderr.contains("readonly") || stderr.contains("read-only"),
        "{stderr}"
    );
}
