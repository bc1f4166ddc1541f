//! Amazon Athena over the S3 export, as one kind of source: the fleet is screened where the
//! data lies and only the candidates, their evidence and the drill-downs come to the cache.
//!
//! Its settings ([`AthenaSettings`]), the SQL it runs ([`sql`]: the table's DDL, the screens,
//! the drill-down), its client (`client`: queries started idempotently, polled with back-off,
//! stopped on cancel, results paged) and its pull (`pull`: the cost estimated from the
//! partitions' objects and bounded before each query, the screen kept, a thing drilled into).

mod client;
mod pull;
pub mod sql;

pub use pull::{estimate_for, window, DEFAULT_WINDOW};
pub use sql::Layout;

use serde::{Deserialize, Serialize};

use super::{describe_aws, no_control, validate_aws, AwsSettings, Kind};
use crate::secrets::Secret;
use crate::sources::contract::Pull;
use crate::{Error, Result};

/// The scan a query may make by default: 10 GB, 5 cents at $5 per TB.
pub const DEFAULT_MAX_SCAN_BYTES: u64 = 10_000_000_000;
/// Candidates a screen keeps by default.
pub const DEFAULT_CANDIDATES: u32 = 1000;

fn default_max_scan() -> u64 {
    DEFAULT_MAX_SCAN_BYTES
}

fn default_candidates() -> u32 {
    DEFAULT_CANDIDATES
}

/// A Glue table over the Firehose export, queried with Athena.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AthenaSettings {
    /// Database (`defender`).
    pub database: String,
    /// Table (`metrics_export`).
    pub table: String,
    /// Where Athena writes query results (`s3://bucket/prefix/`).
    pub output: String,
    /// Workgroup (Athena's `primary` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub workgroup: Option<String>,
    /// The table's layout.
    #[serde(default)]
    pub layout: Layout,
    /// The most bytes one query may scan, as estimated before it runs.
    #[serde(default = "default_max_scan")]
    #[ts(as = "crate::ts::Count")]
    pub max_scan_bytes: u64,
    /// Candidates a screen keeps.
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// AWS settings; `endpoint_url` is Athena's (the S3 calls honour `AWS_ENDPOINT_URL_S3`).
    #[serde(flatten)]
    pub aws: AwsSettings,
}

impl Kind for AthenaSettings {
    fn validate(&self) -> Result<()> {
        sql::check_name("database", &self.database).map_err(Error::InvalidInput)?;
        sql::check_name("table", &self.table).map_err(Error::InvalidInput)?;
        if !self.output.starts_with("s3://") || self.output.len() <= 5 {
            return Err(Error::InvalidInput(format!(
                "output {:?} must be an s3://bucket/prefix/ location",
                self.output
            )));
        }
        no_control("output", &self.output)?;
        if let Some(w) = &self.workgroup {
            if w.is_empty()
                || w.len() > 128
                || !w
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                return Err(Error::InvalidInput(format!(
                    "workgroup {w:?} must be 1-128 letters, digits, '.', '_' and '-'"
                )));
            }
        }
        if self.max_scan_bytes == 0 || self.candidates == 0 || self.candidates > 100_000 {
            return Err(Error::InvalidInput(
                "the scan limit must be above zero and candidates 1 to 100000".into(),
            ));
        }
        validate_aws(&self.aws)
    }

    fn target(&self) -> String {
        format!(
            "athena {}.{} ({}, {}; results to {}, at most {:.1} GB a query)",
            self.database,
            self.table,
            self.layout.as_str(),
            describe_aws(&self.aws),
            self.output,
            self.max_scan_bytes as f64 / 1e9
        )
    }

    fn puller(&self, _secret: Option<Secret>) -> Result<Box<dyn Pull>> {
        Ok(Box::new(pull::AthenaPull(self.clone())))
    }
}

/// What the queries of a screen or a drill-down would scan and cost, estimated from the sizes of
/// the objects under the window's partitions before any runs (Athena bills every byte of them:
/// JSON has no columns to skip).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Estimate {
    /// The Athena source.
    pub source: String,
    /// The table's location.
    pub location: String,
    /// Bytes each query scans.
    #[ts(as = "crate::ts::Count")]
    pub bytes_per_query: u64,
    /// Queries it runs (a screen 3, a drill-down 1).
    pub queries: u32,
    /// What they cost at $5 per TB, 10 MB at least each.
    pub cost_usd: f64,
    /// The source's limit per query.
    #[ts(as = "crate::ts::Count")]
    pub max_scan_bytes: u64,
    /// Above the limit: the engine refuses to run it.
    pub refused: bool,
}

/// The queries a screen runs.
pub const SCREEN_QUERIES: u32 = 4;

/// What a query costs at Athena's price: $5 per TB scanned, 10 MB at least.
pub fn cost_usd(scanned_bytes: u64) -> f64 {
    scanned_bytes.max(10_000_000) as f64 / 1e12 * 5.0
}
