//! Addresses and ports: `from`/`to` specifications, table entries and
//! redirection targets.

use super::{Cur, Res, found};
use crate::ErrorKind;
use crate::pf::ast::{Addr, Host, PortOp};
use crate::pf::lexer::{Kind, Token};
use std::net::IpAddr;

/// `ipspec = "any" | host | "{" host { [","] host } "}"`: the hosts, empty for `any`.
pub(super) fn ipspec(c: &mut Cur) -> Res<Vec<Host>> {
    if c.eat("any") {
        return Ok(Vec::new());
    }
    if c.eat("{") {
        return host_list_rest(c);
    }
    Ok(vec![host(c)?])
}

/// The hosts of a list after its `{`, to its `}`; newlines may split it.
pub(super) fn host_list_rest(c: &mut Cur) -> Res<Vec<Host>> {
    let mut hosts = Vec::new();
    loop {
        while c.peek().kind == Kind::Newline || c.peek().is(",") {
            c.bump();
        }
        if c.eat("}") {
            if hosts.is_empty() {
                return Err(c.expected("an address in the list"));
            }
            return Ok(hosts);
        }
        if c.peek().kind == Kind::End {
            return Err(c.expected("`}` to close the list of addresses"));
        }
        if c.eat("any") {
            hosts.push(Host {
                not: false,
                addr: Addr::Any,
            });
            continue;
        }
        if c.eat("{") {
            // A list in a list, as a macro holding a list gives: pfctl flattens it.
            hosts.extend(host_list_rest(c)?);
            continue;
        }
        hosts.push(host(c)?);
    }
}

/// `host = ["!"] ( "no-route" | "urpf-failed" | "self" | "<" table ">"
/// | "(" interface [":" modifier] ")" ["/" prefix] | "route" label
/// | address "-" address | address ["/" prefix] | name [":" modifier] ["/" prefix] )`
pub(super) fn host(c: &mut Cur) -> Res<Host> {
    let not = c.eat("!");
    let t = c.peek().clone();
    let addr = match (t.kind, t.text.as_ref()) {
        (Kind::Word, "no-route") => {
            c.bump();
            Addr::NoRoute
        }
        (Kind::Word, "urpf-failed") => {
            c.bump();
            Addr::UrpfFailed
        }
        (Kind::Word, "self") => {
            c.bump();
            Addr::SelfAddr
        }
        (Kind::Word, "any") if not => {
            c.bump();
            Addr::Any
        }
        (Kind::Word, "route") => {
            c.bump();
            Addr::Route(c.string("a route label after `route`")?.text.to_string())
        }
        (Kind::Punct, "<") => {
            c.bump();
            let name = c.string("a table name after `<`")?;
            c.expect(">", "after the table name")?;
            Addr::Table(name.text.to_string())
        }
        (Kind::Punct, "(") => {
            c.bump();
            let name = c.string("an interface name after `(`")?;
            c.expect(")", "after the interface name")?;
            let (interface, modifiers) = split_modifiers(c, &name)?;
            Addr::Dynamic {
                interface,
                modifiers,
                prefix: prefix(c, false)?,
            }
        }
        (Kind::Word | Kind::Str, _) => {
            c.bump();
            name_or_address(c, &t)?
        }
        _ => return Err(c.expected("an address, `<table>`, `(interface)`, `self` or `any`")),
    };
    Ok(Host { not, addr })
}

/// An address, a range `a - b`, a network `a/n`, or a name with modifiers.
fn name_or_address(c: &mut Cur, t: &Token) -> Res<Addr> {
    if let Ok(ip) = t.text.parse::<IpAddr>() {
        if c.peek().is("-") {
            c.bump();
            let hi = c.string("an address after `-` of the range")?;
            let hi_ip = hi.text.parse::<IpAddr>().map_err(|_| {
                c.error_at(
                    &hi,
                    ErrorKind::InvalidValue,
                    format!(
                        "expected an address after `-` of the range, found `{}`",
                        hi.text
                    ),
                )
            })?;
            if ip.is_ipv4() != hi_ip.is_ipv4() {
                return Err(c.error_at(
                    &hi,
                    ErrorKind::InvalidValue,
                    "the two ends of an address range are of different families".to_string(),
                ));
            }
            return Ok(Addr::Range(ip, hi_ip));
        }
        return Ok(Addr::Ip {
            ip,
            prefix: prefix(c, ip.is_ipv6())?,
        });
    }
    // pfctl also takes the `10/8` shorthand of a network.
    if let (Some(ip), true) = (short_ipv4(&t.text), c.peek().is("/")) {
        return Ok(Addr::Ip {
            ip,
            prefix: prefix(c, false)?,
        });
    }
    let (name, modifiers) = split_modifiers(c, t)?;
    if name.is_empty() {
        return Err(c.error_at(
            t,
            ErrorKind::InvalidValue,
            format!("expected an address or a name, found `{}`", t.text),
        ));
    }
    Ok(Addr::Name {
        name,
        modifiers,
        prefix: prefix(c, true)?,
    })
}

/// `10`, `10.1`, `10.1.2`: the leading octets of an IPv4 network.
fn short_ipv4(text: &str) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    for (n, part) in text.split('.').enumerate() {
        *octets.get_mut(n)? = part.parse().ok()?;
    }
    Some(IpAddr::from(octets))
}

/// The modifiers pfctl takes after an interface or host name.
const MODIFIERS: &[&str] = &["network", "broadcast", "peer", "0"];

/// `name [":" modifier]...`, the modifiers checked.
fn split_modifiers(c: &Cur, t: &Token) -> Res<(String, Vec<String>)> {
    let mut parts = t.text.split(':');
    let name = parts.next().unwrap_or("").to_string();
    let mut modifiers = Vec::new();
    for m in parts {
        if !MODIFIERS.contains(&m) {
            return Err(c.error_at(
                t,
                ErrorKind::InvalidValue,
                format!("unknown address modifier `:{m}` in `{}`: expected :network, :broadcast, :peer or :0", t.text),
            ));
        }
        modifiers.push(m.to_string());
    }
    Ok((name, modifiers))
}

/// `["/" number]`: a prefix length, at most 32 or 128.
fn prefix(c: &mut Cur, v6: bool) -> Res<Option<u8>> {
    if !c.peek().is("/") {
        return Ok(None);
    }
    c.bump();
    let t = c.string("a prefix length after `/`")?;
    let max = if v6 { 128 } else { 32 };
    match t.text.parse::<u8>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => Err(c.error_at(
            &t,
            ErrorKind::InvalidValue,
            format!("invalid prefix length `{}`: expected 0 to {max}", t.text),
        )),
    }
}

/// `portspec = port_item | "{" port_item { [","] port_item } "}"`, after `port`.
pub(super) fn portspec(c: &mut Cur) -> Res<Vec<PortOp>> {
    if c.eat("{") {
        let mut ports = Vec::new();
        loop {
            while c.peek().kind == Kind::Newline || c.peek().is(",") {
                c.bump();
            }
            if c.eat("}") {
                if ports.is_empty() {
                    return Err(c.expected("a port in the list"));
                }
                return Ok(ports);
            }
            if c.peek().kind == Kind::End {
                return Err(c.expected("`}` to close the list of ports"));
            }
            ports.push(port_item(c)?);
        }
    }
    Ok(vec![port_item(c)?])
}

/// `port_item = [unary_op] port | port ("<>" | "><") port | port ":" port`
/// where `unary_op = "=" | "!=" | "<" | "<=" | ">" | ">="`.
pub(super) fn port_item(c: &mut Cur) -> Res<PortOp> {
    let op = c.peek().clone();
    if op.kind == Kind::Punct {
        let make: Option<fn(u16) -> PortOp> = match op.text.as_ref() {
            "=" => Some(PortOp::Eq),
            "!=" => Some(PortOp::Ne),
            "<" => Some(PortOp::Lt),
            "<=" => Some(PortOp::Le),
            ">" => Some(PortOp::Gt),
            ">=" => Some(PortOp::Ge),
            _ => None,
        };
        if let Some(make) = make {
            c.bump();
            let t = c.string(&format!("a port after `{}`", op.text))?;
            return Ok(make(port(c, &t, &t.text)?));
        }
    }
    let t = match c.peek().kind {
        Kind::Word | Kind::Str => c.bump(),
        _ => return Err(c.expected("a port after `port`")),
    };
    if let Some((lo, hi)) = t.text.split_once(':') {
        let lo = port(c, &t, lo)?;
        let hi = port(c, &t, hi)?;
        if lo > hi {
            return Err(c.error_at(
                &t,
                ErrorKind::InvalidValue,
                format!(
                    "invalid port range `{}`: the first port is above the last",
                    t.text
                ),
            ));
        }
        return Ok(PortOp::Range(lo, hi));
    }
    let lo = port(c, &t, &t.text)?;
    let binary = c.peek().clone();
    if binary.is("<>") || binary.is("><") {
        c.bump();
        let u = c.string(&format!("a port after `{}`", binary.text))?;
        let hi = port(c, &u, &u.text)?;
        return Ok(if binary.text == "<>" {
            PortOp::Outside(lo, hi)
        } else {
            PortOp::Inside(lo, hi)
        });
    }
    Ok(PortOp::Eq(lo))
}

/// A port number 0-65535 or a service name.
pub(super) fn port(c: &Cur, t: &Token, text: &str) -> Res<u16> {
    if text.starts_with(|ch: char| ch.is_ascii_digit()) {
        return crate::values::numbers::c_number(text, u64::MAX)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| {
                c.error_at(
                    t,
                    ErrorKind::InvalidValue,
                    format!("illegal port value `{text}`: a port is 0 to 65535"),
                )
            });
    }
    crate::services::port_of(text).or_else(|| crate::pf::vocab::bsd_service(text)).ok_or_else(|| {
        c.error_at(
            t,
            ErrorKind::InvalidValue,
            if t.kind == Kind::Punct { format!("expected a port, found {}", found(t)) } else { format!("unknown service `{text}`: expected a port number or a name from /etc/services") },
        )
    })
}
