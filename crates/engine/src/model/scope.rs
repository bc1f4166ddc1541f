//! Where a thing lives: its AWS account and region. A thing name is unique only within one
//! account and region, so two accounts' `sensor-001` are two things.
//!
//! The cache keys every per-thing row (series, violations, groups, cases, the action log) by a
//! [`ThingKey`]: the bare name for a thing of unknown account — which is what every cache made
//! before accounts existed holds, so it upgrades without rewriting a row — and
//! `account US region US name` (US = U+001F, the unit separator) for a thing whose account is
//! known. A name containing U+001F is refused where it is read ([`super::limits::check_name`]),
//! so no device can name itself into another account's key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The separator of a scoped key. Refused in every name a source delivers.
pub const SEP: char = '\u{1f}';

/// An account and region, either possibly unknown. A thing is scoped only when its account is
/// known; a region without an account scopes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// The 12-digit AWS account id.
    pub account: Option<String>,
    /// The region (`eu-west-1`).
    pub region: Option<String>,
}

/// Checks an AWS account id: exactly 12 digits.
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "account {account:?} is not a 12-digit AWS account id"
        ))
    }
}

/// Checks a region name: 1–32 of lowercase letters, digits and `-` (`us-gov-west-1`).
pub fn check_region(region: &str) -> Result<(), String> {
    if !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(())
    } else {
        Err(format!("region {region:?} is not a region name"))
    }
}

impl Scope {
    /// The unknown scope: things keyed by their name alone.
    pub const UNKNOWN: Scope = Scope {
        account: None,
        region: None,
    };

    /// A checked scope.
    pub fn new(account: Option<&str>, region: Option<&str>) -> Result<Scope, String> {
        if let Some(a) = account {
            check_account(a)?;
        }
        if let Some(r) = region {
            check_region(r)?;
        }
        Ok(Scope {
            account: account.map(str::to_string),
            region: region.map(str::to_string),
        })
    }

    /// Whether the account is known.
    pub fn is_known(&self) -> bool {
        self.account.is_some()
    }

    /// The key of `name` in this scope.
    pub fn key(&self, name: &str) -> String {
        match &self.account {
            None => name.to_string(),
            Some(a) => {
                let r = self.region.as_deref().unwrap_or("");
                let mut k = String::with_capacity(a.len() + r.len() + name.len() + 2);
                k.push_str(a);
                k.push(SEP);
                k.push_str(r);
                k.push(SEP);
                k.push_str(name);
                k
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.account, &self.region) {
            (None, _) => f.write_str("unknown account"),
            (Some(a), None) => write!(f, "account {a}"),
            (Some(a), Some(r)) => write!(f, "account {a} in {r}"),
        }
    }
}

/// A stored thing key taken apart: the name the analyst and AWS know, and its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThingKey<'a> {
    /// The thing name.
    pub name: &'a str,
    /// The account, when known.
    pub account: Option<&'a str>,
    /// The region, when known.
    pub region: Option<&'a str>,
}

impl<'a> ThingKey<'a> {
    /// Takes a stored key apart (a bare name is a thing of unknown account).
    pub fn parse(key: &'a str) -> ThingKey<'a> {
        let mut it = key.splitn(3, SEP);
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(r), Some(name)) => ThingKey {
                name,
                account: Some(a),
                region: (!r.is_empty()).then_some(r),
            },
            _ => ThingKey {
                name: key,
                account: None,
                region: None,
            },
        }
    }

    /// Its scope.
    pub fn scope(&self) -> Scope {
        Scope {
            account: self.account.map(str::to_string),
            region: self.region.map(str::to_string),
        }
    }
}

/// The name part of a stored key.
pub fn name_of(key: &str) -> &str {
    ThingKey::parse(key).name
}

/// A thing as every output names it: `thing` (the name, as before accounts existed) with its
/// `account` and `region` beside it, `null` when unknown, and `key`, the one string that names
/// it across accounts (what the app hands back to open it; the bare name when the account is
/// unknown). Flattened into the structs that carry a stored key ([`flat`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ts_rs::TS)]
pub struct Thing {
    /// The thing name.
    pub thing: String,
    /// Its AWS account, `null` when unknown.
    pub account: Option<String>,
    /// Its region, `null` when unknown.
    pub region: Option<String>,
    /// The key that names it in the cache and the app's calls.
    pub key: String,
}

impl Thing {
    /// The thing a stored key names.
    pub fn from_key(key: &str) -> Thing {
        let k = ThingKey::parse(key);
        Thing {
            thing: k.name.to_string(),
            account: k.account.map(str::to_string),
            region: k.region.map(str::to_string),
            key: key.to_string(),
        }
    }
}

/// Serializes a stored key as the fields of [`Thing`]: use with
/// `#[serde(flatten, serialize_with = "crate::model::scope::flat")]` and
/// `#[ts(flatten, as = "crate::model::scope::Thing")]`.
pub fn flat<S: serde::Serializer>(key: &str, s: S) -> Result<S::Ok, S::Error> {
    Thing::from_key(key).serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_bare_names_are_unknown() {
        let s = Scope::new(Some("111122223333"), Some("eu-west-1")).unwrap();
        let k = s.key("sensor-001");
        assert_ne!(k, "sensor-001");
        let p = ThingKey::parse(&k);
        assert_eq!(p.name, "sensor-001");
        assert_eq!(p.account, Some("111122223333"));
        assert_eq!(p.region, Some("eu-west-1"));
        assert_eq!(Thing::from_key(&k).key, k);
        assert_eq!(Thing::from_key(&k).thing, "sensor-001");
        assert_eq!(Scope::UNKNOWN.key("sensor-001"), "sensor-001");
        assert_eq!(ThingKey::parse("sensor-001").account, None);
        let other = Scope::new(Some("444455556666"), Some("eu-west-1")).unwrap();
        assert_ne!(
            other.key("sensor-001"),
            k,
            "two accounts' things never share a key"
        );
        let no_region = Scope::new(Some("111122223333"), None).unwrap();
        assert_eq!(ThingKey::parse(&no_region.key("a:b")).region, None);
        assert_eq!(ThingKey::parse(&no_region.key("a:b")).name, "a:b");
    }

    #[test]
    fn accounts_and_regions_are_checked() {
        assert!(Scope::new(Some("12345678901"), None).is_err());
        assert!(Scope::new(Some("12345678901a"), None).is_err());
        assert!(Scope::new(None, Some("EU-WEST-1")).is_err());
        assert!(Scope::new(None, Some("")).is_err());
        assert!(Scope::new(Some("000000000000"), Some("us-gov-west-1")).is_ok());
    }
}
