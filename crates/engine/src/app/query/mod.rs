//! The query commands over one cache file: what `ddesk things|series|drift|chart|audit-chart|
//! export|timeline|violations|audits|findings|mitigations|triage|actions` print, as typed records.
//!
//! `ddesk` parses its arguments, calls one function here and prints the records (JSON, CSV or
//! a table); the app's screens read the same store through [`Desk`](super::Desk), sharing the
//! checks ([`require_thing`](super::require_thing)) and the ranking ([`ranked`]). Times print
//! as RFC 3339 UTC strings; field order is the printed column order (a public contract).

//!
//! One module per domain: [`thing`] (things, series, drift, export, timeline), [`chart`](mod@chart)
//! (chart files), [`audit`] (violations, audits, findings, mitigations), [`fleet`] (triage),
//! [`actions`] (the action log and its verification, for the app's Actions screen too).

mod actions;
mod audit;
mod chart;
mod fleet;
mod thing;

pub use actions::*;
pub use audit::*;
pub use chart::*;
pub use fleet::*;
pub use thing::*;
