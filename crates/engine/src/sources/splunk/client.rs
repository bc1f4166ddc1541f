//! Splunk's REST export API over the index the AWS Firehose→Splunk sample fills: one event per
//! exported metric entry, one per audit-check result, `_raw` holding the event JSON and `_time`
//! the index time (a metric's real time is its own `timestamp` field). The SPL it sends comes
//! only from `spl.rs`.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde::Deserialize;

use super::SplunkSettings;
use crate::model::parse::{self, Context};
use crate::model::Batch;
use crate::secrets::Secret;
use crate::sources::contract::Health;
use crate::sources::{SourceError, SourceErrorKind};
use crate::time::Millis;
use crate::{Error, Result};

/// Tries for a search Splunk refuses for concurrency (503, `Search not executed`).
const REFUSAL_TRIES: u32 = 5;

/// Reads a PEM bundle of CA certificates.
pub fn load_ca_bundle(path: &str) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source,
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::InvalidInput(format!("{path}: not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{path}: no certificate in the bundle"
        )));
    }
    Ok(certs)
}

/// One line of the export stream (every member optional, unknown ones ignored).
#[derive(Deserialize)]
struct ExportLine {
    preview: Option<bool>,
    #[serde(default)]
    lastrow: bool,
    result: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: String,
}

/// What one export read.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// Result rows read.
    pub rows: u64,
    /// Rows whose event could not be parsed (each listed in `row_errors`, up to 20).
    pub rejected: u64,
    /// The first parse errors.
    pub row_errors: Vec<String>,
    /// Warnings Splunk sent with the results.
    pub warnings: Vec<String>,
    /// Warnings past the first [`MAX_WARNINGS`], counted only.
    pub warnings_dropped: u64,
}

/// Why an export failed, and whether running it again may help.
#[derive(Debug)]
pub struct ExportError {
    /// What kind of failure (throttled, credentials, network, …).
    pub kind: SourceErrorKind,
    /// Message for the analyst.
    pub message: String,
    /// Whether a retry may succeed (transport faults, a cut-off stream, 5xx).
    pub retryable: bool,
}

fn field_str(v: Option<&serde_json::Value>) -> Option<&str> {
    match v? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Array(a) => a.first().and_then(|x| x.as_str()),
        _ => None,
    }
}

/// Longest line of an export stream kept in memory (one event; as for a Firehose record).
pub const MAX_LINE_BYTES: usize = crate::model::framing::MAX_RECORD_BYTES;
/// Largest response [`SplunkSource::search_rows`] reads (the anchor's records are a few KiB each).
pub const MAX_ROWS_BYTES: usize = 128 << 20;
/// Splunk warnings kept per export; the rest are counted.
pub const MAX_WARNINGS: usize = 100;

/// Largest answer read from a short call (server info, an error body, an HEC reply): they are a
/// few KiB; past this the rest is not read and the answer is treated as cut off.
pub const MAX_SMALL_BODY: usize = 1 << 20;

/// Reads at most `cap` bytes of a response body, chunk by chunk (never the whole of a body a
/// server chooses the size of), as text; whether it was cut at the cap.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> (String, bool) {
    let mut body: Vec<u8> = Vec::new();
    let mut cut = false;
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            cut = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    (String::from_utf8_lossy(&body).into_owned(), cut)
}

/// A connected Splunk source.
pub struct SplunkSource {
    settings: SplunkSettings,
    client: reqwest::Client,
    token: Secret,
}

impl SplunkSource {
    /// Builds the HTTP client: certificate verification always on, the source's CA bundle
    /// trusted in addition to the system roots.
    pub fn connect(settings: &SplunkSettings, token: Secret) -> Result<Self> {
        // Also for sources stored before the https rule: the token never goes out over http.
        crate::sources::secure_url("Splunk URL", &settings.url)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // An idle timeout, not a total one: the first byte of an export can take long.
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("defender-desk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &settings.ca_bundle {
            for cert in load_ca_bundle(ca)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::remote(format!("cannot set up HTTPS for Splunk: {e}")))?;
        Ok(Self {
            settings: settings.clone(),
            client,
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.url.trim_end_matches('/'))
    }

    /// What kind of transport failure `e` is: TLS's when a rustls error is in its source chain
    /// (the certificate refused, the handshake failed) — by type, never by its text — else the
    /// network's.
    fn transport_kind(e: &reqwest::Error) -> SourceErrorKind {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(inner) = src {
            if inner.downcast_ref::<rustls::Error>().is_some() {
                return SourceErrorKind::Tls;
            }
            // An io::Error's `source()` skips the error it wraps (tokio-rustls wraps rustls's
            // in one, and connectors wrap that in another): step into the wrapped one.
            src = match inner
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
            {
                Some(wrapped) => Some(wrapped as &(dyn std::error::Error + 'static)),
                None => inner.source(),
            };
        }
        SourceErrorKind::Network
    }

    fn transport_error(&self, e: &reqwest::Error) -> String {
        let mut msg = format!("Splunk at {}: ", self.settings.url);
        let chain = {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        };
        if Self::transport_kind(e) == SourceErrorKind::Tls {
            msg.push_str(&format!(
                "TLS failed ({chain}); if Splunk uses a self-signed certificate, add its CA with --ca-bundle (verification is never turned off)"
            ));
        } else if e.is_connect() {
            msg.push_str(&format!(
                "cannot connect ({chain}); check the URL and port (management port, usually 8089)"
            ));
        } else if e.is_timeout() {
            msg.push_str(&format!("timed out ({chain})"));
        } else {
            msg.push_str(&chain);
        }
        msg
    }

    /// Checks URL, TLS and token with `GET /services/server/info`.
    pub async fn test(&self) -> Result<Health> {
        let resp = self
            .client
            .get(self.url("/services/server/info"))
            .query(&[("output_mode", "json")])
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| {
                Error::Source(SourceError::new(
                    Self::transport_kind(&e),
                    self.transport_error(&e),
                ))
            })?;
        let status = resp.status();
        let (body, cut) = read_capped(resp, MAX_SMALL_BODY).await;
        if cut && status.as_u16() == 200 {
            return Err(Error::remote(format!(
                "Splunk at {} answered /services/server/info with more than {MAX_SMALL_BODY} bytes: not a Splunk server info (check the URL)",
                self.settings.url
            )));
        }
        match status.as_u16() {
            200 => {
                let version = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.pointer("/entry/0/content/version").cloned())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "unknown".into());
                Ok(Health::ok(format!(
                    "Splunk {version} at {} reachable, token accepted",
                    self.settings.url
                )))
            }
            401 => Err(Error::Source(SourceError::new(
                SourceErrorKind::Credentials,
                format!(
                    "Splunk at {} rejected the token (expired or revoked): store a new one with `ddesk sources add` after `sources remove`",
                    self.settings.url
                ),
            ))),
            code => Err(Error::Source(SourceError::new(
                SourceError::kind_of_status(code).unwrap_or(SourceErrorKind::Service),
                format!(
                    "Splunk at {} answered HTTP {code}: {}",
                    self.settings.url,
                    splunk_messages(&body)
                ),
            ))),
        }
    }

    /// Starts an export search over `_time` in `[from, to)`: the response whose body is the
    /// NDJSON stream. Retries concurrency refusals (503) with back-off and falls back to the v1
    /// endpoint on servers before 9.0.1.
    async fn post_export(
        &self,
        spl: &str,
        from: Millis,
        to: Millis,
    ) -> std::result::Result<reqwest::Response, ExportError> {
        let earliest = format!("{:.3}", from as f64 / 1000.0);
        let latest = format!("{:.3}", to as f64 / 1000.0);
        let form = [
            ("search", spl),
            ("output_mode", "json"),
            ("earliest_time", earliest.as_str()),
            ("latest_time", latest.as_str()),
        ];
        let mut path = "/services/search/v2/jobs/export";
        let mut refusals = 0;
        loop {
            let resp = self
                .client
                .post(self.url(path))
                .bearer_auth(self.token.expose())
                .form(&form)
                .send()
                .await
                .map_err(|e| {
                    let kind = Self::transport_kind(&e);
                    ExportError {
                        kind,
                        message: self.transport_error(&e),
                        // An untrusted certificate does not become trusted by asking again.
                        retryable: kind != SourceErrorKind::Tls,
                    }
                })?;
            let status = resp.status().as_u16();
            match status {
                200 => return Ok(resp),
                404 if path.contains("/v2/") => {
                    // Servers before 9.0.1 have only the v1 endpoint.
                    path = "/services/search/jobs/export";
                }
                503 => {
                    let (body, _) = read_capped(resp, MAX_SMALL_BODY).await;
                    refusals += 1;
                    if refusals >= REFUSAL_TRIES {
                        return Err(ExportError {
                            kind: SourceErrorKind::Throttled,
                            message: format!(
                                "Splunk refused the search {refusals} times: {}",
                                splunk_messages(&body)
                            ),
                            retryable: false,
                        });
                    }
                    let wait = Duration::from_millis(250 << refusals.min(6))
                        + Duration::from_millis(fastrand::u64(0..250));
                    tracing::warn!(
                        ?wait,
                        "Splunk refused the search (concurrency); backing off"
                    );
                    tokio::time::sleep(wait).await;
                }
                401 => {
                    return Err(ExportError {
                        kind: SourceErrorKind::Credentials,
                        message: format!(
                            "Splunk at {} rejected the token (expired or revoked)",
                            self.settings.url
                        ),
                        retryable: false,
                    })
                }
                code => {
                    let (body, _) = read_capped(resp, MAX_SMALL_BODY).await;
                    return Err(ExportError {
                        kind: SourceError::kind_of_status(code).unwrap_or(SourceErrorKind::Service),
                        message: format!(
                            "Splunk export answered HTTP {code}: {}",
                            splunk_messages(&body)
                        ),
                        retryable: code >= 500,
                    });
                }
            }
        }
    }

    /// Runs an export search and returns its result rows as Splunk sent them (every value a
    /// string or an array of strings), at most `max_rows`, for searches whose rows are not
    /// device documents (the action log's anchor). The whole response is bounded by
    /// [`MAX_ROWS_BYTES`].
    pub async fn search_rows(
        &self,
        spl: &str,
        from: Millis,
        to: Millis,
        max_rows: usize,
    ) -> std::result::Result<Vec<serde_json::Map<String, serde_json::Value>>, ExportError> {
        let mut resp = self.post_export(spl, from, to).await?;
        let mut body: Vec<u8> = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(None) => break,
                Ok(Some(c)) => {
                    if body.len() + c.len() > MAX_ROWS_BYTES {
                        return Err(ExportError {
                            kind: SourceErrorKind::Data,
                            message: format!(
                                "Splunk search answered more than {MAX_ROWS_BYTES} bytes: refused"
                            ),
                            retryable: false,
                        });
                    }
                    body.extend_from_slice(&c);
                }
                Err(e) => {
                    return Err(ExportError {
                        kind: SourceErrorKind::Network,
                        message: format!(
                            "Splunk export stream cut off: {}",
                            self.transport_error(&e)
                        ),
                        retryable: true,
                    })
                }
            }
        }
        let mut stats = ExportStats::default();
        let mut rows = Vec::new();
        let mut ended_with_lastrow = false;
        for line in body.split(|b| *b == b'\n') {
            let Some(l) = read_line(line, &mut stats)? else {
                continue;
            };
            ended_with_lastrow = l.lastrow;
            if let Some(row) = l.result {
                if rows.len() >= max_rows {
                    return Err(ExportError {
                        kind: SourceErrorKind::Data,
                        message: format!("Splunk search answered more than {max_rows} rows"),
                        retryable: false,
                    });
                }
                rows.push(row);
            }
        }
        if !ended_with_lastrow {
            return Err(ExportError {
                kind: SourceErrorKind::Network,
                message: "Splunk export stream ended before its last row (cut off)".into(),
                retryable: true,
            });
        }
        Ok(rows)
    }

    /// Runs an export search over `_time` in `[from, to)` and parses every row's `_raw` into
    /// `on_batch` calls of at most `batch_rows` rows. Retries concurrency refusals (503) with
    /// back-off; other failures are returned with whether a re-run may help.
    pub async fn export<F>(
        &self,
        spl: &str,
        from: Millis,
        to: Millis,
        batch_rows: usize,
        mut on_batch: F,
    ) -> std::result::Result<ExportStats, ExportError>
    where
        F: AsyncFnMut(Batch, u64) -> std::result::Result<(), String>,
    {
        let resp = self.post_export(spl, from, to).await?;
        let carries = self.settings.carries.as_deref();
        let mut stats = ExportStats::default();
        let mut batch = Batch::default();
        let mut in_batch = 0usize;
        let mut buf: Vec<u8> = Vec::new();
        let mut ended_with_lastrow = false;
        let mut stream = resp.bytes_stream();
        let fail = |message| ExportError {
            kind: SourceErrorKind::Service,
            message,
            retryable: false,
        };
        loop {
            let chunk = match stream.next().await {
                None => break,
                Some(Ok(c)) => c,
                Some(Err(e)) => {
                    return Err(ExportError {
                        kind: SourceErrorKind::Network,
                        message: format!(
                            "Splunk export stream cut off: {}",
                            self.transport_error(&e)
                        ),
                        retryable: true,
                    })
                }
            };
            buf.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(nl) = memchr::memchr(b'\n', &buf[start..]) {
                let line = &buf[start..start + nl];
                start += nl + 1;
                ended_with_lastrow =
                    export_line(line, carries, &mut batch, &mut stats, &mut in_batch)?;
                if in_batch >= batch_rows {
                    on_batch(batch.take_content(), in_batch as u64)
                        .await
                        .map_err(fail)?;
                    in_batch = 0;
                }
            }
            buf.drain(..start);
            if buf.len() > MAX_LINE_BYTES {
                return Err(fail(format!(
                    "Splunk export sent a line longer than {MAX_LINE_BYTES} bytes: refused (a result is one event)"
                )));
            }
        }
        if !buf.iter().all(u8::is_ascii_whitespace) {
            // A final line without newline is complete only if it parses.
            let line = std::mem::take(&mut buf);
            ended_with_lastrow = export_line(&line, carries, &mut batch, &mut stats, &mut in_batch)
                .map_err(|e| ExportError {
                    kind: SourceErrorKind::Network,
                    message: format!("Splunk export stream cut off mid-line ({})", e.message),
                    retryable: true,
                })?;
        }
        if !ended_with_lastrow {
            return Err(ExportError {
                kind: SourceErrorKind::Network,
                message: "Splunk export stream ended before its last row (cut off)".into(),
                retryable: true,
            });
        }
        on_batch(batch, in_batch as u64).await.map_err(fail)?;
        Ok(stats)
    }
}

/// A whole export response in memory, line by line as [`SplunkSource`] reads the stream: what
/// the fuzz target and its regression test run.
pub fn parse_export(body: &[u8]) -> std::result::Result<(Batch, ExportStats), ExportError> {
    let (mut batch, mut stats, mut in_batch) = (Batch::default(), ExportStats::default(), 0);
    for line in body.split(|b| *b == b'\n') {
        if line.len() > MAX_LINE_BYTES {
            return Err(ExportError {
                kind: SourceErrorKind::Data,
                message: format!("Splunk export sent a line longer than {MAX_LINE_BYTES} bytes"),
                retryable: false,
            });
        }
        export_line(line, None, &mut batch, &mut stats, &mut in_batch)?;
    }
    Ok((batch, stats))
}

/// Handles one NDJSON line of an export; returns whether it closed a result set (`lastrow`).
fn export_line(
    line: &[u8],
    carries: Option<&[crate::model::Carried]>,
    batch: &mut Batch,
    stats: &mut ExportStats,
    in_batch: &mut usize,
) -> std::result::Result<bool, ExportError> {
    let Some(l) = read_line(line, stats)? else {
        return Ok(false);
    };
    if let Some(row) = &l.result {
        stats.rows += 1;
        let observed = field_str(row.get("epoch_time"))
            .and_then(|s| s.parse::<f64>().ok())
            .and_then(|s| crate::time::from_seconds(s).ok());
        let ctx = Context {
            observed,
            carries: carries.map(<[_]>::to_vec),
            ..Context::now()
        };
        let outcome = match field_str(row.get("_raw")) {
            None => Err("row has no _raw event".to_string()),
            Some(raw) => {
                parse::parse_record(raw.as_bytes(), &ctx, batch, 0).map_err(|e| e.to_string())
            }
        };
        match outcome {
            Ok(()) => *in_batch += 1,
            Err(e) => {
                stats.rejected += 1;
                if stats.row_errors.len() < 20 {
                    stats.row_errors.push(e);
                }
            }
        }
    }
    Ok(l.lastrow)
}

/// Parses one NDJSON line of an export and takes its messages (a FATAL or ERROR fails the
/// search); `None` for a blank line or a preview.
fn read_line(
    line: &[u8],
    stats: &mut ExportStats,
) -> std::result::Result<Option<ExportLine>, ExportError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let l: ExportLine = serde_json::from_slice(line).map_err(|e| ExportError {
        kind: SourceErrorKind::Data,
        message: format!("Splunk export sent a line that is not JSON ({e})"),
        retryable: true,
    })?;
    for m in &l.messages {
        match m.kind.as_str() {
            "FATAL" | "ERROR" => {
                return Err(ExportError {
                    kind: SourceErrorKind::Service,
                    message: format!("Splunk search failed: {}", m.text),
                    retryable: false,
                })
            }
            "WARN" if stats.warnings.len() < MAX_WARNINGS => stats.warnings.push(m.text.clone()),
            "WARN" => stats.warnings_dropped += 1,
            _ => {}
        }
    }
    if l.preview == Some(true) {
        return Ok(None);
    }
    Ok(Some(l))
}

/// The `messages[].text` of a Splunk error body, or the body itself.
fn splunk_messages(body: &str) -> String {
    #[derive(Deserialize)]
    struct Envelope {
        #[serde(default)]
        messages: Vec<Message>,
    }
    match serde_json::from_str::<Envelope>(body) {
        Ok(e) if !e.messages.is_empty() => e
            .messages
            .iter()
            .map(|m| format!("{} {}", m.kind, m.text))
            .collect::<Vec<_>>()
            .join("; "),
        _ => body.chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers every request with HTTP 200 and a body of `size` bytes (`{"a":`
    /// and spaces), then closes.
    fn huge_server(size: usize) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut s) = stream else { continue };
                let mut req = [0u8; 4096];
                let _ = s.read(&mut req);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(head.as_bytes());
                let chunk = vec![b' '; 64 << 10];
                let mut sent = 0;
                while sent < size {
                    let n = chunk.len().min(size - sent);
                    if s.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
            }
        });
        format!("http://{addr}")
    }

    /// Regression (#29.8): an 800 MB answer to `/services/server/info` took `sources test` to
    /// 1.6 GB; now at most [`MAX_SMALL_BODY`] is read and the answer is refused.
    #[test]
    fn a_huge_server_info_answer_is_read_only_to_its_cap() {
        let url = huge_server(64 << 20);
        let settings = SplunkSettings {
            url,
            index: "iot".into(),
            sourcetype: crate::sources::default_sourcetype(),
            ca_bundle: None,
            carries: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let source = SplunkSource::connect(&settings, Secret::new("t")).unwrap();
        let e = rt.block_on(source.test()).unwrap_err().to_string();
        assert!(
            e.contains(&format!("more than {MAX_SMALL_BODY} bytes")),
            "{e}"
        );
    }
}
