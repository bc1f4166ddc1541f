//! The three places Device Defender data lives, and their settings.
//!
//! - [`s3`]: metrics-export objects that Kinesis Data Firehose delivered to a bucket.
//! - [`splunk`]: the same metrics and audit events in a Splunk index (REST export API).
//! - [`defender`]: the Device Defender API (violations, security profiles, audits).
//!
//! Settings are stored in the cache ([`crate::store::SourceRow`]); the only secret, a Splunk
//! token, is in the OS keychain ([`crate::secrets`]). Every source turns what it reads into
//! [`crate::model::Batch`]es through the same parsers and types the file ingest uses.

pub mod aws;
pub mod defender;
pub mod s3;
pub mod splunk;

use serde::{Deserialize, Serialize};

use crate::store::{SourceRow, Store};
use crate::{Error, Result};

/// Where AWS calls go and as whom: empty fields fall back to aws-config's default chain
/// (environment, shared config and credentials files, SSO, assume-role, IMDS; `AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsSettings {
    /// Region (`us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Named profile from `~/.aws/config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Endpoint override (S3-compatible stores, test servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

/// An S3 bucket fed by Firehose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix in front of the `YYYY/MM/DD/HH/` partitions (may be empty).
    #[serde(default)]
    pub prefix: String,
    /// Path-style addressing (most S3-compatible stores).
    #[serde(default)]
    pub path_style: bool,
    /// AWS settings.
    #[serde(flatten)]
    pub aws: AwsSettings,
}

/// A Splunk search head fed by the Firehose→Splunk sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplunkSettings {
    /// Management URL, e.g. `https://splunk.example:8089`.
    pub url: String,
    /// Index holding the Device Defender events.
    pub index: String,
    /// Sourcetype of those events.
    #[serde(default = "default_sourcetype")]
    pub sourcetype: String,
    /// PEM bundle of extra trusted CAs (self-signed Splunk certificates). Verification stays on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

/// The sourcetype of the AWS Splunk sample (and of `ddesk`'s Splunk sources by default).
pub fn default_sourcetype() -> String {
    "aws-iot-device-defender".into()
}

/// The Device Defender API of one account and region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderSettings {
    /// AWS settings.
    #[serde(flatten)]
    pub aws: AwsSettings,
}

/// The kinds of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Firehose objects in an S3 bucket.
    S3,
    /// A Splunk index, through the REST search API.
    Splunk,
    /// The Device Defender (and IoT registry) API.
    Defender,
}

impl SourceKind {
    /// `s3`, `splunk` or `defender`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Splunk => "splunk",
            Self::Defender => "defender",
        }
    }
}

/// A source's settings, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceSettings {
    /// S3.
    S3(S3Settings),
    /// Splunk.
    Splunk(SplunkSettings),
    /// Device Defender API.
    Defender(DefenderSettings),
}

impl SourceSettings {
    /// `s3`, `splunk` or `defender`.
    pub fn kind(&self) -> &'static str {
        self.source_kind().as_str()
    }

    /// Which kind of source it is.
    pub fn source_kind(&self) -> SourceKind {
        match self {
            Self::S3(_) => SourceKind::S3,
            Self::Splunk(_) => SourceKind::Splunk,
            Self::Defender(_) => SourceKind::Defender,
        }
    }

    /// Checks the settings before they are stored.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::S3(s) => {
                if s.bucket.is_empty()
                    || s.bucket.len() > 63
                    || !s
                        .bucket
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
                {
                    return Err(Error::InvalidInput(format!(
                        "bucket name {:?} is not a valid S3 bucket name (3-63 lowercase letters, digits, '-' and '.')",
                        s.bucket
                    )));
                }
                no_control("prefix", &s.prefix)?;
                validate_aws(&s.aws)
            }
            Self::Splunk(s) => {
                secure_url("Splunk URL", &s.url)?;
                splunk::validate_index(&s.index)?;
                splunk::validate_token_like("sourcetype", &s.sourcetype)?;
                if let Some(ca) = &s.ca_bundle {
                    splunk::load_ca_bundle(ca)?;
                }
                Ok(())
            }
            Self::Defender(d) => validate_aws(&d.aws),
        }
    }
}

fn validate_aws(a: &AwsSettings) -> Result<()> {
    if let Some(r) = &a.region {
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::InvalidInput(format!(
                "region {r:?} is not an AWS region name"
            )));
        }
    }
    if let Some(e) = &a.endpoint_url {
        secure_url("endpoint URL", e)?;
    }
    if let Some(p) = &a.profile {
        no_control("profile", p)?;
    }
    Ok(())
}

/// Checks a URL a secret or AWS credentials will be sent to: `https://host[:port]`, or `http`
/// only to this machine (127.0.0.0/8, `::1`, `localhost`: test servers and local emulators), and
/// never with `user:password@` in it (credentials belong in the keychain, not in a URL that is
/// stored and shown).
pub fn secure_url(what: &str, raw: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::InvalidInput(format!("{what} {raw:?} is not a URL: {e}")))?;
    let Some(host) = url.host() else {
        return Err(Error::InvalidInput(format!(
            "{what} {raw:?} has no host: expected https://host:port"
        )));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(format!(
            "{what} must not carry a user name or password (user:password@): the token is kept in the OS keychain"
        )));
    }
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::InvalidInput(format!(
            "{what} {raw:?} is plain http: secrets would cross the network in clear text. Use https (for a self-signed certificate, add its CA bundle); http is accepted only for this machine (127.0.0.1, localhost)"
        ))),
        other => Err(Error::InvalidInput(format!(
            "{what} {raw:?} has scheme {other:?}: expected an http(s) URL, https://host:port (plain http only to this machine)"
        ))),
    }
}

fn no_control(what: &str, s: &str) -> Result<()> {
    if s.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

/// A configured source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Unique name.
    pub name: String,
    /// Settings.
    pub settings: SourceSettings,
}

/// Checks a source name: 1-64 of letters, digits, `_`, `-`, `.`.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    {
        return Err(Error::InvalidInput(format!(
            "source name {name:?} must be 1-64 letters, digits, '_', '-' or '.'"
        )));
    }
    Ok(())
}

/// Adds a source after validating it.
pub fn add(store: &Store, source: &Source) -> Result<()> {
    validate_name(&source.name)?;
    source.settings.validate()?;
    let json = serde_json::to_string(&source.settings).expect("settings serialize");
    if !store.add_source(&source.name, source.settings.kind(), &json)? {
        return Err(Error::InvalidInput(format!(
            "a source named {:?} already exists; remove it first or pick another name",
            source.name
        )));
    }
    Ok(())
}

/// All configured sources.
pub fn list(store: &Store) -> Result<Vec<Source>> {
    store.sources()?.into_iter().map(from_row).collect()
}

/// One configured source by name.
pub fn get(store: &Store, name: &str) -> Result<Source> {
    list(store)?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no source named {name:?} (see `ddesk sources list`)"
            ))
        })
}

fn from_row(row: SourceRow) -> Result<Source> {
    let settings: SourceSettings = serde_json::from_str(&row.settings).map_err(|e| {
        Error::InvalidInput(format!(
            "stored settings of source {:?} are unreadable: {e}",
            row.name
        ))
    })?;
    Ok(Source {
        name: row.name,
        settings,
    })
}
