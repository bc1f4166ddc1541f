//! `ddesk`'s integration tests, one binary (each test file a module): they run the built
//! `ddesk` against real SQLite files, moto_server and the emulators (`support/`).

mod support;

mod actions;
mod athena;
mod cli;
mod compliance;
mod hostile;
mod reference;
mod securityhub;
mod splunk;
mod sync;
