//! A source's failure, typed where the SDK or HTTP error is still in hand: back-off, "Detect
//! unavailable", the watch's `throttled`/`stuck` and the UI read its kind, never its sentence
//! (a bucket named `logs-503` in an AccessDenied message is no throttling).

use serde::Serialize;

/// What kind of failure a source's error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceErrorKind {
    /// The service asked us to slow down (AWS `ThrottlingException`, S3 `SlowDown`, HTTP 429,
    /// Splunk refusing searches for concurrency).
    Throttled,
    /// The credentials are valid but not allowed (AWS `AccessDenied*`, HTTP 403).
    AccessDenied,
    /// The account has no subscription to the service (Detect closed to new customers).
    NotSubscribed,
    /// The credentials or token are missing, expired or wrong (HTTP 401).
    Credentials,
    /// The bucket, index, resource or endpoint does not exist (HTTP 404).
    NotFound,
    /// TLS failed (an untrusted certificate).
    Tls,
    /// The network: connection refused, reset, timed out, a body cut off.
    Network,
    /// A sync did not finish within its deadline.
    Stuck,
    /// What was read could not be used (records refused, an object corrupt).
    Data,
    /// The service's own error, of no kind above.
    Service,
}

/// A source's failure: its kind and what to say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    /// What kind of failure.
    pub kind: SourceErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

impl SourceError {
    /// A failure of `kind`.
    pub fn new(kind: SourceErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The service's own error, of no kind the caller could tell.
    pub fn service(message: impl Into<String>) -> Self {
        Self::new(SourceErrorKind::Service, message)
    }

    /// The kind an HTTP status says, when it says one.
    pub fn kind_of_status(status: u16) -> Option<SourceErrorKind> {
        Some(match status {
            429 | 503 => SourceErrorKind::Throttled,
            401 => SourceErrorKind::Credentials,
            403 => SourceErrorKind::AccessDenied,
            404 => SourceErrorKind::NotFound,
            _ => return None,
        })
    }

    /// The kind an AWS error code says (`ThrottlingException`, `AccessDenied`, …), else what
    /// its HTTP status says.
    pub fn kind_of_aws(code: Option<&str>, status: Option<u16>) -> SourceErrorKind {
        use SourceErrorKind::*;
        let by_code = code.and_then(|c| {
            Some(match c {
                "ThrottlingException"
                | "Throttling"
                | "SlowDown"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "LimitExceededException"
                | "ProvisionedThroughputExceededException" => Throttled,
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "UnauthorizedException"
                | "AllAccessDisabled" => AccessDenied,
                "SubscriptionRequiredException" | "OptInRequired" | "NotSubscribed" => {
                    NotSubscribed
                }
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "ExpiredTokenException"
                | "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "InvalidToken"
                | "TokenRefreshRequired" => Credentials,
                "NoSuchBucket" | "NoSuchKey" | "NotFound" | "ResourceNotFoundException" => NotFound,
                _ => return None,
            })
        });
        by_code
            .or_else(|| status.and_then(Self::kind_of_status))
            .unwrap_or(Service)
    }
}

impl From<String> for SourceError {
    /// A failure the caller could not type (a cache write, an internal step): `Service`.
    fn from(message: String) -> Self {
        Self::service(message)
    }
}

impl From<crate::Error> for SourceError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Source(s) => s,
            other => Self::service(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (#30): throttling was decided by searching the message for "503", "too
    /// many", "throttl": an AccessDenied on a bucket named `logs-503` backed off as throttling.
    /// The kind comes from the code and the status, never the text.
    #[test]
    fn the_kind_comes_from_the_code_and_status_never_the_message() {
        use SourceErrorKind::*;
        assert_eq!(
            SourceError::kind_of_aws(Some("AccessDenied"), Some(403)),
            AccessDenied
        );
        assert_eq!(
            SourceError::kind_of_aws(Some("SlowDown"), Some(503)),
            Throttled
        );
        assert_eq!(
            SourceError::kind_of_aws(Some("ThrottlingException"), Some(400)),
            Throttled
        );
        assert_eq!(SourceError::kind_of_aws(None, Some(429)), Throttled);
        assert_eq!(
            SourceError::kind_of_aws(Some("NoSuchBucket"), Some(404)),
            NotFound
        );
        assert_eq!(
            SourceError::kind_of_aws(Some("ExpiredToken"), Some(400)),
            Credentials
        );
        assert_eq!(
            SourceError::kind_of_aws(Some("InternalError"), Some(500)),
            Service
        );
        let e = SourceError::new(
            AccessDenied,
            "ListObjectsV2 on logs-503: AccessDenied (503 too many throttles)",
        );
        assert_ne!(e.kind, Throttled);
    }
}
