//! `ddesk`'s arguments: every command and flag (a public contract: extend, never rename).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use desk_engine::charts;
use desk_engine::time::{self, Millis};

use crate::output::Format;
use crate::{act, case, remote, usage, watch, Usage};

#[derive(Parser)]
#[command(
    name = "ddesk",
    version,
    about = "Defender Desk: AWS IoT Device Defender data, cached and queryable"
)]
pub(crate) struct Cli {
    /// Cache database (default: cache.sqlite in the OS data dir).
    #[arg(long, global = true, env = "DDESK_DB")]
    pub(crate) db: Option<PathBuf>,
    /// The AWS account (12 digits) of the things a command is about: filters triage, things,
    /// violations and findings (`unknown`: things whose account is not known); picks the
    /// thing when one name is a thing of several accounts; for `sources add`, the account an
    /// S3 bucket's, Splunk index's or Athena table's things belong to.
    #[arg(long, global = true)]
    pub(crate) account: Option<String>,
    /// The region of those things (with --account; for `sources add` the default is --region).
    #[arg(long, global = true)]
    pub(crate) thing_region: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Clone)]
pub(crate) struct Query {
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub(crate) format: Format,
}

#[derive(Args, Clone)]
pub(crate) struct Window {
    /// Start: RFC 3339, epoch seconds, or relative (-24h, -7d).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) from: Option<String>,
    /// End: RFC 3339, epoch seconds, or relative (now, -1h).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) to: Option<String>,
}

impl Window {
    /// The ends as given (each optional).
    pub(crate) fn ends(&self) -> anyhow::Result<(Option<Millis>, Option<Millis>)> {
        let now = time::now();
        let parse = |s: &Option<String>| {
            s.as_deref()
                .map(|s| time::parse_user_time(s, now))
                .transpose()
        };
        Ok((parse(&self.from)?, parse(&self.to)?))
    }

    /// The ends, all of time where not given; the start must not be after the end.
    pub(crate) fn resolve(&self) -> anyhow::Result<(Millis, Millis)> {
        let (from, to) = self.ends()?;
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
    pub(crate) max_inflated_bytes: u64,
    /// Most datapoints one file or object may hold.
    #[arg(long, default_value_t = desk_engine::model::limits::ObjectLimits::default().max_points)]
    pub(crate) max_points: usize,
}

impl Limits {
    pub(crate) fn object_limits(&self) -> desk_engine::model::limits::ObjectLimits {
        desk_engine::model::limits::ObjectLimits {
            max_inflated_bytes: self.max_inflated_bytes,
            max_points: self.max_points,
        }
    }
}

/// A violation's verification state, as the analyst judged it.
#[derive(clap::ValueEnum, Clone, Copy)]
pub(crate) enum VerificationArg {
    /// Not an incident: the behavior was misjudged.
    FalsePositive,
    /// A real anomaly with a benign cause.
    BenignPositive,
    /// A real incident.
    TruePositive,
    /// Not decided.
    Unknown,
}

impl VerificationArg {
    pub(crate) fn as_aws(self) -> desk_engine::model::VerificationState {
        use desk_engine::model::VerificationState as V;
        match self {
            Self::FalsePositive => V::FalsePositive,
            Self::BenignPositive => V::BenignPositive,
            Self::TruePositive => V::TruePositive,
            Self::Unknown => V::Unknown,
        }
    }
}

/// Size, time zone and theme of a chart.
#[derive(Args, Clone)]
pub(crate) struct Look {
    /// Width in pixels, 120 to 4000.
    #[arg(long, default_value_t = 900)]
    pub(crate) width: u32,
    /// Height in pixels, 80 to 4000.
    #[arg(long, default_value_t = 300)]
    pub(crate) height: u32,
    /// Time zone of the axis: UTC or an IANA name (Europe/Paris).
    #[arg(long, default_value = "UTC")]
    pub(crate) tz: String,
    /// Theme.
    #[arg(long, value_enum, default_value = "dark")]
    pub(crate) theme: ThemeArg,
    /// PNG only: device pixels per pixel (2 for a sharp image on a high-DPI screen or in
    /// print), 1 to 4. Text and lines scale with it; the SVG ignores it.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) scale: f32,
}

impl Look {
    pub(crate) fn options(&self) -> anyhow::Result<charts::ChartOptions> {
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
pub(crate) enum Command {
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
    /// Push the analyst's verification state of a Detect violation to AWS
    /// (PutVerificationStateOnViolation), with a plan, a reason, a confirmation and the log.
    VerifyViolation {
        /// Violation id.
        #[arg(long)]
        violation: String,
        /// The verification state.
        #[arg(long, value_enum)]
        state: VerificationArg,
        /// A note for AWS (at most 1,000 characters).
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        c: act::Common,
    },
    /// The action log (who, when, what, why, outcome); `actions verify` checks its hash chain.
    Actions(act::ActionsArgs),
    /// Watch the fleet: each source syncs on its schedule (backing off on errors); one JSON line
    /// per change (`{"at", "kind", "thing", ...}`) and one per round.
    Watch(watch::WatchArgs),
    /// Investigation state of a thing or audit finding: new, investigating, benign or
    /// compromised, an owner, and notes (who and when from the OS).
    Case {
        #[command(subcommand)]
        cmd: case::CaseCmd,
    },
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
        /// The families of documents the files may hold, comma-separated (export,
        /// device-reports, alerts, api): a record of another family is refused and reported.
        #[arg(long, value_name = "FAMILIES")]
        carries: Option<String>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Every thing with its last report, metrics seen and open violations (and its account
    /// and region); `things assign` gives things of unknown account theirs.
    Things {
        #[command(flatten)]
        q: Query,
        #[command(subcommand)]
        cmd: Option<ThingsCmd>,
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
        /// Only things whose investigation is in this state.
        #[arg(long, value_enum)]
        case_state: Option<case::StateArg>,
        #[command(flatten)]
        q: Query,
    },
    /// AWS Security Hub: which of its findings the cache's records came from.
    #[command(subcommand)]
    Hub(HubCmd),
    /// Amazon Athena over the S3 export: the table to create once, the kept screens and their
    /// statistics.
    #[command(subcommand)]
    Athena(AthenaCmd),
    /// The cache's size by kind and by table, its points, bytes per point and the oldest
    /// data (JSON).
    Stats,
    /// Turn days older than --keep-raw into exact hourly aggregates (count, sum, min and max
    /// per hour; the sets seen, with when): charts and triage read them. Nothing is compacted
    /// unless this runs.
    Compact {
        /// Keep raw points this long (e.g. 90d, 26w); older days become hourly aggregates.
        #[arg(long, default_value = "90d")]
        keep_raw: String,
    },
    /// Rewrite chunks an older Defender Desk wrote in the current formats, in short steps
    /// (resumes where it stopped; the app does the same in the background).
    Upgrade,
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

/// Export format.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Chart theme.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum ThemeArg {
    /// Dark background (default).
    Dark,
    /// Light background.
    Light,
}

/// `ddesk hub ...`.
#[derive(Subcommand, Clone)]
pub enum HubCmd {
    /// The Security Hub findings the cache holds records of: ProductArn and Id (what
    /// BatchUpdateFindings names), the account and region each belongs to, the violation,
    /// finding or check it is, its workflow state as last read.
    /// Only one account's: the global --account.
    Findings {
        #[command(flatten)]
        q: Query,
    },
    /// Push an investigation — its state (new → NEW, investigating and compromised → NOTIFIED,
    /// benign → RESOLVED) and latest note, with who set them — to the Security Hub findings it
    /// came through (BatchUpdateFindings), planned, confirmed and logged as every action is
    /// (action `hub`). --source names the Security Hub source.
    Push {
        /// The thing whose violations' findings to update.
        #[arg(long, required_unless_present = "finding", conflicts_with = "finding")]
        thing: Option<String>,
        /// The audit finding whose finding to update.
        #[arg(long)]
        finding: Option<String>,
        #[command(flatten)]
        c: act::Common,
    },
}

/// `ddesk things ...`.
#[derive(Subcommand, Clone)]
pub(crate) enum ThingsCmd {
    /// Gives the things of unknown account the account --account names (and the region
    /// --thing-region names): every one, or those --thing names. Refused, changing nothing,
    /// when a thing of that name is already known in that account.
    Assign {
        /// Only these things (repeatable).
        #[arg(long)]
        thing: Vec<String>,
    },
}

/// `ddesk athena ...`.
#[derive(Subcommand, Clone)]
pub enum AthenaCmd {
    /// Print the CREATE EXTERNAL TABLE to run once in Athena (OpenX JSON SerDe, partition
    /// projection on the Firehose export's yyyy/MM/dd/HH folders).
    Ddl {
        /// The export's bucket.
        #[arg(long)]
        bucket: String,
        /// Key prefix before the YYYY/MM/DD/HH/ partitions.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Glue database.
        #[arg(long, default_value = desk_engine::sources::athena::sql::DEFAULT_DATABASE)]
        database: String,
        /// Table (default: metrics_export, or device_reports for that layout).
        #[arg(long)]
        table: Option<String>,
        /// What the objects hold.
        #[arg(long, value_enum, default_value = "export")]
        layout: remote::LayoutArg,
    },
    /// The kept screens: per Athena source its window, the things it covered, its candidates,
    /// what its queries scanned and cost.
    Screens {
        #[command(flatten)]
        q: Query,
    },
    /// The statistics a source's last screen judged its candidates against: per metric and
    /// hour the fleet's and each name family's median, 95th percentile, MAD and count.
    Stats {
        /// The Athena source.
        #[arg(long)]
        source: String,
        /// Only this metric (`metric (dimension)` for a dimensioned one).
        #[arg(long)]
        metric: Option<String>,
        #[command(flatten)]
        q: Query,
    },
}
