//! What the analyst saves: a chart as PNG, a thing's data and the action log as CSV, the
//! incident report (never overwriting a file, never following a link).

use super::*;

impl Desk {
    /// Saves a chart as PNG in the exports folder.
    pub fn export_chart_png(&self, req: &ChartRequest) -> Result<Saved> {
        let (v, opts) = self.chart_request_view(req)?;
        let bytes =
            charts::render_png(&v, &opts).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let name = crate::model::scope::name_of(&req.thing);
        self.save(&format!("{name}-{}.png", req.metric), &bytes)
    }

    /// Saves a thing's datapoints in the window as CSV in the exports folder.
    pub fn export_csv(&self, thing: &str, from: Millis, to: Millis) -> Result<Saved> {
        let (from, to) = check_window(from, to)?;
        let csv = self.with_store(|store| {
            let thing = &require_thing(store, thing)?;
            let rows = export::thing_rows(store, thing, from, to)?;
            Ok(crate::csv_out::to_bytes(
                &["t", "metric", "dimension", "value", "values", "version"],
                rows.into_iter().map(|r| {
                    [
                        time::to_rfc3339(r.t),
                        r.metric,
                        r.dimension.unwrap_or_default(),
                        r.value.map(|v| v.to_string()).unwrap_or_default(),
                        r.values.unwrap_or_default(),
                        r.version.to_string(),
                    ]
                }),
            ))
        })?;
        self.save(
            &format!("{}.csv", crate::model::scope::name_of(thing)),
            &csv,
        )
    }

    /// Writes an incident report for a thing (standalone HTML: summary, timeline, charts,
    /// port diff, violations, findings, actions; time zone stated).
    pub fn report(&self, req: &ThingRequest) -> Result<Saved> {
        // Charts at twice the density at least: a report is printed and zoomed into.
        let mut sharp = req.clone();
        sharp.look.scale = Some(req.look.scale.unwrap_or(1.0).max(2.0));
        let page = self.thing(&sharp)?;
        let key = &page.id.key;
        let (findings, actions) = self.with_store(|store| {
            let findings = timeline::thing_findings(store, key)?
                .into_iter()
                .map(|f| {
                    let subject = crate::cases::Subject::Finding(f.finding_id.clone());
                    Ok((crate::cases::show(store, &subject)?, f))
                })
                .collect::<Result<Vec<_>>>()?;
            // This cache's own actions on the thing (what this analyst's report answers for).
            let actions: Vec<ActionView> = query::action_records(store, Some(key))?
                .into_iter()
                .filter(|a| !a.colleague)
                .collect();
            Ok((findings, actions))
        })?;
        let html = crate::app::report::incident_html(&page, &findings, &actions, &req.look.tz);
        self.save(&format!("incident-{}.html", page.id.thing), html.as_bytes())
    }

    /// Writes a new file in the exports folder: never over another file, never through a link.
    pub(super) fn save(&self, name: &str, bytes: &[u8]) -> Result<Saved> {
        let path = crate::files::save_new(&self.exports, name, bytes).map_err(|e| Error::Io {
            path: self.exports.display().to_string(),
            source: e,
        })?;
        Ok(Saved {
            path: path.display().to_string(),
            bytes: bytes.len() as f64,
        })
    }

    /// Saves the action log as CSV.
    pub fn export_actions_csv(&self) -> Result<Saved> {
        let rows = self.actions()?;
        let out = crate::csv_out::to_bytes(
            &[
                "seq",
                "at",
                "who",
                "os_user",
                "action",
                "thing",
                "reason",
                "status",
                "outcome_at",
                "demo",
                "calls",
                "hash",
            ],
            rows.into_iter().map(|a| {
                [
                    a.seq.to_string(),
                    time::to_rfc3339(a.at),
                    a.who,
                    a.os_user,
                    a.action.to_string(),
                    a.thing.unwrap_or_default(),
                    a.reason,
                    a.status,
                    a.outcome_at.map(time::to_rfc3339).unwrap_or_default(),
                    a.demo.to_string(),
                    a.calls.join(" | "),
                    a.hash,
                ]
            }),
        );
        self.save("action-log.csv", &out)
    }
}
