//! The seeded generator: iptables-save text (filter, and often raw and mangle)
//! plus probes aimed at what the text mentions.
//!
//! Everything is derived from one `u64` seed, so a printed seed reproduces a
//! case exactly. Rules never use `-i` in chains that output or postrouting
//! reach, nor `-o` where prerouting or input reach: iptables-legacy and
//! iptables-nft disagree on what those mean, so no single answer is right.

use super::{Case, Family, Host, Kind, LINKS, Link, Probe, Proto};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

/// splitmix64: tiny, fast, and good enough to spread test cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as usize) as u32
    }

    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn weighted<T: Copy>(&mut self, items: &[(usize, T)]) -> T {
        let total: usize = items.iter().map(|(w, _)| w).sum();
        let mut roll = self.below(total);
        for &(w, item) in items {
            if roll < w {
                return item;
            }
            roll -= w;
        }
        unreachable!("weights sum to {total}")
    }
}

/// A port for a probe: mostly where the rules change their minds (`edges`),
/// else one the rules name (`pool`), else any.
pub fn probe_port(rng: &mut Rng, edges: &[u16], pool: &[u16]) -> u16 {
    match rng.below(100) {
        0..60 if !edges.is_empty() => rng.pick(edges),
        0..90 => rng.pick(pool),
        _ => rng.between(1, 65535) as u16,
    }
}

/// A link other than `link`.
pub fn other_link(rng: &mut Rng, link: Link) -> Link {
    let others: Vec<Link> = LINKS.into_iter().filter(|l| *l != link).collect();
    rng.pick(&others)
}

/// A probe of `kind` through `link` (and, forwarded, `other`), its
/// addresses drawn the way every generator draws them; its source port is
/// set later, by [`source_ports`], once every probe is known.
#[allow(clippy::too_many_arguments)]
pub fn probe(
    rng: &mut Rng,
    index: usize,
    family: Family,
    kind: Kind,
    proto: Proto,
    link: Link,
    other: Link,
    dport: impl FnOnce(&mut Rng) -> u16,
) -> Probe {
    let (src, dst, iif, oif, from, to) = match kind {
        Kind::In => {
            let dst = if rng.percent(75) {
                link.fw_addr(family)
            } else {
                other.fw_addr(family)
            };
            let src = rng.pick(&link.peer_addrs(family));
            (src, dst, Some(link.fw_if), None, link.peer, Host::Firewall)
        }
        Kind::Out => {
            let src = if rng.percent(80) {
                link.fw_addr(family)
            } else {
                other.fw_addr(family)
            };
            let dst = rng.pick(&link.peer_addrs(family));
            (src, dst, None, Some(link.fw_if), Host::Firewall, link.peer)
        }
        Kind::Fwd => {
            let src = rng.pick(&link.peer_addrs(family));
            let dst = rng.pick(&other.peer_addrs(family));
            (
                src,
                dst,
                Some(link.fw_if),
                Some(other.fw_if),
                link.peer,
                other.peer,
            )
        }
    };
    Probe {
        id: format!("p{index}"),
        kind,
        family,
        proto,
        src,
        dst,
        sport: 0,
        dport: dport(rng),
        iif,
        oif,
        from,
        to,
    }
}

/// Source ports come last: within one run no two probes may share a
/// (host, protocol, port) as their source, and no source port may be a port
/// the same host listens on (for a probe, or in `listeners`), or one probe
/// would meet another's socket or conntrack entry instead of its own.
pub fn source_ports(
    rng: &mut Rng,
    probes: &mut [Probe],
    listeners: impl IntoIterator<Item = (Host, Proto, u16)>,
    mut port: impl FnMut(&mut Rng) -> u16,
) {
    let mut listening: HashSet<(Host, Proto, u16)> =
        probes.iter().map(|p| (p.to, p.proto, p.dport)).collect();
    listening.extend(listeners);
    let mut used: HashSet<(Host, Proto, u16)> = HashSet::new();
    for probe in probes {
        let sport = loop {
            let candidate = if rng.percent(30) {
                port(rng)
            } else {
                rng.between(20000, 60999) as u16
            };
            let key = (probe.from, probe.proto, candidate);
            if !listening.contains(&key) && !used.contains(&key) {
                break candidate;
            }
        };
        used.insert((probe.from, probe.proto, sport));
        probe.sport = sport;
    }
}

// Hooks, as a bit set: which base chains can reach a chain.
const PRE: u8 = 1;
const IN: u8 = 2;
const FWD: u8 = 4;
const OUT: u8 = 8;
const POST: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Raw,
    Mangle,
    Filter,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Raw => "raw",
            Table::Mangle => "mangle",
            Table::Filter => "filter",
        }
    }

    fn base_chains(self) -> &'static [(&'static str, u8)] {
        match self {
            Table::Raw => &[("PREROUTING", PRE), ("OUTPUT", OUT)],
            Table::Mangle => &[
                ("PREROUTING", PRE),
                ("INPUT", IN),
                ("FORWARD", FWD),
                ("OUTPUT", OUT),
                ("POSTROUTING", POST),
            ],
            Table::Filter => &[("INPUT", IN), ("FORWARD", FWD), ("OUTPUT", OUT)],
        }
    }

    fn user_chain_names(self) -> &'static [&'static str] {
        match self {
            Table::Raw => &["notrack_svc"],
            Table::Mangle => &["mark_svc", "classify"],
            Table::Filter => &["svc_rules", "lan_guard", "wan_guard", "log_and_reject"],
        }
    }

    fn all_hooks(self) -> u8 {
        self.base_chains().iter().fold(0, |acc, (_, h)| acc | h)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Any,
    Tcp,
    Udp,
    NotTcp,
    NotUdp,
    Icmp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Accept,
    Drop,
    Reject,
    Log,
    Mark,
    NoTrack,
    Jump,
    Goto,
    Return,
}

const STATES: [&str; 5] = ["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"];

struct Generator {
    rng: Rng,
    family: Family,
    /// Ports the rules are built around.
    pool: Vec<u16>,
    /// Ports the rules mention and their neighbours: where verdicts change.
    edges: BTreeSet<u16>,
}

/// Generates one case: a ruleset and `probe_count` probes.
pub fn case(seed: u64, probe_count: usize) -> Case {
    let mut rng = Rng::new(seed);
    let family = if rng.percent(30) {
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
        edges: BTreeSet::new(),
    };

    let mut ruleset = format!(
        "# generated by tests/kernel_iptables.rs, seed {seed:#x}\n# {} rules for the firewall namespace\n",
        family.restore_tool()
    );
    if g.rng.percent(50) {
        g.table(Table::Raw, &mut ruleset);
    }
    if g.rng.percent(50) {
        g.table(Table::Mangle, &mut ruleset);
    }
    g.table(Table::Filter, &mut ruleset);
    let probes = g.probes(probe_count);
    Case {
        name: format!("seed {seed:#x}"),
        seed: Some(seed),
        family,
        ruleset,
        probes,
    }
}

impl Generator {
    fn table(&mut self, table: Table, out: &mut String) {
        let names = table.user_chain_names();
        let user_count = match table {
            Table::Filter => self.rng.below(names.len() + 1),
            _ => self
                .rng
                .below(names.len() + 1)
                .min(if self.rng.percent(50) { 1 } else { 0 }),
        };
        let users: Vec<&str> = names[..user_count].to_vec();
        // Which hooks reach each user chain, filled in as jumps are generated;
        // a chain only jumps to later chains, so there are no loops and every
        // caller is generated before its callee.
        let mut reach = vec![0u8; user_count];

        let mut header = format!("*{}\n", table.name());
        let mut body = String::new();
        for &(chain, hook) in table.base_chains() {
            let drop_policy = self.rng.percent(match table {
                Table::Filter => 20,
                Table::Mangle => 8,
                Table::Raw => 6,
            });
            let _ = writeln!(
                header,
                ":{chain} {} [0:0]",
                if drop_policy { "DROP" } else { "ACCEPT" }
            );
            let count = match table {
                Table::Filter => self.rng.between(2, 7),
                _ => self.rng.between(0, 3),
            };
            let mut rules = Vec::new();
            // What most real rulesets start with; without it replies and
            // REJECT answers rarely get through and nearly everything drops.
            if table == Table::Filter && self.rng.percent(if drop_policy { 75 } else { 40 }) {
                rules.push(format!(
                    "{} -j ACCEPT",
                    self.state_match(&["RELATED", "ESTABLISHED"], false)
                ));
            }
            for _ in 0..count {
                rules.push(self.rule(table, hook, false, 0..user_count, &users, &mut reach));
            }
            if drop_policy
                && self
                    .rng
                    .percent(if table == Table::Filter { 40 } else { 80 })
            {
                rules.push(self.broad_accept(hook));
            }
            // The other common ending: reject whatever is left.
            if !drop_policy && table == Table::Filter && hook != OUT && self.rng.percent(30) {
                let tcp = self.rng.percent(50);
                let rule = format!("{}{}", if tcp { "-p tcp " } else { "" }, self.reject(tcp));
                rules.push(rule);
            }
            for rule in rules {
                let _ = writeln!(body, "-A {chain} {rule}");
            }
        }
        for (index, &chain) in users.iter().enumerate() {
            let _ = writeln!(header, ":{chain} - [0:0]");
            let hooks = if reach[index] == 0 {
                table.all_hooks()
            } else {
                reach[index]
            };
            for _ in 0..self.rng.between(1, 4) {
                let rule = self.rule(
                    table,
                    hooks,
                    true,
                    index + 1..user_count,
                    &users,
                    &mut reach,
                );
                let _ = writeln!(body, "-A {chain} {rule}");
            }
        }
        out.push_str(&header);
        out.push_str(&body);
        out.push_str("COMMIT\n");
    }

    /// One rule specification (what follows `-A CHAIN`).
    fn rule(
        &mut self,
        table: Table,
        hooks: u8,
        in_user_chain: bool,
        callable: std::ops::Range<usize>,
        users: &[&str],
        reach: &mut [u8],
    ) -> String {
        let mut parts: Vec<String> = Vec::new();
        let protocol = self.rng.weighted(&[
            (34, Protocol::Any),
            (28, Protocol::Tcp),
            (22, Protocol::Udp),
            (4, Protocol::NotTcp),
            (4, Protocol::NotUdp),
            (8, Protocol::Icmp),
        ]);
        if self.rng.percent(18) {
            parts.push(format!("{}-s {}", self.negation(20), self.net()));
        }
        if self.rng.percent(18) {
            parts.push(format!("{}-d {}", self.negation(20), self.net()));
        }
        if hooks & (OUT | POST) == 0 && self.rng.percent(28) {
            parts.push(format!("{}-i {}", self.negation(25), self.interface()));
        }
        if hooks & (PRE | IN) == 0 && self.rng.percent(28) {
            parts.push(format!("{}-o {}", self.negation(25), self.interface()));
        }
        let icmp = if self.family == Family::V4 {
            "icmp"
        } else {
            self.rng.pick(&["ipv6-icmp", "icmpv6"])
        };
        match protocol {
            Protocol::Any => {}
            Protocol::Tcp => parts.push("-p tcp".into()),
            Protocol::Udp => parts.push("-p udp".into()),
            Protocol::NotTcp => parts.push("! -p tcp".into()),
            Protocol::NotUdp => parts.push("! -p udp".into()),
            Protocol::Icmp => parts.push(format!("-p {icmp}")),
        }
        if matches!(protocol, Protocol::Tcp | Protocol::Udp) && self.rng.percent(70) {
            let name = if protocol == Protocol::Tcp {
                "tcp"
            } else {
                "udp"
            };
            parts.push(self.ports(name));
        }
        // Before conntrack (raw) every packet is INVALID or, after NOTRACK,
        // UNTRACKED: rarely what anyone writes, so rarely generated there.
        if self.rng.percent(if table == Table::Raw { 5 } else { 22 }) {
            let states = self.states();
            let negated = self.rng.percent(15);
            parts.push(self.state_match(&states, negated));
        }
        if self.rng.percent(5) {
            parts.push(format!(
                "-m comment --comment \"rule {}\"",
                self.rng.below(1000)
            ));
        }

        let can_call = !callable.is_empty();
        let return_weight = if in_user_chain { 10 } else { 2 };
        let target = match table {
            // OUTPUT also carries every reply and every REJECT answer; as
            // hostile as INPUT it would let almost nothing through.
            Table::Filter => self.rng.weighted(&[
                (if hooks == OUT { 45 } else { 26 }, Target::Accept),
                (9, Target::Drop),
                (if hooks == OUT { 18 } else { 30 }, Target::Reject),
                (6, Target::Log),
                (if can_call { 14 } else { 0 }, Target::Jump),
                (if can_call { 6 } else { 0 }, Target::Goto),
                (return_weight, Target::Return),
            ]),
            Table::Mangle => self.rng.weighted(&[
                (18, Target::Accept),
                (8, Target::Drop),
                (24, Target::Mark),
                (10, Target::Log),
                (if can_call { 10 } else { 0 }, Target::Jump),
                (if can_call { 4 } else { 0 }, Target::Goto),
                (return_weight, Target::Return),
            ]),
            Table::Raw => self.rng.weighted(&[
                (15, Target::Accept),
                (6, Target::Drop),
                (25, Target::NoTrack),
                (8, Target::Log),
                (if can_call { 10 } else { 0 }, Target::Jump),
                (return_weight, Target::Return),
            ]),
        };
        let action = match target {
            Target::Accept => "-j ACCEPT".to_string(),
            Target::Drop => "-j DROP".to_string(),
            Target::Reject => self.reject(protocol == Protocol::Tcp),
            Target::Log => {
                let prefix = self.rng.pick(&["\"dw: \"", "\"IN-DROP \"", "dw-log"]);
                let level = if self.rng.percent(50) {
                    " --log-level 4"
                } else {
                    ""
                };
                format!("-j LOG --log-prefix {prefix}{level}")
            }
            Target::Mark => {
                let mark = self.rng.between(1, 255);
                if self.rng.percent(50) {
                    format!("-j MARK --set-xmark {mark:#x}/0xffffffff")
                } else {
                    format!("-j MARK --set-mark {mark}")
                }
            }
            Target::NoTrack => self
                .rng
                .pick(&["-j CT --notrack", "-j NOTRACK"])
                .to_string(),
            Target::Jump | Target::Goto => {
                let index = callable.start + self.rng.below(callable.len());
                reach[index] |= hooks;
                format!(
                    "-{} {}",
                    if target == Target::Jump { "j" } else { "g" },
                    users[index]
                )
            }
            Target::Return => "-j RETURN".to_string(),
        };
        parts.push(action);
        parts.join(" ")
    }

    /// A rule that lets a good share of traffic through a DROP policy.
    fn broad_accept(&mut self, hook: u8) -> String {
        let mut options = vec![
            "-p tcp -j ACCEPT".to_string(),
            "-p udp -j ACCEPT".to_string(),
        ];
        if hook & (OUT | POST) == 0 {
            options.push(format!("-i {} -j ACCEPT", self.interface()));
        }
        if hook & (PRE | IN) == 0 {
            options.push(format!("-o {} -j ACCEPT", self.interface()));
        }
        options.push(format!("-s {} -j ACCEPT", self.net()));
        options.swap_remove(self.rng.below(options.len()))
    }

    fn negation(&mut self, percent: usize) -> &'static str {
        if self.rng.percent(percent) { "! " } else { "" }
    }

    fn interface(&mut self) -> &'static str {
        self.rng.weighted(&[
            (3, "lan0"),
            (2, "lan1"),
            (3, "wan0"),
            (4, "lan+"),
            (1, "wan+"),
            (1, "eth+"),
        ])
    }

    /// An address or network around the topology's addresses.
    fn net(&mut self) -> String {
        let n = self.rng.pick(&LINKS).net;
        let host = self.rng.between(1, 3);
        let peer = self.rng.between(2, 3);
        let shape = self.rng.weighted(&[
            (4, 0),
            (1, 1),
            (3, 2),
            (1, 3),
            (1, 4),
            (1, 5),
            (1, 6),
            (1, 7),
        ]);
        match (self.family, shape) {
            (Family::V4, 0) => format!("10.{n}.0.{host}/32"),
            (Family::V4, 1) => format!("10.{n}.0.{peer}"),
            (Family::V4, 2) => format!("10.{n}.0.0/24"),
            (Family::V4, 3) => format!("10.{n}.0.2/31"),
            (Family::V4, 4) => "10.0.0.0/8".into(),
            (Family::V4, 5) => "10.2.0.0/15".into(),
            (Family::V4, 6) => "10.0.0.0/14".into(),
            (Family::V4, _) => "192.168.0.0/16".into(),
            (Family::V6, 0) => format!("fd00:{n}::{host}/128"),
            (Family::V6, 1) => format!("fd00:{n}::{peer}"),
            (Family::V6, 2) => format!("fd00:{n}::/64"),
            (Family::V6, 3) => format!("fd00:{n}::2/127"),
            (Family::V6, 4) => "fd00::/16".into(),
            (Family::V6, 5) => "fd00:2::/31".into(),
            (Family::V6, 6) => "fd00::/30".into(),
            (Family::V6, _) => "2001:db8::/32".into(),
        }
    }

    fn port(&mut self) -> u16 {
        let p = self.rng.pick(&self.pool);
        self.edges
            .extend([p.saturating_sub(1).max(1), p, p.saturating_add(1)]);
        p
    }

    fn port_range(&mut self) -> (u16, u16) {
        let base = self.rng.pick(&self.pool);
        let start = base.saturating_sub(self.rng.below(3) as u16).max(1);
        let end = start.saturating_add(1 + self.rng.below(20) as u16);
        self.edges.extend([
            start.saturating_sub(1).max(1),
            start,
            end,
            end.saturating_add(1),
        ]);
        (start, end)
    }

    fn port_list(&mut self) -> String {
        let count = self.rng.between(2, 4);
        let items: Vec<String> = (0..count)
            .map(|_| {
                if self.rng.percent(20) {
                    let (a, b) = self.port_range();
                    format!("{a}:{b}")
                } else {
                    self.port().to_string()
                }
            })
            .collect();
        items.join(",")
    }

    /// A port match for `proto` (tcp or udp), sometimes spelled the short way.
    fn ports(&mut self, proto: &str) -> String {
        let module = if self.rng.percent(60) {
            format!("-m {proto} ")
        } else {
            String::new()
        };
        let neg = self.negation(15);
        match self.rng.below(100) {
            0..30 => format!("{module}{neg}--dport {}", self.port()),
            30..42 => {
                let (a, b) = self.port_range();
                format!("{module}{neg}--dport {a}:{b}")
            }
            42..50 => format!("{module}{neg}--sport {}", self.port()),
            50..57 => {
                let (a, b) = self.port_range();
                format!("{module}{neg}--sport {a}:{b}")
            }
            57..85 => format!("-m multiport {neg}--dports {}", self.port_list()),
            85..93 => format!("-m multiport {neg}--sports {}", self.port_list()),
            _ => format!("-m multiport {neg}--ports {}", self.port_list()),
        }
    }

    fn states(&mut self) -> Vec<&'static str> {
        let first = self.rng.weighted(&[(5, 0), (4, 1), (2, 2), (2, 3), (2, 4)]);
        let mut states = vec![STATES[first]];
        if self.rng.percent(40) {
            let second = STATES[self.rng.below(STATES.len())];
            if second != states[0] {
                states.push(second);
            }
        }
        states
    }

    fn state_match(&mut self, states: &[&str], negated: bool) -> String {
        let neg = if negated { "! " } else { "" };
        if self.rng.percent(60) {
            format!("-m conntrack {neg}--ctstate {}", states.join(","))
        } else {
            format!("-m state {neg}--state {}", states.join(","))
        }
    }

    fn reject(&mut self, tcp: bool) -> String {
        if tcp && self.rng.percent(30) {
            // `tcp-rst` is an alias ip6tables does not know.
            let v4_alias = self.family == Family::V4 && self.rng.percent(15);
            return format!(
                "-j REJECT --reject-with {}",
                if v4_alias { "tcp-rst" } else { "tcp-reset" }
            );
        }
        if self.rng.percent(10) {
            return "-j REJECT".to_string();
        }
        // (canonical name, alias) of every ICMP kind of the family.
        let kinds: &[(&str, &str)] = match self.family {
            Family::V4 => &[
                ("icmp-net-unreachable", "net-unreach"),
                ("icmp-host-unreachable", "host-unreach"),
                ("icmp-port-unreachable", "port-unreach"),
                ("icmp-proto-unreachable", "proto-unreach"),
                ("icmp-net-prohibited", "net-prohib"),
                ("icmp-host-prohibited", "host-prohib"),
                ("icmp-admin-prohibited", "admin-prohib"),
            ],
            Family::V6 => &[
                ("icmp6-no-route", "no-route"),
                ("icmp6-adm-prohibited", "adm-prohibited"),
                ("icmp6-addr-unreachable", "addr-unreach"),
                ("icmp6-port-unreachable", "port-unreach"),
                ("icmp6-policy-fail", "policy-fail"),
                ("icmp6-reject-route", "reject-route"),
            ],
        };
        let (name, alias) = self.rng.pick(kinds);
        format!(
            "-j REJECT --reject-with {}",
            if self.rng.percent(15) { alias } else { name }
        )
    }

    fn probes(&mut self, count: usize) -> Vec<Probe> {
        let family = self.family;
        let edges: Vec<u16> = self.edges.iter().copied().collect();
        let mut probes = Vec::with_capacity(count);
        for index in 0..count {
            let kind = self
                .rng
                .weighted(&[(35, Kind::In), (30, Kind::Out), (35, Kind::Fwd)]);
            let proto = if self.rng.percent(55) {
                Proto::Tcp
            } else {
                Proto::Udp
            };
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
        let pool = &self.pool;
        source_ports(&mut self.rng, &mut probes, [], |rng| {
            probe_port(rng, &edges, pool)
        });
        probes
    }
}
