//! The rules of a pf ruleset on their way to the model's chains: what
//! each decides and the conditions it carries, shared by the filter walk
//! (`mod.rs`) and the translation walk (`translate.rs`).

use crate::model::{Action, Family, Interface, Match, RejectKind, Span};
use crate::pf::ast::{AnchorKind, Direction};
use std::net::IpAddr;

/// What a rule does once it is the decision.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    /// A pass that keeps state: later packets and replies pass with it.
    /// `syn_only`: for TCP, only a first packet (`flags S/SA`). `tag`: the
    /// mark bit of its translation, if it translates (`translate.rs`).
    Pass {
        syn_only: bool,
        tag: u32,
    },
    /// A pass that keeps none: later packets and replies meet the rules.
    PassStateless,
    Block(Action),
    /// `block return`: a RST for TCP, this ICMP error for the rest.
    BlockReturn(RejectKind),
    /// `block return-rst`: a RST for TCP; other packets are dropped.
    BlockRst,
    /// The decision is unknown (a translation, an anchor filled at run time):
    /// both pass and block are possible.
    Unknown(String),
    /// A translation rule's action, in a NAT chain (`translate.rs`).
    Translate(Action),
}

/// One first-match rule before it is placed in a chain.
#[derive(Debug, Clone)]
pub(super) struct Flat1 {
    pub span: Span,
    pub direction: Direction,
    /// Interface conditions, all of which must hold: (negated, interface).
    pub interfaces: Vec<(bool, Interface)>,
    /// Matches that do not depend on the direction.
    pub matches: Vec<Match>,
    pub verdict: Verdict,
}

/// The conditions an anchor puts on the rules inside it.
#[derive(Debug, Clone, Default)]
pub(super) struct Gate {
    pub direction: Direction,
    pub interfaces: Vec<(bool, Interface)>,
    pub matches: Vec<Match>,
    /// The family is excluded by an `inet`/`inet6` gate.
    pub excluded: bool,
}

/// A rule's parameters, for one family: `None` when the rule does not
/// exist in this family; otherwise each alternative of its lists (pfctl
/// expands lists into one rule per item) as interfaces and matches.
pub(super) type Alternatives = Vec<(Vec<(bool, Interface)>, Vec<Match>)>;

pub(super) fn combine_direction(gate: Direction, rule: Direction) -> Direction {
    match (gate, rule) {
        (Direction::Both, d) | (d, Direction::Both) => d,
        (g, _) => g,
    }
}

pub(super) fn family_of(ip: &IpAddr) -> Family {
    match ip {
        IpAddr::V4(_) => Family::Ipv4,
        IpAddr::V6(_) => Family::Ipv6,
    }
}

pub(super) fn kind_word(k: AnchorKind) -> &'static str {
    match k {
        AnchorKind::Nat => "nat",
        AnchorKind::Rdr => "rdr",
        AnchorKind::Binat => "binat",
        AnchorKind::Scrub => "scrub",
        AnchorKind::Dummynet => "dummynet",
        AnchorKind::Ether => "ether",
        AnchorKind::Filter => "",
    }
}
