//! `ddesk`: the Defender Desk command line — the engine's first user and the scripting
//! interface for SOAR playbooks. Commands, flags and JSON fields are a public contract.
//!
//! Argument parsing and printing only: the arguments are in [`args`], each command's body is
//! one call into the application layer (`desk_engine::app`, `app::query` for the queries),
//! whose typed records are printed as JSON, CSV or a table ([`output`]).

// Doc comments on arguments are `--help` text for people, where a URL is written bare.
#![allow(rustdoc::bare_urls)]

mod act;
mod args;
mod case;
mod output;
mod remote;
mod watch;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Parser;
use desk_engine::analysis::triage;
use desk_engine::app::{query, ActionRequest};
use desk_engine::cases;
use desk_engine::demo::{self, DemoOptions};
use desk_engine::ingest;
use desk_engine::model::parse::Context;
use desk_engine::store::Store;
use desk_engine::time::{self, Millis};
use serde_json::{json, Value};

use args::*;
use output::{write_rows, Format};

/// Exit code when some input was rejected but the rest was kept.
const EXIT_PARTIAL: u8 = 3;

/// `7d`, `48h`, `90m`, `2w` → milliseconds, at most `max`.
fn parse_duration(s: &str, max: Millis) -> anyhow::Result<Millis> {
    time::parse_duration(s.trim_start_matches('-'), max).map_err(|e| Usage(e).into())
}

/// The caller's input was refused (a time, a size, a flag's value): exit 2, as for clap's own
/// usage errors.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Refuses the caller's input: returns a [`Usage`] error (exit 2).
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(crate::Usage(format!($($arg)*)).into())
    };
}
pub(crate) use usage;

/// The app's default cache (`desk_engine::app::default_cache`: one function for both).
fn default_db() -> anyhow::Result<PathBuf> {
    desk_engine::app::default_cache().context("pass --db PATH")
}

fn db_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    match &cli.db {
        Some(p) => Ok(p.clone()),
        None => default_db(),
    }
}

/// `--account` as a filter: 12 digits, or `unknown`.
fn account_filter(cli: &Cli) -> anyhow::Result<Option<String>> {
    match cli.account.as_deref() {
        None => Ok(None),
        Some("unknown") => Ok(Some("unknown".into())),
        Some(a) => {
            desk_engine::model::scope::check_account(a).map_err(Usage)?;
            Ok(Some(a.to_string()))
        }
    }
}

/// The scope `--account` and `--thing-region` state (`default_region` when only the account is
/// given and there is one).
fn stated_scope(
    cli: &Cli,
    default_region: Option<&str>,
) -> anyhow::Result<desk_engine::model::scope::Scope> {
    if cli.account.is_none() && cli.thing_region.is_some() {
        usage!("--thing-region needs --account");
    }
    let region = cli.thing_region.as_deref().or(default_region);
    desk_engine::model::scope::Scope::new(cli.account.as_deref(), cli.account.as_ref().and(region))
        .map_err(|e| Usage(e).into())
}

/// The thing a command names: its name, within --account (and --thing-region) when given, as
/// the engine resolves it (`desk_engine::store::resolve_thing`).
fn thing_arg(cli: &Cli, name: &str) -> anyhow::Result<String> {
    let scope = stated_scope(cli, None)?;
    Ok(scope.key(name))
}

fn open(cli: &Cli) -> anyhow::Result<Store> {
    let path = db_path(cli)?;
    let store = Store::open(&path).with_context(|| format!("opening cache {}", path.display()))?;
    if store.read_only() {
        eprintln!(
            "ddesk: {} cannot be written here: opened read-only (reading works; anything that writes fails)",
            output::terminal_safe(&path.display().to_string())
        );
    }
    Ok(store)
}

/// The chart file's format, from its extension.
fn chart_format(path: &std::path::Path) -> anyhow::Result<query::ChartFormat> {
    match query::ChartFormat::of_path(path) {
        Some(f) => Ok(f),
        None => usage!("--out must end in .svg or .png"),
    }
}

/// Prints one record as pretty JSON and a newline.
fn print_json(out: &mut dyn Write, record: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, record)?;
    writeln!(out)?;
    Ok(())
}

/// One command: the response actions and the commands that write the cache by their own
/// functions below, the reading commands by [`query_cmd`].
fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Sources { cmd } => remote::sources_cmd(
            &db_path(&cli)?,
            cmd,
            &remote::Stated {
                account: cli.account.as_deref(),
                thing_region: cli.thing_region.as_deref(),
            },
            out,
        ),
        Command::Sync(args) => remote::sync_cmd(
            &db_path(&cli)?,
            args,
            &remote::Stated {
                account: cli.account.as_deref(),
                thing_region: cli.thing_region.as_deref(),
            },
            out,
        ),
        Command::Quarantine { c, .. }
        | Command::Release { c, .. }
        | Command::Mitigate { c, .. }
        | Command::VerifyViolation { c, .. }
        | Command::Hub(HubCmd::Push { c, .. }) => {
            let what =
                action_request(&cli)?.context("a response action's command without its request")?;
            act::act(&db_path(&cli)?, what, c, out)
        }
        Command::Actions(a) => act::actions_cmd(&db_path(&cli)?, a, out),
        Command::Case { cmd } => {
            case::case_cmd(&db_path(&cli)?, cmd, &stated_scope(&cli, None)?, out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch(w) => {
            watch::watch_cmd(&db_path(&cli)?, w, out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            paths,
            thing,
            metric,
            task_id,
            dimension,
            observed,
            carries,
            limits,
        } => {
            let mut ctx = ingest_context(
                thing,
                metric,
                task_id,
                dimension.as_deref(),
                observed.as_deref(),
                carries.as_deref(),
                limits,
            )?;
            let mut store = open(&cli)?;
            ctx.scope = match stated_scope(&cli, None)? {
                s if s.is_known() => s,
                _ => ingest::file_scope(&store)?,
            };
            let mut report = ingest::ingest_paths(&mut store, paths, &ctx);
            report.account = ctx.scope.account.clone();
            report.region = ctx.scope.region.clone();
            print_json(out, &report)?;
            Ok(
                if report.rejected.is_empty() && report.rejected_records_total == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_PARTIAL)
                },
            )
        }
        Command::Demo {
            things,
            days,
            seed,
            end,
            no_detect,
        } => {
            let end = end
                .as_deref()
                .map(|e| time::parse_user_time(e, time::now()))
                .transpose()?;
            let opts = DemoOptions {
                things: *things,
                days: *days,
                seed: *seed,
                end: end.unwrap_or_else(time::now),
                detect: !*no_detect,
            };
            let report = demo::load(&mut open(&cli)?, &opts)?;
            print_json(out, &report)?;
            if !report.rejected.is_empty() {
                bail!("the demo fleet did not load cleanly: {:?}", report.rejected);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats => {
            print_json(out, &query::stats(&open(&cli)?)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compact { keep_raw } => {
            let keep = time::parse_duration(keep_raw, time::MAX_DURATION_MS).map_err(Usage)?;
            let report = query::compact(&mut open(&cli)?, keep, time::now())?;
            print_json(out, &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Upgrade => {
            let report = query::upgrade(&mut open(&cli)?)?;
            print_json(out, &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Athena(AthenaCmd::Ddl {
            bucket,
            prefix,
            database,
            table,
            layout,
        }) => {
            let layout = layout.layout();
            let table = table.as_deref().unwrap_or(layout.default_table());
            let ddl =
                desk_engine::sources::athena::sql::ddl(bucket, prefix, database, table, layout)
                    .map_err(Usage)?;
            writeln!(out, "{ddl};")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hub(HubCmd::Findings { q }) => {
            let rows = query::hub_findings(&open(&cli)?, cli.account.as_deref())?;
            write_rows(out, q.format, &rows)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Athena(AthenaCmd::Screens { q }) => {
            write_rows(out, q.format, &query::screens(&open(&cli)?)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Athena(AthenaCmd::Stats { source, metric, q }) => {
            let rows = query::screen_stats(&open(&cli)?, source, metric.as_deref())?;
            write_rows(out, q.format, &rows)?;
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            query_cmd(&cli, out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The request a response-action command asks for (`None` for any other command).
fn action_request(cli: &Cli) -> anyhow::Result<Option<ActionRequest>> {
    Ok(Some(match &cli.command {
        Command::Quarantine {
            thing,
            group,
            create_group,
            deactivate_certificate,
            ..
        } => ActionRequest::Quarantine {
            thing: thing_arg(cli, thing)?,
            group: group.clone(),
            create_group: *create_group,
            deactivate_certificate: *deactivate_certificate,
        },
        Command::Release { thing, .. } => ActionRequest::Release {
            thing: thing_arg(cli, thing)?,
        },
        Command::Mitigate {
            violation,
            finding,
            action,
            ..
        } => {
            let name = action.clone();
            match (violation, finding) {
                (Some(v), _) => ActionRequest::MitigateViolation {
                    violation: v.clone(),
                    name,
                },
                (None, Some(f)) => ActionRequest::MitigateFinding {
                    finding: f.clone(),
                    name,
                },
                (None, None) => bail!("--violation or --finding is required"),
            }
        }
        Command::VerifyViolation {
            violation,
            state,
            description,
            ..
        } => ActionRequest::VerifyViolation {
            violation: violation.clone(),
            state: state.as_aws(),
            description: description.clone(),
        },
        Command::Hub(HubCmd::Push { thing, finding, .. }) => ActionRequest::HubCase {
            thing: thing.as_deref().map(|t| thing_arg(cli, t)).transpose()?,
            finding: finding.clone(),
        },
        _ => return Ok(None),
    }))
}

/// What `ddesk ingest` reads its files with: the flags that say what they hold.
fn ingest_context(
    thing: &Option<String>,
    metric: &Option<String>,
    task_id: &Option<String>,
    dimension: Option<&str>,
    observed: Option<&str>,
    carries: Option<&str>,
    limits: &args::Limits,
) -> anyhow::Result<Context> {
    let dimension = dimension
        .map(desk_engine::model::Dimension::parse)
        .transpose()
        .map_err(Usage)?;
    let now = time::now();
    let observed = observed
        .map(|s| time::parse_user_time(s, now))
        .transpose()?;
    Ok(Context {
        thing: thing.clone(),
        metric: metric.clone(),
        task_id: task_id.clone(),
        dimension,
        observed,
        arrival: None,
        carries: remote::carries_arg(carries)?,
        limits: limits.object_limits(),
        not_after: Some(now + desk_engine::model::parse::FUTURE_SKEW),
        scope: Default::default(),
    })
}

/// `ddesk things assign`: things of unknown account given --account (all of them, or those
/// named).
fn assign_cmd(cli: &Cli, things: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    let scope = stated_scope(cli, None)?;
    if !scope.is_known() {
        usage!("things assign needs --account (the 12-digit account the things belong to)");
    }
    let mut store = open(cli)?;
    let n = if things.is_empty() {
        store.assign_unknown(&scope)?
    } else {
        store.assign_things(&scope, things)?
    };
    print_json(
        out,
        &json!({"assigned": n, "account": scope.account, "region": scope.region}),
    )
}

/// The commands that read the cache and print records (JSON, CSV or a table) or files.
fn query_cmd(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match &cli.command {
        Command::Triage {
            window,
            to,
            limit,
            case_state,
            q,
        } => triage_cmd(cli, (window, to.as_deref()), *limit, *case_state, q, out)?,
        Command::Things {
            cmd: Some(args::ThingsCmd::Assign { thing }),
            ..
        } => assign_cmd(cli, thing, out)?,
        Command::Things { q, cmd: None } => {
            let mut rows = query::things(&open(cli)?)?;
            if let Some(a) = account_filter(cli)? {
                rows.retain(|t| query::of_account(&t.id.key, &a));
            }
            write_rows(out, q.format, &rows)?
        }
        Command::Series {
            thing,
            metric,
            dimension,
            w,
            q,
        } => {
            let (from, to) = w.resolve()?;
            let thing = &thing_arg(cli, thing)?;
            let rows = query::series(&open(cli)?, thing, metric, dimension.as_deref(), from, to)?;
            write_rows(out, q.format, &rows)?;
        }
        Command::Drift {
            thing,
            metric,
            at,
            vs,
            w,
            q,
        } => {
            let store = open(cli)?;
            let window = w.resolve()?;
            let thing = &thing_arg(cli, thing)?;
            if let (Some(a), Some(b)) = (at, vs) {
                let now = time::now();
                let at = (
                    time::parse_user_time(a, now)?,
                    time::parse_user_time(b, now)?,
                );
                let rows = query::drift_diff(&store, thing, metric, window, at)?;
                write_rows(out, q.format, &rows)?;
            } else {
                let rows = query::drift(&store, thing, metric, window.0, window.1)?;
                write_rows(out, q.format, &rows)?;
            }
        }
        Command::Chart {
            thing,
            metric,
            out: path,
            w,
            look,
        } => chart_cmd(cli, (thing, metric), path, w, look, out)?,
        Command::AuditChart {
            check,
            out: path,
            w,
            look,
        } => {
            let format = chart_format(path)?;
            let options = look.options()?;
            w.resolve()?; // --from after --to is refused
            let record = query::audit_chart(
                &open(cli)?,
                check.as_deref(),
                w.ends()?,
                &options,
                (path, format),
            )?;
            print_json(out, &record)?;
        }
        Command::Export {
            thing,
            format,
            out: path,
            w,
        } => export_cmd(cli, thing, *format, path.as_deref(), w, out)?,
        Command::Timeline { thing, q } => {
            let thing = &thing_arg(cli, thing)?;
            write_rows(out, q.format, &query::timeline(&open(cli)?, thing)?)?
        }
        Command::Violations { thing, active, q } => {
            let thing = thing.as_deref().map(|t| thing_arg(cli, t)).transpose()?;
            let mut rows = query::violations(&open(cli)?, thing.as_deref(), *active)?;
            if let Some(a) = account_filter(cli)? {
                rows.retain(|v| query::of_account(&v.id.key, &a));
            }
            write_rows(out, q.format, &rows)?;
        }
        Command::Audits { check, q } => write_rows(
            out,
            q.format,
            &query::audits(&open(cli)?, check.as_deref())?,
        )?,
        Command::Findings { check, resource, q } => {
            let mut rows = query::findings(&open(cli)?, check.as_deref(), resource.as_deref())?;
            if let Some(a) = account_filter(cli)? {
                rows.retain(|f| f.account.as_deref().unwrap_or("unknown") == a);
            }
            write_rows(out, q.format, &rows)?;
        }
        Command::Mitigations { thing, q } => {
            let thing = thing.as_deref().map(|t| thing_arg(cli, t)).transpose()?;
            write_rows(
                out,
                q.format,
                &query::mitigations(&open(cli)?, thing.as_deref())?,
            )?
        }
        Command::Sources { .. }
        | Command::Sync(_)
        | Command::Quarantine { .. }
        | Command::Release { .. }
        | Command::Mitigate { .. }
        | Command::VerifyViolation { .. }
        | Command::Actions(_)
        | Command::Case { .. }
        | Command::Watch(_)
        | Command::Ingest { .. }
        | Command::Athena(_)
        | Command::Hub(_)
        | Command::Stats
        | Command::Compact { .. }
        | Command::Upgrade
        | Command::Demo { .. } => bail!("not a reading command (run dispatches it)"),
    }
    Ok(())
}

/// `ddesk triage`: the ranked fleet; as a table, one line per thing with its reasons joined
/// (what a person scans).
fn triage_cmd(
    cli: &Cli,
    (window, to): (&str, Option<&str>),
    limit: Option<usize>,
    case_state: Option<case::StateArg>,
    q: &Query,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let store = open(cli)?;
    let window = parse_duration(window, triage::MAX_WINDOW)?;
    let to = to
        .map(|s| time::parse_user_time(s, time::now()))
        .transpose()?;
    let rows = query::triage(
        &store,
        &query::TriageQuery {
            options: triage::TriageOptions { window, to },
            case_state: case_state.map(cases::CaseState::from),
            limit,
            account: account_filter(cli)?,
        },
    )?;
    if q.format == Format::Table {
        let flat: Vec<Value> = rows
            .iter()
            .map(|r| {
                let reasons: Vec<&str> = r.reasons.iter().map(|x| x.text.as_str()).collect();
                json!({"thing": r.id.thing, "account": r.id.account, "region": r.id.region,
                       "score": r.score, "open_violations": r.open_violations,
                       "case_state": r.case_state, "reasons": reasons.join("; ")})
            })
            .collect();
        write_rows(out, q.format, &flat)
    } else {
        write_rows(out, q.format, &rows)
    }
}

/// `ddesk chart`: one metric of one thing drawn to an SVG or PNG file; prints what was drawn.
fn chart_cmd(
    cli: &Cli,
    (thing, metric): (&str, &str),
    path: &std::path::Path,
    w: &Window,
    look: &Look,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format = chart_format(path)?;
    let store = open(cli)?;
    let (from, to) = w.ends()?;
    let thing = &desk_engine::app::resolve_thing(&store, &thing_arg(cli, thing)?)?;
    let (from, to) = query::chart_window(&store, thing, from, to)?;
    if from >= to {
        usage!("--from must be before --to");
    }
    let job = query::ChartJob {
        thing,
        metric,
        from,
        to,
        options: look.options()?,
        out: path,
        format,
    };
    print_json(out, &query::chart(&store, &job)?)
}

/// `ddesk export`: a thing's series as CSV (to stdout or a file) or Parquet (to a file).
fn export_cmd(
    cli: &Cli,
    thing: &str,
    format: ExportFormat,
    path: Option<&std::path::Path>,
    w: &Window,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (from, to) = w.resolve()?;
    if format == ExportFormat::Parquet && path.is_none() {
        usage!("--format parquet needs --out FILE.parquet");
    }
    let rows = query::export_rows(&open(cli)?, &thing_arg(cli, thing)?, from, to)?;
    match (format, path) {
        (ExportFormat::Parquet, Some(p)) => query::write_parquet(&rows, p)?,
        (ExportFormat::Parquet, None) => unreachable!("checked above"),
        (ExportFormat::Csv, Some(p)) => {
            let records = query::export_records(rows);
            desk_engine::files::write_replacing(p, |w| {
                write_rows(w, Format::Csv, &records).map_err(std::io::Error::other)
            })
            .with_context(|| format!("writing {}", p.display()))?;
        }
        (ExportFormat::Csv, None) => write_rows(out, Format::Csv, &query::export_records(rows))?,
    }
    Ok(())
}

fn main() -> ExitCode {
    // ddesk's output contract: every instant a response carries prints as RFC 3339 UTC.
    desk_engine::time::write_instants_as(desk_engine::time::Instants::Text);
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DDESK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = run(cli, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ddesk: {}", output::text_safe(&format!("{e:#}"), true));
            if e.downcast_ref::<Usage>().is_some() || e.downcast_ref::<time::TimeError>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
