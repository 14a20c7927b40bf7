//! Sets of integers as sorted, disjoint, inclusive intervals: one dimension of
//! a packet region (addresses, ports, protocols, interface classes).

use std::borrow::Cow;
use std::sync::Arc;

type R = (u128, u128);

/// At most this many ranges count as few against many (more than
/// [`MANY`]): they are looked up instead of walked past.
const FEW: usize = 4;
const MANY: usize = 8;

/// Ranges of a leaf a tree set makes (see [`Ranges::Tree`]); a leaf cuts
/// left grow to at most [`TREE`] before they are split again.
const LEAF: usize = 32;
/// Sets of more ranges than this are kept in leaves.
const TREE: usize = 2 * LEAF;

/// The ranges of a set: none or one kept inline (most sets), up to [`TREE`]
/// in one shared allocation of exactly their number, more in shared leaves.
/// Copying a region costs a reference count whatever its sets hold. Kept
/// small (40 bytes): regions of seven sets are moved all the time.
#[derive(Debug, Clone, Default)]
enum Ranges {
    #[default]
    Empty,
    One(Packed),
    Flat(Arc<[R]>),
    /// More than [`TREE`] ranges, in order, in leaves of 1 to [`TREE`]
    /// ranges, and their number. A block list leaves a source set with
    /// thousands of holes, and every rule that cuts it after that takes a
    /// few ranges out (or one more hole): kept in one allocation, every
    /// cut copied all of it, quadratic in the block list (at 100k rules,
    /// `subtract` was 12% of the check). A cut makes new only the leaves
    /// it touches and shares the others: a pointer per leaf and a leaf's
    /// ranges instead of the whole set.
    Tree(Arc<[Arc<[R]>]>, usize),
}

// Regions of seven sets are moved all the time: the set stays this small.
const _: () = assert!(std::mem::size_of::<IntervalSet>() == 40);

/// One range in four 64-bit halves. A `(u128, u128)` is 16-aligned, and
/// beside it the enum's tag took 16 bytes: sets of 48 bytes, where these
/// are 40. Every region is seven sets and every rule's match a set, so
/// that is a sixth of the memory the partitions and compiled rules take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed([u64; 4]);

impl Packed {
    #[inline]
    fn new((a, b): R) -> Self {
        Packed([a as u64, (a >> 64) as u64, b as u64, (b >> 64) as u64])
    }

    #[inline]
    fn get(self) -> R {
        let [a0, a1, b0, b1] = self.0;
        (
            u128::from(a0) | u128::from(a1) << 64,
            u128::from(b0) | u128::from(b1) << 64,
        )
    }
}

/// The ranges of a set not kept in leaves, as a slice (see
/// [`Ranges::flat`]): one range is unpacked beside it.
enum Flat<'a> {
    One([R; 1]),
    Slice(&'a [R]),
}

impl std::ops::Deref for Flat<'_> {
    type Target = [R];
    #[inline]
    fn deref(&self) -> &[R] {
        match self {
            Flat::One(r) => r,
            Flat::Slice(s) => s,
        }
    }
}

impl Ranges {
    /// The ranges as one slice, unless they are kept in leaves.
    #[inline]
    fn flat(&self) -> Option<Flat<'_>> {
        match self {
            Ranges::Empty => Some(Flat::Slice(&[])),
            Ranges::One(p) => Some(Flat::One([p.get()])),
            Ranges::Flat(v) => Some(Flat::Slice(v)),
            Ranges::Tree(..) => None,
        }
    }

    #[inline]
    fn count(&self) -> usize {
        match self {
            Ranges::Empty => 0,
            Ranges::One(_) => 1,
            Ranges::Flat(v) => v.len(),
            Ranges::Tree(_, n) => *n,
        }
    }
}

/// The first and last range of a leaf (leaves are never empty).
#[inline]
fn lo(leaf: &[R]) -> u128 {
    leaf.first().map_or(0, |r| r.0)
}

#[inline]
fn hi(leaf: &[R]) -> u128 {
    leaf.last().map_or(0, |r| r.1)
}

/// The ranges of a set, in order.
#[derive(Clone)]
pub struct Iter<'a> {
    /// A set's one range, kept packed (see [`Packed`]).
    one: Option<R>,
    cur: std::slice::Iter<'a, R>,
    rest: std::slice::Iter<'a, Arc<[R]>>,
}

impl Iterator for Iter<'_> {
    type Item = R;
    #[inline]
    fn next(&mut self) -> Option<R> {
        if let Some(r) = self.one.take() {
            return Some(r);
        }
        loop {
            if let Some(r) = self.cur.next() {
                return Some(*r);
            }
            self.cur = self.rest.next()?.iter();
        }
    }
}

/// Where a set operation puts the ranges it produces, in order (see
/// [`produce`]).
trait Emit {
    fn emit(&mut self, r: R);
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

/// Into a vector: the ranges computed for a leaf, or a result too big
/// for one allocation.
impl Emit for Vec<R> {
    #[inline]
    fn emit(&mut self, r: R) {
        self.push(r);
    }
}

/// Ranges [`produce`] keeps on the stack in its first pass.
const SMALL: usize = 8;

/// The first pass of [`produce`]: the first [`SMALL`] ranges kept, all
/// counted.
struct Small {
    buf: [R; SMALL],
    n: usize,
}

impl Emit for Small {
    #[inline]
    fn emit(&mut self, r: R) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = r;
        }
        self.n += 1;
    }
}

/// Runs `op` once, keeping what it makes on the stack: the set it
/// produces, copied into an allocation of its size. Most results are a
/// few ranges; for more, `op` runs again to fill an allocation of the
/// size the first pass counted (no vector grows, and none keeps spare
/// room).
#[inline]
fn produce(op: impl Fn(&mut dyn Emit)) -> IntervalSet {
    let mut small = Small {
        buf: [(0, 0); SMALL],
        n: 0,
    };
    op(&mut small);
    let ranges = match small.n {
        0 => Ranges::Empty,
        1 => Ranges::One(Packed::new(small.buf[0])),
        // Never flat past TREE, whatever LEAF is: one form per size, also
        // with LEAF made 1 to run the evaluator's tests with every set of
        // more than two ranges in leaves.
        n if n <= SMALL.min(TREE) => Ranges::Flat(Arc::from(small.buf.get(..n).unwrap_or(&[]))),
        n if n <= TREE => {
            let mut rc: Arc<[R]> = std::iter::repeat_n((0, 0), n).collect();
            if let Some(buf) = Arc::get_mut(&mut rc) {
                op(&mut Fill { buf, i: 0 });
            }
            Ranges::Flat(rc)
        }
        n => {
            let mut v = Vec::with_capacity(n);
            op(&mut v);
            return IntervalSet::from_canonical(&v);
        }
    };
    IntervalSet { ranges }
}

/// Cuts canonical ranges into leaves of about [`LEAF`], evenly: a leaf
/// split for growing past [`TREE`] leaves no sliver behind.
fn push_leaves(v: &[R], out: &mut Vec<Arc<[R]>>) {
    let k = v.len().div_ceil(LEAF).max(1);
    let size = v.len().div_ceil(k).max(1);
    out.extend(v.chunks(size).map(Arc::from));
}

/// The leaves of a set an operation on a tree makes: leaves it keeps,
/// shared, and ranges it computed, in order.
struct Leaves {
    out: Vec<Arc<[R]>>,
    total: usize,
}

impl Leaves {
    fn with_capacity(n: usize) -> Self {
        Leaves {
            out: Vec::with_capacity(n),
            total: 0,
        }
    }

    #[inline]
    fn keep(&mut self, leaf: &Arc<[R]>) {
        self.total += leaf.len();
        self.out.push(leaf.clone());
    }

    fn add(&mut self, v: &[R]) {
        if v.is_empty() {
            return;
        }
        self.total += v.len();
        // A small piece joins the leaf before it while both fit in one:
        // cuts must not leave the tree in slivers, a pointer each.
        if v.len() < LEAF / 2
            && let Some(last) = self.out.last_mut()
            && last.len() + v.len() <= LEAF
        {
            *last = last.iter().chain(v).copied().collect();
            return;
        }
        if v.len() > TREE {
            push_leaves(v, &mut self.out);
        } else {
            self.out.push(Arc::from(v));
        }
    }

    fn finish(self) -> IntervalSet {
        if self.total > TREE {
            return IntervalSet {
                ranges: Ranges::Tree(self.out.into(), self.total),
            };
        }
        match self.out.as_slice() {
            [] => IntervalSet::empty(),
            [one] => IntervalSet::from_canonical(one),
            more => IntervalSet::from_canonical(
                &more
                    .iter()
                    .flat_map(|l| l.iter().copied())
                    .collect::<Vec<R>>(),
            ),
        }
    }
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
        if self.same(other) {
            return true;
        }
        match (self.ranges.flat(), other.ranges.flat()) {
            (Some(x), Some(y)) => *x == *y,
            _ => eq_tree(self, other),
        }
    }
}

/// [`IntervalSet::eq`] with a set in leaves, out of line.
#[cold]
#[inline(never)]
fn eq_tree(x: &IntervalSet, y: &IntervalSet) -> bool {
    x.range_count() == y.range_count() && x.iter().eq(y.iter())
}

impl Eq for IntervalSet {}

impl std::hash::Hash for IntervalSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As a slice of the ranges hashes, however they are kept.
        self.range_count().hash(state);
        for r in self.iter() {
            r.hash(state);
        }
    }
}

/// Which operation [`leafwise`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Intersect,
    Subtract,
}

/// The leaves of a set intersected with `y`, or minus `y`: a leaf no range
/// of `y` reaches is kept whole (minus) or left out (intersection) without
/// a look, one inside a range of `y` left out (minus) or kept whole
/// (intersection), and only the others computed again. Per operation, a
/// pointer per leaf kept and the ranges of the leaves `y` cuts, instead
/// of every range of the set.
fn leafwise(leaves: &[Arc<[R]>], y: &[R], op: Op) -> IntervalSet {
    let mut out = Leaves::with_capacity(match op {
        Op::Subtract => leaves.len() + 2,
        Op::Intersect => 4,
    });
    // The ranges computed for a leaf, room for the most a leaf can become.
    let mut scratch: Vec<R> = Vec::new();
    let mut touched = |leaf: &Arc<[R]>, out: &mut Leaves| {
        let (a, b) = (lo(leaf), hi(leaf));
        // The ranges of `y` that reach the leaf's span.
        let p = y.partition_point(|r| r.1 < a);
        let q = p + y.get(p..).map_or(0, |t| t.partition_point(|r| r.0 <= b));
        let part = y.get(p..q).unwrap_or(&[]);
        let inside = matches!(part, [(c, d)] if *c <= a && b <= *d);
        scratch.clear();
        scratch.reserve(leaf.len() + part.len());
        match op {
            Op::Subtract if part.is_empty() || !many_meet(leaf, part) => out.keep(leaf),
            Op::Subtract if inside => {}
            Op::Subtract => {
                subtract_merge(leaf, part, &mut scratch);
                out.add(&scratch);
            }
            Op::Intersect if part.is_empty() => {}
            Op::Intersect if inside => out.keep(leaf),
            Op::Intersect => {
                intersect_into(leaf, part, &mut scratch);
                out.add(&scratch);
            }
        }
    };
    // Leaves before `i` are done. The leaves a range of `y` reaches run
    // from the first that ends at or above its start to the last that
    // starts at or below its end.
    let mut i = 0;
    for &(c, d) in y {
        let rest = leaves.get(i..).unwrap_or(&[]);
        let from = i + rest.partition_point(|l| hi(l) < c);
        let rest = leaves.get(from..).unwrap_or(&[]);
        let to = from + rest.partition_point(|l| lo(l) <= d);
        if op == Op::Subtract {
            for l in leaves.get(i..from).unwrap_or(&[]) {
                out.keep(l);
            }
        }
        for l in leaves.get(from..to).unwrap_or(&[]) {
            touched(l, &mut out);
        }
        i = i.max(to);
    }
    if op == Op::Subtract {
        for l in leaves.get(i..).unwrap_or(&[]) {
            out.keep(l);
        }
    }
    out.finish()
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
                ranges: Ranges::One(Packed::new((start, end))),
            }
        }
    }

    pub fn single(v: u128) -> Self {
        Self::range(v, v)
    }

    /// A set of ranges already sorted, disjoint and apart.
    fn from_canonical(v: &[R]) -> Self {
        let ranges = match v {
            [] => Ranges::Empty,
            [one] => Ranges::One(Packed::new(*one)),
            _ if v.len() <= TREE => Ranges::Flat(Arc::from(v)),
            _ => {
                let mut out = Vec::with_capacity(v.len() / LEAF + 1);
                push_leaves(v, &mut out);
                Ranges::Tree(out.into(), v.len())
            }
        };
        IntervalSet { ranges }
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
        Self::from_canonical(&ranges)
    }

    /// All the ranges, in order. A set kept in leaves is copied: this is
    /// for reports and tests; the evaluator's loops use [`Self::iter`],
    /// [`Self::range_count`] and the like.
    pub fn ranges(&self) -> Cow<'_, [(u128, u128)]> {
        match self.ranges.flat() {
            Some(Flat::Slice(s)) => Cow::Borrowed(s),
            Some(Flat::One(r)) => Cow::Owned(r.to_vec()),
            None => Cow::Owned(self.iter().collect()),
        }
    }

    /// The ranges as one slice, for `f`: copied out only when kept in
    /// leaves (a set of one range is unpacked on the stack, where
    /// [`Self::ranges`] would allocate for it).
    fn with_slice<T>(&self, f: impl FnOnce(&[R]) -> T) -> T {
        match self.ranges.flat() {
            Some(flat) => f(&flat),
            None => f(&self.iter().collect::<Vec<_>>()),
        }
    }

    /// The ranges, in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        match &self.ranges {
            Ranges::Tree(leaves, _) => Iter {
                one: None,
                cur: [].iter(),
                rest: leaves.iter(),
            },
            Ranges::Empty => Iter {
                one: None,
                cur: [].iter(),
                rest: [].iter(),
            },
            Ranges::One(p) => Iter {
                one: Some(p.get()),
                cur: [].iter(),
                rest: [].iter(),
            },
            Ranges::Flat(v) => Iter {
                one: None,
                cur: v.iter(),
                rest: [].iter(),
            },
        }
    }

    /// Number of ranges.
    #[inline]
    pub fn range_count(&self) -> usize {
        self.ranges.count()
    }

    #[inline]
    pub fn first_range(&self) -> Option<(u128, u128)> {
        match &self.ranges {
            Ranges::Tree(leaves, _) => leaves.first().and_then(|l| l.first()).copied(),
            other => other.flat().and_then(|s| s.first().copied()),
        }
    }

    #[inline]
    pub fn last_range(&self) -> Option<(u128, u128)> {
        match &self.ranges {
            Ranges::Tree(leaves, _) => leaves.last().and_then(|l| l.last()).copied(),
            other => other.flat().and_then(|s| s.last().copied()),
        }
    }

    /// The set's range if it has exactly one.
    #[inline]
    pub fn single_range(&self) -> Option<(u128, u128)> {
        match &self.ranges {
            Ranges::One(p) => Some(p.get()),
            Ranges::Flat(v) => match &**v {
                [r] => Some(*r),
                _ => None,
            },
            _ => None,
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        matches!(self.ranges, Ranges::Empty)
    }

    /// The lowest and the highest value, with one look at the form.
    #[inline]
    pub fn span(&self) -> Option<(u128, u128)> {
        match &self.ranges {
            Ranges::Empty => None,
            Ranges::One(p) => Some(p.get()),
            Ranges::Flat(v) => Some((v.first()?.0, v.last()?.1)),
            Ranges::Tree(leaves, _) => Some((leaves.first()?.first()?.0, leaves.last()?.last()?.1)),
        }
    }

    #[inline]
    pub fn min(&self) -> Option<u128> {
        self.first_range().map(|r| r.0)
    }

    #[inline]
    pub fn max(&self) -> Option<u128> {
        self.last_range().map(|r| r.1)
    }

    /// Whether both are the same allocation (or both inline and equal):
    /// a cheap test of equality that can say no to equal sets.
    #[inline]
    pub fn same(&self, other: &IntervalSet) -> bool {
        match (&self.ranges, &other.ranges) {
            (Ranges::Empty, Ranges::Empty) => true,
            (Ranges::One(a), Ranges::One(b)) => a == b,
            (Ranges::Flat(a), Ranges::Flat(b)) => Arc::ptr_eq(a, b),
            (Ranges::Tree(a, _), Ranges::Tree(b, _)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The first range that ends at or after `a`.
    #[inline]
    fn ceil(&self, a: u128) -> Option<R> {
        let flat;
        let s: &[R] = match &self.ranges {
            Ranges::Tree(leaves, _) => leaves.get(leaves.partition_point(|l| hi(l) < a))?,
            other => {
                flat = other.flat();
                flat.as_deref().unwrap_or(&[])
            }
        };
        s.get(s.partition_point(|r| r.1 < a)).copied()
    }

    /// The first range the two sets have in common, without making their
    /// intersection: each side leaps to the other's next start.
    pub fn first_common(&self, other: &IntervalSet) -> Option<R> {
        let (mut p, mut q) = (self.first_range()?, other.first_range()?);
        loop {
            let (lo, hi) = (p.0.max(q.0), p.1.min(q.1));
            if lo <= hi {
                return Some((lo, hi));
            }
            if p.1 < q.0 {
                p = self.ceil(q.0)?;
            } else {
                q = other.ceil(p.0)?;
            }
        }
    }

    /// Does range `r` meet the set?
    #[inline]
    fn meets(&self, r: R) -> bool {
        let (a, b) = r;
        match (self.min(), self.max()) {
            (Some(lo), Some(hi)) if b >= lo && a <= hi => {}
            _ => return false,
        }
        self.ceil(a).is_some_and(|m| m.0 <= b)
    }

    pub fn contains(&self, v: u128) -> bool {
        self.ceil(v).is_some_and(|m| m.0 <= v)
    }

    /// Number of values, saturating.
    pub fn len(&self) -> u128 {
        self.iter().fold(0u128, |acc, (a, b)| {
            acc.saturating_add(b - a).saturating_add(1)
        })
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        if let (Some(x), Some(y)) = (self.ranges.flat(), other.ranges.flat()) {
            let (x, y) = (&*x, &*y);
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
            return produce(|e| intersect_into(x, y, e));
        }
        self.intersect_tree(other)
    }

    /// [`Self::intersect`] with a set in leaves, out of line: the code of
    /// flat sets stays as small as it was where it is inlined. This and
    /// the other `*_tree` functions are also cold: sets in leaves are few
    /// (a block list's sources), and the walk's loops where the set
    /// operations are inlined are laid out for flat sets (measured with
    /// callgrind: without it, 16 M more instructions in the iptables 100k
    /// check and 5 M more in the nft 10k one).
    #[cold]
    #[inline(never)]
    fn intersect_tree(&self, other: &IntervalSet) -> IntervalSet {
        let around = |one: &IntervalSet, all: &IntervalSet| {
            matches!((one.single_range(), all.min(), all.max()),
                (Some((a, b)), Some(lo), Some(hi)) if a <= lo && hi <= b)
        };
        if self.is_empty() || other.is_empty() {
            return Self::empty();
        }
        if around(self, other) {
            return other.clone();
        }
        if around(other, self) {
            return self.clone();
        }
        let (tree, y) = match &self.ranges {
            Ranges::Tree(leaves, _) => (leaves, other),
            _ => match &other.ranges {
                Ranges::Tree(leaves, _) => (leaves, self),
                _ => return Self::empty(),
            },
        };
        y.with_slice(|y| leafwise(tree, y, Op::Intersect))
    }

    /// True if the sets share a value; allocates nothing, for the fast path of
    /// rules that miss.
    #[inline]
    pub fn intersects(&self, other: &IntervalSet) -> bool {
        // On the variants, not the slices: this is the test every rule
        // makes of every box and hull it may touch.
        match (&self.ranges, &other.ranges) {
            (Ranges::One(p), Ranges::One(q)) => {
                let ((a, b), (c, d)) = (p.get(), q.get());
                a <= d && c <= b
            }
            (Ranges::Empty, _) | (_, Ranges::Empty) => false,
            (Ranges::One(p), Ranges::Flat(many)) | (Ranges::Flat(many), Ranges::One(p)) => {
                one_meets(p.get(), many)
            }
            (Ranges::Flat(x), Ranges::Flat(y)) => many_meet(x, y),
            _ => self.intersects_tree(other),
        }
    }

    /// [`Self::intersects`] with a set in leaves, out of line.
    #[cold]
    #[inline(never)]
    fn intersects_tree(&self, other: &IntervalSet) -> bool {
        let (few, many) = if self.range_count() <= other.range_count() {
            (self, other)
        } else {
            (other, self)
        };
        if few.range_count() <= LEAF {
            few.iter().any(|r| many.meets(r))
        } else {
            merge_meet(self.iter(), other.iter())
        }
    }

    /// True if every value of `self` is in `other`.
    pub fn is_subset(&self, other: &IntervalSet) -> bool {
        let (Some(x), Some(y)) = (self.ranges.flat(), other.ranges.flat()) else {
            return self.is_subset_tree(other);
        };
        let (x, y) = (&*x, &*y);
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

    /// [`Self::is_subset`] with a set in leaves, out of line.
    #[cold]
    #[inline(never)]
    fn is_subset_tree(&self, other: &IntervalSet) -> bool {
        let (Some(lo), Some(hi)) = (self.min(), self.max()) else {
            return true;
        };
        if other.is_empty() {
            return false;
        }
        if let Some((c, d)) = other.single_range() {
            return c <= lo && hi <= d;
        }
        // Against a few ranges: inside their span and meeting none of the
        // gaps between them, looked up.
        if let Some(y) = other.ranges.flat()
            && y.len() <= FEW
        {
            let span =
                matches!((y.first(), y.last()), (Some(f), Some(l)) if f.0 <= lo && hi <= l.1);
            return span
                && y.windows(2).all(|w| match w {
                    [p, q] => !self.meets((p.1 + 1, q.0 - 1)),
                    _ => true,
                });
        }
        self.iter()
            .all(|(a, b)| other.ceil(a).is_some_and(|(c, d)| c <= a && b <= d))
    }

    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        if !self.intersects(other) {
            return self.clone();
        }
        let (Some(x), Some(y)) = (self.ranges.flat(), other.ranges.flat()) else {
            return self.subtract_tree(other);
        };
        let (x, y) = (&*x, &*y);
        if y.len() <= FEW && x.len() > MANY {
            return subtract_few(x, y);
        }
        produce(|e| subtract_merge(x, y, e))
    }

    /// [`Self::subtract`] with a set in leaves, out of line. One on the
    /// right is copied out: a few ranges minus thousands is rare.
    #[cold]
    #[inline(never)]
    fn subtract_tree(&self, other: &IntervalSet) -> IntervalSet {
        other.with_slice(|y| match &self.ranges {
            Ranges::Tree(leaves, _) => leafwise(leaves, y, Op::Subtract),
            flat => produce(|e| subtract_merge(flat.flat().as_deref().unwrap_or(&[]), y, e)),
        })
    }

    /// `self = self - other`.
    pub fn subtract_in_place(&mut self, other: &IntervalSet) {
        if self.intersects(other) {
            *self = self.subtract(other);
        }
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all = Vec::with_capacity(self.range_count() + other.range_count());
        all.extend(self.iter());
        all.extend(other.iter());
        Self::from_ranges(all)
    }
}

/// Do the ranges of two sets meet? One pass over both.
fn merge_meet(mut x: Iter<'_>, mut y: Iter<'_>) -> bool {
    let (mut p, mut q) = (x.next(), y.next());
    while let (Some((a1, b1)), Some((a2, b2))) = (p, q) {
        if a1.max(a2) <= b1.min(b2) {
            return true;
        }
        if b1 < b2 {
            p = x.next();
        } else {
            q = y.next();
        }
    }
    false
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
        // Past the size of one allocation, into leaves.
        (n, _) if n > TREE => {
            let mut v = Vec::with_capacity(n);
            for p in pieces {
                match p {
                    Piece::Run(a, b) => v.extend_from_slice(x.get(*a..*b).unwrap_or(&[])),
                    Piece::Cut(r) => v.push(*r),
                }
            }
            return IntervalSet::from_canonical(&v);
        }
        (1, [Piece::Cut(r)]) => Ranges::One(Packed::new(*r)),
        (1, [Piece::Run(a, _)]) => Ranges::One(Packed::new(x.get(*a).copied().unwrap_or_default())),
        _ => {
            let mut rc: Arc<[R]> = std::iter::repeat_n((0, 0), total).collect();
            if let Some(buf) = Arc::get_mut(&mut rc) {
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
            Ranges::Flat(rc)
        }
    };
    IntervalSet { ranges }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_keeps_every_bit_of_both_ends() {
        let ends = [
            0,
            1,
            u128::from(u64::MAX),
            1 << 64,
            (1 << 64) + 7,
            u128::MAX - 1,
            u128::MAX,
        ];
        for &a in &ends {
            for &b in ends.iter().filter(|&&b| b >= a) {
                assert_eq!(Packed::new((a, b)).get(), (a, b));
                let s = IntervalSet::range(a, b);
                assert_eq!(s.single_range(), Some((a, b)));
                assert_eq!(s.iter().collect::<Vec<_>>(), vec![(a, b)]);
                assert_eq!(&*s.ranges(), &[(a, b)]);
                assert!(s.contains(a) && s.contains(b));
            }
        }
    }

    fn s(r: &[(u128, u128)]) -> IntervalSet {
        IntervalSet::from_ranges(r.to_vec())
    }

    #[test]
    fn from_ranges_merges_overlaps_and_neighbours() {
        assert_eq!(
            s(&[(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)])
                .ranges()
                .as_ref(),
            &[(1, 9), (20, 30)]
        );
        assert!(s(&[(3, 1)]).is_empty());
    }

    #[test]
    fn set_algebra() {
        let a = s(&[(0, 10), (20, 30)]);
        let b = s(&[(5, 25)]);
        assert_eq!(a.intersect(&b).ranges().as_ref(), &[(5, 10), (20, 25)]);
        assert_eq!(a.subtract(&b).ranges().as_ref(), &[(0, 4), (26, 30)]);
        assert_eq!(b.subtract(&a).ranges().as_ref(), &[(11, 19)]);
        assert_eq!(a.union(&b).ranges().as_ref(), &[(0, 30)]);
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
        assert_eq!(all.subtract(&hole).ranges().as_ref(), &[(0, u128::MAX - 1)]);
        assert_eq!(
            all.subtract(&IntervalSet::single(0)).ranges().as_ref(),
            &[(1, u128::MAX)]
        );
        assert!(all.subtract(&all).is_empty());
    }

    #[test]
    fn random_sets_agree_with_a_bitmap() {
        let mut rnd = crate::test_rng::xorshift(0x9e3779b97f4a7c15u64);
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
            assert_eq!(a.first_common(&b), a.intersect(&b).first_range());
            let mut c = a.clone();
            c.subtract_in_place(&b);
            assert_eq!(c, a.subtract(&b));
            assert_eq!(a.is_subset(&b), a.subtract(&b).is_empty());
        }
    }

    #[test]
    fn few_ranges_against_many_agree_with_a_bitmap() {
        // The paths that look a few ranges up in many (more than 8 against
        // at most 4), with ranges that meet, touch and straddle each other.
        let mut rnd = crate::test_rng::xorshift(0x2545f4914f6cdd1du64);
        for _ in 0..3000 {
            let many: Vec<(u128, u128)> = (0..9 + rnd(40))
                .map(|_| {
                    let a = rnd(400) as u128;
                    (a, a + rnd(6) as u128)
                })
                .collect();
            let few: Vec<(u128, u128)> = (0..1 + rnd(4))
                .map(|_| {
                    let a = rnd(420) as u128;
                    let wide = rnd(3) == 0;
                    (a, a + rnd(if wide { 200 } else { 12 }) as u128)
                })
                .collect();
            let (a, b) = (s(&many), s(&few));
            for (x, y) in [(&a, &b), (&b, &a)] {
                let i = x.intersect(y);
                let d = x.subtract(y);
                for v in 0..640u128 {
                    assert_eq!(i.contains(v), x.contains(v) && y.contains(v));
                    assert_eq!(d.contains(v), x.contains(v) && !y.contains(v));
                }
                assert_eq!(i, s(&i.ranges()), "canonical");
                assert_eq!(d, s(&d.ranges()), "canonical");
                assert_eq!(x.intersects(y), !i.is_empty());
                assert_eq!(x.is_subset(y), d.is_empty());
                let mut c = x.clone();
                c.subtract_in_place(y);
                assert_eq!(c, d);
            }
        }
    }

    /// The values of `x` below `space`, and a check of the form it is kept
    /// in: canonical, and in leaves exactly when it has more than `TREE`
    /// ranges, each leaf of 1 to `TREE`.
    fn bits(x: &IntervalSet, space: usize) -> Vec<bool> {
        let all: Vec<R> = x.iter().collect();
        assert_eq!(all.len(), x.range_count());
        assert_eq!(&all[..], &*x.ranges());
        assert!(all.windows(2).all(|w| w[0].1 + 1 < w[1].0), "canonical");
        assert!(all.iter().all(|r| r.0 <= r.1));
        match &x.ranges {
            Ranges::Tree(leaves, n) => {
                assert!(*n > TREE);
                assert!(leaves.iter().all(|l| !l.is_empty() && l.len() <= TREE));
            }
            Ranges::Flat(v) => assert!(v.len() > 1 && v.len() <= TREE),
            _ => assert!(all.len() <= 1),
        }
        let mut b = vec![false; space];
        for (a, z) in all {
            for v in a..=z.min(space as u128 - 1) {
                b[v as usize] = true;
            }
        }
        b
    }

    #[test]
    fn sets_in_leaves_agree_with_a_bitmap() {
        // Sets of hundreds of ranges (kept in leaves) against few, many
        // and as many ranges, narrow and wide.
        let mut rnd = crate::test_rng::xorshift(0x853c49e6748fea9bu64);
        const SPACE: usize = 8000;
        for round in 0..400 {
            let mut mk = |n: u64, wide: u64| {
                let v: Vec<R> = (0..n)
                    .map(|_| {
                        let a = rnd(SPACE as u64 - 3100) as u128;
                        (a, a + rnd(wide) as u128)
                    })
                    .collect();
                s(&v)
            };
            let big = mk(150 + (round % 7) * 60, 5);
            let other = match round % 5 {
                0 => mk(1 + round % 4, 12),
                1 => mk(1 + round % 4, 3000),
                2 => mk(5 + round % 50, 40),
                3 => mk(200 + round % 300, 8),
                _ => big.subtract(&mk(3, 200)),
            };
            let (bb, bo) = (bits(&big, SPACE), bits(&other, SPACE));
            for (x, y, bx, by) in [(&big, &other, &bb, &bo), (&other, &big, &bo, &bb)] {
                let i = x.intersect(y);
                let d = x.subtract(y);
                let u = x.union(y);
                let (bi, bd, bu) = (bits(&i, SPACE), bits(&d, SPACE), bits(&u, SPACE));
                for v in 0..SPACE {
                    assert_eq!(bi[v], bx[v] && by[v], "intersect at {v}");
                    assert_eq!(bd[v], bx[v] && !by[v], "subtract at {v}");
                    assert_eq!(bu[v], bx[v] || by[v], "union at {v}");
                }
                for v in [0, 1, 17, 999, 4000, 7999] {
                    assert_eq!(x.contains(v), bx[v as usize]);
                }
                assert_eq!(x.intersects(y), !i.is_empty());
                assert_eq!(x.first_common(y), i.first_range(), "first common range");
                assert_eq!(x.is_subset(y), d.is_empty());
                assert!(i.is_subset(x) && i.is_subset(y));
                assert_eq!(*x, s(&x.ranges()));
                assert_eq!(x.len(), bx.iter().filter(|b| **b).count() as u128);
            }
        }
    }

    #[test]
    fn a_block_list_cut_hole_by_hole_agrees_with_a_bitmap() {
        // What a block list does to a source set: a hole at a time, now
        // and then a wider cut, and parts taken out and put back; the set
        // goes into leaves, its leaves grow and split, and shrink.
        let mut rnd = crate::test_rng::xorshift(0x2545f4914f6cdd1du64);
        const SPACE: usize = 20_000;
        let mut set = IntervalSet::range(0, SPACE as u128 - 1);
        let mut model = vec![true; SPACE];
        for k in 0..3000 {
            let a = rnd(SPACE as u64) as usize;
            let z = match k % 50 {
                0 => (a + rnd(2000) as usize).min(SPACE - 1),
                1..=5 => (a + rnd(20) as usize).min(SPACE - 1),
                _ => a,
            };
            let cut = IntervalSet::range(a as u128, z as u128);
            let before = set.clone();
            set = if k % 97 == 0 {
                set.union(&cut)
            } else {
                set.subtract(&cut)
            };
            for m in model.iter_mut().take(z + 1).skip(a) {
                *m = k % 97 == 0;
            }
            // The set it was cut from is unchanged (its leaves are shared).
            assert_eq!(before, s(&before.ranges()));
            let inside = before.intersect(&cut);
            assert_eq!(inside.union(&before.subtract(&cut)), before);
            if k % 100 == 0 || k > 2900 {
                assert_eq!(bits(&set, SPACE), model, "after cut {k}");
            }
        }
        assert!(matches!(set.ranges, Ranges::Tree(..)));
    }
}
