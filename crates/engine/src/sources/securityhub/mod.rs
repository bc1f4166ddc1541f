//! AWS Security Hub, as one kind of source: Device Defender's findings where the SOC already
//! collects them — one set of credentials for every account and region a delegated
//! administrator's finding aggregator sees. Its settings ([`SecurityHubSettings`]) and its pull
//! (`pull`: only Device Defender's two products, incrementally by `UpdatedAt`, paged at 100
//! within GetFindings' 3 requests a second, read through the same ASFF parser as a saved file),
//! and the read-back of colleagues' changes made there into the case history (`readback`).

mod pull;
mod readback;

pub use pull::STREAM;
pub use readback::OWN_PUSH_SKEW;

use serde::{Deserialize, Serialize};

use super::{describe_aws, validate_aws, AwsSettings, Kind};
use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::Result;

/// The Security Hub of one region (the aggregation region, for an aggregator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SecurityHubSettings {
    /// AWS settings.
    #[serde(flatten)]
    pub aws: AwsSettings,
}

impl Kind for SecurityHubSettings {
    fn validate(&self) -> Result<()> {
        validate_aws(&self.aws)
    }

    fn target(&self) -> String {
        format!(
            "AWS Security Hub, Device Defender's findings ({})",
            describe_aws(&self.aws)
        )
    }

    fn puller(&self, _secret: Option<Secret>) -> Result<Box<dyn Pull>> {
        Ok(Box::new(pull::HubPull(self.clone())))
    }
}
