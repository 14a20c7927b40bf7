//! A hash that is the same on every run and machine, for names and ids that
//! must survive restarts (event ids, spool and outbox file names, SARIF
//! fingerprints). `std`'s hasher is seeded per process, so it cannot serve.

/// A stable 64-bit hash (FNV-1a) as hex: the same on every run and machine.
pub fn fnv(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(fnv(b""), "cbf29ce484222325");
        assert_eq!(fnv(b"a"), "af63dc4c8601ec8c");
    }
}
