//! Boxes of spans (the least and greatest value of each dimension of a
//! region) in a tree, to find the regions that may share a point with one
//! without comparing every pair: `eval::resolve` finds the overlapping
//! pieces of a walk this way.

use super::program::REGION_DIMS;
use super::walk::Region;

/// The least and greatest value of each dimension of a region.
pub type Span = [(u128, u128); REGION_DIMS];

pub fn span_of(region: &Region) -> Span {
    std::array::from_fn(|d| {
        region
            .get(d)
            .and_then(|s| s.min().zip(s.max()))
            .unwrap_or((0, 0))
    })
}

fn spans_meet(a: &Span, b: &Span) -> bool {
    a.iter()
        .zip(b.iter())
        .all(|(x, y)| x.0 <= y.1 && y.0 <= x.1)
}

/// A tree of boxes of spans: each node holds the box around its pieces'
/// boxes, and splits them in two halves at the median start of the
/// dimension where the halves' boxes meet least.
pub struct Boxes {
    nodes: Vec<Node>,
    /// The pieces, in the order the nodes' ranges refer to.
    order: Vec<usize>,
    spans: Vec<Span>,
    depth: usize,
}

struct Node {
    bounds: Span,
    /// Where its pieces are in `order`.
    from: usize,
    to: usize,
    /// Its two halves, when it is not a leaf.
    halves: Option<(usize, usize)>,
}

/// Pieces a leaf holds: comparing a few boxes costs less than more nodes.
const LEAF: usize = 8;

impl Boxes {
    pub fn new(spans: Vec<Span>) -> Boxes {
        let n = spans.len();
        let mut tree = Boxes {
            nodes: Vec::new(),
            order: (0..n).collect(),
            spans,
            depth: 0,
        };
        tree.build(0, n, 1);
        tree
    }

    /// The box of piece `i`.
    pub fn span(&self, i: usize) -> Option<&Span> {
        self.spans.get(i)
    }

    /// The work of building the tree, counted as one look a box and level
    /// (each level sorts and counts the boxes once per dimension, in place).
    pub fn build_looks(&self) -> usize {
        self.spans.len().saturating_mul(self.depth)
    }

    fn bounds(&self, from: usize, to: usize) -> Span {
        let mut b: Span = [(u128::MAX, 0); REGION_DIMS];
        for &i in self.order.get(from..to).unwrap_or_default() {
            if let Some(s) = self.spans.get(i) {
                for (x, y) in b.iter_mut().zip(s.iter()) {
                    x.0 = x.0.min(y.0);
                    x.1 = x.1.max(y.1);
                }
            }
        }
        b
    }

    /// Builds the node of `order[from..to]` and its halves; its index.
    fn build(&mut self, from: usize, to: usize, depth: usize) -> usize {
        self.depth = self.depth.max(depth);
        let bounds = self.bounds(from, to);
        let at = self.nodes.len();
        self.nodes.push(Node {
            bounds,
            from,
            to,
            halves: None,
        });
        if to - from <= LEAF {
            return at;
        }
        let mid = from + (to - from) / 2;
        // The dimension where the fewest pieces of the first half, split at
        // the median start, reach into the second: a query must look at
        // those on both sides.
        let mut best: Option<(usize, usize)> = None;
        for d in 0..REGION_DIMS {
            self.split(from, mid, to, d);
            let v = self
                .order
                .get(mid)
                .and_then(|&i| self.spans.get(i))
                .map_or(0, |s| s[d].0);
            let crossing = self
                .order
                .get(from..mid)
                .unwrap_or_default()
                .iter()
                .filter(|&&i| self.spans.get(i).is_some_and(|s| s[d].1 >= v))
                .count();
            if best.is_none_or(|(b, _)| crossing < b) {
                best = Some((crossing, d));
            }
        }
        let d = best.map_or(0, |(_, d)| d);
        self.split(from, mid, to, d);
        let left = self.build(from, mid, depth + 1);
        let right = self.build(mid, to, depth + 1);
        if let Some(node) = self.nodes.get_mut(at) {
            node.halves = Some((left, right));
        }
        at
    }

    /// Puts the pieces of `order[from..to]` that start first on `d` before
    /// `mid`.
    fn split(&mut self, from: usize, mid: usize, to: usize, d: usize) {
        let spans = &self.spans;
        if let Some(part) = self.order.get_mut(from..to) {
            let key = |i: &usize| spans.get(*i).map_or(0, |s| s[d].0);
            part.select_nth_unstable_by_key(mid - from, key);
        }
    }

    /// Calls `each` with every piece whose box meets `mine`; the number of
    /// nodes and boxes looked at.
    pub fn meeting(
        &self,
        mine: &Span,
        stack: &mut Vec<usize>,
        mut each: impl FnMut(usize),
    ) -> usize {
        let mut looked = 0;
        stack.clear();
        stack.push(0);
        while let Some(at) = stack.pop() {
            looked += 1;
            let Some(node) = self.nodes.get(at) else {
                continue;
            };
            if !spans_meet(&node.bounds, mine) {
                continue;
            }
            match node.halves {
                Some((l, r)) => {
                    stack.push(r);
                    stack.push(l);
                }
                None => {
                    for &i in self.order.get(node.from..node.to).unwrap_or_default() {
                        looked += 1;
                        if self.spans.get(i).is_some_and(|s| spans_meet(s, mine)) {
                            each(i);
                        }
                    }
                }
            }
        }
        looked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::xorshift;

    /// The tree finds exactly the boxes that meet a box, as comparing
    /// every pair does: random boxes over a small grid, so many meet,
    /// in numbers around a leaf's and far past it.
    #[test]
    fn the_tree_finds_every_box_that_meets_and_no_other() {
        let mut met = 0;
        for seed in 1..=200u64 {
            let mut rng = xorshift(seed * 104_729);
            let n = 1 + rng(80) as usize;
            let mut random = || -> Span {
                std::array::from_fn(|_| {
                    let a = rng(8) as u128;
                    (a, a + rng(6) as u128)
                })
            };
            let spans: Vec<Span> = (0..n).map(|_| random()).collect();
            let tree = Boxes::new(spans.clone());
            let mut stack = Vec::new();
            for _ in 0..20 {
                let mine = random();
                let mut found = Vec::new();
                tree.meeting(&mine, &mut stack, |i| found.push(i));
                found.sort_unstable();
                let want: Vec<usize> = (0..n).filter(|&i| spans_meet(&spans[i], &mine)).collect();
                met += want.len();
                assert_eq!(found, want, "seed {seed}");
            }
        }
        // Enough boxes meet for the test to say something.
        assert!(met > 2_000, "{met}");
    }
}
