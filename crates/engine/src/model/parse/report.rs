//! Device-side metrics reports (the Agent SDK's and Device Client's, long and short keys): the
//! thing from the topic or the context, times per the device-report rules.

use super::*;

// ---- device-side metrics reports (long and short keys) ----

#[derive(Deserialize)]
pub(super) struct DeviceReport {
    #[serde(alias = "hed")]
    header: ReportHeader,
    #[serde(alias = "met")]
    metrics: Option<ReportMetrics>,
    #[serde(alias = "cmet")]
    custom_metrics: Option<BTreeMap<String, Vec<CustomValue>>>,
}

#[derive(Deserialize)]
struct ReportHeader {
    #[serde(alias = "rid")]
    report_id: Number,
}

#[derive(Deserialize)]
struct ReportMetrics {
    #[serde(alias = "tp")]
    listening_tcp_ports: Option<PortList>,
    #[serde(alias = "up")]
    listening_udp_ports: Option<PortList>,
    #[serde(alias = "ns")]
    network_stats: Option<NetworkStats>,
    #[serde(alias = "tc")]
    tcp_connections: Option<TcpConnections>,
}

#[derive(Deserialize)]
struct PortList {
    #[serde(alias = "pts")]
    ports: Option<Vec<PortEntry>>,
    #[serde(alias = "t")]
    total: Option<i64>,
}

#[derive(Deserialize)]
struct PortEntry {
    #[serde(alias = "pt")]
    port: i64,
}

#[derive(Deserialize)]
struct NetworkStats {
    #[serde(alias = "bi")]
    bytes_in: Option<i64>,
    #[serde(alias = "bo")]
    bytes_out: Option<i64>,
    #[serde(alias = "pi")]
    packets_in: Option<i64>,
    #[serde(alias = "po")]
    packets_out: Option<i64>,
}

#[derive(Deserialize)]
struct TcpConnections {
    #[serde(alias = "ec")]
    established_connections: Option<Established>,
}

#[derive(Deserialize)]
struct Established {
    #[serde(alias = "cs")]
    connections: Option<Vec<Connection>>,
    #[serde(alias = "t")]
    total: Option<i64>,
}

#[derive(Deserialize)]
struct Connection {
    #[serde(alias = "rad")]
    remote_addr: String,
}

/// Custom metric values: always inside a one-element array (AWS rejects a bare `number`).
#[derive(Deserialize)]
struct CustomValue {
    number: Option<f64>,
    number_list: Option<Vec<f64>>,
    string_list: Option<Vec<String>>,
    ip_list: Option<Vec<String>>,
}

pub(super) fn report_thing(p: &Probe, ctx: &Context) -> Res<String> {
    if let Some(t) = &ctx.thing {
        return Ok(t.clone());
    }
    // A device topic's record never gets here: [`super::device_topic_record`] names its thing.
    raw_str(p.thingName)
        .or_else(|| raw_str(p.thing))
        .or_else(|| raw_str(p.clientId))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ParseError::new(
                "a device metrics report does not name its thing (it travels in the MQTT topic): \
                 give it as context (ddesk ingest --thing T) or add topic() in the IoT rule",
            )
        })
}

/// The IP of `ip:port` or `[v6]:port`, as a host CIDR like the export writes.
/// A connection's `remote_addr` as a CIDR. Device agents write `ip:port`, IPv6 unbracketed
/// (the Agent SDK and aws-c-iot write `2001:db8::10:443`, `::1:60696`): the last `:N` is the
/// port. `[v6]:port`, `v4:port` and a bare address are read too.
fn remote_cidr(addr: &str) -> String {
    use std::net::{IpAddr, SocketAddr};
    let unbracketed = || {
        let (head, port) = addr.rsplit_once(':')?;
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
            return None;
        }
        head.parse::<IpAddr>().ok()
    };
    let ip = addr
        .parse::<SocketAddr>()
        .map(|s| s.ip())
        .ok()
        .or_else(unbracketed)
        .ok_or(())
        .or_else(|_| addr.parse::<IpAddr>());
    match ip {
        Ok(IpAddr::V4(v4)) => format!("{v4}/32"),
        Ok(IpAddr::V6(v6)) => format!("{v6}/128"),
        Err(_) => addr.to_string(),
    }
}

/// Notes kept per file about how reports were dated (the first ten; a summary keeps 20).
const MAX_TIME_NOTES: usize = 10;

fn note(batch: &mut Batch, text: String) {
    if batch.notes.len() < MAX_TIME_NOTES {
        batch.notes.push(text);
    }
}

/// A report's time. `report_id` is only "monotonically increasing, epoch recommended": the
/// Python agent sends epoch seconds, aws-c-iot (the C++/Java v2 SDKs, the IoT Device Client)
/// milliseconds since the device booted, FreeRTOS demos a tick count. So it is a time only
/// when it agrees, within [`REPORT_ID_SKEW`], with the time the context knows (Splunk `_time`,
/// HEC `time`, Firehose's arrival, `--observed`, S3 `LastModified`, the object's name or
/// partition hour); when they disagree the context's time wins. With no context a plausible id
/// is kept and flagged in the notes; an implausible one is refused.
fn report_time(rid: f64, thing: &str, ctx: &Context, batch: &mut Batch) -> Res<Millis> {
    let plausible = |ts: Millis| {
        ts >= EARLIEST_REPORT
            && ctx
                .not_after
                .is_none_or(|limit| ts <= limit + 23 * FUTURE_SKEW)
    };
    let read = time::from_auto(rid).ok().filter(|ts| plausible(*ts));
    let known = match (ctx.observed, ctx.arrival) {
        (Some(at), _) => Some(Arrival::at(
            at,
            "the time its context gives (Splunk _time, HEC time, Firehose arrival or --observed)",
        )),
        (None, a) => a,
    };
    let rid_text = if rid.fract() == 0.0 && rid.abs() < 9e15 {
        format!("{}", rid as i64)
    } else {
        format!("{rid}")
    };
    Ok(match (read, known) {
        (Some(ts), Some(k))
            if ts >= k.earliest - REPORT_ID_SKEW && ts <= k.latest + REPORT_ID_SKEW =>
        {
            ts
        }
        (Some(ts), Some(k)) => {
            let at = k.earliest + (k.latest - k.earliest) / 2;
            note(batch, format!(
                "report {rid_text} of {thing}: its report_id reads as {} but it arrived at {} ({}); dated by its arrival (report_id is no clock on every agent: aws-c-iot counts milliseconds since boot)",
                time::to_rfc3339(ts),
                time::to_rfc3339(at),
                k.what
            ));
            at
        }
        (None, Some(k)) => {
            let at = k.earliest + (k.latest - k.earliest) / 2;
            note(batch, format!(
                "report {rid_text} of {thing}: report_id is not an epoch time; dated by its arrival ({}, {})",
                time::to_rfc3339(at),
                k.what
            ));
            at
        }
        (Some(ts), None) => {
            note(batch, format!(
                "report {rid_text} of {thing}: dated {} by its report_id alone, which nothing confirms (report_id may be a monotonic clock): give the arrival time with `ingest --observed TIME`, or ingest the Firehose objects under their own names",
                time::to_rfc3339(ts)
            ));
            ts
        }
        (None, None) => {
            return Err(ParseError::new(format!(
                "report_id {rid_text} is not a plausible epoch time (seconds or milliseconds between 2015 and now + 1 day; FreeRTOS demos send a tick count, aws-c-iot milliseconds since boot): give the report's time with `ingest --observed TIME`"
            )))
        }
    })
}

pub(super) fn device_report(
    r: DeviceReport,
    thing: &str,
    ctx: &Context,
    batch: &mut Batch,
) -> Res<()> {
    if r.metrics.is_none() && r.custom_metrics.is_none() {
        return Err(ParseError::new(
            "device metrics report has neither metrics nor custom_metrics",
        ));
    }
    let rid = r
        .header
        .report_id
        .as_f64()
        .ok_or_else(|| ParseError::new("report_id is not a number"))?;
    let ts = report_time(rid, thing, ctx, batch)?;
    let mut push = |metric: &str, value: MetricValue| {
        batch.points.push(Datapoint {
            thing: thing.to_string(),
            metric: metric.to_string(),
            dimension: None,
            ts,
            version: super::super::DEVICE_VERSION,
            value,
        })
    };
    if let Some(m) = r.metrics {
        for (list, set, num) in [
            (
                m.listening_tcp_ports,
                "aws:listening-tcp-ports",
                "aws:num-listening-tcp-ports",
            ),
            (
                m.listening_udp_ports,
                "aws:listening-udp-ports",
                "aws:num-listening-udp-ports",
            ),
        ] {
            if let Some(l) = list {
                let ports: Vec<i64> = l.ports.unwrap_or_default().iter().map(|p| p.port).collect();
                push(
                    num,
                    MetricValue::Count(l.total.unwrap_or(ports.len() as i64)),
                );
                push(set, MetricValue::Ports(ports));
            }
        }
        if let Some(ns) = m.network_stats {
            for (v, name) in [
                (ns.bytes_in, "aws:all-bytes-in"),
                (ns.bytes_out, "aws:all-bytes-out"),
                (ns.packets_in, "aws:all-packets-in"),
                (ns.packets_out, "aws:all-packets-out"),
            ] {
                if let Some(v) = v {
                    push(name, MetricValue::Count(v));
                }
            }
        }
        if let Some(ec) = m.tcp_connections.and_then(|t| t.established_connections) {
            let conns = ec.connections.unwrap_or_default();
            push(
                "aws:num-established-tcp-connections",
                MetricValue::Count(ec.total.unwrap_or(conns.len() as i64)),
            );
            let mut cidrs: Vec<String> = Vec::new();
            for c in &conns {
                let cidr = remote_cidr(&c.remote_addr);
                if !cidrs.contains(&cidr) {
                    cidrs.push(cidr);
                }
            }
            push("aws:destination-ip-addresses", MetricValue::Cidrs(cidrs));
        }
    }
    for (name, values) in r.custom_metrics.unwrap_or_default() {
        let Some(v) = values.into_iter().next() else {
            return Err(ParseError::new(format!(
                "custom metric {name:?} has no value"
            )));
        };
        let value = if let Some(n) = v.number {
            MetricValue::Number(n)
        } else if let Some(n) = v.number_list {
            MetricValue::Numbers(n)
        } else if let Some(s) = v.string_list {
            MetricValue::Strings(s)
        } else if let Some(ip) = v.ip_list {
            MetricValue::Cidrs(ip)
        } else {
            return Err(ParseError::new(format!(
                "custom metric {name:?} has none of number, number_list, string_list, ip_list"
            )));
        };
        push(&name, value);
    }
    Ok(())
}
