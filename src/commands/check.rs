//! `driftwall check`: every requirement of every policy against every input.

// The check itself is the policy layer's; these names stay reachable here
// for the subcommands built on it and for library callers.
pub use crate::policy::check::*;
