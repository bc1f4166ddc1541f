//! The fleet triage screen: every thing ranked by evidence, with its reasons.

use super::*;
use query::fleet_row;

impl Desk {
    /// The fleet ranked by risk over `window` (ms) ending at the newest datapoint.
    pub fn fleet(&self, window: Millis) -> Result<Fleet> {
        self.with_store(|store| {
            if let Some((w, at, fleet)) = lock(&self.ahead_fleet).take() {
                if w == window && at.elapsed() < AHEAD_FRESH {
                    return Ok(fleet);
                }
            }
            self.fleet_in(store, window)
        })
    }

    /// Ranks the fleet over `window` now, for the first [`Desk::fleet`] call of that window
    /// (within [`AHEAD_FRESH`]) to take: the app calls it at launch, while its webview starts,
    /// so the home screen's ranking is ready when the page asks for it.
    pub fn prefetch_fleet(&self, window: Millis) -> Result<()> {
        self.with_store(|store| {
            let fleet = self.fleet_in(store, window)?;
            *lock(&self.ahead_fleet) = Some((window, std::time::Instant::now(), fleet));
            Ok(())
        })
    }

    pub(super) fn fleet_in(&self, store: &Store, window: Millis) -> Result<Fleet> {
        let rows = query::triage(
            store,
            &query::TriageQuery {
                options: triage::TriageOptions {
                    window: window.max(3_600_000),
                    to: None,
                },
                ..Default::default()
            },
        )?;
        let window_to = rows.iter().filter_map(|r| r.last_report).max();
        *lock(&self.last_fleet) = Some(rows.clone());
        Ok(Fleet {
            status: self.status_of(store)?,
            rows,
            window_to,
        })
    }

    /// A thing's triage row: from the last triage of this cache, else a fresh ranking.
    pub(super) fn scored(&self, store: &Store, thing: &str) -> Result<Option<FleetRow>> {
        if let Some(rows) = lock(&self.last_fleet).as_ref() {
            return Ok(rows.iter().find(|r| r.id.key == thing).cloned());
        }
        Ok(query::ranked(store, triage::TriageOptions::default())?
            .into_iter()
            .find(|r| r.ranked.thing == thing)
            .map(|r| fleet_row(r, false)))
    }
}
