//! Every document kind and trap of `shared/research/aws-device-defender.md`, from fixtures.

use crate::common;

use common::{bytes, dump, fixture, ingest};
use desk_engine::model::parse::{parse_bytes, Context};
use desk_engine::model::{DocKind, MetricValue};
use desk_engine::store::Store;

fn ctx() -> Context {
    Context::default()
}

fn all_points(store: &Store, thing: &str, metric: &str) -> Vec<(i64, MetricValue)> {
    store
        .series(thing, metric, None, i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|p| (p.ts, p.value))
        .collect()
}

#[test]
fn export_batch_every_value_kind_and_dimension() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(&mut s, &["export-batch.json"], &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.documents[&DocKind::MetricsExport], 1);
    assert_eq!(r.datapoints, 6);
    assert_eq!(
        all_points(&s, "cam-0042", "aws:listening-tcp-ports"),
        vec![(
            1_717_430_700_000,
            MetricValue::Ports(vec![22, 80, 443, 2323])
        )]
    );
    assert_eq!(
        all_points(&s, "cam-0042", "batteryPercentage"),
        vec![(1_717_430_700_000, MetricValue::Number(81.5))]
    );
    let dim = s
        .series(
            "cam-0042",
            "aws:num-messages-sent",
            Some("TelemetryTopics:IN"),
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(dim.len(), 1);
    assert_eq!(dim[0].value, MetricValue::Count(37));
    assert_eq!(dim[0].dimension.as_deref(), Some("TelemetryTopics:IN"));
}

#[test]
fn export_timestamps_in_seconds_are_detected() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(&mut s, &["export-seconds.json"], &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.documents[&DocKind::MetricsExport], 2);
    assert_eq!(
        all_points(&s, "gw-7", "fwModules"),
        vec![(
            1_717_430_700_000,
            MetricValue::Strings(vec!["core-1.2".into(), "ota-3.0".into()])
        )]
    );
    assert_eq!(
        all_points(&s, "gw-7", "tempReadings"),
        vec![(
            1_717_430_700_000,
            MetricValue::Numbers(vec![21.5, 22.0, 23.25])
        )]
    );
    assert_eq!(all_points(&s, "gw-7", "aws:listening-tcp-ports").len(), 3);
}

#[test]
fn highest_version_wins_within_and_across_files_in_any_order() {
    let forward = {
        let mut s = Store::open_in_memory().unwrap();
        ingest(&mut s, &["export-duplicates-v1.json"], &ctx());
        ingest(&mut s, &["export-duplicates-v2.json"], &ctx());
        s
    };
    let backward = {
        let mut s = Store::open_in_memory().unwrap();
        ingest(&mut s, &["export-duplicates-v2.json"], &ctx());
        ingest(&mut s, &["export-duplicates-v1.json"], &ctx());
        s
    };
    let expected = vec![
        (1_717_430_700_000, MetricValue::Count(200)),
        (1_717_431_000_000, MetricValue::Count(300)),
    ];
    assert_eq!(all_points(&forward, "dup-1", "aws:all-bytes-out"), expected);
    assert_eq!(
        all_points(&backward, "dup-1", "aws:all-bytes-out"),
        expected
    );
    assert_eq!(dump(&forward), dump(&backward));
}

#[test]
fn ingesting_the_same_data_again_changes_nothing() {
    let names = [
        "export-batch.json",
        "export-seconds.json",
        "sns-alert-in-alarm.json",
        "sns-envelope-alarm-cleared.json",
        "audit-notification.json",
        "api-list-audit-findings.json",
        "api-describe-security-profile.json",
        "api-list-active-violations.json",
    ];
    let mut s = Store::open_in_memory().unwrap();
    let first = ingest(&mut s, &names, &ctx());
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let before = dump(&s);
    let again = ingest(&mut s, &names, &ctx());
    assert!(again.rejected.is_empty());
    assert_eq!(dump(&s), before);
}

#[test]
fn single_metric_entries_run_together() {
    let b = parse_bytes(&bytes("metric-entries-runtogether.json"), &ctx()).unwrap();
    assert_eq!(b.documents[&DocKind::MetricEntry], 2);
    assert_eq!(b.points[1].value, MetricValue::Count(951));
}

#[test]
fn device_reports_long_and_short_keys() {
    let long = parse_bytes(
        &bytes("device-report-long.json"),
        &Context {
            thing: Some("cam-long".into()),
            ..ctx()
        },
    )
    .unwrap();
    let get = |b: &desk_engine::model::Batch, m: &str| {
        b.points
            .iter()
            .find(|p| p.metric == m)
            .map(|p| p.value.clone())
    };
    assert_eq!(long.points[0].thing, "cam-long");
    assert_eq!(long.points[0].ts, 1_717_430_700_000, "report_id in seconds");
    assert_eq!(
        get(&long, "aws:listening-tcp-ports"),
        Some(MetricValue::Ports(vec![22, 2323]))
    );
    assert_eq!(
        get(&long, "aws:num-listening-udp-ports"),
        Some(MetricValue::Count(1))
    );
    assert_eq!(
        get(&long, "aws:all-bytes-out"),
        Some(MetricValue::Count(1_048_576))
    );
    assert_eq!(
        get(&long, "aws:destination-ip-addresses"),
        Some(MetricValue::Cidrs(vec![
            "203.0.113.7/32".into(),
            "2001:db8::1/128".into()
        ]))
    );
    assert_eq!(
        get(&long, "batteryPercentage"),
        Some(MetricValue::Number(81.5))
    );
    assert_eq!(
        get(&long, "peers"),
        Some(MetricValue::Cidrs(vec!["10.0.0.1".into()]))
    );
    assert_eq!(
        get(&long, "temps"),
        Some(MetricValue::Numbers(vec![1.0, 2.0]))
    );

    // The short form names its thing through the topic an IoT rule added; report_id in ms.
    let short = parse_bytes(&bytes("device-report-short.json"), &ctx()).unwrap();
    assert_eq!(short.points[0].thing, "cam-short");
    assert_eq!(short.points[0].ts, 1_717_430_700_123);
    assert_eq!(
        get(&short, "aws:all-packets-out"),
        Some(MetricValue::Count(950))
    );

    let no_thing = parse_bytes(&bytes("device-report-long.json"), &ctx()).unwrap_err();
    assert!(no_thing.message.contains("--thing"), "{no_thing}");
    // AWS rejects a custom `number` that is not wrapped in an array; so do we.
    assert!(parse_bytes(
        &bytes("device-report-bare-number.json"),
        &Context {
            thing: Some("x".into()),
            ..ctx()
        }
    )
    .is_err());
}

#[test]
fn detect_alerts_bare_enveloped_and_lambda_fold_into_violations() {
    let mut s = Store::open_in_memory().unwrap();
    // Arrival order reversed on purpose: the clear comes first.
    let r = ingest(
        &mut s,
        &[
            "sns-envelope-alarm-cleared.json",
            "sns-alert-in-alarm.json",
            "sns-lambda-alarm-invalidated.json",
        ],
        &ctx(),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.documents[&DocKind::DetectAlert], 3);
    let v = s.violations(Some("dev-IZWB"), false).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].started,
        Some(1_573_786_800_000),
        "SNS times are epoch ms"
    );
    assert_eq!(v[0].ended, Some(1_573_790_400_000));
    assert_eq!(v[0].last_event.as_deref(), Some("alarm-cleared"));
    assert_eq!(v[0].last_value, Some(serde_json::json!({"count": 3})));
    assert_eq!(v[0].metric.as_deref(), Some("aws:num-messages-sent"));
    assert!(s.violations(Some("dev-IZWB"), true).unwrap().is_empty());
    let inv = s.violations(Some("tracker-9"), false).unwrap();
    assert_eq!(inv[0].ended, Some(1_542_682_416_515));
    assert_eq!(
        inv[0].verification_state.map(|v| v.as_str()),
        Some("BENIGN_POSITIVE")
    );
}

#[test]
fn rest_violation_responses_use_epoch_seconds() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &[
            "api-list-violation-events.json",
            "api-list-active-violations.json",
        ],
        &ctx(),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let v = s.violations(None, true).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].started, Some(1_717_430_700_000));
    assert_eq!(v[0].last_value, Some(serde_json::json!({"count": 14})));
    assert_eq!(v[0].verification_state.map(|v| v.as_str()), Some("UNKNOWN"));
    assert_eq!(v[0].last_event.as_deref(), Some("in-alarm"));
}

#[test]
fn audits_notifications_items_and_rest_responses() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &[
            "audit-notification.json",
            "audit-notification-sns.json",
            "splunk-audit-check-item.json",
            "api-list-audit-tasks.json",
        ],
        &ctx(),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let expiring = s.audits(Some("DEVICE_CERTIFICATE_EXPIRING_CHECK")).unwrap();
    assert_eq!(expiring.len(), 2);
    assert_eq!(
        expiring[0].task_start,
        Some(1_717_484_400_000),
        "newest task first, ms"
    );
    assert_eq!(expiring[1].non_compliant, Some(2));
    assert_eq!(expiring[1].total, Some(195));
    let lone = s
        .audits(Some("IOT_POLICY_OVERLY_PERMISSIVE_CHECK"))
        .unwrap();
    assert_eq!(lone.len(), 1);
    assert_eq!(lone[0].task_id, "untasked");
    assert_eq!(lone[0].non_compliant, Some(1));

    let d = parse_bytes(&bytes("api-describe-audit-task.json"), &ctx()).unwrap_err();
    assert!(d.message.contains("--task-id"), "{d}");
    let mut s2 = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s2,
        &["api-describe-audit-task.json"],
        &Context {
            task_id: Some("t-1".into()),
            ..ctx()
        },
    );
    assert!(r.rejected.is_empty());
    let a = s2.audits(None).unwrap();
    assert_eq!(a[0].task_id, "t-1");
    assert_eq!(a[0].task_start, Some(1_596_168_096_157));
    assert_eq!(a[0].suppressed, Some(1));
}

#[test]
fn findings_carry_severity_resource_reason_and_suppression() {
    let mut s = Store::open_in_memory().unwrap();
    ingest(&mut s, &["api-list-audit-findings.json"], &ctx());
    let f = s.findings(None, None).unwrap();
    assert_eq!(f.len(), 2);
    let cert = s
        .findings(Some("DEVICE_CERTIFICATE_EXPIRING_CHECK"), None)
        .unwrap();
    assert_eq!(
        cert[0].resource,
        "b4490bbe1d4c1c7bd0b1d1cfc8a8d59f6f8fd2a04d4d0a6e5b8d1ff3b4e7a9c1"
    );
    assert_eq!(cert[0].severity.map(|v| v.as_str()), Some("MEDIUM"));
    assert_eq!(cert[0].found, Some(1_596_168_096_651));
    let policy = s.findings(None, Some("AllowAll:3")).unwrap();
    assert_eq!(policy.len(), 1);
    assert!(policy[0].suppressed);
}

#[test]
fn security_profiles_become_thresholds() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &[
            "api-list-security-profiles.json",
            "api-describe-security-profile.json",
        ],
        &ctx(),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let t = s.thresholds(Some("aws:all-bytes-out")).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].operator.as_deref(), Some("greater-than"));
    assert_eq!(t[0].value, Some(serde_json::json!({"count": 50_000_000})));
    assert_eq!(t[1].statistic.as_deref(), Some("p90"));
    let ports = s.thresholds(Some("aws:listening-tcp-ports")).unwrap();
    assert_eq!(
        ports[0].value,
        Some(serde_json::json!({"ports": [22, 443]}))
    );
    let dim = s.thresholds(Some("aws:num-messages-sent")).unwrap();
    assert_eq!(dim[0].dimension.as_deref(), Some("TelemetryTopics:NOT_IN"));
}

#[test]
fn list_metric_values_need_a_thing_and_metric() {
    let err = parse_bytes(&bytes("api-list-metric-values.json"), &ctx()).unwrap_err();
    assert!(err.message.contains("--thing"), "{err}");
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &["api-list-metric-values.json"],
        &Context {
            thing: Some("cam-0042".into()),
            metric: Some("aws:num-authorization-failures".into()),
            ..ctx()
        },
    );
    assert!(r.rejected.is_empty());
    assert_eq!(
        all_points(&s, "cam-0042", "aws:num-authorization-failures"),
        vec![
            (1_717_430_700_000, MetricValue::Count(3)),
            (1_717_431_000_000, MetricValue::Count(4))
        ]
    );
}

/// A Lambda transform's failure record keeps the only copy of its metrics in `rawData`: read.
#[test]
fn firehose_failures_are_recovered() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(&mut s, &["firehose-processing-failed.json"], &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.skipped, 0);
    assert_eq!(r.recovered.get("processing-failed"), Some(&1));
    assert_eq!(
        all_points(&s, "cam-0042", "aws:all-bytes-out"),
        vec![(1_717_430_640_000, MetricValue::Count(4096))]
    );
}

/// A file none of whose records can be read stores nothing and is named; a file cut off
/// mid-record keeps the records before the cut and names the cut one; the rest is kept.
#[test]
fn a_bad_file_stores_nothing_and_the_rest_is_kept() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &["truncated.json", "unknown-kind.json", "export-batch.json"],
        &ctx(),
    );
    assert_eq!(r.files, 2);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected_records_total, 1);
    assert!(
        r.rejected_records[0].path.ends_with("truncated.json")
            && r.rejected_records[0].error.contains("truncated"),
        "{:?}",
        r.rejected_records
    );
    assert!(
        s.has_thing("cam-9").unwrap(),
        "the record before the cut is kept"
    );
    let unknown = r
        .rejected
        .iter()
        .find(|x| x.path.ends_with("unknown-kind.json"))
        .unwrap();
    assert!(unknown.error.contains("no known kind"), "{}", unknown.error);
    assert!(
        unknown.error.contains("metrics-export batch"),
        "says what was expected"
    );
    assert!(s.has_thing("cam-0042").unwrap());
}

#[test]
fn hostile_strings_round_trip_exactly_and_never_alias() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(&mut s, &["hostile-names.json"], &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    for h in [
        "<script>alert(1)</script>",
        "\"; DROP TABLE thing; --",
        "cam\u{0}nul",
        "\u{1b}[31mred\u{1b}[0m",
        "名前-🔥",
    ] {
        assert!(s.has_thing(h).unwrap(), "{h:?}");
        assert_eq!(
            all_points(&s, h, "appNames")[0].1,
            MetricValue::Strings(vec![h.to_string(), "<img src=x onerror=alert(1)>".into()])
        );
    }
    assert_eq!(all_points(&s, "a", "b\u{1f}c")[0].1, MetricValue::Count(1));
    // A thing named with U+001F (the cache's key separator) is refused where it is read:
    // `store::scope`'s tests.
}

#[test]
fn gzip_multi_member_folder_ingest() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("2024/06/03/16");
    std::fs::create_dir_all(&sub).unwrap();
    let mut gz = Vec::new();
    for part in [
        bytes("export-batch.json"),
        bytes("metric-entries-runtogether.json"),
    ] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    std::fs::write(sub.join("dd-export-1-2024-06-03-16-05-00-abc.gz"), &gz).unwrap();
    std::fs::write(dir.path().join(".hidden"), b"not a document").unwrap();
    let mut s = Store::open_in_memory().unwrap();
    let r = desk_engine::ingest::ingest_paths(&mut s, &[dir.path().to_path_buf()], &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.datapoints, 8);
    assert_eq!(all_points(&s, "cam-0042", "aws:all-packets-out").len(), 2);
    let missing =
        desk_engine::ingest::ingest_paths(&mut s, &[fixture("does-not-exist.json")], &ctx());
    assert_eq!(missing.rejected.len(), 1);
}

/// Documents the real Agent SDK made (`scripts/real_corpus.py`): JSON and CBOR, long and short
/// names, read to the same points — with its unbracketed IPv6 `remote_addr` read right.
#[test]
fn agent_sdk_reports_in_json_and_cbor_read_alike() {
    let real = |name: &str| {
        std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/real")
                .join(name),
        )
        .unwrap()
    };
    let ctx = Context {
        thing: Some("agent-1".into()),
        ..ctx()
    };
    let mut all = Vec::new();
    for name in [
        "agent-sdk-report-long.json",
        "agent-sdk-report-long.cbor",
        "agent-sdk-report-short.json",
        "agent-sdk-report-short.cbor",
    ] {
        let batch = parse_bytes(&real(name), &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut points: Vec<(String, i64, MetricValue)> = batch
            .points
            .into_iter()
            .map(|p| (p.metric, p.ts, p.value))
            .collect();
        points.sort_by(|a, b| a.0.cmp(&b.0));
        all.push((name, points));
    }
    let (_, first) = &all[0];
    for (name, points) in &all[1..] {
        assert_eq!(points, first, "{name} reads as the long JSON does");
    }
    let get = |m: &str| first.iter().find(|p| p.0 == m).map(|p| p.2.clone());
    assert!(
        first.iter().all(|p| p.1 == 1_717_430_700_000),
        "report_id in seconds"
    );
    assert_eq!(
        get("aws:listening-tcp-ports"),
        Some(MetricValue::Ports(vec![22, 21]))
    );
    assert_eq!(get("aws:all-bytes-out"), Some(MetricValue::Count(20_000)));
    assert_eq!(
        get("aws:destination-ip-addresses"),
        Some(MetricValue::Cidrs(vec![
            "203.0.113.7/32".into(),
            "2001:db8::10/128".into()
        ])),
        "the last :N of an unbracketed IPv6 remote_addr is the port"
    );
    assert_eq!(get("cpu_usage"), Some(MetricValue::Number(12.5)));
    // The second sample's network stats are the SDK's deltas.
    let second = parse_bytes(&real("agent-sdk-report-long-second.json"), &ctx).unwrap();
    let bytes_out = second
        .points
        .iter()
        .find(|p| p.metric == "aws:all-bytes-out")
        .unwrap();
    assert_eq!(
        (bytes_out.ts, &bytes_out.value),
        (1_717_431_000_000, &MetricValue::Count(5_000))
    );
    // Garbage after a CBOR map's first byte is a clear refusal, not a panic.
    let e = parse_bytes(&[0xa3, 0x63, 0x68], &ctx).unwrap_err();
    assert!(e.message.contains("CBOR"), "{e}");
}

#[test]
fn violation_events_one_per_line_keep_their_seconds() {
    // Regression: `jq -c '.violationEvents[]'` lines (epoch seconds) were read as SNS alerts
    // (milliseconds) and dated 1970; mixed with the response itself they added 1970 duplicates.
    let response: serde_json::Value =
        serde_json::from_slice(&bytes("api-list-violation-events.json")).unwrap();
    let lines: String = response["violationEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}\n", serde_json::to_string(e).unwrap()))
        .collect();
    let per_line = parse_bytes(lines.as_bytes(), &ctx()).unwrap();
    let whole = parse_bytes(&bytes("api-list-violation-events.json"), &ctx()).unwrap();
    let times = |b: &desk_engine::model::Batch| -> Vec<i64> {
        b.violation_events.iter().map(|e| e.time).collect()
    };
    assert_eq!(times(&per_line), vec![1_717_430_700_000]);
    assert_eq!(times(&per_line), times(&whole));
    let mut s = Store::open_in_memory().unwrap();
    s.write_batch(&whole).unwrap();
    s.write_batch(&per_line).unwrap();
    let events = s.violation_events("cam-0042").unwrap();
    assert_eq!(events.len(), 1, "the same event, once");
}

fn parsed(text: &str, ctx: &Context) -> desk_engine::model::Batch {
    parse_bytes(text.as_bytes(), ctx).unwrap_or_else(|e| panic!("{e}"))
}

const ENTRY: &str =
    r#"{"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":7},"timestamp":1764536400}"#;

/// A Splunk search export in JSON (`output_mode=json`): rows carry `_raw` and `_time`;
/// preview rows are skipped; `{results: [...]}` reads alike.
#[test]
fn splunk_json_export_rows_are_read_with_their_time() {
    let raw = serde_json::to_string(ENTRY).unwrap();
    let line = format!(
        r#"{{"preview":false,"offset":0,"result":{{"_raw":{raw},"_time":"2025-11-30T21:00:00.000+00:00"}}}}
{{"preview":true,"offset":0,"result":{{"_raw":{raw},"_time":"2025-11-30T21:00:00.000+00:00"}}}}"#
    );
    let b = parsed(&line, &ctx());
    assert_eq!(b.points.len(), 1);
    assert_eq!(b.points[0].ts, 1_764_536_400_000);
    assert_eq!(b.documents[&DocKind::SplunkExport], 2);
    let results = format!(
        r#"{{"fields":[{{"name":"_raw"}}],"results":[{{"_raw":{raw},"_time":"1764536400.000"}},{{"_raw":{raw}}}]}}"#
    );
    assert_eq!(parsed(&results, &ctx()).points.len(), 2);
    // A row without _raw is refused by name.
    let e = parse_bytes(br#"{"result":{"thing":"cam-1"}}"#, &ctx()).unwrap_err();
    assert!(e.message.contains("_raw"), "{e}");
}

/// The AWS Splunk sample's HEC payloads, run together; `time` (epoch seconds) dates a lone
/// audit-check item, which has no time of its own.
#[test]
fn hec_payloads_run_together_are_read() {
    let check = r#"{"checkName":"CONFLICTING_CLIENT_IDS_CHECK","checkRunStatus":"COMPLETED_NON_COMPLIANT","nonCompliantResourcesCount":1,"totalResourcesCount":9}"#;
    let text = format!(
        r#"{{"sourcetype":"aws-iot-device-defender","event":{ENTRY}}}{{"time":1764536400.5,"sourcetype":"aws-iot-device-defender","event":{check}}}{{"host":"firehose","event":{}}}"#,
        serde_json::to_string(ENTRY).unwrap()
    );
    let b = parsed(&text, &ctx());
    assert_eq!(b.points.len(), 2);
    assert_eq!(b.documents[&DocKind::HecEvent], 3);
    assert_eq!(b.audit_checks[0].task_start, Some(1_764_536_400_500));
    assert_eq!(
        b.audit_checks[0].task_id,
        "untasked@2025-11-30T21:00:00.500Z"
    );
}

/// Firehose's backup of what never reached Splunk: `rawData` is the only copy; it is decoded
/// and read. A processing-failed record stays counted only.
#[test]
fn firehose_splunk_backup_records_are_decoded_and_read() {
    use base64::Engine as _;
    let sent = format!(r#"{{"event":{ENTRY}}}{{"event":{ENTRY}}}"#)
        .replace("cam-1\"", "cam-2\"")
        .replacen("cam-2\"", "cam-1\"", 1);
    let data = base64::engine::general_purpose::STANDARD.encode(sent);
    let text = format!(
        r#"{{"attemptsMade":4,"arrivalTimestamp":1764536460000,"errorCode":"Splunk.ProxyWithoutStickySessions","errorMessage":"If you have a proxy","attemptEndingTimestamp":1764536700000,"rawData":"{data}","EventId":"49577193928114147339600778471082492393164139877200035842.0"}}"#
    );
    let b = parsed(&text, &ctx());
    let things: Vec<&str> = b.points.iter().map(|p| p.thing.as_str()).collect();
    assert_eq!(things, vec!["cam-1", "cam-2"]);
    assert_eq!(b.documents[&DocKind::FirehoseSplunkBackup], 1);
    let bad = r#"{"errorCode":"Splunk.AckTimeout","rawData":"not base64!","EventId":"1"}"#;
    assert!(parse_bytes(bad.as_bytes(), &ctx())
        .unwrap_err()
        .message
        .contains("base64"));
}

/// Lone audit-check items (Splunk): each audit run is its own task, a new one starting where
/// a check repeats; without times two runs are refused, asking for --task-id.
#[test]
fn splunk_audit_runs_are_kept_apart() {
    let item = |check: &str| {
        format!(
            r#"{{"checkName":"{check}","checkRunStatus":"COMPLETED_COMPLIANT","nonCompliantResourcesCount":0,"totalResourcesCount":3}}"#
        )
    };
    let hec = |t: f64, check: &str| format!(r#"{{"time":{t},"event":{}}}"#, item(check));
    let two_runs = [
        hec(1_764_536_400.0, "A_CHECK"),
        hec(1_764_536_401.0, "B_CHECK"),
        hec(1_764_622_800.0, "A_CHECK"),
        hec(1_764_622_801.0, "B_CHECK"),
    ]
    .concat();
    let b = parsed(&two_runs, &ctx());
    let tasks: Vec<&str> = b.audit_checks.iter().map(|c| c.task_id.as_str()).collect();
    assert_eq!(
        tasks,
        vec![
            "untasked@2025-11-30T21:00:00.000Z",
            "untasked@2025-11-30T21:00:00.000Z",
            "untasked@2025-12-01T21:00:00.000Z",
            "untasked@2025-12-01T21:00:00.000Z"
        ]
    );
    let mut s = Store::open_in_memory().unwrap();
    let r = desk_engine::ingest::ingest_bytes(&mut s, "runs.json", two_runs.as_bytes(), &ctx());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(
        s.audits(None).unwrap().len(),
        4,
        "the first run is not overwritten"
    );
    let untimed = [item("A_CHECK"), item("B_CHECK"), item("A_CHECK")].concat();
    let e = parse_bytes(untimed.as_bytes(), &ctx()).unwrap_err();
    assert!(e.message.contains("--task-id"), "{e}");
    let one = [item("A_CHECK"), item("B_CHECK")].concat();
    assert_eq!(parsed(&one, &ctx()).audit_checks[1].task_id, "untasked");
}

/// `aws ... --query` output: top-level arrays of any list's elements.
#[test]
fn top_level_arrays_of_list_elements_are_read() {
    let findings =
        std::fs::read_to_string(fixture("real/cli/list-audit-findings-wire.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&findings).unwrap();
    let arr = v["findings"].to_string();
    let b = parsed(&arr, &ctx());
    assert_eq!(b.findings.len(), 2);
    assert_eq!(b.documents[&DocKind::Array], 1);
    let datums = r#"[{"timestamp":1764539400.0,"value":{"count":5}}]"#;
    let c = Context {
        thing: Some("cam-1".into()),
        metric: Some("aws:num-messages-sent".into()),
        ..ctx()
    };
    assert_eq!(parsed(datums, &c).points[0].ts, 1_764_539_400_000);
    assert!(parse_bytes(datums.as_bytes(), &ctx()).is_err());
    assert!(parse_bytes(b"[]", &ctx()).unwrap().points.is_empty());
}
