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

use super::config::*;
use super::icmp;
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

    /// `apply_zones` then `change_default_zone`: the zones with bindings,
    /// by name, then the default zone and its catch-all.
    fn zones(&mut self, cfg: &Config) {
        let mut applied: Vec<&Zone> = cfg
            .zones
            .values()
            .filter(|z| !z.interfaces.is_empty() || !z.sources.is_empty())
            .collect();
        let default = cfg.zones.get(cfg.default_zone);
        if let Some(d) = default
            && !applied.iter().any(|z| z.name == d.name)
        {
            applied.push(d);
        }
        for z in &applied {
            self.zone_chains(cfg, z);
        }
        // A user's zone bound to nothing in the files gets its chains too:
        // the host may bind interfaces to it at run time (see below), and
        // nothing reaches them otherwise.
        self.runtime_only = true;
        for z in cfg.zones.values() {
            if runtime_only(cfg, z) {
                self.zone_chains(cfg, z);
            }
        }
        self.runtime_only = false;
        // Dispatch: sources (zones by name), then interfaces (the last
        // bound first: each is inserted after the sources), then the
        // default zone's catch-all, appended.
        let dispatch = zone_dispatch_chains();
        let mut by_name: Vec<&&Zone> = applied.iter().collect();
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        for z in &by_name {
            for source in &z.sources {
                for (chain, prefix, is_post) in dispatch {
                    let side = if is_post { "daddr" } else { "saddr" };
                    let (m, unknown) = self.addr_match(cfg, &source.value, side, false);
                    self.add(
                        chain,
                        format!("{m} goto {prefix}_{}", z.name),
                        At::Config(source.span),
                        unknown,
                        None,
                    );
                }
            }
        }
        let mut interfaces: Vec<(&Zone, &Item<String>)> = Vec::new();
        for z in &applied {
            if !z.interfaces.is_empty() || !z.sources.is_empty() {
                interfaces.extend(z.interfaces.iter().map(|i| (*z, i)));
            }
        }
        for (z, i) in interfaces.iter().rev() {
            for (chain, prefix, is_post) in dispatch {
                let dir = if is_post { "oifname" } else { "iifname" };
                self.add(
                    chain,
                    format!("{dir} {} goto {prefix}_{}", ifname(&i.value), z.name),
                    At::Config(i.span),
                    None,
                    None,
                );
            }
        }
        // Zones a user defined and bound to nothing in the files: at run
        // time NetworkManager or firewall-cmd may bind interfaces to them.
        for z in cfg.zones.values() {
            if runtime_only(cfg, z) {
                for (chain, prefix, _) in dispatch {
                    self.runtime_dispatch.push((
                        chain.to_string(),
                        format!("{prefix}_{}", z.name),
                        z.span,
                        format!(
                            "interfaces bound to zone {} at run time (NetworkManager, firewall-cmd): none in the files",
                            z.name
                        ),
                    ));
                }
            }
        }
        if let Some(d) = default {
            for (chain, prefix, _) in dispatch {
                self.add(
                    chain,
                    format!("goto {prefix}_{}", d.name),
                    At::Step(STEP_DEFAULT_ZONE),
                    None,
                    None,
                );
            }
            // The forward rules of the zones' interfaces (not the catch-all).
        }
    }

    /// The chains of one zone's three policies and its rules.
    fn zone_chains(&mut self, cfg: &Config, z: &Zone) {
        let target = match z.target {
            ZoneTarget::Default | ZoneTarget::Reject => Some(REJECT),
            ZoneTarget::Accept => Some("accept"),
            ZoneTarget::Drop => Some("drop"),
        };
        // zone_<z>_HOST: filter input.
        let input = format!("filter_IN_{}", z.name);
        let target_at = target.map(|t| (t, z.span));
        self.policy_chain(&input, Some("filter_INPUT"), target_at, STEP_ZONE_CHAINS);
        // zone_ANY_<z>: nat postrouting.
        let post = format!("nat_POST_{}", z.name);
        self.policy_chain(&post, Some("nat_POSTROUTING"), None, STEP_ZONE_CHAINS);
        // zone_<z>_ANY: filter forward, nat and mangle prerouting.
        let fwd = format!("filter_FWD_{}", z.name);
        self.policy_chain(&fwd, Some("filter_FORWARD"), target_at, STEP_ZONE_CHAINS);
        let pre = format!("nat_PRE_{}", z.name);
        self.policy_chain(&pre, Some("nat_PREROUTING"), None, STEP_ZONE_CHAINS);
        let mangle = format!("mangle_PRE_{}", z.name);
        self.policy_chain(&mangle, Some("mangle_PREROUTING"), None, STEP_ZONE_CHAINS);

        let el = &z.elements;
        // zone --> HOST: services, ports, source ports, icmp blocks,
        // protocols and the rich rules of those kinds.
        let names = Names {
            filter: input.clone(),
            nat_pre: pre.clone(),
            nat_post: post.clone(),
            mangle: mangle.clone(),
        };
        self.services(cfg, &input, el);
        self.ports(&input, el);
        // zone_ANY_<z>: masquerade.
        if let Some(span) = el.masquerade {
            self.masquerade(&post, span);
        }
        // zone_<z>_ANY: forward ports.
        for fp in &el.forward_ports {
            self.forward_port(&pre, fp);
        }
        self.source_ports(&input, el);
        self.icmp_blocks(&input, el);
        for r in &el.rules {
            let filter = match (&r.action, &r.element) {
                (Some(RichAction::Mark(_)), _) => &fwd,
                (_, Some(RichElement::ForwardPort(_)) | Some(RichElement::TcpMssClamp)) => &fwd,
                (_, Some(RichElement::Masquerade)) => &fwd,
                _ => &input,
            };
            let names = Names {
                filter: filter.clone(),
                ..names.clone()
            };
            self.rich(cfg, &names, r);
        }
        self.protocols(&input, el);
        // Intra-zone forwarding (`<forward/>`), for the zone's own
        // interfaces and sources, never the catch-all.
        if z.forward {
            for i in &z.interfaces {
                self.add(
                    &format!("{fwd}_allow"),
                    format!("oifname {} accept", ifname(&i.value)),
                    At::Config(i.span),
                    None,
                    None,
                );
            }
            for s in &z.sources {
                let (m, unknown) = self.addr_match(cfg, &s.value, "daddr", false);
                self.add(
                    &format!("{fwd}_allow"),
                    format!("{m} accept"),
                    At::Config(s.span),
                    unknown,
                    None,
                );
            }
        }
        // ICMP: `default` accepts it on input, icmp-block-inversion rejects
        // it (`_icmp_block_inversion`, not for DROP/REJECT targets, nor for
        // ACCEPT without inversion).
        let icmp = match (z.target, el.icmp_block_inversion) {
            (ZoneTarget::Drop | ZoneTarget::Reject, _) => None,
            (ZoneTarget::Accept, false) => None,
            (_, false) => Some("meta l4proto { icmp, ipv6-icmp } accept"),
            (_, true) => {
                Some("meta l4proto { icmp, ipv6-icmp } reject with icmpx admin-prohibited")
            }
        };
        if let Some(rule) = icmp {
            // Before the target, after the post-policy jump (index 6).
            let at = if el.icmp_block_inversion {
                At::Config(z.span)
            } else {
                At::Step(STEP_ICMP)
            };
            if let Some(c) = self.chains.iter_mut().find(|c| c.name == input) {
                let index = c.rules.len().saturating_sub(usize::from(target.is_some()));
                c.rules.insert(
                    index,
                    Rule {
                        text: rule.to_string(),
                        origin: Origin { at, unknown: None },
                        priority: None,
                    },
                );
            }
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

    fn services(&mut self, cfg: &Config, chain: &str, el: &Elements) {
        for s in &el.services {
            let mut seen = vec![s.value.clone()];
            self.service(cfg, chain, &s.value, s.span, &mut seen);
        }
    }

    /// `_service`: included services first, then ports, protocols and
    /// source ports, per destination family.
    fn service(
        &mut self,
        cfg: &Config,
        chain: &str,
        name: &str,
        span: Span,
        seen: &mut Vec<String>,
    ) {
        let Some(svc) = cfg.services.get(name) else {
            return;
        };
        for inc in &svc.includes {
            if !seen.contains(&inc.value) {
                seen.push(inc.value.clone());
                self.service(cfg, chain, &inc.value, span, seen);
            }
        }
        for dest in destinations(svc) {
            let d = dest
                .map(|n| format!("{} daddr {} ", ip_word(&n), net_text(&n)))
                .unwrap_or_default();
            for p in &svc.ports {
                self.add(
                    &format!("{chain}_allow"),
                    format!(
                        "{d}{} dport {} accept",
                        p.value.proto.name(),
                        range(p.value.range)
                    ),
                    At::Config(span),
                    None,
                    None,
                );
            }
            for p in &svc.protocols {
                self.add(
                    &format!("{chain}_allow"),
                    format!("{d}meta l4proto {} accept", p.value),
                    At::Config(span),
                    None,
                    None,
                );
            }
            for p in &svc.source_ports {
                self.add(
                    &format!("{chain}_allow"),
                    format!(
                        "{d}{} sport {} accept",
                        p.value.proto.name(),
                        range(p.value.range)
                    ),
                    At::Config(span),
                    None,
                    None,
                );
            }
        }
    }

    fn ports(&mut self, chain: &str, el: &Elements) {
        for p in &el.ports {
            self.add(
                &format!("{chain}_allow"),
                format!(
                    "{} dport {} accept",
                    p.value.proto.name(),
                    range(p.value.range)
                ),
                At::Config(p.span),
                None,
                None,
            );
        }
    }

    fn protocols(&mut self, chain: &str, el: &Elements) {
        for p in &el.protocols {
            self.add(
                &format!("{chain}_allow"),
                format!("meta l4proto {} accept", p.value),
                At::Config(p.span),
                None,
                None,
            );
        }
    }

    fn source_ports(&mut self, chain: &str, el: &Elements) {
        for p in &el.source_ports {
            self.add(
                &format!("{chain}_allow"),
                format!(
                    "{} sport {} accept",
                    p.value.proto.name(),
                    range(p.value.range)
                ),
                At::Config(p.span),
                None,
                None,
            );
        }
    }

    /// `build_policy_icmp_block_rules` without a rich rule: reject in
    /// `_deny`, or accept in `_allow` under icmp-block-inversion.
    fn icmp_blocks(&mut self, chain: &str, el: &Elements) {
        for b in &el.icmp_blocks {
            let (v4, v6) = icmp::families(&b.value);
            for (has, is_v6) in [(v4, false), (v6, true)] {
                let Some(m) = has.then(|| icmp::fragment(&b.value, is_v6)).flatten() else {
                    continue;
                };
                let (sub, action) = if el.icmp_block_inversion {
                    ("allow", "accept")
                } else {
                    ("deny", REJECT)
                };
                self.add(
                    &format!("{chain}_{sub}"),
                    format!("{m} {action}"),
                    At::Config(b.span),
                    None,
                    None,
                );
            }
        }
    }

    fn masquerade(&mut self, post: &str, span: Span) {
        self.add(
            &format!("{post}_allow"),
            "meta nfproto ipv4 oifname != \"lo\" masquerade".to_string(),
            At::Config(span),
            None,
            None,
        );
    }

    fn forward_port(&mut self, pre: &str, fp: &Item<ForwardPort>) {
        let v6 = matches!(fp.value.to_addr, Some(std::net::IpAddr::V6(_)));
        let text = format!(
            "meta nfproto {} {} dport {} {}",
            if v6 { "ipv6" } else { "ipv4" },
            fp.value.proto.name(),
            range(fp.value.port),
            nat_target(&fp.value)
        );
        self.add(
            &format!("{pre}_allow"),
            text,
            At::Config(fp.span),
            None,
            None,
        );
    }

    /// A rich rule: its matches, then log, audit and action rules in the
    /// chains its priority and action choose (`_rich_rule_chain_suffix`).
    fn rich(&mut self, cfg: &Config, names: &Names, r: &Rich) {
        let mut base = Vec::new();
        let mut unknown = None;
        if let Some(f) = r.family {
            base.push(format!("meta nfproto {}", f.name()));
        }
        if let Some((addr, invert)) = &r.destination {
            let (m, u) = self.addr_match(cfg, addr, "daddr", *invert);
            base.push(m);
            unknown = unknown.or(u);
        }
        if let Some((addr, invert)) = &r.source {
            let (m, u) = self.addr_match(cfg, addr, "saddr", *invert);
            base.push(m);
            unknown = unknown.or(u);
        }
        let at = At::Config(r.span);
        let prio = (r.priority != 0).then_some(r.priority);
        let suffix = |deny: bool| -> &'static str {
            match r.priority {
                0 if deny => "deny",
                0 => "allow",
                p if p < 0 => "pre",
                _ => "post",
            }
        };
        let log_suffix = match r.priority {
            0 => "log",
            p if p < 0 => "pre",
            _ => "post",
        };
        // The element's own matches; one rule set per match list.
        let mut matches: Vec<String> = Vec::new();
        match &r.element {
            None => matches.push(String::new()),
            Some(RichElement::Service(name)) => {
                let mut names_seen = vec![name.clone()];
                let mut list = Vec::new();
                service_matches(cfg, name, r, &mut names_seen, &mut list);
                matches.extend(list);
            }
            Some(RichElement::Port(p)) => {
                matches.push(format!("{} dport {}", p.proto.name(), range(p.range)))
            }
            Some(RichElement::SourcePort(p)) => {
                matches.push(format!("{} sport {}", p.proto.name(), range(p.range)))
            }
            Some(RichElement::Protocol(p)) => matches.push(format!("meta l4proto {p}")),
            Some(RichElement::IcmpBlock(n)) | Some(RichElement::IcmpType(n)) => {
                let (v4, v6) = icmp::families(n);
                for (has, is_v6, fam) in
                    [(v4, false, RichFamily::Ipv4), (v6, true, RichFamily::Ipv6)]
                {
                    if !has || r.family.is_some_and(|f| f != fam) {
                        continue;
                    }
                    if let Some(m) = icmp::fragment(n, is_v6) {
                        matches.push(m);
                    }
                }
            }
            Some(RichElement::Masquerade) => {
                let mut parts = base.clone();
                parts.push("oifname != \"lo\" masquerade".to_string());
                elide_family(&mut parts, r.family);
                let chain = format!("{}_{}", names.nat_post, suffix(false));
                self.add(&chain, parts.join(" "), at, unknown, prio);
                return;
            }
            Some(RichElement::ForwardPort(fp)) => {
                let mut parts = base.clone();
                parts.push(format!("{} dport {}", fp.proto.name(), range(fp.port)));
                parts.push(nat_target(fp));
                elide_family(&mut parts, r.family);
                let chain = format!("{}_{}", names.nat_pre, suffix(false));
                self.add(&chain, parts.join(" "), at, unknown, prio);
                return;
            }
            Some(RichElement::TcpMssClamp) => {
                // Rewrites the segment size; decides nothing.
                return;
            }
        }
        for m in matches {
            let mut parts = base.clone();
            if !m.is_empty() {
                parts.push(m);
            }
            elide_family(&mut parts, r.family);
            let body = parts.join(" ");
            let join = |tail: &str| {
                if body.is_empty() {
                    tail.to_string()
                } else {
                    format!("{body} {tail}")
                }
            };
            if let Some(log) = &r.log {
                let mut tail = limit(log.limit.as_deref());
                tail += "log";
                if let Some(p) = &log.prefix {
                    tail += &format!(" prefix {}", quote(p));
                }
                if let Some(l) = &log.level {
                    tail += &format!(" level {}", if l == "warning" { "warn" } else { l });
                }
                let chain = format!("{}_{log_suffix}", names.filter);
                self.add(&chain, join(&tail), at.clone(), unknown.clone(), prio);
            }
            if let Some(audit) = &r.audit {
                let tail = format!("{}log level audit", limit(audit.as_deref()));
                let chain = format!("{}_{log_suffix}", names.filter);
                self.add(&chain, join(&tail), at.clone(), unknown.clone(), prio);
            }
            let action = match (&r.action, &r.element) {
                (Some(a), _) => Some(a.clone()),
                // An icmp-block without an action rejects.
                (None, Some(RichElement::IcmpBlock(_))) => Some(RichAction::Reject(None)),
                (None, _) => None,
            };
            let Some(action) = action else { continue };
            let lim = limit(r.action_limit.as_deref());
            let (chain, verdict) = match &action {
                RichAction::Accept => (
                    format!("{}_{}", names.filter, suffix(false)),
                    "accept".to_string(),
                ),
                RichAction::Drop => (
                    format!("{}_{}", names.filter, suffix(true)),
                    "drop".to_string(),
                ),
                RichAction::Reject(t) => {
                    let v = match (&r.element, t) {
                        (Some(RichElement::IcmpBlock(_)), None) if r.action.is_none() => {
                            REJECT.to_string()
                        }
                        (_, None) => "reject".to_string(),
                        (_, Some(t)) => reject_with(t),
                    };
                    (format!("{}_{}", names.filter, suffix(true)), v)
                }
                RichAction::Mark(set) => (format!("{}_{}", names.mangle, suffix(false)), mark(set)),
            };
            self.add(
                &chain,
                join(&format!("{lim}{verdict}")),
                at.clone(),
                unknown.clone(),
                prio,
            );
        }
    }

    /// `_rule_addr_fragment`: an address, network, MAC or ipset match.
    fn addr_match(
        &mut self,
        cfg: &Config,
        addr: &Addr,
        side: &str,
        invert: bool,
    ) -> (String, Option<Unknown>) {
        let op = if invert { "!= " } else { "" };
        let s = if side == "saddr" {
            Side::Source
        } else {
            Side::Destination
        };
        match addr {
            Addr::Net(n) => (format!("{} {side} {op}{}", ip_word(n), net_text(n)), None),
            Addr::Mac(m) => (
                format!("ether {side} {op}{m}"),
                Some(Unknown {
                    text: format!("MAC address {m}"),
                    side: Some(s),
                }),
            ),
            Addr::Ipset(name) => {
                let set = cfg.ipsets.get(name);
                let word = match set {
                    Some(set) if set.kind == "hash:mac" => "ether",
                    Some(set) if set.ipv6 => "ip6",
                    _ => "ip",
                };
                let unknown = match set {
                    Some(set) if set.timeout => Some(format!(
                        "ipset {name}: entries with a timeout come and go at run time"
                    )),
                    Some(set) if set.entries.is_empty() => Some(format!(
                        "ipset {name}: no entries in the files, filled at run time"
                    )),
                    Some(set) if !matches!(set.kind.as_str(), "hash:ip" | "hash:net") => {
                        Some(format!("ipset {name} of type {}: not modelled", set.kind))
                    }
                    Some(_) => None,
                    None => {
                        // Reported as an error; there is no set to name.
                        return (
                            String::new(),
                            Some(Unknown {
                                text: format!("ipset {name} is not defined"),
                                side: None,
                            }),
                        );
                    }
                };
                (
                    format!("{word} {side} {op}@{name}"),
                    unknown.map(|text| Unknown {
                        text,
                        side: Some(s),
                    }),
                )
            }
        }
    }

    /// Active policies, by name (`apply_policies`).
    fn policies(&mut self, cfg: &Config) {
        let bound = |zone: &str| {
            cfg.zones
                .get(zone)
                .is_some_and(|z| !z.interfaces.is_empty() || !z.sources.is_empty())
        };
        for p in cfg.policies.values() {
            let ok = |list: &[Item<String>]| {
                list.iter()
                    .any(|z| z.value == "ANY" || z.value == "HOST" || bound(&z.value))
            };
            if p.disabled.is_some() || !ok(&p.ingress) || !ok(&p.egress) {
                continue;
            }
            self.policy(cfg, p);
        }
    }

    fn policy(&mut self, cfg: &Config, p: &Policy) {
        let has = |list: &[Item<String>], z: &str| list.iter().any(|i| i.value == z);
        let any_in = has(&p.ingress, "ANY");
        let host_in = has(&p.ingress, "HOST");
        let any_out = has(&p.egress, "ANY");
        let host_out = has(&p.egress, "HOST");
        let egress_has_interfaces = p.egress.iter().any(|z| {
            cfg.zones
                .get(&z.value)
                .is_some_and(|z| !z.interfaces.is_empty())
        });
        // _get_table_chains_for_policy_dispatch (nftables backend).
        let tc: Vec<(&str, &str)> = if any_in && host_out {
            vec![
                ("filter", "INPUT"),
                ("nat", "PREROUTING"),
                ("mangle", "PREROUTING"),
            ]
        } else if host_out {
            vec![("filter", "INPUT")]
        } else if host_in {
            vec![("filter", "OUTPUT"), ("nat", "OUTPUT")]
        } else if any_in && any_out {
            vec![
                ("filter", "FORWARD"),
                ("nat", "PREROUTING"),
                ("nat", "POSTROUTING"),
                ("mangle", "PREROUTING"),
            ]
        } else if any_out {
            vec![
                ("filter", "FORWARD"),
                ("nat", "PREROUTING"),
                ("mangle", "PREROUTING"),
                ("nat", "POSTROUTING"),
            ]
        } else {
            let mut v = vec![("filter", "FORWARD"), ("nat", "POSTROUTING")];
            if !egress_has_interfaces {
                v.push(("nat", "PREROUTING"));
                v.push(("mangle", "PREROUTING"));
            }
            v
        };
        let base_name = |table: &str, chain: &str| -> String {
            let short = if host_out {
                if table == "filter" { "IN" } else { "PRE" }
            } else if host_in {
                "OUT"
            } else if table == "nat" && chain == "POSTROUTING" {
                "POST"
            } else if table == "filter" {
                "FWD"
            } else {
                "PRE"
            };
            format!("{table}_{short}_policy_{}", p.name)
        };
        let target = match p.target {
            PolicyTarget::Continue => None,
            PolicyTarget::Accept => Some("accept"),
            PolicyTarget::Drop => Some("drop"),
            PolicyTarget::Reject => Some(REJECT),
        };
        for (table, chain) in &tc {
            let name = base_name(table, chain);
            let t = if *table == "filter" {
                target.map(|t| (t, p.span))
            } else {
                None
            };
            self.policy_chain(&name, None, t, STEP_POLICY_CHAINS);
        }
        // Dispatch rules (build_policy_ingress_egress_rules).
        let zone_frags = |zones: &[Item<String>],
                          dir: &str,
                          side: &str,
                          me: &mut Gen|
         -> Vec<(String, Option<Unknown>, bool)> {
            let mut plain = Vec::new();
            let mut out = Vec::new();
            for z in zones {
                let Some(zone) = cfg.zones.get(&z.value) else {
                    continue;
                };
                for i in &zone.interfaces {
                    if let Some(prefix) = i.value.strip_suffix('+') {
                        out.push((format!("{dir} \"{prefix}*\""), None, false));
                    } else {
                        plain.push(format!("\"{}\"", i.value));
                    }
                }
            }
            // Wildcards first, then the others as one set (nft prints a
            // set of one as its element).
            match plain.len() {
                0 => {}
                1 => out.push((format!("{dir} {}", plain[0]), None, false)),
                _ => out.push((format!("{dir} {{ {} }}", plain.join(", ")), None, false)),
            }
            for z in zones {
                let Some(zone) = cfg.zones.get(&z.value) else {
                    continue;
                };
                for s in &zone.sources {
                    let (m, u) = me.addr_match(cfg, &s.value, side, false);
                    let is_addr = matches!(s.value, Addr::Net(_));
                    out.push((m, u, is_addr));
                }
            }
            out
        };
        let ingress = zone_frags(&p.ingress, "iifname", "saddr", self);
        let egress = zone_frags(&p.egress, "oifname", "daddr", self);
        let sfx = if p.priority < 0 { "pre" } else { "post" };
        for (table, chain) in &tc {
            let target = base_name(table, chain);
            let dispatch = format!("{table}_{chain}_POLICIES_{sfx}");
            let mut rules: Vec<(String, Option<Unknown>)> = Vec::new();
            let pair = |i: Option<&(String, Option<Unknown>, bool)>,
                        e: Option<&(String, Option<Unknown>, bool)>| {
                // An IPv4 source with an IPv6 destination never meets.
                if let (Some(i), Some(e)) = (i, e)
                    && i.2
                    && e.2
                    && i.0.starts_with("ip6") != e.0.starts_with("ip6")
                {
                    return None;
                }
                let mut parts = Vec::new();
                let mut u = None;
                for f in [i, e].into_iter().flatten() {
                    parts.push(f.0.clone());
                    u = u.or(f.1.clone());
                }
                parts.push(format!("jump {target}"));
                Some((parts.join(" "), u))
            };
            match (ingress.is_empty(), egress.is_empty()) {
                (false, false) => {
                    for i in &ingress {
                        for e in &egress {
                            rules.extend(pair(Some(i), Some(e)));
                        }
                    }
                }
                (false, true) => rules.extend(ingress.iter().filter_map(|i| pair(Some(i), None))),
                (true, false) => rules.extend(egress.iter().filter_map(|e| pair(None, Some(e)))),
                (true, true) => rules.extend(pair(None, None)),
            }
            for (text, u) in rules {
                self.add(&dispatch, text, At::Config(p.span), u, Some(p.priority));
            }
        }
        // The policy's own elements, as for a zone.
        let filter = base_name("filter", tc.first().map_or("FORWARD", |t| t.1));
        let names = Names {
            filter: filter.clone(),
            nat_pre: base_name("nat", "PREROUTING"),
            nat_post: base_name("nat", "POSTROUTING"),
            mangle: base_name("mangle", "PREROUTING"),
        };
        let el = &p.elements;
        self.services(cfg, &filter, el);
        self.ports(&filter, el);
        if let Some(span) = el.masquerade {
            self.masquerade(&names.nat_post, span);
        }
        for fp in &el.forward_ports {
            self.forward_port(&names.nat_pre, fp);
        }
        self.source_ports(&filter, el);
        self.icmp_blocks(&filter, el);
        for r in &el.rules {
            self.rich(cfg, &names, r);
        }
        self.protocols(&filter, el);
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

/// A zone the user defined, not the default, bound to nothing in the files.
fn runtime_only(cfg: &Config, z: &Zone) -> bool {
    z.user && z.name != cfg.default_zone && z.interfaces.is_empty() && z.sources.is_empty()
}

#[derive(Clone)]
struct Names {
    filter: String,
    nat_pre: String,
    nat_post: String,
    mangle: String,
}

/// The dispatch chains every zone is bound in, the prefix of its chain
/// there, and whether the chain sees the zone as the packet's way out.
fn zone_dispatch_chains() -> [(&'static str, &'static str, bool); 5] {
    [
        ("filter_INPUT_ZONES", "filter_IN", false),
        ("nat_POSTROUTING_ZONES", "nat_POST", true),
        ("filter_FORWARD_ZONES", "filter_FWD", false),
        ("nat_PREROUTING_ZONES", "nat_PRE", false),
        ("mangle_PREROUTING_ZONES", "mangle_PRE", false),
    ]
}

/// A service's destinations: none (both families), or one per family it
/// names.
fn destinations(svc: &Service) -> Vec<Option<ipnet::IpNet>> {
    if svc.destination_v4.is_none() && svc.destination_v6.is_none() {
        vec![None]
    } else {
        [svc.destination_v4, svc.destination_v6]
            .into_iter()
            .flatten()
            .map(Some)
            .collect()
    }
}

/// The match lists of a service in a rich rule, included services first.
fn service_matches(
    cfg: &Config,
    name: &str,
    r: &Rich,
    seen: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    let Some(svc) = cfg.services.get(name) else {
        return;
    };
    for inc in &svc.includes {
        if !seen.contains(&inc.value) {
            seen.push(inc.value.clone());
            service_matches(cfg, &inc.value, r, seen, out);
        }
    }
    let dests: Vec<Option<ipnet::IpNet>> = destinations(svc)
        .into_iter()
        .filter(|d| match (d, r.family) {
            (Some(n), Some(f)) => matches!(n, ipnet::IpNet::V6(_)) == (f == RichFamily::Ipv6),
            _ => true,
        })
        .collect();
    for d in dests {
        let d = d
            .map(|n| format!("{} daddr {} ", ip_word(&n), net_text(&n)))
            .unwrap_or_default();
        for p in &svc.ports {
            out.push(format!(
                "{d}{} dport {}",
                p.value.proto.name(),
                range(p.value.range)
            ));
        }
        for p in &svc.protocols {
            out.push(format!("{d}meta l4proto {}", p.value));
        }
        for p in &svc.source_ports {
            out.push(format!(
                "{d}{} sport {}",
                p.value.proto.name(),
                range(p.value.range)
            ));
        }
    }
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
