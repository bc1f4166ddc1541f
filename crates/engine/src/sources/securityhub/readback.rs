//! The read-back: colleagues' changes made in Security Hub come into the case history.
//!
//! BatchUpdateFindings leaves a finding's `UpdatedAt` alone, so the incremental pull never sees
//! an analyst's workflow change or note. After it, each sync reads the hub's *worked* Device
//! Defender findings (`Workflow.Status` not NEW) and those noted in the last 90 days, compares
//! them with what it last saw of each finding the cache holds, and reads the history
//! (GetFindingHistory) of those that moved, from where it last read. Each
//! `BATCH_UPDATE_FINDINGS` record becomes a case event of the finding's thing (a violation's)
//! or audit finding, attributed to who made it and marked `security-hub`: a `Workflow.Status`
//! change a state (NEW → new, NOTIFIED → investigating, RESOLVED and SUPPRESSED → benign), a
//! `Note.Text` a note (by the note's `UpdatedBy`). This cache's own pushes are passed over (the
//! same value, recorded within [`OWN_PUSH_SKEW`] of when it pushed).

use std::collections::HashMap;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, DateFilter,
    FindingHistoryRecord, FindingHistoryUpdateSourceType, StringFilter, StringFilterComparison,
};
use aws_sdk_securityhub::Client;

use super::pull::{PRODUCTS, RETENTION, TPS};
use crate::sources::aws::{self, Pacer};
use crate::sources::contract::SyncCtx;
use crate::sources::SourceError;
use crate::store::{HubCaseEvent, HubReadBack, HubSeen, HubSeenMark, SyncMarks};
use crate::time::Millis;

/// How far apart this cache's clock and Security Hub's may be for a history record to be
/// taken as this cache's own push (with the same value). Assumes clocks kept by NTP.
pub const OWN_PUSH_SKEW: Millis = 5 * 60_000;
/// History pages read for one finding in one sync (100 records each).
const HISTORY_PAGES: usize = 20;
/// Longest identity kept, in characters (an assumed role's ARN with its session name).
const MAX_WHO: usize = 256;

/// The case state a `Workflow.Status` stands for.
fn state_of(workflow: &str) -> Option<&'static str> {
    match workflow {
        "NEW" => Some("new"),
        "NOTIFIED" => Some("investigating"),
        "RESOLVED" | "SUPPRESSED" => Some("benign"),
        _ => None,
    }
}

fn millis(t: &aws_sdk_securityhub::primitives::DateTime) -> Option<Millis> {
    t.to_millis().ok()
}

/// Reads back colleagues' changes into the case history (see the module's notes). A failure
/// is listed and changes nothing: the next sync reads the same again.
pub(super) async fn read_back(
    client: &Client,
    pacer: &Pacer,
    ctx: &mut SyncCtx<'_>,
) -> Result<(), SourceError> {
    let cached: Vec<&HubSeen> = ctx
        .resume
        .hub_seen
        .iter()
        .filter(|s| s.subject.is_some())
        .collect();
    if cached.is_empty() || ctx.cancel.is_cancelled() {
        return Ok(());
    }
    let worked = product_filter()
        .workflow_status(equals("NOTIFIED"))
        .workflow_status(equals("RESOLVED"))
        .workflow_status(equals("SUPPRESSED"))
        .build();
    let noted = product_filter()
        .note_updated_at(
            DateFilter::builder()
                .start(crate::time::to_rfc3339(ctx.to - RETENTION))
                .end(crate::time::to_rfc3339(ctx.to))
                .build(),
        )
        .build();
    let mut now: HashMap<(String, String), (String, Option<Millis>)> = HashMap::new();
    for filters in [worked, noted] {
        let Some(found) = list(client, pacer, filters, ctx).await else {
            return Ok(());
        };
        for f in found {
            let (Some(arn), Some(id)) = (f.product_arn(), f.id()) else {
                continue;
            };
            let workflow = f
                .workflow()
                .and_then(|w| w.status())
                .map_or("NEW", |s| s.as_str())
                .to_string();
            let note_at = f
                .note()
                .and_then(|n| n.updated_at())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis());
            now.insert((arn.to_string(), id.to_string()), (workflow, note_at));
        }
    }
    let mut back = HubReadBack::default();
    for s in cached {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let (workflow, note_at) = now
            .get(&(s.product_arn.clone(), s.id.clone()))
            .cloned()
            .unwrap_or_else(|| ("NEW".to_string(), s.seen_note_at));
        if s.seen_workflow.as_deref().unwrap_or("NEW") == workflow && s.seen_note_at == note_at {
            continue;
        }
        let Some((events, newest)) = history(client, pacer, s, ctx).await else {
            continue;
        };
        back.events.extend(events);
        back.seen.push(HubSeenMark {
            product_arn: s.product_arn.clone(),
            id: s.id.clone(),
            workflow,
            note_at,
            history_to: newest,
        });
    }
    if back.seen.is_empty() {
        return Ok(());
    }
    ctx.summary.hub_changes += back.events.len() as u64;
    let marks = SyncMarks {
        hub: back,
        ..SyncMarks::default()
    };
    ctx.sink.write(Vec::new(), marks).await?;
    Ok(())
}

fn product_filter() -> aws_sdk_securityhub::types::builders::AwsSecurityFindingFiltersBuilder {
    AwsSecurityFindingFilters::builder().product_arn(
        StringFilter::builder()
            .comparison(StringFilterComparison::Contains)
            .value(PRODUCTS)
            .build(),
    )
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .comparison(StringFilterComparison::Equals)
        .value(value)
        .build()
}

/// Every finding `filters` match, paged within GetFindings' rate; `None` (listed) on a failure.
async fn list(
    client: &Client,
    pacer: &Pacer,
    filters: AwsSecurityFindingFilters,
    ctx: &mut SyncCtx<'_>,
) -> Option<Vec<AwsSecurityFinding>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        if ctx.cancel.is_cancelled() {
            return None;
        }
        pacer.wait("GetFindings", TPS).await;
        let page = client
            .get_findings()
            .filters(filters.clone())
            .max_results(100)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                ctx.fail("GetFindings (read-back)", aws::failure("GetFindings", &e));
                return None;
            }
        };
        ctx.summary.list_calls += 1;
        out.extend(page.findings().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Some(out),
        }
    }
}

/// The colleagues' changes in one finding's history since it was last read, and the newest
/// record's time; `None` (listed) on a failure.
async fn history(
    client: &Client,
    pacer: &Pacer,
    s: &HubSeen,
    ctx: &mut SyncCtx<'_>,
) -> Option<(Vec<HubCaseEvent>, Option<Millis>)> {
    let subject = s.subject.as_deref()?;
    let ident = AwsSecurityFindingIdentifier::builder()
        .id(&s.id)
        .product_arn(&s.product_arn)
        .build();
    let mut events = Vec::new();
    let mut newest = s.history_to;
    let mut token: Option<String> = None;
    for _ in 0..HISTORY_PAGES {
        pacer.wait("GetFindingHistory", TPS).await;
        let page = client
            .get_finding_history()
            .finding_identifier(ident.clone())
            .set_start_time(
                s.history_to
                    .map(aws_sdk_securityhub::primitives::DateTime::from_millis),
            )
            .max_results(100)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                ctx.fail(
                    &format!("GetFindingHistory {}", s.id),
                    aws::failure("GetFindingHistory", &e),
                );
                return None;
            }
        };
        ctx.summary.list_calls += 1;
        for r in page.records() {
            let Some(at) = r.update_time().and_then(millis) else {
                continue;
            };
            newest = Some(newest.map_or(at, |n| n.max(at)));
            events.extend(changes(r, at, subject, s));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Some((events, newest)),
        }
    }
    ctx.summary.warnings.push(format!(
        "the history of Security Hub finding {} is longer than {HISTORY_PAGES} pages: the rest is read on the next sync",
        s.id
    ));
    Some((events, newest))
}

/// The case events of one history record: an analyst's (BatchUpdateFindings) state and note,
/// unless they are this cache's own push.
fn changes(r: &FindingHistoryRecord, at: Millis, subject: &str, s: &HubSeen) -> Vec<HubCaseEvent> {
    let source = r.update_source();
    if source.and_then(|u| u.r#type()) != Some(&FindingHistoryUpdateSourceType::BatchUpdateFindings)
    {
        return Vec::new();
    }
    let identity = source
        .and_then(|u| u.identity())
        .and_then(|i| crate::model::limits::foreign_text(i, MAX_WHO))
        .unwrap_or_else(|| "someone in Security Hub".into());
    let field = |name: &str| {
        r.updates()
            .iter()
            .find(|u| u.updated_field() == Some(name))
            .and_then(|u| u.new_value())
    };
    let own = |value: &str, pushed: Option<&str>| {
        pushed == Some(value) && s.pushed_at.is_some_and(|p| (p - at).abs() <= OWN_PUSH_SKEW)
    };
    let mut out = Vec::new();
    if let Some(w) = field("Workflow.Status") {
        if let (Some(state), false) = (state_of(w), own(w, s.pushed_workflow.as_deref())) {
            out.push(HubCaseEvent {
                subject: subject.to_string(),
                at,
                who: identity.clone(),
                state: Some(state.to_string()),
                note: None,
                origin_ref: format!("{subject}|{}|Workflow.Status|{w}", at / 1000),
            });
        }
    }
    if let Some(text) = field("Note.Text") {
        if let (Some(note), false) = (
            crate::model::limits::foreign_text(text, crate::model::limits::MAX_NOTE_CHARS),
            own(text, s.pushed_note.as_deref()),
        ) {
            let who = field("Note.UpdatedBy")
                .and_then(|w| crate::model::limits::foreign_text(w, MAX_WHO))
                .unwrap_or(identity);
            out.push(HubCaseEvent {
                subject: subject.to_string(),
                at,
                who,
                origin_ref: format!("{subject}|{}|Note.Text|{note}", at / 1000),
                state: None,
                note: Some(note),
            });
        }
    }
    out
}
