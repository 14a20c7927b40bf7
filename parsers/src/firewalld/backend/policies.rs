//! Policies that are not zones: which are active, their chains and the
//! dispatch to them (`fw_policy.py`: `apply_policies`,
//! `_get_table_chains_for_policy_dispatch`, `policy_base_chain_name`;
//! nftables.py: `build_policy_ingress_egress_rules`).

use super::{At, Config, Gen, Names, REJECT, STEP_POLICY_CHAINS, Unknown};
use crate::firewalld::config::{Addr, Item, Policy, PolicyTarget};

impl Gen {
    /// Active policies, by name (`apply_policies`).
    pub(super) fn policies(&mut self, cfg: &Config) {
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

    pub(super) fn policy(&mut self, cfg: &Config, p: &Policy) {
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
}
