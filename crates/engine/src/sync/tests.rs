//! Sync's orchestration against in-memory fakes: a sink that keeps what it is given, pullers
//! that write, fail a unit, fail whole, or wait for the cancel.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures_util::future::LocalBoxFuture;

use super::*;
use crate::sources::contract::add_stats;

/// Keeps every write; counts each batch as one datapoint; fails when told to.
#[derive(Default)]
struct MemorySink {
    writes: Mutex<Vec<(usize, SyncMarks)>>,
    fail: bool,
}

impl Sink for MemorySink {
    fn write(
        &self,
        batches: Vec<Batch>,
        marks: SyncMarks,
    ) -> BoxFuture<'_, std::result::Result<Vec<WriteStats>, String>> {
        Box::pin(async move {
            if self.fail {
                return Err("disk full".to_string());
            }
            let n = batches.len();
            self.writes.lock().unwrap().push((n, marks));
            Ok(vec![
                WriteStats {
                    datapoints: 1,
                    ..WriteStats::default()
                };
                n
            ])
        })
    }
}

enum Fake {
    /// Writes `n` batches, each in its own transaction, and fails `failed_units` units.
    Writes { n: usize, failed_units: usize },
    /// Fails as a whole.
    Fails(&'static str),
    /// Waits for the cancel, then stops without error.
    WaitsForCancel,
    /// Writes one batch, then never finishes (a server that sends a blank line every second).
    Trickles,
}

impl Pull for Fake {
    fn pull<'a>(
        &'a self,
        ctx: &'a mut SyncCtx<'_>,
    ) -> LocalBoxFuture<'a, std::result::Result<(), crate::sources::SourceError>> {
        Box::pin(async move {
            match self {
                Fake::Writes { n, failed_units } => {
                    for i in 0..*n {
                        let stats = ctx
                            .sink
                            .write(vec![Batch::default()], SyncMarks::default())
                            .await?;
                        add_stats(&mut ctx.summary, &stats);
                        ctx.meter.done.fetch_add(1, Ordering::Relaxed);
                        if i < *failed_units {
                            ctx.failures.push(SyncFailure {
                                source: ctx.name.to_string(),
                                kind: crate::sources::SourceErrorKind::Data,
                                object: Some(format!("unit-{i}")),
                                error: "corrupt".into(),
                            });
                        }
                    }
                    Ok(())
                }
                Fake::Fails(e) => Err(crate::sources::SourceError::new(
                    crate::sources::SourceErrorKind::AccessDenied,
                    e.to_string(),
                )),
                Fake::WaitsForCancel => {
                    ctx.cancel.cancelled().await;
                    Ok(())
                }
                Fake::Trickles => {
                    let stats = ctx
                        .sink
                        .write(vec![Batch::default()], SyncMarks::default())
                        .await?;
                    add_stats(&mut ctx.summary, &stats);
                    loop {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                }
            }
        })
    }

    fn test(&self) -> LocalBoxFuture<'_, Result<Health>> {
        Box::pin(async { Ok(Health::ok("fake")) })
    }

    fn drill_down<'a>(
        &'a self,
        _: &'a mut Store,
        _: &'a str,
        _: &'a crate::model::scope::Scope,
        _: &'a mut SourceSummary,
        _: &'a CancellationToken,
    ) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

fn job(name: &str, pull: std::result::Result<Fake, &str>) -> PullJob {
    PullJob {
        name: name.into(),
        kind: crate::sources::SourceKind::S3,
        resume: Resume::default(),
        pull: pull
            .map(|p| Box::new(p) as Box<dyn Pull>)
            .map_err(crate::sources::SourceError::service),
        scope: Default::default(),
    }
}

fn run(
    jobs: Vec<PullJob>,
    sink: &MemorySink,
    cancel: &CancellationToken,
) -> (Vec<(SourceSummary, Vec<SyncFailure>)>, Vec<SyncEvent>) {
    run_with(jobs, sink, cancel, &SyncOptions::default())
}

fn run_with(
    jobs: Vec<PullJob>,
    sink: &MemorySink,
    cancel: &CancellationToken,
    options: &SyncOptions,
) -> (Vec<(SourceSummary, Vec<SyncFailure>)>, Vec<SyncEvent>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let progress: Progress = Arc::new(move |e| seen.lock().unwrap().push(e));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(run_pulls(
        jobs,
        options,
        1_800_000_000_000,
        sink,
        progress,
        cancel,
    ));
    let events = events.lock().unwrap().clone();
    (out, events)
}

#[test]
fn a_failing_source_is_its_own_and_the_others_carry_on() {
    let sink = MemorySink::default();
    let (out, events) = run(
        vec![
            job(
                "good",
                Ok(Fake::Writes {
                    n: 3,
                    failed_units: 0,
                }),
            ),
            job(
                "one-bad-object",
                Ok(Fake::Writes {
                    n: 2,
                    failed_units: 1,
                }),
            ),
            job("down", Ok(Fake::Fails("connection refused"))),
            job("no-token", Err("no Splunk token in the OS keychain")),
        ],
        &sink,
        &CancellationToken::new(),
    );
    let names: Vec<&str> = out.iter().map(|(s, _)| s.source.as_str()).collect();
    assert_eq!(
        names,
        ["good", "one-bad-object", "down", "no-token"],
        "the jobs' order"
    );
    let (good, none) = &out[0];
    assert!(good.ok && none.is_empty());
    assert_eq!(good.datapoints, 3, "each write's stats are counted");
    let (bad, failures) = &out[1];
    assert!(!bad.ok, "a failed unit makes the source not ok");
    assert_eq!(bad.datapoints, 2, "its other units were still written");
    assert_eq!(failures[0].object.as_deref(), Some("unit-0"));
    for (i, says) in [(2, "connection refused"), (3, "no Splunk token")] {
        let (s, f) = &out[i];
        assert!(!s.ok);
        assert_eq!(f.len(), 1);
        assert!(f[0].object.is_none() && f[0].error.contains(says), "{f:?}");
    }
    assert_eq!(sink.writes.lock().unwrap().len(), 5);
    // Every source starts and finishes once; a whole-source failure says why.
    let started = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::SourceStarted { .. }))
        .count();
    let finished: Vec<(&str, bool, Option<&str>)> = events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::SourceFinished { source, ok, error } => {
                Some((source.as_str(), *ok, error.as_deref()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(started, 4);
    assert_eq!(finished.len(), 4);
    assert!(finished.contains(&("down", false, Some("connection refused"))));
    assert!(finished.contains(&("good", true, None)));
}

#[test]
fn a_sink_that_fails_fails_the_source_with_its_reason() {
    let sink = MemorySink {
        fail: true,
        ..MemorySink::default()
    };
    let (out, _) = run(
        vec![job(
            "s3",
            Ok(Fake::Writes {
                n: 1,
                failed_units: 0,
            }),
        )],
        &sink,
        &CancellationToken::new(),
    );
    let (s, f) = &out[0];
    assert!(!s.ok);
    assert_eq!(s.datapoints, 0);
    assert_eq!(f[0].error, "disk full");
}

#[test]
fn a_cancelled_sync_marks_no_source_ok_and_reports_no_failure() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let sink = MemorySink::default();
    let (out, _) = run(
        vec![
            job("waiting", Ok(Fake::WaitsForCancel)),
            job(
                "done",
                Ok(Fake::Writes {
                    n: 1,
                    failed_units: 0,
                }),
            ),
        ],
        &sink,
        &cancel,
    );
    for (s, f) in &out {
        assert!(
            !s.ok,
            "{}: a cancelled sync is not a complete one",
            s.source
        );
        assert!(f.is_empty(), "cancelling is not a failure: {f:?}");
    }
}

/// A kind that keeps a secret gets it from the keychain, and without one its source fails with
/// what to do; the other kinds never ask the keychain (a jump host may have none).
#[test]
fn pullers_read_the_secret_only_for_kinds_that_keep_one() {
    use crate::secrets::{MemorySecrets, Secret, SecretStore};
    use crate::sources::{S3Settings, SourceSettings, SplunkSettings};

    /// A keychain that must not be asked.
    struct NoKeychain;
    impl SecretStore for NoKeychain {
        fn get(&self, _: &str) -> Result<Option<Secret>> {
            panic!("asked the keychain for a source that keeps no secret")
        }
        fn set(&self, _: &str, _: &Secret) -> Result<()> {
            unreachable!()
        }
        fn delete(&self, _: &str) -> Result<()> {
            unreachable!()
        }
    }

    let splunk = Source {
        name: "idx".into(),
        settings: SourceSettings::Splunk(SplunkSettings {
            url: "https://splunk.example:8089".into(),
            index: "iot".into(),
            sourcetype: crate::sources::default_sourcetype(),
            ca_bundle: None,
            carries: None,
        }),
        scope: Default::default(),
        account_from: None,
    };
    let secrets = MemorySecrets::default();
    let Err(Error::Secrets(m)) = puller(&splunk, &secrets) else {
        panic!("a Splunk source without its token has no puller")
    };
    assert!(
        m.contains("no Splunk token in the OS keychain for source \"idx\""),
        "{m}"
    );
    // A token stored without its server (or for another one) is never handed to a puller.
    secrets.set("idx", &Secret::new("t0ken")).unwrap();
    assert!(matches!(puller(&splunk, &secrets), Err(Error::Secrets(_))));
    crate::secrets::set_bound(
        &secrets,
        "idx",
        "https://elsewhere.example:8089",
        &Secret::new("t0ken"),
    )
    .unwrap();
    assert!(matches!(puller(&splunk, &secrets), Err(Error::Secrets(_))));
    crate::secrets::set_bound(
        &secrets,
        "idx",
        "https://splunk.example:8089",
        &Secret::new("t0ken"),
    )
    .unwrap();
    assert!(puller(&splunk, &secrets).is_ok());

    let s3 = Source {
        name: "bucket".into(),
        settings: SourceSettings::S3(S3Settings {
            bucket: "dd-export".into(),
            prefix: String::new(),
            path_style: false,
            carries: None,
            aws: Default::default(),
        }),
        scope: Default::default(),
        account_from: None,
    };
    assert!(puller(&s3, &NoKeychain).is_ok());
}

/// Regression (#29.9): a source that never finishes is stopped at its deadline and named stuck;
/// the source beside it syncs to the end in the same round, and what the stuck one wrote stays.
#[test]
fn a_stuck_source_is_stopped_at_its_deadline_and_starves_no_other() {
    let sink = MemorySink::default();
    let options = SyncOptions {
        deadline: Some(std::time::Duration::from_millis(300)),
        ..SyncOptions::default()
    };
    let (out, events) = run_with(
        vec![
            job("slow", Ok(Fake::Trickles)),
            job(
                "good",
                Ok(Fake::Writes {
                    n: 2,
                    failed_units: 0,
                }),
            ),
        ],
        &sink,
        &CancellationToken::new(),
        &options,
    );
    let (slow, slow_failures) = &out[0];
    assert!(!slow.ok);
    assert_eq!(
        slow.datapoints, 1,
        "what it wrote before the deadline is kept"
    );
    assert_eq!(slow_failures.len(), 1);
    assert!(
        slow_failures[0].error.starts_with("stuck:"),
        "{slow_failures:?}"
    );
    assert!(slow_failures[0].error.contains("deadline"));
    assert_eq!(
        slow_failures[0].kind,
        crate::sources::SourceErrorKind::Stuck
    );
    let (good, good_failures) = &out[1];
    assert!(good.ok && good_failures.is_empty());
    assert_eq!(good.datapoints, 2);
    assert!(events.iter().any(|e| matches!(e, SyncEvent::SourceFinished { source, ok: false, error: Some(err) } if source == "slow" && err.starts_with("stuck:"))));
    assert_eq!(sink.writes.lock().unwrap().len(), 3);
}

/// A check's failure becomes an error health carrying its kind and the hint for that kind;
/// a failure of no source kind still says what went wrong.
#[test]
fn a_failed_check_is_an_error_health_with_its_kind_and_a_hint() {
    use crate::sources::{SourceError, SourceErrorKind};
    let denied = Health::of(Err(Error::Source(SourceError::new(
        SourceErrorKind::AccessDenied,
        "HeadBucket on logs-503: AccessDenied",
    ))));
    assert_eq!(denied.status, HealthStatus::Error);
    assert_eq!(denied.kind, Some(SourceErrorKind::AccessDenied));
    assert!(denied.hint.as_deref().unwrap().contains("permission"));
    let tls = Health::of(Err(Error::Source(SourceError::new(
        SourceErrorKind::Tls,
        "x",
    ))));
    assert!(tls.hint.unwrap().contains("--ca-bundle"));
    let other = Health::of(Err(Error::InvalidInput("no token in the keychain".into())));
    assert_eq!((other.status, other.kind), (HealthStatus::Error, None));
    assert!(other.message.contains("no token"));
    let fine = Health::of(Ok(Health::warn("empty", "look")));
    assert_eq!(fine.status, HealthStatus::Warn);
}
