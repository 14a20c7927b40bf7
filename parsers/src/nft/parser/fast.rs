//! The rules big rulesets are made of, read straight into the model.
//!
//! Nearly every rule of a generated or listed ruleset is a few plain
//! matches (`iifname "eth0"`, `ip saddr 10.0.0.0/8`, `tcp dport 22`,
//! `meta l4proto udp`, `ct state established,related`), maybe `counter`,
//! `log prefix "..."` or `comment "..."`, and a verdict. Such a rule is read
//! here into model rules at once, with the lowering's own functions for
//! each value, without building its statements first. Anything else (a set,
//! an operator, a variable, a jump, any other statement) and any problem
//! sends the rule back to the general productions, which give the same
//! model or report the problem; the corpus, the `.t` lines and the fuzz
//! corpora are compared through both ways.

use super::checks;
use super::words::is_statement_word;
use super::words::split_range;
use super::*;
use crate::model::{Action, CtStates, Family, Match, RejectKind};
use crate::nft::lower;
use crate::nft::vocab::{CtKey, MetaKey, PayloadField as F, PayloadProtocol, PayloadProtocol as P};
use smallvec::SmallVec;

/// How a fast rule ends.
enum Ending {
    Verdict(Action),
    /// `reject [with ...]`: its kind depends on the family.
    Reject(Option<String>),
}

/// Words that are not values where a fast rule expects one: operators
/// written as words, and what turns a match into something else.
fn is_value_word(t: &Token) -> bool {
    t.kind == Kind::Word
        && !t.text.starts_with(['$', '@'])
        && !matches!(
            t.text,
            "set"
                | "map"
                | "vmap"
                | "and"
                | "or"
                | "xor"
                | "lshift"
                | "rshift"
                | "eq"
                | "ne"
                | "lt"
                | "gt"
                | "le"
                | "ge"
        )
}

/// Whether a word holds a byte. Words are short: a plain loop beats
/// setting up a search.
fn has(word: &str, byte: u8) -> bool {
    word.bytes().any(|b| b == byte)
}

/// A word split at its first `-`.
fn split_dash(word: &str) -> Option<(&str, &str)> {
    let i = word.bytes().position(|b| b == b'-')?;
    Some((&word[..i], &word[i + 1..]))
}

/// The value [`split_range`] makes of a word, without trying to read a
/// name such as `echo-request` as a number or an address first.
fn fast_atom(word: &str) -> ast::Value {
    match split_dash(word) {
        // Not a number, an IPv4 address (a digit first) or an IPv6 one (a colon).
        Some((a, _)) if a.starts_with(|c: char| c.is_ascii_alphabetic()) && !has(a, b':') => {
            ast::Value::Atom(word.into())
        }
        _ => split_range(word),
    }
}

/// A port or a range of ports as [`lower::port_range`] reads the value
/// [`split_range`] makes of the word, without making it: most are digits.
fn fast_port(word: &str) -> Option<crate::model::PortRange> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    let (a, b) = match split_dash(word) {
        None if digits(word) => {
            let n = lower::port_number(word).ok()?;
            (n, n)
        }
        Some((a, b)) if digits(a) && digits(b) => {
            (lower::port_number(a).ok()?, lower::port_number(b).ok()?)
        }
        _ => return lower::port_range(&split_range(word)).ok(),
    };
    (a <= b).then_some(crate::model::PortRange { start: a, end: b })
}

impl<'a> Parser<'a> {
    /// `fast-rule = *(fast-match | fast-effect) [verdict [comment STRING]]`,
    /// lowered into chain `ci`; `None` (and the cursor back where it was)
    /// for any other rule.
    pub(super) fn fast_rule(
        &mut self,
        cur: &mut Cur<'a>,
        ti: usize,
        ci: usize,
    ) -> Option<ast::Rule> {
        if !self.fast || !self.defines.is_empty() {
            return None;
        }
        let families = lower::families_of(self.tables[ti].family)?;
        let start = cur.mark();
        let rule = self.fast_rule_at(cur, ti, ci, families, start);
        if rule.is_none() {
            cur.rewind(start);
        }
        rule
    }

    fn fast_rule_at(
        &mut self,
        cur: &mut Cur<'a>,
        ti: usize,
        ci: usize,
        families: &[Family],
        start: usize,
    ) -> Option<ast::Rule> {
        let mut ms: SmallVec<[Match; 8]> = SmallVec::new();
        // The family the rule's fields belong to, if any.
        let mut only: Option<Family> = None;
        let mut ending: Option<Ending> = None;
        // What nft's checks of a `reject` need to know (see [`checks`]).
        let mut ctx = checks::RuleCtx::new(self.tables[ti].family);
        while let Some(t) = cur.peek() {
            if t.kind == Kind::Newline || t.is(";") || t.is("}") {
                break;
            }
            if t.kind != Kind::Word {
                return None;
            }
            cur.pos += 1;
            if ending.is_some() {
                // After the verdict only a comment, which decides nothing.
                if t.text == "comment" && cur.peek().is_some_and(|c| c.kind == Kind::Str) {
                    cur.pos += 1;
                    continue;
                }
                return None;
            }
            let field = |f: Token| {
                Some(f)
                    .filter(|f| f.kind == Kind::Word)
                    .and_then(|f| F::from_word(f.text))
            };
            match t.text {
                "meta" => {
                    if !cur.next().is_some_and(|k| {
                        k.kind == Kind::Word && MetaKey::from_word(k.text) == Some(MetaKey::L4proto)
                    }) {
                        return None;
                    }
                    let v = self.fast_value(cur)?;
                    let protocols = lower::protocols(&[&fast_atom(v.text)]).ok()?;
                    ctx.transport = Some(protocols.first().copied());
                    ms.push(Match::Protocol {
                        negated: false,
                        protocols,
                    });
                }
                "ct" => {
                    if !cur.next().is_some_and(|k| {
                        k.kind == Kind::Word && CtKey::from_word(k.text) == Some(CtKey::State)
                    }) {
                        return None;
                    }
                    // `established,related`
                    let mut states = CtStates::default();
                    loop {
                        let v = cur.next().filter(is_value_word)?;
                        if has(v.text, b'-') {
                            return None;
                        }
                        states = states.union(lower::ct_state(v.text).ok()?);
                        if !cur.eat(",") {
                            break;
                        }
                    }
                    if !self.fast_value_ends(cur) {
                        return None;
                    }
                    ms.push(Match::ConnState {
                        negated: false,
                        states,
                    });
                }
                "counter" => {
                    // `counter packets 12 bytes 3456`, as `nft list ruleset`
                    // prints every counter: the numbers decide nothing.
                    while cur.at("packets") || cur.at("bytes") {
                        cur.pos += 1;
                        cur.next().filter(|n| {
                            n.kind == Kind::Word
                                && !n.text.is_empty()
                                && n.text.bytes().all(|b| b.is_ascii_digit())
                        })?;
                    }
                    if cur.at("name") {
                        return None;
                    }
                }
                "log" => {
                    let mut opts: SmallVec<[(&str, &str); 2]> = SmallVec::new();
                    while cur.at("prefix") || cur.at("level") {
                        let k = cur.next()?.text;
                        opts.push((
                            k,
                            cur.next()
                                .filter(|v| v.kind == Kind::Str || is_value_word(v))?
                                .text,
                        ));
                    }
                    checks::log(&opts).ok()?;
                    if cur.peek().is_some_and(|n| {
                        n.kind == Kind::Word
                            && matches!(n.text, "group" | "snaplen" | "queue-threshold" | "flags")
                    }) {
                        return None;
                    }
                }
                "comment" => {
                    cur.next()
                        .filter(|v| v.kind == Kind::Str || is_value_word(v))?;
                }
                "accept" => ending = Some(Ending::Verdict(Action::Accept)),
                "drop" => ending = Some(Ending::Verdict(Action::Drop)),
                "return" => ending = Some(Ending::Verdict(Action::Return)),
                "continue" => ending = Some(Ending::Verdict(Action::Continue)),
                "reject" => {
                    let with = if cur.eat("with") {
                        Some(
                            self.words_while(cur, |w| !is_statement_word(w) || w == "type")
                                .join(" "),
                        )
                    } else {
                        None
                    };
                    ctx.reject(with.as_deref()).ok()?;
                    ending = Some(Ending::Reject(with));
                }
                word => match PayloadProtocol::from_word(word) {
                    Some(protocol @ (P::Ip | P::Ip6)) => {
                        let (family, net) = if protocol == P::Ip {
                            (Family::Ipv4, checks::Net::Ip)
                        } else {
                            (Family::Ipv6, checks::Net::Ip6)
                        };
                        if ctx.net.is_some_and(|n| n != net) {
                            return None;
                        }
                        ctx.net = Some(net);
                        let source = match field(cur.next()?)? {
                            F::Saddr => true,
                            F::Daddr => false,
                            _ => return None,
                        };
                        let vs = self.fast_values(cur)?;
                        if only.is_some_and(|o| o != family) || vs.iter().any(|v| has(v, b'-')) {
                            return None;
                        }
                        only = Some(family);
                        // A table without this family never reads the value.
                        if families.contains(&family) {
                            let mut nets = crate::model::Nets::new();
                            for v in vs {
                                nets.push(lower::net(v, family).ok()?);
                            }
                            ms.push(if source {
                                Match::Source {
                                    negated: false,
                                    nets,
                                }
                            } else {
                                Match::Destination {
                                    negated: false,
                                    nets,
                                }
                            });
                        }
                    }
                    Some(protocol @ (P::Icmp | P::Icmpv6)) => {
                        let family = if protocol == P::Icmp {
                            Family::Ipv4
                        } else {
                            Family::Ipv6
                        };
                        ctx.transport = Some(Some(if protocol == P::Icmp { 1 } else { 58 }));
                        if field(cur.next()?)? != F::Type {
                            return None;
                        }
                        let v = self.fast_value(cur)?;
                        if only.is_some_and(|o| o != family) {
                            return None;
                        }
                        only = Some(family);
                        if families.contains(&family) {
                            let v6 = family == Family::Ipv6;
                            // Several types are alternatives: the general way.
                            let [ty] = lower::icmp_types(&[&fast_atom(v.text)], v6).ok()?[..]
                            else {
                                return None;
                            };
                            ms.push(Match::Protocol {
                                negated: false,
                                protocols: smallvec::smallvec![if v6 { 58 } else { 1 }],
                            });
                            ms.push(Match::Icmp {
                                negated: false,
                                icmp_type: ty,
                                codes: (0, 255),
                            });
                        }
                    }
                    Some(protocol @ (P::Tcp | P::Udp)) => {
                        let source = match field(cur.next()?)? {
                            F::Sport => true,
                            F::Dport => false,
                            _ => return None,
                        };
                        let mut ports = crate::model::Ports::new();
                        for v in self.fast_values(cur)? {
                            ports.push(fast_port(v)?);
                        }
                        ms.push(Match::Protocol {
                            negated: false,
                            protocols: lower::transport_protocols(protocol)?.into(),
                        });
                        ctx.transport = Some(Some(if protocol == P::Tcp { 6 } else { 17 }));
                        ms.push(if source {
                            Match::SourcePort {
                                negated: false,
                                ports,
                            }
                        } else {
                            Match::DestinationPort {
                                negated: false,
                                ports,
                            }
                        });
                    }
                    Some(_) => return None,
                    None => match MetaKey::from_word(word) {
                        Some(key @ (MetaKey::Iifname | MetaKey::Oifname)) => {
                            let v = cur.next()?;
                            let value = match v.kind {
                                Kind::Str => ast::Value::Atom(v.text.into()),
                                _ if is_value_word(&v) => fast_atom(v.text),
                                _ => return None,
                            };
                            if !self.fast_value_ends(cur) {
                                return None;
                            }
                            let interface = lower::interface(&value).ok()?;
                            ms.push(if key == MetaKey::Iifname {
                                Match::InInterface {
                                    negated: false,
                                    interface,
                                }
                            } else {
                                Match::OutInterface {
                                    negated: false,
                                    interface,
                                }
                            });
                        }
                        _ => return None,
                    },
                },
            }
        }
        if cur.mark() == start {
            return None;
        }
        // From the first token to the last, all the file's own (no variables).
        let toks = cur.since(start);
        let (first, last) = (toks.first()?, toks.last()?);
        let span = self.span_of(first.file, first.start, last.end);
        if cur
            .peek()
            .is_some_and(|t| t.is(";") || t.kind == Kind::Newline)
        {
            cur.pos += 1;
        }
        self.fast_lower(span, ti, ci, families, &mut ms, only, ending)
    }

    /// The model rules of a fast rule, one per family it exists in, onto
    /// the chain's early lists; `None` where the lowering would report a
    /// problem.
    #[allow(clippy::too_many_arguments)]
    fn fast_lower(
        &mut self,
        span: Span,
        ti: usize,
        ci: usize,
        families: &[Family],
        ms: &mut SmallVec<[Match; 8]>,
        only: Option<Family>,
        ending: Option<Ending>,
    ) -> Option<ast::Rule> {
        let mut built: SmallVec<[Option<crate::model::Rule>; 2]> = SmallVec::new();
        // The last family the rule may exist in takes the matches, the others a copy.
        let last = families.iter().rposition(|f| only.is_none_or(|o| o == *f));
        for (i, &family) in families.iter().enumerate() {
            if only.is_some_and(|f| f != family) {
                built.push(None);
                continue;
            }
            let action = match &ending {
                None => Action::Continue,
                Some(Ending::Verdict(a)) => a.clone(),
                Some(Ending::Reject(with)) => match lower::reject_kind(with.as_deref(), family) {
                    Ok(Some(kind)) => Action::Reject { with: kind },
                    // `reject with icmpv6 ...` in the IPv4 copy: the rule is the other family's.
                    Ok(None) => {
                        built.push(None);
                        continue;
                    }
                    Err(text) => Action::Unknown { text },
                },
            };
            // `reject with tcp reset` carries a hidden `meta l4proto tcp`.
            let reset = action
                == (Action::Reject {
                    with: RejectKind::TcpReset,
                });
            let mut matches = Vec::with_capacity(ms.len() + usize::from(reset));
            if Some(i) == last {
                matches.extend(ms.drain(..));
            } else {
                matches.extend_from_slice(ms);
            }
            if reset {
                matches.push(Match::Protocol {
                    negated: false,
                    protocols: smallvec::smallvec![6],
                });
            }
            if lower::protocols_contradict(&matches) {
                // An error in the first family; the others only leave the rule out.
                if i == 0 {
                    return None;
                }
                built.push(None);
                continue;
            }
            built.push(Some(crate::model::Rule {
                span,
                matches,
                action,
            }));
        }
        let lists = &mut self.tables[ti].chains[ci].early;
        let mut early = ast::EarlyRules {
            start: [lists[0].len() as u32, lists[1].len() as u32],
            count: [0; 2],
        };
        for (i, rule) in built.into_iter().enumerate() {
            if let Some(rule) = rule {
                if lists[i].capacity() == lists[i].len() {
                    // Grown in big steps: each step of a list of model rules copies it.
                    lists[i].reserve(lists[i].len().max(256));
                }
                lists[i].push(rule);
                early.count[i] = 1;
            }
        }
        Some(ast::Rule {
            span,
            stmts: Vec::new(),
            early: Some(early),
        })
    }

    /// A value word or an anonymous set of them (`{ 22, 80 }`), followed as
    /// in [`Parser::fast_value`].
    fn fast_values(&mut self, cur: &mut Cur<'a>) -> Option<SmallVec<[&'a str; 4]>> {
        if !cur.eat("{") {
            return Some(smallvec::smallvec![self.fast_value(cur)?.text]);
        }
        let mut out = SmallVec::new();
        loop {
            // `22:accept` would be a map's element.
            out.push(
                cur.next()
                    .filter(|v| is_value_word(v) && !has(v.text, b':'))?
                    .text,
            );
            let sep = cur.next()?;
            if sep.is("}") {
                break;
            }
            if !sep.is(",") {
                return None;
            }
        }
        self.fast_value_ends(cur).then_some(out)
    }

    /// A value word, where the next token starts another statement or ends
    /// the rule (so the value is not a range, a list or a concatenation).
    fn fast_value(&mut self, cur: &mut Cur<'a>) -> Option<Token<'a>> {
        let v = cur.next().filter(is_value_word)?;
        self.fast_value_ends(cur).then_some(v)
    }

    fn fast_value_ends(&mut self, cur: &mut Cur<'a>) -> bool {
        match cur.peek() {
            None => true,
            Some(n) => n.kind == Kind::Word || n.kind == Kind::Newline || n.is(";") || n.is("}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::nft::{parse, parse_general};

    /// Both ways give the same model and the same errors.
    fn same(name: &str, text: &str) {
        let (fast, general) = (parse(name, text), parse_general(name, text));
        let show = |p: &crate::Parsed| {
            format!(
                "{:#?}\n{:#?}\n{:#?}",
                p.ruleset.tables, p.ruleset.skipped, p.errors
            )
        };
        assert_eq!(show(&fast), show(&general), "{name}");
    }

    #[test]
    fn plain_rules_read_fast_as_the_general_way_reads_them() {
        let rules = [
            "iifname \"eth0\" ip saddr 10.0.0.0/8 ip daddr 192.0.2.1 meta l4proto udp accept comment \"x\"",
            "tcp dport { 22, 80, 8000-8080 } ct state new,established counter log prefix \"in: \" accept",
            "ip saddr { 10.0.0.1, 10.1.0.0/16 } udp sport 53 udp dport 1024-65535 drop",
            "ip6 saddr 2001:db8::/32 tcp dport ssh accept",
            "icmp type echo-request accept",
            "icmpv6 type echo-request ip6 daddr ::1 accept",
            "icmp type { echo-request, echo-reply } accept",
            "oifname eth* reject with icmpx type port-unreachable",
            "tcp dport 22 reject with tcp reset",
            "meta l4proto udp tcp dport 22 accept",
            "ip saddr 10.0.0.300 accept",
            "ip saddr 10.0.0.1 ip6 daddr ::1 accept",
            "tcp dport 99999 accept",
            "tcp dport 30-20 accept",
            "iifname \"a-very-long-interface-name\" accept",
            "ct state bogus accept",
            "ct state established,related accept drop",
            "reject with icmpv6 type no-route",
            "tcp dport != 22 accept",
            "ip saddr 10.0.0.1 - 10.0.0.9 accept",
            "tcp dport { 22, } accept",
            "counter packets 1 bytes 2 accept",
            "ip saddr 10.0.0.1 counter packets 0 bytes 0 drop",
            "counter bytes 7 packets 1 accept",
            "counter packets x bytes 2 accept",
            "counter packets 1 bytes accept",
            "counter packets 1 bytes 2 name c accept",
            "log prefix \"x\" group 2 accept",
            "accept tcp dport 22",
        ];
        for family in ["ip", "ip6", "inet", "bridge"] {
            for rule in rules {
                same(
                    rule,
                    &format!(
                        "table {family} t {{\n chain c {{ type filter hook input priority 0;\n {rule}\n }}\n}}\n"
                    ),
                );
            }
            let all = rules.join("\n");
            same(
                "all",
                &format!(
                    "table {family} t {{\n chain c {{\n {all}\n }}\n}}\ninsert rule {family} t c tcp dport 1 accept\n"
                ),
            );
        }
    }

    /// The whole nftables corpus, when it is there.
    #[test]
    fn the_corpus_reads_fast_as_the_general_way_reads_it() {
        let mut dirs = vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/nftables"),
        ];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    same(
                        &path.display().to_string(),
                        &String::from_utf8_lossy(&bytes),
                    );
                }
            }
        }
    }
}
