//! The TypeScript declarations of every type that crosses to the UI, as one file
//! (`ui/src/bindings.ts`; a test keeps it in step with the Rust types).

use super::*;
use crate::sync::{SourceSummary, SyncEvent, SyncFailure};
use ts_rs::TS;

/// The contents of `ui/src/bindings.ts`.
pub fn typescript() -> String {
    let decls = [
        crate::ts::Millis::decl(),
        crate::ts::Count::decl(),
        Category::decl(),
        Geometry::decl(),
        charts::GeometryKind::decl(),
        DeskError::decl(),
        ErrorKind::decl(),
        Status::decl(),
        HistoryView::decl(),
        Mode::decl(),
        DemoAccount::decl(),
        SourceKind::decl(),
        SourceView::decl(),
        crate::sources::AwsSettings::decl(),
        crate::model::Carried::decl(),
        crate::sources::S3Settings::decl(),
        crate::sources::SplunkSettings::decl(),
        crate::sources::athena::Layout::decl(),
        crate::sources::AthenaSettings::decl(),
        crate::sources::SecurityHubSettings::decl(),
        crate::sources::DefenderSettings::decl(),
        crate::sources::SourceSettings::decl(),
        SourceInput::decl(),
        crate::analysis::triage::ReasonSource::decl(),
        ReasonView::decl(),
        FleetRow::decl(),
        Fleet::decl(),
        Look::decl(),
        Theme::decl(),
        ChartView::decl(),
        DriftRow::decl(),
        Member::decl(),
        DiffView::decl(),
        Change::decl(),
        TimelineRow::decl(),
        EntryKind::decl(),
        ViolationView::decl(),
        ThingRequest::decl(),
        ThingPage::decl(),
        ChartRequest::decl(),
        crate::model::Resource::decl(),
        crate::model::Severity::decl(),
        crate::model::VerificationState::decl(),
        crate::model::Confidence::decl(),
        FindingRow::decl(),
        crate::store::AuditRow::decl(),
        AuditPage::decl(),
        crate::actions::OutcomeKind::decl(),
        crate::actions::OutcomeState::decl(),
        crate::actions::ActionKind::decl(),
        OutcomeDetail::decl(),
        ActionView::decl(),
        ActionRequest::decl(),
        MitigationFor::decl(),
        crate::actions::Target::decl(),
        PlanView::decl(),
        OutcomeView::decl(),
        Saved::decl(),
        crate::watch::ChangeKind::decl(),
        crate::watch::Change::decl(),
        WatchView::decl(),
        NotifyFilter::decl(),
        SourceWatchView::decl(),
        WatchTick::decl(),
        links::LinkTarget::decl(),
        CaseState::decl(),
        Case::decl(),
        crate::cases::Note::decl(),
        crate::cases::CaseOrigin::decl(),
        crate::cases::StateChange::decl(),
        CaseRequest::decl(),
        NoteRequest::decl(),
        FindingCaseRequest::decl(),
        FindingNoteRequest::decl(),
        FindingState::decl(),
        query::Verification::decl(),
        SyncEvent::decl(),
        crate::sync::HealthStatus::decl(),
        crate::sync::Health::decl(),
        crate::sources::SourceErrorKind::decl(),
        SyncFailure::decl(),
        SourceSummary::decl(),
        crate::sources::athena::Estimate::decl(),
        SyncSummary::decl(),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by ts-rs (desk_engine::app::bindings); do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p desk-engine --test it bindings\n\
         // 64-bit integers are JSON numbers on the wire, named for what they hold (desk_engine::ts).\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    // The closed sets' members as values, in the service model's order (the filters list them).
    let words = |name: &str, ty: &str, words: &[&str]| {
        let list: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
        format!(
            "export const {name}: readonly {ty}[] = [{}];\n\n",
            list.join(", ")
        )
    };
    out.push_str(&words(
        "SEVERITIES",
        "Severity",
        crate::model::Severity::WORDS,
    ));
    out.push_str(&words(
        "VERIFICATION_STATES",
        "VerificationState",
        crate::model::VerificationState::WORDS,
    ));
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
