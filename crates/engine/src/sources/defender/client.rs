//! The Device Defender API through the official AWS SDK (`aws-sdk-iot`): security profiles
//! (behaviors become chart thresholds), active violations, violation events by window, audit
//! tasks with their checks and findings, a thing's metric values and thing groups on demand.
//!
//! Every list is paginated to the end; every call is paced within the documented per-API rate
//! ([`Pacer`]) and retried by the SDK on throttling (`ThrottlingException`, HTTP 400), 5xx and
//! transport errors. An account without Detect (closed to new customers since 31 Aug 2026) is
//! normal: Detect calls that are refused leave Audit working.

use crate::model::sets::stored;
use crate::model::{Confidence, VerificationState};
use aws_sdk_iot::primitives::DateTime;
use aws_sdk_iot::types as t;

use super::DefenderSettings;
use crate::model::{
    ActiveViolation, Batch, Behavior, Datapoint, Dimension, DocKind, MetricValue, SecurityProfile,
    ViolationEvent,
};
use crate::sources::aws::{self, describe, error_code, failure, Pacer};
use crate::sources::contract::Health;
use crate::time::Millis;
use crate::{Error, Result};

/// Page size for list calls (the API's maximum where it has one).
pub(super) const PAGE: i32 = 250;

/// A connected Device Defender source.
#[derive(Clone)]
pub struct DefenderSource {
    pub(super) client: aws_sdk_iot::Client,
    pub(super) pacer: Pacer,
}

/// A wire timestamp to milliseconds, rounded to the nearest: the REST-JSON wire carries epoch
/// seconds as a float (`1764536400.123`), which the SDK parses to 1764536400.1229999…;
/// `DateTime::to_millis` truncates that to …122 while the same document read from a file gives
/// …123 (a sync and an ingest of one event then disagree by a millisecond and keep two events).
pub(super) fn ms(t: Option<&DateTime>) -> Option<Millis> {
    let d = t?;
    let nanos = i64::from(d.subsec_nanos());
    d.secs()
        .checked_mul(1000)?
        .checked_add((nanos + 500_000) / 1_000_000)
}

pub(super) fn dt(ms: Millis) -> DateTime {
    DateTime::from_millis(ms)
}

fn value(v: Option<&t::MetricValue>) -> Option<MetricValue> {
    let v = v?;
    Some(if let Some(c) = v.count() {
        MetricValue::Count(c)
    } else if let Some(n) = v.number() {
        MetricValue::Number(n)
    } else if !v.ports().is_empty() {
        MetricValue::Ports(v.ports().iter().map(|p| i64::from(*p)).collect())
    } else if !v.cidrs().is_empty() {
        MetricValue::Cidrs(v.cidrs().to_vec())
    } else if !v.numbers().is_empty() {
        MetricValue::Numbers(v.numbers().to_vec())
    } else if !v.strings().is_empty() {
        MetricValue::Strings(v.strings().to_vec())
    } else if v.ports.is_some() {
        MetricValue::Ports(Vec::new())
    } else if v.cidrs.is_some() {
        MetricValue::Cidrs(Vec::new())
    } else if v.strings.is_some() {
        MetricValue::Strings(Vec::new())
    } else {
        return None;
    })
}

fn behavior(b: Option<&t::Behavior>) -> Behavior {
    let Some(b) = b else {
        return Behavior::default();
    };
    let c = b.criteria();
    Behavior {
        name: b.name().to_string(),
        metric: b.metric().map(str::to_string),
        dimension: b.metric_dimension().map(|d| Dimension {
            name: d.dimension_name().to_string(),
            operator: d
                .operator()
                .map_or_else(|| "IN".to_string(), |o| o.as_str().to_string()),
        }),
        operator: c
            .and_then(|c| c.comparison_operator())
            .map(|o| o.as_str().to_string()),
        value: value(c.and_then(|c| c.value())),
        statistic: c
            .and_then(|c| c.statistical_threshold())
            .and_then(|s| s.statistic())
            .map(str::to_string),
        ml_confidence: c
            .and_then(|c| c.ml_detection_config())
            .map(|m| m.confidence_level().as_str().to_string()),
        duration_seconds: c.and_then(|c| c.duration_seconds()).map(i64::from),
        suppress_alerts: b.suppress_alerts().unwrap_or(false),
        consecutive_to_alarm: c
            .and_then(|c| c.consecutive_datapoints_to_alarm())
            .map(i64::from),
        consecutive_to_clear: c
            .and_then(|c| c.consecutive_datapoints_to_clear())
            .map(i64::from),
        export_metric: b.export_metric(),
    }
}

fn confidence(i: Option<&t::ViolationEventAdditionalInfo>) -> Option<Confidence> {
    stored(
        i.and_then(|i| i.confidence_level())
            .map(|c| c.as_str().to_string()),
    )
}

fn verification(s: Option<&t::VerificationState>) -> Option<VerificationState> {
    stored(s.map(|s| s.as_str().to_string()))
}

pub(super) fn note(batch: &mut Batch, kind: DocKind) {
    *batch.documents.entry(kind).or_default() += 1;
}

/// The certificate id in a certificate principal ARN (`arn:aws:iot:…:cert/<id>`).
pub fn certificate_id(principal: &str) -> Option<&str> {
    principal.split_once(":cert/").map(|(_, id)| id)
}

/// Whether an error means "this account has no Detect" (or no access to it), which is not a
/// failure of the sync: Audit and exported metrics still work.
pub fn detect_unavailable(err: &Error) -> bool {
    use crate::sources::SourceErrorKind;
    matches!(err, Error::Source(e) if matches!(e.kind, SourceErrorKind::AccessDenied | SourceErrorKind::NotSubscribed))
}

/// Most pages one listing may take (at 250 results a page, 2.5 million items).
pub const MAX_PAGES: usize = 10_000;

impl DefenderSource {
    /// Runs a list operation page after page, each call paced at `tps`, until a page comes
    /// back without `nextToken`; `page` makes one call with the token it is given and returns
    /// the next one.
    pub(super) async fn paginate(
        &self,
        op: &'static str,
        tps: u32,
        mut page: impl AsyncFnMut(Option<String>) -> Result<Option<String>>,
    ) -> Result<()> {
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            self.pacer.wait(op, tps).await;
            token = page(token).await?;
            match &token {
                None => return Ok(()),
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(Error::remote(format!(
                        "{op} sent a nextToken it had sent before: stopped (the listing would never end)"
                    )))
                }
                Some(_) => {}
            }
        }
        Err(Error::remote(format!(
            "{op} had more than {MAX_PAGES} pages: stopped (narrow the window)"
        )))
    }

    /// Builds the client (no network call yet).
    pub async fn connect(settings: &DefenderSettings) -> Self {
        Self::from_config(&aws::sdk_config(&settings.aws).await)
    }

    /// Builds the client from loaded SDK settings.
    pub fn from_config(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_iot::Client::new(sdk),
            pacer: Pacer::default(),
        }
    }

    /// The SDK client (actions reuse it).
    pub fn client(&self) -> &aws_sdk_iot::Client {
        &self.client
    }

    /// Checks credentials, region and access with one cheap call per API family.
    pub async fn test(&self) -> Result<Health> {
        self.pacer.wait("ListAuditTasks", 10).await;
        let now = crate::time::now();
        let audit = self
            .client
            .list_audit_tasks()
            .start_time(dt(now - 86_400_000))
            .end_time(dt(now))
            .max_results(1)
            .send()
            .await;
        self.pacer.wait("ListSecurityProfiles", 10).await;
        let detect = self
            .client
            .list_security_profiles()
            .max_results(1)
            .send()
            .await;
        match (audit, detect) {
            (Ok(_), Ok(p)) => Ok(Health::ok(format!(
                "Device Defender API reachable: Audit readable, Detect readable ({} security profile{} on the first page)",
                p.security_profile_identifiers().len(),
                if p.security_profile_identifiers().len() == 1 { "" } else { "s" }
            ))),
            (Ok(_), Err(e)) => Ok(Health::warn(
                format!(
                    "Device Defender API reachable: Audit readable; Detect not available ({})",
                    describe("ListSecurityProfiles", &e)
                ),
                "without Detect, detection is the app's own triage of device reports: add the S3 or Splunk source the device-report rule delivers to",
            )),
            (Err(e), _) => Err(Error::Source(failure("ListAuditTasks", &e))),
        }
    }

    /// All security profiles with their behaviors.
    pub async fn security_profiles(&self) -> Result<Batch> {
        let mut batch = Batch::default();
        let mut names = Vec::new();
        self.paginate("ListSecurityProfiles", 10, async |token| {
            let page = self
                .client
                .list_security_profiles()
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListSecurityProfiles", &e)))?;
            names.extend(
                page.security_profile_identifiers()
                    .iter()
                    .map(|p| p.name().to_string()),
            );
            note(&mut batch, DocKind::ListSecurityProfiles);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        for name in names {
            self.pacer.wait("DescribeSecurityProfile", 25).await;
            let p = self
                .client
                .describe_security_profile()
                .security_profile_name(&name)
                .send()
                .await
                .map_err(|e| {
                    Error::Source(failure(&format!("DescribeSecurityProfile {name}"), &e))
                })?;
            batch.profiles.push(SecurityProfile {
                name: p.security_profile_name().unwrap_or(&name).to_string(),
                arn: p.security_profile_arn().map(str::to_string),
                description: p.security_profile_description().map(str::to_string),
                version: Some(p.version()),
                behaviors: Some(p.behaviors().iter().map(|b| behavior(Some(b))).collect()),
            });
            note(&mut batch, DocKind::DescribeSecurityProfile);
        }
        Ok(batch)
    }

    /// Violations in alarm now.
    pub async fn active_violations(&self) -> Result<Batch> {
        let mut batch = Batch::default();
        self.paginate("ListActiveViolations", 10, async |token| {
            let page = self
                .client
                .list_active_violations()
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListActiveViolations", &e)))?;
            for v in page.active_violations() {
                batch.active_violations.push(ActiveViolation {
                    violation_id: v.violation_id().unwrap_or_default().to_string(),
                    thing: v.thing_name().unwrap_or_default().to_string(),
                    security_profile: v.security_profile_name().unwrap_or_default().to_string(),
                    behavior: behavior(v.behavior()),
                    last_value: value(v.last_violation_value()),
                    started: ms(v.violation_start_time()),
                    last_violation: ms(v.last_violation_time()),
                    verification_state: verification(v.verification_state()),
                    verification_description: v
                        .verification_state_description()
                        .map(str::to_string),
                    confidence: confidence(v.violation_event_additional_info()),
                });
            }
            note(&mut batch, DocKind::ListActiveViolations);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(batch)
    }

    /// Violation events in `[from, to)` (the service keeps 30 days).
    pub async fn violation_events(&self, from: Millis, to: Millis) -> Result<Batch> {
        let mut batch = Batch::default();
        self.paginate("ListViolationEvents", 10, async |token| {
            let page = self
                .client
                .list_violation_events()
                .start_time(dt(from))
                .end_time(dt(to))
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListViolationEvents", &e)))?;
            for v in page.violation_events() {
                let Some(time) = ms(v.violation_event_time()) else {
                    continue;
                };
                batch.violation_events.push(ViolationEvent {
                    violation_id: v.violation_id().unwrap_or_default().to_string(),
                    thing: v.thing_name().unwrap_or_default().to_string(),
                    security_profile: v.security_profile_name().unwrap_or_default().to_string(),
                    behavior: behavior(v.behavior()),
                    event_type: v
                        .violation_event_type()
                        .map(|e| e.as_str().to_string())
                        .unwrap_or_default(),
                    time,
                    value: value(v.metric_value()),
                    verification_state: verification(v.verification_state()),
                    verification_description: v
                        .verification_state_description()
                        .map(str::to_string),
                    confidence: confidence(v.violation_event_additional_info()),
                });
            }
            note(&mut batch, DocKind::ListViolationEvents);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(batch)
    }

    /// A thing's values of one metric in `[from, to)` (the service keeps 14 days, and only for
    /// metrics that a behavior uses or that are retained). With a dimension, only the values
    /// of that dimension (`dimensionName`, `dimensionValueOperator`), stored in its own series.
    pub async fn metric_values(
        &self,
        thing: &str,
        metric: &str,
        dimension: Option<&Dimension>,
        from: Millis,
        to: Millis,
    ) -> Result<Batch> {
        let mut batch = Batch::default();
        self.paginate("ListMetricValues", 15, async |token| {
            let page = self
                .client
                .list_metric_values()
                .thing_name(thing)
                .metric_name(metric)
                .set_dimension_name(dimension.map(|d| d.name.clone()))
                .set_dimension_value_operator(
                    dimension.map(|d| t::DimensionValueOperator::from(d.operator.as_str())),
                )
                .start_time(dt(from))
                .end_time(dt(to))
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| {
                    Error::Source(failure(&format!("ListMetricValues {thing} {metric}"), &e))
                })?;
            for d in page.metric_datum_list() {
                let (Some(ts), Some(v)) = (ms(d.timestamp()), value(d.value())) else {
                    continue;
                };
                // The API carries no export version: 0 lets an exported datapoint win.
                batch.points.push(Datapoint {
                    thing: thing.to_string(),
                    metric: metric.to_string(),
                    dimension: dimension.cloned(),
                    ts,
                    version: 0,
                    value: v,
                });
            }
            note(&mut batch, DocKind::ListMetricValues);
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        Ok(batch)
    }

    /// A thing's principals (certificate ARNs and others), from ListThingPrincipals.
    pub async fn thing_principals(&self, thing: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.paginate("ListThingPrincipals", 100, async |token| {
            let page = self
                .client
                .list_thing_principals()
                .thing_name(thing)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| Error::Source(failure(&format!("ListThingPrincipals {thing}"), &e)))?;
            out.extend(page.principals().iter().cloned());
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        out.sort();
        Ok(out)
    }

    /// The ids of a thing's certificates.
    pub async fn thing_certificates(&self, thing: &str) -> Result<Vec<String>> {
        Ok(self
            .thing_principals(thing)
            .await?
            .iter()
            .filter_map(|p| certificate_id(p).map(str::to_string))
            .collect())
    }

    /// The account's mitigation action names (ListMitigationActions), of one action type
    /// (`ADD_THINGS_TO_THING_GROUP`, …) or all.
    pub async fn mitigation_actions(&self, action_type: Option<&str>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let action_type = action_type.map(t::MitigationActionType::from);
        self.paginate("ListMitigationActions", 10, async |token| {
            let page = self
                .client
                .list_mitigation_actions()
                .set_action_type(action_type.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListMitigationActions", &e)))?;
            out.extend(
                page.action_identifiers()
                    .iter()
                    .filter_map(|a| a.action_name().map(str::to_string)),
            );
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        out.sort();
        Ok(out)
    }

    /// A thing's thing groups: `(name, arn)`.
    pub async fn thing_groups(&self, thing: &str) -> Result<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        self.paginate("ListThingGroupsForThing", 100, async |token| {
            let page = self
                .client
                .list_thing_groups_for_thing()
                .thing_name(thing)
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| match error_code(&e).as_deref() {
                    Some("ResourceNotFoundException") => {
                        Error::NotFound(format!("thing {thing:?} does not exist in AWS IoT"))
                    }
                    _ => Error::Source(failure(&format!("ListThingGroupsForThing {thing}"), &e)),
                })?;
            out.extend(page.thing_groups().iter().map(|g| {
                (
                    g.group_name().unwrap_or_default().to_string(),
                    g.group_arn().map(str::to_string),
                )
            }));
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> DefenderSource {
        DefenderSource::from_config(
            &aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .build(),
        )
    }

    #[test]
    fn a_listing_that_repeats_its_token_stops_with_an_error() {
        // Regression: an endpoint answering the same nextToken again paged for ever.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let mut calls = 0;
        let out = rt.block_on(source().paginate("ListViolationEvents", 1000, async |_| {
            calls += 1;
            Ok(Some(if calls < 3 {
                format!("t{calls}")
            } else {
                "t2".to_string()
            }))
        }));
        assert!(matches!(out, Err(Error::Source(m)) if m.message.contains("had sent before")));
        assert_eq!(calls, 3);
        // A listing that ends is read to its end.
        let mut pages = 0;
        let out = rt.block_on(source().paginate("ListViolationEvents", 1000, async |_| {
            pages += 1;
            Ok((pages < 4).then(|| format!("t{pages}")))
        }));
        assert!(out.is_ok());
        assert_eq!(pages, 4);
    }
}
