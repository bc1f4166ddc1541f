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
use crate::secrets::{Keychain, Secret, SecretStore};
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

/// One record as the anchor holds it.
struct Held {
    seq: i64,
    /// Its first version (parsed; `null` when it is not JSON).
    value: serde_json::Value,
    /// How many different versions the anchor holds.
    versions: usize,
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
            keychain.set(hec::TOKEN_NAME, token)?;
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
        Anchor::SplunkHec { hec } => match keychain(store)?.get(hec::TOKEN_NAME) {
            Ok(Some(token)) => hec::send(hec, &token, &cache, &records, &mut on_sent).await?,
            Ok(None) => Some("no HEC token in the OS keychain: add the anchor again".into()),
            Err(e) => Some(e.to_string()),
        },
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
    let mut report = AnchorReport {
        anchored: true,
        ..AnchorReport::default()
    };
    let cache = store.keychain_scope()?;
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
    let mut remote: std::collections::BTreeMap<i64, serde_json::Value> = Default::default();
    for h in held {
        if h.versions > 1 {
            report.overwritten.push(h.seq);
        }
        remote.insert(h.seq, h.value);
    }
    for r in &store.action_log()? {
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
    let Some(anchor) = configured(store)? else {
        return Ok(0);
    };
    let own = store.keychain_scope()?;
    let mut records = match &anchor {
        Anchor::S3 { s3, .. } => s3::all(s3).await?,
        Anchor::SplunkHec { hec } => hec::all(store, hec, &keychain(store)?).await?,
    };
    records.retain(|(cache, _)| *cache != own);
    // Each colleague's log read as typed entries, by cache.
    let mut logs: std::collections::BTreeMap<&str, crate::actions::ActionLog> = Default::default();
    for (cache, v) in &records {
        let entry = LogEntry::read(
            v["seq"].as_i64().unwrap_or(0),
            v["at"].as_i64().unwrap_or(0),
            "",
            &v["record"],
        );
        logs.entry(cache.as_str()).or_default().push(entry);
    }
    let mut actions: Vec<ColleagueAction> = logs
        .iter()
        .flat_map(|(cache, log)| {
            log.intents().map(move |i| ColleagueAction {
                cache: cache.to_string(),
                seq: i.seq,
                at: i.at,
                who: i.who.aws.clone(),
                os_user: i.who.os_user.clone(),
                action: i.plan.action.clone(),
                thing: i.plan.thing.clone(),
                reason: i.reason.clone(),
                status: log
                    .outcome_of(i.seq)
                    .map_or_else(|| "pending".into(), |o| o.outcome.to_string()),
                demo: i.demo,
            })
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
