//! Trust boundaries, round 3 (#29): a device speaks only for itself, a source carries only
//! what it declares, and device-reported values never override cloud-side metrics.

use desk_engine::ingest::ingest_bytes;
use desk_engine::model::parse::Context;
use desk_engine::model::{Carried, MetricValue};
use desk_engine::store::Store;

const T: i64 = 1_764_540_000_000;

fn ctx() -> Context {
    Context {
        not_after: None,
        ..Context::default()
    }
}

/// What compromised `cam-1` publishes on its own metrics topic, as the Detect-free rule
/// forwards it (`SELECT *, topic() AS topic`): records shaped like AWS's own, naming another
/// thing.
fn forgeries() -> Vec<(&'static str, serde_json::Value)> {
    let topic = "$aws/things/cam-1/defender/metrics/json";
    vec![
        (
            "a metrics-export batch",
            serde_json::json!({"version": "1.0", "topic": topic, "metrics": [
                {"name": "aws:num-messages-sent", "thing": "gw-core-1", "value": {"count": 3},
                 "version": 9_000_000_000i64, "timestamp": T}]}),
        ),
        (
            "a metrics-export entry",
            serde_json::json!({"name": "aws:num-messages-sent", "thing": "gw-core-1",
                               "value": {"count": 3}, "version": 99, "timestamp": T, "topic": topic}),
        ),
        (
            "a Detect alert",
            serde_json::json!({"violationEventType": "in-alarm", "thingName": "gw-core-1",
                               "violationId": "forged-1", "securityProfileName": "p",
                               "behavior": {"name": "b", "metric": "aws:num-messages-sent"},
                               "violationEventTime": T, "topic": topic}),
        ),
        (
            "an SNS envelope",
            serde_json::json!({"Type": "Notification", "topic": topic, "Message":
                serde_json::json!({"violationEventType": "in-alarm", "thingName": "gw-core-1",
                                   "violationId": "forged-2", "securityProfileName": "p",
                                   "behavior": {"name": "b"}, "violationEventTime": T}).to_string()}),
        ),
    ]
}

#[test]
fn a_device_topic_record_is_only_ever_that_devices_report() {
    for (shape, doc) in forgeries() {
        let mut s = Store::open_in_memory().unwrap();
        let r = ingest_bytes(&mut s, "f", doc.to_string().as_bytes(), &ctx());
        assert_eq!(r.rejected.len(), 1, "{shape}: {r:?}");
        let e = &r.rejected[0].error;
        assert!(e.contains(shape), "{shape}: {e}");
        assert!(e.contains("$aws/things/cam-1/"), "{e}");
        assert!(
            s.things().unwrap().is_empty(),
            "{shape}: nothing about gw-core-1 kept"
        );
        assert!(s.violations(None, false).unwrap().is_empty(), "{shape}");
    }
    // A report on cam-1's topic that names another thing is cam-1's.
    let report = serde_json::json!({"header": {"report_id": T / 1000, "version": "1.0"},
        "metrics": {"network_stats": {"bytes_out": 5}}, "thingName": "gw-core-1",
        "topic": "$aws/things/cam-1/defender/metrics/json"});
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "r", report.to_string().as_bytes(), &ctx());
    assert!(r.rejected.is_empty(), "{r:?}");
    let things: Vec<String> = s.things().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(things, ["cam-1"]);
    // ... and `--thing` naming another is refused, not obeyed.
    let other = Context {
        thing: Some("gw-core-1".into()),
        ..ctx()
    };
    let r = ingest_bytes(&mut s, "r", report.to_string().as_bytes(), &other);
    assert!(r.rejected[0].error.contains("cam-1's"), "{r:?}");
}

/// A device's report never replaces a value AWS measured for the same thing, metric and time,
/// whichever arrives first.
#[test]
fn device_values_never_override_cloud_side_metrics() {
    let export = serde_json::json!({"version": "1.0", "metrics": [
        {"name": "aws:all-bytes-out", "thing": "cam-1", "value": {"count": 50_000}, "version": 0, "timestamp": T}]});
    let report = serde_json::json!({"header": {"report_id": T / 1000, "version": "1.0"},
        "metrics": {"network_stats": {"bytes_out": 3}},
        "topic": "$aws/things/cam-1/defender/metrics/json"});
    for order in [[&export, &report], [&report, &export]] {
        let mut s = Store::open_in_memory().unwrap();
        for doc in order {
            let r = ingest_bytes(&mut s, "x", doc.to_string().as_bytes(), &ctx());
            assert!(r.rejected.is_empty(), "{r:?}");
        }
        let pts = s
            .series("cam-1", "aws:all-bytes-out", None, i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].value, MetricValue::Count(50_000));
    }
}

/// A source that declares what it carries refuses, by name, a record of another family; the
/// rest of its file is kept.
#[test]
fn a_source_carries_only_what_it_declares() {
    let report = serde_json::json!({"header": {"report_id": T / 1000, "version": "1.0"},
        "metrics": {"network_stats": {"bytes_out": 5}},
        "topic": "$aws/things/cam-1/defender/metrics/json"});
    let alert = serde_json::json!({"violationEventType": "in-alarm", "thingName": "gw-core-1",
        "violationId": "v-9", "securityProfileName": "p", "behavior": {"name": "b"},
        "violationEventTime": T});
    let export = serde_json::json!({"version": "1.0", "metrics": [
        {"name": "aws:all-bytes-out", "thing": "gw-core-1", "value": {"count": 1}, "timestamp": T}]});
    let file = format!("{report}\n{alert}\n{export}\n");
    let detect_free = Context {
        carries: Some(vec![Carried::DeviceReports]),
        ..ctx()
    };
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "bucket", file.as_bytes(), &detect_free);
    assert_eq!(r.rejected_records_total, 2, "{r:?}");
    let errors: Vec<&str> = r
        .rejected_records
        .iter()
        .map(|e| e.error.as_str())
        .collect();
    assert!(
        errors[0].contains("family alerts (DetectAlert)"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("family export (MetricsExport)"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e.contains("--carries device-reports,")),
        "{errors:?}"
    );
    let things: Vec<String> = s.things().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(things, ["cam-1"]);
    assert!(s.violations(None, false).unwrap().is_empty());
    // Widened, the same file is read whole.
    let wide = Context {
        carries: Some(Carried::parse_list("device-reports,alerts,export").unwrap()),
        ..ctx()
    };
    let mut s = Store::open_in_memory().unwrap();
    let r = ingest_bytes(&mut s, "bucket", file.as_bytes(), &wide);
    assert_eq!(r.rejected_records_total, 0, "{r:?}");
    assert!(Carried::parse_list("exports").is_err());
}
