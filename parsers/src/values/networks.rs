//! Networks from address text: the plain IPv4 reader for the addresses
//! nearly every ruleset is made of, and inclusive address ranges as the
//! prefixes that cover them.

use ipnet::IpNet;
use std::net::IpAddr;

/// `a.b.c.d` or `a.b.c.d/n` written the plain way (no leading zeros), the
/// form nearly every address in a ruleset has, read without the general
/// parser; `None` for anything else, which the general parser then reads.
#[inline]
pub(crate) fn plain_ipv4_net(text: &str) -> Option<IpNet> {
    // One pass over the bytes: the four octets, then the prefix length. Each
    // number has 1 to 3 digits and no leading zero.
    let mut octets = [0u8; 4];
    let (mut part, mut n, mut digits) = (0, 0u32, 0);
    for &b in text.as_bytes() {
        if b.is_ascii_digit() {
            if digits == 3 || (digits == 1 && n == 0) {
                return None;
            }
            n = n * 10 + u32::from(b - b'0');
            digits += 1;
        } else if ((b == b'.' && part < 3) || (b == b'/' && part == 3)) && digits > 0 && n <= 255 {
            octets[part] = n as u8;
            (part, n, digits) = (part + 1, 0, 0);
        } else {
            return None;
        }
    }
    let prefix = match part {
        3 if n <= 255 => {
            octets[3] = n as u8;
            32
        }
        4 if n <= 32 => n,
        _ => return None,
    };
    if digits == 0 {
        return None;
    }
    ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(octets), prefix as u8)
        .ok()
        .map(|n| IpNet::V4(n.trunc()))
}

/// The prefixes that exactly cover an inclusive address range.
pub(crate) fn range_to_nets(lo: IpAddr, hi: IpAddr) -> Option<Vec<IpNet>> {
    let (mut a, b, bits) = match (lo, hi) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (u32::from(x) as u128, u32::from(y) as u128, 32u32),
        (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(x), u128::from(y), 128u32),
        _ => return None,
    };
    if a > b {
        return None;
    }
    let block_end = |a: u128, size: u32| {
        if size >= 128 {
            u128::MAX
        } else {
            a + ((1u128 << size) - 1)
        }
    };
    let mut out = Vec::new();
    loop {
        // The largest block aligned at `a` that stays within `b`; aligned,
        // so its end cannot overflow the family's width.
        let mut size = if a == 0 {
            bits
        } else {
            a.trailing_zeros().min(bits)
        };
        while size > 0 && block_end(a, size) > b {
            size -= 1;
        }
        let prefix = (bits - size) as u8;
        let net = if bits == 32 {
            IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(a as u32), prefix).ok()?)
        } else {
            IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(a), prefix).ok()?)
        };
        out.push(net);
        let end = block_end(a, size);
        if end >= b {
            return Some(out);
        }
        a = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_ranges_become_exact_prefixes() {
        let nets = |a: &str, b: &str| {
            range_to_nets(a.parse().unwrap(), b.parse().unwrap())
                .unwrap()
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(nets("10.0.0.0", "10.0.0.255"), vec!["10.0.0.0/24"]);
        assert_eq!(
            nets("10.0.0.1", "10.0.0.6"),
            vec!["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(nets("0.0.0.0", "255.255.255.255"), vec!["0.0.0.0/0"]);
        assert_eq!(
            nets("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            vec!["::/0"]
        );
        assert_eq!(nets("2001:db8::", "2001:db8::1"), vec!["2001:db8::/127"]);
        assert!(range_to_nets("10.0.0.2".parse().unwrap(), "10.0.0.1".parse().unwrap()).is_none());
    }

    #[test]
    fn plain_ipv4_networks_read_as_the_general_parser_reads_them() {
        for text in [
            "10.0.0.0/8",
            "10.1.2.3/8",
            "192.168.1.1",
            "0.0.0.0/0",
            "255.255.255.255/32",
            "1.2.3.4/31",
        ] {
            let general = text
                .parse::<IpNet>()
                .map(|n| n.trunc())
                .unwrap_or_else(|_| IpNet::from(text.parse::<IpAddr>().unwrap()));
            assert_eq!(plain_ipv4_net(text), Some(general), "{text}");
        }
        // Left to the general parser.
        for text in [
            "010.0.0.1",
            "1.2.3.4/33",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.4/08",
            "::1",
            "1.2.3.4/",
            "a.b.c.d",
            "1.2.3.-4",
        ] {
            assert_eq!(plain_ipv4_net(text), None, "{text}");
        }
    }
}
