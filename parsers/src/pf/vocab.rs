//! pf's own words: ICMP type and code names (pfctl's `icmp_type` and
//! `icmp_code` tables, which differ from iptables' and nft's) and the
//! names of state options.

const ICMP_TYPES: &[(&str, u8)] = &[
    ("echorep", 0),
    ("unreach", 3),
    ("squench", 4),
    ("redir", 5),
    ("althost", 6),
    ("echoreq", 8),
    ("routeradv", 9),
    ("routersol", 10),
    ("timex", 11),
    ("paramprob", 12),
    ("timereq", 13),
    ("timerep", 14),
    ("inforeq", 15),
    ("inforep", 16),
    ("maskreq", 17),
    ("maskrep", 18),
    ("trace", 30),
    ("dataconv", 31),
    ("mobredir", 32),
    ("ipv6-where", 33),
    ("ipv6-here", 34),
    ("mobregreq", 35),
    ("mobregrep", 36),
    ("skip", 39),
    ("photuris", 40),
];

const ICMP6_TYPES: &[(&str, u8)] = &[
    ("unreach", 1),
    ("toobig", 2),
    ("timex", 3),
    ("paramprob", 4),
    ("echoreq", 128),
    ("echorep", 129),
    ("groupqry", 130),
    ("listqry", 130),
    ("grouprep", 131),
    ("listenrep", 131),
    ("groupterm", 132),
    ("listendone", 132),
    ("routersol", 133),
    ("routeradv", 134),
    ("neighbrsol", 135),
    ("neighbradv", 136),
    ("redir", 137),
    ("routrrenum", 138),
    ("wrureq", 139),
    ("wrurep", 140),
    ("fqdnreq", 139),
    ("fqdnrep", 140),
    ("niqry", 139),
    ("nirep", 140),
    ("mtraceresp", 200),
    ("mtrace", 201),
];

const ICMP_CODES: &[(&str, u8)] = &[
    ("net-unr", 0),
    ("host-unr", 1),
    ("proto-unr", 2),
    ("port-unr", 3),
    ("needfrag", 4),
    ("srcfail", 5),
    ("net-unk", 6),
    ("host-unk", 7),
    ("isolate", 8),
    ("net-prohib", 9),
    ("host-prohib", 10),
    ("net-tos", 11),
    ("host-tos", 12),
    ("filter-prohib", 13),
    ("host-preced", 14),
    ("cutoff-preced", 15),
    ("redir-net", 0),
    ("redir-host", 1),
    ("redir-tos-net", 2),
    ("redir-tos-host", 3),
    ("normal-adv", 0),
    ("common-adv", 16),
    ("transit", 0),
    ("reassemb", 1),
    ("badhead", 0),
    ("optmiss", 1),
    ("badlen", 2),
    ("unknown-ind", 1),
    ("auth-fail", 2),
    ("decrypt-fail", 3),
];

const ICMP6_CODES: &[(&str, u8)] = &[
    ("admin-unr", 1),
    ("noroute-unr", 0),
    ("beyond-unr", 2),
    ("addr-unr", 3),
    ("port-unr", 4),
    ("transit", 0),
    ("reassemb", 1),
    ("badhead", 0),
    ("nxthdr", 1),
    ("redironlink", 0),
    ("redirrouter", 1),
];

fn by_name(table: &[(&str, u8)], text: &str) -> Option<u8> {
    match crate::values::numbers::c_number(text, 255) {
        Some(n) => u8::try_from(n).ok(),
        None => table.iter().find(|(n, _)| *n == text).map(|(_, v)| *v),
    }
}

/// An `icmp-type`/`icmp6-type` value: a name or a number.
pub(crate) fn icmp_type(text: &str, v6: bool) -> Option<u8> {
    by_name(if v6 { ICMP6_TYPES } else { ICMP_TYPES }, text)
}

/// A `code` value: a name or a number.
pub(crate) fn icmp_code(text: &str, v6: bool) -> Option<u8> {
    by_name(if v6 { ICMP6_CODES } else { ICMP_CODES }, text)
}

/// The options of `keep state (...)` and `set state-defaults`, timeouts included.
pub(crate) fn is_state_option(name: &str) -> bool {
    matches!(
        name,
        "max"
            | "no-sync"
            | "pflow"
            | "sloppy"
            | "source-track"
            | "max-src-nodes"
            | "max-src-states"
            | "max-src-conn"
            | "max-src-conn-rate"
            | "overload"
            | "if-bound"
            | "floating"
            | "allow-related"
            | "frag"
            | "interval"
            | "src.track"
            | "adaptive.start"
            | "adaptive.end"
    ) || ["tcp.", "udp.", "icmp.", "other.", "sctp."]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Services in the BSDs' /etc/services that the shared table lacks: pfctl
/// resolves port names there, so an OpenBSD ruleset may use them.
const BSD_SERVICES: &[(&str, u16)] = &[
    ("spamd", 8025),
    ("spamd-sync", 8025),
    ("spamd-cfg", 8026),
    ("matter", 5540),
    ("ssdp", 1900),
    ("l2tp", 1701),
    ("pptp", 1723),
    ("pf-status", 8026),
    ("mdns", 5353),
    ("wireguard", 51820),
    ("afs3-fileserver", 7000),
];

/// A port name of [`BSD_SERVICES`].
pub(crate) fn bsd_service(name: &str) -> Option<u16> {
    BSD_SERVICES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_names_and_numbers() {
        let cases: &[(&str, bool, Option<u8>)] = &[
            ("echoreq", false, Some(8)),
            ("echoreq", true, Some(128)),
            ("neighbrsol", true, Some(135)),
            ("neighbrsol", false, None),
            ("3", false, Some(3)),
            ("256", false, None),
            ("echo-request", false, None),
        ];
        for (text, v6, want) in cases {
            assert_eq!(icmp_type(text, *v6), *want, "{text} {v6}");
        }
        assert_eq!(icmp_code("port-unr", false), Some(3));
        assert_eq!(icmp_code("port-unr", true), Some(4));
        assert_eq!(icmp_code("nope", true), None);
    }
}
