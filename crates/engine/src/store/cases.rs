//! Investigation state as stored: append-only events per subject (see `0008_cases.sql`).

use rusqlite::params;

use super::{Store, StoreError};
use crate::time::Millis;

/// What an investigation is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A thing, by name.
    Thing(String),
    /// An audit finding, by id.
    Finding(String),
}

impl Subject {
    /// The stored key's prefix of a thing's case.
    pub(crate) const THING: &'static str = "thing:";
    /// The stored key's prefix of an audit finding's case.
    pub(crate) const FINDING: &'static str = "finding:";

    /// The stored key: `thing:<name>` or `finding:<id>`.
    pub fn key(&self) -> String {
        match self {
            Self::Thing(t) => format!("{}{t}", Self::THING),
            Self::Finding(f) => format!("{}{f}", Self::FINDING),
        }
    }

    /// The subject a stored key names.
    pub fn from_key(key: &str) -> Option<Self> {
        if let Some(t) = key.strip_prefix(Self::THING) {
            Some(Self::Thing(t.to_string()))
        } else {
            key.strip_prefix(Self::FINDING)
                .map(|f| Self::Finding(f.to_string()))
        }
    }
}

/// One stored case event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEventRow {
    /// Row id (order of writing).
    pub id: i64,
    /// `thing:<name>` or `finding:<id>`.
    pub subject: String,
    /// When, epoch ms.
    pub at: Millis,
    /// Who (the OS user).
    pub who: String,
    /// The state set, for a state event.
    pub state: Option<String>,
    /// The owner set with it.
    pub owner: Option<String>,
    /// The note, for a note event.
    pub note: Option<String>,
    /// The triage evidence the state was decided on (JSON), for a state event.
    pub evidence: Option<String>,
    /// Where it came from when not from this cache: `security-hub` (a colleague's change read
    /// back from Security Hub).
    pub origin: Option<String>,
}

const COLUMNS: &str = "id, subject, at, who, state, owner, note, evidence, origin";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseEventRow> {
    Ok(CaseEventRow {
        id: r.get(0)?,
        subject: r.get(1)?,
        at: r.get(2)?,
        who: r.get(3)?,
        state: r.get(4)?,
        owner: r.get(5)?,
        note: r.get(6)?,
        evidence: r.get(7)?,
        origin: r.get(8)?,
    })
}

impl Store {
    /// Appends a case event (exactly one of `state` and `note` is set); returns its id.
    pub fn append_case_event(&self, e: &CaseEventRow) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO case_event(subject, at, who, state, owner, note, evidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.subject, e.at, e.who, e.state, e.owner, e.note, e.evidence],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every event of one subject, oldest first (by when it happened: an event read back from
    /// Security Hub is written after it happened; the order of writing breaks ties).
    pub fn case_events(&self, subject: &str) -> Result<Vec<CaseEventRow>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM case_event WHERE subject = ?1 ORDER BY at, id"
        ))?;
        let rows = st.query_map([subject], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest state event of every subject that has one (newest by when it happened, as
    /// [`Store::case_events`] orders them).
    pub fn case_states(&self) -> Result<Vec<CaseEventRow>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM (
               SELECT *, row_number() OVER (PARTITION BY subject ORDER BY at DESC, id DESC) AS n
               FROM case_event WHERE state IS NOT NULL)
             WHERE n = 1 ORDER BY subject"
        ))?;
        let rows = st.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
