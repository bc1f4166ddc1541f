//! Data truth, round 3 (#28): report ids that are a monotonic clock, Firehose's error outputs,
//! Splunk results in every output mode, and refusals that name what a file is — each asserted
//! on what the cache holds.

use crate::common;

use common::{bytes, dump, ingest};
use desk_engine::ingest::ingest_bytes;
use desk_engine::model::parse::{Arrival, Context};
use desk_engine::model::MetricValue;
use desk_engine::store::Store;
use desk_engine::time;

/// A report as aws-c-iot writes it (`aws_iotdevice_defender_...`'s JSON report: `header`
/// with `report_id` from `aws_event_loop_current_clock_time()` in milliseconds since boot and
/// `version` "1.0"; `metrics` with `listening_tcp_ports`, `network_stats`,
/// `tcp_connections.established_connections`), rendered from its source's `s_get_metric_report_json`.
fn aws_c_iot_report(report_id: i64) -> String {
    serde_json::json!({
        "header": {"report_id": report_id, "version": "1.0"},
        "metrics": {
            "listening_tcp_ports": {"ports": [{"port": 8883, "interface": "eth0"}], "total": 1},
            "listening_udp_ports": {"ports": [], "total": 0},
            "network_stats": {"bytes_in": 2000, "bytes_out": 5000, "packets_in": 20, "packets_out": 50},
            "tcp_connections": {"established_connections": {
                "connections": [{"local_interface": "eth0", "local_port": 50000, "remote_addr": "203.0.113.9:8883"}],
                "total": 1}}
        }
    })
    .to_string()
}

fn points_of(s: &Store, thing: &str, metric: &str) -> Vec<(i64, MetricValue)> {
    s.series(thing, metric, None, i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|p| (p.ts, p.value))
        .collect()
}

/// 19 days of uptime in milliseconds reads as an epoch-seconds time in January 2022: with the
/// arrival known (`--observed`), the arrival wins and the notes name the report and both times.
#[test]
fn an_uptime_report_id_is_dated_by_the_time_the_context_knows() {
    let uptime_ms: i64 = 19 * 86_400_000 + 12_345; // 1_641_612_345: 2022-01-08 as seconds
    let observed = time::now() - 3_600_000;
    let ctx = Context {
        thing: Some("dev-1".into()),
        observed: Some(observed),
        ..Context::now()
    };
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(
        &mut s,
        "r.json",
        aws_c_iot_report(uptime_ms).as_bytes(),
        &ctx,
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let pts = points_of(&s, "dev-1", "aws:all-bytes-out");
    assert_eq!(pts, vec![(observed, MetricValue::Count(5000))]);
    let note = r.notes.join("\n");
    assert!(note.contains("report 1641612345 of dev-1"), "{note}");
    assert!(note.contains("2022-01-08"), "{note}");
    assert!(note.contains(&time::to_rfc3339(observed)), "{note}");
}

/// The same from the Firehose object's name (its delivery time) and from S3-like arrival
/// context, and a real epoch report_id that agrees with its arrival is kept as it is.
#[test]
fn arrival_from_the_object_name_dates_reports_and_an_agreeing_epoch_id_is_kept() {
    let arrival = Arrival::from_name(
        "exports/2026/12/05/07/dd-stream-1-2026-12-05-07-00-07-1b2c3d4e-aaaa.gz",
    )
    .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T07:00:07Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!((arrival.earliest, arrival.latest), (at, at));
    let hour = Arrival::from_name("bucket/2026/12/05/07/object-without-time").unwrap();
    assert_eq!(hour.earliest, at - 7_000);
    assert_eq!(hour.latest, at - 7_000 + 3_600_000 - 1);
    assert!(Arrival::from_name("reports/today.json").is_none());

    let ctx = Context {
        thing: Some("dev-1".into()),
        arrival: Some(arrival),
        not_after: None,
        ..Context::default()
    };
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(
        &mut s,
        "a",
        aws_c_iot_report(1_641_612_345).as_bytes(),
        &ctx,
    );
    assert_eq!(points_of(&s, "dev-1", "aws:all-bytes-out")[0].0, at);
    assert!(
        r.notes[0].contains("S3") || r.notes[0].contains("Firehose"),
        "{:?}",
        r.notes
    );
    // An epoch-seconds report id five minutes before its arrival: the device's own time.
    let mut s = Store::open_in_memory().unwrap();
    let epoch = at / 1000 - 300;
    let r = ingest_bytes(&mut s, "b", aws_c_iot_report(epoch).as_bytes(), &ctx);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(
        points_of(&s, "dev-1", "aws:all-bytes-out")[0].0,
        epoch * 1000
    );
}

/// With no time in the context, a plausible report id is kept but flagged, never trusted
/// silently; an implausible one is refused with what to do.
#[test]
fn an_unconfirmable_report_id_is_kept_and_flagged() {
    let ctx = Context {
        thing: Some("dev-1".into()),
        ..Context::now()
    };
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(
        &mut s,
        "c",
        aws_c_iot_report(1_641_612_345).as_bytes(),
        &ctx,
    );
    assert!(r.rejected.is_empty());
    assert!(r.notes[0].contains("nothing confirms"), "{:?}", r.notes);
    let r = ingest_bytes(&mut s, "d", aws_c_iot_report(86_400_000).as_bytes(), &ctx);
    assert!(
        r.rejected[0].error.contains("--observed"),
        "{:?}",
        r.rejected
    );
}

/// A file ingested under its Firehose name is dated by it: `ddesk ingest` of a downloaded
/// bucket needs no `--observed`.
#[test]
fn file_ingest_dates_reports_by_the_firehose_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("2026/12/05/07/dd-1-2026-12-05-07-00-07-0f0f.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let rec = serde_json::json!({
        "header": {"report_id": 1_641_612_345i64, "version": "1.0"},
        "metrics": {"network_stats": {"bytes_out": 7}},
        "topic": "$aws/things/dev-9/defender/metrics/json"
    });
    std::fs::write(&path, rec.to_string()).unwrap();
    let mut s = Store::open_in_memory().unwrap();
    let r = desk_engine::ingest::ingest_paths(&mut s, &[dir.path().to_path_buf()], &Context::now());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T07:00:07Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(points_of(&s, "dev-9", "aws:all-bytes-out")[0].0, at);
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Firehose's `processing-failed/` and `format-conversion-failed/` records, as its
/// documentation specifies them: their rawData (the only copy) is read, dated by
/// `arrivalTimestamp`, and the summary says how many were recovered from which kind.
#[test]
fn firehose_error_outputs_are_recovered() {
    let arrival = 1_764_540_000_000i64;
    let export = serde_json::json!({"version": "1.0", "metrics": [
        {"name": "aws:all-bytes-out", "thing": "cam-1", "value": {"count": 10}, "version": 3, "timestamp": arrival - 60_000}
    ]})
    .to_string();
    let report = serde_json::json!({
        "header": {"report_id": 5_000_000, "version": "1.0"},
        "metrics": {"network_stats": {"bytes_out": 99}},
        "topic": "$aws/things/dev-2/defender/metrics/json"
    })
    .to_string();
    let processing = serde_json::json!({
        "attemptsMade": 4, "arrivalTimestamp": arrival, "errorCode": "Lambda.FunctionError",
        "errorMessage": "The Lambda function was successfully invoked but it returned an error result.",
        "attemptEndingTimestamp": arrival + 60_000, "rawData": b64(&export),
        "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST"
    });
    let conversion = serde_json::json!({
        "attemptsMade": 1, "arrivalTimestamp": arrival, "ErrorCode": "DataFormatConversion.MalformedData",
        "ErrorMessage": "The input record could not be parsed.", "attemptEndingTimestamp": arrival + 1_000,
        "rawData": b64(&report), "sequenceNumber": "4959", "subSequenceNumber": 0,
        "dataCatalogTable": {"catalogId": null, "databaseName": "defender", "tableName": "reports",
                              "region": "us-east-1", "versionId": "LATEST", "catalogArn": null}
    });
    let file = format!("{processing}\n{conversion}\n");
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "errors", file.as_bytes(), &Context::now());
    assert!(
        r.rejected.is_empty() && r.rejected_records.is_empty(),
        "{r:?}"
    );
    assert_eq!(r.recovered.get("processing-failed"), Some(&1));
    assert_eq!(r.recovered.get("format-conversion-failed"), Some(&1));
    assert_eq!(
        points_of(&s, "cam-1", "aws:all-bytes-out"),
        vec![(arrival - 60_000, MetricValue::Count(10))]
    );
    // The device report's tick-count id takes the record's arrival.
    assert_eq!(
        points_of(&s, "dev-2", "aws:all-bytes-out"),
        vec![(arrival, MetricValue::Count(99))]
    );
    // The repository's fixture is one such record too.
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(
        &mut s,
        &["firehose-processing-failed.json"],
        &Context::now(),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.recovered.get("processing-failed"), Some(&1));
    assert!(r.datapoints > 0);
    // A record whose rawData is not base64 is refused by name, the rest of the file kept.
    let bad = format!(
        "{}\n{processing}\n",
        serde_json::json!({"errorCode": "Lambda.FunctionError", "rawData": "not base64!!", "arrivalTimestamp": arrival})
    );
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "mixed", bad.as_bytes(), &Context::now());
    assert_eq!(r.rejected_records_total, 1);
    assert!(r.rejected_records[0]
        .error
        .contains("processing-failed rawData is not base64"));
    assert_eq!(r.recovered.get("processing-failed"), Some(&1));
}

/// Every Splunk output mode splunk-sdk saves (`scripts/splunk_corpus.py` against the
/// emulator), and Splunk Web's CSV export, hold the same cache as the JSON export.
#[test]
fn splunk_results_in_every_output_mode_hold_the_same_cache() {
    let load = |name: &str| {
        let mut s = Store::open_in_memory().unwrap();
        let r = ingest(&mut s, &[&format!("real/splunk/{name}")], &Context::now());
        assert!(r.rejected.is_empty(), "{name}: {:?}", r.rejected);
        assert_eq!(
            r.rejected_records_total, 0,
            "{name}: {:?}",
            r.rejected_records
        );
        s
    };
    let want = dump(&load("export-output-mode-json.json"));
    assert!(want.len() > 10, "{want:?}");
    for name in [
        "export-output-mode-xml.xml",
        "export-output-mode-csv.csv",
        "export-output-mode-json-rows.json",
        "export-output-mode-json-cols.json",
        "splunk-web-export.csv",
    ] {
        assert_eq!(dump(&load(name)), want, "{name}");
    }
}

/// A bad row of a Splunk CSV or XML file is named by its number; the rest is kept.
#[test]
fn a_bad_splunk_row_is_named_and_the_rest_kept() {
    let csv = "\"_time\",\"_raw\"\n\"2026-12-05T07:00:07.000-05:00\",\"not json\"\n\"2026-12-05T07:00:07.000-05:00\",\"{\"\"name\"\":\"\"aws:all-bytes-out\"\",\"\"thing\"\":\"\"c-1\"\",\"\"value\"\":{\"\"count\"\":1},\"\"timestamp\"\":1764540000000}\"\n";
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "x.csv", csv.as_bytes(), &Context::now());
    assert!(r.rejected.is_empty(), "{r:?}");
    assert_eq!(r.rejected_records_total, 1);
    assert!(
        r.rejected_records[0].error.contains("Splunk CSV row 1"),
        "{r:?}"
    );
    assert_eq!(points_of(&s, "c-1", "aws:all-bytes-out").len(), 1);
    let xml = "<?xml version='1.0'?><results preview='0'><result offset='0'><field k='_raw'><v xml:space='preserve' trunc='0'>{&quot;x&quot;:1}</v></field></result></results>";
    let r = ingest_bytes(&mut s, "x.xml", xml.as_bytes(), &Context::now());
    assert!(
        r.rejected[0].error.contains("Splunk XML result row 1"),
        "{r:?}"
    );
}

/// The AWS shapes an analyst will try are refused by name with what to do instead.
#[test]
fn refusals_name_what_a_file_is() {
    let cases: &[(&str, &str)] = &[
        ("{\"Label\":\"Violations\",\"Datapoints\":[{\"Timestamp\":\"2026-12-05T07:00:00Z\",\"Sum\":3.0,\"Unit\":\"Count\"}]}", "CloudWatch statistics"),
        ("{\"MetricDataResults\":[{\"Id\":\"m1\",\"Label\":\"x\",\"Timestamps\":[],\"Values\":[],\"StatusCode\":\"Complete\"}],\"Messages\":[]}", "CloudWatch metric data"),
        ("{\"things\":[{\"thingName\":\"cam-1\",\"connectivity\":{\"connected\":true,\"timestamp\":1764540000000}}]}", "search-index"),
        ("{\"defaultClientId\":\"cam-1\",\"thingName\":\"cam-1\",\"thingId\":\"id\",\"thingArn\":\"arn:aws:iot:us-east-1:1:thing/cam-1\",\"attributes\":{},\"version\":1}", "describe-thing"),
        ("{\"thingGroups\":[{\"groupName\":\"Cameras\",\"groupArn\":\"arn\"}]}", "list-thing-groups-for-thing"),
        ("{\"suppressions\":[{\"checkName\":\"LOGGING_DISABLED_CHECK\",\"resourceIdentifier\":{\"account\":\"1\"},\"suppressIndefinitely\":true}]}", "list-audit-suppressions"),
        ("{\"summaries\":[{\"securityProfileName\":\"p\",\"behaviorName\":\"b\",\"modelStatus\":\"ACTIVE\",\"datapointsCollectionPercentage\":100.0}]}", "get-behavior-model-training-summaries"),
        ("-----------------------------\n|    ListActiveViolations    |\n+----------------------------+\n", "--output table"),
        ("ACTIVEVIOLATIONS\t2026-12-05T07:00:00Z\tcam-1\tv-1\n", "--output text"),
        ("activeViolations:\n- thingName: cam-1\n", "YAML"),
        ("thing,metric,value\ncam-1,x,3\n", "without a _raw column"),
    ];
    for (doc, named) in cases {
        let mut s = Store::open_in_memory().unwrap();
        let r = ingest_bytes(&mut s, "f", doc.as_bytes(), &Context::now());
        assert_eq!(r.rejected.len(), 1, "{doc}: {r:?}");
        assert!(
            r.rejected[0].error.contains(named),
            "{named}: {}",
            r.rejected[0].error
        );
        assert!(
            !r.rejected[0].error.contains("document of no known kind"),
            "{}",
            r.rejected[0].error
        );
    }
    // What was read before is read as before.
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "ok", &bytes("export-batch.json"), &Context::now());
    assert!(r.rejected.is_empty() && r.datapoints > 0);
}

/// The corpus rendered from aws-c-iot's report writer (`scripts/c_sdk_corpus.py`): a
/// Firehose object of the Detect-free rule, two reports whose ids count milliseconds since
/// boot. Both are dated by the object's name (its delivery time), each thing by its topic.
#[test]
fn the_aws_c_iot_corpus_is_dated_by_its_firehose_object() {
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest(&mut s, &["real/c-sdk"], &Context::now());
    assert!(
        r.rejected.is_empty() && r.rejected_records_total == 0,
        "{r:?}"
    );
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T07:00:07Z")
        .unwrap()
        .timestamp_millis();
    for (thing, out) in [("gateway-c-01", 5000), ("gateway-c-02", 7000)] {
        assert_eq!(
            points_of(&s, thing, "aws:all-bytes-out"),
            vec![(at, MetricValue::Count(out))],
            "{thing}"
        );
        assert_eq!(
            points_of(&s, thing, "aws:num-listening-tcp-ports"),
            vec![(at, MetricValue::Count(1))]
        );
        assert_eq!(
            points_of(&s, thing, "cpu_usage"),
            vec![(at, MetricValue::Number(12.5))]
        );
    }
    assert_eq!(r.notes.len(), 2, "{:?}", r.notes);
    assert!(
        r.notes[0].contains("reads as 2022-01-08")
            && r.notes
                .iter()
                .all(|n| n.contains("arrived at 2026-12-05T07:00:07")),
        "{:?}",
        r.notes
    );
}
