//! Ingesting files: folders walked, files parsed in parallel, each written in its own
//! transaction. A file none of whose records can be read stores nothing and is reported; a
//! refused record is named (file, byte offset) and the rest of its file kept.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::Serialize;

use crate::model::parse::{self, Context};
use crate::model::{Batch, DocKind};
use crate::store::Store;

/// A file that was not ingested, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The file.
    pub path: String,
    /// What was wrong.
    pub error: String,
}

/// What an ingest did: counts per document kind and per record type, and rejections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// The account the files' things were read as (`--account`, else the cache's one
    /// account, see [`file_scope`]); `null`: unknown. A Security Hub finding's own wins.
    pub account: Option<String>,
    /// Their region.
    pub region: Option<String>,
    /// Files read and stored.
    pub files: u64,
    /// Documents per kind (in stored files).
    pub documents: BTreeMap<DocKind, u64>,
    /// Datapoints offered to the cache (duplicates included).
    pub datapoints: u64,
    /// Violation events.
    pub violation_events: u64,
    /// Active-violation sightings.
    pub active_violations: u64,
    /// Audit check results.
    pub audit_checks: u64,
    /// Audit findings.
    pub audit_findings: u64,
    /// Security profiles.
    pub security_profiles: u64,
    /// Records recognised and skipped (none since Firehose's error outputs are recovered: see
    /// `recovered`).
    pub skipped: u64,
    /// Records recovered from Firehose error outputs (their base64 `rawData`, the only copy of
    /// those metrics), by kind: `processing-failed`, `format-conversion-failed`, `splunk-failed`.
    pub recovered: BTreeMap<String, u64>,
    /// Files that stored nothing.
    pub rejected: Vec<Rejected>,
    /// Records refused in files whose other records were kept: the first 100, by file and
    /// byte offset.
    pub rejected_records: Vec<RejectedRecord>,
    /// Records refused in all, in files whose other records were kept.
    pub rejected_records_total: u64,
    /// Datapoints dated later than now plus an hour: set aside, never stored (the rest of their
    /// file is kept).
    pub future_dated: u64,
    /// The first of them by name.
    pub future_dated_examples: Vec<FutureRow>,
    /// What the parser decided that the reader should know (the first 20).
    pub notes: Vec<String>,
}

/// A record refused in a file whose other records were kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRecord {
    /// The file or object.
    pub path: String,
    /// Byte offset of the record in the (decompressed) file, when known.
    pub offset: Option<u64>,
    /// Why.
    pub error: String,
}

/// Refused records listed by name in a report.
const KEPT_RECORDS: usize = 100;

/// A datapoint set aside for its future time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FutureRow {
    /// The file or object.
    pub path: String,
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Its time (RFC 3339 UTC).
    pub t: String,
}

/// Examples and notes kept per report.
const KEPT: usize = 20;

impl IngestReport {
    /// Counts what a parsed file or object set aside (future-dated points) and noted.
    pub fn note_batch(&mut self, path: &str, batch: &Batch) {
        self.future_dated += batch.future.len() as u64;
        for f in batch
            .future
            .iter()
            .take(KEPT.saturating_sub(self.future_dated_examples.len()))
        {
            self.future_dated_examples.push(FutureRow {
                path: path.to_string(),
                thing: f.thing.clone(),
                metric: f.metric.clone(),
                t: crate::time::to_rfc3339(f.ts),
            });
        }
        for n in &batch.notes {
            if self.notes.len() < KEPT && !self.notes.contains(n) {
                self.notes.push(n.clone());
            }
        }
        self.rejected_records_total += batch.bad_records_total;
        for e in &batch.bad_records {
            if self.rejected_records.len() >= KEPT_RECORDS {
                break;
            }
            tracing::warn!(path, offset = ?e.offset, error = %e.message, "record refused; the rest of the file is kept");
            self.rejected_records.push(RejectedRecord {
                path: path.to_string(),
                offset: e.offset,
                error: e.message.clone(),
            });
        }
    }

    fn add(&mut self, batch: &Batch, stats: crate::store::WriteStats) {
        self.files += 1;
        for (k, n) in &batch.documents {
            *self.documents.entry(*k).or_default() += n;
        }
        for (k, n) in &batch.recovered {
            *self.recovered.entry(k.clone()).or_default() += n;
        }
        self.datapoints += stats.datapoints;
        self.violation_events += stats.violation_events;
        self.active_violations += stats.active_violations;
        self.audit_checks += stats.audit_checks;
        self.audit_findings += stats.audit_findings;
        self.security_profiles += stats.security_profiles;
    }

    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: IngestReport) {
        self.files += other.files;
        for (k, n) in other.documents {
            *self.documents.entry(k).or_default() += n;
        }
        self.datapoints += other.datapoints;
        self.violation_events += other.violation_events;
        self.active_violations += other.active_violations;
        self.audit_checks += other.audit_checks;
        self.audit_findings += other.audit_findings;
        self.security_profiles += other.security_profiles;
        self.skipped += other.skipped;
        for (k, n) in other.recovered {
            *self.recovered.entry(k).or_default() += n;
        }
        self.rejected.extend(other.rejected);
        self.future_dated += other.future_dated;
        for f in other.future_dated_examples {
            if self.future_dated_examples.len() < KEPT {
                self.future_dated_examples.push(f);
            }
        }
        for n in other.notes {
            if self.notes.len() < KEPT && !self.notes.contains(&n) {
                self.notes.push(n);
            }
        }
    }
}

/// Files under `paths` (folders walked recursively, hidden entries skipped), sorted; paths that
/// cannot be read are returned as rejections.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Rejected>) {
    fn walk(p: &Path, files: &mut Vec<PathBuf>, bad: &mut Vec<Rejected>, top: bool) {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden && !top {
            return;
        }
        // Symlinked folders below the top are not followed: a link loop must not recurse forever.
        let linked_dir = !top
            && std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
            && std::fs::metadata(p).is_ok_and(|m| m.is_dir());
        if linked_dir {
            return;
        }
        match std::fs::metadata(p) {
            Err(e) => bad.push(Rejected {
                path: p.display().to_string(),
                error: e.to_string(),
            }),
            Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
                Err(e) => bad.push(Rejected {
                    path: p.display().to_string(),
                    error: e.to_string(),
                }),
                Ok(entries) => {
                    let mut children: Vec<PathBuf> =
                        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    for c in children {
                        walk(&c, files, bad, false);
                    }
                }
            },
            Ok(_) => files.push(p.to_path_buf()),
        }
    }
    let (mut files, mut bad) = (Vec::new(), Vec::new());
    for p in paths {
        walk(p, &mut files, &mut bad, true);
    }
    (files, bad)
}

/// The scope files are read in when the analyst does not say: the one account and region
/// every source of the cache whose account is known acts in (a cache of one account's
/// sources; its files are that account's), else unknown. Stated with `--account` otherwise.
pub fn file_scope(store: &Store) -> Result<crate::model::scope::Scope, crate::store::StoreError> {
    let mut scopes: Vec<crate::model::scope::Scope> = store
        .sources()?
        .into_iter()
        .map(|s| s.scope)
        .filter(|s| s.is_known())
        .collect();
    scopes.sort();
    scopes.dedup();
    Ok(match scopes.as_slice() {
        [one] => one.clone(),
        _ => crate::model::scope::Scope::UNKNOWN,
    })
}

/// Parses one file. Its name dates its device reports' arrival when the context does not (a
/// Firehose object keeps its delivery time in its name and its partition hour in its path).
fn parse_file(path: &Path, ctx: &Context) -> Result<Batch, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    match ctx.arrival {
        Some(_) => parse::parse_reader(file, ctx),
        None => {
            let ctx = Context {
                arrival: parse::Arrival::from_name(&path.to_string_lossy()),
                ..ctx.clone()
            };
            parse::parse_reader(file, &ctx)
        }
    }
    .map(|mut b| {
        b.scope = ctx.scope.clone();
        b
    })
    .map_err(|e| e.to_string())
}

/// Parsed files are written together once they hold this many datapoints (bounds memory).
const GROUP_POINTS: usize = 1 << 17;
/// ... or this many files.
const GROUP_FILES: usize = 4096;

/// Writes a group of parsed files in one transaction; if that fails, file by file, so that a
/// file the cache refuses is reported alone and the others are kept.
fn flush(
    store: &mut Store,
    files: &[PathBuf],
    group: &mut Vec<(usize, Batch)>,
    report: &mut IngestReport,
    rejected: &mut Vec<Rejected>,
) {
    if group.is_empty() {
        return;
    }
    let batches: Vec<&Batch> = group.iter().map(|(_, b)| b).collect();
    let started = std::time::Instant::now();
    let written = store.write_batches(&batches);
    tracing::debug!(files = group.len(), elapsed = ?started.elapsed(), "group written");
    match written {
        Ok(stats) => {
            for ((i, b), s) in group.iter().zip(stats) {
                report.add(b, s);
                report.note_batch(&files[*i].display().to_string(), b);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, files = group.len(), "group write failed; writing file by file");
            for (i, b) in group.iter() {
                match store.write_batch(b) {
                    Ok(s) => {
                        report.add(b, s);
                        report.note_batch(&files[*i].display().to_string(), b);
                    }
                    Err(error) => rejected.push(Rejected {
                        path: files[*i].display().to_string(),
                        error: error.to_string(),
                    }),
                }
            }
        }
    }
    group.clear();
}

/// Ingests files and folders. Parsing runs on all cores; writes are one transaction per file.
pub fn ingest_paths(store: &mut Store, paths: &[PathBuf], ctx: &Context) -> IngestReport {
    let (files, mut rejected) = collect_files(paths);
    let mut report = IngestReport::default();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // A parsed file waits for the writer at most one per worker: parsed batches are what
        // memory holds, and each is bounded by the context's limits.
        let (tx, rx) = mpsc::sync_channel::<(usize, Result<Batch, String>)>(workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (files, next) = (&files, &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                if tx.send((i, parse_file(path, ctx))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut group: Vec<(usize, Batch)> = Vec::new();
        let mut group_points = 0;
        for (i, parsed) in rx {
            match parsed {
                Ok(batch) => {
                    group_points += batch.points.len();
                    group.push((i, batch));
                    if group_points >= GROUP_POINTS || group.len() >= GROUP_FILES {
                        flush(store, &files, &mut group, &mut report, &mut rejected);
                        group_points = 0;
                    }
                }
                Err(error) => {
                    let path = files[i].display().to_string();
                    tracing::warn!(path = %path, %error, "file rejected");
                    rejected.push(Rejected { path, error });
                }
            }
        }
        flush(store, &files, &mut group, &mut report, &mut rejected);
    });
    rejected.sort_by(|a, b| a.path.cmp(&b.path));
    report.rejected = rejected;
    report
}

/// Ingests one in-memory document or object (`name` labels it in the report).
pub fn ingest_bytes(store: &mut Store, name: &str, bytes: &[u8], ctx: &Context) -> IngestReport {
    let mut report = IngestReport::default();
    let result = parse::parse_bytes(bytes, ctx)
        .map_err(|e| e.to_string())
        .and_then(|mut b| {
            b.scope = ctx.scope.clone();
            store
                .write_batch(&b)
                .map(|s| (b, s))
                .map_err(|e| e.to_string())
        });
    match result {
        Ok((batch, stats)) => {
            report.add(&batch, stats);
            report.note_batch(name, &batch);
        }
        Err(error) => report.rejected.push(Rejected {
            path: name.to_string(),
            error,
        }),
    }
    report
}
