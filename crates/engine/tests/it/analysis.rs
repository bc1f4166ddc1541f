//! Triage and drift over the demo fleet and hand-made series.

use desk_engine::analysis::categories::Category;
use desk_engine::analysis::triage::{rank, ReasonSource, TriageOptions};
use desk_engine::demo::{self, DemoOptions};
use desk_engine::model::parse::parse_bytes;
use desk_engine::store::Store;

fn demo_store() -> Store {
    demo_account(true)
}

fn demo_account(detect: bool) -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let opts = DemoOptions {
        things: 12,
        days: 7,
        seed: 3,
        end: 1_795_000_000_000,
        detect,
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
    assert!(tracker
        .reasons
        .iter()
        .all(|r| r.source != ReasonSource::AwsDetect));
    assert!(tracker.score > 5.0);
    // The agent restart is named as such and weighs little.
    let sensor = get(demo::RESTART_SENSOR);
    assert!(sensor
        .reasons
        .iter()
        .any(|r| r.source == ReasonSource::CounterRestart && r.text.contains("agent restart")));
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

/// A scripted compromise on a cache of a given age: 40 identical cameras and 5 gateways report
/// every 5 minutes in the last hour (every 30 before it); at `end - 40 min` `cam-017` opens
/// TCP 21 and from `end - 30 min` sends 180× the bytes of its peers for 15 minutes. A gateway
/// raised one AWS Detect alarm, cleared since.
fn story(history: i64) -> Store {
    const END: i64 = 1_795_000_000_000;
    const MIN: i64 = 60_000;
    let start = END - history;
    let mut docs = String::new();
    let mut t = start;
    while t <= END {
        let things = (1..=40)
            .map(|i| format!("cam-{i:03}"))
            .chain((1..=5).map(|i| format!("gw-{i:02}")));
        for (k, thing) in things.enumerate() {
            let compromised = thing == "cam-017";
            let mut bytes = 10_000 + (k as i64 * 37 + t / MIN) % 500;
            if compromised && (END - 30 * MIN..END - 15 * MIN).contains(&t) {
                bytes *= 180;
            }
            let mut ports = vec![443, 8883];
            if compromised && t >= END - 40 * MIN {
                ports.insert(0, 21);
            }
            docs.push_str(&format!(
                r#"{{"name":"aws:all-bytes-out","thing":"{thing}","value":{{"count":{bytes}}},"version":1,"timestamp":{t}}}"#
            ));
            docs.push_str(&format!(
                r#"{{"name":"aws:listening-tcp-ports","thing":"{thing}","value":{{"ports":{ports:?}}},"version":1,"timestamp":{t}}}"#
            ));
        }
        t += if t >= END - 60 * MIN {
            5 * MIN
        } else {
            30 * MIN
        };
    }
    let alarm = |kind: &str, at: i64| {
        format!(
            r#"{{"violationEventTime":{at},"thingName":"gw-03","securityProfileName":"P","violationId":"v-gw","violationEventType":"{kind}","behavior":{{"name":"Auth","metric":"aws:num-authorization-failures"}},"metricValue":{{"count":9}}}}"#
        )
    };
    docs.push_str(&alarm("in-alarm", END - 20 * MIN));
    docs.push_str(&alarm("alarm-cleared", END - 15 * MIN));
    let mut s = Store::open_in_memory().unwrap();
    s.write_batch(&parse_bytes(docs.as_bytes(), &Default::default()).unwrap())
        .unwrap();
    s
}

/// Detection that needs no Detect and no history: on a cache under an hour old, a day and a
/// week, the compromised camera ranks first with its own reasons — the port against its first
/// sightings and its peers, the bytes against its peers — each saying what it was compared
/// with; the gateway with one cleared AWS alarm ranks below it.
#[test]
fn a_young_cache_ranks_the_compromised_camera_first_with_its_own_reasons() {
    const HOUR: i64 = 3_600_000;
    for history in [50 * 60_000, 3 * HOUR, 24 * HOUR, 7 * 24 * HOUR] {
        let ranked = rank(&story(history), TriageOptions::default()).unwrap();
        let cam = &ranked[0];
        assert_eq!(cam.thing, "cam-017", "history {history}: {ranked:#?}");
        let port = cam
            .reasons
            .iter()
            .find(|r| r.metric == "aws:listening-tcp-ports")
            .unwrap_or_else(|| panic!("{cam:#?}"));
        assert!(port.text.starts_with("TCP 21 opened"), "{}", port.text);
        assert!(
            port.text
                .contains("none of its 39 peers (name family cam-*) has it"),
            "{}",
            port.text
        );
        assert!(
            port.text.contains("attack-surface port: FTP"),
            "{}",
            port.text
        );
        let bytes = cam
            .reasons
            .iter()
            .find(|r| r.metric == "aws:all-bytes-out")
            .unwrap_or_else(|| panic!("history {history}: {cam:#?}"));
        assert!(
            bytes
                .text
                .contains("the median of its 39 peers (name family cam-*)"),
            "{}",
            bytes.text
        );
        if history < 6 * HOUR {
            assert!(
                bytes.text.contains("compared with peers only"),
                "{}",
                bytes.text
            );
            assert_eq!(bytes.source, ReasonSource::Peers);
        }
        let gw = ranked.iter().position(|r| r.thing == "gw-03").unwrap();
        assert!(gw > 0, "the one alarmed gateway never outranks the camera");
        assert!(
            ranked[gw].score < cam.score / 2.0,
            "{} vs {}",
            ranked[gw].score,
            cam.score
        );
        // Its quiet peers have no reasons at all.
        let quiet = ranked.iter().find(|r| r.thing == "cam-016").unwrap();
        assert!(quiet.reasons.is_empty(), "{quiet:?}");
    }
}

/// An attack-surface port that one camera has listened on from its first report is still
/// caught: by its peers, none of whom has it.
#[test]
fn a_port_open_from_the_first_report_is_caught_by_the_peers() {
    let mut docs = String::new();
    for i in 0..6 {
        let t = 1_795_000_000_000_i64 + i * 300_000;
        for c in 1..=8 {
            let ports = if c == 3 { "[23,443]" } else { "[443]" };
            docs.push_str(&format!(
                r#"{{"name":"aws:listening-tcp-ports","thing":"cam-{c:02}","value":{{"ports":{ports}}},"version":1,"timestamp":{t}}}"#
            ));
        }
    }
    let mut s = Store::open_in_memory().unwrap();
    s.write_batch(&parse_bytes(docs.as_bytes(), &Default::default()).unwrap())
        .unwrap();
    let ranked = rank(&s, TriageOptions::default()).unwrap();
    assert_eq!(ranked[0].thing, "cam-03");
    let r = &ranked[0].reasons[0];
    assert!(r.text.starts_with("TCP 23 listening since"), "{}", r.text);
    assert!(r.text.contains("none of its 7 peers"), "{}", r.text);
    assert!(r.text.contains("Telnet"), "{}", r.text);
    assert!(ranked[1].reasons.is_empty(), "{:?}", ranked[1]);
}

/// An account without Detect, fed only AWS IoT lifecycle events: the camera whose client id
/// another device also uses (14 DUPLICATE_CLIENTID disconnects in an hour, and a second
/// principal connecting as it) ranks first, and says what that usually means.
#[test]
fn lifecycle_events_alone_find_the_cloned_camera() {
    const T: i64 = 1_795_000_000_000;
    let mut docs = String::new();
    let event = |client: &str, kind: &str, at: i64, principal: &str, reason: &str| {
        let extra = if kind == "disconnected" {
            format!(r#","clientInitiatedDisconnect":false,"disconnectReason":"{reason}""#)
        } else {
            r#","ipAddress":"192.0.2.7""#.to_string()
        };
        format!(
            r#"{{"clientId":"{client}","timestamp":{at},"eventType":"{kind}","sessionIdentifier":"s-{at}","principalIdentifier":"{principal}","versionNumber":0{extra}}}"#
        )
    };
    for c in 1..=8 {
        let client = format!("cam-{c:02}");
        let own = format!("{:032x}", c);
        docs.push_str(&event(&client, "connected", T, &own, ""));
        docs.push('\n');
    }
    // From T + 20 min a clone with another certificate keeps taking cam-05's session.
    for k in 0..14 {
        let at = T + 20 * 60_000 + k * 120_000;
        docs.push_str(&event("cam-05", "connected", at, &"f".repeat(32), ""));
        docs.push_str(&event(
            "cam-05",
            "disconnected",
            at + 1_000,
            &format!("{:032x}", 5),
            "DUPLICATE_CLIENTID",
        ));
        // The same event delivered twice counts once.
        docs.push_str(&event(
            "cam-05",
            "disconnected",
            at + 1_000,
            &format!("{:032x}", 5),
            "DUPLICATE_CLIENTID",
        ));
    }
    // A camera that lost its link a few times is no story.
    for k in 0..4 {
        docs.push_str(&event(
            "cam-02",
            "disconnected",
            T + k * 600_000,
            &format!("{:032x}", 2),
            "CONNECTION_LOST",
        ));
    }
    let mut s = Store::open_in_memory().unwrap();
    s.write_batch(&parse_bytes(docs.as_bytes(), &Default::default()).unwrap())
        .unwrap();
    let ranked = rank(&s, TriageOptions::default()).unwrap();
    let cam = &ranked[0];
    assert_eq!(cam.thing, "cam-05", "{ranked:#?}");
    assert!(
        cam.reasons.iter().any(|r| r
            .text
            .starts_with("14 DUPLICATE_CLIENTID disconnects in 1 h")
            && r.text.contains("cloned device")),
        "{cam:#?}"
    );
    assert!(
        cam.reasons
            .iter()
            .any(|r| r.text.contains("new principals connecting as it")),
        "{cam:#?}"
    );
    let flaky = ranked.iter().find(|r| r.thing == "cam-02").unwrap();
    assert!(flaky.reasons.is_empty(), "{flaky:?}");

    // The thing screen charts the disconnects as counts per interval, not a line of ones:
    // over the hour from T, 1-minute bars (the 14 are two minutes apart, so 14 bars of 1),
    // and over a day the same 14 in 15-minute bars that sum to 14.
    use desk_engine::analysis::view::metric_view;
    let metric = "lifecycle:disconnects:DUPLICATE_CLIENTID";
    let hour = metric_view(&s, "cam-05", metric, T, T + 3_600_000, 900).unwrap();
    assert_eq!(hour.per, Some(60_000));
    assert_eq!(hour.points, 14, "the duplicate delivery counts once");
    let bars: Vec<f64> = hour.buckets.iter().map(|b| b.max.1).collect();
    assert_eq!(bars.iter().filter(|v| **v == 1.0).count(), 14, "{bars:?}");
    assert_eq!(bars.iter().sum::<f64>(), 14.0);
    assert!(hour.markers.is_empty(), "no event is a zero, not a gap");
    let day = metric_view(
        &s,
        "cam-05",
        metric,
        T - 12 * 3_600_000,
        T + 12 * 3_600_000,
        900,
    )
    .unwrap();
    assert_eq!(day.per, Some(900_000));
    assert_eq!(day.buckets.iter().map(|b| b.max.1).sum::<f64>(), 14.0);
    let top = day.buckets.iter().map(|b| b.max.1).fold(0.0, f64::max);
    assert!(
        (7.0..=8.0).contains(&top),
        "14 events 2 min apart in 15-min bars: {top}"
    );
    let svg = desk_engine::charts::render_svg(&day, &Default::default()).unwrap();
    assert!(
        svg.svg
            .contains("DUPLICATE_CLIENTID disconnects per 15 min"),
        "the title says what a bar is"
    );
    // Ports and principals stay sets; bytes stay lines.
    assert_eq!(
        metric_view(&s, "cam-05", "lifecycle:principal", T, T + 3_600_000, 900)
            .unwrap()
            .per,
        None
    );
}

/// The demo account without Detect (device reports and lifecycle events only): the same
/// stories are found and explained, and the cloned device too, with no AWS alarm anywhere.
#[test]
fn the_detect_free_demo_tells_the_same_stories() {
    let s = demo_account(false);
    assert!(s.violations(None, false).unwrap().is_empty());
    let ranked = rank(&s, TriageOptions::default()).unwrap();
    assert!(ranked
        .iter()
        .flat_map(|r| &r.reasons)
        .all(|r| r.source != ReasonSource::AwsDetect));
    assert_eq!(ranked[0].thing, demo::BOTNET_CAMERA, "{:#?}", &ranked[..3]);
    let get = |t: &str| ranked.iter().find(|r| r.thing == t).unwrap();
    assert!(get(demo::BOTNET_CAMERA)
        .reasons
        .iter()
        .any(|r| r.metric == "aws:all-bytes-out" && r.text.starts_with("bytes out ")));
    assert!(get(demo::FTP_GATEWAY)
        .reasons
        .iter()
        .any(|r| r.text.starts_with("TCP 21 opened")));
    let clone = get(demo::CLONED_DEVICE);
    assert!(
        clone.reasons.iter().any(|r| r
            .text
            .starts_with("14 DUPLICATE_CLIENTID disconnects in 1 h")),
        "{clone:#?}"
    );
    assert!(clone
        .reasons
        .iter()
        .any(|r| r.text.contains("new principals connecting as it")));
    assert!(get(demo::CHILD_PROC_HOST)
        .categories
        .contains(&Category::MalwareCryptominer));
}
