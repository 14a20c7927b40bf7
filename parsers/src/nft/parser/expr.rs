//! Matches and values: selectors (`tcp dport`, `ct state`, `meta iifname`),
//! operators, sets, ranges, flags, concatenations.

use super::checks;
use super::words::{is_bare_meta, is_payload_protocol, is_statement_word, split_range};
use super::*;
use crate::nft::ast::{Element, Op, Selector, Selectors, Stmt, Value};
use crate::nft::lexer::Kind;
use crate::nft::vocab::{
    CtDirection, CtKey, CtState, FibResult, Key, MetaKey, PayloadField, PayloadProtocol,
    PayloadProtocol as P, TCP_FLAGS, TcpFlag,
};

/// A decimal or hex number that fits 64 bits.
pub(super) fn number(w: &str) -> Option<u64> {
    match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => w.parse().ok(),
    }
}

pub(super) fn is_value_start(w: &str) -> bool {
    // Words are short: a byte loop beats setting up a memchr for the colon.
    w.starts_with(|c: char| c.is_ascii_digit())
        || w.starts_with('$')
        || w.starts_with('@')
        || w.bytes().any(|b| b == b':')
}

pub(super) fn atom_text(v: &Value) -> String {
    crate::nft::lower::value_text(v)
}

/// Whether a word is a ct key that exists per direction (`ct original saddr`).
fn is_ct_direction_key(w: &str) -> bool {
    CtKey::from_word(w).is_some_and(CtKey::takes_direction)
}

/// What comes after a match's selector.
#[derive(PartialEq)]
enum After {
    /// `meta mark set 1`
    Set,
    /// `ct mark & 0xff`, `tcp flags & (syn|ack)`
    Arithmetic,
    Vmap,
    /// `ip saddr map @m`
    Map,
    /// An operator or the value.
    Value,
}

impl<'a> Parser<'a> {
    /// A selector (or a concatenation of them).
    pub(super) fn selectors(&mut self, cur: &mut Cur<'a>) -> PResult<Selectors> {
        let mut out: Selectors = smallvec::smallvec![self.selector(cur)?];
        while cur.at(".") {
            cur.pos += 1;
            out.push(self.selector(cur)?);
        }
        Ok(out)
    }

    pub(super) fn selector(&mut self, cur: &mut Cur<'a>) -> PResult<Selector> {
        let t = self.word(cur, "a match such as `tcp dport` or a statement")?;
        let text = t.text;
        // A constant inside a concatenation: `ip saddr . "lo" @s`, `ip saddr . 1.2.3.4 . 80 @s`.
        let raw = text.starts_with('@') && (text.contains(',') || cur.at(","));
        if t.kind == Kind::Str || (is_value_start(text) && !raw) {
            return Ok(Selector::Other(format!("constant {text}")));
        }
        if text == "meta" {
            let key = self.word(cur, "a meta key")?;
            if MetaKey::from_word(key.text).is_none() {
                return Err(Fail {
                    at: at(Some(key)),
                    message: format!("unknown meta key {}", describe(Some(key))),
                    kind: ErrorKind::Syntax,
                });
            }
            return Ok(Selector::Meta(key.text.into()));
        }
        if is_bare_meta(text) {
            return Ok(Selector::Meta(text.into()));
        }
        if text == "ct" {
            let key = self.word(cur, "a ct key")?;
            // `ct original saddr`, `ct reply ip daddr`: direction-qualified keys.
            if key.is("count") {
                // `ct count [over] N`: depends on how many connections exist.
                let over = if cur.eat("over") { " over" } else { "" };
                return Ok(Selector::Other(format!("ct count{over}")));
            }
            if CtDirection::from_word(key.text).is_some() {
                // Only some keys exist per direction (`ct original mark` does not).
                let next = cur.peek();
                if !next.is_some_and(|n| n.kind == Kind::Word && is_ct_direction_key(n.text)) {
                    return fail(
                        next,
                        format!(
                            "expected a key of `ct {}` (saddr, daddr, ip saddr, proto-src, proto-dst, bytes, packets, avgpkt, zone, l3proto, protocol), found {}",
                            key.text,
                            describe(next)
                        ),
                    );
                }
                let mut words = vec!["ct".to_string(), key.text.to_string()];
                words.extend(
                    self.words_while(cur, is_ct_direction_key)
                        .into_iter()
                        .map(str::to_string),
                );
                return Ok(Selector::Other(words.join(" ")));
            }
            if CtKey::from_word(key.text).is_none() {
                return Err(Fail {
                    at: at(Some(key)),
                    message: format!("unknown ct key {}", describe(Some(key))),
                    kind: ErrorKind::Syntax,
                });
            }
            return Ok(Selector::Ct(key.text.into()));
        }
        let route_key = text == "rt"
            && cur.peek().is_some_and(|n| {
                matches!(
                    n.text,
                    "ip" | "ip6" | "nexthop" | "mtu" | "classid" | "ipsec"
                )
            });
        if let Some(protocol) = PayloadProtocol::from_word(text).filter(|_| !route_key) {
            let field = self.word(cur, "a header field such as saddr or dport")?;
            let known = protocol.fields();
            if !known.is_empty()
                && !PayloadField::from_word(field.text).is_some_and(|f| known.contains(&f))
                && !matches!(field.text, "option" | "hdr" | "chunk")
            {
                let names: Vec<&str> = known.iter().map(|f| f.as_str()).collect();
                return Err(Fail {
                    at: at(Some(field)),
                    message: format!(
                        "unknown {text} field {}, expected one of {}",
                        describe(Some(field)),
                        names.join(", ")
                    ),
                    kind: ErrorKind::Syntax,
                });
            }
            // `arp saddr ip`, `arp daddr ether`
            if protocol == P::Arp && cur.peek().is_some_and(|n| n.is("ip") || n.is("ether")) {
                let q = cur.next().expect("peeked");
                return Ok(Selector::Other(format!("arp {} {}", field.text, q.text)));
            }
            if field.is("option")
                || field.is("hdr")
                || field.is("chunk")
                || matches!(
                    protocol,
                    P::Vlan | P::Ether | P::Arp | P::Vxlan | P::Geneve | P::Gre | P::Gretap
                )
            {
                let mut words = vec![text.to_string(), field.text.to_string()];
                // Inner headers: `vxlan ip saddr`.
                if matches!(protocol, P::Vxlan | P::Geneve | P::Gre | P::Gretap)
                    && is_payload_protocol(field.text)
                {
                    words.push(self.word(cur, "a field")?.text.to_string());
                }
                if field.is("option") || field.is("hdr") || field.is("chunk") {
                    words.push(self.word(cur, "an option name")?.text.to_string());
                    if let Some(n) = cur.peek().filter(|n| {
                        n.kind == Kind::Word
                            && !is_value_start(n.text)
                            && !n.is("exists")
                            && !n.is("missing")
                            && !n.is("set")
                    }) {
                        words.push(n.text.to_string());
                        cur.pos += 1;
                    }
                    if let Err(m) = checks::selector_words(&words) {
                        return refuse(Some(field), m);
                    }
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            return Ok(Selector::Payload {
                protocol: text.into(),
                field: field.text.into(),
            });
        }
        if text == "fib" {
            // `fib saddr . iif oif`, `fib daddr type`: flags, then the result.
            let mut words = vec!["fib".to_string()];
            loop {
                let w = self.word(cur, "a fib flag or result")?;
                let done = FibResult::from_word(w.text).is_some();
                words.push(w.text.to_string());
                if done {
                    break;
                }
                cur.eat(".");
                words.push(".".into());
            }
            if let Err(m) = checks::fib(&words) {
                return refuse(Some(t), m);
            }
            return Ok(Selector::Other(words.join(" ")));
        }
        // A raw payload `@base,offset,length`: nft takes 1 to 128 bits.
        if let Some(raw) = text.strip_prefix('@').filter(|r| r.contains(',')) {
            let parts: Vec<&str> = raw.split(',').collect();
            let len = parts.get(2).and_then(|l| l.parse::<u32>().ok());
            if !matches!(parts.first(), Some(&("ll" | "nh" | "th" | "ih")))
                || !len.is_some_and(|l| (1..=128).contains(&l))
                || parts[1].parse::<u32>().is_err()
            {
                return Err(Fail {
                    at: at(Some(t)),
                    message: format!(
                        "a raw payload is `@ll|nh|th|ih,OFFSET,LENGTH` with 1 to 128 bits, found `{text}`"
                    ),
                    kind: ErrorKind::InvalidValue,
                });
            }
        }
        if matches!(
            text,
            "socket"
                | "rt"
                | "ipsec"
                | "osf"
                | "numgen"
                | "jhash"
                | "symhash"
                | "exthdr"
                | "tunnel"
                | "inner"
        ) || text.starts_with('@')
        {
            let mut words = vec![text.to_string()];
            if text == "ipsec" {
                // `ipsec in|out [spnum N] ip saddr`, `ipsec in reqid`
                words.push(self.word(cur, "`in` or `out`")?.text.to_string());
                if cur.eat("spnum") {
                    words.push(format!("spnum {}", self.word(cur, "a number")?.text));
                }
                let key = self.word(cur, "an ipsec key")?;
                words.push(key.text.to_string());
                if key.is("ip") || key.is("ip6") {
                    words.push(self.word(cur, "saddr or daddr")?.text.to_string());
                }
                if let Err(m) = checks::selector_words(&words) {
                    return refuse(Some(t), m);
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            if text == "socket" {
                // `socket mark`, `socket transparent`, `socket cgroupv2 level 1`
                let key = self.word(cur, "a socket key")?;
                words.push(key.text.to_string());
                if key.is("cgroupv2") && cur.eat("level") {
                    words.push(format!("level {}", self.word(cur, "a level")?.text));
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            // The words that qualify it, up to the comparison.
            while let Some(n) = cur.peek() {
                if n.kind != Kind::Word
                    || is_value_start(n.text)
                    || is_statement_word(n.text)
                    || cur.at_end()
                    || n.is("exists")
                    || n.is("missing")
                {
                    break;
                }
                words.push(n.text.to_string());
                cur.pos += 1;
                if words.len() > 4 {
                    break;
                }
            }
            if text.starts_with('@') {
                while cur.at(",") {
                    cur.pos += 1;
                    words.push(self.word(cur, "a number")?.text.to_string());
                }
                // `@th,16,1`, however the lexer cut it.
                let raw = words.join(",");
                let parts: Vec<&str> = raw.trim_start_matches('@').split(',').collect();
                let len = parts.get(2).and_then(|l| l.parse::<u32>().ok());
                if parts.len() != 3
                    || !matches!(parts[0], "ll" | "nh" | "th" | "ih")
                    || !len.is_some_and(|l| (1..=128).contains(&l))
                    || parts[1].parse::<u32>().is_err()
                {
                    return Err(Fail {
                        at: at(Some(t)),
                        message: format!(
                            "a raw payload is `@ll|nh|th|ih,OFFSET,LENGTH` with 1 to 128 bits, found `{raw}`"
                        ),
                        kind: ErrorKind::InvalidValue,
                    });
                }
                return Ok(Selector::Other(raw));
            }
            if let Err(m) = checks::selector_words(&words) {
                return refuse(Some(t), m);
            }
            return Ok(Selector::Other(words.join(" ")));
        }
        fail(
            Some(t),
            format!(
                "expected a match (such as `tcp dport`, `ip saddr`, `iifname`, `ct state`) or a statement, found {}",
                describe(Some(t))
            ),
        )
    }

    /// A match (`selector [op] value`, `selector vmap ...`) or a setting
    /// (`meta mark set 1`, `ct mark set ...`).
    pub(super) fn match_or_set(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<Stmt> {
        let left = self.selectors(cur)?;
        // What follows the selector, told apart by one look: most matches go
        // straight on to an operator or a value.
        let after = match cur.peek() {
            Some(t) if t.kind != Kind::Str => match t.text {
                "set" => After::Set,
                "&" | "|" | "^" | "<<" | ">>" | "and" | "or" | "xor" | "lshift" | "rshift" => {
                    After::Arithmetic
                }
                "vmap" => After::Vmap,
                "map" => After::Map,
                _ => After::Value,
            },
            _ => After::Value,
        };
        if after == After::Set {
            let set_at = cur.next().expect("peeked");
            let mark = cur.mark();
            let words = cur.skip_expr();
            // `ct helper set "ftp"`: a helper object of the table.
            if matches!(left.as_slice(), [sel] if Key::of(sel) == Some(Key::Ct(CtKey::Helper))) {
                let toks = cur.since(mark).to_vec();
                self.object_refs_in(ti, &toks, "ct helper");
            }
            if words.is_empty() {
                return fail(cur.peek(), "expected a value after `set`");
            }
            // A range is nothing to set a field or mark to (`meta mark set 1-3`).
            if let [one] = words.as_slice()
                && matches!(split_range(one), Value::Range(..))
            {
                return fail(
                    cur.peek(),
                    format!(
                        "cannot set {} to the range {one}",
                        crate::nft::lower::selectors_text(&left)
                    ),
                );
            }
            if let Err(m) =
                checks::set_value(&left, &words.iter().map(String::as_str).collect::<Vec<_>>())
            {
                return refuse(Some(set_at), m);
            }
            // Rewriting a header field (`ip daddr set ...`) changes where the
            // packet goes and what later rules see: not modelled.
            if matches!(left.as_slice(), [Selector::Payload { .. }]) {
                return Ok(Stmt::Unknown(format!(
                    "{} set {}",
                    crate::nft::lower::selectors_text(&left),
                    words.join(" ")
                )));
            }
            return Ok(Stmt::Effect(
                format!(
                    "{} set {}",
                    crate::nft::lower::selectors_text(&left),
                    words.join(" ")
                )
                .into(),
            ));
        }
        // `ct mark & 0xff == 0x10`, `meta mark >> 8 != 1`: arithmetic on the
        // left. Only `tcp flags & mask` is modelled.
        if after == After::Arithmetic {
            let is_flags = matches!(left.as_slice(), [sel] if Key::of(sel) == Some(TCP_FLAGS));
            if is_flags && cur.at("&") {
                cur.pos += 1;
                let mask = self.flag_list(cur)?;
                if cur.eat("vmap") {
                    let map = self.value(cur)?;
                    return Ok(Stmt::Vmap {
                        left: smallvec::smallvec![Selector::Other(format!(
                            "tcp flags & ({})",
                            mask.join("|")
                        ))],
                        map,
                    });
                }
                // `!` tests membership in flags; a masked value compares with `!=`.
                if let Some(bang) = cur.peek().filter(|b| b.kind != Kind::Str && b.text == "!") {
                    return fail(
                        Some(bang),
                        "expected `==` or `!=` after `tcp flags & (...)`, found `!`",
                    );
                }
                let op = self.op(cur).unwrap_or(Op::Eq);
                if cur.at("{") {
                    // `tcp flags & (syn|ack) == { syn, ack }`: one of several values under the mask.
                    let set = self.braced_set(cur)?;
                    return Ok(Stmt::Match {
                        left: smallvec::smallvec![Selector::Other(format!(
                            "tcp flags & ({})",
                            mask.join("|")
                        ))],
                        op,
                        right: set,
                    });
                }
                let comp = self.flag_list(cur)?;
                return Ok(Stmt::Match {
                    left,
                    op,
                    right: Value::Masked { mask, comp },
                });
            }
            let mut text = crate::nft::lower::selectors_text(&left);
            while cur.at("&")
                || cur.at("|")
                || cur.at("^")
                || cur.at("<<")
                || cur.at(">>")
                || cur.at("and")
                || cur.at("or")
                || cur.at("xor")
                || cur.at("lshift")
                || cur.at("rshift")
            {
                let op = cur.next().expect("peeked").text;
                let operand = if cur.at("(") {
                    self.flag_list(cur)?.join("|")
                } else {
                    let w = self.word(cur, "an operand")?;
                    // Arithmetic on marks and fields takes numbers or addresses
                    // (flag names come in parentheses).
                    if number(w.text).is_none()
                        && w.text.parse::<std::net::IpAddr>().is_err()
                        && !w.text.contains(':')
                    {
                        return Err(Fail {
                            at: at(Some(w)),
                            message: format!(
                                "expected a number after `{op}`, found {}",
                                describe(Some(w))
                            ),
                            kind: ErrorKind::InvalidValue,
                        });
                    }
                    w.text.to_string()
                };
                text.push_str(&format!(" {op} {operand}"));
            }
            if cur.eat("vmap") {
                let map = self.value(cur)?;
                return Ok(Stmt::Vmap {
                    left: smallvec::smallvec![Selector::Other(text)],
                    map,
                });
            }
            let op = self.op(cur).unwrap_or(Op::Eq);
            let right = self.value(cur)?;
            return Ok(Stmt::Match {
                left: smallvec::smallvec![Selector::Other(text)],
                op,
                right,
            });
        }
        if after == After::Vmap {
            cur.pos += 1;
            let map = self.value(cur)?;
            return Ok(Stmt::Vmap { left, map });
        }
        if after == After::Map {
            // `ip saddr map @m == 1`: a lookup as a value, not modelled.
            let words = cur.skip_expr();
            return Ok(Stmt::Condition(format!(
                "{} {}",
                crate::nft::lower::selectors_text(&left),
                words.join(" ")
            )));
        }
        // `==`/`!=` written out compare the whole value; `!` and no operator
        // test membership (kernel-checked, tests/kernel/FINDINGS.md).
        let explicit = cur
            .peek()
            .is_some_and(|t| t.kind != Kind::Str && matches!(t.text, "==" | "!=" | "eq" | "ne"));
        let op = self.op(cur);
        let right = self.value(cur)?;
        if explicit && !cur.at("/") {
            let whole: Option<Vec<String>> = match left.as_slice() {
                [sel] => match Key::of(sel) {
                    Some(Key::Ct(CtKey::State)) => Some(CtState::words()),
                    Some(TCP_FLAGS) => Some(TcpFlag::words()),
                    _ => None,
                },
                _ => None,
            };
            let comp = match &right {
                Value::Atom(a) => Some(vec![a.to_string()]),
                Value::Flags(f) => Some(f.clone()),
                _ => None,
            };
            if let (Some(mask), Some(comp)) = (whole, comp) {
                return Ok(Stmt::Match {
                    left,
                    op: op.unwrap_or(Op::Eq),
                    right: Value::Masked { mask, comp },
                });
            }
        }
        // `tcp flags syn / fin,syn,rst,ack`
        if cur.eat("/") {
            let mask = self.flag_list(cur)?;
            let comp = match right {
                Value::Atom(a) => vec![a.to_string()],
                Value::Flags(f) => f,
                other => {
                    return fail(
                        cur.peek(),
                        format!(
                            "expected flags before `/`, found `{}`",
                            crate::nft::lower::value_text(&other)
                        ),
                    );
                }
            };
            return Ok(Stmt::Match {
                left,
                op: op.unwrap_or(Op::Eq),
                right: Value::Masked { mask, comp },
            });
        }
        let op = match (op, &right) {
            // A bare flag list means "one of these set" for bit fields, which
            // the lowering reads as a set of states or flags.
            (None, _) => Op::Eq,
            (Some(o), _) => o,
        };
        Ok(Stmt::Match { left, op, right })
    }

    pub(super) fn op(&mut self, cur: &mut Cur<'a>) -> Option<Op> {
        let t = cur.peek()?;
        let op = match t.text {
            "==" | "eq" => Op::Eq,
            "!=" | "ne" => Op::Ne,
            "<" | "lt" => Op::Lt,
            ">" | "gt" => Op::Gt,
            "<=" | "le" => Op::Le,
            ">=" | "ge" => Op::Ge,
            "!" => Op::Ne,
            _ => return None,
        };
        if t.kind == Kind::Str {
            return None;
        }
        cur.pos += 1;
        Some(op)
    }

    /// `fin | syn`, `(fin|syn)`, `fin,syn`.
    pub(super) fn flag_list(&mut self, cur: &mut Cur<'a>) -> PResult<Vec<String>> {
        let paren = cur.eat("(");
        let mut out = vec![self.word(cur, "a flag")?.text.to_string()];
        while cur.at("|") || cur.at(",") {
            cur.pos += 1;
            out.push(self.word(cur, "a flag")?.text.to_string());
        }
        if paren {
            self.expect(cur, ")")?;
        }
        Ok(out)
    }

    /// A value: a set, a named set, a concatenation, a range, a flag list
    /// or a single atom.
    pub(super) fn value(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        self.expand(cur)?;
        let v = if cur.at("{") {
            self.braced_set(cur)?
        } else {
            let first = self.atom(cur)?;
            if cur.at(",") || cur.at("|") {
                // `established,related`, `syn | ack`
                let mut flags = vec![atom_text(&first)];
                while cur.at(",") || cur.at("|") {
                    cur.pos += 1;
                    self.expand(cur)?;
                    let a = self.atom(cur)?;
                    flags.push(atom_text(&a));
                }
                Value::Flags(flags)
            } else {
                first
            }
        };
        if cur.at(".") {
            let mut parts = vec![v];
            while cur.eat(".") {
                self.expand(cur)?;
                parts.push(self.atom(cur)?);
            }
            return Ok(Value::Concat(parts));
        }
        Ok(v)
    }

    /// One value: a word, a string, `@set`, or `a - b` / `a-b`.
    pub(super) fn atom(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        self.expand(cur)?;
        let t = match cur.peek() {
            Some(t) if t.kind == Kind::Word || t.kind == Kind::Str => cur.next().expect("peeked"),
            Some(t) if t.is("(") => {
                let f = self.flag_list(cur)?;
                return Ok(Value::Flags(f));
            }
            other => {
                return fail(
                    other,
                    format!("expected a value, found {}", describe(other)),
                );
            }
        };
        if t.kind == Kind::Str {
            // `hour "00:00"-"06:00"`
            if cur.at("-") && cur.peek_at(1).is_some_and(|n| n.kind == Kind::Str) {
                cur.pos += 1;
                let hi = cur.next().expect("peeked");
                return Ok(Value::Range(t.text.into(), hi.text.into()));
            }
            return Ok(Value::Atom(t.text.into()));
        }
        if let Some(name) = t.text.strip_prefix('@') {
            return Ok(Value::SetRef(name.to_string()));
        }
        // `10.0.0.1 - 10.0.0.9`
        if cur.at("-") {
            cur.pos += 1;
            let hi = self.word(cur, "the end of a range")?;
            return Ok(Value::Range(t.text.into(), hi.text.into()));
        }
        Ok(split_range(t.text))
    }

    /// `{ element, element : data, ... }`
    pub(super) fn braced_set(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        if self.set_depth >= super::MAX_SET_NESTING {
            return fail(
                cur.peek(),
                format!("sets nested more than {} deep", super::MAX_SET_NESTING),
            );
        }
        self.set_depth += 1;
        let read = self.braced_set_body(cur);
        self.set_depth -= 1;
        read
    }

    fn braced_set_body(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        self.expect(cur, "{")?;
        let mut out = Vec::new();
        loop {
            while cur
                .peek()
                .is_some_and(|t| t.kind == Kind::Newline || t.is(","))
            {
                cur.pos += 1;
            }
            self.expand(cur)?;
            if cur.eat("}") {
                return Ok(Value::Set(out));
            }
            if cur.peek().is_none() {
                return fail(None, "a set is not closed, expected `}`");
            }
            // A set inside a set (often a `$variable` holding one) adds its elements.
            if cur.at("{") {
                if let Value::Set(inner) = self.braced_set(cur)? {
                    out.extend(inner);
                }
                continue;
            }
            let key = self.element_value(cur)?;
            // Element options up to the data: `timeout 1h`, `expires 30s`,
            // `comment "..."`, `counter [packets N bytes N]`, `limit rate ...`, `quota ...`.
            while let Some(t) = cur.peek() {
                match t.text {
                    "timeout" | "expires" | "comment" | "packets" | "bytes" => {
                        cur.pos += 1;
                        self.word(cur, "the option's value")?;
                    }
                    "counter" => cur.pos += 1,
                    "limit" | "quota" | "ct" | "last" => {
                        cur.pos += 1;
                        while cur
                            .peek()
                            .is_some_and(|t| t.kind == Kind::Word && !t.is("counter"))
                        {
                            cur.pos += 1;
                        }
                    }
                    _ => break,
                }
            }
            let data = if cur.eat(":") {
                self.expand(cur)?;
                if cur.at("jump") || cur.at("goto") {
                    let w = cur.next().expect("peeked");
                    let target = self.word(cur, "a chain name")?;
                    Some(Value::Atom(format!("{} {}", w.text, target.text).into()))
                } else {
                    Some(self.element_value(cur)?)
                }
            } else {
                None
            };
            // `{ 25:accept }` written without blanks: one word holding key and data.
            let (key, data) = match (&key, data) {
                (Value::Atom(a), None)
                    if a.matches(':').count() == 1 && !a.starts_with(':') && !a.ends_with(':') =>
                {
                    let (k, d) = a.split_once(':').expect("one colon");
                    (split_range(k), Some(split_range(d)))
                }
                // `1234::aaaa:::accept`: an IPv6 key glued to its verdict.
                (Value::Atom(a), None)
                    if a.rsplit_once(':').is_some_and(|(_, v)| {
                        matches!(v, "accept" | "drop" | "return" | "continue")
                    }) =>
                {
                    let (k, d) = a.rsplit_once(':').expect("checked");
                    (split_range(k), Some(Value::Atom(d.into())))
                }
                (_, d) => (key, d),
            };
            out.push(Element { key, data });
            if !(cur.at(",") || cur.at("}") || cur.peek().is_some_and(|t| t.kind == Kind::Newline))
            {
                return fail(
                    cur.peek(),
                    format!(
                        "expected `,` or `}}` in a set, found {}",
                        describe(cur.peek())
                    ),
                );
            }
        }
    }

    pub(super) fn element_value(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        let first = self.atom(cur)?;
        if cur.at("|") {
            // `fin | ack` as one element.
            let mut flags = vec![atom_text(&first)];
            while cur.eat("|") {
                flags.push(atom_text(&self.atom(cur)?));
            }
            return Ok(Value::Flags(flags));
        }
        if cur.at(".") {
            let mut parts = vec![first];
            while cur.eat(".") {
                parts.push(self.atom(cur)?);
            }
            return Ok(Value::Concat(parts));
        }
        Ok(first)
    }
}
