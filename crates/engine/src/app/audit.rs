//! The audit screen: checks and findings over a window, with the mitigation history.

use super::*;

impl Desk {
    /// The Audit screen over `[from, to)`.
    pub fn audit(&self, from: Millis, to: Millis, look: &Look) -> Result<AuditPage> {
        let opts = look.options()?;
        self.with_store(|store| {
            let history = crate::analysis::audit::history(store, None, from, to)?;
            let chart = charts::audit::render_raster(&history, from, to, &opts)
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
            let audits = store.audits(None)?;
            let latest = audits
                .iter()
                .filter(|a| a.task_start.is_some())
                .max_by_key(|a| a.task_start)
                .map(|a| (a.task_id.clone(), a.task_start));
            let checks = latest
                .as_ref()
                .map(|(id, _)| {
                    audits
                        .iter()
                        .filter(|a| &a.task_id == id)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let mut findings = store.findings(None, None)?;
            findings.sort_by_key(|f| std::cmp::Reverse(f.found));
            let mut finding_states: Vec<FindingState> = crate::cases::finding_states(store)?
                .into_iter()
                .map(|(finding_id, c)| FindingState {
                    finding_id,
                    state: c.state,
                    owner: c.owner,
                })
                .collect();
            finding_states.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
            Ok(AuditPage {
                chart: ChartView {
                    metric: "audit".into(),
                    label: "non-compliant resources per check".into(),
                    points: history.iter().map(|h| h.points.len() as u32).sum(),
                    image: png_data_url(&chart.png),
                    width: chart.width,
                    height: chart.height,
                    geometry: chart.geometry,
                    hover: Vec::new(),
                    hover_from: from,
                    hover_to: to,
                    thresholds: Vec::new(),
                    bands: 0,
                    per: None,
                    compacted_until: None,
                },
                latest_task: latest.as_ref().map(|(id, _)| id.clone()),
                latest_start: latest.and_then(|(_, t)| t),
                checks,
                findings,
                finding_states,
                status: self.status_of(store)?,
            })
        })
    }
}
