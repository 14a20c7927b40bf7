//! `driftwall watch`: the daemon.

pub mod notify;
pub mod config;
