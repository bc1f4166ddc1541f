//! The places Device Defender data lives, and their settings.
//!
//! - [`s3`]: metrics-export objects that Kinesis Data Firehose delivered to a bucket.
//! - [`splunk`]: the same metrics and audit events in a Splunk index (REST export API).
//! - [`defender`]: the Device Defender API (violations, security profiles, audits).
//! - [`athena`]: the S3 export queried where it lies (fleets too large for a desktop).
//! - [`securityhub`]: Device Defender's findings in AWS Security Hub.
//!
//! Settings are stored in the cache ([`crate::store::SourceRow`]); the only secret, a Splunk
//! token, is in the OS keychain ([`crate::secrets`]). Every source turns what it reads into
//! [`crate::model::Batch`]es through the same parsers and types the file ingest uses.

pub mod athena;
pub mod aws;
pub mod contract;
pub mod defender;
pub mod error;
pub mod s3;
pub mod securityhub;
pub mod splunk;

use serde::{Deserialize, Serialize};

pub use athena::AthenaSettings;
pub use defender::DefenderSettings;
pub use error::{SourceError, SourceErrorKind};
pub use s3::S3Settings;
pub use securityhub::SecurityHubSettings;
pub use splunk::{default_sourcetype, SplunkSettings};

use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::store::{SourceRow, Store};
use crate::{Error, Result};

/// Where AWS calls go and as whom: empty fields fall back to aws-config's default chain
/// (environment, shared config and credentials files, SSO, assume-role, IMDS; `AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AwsSettings {
    /// Region (`us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub region: Option<String>,
    /// Named profile from `~/.aws/config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub profile: Option<String>,
    /// Endpoint override (S3-compatible stores, test servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub endpoint_url: Option<String>,
}

/// One kind of source, whole: its settings (the type this is implemented for, stored as JSON
/// in the cache), how they are checked and shown, the secret it keeps, and how sync pulls it.
///
/// A new kind is one module under `sources/` — its settings and this trait, its client, and
/// its [`Pull`] — plus its line in `kinds!` below and its form in the UI
/// (`ui/src/screens/sources/forms.tsx`) and the CLI (`ddesk sources add <kind>`).
pub(crate) trait Kind {
    /// What its secret in the OS keychain is, when it keeps one (a Splunk token).
    const SECRET: Option<&'static str> = None;

    /// Checks the settings before they are stored.
    fn validate(&self) -> Result<()>;

    /// The server its secret is bound to (a Splunk token to its URL): the secret is kept with
    /// it in the keychain and never sent anywhere else ([`crate::secrets::get_bound`]).
    fn secret_server(&self) -> Option<String> {
        None
    }

    /// Where it reads from, as the sources list shows it.
    fn target(&self) -> String;

    /// Its puller; `secret` is the one from the keychain when [`Kind::SECRET`] says it keeps
    /// one (read by the caller: keychains may prompt).
    fn puller(&self, secret: Option<Secret>) -> Result<Box<dyn Pull>>;
}

/// The one list of kinds: `SourceKind` and `SourceSettings` (closed sets that cross IPC as
/// TypeScript unions) and their dispatch to each kind's [`Kind`] are generated from it.
macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $variant:ident($settings:ty) = $name:literal,)*) => {
        /// The kinds of source.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
        pub enum SourceKind {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant,)*
        }

        impl SourceKind {
            /// Every kind, in the order the forms list them.
            pub const ALL: &'static [SourceKind] = &[$(Self::$variant),*];

            /// Its name in settings, the CLI and the UI (`s3`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// Every kind's name.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|k| k.as_str()).collect()
            }
        }

        impl std::fmt::Display for SourceKind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A source's settings, by kind.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
        #[serde(tag = "kind")]
        pub enum SourceSettings {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant($settings),)*
        }

        impl SourceSettings {
            /// Which kind of source it is.
            pub fn source_kind(&self) -> SourceKind {
                match self {
                    $(Self::$variant(_) => SourceKind::$variant,)*
                }
            }

            /// Checks the settings before they are stored.
            pub fn validate(&self) -> Result<()> {
                match self {
                    $(Self::$variant(s) => Kind::validate(s),)*
                }
            }

            /// Where it reads from, as the sources list shows it.
            pub fn target(&self) -> String {
                match self {
                    $(Self::$variant(s) => Kind::target(s),)*
                }
            }

            /// What its secret in the OS keychain is, when its kind keeps one.
            pub fn secret(&self) -> Option<&'static str> {
                match self {
                    $(Self::$variant(_) => <$settings as Kind>::SECRET,)*
                }
            }

            /// The server its secret is bound to (see [`Kind::secret_server`]).
            pub fn secret_server(&self) -> Option<String> {
                match self {
                    $(Self::$variant(s) => Kind::secret_server(s),)*
                }
            }

            /// Its puller (see [`Kind::puller`]).
            pub(crate) fn puller(&self, secret: Option<Secret>) -> Result<Box<dyn Pull>> {
                match self {
                    $(Self::$variant(s) => Kind::puller(s, secret),)*
                }
            }
        }
    };
}

kinds! {
    /// Firehose objects in an S3 bucket.
    S3(S3Settings) = "s3",
    /// A Splunk index, through the REST search API.
    Splunk(SplunkSettings) = "splunk",
    /// The Device Defender (and IoT registry) API.
    Defender(DefenderSettings) = "defender",
    /// A table over the S3 export, screened where it lies with Amazon Athena.
    Athena(AthenaSettings) = "athena",
    /// Device Defender's findings in AWS Security Hub (every account an aggregator sees).
    SecurityHub(SecurityHubSettings) = "security-hub",
}

impl SourceSettings {
    /// `s3`, `splunk` or `defender`.
    pub fn kind(&self) -> &'static str {
        self.source_kind().as_str()
    }
}

/// Describes AWS settings for the sources list.
pub(crate) fn describe_aws(a: &AwsSettings) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &a.region {
        parts.push(format!("region {r}"));
    }
    if let Some(p) = &a.profile {
        parts.push(format!("profile {p}"));
    }
    if let Some(e) = &a.endpoint_url {
        parts.push(format!("endpoint {e}"));
    }
    if parts.is_empty() {
        "default AWS credentials".to_string()
    } else {
        parts.join(", ")
    }
}

pub(crate) fn validate_aws(a: &AwsSettings) -> Result<()> {
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

pub(crate) fn no_control(what: &str, s: &str) -> Result<()> {
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
    /// The account and region of the things it brings: stated by the analyst when added, or
    /// learned from STS by a Device Defender API source's first sync; unknown otherwise (a
    /// Security Hub source's findings carry their own).
    pub scope: crate::model::scope::Scope,
    /// `stated` or `learned`, when the account is known.
    #[serde(skip)]
    pub account_from: Option<String>,
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
    if source.scope.region.is_some() && source.scope.account.is_none() {
        return Err(Error::InvalidInput(
            "a region scopes nothing without its account: state --account too".into(),
        ));
    }
    if source.scope.is_known() && source.settings.source_kind() == SourceKind::SecurityHub {
        return Err(Error::InvalidInput(
            "a Security Hub source's findings name their own account and region: do not state one"
                .into(),
        ));
    }
    if !store.add_source(&source.name, source.settings.kind(), &json, &source.scope)? {
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
        scope: row.scope,
        account_from: row.account_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings as the cache has stored them since the first version: the kinds' tags and
    /// fields must keep reading (and writing) the same JSON.
    #[test]
    fn settings_stored_by_earlier_versions_read_and_write_the_same() {
        for stored in [
            r#"{"kind":"s3","bucket":"dd-export","prefix":"metrics/","path_style":true,"region":"eu-west-1","endpoint_url":"http://127.0.0.1:5000"}"#,
            r#"{"kind":"splunk","url":"https://splunk.example:8089","index":"iot","sourcetype":"aws-iot-device-defender"}"#,
            r#"{"kind":"defender","profile":"soc"}"#,
        ] {
            let settings: SourceSettings = serde_json::from_str(stored).unwrap();
            assert_eq!(serde_json::to_string(&settings).unwrap(), stored);
            assert_eq!(
                settings.kind(),
                serde_json::from_str::<serde_json::Value>(stored).unwrap()["kind"]
            );
            settings.validate().unwrap();
        }
        // A Splunk source stored without a sourcetype gets the sample's.
        let old: SourceSettings =
            serde_json::from_str(r#"{"kind":"splunk","url":"https://s:8089","index":"iot"}"#)
                .unwrap();
        assert!(old.target().ends_with("index=iot"), "{}", old.target());
    }

    /// Every kind is listed once, under the name its settings carry, and says whether it keeps
    /// a secret — the dispatch `kinds!` generates.
    #[test]
    fn every_kind_dispatches_to_its_own_module() {
        assert_eq!(
            SourceKind::names(),
            ["s3", "splunk", "defender", "athena", "security-hub"]
        );
        let s3 = SourceSettings::S3(S3Settings {
            bucket: "b".into(),
            prefix: String::new(),
            path_style: false,
            carries: None,
            aws: AwsSettings::default(),
        });
        let splunk = SourceSettings::Splunk(SplunkSettings {
            url: "https://s:8089".into(),
            index: "iot".into(),
            sourcetype: default_sourcetype(),
            ca_bundle: None,
            carries: None,
        });
        let defender = SourceSettings::Defender(DefenderSettings::default());
        let hub = SourceSettings::SecurityHub(SecurityHubSettings::default());
        let athena = SourceSettings::Athena(AthenaSettings {
            database: "defender".into(),
            table: "metrics_export".into(),
            output: "s3://r/".into(),
            workgroup: None,
            layout: athena::Layout::Export,
            max_scan_bytes: athena::DEFAULT_MAX_SCAN_BYTES,
            candidates: athena::DEFAULT_CANDIDATES,
            aws: AwsSettings::default(),
        });
        for (settings, kind, secret) in [
            (&s3, SourceKind::S3, None),
            (&splunk, SourceKind::Splunk, Some("Splunk token")),
            (&defender, SourceKind::Defender, None),
            (&athena, SourceKind::Athena, None),
            (&hub, SourceKind::SecurityHub, None),
        ] {
            assert_eq!(settings.source_kind(), kind);
            assert_eq!(settings.secret(), secret);
        }
        assert!(s3.target().starts_with("s3://b/"));
        assert_eq!(
            defender.target(),
            "Device Defender API (default AWS credentials)"
        );
        // Without its token a Splunk source has no puller; the others need none.
        assert!(matches!(splunk.puller(None), Err(Error::Secrets(_))));
        assert!(s3.puller(None).is_ok() && defender.puller(None).is_ok());
        assert!(athena.puller(None).is_ok() && hub.puller(None).is_ok());
        assert_eq!(
            hub.target(),
            "AWS Security Hub, Device Defender's findings (default AWS credentials)"
        );
        assert!(athena
            .target()
            .starts_with("athena defender.metrics_export (export"));
        assert!(athena.validate().is_ok());
        let SourceSettings::Athena(mut bad) = athena else {
            unreachable!()
        };
        bad.table = "t; DROP TABLE x".into();
        assert!(SourceSettings::Athena(bad).validate().is_err());
    }
}
