//! Sets of integers as sorted, disjoint, inclusive intervals: one dimension of
//! a packet region (addresses, ports, protocols, interface classes).

use std::rc::Rc;

type Builder = smallvec::SmallVec<[(u128, u128); 1]>;

/// The ranges of a set: none or one kept inline (most sets), more behind a
/// shared pointer, so copying a region whose source dimension has thousands
/// of holes (what a long block list leaves) costs a reference count. Kept
/// small (48 bytes): regions of seven sets are moved all the time.
#[derive(Debug, Clone, Default)]
enum Ranges {
    #[default]
    Empty,
    One([(u128, u128); 1]),
    Shared(Rc<Vec<(u128, u128)>>),
}

impl std::ops::Deref for Ranges {
    type Target = [(u128, u128)];
    fn deref(&self) -> &[(u128, u128)] {
        match self {
            Ranges::Empty => &[],
            Ranges::One(r) => r,
            Ranges::Shared(v) => v,
        }
    }
}

impl From<Builder> for Ranges {
    fn from(b: Builder) -> Self {
        match b.len() {
            0 => Ranges::Empty,
            1 => Ranges::One([b[0]]),
            _ => Ranges::Shared(Rc::new(b.into_vec())),
        }
    }
}

impl Ranges {
    fn new() -> Builder {
        Builder::new()
    }
    /// The ranges to edit in place, copied first only if shared.
    fn make_mut(&mut self) -> &mut Vec<(u128, u128)> {
        if !matches!(self, Ranges::Shared(_)) {
            *self = Ranges::Shared(Rc::new(self.to_vec()));
        }
        match self {
            Ranges::Shared(rc) => Rc::make_mut(rc),
            _ => unreachable!("converted above"),
        }
    }
}

/// A set of `u128` values as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default)]
pub struct IntervalSet {
    ranges: Ranges,
}

impl PartialEq for IntervalSet {
    fn eq(&self, other: &Self) -> bool {
        self.ranges() == other.ranges()
    }
}

impl Eq for IntervalSet {}

impl std::hash::Hash for IntervalSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ranges().hash(state)
    }
}

impl IntervalSet {
    pub fn empty() -> Self {
        IntervalSet { ranges: Ranges::Empty }
    }

    pub fn range(start: u128, end: u128) -> Self {
        if start > end { Self::empty() } else { IntervalSet { ranges: Ranges::One([(start, end)]) } }
    }

    pub fn single(v: u128) -> Self {
        Self::range(v, v)
    }

    /// Builds a set from ranges in any order, merging overlaps.
    pub fn from_ranges(mut ranges: Vec<(u128, u128)>) -> Self {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        let mut out: Builder = Builder::with_capacity(ranges.len());
        for (a, b) in ranges {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        IntervalSet { ranges: out.into() }
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn min(&self) -> Option<u128> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn contains(&self, v: u128) -> bool {
        self.ranges.binary_search_by(|&(a, b)| if b < v { std::cmp::Ordering::Less } else if a > v { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Equal }).is_ok()
    }

    /// Number of values, saturating.
    pub fn len(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, (a, b)| acc.saturating_add(b - a).saturating_add(1))
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (few, many) = if self.ranges.len() <= other.ranges.len() { (self, other) } else { (other, self) };
        if few.ranges.len() <= 4 && many.ranges.len() > 8 {
            // Look the few ranges up in the many instead of walking all of them.
            let mut out = Ranges::new();
            for &(a, b) in few.ranges.iter() {
                let mut k = many.ranges.partition_point(|r| r.1 < a);
                while let Some(&(c, d)) = many.ranges.get(k) {
                    if c > b {
                        break;
                    }
                    out.push((a.max(c), b.min(d)));
                    k += 1;
                }
            }
            return IntervalSet { ranges: out.into() };
        }
        let (mut i, mut j) = (0, 0);
        let mut out = Ranges::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a1, b1) = self.ranges[i];
            let (a2, b2) = other.ranges[j];
            let (a, b) = (a1.max(a2), b1.min(b2));
            if a <= b {
                out.push((a, b));
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        IntervalSet { ranges: out.into() }
    }

    /// True if the sets share a value; allocates nothing, for the fast path of
    /// rules that miss.
    pub fn intersects(&self, other: &IntervalSet) -> bool {
        // A rule's set is usually one range or a few, a region's may be many:
        // look the few up in the many.
        let (few, many) = if self.ranges.len() <= other.ranges.len() { (self, other) } else { (other, self) };
        if few.ranges.len() <= 4 && many.ranges.len() > 8 {
            return few.ranges.iter().any(|&(a, b)| {
                // The first range of `many` that ends at or after `a`.
                let k = many.ranges.partition_point(|r| r.1 < a);
                many.ranges.get(k).is_some_and(|r| r.0 <= b)
            });
        }
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a1, b1) = self.ranges[i];
            let (a2, b2) = other.ranges[j];
            if a1.max(a2) <= b1.min(b2) {
                return true;
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        false
    }

    /// True if every value of `self` is in `other`.
    pub fn is_subset(&self, other: &IntervalSet) -> bool {
        let mut j = 0;
        for &(a, b) in self.ranges.iter() {
            while j < other.ranges.len() && other.ranges[j].1 < a {
                j += 1;
            }
            match other.ranges.get(j) {
                Some(&(c, d)) if c <= a && b <= d => {}
                _ => return false,
            }
        }
        true
    }

    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Ranges::new();
        let mut j = 0;
        for &(a, b) in self.ranges.iter() {
            let mut start = a;
            while j < other.ranges.len() && other.ranges[j].1 < start {
                j += 1;
            }
            let mut k = j;
            let mut done = false;
            while let Some(&(c, d)) = other.ranges.get(k) {
                if c > b {
                    break;
                }
                if c > start {
                    out.push((start, c - 1));
                }
                if d >= b {
                    done = true;
                    break;
                }
                start = d + 1;
                k += 1;
            }
            if !done {
                out.push((start, b));
            }
        }
        IntervalSet { ranges: out.into() }
    }

    /// `self = self - other`, editing in place: removing a few ranges from a
    /// set of thousands moves its tail once and allocates nothing.
    pub fn subtract_in_place(&mut self, other: &IntervalSet) {
        if other.ranges.len() > 4 || self.ranges.len() <= 4 {
            *self = self.subtract(other);
            return;
        }
        let ranges = self.ranges.make_mut();
        for &(a, b) in other.ranges.iter() {
            let first = ranges.partition_point(|r| r.1 < a);
            let mut last = first;
            while last < ranges.len() && ranges[last].0 <= b {
                last += 1;
            }
            if first == last {
                continue;
            }
            let (lo, _) = ranges[first];
            let (_, hi) = ranges[last - 1];
            let mut kept: Builder = Builder::new();
            if lo < a {
                kept.push((lo, a - 1));
            }
            if hi > b {
                kept.push((b + 1, hi));
            }
            // Replace ranges[first..last] by the kept pieces, moving the tail once.
            let removed = last - first;
            for (i, k) in kept.iter().enumerate().take(removed) {
                ranges[first + i] = *k;
            }
            if kept.len() <= removed {
                ranges.drain(first + kept.len()..last);
            } else {
                ranges.insert(first + removed, kept[removed]);
            }
        }
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all = self.ranges.to_vec();
        all.extend_from_slice(&other.ranges);
        Self::from_ranges(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(r: &[(u128, u128)]) -> IntervalSet {
        IntervalSet::from_ranges(r.to_vec())
    }

    #[test]
    fn from_ranges_merges_overlaps_and_neighbours() {
        assert_eq!(s(&[(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)]).ranges(), &[(1, 9), (20, 30)]);
        assert!(s(&[(3, 1)]).is_empty());
    }

    #[test]
    fn set_algebra() {
        let a = s(&[(0, 10), (20, 30)]);
        let b = s(&[(5, 25)]);
        assert_eq!(a.intersect(&b).ranges(), &[(5, 10), (20, 25)]);
        assert_eq!(a.subtract(&b).ranges(), &[(0, 4), (26, 30)]);
        assert_eq!(b.subtract(&a).ranges(), &[(11, 19)]);
        assert_eq!(a.union(&b).ranges(), &[(0, 30)]);
        assert!(a.intersects(&b));
        assert!(!a.intersects(&s(&[(11, 19)])));
        assert!(s(&[(6, 9)]).is_subset(&a));
        assert!(!b.is_subset(&a));
        assert_eq!(a.len(), 22);
        assert!(a.contains(20) && !a.contains(15));
    }

    #[test]
    fn subtraction_at_the_edges_of_u128() {
        let all = IntervalSet::range(0, u128::MAX);
        let hole = IntervalSet::single(u128::MAX);
        assert_eq!(all.subtract(&hole).ranges(), &[(0, u128::MAX - 1)]);
        assert_eq!(all.subtract(&IntervalSet::single(0)).ranges(), &[(1, u128::MAX)]);
        assert!(all.subtract(&all).is_empty());
    }

    #[test]
    fn random_sets_agree_with_a_bitmap() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..1000 {
            let n = if round % 2 == 0 { 5 } else { 30 };
            let mut mk = || {
                let mut v = Vec::new();
                for _ in 0..rnd(n) {
                    let a = rnd(64) as u128;
                    v.push((a, a + rnd(10) as u128));
                }
                IntervalSet::from_ranges(v)
            };
            let (a, b) = (mk(), mk());
            for x in 0..80u128 {
                assert_eq!(a.intersect(&b).contains(x), a.contains(x) && b.contains(x));
                assert_eq!(a.subtract(&b).contains(x), a.contains(x) && !b.contains(x));
                assert_eq!(a.union(&b).contains(x), a.contains(x) || b.contains(x));
            }
            assert_eq!(a.intersects(&b), !a.intersect(&b).is_empty());
            let mut c = a.clone();
            c.subtract_in_place(&b);
            assert_eq!(c, a.subtract(&b));
            assert_eq!(a.is_subset(&b), a.subtract(&b).is_empty());
        }
    }
}
