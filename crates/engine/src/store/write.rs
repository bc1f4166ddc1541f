//! Writing parsed batches: one IMMEDIATE transaction per batch, idempotent upserts.
//!
//! Over 600 lines: one writer per record kind (datapoints, violations, audit results,
//! mitigations, security profiles), all inside the same transaction and sharing one interner,
//! so a batch is written whole or not at all.

use crate::model::{Confidence, VerificationState};
use std::collections::BTreeSet;

use fnv::FnvHashMap;
use std::hash::Hasher;

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use super::chunk::{self, day_of, Point};
use super::history::{self, StoredChunk};
use super::{Interner, Store, StoreError};
use crate::model::scope::Scope;
use crate::model::{Batch, Behavior, Dimension, MetricValue, ViolationEvent};
use crate::time::Millis;

/// What one batch added to the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriteStats {
    /// Datapoints offered (before de-duplication against the cache).
    pub datapoints: u64,
    /// Violation events offered.
    pub violation_events: u64,
    /// Active-violation sightings offered.
    pub active_violations: u64,
    /// Audit check results offered.
    pub audit_checks: u64,
    /// Audit findings offered.
    pub audit_findings: u64,
    /// Security profiles offered.
    pub security_profiles: u64,
    /// Mitigation actions tasks and executions offered.
    pub mitigations: u64,
}

pub(super) fn dim_key(d: Option<&Dimension>) -> String {
    d.map(Dimension::key).unwrap_or_default()
}

/// Content address of a set value: FNV-1a over kind and members, kept positive for SQLite.
fn set_id(kind: i64, members: &str) -> i64 {
    let mut h = fnv::FnvHasher::default();
    h.write_i64(kind);
    h.write(members.as_bytes());
    (h.finish() >> 1) as i64
}

fn value_json(v: &Option<MetricValue>) -> Option<String> {
    v.as_ref().map(|v| v.to_json().to_string())
}

fn behavior_json(b: &Behavior) -> String {
    serde_json::to_string(b).unwrap_or_else(|_| "{}".into())
}

impl Interner {
    fn thing(&mut self, tx: &Transaction, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.things.get(name) {
            return Ok(*id);
        }
        tx.prepare_cached("INSERT INTO thing(name) VALUES (?1) ON CONFLICT(name) DO NOTHING")?
            .execute([name])?;
        let id = tx
            .prepare_cached("SELECT id FROM thing WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?;
        self.things.insert(name.to_string(), id);
        Ok(id)
    }

    fn metric(&mut self, tx: &Transaction, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.metrics.get(name) {
            return Ok(*id);
        }
        tx.prepare_cached("INSERT INTO metric(name) VALUES (?1) ON CONFLICT(name) DO NOTHING")?
            .execute([name])?;
        let id = tx
            .prepare_cached("SELECT id FROM metric WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?;
        self.metrics.insert(name.to_string(), id);
        Ok(id)
    }

    /// The series' id, and whether this call made it (then it has no chunks yet).
    fn series(
        &mut self,
        tx: &Transaction,
        thing: i64,
        metric: i64,
        dim: &str,
    ) -> Result<(i64, bool), StoreError> {
        let dims = self.series.entry((thing, metric)).or_default();
        if let Some((_, id)) = dims.iter().find(|(d, _)| d == dim) {
            return Ok((*id, false));
        }
        let made = tx
            .prepare_cached(
                "INSERT INTO series(thing_id, metric_id, dim) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![thing, metric, dim])?
            == 1;
        let id = tx
            .prepare_cached(
                "SELECT id FROM series WHERE thing_id = ?1 AND metric_id = ?2 AND dim = ?3",
            )?
            .query_row(params![thing, metric, dim], |r| r.get(0))?;
        dims.push((dim.to_string(), id));
        Ok((id, made))
    }

    fn set(&mut self, tx: &Transaction, kind: i64, members: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.sets.entry(kind).or_default().get(members) {
            return Ok(*id);
        }
        let mut id = set_id(kind, members);
        loop {
            let existing: Option<String> = tx
                .prepare_cached("SELECT members FROM set_value WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            match existing {
                None => {
                    tx.prepare_cached("INSERT INTO set_value(id, members) VALUES (?1, ?2)")?
                        .execute(params![id, members])?;
                    break;
                }
                Some(m) if m == members => break,
                // A 63-bit hash collision: probe the next id (deterministic for the same contents).
                Some(_) => id = id.wrapping_add(1) & i64::MAX,
            }
        }
        self.sets
            .entry(kind)
            .or_default()
            .insert(members.to_string(), id);
        Ok(id)
    }
}

impl Store {
    /// Writes one batch in one IMMEDIATE transaction: all of it, or (on error) none of it.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<WriteStats, StoreError> {
        self.write_batches(&[batch]).map(|mut s| s.remove(0))
    }

    /// Writes several batches in one IMMEDIATE transaction — all of them, or (on error) none —
    /// with their datapoints merged and sorted by key first. Ingest groups already-parsed files
    /// this way: each file is still stored whole or not at all, and inserts run in key order,
    /// which is several times faster than one transaction per file scattering rows across the
    /// B-tree. Returns each batch's stats, in order.
    pub fn write_batches(&mut self, batches: &[&Batch]) -> Result<Vec<WriteStats>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        match write_all(&tx, &mut self.ids, batches) {
            Ok(stats) => match tx.commit() {
                Ok(()) => Ok(stats),
                Err(e) => {
                    self.ids = Interner::default();
                    Err(e.into())
                }
            },
            Err(e) => {
                drop(tx);
                self.ids = Interner::default();
                Err(e)
            }
        }
    }
}

pub(super) fn write_all(
    tx: &Transaction,
    ids: &mut Interner,
    batches: &[&Batch],
) -> Result<Vec<WriteStats>, StoreError> {
    write_points(tx, ids, batches)?;
    let mut stats = Vec::with_capacity(batches.len());
    for batch in batches {
        write_violations(tx, ids, batch)?;
        write_audits(tx, batch)?;
        write_profiles(tx, batch)?;
        write_mitigations(tx, batch)?;
        write_hub_refs(tx, batch)?;
        stats.push(WriteStats {
            datapoints: batch.points.len() as u64,
            violation_events: batch.violation_events.len() as u64,
            active_violations: batch.active_violations.len() as u64,
            audit_checks: batch.audit_checks.len() as u64,
            audit_findings: batch.findings.len() as u64,
            security_profiles: batch.profiles.len() as u64,
            mitigations: (batch.mitigation_tasks.len() + batch.mitigation_executions.len()) as u64,
        });
    }
    Ok(stats)
}

/// Security Hub's identity of the records: the newest reading of a finding wins (its
/// `UpdatedAt`; an older copy read later changes nothing).
fn write_hub_refs(tx: &Transaction, batch: &Batch) -> Result<(), StoreError> {
    for h in &batch.hub_refs {
        tx.prepare_cached(
            "INSERT INTO hub_finding(product_arn, id, account, region, kind, record, workflow, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(product_arn, id) DO UPDATE SET
               account = excluded.account, region = excluded.region, kind = excluded.kind,
               record = excluded.record, workflow = excluded.workflow, updated = excluded.updated
             WHERE coalesce(excluded.updated, 0) >= coalesce(hub_finding.updated, 0)",
        )?
        .execute(rusqlite::params![
            h.product_arn,
            h.id,
            h.account,
            h.region,
            h.kind,
            h.record,
            h.workflow,
            h.updated
        ])?;
    }
    Ok(())
}

fn write_points(
    tx: &Transaction,
    ids: &mut Interner,
    batches: &[&Batch],
) -> Result<(), StoreError> {
    let mut buckets: FnvHashMap<(i64, i64), Vec<Point>> = FnvHashMap::default();
    let mut members = Vec::new();
    // This call's series by the point's own names, borrowed: one hash of the three per point,
    // nothing formatted; the interner (its names and series kept across calls) only on a miss.
    // Keyed by the batch's scope too: two batches of one call may be two accounts'.
    let mut seen: FnvHashMap<(&Scope, &str, &str, Option<&Dimension>), i64> = FnvHashMap::default();
    // Series made by this call: they have no chunks to read and merge with.
    let mut fresh = fnv::FnvHashSet::default();
    for (scope, p) in batches
        .iter()
        .flat_map(|b| b.points.iter().map(move |p| (&b.scope, p)))
    {
        let dim = p.dimension.as_ref();
        let series = match seen.get(&(scope, p.thing.as_str(), p.metric.as_str(), dim)) {
            Some(id) => *id,
            None => {
                let thing = ids.thing(tx, &scope.key(&p.thing))?;
                let metric = ids.metric(tx, &p.metric)?;
                let (id, made) = ids.series(tx, thing, metric, &dim_key(dim))?;
                if made {
                    fresh.insert(id);
                }
                seen.insert((scope, p.thing.as_str(), p.metric.as_str(), dim), id);
                id
            }
        };
        let kind = p.value.kind() as i64;
        let bits = match &p.value {
            MetricValue::Count(c) => *c,
            MetricValue::Number(n) => n.to_bits() as i64,
            other => {
                members.clear();
                other.write_set_json(&mut members);
                let text = std::str::from_utf8(&members).unwrap_or_default();
                ids.set(tx, kind, text)?
            }
        };
        buckets
            .entry((series, day_of(p.ts)))
            .or_default()
            .push(Point {
                ts: p.ts,
                version: p.version,
                kind: kind as u8,
                bits,
            });
    }
    let mut buckets: Vec<((i64, i64), Vec<Point>)> = buckets.into_iter().collect();
    buckets.sort_unstable_by_key(|(k, _)| *k);

    let mut read = tx.prepare_cached(&format!(
        "SELECT {} FROM chunk c LEFT JOIN timeline t ON t.id = c.timeline
         WHERE c.series = ?1 AND c.day = ?2",
        StoredChunk::COLUMNS
    ))?;
    let mut stretch = tx.prepare_cached(
        "UPDATE series SET first_ts = min(coalesce(first_ts, ?2), ?2), last_ts = max(coalesce(last_ts, ?3), ?3) WHERE id = ?1",
    )?;
    // Compacted days hold no points to merge with: what arrives for one is not stored.
    let mut compacted = if Store::any_compacted(tx)? {
        Some(tx.prepare_cached("SELECT 1 FROM compacted WHERE series = ?1 AND day = ?2")?)
    } else {
        None
    };
    let mut span: FnvHashMap<i64, (Millis, Millis)> = FnvHashMap::default();
    let mut stored = Vec::new();
    let mut skipped = 0usize;
    let mut timelines = history::Timelines::default();
    for ((series, day), mut incoming) in buckets {
        if let Some(c) = compacted.as_mut() {
            if c.exists(params![series, day])? {
                skipped += incoming.len();
                continue;
            }
        }
        chunk::normalize(&mut incoming);
        let old = if fresh.contains(&series) {
            None
        } else {
            read.query_row(params![series, day], StoredChunk::read)
                .optional()?
        };
        let points = match &old {
            None => incoming,
            Some(c) => {
                stored.clear();
                c.decode_into(&mut stored)?;
                if !chunk::merge(&mut stored, &incoming) {
                    continue;
                }
                std::mem::take(&mut stored)
            }
        };
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            continue;
        };
        let (first, last) = (first.ts, last.ts);
        let old_timeline = old.as_ref().and_then(StoredChunk::old_timeline);
        history::put_chunk(tx, &mut timelines, series, day, &points, old_timeline)?;
        let e = span.entry(series).or_insert((first, last));
        e.0 = e.0.min(first);
        e.1 = e.1.max(last);
    }
    timelines.flush(tx)?;
    for (series, (lo, hi)) in span {
        stretch.execute(params![series, lo, hi])?;
    }
    if skipped > 0 {
        tracing::info!(
            points = skipped,
            "points for compacted days not stored (those days keep hourly aggregates only)"
        );
    }
    Ok(())
}

fn ensure_violation(
    tx: &Transaction,
    ids: &mut Interner,
    id: &str,
    thing: &str,
    profile: &str,
    behavior: &Behavior,
) -> Result<(), StoreError> {
    let thing_id = ids.thing(tx, thing)?;
    tx.prepare_cached(
        "INSERT INTO violation(violation_id, thing_id, security_profile, behavior, metric, behavior_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(violation_id) DO UPDATE SET
           metric = coalesce(violation.metric, excluded.metric),
           behavior_json = CASE WHEN length(excluded.behavior_json) > length(violation.behavior_json)
                                THEN excluded.behavior_json ELSE violation.behavior_json END",
    )?
    .execute(params![
        id,
        thing_id,
        profile,
        behavior.name,
        behavior.metric,
        behavior_json(behavior)
    ])?;
    Ok(())
}

/// What the newest sighting of a violation in one batch said of it.
#[derive(Default)]
struct Sighting<'a> {
    verification: Option<(&'a str, Option<&'a str>)>,
    confidence: Option<&'a str>,
}

impl<'a> Sighting<'a> {
    fn see(
        &mut self,
        state: Option<VerificationState>,
        note: Option<&'a String>,
        confidence: Option<Confidence>,
    ) {
        if let Some(s) = state {
            self.verification = Some((s.as_str(), note.map(String::as_str)));
        }
        if let Some(c) = confidence {
            self.confidence = Some(c.as_str());
        }
    }
}

/// The scope of each record a Security Hub finding gave (`kind`, record id): the finding's own
/// account and region, which win over the batch's.
fn hub_scopes<'a>(batch: &'a Batch, kind: &str) -> FnvHashMap<&'a str, Scope> {
    batch
        .hub_refs
        .iter()
        .filter(|h| h.kind == kind)
        .map(|h| {
            let scope = Scope {
                account: Some(h.account.clone()),
                region: h.region.clone(),
            };
            (h.record.as_str(), scope)
        })
        .collect()
}

fn write_violations(tx: &Transaction, ids: &mut Interner, batch: &Batch) -> Result<(), StoreError> {
    let hub = hub_scopes(batch, "violation");
    let key = |id: &str, thing: &str| hub.get(id).unwrap_or(&batch.scope).key(thing);
    let mut touched = BTreeSet::new();
    // The verification state is the analyst's, set (and changed) after the events: the one
    // read last is the current one, whatever the events' times (a violation re-classified
    // BENIGN_POSITIVE must show as such).
    let mut sightings: std::collections::BTreeMap<&str, Sighting> = Default::default();
    for e in &batch.violation_events {
        let ViolationEvent {
            violation_id,
            thing,
            security_profile,
            behavior,
            ..
        } = e;
        let thing = key(violation_id, thing);
        ensure_violation(tx, ids, violation_id, &thing, security_profile, behavior)?;
        tx.prepare_cached(
            "INSERT INTO violation_event(violation_id, time, event_type, value, verification_state, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET
               value = coalesce(excluded.value, violation_event.value),
               verification_state = coalesce(excluded.verification_state, violation_event.verification_state),
               confidence = coalesce(excluded.confidence, violation_event.confidence)",
        )?
        .execute(params![
            violation_id,
            e.time,
            e.event_type,
            value_json(&e.value),
            e.verification_state.map(|s| s.as_str()),
            e.confidence.map(|c| c.as_str())
        ])?;
        touched.insert(violation_id.as_str());
        sightings.entry(violation_id).or_default().see(
            e.verification_state,
            e.verification_description.as_ref(),
            e.confidence,
        );
    }
    for a in &batch.active_violations {
        ensure_violation(
            tx,
            ids,
            &a.violation_id,
            &key(&a.violation_id, &a.thing),
            &a.security_profile,
            &a.behavior,
        )?;
        // Keep the latest sighting; the start is the earliest ever seen.
        tx.prepare_cached(
            "UPDATE violation SET
               active_started = min(coalesce(active_started, ?2), coalesce(?2, active_started)),
               active_value = CASE WHEN ?3 >= coalesce(active_last, -1) THEN coalesce(?4, active_value) ELSE active_value END,
               active_verification = CASE WHEN ?3 >= coalesce(active_last, -1) THEN coalesce(?5, active_verification) ELSE active_verification END,
               active_last = max(coalesce(active_last, ?3), coalesce(?3, active_last))
             WHERE violation_id = ?1",
        )?
        .execute(params![
            a.violation_id,
            a.started,
            a.last_violation,
            value_json(&a.last_value),
            a.verification_state.map(|s| s.as_str())
        ])?;
        touched.insert(a.violation_id.as_str());
        sightings.entry(&a.violation_id).or_default().see(
            a.verification_state,
            a.verification_description.as_ref(),
            a.confidence,
        );
    }
    for id in touched {
        fold_violation(tx, id)?;
    }
    for (id, s) in sightings {
        if let Some((state, note)) = s.verification {
            tx.prepare_cached(
                "UPDATE violation SET verification_state = ?2, verification_description = ?3
                 WHERE violation_id = ?1",
            )?
            .execute(params![id, state, note])?;
        }
        if let Some(c) = s.confidence {
            tx.prepare_cached("UPDATE violation SET confidence = ?2 WHERE violation_id = ?1")?
                .execute(params![id, c])?;
        }
    }
    Ok(())
}

/// Rebuilds a violation's summary from all its events and sightings, so the result does not
/// depend on the order in which they arrived.
fn fold_violation(tx: &Transaction, id: &str) -> Result<(), StoreError> {
    struct Ev {
        time: Millis,
        kind: String,
        value: Option<String>,
        verification: Option<String>,
    }
    let events: Vec<Ev> = tx
        .prepare_cached(
            "SELECT time, event_type, value, verification_state FROM violation_event
             WHERE violation_id = ?1 ORDER BY time, event_type",
        )?
        .query_map([id], |r| {
            Ok(Ev {
                time: r.get(0)?,
                kind: r.get(1)?,
                value: r.get(2)?,
                verification: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let (a_start, a_last, a_value, a_verif): (Option<i64>, Option<i64>, Option<String>, Option<String>) =
        tx.prepare_cached(
            "SELECT active_started, active_last, active_value, active_verification FROM violation WHERE violation_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;

    let alarm_start = events
        .iter()
        .filter(|e| e.kind == "in-alarm")
        .map(|e| e.time)
        .min();
    let started = match (alarm_start, a_start) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b).or_else(|| events.first().map(|e| e.time)),
    };
    let ended = events
        .iter()
        .filter(|e| e.kind != "in-alarm" && started.is_none_or(|s| e.time >= s))
        .map(|e| e.time)
        .min();
    let mut last_event = events.last().map(|e| (e.time, e.kind.clone()));
    let mut last_value = events
        .iter()
        .rev()
        .find_map(|e| e.value.clone().map(|v| (e.time, v)));
    if let Some(al) = a_last {
        if ended.is_none() && last_event.as_ref().is_none_or(|(t, _)| al > *t) {
            last_event = Some((al, "in-alarm".into()));
        }
        if let Some(v) = a_value {
            if last_value.as_ref().is_none_or(|(t, _)| al > *t) {
                last_value = Some((al, v));
            }
        }
    }
    let verification = events
        .iter()
        .rev()
        .find_map(|e| e.verification.clone())
        .or(a_verif);
    tx.prepare_cached(
        "UPDATE violation SET started = ?2, ended = ?3, last_event = ?4, last_event_time = ?5,
           last_value = ?6, verification_state = coalesce(verification_state, ?7) WHERE violation_id = ?1",
    )?
    .execute(params![
        id,
        started,
        ended,
        last_event.as_ref().map(|e| e.1.clone()),
        last_event.map(|e| e.0),
        last_value.map(|v| v.1),
        verification
    ])?;
    Ok(())
}

/// SQL rank of an audit status: running states yield to final ones, whatever the arrival order.
const RANK_NEW: &str = "(CASE WHEN excluded.status IS NULL THEN -1 WHEN excluded.status IN ('IN_PROGRESS','WAITING_FOR_DATA_COLLECTION') THEN 0 ELSE 1 END)";

fn write_audits(tx: &Transaction, batch: &Batch) -> Result<(), StoreError> {
    let rank_old = |t: &str| {
        format!("(CASE WHEN {t}.status IS NULL THEN -1 WHEN {t}.status IN ('IN_PROGRESS','WAITING_FOR_DATA_COLLECTION') THEN 0 ELSE 1 END)")
    };
    let task_sql = format!(
        "INSERT INTO audit_task(task_id, start, task_type, status, scheduled_name) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(task_id) DO UPDATE SET
           start = coalesce(audit_task.start, excluded.start),
           task_type = coalesce(audit_task.task_type, excluded.task_type),
           scheduled_name = coalesce(audit_task.scheduled_name, excluded.scheduled_name),
           status = CASE WHEN {RANK_NEW} > {old} THEN excluded.status ELSE audit_task.status END",
        old = rank_old("audit_task")
    );
    for t in &batch.audit_tasks {
        tx.prepare_cached(&task_sql)?.execute(params![
            t.task_id,
            t.start,
            t.task_type,
            t.status,
            t.scheduled_name
        ])?;
    }
    let check_sql = format!(
        "INSERT INTO audit_check(task_id, check_name, task_start, status, non_compliant, total, suppressed, error_code, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(task_id, check_name) DO UPDATE SET
           task_start = coalesce(audit_check.task_start, excluded.task_start),
           status = excluded.status,
           non_compliant = coalesce(excluded.non_compliant, audit_check.non_compliant),
           total = coalesce(excluded.total, audit_check.total),
           suppressed = coalesce(excluded.suppressed, audit_check.suppressed),
           error_code = coalesce(excluded.error_code, audit_check.error_code),
           message = coalesce(excluded.message, audit_check.message)
         WHERE {RANK_NEW} >= {old}",
        old = rank_old("audit_check")
    );
    for c in &batch.audit_checks {
        tx.prepare_cached(&check_sql)?.execute(params![
            c.task_id,
            c.check,
            c.task_start,
            c.status,
            c.non_compliant,
            c.total,
            c.suppressed,
            c.error_code,
            c.message
        ])?;
    }
    let hub = hub_scopes(batch, "finding");
    for f in &batch.findings {
        let scope = hub.get(f.finding_id.as_str()).unwrap_or(&batch.scope);
        tx.prepare_cached(
            "INSERT INTO finding(finding_id, task_id, check_name, severity, resource_type, resource, resource_json,
                                 reason, reason_code, suppressed, found, task_start, related_json,
                                 account, region)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT(finding_id) DO UPDATE SET
               account = coalesce(excluded.account, finding.account),
               region = coalesce(excluded.region, finding.region),
               task_id = coalesce(excluded.task_id, finding.task_id),
               severity = coalesce(excluded.severity, finding.severity),
               resource_type = coalesce(excluded.resource_type, finding.resource_type),
               -- Security Hub's copy of a finding does not name every kind of resource: the
               -- Device Defender API's, when kept, stays.
               resource = CASE WHEN excluded.resource = '' THEN finding.resource
                               ELSE excluded.resource END,
               resource_json = CASE WHEN excluded.resource = '' AND finding.resource <> ''
                                    THEN finding.resource_json ELSE excluded.resource_json END,
               reason = coalesce(excluded.reason, finding.reason),
               reason_code = coalesce(excluded.reason_code, finding.reason_code),
               suppressed = excluded.suppressed,
               found = coalesce(excluded.found, finding.found),
               task_start = coalesce(excluded.task_start, finding.task_start),
               related_json = CASE WHEN excluded.related_json = '[]' THEN finding.related_json
                                   ELSE excluded.related_json END",
        )?
        .execute(params![
            f.finding_id,
            f.task_id,
            f.check,
            f.severity.map(|s| s.as_str()),
            f.resource_type,
            f.resource,
            f.resource_json,
            f.reason,
            f.reason_code,
            f.suppressed,
            f.found,
            f.task_start,
            serde_json::to_string(&f.related).unwrap_or_else(|_| "[]".into()),
            scope.account,
            scope.region
        ])?;
        let mut names = vec![f.resource.clone()];
        if let Ok(id) = serde_json::from_str::<serde_json::Value>(&f.resource_json) {
            if let Some(m) = id["resourceIdentifier"].as_object() {
                let r = crate::model::Resource {
                    identifier: m.clone().into_iter().collect(),
                    ..Default::default()
                };
                names.extend(r.names());
            }
        }
        names.extend(f.related.iter().flat_map(crate::model::Resource::names));
        for name in names.iter().filter(|n| !n.is_empty()) {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO finding_name(name, finding_id) VALUES (?1, ?2)",
            )?
            .execute(params![name, f.finding_id])?;
        }
    }
    Ok(())
}

/// SQL rank of a mitigation status: running states yield to final ones.
const MITIGATION_RANK: &str =
    "(CASE WHEN ?S IS NULL THEN -1 WHEN ?S IN ('IN_PROGRESS','PENDING') THEN 0 ELSE 1 END)";

fn write_mitigations(tx: &Transaction, batch: &Batch) -> Result<(), StoreError> {
    let rank = |col: &str| MITIGATION_RANK.replace("?S", col);
    let task_sql = format!(
        "INSERT INTO mitigation_task(task_id, kind, status, start, end_time, violation_ids, actions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(task_id) DO UPDATE SET
           status = CASE WHEN {new} >= {old} THEN excluded.status ELSE mitigation_task.status END,
           start = coalesce(excluded.start, mitigation_task.start),
           end_time = coalesce(excluded.end_time, mitigation_task.end_time),
           violation_ids = CASE WHEN excluded.violation_ids = '[]' THEN mitigation_task.violation_ids ELSE excluded.violation_ids END,
           actions = CASE WHEN excluded.actions = '[]' THEN mitigation_task.actions ELSE excluded.actions END",
        new = rank("excluded.status"),
        old = rank("mitigation_task.status"),
    );
    for t in &batch.mitigation_tasks {
        tx.prepare_cached(&task_sql)?.execute(params![
            t.task_id,
            t.kind.as_str(),
            t.status,
            t.start,
            t.end,
            serde_json::to_string(&t.violation_ids).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&t.actions).unwrap_or_else(|_| "[]".into()),
        ])?;
    }
    let exec_sql = format!(
        "INSERT INTO mitigation_execution(task_id, kind, action, target, finding_id, violation_id, thing,
                                          status, start, end_time, error_code, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(task_id, action, target) DO UPDATE SET
           status = excluded.status, thing = coalesce(excluded.thing, mitigation_execution.thing),
           start = coalesce(excluded.start, mitigation_execution.start),
           end_time = coalesce(excluded.end_time, mitigation_execution.end_time),
           error_code = coalesce(excluded.error_code, mitigation_execution.error_code),
           message = coalesce(excluded.message, mitigation_execution.message)
         WHERE {new} >= {old}",
        new = rank("excluded.status"),
        old = rank("mitigation_execution.status"),
    );
    for x in &batch.mitigation_executions {
        let target = x
            .finding_id
            .as_ref()
            .or(x.violation_id.as_ref())
            .or(x.thing.as_ref())
            .cloned()
            .unwrap_or_default();
        tx.prepare_cached(&exec_sql)?.execute(params![
            x.task_id,
            x.kind.as_str(),
            x.action,
            target,
            x.finding_id,
            x.violation_id,
            x.thing.as_deref().map(|t| batch.scope.key(t)),
            x.status,
            x.start,
            x.end,
            x.error_code,
            x.message
        ])?;
    }
    Ok(())
}

fn write_profiles(tx: &Transaction, batch: &Batch) -> Result<(), StoreError> {
    for p in &batch.profiles {
        let stored: Option<Option<i64>> = tx
            .prepare_cached("SELECT version FROM security_profile WHERE name = ?1")?
            .query_row([&p.name], |r| r.get(0))
            .optional()?;
        tx.prepare_cached(
            "INSERT INTO security_profile(name, arn, description, version) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET
               arn = coalesce(excluded.arn, security_profile.arn),
               description = coalesce(excluded.description, security_profile.description),
               version = max(coalesce(security_profile.version, excluded.version), coalesce(excluded.version, security_profile.version))",
        )?
        .execute(params![p.name, p.arn, p.description, p.version])?;
        let Some(behaviors) = &p.behaviors else {
            continue;
        };
        let newer = match (stored.flatten(), p.version) {
            (Some(old), Some(new)) => new >= old,
            _ => true,
        };
        if !newer {
            continue;
        }
        tx.prepare_cached("DELETE FROM behavior WHERE profile = ?1")?
            .execute([&p.name])?;
        for b in behaviors {
            tx.prepare_cached(
                "INSERT INTO behavior(profile, name, metric, dim, operator, value, statistic, ml_confidence,
                                      duration_seconds, suppress_alerts, consecutive_to_alarm,
                                      consecutive_to_clear, export_metric)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(profile, name) DO UPDATE SET metric = excluded.metric, dim = excluded.dim,
                   operator = excluded.operator, value = excluded.value, statistic = excluded.statistic,
                   ml_confidence = excluded.ml_confidence, duration_seconds = excluded.duration_seconds,
                   suppress_alerts = excluded.suppress_alerts,
                   consecutive_to_alarm = excluded.consecutive_to_alarm,
                   consecutive_to_clear = excluded.consecutive_to_clear,
                   export_metric = excluded.export_metric",
            )?
            .execute(params![
                p.name,
                b.name,
                b.metric,
                dim_key(b.dimension.as_ref()),
                b.operator,
                value_json(&b.value),
                b.statistic,
                b.ml_confidence,
                b.duration_seconds,
                b.suppress_alerts,
                b.consecutive_to_alarm,
                b.consecutive_to_clear,
                b.export_metric
            ])?;
        }
    }
    Ok(())
}
