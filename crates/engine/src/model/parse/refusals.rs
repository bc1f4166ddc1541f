//! The AWS answers an analyst will try that this tool does not read, refused by name with what
//! to do instead (never "no known kind").

use super::*;

/// Common AWS answers an analyst will try that hold no data this tool reads (or not in a form
/// it can date and attribute): each refused by name, with what to do instead.
pub(super) fn known_aws_shape(keys: &BTreeMap<String, &RawValue>) -> Option<String> {
    let has = |k: &str| keys.contains_key(k);
    let first_item_has = |list: &str, k: &str| {
        keys.get(list).is_some_and(|raw| {
            serde_json::from_str::<Vec<BTreeMap<String, &RawValue>>>(raw.get())
                .ok()
                .and_then(|v| v.into_iter().next())
                .is_some_and(|item| item.contains_key(k))
        })
    };
    let why = if has("Datapoints") && has("Label") {
        "CloudWatch statistics (aws cloudwatch get-metric-statistics): fleet-level counts per period with no thing in them, not a thing's data; export the metrics with Device Defender's metrics export or ListMetricValues (aws iot list-metric-values --thing-name T ...)"
    } else if has("MetricDataResults") {
        "CloudWatch metric data (aws cloudwatch get-metric-data): fleet-level series with no thing in them, not a thing's data; use Device Defender's metrics export or ListMetricValues per thing"
    } else if has("things") && first_item_has("things", "connectivity") {
        "AWS IoT fleet-index search results (aws iot search-index): each thing's connectivity now, not its history; connections and disconnects are read from lifecycle events (the $aws/events/presence rule, crates/cli/REFERENCE.md, \"An account without Detect\")"
    } else if has("things") && (first_item_has("things", "thingArn") || keys.len() <= 2) {
        "an AWS IoT thing list (aws iot list-things): registry entries, no metrics; things appear in the cache with their data"
    } else if has("thingName") && has("thingArn") && (has("defaultClientId") || has("thingId")) {
        "an AWS IoT thing description (aws iot describe-thing): the registry's entry, no metrics; a Device Defender source's sync keeps each thing's type and groups"
    } else if has("thingGroups") {
        "a thing's group list (aws iot list-thing-groups-for-thing): it names no thing, so it cannot be attributed; a thing's groups are read by a Device Defender source (ddesk sync --thing T)"
    } else if has("suppressions") && first_item_has("suppressions", "resourceIdentifier") {
        "audit suppressions (aws iot list-audit-suppressions): rules, not findings; every finding carries its own suppression state (isSuppressed), which the Audit screen shows — ingest the findings (aws iot list-audit-findings)"
    } else if has("summaries") && first_item_has("summaries", "modelStatus") {
        "ML Detect training summaries (aws iot get-behavior-model-training-summaries): the models' training state, no device data"
    } else if has("ResponseMetadata") && keys.len() <= 2 {
        "an AWS answer with nothing but ResponseMetadata (boto3): the call returned no data"
    } else {
        return None;
    };
    Some(why.to_string())
}
