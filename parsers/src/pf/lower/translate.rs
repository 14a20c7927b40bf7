//! Address translation, as pf.conf(5) describes it, in the model's NAT
//! chains.
//!
//! - Pre-4.7 (FreeBSD, macOS): "Translation rules apply only to packets
//!   that pass through the specified interface ... binat rules are always
//!   evaluated first. Then either the rdr rules are evaluated on an
//!   inbound packet or the nat rules on an outbound packet. Rules of the
//!   same type are evaluated in the same order in which they appear in the
//!   ruleset. The first matching rule decides what action is taken." A
//!   `no` rule matches and translates nothing. So the inbound list is the
//!   binat rules then the rdr rules, the outbound one the binat rules then
//!   the nat rules, each a first-match NAT chain.
//! - "Since translation occurs before filtering the filter engine will see
//!   packets as they look after any addresses and ports have been
//!   translated": the inbound list sits before the inbound filter (NAT at
//!   prerouting -100, the filter at -50), the outbound one before the
//!   outbound filter (on the output and forward hooks, a step before it),
//!   and the evaluator shows the later chains the rewritten packet.
//! - "If the pass modifier is given, packets matching the translation rule
//!   are passed without inspecting the filter rules": the action is
//!   `NatPass`, which skips the filter of that crossing only. A forwarded
//!   packet is still filtered on the other interface, where pf runs again.
//! - `nat-anchor`, `rdr-anchor` and `binat-anchor` evaluate the
//!   translation rules of that type of the anchor's ruleset, in place.
//! - OpenBSD 4.7+: a `match` rule with `rdr-to`/`nat-to` translates at
//!   once and the rules after it see the new packet. That is the NAT chain
//!   exactly when no filter rule comes before it and it is the only one of
//!   its kind (two could both apply, one after the other); otherwise, and
//!   for `pass ... rdr-to` (which translates only if it is the last match),
//!   the rule stays indeterminate in the filter.
//!
//! What the file cannot say is not guessed: a pool of several addresses, a
//! table, or a port range mapped onto another is an unknown action, and an
//! interface's address (`-> ($ext_if)`, `-> em0`) is a source the
//! evaluator treats as unknown, as it does iptables' MASQUERADE.

use super::flat::{Alternatives, Flat1, Gate, Verdict, combine_direction, family_of, kind_word};
use crate::model::{Action, Family, Nat, PortRange};
use crate::pf::ast::{
    Action as PfAction, Addr, Anchor, AnchorKind, Direction, Endpoint, Host, Item, Pool, Rule,
};
use std::net::IpAddr;

/// The translation rules of one family, each list first-match.
#[derive(Default)]
pub(super) struct Translations {
    /// Inbound: binat rules (their inbound half), then rdr rules.
    pub binat_in: Vec<Flat1>,
    pub rdr: Vec<Flat1>,
    /// Outbound: binat rules, then nat rules.
    pub binat_out: Vec<Flat1>,
    pub nat: Vec<Flat1>,
    /// 4.7+ `match` translations seen so far, of each kind.
    pub match_rdr: usize,
    pub match_nat: usize,
    /// 4.7+ `pass ... rdr-to`/`nat-to`: the translation, made after the
    /// filter of its crossing for the connections the rule decided (it
    /// sets its tag, a bit of the connection mark, when it does).
    pub decided_rdr: Vec<Flat1>,
    pub decided_nat: Vec<Flat1>,
    /// Tags given out so far.
    pub tags: u32,
}

/// The connection mark bits free for tags: 0 and 1 are the states'.
const FIRST_TAG_BIT: u32 = 2;

impl Translations {
    /// The inbound list in pf's order.
    pub fn inbound(&self) -> impl Iterator<Item = &Flat1> {
        self.binat_in.iter().chain(&self.rdr)
    }

    /// The outbound list in pf's order.
    pub fn outbound(&self) -> impl Iterator<Item = &Flat1> {
        self.binat_out.iter().chain(&self.nat)
    }
}

/// The pf action of a translation rule of `kind`.
fn of_kind(action: PfAction, kind: AnchorKind) -> bool {
    matches!(
        (action, kind),
        (PfAction::Nat | PfAction::NoNat, AnchorKind::Nat)
            | (PfAction::Rdr | PfAction::NoRdr, AnchorKind::Rdr)
            | (PfAction::Binat | PfAction::NoBinat, AnchorKind::Binat)
    )
}

/// What the translation walk needs of the filter walk's context.
pub(super) trait Walk {
    /// The gate an anchor rule adds to `gate` for its body, with the
    /// direction its kind implies; `None` when it holds nothing here.
    fn anchor_gate(
        &self,
        gate: &Gate,
        anchor: &Anchor,
        direction: Direction,
        family: Family,
    ) -> Option<Gate>;
    /// A rule's conditions as pfctl's expansion of its lists makes them.
    fn rule_alternatives(
        &self,
        rule: &Rule,
        gate: &Gate,
        direction: Direction,
        family: Family,
    ) -> Option<Alternatives>;
    /// The ruleset `load anchor` gave the anchor `name`.
    fn loaded_anchor(&self, name: &str) -> Option<&[Item]>;
}

/// Walks a ruleset for its pre-4.7 translation rules of `kind`, with the
/// `*-anchor` rules of that kind in place.
pub(super) fn translations(
    w: &impl Walk,
    items: &[Item],
    gate: &Gate,
    family: Family,
    kind: AnchorKind,
    out: &mut Translations,
) {
    for item in items {
        match item {
            Item::Rule(r) if of_kind(r.action, kind) => translation(w, r, gate, family, kind, out),
            Item::Anchor(a) if a.kind == kind => {
                let direction = match kind {
                    AnchorKind::Nat => Direction::Out,
                    AnchorKind::Rdr => Direction::In,
                    _ => a.direction,
                };
                let Some(inner) = w.anchor_gate(gate, a, direction, family) else {
                    continue;
                };
                let name = a.name.as_deref().unwrap_or("");
                let body = match &a.body {
                    Some(b) => Some(b.as_slice()),
                    None if !name.ends_with('*') => w.loaded_anchor(name),
                    None => None,
                };
                match body {
                    Some(body) => translations(w, body, &inner, family, kind, out),
                    None => {
                        let why = format!(
                            "{}-anchor \"{name}\" translates at run time",
                            kind_word(kind)
                        );
                        let unknown = |direction| Flat1 {
                            span: a.span,
                            direction,
                            interfaces: inner.interfaces.clone(),
                            matches: inner.matches.clone(),
                            verdict: Verdict::Translate(Action::Unknown { text: why.clone() }),
                        };
                        match kind {
                            AnchorKind::Rdr => out.rdr.push(unknown(Direction::In)),
                            AnchorKind::Nat => out.nat.push(unknown(Direction::Out)),
                            _ => {
                                if inner.direction != Direction::Out {
                                    out.binat_in.push(unknown(Direction::In));
                                }
                                if inner.direction != Direction::In {
                                    out.binat_out.push(unknown(Direction::Out));
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// One `nat`, `rdr` or `binat` rule (or its `no` form).
fn translation(
    w: &impl Walk,
    r: &Rule,
    gate: &Gate,
    family: Family,
    kind: AnchorKind,
    out: &mut Translations,
) {
    let no = matches!(
        r.action,
        PfAction::NoNat | PfAction::NoRdr | PfAction::NoBinat
    );
    if kind == AnchorKind::Binat {
        binat(w, r, gate, family, no, out);
        return;
    }
    let (direction, list) = match kind {
        AnchorKind::Rdr => (Direction::In, &mut out.rdr),
        _ => (Direction::Out, &mut out.nat),
    };
    if r.redirect
        .as_deref()
        .is_some_and(|p| other_family(p, family))
    {
        return;
    }
    let action = if no {
        Action::Accept
    } else {
        let pool = r.redirect.as_deref();
        let nat = match kind {
            AnchorKind::Rdr => pool.map(|p| rdr_target(p, family)),
            _ => pool.map(|p| nat_target(p, family)),
        };
        match nat {
            Some(Ok(nat)) if r.pass => Action::NatPass(nat),
            Some(Ok(nat)) => Action::Nat(nat),
            Some(Err(why)) => Action::Unknown { text: why },
            None => return,
        }
    };
    push(w, r, gate, family, direction, action, list);
}

/// `binat`: a one-to-one mapping both ways. Out, the rule's source
/// becomes the pool address; in, packets from the rule's destination to
/// the pool address go to the rule's source (pf_match_translation: for
/// an inbound binat the source to match is the rule's destination and
/// the destination its pool). Exact for one address on each side;
/// anything else is unknown both ways. A `no binat` matches its own
/// source and destination both ways.
fn binat(w: &impl Walk, r: &Rule, gate: &Gate, family: Family, no: bool, out: &mut Translations) {
    let wrap = |nat| {
        if r.pass {
            Action::NatPass(nat)
        } else {
            Action::Nat(nat)
        }
    };
    if no {
        push(
            w,
            r,
            gate,
            family,
            Direction::Out,
            Action::Accept,
            &mut out.binat_out,
        );
        push(
            w,
            r,
            gate,
            family,
            Direction::In,
            Action::Accept,
            &mut out.binat_in,
        );
        return;
    }
    let Some(pool) = r.redirect.as_deref() else {
        return;
    };
    if other_family(pool, family) {
        return;
    }
    let inner = single_host(&r.from.hosts, family);
    let outer = single_host(&pool.hosts, family);
    let (out_action, in_action) = match (inner, outer) {
        (Some(inner), Some(outer)) => (
            wrap(Nat::Snat {
                addr: Some((outer, outer)),
                ports: None,
            }),
            wrap(Nat::Dnat {
                addr: Some((inner, inner)),
                ports: None,
            }),
        ),
        _ => {
            let unknown = Action::Unknown {
                text: "binat: a mapping of more than one address (or of an address \
                           the file does not give)"
                    .to_string(),
            };
            (unknown.clone(), unknown)
        }
    };
    push(
        w,
        r,
        gate,
        family,
        Direction::Out,
        out_action,
        &mut out.binat_out,
    );
    let inbound = Rule {
        from: r.to.clone(),
        to: Endpoint {
            hosts: pool.hosts.clone(),
            ports: Vec::new(),
        },
        ..r.clone()
    };
    push(
        w,
        &inbound,
        gate,
        family,
        Direction::In,
        in_action,
        &mut out.binat_in,
    );
}

/// A 4.7+ `match` rule with `rdr-to` or `nat-to`, met in the filter
/// walk: into the NAT chain when that is exact (see the module's
/// notes), `None` when it is not and the caller keeps it indeterminate.
pub(super) fn match_translation(
    w: &impl Walk,
    r: &Rule,
    gate: &Gate,
    family: Family,
    filter_rules_before: bool,
    out: &mut Translations,
) -> Option<()> {
    use crate::pf::ast::RuleOption;
    let (kind, pool) = r.options.iter().find_map(|o| match o {
        RuleOption::RdrTo(p) => Some((AnchorKind::Rdr, p)),
        RuleOption::NatTo(p) => Some((AnchorKind::Nat, p)),
        _ => None,
    })?;
    // Only one translation option, and nothing else that rewrites.
    let rewrites = rewrites(r).count();
    let seen = match kind {
        AnchorKind::Rdr => &mut out.match_rdr,
        _ => &mut out.match_nat,
    };
    *seen += 1;
    if filter_rules_before || rewrites != 1 || *seen > 1 {
        return None;
    }
    if other_family(pool, family) {
        return Some(());
    }
    let (direction, target) = match kind {
        AnchorKind::Rdr => (Direction::In, rdr_target(pool, family)),
        _ => (Direction::Out, nat_target(pool, family)),
    };
    if r.direction != direction && r.direction != Direction::Both {
        return None;
    }
    let action = match target {
        Ok(nat) => Action::Nat(nat),
        Err(why) => Action::Unknown { text: why },
    };
    let list = match kind {
        AnchorKind::Rdr => &mut out.rdr,
        _ => &mut out.nat,
    };
    push(w, r, gate, family, direction, action, list);
    Some(())
}

/// A 4.7+ rule's options that rewrite the packet or send it elsewhere.
fn rewrites(r: &Rule) -> impl Iterator<Item = &crate::pf::ast::RuleOption> {
    use crate::pf::ast::RuleOption;
    r.options.iter().filter(|o| {
        matches!(
            o,
            RuleOption::RdrTo(_)
                | RuleOption::NatTo(_)
                | RuleOption::BinatTo(_)
                | RuleOption::AfTo { .. }
                | RuleOption::DivertTo { .. }
                | RuleOption::DivertPacket(_)
                | RuleOption::RouteTo(_)
        )
    })
}

/// Puts a translation rule's alternatives (pfctl's expansion of its lists)
/// on a list.
fn push(
    w: &impl Walk,
    r: &Rule,
    gate: &Gate,
    family: Family,
    direction: Direction,
    action: Action,
    list: &mut Vec<Flat1>,
) {
    let Some(alternatives) = w.rule_alternatives(r, gate, direction, family) else {
        return;
    };
    let direction = combine_direction(gate.direction, direction);
    for (interfaces, matches) in alternatives {
        list.push(Flat1 {
            span: r.span,
            direction,
            interfaces,
            matches,
            verdict: Verdict::Translate(action.clone()),
        });
    }
}

/// A pool whose addresses are all of the other family: pfctl takes the
/// rule's family from them, so the rule does not exist in this one.
fn other_family(pool: &Pool, family: Family) -> bool {
    let ips: Vec<&IpAddr> = pool
        .hosts
        .iter()
        .filter_map(|h| match &h.addr {
            Addr::Ip { ip, .. } => Some(ip),
            _ => None,
        })
        .collect();
    !ips.is_empty() && ips.iter().all(|ip| family_of(ip) != family)
}

/// One address of this family with no prefix (or a full one): what a
/// translation can map to exactly.
fn single_host(hosts: &[Host], family: Family) -> Option<IpAddr> {
    let [h] = hosts else { return None };
    match &h.addr {
        Addr::Ip { ip, prefix } if !h.not && family_of(ip) == family => {
            let full = if family == Family::Ipv4 { 32 } else { 128 };
            (prefix.is_none_or(|p| p == full)).then_some(*ip)
        }
        _ => None,
    }
}

/// Where an `rdr` (or `rdr-to`) sends a packet.
fn rdr_target(pool: &Pool, family: Family) -> Result<Nat, String> {
    let Some(addr) = single_host(&pool.hosts, family) else {
        return Err(
            "rdr: the new destination is not one address the file gives (a pool, a table, \
             an interface's address)"
                .to_string(),
        );
    };
    let ports = match pool.ports {
        None => None,
        Some((lo, hi)) if lo == hi && !pool.options.iter().any(|o| o == "port-*") => {
            Some(PortRange { start: lo, end: hi })
        }
        Some((lo, hi)) => {
            return Err(format!(
                "rdr: ports mapped onto the range {lo}:{hi} depend on the port each packet has"
            ));
        }
    };
    Ok(if addr.is_loopback() {
        Nat::Loopback { addr, ports }
    } else {
        Nat::Dnat {
            addr: Some((addr, addr)),
            ports,
        }
    })
}

/// The new source a `nat` (or `nat-to`) gives. An interface's address is
/// the running host's, which the evaluator takes as unknown (as for
/// MASQUERADE).
fn nat_target(pool: &Pool, family: Family) -> Result<Nat, String> {
    let ports = if pool.options.iter().any(|o| o == "static-port") {
        None
    } else {
        pool.ports.map(|(start, end)| PortRange { start, end })
    };
    if let Some(addr) = single_host(&pool.hosts, family) {
        return Ok(Nat::Snat {
            addr: Some((addr, addr)),
            ports,
        });
    }
    if pool.hosts.iter().all(|h| {
        !h.not
            && matches!(
                h.addr,
                Addr::Dynamic { .. } | Addr::Name { .. } | Addr::Ip { .. } | Addr::Table(_)
            )
    }) && !pool.hosts.is_empty()
    {
        // Several addresses, a network, a table or an interface's: one of
        // them, which the file does not fix.
        return Ok(Nat::Masquerade { ports });
    }
    Err("nat: the new source is not an address the file gives".to_string())
}

/// A 4.7+ `pass` rule with `rdr-to` or `nat-to`: "the translation is
/// applied if the rule is the last matching rule" (pf.conf(5)), so the
/// filter decides on the packet as it came, and the translation follows
/// for the connections this rule passed. Gives the tag the rule's pass
/// sets, or `None` where that is not exact (several rewrites, a target the
/// file does not fix, no tag bit left, a rule without state).
pub(super) fn pass_translation(r: &Rule, family: Family, out: &mut Translations) -> Option<u32> {
    use crate::pf::ast::{RuleOption, StateKind};
    let mut rewrites = rewrites(r);
    let first = rewrites.next()?;
    if rewrites.next().is_some()
        || r.options
            .iter()
            .any(|o| matches!(o, RuleOption::State(s) if s.kind == StateKind::No))
    {
        return None;
    }
    let (nat, direction) = match first {
        RuleOption::RdrTo(p) if !other_family(p, family) => {
            (rdr_target(p, family).ok()?, Direction::In)
        }
        RuleOption::NatTo(p) if !other_family(p, family) => {
            (nat_target(p, family).ok()?, Direction::Out)
        }
        _ => return None,
    };
    if r.direction != direction {
        return None;
    }
    let bit = FIRST_TAG_BIT + out.tags;
    if bit >= crate::model::CONN_MARK_BITS {
        return None;
    }
    out.tags += 1;
    let tag = 1u32 << bit;
    let rule = Flat1 {
        span: r.span,
        direction,
        interfaces: Vec::new(),
        matches: vec![crate::model::Match::ConnMark {
            negated: false,
            mask: tag,
            value: tag,
        }],
        verdict: Verdict::Translate(Action::Nat(nat)),
    };
    match direction {
        Direction::In => out.decided_rdr.push(rule),
        _ => out.decided_nat.push(rule),
    }
    Some(tag)
}
