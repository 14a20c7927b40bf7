//! The normalized rule model shared by every format.
//!
//! It stays close to netfilter (tables of base chains attached to hooks, user
//! chains, first-match rules with jumps and returns) because that is what most
//! inputs are and what can be checked against a real kernel. The model holds
//! only valid values: a parser that cannot build one reports an error instead.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// The protocols of a [`Match::Protocol`]: nearly always one, at most the
/// five of nft's `th`, so they are kept in the match rather than allocated.
pub type Protocols = SmallVec<[u8; 16]>;

/// The networks of a source or destination match: usually one. Kept in the
/// match, since a big ruleset has one such list for most of its rules.
pub type Nets = SmallVec<[IpNet; 1]>;

/// The ports of a port match: usually one port or one range.
pub type Ports = SmallVec<[PortRange; 4]>;

/// Where a thing came from: a file of [`Ruleset::sources`] and a byte range of it.
///
/// Spans store offsets rather than copies of the text so that a 100k-rule file
/// does not cost 100k allocations; [`Ruleset::text`] gives the text back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    pub start: u32,
    pub end: u32,
}

/// One input file and its text, kept so reports can quote and underline rules.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub path: String,
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

/// The netfilter hooks a base chain can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }
}

/// What a table is for. The evaluator needs it: NAT chains see only the first
/// packet of a connection, and only NAT chains may rewrite addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    Filter,
    Nat,
    /// iptables' `raw` table: runs before connection tracking.
    Raw,
    /// iptables' `mangle` table, nftables' `route` chains.
    Mangle,
    Security,
}

/// A parsed ruleset: every table of every input file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ruleset {
    pub sources: Vec<Source>,
    /// Address families the input speaks for. A `rules.v4` file says nothing
    /// about IPv6, and a report must say so rather than guess.
    pub families: Vec<Family>,
    pub tables: Vec<Table>,
    /// Parts of the input that are read but are not host IP filtering
    /// (nftables bridge, arp and netdev tables, ingress chains): reported,
    /// never counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// A part of the input left out of evaluation, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub span: Span,
    pub what: String,
}

impl Ruleset {
    /// The source text a span points at; empty if the span is out of range.
    pub fn text(&self, span: &Span) -> &str {
        self.sources
            .get(span.file as usize)
            .and_then(|s| s.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    pub fn path(&self, span: &Span) -> &str {
        self.sources
            .get(span.file as usize)
            .map(|s| s.path.as_str())
            .unwrap_or("")
    }

    pub fn rule_count(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub family: Family,
    pub name: String,
    pub span: Span,
    pub chains: Vec<Chain>,
}

impl Table {
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
}

/// Where a base chain sits: its hook, its kind and its order on that hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaseHook {
    pub hook: Hook,
    pub kind: ChainKind,
    /// Lower runs first, as in netfilter (raw -300, mangle -150, nat dst -100,
    /// filter 0, security 50, nat src 100).
    pub priority: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    pub name: String,
    /// `None` for a user chain, reached only by jump or goto.
    pub base: Option<BaseHook>,
    /// The verdict when no rule of a base chain decides. User chains have none.
    pub policy: Option<Policy>,
    /// The line that declared the chain or set its policy.
    pub span: Span,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Accept,
    Drop,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub span: Span,
    /// All must hold for the rule to match.
    pub matches: Vec<Match>,
    pub action: Action,
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn single(port: u16) -> Self {
        PortRange {
            start: port,
            end: port,
        }
    }
}

/// An interface name as a rule gives it: exact, or a prefix (`eth+`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Interface {
    pub name: String,
    pub wildcard: bool,
}

impl Interface {
    pub fn parse(text: &str) -> Interface {
        match text.strip_suffix('+') {
            Some(prefix) => Interface {
                name: prefix.to_string(),
                wildcard: true,
            },
            None => Interface {
                name: text.to_string(),
                wildcard: false,
            },
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        if self.wildcard {
            name.starts_with(&self.name)
        } else {
            name == self.name
        }
    }
}

/// Connection tracking states, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct CtStates(pub u8);

impl CtStates {
    pub const NEW: CtStates = CtStates(1);
    pub const ESTABLISHED: CtStates = CtStates(2);
    pub const RELATED: CtStates = CtStates(4);
    pub const INVALID: CtStates = CtStates(8);
    pub const UNTRACKED: CtStates = CtStates(16);
    pub const ALL: CtStates = CtStates(31);

    pub fn contains(self, other: CtStates) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn union(self, other: CtStates) -> CtStates {
        CtStates(self.0 | other.0)
    }
}

/// TCP flag bits as iptables and the wire number them.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// One condition of a rule. Negation is part of each variant because the
/// formats negate per condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "match", rename_all = "snake_case")]
pub enum Match {
    /// Layer-4 protocol numbers (tcp 6, udp 17, ...).
    Protocol {
        negated: bool,
        protocols: Protocols,
    },
    Source {
        negated: bool,
        nets: Nets,
    },
    Destination {
        negated: bool,
        nets: Nets,
    },
    /// Inclusive address ranges (`-m iprange`).
    SourceRange {
        negated: bool,
        start: std::net::IpAddr,
        end: std::net::IpAddr,
    },
    DestinationRange {
        negated: bool,
        start: std::net::IpAddr,
        end: std::net::IpAddr,
    },
    SourcePort {
        negated: bool,
        ports: Ports,
    },
    DestinationPort {
        negated: bool,
        ports: Ports,
    },
    /// Source or destination port in the set (`-m multiport --ports`).
    AnyPort {
        negated: bool,
        ports: Ports,
    },
    InInterface {
        negated: bool,
        interface: Interface,
    },
    OutInterface {
        negated: bool,
        interface: Interface,
    },
    ConnState {
        negated: bool,
        states: CtStates,
    },
    /// `(flags & mask) == comp`.
    TcpFlags {
        negated: bool,
        mask: u8,
        comp: u8,
    },
    /// ICMP or ICMPv6 type and code range (`--icmp-type`, `--icmpv6-type`);
    /// type 255 with codes 0-255 is `any`.
    Icmp {
        negated: bool,
        icmp_type: u8,
        codes: (u8, u8),
    },
    /// Second and later fragments (`-f`). The packets we evaluate are never
    /// such fragments, so this never matches them (and its negation always does).
    Fragment {
        negated: bool,
    },
    /// A match that needs an IPv6 routing header (`-m rt`, with any of its
    /// options: each one tests the header, so none holds without it). The
    /// packets we evaluate carry no extension header, so this never matches
    /// them; ufw's stock `before6.rules` drops type-0 routing headers so.
    RoutingHeader {
        text: String,
    },
    /// `ct status dnat`: the connection's destination was rewritten (DNAT
    /// or redirect) by the NAT rules its first packet met. Negated: it was
    /// not. The evaluator knows which NAT rules a packet met.
    CtStatusDnat {
        negated: bool,
    },
    /// A comment attached to the rule; always matches.
    Comment {
        text: String,
    },
    /// Parsed but not modelled (rate limits, marks, ipsets, recent, time, ...).
    /// A rule holding one may or may not match: results it decides are
    /// indeterminate.
    Unknown {
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectKind {
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpPortUnreachable,
    IcmpProtoUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    Icmp6NoRoute,
    Icmp6AdmProhibited,
    Icmp6AddrUnreachable,
    Icmp6PortUnreachable,
    Icmp6PolicyFail,
    Icmp6RejectRoute,
    TcpReset,
}

impl RejectKind {
    pub fn is_tcp_reset(self) -> bool {
        self == RejectKind::TcpReset
    }
}

/// A NAT rewrite. `None` fields keep the packet's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "nat", rename_all = "snake_case")]
pub enum Nat {
    /// Rewrites the destination (prerouting, output).
    Dnat {
        addr: Option<(std::net::IpAddr, std::net::IpAddr)>,
        ports: Option<PortRange>,
    },
    /// Rewrites the destination to the host itself (the primary address of the
    /// incoming interface), optionally to other ports.
    Redirect { ports: Option<PortRange> },
    /// Rewrites the source (postrouting, input).
    Snat {
        addr: Option<(std::net::IpAddr, std::net::IpAddr)>,
        ports: Option<PortRange>,
    },
    /// Rewrites the source to the outgoing interface's address.
    Masquerade { ports: Option<PortRange> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Accept,
    Drop,
    Reject {
        with: RejectKind,
    },
    Jump {
        chain: String,
    },
    Goto {
        chain: String,
    },
    Return,
    /// Does not decide: LOG, NFLOG, counters, MARK, TCPMSS, comments...
    Continue,
    /// Stops connection tracking for the packet (raw table NOTRACK, CT --notrack).
    NoTrack,
    Nat(Nat),
    /// A target that is parsed but not modelled and may decide the packet's fate
    /// (QUEUE, TPROXY, ...): results it reaches are indeterminate.
    Unknown {
        text: String,
    },
}
