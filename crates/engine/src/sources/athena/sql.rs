//! The SQL an Athena source runs, in Athena's Trino dialect: the table's DDL, and the
//! screening and drill-down queries over the Firehose export. Every identifier and literal
//! that comes from settings or the analyst is checked or quoted here; a test parses every
//! query as Trino (`sqlglot`) and runs it in the emulator.

use serde::{Deserialize, Serialize};

use crate::model::surface::ATTACK_SURFACE;
use crate::time::{Millis, HOUR};

/// How the table's rows are shaped: one per Firehose record of a metrics-export batch, or one
/// per long-name JSON device report of the Detect-free pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub enum Layout {
    /// Device Defender's metrics export (`{"version", "metrics": [...]}` per record).
    #[default]
    #[serde(rename = "export")]
    Export,
    /// Device reports with the topic the IoT rule adds (`SELECT *, topic() AS topic`).
    #[serde(rename = "device-reports")]
    DeviceReports,
}

impl Layout {
    /// Its word (`export`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Export => "export",
            Self::DeviceReports => "device-reports",
        }
    }

    /// The table name it defaults to.
    pub fn default_table(self) -> &'static str {
        match self {
            Self::Export => "metrics_export",
            Self::DeviceReports => "device_reports",
        }
    }
}

/// The database the DDL defaults to.
pub const DEFAULT_DATABASE: &str = "defender";

/// A database or table name as Athena accepts it unquoted: lowercase letters, digits and `_`,
/// at most 255 characters.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 255
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "{what} {name:?} must be 1-255 lowercase letters, digits and '_'"
        ));
    }
    Ok(())
}

const EXPORT_COLUMNS: &str = "  version string,
  metrics array<struct<name:string, thing:string, value:struct<count:bigint, number:double,
    numbers:array<double>, ports:array<int>, cidrs:array<string>, strings:array<string>>,
    version:bigint, timestamp:bigint, dimension:struct<name:string, operator:string>>>";

/// A device report's columns. Every scalar a device writes is a `string`: the SerDe fails the
/// whole query on a value that does not fit a numeric column (`"bytes_out": 1e30`, `"x"`), so
/// one hostile device could stop every screen; the queries `try_cast` them instead.
const REPORT_COLUMNS: &str = "  header struct<report_id:string, version:string>,
  metrics struct<
    listening_tcp_ports:struct<ports:array<struct<port:string, interface:string>>, total:string>,
    listening_udp_ports:struct<ports:array<struct<port:string, interface:string>>, total:string>,
    network_stats:struct<bytes_in:string, bytes_out:string, packets_in:string, packets_out:string>,
    tcp_connections:struct<established_connections:struct<connections:array<struct<
      remote_addr:string, local_port:string, local_interface:string>>, total:string>>>,
  custom_metrics map<string, array<struct<number:string, number_list:array<string>,
    string_list:array<string>, ip_list:array<string>>>>,
  topic string";

/// The `CREATE EXTERNAL TABLE` an analyst runs once: the OpenX JSON SerDe over
/// `s3://bucket/prefix`, partition projection on Firehose's `yyyy/MM/dd/HH` folders.
pub fn ddl(
    bucket: &str,
    prefix: &str,
    database: &str,
    table: &str,
    layout: Layout,
) -> Result<String, String> {
    check_name("database", database)?;
    check_name("table", table)?;
    if bucket.is_empty()
        || !bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
    {
        return Err(format!("bucket {bucket:?} is not a valid S3 bucket name"));
    }
    if prefix
        .bytes()
        .any(|b| b == b'\'' || b == b'\\' || b.is_ascii_control())
    {
        return Err(format!(
            "prefix {prefix:?} must not hold quotes, backslashes or control characters"
        ));
    }
    let prefix = match prefix.trim_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    let location = format!("s3://{bucket}/{prefix}");
    let (columns, note) = match layout {
        Layout::Export => (
            EXPORT_COLUMNS,
            "-- Device Defender's metrics export, one Firehose record per line. The delivery stream\n\
             -- must end each record with a newline (Firehose processing: AppendDelimiterToRecord):\n\
             -- the OpenX JSON SerDe reads one JSON object per line.\n",
        ),
        Layout::DeviceReports => (
            REPORT_COLUMNS,
            "-- Long-name JSON device reports with the rule's topic (`SELECT *, topic() AS topic`),\n\
             -- one per line (AppendDelimiterToRecord). Short-name (`hed`, `met`) and CBOR reports\n\
             -- cannot be read by Athena's JSON SerDe: publish long-name JSON to use Athena.\n",
        ),
    };
    Ok(format!(
        "{note}CREATE EXTERNAL TABLE IF NOT EXISTS {database}.{table} (\n{columns}\n)\n\
         PARTITIONED BY (datehour string)\n\
         ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n\
         WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')\n\
         LOCATION '{location}'\n\
         TBLPROPERTIES (\n  \
         'projection.enabled' = 'true',\n  \
         'projection.datehour.type' = 'date',\n  \
         'projection.datehour.format' = 'yyyy/MM/dd/HH',\n  \
         'projection.datehour.range' = '2020/01/01/00,NOW',\n  \
         'projection.datehour.interval' = '1',\n  \
         'projection.datehour.interval.unit' = 'HOURS',\n  \
         'storage.location.template' = '{location}${{datehour}}/'\n)"
    ))
}

/// The `datehour` partition value of an instant.
pub fn datehour(ms: Millis) -> String {
    let t = crate::time::to_rfc3339(ms);
    format!("{}/{}/{}/{}", &t[0..4], &t[5..7], &t[8..10], &t[11..13])
}

/// What a screen reads: the window, and the partitions that hold it (an hour either side:
/// Firehose files a record under the hour it arrived in).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Start, epoch ms.
    pub from: Millis,
    /// End, epoch ms (exclusive).
    pub to: Millis,
}

impl Window {
    /// The first and last partition read.
    pub fn partitions(self) -> (String, String) {
        (datehour(self.from - HOUR), datehour(self.to + HOUR))
    }
}

/// The table a query reads, and how its rows are shaped.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    /// Database.
    pub database: &'a str,
    /// Table.
    pub table: &'a str,
    /// Its layout.
    pub layout: Layout,
}

impl Table<'_> {
    fn name(self) -> String {
        format!("\"{}\".\"{}\"", self.database, self.table)
    }

    /// The export's metric records in the window, each a row `m` (Athena keeps an UNNEST of
    /// an array of rows as one row column, as its documentation's examples do).
    fn export_records(self, w: Window) -> String {
        let (lo, hi) = w.partitions();
        format!(
            "SELECT m.thing AS m_thing, m.name AS m_name, m.value AS m_value,
         m.version AS m_version, m.timestamp AS m_ts, m.dimension AS m_dim
  FROM {} CROSS JOIN UNNEST(metrics) AS u(m)
  WHERE datehour BETWEEN '{lo}' AND '{hi}' AND m.timestamp >= {} AND m.timestamp < {}",
            self.name(),
            w.from,
            w.to
        )
    }

    /// The window's device reports as `rep(thing, ts, met, cm)`: the thing from the topic, the
    /// time by the device-report rule — the `report_id` (epoch seconds or milliseconds) when it
    /// agrees within an hour with the partition hour the report arrived in, else the middle of
    /// that hour (`report_id` is a monotonic clock on aws-c-iot agents).
    fn reports(self, w: Window) -> String {
        let (lo, hi) = w.partitions();
        format!(
            "arrived AS (
  SELECT regexp_extract(topic, '{TOPIC}', 1) AS thing, metrics AS met, custom_metrics AS cm,
         CAST(to_unixtime(date_parse(datehour, '%Y/%m/%d/%H')) AS bigint) * 1000 AS hour_ms,
         try_cast(header.report_id AS double) AS rid
  FROM {name}
  WHERE datehour BETWEEN '{lo}' AND '{hi}' AND regexp_like(topic, '{TOPIC}')
),
dated AS (
  SELECT thing, met, cm, hour_ms,
         CASE WHEN rid >= 1E11 AND rid < 1E14 THEN CAST(rid AS bigint)
              WHEN rid > 0 AND rid < 1E11 THEN CAST(rid * 1000 AS bigint) END AS rid_ms
  FROM arrived
),
timed AS (
  SELECT thing, met, cm,
         CASE WHEN rid_ms BETWEEN hour_ms - {skew} AND hour_ms + {hour} - 1 + {skew} THEN rid_ms
              ELSE hour_ms + {half} END AS ts
  FROM dated
),
rep AS (
  SELECT thing, met, cm, ts FROM timed WHERE ts >= {from} AND ts < {to}
)",
            name = self.name(),
            skew = crate::model::parse::REPORT_ID_SKEW,
            hour = HOUR,
            half = (HOUR - 1) / 2,
            from = w.from,
            to = w.to,
        )
    }

    /// `raw(thing, metric, dim, ts, version, v)`: every numeric value of the window.
    fn numeric_records(self, w: Window) -> String {
        match self.layout {
            Layout::Export => format!(
                "raw AS (
  SELECT m_thing AS thing, m_name AS metric, coalesce(m_dim.name, '') AS dim, m_ts AS ts,
         m_version AS version, coalesce(CAST(m_value.count AS double), m_value.number) AS v
  FROM ({})
  WHERE m_value.count IS NOT NULL OR m_value.number IS NOT NULL
)",
                self.export_records(w)
            ),
            Layout::DeviceReports => {
                let mut parts: Vec<String> = [
                    ("aws:all-bytes-in", "met.network_stats.bytes_in"),
                    ("aws:all-bytes-out", "met.network_stats.bytes_out"),
                    ("aws:all-packets-in", "met.network_stats.packets_in"),
                    ("aws:all-packets-out", "met.network_stats.packets_out"),
                    (
                        "aws:num-listening-tcp-ports",
                        "coalesce(met.listening_tcp_ports.total, \
                         CAST(cardinality(met.listening_tcp_ports.ports) AS varchar))",
                    ),
                    (
                        "aws:num-listening-udp-ports",
                        "coalesce(met.listening_udp_ports.total, \
                         CAST(cardinality(met.listening_udp_ports.ports) AS varchar))",
                    ),
                    (
                        "aws:num-established-tcp-connections",
                        "coalesce(met.tcp_connections.established_connections.total, \
                         CAST(cardinality(met.tcp_connections.established_connections.connections) \
                         AS varchar))",
                    ),
                ]
                .iter()
                .map(|(metric, value)| {
                    format!(
                        "SELECT thing, '{metric}' AS metric, '' AS dim, ts, {DEVICE} AS version,
         try_cast({value} AS double) AS v
  FROM rep WHERE try_cast({value} AS double) IS NOT NULL"
                    )
                })
                .collect();
                parts.push(format!(
                    "SELECT r.thing, k AS metric, '' AS dim, r.ts, {DEVICE} AS version,
         try_cast(element_at(element_at(r.cm, k), 1).number AS double) AS v
  FROM rep r CROSS JOIN UNNEST(map_keys(r.cm)) AS c(k)
  WHERE try_cast(element_at(element_at(r.cm, k), 1).number AS double) IS NOT NULL"
                ));
                format!(
                    "{},\nraw AS (\n  {}\n)",
                    self.reports(w),
                    parts.join("\n  UNION ALL\n  ")
                )
            }
        }
    }

    /// `sets(thing, metric, ts)` (every set report, empty ones too) and `members(thing,
    /// metric, ts, member)` of the listening ports and destination IPs, version duplicates
    /// resolved by the highest `version`.
    fn set_records(self, w: Window) -> String {
        match self.layout {
            Layout::Export => format!(
                "raw AS (
  SELECT m_thing AS thing, m_name AS metric, m_ts AS ts, m_version AS version, m_value AS value
  FROM ({})
  WHERE m_name IN ('aws:listening-tcp-ports', 'aws:listening-udp-ports',
                   'aws:destination-ip-addresses')
),
best AS (
  SELECT thing, metric, ts, max(version) AS version FROM raw GROUP BY thing, metric, ts
),
sets AS (
  SELECT r.thing, r.metric, r.ts, r.value
  FROM raw r JOIN best b
    ON r.thing = b.thing AND r.metric = b.metric AND r.ts = b.ts AND r.version = b.version
),
members AS (
  SELECT s.thing, s.metric, s.ts, CAST(p AS varchar) AS member
  FROM sets s CROSS JOIN UNNEST(s.value.ports) AS x(p)
  UNION ALL
  SELECT s.thing, s.metric, s.ts, c AS member
  FROM sets s CROSS JOIN UNNEST(s.value.cidrs) AS y(c)
)",
                self.export_records(w)
            ),
            // A report is the only version of itself: duplicates are re-deliveries.
            Layout::DeviceReports => format!(
                "{},
sets AS (
  SELECT thing, 'aws:listening-tcp-ports' AS metric, ts FROM rep
  WHERE met.listening_tcp_ports IS NOT NULL
  UNION ALL
  SELECT thing, 'aws:listening-udp-ports' AS metric, ts FROM rep
  WHERE met.listening_udp_ports IS NOT NULL
  UNION ALL
  SELECT thing, 'aws:destination-ip-addresses' AS metric, ts FROM rep
  WHERE met.tcp_connections.established_connections IS NOT NULL
),
members AS (
  SELECT r.thing, 'aws:listening-tcp-ports' AS metric, r.ts,
         CAST(try_cast(x.p.port AS bigint) AS varchar) AS member
  FROM rep r CROSS JOIN UNNEST(r.met.listening_tcp_ports.ports) AS x(p)
  WHERE try_cast(x.p.port AS bigint) IS NOT NULL
  UNION ALL
  SELECT r.thing, 'aws:listening-udp-ports' AS metric, r.ts,
         CAST(try_cast(x.p.port AS bigint) AS varchar) AS member
  FROM rep r CROSS JOIN UNNEST(r.met.listening_udp_ports.ports) AS x(p)
  WHERE try_cast(x.p.port AS bigint) IS NOT NULL
  UNION ALL
  SELECT r.thing, 'aws:destination-ip-addresses' AS metric, r.ts, {cidr} AS member
  FROM rep r
    CROSS JOIN UNNEST(r.met.tcp_connections.established_connections.connections) AS y(c)
  WHERE y.c.remote_addr IS NOT NULL
)",
                self.reports(w),
                cidr = CIDR.replace("'IPV6'", &format!("'{IPV6}'")),
            ),
        }
    }
}

/// A device's own metrics topic (JSON; Athena's SerDe cannot read CBOR), its thing captured.
const TOPIC: &str = "^\\$aws/things/([^/]+)/defender/metrics/json$";

/// The version a device report's values carry (`model::DEVICE_VERSION`).
const DEVICE: i64 = crate::model::DEVICE_VERSION;

/// A connection's remote address as the destination the cache keeps, by the device-report
/// parser's rule: an IPv4 address with or without its port as `/32`; an IPv6 address bracketed
/// with a port, written bare, or with a port appended unbracketed as the Agent SDK writes it
/// (`2001:db8::10:443`: the port is stripped when what precedes it is an address) as `/128`;
/// anything else as written. The parser also normalises IPv6 text (`::0001` → `::1`), which SQL
/// does not: such a member of a screen may read differently from the thing's drill-down.
const CIDR: &str = r"CASE
    WHEN regexp_like(y.c.remote_addr, '^[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]{1,5})?$')
      THEN regexp_extract(y.c.remote_addr, '^([0-9.]+)', 1) || '/32'
    WHEN regexp_like(y.c.remote_addr, '^\[[0-9A-Fa-f:]+\]:[0-9]{1,5}$')
      THEN lower(regexp_extract(y.c.remote_addr, '^\[([0-9A-Fa-f:]+)\]', 1)) || '/128'
    WHEN regexp_like(y.c.remote_addr, '^[0-9A-Fa-f:]+:[0-9]{1,5}$')
      AND regexp_like(regexp_extract(y.c.remote_addr, '^(.*):[0-9]+$', 1), 'IPV6')
      THEN lower(regexp_extract(y.c.remote_addr, '^(.*):[0-9]+$', 1)) || '/128'
    WHEN regexp_like(y.c.remote_addr, 'IPV6') THEN lower(y.c.remote_addr) || '/128'
    ELSE y.c.remote_addr END";

/// An IPv6 address without an embedded IPv4 part: eight groups, or groups around one `::`.
const IPV6: &str = "^(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(([0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?::(([0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?)$";

/// How many things reported in the window (what the screen covered).
pub fn things_screened(t: Table<'_>, w: Window) -> String {
    match t.layout {
        Layout::Export => format!(
            "SELECT count(DISTINCT m_thing) AS things FROM ({})",
            t.export_records(w)
        ),
        Layout::DeviceReports => format!(
            "WITH {}\nSELECT count(DISTINCT thing) AS things FROM rep",
            t.reports(w)
        ),
    }
}

/// The hourly robust statistics both the numeric screen and the kept statistics read: every
/// thing's hourly mean per metric and dimension (version duplicates resolved by the highest
/// `version`), and per metric, dimension and hour the median, the 95th percentile, the MAD and
/// the count of the fleet (`fleet`, `fleet_mad`) and of each name family — the thing name
/// without its trailing digits (`fam`, `fam_mad`).
fn hourly_statistics(t: Table<'_>, w: Window) -> String {
    format!(
        "WITH {raw},
pts AS (
  SELECT thing, metric, dim, ts, max_by(v, version) AS v
  FROM raw GROUP BY thing, metric, dim, ts
),
hourly AS (
  SELECT thing, family, metric, dim, hour, avg(v) AS mean
  FROM (
    SELECT thing, regexp_replace(thing, '[0-9]+$', '') AS family, metric, dim,
           CAST(floor(CAST(ts AS double) / 3600000) AS bigint) AS hour, v
    FROM pts
  ) GROUP BY thing, family, metric, dim, hour
),
fleet AS (
  SELECT metric, dim, hour, approx_percentile(mean, 0.5) AS med,
         approx_percentile(mean, 0.95) AS p95, count(*) AS n
  FROM hourly GROUP BY metric, dim, hour
),
fleet_mad AS (
  SELECT h.metric, h.dim, h.hour, approx_percentile(abs(h.mean - f.med), 0.5) AS mad
  FROM hourly h JOIN fleet f ON h.metric = f.metric AND h.dim = f.dim AND h.hour = f.hour
  GROUP BY h.metric, h.dim, h.hour
),
fam AS (
  SELECT family, metric, dim, hour, approx_percentile(mean, 0.5) AS med,
         approx_percentile(mean, 0.95) AS p95, count(*) AS n
  FROM hourly GROUP BY family, metric, dim, hour
),
fam_mad AS (
  SELECT h.family, h.metric, h.dim, h.hour, approx_percentile(abs(h.mean - f.med), 0.5) AS mad
  FROM hourly h JOIN fam f
    ON h.family = f.family AND h.metric = f.metric AND h.dim = f.dim AND h.hour = f.hour
  GROUP BY h.family, h.metric, h.dim, h.hour
)",
        raw = t.numeric_records(w),
    )
}

/// Numeric series far above their peers: per thing the hours far above its name family's
/// (or, with fewer than five members, the fleet's) median ([`hourly_statistics`]), since when.
/// Returns the `limit` strongest.
pub fn numeric_screen(t: Table<'_>, w: Window, limit: u32) -> String {
    format!(
        "{stats},
judged AS (
  SELECT h.thing, h.metric, h.dim, h.hour, h.mean, f.n AS fleet_n,
         CASE WHEN g.n >= 5 THEN 'family' ELSE 'fleet' END AS basis,
         CASE WHEN g.n >= 5 THEN g.med ELSE f.med END AS med,
         CASE WHEN g.n >= 5 THEN gm.mad ELSE fm.mad END AS mad,
         CASE WHEN g.n >= 5 THEN g.n ELSE f.n END AS peers
  FROM hourly h
  JOIN fleet f ON h.metric = f.metric AND h.dim = f.dim AND h.hour = f.hour
  JOIN fleet_mad fm ON h.metric = fm.metric AND h.dim = fm.dim AND h.hour = fm.hour
  JOIN fam g ON h.family = g.family AND h.metric = g.metric AND h.dim = g.dim AND h.hour = g.hour
  JOIN fam_mad gm
    ON h.family = gm.family AND h.metric = gm.metric AND h.dim = gm.dim AND h.hour = gm.hour
),
hits AS (
  SELECT thing, metric, dim, basis, min(hour) AS first_hour, max(mean) AS peak,
         max(mean / greatest(med, 1E-9)) AS ratio, count(*) AS hours, max(med) AS med,
         max(peers) AS peers
  FROM judged
  WHERE fleet_n >= 5 AND mean > 3 * med
    AND mean > med + 6 * 1.4826 * greatest(mad, abs(med) * 0.05, 1)
  GROUP BY thing, metric, dim, basis
)
SELECT thing, metric, dim, basis, first_hour * 3600000 AS since, peak, med, ratio, hours, peers
FROM hits
ORDER BY ratio DESC, thing, metric
LIMIT {limit}",
        stats = hourly_statistics(t, w),
    )
}

/// The statistics a screen keeps (what the candidates were judged against): per metric,
/// dimension and hour the fleet's, and each name family's of at least five things (a family
/// of fewer is judged by the fleet's). Families first by size; at most `limit` rows, the
/// fleet's always first, so the cache's share depends on the window and the limit, not on the
/// number of things.
pub fn fleet_stats(t: Table<'_>, w: Window, limit: u32) -> String {
    format!(
        "{stats}
SELECT scope, family, metric, dim, hour, n, med, p95, mad FROM (
  SELECT 'fleet' AS scope, CAST(NULL AS varchar) AS family, f.metric, f.dim,
         f.hour * 3600000 AS hour, f.n, f.med, f.p95, m.mad, 0 AS rank
  FROM fleet f JOIN fleet_mad m ON f.metric = m.metric AND f.dim = m.dim AND f.hour = m.hour
  UNION ALL
  SELECT 'family', g.family, g.metric, g.dim, g.hour * 3600000, g.n, g.med, g.p95, m.mad, 1
  FROM fam g JOIN fam_mad m
    ON g.family = m.family AND g.metric = m.metric AND g.dim = m.dim AND g.hour = m.hour
  WHERE g.n >= 5 AND g.family <> ''
)
ORDER BY rank, n DESC, family, metric, dim, hour
LIMIT {limit}",
        stats = hourly_statistics(t, w),
    )
}

/// Set members (listening ports, destination IPs) a thing did not have in its first sightings
/// (its first report, and the first tenth of its time in the window, at most a day), and
/// risky attack-surface ports (telnet, ADB, a shell port, …) it listens on whatever their
/// history. Not the ordinary ones (SSH, HTTP, HTTPS): a fleet whose every device serves HTTPS
/// would fill the candidates with it; they count when they are new. Returns at most `limit`
/// members, newest first.
pub fn set_screen(t: Table<'_>, w: Window, limit: u32) -> String {
    let surface: Vec<String> = ATTACK_SURFACE
        .iter()
        .filter(|p| p.risky)
        .map(|p| format!("'{}'", p.port))
        .collect();
    format!(
        "WITH {records},
span AS (
  SELECT thing, metric, min(ts) AS first_ts, max(ts) AS last_ts FROM sets GROUP BY thing, metric
),
seen AS (
  SELECT thing, metric, member, min(ts) AS opened, max(ts) AS last_seen
  FROM members GROUP BY thing, metric, member
)
SELECT s.thing, s.metric, s.member, s.opened, s.last_seen,
       CASE WHEN s.opened > p.first_ts + least((p.last_ts - p.first_ts) / 10, 86400000)
            THEN 'new' ELSE 'listening' END AS how
FROM seen s JOIN span p ON s.thing = p.thing AND s.metric = p.metric
WHERE s.opened > p.first_ts + least((p.last_ts - p.first_ts) / 10, 86400000)
   OR (s.metric LIKE 'aws:listening-%' AND s.member IN ({surface}))
ORDER BY s.opened DESC, s.thing, s.member
LIMIT {limit}",
        records = t.set_records(w),
        surface = surface.join(", "),
    )
}

/// Separates the members of a string array in drill-down rows (no device string holds it:
/// the parser refuses control characters).
pub const MEMBER_SEPARATOR: char = '\u{1f}';

/// One thing's every record of the window, at full resolution (the drill-down): the export's
/// metric records, or the thing's device reports (each with the partition hour it arrived in,
/// so the desktop dates it by the same rule as a report read from S3).
pub fn drill_down(t: Table<'_>, w: Window, thing: &str) -> String {
    // The thing name is the analyst's: quoted as a SQL string literal.
    let quoted = thing.replace('\'', "''");
    match t.layout {
        Layout::Export => format!(
            "SELECT m_name AS name, m_thing AS thing, m_ts AS ts, m_version AS version,
       m_dim.name AS dim, m_dim.operator AS op, m_value.count AS count,
       m_value.number AS number, array_join(m_value.ports, ',') AS ports,
       array_join(m_value.numbers, ',') AS numbers,
       array_join(m_value.cidrs, chr(31)) AS cidrs,
       array_join(m_value.strings, chr(31)) AS strings
FROM ({})
WHERE m_thing = '{quoted}'
ORDER BY m_ts, m_name",
            t.export_records(w)
        ),
        Layout::DeviceReports => {
            let (lo, hi) = w.partitions();
            let ports = |field: &str| {
                format!(
                    "CASE WHEN metrics.{field} IS NULL THEN NULL
            ELSE coalesce(array_join(transform(metrics.{field}.ports, p -> p.port), ','), '')
       END AS {field}, metrics.{field}.total AS {field}_total"
                )
            };
            format!(
                "SELECT datehour, header.report_id AS report_id,
       {tcp},
       {udp},
       metrics.network_stats.bytes_in AS bytes_in, metrics.network_stats.bytes_out AS bytes_out,
       metrics.network_stats.packets_in AS packets_in,
       metrics.network_stats.packets_out AS packets_out,
       CASE WHEN metrics.tcp_connections.established_connections IS NULL THEN NULL
            ELSE coalesce(array_join(transform(
              metrics.tcp_connections.established_connections.connections,
              c -> c.remote_addr), chr(31)), '')
       END AS connections,
       metrics.tcp_connections.established_connections.total AS connections_total,
       (metrics IS NOT NULL) AS has_metrics,
       json_format(CAST(custom_metrics AS JSON)) AS custom_metrics
FROM {name}
WHERE datehour BETWEEN '{lo}' AND '{hi}'
  AND topic = '$aws/things/{quoted}/defender/metrics/json'
ORDER BY datehour, header.report_id",
                tcp = ports("listening_tcp_ports"),
                udp = ports("listening_udp_ports"),
                name = t.name(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes_that_could_break_out_of_the_sql_are_refused() {
        assert!(ddl("b", "p", "defender", "t; DROP", Layout::Export).is_err());
        assert!(ddl("b", "it's/", "defender", "t", Layout::Export).is_err());
        assert!(ddl("B", "p", "defender", "t", Layout::Export).is_err());
        let d = ddl(
            "dd-bucket",
            "/exports/",
            "defender",
            "metrics_export",
            Layout::Export,
        )
        .unwrap();
        assert!(d.contains("LOCATION 's3://dd-bucket/exports/'"), "{d}");
        assert!(d.contains("'storage.location.template' = 's3://dd-bucket/exports/${datehour}/'"));
        for layout in [Layout::Export, Layout::DeviceReports] {
            let t = Table {
                database: "d",
                table: "t",
                layout,
            };
            let q = drill_down(t, Window { from: 0, to: 1 }, "x' OR '1'='1");
            assert!(q.contains("x'' OR ''1''=''1"), "{q}");
            assert!(!q.contains("x' OR"), "{q}");
        }
    }

    #[test]
    fn the_window_reads_an_hour_either_side() {
        let w = Window {
            from: 1_764_583_200_000,
            to: 1_764_590_400_000,
        };
        assert_eq!(
            w.partitions(),
            ("2025/12/01/09".to_string(), "2025/12/01/13".to_string())
        );
    }
}
