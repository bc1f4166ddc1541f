#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! Defender Desk's desktop shell: a Tauri window over the engine. Its commands are the engine's
//! one list ([`desk_engine::with_commands!`]), each one call into [`desk_engine::app::Desk`];
//! errors cross as [`DeskError`] (kind + a message safe to show) and their detail goes to the
//! log. No SQL, AWS calls or analysis live here.

mod render;
mod window;

use std::path::PathBuf;
use std::sync::Arc;

use desk_engine::app::commands::{self, Event};
use desk_engine::app::{self, Desk, DeskError, OutcomeView};
use desk_engine::secrets::Keychain;
use desk_engine::sync::{SyncEvent, SyncSummary};
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

/// The `engine` list of [`desk_engine::with_commands!`]: one `#[tauri::command]` each, its body
/// the engine's [`desk_engine::app::commands::call`] function run off the UI thread; the
/// `shell` list is written below by hand. `generate_handler!` takes both lists whole, so a
/// command missing here does not compile.
macro_rules! shell_commands {
    (
        engine { $(
            $(#[doc = $doc:literal])*
            $name:ident ( $($arg:ident : $ty:ty $(as $wire:ty)?),* $(,)? ) -> $resp:ty
                = |$d:ident| $body:expr;
        )* }
        shell { $(
            $(#[doc = $sdoc:literal])*
            $sname:ident ( $($sarg:ident : $sty:ty $(as $swire:ty)?),* $(,)? ) -> $sresp:ty;
        )* }
    ) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            async fn $name(d: D<'_>, $($arg: $ty),*) -> Reply<$resp> {
                engine(&d, stringify!($name), move |d| app::commands::call::$name(d, $($arg),*)).await
            }
        )*

        /// Every command of the list, registered.
        fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name,)* $($sname,)*]
        }
    };
}
desk_engine::with_commands!(shell_commands);

/// Sends one typed event to the window.
fn emit<T: serde::Serialize + Clone>(app: &AppHandle, event: Event<T>, payload: &T) {
    if let Err(e) = app.emit(event.name, payload) {
        tracing::warn!(event = event.name, error = ?e, "event not sent");
    }
}

#[tauri::command]
async fn sync(app: AppHandle, d: D<'_>) -> Reply<SyncSummary> {
    let progress = Arc::new(move |e: SyncEvent| emit(&app, commands::SYNC_PROGRESS, &e));
    engine(&d, "sync", move |d| d.sync(progress)).await
}

#[tauri::command]
async fn execute_action(
    app: AppHandle,
    d: D<'_>,
    plan_id: String,
    reason: String,
) -> Reply<OutcomeView> {
    let outcome = engine(&d, "execute_action", move |d| d.execute(&plan_id, &reason)).await?;
    emit(&app, commands::ACTION_RESULT, &outcome);
    Ok(outcome)
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
                emit(app, commands::NAVIGATE, &target);
            }
            Err(e) => tracing::warn!(error = %e, "deep link ignored"),
        }
    }
}

/// The shift: every second, sync the sources that are due and tell the window what changed
/// (event `watch`); one desktop notification per sync for what passes the filter. The same
/// text goes to the window as `notified`, which is how tests without a notification daemon see
/// it.
/// The cache's background upgrade and compaction ([`Desk::maintain_history`]): slices of work
/// back to back while some is left, then a look every half minute.
fn history_loop(desk: &Desk) {
    loop {
        let pause = match desk.maintain_history() {
            Ok(true) => std::time::Duration::from_millis(50),
            Ok(false) => std::time::Duration::from_secs(30),
            Err(e) => {
                tracing::warn!(error = ?e, "upgrading or compacting the cache failed");
                std::time::Duration::from_secs(60)
            }
        };
        std::thread::sleep(pause);
    }
}

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
        emit(&app, commands::WATCH, &tick);
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
            emit(&app, commands::NOTIFIED, text);
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
    // `defender-desk --version`: what a package check (or a user) asks, without a display.
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("defender-desk {}", env!("CARGO_PKG_VERSION"));
        return;
    }
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
        // Size, place and maximised state kept across restarts; put back (and fitted to the
        // screens there are now) by `window::place` below, not by the plugin.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .skip_initial_state("main")
                .build(),
        )
        .setup(move |app| {
            if let Some(main) = app.get_webview_window("main") {
                if let Err(e) = window::place(&main, window::FIRST_SIZE, window::MIN_SIZE) {
                    tracing::warn!(error = %e, "placing the main window failed");
                    let _ = main.show();
                }
                window::keep(&main);
            }
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
            let keeper = Arc::clone(&desk);
            std::thread::Builder::new()
                .name("history".into())
                .spawn(move || history_loop(&keeper))?;
            app.manage(desk);
            Ok(())
        })
        .invoke_handler(handler())
        .run(tauri::generate_context!())
        .expect("error while running Defender Desk");
}
