//! IP protocol names and numbers (`tcp`, `ipv6-icmp`, `132`).

use super::ValueResult;
use super::numbers::c_number;

/// Protocol names as `/etc/protocols` (netbase) and iptables' built-in table
/// know them, lowercased (iptables lowercases `-p` arguments).
const PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("ip-encap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ipsec-esp", 50),
    ("ah", 51),
    ("ipsec-ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ospfigp", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

/// `-p` argument: a name, a number, or `all`. Protocol 0 matches every
/// protocol, so it yields `None`.
pub(crate) fn protocol(text: &str) -> ValueResult<Option<u8>> {
    // The names are lowercase, so comparing without case is lowercasing first.
    let number = match c_number(text, 255) {
        Some(n) => n as u8,
        // The usual spellings first.
        None if text == "tcp" => 6,
        None if text == "udp" => 17,
        None if text.eq_ignore_ascii_case("all") => 0,
        None => match PROTOCOLS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
        {
            Some((_, n)) => *n,
            None => {
                return Err(format!(
                    "unknown protocol `{text}`, expected a name such as tcp or udp, or a number 0-255"
                ));
            }
        },
    };
    Ok(if number == 0 { None } else { Some(number) })
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of (input, expected) cases
mod tests {
    use super::*;

    #[test]
    fn protocols_by_name_and_number() {
        let cases: &[(&str, Option<Option<u8>>)] = &[
            ("tcp", Some(Some(6))),
            ("UDP", Some(Some(17))),
            ("6", Some(Some(6))),
            ("0x6", Some(Some(6))),
            ("all", Some(None)),
            ("0", Some(None)),
            ("ip", Some(None)),
            ("IPv6-ICMP", Some(Some(58))),
            ("icmpv6", Some(Some(58))),
            ("mobility-header", Some(Some(135))),
            ("ipcomp", Some(Some(108))),
            ("ipip", Some(Some(94))),
            ("icmp6", None),
            ("256", None),
            ("tcpp", None),
        ];
        for (text, want) in cases {
            assert_eq!(protocol(text).ok(), *want, "{text}");
        }
    }
}
