//! What nft refuses in a rule that parses: its evaluation step checks each
//! value against its field's type and size, and each statement against what
//! the statements before it say about the packet (the protocol context).
//! A ruleset nft would not load is reported here, where it is, rather than
//! read into a model of a firewall that cannot exist.
//!
//! The rules follow nftables' `src/evaluate.c` and datatypes; each check
//! says which of its messages it stands for.

use super::expr::number;
use crate::nft::ast::{NatKind, Op, Selector, Stmt, TableFamily, Value, Verdict};

/// The words of a statement or selector kept as text: a few, kept inline,
/// since plain rules of big rulesets are checked too.
type Words<'a> = smallvec::SmallVec<[&'a str; 6]>;

/// The network header a rule's earlier statements have fixed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Net {
    Ip,
    Ip6,
    Arp,
    /// Another ether type (`ether type vlan`, `meta protocol 0x88cc`).
    Other,
}

impl Net {
    fn name(self) -> &'static str {
        match self {
            Net::Ip => "ip",
            Net::Ip6 => "ip6",
            Net::Arp => "arp",
            Net::Other => "another protocol",
        }
    }
}

/// The protocol context of a rule as its statements are read, as nft keeps
/// it: the family's own network header, then what each match on a header
/// or protocol key fixes.
pub(super) struct RuleCtx {
    pub family: TableFamily,
    pub net: Option<Net>,
    /// A transport protocol was matched (`tcp dport`, `meta l4proto udp`,
    /// `ip protocol { tcp, udp }`), with its number when it is one.
    pub transport: Option<Option<u8>>,
    /// The transport protocol was matched against a set (`meta l4proto {
    /// tcp, udp }`): a header of one of them (`tcp dport`) then conflicts.
    several: bool,
    /// The ICMP or ICMPv6 type an equality fixed, for the fields that exist
    /// in only some types (`icmp mtu` in destination-unreachable).
    icmp_type: Option<u8>,
    /// Whether the base chain the rule is in hooks prerouting; `None` for
    /// a regular chain (which any hook may jump to).
    pub prerouting: Option<bool>,
    /// What `ether type` or `meta protocol` said, for the headers after it.
    ether: Option<String>,
    /// The statement that ended the rule (`accept`, `reject`, `dnat`, ...).
    terminal: Option<&'static str>,
}

impl RuleCtx {
    pub fn new(family: TableFamily) -> RuleCtx {
        let net = match family {
            TableFamily::Ip => Some(Net::Ip),
            TableFamily::Ip6 => Some(Net::Ip6),
            TableFamily::Arp => Some(Net::Arp),
            _ => None,
        };
        RuleCtx { family, net, transport: None, several: false, icmp_type: None, prerouting: None, ether: None, terminal: None }
    }

    /// Checks one statement against those before it, then takes in what it
    /// says about the packet.
    pub fn statement(&mut self, stmt: &Stmt) -> Result<(), String> {
        if let Some(t) = self.terminal {
            // A rule's comment is not a statement.
            if !matches!(stmt, Stmt::Effect(e) if e.as_str() == "comment") {
                return Err(format!("a statement after `{t}` has no effect: `{t}` ends the rule"));
            }
        }
        match stmt {
            Stmt::Match { left, op, right } => {
                if let [Selector::Other(text)] = left.as_slice() {
                    self.route(text, right)?;
                }
                self.saw_match(left, *op, right)?
            }
            Stmt::Vmap { left, map } => {
                check_values(left, map)?;
                for sel in left {
                    self.selector(sel, left.len() > 1)?;
                }
                overlaps(map)?;
            }
            Stmt::Verdict(v) => {
                if let Verdict::Reject(with) = v {
                    self.reject(with.as_deref())?;
                }
                self.terminal = match v {
                    Verdict::Accept => Some("accept"),
                    Verdict::Drop => Some("drop"),
                    Verdict::Reject(_) => Some("reject"),
                    Verdict::Jump(_) => Some("jump"),
                    Verdict::Goto(_) => Some("goto"),
                    Verdict::Return => Some("return"),
                    Verdict::Queue(_) => Some("queue"),
                    Verdict::Continue => None,
                };
            }
            Stmt::Nat { kind, family, addr, port } => {
                self.nat(kind, family.as_deref(), addr.as_deref(), port.is_some())?;
                self.terminal = Some(match kind {
                    NatKind::Dnat => "dnat",
                    NatKind::Snat => "snat",
                    NatKind::Masquerade => "masquerade",
                    NatKind::Redirect => "redirect",
                });
            }
            Stmt::Effect(e) if e.starts_with("meta broute set") => {
                // The kernel takes it only in a bridge prerouting chain.
                if self.family != TableFamily::Bridge || self.prerouting == Some(false) {
                    return Err("meta broute set is only valid in a bridge table's prerouting chain".into());
                }
            }
            Stmt::Unknown(text) => {
                let first = text.split_whitespace().next().unwrap_or("");
                if first == "tproxy" {
                    self.tproxy(text)?;
                }
                if matches!(first, "dnat" | "snat") {
                    self.nat_expression(text)?;
                }
                // `redirect to :tcp dport map { 83 : 80/3 }`: ports, never prefixes.
                if matches!(first, "redirect" | "masquerade") && text.contains(" map ") {
                    let data = text.split(',').filter_map(|e| e.split_once(" : ").map(|(_, d)| d)).find(|d| d.contains('/'));
                    if let Some(d) = data {
                        return Err(format!("{first} to a port map: `{}` is not a port", d.trim().trim_end_matches('}').trim()));
                    }
                }
                self.terminal = match first {
                    "dnat" => Some("dnat"),
                    "snat" => Some("snat"),
                    "masquerade" => Some("masquerade"),
                    "redirect" => Some("redirect"),
                    "fwd" => Some("fwd"),
                    _ => None,
                };
            }
            _ => {}
        }
        Ok(())
    }

    fn saw_match(&mut self, left: &[Selector], op: Op, right: &Value) -> Result<(), String> {
        check_values(left, right)?;
        for sel in left {
            self.selector(sel, left.len() > 1)?;
        }
        let [sel] = left else { return Ok(()) };
        if let Selector::Other(text) = sel {
            if text.starts_with("vlan ") {
                // The VLAN header follows only an ether type that says so.
                if let Some(e) = self.ether.as_deref().filter(|e| !matches!(*e, "vlan" | "8021q" | "8021ad" | "0x8100" | "0x88a8")) {
                    return Err(format!("conflicting protocols specified: `ether type {e}` vs. vlan"));
                }
            }
            if let Some(rest) = text.strip_prefix("ct original ").or_else(|| text.strip_prefix("ct reply ")) {
                self.ct_address(rest, right)?;
            }
        }
        // Only an equality with one value (or a set, for the transport)
        // fixes a protocol.
        if op != Op::Eq {
            return Ok(());
        }
        let one = match right {
            Value::Atom(a) => Some(a.as_str()),
            _ => None,
        };
        let several = matches!(right, Value::Set(_) | Value::SetRef(_));
        match sel {
            Selector::Payload { protocol, field } => match protocol.as_str() {
                "ip" | "ip6" => {
                    self.net = Some(if protocol == "ip" { Net::Ip } else { Net::Ip6 });
                    if matches!(field.as_str(), "protocol" | "nexthdr") {
                        self.transport_is(one, several);
                    }
                }
                "icmp" | "icmpv6" if field == "type" => {
                    if protocol == "icmp" {
                        self.net.get_or_insert(Net::Ip);
                    } else {
                        self.net.get_or_insert(Net::Ip6);
                    }
                    self.transport = Some(Some(if protocol == "icmp" { 1 } else { 58 }));
                    self.icmp_type = one.and_then(|t| crate::nft::lower::icmp_types(&[&Value::Atom(t.into())], protocol == "icmpv6").ok()).and_then(|ts| ts.first().copied());
                }
                "icmp" | "igmp" => {
                    self.net.get_or_insert(Net::Ip);
                    self.transport = Some(Some(if protocol == "icmp" { 1 } else { 2 }));
                }
                "icmpv6" => {
                    self.net.get_or_insert(Net::Ip6);
                    self.transport = Some(Some(58));
                }
                "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "ah" | "esp" | "comp" => {
                    self.transport = Some(crate::nft::lower::transport_protocols(protocol).and_then(|p| p.first().copied()).or(match protocol.as_str() {
                        "ah" => Some(51),
                        "esp" => Some(50),
                        "comp" => Some(108),
                        _ => None,
                    }));
                }
                _ => {}
            },
            Selector::Meta(key) => match key.as_str() {
                "l4proto" => self.transport_is(one, several),
                "nfproto" if self.family == TableFamily::Inet => {
                    self.net = match one {
                        Some("ipv4") => Some(Net::Ip),
                        Some("ipv6") => Some(Net::Ip6),
                        _ => self.net,
                    }
                }
                "protocol" if matches!(self.family, TableFamily::Bridge | TableFamily::Netdev) => self.ether_is(one),
                _ => {}
            },
            Selector::Other(text) if text == "ether type" || text == "vlan type" => self.ether_is(one),
            _ => {}
        }
        Ok(())
    }

    /// What a selector needs of the rule, whatever it is compared with.
    fn selector(&self, sel: &Selector, in_concat: bool) -> Result<(), String> {
        match sel {
            Selector::Meta(k) if matches!(k.as_str(), "ibrname" | "obrname" | "ibriport" | "obriport" | "ibrpvid" | "ibrvproto" | "ibrhwaddr" | "broute") => {
                if self.family != TableFamily::Bridge {
                    return Err(format!("meta {k} is only valid in bridge tables"));
                }
            }
            // Fields of some ICMP types only: nft adds the type as a
            // dependency, which conflicts with another type matched before.
            Selector::Payload { protocol, field } if matches!(protocol.as_str(), "icmp" | "icmpv6") && self.icmp_type.is_some() => {
                let needs: &[u8] = match (protocol.as_str(), field.as_str()) {
                    ("icmp", "mtu") => &[3],
                    ("icmp", "gateway") => &[5],
                    ("icmp", "id" | "sequence") => &[0, 8],
                    ("icmpv6", "mtu" | "packet-too-big") => &[2],
                    ("icmpv6", "id" | "sequence") => &[128, 129],
                    _ => &[],
                };
                if let Some(t) = self.icmp_type.filter(|t| !needs.is_empty() && !needs.contains(t)) {
                    return Err(format!("conflicting protocols specified: {protocol} {field} exists only in type {}, and the rule matched type {t}", needs.iter().map(u8::to_string).collect::<Vec<_>>().join(" or ")));
                }
            }
            // nft: "conflicting protocols specified: udp vs. tcp".
            Selector::Payload { protocol, .. } if self.several && matches!(protocol.as_str(), "tcp" | "udp" | "udplite" | "sctp" | "dccp") => {
                return Err(format!("conflicting protocols specified: a set of transport protocols was matched, then {protocol}; match {protocol} alone, or use `th` for the ports of any of them"));
            }
            Selector::Payload { protocol, .. } if matches!(protocol.as_str(), "ip" | "ip6") => {
                let want = if protocol == "ip" { Net::Ip } else { Net::Ip6 };
                if let Some(n @ (Net::Ip | Net::Ip6 | Net::Arp)) = self.net.filter(|n| *n != want) {
                    return Err(format!("conflicting protocols specified: {} vs. {}", n.name(), want.name()));
                }
            }
            Selector::Other(text) => {
                let words: Words = text.split_whitespace().collect();
                match words.as_slice() {
                    // Without a family, the address's type is known only from
                    // the value it is compared with: not in a concatenation.
                    ["ct", "original" | "reply", f @ ("saddr" | "daddr")] if in_concat => {
                        return Err(format!("`ct ... {f}` has no type in a concatenation: write `ct original ip {f}` or `ct original ip6 {f}`"));
                    }
                    ["vxlan" | "geneve", ..] if self.transport != Some(Some(17)) => {
                        return Err(format!("{} needs a UDP match first (such as `udp dport {}`)", words[0], if words[0] == "vxlan" { 4789 } else { 6081 }));
                    }
                    ["gre", "ether" | "vlan", ..] => return Err(format!("gre carries no {} header: use gretap", words[1])),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn transport_is(&mut self, one: Option<&str>, several: bool) {
        if let Some(p) = one {
            let n = crate::nft::lower::protocols(&[&Value::Atom(p.into())]).ok().and_then(|ps| ps.first().copied());
            self.transport = Some(n);
            self.several = false;
        } else if several {
            self.transport = Some(None);
            self.several = true;
        }
    }

    fn ether_is(&mut self, one: Option<&str>) {
        let Some(e) = one else { return };
        self.net = Some(match e {
            "ip" | "0x0800" | "0x800" => Net::Ip,
            "ip6" | "ipv6" | "0x86dd" => Net::Ip6,
            "arp" | "0x0806" | "0x806" => Net::Arp,
            _ => Net::Other,
        });
        self.ether = Some(e.to_string());
    }

    /// `ct original ip saddr 1.2.3.4`: the family must be said where the
    /// table does not say it, and the address must be of that family.
    fn ct_address(&self, rest: &str, right: &Value) -> Result<(), String> {
        let words: Words = rest.split_whitespace().collect();
        let (family, field) = match words.as_slice() {
            ["ip", f] => (Some(Net::Ip), *f),
            ["ip6", f] => (Some(Net::Ip6), *f),
            [f] => (None, *f),
            _ => return Ok(()),
        };
        if !matches!(field, "saddr" | "daddr") {
            return Ok(());
        }
        if let (Some(f), Some(n)) = (family, self.net)
            && f != n && matches!(n, Net::Ip | Net::Ip6) {
                return Err(format!("conflicting protocols specified: {} vs. {}", n.name(), f.name()));
            }
        let Some(want) = family.or(self.net) else {
            return Err(format!("cannot tell which family `ct ... {field}` is: write `ct original ip {field}` or `ct original ip6 {field}`"));
        };
        address_family(right, want, &format!("ct {field}"))
    }

    /// nft's `stmt_evaluate_reject*`: the ICMP code must be one of its
    /// kind, and the kind must fit the family the rule is in.
    pub fn reject(&self, with: Option<&str>) -> Result<(), String> {
        // `KIND [type|code] CODE` or `tcp reset`, read in place: every
        // reject rule of a big ruleset comes here.
        let text = with.unwrap_or("").trim_ascii();
        let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
        let rest = rest.trim_ascii_start();
        let code = rest.strip_prefix("type ").or_else(|| rest.strip_prefix("code ")).unwrap_or(rest).trim_ascii();
        let (kind, code) = match (first, code) {
            ("", _) => ("", ""),
            ("tcp", "reset" | "rst") => ("tcp", ""),
            (k @ ("icmp" | "icmpv6" | "icmp6" | "icmpx"), c) if !c.is_empty() && !c.bytes().any(|b| b == b' ') => (k, c),
            _ => return Err(format!("expected `reject with icmp|icmpv6|icmpx CODE` or `reject with tcp reset`, found `reject with {}`", with.unwrap_or(""))),
        };
        let kind = if kind == "icmp6" { "icmpv6" } else { kind };
        if !code.is_empty() {
            let names: &[&str] = match kind {
                "icmp" => &["net-unreachable", "host-unreachable", "prot-unreachable", "port-unreachable", "net-prohibited", "host-prohibited", "admin-prohibited", "frag-needed"],
                "icmpv6" => &["no-route", "admin-prohibited", "addr-unreachable", "port-unreachable", "policy-fail", "reject-route"],
                _ => &["port-unreachable", "admin-prohibited", "no-route", "host-unreachable"],
            };
            // Names first: nearly every rule names its code.
            if !names.contains(&code) {
                match number(code) {
                    Some(n) if n > 255 => return Err(format!("reject code must be a number from 0 to 255, found {code}")),
                    Some(_) => {}
                    None => return Err(format!("`{code}` is not an {kind} code; expected one of {}", names.join(", "))),
                }
            }
        }
        let fam = self.family;
        if fam == TableFamily::Arp {
            return Err("cannot use reject with arp".into());
        }
        match kind {
            "tcp" => {
                if let Some(Some(p)) = self.transport
                    && p != 6 {
                        return Err("you cannot use tcp reset with this protocol".into());
                    }
                if matches!(fam, TableFamily::Bridge | TableFamily::Netdev) && matches!(self.net, Some(Net::Arp)) {
                    return Err("cannot reject this network family".into());
                }
            }
            "icmpx" => {
                if matches!(fam, TableFamily::Ip | TableFamily::Ip6) {
                    return Err("`reject with icmpx` is for inet, bridge and netdev tables; use icmp or icmpv6 here".into());
                }
                if matches!(fam, TableFamily::Bridge | TableFamily::Netdev) && matches!(self.net, Some(Net::Arp)) {
                    return Err("cannot reject this network family".into());
                }
            }
            "icmp" | "icmpv6" => {
                let want = if kind == "icmp" { Net::Ip } else { Net::Ip6 };
                match self.net {
                    Some(n @ (Net::Ip | Net::Ip6)) if n != want => return Err(format!("conflicting protocols specified: {} vs. {}", n.name(), want.name())),
                    Some(Net::Arp) if matches!(fam, TableFamily::Bridge | TableFamily::Netdev) => return Err("cannot reject this network family".into()),
                    _ => {}
                }
            }
            _ => {
                if matches!(fam, TableFamily::Bridge | TableFamily::Netdev) && matches!(self.net, Some(Net::Arp)) {
                    return Err("cannot reject this network family".into());
                }
            }
        }
        Ok(())
    }

    /// nft's `stmt_evaluate_nat`: NAT is for IPv4 and IPv6; the family said
    /// must agree with the rule's; an address must be of the family (which
    /// an inet table must be told); a port needs a transport protocol.
    fn nat(&self, kind: &NatKind, family: Option<&str>, addr: Option<&str>, port: bool) -> Result<(), String> {
        let name = match kind {
            NatKind::Dnat => "dnat",
            NatKind::Snat => "snat",
            NatKind::Masquerade => "masquerade",
            NatKind::Redirect => "redirect",
        };
        let family = family.map(|f| if f == "ip" { Net::Ip } else { Net::Ip6 });
        self.l3(name, family, addr)?;
        if port && self.transport.is_none() {
            return Err(format!("`{name} to ...:PORT`: a transport protocol mapping is only valid after a transport protocol match (such as `tcp dport` or `meta l4proto tcp`)"));
        }
        Ok(())
    }

    /// The family checks NAT and tproxy share (`stmt_evaluate_l3proto`,
    /// `stmt_evaluate_addr`).
    fn l3(&self, name: &str, family: Option<Net>, addr: Option<&str>) -> Result<(), String> {
        if !matches!(self.family, TableFamily::Ip | TableFamily::Ip6 | TableFamily::Inet) {
            return Err(format!("{name} is only supported for IPv4 and IPv6 (ip, ip6 and inet tables)"));
        }
        if let (Some(f), Some(n)) = (family, self.net)
            && f != n {
                return Err(format!("conflicting protocols specified: {} vs. {}; you must say ip or ip6 in the {name} statement as the rule does", n.name(), f.name()));
            }
        let Some(addr) = addr else { return Ok(()) };
        let Some(want) = family.or(self.net) else {
            return Err(format!("specify `{name} ip` or `{name} ip6` in an inet table to disambiguate"));
        };
        address_family(&Value::Atom(addr.into()), want, name)
    }

    /// `rt nexthop ADDR`: its family is the table's, or written out.
    fn route(&self, text: &str, right: &Value) -> Result<(), String> {
        let family = match text {
            "rt nexthop" => None,
            "rt ip nexthop" => Some(Net::Ip),
            "rt ip6 nexthop" => Some(Net::Ip6),
            _ => return Ok(()),
        };
        if let (Some(f), Some(n @ (Net::Ip | Net::Ip6))) = (family, self.net)
            && f != n {
                return Err(format!("conflicting protocols specified: {} vs. {}", n.name(), f.name()));
            }
        let Some(want) = family.or(self.net) else {
            return Err("cannot tell which family `rt nexthop` is: write `rt ip nexthop` or `rt ip6 nexthop`".into());
        };
        address_family(right, want, "rt nexthop")
    }

    /// `snat ip to ip saddr map { ... : 192.168.2.3 . 80 }`: a NAT to an
    /// expression. Its family must agree with the headers it reads, and
    /// an address-and-port mapping needs a transport protocol.
    fn nat_expression(&self, text: &str) -> Result<(), String> {
        let words: Words = text.split_whitespace().collect();
        let name = words.first().copied().unwrap_or("");
        let family = match words.get(1) {
            Some(&"ip") => Some(Net::Ip),
            Some(&"ip6") => Some(Net::Ip6),
            _ => None,
        };
        let Some(to) = words.iter().position(|w| *w == "to") else { return Ok(()) };
        let map = words.iter().position(|w| *w == "map").unwrap_or(words.len());
        let key = words.get(to + 1..map).unwrap_or(&[]);
        if let Some(f) = family {
            for w in key {
                let other = match *w {
                    "ip" => Net::Ip,
                    "ip6" => Net::Ip6,
                    _ => continue,
                };
                if other != f {
                    return Err(format!("conflicting protocols specified: {name} {} to an expression on {} headers", f.name(), other.name()));
                }
            }
        }
        if map < words.len() && self.transport.is_none() {
            // Data `ADDR . PORT`: any `:` element whose data is a concatenation.
            let body = words.get(map + 1..).unwrap_or(&[]).join(" ");
            let concat_data = body.split(',').any(|e| e.split_once(" : ").is_some_and(|(_, d)| d.contains(" . ")));
            let keyed_by_transport = key.iter().any(|w| matches!(*w, "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "l4proto" | "protocol" | "nexthdr"));
            if concat_data && !keyed_by_transport {
                return Err(format!("{name}: a mapping to address and port is only valid after a transport protocol match"));
            }
        }
        Ok(())
    }

    /// nft's `stmt_evaluate_tproxy`, on the words of `tproxy [ip|ip6] to ADDR[:PORT]`.
    fn tproxy(&self, text: &str) -> Result<(), String> {
        if !matches!(self.family, TableFamily::Ip | TableFamily::Ip6 | TableFamily::Inet) {
            return Err("tproxy is only supported for IPv4, IPv6 and inet tables".into());
        }
        if self.transport.is_none() {
            return Err("transparent proxy support requires a transport protocol match (such as `meta l4proto tcp`)".into());
        }
        let mut words = text.split_whitespace().skip(1).peekable();
        let family = match words.peek() {
            Some(&"ip") => Some(Net::Ip),
            Some(&"ip6") => Some(Net::Ip6),
            _ => None,
        };
        if family.is_some() {
            words.next();
        }
        if words.next() != Some("to") {
            return Err("tproxy needs an address or a port: `tproxy [ip|ip6] to ADDR[:PORT]` or `to :PORT`".into());
        }
        // `[2001:db8::1]:80` (which the lexer may cut at the brackets),
        // `1.2.3.4:80`, `:80`, `2001:db8::1`.
        let addr = match words.next() {
            None => return Err("tproxy needs an address or a port after `to`".into()),
            Some("[") => words.next(),
            Some(w) if w.starts_with(':') => None,
            Some(w) if w.matches(':').count() == 1 => w.split(':').next(),
            Some(w) => w.trim_start_matches('[').split(']').next(),
        };
        // An address written as an expression (`127.0.0.1:symhash ...`) is
        // checked by its own words.
        self.l3("tproxy", family, addr.filter(|a| a.parse::<std::net::IpAddr>().is_ok()))
    }
}

/// Whether every address a value holds is of the family.
fn address_family(v: &Value, want: Net, what: &str) -> Result<(), String> {
    let mut bad = None;
    each_atom(v, &mut |a| {
        let a = a.split('/').next().unwrap_or(a);
        let fam = match a.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => Net::Ip,
            Ok(std::net::IpAddr::V6(_)) => Net::Ip6,
            Err(_) => return,
        };
        if fam != want && bad.is_none() {
            bad = Some(a.to_string());
        }
    });
    match bad {
        Some(a) => Err(format!("`{a}` is not an {} address, and {what} here takes one", if want == Net::Ip { "IPv4" } else { "IPv6" })),
        None => Ok(()),
    }
}

/// Every atom and range end in a value, set elements' keys included.
fn each_atom<'v>(v: &'v Value, f: &mut impl FnMut(&'v str)) {
    match v {
        Value::Atom(a) => f(a.as_str()),
        Value::Range(a, b) => {
            f(a.as_str());
            f(b.as_str());
        }
        Value::Set(es) => {
            for e in es {
                each_atom(&e.key, f);
            }
        }
        Value::Concat(parts) => parts.iter().for_each(|p| each_atom(p, f)),
        Value::Flags(fl) => fl.iter().for_each(|w| f(w.as_str())),
        Value::SetRef(_) | Value::Masked { .. } => {}
    }
}

/// What a field holds, as far as its values can be checked as written.
#[derive(Clone, Copy)]
enum Field {
    /// An unsigned number of so many bits, or a name nft knows for it.
    Bits(u32),
    /// A number of so many bits, and nothing else.
    Number(u32),
    /// A number of so many bits or one of these names.
    Names(&'static [&'static str], u64),
    /// A string of 1 to so many bytes.
    Text(usize),
    /// A connection label: a bit number up to 127, or a name.
    Label,
    /// `meta hour`: seconds, `HH:MM` or `HH:MM:SS`.
    Hour,
    /// `meta time`: seconds since the epoch or an ISO date.
    Date,
    /// `ct expiration`: a duration; only its ranges are checked.
    Duration,
}

const CT_STATUS: &[&str] = &["expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying"];
const DAYS: &[&str] = &["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
pub(super) const CT_EVENTS: &[&str] = &["new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark", "seqadj", "secmark", "label"];

/// The field a selector reads, where its values can be checked.
fn field(sel: &Selector) -> Option<Field> {
    use Field::*;
    // Addresses, the most common selector, first: their values the lowering reads.
    if let Selector::Payload { field, .. } = sel {
        if matches!(field.as_bytes(), b"saddr" | b"daddr") {
            return None;
        }
    }
    Some(match sel {
        Selector::Payload { protocol, field } => match (protocol.as_str(), field.as_str()) {
            ("ip" | "ip6", "version") | ("ip", "hdrlength") | ("tcp", "doff") => Number(4),
            ("ip" | "ip6", "dscp") => Bits(6),
            ("ip" | "ip6", "ecn") => Bits(2),
            ("ip6", "flowlabel") => Number(20),
            ("ip", "ttl") | ("ip6", "hoplimit") => Number(8),
            ("ip", "length" | "id") | ("ip6", "length") | ("tcp", "window" | "urgptr") | ("udp" | "udplite", "length") => Number(16),
            ("srh", "last-entry" | "flags") => Number(8),
            ("srh", "tag") => Number(16),
            // Ports and ICMP types are read (and checked) by the lowering.
            ("icmp" | "icmpv6", "code") => Bits(8),
            _ => return None,
        },
        Selector::Meta(key) => match key.as_str() {
            "mark" => Number(32),
            "pkttype" => Names(&["host", "unicast", "broadcast", "multicast", "other"], 255),
            "day" => Names(DAYS, 6),
            "hour" => Hour,
            "time" => Date,
            _ => return None,
        },
        Selector::Ct(key) => match key.as_str() {
            "mark" | "id" => Number(32),
            "zone" => Number(16),
            "direction" => Names(&["original", "reply"], 1),
            "status" => Names(CT_STATUS, u32::MAX as u64),
            "l3proto" => Names(&["ipv4", "ipv6"], 255),
            "helper" => Text(16),
            "expiration" => Duration,
            "label" => Label,
            _ => return None,
        },
        Selector::Other(text) => {
            let words: Words = text.split_whitespace().collect();
            match words.as_slice() {
                ["vlan", "id"] => Number(12),
                ["vlan", "dei" | "cfi"] => Number(1),
                ["vlan", "pcp"] => Number(3),
                ["socket", "transparent" | "wildcard"] => Number(1),
                ["ct", "original" | "reply", "zone"] => Number(16),
                ["osf", .., "name" | "version"] => Text(16),
                // `@th,16,1`, `tcp option @255,8,8`
                [.., raw] if raw.starts_with('@') => Number(raw.rsplit(',').next().and_then(|l| l.parse::<u32>().ok()).filter(|l| *l <= 64)?),
                _ => return None,
            }
        }
    })
}

/// nft's value checks for a match: each value must be of its field's type
/// and fit its size; a range must not run backwards.
pub(super) fn check_values(left: &[Selector], right: &Value) -> Result<(), String> {
    match (left, right) {
        ([sel], _) => {
            // Only fields of numbers and times have ranges to check; an
            // address set (the big ones) is not walked again.
            let Some(f) = field(sel) else { return Ok(()) };
            check_value(sel, f, right)?;
            range_order(right)
        }
        // A concatenation: each part against its own selector.
        (sels, Value::Concat(parts)) if sels.len() == parts.len() => sels.iter().zip(parts).try_for_each(|(s, p)| check_values(std::slice::from_ref(s), p)),
        (sels, Value::Set(es)) => es.iter().try_for_each(|e| match &e.key {
            Value::Concat(parts) if parts.len() == sels.len() => sels.iter().zip(parts).try_for_each(|(s, p)| check_values(std::slice::from_ref(s), p)),
            _ => Ok(()),
        }),
        _ => Ok(()),
    }
}

fn check_value(sel: &Selector, f: Field, v: &Value) -> Result<(), String> {
    let mut err = None;
    each_atom(v, &mut |a| {
        if err.is_none() {
            err = check_atom(f, a).err();
        }
    });
    match err {
        Some(e) => Err(format!("{}: {e}", crate::nft::lower::selectors_text(std::slice::from_ref(sel)))),
        None => Ok(()),
    }
}

fn fits(n: u64, bits: u32) -> bool {
    bits >= 64 || n < (1u64 << bits)
}

fn too_big(a: &str, bits: u32) -> String {
    format!("value {a} exceeds the field's {bits} bits (at most {})", if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 })
}

fn check_atom(f: Field, a: &str) -> Result<(), String> {
    // `0x32-0x2222` (a range the parser keeps as one word) and a mark's
    // `0xffffff00/24`: each number on its own.
    if let Field::Bits(bits) | Field::Number(bits) = f {
        if let Some((x, y)) = a.split_once('-').filter(|(x, y)| number(x).is_some() && number(y).is_some()) {
            check_atom(f, x)?;
            return check_atom(f, y);
        }
        if let Some((x, len)) = a.split_once('/') {
            if len.parse::<u32>().is_ok_and(|l| l > bits) {
                return Err(format!("prefix /{len} is longer than the field's {bits} bits"));
            }
            return check_atom(f, x);
        }
    }
    match f {
        Field::Bits(bits) => match number(a) {
            Some(n) if !fits(n, bits) => Err(too_big(a, bits)),
            _ => Ok(()),
        },
        Field::Number(bits) => match number(a) {
            Some(n) if !fits(n, bits) => Err(too_big(a, bits)),
            Some(_) => Ok(()),
            None => Err(format!("expected a number, found `{a}`")),
        },
        Field::Names(names, max) => match number(a) {
            Some(n) if n > max => Err(format!("value {a} is out of range (at most {max})")),
            Some(_) => Ok(()),
            None if names.contains(&a) => Ok(()),
            None => Err(format!("unknown value `{a}`, expected one of {}", names.join(", "))),
        },
        Field::Text(max) => {
            if a.is_empty() {
                Err("the string is empty".into())
            } else if a.len() > max {
                Err(format!("\"{a}\" is longer than {max} bytes"))
            } else {
                Ok(())
            }
        }
        Field::Label => match number(a) {
            Some(n) if n > 127 => Err(format!("connection label {a} is out of range: labels are bits 0 to 127")),
            _ => Ok(()),
        },
        Field::Hour => {
            if a.bytes().all(|b| b.is_ascii_digit()) && !a.is_empty() {
                return Ok(());
            }
            let parts: Vec<Option<u32>> = a.split(':').map(|p| (p.len() == 2).then(|| p.parse().ok()).flatten()).collect();
            let ok = match parts.as_slice() {
                [Some(h), Some(m)] => *h <= 23 && *m <= 59,
                [Some(h), Some(m), Some(s)] => *h <= 23 && *m <= 59 && *s <= 60,
                _ => false,
            };
            if ok { Ok(()) } else { Err(format!("`{a}` is not a time of day (HH:MM or HH:MM:SS, hours 00 to 23)")) }
        }
        Field::Duration => Ok(()),
        Field::Date => {
            if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) || iso_date(a) {
                Ok(())
            } else {
                Err(format!("cannot parse `{a}` as a date (YYYY-MM-DD [HH:MM[:SS]] or seconds since 1970)"))
            }
        }
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS`.
fn iso_date(a: &str) -> bool {
    let (date, time) = a.split_once(' ').unwrap_or((a, ""));
    let d: Vec<&str> = date.split('-').collect();
    let date_ok = matches!(d.as_slice(), [y, m, dd] if y.len() == 4 && y.parse::<u32>().is_ok() && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)) && dd.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)));
    date_ok && (time.is_empty() || check_atom(Field::Hour, time).is_ok())
}

/// A range's start must not be after its end (`ct expiration 1d-1h`).
fn range_order(v: &Value) -> Result<(), String> {
    let mut err = None;
    let mut check = |a: &str, b: &str| {
        let (x, y) = match (number(a).or_else(|| duration(a)), number(b).or_else(|| duration(b))) {
            (Some(x), Some(y)) => (x, y),
            _ => return,
        };
        if x > y && err.is_none() {
            err = Some(format!("range `{a}-{b}` runs backwards: its start is after its end"));
        }
    };
    let mut one = |v: &Value| match v {
        Value::Range(a, b) => check(a, b),
        // `1d-1h`: a range the parser keeps as one word.
        Value::Atom(w) => {
            if let Some((a, b)) = w.split_once('-') {
                check(a, b);
            }
        }
        _ => {}
    };
    match v {
        Value::Set(es) => es.iter().for_each(|e| one(&e.key)),
        other => one(other),
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `1d2h3m4s5ms` in milliseconds.
fn duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut n = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let v: u64 = n.parse().ok()?;
        n.clear();
        let unit = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1000,
            _ => return None,
        };
        total = total.checked_add(v.checked_mul(unit)?)?;
        any = true;
    }
    if !n.is_empty() {
        return None;
    }
    any.then_some(total)
}

/// `log` options, as (keyword, value) pairs: nft's `stmt_evaluate_log`.
pub(super) fn log(opts: &[(&str, &str)]) -> Result<(), String> {
    let has = |k: &str| opts.iter().any(|(o, _)| *o == k);
    // `group`, `snaplen` and `queue-threshold` send to nflog; `level` and
    // `flags` are for the kernel log.
    let group = ["group", "snaplen", "queue-threshold"].into_iter().find(|k| has(k));
    if let Some(g) = group {
        if let Some(k) = ["level", "flags"].into_iter().find(|k| has(k)) {
            return Err(format!("log: {k} and {g} are mutually exclusive ({g} sends to nflog, {k} is for the kernel log)"));
        }
    }
    if opts.iter().any(|(o, v)| *o == "level" && *v == "audit") && opts.len() > 1 {
        return Err("log level audit doesn't support any further options".into());
    }
    for (o, v) in opts {
        match *o {
            "prefix" if v.is_empty() => return Err("log prefix must have a minimum length of 1 character".into()),
            "prefix" if v.len() >= 128 => return Err("log prefix is too long (at most 127 bytes)".into()),
            "level" if !matches!(*v, "emerg" | "alert" | "crit" | "err" | "warn" | "notice" | "info" | "debug" | "audit") => {
                return Err(format!("unknown log level `{v}`, expected one of emerg, alert, crit, err, warn, notice, info, debug, audit"));
            }
            "group" | "snaplen" | "queue-threshold" if number(v).is_none() => return Err(format!("log {o}: expected a number, found `{v}`")),
            "group" | "queue-threshold" if number(v).is_some_and(|n| n > 65535) => return Err(format!("log {o} {v} exceeds 65535")),
            _ => {}
        }
    }
    Ok(())
}

/// `limit rate [over] N[/]UNIT [burst N UNIT]`: a packet rate takes a
/// burst in packets, a byte rate in bytes; byte units go up to mbytes.
pub(super) fn limit(words: &[&str]) -> Result<(), String> {
    if words.first() != Some(&"limit") {
        return Ok(());
    }
    // Glue the words back: `1 kbytes / second` and `1025bytes/second`.
    let text = words.join(" ");
    let Some(rest) = text.strip_prefix("limit rate") else { return Ok(()) };
    let rest = rest.trim_start().trim_start_matches("over").trim_start();
    let (rate, burst) = match rest.split_once("burst") {
        Some((r, b)) => (r.trim(), Some(b.trim())),
        None => (rest.trim(), None),
    };
    let unit_of = |s: &str| -> String { s.trim_start_matches(|c: char| c.is_ascii_digit()).trim().split('/').next().unwrap_or("").trim().to_string() };
    if rate.starts_with('{') || rate.starts_with('@') || rate.starts_with('$') {
        return Err("limit rate takes one rate, not a set".into());
    }
    let rate_unit = unit_of(rate);
    let bytes_rate = match rate_unit.as_str() {
        "" | "packets" => false,
        "bytes" | "kbytes" | "mbytes" => true,
        other => return Err(format!("limit: unknown rate unit `{other}`, expected bytes, kbytes or mbytes")),
    };
    if let Some(b) = burst {
        let unit = b.trim_start_matches(|c: char| c.is_ascii_digit()).split_whitespace().next().unwrap_or("");
        let bytes_burst = match unit {
            "" | "packets" => false,
            "bytes" | "kbytes" | "mbytes" => true,
            other => return Err(format!("limit: unknown burst unit `{other}`")),
        };
        if bytes_burst != bytes_rate {
            return Err(format!("limit: a {} rate takes a burst in {}", if bytes_rate { "byte" } else { "packet" }, if bytes_rate { "bytes" } else { "packets" }));
        }
    }
    Ok(())
}

/// `queue [flags F] [num|to] N|A-B|EXPR`: nft's `stmt_evaluate_queue`.
pub(super) fn queue(words: &[&str]) -> Result<(), String> {
    let mut fanout = words.contains(&"fanout");
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w == "flags" {
            // `flags bypass,fanout`
            while i < words.len() && (words[i] == "," || matches!(words[i], "bypass" | "fanout")) {
                fanout |= words[i] == "fanout";
                i += 1;
            }
            continue;
        }
        if w != "num" && w != "to" {
            continue;
        }
        let target = &words[i..];
        let Some(&first) = target.first() else { return Err(format!("queue {w}: expected a queue number")) };
        let plain = |s: &str| -> Option<(u64, u64)> {
            match s.split_once('-') {
                Some((a, b)) => Some((number(a)?, number(b)?)),
                None => number(s).map(|n| (n, n)),
            }
        };
        if let Some((a, b)) = plain(first) {
            if fanout && !first.contains('-') {
                return Err("queue fanout requires a range to be specified".into());
            }
            if b > 65535 || a > 65535 {
                return Err(format!("queue number {first} exceeds 65535"));
            }
            if a > b {
                return Err(format!("queue range {first} runs backwards"));
            }
            return Ok(());
        }
        if w == "num" {
            return Err(format!("queue num takes a number or a range, found `{first}` (use `queue to EXPR`)"));
        }
        if fanout {
            return Err("queue fanout requires a range to be specified".into());
        }
        // An expression: a hash or number generator bounded by `mod N
        // [offset M]`, or a map of queue numbers.
        if target.contains(&"map") {
            return Ok(());
        }
        if matches!(first, "jhash" | "symhash" | "numgen") {
            let after = |k: &str| target.iter().position(|t| *t == k).and_then(|p| target.get(p + 1)).and_then(|n| number(n));
            let max = after("mod").unwrap_or(0).saturating_sub(1).saturating_add(after("offset").unwrap_or(0));
            if max > 65535 {
                return Err(format!("queue expression max value exceeds 65535 (it can reach {max})"));
            }
            return Ok(());
        }
        return Err(format!("queue expression max value exceeds 65535: `{first}` is not a queue number"));
    }
    Ok(())
}

/// `SELECTOR set EXPR`: a field takes one value, never a set; a number
/// must fit the field; `ct event set` takes event names.
pub(super) fn set_value(left: &[Selector], words: &[&str]) -> Result<(), String> {
    let what = crate::nft::lower::selectors_text(left);
    if words.first() == Some(&"{") {
        return Err(format!("cannot set {what} to a set of values: a field holds one value"));
    }
    let [sel] = left else { return Ok(()) };
    // Keys the kernel only reads: it refuses a rule that sets them.
    if let Selector::Meta(k) = sel
        && !matches!(k.as_str(), "mark" | "priority" | "pkttype" | "nftrace" | "secmark" | "broute") {
            return Err(format!("meta {k} cannot be set: the kernel only reads it"));
        }
    if let Selector::Other(t) = sel
        && ["vxlan ", "geneve ", "gre ", "gretap "].iter().any(|p| t.starts_with(p)) {
            return Err(format!("cannot set {t}: the headers inside a tunnel cannot be changed"));
        }
    if matches!(sel, Selector::Ct(k) if k.as_str() == "event") {
        for w in words.iter().filter(|w| !matches!(**w, "," | "|" | "or")) {
            if number(w).is_none() && !CT_EVENTS.contains(w) {
                return Err(format!("ct event set: unknown event `{w}`, expected one of {}", CT_EVENTS.join(", ")));
            }
        }
        return Ok(());
    }
    // `ct original saddr` has no type of its own for a map to be keyed by.
    for w in words.windows(3) {
        if w[0] == "ct" && matches!(w[1], "original" | "reply") && matches!(w[2], "saddr" | "daddr") {
            return Err(format!("`ct {} {}` has no type as a map key: write `ct {} ip {}` or `ct {} ip6 {}`", w[1], w[2], w[1], w[2], w[1], w[2]));
        }
    }
    // Numbers in a plain expression (`ip dscp set ip dscp & 0x4f`) must
    // fit the field; a map's keys are of another type.
    for (key, data) in map_elements(words) {
        // A map's data is what the field is set to: one value, never a prefix.
        if let Some(p) = data.iter().find(|w| w.contains('/')) {
            return Err(format!("{what} set: `{p}` is a prefix, not a value"));
        }
        // `tcp / 22`: only an address takes a prefix.
        if let Some(i) = key.iter().position(|w| *w == "/") {
            let before = if i > 0 { key[i - 1] } else { "" };
            if before.parse::<std::net::IpAddr>().is_err() {
                return Err(format!("{what} set: `{before} / {}` in a map key: only an address takes a prefix", key.get(i + 1).copied().unwrap_or("")));
            }
        }
    }
    if words.iter().any(|w| matches!(*w, "map" | "{" | "<<" | ">>" | "lshift" | "rshift")) {
        return Ok(());
    }
    match field(sel) {
        Some(Field::Bits(bits) | Field::Number(bits)) => {
            for w in words {
                if let Some(n) = number(w)
                    && !fits(n, bits) {
                        return Err(format!("{what} set: {}", too_big(w, bits)));
                    }
            }
            Ok(())
        }
        Some(f @ (Field::Names(..) | Field::Label)) if words.len() == 1 => check_atom(f, words[0]).map_err(|e| format!("{what} set: {e}")),
        _ => Ok(()),
    }
}

/// A duration such as `300s` or `1h30m`.
pub(super) fn is_duration(s: &str) -> bool {
    duration(s).is_some()
}

/// `fib FLAGS RESULT`: one of saddr and daddr; iif and oif exclude each other.
pub(super) fn fib(words: &[String]) -> Result<(), String> {
    let flags: Vec<&str> = words.get(1..words.len().saturating_sub(1)).unwrap_or(&[]).iter().map(String::as_str).filter(|w| *w != ".").collect();
    for f in &flags {
        if !matches!(*f, "saddr" | "daddr" | "mark" | "iif" | "oif") {
            return Err(format!("fib: unknown flag `{f}`, expected saddr, daddr, mark, iif or oif"));
        }
    }
    let has = |f: &str| flags.contains(&f);
    if has("saddr") == has("daddr") {
        return Err("fib: exactly one of saddr and daddr is required".into());
    }
    if has("iif") && has("oif") {
        return Err("fib: iif and oif are mutually exclusive".into());
    }
    Ok(())
}

/// A TCP option by name or kind, and the field read from it.
pub(super) fn tcp_option(name: &str, field: Option<&str>) -> Result<(), String> {
    let fields: &[&str] = match name {
        "eol" | "nop" | "noop" => &["kind"],
        "maxseg" | "mss" => &["kind", "length", "size"],
        "window" => &["kind", "length", "count"],
        "sack-perm" | "sack-permitted" | "fastopen" | "md5sig" => &["kind", "length"],
        "sack" | "sack0" | "sack1" | "sack2" | "sack3" => &["kind", "length", "left", "right"],
        "timestamp" => &["kind", "length", "tsval", "tsecr"],
        "mptcp" => &["kind", "length", "subtype"],
        _ if name.starts_with('@') => return Ok(()),
        _ => match number(name) {
            Some(n) if n <= 255 => return Ok(()),
            Some(_) => return Err(format!("tcp option {name}: an option kind is a number from 0 to 255")),
            None => return Err(format!("unknown tcp option `{name}`")),
        },
    };
    match field {
        Some(f) if !fields.contains(&f) => Err(format!("tcp option {name} has no field `{f}`, only {}", fields.join(", "))),
        _ => Ok(()),
    }
}

/// The words of a selector kept as text (`tcp option sack left`, `ipsec in
/// spnum 3 reqid`, `osf ttl skip name`): what nft knows of each.
pub(super) fn selector_words(words: &[String]) -> Result<(), String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["tcp", "option", name, rest @ ..] => tcp_option(name, rest.first().copied()),
        ["ipsec", dir, rest @ ..] => {
            if !matches!(*dir, "in" | "out") {
                return Err(format!("ipsec: expected `in` or `out`, found `{dir}`"));
            }
            if let Some(n) = rest.first().and_then(|r| r.strip_prefix("spnum "))
                && number(n).is_none_or(|n| n > 255) {
                    return Err(format!("ipsec spnum {n}: a policy number is from 0 to 255"));
                }
            Ok(())
        }
        ["osf", "ttl", ttl, ..] if !matches!(*ttl, "loose" | "skip") => Err(format!("osf ttl: expected `loose` or `skip`, found `{ttl}`")),
        _ => Ok(()),
    }
}

/// A verdict map's intervals must not overlap (nft: "conflicting intervals
/// specified"): which verdict applies would be unclear.
fn overlaps(map: &Value) -> Result<(), String> {
    let Value::Set(es) = map else { return Ok(()) };
    let mut spans: Vec<(u128, u128, String)> = Vec::new();
    for e in es {
        let (a, b) = match &e.key {
            Value::Range(a, b) => (a.as_str(), b.as_str()),
            Value::Atom(a) => match a.split_once('-') {
                Some((x, y)) if number(x).is_some() && number(y).is_some() => (x, y),
                _ => (a.as_str(), a.as_str()),
            },
            _ => continue,
        };
        let as_int = |s: &str| -> Option<u128> {
            match s.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(v)) => Some(u32::from(v) as u128),
                Ok(std::net::IpAddr::V6(v)) => Some(u128::from(v)),
                Err(_) => number(s).map(u128::from),
            }
        };
        if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
            spans.push((x, y, crate::nft::lower::value_text(&e.key)));
        }
    }
    spans.sort();
    for w in spans.windows(2) {
        if w[1].0 <= w[0].1 {
            return Err(format!("conflicting intervals specified: {} overlaps {}", w[0].2, w[1].2));
        }
    }
    Ok(())
}

/// The words of an expression ending in `map { KEY : DATA, ... }`: every
/// element has its data, and nothing but flags follows the map.
pub(super) fn inline_map(words: &[String]) -> Result<(), String> {
    let Some(open) = words.iter().position(|w| w == "map").filter(|m| words.get(m + 1).is_some_and(|w| w == "{")) else { return Ok(()) };
    let mut depth = 0usize;
    let mut element_has_data = false;
    let mut element_empty = true;
    for (i, w) in words.iter().enumerate().skip(open + 1) {
        match w.as_str() {
            "{" => depth += 1,
            "}" | "," if depth == 1 => {
                if !element_empty && !element_has_data {
                    return Err("an element of a map needs `: data`".into());
                }
                element_has_data = false;
                element_empty = true;
                if w == "}" {
                    if let Some(extra) = words[i + 1..].iter().find(|x| !matches!(x.as_str(), "random" | "fully-random" | "persistent" | "netmap" | ",")) {
                        return Err(format!("unexpected `{extra}` after the map"));
                    }
                    return Ok(());
                }
            }
            "}" => depth -= 1,
            _ => {
                element_empty = false;
                element_has_data |= w.starts_with(':') || w.ends_with(':') || w.get(1..).is_some_and(|r| r.contains(':')) && w.matches(':').count() == 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ErrorKind;

    /// The one error of a ruleset: line, column, kind, message.
    fn error_of(text: &str) -> (u32, u32, ErrorKind, String) {
        let parsed = crate::nft::parse("t.nft", text);
        assert_eq!(parsed.errors.len(), 1, "{:#?}", parsed.errors);
        let e = &parsed.errors[0];
        (e.line, e.column, e.kind, e.message.clone())
    }

    fn ruleset(family: &str, rule: &str) -> String {
        format!("table {family} t {{\n\tchain c {{\n\t\ttype filter hook input priority 0;\n\t\t{rule}\n\t}}\n}}\n")
    }

    /// The first error of a one-rule ruleset, if any.
    fn message(family: &str, rule: &str) -> Option<String> {
        crate::nft::parse("t.nft", &ruleset(family, rule)).errors.first().map(|e| e.message.clone())
    }

    #[test]
    fn a_statement_after_a_terminal_one_is_refused_where_it_starts() {
        let (line, column, kind, message) = error_of(&ruleset("ip", "tcp dport 22 accept counter"));
        assert_eq!((line, column, kind), (4, 23, ErrorKind::InvalidValue));
        assert!(message.contains("after `accept`"), "{message}");
        // A comment is the rule's, not a statement.
        assert!(crate::nft::parse("t.nft", &ruleset("ip", "tcp dport 22 accept comment \"ssh\"")).errors.is_empty());
    }

    #[test]
    fn reject_codes_and_families_follow_the_rule() {
        let refused = |family: &str, rule: &str| message(family, rule).is_some();
        assert!(refused("ip", "reject with icmpv6 no-route"));
        assert!(refused("ip", "reject with icmp no-route"));
        assert!(refused("ip", "reject with icmpx port-unreachable"));
        assert!(refused("inet", "meta nfproto ipv6 reject with icmp host-unreachable"));
        assert!(refused("inet", "meta l4proto udp reject with tcp reset"));
        assert!(refused("bridge", "ether type arp reject"));
        assert!(!refused("inet", "reject with icmpx port-unreachable"));
        assert!(!refused("inet", "meta nfproto ipv4 reject with icmp host-unreachable"));
        assert!(!refused("ip", "tcp dport 22 reject with tcp reset"));
        assert!(!refused("ip6", "reject with icmpv6 3"));
    }

    #[test]
    fn nat_needs_its_family_and_a_transport_protocol_for_a_port() {
        assert!(message("inet", "dnat to 1.2.3.4").is_some_and(|m| m.contains("disambiguate")));
        assert!(message("inet", "ip6 daddr dead::beef dnat to 10.1.2.3").is_some_and(|m| m.contains("not an IPv6 address")));
        assert!(message("ip", "redirect to :1234").is_some_and(|m| m.contains("transport protocol")));
        assert_eq!(message("inet", "tcp dport 443 dnat ip6 to [dead::beef]:4443"), None);
        assert_eq!(message("ip", "ip protocol tcp redirect to :100-200"), None);
    }

    #[test]
    fn values_must_fit_their_fields() {
        assert!(message("bridge", "vlan id 4096").is_some_and(|m| m.contains("12 bits")));
        assert!(message("ip", "ct zone 65536").is_some_and(|m| m.contains("16 bits")));
        assert!(message("ip", "meta day 7 drop").is_some_and(|m| m.contains("at most 6")));
        assert!(message("ip", "meta hour \"24:00\" drop").is_some());
        assert!(message("ip", "ct expiration 1d-1h").is_some_and(|m| m.contains("backwards")));
        assert!(message("ip", "queue num 65536").is_some());
        assert_eq!(message("bridge", "vlan id { 1, 4095 } vlan pcp 1-3"), None);
        assert_eq!(message("ip", "ct mark 0x00000032-0x00000045"), None);
        assert_eq!(message("ip", "meta hour \"23:59:60\" drop"), None);
    }
}

/// The elements of an inline `map { KEY : DATA, ... }` in an expression's
/// words, as (key words, data words); none if it has no inline map.
fn map_elements<'w>(words: &[&'w str]) -> Vec<(Vec<&'w str>, Vec<&'w str>)> {
    let Some(open) = words.windows(2).position(|w| w[0] == "map" && w[1] == "{") else { return Vec::new() };
    let mut out = Vec::new();
    let (mut key, mut data, mut in_data, mut depth) = (Vec::new(), Vec::new(), false, 0usize);
    for &w in &words[open + 1..] {
        match w {
            "{" => depth += 1,
            "}" | "," if depth == 1 => {
                if !key.is_empty() {
                    out.push((std::mem::take(&mut key), std::mem::take(&mut data)));
                }
                in_data = false;
                if w == "}" {
                    break;
                }
            }
            "}" => depth = depth.saturating_sub(1),
            ":" if depth == 1 => in_data = true,
            _ if in_data => data.push(w),
            _ => key.push(w),
        }
    }
    out
}
