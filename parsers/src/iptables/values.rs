//! Argument values: protocols, addresses, ports, interfaces, states.
//! Each returns a message saying what was expected when the value is bad.

use crate::model::{CtStates, Family, PortRange, RejectKind};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) type ValueResult<T> = Result<T, String>;

/// `-p` argument: a name, a number, or `all` (which matches every protocol,
/// so yields `None`).
pub(crate) fn protocol(text: &str) -> ValueResult<Option<u8>> {
    let lower = text.to_ascii_lowercase();
    let number = match lower.as_str() {
        "all" | "0" => return Ok(None),
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" | "icmp6" => 58,
        "ipv6-nonxt" => 59,
        "ospf" | "ospfigp" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => 132,
        "mh" | "ipv6-mh" => 135,
        "udplite" => 136,
        "dccp" => 33,
        "ipip" | "ipencap" => 4,
        "ipv6" => 41,
        "ipv6-route" => 43,
        "ipv6-frag" => 44,
        "ipv6-opts" => 60,
        "hopopt" => 0,
        "egp" => 8,
        "rsvp" => 46,
        "encap" => 98,
        "carp" => 112,
        other => match other.parse::<u16>() {
            Ok(n) if n <= 255 => n as u8,
            _ => return Err(format!("unknown protocol `{text}`, expected a name such as tcp or udp, or a number 0-255")),
        },
    };
    Ok(Some(number))
}

/// One port or service name.
pub(crate) fn port(text: &str) -> ValueResult<u16> {
    if let Ok(n) = text.parse::<u32>() {
        return u16::try_from(n).map_err(|_| format!("port {text} is out of range, expected 0-65535"));
    }
    crate::services::port_of(text).ok_or_else(|| format!("unknown port or service name `{text}`, expected a number 0-65535"))
}

/// `--sport`/`--dport` argument: `p`, `a:b`, `:b` or `a:`.
pub(crate) fn port_range(text: &str) -> ValueResult<PortRange> {
    let range = match text.split_once(':') {
        None => PortRange::single(port(text)?),
        Some((a, b)) => {
            let start = if a.is_empty() { 0 } else { port(a)? };
            let end = if b.is_empty() { 65535 } else { port(b)? };
            PortRange { start, end }
        }
    };
    if range.start > range.end {
        return Err(format!("port range {text} is reversed, expected start <= end"));
    }
    Ok(range)
}

/// multiport list: up to 15 ports, a range counting as two.
pub(crate) fn port_list(text: &str) -> ValueResult<Vec<PortRange>> {
    let mut out = Vec::new();
    let mut slots = 0;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("empty item in port list `{text}`"));
        }
        let range = port_range(item)?;
        slots += if item.contains(':') { 2 } else { 1 };
        out.push(range);
    }
    if slots > 15 {
        return Err(format!("too many ports in `{text}`, multiport takes at most 15 (a range counts as two)"));
    }
    Ok(out)
}

/// One `-s`/`-d` item: an address, `addr/len` or `addr/netmask`, of the family.
/// `Ok(None)` means a valid but non-contiguous netmask, which no CIDR can hold.
pub(crate) fn network(text: &str, family: Family) -> ValueResult<Option<IpNet>> {
    let (addr, mask) = match text.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    match family {
        Family::Ipv4 => {
            let a: Ipv4Addr = addr
                .parse()
                .map_err(|_| format!("`{addr}` is not an IPv4 address (hostnames are not resolved; write the address)"))?;
            let len = match mask {
                None => 32,
                Some(m) if m.contains('.') => {
                    let m: Ipv4Addr = m.parse().map_err(|_| format!("`{m}` is not a netmask"))?;
                    let bits = u32::from(m);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Ok(None);
                    }
                    bits.leading_ones() as u8
                }
                Some(m) => m.parse::<u8>().ok().filter(|n| *n <= 32).ok_or_else(|| format!("prefix length `{m}` is invalid, expected 0-32"))?,
            };
            Ok(Ipv4Net::new(a, len).ok().map(|n| IpNet::V4(n.trunc())))
        }
        Family::Ipv6 => {
            let a: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("`{addr}` is not an IPv6 address (hostnames are not resolved; write the address)"))?;
            let len = match mask {
                None => 128,
                Some(m) if m.contains(':') => {
                    let m: Ipv6Addr = m.parse().map_err(|_| format!("`{m}` is not a netmask"))?;
                    let bits = u128::from(m);
                    if bits.leading_ones() + bits.trailing_zeros() != 128 {
                        return Ok(None);
                    }
                    bits.leading_ones() as u8
                }
                Some(m) => m.parse::<u8>().ok().filter(|n| *n <= 128).ok_or_else(|| format!("prefix length `{m}` is invalid, expected 0-128"))?,
            };
            Ok(Ipv6Net::new(a, len).ok().map(|n| IpNet::V6(n.trunc())))
        }
    }
}

/// `a.b.c.d-e.f.g.h` (iprange) of the family.
pub(crate) fn address_range(text: &str, family: Family) -> ValueResult<(IpAddr, IpAddr)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let parse = |s: &str| -> ValueResult<IpAddr> {
        let ip: IpAddr = s.parse().map_err(|_| format!("`{s}` is not an address"))?;
        match (family, ip) {
            (Family::Ipv4, IpAddr::V4(_)) | (Family::Ipv6, IpAddr::V6(_)) => Ok(ip),
            _ => Err(format!("`{s}` is not an {} address", family.name())),
        }
    };
    let (start, end) = (parse(a)?, parse(b)?);
    if start > end {
        return Err(format!("address range {text} is reversed"));
    }
    Ok((start, end))
}

/// `--ctstate`/`--state` list.
pub(crate) fn ct_states(text: &str) -> ValueResult<CtStates> {
    let mut states = CtStates::default();
    for item in text.split(',') {
        let s = match item.to_ascii_uppercase().as_str() {
            "NEW" => CtStates::NEW,
            "ESTABLISHED" => CtStates::ESTABLISHED,
            "RELATED" => CtStates::RELATED,
            "INVALID" => CtStates::INVALID,
            "UNTRACKED" => CtStates::UNTRACKED,
            // SNAT and DNAT are conntrack "virtual states" we do not model.
            _ => return Err(format!("unknown connection state `{item}`, expected NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED")),
        };
        states = states.union(s);
    }
    Ok(states)
}

/// `--tcp-flags` mask or comparison list.
pub(crate) fn tcp_flag_list(text: &str) -> ValueResult<u8> {
    use crate::model::tcp_flags::*;
    let mut bits = 0u8;
    for item in text.split(',') {
        bits |= match item.to_ascii_uppercase().as_str() {
            "FIN" => FIN,
            "SYN" => SYN,
            "RST" => RST,
            "PSH" => PSH,
            "ACK" => ACK,
            "URG" => URG,
            "ECE" => ECE,
            "CWR" => CWR,
            "ALL" => 0xff,
            "NONE" => 0,
            _ => return Err(format!("unknown tcp flag `{item}`, expected FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, ALL or NONE")),
        };
    }
    Ok(bits)
}

/// `--reject-with` argument of the family.
pub(crate) fn reject_kind(text: &str, family: Family) -> ValueResult<RejectKind> {
    use RejectKind::*;
    let kind = match (family, text) {
        (_, "tcp-reset" | "tcp-rst") => TcpReset,
        (Family::Ipv4, "icmp-net-unreachable" | "net-unreach") => IcmpNetUnreachable,
        (Family::Ipv4, "icmp-host-unreachable" | "host-unreach") => IcmpHostUnreachable,
        (Family::Ipv4, "icmp-port-unreachable" | "port-unreach") => IcmpPortUnreachable,
        (Family::Ipv4, "icmp-proto-unreachable" | "proto-unreach") => IcmpProtoUnreachable,
        (Family::Ipv4, "icmp-net-prohibited" | "net-prohib") => IcmpNetProhibited,
        (Family::Ipv4, "icmp-host-prohibited" | "host-prohib") => IcmpHostProhibited,
        (Family::Ipv4, "icmp-admin-prohibited" | "admin-prohib") => IcmpAdminProhibited,
        (Family::Ipv6, "icmp6-no-route" | "no-route") => Icmp6NoRoute,
        (Family::Ipv6, "icmp6-adm-prohibited" | "adm-prohibited") => Icmp6AdmProhibited,
        (Family::Ipv6, "icmp6-addr-unreachable" | "addr-unreach") => Icmp6AddrUnreachable,
        (Family::Ipv6, "icmp6-port-unreachable" | "port-unreach") => Icmp6PortUnreachable,
        (Family::Ipv6, "icmp6-policy-fail" | "policy-fail") => Icmp6PolicyFail,
        (Family::Ipv6, "icmp6-reject-route" | "reject-route") => Icmp6RejectRoute,
        _ => return Err(format!("unknown reject type `{text}` for {}", family.name())),
    };
    Ok(kind)
}

/// NAT `--to-destination`/`--to-source`: `[addr[-addr]][:port[-port]]`.
pub(crate) fn nat_target(text: &str, family: Family) -> ValueResult<(Option<(IpAddr, IpAddr)>, Option<PortRange>)> {
    // IPv6 addresses with ports are written `[addr]:port`.
    let (addr_part, port_part) = if let Some(rest) = text.strip_prefix('[') {
        let (a, p) = rest.split_once(']').ok_or_else(|| format!("`{text}` lacks the closing `]`"))?;
        (a, p.strip_prefix(':'))
    } else if family == Family::Ipv6 {
        (text, None)
    } else {
        match text.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        }
    };
    let addr = if addr_part.is_empty() { None } else { Some(address_range(addr_part, family)?) };
    let ports = match port_part {
        None => None,
        Some(p) => Some(nat_ports(p)?),
    };
    Ok((addr, ports))
}

/// `--to-ports p[-q]`.
pub(crate) fn nat_ports(text: &str) -> ValueResult<PortRange> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let start = a.parse::<u16>().map_err(|_| format!("`{a}` is not a port"))?;
    let end = b.parse::<u16>().map_err(|_| format!("`{b}` is not a port"))?;
    if start > end {
        return Err(format!("port range {text} is reversed"));
    }
    Ok(PortRange { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        let cases: &[(&str, Option<(u16, u16)>)] = &[
            ("22", Some((22, 22))),
            ("ssh", Some((22, 22))),
            ("1024:", Some((1024, 65535))),
            (":1023", Some((0, 1023))),
            ("80:88", Some((80, 88))),
            ("4:3", None),
            ("65536", None),
            ("nosuchservice", None),
        ];
        for (text, want) in cases {
            let got = port_range(text).ok().map(|r| (r.start, r.end));
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn networks_truncate_and_accept_dotted_masks() {
        let n = |t: &str| network(t, Family::Ipv4).map(|o| o.map(|n| n.to_string()));
        assert_eq!(n("10.1.2.3/8"), Ok(Some("10.0.0.0/8".into())));
        assert_eq!(n("10.1.2.3/255.255.0.0"), Ok(Some("10.1.0.0/16".into())));
        assert_eq!(n("10.1.2.3"), Ok(Some("10.1.2.3/32".into())));
        assert_eq!(n("10.1.2.3/0.0.255.0"), Ok(None));
        assert!(n("10.1.2.3/33").is_err());
        assert!(n("example.com").is_err());
        assert_eq!(network("2001:db8::1/32", Family::Ipv6).unwrap().unwrap().to_string(), "2001:db8::/32");
    }

    #[test]
    fn protocols_by_name_and_number() {
        assert_eq!(protocol("tcp"), Ok(Some(6)));
        assert_eq!(protocol("UDP"), Ok(Some(17)));
        assert_eq!(protocol("6"), Ok(Some(6)));
        assert_eq!(protocol("all"), Ok(None));
        assert!(protocol("256").is_err());
        assert!(protocol("tcpp").is_err());
    }

    #[test]
    fn multiport_limits() {
        assert_eq!(port_list("80,443,8000:8080").unwrap().len(), 3);
        assert!(port_list("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16").is_err());
        assert!(port_list("80,,81").is_err());
    }

    #[test]
    fn nat_targets() {
        let (a, p) = nat_target("10.0.0.1:8080", Family::Ipv4).unwrap();
        assert_eq!(a.unwrap().0.to_string(), "10.0.0.1");
        assert_eq!(p, Some(PortRange { start: 8080, end: 8080 }));
        let (a, p) = nat_target("[2001:db8::1]:80-90", Family::Ipv6).unwrap();
        assert!(a.is_some());
        assert_eq!(p, Some(PortRange { start: 80, end: 90 }));
        assert!(nat_target("10.0.0.1:90-80", Family::Ipv4).is_err());
    }
}
