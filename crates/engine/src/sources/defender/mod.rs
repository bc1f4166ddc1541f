//! The Device Defender API of one account and region, as one kind of source: its settings
//! ([`DefenderSettings`]), its client (`client`, with the registry's `inventory` and the
//! mitigation history) and its pull (`pull`: Detect, Audit, mitigations, the inventory).

mod audit;
mod client;
mod inventory;
mod mitigations;
mod pull;

pub use client::*;
pub use inventory::{Inventory, MAX_GROUPS};
pub use mitigations::MAX_MITIGATED_FINDINGS;

use serde::{Deserialize, Serialize};

use super::{describe_aws, validate_aws, AwsSettings, Kind};
use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::Result;

/// The Device Defender API of one account and region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DefenderSettings {
    /// AWS settings.
    #[serde(flatten)]
    pub aws: AwsSettings,
}

impl Kind for DefenderSettings {
    fn validate(&self) -> Result<()> {
        validate_aws(&self.aws)
    }

    fn target(&self) -> String {
        format!("Device Defender API ({})", describe_aws(&self.aws))
    }

    fn puller(&self, _secret: Option<Secret>) -> Result<Box<dyn Pull>> {
        Ok(Box::new(pull::DefenderPull(self.clone())))
    }
}
