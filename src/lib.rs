//! driftwall audits firewall configuration against policies of ports that
//! must be open or closed.
//!
//! Data flows one way: text → `driftwall_parsers` → `Ruleset` → [`eval`]
//! (packet regions) → [`policy`] check and [`drift`] → [`report`] (the CLI)
//! or [`daemon`] → [`alert`]. docs/architecture.md has who owns what and
//! the import directions, which `architecture_test` checks.
//!
//! The helpers every layer shares (`stable_hash`, `fsutil`, `duration`,
//! `in_order`, `fx_hash`) are crate-private.

pub mod alert;
pub mod cli;
pub mod commands;
pub mod daemon;
pub mod drift;
pub(crate) mod duration;
pub mod eval;
pub(crate) mod fsutil;
pub(crate) mod fx_hash;
pub mod git;
pub(crate) mod in_order;
pub mod input;
pub mod logging;
pub mod metrics;
pub mod policy;
pub mod report;
pub(crate) mod stable_hash;
#[cfg(test)]
pub(crate) mod test_rng;

#[cfg(test)]
mod architecture_test;
