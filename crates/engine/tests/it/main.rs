//! The engine's integration tests, one binary (each test file a module): one link of polars,
//! the AWS SDK and SQLite instead of one per file.

mod common;

mod analysis;
mod app;
mod bindings;
mod charts;
mod cli_corpus;
mod data_truth;
mod fixtures;
mod framing_props;
mod fuzz_regressions;
mod history;
mod layering;
mod securityhub_corpus;
mod store;
mod store_locks;
mod trust;
