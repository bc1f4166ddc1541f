//! Sync bookkeeping in the cache: configured sources, the ledger of S3 objects and audit tasks
//! already read, stream watermarks, the last run per source, and thing-group memberships.
//!
//! Marks are written in the same transaction as the data they cover ([`Store::write_synced`]),
//! so a crash can never leave a mark without its data nor data the next sync would not redo.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::chunk::{self, Point};
use super::write::write_all;
use super::{Interner, Store, StoreError, WriteStats};
use crate::model::Batch;
use crate::time::Millis;

/// A configured source as stored: settings only, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRow {
    /// Unique name.
    pub name: String,
    /// `s3`, `splunk` or `defender`.
    pub kind: String,
    /// Kind-specific settings, JSON.
    pub settings: String,
    /// When it was added, epoch ms.
    pub created: Millis,
    /// The account and region of the things it brings, when stated or learned.
    pub scope: crate::model::scope::Scope,
    /// `stated` (by the analyst) or `learned` (STS), when the account is known.
    pub account_from: Option<String>,
}

/// One ledger entry: an S3 object (key + ETag) or another unit read whole (an audit task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMark {
    /// Source name.
    pub source: String,
    /// Object key, or a synthetic key such as `audit-task/<id>`.
    pub key: String,
    /// ETag (or a state that, when it changes, means the unit must be read again).
    pub etag: String,
    /// Size in bytes.
    pub size: i64,
    /// `ingested`, `rejected` or `skipped`.
    pub outcome: &'static str,
    /// Why it was rejected or skipped.
    pub detail: Option<String>,
}

/// A stream's covered interval, advanced with the data it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// Source name.
    pub source: String,
    /// Stream within the source (`violation-events`, `splunk-events`, …).
    pub stream: String,
    /// Inclusive start, epoch ms.
    pub from: Millis,
    /// Exclusive end, epoch ms.
    pub to: Millis,
}

/// A thing group a thing belongs to: name and ARN.
pub type GroupRef = (String, Option<String>);

/// Marks that go into the same transaction as a group of batches.
#[derive(Debug, Clone, Default)]
pub struct SyncMarks {
    /// Ledger entries.
    pub objects: Vec<ObjectMark>,
    /// Watermarks.
    pub watermarks: Vec<Watermark>,
    /// Thing-group memberships read for a thing: `(thing, [(group, arn)])`, replacing the old.
    pub thing_groups: Vec<(String, Vec<GroupRef>)>,
    /// Thing types read from the registry: `(thing, type)`, replacing the old.
    pub thing_types: Vec<(String, Option<String>)>,
    /// A fleet screen, replacing the source's last one.
    pub screen: Option<Screen>,
    /// The scope of the things named above (set by sync: the source's).
    pub scope: crate::model::scope::Scope,
    /// Colleagues' changes read back from Security Hub.
    pub hub: super::HubReadBack,
}

/// What a screen of the whole fleet where the data lies found (an Athena source): the window,
/// what it covered and cost, and the candidates' evidence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Screen {
    /// Source name.
    pub source: String,
    /// Window start.
    pub from: Millis,
    /// Window end.
    pub to: Millis,
    /// Things that reported in the window.
    pub things: u64,
    /// Queries run.
    pub queries: u64,
    /// Bytes the queries scanned.
    pub bytes_scanned: u64,
    /// What they cost.
    pub cost_usd: f64,
    /// The candidates' evidence.
    pub reasons: Vec<ScreenEvidence>,
    /// What they were judged against: the fleet's and the name families' hourly statistics.
    pub stats: Vec<ScreenStat>,
}

/// One hour's robust statistics of one metric over the fleet or one name family, as a screen
/// computed them from every thing's hourly mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreenStat {
    /// `fleet` or `family`.
    pub scope: String,
    /// The name family (the thing name without its trailing digits), for `family`.
    pub family: Option<String>,
    /// Metric, with its dimension as `metric (dimension)`.
    pub metric: String,
    /// The hour's start.
    pub hour: Millis,
    /// Things that reported a value that hour.
    pub things: i64,
    /// Median of their hourly means (approximate in Athena: `approx_percentile`).
    pub median: Option<f64>,
    /// 95th percentile of their hourly means (approximate in Athena).
    pub p95: Option<f64>,
    /// Median absolute deviation from the median.
    pub mad: Option<f64>,
}

/// What a screen kept of one candidate: the evidence; triage words it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreenEvidence {
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// `numeric`, `new-member` or `surface`.
    pub kind: String,
    /// The set member (port, CIDR), for set evidence.
    pub member: Option<String>,
    /// Since when (the first anomalous hour, or when the member appeared).
    pub since: Millis,
    /// Its largest hourly mean (numeric).
    pub peak: Option<f64>,
    /// The basis' median at that hour (numeric).
    pub median: Option<f64>,
    /// Peak over median (numeric).
    pub ratio: Option<f64>,
    /// Anomalous hours (numeric).
    pub hours: Option<i64>,
    /// `family` or `fleet` (numeric).
    pub basis: Option<String>,
    /// Things in the basis (numeric).
    pub peers: Option<i64>,
}

/// A screen's evidence of one thing with what the screen covered.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenedEvidence {
    /// The evidence.
    pub evidence: ScreenEvidence,
    /// The source that screened.
    pub source: String,
    /// Things the screen covered.
    pub things: u64,
}

impl SyncMarks {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
            && self.watermarks.is_empty()
            && self.thing_groups.is_empty()
            && self.thing_types.is_empty()
            && self.screen.is_none()
    }
}

/// The outcome of a source's last sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncRunRow {
    /// Source name.
    pub source: String,
    /// When it finished, epoch ms.
    pub finished: Millis,
    /// Whether it finished without errors.
    pub ok: bool,
    /// The source's JSON summary.
    pub summary: serde_json::Value,
}

impl Store {
    /// Adds a source; a source with that name must not exist.
    pub fn add_source(
        &self,
        name: &str,
        kind: &str,
        settings: &str,
        stated: &crate::model::scope::Scope,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO source(name, kind, settings, created, account, region, account_from)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?5 IS NULL THEN NULL ELSE 'stated' END)
             ON CONFLICT(name) DO NOTHING",
            params![
                name,
                kind,
                settings,
                crate::time::now(),
                stated.account,
                stated.region
            ],
        )?;
        Ok(n == 1)
    }

    /// Records the account and region a source's credentials belong to (STS), unless the
    /// analyst stated them.
    pub fn learn_source_scope(
        &self,
        name: &str,
        learned: &crate::model::scope::Scope,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE source SET account = ?2, region = ?3, account_from = 'learned'
             WHERE name = ?1 AND coalesce(account_from, '') <> 'stated'",
            params![name, learned.account, learned.region],
        )?;
        Ok(())
    }

    /// All sources, by name.
    pub fn sources(&self) -> Result<Vec<SourceRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, kind, settings, created, account, region, account_from
                 FROM source ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceRow {
                name: r.get(0)?,
                kind: r.get(1)?,
                settings: r.get(2)?,
                created: r.get(3)?,
                scope: crate::model::scope::Scope {
                    account: r.get(4)?,
                    region: r.get(5)?,
                },
                account_from: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes a source and its bookkeeping (the data it brought stays). Returns whether it existed.
    pub fn remove_source(&mut self, name: &str) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sync_object WHERE source = ?1", [name])?;
        tx.execute("DELETE FROM sync_watermark WHERE source = ?1", [name])?;
        tx.execute("DELETE FROM sync_run WHERE source = ?1", [name])?;
        let n = tx.execute("DELETE FROM source WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// The ledger of a source: key → ETag.
    pub fn ledger(&self, source: &str) -> Result<HashMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, etag FROM sync_object WHERE source = ?1")?;
        let rows = stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ledger entries of a source with a given outcome, as `(key, detail)`.
    pub fn ledger_outcomes(
        &self,
        source: &str,
        outcome: &str,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT key, detail FROM sync_object WHERE source = ?1 AND outcome = ?2 ORDER BY key",
        )?;
        let rows = stmt.query_map([source, outcome], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The end of the covered interval of a stream that reaches furthest, if any.
    pub fn watermark(&self, source: &str, stream: &str) -> Result<Option<Millis>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT max(covered_to) FROM sync_watermark WHERE source = ?1 AND stream = ?2",
                [source, stream],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Covered intervals of a stream, merged and in order.
    pub fn covered(&self, source: &str, stream: &str) -> Result<Vec<(Millis, Millis)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT covered_from, covered_to FROM sync_watermark
             WHERE source = ?1 AND stream = ?2 ORDER BY covered_from",
        )?;
        let rows = stmt.query_map([source, stream], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut out: Vec<(Millis, Millis)> = Vec::new();
        for row in rows {
            let (a, b) = row?;
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Ok(out)
    }

    /// Writes batches and the marks that cover them in one IMMEDIATE transaction.
    pub fn write_synced(
        &mut self,
        batches: &[&Batch],
        marks: &SyncMarks,
    ) -> Result<Vec<WriteStats>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = write_all(&tx, &mut self.ids, batches).and_then(|stats| {
            write_marks(&tx, marks)?;
            Ok(stats)
        });
        match result.and_then(|stats| tx.commit().map(|()| stats).map_err(Into::into)) {
            Ok(stats) => Ok(stats),
            Err(e) => {
                self.ids = Interner::default();
                Err(e)
            }
        }
    }

    /// Records the outcome of a source's sync.
    pub fn record_sync_run(
        &self,
        source: &str,
        ok: bool,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sync_run(source, finished, ok, summary) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(source) DO UPDATE SET finished = excluded.finished, ok = excluded.ok,
             summary = excluded.summary",
            params![source, crate::time::now(), ok, summary.to_string()],
        )?;
        Ok(())
    }

    /// The last sync of every source that has run.
    pub fn sync_runs(&self) -> Result<Vec<SyncRunRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT source, finished, ok, summary FROM sync_run ORDER BY source")?;
        let rows = stmt.query_map([], |r| {
            let summary: String = r.get(3)?;
            Ok(SyncRunRow {
                source: r.get(0)?,
                finished: r.get(1)?,
                ok: r.get(2)?,
                summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A thing's thing groups as last read from AWS: `(group, arn, observed)`.
    pub fn thing_groups(
        &self,
        thing: &str,
    ) -> Result<Vec<(String, Option<String>, Millis)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT group_name, group_arn, observed FROM thing_group WHERE thing = ?1 ORDER BY group_name",
        )?;
        let rows = stmt.query_map([thing], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every thing's thing groups as last read from AWS (peer groups for triage).
    pub fn all_thing_groups(&self) -> Result<fnv::FnvHashMap<String, Vec<String>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT thing, group_name FROM thing_group ORDER BY thing, group_name")?;
        let mut out: fnv::FnvHashMap<String, Vec<String>> = Default::default();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (thing, group) = row?;
            out.entry(thing).or_default().push(group);
        }
        Ok(out)
    }

    /// Every thing's thing type as last read from AWS (peer groups for triage).
    pub fn all_thing_types(&self) -> Result<fnv::FnvHashMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT thing, type_name FROM thing_type WHERE type_name IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the verification state the analyst set on a violation (pushed to AWS, or on
    /// the demo account).
    pub fn set_violation_verification(
        &self,
        violation_id: &str,
        state: &str,
        description: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE violation SET verification_state = ?2, verification_description = ?3
             WHERE violation_id = ?1",
            rusqlite::params![violation_id, state, description],
        )?;
        Ok(())
    }

    /// Replaces a thing's recorded thing groups.
    pub fn set_thing_groups(
        &mut self,
        thing: &str,
        groups: &[(String, Option<String>)],
    ) -> Result<(), StoreError> {
        let marks = SyncMarks {
            thing_groups: vec![(thing.to_string(), groups.to_vec())],
            ..SyncMarks::default()
        };
        self.write_synced(&[], &marks).map(|_| ())
    }

    /// Replaces a thing's recorded certificates.
    pub fn set_thing_certificates(
        &mut self,
        thing: &str,
        cert_ids: &[String],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM thing_principal WHERE thing = ?1", [thing])?;
        let now = crate::time::now();
        for id in cert_ids {
            tx.execute(
                "INSERT INTO thing_principal(thing, cert_id, observed) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![thing, id, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A thing's certificates as last read from AWS.
    pub fn thing_certificates(&self, thing: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT cert_id FROM thing_principal WHERE thing = ?1 ORDER BY cert_id")?;
        let rows = stmt.query_map([thing], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// SHA-256 over the cache's content in a canonical form (names, not row ids; decoded points,
    /// not blobs), so two caches built from the same data in any order compare equal. The sync
    /// crash and fault tests compare caches this way.
    pub fn fingerprint(&self) -> Result<String, StoreError> {
        let mut h = Sha256::new();
        let mut series = self.conn.prepare(
            "SELECT s.id, t.name, m.name, s.dim FROM series s JOIN thing t ON t.id = s.thing_id
             JOIN metric m ON m.id = s.metric_id ORDER BY t.name, m.name, s.dim",
        )?;
        let list: Vec<(i64, String, String, String)> = series
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let mut chunks = self.conn.prepare(
            "SELECT c.data, t.data FROM chunk c LEFT JOIN timeline t ON t.id = c.timeline
             WHERE c.series = ?1 ORDER BY c.day",
        )?;
        let mut sets = self
            .conn
            .prepare_cached("SELECT members FROM set_value WHERE id = ?1")?;
        let mut points: Vec<Point> = Vec::new();
        for (id, thing, metric, dim) in list {
            h.update(format!("S\0{thing}\0{metric}\0{dim}\n"));
            let blobs: Vec<(Vec<u8>, Option<Vec<u8>>)> = chunks
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (blob, times) in blobs {
                points.clear();
                chunk::decode_into(&blob, times.as_deref(), &mut points)
                    .ok_or_else(|| StoreError::Corrupt(format!("chunk of series {id}")))?;
                for p in &points {
                    let value = if crate::model::ValueKind::from_code(p.kind as i64)
                        .is_some_and(|k| k.is_set())
                    {
                        sets.query_row([p.bits], |r| r.get::<_, String>(0))?
                    } else {
                        p.bits.to_string()
                    };
                    h.update(format!("{} {} {} {value}\n", p.ts, p.version, p.kind));
                }
            }
        }
        const TABLES: &[(&str, &str)] = &[
            ("violation", "SELECT v.violation_id, t.name, v.security_profile, v.behavior, v.metric, v.behavior_json, v.active_started, v.active_last, v.active_value, v.active_verification, v.started, v.ended, v.last_event, v.last_event_time, v.last_value, v.verification_state FROM violation v JOIN thing t ON t.id = v.thing_id ORDER BY 1"),
            ("violation_event", "SELECT * FROM violation_event ORDER BY 1, 2, 3"),
            ("audit_task", "SELECT * FROM audit_task ORDER BY 1"),
            ("audit_check", "SELECT * FROM audit_check ORDER BY 1, 2"),
            ("finding", "SELECT * FROM finding ORDER BY 1"),
            ("security_profile", "SELECT * FROM security_profile ORDER BY 1"),
            ("behavior", "SELECT * FROM behavior ORDER BY 1, 2"),
            ("thing_group", "SELECT thing, group_name, group_arn FROM thing_group ORDER BY 1, 2"),
            ("thing_type", "SELECT thing, type_name FROM thing_type ORDER BY 1"),
            ("sync_object", "SELECT source, key, etag, size, outcome FROM sync_object ORDER BY 1, 2"),
            // A screen's evidence, not when it ran.
            ("screen", "SELECT source, window_from, window_to, things, queries, bytes_scanned FROM screen ORDER BY 1"),
            ("screen_reason", "SELECT * FROM screen_reason ORDER BY 1, 2, 3, 4, 5, 6"),
            ("screen_stat", "SELECT * FROM screen_stat ORDER BY 1, 2, 3, 4, 5"),
        ];
        for (name, sql) in TABLES {
            h.update(format!("T\0{name}\n"));
            let mut stmt = self.conn.prepare(sql)?;
            let cols = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for i in 0..cols {
                    let v: rusqlite::types::Value = row.get(i)?;
                    h.update(format!("{v:?}\x1f"));
                }
                h.update(b"\n");
            }
        }
        Ok(format!("{:x}", h.finalize()))
    }
}

fn write_screen(
    tx: &rusqlite::Transaction,
    sc: &Screen,
    scope: &crate::model::scope::Scope,
) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM screen WHERE source = ?1")?
        .execute([&sc.source])?;
    tx.prepare_cached(
        "INSERT INTO screen(source, window_from, window_to, screened_at, things, queries,
                            bytes_scanned, cost_usd)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        sc.source,
        sc.from,
        sc.to,
        crate::time::now(),
        sc.things as i64,
        sc.queries as i64,
        sc.bytes_scanned as i64,
        sc.cost_usd
    ])?;
    for r in &sc.reasons {
        tx.prepare_cached(
            "INSERT INTO screen_reason(source, thing, metric, kind, member, since, peak, median,
                                       ratio, hours, basis, peers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            sc.source,
            scope.key(&r.thing),
            r.metric,
            r.kind,
            r.member,
            r.since,
            r.peak,
            r.median,
            r.ratio,
            r.hours,
            r.basis,
            r.peers
        ])?;
    }
    for st in &sc.stats {
        tx.prepare_cached(
            "INSERT INTO screen_stat(source, scope, family, metric, hour, things, median, p95, mad)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            sc.source, st.scope, st.family, st.metric, st.hour, st.things, st.median, st.p95,
            st.mad
        ])?;
    }
    Ok(())
}

impl Store {
    /// Whether a kept screen named this thing (a candidate whose series are not cached yet).
    pub fn screened(&self, thing: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM screen_reason WHERE thing = ?1 LIMIT 1")?
            .query_row([thing], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Every kept screen (its evidence and statistics left out).
    pub fn screens(&self) -> Result<Vec<Screen>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, window_from, window_to, things, queries, bytes_scanned, cost_usd
             FROM screen ORDER BY source",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Screen {
                source: r.get(0)?,
                from: r.get(1)?,
                to: r.get(2)?,
                things: r.get::<_, i64>(3)?.max(0) as u64,
                queries: r.get::<_, i64>(4)?.max(0) as u64,
                bytes_scanned: r.get::<_, i64>(5)?.max(0) as u64,
                cost_usd: r.get(6)?,
                ..Screen::default()
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The statistics a source's kept screen judged against, optionally of one metric (as
    /// the screen names it, `metric (dimension)` for a dimension), the fleet's first.
    pub fn screen_stats(
        &self,
        source: &str,
        metric: Option<&str>,
    ) -> Result<Vec<ScreenStat>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT scope, family, metric, hour, things, median, p95, mad FROM screen_stat
             WHERE source = ?1 AND (?2 IS NULL OR metric = ?2)
             ORDER BY scope = 'family', family, metric, hour",
        )?;
        let rows = stmt.query_map(params![source, metric], |r| {
            Ok(ScreenStat {
                scope: r.get(0)?,
                family: r.get(1)?,
                metric: r.get(2)?,
                hour: r.get(3)?,
                things: r.get(4)?,
                median: r.get(5)?,
                p95: r.get(6)?,
                mad: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every kept screen's evidence, with what each screen covered.
    pub fn screen_evidence(&self) -> Result<Vec<ScreenedEvidence>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.thing, r.metric, r.kind, r.member, r.since, r.peak, r.median, r.ratio,
                    r.hours, r.basis, r.peers, s.source, s.things
             FROM screen_reason r JOIN screen s ON s.source = r.source
             ORDER BY r.thing, r.rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ScreenedEvidence {
                evidence: ScreenEvidence {
                    thing: r.get(0)?,
                    metric: r.get(1)?,
                    kind: r.get(2)?,
                    member: r.get(3)?,
                    since: r.get(4)?,
                    peak: r.get(5)?,
                    median: r.get(6)?,
                    ratio: r.get(7)?,
                    hours: r.get(8)?,
                    basis: r.get(9)?,
                    peers: r.get(10)?,
                },
                source: r.get(11)?,
                things: r.get::<_, i64>(12)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn write_marks(tx: &rusqlite::Transaction, marks: &SyncMarks) -> Result<(), StoreError> {
    for m in &marks.objects {
        tx.prepare_cached(
            "INSERT INTO sync_object(source, key, etag, size, outcome, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(source, key) DO UPDATE SET etag = excluded.etag, size = excluded.size,
             outcome = excluded.outcome, detail = excluded.detail",
        )?
        .execute(params![
            m.source, m.key, m.etag, m.size, m.outcome, m.detail
        ])?;
    }
    for w in &marks.watermarks {
        tx.prepare_cached(
            "INSERT INTO sync_watermark(source, stream, covered_from, covered_to)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(source, stream, covered_from)
             DO UPDATE SET covered_to = max(covered_to, excluded.covered_to)",
        )?
        .execute(params![w.source, w.stream, w.from, w.to])?;
    }
    let now = crate::time::now();
    for (name, groups) in &marks.thing_groups {
        let thing = marks.scope.key(name);
        tx.prepare_cached("DELETE FROM thing_group WHERE thing = ?1")?
            .execute([&thing])?;
        for (group, arn) in groups {
            tx.prepare_cached(
                "INSERT INTO thing_group(thing, group_name, group_arn, observed) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![thing, group, arn, now])?;
        }
    }
    if let Some(sc) = &marks.screen {
        write_screen(tx, sc, &marks.scope)?;
    }
    for (name, type_name) in &marks.thing_types {
        let thing = marks.scope.key(name);
        tx.prepare_cached(
            "INSERT INTO thing_type(thing, type_name, observed) VALUES (?1, ?2, ?3)
             ON CONFLICT(thing) DO UPDATE SET type_name = excluded.type_name, observed = excluded.observed",
        )?
        .execute(params![thing, type_name, now])?;
    }
    super::hub::write_readback(tx, &marks.hub)?;
    Ok(())
}
