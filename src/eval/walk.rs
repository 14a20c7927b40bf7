//! Walking one base chain: the region of packets is split by every rule it
//! meets, and each piece follows jumps, gotos and returns until a verdict.

use super::program::{CT, CT_UNTRACKED, CRule, PACKET_DIMS, Program, REGION_DIMS, Step};
use super::set::IntervalSet;
use driftwall_parsers::model::{Hook, Policy, RejectKind};
use std::rc::Rc;

/// A region of the question: one interval set per region dimension.
pub type Region = [IntervalSet; REGION_DIMS];

/// A union of disjoint regions that share one continuation, with a hull
/// (per dimension, a superset of the union) that lets most rules be ruled
/// out without looking at the boxes.
#[derive(Debug, Clone)]
pub struct RegionSet {
    pub boxes: Vec<Region>,
    pub hull: Region,
}

impl RegionSet {
    pub fn one(r: Region) -> RegionSet {
        RegionSet { hull: r.clone(), boxes: vec![r] }
    }
    pub fn with_hull(boxes: Vec<Region>, hull: Region) -> RegionSet {
        RegionSet { boxes, hull }
    }
}

/// Where the value a rule tests comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Src {
    /// A dimension of the question's region (a reply's source is the question's destination).
    Orig(usize),
    /// A fixed set, such as a NAT rewrite or the phase's connection state.
    Const(IntervalSet),
    /// A value we cannot know (the address a masquerade picks).
    Unknown,
}

pub type View = [Src; PACKET_DIMS];

/// A NAT binding of the connection, made by the first packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NatBinding {
    /// New destination address and port, and the hook that rewrote them.
    pub dst: Option<Src>,
    pub dport: Option<Src>,
    pub dnat_hook: Option<Hook>,
    /// REDIRECT: delivered to the host itself.
    pub redirect: bool,
    pub src: Option<Src>,
    pub sport: Option<Src>,
}

/// A rule (or a chain's policy) that a packet met, in a phase of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step2 {
    pub chain: u32,
    /// `None` for the chain's policy.
    pub rule: Option<u32>,
    pub phase: u8,
    /// The decision let the packet through this chain (accept or NAT).
    pub accepts: bool,
}

/// A persistent list, so splitting a piece does not copy its history.
#[derive(Debug, Clone, Default)]
pub struct Trail(Option<Rc<(Step2, Trail)>>);

impl Trail {
    pub fn push(&self, s: Step2) -> Trail {
        Trail(Some(Rc::new((s, self.clone()))))
    }
    /// Oldest first.
    pub fn to_vec(&self) -> Vec<Step2> {
        let mut out = Vec::new();
        let mut cur = &self.0;
        while let Some(node) = cur {
            out.push(node.0);
            cur = &(node.1).0;
        }
        out.reverse();
        out
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// A piece of the question on its way through the firewall.
#[derive(Debug, Clone)]
pub struct Branch {
    pub region: RegionSet,
    pub nat: NatBinding,
    /// Set by NOTRACK in the raw table for this packet.
    pub notrack: bool,
    /// Every rule that matched, for `explain`.
    pub trail: Trail,
    /// The rules that decided (a verdict or a policy), for reports.
    pub decided: Trail,
    /// Rules with unmodelled matches this piece assumed to match or not: if
    /// the other assumption gives another verdict, the result is indeterminate.
    pub assumed: Trail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainVerdict {
    Accept,
    Drop,
    Reject(RejectKind),
    Indeterminate,
}

#[derive(Debug, Clone)]
pub struct ChainResult {
    pub branch: Branch,
    pub verdict: ChainVerdict,
    /// Why the result is indeterminate, if it is.
    pub reason: Option<String>,
}

/// How many times a walk may split on a rule it cannot decide before it
/// gives up and calls the rest indeterminate; bounds the work on inputs full
/// of unmodelled matches.
pub const FORK_BUDGET: u32 = 64;
const MAX_DEPTH: usize = 128;
const MAX_ITEMS: usize = 2_000_000;

struct Item {
    branch: Branch,
    view: View,
    chain: usize,
    idx: usize,
    stack: Vec<(usize, usize)>,
}

pub struct Walker<'p> {
    pub prog: &'p Program,
    pub phase: u8,
    pub forks: u32,
}

/// How a rule splits a region.
struct Split {
    hit: Option<RegionSet>,
    maybe: Option<(RegionSet, String)>,
    miss: Option<RegionSet>,
}

impl<'p> Walker<'p> {
    /// Runs `branch` through base chain `chain`; `view` says where each packet
    /// dimension comes from. Results go to `out`, one per piece.
    pub fn run(&mut self, chain: usize, branch: Branch, view: View, out: &mut Vec<ChainResult>) {
        let mut work = vec![Item { branch, view, chain, idx: 0, stack: Vec::new() }];
        let mut steps = 0usize;
        while let Some(mut item) = work.pop() {
            steps += 1;
            if steps > MAX_ITEMS {
                out.push(self.indeterminate(item.branch, "the ruleset is too large to evaluate exactly in the work budget".into()));
                continue;
            }
            let Some(c) = self.prog.chains.get(item.chain) else { continue };
            let Some(rule) = c.rules.get(item.idx) else {
                // End of a chain: back to the caller, or the base chain's policy.
                if let Some((chain, idx)) = item.stack.pop() {
                    item.chain = chain;
                    item.idx = idx;
                    work.push(item);
                } else {
                    out.push(self.policy(item));
                }
                continue;
            };
            let region = std::mem::replace(&mut item.branch.region, RegionSet::with_hull(Vec::new(), std::array::from_fn(|_| IntervalSet::empty())));
            let split = match self.split(rule, region, &item.view) {
                Ok(split) => split,
                Err(region) => {
                    // The rule misses the whole region: the common case, no copies.
                    item.branch.region = region;
                    item.idx += 1;
                    work.push(item);
                    continue;
                }
            };
            if let Some(region) = split.miss {
                work.push(Item { branch: Branch { region, ..item.branch.clone() }, view: item.view.clone(), chain: item.chain, idx: item.idx + 1, stack: item.stack.clone() });
            }
            if let Some(region) = split.hit {
                let b = Branch { region, ..item.branch.clone() };
                self.apply(rule, Item { branch: b, view: item.view.clone(), chain: item.chain, idx: item.idx, stack: item.stack.clone() }, &mut work, out);
            }
            if let Some((region, why)) = split.maybe {
                let b = Branch { region, ..item.branch.clone() };
                let here = Step2 { chain: item.chain as u32, rule: Some(item.idx as u32), phase: self.phase, accepts: false };
                if self.forks >= FORK_BUDGET {
                    let mut b = b;
                    b.decided = b.decided.push(here);
                    out.push(self.indeterminate(b, why));
                    continue;
                }
                self.forks += 1;
                let mut taken = b.clone();
                taken.assumed = taken.assumed.push(here);
                let mut not_taken = b;
                not_taken.assumed = not_taken.assumed.push(here);
                work.push(Item { branch: not_taken, view: item.view.clone(), chain: item.chain, idx: item.idx + 1, stack: item.stack.clone() });
                self.apply(rule, Item { branch: taken, view: item.view.clone(), chain: item.chain, idx: item.idx, stack: item.stack.clone() }, &mut work, out);
            }
        }
    }

    fn indeterminate(&self, branch: Branch, reason: String) -> ChainResult {
        ChainResult { branch, verdict: ChainVerdict::Indeterminate, reason: Some(reason) }
    }

    fn policy(&self, mut item: Item) -> ChainResult {
        let c = &self.prog.chains[item.chain];
        let verdict = match c.policy {
            Some(Policy::Drop) => ChainVerdict::Drop,
            _ => ChainVerdict::Accept,
        };
        let step = Step2 { chain: item.chain as u32, rule: None, phase: self.phase, accepts: verdict == ChainVerdict::Accept };
        item.branch.decided = item.branch.decided.push(step);
        item.branch.trail = item.branch.trail.push(step);
        ChainResult { branch: item.branch, verdict, reason: None }
    }

    /// What a matching rule does to a piece.
    fn apply(&self, rule: &CRule, mut item: Item, work: &mut Vec<Item>, out: &mut Vec<ChainResult>) {
        let here = Step2 { chain: item.chain as u32, rule: Some(item.idx as u32), phase: self.phase, accepts: false };
        item.branch.trail = item.branch.trail.push(here);
        let decide = |mut b: Branch, v: ChainVerdict, out: &mut Vec<ChainResult>| {
            b.decided = b.decided.push(Step2 { accepts: v == ChainVerdict::Accept, ..here });
            out.push(ChainResult { branch: b, verdict: v, reason: None });
        };
        match &rule.step {
            Step::Accept => decide(item.branch, ChainVerdict::Accept, out),
            Step::Drop => decide(item.branch, ChainVerdict::Drop, out),
            Step::Reject(k) => decide(item.branch, ChainVerdict::Reject(*k), out),
            Step::Jump(target) | Step::Goto(target) => {
                if item.stack.len() >= MAX_DEPTH {
                    let mut b = item.branch;
                    b.decided = b.decided.push(here);
                    out.push(self.indeterminate(b, "jumps nest too deep (a loop between chains?)".into()));
                    return;
                }
                if matches!(rule.step, Step::Jump(_)) {
                    item.stack.push((item.chain, item.idx + 1));
                }
                item.chain = *target;
                item.idx = 0;
                work.push(item);
            }
            Step::Return => {
                if let Some((chain, idx)) = item.stack.pop() {
                    item.chain = chain;
                    item.idx = idx;
                    work.push(item);
                } else {
                    out.push(self.policy(item));
                }
            }
            Step::Continue => {
                item.idx += 1;
                work.push(item);
            }
            Step::NoTrack => {
                item.branch.notrack = true;
                item.view[CT] = Src::Const(IntervalSet::single(CT_UNTRACKED));
                item.idx += 1;
                work.push(item);
            }
            Step::Dnat { addr, port, redirect } => {
                let hook = self.prog.chains.get(item.chain).and_then(|c| c.hook);
                let b = &mut item.branch;
                if let Some(a) = addr {
                    b.nat.dst = Some(Src::Const(a.clone()));
                }
                if let Some(p) = port {
                    b.nat.dport = Some(Src::Const(p.clone()));
                }
                b.nat.redirect |= *redirect;
                b.nat.dnat_hook = hook;
                decide(item.branch, ChainVerdict::Accept, out);
            }
            Step::Snat { addr, port, masquerade } => {
                let b = &mut item.branch;
                b.nat.src = Some(match addr {
                    Some(a) => Src::Const(a.clone()),
                    None if *masquerade => Src::Unknown,
                    None => Src::Unknown,
                });
                if let Some(p) = port {
                    b.nat.sport = Some(Src::Const(p.clone()));
                }
                decide(item.branch, ChainVerdict::Accept, out);
            }
            Step::Unknown => {
                let mut b = item.branch;
                b.decided = b.decided.push(here);
                out.push(self.indeterminate(b, "the rule's target is not modelled".into()));
            }
        }
    }

    /// Does the cube possibly touch anything in `r` (a box or a hull)?
    fn touches(cube: &super::program::Cube, r: &Region, view: &View) -> bool {
        cube.conds.iter().all(|(d, set)| match &view[*d] {
            Src::Orig(e) => r[*e].intersects(set),
            Src::Const(c) => c.intersects(set),
            Src::Unknown => true,
        })
    }

    /// Splits `set` by `rule`; gives the set back if the rule matches none of it.
    fn split(&self, rule: &CRule, set: RegionSet, view: &View) -> Result<Split, RegionSet> {
        // Fast path: no cube can touch the hull, so none touches a box.
        if !rule.cubes.iter().any(|c| Self::touches(c, &set.hull, view)) {
            return Err(set);
        }
        if !set.boxes.iter().any(|b| rule.cubes.iter().any(|c| Self::touches(c, b, view))) {
            return Err(set);
        }
        let RegionSet { boxes, hull } = set;
        let mut hit = Vec::new();
        let mut maybe = Vec::new();
        let mut miss = Vec::new();
        let mut why = String::new();
        for region in boxes {
            if !rule.cubes.iter().any(|c| Self::touches(c, &region, view)) {
                miss.push(region);
                continue;
            }
            let mut rest: Vec<Region> = vec![region.clone()];
            for cube in &rule.cubes {
                let mut inside = region.clone();
                let mut partial = false;
                let mut empty = false;
                for (d, s) in &cube.conds {
                    match &view[*d] {
                        Src::Orig(e) => {
                            inside[*e] = inside[*e].intersect(s);
                            if inside[*e].is_empty() {
                                empty = true;
                            }
                        }
                        Src::Const(c) => {
                            if !c.is_subset(s) {
                                if c.intersects(s) { partial = true } else { empty = true }
                            }
                        }
                        Src::Unknown => {
                            if !self.prog.universe[*d].is_subset(s) {
                                partial = true;
                            }
                        }
                    }
                    if empty {
                        break;
                    }
                }
                if empty {
                    continue;
                }
                rest = rest.iter().flat_map(|r| subtract(r, &inside)).collect();
                if partial {
                    why = "a NAT rewrite leaves the value the rule tests unknown".into();
                    maybe.push(inside);
                } else if !rule.unknown.is_empty() {
                    why = format!("the rule matches on `{}`, which is not modelled", rule.unknown.join(" "));
                    maybe.push(inside);
                } else {
                    hit.push(inside);
                }
            }
            miss.extend(rest);
        }
        // Hulls stay supersets: the original hull bounds every part.
        let mk = |boxes: Vec<Region>| (!boxes.is_empty()).then(|| RegionSet::with_hull(boxes, hull.clone()));
        Ok(Split { hit: mk(hit), maybe: mk(maybe).map(|m| (m, why)), miss: mk(miss) })
    }
}

/// `r` minus box `b`, as disjoint regions.
pub fn subtract(r: &Region, b: &Region) -> Vec<Region> {
    let mut out = Vec::new();
    let mut cur = r.clone();
    for d in 0..REGION_DIMS {
        let inter = cur[d].intersect(&b[d]);
        if inter.is_empty() {
            out.push(cur);
            return out;
        }
        let outside = cur[d].subtract(&b[d]);
        if !outside.is_empty() {
            let mut piece = cur.clone();
            piece[d] = outside;
            out.push(piece);
        }
        cur[d] = inter;
    }
    out
}
