//! Metrics-export objects in S3, as Kinesis Data Firehose delivers them: keys
//! `<prefix>YYYY/MM/DD/HH/<stream>-<version>-<date>-<uuid>[.gz]` where the date path is the
//! arrival time (UTC) of the oldest record in the object, records concatenated with no delimiter,
//! often gzip. Failed records go under `processing-failed/` (or another error-output prefix):
//! those are listed and counted, never ingested as metrics.

use chrono::{DateTime, Datelike, Utc};

use super::S3Settings;
use crate::model::parse::{self, Context, ParseError};
use crate::model::Batch;
use crate::sources::aws::{self, describe, failure};
use crate::sources::contract::Health;
use crate::sources::{SourceError, SourceErrorKind};
use crate::time::Millis;
use crate::{Error, Result};

/// Firehose error-output folders (the defaults, and the error-type names it substitutes).
pub const ERROR_PREFIXES: [&str; 4] = [
    "processing-failed/",
    "format-conversion-failed/",
    "failed/",
    "errors/",
];

/// How far outside the requested window to list: records arrive up to 15 minutes (the longest
/// Firehose buffer) after their metric time, and clocks drift.
const PAD_MS: Millis = 60 * 60 * 1000;

/// An object found by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Key.
    pub key: String,
    /// ETag (quotes removed).
    pub etag: String,
    /// Size in bytes.
    pub size: i64,
    /// Whether it is in an error-output prefix (to be counted and skipped).
    pub error_output: bool,
}

/// A connected S3 source.
pub struct S3Source {
    settings: S3Settings,
    client: aws_sdk_s3::Client,
    /// ListObjectsV2 requests made (pages), for the sync summary.
    list_requests: std::sync::atomic::AtomicU64,
}

/// The day partitions (`<prefix>YYYY/MM/DD/`) that can hold records of `[from, to)`.
pub fn day_prefixes(prefix: &str, from: Millis, to: Millis) -> Vec<String> {
    let day = 86_400_000;
    let start = (from - PAD_MS).div_euclid(day);
    let end = (to + PAD_MS).div_euclid(day);
    (start..=end)
        .filter_map(|d| DateTime::<Utc>::from_timestamp_millis(d * day))
        .map(|t| format!("{prefix}{:04}/{:02}/{:02}/", t.year(), t.month(), t.day()))
        .collect()
}

/// The partition hour of a key below `base` (`YYYY/MM/DD/HH/...`), as epoch ms.
fn partition_hour(rest: &str) -> Option<Millis> {
    let mut parts = rest.splitn(5, '/');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let h: u32 = parts.next()?.parse().ok()?;
    parts.next()?;
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, 0, 0)?;
    Some(date.and_utc().timestamp_millis())
}

/// Whether a key (below the source prefix) lies in an error-output folder.
pub fn is_error_output(rest: &str) -> bool {
    ERROR_PREFIXES
        .iter()
        .any(|p| rest.starts_with(p) || rest.contains(&format!("/{p}")))
}

impl S3Source {
    /// Builds the client (no network call yet).
    pub async fn connect(settings: &S3Settings) -> Self {
        let sdk = aws::sdk_config(&settings.aws).await;
        let conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(settings.path_style)
            .build();
        Self {
            settings: settings.clone(),
            client: aws_sdk_s3::Client::from_conf(conf),
            list_requests: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// ListObjectsV2 requests (pages) made so far.
    pub fn list_requests(&self) -> u64 {
        self.list_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks that the bucket is reachable and listable, and says what is wrong if not.
    pub async fn test(&self) -> Result<Health> {
        let s = &self.settings;
        self.client
            .head_bucket()
            .bucket(&s.bucket)
            .send()
            .await
            .map_err(|e| {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let detail = match status {
                    Some(404) => format!("bucket {:?} does not exist", s.bucket),
                    Some(403) => format!(
                        "access to bucket {:?} denied: the credentials lack s3:ListBucket on it",
                        s.bucket
                    ),
                    Some(301) => format!(
                        "bucket {:?} is in another region than {:?}",
                        s.bucket,
                        s.aws.region.as_deref().unwrap_or("the default")
                    ),
                    _ => describe("HeadBucket", &e),
                };
                let kind = status
                    .and_then(SourceError::kind_of_status)
                    .unwrap_or(failure("HeadBucket", &e).kind);
                Error::Source(SourceError::new(kind, detail))
            })?;
        let page = self
            .client
            .list_objects_v2()
            .bucket(&s.bucket)
            .prefix(&s.prefix)
            .max_keys(5)
            .send()
            .await
            .map_err(|e| Error::Source(failure("ListObjectsV2", &e)))?;
        if page.key_count().unwrap_or(0) > 0 {
            Ok(Health::ok(format!(
                "bucket {:?} reachable; prefix {:?} holds objects",
                s.bucket, s.prefix
            )))
        } else {
            Ok(Health::warn(
                format!(
                    "bucket {:?} reachable; prefix {:?} holds no objects",
                    s.bucket, s.prefix
                ),
                "check --prefix: Firehose writes under <prefix>YYYY/MM/DD/HH/ (nothing is read until objects arrive)",
            ))
        }
    }

    /// Lists the objects that can hold records of `[from, to)`: the metric partitions under the
    /// prefix, plus the error-output folders (flagged, to be counted and skipped).
    pub async fn list(&self, from: Millis, to: Millis) -> Result<Vec<ObjectRef>> {
        let s = &self.settings;
        let (lo, hi) = (from - PAD_MS, to + PAD_MS);
        let mut bases: Vec<String> = vec![s.prefix.clone()];
        for e in ERROR_PREFIXES {
            bases.push(format!("{}{e}", s.prefix));
            if !s.prefix.is_empty() {
                bases.push(e.to_string());
            }
        }
        let mut out = Vec::new();
        for (i, base) in bases.iter().enumerate() {
            for day in day_prefixes(base, from, to) {
                let mut attempt = 0;
                let objects = loop {
                    attempt += 1;
                    match self.list_prefix(&day).await {
                        Ok(objects) => break objects,
                        Err((msg, true)) if attempt < BODY_ATTEMPTS => {
                            tracing::warn!(prefix = %day, error = %msg, "listing failed; retrying");
                            backoff(attempt).await;
                        }
                        Err((msg, _)) => return Err(Error::Source(msg)),
                    }
                };
                for (key, etag, size) in objects {
                    let rest = &key[base.len().min(key.len())..];
                    let Some(hour) = partition_hour(rest) else {
                        continue;
                    };
                    if hour + 3_600_000 <= lo || hour >= hi {
                        continue;
                    }
                    let error_output = i > 0 || is_error_output(rest);
                    out.push(ObjectRef {
                        key,
                        etag,
                        size,
                        error_output,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out.dedup_by(|a, b| a.key == b.key);
        Ok(out)
    }

    /// One prefix's listing, all pages. The error says whether a retry may help (a cut-off or
    /// garbled response; the SDK itself already retried throttling, 5xx and connect errors).
    async fn list_prefix(
        &self,
        prefix: &str,
    ) -> std::result::Result<Vec<(String, String, i64)>, (SourceError, bool)> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.settings.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            self.list_requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let page = page.map_err(|e| (failure("ListObjectsV2", &e), transient(&e)))?;
            for obj in page.contents() {
                if let Some(key) = obj.key() {
                    out.push((
                        key.to_string(),
                        obj.e_tag()
                            .unwrap_or_default()
                            .trim_matches('"')
                            .to_string(),
                        obj.size().unwrap_or(0),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Streams one object into the parser as its body arrives (it is never held whole), again
    /// when the body is cut off. Returns what the parser made of it — the object's own verdict,
    /// within `ctx.limits` — with the ETag actually read and the bytes received.
    pub async fn fetch_parsed(&self, key: &str, ctx: &Context) -> Result<Fetched> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.fetch_once(key, ctx).await {
                Ok(v) => return Ok(v),
                Err((msg, true)) if attempt < BODY_ATTEMPTS => {
                    tracing::warn!(key, error = %msg, "fetch failed; retrying");
                    backoff(attempt).await;
                }
                Err((msg, _)) => return Err(Error::Source(msg)),
            }
        }
    }

    async fn fetch_once(
        &self,
        key: &str,
        ctx: &Context,
    ) -> std::result::Result<Fetched, (SourceError, bool)> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| (failure(&format!("GetObject {key}"), &e), transient(&e)))?;
        let etag = resp
            .e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        let expected = resp.content_length();
        // When Firehose wrote it: what a device report's report_id must agree with.
        let arrival = resp
            .last_modified()
            .and_then(|t| t.to_millis().ok())
            .map(|t| parse::Arrival::at(t, "S3 LastModified"))
            .or_else(|| parse::Arrival::from_name(key));
        let mut body = resp.body;
        // A few chunks in flight between the network and the parser: memory per object is the
        // parser's batch (bounded by the limits), not the object.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
        let ctx = Context {
            arrival: ctx.arrival.or(arrival),
            ..ctx.clone()
        };
        let parser =
            tokio::task::spawn_blocking(move || parse::parse_reader(ChannelReader::new(rx), &ctx));
        let mut received: u64 = 0;
        let mut cut_off = None;
        let mut stopped_early = false;
        loop {
            match body.next().await {
                None => break,
                Some(Ok(chunk)) => {
                    received += chunk.len() as u64;
                    if tx.send(Ok(chunk.to_vec())).await.is_err() {
                        // The parser stopped early (it refused the object): nothing more to read.
                        stopped_early = true;
                        break;
                    }
                }
                Some(Err(e)) => {
                    let msg = format!("GetObject {key}: body cut off: {e}");
                    let _ = tx.send(Err(std::io::Error::other(msg.clone()))).await;
                    cut_off = Some(msg);
                    break;
                }
            }
        }
        drop(tx);
        let parsed = parser.await.map_err(|e| {
            (
                SourceError::service(format!("GetObject {key}: parser failed: {e}")),
                false,
            )
        })?;
        if let Some(msg) = cut_off {
            return Err((SourceError::new(SourceErrorKind::Network, msg), true));
        }
        // A body that ended short is retried; one the parser refused part-way stands as refused.
        if let Some(n) = expected.filter(|n| !stopped_early && *n as u64 != received) {
            return Err((
                SourceError::new(
                    SourceErrorKind::Network,
                    format!("GetObject {key}: body cut off ({received} of {n} bytes)"),
                ),
                true,
            ));
        }
        Ok(Fetched {
            parsed,
            etag,
            size: received as i64,
        })
    }
}

/// An object as read and parsed.
#[derive(Debug)]
pub struct Fetched {
    /// The batch, or why the object was refused.
    pub parsed: std::result::Result<Batch, ParseError>,
    /// ETag of what was read.
    pub etag: String,
    /// Bytes received.
    pub size: i64,
}

/// A blocking reader over chunks sent from an async task (the object's body).
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl ChannelReader {
    fn new(rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>) -> Self {
        Self {
            rx,
            chunk: Vec::new(),
            at: 0,
        }
    }
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Attempts for failures the SDK does not retry itself: bodies cut off mid-transfer.
const BODY_ATTEMPTS: u32 = 4;

async fn backoff(attempt: u32) {
    let ms = (100u64 << attempt.min(6)) + fastrand::u64(0..100);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Whether an SDK error may go away on a retry: transport and response-parsing failures (a body
/// cut off), 5xx. Client errors (no such bucket, access denied) will not.
fn transient<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => s.raw().status().is_server_error(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_prefixes_pad_the_window() {
        // 2024-06-03T00:30Z .. 2024-06-03T23:30Z: the day before and after are padded in.
        let from = 1_717_374_600_000;
        let to = from + 23 * 3_600_000;
        assert_eq!(
            day_prefixes("dd/", from, to),
            vec!["dd/2024/06/02/", "dd/2024/06/03/", "dd/2024/06/04/"]
        );
        let mid = 1_717_416_000_000; // 12:00Z
        assert_eq!(day_prefixes("", mid, mid + 1), vec!["2024/06/03/"]);
    }

    #[test]
    fn partition_hours_and_error_outputs() {
        assert_eq!(
            partition_hour("2024/06/03/15/dd-1-2024-06-03-15-59-12-x.gz"),
            Some(1_717_426_800_000)
        );
        assert_eq!(partition_hour("2024/06/03/"), None);
        assert_eq!(partition_hour("2024/13/03/15/x"), None);
        assert!(is_error_output("processing-failed/2024/06/03/15/x"));
        assert!(is_error_output("2024/06/03/15/processing-failed/x"));
        assert!(!is_error_output("2024/06/03/15/dd-1-x.gz"));
    }
}
