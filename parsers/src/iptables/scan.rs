//! Byte searches over the short texts of a rule, eight bytes at a time.
//!
//! Lines and values are mostly letters and digits, so reading a `u64` and
//! testing all eight bytes at once beats a byte loop and, on texts this
//! short, the setup of the general string searchers.

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;
pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

/// Eight bytes as one number, the first in the lowest byte.
pub(super) fn eight_bytes(chunk: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight.copy_from_slice(chunk);
    u64::from_le_bytes(eight)
}

/// The position of the first `needle` at or after `from`: with
/// `v = x ^ needle..`, `(v - 0x01..) & !v & 0x80..` flags the zero bytes of
/// `v`, the lowest exactly (borrows only run upwards).
pub(super) fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    let pattern = ONES * u64::from(needle);
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let v = eight_bytes(chunk) ^ pattern;
        let zero = v.wrapping_sub(ONES) & !v & HIGH;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|b| *b == needle)
        .map(|p| i + p)
}

/// How many times `needle` occurs in `bytes`. `((v & 0x7f..) + 0x7f..) | v`
/// has the high bit clear exactly in the zero bytes of `v`.
pub(super) fn count_byte(bytes: &[u8], needle: u8) -> usize {
    let pattern = ONES * u64::from(needle);
    let low = !HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let v = eight_bytes(chunk) ^ pattern;
        let nonzero = ((v & low) + low) | v;
        count += (!nonzero & HIGH).count_ones() as usize;
    }
    count + chunks.remainder().iter().filter(|b| **b == needle).count()
}

/// `text.split_once(sep)` for an ASCII separator.
pub(crate) fn split_once_ascii(text: &str, sep: u8) -> Option<(&str, &str)> {
    let at = find_byte(text.as_bytes(), 0, sep)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text.split(sep)` for an ASCII separator.
pub(crate) fn split_ascii(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match split_once_ascii(r, sep) {
            Some((item, after)) => {
                rest = Some(after);
                Some(item)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_agree_with_the_standard_ones() {
        let texts = [
            "",
            ",",
            "a,b",
            "10.202.0.0/16,10.61.202.128/28,17.223.128.0/22,192.168.141.232",
            ",,,,,,,,,,,,,,,,,",
            "é,ü,\u{2c}x,,",
            "0123456,89abcdef,",
        ];
        for text in texts {
            for sep in [b',', b'/', b'.', b'x'] {
                let c = char::from(sep);
                assert_eq!(
                    count_byte(text.as_bytes(), sep),
                    text.matches(c).count(),
                    "{text:?} {c:?}"
                );
                assert_eq!(
                    split_once_ascii(text, sep),
                    text.split_once(c),
                    "{text:?} {c:?}"
                );
                assert_eq!(
                    split_ascii(text, sep).collect::<Vec<_>>(),
                    text.split(c).collect::<Vec<_>>(),
                    "{text:?} {c:?}"
                );
            }
        }
    }
}
