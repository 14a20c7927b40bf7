//! A ruleset compiled for evaluation: chain references resolved to indices,
//! every match turned into boxes over packet dimensions, base chains ordered
//! per hook. Compiled once per family and reused for every question.

use super::interfaces::Interfaces;
use super::set::IntervalSet;
use driftwall_parsers::model::{
    self, Action, ChainKind, CtStates, Family, Hook, Match, Nat, Policy, RejectKind, Ruleset, Span,
    tcp_flags,
};
use ipnet::IpNet;

/// Packet dimensions a rule can test.
pub const PROTO: usize = 0;
pub const SRC: usize = 1;
pub const DST: usize = 2;
pub const SPORT: usize = 3;
pub const DPORT: usize = 4;
pub const IIF: usize = 5;
pub const OIF: usize = 6;
pub const CT: usize = 7;
pub const FLAGS: usize = 8;
/// ICMP type * 256 + code; [`NOT_ICMP`] for other packets.
pub const ICMP: usize = 9;
/// 1 for a packet of the reply direction of its connection, 0 otherwise.
pub const CTDIR: usize = 10;
/// The low bits of the connection's mark (`model::CONN_MARK_BITS`).
pub const MARK: usize = 11;
/// The NAT the connection has: `model::conn_status` bits.
pub const CTSTATUS: usize = 12;
pub const PACKET_DIMS: usize = 13;
pub const NOT_ICMP: u128 = 65536;
/// The largest value of the MARK dimension.
pub const MARK_MAX: u128 = (1 << driftwall_parsers::model::CONN_MARK_BITS) - 1;
/// The first seven packet dimensions are also the dimensions of a region of
/// the question; connection state and TCP flags come from the phase.
pub const REGION_DIMS: usize = 7;

/// Connection tracking states as values of the CT dimension.
pub const CT_NEW: u128 = 0;
pub const CT_ESTABLISHED: u128 = 1;
pub const CT_RELATED: u128 = 2;
pub const CT_INVALID: u128 = 3;
pub const CT_UNTRACKED: u128 = 4;

/// The TCP segments of a connection we evaluate, as values of the FLAGS dimension.
pub const FL_SYN: u128 = 0;
pub const FL_SYNACK: u128 = 1;
pub const FL_ACK: u128 = 2;
pub const FL_PSHACK: u128 = 3;
pub const FL_RST: u128 = 4;
pub const FL_RSTACK: u128 = 5;
/// Not a TCP segment.
pub const FL_NONE: u128 = 6;
const FLAG_BITS: [u8; 6] = [
    tcp_flags::SYN,
    tcp_flags::SYN | tcp_flags::ACK,
    tcp_flags::ACK,
    tcp_flags::PSH | tcp_flags::ACK,
    tcp_flags::RST,
    tcp_flags::RST | tcp_flags::ACK,
];

pub fn flags_name(class: u128) -> &'static str {
    ["SYN", "SYN,ACK", "ACK", "PSH,ACK", "RST", "RST,ACK", "-"]
        .get(class as usize)
        .copied()
        .unwrap_or("-")
}

pub fn ct_name(state: u128) -> &'static str {
    ["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]
        .get(state as usize)
        .copied()
        .unwrap_or("?")
}

/// One conjunction of conditions; a rule matches a packet if one of its boxes does.
#[derive(Debug, Clone)]
pub struct Cube {
    pub conds: Vec<(usize, IntervalSet)>,
}

#[derive(Debug, Clone)]
pub enum Step {
    Accept,
    Drop,
    Reject(RejectKind),
    Jump(usize),
    Goto(usize),
    Return,
    Continue,
    NoTrack,
    /// Rewrite the destination (boxed: rare, and large next to the rest).
    Dnat(Box<Rewrite>),
    /// Rewrite the source; with no address, the outgoing interface's
    /// address (masquerade), which we do not know.
    Snat(Box<Rewrite>),
    /// Sets these bits of the connection's mark and goes on.
    SetMark(u128),
    /// A target that decides but is not modelled, with what it is.
    Unknown(Option<String>),
}

/// A NAT rewrite: address and port (None keeps them); `to_host` is
/// REDIRECT (to the host itself) for DNAT and MASQUERADE for SNAT.
#[derive(Debug, Clone)]
pub struct Rewrite {
    pub addr: Option<IntervalSet>,
    pub port: Option<IntervalSet>,
    pub to_host: bool,
    /// The packet then skips the filter chains of this crossing
    /// ([`Action::NatPass`]).
    pub pass: bool,
}

/// The step of a NAT action; `pass` for [`Action::NatPass`].
fn nat_step(nat: &Nat, pass: bool) -> Step {
    let addr = |a: &Option<(std::net::IpAddr, std::net::IpAddr)>| {
        a.map(|(s, e)| IntervalSet::range(addr_value(s), addr_value(e)))
    };
    let port = |p: &Option<model::PortRange>| {
        p.map(|r| IntervalSet::range(r.start as u128, r.end as u128))
    };
    let rewrite = |addr, port, to_host| {
        Box::new(Rewrite {
            addr,
            port,
            to_host,
            pass,
        })
    };
    match nat {
        Nat::Dnat { addr: a, ports } => Step::Dnat(rewrite(addr(a), port(ports), false)),
        Nat::Redirect { ports } => Step::Dnat(rewrite(None, port(ports), true)),
        // A loopback destination is the host itself, at that address.
        Nat::Loopback { addr: a, ports } => Step::Dnat(rewrite(
            Some(IntervalSet::single(addr_value(*a))),
            port(ports),
            true,
        )),
        Nat::Snat { addr: a, ports } => Step::Snat(rewrite(addr(a), port(ports), false)),
        Nat::Masquerade { ports } => Step::Snat(rewrite(None, port(ports), true)),
    }
}

#[derive(Debug, Clone)]
pub struct CRule {
    pub span: Span,
    /// Disjoint boxes; empty means the rule never matches. Inline when
    /// one: an allocation fewer to make and to free per rule (100k rules
    /// are 100k of each).
    pub cubes: smallvec::SmallVec<[Cube; 1]>,
    /// Texts of matches that are parsed but not modelled; if any, the rule
    /// may or may not match where its cubes hold.
    pub unknown: Vec<String>,
    pub step: Step,
}

#[derive(Debug, Clone)]
pub struct CChain {
    pub name: String,
    pub table: String,
    pub kind: ChainKind,
    pub hook: Option<Hook>,
    pub priority: i32,
    pub policy: Option<Policy>,
    pub span: Span,
    pub rules: Vec<CRule>,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub family: Family,
    pub chains: Vec<CChain>,
    /// Base chains per hook in the order netfilter runs them.
    pub hooks: [Vec<usize>; 5],
    pub interfaces: Interfaces,
    pub universe: [IntervalSet; PACKET_DIMS],
    /// The host's own addresses by interface class, where the caller knows
    /// them: the source of the ICMP errors it sends for forwarded packets.
    pub host_addresses: Vec<(u128, u128)>,
}

pub fn hook_index(h: Hook) -> usize {
    match h {
        Hook::Prerouting => 0,
        Hook::Input => 1,
        Hook::Forward => 2,
        Hook::Output => 3,
        Hook::Postrouting => 4,
    }
}

pub fn address_max(family: Family) -> u128 {
    match family {
        Family::Ipv4 => u32::MAX as u128,
        Family::Ipv6 => u128::MAX,
    }
}

pub fn net_range(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

pub fn addr_value(ip: std::net::IpAddr) -> u128 {
    match ip {
        std::net::IpAddr::V4(a) => u32::from(a) as u128,
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

fn ports_set(ports: &[model::PortRange]) -> IntervalSet {
    if let [one] = ports {
        return IntervalSet::range(one.start as u128, one.end as u128);
    }
    IntervalSet::from_ranges(
        ports
            .iter()
            .map(|p| (p.start as u128, p.end as u128))
            .collect(),
    )
}

impl Program {
    /// Compiles the tables of `family`; `extra` are interface names the
    /// question mentions, so they get classes of their own.
    pub fn compile(ruleset: &Ruleset, family: Family, extra: &[model::Interface]) -> Program {
        let tables: Vec<&model::Table> = ruleset
            .tables
            .iter()
            .filter(|t| t.family == family)
            .collect();
        let mut p = Program::empty(family, &tables, extra);
        for t in tables {
            let chains = &t.chains;
            p.add_table(&t.name, chains, |i| {
                chains
                    .get(i)
                    .map(|c| c.rules.iter().map(std::borrow::Cow::Borrowed).collect())
                    .unwrap_or_default()
            });
        }
        p.order_hooks();
        p
    }

    /// Like [`Program::compile`], consuming the tables and freeing each
    /// chain's parsed rules as soon as they are compiled, so the parsed model
    /// and the program of a big ruleset are never both whole in memory.
    pub fn compile_owned(
        tables: Vec<model::Table>,
        family: Family,
        extra: &[model::Interface],
    ) -> Program {
        let tables: Vec<model::Table> = tables.into_iter().filter(|t| t.family == family).collect();
        let mut p = Program::empty(family, &tables.iter().collect::<Vec<_>>(), extra);
        for mut t in tables {
            let mut chains = std::mem::take(&mut t.chains);
            let mut taken: Vec<Vec<model::Rule>> = chains
                .iter_mut()
                .map(|c| std::mem::take(&mut c.rules))
                .collect();
            taken.reverse();
            p.add_table(&t.name, &chains, |_| {
                taken
                    .pop()
                    .unwrap_or_default()
                    .into_iter()
                    .map(std::borrow::Cow::Owned)
                    .collect()
            });
        }
        p.order_hooks();
        p
    }

    /// A program with no chains yet, with interface classes for every name
    /// the tables and the question mention.
    fn empty(family: Family, tables: &[&model::Table], extra: &[model::Interface]) -> Program {
        let mut mentioned: Vec<model::Interface> = extra.to_vec();
        for r in tables.iter().flat_map(|t| &t.chains).flat_map(|c| &c.rules) {
            for m in &r.matches {
                if let Match::InInterface { interface, .. } | Match::OutInterface { interface, .. } =
                    m
                    && !mentioned.contains(interface)
                {
                    mentioned.push(interface.clone());
                }
            }
        }
        let interfaces = Interfaces::new(mentioned.iter());
        let universe = [
            IntervalSet::range(0, 255),
            IntervalSet::range(0, address_max(family)),
            IntervalSet::range(0, address_max(family)),
            IntervalSet::range(0, 65535),
            IntervalSet::range(0, 65535),
            IntervalSet::range(0, interfaces.count() - 1),
            IntervalSet::range(0, interfaces.count() - 1),
            IntervalSet::range(0, CT_UNTRACKED),
            IntervalSet::range(0, FL_NONE),
            IntervalSet::range(0, NOT_ICMP),
            IntervalSet::range(0, 1),
            IntervalSet::range(0, MARK_MAX),
            IntervalSet::range(0, 3),
        ];
        Program {
            family,
            chains: Vec::new(),
            hooks: Default::default(),
            interfaces,
            universe,
            host_addresses: Vec::new(),
        }
    }

    /// Compiles a table's chains; `rules_of` hands out each chain's rules in order.
    fn add_table<'r>(
        &mut self,
        table: &str,
        chains: &[model::Chain],
        mut rules_of: impl FnMut(usize) -> Vec<std::borrow::Cow<'r, model::Rule>>,
    ) {
        let base_index = self.chains.len();
        let index_of = |name: &str| {
            chains
                .iter()
                .position(|c| c.name == name)
                .map(|i| base_index + i)
        };
        for (i, c) in chains.iter().enumerate() {
            let rules = rules_of(i)
                .iter()
                .map(|r| self.compile_rule(r, &index_of))
                .collect();
            let (kind, hook, priority) = match c.base {
                Some(b) => (b.kind, Some(b.hook), b.priority),
                None => (ChainKind::Filter, None, 0),
            };
            self.chains.push(CChain {
                name: c.name.clone(),
                table: table.to_string(),
                kind,
                hook,
                priority,
                policy: c.policy,
                span: c.span,
                rules,
            });
        }
    }

    fn order_hooks(&mut self) {
        for (i, c) in self.chains.iter().enumerate() {
            if let Some(h) = c.hook {
                self.hooks[hook_index(h)].push(i);
            }
        }
        for list in &mut self.hooks {
            let chains = &self.chains;
            list.sort_by_key(|&i| chains[i].priority);
        }
    }

    /// Tells the program the host's address on each named interface (names
    /// must have been given to [`Program::compile`]).
    pub fn set_host_addresses(&mut self, list: &[(String, std::net::IpAddr)]) {
        self.host_addresses = list
            .iter()
            .filter(|(_, a)| {
                matches!(
                    (self.family, a),
                    (Family::Ipv4, std::net::IpAddr::V4(_))
                        | (Family::Ipv6, std::net::IpAddr::V6(_))
                )
            })
            .map(|(n, a)| (self.interfaces.class_of(n), addr_value(*a)))
            .collect();
    }

    fn compile_rule(&self, rule: &model::Rule, index_of: &dyn Fn(&str) -> Option<usize>) -> CRule {
        // Most matches test one dimension: they go straight into one cube;
        // the few that are unions of cubes (`--ports`) are multiplied in after.
        let mut conds: Vec<(usize, IntervalSet)> = Vec::with_capacity(rule.matches.len());
        let mut unions: Vec<Vec<Cube>> = Vec::new();
        let mut never = false;
        let mut unknown = Vec::new();
        for m in &rule.matches {
            match self.clause(m) {
                Clause::Always => {}
                Clause::Unknown(text) => unknown.push(text),
                Clause::One(dim, set) => match conds.iter_mut().find(|(d, _)| *d == dim) {
                    Some((_, s)) => *s = s.intersect(&set),
                    None => conds.push((dim, set)),
                },
                Clause::Cubes(list) if list.is_empty() => never = true,
                Clause::Cubes(list) => unions.push(list),
            }
        }
        never |= conds.iter().any(|(_, s)| s.is_empty());
        conds.shrink_to_fit();
        let mut cubes: smallvec::SmallVec<[Cube; 1]> = if never {
            smallvec::SmallVec::new()
        } else {
            smallvec::smallvec![Cube { conds }]
        };
        for list in unions {
            cubes = product(&cubes, &list).into();
        }
        let step = match &rule.action {
            Action::Accept => Step::Accept,
            Action::Drop => Step::Drop,
            Action::Reject { with } => Step::Reject(*with),
            Action::Jump { chain } => index_of(chain)
                .map(Step::Jump)
                .unwrap_or(Step::Unknown(None)),
            Action::Goto { chain } => index_of(chain)
                .map(Step::Goto)
                .unwrap_or(Step::Unknown(None)),
            Action::Return => Step::Return,
            Action::Continue => Step::Continue,
            Action::NoTrack => Step::NoTrack,
            Action::SetConnMark { or } if u128::from(*or) <= MARK_MAX => {
                Step::SetMark(u128::from(*or))
            }
            Action::SetConnMark { or } => Step::Unknown(Some(format!(
                "ct mark set ct mark | {or:#x}: beyond the mark bits followed"
            ))),
            Action::Nat(nat) => nat_step(nat, false),
            Action::NatPass(nat) => nat_step(nat, true),
            Action::Unknown { text } => Step::Unknown(Some(text.clone())),
        };
        // Test first what most often misses: protocol and ports, then state
        // and interfaces, addresses last.
        let rank = |d: usize| [0, 7, 8, 2, 1, 5, 6, 4, 3, 1].get(d).copied().unwrap_or(9);
        for c in &mut cubes {
            c.conds.sort_by_key(|(d, _)| rank(*d));
        }
        CRule {
            span: rule.span,
            cubes,
            unknown,
            step,
        }
    }

    fn single(&self, dim: usize, negated: bool, set: IntervalSet) -> Clause {
        let set = if negated {
            self.universe[dim].subtract(&set)
        } else {
            set
        };
        Clause::One(dim, set)
    }

    fn nets(&self, nets: &[IpNet]) -> IntervalSet {
        let fam_ok = |n: &&IpNet| {
            matches!(
                (self.family, n),
                (Family::Ipv4, IpNet::V4(_)) | (Family::Ipv6, IpNet::V6(_))
            )
        };
        if let [one] = nets
            && fam_ok(&one)
        {
            let (a, b) = net_range(one);
            return IntervalSet::range(a, b);
        }
        IntervalSet::from_ranges(nets.iter().filter(fam_ok).map(net_range).collect())
    }

    fn clause(&self, m: &Match) -> Clause {
        match m {
            Match::Protocol { negated, protocols } => {
                let set = match protocols.as_slice() {
                    [one] => IntervalSet::single(*one as u128),
                    many => IntervalSet::from_ranges(
                        many.iter().map(|p| (*p as u128, *p as u128)).collect(),
                    ),
                };
                self.single(PROTO, *negated, set)
            }
            Match::Source { negated, nets } => self.single(SRC, *negated, self.nets(nets)),
            Match::Destination { negated, nets } => self.single(DST, *negated, self.nets(nets)),
            Match::SourceRange {
                negated,
                start,
                end,
            } => self.single(
                SRC,
                *negated,
                IntervalSet::range(addr_value(*start), addr_value(*end)),
            ),
            Match::DestinationRange {
                negated,
                start,
                end,
            } => self.single(
                DST,
                *negated,
                IntervalSet::range(addr_value(*start), addr_value(*end)),
            ),
            Match::SourcePort { negated, ports } => self.single(SPORT, *negated, ports_set(ports)),
            Match::DestinationPort { negated, ports } => {
                self.single(DPORT, *negated, ports_set(ports))
            }
            Match::AnyPort { negated, ports } => {
                let s = ports_set(ports);
                let not_s = self.universe[SPORT].subtract(&s);
                if *negated {
                    Clause::Cubes(vec![Cube {
                        conds: vec![(SPORT, not_s.clone()), (DPORT, not_s)],
                    }])
                } else {
                    Clause::Cubes(vec![
                        Cube {
                            conds: vec![(SPORT, s.clone())],
                        },
                        Cube {
                            conds: vec![(SPORT, not_s), (DPORT, s)],
                        },
                    ])
                }
            }
            Match::InInterface { negated, interface } => {
                self.single(IIF, *negated, self.iface_set(interface))
            }
            Match::OutInterface { negated, interface } => {
                self.single(OIF, *negated, self.iface_set(interface))
            }
            Match::ConnState { negated, states } => {
                let bits = [
                    (CtStates::NEW, CT_NEW),
                    (CtStates::ESTABLISHED, CT_ESTABLISHED),
                    (CtStates::RELATED, CT_RELATED),
                    (CtStates::INVALID, CT_INVALID),
                    (CtStates::UNTRACKED, CT_UNTRACKED),
                ];
                let set = IntervalSet::from_ranges(
                    bits.iter()
                        .filter(|(b, _)| states.contains(*b))
                        .map(|(_, v)| (*v, *v))
                        .collect(),
                );
                self.single(CT, *negated, set)
            }
            Match::TcpFlags {
                negated,
                mask,
                comp,
            } => {
                let set = IntervalSet::from_ranges(
                    FLAG_BITS
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| (*f & mask) == *comp)
                        .map(|(i, _)| (i as u128, i as u128))
                        .collect(),
                );
                // Non-TCP packets never match a TCP flags test, negated or not.
                let set = if *negated {
                    IntervalSet::range(0, FL_RSTACK).subtract(&set)
                } else {
                    set
                };
                Clause::One(FLAGS, set)
            }
            Match::Icmp {
                negated,
                icmp_type,
                codes,
            } => {
                // The icmp match only ever sees ICMP packets: its negation
                // does not take in the others.
                let all_icmp = IntervalSet::range(0, NOT_ICMP - 1);
                let t = *icmp_type as u128;
                let set = if *icmp_type == 255 && *codes == (0, 255) {
                    all_icmp.clone()
                } else {
                    IntervalSet::range(t * 256 + codes.0 as u128, t * 256 + codes.1 as u128)
                };
                let set = if *negated {
                    all_icmp.subtract(&set)
                } else {
                    set
                };
                Clause::One(ICMP, set)
            }
            Match::Fragment { negated } => {
                if *negated {
                    Clause::Always
                } else {
                    Clause::Cubes(Vec::new())
                }
            }
            Match::RoutingHeader { .. } => Clause::Cubes(Vec::new()),
            Match::ConnDirection { reply } => {
                Clause::One(CTDIR, IntervalSet::single(u128::from(*reply)))
            }
            Match::ConnMark {
                negated,
                mask,
                value,
            } => {
                if u128::from(*mask | *value) > MARK_MAX {
                    Clause::Unknown(format!(
                        "ct mark & {mask:#x} == {value:#x}: beyond the mark bits followed"
                    ))
                } else {
                    let set = IntervalSet::from_ranges(
                        (0..=MARK_MAX)
                            .filter(|v| (*v as u32 & *mask == *value) != *negated)
                            .map(|v| (v, v))
                            .collect(),
                    );
                    Clause::One(MARK, set)
                }
            }
            Match::ConnStatus { negated, bits } => {
                let set = IntervalSet::from_ranges(
                    (0..=3u128)
                        .filter(|v| ((*v as u8 & bits) != 0) != *negated)
                        .map(|v| (v, v))
                        .collect(),
                );
                Clause::One(CTSTATUS, set)
            }
            Match::Comment { .. } => Clause::Always,
            Match::Unknown { text } => Clause::Unknown(text.clone()),
            #[allow(unreachable_patterns)]
            _ => Clause::Unknown(format!("{m:?}")),
        }
    }

    fn iface_set(&self, i: &model::Interface) -> IntervalSet {
        IntervalSet::from_ranges(
            self.interfaces
                .matching(i)
                .into_iter()
                .map(|c| (c, c))
                .collect(),
        )
    }
}

enum Clause {
    Always,
    Unknown(String),
    /// One dimension in a set.
    One(usize, IntervalSet),
    /// A union of disjoint cubes; empty never matches.
    Cubes(Vec<Cube>),
}

/// The conjunction of two disjoint unions of cubes, as a disjoint union.
fn product(a: &[Cube], b: &[Cube]) -> Vec<Cube> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        'next: for y in b {
            let mut conds = x.conds.clone();
            for (dim, set) in &y.conds {
                match conds.iter_mut().find(|(d, _)| d == dim) {
                    Some((_, s)) => {
                        *s = s.intersect(set);
                        if s.is_empty() {
                            continue 'next;
                        }
                    }
                    None => {
                        if set.is_empty() {
                            continue 'next;
                        }
                        conds.push((*dim, set.clone()))
                    }
                }
            }
            out.push(Cube { conds });
        }
    }
    out
}
