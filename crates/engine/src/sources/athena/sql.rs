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

const REPORT_COLUMNS: &str = "  header struct<report_id:bigint, version:string>,
  metrics struct<
    listening_tcp_ports:struct<ports:array<struct<port:int, interface:string>>, total:int>,
    listening_udp_ports:struct<ports:array<struct<port:int, interface:string>>, total:int>,
    network_stats:struct<bytes_in:bigint, bytes_out:bigint, packets_in:bigint, packets_out:bigint>,
    tcp_connections:struct<established_connections:struct<connections:array<struct<
      remote_addr:string, local_port:int, local_interface:string>>, total:int>>>,
  custom_metrics map<string, array<struct<number:double, number_list:array<double>,
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

    fn filter(self) -> String {
        let (lo, hi) = self.partitions();
        format!(
            "datehour BETWEEN '{lo}' AND '{hi}' AND m.timestamp >= {} AND m.timestamp < {}",
            self.from, self.to
        )
    }
}

fn from_metrics(database: &str, table: &str) -> String {
    format!("\"{database}\".\"{table}\" CROSS JOIN UNNEST(metrics) AS u(m)")
}

/// How many things reported in the window (what the screen covered).
pub fn things_screened(database: &str, table: &str, w: Window) -> String {
    format!(
        "SELECT count(DISTINCT m.thing) AS things FROM {} WHERE {}",
        from_metrics(database, table),
        w.filter()
    )
}

/// Numeric series far above their peers: per metric, dimension and hour the robust
/// statistics (median, MAD) of the fleet and of each name family (the name without its
/// trailing digits) over every thing's hourly mean, version duplicates resolved by the highest
/// `version`; per thing the hours far above its family's (or, with fewer than five members,
/// the fleet's) median, since when. Returns the `limit` strongest.
pub fn numeric_screen(database: &str, table: &str, w: Window, limit: u32) -> String {
    format!(
        "WITH raw AS (
  SELECT m.thing AS thing, m.name AS metric, coalesce(m.dimension.name, '') AS dim,
         m.timestamp AS ts, m.version AS version,
         coalesce(CAST(m.value.count AS double), m.value.number) AS v
  FROM {from}
  WHERE {filter} AND (m.value.count IS NOT NULL OR m.value.number IS NOT NULL)
),
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
  SELECT metric, dim, hour, approx_percentile(mean, 0.5) AS med, count(*) AS n
  FROM hourly GROUP BY metric, dim, hour
),
fleet_mad AS (
  SELECT h.metric, h.dim, h.hour, approx_percentile(abs(h.mean - f.med), 0.5) AS mad
  FROM hourly h JOIN fleet f ON h.metric = f.metric AND h.dim = f.dim AND h.hour = f.hour
  GROUP BY h.metric, h.dim, h.hour
),
fam AS (
  SELECT family, metric, dim, hour, approx_percentile(mean, 0.5) AS med, count(*) AS n
  FROM hourly GROUP BY family, metric, dim, hour
),
fam_mad AS (
  SELECT h.family, h.metric, h.dim, h.hour, approx_percentile(abs(h.mean - f.med), 0.5) AS mad
  FROM hourly h JOIN fam f
    ON h.family = f.family AND h.metric = f.metric AND h.dim = f.dim AND h.hour = f.hour
  GROUP BY h.family, h.metric, h.dim, h.hour
),
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
        from = from_metrics(database, table),
        filter = w.filter(),
    )
}

/// Set members (listening ports, destination IPs) a thing did not have in its first sightings
/// (its first report, and the first tenth of its time in the window, at most a day), and
/// attack-surface ports it listens on whatever their history; version duplicates resolved by
/// the highest `version`. Returns at most `limit` members, newest first.
pub fn set_screen(database: &str, table: &str, w: Window, limit: u32) -> String {
    let surface: Vec<String> = ATTACK_SURFACE
        .iter()
        .map(|p| format!("'{}'", p.port))
        .collect();
    format!(
        "WITH raw AS (
  SELECT m.thing AS thing, m.name AS metric, m.timestamp AS ts, m.version AS version,
         m.value AS value
  FROM {from}
  WHERE {filter}
    AND m.name IN ('aws:listening-tcp-ports', 'aws:listening-udp-ports',
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
),
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
        from = from_metrics(database, table),
        filter = w.filter(),
        surface = surface.join(", "),
    )
}

/// Separates the members of a string array in drill-down rows (no device string holds it:
/// the parser refuses control characters).
pub const MEMBER_SEPARATOR: char = '\u{1f}';

/// One thing's every metric record of the window, at full resolution (the drill-down).
pub fn drill_down(database: &str, table: &str, w: Window, thing: &str) -> String {
    // The thing name is the analyst's: quoted as a SQL string literal.
    let thing = thing.replace('\'', "''");
    format!(
        "SELECT m.name, m.thing, m.timestamp, m.version, m.dimension.name AS dim,
       m.dimension.operator AS op, m.value.count AS count, m.value.number AS number,
       array_join(m.value.ports, ',') AS ports,
       array_join(m.value.numbers, ',') AS numbers,
       array_join(m.value.cidrs, chr(31)) AS cidrs,
       array_join(m.value.strings, chr(31)) AS strings
FROM {from}
WHERE {filter} AND m.thing = '{thing}'
ORDER BY m.timestamp, m.name",
        from = from_metrics(database, table),
        filter = w.filter(),
    )
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
        assert!(
            drill_down("d", "t", Window { from: 0, to: 1 }, "x' OR '1'='1")
                .contains("m.thing = 'x'' OR ''1''=''1'")
        );
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
