//! AWS's closed sets that the model carries: each is an enum whose words are exactly the
//! service model's (botocore's `iot` shapes `AuditFindingSeverity`, `VerificationState`,
//! `ConfidenceLevel`), read strictly from documents, stored and printed as those words, and
//! crossing IPC as a TypeScript union.

use serde::{Deserialize, Serialize};

/// A word that is not one of a closed set's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {set} {value:?}: one of {}", .expected.join(", "))]
pub struct UnknownWord {
    /// The set (`severity`).
    pub set: &'static str,
    /// What was given.
    pub value: String,
    /// The set's words.
    pub expected: &'static [&'static str],
}

/// Declares a closed set of AWS words: the enum, its words, `FromStr` and `Display`.
macro_rules! closed_set {
    ($(#[doc = $doc:literal])* $name:ident ($set:literal) {
        $($(#[doc = $vdoc:literal])* $variant:ident = $word:literal,)*
    }) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ts_rs::TS,
        )]
        pub enum $name {
            $($(#[doc = $vdoc])* #[serde(rename = $word)] $variant,)*
        }

        impl $name {
            /// Every member, in the service model's order.
            pub const ALL: &'static [$name] = &[$(Self::$variant),*];
            /// Every member's word.
            pub const WORDS: &'static [&'static str] = &[$($word),*];

            /// Its word, as AWS writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s {
                    $($word => Ok(Self::$variant),)*
                    _ => Err(UnknownWord {
                        set: $set,
                        value: s.chars().take(64).collect(),
                        expected: Self::WORDS,
                    }),
                }
            }
        }
    };
}

closed_set! {
    /// An audit finding's severity (`AuditFindingSeverity`), gravest first: the derived order
    /// sorts `Critical` before `Low`.
    Severity("severity") {
        /// `CRITICAL`
        Critical = "CRITICAL",
        /// `HIGH`
        High = "HIGH",
        /// `MEDIUM`
        Medium = "MEDIUM",
        /// `LOW`
        Low = "LOW",
    }
}

closed_set! {
    /// The analyst's verdict on a Detect violation (`VerificationState`).
    VerificationState("verification state") {
        /// `FALSE_POSITIVE`
        FalsePositive = "FALSE_POSITIVE",
        /// `BENIGN_POSITIVE`
        BenignPositive = "BENIGN_POSITIVE",
        /// `TRUE_POSITIVE`
        TruePositive = "TRUE_POSITIVE",
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
    }
}

closed_set! {
    /// ML Detect's confidence in a violation (`ConfidenceLevel`).
    Confidence("confidence level") {
        /// `LOW`
        Low = "LOW",
        /// `MEDIUM`
        Medium = "MEDIUM",
        /// `HIGH`
        High = "HIGH",
    }
}

/// Reads a word leniently, where a word outside the set must not fail what carries it: a cache
/// written before the set was closed, or an SDK enum's variant newer than this build. Such a
/// word reads as absent, with a warning. (Documents are read strictly: see `parse`.)
pub fn stored<T>(word: Option<String>) -> Option<T>
where
    T: std::str::FromStr<Err = UnknownWord>,
{
    let word = word?;
    match word.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!("cached value ignored: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_through_serde_and_from_str() {
        for s in Severity::ALL {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), *s);
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), *s);
        }
        for v in VerificationState::ALL {
            assert_eq!(v.as_str().parse::<VerificationState>().unwrap(), *v);
        }
        for c in Confidence::ALL {
            assert_eq!(c.as_str().parse::<Confidence>().unwrap(), *c);
        }
    }

    #[test]
    fn an_unknown_word_is_named_with_the_set() {
        let e = "SEVERE".parse::<Severity>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown severity \"SEVERE\": one of CRITICAL, HIGH, MEDIUM, LOW"
        );
        assert!(serde_json::from_str::<Severity>("\"critical\"").is_err());
        assert_eq!(stored::<Severity>(Some("SEVERE".into())), None);
        assert_eq!(
            stored::<Severity>(Some("HIGH".into())),
            Some(Severity::High)
        );
    }

    #[test]
    fn gravest_first() {
        let mut v = vec![Severity::Low, Severity::Critical, Severity::Medium];
        v.sort();
        assert_eq!(v, [Severity::Critical, Severity::Medium, Severity::Low]);
    }
}
