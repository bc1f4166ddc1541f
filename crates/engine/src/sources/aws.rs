//! Shared AWS plumbing: SDK configuration from a source's settings and the default chain,
//! readable errors, and client-side pacing within Device Defender's per-API rates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iot::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::AwsSettings;

/// Attempts per call (the first plus retries) for throttling, 5xx and transport errors.
pub const MAX_ATTEMPTS: u32 = 6;

/// Loads SDK settings: the source's region, profile and endpoint when set, otherwise the
/// default chain (which honours `AWS_ENDPOINT_URL`, `AWS_PROFILE`, SSO and assume-role).
/// Retries use the SDK's adaptive mode: exponential back-off with jitter on throttling
/// (`ThrottlingException`, which IoT returns as HTTP 400), 5xx and connection errors, plus a
/// client-side rate limiter that slows down after throttling.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(20)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60))
                .operation_attempt_timeout(Duration::from_secs(300))
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The error code AWS returned (`ThrottlingException`, `AccessDenied`, …), if any.
pub fn error_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<String> {
    match e {
        SdkError::ServiceError(s) => s.err().code().map(str::to_string),
        _ => None,
    }
}

/// [`describe`], typed: the kind from the service's error code and HTTP status (a dispatch
/// failure or timeout is the network), the message as `describe` says it.
pub fn failure<E>(
    op: &str,
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> crate::sources::SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use crate::sources::{SourceError, SourceErrorKind};
    let kind = match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => SourceErrorKind::Network,
        SdkError::ServiceError(s) => {
            SourceError::kind_of_aws(s.err().code(), Some(s.raw().status().as_u16()))
        }
        SdkError::ResponseError(r) => {
            SourceError::kind_of_aws(None, Some(r.raw().status().as_u16()))
        }
        _ => SourceErrorKind::Service,
    };
    SourceError::new(kind, describe(op, e))
}

/// One line saying what went wrong, with the service's code and message when there is one,
/// and what to check for the common causes.
pub fn describe<E, R>(op: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let hint = match e {
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            " (timed out: check the network and endpoint)"
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            " (connection failed: check the network, region and endpoint URL)"
        }
        SdkError::TimeoutError(_) => " (timed out)",
        SdkError::ConstructionFailure(_) => {
            " (no usable credentials or region: check AWS_PROFILE / `aws sso login` / AWS_REGION)"
        }
        SdkError::ServiceError(s) => match s.err().code() {
            Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => {
                " (credentials expired: refresh them, e.g. `aws sso login`)"
            }
            Some(
                "InvalidAccessKeyId"
                | "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch",
            ) => " (credentials rejected: check the access key or profile)",
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedException") => {
                " (access denied: the IAM identity lacks this permission)"
            }
            Some("NoSuchBucket") => " (no such bucket: check the bucket name and region)",
            Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
                " (wrong region for this bucket)"
            }
            Some("ThrottlingException" | "Throttling" | "TooManyRequestsException") => {
                " (throttled by AWS even after back-off; try again later)"
            }
            _ => "",
        },
        _ => "",
    };
    match e {
        SdkError::ServiceError(s) => format!(
            "{op}: {}: {}{hint}",
            s.err().code().unwrap_or("error"),
            s.err().message().unwrap_or("no message")
        ),
        other => format!("{op}: {}{hint}", DisplayErrorContext(other)),
    }
}

/// Client-side pacing: at most `tps` calls per second for each named operation, shared by all
/// tasks of a sync, so a full sync stays inside Device Defender's documented quotas.
#[derive(Clone, Default)]
pub struct Pacer {
    next: Arc<Mutex<HashMap<&'static str, Instant>>>,
}

impl Pacer {
    /// Waits until `op` may be called again at `tps` calls per second.
    pub async fn wait(&self, op: &'static str, tps: u32) {
        // 90 % of the quota: a margin for clock jitter between here and AWS's rate counter.
        let gap = Duration::from_secs_f64(1.0 / (f64::from(tps.max(1)) * 0.9));
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.entry(op).or_insert(now);
            let at = (*slot).max(now);
            *slot = at + gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// The account and region these settings' credentials act in: STS GetCallerIdentity (bounded
/// to 15 s) and the resolved region. What a Device Defender API source's things belong to.
pub async fn caller_scope(
    settings: &AwsSettings,
) -> std::result::Result<crate::model::scope::Scope, String> {
    let sdk = sdk_config(settings).await;
    let sts = aws_sdk_sts::Client::new(&sdk);
    let me = tokio::time::timeout(Duration::from_secs(15), sts.get_caller_identity().send())
        .await
        .map_err(|_| "STS GetCallerIdentity did not answer within 15 s".to_string())?
        .map_err(|e| describe("STS GetCallerIdentity", &e))?;
    let region = sdk.region().map(|r| r.to_string());
    crate::model::scope::Scope::new(me.account(), region.as_deref())
        .map_err(|e| format!("STS GetCallerIdentity: {e}"))
}
