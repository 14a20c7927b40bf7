//! XML files into configuration objects, refusing what firewalld's own
//! reader (`src/firewall/core/io/`) and `firewall-offline-cmd
//! --check-config` refuse, with the element and attribute at fault.

use super::config::*;
use super::xml::{Doc, Node, elements, yes};
use crate::error::{ErrorKind, ParseError};
use crate::model::PortRange;
use ipnet::IpNet;
use std::net::IpAddr;

type Result<T> = std::result::Result<T, ParseError>;

/// A zone file; `name` comes from the file name, as firewalld takes it.
pub(crate) fn zone(
    doc: &Doc,
    name: &str,
    user: bool,
    errors: &mut Vec<ParseError>,
) -> Option<Zone> {
    let root = root(doc, "zone", errors)?;
    let target = match root.attribute("target") {
        None | Some("default") | Some("{chain}_{zone}") => ZoneTarget::Default,
        Some("ACCEPT") => ZoneTarget::Accept,
        Some("DROP") => ZoneTarget::Drop,
        Some("%%REJECT%%") | Some("REJECT") => ZoneTarget::Reject,
        Some(other) => {
            errors.push(doc.bad(
                root,
                "target",
                format!(
                    "zone target `{other}` is not one firewalld knows, expected default, ACCEPT, DROP or %%REJECT%%"
                ),
            ));
            return None;
        }
    };
    let mut zone = Zone {
        name: name.to_string(),
        span: doc.span(root),
        target,
        interfaces: Vec::new(),
        sources: Vec::new(),
        forward: false,
        elements: Elements::default(),
        user,
        priority: ["ingress-priority", "egress-priority"]
            .into_iter()
            .find(|a| root.attribute(*a).is_some_and(|v| v.trim() != "0"))
            .map(|a| doc.attr_span(root, a)),
    };
    for node in elements(root) {
        let span = doc.span(node);
        let result = match node.tag_name().name() {
            "interface" => doc.required(node, "name").and_then(|n| {
                interface_name(doc, node, n)?;
                if !zone.interfaces.iter().any(|i| i.value == n) {
                    zone.interfaces.push(Item {
                        value: n.to_string(),
                        span,
                    });
                }
                Ok(())
            }),
            "source" => source_binding(doc, node).map(|addr| {
                if !zone.sources.iter().any(|s| s.value == addr) {
                    zone.sources.push(Item { value: addr, span });
                }
            }),
            "forward" => {
                zone.forward = true;
                Ok(())
            }
            _ => common(doc, node, &mut zone.elements),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Some(zone)
}

/// A policy file.
pub(crate) fn policy(doc: &Doc, name: &str, errors: &mut Vec<ParseError>) -> Option<Policy> {
    let root = root(doc, "policy", errors)?;
    let target = match root.attribute("target") {
        None | Some("CONTINUE") => PolicyTarget::Continue,
        Some("ACCEPT") => PolicyTarget::Accept,
        Some("DROP") => PolicyTarget::Drop,
        Some("REJECT") => PolicyTarget::Reject,
        Some(other) => {
            errors.push(doc.bad(
                root,
                "target",
                format!(
                    "policy target `{other}` is not one firewalld knows, expected CONTINUE, ACCEPT, DROP or REJECT"
                ),
            ));
            return None;
        }
    };
    let priority = match root.attribute("priority") {
        None => -1,
        Some(text) => match text.parse::<i32>() {
            // firewalld refuses 0 (reserved for zones) and |p| > 32767.
            Ok(0) => {
                errors.push(doc.bad(
                    root,
                    "priority",
                    "policy priority 0 is reserved, expected -32768..-1 or 1..32767".to_string(),
                ));
                return None;
            }
            Ok(p) if (-32768..=32767).contains(&p) => p,
            _ => {
                errors.push(doc.bad(
                    root,
                    "priority",
                    format!("policy priority `{text}` is not a number in -32768..32767"),
                ));
                return None;
            }
        },
    };
    let mut policy = Policy {
        name: name.to_string(),
        span: doc.span(root),
        priority,
        target,
        ingress: Vec::new(),
        egress: Vec::new(),
        disabled: None,
        elements: Elements::default(),
    };
    for node in elements(root) {
        let span = doc.span(node);
        let result = match node.tag_name().name() {
            "ingress-zone" => doc.required(node, "name").map(|n| {
                policy.ingress.push(Item {
                    value: n.to_string(),
                    span,
                })
            }),
            "egress-zone" => doc.required(node, "name").map(|n| {
                policy.egress.push(Item {
                    value: n.to_string(),
                    span,
                })
            }),
            "disable" => {
                policy.disabled = Some(span);
                Ok(())
            }
            _ => common(doc, node, &mut policy.elements),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Some(policy)
}

/// A service file.
pub(crate) fn service(doc: &Doc, name: &str, errors: &mut Vec<ParseError>) -> Option<Service> {
    let root = root(doc, "service", errors)?;
    let mut service = Service {
        name: name.to_string(),
        span: doc.span(root),
        ports: Vec::new(),
        protocols: Vec::new(),
        source_ports: Vec::new(),
        destination_v4: None,
        destination_v6: None,
        includes: Vec::new(),
        helpers: Vec::new(),
    };
    for node in elements(root) {
        let span = doc.span(node);
        let result: Result<()> = match node.tag_name().name() {
            "short" | "description" => Ok(()),
            "port" => {
                let port = doc.required(node, "port");
                let proto = doc.required(node, "protocol");
                match (port, proto) {
                    (Ok(""), Ok(proto)) => protocol(doc, node, "protocol", proto).map(|()| {
                        service.protocols.push(Item {
                            value: proto.to_string(),
                            span,
                        })
                    }),
                    (Ok(_), Ok(_)) => port_element(doc, node).map(|p| {
                        if !service.ports.iter().any(|q| q.value == p) {
                            service.ports.push(Item { value: p, span })
                        }
                    }),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            "protocol" => doc.required(node, "value").and_then(|v| {
                protocol(doc, node, "value", v)?;
                service.protocols.push(Item {
                    value: v.to_string(),
                    span,
                });
                Ok(())
            }),
            "source-port" => port_element(doc, node).map(|p| {
                service.source_ports.push(Item { value: p, span });
            }),
            "destination" => {
                let mut r = Ok(());
                for (attr, slot, v6) in [
                    ("ipv4", &mut service.destination_v4, false),
                    ("ipv6", &mut service.destination_v6, true),
                ] {
                    if let Some(text) = node.attribute(attr) {
                        match net(text).filter(|n| matches!(n, IpNet::V6(_)) == v6) {
                            Some(n) => *slot = Some(n),
                            None => {
                                r = Err(doc.bad(
                                    node,
                                    attr,
                                    format!("`{text}` is not an {attr} address or network"),
                                ))
                            }
                        }
                    }
                }
                r
            }
            "include" => doc.required(node, "service").map(|s| {
                service.includes.push(Item {
                    value: s.to_string(),
                    span,
                })
            }),
            "helper" | "module" => doc.required(node, "name").map(|s| {
                service.helpers.push(Item {
                    value: s.to_string(),
                    span,
                })
            }),
            other => Err(unknown_element(doc, node, other, "service")),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Some(service)
}

/// An ipset file.
pub(crate) fn ipset(doc: &Doc, name: &str, errors: &mut Vec<ParseError>) -> Option<Ipset> {
    let root = root(doc, "ipset", errors)?;
    let kind = match doc.required(root, "type") {
        Ok(k) => k,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    const TYPES: [&str; 11] = [
        "hash:ip",
        "hash:ip,port",
        "hash:ip,port,ip",
        "hash:ip,port,net",
        "hash:ip,mark",
        "hash:net",
        "hash:net,net",
        "hash:net,port",
        "hash:net,port,net",
        "hash:net,iface",
        "hash:mac",
    ];
    if !TYPES.contains(&kind) {
        errors.push(doc.bad(
            root,
            "type",
            format!("ipset type `{kind}` is not one firewalld supports, expected hash:ip, hash:net, hash:mac, ..."),
        ));
        return None;
    }
    let mut set = Ipset {
        name: name.to_string(),
        span: doc.span(root),
        kind: kind.to_string(),
        ipv6: false,
        entries: Vec::new(),
        timeout: false,
    };
    for node in elements(root) {
        match node.tag_name().name() {
            "option" => match (node.attribute("name"), node.attribute("value")) {
                (Some("family"), Some("inet6")) => set.ipv6 = true,
                (Some("family"), Some("inet")) => {}
                (Some("family"), Some(other)) => errors.push(doc.bad(
                    node,
                    "value",
                    format!("ipset family `{other}` is not inet or inet6"),
                )),
                (Some("timeout"), Some(v)) if v != "0" => set.timeout = true,
                _ => {}
            },
            "entry" => {
                let text = node.text().unwrap_or("").trim();
                let span = doc.span(node);
                let ok = match kind {
                    "hash:ip" | "hash:net" => net_or_range(text).is_some(),
                    "hash:mac" => mac(text),
                    _ => !text.is_empty(),
                };
                if ok {
                    set.entries.push(Item {
                        value: text.to_string(),
                        span,
                    });
                } else {
                    errors.push(doc.error(
                        span,
                        ErrorKind::InvalidValue,
                        format!("ipset entry `{text}` is not valid for type {kind}"),
                    ));
                }
            }
            _ => {}
        }
    }
    Some(set)
}

/// An icmptype file: its name and families.
pub(crate) fn icmptype(doc: &Doc, errors: &mut Vec<ParseError>) -> Option<IcmpType> {
    let root = root(doc, "icmptype", errors)?;
    let mut t = IcmpType {
        ipv4: true,
        ipv6: true,
    };
    if let Some(d) = elements(root).find(|n| n.has_tag_name("destination")) {
        t.ipv4 = yes(d, "ipv4");
        t.ipv6 = yes(d, "ipv6");
    }
    Some(t)
}

/// A helper file: only checked to be one.
pub(crate) fn helper(doc: &Doc, errors: &mut Vec<ParseError>) {
    root(doc, "helper", errors);
}

fn root<'a, 'i>(
    doc: &'a Doc<'i>,
    name: &str,
    errors: &mut Vec<ParseError>,
) -> Option<Node<'a, 'i>> {
    let root = doc.doc.root_element();
    if root.tag_name().name() == name {
        Some(root)
    } else {
        errors.push(doc.error(
            doc.span(root),
            ErrorKind::Syntax,
            format!(
                "the root element is <{}>, expected <{name}> in a firewalld {name} file",
                root.tag_name().name()
            ),
        ));
        None
    }
}

fn unknown_element(doc: &Doc, node: Node, name: &str, within: &str) -> ParseError {
    doc.error(
        doc.span(node),
        ErrorKind::UnknownOption,
        format!("<{name}> is not an element of a firewalld {within}"),
    )
}

/// The elements zones and policies share.
fn common(doc: &Doc, node: Node, el: &mut Elements) -> Result<()> {
    let span = doc.span(node);
    match node.tag_name().name() {
        "short" | "description" => Ok(()),
        "service" => {
            let name = doc.required(node, "name")?;
            if !el.services.iter().any(|s| s.value == name) {
                el.services.push(Item {
                    value: name.to_string(),
                    span,
                });
            }
            Ok(())
        }
        "port" => {
            let p = port_element(doc, node)?;
            if !el.ports.iter().any(|q| q.value == p) {
                el.ports.push(Item { value: p, span });
            }
            Ok(())
        }
        "protocol" => {
            let v = doc.required(node, "value")?;
            protocol(doc, node, "value", v)?;
            el.protocols.push(Item {
                value: v.to_string(),
                span,
            });
            Ok(())
        }
        "source-port" => {
            let p = port_element(doc, node)?;
            el.source_ports.push(Item { value: p, span });
            Ok(())
        }
        "icmp-block" => {
            let name = doc.required(node, "name")?;
            el.icmp_blocks.push(Item {
                value: name.to_string(),
                span,
            });
            Ok(())
        }
        "icmp-block-inversion" => {
            el.icmp_block_inversion = true;
            Ok(())
        }
        "masquerade" => {
            el.masquerade = Some(span);
            Ok(())
        }
        "forward-port" => {
            let fp = forward_port(doc, node)?;
            el.forward_ports.push(Item { value: fp, span });
            Ok(())
        }
        "rule" => {
            // firewalld warns about an invalid rich rule and loads the
            // zone without it (`common_endElement`: "Invalid rule").
            // A missing attribute, an unknown element or a priority that is
            // not a number stops its reader, so those refuse the file.
            match rich(doc, node) {
                Ok(r) => el.rules.push(r),
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::MissingArgument | ErrorKind::UnknownOption | ErrorKind::Syntax
                    ) =>
                {
                    return Err(e);
                }
                Err(e) => el.ignored.push(Item {
                    value: e.message,
                    span: doc.span(node),
                }),
            }
            Ok(())
        }
        other => Err(unknown_element(doc, node, other, "zone or policy")),
    }
}

/// A rich rule, `<rule family= priority=>` and its children.
fn rich(doc: &Doc, node: Node) -> Result<Rich> {
    let family = match node.attribute("family") {
        None => None,
        Some("ipv4") => Some(RichFamily::Ipv4),
        Some("ipv6") => Some(RichFamily::Ipv6),
        Some(other) => {
            return Err(doc.bad(
                node,
                "family",
                format!("rule family `{other}` is not ipv4 or ipv6"),
            ));
        }
    };
    let priority = match node.attribute("priority") {
        None => 0,
        Some(t) => match t.trim().parse::<i64>() {
            Err(_) => {
                return Err(doc.error(
                    doc.attr_span(node, "priority"),
                    ErrorKind::Syntax,
                    format!("rule priority `{t}` is not a number, firewalld refuses the file"),
                ));
            }
            Ok(p) => i32::try_from(p)
                .ok()
                .filter(|p| (-32768..=32767).contains(p))
                .ok_or_else(|| {
                    doc.bad(
                        node,
                        "priority",
                        format!("rule priority `{t}` is not in -32768..32767"),
                    )
                })?,
        },
    };
    let mut rule = Rich {
        span: doc.span(node),
        family,
        priority,
        source: None,
        destination: None,
        element: None,
        log: None,
        audit: None,
        action: None,
        action_limit: None,
    };
    let one_element = |rule: &Rich, child: Node| -> Result<()> {
        if rule.element.is_some() {
            Err(doc.error(
                doc.span(child),
                ErrorKind::InvalidValue,
                "a rich rule holds one element (service, port, protocol, icmp-block, ...), this is a second"
                    .to_string(),
            ))
        } else {
            Ok(())
        }
    };
    for child in elements(node) {
        let name = child.tag_name().name();
        match name {
            "source" | "destination" => {
                let invert = yes(child, "invert");
                let addr = rich_address(doc, child, name == "source")?;
                if let (Some(f), Addr::Net(n)) = (family, &addr)
                    && (f == RichFamily::Ipv6) != matches!(n, IpNet::V6(_))
                {
                    return Err(doc.bad(
                        child,
                        "address",
                        format!("address family conflicts with rule family {}", f.name()),
                    ));
                }
                let slot = if name == "source" {
                    &mut rule.source
                } else {
                    &mut rule.destination
                };
                if slot.is_some() {
                    return Err(doc.error(
                        doc.span(child),
                        ErrorKind::InvalidValue,
                        format!("a rich rule holds one <{name}>, this is a second"),
                    ));
                }
                *slot = Some((addr, invert));
            }
            "service" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::Service(
                    doc.required(child, "name")?.to_string(),
                ));
            }
            "port" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::Port(port_element(doc, child)?));
            }
            "source-port" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::SourcePort(port_element(doc, child)?));
            }
            "protocol" => {
                one_element(&rule, child)?;
                let v = doc.required(child, "value")?;
                protocol(doc, child, "value", v)?;
                rule.element = Some(RichElement::Protocol(v.to_string()));
            }
            "icmp-block" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::IcmpBlock(
                    doc.required(child, "name")?.to_string(),
                ));
            }
            "icmp-type" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::IcmpType(
                    doc.required(child, "name")?.to_string(),
                ));
            }
            "masquerade" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::Masquerade);
            }
            "forward-port" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::ForwardPort(forward_port(doc, child)?));
            }
            "tcp-mss-clamp" => {
                one_element(&rule, child)?;
                rule.element = Some(RichElement::TcpMssClamp);
            }
            "log" | "nflog" => {
                let level = child.attribute("level");
                if let Some(l) = level
                    && ![
                        "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
                    ]
                    .contains(&l)
                {
                    return Err(doc.bad(
                        child,
                        "level",
                        format!("log level `{l}` is not one of emerg, alert, crit, error, warning, notice, info, debug"),
                    ));
                }
                rule.log = Some(RichLog {
                    prefix: child.attribute("prefix").map(str::to_string),
                    level: level.map(str::to_string),
                    limit: limit(doc, child)?,
                });
            }
            "audit" => rule.audit = Some(limit(doc, child)?),
            "accept" | "reject" | "drop" | "mark" => {
                if rule.action.is_some() {
                    return Err(doc.error(
                        doc.span(child),
                        ErrorKind::InvalidValue,
                        "a rich rule holds one action, this is a second".to_string(),
                    ));
                }
                rule.action = Some(match name {
                    "accept" => RichAction::Accept,
                    "drop" => RichAction::Drop,
                    "reject" => {
                        let t = child.attribute("type");
                        if let Some(t) = t {
                            reject_type(doc, child, t, family)?;
                        }
                        RichAction::Reject(t.map(str::to_string))
                    }
                    _ => RichAction::Mark(doc.required(child, "set")?.to_string()),
                });
                rule.action_limit = limit(doc, child)?;
            }
            other => return Err(unknown_element(doc, child, other, "rich rule")),
        }
    }
    check_rich(doc, node, &rule)?;
    Ok(rule)
}

/// The combinations firewalld's `Rich_Rule.check()` refuses.
fn check_rich(doc: &Doc, node: Node, rule: &Rich) -> Result<()> {
    let refuse = |message: &str| {
        Err(doc.error(doc.span(node), ErrorKind::InvalidValue, message.to_string()))
    };
    match &rule.element {
        None => {
            // Rich_Rule.check(): only at priority 0 (a catch-all at another
            // priority, such as libvirt's final reject, is allowed).
            if rule.source.is_none() && rule.destination.is_none() && rule.priority == 0 {
                return refuse(
                    "a rich rule without an element needs a source or a destination, firewalld refuses it",
                );
            }
            if rule.action.is_none() && rule.log.is_none() && rule.audit.is_none() {
                return refuse("a rich rule needs an action, log or audit");
            }
        }
        Some(RichElement::IcmpBlock(_)) => {
            if rule.action == Some(RichAction::Accept) {
                return refuse("icmp-block cannot be used with accept, use icmp-type instead");
            }
        }
        Some(RichElement::Masquerade) | Some(RichElement::ForwardPort(_)) => {
            if rule.action.is_some() {
                return refuse("masquerade and forward-port take no action in a rich rule");
            }
            if let Some(RichElement::ForwardPort(_)) = &rule.element
                && rule.family.is_none()
            {
                return refuse("a rich rule with forward-port needs a family");
            }
        }
        Some(RichElement::TcpMssClamp) => {}
        Some(_) => {
            if rule.action.is_none() && rule.log.is_none() && rule.audit.is_none() {
                return refuse("a rich rule needs an action, log or audit");
            }
        }
    }
    Ok(())
}

fn limit(doc: &Doc, node: Node) -> Result<Option<String>> {
    let Some(l) = elements(node).find(|n| n.has_tag_name("limit")) else {
        return Ok(None);
    };
    let v = doc.required(l, "value")?;
    let ok = v.split_once('/').is_some_and(|(n, unit)| {
        n.parse::<u32>().is_ok_and(|n| n > 0)
            && matches!(
                unit,
                "s" | "m" | "h" | "d" | "second" | "minute" | "hour" | "day"
            )
    });
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(doc.bad(
            l,
            "value",
            format!("limit `{v}` is not RATE/UNIT (s, m, h or d)"),
        ))
    }
}

fn reject_type(doc: &Doc, node: Node, t: &str, family: Option<RichFamily>) -> Result<()> {
    const V4: [&str; 10] = [
        "icmp-host-prohibited",
        "host-prohib",
        "icmp-net-prohibited",
        "net-prohib",
        "icmp-admin-prohibited",
        "admin-prohib",
        "icmp-net-unreachable",
        "net-unreach",
        "icmp-host-unreachable",
        "host-unreach",
    ];
    const V4B: [&str; 5] = [
        "icmp-port-unreachable",
        "port-unreach",
        "icmp-proto-unreachable",
        "proto-unreach",
        "tcp-reset",
    ];
    const V6: [&str; 8] = [
        "icmp6-adm-prohibited",
        "adm-prohibited",
        "icmp6-no-route",
        "no-route",
        "icmp6-addr-unreachable",
        "addr-unreach",
        "icmp6-port-unreachable",
        "tcp-reset",
    ];
    let ok = match family {
        // firewalld requires a family for a reject type.
        None => false,
        Some(RichFamily::Ipv4) => V4.contains(&t) || V4B.contains(&t),
        Some(RichFamily::Ipv6) => V6.contains(&t) || t == "port-unreach",
    };
    if ok {
        Ok(())
    } else {
        Err(doc.bad(
            node,
            "type",
            match family {
                None => format!("reject type `{t}` needs the rule's family (ipv4 or ipv6)"),
                Some(f) => format!("reject type `{t}` is not valid for {}", f.name()),
            },
        ))
    }
}

fn rich_address(doc: &Doc, node: Node, source: bool) -> Result<Addr> {
    let set = [
        node.attribute("address"),
        if source { node.attribute("mac") } else { None },
        node.attribute("ipset"),
    ];
    match set {
        [Some(a), None, None] => net(a).map(Addr::Net).ok_or_else(|| {
            doc.bad(
                node,
                "address",
                format!("`{a}` is not an IPv4 or IPv6 address or network"),
            )
        }),
        [None, Some(m), None] if mac(m) => Ok(Addr::Mac(m.to_string())),
        [None, Some(m), None] => Err(doc.bad(node, "mac", format!("`{m}` is not a MAC address"))),
        [None, None, Some(s)] => Ok(Addr::Ipset(s.to_string())),
        _ => Err(doc.error(
            doc.span(node),
            ErrorKind::MissingArgument,
            format!(
                "<{}> needs exactly one of address, {}ipset",
                node.tag_name().name(),
                if source { "mac, " } else { "" }
            ),
        )),
    }
}

/// A zone's `<source>` binding.
fn source_binding(doc: &Doc, node: Node) -> Result<Addr> {
    if node.attribute("invert").is_some() {
        return Err(doc.bad(
            node,
            "invert",
            "a zone's source binding cannot be inverted".to_string(),
        ));
    }
    rich_address(doc, node, true)
}

fn interface_name(doc: &Doc, node: Node, name: &str) -> Result<()> {
    // Linux interface names: 1-15 bytes, no `/`, no whitespace; firewalld
    // allows a trailing `+` as a wildcard.
    let bare = name.strip_suffix('+').unwrap_or(name);
    let ok = !name.is_empty()
        && name.len() <= 15
        && !bare.contains(['/', '+', '"'])
        && !name.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(doc.bad(
            node,
            "name",
            format!("`{name}` is not an interface name (1-15 characters, no / or spaces)"),
        ))
    }
}

fn port_element(doc: &Doc, node: Node) -> Result<Port> {
    let text = doc.required(node, "port")?;
    let proto = doc.required(node, "protocol")?;
    let range = port_range(text).ok_or_else(|| {
        doc.bad(
            node,
            "port",
            format!("`{text}` is not a port, a service name or a range LOW-HIGH"),
        )
    })?;
    let proto = PortProto::parse(proto).ok_or_else(|| {
        doc.bad(
            node,
            "protocol",
            format!("`{proto}` is not a port protocol, expected tcp, udp, sctp or dccp"),
        )
    })?;
    Ok(Port { range, proto })
}

fn forward_port(doc: &Doc, node: Node) -> Result<ForwardPort> {
    let p = port_element(doc, node)?;
    let to_port =
        match node.attribute("to-port") {
            None | Some("") => None,
            Some(t) => Some(port_range(t).ok_or_else(|| {
                doc.bad(node, "to-port", format!("`{t}` is not a port or a range"))
            })?),
        };
    let to_addr = match node.attribute("to-addr") {
        None | Some("") => None,
        Some(a) => Some(a.parse::<IpAddr>().map_err(|_| {
            doc.bad(
                node,
                "to-addr",
                format!("`{a}` is not an IPv4 or IPv6 address"),
            )
        })?),
    };
    if to_port.is_none() && to_addr.is_none() {
        return Err(doc.error(
            doc.span(node),
            ErrorKind::InvalidValue,
            "<forward-port> needs to-port, to-addr or both".to_string(),
        ));
    }
    Ok(ForwardPort {
        port: p.range,
        proto: p.proto,
        to_port,
        to_addr,
    })
}

fn protocol(doc: &Doc, node: Node, attr: &str, text: &str) -> Result<()> {
    match crate::values::protocols::protocol(text) {
        Ok(_) => Ok(()),
        Err(message) => Err(doc.bad(node, attr, message)),
    }
}

/// firewalld's `getPortRange`: a number, a service name, or A-B (in either
/// order; an equal pair is one port).
pub(crate) fn port_range(text: &str) -> Option<PortRange> {
    let one = |t: &str| -> Option<u16> {
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<u16>().ok()
        } else {
            crate::services::port_of(t)
        }
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            Some(PortRange {
                start: a.min(b),
                end: a.max(b),
            })
        }
        None => one(text).map(PortRange::single),
    }
}

/// An address or network, with a prefix length or (IPv4) a netmask.
pub(crate) fn net(text: &str) -> Option<IpNet> {
    if let Ok(n) = text.parse::<IpNet>() {
        return Some(n.trunc());
    }
    if let Ok(a) = text.parse::<IpAddr>() {
        return Some(IpNet::from(a));
    }
    let (addr, mask) = text.split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let mask: std::net::Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0)
        .then(|| ipnet::Ipv4Net::new(addr, len as u8).ok())
        .flatten()
        .map(|n| IpNet::V4(n.trunc()))
}

fn net_or_range(text: &str) -> Option<()> {
    match text.split_once('-') {
        Some((a, b)) => (a.parse::<IpAddr>().is_ok() && b.parse::<IpAddr>().is_ok()).then_some(()),
        None => net(text).map(|_| ()),
    }
}

pub(crate) fn mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}
