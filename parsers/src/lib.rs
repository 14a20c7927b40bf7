//! The normalized firewall rule model and one parser per format.
//!
//! Pure: no I/O, no printing. Callers hand in text and a path for spans and
//! get back a [`model::Ruleset`] plus every error found.

pub mod error;
pub mod firewalld;
pub mod iptables;
mod jumps;
mod line_index;
pub mod model;
pub mod nft;
pub mod pf;
mod services;
pub mod ufw;
mod values;

pub use error::{ErrorKind, ParseError};

/// What a parser returns: the ruleset it could build and every error on the way.
/// A file with errors still yields the rules around them, so one run reports
/// all problems; callers must not evaluate a ruleset that has errors as if it
/// were complete.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub ruleset: model::Ruleset,
    pub errors: Vec<ParseError>,
}
