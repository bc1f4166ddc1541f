//! Security Hub's side of a case, as stored: what the read-back last saw of each finding and
//! what this cache pushed (`0014_hub_readback.sql`), and the case events read back from it.

use rusqlite::params;

use super::{Store, StoreError};
use crate::time::{self, Millis};

/// One Security Hub finding of the cache as the read-back needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HubSeen {
    /// `ProductArn`.
    pub product_arn: String,
    /// The finding's `Id`.
    pub id: String,
    /// The case it belongs to (`thing:<key>` for a violation's, `finding:<id>` for an audit
    /// finding's; `None` for a check summary, or a violation not in the cache).
    pub subject: Option<String>,
    /// `Workflow.Status` as the read-back last saw it (`None`: never read back).
    pub seen_workflow: Option<String>,
    /// `Note.UpdatedAt` as the read-back last saw it.
    pub seen_note_at: Option<Millis>,
    /// The newest history record read.
    pub history_to: Option<Millis>,
    /// When this cache last pushed to it.
    pub pushed_at: Option<Millis>,
    /// The `Workflow.Status` it pushed.
    pub pushed_workflow: Option<String>,
    /// The note text it pushed.
    pub pushed_note: Option<String>,
}

/// What one read-back saw of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSeenMark {
    /// `ProductArn`.
    pub product_arn: String,
    /// `Id`.
    pub id: String,
    /// `Workflow.Status` now.
    pub workflow: String,
    /// `Note.UpdatedAt` now.
    pub note_at: Option<Millis>,
    /// The newest history record read (kept when none was).
    pub history_to: Option<Millis>,
}

/// A colleague's change read back from Security Hub, as a case event: a state or a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCaseEvent {
    /// `thing:<key>` or `finding:<id>`.
    pub subject: String,
    /// When Security Hub recorded the change.
    pub at: Millis,
    /// Who made it (the note's `UpdatedBy`, else the caller's identity).
    pub who: String,
    /// The state it set (`new`, `investigating`, `benign`).
    pub state: Option<String>,
    /// The note it wrote.
    pub note: Option<String>,
    /// What makes it one event however often it is read: the subject, time, field and value.
    pub origin_ref: String,
}

/// What a read-back writes, with the sync's other marks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubReadBack {
    /// The findings it looked at.
    pub seen: Vec<HubSeenMark>,
    /// The case events it found.
    pub events: Vec<HubCaseEvent>,
}

impl Store {
    /// Every Security Hub finding of the cache with its case and what was seen and pushed.
    pub fn hub_seen(&self) -> Result<Vec<HubSeen>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT h.product_arn, h.id,
                    CASE h.kind
                      WHEN 'violation' THEN (SELECT 'thing:' || t.name FROM violation v
                                             JOIN thing t ON t.id = v.thing_id
                                             WHERE v.violation_id = h.record)
                      WHEN 'finding' THEN 'finding:' || h.record
                    END,
                    h.seen_workflow, h.seen_note_at, h.history_to, h.pushed_at,
                    h.pushed_workflow, h.pushed_note
             FROM hub_finding h ORDER BY h.product_arn, h.id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(HubSeen {
                product_arn: r.get(0)?,
                id: r.get(1)?,
                subject: r.get(2)?,
                seen_workflow: r.get(3)?,
                seen_note_at: r.get(4)?,
                history_to: r.get(5)?,
                pushed_at: r.get(6)?,
                pushed_workflow: r.get(7)?,
                pushed_note: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what this cache set on a Security Hub finding (its workflow and note, now), so
    /// the read-back knows its own push.
    pub fn set_hub_pushed(
        &self,
        product_arn: &str,
        id: &str,
        workflow: &str,
        note: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE hub_finding SET workflow = ?3, pushed_workflow = ?3, pushed_note = ?4,
               pushed_at = ?5
             WHERE product_arn = ?1 AND id = ?2",
            params![product_arn, id, workflow, note, time::now()],
        )?;
        Ok(())
    }
}

/// Writes a read-back: each event once (a state event keeps the case's owner), and what was
/// seen of each finding.
pub(crate) fn write_readback(
    tx: &rusqlite::Transaction,
    back: &HubReadBack,
) -> Result<(), StoreError> {
    for e in &back.events {
        tx.prepare_cached(
            "INSERT INTO case_event(subject, at, who, state, owner, note, evidence, origin, origin_ref)
             VALUES (?1, ?2, ?3, ?4,
                     CASE WHEN ?4 IS NULL THEN NULL ELSE
                       (SELECT owner FROM case_event WHERE subject = ?1 AND state IS NOT NULL
                        ORDER BY at DESC, id DESC LIMIT 1) END,
                     ?5, NULL, 'security-hub', ?6)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![e.subject, e.at, e.who, e.state, e.note, e.origin_ref])?;
    }
    for s in &back.seen {
        tx.prepare_cached(
            "UPDATE hub_finding SET seen_workflow = ?3, seen_note_at = ?4,
               history_to = coalesce(?5, history_to)
             WHERE product_arn = ?1 AND id = ?2",
        )?
        .execute(params![
            s.product_arn,
            s.id,
            s.workflow,
            s.note_at,
            s.history_to
        ])?;
    }
    Ok(())
}
