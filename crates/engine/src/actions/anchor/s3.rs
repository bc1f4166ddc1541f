//! The S3 anchor: one object per record, `<prefix><cache id>/<seq, 12 digits>.json`, each
//! locked in compliance mode. Object Lock keeps every version of a key, so the first version
//! is what was anchored and a second one is itself evidence of tampering.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectLockMode;

use super::{body, Held, Holding};
use crate::sources::{aws, S3Settings};
use crate::store::LogRecord;
use crate::{Error, Result};

pub(super) fn validate(s3: &S3Settings, retain_days: u32) -> Result<()> {
    crate::sources::SourceSettings::S3(s3.clone()).validate()?;
    if !(1..=36_500).contains(&retain_days) {
        return Err(Error::InvalidInput(
            "--retain-days must be 1 to 36500".into(),
        ));
    }
    Ok(())
}

async fn client(s3: &S3Settings) -> aws_sdk_s3::Client {
    let sdk = aws::sdk_config(&s3.aws).await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(s3.path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The bucket must have Object Lock enabled: records in any other could be deleted.
pub(super) async fn check(s3: &S3Settings) -> Result<()> {
    let lock = client(s3)
        .await
        .get_object_lock_configuration()
        .bucket(&s3.bucket)
        .send()
        .await
        .map_err(|e| Error::Source(aws::failure("GetObjectLockConfiguration", &e)))?;
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
    Ok(())
}

/// Objects of one cache's log.
fn key_prefix(s3: &S3Settings, cache: &str) -> String {
    format!("{}{cache}/", s3.prefix)
}

fn record_key(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:012}.json")
}

/// Puts each record, oldest first, locked until `retain_days` from now; `on_sent` after each.
/// Stops at the first failure and returns why.
pub(super) async fn send(
    s3: &S3Settings,
    retain_days: u32,
    cache: &str,
    records: &[LogRecord],
    on_sent: &mut dyn FnMut(i64) -> Result<()>,
) -> Result<Option<String>> {
    let prefix = key_prefix(s3, cache);
    let client = client(s3).await;
    for r in records {
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
            return Ok(Some(aws::describe("PutObject (action log anchor)", &e)));
        }
        on_sent(r.seq)?;
    }
    Ok(None)
}

/// The sequence number of a record key's last part: exactly `<12 digits>.json`, nothing else
/// (`1.json` or `000000000001.json.bak` beside a locked record is no record).
fn record_seq(name: &str) -> Option<i64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// This cache's records as the bucket holds them; any other key under its prefix is named.
pub(super) async fn own(s3: &S3Settings, cache: &str) -> Result<Holding> {
    let prefix = key_prefix(s3, cache);
    let client = client(s3).await;
    let mut holding = Holding::default();
    // Which sequence each object's content claims: a sequence claimed by two objects (a
    // record beside its locked key, under another name) is a duplicate.
    let mut claims: std::collections::BTreeMap<i64, usize> = Default::default();
    for o in read_objects(&client, &s3.bucket, &prefix).await? {
        if let Some(claimed) = o.value.get("seq").and_then(serde_json::Value::as_i64) {
            *claims.entry(claimed).or_default() += 1;
        }
        match o.key.strip_prefix(&prefix).and_then(record_seq) {
            Some(seq) => holding.records.push(o.held(seq)),
            None => holding.unexpected.push(o.key),
        }
    }
    holding.duplicate = claims
        .into_iter()
        .filter_map(|(seq, n)| (n > 1).then_some(seq))
        .collect();
    Ok(holding)
}

/// Every cache's records under the prefix, `(cache id, record)`: keys of the exact record
/// form only.
pub(super) async fn all(s3: &S3Settings) -> Result<Vec<(String, Held)>> {
    let client = client(s3).await;
    Ok(read_objects(&client, &s3.bucket, &s3.prefix)
        .await?
        .into_iter()
        .filter_map(|o| {
            let (cache, name) = o.key.strip_prefix(&s3.prefix)?.split_once('/')?;
            let seq = record_seq(name)?;
            Some((cache.to_string(), o.held(seq)))
        })
        .collect())
}

/// An object under the anchor's prefix: its first version's content and time.
struct Object {
    key: String,
    value: serde_json::Value,
    versions: usize,
    arrived: Option<crate::time::Millis>,
}

impl Object {
    fn held(self, seq: i64) -> Held {
        Held {
            seq,
            value: self.value,
            versions: self.versions,
            arrived: self.arrived,
        }
    }
}

/// Every key under `prefix` with the content of its **first** version (at most 1 MiB; a record
/// is a few KiB; a larger object is `null`), parsed as JSON (`null` when it is not), how many
/// versions it has and when the first was written. Object
/// Lock keeps every version, but anyone who may write the bucket can put a newer one under a
/// key: the first is what was anchored, a second is itself evidence of tampering.
async fn read_objects(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<Object>> {
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
                Error::Source(aws::failure("ListObjectVersions (action log anchor)", &e))
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
    for (key, (version, at, size, versions)) in first {
        let arrived = (at != i64::MAX).then_some(at);
        if size > 1 << 20 {
            out.push(Object {
                key,
                value: serde_json::Value::Null,
                versions,
                arrived,
            });
            continue;
        }
        let got = client
            .get_object()
            .bucket(bucket)
            .key(&key)
            .version_id(version)
            .send()
            .await
            .map_err(|e| Error::Source(aws::failure("GetObject (action log anchor)", &e)))?;
        let bytes = got
            .body
            .collect()
            .await
            .map_err(|e| Error::remote(format!("GetObject {key}: {e}")))?
            .into_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        out.push(Object {
            key,
            value,
            versions,
            arrived,
        });
    }
    Ok(out)
}
