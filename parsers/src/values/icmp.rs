//! ICMP and ICMPv6 type names with their type numbers and code ranges.

use super::numbers::c_number;
use super::{ValueResult, starts_with_ignore_case};

/// An ICMP or ICMPv6 type name with its type and code range.
struct IcmpName {
    name: &'static str,
    kind: u8,
    codes: (u8, u8),
}

const fn icmp(name: &'static str, kind: u8, lo: u8, hi: u8) -> IcmpName {
    IcmpName {
        name,
        kind,
        codes: (lo, hi),
    }
}

/// The names iptables' icmp match knows (RFC 792 and friends).
const ICMP_NAMES: &[IcmpName] = &[
    icmp("any", 0xFF, 0, 0xFF),
    icmp("echo-reply", 0, 0, 0xFF),
    icmp("pong", 0, 0, 0xFF),
    icmp("destination-unreachable", 3, 0, 0xFF),
    icmp("network-unreachable", 3, 0, 0),
    icmp("host-unreachable", 3, 1, 1),
    icmp("protocol-unreachable", 3, 2, 2),
    icmp("port-unreachable", 3, 3, 3),
    icmp("fragmentation-needed", 3, 4, 4),
    icmp("source-route-failed", 3, 5, 5),
    icmp("network-unknown", 3, 6, 6),
    icmp("host-unknown", 3, 7, 7),
    icmp("network-prohibited", 3, 9, 9),
    icmp("host-prohibited", 3, 10, 10),
    icmp("TOS-network-unreachable", 3, 11, 11),
    icmp("TOS-host-unreachable", 3, 12, 12),
    icmp("communication-prohibited", 3, 13, 13),
    icmp("host-precedence-violation", 3, 14, 14),
    icmp("precedence-cutoff", 3, 15, 15),
    icmp("source-quench", 4, 0, 0xFF),
    icmp("redirect", 5, 0, 0xFF),
    icmp("network-redirect", 5, 0, 0),
    icmp("host-redirect", 5, 1, 1),
    icmp("TOS-network-redirect", 5, 2, 2),
    icmp("TOS-host-redirect", 5, 3, 3),
    icmp("echo-request", 8, 0, 0xFF),
    icmp("ping", 8, 0, 0xFF),
    icmp("router-advertisement", 9, 0, 0xFF),
    icmp("router-solicitation", 10, 0, 0xFF),
    icmp("time-exceeded", 11, 0, 0xFF),
    icmp("ttl-exceeded", 11, 0, 0xFF),
    icmp("ttl-zero-during-transit", 11, 0, 0),
    icmp("ttl-zero-during-reassembly", 11, 1, 1),
    icmp("parameter-problem", 12, 0, 0xFF),
    icmp("ip-header-bad", 12, 0, 0),
    icmp("required-option-missing", 12, 1, 1),
    icmp("timestamp-request", 13, 0, 0xFF),
    icmp("timestamp-reply", 14, 0, 0xFF),
    icmp("info-request", 15, 0, 0xFF),
    icmp("info-reply", 16, 0, 0xFF),
    icmp("address-mask-request", 17, 0, 0xFF),
    icmp("address-mask-reply", 18, 0, 0xFF),
];

/// The names iptables' icmp6 match knows (RFC 4443, 4861, 2710).
const ICMPV6_NAMES: &[IcmpName] = &[
    icmp("destination-unreachable", 1, 0, 0xFF),
    icmp("no-route", 1, 0, 0),
    icmp("communication-prohibited", 1, 1, 1),
    icmp("beyond-scope", 1, 2, 2),
    icmp("address-unreachable", 1, 3, 3),
    icmp("port-unreachable", 1, 4, 4),
    icmp("failed-policy", 1, 5, 5),
    icmp("reject-route", 1, 6, 6),
    icmp("packet-too-big", 2, 0, 0xFF),
    icmp("time-exceeded", 3, 0, 0xFF),
    icmp("ttl-exceeded", 3, 0, 0xFF),
    icmp("ttl-zero-during-transit", 3, 0, 0),
    icmp("ttl-zero-during-reassembly", 3, 1, 1),
    icmp("parameter-problem", 4, 0, 0xFF),
    icmp("bad-header", 4, 0, 0),
    icmp("unknown-header-type", 4, 1, 1),
    icmp("unknown-option", 4, 2, 2),
    icmp("echo-request", 128, 0, 0xFF),
    icmp("ping", 128, 0, 0xFF),
    icmp("echo-reply", 129, 0, 0xFF),
    icmp("pong", 129, 0, 0xFF),
    icmp("mld-listener-query", 130, 0, 0xFF),
    icmp("mld-listener-report", 131, 0, 0xFF),
    icmp("mld-listener-done", 132, 0, 0xFF),
    icmp("mld-listener-reduction", 132, 0, 0xFF),
    icmp("router-solicitation", 133, 0, 0xFF),
    icmp("router-advertisement", 134, 0, 0xFF),
    icmp("neighbour-solicitation", 135, 0, 0xFF),
    icmp("neighbor-solicitation", 135, 0, 0xFF),
    icmp("neighbour-advertisement", 136, 0, 0xFF),
    icmp("neighbor-advertisement", 136, 0, 0xFF),
    icmp("redirect", 137, 0, 0xFF),
];

/// The type of a full ICMP (or ICMPv6) type name, for formats that do not
/// abbreviate. No name begins another (a test says so), so this is the type
/// [`icmp_type`] gives for the name, without its search for abbreviations.
pub(crate) fn icmp_name_type(name: &str, v6: bool) -> Option<u8> {
    (if v6 { ICMPV6_NAMES } else { ICMP_NAMES })
        .iter()
        .find(|n| n.name == name)
        .map(|n| n.kind)
}

/// An ICMP type as `--icmp-type`/`--icmpv6-type` gives it: a name (which may
/// be abbreviated if that is unambiguous), `type`, or `type/code`. Returns
/// the type and the code range.
pub(crate) fn icmp_type(text: &str, v6: bool) -> ValueResult<(u8, (u8, u8))> {
    let (names, what) = if v6 {
        (ICMPV6_NAMES, "icmpv6")
    } else {
        (ICMP_NAMES, "icmp")
    };
    let mut found: Option<&IcmpName> = None;
    // No name starts with a digit: skip the names for the usual `8` or `3/4`.
    let maybe_name = !text.is_empty() && !text.starts_with(|c: char| c.is_ascii_digit());
    for n in names
        .iter()
        .filter(|n| maybe_name && starts_with_ignore_case(n.name, text))
    {
        if let Some(first) = found {
            return Err(format!(
                "ambiguous {what} type `{text}`: `{}` or `{}`",
                first.name, n.name
            ));
        }
        found = Some(n);
    }
    if let Some(n) = found {
        return Ok((n.kind, n.codes));
    }
    let bad = || {
        format!(
            "unknown {what} type `{text}`, expected a name such as echo-request, a number 0-255 or `type/code`"
        )
    };
    let (kind, code) = match text.split_once('/') {
        Some((k, c)) => (k, Some(c)),
        None => (text, None),
    };
    let kind = c_number(kind, 255).ok_or_else(bad)? as u8;
    let codes = match code {
        None => (0, 0xFF),
        Some(c) => match c.split_once(':') {
            None => {
                let c = c_number(c, 255).ok_or_else(bad)? as u8;
                (c, c)
            }
            Some((lo, hi)) => (
                c_number(lo, 255).ok_or_else(bad)? as u8,
                c_number(hi, 255).ok_or_else(bad)? as u8,
            ),
        },
    };
    Ok((kind, codes))
}

/// ICMPv6 type names as nft writes them, where they differ from ip6tables'.
const NFT_ICMPV6_NAMES: &[(&str, u8)] = &[
    ("mld-listener-query", 130),
    ("mld-listener-report", 131),
    ("mld-listener-done", 132),
    ("mld-listener-reduction", 132),
    ("nd-router-solicit", 133),
    ("nd-router-advert", 134),
    ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136),
    ("nd-redirect", 137),
    ("router-renumbering", 138),
    ("ind-neighbor-solicit", 141),
    ("ind-neighbor-advert", 142),
    ("mld2-listener-report", 143),
];

/// The type of an ICMPv6 type name nft writes its own way (`nd-router-advert`
/// for ip6tables' `router-advertisement`).
pub(crate) fn nft_icmpv6_name_type(name: &str) -> Option<u8> {
    NFT_ICMPV6_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of (input, expected) cases
mod tests {
    use super::*;

    #[test]
    fn no_icmp_name_begins_another() {
        for names in [ICMP_NAMES, ICMPV6_NAMES] {
            for a in names {
                assert!(
                    !names
                        .iter()
                        .any(|b| b.name != a.name && starts_with_ignore_case(b.name, a.name)),
                    "{} begins another name",
                    a.name
                );
            }
        }
    }

    #[test]
    fn icmp_types_by_name_number_and_code() {
        let cases: &[(&str, bool, Option<(u8, (u8, u8))>)] = &[
            ("any", false, Some((255, (0, 255)))),
            ("echo-request", false, Some((8, (0, 255)))),
            ("echo-req", false, Some((8, (0, 255)))),
            ("PING", false, Some((8, (0, 255)))),
            ("port-unreachable", false, Some((3, (3, 3)))),
            ("8", false, Some((8, (0, 255)))),
            ("3/4", false, Some((3, (4, 4)))),
            ("255/0:255", false, Some((255, (0, 255)))),
            ("echo", false, None),
            ("256", false, None),
            ("3/x", false, None),
            ("bogus", false, None),
            ("mld-listener-reduction", true, Some((132, (0, 255)))),
            ("1/0", true, Some((1, (0, 0)))),
            ("no-route", true, Some((1, (0, 0)))),
            ("no-route", false, None),
        ];
        for (text, v6, want) in cases {
            assert_eq!(icmp_type(text, *v6).ok(), *want, "{text} v6={v6}");
        }
    }
}
