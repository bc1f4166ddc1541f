//! The IoT attack taxonomy every triage reason and violation is tagged with.

use serde::Serialize;

/// An attack category (IoT attack taxonomy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Bytes or packets out: the device floods someone.
    DdosParticipation,
    /// Listening ports: a backdoor or a reconnaissance service.
    BackdoorRecon,
    /// Destination IPs, bytes out: data leaving, or a command-and-control channel.
    ExfiltrationC2,
    /// Authorization failures.
    BruteForce,
    /// Child processes, CPU-like custom metrics.
    MalwareCryptominer,
    /// Disconnects, connection attempts, radio signal.
    ConnectionAbuseJamming,
}

impl Category {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::DdosParticipation => "DDoS participation",
            Self::BackdoorRecon => "backdoor or reconnaissance port",
            Self::ExfiltrationC2 => "exfiltration or command-and-control",
            Self::BruteForce => "brute force",
            Self::MalwareCryptominer => "malware or cryptominer",
            Self::ConnectionAbuseJamming => "connection abuse or jamming",
        }
    }
}

/// The categories an anomaly on `metric` points to.
pub fn for_metric(metric: &str) -> Vec<Category> {
    use Category::*;
    let m = metric.to_ascii_lowercase();
    match m.as_str() {
        // AWS IoT lifecycle events (accounts without Detect).
        "lifecycle:disconnects:auth_error" | "lifecycle:disconnects:forbidden_access" => {
            vec![BruteForce]
        }
        "lifecycle:principal" | "lifecycle:disconnects:duplicate_clientid" => {
            vec![ConnectionAbuseJamming, BruteForce]
        }
        _ if m.starts_with("lifecycle:") => vec![ConnectionAbuseJamming],
        "aws:all-bytes-out" => vec![DdosParticipation, ExfiltrationC2],
        "aws:all-packets-out" => vec![DdosParticipation],
        "aws:listening-tcp-ports"
        | "aws:listening-udp-ports"
        | "aws:num-listening-tcp-ports"
        | "aws:num-listening-udp-ports" => vec![BackdoorRecon],
        "aws:destination-ip-addresses" | "aws:num-established-tcp-connections" => {
            vec![ExfiltrationC2]
        }
        "aws:num-authorization-failures" => vec![BruteForce],
        "aws:num-disconnects" | "aws:num-connection-attempts" | "aws:disconnect-duration" => {
            vec![ConnectionAbuseJamming]
        }
        "aws:all-bytes-in"
        | "aws:all-packets-in"
        | "aws:message-byte-size"
        | "aws:num-messages-sent"
        | "aws:source-ip-address" => vec![ExfiltrationC2],
        "aws:num-messages-received" => vec![ConnectionAbuseJamming],
        _ if m.contains("proc")
            || m.contains("cpu")
            || m.contains("mem")
            || m.contains("thread") =>
        {
            vec![MalwareCryptominer]
        }
        _ if m.contains("rssi")
            || m.contains("signal")
            || m.contains("snr")
            || m.contains("disconnect") =>
        {
            vec![ConnectionAbuseJamming]
        }
        _ if m.contains("ip") || m.contains("dest") => vec![ExfiltrationC2],
        _ if m.contains("port") => vec![BackdoorRecon],
        _ => Vec::new(),
    }
}

pub use crate::model::surface::{is_attack_surface, surface_port, SurfacePort, ATTACK_SURFACE};

/// A short name for a metric in reasons ("bytes out").
pub fn metric_label(metric: &str) -> String {
    match metric {
        "aws:all-bytes-out" => "bytes out".into(),
        "aws:all-bytes-in" => "bytes in".into(),
        "aws:all-packets-out" => "packets out".into(),
        "aws:all-packets-in" => "packets in".into(),
        "aws:num-authorization-failures" => "authorization failures".into(),
        "aws:num-established-tcp-connections" => "established TCP connections".into(),
        "aws:num-listening-tcp-ports" => "listening TCP ports".into(),
        "aws:num-listening-udp-ports" => "listening UDP ports".into(),
        "aws:message-byte-size" => "message size".into(),
        "aws:num-messages-sent" => "messages sent".into(),
        "aws:num-messages-received" => "messages received".into(),
        "aws:num-connection-attempts" => "connection attempts".into(),
        "aws:num-disconnects" => "disconnects".into(),
        "aws:listening-tcp-ports" => "listening TCP ports".into(),
        "aws:listening-udp-ports" => "listening UDP ports".into(),
        "aws:destination-ip-addresses" => "destination IPs".into(),
        "aws:source-ip-address" => "source IPs".into(),
        "aws:disconnect-duration" => "disconnect duration".into(),
        "lifecycle:connects" => "connects".into(),
        "lifecycle:disconnects" => "disconnects".into(),
        "lifecycle:principal" => "connecting principal".into(),
        other if other.starts_with("lifecycle:disconnects:") => format!(
            "{} disconnects",
            other.trim_start_matches("lifecycle:disconnects:")
        ),
        other => other.trim_start_matches("aws:").to_string(),
    }
}
