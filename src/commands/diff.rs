//! `driftwall diff OLD NEW`: what changed between two firewall files.

pub use crate::drift::diff::*;
