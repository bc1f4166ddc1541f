//! The Splunk anchor: every record is sent to the team's Splunk through HTTP Event Collector
//! (`/services/collector/event`, sourcetype `defender-desk:action-log`, source
//! `defender-desk:<cache id>`), and read back through a configured Splunk source's search API.
//! An HEC token can only add events; an analyst whose Splunk role lacks `delete_by_keyword`
//! (`can_delete`) cannot remove them, so what was indexed stays as it was indexed.
//!
//! HEC delivers at least once (a batch that failed halfway is sent again): identical copies of
//! a record are one record; two *different* events for one sequence number are reported as
//! `overwritten` — someone holding the HEC token sent a second version.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::{body, Held, Holding};
use crate::secrets::{Secret, SecretStore};
use crate::sources::splunk::{self, SplunkSource};
use crate::sources::SourceSettings;
use crate::store::{LogRecord, Store};
use crate::{Error, Result};

/// Where the records go and how they are read back. No secret: the HEC token is in the OS
/// keychain, the search source's token too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HecSettings {
    /// HTTP Event Collector base URL (`https://splunk.example.com:8088`).
    pub hec_url: String,
    /// Index the records go to (the HEC token must be allowed to write it).
    pub index: String,
    /// The Splunk source (search API, its own token) `verify` reads the records back through.
    pub search_source: String,
    /// PEM bundle of CAs to trust for the HEC endpoint (self-signed Splunk certificates).
    pub ca_bundle: Option<String>,
}

/// Sourcetype of the anchored records.
pub const SOURCETYPE: &str = "defender-desk:action-log";
/// Keychain name of the HEC token (`:` cannot be in a source's name, so no source collides).
pub const TOKEN_NAME: &str = "anchor:splunk-hec";
/// Records per HEC request.
const BATCH: usize = 100;
/// Records read back at most (each a few KiB; the read is also bounded in bytes).
const MAX_RECORDS: usize = 200_000;

/// The `source` field of one cache's records.
fn source_of(cache: &str) -> String {
    format!("defender-desk:{cache}")
}

pub(super) fn validate(h: &HecSettings) -> Result<()> {
    crate::sources::secure_url("HEC URL", &h.hec_url)?;
    splunk::validate_index(&h.index)?;
    crate::sources::validate_name(&h.search_source)?;
    if let Some(ca) = &h.ca_bundle {
        splunk::load_ca_bundle(ca)?;
    }
    Ok(())
}

fn client(h: &HecSettings) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("defender-desk/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &h.ca_bundle {
        for cert in splunk::load_ca_bundle(ca)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| Error::remote(format!("cannot set up HTTPS for HEC: {e}")))
}

/// HEC's channel header (a GUID; required when the token has indexer acknowledgement on),
/// derived from the cache id so one cache always uses one channel.
fn channel(cache: &str) -> String {
    let d = sha2::Sha256::digest(format!("defender-desk-hec-channel:{cache}"));
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// HEC's answer: `{"text": "...", "code": N}` (0 is success).
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    text: String,
    code: Option<i64>,
    #[serde(rename = "invalid-event-number")]
    invalid_event: Option<i64>,
}

/// Why HEC refused a request: its answer code (`None` when it sent no HEC answer, or the
/// request never arrived) and the message for the analyst.
struct Refused {
    code: Option<i64>,
    message: String,
}

/// HEC's code for a request without events: the token was accepted.
const NO_DATA: i64 = 5;

/// One POST to the collector; `Ok` only on HTTP 200 with code 0.
async fn post(
    client: &reqwest::Client,
    h: &HecSettings,
    token: &Secret,
    cache: &str,
    payload: Vec<u8>,
) -> std::result::Result<(), Refused> {
    let url = format!(
        "{}/services/collector/event",
        h.hec_url.trim_end_matches('/')
    );
    let resp = client
        .post(&url)
        .header("Authorization", format!("Splunk {}", token.expose()))
        .header("X-Splunk-Request-Channel", channel(cache))
        .header("Content-Type", "application/json")
        .body(payload)
        .send()
        .await
        .map_err(|e| Refused {
            code: None,
            message: format!("HEC at {}: {e}", h.hec_url),
        })?;
    let status = resp.status().as_u16();
    let (text, _) = splunk::read_capped(resp, splunk::MAX_SMALL_BODY).await;
    let answer: Option<Answer> = serde_json::from_str(&text).ok();
    match (status, answer) {
        (200, Some(Answer { code: Some(0), .. })) => Ok(()),
        (_, Some(a)) => Err(Refused {
            code: a.code,
            message: format!(
                "HEC at {} answered HTTP {status}: {} (code {}{})",
                h.hec_url,
                a.text,
                a.code.map_or("?".into(), |c| c.to_string()),
                a.invalid_event
                    .map_or(String::new(), |n| format!(", event {n} of the batch")),
            ),
        }),
        (_, None) => Err(Refused {
            code: None,
            message: format!(
                "HEC at {} answered HTTP {status}: {}",
                h.hec_url,
                text.chars().take(200).collect::<String>()
            ),
        }),
    }
}

/// Checks URL, TLS and token before the anchor is kept: an empty request is answered "No
/// data" (code 5) for a valid token and "Invalid token" (code 4) otherwise. Then checks that
/// the search source exists, is a Splunk source and can search the index.
pub(super) async fn check(
    store: &Store,
    h: &HecSettings,
    token: &Secret,
    secrets: &dyn SecretStore,
) -> Result<()> {
    let cache = store.keychain_scope()?;
    match post(&client(h)?, h, token, &cache, Vec::new()).await {
        Err(e) if e.code == Some(NO_DATA) => {}
        Err(e) => return Err(Error::remote(e.message)),
        Ok(()) => {}
    }
    let search = search_source(store, h, secrets)?;
    let now = crate::time::now();
    search
        .search_rows(
            &format!(
                "search index={} sourcetype={} | head 1 | table _raw",
                h.index,
                splunk::spl_str(SOURCETYPE)
            ),
            0,
            now + 86_400_000,
            1,
        )
        .await
        .map_err(|e| {
            Error::remote(format!(
                "the search source {:?} cannot read index {}: {}",
                h.search_source, h.index, e.message
            ))
        })?;
    Ok(())
}

fn search_source(
    store: &Store,
    h: &HecSettings,
    secrets: &dyn SecretStore,
) -> Result<SplunkSource> {
    let source = crate::sources::get(store, &h.search_source)?;
    let SourceSettings::Splunk(s) = &source.settings else {
        return Err(Error::InvalidInput(format!(
            "--search-source {:?} is a {} source: it must be a Splunk source (its search API reads the records back)",
            h.search_source,
            source.settings.kind()
        )));
    };
    let token = crate::secrets::get_bound(secrets, &h.search_source, &s.url)?.ok_or_else(|| {
        Error::Secrets(format!(
            "no Splunk token in the OS keychain for source {:?}",
            h.search_source
        ))
    })?;
    SplunkSource::connect(s, token)
}

/// Sends the records in batches, oldest first; `on_sent` after each batch is accepted. Stops
/// at the first failure and returns why (the batch is sent again next time: copies are one).
pub(super) async fn send(
    h: &HecSettings,
    token: &Secret,
    cache: &str,
    records: &[LogRecord],
    on_sent: &mut dyn FnMut(i64) -> Result<()>,
) -> Result<Option<String>> {
    let client = client(h)?;
    let source = source_of(cache);
    for chunk in records.chunks(BATCH) {
        let mut payload = Vec::new();
        for r in chunk {
            let event = serde_json::json!({
                "time": format!("{:.3}", r.at as f64 / 1000.0),
                "index": h.index,
                "source": source,
                "sourcetype": SOURCETYPE,
                "event": body(r),
            });
            serde_json::to_writer(&mut payload, &event).expect("event serializes");
            payload.push(b'\n');
        }
        if let Err(e) = post(&client, h, token, cache, payload).await {
            return Ok(Some(e.message));
        }
        if let Some(last) = chunk.last() {
            on_sent(last.seq)?;
        }
    }
    Ok(None)
}

/// One search over the anchor's records: `(source, record, _indextime)` per event.
async fn read(
    store: &Store,
    h: &HecSettings,
    secrets: &dyn SecretStore,
    cache: Option<&str>,
) -> Result<Vec<(String, serde_json::Value, i64)>> {
    let search = search_source(store, h, secrets)?;
    let mut spl = format!(
        "search index={} sourcetype={}",
        h.index,
        splunk::spl_str(SOURCETYPE)
    );
    if let Some(c) = cache {
        spl.push_str(&format!(" source={}", splunk::spl_str(&source_of(c))));
    }
    spl.push_str(" | table _raw source _indextime");
    let now = crate::time::now();
    let rows = search
        .search_rows(&spl, 0, now + 86_400_000, MAX_RECORDS)
        .await
        .map_err(|e| Error::remote(format!("reading the anchor from Splunk: {}", e.message)))?;
    let s = |row: &serde_json::Map<String, serde_json::Value>, k: &str| match row.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => {
            a.first().and_then(|v| v.as_str()).unwrap_or("").to_string()
        }
        _ => String::new(),
    };
    Ok(rows
        .iter()
        .map(|row| {
            let value = serde_json::from_str(&s(row, "_raw")).unwrap_or(serde_json::Value::Null);
            let indexed = s(row, "_indextime").parse().unwrap_or(i64::MAX);
            (s(row, "source"), value, indexed)
        })
        .collect())
}

/// This cache's records as Splunk holds them: identical copies folded, the earliest indexed
/// version kept, and how many different versions there are. A sequence that two different
/// events claim is also named `duplicate`.
pub(super) async fn own(
    store: &Store,
    h: &HecSettings,
    secrets: &dyn SecretStore,
    cache: &str,
) -> Result<Holding> {
    let mut by_seq: std::collections::BTreeMap<i64, Vec<(serde_json::Value, i64)>> =
        Default::default();
    for (_, value, indexed) in read(store, h, secrets, Some(cache)).await? {
        let Some(seq) = value.get("seq").and_then(serde_json::Value::as_i64) else {
            continue;
        };
        let versions = by_seq.entry(seq).or_default();
        match versions.iter_mut().find(|(v, _)| *v == value) {
            Some(known) => known.1 = known.1.min(indexed),
            None => versions.push((value, indexed)),
        }
    }
    let mut holding = Holding::default();
    for (seq, versions) in by_seq {
        if versions.len() > 1 {
            holding.duplicate.push(seq);
        }
        holding.records.push(earliest(seq, versions));
    }
    Ok(holding)
}

/// The earliest indexed of a sequence's versions, as held.
fn earliest(seq: i64, mut versions: Vec<(serde_json::Value, i64)>) -> Held {
    versions.sort_by_key(|(_, indexed)| *indexed);
    let n = versions.len();
    let (value, indexed) = versions.swap_remove(0);
    Held {
        seq,
        value,
        versions: n,
        arrived: (indexed != i64::MAX).then(|| indexed.saturating_mul(1000)),
    }
}

/// Every cache's records in the index: `(cache id, record)`, identical copies folded, the
/// earliest indexed version of each sequence.
pub(super) async fn all(
    store: &Store,
    h: &HecSettings,
    secrets: &dyn SecretStore,
) -> Result<Vec<(String, Held)>> {
    let mut seen: std::collections::BTreeMap<(String, i64), Vec<(serde_json::Value, i64)>> =
        Default::default();
    for (source, value, indexed) in read(store, h, secrets, None).await? {
        let Some(cache) = source.strip_prefix("defender-desk:") else {
            continue;
        };
        let Some(seq) = value.get("seq").and_then(serde_json::Value::as_i64) else {
            continue;
        };
        let versions = seen.entry((cache.to_string(), seq)).or_default();
        match versions.iter_mut().find(|(v, _)| *v == value) {
            Some(known) => known.1 = known.1.min(indexed),
            None => versions.push((value, indexed)),
        }
    }
    Ok(seen
        .into_iter()
        .map(|((cache, seq), versions)| (cache, earliest(seq, versions)))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_channel_is_a_guid_fixed_per_cache() {
        let a = super::channel("0123456789abcdef");
        assert_eq!(a, super::channel("0123456789abcdef"));
        assert_ne!(a, super::channel("fedcba9876543210"));
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
    }
}
