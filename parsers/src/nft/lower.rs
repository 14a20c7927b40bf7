//! From the nftables syntax tree to the normalized model.
//!
//! nftables and the model differ in three ways this module bridges:
//! - an `inet` table serves IPv4 and IPv6: it becomes one model table per
//!   family, and a rule that names one family's fields (`ip saddr`,
//!   `icmpv6 type`, `meta nfproto ipv6`) exists only in that family's copy
//!   (in the other it can never match, so leaving it out is exact);
//! - sets, concatenations and verdict maps match one of several
//!   combinations: a rule becomes one model rule per combination, in order,
//!   which gives every packet the verdict of the first combination it meets,
//!   as nftables does;
//! - what the model cannot say (marks, `fib`, `limit`, dynamic sets, ...)
//!   becomes an `Unknown` match or action naming it, so results that depend
//!   on it are indeterminate, never silently allowed or dropped.

use super::ast::{self, Element, NatKind, Op, Selector, Stmt, TableFamily, Value, Verdict};
use super::vocab::{
    self, CtKey, CtState, Key, MetaKey, PayloadField, PayloadField as F, PayloadProtocol,
    PayloadProtocol as P, RejectWith, TCP_FLAGS, TcpFlag,
};
use crate::model::{
    self, Action, BaseHook, ChainKind, CtStates, Family, Hook, Interface, Match, Nat, PortRange,
    RejectKind, Span,
};
use crate::values::networks::{plain_ipv4_net, range_to_nets};
use crate::values::{icmp, protocols, reject};
use ipnet::IpNet;
use smallvec::SmallVec;
use std::net::IpAddr;

/// More combinations than this in one rule is reported rather than expanded.
const MAX_EXPANSION: usize = 65536;

/// Why a part of a rule cannot be lowered.
pub(crate) enum Problem {
    /// The value is wrong: a parse error at the rule.
    Invalid(String),
    /// Understood, not modelled: an `Unknown` match with this text.
    Unmodelled(String),
    /// Understood, and taken to hold (or not) under an assumption about
    /// the running host that the report states (`note`): the reverse-path
    /// check of `fib saddr . iif oif missing`.
    Assumed { holds: bool, note: String },
}

pub(crate) type Lowering<T> = Result<T, Problem>;

fn invalid<T>(msg: impl Into<String>) -> Lowering<T> {
    Err(Problem::Invalid(msg.into()))
}

/// Tables of the model, what was left out and why, and errors (with the
/// span they are at).
#[derive(Debug, Default)]
pub struct Lowered {
    pub tables: Vec<model::Table>,
    pub skipped: Vec<model::Skipped>,
    pub errors: Vec<(Span, String)>,
}

/// The model families of a table family; `None` for the tables that are
/// not host IP filtering.
pub(crate) fn families_of(family: TableFamily) -> Option<&'static [Family]> {
    match family {
        TableFamily::Ip => Some(&[Family::Ipv4]),
        TableFamily::Ip6 => Some(&[Family::Ipv6]),
        TableFamily::Inet => Some(&[Family::Ipv4, Family::Ipv6]),
        _ => None,
    }
}

/// Lowers the tables; the rules lowered while parsing are taken out of
/// their chains.
pub fn lower(tables: &mut [ast::Table]) -> Lowered {
    let mut out = Lowered::default();
    for t in tables {
        let families = match families_of(t.family) {
            Some(f) => f,
            None => {
                let other = t.family;
                out.skipped.push(model::Skipped {
                    span: t.span,
                    what: format!(
                        "table {} {}: {} tables are not host IP filtering, so they are not counted",
                        other.name(),
                        t.name,
                        other.name()
                    ),
                });
                continue;
            }
        };
        lower_table(t, families, &mut out);
    }
    out
}

/// One model table per family, lowered in one pass over the chains so that
/// a rule the family does not change is lowered once and copied (an inet
/// table's rules are mostly that or for one family only). Problems are
/// reported for the first family only, since the others would repeat them.
fn lower_table(t: &mut ast::Table, families: &[Family], out: &mut Lowered) {
    let mut early: Vec<[Vec<model::Rule>; 2]> = t
        .chains
        .iter_mut()
        .map(|c| std::mem::take(&mut c.early))
        .collect();
    let t = &*t;
    let mut chains: Vec<Vec<model::Chain>> = families
        .iter()
        .map(|_| Vec::with_capacity(t.chains.len()))
        .collect();
    let mut scratch = Vec::new();
    for (c, early) in t.chains.iter().zip(&mut early) {
        let base = match &c.base {
            None => None,
            Some(b) => {
                let hook = match b.hook.as_str() {
                    "prerouting" => Hook::Prerouting,
                    "input" => Hook::Input,
                    "forward" => Hook::Forward,
                    "output" => Hook::Output,
                    "postrouting" => Hook::Postrouting,
                    other => {
                        out.skipped.push(model::Skipped {
                            span: c.span,
                            what: format!("chain {} {} {}: the {other} hook sees packets before IP filtering, it is not counted", t.family.name(), t.name, c.name),
                        });
                        continue;
                    }
                };
                let kind = match b.kind.as_str() {
                    "nat" => ChainKind::Nat,
                    "route" => ChainKind::Mangle,
                    _ => ChainKind::Filter,
                };
                Some(BaseHook {
                    hook,
                    kind,
                    priority: b.priority,
                })
            }
        };
        let policy = match c.policy.as_deref() {
            Some("drop") => Some(model::Policy::Drop),
            Some(_) => Some(model::Policy::Accept),
            None => base.map(|_| model::Policy::Accept),
        };
        let rules = lower_chain_rules(
            c,
            t,
            families,
            early,
            &mut scratch,
            &mut out.errors,
            &mut out.skipped,
        );
        for (list, rules) in chains.iter_mut().zip(rules) {
            list.push(model::Chain {
                name: c.name.clone(),
                base,
                policy,
                span: c.span,
                rules,
            });
        }
    }
    for (&family, chains) in families.iter().zip(chains) {
        out.tables.push(model::Table {
            family,
            name: format!("{} {}", t.family.name(), t.name),
            span: t.span,
            chains,
        });
    }
}

/// The model rules of a chain, one list per family: the rules lowered while
/// parsing moved in (or copied, when rules were inserted before others or
/// flushed), the others lowered here.
fn lower_chain_rules(
    c: &ast::Chain,
    t: &ast::Table,
    families: &[Family],
    early: &mut [Vec<model::Rule>; 2],
    scratch: &mut Vec<Match>,
    errors: &mut Vec<(Span, String)>,
    skipped: &mut Vec<model::Skipped>,
) -> SmallVec<[Vec<model::Rule>; 2]> {
    // Whether the early rules are in their chain's order, each list used whole.
    let mut next = [0u32; 2];
    let mut all_early = true;
    for r in &c.rules {
        match &r.early {
            Some(e) if e.start == next => next = [next[0] + e.count[0], next[1] + e.count[1]],
            Some(_) => next = [u32::MAX; 2],
            None => all_early = false,
        }
    }
    let in_order = next
        .iter()
        .zip(early.iter())
        .all(|(&n, list)| n as usize == list.len());
    if in_order && all_early {
        return families
            .iter()
            .enumerate()
            .map(|(i, _)| std::mem::take(&mut early[i]))
            .collect();
    }
    let mut moved: SmallVec<[std::vec::IntoIter<model::Rule>; 2]> = early
        .iter_mut()
        .map(|l| std::mem::take(l).into_iter())
        .collect();
    let mut rules: SmallVec<[Vec<model::Rule>; 2]> = families
        .iter()
        .map(|_| Vec::with_capacity(c.rules.len()))
        .collect();
    for r in &c.rules {
        if let Some(e) = &r.early {
            for (i, list) in rules.iter_mut().enumerate() {
                let n = e.count[i] as usize;
                if in_order {
                    list.extend(moved[i].by_ref().take(n));
                } else {
                    // A rule was inserted before others: copied from where it is.
                    let s = e.start[i] as usize;
                    list.extend_from_slice(moved[i].as_slice().get(s..s + n).unwrap_or_default());
                }
            }
            continue;
        }
        if let Some(target) = missing_target(r, t) {
            errors.push((
                r.span,
                format!(
                    "no chain `{target}` in table {} {} to jump to",
                    t.family.name(),
                    t.name
                ),
            ));
            continue;
        }
        let mut notes = Vec::new();
        if let Some(msg) = lower_rule_families(
            r.span, &r.stmts, t, families, &mut rules, scratch, &mut notes,
        ) {
            errors.push((r.span, msg));
        }
        skipped.extend(
            notes
                .into_iter()
                .map(|what| model::Skipped { span: r.span, what }),
        );
    }
    rules
}

/// One rule in each family of its table, onto `rules` (one list per
/// family); the problem that keeps it out of the first family, if any.
fn lower_rule_families(
    span: Span,
    stmts: &[Stmt],
    t: &ast::Table,
    families: &[Family],
    rules: &mut [Vec<model::Rule>],
    scratch: &mut Vec<Match>,
    notes: &mut Vec<String>,
) -> Option<String> {
    let neutral = family_neutral(stmts);
    // Where this rule's model rules start in the first family's chain.
    let first_start = rules[0].len();
    let mut problem = None;
    // Problems are reported from the first family the rule can be in (an
    // `ip6 ...` rule of an inet table is read only as IPv6).
    let reporter = families
        .iter()
        .position(|f| !never_in(stmts, *f))
        .unwrap_or(0);
    for (i, &family) in families.iter().enumerate() {
        if i > 0 && neutral {
            let (first, rest) = rules.split_at_mut(1);
            rest[i - 1].extend_from_slice(&first[0][first_start..]);
            continue;
        }
        // Only one family reports problems (see `reporter`): the others may
        // leave out at once a rule that names another family.
        if i > 0 && never_in(stmts, family) {
            continue;
        }
        let mut family_notes = Vec::new();
        if let Err(msg) = lower_rule(
            span,
            stmts,
            t,
            family,
            &mut rules[i],
            scratch,
            &mut family_notes,
        ) && i == reporter
        {
            problem = Some(msg);
        }
        if i == reporter {
            notes.append(&mut family_notes);
        }
    }
    problem
}

/// A chain a rule jumps to (in a verdict or a verdict map) that the table
/// does not have.
fn missing_target(r: &ast::Rule, t: &ast::Table) -> Option<String> {
    let exists = |target: &str| t.chains.iter().any(|c| c.name == target);
    // Jumps in verdicts and in the elements of verdict maps.
    let map_targets = |map: &Value| -> Option<String> {
        let elements: &[Element] = match map {
            Value::Set(es) => es,
            Value::SetRef(name) => t
                .sets
                .iter()
                .find(|s| s.name == *name)
                .map(|s| s.elements.as_slice())
                .unwrap_or_default(),
            _ => &[],
        };
        elements.iter().find_map(|e| match &e.data {
            Some(Value::Atom(v)) => v
                .strip_prefix("jump ")
                .or_else(|| v.strip_prefix("goto "))
                .filter(|c| !exists(c))
                .map(str::to_string),
            _ => None,
        })
    };
    r.stmts.iter().find_map(|s| match s {
        Stmt::Verdict(Verdict::Jump(target) | Verdict::Goto(target)) if !exists(target) => {
            Some(target.clone())
        }
        Stmt::Vmap { map, .. } => map_targets(map),
        _ => None,
    })
}

/// Whether a rule lowers to the same model rules in every family: it names
/// no family's fields, does not test the family, and neither rejects (the
/// ICMP error is the family's) nor translates addresses.
fn family_neutral(stmts: &[Stmt]) -> bool {
    let neutral_selectors = |left: &[Selector]| {
        left.iter().all(|s| {
            family_of(s).is_none()
                && !matches!(
                    Key::of(s),
                    Some(Key::Meta(MetaKey::Nfproto | MetaKey::Protocol))
                )
        })
    };
    stmts.iter().all(|s| match s {
        Stmt::Match { left, .. } | Stmt::Vmap { left, .. } => neutral_selectors(left),
        Stmt::Verdict(Verdict::Reject(_)) | Stmt::Nat { .. } => false,
        Stmt::Verdict(_)
        | Stmt::Notrack
        | Stmt::Effect(_)
        | Stmt::Condition(_)
        | Stmt::Unknown(_) => true,
    })
}

/// Whether a rule certainly lowers to nothing in `family`: a match it
/// reaches (before its verdict) names another family's field. Problems in
/// its other statements are then not looked for.
fn never_in(stmts: &[Stmt], family: Family) -> bool {
    for s in stmts {
        match s {
            Stmt::Match { left, .. } => {
                if left
                    .iter()
                    .any(|s| family_of(s).is_some_and(|f| f != family))
                {
                    return true;
                }
            }
            Stmt::Effect(_) | Stmt::Condition(_) | Stmt::Unknown(_) => {}
            // What follows a verdict is not lowered.
            Stmt::Verdict(_) | Stmt::Vmap { .. } | Stmt::Nat { .. } | Stmt::Notrack => {
                return false;
            }
        }
    }
    false
}

/// The alternatives a statement allows: each a list of matches that must all hold.
enum Cond {
    All(SmallVec<[Match; 2]>),
    Any(Vec<Vec<Match>>),
    /// Can never hold in this family: the rule is left out of it.
    Never,
}

/// A rule's conditions as its statements are lowered, in order: the matches
/// every combination has (in a list kept from rule to rule), where the
/// alternatives go among them, and the first thing that ends the rule (a
/// condition that never holds, a set with no element, too many
/// combinations), which waits so that an error in a later statement is
/// still the one reported.
struct Conds<'s> {
    fixed: &'s mut Vec<Match>,
    /// Where each statement with alternatives goes in `fixed`, and its alternatives.
    alts: SmallVec<[(usize, Vec<Vec<Match>>); 1]>,
    /// How many combinations the alternatives so far make.
    count: usize,
    stop: Option<Result<(), String>>,
}

impl Conds<'_> {
    fn push(&mut self, c: Cond) {
        if self.stop.is_some() {
            return;
        }
        match c {
            Cond::All(ms) => self.fixed.extend(ms),
            Cond::Never => self.stop = Some(Ok(())),
            Cond::Any(list) if list.is_empty() => self.stop = Some(Ok(())),
            Cond::Any(list) => {
                if self.count * list.len() > MAX_EXPANSION {
                    self.stop = Some(Err(format!(
                        "the rule's sets expand to more than {MAX_EXPANSION} combinations, which driftwall does not evaluate"
                    )));
                    return;
                }
                self.count *= list.len();
                self.alts.push((self.fixed.len(), list));
            }
        }
    }

    /// Every combination, in order (the first statement's alternatives vary
    /// slowest), each allocated once at its size.
    fn combinations(self) -> SmallVec<[Vec<Match>; 1]> {
        let fixed = self.fixed;
        if self.alts.is_empty() {
            // Drained, not taken: the rule gets a list of its exact size and
            // the kept list its room for the next rule.
            #[allow(clippy::drain_collect)]
            return smallvec::smallvec![fixed.drain(..).collect()];
        }
        let mut out = SmallVec::with_capacity(self.count);
        let mut pick: SmallVec<[usize; 4]> = smallvec::smallvec![0; self.alts.len()];
        loop {
            let len = fixed.len()
                + self
                    .alts
                    .iter()
                    .zip(&pick)
                    .map(|((_, list), &i)| list[i].len())
                    .sum::<usize>();
            let mut combo = Vec::with_capacity(len);
            let mut from = 0;
            for ((at, list), &i) in self.alts.iter().zip(&pick) {
                combo.extend_from_slice(&fixed[from..*at]);
                combo.extend_from_slice(&list[i]);
                from = *at;
            }
            combo.extend_from_slice(&fixed[from..]);
            out.push(combo);
            // The next combination: the last alternatives move fastest.
            let mut k = pick.len();
            loop {
                if k == 0 {
                    return out;
                }
                k -= 1;
                pick[k] += 1;
                if pick[k] < self.alts[k].1.len() {
                    break;
                }
                pick[k] = 0;
            }
        }
    }
}

/// One model rule per combination of the alternatives, in order, added to
/// `rules` (nothing is added on an error); an error message for a value
/// nftables would refuse. `scratch` is room for the rule's matches that
/// outlives it, so that a rule allocates only its model.
fn lower_rule(
    span: Span,
    stmts: &[Stmt],
    t: &ast::Table,
    family: Family,
    rules: &mut Vec<model::Rule>,
    scratch: &mut Vec<Match>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    scratch.clear();
    let mut conds = Conds {
        fixed: scratch,
        alts: SmallVec::new(),
        count: 1,
        stop: None,
    };
    // The action, or the alternatives of a verdict map, each with its action.
    let mut action: Option<Action> = None;
    let mut vmap: Option<Vec<(Vec<Match>, Action)>> = None;
    let mut unknown_action: Option<String> = None;
    for s in stmts {
        if action.is_some() || vmap.is_some() {
            // nft accepts statements after a verdict only as dead code; they never run.
            break;
        }
        match s {
            Stmt::Match { left, op, right } => match lower_match(left, *op, right, t, family) {
                Ok(c) => conds.push(c),
                // A value nft refuses is an error in the file, not something unmodelled.
                Err(Problem::Invalid(msg)) => return Err(msg),
                Err(p) => {
                    if let Problem::Assumed { note, .. } = &p {
                        notes.push(note.clone());
                    }
                    conds.push(problem_cond(p, left, right))
                }
            },
            Stmt::Vmap { left, map } => {
                let entries = match map_entries(map, t) {
                    Ok(e) => e,
                    Err(Problem::Invalid(m)) => return Err(m),
                    Err(Problem::Unmodelled(text) | Problem::Assumed { note: text, .. }) => {
                        conds.push(Cond::All(smallvec::smallvec![Match::Unknown {
                            text: format!("{} vmap {text}", selectors_text(left))
                        }]));
                        unknown_action = Some(format!("verdict map {}", value_text(map)));
                        continue;
                    }
                };
                let mut alts = Vec::new();
                for e in entries {
                    let Some(data) = &e.data else {
                        return Err("a verdict map element needs a verdict after `:`".into());
                    };
                    let verdict = verdict_of(data)?;
                    let act = match lower_verdict(&verdict, family) {
                        Some(a) => a,
                        None => continue,
                    };
                    match lower_match(left, Op::Eq, &e.key, t, family) {
                        Ok(Cond::All(ms)) => alts.push((ms.into_vec(), act)),
                        Ok(Cond::Any(list)) => {
                            alts.extend(list.into_iter().map(|ms| (ms, act.clone())))
                        }
                        Ok(Cond::Never) => {}
                        Err(p) => {
                            if let Cond::All(ms) = problem_cond(p, left, &e.key) {
                                alts.push((ms.into_vec(), act))
                            }
                        }
                    }
                }
                vmap = Some(alts);
            }
            Stmt::Verdict(v) => match lower_verdict(v, family) {
                Some(a) => {
                    // `reject with tcp reset` carries a hidden `meta l4proto tcp`
                    // (nft adds it, and neither `list` nor `-j` shows it): the
                    // rule passes over every other protocol.
                    if a == (Action::Reject {
                        with: RejectKind::TcpReset,
                    }) {
                        conds.push(Cond::All(smallvec::smallvec![Match::Protocol {
                            negated: false,
                            protocols: smallvec::smallvec![6]
                        }]));
                    }
                    action = Some(a)
                }
                // `reject with icmpv6 ...` in the IPv4 copy of an inet table:
                // nft makes the rule match only IPv6.
                None => return Ok(()),
            },
            Stmt::Nat {
                kind,
                family: nat_fam,
                addr,
                port,
            } => {
                if let Some(f) = nat_fam
                    && !matches!(
                        (f.as_str(), family),
                        ("ip", Family::Ipv4) | ("ip6", Family::Ipv6)
                    )
                {
                    // `dnat ip6 to ...` in the IPv4 copy: the rule only
                    // matches the other family, whose address this is not.
                    return Ok(());
                }
                action = Some(Action::Nat(lower_nat(
                    kind,
                    addr.as_deref(),
                    port.as_deref(),
                    family,
                )?));
            }
            Stmt::Notrack => action = Some(Action::NoTrack),
            Stmt::Effect(_) => {}
            Stmt::Condition(text) => conds.push(Cond::All(smallvec::smallvec![Match::Unknown {
                text: text.clone()
            }])),
            Stmt::Unknown(text) => {
                unknown_action = Some(text.clone());
            }
        }
    }
    // A statement we cannot model that may decide the packet: the rule's
    // action is unknown, whatever verdict follows.
    let action = match (unknown_action, action) {
        (Some(text), _) => Some(Action::Unknown { text }),
        (None, a) => a,
    };
    if let Some(stop) = conds.stop.take() {
        return stop;
    }
    let combos = conds.combinations();
    if combos.iter().any(|combo| protocols_contradict(combo)) {
        return Err(
            "the rule's protocols contradict each other, so nft refuses it (conflicting protocols)"
                .into(),
        );
    }
    match vmap {
        Some(alts) => {
            if combos.len() * alts.len().max(1) > MAX_EXPANSION {
                return Err(format!(
                    "the rule's verdict map expands to more than {MAX_EXPANSION} combinations, which driftwall does not evaluate"
                ));
            }
            for combo in &combos {
                for (ms, act) in &alts {
                    rules.push(model::Rule {
                        span,
                        matches: [combo.as_slice(), ms].concat(),
                        action: act.clone(),
                    });
                }
            }
        }
        None => {
            let action = action.unwrap_or(Action::Continue);
            // The last combination takes the action, the others a copy.
            let mut combos = combos.into_iter();
            let last = combos.next_back();
            for combo in combos {
                rules.push(model::Rule {
                    span,
                    matches: combo,
                    action: action.clone(),
                });
            }
            if let Some(combo) = last {
                rules.push(model::Rule {
                    span,
                    matches: combo,
                    action,
                });
            }
        }
    }
    Ok(())
}

/// Whether the protocol matches of one combination allow no protocol at
/// all: nft refuses such a rule (`ip6 nexthdr comp udp dport 4789`).
pub(crate) fn protocols_contradict(matches: &[Match]) -> bool {
    // The protocols every match so far allows, as a bit set of 256.
    let mut allowed: Option<[u64; 4]> = None;
    for m in matches {
        if let Match::Protocol {
            negated: false,
            protocols,
        } = m
        {
            let mut these = [0u64; 4];
            for &p in protocols {
                these[p as usize / 64] |= 1 << (p % 64);
            }
            let now = match allowed {
                None => these,
                Some(a) => [
                    a[0] & these[0],
                    a[1] & these[1],
                    a[2] & these[2],
                    a[3] & these[3],
                ],
            };
            if now == [0; 4] {
                return true;
            }
            allowed = Some(now);
        }
    }
    false
}

fn problem_cond(p: Problem, left: &[Selector], right: &Value) -> Cond {
    match p {
        Problem::Assumed { holds: true, .. } => Cond::All(SmallVec::new()),
        Problem::Assumed { holds: false, .. } => Cond::Any(Vec::new()),
        Problem::Unmodelled(text) => Cond::All(smallvec::smallvec![Match::Unknown { text }]),
        Problem::Invalid(msg) => Cond::All(smallvec::smallvec![Match::Unknown {
            text: format!("{} {}: {msg}", selectors_text(left), value_text(right))
        }]),
    }
}

pub(crate) fn selectors_text(left: &[Selector]) -> String {
    left.iter()
        .map(|s| match s {
            Selector::Payload { protocol, field } => format!("{protocol} {field}"),
            Selector::Meta(k) => format!("meta {k}"),
            Selector::Ct(k) => format!("ct {k}"),
            Selector::Other(t) => t.clone(),
        })
        .collect::<Vec<_>>()
        .join(" . ")
}

pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::Atom(a) => a.to_string(),
        Value::Range(a, b) => format!("{a}-{b}"),
        Value::Concat(vs) => vs.iter().map(value_text).collect::<Vec<_>>().join(" . "),
        Value::Set(es) => format!(
            "{{ {} }}",
            es.iter()
                .map(|e| value_text(&e.key))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::SetRef(n) => format!("@{n}"),
        Value::Masked { mask, comp } => format!("& ({}) == {}", mask.join("|"), comp.join("|")),
        Value::Flags(f) => f.join(","),
    }
}

/// The elements of a set value, with named sets looked up.
fn elements<'a>(v: &'a Value, t: &'a ast::Table) -> Lowering<&'a [Element]> {
    match v {
        Value::Set(es) => Ok(es),
        Value::SetRef(name) => {
            let Some(set) = t.sets.iter().find(|s| s.name == *name) else {
                return invalid(format!(
                    "no set or map `@{name}` in table {} {}",
                    t.family.name(),
                    t.name
                ));
            };
            if set.dynamic {
                return Err(Problem::Unmodelled(format!(
                    "@{name} (a set that changes at run time)"
                )));
            }
            Ok(&set.elements)
        }
        _ => invalid(format!("expected a set, found `{}`", value_text(v))),
    }
}

fn map_entries<'a>(map: &'a Value, t: &'a ast::Table) -> Lowering<&'a [Element]> {
    elements(map, t)
}

fn verdict_of(v: &Value) -> Result<Verdict, String> {
    let Value::Atom(text) = v else {
        return Err(format!("expected a verdict, found `{}`", value_text(v)));
    };
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("");
    let arg = words.next().map(str::to_string);
    Ok(match (first, arg) {
        ("accept", None) => Verdict::Accept,
        ("drop", None) => Verdict::Drop,
        ("return", None) => Verdict::Return,
        ("continue", None) => Verdict::Continue,
        ("jump", Some(c)) => Verdict::Jump(c),
        ("goto", Some(c)) => Verdict::Goto(c),
        _ => {
            return Err(format!(
                "unknown verdict `{text}`, expected accept, drop, return, continue, jump CHAIN or goto CHAIN"
            ));
        }
    })
}

/// The action of a verdict; `None` if the verdict restricts the rule to the
/// other family (`reject with icmpv6 ...` in an IPv4 copy).
fn lower_verdict(v: &Verdict, family: Family) -> Option<Action> {
    Some(match v {
        Verdict::Accept => Action::Accept,
        Verdict::Drop => Action::Drop,
        Verdict::Return => Action::Return,
        Verdict::Continue => Action::Continue,
        Verdict::Jump(c) => Action::Jump { chain: c.clone() },
        Verdict::Goto(c) => Action::Goto { chain: c.clone() },
        Verdict::Queue(text) => Action::Unknown {
            text: format!("queue {text}").trim().to_string(),
        },
        Verdict::Reject(with) => match reject_kind(with.as_deref(), family) {
            Ok(Some(kind)) => Action::Reject { with: kind },
            Ok(None) => return None,
            Err(text) => Action::Unknown { text },
        },
    })
}

/// `reject [with icmp|icmpv6|icmpx type X | with tcp reset]` for a family.
pub(crate) fn reject_kind(
    with: Option<&str>,
    family: Family,
) -> Result<Option<RejectKind>, String> {
    use RejectKind::*;
    let v4 = family == Family::Ipv4;
    let Some(with) = with else {
        return Ok(Some(if v4 {
            IcmpPortUnreachable
        } else {
            Icmp6PortUnreachable
        }));
    };
    let words: SmallVec<[&str; 4]> = with
        .split_whitespace()
        .filter(|w| *w != "type" && *w != "code")
        .collect();
    let unknown = || format!("reject with {with}");
    let [kind, what] = words.as_slice() else {
        return Err(unknown());
    };
    let kind = match (RejectWith::from_word(kind), *what) {
        (Some(RejectWith::Tcp), "reset" | "rst") => TcpReset,
        (Some(RejectWith::Icmp), what) => {
            if !v4 {
                return Ok(None);
            }
            reject::icmp_code(what).ok_or_else(|| format!("reject with icmp type {what}"))?
        }
        (Some(RejectWith::Icmpv6), what) => {
            if v4 {
                return Ok(None);
            }
            reject::icmpv6_code(what).ok_or_else(|| format!("reject with icmpv6 type {what}"))?
        }
        (Some(RejectWith::Icmpx), what) => reject::icmpx_code(what, family)
            .ok_or_else(|| format!("reject with icmpx type {what}"))?,
        _ => return Err(unknown()),
    };
    Ok(Some(kind))
}

fn lower_nat(
    kind: &NatKind,
    addr: Option<&str>,
    port: Option<&str>,
    family: Family,
) -> Result<Nat, String> {
    let ports = match port {
        None => None,
        Some(p) => {
            let (a, b) = match p.split_once('-') {
                Some((a, b)) => (port_number(a)?, port_number(b)?),
                None => {
                    let n = port_number(p)?;
                    (n, n)
                }
            };
            Some(PortRange { start: a, end: b })
        }
    };
    let addr = match addr {
        None => None,
        Some(a) => {
            let (lo, hi) = match a.split_once('-') {
                Some((x, y)) => (address(x, family)?, address(y, family)?),
                // `dnat to 10.2.0.2/31` (how nft lists a range that is a prefix).
                None if a.contains('/') => {
                    let net: IpNet = a
                        .trim()
                        .parse()
                        .map_err(|_| format!("`{a}` is not an address or a prefix"))?;
                    let (lo, hi) = (net.network(), net.broadcast());
                    (address(&lo.to_string(), family)?, hi)
                }
                None => {
                    let x = address(a, family)?;
                    (x, x)
                }
            };
            Some((lo, hi))
        }
    };
    Ok(match kind {
        NatKind::Dnat => Nat::Dnat { addr, ports },
        NatKind::Snat => Nat::Snat { addr, ports },
        NatKind::Masquerade => Nat::Masquerade { ports },
        NatKind::Redirect => Nat::Redirect { ports },
    })
}

pub(crate) fn port_number(text: &str) -> Result<u16, String> {
    // Nearly every port is written as plain digits.
    if !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit()) {
        let n = text.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        if let Ok(port) = u16::try_from(n) {
            return Ok(port);
        }
    }
    let t = text.trim();
    t.parse::<u16>()
        .ok()
        .or_else(|| crate::services::port_of(t))
        .ok_or_else(|| format!("`{t}` is not a port number or service name"))
}

fn address(text: &str, family: Family) -> Result<IpAddr, String> {
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    let a: IpAddr = t
        .parse()
        .map_err(|_| format!("`{t}` is not an IP address"))?;
    match (a, family) {
        (IpAddr::V4(_), Family::Ipv4) | (IpAddr::V6(_), Family::Ipv6) => Ok(a),
        _ => Err(format!("`{t}` is not an {} address", family.name())),
    }
}

/// The family a selector belongs to, if it belongs to one.
fn family_of(s: &Selector) -> Option<Family> {
    match vocab::payload_protocol(s)? {
        P::Ip | P::Icmp => Some(Family::Ipv4),
        P::Ip6 | P::Icmpv6 => Some(Family::Ipv6),
        _ => None,
    }
}

/// Protocol numbers a transport header selector implies.
pub(crate) fn transport_protocols(p: PayloadProtocol) -> Option<&'static [u8]> {
    Some(match p {
        P::Tcp => &[6],
        P::Udp => &[17],
        P::Udplite => &[136],
        P::Sctp => &[132],
        P::Dccp => &[33],
        // `th` is any transport header with ports.
        P::Th => &[6, 17, 33, 132, 136],
        _ => return None,
    })
}

fn lower_match(
    left: &[Selector],
    op: Op,
    right: &Value,
    t: &ast::Table,
    family: Family,
) -> Lowering<Cond> {
    // A field of the other family never matches here.
    if left
        .iter()
        .any(|s| family_of(s).is_some_and(|f| f != family))
    {
        return Ok(Cond::Never);
    }
    if let Some(assumed) = reverse_path(left, op, right) {
        return Err(assumed);
    }
    if left.len() > 1 {
        return concat_match(left, op, right, t, family);
    }
    let sel = &left[0];
    let negated = match op {
        Op::Eq | Op::AllSet => false,
        Op::Ne => true,
        Op::Lt | Op::Gt | Op::Le | Op::Ge => return compare_match(sel, op, right, family),
    };
    single_match(sel, negated, right, t, family)
}

/// The reverse-path filter (`fib saddr . iif oif missing drop`, with or
/// without `mark`; `oif 0` alike): it drops a packet whose source the host
/// would not route back out of the interface it came in by. Routes are the
/// running host's; the check is taken to pass (the replies go back the way
/// the packet came, as on a host with one default route), and the report
/// says so, rather than making every result it touches indeterminate.
fn reverse_path(left: &[Selector], op: Op, right: &Value) -> Option<Problem> {
    let text = selectors_text(left);
    // The text form, and the JSON one (`{"fib": {"result": "oif", "flags":
    // [...]}} == false`).
    let shape = matches!(
        text.as_str(),
        "fib saddr . iif . oif"
            | "fib saddr . mark . iif . oif"
            | "fib saddr . iif oif"
            | "fib saddr . mark . iif oif"
    );
    let missing =
        matches!(right, Value::Atom(a) if matches!(a.as_str(), "missing" | "0" | "false"));
    if !shape || !missing || !matches!(op, Op::Eq | Op::Ne) {
        return None;
    }
    Some(Problem::Assumed {
        holds: op == Op::Ne,
        note: format!(
            "`{text} {}{}`: a reverse-path check on the running host's routes; results assume \
             the host routes each packet's source back out of the interface it came in by",
            if op == Op::Ne { "!= " } else { "" },
            value_text(right)
        ),
    })
}

/// The named set a value is, if it is one whose elements the file gives
/// (not one that changes at run time).
fn named_set<'a>(v: &Value, t: &'a ast::Table) -> Option<&'a ast::Set> {
    let Value::SetRef(name) = v else { return None };
    t.sets
        .iter()
        .find(|s| s.name == *name)
        .filter(|s| !s.dynamic)
}

/// The keys of a set's elements.
fn keys(set: &ast::Set) -> SmallVec<[&Value; 4]> {
    set.elements.iter().map(|e| &e.key).collect()
}

/// Where a family's entry is in the lists kept per family (IPv4 first).
fn family_index(family: Family) -> usize {
    match family {
        Family::Ipv4 => 0,
        Family::Ipv6 => 1,
    }
}

/// Items of a value: a set or named set gives its elements, anything else
/// itself (kept inline: most values are one item).
fn items<'a>(v: &'a Value, t: &'a ast::Table) -> Lowering<SmallVec<[&'a Value; 4]>> {
    match v {
        Value::Set(_) | Value::SetRef(_) => Ok(elements(v, t)?.iter().map(|e| &e.key).collect()),
        other => Ok(smallvec::smallvec![other]),
    }
}

fn single_match(
    sel: &Selector,
    negated: bool,
    right: &Value,
    t: &ast::Table,
    family: Family,
) -> Lowering<Cond> {
    match Key::of(sel) {
        Some(Key::Payload(protocol @ (P::Ip | P::Ip6), field @ (F::Saddr | F::Daddr))) => {
            // nft: "datatype mismatch" between the field and the set.
            if let Value::SetRef(name) = right {
                let want = if protocol == P::Ip {
                    "ipv4_addr"
                } else {
                    "ipv6_addr"
                };
                if let Some(set) = t.sets.iter().find(|s| s.name == *name)
                    && let [ty] = set.key_type.as_slice()
                    && matches!(ty.as_str(), "ipv4_addr" | "ipv6_addr")
                    && ty != want
                {
                    return invalid(format!(
                        "datatype mismatch: {protocol} {field} is {want}, set @{name} holds {ty}"
                    ));
                }
            }
            let cached = named_set(right, t).and_then(|s| {
                s.lowered.nets[family_index(family)]
                    .get_or_init(|| nets(&keys(s), family).ok())
                    .clone()
            });
            let nets = match cached {
                Some(nets) => nets,
                None => nets(&items(right, t)?, family)?,
            };
            let m = if field == F::Saddr {
                Match::Source { negated, nets }
            } else {
                Match::Destination { negated, nets }
            };
            Ok(Cond::All(smallvec::smallvec![m]))
        }
        Some(Key::Payload(P::Ip, F::Protocol) | Key::Payload(P::Ip6, F::Nexthdr)) => {
            Ok(Cond::All(smallvec::smallvec![Match::Protocol {
                negated,
                protocols: protocols(&items(right, t)?)?
            }]))
        }
        Some(Key::Payload(p, field @ (F::Sport | F::Dport)))
            if transport_protocols(p).is_some() =>
        {
            let cached = named_set(right, t)
                .and_then(|s| s.lowered.ports.get_or_init(|| ports(&keys(s)).ok()).clone());
            let ports = match cached {
                Some(ports) => ports,
                None => ports(&items(right, t)?)?,
            };
            let proto = Match::Protocol {
                negated: false,
                protocols: transport_protocols(p).unwrap_or_default().into(),
            };
            let m = if field == F::Sport {
                Match::SourcePort { negated, ports }
            } else {
                Match::DestinationPort { negated, ports }
            };
            if p == P::Th {
                // `th` reads the same two bytes of any transport header
                // (an ICMP checksum too, kernel-checked): what it does
                // for a header without ports is unknown.
                let other = vec![
                    Match::Protocol {
                        negated: true,
                        protocols: transport_protocols(P::Th).unwrap_or_default().into(),
                    },
                    Match::Unknown {
                        text: format!("th {field} on a header without ports"),
                    },
                ];
                return Ok(Cond::Any(vec![vec![proto, m], other]));
            }
            Ok(Cond::All(smallvec::smallvec![proto, m]))
        }
        Some(TCP_FLAGS) => {
            let proto = Match::Protocol {
                negated: false,
                protocols: smallvec::smallvec![6],
            };
            let (mask, comp) = match right {
                Value::Masked { mask, comp } => (flag_bits(mask)?, flag_bits(comp)?),
                // `tcp flags syn` and `tcp flags == syn`: nft compares the
                // whole field for `==`, and one flag alone means "set".
                Value::Atom(a) => {
                    let b = flag_bits(&[a.to_string()])?;
                    (b, b)
                }
                _ => {
                    return Err(Problem::Unmodelled(format!(
                        "tcp flags {}",
                        value_text(right)
                    )));
                }
            };
            Ok(Cond::All(smallvec::smallvec![
                proto,
                Match::TcpFlags {
                    negated,
                    mask,
                    comp
                }
            ]))
        }
        Some(Key::Payload(protocol @ (P::Icmp | P::Icmpv6), F::Type)) => {
            let v6 = protocol == P::Icmpv6;
            let proto = Match::Protocol {
                negated: false,
                protocols: smallvec::smallvec![if v6 { 58 } else { 1 }],
            };
            let types = icmp_types(&items(right, t)?, v6)?;
            if negated {
                let mut ms: SmallVec<[Match; 2]> = smallvec::smallvec![proto];
                ms.extend(types.into_iter().map(|ty| Match::Icmp {
                    negated: true,
                    icmp_type: ty,
                    codes: (0, 255),
                }));
                return Ok(Cond::All(ms));
            }
            if let [ty] = types.as_slice() {
                return Ok(Cond::All(smallvec::smallvec![
                    proto,
                    Match::Icmp {
                        negated: false,
                        icmp_type: *ty,
                        codes: (0, 255)
                    }
                ]));
            }
            Ok(Cond::Any(
                types
                    .into_iter()
                    .map(|ty| {
                        vec![
                            proto.clone(),
                            Match::Icmp {
                                negated: false,
                                icmp_type: ty,
                                codes: (0, 255),
                            },
                        ]
                    })
                    .collect(),
            ))
        }
        Some(Key::Meta(MetaKey::L4proto)) => Ok(Cond::All(smallvec::smallvec![Match::Protocol {
            negated,
            protocols: protocols(&items(right, t)?)?
        }])),
        Some(Key::Meta(key @ (MetaKey::Nfproto | MetaKey::Protocol))) => {
            let mut fams = Vec::new();
            for v in items(right, t)? {
                match atom(v)? {
                    "ipv4" | "ip" => fams.push(Family::Ipv4),
                    "ipv6" | "ip6" => fams.push(Family::Ipv6),
                    other if key == MetaKey::Protocol => {
                        return Err(Problem::Unmodelled(format!("meta protocol {other}")));
                    }
                    other => {
                        return invalid(format!("unknown family `{other}`, expected ipv4 or ipv6"));
                    }
                }
            }
            Ok(if fams.contains(&family) != negated {
                Cond::All(SmallVec::new())
            } else {
                Cond::Never
            })
        }
        Some(Key::Meta(
            key @ (MetaKey::Iifname | MetaKey::Oifname | MetaKey::Iif | MetaKey::Oif),
        )) => {
            let names: SmallVec<[Interface; 1]> = items(right, t)?
                .into_iter()
                .map(interface)
                .collect::<Lowering<_>>()?;
            let make = |negated: bool, interface: Interface| {
                if matches!(key, MetaKey::Iifname | MetaKey::Iif) {
                    Match::InInterface { negated, interface }
                } else {
                    Match::OutInterface { negated, interface }
                }
            };
            if negated {
                return Ok(Cond::All(
                    names.into_iter().map(|i| make(true, i)).collect(),
                ));
            }
            // One name (the usual case) is one condition, not one alternative.
            if let [_] = names.as_slice() {
                return Ok(Cond::All(
                    names.into_iter().map(|i| make(false, i)).collect(),
                ));
            }
            Ok(Cond::Any(
                names.into_iter().map(|i| vec![make(false, i)]).collect(),
            ))
        }
        // `ct direction original|reply`: an implicit comparison of the
        // packet's direction in its connection.
        // A set holds directions, any of which matches.
        Some(Key::Ct(CtKey::Direction)) => {
            let (mut original, mut reply) = (false, false);
            for v in items(right, t)? {
                match atom(v)? {
                    "original" | "0" => original = true,
                    "reply" | "1" => reply = true,
                    other => {
                        return invalid(format!(
                            "unknown ct direction `{other}`, expected original or reply"
                        ));
                    }
                }
            }
            if negated {
                (original, reply) = (!original, !reply);
            }
            Ok(match (original, reply) {
                (true, true) => Cond::All(SmallVec::new()),
                (false, false) => Cond::Any(Vec::new()),
                (_, reply) => Cond::All(smallvec::smallvec![Match::ConnDirection { reply }]),
            })
        }
        // `ct status dnat` (and `snat`, `dnat,snat`): on a bit field an
        // implicit comparison tests `status & bits != 0`, and `!=` tests
        // `== 0`. Other status bits (seen-reply, assured, ...) and sets,
        // which compare the whole value, are not modelled.
        Some(Key::Ct(CtKey::Status)) if matches!(right, Value::Atom(_) | Value::Flags(_)) => {
            use crate::model::conn_status::{DNAT, SNAT};
            let words: SmallVec<[&str; 4]> = match right {
                Value::Flags(f) => f.iter().map(String::as_str).collect(),
                other => smallvec::smallvec![atom(other)?],
            };
            let mut bits = 0u8;
            for w in &words {
                bits |= match *w {
                    "dnat" => DNAT,
                    "snat" => SNAT,
                    _ => {
                        return Err(Problem::Unmodelled(format!(
                            "ct status {}{}",
                            if negated { "!= " } else { "" },
                            value_text(right)
                        )));
                    }
                };
            }
            Ok(Cond::All(smallvec::smallvec![Match::ConnStatus {
                negated,
                bits
            }]))
        }
        Some(Key::Ct(CtKey::State)) => {
            if let Value::Masked { mask, comp } = right {
                // `(state & mask) == comp`: nft's explicit comparisons.
                // `ct state == a,b` and `ct state != a,b` compare the whole
                // value with a|b, and a packet has exactly one state, so they
                // never and always match (kernel-checked: `!=` is not "none
                // of these", that is `ct state ! a,b`).
                let (mask, comp) = (ct_state_bits(mask)?, ct_state_bits(comp)?);
                let states = CtState::ALL
                    .iter()
                    .filter(|s| s.kernel_bit() & mask == comp)
                    .fold(CtStates::default(), |acc, s| acc.union(s.states()));
                return Ok(Cond::All(smallvec::smallvec![Match::ConnState {
                    negated,
                    states
                }]));
            }
            let mut states = CtStates::default();
            let words: SmallVec<[&str; 4]> = match right {
                Value::Flags(f) => f.iter().map(String::as_str).collect(),
                _ => items(right, t)?
                    .into_iter()
                    .map(atom)
                    .collect::<Lowering<_>>()?,
            };
            for &w in &words {
                states = states.union(ct_state(w)?);
            }
            Ok(Cond::All(smallvec::smallvec![Match::ConnState {
                negated,
                states
            }]))
        }
        _ => Err(Problem::Unmodelled(format!(
            "{} {}{}",
            selectors_text(std::slice::from_ref(sel)),
            if negated { "!= " } else { "" },
            value_text(right)
        ))),
    }
}

/// One connection state, by name or by the kernel's bits.
pub(crate) fn ct_state(word: &str) -> Lowering<CtStates> {
    if let Some(state) = CtState::from_word(word) {
        return Ok(state.states());
    }
    Ok(match word {
        // The kernel's bits: invalid 1, established 2, related 4, new 8, untracked 64.
        other if other.parse::<u32>().is_ok() || other.starts_with("0x") => {
            let n = other
                .strip_prefix("0x")
                .map(|h| u32::from_str_radix(h, 16))
                .unwrap_or_else(|| other.parse())
                .map_err(|_| Problem::Invalid(format!("`{other}` is not a ct state")))?;
            if n & !(1 | 2 | 4 | 8 | 64) != 0 {
                return invalid(format!("ct state {other} has bits no state has"));
            }
            CtState::ALL
                .iter()
                .filter(|s| n & s.kernel_bit() != 0)
                .fold(CtStates::default(), |st, s| st.union(s.states()))
        }
        other => {
            return invalid(format!(
                "unknown ct state `{other}`, expected new, established, related, invalid or untracked"
            ));
        }
    })
}

/// The kernel's bits of state names and numbers (`established`, `0x2`, `0`).
fn ct_state_bits(words: &[String]) -> Lowering<u32> {
    let mut bits = 0;
    for w in words
        .iter()
        .flat_map(|w| w.split([',', '|']))
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        bits |= match CtState::from_word(w) {
            Some(state) => state.kernel_bit(),
            None => match w
                .strip_prefix("0x")
                .map(|h| u32::from_str_radix(h, 16))
                .unwrap_or_else(|| w.parse())
            {
                Ok(n) => n,
                Err(_) => {
                    return invalid(format!(
                        "unknown ct state `{w}`, expected new, established, related, invalid or untracked"
                    ));
                }
            },
        };
    }
    Ok(bits)
}

/// `tcp dport < 1024` and the like: ports only.
fn compare_match(sel: &Selector, op: Op, right: &Value, _family: Family) -> Lowering<Cond> {
    let Selector::Payload { protocol, field } = sel else {
        return Err(Problem::Unmodelled(format!(
            "{} {:?} {}",
            selectors_text(std::slice::from_ref(sel)),
            op,
            value_text(right)
        )));
    };
    let (Some(protos), Some(field @ (F::Sport | F::Dport))) = (
        PayloadProtocol::from_word(protocol).and_then(transport_protocols),
        PayloadField::from_word(field),
    ) else {
        return Err(Problem::Unmodelled(format!(
            "{protocol} {field} {:?} {}",
            op,
            value_text(right)
        )));
    };
    let n = port_number(atom(right)?).map_err(Problem::Invalid)?;
    let range = match op {
        Op::Lt if n > 0 => (0, n - 1),
        Op::Le => (0, n),
        Op::Gt if n < 65535 => (n + 1, 65535),
        Op::Ge => (n, 65535),
        // `< 0` or `> 65535`: nothing.
        _ => return Ok(Cond::Never),
    };
    let ports = smallvec::smallvec![PortRange {
        start: range.0,
        end: range.1
    }];
    let m = if field == F::Sport {
        Match::SourcePort {
            negated: false,
            ports,
        }
    } else {
        Match::DestinationPort {
            negated: false,
            ports,
        }
    };
    Ok(Cond::All(smallvec::smallvec![
        Match::Protocol {
            negated: false,
            protocols: protos.into()
        },
        m
    ]))
}

/// `ip saddr . tcp dport { 192.0.2.1 . 22, ... }`: one alternative per element.
fn concat_match(
    left: &[Selector],
    op: Op,
    right: &Value,
    t: &ast::Table,
    family: Family,
) -> Lowering<Cond> {
    if op != Op::Eq {
        return Err(Problem::Unmodelled(format!(
            "{} != {}",
            selectors_text(left),
            value_text(right)
        )));
    }
    let mut alts = Vec::new();
    for item in items(right, t)? {
        let Value::Concat(parts) = item else {
            return invalid(format!(
                "expected {} values joined by `.`, found `{}`",
                left.len(),
                value_text(item)
            ));
        };
        if parts.len() != left.len() {
            return invalid(format!(
                "expected {} values joined by `.`, found {}",
                left.len(),
                parts.len()
            ));
        }
        let mut combos: Vec<Vec<Match>> = vec![Vec::new()];
        let mut never = false;
        for (sel, part) in left.iter().zip(parts) {
            match single_match(sel, false, part, t, family)? {
                Cond::Never => never = true,
                Cond::All(ms) => combos.iter_mut().for_each(|c| c.extend(ms.iter().cloned())),
                Cond::Any(list) => {
                    combos = combos
                        .iter()
                        .flat_map(|c| {
                            list.iter()
                                .map(move |a| c.iter().chain(a).cloned().collect())
                        })
                        .collect()
                }
            }
        }
        if !never {
            alts.extend(combos);
        }
    }
    Ok(Cond::Any(alts))
}

fn atom(v: &Value) -> Lowering<&str> {
    match v {
        Value::Atom(a) => Ok(a.as_str()),
        other => invalid(format!(
            "expected a single value, found `{}`",
            value_text(other)
        )),
    }
}

pub(crate) fn interface(v: &Value) -> Lowering<Interface> {
    let name = atom(v)?;
    if name.is_empty() || name.len() > 15 {
        return invalid(format!(
            "interface name `{name}` must have 1 to 15 characters"
        ));
    }
    Ok(match name.strip_suffix('*') {
        Some(prefix) if !prefix.ends_with('\\') => Interface {
            name: prefix.to_string(),
            wildcard: true,
        },
        // Names are short: a byte loop beats setting up a search for `\*`.
        _ if !name.bytes().any(|b| b == b'\\') => Interface {
            name: name.to_string(),
            wildcard: false,
        },
        _ => Interface {
            name: name.replace("\\*", "*"),
            wildcard: false,
        },
    })
}

pub(crate) fn protocols(vs: &[&Value]) -> Lowering<model::Protocols> {
    let one = |name: &str| -> Lowering<u8> {
        Ok(match name {
            "icmpv6" | "ipv6-icmp" => 58,
            "comp" => 108,
            other => match protocols::protocol(other) {
                Ok(Some(n)) => n,
                Ok(None) => 0,
                Err(m) => return invalid(m),
            },
        })
    };
    let mut out = model::Protocols::with_capacity(vs.len());
    for v in vs {
        match v {
            Value::Range(a, b) => {
                let (a, b) = (one(a)?, one(b)?);
                if a > b {
                    return invalid(format!("protocol range {a}-{b} is reversed"));
                }
                out.extend(a..=b);
            }
            _ => out.push(one(atom(v)?)?),
        }
    }
    Ok(out)
}

fn ports(vs: &[&Value]) -> Lowering<model::Ports> {
    let mut out = model::Ports::with_capacity(vs.len());
    for v in vs {
        out.push(port_range(v)?);
    }
    Ok(out)
}

/// A port or a range of them.
pub(crate) fn port_range(v: &Value) -> Lowering<PortRange> {
    let (a, b) = match v {
        Value::Atom(a) => {
            let n = port_number(a).map_err(Problem::Invalid)?;
            (n, n)
        }
        Value::Range(a, b) => (
            port_number(a).map_err(Problem::Invalid)?,
            port_number(b).map_err(Problem::Invalid)?,
        ),
        other => {
            return invalid(format!(
                "expected a port, a range or a set of them, found `{}`",
                value_text(other)
            ));
        }
    };
    if a > b {
        return invalid(format!("port range {a}-{b} is reversed"));
    }
    Ok(PortRange { start: a, end: b })
}

/// An address or a prefix of `family`.
pub(crate) fn net(a: &str, family: Family) -> Lowering<IpNet> {
    let net: IpNet =
        match plain_ipv4_net(a).map_or_else(|| a.parse::<IpNet>().map(|n| n.trunc()), Ok) {
            Ok(n) => n,
            Err(_) => IpNet::from(address(a, family).map_err(|m| {
                Problem::Invalid(format!("{m} (driftwall does not resolve host names)"))
            })?),
        };
    if !matches!(
        (net, family),
        (IpNet::V4(_), Family::Ipv4) | (IpNet::V6(_), Family::Ipv6)
    ) {
        return invalid(format!("`{a}` is not an {} network", family.name()));
    }
    Ok(net)
}

fn nets(vs: &[&Value], family: Family) -> Lowering<model::Nets> {
    let mut out = model::Nets::with_capacity(vs.len());
    for v in vs {
        match v {
            Value::Atom(a) => out.push(net(a, family)?),
            Value::Range(a, b) => {
                let (lo, hi) = (
                    address(a, family).map_err(Problem::Invalid)?,
                    address(b, family).map_err(Problem::Invalid)?,
                );
                out.extend(range_to_nets(lo, hi).ok_or_else(|| {
                    Problem::Invalid(format!("address range {a}-{b} is reversed"))
                })?);
            }
            other => {
                return invalid(format!(
                    "expected an address, a prefix, a range or a set of them, found `{}`",
                    value_text(other)
                ));
            }
        }
    }
    Ok(out)
}

fn flag_bits(names: &[String]) -> Lowering<u8> {
    let mut bits = 0;
    for n in names
        .iter()
        .flat_map(|n| n.split([',', '|']))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        bits |= match TcpFlag::from_word(n) {
            Some(flag) => flag.bit(),
            None => match n
                .strip_prefix("0x")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .or_else(|| n.parse().ok())
            {
                Some(b) => b,
                None => {
                    return invalid(format!(
                        "unknown tcp flag `{n}`, expected fin, syn, rst, psh, ack, urg, ecn or cwr"
                    ));
                }
            },
        };
    }
    Ok(bits)
}

pub(crate) fn icmp_types(vs: &[&Value], v6: bool) -> Lowering<Vec<u8>> {
    let mut out = Vec::new();
    for v in vs {
        let (a, b) = match v {
            Value::Atom(a) => (a.as_str(), a.as_str()),
            Value::Range(a, b) => (a.as_str(), b.as_str()),
            other => {
                return invalid(format!(
                    "expected an icmp type, found `{}`",
                    value_text(other)
                ));
            }
        };
        let one = |name: &str| -> Lowering<u8> {
            if v6 && let Some(n) = icmp::nft_icmpv6_name_type(name) {
                return Ok(n);
            }
            // Exact names only: nft does not abbreviate.
            if name.parse::<u8>().is_err() {
                return icmp::icmp_name_type(name, v6).ok_or_else(|| {
                    Problem::Invalid(format!(
                        "unknown {} type `{name}`",
                        if v6 { "icmpv6" } else { "icmp" }
                    ))
                });
            }
            icmp::icmp_type(name, v6)
                .map(|(t, _)| t)
                .map_err(Problem::Invalid)
        };
        let (lo, hi) = (one(a)?, one(b)?);
        out.extend(lo..=hi);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_with(family: TableFamily, stmts: Vec<Stmt>) -> ast::Table {
        let span = Span {
            file: 0,
            line: 1,
            column: 1,
            start: 0,
            end: 0,
        };
        let base = ast::BaseSpec {
            kind: "filter".into(),
            hook: "input".into(),
            priority: 0,
            span,
        };
        let mut chain = ast::Chain::new("c".into(), span, Some(base), None);
        chain.rules.push(ast::Rule::new(span, stmts));
        ast::Table {
            family,
            name: "t".into(),
            span,
            chains: vec![chain],
            sets: Vec::new(),
        }
    }

    #[test]
    fn reject_with_tcp_reset_only_matches_tcp() {
        // Kernel-checked: nft loads `meta l4proto tcp` before the reject, and
        // neither `nft list` nor `nft -j` shows it.
        let t = table_with(
            TableFamily::Ip,
            vec![Stmt::Verdict(Verdict::Reject(Some("tcp reset".into())))],
        );
        let out = lower(&mut [t]);
        let rules = &out.tables[0].chains[0].rules;
        assert_eq!(rules.len(), 1);
        assert_eq!(
            rules[0].matches,
            vec![Match::Protocol {
                negated: false,
                protocols: smallvec::smallvec![6]
            }]
        );
        assert_eq!(
            rules[0].action,
            Action::Reject {
                with: RejectKind::TcpReset
            }
        );
    }

    #[test]
    fn ct_state_exact_comparisons_compare_the_whole_value() {
        let m = |op: Op, right: Value| {
            let t = table_with(
                TableFamily::Ip,
                vec![
                    Stmt::Match {
                        left: smallvec::smallvec![Selector::Ct("state".into())],
                        op,
                        right,
                    },
                    Stmt::Verdict(Verdict::Accept),
                ],
            );
            lower(&mut [t]).tables[0].chains[0].rules[0].matches.clone()
        };
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = words(&["invalid", "established", "related", "new", "untracked"]);
        let est_rel = CtStates::ESTABLISHED.union(CtStates::RELATED);
        // `ct state != established,related`: always (kernel-checked).
        assert_eq!(
            m(
                Op::Ne,
                Value::Masked {
                    mask: all.clone(),
                    comp: words(&["established", "related"])
                }
            ),
            vec![Match::ConnState {
                negated: true,
                states: CtStates::default()
            }]
        );
        // `ct state == established,related`: never.
        assert_eq!(
            m(
                Op::Eq,
                Value::Masked {
                    mask: all.clone(),
                    comp: words(&["established", "related"])
                }
            ),
            vec![Match::ConnState {
                negated: false,
                states: CtStates::default()
            }]
        );
        assert_eq!(
            m(
                Op::Eq,
                Value::Masked {
                    mask: all,
                    comp: words(&["new"])
                }
            ),
            vec![Match::ConnState {
                negated: false,
                states: CtStates::NEW
            }]
        );
        // `ct state & (established|related) == 0`: none of them.
        assert_eq!(
            m(
                Op::Eq,
                Value::Masked {
                    mask: words(&["established", "related"]),
                    comp: words(&["0"])
                }
            ),
            vec![Match::ConnState {
                negated: false,
                states: CtStates(CtStates::ALL.0 & !est_rel.0)
            }]
        );
        // The implicit list and `!` keep their meaning: any and none of them.
        assert_eq!(
            m(Op::Eq, Value::Flags(words(&["established", "related"]))),
            vec![Match::ConnState {
                negated: false,
                states: est_rel
            }]
        );
        assert_eq!(
            m(Op::Ne, Value::Flags(words(&["established", "related"]))),
            vec![Match::ConnState {
                negated: true,
                states: est_rel
            }]
        );
    }

    #[test]
    fn nat_to_a_prefix_is_its_address_range() {
        let nat = lower_nat(
            &NatKind::Dnat,
            Some("10.2.0.2/31"),
            Some("80-81"),
            Family::Ipv4,
        )
        .unwrap();
        assert_eq!(
            nat,
            Nat::Dnat {
                addr: Some(("10.2.0.2".parse().unwrap(), "10.2.0.3".parse().unwrap())),
                ports: Some(PortRange { start: 80, end: 81 })
            }
        );
        assert!(lower_nat(&NatKind::Dnat, Some("fd00::/127"), None, Family::Ipv4).is_err());
    }

    #[test]
    fn nat_of_one_family_leaves_the_other_copy_of_an_inet_table() {
        let nat = |fam: &str, addr: &str| Stmt::Nat {
            kind: NatKind::Dnat,
            family: Some(fam.into()),
            addr: Some(addr.into()),
            port: Some("80".into()),
        };
        let t = table_with(TableFamily::Inet, vec![nat("ip6", "fd00:1::2")]);
        let out = lower(&mut [t]);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.tables[0].chains[0].rules.len(), 0);
        assert_eq!(out.tables[1].chains[0].rules.len(), 1);
        let t = table_with(TableFamily::Inet, vec![nat("ip", "10.1.0.2")]);
        let out = lower(&mut [t]);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(
            (
                out.tables[0].chains[0].rules.len(),
                out.tables[1].chains[0].rules.len()
            ),
            (1, 0)
        );
    }

    #[test]
    fn th_ports_on_a_header_without_ports_are_unknown() {
        let sel: ast::Selectors = smallvec::smallvec![Selector::Payload {
            protocol: "th".into(),
            field: "dport".into()
        }];
        let t = table_with(
            TableFamily::Ip,
            vec![
                Stmt::Match {
                    left: sel,
                    op: Op::Eq,
                    right: Value::Atom("22".into()),
                },
                Stmt::Verdict(Verdict::Drop),
            ],
        );
        let out = lower(&mut [t]);
        let rules = &out.tables[0].chains[0].rules;
        assert_eq!(rules.len(), 2);
        assert!(matches!(
            &rules[0].matches[1],
            Match::DestinationPort { negated: false, .. }
        ));
        assert!(matches!(
            &rules[1].matches[..],
            [Match::Protocol { negated: true, .. }, Match::Unknown { .. }]
        ));
    }

    /// Rules lowered as they are read keep their order around rules lowered
    /// at the end, rules inserted before them, and a flushed chain.
    #[test]
    fn early_rules_keep_their_place() {
        let text = "table inet t {\n set s { type inet_service; elements = { 7 } }\n chain u { }\n chain c {\n tcp dport 1 accept\n tcp dport @s accept\n ip saddr 10.0.0.1 tcp dport 2 jump u\n tcp dport 3 drop\n }\n}\n\
            insert rule inet t c tcp dport 4 accept\nadd rule inet t c tcp dport 5 accept\n\
            table ip f { chain c { tcp dport 8 accept\n } }\nflush chain ip f c\nadd rule ip f c tcp dport 9 accept\n";
        let parsed = crate::nft::parse("t.nft", text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let ports = |table: &str, family: Family| -> Vec<u16> {
            let t = parsed
                .ruleset
                .tables
                .iter()
                .find(|t| t.name == table && t.family == family)
                .unwrap();
            t.chains
                .iter()
                .find(|c| c.name == "c")
                .unwrap()
                .rules
                .iter()
                .flat_map(|r| &r.matches)
                .filter_map(|m| match m {
                    Match::DestinationPort { ports, .. } => Some(ports[0].start),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(ports("inet t", Family::Ipv4), vec![4, 1, 7, 2, 3, 5]);
        assert_eq!(ports("inet t", Family::Ipv6), vec![4, 1, 7, 3, 5]);
        assert_eq!(ports("ip f", Family::Ipv4), vec![9]);
    }
}
