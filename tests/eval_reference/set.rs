//! Sets of integers as sorted, disjoint, inclusive intervals: one dimension of
//! a packet region (addresses, ports, protocols, interface classes).

use std::rc::Rc;

type R = (u128, u128);

/// At most this many ranges count as few against many (more than
/// [`MANY`]): they are looked up instead of walked past.
const FEW: usize = 4;
const MANY: usize = 8;

/// The ranges of a set: none or one kept inline (most sets), more in one
/// shared allocation of exactly their number, so copying a region whose
/// source dimension has thousands of holes (what a long block list leaves)
/// costs a reference count. Kept small (48 bytes): regions of seven sets are
/// moved all the time.
#[derive(Debug, Clone, Default)]
enum Ranges {
    #[default]
    Empty,
    One([R; 1]),
    Shared(Rc<[R]>),
}

impl std::ops::Deref for Ranges {
    type Target = [R];
    #[inline]
    fn deref(&self) -> &[R] {
        match self {
            Ranges::Empty => &[],
            Ranges::One(r) => r,
            Ranges::Shared(v) => v,
        }
    }
}

/// Where a set operation puts the ranges it produces, in order. Each
/// operation runs twice, first counting, then filling an allocation of
/// the exact size: no vector grows, and none keeps spare room.
trait Emit {
    fn emit(&mut self, r: R);
}

#[derive(Default)]
struct Count {
    n: usize,
    first: R,
}

impl Emit for Count {
    #[inline]
    fn emit(&mut self, r: R) {
        if self.n == 0 {
            self.first = r;
        }
        self.n += 1;
    }
}

struct Fill<'a> {
    buf: &'a mut [R],
    i: usize,
}

impl Emit for Fill<'_> {
    #[inline]
    fn emit(&mut self, r: R) {
        if let Some(slot) = self.buf.get_mut(self.i) {
            *slot = r;
        }
        self.i += 1;
    }
}

/// Runs `op` to count, then to fill: the set it produces.
#[inline]
fn produce(op: impl Fn(&mut dyn Emit)) -> IntervalSet {
    let mut count = Count::default();
    op(&mut count);
    let ranges = match count.n {
        0 => Ranges::Empty,
        1 => Ranges::One([count.first]),
        n => {
            let mut rc: Rc<[R]> = std::iter::repeat_n((0, 0), n).collect();
            if let Some(buf) = Rc::get_mut(&mut rc) {
                op(&mut Fill { buf, i: 0 });
            }
            Ranges::Shared(rc)
        }
    };
    IntervalSet { ranges }
}

/// The parts of `r` that overlap the ranges of `many`, from index `k` on
/// (the first range of `many` that ends at or after `r.0`).
#[inline]
fn clip_into(r: R, many: &[R], e: &mut dyn Emit) {
    let (a, b) = r;
    let mut k = many.partition_point(|m| m.1 < a);
    while let Some(&(c, d)) = many.get(k) {
        if c > b {
            break;
        }
        e.emit((a.max(c), b.min(d)));
        k += 1;
    }
}

fn intersect_into(x: &[R], y: &[R], e: &mut dyn Emit) {
    let (few, many) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if few.len() <= FEW && many.len() > MANY {
        // Look the few ranges up in the many instead of walking all of them.
        for &r in few {
            clip_into(r, many, e);
        }
        return;
    }
    let (mut i, mut j) = (0, 0);
    while let (Some(&(a1, b1)), Some(&(a2, b2))) = (x.get(i), y.get(j)) {
        let (a, b) = (a1.max(a2), b1.min(b2));
        if a <= b {
            e.emit((a, b));
        }
        if b1 < b2 { i += 1 } else { j += 1 }
    }
}

/// The general subtraction, one pass over both.
fn subtract_merge(x: &[R], y: &[R], e: &mut dyn Emit) {
    let mut j = 0;
    for &(a, b) in x {
        let mut start = a;
        while y.get(j).is_some_and(|r| r.1 < start) {
            j += 1;
        }
        let mut k = j;
        let mut done = false;
        while let Some(&(c, d)) = y.get(k) {
            if c > b {
                break;
            }
            if c > start {
                e.emit((start, c - 1));
            }
            if d >= b {
                done = true;
                break;
            }
            start = d + 1;
            k += 1;
        }
        if !done {
            e.emit((start, b));
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
        IntervalSet {
            ranges: Ranges::Empty,
        }
    }

    pub fn range(start: u128, end: u128) -> Self {
        if start > end {
            Self::empty()
        } else {
            IntervalSet {
                ranges: Ranges::One([(start, end)]),
            }
        }
    }

    pub fn single(v: u128) -> Self {
        Self::range(v, v)
    }

    /// Builds a set from ranges in any order, merging overlaps.
    pub fn from_ranges(mut ranges: Vec<(u128, u128)>) -> Self {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        // Merge in place: `w` ranges are kept so far.
        let mut w: usize = 0;
        for i in 0..ranges.len() {
            let Some(&(a, b)) = ranges.get(i) else { break };
            match w.checked_sub(1).and_then(|l| ranges.get_mut(l)) {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => {
                    if let Some(slot) = ranges.get_mut(w) {
                        *slot = (a, b);
                    }
                    w += 1;
                }
            }
        }
        ranges.truncate(w);
        match ranges.as_slice() {
            [] => Self::empty(),
            [one] => IntervalSet {
                ranges: Ranges::One([*one]),
            },
            _ => IntervalSet {
                ranges: Ranges::Shared(ranges.into()),
            },
        }
    }

    #[inline]
    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        matches!(self.ranges, Ranges::Empty)
    }

    #[inline]
    pub fn min(&self) -> Option<u128> {
        self.ranges.first().map(|r| r.0)
    }

    #[inline]
    pub fn max(&self) -> Option<u128> {
        self.ranges.last().map(|r| r.1)
    }

    /// Whether both are the same allocation (or both inline and equal):
    /// a cheap test of equality that can say no to equal sets.
    #[inline]
    pub fn same(&self, other: &IntervalSet) -> bool {
        match (&self.ranges, &other.ranges) {
            (Ranges::Empty, Ranges::Empty) => true,
            (Ranges::One(a), Ranges::One(b)) => a == b,
            (Ranges::Shared(a), Ranges::Shared(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub fn contains(&self, v: u128) -> bool {
        self.ranges
            .binary_search_by(|&(a, b)| {
                if b < v {
                    std::cmp::Ordering::Less
                } else if a > v {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Number of values, saturating.
    pub fn len(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, (a, b)| {
            acc.saturating_add(b - a).saturating_add(1)
        })
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (x, y) = (self.ranges(), other.ranges());
        match (x, y) {
            ([], _) | (_, []) => return Self::empty(),
            ([(a, b)], [(c, d)]) => return Self::range(*a.max(c), *b.min(d)),
            _ => {}
        }
        // One range around all of the other set: the other set, shared.
        if let ([(a, b)], [(lo, _), .., (_, hi)]) = (x, y)
            && a <= lo
            && hi <= b
        {
            return other.clone();
        }
        if let ([(lo, _), .., (_, hi)], [(a, b)]) = (x, y)
            && a <= lo
            && hi <= b
        {
            return self.clone();
        }
        produce(|e| intersect_into(x, y, e))
    }

    /// True if the sets share a value; allocates nothing, for the fast path of
    /// rules that miss.
    #[inline]
    pub fn intersects(&self, other: &IntervalSet) -> bool {
        // On the variants, not the slices: this is the test every rule
        // makes of every box and hull it may touch.
        match (&self.ranges, &other.ranges) {
            (Ranges::One([(a, b)]), Ranges::One([(c, d)])) => a <= d && c <= b,
            (Ranges::Empty, _) | (_, Ranges::Empty) => false,
            (Ranges::One([r]), Ranges::Shared(many)) | (Ranges::Shared(many), Ranges::One([r])) => {
                one_meets(*r, many)
            }
            (Ranges::Shared(x), Ranges::Shared(y)) => many_meet(x, y),
        }
    }

    /// True if every value of `self` is in `other`.
    pub fn is_subset(&self, other: &IntervalSet) -> bool {
        let (x, y) = (self.ranges(), other.ranges());
        match (x, y) {
            ([], _) => return true,
            (_, []) => return false,
            ([(lo, _), ..], [(c, d)]) => return c <= lo && x.last().is_some_and(|l| l.1 <= *d),
            _ => {}
        }
        let mut j = 0;
        for &(a, b) in x {
            // The first range of `other` that ends at or after `a`.
            if y.get(j).is_some_and(|r| r.1 < a) {
                j += y.get(j..).map_or(0, |t| t.partition_point(|r| r.1 < a));
            }
            match y.get(j) {
                Some(&(c, d)) if c <= a && b <= d => {}
                _ => return false,
            }
        }
        true
    }

    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        if !self.intersects(other) {
            return self.clone();
        }
        let (x, y) = (self.ranges(), other.ranges());
        if y.len() <= FEW && x.len() > MANY {
            return subtract_few(x, y);
        }
        produce(|e| subtract_merge(x, y, e))
    }

    /// `self = self - other`.
    pub fn subtract_in_place(&mut self, other: &IntervalSet) {
        if self.intersects(other) {
            *self = self.subtract(other);
        }
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all = self.ranges.to_vec();
        all.extend_from_slice(&other.ranges);
        Self::from_ranges(all)
    }
}

/// Does range `r` meet any range of `many` (sorted)?
#[inline]
fn one_meets(r: R, many: &[R]) -> bool {
    let (a, b) = r;
    match (many.first(), many.last()) {
        (Some(f), Some(l)) if b >= f.0 && a <= l.1 => {}
        _ => return false,
    }
    // The first range of `many` that ends at or after `a`.
    let k = many.partition_point(|m| m.1 < a);
    many.get(k).is_some_and(|m| m.0 <= b)
}

fn many_meet(x: &[R], y: &[R]) -> bool {
    let (few, many) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if few.len() <= FEW && many.len() > MANY {
        return few.iter().any(|&r| one_meets(r, many));
    }
    let (mut i, mut j) = (0, 0);
    while let (Some(&(a1, b1)), Some(&(a2, b2))) = (x.get(i), y.get(j)) {
        if a1.max(a2) <= b1.min(b2) {
            return true;
        }
        if b1 < b2 { i += 1 } else { j += 1 }
    }
    false
}

/// A part of the result of taking a few ranges out of many: a run of the
/// many ranges, untouched, or a range cut from one of them.
#[derive(Clone, Copy)]
enum Piece {
    Run(usize, usize),
    Cut(R),
}

/// Most pieces [`subtract_few`] makes: per range taken out, the part of a
/// range before it, the untouched run up to it and the part below it, and
/// at the end the last part and run.
const MAX_PIECES: usize = 3 * FEW + 2;

/// `x - y` for at most [`FEW`] ranges `y` out of more than [`MANY`] `x`:
/// a block list leaves a source set with thousands of holes, and every
/// rule that cuts it takes a few ranges out. The places are looked up,
/// and the untouched runs between them are copied whole into a set of
/// the exact size, not range by range.
fn subtract_few(x: &[R], y: &[R]) -> IntervalSet {
    let mut pieces = [Piece::Run(0, 0); MAX_PIECES];
    let mut n = 0;
    let mut put = |p: Piece| {
        if let Some(slot) = pieces.get_mut(n) {
            *slot = p;
            n += 1;
        }
    };
    let mut k = 0;
    // The part of `x[k - 1]` above the last range of `y`, still to cut.
    let mut carry: Option<R> = None;
    for &(c, d) in y {
        if let Some((a, b)) = carry.take() {
            // `a` is just above the previous range of `y`, so `a <= c`.
            if b < c {
                put(Piece::Cut((a, b)));
            } else {
                if a < c {
                    put(Piece::Cut((a, c - 1)));
                }
                if b > d {
                    // Later ranges of `x` start above `b`: none meets [c, d].
                    carry = Some((d + 1, b));
                    continue;
                }
            }
        }
        let first = k + x.get(k..).map_or(0, |t| t.partition_point(|r| r.1 < c));
        if first > k {
            put(Piece::Run(k, first));
        }
        k = first;
        // Ranges of `x` that meet [c, d]: only the first can start below
        // it and only the last end above it.
        while let Some(&(a, b)) = x.get(k) {
            if a > d {
                break;
            }
            k += 1;
            if a < c {
                put(Piece::Cut((a, c - 1)));
            }
            if b > d {
                carry = Some((d + 1, b));
                break;
            }
        }
    }
    if let Some(r) = carry {
        put(Piece::Cut(r));
    }
    if k < x.len() {
        put(Piece::Run(k, x.len()));
    }
    let pieces = pieces.get(..n).unwrap_or(&[]);
    let total: usize = pieces
        .iter()
        .map(|p| if let Piece::Run(a, b) = p { b - a } else { 1 })
        .sum();
    let ranges = match (total, pieces) {
        (0, _) => Ranges::Empty,
        (1, [Piece::Cut(r)]) => Ranges::One([*r]),
        (1, [Piece::Run(a, _)]) => Ranges::One([x.get(*a).copied().unwrap_or_default()]),
        _ => {
            let mut rc: Rc<[R]> = std::iter::repeat_n((0, 0), total).collect();
            if let Some(buf) = Rc::get_mut(&mut rc) {
                let mut at = 0;
                for p in pieces {
                    let from: &[R] = match p {
                        Piece::Run(a, b) => x.get(*a..*b).unwrap_or(&[]),
                        Piece::Cut(r) => std::slice::from_ref(r),
                    };
                    if let Some(to) = buf.get_mut(at..at + from.len()) {
                        to.copy_from_slice(from);
                    }
                    at += from.len();
                }
            }
            Ranges::Shared(rc)
        }
    };
    IntervalSet { ranges }
}
