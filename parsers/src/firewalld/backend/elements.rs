//! What zones and policies share and that is not a rich rule: services,
//! ports, protocols, source ports, ICMP blocks, masquerade and forward
//! ports (`fw_policy.py`: `_service`, `_port`, ...; nftables.py's
//! `build_policy_*_rules`).

use super::{At, Config, Gen, REJECT, ip_word, nat_target, net_text, range};
use crate::firewalld::config::{Elements, ForwardPort, Item, Rich, RichFamily, Service};
use crate::firewalld::icmp;
use crate::model::Span;

impl Gen {
    pub(super) fn services(&mut self, cfg: &Config, chain: &str, el: &Elements) {
        for s in &el.services {
            let mut seen = vec![s.value.clone()];
            self.service(cfg, chain, &s.value, s.span, &mut seen);
        }
    }

    /// `_service`: included services first, then ports, protocols and
    /// source ports, per destination family.
    pub(super) fn service(
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

    pub(super) fn ports(&mut self, chain: &str, el: &Elements) {
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

    pub(super) fn protocols(&mut self, chain: &str, el: &Elements) {
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

    pub(super) fn source_ports(&mut self, chain: &str, el: &Elements) {
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
    pub(super) fn icmp_blocks(&mut self, chain: &str, el: &Elements) {
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

    pub(super) fn masquerade(&mut self, post: &str, span: Span) {
        self.add(
            &format!("{post}_allow"),
            "meta nfproto ipv4 oifname != \"lo\" masquerade".to_string(),
            At::Config(span),
            None,
            None,
        );
    }

    pub(super) fn forward_port(&mut self, pre: &str, fp: &Item<ForwardPort>) {
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
}

/// A service's destinations: none (both families), or one per family it
/// names.
pub(super) fn destinations(svc: &Service) -> Vec<Option<ipnet::IpNet>> {
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
pub(super) fn service_matches(
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
