//! Bounds on what a document may put in the cache. Device data is attacker-controlled: a
//! compromised thing chooses its names, values, ports and list sizes, so every record is checked
//! against these before it is kept, and a record beyond them is refused with a message that
//! names the bound (the file or object it came from is reported as rejected).

use super::{ActiveViolation, AuditFinding, Behavior, Datapoint, MetricValue, ViolationEvent};

/// Caps on one file or object (after decompression), so a hostile one — a 3.6 MB gzip that
/// inflates to 1 GB of valid records — is refused early instead of exhausting memory. A
/// Firehose object holds at most 128 MiB before compression (its largest buffer), so the
/// defaults never refuse a real export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLimits {
    /// Most bytes read from one file or object once inflated (default 256 MiB).
    pub max_inflated_bytes: u64,
    /// Most datapoints from one file or object (default 1,000,000: about 250 MB in memory).
    pub max_points: usize,
}

impl Default for ObjectLimits {
    fn default() -> Self {
        Self {
            max_inflated_bytes: 256 << 20,
            max_points: 1_000_000,
        }
    }
}

/// Longest thing (or client id) and metric name, in bytes: AWS IoT allows 128 characters.
pub const MAX_NAME_BYTES: usize = 128;
/// Most members of one set-valued or list value (every TCP port is 65,536).
pub const MAX_MEMBERS: usize = 65_536;
/// Longest member of a string or address list, in bytes.
pub const MAX_MEMBER_BYTES: usize = 1024;

/// Checks a thing, client id or metric name: 1 to [`MAX_NAME_BYTES`] bytes. Any characters are
/// kept exactly as sent (an unregistered device's client id is any UTF-8): every output
/// escapes them (HTML, terminal, CSV) — except U+001F, which separates account, region and
/// name in the cache's thing keys ([`super::scope`]): a name holding it could pass for another
/// account's thing.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("empty {what} name"));
    }
    if what == "thing" && name.contains(super::scope::SEP) {
        return Err(format!(
            "{what} name {name:?} contains U+001F, which no AWS IoT name may hold"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "{what} name of {} bytes is longer than the {MAX_NAME_BYTES} AWS IoT allows",
            name.len()
        ));
    }
    Ok(())
}

/// Checks one datapoint's names and value against the bounds above: counts are whole and not
/// negative, ports are 0 to 65535, lists are bounded in length and member size.
pub fn check_point(p: &Datapoint) -> Result<(), String> {
    check_name("thing", &p.thing)?;
    check_name("metric", &p.metric)?;
    if let Some(d) = &p.dimension {
        check_name("dimension", &d.name)?;
    }
    check_value(&p.metric, &p.thing, &p.value)
}

/// Longest id (violation, finding, task) in bytes: AWS's are at most 128.
pub const MAX_ID_BYTES: usize = 128;
/// Longest free text of a record (a verification description, a finding's reason), in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Longest resource description of an audit finding (its JSON), in bytes.
pub const MAX_RESOURCE_BYTES: usize = 64 << 10;

/// Checks an optional free text against `max` bytes.
fn check_text(what: &str, text: Option<&str>, max: usize) -> Result<(), String> {
    match text {
        Some(t) if t.len() > max => {
            Err(format!("{what} of {} bytes is longer than {max}", t.len()))
        }
        _ => Ok(()),
    }
}

/// Checks an id: 1 to [`MAX_ID_BYTES`] bytes.
fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("empty {what}"));
    }
    check_text(what, Some(id), MAX_ID_BYTES)
}

fn check_behavior(b: &Behavior) -> Result<(), String> {
    check_text("behavior name", Some(&b.name), MAX_NAME_BYTES)?;
    if let Some(m) = &b.metric {
        check_name("metric", m)?;
    }
    Ok(())
}

/// What a violation event and an active violation both carry, checked once for both.
struct ViolationParts<'a> {
    thing: &'a str,
    id: &'a str,
    profile: &'a str,
    behavior: &'a Behavior,
    value: Option<&'a MetricValue>,
    state: Option<&'a str>,
    description: Option<&'a str>,
    confidence: Option<&'a str>,
}

impl ViolationParts<'_> {
    fn check(&self) -> Result<(), String> {
        check_name("thing", self.thing)?;
        check_id("violation id", self.id)?;
        check_text("security profile name", Some(self.profile), MAX_NAME_BYTES)?;
        check_behavior(self.behavior)?;
        if let Some(value) = self.value {
            let metric = self.behavior.metric.as_deref().unwrap_or("value");
            check_value(metric, self.thing, value)?;
        }
        check_text("verification state", self.state, MAX_NAME_BYTES)?;
        check_text("verification description", self.description, MAX_TEXT_BYTES)?;
        check_text("confidence", self.confidence, MAX_NAME_BYTES)
    }
}

/// Checks a violation event like a datapoint: its thing, ids and names bounded as datapoints'
/// are, its value as a datapoint's value, its texts bounded.
pub fn check_violation_event(v: &ViolationEvent) -> Result<(), String> {
    ViolationParts {
        thing: &v.thing,
        id: &v.violation_id,
        profile: &v.security_profile,
        behavior: &v.behavior,
        value: v.value.as_ref(),
        state: v.verification_state.map(|s| s.as_str()),
        description: v.verification_description.as_deref(),
        confidence: v.confidence.map(|c| c.as_str()),
    }
    .check()?;
    check_text("event type", Some(&v.event_type), MAX_NAME_BYTES)
}

/// Checks an active violation (see [`check_violation_event`]).
pub fn check_active_violation(v: &ActiveViolation) -> Result<(), String> {
    ViolationParts {
        thing: &v.thing,
        id: &v.violation_id,
        profile: &v.security_profile,
        behavior: &v.behavior,
        value: v.last_value.as_ref(),
        state: v.verification_state.map(|s| s.as_str()),
        description: v.verification_description.as_deref(),
        confidence: v.confidence.map(|c| c.as_str()),
    }
    .check()
}

/// Checks an audit finding's ids, names and texts.
pub fn check_finding(f: &AuditFinding) -> Result<(), String> {
    check_id("finding id", &f.finding_id)?;
    if let Some(t) = &f.task_id {
        check_id("task id", t)?;
    }
    check_text("check name", Some(&f.check), MAX_NAME_BYTES)?;
    check_text("resource type", f.resource_type.as_deref(), MAX_NAME_BYTES)?;
    check_text("resource", Some(&f.resource), MAX_TEXT_BYTES)?;
    check_text(
        "resource description",
        Some(&f.resource_json),
        MAX_RESOURCE_BYTES,
    )?;
    check_text("reason", f.reason.as_deref(), MAX_TEXT_BYTES)?;
    check_text("reason code", f.reason_code.as_deref(), MAX_NAME_BYTES)
}

/// Checks a value of `metric` of `thing` (for the message): see [`check_point`].
pub fn check_value(metric: &str, thing: &str, value: &MetricValue) -> Result<(), String> {
    struct Named<'a> {
        metric: &'a str,
        thing: &'a str,
    }
    let p = Named { metric, thing };
    let members = |n: usize| {
        if n > MAX_MEMBERS {
            Err(format!(
                "{} of {}: {n} members, more than {MAX_MEMBERS}",
                p.metric, p.thing
            ))
        } else {
            Ok(())
        }
    };
    match value {
        MetricValue::Count(c) if *c < 0 => Err(format!(
            "{} of {}: count {c} is negative (counts are 0 or more)",
            p.metric, p.thing
        )),
        MetricValue::Count(_) => Ok(()),
        MetricValue::Number(n) if !n.is_finite() => Err(format!(
            "{} of {}: number {n} is not finite",
            p.metric, p.thing
        )),
        MetricValue::Number(_) => Ok(()),
        MetricValue::Ports(ports) => {
            members(ports.len())?;
            match ports.iter().find(|p| !(0..=65_535).contains(*p)) {
                Some(bad) => Err(format!(
                    "{} of {}: port {bad} is not 0 to 65535",
                    p.metric, p.thing
                )),
                None => Ok(()),
            }
        }
        MetricValue::Numbers(ns) => {
            members(ns.len())?;
            if ns.iter().any(|n| !n.is_finite()) {
                return Err(format!(
                    "{} of {}: a number is not finite",
                    p.metric, p.thing
                ));
            }
            Ok(())
        }
        MetricValue::Cidrs(ss) | MetricValue::Strings(ss) => {
            members(ss.len())?;
            match ss.iter().find(|s| s.len() > MAX_MEMBER_BYTES) {
                Some(s) => Err(format!(
                    "{} of {}: a member of {} bytes is longer than {MAX_MEMBER_BYTES}",
                    p.metric,
                    p.thing,
                    s.len()
                )),
                None => Ok(()),
            }
        }
    }
}

/// Longest case note, in characters (an analyst's, or a colleague's read back from Security Hub).
pub const MAX_NOTE_CHARS: usize = 4000;

/// Whether `c` reorders the text after it on screen (a bidirectional control: U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C): "approved" can be made to read backwards.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Text from elsewhere (a colleague's Security Hub note, an identity), made safe to show:
/// control characters other than newline and tab, and bidirectional controls, become U+FFFD;
/// at most `max` characters; `None` when nothing is left.
pub fn foreign_text(text: &str, max: usize) -> Option<String> {
    let t: String = text
        .trim()
        .chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .take(max)
        .collect();
    (!t.trim().is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(thing: &str, value: MetricValue) -> Datapoint {
        Datapoint {
            thing: thing.into(),
            metric: "aws:all-bytes-out".into(),
            dimension: None,
            ts: 1_700_000_000_000,
            version: 0,
            value,
        }
    }

    #[test]
    fn hostile_names_and_values_are_refused_by_bound() {
        assert!(check_point(&point("cam-1", MetricValue::Count(5))).is_ok());
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let e = check_point(&point(&long, MetricValue::Count(5))).unwrap_err();
        assert!(e.contains("longer than the 128"), "{e}");
        assert!(check_point(&point("", MetricValue::Count(5))).is_err());
        let e = check_point(&point("cam-1", MetricValue::Count(-1))).unwrap_err();
        assert!(e.contains("negative"), "{e}");
        assert!(check_point(&point("cam-1", MetricValue::Ports(vec![70_000]))).is_err());
        assert!(check_point(&point(
            "cam-1",
            MetricValue::Ports(vec![0; MAX_MEMBERS + 1])
        ))
        .is_err());
        let big = vec!["y".repeat(MAX_MEMBER_BYTES + 1)];
        assert!(check_point(&point("cam-1", MetricValue::Strings(big))).is_err());
        // The hostile payload names of the E2E tests are within bounds: they are shown escaped.
        assert!(check_name("thing", "<script>window.__pwned=2</script>").is_ok());
    }

    /// Violations and findings are bounded like datapoints (an empty or 1 MB thing name was
    /// kept).
    #[test]
    fn violations_and_findings_are_bounded_like_datapoints() {
        let v = |thing: &str| ViolationEvent {
            violation_id: "v-1".into(),
            thing: thing.into(),
            security_profile: "p".into(),
            behavior: Behavior {
                name: "b".into(),
                ..Default::default()
            },
            event_type: "in-alarm".into(),
            time: 0,
            value: None,
            verification_state: None,
            verification_description: None,
            confidence: None,
        };
        assert!(check_violation_event(&v("cam-1")).is_ok());
        assert!(check_violation_event(&v("")).is_err());
        let e = check_violation_event(&v(&"x".repeat(1 << 20))).unwrap_err();
        assert!(e.contains("longer than the 128"), "{e}");
        let mut bad = v("cam-1");
        bad.value = Some(MetricValue::Count(-3));
        assert!(check_violation_event(&bad).is_err());
        let mut bad = v("cam-1");
        bad.verification_description = Some("d".repeat(MAX_TEXT_BYTES + 1));
        assert!(check_violation_event(&bad).is_err());
    }
}
