//! firewalld's ICMP type names and the nft matches its nftables backend
//! writes for them (`ICMP_TYPES_FRAGMENTS` in nftables.py): a type, and a
//! code where the name means one code of a type.

/// IPv4: name, nft type, code.
const V4: &[(&str, &str, Option<u8>)] = &[
    (
        "communication-prohibited",
        "destination-unreachable",
        Some(13),
    ),
    ("destination-unreachable", "destination-unreachable", None),
    ("echo-reply", "echo-reply", None),
    ("echo-request", "echo-request", None),
    ("fragmentation-needed", "destination-unreachable", Some(4)),
    (
        "host-precedence-violation",
        "destination-unreachable",
        Some(14),
    ),
    ("host-prohibited", "destination-unreachable", Some(10)),
    ("host-redirect", "redirect", Some(1)),
    ("host-unknown", "destination-unreachable", Some(7)),
    ("host-unreachable", "destination-unreachable", Some(1)),
    ("ip-header-bad", "parameter-problem", Some(1)),
    ("network-prohibited", "destination-unreachable", Some(8)),
    ("network-redirect", "redirect", Some(0)),
    ("network-unknown", "destination-unreachable", Some(6)),
    ("network-unreachable", "destination-unreachable", Some(0)),
    ("parameter-problem", "parameter-problem", None),
    ("port-unreachable", "destination-unreachable", Some(3)),
    ("precedence-cutoff", "destination-unreachable", Some(15)),
    ("protocol-unreachable", "destination-unreachable", Some(2)),
    ("redirect", "redirect", None),
    ("required-option-missing", "parameter-problem", Some(1)),
    ("router-advertisement", "router-advertisement", None),
    ("router-solicitation", "router-solicitation", None),
    ("source-quench", "source-quench", None),
    ("source-route-failed", "destination-unreachable", Some(5)),
    ("time-exceeded", "time-exceeded", None),
    ("timestamp-reply", "timestamp-reply", None),
    ("timestamp-request", "timestamp-request", None),
    ("tos-host-redirect", "redirect", Some(3)),
    ("tos-host-unreachable", "destination-unreachable", Some(12)),
    ("tos-network-redirect", "redirect", Some(2)),
    (
        "tos-network-unreachable",
        "destination-unreachable",
        Some(11),
    ),
    ("ttl-zero-during-reassembly", "time-exceeded", Some(1)),
    ("ttl-zero-during-transit", "time-exceeded", Some(0)),
];

/// IPv6: name, nft type, code.
const V6: &[(&str, &str, Option<u8>)] = &[
    ("address-unreachable", "destination-unreachable", Some(3)),
    ("bad-header", "parameter-problem", Some(0)),
    ("beyond-scope", "destination-unreachable", Some(2)),
    (
        "communication-prohibited",
        "destination-unreachable",
        Some(1),
    ),
    ("destination-unreachable", "destination-unreachable", None),
    ("echo-reply", "echo-reply", None),
    ("echo-request", "echo-request", None),
    ("failed-policy", "destination-unreachable", Some(5)),
    ("neighbour-advertisement", "nd-neighbor-advert", None),
    ("neighbour-solicitation", "nd-neighbor-solicit", None),
    ("no-route", "destination-unreachable", Some(0)),
    ("packet-too-big", "packet-too-big", None),
    ("parameter-problem", "parameter-problem", None),
    ("port-unreachable", "destination-unreachable", Some(4)),
    ("redirect", "nd-redirect", None),
    ("reject-route", "destination-unreachable", Some(6)),
    ("router-advertisement", "nd-router-advert", None),
    ("router-solicitation", "nd-router-solicit", None),
    ("time-exceeded", "time-exceeded", None),
    ("ttl-zero-during-reassembly", "time-exceeded", Some(1)),
    ("ttl-zero-during-transit", "time-exceeded", Some(0)),
    ("unknown-header-type", "parameter-problem", Some(1)),
    ("unknown-option", "parameter-problem", Some(2)),
];

/// The nft match for an ICMP type name in one family, if the family has it.
pub(crate) fn fragment(name: &str, v6: bool) -> Option<String> {
    let (table, proto) = if v6 { (V6, "icmpv6") } else { (V4, "icmp") };
    let (_, t, code) = table.iter().find(|(n, _, _)| *n == name)?;
    Some(match code {
        Some(c) => format!("{proto} type {t} {proto} code {c}"),
        None => format!("{proto} type {t}"),
    })
}

/// The families the built-in table knows a name for: (IPv4, IPv6).
pub(crate) fn families(name: &str) -> (bool, bool) {
    (
        V4.iter().any(|(n, _, _)| *n == name),
        V6.iter().any(|(n, _, _)| *n == name),
    )
}
