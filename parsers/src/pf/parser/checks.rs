//! What pfctl refuses in a statement that reads well: options that do not
//! fit the rule they are on, values of the wrong family, statements out of
//! order under `set require-order yes`. Each check names pfctl's message
//! so a refusal here reads like pfctl's.

use super::rule::Head;
use super::{Cur, Res, State};
use crate::ErrorKind;
use crate::pf::ast::{
    Action, Addr, Af, AnchorKind, Host, PfRuleset, Pool, PortOp, QueueKind, Rule, RuleOption,
};
use crate::pf::lexer::Token;

/// pfctl's order of sections, enforced under `set require-order yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Section {
    Options = 0,
    Normalization = 1,
    Queueing = 2,
    Translation = 3,
    Filter = 4,
}

/// Under `set require-order yes`, a statement of an earlier section after
/// a later one is refused.
pub(super) fn order(st: &mut State, c: &Cur, first: &Token, section: Section) -> Res<()> {
    if c.depth > 0 {
        return Ok(());
    }
    let rank = section as u8;
    if st.require_order && rank < st.section {
        return Err(c.error_at(
            first,
            ErrorKind::Syntax,
            "rules must be in order: options, normalization, queueing, translation, filtering (`set require-order yes`)".to_string(),
        ));
    }
    st.section = st.section.max(rank);
    Ok(())
}

fn is(proto: &crate::pf::ast::Proto, n: u8) -> bool {
    proto.number == Some(n)
}

fn refuse(c: &Cur, rule: &Rule, message: &str) -> Res<()> {
    Err(c.error_range(
        rule.span.start,
        rule.span.end,
        ErrorKind::InvalidValue,
        message.to_string(),
    ))
}

/// The checks of pfctl's `rule_consistent`, `filter_consistent` and
/// `nat_consistent`, and of the pool options, on one rule.
pub(super) fn rule(c: &Cur, rule: &Rule) -> Res<()> {
    let routes = rule.options.iter().filter_map(|o| match o {
        RuleOption::RouteTo(p) | RuleOption::ReplyTo(p) | RuleOption::DupTo(p) => Some(p),
        _ => None,
    });
    if rule.action == Action::Block && routes.clone().next().is_some() {
        return refuse(
            c,
            rule,
            "route-to, reply-to and dup-to are not supported on block rules",
        );
    }
    let af_to = rule
        .options
        .iter()
        .any(|o| matches!(o, RuleOption::AfTo { .. }));
    if let (Some(af), false) = (rule.af, af_to) {
        for pool in routes.filter(|p| !p.options.iter().any(|o| o == "prefer-ipv6-nexthop")) {
            let ips: Vec<bool> = pool.hosts.iter().filter_map(ip_v6).collect();
            if !ips.is_empty() && !ips.contains(&(af == Af::Inet6)) {
                return refuse(
                    c,
                    rule,
                    "no routing address with matching address family found.",
                );
            }
        }
        let v6 = af == Af::Inet6;
        if rule.proto.iter().any(|p| is(p, if v6 { 1 } else { 58 })) {
            return refuse(
                c,
                rule,
                if v6 {
                    "proto icmp is IPv4's: with inet6 use icmp6"
                } else {
                    "proto icmp6 is IPv6's: with inet use icmp"
                },
            );
        }
    }
    let only = |ns: &[u8]| {
        !rule.proto.is_empty() && rule.proto.iter().all(|p| ns.iter().any(|n| is(p, *n)))
    };
    // Today's pfctl prints `pass all flags S/SA`: flags without a protocol
    // are taken, flags with one that is not tcp are not.
    // Old pfctl (OpenBSD's regress pf3) took flags on a list with tcp in it.
    let non_tcp = !rule.proto.is_empty() && !rule.proto.iter().any(|p| is(p, 6));
    for o in &rule.options {
        match o {
            RuleOption::Flags { .. } if non_tcp => {
                return refuse(
                    c,
                    rule,
                    "flags only apply to tcp: add `proto tcp` or leave `flags` out",
                );
            }
            RuleOption::IcmpType(_) if !only(&[1]) => {
                return refuse(c, rule, "icmp-type only applies to icmp: add `proto icmp`");
            }
            RuleOption::Icmp6Type(_) if !only(&[58]) => {
                return refuse(
                    c,
                    rule,
                    "icmp6-type only applies to icmp6: add `proto icmp6`",
                );
            }
            _ => {}
        }
    }
    if (!rule.from.ports.is_empty() || !rule.to.ports.is_empty()) && !only(&[6, 17, 132]) {
        return refuse(
            c,
            rule,
            "port only applies to tcp/udp/sctp: add `proto tcp` or `proto udp`",
        );
    }
    let nat = matches!(rule.action, Action::Nat);
    for (pool, is_nat) in rule
        .options
        .iter()
        .filter_map(|o| match o {
            RuleOption::NatTo(p) => Some((p, true)),
            RuleOption::RdrTo(p) | RuleOption::BinatTo(p) => Some((p, false)),
            RuleOption::AfTo { from, .. } => Some((from, true)),
            _ => None,
        })
        .chain(rule.redirect.iter().map(|p| (p, nat)))
    {
        pool_checks(c, rule, pool, is_nat)?;
    }
    let binat_pool = rule.options.iter().find_map(|o| match o {
        RuleOption::BinatTo(p) => Some(p),
        _ => None,
    });
    if let Some(pool) = binat_pool.or(if rule.action == Action::Binat {
        rule.redirect.as_ref()
    } else {
        None
    }) && (pool.hosts.iter().any(|h| matches!(h.addr, Addr::Table(_)))
        || rule
            .from
            .hosts
            .iter()
            .any(|h| matches!(h.addr, Addr::Table(_))))
    {
        return refuse(
            c,
            rule,
            "tables are not supported by binat: it maps one address or network to one",
        );
    }
    Ok(())
}

/// The family of a host given as an address: `Some(true)` for IPv6.
fn ip_v6(h: &Host) -> Option<bool> {
    match h.addr {
        Addr::Ip { ip, .. } | Addr::Range(ip, _) => Some(ip.is_ipv6()),
        _ => None,
    }
}

fn pool_checks(c: &Cur, rule: &Rule, pool: &Pool, nat: bool) -> Res<()> {
    let has = |o: &str| {
        pool.options
            .iter()
            .any(|x| x == o || x.starts_with(&format!("{o} ")))
    };
    if has("static-port") && !nat {
        return refuse(
            c,
            rule,
            "the 'static-port' option is only valid with nat rules",
        );
    }
    if has("map-e-portset") && !nat {
        return refuse(
            c,
            rule,
            "the 'map-e-portset' option is only valid with nat rules",
        );
    }
    if has("static-port") && pool.ports.is_some() {
        return refuse(
            c,
            rule,
            "the 'static-port' option can't be used when specifying a port range",
        );
    }
    if has("map-e-portset") && has("static-port") {
        return refuse(
            c,
            rule,
            "the 'map-e-portset' option can't be used 'static-port'",
        );
    }
    if has("map-e-portset") && pool.ports.is_some() {
        return refuse(
            c,
            rule,
            "the 'map-e-portset' option can't be used when specifying a port range",
        );
    }
    if has("bitmask") || has("random") || has("source-hash") {
        for h in &pool.hosts {
            match &h.addr {
                Addr::Table(_) => return refuse(c, rule, "tables are not supported by pool type"),
                Addr::Dynamic { interface, .. } => {
                    return refuse(
                        c,
                        rule,
                        &format!("interface ({interface}) is not supported by pool type"),
                    );
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// pfctl's checks of `rdr-anchor` and `nat-anchor` heads: a redirection
/// anchor takes one destination port, compared with `=`.
pub(super) fn anchor(c: &Cur, keyword: &Token, kind: AnchorKind, head: &Head) -> Res<()> {
    let name = &keyword.text;
    if matches!(kind, AnchorKind::Nat | AnchorKind::Rdr | AnchorKind::Binat)
        && !head.from.ports.is_empty()
    {
        return Err(c.error_at(
            keyword,
            ErrorKind::Unsupported,
            format!("source port parameter not supported in {name}"),
        ));
    }
    if kind == AnchorKind::Binat
        && (!head.from.hosts.is_empty() || !head.to.hosts.is_empty() || !head.to.ports.is_empty())
    {
        return Err(c.error_at(
            keyword,
            ErrorKind::Syntax,
            "binat-anchor takes no `from`/`to`: only an interface, an af and a protocol"
                .to_string(),
        ));
    }
    if kind == AnchorKind::Rdr {
        match head.to.ports.as_slice() {
            [] | [PortOp::Eq(_)] => {}
            [_] => {
                return Err(c.error_at(
                    keyword,
                    ErrorKind::Unsupported,
                    "destination port operators not supported in rdr-anchor".to_string(),
                ));
            }
            _ => {
                return Err(c.error_at(
                    keyword,
                    ErrorKind::Unsupported,
                    "destination port list expansion not supported in rdr-anchor".to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// Every queue an `altq` or `queue` names as a child must be defined.
pub(super) fn queues(st: &mut State, ruleset: &PfRuleset) {
    for q in &ruleset.queues {
        for child in &q.children {
            let defined = ruleset
                .queues
                .iter()
                .any(|d| d.kind == QueueKind::Queue && d.name.as_deref() == Some(child));
            if !defined {
                let source = st
                    .paths
                    .get(q.span.file as usize)
                    .cloned()
                    .unwrap_or_default();
                st.errors.push(crate::ParseError {
                    kind: ErrorKind::BadReference,
                    path: source,
                    line: q.span.line,
                    column: q.span.column,
                    start: q.span.start,
                    end: q.span.end,
                    message: format!("queue `{child}` is not defined: add `queue {child} ...`"),
                });
            }
        }
    }
}
