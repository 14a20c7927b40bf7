//! Pieces that overlap, resolved: they come from rules whose matches are not
//! modelled, where the walk followed both "matches" and "does not match".
//! Where the pieces over a connection disagree on the verdict it is
//! indeterminate; where they agree it stands.
//!
//! The result for a connection depends only on the pieces over it, not on
//! the order they came in: two evaluators that cut the question apart
//! differently, or hand out their pieces in another order (the reference
//! of `tests/eval_property.rs`), give the same answer and name the same
//! rules. So where pieces meet:
//!
//! - the rules whose unmodelled matches were assumed are all of theirs,
//!   in the order of the packets that met them ([`by_decision`]);
//! - where they agree, the piece that speaks for them (its decisions,
//!   trail and reason) is the least of them by [`by_piece`];
//! - where they disagree, the verdict is indeterminate and its culprits
//!   are those assumed rules.

use super::finding::{Finding, Verdict, intersect, overlaps};
use super::neighbours;
use super::walk::{Budget, Decision, Region, subtract};
use std::cmp::Ordering;
use std::rc::Rc;

const DISAGREE: &str = "the verdict depends on rules whose matches are not modelled";

/// A part of the question while its pieces are resolved.
struct Held {
    region: Region,
    /// The piece that speaks for this part where its pieces agree: the
    /// least of them by [`by_piece`] (its region is left empty).
    base: Rc<Finding>,
    /// Two of the pieces over this part disagree on the verdict.
    disagree: bool,
    /// The assumed rules of every piece over this part: one piece's as it
    /// has them, more pieces' in [`by_decision`] order without repeats.
    assumed: Rc<[Decision]>,
}

impl Held {
    fn of(mut f: Finding) -> Held {
        // The region moves to the part; the base keeps only what it says.
        let region = std::mem::replace(&mut f.region, std::array::from_fn(|_| Default::default()));
        Held {
            region,
            assumed: f.assumed.clone(),
            disagree: false,
            base: Rc::new(f),
        }
    }

    /// What this part and `other` say together over `region`, the part
    /// they share. Commutative and associative, so the order pieces meet
    /// in does not matter.
    fn with(&self, other: &Held, region: Region) -> Held {
        let base = match by_piece(&other.base, &self.base) {
            Ordering::Less => other.base.clone(),
            _ => self.base.clone(),
        };
        let mut assumed: Vec<Decision> = self
            .assumed
            .iter()
            .chain(other.assumed.iter())
            .copied()
            .collect();
        assumed.sort_by(by_decision);
        assumed.dedup();
        Held {
            region,
            base,
            disagree: self.disagree || other.disagree || self.base.verdict != other.base.verdict,
            assumed: assumed.into(),
        }
    }

    fn rest(&self, region: Region) -> Held {
        Held {
            region,
            base: self.base.clone(),
            disagree: self.disagree,
            assumed: self.assumed.clone(),
        }
    }

    fn into_finding(self) -> Finding {
        let base = Rc::unwrap_or_clone(self.base);
        if self.disagree {
            Finding {
                region: self.region,
                verdict: Verdict::Indeterminate,
                decided: self.assumed.clone(),
                trail: base.trail,
                assumed: self.assumed,
                reason: Some(DISAGREE.into()),
            }
        } else {
            Finding {
                region: self.region,
                assumed: self.assumed,
                ..base
            }
        }
    }
}

/// Decisions in the order of the packets that met them, then by chain and
/// rule (a chain's policy first).
fn by_decision(a: &Decision, b: &Decision) -> Ordering {
    (a.phase, a.chain, a.rule, a.accepts).cmp(&(b.phase, b.chain, b.rule, b.accepts))
}

/// An order of pieces by what they say (not where they are): their
/// decisions, then assumptions, trail, verdict and reason.
fn by_piece(a: &Finding, b: &Finding) -> Ordering {
    let list = |x: &[Decision], y: &[Decision]| {
        x.iter()
            .zip(y.iter())
            .map(|(p, q)| by_decision(p, q))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len()))
    };
    list(&a.decided, &b.decided)
        .then_with(|| list(&a.assumed, &b.assumed))
        .then_with(|| list(&a.trail, &b.trail))
        .then_with(|| (a.verdict as u8).cmp(&(b.verdict as u8)))
        .then_with(|| a.reason.cmp(&b.reason))
}

/// Resolves the overlaps of `findings` (see the module's text), one of two
/// ways, which say the same at every point:
///
/// - [`in_order`] compares each piece with every part kept so far. That is
///   quadratic, and it is the way that always was: where it fits in the
///   evaluation's work limit, reports stay as they were, part for part.
/// - Past that, [`by_neighbours`]: a real ruleset full of unmodelled
///   matches (a university's, in the corpus) gives tens of thousands of
///   pieces, each meeting only a few others, in chains that join nearly
///   all of them. The quadratic way ran out of the limit after a few
///   thousand and left every piece indeterminate (and took 81 s with the
///   limit lifted); this way finds each piece's neighbours and cuts it
///   only against them.
///
/// When both run out of work, every piece that depends on an unmodelled
/// match is indeterminate, the rules it depends on its culprits:
/// overlapping pieces then all say the same.
pub(super) fn resolve_overlaps(findings: Vec<Finding>, budget: &Budget) -> Vec<Finding> {
    // How far the way in order gets cannot be told before: a piece that
    // falls on parts kept adds none, one that falls between them one.
    // Kept for the other way in case it outgrows the limit.
    let copy = findings.clone();
    match in_order(findings, budget) {
        Ok(resolved) => resolved,
        Err(unresolved) => {
            by_neighbours(copy, budget.limit.saturating_mul(SECOND_ALLOWANCE)).unwrap_or(unresolved)
        }
    }
}

/// The allowance of [`by_neighbours`], in evaluation limits. A university's
/// rulesets in the corpus, checked with a LAN network, have resolutions of
/// 48 and 54 thousand pieces that it sorts out in 1.5 and 1.15 limits'
/// units, and where one limit made it give up, it spent as long giving up
/// as it now does finishing (2.7 and 2.4 s for the whole checks), and left
/// 76 and 6 requirements indeterminate where 6 and 6 are.
const SECOND_ALLOWANCE: u64 = 2;

/// The quadratic way of [`resolve_overlaps`]. Where it runs out of work,
/// `Err` with what it has: the parts resolved so far and the pieces not
/// met yet, all of them [`unresolved`].
fn in_order(findings: Vec<Finding>, budget: &Budget) -> Result<Vec<Finding>, Vec<Finding>> {
    // Boxed: a part kept so far is moved each time a later piece overlaps
    // some part before it, and a box moves as a pointer. Moving whole
    // findings (a region and its lists, 360 bytes) was a third of the
    // check of a university's ruleset in the corpus.
    let mut out: Vec<Box<Held>> = Vec::new();
    let mut findings = findings.into_iter();
    while let Some(f) = findings.next() {
        if budget.used.get() > budget.limit {
            return Err(out
                .into_iter()
                .map(|h| h.into_finding())
                .chain(std::iter::once(f))
                .chain(findings)
                .map(unresolved)
                .collect());
        }
        budget.spend(out.len() + 1);
        // Only the parts kept so far that share a point with `f` can meet
        // a part of it; the others stay as and where they are. Telling
        // them apart allocates nothing.
        if !out.iter().any(|e| overlaps(&e.region, &f.region)) {
            out.push(Box::new(Held::of(f)));
            continue;
        }
        let mut pending = vec![Held::of(f)];
        let mut merged: Vec<Box<Held>> = Vec::with_capacity(out.len() + 2);
        for existing in out.drain(..) {
            if !pending
                .iter()
                .any(|p| overlaps(&existing.region, &p.region))
            {
                merged.push(existing);
                continue;
            }
            let mut next_pending = Vec::new();
            let mut existing_rest = vec![existing.region.clone()];
            for p in pending {
                match intersect(&existing.region, &p.region) {
                    None => next_pending.push(p),
                    Some(common) => {
                        existing_rest = existing_rest
                            .iter()
                            .flat_map(|r| subtract(r, &common))
                            .collect();
                        for r in subtract(&p.region, &common) {
                            next_pending.push(p.rest(r));
                        }
                        merged.push(Box::new(existing.with(&p, common)));
                    }
                }
            }
            for r in existing_rest {
                merged.push(Box::new(existing.rest(r)));
            }
            pending = next_pending;
        }
        merged.extend(pending.into_iter().map(Box::new));
        out = merged;
    }
    Ok(out.into_iter().map(|h| h.into_finding()).collect())
}

/// The way of [`resolve_overlaps`] for many pieces: each piece is cut
/// against the pieces it overlaps alone ([`all_overlaps`]), not against the
/// parts of every piece before it. A point goes with one piece over it
/// (the one of fewest neighbours) and says what every piece over it says
/// together ([`Held::with`]): all of them overlap that piece, so they are
/// among its neighbours.
/// It has an allowance of `limit` units of its own (the way in order
/// spent the evaluation's; see [`SECOND_ALLOWANCE`]); `None` past it.
fn by_neighbours(findings: Vec<Finding>, limit: u64) -> Option<Vec<Finding>> {
    let work = Budget {
        limit,
        ..Default::default()
    };
    let neighbours = all_overlaps(&findings, &work)?;
    let pieces: Vec<Held> = findings.into_iter().map(Held::of).collect();
    // A point goes with the piece over it of the fewest neighbours (the
    // first of them where that ties): a piece that overlaps nearly every
    // other is then cut only where no other piece is, and the others each
    // against their few neighbours.
    let key = |p: usize| (neighbours.get(p).map_or(0, Vec::len), p);
    let mut out = Vec::with_capacity(pieces.len());
    for (j, piece) in pieces.iter().enumerate() {
        let mut around: Vec<usize> = neighbours.get(j).cloned().unwrap_or_default();
        around.sort_unstable_by_key(|&g| key(g));
        // Those that take area away, in the order of where they start:
        // what is left of a piece they nearly tile stays one front.
        let split = around.partition_point(|&g| key(g) < key(j));
        if let Some(theirs) = around.get_mut(..split) {
            theirs.sort_by_cached_key(|&g| pieces.get(g).map(|p| span_of(&p.region)));
        }
        let cells = carve(piece, &around, &pieces, |g| key(g) < key(j), &work)?;
        for (cell, mut over) in cells {
            over.sort_unstable();
            let mut here = piece.rest(cell);
            for g in over {
                if let Some(other) = pieces.get(g) {
                    let region = std::mem::replace(&mut here.region, no_region());
                    here = here.with(other, region);
                }
            }
            out.push(here.into_finding());
        }
    }
    Some(out)
}

/// The cells of `piece`, each with the pieces over it that are not its
/// owner: what a piece of `theirs` (one of fewer neighbours) covers is
/// that piece's, and is cut away; the others' parts are cut out and kept,
/// the piece added to those over them. `None` past `work`'s limit.
///
/// Depth first, and each cell is tested only against the neighbours that
/// met the cell it was cut from, in the dimensions where it differs from
/// that cell. Cutting every cell by every neighbour in turn tested each of
/// a hub's cells against all of its 48,907 neighbours: 62 M units and 42 s
/// on a resolution of a university's ruleset of the corpus, now 1.8 M.
fn carve(
    piece: &Held,
    around: &[usize],
    pieces: &[Held],
    theirs: impl Fn(usize) -> bool,
    work: &Budget,
) -> Option<Vec<(Region, Vec<usize>)>> {
    /// A cell to carve: the pieces over it, the neighbours that may meet
    /// it, and a bit for each dimension where it may no longer meet them.
    struct Cell {
        region: Region,
        over: Vec<usize>,
        may_meet: Rc<[usize]>,
        differs: u16,
    }
    let differs = |a: &Region, b: &Region| {
        a.iter()
            .zip(b.iter())
            .enumerate()
            .filter(|(_, (x, y))| !x.same(y))
            .fold(0u16, |m, (d, _)| m | 1 << d)
    };
    let mut out = Vec::new();
    // The piece's neighbours all meet it.
    let mut stack = vec![Cell {
        region: piece.region.clone(),
        over: Vec::new(),
        may_meet: around.into(),
        differs: 0,
    }];
    let (mut tested, mut cut) = (0usize, 0usize);
    while let Some(cell) = stack.pop() {
        tested += cell.may_meet.len();
        let meeting: Vec<usize> = cell
            .may_meet
            .iter()
            .copied()
            .filter(|&g| {
                pieces.get(g).is_some_and(|o| {
                    cell.region
                        .iter()
                        .zip(o.region.iter())
                        .enumerate()
                        .all(|(d, (x, y))| cell.differs & (1 << d) == 0 || x.intersects(y))
                })
            })
            .collect();
        let common = meeting.split_first().and_then(|(&g, later)| {
            let common = pieces
                .get(g)
                .and_then(|o| intersect(&cell.region, &o.region))?;
            Some((g, common, later))
        });
        let Some((g, common, later)) = common else {
            out.push((cell.region, cell.over));
            continue;
        };
        cut += 1;
        let later: Rc<[usize]> = later.into();
        let rests = subtract(&cell.region, &common);
        if !theirs(g) {
            let mut over = cell.over.clone();
            over.push(g);
            stack.push(Cell {
                differs: differs(&common, &cell.region),
                region: common,
                over,
                may_meet: later.clone(),
            });
        }
        // Pushed last first: the cells are carved in the order subtract
        // makes them.
        for rest in rests.into_iter().rev() {
            stack.push(Cell {
                differs: differs(&rest, &cell.region),
                region: rest,
                over: cell.over.clone(),
                may_meet: later.clone(),
            });
        }
        // Counted now and then: the test of the limit is not free.
        if cut % 64 == 0 {
            work.spend(cut + tested.div_ceil(LOOKS));
            (tested, cut) = (0, 0);
            if work.used.get() > work.limit {
                return None;
            }
        }
    }
    work.spend(cut + tested.div_ceil(LOOKS));
    (work.used.get() <= work.limit).then_some(out)
}

/// Looks (a set or node of [`neighbours`], a cell tested against a
/// neighbour) that cost one unit of work: a look compares sets in place
/// and allocates nothing, 12 to 16 ns, where a unit of the walk (a box
/// cut, a piece made) is about 170 ns (measured on the university's
/// ruleset: 2.3 M looks in 38 ms; 1.79 M units of the walk and the
/// quadratic resolution in 0.3 s; 16.7 M looks of [`neighbours`] in
/// 0.21 s).
const LOOKS: usize = 8;

/// Cells of `carve` keep a bit for each dimension.
const _: () = assert!(super::program::REGION_DIMS <= 16);

fn no_region() -> Region {
    std::array::from_fn(|_| Default::default())
}

/// For each piece, the other pieces that share a point with it, in their
/// order; `None` when finding them outgrew `budget`.
fn all_overlaps(findings: &[Finding], budget: &Budget) -> Option<Vec<Vec<usize>>> {
    let regions: Vec<&Region> = findings.iter().map(|f| &f.region).collect();
    let left = budget.limit.saturating_sub(budget.used.get());
    let allowance = usize::try_from(left)
        .unwrap_or(usize::MAX)
        .saturating_mul(LOOKS);
    let mut looked = 0;
    let found = neighbours::all_overlaps(&regions, allowance, &mut looked);
    budget.spend(looked.div_ceil(LOOKS));
    found
}

/// The least and greatest value of each dimension of a region: the order
/// in which a piece meets the pieces that take area from it.
fn span_of(region: &Region) -> [(u128, u128); super::program::REGION_DIMS] {
    std::array::from_fn(|d| {
        region
            .get(d)
            .and_then(super::set::IntervalSet::span)
            .unwrap_or((0, 0))
    })
}

/// A piece whose overlaps were not resolved (see [`resolve_overlaps`]).
fn unresolved(mut f: Finding) -> Finding {
    if f.verdict != Verdict::Indeterminate {
        f.verdict = Verdict::Indeterminate;
        f.decided = f.assumed.clone();
        f.reason = Some(
            "the verdict depends on rules whose matches are not modelled, in more ways than the \
             evaluator's work limit lets it sort out"
                .into(),
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::IntervalSet;
    use crate::eval::program::{DPORT, SRC};
    use crate::test_rng::xorshift;

    fn decision(rule: u32, phase: u8) -> Decision {
        Decision {
            chain: 1,
            rule: Some(rule),
            phase,
            accepts: false,
        }
    }

    /// Random pieces over a 6 × 6 grid of sources and ports, some
    /// overlapping, each with a verdict and a rule or two assumed.
    fn pieces(seed: u64) -> Vec<Finding> {
        let mut rng = xorshift(seed);
        (0..1 + rng(6))
            .map(|_| {
                let mut region: Region = std::array::from_fn(|_| IntervalSet::range(0, 0));
                for d in [SRC, DPORT] {
                    let a = rng(6) as u128;
                    region[d] = IntervalSet::range(a, a + rng(3) as u128);
                }
                let verdict = [Verdict::Allow, Verdict::Drop, Verdict::Reject][rng(3) as usize];
                let assumed: Vec<Decision> = (0..1 + rng(2))
                    .map(|_| decision(rng(4) as u32, rng(2) as u8))
                    .collect();
                Finding {
                    region,
                    verdict,
                    decided: vec![decision(10 + rng(3) as u32, 0)].into(),
                    trail: Rc::from([]),
                    assumed: assumed.into(),
                    reason: None,
                }
            })
            .collect()
    }

    /// What the resolved pieces say at each point of the grid.
    fn at_points(found: &[Finding]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for s in 0..9u128 {
            for p in 0..9u128 {
                let mut here: Vec<String> = found
                    .iter()
                    .filter(|f| f.region[SRC].contains(s) && f.region[DPORT].contains(p))
                    .map(|f| {
                        format!(
                            "{:?} {:?} {:?} {:?}",
                            f.verdict, f.decided, f.assumed, f.reason
                        )
                    })
                    .collect();
                here.sort();
                out.push(here);
            }
        }
        out
    }

    /// `found` resolved in order and by neighbours, neither limited.
    fn both_ways(found: Vec<Finding>, seed: u64) -> (Vec<Finding>, Vec<Finding>) {
        let budget = Budget {
            limit: u64::MAX,
            ..Default::default()
        };
        let Ok(resolved) = in_order(found.clone(), &budget) else {
            panic!("seed {seed}: no limit to run out of");
        };
        let Some(apart) = by_neighbours(found, u64::MAX) else {
            panic!("seed {seed}: no allowance to run out of");
        };
        (resolved, apart)
    }

    /// The way for many pieces says what the way in order says at every
    /// point, on the random pieces and on pieces under one that overlaps
    /// them all (the shape of a university's ruleset in the corpus: the
    /// piece of a fork's first branch over the other's many).
    #[test]
    fn by_neighbours_says_what_in_order_says() {
        for seed in 1..=500u64 {
            let mut found = pieces(seed * 6151);
            if seed % 2 == 0 {
                let mut hub = found.first().cloned().expect("a piece");
                hub.region[SRC] = IntervalSet::range(0, 8);
                hub.region[DPORT] = IntervalSet::range(0, 8);
                let at = seed as usize % (found.len() + 1);
                found.insert(at, hub);
            }
            let (in_order, apart) = both_ways(found, seed);
            let (a, b) = (at_points(&in_order), at_points(&apart));
            for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                assert!(y.len() <= 1, "seed {seed}: point {i} covered twice: {y:?}");
                assert_eq!(x, y, "seed {seed}: point {i}");
            }
        }
    }

    /// The same on more pieces in three dimensions, each a set of up to
    /// three ranges, as the university's sources are (so their spans cover
    /// more than the pieces do): every point of a 12 × 12 × 12 grid says
    /// the same both ways, and is covered once.
    #[test]
    fn by_neighbours_says_what_in_order_says_on_many_pieces_of_many_ranges() {
        use crate::eval::program::DST;
        let mut overlapped = 0;
        for seed in 1..=40u64 {
            let mut rng = xorshift(seed * 92_821);
            let n = 10 + rng(30) as usize;
            let mut found: Vec<Finding> = Vec::with_capacity(n);
            for _ in 0..n {
                let mut region: Region = std::array::from_fn(|_| IntervalSet::range(0, 0));
                for d in [SRC, DST, DPORT] {
                    let ranges = (0..1 + rng(3))
                        .map(|_| {
                            let a = rng(12) as u128;
                            (a, a + rng(4) as u128)
                        })
                        .collect();
                    region[d] = IntervalSet::from_ranges(ranges);
                }
                let verdict = [Verdict::Allow, Verdict::Drop][rng(2) as usize];
                found.push(Finding {
                    region,
                    verdict,
                    decided: vec![decision(10 + rng(3) as u32, 0)].into(),
                    trail: Rc::from([]),
                    assumed: vec![decision(rng(5) as u32, rng(2) as u8)].into(),
                    reason: None,
                });
            }
            overlapped += found
                .iter()
                .enumerate()
                .filter(|(i, f)| found[..*i].iter().any(|g| overlaps(&f.region, &g.region)))
                .count();
            let (in_order, apart) = both_ways(found, seed);
            // What each part says, once; then which part is over each point.
            let labelled = |all: Vec<Finding>| -> Vec<(Region, String)> {
                all.into_iter()
                    .map(|f| {
                        let label = format!(
                            "{:?} {:?} {:?} {:?}",
                            f.verdict, f.decided, f.assumed, f.reason
                        );
                        (f.region, label)
                    })
                    .collect()
            };
            let (a, b) = (labelled(in_order), labelled(apart));
            let says = |all: &[(Region, String)], x: u128, y: u128, z: u128| -> Vec<String> {
                all.iter()
                    .filter(|(r, _)| {
                        r[SRC].contains(x) && r[DST].contains(y) && r[DPORT].contains(z)
                    })
                    .map(|(_, l)| l.clone())
                    .collect()
            };
            for x in 0..12 {
                for y in 0..12 {
                    for z in 0..12 {
                        let (p, q) = (says(&a, x, y, z), says(&b, x, y, z));
                        assert!(q.len() <= 1, "seed {seed}: ({x}, {y}, {z}) covered twice");
                        assert_eq!(p, q, "seed {seed}: ({x}, {y}, {z})");
                    }
                }
            }
        }
        // Most pieces meet an earlier one, so the cuts are exercised.
        assert!(overlapped > 400, "{overlapped}");
    }

    /// Past both ways' work, the pieces are left as the way in order left
    /// them: indeterminate where they depended on unmodelled matches.
    #[test]
    fn past_both_allowances_the_pieces_are_unresolved() {
        let found = pieces(7);
        assert!(by_neighbours(found.clone(), 0).is_none());
        let budget = Budget {
            limit: 0,
            used: std::cell::Cell::new(1),
            ..Default::default()
        };
        let left = resolve_overlaps(found.clone(), &budget);
        assert_eq!(left.len(), found.len());
        assert!(left.iter().all(|f| f.verdict == Verdict::Indeterminate));
    }

    #[test]
    fn pieces_resolve_the_same_in_any_order() {
        for seed in 1..=500u64 {
            let found = pieces(seed * 7919);
            let budget = Budget {
                limit: u64::MAX,
                ..Default::default()
            };
            let forward = resolve_overlaps(found.clone(), &budget);
            let mut reversed = found.clone();
            reversed.reverse();
            let backward = resolve_overlaps(reversed, &budget);
            let (f, b) = (at_points(&forward), at_points(&backward));
            // Each point is covered once (the result is a partition) and
            // says the same whichever way the pieces came.
            for (i, (x, y)) in f.iter().zip(b.iter()).enumerate() {
                assert!(x.len() <= 1, "seed {seed}: point {i} covered twice: {x:?}");
                assert_eq!(x, y, "seed {seed}: point {i}");
            }
        }
    }
}
