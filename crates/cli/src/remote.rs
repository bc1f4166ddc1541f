//! `ddesk sources ...` and `ddesk sync`: configuring the three remote sources and pulling them
//! into the cache.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use desk_engine::app;
use desk_engine::secrets::{Keychain, Secret};
use desk_engine::sources::{
    self, AwsSettings, DefenderSettings, S3Settings, Source, SourceSettings, SplunkSettings,
};
use desk_engine::store::Store;
use desk_engine::sync::{self, SyncEvent, SyncOptions};
use desk_engine::time;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::output::{write_rows, Format};

/// Exit code of a sync in which some source or object failed.
const EXIT_PARTIAL: u8 = 3;
/// Exit code of a sync cancelled with Ctrl-C.
const EXIT_CANCELLED: u8 = 130;

#[derive(Args, Clone)]
pub struct AwsArgs {
    /// AWS region (default: the credential chain's, e.g. AWS_REGION or the profile's).
    #[arg(long)]
    region: Option<String>,
    /// Named profile from ~/.aws/config (SSO and assume-role profiles work).
    #[arg(long)]
    profile: Option<String>,
    /// Endpoint URL (S3-compatible stores, test servers). AWS_ENDPOINT_URL is honoured too.
    #[arg(long)]
    endpoint_url: Option<String>,
}

impl AwsArgs {
    pub(crate) fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

/// The account and region `sources add` was told its things belong to (the global
/// `--account` and `--thing-region`).
pub struct Stated<'a> {
    /// `--account`.
    pub account: Option<&'a str>,
    /// `--thing-region`.
    pub thing_region: Option<&'a str>,
}

impl Stated<'_> {
    fn scope(&self, region: Option<&str>) -> anyhow::Result<desk_engine::model::scope::Scope> {
        if self.account.is_none() && self.thing_region.is_some() {
            return Err(crate::Usage("--thing-region needs --account".into()).into());
        }
        let region = self.thing_region.or(region);
        desk_engine::model::scope::Scope::new(self.account, self.account.and(region))
            .map_err(|e| crate::Usage(e).into())
    }
}

#[derive(Subcommand, Clone)]
pub enum AddKind {
    /// S3 bucket that Firehose delivers metrics-export batches to.
    S3 {
        /// Source name.
        #[arg(long)]
        name: String,
        /// Bucket.
        #[arg(long)]
        bucket: String,
        /// Key prefix before the YYYY/MM/DD/HH/ partitions.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Path-style addressing (S3-compatible stores).
        #[arg(long)]
        path_style: bool,
        /// The families of documents it carries, comma-separated: export, device-reports,
        /// alerts, api (a Detect-free bucket: device-reports; an export bucket: export). A
        /// record of another family is refused and reported. Without it, every family is read.
        #[arg(long, value_name = "FAMILIES")]
        carries: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Splunk search head (management port) with the Firehose-fed index.
    Splunk {
        /// Source name.
        #[arg(long)]
        name: String,
        /// Management URL, e.g. https://splunk.example:8089.
        #[arg(long)]
        url: String,
        /// Index.
        #[arg(long)]
        index: String,
        /// Sourcetype.
        #[arg(long, default_value = "aws-iot-device-defender")]
        sourcetype: String,
        /// PEM bundle of CAs to trust (self-signed Splunk certificates).
        #[arg(long)]
        ca_bundle: Option<String>,
        /// Read the token from stdin instead of a terminal prompt.
        #[arg(long)]
        token_stdin: bool,
        /// The families of documents it carries, comma-separated: export, device-reports,
        /// alerts, api (a Detect-free bucket: device-reports; an export bucket: export). A
        /// record of another family is refused and reported. Without it, every family is read.
        #[arg(long, value_name = "FAMILIES")]
        carries: Option<String>,
    },
    /// The Device Defender API of one account and region (learned from STS at its first
    /// sync: the account its things belong to).
    Defender {
        /// Source name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// A table over the S3 export, screened where it lies with Amazon Athena (create it once
    /// with the statement `ddesk athena ddl` prints). --endpoint-url is Athena's; its S3 calls
    /// honour AWS_ENDPOINT_URL_S3.
    Athena {
        /// Source name.
        #[arg(long)]
        name: String,
        /// Glue database.
        #[arg(long, default_value = desk_engine::sources::athena::sql::DEFAULT_DATABASE)]
        database: String,
        /// Table (default: metrics_export, or device_reports for that layout).
        #[arg(long)]
        table: Option<String>,
        /// Where Athena writes query results: s3://BUCKET/PREFIX/.
        #[arg(long)]
        output: String,
        /// Workgroup (default: Athena's primary).
        #[arg(long)]
        workgroup: Option<String>,
        /// The table's layout.
        #[arg(long, value_enum, default_value = "export")]
        layout: LayoutArg,
        /// The most one query may scan, in GB, as estimated before it runs (a query above it is
        /// refused, naming the estimate).
        #[arg(long, default_value_t = 10.0)]
        max_scan_gb: f64,
        /// Candidates a screen keeps.
        #[arg(long, default_value_t = desk_engine::sources::athena::DEFAULT_CANDIDATES)]
        candidates: u32,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Device Defender's findings in AWS Security Hub: every account and region a delegated
    /// administrator's finding aggregator sees (--region is the aggregation region).
    SecurityHub {
        /// Source name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// A table layout (`ddesk athena ddl`, `sources add athena`).
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum LayoutArg {
    /// Device Defender's metrics export.
    Export,
    /// Long-name JSON device reports with the rule's topic (the Detect-free pipeline).
    DeviceReports,
}

impl LayoutArg {
    pub(crate) fn layout(self) -> desk_engine::sources::athena::Layout {
        match self {
            Self::Export => desk_engine::sources::athena::Layout::Export,
            Self::DeviceReports => desk_engine::sources::athena::Layout::DeviceReports,
        }
    }
}

/// GB as bytes, refusing what is not a positive number.
fn gb(v: f64) -> anyhow::Result<u64> {
    if !(v.is_finite() && v > 0.0 && v <= 1e6) {
        bail!("--max-scan-gb must be above 0 and at most 1000000");
    }
    Ok((v * 1e9) as u64)
}

#[derive(Subcommand, Clone)]
pub enum SourcesCmd {
    /// Add a source (settings in the cache; a Splunk token only in the OS keychain).
    Add {
        #[command(subcommand)]
        kind: Box<AddKind>,
    },
    /// List sources with their last sync.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Check a source's connection and say what is wrong.
    Test {
        /// Source name.
        name: String,
    },
    /// Remove a source and its keychain secret (data already synced stays).
    Remove {
        /// Source name.
        name: String,
    },
}

#[derive(Args, Clone)]
pub struct SyncArgs {
    /// Only these sources (repeatable; default: all).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Window start: RFC 3339, epoch seconds or relative (-7d). Default: where the last sync ended.
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Window end (default: now).
    #[arg(long, allow_hyphen_values = true)]
    to: Option<String>,
    /// S3 objects fetched at once (1 to 64); peak memory grows with it (SECURITY.md).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[command(flatten)]
    limits: crate::Limits,
    /// The longest one source's pull may take (e.g. 10m); past it the source is reported stuck
    /// and stopped while the others finish. Default: no deadline.
    #[arg(long)]
    deadline: Option<String>,
    /// Progress on stderr as JSON lines (one engine event per line) instead of text.
    #[arg(long)]
    progress_json: bool,
    /// Drill down on one thing instead (Device Defender sources): its thing groups and 14 days
    /// of metric values from ListMetricValues.
    #[arg(long)]
    thing: Option<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Reads a secret (a Splunk or HEC token) from stdin or a hidden terminal prompt.
pub fn read_token(what: &str, from_stdin: bool) -> anyhow::Result<Secret> {
    let value = if from_stdin {
        let mut line = String::new();
        io::stdin()
            .lock()
            .read_line(&mut line)
            .with_context(|| format!("reading the {what} from stdin"))?;
        line
    } else if io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{what} (input hidden): "))
            .with_context(|| format!("reading the {what} from the terminal"))?
    } else {
        bail!("no terminal to prompt for the {what}: pass --token-stdin and pipe it in");
    };
    let secret = Secret::new(&value);
    if secret.expose().is_empty() {
        bail!("the {what} is empty");
    }
    Ok(secret)
}

/// `--carries FAMILIES` read: the families, or a usage error naming the ones there are.
pub fn carries_arg(flag: Option<&str>) -> anyhow::Result<Option<Vec<desk_engine::model::Carried>>> {
    flag.map(desk_engine::model::Carried::parse_list)
        .transpose()
        .map_err(|e| crate::Usage(format!("--carries: {e}")).into())
}

/// Runs `ddesk sources ...`.
pub fn sources_cmd(
    db: &Path,
    cmd: &SourcesCmd,
    stated: &Stated<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
    match cmd {
        SourcesCmd::Add { kind } => {
            let (name, settings, token, scope) = match kind.as_ref() {
                AddKind::S3 {
                    name,
                    bucket,
                    prefix,
                    path_style,
                    carries,
                    aws,
                } => (
                    name,
                    SourceSettings::S3(S3Settings {
                        bucket: bucket.clone(),
                        prefix: prefix.clone(),
                        path_style: *path_style,
                        carries: carries_arg(carries.as_deref())?,
                        aws: aws.settings(),
                    }),
                    None,
                    stated.scope(aws.region.as_deref())?,
                ),
                AddKind::Splunk {
                    name,
                    url,
                    index,
                    sourcetype,
                    ca_bundle,
                    token_stdin,
                    carries,
                } => (
                    name,
                    SourceSettings::Splunk(SplunkSettings {
                        url: url.clone(),
                        index: index.clone(),
                        sourcetype: sourcetype.clone(),
                        ca_bundle: ca_bundle.clone(),
                        carries: carries_arg(carries.as_deref())?,
                    }),
                    Some(*token_stdin),
                    stated.scope(None)?,
                ),
                AddKind::Defender { name, aws } => (
                    name,
                    SourceSettings::Defender(DefenderSettings {
                        aws: aws.settings(),
                    }),
                    None,
                    stated.scope(aws.region.as_deref())?,
                ),
                AddKind::Athena {
                    name,
                    database,
                    table,
                    output,
                    workgroup,
                    layout,
                    max_scan_gb,
                    candidates,
                    aws,
                } => (
                    name,
                    SourceSettings::Athena(desk_engine::sources::AthenaSettings {
                        database: database.clone(),
                        table: table
                            .clone()
                            .unwrap_or_else(|| layout.layout().default_table().to_string()),
                        output: output.clone(),
                        workgroup: workgroup.clone(),
                        layout: layout.layout(),
                        max_scan_bytes: gb(*max_scan_gb)?,
                        candidates: *candidates,
                        aws: aws.settings(),
                    }),
                    None,
                    stated.scope(aws.region.as_deref())?,
                ),
                AddKind::SecurityHub { name, aws } => (
                    name,
                    SourceSettings::SecurityHub(desk_engine::sources::SecurityHubSettings {
                        aws: aws.settings(),
                    }),
                    None,
                    stated.scope(aws.region.as_deref())?,
                ),
            };
            let source = Source {
                name: name.clone(),
                settings,
                scope,
                account_from: None,
            };
            app::sources::check_new(&store, &source)?;
            // Asked for only once the name and settings are known to be good.
            let token = match (source.settings.secret(), token) {
                (Some(what), Some(from_stdin)) => Some(read_token(what, from_stdin)?),
                _ => None,
            };
            let keychain = Keychain::scoped(&store.keychain_scope()?);
            app::sources::add(&store, &keychain, &source, token)?;
            serde_json::to_writer_pretty(&mut *out, &json!({ "added": source }))?;
            writeln!(out)?;
        }
        SourcesCmd::List { format } => {
            write_rows(out, *format, &app::sources::records(&store)?)?;
        }
        SourcesCmd::Test { name } => {
            let source = sources::get(&store, name)?;
            let rt = runtime()?;
            let health = rt.block_on(sync::test_source(
                &source,
                &Keychain::scoped(&store.keychain_scope()?),
            ));
            // `ok` and `message` as before; `status` (ok, warn, error), `hint` and `kind` added.
            let ok = health.status != sync::HealthStatus::Error;
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({
                    "source": name,
                    "ok": ok,
                    "message": health.message,
                    "status": health.status,
                    "hint": health.hint,
                    "kind": health.kind,
                }),
            )?;
            writeln!(out)?;
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        SourcesCmd::Remove { name } => {
            let keychain = Keychain::scoped(&store.keychain_scope()?);
            let mut store = store;
            app::sources::remove(&mut store, &keychain, name)?;
            serde_json::to_writer_pretty(&mut *out, &json!({ "removed": name }))?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{v:.1} {}", UNITS[i])
}

/// Prints progress on stderr: JSON lines, or text at most every half second per source.
fn progress_printer(json_lines: bool) -> sync::Progress {
    let last: Mutex<std::collections::HashMap<String, Instant>> = Mutex::default();
    Arc::new(move |event: SyncEvent| {
        let mut err = io::stderr().lock();
        if json_lines {
            let _ = serde_json::to_writer(&mut err, &event);
            let _ = writeln!(err);
            return;
        }
        match &event {
            SyncEvent::SourceStarted { source, kind } => {
                let _ = writeln!(err, "[{source}] {kind}: started");
            }
            SyncEvent::Progress {
                source,
                done,
                total,
                bytes,
                events,
                datapoints,
                bytes_per_sec,
                eta_secs,
            } => {
                let mut last = last.lock().expect("lock");
                let now = Instant::now();
                if last
                    .get(source)
                    .is_some_and(|t| now.duration_since(*t) < Duration::from_millis(500))
                    && done != total
                {
                    return;
                }
                last.insert(source.clone(), now);
                let eta = eta_secs.map_or(String::new(), |s| format!(", ETA {s:.0} s"));
                let _ = writeln!(
                    err,
                    "[{source}] {done}/{total} units, {}, {events} events, {datapoints} datapoints, {}/s{eta}",
                    human_bytes(*bytes as f64),
                    human_bytes(*bytes_per_sec),
                );
            }
            SyncEvent::SourceFinished { source, ok, error } => {
                let _ = match error {
                    Some(e) => writeln!(
                        err,
                        "[{source}] failed: {}",
                        crate::output::terminal_safe(&e.to_string())
                    ),
                    None if *ok => writeln!(err, "[{source}] done"),
                    None => writeln!(err, "[{source}] done, with errors (see the summary)"),
                };
            }
        }
    })
}

/// Runs `ddesk sync`.
pub fn sync_cmd(
    db: &Path,
    args: &SyncArgs,
    stated: &Stated<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let now = time::now();
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(|v| time::parse_user_time(v, now))
            .transpose()
    };
    let (from, to) = (parse(&args.from)?, parse(&args.to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            bail!("--from is after --to");
        }
    }
    let rt = runtime()?;
    if let Some(name) = &args.thing {
        desk_engine::sources::splunk::validate_thing(name)?;
        let store = Store::open(db)?;
        // The thing's key: within --account when given, the one thing of that name otherwise.
        let key = desk_engine::store::resolve_thing(&store, &stated.scope(None)?.key(name))?;
        let thing = &key;
        let all = sources::list(&store)?;
        drop(store);
        let chosen: Vec<&Source> = all
            .iter()
            .filter(|s| !matches!(s.settings, SourceSettings::S3(_)))
            .filter(|s| args.sources.is_empty() || args.sources.contains(&s.name))
            .collect();
        if chosen.is_empty() {
            bail!(
                "--thing needs a Device Defender API, Splunk or Athena source (S3 has no per-thing index)"
            );
        }
        let mut results = Vec::new();
        let mut failed = false;
        let keychain = Keychain::for_cache(db);
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("ddesk: cancelling the drill-down (Ctrl-C again to abort at once)");
                c.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(EXIT_CANCELLED));
                }
            }
        });
        for s in chosen {
            if cancel.is_cancelled() {
                break;
            }
            match rt.block_on(sync::drill_down(db, s, thing, &keychain, &cancel)) {
                Ok(summary) => results.push(json!(summary)),
                Err(e) => {
                    failed = true;
                    results.push(json!({ "source": s.name, "ok": false, "error": e.to_string() }));
                }
            }
        }
        let id = desk_engine::model::scope::Thing::from_key(thing);
        serde_json::to_writer_pretty(
            &mut *out,
            &json!({ "thing": id.thing, "account": id.account, "region": id.region, "sources": results }),
        )?;
        writeln!(out)?;
        return Ok(if cancel.is_cancelled() {
            ExitCode::from(EXIT_CANCELLED)
        } else if failed {
            ExitCode::from(EXIT_PARTIAL)
        } else {
            ExitCode::SUCCESS
        });
    }
    let options = SyncOptions {
        sources: args.sources.clone(),
        from,
        to,
        concurrency: args.concurrency.clamp(1, 64),
        limits: args.limits.object_limits(),
        deadline: args
            .deadline
            .as_deref()
            .map(|d| {
                desk_engine::time::parse_duration(d, 86_400_000)
                    .map_err(crate::Usage)
                    .and_then(|ms| {
                        if ms < 1000 {
                            Err(crate::Usage(format!("--deadline {d} is under a second")))
                        } else {
                            Ok(std::time::Duration::from_millis(ms as u64))
                        }
                    })
            })
            .transpose()?,
    };
    let cancel = CancellationToken::new();
    let summary = rt.block_on(async {
        let c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("ddesk: cancelling the sync (Ctrl-C again to abort at once)");
                c.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(EXIT_CANCELLED));
                }
            }
        });
        sync::sync(
            db,
            &options,
            &Keychain::for_cache(db),
            progress_printer(args.progress_json),
            cancel.clone(),
        )
        .await
    })?;
    serde_json::to_writer_pretty(&mut *out, &summary)?;
    writeln!(out)?;
    Ok(if summary.cancelled {
        ExitCode::from(EXIT_CANCELLED)
    } else if summary.failed() {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}
