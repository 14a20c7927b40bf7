//! Rules and the statements in them: verdicts, NAT, counters, logs, limits,
//! set updates, and where a statement ends.

use super::checks;
use super::words::{
    is_bare_meta, is_payload_protocol, is_statement_word, is_stop_word, split_range,
};
use super::*;
use crate::nft::ast::{self, NatKind, Stmt, Value, Verdict};
use crate::nft::lexer::Kind;
use smallvec::SmallVec;

impl<'a> Parser<'a> {
    /// One rule: statements to the end of the line (or `;`).
    ///
    /// A plain rule of chain `ci` is read straight into the model by the
    /// fast path (see [`Parser::fast_rule`]); any other is kept as its
    /// statements and lowered with the whole ruleset.
    pub(super) fn rule(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<ast::Rule> {
        if let Some(rule) = self.fast_rule(cur, ti, ci) {
            return Ok(rule);
        }
        let start = cur.mark();
        // Gathered in a list kept from rule to rule, then allocated once at
        // their number. A rule can hold a chain and its rules (`jump {
        // ... }`): each takes its own statements off the end, error or not.
        let base = self.stmts.len();
        if let Err(f) = self.statements(cur, ti, ci) {
            self.stmts.truncate(base);
            return Err(f);
        }
        let span = self.span_between(cur, start);
        if cur
            .peek()
            .is_some_and(|t| t.is(";") || t.kind == Kind::Newline)
        {
            cur.pos += 1;
        }
        if self.stmts.len() == base {
            return fail(cur.peek(), "expected a rule");
        }
        Ok(ast::Rule::new(span, self.stmts.split_off(base)))
    }

    /// The statements of a rule, onto `self.stmts`.
    fn statements(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<()> {
        let mut ctx = checks::RuleCtx::new(self.tables[ti].family);
        ctx.prerouting = self.tables[ti]
            .chains
            .get(ci)
            .and_then(|c| c.base.as_ref())
            .map(|b| b.hook == "prerouting");
        loop {
            self.expand(cur)?;
            if cur.at_end() {
                return Ok(());
            }
            let first = cur.peek();
            let s = self.statement(cur, ti)?;
            if let Err(m) = ctx.statement(&s) {
                return refuse(first, m);
            }
            self.stmts.push(s);
        }
    }

    pub(super) fn statement(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<Stmt> {
        let t = cur.peek().expect("not at the end");
        let text = t.text;
        if t.kind == Kind::Word {
            match text {
                "accept" | "drop" | "return" | "continue" => {
                    cur.pos += 1;
                    return Ok(Stmt::Verdict(match text {
                        "accept" => Verdict::Accept,
                        "drop" => Verdict::Drop,
                        "return" => Verdict::Return,
                        _ => Verdict::Continue,
                    }));
                }
                "jump" | "goto" => {
                    cur.pos += 1;
                    let target = if cur.at("{") {
                        // A chain binding: an anonymous chain written in place.
                        cur.pos += 1;
                        let name = format!("{}#{}", t.text, cur.pos);
                        let span = self.tok_span(&t);
                        let ci = self.chain_named(ti, &name, span);
                        self.chain_body(cur, ti, ci)?;
                        name
                    } else {
                        self.word(cur, "a chain name")?.text.to_string()
                    };
                    return Ok(Stmt::Verdict(if text == "jump" {
                        Verdict::Jump(target)
                    } else {
                        Verdict::Goto(target)
                    }));
                }
                "reject" => {
                    cur.pos += 1;
                    if cur.eat("with") {
                        let words = self.words_while(cur, |w| !is_statement_word(w) || w == "type");
                        return Ok(Stmt::Verdict(Verdict::Reject(Some(words.join(" ")))));
                    }
                    return Ok(Stmt::Verdict(Verdict::Reject(None)));
                }
                "queue" => {
                    cur.pos += 1;
                    let words = self.rest_words(cur);
                    if let Err(m) = checks::queue(&words) {
                        return refuse(Some(t), m);
                    }
                    return Ok(Stmt::Verdict(Verdict::Queue(words.join(" "))));
                }
                "counter" => {
                    cur.pos += 1;
                    if cur.eat("name") {
                        // A name, or an expression mapping to one: `counter name ip saddr map { ... }`.
                        let name = self.word(cur, "a counter name")?;
                        if cur.at_end()
                            || cur
                                .peek()
                                .is_some_and(|n| n.kind == Kind::Word && is_stop_word(n.text))
                        {
                            self.object_ref(ti, "counter", name);
                        } else {
                            let mark = cur.mark();
                            if !cur.skip_expr().iter().any(|w| w == "map") {
                                // Not a name: an expression, which must map to one.
                                return refuse(
                                    Some(name),
                                    "`counter name` takes a name, or an expression that maps to names (`counter name ip saddr map { ... }`)",
                                );
                            }
                            let toks = cur.since(mark).to_vec();
                            self.object_refs_in(ti, &toks, "counter");
                        }
                    }
                    while cur.at("packets") || cur.at("bytes") {
                        cur.pos += 1;
                        self.word(cur, "a number")?;
                    }
                    return Ok(Stmt::Effect("counter".into()));
                }
                "log" => {
                    cur.pos += 1;
                    let mut opts: SmallVec<[(&str, &str); 4]> = SmallVec::new();
                    loop {
                        if cur.at("prefix")
                            || cur.at("level")
                            || cur.at("group")
                            || cur.at("snaplen")
                            || cur.at("queue-threshold")
                        {
                            let k = cur.next().expect("peeked").text;
                            opts.push((k, self.word(cur, "a value")?.text));
                        } else if cur.at("flags") {
                            // `flags all`, `flags skuid`, `flags ether`, `flags ip options`, `flags tcp sequence,options`
                            cur.pos += 1;
                            let f = self.word(cur, "log flags")?;
                            opts.push(("flags", f.text));
                            if f.is("ip") || f.is("tcp") {
                                self.word(cur, "log flags")?;
                                while cur.eat(",") {
                                    self.word(cur, "log flags")?;
                                }
                            }
                        } else {
                            break;
                        }
                    }
                    if let Err(m) = checks::log(&opts) {
                        return refuse(Some(t), m);
                    }
                    return Ok(Stmt::Effect("log".into()));
                }
                "comment" => {
                    cur.pos += 1;
                    self.word(cur, "a quoted comment")?;
                    return Ok(Stmt::Effect("comment".into()));
                }
                "notrack" => {
                    cur.pos += 1;
                    return Ok(Stmt::Notrack);
                }
                "limit" | "quota" => {
                    let mark = cur.mark();
                    let words = self.words_while(cur, |w| {
                        !is_statement_word(w) || w == "limit" || w == "quota"
                    });
                    if let Err(m) = checks::limit(&words) {
                        return refuse(Some(t), m);
                    }
                    // `limit name "l"`: the name is the last of the three tokens.
                    if let [kind @ ("limit" | "quota"), "name", _] = words.as_slice()
                        && let Some(&name) = cur.since(mark).last()
                    {
                        self.object_ref(ti, if *kind == "limit" { "limit" } else { "quota" }, name);
                    }
                    return Ok(Stmt::Condition(words.join(" ")));
                }
                "dnat" | "snat" | "masquerade" | "redirect" => {
                    cur.pos += 1;
                    return self.nat(cur, text, ti);
                }
                "add" | "update" | "delete"
                    if cur.peek_at(1).is_some_and(|n| n.text.starts_with('@')) =>
                {
                    cur.pos += 1;
                    let set = self.word(cur, "a set")?;
                    let family = self.tables[ti].family;
                    let table = self.tables[ti].name.clone();
                    self.dynamic.push((
                        family,
                        table,
                        set.text.trim_start_matches('@').to_string(),
                    ));
                    // `{ ip saddr timeout 1m limit rate 10/second }`: an expression with options.
                    let mut data = None;
                    if cur.at("{") {
                        cur.pos += 1;
                        let mut depth = 1usize;
                        while let Some(t) = cur.next() {
                            if t.is("{") {
                                depth += 1;
                            } else if t.is("}") {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            } else if depth == 1 && t.text.starts_with(':') && data.is_none() {
                                data = Some(t);
                            }
                        }
                    }
                    // `: data` goes only into a map.
                    let name = set.text.trim_start_matches('@');
                    if let Some(d) = data.filter(|_| {
                        self.tables[ti]
                            .sets
                            .iter()
                            .any(|s| s.name == name && s.data_type.is_none())
                    }) {
                        return refuse(
                            Some(d),
                            format!("@{name} is a set, not a map: its elements take no `: data`"),
                        );
                    }
                    return Ok(Stmt::Effect(format!("{text} {}", set.text).into()));
                }
                // The old form: `set add ip saddr @s`, `set update ip saddr timeout 1m @s`.
                "set"
                    if cur
                        .peek_at(1)
                        .is_some_and(|n| n.is("add") || n.is("update") || n.is("delete")) =>
                {
                    cur.pos += 2;
                    let mut name = None;
                    while !cur.at_end() {
                        let t = cur.next().expect("not at the end");
                        if let Some(n) = t.text.strip_prefix('@') {
                            name = Some(n.to_string());
                            break;
                        }
                    }
                    let Some(name) = name else {
                        return fail(cur.peek(), "expected `@set` at the end of a set update");
                    };
                    let family = self.tables[ti].family;
                    let table = self.tables[ti].name.clone();
                    self.dynamic.push((family, table, name.clone()));
                    return Ok(Stmt::Effect(format!("set update @{name}").into()));
                }
                "reset" => {
                    let words = cur.skip_expr();
                    if let ["reset", "tcp", "option", name, ..] = words
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .as_slice()
                        && let Err(m) = checks::tcp_option(name, None)
                    {
                        return refuse(Some(t), m);
                    }
                    return Ok(Stmt::Effect(words.join(" ").into()));
                }
                "meter" => {
                    cur.pos += 1;
                    let name = self.word(cur, "a meter name")?;
                    if cur.eat("size") {
                        self.word(cur, "a size")?;
                    }
                    let family = self.tables[ti].family;
                    let table = self.tables[ti].name.clone();
                    self.dynamic.push((family, table, name.text.to_string()));
                    let mut depth = 0;
                    // `meter name { key limit rate ... }`: the body decides whether the rule goes on.
                    while let Some(n) = cur.peek() {
                        if depth == 0 && cur.at_end() {
                            break;
                        }
                        if n.is("{") {
                            depth += 1;
                        }
                        if n.is("}") {
                            depth -= 1;
                            cur.pos += 1;
                            if depth == 0 {
                                break;
                            }
                            continue;
                        }
                        cur.pos += 1;
                    }
                    return Ok(Stmt::Condition(format!("meter {}", name.text)));
                }
                "last" => {
                    // Records when the rule last matched; decides nothing.
                    let words = cur.skip_expr();
                    match words
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .as_slice()
                    {
                        ["last"] | ["last", "used", "never"] => {}
                        ["last", "used", d] if checks::is_duration(d) => {}
                        _ => {
                            return refuse(
                                Some(t),
                                format!(
                                    "expected `last`, `last used never` or `last used DURATION`, found `{}`",
                                    words.join(" ")
                                ),
                            );
                        }
                    }
                    return Ok(Stmt::Effect(words.join(" ").into()));
                }
                "tproxy" | "synproxy" | "fwd" | "dup" | "xt" | "flow" => {
                    let mark = cur.mark();
                    let words = self.rest_words(cur);
                    // `synproxy name "s"`, `synproxy name ip saddr map { ... : "s" }`
                    if text == "synproxy" && words.get(1) == Some(&"name") {
                        let toks = cur.since(mark).get(2..).unwrap_or(&[]).to_vec();
                        self.object_refs_in(ti, &toks, "synproxy");
                    }
                    // Where the packet goes is one address and one port:
                    // nft refuses a range or a prefix there.
                    if matches!(text, "tproxy" | "dup" | "fwd")
                        && let Some(&target) = words.iter().skip_while(|w| **w != "to").nth(1)
                    {
                        let (addr, port) = match target.rsplit_once(':') {
                            Some((a, p)) if !a.contains(':') || a.ends_with(']') => (a, Some(p)),
                            _ => (target, None),
                        };
                        let bad = addr.contains('/')
                            || matches!(split_range(addr), Value::Range(..))
                            || port.is_some_and(|p| matches!(split_range(p), Value::Range(..)));
                        if bad {
                            return fail(
                                Some(t),
                                format!(
                                    "`{text} to {target}`: the target is one address and one port, not a range or a prefix"
                                ),
                            );
                        }
                    }
                    return Ok(Stmt::Unknown(words.join(" ")));
                }
                _ => {}
            }
        }
        self.match_or_set(cur, ti)
    }

    pub(super) fn nat(&mut self, cur: &mut Cur<'a>, what: &str, ti: usize) -> PResult<Stmt> {
        let kind = match what {
            "dnat" => NatKind::Dnat,
            "snat" => NatKind::Snat,
            "masquerade" => NatKind::Masquerade,
            _ => NatKind::Redirect,
        };
        let mut family = None;
        if cur.at("ip") || cur.at("ip6") {
            family = cur.next().map(|t| t.text.to_string());
        }
        let (mut addr, mut port) = (None, None);
        if cur.at("prefix") {
            cur.pos += 1;
        }
        // `snat ip daddr ...`: after the family, only `to`, `addr . port`,
        // `interval` or the flags.
        if let Some(t) = cur.peek().filter(|t| {
            t.kind == Kind::Word
                && !is_stop_word(t.text)
                && !matches!(
                    t.text,
                    "to" | "addr"
                        | "interval"
                        | "random"
                        | "fully-random"
                        | "persistent"
                        | "netmap"
                        | "prefix"
                )
        }) && !cur.at_end()
        {
            return fail(
                Some(t),
                format!(
                    "expected `to` after `{what}{}`, found {}",
                    family
                        .as_deref()
                        .map(|f| format!(" {f}"))
                        .unwrap_or_default(),
                    describe(Some(t))
                ),
            );
        }
        if cur.eat("to") {
            self.expand(cur)?;
            // `dnat to ip saddr map { ... }`, `snat to numgen ...`: the
            // address comes from an expression driftwall does not evaluate.
            if cur.peek().is_some_and(|t| {
                t.kind == Kind::Word
                    && (is_payload_protocol(t.text)
                        || is_bare_meta(t.text)
                        || matches!(t.text, "meta" | "ct" | "numgen" | "jhash" | "symhash"))
            }) {
                let start = cur.peek();
                let words = cur.skip_expr();
                if let Err(m) = checks::inline_map(&words) {
                    return refuse(start, format!("{what} to ...: {m}"));
                }
                // `snat to ip saddr map @m`: @m must be a map.
                if let Some(m) = words
                    .iter()
                    .skip_while(|w| *w != "map")
                    .nth(1)
                    .and_then(|w| w.strip_prefix('@'))
                    && self.tables[ti]
                        .sets
                        .iter()
                        .any(|s| s.name == m && s.data_type.is_none())
                {
                    return refuse(
                        start,
                        format!("{what} to ... map @{m}: @{m} is a set, not a map"),
                    );
                }
                let fam = family
                    .as_deref()
                    .map(|f| format!(" {f}"))
                    .unwrap_or_default();
                return Ok(Stmt::Unknown(format!("{what}{fam} to {}", words.join(" "))));
            }
            if cur.eat("[") {
                // `[2001:db8::1]:80`, `[a]-[b]:80-100`
                let mut a = self.word(cur, "an IPv6 address")?.text.to_string();
                self.expect(cur, "]")?;
                if cur.at("-") && cur.peek_at(1).is_some_and(|n| n.is("[")) {
                    cur.pos += 2;
                    let b = self.word(cur, "an IPv6 address")?.text.to_string();
                    self.expect(cur, "]")?;
                    a = format!("{a}-{b}");
                }
                addr = Some(a);
                if let Some(t) = cur
                    .peek()
                    .filter(|t| t.kind == Kind::Word && t.text.starts_with(':'))
                {
                    port = Some(t.text[1..].to_string());
                    cur.pos += 1;
                }
            } else {
                let w = self.word(cur, "an address or :port")?.text.to_string();
                if let Some(p) = w.strip_prefix(':') {
                    port = Some(p.to_string());
                } else if w.matches(':').count() == 1 {
                    // `10.0.0.1:80` (an IPv6 address has more colons).
                    let (a, p) = w.split_once(':').expect("one colon");
                    addr = Some(a.to_string());
                    port = Some(p.to_string());
                } else {
                    addr = Some(w);
                }
                if cur.at(":")
                    && cur
                        .peek_at(1)
                        .is_some_and(|n| n.text.starts_with(|c: char| c.is_ascii_digit()))
                {
                    cur.pos += 1;
                    port = Some(self.word(cur, "a port")?.text.to_string());
                }
            }
        }
        // Flags change how, not whether, the translation happens.
        let mut flagged = None;
        while let Some(t) = cur.peek().filter(|t| {
            matches!(
                t.text,
                "random" | "fully-random" | "persistent" | "netmap" | "prefix" | ","
            )
        }) {
            flagged = Some(t);
            cur.pos += 1;
        }
        if let Some(f) = flagged.filter(|_| cur.at("to")) {
            return fail(
                Some(f),
                format!(
                    "{what}: flags such as `{}` come after the address (`{what} to ... {}`)",
                    f.text, f.text
                ),
            );
        }
        // Anything else before the next statement (`:tcp dport map {...}`,
        // `/64`, `: numgen ...`) makes the translation an expression.
        if !cur.at_end()
            && !cur
                .peek()
                .is_some_and(|t| t.kind == Kind::Word && is_stop_word(t.text))
        {
            let words = cur.skip_expr();
            return Ok(Stmt::Unknown(format!(
                "{what} to {} {}",
                addr.unwrap_or_default(),
                words.join(" ")
            )));
        }
        if kind == NatKind::Masquerade && addr.is_some() {
            return fail(cur.peek(), "masquerade takes only `to :PORT`");
        }
        Ok(Stmt::Nat {
            kind,
            family,
            addr,
            port,
        })
    }

    /// Every word to the end of the rule, over balanced braces.
    pub(super) fn rest_words(&mut self, cur: &mut Cur<'a>) -> Vec<&'a str> {
        self.words_while(cur, |_| true)
    }

    /// Words from the cursor while `keep` holds for them.
    pub(super) fn words_while(
        &mut self,
        cur: &mut Cur<'a>,
        keep: impl Fn(&str) -> bool,
    ) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        while let Some(t) = cur.peek() {
            if depth == 0 && (cur.at_end() || (!out.is_empty() && !keep(t.text))) {
                break;
            }
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth = depth.saturating_sub(1);
            }
            out.push(t.text);
            cur.pos += 1;
        }
        out
    }
}
