//! Numbers written the C way (`22`, `0x16`, `010`), as the tools behind
//! both formats read them with `strtoul(.., 0)`.

/// Reads the number at the start of `text` as C's `strtoumax(text, &end, 0)`
/// does (decimal, `0x` hexadecimal or `0` octal, optional `+`), returning it
/// and the rest of the text; `None` if no digit is there or it overflows.
pub(crate) fn c_number_prefix(text: &str) -> Option<(u64, &str)> {
    let s = text.strip_prefix('+').unwrap_or(text);
    if s.as_bytes()
        .first()
        .is_some_and(|b| (b'1'..=b'9').contains(b))
    {
        // Decimal, by far the most common: the general loop below, unrolled
        // for radix 10.
        let mut value: u64 = 0;
        let mut len = 0;
        for digit in s.bytes().take_while(u8::is_ascii_digit) {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
            len += 1;
        }
        return Some((value, s.get(len..).unwrap_or("")));
    }
    let (radix, digits): (u32, &[u8]) = match s.as_bytes() {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, rest)
        }
        // "0x" without hex digits reads as 0 followed by "x...".
        [b'0', b'x' | b'X', ..] => return Some((0, s.get(1..).unwrap_or(""))),
        all @ [b'0', ..] => (8, all),
        all => (10, all),
    };
    let mut value: u64 = 0;
    let mut len = 0;
    for digit in digits.iter().map_while(|b| char::from(*b).to_digit(radix)) {
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
        len += 1;
    }
    if len == 0 {
        return None;
    }
    Some((value, s.get(s.len() - digits.len() + len..).unwrap_or("")))
}

/// A whole-text number up to `max`, as `xtables_strtoui(text, NULL, .., 0, max)`.
pub(crate) fn c_number(text: &str, max: u64) -> Option<u64> {
    match c_number_prefix(text) {
        Some((v, "")) if v <= max => Some(v),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of (input, expected) cases
mod tests {
    use super::*;

    #[test]
    fn c_numbers_read_like_strtoul_base_0() {
        let cases: &[(&str, u64, Option<u64>)] = &[
            ("22", 65535, Some(22)),
            ("0x16", 65535, Some(22)),
            ("010", 65535, Some(8)),
            ("0", 65535, Some(0)),
            ("+22", 65535, Some(22)),
            ("08", 65535, None),
            ("-1", 65535, None),
            ("", 65535, None),
            ("0x", 65535, None),
            ("65536", 65535, None),
            ("99999999999999999999999", u64::MAX, None),
            ("4294967295", u64::from(u32::MAX), Some(4294967295)),
        ];
        for (text, max, want) in cases {
            assert_eq!(c_number(text, *max), *want, "{text}");
        }
    }
}
