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
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub newest: Option<Millis>,
    /// The last sync's end, per source.
    #[serde(serialize_with = "crate::time::instant_opt")]
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
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_sync: Option<Millis>,
    /// Whether that sync succeeded.
    pub last_ok: Option<bool>,
    /// Its errors, said plainly.
    pub last_errors: Vec<String>,
    /// The account of the things it brings, `null` when unknown.
    pub account: Option<String>,
    /// Their region, `null` when unknown.
    pub region: Option<String>,
    /// `stated` (by the analyst) or `learned` (STS), when the account is known.
    pub account_from: Option<String>,
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
    /// The account of the things it brings (12 digits), when the analyst states it: an S3
    /// bucket's or Splunk index's devices; a Device Defender API source learns its own.
    #[serde(default)]
    #[ts(optional)]
    pub account: Option<String>,
    /// Their region, with the account.
    #[serde(default)]
    #[ts(optional)]
    pub region: Option<String>,
}

impl std::fmt::Debug for SourceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInput")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("account", &self.account)
            .field("region", &self.region)
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
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub since: Millis,
    /// What it was compared with.
    pub source: crate::analysis::triage::ReasonSource,
}

/// One row of the fleet triage (the screen and `ddesk triage`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct FleetRow {
    /// The thing: `thing` (the name: untrusted, render as text), `account`, `region`, `key`.
    #[serde(flatten)]
    #[ts(flatten)]
    pub id: crate::model::scope::Thing,
    /// Risk score.
    pub score: f64,
    /// Reasons.
    pub reasons: Vec<ReasonView>,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// Violations in alarm.
    pub open_violations: u32,
    /// Newest report.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub last_report: Option<Millis>,
    /// Where its investigation stands (`new` when never set).
    pub case_state: CaseState,
    /// Who owns the investigation.
    pub case_owner: Option<String>,
    /// Why its score was lowered (resolved benign, no new evidence since), in one line.
    pub down_ranked: Option<String>,
    /// Whether the thing is quarantined (by an action logged here). Last: `ddesk triage`'s
    /// columns before it are a contract in their order.
    pub quarantined: bool,
}

/// The fleet triage.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Fleet {
    /// Where the data comes from.
    pub status: Status,
    /// Things, riskiest first.
    pub rows: Vec<FleetRow>,
    /// End of the baseline window.
    #[serde(serialize_with = "crate::time::instant_opt")]
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
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub hover_from: Millis,
    /// End of the last hover column.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub hover_to: Millis,
    /// Threshold lines.
    pub thresholds: Vec<String>,
    /// Violation bands in the window.
    pub bands: u32,
    /// Event charts (lifecycle connects and disconnects): the interval each bar counts events
    /// over, ms (a duration: a number everywhere); `points` is then the number of events.
    #[ts(as = "Option<crate::ts::Millis>")]
    pub per: Option<Millis>,
    /// Up to this instant the window's days are compacted: the chart shows hourly means there,
    /// not reports (`null`: every point is a report).
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub compacted_until: Option<Millis>,
}

/// A member of a set metric, with when it appeared and went away.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftRow {
    /// Metric.
    pub metric: String,
    /// Member (port, CIDR, string), as text.
    pub value: String,
    /// Appeared.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub opened: Millis,
    /// Went away.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub closed: Option<Millis>,
    /// An attack-surface port.
    pub attack_surface: bool,
    /// In the expected set (from behaviors or the thing's baseline).
    pub expected: bool,
}

/// A member of a set metric as the device sent it: a port or number as a JSON number, a CIDR
/// or string as a JSON string (the only two shapes [`Member::new`] keeps).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(transparent)]
#[ts(type = "number | string")]
pub struct Member(serde_json::Value);

impl Member {
    /// A member from a set's JSON element; anything but a number or string becomes its text.
    pub fn new(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Number(_) | serde_json::Value::String(_) => Self(v),
            other => Self(serde_json::Value::String(other.to_string())),
        }
    }

    /// As text (`23`, `10.0.0.0/8`).
    pub fn text(&self) -> String {
        match &self.0 {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A member compared between two instants: the page's start-vs-end diff and
/// `ddesk drift --at A --vs B` (whose columns are the first three, in order).
#[derive(Debug, Clone, Serialize, TS)]
pub struct DiffView {
    /// Member.
    pub value: Member,
    /// Added, removed or unchanged.
    pub change: Change,
    /// An attack-surface port.
    pub attack_surface: bool,
    /// Metric.
    pub metric: String,
}

/// One entry of a thing's timeline: its page and `ddesk timeline`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineRow {
    /// When.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub t: Millis,
    /// What it is.
    pub kind: EntryKind,
    /// What happened.
    pub what: String,
    /// Record id.
    pub id: String,
}

/// A Detect violation: a thing's page lists them, `ddesk violations` prints them (its columns
/// are the fields before `categories`, in order).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ViolationView {
    /// Violation id.
    pub violation_id: String,
    /// Thing in violation: `thing`, `account`, `region`, `key`.
    #[serde(flatten)]
    #[ts(flatten)]
    pub id: crate::model::scope::Thing,
    /// Security profile.
    pub security_profile: String,
    /// Behavior.
    pub behavior: String,
    /// Metric.
    pub metric: Option<String>,
    /// Start.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub started: Option<Millis>,
    /// End.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub ended: Option<Millis>,
    /// Latest event type.
    pub last_event: Option<String>,
    /// The value that last violated, as AWS sent it (`{"count": 5}`, `{"ports": [23]}`, …).
    #[ts(type = "unknown")]
    pub last_value: Option<serde_json::Value>,
    /// The analyst's verification state (newest sighting).
    pub verification_state: Option<crate::model::VerificationState>,
    /// The analyst's note on it.
    pub verification_description: Option<String>,
    /// ML Detect's confidence level.
    pub confidence: Option<crate::model::Confidence>,
    /// Attack categories.
    pub categories: Vec<Category>,
}

/// What to show of a thing.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ThingRequest {
    /// Thing name.
    pub thing: String,
    /// Window start (default: 7 days before `to`).
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub from: Option<Millis>,
    /// Window end (default: the thing's newest report).
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub to: Option<Millis>,
    /// Chart look.
    pub look: Look,
}

/// A thing's page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ThingPage {
    /// The thing: `thing` (its name), `account`, `region`, and `key` (what the page's further
    /// calls name it by).
    #[serde(flatten)]
    #[ts(flatten)]
    pub id: crate::model::scope::Thing,
    /// Window start.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub from: Millis,
    /// Window end.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub to: Millis,
    /// Newest report.
    #[serde(serialize_with = "crate::time::instant_opt")]
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
    /// The Security Hub findings its violations came through (what *Push to Security Hub*
    /// updates; none: nothing to push).
    #[ts(as = "crate::ts::Count")]
    pub hub_findings: u64,
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
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub from: Millis,
    /// Window end.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub to: Millis,
    /// Look.
    pub look: Look,
}

/// The Audit screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditPage {
    /// Check history chart.
    pub chart: ChartView,
    /// Latest task id.
    pub latest_task: Option<String>,
    /// Its start.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub latest_start: Option<Millis>,
    /// Its checks.
    pub checks: Vec<crate::store::AuditRow>,
    /// Findings, newest first.
    pub findings: Vec<FindingRow>,
    /// The investigation state of every finding that has one.
    pub finding_states: Vec<FindingState>,
    /// Where the data comes from.
    pub status: Status,
}

/// One action: an intent of this cache's log with its outcome, or a colleague's — the Actions
/// screen's row and `ddesk actions`' record (its columns in this order).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ActionView {
    /// Sequence number of the intent (in the colleague's log for a colleague's action).
    #[ts(as = "crate::ts::Count")]
    pub seq: i64,
    /// When it was logged.
    #[serde(serialize_with = "crate::time::instant")]
    #[ts(as = "crate::ts::Millis")]
    pub at: Millis,
    /// The AWS caller.
    pub who: String,
    /// The OS user.
    pub os_user: String,
    /// Which action.
    pub action: crate::actions::ActionKind,
    /// The thing acted on (its name).
    pub thing: Option<String>,
    /// Its stored key (what opens its page: two accounts' things may share the name).
    pub thing_key: Option<String>,
    /// The analyst's reason.
    pub reason: String,
    /// The calls as shown before confirming (none known for a colleague's).
    pub calls: Vec<String>,
    /// The state before (what release restores).
    #[ts(type = "unknown")]
    pub prior: Option<crate::actions::Prior>,
    /// What it came to, as logged: `succeeded`, `failed …`, `unknown (…)`, `pending` without an
    /// outcome. Branch on `state`, never on this sentence.
    pub status: String,
    /// The same, typed: `{kind: pending|succeeded|failed|unknown, reconciled, why}`.
    pub state: crate::actions::OutcomeState,
    /// When the outcome was logged.
    #[serde(serialize_with = "crate::time::instant_opt")]
    #[ts(as = "Option<crate::ts::Millis>")]
    pub outcome_at: Option<Millis>,
    /// The outcome's steps, task result and what reconciling observed.
    pub outcome: Option<OutcomeDetail>,
    /// Against the simulated demo account.
    pub demo: bool,
    /// The intent's hash in the chain (empty for a colleague's).
    pub hash: String,
    /// A colleague's action, read back from the anchor.
    pub colleague: bool,
    /// The colleague's cache (its random id).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cache: Option<String>,
    /// A colleague's record: whether its anchored hash chain holds (checked when read). An
    /// unverified one is anyone's claim. Absent for this cache's own (`actions verify` checks
    /// the local chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub verified: Option<bool>,
}

/// What an action's outcome record holds besides its status, as logged (the log's JSON, read
/// back whole: it is evidence, shown as it was written).
#[derive(Debug, Clone, Serialize, TS)]
pub struct OutcomeDetail {
    /// Per call: request id or error.
    #[ts(type = "unknown")]
    pub steps: serde_json::Value,
    /// The mitigation task's result, when one ran.
    #[ts(type = "unknown")]
    pub task: serde_json::Value,
    /// What reconciling observed, when it did.
    #[ts(type = "unknown")]
    pub observed: serde_json::Value,
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
    /// Push a thing's or an audit finding's investigation (state and latest note) to the
    /// Security Hub findings it came through (BatchUpdateFindings).
    HubCase {
        /// Thing (its key or name), or
        thing: Option<String>,
        /// an audit finding id.
        finding: Option<String>,
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
