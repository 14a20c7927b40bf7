//! The seeded generator of pf rulesets (`tests/kernel_pf.rs`), each with its
//! exact nftables translation and probes aimed at what the rules mention.
//!
//! No pf kernel runs here, so the kernel judges the translation: the subset
//! generated is the one whose nft equivalent is exact. Host filtering only:
//! `pass` and `block` (`drop`, `return`, or bare, which is the default
//! `block-policy drop`), `in`/`out` or both, `quick` or not, `on` one of the
//! firewall's veths, `inet`/`inet6`, `proto tcp|udp|{ tcp, udp }`, `from`
//! and `to` addresses, networks and lists inside the test's own ranges (and
//! `!` before a single one), and `port` with every operator pf has (`=`,
//! `!=`, `<`, `<=`, `>`, `>=`, `><`, `<>`, `:`) alone or in lists. Pass
//! rules keep state (the default, sometimes written out). Most rulesets
//! begin with one or two port redirects (`rdr`, FreeBSD's syntax) to the
//! firewall's own address on a link ([`Rdr`]).
//!
//! The translation follows pf.conf(5):
//! - "The last matching rule decides", and a `quick` rule decides at once:
//!   each nft chain holds the quick rules in order, then the others in
//!   reverse order, and the first match there is pf's decision; no match is
//!   the default pass (the chain's policy accept).
//! - Inbound rules sit in `input` and `forward_in`, outbound ones in `output`
//!   and `forward_out`: a forwarded packet passes pf twice, in on its ingress
//!   interface and out on its egress one, and both must pass it (two base
//!   chains on the forward hook: an accept in the first does not end it).
//! - State is per direction. A pass rule's state (the ct mark bit 1 when it
//!   was made inbound, 2 outbound) lets the later packets through the same
//!   crossing and the replies through the reverse one: an inbound state
//!   covers the original direction inbound and the reply direction
//!   outbound, an outbound state the reverse. pf's state keys are ordered
//!   by direction (`pf_state_key_setup`), so a reply that enters on another
//!   interface than the one its connection left by is not covered by the
//!   inbound state of the first interface. The default pass keeps no state,
//!   so the replies of such a connection meet the rules of the other
//!   direction, where a pass rule cannot match them (the default `flags
//!   S/SA` of a stateful pass rule wants a SYN without ACK) and a block
//!   rule can. That is what makes a plain `ct state established accept`
//!   inexact, and why the chains test ct marks instead.
//! - `block return` sends a TCP RST for TCP and an ICMP port unreachable
//!   for the rest (pfctl's `returnicmpdefault` and `returnicmp6default`).
//!   pf sends those answers itself and never filters them; in the kernel
//!   they are RELATED to the connection they answer (FINDINGS.md, 1), so
//!   each chain first accepts RELATED packets: nothing else here is. (An
//!   answer to the host's own packet comes back over `lo`; pf is assumed
//!   not to filter it there either, as it carries pf's generated tag.)
//!
//! Beside the texts, [`expect`] evaluates a probe under the same reading of
//! pf directly, to tell a wrong translation from a wrong driftwall, and to
//! say which probes' outcome rests on replies meeting the rules (a pass that
//! kept no state): there driftwall's model may answer indeterminate.

use super::generate::{Rng, other_link, probe, probe_port, source_ports};
use super::{Case, Family, Kind, LINKS, Probe, Proto, Verdict};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

/// A generated case: `case.ruleset` is the pf.conf text.
#[derive(Debug, Clone)]
pub struct PfCase {
    pub case: Case,
    /// The exact nft translation, loaded into the firewall namespace.
    pub nft: String,
    /// What the test's own reading of pf expects, one per probe.
    pub expected: Vec<Expected>,
    /// Per probe: whether an `rdr` took it, and whether that changes what
    /// pf does with it (the reading without the redirects differs).
    pub redirected: Vec<(bool, bool)>,
}

/// The outcome of a probe under [`expect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub verdict: Verdict,
    /// Some reply met the rules (a crossing passed without state).
    pub stateless: bool,
    /// The most telling way a crossing of the first packet was decided.
    pub how: How,
}

/// How pf reached its decision on a crossing, to show that the cases where
/// last-match and `quick` matter are covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum How {
    /// One rule matched, or all that matched agree.
    Plain,
    /// No rule matched: the default pass.
    Default,
    /// The last match decided over an earlier match with the other action.
    Overridden,
    /// A quick rule decided, though a later rule with the other action matched too.
    QuickWon,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Plain => "plain",
            How::Default => "default pass",
            How::Overridden => "a later rule overrode an earlier one",
            How::QuickWon => "a quick rule beat a later match",
        }
    }
}

fn how(rules: &[Rule], p: &Packet) -> How {
    let Some(i) = decide(rules, p) else {
        return How::Default;
    };
    let pass = rules[i].action == Action::Pass;
    let other = |r: &Rule| r.matches(p) && (r.action == Action::Pass) != pass;
    if rules[i].quick && rules[i + 1..].iter().any(other) {
        How::QuickWon
    } else if !rules[i].quick && rules[..i].iter().any(other) {
        How::Overridden
    } else {
        How::Plain
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pass,
    /// `block drop`, or bare `block` when `bare`.
    Drop {
        bare: bool,
    },
    Return,
}

/// An address or network, with its inclusive range of values.
#[derive(Debug, Clone)]
pub struct Net {
    pub text: String,
    pub family: Family,
    pub lo: u128,
    pub hi: u128,
}

/// One side's addresses: empty is `any`.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    pub negated: bool,
    pub nets: Vec<Net>,
}

/// One pf port operator.
#[derive(Debug, Clone, Copy)]
pub enum PortOp {
    Eq(u16),
    Ne(u16),
    Lt(u16),
    Le(u16),
    Gt(u16),
    Ge(u16),
    Inside(u16, u16),
    Outside(u16, u16),
    Range(u16, u16),
}

impl PortOp {
    fn text(self) -> String {
        match self {
            PortOp::Eq(p) => format!("= {p}"),
            PortOp::Ne(p) => format!("!= {p}"),
            PortOp::Lt(p) => format!("< {p}"),
            PortOp::Le(p) => format!("<= {p}"),
            PortOp::Gt(p) => format!("> {p}"),
            PortOp::Ge(p) => format!(">= {p}"),
            PortOp::Inside(a, b) => format!("{a} >< {b}"),
            PortOp::Outside(a, b) => format!("{a} <> {b}"),
            PortOp::Range(a, b) => format!("{a}:{b}"),
        }
    }

    /// The ports it matches, as inclusive ranges.
    fn ranges(self) -> Vec<(u16, u16)> {
        let below = |p: u16| p.checked_sub(1).map(|q| (0, q));
        let above = |p: u16| p.checked_add(1).map(|q| (q, u16::MAX));
        match self {
            PortOp::Eq(p) => vec![(p, p)],
            PortOp::Ne(p) => below(p).into_iter().chain(above(p)).collect(),
            PortOp::Lt(p) => below(p).into_iter().collect(),
            PortOp::Le(p) => vec![(0, p)],
            PortOp::Gt(p) => above(p).into_iter().collect(),
            PortOp::Ge(p) => vec![(p, u16::MAX)],
            PortOp::Inside(a, b) if b > a.saturating_add(1) => vec![(a + 1, b - 1)],
            PortOp::Inside(..) => Vec::new(),
            PortOp::Outside(a, b) => below(a).into_iter().chain(above(b)).collect(),
            PortOp::Range(a, b) => vec![(a, b)],
        }
    }
}

/// A `port` clause: one operator or a list, any of which may match.
#[derive(Debug, Clone)]
pub struct Ports {
    pub ops: Vec<PortOp>,
}

impl Ports {
    fn text(&self) -> String {
        match self.ops.as_slice() {
            [one] => one.text(),
            many => format!(
                "{{ {} }}",
                many.iter().map(|o| o.text()).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// The union of its operators, sorted and merged.
    fn ranges(&self) -> Vec<(u16, u16)> {
        let mut all: Vec<(u16, u16)> = self.ops.iter().flat_map(|o| o.ranges()).collect();
        all.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::new();
        for (a, b) in all {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    fn contains(&self, port: u16) -> bool {
        self.ranges().iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// As an nft anonymous set.
    fn nft(&self) -> String {
        let items: Vec<String> = self
            .ranges()
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        format!("{{ {} }}", items.join(", "))
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub action: Action,
    /// `None`: both directions.
    pub dir: Option<Dir>,
    pub quick: bool,
    pub iface: Option<&'static str>,
    /// From `inet`/`inet6` or from the addresses.
    pub family: Option<Family>,
    /// `inet`/`inet6` is written.
    pub family_word: bool,
    /// `None`: any protocol.
    pub protos: Option<Vec<Proto>>,
    pub from: Hosts,
    pub from_ports: Option<Ports>,
    pub to: Hosts,
    pub to_ports: Option<Ports>,
    /// `keep state` written out.
    pub keep_state_word: bool,
}

impl Rule {
    /// A hand-made rule: `action`, in `dir` (both when `None`), matching
    /// everything else; the methods below narrow it.
    pub fn new(action: Action, dir: Option<Dir>) -> Rule {
        Rule {
            action,
            dir,
            quick: false,
            iface: None,
            family: None,
            family_word: false,
            protos: None,
            from: Hosts::default(),
            from_ports: None,
            to: Hosts::default(),
            to_ports: None,
            keep_state_word: false,
        }
    }

    pub fn quick(mut self) -> Rule {
        self.quick = true;
        self
    }

    pub fn on(mut self, iface: &'static str) -> Rule {
        self.iface = Some(iface);
        self
    }

    pub fn proto(mut self, proto: Proto) -> Rule {
        self.protos = Some(vec![proto]);
        self
    }

    pub fn sport(mut self, op: PortOp) -> Rule {
        self.from_ports = Some(Ports { ops: vec![op] });
        self
    }

    pub fn dport(mut self, op: PortOp) -> Rule {
        self.to_ports = Some(Ports { ops: vec![op] });
        self
    }
}

/// A port redirect to the firewall's own address on the link it arrives
/// by (FreeBSD's syntax): `rdr on IF proto P to ADDR port A -> ADDR port
/// B`. Its nft equivalent is exact: a first-match NAT chain at prerouting
/// before the filter, which sees the new port, and the state pf makes for
/// a translated connection (its `in` mark, see [`nft_text`]).
#[derive(Debug, Clone)]
pub struct Rdr {
    pub iface: &'static str,
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
    pub to_port: u16,
}

impl Rdr {
    fn pf(&self) -> String {
        format!(
            "rdr on {} proto {} from any to {} port {} -> {} port {}",
            self.iface,
            self.proto.name(),
            self.addr,
            self.port,
            self.addr,
            self.to_port
        )
    }

    fn nft(&self) -> String {
        let (sel, target) = match self.addr {
            IpAddr::V4(a) => ("ip", format!("{a}:{}", self.to_port)),
            IpAddr::V6(a) => ("ip6", format!("[{a}]:{}", self.to_port)),
        };
        format!(
            "iifname \"{}\" meta l4proto {} {sel} daddr {} th dport {} ct mark set ct mark | 0x1 dnat {sel} to {target}",
            self.iface,
            self.proto.name(),
            self.addr,
            self.port
        )
    }

    /// Whether it takes this first packet, arriving by `iface`.
    fn takes(&self, probe: &Probe) -> bool {
        probe.iif == Some(self.iface)
            && probe.proto == self.proto
            && probe.dst == self.addr
            && probe.dport == self.port
    }
}

/// A hand-made case: `rules` and `probes`, with the texts and the test's
/// reading of pf filled in.
pub fn hand_made(name: &str, family: Family, rules: &[Rule], probes: Vec<Probe>) -> PfCase {
    let header = format!("# {name}\n");
    let expected: Vec<Expected> = probes.iter().map(|p| expect(rules, &[], p)).collect();
    PfCase {
        case: Case {
            name: name.to_string(),
            seed: None,
            family,
            ruleset: pf_text(rules, &[], &header),
            probes,
        },
        nft: nft_text(rules, &[], &header),
        redirected: vec![(false, false); expected.len()],
        expected,
    }
}

/// One crossing of pf by one packet.
#[derive(Debug, Clone, Copy)]
struct Packet {
    dir: Dir,
    iface: &'static str,
    family: Family,
    proto: Proto,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    /// A TCP SYN without ACK (what the default `flags S/SA` wants).
    syn: bool,
}

fn value(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a).into(),
        IpAddr::V6(a) => a.into(),
    }
}

impl Hosts {
    fn matches(&self, addr: IpAddr) -> bool {
        if self.nets.is_empty() {
            return true;
        }
        let v = value(addr);
        self.nets.iter().any(|n| n.lo <= v && v <= n.hi) != self.negated
    }

    fn pf(&self) -> String {
        match self.nets.as_slice() {
            [] => "any".into(),
            [one] if self.negated => format!("! {}", one.text),
            [one] => one.text.clone(),
            many => format!(
                "{{ {} }}",
                many.iter()
                    .map(|n| n.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn nft(&self, field: &str) -> Option<String> {
        let family = self.nets.first()?.family;
        let sel = if family == Family::V4 { "ip" } else { "ip6" };
        let op = if self.negated { "!= " } else { "" };
        let items: Vec<&str> = self.nets.iter().map(|n| n.text.as_str()).collect();
        Some(match items.as_slice() {
            [one] => format!("{sel} {field} {op}{one}"),
            many => format!("{sel} {field} {op}{{ {} }}", many.join(", ")),
        })
    }
}

impl Rule {
    fn matches(&self, p: &Packet) -> bool {
        self.dir.is_none_or(|d| d == p.dir)
            && self.iface.is_none_or(|i| i == p.iface)
            && self.family.is_none_or(|f| f == p.family)
            && self.protos.as_ref().is_none_or(|ps| ps.contains(&p.proto))
            && self.from.matches(p.src)
            && self.to.matches(p.dst)
            && self
                .from_ports
                .as_ref()
                .is_none_or(|ps| ps.contains(p.sport))
            && self.to_ports.as_ref().is_none_or(|ps| ps.contains(p.dport))
            && (self.action != Action::Pass || p.proto != Proto::Tcp || p.syn)
    }

    /// The rule as pf.conf says it.
    pub fn pf(&self) -> String {
        let mut s = String::from(match self.action {
            Action::Pass => "pass",
            Action::Drop { bare: true } => "block",
            Action::Drop { bare: false } => "block drop",
            Action::Return => "block return",
        });
        match self.dir {
            Some(Dir::In) => s += " in",
            Some(Dir::Out) => s += " out",
            None => {}
        }
        if self.quick {
            s += " quick";
        }
        if let Some(i) = self.iface {
            let _ = write!(s, " on {i}");
        }
        if self.family_word {
            match self.family {
                Some(Family::V4) => s += " inet",
                Some(Family::V6) => s += " inet6",
                None => {}
            }
        }
        match self.protos.as_deref() {
            Some([one]) => {
                let _ = write!(s, " proto {}", one.name());
            }
            Some(_) => s += " proto { tcp, udp }",
            None => {}
        }
        let any_from = self.from.nets.is_empty() && self.from_ports.is_none();
        let any_to = self.to.nets.is_empty() && self.to_ports.is_none();
        if any_from && any_to {
            s += " all";
        } else {
            if !any_from {
                let _ = write!(s, " from {}", self.from.pf());
                if let Some(p) = &self.from_ports {
                    let _ = write!(s, " port {}", p.text());
                }
            }
            if !any_to {
                if self.to.nets.is_empty() && self.to_ports.is_some() && any_from {
                    s += " to";
                } else {
                    let _ = write!(s, " to {}", self.to.pf());
                }
                if let Some(p) = &self.to_ports {
                    let _ = write!(s, " port {}", p.text());
                }
            }
        }
        if self.keep_state_word && self.action == Action::Pass {
            s += " keep state";
        }
        s
    }

    /// The nft rules of this rule in a chain of direction `dir`: one per
    /// transport protocol, so that TCP gets `flags S/SA` and a reset.
    fn nft(&self, dir: Dir) -> Vec<String> {
        let mut common = Vec::new();
        if let Some(i) = self.iface {
            let key = if dir == Dir::In { "iifname" } else { "oifname" };
            common.push(format!("{key} \"{i}\""));
        }
        if self.from.nets.is_empty()
            && self.to.nets.is_empty()
            && let Some(f) = self.family
        {
            common.push(format!("meta nfproto {}", f.name()));
        }
        common.extend(self.from.nft("saddr"));
        common.extend(self.to.nft("daddr"));
        if let Some(p) = &self.from_ports {
            common.push(format!("th sport {}", p.nft()));
        }
        if let Some(p) = &self.to_ports {
            common.push(format!("th dport {}", p.nft()));
        }
        let bit = if dir == Dir::In { 1 } else { 2 };
        let protos: Vec<Option<Proto>> = match &self.protos {
            Some(ps) => ps.iter().copied().map(Some).collect(),
            None => vec![Some(Proto::Tcp), Some(Proto::Udp), None],
        };
        protos
            .into_iter()
            .map(|proto| {
                let mut parts = vec![match proto {
                    Some(p) => format!("meta l4proto {}", p.name()),
                    None => "meta l4proto != { tcp, udp }".to_string(),
                }];
                if self.action == Action::Pass && proto == Some(Proto::Tcp) {
                    parts.push("tcp flags & (syn | ack) == syn".into());
                }
                parts.extend(common.iter().cloned());
                // Nothing but TCP, UDP and the RELATED answers crosses the
                // firewall here, so what pf answers to other protocols never
                // shows: they are dropped.
                parts.push(match (self.action, proto) {
                    (Action::Pass, _) => format!("ct mark set ct mark | {bit:#x} accept"),
                    (Action::Drop { .. }, _) | (Action::Return, None) => "drop".into(),
                    (Action::Return, Some(Proto::Tcp)) => "reject with tcp reset".into(),
                    (Action::Return, Some(Proto::Udp)) => {
                        "reject with icmpx port-unreachable".into()
                    }
                });
                parts.join(" ")
            })
            .collect()
    }
}

/// pf's decision for one crossing: the deciding rule, or `None` for the
/// default pass.
fn decide(rules: &[Rule], p: &Packet) -> Option<usize> {
    if let Some(i) = rules.iter().position(|r| r.quick && r.matches(p)) {
        return Some(i);
    }
    rules.iter().rposition(|r| r.matches(p))
}

/// What pf does with a probe, read the way the translation reads it.
/// "Since translation occurs before filtering the filter engine will see
/// packets as they look after any addresses and ports have been
/// translated" (the first matching `rdr` decides), and a translated
/// connection keeps state (pf_test_rule makes one when a translation
/// matched).
pub fn expect(rules: &[Rule], rdrs: &[Rdr], probe: &Probe) -> Expected {
    let rdr = rdrs.iter().find(|r| r.takes(probe));
    let forward = Packet {
        dir: Dir::In,
        iface: "",
        family: probe.family,
        proto: probe.proto,
        src: probe.src,
        dst: probe.dst,
        sport: probe.sport,
        dport: rdr.map_or(probe.dport, |r| r.to_port),
        syn: true,
    };
    let mut crossings = Vec::new();
    if let Some(i) = probe.iif {
        crossings.push((Dir::In, i));
    }
    if let Some(o) = probe.oif {
        crossings.push((Dir::Out, o));
    }
    // Whether each crossing kept state.
    let mut state = Vec::new();
    let mut told = How::Plain;
    for &(dir, iface) in &crossings {
        let p = Packet {
            dir,
            iface,
            ..forward
        };
        told = told.max(how(rules, &p));
        match decide(rules, &p).map(|i| rules[i].action) {
            Some(Action::Pass) => state.push(true),
            None => state.push(dir == Dir::In && rdr.is_some()),
            Some(Action::Drop { .. }) => {
                return Expected {
                    verdict: Verdict::Drop,
                    stateless: false,
                    how: told,
                };
            }
            Some(Action::Return) => {
                return Expected {
                    verdict: Verdict::Reject,
                    stateless: false,
                    how: told,
                };
            }
        }
    }
    if probe.proto == Proto::Udp || state.iter().all(|&s| s) {
        return Expected {
            verdict: Verdict::Allow,
            stateless: false,
            how: told,
        };
    }
    // The replies cross the same interfaces the other way, back to front;
    // where that crossing kept no state they meet the rules.
    for (&(dir, iface), &kept) in crossings.iter().zip(&state).rev() {
        if kept {
            continue;
        }
        let reply = Packet {
            dir: if dir == Dir::In { Dir::Out } else { Dir::In },
            iface,
            src: probe.dst,
            dst: probe.src,
            sport: probe.dport,
            dport: probe.sport,
            syn: false,
            ..forward
        };
        if let Some(i) = decide(rules, &reply)
            && rules[i].action != Action::Pass
        {
            // A blocked SYN-ACK (a `return` resets the server): the client
            // only sees silence.
            return Expected {
                verdict: Verdict::Drop,
                stateless: true,
                how: told,
            };
        }
    }
    Expected {
        verdict: Verdict::Allow,
        stateless: true,
        how: told,
    }
}

/// The pf.conf text of `rules`.
pub fn pf_text(rules: &[Rule], rdrs: &[Rdr], header: &str) -> String {
    let mut out = String::from(header);
    // Translation before filtering, the order pfctl requires.
    for r in rdrs {
        out += &r.pf();
        out.push('\n');
    }
    for r in rules {
        out += &r.pf();
        out.push('\n');
    }
    out
}

/// The exact nft translation of `rules`.
pub fn nft_text(rules: &[Rule], rdrs: &[Rdr], header: &str) -> String {
    let mut out = format!("{header}flush ruleset\n\ntable inet pf {{\n");
    if !rdrs.is_empty() {
        out += "\tchain prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n";
        for r in rdrs {
            let _ = writeln!(out, "\t\t# {}\n\t\t{}", r.pf(), r.nft());
        }
        out += "\t}\n";
    }
    let chains = [
        ("input", "input", 0, Dir::In),
        ("forward_in", "forward", 0, Dir::In),
        ("forward_out", "forward", 10, Dir::Out),
        ("output", "output", 0, Dir::Out),
    ];
    for (name, hook, prio, dir) in chains {
        let (mine, other) = if dir == Dir::In { (1, 2) } else { (2, 1) };
        let _ = writeln!(
            out,
            "\tchain {name} {{\n\t\ttype filter hook {hook} priority {prio}; policy accept;\n\
             \t\tct state related accept\n\
             \t\tct state established ct direction original ct mark & {mine:#x} == {mine:#x} accept\n\
             \t\tct state established ct direction reply ct mark & {other:#x} == {other:#x} accept"
        );
        let applies = |r: &&Rule| r.dir.is_none_or(|d| d == dir);
        let quick = rules.iter().filter(|r| r.quick).filter(applies);
        let rest = rules.iter().rev().filter(|r| !r.quick).filter(applies);
        for rule in quick.chain(rest) {
            let _ = writeln!(out, "\t\t# {}", rule.pf());
            for line in rule.nft(dir) {
                let _ = writeln!(out, "\t\t{line}");
            }
        }
        out += "\t}\n";
    }
    out += "}\n";
    out
}

struct Generator {
    rng: Rng,
    family: Family,
    pool: Vec<u16>,
    /// Port redirects, before the filter rules.
    rdrs: Vec<Rdr>,
    /// Ports where the rules change their minds.
    edges: BTreeSet<u16>,
}

/// Generates one case: 5 to 15 rules and `probe_count` probes.
pub fn case(seed: u64, probe_count: usize) -> PfCase {
    let mut rng = Rng::new(seed);
    let family = if rng.percent(35) {
        Family::V6
    } else {
        Family::V4
    };
    let mut pool: Vec<u16> = Vec::new();
    let well_known = [22u16, 25, 53, 80, 123, 443, 993, 3478, 5060, 8080];
    for _ in 0..rng.between(3, 4) {
        pool.push(rng.pick(&well_known));
    }
    for _ in 0..rng.between(2, 3) {
        pool.push(rng.between(1024, 60000) as u16);
    }
    pool.sort_unstable();
    pool.dedup();
    let mut g = Generator {
        rng,
        family,
        pool,
        rdrs: Vec::new(),
        edges: BTreeSet::new(),
    };
    if g.rng.percent(70) {
        g.redirects();
    }
    let count = g.rng.between(5, 15) as usize;
    let mut rules: Vec<Rule> = Vec::with_capacity(count);
    while rules.len() < count {
        // Often a rule is a variation of an earlier one with the other
        // action: a later rule overriding it, or a quick one that wins.
        let rule = if !rules.is_empty() && g.rng.percent(35) {
            let base = rules[g.rng.below(rules.len())].clone();
            g.variation(base)
        } else {
            g.rule()
        };
        rules.push(rule);
    }
    let probes = g.probes(probe_count);
    let header = format!(
        "# generated by tests/kernel_pf.rs, seed {seed:#x}\n# probes are {}\n",
        family.name()
    );
    let expected: Vec<Expected> = probes.iter().map(|p| expect(&rules, &g.rdrs, p)).collect();
    let redirected = probes
        .iter()
        .zip(&expected)
        .map(|(p, e)| {
            let taken = g.rdrs.iter().any(|r| r.takes(p));
            (taken, taken && expect(&rules, &[], p).verdict != e.verdict)
        })
        .collect();
    PfCase {
        case: Case {
            name: format!("seed {seed:#x}"),
            seed: Some(seed),
            family,
            ruleset: pf_text(&rules, &g.rdrs, &header),
            probes,
        },
        nft: nft_text(&rules, &g.rdrs, &header),
        expected,
        redirected,
    }
}

impl Generator {
    fn action(&mut self) -> Action {
        match self.rng.below(100) {
            0..45 => Action::Pass,
            45..60 => Action::Drop { bare: true },
            60..75 => Action::Drop { bare: false },
            _ => Action::Return,
        }
    }

    fn rule(&mut self) -> Rule {
        let action = self.action();
        let dir = self
            .rng
            .weighted(&[(45, Some(Dir::In)), (35, Some(Dir::Out)), (20, None)]);
        let quick = self.rng.percent(30);
        let iface = self.rng.percent(40).then(|| self.rng.pick(&LINKS).fw_if);
        // Now and then the other family: a rule that must never match.
        let family = if self.rng.percent(85) {
            self.family
        } else {
            other_family(self.family)
        };
        let protos = match self.rng.below(100) {
            0..35 => Some(vec![Proto::Tcp]),
            35..60 => Some(vec![Proto::Udp]),
            60..75 => Some(vec![Proto::Tcp, Proto::Udp]),
            _ => None,
        };
        let from = self.hosts(family, 35);
        let to = self.hosts(family, 40);
        let (from_ports, to_ports) = if protos.is_some() {
            (
                self.rng.percent(20).then(|| self.ports()),
                self.rng.percent(70).then(|| self.ports()),
            )
        } else {
            (None, None)
        };
        let has_addr = !from.nets.is_empty() || !to.nets.is_empty();
        let family_word = if has_addr {
            self.rng.percent(50)
        } else {
            self.rng.percent(30)
        };
        Rule {
            action,
            dir,
            quick,
            iface,
            family: (has_addr || family_word).then_some(family),
            family_word,
            protos,
            from,
            from_ports,
            to,
            to_ports,
            keep_state_word: self.rng.percent(15),
        }
    }

    /// `base` with another action, and often narrower or with `quick` changed.
    fn variation(&mut self, mut base: Rule) -> Rule {
        let was_pass = base.action == Action::Pass;
        base.action = loop {
            let a = self.action();
            if (a == Action::Pass) != was_pass {
                break a;
            }
        };
        if self.rng.percent(40) {
            base.quick = !base.quick;
        }
        match self.rng.below(4) {
            0 if base.to_ports.is_some() => {
                let p = self.port();
                base.to_ports = Some(Ports {
                    ops: vec![PortOp::Eq(p)],
                });
            }
            1 if base.iface.is_none() => base.iface = Some(self.rng.pick(&LINKS).fw_if),
            2 if base.to.nets.is_empty() && base.family.is_some_and(|f| f == self.family) => {
                base.to = self.hosts(self.family, 100);
                base.family = Some(self.family);
            }
            _ => {}
        }
        base.keep_state_word = self.rng.percent(15);
        base
    }

    /// Addresses on one side, present `percent` of the time.
    fn hosts(&mut self, family: Family, percent: usize) -> Hosts {
        if !self.rng.percent(percent) {
            return Hosts::default();
        }
        let n = self.rng.weighted(&[(7, 1), (2, 2), (1, 3)]);
        let nets: Vec<Net> = (0..n).map(|_| self.net(family)).collect();
        Hosts {
            negated: nets.len() == 1 && self.rng.percent(25),
            nets,
        }
    }

    /// An address or network around the topology's addresses.
    fn net(&mut self, family: Family) -> Net {
        let n = self.rng.pick(&LINKS).net;
        let host = self.rng.between(1, 3);
        let shape = self
            .rng
            .weighted(&[(4, 0), (3, 1), (1, 2), (1, 3), (1, 4), (1, 5)]);
        let (text, lo, hi): (String, u128, u128) = match family {
            Family::V4 => {
                let base = (10u128 << 24) | (u128::from(n) << 16);
                match shape {
                    0 => (
                        format!("10.{n}.0.{host}"),
                        base + host as u128,
                        base + host as u128,
                    ),
                    1 => (format!("10.{n}.0.0/24"), base, base + 255),
                    2 => (format!("10.{n}.0.2/31"), base + 2, base + 3),
                    3 => (format!("10.{n}.0.0/30"), base, base + 3),
                    4 => ("10.0.0.0/8".into(), 10 << 24, (11 << 24) - 1),
                    _ => (
                        "10.2.0.0/15".into(),
                        (10 << 24) | (2 << 16),
                        ((10 << 24) | (4 << 16)) - 1,
                    ),
                }
            }
            Family::V6 => {
                let base = (0xfd00u128 << 112) | (u128::from(n) << 96);
                let low64 = (1u128 << 64) - 1;
                match shape {
                    0 => (
                        format!("fd00:{n}::{host}"),
                        base + host as u128,
                        base + host as u128,
                    ),
                    1 => (format!("fd00:{n}::/64"), base, base + low64),
                    2 => (format!("fd00:{n}::2/127"), base + 2, base + 3),
                    3 => (format!("fd00:{n}::/126"), base, base + 3),
                    4 => (
                        "fd00::/16".into(),
                        0xfd00u128 << 112,
                        (0xfd01u128 << 112) - 1,
                    ),
                    _ => (
                        "fd00:2::/31".into(),
                        (0xfd00u128 << 112) | (2 << 96),
                        ((0xfd00u128 << 112) | (4 << 96)) - 1,
                    ),
                }
            }
        };
        Net {
            text,
            family,
            lo,
            hi,
        }
    }

    fn port(&mut self) -> u16 {
        let p = self.rng.pick(&self.pool);
        self.edges
            .extend([p.saturating_sub(1).max(1), p, p.saturating_add(1)]);
        p
    }

    fn port_op(&mut self) -> PortOp {
        let a = self.port();
        let pair = |g: &mut Generator| {
            let b = a.saturating_add(2 + g.rng.below(20) as u16);
            g.edges
                .extend([b.saturating_sub(1), b, b.saturating_add(1)]);
            b
        };
        match self.rng.below(100) {
            0..35 => PortOp::Eq(a),
            35..45 => PortOp::Ne(a),
            45..53 => PortOp::Lt(a),
            53..58 => PortOp::Le(a),
            58..66 => PortOp::Gt(a),
            66..71 => PortOp::Ge(a),
            71..78 => PortOp::Inside(a, pair(self)),
            78..84 => PortOp::Outside(a, pair(self)),
            _ => PortOp::Range(a, pair(self)),
        }
    }

    fn ports(&mut self) -> Ports {
        let n = self.rng.weighted(&[(7, 1), (2, 2), (1, 3)]);
        Ports {
            ops: (0..n).map(|_| self.port_op()).collect(),
        }
    }

    /// One or two port redirects to the firewall's address on a link; the
    /// second, now and then, for the same port, where the first must win.
    fn redirects(&mut self) {
        let link = self.rng.pick(&LINKS);
        let proto = if self.rng.percent(60) {
            Proto::Tcp
        } else {
            Proto::Udp
        };
        let port = self.port();
        let mut to_port = self.port();
        if to_port == port {
            to_port = port.wrapping_add(1000).max(1);
        }
        let addr = link.fw_addr(self.family);
        self.rdrs.push(Rdr {
            iface: link.fw_if,
            proto,
            addr,
            port,
            to_port,
        });
        if self.rng.percent(40) {
            let again = self.rng.percent(50);
            let second_port = if again { port } else { self.port() };
            let second_to = to_port.wrapping_add(1).max(1);
            self.rdrs.push(Rdr {
                iface: link.fw_if,
                proto,
                addr,
                port: second_port,
                to_port: second_to,
            });
        }
    }

    // ---- probes ----

    fn probes(&mut self, count: usize) -> Vec<Probe> {
        let family = self.family;
        let edges: Vec<u16> = self.edges.iter().copied().filter(|&p| p > 0).collect();
        let mut probes = Vec::with_capacity(count);
        for index in 0..count {
            let proto = if self.rng.percent(55) {
                Proto::Tcp
            } else {
                Proto::Udp
            };
            let kind = self
                .rng
                .weighted(&[(35, Kind::In), (30, Kind::Out), (35, Kind::Fwd)]);
            let link = self.rng.pick(&LINKS);
            let other = other_link(&mut self.rng, link);
            let pool = &self.pool;
            probes.push(probe(
                &mut self.rng,
                index,
                family,
                kind,
                proto,
                link,
                other,
                |rng| probe_port(rng, &edges, pool),
            ));
        }
        // For each redirect, the redirected port and the port it leads to,
        // asked directly (so that a server listens there too).
        for r in self.rdrs.clone() {
            let Some(link) = LINKS.into_iter().find(|l| l.fw_if == r.iface) else {
                continue;
            };
            for dport in [r.port, r.to_port] {
                let other = other_link(&mut self.rng, link);
                let mut p = probe(
                    &mut self.rng,
                    probes.len(),
                    family,
                    Kind::In,
                    r.proto,
                    link,
                    other,
                    |_| dport,
                );
                p.dst = r.addr;
                probes.push(p);
            }
        }
        let pool = &self.pool;
        source_ports(&mut self.rng, &mut probes, [], |rng| {
            probe_port(rng, &edges, pool)
        });
        probes
    }
}

fn other_family(f: Family) -> Family {
    match f {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}
