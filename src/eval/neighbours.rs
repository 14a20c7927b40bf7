//! Which regions share a point with which, found without comparing the
//! regions pair by pair: `eval::resolve` finds the overlapping pieces of a
//! walk this way.
//!
//! The pieces are many, but their sets are few. On the largest resolution
//! of a university's ruleset in the corpus (55,101 pieces, checked with a
//! LAN network), there are 542 distinct sources, 179 destinations, 45 and
//! 49 interface sets and 14 destination port sets. So each dimension's
//! distinct sets are numbered and compared with each other once, and the
//! pieces go into a trie of their numbers, the dimension that tells pieces
//! apart best first. The trie is walked against itself: two nodes go on to
//! their children only where their sets meet, so pieces that share their
//! first sets share the walk, and every pair reached meets in every
//! dimension: no piece is compared with one it does not overlap.
//!
//! On that resolution and the one of 48,908 pieces: 4.1 M and 5.5 M looks.
//! A tree of boxes of spans (the least and greatest value of each
//! dimension) did this before, in 47 M and 45 M: sets of many ranges made
//! their spans meet 30 times as often as the pieces did. Walking the trie
//! once for each piece took 18 M and 17 M.

use super::program::REGION_DIMS;
use super::set::IntervalSet;
use super::walk::Region;
use std::collections::HashMap;

/// The distinct sets of one dimension, numbered, and which meet which.
struct Dim {
    /// Each piece's set, by number.
    of: Vec<u32>,
    /// For each set, the sets (itself among them, unless empty) that share a
    /// value with it, in order of number.
    meets: Vec<Vec<u32>>,
}

/// A node of the trie: the pieces (a range of the sorted order) that have
/// set `id` in this level's dimension and the same sets in the levels above,
/// and the range of its children in the next level.
struct Node {
    id: u32,
    pieces: (usize, usize),
    children: (usize, usize),
}

/// Two nodes whose sets meet in every level above `level`, by the ranges
/// of their children at `level`, and whether the two are one node (then
/// each pair of its children is taken once).
type Pair = (usize, (usize, usize), (usize, usize), bool);

/// The regions sharing a point with each region, each list in order and
/// without the region itself; `None` when finding them looks at more than
/// `allowance` sets or nodes (each a comparison in place, allocating
/// nothing). `looked` is told how many were looked at, either way.
pub fn all_overlaps(
    regions: &[&Region],
    allowance: usize,
    looked: &mut usize,
) -> Option<Vec<Vec<usize>>> {
    let n = regions.len();
    *looked = 0;
    let mut dims = Vec::with_capacity(REGION_DIMS);
    for d in 0..REGION_DIMS {
        dims.push(number(regions, d, allowance, looked)?);
    }
    // A piece with an empty set has no point at all.
    let live: Vec<usize> = (0..n)
        .filter(|&i| {
            dims.iter()
                .all(|dim| dim.of.get(i).is_some_and(|&s| is_live(dim, s)))
        })
        .collect();
    let levels = order_of(&dims);
    let (order, trie) = build(&dims, &levels, live);
    *looked = looked.saturating_add(order.len().saturating_mul(levels.len() + 1));
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut stack: Vec<Pair> = Vec::new();
    let top = (0, trie.first().map_or(0, Vec::len));
    stack.push((0, top, top, true));
    while let Some((level, a, b, same)) = stack.pop() {
        let (Some(&d), Some(nodes)) = (levels.get(level), trie.get(level)) else {
            continue;
        };
        let Some(dim) = dims.get(d) else {
            continue;
        };
        let last = level + 1 == levels.len();
        let ours = nodes.get(a.0..a.1).unwrap_or_default();
        let theirs = nodes.get(b.0..b.1).unwrap_or_default();
        for (k, x) in ours.iter().enumerate() {
            let meets = dim.meets.get(x.id as usize).map_or(&[][..], Vec::as_slice);
            // Of one node, each pair once: `x` with itself and those after.
            let others = if same {
                theirs.get(k..).unwrap_or_default()
            } else {
                theirs
            };
            let mut pair = |y: &Node| {
                if !last {
                    stack.push((
                        level + 1,
                        x.children,
                        y.children,
                        same && std::ptr::eq(x, y),
                    ));
                    return;
                }
                let xs = order.get(x.pieces.0..x.pieces.1).unwrap_or_default();
                let ys = order.get(y.pieces.0..y.pieces.1).unwrap_or_default();
                // Pieces of one region are all neighbours: counted before
                // they are listed, or thousands of them would fill the
                // memory before the allowance is looked at.
                let pairs = xs.len().saturating_mul(ys.len());
                if looked.saturating_add(pairs) > allowance {
                    *looked = looked.saturating_add(pairs);
                    return;
                }
                for &i in xs {
                    for &j in ys {
                        if i != j {
                            if let Some(list) = out.get_mut(i) {
                                list.push(j);
                            }
                            if !std::ptr::eq(x, y)
                                && let Some(list) = out.get_mut(j)
                            {
                                list.push(i);
                            }
                        }
                    }
                }
                *looked = looked.saturating_add(pairs);
            };
            // The shorter side is walked, the other searched.
            if others.len() <= meets.len() {
                for y in others {
                    if meets.binary_search(&y.id).is_ok() {
                        pair(y);
                    }
                }
                *looked = looked.saturating_add(others.len());
            } else {
                for id in meets {
                    if let Ok(k) = others.binary_search_by_key(id, |c| c.id)
                        && let Some(y) = others.get(k)
                    {
                        pair(y);
                    }
                }
                *looked = looked.saturating_add(meets.len());
            }
        }
        if *looked > allowance {
            return None;
        }
    }
    for list in &mut out {
        list.sort_unstable();
        *looked = looked.saturating_add(list.len());
    }
    Some(out)
}

fn is_live(dim: &Dim, s: u32) -> bool {
    dim.meets.get(s as usize).is_some_and(|m| !m.is_empty())
}

/// Numbers the distinct sets of dimension `d` and finds which meet which:
/// in order of their least value, each set is compared with those that
/// start before it ends.
fn number(regions: &[&Region], d: usize, allowance: usize, looked: &mut usize) -> Option<Dim> {
    let mut ids: HashMap<&IntervalSet, u32> = HashMap::new();
    let mut sets: Vec<&IntervalSet> = Vec::new();
    let mut of = Vec::with_capacity(regions.len());
    for r in regions {
        let Some(set) = r.get(d) else {
            continue;
        };
        let next = sets.len() as u32;
        let id = *ids.entry(set).or_insert(next);
        if id == next {
            sets.push(set);
        }
        of.push(id);
    }
    *looked = looked.saturating_add(regions.len());
    let mut starts: Vec<(u128, u128, u32)> = sets
        .iter()
        .zip(0u32..)
        .filter_map(|(s, id)| Some((s.min()?, s.max()?, id)))
        .collect();
    starts.sort_unstable();
    let mut meets = vec![Vec::new(); sets.len()];
    for (k, &(_, hi, a)) in starts.iter().enumerate() {
        if let Some(m) = meets.get_mut(a as usize) {
            m.push(a);
        }
        let (Some(sa), Some(later)) = (sets.get(a as usize), starts.get(k + 1..)) else {
            continue;
        };
        let mut compared = 0;
        for &(lo, _, b) in later {
            if lo > hi {
                break;
            }
            compared += 1;
            if sets.get(b as usize).is_some_and(|sb| sa.intersects(sb)) {
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(m) = meets.get_mut(x as usize) {
                        m.push(y);
                    }
                }
            }
        }
        *looked = looked.saturating_add(compared + 1);
        if *looked > allowance {
            return None;
        }
    }
    for m in &mut meets {
        m.sort_unstable();
    }
    Some(Dim { of, meets })
}

/// The trie's dimensions, the one where the fewest pairs of pieces meet
/// first; a dimension of one set tells no pieces apart and is left out.
/// Where every dimension is of one set, the trie has the first alone: its
/// one node holds every piece.
fn order_of(dims: &[Dim]) -> Vec<usize> {
    let mut keyed: Vec<(u128, usize)> = dims
        .iter()
        .enumerate()
        .filter(|(_, dim)| dim.meets.len() > 1)
        .map(|(d, dim)| {
            let mut count = vec![0u128; dim.meets.len()];
            for &s in &dim.of {
                if let Some(c) = count.get_mut(s as usize) {
                    *c += 1;
                }
            }
            let pairs: u128 = dim
                .meets
                .iter()
                .zip(&count)
                .map(|(m, c)| {
                    c * m
                        .iter()
                        .filter_map(|&t| count.get(t as usize))
                        .sum::<u128>()
                })
                .sum();
            (pairs, d)
        })
        .collect();
    keyed.sort_unstable();
    let levels: Vec<usize> = keyed.into_iter().map(|(_, d)| d).collect();
    if levels.is_empty() { vec![0] } else { levels }
}

/// Sorts the pieces by their sets' numbers in the levels' order and builds
/// the trie's levels over that order.
fn build(dims: &[Dim], levels: &[usize], mut order: Vec<usize>) -> (Vec<usize>, Vec<Vec<Node>>) {
    let id = |i: usize, d: usize| dims.get(d).and_then(|dim| dim.of.get(i)).copied();
    order.sort_unstable_by(|&a, &b| {
        levels
            .iter()
            .map(|&d| id(a, d).cmp(&id(b, d)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut trie: Vec<Vec<Node>> = Vec::with_capacity(levels.len());
    // The ranges of `order` to split at this level, in order.
    let mut parents: Vec<(usize, usize)> = vec![(0, order.len())];
    for &d in levels {
        let mut nodes = Vec::new();
        let mut next = Vec::new();
        for &(from, to) in &parents {
            let mut at = from;
            while at < to {
                let here = order.get(at).and_then(|&i| id(i, d));
                let end = (at..to)
                    .find(|&k| order.get(k).and_then(|&i| id(i, d)) != here)
                    .unwrap_or(to);
                nodes.push(Node {
                    id: here.unwrap_or(0),
                    pieces: (at, end),
                    children: (0, 0),
                });
                next.push((at, end));
                at = end;
            }
        }
        trie.push(nodes);
        parents = next;
    }
    // Each node's children are the next level's nodes within its pieces,
    // which are in the same order.
    for level in 0..trie.len().saturating_sub(1) {
        let (upper, lower) = trie.split_at_mut(level + 1);
        let (Some(nodes), Some(below)) = (upper.last_mut(), lower.first()) else {
            continue;
        };
        let mut k = 0;
        for node in nodes.iter_mut() {
            let first = k;
            while below.get(k).is_some_and(|c| c.pieces.1 <= node.pieces.1) {
                k += 1;
            }
            node.children = (first, k);
        }
    }
    (order, trie)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::finding::overlaps;
    use crate::test_rng::xorshift;

    /// A set of up to three ranges over 0..24, or now and then empty.
    fn set(next: &mut impl FnMut(u64) -> u64) -> IntervalSet {
        let mut s = IntervalSet::empty();
        for _ in 0..=next(3) {
            let a = next(24) as u128;
            let b = a + next(6) as u128;
            s = s.union(&IntervalSet::range(a, b));
        }
        if next(50) == 0 {
            IntervalSet::empty()
        } else {
            s
        }
    }

    /// The trie finds exactly the regions that overlap a region, as
    /// comparing every pair does: random regions drawn from a few sets a
    /// dimension (as the walk's pieces are), some dimensions of one set,
    /// in numbers from none to a few hundred.
    #[test]
    fn every_overlapping_region_is_found_and_no_other() {
        let mut next = xorshift(0x5eed_1e55);
        for round in 0..200 {
            let n = next(300) as usize;
            let choices: Vec<Vec<IntervalSet>> = (0..REGION_DIMS)
                .map(|_| {
                    let k = 1 + next(12) as usize;
                    (0..k).map(|_| set(&mut next)).collect()
                })
                .collect();
            let regions: Vec<Region> = (0..n)
                .map(|_| {
                    std::array::from_fn(|d| {
                        let c = &choices[d];
                        c[next(c.len() as u64) as usize].clone()
                    })
                })
                .collect();
            let refs: Vec<&Region> = regions.iter().collect();
            let mut looked = 0;
            let found = all_overlaps(&refs, usize::MAX, &mut looked).expect("no allowance");
            for (j, r) in regions.iter().enumerate() {
                let want: Vec<usize> = (0..n)
                    .filter(|&i| i != j && overlaps(&regions[i], r))
                    .collect();
                assert_eq!(found[j], want, "round {round}, region {j}");
            }
        }
    }

    /// Past the allowance, nothing is found.
    #[test]
    fn past_the_allowance_there_is_no_answer() {
        let r: Region = std::array::from_fn(|_| IntervalSet::range(0, 9));
        let regions = vec![&r; 100];
        let mut looked = 0;
        assert!(all_overlaps(&regions, usize::MAX, &mut looked).is_some());
        let all = looked;
        assert!(all_overlaps(&regions, all / 2, &mut looked).is_none());
    }

    /// Pieces of one region, in a trie of several levels: their pairs are
    /// counted against the allowance before they are listed. Listing 50
    /// thousand pieces' 2.5 billion pairs would take 20 GB.
    #[test]
    fn the_pairs_of_one_region_are_counted_before_they_are_listed() {
        let a: Region = std::array::from_fn(|d| IntervalSet::range(0, 9 + d as u128));
        let b: Region = std::array::from_fn(|d| IntervalSet::range(100, 109 + d as u128));
        let regions: Vec<&Region> = (0..50_000)
            .map(|i| if i % 2 == 0 { &a } else { &b })
            .collect();
        let mut looked = 0;
        assert!(all_overlaps(&regions, 1_000_000, &mut looked).is_none());
        let few: Vec<&Region> = regions.iter().take(100).copied().collect();
        let found = all_overlaps(&few, 1_000_000, &mut looked).expect("within the allowance");
        assert_eq!(found[0].len(), 49);
        assert!(found[0].iter().all(|&i| i % 2 == 0 && i != 0));
    }
}
