//! Analysis over cached series: what an analyst must see about one thing, and which thing to
//! open first.

pub mod audit;
pub mod categories;
pub mod drift;
pub mod export;
pub mod peers;
pub mod timeline;
pub mod triage;
pub mod view;
