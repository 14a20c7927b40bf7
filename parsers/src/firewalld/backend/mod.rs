//! The nft ruleset firewalld 1.3's nftables backend programs for a
//! configuration, as nft text, with the origin of every line.
//!
//! This follows `src/firewall/core/nftables.py`, `fw_zone.py` and
//! `fw_policy.py` of firewalld 1.3: the base chains and dispatch chains of
//! `build_default_rules`; each zone split into the policies
//! `zone_<z>_HOST` (filter input), `zone_<z>_ANY` (filter forward, nat and
//! mangle prerouting) and `zone_ANY_<z>` (nat postrouting); each policy's
//! chain with its `_pre`, `_log`, `_deny`, `_allow` and `_post` sub-chains
//! and its target; zone dispatch with source bindings first (ordered by
//! zone name), then interfaces, then the default zone's catch-all; rule
//! order by rich-rule and policy priority; and firewalld's removal of
//! duplicate rules.

mod elements;
mod policies;
mod rich;
mod zones;

use super::config::*;
use crate::model::{PortRange, Span};
use std::collections::{BTreeMap, HashSet};

/// Where a generated line came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum At {
    /// firewalld's own wiring: the step of the backend that wrote it.
    Step(&'static str),
    /// An element of a configuration file (or of the stock table).
    Config(Span),
}

/// A generated rule whose result the files cannot decide: its address
/// match (source or destination side) is replaced by an unknown match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unknown {
    pub text: String,
    /// Which address match the unknown replaces; `None` adds it.
    pub side: Option<Side>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Side {
    Source,
    Destination,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Origin {
    pub at: At,
    pub unknown: Option<Unknown>,
}

struct Rule {
    text: String,
    origin: Origin,
    /// Rich-rule or policy priority, for chains ordered by it.
    priority: Option<i32>,
}

struct Chain {
    name: String,
    /// The chain of a zone only the host can bind (see `runtime_only`):
    /// evaluated, but not part of what firewalld programs from the files.
    runtime_only: bool,
    /// `type filter hook input priority 10; policy accept;` for a base chain.
    base: Option<String>,
    at: At,
    rules: Vec<Rule>,
}

/// The configuration, resolved: every object by name.
pub(crate) struct Config<'a> {
    pub zones: &'a BTreeMap<String, Zone>,
    pub policies: &'a BTreeMap<String, Policy>,
    pub services: &'a BTreeMap<String, Service>,
    pub ipsets: &'a BTreeMap<String, Ipset>,
    pub default_zone: &'a str,
    pub ipv6_rpfilter: bool,
    pub rfc3964_ipv4: bool,
}

/// The generated ruleset: nft text, the origin of each line (index 0 is
/// line 1), and dispatch rules the host decides at run time.
pub(crate) struct Generated {
    /// What is read: [`Generated::programmed`] and the chains of zones
    /// only the host can bind.
    pub text: String,
    /// What firewalld programs from the files, as `nft list` prints it.
    pub programmed: String,
    pub lines: Vec<Option<Origin>>,
    /// Zones the files bind to nothing but which the host may bind
    /// interfaces to at run time: (dispatch chain, target chain, zone span,
    /// what).
    pub runtime_dispatch: Vec<(String, String, Span, String)>,
}

pub(crate) const TABLE: &str = "firewalld";

pub(crate) fn generate(cfg: &Config) -> Generated {
    let mut g = Gen {
        chains: Vec::new(),
        seen: HashSet::new(),
        runtime_dispatch: Vec::new(),
        runtime_only: false,
    };
    g.default_rules(cfg);
    g.zones(cfg);
    g.policies(cfg);
    g.render(cfg)
}

struct Gen {
    chains: Vec<Chain>,
    /// (chain, text, priority) of every rule added: firewalld adds a rule
    /// already present only once (its rule reference count).
    seen: HashSet<(String, String, Option<i32>)>,
    runtime_dispatch: Vec<(String, String, Span, String)>,
    /// Set while the chains of a run-time-only zone are made.
    runtime_only: bool,
}

const STEP_BASE: &str = "base chains";
const STEP_ZONE_CHAINS: &str = "zone chains";
const STEP_POLICY_CHAINS: &str = "policy chains";
const STEP_RPFILTER: &str = "IPv6 reverse-path filter";
const STEP_DEFAULT_ZONE: &str = "default zone catch-all";
const STEP_ICMP: &str = "zone ICMP rule";
const STEP_RFC3964: &str = "RFC3964_IPv4";

/// `build_rfc3964_ipv4_rules`: IPv6 to 6to4 addresses that stand for IPv4
/// space no host should reach that way.
const RFC3964: &str = "ip6 daddr { ::/96, ::ffff:0.0.0.0/96, 2002::/24, 2002:a00::/24, \
                       2002:7f00::/24, 2002:a9fe::/32, 2002:ac10::/28, 2002:c0a8::/32, \
                       2002:e000::/19 } reject with icmpv6 addr-unreachable";

/// nftables.py's `_reject_fragment`: the reject of targets and ICMP blocks.
const REJECT: &str = "reject with icmpx admin-prohibited";

impl Gen {
    fn chain(&mut self, name: &str, base: Option<String>, at: At) {
        if !self.chains.iter().any(|c| c.name == name) {
            self.chains.push(Chain {
                name: name.to_string(),
                runtime_only: self.runtime_only,
                base,
                at,
                rules: Vec::new(),
            });
        }
    }

    fn step(&mut self, chain: &str, text: &str, step: &'static str) {
        self.add(chain, text.to_string(), At::Step(step), None, None);
    }

    /// Appends a rule; with a priority, after every rule of lower or equal
    /// priority (`_set_rule_replace_priority`'s "add").
    fn add(
        &mut self,
        chain: &str,
        text: String,
        at: At,
        unknown: Option<Unknown>,
        priority: Option<i32>,
    ) {
        if !self
            .seen
            .insert((chain.to_string(), text.clone(), priority))
        {
            return;
        }
        let Some(c) = self.chains.iter_mut().find(|c| c.name == chain) else {
            return;
        };
        let rule = Rule {
            text,
            origin: Origin { at, unknown },
            priority,
        };
        match priority {
            Some(p) => {
                let index = c
                    .rules
                    .iter()
                    .take_while(|r| r.priority.is_none_or(|q| q <= p))
                    .count();
                c.rules.insert(index, rule);
            }
            None => c.rules.push(rule),
        }
    }

    /// `build_default_rules`: the base chains and what they do before any
    /// zone.
    fn default_rules(&mut self, cfg: &Config) {
        let s = At::Step(STEP_BASE);
        for (chain, hook) in [(
            "mangle_PREROUTING",
            "type filter hook prerouting priority mangle + 10; policy accept;",
        )] {
            self.chain(chain, Some(hook.to_string()), s.clone());
            for d in ["POLICIES_pre", "ZONES", "POLICIES_post"] {
                self.chain(&format!("{chain}_{d}"), None, s.clone());
            }
            self.step(chain, &format!("jump {chain}_ZONES"), STEP_BASE);
        }
        for (chain, hook) in [
            (
                "nat_PREROUTING",
                "type nat hook prerouting priority dstnat + 10; policy accept;",
            ),
            (
                "nat_POSTROUTING",
                "type nat hook postrouting priority srcnat + 10; policy accept;",
            ),
        ] {
            self.chain(chain, Some(hook.to_string()), s.clone());
            for d in ["POLICIES_pre", "ZONES", "POLICIES_post"] {
                self.chain(&format!("{chain}_{d}"), None, s.clone());
            }
            self.step(chain, &format!("jump {chain}_ZONES"), STEP_BASE);
        }
        self.chain(
            "nat_OUTPUT",
            Some("type nat hook output priority -90; policy accept;".to_string()),
            s.clone(),
        );
        for d in ["POLICIES_pre", "POLICIES_post"] {
            self.chain(&format!("nat_OUTPUT_{d}"), None, s.clone());
            self.step("nat_OUTPUT", &format!("jump nat_OUTPUT_{d}"), STEP_BASE);
        }
        for (chain, hook) in [
            ("filter_PREROUTING", "prerouting"),
            ("filter_INPUT", "input"),
            ("filter_FORWARD", "forward"),
            ("filter_OUTPUT", "output"),
        ] {
            self.chain(
                chain,
                Some(format!(
                    "type filter hook {hook} priority filter + 10; policy accept;"
                )),
                s.clone(),
            );
        }
        for chain in ["filter_INPUT", "filter_FORWARD"] {
            self.step(chain, "ct state { established, related } accept", STEP_BASE);
            self.step(chain, "ct status dnat accept", STEP_BASE);
            self.step(chain, "iifname \"lo\" accept", STEP_BASE);
            self.step(chain, "ct state invalid drop", STEP_BASE);
            // Added after the default rules at index 3 of forward.
            if chain == "filter_FORWARD" && cfg.rfc3964_ipv4 {
                self.step(chain, RFC3964, STEP_RFC3964);
            }
            for d in ["POLICIES_pre", "ZONES", "POLICIES_post"] {
                self.chain(&format!("{chain}_{d}"), None, s.clone());
            }
            self.step(chain, &format!("jump {chain}_ZONES"), STEP_BASE);
            self.step(chain, REJECT, STEP_BASE);
        }
        self.step(
            "filter_OUTPUT",
            "ct state { established, related } accept",
            STEP_BASE,
        );
        self.step("filter_OUTPUT", "oifname \"lo\" accept", STEP_BASE);
        if cfg.rfc3964_ipv4 {
            self.step("filter_OUTPUT", RFC3964, STEP_RFC3964);
        }
        for d in ["POLICIES_pre", "POLICIES_post"] {
            self.chain(&format!("filter_OUTPUT_{d}"), None, s.clone());
            self.step(
                "filter_OUTPUT",
                &format!("jump filter_OUTPUT_{d}"),
                STEP_BASE,
            );
        }
        if cfg.ipv6_rpfilter {
            // Both are inserted at the top, the accept last (build_rpfilter_rules).
            self.step(
                "filter_PREROUTING",
                "icmpv6 type { nd-router-advert, nd-neighbor-solicit } accept",
                STEP_RPFILTER,
            );
            self.step(
                "filter_PREROUTING",
                "meta nfproto ipv6 fib saddr . mark . iif oif missing drop",
                STEP_RPFILTER,
            );
        }
    }

    /// `build_policy_chain_rules`: the chain, its five sub-chains, the
    /// jumps (with the policy dispatch around them for a zone), the target.
    fn policy_chain(
        &mut self,
        name: &str,
        zone_of: Option<&str>,
        target: Option<(&str, Span)>,
        step: &'static str,
    ) {
        let at = At::Step(step);
        self.chain(name, None, at.clone());
        for s in ["pre", "log", "deny", "allow", "post"] {
            self.chain(&format!("{name}_{s}"), None, at.clone());
        }
        if let Some(base) = zone_of {
            self.step(name, &format!("jump {base}_POLICIES_pre"), step);
        }
        for s in ["pre", "log", "deny", "allow", "post"] {
            self.step(name, &format!("jump {name}_{s}"), step);
        }
        if let Some(base) = zone_of {
            self.step(name, &format!("jump {base}_POLICIES_post"), step);
        }
        // The target is the zone's or policy's own setting (`target=`,
        // `default` when absent): a verdict it decides names that element.
        if let Some((t, origin)) = target {
            self.add(name, t.to_string(), At::Config(origin), None, None);
        }
    }

    fn render(self, cfg: &Config) -> Generated {
        let mut text = String::new();
        let mut lines: Vec<Option<Origin>> = Vec::new();
        let mut push = |text: &mut String, line: String, origin: Option<Origin>| {
            text.push_str(&line);
            text.push('\n');
            lines.push(origin);
        };
        let step = |s: &'static str| {
            Some(Origin {
                at: At::Step(s),
                unknown: None,
            })
        };
        push(&mut text, format!("table inet {TABLE} {{"), step(STEP_BASE));
        for set in cfg.ipsets.values() {
            let at = Some(Origin {
                at: At::Config(set.span),
                unknown: None,
            });
            push(&mut text, format!("\tset {} {{", set.name), at.clone());
            let ty = match set.kind.as_str() {
                "hash:mac" => "ether_addr",
                _ if set.ipv6 => "ipv6_addr",
                _ => "ipv4_addr",
            };
            push(&mut text, format!("\t\ttype {ty}"), at.clone());
            // build_set_create_rules: an ip, net or port dimension needs
            // the interval flag.
            if set.kind != "hash:mac" {
                push(&mut text, "\t\tflags interval".to_string(), at.clone());
            }
            let entries: Vec<&str> =
                if matches!(set.kind.as_str(), "hash:ip" | "hash:net" | "hash:mac") {
                    set.entries.iter().map(|e| e.value.as_str()).collect()
                } else {
                    Vec::new()
                };
            if !entries.is_empty() {
                push(
                    &mut text,
                    format!("\t\telements = {{ {} }}", entries.join(", ")),
                    at.clone(),
                );
            }
            push(&mut text, "\t}".to_string(), at);
        }
        // What is programmed is the text without run-time-only chains: the
        // same lines up to the first of them.
        let mut programmed_cut: Vec<(usize, usize)> = Vec::new();
        for c in &self.chains {
            let at = Some(Origin {
                at: c.at.clone(),
                unknown: None,
            });
            let start = text.len();
            push(&mut text, format!("\tchain {} {{", c.name), at.clone());
            if let Some(b) = &c.base {
                push(&mut text, format!("\t\t{b}"), at.clone());
            }
            for r in &c.rules {
                push(&mut text, format!("\t\t{}", r.text), Some(r.origin.clone()));
            }
            push(&mut text, "\t}".to_string(), at);
            if c.runtime_only {
                programmed_cut.push((start, text.len()));
            }
        }
        push(&mut text, "}".to_string(), step(STEP_BASE));
        let mut programmed = String::with_capacity(text.len());
        let mut from = 0;
        for (start, end) in programmed_cut {
            programmed.push_str(text.get(from..start).unwrap_or(""));
            from = end;
        }
        programmed.push_str(text.get(from..).unwrap_or(""));
        Generated {
            text,
            programmed,
            lines,
            runtime_dispatch: self.runtime_dispatch,
        }
    }
}

#[derive(Clone)]
struct Names {
    filter: String,
    nat_pre: String,
    nat_post: String,
    mangle: String,
}

fn ip_word(n: &ipnet::IpNet) -> &'static str {
    match n {
        ipnet::IpNet::V4(_) => "ip",
        ipnet::IpNet::V6(_) => "ip6",
    }
}

/// nft drops `meta nfproto` from a rule where a later match implies the
/// family (`ip saddr`, `icmpv6 type`); so does the text, to read as
/// `nft list` prints it.
fn elide_family(parts: &mut Vec<String>, family: Option<RichFamily>) {
    let Some(f) = family else { return };
    let implied = parts.iter().skip(1).any(|p| match f {
        RichFamily::Ipv4 => p.starts_with("ip ") || p.starts_with("icmp "),
        RichFamily::Ipv6 => p.starts_with("ip6 ") || p.starts_with("icmpv6 "),
    });
    if implied && parts.first().is_some_and(|p| p.starts_with("meta nfproto")) {
        parts.remove(0);
    }
}

/// An address as nft prints it: a host without its prefix length.
fn net_text(n: &ipnet::IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

fn range(r: PortRange) -> String {
    if r.start == r.end {
        r.start.to_string()
    } else {
        format!("{}-{}", r.start, r.end)
    }
}

/// An interface name as nft writes it: a trailing `+` becomes `*`.
fn ifname(name: &str) -> String {
    match name.strip_suffix('+') {
        Some(prefix) => format!("\"{prefix}*\""),
        None => format!("\"{name}\""),
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace(['"', '\\', '\n'], ""))
}

fn limit(limit: Option<&str>) -> String {
    let Some((n, unit)) = limit.and_then(|l| l.split_once('/')) else {
        return String::new();
    };
    let unit = match unit.chars().next() {
        Some('s') => "second",
        Some('m') => "minute",
        Some('h') => "hour",
        _ => "day",
    };
    format!("limit rate {n}/{unit} ")
}

fn nat_target(fp: &ForwardPort) -> String {
    match (fp.to_addr, fp.to_port) {
        (Some(std::net::IpAddr::V4(a)), Some(p)) => format!("dnat ip to {a}:{}", range(p)),
        (Some(std::net::IpAddr::V4(a)), None) => format!("dnat ip to {a}"),
        (Some(std::net::IpAddr::V6(a)), Some(p)) => format!("dnat ip6 to [{a}]:{}", range(p)),
        (Some(std::net::IpAddr::V6(a)), None) => format!("dnat ip6 to {a}"),
        (None, Some(p)) => format!("redirect to :{}", range(p)),
        (None, None) => "accept".to_string(),
    }
}

/// `_reject_types_fragment`.
fn reject_with(t: &str) -> String {
    let (kind, what) = match t {
        "icmp-host-prohibited" | "host-prohib" => ("icmp", "host-prohibited"),
        "icmp-net-prohibited" | "net-prohib" => ("icmp", "net-prohibited"),
        "icmp-admin-prohibited" | "admin-prohib" => ("icmp", "admin-prohibited"),
        "icmp6-adm-prohibited" | "adm-prohibited" => ("icmpv6", "admin-prohibited"),
        "icmp-net-unreachable" | "net-unreach" => ("icmp", "net-unreachable"),
        "icmp-host-unreachable" | "host-unreach" => ("icmp", "host-unreachable"),
        "icmp-port-unreachable" => ("icmp", "port-unreachable"),
        "icmp6-port-unreachable" => ("icmpv6", "port-unreachable"),
        "port-unreach" => ("icmpx", "port-unreachable"),
        "icmp-proto-unreachable" | "proto-unreach" => ("icmp", "prot-unreachable"),
        "icmp6-addr-unreachable" | "addr-unreach" => ("icmpv6", "addr-unreachable"),
        "icmp6-no-route" | "no-route" => ("icmpv6", "no-route"),
        _ => return "reject with tcp reset".to_string(),
    };
    format!("reject with {kind} {what}")
}

/// `meta mark set`: a value, or VALUE/MASK (`(mark & MASK) ^ VALUE`).
fn mark(set: &str) -> String {
    match set.split_once('/') {
        Some((v, m)) => format!("meta mark set meta mark & {m} ^ {v}"),
        None => format!("meta mark set {set}"),
    }
}
