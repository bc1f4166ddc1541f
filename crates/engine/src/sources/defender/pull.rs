//! Pulling the Device Defender API (Detect and Audit) and the IoT registry's inventory.

use crate::sources::defender::{self, DefenderSource};
use std::sync::atomic::Ordering;

use futures_util::future::LocalBoxFuture;

use crate::sources::contract::{add_stats, Pull, SourceSummary, SyncCtx};
use crate::sources::{self, SourceError};
use crate::store::{ObjectMark, Store, SyncMarks, Watermark};
use crate::time::Millis;
use crate::time::{DAY, HOUR};

/// The Device Defender API: security profiles, violations (active and events, by day), audit
/// tasks and their findings, mitigation executions, the registry's inventory.
pub(super) struct DefenderPull(pub(super) sources::DefenderSettings);

impl Pull for DefenderPull {
    fn pull<'a>(&'a self, ctx: &'a mut SyncCtx<'_>) -> LocalBoxFuture<'a, Result<(), SourceError>> {
        Box::pin(pull(&self.0, ctx))
    }

    fn test(&self) -> LocalBoxFuture<'_, crate::Result<crate::sources::contract::Health>> {
        Box::pin(async move { DefenderSource::connect(&self.0).await.test().await })
    }

    fn drill_down<'a>(
        &'a self,
        store: &'a mut Store,
        thing: &'a str,
        scope: &'a crate::model::scope::Scope,
        summary: &'a mut SourceSummary,
        cancel: &'a tokio_util::sync::CancellationToken,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(crate::sources::contract::unless_cancelled(
            cancel,
            drill_down(&self.0, store, thing, scope, summary),
        ))
    }
}

/// A thing's groups and certificates, and for every metric a behavior watches, its values of
/// the last 14 days (ListMetricValues).
async fn drill_down(
    settings: &sources::DefenderSettings,
    store: &mut Store,
    thing: &str,
    scope: &crate::model::scope::Scope,
    summary: &mut SourceSummary,
) -> crate::Result<()> {
    let to = crate::time::now();
    let api = DefenderSource::connect(settings).await;
    let key = scope.key(thing);
    let groups = api.thing_groups(thing).await?;
    store.set_thing_groups(&key, &groups)?;
    let certs = api.thing_certificates(thing).await?;
    store.set_thing_certificates(&key, &certs)?;
    // Each (metric, dimension) a behavior watches: the dimensioned values are their own
    // series, never the plain one.
    let metrics: std::collections::BTreeSet<(String, Option<String>)> = store
        .thresholds(None)?
        .into_iter()
        .filter_map(|t| Some((t.metric?, t.dimension)))
        .collect();
    for (metric, dim) in metrics {
        let dim = dim
            .map(|k| crate::model::Dimension::parse(&k))
            .transpose()
            .map_err(crate::Error::InvalidInput)?;
        let mut batch = api
            .metric_values(thing, &metric, dim.as_ref(), to - 14 * DAY, to)
            .await?;
        batch.scope = scope.clone();
        let stats = store.write_batch(&batch)?;
        add_stats(summary, &[stats]);
    }
    Ok(())
}

/// One sync: Detect (when the account has it), then Audit, its mitigations and the inventory;
/// a failed unit is recorded and the rest carry on.
async fn pull(
    settings: &sources::DefenderSettings,
    ctx: &mut SyncCtx<'_>,
) -> Result<(), SourceError> {
    let api = DefenderSource::connect(settings).await;
    if pull_profiles(&api, ctx).await? && !ctx.cancel.is_cancelled() {
        pull_violations(&api, ctx).await?;
    }
    if ctx.cancel.is_cancelled() {
        return Ok(());
    }
    let audit_from = ctx
        .from
        .unwrap_or(ctx.to - 90 * DAY)
        .max(ctx.to - 90 * DAY + HOUR);
    pull_audit_tasks(&api, ctx, audit_from).await?;
    if !ctx.cancel.is_cancelled() {
        pull_audit_mitigations(&api, ctx, audit_from).await?;
    }
    pull_inventory(&api, ctx).await
}

/// Detect's security profiles; `false` when the account or identity has no Detect (a warning,
/// not a failure: since 31 Aug 2026 new accounts get none).
async fn pull_profiles(api: &DefenderSource, ctx: &mut SyncCtx<'_>) -> Result<bool, SourceError> {
    match api.security_profiles().await {
        Ok(batch) => {
            ctx.meter
                .events
                .fetch_add(batch.profiles.len() as u64, Ordering::Relaxed);
            let stats = ctx.sink.write(vec![batch], SyncMarks::default()).await?;
            add_stats(&mut ctx.summary, &stats);
        }
        Err(e) if defender::detect_unavailable(&e) => {
            ctx.summary.warnings.push(format!(
                "Detect is not available to this account or identity: {e}"
            ));
            return Ok(false);
        }
        Err(e) => ctx.fail("security-profiles", e),
    }
    Ok(true)
}

/// Active violations, violation events by day (30 days kept by AWS) from the watermark, each
/// day's watermark written with its data, and the Detect mitigations of the same window.
async fn pull_violations(api: &DefenderSource, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    let (name, to) = (ctx.name, ctx.to);
    match api.active_violations().await {
        Ok(batch) => {
            ctx.meter
                .events
                .fetch_add(batch.active_violations.len() as u64, Ordering::Relaxed);
            let stats = ctx.sink.write(vec![batch], SyncMarks::default()).await?;
            add_stats(&mut ctx.summary, &stats);
        }
        Err(e) => ctx.fail("active-violations", e),
    }
    let start = ctx
        .from
        .or(ctx.resume.violation_events.map(|w| w - HOUR))
        .unwrap_or(to - 30 * DAY)
        .max(to - 30 * DAY);
    let mut slice = start;
    let slices = ((to - start) + DAY - 1) / DAY;
    ctx.meter
        .total
        .fetch_add(slices.max(0) as u64, Ordering::Relaxed);
    while slice < to && !ctx.cancel.is_cancelled() {
        let end = (slice + DAY).min(to);
        match api.violation_events(slice, end).await {
            Ok(batch) => {
                ctx.meter
                    .events
                    .fetch_add(batch.violation_events.len() as u64, Ordering::Relaxed);
                let marks = SyncMarks {
                    watermarks: vec![Watermark {
                        source: name.to_string(),
                        stream: "violation-events".into(),
                        from: slice,
                        to: end,
                    }],
                    ..SyncMarks::default()
                };
                let stats = ctx.sink.write(vec![batch], marks).await?;
                add_stats(&mut ctx.summary, &stats);
            }
            Err(e) => {
                let window = format!(
                    "violation-events {}..{}",
                    crate::time::to_rfc3339(slice),
                    crate::time::to_rfc3339(end)
                );
                ctx.fail(&window, e);
                // Later windows would leave a hole behind the watermark: stop here.
                break;
            }
        }
        ctx.meter.done.fetch_add(1, Ordering::Relaxed);
        ctx.meter.report();
        slice = end;
    }
    // Detect mitigation history of the same window: what AWS ran on which violation.
    if !ctx.cancel.is_cancelled() {
        match api.detect_mitigations(start, to).await {
            Ok(batch) => {
                let stats = ctx.sink.write(vec![batch], SyncMarks::default()).await?;
                add_stats(&mut ctx.summary, &stats);
            }
            Err(e) => ctx.fail("detect-mitigation-tasks", e),
        }
    }
    Ok(())
}

/// A finished task (its ledger entry is written and it is not read again).
fn finished(status: &str) -> bool {
    matches!(status, "COMPLETED" | "FAILED" | "CANCELED")
}

/// A ledger entry of a Device Defender task read whole.
fn task_mark(name: &str, key: String, status: String) -> ObjectMark {
    ObjectMark {
        source: name.to_string(),
        key,
        etag: status,
        size: 0,
        outcome: "ingested",
        detail: None,
    }
}

/// Audit tasks of the window (90 days kept), each read whole once it has finished and not
/// again while its status is the ledger's.
async fn pull_audit_tasks(
    api: &DefenderSource,
    ctx: &mut SyncCtx<'_>,
    audit_from: Millis,
) -> Result<(), SourceError> {
    let tasks = api
        .audit_tasks(audit_from, ctx.to)
        .await
        .map_err(SourceError::from)?;
    ctx.meter
        .total
        .fetch_add(tasks.len() as u64, Ordering::Relaxed);
    for (task, status) in tasks {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let key = format!("audit-task/{task}");
        if ctx.resume.ledger.get(&key) == Some(&status) {
            ctx.summary.unchanged += 1;
            ctx.meter.done.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match api.audit_task(&task).await {
            Ok(batch) => {
                ctx.meter.events.fetch_add(
                    (batch.audit_checks.len() + batch.findings.len()) as u64,
                    Ordering::Relaxed,
                );
                let marks = SyncMarks {
                    objects: if finished(&status) {
                        vec![task_mark(ctx.name, key, status)]
                    } else {
                        Vec::new()
                    },
                    ..SyncMarks::default()
                };
                let stats = ctx.sink.write(vec![batch], marks).await?;
                add_stats(&mut ctx.summary, &stats);
            }
            Err(e) => ctx.fail(&key, e),
        }
        ctx.meter.done.fetch_add(1, Ordering::Relaxed);
        ctx.meter.report();
    }
    Ok(())
}

/// Audit mitigation history of the same window; a finished task is read once.
async fn pull_audit_mitigations(
    api: &DefenderSource,
    ctx: &mut SyncCtx<'_>,
    audit_from: Millis,
) -> Result<(), SourceError> {
    let ledger = &ctx.resume.ledger;
    let unchanged = |id: &str, status: &str| {
        ledger
            .get(&format!("audit-mitigation/{id}"))
            .is_some_and(|s| s == status)
    };
    match api.audit_mitigations(audit_from, ctx.to, unchanged).await {
        Ok(batch) => {
            let objects = batch
                .mitigation_tasks
                .iter()
                .filter_map(|t| {
                    let status = t.status.clone()?;
                    finished(&status).then(|| {
                        task_mark(ctx.name, format!("audit-mitigation/{}", t.task_id), status)
                    })
                })
                .collect();
            let marks = SyncMarks {
                objects,
                ..SyncMarks::default()
            };
            let stats = ctx.sink.write(vec![batch], marks).await?;
            add_stats(&mut ctx.summary, &stats);
        }
        Err(e) => ctx.fail("audit-mitigation-tasks", e),
    }
    Ok(())
}

/// The registry's thing types and groups (triage's peer groups), re-read every
/// [`INVENTORY_EVERY`]: a fleet of 100,000 things is 400 ListThings pages.
async fn pull_inventory(api: &DefenderSource, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    let to = ctx.to;
    let last = ctx
        .resume
        .ledger
        .get(INVENTORY_KEY)
        .and_then(|t| t.parse::<Millis>().ok());
    if ctx.cancel.is_cancelled() || last.is_some_and(|t| to - t < INVENTORY_EVERY && t <= to) {
        return Ok(());
    }
    match api.inventory().await {
        Ok(inv) => {
            ctx.summary.warnings.extend(inv.warnings);
            let marks = SyncMarks {
                objects: vec![ObjectMark {
                    source: ctx.name.to_string(),
                    key: INVENTORY_KEY.into(),
                    etag: to.to_string(),
                    size: inv.types.len() as i64,
                    outcome: "ingested",
                    detail: None,
                }],
                thing_groups: inv.groups.into_iter().collect(),
                thing_types: inv.types,
                ..SyncMarks::default()
            };
            ctx.sink.write(Vec::new(), marks).await?;
        }
        // Nothing is lost without it: peers fall back to name families and the fleet.
        Err(e) => ctx.summary.warnings.push(format!(
            "thing types and groups not read ({e}): triage compares things with their name family or the fleet"
        )),
    }
    Ok(())
}

/// The ledger entry that says when the inventory was last read (its etag: epoch ms).
const INVENTORY_KEY: &str = "inventory";

/// How often sync re-reads the registry's thing types and groups.
const INVENTORY_EVERY: Millis = 6 * HOUR;
