//! Reasons from a screen of the whole fleet where the data lies (an Athena source): the
//! evidence is the screen's (kept in the cache), the words are triage's.

use fnv::FnvHashMap as HashMap;

use super::{categories, decay, fmt_ratio, hhmm, Reason, ReasonSource};
use crate::time::Millis;

/// What a fleet screen where the data lies found (an Athena source), as reasons that say so:
/// a value many times its name family's or the fleet's median, a set member that was not in
/// the thing's first sightings, an attack-surface port listened on.
pub(super) fn screen_reasons<'a>(
    screened: &'a [crate::store::ScreenedEvidence],
    to: Millis,
    reasons: &mut HashMap<&'a str, Vec<Reason>>,
) {
    for s in screened {
        let e = &s.evidence;
        let of = format!(
            "an Athena screen of {} things (source {})",
            s.things, s.source
        );
        let base_metric = e.metric.split(" (").next().unwrap_or(&e.metric);
        let (text, weight) = match (e.kind.as_str(), e.member.as_deref()) {
            ("numeric", _) => {
                let r = e.ratio.unwrap_or(1.0);
                let basis = match e.basis.as_deref() {
                    Some("family") => "name family",
                    _ => "fleet",
                };
                (
                    format!(
                        "{} {} the median of its {basis} ({} things) since {}, for {} h, in {of}",
                        categories::metric_label(base_metric),
                        fmt_ratio(r),
                        e.peers.unwrap_or(0),
                        hhmm(e.since),
                        e.hours.unwrap_or(1)
                    ),
                    (8.0 * r.max(1.0).log2()).min(40.0) * decay(to, e.since).max(0.5),
                )
            }
            (kind, Some(member)) => {
                let port = member.parse::<i64>().ok();
                let surface = port.and_then(categories::surface_port);
                let what = if base_metric.contains("ports") {
                    let proto = if base_metric.contains("udp") {
                        "UDP"
                    } else {
                        "TCP"
                    };
                    format!("{proto} {member}")
                } else {
                    format!("destination {member}")
                };
                let mut text = if kind == "new-member" {
                    format!(
                        "{what} appeared {}, not in its first sightings",
                        hhmm(e.since)
                    )
                } else {
                    format!("{what} listening since {}", hhmm(e.since))
                };
                if let Some(sp) = surface {
                    text.push_str(&format!(" (attack-surface port: {})", sp.what));
                }
                text.push_str(&format!(", in {of}"));
                let weight = match (kind, surface) {
                    ("new-member", Some(_)) => 40.0,
                    ("new-member", None) => 12.0,
                    (_, Some(sp)) if sp.risky => 20.0,
                    _ => 8.0,
                };
                (text, weight * decay(to, e.since).max(0.5))
            }
            _ => continue,
        };
        reasons.entry(e.thing.as_str()).or_default().push(Reason {
            text,
            categories: categories::for_metric(base_metric),
            metric: base_metric.to_string(),
            since: e.since,
            weight,
            source: ReasonSource::FleetScreen,
        });
    }
}
