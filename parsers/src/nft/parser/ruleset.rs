//! The ruleset's structure: top-level statements and commands, tables,
//! chains and their base specification, sets and maps, includes.

use super::*;
use crate::nft::ast::{self, BaseSpec, TableFamily, Value};
use crate::nft::lexer::{Kind, Token};

impl<'a> Parser<'a> {
    pub(super) fn top_statement(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let t = self.word(
            cur,
            "a statement such as `table`, `add`, `define` or `include`",
        )?;
        match t.text {
            "flush" => {
                let what = self.word(cur, "`ruleset`, `table` or `chain`")?;
                match what.text {
                    "ruleset" => {
                        // An optional family limits what is flushed.
                        let fam = if !cur.at_end() {
                            Some(self.family(cur)?)
                        } else {
                            None
                        };
                        self.tables.retain(|t| fam.is_some_and(|f| f != t.family));
                    }
                    "table" => {
                        let (fam, name) = self.table_ref(cur)?;
                        if let Some(t) = self
                            .tables
                            .iter_mut()
                            .find(|t| t.family == fam && t.name == name.text)
                        {
                            t.chains.iter_mut().for_each(ast::Chain::clear_rules);
                        }
                    }
                    "chain" => {
                        let (fam, table) = self.table_ref(cur)?;
                        let chain = self.word(cur, "a chain name")?;
                        if let Some(c) = self
                            .tables
                            .iter_mut()
                            .find(|t| t.family == fam && t.name == table.text)
                            .and_then(|t| t.chains.iter_mut().find(|c| c.name == chain.text))
                        {
                            c.clear_rules();
                        }
                    }
                    "set" | "map" => {
                        let (fam, table) = self.table_ref(cur)?;
                        let set = self.word(cur, "a set name")?;
                        if let Some(s) = self
                            .tables
                            .iter_mut()
                            .find(|t| t.family == fam && t.name == table.text)
                            .and_then(|t| t.sets.iter_mut().find(|s| s.name == set.text))
                        {
                            s.elements.clear();
                        }
                    }
                    _ => {
                        return fail(
                            Some(what),
                            format!(
                                "expected `ruleset`, `table`, `chain` or `set` after `flush`, found {}",
                                describe(Some(what))
                            ),
                        );
                    }
                }
                self.end_of_statement(cur)
            }
            "include" => {
                let pattern = self.word(cur, "a quoted file name")?;
                self.end_of_statement(cur)?;
                self.include(cur, &pattern)
            }
            "define" | "redefine" => {
                let name = self.word(cur, "a variable name")?;
                self.expect(cur, "=")?;
                let start = cur.mark();
                let mut depth = 0usize;
                // A definition runs to the end of the line, over balanced braces.
                while let Some(t) = cur.peek() {
                    if depth == 0 && (t.kind == Kind::Newline || t.is(";")) {
                        break;
                    }
                    if t.is("{") {
                        depth += 1;
                    } else if t.is("}") {
                        if depth == 0 {
                            break;
                        }
                        depth -= 1;
                    }
                    cur.pos += 1;
                }
                let mut value: Vec<Token<'a>> = cur
                    .since(start)
                    .iter()
                    .filter(|t| t.kind != Kind::Newline)
                    .copied()
                    .collect();
                // Variables in a definition are expanded where it is made.
                let mut sub = Cur::new(std::mem::take(&mut value), None);
                while sub.pos < sub.toks.len() {
                    self.expand(&mut sub)?;
                    sub.pos += 1;
                }
                if sub.toks.is_empty() {
                    return fail(cur.peek(), format!("expected a value for `{}`", name.text));
                }
                self.defines.push((name.text.to_string(), sub.toks));
                self.end_of_statement(cur)
            }
            "undefine" => {
                let name = self.word(cur, "a variable name")?;
                self.defines.retain(|(n, _)| *n != name.text);
                self.end_of_statement(cur)
            }
            "table" => self.table_block(cur, &t),
            "add" | "create" | "insert" | "replace" | "delete" | "destroy" => self.command(cur, &t),
            "chain" | "set" | "map" if cur.peek_at(1).is_some_and(|n| n.is("{")) => Err(Fail {
                at: at(Some(t)),
                message: format!(
                    "a `{}` block outside a table: this file is a fragment meant to be included inside a `table {{ }}`",
                    t.text
                ),
                kind: ErrorKind::Unsupported,
            }),
            "chain" | "rule" | "set" | "map" | "element" => {
                // `nft -f` also takes the object words alone, as `add`.
                cur.pos -= 1;
                self.command(cur, &t)
            }
            "list" | "monitor" | "describe" | "export" | "import" | "reset" | "rename" => {
                Err(Fail {
                    at: at(Some(t)),
                    message: format!(
                        "`{}` is a command for a running system, not part of a ruleset",
                        t.text
                    ),
                    kind: ErrorKind::Unsupported,
                })
            }
            _ => fail(
                Some(t),
                format!(
                    "expected a statement such as `table`, `add`, `flush`, `define` or `include`, found {}",
                    describe(Some(t))
                ),
            ),
        }
    }

    /// `include "pattern"`: the files' tokens take the statement's place,
    /// so an include works wherever its text would (also inside a table).
    pub(super) fn include(&mut self, cur: &mut Cur<'a>, pattern: &Token<'a>) -> PResult<()> {
        self.depth += 1;
        if self.depth > crate::nft::MAX_INCLUDES {
            return Err(Fail {
                at: at(Some(*pattern)),
                message: format!(
                    "more than {} includes (does a file include itself?)",
                    crate::nft::MAX_INCLUDES
                ),
                kind: ErrorKind::Unsupported,
            });
        }
        let includes: &'a [crate::nft::Include] = self.includes;
        let Some(inc) = includes
            .iter()
            .find(|i| i.file == pattern.file && i.offset == pattern.start)
        else {
            return Err(Fail {
                at: at(Some(*pattern)),
                message: format!("cannot read included file `{}`: not loaded", pattern.text),
                kind: ErrorKind::BadReference,
            });
        };
        let files = inc.files.as_ref().map_err(|m| Fail {
            at: at(Some(*pattern)),
            message: m.clone(),
            kind: ErrorKind::BadReference,
        })?;
        let mut spliced = Vec::new();
        for &f in files {
            if let Some(toks) = self.tokens(f) {
                spliced.extend(toks);
                let end = self.sources[f].text.len() as u32;
                spliced.push(Token {
                    kind: Kind::Newline,
                    text: "\n",
                    start: end,
                    end,
                    file: f as u32,
                    defined: false,
                });
            }
        }
        cur.toks.splice(cur.pos..cur.pos, spliced);
        Ok(())
    }

    pub(super) fn family(&mut self, cur: &mut Cur<'a>) -> PResult<TableFamily> {
        let t = self.word(cur, "a family")?;
        TableFamily::parse(t.text).ok_or_else(|| Fail {
            at: at(Some(t)),
            message: format!(
                "unknown family {}, expected ip, ip6, inet, arp, bridge or netdev",
                describe(Some(t))
            ),
            kind: ErrorKind::Syntax,
        })
    }

    /// `[family] name`: the family is optional and `ip` by default.
    pub(super) fn table_ref(&mut self, cur: &mut Cur<'a>) -> PResult<(TableFamily, Token<'a>)> {
        let first = self.word(cur, "a table")?;
        if let Some(f) = TableFamily::parse(first.text) {
            // `table ip` alone would name a table called `ip`.
            self.expand(cur)?;
            if cur
                .peek()
                .is_some_and(|t| t.kind == Kind::Word || t.kind == Kind::Str)
            {
                let name = self.word(cur, "a table name")?;
                return Ok((f, name));
            }
        }
        Ok((TableFamily::Ip, first))
    }

    pub(super) fn table_index(&mut self, fam: TableFamily, name: &Token) -> usize {
        self.check_name(name, "table");
        if let Some(i) = self
            .tables
            .iter()
            .position(|t| t.family == fam && t.name == name.text)
        {
            return i;
        }
        let span = self.tok_span(name);
        self.tables.push(ast::Table {
            family: fam,
            name: name.text.to_string(),
            span,
            chains: Vec::new(),
            sets: Vec::new(),
        });
        self.tables.len() - 1
    }

    pub(super) fn find_table(&self, fam: TableFamily, name: &Token) -> PResult<usize> {
        self.tables
            .iter()
            .position(|t| t.family == fam && t.name == name.text)
            .ok_or_else(|| Fail {
                at: at(Some(*name)),
                message: format!(
                    "no table {} {}, expected one declared before",
                    fam.name(),
                    name.text
                ),
                kind: ErrorKind::BadReference,
            })
    }

    /// `table [family] name { ... }` (a second block adds to the table).
    pub(super) fn table_block(&mut self, cur: &mut Cur<'a>, _kw: &Token) -> PResult<()> {
        let (fam, name) = self.table_ref(cur)?;
        let ti = self.table_index(fam, &name);
        if !cur.eat("{") {
            return self.end_of_statement(cur);
        }
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                break;
            }
            let Some(t) = cur.peek() else {
                return fail(
                    None,
                    format!(
                        "table {} {} is not closed, expected `}}`",
                        fam.name(),
                        name.text
                    ),
                );
            };
            let before = cur.mark();
            let r = match t.text {
                "chain" => {
                    cur.pos += 1;
                    self.chain_block(cur, ti)
                }
                "set" | "map" => {
                    cur.pos += 1;
                    self.set_block(cur, ti, t.is("map"))
                }
                "flags" => {
                    cur.pos += 1;
                    let flags = self.words_to_end(cur);
                    // A dormant table's chains are not attached: it filters nothing.
                    if flags.iter().any(|f| f == "dormant") {
                        let key = (self.tables[ti].family, self.tables[ti].name.clone());
                        if !self.dormant.contains(&key) {
                            self.dormant.push(key);
                        }
                    }
                    Ok(())
                }
                "comment" => {
                    cur.pos += 1;
                    cur.skip_statement();
                    Ok(())
                }
                "define" | "redefine" | "undefine" | "include" => self.top_statement(cur),
                // Stateful objects, flowtables, helpers: nothing that filters.
                "flowtable" => {
                    cur.pos += 1;
                    self.flowtable(cur)
                }
                "counter" | "quota" | "limit" | "ct" | "secmark" | "synproxy" | "tunnel" => {
                    cur.pos += 1;
                    self.object(cur, ti, t.text)
                }
                _ => fail(
                    Some(t),
                    format!(
                        "expected `chain`, `set`, `map`, `flags` or an object in table {}, found {}",
                        name.text,
                        describe(Some(t))
                    ),
                ),
            };
            if let Err(f) = r {
                self.report(f);
                cur.recover(before);
            }
        }
        Ok(())
    }

    /// `flowtable f { hook ingress priority 0; devices = { eth0, eth1 }; }`:
    /// offloads established flows, which driftwall does not model; read to
    /// check it is well formed.
    pub(super) fn flowtable(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let name = self.word(cur, "a flowtable name")?;
        self.expect(cur, "{")?;
        let mut hooked = false;
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                break;
            }
            let Some(t) = cur.next() else {
                return fail(
                    None,
                    format!("flowtable {} is not closed, expected `}}`", name.text),
                );
            };
            match t.text {
                "hook" => {
                    let hook = self.word(cur, "`ingress`")?;
                    if !hook.is("ingress") {
                        return fail(
                            Some(hook),
                            format!(
                                "a flowtable hooks `ingress`, found {}",
                                describe(Some(hook))
                            ),
                        );
                    }
                    self.expect(cur, "priority")?;
                    self.priority(cur)?;
                    hooked = true;
                }
                "devices" => {
                    self.expect(cur, "=")?;
                    if cur.at("{") {
                        self.braced_words(cur)?;
                    } else {
                        self.word(cur, "devices")?;
                    }
                }
                "flags" | "counter" | "comment" => cur.skip_statement(),
                _ => {
                    return fail(
                        Some(t),
                        format!(
                            "expected `hook`, `devices` or `flags` in flowtable {}, found {}",
                            name.text,
                            describe(Some(t))
                        ),
                    );
                }
            }
            if !cur.at("}") {
                self.end_of_statement(cur)?;
            }
        }
        if !hooked {
            return fail(
                Some(name),
                format!("flowtable {} has no `hook ingress priority ...`", name.text),
            );
        }
        Ok(())
    }

    pub(super) fn words_to_end(&mut self, cur: &mut Cur<'a>) -> Vec<String> {
        let mut out = Vec::new();
        while !cur.at_end() {
            if let Some(t) = cur.next() {
                out.push(t.text.to_string());
            }
        }
        out
    }

    /// nft keeps names of tables, chains and sets under 256 bytes.
    pub(super) fn check_name(&mut self, name: &Token, what: &str) {
        if name.text.len() > 255 || name.text.is_empty() {
            let span = self.tok_span(name);
            self.error(
                span,
                ErrorKind::InvalidValue,
                format!(
                    "a {what} name has 1 to 255 characters, this one has {}",
                    name.text.len()
                ),
            );
        }
    }

    pub(super) fn chain_index(&mut self, ti: usize, name: &Token) -> usize {
        self.check_name(name, "chain");
        let span = self.tok_span(name);
        self.chain_named(ti, name.text, span)
    }

    pub(super) fn chain_named(&mut self, ti: usize, name: &str, span: Span) -> usize {
        let chains = &mut self.tables[ti].chains;
        if let Some(i) = chains.iter().position(|c| c.name == name) {
            return i;
        }
        chains.push(ast::Chain::new(name.to_string(), span, None, None));
        chains.len() - 1
    }

    /// `chain name { type ... hook ... priority ...; policy ...; rules }`
    pub(super) fn chain_block(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<()> {
        let name = self.word(cur, "a chain name")?;
        let ci = self.chain_index(ti, &name);
        self.expect(cur, "{")?;
        self.chain_body(cur, ti, ci)
    }

    pub(super) fn chain_body(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<()> {
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                return Ok(());
            }
            if cur.peek().is_none() {
                return fail(
                    None,
                    format!(
                        "chain {} is not closed, expected `}}`",
                        self.tables[ti].chains[ci].name
                    ),
                );
            }
            cur.compact();
            let before = cur.mark();
            let r = self.chain_item(cur, ti, ci);
            if let Err(f) = r {
                self.report(f);
                cur.recover(before);
            }
        }
    }

    pub(super) fn chain_item(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<()> {
        self.expand(cur)?;
        let t = cur.peek();
        match t.as_ref().map(|t| t.text) {
            Some("type") if t.as_ref().is_some_and(|t| t.kind == Kind::Word) => {
                let base = self.base_spec(cur)?;
                self.tables[ti].chains[ci].base = Some(base);
                self.end_of_statement(cur)
            }
            Some("policy") => {
                cur.pos += 1;
                let p = self.word(cur, "`accept` or `drop`")?;
                if !(p.is("accept") || p.is("drop")) {
                    return fail(
                        Some(p),
                        format!(
                            "expected `accept` or `drop` as the chain's policy, found {}",
                            describe(Some(p))
                        ),
                    );
                }
                if self.tables[ti].chains[ci].base.is_none() {
                    return fail(
                        Some(p),
                        format!(
                            "chain {} has a policy but no `type ... hook ... priority`: only base chains have one",
                            self.tables[ti].chains[ci].name
                        ),
                    );
                }
                self.tables[ti].chains[ci].policy = Some(p.text.to_string());
                // Reports point at the policy when it decides.
                let kw = t.expect("peeked");
                self.tables[ti].chains[ci].span = if kw.file == p.file {
                    self.span_of(kw.file, kw.start, p.end)
                } else {
                    self.tok_span(&p)
                };
                self.end_of_statement(cur)
            }
            Some("comment")
                if cur.peek_at(1).is_some_and(|t| t.kind == Kind::Str)
                    && cur
                        .peek_at(2)
                        .is_none_or(|t| t.kind == Kind::Newline || t.is(";") || t.is("}")) =>
            {
                cur.pos += 2;
                self.end_of_statement(cur)
            }
            Some("devices") | Some("device") => {
                cur.skip_statement();
                self.end_of_statement(cur)
            }
            _ => {
                let rule = self.rule(cur, ti, ci)?;
                self.tables[ti].chains[ci].rules.push(rule);
                Ok(())
            }
        }
    }

    /// `type filter hook input [device eth0] priority 0`
    pub(super) fn base_spec(&mut self, cur: &mut Cur<'a>) -> PResult<BaseSpec> {
        let start = cur.mark();
        self.expect(cur, "type")?;
        let kind = self.word(cur, "a chain type (filter, nat or route)")?;
        if !matches!(kind.text, "filter" | "nat" | "route") {
            return fail(
                Some(kind),
                format!(
                    "unknown chain type {}, expected filter, nat or route",
                    describe(Some(kind))
                ),
            );
        }
        self.expect(cur, "hook")?;
        let hook = self.word(cur, "a hook")?;
        if !matches!(
            hook.text,
            "prerouting" | "input" | "forward" | "output" | "postrouting" | "ingress" | "egress"
        ) {
            return fail(
                Some(hook),
                format!(
                    "unknown hook {}, expected prerouting, input, forward, output, postrouting, ingress or egress",
                    describe(Some(hook))
                ),
            );
        }
        if cur.eat("device") {
            let dev = self.word(cur, "a device name")?;
            if dev.text.is_empty() {
                return Err(Fail {
                    at: at(Some(dev)),
                    message: "a device name cannot be empty".into(),
                    kind: ErrorKind::InvalidValue,
                });
            }
        } else if cur.eat("devices") {
            self.expect(cur, "=")?;
            if cur.at("{") {
                self.braced_words(cur)?;
            } else {
                self.word(cur, "a device list")?;
            }
        }
        self.expect(cur, "priority")?;
        let priority = self.priority(cur)?;
        let span = self.span_between(cur, start);
        Ok(BaseSpec {
            kind: kind.text.to_string(),
            hook: hook.text.to_string(),
            priority,
            span,
        })
    }

    pub(super) fn braced_words(&mut self, cur: &mut Cur<'a>) -> PResult<Vec<String>> {
        self.expect(cur, "{")?;
        let mut out = Vec::new();
        loop {
            while cur
                .peek()
                .is_some_and(|t| t.kind == Kind::Newline || t.is(","))
            {
                cur.pos += 1;
            }
            if cur.eat("}") {
                return Ok(out);
            }
            out.push(self.word(cur, "a value")?.text.to_string());
        }
    }

    /// `priority` as a number or a name with an optional `+ n`/`- n`.
    pub(super) fn priority(&mut self, cur: &mut Cur<'a>) -> PResult<i32> {
        let t = self.word(cur, "a priority (a number or a name such as filter)")?;
        let named = |n: &str| -> Option<i32> {
            Some(match n {
                "raw" => -300,
                "mangle" => -150,
                "dstnat" => -100,
                "filter" => 0,
                "security" => 50,
                "srcnat" => 100,
                "out" => 100,
                _ => return None,
            })
        };
        let num = |s: &str| s.parse::<i32>().ok();
        let text = t.text;
        // `filter+10` written as one word.
        let (base, glued) = match text.find(['+', '-']).filter(|&i| i > 0) {
            Some(i) => (&text[..i], Some(&text[i..])),
            None => (text, None),
        };
        let mut value = match num(text).or_else(|| named(base)) {
            Some(v) => v,
            None => {
                return fail(
                    Some(t),
                    format!(
                        "unknown priority {}, expected a number or raw, mangle, dstnat, filter, security, srcnat",
                        describe(Some(t))
                    ),
                );
            }
        };
        if num(text).is_none() {
            if let Some(g) = glued {
                value += num(g.trim_start_matches('+')).ok_or_else(|| Fail {
                    at: at(Some(t)),
                    message: format!("expected a number after the priority's name, found `{g}`"),
                    kind: ErrorKind::InvalidValue,
                })?;
            } else if cur.at("+")
                || cur.at("-")
                || cur.peek().is_some_and(|t| {
                    t.kind == Kind::Word && (t.text.starts_with('+') || t.text.starts_with('-'))
                })
            {
                let sign = cur.next().expect("peeked");
                let (neg, digits) = match sign.text {
                    "-" => (true, self.word(cur, "a number")?.text.to_string()),
                    "+" => (false, self.word(cur, "a number")?.text.to_string()),
                    other => (other.starts_with('-'), other[1..].to_string()),
                };
                let n = num(&digits).ok_or_else(|| Fail {
                    at: at(Some(sign)),
                    message: format!("expected a number after `+`/`-`, found `{digits}`"),
                    kind: ErrorKind::InvalidValue,
                })?;
                value += if neg { -n } else { n };
            }
        }
        Ok(value)
    }

    /// `set name { type ...; flags ...; elements = { ... } }` (and `map`).
    pub(super) fn set_block(&mut self, cur: &mut Cur<'a>, ti: usize, is_map: bool) -> PResult<()> {
        let name = self.word(cur, "a set name")?;
        let span = self.tok_span(&name);
        self.expect(cur, "{")?;
        let mut interval = false;
        let mut set = ast::Set {
            name: name.text.to_string(),
            span,
            key_type: Vec::new(),
            data_type: None,
            elements: Vec::new(),
            dynamic: false,
            lowered: Default::default(),
        };
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                break;
            }
            let Some(t) = cur.peek() else {
                return fail(
                    None,
                    format!("set {} is not closed, expected `}}`", name.text),
                );
            };
            cur.pos += 1;
            match t.text {
                "type" | "typeof" => {
                    let words = self.words_to_end(cur);
                    // `typeof` names expressions: a bare number is none.
                    if t.text == "typeof" {
                        // Each part of the concatenation (split at `.` and `:`) is an expression.
                        let parts = words.split(|w| w == "." || w == ":");
                        if let Some([n]) = parts
                            .clone()
                            .find(|p| matches!(p, [w] if w.parse::<u64>().is_ok()))
                        {
                            return Err(Fail {
                                at: at(Some(t)),
                                message: format!(
                                    "`typeof` needs expressions such as `ip saddr`, found the constant `{n}`"
                                ),
                                kind: ErrorKind::InvalidValue,
                            });
                        }
                    }
                    let (key, data) = match words.iter().position(|w| w == ":") {
                        Some(i) => (words[..i].to_vec(), Some(words[i + 1..].join(" "))),
                        None => (words, None),
                    };
                    set.key_type = key.into_iter().filter(|w| w != ".").collect();
                    set.data_type = data;
                }
                "flags" => {
                    let flags = self.words_to_end(cur);
                    if flags.iter().any(|f| f == "dynamic" || f == "timeout") {
                        set.dynamic = true;
                    }
                    interval |= flags.iter().any(|f| f == "interval");
                }
                "timeout" => {
                    set.dynamic = true;
                    cur.skip_statement();
                }
                "elements" => {
                    self.expect(cur, "=")?;
                    let v = self.braced_set(cur)?;
                    if let Value::Set(es) = v {
                        set.elements.extend(es);
                    }
                }
                // Options that change nothing driftwall evaluates.
                "size" | "policy" | "gc-interval" | "auto-merge" | "comment" => {
                    cur.skip_statement()
                }
                // Stateful expressions kept per element: `counter`, `quota 500 bytes`, `limit rate ...`, `ct count over 2`, `last`.
                // `counter` alone: a counter per element (a name here is no statement).
                "counter" if cur.at("name") => {
                    return fail(
                        cur.peek(),
                        format!(
                            "a set's `counter` counts each element; it takes no name (set {})",
                            name.text
                        ),
                    );
                }
                "counter" | "quota" | "limit" | "ct" | "last" => cur.skip_statement(),
                "include" => {
                    // Elements kept in another file.
                    cur.pos -= 1;
                    self.top_statement(cur)?;
                    continue;
                }
                _ => {
                    return fail(
                        Some(t),
                        format!(
                            "expected `type`, `typeof`, `flags`, `elements`, `timeout`, `size`, `policy` or `counter` in set {}, found {}",
                            name.text,
                            describe(Some(t))
                        ),
                    );
                }
            }
            if !cur.at("}") {
                self.end_of_statement(cur)?;
            }
        }
        // A tc class is `MAJOR:MINOR` in hex, `root` or `none` (nft's tchandle type).
        if set.data_type.as_deref() == Some("classid") {
            let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
            for e in &set.elements {
                if let Some(Value::Atom(d)) = &e.data {
                    let ok = matches!(d.as_str(), "root" | "none")
                        || match d.split_once(':') {
                            Some((major, minor)) => hex(major) && hex(minor),
                            None => !d.is_empty() && hex(d),
                        };
                    if !ok {
                        return Err(Fail {
                            at: at(Some(name)),
                            message: format!(
                                "map {}: `{d}` is not a tc class id (MAJOR:MINOR in hex, root or none)",
                                name.text
                            ),
                            kind: ErrorKind::InvalidValue,
                        });
                    }
                }
            }
        }
        if let Some(data) = &set.data_type
            && data.split('.').count() > 1
            && data.split('.').any(|p| p.trim() == "verdict")
        {
            return Err(Fail {
                at: at(Some(name)),
                message: format!(
                    "map {}: a verdict cannot be part of a concatenation",
                    name.text
                ),
                kind: ErrorKind::InvalidValue,
            });
        }
        let existing = self.tables[ti].sets.iter().position(|s| s.name == set.name);
        // nft: "You must add 'flags interval' to your set declaration if
        // you want to add prefix/range elements".
        if existing.is_none()
            && !interval
            && let Some(e) = set.elements.iter().find(|e| is_interval(&e.key))
        {
            return Err(Fail {
                at: at(Some(name)),
                message: format!(
                    "{} {} holds the range or prefix {} but has no `flags interval`",
                    if is_map { "map" } else { "set" },
                    name.text,
                    crate::nft::lower::value_text(&e.key)
                ),
                kind: ErrorKind::InvalidValue,
            });
        }
        if set.key_type.is_empty() && existing.is_none() {
            return Err(Fail {
                at: at(Some(name)),
                message: format!(
                    "{} {} has no `type` or `typeof`: its elements have no type",
                    if is_map { "map" } else { "set" },
                    name.text
                ),
                kind: ErrorKind::Syntax,
            });
        }
        if is_map && set.data_type.is_none() && existing.is_none() {
            return Err(Fail {
                at: at(Some(name)),
                message: format!("map {} needs `type KEY : DATA`", name.text),
                kind: ErrorKind::Syntax,
            });
        }
        let is_map =
            is_map || existing.is_some_and(|i| self.tables[ti].sets[i].data_type.is_some());
        if let Some(bad) = set.elements.iter().find(|e| e.data.is_some() != is_map) {
            let what = if is_map {
                "an element of a map needs `: data`"
            } else {
                "an element of a set has no `: data`"
            };
            return Err(Fail {
                at: at(Some(name)),
                message: format!("{what} ({})", crate::nft::lower::value_text(&bad.key)),
                kind: ErrorKind::InvalidValue,
            });
        }
        let sets = &mut self.tables[ti].sets;
        match existing {
            Some(i) => {
                // Declaring it again adds elements; a different type is an error.
                if !set.key_type.is_empty()
                    && (sets[i].key_type != set.key_type || sets[i].data_type != set.data_type)
                {
                    return Err(Fail {
                        at: at(Some(name)),
                        message: format!("{} is declared again with another type", name.text),
                        kind: ErrorKind::BadReference,
                    });
                }
                sets[i].elements.extend(set.elements);
            }
            None => sets.push(set),
        }
        Ok(())
    }

    /// The command form: `add table|chain|rule|set|map|element ...`.
    pub(super) fn command(&mut self, cur: &mut Cur<'a>, verb: &Token) -> PResult<()> {
        let what = self.word(cur, "table, chain, rule, set, map or element")?;
        let deleting = verb.is("delete") || verb.is("destroy");
        match what.text {
            "table" => {
                let (fam, name) = self.table_ref(cur)?;
                if deleting {
                    self.tables
                        .retain(|t| !(t.family == fam && t.name == name.text));
                    cur.skip_statement();
                    return self.end_of_statement(cur);
                }
                let ti = self.table_index(fam, &name);
                if cur.at("{") {
                    // `add table ip f { flags dormant; }`
                    cur.skip_statement();
                }
                let _ = ti;
                self.end_of_statement(cur)
            }
            "chain" => {
                let (fam, table) = self.table_ref(cur)?;
                let name = self.word(cur, "a chain name")?;
                if deleting {
                    let ti = self.find_table(fam, &table)?;
                    self.tables[ti].chains.retain(|c| c.name != name.text);
                    cur.skip_statement();
                    return self.end_of_statement(cur);
                }
                let ti = self.table_index(fam, &table);
                let ci = self.chain_index(ti, &name);
                if cur.eat("{") {
                    self.chain_body(cur, ti, ci)?;
                }
                self.end_of_statement(cur)
            }
            "rule" => {
                if deleting {
                    return Err(Fail {
                        at: at(Some(what)),
                        message: "`delete rule` needs rule handles, which a file does not have"
                            .into(),
                        kind: ErrorKind::Unsupported,
                    });
                }
                let (fam, table) = self.table_ref(cur)?;
                let ti = self.find_table(fam, &table)?;
                let chain = self.word(cur, "a chain name")?;
                let Some(ci) = self.tables[ti]
                    .chains
                    .iter()
                    .position(|c| c.name == chain.text)
                else {
                    return Err(Fail {
                        at: at(Some(chain)),
                        message: format!(
                            "no chain {} in table {} {}",
                            chain.text,
                            fam.name(),
                            table.text
                        ),
                        kind: ErrorKind::BadReference,
                    });
                };
                if cur.at("handle") || cur.at("position") || cur.at("index") {
                    return Err(Fail { at: at(cur.peek()), message: "rule positions by handle or index depend on the running ruleset, which a file does not have".into(), kind: ErrorKind::Unsupported });
                }
                let rule = self.rule(cur, ti, ci)?;
                let rules = &mut self.tables[ti].chains[ci].rules;
                if verb.is("insert") {
                    rules.insert(0, rule);
                } else {
                    rules.push(rule);
                }
                Ok(())
            }
            "set" | "map" => {
                let (fam, table) = self.table_ref(cur)?;
                if deleting {
                    cur.skip_statement();
                    return self.end_of_statement(cur);
                }
                let ti = self.table_index(fam, &table);
                self.set_block(cur, ti, what.is("map"))?;
                self.end_of_statement(cur)
            }
            "element" => {
                let (fam, table) = self.table_ref(cur)?;
                let ti = self.find_table(fam, &table)?;
                let set = self.word(cur, "a set name")?;
                let v = self.braced_set(cur)?;
                let Some(s) = self.tables[ti].sets.iter_mut().find(|s| s.name == set.text) else {
                    return Err(Fail {
                        at: at(Some(set)),
                        message: format!(
                            "no set {} in table {} {}",
                            set.text,
                            fam.name(),
                            table.text
                        ),
                        kind: ErrorKind::BadReference,
                    });
                };
                if let Value::Set(es) = v {
                    if deleting {
                        s.elements.retain(|e| !es.contains(e));
                    } else {
                        s.elements.extend(es);
                    }
                }
                self.end_of_statement(cur)
            }
            "counter" | "quota" | "limit" | "ct" | "flowtable" | "secmark" | "synproxy" => {
                if deleting {
                    // `delete quota ip t q`: the table must exist.
                    let (fam, table) = self.table_ref(cur)?;
                    self.find_table(fam, &table)?;
                } else if let Some(&kind) = super::objects::NAMED_KINDS.iter().find(|k| what.is(k))
                {
                    // `add counter ip t c`
                    let (fam, table) = self.table_ref(cur)?;
                    let name = self.word(cur, "an object name")?;
                    self.declare(fam, table.text.to_string(), kind, name.text);
                }
                cur.skip_statement();
                self.end_of_statement(cur)
            }
            _ => fail(
                Some(what),
                format!(
                    "expected table, chain, rule, set, map or element after `{}`, found {}",
                    verb.text,
                    describe(Some(what))
                ),
            ),
        }
    }
}

/// Whether a set element is a range or a prefix (or a concatenation with one).
fn is_interval(v: &Value) -> bool {
    match v {
        Value::Range(..) => true,
        Value::Atom(a) => {
            a.contains('/') && a.split('/').nth(1).is_some_and(|l| l.parse::<u8>().is_ok())
        }
        Value::Concat(parts) => parts.iter().any(is_interval),
        _ => false,
    }
}
