//! Policies: requirements on which connections must get through (or not).
//!
//! A policy file is YAML, validated into trusted types with every problem
//! reported at once, each with its line and column (see [`validate`]).

mod validate;
pub mod yaml;

pub use validate::{PolicyError, load_str};

use crate::eval::Direction;
use ipnet::IpNet;

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

#[derive(Debug, Clone, serde::Serialize)]
pub struct Requirement {
    pub id: String,
    pub title: Option<String>,
    pub expect: Expect,
    pub directions: Vec<Direction>,
    /// Protocol numbers: 6 (tcp), 17 (udp).
    pub protocols: Vec<u8>,
    /// Inclusive destination port ranges of the first packet.
    pub ports: Vec<(u16, u16)>,
    /// Destination and source addresses of the first packet; `None` is any.
    pub to: Option<Vec<IpNet>>,
    pub from: Option<Vec<IpNet>>,
    /// Interface names; `None` is every interface but loopback.
    pub in_interface: Option<Vec<String>>,
    pub out_interface: Option<Vec<String>>,
    pub used_by: Vec<String>,
    pub place: Place,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Policy {
    pub name: String,
    pub title: Option<String>,
    pub place: Place,
    pub requirements: Vec<Requirement>,
}

impl Requirement {
    pub fn protocol_names(&self) -> Vec<String> {
        self.protocols.iter().map(|p| crate::eval::protocol_name(*p)).collect()
    }

    pub fn ports_text(&self) -> String {
        self.ports.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect::<Vec<_>>().join(",")
    }
}
