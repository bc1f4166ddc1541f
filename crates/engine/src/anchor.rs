//! The action log anchored outside the analyst's machine: every record is also written to an
//! S3 bucket with Object Lock in compliance mode, where nobody — not the analyst, not an
//! attacker holding the analyst's machine and credentials — can rewrite or delete it until its
//! retention ends. `ddesk actions verify` then compares the local chain with the anchor and
//! names every record missing locally (a cut tail), present only locally (fabricated, or not
//! sent yet) or different (rewritten).
//!
//! Sending never blocks an action: records go after the action's outcome is logged; a failed
//! send is retried at the next action or `ddesk actions anchor push`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectLockMode;
use serde::{Deserialize, Serialize};

use crate::sources::{aws, S3Settings};
use crate::store::{LogRecord, Store};
use crate::{Error, Result};

/// Where the log is anchored (kept in the cache's metadata; no secret: AWS credentials come
/// from the settings' profile or the default chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Anchor {
    /// An S3 bucket created with Object Lock enabled.
    S3 {
        /// Bucket, prefix, addressing and AWS settings.
        #[serde(flatten)]
        s3: S3Settings,
        /// Days each record is locked (compliance mode).
        retain_days: u32,
    },
}

const META_ANCHOR: &str = "action_log_anchor";
const META_SENT: &str = "action_log_anchor_sent";

/// What pushing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Records sent now.
    pub sent: u64,
    /// The highest sequence number the anchor holds (as this cache knows).
    pub anchored_to: i64,
    /// Why sending stopped, if it did.
    pub error: Option<String>,
}

/// The local chain compared with the anchor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnchorReport {
    /// Whether an anchor is configured (without one, only in-place edits are detected).
    pub anchored: bool,
    /// Records in the anchor that the local log lacks (deleted, a cut tail).
    pub missing: Vec<i64>,
    /// Local records the anchor lacks: fabricated, or not sent yet (`anchor push`).
    pub extra: Vec<i64>,
    /// Records whose local content differs from the anchor's (its first version).
    pub altered: Vec<i64>,
    /// Records of which the anchor holds a second version: someone wrote over the key (the
    /// comparison uses the first, which Object Lock kept).
    pub overwritten: Vec<i64>,
    /// Why the anchor could not be read, if it could not.
    pub error: Option<String>,
}

impl AnchorReport {
    /// Whether the anchor agrees with the local log.
    pub fn agrees(&self) -> bool {
        self.anchored
            && self.error.is_none()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.altered.is_empty()
            && self.overwritten.is_empty()
    }
}

/// The configured anchor, if any.
pub fn configured(store: &Store) -> Result<Option<Anchor>> {
    match store.meta(META_ANCHOR)? {
        None => Ok(None),
        Some(v) => serde_json::from_str(&v)
            .map(Some)
            .map_err(|e| Error::InvalidInput(format!("the anchor settings cannot be read: {e}"))),
    }
}

/// Configures the anchor after checking it: the bucket must have Object Lock enabled.
pub async fn add(store: &Store, anchor: &Anchor) -> Result<()> {
    let Anchor::S3 { s3, retain_days } = anchor;
    Anchor::validate(s3, *retain_days)?;
    let client = client(s3).await;
    let lock = client
        .get_object_lock_configuration()
        .bucket(&s3.bucket)
        .send()
        .await
        .map_err(|e| Error::Source(aws::describe("GetObjectLockConfiguration", &e)))?;
    let enabled = lock
        .object_lock_configuration()
        .and_then(|c| c.object_lock_enabled())
        .is_some_and(|e| e.as_str() == "Enabled");
    if !enabled {
        return Err(Error::InvalidInput(format!(
            "bucket {} does not have Object Lock enabled: create it with --object-lock-enabled-for-bucket (records there could be deleted)",
            s3.bucket
        )));
    }
    store.set_meta(
        META_ANCHOR,
        &serde_json::to_string(anchor).expect("anchor serializes"),
    )?;
    Ok(())
}

impl Anchor {
    fn validate(s3: &S3Settings, retain_days: u32) -> Result<()> {
        crate::sources::SourceSettings::S3(s3.clone()).validate()?;
        if !(1..=36_500).contains(&retain_days) {
            return Err(Error::InvalidInput(
                "--retain-days must be 1 to 36500".into(),
            ));
        }
        Ok(())
    }
}

async fn client(s3: &S3Settings) -> aws_sdk_s3::Client {
    let sdk = aws::sdk_config(&s3.aws).await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(s3.path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Objects of this cache's log: `<prefix><cache id>/<seq, 12 digits>.json`.
fn key_prefix(store: &Store, s3: &S3Settings) -> Result<String> {
    Ok(format!("{}{}/", s3.prefix, store.keychain_scope()?))
}

fn record_key(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:012}.json")
}

/// The anchored form of a record: exactly what the chain covers.
fn body(r: &LogRecord) -> serde_json::Value {
    serde_json::json!({"seq": r.seq, "at": r.at, "record": r.record, "prev_hash": r.prev_hash, "hash": r.hash})
}

/// Sends every record not anchored yet, oldest first, each locked in compliance mode. Errors
/// are reported, not raised: an action is never held up by its anchor.
pub async fn push(store: &Store) -> Result<PushReport> {
    let Some(Anchor::S3 { s3, retain_days }) = configured(store)? else {
        return Ok(PushReport::default());
    };
    let sent: i64 = store
        .meta(META_SENT)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut report = PushReport {
        anchored_to: sent,
        ..PushReport::default()
    };
    let prefix = key_prefix(store, &s3)?;
    let client = client(&s3).await;
    for r in store.action_log()?.iter().filter(|r| r.seq > sent) {
        let until = chrono::Utc::now() + chrono::Duration::days(i64::from(retain_days));
        let bytes = serde_json::to_vec(&body(r)).expect("record serializes");
        let put = client
            .put_object()
            .bucket(&s3.bucket)
            .key(record_key(&prefix, r.seq))
            .body(ByteStream::from(bytes))
            .content_type("application/json")
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_millis(
                until.timestamp_millis(),
            ))
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .send()
            .await;
        if let Err(e) = put {
            report.error = Some(aws::describe("PutObject (action log anchor)", &e));
            tracing::warn!(error = ?report.error, "the action log anchor is behind; it is retried at the next action");
            break;
        }
        store.set_meta(META_SENT, &r.seq.to_string())?;
        report.sent += 1;
        report.anchored_to = r.seq;
    }
    Ok(report)
}

/// Compares the local log with the anchor, record by record.
pub async fn compare(store: &Store) -> Result<AnchorReport> {
    let Some(Anchor::S3 { s3, .. }) = configured(store)? else {
        return Ok(AnchorReport::default());
    };
    let mut report = AnchorReport {
        anchored: true,
        ..AnchorReport::default()
    };
    let prefix = key_prefix(store, &s3)?;
    let client = client(&s3).await;
    let objects = match read_objects(&client, &s3.bucket, &prefix).await {
        Ok(o) => o,
        Err(e) => {
            report.error = Some(e.to_string());
            return Ok(report);
        }
    };
    let mut remote: std::collections::BTreeMap<i64, serde_json::Value> = Default::default();
    for (key, v, versions) in objects {
        let Some(seq) = key
            .strip_prefix(&prefix)
            .and_then(|k| k.strip_suffix(".json"))
            .and_then(|k| k.parse::<i64>().ok())
        else {
            continue;
        };
        if versions > 1 {
            report.overwritten.push(seq);
        }
        remote.insert(seq, v);
    }
    let local = store.action_log()?;
    for r in &local {
        match remote.remove(&r.seq) {
            None => report.extra.push(r.seq),
            Some(v) if v != body(r) => report.altered.push(r.seq),
            Some(_) => {}
        }
    }
    report.missing = remote.into_keys().collect();
    Ok(report)
}

/// Every key under `prefix` with the content of its **first** version (at most 1 MiB; a record
/// is a few KiB), parsed as JSON (`null` when it is not), and how many versions it has. Object
/// Lock keeps every version, but anyone who may write the bucket can put a newer one under a
/// key: the first is what was anchored, a second is itself evidence of tampering.
async fn read_objects(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, serde_json::Value, usize)>> {
    // key -> (version id, last modified, size, versions seen)
    let mut first: std::collections::BTreeMap<String, (String, i64, i64, usize)> =
        Default::default();
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    for _ in 0..100_000 {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| {
                Error::Source(aws::describe("ListObjectVersions (action log anchor)", &e))
            })?;
        for v in page.versions() {
            let (Some(key), Some(id)) = (v.key(), v.version_id()) else {
                continue;
            };
            let at = v
                .last_modified()
                .map_or(i64::MAX, |t| t.to_millis().unwrap_or(i64::MAX));
            let entry = first
                .entry(key.to_string())
                .or_insert_with(|| (id.to_string(), at, v.size().unwrap_or(0), 0));
            entry.3 += 1;
            // S3 lists a key's versions newest first, and LastModified has one-second
            // resolution: on a tie the later-listed version is the older one. (`<` took the
            // newer, so a forgery written in the same second as the record passed as it.)
            if at <= entry.1 {
                *entry = (id.to_string(), at, v.size().unwrap_or(0), entry.3);
            }
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
    let mut out = Vec::new();
    for (key, (version, _, size, versions)) in first {
        if size > 1 << 20 {
            continue;
        }
        let got = client
            .get_object()
            .bucket(bucket)
            .key(&key)
            .version_id(version)
            .send()
            .await
            .map_err(|e| Error::Source(aws::describe("GetObject (action log anchor)", &e)))?;
        let bytes = got
            .body
            .collect()
            .await
            .map_err(|e| Error::Source(format!("GetObject {key}: {e}")))?
            .into_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        out.push((key, value, versions));
    }
    Ok(out)
}

/// An action a colleague took, read back from the shared anchor (another cache's log in the
/// same bucket and prefix): shown beside one's own, marked as theirs, so two analysts do not
/// quarantine and release one thing against each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColleagueAction {
    /// The colleague's cache (its random id).
    pub cache: String,
    /// Sequence number of the intent in that cache's log.
    pub seq: i64,
    /// When it was logged.
    pub at: crate::time::Millis,
    /// AWS caller.
    pub who: String,
    /// OS user.
    pub os_user: String,
    /// `quarantine`, `release`, `mitigate`.
    pub action: String,
    /// Thing.
    pub thing: Option<String>,
    /// Why.
    pub reason: String,
    /// Outcome status, `pending` without one.
    pub status: String,
    /// Demo account.
    pub demo: bool,
}

const META_COLLEAGUES: &str = "action_log_colleagues";
/// Colleagues' actions kept (the newest).
const MAX_COLLEAGUE_ACTIONS: usize = 1000;

/// Reads colleagues' logs from the anchor into the cache (what [`colleagues`] returns, offline
/// too). Returns how many actions were read.
pub async fn pull_colleagues(store: &Store) -> Result<usize> {
    let Some(Anchor::S3 { s3, .. }) = configured(store)? else {
        return Ok(0);
    };
    let own = store.keychain_scope()?;
    let client = client(&s3).await;
    let records: Vec<(String, serde_json::Value)> = read_objects(&client, &s3.bucket, &s3.prefix)
        .await?
        .into_iter()
        .filter_map(|(key, v, _)| {
            let (cache, _) = key.strip_prefix(&s3.prefix)?.split_once('/')?;
            (cache != own).then(|| (cache.to_string(), v))
        })
        .collect();
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut actions: Vec<ColleagueAction> = records
        .iter()
        .filter(|(_, v)| v["record"]["type"] == "intent")
        .map(|(cache, v)| {
            let seq = v["seq"].as_i64().unwrap_or(0);
            let outcome = records.iter().find(|(c, o)| {
                c == cache && o["record"]["type"] == "outcome" && o["record"]["intent"] == seq
            });
            let r = &v["record"];
            ColleagueAction {
                cache: cache.clone(),
                seq,
                at: v["at"].as_i64().unwrap_or(0),
                who: s(&r["who"]["aws"]),
                os_user: s(&r["who"]["os_user"]),
                action: s(&r["plan"]["action"]),
                thing: r["plan"]["thing"].as_str().map(String::from),
                reason: s(&r["reason"]),
                status: outcome.map_or("pending".into(), |(_, o)| s(&o["record"]["status"])),
                demo: r["demo"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    actions.sort_by_key(|a| std::cmp::Reverse(a.at));
    actions.truncate(MAX_COLLEAGUE_ACTIONS);
    let n = actions.len();
    store.set_meta(
        META_COLLEAGUES,
        &serde_json::to_string(&actions).expect("actions serialize"),
    )?;
    Ok(n)
}

/// Colleagues' actions as last read from the anchor, newest first (none without an anchor).
pub fn colleagues(store: &Store) -> Result<Vec<ColleagueAction>> {
    Ok(store
        .meta(META_COLLEAGUES)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}
