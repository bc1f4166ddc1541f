//! Who may say what: a record that arrived on a device's topic is only ever that device's own
//! report, and a source carries only the families of documents it declares ([`Carried`]).

use super::*;

/// The thing a device topic (`$aws/things/<thing>/...`) belongs to.
pub(super) fn device_topic_thing(topic: &str) -> Option<&str> {
    let rest = topic.strip_prefix("$aws/things/")?;
    let (thing, _) = rest.split_once('/')?;
    (!thing.is_empty()).then_some(thing)
}

/// What a record looks like, for refusals that say why it is not what its place allows.
fn shape_of(p: &Probe) -> &'static str {
    if p.Type.is_some() && p.Message.is_some() {
        "an SNS envelope"
    } else if p.Records.is_some() {
        "an SNS Lambda event"
    } else if p.result.is_some() || p.results.is_some() {
        "a Splunk search result"
    } else if p.event.is_some() {
        "an HTTP Event Collector payload"
    } else if p.rawData.is_some() {
        "a Firehose error or backup record"
    } else if matches!(p.metrics, Some(MetricsField::Entries(_))) {
        "a metrics-export batch"
    } else if p.name.is_some() && p.thing.is_some() && p.value.is_some() {
        "a metrics-export entry"
    } else if p.violationEventType.is_some() || p.violationEvents.is_some() {
        "a Detect alert or violation event"
    } else if p.activeViolations.is_some() || p.violationId.is_some() {
        "an active violation"
    } else if p.taskId.is_some() || p.auditDetails.is_some() || p.checkName.is_some() {
        "an audit task, check or finding"
    } else if p.findings.is_some() || p.finding.is_some() {
        "an audit finding"
    } else if p.clientId.is_some() && p.eventType.is_some() {
        "a lifecycle event"
    } else {
        "no device metrics report"
    }
}

/// A record that arrived on `$aws/things/<thing>/…`: read as `thing`'s own metrics report, or
/// refused by name.
pub(super) fn device_topic_record(
    p: &Probe,
    text: &str,
    topic: &str,
    thing: &str,
    ctx: &Context,
    batch: &mut Batch,
) -> Res<()> {
    let report_shaped = (p.header.is_some()
        || p.hed.is_some()
        || p.met.is_some()
        || p.cmet.is_some()
        || p.custom_metrics.is_some()
        || matches!(p.metrics, Some(MetricsField::Object)))
        && !matches!(p.metrics, Some(MetricsField::Entries(_)));
    if !report_shaped {
        return Err(ParseError::new(format!(
            "a record from {topic} is shaped like {}: a device's topic carries only its own metrics reports, so it is refused (a device speaks only for itself)",
            shape_of(p)
        )));
    }
    if let Some(named) = ctx.thing.as_deref().filter(|t| *t != thing) {
        return Err(ParseError::new(format!(
            "a report from {topic} is {thing}'s, but --thing names {named:?}: refused"
        )));
    }
    let report: DeviceReport = json(text, "device metrics report")?;
    device_report(report, thing, ctx, batch)?;
    count(batch, DocKind::DeviceReport);
    Ok(())
}

/// Runs `read` and refuses what it added when its source may not carry that family of
/// documents ([`Context::carries`]): the batch is left as it was.
pub(super) fn admitted(
    ctx: &Context,
    batch: &mut Batch,
    read: impl FnOnce(&mut Batch) -> Res<()>,
) -> Res<()> {
    let Some(allowed) = &ctx.carries else {
        return read(batch);
    };
    let (mark, before) = (batch.mark(), batch.documents.clone());
    read(batch)?;
    let refused = batch.documents.iter().find_map(|(kind, n)| {
        let grew = before.get(kind).copied().unwrap_or(0) < *n;
        let family = kind.family().filter(|f| !allowed.contains(f))?;
        grew.then_some((*kind, family))
    });
    if let Some((kind, family)) = refused {
        batch.rewind(mark);
        batch.documents = before;
        return Err(ParseError::new(format!(
            "a record of the family {} ({kind:?}), which this source does not carry (it carries {}): refused; if it should, widen the source with --carries {},{}",
            family.as_str(),
            Carried::list(allowed),
            Carried::list(allowed),
            family.as_str()
        )));
    }
    Ok(())
}
