//! A Security Hub source against the Security Hub emulator (moto's ignores filters and sorting):
//! only Device Defender's findings are asked for, sorted by `UpdatedAt` and paged at 100 within
//! GetFindings' rate; the next sync starts at the watermark, which is never ahead of the data;
//! the findings land as the same violations, findings and checks a saved file gives.

use crate::support;

use std::process::Command;

use serde_json::{json, Value};
use support::servers::{self, control, env, venv_bin, Env, Server};

/// Imports findings into the emulator with boto3, as Device Defender would send them: the CLI
/// corpus's dataset at `t0` (epoch s) mapped by `scripts/securityhub_corpus.py`, and `extra`
/// more Detect findings (things `sensor-0000`…) updated one a minute before `t0`.
pub(crate) fn import(hub: &Server, t0: i64, extra: usize, prefix: &str) {
    let script = r#"
import sys, copy, datetime as dt
sys.path.insert(0, sys.argv[2] + "/scripts"); sys.path.insert(0, sys.argv[2] + "/tests/emulators")
import boto3, cli_corpus, securityhub_corpus as hc
t0, extra, prefix = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
data = cli_corpus.dataset(t0)
found = hc.detect_findings(data) + hc.audit_findings(data) + [hc.guardduty()] if prefix == "corpus" else []
model = hc.detect_findings(data)[0]
for i in range(extra):
    f = copy.deepcopy(model)
    thing = f"{prefix}-{i:04d}"
    f["Id"] = f["ProductFields"]["ViolationId"] = f"v-{prefix}-{i}"
    f["ProductFields"]["ThingName"] = thing
    f["Resources"] = [hc.thing_resource(thing)]
    f["CreatedAt"] = f["UpdatedAt"] = hc.iso(t0 - 60 * (extra - i))
    f["ProductFields"]["ViolationStartTime"] = str((t0 - 60 * (extra - i)) * 1000)
    f.pop("RecordState", None)
    found.append(f)
c = boto3.client("securityhub", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="t", aws_secret_access_key="t")
for i in range(0, len(found), 100):
    r = c.batch_import_findings(Findings=found[i:i + 100])
    assert r["FailedCount"] == 0, r
"#;
    let out = Command::new(venv_bin("python"))
        .args(["-c", script, &hub.url])
        .arg(servers::repo())
        .args([&t0.to_string(), &extra.to_string(), prefix])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn calls(hub: &Server) -> Vec<Value> {
    let out = Command::new("curl")
        .args(["-sf", &format!("{}/_emu/calls", hub.url)])
        .output()
        .unwrap();
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.into_iter()
        .filter(|c| c["op"] == "GetFindings")
        .collect()
}

fn cmd(e: &Env) -> Command {
    support::command(&e.db, Some(&e.home))
}

fn sync(e: &Env) -> Value {
    let (out, v) = support::run(cmd(e).arg("sync"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    v["sources"][0].clone()
}

#[test]
fn device_defender_findings_are_pulled_incrementally_from_the_hub() {
    let hub = servers::python_server("securityhub_emulator.py", &[]);
    let t0 = desk_engine::time::now() / 1000 - 3600;
    import(&hub, t0, 250, "corpus");
    let e = env();
    support::ok(cmd(&e).args([
        "sources",
        "add",
        "security-hub",
        "--name",
        "hub",
        "--endpoint-url",
        &hub.url,
    ]));
    let health = support::ok(cmd(&e).args(["sources", "test", "hub"]));
    assert_eq!(health["status"], "ok", "{health}");
    control(
        &hub,
        "/_emu/faults",
        &json!([{"kind": "throttle", "count": 1}]),
    );
    let s = sync(&e);
    // 7 of the corpus and 250 more; GuardDuty's is never asked for.
    assert_eq!(s["events"], 257, "{s}");
    let asked = calls(&hub);
    let pages: Vec<&Value> = asked.iter().skip(1).collect(); // the first is `sources test`
    assert!(pages.len() >= 3, "{asked:?}");
    for p in &pages {
        let b = &p["body"];
        assert_eq!(
            b["Filters"]["ProductArn"][0]["Comparison"], "CONTAINS",
            "{b}"
        );
        assert_eq!(b["SortCriteria"][0]["Field"], "UpdatedAt");
        assert_eq!(b["MaxResults"], 100);
    }
    let v = support::json_out(&e.db, &["violations", "--thing", "cam-001"]);
    assert_eq!(v[0]["violation_id"], "v-bytes-cam-001", "{v}");
    assert!(!v[0]["ended"].is_null(), "archived: cleared");
    let v = support::json_out(&e.db, &["violations", "--thing", "corpus-0249"]);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let f = support::json_out(&e.db, &["findings"]);
    assert_eq!(f.as_array().unwrap().len(), 2, "{f}");
    // Each record knows the Security Hub finding it came from, and that finding's account.
    let refs = support::json_out(&e.db, &["hub", "findings", "--account", "123456789012"]);
    assert_eq!(refs.as_array().unwrap().len(), 257, "{refs}");
    let r = refs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["record"] == "corpus-0001" || r["record"] == "v-corpus-1")
        .unwrap();
    assert_eq!(
        (r["kind"].as_str(), r["workflow"].as_str()),
        (Some("violation"), Some("NEW")),
        "{r}"
    );
    assert_eq!(r["region"], "us-east-1");

    // New findings later: the next sync starts where the data ended, not at "now".
    let first_newest = desk_engine::time::to_rfc3339((t0 - 60) * 1000);
    import(&hub, t0 + 600, 3, "late");
    let before = calls(&hub).len();
    let s = sync(&e);
    let again = &calls(&hub)[before..];
    let start = again[0]["body"]["Filters"]["UpdatedAt"][0]["Start"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        start.as_str() <= first_newest.as_str(),
        "{start} vs {first_newest}"
    );
    assert!(
        start.as_str() >= desk_engine::time::to_rfc3339((t0 - 3600) * 1000).as_str(),
        "{start}"
    );
    let late = s["events"].as_u64().unwrap();
    assert!(
        (3..=5).contains(&late),
        "only the new findings and the watermark's own: {s}"
    );
    let v = support::json_out(&e.db, &["violations", "--thing", "late-0002"]);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}
