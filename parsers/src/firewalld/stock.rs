//! firewalld's stock zones and services, for a folder read where
//! `/usr/lib/firewalld` is absent (a configuration checked in CI, on macOS).
//!
//! These are facts about firewalld 1.3 (the ports a service opens, the
//! services and target of a zone), written as a table here, not copies of
//! firewalld's files. Each becomes one line of a source named
//! [`SOURCE_NAME`], so a verdict a stock definition decides points at it.

use super::config::{
    Elements, Item, Policy, PolicyTarget, Port, PortProto, Rich, RichAction, RichElement,
    RichFamily, Service, Zone, ZoneTarget,
};
use crate::model::Span;

pub(crate) const SOURCE_NAME: &str = "firewalld (built-in stock definitions, firewalld 1.3)";

/// The stock zones: name, target, services, masquerade. Every stock zone
/// of 1.x has `<forward/>`.
const ZONES: &[(&str, ZoneTarget, &[&str], bool)] = &[
    ("block", ZoneTarget::Reject, &[], false),
    ("dmz", ZoneTarget::Default, &["ssh"], false),
    ("drop", ZoneTarget::Drop, &[], false),
    ("external", ZoneTarget::Default, &["ssh"], true),
    (
        "home",
        ZoneTarget::Default,
        &["ssh", "mdns", "samba-client", "dhcpv6-client"],
        false,
    ),
    (
        "internal",
        ZoneTarget::Default,
        &["ssh", "mdns", "samba-client", "dhcpv6-client"],
        false,
    ),
    (
        "public",
        ZoneTarget::Default,
        &["ssh", "dhcpv6-client"],
        false,
    ),
    ("trusted", ZoneTarget::Accept, &[], false),
    (
        "work",
        ZoneTarget::Default,
        &["ssh", "dhcpv6-client"],
        false,
    ),
];

/// The stock services: name, ports (`tcp/22`, `udp/60000-61000`, `sport
/// udp/1900` for a source port), included services, IPv4 and IPv6
/// destination.
#[allow(clippy::type_complexity)] // a table of plain facts
const SERVICES: &[(&str, &[&str], &[&str], Option<&str>, Option<&str>)] = &[
    ("afp", &["tcp/548"], &[], None, None),
    (
        "amanda-client",
        &["udp/10080", "tcp/10080"],
        &[],
        None,
        None,
    ),
    (
        "bacula",
        &["tcp/9101", "tcp/9102", "tcp/9103"],
        &[],
        None,
        None,
    ),
    ("bgp", &["tcp/179"], &[], None, None),
    ("ceph", &["tcp/6800-7300"], &[], None, None),
    ("ceph-mon", &["tcp/3300", "tcp/6789"], &[], None, None),
    ("cockpit", &["tcp/9090"], &[], None, None),
    ("dhcp", &["udp/67"], &[], None, None),
    ("dhcpv6", &["udp/547"], &[], None, None),
    ("dhcpv6-client", &["udp/546"], &[], None, Some("fe80::/64")),
    ("dns", &["tcp/53", "udp/53"], &[], None, None),
    ("docker-registry", &["tcp/5000"], &[], None, None),
    ("elasticsearch", &["tcp/9300", "tcp/9200"], &[], None, None),
    ("etcd-client", &["tcp/2379"], &[], None, None),
    ("etcd-server", &["tcp/2380"], &[], None, None),
    ("ftp", &["tcp/21"], &[], None, None),
    ("git", &["tcp/9418"], &[], None, None),
    ("grafana", &["tcp/3000"], &[], None, None),
    ("http", &["tcp/80"], &[], None, None),
    ("http3", &["udp/443"], &[], None, None),
    ("https", &["tcp/443"], &[], None, None),
    ("imap", &["tcp/143"], &[], None, None),
    ("imaps", &["tcp/993"], &[], None, None),
    ("ipp", &["tcp/631", "udp/631"], &[], None, None),
    ("ipp-client", &["udp/631"], &[], None, None),
    (
        "ipsec",
        &["proto/ah", "proto/esp", "udp/500", "udp/4500", "tcp/4500"],
        &[],
        None,
        None,
    ),
    ("jenkins", &["tcp/8080"], &[], None, None),
    ("kadmin", &["tcp/749"], &[], None, None),
    ("kerberos", &["tcp/88", "udp/88"], &[], None, None),
    ("kpasswd", &["tcp/464", "udp/464"], &[], None, None),
    ("kube-apiserver", &["tcp/6443"], &[], None, None),
    ("ldap", &["tcp/389"], &[], None, None),
    ("ldaps", &["tcp/636"], &[], None, None),
    ("libvirt", &["tcp/16509"], &[], None, None),
    ("llmnr", &[], &["llmnr-tcp", "llmnr-udp"], None, None),
    ("llmnr-client", &["sport udp/5355"], &[], None, None),
    ("llmnr-tcp", &["tcp/5355"], &[], None, None),
    (
        "llmnr-udp",
        &["udp/5355"],
        &[],
        Some("224.0.0.252"),
        Some("ff02::1:3"),
    ),
    (
        "mdns",
        &["udp/5353"],
        &[],
        Some("224.0.0.251"),
        Some("ff02::fb"),
    ),
    ("memcache", &["tcp/11211", "udp/11211"], &[], None, None),
    ("minidlna", &["tcp/8200"], &["ssdp"], None, None),
    ("mongodb", &["tcp/27017"], &[], None, None),
    ("mosh", &["udp/60000-61000"], &[], None, None),
    ("mountd", &["tcp/20048", "udp/20048"], &[], None, None),
    ("mqtt", &["tcp/1883"], &[], None, None),
    ("mqtt-tls", &["tcp/8883"], &[], None, None),
    ("mysql", &["tcp/3306"], &[], None, None),
    ("netbios-ns", &["udp/137"], &[], None, None),
    ("nfs", &["tcp/2049"], &[], None, None),
    ("nfs3", &["tcp/2049", "udp/2049"], &[], None, None),
    ("ntp", &["udp/123"], &[], None, None),
    ("openvpn", &["udp/1194"], &[], None, None),
    ("pop3", &["tcp/110"], &[], None, None),
    ("pop3s", &["tcp/995"], &[], None, None),
    ("postgresql", &["tcp/5432"], &[], None, None),
    ("prometheus", &["tcp/9090"], &[], None, None),
    ("pulseaudio", &["tcp/4713"], &[], None, None),
    ("puppetmaster", &["tcp/8140"], &[], None, None),
    (
        "radius",
        &["tcp/1812", "udp/1812", "tcp/1813", "udp/1813"],
        &[],
        None,
        None,
    ),
    ("rdp", &["tcp/3389"], &[], None, None),
    ("redis", &["tcp/6379"], &[], None, None),
    ("rpc-bind", &["tcp/111", "udp/111"], &[], None, None),
    ("rsyncd", &["tcp/873", "udp/873"], &[], None, None),
    ("rtsp", &["tcp/554", "udp/554"], &[], None, None),
    ("salt-master", &["tcp/4505", "tcp/4506"], &[], None, None),
    (
        "samba",
        &["tcp/139", "tcp/445"],
        &["samba-client"],
        None,
        None,
    ),
    ("samba-client", &["udp/138"], &["netbios-ns"], None, None),
    ("sip", &["tcp/5060", "udp/5060"], &[], None, None),
    ("sips", &["tcp/5061", "udp/5061"], &[], None, None),
    ("smtp", &["tcp/25"], &[], None, None),
    ("smtp-submission", &["tcp/587"], &[], None, None),
    ("smtps", &["tcp/465"], &[], None, None),
    ("snmp", &["tcp/161", "udp/161"], &[], None, None),
    ("squid", &["tcp/3128"], &[], None, None),
    (
        "ssdp",
        &["udp/1900"],
        &[],
        Some("239.255.255.250"),
        Some("ff02::c"),
    ),
    ("ssh", &["tcp/22"], &[], None, None),
    ("svn", &["tcp/3690"], &[], None, None),
    ("syslog", &["udp/514"], &[], None, None),
    ("telnet", &["tcp/23"], &[], None, None),
    ("tftp", &["udp/69"], &[], None, None),
    ("tor-socks", &["tcp/9050"], &[], None, None),
    (
        "transmission-client",
        &["tcp/51413", "udp/51413"],
        &[],
        None,
        None,
    ),
    ("upnp-client", &["sport udp/1900"], &[], None, None),
    ("vnc-server", &["tcp/5900-5903"], &[], None, None),
    ("wireguard", &["udp/51820"], &[], None, None),
    (
        "ws-discovery",
        &[],
        &["ws-discovery-tcp", "ws-discovery-udp"],
        None,
        None,
    ),
    ("ws-discovery-client", &["sport udp/3702"], &[], None, None),
    ("ws-discovery-tcp", &["tcp/5357"], &[], None, None),
    (
        "ws-discovery-udp",
        &["udp/3702"],
        &[],
        Some("239.255.255.250"),
        Some("ff02::c"),
    ),
    ("wsman", &["tcp/5985"], &[], None, None),
    ("zabbix-agent", &["tcp/10050"], &[], None, None),
    ("zabbix-server", &["tcp/10051"], &[], None, None),
];

/// The stock policy `allow-host-ipv6` (priority -15000, ANY to HOST): the
/// ICMPv6 types IPv6 needs to work on the host, accepted before any zone.
const ALLOW_HOST_IPV6: [&str; 4] = [
    "neighbour-advertisement",
    "neighbour-solicitation",
    "router-advertisement",
    "redirect",
];

/// The stock definitions as one source text (one line per zone, service
/// or policy) and the objects with spans into it at `file`.
pub(crate) fn definitions(file: u32) -> (String, Vec<Zone>, Vec<Service>, Vec<Policy>) {
    let mut text = String::new();
    let mut line = 0u32;
    let mut next = |text: &mut String, entry: String| -> Span {
        line += 1;
        let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
        text.push_str(&entry);
        let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        text.push('\n');
        Span {
            file,
            line,
            column: 1,
            start,
            end,
        }
    };
    let mut zones = Vec::new();
    for (name, target, services, masquerade) in ZONES {
        let target_word = match target {
            ZoneTarget::Default => "default",
            ZoneTarget::Accept => "ACCEPT",
            ZoneTarget::Drop => "DROP",
            ZoneTarget::Reject => "%%REJECT%%",
        };
        let span = next(
            &mut text,
            format!(
                "zone {name}: target {target_word}; services {}; forward{}",
                if services.is_empty() {
                    "none".to_string()
                } else {
                    services.join(" ")
                },
                if *masquerade { "; masquerade" } else { "" }
            ),
        );
        zones.push(Zone {
            name: name.to_string(),
            span,
            target: *target,
            interfaces: Vec::new(),
            sources: Vec::new(),
            forward: true,
            elements: Elements {
                services: services
                    .iter()
                    .map(|s| Item {
                        value: s.to_string(),
                        span,
                    })
                    .collect(),
                masquerade: masquerade.then_some(span),
                ..Elements::default()
            },
            user: false,
            priority: None,
        });
    }
    let mut services = Vec::new();
    for (name, ports, includes, v4, v6) in SERVICES {
        let mut entry = format!("service {name}: {}", ports.join(" "));
        if !includes.is_empty() {
            entry += &format!("; includes {}", includes.join(" "));
        }
        if v4.is_some() || v6.is_some() {
            entry += &format!("; destination {} {}", v4.unwrap_or("-"), v6.unwrap_or("-"));
        }
        let span = next(&mut text, entry);
        let mut s = Service {
            name: name.to_string(),
            span,
            ports: Vec::new(),
            protocols: Vec::new(),
            source_ports: Vec::new(),
            helpers: Vec::new(),
            destination_v4: v4.and_then(super::read::net),
            destination_v6: v6.and_then(super::read::net),
            includes: includes
                .iter()
                .map(|i| Item {
                    value: i.to_string(),
                    span,
                })
                .collect(),
        };
        for p in *ports {
            if let Some(proto) = p.strip_prefix("proto/") {
                s.protocols.push(Item {
                    value: proto.to_string(),
                    span,
                });
                continue;
            }
            let (source, p) = match p.strip_prefix("sport ") {
                Some(rest) => (true, rest),
                None => (false, *p),
            };
            let Some((proto, range)) = p.split_once('/') else {
                continue;
            };
            let (Some(proto), Some(range)) =
                (PortProto::parse(proto), super::read::port_range(range))
            else {
                continue;
            };
            let item = Item {
                value: Port { range, proto },
                span,
            };
            if source {
                s.source_ports.push(item);
            } else {
                s.ports.push(item);
            }
        }
        services.push(s);
    }
    let span = next(
        &mut text,
        format!(
            "policy allow-host-ipv6: priority -15000; ANY to HOST; accept ipv6 icmp-type {}",
            ALLOW_HOST_IPV6.join(" ")
        ),
    );
    let item = |v: &str| Item {
        value: v.to_string(),
        span,
    };
    let policies = vec![Policy {
        name: "allow-host-ipv6".to_string(),
        span,
        priority: -15000,
        target: PolicyTarget::Continue,
        ingress: vec![item("ANY")],
        egress: vec![item("HOST")],
        disabled: None,
        elements: Elements {
            rules: ALLOW_HOST_IPV6
                .iter()
                .map(|t| Rich {
                    span,
                    family: Some(RichFamily::Ipv6),
                    priority: 0,
                    source: None,
                    destination: None,
                    element: Some(RichElement::IcmpType(t.to_string())),
                    log: None,
                    audit: None,
                    action: Some(RichAction::Accept),
                    action_limit: None,
                })
                .collect(),
            ..Elements::default()
        },
    }];
    (text, zones, services, policies)
}
