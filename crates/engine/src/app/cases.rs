//! Investigation state from the app: a thing's or an audit finding's state, owner and notes
//! (who is the OS user).

use super::*;
use crate::cases::{self, Subject};

impl Desk {
    /// A thing's investigation.
    pub fn case(&self, thing: &str) -> Result<Case> {
        self.with_store(|store| {
            let subject = Subject::Thing(thing.to_string());
            subject.require(store)?;
            cases::show(store, &subject)
        })
    }

    /// Sets a thing's investigation state; triage ranks again at its next call (a thing
    /// resolved benign goes down until new evidence).
    pub fn set_case(&self, req: &CaseRequest) -> Result<Case> {
        let case = self.with_store(|store| {
            let thing = resolve_thing(store, &req.thing)?;
            let evidence = self
                .scored(store, &thing)?
                .map(|r| {
                    r.reasons
                        .iter()
                        .map(|x| cases::evidence_key(&x.metric, x.source))
                        .collect()
                })
                .unwrap_or_default();
            cases::set_state(
                store,
                &Subject::Thing(thing),
                req.state,
                req.owner.as_deref(),
                &cases::os_user(),
                evidence,
            )
        })?;
        self.forget_rankings();
        Ok(case)
    }

    /// Adds a note to a thing's investigation.
    pub fn add_case_note(&self, req: &NoteRequest) -> Result<Case> {
        self.with_store(|store| {
            cases::add_note(
                store,
                &Subject::Thing(req.thing.clone()),
                &req.text,
                &cases::os_user(),
            )
        })
    }

    /// An audit finding's investigation.
    pub fn finding_case(&self, finding: &str) -> Result<Case> {
        self.with_store(|store| {
            let subject = Subject::Finding(finding.to_string());
            subject.require(store)?;
            cases::show(store, &subject)
        })
    }

    /// Sets an audit finding's investigation state.
    pub fn set_finding_case(&self, req: &FindingCaseRequest) -> Result<Case> {
        let case = self.with_store(|store| {
            cases::set_state(
                store,
                &Subject::Finding(req.finding.clone()),
                req.state,
                req.owner.as_deref(),
                &cases::os_user(),
                BTreeSet::new(),
            )
        })?;
        self.forget_rankings();
        Ok(case)
    }

    /// Adds a note to an audit finding's investigation.
    pub fn add_finding_note(&self, req: &FindingNoteRequest) -> Result<Case> {
        self.with_store(|store| {
            cases::add_note(
                store,
                &Subject::Finding(req.finding.clone()),
                &req.text,
                &cases::os_user(),
            )
        })
    }
}
