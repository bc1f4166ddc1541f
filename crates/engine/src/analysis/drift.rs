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
