//! The application layer: the one service both the desktop app (`src-tauri`) and `ddesk` call.
//! One method per thing a screen asks for, each returning a serializable view (types in
//! [`views`], exported to TypeScript by [`bindings`]); one module per domain.
//!
//! The Tauri shell holds one [`Desk`] and forwards each command to one method here, so the
//! shell has no logic, no SQL and no AWS calls of its own.
//!
//! Which cache: the analyst's cache (`cache.sqlite` in the OS data dir, or `DDESK_DB`) when it
//! holds data or a configured source; otherwise the demo fleet, kept in its own file next to it
//! (`<cache>.demo.sqlite`, or `<cache>.demo-no-detect.sqlite` for the account without Detect)
//! so simulated data never mixes with real data.

mod actions;
mod audit;
pub mod bindings;
mod cases;
pub mod commands;
mod error;
mod exports;
mod fleet;
mod history;
pub mod links;
pub mod query;
pub mod report;
pub mod sources;
mod thing;
pub mod views;
mod watch;

pub use self::actions::{backend_for, plan_request};
use self::thing::png_data_url;
pub use error::{DeskError, ErrorKind};
pub use history::{maintain, HistoryView, MAX_KEEP_RAW_DAYS};
pub use views::*;
pub use watch::{notification_body, NotifyFilter, SourceWatchView, WatchTick, WatchView};

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

pub use crate::actions::MitigationFor;
use crate::actions::{ActionLog, Actor, Backend, MitigationTarget, Plan};
use crate::analysis::categories::{self, Category};
use crate::analysis::drift::Change;
use crate::analysis::timeline::EntryKind;
use crate::analysis::{drift, export, timeline, triage, view};
pub use crate::cases::{Case, CaseState};
use crate::charts::{self, ChartOptions, Geometry, Theme, Zone};
use crate::demo::{self, DemoOptions};
use crate::secrets::{Secret, SecretStore};
use crate::sources::{Source, SourceKind, SourceSettings};
pub use crate::store::resolve_thing;
use crate::store::{FindingRow, Store};
use crate::sync::{self, Progress, SyncOptions, SyncSummary};
use crate::time::{self, Millis};
use crate::{Error, Result};

use crate::time::DAY;

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

/// Where the demo fleet of a cache lives (the Detect account's).
pub fn demo_path(cache: &Path) -> PathBuf {
    demo_account_path(cache, DemoAccount::Detect)
}

/// Which simulated account the demo shows: one with Detect, or one opened after Detect closed
/// to new customers (device reports and lifecycle events only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum DemoAccount {
    /// Metrics exports, Detect violations and Audit findings.
    #[default]
    Detect,
    /// No Detect: device-side metrics reports and AWS IoT lifecycle events.
    NoDetect,
}

impl DemoAccount {
    /// The analyst's cache remembers the choice under this `meta` key.
    const META: &'static str = "demo_account";

    fn from_meta(v: Option<&str>) -> Self {
        match v {
            Some("no-detect") => Self::NoDetect,
            _ => Self::Detect,
        }
    }

    fn as_meta(self) -> &'static str {
        match self {
            Self::Detect => "detect",
            Self::NoDetect => "no-detect",
        }
    }
}

/// Where the demo fleet of one demo account lives, next to the cache.
pub fn demo_account_path(cache: &Path, account: DemoAccount) -> PathBuf {
    let stem = cache
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("cache");
    match account {
        DemoAccount::Detect => cache.with_file_name(format!("{stem}.demo.sqlite")),
        DemoAccount::NoDetect => cache.with_file_name(format!("{stem}.demo-no-detect.sqlite")),
    }
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
    /// The sources' schedules and the changes found (see `watch.rs`).
    watch: Mutex<watch::WatchState>,
    /// Where the watcher reads the time ([`Desk::with_clock`]).
    clock: Arc<dyn time::Clock>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Desk {
    /// The same desk reading the time from `clock` (the watcher's schedules and back-offs):
    /// tests move a [`time::ManualClock`] instead of sleeping.
    pub fn with_clock(mut self, clock: Arc<dyn time::Clock>) -> Self {
        self.clock = clock;
        self
    }

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
            watch: Mutex::new(watch::WatchState::default()),
            clock: Arc::new(time::SystemClock),
        })
    }

    /// The demo account the analyst chose (kept in the cache's metadata).
    pub fn demo_account(&self) -> Result<DemoAccount> {
        let cache = Store::open(&self.cache)?;
        Ok(DemoAccount::from_meta(
            cache.meta(DemoAccount::META)?.as_deref(),
        ))
    }

    /// Chooses the demo account to show while the cache is empty (loaded on first use, in its
    /// own file); the status after the change.
    pub fn set_demo_account(&self, account: DemoAccount) -> Result<Status> {
        Store::open(&self.cache)?.set_meta(DemoAccount::META, account.as_meta())?;
        self.reset();
        self.status()
    }

    /// Chooses the file to show again at the next call (sources or data changed).
    /// Forgets the rankings computed so far (an investigation state changed what they hold).
    pub(super) fn forget_rankings(&self) {
        *lock(&self.last_fleet) = None;
        *lock(&self.ahead_fleet) = None;
    }

    pub(super) fn reset(&self) {
        *lock(&self.store) = None;
        *lock(&self.last_fleet) = None;
        *lock(&self.ahead_fleet) = None;
        *lock(&self.status) = None;
    }

    /// Which file to show: the cache when it has data or a source, else the demo fleet
    /// (loaded on first use).
    pub(super) fn active(&self) -> Result<PathBuf> {
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
        let account = DemoAccount::from_meta(cache.meta(DemoAccount::META)?.as_deref());
        drop(cache);
        let demo_file = demo_account_path(&self.cache, account);
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
            let opts = DemoOptions {
                detect: account == DemoAccount::Detect,
                ..DemoOptions::default()
            };
            let report = demo::load(&mut demo_store, &opts)?;
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
    pub(super) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
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

    pub(super) fn status_of(&self, store: &Store) -> Result<Status> {
        if let Some(s) = lock(&self.status).as_ref() {
            return Ok(s.clone());
        }
        let status = self.read_status(store)?;
        *lock(&self.status) = Some(status.clone());
        Ok(status)
    }

    pub(super) fn read_status(&self, store: &Store) -> Result<Status> {
        let demo = store.meta("demo")?.as_deref() == Some("true");
        let account = self.demo_account()?;
        let things = store.things()?;
        let runs = store.sync_runs()?;
        let sources = if demo {
            Vec::new()
        } else {
            self.source_views(store)?
        };
        Ok(Status {
            mode: if demo { Mode::Demo } else { Mode::Live },
            demo_account: account,
            db: if demo {
                demo_account_path(&self.cache, account)
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
}

/// A window from the screen, its ends moved into 1970–9999 (so `0..i64::MAX` means "all" and
/// no arithmetic on it can overflow); the start must be before the end.
pub(super) fn check_window(from: Millis, to: Millis) -> Result<(Millis, Millis)> {
    let (from, to) = (time::clamp_to_range(from), time::clamp_to_range(to));
    if from >= to {
        return Err(Error::InvalidInput(
            "the window's start is after its end".into(),
        ));
    }
    Ok((from, to))
}

/// The thing is in the cache, or a kept Athena screen named it (its page then offers to read
/// its history).
pub(super) fn require_thing(store: &Store, thing: &str) -> Result<String> {
    let key = resolve_thing(store, thing)?;
    if !store.has_thing(&key)? && !store.screened(&key)? {
        return Err(Error::NotFound(format!(
            "unknown thing {:?}{}: it is not in the cache (see the fleet list, `ddesk things`)",
            crate::model::scope::name_of(thing),
            scope_words(thing)
        )));
    }
    Ok(key)
}

/// " of account A in R" for a key naming its account, else nothing.
fn scope_words(key: &str) -> String {
    let k = crate::model::scope::ThingKey::parse(key);
    match (k.account, k.region) {
        (None, _) => String::new(),
        (Some(a), None) => format!(" of account {a}"),
        (Some(a), Some(r)) => format!(" of account {a} in {r}"),
    }
}
