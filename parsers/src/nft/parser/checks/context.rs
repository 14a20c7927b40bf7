//! The protocol context of a rule, statement by statement, and what nft
//! refuses against it: a statement after a terminal one; `reject`, NAT and
//! `tproxy` whose family or transport the rule contradicts; headers that
//! conflict with those matched before.

use super::values::{Words, check_values, each_atom, map_elements};
use crate::nft::ast::{NatKind, Op, Selector, Stmt, TableFamily, Value, Verdict};
use crate::nft::parser::expr::number;
use crate::nft::vocab::{
    CtDirection, CtKey, Key, MetaKey, PayloadField, PayloadProtocol, PayloadProtocol as P,
    RejectWith,
};

/// The network header a rule's earlier statements have fixed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(in crate::nft::parser) enum Net {
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
pub(in crate::nft::parser) struct RuleCtx {
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
        RuleCtx {
            family,
            net,
            transport: None,
            several: false,
            icmp_type: None,
            prerouting: None,
            ether: None,
            terminal: None,
        }
    }

    /// Checks one statement against those before it, then takes in what it
    /// says about the packet.
    pub fn statement(&mut self, stmt: &Stmt) -> Result<(), String> {
        if let Some(t) = self.terminal {
            // A rule's comment is not a statement.
            if !matches!(stmt, Stmt::Effect(e) if e.as_str() == "comment") {
                return Err(format!(
                    "a statement after `{t}` has no effect: `{t}` ends the rule"
                ));
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
            Stmt::Nat {
                kind,
                family,
                addr,
                port,
            } => {
                self.nat(kind, family.as_deref(), addr.as_deref(), port.is_some())?;
                self.terminal = Some(kind.name());
            }
            // The kernel takes `meta broute set` only in a bridge prerouting chain.
            Stmt::Effect(e)
                if e.starts_with("meta broute set")
                    && (self.family != TableFamily::Bridge || self.prerouting == Some(false)) =>
            {
                return Err(
                    "meta broute set is only valid in a bridge table's prerouting chain".into(),
                );
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
                if matches!(first, "redirect" | "masquerade") {
                    let words: Vec<&str> = text.split_whitespace().collect();
                    if let Some(p) = map_elements(&words)
                        .iter()
                        .flat_map(|(_, data)| data)
                        .find(|w| w.contains('/'))
                    {
                        return Err(format!("{first} to a port map: `{p}` is not a port"));
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
                if let Some(e) = self
                    .ether
                    .as_deref()
                    .filter(|e| !matches!(*e, "vlan" | "8021q" | "8021ad" | "0x8100" | "0x88a8"))
                {
                    return Err(format!(
                        "conflicting protocols specified: `ether type {e}` vs. vlan"
                    ));
                }
            }
            if let Some(rest) = text
                .strip_prefix("ct original ")
                .or_else(|| text.strip_prefix("ct reply "))
            {
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
            Selector::Payload { protocol, field } => match PayloadProtocol::from_word(protocol) {
                Some(protocol @ (P::Ip | P::Ip6)) => {
                    self.net = Some(if protocol == P::Ip { Net::Ip } else { Net::Ip6 });
                    if matches!(
                        PayloadField::from_word(field),
                        Some(PayloadField::Protocol | PayloadField::Nexthdr)
                    ) {
                        self.transport_is(one, several);
                    }
                }
                Some(protocol @ (P::Icmp | P::Igmp | P::Icmpv6)) => {
                    let v6 = protocol == P::Icmpv6;
                    self.net.get_or_insert(if v6 { Net::Ip6 } else { Net::Ip });
                    self.transport = Some(Some(match protocol {
                        P::Icmp => 1,
                        P::Igmp => 2,
                        _ => 58,
                    }));
                    if PayloadField::from_word(field) == Some(PayloadField::Type)
                        && protocol != P::Igmp
                    {
                        self.icmp_type = one
                            .and_then(|t| {
                                crate::nft::lower::icmp_types(&[&Value::Atom(t.into())], v6).ok()
                            })
                            .and_then(|ts| ts.first().copied());
                    }
                }
                Some(
                    protocol @ (P::Tcp
                    | P::Udp
                    | P::Udplite
                    | P::Sctp
                    | P::Dccp
                    | P::Ah
                    | P::Esp
                    | P::Comp),
                ) => {
                    self.transport = Some(
                        crate::nft::lower::transport_protocols(protocol)
                            .and_then(|p| p.first().copied())
                            .or(match protocol {
                                P::Ah => Some(51),
                                P::Esp => Some(50),
                                P::Comp => Some(108),
                                _ => None,
                            }),
                    );
                }
                _ => {}
            },
            Selector::Meta(key) => match MetaKey::from_word(key) {
                Some(MetaKey::L4proto) => self.transport_is(one, several),
                Some(MetaKey::Nfproto) if self.family == TableFamily::Inet => {
                    self.net = match one {
                        Some("ipv4") => Some(Net::Ip),
                        Some("ipv6") => Some(Net::Ip6),
                        _ => self.net,
                    }
                }
                Some(MetaKey::Protocol)
                    if matches!(self.family, TableFamily::Bridge | TableFamily::Netdev) =>
                {
                    self.ether_is(one)
                }
                _ => {}
            },
            Selector::Other(text) if text == "ether type" || text == "vlan type" => {
                self.ether_is(one)
            }
            _ => {}
        }
        Ok(())
    }

    /// What a selector needs of the rule, whatever it is compared with.
    fn selector(&self, sel: &Selector, in_concat: bool) -> Result<(), String> {
        match sel {
            Selector::Meta(k)
                if self.family != TableFamily::Bridge
                    && matches!(
                        MetaKey::from_word(k),
                        Some(
                            MetaKey::Ibrname
                                | MetaKey::Obrname
                                | MetaKey::Ibriport
                                | MetaKey::Obriport
                                | MetaKey::Ibrpvid
                                | MetaKey::Ibrvproto
                                | MetaKey::Ibrhwaddr
                                | MetaKey::Broute
                        )
                    ) =>
            {
                return Err(format!("meta {k} is only valid in bridge tables"));
            }
            // Fields of some ICMP types only: nft adds the type as a
            // dependency, which conflicts with another type matched before.
            Selector::Payload { protocol, field }
                if matches!(
                    PayloadProtocol::from_word(protocol),
                    Some(P::Icmp | P::Icmpv6)
                ) && self.icmp_type.is_some() =>
            {
                use PayloadField as F;
                let needs: &[u8] = match Key::of(sel) {
                    Some(Key::Payload(P::Icmp, F::Mtu)) => &[3],
                    Some(Key::Payload(P::Icmp, F::Gateway)) => &[5],
                    Some(Key::Payload(P::Icmp, F::Id | F::Sequence)) => &[0, 8],
                    Some(Key::Payload(P::Icmpv6, F::Mtu | F::PacketTooBig)) => &[2],
                    Some(Key::Payload(P::Icmpv6, F::Id | F::Sequence)) => &[128, 129],
                    _ => &[],
                };
                if let Some(t) = self
                    .icmp_type
                    .filter(|t| !needs.is_empty() && !needs.contains(t))
                {
                    return Err(format!(
                        "conflicting protocols specified: {protocol} {field} exists only in type {}, and the rule matched type {t}",
                        needs
                            .iter()
                            .map(u8::to_string)
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ));
                }
            }
            // nft: "conflicting protocols specified: udp vs. tcp".
            Selector::Payload { protocol, .. }
                if self.several
                    && matches!(
                        PayloadProtocol::from_word(protocol),
                        Some(P::Tcp | P::Udp | P::Udplite | P::Sctp | P::Dccp)
                    ) =>
            {
                return Err(format!(
                    "conflicting protocols specified: a set of transport protocols was matched, then {protocol}; match {protocol} alone, or use `th` for the ports of any of them"
                ));
            }
            Selector::Payload { protocol, .. }
                if matches!(PayloadProtocol::from_word(protocol), Some(P::Ip | P::Ip6)) =>
            {
                let want = if PayloadProtocol::from_word(protocol) == Some(P::Ip) {
                    Net::Ip
                } else {
                    Net::Ip6
                };
                if let Some(n @ (Net::Ip | Net::Ip6 | Net::Arp)) = self.net.filter(|n| *n != want) {
                    return Err(format!(
                        "conflicting protocols specified: {} vs. {}",
                        n.name(),
                        want.name()
                    ));
                }
            }
            Selector::Other(text) => {
                let words: Words = text.split_whitespace().collect();
                match words.as_slice() {
                    // Without a family, the address's type is known only from
                    // the value it is compared with: not in a concatenation.
                    ["ct", dir, f]
                        if in_concat
                            && CtDirection::from_word(dir).is_some()
                            && matches!(CtKey::from_word(f), Some(CtKey::Saddr | CtKey::Daddr)) =>
                    {
                        return Err(format!(
                            "`ct ... {f}` has no type in a concatenation: write `ct original ip {f}` or `ct original ip6 {f}`"
                        ));
                    }
                    ["vxlan" | "geneve", ..] if self.transport != Some(Some(17)) => {
                        return Err(format!(
                            "{} needs a UDP match first (such as `udp dport {}`)",
                            words[0],
                            if words[0] == "vxlan" { 4789 } else { 6081 }
                        ));
                    }
                    ["gre", "ether" | "vlan", ..] => {
                        return Err(format!("gre carries no {} header: use gretap", words[1]));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn transport_is(&mut self, one: Option<&str>, several: bool) {
        if let Some(p) = one {
            let n = crate::nft::lower::protocols(&[&Value::Atom(p.into())])
                .ok()
                .and_then(|ps| ps.first().copied());
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
            [ip, f] => match CtKey::from_word(ip) {
                Some(CtKey::Ip) => (Some(Net::Ip), *f),
                Some(CtKey::Ip6) => (Some(Net::Ip6), *f),
                _ => return Ok(()),
            },
            [f] => (None, *f),
            _ => return Ok(()),
        };
        if !matches!(CtKey::from_word(field), Some(CtKey::Saddr | CtKey::Daddr)) {
            return Ok(());
        }
        if let (Some(f), Some(n)) = (family, self.net)
            && f != n
            && matches!(n, Net::Ip | Net::Ip6)
        {
            return Err(format!(
                "conflicting protocols specified: {} vs. {}",
                n.name(),
                f.name()
            ));
        }
        let Some(want) = family.or(self.net) else {
            return Err(format!(
                "cannot tell which family `ct ... {field}` is: write `ct original ip {field}` or `ct original ip6 {field}`"
            ));
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
        let code = rest
            .strip_prefix("type ")
            .or_else(|| rest.strip_prefix("code "))
            .unwrap_or(rest)
            .trim_ascii();
        let (kind, code) = match (RejectWith::from_word(first), code) {
            _ if first.is_empty() => (None, ""),
            (Some(RejectWith::Tcp), "reset" | "rst") => (Some(RejectWith::Tcp), ""),
            (Some(k @ (RejectWith::Icmp | RejectWith::Icmpv6 | RejectWith::Icmpx)), c)
                if !c.is_empty() && !c.bytes().any(|b| b == b' ') =>
            {
                (Some(k), c)
            }
            _ => {
                return Err(format!(
                    "expected `reject with icmp|icmpv6|icmpx CODE` or `reject with tcp reset`, found `reject with {}`",
                    with.unwrap_or("")
                ));
            }
        };
        if let Some(kind) = kind.filter(|_| !code.is_empty()) {
            let names: &[&str] = match kind {
                RejectWith::Icmp => &[
                    "net-unreachable",
                    "host-unreachable",
                    "prot-unreachable",
                    "port-unreachable",
                    "net-prohibited",
                    "host-prohibited",
                    "admin-prohibited",
                    "frag-needed",
                ],
                RejectWith::Icmpv6 => &[
                    "no-route",
                    "admin-prohibited",
                    "addr-unreachable",
                    "port-unreachable",
                    "policy-fail",
                    "reject-route",
                ],
                _ => &[
                    "port-unreachable",
                    "admin-prohibited",
                    "no-route",
                    "host-unreachable",
                ],
            };
            // Names first: nearly every rule names its code.
            if !names.contains(&code) {
                match number(code) {
                    Some(n) if n > 255 => {
                        return Err(format!(
                            "reject code must be a number from 0 to 255, found {code}"
                        ));
                    }
                    Some(_) => {}
                    None => {
                        return Err(format!(
                            "`{code}` is not an {kind} code; expected one of {}",
                            names.join(", ")
                        ));
                    }
                }
            }
        }
        let fam = self.family;
        if fam == TableFamily::Arp {
            return Err("cannot use reject with arp".into());
        }
        // A bridge or netdev chain rejects only IPv4 and IPv6 packets.
        if matches!(fam, TableFamily::Bridge | TableFamily::Netdev) && self.net == Some(Net::Arp) {
            return Err("cannot reject this network family".into());
        }
        match kind {
            Some(RejectWith::Tcp) => {
                if let Some(Some(p)) = self.transport
                    && p != 6
                {
                    return Err("you cannot use tcp reset with this protocol".into());
                }
            }
            Some(RejectWith::Icmpx) if matches!(fam, TableFamily::Ip | TableFamily::Ip6) => {
                return Err("`reject with icmpx` is for inet, bridge and netdev tables; use icmp or icmpv6 here".into());
            }
            Some(k @ (RejectWith::Icmp | RejectWith::Icmpv6)) => {
                let want = if k == RejectWith::Icmp {
                    Net::Ip
                } else {
                    Net::Ip6
                };
                if let Some(n @ (Net::Ip | Net::Ip6)) = self.net.filter(|n| *n != want) {
                    return Err(format!(
                        "conflicting protocols specified: {} vs. {}",
                        n.name(),
                        want.name()
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// nft's `stmt_evaluate_nat`: NAT is for IPv4 and IPv6; the family said
    /// must agree with the rule's; an address must be of the family (which
    /// an inet table must be told); a port needs a transport protocol.
    fn nat(
        &self,
        kind: &NatKind,
        family: Option<&str>,
        addr: Option<&str>,
        port: bool,
    ) -> Result<(), String> {
        let name = kind.name();
        let family = family.map(|f| if f == "ip" { Net::Ip } else { Net::Ip6 });
        self.l3(name, family, addr)?;
        if port && self.transport.is_none() {
            return Err(format!(
                "`{name} to ...:PORT`: a transport protocol mapping is only valid after a transport protocol match (such as `tcp dport` or `meta l4proto tcp`)"
            ));
        }
        Ok(())
    }

    /// The family checks NAT and tproxy share (`stmt_evaluate_l3proto`,
    /// `stmt_evaluate_addr`).
    fn l3(&self, name: &str, family: Option<Net>, addr: Option<&str>) -> Result<(), String> {
        if !matches!(
            self.family,
            TableFamily::Ip | TableFamily::Ip6 | TableFamily::Inet
        ) {
            return Err(format!(
                "{name} is only supported for IPv4 and IPv6 (ip, ip6 and inet tables)"
            ));
        }
        if let (Some(f), Some(n)) = (family, self.net)
            && f != n
        {
            return Err(format!(
                "conflicting protocols specified: {} vs. {}; you must say ip or ip6 in the {name} statement as the rule does",
                n.name(),
                f.name()
            ));
        }
        let Some(addr) = addr else { return Ok(()) };
        let Some(want) = family.or(self.net) else {
            return Err(format!(
                "specify `{name} ip` or `{name} ip6` in an inet table to disambiguate"
            ));
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
            && f != n
        {
            return Err(format!(
                "conflicting protocols specified: {} vs. {}",
                n.name(),
                f.name()
            ));
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
        let Some(to) = words.iter().position(|w| *w == "to") else {
            return Ok(());
        };
        let map = words
            .iter()
            .position(|w| *w == "map")
            .unwrap_or(words.len());
        let key = words.get(to + 1..map).unwrap_or(&[]);
        if let Some(f) = family {
            for w in key {
                let other = match PayloadProtocol::from_word(w) {
                    Some(P::Ip) => Net::Ip,
                    Some(P::Ip6) => Net::Ip6,
                    _ => continue,
                };
                if other != f {
                    return Err(format!(
                        "conflicting protocols specified: {name} {} to an expression on {} headers",
                        f.name(),
                        other.name()
                    ));
                }
            }
        }
        if map < words.len() && self.transport.is_none() {
            // Data `ADDR . PORT`: an element whose data is a concatenation.
            let concat_data = map_elements(&words)
                .iter()
                .any(|(_, data)| data.contains(&"."));
            let keyed_by_transport = key.iter().any(|w| {
                matches!(
                    PayloadProtocol::from_word(w),
                    Some(P::Tcp | P::Udp | P::Udplite | P::Sctp | P::Dccp)
                ) || MetaKey::from_word(w) == Some(MetaKey::L4proto)
                    || matches!(
                        PayloadField::from_word(w),
                        Some(PayloadField::Protocol | PayloadField::Nexthdr)
                    )
            });
            if concat_data && !keyed_by_transport {
                return Err(format!(
                    "{name}: a mapping to address and port is only valid after a transport protocol match"
                ));
            }
        }
        Ok(())
    }

    /// nft's `stmt_evaluate_tproxy`, on the words of `tproxy [ip|ip6] to ADDR[:PORT]`.
    fn tproxy(&self, text: &str) -> Result<(), String> {
        if !matches!(
            self.family,
            TableFamily::Ip | TableFamily::Ip6 | TableFamily::Inet
        ) {
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
            return Err(
                "tproxy needs an address or a port: `tproxy [ip|ip6] to ADDR[:PORT]` or `to :PORT`"
                    .into(),
            );
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
        self.l3(
            "tproxy",
            family,
            addr.filter(|a| a.parse::<std::net::IpAddr>().is_ok()),
        )
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
        Some(a) => Err(format!(
            "`{a}` is not an {} address, and {what} here takes one",
            if want == Net::Ip { "IPv4" } else { "IPv6" }
        )),
        None => Ok(()),
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
        // `10.0.0.0/8`: the addresses under the prefix.
        let span = if a == b
            && let Some((addr, len)) = a.split_once('/')
        {
            let bits: u32 = if addr.contains(':') { 128 } else { 32 };
            match (as_int(addr), len.parse::<u32>().ok().filter(|l| *l <= bits)) {
                (Some(x), Some(l)) => {
                    let host = if bits - l >= 128 {
                        u128::MAX
                    } else {
                        (1u128 << (bits - l)) - 1
                    };
                    Some((x & !host, x | host))
                }
                _ => None,
            }
        } else {
            as_int(a).zip(as_int(b))
        };
        if let Some((x, y)) = span {
            spans.push((x, y, crate::nft::lower::value_text(&e.key)));
        }
    }
    spans.sort();
    for w in spans.windows(2) {
        if w[1].0 <= w[0].1 {
            return Err(format!(
                "conflicting intervals specified: {} overlaps {}",
                w[0].2, w[1].2
            ));
        }
    }
    Ok(())
}
