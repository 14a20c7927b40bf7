//! Values against the fields they are compared with or set to: sizes,
//! names, times, ranges (nft's datatypes).

use crate::nft::ast::{Selector, Value};
use crate::nft::parser::expr::number;
use crate::nft::vocab::{CtDirection, CtKey, Key, MetaKey, PayloadField, PayloadProtocol};

/// Every atom and range end in a value, set elements' keys included.
/// The words of a statement or selector kept as text: a few, kept inline,
/// since plain rules of big rulesets are checked too.
pub(super) type Words<'a> = smallvec::SmallVec<[&'a str; 6]>;

pub(super) fn each_atom<'v>(v: &'v Value, f: &mut impl FnMut(&'v str)) {
    match v {
        Value::Atom(a) => f(a.as_str()),
        Value::Range(a, b) => {
            f(a.as_str());
            f(b.as_str());
        }
        Value::Set(es) => {
            for e in es {
                each_atom(&e.key, f);
            }
        }
        Value::Concat(parts) => parts.iter().for_each(|p| each_atom(p, f)),
        Value::Flags(fl) => fl.iter().for_each(|w| f(w.as_str())),
        Value::SetRef(_) | Value::Masked { .. } => {}
    }
}

/// What a field holds, as far as its values can be checked as written.
#[derive(Clone, Copy)]
enum Field {
    /// An unsigned number of so many bits, or a name nft knows for it.
    Bits(u32),
    /// A number of so many bits, and nothing else.
    Number(u32),
    /// One of these names, or a number up to the second value.
    Names(&'static [&'static str], u64),
    /// A string of 1 to so many bytes.
    Text(usize),
    /// A connection label: a bit number up to 127, or a name.
    Label,
    /// `meta hour`: seconds, `HH:MM` or `HH:MM:SS`.
    Hour,
    /// `meta time`: seconds since the epoch or an ISO date.
    Date,
    /// `ct expiration`: a duration; only its ranges are checked.
    Duration,
}

const CT_STATUS: &[&str] = &[
    "expected",
    "seen-reply",
    "assured",
    "confirmed",
    "snat",
    "dnat",
    "dying",
];
const DAYS: &[&str] = &[
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const CT_EVENTS: &[&str] = &[
    "new",
    "related",
    "destroy",
    "reply",
    "assured",
    "protoinfo",
    "helper",
    "mark",
    "seqadj",
    "secmark",
    "label",
];

/// The field a selector reads, where its values can be checked.
fn field(sel: &Selector) -> Option<Field> {
    use Field::*;
    use PayloadField as F;
    use PayloadProtocol as P;
    // Addresses, the most common selector, first: their values the lowering reads.
    if let Selector::Payload { field, .. } = sel
        && matches!(F::from_word(field), Some(F::Saddr | F::Daddr))
    {
        return None;
    }
    Some(match sel {
        Selector::Payload { .. } => match Key::of(sel)? {
            Key::Payload(P::Ip | P::Ip6, F::Version)
            | Key::Payload(P::Ip, F::Hdrlength)
            | Key::Payload(P::Tcp, F::Doff) => Number(4),
            Key::Payload(P::Ip | P::Ip6, F::Dscp) => Bits(6),
            Key::Payload(P::Ip | P::Ip6, F::Ecn) => Bits(2),
            Key::Payload(P::Ip6, F::Flowlabel) => Number(20),
            Key::Payload(P::Ip, F::Ttl) | Key::Payload(P::Ip6, F::Hoplimit) => Number(8),
            Key::Payload(P::Ip, F::Length | F::Id)
            | Key::Payload(P::Ip6, F::Length)
            | Key::Payload(P::Tcp, F::Window | F::Urgptr)
            | Key::Payload(P::Udp | P::Udplite, F::Length) => Number(16),
            Key::Payload(P::Srh, F::LastEntry | F::Flags) => Number(8),
            Key::Payload(P::Srh, F::Tag) => Number(16),
            // Ports and ICMP types are read (and checked) by the lowering.
            Key::Payload(P::Icmp | P::Icmpv6, F::Code) => Bits(8),
            _ => return None,
        },
        Selector::Meta(_) => match Key::of(sel)? {
            Key::Meta(MetaKey::Mark) => Number(32),
            Key::Meta(MetaKey::Pkttype) => {
                Names(&["host", "unicast", "broadcast", "multicast", "other"], 255)
            }
            Key::Meta(MetaKey::Day) => Names(DAYS, 6),
            Key::Meta(MetaKey::Hour) => Hour,
            Key::Meta(MetaKey::Time) => Date,
            _ => return None,
        },
        Selector::Ct(_) => match Key::of(sel)? {
            Key::Ct(CtKey::Mark | CtKey::Id) => Number(32),
            Key::Ct(CtKey::Zone) => Number(16),
            Key::Ct(CtKey::Direction) => Names(&["original", "reply"], 1),
            Key::Ct(CtKey::Status) => Names(CT_STATUS, u32::MAX as u64),
            Key::Ct(CtKey::L3proto) => Names(&["ipv4", "ipv6"], 255),
            Key::Ct(CtKey::Helper) => Text(16),
            Key::Ct(CtKey::Expiration) => Duration,
            Key::Ct(CtKey::Label) => Label,
            _ => return None,
        },
        Selector::Other(text) => {
            let words: Words = text.split_whitespace().collect();
            match words.as_slice() {
                ["vlan", "id"] => Number(12),
                ["vlan", "dei" | "cfi"] => Number(1),
                ["vlan", "pcp"] => Number(3),
                ["socket", "transparent" | "wildcard"] => Number(1),
                ["ct", "original" | "reply", "zone"] => Number(16),
                ["osf", .., "name" | "version"] => Text(16),
                // `@th,16,1`, `tcp option @255,8,8`
                [.., raw] if raw.starts_with('@') => Number(
                    raw.rsplit(',')
                        .next()
                        .and_then(|l| l.parse::<u32>().ok())
                        .filter(|l| *l <= 64)?,
                ),
                _ => return None,
            }
        }
    })
}

/// nft's value checks for a match: each value must be of its field's type
/// and fit its size; a range must not run backwards.
pub(super) fn check_values(left: &[Selector], right: &Value) -> Result<(), String> {
    match (left, right) {
        ([sel], _) => {
            // Only fields of numbers and times have ranges to check; an
            // address set (the big ones) is not walked again.
            let Some(f) = field(sel) else { return Ok(()) };
            check_value(sel, f, right)?;
            range_order(right)
        }
        // A concatenation: each part against its own selector.
        (sels, Value::Concat(parts)) if sels.len() == parts.len() => sels
            .iter()
            .zip(parts)
            .try_for_each(|(s, p)| check_values(std::slice::from_ref(s), p)),
        (sels, Value::Set(es)) => es.iter().try_for_each(|e| match &e.key {
            Value::Concat(parts) if parts.len() == sels.len() => sels
                .iter()
                .zip(parts)
                .try_for_each(|(s, p)| check_values(std::slice::from_ref(s), p)),
            _ => Ok(()),
        }),
        _ => Ok(()),
    }
}

fn check_value(sel: &Selector, f: Field, v: &Value) -> Result<(), String> {
    let mut err = None;
    each_atom(v, &mut |a| {
        if err.is_none() {
            err = check_atom(f, a).err();
        }
    });
    match err {
        Some(e) => Err(format!(
            "{}: {e}",
            crate::nft::lower::selectors_text(std::slice::from_ref(sel))
        )),
        None => Ok(()),
    }
}

fn fits(n: u64, bits: u32) -> bool {
    bits >= 64 || n < (1u64 << bits)
}

fn too_big(a: &str, bits: u32) -> String {
    format!(
        "value {a} exceeds the field's {bits} bits (at most {})",
        if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        }
    )
}

fn check_atom(f: Field, a: &str) -> Result<(), String> {
    // `0x32-0x2222` (a range the parser keeps as one word) and a mark's
    // `0xffffff00/24`: each number on its own.
    if let Field::Bits(bits) | Field::Number(bits) = f {
        if let Some((x, y)) = a
            .split_once('-')
            .filter(|(x, y)| number(x).is_some() && number(y).is_some())
        {
            check_atom(f, x)?;
            return check_atom(f, y);
        }
        if let Some((x, len)) = a.split_once('/') {
            if len.parse::<u32>().is_ok_and(|l| l > bits) {
                return Err(format!(
                    "prefix /{len} is longer than the field's {bits} bits"
                ));
            }
            return check_atom(f, x);
        }
    }
    match f {
        Field::Bits(bits) => match number(a) {
            Some(n) if !fits(n, bits) => Err(too_big(a, bits)),
            _ => Ok(()),
        },
        Field::Number(bits) => match number(a) {
            Some(n) if !fits(n, bits) => Err(too_big(a, bits)),
            Some(_) => Ok(()),
            None => Err(format!("expected a number, found `{a}`")),
        },
        Field::Names(names, max) => match number(a) {
            Some(n) if n > max => Err(format!("value {a} is out of range (at most {max})")),
            Some(_) => Ok(()),
            None if names.contains(&a) => Ok(()),
            None => Err(format!(
                "unknown value `{a}`, expected one of {}",
                names.join(", ")
            )),
        },
        Field::Text(max) => {
            if a.is_empty() {
                Err("the string is empty".into())
            } else if a.len() > max {
                Err(format!("\"{a}\" is longer than {max} bytes"))
            } else {
                Ok(())
            }
        }
        Field::Label => match number(a) {
            Some(n) if n > 127 => Err(format!(
                "connection label {a} is out of range: labels are bits 0 to 127"
            )),
            _ => Ok(()),
        },
        Field::Hour => {
            if a.bytes().all(|b| b.is_ascii_digit()) && !a.is_empty() {
                return Ok(());
            }
            let parts: Vec<Option<u32>> = a
                .split(':')
                .map(|p| (p.len() == 2).then(|| p.parse().ok()).flatten())
                .collect();
            let ok = match parts.as_slice() {
                [Some(h), Some(m)] => *h <= 23 && *m <= 59,
                [Some(h), Some(m), Some(s)] => *h <= 23 && *m <= 59 && *s <= 60,
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "`{a}` is not a time of day (HH:MM or HH:MM:SS, hours 00 to 23)"
                ))
            }
        }
        Field::Duration => Ok(()),
        Field::Date => {
            if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) || iso_date(a) {
                Ok(())
            } else {
                Err(format!(
                    "cannot parse `{a}` as a date (YYYY-MM-DD [HH:MM[:SS]] or seconds since 1970)"
                ))
            }
        }
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS`.
fn iso_date(a: &str) -> bool {
    let (date, time) = a.split_once(' ').unwrap_or((a, ""));
    let d: Vec<&str> = date.split('-').collect();
    let date_ok = matches!(d.as_slice(), [y, m, dd] if y.len() == 4 && y.parse::<u32>().is_ok() && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)) && dd.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)));
    date_ok && (time.is_empty() || check_atom(Field::Hour, time).is_ok())
}

/// A range's start must not be after its end (`ct expiration 1d-1h`).
fn range_order(v: &Value) -> Result<(), String> {
    let mut err = None;
    let mut check = |a: &str, b: &str| {
        let (x, y) = match (
            number(a).or_else(|| duration(a)),
            number(b).or_else(|| duration(b)),
        ) {
            (Some(x), Some(y)) => (x, y),
            _ => return,
        };
        if x > y && err.is_none() {
            err = Some(format!(
                "range `{a}-{b}` runs backwards: its start is after its end"
            ));
        }
    };
    let mut one = |v: &Value| match v {
        Value::Range(a, b) => check(a, b),
        // `1d-1h`: a range the parser keeps as one word.
        Value::Atom(w) => {
            if let Some((a, b)) = w.split_once('-') {
                check(a, b);
            }
        }
        _ => {}
    };
    match v {
        Value::Set(es) => es.iter().for_each(|e| one(&e.key)),
        other => one(other),
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `1d2h3m4s5ms` in milliseconds.
fn duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut n = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let v: u64 = n.parse().ok()?;
        n.clear();
        let unit = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1000,
            _ => return None,
        };
        total = total.checked_add(v.checked_mul(unit)?)?;
        any = true;
    }
    if !n.is_empty() {
        return None;
    }
    any.then_some(total)
}

/// `SELECTOR set EXPR`: a field takes one value, never a set; a number
/// must fit the field; `ct event set` takes event names.
pub(in crate::nft::parser) fn set_value(left: &[Selector], words: &[&str]) -> Result<(), String> {
    let what = crate::nft::lower::selectors_text(left);
    if words.first() == Some(&"{") {
        return Err(format!(
            "cannot set {what} to a set of values: a field holds one value"
        ));
    }
    let [sel] = left else { return Ok(()) };
    // Keys the kernel only reads: it refuses a rule that sets them.
    if let Selector::Meta(k) = sel
        && !matches!(
            MetaKey::from_word(k),
            Some(
                MetaKey::Mark
                    | MetaKey::Priority
                    | MetaKey::Pkttype
                    | MetaKey::Nftrace
                    | MetaKey::Secmark
                    | MetaKey::Broute
            )
        )
    {
        return Err(format!("meta {k} cannot be set: the kernel only reads it"));
    }
    if let Selector::Other(t) = sel
        && ["vxlan ", "geneve ", "gre ", "gretap "]
            .iter()
            .any(|p| t.starts_with(p))
    {
        return Err(format!(
            "cannot set {t}: the headers inside a tunnel cannot be changed"
        ));
    }
    if Key::of(sel) == Some(Key::Ct(CtKey::Event)) {
        for w in words.iter().filter(|w| !matches!(**w, "," | "|" | "or")) {
            if number(w).is_none() && !CT_EVENTS.contains(w) {
                return Err(format!(
                    "ct event set: unknown event `{w}`, expected one of {}",
                    CT_EVENTS.join(", ")
                ));
            }
        }
        return Ok(());
    }
    // `ct original saddr` has no type of its own for a map to be keyed by.
    for w in words.windows(3) {
        if w[0] == "ct"
            && CtDirection::from_word(w[1]).is_some()
            && matches!(CtKey::from_word(w[2]), Some(CtKey::Saddr | CtKey::Daddr))
        {
            return Err(format!(
                "`ct {} {}` has no type as a map key: write `ct {} ip {}` or `ct {} ip6 {}`",
                w[1], w[2], w[1], w[2], w[1], w[2]
            ));
        }
    }
    for (key, data) in map_elements(words) {
        // A map's data is what the field is set to: one value, never a prefix.
        if let Some(p) = data.iter().find(|w| w.contains('/')) {
            return Err(format!("{what} set: `{p}` is a prefix, not a value"));
        }
        // `tcp / 22`: only an address takes a prefix.
        if let Some(i) = key.iter().position(|w| *w == "/") {
            let before = if i > 0 { key[i - 1] } else { "" };
            if before.parse::<std::net::IpAddr>().is_err() {
                return Err(format!(
                    "{what} set: `{before} / {}` in a map key: only an address takes a prefix",
                    key.get(i + 1).copied().unwrap_or("")
                ));
            }
        }
    }
    // Numbers in a plain expression (`ip dscp set ip dscp & 0x4f`) must
    // fit the field; a map's keys are of another type, and a shift's
    // amount is no value of the field.
    if words
        .iter()
        .any(|w| matches!(*w, "map" | "{" | "<<" | ">>" | "lshift" | "rshift"))
    {
        return Ok(());
    }
    match field(sel) {
        Some(Field::Bits(bits) | Field::Number(bits)) => {
            for w in words {
                if let Some(n) = number(w)
                    && !fits(n, bits)
                {
                    return Err(format!("{what} set: {}", too_big(w, bits)));
                }
            }
            Ok(())
        }
        Some(f @ (Field::Names(..) | Field::Label)) if words.len() == 1 => {
            check_atom(f, words[0]).map_err(|e| format!("{what} set: {e}"))
        }
        _ => Ok(()),
    }
}

/// A duration such as `300s` or `1h30m`.
pub(in crate::nft::parser) fn is_duration(s: &str) -> bool {
    duration(s).is_some()
}

/// The elements of an inline `map { KEY : DATA, ... }` in an expression's
/// words, as (key words, data words), split at a `:` standing alone; none
/// if it has no inline map. ([`super::inline_map`] also reads the colons
/// a word carries, as in `{ 84 :4 }`.)
pub(super) fn map_elements<'w>(words: &[&'w str]) -> Vec<(Vec<&'w str>, Vec<&'w str>)> {
    let Some(open) = words.windows(2).position(|w| w[0] == "map" && w[1] == "{") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut key, mut data, mut in_data, mut depth) = (Vec::new(), Vec::new(), false, 0usize);
    for &w in &words[open + 1..] {
        match w {
            "{" => depth += 1,
            "}" | "," if depth == 1 => {
                if !key.is_empty() {
                    out.push((std::mem::take(&mut key), std::mem::take(&mut data)));
                }
                in_data = false;
                if w == "}" {
                    break;
                }
            }
            "}" => depth = depth.saturating_sub(1),
            ":" if depth == 1 => in_data = true,
            _ if in_data => data.push(w),
            _ => key.push(w),
        }
    }
    out
}
