//! The action log anchored outside the analyst's machine: every record is also written to an
//! append-only sink that the analyst's machine cannot rewrite — an S3 bucket with Object Lock
//! in compliance mode ([`s3`]), or the team's Splunk through HTTP Event Collector ([`hec`]).
//! `ddesk actions verify` then compares the local chain with the anchor and names every record
//! missing locally (a cut tail), present only locally (fabricated, or not sent yet) or
//! different (rewritten).
//!
//! Sending never blocks an action: records go after the action's outcome is logged; a failed
//! send is retried at the next action or `ddesk actions anchor push`.

pub mod hec;
mod s3;

use serde::{Deserialize, Serialize};

use crate::actions::LogEntry;
use crate::secrets::{Keychain, Secret};
use crate::sources::S3Settings;
use crate::store::{LogRecord, Store};
use crate::{Error, Result};

pub use hec::HecSettings;

/// Where the log is anchored (kept in the cache's metadata; no secret: AWS credentials come
/// from the settings' profile or the default chain, the HEC token is in the OS keychain).
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
    /// The team's Splunk: records sent through HEC, read back through a Splunk source.
    SplunkHec {
        /// HEC endpoint, index and the search source.
        #[serde(flatten)]
        hec: HecSettings,
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
    /// Records of which the anchor holds a second, different version: someone wrote over the
    /// key (S3) or sent another event for it (HEC); the comparison uses the first.
    pub overwritten: Vec<i64>,
    /// Objects under this cache's prefix that are no record (a key other than
    /// `<12-digit seq>.json`): planted beside the log, never read as part of it.
    pub unexpected: Vec<String>,
    /// Sequence numbers that more than one anchored record claims (a record under another
    /// sequence's key, or two different HEC events for one).
    pub duplicate: Vec<i64>,
    /// Anchored records that fail their own hash or do not link to the record before them:
    /// planted by someone who can write the anchor, never evidence against the local log.
    pub invalid: Vec<i64>,
    /// Records that reached the anchor more than [`LATE_AFTER`] after they were logged (S3
    /// `LastModified`, Splunk `_indextime`): a log rewritten and pushed afresh looks like this.
    pub late: Vec<i64>,
    /// The cache id whose log this is (its folder in the bucket, its HEC `source`): a new id is
    /// a new identity, and colleagues' logs appear under theirs.
    pub cache: Option<String>,
    /// Why the anchor could not be read, if it could not.
    pub error: Option<String>,
}

/// How long after it was logged a record may reach the anchor before it is flagged `late`
/// (an analyst offline for a day pushes at the next action).
pub const LATE_AFTER: crate::time::Millis = crate::time::DAY;

impl AnchorReport {
    /// Whether the anchor agrees with the local log.
    pub fn agrees(&self) -> bool {
        self.anchored
            && self.error.is_none()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.altered.is_empty()
            && self.overwritten.is_empty()
            && self.unexpected.is_empty()
            && self.duplicate.is_empty()
            && self.invalid.is_empty()
    }
}

/// One record as the anchor holds it.
struct Held {
    seq: i64,
    /// Its first version (parsed; `null` when it is not JSON).
    value: serde_json::Value,
    /// How many different versions the anchor holds.
    versions: usize,
    /// When it reached the anchor (S3 `LastModified`, Splunk `_indextime`), epoch ms.
    arrived: Option<crate::time::Millis>,
}

/// What an anchor holds for one cache, read: records by sequence, and what is not a record.
#[derive(Default)]
struct Holding {
    records: Vec<Held>,
    /// Keys that are no record of the log (S3).
    unexpected: Vec<String>,
    /// Sequences claimed twice.
    duplicate: Vec<i64>,
}

/// An anchored record's own content, as [`body`] wrote it.
#[derive(Deserialize)]
struct Body {
    seq: i64,
    at: crate::time::Millis,
    record: serde_json::Value,
    prev_hash: String,
    hash: String,
}

impl Body {
    /// The record if it is one whose own hash holds and which claims `seq`.
    fn checked(value: &serde_json::Value, seq: i64) -> Option<Body> {
        let b: Body = serde_json::from_value(value.clone()).ok()?;
        let text = serde_json::to_string(&b.record).ok()?;
        (b.seq == seq && crate::store::record_hash(b.seq, b.at, &text, &b.prev_hash) == b.hash)
            .then_some(b)
    }
}

/// Judges anchored records of one log: which are valid (own hash, link to the record before
/// them: the anchored one, else `local_hash` of the local log's, else the chain's start), by
/// sequence; the others are returned as invalid.
fn judge(
    held: &[Held],
    local_hash: &dyn Fn(i64) -> Option<String>,
) -> (std::collections::BTreeMap<i64, Body>, Vec<i64>) {
    let mut valid: std::collections::BTreeMap<i64, Body> = Default::default();
    let mut invalid = Vec::new();
    let mut sorted: Vec<&Held> = held.iter().collect();
    sorted.sort_by_key(|h| h.seq);
    for h in sorted {
        let Some(b) = Body::checked(&h.value, h.seq) else {
            invalid.push(h.seq);
            continue;
        };
        let link = match valid.get(&(h.seq - 1)) {
            Some(prev) => Some(prev.hash.clone()),
            None if h.seq == 1 => Some(crate::store::GENESIS.to_string()),
            None => local_hash(h.seq - 1),
        };
        if link.as_deref() == Some(b.prev_hash.as_str()) {
            valid.insert(h.seq, b);
        } else {
            invalid.push(h.seq);
        }
    }
    (valid, invalid)
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

/// The keychain of this cache (the HEC token and the search source's token).
fn keychain(store: &Store) -> Result<Keychain> {
    Ok(Keychain::scoped(&store.keychain_scope()?))
}

/// Configures the anchor after checking it: an S3 bucket must have Object Lock enabled; an
/// HEC endpoint must accept `token` (then kept in the OS keychain) and the search source must
/// be able to search the index.
pub async fn add(store: &Store, anchor: &Anchor, token: Option<&Secret>) -> Result<()> {
    match anchor {
        Anchor::S3 { s3, retain_days } => {
            s3::validate(s3, *retain_days)?;
            s3::check(s3).await?;
        }
        Anchor::SplunkHec { hec } => {
            hec::validate(hec)?;
            let token = token.ok_or_else(|| {
                Error::InvalidInput("the Splunk HEC anchor needs its HEC token".into())
            })?;
            let keychain = keychain(store)?;
            hec::check(store, hec, token, &keychain).await?;
            crate::secrets::set_bound(&keychain, hec::TOKEN_NAME, &hec.hec_url, token)?;
        }
    }
    store.set_meta(
        META_ANCHOR,
        &serde_json::to_string(anchor).expect("anchor serializes"),
    )?;
    Ok(())
}

/// The anchored form of a record: exactly what the chain covers.
fn body(r: &LogRecord) -> serde_json::Value {
    serde_json::json!({"seq": r.seq, "at": r.at, "record": r.record, "prev_hash": r.prev_hash, "hash": r.hash})
}

/// Sends every record not anchored yet, oldest first. Errors are reported, not raised: an
/// action is never held up by its anchor.
pub async fn push(store: &Store) -> Result<PushReport> {
    let Some(anchor) = configured(store)? else {
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
    let cache = store.keychain_scope()?;
    let records: Vec<LogRecord> = store
        .action_log()?
        .into_iter()
        .filter(|r| r.seq > sent)
        .collect();
    let mut on_sent = |seq: i64| -> Result<()> {
        store.set_meta(META_SENT, &seq.to_string())?;
        report.sent += u64::try_from(
            records
                .iter()
                .filter(|r| r.seq > report.anchored_to && r.seq <= seq)
                .count(),
        )
        .unwrap_or(0);
        report.anchored_to = seq;
        Ok(())
    };
    let error = match &anchor {
        Anchor::S3 { s3, retain_days } => {
            s3::send(s3, *retain_days, &cache, &records, &mut on_sent).await?
        }
        Anchor::SplunkHec { hec } => {
            match crate::secrets::get_bound(&keychain(store)?, hec::TOKEN_NAME, &hec.hec_url) {
                Ok(Some(token)) => hec::send(hec, &token, &cache, &records, &mut on_sent).await?,
                Ok(None) => Some("no HEC token in the OS keychain: add the anchor again".into()),
                Err(e) => Some(e.to_string()),
            }
        }
    };
    if error.is_some() {
        tracing::warn!(
            ?error,
            "the action log anchor is behind; it is retried at the next action"
        );
    }
    report.error = error;
    Ok(report)
}

/// Compares the local log with the anchor, record by record.
pub async fn compare(store: &Store) -> Result<AnchorReport> {
    let Some(anchor) = configured(store)? else {
        return Ok(AnchorReport::default());
    };
    let cache = store.keychain_scope()?;
    let mut report = AnchorReport {
        anchored: true,
        cache: Some(cache.clone()),
        ..AnchorReport::default()
    };
    let held = match &anchor {
        Anchor::S3 { s3, .. } => s3::own(s3, &cache).await,
        Anchor::SplunkHec { hec } => hec::own(store, hec, &keychain(store)?, &cache).await,
    };
    let held = match held {
        Ok(h) => h,
        Err(e) => {
            report.error = Some(e.to_string());
            return Ok(report);
        }
    };
    report.unexpected = held.unexpected;
    report.duplicate = held.duplicate;
    let local = store.action_log()?;
    let local_hash = |seq: i64| local.iter().find(|r| r.seq == seq).map(|r| r.hash.clone());
    let (valid, invalid) = judge(&held.records, &local_hash);
    report.invalid = invalid;
    let mut remote: std::collections::BTreeMap<i64, serde_json::Value> = Default::default();
    for h in held.records {
        if report.invalid.contains(&h.seq) {
            continue;
        }
        if h.versions > 1 {
            report.overwritten.push(h.seq);
        }
        if let (Some(arrived), Some(b)) = (h.arrived, valid.get(&h.seq)) {
            if arrived > b.at.saturating_add(LATE_AFTER) {
                report.late.push(h.seq);
            }
        }
        remote.insert(h.seq, h.value);
    }
    for r in &local {
        if report.invalid.contains(&r.seq) {
            continue;
        }
        match remote.remove(&r.seq) {
            None => report.extra.push(r.seq),
            Some(v) if v != body(r) => report.altered.push(r.seq),
            Some(_) => {}
        }
    }
    report.missing = remote.into_keys().collect();
    Ok(report)
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
    /// Which action.
    pub action: crate::actions::ActionKind,
    /// Thing.
    pub thing: Option<String>,
    /// Why.
    pub reason: String,
    /// Outcome status, `pending` without one.
    pub status: String,
    /// Demo account.
    pub demo: bool,
    /// Whether the record's own hash holds and it links, record by record, to the start of
    /// its cache's anchored chain. An unverified record is shown as such, never as a fact.
    #[serde(default)]
    pub verified: bool,
    /// Whether it reached the anchor more than [`LATE_AFTER`] after it says it was logged.
    #[serde(default)]
    pub late: bool,
}

const META_COLLEAGUES: &str = "action_log_colleagues";
/// Colleagues' actions kept (the newest).
const MAX_COLLEAGUE_ACTIONS: usize = 1000;

/// Reads colleagues' logs from the anchor into the cache (what [`colleagues`] returns, offline
/// too). Returns how many actions were read.
pub async fn pull_colleagues(store: &Store) -> Result<usize> {
    let Some(anchor) = configured(store)? else {
        return Ok(0);
    };
    let own = store.keychain_scope()?;
    let records = match &anchor {
        Anchor::S3 { s3, .. } => s3::all(s3).await?,
        Anchor::SplunkHec { hec } => hec::all(store, hec, &keychain(store)?).await?,
    };
    // Each colleague's records, by cache.
    let mut by_cache: std::collections::BTreeMap<String, Vec<Held>> = Default::default();
    for (cache, held) in records {
        if cache != own {
            by_cache.entry(cache).or_default().push(held);
        }
    }
    let mut actions: Vec<ColleagueAction> = Vec::new();
    for (cache, held) in &by_cache {
        // Judged on its own chain (no local copy to link to: a chain that does not start at
        // its first record, or breaks, is unverified from there on).
        let (valid, _) = judge(held, &|_| None);
        let mut log = crate::actions::ActionLog::default();
        for h in held {
            let v = &h.value;
            log.push(LogEntry::read(
                v["seq"].as_i64().unwrap_or(0),
                v["at"].as_i64().unwrap_or(0),
                "",
                &v["record"],
            ));
        }
        let arrived = |seq: i64| held.iter().find(|h| h.seq == seq).and_then(|h| h.arrived);
        actions.extend(log.intents().map(|i| {
            ColleagueAction {
                cache: cache.clone(),
                seq: i.seq,
                at: i.at,
                who: i.who.aws.clone(),
                os_user: i.who.os_user.clone(),
                action: i.plan.action,
                thing: i.plan.thing.clone(),
                reason: i.reason.clone(),
                status: log
                    .outcome_of(i.seq)
                    .map_or_else(|| "pending".into(), |o| o.outcome.to_string()),
                demo: i.demo,
                verified: valid.contains_key(&i.seq),
                late: arrived(i.seq).is_some_and(|a| a > i.at.saturating_add(LATE_AFTER)),
            }
        }));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{record_hash, GENESIS};

    fn rec(seq: i64, at: i64, prev: &str) -> (serde_json::Value, String) {
        let record = serde_json::json!({"type": "intent", "n": seq});
        let hash = record_hash(seq, at, &record.to_string(), prev);
        (
            serde_json::json!({"seq": seq, "at": at, "record": record, "prev_hash": prev, "hash": hash}),
            hash,
        )
    }

    fn held(seq: i64, value: serde_json::Value) -> Held {
        Held {
            seq,
            value,
            versions: 1,
            arrived: None,
        }
    }

    /// Each anchored record is trusted only when its own hash holds and it links to the one
    /// before it (anchored, else local, else the chain's start): a planted record is invalid.
    #[test]
    fn anchored_records_are_judged_by_their_own_hash_and_link() {
        let (r1, h1) = rec(1, 10, GENESIS);
        let (r2, h2) = rec(2, 20, &h1);
        let (r3, _) = rec(3, 30, &h2);
        let mut wrong_hash = rec(4, 40, "whatever").0;
        wrong_hash["hash"] = serde_json::json!("00");
        let (unlinked, _) = rec(7, 70, "ff");
        let (claims_other, _) = rec(5, 50, &h2);
        let records = vec![
            held(1, r1),
            held(2, r2),
            held(3, r3),
            held(4, wrong_hash),
            held(7, unlinked),
            // A record under key 6 that says it is 5.
            held(6, claims_other),
        ];
        let (valid, invalid) = judge(&records, &|_| None);
        assert_eq!(valid.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(invalid, [4, 6, 7]);
        // Record 2 alone in the anchor (1 expired) links through the local log's record 1.
        let (_, h1) = rec(1, 10, GENESIS);
        let (r2, _) = rec(2, 20, &h1);
        let local = move |seq: i64| (seq == 1).then(|| h1.clone());
        let (valid, invalid) = judge(&[held(2, r2.clone())], &local);
        assert!(valid.contains_key(&2) && invalid.is_empty());
        let (valid, invalid) = judge(&[held(2, r2)], &|_| None);
        assert!(valid.is_empty() && invalid == [2]);
    }
}
