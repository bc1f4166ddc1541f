//! The wire's shared shapes: a timestamp (number or string), a `MetricValue`, an export entry,
//! a `ListMetricValues` datum.

use super::*;

/// A timestamp as a JSON number, or (leniently) a numeric or RFC 3339 string.
/// (Hand-written rather than `#[serde(untagged)]`, which buffers every value: this is the hot path.)
pub(crate) enum TimeDoc {
    Num(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for TimeDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = TimeDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a timestamp (epoch number or RFC 3339 string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Num(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TimeDoc, E> {
                Ok(TimeDoc::Text(v.to_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl TimeDoc {
    pub(crate) fn to_ms(&self, unit: fn(f64) -> Result<Millis, time::TimeError>) -> Res<Millis> {
        match self {
            TimeDoc::Num(v) => unit(*v).map_err(|e| ParseError::new(e.to_string())),
            TimeDoc::Text(s) => match s.trim().parse::<f64>() {
                Ok(v) => unit(v).map_err(|e| ParseError::new(e.to_string())),
                Err(_) => chrono::DateTime::parse_from_rfc3339(s.trim())
                    .map(|d| d.timestamp_millis())
                    .map_err(|_| ParseError::new(format!("unreadable timestamp {s:?}"))),
            },
        }
    }
}

pub(crate) fn opt_ms(
    t: Option<TimeDoc>,
    unit: fn(f64) -> Result<Millis, time::TimeError>,
) -> Res<Option<Millis>> {
    t.map(|t| t.to_ms(unit)).transpose()
}

/// `MetricValue` as it appears on the wire (export `value`, API `metricValue`, criteria `value`).
#[derive(Deserialize, Default)]
pub(super) struct ValueDoc {
    count: Option<Number>,
    number: Option<f64>,
    ports: Option<Vec<i64>>,
    cidrs: Option<Vec<String>>,
    numbers: Option<Vec<f64>>,
    strings: Option<Vec<String>>,
}

impl ValueDoc {
    pub(super) fn into_value(self) -> Res<MetricValue> {
        Ok(if let Some(c) = self.count {
            if let Some(i) = c.as_i64() {
                MetricValue::Count(i)
            } else if c.is_u64() {
                // Beyond 2^63 − 1: no device counts that far; stored, it would wrap or round.
                return Err(ParseError::new(format!(
                    "count {c} is out of range (0 to 9223372036854775807)"
                )));
            } else {
                match c.as_f64() {
                    Some(f) if (0.0..9.2e18).contains(&f) => MetricValue::Number(f),
                    _ => return Err(ParseError::new(format!("count {c} is out of range"))),
                }
            }
        } else if let Some(n) = self.number {
            MetricValue::Number(n)
        } else if let Some(p) = self.ports {
            MetricValue::Ports(p)
        } else if let Some(c) = self.cidrs {
            MetricValue::Cidrs(c)
        } else if let Some(n) = self.numbers {
            MetricValue::Numbers(n)
        } else if let Some(s) = self.strings {
            MetricValue::Strings(s)
        } else {
            return Err(ParseError::new(
                "metric value has none of count, number, ports, cidrs, numbers, strings",
            ));
        })
    }
}

#[derive(Deserialize)]
pub(super) struct DimDoc {
    name: String,
    operator: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ExportEntry<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    thing: Cow<'a, str>,
    value: ValueDoc,
    version: Option<Number>,
    timestamp: TimeDoc,
    dimension: Option<DimDoc>,
}

impl ExportEntry<'_> {
    pub(super) fn into_point(self) -> Res<Datapoint> {
        let version = match self.version {
            None => 0,
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .unwrap_or(0)
                // Cloud-side versions are positive; below 0 ranks with device reports
                // ([`super::super::DEVICE_VERSION`]), which never override cloud-side values.
                .max(0),
        };
        if self.thing.is_empty() || self.name.is_empty() {
            return Err(ParseError::new(
                "metric entry with an empty thing or metric name",
            ));
        }
        Ok(Datapoint {
            ts: self.timestamp.to_ms(time::from_auto)?,
            thing: self.thing.into_owned(),
            metric: self.name.into_owned(),
            dimension: self.dimension.map(|d| Dimension {
                name: d.name,
                operator: d.operator.unwrap_or_else(|| "IN".into()),
            }),
            version,
            value: self.value.into_value()?,
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct DatumDoc {
    pub(super) timestamp: TimeDoc,
    pub(super) value: ValueDoc,
}
