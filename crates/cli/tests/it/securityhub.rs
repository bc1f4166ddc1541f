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

fn calls_of(hub: &Server, op: &str) -> Vec<Value> {
    let out = Command::new("curl")
        .args(["-sf", &format!("{}/_emu/calls", hub.url)])
        .output()
        .unwrap();
    serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .unwrap()
        .into_iter()
        .filter(|c| c["op"] == op)
        .collect()
}

fn calls(hub: &Server) -> Vec<Value> {
    calls_of(hub, "GetFindings")
}

fn cmd(e: &Env) -> Command {
    support::command(&e.db, Some(&e.home))
}

/// Adds the emulator as the Security Hub source `hub`.
fn add_hub(e: &Env, hub: &Server) {
    support::ok(cmd(e).args([
        "sources",
        "add",
        "security-hub",
        "--name",
        "hub",
        "--endpoint-url",
        &hub.url,
    ]));
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
    add_hub(&e, &hub);
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

/// Imports one Detect finding per `(account, region, thing, violation id)` into the emulator
/// with boto3, as an aggregator's members' Device Defender would send them (and saves what
/// `get-findings` then returns to `saved`, as an analyst would keep it).
fn import_accounts(
    hub: &Server,
    t0: i64,
    findings: &[(&str, &str, &str, &str)],
    saved: &std::path::Path,
) {
    let script = r#"
import sys, copy, json
sys.path.insert(0, sys.argv[2] + "/scripts"); sys.path.insert(0, sys.argv[2] + "/tests/emulators")
import boto3, cli_corpus, securityhub_corpus as hc
t0 = int(sys.argv[3]); wanted = json.loads(sys.argv[4])
model = hc.detect_findings(cli_corpus.dataset(t0))[0]
found = []
for i, (account, region, thing, vid) in enumerate(wanted):
    f = copy.deepcopy(model)
    f["AwsAccountId"], f["Region"] = account, region
    f["ProductArn"] = f"arn:aws:securityhub:{region}::product/aws/iot-device-defender-detect"
    f["Id"] = f["ProductFields"]["ViolationId"] = vid
    f["ProductFields"]["ThingName"] = thing
    f["Resources"] = [dict(hc.thing_resource(thing), Region=region)]
    f["Resources"][0]["Id"] = f"arn:aws:iot:{region}:{account}:thing/{thing}"
    f["CreatedAt"] = f["UpdatedAt"] = hc.iso(t0 - 60 * (len(wanted) - i))
    f["ProductFields"]["ViolationStartTime"] = str((t0 - 60 * (len(wanted) - i)) * 1000)
    f.pop("RecordState", None)
    found.append(f)
c = boto3.client("securityhub", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="t", aws_secret_access_key="t")
r = c.batch_import_findings(Findings=found)
assert r["FailedCount"] == 0, r
got = c.get_findings(MaxResults=100)
got.pop("ResponseMetadata", None)
open(sys.argv[5], "w").write(json.dumps(got, default=str))
"#;
    let wanted: Vec<[&str; 4]> = findings.iter().map(|&(a, r, t, v)| [a, r, t, v]).collect();
    let out = Command::new(venv_bin("python"))
        .args(["-c", script, &hub.url])
        .arg(servers::repo())
        .arg(t0.to_string())
        .arg(serde_json::to_string(&wanted).unwrap())
        .arg(saved)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn things_of(db: &std::path::Path, args: &[&str]) -> Vec<(String, String, String)> {
    let v = support::json_out(db, args);
    let mut rows: Vec<(String, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or("null").to_string();
            (s("account"), s("region"), s("thing"))
        })
        .collect();
    rows.sort();
    rows
}

/// An aggregator brings `sensor-001` of two accounts: two things, each under its own account
/// and region, in the cache, the CLI's records and the incident report, never merged; a bare
/// name that two accounts share is refused naming both, `--account` picks one; an action on
/// a thing of an account no Device Defender source acts in is refused before anything is
/// planned. The same findings saved by `get-findings` and ingested give the same things.
#[test]
fn two_accounts_things_with_one_name_stay_two() {
    const A: &str = "111111111111";
    const B: &str = "222222222222";
    let hub = servers::python_server("securityhub_emulator.py", &[]);
    let t0 = desk_engine::time::now() / 1000 - 3600;
    let e = env();
    let saved = e.home.join("get-findings.json");
    import_accounts(
        &hub,
        t0,
        &[
            (A, "eu-west-1", "sensor-001", "v-a-1"),
            (B, "us-east-1", "sensor-001", "v-b-1"),
            (A, "eu-west-1", "gw-9", "v-a-2"),
        ],
        &saved,
    );
    add_hub(&e, &hub);
    assert_eq!(sync(&e)["events"], 3);
    let a = |s: &str| s.to_string();
    let both = vec![
        (a(A), a("eu-west-1"), a("gw-9")),
        (a(A), a("eu-west-1"), a("sensor-001")),
        (a(B), a("us-east-1"), a("sensor-001")),
    ];
    assert_eq!(things_of(&e.db, &["things"]), both);
    assert_eq!(things_of(&e.db, &["--account", B, "things"]), both[2..]);
    // Metrics of both accounts' sensor-001, ingested as the analyst says whose they are:
    // each lands on its own account's thing; triage names each row's account and filters.
    for (account, region, bytes) in [(A, "eu-west-1", 1_000), (B, "us-east-1", 900_000_000)] {
        let file = e.home.join(format!("export-{account}.json"));
        let mut metrics = Vec::new();
        for i in 0..24 {
            metrics.push(json!({"name": "aws:all-bytes-out", "thing": "sensor-001",
                "value": {"count": if i == 23 { bytes } else { 1_000 }}, "version": 1,
                "timestamp": (t0 - 3600 * 24 + 3600 * i) * 1000}));
        }
        std::fs::write(
            &file,
            json!({"version": "1.0", "metrics": metrics}).to_string(),
        )
        .unwrap();
        let r = support::ok(
            cmd(&e)
                .args(["--account", account, "--thing-region", region, "ingest"])
                .arg(&file),
        );
        assert_eq!(
            (r["account"].as_str(), r["datapoints"].as_u64()),
            (Some(account), Some(24))
        );
    }
    assert_eq!(
        things_of(&e.db, &["things"]),
        both,
        "no new thing: each account's own"
    );
    let t = support::json_out(&e.db, &["--account", B, "triage", "--window", "2d"]);
    let rows = t.as_array().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r["account"] == B && r["region"] == "us-east-1"),
        "{t}"
    );
    let series = |account: &str| {
        support::json_out(
            &e.db,
            &[
                "--account",
                account,
                "series",
                "--thing",
                "sensor-001",
                "--metric",
                "aws:all-bytes-out",
            ],
        )
    };
    assert_eq!(series(A)[23]["value"], 1_000);
    assert_eq!(series(B)[23]["value"], 900_000_000);
    // The shared name alone is ambiguous; --account says which.
    let (out, _) = support::run(cmd(&e).args(["violations", "--thing", "sensor-001"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(A) && err.contains(B), "{err}");
    let v = support::json_out(
        &e.db,
        &["--account", B, "violations", "--thing", "sensor-001"],
    );
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (
            v[0]["violation_id"].as_str(),
            v[0]["account"].as_str(),
            v[0]["region"].as_str()
        ),
        (Some("v-b-1"), Some(B), Some("us-east-1"))
    );
    let v = support::json_out(&e.db, &["--account", A, "violations"]);
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    // A case on one account's sensor-001 is not the other's.
    support::ok(cmd(&e).args([
        "--account",
        A,
        "case",
        "set",
        "--thing",
        "sensor-001",
        "--state",
        "investigating",
    ]));
    let c = support::json_out(
        &e.db,
        &["--account", B, "case", "show", "--thing", "sensor-001"],
    );
    assert_eq!(c["state"], "new", "{c}");
    // No Device Defender source acts in account A: nothing is planned.
    let (out, _) = support::run(cmd(&e).args([
        "--account",
        A,
        "quarantine",
        "--thing",
        "sensor-001",
        "--reason",
        "beaconing to a known C2 host",
        "--dry-run",
    ]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("account {A} in eu-west-1"))
            && err.contains("no Device Defender source of that account"),
        "{err}"
    );

    // The same findings, saved and ingested into another cache: the same things.
    let other = e.home.join("other.sqlite");
    support::ok(
        support::command(&other, Some(&e.home))
            .arg("ingest")
            .arg(&saved),
    );
    assert_eq!(things_of(&other, &["things"]), both);
}

/// The analyst's investigation goes back to the SOC's hub: `hub push` plans one
/// BatchUpdateFindings per Security Hub finding of the thing (Workflow.Status from the state,
/// the note with who set it and when), shows it (`--dry-run`), and — confirmed with a reason —
/// runs it through the hub source and logs it as every action is (action `hub`). The finding in
/// Security Hub then holds the state and the note; one with no Security Hub finding is refused.
#[test]
fn an_investigation_is_pushed_to_the_hub_and_logged() {
    let hub = servers::python_server("securityhub_emulator.py", &[]);
    let t0 = desk_engine::time::now() / 1000 - 3600;
    import(&hub, t0, 0, "corpus");
    let e = env();
    add_hub(&e, &hub);
    sync(&e);
    support::ok(cmd(&e).args([
        "case",
        "set",
        "--thing",
        "cam-001",
        "--state",
        "investigating",
    ]));
    support::ok(cmd(&e).args([
        "case",
        "note",
        "--thing",
        "cam-001",
        "--text",
        "beaconing to 203.0.113.9",
    ]));
    const REASON: &str = "escalated to the IR on-call";
    let dry = support::ok(cmd(&e).args([
        "hub",
        "push",
        "--thing",
        "cam-001",
        "--reason",
        REASON,
        "--dry-run",
    ]));
    let calls = dry["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{dry}");
    let call = calls[0].as_str().unwrap();
    assert!(
        call.starts_with("BatchUpdateFindings ") && call.contains("Workflow.Status=NOTIFIED"),
        "{call}"
    );
    assert_eq!(dry["plan"]["target"]["account"], "123456789012", "{dry}");
    let done = support::ok(cmd(&e).args([
        "hub", "push", "--thing", "cam-001", "--reason", REASON, "--yes",
    ]));
    assert_eq!(done["outcome"]["status"], "succeeded", "{done}");

    let refs = support::json_out(&e.db, &["hub", "findings"]);
    let r = refs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["record"] == "v-bytes-cam-001")
        .unwrap()
        .clone();
    assert_eq!(
        r["workflow"], "NOTIFIED",
        "the cache knows what it set: {r}"
    );
    let out = Command::new("curl")
        .args(["-sf", &format!("{}/_emu/findings", hub.url)])
        .output()
        .unwrap();
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let f = all.iter().find(|f| f["Id"] == r["id"]).unwrap();
    assert_eq!(f["Workflow"]["Status"], "NOTIFIED", "{f}");
    let text = f["Note"]["Text"].as_str().unwrap();
    assert!(
        text.contains("investigating") && text.contains("beaconing to 203.0.113.9"),
        "{text}"
    );
    assert!(f["Note"]["UpdatedBy"]
        .as_str()
        .unwrap()
        .ends_with("(Defender Desk)"));
    let others: Vec<&Value> = all
        .iter()
        .filter(|x| x["Id"] != r["id"] && x["Workflow"]["Status"] == "NOTIFIED")
        .collect();
    assert!(
        others.is_empty(),
        "only cam-001's finding changed: {others:?}"
    );
    let log = support::json_out(&e.db, &["actions"]);
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            last["action"].as_str(),
            last["status"].as_str(),
            last["reason"].as_str()
        ),
        (Some("hub"), Some("succeeded"), Some(REASON)),
        "{last}"
    );
    // A thing that came through no Security Hub finding: nothing to push.
    let other = e.home.join("export.json");
    std::fs::write(
        &other,
        json!({"version": "1.0", "metrics": [{"name": "aws:all-bytes-out", "thing": "lab-7",
            "value": {"count": 1}, "version": 1, "timestamp": t0 * 1000}]})
        .to_string(),
    )
    .unwrap();
    support::ok(cmd(&e).arg("ingest").arg(&other));
    let (out, _) = support::run(cmd(&e).args([
        "hub", "push", "--thing", "lab-7", "--reason", REASON, "--yes",
    ]));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("came through no Security Hub finding"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A colleague working the same findings in Security Hub, signing as `key` (the emulator names
/// the caller by its access key): `updates` are (finding Id, workflow status, note or "").
fn colleague(hub: &Server, key: &str, updates: &[(&str, &str, &str)]) {
    let script = r#"
import sys, json, boto3
c = boto3.client("securityhub", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key="t")
found = {f["Id"]: f for f in c.get_findings(MaxResults=100)["Findings"]}
for fid, status, note in json.loads(sys.argv[3]):
    args = {"FindingIdentifiers": [{"Id": fid, "ProductArn": found[fid]["ProductArn"]}],
            "Workflow": {"Status": status}}
    if note:
        args["Note"] = {"Text": note, "UpdatedBy": sys.argv[2]}
    r = c.batch_update_findings(**args)
    assert len(r["ProcessedFindings"]) == 1, r
"#;
    let out = Command::new(venv_bin("python"))
        .args(["-c", script, &hub.url, key])
        .arg(serde_json::to_string(updates).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_colleagues_change_in_the_hub_comes_back_into_the_case() {
    let hub = servers::python_server("securityhub_emulator.py", &[]);
    let t0 = desk_engine::time::now() / 1000 - 3600;
    import(&hub, t0, 0, "corpus");
    let e = env();
    add_hub(&e, &hub);
    let first = sync(&e);
    assert_eq!(first["hub_changes"], 0, "{first}");
    // This analyst works cam-001 here and pushes it; a colleague then resolves it in the hub
    // with a note, and marks an audit finding as being looked at (no note).
    support::ok(cmd(&e).args([
        "case",
        "set",
        "--thing",
        "cam-001",
        "--state",
        "investigating",
    ]));
    support::ok(cmd(&e).args([
        "hub",
        "push",
        "--thing",
        "cam-001",
        "--reason",
        "shared with the hub",
        "--yes",
    ]));
    let refs = support::json_out(&e.db, &["hub", "findings"]);
    let id_of = |kind: &str, pick: &dyn Fn(&str) -> bool| -> String {
        refs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind && pick(r["record"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("no {kind} in {refs}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cam = id_of("violation", &|r| r == "v-bytes-cam-001");
    let audit = id_of("finding", &|_| true);
    let audit_record = refs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == audit.as_str())
        .unwrap()["record"]
        .as_str()
        .unwrap()
        .to_string();
    colleague(
        &hub,
        "alice",
        &[
            (&cam, "RESOLVED", "lab device, expected \u{202e}txet"),
            (&audit, "NOTIFIED", ""),
        ],
    );
    let second = sync(&e);
    assert_eq!(
        second["hub_changes"], 3,
        "alice's state and note on cam-001, her state on the audit finding; not this cache's own push: {second}"
    );
    let case = support::json_out(&e.db, &["case", "show", "--thing", "cam-001"]);
    assert_eq!(
        case["state"], "benign",
        "the newest state is alice's: {case}"
    );
    let history = case["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{case}");
    assert_eq!(
        (history[0]["state"].as_str(), history[0]["origin"].as_str()),
        (Some("investigating"), None),
        "{case}"
    );
    assert_eq!(
        (
            history[1]["state"].as_str(),
            history[1]["who"].as_str(),
            history[1]["origin"].as_str()
        ),
        (
            Some("benign"),
            Some("arn:aws:iam::123456789012:user/alice"),
            Some("security-hub")
        ),
        "{case}"
    );
    let note = &case["notes"][0];
    assert_eq!(
        (note["who"].as_str(), note["origin"].as_str()),
        (Some("alice"), Some("security-hub")),
        "{case}"
    );
    assert_eq!(
        note["text"], "lab device, expected \u{fffd}txet",
        "a bidirectional control from elsewhere is made visible, not obeyed: {case}"
    );
    let finding = support::json_out(&e.db, &["case", "show", "--finding", &audit_record]);
    assert_eq!(finding["state"], "investigating", "{finding}");
    assert_eq!(finding["history"][0]["origin"], "security-hub", "{finding}");
    // Read again, nothing is read twice.
    let third = sync(&e);
    assert_eq!(third["hub_changes"], 0, "{third}");
    let again = support::json_out(&e.db, &["case", "show", "--thing", "cam-001"]);
    assert_eq!(again["history"].as_array().unwrap().len(), 2, "{again}");
    assert_eq!(again["notes"].as_array().unwrap().len(), 1, "{again}");
    let timeline = support::json_out(&e.db, &["timeline", "--thing", "cam-001"]);
    assert!(
        timeline
            .to_string()
            .contains("set by arn:aws:iam::123456789012:user/alice in Security Hub"),
        "{timeline}"
    );
    // Only the findings that moved had their history read (cam-001's, which this cache's push
    // moved too, and the audit finding's), and the third sync read none.
    let moved = refs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["record"].as_str().unwrap().ends_with("cam-001"))
        .count()
        + 1;
    let history_calls = calls_of(&hub, "GetFindingHistory");
    assert_eq!(history_calls.len(), moved, "{history_calls:?}");
    // The audit finding belongs to the hub's member account: a mitigation on it goes only
    // through a Device Defender source of that account, and there is none.
    let (out, _) = support::run(cmd(&e).args([
        "mitigate",
        "--finding",
        &audit_record,
        "--action",
        "quarantine-policy",
        "--reason",
        "policy is far too permissive",
        "--dry-run",
    ]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "audit finding {audit_record} belongs to account 123456789012"
        )) && err.contains("no Device Defender source of that account"),
        "{err}"
    );
}
