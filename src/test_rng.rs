//! A small, seeded random source for the crate's randomized tests: the
//! same cases on every run and machine, with no dependency.

/// Xorshift64 from `seed` (not 0): each call gives a number below `n`.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}
