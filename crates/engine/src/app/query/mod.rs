//! The query commands over one cache file: what `ddesk things|series|drift|chart|audit-chart|
//! export|timeline|violations|audits|findings|mitigations|triage|actions` print.
//!
//! `ddesk` parses its arguments, calls one function here and prints the records (JSON, CSV or
//! a table); the app's screens read the same store through [`Desk`](super::Desk), sharing the
//! checks ([`require_thing`](super::require_thing)) and the ranking ([`ranked`]). Where a
//! screen shows the same thing, the function returns the screen's type ([`FleetRow`](super::FleetRow),
//! [`TimelineRow`](super::TimelineRow), [`ViolationView`](super::ViolationView),
//! [`DiffView`](super::DiffView), [`ActionView`](super::ActionView), the store's `AuditRow` and
//! `FindingRow`): one type per answer. The `*Record` types left are answers no screen gives in
//! that form, each saying why.
//!
//! Instants are written by one rule keyed to the type, not to field names: every instant field
//! is marked `serialize_with = "time::instant"`, which writes epoch ms (the app's IPC) or, once
//! `ddesk` has called [`time::write_instants_as`](crate::time::write_instants_as), RFC 3339 UTC
//! text. Field order is the printed column order (a public contract); new fields go last.

//!
//! One module per domain: [`thing`] (things, series, drift, export, timeline), [`chart`](mod@chart)
//! (chart files), [`audit`] (violations, audits, findings, mitigations), [`fleet`] (triage),
//! [`actions`] (the action log and its verification, for the app's Actions screen too),
//! [`history`] (the cache's size, compaction and upgrade).

mod actions;
mod audit;
mod chart;
mod fleet;
mod history;
mod thing;

pub use actions::*;
pub use audit::*;
pub use chart::*;
pub use fleet::*;
pub use history::*;
pub use thing::*;
