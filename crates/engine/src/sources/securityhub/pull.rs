//! Pulling Device Defender's findings from Security Hub: GetFindings filtered to the two
//! products, sorted by `UpdatedAt`, from the watermark; each page read by the ASFF parser and
//! written with a watermark at the page's newest `UpdatedAt` — never ahead of its data.

use std::sync::atomic::Ordering;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, DateFilter, SortCriterion, SortOrder,
    StringFilter, StringFilterComparison,
};
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::SecurityHubSettings;
use crate::model::parse::Context;
use crate::model::DocKind;
use crate::sources::aws::{self, Pacer};
use crate::sources::contract::{add_stats, Health, HealthStatus, Pull, SourceSummary, SyncCtx};
use crate::sources::{AwsSettings, SourceError};
use crate::store::{Store, SyncMarks, Watermark};
use crate::time::{Millis, DAY, HOUR};

/// The watermark's stream.
pub const STREAM: &str = "securityhub-findings";
/// What one ProductArn of Device Defender's holds, in every region: `…::product/aws/iot-device-defender-detect`
/// and `…-audit` (an aggregator's findings carry their own region's ARN).
pub(super) const PRODUCTS: &str = "::product/aws/iot-device-defender-";
/// Security Hub keeps findings 90 days: a first sync reads them all.
pub(super) const RETENTION: Millis = 90 * DAY;
/// GetFindings' quota: 3 requests a second.
pub(super) const TPS: u32 = 3;
/// A page (the API's most).
const PAGE: i32 = 100;

pub(crate) struct HubPull(pub(crate) SecurityHubSettings);

impl Pull for HubPull {
    fn pull<'a>(&'a self, ctx: &'a mut SyncCtx<'_>) -> LocalBoxFuture<'a, Result<(), SourceError>> {
        Box::pin(pull(&self.0, ctx))
    }

    fn test(&self) -> LocalBoxFuture<'_, crate::Result<Health>> {
        Box::pin(async move {
            let client = client(&self.0.aws).await;
            Ok(
                match client
                    .get_findings()
                    .filters(filters(None, None))
                    .max_results(1)
                    .send()
                    .await
                {
                    Ok(out) => Health {
                        status: if out.findings().is_empty() {
                            HealthStatus::Warn
                        } else {
                            HealthStatus::Ok
                        },
                        message: if out.findings().is_empty() {
                            "Security Hub answers, but holds no Device Defender finding".into()
                        } else {
                            "Security Hub answers and holds Device Defender findings".into()
                        },
                        hint: out.findings().is_empty().then(|| {
                            "accept Device Defender's findings on Security Hub's Integrations page (Audit, Detect or both)".to_string()
                        }),
                        kind: None,
                    },
                    Err(e) => {
                        let e = aws::failure("GetFindings", &e);
                        Health {
                            status: HealthStatus::Error,
                            hint: Some(
                                "check the region (the aggregation region for an aggregator) and that the identity may securityhub:GetFindings".into(),
                            ),
                            kind: Some(e.kind),
                            message: e.message,
                        }
                    }
                },
            )
        })
    }

    fn drill_down<'a>(
        &'a self,
        _store: &'a mut Store,
        _thing: &'a str,
        _scope: &'a crate::model::scope::Scope,
        _summary: &'a mut SourceSummary,
        _cancel: &'a tokio_util::sync::CancellationToken,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(async {
            Err(crate::Error::InvalidInput(
                "a Security Hub source holds findings, not a thing's series: its sync already reads every finding".into(),
            ))
        })
    }
}

async fn client(settings: &AwsSettings) -> aws_sdk_securityhub::Client {
    let sdk = aws::sdk_config(settings).await;
    aws_sdk_securityhub::Client::new(&sdk)
}

/// Device Defender's two products, updated in `[from, to]` when given.
fn filters(from: Option<Millis>, to: Option<Millis>) -> AwsSecurityFindingFilters {
    let mut f = AwsSecurityFindingFilters::builder().product_arn(
        StringFilter::builder()
            .comparison(StringFilterComparison::Contains)
            .value(PRODUCTS)
            .build(),
    );
    if from.is_some() || to.is_some() {
        let mut d = DateFilter::builder();
        if let Some(t) = from {
            d = d.start(crate::time::to_rfc3339(t));
        }
        if let Some(t) = to {
            d = d.end(crate::time::to_rfc3339(t));
        }
        f = f.updated_at(d.build());
    }
    f.build()
}

/// The members of a finding the ASFF parser reads, as ASFF: the SDK's types have no serde,
/// and one reading of the format (the parser's) serves files and this source alike.
fn asff(f: &AwsSecurityFinding) -> Value {
    let resources: Vec<Value> = f
        .resources()
        .iter()
        .map(|r| {
            json!({
                "Type": r.r#type(),
                "Id": r.id(),
                "Details": {"Other": r.details().and_then(|d| d.other()).cloned().unwrap_or_default()},
            })
        })
        .collect();
    json!({
        "SchemaVersion": f.schema_version(),
        "Id": f.id(),
        "ProductArn": f.product_arn(),
        "GeneratorId": f.generator_id(),
        "AwsAccountId": f.aws_account_id(),
        "Region": f.region(),
        "CreatedAt": f.created_at(),
        "UpdatedAt": f.updated_at(),
        "Severity": {"Label": f.severity().and_then(|s| s.label()).map(|l| l.as_str())},
        "Title": f.title(),
        "Description": f.description(),
        "ProductFields": f.product_fields().cloned().unwrap_or_default(),
        "Resources": resources,
        "RecordState": f.record_state().map(|s| s.as_str()),
        "Workflow": {"Status": f.workflow().and_then(|w| w.status()).map(|s| s.as_str())},
    })
}

/// The findings, then colleagues' changes to the cache's findings ([`super::readback`]: the
/// findings as the cache held them before this sync; one it brings is read back from the next).
async fn pull(settings: &SecurityHubSettings, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    let client = client(&settings.aws).await;
    let pacer = Pacer::default();
    pull_findings(&client, &pacer, ctx).await?;
    super::readback::read_back(&client, &pacer, ctx).await
}

/// Every finding updated since the watermark (less nothing: the start is inclusive and
/// rewriting a finding is idempotent), or since `--from`, or the last 90 days.
async fn pull_findings(
    client: &aws_sdk_securityhub::Client,
    pacer: &Pacer,
    ctx: &mut SyncCtx<'_>,
) -> Result<(), SourceError> {
    let to = ctx.to;
    let start = ctx
        .from
        .or(ctx.resume.hub_findings)
        .unwrap_or(to - RETENTION)
        .max(to - RETENTION - HOUR);
    let mut token: Option<String> = None;
    let parse_ctx = Context::now();
    loop {
        if ctx.cancel.is_cancelled() {
            return Ok(());
        }
        pacer.wait("GetFindings", TPS).await;
        let out = client
            .get_findings()
            .filters(filters(Some(start), Some(to)))
            .sort_criteria(
                SortCriterion::builder()
                    .field("UpdatedAt")
                    .sort_order(SortOrder::Ascending)
                    .build(),
            )
            .max_results(PAGE)
            .set_next_token(token.clone())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                // Later pages would leave a hole behind the watermark: stop here.
                ctx.fail("GetFindings", aws::failure("GetFindings", &e));
                return Ok(());
            }
        };
        ctx.summary.list_calls += 1;
        let page: Vec<Value> = out.findings().iter().map(asff).collect();
        let newest = out
            .findings()
            .iter()
            .filter_map(|f| f.updated_at())
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
            .max();
        // The page's watermark, written with what it read (or, when nothing of it could be
        // read, alone: reading it again would not help).
        let marks = SyncMarks {
            watermarks: newest
                .map(|n| Watermark {
                    source: ctx.name.to_string(),
                    stream: STREAM.into(),
                    from: start,
                    to: n.min(to),
                })
                .into_iter()
                .collect(),
            ..SyncMarks::default()
        };
        let bytes = serde_json::to_vec(&json!({ "Findings": page })).expect("json");
        match crate::model::parse::parse_bytes(&bytes, &parse_ctx) {
            Ok(batch) => {
                ctx.summary.skipped += batch
                    .documents
                    .get(&DocKind::OtherProductFinding)
                    .copied()
                    .unwrap_or(0);
                let found = batch
                    .documents
                    .get(&DocKind::SecurityHubFinding)
                    .copied()
                    .unwrap_or(0);
                ctx.summary.events += found;
                ctx.meter.events.fetch_add(found, Ordering::Relaxed);
                ctx.summary.skipped += batch.bad_records_total;
                for e in batch.bad_records.iter().take(20) {
                    ctx.summary.warnings.push(format!("a finding refused: {e}"));
                }
                let stats = ctx.sink.write(vec![batch], marks).await?;
                add_stats(&mut ctx.summary, &stats);
            }
            Err(e) => {
                // No finding of the page could be read (each was refused): reading it again
                // would not help, so it is named and passed.
                ctx.summary.skipped += page.len() as u64;
                ctx.summary
                    .warnings
                    .push(format!("a page of {} findings refused: {e}", page.len()));
                ctx.sink.write(Vec::new(), marks).await?;
            }
        }
        ctx.meter.report();
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}
