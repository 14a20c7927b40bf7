//! The trusted policy values validation makes ([`super::validate`]): what
//! the check and the reports read.

use super::role::{DirectionSpec, Scope};
use crate::eval::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Every connection of the set gets through.
    Allow,
    /// No connection of the set gets through (reject and drop both count).
    Deny,
}

/// Where a clause of a policy file is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Place {
    pub path: String,
    pub line: u32,
    pub column: u32,
}

/// A catalog row a requirement came from, with how reports name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CatalogRef {
    pub id: String,
    /// "UDP 3478-3497 (nat-stun-port - ipether232port, used by FaceTime, Game Center)".
    pub text: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Requirement {
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub expect: Expect,
    /// The directions as written (possibly relative to the role).
    pub direction: Vec<DirectionSpec>,
    /// What they mean in the role the policy was loaded for.
    #[serde(skip)]
    pub scopes: Vec<Scope>,
    /// Protocol numbers: 6 (tcp), 17 (udp).
    pub protocols: Vec<u8>,
    /// Inclusive destination port ranges of the first packet.
    pub ports: Vec<(u16, u16)>,
    /// The catalog rows the ports come from.
    pub catalog: Vec<CatalogRef>,
    pub used_by: Vec<String>,
    pub place: Place,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Policy {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub products: Vec<String>,
    pub place: Place,
    pub requirements: Vec<Requirement>,
}

impl Requirement {
    pub fn protocol_names(&self) -> Vec<String> {
        self.protocols
            .iter()
            .map(|p| crate::eval::protocol_name(*p))
            .collect()
    }

    pub fn ports_text(&self) -> String {
        self.ports
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The concrete directions, in order, once each.
    pub fn directions(&self) -> Vec<Direction> {
        let mut out: Vec<Direction> = Vec::new();
        for s in &self.scopes {
            if !out.contains(&s.direction) {
                out.push(s.direction);
            }
        }
        out
    }
}
