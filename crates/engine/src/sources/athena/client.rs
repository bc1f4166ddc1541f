//! Athena calls: a query started once (its `ClientRequestToken` makes a retried start the
//! same query), polled with back-off to a timeout, stopped (`StopQueryExecution`) when the
//! sync is cancelled, its results paged (the first row of the first page is the header).

use std::time::Duration;

use aws_sdk_athena::error::ProvideErrorMetadata;
use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration,
};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::AthenaSettings;
use crate::sources::aws;
use crate::sources::{AwsSettings, SourceError, SourceErrorKind};

/// The longest a query may run before it is stopped and the screen fails.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Rows a result may hold (a screen asks for its `LIMIT`; more is refused, not read).
pub const MAX_ROWS: usize = 1_000_000;
/// How old an earlier result of the same query Athena may reuse instead of scanning again.
pub const REUSE_MINUTES: i32 = 60;

/// One query's answer.
#[derive(Debug, Default)]
pub struct Answer {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows; a NULL is `None`.
    pub rows: Vec<Vec<Option<String>>>,
    /// `DataScannedInBytes`.
    pub scanned: u64,
    /// Athena reused an earlier result.
    pub reused: bool,
}

impl Answer {
    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Result<usize, SourceError> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::Data,
                format!("Athena's answer has no column {name:?}"),
            )
        })
    }
}

pub(super) struct AthenaClient {
    client: aws_sdk_athena::Client,
    settings: AthenaSettings,
    sdk: aws_config::SdkConfig,
}

fn athena_failure<E>(
    op: &str,
    e: &aws_sdk_athena::error::SdkError<E, aws_sdk_athena::config::http::HttpResponse>,
) -> SourceError
where
    E: aws_sdk_athena::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    aws::failure(op, e)
}

impl AthenaClient {
    /// Builds the client (no call yet): Athena at the source's endpoint, S3 through the
    /// default chain (`AWS_ENDPOINT_URL_S3` honoured).
    pub async fn connect(settings: &AthenaSettings) -> Self {
        let shared = AwsSettings {
            endpoint_url: None,
            ..settings.aws.clone()
        };
        let sdk = aws::sdk_config(&shared).await;
        let mut conf = aws_sdk_athena::config::Builder::from(&sdk);
        if let Some(url) = &settings.aws.endpoint_url {
            conf = conf.endpoint_url(url);
        }
        Self {
            client: aws_sdk_athena::Client::from_conf(conf.build()),
            settings: settings.clone(),
            sdk,
        }
    }

    /// An S3 client for the table's objects (cost estimates).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        // A stand-in S3 (an endpoint named by AWS_ENDPOINT_URL_S3) is addressed path-style.
        let path_style = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(path_style)
                .build(),
        )
    }

    /// The table's `location` (`s3://bucket/prefix/`), from the catalog.
    pub async fn table_location(&self) -> Result<String, SourceError> {
        let s = &self.settings;
        let out = self
            .client
            .get_table_metadata()
            .catalog_name("AwsDataCatalog")
            .database_name(&s.database)
            .table_name(&s.table)
            .set_work_group(s.workgroup.clone())
            .send()
            .await
            .map_err(|e| athena_failure("GetTableMetadata", &e))?;
        out.table_metadata()
            .and_then(|t| t.parameters())
            .and_then(|p| p.get("location"))
            .cloned()
            .ok_or_else(|| {
                SourceError::new(
                    SourceErrorKind::NotFound,
                    format!(
                        "table {}.{} has no location: create it with `ddesk athena ddl`",
                        s.database, s.table
                    ),
                )
            })
    }

    /// Runs one query to its end; `Ok(None)` when the sync was cancelled (the query stopped).
    pub async fn run(
        &self,
        sql: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<Answer>, SourceError> {
        let s = &self.settings;
        // One token per start: a start the SDK retries carries the same token (and is the same
        // query); the next screen is a new execution, which Athena may answer from its reuse.
        static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut h = Sha256::new();
        h.update(sql.as_bytes());
        h.update(s.output.as_bytes());
        h.update(std::process::id().to_le_bytes());
        h.update(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                .to_le_bytes(),
        );
        h.update(
            STARTS
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_le_bytes(),
        );
        let token = format!("{:x}", h.finalize());
        // Athena reuses a result of the same text up to an hour old where the workgroup allows
        // it; a workgroup that refuses the setting (engine 2) runs the query without it.
        let started = match self.start(sql, &token[..64], true).await {
            Err(e) if e.code() == Some("InvalidRequestException") => {
                self.start(sql, &token[..64], false).await
            }
            other => other,
        }
        .map_err(|e| athena_failure("StartQueryExecution", &e))?;
        let id = started.query_execution_id().unwrap_or_default().to_string();
        let deadline = tokio::time::Instant::now() + QUERY_TIMEOUT;
        let mut wait = Duration::from_millis(100);
        let (scanned, reused) = loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => {
                    self.stop(&id).await;
                    return Ok(None);
                }
            }
            wait = (wait * 2).min(Duration::from_secs(2));
            let q = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| athena_failure("GetQueryExecution", &e))?;
            let q = q.query_execution();
            let status = q.and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => {
                    let stats = q.and_then(|q| q.statistics());
                    break (
                        stats
                            .and_then(|s| s.data_scanned_in_bytes())
                            .unwrap_or(0)
                            .max(0) as u64,
                        stats
                            .and_then(|s| s.result_reuse_information())
                            .is_some_and(|r| r.reused_previous_result()),
                    );
                }
                Some(QueryExecutionState::Failed) => {
                    let why = status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given");
                    return Err(SourceError::new(
                        SourceErrorKind::Service,
                        format!("Athena query {id} failed: {why}"),
                    ));
                }
                Some(QueryExecutionState::Cancelled) => {
                    return Err(SourceError::new(
                        SourceErrorKind::Service,
                        format!("Athena query {id} was cancelled outside this sync"),
                    ));
                }
                _ if tokio::time::Instant::now() > deadline => {
                    self.stop(&id).await;
                    return Err(SourceError::new(
                        SourceErrorKind::Stuck,
                        format!(
                            "Athena query {id} ran past {} minutes and was stopped",
                            QUERY_TIMEOUT.as_secs() / 60
                        ),
                    ));
                }
                _ => {}
            }
        };
        let mut answer = self.results(&id).await?;
        answer.scanned = scanned;
        answer.reused = reused;
        Ok(Some(answer))
    }

    async fn start(
        &self,
        sql: &str,
        token: &str,
        reuse: bool,
    ) -> Result<
        aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput,
        aws_sdk_athena::error::SdkError<
            aws_sdk_athena::operation::start_query_execution::StartQueryExecutionError,
            aws_sdk_athena::config::http::HttpResponse,
        >,
    > {
        let s = &self.settings;
        self.client
            .start_query_execution()
            .query_string(sql)
            .client_request_token(token)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&s.database)
                    .build(),
            )
            .result_configuration(
                ResultConfiguration::builder()
                    .output_location(&s.output)
                    .build(),
            )
            .set_result_reuse_configuration(reuse.then(|| {
                ResultReuseConfiguration::builder()
                    .result_reuse_by_age_configuration(
                        ResultReuseByAgeConfiguration::builder()
                            .enabled(true)
                            .max_age_in_minutes(REUSE_MINUTES)
                            .build(),
                    )
                    .build()
            }))
            .set_work_group(s.workgroup.clone())
            .send()
            .await
    }

    async fn stop(&self, id: &str) {
        if let Err(e) = self
            .client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
        {
            tracing::warn!(query = id, error = %athena_failure("StopQueryExecution", &e), "stopping the query failed");
        }
    }

    /// Every page of a finished query's results.
    async fn results(&self, id: &str) -> Result<Answer, SourceError> {
        let mut answer = Answer::default();
        let mut token: Option<String> = None;
        let mut first = true;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| athena_failure("GetQueryResults", &e))?;
            if let Some(set) = page.result_set() {
                if first {
                    answer.columns = set
                        .result_set_metadata()
                        .map(|m| {
                            m.column_info()
                                .iter()
                                .map(|c| c.name().to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                }
                let mut rows = set.rows().iter();
                if first && !answer.columns.is_empty() {
                    // The header row of a SELECT.
                    rows.next();
                }
                for row in rows {
                    answer.rows.push(
                        row.data()
                            .iter()
                            .map(|d| d.var_char_value().map(str::to_string))
                            .collect(),
                    );
                }
                if answer.rows.len() > MAX_ROWS {
                    return Err(SourceError::new(
                        SourceErrorKind::Data,
                        format!("Athena query {id} returned more than {MAX_ROWS} rows"),
                    ));
                }
            }
            first = false;
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(answer),
            }
        }
    }
}
