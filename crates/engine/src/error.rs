//! The engine's error type: each module's errors, wrapped.

use crate::model::parse::ParseError;
use crate::store::StoreError;

/// Any engine failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A document was rejected.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A thing, metric or other named object is not in the cache.
    #[error("{0}")]
    NotFound(String),
    /// Bad input from the caller.
    #[error("{0}")]
    InvalidInput(String),
    /// The OS keychain failed.
    #[error("{0}")]
    Secrets(String),
    /// A remote source failed (network, credentials, the service's own error), typed.
    #[error("{0}")]
    Source(crate::sources::SourceError),
    /// The operation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// File-system failure.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl From<crate::demo::DemoError> for Error {
    fn from(e: crate::demo::DemoError) -> Self {
        match e {
            crate::demo::DemoError::Store(s) => Self::Store(s),
            other => Self::InvalidInput(other.to_string()),
        }
    }
}

impl Error {
    /// A source's failure of no kind the caller can tell (the service's own error).
    pub fn remote(message: impl Into<String>) -> Self {
        Self::Source(crate::sources::SourceError::service(message))
    }
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
