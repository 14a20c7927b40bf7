//! driftwall audits firewall configuration against policies of ports that
//! must be open or closed.
//!
//! Data flows one way: text → `driftwall_parsers` → `Ruleset` → [`eval`]
//! (packet regions) → [`policy`] check → [`report`].

pub mod alert;
pub mod cli;
pub mod commands;
pub mod daemon;
pub mod drift;
pub mod duration;
pub mod eval;
pub mod fsutil;
pub mod git;
pub mod input;
pub mod logging;
pub mod policy;
pub mod report;
pub mod stable_hash;

#[cfg(test)]
mod architecture_test;
