//! The desktop app's facade: one method per thing a screen asks for, each returning a
//! serializable view (types exported to TypeScript with ts-rs, see [`bindings`]).
//!
//! The Tauri shell holds one [`Desk`] and forwards each command to one method here, so the
//! shell has no logic, no SQL and no AWS calls of its own.
//!
//! Which cache: the analyst's cache (`cache.sqlite` in the OS data dir, or `DDESK_DB`) when it
//! holds data or a configured source; otherwise the demo fleet, kept in its own file next to it
//! (`<cache>.demo.sqlite`) so simulated data never mixes with real data.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

pub use crate::actions::MitigationFor;
use crate::actions::{self, Actor, Backend, MitigationTarget, Plan};
use crate::analysis::categories::{self, Category};
use crate::analysis::{audit, drift, export, timeline, triage, view};
use crate::charts::{self, ChartOptions, Geometry, Theme, Zone};
use crate::demo::{self, DemoOptions};
use crate::secrets::{Secret, SecretStore};
use crate::sources::{self, AwsSettings, Source, SourceSettings};
use crate::store::{outcome_of, ChainReport, FindingRow, LogRecord, Store};
use crate::sync::{self, Progress, SyncOptions, SyncSummary};
use crate::time::{self, Millis};
use crate::{Error, Result};

const DAY: Millis = 86_400_000;

/// The triage window the home screen opens with (the UI's default range).
pub const HOME_WINDOW: Millis = 7 * DAY;

/// How long a ranking computed ahead stays good to hand out.
pub const AHEAD_FRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// The order metrics appear in on a thing's page: what an analyst reads first.
const METRIC_ORDER: [&str; 18] = [
    "aws:all-bytes-out",
    "aws:all-packets-out",
    "aws:listening-tcp-ports",
    "aws:num-listening-tcp-ports",
    "aws:destination-ip-addresses",
    "aws:num-established-tcp-connections",
    "aws:num-authorization-failures",
    "aws:listening-udp-ports",
    "aws:num-listening-udp-ports",
    "aws:all-bytes-in",
    "aws:all-packets-in",
    "aws:message-byte-size",
    "aws:num-messages-sent",
    "aws:num-messages-received",
    "aws:num-connection-attempts",
    "aws:num-disconnects",
    "aws:disconnect-duration",
    "aws:source-ip-address",
];

/// The default data directory (`~/.local/share/defender-desk` and the like).
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("dev", "DefenderDesk", "defender-desk")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::InvalidInput("no home directory to keep the cache in".into()))
}

/// The default cache file.
pub fn default_cache() -> Result<PathBuf> {
    Ok(default_data_dir()?.join("cache.sqlite"))
}

/// Where the demo fleet of a cache lives.
pub fn demo_path(cache: &Path) -> PathBuf {
    let stem = cache
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("cache");
    cache.with_file_name(format!("{stem}.demo.sqlite"))
}

/// An error as it crosses to the UI: a kind to branch on and a message safe to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskError {
    /// `not_found`, `invalid_input`, `secrets`, `source`, `cancelled`, `io`, `store`, `parse`.
    pub kind: String,
    /// What went wrong, for people.
    pub message: String,
}

impl From<&Error> for DeskError {
    fn from(e: &Error) -> Self {
        let kind = match e {
            Error::Store(_) => "store",
            Error::Parse(_) => "parse",
            Error::NotFound(_) => "not_found",
            Error::InvalidInput(_) => "invalid_input",
            Error::Secrets(_) => "secrets",
            Error::Source(_) => "source",
            Error::Cancelled => "cancelled",
            Error::Io { .. } => "io",
        };
        Self {
            kind: kind.into(),
            message: e.to_string(),
        }
    }
}

/// Where the data on screen comes from.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Status {
    /// `demo` (the simulated fleet) or `live` (the analyst's cache).
    pub mode: String,
    /// The cache file shown.
    pub db: String,
    /// Configured sources (none in demo mode).
    pub sources: Vec<SourceView>,
    /// Things in the cache.
    pub things: u32,
    /// Datapoints in the cache.
    pub points: f64,
    /// Newest datapoint.
    pub newest: Option<Millis>,
    /// The last sync's end, per source.
    pub last_sync: Option<Millis>,
}

/// A configured source as the Sources screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceView {
    /// Name.
    pub name: String,
    /// `s3`, `splunk` or `defender`.
    pub kind: String,
    /// Where it points, in one line (bucket/prefix, URL/index, region/profile).
    pub target: String,
    /// Whether a secret is kept for it in the OS keychain (Splunk).
    pub has_secret: bool,
    /// Last sync end.
    pub last_sync: Option<Millis>,
    /// Whether that sync succeeded.
    pub last_ok: Option<bool>,
    /// Its errors, said plainly.
    pub last_errors: Vec<String>,
}

/// A source as the Add form sends it (its `Debug` leaves the token out).
#[derive(Clone, Deserialize, TS)]
pub struct SourceInput {
    /// Name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// `s3`, `splunk` or `defender`.
    pub kind: String,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// S3 prefix.
    pub prefix: Option<String>,
    /// Splunk management URL.
    pub url: Option<String>,
    /// Splunk index.
    pub index: Option<String>,
    /// Splunk token: straight to the OS keychain.
    pub token: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// AWS profile.
    pub profile: Option<String>,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
    /// Splunk: a PEM file of CA certificates to trust besides the system's (self-signed
    /// deployments), as `ddesk sources add splunk --ca-bundle`.
    #[serde(default)]
    #[ts(optional)]
    pub ca_bundle: Option<String>,
}

impl std::fmt::Debug for SourceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("url", &self.url)
            .field("index", &self.index)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("ca_bundle", &self.ca_bundle)
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
    pub since: Millis,
    /// `baseline`, `fleet`, `expected-set`, `violation`.
    pub source: String,
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
    pub last_report: Option<Millis>,
    /// Whether the thing is quarantined (by an action logged here).
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
    /// `dark` or `light`.
    pub theme: String,
    /// Device pixels per CSS pixel (the display's `devicePixelRatio`), 1 when absent: chart
    /// images are drawn at that density so they stay sharp on high-DPI screens.
    #[serde(default)]
    #[ts(optional)]
    pub scale: Option<f32>,
}

impl Look {
    fn options(&self) -> Result<ChartOptions> {
        Ok(ChartOptions {
            width: self.width.clamp(120, 4000),
            height: self.height.clamp(80, 4000),
            zone: Zone::parse(&self.tz).map_err(Error::InvalidInput)?,
            theme: if self.theme == "light" {
                Theme::Light
            } else {
                Theme::Dark
            },
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
    pub hover_from: Millis,
    /// End of the last hover column.
    pub hover_to: Millis,
    /// Threshold lines.
    pub thresholds: Vec<String>,
    /// Violation bands in the window.
    pub bands: u32,
}

/// A member of a set metric, with when it appeared and went away.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftRow {
    /// Metric.
    pub metric: String,
    /// Member (port, CIDR, string), as text.
    pub value: String,
    /// Appeared.
    pub opened: Millis,
    /// Went away.
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
    /// `added`, `removed`, `unchanged`.
    pub change: String,
    /// An attack-surface port.
    pub attack_surface: bool,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineRow {
    /// When.
    pub t: Millis,
    /// `violation`, `finding`, `action`.
    pub kind: String,
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
    pub started: Option<Millis>,
    /// End.
    pub ended: Option<Millis>,
    /// Latest event type.
    pub last_event: Option<String>,
    /// Attack categories.
    pub categories: Vec<Category>,
    /// ML Detect's confidence level (LOW, MEDIUM, HIGH).
    pub confidence: Option<String>,
    /// The analyst's verification state (newest sighting).
    pub verification_state: Option<String>,
    /// The analyst's note on it.
    pub verification_description: Option<String>,
}

/// What to show of a thing.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ThingRequest {
    /// Thing name.
    pub thing: String,
    /// Window start (default: 7 days before `to`).
    pub from: Option<Millis>,
    /// Window end (default: the thing's newest report).
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
    pub from: Millis,
    /// Window end.
    pub to: Millis,
    /// Newest report.
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
}

/// One chart again (brush-zoom).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ChartRequest {
    /// Thing.
    pub thing: String,
    /// Metric.
    pub metric: String,
    /// Window start.
    pub from: Millis,
    /// Window end.
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
    pub latest_start: Option<Millis>,
    /// Its checks.
    pub checks: Vec<CheckRow>,
    /// Findings, newest first.
    pub findings: Vec<FindingRow>,
    /// Where the data comes from.
    pub status: Status,
}

/// One action in the log.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ActionView {
    /// Sequence number of the intent.
    pub seq: f64,
    /// When.
    pub at: Millis,
    /// AWS identity.
    pub who: String,
    /// OS user.
    pub os_user: String,
    /// `quarantine`, `release`, `mitigate`.
    pub action: String,
    /// Thing.
    pub thing: Option<String>,
    /// Why.
    pub reason: String,
    /// Calls.
    pub calls: Vec<String>,
    /// `succeeded`, `failed`, `pending`.
    pub status: String,
    /// When the outcome was logged.
    pub outcome_at: Option<Millis>,
    /// Demo account.
    pub demo: bool,
    /// Record hash.
    pub hash: String,
    /// Taken by a colleague (read back from the shared anchor), not logged here.
    pub colleague: bool,
    /// The colleague's cache id, for a colleague's action.
    pub cache: Option<String>,
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
}

/// A plan to confirm.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlanView {
    /// Handle to execute it with.
    pub id: String,
    /// Action.
    pub action: String,
    /// Thing.
    pub thing: Option<String>,
    /// The exact calls.
    pub calls: Vec<String>,
    /// Pre-flight warnings.
    pub warnings: Vec<String>,
    /// Against the demo account.
    pub demo: bool,
    /// Minimum reason length.
    pub min_reason: u32,
    /// The account, region, source and caller it runs against (shown before confirming).
    pub target: Option<actions::Target>,
}

/// What an action did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OutcomeView {
    /// `succeeded` or `failed`.
    pub status: String,
    /// Action.
    pub action: String,
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

/// The app's session over a cache.
pub struct Desk {
    /// Network work (sync, tests, actions) runs here; every method blocks its caller, so the
    /// shell calls them off its UI thread.
    rt: tokio::runtime::Runtime,
    cache: PathBuf,
    exports: PathBuf,
    secrets: Arc<dyn SecretStore>,
    store: Mutex<Option<(PathBuf, Store)>>,
    plans: Mutex<HashMap<String, Plan>>,
    /// The last triage, per cache file: a thing's page shows its reasons without ranking the
    /// whole fleet again.
    last_fleet: Mutex<Option<Vec<FleetRow>>>,
    /// The home screen's ranking computed ahead ([`Desk::prefetch_fleet`]): its window, when,
    /// and the fleet, taken once by the first [`Desk::fleet`] call for the same window.
    ahead_fleet: Mutex<Option<(Millis, std::time::Instant, Fleet)>>,
    /// Where the shown data comes from, computed once per choice of cache.
    status: Mutex<Option<Status>>,
    sync_cancel: Mutex<Option<CancellationToken>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Desk {
    /// A desk over `cache` (created if missing); exports go to `exports`.
    pub fn new(cache: PathBuf, exports: PathBuf, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("desk-net")
            .enable_all()
            .build()
            .map_err(|e| Error::Io {
                path: "tokio runtime".into(),
                source: e,
            })?;
        Ok(Self {
            rt,
            cache,
            exports,
            secrets,
            store: Mutex::new(None),
            plans: Mutex::new(HashMap::new()),
            last_fleet: Mutex::new(None),
            ahead_fleet: Mutex::new(None),
            status: Mutex::new(None),
            sync_cancel: Mutex::new(None),
        })
    }

    /// Chooses the file to show again at the next call (sources or data changed).
    fn reset(&self) {
        *lock(&self.store) = None;
        *lock(&self.last_fleet) = None;
        *lock(&self.ahead_fleet) = None;
        *lock(&self.status) = None;
    }

    /// Which file to show: the cache when it has data or a source, else the demo fleet
    /// (loaded on first use).
    fn active(&self) -> Result<PathBuf> {
        if let Some(dir) = self.cache.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io {
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        let cache = Store::open(&self.cache)?;
        if !cache.sources()?.is_empty() || cache.point_count()? > 0 {
            return Ok(self.cache.clone());
        }
        let demo_file = demo_path(&self.cache);
        let mut demo_store = Store::open(&demo_file)?;
        if demo_store.meta("demo")?.as_deref() != Some("true") {
            if demo_store.point_count()? > 0 {
                // A load cut short (the flag is set last): start the demo file again.
                drop(demo_store);
                for f in [
                    demo_file.clone(),
                    demo_file.with_extension("sqlite-wal"),
                    demo_file.with_extension("sqlite-shm"),
                ] {
                    let _ = std::fs::remove_file(f);
                }
                demo_store = Store::open(&demo_file)?;
            }
            let report = demo::load(&mut demo_store, &DemoOptions::default())?;
            if !report.rejected.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "the demo fleet did not load cleanly: {:?}",
                    report.rejected
                )));
            }
        }
        Ok(demo_file)
    }

    /// Runs `f` on the store being shown, chosen once and again after the sources change.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.store);
        if guard.is_none() {
            let path = self.active()?;
            *guard = Some((path.clone(), Store::open(&path)?));
            *lock(&self.last_fleet) = None;
            *lock(&self.ahead_fleet) = None;
            *lock(&self.status) = None;
        }
        let (_, store) = guard.as_mut().expect("opened above");
        f(store)
    }

    fn status_of(&self, store: &Store) -> Result<Status> {
        if let Some(s) = lock(&self.status).as_ref() {
            return Ok(s.clone());
        }
        let status = self.read_status(store)?;
        *lock(&self.status) = Some(status.clone());
        Ok(status)
    }

    fn read_status(&self, store: &Store) -> Result<Status> {
        let demo = store.meta("demo")?.as_deref() == Some("true");
        let things = store.things()?;
        let runs = store.sync_runs()?;
        let sources = if demo {
            Vec::new()
        } else {
            self.source_views(store)?
        };
        Ok(Status {
            mode: if demo { "demo" } else { "live" }.into(),
            db: if demo {
                demo_path(&self.cache)
            } else {
                self.cache.clone()
            }
            .display()
            .to_string(),
            sources,
            things: things.len() as u32,
            points: store.point_count()? as f64,
            newest: things.iter().filter_map(|t| t.last_report).max(),
            last_sync: runs.iter().map(|r| r.finished).max(),
        })
    }

    /// Where the data comes from and how fresh it is.
    pub fn status(&self) -> Result<Status> {
        self.with_store(|s| self.status_of(s))
    }

    /// The fleet ranked by risk over `window` (ms) ending at the newest datapoint.
    pub fn fleet(&self, window: Millis) -> Result<Fleet> {
        self.with_store(|store| {
            if let Some((w, at, fleet)) = lock(&self.ahead_fleet).take() {
                if w == window && at.elapsed() < AHEAD_FRESH {
                    return Ok(fleet);
                }
            }
            self.fleet_in(store, window)
        })
    }

    /// Ranks the fleet over `window` now, for the first [`Desk::fleet`] call of that window
    /// (within [`AHEAD_FRESH`]) to take: the app calls it at launch, while its webview starts,
    /// so the home screen's ranking is ready when the page asks for it.
    pub fn prefetch_fleet(&self, window: Millis) -> Result<()> {
        self.with_store(|store| {
            let fleet = self.fleet_in(store, window)?;
            *lock(&self.ahead_fleet) = Some((window, std::time::Instant::now(), fleet));
            Ok(())
        })
    }

    fn fleet_in(&self, store: &Store, window: Millis) -> Result<Fleet> {
        let ranked = triage::rank(
            store,
            triage::TriageOptions {
                window: window.max(3_600_000),
                to: None,
            },
        )?;
        let quarantined = quarantined(&store.action_log()?);
        let window_to = ranked.iter().filter_map(|r| r.last_report).max();
        let rows: Vec<FleetRow> = ranked
            .into_iter()
            .map(|r| {
                let q = quarantined.contains(&r.thing);
                fleet_row(r, q)
            })
            .collect();
        *lock(&self.last_fleet) = Some(rows.clone());
        Ok(Fleet {
            status: self.status_of(store)?,
            rows,
            window_to,
        })
    }

    /// A thing's page: every chart, drift, diff, timeline, violations, groups.
    pub fn thing(&self, req: &ThingRequest) -> Result<ThingPage> {
        let opts = req.look.options()?;
        // The cache is read under its lock; the charts are drawn after it is released, so a
        // slow or hostile chart never holds up another screen.
        let (mut page, views) = self.with_store(|store| {
            require_thing(store, &req.thing)?;
            let scored = self.scored(store, &req.thing)?;
            let last_report = match &scored {
                Some(r) => r.last_report,
                None => store
                    .things()?
                    .into_iter()
                    .find(|t| t.name == req.thing)
                    .and_then(|t| t.last_report),
            };
            let now = time::now();
            let to = req.to.or(last_report.map(|t| t.min(now))).unwrap_or(now);
            let from = req.from.unwrap_or(to.saturating_sub(7 * DAY).max(0));
            let (from, to) = check_window(from, to)?;
            let mut metrics = store.thing_metrics(&req.thing)?;
            metrics.sort_by_key(|m| {
                (
                    METRIC_ORDER
                        .iter()
                        .position(|o| o == m)
                        .unwrap_or(METRIC_ORDER.len()),
                    m.clone(),
                )
            });
            let mut views = Vec::with_capacity(metrics.len());
            let mut drift_rows = Vec::new();
            let mut diff_rows = Vec::new();
            for metric in &metrics {
                let v =
                    view::metric_view(store, &req.thing, metric, from, to, opts.width as usize)?;
                let expected: BTreeSet<&str> = v.expected.iter().map(String::as_str).collect();
                for d in &v.drift {
                    let value = member_text(&d.value);
                    drift_rows.push(DriftRow {
                        metric: metric.clone(),
                        attack_surface: is_attack_port(metric, &d.value),
                        expected: expected.contains(value.as_str()),
                        value,
                        opened: d.opened,
                        closed: d.closed,
                    });
                }
                if !v.drift.is_empty() {
                    let points = store.series(&req.thing, metric, None, from, to)?;
                    let first = points.first().map_or(from, |p| p.ts);
                    for d in drift::diff(&points, first, to) {
                        diff_rows.push(DiffView {
                            metric: metric.clone(),
                            value: member_text(&d.value),
                            change: d.change.into(),
                            attack_surface: d.attack_surface,
                        });
                    }
                }
                views.push(v);
            }
            let log = store.action_log()?;
            let page = ThingPage {
                thing: req.thing.clone(),
                from,
                to,
                last_report,
                charts: Vec::new(),
                drift: drift_rows,
                diff: diff_rows,
                timeline: timeline::thing_timeline(store, &req.thing)?
                    .into_iter()
                    .map(|e| TimelineRow {
                        t: e.t,
                        kind: e.kind.into(),
                        what: e.what,
                        id: e.id,
                    })
                    .collect(),
                violations: store
                    .violations(Some(&req.thing), false)?
                    .into_iter()
                    .map(|v| ViolationView {
                        categories: v
                            .metric
                            .as_deref()
                            .map(categories::for_metric)
                            .unwrap_or_default(),
                        violation_id: v.violation_id,
                        behavior: v.behavior,
                        security_profile: v.security_profile,
                        metric: v.metric,
                        started: v.started,
                        ended: v.ended,
                        last_event: v.last_event,
                        confidence: v.confidence,
                        verification_state: v.verification_state,
                        verification_description: v.verification_description,
                    })
                    .collect(),
                groups: store
                    .thing_groups(&req.thing)?
                    .into_iter()
                    .map(|(g, _, _)| g)
                    .collect(),
                quarantined: quarantined(&log).contains(&req.thing),
                score: scored.as_ref().map_or(0.0, |r| r.score),
                reasons: scored.map(|r| r.reasons).unwrap_or_default(),
                status: self.status_of(store)?,
            };
            Ok((page, views))
        })?;
        page.charts = chart_views(&views, &opts)?;
        Ok(page)
    }

    /// A thing's triage row: from the last triage of this cache, else a fresh ranking.
    fn scored(&self, store: &Store, thing: &str) -> Result<Option<FleetRow>> {
        if let Some(rows) = lock(&self.last_fleet).as_ref() {
            return Ok(rows.iter().find(|r| r.thing == thing).cloned());
        }
        Ok(triage::rank(store, triage::TriageOptions::default())?
            .into_iter()
            .find(|r| r.thing == thing)
            .map(|r| fleet_row(r, false)))
    }

    /// One chart over another window (brush-zoom).
    pub fn chart(&self, req: &ChartRequest) -> Result<ChartView> {
        let opts = req.look.options()?;
        let (from, to) = check_window(req.from, req.to)?;
        let v = self.with_store(|store| {
            require_metric(store, &req.thing, &req.metric)?;
            view::metric_view(
                store,
                &req.thing,
                &req.metric,
                from,
                to,
                opts.width as usize,
            )
            .map_err(Error::from)
        })?;
        chart_view(&v, &opts)
    }

    /// Saves a chart as PNG in the exports folder.
    pub fn export_chart_png(&self, req: &ChartRequest) -> Result<Saved> {
        let opts = req.look.options()?;
        let (from, to) = check_window(req.from, req.to)?;
        let v = self.with_store(|store| {
            require_metric(store, &req.thing, &req.metric)?;
            view::metric_view(
                store,
                &req.thing,
                &req.metric,
                from,
                to,
                opts.width as usize,
            )
            .map_err(Error::from)
        })?;
        let bytes =
            charts::render_png(&v, &opts).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.save(&format!("{}-{}.png", req.thing, req.metric), &bytes)
    }

    /// Saves a thing's datapoints in the window as CSV in the exports folder.
    pub fn export_csv(&self, thing: &str, from: Millis, to: Millis) -> Result<Saved> {
        let (from, to) = check_window(from, to)?;
        let csv = self.with_store(|store| {
            require_thing(store, thing)?;
            let rows = export::thing_rows(store, thing, from, to)?;
            Ok(crate::csv_out::to_bytes(
                &["t", "metric", "dimension", "value", "values", "version"],
                rows.into_iter().map(|r| {
                    [
                        time::to_rfc3339(r.t),
                        r.metric,
                        r.dimension.unwrap_or_default(),
                        r.value.map(|v| v.to_string()).unwrap_or_default(),
                        r.values.unwrap_or_default(),
                        r.version.to_string(),
                    ]
                }),
            ))
        })?;
        self.save(&format!("{thing}.csv"), &csv)
    }

    /// Writes an incident report for a thing (standalone HTML: summary, timeline, charts,
    /// port diff, violations, findings, actions; time zone stated).
    pub fn report(&self, req: &ThingRequest) -> Result<Saved> {
        // Charts at twice the density at least: a report is printed and zoomed into.
        let mut sharp = req.clone();
        sharp.look.scale = Some(req.look.scale.unwrap_or(1.0).max(2.0));
        let page = self.thing(&sharp)?;
        let (findings, actions) = self.with_store(|store| {
            let findings = timeline::thing_findings(store, &req.thing)?;
            Ok((findings, action_views(&store.action_log()?)))
        })?;
        let actions: Vec<ActionView> = actions
            .into_iter()
            .filter(|a| a.thing.as_deref() == Some(req.thing.as_str()))
            .collect();
        let html = crate::report::incident_html(&page, &findings, &actions, &req.look.tz);
        self.save(&format!("incident-{}.html", req.thing), html.as_bytes())
    }

    /// Writes a new file in the exports folder: never over another file, never through a link.
    fn save(&self, name: &str, bytes: &[u8]) -> Result<Saved> {
        let path = crate::files::save_new(&self.exports, name, bytes).map_err(|e| Error::Io {
            path: self.exports.display().to_string(),
            source: e,
        })?;
        Ok(Saved {
            path: path.display().to_string(),
            bytes: bytes.len() as f64,
        })
    }

    /// The Audit screen over `[from, to)`.
    pub fn audit(&self, from: Millis, to: Millis, look: &Look) -> Result<AuditPage> {
        let opts = look.options()?;
        self.with_store(|store| {
            let history = audit::history(store, None, from, to)?;
            let chart = charts::audit::render_raster(&history, from, to, &opts)
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
            let audits = store.audits(None)?;
            let latest = audits
                .iter()
                .filter(|a| a.task_start.is_some())
                .max_by_key(|a| a.task_start)
                .map(|a| (a.task_id.clone(), a.task_start));
            let checks = latest
                .as_ref()
                .map(|(id, _)| {
                    audits
                        .iter()
                        .filter(|a| &a.task_id == id)
                        .map(|a| CheckRow {
                            check: a.check.clone(),
                            status: a.status.clone(),
                            non_compliant: a.non_compliant.map(|n| n as f64),
                            total: a.total.map(|n| n as f64),
                            suppressed: a.suppressed.map(|n| n as f64),
                            error_code: a.error_code.clone(),
                            message: a.message.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut findings = store.findings(None, None)?;
            findings.sort_by_key(|f| std::cmp::Reverse(f.found));
            Ok(AuditPage {
                chart: ChartView {
                    metric: "audit".into(),
                    label: "non-compliant resources per check".into(),
                    points: history.iter().map(|h| h.points.len() as u32).sum(),
                    image: png_data_url(&chart.png),
                    width: chart.width,
                    height: chart.height,
                    geometry: chart.geometry,
                    hover: Vec::new(),
                    hover_from: from,
                    hover_to: to,
                    thresholds: Vec::new(),
                    bands: 0,
                },
                latest_task: latest.as_ref().map(|(id, _)| id.clone()),
                latest_start: latest.and_then(|(_, t)| t),
                checks,
                findings,
                status: self.status_of(store)?,
            })
        })
    }

    /// The action log, newest first.
    /// The action log, newest first, with colleagues' actions read back from the anchor (when
    /// one is configured and reachable; else as last read).
    pub fn actions(&self) -> Result<Vec<ActionView>> {
        let path = self.active()?;
        let store = Store::open(&path)?;
        let pulled = self.rt.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(15),
                crate::anchor::pull_colleagues(&store),
            )
            .await
        });
        match pulled {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "colleagues' actions not read"),
            Err(_) => tracing::warn!("colleagues' actions not read: the anchor took over 15 s"),
        }
        let mut v = action_views(&store.action_log()?);
        v.extend(
            crate::anchor::colleagues(&store)?
                .into_iter()
                .map(colleague_view),
        );
        v.sort_by(|a, b| b.at.cmp(&a.at).then(b.seq.total_cmp(&a.seq)));
        Ok(v)
    }

    /// Verifies the action log's hash chain.
    pub fn verify_actions(&self) -> Result<ChainReport> {
        self.with_store(|store| Ok(store.verify_action_log()?))
    }

    /// Saves the action log as CSV.
    pub fn export_actions_csv(&self) -> Result<Saved> {
        let rows = self.actions()?;
        let out = crate::csv_out::to_bytes(
            &[
                "seq",
                "at",
                "who",
                "os_user",
                "action",
                "thing",
                "reason",
                "status",
                "outcome_at",
                "demo",
                "calls",
                "hash",
            ],
            rows.into_iter().map(|a| {
                [
                    a.seq.to_string(),
                    time::to_rfc3339(a.at),
                    a.who,
                    a.os_user,
                    a.action,
                    a.thing.unwrap_or_default(),
                    a.reason,
                    a.status,
                    a.outcome_at.map(time::to_rfc3339).unwrap_or_default(),
                    a.demo.to_string(),
                    a.calls.join(" | "),
                    a.hash,
                ]
            }),
        );
        self.save("action-log.csv", &out)
    }

    fn source_views(&self, store: &Store) -> Result<Vec<SourceView>> {
        let runs = store.sync_runs()?;
        sources::list(store)?
            .into_iter()
            .map(|s| {
                let last = runs
                    .iter()
                    .filter(|r| r.source == s.name)
                    .max_by_key(|r| r.finished);
                let has_secret = matches!(s.settings, SourceSettings::Splunk(_))
                    && self.secrets.get(&s.name).ok().flatten().is_some();
                Ok(SourceView {
                    kind: s.settings.kind().into(),
                    target: target_of(&s.settings),
                    has_secret,
                    last_sync: last.map(|r| r.finished),
                    last_ok: last.map(|r| r.ok),
                    last_errors: last
                        .and_then(|r| r.summary["errors"].as_array())
                        .map(|errs| {
                            errs.iter()
                                .map(|e| match e["object"].as_str() {
                                    Some(o) => {
                                        format!("{o}: {}", e["error"].as_str().unwrap_or(""))
                                    }
                                    None => e["error"].as_str().unwrap_or("").to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    name: s.name,
                })
            })
            .collect()
    }

    /// Configured sources (of the analyst's cache, also while the demo is shown).
    pub fn sources(&self) -> Result<Vec<SourceView>> {
        let store = Store::open(&self.cache)?;
        self.source_views(&store)
    }

    /// Adds a source; a Splunk token goes to the OS keychain only.
    pub fn add_source(&self, input: &SourceInput) -> Result<SourceView> {
        let aws = AwsSettings {
            region: nonempty(&input.region),
            profile: nonempty(&input.profile),
            endpoint_url: nonempty(&input.endpoint_url),
        };
        let settings = match input.kind.as_str() {
            "s3" => SourceSettings::S3(sources::S3Settings {
                bucket: nonempty(&input.bucket)
                    .ok_or_else(|| Error::InvalidInput("a bucket is required".into()))?,
                prefix: input.prefix.clone().unwrap_or_default(),
                path_style: aws.endpoint_url.is_some(),
                aws,
            }),
            "splunk" => SourceSettings::Splunk(sources::SplunkSettings {
                url: nonempty(&input.url)
                    .ok_or_else(|| Error::InvalidInput("the Splunk URL is required".into()))?,
                index: nonempty(&input.index)
                    .ok_or_else(|| Error::InvalidInput("the Splunk index is required".into()))?,
                sourcetype: "aws-iot-device-defender".into(),
                ca_bundle: nonempty(&input.ca_bundle),
            }),
            "defender" => SourceSettings::Defender(sources::DefenderSettings { aws }),
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown source kind {other:?}: s3, splunk or defender"
                )))
            }
        };
        let source = Source {
            name: input.name.trim().to_string(),
            settings,
        };
        sources::validate_name(&source.name)?;
        source.settings.validate()?;
        let store = Store::open(&self.cache)?;
        // Before the keychain is touched: a second source of the same name must not replace
        // (and then, as its add fails, delete) the first one's token.
        if store.sources()?.iter().any(|s| s.name == source.name) {
            return Err(Error::InvalidInput(format!(
                "a source named {:?} already exists",
                source.name
            )));
        }
        if let SourceSettings::Splunk(_) = source.settings {
            let token = input.token.as_deref().map(Secret::new);
            match token {
                Some(t) if !t.expose().is_empty() => self.secrets.set(&source.name, &t)?,
                _ => {
                    return Err(Error::InvalidInput(
                        "a Splunk source needs its token (kept in the OS keychain)".into(),
                    ))
                }
            }
        }
        self.reset();
        if let Err(e) = sources::add(&store, &source) {
            if let SourceSettings::Splunk(_) = source.settings {
                let _ = self.secrets.delete(&source.name);
            }
            return Err(e);
        }
        self.source_views(&store)?
            .into_iter()
            .find(|s| s.name == source.name)
            .ok_or_else(|| Error::NotFound(source.name.clone()))
    }

    /// Removes a source and its keychain secret (synced data stays).
    pub fn remove_source(&self, name: &str) -> Result<()> {
        let mut store = Store::open(&self.cache)?;
        if !store.remove_source(name)? {
            return Err(Error::NotFound(format!("no source named {name:?}")));
        }
        self.reset();
        self.secrets.delete(name)
    }

    /// Checks a source's connection.
    pub fn test_source(&self, name: &str) -> Result<String> {
        let source = sources::get(&Store::open(&self.cache)?, name)?;
        self.rt
            .block_on(sync::test_source(&source, self.secrets.as_ref()))
    }

    /// Syncs every source into the analyst's cache; `cancel_sync` stops it.
    pub fn sync(&self, progress: Progress) -> Result<SyncSummary> {
        let token = CancellationToken::new();
        {
            let mut slot = lock(&self.sync_cancel);
            if slot.is_some() {
                return Err(Error::InvalidInput("a sync is already running".into()));
            }
            *slot = Some(token.clone());
        }
        let result = self.rt.block_on(sync::sync(
            &self.cache,
            &SyncOptions::default(),
            self.secrets.as_ref(),
            progress,
            token,
        ));
        *lock(&self.sync_cancel) = None;
        self.reset();
        result
    }

    /// Cancels a running sync (what was written stays consistent).
    pub fn cancel_sync(&self) -> bool {
        lock(&self.sync_cancel)
            .as_ref()
            .map(|t| t.cancel())
            .is_some()
    }

    async fn backend(&self) -> Result<(Backend, PathBuf)> {
        let path = match lock(&self.store).as_ref() {
            Some((p, _)) => p.clone(),
            None => self.active()?,
        };
        let backend = Backend::for_cache(&Store::open(&path)?, None).await?;
        Ok((backend, path))
    }

    /// Plans an action: the exact calls and the pre-flight warnings, nothing called yet.
    pub fn plan(&self, req: &ActionRequest) -> Result<PlanView> {
        self.rt.block_on(self.plan_async(req))
    }

    async fn plan_async(&self, req: &ActionRequest) -> Result<PlanView> {
        let (backend, path) = self.backend().await?;
        let mut store = Store::open(&path)?;
        actions::reconcile(&mut store, &backend).await?;
        let plan = plan_request(&backend, &store, req).await?;
        let id = format!("plan-{:016x}", fastrand::u64(..));
        let view = PlanView {
            id: id.clone(),
            action: plan.action.clone(),
            thing: plan.thing.clone(),
            calls: plan.preview(),
            warnings: plan.warnings.clone(),
            demo: plan.demo,
            min_reason: actions::MIN_REASON as u32,
            target: plan.target.clone(),
        };
        lock(&self.plans).insert(id, plan);
        Ok(view)
    }

    /// Executes a confirmed plan with the analyst's reason; logged before and after.
    pub fn execute(&self, plan_id: &str, reason: &str) -> Result<OutcomeView> {
        self.rt.block_on(self.execute_async(plan_id, reason))
    }

    async fn execute_async(&self, plan_id: &str, reason: &str) -> Result<OutcomeView> {
        if reason.trim().chars().count() < actions::MIN_REASON {
            return Err(Error::InvalidInput(format!(
                "the reason must be at least {} characters (it goes into the action log)",
                actions::MIN_REASON
            )));
        }
        let plan = lock(&self.plans)
            .remove(plan_id)
            .ok_or_else(|| Error::NotFound("that plan expired: plan the action again".into()))?;
        if plan.steps.is_empty() {
            return Err(Error::InvalidInput(
                "nothing to do: the plan has no calls".into(),
            ));
        }
        if plan.action == "quarantine" && plan.warnings.iter().any(|w| w.contains("--create-group"))
        {
            return Err(Error::InvalidInput(
                "the quarantine group does not exist yet: choose to create it (with the deny-all \
                 policy shown) and confirm again"
                    .into(),
            ));
        }
        let (backend, path) = self.backend().await?;
        let mut store = Store::open(&path)?;
        let actor: Actor = backend.actor().await?;
        let outcome = actions::execute(&mut store, &backend, &plan, reason.trim(), &actor).await?;
        self.reset();
        Ok(OutcomeView {
            status: outcome.status,
            action: plan.action.clone(),
            thing: plan.thing.clone(),
            steps: outcome.steps.iter().map(|s| s.to_string()).collect(),
            intent: outcome.intent as f64,
        })
    }

    /// The account's mitigation actions usable on a violation or on a finding (the demo
    /// account's simulated ones on the demo fleet).
    pub fn mitigation_actions(&self, target: MitigationFor) -> Result<Vec<String>> {
        self.rt.block_on(async {
            let (backend, _) = self.backend().await?;
            backend.mitigation_actions(target).await
        })
    }
}

/// Plans what an analyst asked for (the app's dialog and `ddesk quarantine | release | mitigate`).
/// Plans `req` against `backend`, naming the account, region, source and caller it is for: the
/// plan runs only there.
pub async fn plan_request(backend: &Backend, store: &Store, req: &ActionRequest) -> Result<Plan> {
    let mut plan = plan_steps(backend, store, req).await?;
    plan.target = Some(backend.target().await?);
    Ok(plan)
}

async fn plan_steps(backend: &Backend, store: &Store, req: &ActionRequest) -> Result<Plan> {
    match req {
        ActionRequest::Quarantine {
            thing,
            group,
            create_group,
            deactivate_certificate,
        } => {
            actions::plan_quarantine(
                backend,
                store,
                thing,
                group,
                *create_group,
                *deactivate_certificate,
            )
            .await
        }
        ActionRequest::Release { thing } => actions::plan_release(backend, store, thing).await,
        ActionRequest::MitigateViolation { violation, name } => {
            let target = MitigationTarget::Violation(violation.clone());
            actions::plan_mitigation(backend, store, &target, name).await
        }
        ActionRequest::MitigateFinding { finding, name } => {
            let target = MitigationTarget::Finding(finding.clone());
            actions::plan_mitigation(backend, store, &target, name).await
        }
    }
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn target_of(s: &SourceSettings) -> String {
    let aws = |a: &AwsSettings| {
        let mut parts = Vec::new();
        if let Some(r) = &a.region {
            parts.push(format!("region {r}"));
        }
        if let Some(p) = &a.profile {
            parts.push(format!("profile {p}"));
        }
        if let Some(e) = &a.endpoint_url {
            parts.push(format!("endpoint {e}"));
        }
        if parts.is_empty() {
            "default AWS credentials".to_string()
        } else {
            parts.join(", ")
        }
    };
    match s {
        SourceSettings::S3(s) => format!("s3://{}/{} ({})", s.bucket, s.prefix, aws(&s.aws)),
        SourceSettings::Splunk(s) => format!("{} index={}", s.url, s.index),
        SourceSettings::Defender(d) => format!("Device Defender API ({})", aws(&d.aws)),
    }
}

/// A window from the screen, its ends moved into 1970–9999 (so `0..i64::MAX` means "all" and
/// no arithmetic on it can overflow); the start must be before the end.
fn check_window(from: Millis, to: Millis) -> Result<(Millis, Millis)> {
    let (from, to) = (time::clamp_to_range(from), time::clamp_to_range(to));
    if from >= to {
        return Err(Error::InvalidInput(
            "the window's start is after its end".into(),
        ));
    }
    Ok((from, to))
}

fn require_thing(store: &Store, thing: &str) -> Result<()> {
    if !store.has_thing(thing)? {
        return Err(Error::NotFound(format!(
            "unknown thing {thing:?}: it is not in the cache"
        )));
    }
    Ok(())
}

fn require_metric(store: &Store, thing: &str, metric: &str) -> Result<()> {
    require_thing(store, thing)?;
    if !store.thing_metrics(thing)?.iter().any(|m| m == metric) {
        return Err(Error::NotFound(format!(
            "thing {thing:?} has no metric {metric:?}"
        )));
    }
    Ok(())
}

fn fleet_row(r: triage::Ranked, quarantined: bool) -> FleetRow {
    FleetRow {
        thing: r.thing,
        score: r.score,
        reasons: r.reasons.into_iter().map(reason_view).collect(),
        categories: r.categories,
        open_violations: r.open_violations as u32,
        last_report: r.last_report,
        quarantined,
    }
}

fn reason_view(r: triage::Reason) -> ReasonView {
    ReasonView {
        text: r.text,
        metric: r.metric,
        categories: r.categories,
        since: r.since,
        source: r.source.into(),
    }
}

/// Renders a page's charts on every core, in order. Each chart is a pure function of its view,
/// and drawing and encoding them is most of the engine's time for a page (the views come from
/// the cache before, on the caller's connection).
fn chart_views(views: &[view::MetricView], opts: &ChartOptions) -> Result<Vec<ChartView>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(views.len());
    if workers <= 1 {
        return views.iter().map(|v| chart_view(v, opts)).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(v) = views.get(i) else {
                return done;
            };
            done.push((i, chart_view(v, opts)));
        }
    };
    let mut rendered: Vec<(usize, Result<ChartView>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            match h.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    rendered.sort_by_key(|(i, _)| *i);
    rendered.into_iter().map(|(_, c)| c).collect()
}

fn chart_view(v: &view::MetricView, opts: &ChartOptions) -> Result<ChartView> {
    let chart = charts::render_raster(v, opts).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok(ChartView {
        metric: v.metric.clone(),
        label: categories::metric_label(&v.metric),
        image: png_data_url(&chart.png),
        width: chart.width,
        height: chart.height,
        geometry: chart.geometry,
        points: v.points as u32,
        hover: hover_columns(v, opts.width as usize),
        hover_from: v.from,
        hover_to: v.to,
        thresholds: v
            .thresholds
            .iter()
            .map(|t| format!("{} {}", t.label, t.value))
            .collect(),
        bands: v.bands.len() as u32,
    })
}

/// PNG bytes as a `data:` URL.
fn png_data_url(png: &[u8]) -> String {
    use base64::Engine as _;
    let mut url = String::with_capacity(22 + png.len().div_ceil(3) * 4);
    url.push_str("data:image/png;base64,");
    base64::engine::general_purpose::STANDARD.encode_string(png, &mut url);
    url
}

/// Per-column `(min, max)` for hover values, rounded to 4 significant digits: a compact
/// payload (times follow from the column), so opening a thing moves little over IPC.
fn hover_columns(v: &view::MetricView, width: usize) -> Vec<Option<(f32, f32)>> {
    let width = width.max(1);
    let span = (v.to - v.from).max(1) as i128;
    let mut out = vec![None; width];
    let sig = |x: f64| -> f32 {
        if x == 0.0 || !x.is_finite() {
            return x as f32;
        }
        let m = 10f64.powi(3 - x.abs().log10().floor() as i32);
        ((x * m).round() / m) as f32
    };
    for b in &v.buckets {
        let col =
            ((b.t0 - v.from) as i128 * width as i128 / span).clamp(0, width as i128 - 1) as usize;
        let (lo, hi) = (sig(b.min.1), sig(b.max.1));
        out[col] = Some(match out[col] {
            Some((a, c)) => (lo.min(a), hi.max(c)),
            None => (lo, hi),
        });
    }
    out
}

fn member_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_attack_port(metric: &str, v: &serde_json::Value) -> bool {
    metric.contains("listening") && v.as_i64().is_some_and(categories::is_attack_surface)
}

/// Things whose latest successful quarantine/release logged here was a quarantine.
fn quarantined(log: &[LogRecord]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in log.iter().filter(|r| r.record["type"] == "intent") {
        // "succeeded" or "succeeded (reconciled)": the reading release planning makes too.
        let ok = outcome_of(log, r.seq).is_some_and(|o| {
            o.record["status"]
                .as_str()
                .is_some_and(|s| s.starts_with("succeeded"))
        });
        let Some(thing) = r.record["plan"]["thing"].as_str() else {
            continue;
        };
        match (ok, r.record["plan"]["action"].as_str()) {
            (true, Some("quarantine")) => {
                out.insert(thing.to_string());
            }
            (true, Some("release")) => {
                out.remove(thing);
            }
            _ => {}
        }
    }
    out
}

fn colleague_view(c: crate::anchor::ColleagueAction) -> ActionView {
    ActionView {
        seq: c.seq as f64,
        at: c.at,
        who: c.who,
        os_user: c.os_user,
        action: c.action,
        thing: c.thing,
        reason: c.reason,
        calls: Vec::new(),
        status: c.status,
        outcome_at: None,
        demo: c.demo,
        hash: String::new(),
        colleague: true,
        cache: Some(c.cache),
    }
}

fn action_views(log: &[LogRecord]) -> Vec<ActionView> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    log.iter()
        .filter(|r| r.record["type"] == "intent")
        .map(|r| {
            let outcome = outcome_of(log, r.seq);
            ActionView {
                seq: r.seq as f64,
                at: r.at,
                who: s(&r.record["who"]["aws"]),
                os_user: s(&r.record["who"]["os_user"]),
                action: s(&r.record["plan"]["action"]),
                thing: r.record["plan"]["thing"].as_str().map(String::from),
                reason: s(&r.record["reason"]),
                calls: r.record["calls"]
                    .as_array()
                    .map(|a| a.iter().map(&s).collect())
                    .unwrap_or_default(),
                status: outcome.map_or("pending".into(), |o| s(&o.record["status"])),
                outcome_at: outcome.map(|o| o.at),
                demo: r.record["demo"].as_bool().unwrap_or(false),
                hash: r.hash.clone(),
                colleague: false,
                cache: None,
            }
        })
        .collect()
}

/// The TypeScript declarations of every type that crosses to the UI, as one file.
pub mod bindings {
    use super::*;
    use crate::sync::{SourceSummary, SyncEvent, SyncFailure};
    use ts_rs::TS;

    /// The contents of `ui/src/bindings.ts`.
    pub fn typescript() -> String {
        let decls = [
            Category::decl(),
            Geometry::decl(),
            DeskError::decl(),
            Status::decl(),
            SourceView::decl(),
            SourceInput::decl(),
            ReasonView::decl(),
            FleetRow::decl(),
            Fleet::decl(),
            Look::decl(),
            ChartView::decl(),
            DriftRow::decl(),
            DiffView::decl(),
            TimelineRow::decl(),
            ViolationView::decl(),
            ThingRequest::decl(),
            ThingPage::decl(),
            ChartRequest::decl(),
            crate::model::Resource::decl(),
            FindingRow::decl(),
            CheckRow::decl(),
            AuditPage::decl(),
            ActionView::decl(),
            ActionRequest::decl(),
            MitigationFor::decl(),
            actions::Target::decl(),
            PlanView::decl(),
            OutcomeView::decl(),
            Saved::decl(),
            ChainReport::decl(),
            SyncEvent::decl(),
            SyncFailure::decl(),
            SourceSummary::decl(),
            SyncSummary::decl(),
        ];
        let mut out = String::from(
            "// Generated from the Rust types by ts-rs (desk_engine::desk::bindings); do not edit.\n\
             // Regenerate: UPDATE_BINDINGS=1 cargo test --workspace --test bindings\n\
             // 64-bit integers are JSON numbers on the wire (epoch milliseconds fit in 2^53).\n\n",
        );
        for d in decls {
            out.push_str("export ");
            out.push_str(&d.replace("bigint", "number"));
            out.push_str("\n\n");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_state_follows_the_last_successful_action() {
        let rec = |seq: i64, record: serde_json::Value| LogRecord {
            seq,
            at: seq,
            record,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let intent = |seq, action: &str| {
            rec(
                seq,
                serde_json::json!({"type": "intent", "plan": {"action": action, "thing": "cam"}}),
            )
        };
        let outcome = |seq, intent: i64, status: &str| {
            rec(
                seq,
                serde_json::json!({"type": "outcome", "intent": intent, "status": status}),
            )
        };
        let mut log = vec![intent(1, "quarantine"), outcome(2, 1, "succeeded")];
        assert!(quarantined(&log).contains("cam"));
        log.extend([intent(3, "release"), outcome(4, 3, "failed")]);
        assert!(
            quarantined(&log).contains("cam"),
            "a failed release leaves it quarantined"
        );
        log.extend([intent(5, "release"), outcome(6, 5, "succeeded")]);
        assert!(quarantined(&log).is_empty());
        // Regression: a quarantine reconciled after a crash showed as "not quarantined" in the
        // app (it compared with == "succeeded") while the CLI's release still found it.
        log.extend([
            intent(7, "quarantine"),
            outcome(8, 7, "succeeded (reconciled)"),
        ]);
        assert!(quarantined(&log).contains("cam"));
        log.extend([
            intent(9, "release"),
            outcome(10, 9, "unknown (reconciled: groups not read)"),
        ]);
        assert!(
            quarantined(&log).contains("cam"),
            "an unknown release leaves it quarantined"
        );
    }
}
