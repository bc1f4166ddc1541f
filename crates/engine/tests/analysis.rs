//! Triage and drift over the demo fleet and hand-made series.

use desk_engine::analysis::categories::Category;
use desk_engine::analysis::triage::{rank, TriageOptions};
use desk_engine::demo::{self, DemoOptions};
use desk_engine::model::parse::parse_bytes;
use desk_engine::store::Store;

fn demo_store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let opts = DemoOptions {
        things: 12,
        days: 7,
        seed: 3,
        end: 1_795_000_000_000,
    };
    let report = demo::load(&mut s, &opts).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    s
}

#[test]
fn the_botnet_camera_comes_first_with_readable_reasons() {
    let s = demo_store();
    let ranked = rank(&s, TriageOptions::default()).unwrap();
    assert_eq!(ranked[0].thing, demo::BOTNET_CAMERA);
    let cam = &ranked[0];
    assert!(cam.score > 90.0, "{}", cam.score);
    assert!(cam.categories.contains(&Category::DdosParticipation));
    let bytes = cam
        .reasons
        .iter()
        .find(|r| r.metric == "aws:all-bytes-out")
        .unwrap();
    assert!(bytes.text.starts_with("bytes out "), "{}", bytes.text);
    assert!(bytes.text.contains("× its 7-day median"), "{}", bytes.text);
    assert!(
        bytes.text.contains("the fleet median since"),
        "{}",
        bytes.text
    );
    assert!(
        bytes.text.ends_with(":05"),
        "the first anomalous report, not the hour: {}",
        bytes.text
    );
    assert!(cam
        .reasons
        .iter()
        .any(|r| r.text.contains("new destination IPs")
            && r.categories.contains(&Category::ExfiltrationC2)));
}

#[test]
fn every_story_is_found_and_categorised() {
    let s = demo_store();
    let ranked = rank(&s, TriageOptions::default()).unwrap();
    let get = |t: &str| ranked.iter().find(|r| r.thing == t).unwrap();
    let gw = get(demo::FTP_GATEWAY);
    assert!(gw
        .reasons
        .iter()
        .any(|r| r.text.starts_with("TCP 21 opened") && r.text.contains("attack-surface")));
    assert!(gw.categories.contains(&Category::BackdoorRecon));
    assert_eq!(gw.open_violations, 1);
    assert!(get(demo::CHILD_PROC_HOST)
        .categories
        .contains(&Category::MalwareCryptominer));
    // No AWS violation for the tracker: the baseline alone must flag it.
    let tracker = get(demo::RSSI_TRACKER);
    assert!(tracker
        .categories
        .contains(&Category::ConnectionAbuseJamming));
    assert!(tracker.reasons.iter().all(|r| r.source != "aws-detect"));
    assert!(tracker.score > 5.0);
    // The agent restart is named as such and weighs little.
    let sensor = get(demo::RESTART_SENSOR);
    assert!(sensor
        .reasons
        .iter()
        .any(|r| r.source == "counter-restart" && r.text.contains("agent restart")));
    assert!(sensor.score < gw.score);
    // Quiet things stay at the bottom with no reasons.
    let quiet = ranked.last().unwrap();
    assert!(quiet.reasons.is_empty() && quiet.score == 0.0, "{quiet:?}");
}

#[test]
fn violations_raise_a_score_but_are_not_needed() {
    let mut s = Store::open_in_memory().unwrap();
    let mut docs = String::new();
    for i in 0..48 {
        let v = if i == 40 { 5000 } else { 100 + i % 3 };
        docs.push_str(&format!(
            r#"{{"name":"aws:all-bytes-out","thing":"a","value":{{"count":{v}}},"version":1,"timestamp":{}}}"#,
            1_717_430_400_000i64 + i * 3_600_000
        ));
        docs.push_str(&format!(
            r#"{{"name":"aws:all-bytes-out","thing":"b","value":{{"count":{}}},"version":1,"timestamp":{}}}"#,
            100 + i % 3,
            1_717_430_400_000i64 + i * 3_600_000
        ));
    }
    s.write_batch(&parse_bytes(docs.as_bytes(), &Default::default()).unwrap())
        .unwrap();
    let before = rank(&s, TriageOptions::default()).unwrap();
    assert_eq!(before[0].thing, "a");
    assert_eq!(before[1].score, 0.0);
    let alert = r#"{"violationEventTime":1717560000000,"thingName":"b","securityProfileName":"P","violationId":"v1",
        "violationEventType":"in-alarm","behavior":{"name":"X","metric":"aws:num-authorization-failures"},"metricValue":{"count":9}}"#;
    s.write_batch(&parse_bytes(alert.as_bytes(), &Default::default()).unwrap())
        .unwrap();
    let after = rank(&s, TriageOptions::default()).unwrap();
    let b = after.iter().find(|r| r.thing == "b").unwrap();
    assert!(b.score > 0.0);
    assert!(b.categories.contains(&Category::BruteForce));
}
