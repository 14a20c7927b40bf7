//! The nft language into the syntax tree: the block form (`table inet f {
//! chain c { ... } }`) and the command form (`add rule inet f c ...`), with
//! `define`, `$var`, `include` and `flush ruleset`.
//!
//! The statement grammar is a descent over the tokens of [`super::lexer`],
//! one function per production. A problem is reported where it is and the
//! parser goes on after the statement, so one run shows every error.

mod checks;
mod expr;
mod fast;
mod objects;
mod ruleset;
mod statement;
mod words;

use words::is_stop_word;

use super::ast::{self, TableFamily};
use super::lexer::{self, Kind, Token};
use crate::line_index::LineIndex;
use crate::model::{Source, Span};
use crate::{ErrorKind, ParseError};

pub struct Parser<'a> {
    /// Every file of the ruleset, the top one first; included files were
    /// read before parsing (see [`super::load_includes`]).
    pub sources: &'a [Source],
    /// Files each `include` statement names: (file, offset of the pattern) -> files.
    includes: &'a [crate::nft::Include],
    /// Per source, to turn offsets into lines and columns.
    lines: Vec<LineIndex<'a>>,
    pub tables: Vec<ast::Table>,
    pub errors: Vec<ParseError>,
    /// Room for the statements of the rules being read (see [`Parser::rule`]).
    stmts: Vec<ast::Stmt>,
    /// Plain rules are read straight into the model (see [`fast`]); off
    /// only to compare with the general way.
    pub fast: bool,
    defines: Vec<(String, Vec<Token<'a>>)>,
    /// Sets that rules fill at run time (`add @s`, `update @s`, `meter`).
    dynamic: Vec<(TableFamily, String, String)>,
    /// Tables with `flags dormant`: their chains are not attached.
    pub dormant: Vec<(TableFamily, String)>,
    /// Named stateful objects declared (`counter c { }`, `add quota ip t q ...`):
    /// family, table, kind, name.
    objects: Vec<(TableFamily, String, &'static str, String)>,
    /// Rules' references to named objects (`counter name "c"`), checked
    /// once the whole ruleset is read, since a file may declare them later.
    object_refs: Vec<(TableFamily, String, &'static str, String, Token<'a>)>,
    depth: usize,
    /// How deep the sets being read are nested (see [`MAX_SET_NESTING`]).
    set_depth: usize,
    /// Tokens that variables have expanded to so far (see [`MAX_EXPANDED`]).
    expanded: usize,
}

/// Sets nested deeper than this are refused: the reader recurses once a
/// level, and nft itself gives up ("memory exhausted") on such files.
pub(crate) const MAX_SET_NESTING: usize = 256;

/// Variables may expand to at most this many tokens in a ruleset: a
/// definition that doubles itself at each level (`define d2 = { $d1, $d1
/// }`) reaches millions in twenty levels.
pub(crate) const MAX_EXPANDED: usize = 4_000_000;

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
        Cur {
            toks,
            pos: 0,
            base: 0,
            lexer,
            lex_error: None,
        }
    }
    /// Reads until the token `n` ahead is there (or the input ends).
    #[inline]
    fn fill(&mut self, n: usize) {
        // Nearly always there: the parser looks at each token several times.
        if self.toks.len() <= self.pos + n {
            self.read(n);
        }
    }
    /// Reads ahead a batch of tokens, so that the lexer runs in one tight
    /// loop rather than once for every token the parser steps onto.
    #[inline(never)]
    fn read(&mut self, n: usize) {
        let Some(lexer) = &mut self.lexer else { return };
        let until = (self.pos + n + 1).max(self.toks.len() + 64);
        self.toks.reserve(until - self.toks.len());
        while self.toks.len() < until {
            match lexer.next_token() {
                Some(t) => self.toks.push(t),
                None => {
                    if let Some((at, message)) = lexer.error.take() {
                        self.lex_error = Some((lexer.file(), at, message));
                    }
                    self.lexer = None;
                    return;
                }
            }
        }
    }
    #[inline]
    fn peek(&mut self) -> Option<Token<'a>> {
        self.fill(0);
        self.toks.get(self.pos).copied()
    }
    #[inline]
    fn peek_at(&mut self, n: usize) -> Option<Token<'a>> {
        self.fill(n);
        self.toks.get(self.pos + n).copied()
    }
    #[inline]
    fn next(&mut self) -> Option<Token<'a>> {
        let t = self.peek();
        self.pos += 1;
        t
    }
    #[inline]
    fn at(&mut self, text: &str) -> bool {
        self.peek().is_some_and(|t| t.is(text))
    }
    #[inline]
    fn eat(&mut self, text: &str) -> bool {
        if self.at(text) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// At the end of a statement: a newline, `;`, `}` or the end.
    #[inline]
    fn at_end(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(t) => t.kind == Kind::Newline || t.is(";") || t.is("}"),
        }
    }
    fn skip_newlines(&mut self) {
        while self
            .peek()
            .is_some_and(|t| t.kind == Kind::Newline || t.is(";"))
        {
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
    /// After an error in the statement that started at `mark`: on after the
    /// whole statement, braces included, and never stuck on one token.
    fn recover(&mut self, mark: usize) {
        self.rewind(mark);
        self.skip_statement();
        if self.mark() == mark {
            self.pos += 1;
        }
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
            if depth == 0
                && (t.kind == Kind::Newline
                    || t.is(";")
                    || t.is("}")
                    || (t.kind == Kind::Word && is_stop_word(t.text)))
            {
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
    Err(Fail {
        at: at(tok),
        message: message.into(),
        kind: ErrorKind::Syntax,
    })
}

/// What parses but nft's evaluation refuses (see [`checks`]).
fn refuse<T>(tok: Option<Token>, message: impl Into<String>) -> PResult<T> {
    Err(Fail {
        at: at(tok),
        message: message.into(),
        kind: ErrorKind::InvalidValue,
    })
}

/// "expected WHAT, found T", out of the way of the paths that succeed.
#[cold]
#[inline(never)]
fn expected(what: &str, t: Option<Token>) -> Fail {
    Fail {
        at: at(t),
        message: format!("expected {what}, found {}", describe(t)),
        kind: ErrorKind::Syntax,
    }
}

fn describe(t: Option<Token>) -> String {
    match t {
        None => "the end of the file".into(),
        Some(t) if t.kind == Kind::Newline => "the end of the line".into(),
        Some(t) if t.kind == Kind::Str => format!("\"{}\"", t.text),
        Some(t) => format!("`{}`", t.text),
    }
}

impl<'a> Parser<'a> {
    pub fn new(sources: &'a [Source], includes: &'a [crate::nft::Include]) -> Self {
        let lines = sources
            .iter()
            .map(|src| LineIndex::new(&src.text))
            .collect();
        Parser {
            sources,
            includes,
            lines,
            tables: Vec::new(),
            errors: Vec::new(),
            stmts: Vec::new(),
            fast: true,
            defines: Vec::new(),
            dynamic: Vec::new(),
            dormant: Vec::new(),
            objects: Vec::new(),
            object_refs: Vec::new(),
            depth: 0,
            set_depth: 0,
            expanded: 0,
        }
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
        self.check_object_refs();
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
        let (line, column) = self
            .lines
            .get(file as usize)
            .map_or((1, 1), |index| index.position(start as usize));
        Span {
            file,
            line,
            column,
            start,
            end,
        }
    }

    /// The span of the one character at `at`.
    fn char_span(&self, file: u32, at: u32) -> Span {
        let len = self.sources[file as usize]
            .text
            .get(at as usize..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8);
        self.span_of(file, at, at + len as u32)
    }

    fn tok_span(&self, t: &Token) -> Span {
        self.span_of(t.file, t.start, t.end)
    }

    fn error(&mut self, span: Span, kind: ErrorKind, message: String) {
        let path = self
            .sources
            .get(span.file as usize)
            .map(|s| s.path.clone())
            .unwrap_or_default();
        self.errors.push(ParseError {
            kind,
            path,
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        });
    }

    fn report(&mut self, f: Fail) {
        let span = match f.at {
            Some((file, start, end)) => self.span_of(file, start, end),
            None => {
                let file = self.sources.len().saturating_sub(1) as u32;
                let end = self
                    .sources
                    .last()
                    .map(|s| s.text.len() as u32)
                    .unwrap_or(0);
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
            _ => toks.first().map(|t| self.tok_span(t)).unwrap_or(Span {
                file: 0,
                line: 1,
                column: 1,
                start: 0,
                end: 0,
            }),
        }
    }

    /// Replaces a `$name` at the cursor by its definition.
    #[inline]
    fn expand(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        // Asked before nearly every token, and nearly always there is nothing to do.
        if self.defines.is_empty() && !cur.peek().is_some_and(|t| t.text.starts_with('$')) {
            return Ok(());
        }
        self.expand_variables(cur)
    }

    #[inline(never)]
    fn expand_variables(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        let mut guard = 0;
        while let Some(t) = cur.peek() {
            if t.kind != Kind::Word || !t.text.starts_with('$') {
                return Ok(());
            }
            guard += 1;
            if guard > 64 {
                return fail(
                    Some(t),
                    "variables nest too deep (a definition uses itself?)",
                );
            }
            let name = &t.text[1..];
            let Some((_, def)) = self.defines.iter().rev().find(|(n, _)| n == name) else {
                return Err(Fail {
                    at: at(Some(t)),
                    message: format!(
                        "undefined variable `${name}`, expected a `define {name} = ...` before its use"
                    ),
                    kind: ErrorKind::BadReference,
                });
            };
            self.expanded += def.len();
            if self.expanded > MAX_EXPANDED {
                return fail(
                    Some(t),
                    format!(
                        "variables expand to more than {MAX_EXPANDED} tokens (a definition that doubles at each level?)"
                    ),
                );
            }
            let def: Vec<Token<'a>> = def
                .iter()
                .map(|d| Token {
                    defined: true,
                    ..*d
                })
                .collect();
            cur.toks.splice(cur.pos..cur.pos + 1, def);
        }
        Ok(())
    }

    #[inline]
    fn word(&mut self, cur: &mut Cur<'a>, what: &str) -> PResult<Token<'a>> {
        self.expand(cur)?;
        match cur.peek() {
            Some(t) if t.kind == Kind::Word || t.kind == Kind::Str => {
                cur.pos += 1;
                Ok(t)
            }
            other => Err(expected(what, other)),
        }
    }

    fn expect(&mut self, cur: &mut Cur<'a>, text: &str) -> PResult<Token<'a>> {
        match cur.peek() {
            Some(t) if t.is(text) => Ok(cur.next().expect("peeked")),
            other => fail(
                other,
                format!("expected `{text}`, found {}", describe(other)),
            ),
        }
    }

    fn end_of_statement(&mut self, cur: &mut Cur<'a>) -> PResult<()> {
        if cur.at_end() {
            if cur
                .peek()
                .is_some_and(|t| t.is(";") || t.kind == Kind::Newline)
            {
                cur.pos += 1;
            }
            return Ok(());
        }
        fail(
            cur.peek(),
            format!(
                "expected the end of the statement, found {}",
                describe(cur.peek())
            ),
        )
    }

    /// Marks the sets that rules fill at run time.
    fn mark_dynamic(&mut self) {
        for (fam, table, name) in &self.dynamic {
            if let Some(s) = self
                .tables
                .iter_mut()
                .filter(|t| t.family == *fam && t.name == *table)
                .flat_map(|t| t.sets.iter_mut())
                .find(|s| s.name == *name)
            {
                s.dynamic = true;
            }
        }
    }
}
