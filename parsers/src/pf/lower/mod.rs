//! pf's semantics in the model: what pf.conf(5) says a ruleset does, as the
//! first-match chains the evaluator walks. `docs/pf.md` gives each point
//! with the sentence of pf.conf(5) it follows.
//!
//! - "For each packet processed by the packet filter, the filter rules are
//!   evaluated in a sequential order, from first to last. For block and
//!   pass, the last matching rule decides what action is taken", unless a
//!   rule is `quick`: "If a
//!   packet matches a rule which has the quick option set, this rule is
//!   considered the last matching rule, and evaluation of subsequent rules
//!   is skipped." So a chain holds every quick rule in order, then every
//!   other rule in reverse order; the first match in it is pf's decision.
//! - "if no rule matches the packet, the default action is to pass the
//!   packet without creating a state".
//! - Anchors are evaluated in place; the rules of an anchor without `quick`
//!   join the sequence where it stands, those of a `quick` anchor decide as
//!   a block when any of them matches. An anchor's own parameters gate its
//!   rules. Anchors filled at run time, like macOS's `com.apple/*`, are not
//!   in the file: what they may decide is indeterminate.
//! - "By default PF filters packets statefully": state lets the later
//!   packets and the replies pass "without evaluation of any rules". A
//!   state belongs to the crossing (in or out) of the pass that made it:
//!   the pass sets that crossing's bit of the connection mark, and each
//!   chain begins by passing marked connections, in their own direction on
//!   that crossing and back on the other. A stateful pass takes a TCP
//!   connection's first packet only (`flags S/SA`). A pass that keeps no
//!   state (`no state`, or the default pass) marks nothing, and the later
//!   packets and replies meet the rules.
//! - Inbound packets meet the `in` rules, outbound the `out` rules, and a
//!   forwarded packet both: in on its ingress interface, out on its egress.
//!   The `in` chain sits on netfilter's prerouting hook (pf filters before
//!   routing), the `out` chains on the output and forward hooks; the
//!   evaluator models REJECT there the way the client sees it.
//! - Translation comes before filtering, first match, in NAT chains before
//!   the filter chains (`translate.rs`).
//! - What depends on the running host (`self`, `(if)`, interface groups,
//!   tables without contents, user, tags) is an unknown match naming it,
//!   as are the 4.7+ translations in the middle of the filter rules.

use super::ast::{
    Action as PfAction, Addr, Af, Anchor, AnchorKind, BlockHow, Direction, Host, Item, On,
    PfRuleset, PortOp, Rule, RuleOption, StateKind,
};
use crate::Parsed;
use crate::model::{
    Action, BaseHook, Chain, ChainKind, CtStates, Family, Hook, Interface, Match, Nets, Policy,
    PortRange, Ports, RejectKind, Rule as MRule, Ruleset, Skipped, Source, Span, Table,
};
use flat::{Alternatives, Flat1, Gate, Verdict, combine_direction, family_of};
use ipnet::IpNet;
use std::collections::BTreeMap;
use translate::{Translations, Walk};

mod flat;
mod translate;
use std::net::IpAddr;

/// The lines of driftwall's own source for what pf does with no rule
/// written: reports name these where such a rule decides.
const DEFAULTS_PATH: &str = "pf (pf.conf(5) defaults)";
const STATE_LINE: &str =
    "pass: packets of a connection a pass rule kept state for (keep state is the default)";
const DEFAULT_PASS_LINE: &str = "pass: no rule matched, so pf passes the packet, keeping no state";

/// Lowers a pf syntax tree to the model: one table per address family,
/// with its chains on the input, forward and output hooks.
pub fn lower(rs: &PfRuleset) -> Parsed {
    let mut sources = rs.sources.clone();
    let defaults_file = sources.len() as u32;
    let text = format!("{STATE_LINE}\n{DEFAULT_PASS_LINE}\n");
    sources.push(Source {
        path: DEFAULTS_PATH.to_string(),
        text,
    });
    let line_span = |line: u32| {
        let (start, end) = if line == 1 {
            (0, STATE_LINE.len())
        } else {
            (
                STATE_LINE.len() + 1,
                STATE_LINE.len() + 1 + DEFAULT_PASS_LINE.len(),
            )
        };
        Span {
            file: defaults_file,
            line,
            column: 1,
            start: start as u32,
            end: end as u32,
        }
    };
    let cx = Context::new(rs);
    let mut skipped = Vec::new();
    collect_skipped(&rs.items, &mut skipped);
    let mut tables = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let mut flat = Flat::default();
        for kind in [AnchorKind::Binat, AnchorKind::Rdr, AnchorKind::Nat] {
            translate::translations(
                &cx,
                &rs.items,
                &Gate::default(),
                family,
                kind,
                &mut flat.nat,
            );
        }
        cx.flatten(&rs.items, &Gate::default(), family, &mut flat);
        let mut ordered = flat.translations;
        ordered.extend(flat.quick);
        ordered.extend(flat.last.into_iter().rev());
        let mut chains = cx.nat_chains(&flat.nat, line_span(2));
        chains.extend(cx.chains(&ordered, line_span(1), line_span(2)));
        tables.push(Table {
            family,
            name: "pf".to_string(),
            span: line_span(1),
            chains,
        });
    }
    Parsed {
        ruleset: Ruleset {
            sources,
            families: vec![Family::Ipv4, Family::Ipv6],
            tables,
            skipped,
        },
        errors: Vec::new(),
    }
}

fn collect_skipped(items: &[Item], out: &mut Vec<Skipped>) {
    for item in items {
        match item {
            Item::Ether(e) => out.push(Skipped {
                span: e.span,
                what: "ethernet rule (layer 2, not IP filtering)".to_string(),
            }),
            Item::Anchor(a) => {
                if let Some(body) = &a.body {
                    collect_skipped(body, out);
                }
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Flat {
    /// 4.7+ translations that are not exact in the NAT chains (a `pass`
    /// that translates if it is the last match, a `match` after filter
    /// rules): what they match is indeterminate whatever rule would decide
    /// it, so they go before everything.
    translations: Vec<Flat1>,
    /// Rules that decide at once, in order.
    quick: Vec<Flat1>,
    /// Rules of the last-match sequence, in file order.
    last: Vec<Flat1>,
    /// Address translation, in NAT chains before the filter.
    nat: Translations,
}

struct Context<'a> {
    tables: BTreeMap<&'a str, &'a super::ast::Table>,
    loaded: BTreeMap<&'a str, &'a PfRuleset>,
    /// `set block-policy return`.
    block_returns: bool,
    /// `set skip on ...` with its span.
    skip: Vec<(String, Span)>,
}

impl Walk for Context<'_> {
    fn anchor_gate(
        &self,
        gate: &Gate,
        a: &Anchor,
        direction: Direction,
        family: Family,
    ) -> Option<Gate> {
        self.gate_of(
            gate,
            direction,
            a.on.as_ref(),
            a.af,
            &a.proto,
            (&a.from, &a.to),
            &a.options,
            family,
        )
    }

    fn rule_alternatives(
        &self,
        rule: &Rule,
        gate: &Gate,
        direction: Direction,
        family: Family,
    ) -> Option<Alternatives> {
        self.alternatives(rule, gate, direction, family)
    }

    fn loaded_anchor(&self, name: &str) -> Option<&[Item]> {
        self.loaded.get(name).map(|r| r.items.as_slice())
    }
}

impl<'a> Context<'a> {
    fn new(rs: &'a PfRuleset) -> Context<'a> {
        let mut tables = BTreeMap::new();
        let mut loaded = BTreeMap::new();
        let mut block_returns = false;
        let mut skip = Vec::new();
        Self::gather(rs, &mut tables, &mut loaded);
        for o in &rs.options {
            match o.name.as_str() {
                "block-policy" => block_returns = o.values.iter().any(|v| v == "return"),
                "skip" => skip.extend(o.values.iter().map(|v| (v.clone(), o.span))),
                _ => {}
            }
        }
        Context {
            tables,
            loaded,
            block_returns,
            skip,
        }
    }

    fn gather(
        rs: &'a PfRuleset,
        tables: &mut BTreeMap<&'a str, &'a super::ast::Table>,
        loaded: &mut BTreeMap<&'a str, &'a PfRuleset>,
    ) {
        for t in &rs.tables {
            tables.insert(t.name.as_str(), t);
        }
        for item in &rs.items {
            if let Item::LoadAnchor(l) = item
                && let Some(r) = &l.ruleset
            {
                loaded.insert(l.anchor.as_str(), r);
                Self::gather(r, tables, loaded);
            }
        }
    }

    /// Walks items in order, putting each rule where pf's order puts it.
    fn flatten(&self, items: &[Item], gate: &Gate, family: Family, flat: &mut Flat) {
        for item in items {
            match item {
                Item::Rule(r) => self.rule(r, gate, family, flat),
                Item::Anchor(a) => self.anchor(a, gate, family, flat),
                Item::Antispoof(a) => {
                    if gate.excluded || a.af.is_some_and(|af| af_family(af) != family) {
                        continue;
                    }
                    for r in antispoof(a, gate, family) {
                        if a.quick {
                            flat.quick.push(r);
                        } else {
                            flat.last.push(r);
                        }
                    }
                }
                Item::LoadAnchor(_) | Item::Ether(_) => {}
            }
        }
    }

    fn anchor(&self, a: &Anchor, gate: &Gate, family: Family, flat: &mut Flat) {
        if a.kind != AnchorKind::Filter {
            // Translation anchors are walked with the translation rules
            // (`translate.rs`); scrub, dummynet and ethernet anchors do not
            // decide.
            return;
        }
        let Some(inner) = self.gate_of(
            gate,
            a.direction,
            a.on.as_ref(),
            a.af,
            &a.proto,
            (&a.from, &a.to),
            &a.options,
            family,
        ) else {
            return;
        };
        let name = a.name.as_deref().unwrap_or("");
        // The rulesets evaluated here, in order: the anchor's own, or for
        // `"x/*"` its children's in name order; `None` for one filled at
        // run time, whatever it holds may decide the packets the gate lets
        // in.
        let parts: Vec<(String, Option<&[Item]>)> = match (&a.body, name.strip_suffix("/*")) {
            (Some(b), _) => vec![(name.to_string(), Some(b.as_slice()))],
            (None, Some(parent)) if !parent.is_empty() => {
                let children = self.children(parent);
                if children.is_empty() {
                    vec![(name.to_string(), None)]
                } else {
                    children
                }
            }
            (None, _) if !name.ends_with('*') => vec![(
                name.to_string(),
                self.loaded.get(name).map(|r| r.items.as_slice()),
            )],
            (None, _) => vec![(name.to_string(), None)],
        };
        // A quick anchor's rules decide as a block (see `flatten`); its
        // translations join the one list, with tags counted once.
        let mut own = Flat {
            nat: if a.quick {
                std::mem::take(&mut flat.nat)
            } else {
                Translations::default()
            },
            ..Flat::default()
        };
        let target = if a.quick { &mut own } else { &mut *flat };
        for (part, body) in parts {
            match body {
                Some(body) => self.flatten(body, &inner, family, target),
                None => target.quick.push(Flat1 {
                    span: a.span,
                    direction: inner.direction,
                    interfaces: inner.interfaces.clone(),
                    matches: inner.matches.clone(),
                    verdict: Verdict::Unknown(format!("anchor \"{part}\" is filled at run time")),
                }),
            }
        }
        if a.quick {
            flat.quick.extend(own.quick);
            flat.quick.extend(own.last.into_iter().rev());
            flat.translations.extend(own.translations);
            flat.nat = own.nat;
        }
    }

    /// The direct children of anchor `parent`, in name order, as `"x/*"`
    /// evaluates them ("the anchor's child anchors are evaluated in
    /// alphabetical order", pf.conf(5)): those loaded from a file (`load
    /// anchor "x/c" from ...`) or given inline in x's own ruleset with
    /// their rules, and those x's ruleset only names (`anchor "c/*"`), which
    /// the system fills at run time (macOS's `com.apple/200.AirDrop`).
    fn children(&self, parent: &str) -> Vec<(String, Option<&'a [Item]>)> {
        let prefix = format!("{parent}/");
        let mut out: BTreeMap<String, Option<&'a [Item]>> = BTreeMap::new();
        for (name, rs) in &self.loaded {
            if let Some(child) = name.strip_prefix(&prefix)
                && !child.is_empty()
                && !child.contains('/')
            {
                out.insert((*name).to_string(), Some(rs.items.as_slice()));
            }
        }
        if let Some(rs) = self.loaded.get(parent) {
            for item in &rs.items {
                let Item::Anchor(b) = item else { continue };
                if b.kind != AnchorKind::Filter {
                    continue;
                }
                let Some(n) = b.name.as_deref() else { continue };
                let child = n.strip_suffix("/*").unwrap_or(n);
                if child.is_empty() || child.contains('/') || child.contains('*') {
                    continue;
                }
                let full = format!("{prefix}{child}");
                let entry = out.entry(full).or_insert(None);
                if entry.is_none() {
                    *entry = b.body.as_deref();
                }
            }
        }
        out.into_iter().collect()
    }

    fn rule(&self, r: &Rule, gate: &Gate, family: Family, flat: &mut Flat) {
        let translation = r.options.iter().find_map(|o| match o {
            RuleOption::NatTo(_) => Some("nat-to"),
            RuleOption::RdrTo(_) => Some("rdr-to"),
            RuleOption::BinatTo(_) => Some("binat-to"),
            RuleOption::AfTo { .. } => Some("af-to"),
            RuleOption::DivertTo { .. } | RuleOption::DivertPacket(_) => Some("divert"),
            _ => None,
        });
        if r.action == PfAction::Match
            && translation.is_some()
            && translate::match_translation(
                self,
                r,
                gate,
                family,
                !(flat.quick.is_empty() && flat.last.is_empty() && flat.translations.is_empty()),
                &mut flat.nat,
            )
            .is_some()
        {
            return;
        }
        let (verdict, quick) = match r.action {
            PfAction::Pass => match translation {
                Some(t) => match (
                    self.pass_verdict(r),
                    translate::pass_translation(r, family, &mut flat.nat),
                ) {
                    (Verdict::Pass { syn_only, .. }, Some(tag)) => {
                        (Verdict::Pass { syn_only, tag }, r.quick)
                    }
                    _ => (
                        Verdict::Unknown(format!(
                            "{t}: a translation this pass makes is not modelled"
                        )),
                        true,
                    ),
                },
                None => (self.pass_verdict(r), r.quick),
            },
            PfAction::Block => (self.block_verdict(r, family), r.quick),
            PfAction::Match => match translation {
                Some(t) => (
                    Verdict::Unknown(format!(
                        "match {t}: the rules see the translated packet, which is not modelled yet"
                    )),
                    true,
                ),
                None => return,
            },
            // Translation rules are walked apart (`translate.rs`).
            PfAction::Nat
            | PfAction::Rdr
            | PfAction::Binat
            | PfAction::NoNat
            | PfAction::NoRdr
            | PfAction::NoBinat
            | PfAction::Scrub
            | PfAction::Dummynet => return,
        };
        let direction = r.direction;
        let Some(alternatives) = self.alternatives(r, gate, direction, family) else {
            return;
        };
        let direction = combine_direction(gate.direction, direction);
        for (interfaces, matches) in alternatives {
            let f = Flat1 {
                span: r.span,
                direction,
                interfaces,
                matches,
                verdict: verdict.clone(),
            };
            if matches!(f.verdict, Verdict::Unknown(_)) {
                flat.translations.push(f);
            } else if quick {
                flat.quick.push(f);
            } else {
                flat.last.push(f);
            }
        }
    }

    fn pass_verdict(&self, r: &Rule) -> Verdict {
        let stateless = r
            .options
            .iter()
            .any(|o| matches!(o, RuleOption::State(s) if s.kind == StateKind::No));
        if stateless {
            return Verdict::PassStateless;
        }
        // pfctl gives a stateful pass `flags S/SA` unless it names flags.
        let syn_only = !r.options.iter().any(|o| match o {
            RuleOption::FlagsAny => true,
            RuleOption::Flags { set, mask } => !(set == "S" && mask == "SA"),
            _ => false,
        });
        Verdict::Pass { syn_only, tag: 0 }
    }

    fn block_verdict(&self, r: &Rule, family: Family) -> Verdict {
        let how = match &r.block {
            Some(BlockHow::Default) | None if self.block_returns => &BlockHow::Return,
            Some(b) => b,
            None => &BlockHow::Drop,
        };
        let icmp = match family {
            Family::Ipv4 => RejectKind::IcmpPortUnreachable,
            Family::Ipv6 => RejectKind::Icmp6PortUnreachable,
        };
        let action = match how {
            BlockHow::Default | BlockHow::Drop => Action::Drop,
            // TCP gets a RST, others an ICMP unreachable: the rule is split
            // by protocol where it is placed (see `emit`).
            BlockHow::Return => return Verdict::BlockReturn(icmp),
            BlockHow::ReturnRst(_) => return Verdict::BlockRst,
            BlockHow::ReturnIcmp(codes) if family == Family::Ipv4 => {
                match codes.first().map(String::as_str) {
                    None => Action::Reject { with: icmp },
                    Some(c) => icmp_code(c, family).map_or_else(
                        || Action::Unknown {
                            text: format!("return-icmp ({c})"),
                        },
                        |with| Action::Reject { with },
                    ),
                }
            }
            BlockHow::ReturnIcmp(codes) => match codes.get(1).map(String::as_str) {
                None => Action::Reject { with: icmp },
                Some(c) => icmp_code(c, family).map_or_else(
                    || Action::Unknown {
                        text: format!("return-icmp ({c})"),
                    },
                    |with| Action::Reject { with },
                ),
            },
            BlockHow::ReturnIcmp6(codes) => match codes.first().map(String::as_str) {
                None => Action::Reject { with: icmp },
                Some(c) => icmp_code(c, family).map_or_else(
                    || Action::Unknown {
                        text: format!("return-icmp6 ({c})"),
                    },
                    |with| Action::Reject { with },
                ),
            },
        };
        Verdict::Block(action)
    }

    /// The gate an anchor adds to the one it is in; `None` when the anchor
    /// holds nothing for this family.
    #[allow(clippy::too_many_arguments)]
    fn gate_of(
        &self,
        gate: &Gate,
        direction: Direction,
        on: Option<&On>,
        af: Option<Af>,
        proto: &[super::ast::Proto],
        ends: (&super::ast::Endpoint, &super::ast::Endpoint),
        options: &[RuleOption],
        family: Family,
    ) -> Option<Gate> {
        if gate.excluded || af.is_some_and(|a| af_family(a) != family) {
            return None;
        }
        let rule = Rule {
            span: Span {
                file: 0,
                line: 0,
                column: 0,
                start: 0,
                end: 0,
            },
            action: PfAction::Pass,
            block: None,
            direction,
            log: None,
            quick: false,
            pass: false,
            on: on.cloned(),
            af,
            proto: proto.to_vec(),
            from: ends.0.clone(),
            to: ends.1.clone(),
            options: options.to_vec(),
            redirect: None,
        };
        let mut alternatives = self.alternatives(&rule, gate, direction, family)?;
        let (interfaces, matches) = if alternatives.len() == 1 {
            alternatives.pop()?
        } else {
            // A gate with lists: kept whole as an unknown, rather than
            // multiplying the anchor's body.
            (
                gate.interfaces.clone(),
                with_unknown(gate.matches.clone(), "an anchor gate with lists"),
            )
        };
        Some(Gate {
            direction: combine_direction(gate.direction, direction),
            interfaces,
            matches,
            excluded: false,
        })
    }

    /// A rule's conditions for one family, as the alternatives pfctl's
    /// expansion of its lists makes; `None` if it holds nothing here.
    fn alternatives(
        &self,
        r: &Rule,
        gate: &Gate,
        direction: Direction,
        family: Family,
    ) -> Option<Alternatives> {
        if gate.excluded || r.af.is_some_and(|a| af_family(a) != family) {
            return None;
        }
        if gate.direction != Direction::Both
            && direction != Direction::Both
            && gate.direction != direction
        {
            return None;
        }
        let mut matches = gate.matches.clone();
        let mut unknown: Vec<String> = Vec::new();
        // Protocols.
        if !r.proto.is_empty() {
            let mut protocols = crate::model::Protocols::new();
            for p in &r.proto {
                match p.number {
                    Some(n) => protocols.push(n),
                    None => unknown.push(format!("protocol `{}`", p.name)),
                }
            }
            if !protocols.is_empty() {
                matches.push(Match::Protocol {
                    negated: false,
                    protocols,
                });
            }
        }
        // Addresses and ports.
        for (end, source) in [(&r.from, true), (&r.to, false)] {
            match self.hosts(&end.hosts, family, source) {
                HostSide::Any => {}
                HostSide::Match(m) => matches.push(m),
                HostSide::OtherFamily => return None,
                HostSide::Unknown(u) => unknown.push(u),
            }
            if !end.ports.is_empty() {
                let ports = ports_of(&end.ports);
                if ports.is_empty() {
                    // `port != 0:65535` and the like: no port matches.
                    return None;
                }
                let full = ports.len() == 1 && ports[0].start == 0 && ports[0].end == u16::MAX;
                if !full {
                    matches.push(if source {
                        Match::SourcePort {
                            negated: false,
                            ports,
                        }
                    } else {
                        Match::DestinationPort {
                            negated: false,
                            ports,
                        }
                    });
                }
            }
        }
        // Options that narrow the rule.
        let tcp_only = r.proto.len() == 1 && r.proto[0].number == Some(6);
        // `flags S/SA` is what a stateful pass has anyway (pfctl prints it
        // on every such rule): the first packet of a TCP connection is a
        // SYN, and the rest pass with the state.
        let keeps_state = r.action == PfAction::Pass
            && !r
                .options
                .iter()
                .any(|o| matches!(o, RuleOption::State(s) if s.kind == StateKind::No));
        let mut icmp_lists: Vec<Vec<Match>> = Vec::new();
        for o in &r.options {
            match o {
                RuleOption::Flags { set, mask } if keeps_state && set == "S" && mask == "SA" => {}
                RuleOption::Flags { set, mask } if tcp_only => match (flags(set), flags(mask)) {
                    (Some(comp), Some(mask)) => matches.push(Match::TcpFlags {
                        negated: false,
                        mask,
                        comp: comp & mask,
                    }),
                    _ => unknown.push(format!("flags {set}/{mask}")),
                },
                RuleOption::Flags { set, mask } => {
                    unknown.push(format!("flags {set}/{mask} without proto tcp"))
                }
                RuleOption::IcmpType(types) | RuleOption::Icmp6Type(types) => icmp_lists.push(
                    types
                        .iter()
                        .map(|t| Match::Icmp {
                            negated: false,
                            icmp_type: t.r#type,
                            codes: t.code.map_or((0, 255), |c| (c, c)),
                        })
                        .collect(),
                ),
                RuleOption::Fragment => matches.push(Match::Fragment { negated: false }),
                RuleOption::User(_) => unknown.push("user: the socket's owner".to_string()),
                RuleOption::Group(_) => unknown.push("group: the socket's owner".to_string()),
                RuleOption::Tagged { name, .. } => {
                    unknown.push(format!("tagged {name}: tags are set at run time"))
                }
                RuleOption::Probability(p) => unknown.push(format!("probability {p}")),
                RuleOption::Tos(t) => unknown.push(format!("tos {t}")),
                RuleOption::Os(_) => unknown.push("os: the peer's fingerprint".to_string()),
                RuleOption::RouteTo(_) => {
                    unknown.push("route-to: the packet leaves by another interface".to_string())
                }
                RuleOption::Rtable(n) => unknown.push(format!("rtable {n}")),
                RuleOption::Once => {
                    unknown.push("once: the rule is removed after its first match".to_string())
                }
                RuleOption::State(s)
                    if s.options.iter().any(|o| {
                        o.first().is_some_and(|w| {
                            w.starts_with("max") || w == "overload" || w == "source-track"
                        })
                    }) =>
                {
                    unknown.push("state limits: reached at run time".to_string());
                }
                RuleOption::Limiter { name, .. } => {
                    unknown.push(format!("limiter {name}: reached at run time"))
                }
                _ => {}
            }
        }
        for u in unknown {
            matches.push(Match::Unknown { text: u });
        }
        // Interfaces: `on a` or `on { a, b }` (alternatives), `! a`.
        let mut per_interface: Vec<Vec<(bool, Interface)>> = vec![gate.interfaces.clone()];
        if let Some(on) = &r.on {
            match on {
                On::Interfaces(list) if list.iter().all(|i| i.name == "any") => {}
                On::Interfaces(list) => {
                    per_interface = list
                        .iter()
                        .map(|i| {
                            let mut v = gate.interfaces.clone();
                            match interface(&i.name) {
                                Ok(iface) => v.push((i.not, iface)),
                                Err(group) => v.push((
                                    false,
                                    Interface {
                                        name: format!("?{group}"),
                                        wildcard: false,
                                    },
                                )),
                            }
                            v
                        })
                        .collect();
                }
                On::Rdomain(n) => matches.push(Match::Unknown {
                    text: format!("on rdomain {n}"),
                }),
            }
        }
        // Interface groups are unknown: an unknown match in place of the name.
        let mut out: Alternatives = Vec::new();
        for ifaces in per_interface {
            let mut m = matches.clone();
            let mut known = Vec::new();
            for (neg, i) in ifaces {
                match i.name.strip_prefix('?') {
                    Some(group) => m.push(Match::Unknown {
                        text: format!(
                            "interface group `{group}`: its members are the running host's"
                        ),
                    }),
                    None => known.push((neg, i)),
                }
            }
            if icmp_lists.is_empty() {
                out.push((known, m));
            } else {
                for list in &icmp_lists {
                    for icmp in list {
                        let mut m2 = m.clone();
                        m2.push(icmp.clone());
                        out.push((known.clone(), m2));
                    }
                }
            }
        }
        Some(out)
    }

    /// `from`/`to` hosts for one family: a union of its items.
    fn hosts(&self, hosts: &[Host], family: Family, source: bool) -> HostSide {
        if hosts.is_empty() {
            return HostSide::Any;
        }
        let bits = match family {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        };
        let max = if bits == 32 {
            u32::MAX as u128
        } else {
            u128::MAX
        };
        let mut union: Vec<(u128, u128)> = Vec::new();
        let mut any_here = false;
        for h in hosts {
            let set = match self.host_set(&h.addr, family) {
                HostSet::Any => vec![(0, max)],
                HostSet::Ranges(r) => r,
                HostSet::OtherFamily => continue,
                HostSet::Unknown(u) => return HostSide::Unknown(u),
            };
            any_here = true;
            let set = if h.not { complement(&set, max) } else { set };
            union.extend(set);
        }
        if !any_here {
            return HostSide::OtherFamily;
        }
        let union = normalize(union);
        if union == [(0, max)] {
            return HostSide::Any;
        }
        if union.is_empty() {
            return HostSide::OtherFamily;
        }
        let mut nets = Nets::new();
        for (a, b) in &union {
            match (to_ip(*a, family), to_ip(*b, family)) {
                (Some(a), Some(b)) => match crate::values::networks::range_to_nets(a, b) {
                    Some(n) => nets.extend(n),
                    None => return HostSide::Unknown("an address range".to_string()),
                },
                _ => return HostSide::Unknown("an address range".to_string()),
            }
        }
        HostSide::Match(if source {
            Match::Source {
                negated: false,
                nets,
            }
        } else {
            Match::Destination {
                negated: false,
                nets,
            }
        })
    }

    fn host_set(&self, addr: &Addr, family: Family) -> HostSet {
        match addr {
            Addr::Any => HostSet::Any,
            Addr::Ip { ip, prefix } => {
                if family_of(ip) != family {
                    return HostSet::OtherFamily;
                }
                let len = prefix.unwrap_or(if family == Family::Ipv4 { 32 } else { 128 });
                match IpNet::new(*ip, len) {
                    Ok(net) => {
                        let net = net.trunc();
                        HostSet::Ranges(vec![(ip_value(net.network()), ip_value(net.broadcast()))])
                    }
                    Err(_) => HostSet::Unknown(format!("{ip}/{len}")),
                }
            }
            Addr::Range(a, b) => {
                if family_of(a) != family || family_of(b) != family {
                    return HostSet::OtherFamily;
                }
                HostSet::Ranges(vec![(ip_value(*a), ip_value(*b))])
            }
            Addr::Table(name) => self.table_set(name, family),
            Addr::SelfAddr => HostSet::Unknown("self: the running host's addresses".to_string()),
            Addr::NoRoute => HostSet::Unknown("no-route: the running host's routes".to_string()),
            Addr::UrpfFailed => {
                HostSet::Unknown("urpf-failed: the running host's routes".to_string())
            }
            Addr::Name { name, .. } => HostSet::Unknown(format!(
                "`{name}`: an interface or host name, resolved on the running host"
            )),
            Addr::Dynamic { interface, .. } => HostSet::Unknown(format!(
                "({interface}): the interface's addresses when the packet comes"
            )),
            Addr::Route(label) => HostSet::Unknown(format!("route {label}")),
        }
    }

    fn table_set(&self, name: &str, family: Family) -> HostSet {
        let Some(t) = self.tables.get(name) else {
            return HostSet::Unknown(format!("table <{name}> is not defined in the file"));
        };
        if !t.files.is_empty() || t.entries.is_empty() || t.entries.iter().any(|h| h.not) {
            return HostSet::Unknown(format!(
                "table <{name}>: its contents are not all in the file"
            ));
        }
        let mut out = Vec::new();
        for e in &t.entries {
            match self.host_set(&e.addr, family) {
                HostSet::Ranges(r) => out.extend(r),
                HostSet::Any => return HostSet::Any,
                HostSet::OtherFamily => {}
                HostSet::Unknown(u) => return HostSet::Unknown(format!("table <{name}>: {u}")),
            }
        }
        if out.is_empty() {
            // No address of this family: matches nothing here.
            return HostSet::Ranges(Vec::new());
        }
        HostSet::Ranges(out)
    }

    /// The chains of one family's table.
    fn chains(&self, rules: &[Flat1], state_span: Span, default_span: Span) -> Vec<Chain> {
        let make = |name: &str, hook: Hook, priority: i32, dir: Direction| {
            let mut out = Vec::new();
            for (iface, span) in &self.skip {
                if let Ok(i) = interface(iface) {
                    out.push(MRule {
                        span: *span,
                        matches: vec![iface_match(dir, false, i)],
                        action: Action::Accept,
                    });
                }
            }
            // pf's states: an answer pf sent itself (RELATED), and the
            // packets of a connection a pass rule kept state for on this
            // crossing, in the connection's direction or back: "packets
            // matching an existing state are passed without evaluation of
            // any rules". A state is made in or out (pf_state_key_setup
            // keys it by direction), so a connection whose state was made
            // in passes this way in its original direction on the `in`
            // chain and in its reply direction on the `out` chains.
            let (mine, other) = (state_bit(dir), state_bit(reverse(dir)));
            out.push(MRule {
                span: state_span,
                matches: vec![Match::ConnState {
                    negated: false,
                    states: CtStates::RELATED,
                }],
                action: Action::Accept,
            });
            // (Only for packets after the first, which a state cannot pass:
            // a translation marks its connection before the filter, and
            // the state is made only if the filter passes the packet.)
            for (reply, bit) in [(false, mine), (true, other)] {
                out.push(MRule {
                    span: state_span,
                    matches: vec![
                        Match::ConnState {
                            negated: false,
                            states: CtStates::ESTABLISHED,
                        },
                        Match::ConnDirection { reply },
                        Match::ConnMark {
                            negated: false,
                            mask: bit,
                            value: bit,
                        },
                    ],
                    action: Action::Accept,
                });
            }
            for r in rules {
                if r.direction != Direction::Both && r.direction != dir {
                    continue;
                }
                let mut matches: Vec<Match> = r
                    .interfaces
                    .iter()
                    .map(|(neg, i)| iface_match(dir, *neg, i.clone()))
                    .collect();
                matches.extend(r.matches.iter().cloned());
                emit(&mut out, r, matches, mine);
            }
            Chain {
                name: name.to_string(),
                base: Some(BaseHook {
                    hook,
                    kind: ChainKind::Filter,
                    priority,
                }),
                policy: Some(Policy::Accept),
                span: default_span,
                rules: out,
            }
        };
        // pf filters a packet in on the interface it arrives by, before it
        // is routed: netfilter's prerouting hook, after the NAT of
        // `nat_chains` (-100) as pf translates before it filters. Out, on
        // the interface it leaves by: forward for a routed packet, output
        // for the host's own.
        vec![
            make("pf-in", Hook::Prerouting, -50, Direction::In),
            make("pf-out-forward", Hook::Forward, 0, Direction::Out),
            make("pf-out", Hook::Output, 0, Direction::Out),
        ]
    }

    /// The NAT chains of one family's translations: the inbound list at
    /// prerouting, before the inbound filter; the outbound list on the
    /// output and forward hooks, a step before the outbound filter.
    fn nat_chains(&self, t: &Translations, default_span: Span) -> Vec<Chain> {
        let make = |name: &str, hook: Hook, priority: i32, dir: Direction, rules: Vec<&Flat1>| {
            // `set skip on` interfaces are not translated either.
            let mut out: Vec<MRule> = self
                .skip
                .iter()
                .filter_map(|(iface, span)| {
                    interface(iface).ok().map(|i| MRule {
                        span: *span,
                        matches: vec![iface_match(dir, false, i)],
                        action: Action::Accept,
                    })
                })
                .collect();
            for r in rules {
                let Verdict::Translate(action) = &r.verdict else {
                    continue;
                };
                let mut matches: Vec<Match> = r
                    .interfaces
                    .iter()
                    .map(|(neg, i)| iface_match(dir, *neg, i.clone()))
                    .collect();
                matches.extend(r.matches.iter().cloned());
                // A translated connection keeps state on its crossing,
                // whatever the filter rule that passes it says: pf makes
                // the state the translation needs (pf_test_rule creates one
                // when a translation rule matched, `keep_state` or not).
                // `rdr pass` and `nat pass` too.
                if matches!(action, Action::Nat(_) | Action::NatPass(_)) {
                    out.push(MRule {
                        span: r.span,
                        matches: matches.clone(),
                        action: Action::SetConnMark { or: state_bit(dir) },
                    });
                }
                out.push(MRule {
                    span: r.span,
                    matches,
                    action: action.clone(),
                });
            }
            Chain {
                name: name.to_string(),
                base: Some(BaseHook {
                    hook,
                    kind: ChainKind::Nat,
                    priority,
                }),
                policy: Some(Policy::Accept),
                span: default_span,
                rules: out,
            }
        };
        // (name, hook, priority, crossing, rules): the translations of
        // `pass ... rdr-to`/`nat-to` after the filter of their crossing
        // decided; the others before it. Outbound ones on both hooks a
        // packet leaves by.
        let decided_nat: Vec<&Flat1> = t.decided_nat.iter().collect();
        let outbound: Vec<&Flat1> = t.outbound().collect();
        let plan: [(&str, Hook, i32, Direction, Vec<&Flat1>); 6] = [
            (
                "pf-rdr-decided",
                Hook::Prerouting,
                -40,
                Direction::In,
                t.decided_rdr.iter().collect(),
            ),
            (
                "pf-nat-decided-forward",
                Hook::Forward,
                1,
                Direction::Out,
                decided_nat.clone(),
            ),
            (
                "pf-nat-decided-out",
                Hook::Output,
                1,
                Direction::Out,
                decided_nat,
            ),
            (
                "pf-rdr",
                Hook::Prerouting,
                -100,
                Direction::In,
                t.inbound().collect(),
            ),
            (
                "pf-nat-forward",
                Hook::Forward,
                -1,
                Direction::Out,
                outbound.clone(),
            ),
            ("pf-nat-out", Hook::Output, -1, Direction::Out, outbound),
        ];
        plan.into_iter()
            .filter(|(.., rules)| !rules.is_empty())
            .map(|(name, hook, priority, dir, rules)| make(name, hook, priority, dir, rules))
            .collect()
    }
}

/// Places one flat rule in a chain as model rules.
/// pfctl's expansion of `antispoof for IF` (parse.y, `expand_antispoof`):
/// `block drop in on ! IF from (IF:network)`, and for an interface that is
/// not a loopback `block drop in on IF from (IF)` too. The loopback's
/// networks are fixed, 127.0.0.0/8 and ::1 (its scoped fe80::/64 cannot
/// be the source of a packet arriving elsewhere), so `antispoof for lo0`
/// is exact; any other interface's addresses are the running host's, and
/// what its rules could block is indeterminate.
fn antispoof(a: &super::ast::Antispoof, gate: &Gate, family: Family) -> Vec<Flat1> {
    let mut out = Vec::new();
    let mut unknown = false;
    for i in &a.interfaces {
        let base = i
            .name
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(':')
            .next()
            .unwrap_or("");
        if base != "lo" && base != "lo0" {
            unknown = true;
            continue;
        }
        let net: IpNet = match family {
            Family::Ipv4 => "127.0.0.0/8",
            Family::Ipv6 => "::1/128",
        }
        .parse()
        .unwrap_or_else(|_| IpNet::V4(Default::default()));
        let mut interfaces = gate.interfaces.clone();
        interfaces.push((
            true,
            Interface {
                name: "lo".to_string(),
                wildcard: false,
            },
        ));
        let mut matches = gate.matches.clone();
        matches.push(Match::Source {
            negated: false,
            nets: [net].into_iter().collect(),
        });
        out.push(Flat1 {
            span: a.span,
            direction: Direction::In,
            interfaces,
            matches,
            verdict: Verdict::Block(Action::Drop),
        });
    }
    if unknown {
        out.push(Flat1 {
            span: a.span,
            direction: Direction::In,
            interfaces: gate.interfaces.clone(),
            matches: with_unknown(
                gate.matches.clone(),
                "antispoof: the interface's addresses are the running host's",
            ),
            verdict: Verdict::Block(Action::Drop),
        });
    }
    out
}

/// The bit of a connection's mark that says pf kept state for it on a
/// crossing: 1 in, 2 out.
fn state_bit(dir: Direction) -> u32 {
    if dir == Direction::In { 1 } else { 2 }
}

fn reverse(dir: Direction) -> Direction {
    match dir {
        Direction::In => Direction::Out,
        _ => Direction::In,
    }
}

/// Places one flat rule in a chain as model rules; `state` is the mark bit
/// of a state made on this chain's crossing.
fn emit(out: &mut Vec<MRule>, r: &Flat1, matches: Vec<Match>, state: u32) {
    match &r.verdict {
        // A pass that keeps state marks the connection for its crossing.
        // For TCP it takes only a connection's first packet, `flags S/SA`
        // ("By default, pass rules ... use flags S/SA"), unless the rule
        // gives its own flags; pf tests flags on TCP packets only.
        Verdict::Pass { syn_only, tag } => {
            let may_be_tcp = !matches.iter().any(|m| {
                matches!(m, Match::Protocol { negated: false, protocols } if !protocols.contains(&6))
            });
            let only_tcp = matches.iter().any(|m| {
                matches!(m, Match::Protocol { negated: false, protocols } if protocols.as_slice() == [6])
            });
            let mut variants = Vec::new();
            if *syn_only && may_be_tcp {
                let mut tcp_syn = tcp_only(matches.clone());
                tcp_syn.push(Match::TcpFlags {
                    negated: false,
                    mask: crate::model::tcp_flags::SYN | crate::model::tcp_flags::ACK,
                    comp: crate::model::tcp_flags::SYN,
                });
                variants.push(tcp_syn);
                if !only_tcp {
                    let mut rest = matches;
                    rest.push(Match::Protocol {
                        negated: true,
                        protocols: [6u8].into_iter().collect(),
                    });
                    variants.push(rest);
                }
            } else {
                variants.push(matches);
            }
            for m in variants {
                out.push(MRule {
                    span: r.span,
                    matches: m.clone(),
                    action: Action::SetConnMark { or: state | tag },
                });
                out.push(MRule {
                    span: r.span,
                    matches: m,
                    action: Action::Accept,
                });
            }
        }
        // No state: this packet passes, and every later one meets the rules.
        Verdict::PassStateless => out.push(MRule {
            span: r.span,
            matches,
            action: Action::Accept,
        }),
        // Only in NAT chains (`Context::nat_chains`).
        Verdict::Translate(action) => out.push(MRule {
            span: r.span,
            matches,
            action: action.clone(),
        }),
        Verdict::Unknown(why) => {
            out.push(MRule {
                span: r.span,
                matches: with_unknown(matches.clone(), why),
                action: Action::Accept,
            });
            out.push(MRule {
                span: r.span,
                matches: with_unknown(matches, why),
                action: Action::Drop,
            });
        }
        // `block return`: TCP gets a RST, the rest the ICMP error.
        Verdict::BlockReturn(with) => {
            reset_tcp_then(out, r.span, matches, Action::Reject { with: *with })
        }
        // `return-rst` answers TCP only; other packets are dropped.
        Verdict::BlockRst => reset_tcp_then(out, r.span, matches, Action::Drop),
        Verdict::Block(action) => out.push(MRule {
            span: r.span,
            matches,
            action: action.clone(),
        }),
    }
}

/// TCP: the protocol whose connections need their replies. A UDP
/// datagram works when it arrives, so a stateless pass is exact for it.
fn tcp() -> Match {
    Match::Protocol {
        negated: false,
        protocols: [6u8].into_iter().collect(),
    }
}

fn tcp_only(mut matches: Vec<Match>) -> Vec<Match> {
    matches.push(tcp());
    matches
}

/// A TCP reset for the TCP packets `matches` holds, then `rest` for the
/// others.
fn reset_tcp_then(out: &mut Vec<MRule>, span: Span, matches: Vec<Match>, rest: Action) {
    out.push(MRule {
        span,
        matches: tcp_only(matches.clone()),
        action: Action::Reject {
            with: RejectKind::TcpReset,
        },
    });
    out.push(MRule {
        span,
        matches,
        action: rest,
    });
}

fn with_unknown(mut matches: Vec<Match>, text: &str) -> Vec<Match> {
    matches.push(Match::Unknown {
        text: text.to_string(),
    });
    matches
}

fn iface_match(dir: Direction, negated: bool, interface: Interface) -> Match {
    match dir {
        Direction::In => Match::InInterface { negated, interface },
        _ => Match::OutInterface { negated, interface },
    }
}

/// An interface of `on` or `set skip on`: a name ending in a digit is an
/// interface; any other name is a group whose members only the running
/// host knows. The model's loopback interface is `lo` (requirements that
/// name no interface leave it out): pf's `lo0` and its `lo` group are it.
fn interface(name: &str) -> Result<Interface, &str> {
    if name == "lo" || name == "lo0" {
        return Ok(Interface {
            name: "lo".to_string(),
            wildcard: false,
        });
    }
    if name.ends_with(|c: char| c.is_ascii_digit()) {
        Ok(Interface {
            name: name.to_string(),
            wildcard: false,
        })
    } else {
        Err(name)
    }
}

fn af_family(af: Af) -> Family {
    match af {
        Af::Inet => Family::Ipv4,
        Af::Inet6 => Family::Ipv6,
    }
}

fn ip_value(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn to_ip(v: u128, family: Family) -> Option<IpAddr> {
    match family {
        Family::Ipv4 => u32::try_from(v)
            .ok()
            .map(|x| IpAddr::V4(std::net::Ipv4Addr::from(x))),
        Family::Ipv6 => Some(IpAddr::V6(std::net::Ipv6Addr::from(v))),
    }
}

enum HostSide {
    Any,
    Match(Match),
    OtherFamily,
    Unknown(String),
}

enum HostSet {
    Any,
    Ranges(Vec<(u128, u128)>),
    OtherFamily,
    Unknown(String),
}

/// Sorted, merged, inclusive ranges.
fn normalize(mut v: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn complement(set: &[(u128, u128)], max: u128) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    let mut next = 0u128;
    let mut covered_to_end = false;
    for (a, b) in normalize(set.to_vec()) {
        if a > next {
            out.push((next, a - 1));
        }
        if b >= max {
            covered_to_end = true;
            break;
        }
        next = b + 1;
    }
    if !covered_to_end {
        out.push((next, max));
    }
    out
}

/// The ports a list of port operators matches (pfctl makes one rule per
/// item, so the rule matches the union).
fn ports_of(ops: &[PortOp]) -> Ports {
    let mut v: Vec<(u128, u128)> = Vec::new();
    let max = u16::MAX as u128;
    for op in ops {
        let r: Vec<(u128, u128)> = match *op {
            PortOp::Eq(p) => vec![(p as u128, p as u128)],
            PortOp::Ne(p) => complement(&[(p as u128, p as u128)], max),
            PortOp::Lt(0) => vec![],
            PortOp::Lt(p) => vec![(0, p as u128 - 1)],
            PortOp::Le(p) => vec![(0, p as u128)],
            PortOp::Gt(u16::MAX) => vec![],
            PortOp::Gt(p) => vec![(p as u128 + 1, max)],
            PortOp::Ge(p) => vec![(p as u128, max)],
            PortOp::Inside(a, b) if (b as u128) < a as u128 + 2 => vec![],
            PortOp::Inside(a, b) => vec![(a as u128 + 1, b as u128 - 1)],
            PortOp::Outside(a, b) => {
                let mut o = Vec::new();
                if a > 0 {
                    o.push((0, a as u128 - 1));
                }
                if b < u16::MAX {
                    o.push((b as u128 + 1, max));
                }
                o
            }
            PortOp::Range(a, b) if a <= b => vec![(a as u128, b as u128)],
            PortOp::Range(_, _) => vec![],
        };
        v.extend(r);
    }
    normalize(v)
        .into_iter()
        .map(|(a, b)| PortRange {
            start: a as u16,
            end: b as u16,
        })
        .collect()
}

/// TCP flag letters (`S`, `SA`, `FSRPAUEW`) as bits.
fn flags(letters: &str) -> Option<u8> {
    use crate::model::tcp_flags::*;
    letters.chars().try_fold(0u8, |acc, c| {
        let bit = match c {
            'F' => FIN,
            'S' => SYN,
            'R' => RST,
            'P' => PSH,
            'A' => ACK,
            'U' => URG,
            'E' => ECE,
            'W' => CWR,
            _ => return None,
        };
        Some(acc | bit)
    })
}

/// pf's ICMP code names of `return-icmp` (pf.conf(5), "icmp-code").
fn icmp_code(name: &str, family: Family) -> Option<RejectKind> {
    Some(match (family, name) {
        (Family::Ipv4, "net-unr" | "0") => RejectKind::IcmpNetUnreachable,
        (Family::Ipv4, "host-unr" | "1") => RejectKind::IcmpHostUnreachable,
        (Family::Ipv4, "proto-unr" | "2") => RejectKind::IcmpProtoUnreachable,
        (Family::Ipv4, "port-unr" | "3") => RejectKind::IcmpPortUnreachable,
        (Family::Ipv4, "net-prohib" | "9") => RejectKind::IcmpNetProhibited,
        (Family::Ipv4, "host-prohib" | "10") => RejectKind::IcmpHostProhibited,
        (Family::Ipv4, "filter-prohib" | "13") => RejectKind::IcmpAdminProhibited,
        (Family::Ipv6, "noroute-unr" | "0") => RejectKind::Icmp6NoRoute,
        (Family::Ipv6, "admin-unr" | "1") => RejectKind::Icmp6AdmProhibited,
        (Family::Ipv6, "addr-unr" | "3") => RejectKind::Icmp6AddrUnreachable,
        (Family::Ipv6, "port-unr" | "4") => RejectKind::Icmp6PortUnreachable,
        _ => return None,
    })
}
