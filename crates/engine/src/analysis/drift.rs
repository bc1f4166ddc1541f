//! Drift of set-valued metrics (listening ports, destination IPs, custom string lists):
//! when each value appeared and when it went away.

use serde::Serialize;

use crate::model::MetricValue;
use crate::store::SeriesPoint;
use crate::time::Millis;

/// One interval during which a value was in the reported set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftInterval {
    /// The member (a port number, a CIDR, a string), as JSON.
    pub value: serde_json::Value,
    /// First report that listed it.
    pub opened: Millis,
    /// First later report without it; `None` while it is still listed.
    pub closed: Option<Millis>,
}

fn members(v: &MetricValue) -> Vec<serde_json::Value> {
    match v {
        MetricValue::Ports(p) => p.iter().map(|x| (*x).into()).collect(),
        MetricValue::Cidrs(c) | MetricValue::Strings(c) => {
            c.iter().map(|x| x.as_str().into()).collect()
        }
        MetricValue::Numbers(n) => n.iter().map(|x| (*x).into()).collect(),
        MetricValue::Count(_) | MetricValue::Number(_) => Vec::new(),
    }
}

/// Intervals per value from reports in time order; ordered by opening time, then value.
pub fn intervals(points: &[SeriesPoint]) -> Vec<DriftInterval> {
    let mut open: Vec<(serde_json::Value, Millis)> = Vec::new();
    let mut done = Vec::new();
    for p in points {
        let now = members(&p.value);
        let mut still = Vec::with_capacity(open.len());
        for (v, opened) in open.drain(..) {
            if now.contains(&v) {
                still.push((v, opened));
            } else {
                done.push(DriftInterval {
                    value: v,
                    opened,
                    closed: Some(p.ts),
                });
            }
        }
        for v in now {
            if !still.iter().any(|(o, _)| *o == v) {
                still.push((v, p.ts));
            }
        }
        open = still;
    }
    done.extend(open.into_iter().map(|(value, opened)| DriftInterval {
        value,
        opened,
        closed: None,
    }));
    done.sort_by(|a, b| {
        a.opened
            .cmp(&b.opened)
            .then_with(|| a.value.to_string().cmp(&b.value.to_string()))
    });
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ts: Millis, ports: &[i64]) -> SeriesPoint {
        SeriesPoint {
            ts,
            dimension: None,
            version: 1,
            value: MetricValue::Ports(ports.to_vec()),
            compacted: false,
        }
    }

    #[test]
    fn rogue_ftp_opens_then_closes() {
        let d = intervals(&[
            p(0, &[22]),
            p(300, &[22, 21]),
            p(600, &[22, 21]),
            p(900, &[22]),
            p(1200, &[22, 21]),
        ]);
        assert_eq!(
            d,
            vec![
                DriftInterval {
                    value: 22.into(),
                    opened: 0,
                    closed: None
                },
                DriftInterval {
                    value: 21.into(),
                    opened: 300,
                    closed: Some(900)
                },
                DriftInterval {
                    value: 21.into(),
                    opened: 1200,
                    closed: None
                },
            ]
        );
    }
}

/// How a member of a set changed between two instants (the order rows are listed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// In the second set only.
    Added,
    /// In the first set only.
    Removed,
    /// In both.
    Unchanged,
}

impl Change {
    /// `added`, `removed` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Unchanged => "unchanged",
        }
    }
}

/// How a member differs between two instants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffRow {
    /// The member.
    pub value: serde_json::Value,
    /// Added, removed or unchanged.
    pub change: Change,
    /// One of the ports the Device Defender docs call out as attack surface.
    pub attack_surface: bool,
}

/// The set reported at or before `t` (the newest such report).
pub fn set_at(points: &[SeriesPoint], t: Millis) -> Option<&SeriesPoint> {
    points.iter().rev().find(|p| p.ts <= t)
}

/// Members added, removed and kept between the sets reported at `a` and at `b`.
pub fn diff(points: &[SeriesPoint], a: Millis, b: Millis) -> Vec<DiffRow> {
    let before = set_at(points, a)
        .map(|p| members(&p.value))
        .unwrap_or_default();
    let after = set_at(points, b)
        .map(|p| members(&p.value))
        .unwrap_or_default();
    let surface =
        |v: &serde_json::Value| v.as_i64().is_some_and(super::categories::is_attack_surface);
    let mut rows = Vec::new();
    for v in &after {
        let change = if before.contains(v) {
            Change::Unchanged
        } else {
            Change::Added
        };
        rows.push(DiffRow {
            value: v.clone(),
            change,
            attack_surface: surface(v),
        });
    }
    for v in &before {
        if !after.contains(v) {
            rows.push(DiffRow {
                value: v.clone(),
                change: Change::Removed,
                attack_surface: surface(v),
            });
        }
    }
    rows.sort_by(|x, y| {
        x.change
            .cmp(&y.change)
            .then_with(|| x.value.to_string().cmp(&y.value.to_string()))
    });
    rows
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    #[test]
    fn added_removed_unchanged() {
        let p = |ts, v: &[i64]| SeriesPoint {
            ts,
            dimension: None,
            version: 1,
            value: MetricValue::Ports(v.to_vec()),
            compacted: false,
        };
        let pts = [p(0, &[22, 80]), p(100, &[21, 22])];
        let d = diff(&pts, 50, 150);
        let got: Vec<(String, Change, bool)> = d
            .iter()
            .map(|r| (r.value.to_string(), r.change, r.attack_surface))
            .collect();
        assert_eq!(
            got,
            vec![
                ("21".into(), Change::Added, true),
                ("80".into(), Change::Removed, true),
                ("22".into(), Change::Unchanged, true)
            ]
        );
        assert!(diff(&pts, -1, -1).is_empty());
    }
}
