//! Set-valued series (listening ports, destination IPs, custom string lists) against the
//! expected set, the thing's own first sightings, and what its peers report.

use std::collections::BTreeSet;

use super::{decay, hhmm, members_of, Reason, ReasonSource, DAY};
use crate::analysis::categories;
use crate::analysis::peers::{self, SetPeers};
use crate::model::MetricValue;
use crate::store::SeriesInfo;
use crate::time::Millis;

/// What a set-valued series' peers report.
#[derive(Clone, Copy)]
pub(super) struct SetView<'a> {
    pub(super) set: &'a SetPeers,
    pub(super) group: usize,
    pub(super) basis: &'a peers::Basis,
    /// How many members a thing of the group usually has that no peer has.
    pub(super) typical_unique: f64,
}

impl SetView<'_> {
    fn peers(&self) -> usize {
        self.set.peers(self.group)
    }

    fn others_with(&self, member: &str) -> usize {
        self.set.others_with(self.group, member)
    }
}

pub(super) fn set_reasons(
    info: &SeriesInfo,
    sightings: &[(Millis, Millis, MetricValue)],
    expected: Option<&BTreeSet<String>>,
    to: Millis,
    peers: Option<SetView>,
) -> Vec<Reason> {
    let Some((first_t, _, _)) = sightings.first() else {
        return Vec::new();
    };
    let first_t = *first_t;
    let last_t = sightings.iter().map(|s| s.1).max().unwrap_or(first_t);
    // Without an expected set from the profiles, the thing's own first sightings: its first
    // report, and those of the first tenth of its time in the window (at most a day), so that
    // a port opened ten minutes into a young cache is new.
    let own = ((last_t - first_t) / 10).clamp(0, DAY);
    let baseline: BTreeSet<String> = match expected {
        Some(e) => e.clone(),
        None => sightings
            .iter()
            .filter(|(t, _, _)| *t <= first_t + own)
            .flat_map(|(_, _, v)| members_of(v))
            .collect(),
    };
    // Each member: first and last seen.
    let mut seen: std::collections::BTreeMap<String, (Millis, Millis)> = Default::default();
    for (first, last, v) in sightings {
        for m in members_of(v) {
            let e = seen.entry(m).or_insert((*first, *last));
            e.0 = e.0.min(*first);
            e.1 = e.1.max(*last);
        }
    }
    let against = if expected.is_some() {
        "not in its expected set"
    } else {
        "not in its first sightings"
    };
    let judged = Judged {
        metric: info.metric.as_str(),
        cats: categories::for_metric(&info.metric),
        seen,
        baseline,
        against,
        expected: expected.is_some(),
        last_t,
        to,
        peers,
    };
    if judged.metric.contains("ports") {
        port_reasons(&judged)
    } else {
        member_reasons(judged)
    }
}

/// A set series prepared for judging: each member's first and last sighting, and what it is
/// compared with.
struct Judged<'a> {
    metric: &'a str,
    cats: Vec<categories::Category>,
    seen: std::collections::BTreeMap<String, (Millis, Millis)>,
    baseline: BTreeSet<String>,
    /// What a new member is not in ("not in its expected set", "… first sightings").
    against: &'static str,
    /// The baseline is the profiles' expected set.
    expected: bool,
    last_t: Millis,
    to: Millis,
    peers: Option<SetView<'a>>,
}

/// Listening ports: one reason per port that is new, that no peer has, or that is a risky
/// attack-surface port whatever its history.
fn port_reasons(j: &Judged<'_>) -> Vec<Reason> {
    let Judged {
        metric,
        against,
        last_t,
        to,
        peers,
        ..
    } = *j;
    let (seen, baseline, cats) = (&j.seen, &j.baseline, &j.cats);
    let expected = j.expected.then_some(());
    let mut out = Vec::new();
    let proto = if metric.contains("udp") { "UDP" } else { "TCP" };
    for (m, (opened, last_seen)) in seen {
        let port: i64 = m.parse().unwrap_or(-1);
        let surface = categories::surface_port(port);
        let risky = surface.is_some_and(|s| s.risky);
        let new = !baseline.contains(m);
        let others = peers.map(|p| p.others_with(m));
        let no_peer = others == Some(0);
        if !new && !no_peer && !risky {
            continue;
        }
        let mut text = if new {
            format!("{proto} {m} opened {}", hhmm(*opened))
        } else {
            format!("{proto} {m} listening since {}", hhmm(*opened))
        };
        if *last_seen < last_t {
            text.push_str(&format!(", gone after {}", hhmm(*last_seen)));
        }
        if new {
            text.push_str(&format!(", {against}"));
        }
        if let (Some(p), Some(k)) = (peers, others) {
            if k == 0 {
                text.push_str(&format!(
                    "; none of its {} peers ({}) has it",
                    p.peers(),
                    p.basis.describe()
                ));
            } else {
                text.push_str(&format!("; {k} of its {} peers have it too", p.peers()));
            }
        }
        if let Some(s) = surface {
            text.push_str(&format!(" (attack-surface port: {})", s.what));
        }
        let mut weight: f64 = 0.0;
        if new {
            weight += if surface.is_some() { 40.0 } else { 20.0 };
        }
        if no_peer {
            weight += 20.0;
        }
        if risky && !new {
            // Listening from the first report: what its peers do decides how odd it is.
            weight += match others {
                Some(0) | None => 20.0,
                Some(_) => 8.0,
            };
        }
        out.push(Reason {
            text,
            metric: metric.to_string(),
            categories: cats.clone(),
            since: *opened,
            weight: weight.min(60.0) * decay(to, *opened).max(0.5),
            source: if new && expected.is_some() {
                ReasonSource::ExpectedSet
            } else if new {
                ReasonSource::Baseline
            } else if no_peer {
                ReasonSource::Peers
            } else {
                ReasonSource::AttackSurface
            },
        });
    }
    out
}

/// Other sets (destination IPs, principals, string lists): one reason for the new members
/// together, one for members no peer reports when there are many more than peers usually have.
fn member_reasons(j: Judged<'_>) -> Vec<Reason> {
    let Judged {
        metric,
        cats,
        seen,
        baseline,
        against,
        to,
        peers,
        ..
    } = j;
    let expected = j.expected.then_some(());
    let mut out = Vec::new();
    let what = match metric {
        crate::model::lifecycle::PRINCIPAL => "principals connecting as it".to_string(),
        "aws:destination-ip-addresses" => "destination IPs".to_string(),
        "aws:source-ip-address" => "source IPs".to_string(),
        m => format!("values of {}", categories::metric_label(m)),
    };
    let mut new: Vec<(&String, Millis)> = seen
        .iter()
        .filter(|(m, _)| !baseline.contains(*m))
        .map(|(m, (t, _))| (m, *t))
        .collect();
    new.sort_by_key(|(m, t)| (*t, (*m).clone()));
    if !new.is_empty() {
        let since = new.iter().map(|(_, t)| *t).min().unwrap_or(to);
        let sample: Vec<&str> = new.iter().take(3).map(|(m, _)| m.as_str()).collect();
        out.push(Reason {
            text: format!(
                "{} new {what} since {}, {against} (e.g. {})",
                new.len(),
                hhmm(since),
                sample.join(", ")
            ),
            metric: metric.to_string(),
            categories: cats.clone(),
            since,
            // A second identity connecting as the thing is a cloned device or stolen
            // credentials on its own.
            weight: if metric == crate::model::lifecycle::PRINCIPAL {
                30.0
            } else {
                (4.0 * new.len() as f64).min(45.0)
            } * decay(to, since),
            source: if expected.is_some() {
                ReasonSource::ExpectedSet
            } else {
                ReasonSource::Baseline
            },
        });
    }
    // Members no peer reports — when this thing has many more of them than its peers usually
    // have (each device may talk to a few endpoints of its own).
    if let Some(p) = peers {
        let mut unique: Vec<(&String, Millis)> = seen
            .iter()
            .filter(|(m, _)| p.others_with(m) == 0)
            .map(|(m, (t, _))| (m, *t))
            .collect();
        if unique.len() >= 3 && unique.len() as f64 > 3.0 * p.typical_unique + 2.0 {
            unique.sort_by_key(|(m, t)| (*t, (*m).clone()));
            let since = unique.iter().map(|(_, t)| *t).min().unwrap_or(to);
            let sample: Vec<&str> = unique.iter().take(3).map(|(m, _)| m.as_str()).collect();
            out.push(Reason {
                text: format!(
                    "{} {what} that none of its {} peers ({}) reports, since {} (e.g. {})",
                    unique.len(),
                    p.peers(),
                    p.basis.describe(),
                    hhmm(since),
                    sample.join(", ")
                ),
                metric: metric.to_string(),
                categories: cats,
                since,
                weight: (3.0 * unique.len() as f64).min(35.0) * decay(to, since),
                source: ReasonSource::Peers,
            });
        }
    }
    out
}
