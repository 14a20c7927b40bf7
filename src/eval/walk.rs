//! Walking one base chain: the region of packets is split by every rule it
//! meets, and each piece follows jumps, gotos and returns until a verdict.

use super::program::{CRule, CT, CT_UNTRACKED, MARK, PACKET_DIMS, Program, REGION_DIMS, Step};
use super::set::IntervalSet;
use driftwall_parsers::model::{Hook, Policy, RejectKind};
use std::rc::Rc;

/// A region of the question: one interval set per region dimension.
pub type Region = [IntervalSet; REGION_DIMS];

/// Boxes per chunk of a [`RegionSet`].
const CHUNK: usize = 16;

/// Boxes in order, in runs, each with its hull if known.
type Runs = Vec<(Vec<Region>, Option<Box<Region>>)>;

/// Boxes of a set kept together with their hull (boxed: chunks move often,
/// a region is hundreds of bytes).
#[derive(Debug, Clone)]
pub struct Chunk {
    pub hull: Box<Region>,
    pub boxes: Vec<Region>,
}

/// A union of disjoint regions that share one continuation, with hulls
/// (per dimension, supersets of the union) for the whole set and for each
/// chunk of boxes, so a rule is matched only against the boxes it may touch.
#[derive(Debug, Clone)]
pub struct RegionSet {
    pub chunks: Vec<Chunk>,
    pub hull: Box<Region>,
}

/// A superset of the per-dimension union of some boxes: per dimension the
/// span from the lowest to the highest value. Exact unions would filter a
/// little better but cost an allocation and a sort per dimension, on every
/// split; a hull only has to rule rules out.
fn hull_of<'a>(boxes: impl Iterator<Item = &'a Region>) -> Region {
    // Lowest and highest value per dimension; a dimension no box has a
    // value in ends with `lo > hi`, and is empty.
    let mut lo = [u128::MAX; REGION_DIMS];
    let mut hi = [0u128; REGION_DIMS];
    for b in boxes {
        for ((set, lo), hi) in b.iter().zip(lo.iter_mut()).zip(hi.iter_mut()) {
            if let Some((first, last)) = set.span() {
                *lo = (*lo).min(first);
                *hi = (*hi).max(last);
            }
        }
    }
    std::array::from_fn(|d| match (lo.get(d), hi.get(d)) {
        (Some(&a), Some(&z)) => IntervalSet::range(a, z),
        _ => IntervalSet::empty(),
    })
}

/// Joins neighbouring chunks while they fit in one, in order, the hull of
/// two the hull of their hulls: no box is looked at, only moved.
fn merge_small(chunks: Vec<Chunk>) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::with_capacity(chunks.len() / 2 + 1);
    for c in chunks {
        match out.last_mut() {
            Some(last) if last.boxes.len() + c.boxes.len() <= CHUNK => {
                *last.hull = hull_of([&*last.hull, &*c.hull].into_iter());
                last.boxes.extend(c.boxes);
            }
            _ => out.push(c),
        }
    }
    out
}

impl RegionSet {
    pub fn one(r: Region) -> RegionSet {
        RegionSet {
            hull: Box::new(r.clone()),
            chunks: vec![Chunk {
                hull: Box::new(r.clone()),
                boxes: vec![r],
            }],
        }
    }

    /// Groups boxes into chunks of neighbours (by source, then destination),
    /// taking them from runs in order; a run may come with its hull.
    ///
    /// Boxes are big: their keys are sorted (with their place, which makes
    /// the order the stable one) and each box is moved once, into its
    /// chunk; boxes already in order and in runs of [`CHUNK`] are not moved.
    fn chunked(mut runs: Runs) -> Vec<Chunk> {
        let key = |b: &Region| (b[super::program::SRC].min(), b[super::program::DST].min());
        runs.retain(|(boxes, _)| !boxes.is_empty());
        let total: usize = runs.iter().map(|(b, _)| b.len()).sum();
        let mut chunks = Vec::with_capacity(total / CHUNK + 1);
        // Chunks moved whole (a rule that holds all of a set) keep their
        // boxes and hulls as they are.
        if runs
            .iter()
            .all(|(b, hull)| hull.is_some() && b.len() <= 2 * CHUNK)
        {
            for (boxes, hull) in runs {
                if let Some(hull) = hull {
                    chunks.push(Chunk { hull, boxes });
                }
            }
            return chunks;
        }
        let sorted = runs.iter().flat_map(|(b, _)| b.iter()).map(key).is_sorted();
        if sorted {
            let last = runs.len().saturating_sub(1);
            if runs
                .iter()
                .enumerate()
                .all(|(i, (b, _))| b.len() == CHUNK || (i == last && b.len() < CHUNK))
            {
                for (boxes, hull) in runs {
                    let hull = hull.unwrap_or_else(|| Box::new(hull_of(boxes.iter())));
                    chunks.push(Chunk { hull, boxes });
                }
                return chunks;
            }
            let mut left = total;
            let mut part: Vec<Region> = Vec::with_capacity(CHUNK.min(left));
            for b in runs.into_iter().flat_map(|(boxes, _)| boxes) {
                part.push(b);
                if part.len() == CHUNK {
                    left -= CHUNK;
                    let full = std::mem::replace(&mut part, Vec::with_capacity(CHUNK.min(left)));
                    chunks.push(Chunk {
                        hull: Box::new(hull_of(full.iter())),
                        boxes: full,
                    });
                }
            }
            if !part.is_empty() {
                chunks.push(Chunk {
                    hull: Box::new(hull_of(part.iter())),
                    boxes: part,
                });
            }
            return chunks;
        }
        // (sort key, run, place in the run) of every box.
        type Placed = ((Option<u128>, Option<u128>), u32, u32);
        let mut order: Vec<Placed> = Vec::with_capacity(total);
        for (r, (boxes, _)) in runs.iter().enumerate() {
            order.extend(boxes.iter().zip(0u32..).map(|(b, i)| (key(b), r as u32, i)));
        }
        // Runs of sorted boxes are common (kept chunks): a merge sort finds them.
        order.sort();
        let mut runs: Vec<Vec<Region>> = runs.into_iter().map(|(boxes, _)| boxes).collect();
        for part in order.chunks(CHUNK) {
            let part: Vec<Region> = part
                .iter()
                .filter_map(|(_, r, i)| {
                    runs.get_mut(*r as usize)
                        .and_then(|b| b.get_mut(*i as usize))
                        .map(std::mem::take)
                })
                .collect();
            chunks.push(Chunk {
                hull: Box::new(hull_of(part.iter())),
                boxes: part,
            });
        }
        chunks
    }

    pub fn from_boxes(boxes: Vec<Region>) -> RegionSet {
        Self::from_runs(vec![(boxes, None)])
    }

    fn from_runs(runs: Runs) -> RegionSet {
        let chunks = Self::chunked(runs);
        let hull = Box::new(hull_of(chunks.iter().map(|c| &*c.hull)));
        RegionSet { chunks, hull }
    }

    pub fn into_boxes(self) -> impl Iterator<Item = Region> {
        self.chunks.into_iter().flat_map(|c| c.boxes.into_iter())
    }

    /// The one value every box of the set has in dimension `dim`, if there
    /// is one. The hull may be wider than the boxes (a split leaves the
    /// rest under the old hull), so the boxes decide when it is not one
    /// value: where a REJECT's answer comes from, or where a REDIRECT
    /// sends, must not turn unknown because of a stale hull.
    pub fn single_value(&self, dim: usize) -> Option<u128> {
        let one = |s: &IntervalSet| match s.single_range() {
            Some((a, b)) if a == b => Some(a),
            _ => None,
        };
        if let Some(v) = self.hull.get(dim).and_then(one) {
            return Some(v);
        }
        let mut values = self
            .chunks
            .iter()
            .flat_map(|c| c.boxes.iter())
            .map(|b| b.get(dim).and_then(one));
        let first = values.next()??;
        values.all(|v| v == Some(first)).then_some(first)
    }

    /// Adds the (disjoint) boxes of another set.
    pub fn absorb(&mut self, other: RegionSet) {
        *self.hull = hull_of([&*self.hull, &*other.hull].into_iter());
        self.chunks.extend(other.chunks);
    }
}

/// Where the value a rule tests comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Src {
    /// A dimension of the question's region (a reply's source is the question's destination).
    Orig(usize),
    /// A fixed set, such as a NAT rewrite or the phase's connection state.
    Const(IntervalSet),
    /// A value we cannot know (the address a masquerade picks).
    Unknown,
}

pub type View = [Src; PACKET_DIMS];

/// A NAT binding of the connection, made by the first packet. `Eq`, so
/// that two branches sharing one (`Rc`) compare equal without a look
/// inside: `Rc`'s `==` tests the pointer first for `Eq` types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatBinding {
    /// New destination address and port, and the hook that rewrote them.
    pub dst: Option<Src>,
    pub dport: Option<Src>,
    pub dnat_hook: Option<Hook>,
    /// REDIRECT: delivered to the host itself.
    pub redirect: bool,
    pub src: Option<Src>,
    pub sport: Option<Src>,
    /// Where the source was rewritten (hook, priority): chains after it
    /// see the new source.
    pub snat_at: Option<(Hook, i32)>,
    /// A translation with `pass` (`Action::NatPass`) rewrote the
    /// destination: the filter chains where the packet arrives are skipped.
    pub pass_in: bool,
    /// ... the source: the filter chains where it leaves are skipped.
    pub pass_out: bool,
}

/// A rule (or a chain's policy) that a packet met, in a phase of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    pub chain: u32,
    /// `None` for the chain's policy.
    pub rule: Option<u32>,
    pub phase: u8,
    /// The decision let the packet through this chain (accept or NAT).
    pub accepts: bool,
}

/// A persistent list, so splitting a piece does not copy its history.
#[derive(Debug, Clone, Default)]
pub struct Trail(Option<Rc<(Decision, Trail)>>);

impl Trail {
    pub fn push(&self, s: Decision) -> Trail {
        Trail(Some(Rc::new((s, self.clone()))))
    }
    /// Oldest first.
    pub fn to_vec(&self) -> Vec<Decision> {
        let mut out = Vec::new();
        let mut cur = &self.0;
        while let Some(node) = cur {
            out.push(node.0);
            cur = &(node.1).0;
        }
        out.reverse();
        out
    }
    /// Oldest first, shared: one allocation where [`Trail::to_vec`] and a
    /// conversion make two (every finished piece keeps three of these).
    pub fn to_rc(&self) -> Rc<[Decision]> {
        // Trails are short: a step per rule that decided or matched on
        // the piece's way, over a few phases.
        // (Collecting an iterator of unknown length into an `Rc` fills a
        // vector first: a slice is copied into one allocation.)
        const SHORT: usize = 32;
        let filler = Decision {
            chain: 0,
            rule: None,
            phase: 0,
            accepts: false,
        };
        let mut buf = [filler; SHORT];
        let mut n = 0;
        let mut cur = &self.0;
        while let Some(node) = cur {
            match buf.get_mut(n) {
                Some(slot) => *slot = node.0,
                None => return self.to_vec().into(),
            }
            n += 1;
            cur = &(node.1).0;
        }
        let steps = buf.get_mut(..n).unwrap_or(&mut []);
        steps.reverse();
        Rc::from(&*steps)
    }
    /// The newest step and the list before it.
    pub fn last(&self) -> Option<(Decision, &Trail)> {
        self.0.as_ref().map(|node| (node.0, &node.1))
    }
    /// The same list: the same node, or both empty, or equal steps.
    pub fn same(&self, other: &Trail) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Rc::ptr_eq(a, b) || (a.0 == b.0 && a.1.same(&b.1)),
            _ => false,
        }
    }
}

/// A base chain that let a piece through in an earlier packet of its
/// connection and changed nothing of it but its decisions, by one: the view
/// the walk saw and that decision. A later packet that meets the chain
/// under the same view takes the same way, without a walk (see
/// `Evaluation::replay` in connection.rs).
#[derive(Debug)]
pub struct Passage {
    pub chain: u32,
    pub view: Rc<View>,
    pub decided: Decision,
}

/// A persistent list of passages, newest first: pieces split from one
/// another share it.
#[derive(Debug, Clone, Default)]
pub struct Passages(Option<Rc<(Passage, Passages)>>);

impl Passages {
    pub fn push(&self, p: Passage) -> Passages {
        Passages(Some(Rc::new((p, self.clone()))))
    }
    pub fn iter(&self) -> impl Iterator<Item = &Passage> {
        std::iter::successors(self.0.as_deref(), |(_, rest)| rest.0.as_deref()).map(|(p, _)| p)
    }
}

/// A piece of the question on its way through the firewall.
#[derive(Debug, Clone)]
pub struct Branch {
    pub region: RegionSet,
    /// Shared, and copied only by a NAT rule: most pieces have none, and
    /// a binding is most of a branch's size, which every split moves.
    pub nat: Rc<NatBinding>,
    /// Set by NOTRACK in the raw table for this packet.
    pub notrack: bool,
    /// The connection's mark (its low bits, `program::MARK`), as rules set it.
    pub mark: u128,
    /// Every rule that matched, for `explain`.
    pub trail: Trail,
    /// The rules that decided (a verdict or a policy), for reports.
    pub decided: Trail,
    /// Rules with unmodelled matches this piece assumed to match or not: if
    /// the other assumption gives another verdict, the result is indeterminate.
    pub assumed: Trail,
    /// The base chains earlier packets of the connection went through
    /// with one decision each, for later packets to replay.
    pub passed: Passages,
}

impl Branch {
    /// The same branch over another region. `Branch { region,
    /// ..b.clone() }` would clone the old region first, only to drop it.
    pub fn with_region(&self, region: RegionSet) -> Branch {
        Branch {
            region,
            nat: self.nat.clone(),
            notrack: self.notrack,
            mark: self.mark,
            trail: self.trail.clone(),
            decided: self.decided.clone(),
            assumed: self.assumed.clone(),
            passed: self.passed.clone(),
        }
    }
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
/// How much work one evaluation (one question, all its phases) may do, in
/// units: a chunk hull or box looked at for a rule (once per cube of the
/// rule), a piece made by a cut, a comparison of pieces that depend on
/// unmodelled matches. The limit is a base plus a share per rule, so work
/// that grows with the ruleset does not meet it (the generated rulesets of
/// the benches, up to 1M rules, stay under it). A ruleset built to fragment
/// the partition (every rule its own source, port range and port list)
/// makes pieces faster than rules: past the limit, what is left of the
/// question is indeterminate, with the rule where the partition outgrew
/// the limit as its culprit, instead of minutes of work and gigabytes of
/// pieces (docs/performance.md).
pub const WORK_BASE: u64 = 1_500_000;
pub const WORK_PER_RULE: u64 = 60;

/// The limit of [`WORK_BASE`] and [`WORK_PER_RULE`] for a program.
pub fn work_limit(prog: &Program) -> u64 {
    let rules: usize = prog.chains.iter().map(|c| c.rules.len()).sum();
    WORK_BASE.saturating_add(WORK_PER_RULE.saturating_mul(rules as u64))
}

/// The work of an evaluation so far, and the rule where it outgrew
/// its limit ([`work_limit`]), once it has.
#[derive(Debug, Default)]
pub struct Budget {
    pub limit: u64,
    pub used: std::cell::Cell<u64>,
    pub outgrown: std::cell::Cell<Option<Decision>>,
}

impl Budget {
    pub fn spend(&self, n: usize) {
        self.used.set(self.used.get().saturating_add(n as u64));
    }
}
const MAX_DEPTH: usize = 128;
const MAX_ITEMS: usize = 2_000_000;

struct Item {
    branch: Branch,
    /// Shared: pieces split from one another see the packet the same way.
    view: Rc<View>,
    chain: usize,
    idx: usize,
    stack: Vec<(usize, usize)>,
}

impl Item {
    /// Another branch at this item's place, seen the same way, at rule
    /// `idx` of the chain.
    fn at(&self, branch: Branch, idx: usize) -> Item {
        Item {
            branch,
            view: self.view.clone(),
            chain: self.chain,
            idx,
            stack: self.stack.clone(),
        }
    }

    /// Two pieces at the same place whose futures cannot differ: they can
    /// travel on as one set.
    fn same_future(&self, other: &Item) -> bool {
        let (a, b) = (&self.branch, &other.branch);
        a.notrack == b.notrack
            && a.nat == b.nat
            && self.view == other.view
            && a.trail.same(&b.trail)
            && a.decided.same(&b.decided)
            && a.assumed.same(&b.assumed)
    }
}

type Place = (std::cmp::Reverse<usize>, Vec<(usize, usize)>, usize, usize);

/// Pieces waiting to be walked, deepest call first and then in rule order,
/// so the pieces a user chain returns meet again in the caller and are
/// merged before they walk the rest of it.
#[derive(Default)]
struct WorkList {
    queue: std::collections::BTreeMap<Place, Vec<Item>>,
}

impl WorkList {
    fn push(&mut self, item: Item) {
        let place = (
            std::cmp::Reverse(item.stack.len()),
            item.stack.clone(),
            item.chain,
            item.idx,
        );
        let bucket = self.queue.entry(place).or_default();
        match bucket.iter_mut().find(|e| e.same_future(&item)) {
            Some(e) => e.branch.region.absorb(item.branch.region),
            None => bucket.push(item),
        }
    }

    fn pop(&mut self) -> Option<Item> {
        let mut entry = self.queue.first_entry()?;
        let item = entry.get_mut().pop();
        if entry.get().is_empty() {
            entry.remove();
        }
        item
    }
}

pub struct Walker<'p> {
    pub prog: &'p Program,
    /// The rules worth looking at, per chain and view (shared by the walks
    /// of an evaluation).
    pub index: Rc<RuleIndex>,
    pub phase: u8,
    pub forks: u32,
    /// Record every matched rule (for `explain`); off, pieces merge more.
    pub trace: bool,
    /// The packet is a REJECT's answer, which NOTRACK leaves alone.
    pub response: bool,
    /// Work done so far in the evaluation (see [`work_limit`]), shared
    /// by its walks (a REJECT's answer is walked inside another walk).
    pub work: Rc<Budget>,
}

/// Which rules of a chain can match anything under a view: a rule that
/// tests a value the view fixes (connection state, TCP flags, an interface
/// a hook does not have) or a value of the question's region (its
/// protocol, its ports, its addresses) and does not allow it can match no
/// piece, and is skipped without a look. Every piece of an evaluation is
/// part of the question's region, so a requirement on port 22 visits only
/// the rules whose ports take in 22. Lists are made the first time a chain
/// is walked under a view, and kept.
#[derive(Default)]
pub struct RuleIndex {
    /// The question's region: what every piece is a part of.
    bound: Option<Region>,
    /// Leave out rules that only log or count (and match on nothing
    /// unmodelled): they change nothing of a packet, and with no trail to
    /// record they would only cut pieces that go on side by side.
    skip_continue: bool,
    /// What each signature fixes, per packet dimension.
    signatures: std::cell::RefCell<Vec<Signature>>,
    lists: std::cell::RefCell<std::collections::HashMap<ListKey, Rc<[u32]>>>,
    /// Per chain and signature, the rule that takes every piece whole, if
    /// one does ([`RuleIndex::takes_all`]).
    whole: std::cell::RefCell<std::collections::HashMap<ListKey, Option<u32>>>,
}

/// A chain's rule list under one view: (chain, view).
type ListKey = (u32, usize);

/// What a view fixes per dimension (a constant, or the question's set for
/// a dimension of the region), and which dimensions come from the region.
type Signature = ([Option<IntervalSet>; PACKET_DIMS], u16);

impl RuleIndex {
    /// An index for the walks of one question, whose region bounds them
    /// all; `trace` keeps the rules that only log or count, to be shown.
    pub fn new(bound: Region, trace: bool) -> RuleIndex {
        RuleIndex {
            bound: Some(bound),
            skip_continue: !trace,
            ..Default::default()
        }
    }

    /// The number of the signature of `view`, in a walk whose pieces all
    /// have protocols in `proto`.
    fn signature(&self, view: &View, proto: &IntervalSet) -> u32 {
        // What the view fixes in dimension `d`, borrowed: a walk's view is
        // almost always one met before, so nothing is copied to find it.
        let fixed = |d: usize| match view.get(d) {
            Some(Src::Const(c)) => Some(c),
            Some(Src::Orig(super::program::PROTO)) => Some(proto),
            Some(Src::Orig(e)) => self.bound.as_ref().and_then(|b| b.get(*e)),
            _ => None,
        };
        let orig = view
            .iter()
            .enumerate()
            .filter(|(_, v)| matches!(v, Src::Orig(_)))
            .fold(0u16, |m, (d, _)| m | (1 << d));
        let mut sigs = self.signatures.borrow_mut();
        // The mask of dimensions first: it tells most signatures apart
        // without comparing a set.
        let known = sigs.iter().position(|(sets, mask)| {
            *mask == orig && sets.iter().enumerate().all(|(d, s)| s.as_ref() == fixed(d))
        });
        match known {
            Some(i) => i as u32,
            None => {
                sigs.push((std::array::from_fn(|d| fixed(d).cloned()), orig));
                (sigs.len() - 1) as u32
            }
        }
    }

    /// The rules of `chain` that may match under signature `sig`, in order.
    fn rules(&self, prog: &Program, sig: u32, chain: usize) -> Rc<[u32]> {
        if let Some(list) = self.lists.borrow().get(&(sig, chain)) {
            return list.clone();
        }
        let sigs = self.signatures.borrow();
        let Some((fixed, _)) = sigs.get(sig as usize) else {
            return Rc::from([]);
        };
        let rules = prog
            .chains
            .get(chain)
            .map_or(&[][..], |c| c.rules.as_slice());
        // A rule that only logs or counts is left out even where it may
        // or may not match (an unmodelled `-m limit` on a LOG rule, common
        // in real rulesets): both ways go on to the next rule alike, so a
        // fork there would only name the rule among the assumptions, as
        // if it decided, and spend the evaluation's forks.
        let list: Rc<[u32]> = rules
            .iter()
            .zip(0u32..)
            .filter(|(rule, _)| !(self.skip_continue && matches!(rule.step, Step::Continue)))
            .filter(|(rule, _)| {
                rule.cubes.iter().any(|c| {
                    c.conds.iter().all(|(d, s)| {
                        fixed
                            .get(*d)
                            .and_then(|f| f.as_ref())
                            .is_none_or(|f| f.intersects(s))
                    })
                })
            })
            .map(|(_, i)| i)
            .collect();
        self.lists.borrow_mut().insert((sig, chain), list.clone());
        list
    }

    /// The rule of `chain` that takes every piece of the question whole
    /// under signature `sig`, if there is one: the first rule that may
    /// match, if it accepts, has one cube and no unmodelled match, and
    /// holds every value the signature allows (the question's region, the
    /// state, the flags). An ESTABLISHED packet that meets `ct state
    /// established accept` first is such a case, whatever its pieces; it
    /// is looked for once per chain and signature. A value the view leaves
    /// unknown is not held.
    fn takes_all(&self, prog: &Program, sig: u32, chain: usize) -> Option<u32> {
        if let Some(found) = self.whole.borrow().get(&(sig, chain)) {
            return *found;
        }
        let first = self.rules(prog, sig, chain).first().copied();
        let sigs = self.signatures.borrow();
        let found = first.filter(|&i| {
            let rule = prog.chains.get(chain).and_then(|c| c.rules.get(i as usize));
            let Some((rule, (fixed, _))) = rule.zip(sigs.get(sig as usize)) else {
                return false;
            };
            let [cube] = rule.cubes.as_slice() else {
                return false;
            };
            matches!(rule.step, Step::Accept)
                && rule.unknown.is_empty()
                && cube.conds.iter().all(|(d, s)| {
                    fixed
                        .get(*d)
                        .and_then(|f| f.as_ref())
                        .is_some_and(|f| f.is_subset(s))
                })
        });
        drop(sigs);
        self.whole.borrow_mut().insert((sig, chain), found);
        found
    }
}

/// What a rule's only cube made of the last set it cut in each region
/// dimension, while it splits one set of boxes: the set, its part in the
/// cube's first condition on the dimension, and its part outside the
/// cube. Both are functions of the set, and boxes cut from one box share
/// the sets of the dimensions they were not cut in (one allocation, the
/// same pointer), so a box's neighbours often hold the set it held. Sets
/// are keyed by that pointer ([`IntervalSet::same`]); an entry holds its
/// set, so the pointer is not reused while it is kept. On the nft 10k
/// bench check, one cut in five is served from here (44,019 set
/// subtractions became 35,115); most are of address sets with dozens of
/// holes, a new allocation each.
#[derive(Default)]
struct Memo([Option<Made>; REGION_DIMS]);

/// One dimension's entry of a [`Memo`]: the set, and its parts once made.
#[derive(Default)]
struct Made {
    set: IntervalSet,
    inside: Option<IntervalSet>,
    outside: Option<IntervalSet>,
}

impl Memo {
    /// The entry of dimension `d` for `set`, made anew for another set.
    fn entry(&mut self, d: usize, set: &IntervalSet) -> Option<&mut Made> {
        let slot = self.0.get_mut(d)?;
        if !slot.as_ref().is_some_and(|m| m.set.same(set)) {
            *slot = Some(Made {
                set: set.clone(),
                ..Made::default()
            });
        }
        slot.as_mut()
    }

    /// `set` intersected with `s`, the cube's first condition on `d`.
    fn inside(&mut self, d: usize, set: &IntervalSet, s: &IntervalSet) -> IntervalSet {
        let make = || {
            if set.is_subset(s) {
                set.clone()
            } else {
                set.intersect(s)
            }
        };
        match self.entry(d, set) {
            Some(m) => m.inside.get_or_insert_with(make).clone(),
            None => make(),
        }
    }

    /// `set` minus `cut`, the cube's part of it (or its one condition).
    fn outside(&mut self, d: usize, set: &IntervalSet, cut: &IntervalSet) -> IntervalSet {
        match self.entry(d, set) {
            Some(m) => m.outside.get_or_insert_with(|| set.subtract(cut)).clone(),
            None => set.subtract(cut),
        }
    }
}

/// The parts of a region a rule takes; what it leaves stays where the
/// region was (see [`Walker::split`]).
struct Split {
    hit: Option<RegionSet>,
    maybe: Option<(RegionSet, String)>,
}

impl<'p> Walker<'p> {
    /// Runs `branch` through base chain `chain`; `view` says where each packet
    /// dimension comes from. Results go to `out`, one per piece.
    pub fn run(
        &mut self,
        chain: usize,
        branch: Branch,
        view: Rc<View>,
        out: &mut dyn FnMut(ChainResult),
    ) {
        let base = chain;
        // Every piece of this walk is part of this set: what it says of the
        // protocol holds for all of them.
        let proto = branch.region.hull[super::program::PROTO].clone();
        let mut work = WorkList::default();
        // A rule that takes the whole question takes every piece as it is:
        // the walk would only move the set to it. The work is counted as
        // the walk counts it (the first box the rule touches is in the
        // first chunk; then every chunk is moved).
        let chunks = &branch.region.chunks;
        if self.work.outgrown.get().is_none()
            && let Some(first) = chunks.first().filter(|c| !c.boxes.is_empty())
            && let Some(i) =
                self.index
                    .takes_all(self.prog, self.index.signature(&view, &proto), chain)
            && let Some(rule) = self
                .prog
                .chains
                .get(chain)
                .and_then(|c| c.rules.get(i as usize))
        {
            self.work.spend(1 + first.boxes.len() + chunks.len());
            if self.work.used.get() > self.work.limit && self.work.outgrown.get().is_none() {
                self.work.outgrown.set(Some(Decision {
                    chain: chain as u32,
                    rule: Some(i),
                    phase: self.phase,
                    accepts: false,
                }));
            }
            let item = Item {
                branch,
                view,
                chain,
                idx: i as usize,
                stack: Vec::new(),
            };
            self.apply(rule, item, &mut work, out, base);
            return;
        }
        work.push(Item {
            branch,
            view,
            chain,
            idx: 0,
            stack: Vec::new(),
        });
        let mut steps = 0usize;
        // The signature of the last view seen (pieces share views).
        let mut last_sig: Option<(Rc<View>, u32)> = None;
        while let Some(mut item) = work.pop() {
            steps += 1;
            if let Some(at) = self.work.outgrown.get() {
                let mut b = item.branch;
                b.decided = b.decided.push(at);
                out(self.indeterminate(
                    b,
                    format!(
                        "the partition outgrew the evaluator's limit ({} units of work) at this rule",
                        self.work.limit
                    ),
                ));
                continue;
            }
            if steps > MAX_ITEMS {
                out(self.indeterminate(
                    item.branch,
                    "the ruleset is too large to evaluate exactly in the work budget".into(),
                ));
                continue;
            }
            let sig = match &last_sig {
                Some((v, sig)) if Rc::ptr_eq(v, &item.view) => *sig,
                _ => {
                    let sig = self.index.signature(&item.view, &proto);
                    last_sig = Some((item.view.clone(), sig));
                    sig
                }
            };
            // Walk the rules the whole set misses without requeueing the
            // item, looking only at those that can match under the view.
            let candidates = self.index.rules(self.prog, sig, item.chain);
            let mut at = candidates.partition_point(|&i| (i as usize) < item.idx);
            let (rule, split) = loop {
                let Some(c) = self.prog.chains.get(item.chain) else {
                    break (None, None);
                };
                let Some(&next) = candidates.get(at) else {
                    item.idx = item.idx.max(c.rules.len());
                    break (None, None);
                };
                item.idx = next as usize;
                let Some(rule) = c.rules.get(item.idx) else {
                    break (None, None);
                };
                let Some(first) = self.touches_set(rule, &item.branch.region, &item.view) else {
                    at += 1;
                    continue;
                };
                let split = self.split(rule, &mut item.branch.region, &item.view, first);
                if self.work.used.get() > self.work.limit && self.work.outgrown.get().is_none() {
                    self.work.outgrown.set(Some(Decision {
                        chain: item.chain as u32,
                        rule: Some(item.idx as u32),
                        phase: self.phase,
                        accepts: false,
                    }));
                }
                break (Some(rule), Some(split));
            };
            let (Some(rule), Some(split)) = (rule, split) else {
                if self.prog.chains.get(item.chain).is_none() {
                    continue;
                }
                self.leave_chain(item, &mut work, out, base);
                continue;
            };
            // What the rule leaves goes on as the item itself, after the
            // parts it takes are copied out of it (in this order: pieces
            // that meet at one place merge in the order they come).
            let hit = split
                .hit
                .map(|region| item.at(item.branch.with_region(region), item.idx));
            let maybe = split
                .maybe
                .map(|(region, why)| (item.at(item.branch.with_region(region), item.idx), why));
            if !item.branch.region.chunks.is_empty() {
                let mut miss = item;
                miss.idx += 1;
                work.push(miss);
            }
            if let Some(hit) = hit {
                self.apply(rule, hit, &mut work, out, base);
            }
            if let Some((mut taken, why)) = maybe {
                let here = Decision {
                    chain: taken.chain as u32,
                    rule: Some(taken.idx as u32),
                    phase: self.phase,
                    accepts: false,
                };
                if self.forks >= FORK_BUDGET {
                    let mut b = taken.branch;
                    b.decided = b.decided.push(here);
                    out(self.indeterminate(b, why));
                    continue;
                }
                self.forks += 1;
                let mut not_taken = taken.at(taken.branch.clone(), taken.idx + 1);
                not_taken.branch.assumed = not_taken.branch.assumed.push(here);
                taken.branch.assumed = taken.branch.assumed.push(here);
                work.push(not_taken);
                self.apply(rule, taken, &mut work, out, base);
            }
        }
    }

    fn indeterminate(&self, branch: Branch, reason: String) -> ChainResult {
        ChainResult {
            branch,
            verdict: ChainVerdict::Indeterminate,
            reason: Some(reason),
        }
    }

    /// The end of a chain or a RETURN: back to the caller, or, from the
    /// base chain (or a chain it went to), the base chain's policy.
    fn leave_chain(
        &self,
        mut item: Item,
        work: &mut WorkList,
        out: &mut dyn FnMut(ChainResult),
        base: usize,
    ) {
        match item.stack.pop() {
            Some((chain, idx)) => {
                item.chain = chain;
                item.idx = idx;
                work.push(item);
            }
            None => out(self.policy(item, base)),
        }
    }

    /// The end of the walk without a verdict: the base chain's policy, also
    /// when the end was reached in a chain entered by goto (FINDINGS.md 7).
    fn policy(&self, mut item: Item, base: usize) -> ChainResult {
        item.chain = base;
        let c = &self.prog.chains[base];
        let verdict = match c.policy {
            Some(Policy::Drop) => ChainVerdict::Drop,
            _ => ChainVerdict::Accept,
        };
        let step = Decision {
            chain: item.chain as u32,
            rule: None,
            phase: self.phase,
            accepts: verdict == ChainVerdict::Accept,
        };
        item.branch.decided = item.branch.decided.push(step);
        if self.trace {
            item.branch.trail = item.branch.trail.push(step);
        }
        ChainResult {
            branch: item.branch,
            verdict,
            reason: None,
        }
    }

    /// What a matching rule does to a piece.
    fn apply(
        &self,
        rule: &CRule,
        mut item: Item,
        work: &mut WorkList,
        out: &mut dyn FnMut(ChainResult),
        base: usize,
    ) {
        let here = Decision {
            chain: item.chain as u32,
            rule: Some(item.idx as u32),
            phase: self.phase,
            accepts: false,
        };
        if self.trace {
            item.branch.trail = item.branch.trail.push(here);
        }
        let decide = |mut b: Branch, v: ChainVerdict, out: &mut dyn FnMut(ChainResult)| {
            b.decided = b.decided.push(Decision {
                accepts: v == ChainVerdict::Accept,
                ..here
            });
            out(ChainResult {
                branch: b,
                verdict: v,
                reason: None,
            });
        };
        match &rule.step {
            Step::Accept => decide(item.branch, ChainVerdict::Accept, out),
            Step::Drop => decide(item.branch, ChainVerdict::Drop, out),
            Step::Reject(k) => decide(item.branch, ChainVerdict::Reject(*k), out),
            Step::Jump(target) | Step::Goto(target) => {
                if item.stack.len() >= MAX_DEPTH {
                    let mut b = item.branch;
                    b.decided = b.decided.push(here);
                    out(self
                        .indeterminate(b, "jumps nest too deep (a loop between chains?)".into()));
                    return;
                }
                if matches!(rule.step, Step::Jump(_)) {
                    item.stack.push((item.chain, item.idx + 1));
                }
                item.chain = *target;
                item.idx = 0;
                work.push(item);
            }
            Step::Return => self.leave_chain(item, work, out, base),
            Step::Continue => {
                item.idx += 1;
                work.push(item);
            }
            // A REJECT's answer is not the connection the rules mark.
            Step::SetMark(_) if self.response => {
                item.idx += 1;
                work.push(item);
            }
            Step::SetMark(bits) => {
                item.branch.mark |= bits;
                Rc::make_mut(&mut item.view)[MARK] =
                    Src::Const(IntervalSet::single(item.branch.mark));
                item.idx += 1;
                work.push(item);
            }
            Step::NoTrack if self.response => {
                item.idx += 1;
                work.push(item);
            }
            Step::NoTrack => {
                item.branch.notrack = true;
                Rc::make_mut(&mut item.view)[CT] = Src::Const(IntervalSet::single(CT_UNTRACKED));
                item.idx += 1;
                work.push(item);
            }
            Step::Dnat(rw) => {
                let (addr, port, redirect) = (&rw.addr, &rw.port, &rw.to_host);
                // The hook is the base chain's: a DNAT in a chain it jumps
                // to rewrites as much as one in the base chain itself.
                let hook = self.prog.chains.get(base).and_then(|c| c.hook);
                let redirect_dst = (*redirect && addr.is_none())
                    .then(|| redirect_address(self.prog, hook, &item.view, &item.branch.region));
                let nat = Rc::make_mut(&mut item.branch.nat);
                if let Some(a) = addr {
                    nat.dst = Some(Src::Const(a.clone()));
                }
                if let Some(d) = redirect_dst {
                    nat.dst = Some(d);
                }
                if let Some(p) = port {
                    nat.dport = Some(Src::Const(p.clone()));
                }
                nat.redirect |= *redirect;
                nat.dnat_hook = hook;
                nat.pass_in |= rw.pass;
                decide(item.branch, ChainVerdict::Accept, out);
            }
            Step::Snat(rw) => {
                let (addr, port, masquerade) = (&rw.addr, &rw.port, &rw.to_host);
                // The base chain's hook and priority, as for a DNAT.
                let at = self
                    .prog
                    .chains
                    .get(base)
                    .and_then(|c| c.hook.map(|h| (h, c.priority)));
                let nat = Rc::make_mut(&mut item.branch.nat);
                nat.snat_at = at;
                nat.pass_out |= rw.pass;
                nat.src = Some(match addr {
                    Some(a) => Src::Const(a.clone()),
                    None if *masquerade => Src::Unknown,
                    None => Src::Unknown,
                });
                if let Some(p) = port {
                    nat.sport = Some(Src::Const(p.clone()));
                }
                decide(item.branch, ChainVerdict::Accept, out);
            }
            Step::Unknown(what) => {
                let mut b = item.branch;
                b.decided = b.decided.push(here);
                let why = match what {
                    Some(what) => format!("the rule's target is not modelled: {what}"),
                    None => "the rule's target is not modelled".into(),
                };
                out(self.indeterminate(b, why));
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

    /// Can `rule` match anything in `set`? Looks at the hull first, the
    /// common miss, then at chunks and boxes; copies nothing.
    /// Gives the first chunk it may touch.
    fn touches_set(&self, rule: &CRule, set: &RegionSet, view: &View) -> Option<usize> {
        let touches_any = |r: &Region| rule.cubes.iter().any(|c| Self::touches(c, r, view));
        if !touches_any(&set.hull) {
            return None;
        }
        // Every hull and box looked at is work, once per cube of the rule.
        let mut looked = 0;
        let found = set.chunks.iter().position(|c| {
            looked += 1;
            touches_any(&c.hull) && {
                looked += c.boxes.len();
                c.boxes.iter().any(&touches_any)
            }
        });
        self.work.spend(looked * rule.cubes.len().max(1));
        found
    }

    /// Splits `set` by `rule`, which [`Walker::touches_set`] says touches it
    /// first in chunk `first`.
    fn split(&self, rule: &CRule, set: &mut RegionSet, view: &View, first: usize) -> Split {
        let touches_any = |r: &Region| rule.cubes.iter().any(|c| Self::touches(c, r, view));
        let chunks = std::mem::take(&mut set.chunks);
        let hull = &set.hull;
        // Boxes go in runs, to be chunked: the rule's part to `hit` (or
        // `maybe`). The rest, from every chunk the rule touches, goes to
        // `kept` with the chunks it does not, and back into `set`.
        let mut hit: Runs = Vec::new();
        let mut maybe: Runs = Vec::new();
        let mut kept = Vec::with_capacity(chunks.len() + 2);
        let mut why = String::new();
        let mut memo: Memo = Default::default();
        // With one cube (the common case) each box is cut in place, and a
        // box the cube holds whole moves as it is. Where the cube holds the
        // whole set's hull, every box does, and whole chunks move.
        let single = match rule.cubes.as_slice() {
            [one] => Some(one),
            _ => None,
        };
        let holds_all =
            single.is_some_and(|c| matches!(self.holds(c, hull, view), Some(Holds::Whole)));
        self.work.spend(chunks.len());
        for (i, chunk) in chunks.into_iter().enumerate() {
            if i < first || chunk.boxes.is_empty() || (!holds_all && !touches_any(&chunk.hull)) {
                kept.push(chunk);
                continue;
            }
            if holds_all {
                let to = if rule.unknown.is_empty() {
                    &mut hit
                } else {
                    &mut maybe
                };
                to.push((chunk.boxes, Some(chunk.hull)));
                continue;
            }
            // The first box the rule touches; none, the chunk stays whole.
            let Some(at) = chunk.boxes.iter().position(&touches_any) else {
                kept.push(chunk);
                continue;
            };
            let mut rest: Vec<Region> = Vec::with_capacity(chunk.boxes.len() + 4);
            let (mut h, mut m) = (Vec::new(), Vec::new());
            for (k, region) in chunk.boxes.into_iter().enumerate() {
                if k < at || (k > at && !touches_any(&region)) {
                    rest.push(region);
                    continue;
                }
                if let Some(cube) = single {
                    self.cut_one(
                        rule, cube, region, view, &mut memo, &mut h, &mut m, &mut rest, &mut why,
                    );
                } else {
                    self.cut_many(rule, region, view, &mut h, &mut m, &mut rest, &mut why);
                }
            }
            // What the rule leaves of a chunk stays in its place, under
            // the chunk's hull (still a superset): regrouping every cut
            // chunk moved each box and recomputed hulls on every split.
            // Only a chunk that grew past twice its size is cut again.
            self.work.spend(rest.len() + h.len() + m.len() + 1);
            if rest.len() > 2 * CHUNK {
                kept.extend(RegionSet::chunked(vec![(rest, None)]));
            } else if !rest.is_empty() {
                kept.push(Chunk {
                    hull: chunk.hull,
                    boxes: rest,
                });
            }
            hit.push((h, None));
            maybe.push((m, None));
        }
        // Splits leave small chunks behind; regroup when they are many.
        let boxes: usize = kept.iter().map(|c| c.boxes.len()).sum();
        if kept.len() > boxes / (CHUNK / 2) + 4 {
            kept = merge_small(kept);
        }
        // What is left stays in `set`, whose hull still bounds it.
        set.chunks = kept;
        let mk = |runs: Runs| {
            runs.iter()
                .any(|(b, _)| !b.is_empty())
                .then(|| RegionSet::from_runs(runs))
        };
        if holds_all && !rule.unknown.is_empty() {
            why = format!(
                "the rule matches on `{}`, which is not modelled",
                rule.unknown.join(" ")
            );
        }
        Split {
            hit: mk(hit),
            maybe: mk(maybe).map(|m| (m, why)),
        }
    }

    /// How cube `c` holds region `r`: `None` if it misses some of it in a
    /// way that needs cutting, `Some(Whole)` if every packet of `r` is in
    /// it, `Some(Partly)` if it holds all of `r` in the dimensions of the
    /// region but a NAT rewrite leaves a tested value unknown.
    fn holds(&self, c: &super::program::Cube, r: &Region, view: &View) -> Option<Holds> {
        let mut how = Holds::Whole;
        for (d, s) in &c.conds {
            match &view[*d] {
                Src::Orig(e) => {
                    if !r[*e].is_subset(s) {
                        return None;
                    }
                }
                Src::Const(k) => {
                    if !k.is_subset(s) {
                        if k.intersects(s) {
                            how = Holds::Partly;
                        } else {
                            return None;
                        }
                    }
                }
                Src::Unknown => {
                    if !self.prog.universe[*d].is_subset(s) {
                        how = Holds::Partly;
                    }
                }
            }
        }
        Some(how)
    }

    /// Cuts `region` (which the rule's only cube touches) into the part in
    /// the cube, to `hit` or `maybe`, and the rest, to `miss`: the same
    /// pieces, in the same order, as [`Walker::cut_many`] makes of it.
    #[allow(clippy::too_many_arguments)]
    fn cut_one(
        &self,
        rule: &CRule,
        cube: &super::program::Cube,
        region: Region,
        view: &View,
        memo: &mut Memo,
        hit: &mut Vec<Region>,
        maybe: &mut Vec<Region>,
        miss: &mut Vec<Region>,
        why: &mut String,
    ) {
        // Per region dimension the cube cuts: the part inside, whether that
        // is all of the region's set, and the rule's set if only one
        // condition tests the dimension (the part outside is then the
        // region's set minus that, usually one range: cheaper to take out
        // than the part inside, which may have many).
        let mut cut: [Option<(IntervalSet, bool, Option<&IntervalSet>)>; REGION_DIMS] =
            Default::default();
        let mut partial = false;
        for (d, s) in &cube.conds {
            match &view[*d] {
                Src::Orig(e) => {
                    let Some(slot) = cut.get_mut(*e) else {
                        continue;
                    };
                    let (now, only) = match slot.take() {
                        Some((prev, _, _)) => (prev.intersect(s), None),
                        None => (memo.inside(*e, &region[*e], s), Some(s)),
                    };
                    if now.is_empty() {
                        // Cannot happen for a box the cube touches; keep
                        // the box whole, as a miss, if it does.
                        miss.push(region);
                        return;
                    }
                    let whole = now.range_count() == region[*e].range_count() && now == region[*e];
                    *slot = Some((now, whole, only));
                }
                Src::Const(c) => {
                    if !c.is_subset(s) {
                        if c.intersects(s) {
                            partial = true;
                        } else {
                            miss.push(region);
                            return;
                        }
                    }
                }
                Src::Unknown => {
                    if !self.prog.universe[*d].is_subset(s) {
                        partial = true;
                    }
                }
            }
        }
        // The dimensions to cut, largest set first (ties in dimension
        // order), as [`subtract_owned`] orders them.
        let mut order = [0usize; REGION_DIMS];
        let mut n = 0;
        for (e, c) in cut.iter().enumerate() {
            if let Some((_, false, _)) = c
                && let Some(slot) = order.get_mut(n)
            {
                *slot = e;
                n += 1;
            }
        }
        let order = order.get_mut(..n).unwrap_or(&mut []);
        order.sort_by_key(|d| std::cmp::Reverse(region.get(*d).map_or(0, |s| s.range_count())));
        // Piece k keeps the inside part in the dimensions before the k-th
        // and the outside part in it: disjoint, and with the inside, all
        // of the region.
        let mut cur = region;
        for &d in order.iter() {
            let (Some(Some((inside, _, only))), Some(set)) = (cut.get(d), cur.get(d)) else {
                continue;
            };
            let mut outside = Some(memo.outside(d, set, only.unwrap_or(inside)));
            // Not a copy of `cur` with one set replaced: that copies the
            // set first, only to drop it.
            miss.push(std::array::from_fn(|e| match (e == d, cur.get(e)) {
                (true, _) => outside.take().unwrap_or_default(),
                (false, Some(s)) => s.clone(),
                (false, None) => IntervalSet::empty(),
            }));
            if let Some(slot) = cur.get_mut(d) {
                *slot = inside.clone();
            }
        }
        // What is left is the part inside.
        if partial {
            *why = "a NAT rewrite leaves the value the rule tests unknown".into();
            maybe.push(cur);
        } else if !rule.unknown.is_empty() {
            *why = format!(
                "the rule matches on `{}`, which is not modelled",
                rule.unknown.join(" ")
            );
            maybe.push(cur);
        } else {
            hit.push(cur);
        }
    }

    /// Cuts `region` by a rule of several (disjoint) cubes, each cut from
    /// the original region.
    #[allow(clippy::too_many_arguments)]
    fn cut_many(
        &self,
        rule: &CRule,
        region: Region,
        view: &View,
        hit: &mut Vec<Region>,
        maybe: &mut Vec<Region>,
        miss: &mut Vec<Region>,
        why: &mut String,
    ) {
        let orig = region.clone();
        let mut rest: Vec<Region> = vec![region];
        for cube in &rule.cubes {
            let base: &Region = &orig;
            let mut cut: Vec<(usize, IntervalSet)> = Vec::with_capacity(cube.conds.len());
            let mut partial = false;
            let mut empty = false;
            for (d, s) in &cube.conds {
                match &view[*d] {
                    Src::Orig(e) => {
                        let now = match cut.iter().position(|(x, _)| x == e) {
                            Some(i) => cut[i].1.intersect(s),
                            None => base[*e].intersect(s),
                        };
                        empty = now.is_empty();
                        match cut.iter_mut().find(|(x, _)| x == e) {
                            Some(slot) => slot.1 = now,
                            None => cut.push((*e, now)),
                        }
                    }
                    Src::Const(c) => {
                        if !c.is_subset(s) {
                            if c.intersects(s) {
                                partial = true
                            } else {
                                empty = true
                            }
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
            let inside: Region = std::array::from_fn(|e| match cut.iter().find(|(x, _)| *x == e) {
                Some((_, set)) => set.clone(),
                None => base[e].clone(),
            });
            let dims: Vec<usize> = cut.iter().map(|(e, _)| *e).collect();
            rest = rest
                .into_iter()
                .flat_map(|r| subtract_owned(r, &inside, &dims))
                .collect();
            if partial {
                *why = "a NAT rewrite leaves the value the rule tests unknown".into();
                maybe.push(inside);
            } else if !rule.unknown.is_empty() {
                *why = format!(
                    "the rule matches on `{}`, which is not modelled",
                    rule.unknown.join(" ")
                );
                maybe.push(inside);
            } else {
                hit.push(inside);
            }
        }
        miss.extend(rest);
    }
}

/// How a cube holds a region (see [`Walker::holds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Whole,
    Partly,
}

/// `r` minus box `b`, as disjoint regions, where `b` equals `r` outside
/// the dimensions `dims`. The largest dimension is cut first and in place,
/// so removing a small box from a big one copies little.
pub fn subtract_owned(r: Region, b: &Region, dims: &[usize]) -> Vec<Region> {
    let mut order: Vec<usize> = dims.to_vec();
    order.sort_unstable();
    order.dedup();
    order.sort_by_key(|d| std::cmp::Reverse(r[*d].range_count()));
    let mut out = Vec::new();
    let mut cur = r;
    for d in order {
        if cur[d].is_subset(&b[d]) {
            continue;
        }
        let inter = cur[d].intersect(&b[d]);
        if inter.is_empty() {
            out.push(cur);
            return out;
        }
        let mut cont: Region = std::array::from_fn(|e| {
            if e == d {
                IntervalSet::empty()
            } else {
                cur[e].clone()
            }
        });
        cont[d] = inter;
        cur[d].subtract_in_place(&b[d]);
        out.push(cur);
        cur = cont;
    }
    out
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

/// Where a REDIRECT sends a packet (kernel-checked, tests/kernel/FINDINGS.md):
/// in output to loopback, in prerouting to the address of the interface it
/// came in by (for IPv6 its global address, not the link-local one), which
/// is known only from `Program::host_addresses`.
fn redirect_address(prog: &Program, hook: Option<Hook>, view: &View, region: &RegionSet) -> Src {
    use super::program::IIF;
    if hook == Some(Hook::Output) {
        let lo = match prog.family {
            driftwall_parsers::model::Family::Ipv4 => {
                u32::from(std::net::Ipv4Addr::LOCALHOST) as u128
            }
            driftwall_parsers::model::Family::Ipv6 => u128::from(std::net::Ipv6Addr::LOCALHOST),
        };
        return Src::Const(IntervalSet::single(lo));
    }
    let Src::Orig(IIF) = view[IIF] else {
        return Src::Unknown;
    };
    region
        .single_value(IIF)
        .and_then(|c| prog.host_addresses.iter().find(|(class, _)| *class == c))
        .map(|(_, a)| Src::Const(IntervalSet::single(*a)))
        .unwrap_or(Src::Unknown)
}

#[cfg(test)]
mod tests {
    use super::{Decision, IntervalSet, Memo, Trail};

    #[test]
    fn a_shared_trail_lists_its_steps_oldest_first_whatever_its_length() {
        let mut trail = Trail::default();
        // Past the 32 steps kept on the stack, too.
        for n in 0..40u32 {
            assert_eq!(&*trail.to_rc(), trail.to_vec().as_slice());
            assert_eq!(trail.to_rc().len(), n as usize);
            trail = trail.push(Decision {
                chain: n,
                rule: Some(n * 2),
                phase: 1,
                accepts: n % 2 == 0,
            });
        }
        assert_eq!(trail.to_rc().first().map(|d| d.chain), Some(0));
    }

    /// A set of `n` ranges of width 10, 100 apart from `at`.
    fn holes(at: u128, n: u128) -> IntervalSet {
        IntervalSet::from_ranges((0..n).map(|i| (at + 100 * i, at + 100 * i + 9)).collect())
    }

    #[test]
    fn the_memo_gives_what_the_set_operations_give_and_forgets_another_set() {
        let cut = IntervalSet::range(150, 420);
        let sets = [
            holes(0, 20),
            holes(5, 20),
            holes(0, 20),
            IntervalSet::range(0, 999),
        ];
        let mut memo = Memo::default();
        // Each set twice in a row (the second from the memo), and a set
        // equal to an earlier one but not the same allocation after
        // another set: a stale entry would give the other set's parts.
        for s in sets.iter().flat_map(|s| [s, s]) {
            let inside = memo.inside(3, s, &cut);
            assert_eq!(inside, s.intersect(&cut));
            assert_eq!(memo.outside(3, s, &cut), s.subtract(&cut));
            // Another dimension has its own entry.
            assert_eq!(memo.outside(4, s, &inside), s.subtract(&inside));
        }
        // A dimension past the region's is computed, not kept.
        let s = &sets[0];
        assert_eq!(memo.inside(99, s, &cut), s.intersect(&cut));
        assert_eq!(memo.outside(99, s, &cut), s.subtract(&cut));
    }
}
