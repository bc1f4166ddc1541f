//! AWS IoT lifecycle events (`$aws/events/presence/connected/<clientId>` and
//! `.../disconnected/<clientId>`, and the subscribe/unsubscribe events), as an IoT rule
//! delivers them to S3 (through Firehose) or Splunk. For accounts without Detect they stand in
//! for its cloud-side metrics: each event becomes a datapoint of the client's thing (AWS IoT's
//! convention: the client id is the thing name) —
//!
//! - `lifecycle:connects` and `lifecycle:disconnects` (count 1 at the event's time),
//! - `lifecycle:disconnects:<REASON>` per `disconnectReason` (`AUTH_ERROR`,
//!   `DUPLICATE_CLIENTID`, `CLIENT_ERROR`, `CONNECTION_LOST`, ...),
//! - `lifecycle:principal` (the certificate or identity that connected, a string set), whose
//!   drift is "connects from a new principal".
//!
//! The same event delivered twice is one datapoint (same series and millisecond). `timestamp`
//! is epoch milliseconds as documented; its unit is still decided per value, as everywhere.

use serde::Deserialize;

use super::parse::{count, json, Context, ParseError, Res, TimeDoc};
use super::{Batch, Datapoint, DocKind, MetricValue};
use crate::time;

/// Metric of connect events.
pub const CONNECTS: &str = "lifecycle:connects";
/// Metric of disconnect events (all reasons).
pub const DISCONNECTS: &str = "lifecycle:disconnects";
/// Prefix of the per-reason disconnect metrics.
pub const DISCONNECTS_BY: &str = "lifecycle:disconnects:";
/// Metric of the principal that connected.
pub const PRINCIPAL: &str = "lifecycle:principal";

/// Whether `metric` counts events (one datapoint of 1 per connect or disconnect), so a chart
/// shows how many per interval rather than a line of ones.
pub fn is_event_count(metric: &str) -> bool {
    metric == CONNECTS || metric == DISCONNECTS || metric.starts_with(DISCONNECTS_BY)
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct EventDoc {
    clientId: String,
    timestamp: TimeDoc,
    eventType: String,
    principalIdentifier: Option<String>,
    disconnectReason: Option<String>,
}

/// Whether a record's `eventType` is a lifecycle event's.
pub(super) fn is_event_type(t: &str) -> bool {
    matches!(
        t,
        "connected" | "disconnected" | "subscribed" | "unsubscribed"
    )
}

/// A disconnect reason as a metric-name part: the documented reasons are upper-case words;
/// anything else (a forged document) is `OTHER`.
fn reason_part(r: &str) -> &str {
    if !r.is_empty() && r.len() <= 40 && r.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        r
    } else {
        "OTHER"
    }
}

/// Parses one lifecycle event into datapoints.
pub(super) fn event(text: &str, ctx: &Context, batch: &mut Batch) -> Res<()> {
    let e: EventDoc = json(text, "lifecycle event")?;
    if e.clientId.is_empty() {
        return Err(ParseError::new("lifecycle event has an empty clientId"));
    }
    let ts = e.timestamp.to_ms(time::from_auto)?;
    let thing = ctx.thing.clone().unwrap_or(e.clientId);
    let point = |metric: String, value: MetricValue| Datapoint {
        thing: thing.clone(),
        metric,
        dimension: None,
        ts,
        version: 0,
        value,
    };
    match e.eventType.as_str() {
        "connected" => {
            batch
                .points
                .push(point(CONNECTS.into(), MetricValue::Count(1)));
            if let Some(p) = e.principalIdentifier.filter(|p| !p.is_empty()) {
                batch
                    .points
                    .push(point(PRINCIPAL.into(), MetricValue::Strings(vec![p])));
            }
        }
        "disconnected" => {
            batch
                .points
                .push(point(DISCONNECTS.into(), MetricValue::Count(1)));
            let reason = e.disconnectReason.as_deref().unwrap_or("UNKNOWN");
            batch.points.push(point(
                format!("{DISCONNECTS_BY}{}", reason_part(reason)),
                MetricValue::Count(1),
            ));
        }
        _ => {}
    }
    count(batch, DocKind::LifecycleEvent);
    Ok(())
}

/// What a burst of disconnects for one reason usually means, for triage reasons.
pub fn reason_meaning(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "DUPLICATE_CLIENTID" => {
            "a cloned device or a shared certificate (another client connected with its client id)"
        }
        "AUTH_ERROR" => {
            "failed authentication or authorization: stolen, revoked or brute-forced credentials"
        }
        "CLIENT_ERROR" => "protocol errors: malformed or oversized MQTT packets",
        "THROTTLED" => "over AWS IoT's rate limits: a flood of messages or connections",
        "CONNECTION_LOST" | "MQTT_KEEP_ALIVE_TIMEOUT" => {
            "an unstable link: jamming, power or network trouble"
        }
        "FORBIDDEN_ACCESS" => "denied by its policy: it tried what it may not",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse_bytes;
    use super::*;

    // The documented examples (AWS IoT Developer Guide, "Connect/Disconnect events").
    const CONNECTED: &str = r#"{"clientId":"186b5","timestamp":1573002230757,"eventType":"connected","sessionIdentifier":"a4666d2a7d844ae4ac5d7b38c9cb7967","principalIdentifier":"12345678901234567890123456789012","ipAddress":"192.0.2.0","versionNumber":0}"#;
    const DISCONNECTED: &str = r#"{"clientId":"186b5","timestamp":1573002340451,"eventType":"disconnected","sessionIdentifier":"a4666d2a7d844ae4ac5d7b38c9cb7967","principalIdentifier":"12345678901234567890123456789012","clientInitiatedDisconnect":true,"disconnectReason":"CLIENT_INITIATED_DISCONNECT","versionNumber":0}"#;

    #[test]
    fn documented_events_become_series_of_the_client() {
        let text = format!("{CONNECTED}\n{DISCONNECTED}\n{DISCONNECTED}");
        let b = parse_bytes(text.as_bytes(), &Context::default()).unwrap();
        assert_eq!(b.documents[&DocKind::LifecycleEvent], 3);
        let got: Vec<(&str, &str, i64)> = b
            .points
            .iter()
            .map(|p| (p.thing.as_str(), p.metric.as_str(), p.ts))
            .collect();
        assert_eq!(
            got,
            [
                ("186b5", CONNECTS, 1_573_002_230_757),
                ("186b5", PRINCIPAL, 1_573_002_230_757),
                ("186b5", DISCONNECTS, 1_573_002_340_451),
                (
                    "186b5",
                    "lifecycle:disconnects:CLIENT_INITIATED_DISCONNECT",
                    1_573_002_340_451
                ),
                ("186b5", DISCONNECTS, 1_573_002_340_451),
                (
                    "186b5",
                    "lifecycle:disconnects:CLIENT_INITIATED_DISCONNECT",
                    1_573_002_340_451
                ),
            ]
        );
    }

    #[test]
    fn a_forged_reason_cannot_make_up_metric_names() {
        let forged = DISCONNECTED.replace("CLIENT_INITIATED_DISCONNECT", "x; drop table");
        let b = parse_bytes(forged.as_bytes(), &Context::default()).unwrap();
        assert_eq!(b.points[1].metric, "lifecycle:disconnects:OTHER");
        let empty = CONNECTED.replace("186b5", "");
        assert!(parse_bytes(empty.as_bytes(), &Context::default()).is_err());
    }
}
