//! Zones: each one's chains and rules, and the dispatch that sends a
//! packet to one zone (`fw_zone.py`: `apply_zones`, `_interface`,
//! `_source`, `change_default_zone`).

use super::{
    At, Config, Gen, Names, Origin, REJECT, Rule, STEP_DEFAULT_ZONE, STEP_ICMP, STEP_ZONE_CHAINS,
    ifname,
};
use crate::firewalld::config::{Item, RichAction, RichElement, Zone, ZoneTarget};

impl Gen {
    /// `apply_zones` then `change_default_zone`: the zones with bindings,
    /// by name, then the default zone and its catch-all.
    pub(super) fn zones(&mut self, cfg: &Config) {
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
    pub(super) fn zone_chains(&mut self, cfg: &Config, z: &Zone) {
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
}

/// A zone the user defined, not the default, bound to nothing in the files.
pub(super) fn runtime_only(cfg: &Config, z: &Zone) -> bool {
    z.user && z.name != cfg.default_zone && z.interfaces.is_empty() && z.sources.is_empty()
}

/// The dispatch chains every zone is bound in, the prefix of its chain
/// there, and whether the chain sees the zone as the packet's way out.
pub(super) fn zone_dispatch_chains() -> [(&'static str, &'static str, bool); 5] {
    [
        ("filter_INPUT_ZONES", "filter_IN", false),
        ("nat_POSTROUTING_ZONES", "nat_POST", true),
        ("filter_FORWARD_ZONES", "filter_FWD", false),
        ("nat_PREROUTING_ZONES", "nat_PRE", false),
        ("mangle_PREROUTING_ZONES", "mangle_PRE", false),
    ]
}
