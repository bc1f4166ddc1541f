//! Errors as they cross to the UI: a closed set of kinds (a TypeScript union) and, per kind,
//! what the screen may show. The full error always goes to the log (the shell logs it); the
//! screen never shows the cache's own text (SQLite messages, chunk offsets) — it shows what the
//! analyst can act on.

use super::*;

/// What kind of failure an error is: the UI branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The cache (SQLite) failed or holds what this version cannot read: details only in the
    /// log.
    Store,
    /// The cache was written by a newer Defender Desk.
    CacheVersion,
    /// A document was rejected.
    Parse,
    /// A thing, metric, plan or other named object is not there.
    NotFound,
    /// Bad input from the analyst.
    InvalidInput,
    /// The OS keychain failed.
    Secrets,
    /// A remote source failed (network, credentials, the service's own error).
    Source,
    /// The operation was cancelled.
    Cancelled,
    /// A file could not be read or written.
    Io,
    /// The engine panicked (a bug): details only in the log.
    Internal,
}

impl ErrorKind {
    /// The kind of an engine error.
    pub fn of(e: &Error) -> Self {
        match e {
            Error::Store(crate::store::StoreError::TooNew { .. }) => Self::CacheVersion,
            Error::Store(crate::store::StoreError::Io { .. }) => Self::Io,
            Error::Store(_) => Self::Store,
            Error::Parse(_) => Self::Parse,
            Error::NotFound(_) => Self::NotFound,
            Error::InvalidInput(_) => Self::InvalidInput,
            Error::Secrets(_) => Self::Secrets,
            Error::Source(_) => Self::Source,
            Error::Cancelled => Self::Cancelled,
            Error::Io { .. } => Self::Io,
        }
    }

    /// Whether the error's own text may be shown: it is about the analyst's input, a source's
    /// answer or a file they chose. The cache's internals are not.
    pub fn shows_detail(self) -> bool {
        !matches!(self, Self::Store | Self::Internal)
    }
}

/// An error as it crosses to the UI: a kind to branch on and a message safe to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskError {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

impl From<&Error> for DeskError {
    fn from(e: &Error) -> Self {
        let kind = ErrorKind::of(e);
        let message = if kind.shows_detail() {
            e.to_string()
        } else {
            "The local cache could not be read or written; the details are in the app's log. \
             If this persists, check the disk, or move the cache file aside to start a new one."
                .to_string()
        };
        Self { kind, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caches_own_text_never_reaches_the_screen() {
        let sqlite = crate::store::StoreError::Corrupt("chunk 17 at byte 4096: bad varint".into());
        let e = DeskError::from(&Error::Store(sqlite));
        assert_eq!(e.kind, ErrorKind::Store);
        assert!(!e.message.contains("chunk 17"), "{}", e.message);
        let e = DeskError::from(&Error::NotFound("no thing cam-9 in the cache".into()));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::NotFound, "no thing cam-9 in the cache")
        );
        assert_eq!(
            serde_json::to_value(ErrorKind::InvalidInput).unwrap(),
            "invalid_input"
        );
    }
}
