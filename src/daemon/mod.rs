//! `driftwall watch`: the daemon.

pub mod notify;
