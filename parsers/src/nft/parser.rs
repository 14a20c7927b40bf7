//! The nft language into the syntax tree: the block form (`table inet f {
//! chain c { ... } }`) and the command form (`add rule inet f c ...`), with
//! `define`, `$var`, `include` and `flush ruleset`.
//!
//! The statement grammar is a descent over the tokens of [`super::lexer`],
//! one function per production. A problem is reported where it is and the
//! parser goes on after the statement, so one run shows every error.

use super::ast::{self, BaseSpec, Element, NatKind, Op, Selector, Stmt, TableFamily, Value, Verdict};
use super::lexer::{self, Kind, Token};
use crate::model::{Source, Span};
use crate::{ErrorKind, ParseError};


pub struct Parser<'a> {
    /// Every file of the ruleset, the top one first; included files were
    /// read before parsing (see [`super::load_includes`]).
    pub sources: &'a [Source],
    /// Files each `include` statement names: (file, offset of the pattern) -> files.
    includes: &'a [super::Include],
    /// Line starts of each source, to turn offsets into lines and columns.
    lines: Vec<Vec<u32>>,
    pub tables: Vec<ast::Table>,
    pub errors: Vec<ParseError>,
    defines: Vec<(String, Vec<Token<'a>>)>,
    /// Sets that rules fill at run time (`add @s`, `update @s`, `meter`).
    dynamic: Vec<(TableFamily, String, String)>,
    /// Tables with `flags dormant`: their chains are not attached.
    pub dormant: Vec<(TableFamily, String)>,
    depth: usize,
}

/// A cursor over the tokens of a file, read from the lexer as needed: the
/// parser looks a few tokens ahead, may step back to the start of the
/// statement it is in, and `compact` lets go of what lies before that.
struct Cur<'a> {
    toks: Vec<Token<'a>>,
    pos: usize,
    /// How many tokens `compact` has dropped, so marks stay valid.
    base: usize,
    lexer: Option<lexer::Lexer<'a>>,
    /// The lexer's error (file, offset, message): it ends the file.
    lex_error: Option<(u32, u32, String)>,
}

impl<'a> Cur<'a> {
    fn new(toks: Vec<Token<'a>>, lexer: Option<lexer::Lexer<'a>>) -> Self {
        Cur { toks, pos: 0, base: 0, lexer, lex_error: None }
    }
    /// Reads until the token `n` ahead is there (or the input ends).
    fn fill(&mut self, n: usize) {
        while self.toks.len() <= self.pos + n {
            let Some(lexer) = &mut self.lexer else { return };
            match lexer.next_token() {
                Some(Ok(t)) => self.toks.push(t),
                Some(Err((at, message))) => {
                    let file = lexer.file();
                    self.lex_error = Some((file, at, message));
                    self.lexer = None;
                }
                None => self.lexer = None,
            }
        }
    }
    fn peek(&mut self) -> Option<Token<'a>> {
        self.fill(0);
        self.toks.get(self.pos).copied()
    }
    fn peek_at(&mut self, n: usize) -> Option<Token<'a>> {
        self.fill(n);
        self.toks.get(self.pos + n).copied()
    }
    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.peek();
        self.pos += 1;
        t
    }
    fn at(&mut self, text: &str) -> bool {
        self.peek().is_some_and(|t| t.is(text))
    }
    fn eat(&mut self, text: &str) -> bool {
        if self.at(text) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// At the end of a statement: a newline, `;`, `}` or the end.
    fn at_end(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(t) => t.kind == Kind::Newline || t.is(";") || t.is("}"),
        }
    }
    fn skip_newlines(&mut self) {
        while self.peek().is_some_and(|t| t.kind == Kind::Newline || t.is(";")) {
            self.pos += 1;
        }
    }
    /// Where the cursor is, for [`Cur::rewind`] and [`Cur::since`].
    fn mark(&self) -> usize {
        self.base + self.pos
    }
    /// Back to a mark (if its tokens are still held).
    fn rewind(&mut self, mark: usize) {
        if mark >= self.base {
            self.pos = mark - self.base;
        }
    }
    /// The tokens from a mark to the cursor.
    fn since(&self, mark: usize) -> &[Token<'a>] {
        let from = mark.saturating_sub(self.base).min(self.pos);
        &self.toks[from..self.pos.min(self.toks.len())]
    }
    /// Lets go of the tokens before the cursor, once there are many.
    fn compact(&mut self) {
        if self.pos > 4096 {
            self.toks.drain(..self.pos);
            self.base += self.pos;
            self.pos = 0;
        }
    }
    /// Skips an expression: to the end of the rule or the next statement
    /// word outside braces. Returns the words skipped.
    fn skip_expr(&mut self) -> Vec<String> {
        let mut depth = 0usize;
        let mut words = Vec::new();
        while let Some(t) = self.peek() {
            if depth == 0 && (t.kind == Kind::Newline || t.is(";") || t.is("}") || (t.kind == Kind::Word && STOP_WORDS.contains(&t.text))) {
                break;
            }
            if t.is("{") || t.is("(") {
                depth += 1;
            } else if t.is("}") || t.is(")") {
                depth = depth.saturating_sub(1);
            }
            words.push(t.text.to_string());
            self.pos += 1;
        }
        words
    }

    /// Skips to the end of the statement, over balanced braces.
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            if depth == 0 && (t.kind == Kind::Newline || t.is(";") || t.is("}")) {
                return;
            }
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth -= 1;
            }
            self.pos += 1;
        }
    }
}

/// Where a failure is: file, start and end of the offending token.
type At = (u32, u32, u32);

/// A failed production: where (`None`: the end of the input) and why.
struct Fail {
    at: Option<At>,
    message: String,
    kind: ErrorKind,
}

fn at(t: Option<Token>) -> Option<At> {
    t.map(|t| (t.file, t.start, t.end))
}

type PResult<T> = Result<T, Fail>;

fn fail<T>(tok: Option<Token>, message: impl Into<String>) -> PResult<T> {
    Err(Fail { at: at(tok), message: message.into(), kind: ErrorKind::Syntax })
}

fn describe(t: Option<Token>) -> String {
    match t {
        None => "the end of the file".into(),
        Some(t) if t.kind == Kind::Newline => "the end of the line".into(),
        Some(t) if t.kind == Kind::Str => format!("\"{}\"", t.text),
        Some(t) => format!("`{}`", t.text),
    }
}

const STATEMENT_WORDS: &[&str] = &[
    "accept", "drop", "reject", "jump", "goto", "return", "continue", "queue", "counter", "log", "limit", "quota", "comment", "notrack", "dnat", "snat",
    "masquerade", "redirect", "tproxy", "synproxy", "fwd", "dup", "xt", "meter", "add", "update", "delete", "flow", "ct", "meta", "mark", "set", "vmap",
];

/// Words that start a new statement after an expression (an effect's
/// value, a NAT mapping) that driftwall reads over without modelling.
const STOP_WORDS: &[&str] = &[
    "accept", "drop", "reject", "jump", "goto", "return", "continue", "queue", "counter", "log", "limit", "quota", "comment", "notrack", "dnat", "snat",
    "masquerade", "redirect", "tproxy", "synproxy", "fwd", "dup", "meter",
];

/// Meta keys that nft writes without `meta`.
fn is_bare_meta(w: &str) -> bool {
    matches!(
        w,
        "iifname" | "oifname" | "iif" | "oif" | "iiftype" | "oiftype" | "mark" | "l4proto" | "nfproto" | "pkttype" | "skuid" | "skgid" | "cpu" | "cgroup"
            | "iifgroup" | "oifgroup" | "rtclassid" | "ibrname" | "obrname" | "ibriport" | "obriport" | "secpath" | "priority" | "length" | "random"
            | "time" | "day" | "hour" | "iifkind" | "oifkind" | "broute" | "sdif" | "sdifname"
    )
}

/// Meta keys written only after `meta`.
const META_ONLY: &[&str] = &["protocol", "ipsec", "nftrace", "secmark", "ibrpvid", "ibrvproto", "ibrhwaddr", "l4proto", "nfproto"];

const CT_KEYS: &[&str] = &[
    "state", "direction", "status", "mark", "expiration", "helper", "l3proto", "protocol", "saddr", "daddr", "proto-src", "proto-dst", "bytes", "packets",
    "avgpkt", "zone", "label", "event", "secmark", "id", "timeout", "expectation", "ip", "ip6",
];

/// The fields nft knows for the headers driftwall reads most (others are
/// taken as written and left unmodelled).
fn header_fields(protocol: &str) -> Option<&'static [&'static str]> {
    Some(match protocol {
        "tcp" => &["sport", "dport", "sequence", "ackseq", "doff", "reserved", "flags", "window", "checksum", "urgptr"],
        "udp" | "udplite" => &["sport", "dport", "length", "checksum", "csumcov"],
        "th" => &["sport", "dport"],
        "sctp" => &["sport", "dport", "vtag", "checksum"],
        "dccp" => &["sport", "dport", "type"],
        "ip" => &["version", "hdrlength", "dscp", "ecn", "length", "id", "frag-off", "ttl", "protocol", "checksum", "saddr", "daddr"],
        "ip6" => &["version", "dscp", "ecn", "flowlabel", "length", "nexthdr", "hoplimit", "saddr", "daddr"],
        "icmp" => &["type", "code", "checksum", "id", "sequence", "gateway", "mtu"],
        "icmpv6" => &["type", "code", "checksum", "parameter-problem", "packet-too-big", "mtu", "id", "sequence", "max-delay", "taddr", "daddr"],
        _ => return None,
    })
}

/// Protocols whose header fields a match can name (`tcp dport`, `ip saddr`).
fn is_payload_protocol(w: &str) -> bool {
    matches!(
        w,
        "ip" | "ip6" | "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "th" | "icmp" | "icmpv6" | "igmp" | "ether" | "vlan" | "arp" | "ah" | "esp" | "comp"
            | "ipcomp" | "dst" | "hbh" | "frag" | "rt" | "rt0" | "rt2" | "rt4" | "mh" | "srh" | "gre" | "gretap" | "geneve" | "vxlan" | "auth"
    )
}

impl<'a> Parser<'a> {
    pub fn new(sources: &'a [Source], includes: &'a [super::Include]) -> Self {
        let lines = sources
            .iter()
            .map(|src| {
                let mut starts = vec![0u32];
                starts.extend(src.text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i as u32 + 1));
                starts
            })
            .collect();
        Parser { sources, includes, lines, tables: Vec::new(), errors: Vec::new(), defines: Vec::new(), dynamic: Vec::new(), dormant: Vec::new(), depth: 0 }
    }

    /// Parses the top file (and what it includes) into `self.tables`.
    pub fn parse(&mut self) {
        let sources: &'a [Source] = self.sources;
        let mut cur = Cur::new(Vec::new(), Some(lexer::Lexer::new(&sources[0].text, 0)));
        loop {
            cur.skip_newlines();
            if cur.peek().is_none() {
                break;
            }
            let before = cur.mark();
            if let Err(f) = self.top_statement(&mut cur) {
                self.report(f);
                cur.skip_statement();
                // A stray `}` at the top level: step over it.
                if cur.mark() == before || cur.at("}") {
                    cur.pos += 1;
                }
            }
            cur.compact();
        }
        if let Some((file, at, message)) = cur.lex_error.take() {
            let span = self.char_span(file, at);
            self.error(span, ErrorKind::Syntax, message);
        }
        self.mark_dynamic();
    }

    /// The tokens of a source; `None` (reported) if it cannot be read as tokens.
    fn tokens(&mut self, file: usize) -> Option<Vec<Token<'a>>> {
        let sources: &'a [Source] = self.sources;
        match lexer::tokens(&sources[file].text, file as u32) {
            Ok(t) => Some(t),
            Err((at, message)) => {
                let span = self.char_span(file as u32, at);
                self.error(span, ErrorKind::Syntax, message);
                None
            }
        }
    }

    fn span_of(&self, file: u32, start: u32, end: u32) -> Span {
        let starts = &self.lines[file as usize];
        let line = starts.partition_point(|&s| s <= start).max(1);
        let line_start = starts[line - 1] as usize;
        let text = &self.sources[file as usize].text;
        let column = text.get(line_start..start as usize).map(|s| s.chars().count()).unwrap_or(0) + 1;
        Span { file, line: line as u32, column: column as u32, start, end }
    }

    /// The span of the one character at `at`.
    fn char_span(&self, file: u32, at: u32) -> Span {
        let len = self.sources[file as usize].text.get(at as usize..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
        self.span_of(file, at, at + len as u32)
    }

    fn tok_span(&self, t: &Token) -> Span {
        self.span_of(t.file, t.start, t.end)
    }

    fn error(&mut self, span: Span, kind: ErrorKind, message: String) {
        let path = self.sources.get(span.file as usize).map(|s| s.path.clone()).unwrap_or_default();
        self.errors.push(ParseError { kind, path, line: span.line, column: span.column, start: span.start, end: span.end, message });
    }

    fn report(&mut self, f: Fail) {
        let span = match f.at {
            Some((file, start, end)) => self.span_of(file, start, end),
            None => {
                let file = self.sources.len().saturating_sub(1) as u32;
                let end = self.sources.last().map(|s| s.text.len() as u32).unwrap_or(0);
                self.span_of(file, end, end)
            }
        };
        self.error(span, f.kind, f.message);
    }

    /// The span of the tokens `from..to` of `cur` that are the file's own
    /// (not from a `define`), from the first to the last.
    fn span_between(&self, cur: &Cur<'a>, from: usize) -> Span {
        let toks = cur.since(from);
        let own = |t: &&Token| !t.defined && t.kind != Kind::Newline;
        match (toks.iter().find(own), toks.iter().rev().find(own)) {
            (Some(a), Some(b)) if a.file == b.file => self.span_of(a.file, a.start, b.end),
            _ => toks.first().map(|t| self.tok_span(t)).unwrap_or(Span { file: 0, line: 1, column: 1, start: 0, end: 0 }),
        }
    }

    /// Replaces a `$name` at the cursor by its definition.
    fn expand(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        if self.defines.is_empty() && !cur.peek().is_some_and(|t| t.text.starts_with('$')) {
            return Ok(());
        }
        let mut guard = 0;
        while let Some(t) = cur.peek() {
            if t.kind != Kind::Word || !t.text.starts_with('$') {
                return Ok(());
            }
            guard += 1;
            if guard > 64 {
                return fail(Some(t), "variables nest too deep (a definition uses itself?)");
            }
            let name = &t.text[1..];
            let Some((_, def)) = self.defines.iter().rev().find(|(n, _)| n == name) else {
                return Err(Fail { at: at(Some(t)), message: format!("undefined variable `${name}`, expected a `define {name} = ...` before its use"), kind: ErrorKind::BadReference });
            };
            let def: Vec<Token<'a>> = def.iter().map(|d| Token { defined: true, ..d.clone() }).collect();
            cur.toks.splice(cur.pos..cur.pos + 1, def);
        }
        Ok(())
    }

    fn word(&mut self, cur: &mut Cur<'a>, what: &str) -> PResult<Token<'a>> {
        self.expand(cur)?;
        match cur.peek() {
            Some(t) if t.kind == Kind::Word || t.kind == Kind::Str => Ok(cur.next().expect("peeked")),
            other => fail(other, format!("expected {what}, found {}", describe(other))),
        }
    }

    fn expect(&mut self, cur: &mut Cur<'a>, text: &str) -> PResult<Token<'a>> {
        match cur.peek() {
            Some(t) if t.is(text) => Ok(cur.next().expect("peeked")),
            other => fail(other, format!("expected `{text}`, found {}", describe(other))),
        }
    }

    fn end_of_statement(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        if cur.at_end() {
            if cur.peek().is_some_and(|t| t.is(";") || t.kind == Kind::Newline) {
                cur.pos += 1;
            }
            return Ok(());
        }
        fail(cur.peek(), format!("expected the end of the statement, found {}", describe(cur.peek())))
    }

    fn top_statement(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let t = self.word(cur, "a statement such as `table`, `add`, `define` or `include`")?;
        match t.text {
            "flush" => {
                let what = self.word(cur, "`ruleset`, `table` or `chain`")?;
                match what.text {
                    "ruleset" => {
                        // An optional family limits what is flushed.
                        let fam = if !cur.at_end() { Some(self.family(cur)?) } else { None };
                        self.tables.retain(|t| fam.is_some_and(|f| f != t.family));
                    }
                    "table" => {
                        let (fam, name) = self.table_ref(cur)?;
                        if let Some(t) = self.tables.iter_mut().find(|t| t.family == fam && t.name == name.text) {
                            t.chains.iter_mut().for_each(|c| c.rules.clear());
                        }
                    }
                    "chain" => {
                        let (fam, table) = self.table_ref(cur)?;
                        let chain = self.word(cur, "a chain name")?;
                        if let Some(c) = self.tables.iter_mut().find(|t| t.family == fam && t.name == table.text).and_then(|t| t.chains.iter_mut().find(|c| c.name == chain.text)) {
                            c.rules.clear();
                        }
                    }
                    "set" | "map" => {
                        let (fam, table) = self.table_ref(cur)?;
                        let set = self.word(cur, "a set name")?;
                        if let Some(s) = self.tables.iter_mut().find(|t| t.family == fam && t.name == table.text).and_then(|t| t.sets.iter_mut().find(|s| s.name == set.text)) {
                            s.elements.clear();
                        }
                    }
                    _ => return fail(Some(what), format!("expected `ruleset`, `table`, `chain` or `set` after `flush`, found {}", describe(Some(what)))),
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
                let mut value: Vec<Token<'a>> = cur.since(start).iter().filter(|t| t.kind != Kind::Newline).copied().collect();
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
                message: format!("a `{}` block outside a table: this file is a fragment meant to be included inside a `table {{ }}`", t.text),
                kind: ErrorKind::Unsupported,
            }),
            "chain" | "rule" | "set" | "map" | "element" => {
                // `nft -f` also takes the object words alone, as `add`.
                cur.pos -= 1;
                self.command(cur, &t)
            }
            "list" | "monitor" | "describe" | "export" | "import" | "reset" | "rename" => {
                Err(Fail { at: at(Some(t)), message: format!("`{}` is a command for a running system, not part of a ruleset", t.text), kind: ErrorKind::Unsupported })
            }
            _ => fail(Some(t), format!("expected a statement such as `table`, `add`, `flush`, `define` or `include`, found {}", describe(Some(t)))),
        }
    }

    /// `include "pattern"`: the files' tokens take the statement's place,
    /// so an include works wherever its text would (also inside a table).
    fn include(&mut self, cur: &mut Cur<'a>, pattern: &Token<'a>) -> PResult<()> {
        self.depth += 1;
        if self.depth > super::MAX_INCLUDES {
            return Err(Fail { at: at(Some(*pattern)), message: format!("more than {} includes (does a file include itself?)", super::MAX_INCLUDES), kind: ErrorKind::Unsupported });
        }
        let includes: &'a [super::Include] = self.includes;
        let Some(inc) = includes.iter().find(|i| i.file == pattern.file && i.offset == pattern.start) else {
            return Err(Fail { at: at(Some(*pattern)), message: format!("cannot read included file `{}`: not loaded", pattern.text), kind: ErrorKind::BadReference });
        };
        let files = inc.files.as_ref().map_err(|m| Fail { at: at(Some(*pattern)), message: m.clone(), kind: ErrorKind::BadReference })?;
        let mut spliced = Vec::new();
        for &f in files {
            if let Some(toks) = self.tokens(f) {
                spliced.extend(toks);
                let end = self.sources[f].text.len() as u32;
                spliced.push(Token { kind: Kind::Newline, text: "\n", start: end, end, file: f as u32, defined: false });
            }
        }
        cur.toks.splice(cur.pos..cur.pos, spliced);
        Ok(())
    }

    fn family(&mut self, cur: &mut Cur<'a>) -> PResult<TableFamily> {
        let t = self.word(cur, "a family")?;
        TableFamily::parse(&t.text).ok_or_else(|| Fail { at: at(Some(t)), message: format!("unknown family {}, expected ip, ip6, inet, arp, bridge or netdev", describe(Some(t))), kind: ErrorKind::Syntax })
    }

    /// `[family] name`: the family is optional and `ip` by default.
    fn table_ref(&mut self, cur: &mut Cur<'a>) -> PResult<(TableFamily, Token<'a>)> {
        let first = self.word(cur, "a table")?;
        if let Some(f) = TableFamily::parse(&first.text) {
            // `table ip` alone would name a table called `ip`.
            self.expand(cur)?;
            if cur.peek().is_some_and(|t| t.kind == Kind::Word || t.kind == Kind::Str) {
                let name = self.word(cur, "a table name")?;
                return Ok((f, name));
            }
        }
        Ok((TableFamily::Ip, first))
    }

    fn table_index(&mut self, fam: TableFamily, name: &Token) -> usize {
        self.check_name(name, "table");
        if let Some(i) = self.tables.iter().position(|t| t.family == fam && t.name == name.text) {
            return i;
        }
        let span = self.tok_span(name);
        self.tables.push(ast::Table { family: fam, name: name.text.to_string(), span, chains: Vec::new(), sets: Vec::new() });
        self.tables.len() - 1
    }

    fn find_table(&self, fam: TableFamily, name: &Token) -> PResult<usize> {
        self.tables.iter().position(|t| t.family == fam && t.name == name.text).ok_or_else(|| Fail {
            at: at(Some(*name)),
            message: format!("no table {} {}, expected one declared before", fam.name(), name.text),
            kind: ErrorKind::BadReference,
        })
    }

    /// `table [family] name { ... }` (a second block adds to the table).
    fn table_block(&mut self, cur: &mut Cur<'a>, _kw: &Token) -> PResult<()> {
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
            let Some(t) = cur.peek() else { return fail(None, format!("table {} {} is not closed, expected `}}`", fam.name(), name.text)) };
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
                    cur.skip_statement();
                    Ok(())
                }
                _ => fail(Some(t), format!("expected `chain`, `set`, `map`, `flags` or an object in table {}, found {}", name.text, describe(Some(t)))),
            };
            if let Err(f) = r {
                self.report(f);
                cur.rewind(before);
                cur.skip_statement();
                if cur.mark() == before {
                    cur.pos += 1;
                }
            }
        }
        Ok(())
    }

    /// `flowtable f { hook ingress priority 0; devices = { eth0, eth1 }; }`:
    /// offloads established flows, which driftwall does not model; read to
    /// check it is well formed.
    fn flowtable(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let name = self.word(cur, "a flowtable name")?;
        self.expect(cur, "{")?;
        let mut hooked = false;
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                break;
            }
            let Some(t) = cur.next() else { return fail(None, format!("flowtable {} is not closed, expected `}}`", name.text)) };
            match t.text {
                "hook" => {
                    let hook = self.word(cur, "`ingress`")?;
                    if !hook.is("ingress") {
                        return fail(Some(hook), format!("a flowtable hooks `ingress`, found {}", describe(Some(hook))));
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
                _ => return fail(Some(t), format!("expected `hook`, `devices` or `flags` in flowtable {}, found {}", name.text, describe(Some(t)))),
            }
            if !cur.at("}") {
                self.end_of_statement(cur)?;
            }
        }
        if !hooked {
            return fail(Some(name), format!("flowtable {} has no `hook ingress priority ...`", name.text));
        }
        Ok(())
    }

    fn words_to_end(&mut self, cur: &mut Cur<'a>) -> Vec<String> {
        let mut out = Vec::new();
        while !cur.at_end() {
            if let Some(t) = cur.next() {
                out.push(t.text.to_string());
            }
        }
        out
    }

    /// nft keeps names of tables, chains and sets under 256 bytes.
    fn check_name(&mut self, name: &Token, what: &str) {
        if name.text.len() > 255 || name.text.is_empty() {
            let span = self.tok_span(name);
            self.error(span, ErrorKind::InvalidValue, format!("a {what} name has 1 to 255 characters, this one has {}", name.text.len()));
        }
    }

    fn chain_index(&mut self, ti: usize, name: &Token) -> usize {
        self.check_name(name, "chain");
        let span = self.tok_span(name);
        self.chain_named(ti, name.text, span)
    }

    fn chain_named(&mut self, ti: usize, name: &str, span: Span) -> usize {
        let chains = &mut self.tables[ti].chains;
        if let Some(i) = chains.iter().position(|c| c.name == name) {
            return i;
        }
        chains.push(ast::Chain { name: name.to_string(), span, base: None, policy: None, rules: Vec::new() });
        chains.len() - 1
    }

    /// `chain name { type ... hook ... priority ...; policy ...; rules }`
    fn chain_block(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<()> {
        let name = self.word(cur, "a chain name")?;
        let ci = self.chain_index(ti, &name);
        self.expect(cur, "{")?;
        self.chain_body(cur, ti, ci)
    }

    fn chain_body(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<()> {
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                return Ok(());
            }
            if cur.peek().is_none() {
                return fail(None, format!("chain {} is not closed, expected `}}`", self.tables[ti].chains[ci].name));
            }
            cur.compact();
            let before = cur.mark();
            let r = self.chain_item(cur, ti, ci);
            if let Err(f) = r {
                self.report(f);
                // Go on after the whole rule, braces included, from its start.
                cur.rewind(before);
                cur.skip_statement();
                if cur.mark() == before {
                    cur.pos += 1;
                }
            }
        }
    }

    fn chain_item(&mut self, cur: &mut Cur<'a>, ti: usize, ci: usize) -> PResult<()> {
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
                    return fail(Some(p), format!("expected `accept` or `drop` as the chain's policy, found {}", describe(Some(p))));
                }
                if self.tables[ti].chains[ci].base.is_none() {
                    return fail(Some(p), format!("chain {} has a policy but no `type ... hook ... priority`: only base chains have one", self.tables[ti].chains[ci].name));
                }
                self.tables[ti].chains[ci].policy = Some(p.text.to_string());
                // Reports point at the policy when it decides.
                let kw = t.expect("peeked");
                self.tables[ti].chains[ci].span = if kw.file == p.file { self.span_of(kw.file, kw.start, p.end) } else { self.tok_span(&p) };
                self.end_of_statement(cur)
            }
            Some("comment") if cur.peek_at(1).is_some_and(|t| t.kind == Kind::Str) && cur.peek_at(2).is_none_or(|t| t.kind == Kind::Newline || t.is(";") || t.is("}")) => {
                cur.pos += 2;
                self.end_of_statement(cur)
            }
            Some("devices") | Some("device") => {
                cur.skip_statement();
                self.end_of_statement(cur)
            }
            _ => {
                let rule = self.rule(cur, ti)?;
                self.tables[ti].chains[ci].rules.push(rule);
                Ok(())
            }
        }
    }

    /// `type filter hook input [device eth0] priority 0`
    fn base_spec(&mut self, cur: &mut Cur<'a>) -> PResult<BaseSpec> {
        let start = cur.mark();
        self.expect(cur, "type")?;
        let kind = self.word(cur, "a chain type (filter, nat or route)")?;
        if !matches!(kind.text, "filter" | "nat" | "route") {
            return fail(Some(kind), format!("unknown chain type {}, expected filter, nat or route", describe(Some(kind))));
        }
        self.expect(cur, "hook")?;
        let hook = self.word(cur, "a hook")?;
        if !matches!(hook.text, "prerouting" | "input" | "forward" | "output" | "postrouting" | "ingress" | "egress") {
            return fail(Some(hook), format!("unknown hook {}, expected prerouting, input, forward, output, postrouting, ingress or egress", describe(Some(hook))));
        }
        if cur.eat("device") {
            self.word(cur, "a device name")?;
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
        Ok(BaseSpec { kind: kind.text.to_string(), hook: hook.text.to_string(), priority, span })
    }

    fn braced_words(&mut self, cur: &mut Cur<'a>) -> PResult<Vec<String>> {
        self.expect(cur, "{")?;
        let mut out = Vec::new();
        loop {
            while cur.peek().is_some_and(|t| t.kind == Kind::Newline || t.is(",")) {
                cur.pos += 1;
            }
            if cur.eat("}") {
                return Ok(out);
            }
            out.push(self.word(cur, "a value")?.text.to_string());
        }
    }

    /// `priority` as a number or a name with an optional `+ n`/`- n`.
    fn priority(&mut self, cur: &mut Cur<'a>) -> PResult<i32> {
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
            None => return fail(Some(t), format!("unknown priority {}, expected a number or raw, mangle, dstnat, filter, security, srcnat", describe(Some(t)))),
        };
        if num(text).is_none() {
            if let Some(g) = glued {
                value += num(g.trim_start_matches('+')).ok_or_else(|| Fail { at: at(Some(t)), message: format!("expected a number after the priority's name, found `{g}`"), kind: ErrorKind::InvalidValue })?;
            } else if cur.at("+") || cur.at("-") || cur.peek().is_some_and(|t| t.kind == Kind::Word && (t.text.starts_with('+') || t.text.starts_with('-'))) {
                let sign = cur.next().expect("peeked");
                let (neg, digits) = match sign.text {
                    "-" => (true, self.word(cur, "a number")?.text.to_string()),
                    "+" => (false, self.word(cur, "a number")?.text.to_string()),
                    other => (other.starts_with('-'), other[1..].to_string()),
                };
                let n = num(&digits).ok_or_else(|| Fail { at: at(Some(sign)), message: format!("expected a number after `+`/`-`, found `{digits}`"), kind: ErrorKind::InvalidValue })?;
                value += if neg { -n } else { n };
            }
        }
        Ok(value)
    }

    /// `set name { type ...; flags ...; elements = { ... } }` (and `map`).
    fn set_block(&mut self, cur: &mut Cur<'a>, ti: usize, is_map: bool) -> PResult<()> {
        let name = self.word(cur, "a set name")?;
        let span = self.tok_span(&name);
        self.expect(cur, "{")?;
        let mut set = ast::Set { name: name.text.to_string(), span, key_type: Vec::new(), data_type: None, elements: Vec::new(), dynamic: false };
        loop {
            cur.skip_newlines();
            if cur.eat("}") {
                break;
            }
            let Some(t) = cur.peek() else { return fail(None, format!("set {} is not closed, expected `}}`", name.text)) };
            cur.pos += 1;
            match t.text {
                "type" | "typeof" => {
                    let words = self.words_to_end(cur);
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
                _ => cur.skip_statement(),
            }
            if !cur.at("}") {
                self.end_of_statement(cur)?;
            }
        }
        if let Some(data) = &set.data_type {
            if data.split('.').count() > 1 && data.split('.').any(|p| p.trim() == "verdict") {
                return Err(Fail { at: at(Some(name)), message: format!("map {}: a verdict cannot be part of a concatenation", name.text), kind: ErrorKind::InvalidValue });
            }
        }
        let existing = self.tables[ti].sets.iter().position(|s| s.name == set.name);
        if set.key_type.is_empty() && existing.is_none() {
            return Err(Fail { at: at(Some(name)), message: format!("{} {} has no `type` or `typeof`: its elements have no type", if is_map { "map" } else { "set" }, name.text), kind: ErrorKind::Syntax });
        }
        if is_map && set.data_type.is_none() && existing.is_none() {
            return Err(Fail { at: at(Some(name)), message: format!("map {} needs `type KEY : DATA`", name.text), kind: ErrorKind::Syntax });
        }
        let is_map = is_map || existing.is_some_and(|i| self.tables[ti].sets[i].data_type.is_some());
        if let Some(bad) = set.elements.iter().find(|e| e.data.is_some() != is_map) {
            let what = if is_map { "an element of a map needs `: data`" } else { "an element of a set has no `: data`" };
            return Err(Fail { at: at(Some(name)), message: format!("{what} ({})", super::lower::value_text(&bad.key)), kind: ErrorKind::InvalidValue });
        }
        let sets = &mut self.tables[ti].sets;
        match existing {
            Some(i) => {
                // Declaring it again adds elements; a different type is an error.
                if !set.key_type.is_empty() && (sets[i].key_type != set.key_type || sets[i].data_type != set.data_type) {
                    return Err(Fail { at: at(Some(name)), message: format!("{} is declared again with another type", name.text), kind: ErrorKind::BadReference });
                }
                sets[i].elements.extend(set.elements);
            }
            None => sets.push(set),
        }
        Ok(())
    }

    /// The command form: `add table|chain|rule|set|map|element ...`.
    fn command(&mut self, cur: &mut Cur<'a>, verb: &Token) -> PResult<()> {
        let what = self.word(cur, "table, chain, rule, set, map or element")?;
        let deleting = verb.is("delete") || verb.is("destroy");
        match what.text {
            "table" => {
                let (fam, name) = self.table_ref(cur)?;
                if deleting {
                    self.tables.retain(|t| !(t.family == fam && t.name == name.text));
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
                    return Err(Fail { at: at(Some(what)), message: "`delete rule` needs rule handles, which a file does not have".into(), kind: ErrorKind::Unsupported });
                }
                let (fam, table) = self.table_ref(cur)?;
                let ti = self.find_table(fam, &table)?;
                let chain = self.word(cur, "a chain name")?;
                let Some(ci) = self.tables[ti].chains.iter().position(|c| c.name == chain.text) else {
                    return Err(Fail { at: at(Some(chain)), message: format!("no chain {} in table {} {}", chain.text, fam.name(), table.text), kind: ErrorKind::BadReference });
                };
                if cur.at("handle") || cur.at("position") || cur.at("index") {
                    return Err(Fail { at: at(cur.peek()), message: "rule positions by handle or index depend on the running ruleset, which a file does not have".into(), kind: ErrorKind::Unsupported });
                }
                let rule = self.rule(cur, ti)?;
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
                    return Err(Fail { at: at(Some(set)), message: format!("no set {} in table {} {}", set.text, fam.name(), table.text), kind: ErrorKind::BadReference });
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
                }
                cur.skip_statement();
                self.end_of_statement(cur)
            }
            _ => fail(Some(what), format!("expected table, chain, rule, set, map or element after `{}`, found {}", verb.text, describe(Some(what)))),
        }
    }

    /// One rule: statements to the end of the line (or `;`).
    fn rule(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<ast::Rule> {
        let start = cur.mark();
        let mut stmts = Vec::new();
        loop {
            self.expand(cur)?;
            if cur.at_end() {
                break;
            }
            stmts.push(self.statement(cur, ti)?);
        }
        let span = self.span_between(cur, start);
        if cur.peek().is_some_and(|t| t.is(";") || t.kind == Kind::Newline) {
            cur.pos += 1;
        }
        if stmts.is_empty() {
            return fail(cur.peek(), "expected a rule");
        }
        Ok(ast::Rule { span, stmts })
    }

    fn statement(&mut self, cur: &mut Cur<'a>, ti: usize) -> PResult<Stmt> {
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
                    return Ok(Stmt::Verdict(if text == "jump" { Verdict::Jump(target) } else { Verdict::Goto(target) }));
                }
                "reject" => {
                    cur.pos += 1;
                    if cur.eat("with") {
                        let words = self.words_while(cur, |w| !STATEMENT_WORDS.contains(&w) || w == "type");
                        return Ok(Stmt::Verdict(Verdict::Reject(Some(words.join(" ")))));
                    }
                    return Ok(Stmt::Verdict(Verdict::Reject(None)));
                }
                "queue" => {
                    cur.pos += 1;
                    let words = self.rest_words(cur);
                    return Ok(Stmt::Verdict(Verdict::Queue(words.join(" "))));
                }
                "counter" => {
                    cur.pos += 1;
                    if cur.eat("name") {
                        // A name, or an expression mapping to one: `counter name ip saddr map { ... }`.
                        self.word(cur, "a counter name")?;
                        cur.skip_expr();
                    }
                    while cur.at("packets") || cur.at("bytes") {
                        cur.pos += 1;
                        self.word(cur, "a number")?;
                    }
                    return Ok(Stmt::Effect("counter".into()));
                }
                "log" => {
                    cur.pos += 1;
                    loop {
                        if cur.at("prefix") || cur.at("level") || cur.at("group") || cur.at("snaplen") || cur.at("queue-threshold") {
                            cur.pos += 1;
                            self.word(cur, "a value")?;
                        } else if cur.at("flags") {
                            // `flags all`, `flags skuid`, `flags ether`, `flags ip options`, `flags tcp sequence,options`
                            cur.pos += 1;
                            let f = self.word(cur, "log flags")?;
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
                    let words = self.words_while(cur, |w| !STATEMENT_WORDS.contains(&w) || w == "limit" || w == "quota");
                    return Ok(Stmt::Condition(words.join(" ")));
                }
                "dnat" | "snat" | "masquerade" | "redirect" => {
                    cur.pos += 1;
                    return self.nat(cur, text);
                }
                "add" | "update" | "delete" if cur.peek_at(1).is_some_and(|n| n.text.starts_with('@')) => {
                    cur.pos += 1;
                    let set = self.word(cur, "a set")?;
                    let family = self.tables[ti].family;
                    let table = self.tables[ti].name.clone();
                    self.dynamic.push((family, table, set.text.trim_start_matches('@').to_string()));
                    // `{ ip saddr timeout 1m limit rate 10/second }`: an expression with options.
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
                            }
                        }
                    }
                    return Ok(Stmt::Effect(format!("{text} {}", set.text).into()));
                }
                // The old form: `set add ip saddr @s`, `set update ip saddr timeout 1m @s`.
                "set" if cur.peek_at(1).is_some_and(|n| n.is("add") || n.is("update") || n.is("delete")) => {
                    cur.pos += 2;
                    let mut name = None;
                    while !cur.at_end() {
                        let t = cur.next().expect("not at the end");
                        if let Some(n) = t.text.strip_prefix('@') {
                            name = Some(n.to_string());
                            break;
                        }
                    }
                    let Some(name) = name else { return fail(cur.peek(), "expected `@set` at the end of a set update") };
                    let family = self.tables[ti].family;
                    let table = self.tables[ti].name.clone();
                    self.dynamic.push((family, table, name.clone()));
                    return Ok(Stmt::Effect(format!("set update @{name}").into()));
                }
                "reset" => {
                    let words = cur.skip_expr();
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
                    return Ok(Stmt::Effect(words.join(" ").into()));
                }
                "tproxy" | "synproxy" | "fwd" | "dup" | "xt" | "flow" => {
                    let words = self.rest_words(cur);
                    return Ok(Stmt::Unknown(words.join(" ")));
                }
                _ => {}
            }
        }
        self.match_or_set(cur)
    }

    fn nat(&mut self, cur: &mut Cur<'a>, what: &str) -> PResult<Stmt> {
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
        if cur.eat("to") {
            self.expand(cur)?;
            // `dnat to ip saddr map { ... }`, `snat to numgen ...`: the
            // address comes from an expression driftwall does not evaluate.
            if cur.peek().is_some_and(|t| t.kind == Kind::Word && (is_payload_protocol(t.text) || is_bare_meta(t.text) || matches!(t.text, "meta" | "ct" | "numgen" | "jhash" | "symhash"))) {
                let words = cur.skip_expr();
                return Ok(Stmt::Unknown(format!("{what} to {}", words.join(" "))));
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
                if let Some(t) = cur.peek().filter(|t| t.kind == Kind::Word && t.text.starts_with(':')) {
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
                if cur.at(":") && cur.peek_at(1).is_some_and(|n| n.text.starts_with(|c: char| c.is_ascii_digit())) {
                    cur.pos += 1;
                    port = Some(self.word(cur, "a port")?.text.to_string());
                }
            }
        }
        // Flags change how, not whether, the translation happens.
        while cur.peek().is_some_and(|t| matches!(t.text, "random" | "fully-random" | "persistent" | "netmap" | "prefix" | ",")) {
            cur.pos += 1;
        }
        // Anything else before the next statement (`:tcp dport map {...}`,
        // `/64`, `: numgen ...`) makes the translation an expression.
        if !cur.at_end() && !cur.peek().is_some_and(|t| t.kind == Kind::Word && STOP_WORDS.contains(&t.text)) {
            let words = cur.skip_expr();
            return Ok(Stmt::Unknown(format!("{what} to {} {}", addr.unwrap_or_default(), words.join(" "))));
        }
        if kind == NatKind::Masquerade && addr.is_some() {
            return fail(cur.peek(), "masquerade takes only `to :PORT`");
        }
        Ok(Stmt::Nat { kind, family, addr, port })
    }

    /// Every word to the end of the rule, over balanced braces.
    fn rest_words(&mut self, cur: &mut Cur<'a>) -> Vec<String> {
        self.words_while(cur, |_| true)
    }

    /// Words from the cursor while `keep` holds for them.
    fn words_while(&mut self, cur: &mut Cur<'a>, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        while let Some(t) = cur.peek() {
            if depth == 0 && (cur.at_end() || (!out.is_empty() && !keep(&t.text))) {
                break;
            }
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth = depth.saturating_sub(1);
            }
            out.push(t.text.to_string());
            cur.pos += 1;
        }
        out
    }

    /// A selector (or a concatenation of them).
    fn selectors(&mut self, cur: &mut Cur<'a>) -> PResult<Vec<Selector>> {
        let mut out = vec![self.selector(cur)?];
        while cur.at(".") {
            cur.pos += 1;
            out.push(self.selector(cur)?);
        }
        Ok(out)
    }

    fn selector(&mut self, cur: &mut Cur<'a>) -> PResult<Selector> {
        let t = self.word(cur, "a match such as `tcp dport` or a statement")?;
        let text = t.text;
        // A constant inside a concatenation: `ip saddr . "lo" @s`, `ip saddr . 1.2.3.4 . 80 @s`.
        if t.kind == Kind::Str || is_value_start(text) {
            return Ok(Selector::Other(format!("constant {text}")));
        }
        if text == "meta" {
            let key = self.word(cur, "a meta key")?;
            if !is_bare_meta(key.text) && !META_ONLY.contains(&key.text) {
                return Err(Fail { at: at(Some(key)), message: format!("unknown meta key {}", describe(Some(key))), kind: ErrorKind::Syntax });
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
            if matches!(key.text, "original" | "reply") {
                let mut words = vec!["ct".to_string(), key.text.to_string()];
                words.extend(self.words_while(cur, |w| matches!(w, "ip" | "ip6" | "saddr" | "daddr" | "proto-src" | "proto-dst" | "bytes" | "packets" | "avgpkt" | "zone" | "l3proto" | "protocol")));
                return Ok(Selector::Other(words.join(" ")));
            }
            if !CT_KEYS.contains(&key.text) {
                return Err(Fail { at: at(Some(key)), message: format!("unknown ct key {}", describe(Some(key))), kind: ErrorKind::Syntax });
            }
            return Ok(Selector::Ct(key.text.into()));
        }
        let route_key = text == "rt" && cur.peek().is_some_and(|n| matches!(n.text, "ip" | "ip6" | "nexthop" | "mtu" | "classid" | "ipsec"));
        if is_payload_protocol(text) && !route_key {
            let field = self.word(cur, "a header field such as saddr or dport")?;
            if let Some(known) = header_fields(text) {
                if !known.contains(&field.text) && !matches!(field.text, "option" | "hdr" | "chunk") {
                    return Err(Fail { at: at(Some(field)), message: format!("unknown {text} field {}, expected one of {}", describe(Some(field)), known.join(", ")), kind: ErrorKind::Syntax });
                }
            }
            // `arp saddr ip`, `arp daddr ether`
            if text == "arp" && cur.peek().is_some_and(|n| n.is("ip") || n.is("ether")) {
                let q = cur.next().expect("peeked");
                return Ok(Selector::Other(format!("arp {} {}", field.text, q.text)));
            }
            if field.is("option") || field.is("hdr") || field.is("chunk") || matches!(text, "vlan" | "ether" | "arp" | "vxlan" | "geneve" | "gre" | "gretap") {
                let mut words = vec![text.to_string(), field.text.to_string()];
                // Inner headers: `vxlan ip saddr`.
                if matches!(text, "vxlan" | "geneve" | "gre" | "gretap") && is_payload_protocol(field.text) {
                    words.push(self.word(cur, "a field")?.text.to_string());
                }
                if field.is("option") || field.is("hdr") || field.is("chunk") {
                    words.push(self.word(cur, "an option name")?.text.to_string());
                    if let Some(n) = cur.peek().filter(|n| n.kind == Kind::Word && !is_value_start(&n.text) && !n.is("exists") && !n.is("missing") && !n.is("set")) {
                        words.push(n.text.to_string());
                        cur.pos += 1;
                    }
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            return Ok(Selector::Payload { protocol: text.into(), field: field.text.into() });
        }
        if text == "fib" {
            // `fib saddr . iif oif`, `fib daddr type`: flags, then the result.
            let mut words = vec!["fib".to_string()];
            loop {
                let w = self.word(cur, "a fib flag or result")?;
                let done = matches!(w.text, "oif" | "oifname" | "type" | "check");
                words.push(w.text.to_string());
                if done {
                    break;
                }
                cur.eat(".");
                words.push(".".into());
            }
            return Ok(Selector::Other(words.join(" ")));
        }
        if matches!(text, "socket" | "rt" | "ipsec" | "osf" | "numgen" | "jhash" | "symhash" | "exthdr" | "tunnel" | "inner") || text.starts_with('@') {
            let mut words = vec![text.to_string()];
            if text == "ipsec" {
                // `ipsec in|out [spnum N] ip saddr`, `ipsec in reqid`
                words.push(self.word(cur, "`in` or `out`")?.text.to_string());
                if cur.eat("spnum") {
                    words.push(format!("spnum {}", self.word(cur, "a number")?.text.to_string()));
                }
                let key = self.word(cur, "an ipsec key")?;
                words.push(key.text.to_string());
                if key.is("ip") || key.is("ip6") {
                    words.push(self.word(cur, "saddr or daddr")?.text.to_string());
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            if text == "socket" {
                // `socket mark`, `socket transparent`, `socket cgroupv2 level 1`
                let key = self.word(cur, "a socket key")?;
                words.push(key.text.to_string());
                if key.is("cgroupv2") && cur.eat("level") {
                    words.push(format!("level {}", self.word(cur, "a level")?.text.to_string()));
                }
                return Ok(Selector::Other(words.join(" ")));
            }
            // The words that qualify it, up to the comparison.
            while let Some(n) = cur.peek() {
                if n.kind != Kind::Word || is_value_start(&n.text) || STATEMENT_WORDS.contains(&n.text) || cur.at_end() || n.is("exists") || n.is("missing") {
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
            }
            return Ok(Selector::Other(words.join(" ")));
        }
        fail(Some(t), format!("expected a match (such as `tcp dport`, `ip saddr`, `iifname`, `ct state`) or a statement, found {}", describe(Some(t))))
    }

    /// A match (`selector [op] value`, `selector vmap ...`) or a setting
    /// (`meta mark set 1`, `ct mark set ...`).
    fn match_or_set(&mut self, cur: &mut Cur<'a>) -> PResult<Stmt> {
        let left = self.selectors(cur)?;
        if cur.eat("set") {
            let words = cur.skip_expr();
            if words.is_empty() {
                return fail(cur.peek(), "expected a value after `set`");
            }
            return Ok(Stmt::Effect(format!("{} set {}", super::lower::selectors_text(&left), words.join(" ")).into()));
        }
        // `ct mark & 0xff == 0x10`, `meta mark >> 8 != 1`: arithmetic on the
        // left. Only `tcp flags & mask` is modelled.
        if cur.at("&") || cur.at("|") || cur.at("^") || cur.at("<<") || cur.at(">>") || cur.at("and") || cur.at("or") || cur.at("xor") || cur.at("lshift") || cur.at("rshift") {
            let is_flags = matches!(left.as_slice(), [Selector::Payload { protocol, field }] if protocol == "tcp" && field == "flags");
            if is_flags && cur.at("&") {
                cur.pos += 1;
                let mask = self.flag_list(cur)?;
                if cur.eat("vmap") {
                    let map = self.value(cur)?;
                    return Ok(Stmt::Vmap { left: vec![Selector::Other(format!("tcp flags & ({})", mask.join("|")))], map });
                }
                let op = self.op(cur).unwrap_or(Op::Eq);
                if cur.at("{") {
                    // `tcp flags & (syn|ack) == { syn, ack }`: one of several values under the mask.
                    let set = self.braced_set(cur)?;
                    return Ok(Stmt::Match { left: vec![Selector::Other(format!("tcp flags & ({})", mask.join("|")))], op, right: set });
                }
                let comp = self.flag_list(cur)?;
                return Ok(Stmt::Match { left, op, right: Value::Masked { mask, comp } });
            }
            let mut text = super::lower::selectors_text(&left);
            while cur.at("&") || cur.at("|") || cur.at("^") || cur.at("<<") || cur.at(">>") || cur.at("and") || cur.at("or") || cur.at("xor") || cur.at("lshift") || cur.at("rshift") {
                let op = cur.next().expect("peeked").text;
                let operand = if cur.at("(") { self.flag_list(cur)?.join("|") } else { self.word(cur, "an operand")?.text.to_string() };
                text.push_str(&format!(" {op} {operand}"));
            }
            if cur.eat("vmap") {
                let map = self.value(cur)?;
                return Ok(Stmt::Vmap { left: vec![Selector::Other(text)], map });
            }
            let op = self.op(cur).unwrap_or(Op::Eq);
            let right = self.value(cur)?;
            return Ok(Stmt::Match { left: vec![Selector::Other(text)], op, right });
        }
        if cur.eat("vmap") {
            let map = self.value(cur)?;
            return Ok(Stmt::Vmap { left, map });
        }
        if cur.at("map") {
            // `ip saddr map @m == 1`: a lookup as a value, not modelled.
            let words = cur.skip_expr();
            return Ok(Stmt::Condition(format!("{} {}", super::lower::selectors_text(&left), words.join(" "))));
        }
        let op = self.op(cur);
        let right = self.value(cur)?;
        // `tcp flags syn / fin,syn,rst,ack`
        if cur.eat("/") {
            let mask = self.flag_list(cur)?;
            let comp = match right {
                Value::Atom(a) => vec![a.to_string()],
                Value::Flags(f) => f,
                other => return fail(cur.peek(), format!("expected flags before `/`, found `{}`", super::lower::value_text(&other))),
            };
            return Ok(Stmt::Match { left, op: op.unwrap_or(Op::Eq), right: Value::Masked { mask, comp } });
        }
        let op = match (op, &right) {
            // A bare flag list means "one of these set" for bit fields, which
            // the lowering reads as a set of states or flags.
            (None, _) => Op::Eq,
            (Some(o), _) => o,
        };
        Ok(Stmt::Match { left, op, right })
    }

    fn op(&mut self, cur: &mut Cur<'a>) -> Option<Op> {
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
    fn flag_list(&mut self, cur: &mut Cur<'a>) -> PResult<Vec<String>> {
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
    fn value(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
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
    fn atom(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        self.expand(cur)?;
        let t = match cur.peek() {
            Some(t) if t.kind == Kind::Word || t.kind == Kind::Str => cur.next().expect("peeked"),
            Some(t) if t.is("(") => {
                let f = self.flag_list(cur)?;
                return Ok(Value::Flags(f));
            }
            other => return fail(other, format!("expected a value, found {}", describe(other))),
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
        Ok(split_range(&t.text))
    }

    /// `{ element, element : data, ... }`
    fn braced_set(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
        self.expect(cur, "{")?;
        let mut out = Vec::new();
        loop {
            while cur.peek().is_some_and(|t| t.kind == Kind::Newline || t.is(",")) {
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
            loop {
                let Some(t) = cur.peek() else { break };
                match t.text {
                    "timeout" | "expires" | "comment" | "packets" | "bytes" => {
                        cur.pos += 1;
                        self.word(cur, "the option's value")?;
                    }
                    "counter" => cur.pos += 1,
                    "limit" | "quota" | "ct" | "last" => {
                        cur.pos += 1;
                        while cur.peek().is_some_and(|t| t.kind == Kind::Word && !t.is("counter")) {
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
                (Value::Atom(a), None) if a.matches(':').count() == 1 && !a.starts_with(':') && !a.ends_with(':') => {
                    let (k, d) = a.split_once(':').expect("one colon");
                    (split_range(k), Some(split_range(d)))
                }
                // `1234::aaaa:::accept`: an IPv6 key glued to its verdict.
                (Value::Atom(a), None) if a.rsplit_once(':').is_some_and(|(_, v)| matches!(v, "accept" | "drop" | "return" | "continue")) => {
                    let (k, d) = a.rsplit_once(':').expect("checked");
                    (split_range(k), Some(Value::Atom(d.into())))
                }
                (_, d) => (key, d),
            };
            out.push(Element { key, data });
            if !(cur.at(",") || cur.at("}") || cur.peek().is_some_and(|t| t.kind == Kind::Newline)) {
                return fail(cur.peek(), format!("expected `,` or `}}` in a set, found {}", describe(cur.peek())));
            }
        }
    }

    fn element_value(&mut self, cur: &mut Cur<'a>) -> PResult<Value> {
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

    /// Marks the sets that rules fill at run time.
    fn mark_dynamic(&mut self) {
        for (fam, table, name) in &self.dynamic {
            if let Some(s) = self.tables.iter_mut().filter(|t| t.family == *fam && t.name == *table).flat_map(|t| t.sets.iter_mut()).find(|s| s.name == *name) {
                s.dynamic = true;
            }
        }
    }
}

fn is_value_start(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit()) || w.starts_with('$') || w.starts_with('@') || w.contains(':')
}

fn atom_text(v: &Value) -> String {
    super::lower::value_text(v)
}

/// `1024-65535` or `10.0.0.1-10.0.0.9` is a range; `echo-request` is a name.
fn split_range(text: &str) -> Value {
    if let Some((a, b)) = text.split_once('-') {
        let number_like = |s: &str| !s.is_empty() && (s.parse::<u64>().is_ok() || s.parse::<std::net::IpAddr>().is_ok() || s.parse::<i64>().is_ok());
        if number_like(a) && number_like(b) {
            return Value::Range(a.into(), b.into());
        }
    }
    Value::Atom(text.into())
}
