//! A Splunk index, as one kind of source: its settings ([`SplunkSettings`], the token in the
//! OS keychain), its client (`client`: the REST export API, SPL built only from templates)
//! and its pull (`pull`: one day per search, resumed from the last window read).

mod client;
mod pull;
mod spl;

pub use client::*;
pub use spl::*;

use serde::{Deserialize, Serialize};

use super::{secure_url, Kind};
use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::{Error, Result};

/// A Splunk search head fed by the Firehose→Splunk sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
    #[ts(optional)]
    pub ca_bundle: Option<String>,
    /// The families of documents the index carries (see [`crate::sources::S3Settings::carries`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub carries: Option<Vec<crate::model::Carried>>,
}

/// The sourcetype of the AWS Splunk sample (and of `ddesk`'s Splunk sources by default).
pub fn default_sourcetype() -> String {
    "aws-iot-device-defender".into()
}

impl Kind for SplunkSettings {
    const SECRET: Option<&'static str> = Some("Splunk token");

    fn validate(&self) -> Result<()> {
        secure_url("Splunk URL", &self.url)?;
        validate_index(&self.index)?;
        validate_token_like("sourcetype", &self.sourcetype)?;
        if let Some(ca) = &self.ca_bundle {
            load_ca_bundle(ca)?;
        }
        Ok(())
    }

    fn secret_server(&self) -> Option<String> {
        Some(crate::secrets::server_of(&self.url))
    }

    fn target(&self) -> String {
        if self.sourcetype == default_sourcetype() {
            format!("{} index={}", self.url, self.index)
        } else {
            format!(
                "{} index={} sourcetype={}",
                self.url, self.index, self.sourcetype
            )
        }
    }

    fn puller(&self, secret: Option<Secret>) -> Result<Box<dyn Pull>> {
        let token = secret.ok_or_else(|| {
            Error::Secrets("a Splunk source needs its token (kept in the OS keychain)".into())
        })?;
        Ok(Box::new(pull::SplunkPull {
            settings: self.clone(),
            token,
        }))
    }
}
