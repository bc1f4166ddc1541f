//! Screening the fleet with Athena, and drilling into one thing.

use futures_util::future::LocalBoxFuture;

use super::client::{Answer, AthenaClient};
use super::sql::{self, Window};
use super::{cost_usd, AthenaSettings, Layout};
use crate::model::parse::Context;
use crate::sources::contract::{add_stats, Health, HealthStatus, Pull, SourceSummary, SyncCtx};
use crate::sources::{SourceError, SourceErrorKind};
use crate::store::{Screen, ScreenEvidence, Store, SyncMarks};
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
        summary: &'a mut SourceSummary,
    ) -> LocalBoxFuture<'a, crate::Result<()>> {
        Box::pin(drill_down(&self.0, store, thing, summary))
    }
}

fn refuse_layout(settings: &AthenaSettings) -> Result<(), SourceError> {
    if settings.layout == Layout::DeviceReports {
        return Err(SourceError::new(
            SourceErrorKind::Data,
            "this source's table has the device-reports layout, which only `ddesk athena ddl` \
             serves so far: screening and drill-down read the export layout",
        ));
    }
    Ok(())
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

/// One screen: the scan estimated and bounded, three queries (the things covered, numeric
/// outliers, set members), the evidence kept in one write that replaces the last screen.
async fn screen(settings: &AthenaSettings, ctx: &mut SyncCtx<'_>) -> Result<(), SourceError> {
    refuse_layout(settings)?;
    let client = AthenaClient::connect(settings).await;
    let to = ctx.to;
    let w = Window {
        from: ctx.from.unwrap_or(to - DEFAULT_WINDOW),
        to,
    };
    let location = client.table_location().await?;
    let (estimate, listings) = estimate(&client, &location, w).await?;
    ctx.summary.list_calls += listings;
    if estimate > settings.max_scan_bytes {
        return Err(SourceError::new(
            SourceErrorKind::Data,
            format!(
                "refused: each screening query would scan about {:.2} GB of {location} \
                 (about ${:.2}), above this source's limit of {:.2} GB; narrow --from/--to or \
                 raise --max-scan-gb",
                estimate as f64 / 1e9,
                cost_usd(estimate),
                settings.max_scan_bytes as f64 / 1e9
            ),
        ));
    }
    let (db, table, k) = (&settings.database, &settings.table, settings.candidates);
    let queries = [
        sql::things_screened(db, table, w),
        sql::numeric_screen(db, table, w, k),
        sql::set_screen(db, table, w, k.saturating_mul(5)),
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
/// parser as an export object (so the same checks bound it).
async fn drill_down(
    settings: &AthenaSettings,
    store: &mut Store,
    thing: &str,
    summary: &mut SourceSummary,
) -> crate::Result<()> {
    refuse_layout(settings).map_err(crate::Error::Source)?;
    let client = AthenaClient::connect(settings).await;
    let to = crate::time::now();
    let w = Window {
        from: to - DEFAULT_WINDOW,
        to,
    };
    let q = sql::drill_down(&settings.database, &settings.table, w, thing);
    let never = tokio_util::sync::CancellationToken::new();
    let Some(a) = client.run(&q, &never).await.map_err(crate::Error::Source)? else {
        return Ok(());
    };
    summary.queries += 1;
    summary.bytes_scanned += a.scanned;
    summary.cost_usd += cost_usd(a.scanned);
    let doc = export_document(&a).map_err(crate::Error::Source)?;
    let ctx = Context {
        limits: Default::default(),
        carries: Some(vec![crate::model::Carried::Export]),
        ..Context::now()
    };
    let batch = crate::model::parse::parse_bytes(&doc, &ctx).map_err(|e| {
        crate::Error::Source(SourceError::new(
            SourceErrorKind::Data,
            format!("Athena's rows for {thing}: {e}"),
        ))
    })?;
    let stats = store.write_batch(&batch)?;
    add_stats(summary, &[stats]);
    Ok(())
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
            "timestamp": num(a, row, "timestamp")?.map(|v| v as i64),
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
