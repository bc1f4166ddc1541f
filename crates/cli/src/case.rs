//! `ddesk case set | note | show`: the investigation state of a thing or an audit finding, its
//! owner and notes (who and when recorded from the OS), kept in the cache.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use desk_engine::cases::{self, CaseState, Subject};
use desk_engine::store::Store;
use desk_engine::Error;

/// What the investigation is about: one thing or one audit finding.
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// Thing name.
    #[arg(long)]
    thing: Option<String>,
    /// Audit finding id.
    #[arg(long)]
    finding: Option<String>,
}

impl Target {
    /// The subject, a thing named within `scope` (the global --account; unknown: any).
    fn subject(&self, scope: &desk_engine::model::scope::Scope) -> Subject {
        match (&self.thing, &self.finding) {
            (Some(t), _) => Subject::Thing(scope.key(t)),
            (None, Some(f)) => Subject::Finding(f.clone()),
            (None, None) => unreachable!("clap requires one of --thing and --finding"),
        }
    }
}

/// The states as typed on the command line.
#[derive(ValueEnum, Clone, Copy)]
pub enum StateArg {
    /// Not looked at yet.
    New,
    /// Someone is on it.
    Investigating,
    /// Resolved: nothing wrong (down-ranked in triage until new evidence).
    Benign,
    /// Resolved: it was compromised.
    Compromised,
}

impl From<StateArg> for CaseState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::New => Self::New,
            StateArg::Investigating => Self::Investigating,
            StateArg::Benign => Self::Benign,
            StateArg::Compromised => Self::Compromised,
        }
    }
}

#[derive(Subcommand, Clone)]
pub enum CaseCmd {
    /// Set the state (and owner) of an investigation; prints it as `case show` does.
    Set {
        #[command(flatten)]
        target: Target,
        /// The state.
        #[arg(long, value_enum)]
        state: StateArg,
        /// Who owns it (kept when not given).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Add a time-stamped note, attributed to the OS user.
    Note {
        #[command(flatten)]
        target: Target,
        /// The note (at most 4000 characters, no control characters but newlines and tabs).
        #[arg(long)]
        text: String,
    },
    /// The investigation as JSON: `{state, owner, updated, notes: [{at, who, text}], history}`.
    Show {
        #[command(flatten)]
        target: Target,
    },
}

/// Runs `ddesk case …`.
pub fn case_cmd(
    db: &Path,
    cmd: &CaseCmd,
    scope: &desk_engine::model::scope::Scope,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let store = Store::open(db).with_context(|| format!("opening cache {}", db.display()))?;
    let who = cases::os_user();
    let case = match cmd {
        CaseCmd::Set {
            target,
            state,
            owner,
        } => {
            let subject = target.subject(scope);
            // The reasons triage gives now: a benign thing comes back up only on other ones.
            let evidence = cases::current_evidence(&store, &subject)?;
            cases::set_state(
                &store,
                &subject,
                (*state).into(),
                owner.as_deref(),
                &who,
                evidence,
            )
        }
        CaseCmd::Note { target, text } => {
            cases::add_note(&store, &target.subject(scope), text, &who)
        }
        CaseCmd::Show { target } => {
            let subject = target.subject(scope);
            subject.require(&store)?;
            cases::show(&store, &subject)
        }
    };
    let case = case.map_err(|e| match e {
        Error::InvalidInput(m) => anyhow::Error::new(crate::Usage(m)),
        other => anyhow::Error::new(other),
    })?;
    // `{state, owner, updated, notes: [{at, who, text}], history}`, times in RFC 3339 UTC.
    serde_json::to_writer_pretty(&mut *out, &case)?;
    writeln!(out)?;
    Ok(())
}
