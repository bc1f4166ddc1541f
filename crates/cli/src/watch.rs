//! `ddesk watch`: the console's shift, headless (a SOC jump host, a service). Each configured
//! source syncs on its own schedule (backing off on errors and throttling, and saying so);
//! after each round one JSON line per change is printed: things entering or leaving alarm, new
//! audit findings, triage scores crossing the threshold, colleagues' actions.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use desk_engine::secrets::Keychain;
use desk_engine::sources::{self, SourceErrorKind};
use desk_engine::store::Store;
use desk_engine::time;
use desk_engine::watch::{self, Rota, Snapshot};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[derive(Args, Clone)]
pub struct WatchArgs {
    /// How often each source syncs (Detect's granularity is 5 minutes); at least 1s.
    #[arg(long, default_value = "5m")]
    interval: String,
    /// Stop after this many rounds (default: until Ctrl-C).
    #[arg(long)]
    rounds: Option<u64>,
    /// Sync only these sources (repeatable; default: all configured).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// A triage score crossing this (either way) is a change.
    #[arg(long, default_value_t = watch::DEFAULT_THRESHOLD)]
    threshold: f64,
    /// The longest one source's sync may take before it is reported stuck (`"stuck": true` on
    /// its sync_failed line) and stopped; the other sources sync beside it regardless.
    #[arg(long, default_value = "10m")]
    source_deadline: String,
}

fn line(out: &mut dyn Write, v: serde_json::Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, &v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Runs `ddesk watch`.
pub fn watch_cmd(db: &Path, args: &WatchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let interval = time::parse_duration(&args.interval, 366 * 86_400_000).map_err(crate::Usage)?;
    if interval < 1000 {
        return Err(crate::Usage(format!("--interval {} is under a second", args.interval)).into());
    }
    if !args.threshold.is_finite() || !(0.0..=100.0).contains(&args.threshold) {
        return Err(crate::Usage("--threshold is a triage score, 0 to 100".into()).into());
    }
    let interval = Duration::from_millis(interval as u64);
    let deadline = time::parse_duration(&args.source_deadline, 86_400_000).map_err(crate::Usage)?;
    if deadline < 1000 {
        return Err(crate::Usage(format!(
            "--source-deadline {} is under a second",
            args.source_deadline
        ))
        .into());
    }
    let deadline = Duration::from_millis(deadline as u64);
    let mut store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
    let configured = sources::list(&store)?;
    for name in &args.sources {
        if !configured.iter().any(|s| &s.name == name) {
            return Err(crate::Usage(format!(
                "no source named {name:?} (see `ddesk sources list`)"
            ))
            .into());
        }
    }
    let mut rota = Rota::new(interval);
    rota.follow(
        configured
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| args.sources.is_empty() || args.sources.iter().any(|a| a == n)),
        Instant::now(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let cancel = CancellationToken::new();
    {
        let c = cancel.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                c.cancel();
            }
        });
    }
    let keychain = Keychain::for_cache(db);
    let mut before = Snapshot::take(&store)?;
    let mut round = 0u64;
    while !cancel.is_cancelled() {
        round += 1;
        let started = Instant::now();
        // Sources whose time has come, together (each within its deadline): a slow one keeps
        // no other waiting, and a source is never synced twice at once.
        let due = rota.due(started);
        let attempts = watch::sync_due(
            &rt,
            db,
            &due,
            &keychain,
            &cancel,
            deadline,
            |name, error| rota.record(name, error, time::now(), std::time::Instant::now()),
        );
        for a in attempts {
            if let Some(error) = a.error {
                line(
                    out,
                    json!({"at": time::to_rfc3339(time::now()), "kind": "sync_failed", "source": a.source,
                           "throttled": a.kind == Some(SourceErrorKind::Throttled),
                           "stuck": a.kind == Some(SourceErrorKind::Stuck), "error_kind": a.kind,
                           "error": error,
                           "failures": a.failures, "retry_in_ms": a.retry_in.as_millis() as u64}),
                )?;
            }
        }
        let look = watch::look(&rt, &store, &before, args.threshold)?;
        if let Some(error) = look.colleagues_error {
            line(
                out,
                json!({"at": time::to_rfc3339(time::now()), "kind": "sync_failed", "source": "anchor",
                       "throttled": error.kind == SourceErrorKind::Throttled, "error_kind": error.kind,
                       "error": error.message}),
            )?;
        }
        for c in &look.changes {
            line(out, serde_json::to_value(c)?)?;
        }
        before = look.after;
        let next: BTreeMap<&str, String> = rota
            .iter()
            .map(|(n, s)| {
                let wait = s.next.saturating_duration_since(Instant::now());
                (n, time::to_rfc3339(time::now() + wait.as_millis() as i64))
            })
            .collect();
        line(
            out,
            json!({"at": time::to_rfc3339(time::now()), "kind": "round", "round": round, "next_sync": next}),
        )?;
        // The cache's own upkeep, a bounded slice per round: chunks an older version wrote
        // are upgraded, and days past the app's *keep raw points* setting compacted.
        desk_engine::app::maintain(&mut store, time::now())?;
        if args.rounds.is_some_and(|n| round >= n) {
            break;
        }
        // Sleep until the next source is due (or one interval, to look at the cache again when
        // other processes fill it), waking at Ctrl-C.
        let until = rota.next_due().unwrap_or(started + interval);
        let wait = until.saturating_duration_since(Instant::now());
        rt.block_on(async {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => {}
            }
        });
    }
    Ok(())
}
