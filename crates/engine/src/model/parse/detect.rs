//! Detect: violation events (SNS alerts and `ListViolationEvents`), active violations, and
//! security profiles with their behaviors (thresholds for the charts).

use super::wire::ValueDoc;
use super::*;

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MetricDimensionDoc {
    dimensionName: String,
    operator: Option<String>,
}

#[derive(Deserialize)]
struct StatDoc {
    statistic: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct MlDoc {
    confidenceLevel: Option<String>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct CriteriaDoc {
    comparisonOperator: Option<String>,
    value: Option<ValueDoc>,
    durationSeconds: Option<i64>,
    statisticalThreshold: Option<StatDoc>,
    mlDetectionConfig: Option<MlDoc>,
    consecutiveDatapointsToAlarm: Option<i64>,
    consecutiveDatapointsToClear: Option<i64>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct BehaviorDoc {
    name: String,
    metric: Option<String>,
    metricDimension: Option<MetricDimensionDoc>,
    criteria: Option<CriteriaDoc>,
    suppressAlerts: Option<bool>,
    exportMetric: Option<bool>,
}

impl BehaviorDoc {
    pub(super) fn into_behavior(self) -> Res<Behavior> {
        let c = self.criteria;
        let (operator, value, duration, statistic, ml, to_alarm, to_clear) = match c {
            None => (None, None, None, None, None, None, None),
            Some(c) => (
                c.comparisonOperator,
                c.value.map(ValueDoc::into_value).transpose()?,
                c.durationSeconds,
                c.statisticalThreshold.and_then(|s| s.statistic),
                c.mlDetectionConfig.and_then(|m| m.confidenceLevel),
                c.consecutiveDatapointsToAlarm,
                c.consecutiveDatapointsToClear,
            ),
        };
        Ok(Behavior {
            name: self.name,
            metric: self.metric,
            dimension: self.metricDimension.map(|d| Dimension {
                name: d.dimensionName,
                operator: d.operator.unwrap_or_else(|| "IN".into()),
            }),
            operator,
            value,
            statistic,
            ml_confidence: ml,
            duration_seconds: duration,
            suppress_alerts: self.suppressAlerts.unwrap_or(false),
            consecutive_to_alarm: to_alarm,
            consecutive_to_clear: to_clear,
            export_metric: self.exportMetric,
        })
    }
}

/// An SNS Detect alert and a ListViolationEvents element share this shape.
/// One of AWS's closed sets, read strictly: a word outside it refuses the record, naming it.
pub(super) fn word<T>(w: Option<String>) -> Res<Option<T>>
where
    T: std::str::FromStr<Err = crate::model::sets::UnknownWord>,
{
    w.map(|w| {
        w.parse()
            .map_err(|e: crate::model::sets::UnknownWord| ParseError::new(e.to_string()))
    })
    .transpose()
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct ViolationDoc {
    violationId: String,
    thingName: String,
    securityProfileName: Option<String>,
    behavior: Option<BehaviorDoc>,
    metricValue: Option<ValueDoc>,
    violationEventType: String,
    violationEventTime: TimeDoc,
    verificationState: Option<String>,
    verificationStateDescription: Option<String>,
    violationEventAdditionalInfo: Option<AdditionalInfoDoc>,
}

/// `ViolationEventAdditionalInfo`: ML Detect's confidence.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct AdditionalInfoDoc {
    confidenceLevel: Option<String>,
}

impl ViolationDoc {
    pub(super) fn into_event(
        self,
        unit: fn(f64) -> Result<Millis, time::TimeError>,
    ) -> Res<ViolationEvent> {
        if !VIOLATION_EVENT_TYPES.contains(&self.violationEventType.as_str()) {
            return Err(ParseError::new(format!(
                "violationEventType {:?} is none of {VIOLATION_EVENT_TYPES:?}",
                self.violationEventType
            )));
        }
        Ok(ViolationEvent {
            time: self.violationEventTime.to_ms(unit)?,
            violation_id: self.violationId,
            thing: self.thingName,
            security_profile: self.securityProfileName.unwrap_or_default(),
            behavior: self
                .behavior
                .map(BehaviorDoc::into_behavior)
                .transpose()?
                .unwrap_or_default(),
            event_type: self.violationEventType,
            value: self.metricValue.map(ValueDoc::into_value).transpose()?,
            verification_state: word(self.verificationState)?,
            verification_description: self.verificationStateDescription,
            confidence: word(
                self.violationEventAdditionalInfo
                    .and_then(|i| i.confidenceLevel),
            )?,
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct ActiveDoc {
    violationId: String,
    thingName: String,
    securityProfileName: Option<String>,
    behavior: Option<BehaviorDoc>,
    lastViolationValue: Option<ValueDoc>,
    lastViolationTime: Option<TimeDoc>,
    violationStartTime: Option<TimeDoc>,
    verificationState: Option<String>,
    verificationStateDescription: Option<String>,
    violationEventAdditionalInfo: Option<AdditionalInfoDoc>,
}

impl ActiveDoc {
    pub(super) fn into_active(self) -> Res<ActiveViolation> {
        Ok(ActiveViolation {
            violation_id: self.violationId,
            thing: self.thingName,
            security_profile: self.securityProfileName.unwrap_or_default(),
            behavior: self
                .behavior
                .map(BehaviorDoc::into_behavior)
                .transpose()?
                .unwrap_or_default(),
            last_value: self
                .lastViolationValue
                .map(ValueDoc::into_value)
                .transpose()?,
            started: opt_ms(self.violationStartTime, time::from_auto)?,
            last_violation: opt_ms(self.lastViolationTime, time::from_auto)?,
            verification_state: word(self.verificationState)?,
            verification_description: self.verificationStateDescription,
            confidence: word(
                self.violationEventAdditionalInfo
                    .and_then(|i| i.confidenceLevel),
            )?,
        })
    }
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(super) struct ProfileDoc {
    pub(super) securityProfileName: String,
    pub(super) securityProfileArn: Option<String>,
    pub(super) securityProfileDescription: Option<String>,
    #[serde(default)]
    pub(super) behaviors: Vec<BehaviorDoc>,
    pub(super) version: Option<i64>,
}
