//! An S3 bucket Firehose delivers to, as one kind of source: its settings ([`S3Settings`]),
//! its client (`client`: listing by hour partition, fetching, reading objects) and its pull
//! (`pull`: each object read once per ETag, error-output prefixes skipped).

mod client;
mod pull;

pub use client::*;

use serde::{Deserialize, Serialize};

use super::{describe_aws, no_control, validate_aws, AwsSettings, Kind};
use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::{Error, Result};

/// An S3 bucket fed by Firehose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix in front of the `YYYY/MM/DD/HH/` partitions (may be empty).
    #[serde(default)]
    pub prefix: String,
    /// Path-style addressing (most S3-compatible stores).
    #[serde(default)]
    pub path_style: bool,
    /// The families of documents the bucket carries (`export`, `device-reports`, `alerts`,
    /// `api`): a record of another family is refused and reported. Absent in settings stored
    /// before sources declared it: every family is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub carries: Option<Vec<crate::model::Carried>>,
    /// AWS settings.
    #[serde(flatten)]
    pub aws: AwsSettings,
}

impl Kind for S3Settings {
    fn validate(&self) -> Result<()> {
        if self.bucket.is_empty()
            || self.bucket.len() > 63
            || !self
                .bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
        {
            return Err(Error::InvalidInput(format!(
                "bucket name {:?} is not a valid S3 bucket name (3-63 lowercase letters, digits, '-' and '.')",
                self.bucket
            )));
        }
        no_control("prefix", &self.prefix)?;
        validate_aws(&self.aws)
    }

    fn target(&self) -> String {
        format!(
            "s3://{}/{} ({})",
            self.bucket,
            self.prefix,
            describe_aws(&self.aws)
        )
    }

    fn puller(&self, _secret: Option<Secret>) -> Result<Box<dyn Pull>> {
        Ok(Box::new(pull::S3Pull(self.clone())))
    }
}
