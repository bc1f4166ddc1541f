//! What a triage reason compared the thing with: a closed set whose words are stored.

use serde::{Deserialize, Serialize};

/// What a reason compared the thing with. Its word is part of a case's stored evidence keys
/// (`metric|word`, [`crate::cases::evidence_key`]): never rename one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
pub enum ReasonSource {
    /// The thing's own history (a new set member, a numeric anomaly against its baseline).
    #[serde(rename = "baseline")]
    Baseline,
    /// Its own history and the fleet's median at once.
    #[serde(rename = "baseline+fleet")]
    BaselineFleet,
    /// Its own history and its peers (things of its type or groups).
    #[serde(rename = "baseline+peers")]
    BaselinePeers,
    /// Its peers only (a member none of them has, a value many times theirs).
    #[serde(rename = "peers")]
    Peers,
    /// The set an analyst declared expected for it.
    #[serde(rename = "expected-set")]
    ExpectedSet,
    /// A risky port or service, whatever its history.
    #[serde(rename = "attack-surface")]
    AttackSurface,
    /// A counter that went back to zero (a reboot), weighed down.
    #[serde(rename = "counter-restart")]
    CounterRestart,
    /// A Device Defender Detect violation.
    #[serde(rename = "aws-detect")]
    AwsDetect,
    /// Lifecycle events (connects, disconnects, principals).
    #[serde(rename = "lifecycle")]
    Lifecycle,
    /// A screen of the whole fleet where the data lies (an Athena source): the evidence is
    /// the screen's, the cache may hold none of the thing's series.
    #[serde(rename = "fleet-screen")]
    FleetScreen,
}

impl ReasonSource {
    /// Every source.
    pub const ALL: [Self; 10] = [
        Self::Baseline,
        Self::BaselineFleet,
        Self::BaselinePeers,
        Self::Peers,
        Self::ExpectedSet,
        Self::AttackSurface,
        Self::CounterRestart,
        Self::AwsDetect,
        Self::Lifecycle,
        Self::FleetScreen,
    ];

    /// Its word (as serialized, and in stored evidence keys).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::BaselineFleet => "baseline+fleet",
            Self::BaselinePeers => "baseline+peers",
            Self::Peers => "peers",
            Self::ExpectedSet => "expected-set",
            Self::AttackSurface => "attack-surface",
            Self::CounterRestart => "counter-restart",
            Self::AwsDetect => "aws-detect",
            Self::Lifecycle => "lifecycle",
            Self::FleetScreen => "fleet-screen",
        }
    }
}

impl std::fmt::Display for ReasonSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
