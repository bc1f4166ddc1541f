//! A thing's peers: the things it is compared with from its first report, before it has any
//! history of its own (and beside that history once it has one).
//!
//! Peers are the things of the same thing group where one is known, else of the same thing
//! type (both as the registry last said, see `sources::defender::inventory`), else of the same
//! name family (`cam-lobby-017` → `cam-lobby-*`), else the whole fleet — with at least
//! [`MIN_PEERS`] others, and every reason says which.

use std::collections::{BTreeMap, BTreeSet};

use fnv::FnvHashMap as HashMap;

/// Fewest other things that make a peer group.
pub const MIN_PEERS: usize = 3;

/// How a thing's peers were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basis {
    /// The things of one thing group.
    Group(String),
    /// The things of one thing type.
    Type(String),
    /// The things whose names differ only in their trailing number.
    Family(String),
    /// Every thing in the cache.
    Fleet,
}

impl Basis {
    /// For people: "thing group edge", "thing type camera", "name family cam-lobby-*", "the
    /// fleet".
    pub fn describe(&self) -> String {
        match self {
            Self::Group(g) => format!("thing group {g}"),
            Self::Type(t) => format!("thing type {t}"),
            Self::Family(f) => format!("name family {f}*"),
            Self::Fleet => "the fleet".into(),
        }
    }
}

/// The name family of a thing: its name without the trailing number (and the separator before
/// it); `None` when the name does not end in a digit.
pub fn family(name: &str) -> Option<&str> {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if stem.len() == name.len() || stem.is_empty() {
        return None;
    }
    Some(stem)
}

/// Every thing's peer group, by index into the groups.
#[derive(Debug, Default)]
pub struct PeerGroups {
    bases: Vec<Basis>,
    of: HashMap<String, usize>,
}

impl PeerGroups {
    /// Assigns each of `things` a peer group: its largest thing group with enough members,
    /// else its thing type, else its name family, else the fleet. `groups` maps a thing to its
    /// thing groups, `types` to its thing type.
    pub fn assign(
        things: &[&str],
        groups: &HashMap<String, Vec<String>>,
        types: &HashMap<String, String>,
    ) -> Self {
        let mut group_size: HashMap<&str, usize> = HashMap::default();
        for t in things {
            for g in groups.get(*t).into_iter().flatten() {
                *group_size.entry(g.as_str()).or_default() += 1;
            }
        }
        let mut type_size: HashMap<&str, usize> = HashMap::default();
        for t in things {
            if let Some(ty) = types.get(*t) {
                *type_size.entry(ty.as_str()).or_default() += 1;
            }
        }
        let mut family_size: HashMap<&str, usize> = HashMap::default();
        for t in things {
            if let Some(f) = family(t) {
                *family_size.entry(f).or_default() += 1;
            }
        }
        let mut out = Self::default();
        let mut ids: HashMap<Basis, usize> = HashMap::default();
        for t in things {
            let group = groups
                .get(*t)
                .into_iter()
                .flatten()
                .map(|g| (group_size[g.as_str()], g))
                .filter(|(n, _)| *n > MIN_PEERS)
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)));
            let ty = types
                .get(*t)
                .filter(|ty| type_size[ty.as_str()] > MIN_PEERS);
            let basis = if let Some((_, g)) = group {
                Basis::Group(g.clone())
            } else if let Some(ty) = ty {
                Basis::Type(ty.clone())
            } else if let Some(f) = family(t).filter(|f| family_size[f] > MIN_PEERS) {
                Basis::Family(f.to_string())
            } else if things.len() > MIN_PEERS {
                Basis::Fleet
            } else {
                continue;
            };
            let id = *ids.entry(basis.clone()).or_insert_with(|| {
                out.bases.push(basis);
                out.bases.len() - 1
            });
            out.of.insert((*t).to_string(), id);
        }
        out
    }

    /// A thing's peer group, if it has one.
    pub fn of(&self, thing: &str) -> Option<usize> {
        self.of.get(thing).copied()
    }

    /// What a peer group is.
    pub fn basis(&self, id: usize) -> &Basis {
        &self.bases[id]
    }
}

/// Robust statistics of one peer group's values (median, scale), and how many reported.
#[derive(Debug, Clone, Copy)]
pub struct PeerStat {
    /// Median of the group's values.
    pub median: f64,
    /// Robust scale: 1.4826 × MAD, at least 5 % of the median and `floor`.
    pub scale: f64,
    /// Things whose values these are.
    pub n: usize,
}

/// Median of `v` (sorts it).
fn median_sorted(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Values of one metric per (peer group, hour), gathered, then reduced to [`PeerStat`]s.
#[derive(Debug, Default)]
pub struct HourlyPeers {
    values: HashMap<(usize, i64), Vec<f64>>,
    stats: HashMap<(usize, i64), PeerStat>,
}

impl HourlyPeers {
    /// Adds one thing's mean of one hour.
    pub fn add(&mut self, group: usize, hour: i64, mean: f64) {
        self.values.entry((group, hour)).or_default().push(mean);
    }

    /// Computes the statistics (groups with fewer than `MIN_PEERS + 1` values get none).
    pub fn finish(&mut self, counts: bool) {
        let floor = if counts { 1.0 } else { 1e-9 };
        for (key, mut v) in std::mem::take(&mut self.values) {
            if v.len() <= MIN_PEERS {
                continue;
            }
            let med = median_sorted(&mut v);
            let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
            let mad = median_sorted(&mut dev);
            let scale = (1.4826 * mad).max(0.05 * med.abs()).max(floor);
            self.stats.insert(
                key,
                PeerStat {
                    median: med,
                    scale,
                    n: v.len(),
                },
            );
        }
    }

    /// The statistics of a peer group in one hour.
    pub fn get(&self, group: usize, hour: i64) -> Option<PeerStat> {
        self.stats.get(&(group, hour)).copied()
    }
}

/// Which members (ports, addresses) the things of each peer group report, for one set metric.
#[derive(Debug, Default)]
pub struct SetPeers {
    /// (group, member) → things reporting it.
    holders: BTreeMap<(usize, String), usize>,
    /// group → things reporting the metric at all.
    reporting: HashMap<usize, usize>,
}

impl SetPeers {
    /// Adds one thing's members (each counted once per thing).
    pub fn add(&mut self, group: usize, members: &BTreeSet<String>) {
        *self.reporting.entry(group).or_default() += 1;
        for m in members {
            *self.holders.entry((group, m.clone())).or_default() += 1;
        }
    }

    /// How many *other* things of the group report the metric.
    pub fn peers(&self, group: usize) -> usize {
        self.reporting
            .get(&group)
            .copied()
            .unwrap_or(0)
            .saturating_sub(1)
    }

    /// How many *other* things of the group report `member` (the thing itself holds it).
    pub fn others_with(&self, group: usize, member: &str) -> usize {
        self.holders
            .get(&(group, member.to_string()))
            .copied()
            .unwrap_or(1)
            .saturating_sub(1)
    }
}

/// "50 min", "5 h", "3 days": how much history a reason had.
pub fn history(ms: i64) -> String {
    let min = ms.max(0) / 60_000;
    if min < 120 {
        format!("{min} min")
    } else if min < 48 * 60 {
        format!("{} h", min / 60)
    } else {
        format!("{} days", min / (24 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_drop_the_trailing_number_only() {
        assert_eq!(family("cam-lobby-017"), Some("cam-lobby-"));
        assert_eq!(family("gw03"), Some("gw"));
        assert_eq!(family("sensor-a"), None);
        assert_eq!(family("42"), None);
    }

    #[test]
    fn a_group_beats_a_family_which_beats_the_fleet() {
        let things: Vec<String> = (0..6)
            .map(|i| format!("cam-{i:02}"))
            .chain((0..2).map(|i| format!("gw-{i}")))
            .collect();
        let refs: Vec<&str> = things.iter().map(String::as_str).collect();
        let mut groups: HashMap<String, Vec<String>> = HashMap::default();
        for t in &things[..5] {
            groups.insert(t.clone(), vec!["lobby".into()]);
        }
        let p = PeerGroups::assign(&refs, &groups, &HashMap::default());
        let basis = |t: &str| p.of(t).map(|g| p.basis(g).clone());
        assert_eq!(basis("cam-00"), Some(Basis::Group("lobby".into())));
        assert_eq!(basis("cam-05"), Some(Basis::Family("cam-".into())));
        assert_eq!(
            basis("gw-1"),
            Some(Basis::Fleet),
            "two gateways are no family"
        );
        // A thing type beats a family; a group still beats the type.
        let types: HashMap<String, String> = things
            .iter()
            .filter(|t| t.as_str() != "cam-04")
            .map(|t| (t.clone(), "sensor".to_string()))
            .collect();
        let p = PeerGroups::assign(&refs, &groups, &types);
        let basis = |t: &str| p.of(t).map(|g| p.basis(g).clone());
        assert_eq!(basis("cam-00"), Some(Basis::Group("lobby".into())));
        assert_eq!(basis("cam-05"), Some(Basis::Type("sensor".into())));
        assert_eq!(basis("gw-1"), Some(Basis::Type("sensor".into())));
        assert_eq!(p.basis(0).describe(), "thing group lobby");
        let few = PeerGroups::assign(&refs[..3], &HashMap::default(), &HashMap::default());
        assert_eq!(few.of("cam-00"), None, "three things have too few peers");
    }

    #[test]
    fn peer_statistics_need_enough_peers() {
        let mut h = HourlyPeers::default();
        for v in [10.0, 11.0, 12.0, 1800.0] {
            h.add(0, 5, v);
        }
        h.add(0, 6, 1.0);
        h.finish(true);
        let s = h.get(0, 5).unwrap();
        assert_eq!((s.median, s.n), (11.5, 4));
        assert!(h.get(0, 6).is_none());
    }
}
