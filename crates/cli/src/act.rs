//! `ddesk quarantine | release | mitigate | actions`: response actions with a plan preview,
//! a required reason, a confirmation, and the hash-chained action log.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use desk_engine::actions::{self, Plan};
use desk_engine::app::{self, ActionRequest};
use desk_engine::store::Store;
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
    /// Check the log's hash chain, and compare it with the anchor when one is configured:
    /// `ok`, `anchored`, and every record `missing` (in the anchor, not here), `extra` (here,
    /// not in the anchor) or `altered`.
    Verify,
    /// The off-machine anchor of the log (an S3 bucket with Object Lock, or Splunk through HEC).
    Anchor {
        #[command(subcommand)]
        cmd: AnchorCmd,
    },
}

#[derive(Subcommand, Clone)]
pub enum AnchorCmd {
    /// Anchor every record in an S3 bucket created with Object Lock enabled (compliance mode),
    /// or in the team's Splunk through HTTP Event Collector.
    Add {
        #[command(subcommand)]
        kind: AnchorKind,
    },
    /// The anchor's settings and how far it is.
    Show,
    /// Send the records the anchor lacks (they are sent after each action; this retries).
    Push,
}

#[derive(Subcommand, Clone)]
pub enum AnchorKind {
    /// An S3 bucket with Object Lock.
    S3 {
        /// Bucket (created with Object Lock enabled).
        #[arg(long)]
        bucket: String,
        /// Key prefix.
        #[arg(long, default_value = "defender-desk/action-log/")]
        prefix: String,
        /// Days each record stays locked (compliance mode: nobody can delete it before).
        #[arg(long, default_value_t = 365)]
        retain_days: u32,
        /// Path-style addressing (S3-compatible stores).
        #[arg(long)]
        path_style: bool,
        #[command(flatten)]
        aws: crate::remote::AwsArgs,
    },
    /// The team's Splunk: every record sent through HTTP Event Collector, read back for
    /// `verify` through a configured Splunk source (the HEC token only in the OS keychain).
    SplunkHec {
        /// HEC base URL (`https://splunk.example.com:8088`).
        #[arg(long)]
        hec_url: String,
        /// Index the records go to (the HEC token must be allowed to write it).
        #[arg(long)]
        index: String,
        /// Splunk source (`ddesk sources add splunk`) whose search API reads the records back.
        #[arg(long)]
        search_source: String,
        /// PEM bundle of CAs to trust for the HEC endpoint.
        #[arg(long)]
        ca_bundle: Option<String>,
        /// Read the HEC token from stdin instead of a terminal prompt.
        #[arg(long)]
        token_stdin: bool,
    },
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

/// Shows the plan and asks. Every string in it may come from the cache or a device (a thing
/// name, a violation's thing, a warning quoting them): each is escaped for the terminal, so a
/// prompt cannot be made to read as another thing's nor retitle the terminal.
pub(crate) fn confirm(
    plan: &Plan,
    reason: &str,
    yes: bool,
    err: &mut dyn Write,
) -> anyhow::Result<bool> {
    let safe = crate::output::terminal_safe;
    writeln!(
        err,
        "{}{} {}:",
        if plan.demo { "[DEMO] " } else { "" },
        plan.action,
        safe(desk_engine::model::scope::name_of(
            plan.thing.as_deref().unwrap_or("")
        ))
    )?;
    if let Some(t) = &plan.target {
        writeln!(
            err,
            "  target: account {} in {} (source {}, caller {})",
            safe(&t.account),
            safe(&t.region),
            safe(&t.source),
            safe(&t.caller)
        )?;
    }
    for w in &plan.warnings {
        writeln!(err, "  warning: {}", safe(w))?;
    }
    if plan.steps.is_empty() {
        writeln!(err, "  nothing to do")?;
    }
    for (i, line) in plan.preview().iter().enumerate() {
        writeln!(err, "  {}. {}", i + 1, safe(line))?;
    }
    writeln!(err, "  reason: {}", safe(reason))?;
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
        let (backend, what) = app::backend_for(&store, c.source.as_deref(), &what).await?;
        let reconciled = actions::reconcile(&mut store, &backend).await?;
        for r in &reconciled {
            eprintln!(
                "ddesk: reconciled an interrupted action: {}",
                crate::output::terminal_safe(&r.to_string())
            );
        }
        let plan = app::plan_request(&backend, &store, &what).await?;
        if c.dry_run {
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"dry_run": true, "plan": plan, "calls": plan.preview()}),
            )?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        if plan.needs_group {
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
        Ok(if outcome.status.succeeded() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    })
}

/// `ddesk actions [verify]`.
pub fn actions_cmd(db: &Path, a: &ActionsArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
    match &a.cmd {
        Some(ActionsCmd::Verify) => {
            let report = runtime()?.block_on(app::query::verify(&store))?;
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
            return Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Some(ActionsCmd::Anchor { cmd }) => {
            let rt = runtime()?;
            match cmd {
                AnchorCmd::Add { kind } => {
                    let (anchor, token) = match kind {
                        AnchorKind::S3 {
                            bucket,
                            prefix,
                            retain_days,
                            path_style,
                            aws,
                        } => (
                            desk_engine::actions::anchor::Anchor::S3 {
                                s3: desk_engine::sources::S3Settings {
                                    bucket: bucket.clone(),
                                    prefix: prefix.clone(),
                                    path_style: *path_style,
                                    carries: None,
                                    aws: aws.settings(),
                                },
                                retain_days: *retain_days,
                            },
                            None,
                        ),
                        AnchorKind::SplunkHec {
                            hec_url,
                            index,
                            search_source,
                            ca_bundle,
                            token_stdin,
                        } => (
                            desk_engine::actions::anchor::Anchor::SplunkHec {
                                hec: desk_engine::actions::anchor::HecSettings {
                                    hec_url: hec_url.clone(),
                                    index: index.clone(),
                                    search_source: search_source.clone(),
                                    ca_bundle: ca_bundle.clone(),
                                },
                            },
                            Some(crate::remote::read_token("Splunk HEC token", *token_stdin)?),
                        ),
                    };
                    rt.block_on(desk_engine::actions::anchor::add(
                        &store,
                        &anchor,
                        token.as_ref(),
                    ))?;
                    let pushed = rt.block_on(desk_engine::actions::anchor::push(&store))?;
                    serde_json::to_writer_pretty(
                        &mut *out,
                        &json!({"anchor": anchor, "push": pushed}),
                    )?;
                }
                AnchorCmd::Show => {
                    let anchor = desk_engine::actions::anchor::configured(&store)?;
                    // The cache id the log is anchored under: a rewritten log pushed under a
                    // new id is a new identity, and this is where it shows.
                    let cache = store.keychain_scope()?;
                    serde_json::to_writer_pretty(
                        &mut *out,
                        &json!({"anchor": anchor, "cache": cache}),
                    )?;
                }
                AnchorCmd::Push => {
                    let pushed = rt.block_on(desk_engine::actions::anchor::push(&store))?;
                    serde_json::to_writer_pretty(&mut *out, &pushed)?;
                    writeln!(out)?;
                    return Ok(if pushed.error.is_none() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(3)
                    });
                }
            }
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let rt = runtime()?;
    // An action interrupted between its call and its log: record what really happened first.
    match rt.block_on(app::query::reconcile_interrupted(&mut store)) {
        Ok(r) => r.iter().for_each(|r| {
            eprintln!(
                "ddesk: reconciled an interrupted action: {}",
                crate::output::terminal_safe(&r.to_string())
            )
        }),
        Err(e) => eprintln!(
            "ddesk: could not reconcile interrupted actions yet: {}",
            crate::output::terminal_safe(&format!("{e:#}"))
        ),
    }
    // Colleagues' actions, read back from the shared anchor (when one is configured).
    if let Some(e) = rt.block_on(desk_engine::watch::pull_colleagues(&store)) {
        eprintln!(
            "ddesk: colleagues' actions not read from the anchor: {}",
            crate::output::terminal_safe(&e.to_string())
        );
    }
    let rows: Vec<Value> = app::query::action_records(&store, a.thing.as_deref())?
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    write_rows(out, a.format, &rows)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// Regression (#29.7): the confirmation prompt shows every string escaped — a thing name
    /// from the cache cannot rewrite the line ("mitigate cam-lobby-017") or retitle the terminal.
    #[test]
    fn the_confirmation_prompt_escapes_what_the_cache_says() {
        let plan: desk_engine::actions::Plan = serde_json::from_value(serde_json::json!({
            "action": "mitigate",
            "thing": "gw-core-1\r\u{1b}[2Kmitigate cam-lobby-017\u{1b}]0;owned\u{7}",
            "group": null,
            "steps": [],
            "warnings": ["violation of \u{202e}1-eroc-wg"],
            "prior": {"groups": [], "certificates": []},
            "demo": false
        }))
        .unwrap();
        let mut shown = Vec::new();
        assert!(super::confirm(&plan, "reason\u{1b}[8m hidden", true, &mut shown).unwrap());
        let text = String::from_utf8(shown).unwrap();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains('\r') && !text.contains('\u{7}'), "{text:?}");
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(
            text.starts_with("mitigate gw-core-1\\u{d}\\u{1b}[2Kmitigate"),
            "{text}"
        );
        assert!(text.contains("\\u{202e}1-eroc-wg"), "{text}");
    }
}
