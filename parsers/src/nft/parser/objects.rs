//! Stateful objects declared in a table (`counter c { }`, `synproxy s
//! { ... }`, `ct helper h { ... }`, `tunnel t { ... }`, `ct timeout t { ...
//! }`): nothing in them filters, so their bodies are read over, but their
//! names are kept for the rules that use them, and the bodies nft checks
//! before loading (a tunnel's addresses, a timeout policy's states) are
//! checked here too.

use super::*;
use crate::nft::vocab::{PayloadField, PayloadProtocol};

/// The kinds of object a rule can name, as `kind` in [`Parser::objects`].
pub(super) const NAMED_KINDS: &[&str] = &["counter", "quota", "limit", "synproxy", "ct helper"];

/// The states a `ct timeout` policy may set, per protocol (the kernel's
/// nf_conntrack timeout attributes, as nft names them).
fn timeout_states(protocol: &str) -> Option<&'static [&'static str]> {
    Some(match PayloadProtocol::from_word(protocol)? {
        PayloadProtocol::Tcp => &[
            "syn_sent",
            "syn_recv",
            "established",
            "fin_wait",
            "close_wait",
            "last_ack",
            "time_wait",
            "close",
            "syn_sent2",
            "retrans",
            "unacknowledged",
        ],
        PayloadProtocol::Udp | PayloadProtocol::Udplite => &["unreplied", "replied"],
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// A table's object after its keyword (`cur` on the name, or on `helper`
    /// or `timeout` after `ct`).
    pub(super) fn object(&mut self, cur: &mut Cur<'a>, ti: usize, keyword: &str) -> PResult<()> {
        let kind = if keyword == "ct" {
            match cur.peek().map(|t| t.text) {
                Some("helper") => "ct helper",
                Some("timeout") => "ct timeout",
                Some("expectation") => "ct expectation",
                _ => "",
            }
        } else {
            ["counter", "quota", "limit", "synproxy", "tunnel"]
                .into_iter()
                .find(|k| *k == keyword)
                .unwrap_or("")
        };
        if kind.starts_with("ct ") {
            cur.pos += 1;
        }
        if let Some(name) = cur
            .peek()
            .filter(|n| n.kind == Kind::Word || n.kind == Kind::Str)
        {
            if NAMED_KINDS.contains(&kind) {
                let table = self.tables[ti].name.clone();
                self.declare(self.tables[ti].family, table, kind, name.text);
            }
            if (kind == "tunnel" || kind == "ct timeout")
                && cur.peek_at(1).is_some_and(|b| b.is("{"))
            {
                cur.pos += 2;
                return if kind == "tunnel" {
                    self.tunnel_body(cur, name)
                } else {
                    self.timeout_body(cur)
                };
            }
        }
        cur.skip_statement();
        Ok(())
    }

    /// `tunnel t { id 10; ip saddr 192.0.2.1; ip daddr 192.0.2.2; sport 10;
    /// dport 20; ttl 10; tos 10; vxlan { gbp 200 } }`: each address is one
    /// address of its family, given once; both of one family.
    fn tunnel_body(&mut self, cur: &mut Cur<'a>, name: Token<'a>) -> PResult<()> {
        let (mut src, mut dst): (Option<&str>, Option<&str>) = (None, None);
        let mut kind: Option<&str> = None;
        loop {
            cur.skip_newlines();
            self.expand(cur)?;
            let Some(t) = cur.next() else {
                return fail(None, "a tunnel is not closed, expected `}`");
            };
            match t.text {
                "}" => break,
                "id" | "sport" | "dport" | "ttl" | "tos" => {
                    let n = self.word(cur, "a number")?;
                    if super::expr::number(n.text).is_none() {
                        return refuse(
                            Some(n),
                            format!(
                                "tunnel {}: expected a number, found {}",
                                t.text,
                                describe(Some(n))
                            ),
                        );
                    }
                }
                "ip" | "ip6" => {
                    let which = self.word(cur, "saddr or daddr")?;
                    let slot = match PayloadField::from_word(which.text) {
                        Some(PayloadField::Saddr) => &mut src,
                        Some(PayloadField::Daddr) => &mut dst,
                        _ => {
                            return fail(
                                Some(which),
                                format!("expected saddr or daddr, found {}", describe(Some(which))),
                            );
                        }
                    };
                    if slot.is_some() {
                        return refuse(
                            Some(which),
                            format!("tunnel {} is given twice", which.text),
                        );
                    }
                    self.expand(cur)?;
                    let a = cur.peek();
                    let ok = a.is_some_and(|a| {
                        a.kind == Kind::Word
                            && match a.text.parse::<std::net::IpAddr>() {
                                Ok(std::net::IpAddr::V4(_)) => t.text == "ip",
                                Ok(std::net::IpAddr::V6(_)) => t.text == "ip6",
                                Err(_) => false,
                            }
                    });
                    if !ok {
                        return refuse(
                            a,
                            format!(
                                "tunnel {} {}: expected one {} address, found {}",
                                t.text,
                                which.text,
                                if t.text == "ip" { "IPv4" } else { "IPv6" },
                                describe(a)
                            ),
                        );
                    }
                    cur.pos += 1;
                    *slot = Some(t.text);
                }
                "erspan" | "vxlan" | "geneve" => {
                    // nft: a tunnel is of one type ("already set").
                    if let Some(k) = kind.replace(t.text) {
                        return refuse(
                            Some(t),
                            format!("tunnel {} is already a {k} tunnel", name.text),
                        );
                    }
                    cur.skip_statement();
                }
                "comment" => cur.skip_statement(),
                _ if t.kind == Kind::Newline || t.is(";") => {}
                _ => {
                    return fail(
                        Some(t),
                        format!(
                            "expected id, ip, ip6, sport, dport, ttl, tos, erspan, vxlan or geneve in a tunnel, found {}",
                            describe(Some(t))
                        ),
                    );
                }
            }
        }
        match (src, dst) {
            (Some(s), Some(d)) if s != d => refuse(
                Some(name),
                "a tunnel's addresses must both be ip or both ip6",
            ),
            // The kernel refuses a tunnel with nowhere to send to.
            (_, None) => refuse(
                Some(name),
                format!(
                    "tunnel {} has no destination: it needs `ip daddr` or `ip6 daddr`",
                    name.text
                ),
            ),
            _ => Ok(()),
        }
    }

    /// `ct timeout t { protocol tcp; l3proto ip; policy = { established: 2m, close: 20s } }`:
    /// the policy names states of the protocol.
    fn timeout_body(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let mut protocol = None;
        loop {
            cur.skip_newlines();
            let Some(t) = cur.next() else {
                return fail(None, "a ct timeout is not closed, expected `}`");
            };
            match t.text {
                "}" => return Ok(()),
                "protocol" => protocol = Some(self.word(cur, "a protocol")?.text),
                "policy" => {
                    self.expect(cur, "=")?;
                    self.expect(cur, "{")?;
                    while let Some(s) = cur.next() {
                        if s.is("}") {
                            break;
                        }
                        if s.kind != Kind::Word || s.is(",") {
                            continue;
                        }
                        // `state : time`, written with or without blanks.
                        let (state, after) = match s.text.split_once(':') {
                            Some((a, b)) => (a, Some(b)),
                            None => (s.text, None),
                        };
                        let states = protocol.and_then(timeout_states);
                        if let Some(states) =
                            states.filter(|st| !state.is_empty() && !st.contains(&state))
                        {
                            return refuse(
                                Some(s),
                                format!(
                                    "ct timeout: `{state}` is not a {} state; expected one of {}",
                                    protocol.unwrap_or(""),
                                    states.join(", ")
                                ),
                            );
                        }
                        // Step over the time after the colon.
                        match after {
                            None if cur.eat(":") => cur.pos += 1,
                            Some("") => cur.pos += 1,
                            _ => {}
                        }
                    }
                }
                _ => cur.skip_statement(),
            }
        }
    }
}

impl<'a> Parser<'a> {
    /// A table declares a named object.
    pub(super) fn declare(
        &mut self,
        family: TableFamily,
        table: String,
        kind: &'static str,
        name: &str,
    ) {
        self.objects.push((family, table, kind, name.to_string()));
    }

    /// A rule names a stateful object of its table.
    pub(super) fn object_ref(&mut self, ti: usize, kind: &'static str, name: Token<'a>) {
        let (family, table) = (self.tables[ti].family, self.tables[ti].name.clone());
        self.object_refs
            .push((family, table, kind, name.text.to_string(), name));
    }

    /// nft: "Could not process rule: No such file or directory" for a
    /// counter, quota or limit named by a rule and declared nowhere.
    pub(super) fn check_object_refs(&mut self) {
        for (family, table, kind, name, tok) in std::mem::take(&mut self.object_refs) {
            if !self
                .objects
                .iter()
                .any(|(f, t, k, n)| *f == family && *t == table && *k == kind && *n == name)
            {
                let message = format!(
                    "no {kind} named \"{name}\" in table {} {table}",
                    family.name()
                );
                self.report(Fail {
                    at: at(Some(tok)),
                    message,
                    kind: ErrorKind::BadReference,
                });
            }
        }
    }

    /// The objects of `kind` a statement's tokens name: one literal name
    /// (`ct helper set "ftp"`), or the data of an inline map (`counter name
    /// tcp dport map { 443 : "c1", 80 : "c2" }`). Checked once the ruleset
    /// is read (see [`Parser::check_object_refs`]).
    pub(super) fn object_refs_in(&mut self, ti: usize, toks: &[Token<'a>], kind: &'static str) {
        if let [name] = toks {
            if name.kind == Kind::Str
                || !name.text.starts_with(['$', '@']) && name.text.parse::<f64>().is_err()
            {
                self.object_ref(ti, kind, *name);
            }
            return;
        }
        let Some(open) = toks.windows(2).position(|w| w[0].is("map") && w[1].is("{")) else {
            return;
        };
        let mut depth = 0usize;
        for (i, t) in toks.iter().enumerate().skip(open + 1) {
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth = depth.saturating_sub(1);
            } else if depth == 1
                && t.is(":")
                && let Some(d) = toks.get(i + 1).filter(|d| {
                    d.kind == Kind::Str || d.kind == Kind::Word && !d.text.starts_with('$')
                })
            {
                self.object_ref(ti, kind, *d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn errors(text: &str) -> Vec<String> {
        crate::nft::parse("t.nft", text)
            .errors
            .iter()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            .collect()
    }

    #[test]
    fn named_objects_must_be_declared_in_the_table_before_or_after_use() {
        let uses = "\tchain c {\n\t\tcounter name \"c1\"\n\t\tct helper set \"ftp\"\n\t\tsynproxy name tcp dport map { 80 : \"s1\" }\n\t}\n";
        let declared = "\tcounter c1 { }\n\tct helper ftp { type \"ftp\" protocol tcp; }\n\tsynproxy s1 { mss 1460 }\n";
        assert_eq!(
            errors(&format!("table ip t {{\n{uses}{declared}}}\n")),
            Vec::<String>::new()
        );
        let missing = errors(&format!("table ip t {{\n{uses}}}\n"));
        assert_eq!(
            missing,
            vec![
                "3:16: no counter named \"c1\" in table ip t",
                "4:17: no ct helper named \"ftp\" in table ip t",
                "5:38: no synproxy named \"s1\" in table ip t"
            ]
        );
        // Another table's object is not this table's.
        assert_eq!(
            errors(&format!(
                "table ip u {{\n{declared}}}\ntable ip t {{\n{uses}}}\n"
            ))
            .len(),
            3
        );
    }

    #[test]
    fn a_tunnel_has_one_destination_of_its_family_and_one_type() {
        let tunnel = |body: &str| {
            errors(&format!(
                "table netdev x {{\n\ttunnel t {{\n{body}\n\t}}\n}}\n"
            ))
        };
        assert_eq!(
            tunnel(
                "\t\tid 10\n\t\tip saddr 192.0.2.1\n\t\tip daddr 192.0.2.2\n\t\tvxlan { gbp 200 }"
            ),
            Vec::<String>::new()
        );
        assert!(tunnel("\t\tip saddr 192.0.2.1")[0].contains("no destination"));
        assert!(
            tunnel("\t\tip daddr 192.0.2.1\n\t\tip daddr 192.0.2.2")[0].contains("given twice")
        );
        assert!(tunnel("\t\tip6 daddr 192.0.2.1")[0].contains("IPv6"));
        assert!(tunnel("\t\tip daddr 192.0.2.1\n\t\tvxlan { gbp 1 }\n\t\tgeneve { class 0x1 opt-type 0x1 data \"0x1\" }")[0].contains("already a vxlan"));
    }

    #[test]
    fn a_timeout_policy_names_states_of_its_protocol() {
        let timeout = |proto: &str, policy: &str| {
            errors(&format!(
                "table ip t {{\n\tct timeout c {{\n\t\tprotocol {proto}\n\t\tl3proto ip\n\t\tpolicy = {{ {policy} }}\n\t}}\n}}\n"
            ))
        };
        assert_eq!(
            timeout("tcp", "established : 2m, close: 10s"),
            Vec::<String>::new()
        );
        assert_eq!(
            timeout("udp", "replied : 14, unreplied : 19"),
            Vec::<String>::new()
        );
        assert!(timeout("udp", "syn_sent : 122")[0].contains("not a udp state"));
        assert!(timeout("tcp", "estalbished:100")[0].contains("`estalbished`"));
    }
}
