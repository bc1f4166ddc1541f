//! # Defender Desk engine
//!
//! All of Defender Desk's domain logic, headless: AWS IoT Device Defender documents are parsed
//! ([`model`]), cached in SQLite ([`store`]) and queried for the analyst. The desktop shell and
//! the `ddesk` command line are thin layers over this crate; nothing here depends on a UI.
//!
//! # Example
//! ```
//! use desk_engine::{ingest, store::Store};
//! let mut store = Store::open_in_memory().unwrap();
//! let batch = br#"{"version":"1.0","metrics":[{"name":"aws:all-bytes-out","thing":"cam-1",
//!   "value":{"count":1048576},"version":1,"timestamp":1717430700000}]}"#;
//! let report = ingest::ingest_bytes(&mut store, "batch.json", batch, &Default::default());
//! assert!(report.rejected.is_empty());
//! assert_eq!(store.things().unwrap()[0].name, "cam-1");
//! ```

pub mod actions;
pub mod analysis;
pub mod app;
pub mod cases;
pub mod charts;
pub mod csv_out;
pub mod demo;
pub mod error;
pub mod files;
pub mod ingest;
pub mod model;
pub mod secrets;
pub mod sources;
pub mod store;
pub mod sync;
pub mod time;
pub mod ts;
pub mod watch;

pub use error::{Error, Result};
