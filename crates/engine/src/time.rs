//! Time in the cache: one unit (UTC epoch milliseconds), and the conversions every channel needs.
//!
//! Device Defender uses three conventions (see `shared/research/aws-device-defender.md` §0 #1):
//! REST-JSON responses carry epoch *seconds* with a fraction, SNS alerts and audit notifications
//! carry epoch *milliseconds*, and the metrics export does not document its unit at all.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Epoch milliseconds, UTC: the only time unit the cache stores.
pub type Millis = i64;

/// An hour in [`Millis`]: the one definition every module uses.
pub const HOUR: Millis = 3_600_000;

/// A day in [`Millis`].
pub const DAY: Millis = 86_400_000;

/// Values above this are milliseconds; below, seconds (1e11 s is the year 5138, 1e11 ms is 1973).
const MS_THRESHOLD: f64 = 1e11;

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeError {
    /// Not a finite, non-negative number, or beyond the year 9999.
    #[error("timestamp {0} is out of range (expected epoch seconds or milliseconds)")]
    OutOfRange(String),
    /// A `--from`/`--to` value in none of the accepted forms.
    #[error("cannot read time {0:?}: expected RFC 3339 (2026-05-01T00:00:00Z), epoch seconds, or relative (-24h, -7d, -30m, now)")]
    Unparsable(String),
}

/// Largest accepted instant: 9999-12-31T23:59:59Z.
pub const MAX_MS: i64 = 253_402_300_799_000;

/// A timestamp of undocumented unit: above 1e11 it is milliseconds, otherwise seconds.
pub fn from_auto(v: f64) -> Result<Millis, TimeError> {
    if v >= MS_THRESHOLD {
        from_millis(v)
    } else {
        from_seconds(v)
    }
}

/// Epoch seconds, possibly fractional (REST-JSON responses).
pub fn from_seconds(v: f64) -> Result<Millis, TimeError> {
    checked((v * 1000.0).round(), v)
}

/// Epoch milliseconds (SNS alerts, audit notifications).
pub fn from_millis(v: f64) -> Result<Millis, TimeError> {
    checked(v.round(), v)
}

fn checked(ms: f64, original: f64) -> Result<Millis, TimeError> {
    if !ms.is_finite() || ms < 0.0 || ms > MAX_MS as f64 {
        return Err(TimeError::OutOfRange(original.to_string()));
    }
    Ok(ms as i64)
}

/// RFC 3339 in UTC with millisecond precision, as every `ddesk` output prints times.
pub fn to_rfc3339(ms: Millis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}

/// The current time.
pub fn now() -> Millis {
    Utc::now().timestamp_millis()
}

/// Longest duration a user may give (a relative time, a triage window): 100 years.
pub const MAX_DURATION_MS: Millis = 100 * 366 * 86_400_000;

/// `ms` moved into 1970–9999 (UTC), the range the cache stores.
pub fn clamp_to_range(ms: Millis) -> Millis {
    ms.clamp(0, MAX_MS)
}

/// An instant within what the cache stores: 1970-01-01 to 9999-12-31 (UTC).
pub fn in_range(ms: Millis) -> bool {
    (0..=MAX_MS).contains(&ms)
}

/// Reads a user-given instant: RFC 3339, epoch seconds (or ms above 1e11), `now`,
/// or a relative offset from `now` such as `-24h`, `-7d`, `-30m`, `-90s`, `-2w`.
/// Every result lies in 1970–9999 (UTC) and offsets are at most [`MAX_DURATION_MS`]: other
/// input is refused, never wrapped.
pub fn parse_user_time(s: &str, now: Millis) -> Result<Millis, TimeError> {
    let t = s.trim();
    let err = || TimeError::Unparsable(s.to_string());
    let range = |ms: Millis| {
        if in_range(ms) {
            Ok(ms)
        } else {
            Err(TimeError::OutOfRange(s.to_string()))
        }
    };
    if t.eq_ignore_ascii_case("now") {
        return range(now);
    }
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('+')) {
        if let Some(unit) = rest.chars().last().filter(|c| c.is_ascii_alphabetic()) {
            let delta = duration_ms(&rest[..rest.len() - 1], unit).ok_or_else(err)?;
            let at = if t.starts_with('-') {
                now.checked_sub(delta)
            } else {
                now.checked_add(delta)
            };
            return range(at.ok_or_else(|| TimeError::OutOfRange(s.to_string()))?);
        }
    }
    if let Ok(v) = t.parse::<f64>() {
        return from_auto(v).map_err(|_| TimeError::OutOfRange(s.to_string()));
    }
    let ms = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc).timestamp_millis())
        .map_err(|_| err())?;
    range(ms)
}

/// `digits` of `unit` (s, m, h, d, w) in milliseconds, if at most [`MAX_DURATION_MS`].
fn duration_ms(digits: &str, unit: char) -> Option<Millis> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let scale = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 604_800_000,
        _ => return None,
    };
    n.checked_mul(scale).filter(|d| *d <= MAX_DURATION_MS)
}

/// Reads a duration such as `7d`, `48h`, `90m`, `2w`, `30s`: more than zero and at most
/// `max` milliseconds.
pub fn parse_duration(s: &str, max: Millis) -> Result<Millis, String> {
    let t = s.trim();
    let bad = || format!("cannot read duration {s:?}: expected e.g. 7d, 48h, 90m, 2w");
    let unit = t
        .chars()
        .last()
        .filter(|c| c.is_ascii_alphabetic())
        .ok_or_else(bad)?;
    let ms = duration_ms(&t[..t.len() - 1], unit).ok_or_else(bad)?;
    if ms == 0 {
        return Err(format!("duration {s:?} must be more than zero"));
    }
    if ms > max {
        return Err(format!(
            "duration {s:?} is longer than the {} days allowed",
            max / 86_400_000
        ));
    }
    Ok(ms)
}

/// How responses write an instant: epoch ms (a JSON number: the desktop shell's IPC, the UI
/// formats it in the analyst's zone) or RFC 3339 UTC text (`ddesk`'s output contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instants {
    /// Epoch milliseconds, a number.
    Millis,
    /// [`to_rfc3339`] text.
    Text,
}

static TEXT_BY_DEFAULT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static OVERRIDE: std::cell::Cell<Option<Instants>> = const { std::cell::Cell::new(None) };
}

/// Sets how this process writes instants (`ddesk` calls it once, first: [`Instants::Text`]).
/// The rule is keyed to the field being an instant — every response field that holds one is
/// marked `serialize_with = "time::instant"` — never to a field's name.
pub fn write_instants_as(mode: Instants) {
    TEXT_BY_DEFAULT.store(mode == Instants::Text, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `f` with instants written as `mode` on this thread (tests, and a caller that must print
/// both ways).
pub fn with_instants<R>(mode: Instants, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Instants>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(mode))));
    f()
}

fn instants() -> Instants {
    OVERRIDE.with(|o| o.get()).unwrap_or(
        if TEXT_BY_DEFAULT.load(std::sync::atomic::Ordering::Relaxed) {
            Instants::Text
        } else {
            Instants::Millis
        },
    )
}

/// Serde: an instant of a response, written as this process writes instants ([`Instants`]).
pub fn instant<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    match instants() {
        Instants::Millis => s.serialize_i64(*ms),
        Instants::Text => s.serialize_str(&to_rfc3339(*ms)),
    }
}

/// Serde: an optional instant of a response ([`instant`]), `None` as null.
pub fn instant_opt<S: serde::Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => instant(ms, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_numbers_unless_text_is_asked_for() {
        #[derive(serde::Serialize)]
        struct R {
            #[serde(serialize_with = "instant")]
            at: Millis,
            #[serde(serialize_with = "instant_opt")]
            end: Option<Millis>,
            #[serde(serialize_with = "instant_opt")]
            none: Option<Millis>,
        }
        let r = R {
            at: 1_717_430_700_000,
            end: Some(0),
            none: None,
        };
        let json = |r: &R| serde_json::to_string(r).unwrap();
        assert_eq!(
            with_instants(Instants::Millis, || json(&r)),
            r#"{"at":1717430700000,"end":0,"none":null}"#
        );
        assert_eq!(
            with_instants(Instants::Text, || json(&r)),
            r#"{"at":"2024-06-03T16:05:00.000Z","end":"1970-01-01T00:00:00.000Z","none":null}"#
        );
        // The override ends with its call.
        with_instants(Instants::Text, || {});
        assert!(with_instants(Instants::Millis, || json(&r)).contains("1717430700000"));
    }

    proptest::proptest! {
        /// Any `--from`/`--to` string is read or refused, never a panic, and anything read is
        /// within the cache's range.
        #[test]
        fn any_user_time_is_read_or_refused(s in "\\PC{0,40}", now in 0i64..=MAX_MS) {
            if let Ok(ms) = parse_user_time(&s, now) {
                proptest::prop_assert!(in_range(ms));
            }
        }

        /// Any `--window` string is read (more than zero, at most the bound) or refused.
        #[test]
        fn any_duration_is_read_or_refused(s in "\\PC{0,40}") {
            if let Ok(ms) = parse_duration(&s, MAX_DURATION_MS) {
                proptest::prop_assert!(ms > 0 && ms <= MAX_DURATION_MS);
            }
        }

        /// Relative forms with any digits, units and signs.
        #[test]
        fn any_relative_time_is_read_or_refused(
            sign in "[-+]", n in proptest::num::u64::ANY, unit in "[smhdwy]", now in 0i64..=MAX_MS,
        ) {
            if let Ok(ms) = parse_user_time(&format!("{sign}{n}{unit}"), now) {
                proptest::prop_assert!(in_range(ms));
            }
            let _ = parse_duration(&format!("{n}{unit}"), MAX_DURATION_MS);
        }
    }

    #[test]
    fn unit_detection_splits_seconds_and_milliseconds() {
        assert_eq!(from_auto(1_717_430_700.0).unwrap(), 1_717_430_700_000);
        assert_eq!(from_auto(1_717_430_700_000.0).unwrap(), 1_717_430_700_000);
        assert_eq!(from_seconds(1_596_168_096.157).unwrap(), 1_596_168_096_157);
        assert!(from_auto(-1.0).is_err());
        assert!(from_auto(f64::NAN).is_err());
        assert!(from_auto(1e300).is_err());
    }

    #[test]
    fn user_times_in_every_accepted_form() {
        let now = 1_717_430_700_000;
        assert_eq!(parse_user_time("now", now).unwrap(), now);
        assert_eq!(parse_user_time("-24h", now).unwrap(), now - 86_400_000);
        assert_eq!(parse_user_time("-7d", now).unwrap(), now - 7 * 86_400_000);
        assert_eq!(
            parse_user_time("1717430700", now).unwrap(),
            1_717_430_700_000
        );
        assert_eq!(
            parse_user_time("2024-06-03T16:05:00Z", now).unwrap(),
            1_717_430_700_000
        );
        assert_eq!(
            parse_user_time("2024-06-03T18:05:00+02:00", now).unwrap(),
            1_717_430_700_000
        );
        assert!(parse_user_time("yesterday", now).is_err());
        assert!(parse_user_time("-5y", now).is_err());
    }

    #[test]
    fn out_of_range_user_times_are_refused_not_wrapped() {
        let now = 1_717_430_700_000;
        // Regression: `--to=+9223372036854775s` overflowed (panic in debug, wrap in release).
        assert!(matches!(
            parse_user_time("+9223372036854775s", now),
            Err(TimeError::Unparsable(_) | TimeError::OutOfRange(_))
        ));
        assert!(parse_user_time("-9223372036854775807w", now).is_err());
        assert!(parse_user_time("-60y", now).is_err());
        // Regression: years 0 and 1 passed the range check.
        assert!(parse_user_time("0000-01-01T00:00:00Z", now).is_err());
        assert!(parse_user_time("0001-01-01T00:00:00Z", now).is_err());
        assert!(parse_user_time("-99999d", 0).is_err());
        assert!(parse_user_time("--5d", now).is_err());
        assert!(parse_user_time("-+5d", now).is_err());
        assert_eq!(parse_duration("7d", MAX_DURATION_MS), Ok(7 * 86_400_000));
        assert!(parse_duration("0h", MAX_DURATION_MS).is_err());
        assert!(parse_duration("106751991167d", MAX_DURATION_MS).is_err());
        assert!(parse_duration("400d", 366 * 86_400_000).is_err());
        assert!(parse_duration("-7d", MAX_DURATION_MS).is_err());
        assert!(parse_duration("", MAX_DURATION_MS).is_err());
        assert_eq!(to_rfc3339(1_717_430_700_000), "2024-06-03T16:05:00.000Z");
    }
}

/// Where the watcher reads the time: the system's, or one a test (or a replay) moves by hand,
/// so schedules and back-offs are tested without sleeping.
pub trait Clock: Send + Sync {
    /// A monotonic instant (schedules, back-offs).
    fn instant(&self) -> std::time::Instant;
    /// Wall-clock UTC epoch milliseconds (what is shown and stored).
    fn now(&self) -> Millis;
}

/// The system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn instant(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
    fn now(&self) -> Millis {
        now()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it (both its instant and its
/// wall time, together).
#[derive(Debug)]
pub struct ManualClock {
    start: std::time::Instant,
    start_ms: Millis,
    elapsed: std::sync::Mutex<std::time::Duration>,
}

impl ManualClock {
    /// A clock at `start_ms` (wall time) now.
    pub fn at(start_ms: Millis) -> Self {
        Self {
            start: std::time::Instant::now(),
            start_ms,
            elapsed: std::sync::Mutex::new(std::time::Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    fn elapsed(&self) -> std::time::Duration {
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for ManualClock {
    fn instant(&self) -> std::time::Instant {
        self.start + self.elapsed()
    }
    fn now(&self) -> Millis {
        self.start_ms + self.elapsed().as_millis() as Millis
    }
}
