//! Time in the cache: one unit (UTC epoch milliseconds), and the conversions every channel needs.
//!
//! Device Defender uses three conventions (see `shared/research/aws-device-defender.md` §0 #1):
//! REST-JSON responses carry epoch *seconds* with a fraction, SNS alerts and audit notifications
//! carry epoch *milliseconds*, and the metrics export does not document its unit at all.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Epoch milliseconds, UTC: the only time unit the cache stores.
pub type Millis = i64;

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
const MAX_MS: i64 = 253_402_300_799_000;

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

/// Reads a user-given instant: RFC 3339, epoch seconds (or ms above 1e11), `now`,
/// or a relative offset from `now` such as `-24h`, `-7d`, `-30m`, `-90s`, `-2w`.
pub fn parse_user_time(s: &str, now: Millis) -> Result<Millis, TimeError> {
    let t = s.trim();
    let err = || TimeError::Unparsable(s.to_string());
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('+')) {
        if let Some(unit) = rest.chars().last().filter(|c| c.is_ascii_alphabetic()) {
            let n: i64 = rest[..rest.len() - 1].parse().map_err(|_| err())?;
            let scale = match unit {
                's' => 1_000,
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                'w' => 604_800_000,
                _ => return Err(err()),
            };
            let delta = n.checked_mul(scale).ok_or_else(err)?;
            return Ok(if t.starts_with('-') {
                now - delta
            } else {
                now + delta
            });
        }
    }
    if let Ok(v) = t.parse::<f64>() {
        return from_auto(v).map_err(|_| err());
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc).timestamp_millis())
        .map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(to_rfc3339(1_717_430_700_000), "2024-06-03T16:05:00.000Z");
    }
}
