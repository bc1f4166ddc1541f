//! `ddesk` as scripts and SOAR playbooks call it: exit codes, JSON fields, formats.

use crate::support;

use serde_json::Value;
use support::{ddesk, fixture, json_out};

#[test]
fn ingest_summary_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let ok = ddesk(&db)
        .arg("ingest")
        .arg(fixture("export-batch.json"))
        .arg(fixture("sns-alert-in-alarm.json"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let summary: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(summary["documents"]["metrics_export"], 1);
    assert_eq!(summary["documents"]["detect_alert"], 1);
    assert_eq!(summary["datapoints"], 6);
    assert_eq!(summary["rejected"], serde_json::json!([]));

    let partial = ddesk(&db)
        .arg("ingest")
        .arg(fixture("unknown-kind.json"))
        .arg(fixture("export-seconds.json"))
        .output()
        .unwrap();
    assert_eq!(partial.status.code(), Some(3));
    let summary: Value = serde_json::from_slice(&partial.stdout).unwrap();
    assert_eq!(summary["rejected"].as_array().unwrap().len(), 1);
    assert!(summary["rejected"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("unknown-kind.json"));
    assert!(summary["rejected"][0]["error"]
        .as_str()
        .unwrap()
        .contains("expected"));
    assert_eq!(summary["files"], 1);

    // One bad record (a device's string where a count goes, a value past the bounds) is named
    // by file and byte offset; the file's other records are kept; the exit code says partial.
    let mixed = dir.path().join("mixed.ndjson");
    std::fs::write(
        &mixed,
        concat!(
            r#"{"name":"aws:all-bytes-out","thing":"cam-7","value":{"count":7},"version":1,"timestamp":1764536400000}"#,
            "\n",
            r#"{"name":"aws:all-bytes-out","thing":"cam-7","value":{"count":"x"},"version":1,"timestamp":1764536700000}"#,
            "\n",
            r#"{"name":"aws:all-bytes-out","thing":"cam-7","value":{"count":9},"version":1,"timestamp":1764537000000}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = ddesk(&db).arg("ingest").arg(&mixed).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rejected"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["rejected_records_total"], 1);
    assert_eq!(summary["rejected_records"][0]["offset"], 103);
    assert!(summary["rejected_records"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("mixed.ndjson"));
    assert_eq!(summary["datapoints"], 2);
    let series = json_out(
        &db,
        &[
            "series",
            "--thing",
            "cam-7",
            "--metric",
            "aws:all-bytes-out",
        ],
    );
    assert_eq!(series.as_array().unwrap().len(), 2, "{series}");

    // Usage errors exit 2.
    assert_eq!(
        ddesk(&db).arg("ingest").output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        ddesk(&db)
            .args(["series", "--thing", "x"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        ddesk(&db)
            .args(["things", "--format", "xml"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn ingest_never_panics_on_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let junk = dir.path().join("junk.bin");
    std::fs::write(
        &junk,
        [0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01, 0x02],
    )
    .unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, b"").unwrap();
    let out = ddesk(&db)
        .arg("ingest")
        .arg(&junk)
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rejected"].as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&out.stderr)
        .find("panicked")
        .is_none());
}

// Long because: one scenario over one cache, each step reading what the one before
// left (the steps are the helpers `ddesk`, `json_out` and the fixtures' writers).
#[test]
fn queries_in_json_csv_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let names = [
        "export-batch.json",
        "export-seconds.json",
        "sns-alert-in-alarm.json",
        "sns-envelope-alarm-cleared.json",
        "api-list-active-violations.json",
        "audit-notification.json",
        "api-list-audit-findings.json",
        "hostile-names.json",
    ];
    let mut cmd = ddesk(&db);
    cmd.arg("ingest");
    for n in names {
        cmd.arg(fixture(n));
    }
    assert!(cmd.output().unwrap().status.success());

    let things = json_out(&db, &["things"]);
    let cam = things
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "cam-0042")
        .unwrap();
    assert_eq!(cam["last_report"], "2024-06-03T16:05:00.000Z");
    assert_eq!(cam["open_violations"], 1);
    assert!(cam["metrics"]
        .as_array()
        .unwrap()
        .contains(&Value::from("aws:all-bytes-out")));

    let series = json_out(
        &db,
        &[
            "series",
            "--thing",
            "cam-0042",
            "--metric",
            "aws:all-bytes-out",
        ],
    );
    assert_eq!(
        series,
        serde_json::json!([{"t": "2024-06-03T16:05:00.000Z", "value": 1048576}])
    );
    let ports = json_out(
        &db,
        &[
            "series",
            "--thing",
            "gw-7",
            "--metric",
            "aws:listening-tcp-ports",
            "--from",
            "1717430700",
            "--to",
            "2024-06-03T16:10:00Z",
        ],
    );
    assert_eq!(
        ports,
        serde_json::json!([{"t": "2024-06-03T16:05:00.000Z", "values": [21, 22, 443]}, {"t": "2024-06-03T16:10:00.000Z", "values": [22, 443]}])
    );
    let hostile = json_out(
        &db,
        &[
            "series",
            "--thing",
            "<script>alert(1)</script>",
            "--metric",
            "appNames",
        ],
    );
    assert_eq!(hostile[0]["values"][0], "<script>alert(1)</script>");

    let drift = json_out(&db, &["drift", "--thing", "gw-7"]);
    let port21 = drift
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["value"] == 21)
        .unwrap();
    assert_eq!(port21["opened"], "2024-06-03T16:05:00.000Z");
    assert_eq!(port21["closed"], "2024-06-03T16:10:00.000Z");
    let port22 = drift
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["value"] == 22)
        .unwrap();
    assert_eq!(port22["closed"], Value::Null);

    let violations = json_out(&db, &["violations", "--thing", "dev-IZWB"]);
    let v = &violations[0];
    for field in [
        "violation_id",
        "thing",
        "security_profile",
        "behavior",
        "metric",
        "started",
        "ended",
        "last_event",
        "last_value",
        "verification_state",
        "verification_description",
        "confidence",
    ] {
        assert!(v.get(field).is_some(), "violations lacks {field}");
    }
    assert_eq!(v["started"], "2019-11-15T03:00:00.000Z");
    assert_eq!(v["ended"], "2019-11-15T04:00:00.000Z");
    let active = json_out(&db, &["violations", "--active"]);
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["thing"], "cam-0042");

    let audits = json_out(
        &db,
        &["audits", "--check", "DEVICE_CERTIFICATE_EXPIRING_CHECK"],
    );
    assert_eq!(
        audits,
        serde_json::json!([{"task_id": "4e2bcd1ccbc2a5dd15292a82ab80c380", "task_start": "2024-06-03T07:00:00.123Z",
            "check": "DEVICE_CERTIFICATE_EXPIRING_CHECK", "status": "COMPLETED_NON_COMPLIANT",
            "non_compliant": 2, "total": 195, "suppressed": null, "error_code": null, "message": null}])
    );
    let findings = json_out(
        &db,
        &["findings", "--check", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"],
    );
    for field in [
        "finding_id",
        "task_id",
        "check",
        "severity",
        "resource_type",
        "resource",
        "reason",
        "reason_code",
        "suppressed",
        "found",
        "related_resources",
    ] {
        assert!(findings[0].get(field).is_some(), "findings lacks {field}");
    }
    assert_eq!(findings[0]["resource"], "AllowAll:3");
    assert_eq!(findings[0]["suppressed"], true);

    let csv = ddesk(&db)
        .args([
            "series",
            "--thing",
            "gw-7",
            "--metric",
            "aws:listening-tcp-ports",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(
        text.starts_with("\"t\",\"values\"\n\"2024-06-03T16:00:00.000Z\",\"[22,443]\"\n"),
        "{text}"
    );

    let table = ddesk(&db)
        .args(["things", "--format", "table"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("cam-0042"));
    assert!(
        !text.contains('\u{1b}'),
        "control characters from devices are escaped in tables"
    );
}

#[test]
fn unknown_thing_or_metric_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    ddesk(&db)
        .arg("ingest")
        .arg(fixture("export-batch.json"))
        .assert()
        .success();
    let out = ddesk(&db)
        .args(["series", "--thing", "nope", "--metric", "aws:all-bytes-out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown thing \"nope\""));
    let out = ddesk(&db)
        .args(["drift", "--thing", "cam-0042", "--metric", "aws:nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no metric \"aws:nope\""));
    let out = ddesk(&db)
        .args([
            "series",
            "--thing",
            "cam-0042",
            "--metric",
            "aws:all-bytes-out",
            "--from",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
}

#[test]
fn demo_fleet_is_deterministic_and_tells_its_story() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let db = dir.path().join(name);
        let out = ddesk(&db)
            .args([
                "demo",
                "--things",
                "8",
                "--days",
                "3",
                "--seed",
                "11",
                "--end",
                "2026-11-20T12:00:00Z",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        db
    };
    let (a, b) = (run("a.sqlite"), run("b.sqlite"));
    let q = [
        "series",
        "--thing",
        "cam-lobby-017",
        "--metric",
        "aws:all-bytes-out",
    ];
    assert_eq!(json_out(&a, &q), json_out(&b, &q));
    assert_eq!(json_out(&a, &["violations"]), json_out(&b, &["violations"]));

    // The botnet hour: bytes out ×100.
    let bytes = json_out(&a, &q);
    let values: Vec<f64> = bytes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    let max = values.iter().cloned().fold(0.0, f64::max);
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(max > 40.0 * median, "spike {max} vs median {median}");
    // The rogue FTP server on the gateway.
    let drift = json_out(&a, &["drift", "--thing", "gw-plant-03"]);
    assert!(drift
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["value"] == 21 && d["closed"].is_null()));
    // Child processes, RSSI, audits with an expiring certificate.
    json_out(
        &a,
        &[
            "series",
            "--thing",
            "hvac-ctl-07",
            "--metric",
            "num_child_procs_myapp",
        ],
    );
    json_out(
        &a,
        &[
            "series",
            "--thing",
            "tracker-cell-22",
            "--metric",
            "mobilerssi",
        ],
    );
    let findings = json_out(
        &a,
        &["findings", "--check", "DEVICE_CERTIFICATE_EXPIRING_CHECK"],
    );
    assert!(!findings.as_array().unwrap().is_empty());
    let active = json_out(&a, &["violations", "--active"]);
    assert_eq!(active[0]["thing"], "gw-plant-03");
}

// Long because: one scenario over one cache, each step reading what the one before
// left (the steps are the helpers `ddesk`, `json_out` and the fixtures' writers).
#[test]
fn triage_chart_drift_diff_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite");
    let out = ddesk(&db)
        .args([
            "demo",
            "--things",
            "8",
            "--days",
            "7",
            "--seed",
            "2",
            "--end",
            "2026-11-20T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());

    let ranked = json_out(&db, &["triage", "--window", "7d"]);
    assert_eq!(ranked[0]["thing"], "cam-lobby-017");
    for field in [
        "thing",
        "score",
        "reasons",
        "categories",
        "open_violations",
        "last_report",
    ] {
        assert!(ranked[0].get(field).is_some(), "triage lacks {field}");
    }
    assert!(ranked[0]["categories"]
        .as_array()
        .unwrap()
        .contains(&Value::from("ddos-participation")));
    assert!(ranked[0]["reasons"][0]["text"]
        .as_str()
        .unwrap()
        .contains("median"));
    let limited = json_out(&db, &["triage", "--limit", "2"]);
    assert_eq!(limited.as_array().unwrap().len(), 2);

    let svg = dir.path().join("bytes.svg");
    let meta = json_out(
        &db,
        &[
            "chart",
            "--thing",
            "cam-lobby-017",
            "--metric",
            "aws:all-bytes-out",
            "--out",
            svg.to_str().unwrap(),
            "--width",
            "640",
        ],
    );
    assert_eq!(meta["geometry"]["kind"], "numeric");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let png = dir.path().join("ports.png");
    let meta = json_out(
        &db,
        &[
            "chart",
            "--thing",
            "gw-plant-03",
            "--metric",
            "aws:listening-tcp-ports",
            "--out",
            png.to_str().unwrap(),
            "--tz",
            "America/New_York",
            "--theme",
            "light",
            "--width",
            "640",
            "--height",
            "240",
            "--scale",
            "2",
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!(
        (be(&bytes[16..20]), be(&bytes[20..24])),
        (1280, 480),
        "--scale 2 draws at twice the density"
    );
    // The geometry of a PNG is given too, in logical pixels (the --width × --height frame).
    assert_eq!(meta["geometry"]["kind"], "drift");
    let g = &meta["geometry"];
    assert!(
        g["left"].as_i64().unwrap() + g["width"].as_i64().unwrap() <= 640,
        "{g}"
    );
    assert!(
        g["top"].as_i64().unwrap() + g["height"].as_i64().unwrap() <= 240,
        "{g}"
    );
    let bad = ddesk(&db)
        .args([
            "chart", "--thing", "nope", "--metric", "m", "--out", "x.svg",
        ])
        .output()
        .unwrap();
    assert_ne!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown thing \"nope\""));

    let diff = json_out(
        &db,
        &[
            "drift",
            "--thing",
            "gw-plant-03",
            "--at",
            "2026-11-15T00:00:00Z",
            "--vs",
            "2026-11-20T11:00:00Z",
        ],
    );
    assert_eq!(
        diff[0],
        serde_json::json!({"value": 21, "change": "added", "attack_surface": true, "metric": "aws:listening-tcp-ports"})
    );

    let tl = json_out(&db, &["timeline", "--thing", "cam-lobby-017"]);
    let what: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(
        what[0].starts_with("in-alarm: BytesOutHigh on aws:all-bytes-out"),
        "{what:?}"
    );
    assert!(what[1].starts_with("alarm-cleared"), "{what:?}");
    assert_eq!(tl[0]["kind"], "violation");

    let csv = ddesk(&db)
        .args([
            "export",
            "--thing",
            "hvac-ctl-07",
            "--format",
            "csv",
            "--from",
            "2026-11-20T11:00:00Z",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(
        // Every cell quoted, the header too (one CSV writer for the project: formulas defused).
        text.starts_with("\"t\",\"metric\",\"dimension\",\"value\",\"values\",\"version\"\n"),
        "{text}"
    );
    assert!(text.contains("num_child_procs_myapp"));
    let parquet = dir.path().join("hvac.parquet");
    ddesk(&db)
        .args([
            "export",
            "--thing",
            "hvac-ctl-07",
            "--format",
            "parquet",
            "--out",
            parquet.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert_eq!(&std::fs::read(&parquet).unwrap()[..4], b"PAR1");
}

#[test]
fn audit_chart_draws_check_history_with_geometry_and_names_unknown_checks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    // A fixed end: with `now`, how many daily audits three days hold depends on the hour.
    json_out(
        &db,
        &[
            "demo",
            "--things",
            "40",
            "--days",
            "3",
            "--end",
            "2026-11-20T12:00:00Z",
        ],
    );
    let svg = dir.path().join("audit.svg");
    let v = json_out(
        &db,
        &[
            "audit-chart",
            "--from",
            "2026-11-16T00:00:00Z",
            "--to",
            "2026-11-21T00:00:00Z",
            "--out",
            svg.to_str().unwrap(),
        ],
    );
    assert_eq!(v["geometry"]["kind"], "audit");
    let rows = v["geometry"]["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r == "DEVICE_CERTIFICATE_EXPIRING_CHECK"),
        "{v}"
    );
    assert!(v["history"][0]["points"].as_array().unwrap().len() >= 3);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Audit history") && text.contains("times in UTC"));
    let out = ddesk(&db)
        .args(["audit-chart", "--check", "NO_SUCH_CHECK", "--out"])
        .arg(dir.path().join("x.svg"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NO_SUCH_CHECK"));
}

// Long because: one scenario over one cache, each step reading what the one before
// left (the steps are the helpers `ddesk`, `json_out` and the fixtures' writers).
/// The AWS CLI's documents through `ddesk`: `ingest --dimension` keeps a dimensioned
/// ListMetricValues response apart, `findings --resource` matches related resources and prints
/// them, `audits` a failed check's error, `mitigations` the history joined to the thing.
#[test]
fn aws_cli_documents_through_ddesk() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let real = |n: &str| fixture(&format!("real/cli/{n}"));
    let ingest = |args: &[&str], file: &str| {
        let out = ddesk(&db)
            .arg("ingest")
            .args(args)
            .arg(real(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mv = ["--thing", "cam-001", "--metric", "aws:num-messages-sent"];
    ingest(
        &[&mv[..], &["--dimension", "TelemetryTopics:IN"]].concat(),
        "list-metric-values-telemetry-topics-in.json",
    );
    ingest(&mv, "list-metric-values-plain.json");
    let plain = json_out(
        &db,
        &[
            "series",
            "--thing",
            "cam-001",
            "--metric",
            "aws:num-messages-sent",
            "--dimension",
            "",
        ],
    );
    let dim = json_out(
        &db,
        &[
            "series",
            "--thing",
            "cam-001",
            "--metric",
            "aws:num-messages-sent",
            "--dimension",
            "TelemetryTopics:IN",
        ],
    );
    let values = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_i64().unwrap())
            .collect()
    };
    assert_eq!((values(&plain), values(&dim)), (vec![5, 6], vec![50, 60]));
    let bad = ddesk(&db)
        .args(["ingest", "--dimension", "TelemetryTopics"])
        .arg(real("list-metric-values-plain.json"))
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a malformed --dimension is a usage error"
    );

    ingest(&[], "list-audit-findings-iso-new-york.json");
    ingest(
        &["--task-id", "5f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"],
        "describe-audit-task-wire.json",
    );
    let f = json_out(&db, &["findings", "--resource", "cam-002"]);
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f[0]["finding_id"], "f-shared-cert");
    assert_eq!(f[0]["found"], "2025-11-30T20:01:39.250Z");
    assert_eq!(
        f[0]["reason_code"],
        "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    );
    assert_eq!(f[0]["related_resources"][1]["type"], "CLIENT_ID");
    assert_eq!(f[0]["related_resources"][1]["id"], "cam-002");
    let a = json_out(
        &db,
        &[
            "audits",
            "--check",
            "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        ],
    );
    assert_eq!(a[0]["error_code"], "INSUFFICIENT_PERMISSIONS");

    for file in [
        "list-detect-mitigation-actions-tasks.json",
        "list-detect-mitigation-actions-executions.json",
        "list-audit-mitigation-actions-executions.json",
    ] {
        ingest(&[], file);
    }
    let m = json_out(&db, &["mitigations", "--thing", "cam-001"]);
    let mut tasks: Vec<&str> = m
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["task_id"].as_str().unwrap())
        .collect();
    tasks.sort();
    assert_eq!(
        tasks,
        vec!["soc-deactivate-shared", "soc-quarantine-cam-001"],
        "{m}"
    );
    assert!(
        json_out(&db, &["audits"]).as_array().unwrap().len() == 3,
        "no phantom audit tasks"
    );
    let tl = json_out(&db, &["timeline", "--thing", "cam-001"]);
    assert!(
        tl.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "mitigation"),
        "{tl}"
    );
}

/// `ddesk demo --no-detect`: the account without Detect — no violations, no security profile,
/// device reports and lifecycle events only — where triage still puts the botnet camera first.
#[test]
fn demo_without_detect() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    json_out(
        &db,
        &["demo", "--no-detect", "--things", "12", "--days", "2"],
    );
    assert_eq!(json_out(&db, &["violations"]), serde_json::json!([]));
    let triage = json_out(&db, &["triage", "--limit", "3"]);
    assert_eq!(triage[0]["thing"], "cam-lobby-017", "{triage}");
    let clone = json_out(
        &db,
        &[
            "series",
            "--thing",
            "sensor-105",
            "--metric",
            "lifecycle:disconnects:DUPLICATE_CLIENTID",
        ],
    );
    assert_eq!(clone.as_array().unwrap().len(), 14, "{clone}");
    // Its chart counts the disconnects per interval (two days: hourly bars).
    let png = dir.path().join("dup.png");
    let chart = json_out(
        &db,
        &[
            "chart",
            "--thing",
            "sensor-105",
            "--metric",
            "lifecycle:disconnects:DUPLICATE_CLIENTID",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    assert_eq!(chart["points"], 14, "{chart}");
    assert_eq!(chart["per_ms"], 3_600_000, "{chart}");
    let bytes = json_out(
        &db,
        &[
            "chart",
            "--thing",
            "sensor-105",
            "--metric",
            "aws:all-bytes-out",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    assert_eq!(bytes["per_ms"], serde_json::Value::Null, "{bytes}");
}

// Long because: one scenario over one cache, each step reading what the one before
// left (the steps are the helpers `ddesk`, `json_out` and the fixtures' writers).
/// Investigation state from the command line (issue: on shift): set, note and show a thing's
/// case; triage rows carry it, filter by it, and a thing resolved benign goes down until new
/// evidence; every change is in the thing's timeline; bad input is refused by name.
#[test]
fn case_state_notes_and_triage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    json_out(
        &db,
        &[
            "demo",
            "--things",
            "12",
            "--days",
            "2",
            "--end",
            "2026-11-30T12:00:00Z",
        ],
    );
    let first = json_out(&db, &["triage"]);
    assert_eq!(first[0]["thing"], "cam-lobby-017");
    assert_eq!(first[0]["case_state"], "new");
    let top_score = first[0]["score"].as_f64().unwrap();

    let c = json_out(
        &db,
        &[
            "case",
            "set",
            "--thing",
            "cam-lobby-017",
            "--state",
            "investigating",
            "--owner",
            "ana",
        ],
    );
    assert_eq!(
        (c["state"].as_str(), c["owner"].as_str()),
        (Some("investigating"), Some("ana"))
    );
    let note = "Looked at the bytes: 140× its peers — «not» a backup.\nSecond line.";
    let c = json_out(
        &db,
        &["case", "note", "--thing", "cam-lobby-017", "--text", note],
    );
    assert_eq!(c["notes"][0]["text"], note);
    assert!(!c["notes"][0]["who"].as_str().unwrap().is_empty());
    assert!(c["notes"][0]["at"].as_str().unwrap().ends_with('Z'), "{c}");
    // The owner is kept when a state is set without one; the history keeps both states.
    let c = json_out(
        &db,
        &[
            "case",
            "set",
            "--thing",
            "cam-lobby-017",
            "--state",
            "benign",
        ],
    );
    assert_eq!(
        (c["state"].as_str(), c["owner"].as_str()),
        (Some("benign"), Some("ana"))
    );
    assert_eq!(c["history"].as_array().unwrap().len(), 2);
    // A new process reads the same case (it lives in the cache).
    let shown = json_out(&db, &["case", "show", "--thing", "cam-lobby-017"]);
    assert_eq!(shown["notes"], c["notes"]);
    assert_eq!(shown["state"], "benign");

    // Resolved benign with the same reasons: down-ranked, and says why.
    let triage = json_out(&db, &["triage"]);
    let cam = triage
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["thing"] == "cam-lobby-017")
        .unwrap();
    assert!(cam > 0, "{triage}");
    assert!(triage[cam]["score"].as_f64().unwrap() < top_score / 2.0);
    assert!(triage[cam]["down_ranked"]
        .as_str()
        .unwrap()
        .contains("until new evidence"));
    assert_eq!(triage[cam]["case_owner"], "ana");
    let benign = json_out(&db, &["triage", "--case-state", "benign"]);
    assert_eq!(benign.as_array().unwrap().len(), 1, "{benign}");
    // Compromised: back at the top, no longer down-ranked.
    json_out(
        &db,
        &[
            "case",
            "set",
            "--thing",
            "cam-lobby-017",
            "--state",
            "compromised",
        ],
    );
    let triage = json_out(&db, &["triage", "--limit", "1"]);
    assert_eq!(triage[0]["thing"], "cam-lobby-017");
    assert_eq!(triage[0]["case_state"], "compromised");
    assert_eq!(triage[0]["down_ranked"], Value::Null);

    // Every state and note is in the thing's timeline.
    let tl = json_out(&db, &["timeline", "--thing", "cam-lobby-017"]);
    let case: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "case")
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(case.len(), 4, "{tl}");
    assert!(case.iter().any(|w| w.contains("Second line")));

    // Bad input: refused by name, nothing recorded.
    let refused = |args: &[&str], code: i32, says: &str| {
        let out = ddesk(&db).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(
        &[
            "case",
            "set",
            "--thing",
            "cam-lobby-017",
            "--state",
            "resolved",
        ],
        2,
        "resolved",
    );
    refused(
        &[
            "case",
            "note",
            "--thing",
            "cam-lobby-017",
            "--text",
            "bell\u{7}",
        ],
        2,
        "control characters",
    );
    let long = "x".repeat(4001);
    refused(
        &["case", "note", "--thing", "cam-lobby-017", "--text", &long],
        2,
        "longer than 4000",
    );
    refused(&["case", "show", "--thing", "no-such-thing"], 1, "no thing");
    refused(&["case", "show"], 2, "--thing");
    let after = json_out(&db, &["case", "show", "--thing", "cam-lobby-017"]);
    assert_eq!(after["notes"].as_array().unwrap().len(), 1);
}

/// `ddesk watch` headless: one JSON line per change after each round, here data that another
/// process writes between two rounds (no source configured: the cache is looked at each
/// interval); a round line says when each source syncs next. Bad arguments exit 2.
#[test]
fn watch_prints_one_line_per_change_between_rounds() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    json_out(&db, &["things"]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ddesk"))
        .env_remove("DDESK_DB")
        .args([
            "--db",
            db.to_str().unwrap(),
            "watch",
            "--interval",
            "2s",
            "--rounds",
            "2",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (first["kind"].as_str(), first["round"].as_u64()),
        (Some("round"), Some(1)),
        "{first}"
    );
    // Between the rounds another process adds an alarm and an audit finding.
    for f in [
        "api-list-active-violations.json",
        "api-list-audit-findings.json",
    ] {
        let out = ddesk(&db)
            .args(["ingest", fixture(f).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success());
    let kinds: Vec<&str> = rest.iter().map(|v| v["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"round"), "{rest:?}");
    let alarm = rest
        .iter()
        .find(|v| v["kind"] == "alarm_started")
        .unwrap_or_else(|| panic!("{rest:?}"));
    assert_eq!(alarm["thing"], "cam-0042");
    assert_eq!(alarm["id"], "174db59167fa474c80a652ad1583fd44");
    assert!(alarm["at"].as_str().unwrap().ends_with('Z'));
    let finding = rest.iter().find(|v| v["kind"] == "finding").unwrap();
    assert_eq!(finding["severity"], "MEDIUM", "{finding}");

    for (args, says) in [
        (vec!["watch", "--interval", "500ms"], "duration"),
        (vec!["watch", "--interval", "0s"], "more than zero"),
        (vec!["watch", "--threshold", "400"], "0 to 100"),
        (vec!["watch", "--source", "nope"], "no source named"),
    ] {
        let out = ddesk(&db).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }
}

/// `ddesk upgrade`, `stats`, `compact` and `series` over a cache the previous version wrote
/// (`scripts/make_upgrade_fixture.sh`): the fields SOAR playbooks read.
#[test]
fn stats_upgrade_and_compact_on_a_cache_from_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    std::fs::copy(fixture("caches/schema14-f2.sqlite"), &db).unwrap();
    let before = json_out(&db, &["stats"]);
    assert_eq!(before["upgrade_pending"], true);
    let points = before["points"].as_u64().unwrap();
    assert!(points > 10_000, "{before}");
    assert!(before["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "chunk"));
    // The export fixtures' points are of June 2024, the demo's of October 2026.
    assert!(
        before["oldest"].as_str().unwrap().starts_with("2024-06-"),
        "{before}"
    );
    assert!(
        before["newest"].as_str().unwrap().starts_with("2026-1"),
        "{before}"
    );

    let up = json_out(&db, &["upgrade"]);
    assert!(up["rewritten"].as_u64().unwrap() > 50, "{up}");
    assert_eq!(
        json_out(&db, &["upgrade"])["rewritten"],
        0,
        "nothing left the second time"
    );
    let after = json_out(&db, &["stats"]);
    assert_eq!(after["upgrade_pending"], false);
    assert_eq!(after["points"], before["points"]);
    assert!(after["timelines"].as_u64().unwrap() > 0);
    // The blobs shrink (on a cache this small the file is its empty tables' pages).
    let blobs = |s: &Value| {
        s["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["chunk_bytes"].as_u64().unwrap())
            .sum::<u64>()
            + s["timeline_bytes"].as_u64().unwrap()
    };
    assert!(
        blobs(&after) * 3 < blobs(&before) * 2,
        "{before} -> {after}"
    );

    // Keeping ten years raw compacts nothing; keeping one day compacts every day.
    let none = json_out(&db, &["compact", "--keep-raw", "3650d"]);
    assert_eq!(none["days"], 0);
    let all = json_out(&db, &["compact", "--keep-raw", "1d"]);
    assert!(all["days"].as_u64().unwrap() > 50, "{all}");
    assert_eq!(all["points"].as_u64().unwrap(), points);
    let stats = json_out(&db, &["stats"]);
    assert_eq!(stats["points"], 0);
    assert_eq!(stats["compacted_points"].as_u64().unwrap(), points);
    let things = json_out(&db, &["things"]);
    let thing = things[0]["name"].as_str().unwrap();
    let metric = things[0]["metrics"][0].as_str().unwrap();
    let series = json_out(
        &db,
        &[
            "series",
            "--thing",
            thing,
            "--metric",
            metric,
            "--from",
            "2020-01-01T00:00:00Z",
            "--to",
            "2026-11-02T00:00:00Z",
        ],
    );
    let rows = series.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["compacted"] == true), "{series}");
    // A chart says up to when it shows hourly means.
    let svg = dir.path().join("c.svg");
    let chart = json_out(
        &db,
        &[
            "chart",
            "--thing",
            thing,
            "--metric",
            metric,
            "--out",
            svg.to_str().unwrap(),
            "--from",
            "2020-01-01T00:00:00Z",
            "--to",
            "2026-11-02T00:00:00Z",
        ],
    );
    assert!(chart["compacted_until"].as_str().is_some(), "{chart}");
    let bad = ddesk(&db)
        .args(["compact", "--keep-raw", "soon"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// `ddesk things assign`: things of unknown account get the stated one; without --account it
/// is a usage error.
#[test]
fn things_of_unknown_account_are_assigned_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    json_out(
        &db,
        &["ingest", fixture("export-batch.json").to_str().unwrap()],
    );
    let bare = ddesk(&db).args(["things", "assign"]).output().unwrap();
    assert_eq!(bare.status.code(), Some(2));
    let done = json_out(&db, &["--account", "123456789012", "things", "assign"]);
    assert!(done["assigned"].as_u64().unwrap() >= 1, "{done}");
    assert_eq!(done["account"], "123456789012");
    let things = json_out(&db, &["things"]);
    assert!(
        things
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["account"] == "123456789012"),
        "{things}"
    );
}
