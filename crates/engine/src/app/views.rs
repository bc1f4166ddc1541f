//! The types that cross to the UI (exported to TypeScript by [`super::bindings`]) and that
//! `ddesk` prints: one struct per screen or request, closed sets as enums.

use super::*;

/// Which data the app shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The simulated demo fleet (no source configured, nothing synced).
    Demo,
    /// The analyst's cache.
    Live,
}

impl Mode {
    /// `demo` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::Live => "live",
        }
    }
}

/// Where the data on screen comes from.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Status {
    /// The demo fleet or the analyst's cache.
    pub mode: Mode,
    /// Which simulated account the demo shows (also in `live` mode: the one shown when the
    /// cache is empty again).
    pub demo_account: DemoAccount,
    /// The cache file shown.
    pub db: String,
    /// Configured sources (none in demo mode).
    pub sources: Vec<SourceView>,
    /// Things in the cache.
    pub things: u32,
    /// Datapoints in the cache.
    pub points: f64,
    /// Newest datapoint.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub newest: Option<Millis>,
    /// The last sync's end, per source.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_sync: Option<Millis>,
}

/// A configured source as the Sources screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceView {
    /// Name.
    pub name: String,
    /// What kind of source.
    pub kind: SourceKind,
    /// Where it points, in one line (bucket/prefix, URL/index, region/profile).
    pub target: String,
    /// Whether a secret is kept for it in the OS keychain (Splunk).
    pub has_secret: bool,
    /// Last sync end.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_sync: Option<Millis>,
    /// Whether that sync succeeded.
    pub last_ok: Option<bool>,
    /// Its errors, said plainly.
    pub last_errors: Vec<String>,
}

/// A source as the Add form sends it (its `Debug` leaves the token out): the name, the
/// kind's settings as its form fills them, and the secret when the kind keeps one.
#[derive(Clone, Deserialize, TS)]
pub struct SourceInput {
    /// Name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// The kind and its settings.
    pub settings: SourceSettings,
    /// Its secret (a Splunk token): straight to the OS keychain.
    pub token: Option<String>,
}

impl std::fmt::Debug for SourceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInput")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One reason a thing ranks where it does.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReasonView {
    /// For people.
    pub text: String,
    /// Metric.
    pub metric: String,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// Since when.
    #[ts(as = "crate::ts::Millis")]
    pub since: Millis,
    /// What it was compared with.
    pub source: crate::analysis::triage::ReasonSource,
}

/// One row of the fleet triage.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FleetRow {
    /// Thing name (untrusted: render as text).
    pub thing: String,
    /// Risk score.
    pub score: f64,
    /// Reasons.
    pub reasons: Vec<ReasonView>,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// Violations in alarm.
    pub open_violations: u32,
    /// Newest report.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_report: Option<Millis>,
    /// Whether the thing is quarantined (by an action logged here).
    pub quarantined: bool,
    /// Where its investigation stands (`new` when never set).
    pub case_state: CaseState,
    /// Who owns the investigation.
    pub case_owner: Option<String>,
    /// Why its score was lowered (resolved benign, no new evidence since), in one line.
    pub down_ranked: Option<String>,
}

/// The fleet triage.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Fleet {
    /// Where the data comes from.
    pub status: Status,
    /// Things, riskiest first.
    pub rows: Vec<FleetRow>,
    /// End of the baseline window.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub window_to: Option<Millis>,
}

/// How a chart should look.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct Look {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// `UTC` or an IANA zone.
    pub tz: String,
    /// Dark or light.
    pub theme: Theme,
    /// Device pixels per CSS pixel (the display's `devicePixelRatio`), 1 when absent: chart
    /// images are drawn at that density so they stay sharp on high-DPI screens.
    #[serde(default)]
    #[ts(optional)]
    pub scale: Option<f32>,
}

impl Look {
    pub(super) fn options(&self) -> Result<ChartOptions> {
        Ok(ChartOptions {
            width: self.width.clamp(120, 4000),
            height: self.height.clamp(80, 4000),
            zone: Zone::parse(&self.tz).map_err(Error::InvalidInput)?,
            theme: self.theme,
            scale: self.scale.unwrap_or(1.0),
        })
    }
}

/// A chart of one metric.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChartView {
    /// Metric.
    pub metric: String,
    /// Short label.
    pub label: String,
    /// The chart as a `data:image/png;base64,…` URL (shown as an image, never as markup),
    /// drawn at the request's scale: a bitmap, which WebKit decodes and paints far faster than
    /// an SVG image of the same chart.
    pub image: String,
    /// Logical width of the image, CSS pixels (the geometry's frame).
    pub width: u32,
    /// Logical height, CSS pixels.
    pub height: u32,
    /// Plot area and scales, for the crosshair and brush-zoom.
    pub geometry: Geometry,
    /// Datapoints in the window.
    pub points: u32,
    /// Hover values: `(min, max)` of each of `hover.len()` equal columns over
    /// `[hover_from, hover_to]` (4 significant digits; `null` where nothing was reported).
    pub hover: Vec<Option<(f32, f32)>>,
    /// Start of the first hover column.
    #[ts(as = "crate::ts::Millis")]
    pub hover_from: Millis,
    /// End of the last hover column.
    #[ts(as = "crate::ts::Millis")]
    pub hover_to: Millis,
    /// Threshold lines.
    pub thresholds: Vec<String>,
    /// Violation bands in the window.
    pub bands: u32,
    /// Event charts (lifecycle connects and disconnects): the interval each bar counts events
    /// over, ms; `points` is then the number of events.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub per: Option<Millis>,
}

/// A member of a set metric, with when it appeared and went away.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftRow {
    /// Metric.
    pub metric: String,
    /// Member (port, CIDR, string), as text.
    pub value: String,
    /// Appeared.
    #[ts(as = "crate::ts::Millis")]
    pub opened: Millis,
    /// Went away.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub closed: Option<Millis>,
    /// An attack-surface port.
    pub attack_surface: bool,
    /// In the expected set (from behaviors or the thing's baseline).
    pub expected: bool,
}

/// The port diff between the start and the end of the window.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DiffView {
    /// Metric.
    pub metric: String,
    /// Member.
    pub value: String,
    /// Added, removed or unchanged.
    pub change: Change,
    /// An attack-surface port.
    pub attack_surface: bool,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineRow {
    /// When.
    #[ts(as = "crate::ts::Millis")]
    pub t: Millis,
    /// What it is.
    pub kind: EntryKind,
    /// What happened.
    pub what: String,
    /// Record id.
    pub id: String,
}

/// A violation as a thing's page lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ViolationView {
    /// Violation id.
    pub violation_id: String,
    /// Behavior.
    pub behavior: String,
    /// Security profile.
    pub security_profile: String,
    /// Metric.
    pub metric: Option<String>,
    /// Start.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub started: Option<Millis>,
    /// End.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub ended: Option<Millis>,
    /// Latest event type.
    pub last_event: Option<String>,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// ML Detect's confidence level.
    pub confidence: Option<crate::model::Confidence>,
    /// The analyst's verification state (newest sighting).
    pub verification_state: Option<crate::model::VerificationState>,
    /// The analyst's note on it.
    pub verification_description: Option<String>,
}

/// What to show of a thing.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ThingRequest {
    /// Thing name.
    pub thing: String,
    /// Window start (default: 7 days before `to`).
    #[ts(as = "Option<crate::ts::Millis>")]
    pub from: Option<Millis>,
    /// Window end (default: the thing's newest report).
    #[ts(as = "Option<crate::ts::Millis>")]
    pub to: Option<Millis>,
    /// Chart look.
    pub look: Look,
}

/// A thing's page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ThingPage {
    /// Thing name.
    pub thing: String,
    /// Window start.
    #[ts(as = "crate::ts::Millis")]
    pub from: Millis,
    /// Window end.
    #[ts(as = "crate::ts::Millis")]
    pub to: Millis,
    /// Newest report.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_report: Option<Millis>,
    /// Charts, in reading order.
    pub charts: Vec<ChartView>,
    /// Set-metric intervals.
    pub drift: Vec<DriftRow>,
    /// Start-vs-end diff of the set metrics.
    pub diff: Vec<DiffView>,
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineRow>,
    /// Violations.
    pub violations: Vec<ViolationView>,
    /// Thing groups known to the cache.
    pub groups: Vec<String>,
    /// Whether quarantined.
    pub quarantined: bool,
    /// Triage reasons for this thing.
    pub reasons: Vec<ReasonView>,
    /// Risk score.
    pub score: f64,
    /// Where the data comes from.
    pub status: Status,
    /// Its investigation: state, owner, notes.
    pub case: Case,
}

/// Sets a thing's investigation state (and owner).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct CaseRequest {
    /// Thing.
    pub thing: String,
    /// The state.
    pub state: CaseState,
    /// Owner; `null` keeps the current one.
    pub owner: Option<String>,
}

/// Adds a note to a thing's investigation.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct NoteRequest {
    /// Thing.
    pub thing: String,
    /// The note.
    pub text: String,
}

/// Sets an audit finding's investigation state.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct FindingCaseRequest {
    /// Finding id.
    pub finding: String,
    /// The state.
    pub state: CaseState,
    /// Owner; `null` keeps the current one.
    pub owner: Option<String>,
}

/// Adds a note to an audit finding's investigation.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct FindingNoteRequest {
    /// Finding id.
    pub finding: String,
    /// The note.
    pub text: String,
}

/// A finding's investigation state, as the Audit screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FindingState {
    /// Finding id.
    pub finding_id: String,
    /// Its state.
    pub state: CaseState,
    /// Its owner.
    pub owner: Option<String>,
}

/// One chart again (brush-zoom).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ChartRequest {
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Window start.
    #[ts(as = "crate::ts::Millis")]
    pub from: Millis,
    /// Window end.
    #[ts(as = "crate::ts::Millis")]
    pub to: Millis,
    /// Look.
    pub look: Look,
}

/// The latest audit task, per check.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CheckRow {
    /// Check.
    pub check: String,
    /// Status.
    pub status: String,
    /// Non-compliant.
    pub non_compliant: Option<f64>,
    /// Evaluated.
    pub total: Option<f64>,
    /// Suppressed.
    pub suppressed: Option<f64>,
    /// Why the check failed (`INSUFFICIENT_PERMISSIONS`, `AUDIT_CHECK_DISABLED`).
    pub error_code: Option<String>,
    /// The message that came with it.
    pub message: Option<String>,
}

/// The Audit screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditPage {
    /// Check history chart.
    pub chart: ChartView,
    /// Latest task id.
    pub latest_task: Option<String>,
    /// Its start.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub latest_start: Option<Millis>,
    /// Its checks.
    pub checks: Vec<CheckRow>,
    /// Findings, newest first.
    pub findings: Vec<FindingRow>,
    /// The investigation state of every finding that has one.
    pub finding_states: Vec<FindingState>,
    /// Where the data comes from.
    pub status: Status,
}

/// One action in the log.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ActionView {
    /// Sequence number of the intent.
    pub seq: f64,
    /// When.
    #[ts(as = "crate::ts::Millis")]
    pub at: Millis,
    /// AWS identity.
    pub who: String,
    /// OS user.
    pub os_user: String,
    /// Which action.
    pub action: crate::actions::ActionKind,
    /// Thing.
    pub thing: Option<String>,
    /// Why.
    pub reason: String,
    /// Calls.
    pub calls: Vec<String>,
    /// `succeeded`, `failed`, `pending`.
    pub status: String,
    /// When the outcome was logged.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub outcome_at: Option<Millis>,
    /// Demo account.
    pub demo: bool,
    /// Record hash.
    pub hash: String,
    /// What it came to, typed (`status` is the stored sentence): the UI branches on this.
    pub state: crate::actions::OutcomeState,
    /// Taken by a colleague (read back from the shared anchor), not logged here.
    pub colleague: bool,
    /// The colleague's cache id, for a colleague's action.
    pub cache: Option<String>,
    /// A colleague's action: whether its anchored hash chain holds (an unverified one is
    /// anyone's claim). Absent for this cache's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verified: Option<bool>,
}

/// What an analyst asks to do.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionRequest {
    /// Quarantine.
    Quarantine {
        /// Thing.
        thing: String,
        /// Group.
        group: String,
        /// Create it if missing.
        create_group: bool,
        /// Deactivate certificates too.
        deactivate_certificate: bool,
    },
    /// Release.
    Release {
        /// Thing.
        thing: String,
    },
    /// Mitigation action on a violation.
    MitigateViolation {
        /// Violation id.
        violation: String,
        /// Action name.
        name: String,
    },
    /// Mitigation action on a finding.
    MitigateFinding {
        /// Finding id.
        finding: String,
        /// Action name.
        name: String,
    },
    /// Push the analyst's verification state of a Detect violation to AWS.
    VerifyViolation {
        /// Violation id.
        violation: String,
        /// The verdict.
        state: crate::model::VerificationState,
        /// A note for AWS (at most 1,000 characters).
        description: Option<String>,
    },
}

/// A plan to confirm.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlanView {
    /// Handle to execute it with.
    pub id: String,
    /// Which action.
    pub action: crate::actions::ActionKind,
    /// Thing.
    pub thing: Option<String>,
    /// The exact calls.
    pub calls: Vec<String>,
    /// Pre-flight warnings.
    pub warnings: Vec<String>,
    /// The quarantine group does not exist yet: the analyst must choose to create it (with
    /// the deny-all policy) and plan again before it can run.
    pub needs_group: bool,
    /// Against the demo account.
    pub demo: bool,
    /// Minimum reason length.
    pub min_reason: u32,
    /// The account, region, source and caller it runs against (shown before confirming).
    pub target: Option<crate::actions::Target>,
}

/// What an action did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OutcomeView {
    /// The stored sentence: `succeeded`, `failed (…)`, `unknown (…)`.
    pub status: String,
    /// What it came to, typed: the UI branches on this, never on `status`.
    pub state: crate::actions::OutcomeState,
    /// Which action.
    pub action: crate::actions::ActionKind,
    /// Thing.
    pub thing: Option<String>,
    /// Per call: what happened.
    pub steps: Vec<String>,
    /// Log sequence number of the intent.
    pub intent: f64,
}

/// Where a file was saved.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Saved {
    /// Absolute path.
    pub path: String,
    /// Bytes written.
    pub bytes: f64,
}
