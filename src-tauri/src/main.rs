#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! Defender Desk's desktop shell: a Tauri window over the engine. Each command is one call
//! into [`desk_engine::app::Desk`]; errors cross as [`DeskError`] (kind + a message safe to
//! show) and their detail goes to the log. No SQL, AWS calls or analysis live here.

mod render;

use std::path::PathBuf;
use std::sync::Arc;

use desk_engine::app::query::Verification;
use desk_engine::app::{
    self, ActionRequest, ActionView, AuditPage, Case, CaseRequest, ChartRequest, ChartView,
    DemoAccount, Desk, DeskError, FindingCaseRequest, FindingNoteRequest, Fleet, Look,
    MitigationFor, NoteRequest, NotifyFilter, OutcomeView, PlanView, Saved, SourceInput,
    SourceView, Status, ThingPage, ThingRequest, WatchView,
};
use desk_engine::secrets::Keychain;
use desk_engine::sync::{SyncEvent, SyncSummary};
use desk_engine::time::Millis;
use desk_engine::watch::Change;
use tauri::{AppHandle, Emitter, Manager, State};

type Reply<T> = Result<T, DeskError>;
type D<'a> = State<'a, Arc<Desk>>;

/// Runs one engine call on a blocking thread (never the UI thread); logs a failure in full and
/// returns what the UI may show.
async fn engine<T: Send + 'static>(
    d: &D<'_>,
    command: &'static str,
    f: impl FnOnce(&Desk) -> desk_engine::Result<T> + Send + 'static,
) -> Reply<T> {
    let desk = Arc::clone(d.inner());
    let started = std::time::Instant::now();
    let joined = tauri::async_runtime::spawn_blocking(move || {
        let ran = std::time::Instant::now();
        let out = f(&desk);
        (out, ran.elapsed())
    })
    .await;
    let joined = joined.map(|(out, ran)| {
        tracing::debug!(
            command,
            engine_ms = ran.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "command done"
        );
        out
    });
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(command, error = ?e, "command failed");
            Err(DeskError::from(&e))
        }
        Err(e) => {
            tracing::error!(command, error = %e, "command panicked");
            Err(DeskError {
                kind: app::ErrorKind::Internal,
                message: format!("{command} failed unexpectedly; see the log"),
            })
        }
    }
}

#[tauri::command]
async fn status(d: D<'_>) -> Reply<Status> {
    engine(&d, "status", move |d| d.status()).await
}

#[tauri::command]
async fn set_demo_account(d: D<'_>, account: DemoAccount) -> Reply<Status> {
    engine(&d, "set_demo_account", move |d| d.set_demo_account(account)).await
}

#[tauri::command]
async fn case(d: D<'_>, thing: String) -> Reply<Case> {
    engine(&d, "case", move |d| d.case(&thing)).await
}

#[tauri::command]
async fn set_case(d: D<'_>, req: CaseRequest) -> Reply<Case> {
    engine(&d, "set_case", move |d| d.set_case(&req)).await
}

#[tauri::command]
async fn add_case_note(d: D<'_>, req: NoteRequest) -> Reply<Case> {
    engine(&d, "add_case_note", move |d| d.add_case_note(&req)).await
}

#[tauri::command]
async fn finding_case(d: D<'_>, finding: String) -> Reply<Case> {
    engine(&d, "finding_case", move |d| d.finding_case(&finding)).await
}

#[tauri::command]
async fn set_finding_case(d: D<'_>, req: FindingCaseRequest) -> Reply<Case> {
    engine(&d, "set_finding_case", move |d| d.set_finding_case(&req)).await
}

#[tauri::command]
async fn add_finding_note(d: D<'_>, req: FindingNoteRequest) -> Reply<Case> {
    engine(&d, "add_finding_note", move |d| d.add_finding_note(&req)).await
}

#[tauri::command]
async fn fleet(d: D<'_>, window_ms: Millis) -> Reply<Fleet> {
    engine(&d, "fleet", move |d| d.fleet(window_ms)).await
}

#[tauri::command]
async fn thing(d: D<'_>, req: ThingRequest) -> Reply<ThingPage> {
    engine(&d, "thing", move |d| d.thing(&req)).await
}

#[tauri::command]
async fn chart(d: D<'_>, req: ChartRequest) -> Reply<ChartView> {
    engine(&d, "chart", move |d| d.chart(&req)).await
}

#[tauri::command]
async fn export_chart_png(d: D<'_>, req: ChartRequest) -> Reply<Saved> {
    engine(&d, "export_chart_png", move |d| d.export_chart_png(&req)).await
}

#[tauri::command]
async fn export_csv(d: D<'_>, thing: String, from: Millis, to: Millis) -> Reply<Saved> {
    engine(&d, "export_csv", move |d| d.export_csv(&thing, from, to)).await
}

#[tauri::command]
async fn report(d: D<'_>, req: ThingRequest) -> Reply<Saved> {
    engine(&d, "report", move |d| d.report(&req)).await
}

#[tauri::command]
async fn audit(d: D<'_>, from: Millis, to: Millis, look: Look) -> Reply<AuditPage> {
    engine(&d, "audit", move |d| d.audit(from, to, &look)).await
}

#[tauri::command]
async fn actions(d: D<'_>) -> Reply<Vec<ActionView>> {
    engine(&d, "actions", move |d| d.actions()).await
}

#[tauri::command]
async fn verify_actions(d: D<'_>) -> Reply<Verification> {
    engine(&d, "verify_actions", move |d| d.verify_actions()).await
}

#[tauri::command]
async fn export_actions_csv(d: D<'_>) -> Reply<Saved> {
    engine(&d, "export_actions_csv", move |d| d.export_actions_csv()).await
}

#[tauri::command]
async fn sources(d: D<'_>) -> Reply<Vec<SourceView>> {
    engine(&d, "sources", move |d| d.sources()).await
}

#[tauri::command]
async fn add_source(d: D<'_>, input: SourceInput) -> Reply<SourceView> {
    engine(&d, "add_source", move |d| d.add_source(&input)).await
}

#[tauri::command]
async fn remove_source(d: D<'_>, name: String) -> Reply<()> {
    engine(&d, "remove_source", move |d| d.remove_source(&name)).await
}

#[tauri::command]
async fn test_source(d: D<'_>, name: String) -> Reply<String> {
    engine(&d, "test_source", move |d| d.test_source(&name)).await
}

#[tauri::command]
async fn sync(app: AppHandle, d: D<'_>) -> Reply<SyncSummary> {
    let progress = Arc::new(move |e: SyncEvent| {
        let _ = app.emit("sync-progress", e);
    });
    engine(&d, "sync", move |d| d.sync(progress)).await
}

#[tauri::command]
fn cancel_sync(d: D<'_>) -> bool {
    d.cancel_sync()
}

#[tauri::command]
async fn plan_action(d: D<'_>, req: ActionRequest) -> Reply<PlanView> {
    engine(&d, "plan_action", move |d| d.plan(&req)).await
}

#[tauri::command]
async fn execute_action(
    app: AppHandle,
    d: D<'_>,
    plan_id: String,
    reason: String,
) -> Reply<OutcomeView> {
    let outcome = engine(&d, "execute_action", move |d| d.execute(&plan_id, &reason)).await?;
    let _ = app.emit("action-result", &outcome);
    Ok(outcome)
}

#[tauri::command]
async fn mitigation_actions(d: D<'_>, target: MitigationFor) -> Reply<Vec<String>> {
    engine(&d, "mitigation_actions", move |d| {
        d.mitigation_actions(target)
    })
    .await
}

#[tauri::command]
async fn watch(d: D<'_>) -> Reply<WatchView> {
    engine(&d, "watch", move |d| d.watch()).await
}

#[tauri::command]
async fn changes(d: D<'_>) -> Reply<Vec<Change>> {
    engine(&d, "changes", move |d| Ok(d.changes())).await
}

#[tauri::command]
async fn mark_changes_seen(d: D<'_>) -> Reply<()> {
    engine(&d, "mark_changes_seen", move |d| {
        d.mark_changes_seen();
        Ok(())
    })
    .await
}

#[tauri::command]
async fn notify_filter(d: D<'_>) -> Reply<NotifyFilter> {
    engine(&d, "notify_filter", move |d| d.notify_filter()).await
}

#[tauri::command]
async fn set_notify_filter(d: D<'_>, filter: NotifyFilter) -> Reply<NotifyFilter> {
    engine(&d, "set_notify_filter", move |d| {
        d.set_notify_filter(&filter)
    })
    .await
}

#[tauri::command]
async fn pause_source(d: D<'_>, name: String, paused: bool) -> Reply<WatchView> {
    engine(&d, "pause_source", move |d| d.pause_source(&name, paused)).await
}

#[tauri::command]
fn thing_link(thing: String, from: Option<Millis>, to: Option<Millis>) -> String {
    app::links::thing_link(&thing, from, to)
}

/// The links the app was started with, until the window asks for them.
struct PendingLink(std::sync::Mutex<Vec<String>>);

/// The thing the app was started with a link to, if any (asked once, at the window's start).
#[tauri::command]
fn pending_link(app: AppHandle) -> Option<app::links::LinkTarget> {
    let pending = app.try_state::<PendingLink>()?;
    let links = std::mem::take(&mut *pending.0.lock().unwrap_or_else(|p| p.into_inner()));
    links.iter().find_map(|l| {
        app::links::parse_link(l)
            .map_err(|e| tracing::warn!(error = %e, "deep link ignored"))
            .ok()
    })
}

/// Opens deep links (`defender-desk://thing/<name>?from=&to=`) in the window: each is read
/// strictly, and the only thing done with it is to tell the window where to navigate (event
/// `navigate`); anything else is logged and dropped.
fn open_links(app: &AppHandle, links: impl IntoIterator<Item = String>) {
    for link in links {
        match app::links::parse_link(&link) {
            Ok(target) => {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.unminimize();
                    let _ = w.set_focus();
                }
                if let Err(e) = app.emit("navigate", &target) {
                    tracing::warn!(error = ?e, "navigate event not sent");
                }
            }
            Err(e) => tracing::warn!(error = %e, "deep link ignored"),
        }
    }
}

/// The shift: every second, sync the sources that are due and tell the window what changed
/// (event `watch`); one desktop notification per sync for what passes the filter. The same
/// text goes to the window as `notified`, which is how tests without a notification daemon see
/// it.
fn watch_loop(app: AppHandle, desk: Arc<Desk>) {
    use tauri_plugin_notification::NotificationExt;
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let tick = match desk.watch_tick() {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = ?e, "watch tick failed");
                continue;
            }
        };
        if tick.synced.is_empty() {
            continue;
        }
        if let Err(e) = app.emit("watch", &tick) {
            tracing::warn!(error = ?e, "watch event not sent");
        }
        if let Some(text) = &tick.notify {
            let shown = app
                .notification()
                .builder()
                .title("Defender Desk")
                .body(desk_engine::app::notification_body(
                    text,
                    cfg!(all(unix, not(target_os = "macos"))),
                ))
                .show();
            if let Err(e) = shown {
                tracing::warn!(error = ?e, "desktop notification not shown");
            }
            let _ = app.emit("notified", text);
        }
    }
}

/// The interval between syncs of each source: `DDESK_WATCH_INTERVAL` (e.g. `5m`, `30s`), else
/// five minutes.
fn watch_interval() -> Option<std::time::Duration> {
    let v = std::env::var("DDESK_WATCH_INTERVAL").ok()?;
    match desk_engine::time::parse_duration(&v, 86_400_000) {
        Ok(ms) => Some(std::time::Duration::from_millis(ms as u64)),
        Err(e) => {
            tracing::warn!(error = %e, "DDESK_WATCH_INTERVAL ignored");
            None
        }
    }
}

/// The cache: `DDESK_DB`, else the OS data dir. Exports: `DDESK_EXPORTS`, else the user's
/// Downloads folder (a "Defender Desk" folder in it), else the data dir.
fn locations() -> Result<(PathBuf, PathBuf), desk_engine::Error> {
    let cache = match std::env::var_os("DDESK_DB") {
        Some(p) => PathBuf::from(p),
        None => app::default_cache()?,
    };
    let exports = match std::env::var_os("DDESK_EXPORTS") {
        Some(p) => PathBuf::from(p),
        None => directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(|d| d.join("Defender Desk")))
            .map_or_else(|| app::default_data_dir().map(|d| d.join("exports")), Ok)?,
    };
    Ok((cache, exports))
}

fn main() {
    // First, while this is the only thread: the webview reads it when it starts.
    let software_rendered = render::configure();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DDESK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    if software_rendered {
        tracing::info!(
            "no GPU render node: WebKit's DMA-BUF renderer is off ({}=1)",
            render::DISABLE_DMABUF
        );
    }
    let (cache, exports) = match locations() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("defender-desk: {e}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        // First, so a second launch (the OS opening a link) hands its link to this one.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            open_links(app, argv.into_iter().skip(1));
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let keychain = Keychain::for_cache(&cache);
            let desk = Arc::new(Desk::new(cache, exports, Arc::new(keychain))?);
            // The home screen's ranking, computed while the webview starts.
            let ahead = Arc::clone(&desk);
            std::thread::spawn(move || {
                if let Err(e) = ahead.prefetch_fleet(app::HOME_WINDOW) {
                    tracing::warn!(error = ?e, "ranking the fleet ahead failed");
                }
            });
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    open_links(&handle, event.urls().into_iter().map(String::from));
                });
                // Started by a link: the window asks for it once it listens (`pending_link`).
                if let Ok(Some(urls)) = app.deep_link().get_current() {
                    let links: Vec<String> = urls.into_iter().map(String::from).collect();
                    app.manage(PendingLink(std::sync::Mutex::new(links)));
                }
            }
            if let Some(i) = watch_interval() {
                desk.set_watch_interval(i);
            }
            let (handle, watcher) = (app.handle().clone(), Arc::clone(&desk));
            std::thread::Builder::new()
                .name("watch".into())
                .spawn(move || watch_loop(handle, watcher))?;
            app.manage(desk);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            status,
            set_demo_account,
            case,
            set_case,
            add_case_note,
            finding_case,
            set_finding_case,
            add_finding_note,
            fleet,
            thing,
            chart,
            export_chart_png,
            export_csv,
            report,
            audit,
            actions,
            verify_actions,
            export_actions_csv,
            sources,
            add_source,
            remove_source,
            test_source,
            sync,
            cancel_sync,
            plan_action,
            execute_action,
            mitigation_actions,
            watch,
            changes,
            mark_changes_seen,
            pause_source,
            notify_filter,
            set_notify_filter,
            thing_link,
            pending_link,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Defender Desk");
}
