//! Policies: requirements on which connections must get through (or not).
//!
//! A policy file is YAML, validated into trusted types with every problem
//! reported at once, each with its line and column (see [`validate`]).
//! Requirements may name rows of the Apple port catalog ([`catalog`]) and
//! directions relative to the role of the firewall ([`role`]); validation
//! resolves both, so what the evaluator gets is concrete.

pub mod catalog;
pub mod check;
mod model;
mod problem;
pub mod role;
pub mod shipped;
mod validate;
pub mod yaml;

pub use model::{CatalogRef, Expect, Place, Policy, Requirement};
pub use problem::{PolicyCode, PolicyError, PolicyReadError};
pub use role::{AddressSet, DirectionSpec, Role, RoleKind, Scope};
pub use validate::{load_str, load_str_for};

/// Reads a policy named on the command line: `apple:<name>` for a shipped
/// one, otherwise a path. Returns the name to show and the text.
pub fn read(spec: &str) -> Result<(String, std::borrow::Cow<'static, str>), PolicyReadError> {
    if let Some(name) = spec.strip_prefix("apple:") {
        return match shipped::apple(name) {
            Some(text) => Ok((spec.to_string(), std::borrow::Cow::Borrowed(text))),
            None => Err(PolicyReadError::UnknownShipped {
                spec: spec.to_string(),
                shipped: shipped::APPLE
                    .iter()
                    .map(|(n, _)| format!("apple:{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        };
    }
    crate::fsutil::read_input(std::path::Path::new(spec))
        .and_then(crate::fsutil::utf8_text)
        .map(|t| (spec.to_string(), std::borrow::Cow::Owned(t)))
        .map_err(|error| PolicyReadError::Unreadable {
            spec: spec.to_string(),
            error,
        })
}

/// Policies named on a command line or in a configuration, read and
/// validated for a role; what could not be loaded is kept, to report.
#[derive(Debug, Default)]
pub struct Loaded {
    pub policies: Vec<Policy>,
    /// Policies that could not be read, with why.
    pub unreadable: Vec<PolicyReadError>,
    /// Every problem of the invalid ones.
    pub invalid: Vec<PolicyError>,
    /// The text of each invalid policy, by its name, to quote the lines.
    pub sources: Vec<(String, String)>,
}

impl Loaded {
    pub fn is_complete(&self) -> bool {
        self.unreadable.is_empty() && self.invalid.is_empty()
    }

    /// Every problem, one per line.
    pub fn problems(&self) -> String {
        self.unreadable
            .iter()
            .map(|e| e.to_string())
            .chain(self.invalid.iter().map(|e| e.to_string()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn load_all(specs: &[String], role: &Role) -> Loaded {
    let mut out = Loaded::default();
    for spec in specs {
        match read(spec) {
            Err(e) => out.unreadable.push(e),
            Ok((shown, text)) => match load_str_for(&shown, &text, Some(role)) {
                Ok(p) => out.policies.push(p),
                Err(errs) => {
                    out.invalid.extend(errs);
                    out.sources.push((shown, text.into_owned()));
                }
            },
        }
    }
    out
}
