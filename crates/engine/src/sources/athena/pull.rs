//! Screening the fleet with Athena, and drilling into one thing.

use futures_util::future::LocalBoxFuture;

use super::client::{Answer, AthenaClient};
use super::sql::{self, Table, Window};
use super::{cost_usd, AthenaSettings, Estimate, Layout};
use crate::model::parse::Context;
use crate::sources::contract::{add_stats, Health, HealthStatus, Pull, SourceSummary, SyncCtx};
use crate::sources::{SourceError, SourceErrorKind};
use crate::store::{Screen, ScreenEvidence, ScreenStat, Store, SyncMarks};
use crate::time::{Millis, DAY, HOUR};

/// The window a screen reads when none is asked for: the export's 14 days of retention.
pub const DEFAULT_WINDOW: Millis = 14 * DAY;

pub(crate) struct AthenaPull(pub(crate) AthenaSettings);

impl Pull for AthenaPull {
    fn pull<'a>(&'a self, ctx: &'a mut SyncCtx<'_>) -> LocalBoxFuture<'a, Result<(), SourceError>> {
        Box::pin(screen(&self.0, ctx))
    }

    fn test(&self) -> LocalBoxFuture<'_, crate::Result<Health>> {
        Box::pin(async move {
            let client = AthenaClient::connect(&self.0).await;
            Ok(match client.table_location().await {
                Ok(location) => Health {
                    status: HealthStatus::Ok,
                    message: format!(
                        "table {}.{} reads {location}",
                        self.0.database, self.0.table
                    ),
                    hint: None,
                    kind: None,
                },
                Err(e) => Health {
                    status: HealthStatus::Error,
                    hint: Some(format!(
                        "create the table once with the statement `ddesk athena ddl --bucket B --prefix P --database {} --table {}` prints",
                        self.0.database, self.0.table
                    )),
                    kind: Some(e.kind),
                    message: e.message,
                },
            })
        })
    }

    fn drill_down<'a>(
        &'a self,
        store: &'a mut Store,
        thing: &'a str,
        scope: &'a crate::model::scope::Scope,
        summary: &'a mut SourceSummary,
        cancel: &'a tokio_util::sync::CancellationToken,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(drill_down(&self.0, store, thing, scope, summary, cancel))
    }
}

fn table(settings: &AthenaSettings) -> Table<'_> {
    Table {
        database: &settings.database,
        table: &settings.table,
        layout: settings.layout,
    }
}

/// The window a screen or drill-down reads: the one asked for, else the 14 days up to the end
/// of the current hour — the same text for an hour, so a repeated screen can reuse Athena's
/// result (a window that ends in the future reads no more).
pub fn window(from: Option<Millis>, to: Option<Millis>) -> Window {
    let now = crate::time::now();
    let to = to.unwrap_or(now - now.rem_euclid(HOUR) + HOUR);
    Window {
        from: from.unwrap_or(to - DEFAULT_WINDOW),
        to,
    }
}

/// The bytes a query over the window's partitions scans: the stored size of every object
/// under them (one listing per hour), as Athena bills it.
async fn estimate(
    client: &AthenaClient,
    location: &str,
    w: Window,
) -> Result<(u64, u64), SourceError> {
    let rest = location.strip_prefix("s3://").ok_or_else(|| {
        SourceError::new(
            SourceErrorKind::Data,
            format!("table location {location:?} is not on S3"),
        )
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let s3 = client.s3();
    let (mut bytes, mut listings) = (0u64, 0u64);
    let mut hour = w.from - HOUR - (w.from - HOUR).rem_euclid(HOUR);
    while hour <= w.to + HOUR {
        let mut pages = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(format!("{prefix}{}/", sql::datehour(hour)))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| crate::sources::aws::failure("ListObjectsV2", &e))?;
            listings += 1;
            bytes += page
                .contents()
                .iter()
                .map(|o| o.size().unwrap_or(0).max(0) as u64)
                .sum::<u64>();
        }
        hour += HOUR;
    }
    Ok((bytes, listings))
}

/// What each query over the default window (or `w`) would scan and cost, from one listing of
/// its partitions; nothing runs in Athena.
pub async fn estimate_for(
    name: &str,
    settings: &AthenaSettings,
    queries: u32,
) -> Result<Estimate, SourceError> {
    let client = AthenaClient::connect(settings).await;
    let location = client.table_location().await?;
    let (bytes, _) = estimate(&client, &location, window(None, None)).await?;
    Ok(Estimate {
        source: name.to_string(),
        location,
        bytes_per_query: bytes,
        queries,
        cost_usd: f64::from(queries) * cost_usd(bytes),
        max_scan_bytes: settings.max_scan_bytes,
        refused: bytes > settings.max_scan_bytes,
    })
}

/// Estimates what one query over `w` scans (its listing calls counted in `list_calls`) and
/// refuses it above the source's limit, naming the estimate.
async fn bounded(
    client: &AthenaClient,
    settings: &AthenaSettings,
    w: Window,
    what: &str,
    list_calls: &mut u64,
) -> Result<(), SourceError> {
    let location = client.table_location().await?;
    let (estimate, listings) = estimate(client, &location, w).await?;
    *list_calls += listings;
    if estimate > settings.max_scan_bytes {
        return Err(over_limit(settings, &location, estimate, what));
    }
    Ok(())
}

/// The refusal of a query estimated above the source's limit.
fn over_limit(settings: &AthenaSettings, location: &str, estimate: u64, what: &str) -> SourceError {
    SourceError::new(
        SourceErrorKind::Data,
        format!(
            "refused: {what} would scan about {:.2} GB of {location} (about ${:.2}), above this \
             source's limit of {:.2} GB; narrow --from/--to or raise --max-scan-gb",
            estimate as f64 / 1e9,
            cost_usd(estimate),
            settings.max_scan_bytes as f64 / 1e9
        ),
    )
}

fn num(a: &Answer, row: &[Option<String>], col: &str) -> Result<Option<f64>, SourceError> {
    let i = a.column(col)?;
    row.get(i)
        .and_then(|v| v.as_deref())
        .map(|v| {
            v.parse::<f64>().map_err(|_| {
                SourceError::new(
                    SourceErrorKind::Data,
                    format!("Athena's {col} {v:?} is not a number"),
                )
            })
        })
        .transpose()
}

fn text(a: &Answer, row: &[Option<String>], col: &str) -> Result<Option<String>, SourceError> {
    let i = a.column(col)?;
    Ok(row.get(i).cloned().flatten())
}

fn required(v: Option<String>, col: &str) -> Result<String, SourceError> {
    v.filter(|s| !s.is_empty() && s.len() <= 512 && !s.chars().any(char::is_control))
        .ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::Data,
                format!("Athena's {col} is missing or not a name"),
            )
        })
}

fn numeric_evidence(a: &Answer) -> Result<Vec<ScreenEvidence>, SourceError> {
    let mut out: Vec<ScreenEvidence> = Vec::new();
    for row in &a.rows {
        let metric = required(text(a, row, "metric")?, "metric")?;
        let dim = text(a, row, "dim")?.unwrap_or_default();
        let ev = ScreenEvidence {
            thing: required(text(a, row, "thing")?, "thing")?,
            metric: if dim.is_empty() {
                metric
            } else {
                format!("{metric} ({dim})")
            },
            kind: "numeric".into(),
            member: None,
            since: num(a, row, "since")?.unwrap_or(0.0) as Millis,
            peak: num(a, row, "peak")?,
            median: num(a, row, "med")?,
            ratio: num(a, row, "ratio")?,
            hours: num(a, row, "hours")?.map(|h| h as i64),
            basis: text(a, row, "basis")?,
            peers: num(a, row, "peers")?.map(|p| p as i64),
        };
        // One row per thing and metric: the strongest basis.
        match out
            .iter_mut()
            .find(|o| o.thing == ev.thing && o.metric == ev.metric)
        {
            Some(o) if o.ratio < ev.ratio => *o = ev,
            Some(_) => {}
            None => out.push(ev),
        }
    }
    Ok(out)
}

fn set_evidence(a: &Answer) -> Result<Vec<ScreenEvidence>, SourceError> {
    a.rows
        .iter()
        .map(|row| {
            let how = text(a, row, "how")?;
            Ok(ScreenEvidence {
                thing: required(text(a, row, "thing")?, "thing")?,
                metric: required(text(a, row, "metric")?, "metric")?,
                kind: if how.as_deref() == Some("new") {
                    "new-member"
                } else {
                    "surface"
                }
                .into(),
                member: Some(required(text(a, row, "member")?, "member")?),
                since: num(a, row, "opened")?.unwrap_or(0.0) as Millis,
                peak: None,
                median: None,
                ratio: None,
                hours: None,
                basis: None,
                peers: None,
            })
        })
        .collect()
}

/// At most this many statistics rows a screen keeps: 14 days × 24 hours × 12 metrics of the
/// fleet (4,032) and the largest name families' after them.
const STATS_LIMIT: u32 = 20_000;

/// The statistics rows; one whose family is not a name (the names come from devices' topics in
/// the device-reports layout) is left out, as it judged no candidate.
fn fleet_stats(a: &Answer) -> Result<Vec<ScreenStat>, SourceError> {
    a.rows
        .iter()
        .filter_map(|row| {
            let family = match text(a, row, "family") {
                Ok(Some(f)) => Some(required(Some(f), "family").ok()?),
                Ok(None) => None,
                Err(e) => return Some(Err(e)),
            };
            Some(stat(a, row, family))
        })
        .collect()
}

fn stat(
    a: &Answer,
    row: &[Option<String>],
    family: Option<String>,
) -> Result<ScreenStat, SourceError> {
    let metric = required(text(a, row, "metric")?, "metric")?;
    let dim = text(a, row, "dim")?.unwrap_or_default();
    let scope = required(text(a, row, "scope")?, "scope")?;
    if !matches!(
        (scope.as_str(), &family),
        ("fleet", None) | ("family", Some(_))
    ) {
        return Err(SourceError::new(
            SourceErrorKind::Data,
            format!("Athena's statistics row has scope {scope:?} and family {family:?}"),
        ));
    }
    Ok(ScreenStat {
        scope,
        family,
        metric: if dim.is_empty() {
            metric
        } else {
            format!("{metric} ({dim})")
        },
        hour: num(a, row, "hour")?.unwrap_or(0.0) as Millis,
        things: num(a, row, "n")?.unwrap_or(0.0) as i64,
        median: num(a, row, "med")?,
        p95: num(a, row, "p95")?,
        mad: num(a, row, "mad")?,
    })
}

/// One screen: the scan estimated and bounded, four queries (the things covered, numeric
/// outliers, set members, the statistics they were judged against), kept in one write that
/// replaces the last screen.
async fn screen(settings: &AthenaSettings, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    let client = AthenaClient::connect(settings).await;
    let w = window(ctx.from, ctx.options.to);
    bounded(
        &client,
        settings,
        w,
        "each screening query",
        &mut ctx.summary.list_calls,
    )
    .await?;
    let (t, k) = (table(settings), settings.candidates);
    let queries: [String; super::SCREEN_QUERIES as usize] = [
        sql::things_screened(t, w),
        sql::numeric_screen(t, w, k),
        sql::set_screen(t, w, k.saturating_mul(5)),
        sql::fleet_stats(t, w, STATS_LIMIT),
    ];
    let mut answers = Vec::new();
    let mut screen = Screen {
        source: ctx.name.to_string(),
        from: w.from,
        to: w.to,
        ..Screen::default()
    };
    for q in &queries {
        let Some(answer) = client.run(q, ctx.cancel).await? else {
            return Ok(());
        };
        screen.queries += 1;
        screen.bytes_scanned += answer.scanned;
        screen.cost_usd += if answer.reused {
            0.0
        } else {
            cost_usd(answer.scanned)
        };
        ctx.meter
            .bytes
            .fetch_add(answer.scanned, std::sync::atomic::Ordering::Relaxed);
        ctx.meter.report();
        answers.push(answer);
    }
    let things = &answers[0];
    screen.things = things
        .rows
        .first()
        .map(|r| num(things, r, "things"))
        .transpose()?
        .flatten()
        .unwrap_or(0.0) as u64;
    screen.reasons = numeric_evidence(&answers[1])?;
    screen.reasons.extend(set_evidence(&answers[2])?);
    screen.stats = fleet_stats(&answers[3])?;
    let s = &mut ctx.summary;
    s.things_screened = screen.things;
    s.candidates = {
        let mut t: Vec<&str> = screen.reasons.iter().map(|r| r.thing.as_str()).collect();
        t.sort_unstable();
        t.dedup();
        t.len() as u64
    };
    s.queries = screen.queries;
    s.bytes_scanned = screen.bytes_scanned;
    s.cost_usd = screen.cost_usd;
    s.events += screen.reasons.len() as u64;
    ctx.sink
        .write(
            Vec::new(),
            SyncMarks {
                screen: Some(screen),
                ..SyncMarks::default()
            },
        )
        .await?;
    Ok(())
}

/// A thing's every record of the last 14 days at full resolution, read through the same
/// parser as an export object or a device report from S3 (so the same checks bound it and the
/// same rules date it). A row the parser refuses is counted and named in the warnings; the
/// others are kept.
async fn drill_down(
    settings: &AthenaSettings,
    store: &mut Store,
    thing: &str,
    scope: &crate::model::scope::Scope,
    summary: &mut SourceSummary,
    cancel: &tokio_util::sync::CancellationToken,
) -> crate::Result<()> {
    let client = AthenaClient::connect(settings).await;
    let w = window(None, None);
    bounded(
        &client,
        settings,
        w,
        "the drill-down",
        &mut summary.list_calls,
    )
    .await
    .map_err(crate::Error::Source)?;
    let q = sql::drill_down(table(settings), w, thing);
    // Cancelled: the client has stopped the query (StopQueryExecution).
    let Some(a) = client.run(&q, cancel).await.map_err(crate::Error::Source)? else {
        return Err(crate::Error::Cancelled);
    };
    summary.queries += 1;
    summary.bytes_scanned += a.scanned;
    summary.cost_usd += if a.reused { 0.0 } else { cost_usd(a.scanned) };
    let mut batch = crate::model::Batch::default();
    let refused = |summary: &mut SourceSummary, e: String| {
        summary.skipped += 1;
        if summary.warnings.len() < 20 {
            summary
                .warnings
                .push(format!("Athena's rows for {thing}: {e}"));
        }
    };
    match settings.layout {
        Layout::Export => {
            let doc = export_document(&a).map_err(crate::Error::Source)?;
            let ctx = Context {
                limits: Default::default(),
                carries: Some(vec![crate::model::Carried::Export]),
                ..Context::now()
            };
            match crate::model::parse::parse_bytes(&doc, &ctx) {
                Ok(b) => batch.extend(b),
                Err(e) => refused(summary, e.to_string()),
            }
        }
        Layout::DeviceReports => {
            for row in &a.rows {
                let (hour, doc) = report_document(&a, row, thing).map_err(crate::Error::Source)?;
                let ctx = Context {
                    limits: Default::default(),
                    carries: Some(vec![crate::model::Carried::DeviceReports]),
                    // The partition hour the report arrived in, as for a report read from S3.
                    arrival: crate::model::parse::Arrival::from_name(&format!("{hour}/report")),
                    ..Context::now()
                };
                match crate::model::parse::parse_bytes(&doc, &ctx) {
                    Ok(b) => batch.extend(b),
                    Err(e) => refused(summary, e.to_string()),
                }
            }
        }
    }
    batch.scope = scope.clone();
    let stats = store.write_batch(&batch)?;
    add_stats(summary, &[stats]);
    Ok(())
}

/// A JSON number from Athena's text of a string column a device wrote, or the text itself
/// (which the parser then refuses with its own message).
fn device_number(v: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Number>(v.trim()) {
        Ok(n) => serde_json::Value::Number(n),
        Err(_) => serde_json::Value::String(v.to_string()),
    }
}

/// One drill-down row of the device-reports layout as the report it came from, with the
/// topic the rule added; and the partition hour it arrived in.
fn report_document(
    a: &Answer,
    row: &[Option<String>],
    thing: &str,
) -> Result<(String, Vec<u8>), SourceError> {
    use serde_json::{json, Map, Value};
    let hour = required(text(a, row, "datehour")?, "datehour")?;
    let number = |col: &str| -> Result<Option<Value>, SourceError> {
        Ok(text(a, row, col)?.map(|v| device_number(&v)))
    };
    let mut metrics = Map::new();
    for field in ["listening_tcp_ports", "listening_udp_ports"] {
        if let Some(ports) = text(a, row, field)? {
            let ports: Vec<Value> = ports
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| json!({ "port": device_number(p) }))
                .collect();
            let mut list = json!({ "ports": ports });
            if let Some(total) = number(&format!("{field}_total"))? {
                list["total"] = total;
            }
            metrics.insert(field.into(), list);
        }
    }
    let mut stats = Map::new();
    for col in ["bytes_in", "bytes_out", "packets_in", "packets_out"] {
        if let Some(v) = number(col)? {
            stats.insert(col.into(), v);
        }
    }
    if !stats.is_empty() {
        metrics.insert("network_stats".into(), Value::Object(stats));
    }
    if let Some(conns) = text(a, row, "connections")? {
        let conns: Vec<Value> = conns
            .split(sql::MEMBER_SEPARATOR)
            .filter(|c| !c.is_empty())
            .map(|c| json!({ "remote_addr": c }))
            .collect();
        let mut established = json!({ "connections": conns });
        if let Some(total) = number("connections_total")? {
            established["total"] = total;
        }
        metrics.insert(
            "tcp_connections".into(),
            json!({ "established_connections": established }),
        );
    }
    let mut report = json!({
        "header": { "report_id": number("report_id")?.unwrap_or(Value::Null) },
        "topic": format!("$aws/things/{thing}/defender/metrics/json"),
    });
    if text(a, row, "has_metrics")?.as_deref() == Some("true") {
        report["metrics"] = Value::Object(metrics);
    }
    if let Some(custom) = text(a, row, "custom_metrics")? {
        let mut custom: Value = serde_json::from_str(&custom).map_err(|e| {
            SourceError::new(
                SourceErrorKind::Data,
                format!("Athena's custom_metrics of {thing} is not JSON: {e}"),
            )
        })?;
        retype_custom(&mut custom);
        report["custom_metrics"] = custom;
    }
    Ok((hour, serde_json::to_vec(&report).unwrap_or_default()))
}

/// Custom metric values come back from the string columns as text: numbers and number lists
/// become JSON numbers again; NULL members are dropped.
fn retype_custom(v: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(metrics) = v else { return };
    for values in metrics.values_mut() {
        let Value::Array(values) = values else {
            continue;
        };
        for value in values {
            let Value::Object(fields) = value else {
                continue;
            };
            fields.retain(|_, f| !f.is_null());
            if let Some(Value::String(n)) = fields.get("number") {
                let n = device_number(n);
                fields.insert("number".into(), n);
            }
            if let Some(Value::Array(list)) = fields.get_mut("number_list") {
                for n in list.iter_mut() {
                    if let Value::String(s) = n {
                        *n = device_number(s);
                    }
                }
            }
        }
    }
}

/// The drill-down's rows as the metrics-export document they came from.
fn export_document(a: &Answer) -> Result<Vec<u8>, SourceError> {
    let mut metrics = Vec::with_capacity(a.rows.len());
    let list = |v: Option<String>, sep: char, numbers: bool| -> Option<serde_json::Value> {
        let v = v?;
        let items: Vec<serde_json::Value> = if v.is_empty() {
            Vec::new()
        } else {
            v.split(sep)
                .map(|x| {
                    if numbers {
                        serde_json::from_str(x).unwrap_or(serde_json::Value::String(x.into()))
                    } else {
                        serde_json::Value::String(x.into())
                    }
                })
                .collect()
        };
        Some(serde_json::Value::Array(items))
    };
    for row in &a.rows {
        let mut value = serde_json::Map::new();
        if let Some(c) = text(a, row, "count")? {
            value.insert(
                "count".into(),
                serde_json::from_str(&c).unwrap_or(serde_json::Value::String(c)),
            );
        }
        if let Some(n) = text(a, row, "number")? {
            value.insert(
                "number".into(),
                serde_json::from_str(&n).unwrap_or(serde_json::Value::String(n)),
            );
        }
        for (col, sep, numbers) in [
            ("ports", ',', true),
            ("numbers", ',', true),
            ("cidrs", sql::MEMBER_SEPARATOR, false),
            ("strings", sql::MEMBER_SEPARATOR, false),
        ] {
            if let Some(l) = list(text(a, row, col)?, sep, numbers) {
                value.insert(col.into(), l);
            }
        }
        let mut entry = serde_json::json!({
            "name": text(a, row, "name")?,
            "thing": text(a, row, "thing")?,
            "value": value,
            "version": num(a, row, "version")?.map(|v| v as i64),
            "timestamp": num(a, row, "ts")?.map(|v| v as i64),
        });
        if let Some(dim) = text(a, row, "dim")? {
            entry["dimension"] = serde_json::json!({"name": dim, "operator": text(a, row, "op")?});
        }
        metrics.push(entry);
    }
    Ok(
        serde_json::to_vec(&serde_json::json!({"version": "1.0", "metrics": metrics}))
            .unwrap_or_default(),
    )
}
