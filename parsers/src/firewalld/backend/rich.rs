//! Rich rules: their matches, and the sub-chain their priority and
//! action choose (nftables.py: `_rich_rule_*`, `_rule_addr_fragment`).

use super::elements::service_matches;
use super::{
    At, Config, Gen, Names, REJECT, Side, Unknown, elide_family, ip_word, limit, mark, nat_target,
    net_text, quote, range, reject_with,
};
use crate::firewalld::config::{Addr, Rich, RichAction, RichElement, RichFamily};
use crate::firewalld::icmp;

impl Gen {
    /// A rich rule: its matches, then log, audit and action rules in the
    /// chains its priority and action choose (`_rich_rule_chain_suffix`).
    pub(super) fn rich(&mut self, cfg: &Config, names: &Names, r: &Rich) {
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
    pub(super) fn addr_match(
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
}
