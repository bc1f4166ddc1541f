//! `ddesk`: the Defender Desk command line — the engine's first user and the scripting
//! interface for SOAR playbooks. Commands, flags and JSON fields are a public contract.

mod act;
mod output;
mod remote;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use desk_engine::analysis::{drift, export, timeline, triage, view};
use desk_engine::charts;
use desk_engine::demo::{self, DemoOptions};
use desk_engine::desk::ActionRequest;
use desk_engine::ingest;
use desk_engine::model::parse::Context;
use desk_engine::model::MetricValue;
use desk_engine::store::Store;
use desk_engine::time::{self, Millis};
use serde_json::{json, Value};

use output::{write_rows, Format};

/// Exit code when some input was rejected but the rest was kept.
const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(
    name = "ddesk",
    version,
    about = "Defender Desk: AWS IoT Device Defender data, cached and queryable"
)]
struct Cli {
    /// Cache database (default: cache.sqlite in the OS data dir).
    #[arg(long, global = true, env = "DDESK_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Query {
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Args, Clone)]
struct Window {
    /// Start: RFC 3339, epoch seconds, or relative (-24h, -7d).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// End: RFC 3339, epoch seconds, or relative (now, -1h).
    #[arg(long, allow_hyphen_values = true)]
    to: Option<String>,
}

impl Window {
    fn resolve(&self) -> anyhow::Result<(Millis, Millis)> {
        let now = time::now();
        let from = self
            .from
            .as_deref()
            .map(|s| time::parse_user_time(s, now))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|s| time::parse_user_time(s, now))
            .transpose()?;
        let (from, to) = (from.unwrap_or(0), to.unwrap_or(i64::MAX));
        if from > to {
            usage!("--from is after --to");
        }
        Ok((from, to))
    }
}

/// Caps on one file or object, so a hostile one cannot exhaust memory (it is refused whole,
/// the rest kept).
#[derive(Args, Clone)]
pub(crate) struct Limits {
    /// Most bytes one file or object may inflate to.
    #[arg(long, default_value_t = desk_engine::model::limits::ObjectLimits::default().max_inflated_bytes)]
    max_inflated_bytes: u64,
    /// Most datapoints one file or object may hold.
    #[arg(long, default_value_t = desk_engine::model::limits::ObjectLimits::default().max_points)]
    max_points: usize,
}

impl Limits {
    pub(crate) fn object_limits(&self) -> desk_engine::model::limits::ObjectLimits {
        desk_engine::model::limits::ObjectLimits {
            max_inflated_bytes: self.max_inflated_bytes,
            max_points: self.max_points,
        }
    }
}

/// Size, time zone and theme of a chart.
#[derive(Args, Clone)]
struct Look {
    /// Width in pixels, 120 to 4000.
    #[arg(long, default_value_t = 900)]
    width: u32,
    /// Height in pixels, 80 to 4000.
    #[arg(long, default_value_t = 300)]
    height: u32,
    /// Time zone of the axis: UTC or an IANA name (Europe/Paris).
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// Theme.
    #[arg(long, value_enum, default_value = "dark")]
    theme: ThemeArg,
    /// PNG only: device pixels per pixel (2 for a sharp image on a high-DPI screen or in
    /// print), 1 to 4. Text and lines scale with it; the SVG ignores it.
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
}

impl Look {
    fn options(&self) -> anyhow::Result<charts::ChartOptions> {
        charts::check_size(self.width, self.height, self.scale).map_err(Usage)?;
        Ok(charts::ChartOptions {
            width: self.width,
            height: self.height,
            zone: charts::Zone::parse(&self.tz).map_err(Usage)?,
            theme: match self.theme {
                ThemeArg::Dark => charts::Theme::Dark,
                ThemeArg::Light => charts::Theme::Light,
            },
            scale: self.scale,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Configure the remote sources: S3 (Firehose exports), Splunk, the Device Defender API.
    Sources {
        #[command(subcommand)]
        cmd: remote::SourcesCmd,
    },
    /// Pull every source (or --source N) into the cache, concurrently and incrementally;
    /// progress on stderr, a JSON summary on stdout; exit 3 when a source or object failed.
    Sync(remote::SyncArgs),
    /// Quarantine a thing: add it to a deny-all static thing group (snapshot first, so release
    /// restores exactly the prior state). Shows the plan and asks unless --yes.
    Quarantine {
        /// Thing name.
        #[arg(long)]
        thing: String,
        /// Quarantine thing group.
        #[arg(long, default_value = "Quarantine")]
        group: String,
        /// Create the group with a deny-all policy if it does not exist.
        #[arg(long)]
        create_group: bool,
        /// Also deactivate the thing's active certificates (release reactivates them).
        #[arg(long)]
        deactivate_certificate: bool,
        #[command(flatten)]
        c: act::Common,
    },
    /// Release a quarantined thing back to its state before the quarantine.
    Release {
        /// Thing name.
        #[arg(long)]
        thing: String,
        #[command(flatten)]
        c: act::Common,
    },
    /// Run an account mitigation action on a violation or an audit finding and follow it.
    Mitigate {
        /// Violation id.
        #[arg(long, conflicts_with = "finding", required_unless_present = "finding")]
        violation: Option<String>,
        /// Audit finding id.
        #[arg(long)]
        finding: Option<String>,
        /// Mitigation action name (ListMitigationActions).
        #[arg(long)]
        action: String,
        #[command(flatten)]
        c: act::Common,
    },
    /// The action log (who, when, what, why, outcome); `actions verify` checks its hash chain.
    Actions(act::ActionsArgs),
    /// Ingest files or folders (recursive) of Device Defender documents; prints a JSON summary.
    Ingest {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Thing for documents that do not name one (device reports, ListMetricValues).
        #[arg(long)]
        thing: Option<String>,
        /// Metric for ListMetricValues responses.
        #[arg(long)]
        metric: Option<String>,
        /// Task id for DescribeAuditTask responses and lone audit-check items.
        #[arg(long)]
        task_id: Option<String>,
        /// The dimension a ListMetricValues response was queried with (NAME:OP, as
        /// `--dimension-name`/`--dimension-value-operator`; the response does not say it).
        #[arg(long)]
        dimension: Option<String>,
        /// When the documents were observed (RFC 3339, epoch seconds, relative): the time of
        /// device reports whose report_id is no epoch time (a tick count).
        #[arg(long, allow_hyphen_values = true)]
        observed: Option<String>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Every thing with its last report, metrics seen and open violations.
    Things {
        #[command(flatten)]
        q: Query,
    },
    /// A thing's datapoints for one metric: {t, value} or {t, values} for sets.
    Series {
        /// Thing name.
        #[arg(long)]
        thing: String,
        /// Metric name.
        #[arg(long)]
        metric: String,
        /// Only this dimension (NAME:OP, e.g. TelemetryTopics:IN).
        #[arg(long)]
        dimension: Option<String>,
        #[command(flatten)]
        w: Window,
        #[command(flatten)]
        q: Query,
    },
    /// When each member of a set-valued metric appeared and went away: {value, opened, closed}.
    Drift {
        /// Thing name.
        #[arg(long)]
        thing: String,
        /// Set-valued metric.
        #[arg(long, default_value = "aws:listening-tcp-ports")]
        metric: String,
        /// With --vs: compare the set reported at this instant...
        #[arg(long, allow_hyphen_values = true, requires = "vs")]
        at: Option<String>,
        /// ... with the set reported at this one: {value, change, attack_surface}.
        #[arg(long, allow_hyphen_values = true, requires = "at")]
        vs: Option<String>,
        #[command(flatten)]
        w: Window,
        #[command(flatten)]
        q: Query,
    },
    /// Render a metric of a thing to SVG or PNG, with thresholds and violation bands; prints
    /// the plot geometry as JSON.
    Chart {
        /// Thing name.
        #[arg(long)]
        thing: String,
        /// Metric name.
        #[arg(long)]
        metric: String,
        /// Output file, .svg or .png.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        w: Window,
        #[command(flatten)]
        look: Look,
    },
    /// Chart the audit-check history (non-compliant resources per check across audit tasks) to
    /// SVG or PNG; prints the plot geometry as JSON.
    AuditChart {
        /// Only this check (then the resources evaluated are drawn too).
        #[arg(long)]
        check: Option<String>,
        /// Output file, .svg or .png.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        w: Window,
        #[command(flatten)]
        look: Look,
    },
    /// Export a thing's data (every metric in the window) as CSV or Parquet.
    Export {
        /// Thing name.
        #[arg(long)]
        thing: String,
        /// csv (to stdout or --out) or parquet (needs --out).
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Output file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        w: Window,
    },
    /// One thing's timeline: violation events, audit findings, mitigations and actions on it,
    /// in time order.
    Timeline {
        /// Thing name.
        #[arg(long)]
        thing: String,
        #[command(flatten)]
        q: Query,
    },
    /// Detect violations, one record per violation id.
    Violations {
        /// Only this thing's.
        #[arg(long)]
        thing: Option<String>,
        /// Only violations still in alarm.
        #[arg(long)]
        active: bool,
        #[command(flatten)]
        q: Query,
    },
    /// Audit history per task and check.
    Audits {
        /// Only this check.
        #[arg(long)]
        check: Option<String>,
        #[command(flatten)]
        q: Query,
    },
    /// Audit findings.
    Findings {
        /// Only this check.
        #[arg(long)]
        check: Option<String>,
        /// Only findings naming this resource, as the non-compliant resource or among the
        /// related resources (certificate id, client id, thing name, policy name, ...).
        #[arg(long)]
        resource: Option<String>,
        #[command(flatten)]
        q: Query,
    },
    /// Mitigation actions as AWS ran them (List{Audit,Detect}MitigationActionsExecutions),
    /// joined to the action log: which intent started each task.
    Mitigations {
        /// Only this thing's (named by the execution, its violation or its findings).
        #[arg(long)]
        thing: Option<String>,
        #[command(flatten)]
        q: Query,
    },
    /// Rank things by risk from cached metrics (own baselines, fleet peers, expected sets,
    /// AWS violations), with reasons and attack categories.
    Triage {
        /// Baseline window (e.g. 7d, 48h).
        #[arg(long, default_value = "7d")]
        window: String,
        /// End of the window (default: the newest datapoint in the cache).
        #[arg(long, allow_hyphen_values = true)]
        to: Option<String>,
        /// Show at most this many things.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        q: Query,
    },
    /// Load the deterministic demo fleet (real-format documents through the parsers).
    Demo {
        /// Number of things.
        #[arg(long, default_value_t = 30)]
        things: usize,
        /// Days of history.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// End of the simulated window (default: now); same options, same data.
        #[arg(long, allow_hyphen_values = true)]
        end: Option<String>,
        /// An account without Device Defender Detect (closed to new customers since 31 Aug
        /// 2026): device reports and lifecycle events instead of the metrics export and alerts.
        #[arg(long)]
        no_detect: bool,
    },
}

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

/// Export format.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Chart theme.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ThemeArg {
    /// Dark background (default).
    Dark,
    /// Light background.
    Light,
}

/// The chart window: as given, else the 7 days up to the thing's newest report.
fn chart_window(store: &Store, thing: &str, w: &Window) -> anyhow::Result<(Millis, Millis)> {
    let now = time::now();
    let newest = store
        .things()?
        .into_iter()
        .find(|s| s.name == thing)
        .and_then(|s| s.last_report);
    let to = match &w.to {
        Some(s) => time::parse_user_time(s, now)?,
        // Never past now: a future-dated point must not move the window.
        None => newest.map_or(now, |n| n.min(now)),
    };
    let from = match &w.from {
        Some(s) => time::parse_user_time(s, now)?,
        None => to.saturating_sub(7 * 86_400_000).max(0),
    };
    if from >= to {
        usage!("--from must be before --to");
    }
    Ok((from, to))
}

fn default_db() -> anyhow::Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("dev", "DefenderDesk", "defender-desk")
        .context("no home directory to keep the cache in: pass --db PATH")?;
    Ok(dirs.data_dir().join("cache.sqlite"))
}

fn t(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, |m| time::to_rfc3339(m).into())
}

fn db_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    match &cli.db {
        Some(p) => Ok(p.clone()),
        None => default_db(),
    }
}

fn open(cli: &Cli) -> anyhow::Result<Store> {
    let path = db_path(cli)?;
    Store::open(&path).with_context(|| format!("opening cache {}", path.display()))
}

/// Writes a chart as SVG or PNG, chosen by the file's extension; returns the SVG's geometry
/// (null for PNG).
fn write_chart(
    path: &std::path::Path,
    svg: impl FnOnce() -> Result<charts::Svg, charts::ChartError>,
    png: impl FnOnce() -> Result<charts::Raster, charts::ChartError>,
) -> anyhow::Result<Value> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (bytes, geometry) = match ext.as_str() {
        "svg" => {
            let svg = svg()?;
            (svg.svg.into_bytes(), serde_json::to_value(svg.geometry)?)
        }
        "png" => {
            let png = png()?;
            (png.png, serde_json::to_value(png.geometry)?)
        }
        _ => usage!("--out must end in .svg or .png"),
    };
    desk_engine::files::write_replacing(path, |w| w.write_all(&bytes))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(geometry)
}

fn require_thing(store: &Store, thing: &str, metric: &str) -> anyhow::Result<()> {
    if !store.has_thing(thing)? {
        bail!("unknown thing {thing:?}: it is not in the cache (see `ddesk things`)");
    }
    let metrics = store.thing_metrics(thing)?;
    if !metrics.iter().any(|m| m == metric) {
        bail!(
            "thing {thing:?} has no metric {metric:?}; it has: {}",
            metrics.join(", ")
        );
    }
    Ok(())
}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Sources { cmd } => return remote::sources_cmd(&db_path(&cli)?, cmd, out),
        Command::Sync(args) => return remote::sync_cmd(&db_path(&cli)?, args, out),
        Command::Quarantine {
            thing,
            group,
            create_group,
            deactivate_certificate,
            c,
        } => {
            let what = ActionRequest::Quarantine {
                thing: thing.clone(),
                group: group.clone(),
                create_group: *create_group,
                deactivate_certificate: *deactivate_certificate,
            };
            return act::act(&db_path(&cli)?, what, c, out);
        }
        Command::Release { thing, c } => {
            let what = ActionRequest::Release {
                thing: thing.clone(),
            };
            return act::act(&db_path(&cli)?, what, c, out);
        }
        Command::Mitigate {
            violation,
            finding,
            action,
            c,
        } => {
            let name = action.clone();
            let what = match (violation, finding) {
                (Some(v), _) => ActionRequest::MitigateViolation {
                    violation: v.clone(),
                    name,
                },
                (None, Some(f)) => ActionRequest::MitigateFinding {
                    finding: f.clone(),
                    name,
                },
                (None, None) => bail!("--violation or --finding is required"),
            };
            return act::act(&db_path(&cli)?, what, c, out);
        }
        Command::Actions(a) => return act::actions_cmd(&db_path(&cli)?, a, out),
        Command::Ingest {
            paths,
            thing,
            metric,
            task_id,
            dimension,
            observed,
            limits,
        } => {
            let dimension = dimension
                .as_deref()
                .map(desk_engine::model::Dimension::parse)
                .transpose()
                .map_err(Usage)?;
            let mut store = open(&cli)?;
            let now = time::now();
            let observed = observed
                .as_deref()
                .map(|s| time::parse_user_time(s, now))
                .transpose()?;
            let ctx = Context {
                thing: thing.clone(),
                metric: metric.clone(),
                task_id: task_id.clone(),
                dimension,
                observed,
                limits: limits.object_limits(),
                not_after: Some(now + desk_engine::model::parse::FUTURE_SKEW),
            };
            let report = ingest::ingest_paths(&mut store, paths, &ctx);
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
            return Ok(
                if report.rejected.is_empty() && report.rejected_records_total == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_PARTIAL)
                },
            );
        }
        Command::Demo {
            things,
            days,
            seed,
            end,
            no_detect,
        } => {
            let mut store = open(&cli)?;
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
            let report = demo::load(&mut store, &opts)?;
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
            if !report.rejected.is_empty() {
                bail!("the demo fleet did not load cleanly: {:?}", report.rejected);
            }
        }
        Command::Triage {
            window,
            to,
            limit,
            q,
        } => {
            let store = open(&cli)?;
            let window = parse_duration(window, triage::MAX_WINDOW)?;
            let to = to
                .as_deref()
                .map(|s| time::parse_user_time(s, time::now()))
                .transpose()?;
            let mut ranked = triage::rank(&store, triage::TriageOptions { window, to })?;
            if let Some(n) = limit {
                ranked.truncate(*n);
            }
            let rows: Vec<Value> = ranked
                .into_iter()
                .map(|r| {
                    json!({"thing": r.thing, "score": r.score,
                           "reasons": r.reasons.iter().map(|x| json!({"text": x.text, "metric": x.metric,
                               "categories": x.categories, "since": t(Some(x.since)), "source": x.source})).collect::<Vec<_>>(),
                           "categories": r.categories, "open_violations": r.open_violations,
                           "last_report": t(r.last_report)})
                })
                .collect();
            if q.format == Format::Table {
                // One line per thing, its reasons joined: what a person scans.
                let flat: Vec<Value> = rows
                    .iter()
                    .map(|r| {
                        let reasons: Vec<&str> =
                            r["reasons"].as_array().into_iter().flatten().filter_map(|x| x["text"].as_str()).collect();
                        json!({"thing": r["thing"], "score": r["score"], "open_violations": r["open_violations"],
                               "reasons": reasons.join("; ")})
                    })
                    .collect();
                write_rows(out, q.format, &flat)?;
            } else {
                write_rows(out, q.format, &rows)?;
            }
        }
        Command::Things { q } => {
            let store = open(&cli)?;
            let rows: Vec<Value> = store
                .things()?
                .into_iter()
                .map(|s| {
                    json!({"name": s.name, "last_report": t(s.last_report), "metrics": s.metrics,
                           "open_violations": s.open_violations})
                })
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Series {
            thing,
            metric,
            dimension,
            w,
            q,
        } => {
            let store = open(&cli)?;
            require_thing(&store, thing, metric)?;
            let (from, to) = w.resolve()?;
            let rows: Vec<Value> = store
                .series(thing, metric, dimension.as_deref(), from, to)?
                .into_iter()
                .map(|p| {
                    let mut row = serde_json::Map::new();
                    row.insert("t".into(), t(Some(p.ts)));
                    match &p.value {
                        MetricValue::Count(c) => row.insert("value".into(), json!(c)),
                        MetricValue::Number(n) => row.insert("value".into(), json!(n)),
                        MetricValue::Ports(v) => row.insert("values".into(), json!(v)),
                        MetricValue::Cidrs(v) | MetricValue::Strings(v) => {
                            row.insert("values".into(), json!(v))
                        }
                        MetricValue::Numbers(v) => row.insert("values".into(), json!(v)),
                    };
                    if let Some(d) = p.dimension {
                        row.insert("dimension".into(), d.into());
                    }
                    Value::Object(row)
                })
                .collect();
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
            let store = open(&cli)?;
            require_thing(&store, thing, metric)?;
            let (from, to) = w.resolve()?;
            let points = store.series(thing, metric, None, from, to)?;
            if points.first().is_some_and(|p| !p.value.kind().is_set()) {
                bail!("metric {metric:?} is not set-valued (ports, cidrs, numbers, strings): drift needs a set");
            }
            if let (Some(a), Some(b)) = (at, vs) {
                let now = time::now();
                let (a, b) = (
                    time::parse_user_time(a, now)?,
                    time::parse_user_time(b, now)?,
                );
                let rows: Vec<Value> = drift::diff(&points, a, b)
                    .into_iter()
                    .map(|d| json!({"value": d.value, "change": d.change, "attack_surface": d.attack_surface}))
                    .collect();
                write_rows(out, q.format, &rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Value> = drift::intervals(&points)
                .into_iter()
                .map(|d| json!({"value": d.value, "opened": t(Some(d.opened)), "closed": t(d.closed)}))
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Chart {
            thing,
            metric,
            out: path,
            w,
            look,
        } => {
            let store = open(&cli)?;
            require_thing(&store, thing, metric)?;
            let (from, to) = chart_window(&store, thing, w)?;
            let opts = look.options()?;
            let view = view::metric_view(&store, thing, metric, from, to, opts.width as usize)?;
            let geometry = write_chart(
                path,
                || charts::render_svg(&view, &opts),
                || charts::render_raster(&view, &opts),
            )?;
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"out": path, "thing": thing, "metric": metric, "from": t(Some(from)), "to": t(Some(to)),
                        "points": view.points, "geometry": geometry}),
            )?;
            writeln!(out)?;
        }
        Command::AuditChart {
            check,
            out: path,
            w,
            look,
        } => {
            let store = open(&cli)?;
            let opts = look.options()?;
            let now = time::now();
            let (from, to) = w.resolve()?;
            let to = if to == i64::MAX { now } else { to };
            let from = if from == 0 {
                to - 90 * 86_400_000
            } else {
                from
            };
            let history =
                desk_engine::analysis::audit::history(&store, check.as_deref(), from, to)?;
            if let Some(c) = check {
                if history.is_empty() {
                    bail!("no audit results for check {c:?} between the given times (see `ddesk audits`)");
                }
            }
            let geometry = write_chart(
                path,
                || charts::audit::render_svg(&history, from, to, &opts),
                || charts::audit::render_raster(&history, from, to, &opts),
            )?;
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"out": path, "from": t(Some(from)), "to": t(Some(to)), "history": history, "geometry": geometry}),
            )?;
            writeln!(out)?;
        }
        Command::Export {
            thing,
            format,
            out: path,
            w,
        } => {
            let store = open(&cli)?;
            if !store.has_thing(thing)? {
                bail!("unknown thing {thing:?}: it is not in the cache (see `ddesk things`)");
            }
            let (from, to) = w.resolve()?;
            let rows = export::thing_rows(&store, thing, from, to)?;
            match format {
                ExportFormat::Parquet => {
                    let Some(path) = path else {
                        bail!("--format parquet needs --out FILE.parquet")
                    };
                    let mut failed = None;
                    desk_engine::files::write_replacing(path, |w| {
                        export::write_parquet(&rows, w).map_err(|e| {
                            let msg = e.to_string();
                            failed = Some(e);
                            std::io::Error::other(msg)
                        })
                    })
                    .with_context(|| format!("writing {}", path.display()))?;
                    if let Some(e) = failed {
                        return Err(e.into());
                    }
                }
                ExportFormat::Csv => {
                    let json_rows: Vec<Value> = rows
                        .iter()
                        .map(|r| {
                            json!({"t": t(Some(r.t)), "metric": r.metric, "dimension": r.dimension,
                                   "value": r.value, "values": r.values, "version": r.version})
                        })
                        .collect();
                    match path {
                        Some(p) => {
                            desk_engine::files::write_replacing(p, |w| {
                                write_rows(w, Format::Csv, &json_rows)
                                    .map_err(std::io::Error::other)
                            })
                            .with_context(|| format!("writing {}", p.display()))?;
                        }
                        None => write_rows(out, Format::Csv, &json_rows)?,
                    }
                }
            }
        }
        Command::Timeline { thing, q } => {
            let store = open(&cli)?;
            if !store.has_thing(thing)? {
                bail!("unknown thing {thing:?}: it is not in the cache (see `ddesk things`)");
            }
            let rows: Vec<Value> = timeline::thing_timeline(&store, thing)?
                .into_iter()
                .map(|e| json!({"t": t(Some(e.t)), "kind": e.kind, "what": e.what, "id": e.id}))
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Violations { thing, active, q } => {
            let store = open(&cli)?;
            if let Some(th) = thing {
                if !store.has_thing(th)? {
                    bail!("unknown thing {th:?}: it is not in the cache (see `ddesk things`)");
                }
            }
            let rows: Vec<Value> = store
                .violations(thing.as_deref(), *active)?
                .into_iter()
                .map(|v| {
                    json!({"violation_id": v.violation_id, "thing": v.thing, "security_profile": v.security_profile,
                           "behavior": v.behavior, "metric": v.metric, "started": t(v.started), "ended": t(v.ended),
                           "last_event": v.last_event, "last_value": v.last_value,
                           "verification_state": v.verification_state,
                           "verification_description": v.verification_description,
                           "confidence": v.confidence})
                })
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Audits { check, q } => {
            let store = open(&cli)?;
            let rows: Vec<Value> = store
                .audits(check.as_deref())?
                .into_iter()
                .map(|a| {
                    json!({"task_id": a.task_id, "task_start": t(a.task_start), "check": a.check, "status": a.status,
                           "non_compliant": a.non_compliant, "total": a.total, "suppressed": a.suppressed,
                           "error_code": a.error_code, "message": a.message})
                })
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Findings { check, resource, q } => {
            let store = open(&cli)?;
            let rows: Vec<Value> = store
                .findings(check.as_deref(), resource.as_deref())?
                .into_iter()
                .map(|f| {
                    json!({"finding_id": f.finding_id, "task_id": f.task_id, "check": f.check, "severity": f.severity,
                           "resource_type": f.resource_type, "resource": f.resource, "reason": f.reason,
                           "reason_code": f.reason_code, "suppressed": f.suppressed, "found": t(f.found),
                           "related_resources": f.related_resources})
                })
                .collect();
            write_rows(out, q.format, &rows)?;
        }
        Command::Mitigations { thing, q } => {
            let store = open(&cli)?;
            if let Some(th) = thing {
                if !store.has_thing(th)? {
                    bail!("unknown thing {th:?}: it is not in the cache (see `ddesk things`)");
                }
            }
            let rows: Vec<Value> = timeline::mitigations(&store, thing.as_deref())?
                .into_iter()
                .map(|m| {
                    let r = m.row;
                    json!({"task_id": r.task_id, "kind": r.kind, "action": r.action, "thing": r.thing,
                           "finding_id": r.finding_id, "violation_id": r.violation_id, "status": r.status,
                           "task_status": r.task_status, "started": t(r.start), "ended": t(r.end),
                           "error_code": r.error_code, "message": r.message, "logged_action": m.logged})
                })
                .collect();
            write_rows(out, q.format, &rows)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
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
            eprintln!("ddesk: {e:#}");
            if e.downcast_ref::<Usage>().is_some() || e.downcast_ref::<time::TimeError>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
