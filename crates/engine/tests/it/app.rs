//! The desktop app's facade over real SQLite files: which cache it shows (the demo fleet in its
//! own file until a source exists), the thing page, actions on the demo account, exports and
//! the incident report with hostile strings.

use std::path::Path;
use std::sync::Arc;

use desk_engine::analysis::drift::Change;
use desk_engine::analysis::timeline::EntryKind;
use desk_engine::app::{
    demo_account_path, demo_path, ActionRequest, CaseRequest, CaseState, DemoAccount, Desk,
    FindingCaseRequest, FindingNoteRequest, Look, Mode, NoteRequest, NotifyFilter, SourceInput,
    ThingRequest, HOME_WINDOW,
};
use desk_engine::demo::{BOTNET_CAMERA, CLONED_DEVICE, FTP_GATEWAY};
use desk_engine::ingest;
use desk_engine::secrets::{MemorySecrets, SecretStore};
use desk_engine::sources::{SourceSettings, SplunkSettings};
use desk_engine::store::Store;
use desk_engine::watch::ChangeKind;
use desk_engine::Error;

fn look() -> Look {
    Look {
        width: 600,
        height: 220,
        tz: "UTC".into(),
        theme: desk_engine::charts::Theme::Dark,
        scale: None,
    }
}

fn desk(dir: &Path) -> (Desk, Arc<MemorySecrets>) {
    let secrets = Arc::new(MemorySecrets::default());
    let d = Desk::new(
        dir.join("data/cache.sqlite"),
        dir.join("exports"),
        secrets.clone(),
    )
    .unwrap();
    (d, secrets)
}

/// A Splunk source as the Add form sends it.
fn splunk_input(name: &str, token: Option<&str>) -> SourceInput {
    SourceInput {
        name: name.into(),
        settings: SourceSettings::Splunk(SplunkSettings {
            url: "https://splunk.example:8089".into(),
            index: "iot".into(),
            sourcetype: desk_engine::sources::default_sourcetype(),
            ca_bundle: None,
            carries: None,
        }),
        token: token.map(String::from),
        account: None,
        region: None,
    }
}

/// The Splunk settings of an input made by [`splunk_input`].
fn splunk_of(input: &mut SourceInput) -> &mut SplunkSettings {
    match &mut input.settings {
        SourceSettings::Splunk(s) => s,
        other => panic!("not a Splunk source: {other:?}"),
    }
}

fn quarantine(thing: &str, create_group: bool) -> ActionRequest {
    ActionRequest::Quarantine {
        thing: thing.into(),
        group: "Quarantine".into(),
        create_group,
        deactivate_certificate: false,
    }
}

/// Plans `req`, checks that one of its calls is `call`, runs it with `reason`: it succeeds.
fn plan_and_run(d: &Desk, req: &ActionRequest, call: &str, reason: &str) {
    let plan = d.plan(req).unwrap();
    assert!(
        plan.calls.iter().any(|c| c.starts_with(call)),
        "{:?}",
        plan.calls
    );
    assert_eq!(d.execute(&plan.id, reason).unwrap().status, "succeeded");
}

/// The app shows an account without Detect too: device reports and lifecycle events only, in
/// a file of its own; the same stories are found, the cloned device from its disconnects, and
/// its disconnect chart counts events. The choice outlives the app (kept in the cache).
#[test]
fn the_demo_account_without_detect_tells_the_same_stories() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("data/cache.sqlite");
    let (d, _) = desk(dir.path());
    assert_eq!(d.status().unwrap().demo_account, DemoAccount::Detect);
    let status = d.set_demo_account(DemoAccount::NoDetect).unwrap();
    assert_eq!(
        (status.mode, status.demo_account),
        (Mode::Demo, DemoAccount::NoDetect)
    );
    assert_eq!(
        status.db,
        demo_account_path(&cache, DemoAccount::NoDetect)
            .display()
            .to_string()
    );
    let fleet = d.fleet(7 * 86_400_000).unwrap();
    assert_eq!(fleet.rows[0].id.thing, BOTNET_CAMERA, "{:?}", fleet.rows[0]);
    assert!(fleet.rows.iter().all(|r| r.open_violations == 0));
    let clone = fleet
        .rows
        .iter()
        .find(|r| r.id.thing == CLONED_DEVICE)
        .unwrap();
    assert!(
        clone
            .reasons
            .iter()
            .any(|r| r.text.contains("DUPLICATE_CLIENTID")),
        "{clone:?}"
    );
    let page = d
        .thing(&ThingRequest {
            thing: CLONED_DEVICE.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    let chart = page
        .charts
        .iter()
        .find(|c| c.metric == "lifecycle:disconnects:DUPLICATE_CLIENTID")
        .expect("the disconnects are charted");
    assert!(
        chart.per.is_some() && chart.label.contains(" per "),
        "{}",
        chart.label
    );
    // The analyst's cache holds the choice, no data; a new app starts on the same account.
    assert_eq!(Store::open(&cache).unwrap().point_count().unwrap(), 0);
    drop(d);
    let (d, _) = desk(dir.path());
    assert_eq!(d.status().unwrap().demo_account, DemoAccount::NoDetect);
    let back = d.set_demo_account(DemoAccount::Detect).unwrap();
    assert_eq!(back.db, demo_path(&cache).display().to_string());
    assert!(d
        .fleet(7 * 86_400_000)
        .unwrap()
        .rows
        .iter()
        .any(|r| r.open_violations > 0));
}

#[test]
fn opens_on_the_demo_fleet_in_its_own_file_and_explains_the_camera() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    let fleet = d.fleet(7 * 86_400_000).unwrap();
    assert_eq!(fleet.status.mode, Mode::Demo);
    assert!(demo_path(&dir.path().join("data/cache.sqlite")).exists());
    assert_eq!(
        fleet.rows[0].id.thing, BOTNET_CAMERA,
        "the botnet camera ranks first"
    );
    // The analyst's own cache stays empty: no simulated data mixed into it.
    let cache = Store::open(&dir.path().join("data/cache.sqlite")).unwrap();
    assert_eq!(cache.point_count().unwrap(), 0);

    let page = d
        .thing(&ThingRequest {
            thing: BOTNET_CAMERA.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    assert_eq!(page.charts[0].metric, "aws:all-bytes-out");
    assert!(page.charts[0].image.starts_with("data:image/png;base64,"));
    assert_eq!((page.charts[0].width, page.charts[0].height), (600, 220));
    assert!(
        !page.charts[0].thresholds.is_empty(),
        "the BytesOutHigh threshold is drawn"
    );
    assert!(page.charts[0].bands >= 1, "the violation interval is drawn");
    assert!(page.reasons.iter().any(|r| r.text.contains("bytes out")));
    assert!(page.timeline.iter().any(|e| e.kind == EntryKind::Violation));

    let gw = d
        .thing(&ThingRequest {
            thing: FTP_GATEWAY.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    let ftp = gw
        .drift
        .iter()
        .find(|r| r.metric == "aws:listening-tcp-ports" && r.value == "21")
        .expect("TCP 21 in the drift");
    assert!(ftp.attack_surface && !ftp.expected);
    assert!(gw
        .diff
        .iter()
        .any(|r| r.value.text() == "21" && r.change == Change::Added));

    let missing = d.thing(&ThingRequest {
        thing: "no-such-thing".into(),
        from: None,
        to: None,
        look: look(),
    });
    assert!(matches!(missing, Err(Error::NotFound(m)) if m.contains("no-such-thing")));
}

#[test]
fn quarantine_and_release_on_the_demo_account_are_logged_and_undone() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    // Without the group, the plan warns and executing is refused.
    let plan = d.plan(&quarantine(BOTNET_CAMERA, false)).unwrap();
    assert!(plan.demo);
    assert!(plan.warnings.iter().any(|w| w.contains("no thing group")));
    let refused = d.execute(&plan.id, "botnet traffic seen on the camera");
    assert!(matches!(refused, Err(Error::InvalidInput(m)) if m.contains("does not exist")));

    let plan = d.plan(&quarantine(BOTNET_CAMERA, true)).unwrap();
    assert!(plan.calls.iter().any(|c| c.starts_with("CreateThingGroup")));
    assert!(matches!(
        d.execute(&plan.id, "short"),
        Err(Error::InvalidInput(_))
    ));
    let plan = d.plan(&quarantine(BOTNET_CAMERA, true)).unwrap();
    let done = d
        .execute(&plan.id, "botnet traffic seen on the camera")
        .unwrap();
    assert_eq!(done.status, "succeeded");
    assert!(
        matches!(
            d.execute(&plan.id, "botnet traffic seen on the camera"),
            Err(Error::NotFound(_))
        ),
        "a plan runs once"
    );
    let fleet = d.fleet(7 * 86_400_000).unwrap();
    assert!(fleet
        .rows
        .iter()
        .any(|r| r.id.thing == BOTNET_CAMERA && r.quarantined));

    plan_and_run(
        &d,
        &ActionRequest::Release {
            thing: BOTNET_CAMERA.into(),
        },
        "RemoveThingFromThingGroup",
        "false positive after vendor check",
    );
    let log = d.actions().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].action.as_str(), log[0].status.as_str()),
        ("release", "succeeded")
    );
    assert_eq!(log[1].reason, "botnet traffic seen on the camera");
    assert!(log.iter().all(|a| a.demo && a.who == "demo"));
    assert!(d.verify_actions().unwrap().ok);
    assert!(!d
        .fleet(7 * 86_400_000)
        .unwrap()
        .rows
        .iter()
        .any(|r| r.quarantined));
    let csv = std::fs::read_to_string(d.export_actions_csv().unwrap().path).unwrap();
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn adding_a_source_switches_to_the_analysts_cache_and_keeps_secrets_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let (d, secrets) = desk(dir.path());
    assert_eq!(d.status().unwrap().mode, Mode::Demo);
    let mut input = splunk_input("prod-splunk", None);
    assert!(
        matches!(d.add_source(&input), Err(Error::InvalidInput(m)) if m.contains("token")),
        "a Splunk source needs its token"
    );
    let token = "s3cr3t-token-value-9f8e7d";
    input.token = Some(token.into());
    let view = d.add_source(&input).unwrap();
    assert!(view.has_secret);
    // Kept bound to the server it was stored for.
    let bound =
        desk_engine::secrets::get_bound(&*secrets, "prod-splunk", "https://splunk.example:8089");
    assert_eq!(bound.unwrap().unwrap().expose(), token);
    let status = d.status().unwrap();
    assert_eq!(status.mode, Mode::Live);
    assert_eq!(status.sources.len(), 1);
    for f in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token must live only in the keychain"
        );
    }
    assert!(view.target.ends_with("index=iot"), "{}", view.target);
    // A Detect-free index fed by an IoT rule's HEC action may carry its own sourcetype.
    let mut hec = splunk_input("rule-splunk", Some("another-token-value-1a2b"));
    splunk_of(&mut hec).sourcetype = "iot:device-reports".into();
    let hec = d.add_source(&hec).unwrap();
    assert!(
        hec.target.ends_with("sourcetype=iot:device-reports"),
        "{}",
        hec.target
    );
    let mut bad = splunk_input("bad-splunk", Some("another-token-value-1a2b"));
    splunk_of(&mut bad).sourcetype = "x\" OR index=*".into();
    assert!(
        matches!(d.add_source(&bad), Err(Error::InvalidInput(_))),
        "a sourcetype is one search token"
    );
    assert!(secrets.get("bad-splunk").unwrap().is_none());
    d.remove_source("rule-splunk").unwrap();
    d.remove_source("prod-splunk").unwrap();
    assert!(secrets.get("prod-splunk").unwrap().is_none());
    assert_eq!(d.status().unwrap().mode, Mode::Demo);
    assert!(matches!(
        d.remove_source("prod-splunk"),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn exports_and_the_incident_report_keep_hostile_strings_inert() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>";
    {
        let mut store = Store::open(&dir.path().join("data/cache.sqlite")).unwrap();
        let batch = format!(
            r#"{{"version":"1.0","metrics":[
              {{"name":"aws:all-bytes-out","thing":"{t}","value":{{"count":10}},"version":1,"timestamp":1717430400000}},
              {{"name":"aws:all-bytes-out","thing":"{t}","value":{{"count":12}},"version":1,"timestamp":1717430700000}},
              {{"name":"=HYPERLINK(\"http://x\")","thing":"{t}","value":{{"count":1}},"version":1,"timestamp":1717430700000}},
              {{"name":"app-names","thing":"{t}","value":{{"strings":["<img src=x onerror=alert(1)>"]}},"version":1,"timestamp":1717430700000}}]}}"#,
            t = hostile.replace('/', "\\/")
        );
        let report =
            ingest::ingest_bytes(&mut store, "h.json", batch.as_bytes(), &Default::default());
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }
    let (d, _) = desk(dir.path());
    assert_eq!(d.status().unwrap().mode, Mode::Live);
    let req = ThingRequest {
        thing: hostile.into(),
        from: Some(1_717_420_000_000),
        to: Some(1_717_440_000_000),
        look: look(),
    };
    let saved = d.report(&req).unwrap();
    let path = Path::new(&saved.path);
    assert!(path.starts_with(dir.path().join("exports")));
    let html = std::fs::read_to_string(path).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains(hostile) && !html.contains("<img src=x"));
    assert!(html.contains("all times UTC"));

    let csv = d.export_csv(hostile, 0, i64::MAX).unwrap();
    assert!(Path::new(&csv.path).starts_with(dir.path().join("exports")));
    let text = std::fs::read_to_string(&csv.path).unwrap();
    assert!(text.contains("'=HYPERLINK"), "formulas are defused: {text}");
}

#[test]
fn the_ranking_computed_at_launch_is_handed_out_once_and_never_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    let ranks = |f: &desk_engine::app::Fleet| {
        f.rows
            .iter()
            .map(|r| (r.id.thing.clone(), r.score.to_bits(), r.quarantined))
            .collect::<Vec<_>>()
    };
    d.prefetch_fleet(HOME_WINDOW).unwrap();
    let ahead = d.fleet(HOME_WINDOW).unwrap();
    let fresh = d.fleet(HOME_WINDOW).unwrap();
    assert_eq!(
        ranks(&ahead),
        ranks(&fresh),
        "the same ranking, computed earlier"
    );
    assert_eq!(ahead.rows[0].id.thing, BOTNET_CAMERA);

    // An action between the launch and the first ask drops what was computed before it.
    d.prefetch_fleet(HOME_WINDOW).unwrap();
    let plan = d.plan(&quarantine(BOTNET_CAMERA, true)).unwrap();
    d.execute(&plan.id, "botnet traffic seen on the camera")
        .unwrap();
    let after = d.fleet(HOME_WINDOW).unwrap();
    assert!(
        after
            .rows
            .iter()
            .any(|r| r.id.thing == BOTNET_CAMERA && r.quarantined),
        "the quarantine shows at once"
    );
}

#[test]
fn the_demo_account_runs_mitigation_actions_of_the_right_type_on_violations_and_findings() {
    use desk_engine::actions::{DEMO_AUDIT_ACTIONS, DEMO_DETECT_ACTIONS};
    use desk_engine::app::MitigationFor;
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    let detect = d.mitigation_actions(MitigationFor::Violation).unwrap();
    assert_eq!(detect, DEMO_DETECT_ACTIONS);
    let audit = d.mitigation_actions(MitigationFor::Finding).unwrap();
    assert!(DEMO_AUDIT_ACTIONS
        .iter()
        .all(|a| audit.iter().any(|b| b == a)));
    assert!(audit.iter().any(|a| a == DEMO_DETECT_ACTIONS[0]));

    let page = d
        .thing(&ThingRequest {
            thing: BOTNET_CAMERA.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    let violation = page.violations[0].violation_id.clone();
    // Detect runs only ADD_THINGS_TO_THING_GROUP actions: another type is refused up front.
    let refused = d.plan(&ActionRequest::MitigateViolation {
        violation: violation.clone(),
        name: DEMO_AUDIT_ACTIONS[0].into(),
    });
    assert!(
        matches!(&refused, Err(Error::NotFound(m)) if m.contains("usable on a violation")),
        "{refused:?}"
    );
    let plan = d
        .plan(&ActionRequest::MitigateViolation {
            violation: violation.clone(),
            name: DEMO_DETECT_ACTIONS[0].into(),
        })
        .unwrap();
    assert!(plan.demo);
    assert!(
        plan.calls
            .iter()
            .any(|c| c.contains("StartDetectMitigationActionsTask") && c.contains(&violation)),
        "{:?}",
        plan.calls
    );
    let done = d
        .execute(&plan.id, "isolate the camera while the vendor looks")
        .unwrap();
    assert_eq!(done.status, "succeeded");

    let audit_page = d.audit(0, i64::MAX / 2, &look()).unwrap();
    let finding = audit_page.findings.first().expect("the demo has findings");
    plan_and_run(
        &d,
        &ActionRequest::MitigateFinding {
            finding: finding.finding_id.clone(),
            name: DEMO_AUDIT_ACTIONS[0].into(),
        },
        "StartAuditMitigationActionsTask",
        "certificate shared between devices",
    );
    let log = d.actions().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|a| a.demo && a.action == desk_engine::actions::ActionKind::Mitigate));
}

#[test]
fn the_incident_report_attributes_findings_exactly_and_hides_the_cache_path() {
    // Regression: findings were matched by substring, so cam-1's report listed cam-10's, and a
    // device choosing the client id "x-cam-1-y" could plant findings in cam-1's report.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(&dir.path().join("data/cache.sqlite")).unwrap();
        let metrics = br#"{"version":"1.0","metrics":[
          {"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":10},"version":1,"timestamp":1717430400000},
          {"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":12},"version":1,"timestamp":1717430700000}]}"#;
        let r = ingest::ingest_bytes(&mut store, "m.json", metrics, &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let finding = |id: &str, client: &str| {
            format!(
                r#"{{"findingId":"{id}","taskId":"t1","checkName":"CONFLICTING_CLIENT_IDS_CHECK","taskStartTime":1717430000,"findingTime":1717430100,"severity":"HIGH","nonCompliantResource":{{"resourceType":"CLIENT_ID","resourceIdentifier":{{"clientId":"{client}"}}}},"reasonForNonCompliance":"reason {id}","isSuppressed":false}}"#
            )
        };
        let doc = format!(
            r#"{{"findings":[{},{},{}]}}"#,
            finding("own", "cam-1"),
            finding("other", "cam-10"),
            finding("planted", "x-cam-1-y")
        );
        let r = ingest::ingest_bytes(&mut store, "f.json", doc.as_bytes(), &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
    let (d, _) = desk(dir.path());
    let req = ThingRequest {
        thing: "cam-1".into(),
        from: Some(1_717_420_000_000),
        to: Some(1_717_440_000_000),
        look: look(),
    };
    let html = std::fs::read_to_string(d.report(&req).unwrap().path).unwrap();
    assert!(html.contains("reason own"), "its own finding is listed");
    assert!(
        !html.contains("reason other"),
        "cam-10's finding is not cam-1's"
    );
    assert!(
        !html.contains("reason planted"),
        "a client id containing the name is not the thing"
    );
    let cache_dir = dir.path().join("data").display().to_string();
    assert!(!html.contains(&cache_dir), "the report names no local path");
}

/// A finding's investigation (issue 20): state, owner and notes set from the app show on the
/// Audit screen, in the thing's report beside the finding, and survive a restart; an unknown
/// finding is refused.
#[test]
fn a_findings_investigation_reaches_the_audit_screen_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(&dir.path().join("data/cache.sqlite")).unwrap();
        let metrics = br#"{"version":"1.0","metrics":[
          {"name":"aws:all-bytes-out","thing":"cam-1","value":{"count":10},"version":1,"timestamp":1717430400000}]}"#;
        let r = ingest::ingest_bytes(&mut store, "m.json", metrics, &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let doc = r#"{"findings":[{"findingId":"f-cam-1","taskId":"t1","checkName":"CONFLICTING_CLIENT_IDS_CHECK","taskStartTime":1717430000,"findingTime":1717430100,"severity":"HIGH","nonCompliantResource":{"resourceType":"CLIENT_ID","resourceIdentifier":{"clientId":"cam-1"}},"reasonForNonCompliance":"two devices share it","isSuppressed":false}]}"#;
        let r = ingest::ingest_bytes(&mut store, "f.json", doc.as_bytes(), &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
    let (d, _) = desk(dir.path());
    let audit = |d: &Desk| {
        d.audit(1_717_000_000_000, 1_718_000_000_000, &look())
            .unwrap()
    };
    assert!(audit(&d).finding_states.is_empty(), "nobody has looked yet");
    let c = d
        .set_finding_case(&FindingCaseRequest {
            finding: "f-cam-1".into(),
            state: CaseState::Compromised,
            owner: Some("ana".into()),
        })
        .unwrap();
    assert_eq!(c.state, CaseState::Compromised);
    let hostile = "<script>alert(1)</script> cloned certificate";
    let c = d
        .add_finding_note(&FindingNoteRequest {
            finding: "f-cam-1".into(),
            text: hostile.into(),
        })
        .unwrap();
    assert_eq!(c.notes[0].text, hostile);
    let states = audit(&d).finding_states;
    assert_eq!(states.len(), 1);
    assert_eq!(
        (
            states[0].finding_id.as_str(),
            states[0].state,
            states[0].owner.as_deref()
        ),
        ("f-cam-1", CaseState::Compromised, Some("ana"))
    );
    assert!(d
        .set_finding_case(&FindingCaseRequest {
            finding: "no-such-finding".into(),
            state: CaseState::Benign,
            owner: None,
        })
        .is_err());
    assert!(d.finding_case("no-such-finding").is_err());
    // The thing's own triage state is untouched by its finding's.
    assert_eq!(d.case("cam-1").unwrap().state, CaseState::New);

    let req = ThingRequest {
        thing: "cam-1".into(),
        from: Some(1_717_420_000_000),
        to: Some(1_717_440_000_000),
        look: look(),
    };
    let html = std::fs::read_to_string(d.report(&req).unwrap().path).unwrap();
    assert!(html.contains("resolved — compromised · ana"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; cloned certificate"));
    assert!(!html.contains("<script>"), "the note is escaped");

    drop(d);
    let (d, _) = desk(dir.path());
    let c = d.finding_case("f-cam-1").unwrap();
    assert_eq!((c.state, c.notes.len()), (CaseState::Compromised, 1));
}

#[test]
fn a_sources_token_never_shows_in_debug_output() {
    let input = splunk_input("spl", Some("s3cr3t-token-value-9f8e7d"));
    let shown = format!("{input:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn adding_a_duplicate_source_keeps_the_first_ones_token() {
    // Regression: the app wrote the new token before checking the name was free, then deleted
    // it when the add failed, destroying the existing source's token.
    let dir = tempfile::tempdir().unwrap();
    let (d, secrets) = desk(dir.path());
    let input = |token: &str| splunk_input("prod-splunk", Some(token));
    d.add_source(&input("first-token-value")).unwrap();
    let again = d.add_source(&input("second-token-value"));
    assert!(matches!(again, Err(Error::InvalidInput(m)) if m.contains("already exists")));
    assert_eq!(
        desk_engine::secrets::get_bound(&*secrets, "prod-splunk", "https://splunk.example:8089")
            .unwrap()
            .unwrap()
            .expose(),
        "first-token-value"
    );
    // Plain http to another host is refused before anything is stored.
    let mut http = input("third-token-value");
    http.name = "other".into();
    splunk_of(&mut http).url = "http://splunk.example:8089".into();
    assert!(matches!(d.add_source(&http), Err(Error::InvalidInput(m)) if m.contains("clear text")));
    assert!(secrets.get("other").unwrap().is_none());
}

#[test]
fn release_after_a_repeated_quarantine_leaves_the_group() {
    // Regression: the second quarantine snapshotted the thing already in the group as its
    // "prior" state, so the release planned no removal and the thing stayed quarantined.
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    let reason = "botnet traffic seen on the camera";
    plan_and_run(
        &d,
        &quarantine(BOTNET_CAMERA, true),
        "AddThingToThingGroup",
        reason,
    );
    let again = d.plan(&quarantine(BOTNET_CAMERA, true)).unwrap();
    // Already in the group: the repeated quarantine has nothing to do and logs nothing (so it
    // cannot snapshot the quarantined state as the prior one).
    let repeated = d.execute(&again.id, reason);
    assert!(
        matches!(&repeated, Err(Error::InvalidInput(m)) if m.contains("nothing to do")),
        "{repeated:?}"
    );
    let logged = d.actions().unwrap().len();
    plan_and_run(
        &d,
        &ActionRequest::Release {
            thing: BOTNET_CAMERA.into(),
        },
        "RemoveThingFromThingGroup",
        "false positive after vendor check",
    );
    assert_eq!(
        d.actions().unwrap().len(),
        logged + 1,
        "only the release was logged"
    );
    assert!(!d
        .fleet(7 * 86_400_000)
        .unwrap()
        .rows
        .iter()
        .any(|r| r.id.thing == BOTNET_CAMERA && r.quarantined));
}

/// What the app's screens carry for the documents the AWS CLI wrote (`tests/fixtures/real/cli/`):
/// the Audit screen's failed check with its error, findings with related resources and reason
/// code; the thing page's violations with ML confidence and the verification note; the
/// shared-certificate finding in the timeline of a thing named only as a related client id.
#[test]
fn the_screens_carry_the_evidence_the_aws_cli_documents_hold() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(&dir.path().join("data/cache.sqlite")).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/real/cli");
        let paths: Vec<_> = [
            "describe-security-profile.json",
            "list-violation-events-wire.json",
            "list-active-violations-wire.json",
            "list-audit-findings-wire.json",
        ]
        .iter()
        .map(|n| root.join(n))
        .collect();
        let r = ingest::ingest_paths(&mut store, &paths, &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        // DescribeAuditTask does not name its task: the analyst says which.
        let task = desk_engine::model::parse::Context {
            task_id: Some("5f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f".into()),
            ..Default::default()
        };
        let r = ingest::ingest_paths(
            &mut store,
            &[root.join("describe-audit-task-wire.json")],
            &task,
        );
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        // Metric values (the app shows the analyst's cache once it holds data).
        let values = desk_engine::model::parse::Context {
            thing: Some("cam-001".into()),
            metric: Some("aws:num-messages-sent".into()),
            ..Default::default()
        };
        let r = ingest::ingest_paths(
            &mut store,
            &[root.join("list-metric-values-plain.json")],
            &values,
        );
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
    let (d, _) = desk(dir.path());
    let t0 = 1_764_540_000_000_i64;
    let audit = d.audit(t0 - 30 * 86_400_000, t0, &look()).unwrap();
    let failed: Vec<_> = audit
        .checks
        .iter()
        .filter(|c| c.error_code.is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", audit.checks);
    assert!(failed[0].message.is_some());
    let shared = audit
        .findings
        .iter()
        .find(|f| f.finding_id == "f-shared-cert")
        .expect("the shared-certificate finding");
    assert_eq!(
        shared.reason_code.as_deref(),
        Some("CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES")
    );
    let clients: Vec<&str> = shared
        .related_resources
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(clients, ["cam-001", "cam-002"]);
    let page = |thing: &str| {
        d.thing(&ThingRequest {
            thing: thing.into(),
            from: Some(t0 - 2 * 3_600_000),
            to: Some(t0),
            look: look(),
        })
        .unwrap()
    };
    let cam2 = page("cam-002");
    let ml = cam2
        .violations
        .iter()
        .find(|v| v.confidence.is_some())
        .expect("the ML violation");
    assert_eq!(ml.confidence.map(|v| v.as_str()), Some("HIGH"));
    assert_eq!(
        ml.verification_description.as_deref(),
        Some("nightly backup")
    );
    let cam1 = page("cam-001");
    assert!(
        cam1.timeline
            .iter()
            .any(|e| e.kind == EntryKind::Finding && e.id == "f-shared-cert"),
        "{:?}",
        cam1.timeline
    );
}

/// The investigation from the app: a state and owner set on the thing page show in triage (a
/// benign thing goes down, says why, and stays down after a restart), notes carry who and when,
/// and the incident report shows them as text, never as markup.
#[test]
fn investigation_state_reaches_triage_the_timeline_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    let fleet = d.fleet(HOME_WINDOW).unwrap();
    assert_eq!(fleet.rows[0].id.thing, BOTNET_CAMERA);
    assert!(fleet.rows.iter().all(|r| r.case_state == CaseState::New));
    let set = |state, owner: Option<&str>| {
        d.set_case(&CaseRequest {
            thing: BOTNET_CAMERA.into(),
            state,
            owner: owner.map(String::from),
        })
        .unwrap()
    };
    let c = set(CaseState::Investigating, Some("ana"));
    assert_eq!(
        (c.state, c.owner.as_deref()),
        (CaseState::Investigating, Some("ana"))
    );
    let hostile = "<img src=x onerror=alert(1)> backup window";
    let c = d
        .add_case_note(&NoteRequest {
            thing: BOTNET_CAMERA.into(),
            text: hostile.into(),
        })
        .unwrap();
    assert_eq!(c.notes[0].text, hostile);
    assert!(d
        .add_case_note(&NoteRequest {
            thing: "no-such-thing".into(),
            text: "x".into(),
        })
        .is_err());
    set(CaseState::Benign, None);
    let fleet = d.fleet(HOME_WINDOW).unwrap();
    let cam = fleet
        .rows
        .iter()
        .find(|r| r.id.thing == BOTNET_CAMERA)
        .unwrap();
    assert_ne!(fleet.rows[0].id.thing, BOTNET_CAMERA);
    assert_eq!(
        (cam.case_state, cam.case_owner.as_deref()),
        (CaseState::Benign, Some("ana"))
    );
    assert!(cam
        .down_ranked
        .as_deref()
        .unwrap()
        .contains("until new evidence"));

    let page = d
        .thing(&ThingRequest {
            thing: BOTNET_CAMERA.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    assert_eq!(page.case.state, CaseState::Benign);
    assert_eq!(
        page.timeline
            .iter()
            .filter(|e| e.kind == EntryKind::Case)
            .count(),
        3
    );
    let saved = d
        .report(&ThingRequest {
            thing: BOTNET_CAMERA.into(),
            from: None,
            to: None,
            look: look(),
        })
        .unwrap();
    let html = std::fs::read_to_string(&saved.path).unwrap();
    assert!(html.contains("Investigation"));
    assert!(html.contains("resolved — benign, owner ana"), "{html}");
    assert!(!html.contains("<img src=x"), "the note is escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; backup window"));

    // A new app on the same cache: the state and the ranking hold.
    drop(d);
    let (d, _) = desk(dir.path());
    let fleet = d.fleet(HOME_WINDOW).unwrap();
    assert_ne!(fleet.rows[0].id.thing, BOTNET_CAMERA);
    assert_eq!(d.case(BOTNET_CAMERA).unwrap().notes.len(), 1);
}

/// The app's watcher: a due source syncs (here one that cannot connect: it backs off and says
/// so), and what another process wrote to the cache between two syncs is told once, with one
/// notification line for what passes the filter; a paused source does not sync.
#[test]
fn the_watcher_syncs_due_sources_backs_off_and_tells_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = desk(dir.path());
    // The watcher's time moves only when the test moves it: no sleeping.
    let clock = Arc::new(desk_engine::time::ManualClock::at(1_764_540_000_000));
    let d = d.with_clock(clock.clone());
    let mut down = splunk_input("down", Some("t0ken-never-shown"));
    splunk_of(&mut down).url = "http://127.0.0.1:9".into();
    d.add_source(&down).unwrap();
    d.set_watch_interval(std::time::Duration::from_secs(1));
    let first = d.watch_tick().unwrap();
    assert_eq!(first.synced, ["down"]);
    assert!(first.changes.is_empty(), "{first:?}");
    let view = d.watch().unwrap();
    let s = &view.sources[0];
    assert_eq!(
        (s.source.as_str(), s.failures, s.paused),
        ("down", 1, false)
    );
    assert!(s.error.is_some() && s.next_sync.is_some());
    // Not due yet (backed off to two intervals): nothing synced.
    assert!(d.watch_tick().unwrap().synced.is_empty());

    // Another process writes an alarm and a finding into the cache.
    let cache = dir.path().join("data/cache.sqlite");
    let mut store = Store::open(&cache).unwrap();
    for f in [
        "api-list-active-violations.json",
        "api-list-audit-findings.json",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(f);
        let r = ingest::ingest_paths(&mut store, &[path], &Default::default());
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
    drop(store);
    // Backed off to two intervals: due again after 2 s.
    clock.advance(std::time::Duration::from_millis(1900));
    assert!(
        d.watch_tick().unwrap().synced.is_empty(),
        "not due before its back-off"
    );
    clock.advance(std::time::Duration::from_millis(200));
    let second = d.watch_tick().unwrap();
    assert_eq!(second.synced, ["down"]);
    let alarm = second
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::AlarmStarted)
        .unwrap_or_else(|| panic!("{second:?}"));
    assert_eq!(alarm.thing.as_deref(), Some("cam-0042"));
    assert!(second.notify.as_deref().unwrap().contains("cam-0042"));
    assert_eq!(d.watch().unwrap().sources[0].failures, 2);
    assert_eq!(d.watch().unwrap().unseen as usize, second.changes.len());
    assert_eq!(d.changes().len(), second.changes.len());
    d.mark_changes_seen();
    assert_eq!(d.watch().unwrap().unseen, 0);

    // The analyst's notification filter is kept in the cache; a bad one is refused.
    let mine = NotifyFilter {
        min_score: 75.0,
        severities: vec![desk_engine::model::Severity::Low],
        alarms: false,
        colleagues: true,
    };
    d.set_notify_filter(&mine).unwrap();
    assert_eq!(d.notify_filter().unwrap(), mine);
    assert!(d
        .set_notify_filter(&NotifyFilter {
            min_score: f64::NAN,
            ..mine.clone()
        })
        .is_err());

    // Paused: never due.
    let view = d.pause_source("down", true).unwrap();
    assert!(view.sources[0].paused && view.sources[0].next_sync.is_none());
    clock.advance(std::time::Duration::from_secs(3600));
    assert!(d.watch_tick().unwrap().synced.is_empty());
    assert!(d.pause_source("nope", true).is_err());
}

/// The app's history thread: a cache from the previous version is upgraded slice by slice,
/// and the *keep raw points* setting compacts the days past it; the History panel says so.
#[test]
fn the_history_thread_upgrades_a_cache_and_compacts_past_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/caches/schema14-f2.sqlite"),
        dir.path().join("data/cache.sqlite"),
    )
    .unwrap();
    let (d, _) = desk(dir.path());
    let before = d.history().unwrap();
    assert!(before.upgrade_pending);
    assert_eq!(before.keep_raw_days, None);
    let mut slices = 0;
    while d.maintain_history().unwrap() {
        slices += 1;
        assert!(slices < 100, "the upgrade ends");
    }
    let upgraded = d.history().unwrap();
    assert!(!upgraded.upgrade_pending);
    assert_eq!(upgraded.points, before.points);
    assert_eq!(
        upgraded.compacted_points, 0.0,
        "nothing compacted by default"
    );
    assert!(d.set_keep_raw(Some(0)).is_err(), "0 days is refused");
    assert_eq!(d.set_keep_raw(Some(1)).unwrap().keep_raw_days, Some(1));
    while d.maintain_history().unwrap() {}
    let compacted = d.history().unwrap();
    assert_eq!(
        compacted.points, 0.0,
        "every day of the fixture is older than a day"
    );
    assert_eq!(compacted.compacted_points, before.points);
    assert_eq!(d.set_keep_raw(None).unwrap().keep_raw_days, None);
}
