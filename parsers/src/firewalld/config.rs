//! firewalld's configuration objects as the reader keeps them: only valid
//! values, each with the span of the element that gave it.

use crate::model::{PortRange, Span};
use ipnet::IpNet;

/// A value and the element (or attribute) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    pub value: T,
    pub span: Span,
}

/// The layer-4 protocols a `<port>` may name (firewalld's `check_tcpudp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProto {
    Tcp,
    Udp,
    Sctp,
    Dccp,
}

impl PortProto {
    pub fn parse(text: &str) -> Option<PortProto> {
        match text {
            "tcp" => Some(PortProto::Tcp),
            "udp" => Some(PortProto::Udp),
            "sctp" => Some(PortProto::Sctp),
            "dccp" => Some(PortProto::Dccp),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PortProto::Tcp => "tcp",
            PortProto::Udp => "udp",
            PortProto::Sctp => "sctp",
            PortProto::Dccp => "dccp",
        }
    }
}

/// A port or range and its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub range: PortRange,
    pub proto: PortProto,
}

/// An address a source or destination names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Net(IpNet),
    Mac(String),
    Ipset(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPort {
    pub port: PortRange,
    pub proto: PortProto,
    pub to_port: Option<PortRange>,
    pub to_addr: Option<std::net::IpAddr>,
}

/// A zone's `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneTarget {
    /// `default`: reject what no rule accepts, but accept ICMP on input.
    Default,
    Accept,
    Drop,
    /// `%%REJECT%%`.
    Reject,
}

/// A policy's `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyTarget {
    /// The packet goes on to the next policy or the zone.
    Continue,
    Accept,
    Drop,
    Reject,
}

/// What zones and policies share: the elements that become rules.
#[derive(Debug, Clone, Default)]
pub struct Elements {
    pub services: Vec<Item<String>>,
    pub ports: Vec<Item<Port>>,
    pub protocols: Vec<Item<String>>,
    pub source_ports: Vec<Item<Port>>,
    pub icmp_blocks: Vec<Item<String>>,
    pub icmp_block_inversion: bool,
    pub masquerade: Option<Span>,
    pub forward_ports: Vec<Item<ForwardPort>>,
    pub rules: Vec<Rich>,
    /// Rich rules firewalld ignores with a warning, and why.
    pub ignored: Vec<Item<String>>,
}

#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    /// The `<zone>` element.
    pub span: Span,
    pub target: ZoneTarget,
    pub interfaces: Vec<Item<String>>,
    pub sources: Vec<Item<Addr>>,
    /// `<forward/>`: traffic between this zone's interfaces and sources.
    pub forward: bool,
    pub elements: Elements,
    /// Read from the user's folder (not only a stock definition).
    pub user: bool,
    /// firewalld 2.0's `ingress-priority` or `egress-priority`, when not 0.
    pub priority: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub span: Span,
    pub priority: i32,
    pub target: PolicyTarget,
    pub ingress: Vec<Item<String>>,
    pub egress: Vec<Item<String>>,
    /// `<disable/>` (firewalld 2.0): the policy is not applied.
    pub disabled: Option<Span>,
    pub elements: Elements,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub span: Span,
    pub ports: Vec<Item<Port>>,
    /// `<protocol>` and `<port>` with an empty port.
    pub protocols: Vec<Item<String>>,
    pub source_ports: Vec<Item<Port>>,
    pub destination_v4: Option<IpNet>,
    pub destination_v6: Option<IpNet>,
    pub includes: Vec<Item<String>>,
    /// Conntrack helpers the service loads (`<helper>`, `<module>`).
    pub helpers: Vec<Item<String>>,
}

#[derive(Debug, Clone)]
pub struct Ipset {
    pub name: String,
    pub span: Span,
    /// `hash:ip`, `hash:net`, `hash:mac`, ...
    pub kind: String,
    pub ipv6: bool,
    pub entries: Vec<Item<String>>,
    /// A `timeout` option: entries come and go at run time.
    pub timeout: bool,
}

/// An ICMP type firewalld knows, and for which families.
#[derive(Debug, Clone)]
pub struct IcmpType {
    pub ipv4: bool,
    pub ipv6: bool,
}

/// A rich rule (`<rule>`).
#[derive(Debug, Clone)]
pub struct Rich {
    pub span: Span,
    pub family: Option<RichFamily>,
    pub priority: i32,
    pub source: Option<(Addr, bool)>,
    pub destination: Option<(Addr, bool)>,
    pub element: Option<RichElement>,
    pub log: Option<RichLog>,
    /// `<audit>`, with its limit.
    pub audit: Option<Option<String>>,
    pub action: Option<RichAction>,
    /// The action's `<limit value="3/m"/>`.
    pub action_limit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RichFamily {
    Ipv4,
    Ipv6,
}

impl RichFamily {
    pub fn name(self) -> &'static str {
        match self {
            RichFamily::Ipv4 => "ipv4",
            RichFamily::Ipv6 => "ipv6",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RichElement {
    Service(String),
    Port(Port),
    Protocol(String),
    SourcePort(Port),
    IcmpBlock(String),
    IcmpType(String),
    Masquerade,
    ForwardPort(ForwardPort),
    TcpMssClamp,
}

#[derive(Debug, Clone)]
pub struct RichLog {
    pub prefix: Option<String>,
    pub level: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RichAction {
    Accept,
    /// With its `type`, if any.
    Reject(Option<String>),
    Drop,
    Mark(String),
}

/// `firewalld.conf` as far as rules depend on it.
#[derive(Debug, Clone)]
pub struct Conf {
    pub default_zone: Item<String>,
    /// `FirewallBackend`: `nftables` (the default) or `iptables`.
    pub backend: Option<Item<String>>,
    /// `AllowZoneDrifting=yes`, ignored by the nftables backend of 1.x.
    pub zone_drifting: Option<Span>,
    /// `IPv6_rpfilter` (default yes).
    pub ipv6_rpfilter: bool,
    pub ipv6_rpfilter_span: Option<Span>,
    /// `LogDenied`: anything but `off` adds log rules, which decide nothing.
    pub log_denied: bool,
    /// `RFC3964_IPv4` (default yes): reject IPv6 to 6to4 addresses of
    /// private, loopback and multicast IPv4 space.
    pub rfc3964_ipv4: bool,
}
