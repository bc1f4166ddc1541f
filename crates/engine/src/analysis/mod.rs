//! Analysis over cached series: what an analyst must see about one thing.

pub mod drift;
