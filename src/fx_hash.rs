//! FxHash (as rustc uses it), for maps in memory keyed by the evaluator's
//! values: short lists of small numbers (deciding rules), and boxes of
//! ranges. SipHash's protection against crafted collisions costs more than
//! it guards there: the maps live for one run, and the work around them is
//! bounded by the evaluator's own limits. Never for anything kept on disk
//! (`stable_hash` is).

/// The hasher.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(w) = word.get_mut(..chunk.len()) {
                w.copy_from_slice(chunk);
            }
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// Its builder, for `HashMap::with_hasher` and `HashMap<K, V, BuildFx>`.
pub(crate) type BuildFx = std::hash::BuildHasherDefault<Fx>;
