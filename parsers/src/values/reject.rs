//! Reject kinds: how a rejected packet is answered (an ICMP error of some
//! code, or a TCP reset), by the names each format gives them.

use super::{ValueResult, starts_with_ignore_case};
use crate::model::{Family, RejectKind};

/// iptables' `--reject-with` argument of the family: a name or alias, possibly
/// abbreviated (the first in iptables' order wins), case-insensitive.
pub(crate) fn by_name(text: &str, family: Family) -> ValueResult<Option<RejectKind>> {
    use RejectKind::*;
    let table: &[(&str, &str, Option<RejectKind>)] = match family {
        Family::Ipv4 => &[
            (
                "icmp-net-unreachable",
                "net-unreach",
                Some(IcmpNetUnreachable),
            ),
            (
                "icmp-host-unreachable",
                "host-unreach",
                Some(IcmpHostUnreachable),
            ),
            (
                "icmp-proto-unreachable",
                "proto-unreach",
                Some(IcmpProtoUnreachable),
            ),
            (
                "icmp-port-unreachable",
                "port-unreach",
                Some(IcmpPortUnreachable),
            ),
            ("icmp-net-prohibited", "net-prohib", Some(IcmpNetProhibited)),
            (
                "icmp-host-prohibited",
                "host-prohib",
                Some(IcmpHostProhibited),
            ),
            ("tcp-reset", "tcp-rst", Some(TcpReset)),
            (
                "icmp-admin-prohibited",
                "admin-prohib",
                Some(IcmpAdminProhibited),
            ),
        ],
        Family::Ipv6 => &[
            ("icmp6-no-route", "no-route", Some(Icmp6NoRoute)),
            (
                "icmp6-adm-prohibited",
                "adm-prohibited",
                Some(Icmp6AdmProhibited),
            ),
            ("icmp6-not-neighbor", "not-neighbor", None),
            (
                "icmp6-addr-unreachable",
                "addr-unreach",
                Some(Icmp6AddrUnreachable),
            ),
            (
                "icmp6-port-unreachable",
                "port-unreach",
                Some(Icmp6PortUnreachable),
            ),
            ("tcp-reset", "tcp-reset", Some(TcpReset)),
            ("icmp6-policy-fail", "policy-fail", Some(Icmp6PolicyFail)),
            ("icmp6-reject-route", "reject-route", Some(Icmp6RejectRoute)),
        ],
    };
    let found = table.iter().find(|(name, alias, _)| {
        !text.is_empty()
            && (starts_with_ignore_case(name, text) || starts_with_ignore_case(alias, text))
    });
    match found {
        Some((_, _, Some(kind))) => Ok(Some(*kind)),
        // In ip6tables' table, but ip6tables-restore 1.8 (nf_tables) refuses
        // it (tests/kernel/FINDINGS.md): a file using it does not load.
        Some((name, _, None)) => Err(format!(
            "reject type `{name}` is not supported by ip6tables-restore, expected another --reject-with type"
        )),
        None => {
            let names: Vec<&str> = table
                .iter()
                .filter(|(_, _, k)| k.is_some())
                .map(|(n, _, _)| *n)
                .collect();
            Err(format!(
                "unknown reject type `{text}` for {}, expected one of {}",
                family.name(),
                names.join(", ")
            ))
        }
    }
}

/// The ICMP code of an IPv4 reject, by its name in the ICMP registry as nft
/// writes it (`port-unreachable`) or its number.
pub(crate) fn icmp_code(what: &str) -> Option<RejectKind> {
    use RejectKind::*;
    Some(match what {
        "net-unreachable" | "0" => IcmpNetUnreachable,
        "host-unreachable" | "1" => IcmpHostUnreachable,
        "prot-unreachable" | "2" => IcmpProtoUnreachable,
        "port-unreachable" | "3" => IcmpPortUnreachable,
        "net-prohibited" | "9" => IcmpNetProhibited,
        "host-prohibited" | "10" => IcmpHostProhibited,
        "admin-prohibited" | "13" => IcmpAdminProhibited,
        _ => return None,
    })
}

/// The ICMPv6 code of an IPv6 reject, by name or number (see [`icmp_code`]).
pub(crate) fn icmpv6_code(what: &str) -> Option<RejectKind> {
    use RejectKind::*;
    Some(match what {
        "no-route" | "0" => Icmp6NoRoute,
        "admin-prohibited" | "1" => Icmp6AdmProhibited,
        "addr-unreachable" | "3" => Icmp6AddrUnreachable,
        "port-unreachable" | "4" => Icmp6PortUnreachable,
        "policy-fail" | "5" => Icmp6PolicyFail,
        "reject-route" | "6" => Icmp6RejectRoute,
        _ => return None,
    })
}

/// nft's family-neutral `icmpx` codes: each stands for one ICMP code and
/// one ICMPv6 code, picked by the family of the packet.
pub(crate) fn icmpx_code(what: &str, family: Family) -> Option<RejectKind> {
    use RejectKind::*;
    let v4 = family == Family::Ipv4;
    Some(match (what, v4) {
        ("port-unreachable", true) => IcmpPortUnreachable,
        ("port-unreachable", false) => Icmp6PortUnreachable,
        ("admin-prohibited", true) => IcmpAdminProhibited,
        ("admin-prohibited", false) => Icmp6AdmProhibited,
        ("no-route", true) => IcmpNetUnreachable,
        ("no-route", false) => Icmp6NoRoute,
        ("host-unreachable", true) => IcmpHostUnreachable,
        ("host-unreachable", false) => Icmp6AddrUnreachable,
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of (input, expected) cases
mod tests {
    use super::*;

    #[test]
    fn reject_types_accept_aliases_and_abbreviations() {
        use RejectKind::*;
        let cases: &[(&str, Family, Option<Option<RejectKind>>)] = &[
            ("tcp-reset", Family::Ipv4, Some(Some(TcpReset))),
            ("tcp-rst", Family::Ipv4, Some(Some(TcpReset))),
            (
                "port-unreach",
                Family::Ipv4,
                Some(Some(IcmpPortUnreachable)),
            ),
            (
                "icmp-host-prohibited",
                Family::Ipv4,
                Some(Some(IcmpHostProhibited)),
            ),
            (
                "ICMP-HOST-PROHIBITED",
                Family::Ipv4,
                Some(Some(IcmpHostProhibited)),
            ),
            ("icmp-admin", Family::Ipv4, Some(Some(IcmpAdminProhibited))),
            (
                "icmp6-adm-prohibited",
                Family::Ipv6,
                Some(Some(Icmp6AdmProhibited)),
            ),
            ("icmp6-not-neighbor", Family::Ipv6, None),
            ("icmp6-no-route", Family::Ipv4, None),
            ("", Family::Ipv4, None),
            ("bogus", Family::Ipv6, None),
        ];
        for (text, family, want) in cases {
            assert_eq!(by_name(text, *family).ok(), *want, "{text}");
        }
    }
}
