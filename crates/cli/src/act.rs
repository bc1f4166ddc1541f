//! `ddesk quarantine | release | mitigate | actions`: response actions with a plan preview,
//! a required reason, a confirmation, and the hash-chained action log.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use desk_engine::actions::{self, Backend, Plan};
use desk_engine::desk::{self, ActionRequest};
use desk_engine::store::{outcome_of, Store};
use desk_engine::time;
use serde_json::{json, Value};

use crate::output::{write_rows, Format};

#[derive(Args, Clone)]
pub struct Common {
    /// Why (at least 10 characters; recorded in the action log).
    #[arg(long)]
    reason: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Print the plan (the exact calls) and call nothing.
    #[arg(long)]
    dry_run: bool,
    /// Device Defender source whose AWS settings to use (default: the only one configured;
    /// without one, the demo fleet's simulated account or the default credential chain).
    #[arg(long)]
    source: Option<String>,
}

#[derive(Subcommand, Clone)]
pub enum ActionsCmd {
    /// Check the log's hash chain: any edit or deletion is reported.
    Verify,
}

#[derive(Args, Clone)]
pub struct ActionsArgs {
    #[command(subcommand)]
    cmd: Option<ActionsCmd>,
    /// Only this thing's actions.
    #[arg(long)]
    thing: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn confirm(plan: &Plan, reason: &str, yes: bool, err: &mut dyn Write) -> anyhow::Result<bool> {
    writeln!(
        err,
        "{}{} {}:",
        if plan.demo { "[DEMO] " } else { "" },
        plan.action,
        plan.thing.as_deref().unwrap_or("")
    )?;
    if let Some(t) = &plan.target {
        writeln!(
            err,
            "  target: account {} in {} (source {}, caller {})",
            t.account, t.region, t.source, t.caller
        )?;
    }
    for w in &plan.warnings {
        writeln!(err, "  warning: {w}")?;
    }
    if plan.steps.is_empty() {
        writeln!(err, "  nothing to do")?;
    }
    for (i, line) in plan.preview().iter().enumerate() {
        writeln!(err, "  {}. {line}", i + 1)?;
    }
    writeln!(err, "  reason: {reason}")?;
    if yes {
        return Ok(true);
    }
    if !io::stdin().is_terminal() {
        bail!("no terminal to confirm on: review the plan above and pass --yes (or --dry-run)");
    }
    write!(err, "Proceed? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Plans, confirms and executes one action.
pub fn act(
    db: &Path,
    what: ActionRequest,
    c: &Common,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if c.reason.trim().chars().count() < actions::MIN_REASON {
        bail!(
            "--reason must be at least {} characters (it goes into the action log)",
            actions::MIN_REASON
        );
    }
    let rt = runtime()?;
    rt.block_on(async {
        let mut store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
        let backend = Backend::for_cache(&store, c.source.as_deref()).await?;
        let reconciled = actions::reconcile(&mut store, &backend).await?;
        for r in &reconciled {
            eprintln!("ddesk: reconciled an interrupted action: {r}");
        }
        let plan = desk::plan_request(&backend, &store, &what).await?;
        if c.dry_run {
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"dry_run": true, "plan": plan, "calls": plan.preview()}),
            )?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        if plan.action == "quarantine" && plan.warnings.iter().any(|w| w.contains("--create-group")) {
            confirm(&plan, &c.reason, true, &mut io::stderr())?;
            bail!("the quarantine group does not exist: pass --create-group to create it with the deny-all policy shown");
        }
        if !confirm(&plan, &c.reason, c.yes, &mut io::stderr())? {
            bail!("not confirmed: nothing was done");
        }
        let actor = backend.actor().await?;
        let outcome = actions::execute(&mut store, &backend, &plan, &c.reason, &actor).await?;
        serde_json::to_writer_pretty(&mut *out, &json!({"plan": plan, "outcome": outcome}))?;
        writeln!(out)?;
        Ok(if outcome.status == "succeeded" {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    })
}

/// `ddesk actions [verify]`.
pub fn actions_cmd(db: &Path, a: &ActionsArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
    if let Some(ActionsCmd::Verify) = a.cmd {
        let report = store.verify_action_log()?;
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(if report.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let pending = {
        let log = store.action_log()?;
        log.iter()
            .any(|r| r.record["type"] == "intent" && outcome_of(&log, r.seq).is_none())
    };
    if pending {
        // An action was interrupted between its call and its log: record what really happened.
        let rt = runtime()?;
        let reconciled = rt.block_on(async {
            let backend = Backend::for_cache(&store, None).await?;
            anyhow::Ok(actions::reconcile(&mut store, &backend).await?)
        });
        match reconciled {
            Ok(r) => r
                .iter()
                .for_each(|r| eprintln!("ddesk: reconciled an interrupted action: {r}")),
            Err(e) => eprintln!("ddesk: could not reconcile interrupted actions yet: {e:#}"),
        }
    }
    let log = store.action_log()?;
    let rows: Vec<Value> = log
        .iter()
        .filter(|r| r.record["type"] == "intent")
        .filter(|r| {
            a.thing
                .as_deref()
                .is_none_or(|t| r.record["plan"]["thing"] == t)
        })
        .map(|r| {
            let outcome = outcome_of(&log, r.seq);
            json!({
                "seq": r.seq,
                "at": time::to_rfc3339(r.at),
                "who": r.record["who"]["aws"],
                "os_user": r.record["who"]["os_user"],
                "action": r.record["plan"]["action"],
                "thing": r.record["plan"]["thing"],
                "reason": r.record["reason"],
                "calls": r.record["calls"],
                "prior": r.record["plan"]["prior"],
                "status": outcome.map_or(Value::from("pending"), |o| o.record["status"].clone()),
                "outcome_at": outcome.map(|o| time::to_rfc3339(o.at)),
                "outcome": outcome.map(|o| json!({"steps": o.record["steps"], "task": o.record["task"], "observed": o.record["observed"]})),
                "demo": r.record["demo"],
                "hash": r.hash,
            })
        })
        .collect();
    write_rows(out, a.format, &rows)?;
    Ok(ExitCode::SUCCESS)
}
