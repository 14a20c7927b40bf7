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

/// Resolves the overlaps of `findings` (see the module's text).
///
/// Each piece is compared with every piece kept so far, which is quadratic:
/// a real ruleset full of unmodelled matches (a university's, in the
/// corpus) gives tens of thousands of such pieces. The comparisons are paid
/// from the evaluation's work budget; when it runs out, every piece that
/// depends on an unmodelled match is indeterminate, the rules it depends on
/// its culprits: overlapping pieces then all say the same.
pub(super) fn resolve_overlaps(findings: Vec<Finding>, budget: &Budget) -> Vec<Finding> {
    // Boxed: a part kept so far is moved each time a later piece overlaps
    // some part before it, and a box moves as a pointer. Moving whole
    // findings (a region and its lists, 360 bytes) was a third of the
    // check of a university's ruleset in the corpus.
    let mut out: Vec<Box<Held>> = Vec::new();
    let mut findings = findings.into_iter();
    while let Some(f) = findings.next() {
        if budget.used.get() > budget.limit {
            return out
                .into_iter()
                .map(|h| h.into_finding())
                .chain(std::iter::once(f))
                .chain(findings)
                .map(unresolved)
                .collect();
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
    out.into_iter().map(|h| h.into_finding()).collect()
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
