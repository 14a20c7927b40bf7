//! Argument values only iptables writes: numbers, addresses, ports, states,
//! NAT ranges. Each reads its text the way iptables 1.8 does (so `010` is
//! octal where iptables uses `strtoul(.., 0)`) and returns a message saying
//! what was expected when the value is bad. Protocols, ICMP types and reject
//! kinds, which nftables names the same way, are read by [`crate::values`].

use crate::model::{CtStates, Family, PortRange};
pub(crate) use crate::values::ValueResult;
use crate::values::numbers::{c_number, c_number_prefix};
use crate::values::starts_with_ignore_case;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::scan::count_byte;
pub(crate) use super::scan::{split_ascii, split_once_ascii};

fn contains_ascii(text: &str, b: u8) -> bool {
    text.bytes().any(|c| c == b)
}

/// A whole-text decimal number up to `max` (no sign, no leading blanks).
fn decimal(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|v| *v <= max)
}

/// An unsigned 32-bit option value (`--nflog-size`, `--set-mark`, ...).
pub(crate) fn u32_value(text: &str) -> ValueResult<u32> {
    c_number(text, u64::from(u32::MAX))
        .map(|v| v as u32)
        .ok_or_else(|| format!("`{text}` is not a number from 0 to 4294967295"))
}

/// An unsigned 16-bit option value (`--nflog-group`, `--zone`, ...).
pub(crate) fn u16_value(text: &str) -> ValueResult<u16> {
    c_number(text, u64::from(u16::MAX))
        .map(|v| v as u16)
        .ok_or_else(|| format!("`{text}` is not a number from 0 to 65535"))
}

/// `value[/mask]`, both 32-bit (`--set-xmark`, `--set-mark`).
pub(crate) fn mark_mask(text: &str) -> ValueResult<(u32, Option<u32>)> {
    let (value, mask) = match text.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (text, None),
    };
    Ok((u32_value(value)?, mask.map(u32_value).transpose()?))
}

/// `a[:b]` of unsigned 32-bit numbers (`--ctexpire`): an empty end means 0
/// or the maximum, and the end may not be below the start.
pub(crate) fn u32_range(text: &str) -> ValueResult<(u32, u32)> {
    let bad = || format!("`{text}` is not a number or range `a:b` of numbers from 0 to 4294967295");
    let (a, b) = match text.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let start = if a.is_empty() {
        0
    } else {
        c_number(a, u64::from(u32::MAX)).ok_or_else(bad)? as u32
    };
    let end = match b {
        None => start,
        Some("") => u32::MAX,
        Some(b) => c_number(b, u64::from(u32::MAX)).ok_or_else(bad)? as u32,
    };
    if start > end {
        return Err(format!("range `{text}` is reversed, expected start <= end"));
    }
    Ok((start, end))
}

/// The name iptables loads as the implicit match of a protocol (`-p tcp
/// --dport 22` loads `tcp`), if it has one.
pub(crate) fn protocol_module(protocol: u8, family: Family) -> Option<&'static str> {
    Some(match (protocol, family) {
        (6, _) => "tcp",
        (17, _) => "udp",
        (132, _) => "sctp",
        (33, _) => "dccp",
        (1, Family::Ipv4) => "icmp",
        (58, Family::Ipv6) => "icmp6",
        (135, Family::Ipv6) => "mh",
        (50, _) => "esp",
        (51, _) => "ah",
        _ => return None,
    })
}

/// How a module reads a port: `tcp`, `sctp` and `multiport` take C numbers
/// (`0x16`, `010`), `udp`, `dccp` and `conntrack` decimal ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortStyle {
    CNumber,
    Decimal,
}

/// A port written as iptables-save writes it: decimal digits without a
/// leading zero (or `0`). Both styles read it the same way.
fn plain_port(text: &str) -> Option<u16> {
    match text.as_bytes() {
        [b'0'] => Some(0),
        digits @ [b'1'..=b'9', ..] if digits.len() <= 5 => {
            let mut value: u32 = 0;
            for b in digits {
                if !b.is_ascii_digit() {
                    return None;
                }
                value = value * 10 + u32::from(b - b'0');
            }
            u16::try_from(value).ok()
        }
        _ => None,
    }
}

/// One port or service name.
pub(crate) fn port(text: &str, style: PortStyle) -> ValueResult<u16> {
    if let Some(p) = plain_port(text) {
        return Ok(p);
    }
    let number = match style {
        PortStyle::CNumber => c_number(text, 65535),
        PortStyle::Decimal => decimal(text, 65535),
    };
    if let Some(n) = number {
        return Ok(n as u16);
    }
    crate::services::port_of(text).ok_or_else(|| {
        format!(
            "unknown port or service name `{text}`, expected a number 0-65535 or a name such as ssh"
        )
    })
}

/// `--sport`/`--dport` argument: `p`, `a:b`, `:b`, `a:` or `:`.
pub(crate) fn port_range(text: &str, style: PortStyle) -> ValueResult<PortRange> {
    let range = match split_once_ascii(text, b':') {
        None => PortRange::single(port(text, style)?),
        Some((_, b)) if contains_ascii(b, b':') => {
            return Err(format!(
                "port range `{text}` has more than two parts, expected `first:last`"
            ));
        }
        Some((a, b)) => {
            let start = if a.is_empty() { 0 } else { port(a, style)? };
            let end = if b.is_empty() { 65535 } else { port(b, style)? };
            PortRange { start, end }
        }
    };
    if range.start > range.end {
        return Err(format!(
            "port range `{text}` is reversed, expected start <= end"
        ));
    }
    Ok(range)
}

/// A multiport list of plain ports and ranges that is valid as it stands,
/// read in one pass; `None` for anything else, which [`port_list`] reads
/// the general way (and so words the error).
fn plain_port_list(text: &str) -> Option<Vec<PortRange>> {
    let mut out = Vec::with_capacity(1 + count_byte(text.as_bytes(), b','));
    let mut slots = 0usize;
    for item in split_ascii(text, b',') {
        let range = match split_once_ascii(item, b':') {
            None => PortRange::single(plain_port(item)?),
            Some((a, b)) => {
                let (start, end) = (plain_port(a)?, plain_port(b)?);
                if start >= end {
                    return None;
                }
                slots += 1;
                PortRange { start, end }
            }
        };
        slots += 1;
        out.push(range);
    }
    (slots <= 15).then_some(out)
}

/// multiport list: up to 15 ports, a range `a:b` (with a < b) counting as two.
pub(crate) fn port_list(text: &str) -> ValueResult<Vec<PortRange>> {
    if let Some(list) = plain_port_list(text) {
        return Ok(list);
    }
    let mut out = Vec::with_capacity(1 + count_byte(text.as_bytes(), b','));
    let mut slots = 0usize;
    for item in split_ascii(text, b',') {
        if item.is_empty() {
            return Err(format!(
                "empty item in port list `{text}`, expected ports separated by single commas"
            ));
        }
        let parts = split_once_ascii(item, b':');
        let range = match parts {
            None => PortRange::single(port(item, PortStyle::CNumber)?),
            Some((a, b)) => {
                let (start, end) = (port(a, PortStyle::CNumber)?, port(b, PortStyle::CNumber)?);
                if start >= end {
                    return Err(format!(
                        "port range `{item}` in `{text}` is empty or reversed, expected first < last"
                    ));
                }
                PortRange { start, end }
            }
        };
        slots += if parts.is_some() { 2 } else { 1 };
        out.push(range);
    }
    if slots > 15 {
        return Err(format!(
            "too many ports in `{text}`, multiport takes at most 15 (a range counts as two)"
        ));
    }
    Ok(out)
}

/// An IPv4 address as iptables reads one (`xtables_numeric_to_ipaddr`): up to
/// four dot-separated C numbers of 0-255, missing trailing parts being zero
/// (`10/8` is 10.0.0.0/8, `127.1` is 127.1.0.0). A mask needs all four.
fn ipv4_numeric(text: &str, is_mask: bool) -> Option<Ipv4Addr> {
    if let Some(addr) = dotted_quad(text) {
        return Some(addr);
    }
    let mut octets = [0u8; 4];
    let mut rest = text;
    // A dot is no digit, so reading a number off `rest` stops where its part
    // ends: the same as reading each dot-separated part whole.
    for (i, slot) in octets.iter_mut().enumerate() {
        let (value, after) = c_number_prefix(rest)?;
        *slot = u8::try_from(value).ok()?;
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None if after.is_empty() => {
                return (!is_mask || i == 3).then_some(Ipv4Addr::from(octets));
            }
            None => return None,
        }
    }
    // A fifth part.
    None
}

/// The usual form of an address, four decimal numbers of 0-255 without
/// leading zeros (what iptables-save writes), read quickly; `None` for
/// anything else, which [`ipv4_numeric`] then reads the general way.
fn dotted_quad(text: &str) -> Option<Ipv4Addr> {
    match dotted_quad_prefix(text) {
        Some((addr, "")) => Some(addr),
        _ => None,
    }
}

/// [`dotted_quad`] at the start of `text`, up to a `/` or the end, and the rest.
fn dotted_quad_prefix(text: &str) -> Option<(Ipv4Addr, &str)> {
    let mut octets = [0u8; 4];
    let bytes = text.as_bytes();
    let mut at = 0;
    let last = octets.len() - 1;
    for (i, slot) in octets.iter_mut().enumerate() {
        let mut value: u32 = 0;
        let mut digits = 0;
        loop {
            match bytes.get(at) {
                // A leading zero makes the number octal.
                Some(b @ b'0'..=b'9') if digits == 0 || value != 0 => {
                    value = value * 10 + u32::from(b - b'0');
                    digits += 1;
                    if digits > 3 {
                        return None;
                    }
                }
                Some(b'.') if i < last && digits > 0 => break,
                None | Some(b'/') if i == last && digits > 0 => break,
                _ => return None,
            }
            at += 1;
        }
        if i < last {
            at += 1;
        }
        *slot = u8::try_from(value).ok()?;
    }
    Some((Ipv4Addr::from(octets), text.get(at..)?))
}

fn hostname_hint(addr: &str, family: Family) -> String {
    let looks_like_name = addr.contains(|c: char| c.is_ascii_alphabetic()) && !addr.contains(':');
    if looks_like_name {
        format!(
            "`{addr}` is not an {} address; hostnames are not resolved, write the address",
            family.name()
        )
    } else {
        format!("`{addr}` is not an {} address", family.name())
    }
}

/// One `-s`/`-d` item: an address, `addr/len` or `addr/netmask`, of the family.
/// `Ok(None)` means a valid but non-contiguous netmask, which no CIDR can hold.
pub(crate) fn network(text: &str, family: Family) -> ValueResult<Option<IpNet>> {
    if family == Family::Ipv4
        && let Some((addr, rest)) = dotted_quad_prefix(text)
    {
        // `a.b.c.d` or `a.b.c.d/len` as iptables-save writes them.
        let len = match rest.strip_prefix('/').map(str::as_bytes) {
            None if rest.is_empty() => Some(32),
            Some([d @ b'0'..=b'9']) => Some(d - b'0'),
            Some([t @ b'1'..=b'3', d @ b'0'..=b'9']) => Some((t - b'0') * 10 + (d - b'0')),
            _ => None,
        };
        if let Some(net) = len.and_then(|len| Ipv4Net::new(addr, len).ok()) {
            return Ok(Some(IpNet::V4(net.trunc())));
        }
    }
    let (addr, mask) = match split_once_ascii(text, b'/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    match family {
        Family::Ipv4 => {
            let a = ipv4_numeric(addr, false).ok_or_else(|| hostname_hint(addr, family))?;
            let len = match mask {
                None => 32,
                Some(m) if contains_ascii(m, b'.') => {
                    let m = ipv4_numeric(m, true).ok_or_else(|| {
                        format!(
                            "`{m}` is not a netmask, expected a prefix length 0-32 or a dotted mask"
                        )
                    })?;
                    let bits = u32::from(m);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Ok(None);
                    }
                    bits.leading_ones() as u8
                }
                Some(m) => c_number(m, 32)
                    .ok_or_else(|| format!("prefix length `{m}` is invalid, expected 0-32"))?
                    as u8,
            };
            Ok(Ipv4Net::new(a, len).ok().map(|n| IpNet::V4(n.trunc())))
        }
        Family::Ipv6 => {
            let a: Ipv6Addr = addr.parse().map_err(|_| hostname_hint(addr, family))?;
            let len = match mask {
                None => 128,
                Some(m) if m.contains(':') => {
                    let m: Ipv6Addr = m.parse().map_err(|_| {
                        format!("`{m}` is not a netmask, expected a prefix length 0-128")
                    })?;
                    let bits = u128::from(m);
                    if bits.leading_ones() + bits.trailing_zeros() != 128 {
                        return Ok(None);
                    }
                    bits.leading_ones() as u8
                }
                Some(m) => c_number(m, 128)
                    .ok_or_else(|| format!("prefix length `{m}` is invalid, expected 0-128"))?
                    as u8,
            };
            Ok(Ipv6Net::new(a, len).ok().map(|n| IpNet::V6(n.trunc())))
        }
    }
}

/// One address of the family, as iprange reads it.
fn address(text: &str, family: Family) -> ValueResult<IpAddr> {
    match family {
        Family::Ipv4 => ipv4_numeric(text, false)
            .map(IpAddr::V4)
            .ok_or_else(|| hostname_hint(text, family)),
        Family::Ipv6 => text
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| hostname_hint(text, family)),
    }
}

/// `a-b` or `a` (iprange) of the family. A reversed range is accepted, as
/// iptables does (it warns that the rule never matches).
pub(crate) fn address_range(text: &str, family: Family) -> ValueResult<(IpAddr, IpAddr)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    Ok((address(a, family)?, address(b, family)?))
}

/// `--ctstate`/`--state` list. Items may be abbreviated (`EST`) and are
/// case-insensitive. `SNAT` and `DNAT` (conntrack only) are states we do
/// not model: they make the result `Ok(None)`.
pub(crate) fn ct_states(text: &str, nat_states: bool) -> ValueResult<Option<CtStates>> {
    let mut states = CtStates::default();
    let mut unmodelled = false;
    let names: &[(&str, Option<CtStates>)] = &[
        ("INVALID", Some(CtStates::INVALID)),
        ("NEW", Some(CtStates::NEW)),
        ("ESTABLISHED", Some(CtStates::ESTABLISHED)),
        ("RELATED", Some(CtStates::RELATED)),
        ("UNTRACKED", Some(CtStates::UNTRACKED)),
        ("SNAT", None),
        ("DNAT", None),
    ];
    let names = if nat_states {
        names
    } else {
        names.get(..5).unwrap_or(names)
    };
    for item in split_ascii(text, b',') {
        let found = (!item.is_empty())
            .then(|| {
                names
                    .iter()
                    .find(|(name, _)| starts_with_ignore_case(name, item))
            })
            .flatten();
        match found {
            Some((_, Some(s))) => states = states.union(*s),
            Some((_, None)) => unmodelled = true,
            None => {
                let list = names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
                return Err(format!(
                    "unknown connection state `{item}` in `{text}`, expected {list}"
                ));
            }
        }
    }
    Ok(if unmodelled { None } else { Some(states) })
}

/// `--ctstatus` list.
pub(crate) fn ct_statuses(text: &str) -> ValueResult<()> {
    const NAMES: &[&str] = &["NONE", "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"];
    for item in text.split(',') {
        if item.is_empty() || !NAMES.iter().any(|n| starts_with_ignore_case(n, item)) {
            return Err(format!(
                "unknown connection status `{item}` in `{text}`, expected {}",
                NAMES.join(", ")
            ));
        }
    }
    Ok(())
}

/// `--tcp-flags` mask or comparison list. Empty items are skipped, as
/// iptables' `strtok` does.
pub(crate) fn tcp_flag_list(text: &str) -> ValueResult<u8> {
    use crate::model::tcp_flags::*;
    let mut bits = 0u8;
    const NAMES: &[(&str, u8)] = &[
        ("FIN", FIN),
        ("SYN", SYN),
        ("RST", RST),
        ("PSH", PSH),
        ("ACK", ACK),
        ("URG", URG),
        ("ALL", FIN | SYN | RST | PSH | ACK | URG),
        ("NONE", 0),
    ];
    for item in text.split(',').filter(|i| !i.is_empty()) {
        bits |= match NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(item))
        {
            Some((_, bit)) => *bit,
            None => {
                return Err(format!(
                    "unknown tcp flag `{item}`, expected FIN, SYN, RST, PSH, ACK, URG, ALL or NONE"
                ));
            }
        };
    }
    Ok(bits)
}

/// `--log-level`: a number 0-7 or a syslog level name.
pub(crate) fn log_level(text: &str) -> ValueResult<u8> {
    const NAMES: &[(&str, u8)] = &[
        ("emerg", 0),
        ("panic", 0),
        ("alert", 1),
        ("crit", 2),
        ("error", 3),
        ("err", 3),
        ("warning", 4),
        ("warn", 4),
        ("notice", 5),
        ("info", 6),
        ("debug", 7),
    ];
    if let Some(n) = c_number(text, 7) {
        return Ok(n as u8);
    }
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text))
        .map(|(_, l)| *l)
        .ok_or_else(|| format!("unknown log level `{text}`, expected 0-7 or emerg, alert, crit, error, warning, notice, info, debug"))
}

/// A NAT port specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NatPorts {
    pub range: PortRange,
    /// `a-b/base` (DNAT only): ports are shifted, not mapped onto the range.
    pub shift_base: Option<u16>,
}

/// NAT ports `p`, `a-b` or (DNAT) `a-b/base`: the first port may be a
/// service name only when it stands alone, the rest must be numbers.
pub(crate) fn nat_ports(text: &str, allow_shift: bool) -> ValueResult<NatPorts> {
    let bad = |what: &str| {
        format!(
            "{what} in port specification `{text}`, expected `port`, `first-last`{}",
            if allow_shift {
                " or `first-last/base`"
            } else {
                ""
            }
        )
    };
    let (start, rest) = match c_number_prefix(text) {
        Some((n, rest)) if n <= 65535 => (n as u16, rest),
        Some(_) => return Err(bad("port out of range")),
        None => match crate::services::port_of(text) {
            Some(p) => (p, ""),
            None => {
                return Err(format!(
                    "unknown port or service name `{text}`, expected a number 0-65535 or a name such as http"
                ));
            }
        },
    };
    let single = |p| NatPorts {
        range: PortRange::single(p),
        shift_base: None,
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return match rest {
            "" => Ok(single(start)),
            r if r.starts_with(':') => Err(format!(
                "port range `{text}` uses `:`, NAT port ranges are written with a dash"
            )),
            _ => Err(bad("unexpected text")),
        };
    };
    let (end, rest) = match c_number_prefix(rest) {
        Some((n, rest)) if n <= 65535 => (n as u16, rest),
        _ => return Err(bad("bad last port")),
    };
    if end < start {
        return Err(format!(
            "port range `{text}` is reversed, expected first <= last"
        ));
    }
    let range = PortRange { start, end };
    match rest.strip_prefix('/') {
        None if rest.is_empty() => Ok(NatPorts {
            range,
            shift_base: None,
        }),
        None => Err(bad("unexpected text")),
        Some(_) if !allow_shift => Err(bad("a port shift (`/base`)")),
        Some(base) => {
            let base = match c_number(base, 65535) {
                Some(0) => {
                    return Err(format!(
                        "base port 0 in `{text}` is invalid, expected 1-65535"
                    ));
                }
                Some(n) => n as u16,
                None => crate::services::port_of(base).ok_or_else(|| bad("bad base port"))?,
            };
            Ok(NatPorts {
                range,
                shift_base: Some(base),
            })
        }
    }
}

/// A parsed `--to-destination`/`--to-source` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NatTarget {
    pub addr: Option<(IpAddr, IpAddr)>,
    pub ports: Option<NatPorts>,
}

/// NAT `--to-destination`/`--to-source`: `[addr[-addr]][:ports]`, with IPv6
/// addresses in brackets when ports follow (`[2001:db8::1]:80`).
pub(crate) fn nat_target(text: &str, family: Family, allow_shift: bool) -> ValueResult<NatTarget> {
    let (addr_part, port_part) = if let Some(rest) = text.strip_prefix('[') {
        if family == Family::Ipv4 {
            return Err(format!(
                "`{text}` puts an address in brackets, which only IPv6 uses"
            ));
        }
        let (a, p) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}` lacks the closing `]`"))?;
        let port = match p {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                format!("unexpected `{p}` after `]` in `{text}`, expected `:ports`")
            })?),
        };
        (a, port)
    } else {
        // One colon separates the ports; more mean an IPv6 address.
        match text.split_once(':') {
            Some((a, p)) if !p.contains(':') => (a, Some(p)),
            _ => (text, None),
        }
    };
    let ports = port_part.map(|p| nat_ports(p, allow_shift)).transpose()?;
    let addr = if addr_part.is_empty() {
        None
    } else {
        let (a, b) = addr_part.split_once('-').unwrap_or((addr_part, addr_part));
        let parse = |s: &str| -> ValueResult<IpAddr> {
            let ip: IpAddr = s
                .parse()
                .map_err(|_| format!("`{s}` is not an {} address", family.name()))?;
            match (family, ip) {
                (Family::Ipv4, IpAddr::V4(_)) | (Family::Ipv6, IpAddr::V6(_)) => Ok(ip),
                _ => Err(format!("`{s}` is not an {} address", family.name())),
            }
        };
        Some((parse(a)?, parse(b)?))
    };
    if addr.is_none() && ports.is_none() {
        return Err(format!("`{text}` names neither an address nor ports"));
    }
    Ok(NatTarget { addr, ports })
}

/// The values of options of extensions that are not modelled but whose
/// values iptables-restore checks (`--ttl-eq 256`, a 33-bit `--mark`, a
/// `--limit` past what the kernel counts): refused here as there, so a
/// file iptables-restore refuses is not reported as loaded. Options not
/// listed are kept unchecked.
pub(crate) fn unmodelled_value(module: &str, option: &str, value: &str) -> ValueResult<()> {
    let byte = |what: &str| {
        c_number(value, 255)
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not a {what} from 0 to 255"))
    };
    match (module, option) {
        ("ttl", "--ttl-eq" | "--ttl-lt" | "--ttl-gt") => byte("TTL"),
        ("hl", "--hl-eq" | "--hl-lt" | "--hl-gt") => byte("hop limit"),
        ("mark" | "connmark", "--mark") => mark_mask(value).map(|_| ()),
        ("length", "--length") => {
            let bad = || format!("`{value}` is not a length or range `a:b` from 0 to 65535");
            let (a, b) = value.split_once(':').unwrap_or((value, value));
            let a = if a.is_empty() {
                Some(0)
            } else {
                c_number(a, 65535)
            };
            let b = if b.is_empty() {
                Some(65535)
            } else {
                c_number(b, 65535)
            };
            // A reversed range is accepted (and matches nothing), as
            // iptables-restore accepts it.
            match (a, b) {
                (Some(_), Some(_)) => Ok(()),
                _ => Err(bad()),
            }
        }
        ("limit", "--limit") => limit_rate(value),
        ("limit", "--limit-burst") => c_number(value, 10_000)
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not a burst from 0 to 10000")),
        _ => Ok(()),
    }
}

/// `N[/second|/minute|/hour|/day]` (or a prefix of the unit), as xt_limit
/// reads it: N from 1, and no faster than the kernel's 10,000 a second
/// scale can count ("Rate too fast").
fn limit_rate(value: &str) -> ValueResult<()> {
    let (n, unit) = value.split_once('/').unwrap_or((value, "second"));
    let per = match unit {
        u if !u.is_empty() && "second".starts_with(u) => 1,
        u if !u.is_empty() && "minute".starts_with(u) => 60,
        u if !u.is_empty() && "hour".starts_with(u) => 3600,
        u if !u.is_empty() && "day".starts_with(u) => 86_400,
        _ => {
            return Err(format!(
                "bad rate `{value}`: the unit is second, minute, hour or day"
            ));
        }
    };
    let n = c_number(n, u64::from(u32::MAX))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("bad rate `{value}`: expected a number from 1"))?;
    if n > 10_000 * per {
        return Err(format!(
            "rate `{value}` is too fast: the kernel counts at most 10000 a second"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // tables of (input, expected) cases
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        use PortStyle::*;
        let cases: &[(&str, PortStyle, Option<(u16, u16)>)] = &[
            ("22", CNumber, Some((22, 22))),
            ("ssh", CNumber, Some((22, 22))),
            ("1024:", CNumber, Some((1024, 65535))),
            (":1023", CNumber, Some((0, 1023))),
            (":", CNumber, Some((0, 65535))),
            ("80:88", CNumber, Some((80, 88))),
            ("4:4", CNumber, Some((4, 4))),
            ("0x16", CNumber, Some((22, 22))),
            ("0x16", Decimal, None),
            ("08", CNumber, None),
            ("08", Decimal, Some((8, 8))),
            ("4:3", CNumber, None),
            ("1:2:3", Decimal, None),
            ("65536", CNumber, None),
            ("-1", CNumber, None),
            ("", CNumber, None),
            ("nosuchservice", CNumber, None),
        ];
        for (text, style, want) in cases {
            let got = port_range(text, *style).ok().map(|r| (r.start, r.end));
            assert_eq!(got, *want, "{text} {style:?}");
        }
    }

    #[test]
    fn networks_read_like_iptables() {
        let n = |t: &str| network(t, Family::Ipv4).map(|o| o.map(|n| n.to_string()));
        let cases: &[(&str, Option<Option<&str>>)] = &[
            ("10.1.2.3/8", Some(Some("10.0.0.0/8"))),
            ("10.1.2.3/255.255.0.0", Some(Some("10.1.0.0/16"))),
            ("10.1.2.3", Some(Some("10.1.2.3/32"))),
            ("10.1.2.3/0.0.255.0", Some(None)),
            ("0/0", Some(Some("0.0.0.0/0"))),
            ("10/8", Some(Some("10.0.0.0/8"))),
            ("1.2.3/24", Some(Some("1.2.3.0/24"))),
            ("127.1", Some(Some("127.1.0.0/32"))),
            ("010.0.0.1", Some(Some("8.0.0.1/32"))),
            ("1.2.3.4/0x10", Some(Some("1.2.0.0/16"))),
            ("10.1.2.3/33", None),
            ("10.1.2.3/39", None),
            ("10.1.2.3/05", Some(Some("8.0.0.0/5"))),
            ("10.1.2.3/0", Some(Some("0.0.0.0/0"))),
            ("255.255.255.255/32", Some(Some("255.255.255.255/32"))),
            ("192.168.1.77/26", Some(Some("192.168.1.64/26"))),
            ("256.1.1.1/8", None),
            ("1.2.3.4.5/8", None),
            ("1.2.3.4/24/8", None),
            ("1.2.3.4/", None),
            ("1.2.3.4/-1", None),
            ("1.2.3.4.5", None),
            ("256.1.1.1", None),
            ("::1", None),
            ("example.com", None),
        ];
        for (text, want) in cases {
            let got = n(text).ok();
            let want = want.map(|o| o.map(str::to_string));
            assert_eq!(got, want, "{text}");
        }
        assert_eq!(
            network("2001:db8::1/32", Family::Ipv6)
                .unwrap()
                .unwrap()
                .to_string(),
            "2001:db8::/32"
        );
        assert!(network("1.2.3.4", Family::Ipv6).is_err());
        assert!(
            n("example.com")
                .unwrap_err()
                .contains("hostnames are not resolved")
        );
    }

    #[test]
    fn multiport_lists() {
        let cases: &[(&str, Option<usize>)] = &[
            ("80,443,8000:8080", Some(3)),
            ("53,1024:65535", Some(2)),
            ("1,2,3,4,6,7,8,9,10,11,12,13,14,15", Some(14)),
            ("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", None),
            ("1,2,3,4,5,6,7,8,9,10,11,12,13,14:15", Some(14)),
            ("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16", None),
            ("1024:65536", None),
            ("5:5", None),
            ("1024:", None),
            ("80,,81", None),
        ];
        for (text, want) in cases {
            assert_eq!(port_list(text).ok().map(|l| l.len()), *want, "{text}");
        }
    }

    #[test]
    fn connection_states_abbreviate_and_nat_states_are_unmodelled() {
        assert_eq!(
            ct_states("NEW,ESTABLISHED", true),
            Ok(Some(CtStates::NEW.union(CtStates::ESTABLISHED)))
        );
        assert_eq!(
            ct_states("est,rel", false),
            Ok(Some(CtStates::ESTABLISHED.union(CtStates::RELATED)))
        );
        assert_eq!(ct_states("SNAT,DNAT", true), Ok(None));
        assert!(ct_states("SNAT", false).is_err());
        assert!(ct_states("wrong", true).is_err());
        assert!(ct_states("NEW,", true).is_err());
        assert!(ct_states("NEWX", true).is_err());
    }

    #[test]
    fn nat_ports_and_targets() {
        let p = |t: &str, shift| {
            nat_ports(t, shift)
                .ok()
                .map(|n| (n.range.start, n.range.end, n.shift_base))
        };
        let cases: &[(&str, bool, Option<(u16, u16, Option<u16>)>)] = &[
            ("42", false, Some((42, 42, None))),
            ("0", false, Some((0, 0, None))),
            ("1024-65535", false, Some((1024, 65535, None))),
            ("ssh", false, Some((22, 22, None))),
            ("ftp-data", false, Some((20, 20, None))),
            ("1000-2000/1000", true, Some((1000, 2000, Some(1000)))),
            ("10-20/ftp", true, Some((10, 20, Some(21)))),
            ("1000-2000/0", true, None),
            ("1000-2000/65536", true, None),
            ("42-1234/567", false, None),
            ("10-ssh", false, None),
            ("ftp-ssh", false, None),
            ("echo-ssh", false, None),
            ("1024-65536", false, None),
            ("-1", false, None),
            ("80:90", false, None),
            ("90-80", false, None),
        ];
        for (text, shift, want) in cases {
            assert_eq!(p(text, *shift), *want, "{text}");
        }

        let t = nat_target("10.0.0.1:8080", Family::Ipv4, true).unwrap();
        assert_eq!(t.addr.unwrap().0.to_string(), "10.0.0.1");
        assert_eq!(t.ports.unwrap().range, PortRange::single(8080));
        let t = nat_target("[2001:db8::1-2001:db8::9]:80-90", Family::Ipv6, true).unwrap();
        assert_eq!(t.addr.unwrap().1.to_string(), "2001:db8::9");
        assert_eq!(t.ports.unwrap().range, PortRange { start: 80, end: 90 });
        let t = nat_target("dead::beef", Family::Ipv6, true).unwrap();
        assert!(t.addr.is_some() && t.ports.is_none());
        let t = nat_target(":80", Family::Ipv4, true).unwrap();
        assert!(t.addr.is_none() && t.ports.is_some());
        assert!(nat_target("10.0.0.1:90-80", Family::Ipv4, true).is_err());
        assert!(nat_target("[10.0.0.1]:80", Family::Ipv4, true).is_err());
        assert!(nat_target("dead::beef", Family::Ipv4, true).is_err());
        assert!(nat_target("", Family::Ipv4, true).is_err());
    }

    #[test]
    fn numbers_ranges_marks_and_log_levels() {
        assert_eq!(u32_range("0:4294967295"), Ok((0, u32::MAX)));
        assert_eq!(u32_range("3:3"), Ok((3, 3)));
        assert_eq!(u32_range("7"), Ok((7, 7)));
        assert!(u32_range("4:3").is_err());
        assert!(u32_range("42949672956").is_err());
        assert!(u32_range("-1").is_err());
        assert_eq!(
            mark_mask("0xfeedcafe/0xfeedcafe"),
            Ok((0xfeedcafe, Some(0xfeedcafe)))
        );
        assert_eq!(mark_mask("4294967295"), Ok((u32::MAX, None)));
        assert!(mark_mask("4294967296").is_err());
        assert!(mark_mask("-1").is_err());
        assert_eq!(log_level("alert"), Ok(1));
        assert_eq!(log_level("4"), Ok(4));
        assert!(log_level("bad").is_err());
        assert!(log_level("8").is_err());
        assert!(u16_value("65536").is_err());
        assert_eq!(tcp_flag_list("SYN,,ACK"), Ok(0x12));
        assert_eq!(tcp_flag_list("ALL"), Ok(0x3f));
        assert!(tcp_flag_list("ECE").is_err());
        assert!(ct_statuses("CONFIRMED,ASSURED").is_ok());
        assert!(ct_statuses("BOGUS").is_err());
    }
}
