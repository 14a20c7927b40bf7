//! The seeded generator of native nftables rulesets (`tests/kernel_nftables.rs`)
//! and probes aimed at what they mention.
//!
//! Not translations of iptables: what nft itself offers. Several base chains
//! per hook at different priorities (filter -10/0/10, a prerouting chain at
//! mangle -150, raw chains with `notrack`, NAT chains), an `inet` table
//! beside `ip` and `ip6` tables, anonymous sets with ranges and prefixes,
//! named sets and maps with `@name`, verdict maps (inline and named),
//! concatenations, jump/goto/return, `ct state` in its list, set and vmap
//! forms, every `reject with` variant, `iifname`/`oifname` with wildcards,
//! policies accept and drop, `define` variables, and dnat/redirect in
//! prerouting. A share of the rulesets is written in the command form
//! (`add table`, `add chain`, `add rule`).
//!
//! Everything comes from one `u64` seed, so a printed seed reproduces a case.
//! As in the iptables generator, `iifname` appears only where the packet has
//! an input interface (prerouting, input, forward) and `oifname` only where
//! it has an output one. When a ruleset forwards connections to peers with
//! `dnat`, forward and postrouting rules do not test `oifname`: driftwall
//! does not know the routing table, so after a dnat it cannot tell the
//! output interface, and the kernel test compares exact answers only.

use super::generate::{Rng, other_link, probe, probe_port, source_ports};
use super::{Case, Family, Host, Kind, LINKS, Probe, Proto};
use std::collections::BTreeSet;
use std::fmt::Write as _;

// Hooks, as a bit set: which base chains can reach a chain.
const PRE: u8 = 1;
const IN: u8 = 2;
const FWD: u8 = 4;
const OUT: u8 = 8;
const POST: u8 = 16;

/// A generated case and the extra sockets its NAT rules need: where a
/// `dnat` or `redirect` sends a connection, something must listen, as it
/// would on a real host (driftwall assumes the service is there).
#[derive(Debug, Clone)]
pub struct NftCase {
    pub case: Case,
    pub listeners: Vec<(Host, Proto, u16)>,
    /// Probes aimed at what a dnat or redirect rule matches.
    pub nat_probes: Vec<usize>,
}

/// The family of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TFam {
    Inet,
    Ip,
    Ip6,
}

impl TFam {
    fn name(self) -> &'static str {
        match self {
            TFam::Inet => "inet",
            TFam::Ip => "ip",
            TFam::Ip6 => "ip6",
        }
    }
}

/// What a rule says about the transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum L4 {
    /// Nothing.
    Any,
    /// Exactly this one (`meta l4proto tcp`, `tcp dport 22`).
    Proto(&'static str),
    /// TCP or UDP.
    Both,
    /// Anything but TCP, or ICMP: no port matches may follow.
    Other,
}

/// What a named set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetKind {
    Addr(Family),
    Ports,
    AddrPort(Family),
    /// A verdict map from ports.
    PortVerdicts,
}

#[derive(Debug, Clone)]
struct NamedSet {
    name: String,
    kind: SetKind,
}

/// The table being generated.
struct TableCtx {
    fam: TFam,
    name: String,
    /// User chains; chain i only calls chains after it, so there are no loops.
    users: Vec<&'static str>,
    /// Which hooks reach each user chain, filled in as calls are generated.
    reach: Vec<u8>,
    sets: Vec<NamedSet>,
    /// Lines declaring sets and maps, written before the chains.
    set_decls: Vec<String>,
}

/// A `define` at the top of the file: name and family of its addresses.
struct Define {
    name: String,
    family: Family,
}

struct Generator {
    rng: Rng,
    /// The probes' family; rules speak of both.
    family: Family,
    pool: Vec<u16>,
    edges: BTreeSet<u16>,
    /// `dnat` to peers exists: no `oifname` in forward and postrouting.
    dnat_to_peers: bool,
    listeners: Vec<(Host, Proto, u16)>,
    /// Ports a dnat or redirect rule matches, on which interface (for probes).
    nat_ports: Vec<(u16, Option<&'static str>)>,
    defines: Vec<Define>,
    /// Written as `add ...` commands rather than blocks.
    commands: bool,
}

/// Generates one case: a ruleset and `probe_count` probes.
pub fn case(seed: u64, probe_count: usize) -> NftCase {
    let mut rng = Rng::new(seed);
    let family = if rng.percent(40) {
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
    let commands = rng.percent(15);
    let mut g = Generator {
        rng,
        family,
        pool,
        edges: BTreeSet::new(),
        dnat_to_peers: false,
        listeners: Vec::new(),
        nat_ports: Vec::new(),
        defines: Vec::new(),
        commands,
    };

    let mut out = format!(
        "#!/usr/sbin/nft -f\n# generated by tests/kernel_nftables.rs, seed {seed:#x}\n# probes are {}\nflush ruleset\n\n",
        family.name()
    );
    // NAT first: whether it forwards to peers constrains the filter rules.
    let nat = if g.rng.percent(35) {
        Some(g.nat_tables())
    } else {
        None
    };
    g.defines_block(&mut out);
    let inet_name = g.rng.pick(&["filter", "fw", "host"]);
    g.filter_table(TFam::Inet, inet_name, &mut out);
    if g.rng.percent(40) {
        g.filter_table(TFam::Ip, "extra4", &mut out);
    }
    if g.rng.percent(40) {
        g.filter_table(TFam::Ip6, "extra6", &mut out);
    }
    if let Some(nat) = nat {
        out.push_str(&nat);
    }
    let (probes, nat_probes) = g.probes(probe_count);
    NftCase {
        nat_probes,
        case: Case {
            name: format!("seed {seed:#x}"),
            seed: Some(seed),
            family,
            ruleset: out,
            probes,
        },
        listeners: g.listeners,
    }
}

/// An address or network as nft writes it, with its inclusive range.
#[derive(Debug, Clone)]
struct Addr {
    text: String,
    lo: u128,
    hi: u128,
}

fn addr_value(text: &str) -> u128 {
    match text.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => u32::from(a) as u128,
        Ok(std::net::IpAddr::V6(a)) => u128::from(a),
        Err(_) => panic!("generator bug: `{text}` is not an address"),
    }
}

fn addr(text: String) -> Addr {
    if let Some((a, b)) = text.split_once('-') {
        let (lo, hi) = (addr_value(a), addr_value(b));
        return Addr { text, lo, hi };
    }
    if let Some((a, len)) = text.split_once('/') {
        let len: u32 = len.parse().expect("prefix length");
        let bits = if a.contains(':') { 128 } else { 32 };
        let lo = addr_value(a);
        let size = bits - len;
        let hi = if size >= 128 {
            u128::MAX
        } else {
            lo | ((1u128 << size) - 1)
        };
        return Addr { text, lo, hi };
    }
    let v = addr_value(&text);
    Addr { text, lo: v, hi: v }
}

fn overlaps(a: (u128, u128), b: (u128, u128)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

impl Generator {
    /// Which family an address match of this table speaks of.
    fn rule_family(&mut self, fam: TFam) -> Family {
        match fam {
            TFam::Ip => Family::V4,
            TFam::Ip6 => Family::V6,
            // Mostly the probes' family, so that the rule matters.
            TFam::Inet if self.rng.percent(75) => self.family,
            TFam::Inet => other_family(self.family),
        }
    }

    fn defines_block(&mut self, out: &mut String) {
        if !self.rng.percent(25) {
            return;
        }
        for family in [Family::V4, Family::V6] {
            if self.rng.percent(60) {
                let items = self.addr_items(family, 2);
                let name = format!("NETS{}", if family == Family::V4 { 4 } else { 6 });
                let _ = writeln!(
                    out,
                    "define {name} = {{ {} }}",
                    items
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.defines.push(Define { name, family });
            }
        }
        out.push('\n');
    }

    // ---- NAT ----

    /// The NAT tables: dnat and redirect in prerouting, masquerade or snat
    /// in postrouting.
    fn nat_tables(&mut self) -> String {
        let inet = self.rng.percent(40);
        let mut pre_rules: Vec<(Family, String)> = Vec::new();
        let mut post_rules: Vec<(Family, String)> = Vec::new();
        for _ in 0..self.rng.between(1, 3) {
            let family = if self.rng.percent(75) {
                self.family
            } else {
                other_family(self.family)
            };
            let proto = if self.rng.percent(60) { "tcp" } else { "udp" };
            let port = self.port();
            let to_port = if self.rng.percent(60) {
                self.rng.between(7000, 7099) as u16
            } else {
                port
            };
            let fam_word = if inet {
                if family == Family::V4 { " ip" } else { " ip6" }
            } else {
                ""
            };
            if self.rng.percent(60) {
                // A redirect to the host itself, from anywhere.
                let iif = if self.rng.percent(50) {
                    Some(self.rng.pick(&["lan0", "lan1", "wan0"]))
                } else {
                    None
                };
                let m = iif.map(|i| format!("iifname \"{i}\" ")).unwrap_or_default();
                pre_rules.push((
                    family,
                    format!("{m}{proto} dport {port} redirect to :{to_port}"),
                ));
                for p in [Proto::Tcp, Proto::Udp] {
                    self.listeners.push((Host::Firewall, p, to_port));
                }
                if family == self.family {
                    self.nat_ports.push((port, iif));
                }
            } else {
                // A port forward from the WAN side to a LAN peer.
                let link = self.rng.pick(&LINKS[..2]);
                let target = link.peer_addrs(family)[self.rng.below(2)];
                let target = if family == Family::V6 {
                    format!("[{target}]")
                } else {
                    target.to_string()
                };
                pre_rules.push((
                    family,
                    format!(
                        "iifname \"wan0\" {proto} dport {port} dnat{fam_word} to {target}:{to_port}"
                    ),
                ));
                for p in [Proto::Tcp, Proto::Udp] {
                    self.listeners.push((link.peer, p, to_port));
                }
                self.dnat_to_peers = true;
                if family == self.family {
                    self.nat_ports.push((port, Some("wan0")));
                }
            }
            self.edges.insert(port);
        }
        // Source NAT of forwarded connections, unless some are dnat'ed to
        // peers: their output interface, and so the address masquerade
        // picks, is what driftwall cannot know.
        if !self.dnat_to_peers && self.rng.percent(50) {
            let family = self.family;
            let rule = match self.rng.below(3) {
                0 => "oifname \"wan0\" masquerade".to_string(),
                1 => {
                    let n = self.rng.pick(&LINKS[..2]).net;
                    let wan = LINKS[2].fw_addr(family);
                    let (sel, net, wan) = match family {
                        Family::V4 => ("ip", format!("10.{n}.0.0/24"), wan.to_string()),
                        Family::V6 => ("ip6", format!("fd00:{n}::/64"), wan.to_string()),
                    };
                    format!(
                        "oifname \"wan0\" {sel} saddr {net} snat{} to {wan}",
                        if inet {
                            format!(" {sel}")
                        } else {
                            String::new()
                        }
                    )
                }
                _ => "meta l4proto udp oifname \"wan0\" masquerade".to_string(),
            };
            post_rules.push((family, rule));
        }
        let mut out = String::new();
        let fams: Vec<(TFam, Family)> = if inet {
            vec![(TFam::Inet, self.family)]
        } else {
            vec![(TFam::Ip, Family::V4), (TFam::Ip6, Family::V6)]
        };
        for (tfam, family) in fams {
            let pick = |rules: &[(Family, String)]| -> Vec<String> {
                rules
                    .iter()
                    .filter(|(f, _)| inet || *f == family)
                    .map(|(_, r)| r.clone())
                    .collect()
            };
            let (pre, post) = (pick(&pre_rules), pick(&post_rules));
            if pre.is_empty() && post.is_empty() {
                continue;
            }
            let table = format!("{} nat", tfam.name());
            let mut chains = Vec::new();
            let pre_prio = self.rng.pick(&["dstnat", "-100", "dstnat + 5"]);
            chains.push((
                "prerouting",
                format!("type nat hook prerouting priority {pre_prio}; policy accept;"),
                pre,
            ));
            if !post.is_empty() {
                let post_prio = self.rng.pick(&["srcnat", "100"]);
                chains.push((
                    "postrouting",
                    format!("type nat hook postrouting priority {post_prio}; policy accept;"),
                    post,
                ));
            }
            self.write_table(&mut out, &table, &[], &chains);
        }
        out
    }

    /// Writes a table in the block or the command form.
    fn write_table(
        &mut self,
        out: &mut String,
        table: &str,
        set_decls: &[String],
        chains: &[(&str, String, Vec<String>)],
    ) {
        if self.commands {
            let _ = writeln!(out, "add table {table}");
            for decl in set_decls {
                // `set NAME { ... }` becomes `add set TABLE NAME { ... }`.
                let (kind, rest) = decl.split_once(' ').expect("set declaration");
                let _ = writeln!(out, "add {kind} {table} {rest}");
            }
            for (name, spec, _) in chains {
                if spec.is_empty() {
                    let _ = writeln!(out, "add chain {table} {name}");
                } else {
                    let _ = writeln!(out, "add chain {table} {name} {{ {spec} }}");
                }
            }
            for (name, _, rules) in chains {
                for rule in rules {
                    let _ = writeln!(out, "add rule {table} {name} {rule}");
                }
            }
            out.push('\n');
            return;
        }
        let _ = writeln!(out, "table {table} {{");
        for decl in set_decls {
            let _ = writeln!(out, "\t{decl}\n");
        }
        for (i, (name, spec, rules)) in chains.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "\tchain {name} {{");
            if !spec.is_empty() {
                let _ = writeln!(out, "\t\t{spec}");
            }
            for rule in rules {
                let _ = writeln!(out, "\t\t{rule}");
            }
            out.push_str("\t}\n");
        }
        out.push_str("}\n\n");
    }

    // ---- filter tables ----

    fn filter_table(&mut self, fam: TFam, name: &str, out: &mut String) {
        let all_users = ["svc", "lan_in", "wan_in", "reject_all"];
        let user_count = match fam {
            TFam::Inet => self.rng.below(all_users.len() + 1),
            _ => self.rng.below(2),
        };
        let mut t = TableCtx {
            fam,
            name: format!("{} {name}", fam.name()),
            users: all_users[..user_count].to_vec(),
            reach: vec![0; user_count],
            sets: Vec::new(),
            set_decls: Vec::new(),
        };
        self.named_sets(&mut t);

        // Base chains: name, `type ... policy ...;`, rules.
        let mut bases: Vec<(String, String, Vec<String>)> = Vec::new();
        let plan: Vec<(u8, &str, usize)> = match fam {
            TFam::Inet => vec![
                (IN, "input", self.rng.between(1, 3) as usize),
                (FWD, "forward", self.rng.between(1, 2) as usize),
                (OUT, "output", self.rng.between(1, 2) as usize),
                (PRE, "prerouting", usize::from(self.rng.percent(40))),
                (POST, "postrouting", usize::from(self.rng.percent(15))),
            ],
            _ => {
                let hooks = [(IN, "input"), (FWD, "forward"), (OUT, "output")];
                let hook = self.rng.pick(&hooks);
                let mut plan = vec![(hook.0, hook.1, 1)];
                let other = self.rng.pick(&hooks);
                if other.0 != hook.0 && self.rng.percent(30) {
                    plan.push((other.0, other.1, 1));
                }
                plan
            }
        };
        for (hook, hook_name, count) in plan {
            let mut prios: Vec<i32> = match (fam, hook) {
                (_, PRE) => vec![-150],
                (_, POST) => vec![self.rng.pick(&[0, 50])],
                (TFam::Inet, _) => vec![-10, 0, 10],
                _ => vec![-5, 5, 15],
            };
            while prios.len() > count {
                prios.remove(self.rng.below(prios.len()));
            }
            for prio in prios {
                let name = format!(
                    "{}_{}",
                    &hook_name[..hook_name.len().min(4)],
                    prio_suffix(prio)
                );
                let drop_policy = self.rng.percent(match hook {
                    PRE | POST => 6,
                    _ if fam == TFam::Inet => 22,
                    _ => 10,
                });
                let prio = prio_text(&mut self.rng, prio);
                let spec = format!(
                    "type filter hook {hook_name} priority {prio}; policy {};",
                    if drop_policy { "drop" } else { "accept" }
                );
                let rules = self.base_rules(&mut t, hook, drop_policy);
                bases.push((name, spec, rules));
            }
        }
        // A raw chain before conntrack, now and then.
        if fam == TFam::Inet && self.rng.percent(12) {
            let hook = self.rng.pick(&["prerouting", "output"]);
            let (proto, port) = (self.rng.pick(&["tcp", "udp"]), self.port());
            bases.push((
                format!("raw_{}", &hook[..3]),
                format!("type filter hook {hook} priority raw; policy accept;"),
                vec![format!("{proto} dport {port} notrack")],
            ));
        }

        // User chains, callees first so that every jump finds its target.
        let mut user_rules: Vec<Vec<String>> = vec![Vec::new(); user_count];
        for (i, rules) in user_rules.iter_mut().enumerate() {
            let hooks = if t.reach[i] == 0 {
                IN | FWD | OUT
            } else {
                t.reach[i]
            };
            for _ in 0..self.rng.between(1, 4) {
                let rule = self.rule(&mut t, hooks, true, i + 1);
                rules.push(rule);
            }
        }
        let mut chains: Vec<(&str, String, Vec<String>)> = Vec::new();
        for i in (0..user_count).rev() {
            chains.push((
                t.users[i],
                String::new(),
                std::mem::take(&mut user_rules[i]),
            ));
        }
        // Base chains in a shuffled order: the priority decides, not the file.
        for i in (1..bases.len()).rev() {
            bases.swap(i, self.rng.below(i + 1));
        }
        for (name, spec, rules) in &bases {
            chains.push((name.as_str(), spec.clone(), rules.clone()));
        }
        let table = t.name.clone();
        let decls = std::mem::take(&mut t.set_decls);
        self.write_table(out, &table, &decls, &chains);
    }

    /// Named sets and maps of a table.
    fn named_sets(&mut self, t: &mut TableCtx) {
        let fams: Vec<Family> = match t.fam {
            TFam::Inet => vec![Family::V4, Family::V6],
            TFam::Ip => vec![Family::V4],
            TFam::Ip6 => vec![Family::V6],
        };
        for family in fams {
            if self.rng.percent(35) {
                let items = self.addr_items(family, 3);
                let name = format!("nets{}", if family == Family::V4 { 4 } else { 6 });
                let ty = if family == Family::V4 {
                    "ipv4_addr"
                } else {
                    "ipv6_addr"
                };
                t.set_decls.push(format!(
                    "set {name} {{ type {ty}; flags interval; elements = {{ {} }}; }}",
                    join(&items)
                ));
                t.sets.push(NamedSet {
                    name,
                    kind: SetKind::Addr(family),
                });
            }
            if self.rng.percent(15) {
                let name = format!("pairs{}", if family == Family::V4 { 4 } else { 6 });
                let ty = if family == Family::V4 {
                    "ipv4_addr"
                } else {
                    "ipv6_addr"
                };
                let elems = self.concat_items(family, 2);
                t.set_decls.push(format!("set {name} {{ type {ty} . inet_service; flags interval; elements = {{ {} }}; }}", elems.join(", ")));
                t.sets.push(NamedSet {
                    name,
                    kind: SetKind::AddrPort(family),
                });
            }
        }
        if self.rng.percent(35) {
            let items = self.port_items(3);
            let interval = if items.iter().any(|p| p.contains('-')) {
                " flags interval;"
            } else {
                ""
            };
            t.set_decls.push(format!(
                "set ports {{ type inet_service;{interval} elements = {{ {} }}; }}",
                items.join(", ")
            ));
            t.sets.push(NamedSet {
                name: "ports".into(),
                kind: SetKind::Ports,
            });
        }
        if self.rng.percent(30) {
            let items = self.port_items(3);
            let interval = if items.iter().any(|p| p.contains('-')) {
                " flags interval;"
            } else {
                ""
            };
            let entries: Vec<String> = items
                .iter()
                .map(|p| format!("{p} : {}", self.rng.pick(&["accept", "drop"])))
                .collect();
            t.set_decls.push(format!("map port_verdicts {{ type inet_service : verdict;{interval} elements = {{ {} }}; }}", entries.join(", ")));
            t.sets.push(NamedSet {
                name: "port_verdicts".into(),
                kind: SetKind::PortVerdicts,
            });
        }
    }

    /// The rules of a base chain.
    fn base_rules(&mut self, t: &mut TableCtx, hook: u8, drop_policy: bool) -> Vec<String> {
        let count = match hook {
            PRE | POST => self.rng.between(1, 3),
            _ => self.rng.between(2, 6),
        };
        let mut rules = Vec::new();
        if hook & (IN | FWD | OUT) != 0 && self.rng.percent(if drop_policy { 75 } else { 35 }) {
            rules.push(self.established_accept());
        }
        let callable = if hook & (PRE | POST) != 0 {
            t.users.len()
        } else {
            0
        };
        for _ in 0..count {
            rules.push(self.rule(t, hook, false, callable));
        }
        if drop_policy && self.rng.percent(45) {
            rules.push(self.broad_accept(t.fam, hook));
        }
        if !drop_policy && hook & (IN | FWD) != 0 && self.rng.percent(25) {
            rules.push(self.final_reject(t.fam));
        }
        rules
    }

    fn established_accept(&mut self) -> String {
        match self.rng.below(4) {
            0 => "ct state established,related accept".into(),
            1 => "ct state { established, related } accept".into(),
            2 => "ct state vmap { established : accept, related : accept, invalid : drop }".into(),
            _ => "ct state established,related counter accept".into(),
        }
    }

    fn broad_accept(&mut self, fam: TFam, hook: u8) -> String {
        let mut options = vec![
            "meta l4proto tcp accept".to_string(),
            "meta l4proto udp accept".to_string(),
            "meta l4proto { tcp, udp } accept".to_string(),
        ];
        if self.iif_allowed(hook) {
            options.push(format!("iifname {} accept", self.interface()));
        }
        if self.oif_allowed(hook) {
            options.push(format!("oifname {} accept", self.interface()));
        }
        let family = self.rule_family(fam);
        let a = self.net(family);
        options.push(format!("{} saddr {} accept", sel(family), a.text));
        options.swap_remove(self.rng.below(options.len()))
    }

    fn final_reject(&mut self, fam: TFam) -> String {
        match self.rng.below(3) {
            0 => format!("meta l4proto tcp {}", self.reject(fam, None, true, true)),
            1 => self.reject(fam, None, false, false),
            _ => "reject".into(),
        }
    }

    /// Whether chains reached from `hooks` may test the input interface:
    /// only where packets have one, and, when dnat forwards connections to
    /// peers, not where their replies pass (prerouting, forward), since the
    /// replies come in on the interface driftwall cannot know.
    fn iif_allowed(&self, hooks: u8) -> bool {
        hooks & (OUT | POST) == 0 && !(self.dnat_to_peers && hooks & (PRE | FWD) != 0)
    }

    /// The same for the output interface.
    fn oif_allowed(&self, hooks: u8) -> bool {
        hooks & (PRE | IN) == 0 && !(self.dnat_to_peers && hooks & (FWD | POST) != 0)
    }

    /// One rule for a chain reached from `hooks`; user chains `callable..` may be called.
    ///
    /// The parts must agree the way nft demands: one transport protocol
    /// (`udp dport 53 tcp dport 80` is refused), one address family when the
    /// rule names one (so `reject with icmp` goes with `ip saddr`, `icmpv6`
    /// with `ip6 saddr`), and `reject with tcp reset` only where the packet
    /// may be TCP.
    fn rule(&mut self, t: &mut TableCtx, hooks: u8, in_user: bool, callable: usize) -> String {
        let mut parts: Vec<String> = Vec::new();
        let family = self.rule_family(t.fam);
        let mut names_family = false;
        // Layer 4: none, a protocol, or ports (which imply theirs).
        let mut l4 = L4::Any;
        match self.rng.below(100) {
            0..30 => {}
            30..45 => {
                let p = self.rng.pick(&["tcp", "udp"]);
                parts.push(format!("meta l4proto {p}"));
                l4 = L4::Proto(p);
            }
            45..50 => {
                parts.push("meta l4proto { tcp, udp }".into());
                l4 = L4::Both;
            }
            50..54 => {
                parts.push(format!(
                    "meta l4proto != {}",
                    self.rng.pick(&["tcp", "udp"])
                ));
                l4 = L4::Other;
            }
            54..57 => {
                // ICMP, sometimes by type: what REJECT answers are.
                let types4 = [
                    "destination-unreachable",
                    "echo-request",
                    "{ destination-unreachable, echo-reply }",
                    "!= echo-request",
                ];
                let types6 = [
                    "destination-unreachable",
                    "echo-request",
                    "{ destination-unreachable, nd-neighbor-solicit }",
                    "!= echo-request",
                ];
                parts.push(match (family, self.rng.below(4)) {
                    (Family::V4, 0) => "ip protocol icmp".into(),
                    (Family::V4, 1) => "meta l4proto icmp".into(),
                    (Family::V4, _) => format!("icmp type {}", self.rng.pick(&types4)),
                    (Family::V6, 0) => "meta l4proto ipv6-icmp".into(),
                    (Family::V6, 1) => "ip6 nexthdr ipv6-icmp".into(),
                    (Family::V6, _) => format!("icmpv6 type {}", self.rng.pick(&types6)),
                });
                names_family = true;
                l4 = L4::Other;
            }
            57..60 if family == Family::V4 => {
                let p = self.rng.pick(&["tcp", "udp"]);
                parts.push(format!("ip protocol {p}"));
                names_family = true;
                l4 = L4::Proto(p);
            }
            _ => {
                let p = self.rng.pick(&["tcp", "udp"]);
                let (text, shape) = self.ports(p, t);
                parts.push(text);
                l4 = shape;
            }
        }
        if self.rng.percent(20) {
            parts.push(self.addr_match(t, family, "saddr"));
            names_family = true;
        }
        if self.rng.percent(16) {
            parts.push(self.addr_match(t, family, "daddr"));
            names_family = true;
        }
        if self.iif_allowed(hooks) && self.rng.percent(25) {
            parts.push(self.iface_match("iifname"));
        }
        if self.oif_allowed(hooks) && self.rng.percent(25) {
            parts.push(self.iface_match("oifname"));
        }
        if matches!(l4, L4::Any | L4::Proto(_)) && self.rng.percent(8) {
            let p = match l4 {
                L4::Proto(p) => p,
                _ => self.rng.pick(&["tcp", "udp"]),
            };
            parts.push(self.concat_match(t, family, p));
            names_family = true;
            l4 = L4::Proto(p);
        }
        if self.rng.percent(20) {
            parts.push(self.state_match());
        }
        if t.fam == TFam::Inet && !names_family && self.rng.percent(5) {
            parts.push(format!(
                "meta nfproto {}",
                if family == Family::V4 { "ipv4" } else { "ipv6" }
            ));
            names_family = true;
        }
        // Where a packet has no input (output, postrouting) or no output
        // interface (prerouting, input), nft matches the name "": defined,
        // unlike iptables' -i in OUTPUT, so sometimes tested.
        if hooks & !(OUT | POST) == 0
            && !(self.dnat_to_peers && hooks & POST != 0)
            && self.rng.percent(4)
        {
            // (nft refuses the empty name itself.)
            parts.push(format!(
                "iifname {}",
                self.rng.pick(&["!= \"lan0\"", "\"lan*\"", "!= \"lan*\""])
            ));
        }
        if hooks & !(PRE | IN) == 0 && self.rng.percent(4) {
            parts.push(format!(
                "oifname {}",
                self.rng.pick(&["!= \"wan0\"", "\"wan0\"", "!= \"lan*\""])
            ));
        }
        if l4 == L4::Proto("tcp") && self.rng.percent(5) {
            parts.push("tcp flags & (syn | ack) == syn".into());
        }
        // A rule that matches everything ends a chain for every packet: rare
        // in real rulesets, and fatal in prerouting or postrouting.
        if parts.is_empty() && (hooks & (PRE | POST) != 0 || self.rng.percent(75)) {
            let p = self.rng.pick(&["tcp", "udp"]);
            let (text, shape) = self.ports(p, t);
            parts.push(text);
            l4 = shape;
        }
        if self.rng.percent(6) {
            parts.push("counter".into());
        }

        let can_call = callable < t.users.len();
        // Reject works in prerouting too (Linux 5.x and later), not in postrouting.
        let can_reject = hooks & POST == 0;
        let verdict = self.rng.weighted(&[
            (if hooks == OUT { 40 } else { 24 }, 0),
            (9, 1),
            (
                if can_reject {
                    if hooks == OUT { 16 } else { 26 }
                } else {
                    0
                },
                2,
            ),
            (5, 3),
            (if can_call { 12 } else { 0 }, 4),
            (if can_call { 5 } else { 0 }, 5),
            (if in_user { 9 } else { 1 }, 6),
            (9, 7),
        ]);
        let action = match verdict {
            0 => "accept".to_string(),
            1 => "drop".to_string(),
            2 => {
                let tcp_ok = matches!(l4, L4::Any | L4::Proto("tcp"));
                self.reject(
                    t.fam,
                    names_family.then_some(family),
                    tcp_ok,
                    l4 == L4::Proto("tcp"),
                )
            }
            3 => self
                .rng
                .pick(&[
                    "log prefix \"dw \" counter",
                    "meta mark set 0x2a",
                    "counter",
                    "ct mark set 7",
                ])
                .to_string(),
            4 | 5 => {
                let target = self.call(t, hooks, callable);
                format!("{} {target}", if verdict == 4 { "jump" } else { "goto" })
            }
            6 => "return".to_string(),
            _ => self.vmap(t, hooks, in_user, callable, family, l4),
        };
        parts.push(action);
        if self.rng.percent(5) {
            parts.push(format!("comment \"rule {}\"", self.rng.below(1000)));
        }
        parts.join(" ")
    }

    /// A user chain to call, noting that `hooks` reach it.
    fn call(&mut self, t: &mut TableCtx, hooks: u8, callable: usize) -> &'static str {
        let i = callable + self.rng.below(t.users.len() - callable);
        t.reach[i] |= hooks;
        t.users[i]
    }

    /// A verdict of a map: accept, drop, return in user chains, or a call.
    fn map_verdict(
        &mut self,
        t: &mut TableCtx,
        hooks: u8,
        in_user: bool,
        callable: usize,
    ) -> String {
        let can_call = callable < t.users.len();
        match self.rng.weighted(&[
            (5, 0),
            (3, 1),
            (if in_user { 2 } else { 0 }, 2),
            (if can_call { 3 } else { 0 }, 3),
            (if can_call { 1 } else { 0 }, 4),
        ]) {
            0 => "accept".into(),
            1 => "drop".into(),
            2 => "return".into(),
            3 => format!("jump {}", self.call(t, hooks, callable)),
            _ => format!("goto {}", self.call(t, hooks, callable)),
        }
    }

    /// A verdict map statement whose key agrees with the rule's protocol.
    fn vmap(
        &mut self,
        t: &mut TableCtx,
        hooks: u8,
        in_user: bool,
        callable: usize,
        family: Family,
        l4: L4,
    ) -> String {
        let named = t.sets.iter().any(|s| s.kind == SetKind::PortVerdicts);
        let ports_ok = matches!(l4, L4::Any | L4::Proto(_));
        let proto = match l4 {
            L4::Proto(p) => p,
            _ => self.rng.pick(&["tcp", "udp"]),
        };
        let choice = self.rng.weighted(&[
            (if ports_ok { 5 } else { 0 }, 0),
            (3, 1),
            (if l4 == L4::Any { 2 } else { 0 }, 2),
            (if self.iif_allowed(hooks) { 2 } else { 0 }, 3),
            (if ports_ok { 2 } else { 0 }, 4),
            (if ports_ok && named { 2 } else { 0 }, 5),
        ]);
        match choice {
            0 => {
                let keys = {
                    let n = self.rng.between(2, 3) as usize;
                    self.port_items(n)
                };
                let entries: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{k} : {}", self.map_verdict(t, hooks, in_user, callable)))
                    .collect();
                format!("{proto} dport vmap {{ {} }}", entries.join(", "))
            }
            1 => {
                let mut states = vec!["established", "related", "invalid", "new", "untracked"];
                let n = self.rng.between(2, 4) as usize;
                while states.len() > n {
                    states.remove(self.rng.below(states.len()));
                }
                let entries: Vec<String> = states
                    .iter()
                    .map(|s| format!("{s} : {}", self.map_verdict(t, hooks, in_user, callable)))
                    .collect();
                format!("ct state vmap {{ {} }}", entries.join(", "))
            }
            2 => {
                let mut entries = vec![
                    format!("tcp : {}", self.map_verdict(t, hooks, in_user, callable)),
                    format!("udp : {}", self.map_verdict(t, hooks, in_user, callable)),
                ];
                if self.rng.percent(50) {
                    entries.remove(self.rng.below(2));
                }
                format!("meta l4proto vmap {{ {} }}", entries.join(", "))
            }
            3 => {
                let mut names = vec!["\"lan0\"", "\"lan1\"", "\"wan0\""];
                names.remove(self.rng.below(3));
                let entries: Vec<String> = names
                    .iter()
                    .map(|n| format!("{n} : {}", self.map_verdict(t, hooks, in_user, callable)))
                    .collect();
                format!("iifname vmap {{ {} }}", entries.join(", "))
            }
            4 => {
                let elems = self.concat_items(family, 2);
                let entries: Vec<String> = elems
                    .iter()
                    .map(|e| format!("{e} : {}", self.map_verdict(t, hooks, in_user, callable)))
                    .collect();
                format!(
                    "{} saddr . {proto} dport vmap {{ {} }}",
                    sel(family),
                    entries.join(", ")
                )
            }
            _ => format!("{proto} dport vmap @port_verdicts"),
        }
    }

    /// A reject: `family` is the family the rule names (if it names one),
    /// `tcp_ok` whether the packet may be TCP, `tcp` whether it must be.
    fn reject(&mut self, fam: TFam, family: Option<Family>, tcp_ok: bool, tcp: bool) -> String {
        // `reject with tcp reset` also without a tcp match: nft then adds
        // one of its own (and does not show it).
        if tcp_ok && ((tcp && self.rng.percent(35)) || self.rng.percent(6)) {
            return "reject with tcp reset".into();
        }
        if self.rng.percent(12) {
            return "reject".into();
        }
        let v4 = [
            "net-unreachable",
            "host-unreachable",
            "port-unreachable",
            "prot-unreachable",
            "net-prohibited",
            "host-prohibited",
            "admin-prohibited",
        ];
        let v6 = [
            "no-route",
            "admin-prohibited",
            "addr-unreachable",
            "port-unreachable",
            "policy-fail",
            "reject-route",
        ];
        let x = [
            "port-unreachable",
            "admin-prohibited",
            "no-route",
            "host-unreachable",
        ];
        // `icmpx` exists only in inet tables ("abstracted ICMP unreachable
        // not supported" elsewhere).
        let kind = match (fam, family) {
            (TFam::Ip, _) => 0,
            (TFam::Ip6, _) => 1,
            (TFam::Inet, Some(Family::V4)) => self.rng.weighted(&[(3, 0), (1, 2)]),
            (TFam::Inet, Some(Family::V6)) => self.rng.weighted(&[(3, 1), (1, 2)]),
            (TFam::Inet, None) => self.rng.weighted(&[(3, 0), (3, 1), (4, 2)]),
        };
        match kind {
            0 => format!("reject with icmp type {}", self.rng.pick(&v4)),
            1 => format!("reject with icmpv6 type {}", self.rng.pick(&v6)),
            _ => format!("reject with icmpx type {}", self.rng.pick(&x)),
        }
    }

    fn state_match(&mut self) -> String {
        let all = ["new", "established", "related", "invalid", "untracked"];
        let first = self.rng.weighted(&[(5, 0), (4, 1), (2, 2), (2, 3), (2, 4)]);
        let mut states = vec![all[first]];
        if self.rng.percent(40) {
            let second = all[self.rng.below(all.len())];
            if second != states[0] {
                states.push(second);
            }
        }
        let negated = self.rng.percent(15);
        match (self.rng.below(3), negated) {
            (0, _) if states.len() > 1 => format!(
                "ct state {}{{ {} }}",
                if negated { "!= " } else { "" },
                states.join(", ")
            ),
            (_, true) => format!("ct state != {}", states.join(",")),
            _ => format!("ct state {}", states.join(",")),
        }
    }

    fn interface(&mut self) -> &'static str {
        self.rng.weighted(&[
            (3, "\"lan0\""),
            (2, "\"lan1\""),
            (3, "\"wan0\""),
            (4, "\"lan*\""),
            (1, "\"wan*\""),
            (1, "\"eth*\""),
        ])
    }

    fn iface_match(&mut self, key: &str) -> String {
        match self.rng.below(10) {
            0 | 1 => {
                let mut names = vec!["\"lan0\"", "\"lan1\"", "\"wan0\"", "\"lan*\""];
                names.remove(self.rng.below(names.len()));
                names.truncate(2);
                format!(
                    "{key} {}{{ {} }}",
                    if self.rng.percent(20) { "!= " } else { "" },
                    names.join(", ")
                )
            }
            2 => {
                // By index: the interface exists when the ruleset loads.
                let short = if key == "iifname" { "iif" } else { "oif" };
                format!(
                    "{short} {}\"{}\"",
                    if self.rng.percent(20) { "!= " } else { "" },
                    self.rng.pick(&["lan0", "lan1", "wan0"])
                )
            }
            _ => format!(
                "{key} {}{}",
                if self.rng.percent(25) { "!= " } else { "" },
                self.interface()
            ),
        }
    }

    // ---- values ----

    /// An address or network around the topology's addresses.
    fn net(&mut self, family: Family) -> Addr {
        let n = self.rng.pick(&LINKS).net;
        let host = self.rng.between(1, 3);
        let shape = self.rng.weighted(&[
            (4, 0),
            (3, 1),
            (1, 2),
            (1, 3),
            (1, 4),
            (1, 5),
            (1, 6),
            (1, 7),
        ]);
        addr(match (family, shape) {
            (Family::V4, 0) => format!("10.{n}.0.{host}"),
            (Family::V4, 1) => format!("10.{n}.0.0/24"),
            (Family::V4, 2) => format!("10.{n}.0.2/31"),
            (Family::V4, 3) => format!("10.{n}.0.2-10.{n}.0.3"),
            (Family::V4, 4) => "10.0.0.0/8".into(),
            (Family::V4, 5) => "10.2.0.0/15".into(),
            (Family::V4, 6) => "10.0.0.0/14".into(),
            (Family::V4, _) => "192.168.0.0/16".into(),
            (Family::V6, 0) => format!("fd00:{n}::{host}"),
            (Family::V6, 1) => format!("fd00:{n}::/64"),
            (Family::V6, 2) => format!("fd00:{n}::2/127"),
            (Family::V6, 3) => format!("fd00:{n}::2-fd00:{n}::3"),
            (Family::V6, 4) => "fd00::/16".into(),
            (Family::V6, 5) => "fd00:2::/31".into(),
            (Family::V6, 6) => "fd00::/30".into(),
            (Family::V6, _) => "2001:db8::/32".into(),
        })
    }

    /// Up to `n` addresses that do not overlap (nft refuses overlapping
    /// intervals in one set).
    fn addr_items(&mut self, family: Family, n: usize) -> Vec<Addr> {
        let mut items: Vec<Addr> = Vec::new();
        for _ in 0..n * 3 {
            if items.len() == n {
                break;
            }
            let a = self.net(family);
            if items.iter().all(|b| !overlaps((a.lo, a.hi), (b.lo, b.hi))) {
                items.push(a);
            }
        }
        items
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

    /// Up to `n` ports and ranges that do not overlap.
    fn port_items(&mut self, n: usize) -> Vec<String> {
        let mut items: Vec<(u16, u16)> = Vec::new();
        for _ in 0..n * 3 {
            if items.len() == n {
                break;
            }
            let r = if self.rng.percent(25) {
                self.port_range()
            } else {
                let p = self.port();
                (p, p)
            };
            if items
                .iter()
                .all(|b| !overlaps((r.0 as u128, r.1 as u128), (b.0 as u128, b.1 as u128)))
            {
                items.push(r);
            }
        }
        items
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect()
    }

    /// `ADDR . PORT` elements that do not overlap.
    fn concat_items(&mut self, family: Family, n: usize) -> Vec<String> {
        let mut items: Vec<(Addr, (u16, u16), String)> = Vec::new();
        for _ in 0..n * 3 {
            if items.len() == n {
                break;
            }
            let a = self.net(family);
            let r = if self.rng.percent(25) {
                self.port_range()
            } else {
                let p = self.port();
                (p, p)
            };
            let clash = items.iter().any(|(b, s, _)| {
                overlaps((a.lo, a.hi), (b.lo, b.hi))
                    && overlaps((r.0 as u128, r.1 as u128), (s.0 as u128, s.1 as u128))
            });
            if !clash {
                let port = if r.0 == r.1 {
                    r.0.to_string()
                } else {
                    format!("{}-{}", r.0, r.1)
                };
                let text = format!("{} . {port}", a.text);
                items.push((a, r, text));
            }
        }
        items.into_iter().map(|(_, _, t)| t).collect()
    }

    /// A port match for `proto` in one of nft's forms, and the protocols it allows.
    fn ports(&mut self, proto: &'static str, t: &TableCtx) -> (String, L4) {
        let field = if self.rng.percent(78) {
            "dport"
        } else {
            "sport"
        };
        let neg = if self.rng.percent(15) { "!= " } else { "" };
        let has_set = t.sets.iter().any(|s| s.kind == SetKind::Ports);
        let text = match self.rng.below(100) {
            0..35 => format!("{proto} {field} {neg}{}", self.port()),
            35..47 => {
                let (a, b) = self.port_range();
                format!("{proto} {field} {neg}{a}-{b}")
            }
            47..75 => {
                let items = {
                    let n = self.rng.between(2, 4) as usize;
                    self.port_items(n)
                };
                format!("{proto} {field} {neg}{{ {} }}", items.join(", "))
            }
            75..85 => {
                let p = self.port();
                let op = self.rng.pick(&["<", "<=", ">", ">="]);
                format!("{proto} {field} {op} {p}")
            }
            85..93 if has_set => format!("{proto} {field} {neg}@ports"),
            _ => {
                // `th` needs the protocol said first: alone it reads the
                // bytes of any transport header, ICMP's included.
                let items = self.port_items(2);
                return (
                    format!(
                        "meta l4proto {{ tcp, udp }} th {field} {{ {} }}",
                        items.join(", ")
                    ),
                    L4::Both,
                );
            }
        };
        (text, L4::Proto(proto))
    }

    fn addr_match(&mut self, t: &TableCtx, family: Family, field: &str) -> String {
        let neg = if self.rng.percent(18) { "!= " } else { "" };
        let set = t
            .sets
            .iter()
            .find(|s| s.kind == SetKind::Addr(family))
            .map(|s| s.name.clone());
        let define = self
            .defines
            .iter()
            .find(|d| d.family == family)
            .map(|d| d.name.clone());
        match self.rng.below(10) {
            0 | 1 => {
                let items = {
                    let n = self.rng.between(2, 3) as usize;
                    self.addr_items(family, n)
                };
                format!("{} {field} {neg}{{ {} }}", sel(family), join(&items))
            }
            2 if set.is_some() => {
                format!("{} {field} {neg}@{}", sel(family), set.unwrap_or_default())
            }
            3 if define.is_some() => format!(
                "{} {field} {neg}${}",
                sel(family),
                define.unwrap_or_default()
            ),
            _ => format!("{} {field} {neg}{}", sel(family), self.net(family).text),
        }
    }

    fn concat_match(&mut self, t: &TableCtx, family: Family, proto: &str) -> String {
        let set = t
            .sets
            .iter()
            .find(|s| s.kind == SetKind::AddrPort(family))
            .map(|s| s.name.clone());
        match set {
            Some(name) if self.rng.percent(50) => {
                format!("{} saddr . {proto} dport @{name}", sel(family))
            }
            _ => {
                let elems = {
                    let n = self.rng.between(1, 3) as usize;
                    self.concat_items(family, n)
                };
                let field = self.rng.pick(&["saddr", "daddr"]);
                format!(
                    "{} {field} . {proto} dport {{ {} }}",
                    sel(family),
                    elems.join(", ")
                )
            }
        }
    }

    // ---- probes ----

    fn probes(&mut self, count: usize) -> (Vec<Probe>, Vec<usize>) {
        let family = self.family;
        let edges: Vec<u16> = self.edges.iter().copied().collect();
        let mut probes = Vec::with_capacity(count);
        let mut nat_probes = Vec::new();
        for index in 0..count {
            let proto = if self.rng.percent(55) {
                Proto::Tcp
            } else {
                Proto::Udp
            };
            // Some probes aim at what the NAT rules rewrite.
            if !self.nat_ports.is_empty() && self.rng.percent(15) {
                let (port, iif) = self.rng.pick(&self.nat_ports);
                let link = match iif {
                    Some(name) => LINKS
                        .into_iter()
                        .find(|l| l.fw_if == name)
                        .unwrap_or(LINKS[2]),
                    None => self.rng.pick(&LINKS),
                };
                let dst = if self.rng.percent(70) {
                    link.fw_addr(family)
                } else {
                    other_link(&mut self.rng, link).fw_addr(family)
                };
                let src = self.rng.pick(&link.peer_addrs(family));
                probes.push(Probe {
                    id: format!("p{index}"),
                    kind: Kind::In,
                    family,
                    proto,
                    src,
                    dst,
                    sport: 0,
                    dport: port,
                    iif: Some(link.fw_if),
                    oif: None,
                    from: link.peer,
                    to: Host::Firewall,
                });
                nat_probes.push(index);
                continue;
            }
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
        // Besides the probes' own ports, NAT's listeners are taken too.
        let pool = &self.pool;
        source_ports(
            &mut self.rng,
            &mut probes,
            self.listeners.iter().copied(),
            |rng| probe_port(rng, &edges, pool),
        );
        (probes, nat_probes)
    }
}

fn other_family(f: Family) -> Family {
    match f {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}

/// The payload protocol of a family's addresses.
fn sel(f: Family) -> &'static str {
    match f {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    }
}

fn join(items: &[Addr]) -> String {
    items
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn prio_suffix(prio: i32) -> String {
    if prio < 0 {
        format!("m{}", -prio)
    } else {
        prio.to_string()
    }
}

/// A priority as a number or as nft's name for it, plus or minus.
fn prio_text(rng: &mut Rng, prio: i32) -> String {
    let named = [
        ("raw", -300),
        ("mangle", -150),
        ("filter", 0),
        ("security", 50),
    ];
    if rng.percent(40)
        && let Some((name, base)) = named.iter().find(|(_, b)| (prio - b).abs() <= 20)
    {
        let off = prio - base;
        return match off {
            0 => name.to_string(),
            o if o > 0 => format!("{name} + {o}"),
            o => format!("{name} - {}", -o),
        };
    }
    prio.to_string()
}
