#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! Defender Desk's desktop shell: a Tauri window over the engine. Each command is one call
//! into [`desk_engine::desk::Desk`]; errors cross as [`DeskError`] (kind + a message safe to
//! show) and their detail goes to the log. No SQL, AWS calls or analysis live here.

use std::path::PathBuf;
use std::sync::Arc;

use desk_engine::desk::{
    self, ActionRequest, ActionView, AuditPage, ChartRequest, ChartView, Desk, DeskError, Fleet,
    Look, MitigationFor, OutcomeView, PlanView, Saved, SourceInput, SourceView, Status, ThingPage,
    ThingRequest,
};
use desk_engine::secrets::Keychain;
use desk_engine::store::ChainReport;
use desk_engine::sync::{SyncEvent, SyncSummary};
use desk_engine::time::Millis;
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
                kind: "internal".into(),
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
async fn verify_actions(d: D<'_>) -> Reply<ChainReport> {
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

/// The cache: `DDESK_DB`, else the OS data dir. Exports: `DDESK_EXPORTS`, else the user's
/// Downloads folder (a "Defender Desk" folder in it), else the data dir.
fn locations() -> Result<(PathBuf, PathBuf), desk_engine::Error> {
    let cache = match std::env::var_os("DDESK_DB") {
        Some(p) => PathBuf::from(p),
        None => desk::default_cache()?,
    };
    let exports = match std::env::var_os("DDESK_EXPORTS") {
        Some(p) => PathBuf::from(p),
        None => directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(|d| d.join("Defender Desk")))
            .map_or_else(|| desk::default_data_dir().map(|d| d.join("exports")), Ok)?,
    };
    Ok((cache, exports))
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DDESK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let (cache, exports) = match locations() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("defender-desk: {e}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        .setup(move |app| {
            let keychain = Keychain::for_cache(&cache);
            let desk = Arc::new(Desk::new(cache, exports, Arc::new(keychain))?);
            // The home screen's ranking, computed while the webview starts.
            let ahead = Arc::clone(&desk);
            std::thread::spawn(move || {
                if let Err(e) = ahead.prefetch_fleet(desk::HOME_WINDOW) {
                    tracing::warn!(error = ?e, "ranking the fleet ahead failed");
                }
            });
            app.manage(desk);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            status,
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
        ])
        .run(tauri::generate_context!())
        .expect("error while running Defender Desk");
}
