//! The Bolt protocol as a sans-IO state machine (work in progress).

pub mod value;
