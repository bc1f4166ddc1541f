//! The demo fleet: a deterministic simulated fleet, the app's embedded default.
//!
//! It never writes rows directly: it emits the documents AWS would deliver — hourly Firehose
//! objects of metrics-export batches (gzip, records run together), SNS-wrapped Detect alerts, a
//! DescribeSecurityProfile response, audit notifications and ListAuditFindings responses — and
//! ingests them through the same parsers as real data. The story it tells:
//! - `cam-lobby-017`, a camera recruited into a botnet: bytes and packets out ×100 for an hour,
//!   to dozens of new destinations, yesterday 14:05–15:05 UTC;
//! - `gw-plant-03`, a gateway that opens TCP 21 (a rogue FTP server) two days ago at 15:10 UTC;
//! - `hvac-ctl-07`, whose `myapp` spawns child processes (`num_child_procs_myapp`);
//! - `tracker-cell-22`, whose cellular RSSI (`mobilerssi`) collapses for two hours;
//! - `sensor-004`, whose agent restarts (a missing report, then one huge first delta);
//! - daily audits with an expiring device certificate.
//!
//! With `detect: false` it is an account opened after AWS closed Detect (31 Aug 2026): no
//! metrics export, no security profile, no alerts — the devices' own metrics reports (Agent SDK
//! format, delivered by an IoT rule with their topic) and AWS IoT lifecycle events instead, and
//! one more story: `sensor-105`, whose client id a clone with another certificate keeps taking
//! (DUPLICATE_CLIENTID disconnects, a new principal) yesterday 03:00–03:30 UTC.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use crate::ingest::{self, IngestReport};
use crate::model::parse::Context;
use crate::store::{Store, StoreError};
use crate::time::{self, Millis};

const STEP: Millis = 300_000;
use crate::time::{DAY, HOUR};

/// How big a fleet, over how long, from which seed, ending when.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of things (at least 1; the story's things come first).
    pub things: usize,
    /// Days of history.
    pub days: u32,
    /// Random seed: the same options always give the same documents.
    pub seed: u64,
    /// End of the simulated window (rounded down to the hour).
    pub end: Millis,
    /// An account with Device Defender Detect (metrics export, alerts), or one without
    /// (device reports and lifecycle events only).
    pub detect: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            things: 30,
            days: 7,
            seed: 7,
            end: time::now(),
            detect: true,
        }
    }
}

/// The story's things, in the order they are allotted.
pub const BOTNET_CAMERA: &str = "cam-lobby-017";
/// The gateway that opens a rogue FTP server.
pub const FTP_GATEWAY: &str = "gw-plant-03";
/// The controller whose app spawns child processes.
pub const CHILD_PROC_HOST: &str = "hvac-ctl-07";
/// The cellular tracker whose signal collapses.
pub const RSSI_TRACKER: &str = "tracker-cell-22";
/// The sensor whose agent restarts.
pub const RESTART_SENSOR: &str = "sensor-004";
/// The device a clone impersonates (the Detect-free demo's story; the sixth thing).
pub const CLONED_DEVICE: &str = "sensor-105";

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Camera,
    Gateway,
    Sensor,
    Tracker,
    Hvac,
}

struct Thing {
    name: String,
    role: Role,
    dests: Vec<String>,
    scale: f64,
}

fn fleet(opts: &DemoOptions, rng: &mut fastrand::Rng) -> Vec<Thing> {
    let story = [
        (BOTNET_CAMERA, Role::Camera),
        (FTP_GATEWAY, Role::Gateway),
        (CHILD_PROC_HOST, Role::Hvac),
        (RSSI_TRACKER, Role::Tracker),
        (RESTART_SENSOR, Role::Sensor),
    ];
    let roles = [
        Role::Camera,
        Role::Sensor,
        Role::Gateway,
        Role::Tracker,
        Role::Hvac,
        Role::Sensor,
    ];
    let mut out = Vec::new();
    for i in 0..opts.things.max(1) {
        let (name, role) = match story.get(i) {
            Some((n, r)) => (n.to_string(), *r),
            None => {
                let role = roles[i % roles.len()];
                let prefix = match role {
                    Role::Camera => "cam",
                    Role::Gateway => "gw",
                    Role::Sensor => "sensor",
                    Role::Tracker => "tracker",
                    Role::Hvac => "hvac",
                };
                (format!("{prefix}-{:03}", 100 + i), role)
            }
        };
        let dests = (0..rng.usize(1..=2))
            .map(|_| format!("203.0.113.{}/32", rng.u8(1..=254)))
            .collect();
        out.push(Thing {
            name,
            role,
            dests,
            scale: 0.7 + rng.f64() * 0.6,
        });
    }
    out
}

fn hex(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
        .collect()
}

fn sns(message: &Value, rng: &mut fastrand::Rng, topic: &str, at: Millis) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": format!("{}-{}-{}-{}-{}", hex(rng, 8), hex(rng, 4), hex(rng, 4), hex(rng, 4), hex(rng, 12)),
        "TopicArn": format!("arn:aws:sns:us-east-1:123456789012:{topic}"),
        "Message": message.to_string(),
        "Timestamp": time::to_rfc3339(at),
        "SignatureVersion": "1",
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn key(at: Millis, rng: &mut fastrand::Rng, suffix: &str) -> String {
    let t = time::to_rfc3339(at);
    // 2026-11-22T14:00:00.000Z → 2026/11/22/14/
    let prefix = format!("{}/{}/{}/{}", &t[0..4], &t[5..7], &t[8..10], &t[11..13]);
    let stamp = format!(
        "{}-{}-{}-{}-{}-{}",
        &t[0..4],
        &t[5..7],
        &t[8..10],
        &t[11..13],
        &t[14..16],
        &t[17..19]
    );
    format!("{prefix}/dd-export-1-{stamp}-{}{suffix}", hex(rng, 8))
}

/// When the demo's scripted incidents happen: each is a story a screen should tell.
struct Story {
    start: Millis,
    end: Millis,
    yesterday: Millis,
    /// The camera's botnet hour: bytes out ×100, forty new destinations.
    botnet: (Millis, Millis),
    /// The gateway starts listening on FTP.
    ftp_open: Millis,
    /// The HVAC controller's child processes.
    procs: (Millis, Millis),
    /// The tracker's signal jammed.
    jam: (Millis, Millis),
    /// The sensor's agent restarts.
    restart: Millis,
}

impl Story {
    fn new(opts: &DemoOptions) -> Self {
        let end = opts.end - opts.end.rem_euclid(HOUR);
        let yesterday = end - end.rem_euclid(DAY) - DAY;
        Self {
            start: end - Millis::from(opts.days.max(1)) * DAY,
            end,
            yesterday,
            botnet: (
                yesterday + 14 * HOUR + 5 * 60_000,
                yesterday + 15 * HOUR + 5 * 60_000,
            ),
            ftp_open: yesterday - DAY + 15 * HOUR + 10 * 60_000,
            procs: (yesterday + 9 * HOUR, yesterday + 12 * HOUR),
            jam: (yesterday + 20 * HOUR, yesterday + 22 * HOUR),
            restart: yesterday + 6 * HOUR,
        }
    }
}

/// The demo's documents, as (Firehose-style key, bytes), in delivery order: an hour's object
/// of metrics (Detect's export) or device reports per hour, then lifecycle events (without
/// Detect), the security profile and its alerts (with), and the daily audits.
pub fn documents(opts: &DemoOptions) -> Vec<(String, Vec<u8>)> {
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let things = fleet(opts, &mut rng);
    let story = Story::new(opts);
    let mut docs = metric_documents(opts, &things, &story, &mut rng);
    if !opts.detect {
        docs.push((
            "lifecycle/events.json".into(),
            lifecycle_events(&things, story.start, story.yesterday, &mut rng),
        ));
    }
    if opts.detect {
        detect_documents(&things, &story, &mut rng, &mut docs);
    }
    audit_documents(&things, &story, &mut rng, &mut docs);
    docs
}

/// One object per hour of the window: each step's metrics of every thing, as one export
/// batch (with Detect) or one device report per thing (without).
fn metric_documents(
    opts: &DemoOptions,
    things: &[Thing],
    story: &Story,
    rng: &mut fastrand::Rng,
) -> Vec<(String, Vec<u8>)> {
    let (start, end) = (story.start, story.end);
    let mut docs = Vec::new();
    let mut hour_buf: Vec<u8> = Vec::new();
    let mut hour_start = start;
    let mut t = start;
    while t < end {
        let hod = ((t.rem_euclid(DAY)) / HOUR) as f64;
        let diurnal = 1.0 + 0.5 * ((hod - 8.0) / 24.0 * std::f64::consts::TAU).sin();
        let mut metrics = Vec::new();
        for th in things {
            step_metrics(th, t, diurnal, story, rng, &mut metrics);
        }
        if opts.detect {
            let batch = json!({"version": "1.0", "metrics": metrics});
            // Firehose runs records together; this pipeline's rule sets no separator.
            serde_json::to_writer(&mut hour_buf, &batch).unwrap_or_default();
        } else {
            for th in things {
                if let Some(r) = device_report(&th.name, t, &metrics) {
                    serde_json::to_writer(&mut hour_buf, &r).unwrap_or_default();
                }
            }
        }
        t += STEP;
        if t % HOUR == 0 || t >= end {
            docs.push((key(hour_start, rng, ".gz"), gzip(&hour_buf)));
            hour_buf.clear();
            hour_start = t;
        }
    }
    docs
}

/// One thing's metrics at one step (export records), its role's rhythm and the story's
/// incidents applied.
fn step_metrics(
    th: &Thing,
    t: Millis,
    diurnal: f64,
    story: &Story,
    rng: &mut fastrand::Rng,
    metrics: &mut Vec<Value>,
) {
    let Story {
        botnet,
        ftp_open,
        procs,
        jam,
        restart,
        ..
    } = *story;
    let mut m = |name: &str, value: Value| {
        metrics.push(
            json!({"name": name, "thing": th.name, "value": value, "version": 1, "timestamp": t}),
        );
    };
    let noise = 0.8 + rng.f64() * 0.4;
    let base_out = match th.role {
        Role::Camera => 2_000_000.0,
        Role::Gateway => 400_000.0,
        Role::Hvac => 60_000.0,
        Role::Sensor => 20_000.0,
        Role::Tracker => 6_000.0,
    } * th.scale
        * diurnal
        * noise;
    let in_botnet = th.name == BOTNET_CAMERA && t >= botnet.0 && t < botnet.1;
    let restarting = th.name == RESTART_SENSOR && t == restart;
    let after_restart = th.name == RESTART_SENSOR && t == restart + STEP;
    let mut out = if in_botnet {
        base_out * 100.0
    } else {
        base_out
    };
    if after_restart {
        out *= 400.0; // the agent's first delta after a restart counts since boot
    }
    if !restarting {
        m("aws:all-bytes-out", json!({"count": out as i64}));
        m("aws:all-bytes-in", json!({"count": (out * 0.3) as i64}));
        m(
            "aws:all-packets-out",
            json!({"count": (out / 700.0) as i64}),
        );
        m(
            "aws:all-packets-in",
            json!({"count": (out * 0.3 / 500.0) as i64}),
        );
        let mut ports: Vec<i64> = match th.role {
            Role::Camera => vec![80, 443, 554],
            Role::Gateway => vec![22, 443, 8883],
            Role::Hvac => vec![502],
            Role::Sensor | Role::Tracker => vec![],
        };
        if th.name == FTP_GATEWAY && t >= ftp_open {
            ports.insert(0, 21);
        }
        m("aws:num-listening-tcp-ports", json!({"count": ports.len()}));
        m("aws:listening-tcp-ports", json!({"ports": ports}));
        let mut dests = th.dests.clone();
        if in_botnet {
            dests.extend((0..40).map(|i| format!("198.51.100.{}/32", (i * 6 + 1) % 255)));
        }
        let conns = if in_botnet {
            60
        } else {
            dests.len() as i64 + rng.i64(0..=1)
        };
        m(
            "aws:num-established-tcp-connections",
            json!({"count": conns}),
        );
        m("aws:destination-ip-addresses", json!({"cidrs": dests}));
        if th.role == Role::Hvac {
            let n = if th.name == CHILD_PROC_HOST && t >= procs.0 && t < procs.1 {
                35 + rng.i64(0..10)
            } else {
                2 + rng.i64(0..2)
            };
            m("num_child_procs_myapp", json!({"number": n}));
        }
        if th.role == Role::Tracker {
            let rssi = if th.name == RSSI_TRACKER && t >= jam.0 && t < jam.1 {
                -112.0 - rng.f64() * 6.0
            } else {
                -78.0 - rng.f64() * 8.0
            };
            m(
                "mobilerssi",
                json!({"number": (rssi * 10.0).round() / 10.0}),
            );
        }
    }
    // Cloud-side metrics come from AWS IoT, agent or not.
    let auth = if rng.u32(0..200) == 0 { 1 } else { 0 };
    m("aws:num-authorization-failures", json!({"count": auth}));
    m(
        "aws:message-byte-size",
        json!({"count": 180 + rng.i64(0..400)}),
    );
    m(
        "aws:num-messages-received",
        json!({"count": 4 + rng.i64(0..6)}),
    );
    m(
        "aws:num-messages-sent",
        json!({"count": 10 + rng.i64(0..20)}),
    );
}

/// Detect: the security profile (its behaviors are the charts' thresholds) and its alerts.
fn detect_documents(
    things: &[Thing],
    story: &Story,
    rng: &mut fastrand::Rng,
    docs: &mut Vec<(String, Vec<u8>)>,
) {
    let Story {
        start,
        end,
        botnet,
        ftp_open,
        procs,
        ..
    } = *story;
    let profile = json!({
        "securityProfileName": "DemoFleetBaseline",
        "securityProfileArn": "arn:aws:iot:us-east-1:123456789012:securityprofile/DemoFleetBaseline",
        "securityProfileDescription": "Demo fleet: static rules",
        "version": 3,
        "creationDate": (start / 1000) as f64,
        "lastModifiedDate": (start / 1000) as f64 + 0.5,
        "behaviors": [
            {"name": "BytesOutHigh", "metric": "aws:all-bytes-out",
             "criteria": {"comparisonOperator": "greater-than", "value": {"count": 50_000_000}, "durationSeconds": 300,
                          "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}},
            {"name": "PacketsOutHigh", "metric": "aws:all-packets-out",
             "criteria": {"comparisonOperator": "greater-than", "value": {"count": 70_000}, "durationSeconds": 300}},
            {"name": "ExpectedTcpPorts", "metric": "aws:listening-tcp-ports",
             "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [22, 80, 443, 502, 554, 8883]}}},
            {"name": "AuthFailures", "metric": "aws:num-authorization-failures",
             "criteria": {"comparisonOperator": "greater-than", "value": {"count": 5}, "durationSeconds": 300}},
            {"name": "ChildProcs", "metric": "num_child_procs_myapp",
             "criteria": {"comparisonOperator": "greater-than", "value": {"number": 10}}},
            {"name": "WeakSignal", "metric": "mobilerssi",
             "criteria": {"comparisonOperator": "less-than", "value": {"number": -105}}},
        ],
    });
    docs.push((
        "api/describe-security-profile-DemoFleetBaseline.json".into(),
        profile.to_string().into_bytes(),
    ));
    let behavior = |name: &str, metric: &str, op: &str, value: Value| json!({"name": name, "metric": metric, "criteria": {"comparisonOperator": op, "value": value, "durationSeconds": 300}});
    let alerts = [
        (
            BOTNET_CAMERA,
            behavior(
                "BytesOutHigh",
                "aws:all-bytes-out",
                "greater-than",
                json!({"count": 50_000_000}),
            ),
            botnet.0 + STEP,
            Some(botnet.1 + STEP),
            json!({"count": 190_000_000}),
        ),
        (
            FTP_GATEWAY,
            json!({"name": "ExpectedTcpPorts", "metric": "aws:listening-tcp-ports",
                             "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [22, 80, 443, 502, 554, 8883]}}}),
            ftp_open + STEP,
            None,
            json!({"ports": [21, 22, 443, 8883]}),
        ),
        (
            CHILD_PROC_HOST,
            behavior(
                "ChildProcs",
                "num_child_procs_myapp",
                "greater-than",
                json!({"number": 10}),
            ),
            procs.0 + STEP,
            Some(procs.1 + STEP),
            json!({"number": 41}),
        ),
    ];
    for (thing, behavior, at, cleared, value) in alerts {
        if !things.iter().any(|t| t.name == thing) || at >= end {
            continue;
        }
        let id = hex(rng, 32);
        let mut events = vec![("in-alarm", at + 1_234, value.clone())];
        if let Some(c) = cleared.filter(|c| *c < end) {
            events.push(("alarm-cleared", c + 2_345, value));
        }
        for (kind, when, value) in events {
            let alert = json!({
                "violationEventTime": when, "thingName": thing, "securityProfileName": "DemoFleetBaseline",
                "violationId": id, "violationEventType": kind, "behavior": behavior, "metricValue": value,
            });
            docs.push((
                format!("sns/detect-{id}-{kind}.json"),
                sns(&alert, rng, "dd-alerts", when).to_string().into_bytes(),
            ));
        }
    }
}

/// Audit: a daily scheduled audit; one certificate drifts towards expiry.
fn audit_documents(
    things: &[Thing],
    story: &Story,
    rng: &mut fastrand::Rng,
    docs: &mut Vec<(String, Vec<u8>)>,
) {
    let (start, end) = (story.start, story.end);
    let cert = hex(rng, 64);
    let total = things.len() as i64;
    let mut day = start - start.rem_euclid(DAY) + DAY + 3 * HOUR;
    while day < end {
        let task = hex(rng, 32);
        let expiring = day >= end - 3 * DAY;
        let checks = json!([
            {"checkName": "DEVICE_CERTIFICATE_EXPIRING_CHECK",
             "checkRunStatus": if expiring { "COMPLETED_NON_COMPLIANT" } else { "COMPLETED_COMPLIANT" },
             "nonCompliantResourcesCount": i64::from(expiring), "totalResourcesCount": total},
            {"checkName": "DEVICE_CERTIFICATE_SHARED_CHECK", "checkRunStatus": "COMPLETED_COMPLIANT",
             "nonCompliantResourcesCount": 0, "totalResourcesCount": total},
            {"checkName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "checkRunStatus": "COMPLETED_COMPLIANT",
             "nonCompliantResourcesCount": 0, "totalResourcesCount": 4},
            {"checkName": "LOGGING_DISABLED_CHECK", "checkRunStatus": "COMPLETED_COMPLIANT",
             "nonCompliantResourcesCount": 0, "totalResourcesCount": 1},
        ]);
        let note = json!({
            "accountId": "123456789012", "taskId": task, "taskStatus": "COMPLETED", "taskType": "SCHEDULED_AUDIT_TASK",
            "scheduledAuditName": "AWSIoTDeviceDefenderDailyAudit", "failedChecksCount": 0, "canceledChecksCount": 0,
            "nonCompliantChecksCount": i64::from(expiring), "compliantChecksCount": 4 - i64::from(expiring),
            "totalChecksCount": 4, "taskStartTime": day, "auditDetails": checks,
        });
        docs.push((
            format!("sns/audit-{task}.json"),
            sns(&note, rng, "dd-audit", day + 600_000)
                .to_string()
                .into_bytes(),
        ));
        if expiring {
            let findings = json!({"findings": [{
                "findingId": hex(rng, 32), "taskId": task, "checkName": "DEVICE_CERTIFICATE_EXPIRING_CHECK",
                "taskStartTime": day as f64 / 1000.0, "findingTime": (day + 420_000) as f64 / 1000.0, "severity": "MEDIUM",
                "nonCompliantResource": {"resourceType": "DEVICE_CERTIFICATE",
                    "resourceIdentifier": {"deviceCertificateId": cert},
                    "additionalInfo": {"EXPIRATION_TIME": (end + 12 * DAY).to_string()}},
                "reasonForNonCompliance": "Certificate is approaching expiration.",
                "reasonForNonComplianceCode": "CERTIFICATE_APPROACHING_EXPIRATION", "isSuppressed": false}]});
            docs.push((
                format!("api/list-audit-findings-{task}.json"),
                findings.to_string().into_bytes(),
            ));
        }
        day += DAY;
    }
}

/// One thing's metrics of one step as its agent reports them (Agent SDK JSON, long names), with
/// the topic the IoT rule adds (`SELECT *, topic() AS topic`); the cloud-side metrics are not
/// the device's to report. `None` when the thing reported nothing (an agent restart).
fn device_report(thing: &str, t: Millis, entries: &[Value]) -> Option<Value> {
    let of = |name: &str| {
        entries
            .iter()
            .find(|e| e["thing"] == thing && e["name"] == name)
            .map(|e| &e["value"])
    };
    let count = |name: &str| of(name).and_then(|v| v["count"].as_i64());
    let bytes_out = count("aws:all-bytes-out")?;
    let ports: Vec<Value> = of("aws:listening-tcp-ports")
        .and_then(|v| v["ports"].as_array())
        .map(|a| {
            a.iter()
                .map(|p| json!({"interface": "eth0", "port": p}))
                .collect()
        })
        .unwrap_or_default();
    let conns: Vec<Value> = of("aws:destination-ip-addresses")
        .and_then(|v| v["cidrs"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .map(|c| json!({"local_interface": "eth0", "local_port": 50_000, "remote_addr": format!("{}:443", c.trim_end_matches("/32"))}))
                .collect()
        })
        .unwrap_or_default();
    let mut custom = serde_json::Map::new();
    for name in ["num_child_procs_myapp", "mobilerssi"] {
        if let Some(n) = of(name).and_then(|v| v["number"].as_f64()) {
            custom.insert(name.into(), json!([{"number": n}]));
        }
    }
    let mut report = json!({
        "header": {"report_id": t / 1000, "version": "1.0"},
        "metrics": {
            "listening_tcp_ports": {"ports": ports, "total": ports.len()},
            "network_stats": {"bytes_in": count("aws:all-bytes-in"), "bytes_out": bytes_out,
                              "packets_in": count("aws:all-packets-in"), "packets_out": count("aws:all-packets-out")},
            "tcp_connections": {"established_connections": {
                "connections": conns, "total": count("aws:num-established-tcp-connections")}},
        },
        "topic": format!("$aws/things/{thing}/defender/metrics/json"),
    });
    if !custom.is_empty() {
        report["custom_metrics"] = Value::Object(custom);
    }
    Some(report)
}

/// AWS IoT lifecycle events of the Detect-free account: every thing connects once with its own
/// certificate; a clone of [`CLONED_DEVICE`] keeps taking its session yesterday 03:00–03:30.
fn lifecycle_events(
    things: &[Thing],
    start: Millis,
    yesterday: Millis,
    rng: &mut fastrand::Rng,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |v: Value| {
        serde_json::to_writer(&mut out, &v).unwrap_or_default();
        out.push(b'\n');
    };
    let principals: Vec<String> = things.iter().map(|_| hex(rng, 64)).collect();
    for (th, p) in things.iter().zip(&principals) {
        push(
            json!({"clientId": th.name, "timestamp": start + 60_000, "eventType": "connected",
            "sessionIdentifier": hex(rng, 32), "principalIdentifier": p, "ipAddress": "198.51.100.7",
            "versionNumber": 0}),
        );
    }
    if let Some(i) = things.iter().position(|t| t.name == CLONED_DEVICE) {
        let clone = hex(rng, 64);
        for k in 0..14 {
            let at = yesterday + 3 * HOUR + k * 2 * 60_000;
            push(
                json!({"clientId": CLONED_DEVICE, "timestamp": at + 500, "eventType": "disconnected",
                "sessionIdentifier": hex(rng, 32), "principalIdentifier": principals[i],
                "clientInitiatedDisconnect": false, "disconnectReason": "DUPLICATE_CLIENTID", "versionNumber": k}),
            );
            push(
                json!({"clientId": CLONED_DEVICE, "timestamp": at, "eventType": "connected",
                "sessionIdentifier": hex(rng, 32), "principalIdentifier": clone, "ipAddress": "203.0.113.66",
                "versionNumber": k + 1}),
            );
        }
    }
    out
}

/// Writes the demo fleet into `store` through the parsers and marks the cache as demo data.
///
/// Refuses a cache that holds real data or sources ([`DemoError::RealCache`]): the demo marks
/// its cache as a simulated account, and actions there are simulated — on a real thing they
/// would "succeed" with nothing sent to AWS. A demo cache can be loaded again.
pub fn load(store: &mut Store, opts: &DemoOptions) -> Result<IngestReport, DemoError> {
    let is_demo = store.meta("demo")?.as_deref() == Some("true");
    if !store.sources()?.is_empty() || (!is_demo && store.point_count()? > 0) {
        return Err(DemoError::RealCache);
    }
    let mut report = IngestReport::default();
    for (name, bytes) in documents(opts) {
        report.merge(ingest::ingest_bytes(
            store,
            &name,
            &bytes,
            &Context::default(),
        ));
    }
    store.set_meta("demo", "true")?;
    Ok(report)
}

/// Why the demo fleet was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The cache holds real data or sources.
    #[error("this cache holds real data or sources: the demo fleet (a simulated account) goes only into an empty cache or a demo cache — pass another --db")]
    RealCache,
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
