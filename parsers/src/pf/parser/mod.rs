//! pf.conf into the syntax tree: one function per production of pfctl's
//! grammar (`sbin/pfctl/parse.y`), named after it, over the tokens of
//! [`super::lexer`]. A statement is one line (`\` joins lines); a problem
//! is reported where it is and reading goes on at the next line, so one run
//! shows every error.

mod checks;
mod host;
mod rule;
mod statement;
#[cfg(test)]
mod tests;

use super::ast::PfRuleset;
use super::lexer::{Kind, Lexer, Token};
use crate::line_index::LineIndex;
use crate::model::{Source, Span};
use crate::nft::IncludeLoader;
use crate::{ErrorKind, ParseError};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// How deep anchors may nest inline and files include or load each other:
/// pfctl has no such limit, but a stack does.
pub(crate) const MAX_DEPTH: usize = 64;

type Macros = Rc<RefCell<HashMap<String, Rc<str>>>>;

pub(crate) type Res<T> = Result<T, ParseError>;

/// What every file of a ruleset shares while it is read.
pub(crate) struct State<'l> {
    /// The path of every file read, the top one first.
    pub paths: Vec<String>,
    /// Their texts, shared so a file's tokens can borrow its text while the
    /// list of files grows; they become the ruleset's sources at the end
    /// without a copy.
    texts: Vec<Rc<String>>,
    pub errors: Vec<ParseError>,
    macros: Macros,
    loader: &'l IncludeLoader<'l>,
    /// Files read besides the first, to end an include loop.
    included: usize,
    /// The files being read, the top one first: a file that includes (or
    /// loads as an anchor) one of them is a loop, refused at once rather
    /// than read again and again up to the limits, each time with its
    /// errors (a 1 KB file that included itself twice gave 57,000 errors).
    reading: Vec<String>,
    /// `set require-order yes` was given: statements must come in pfctl's order.
    require_order: bool,
    /// The highest section seen so far (see [`checks::section`]).
    section: u8,
}

/// A cursor over the tokens of one file.
pub(crate) struct Cur<'t> {
    lexer: Lexer<'t>,
    ahead: VecDeque<Token<'t>>,
    macros: Macros,
    pub file: u32,
    pub lines: LineIndex<'t>,
    /// The path of the file, for errors.
    pub path: Rc<str>,
    /// How many anchors and files this one is inside.
    pub depth: usize,
    /// The end of the last token taken, where a statement's span ends.
    last_end: u32,
    /// The byte range of each option of the rule being read, in the order
    /// of its options, so a check can point at the one it refuses.
    pub option_at: Vec<(u32, u32)>,
}

impl<'t> Cur<'t> {
    fn new(text: &'t str, file: u32, path: Rc<str>, macros: Macros, depth: usize) -> Cur<'t> {
        Cur {
            lexer: Lexer::new(text),
            ahead: VecDeque::new(),
            macros,
            file,
            lines: LineIndex::new(text),
            path,
            depth,
            last_end: 0,
            option_at: Vec::new(),
        }
    }

    fn fill(&mut self, n: usize) {
        while self.ahead.len() <= n {
            let macros = self.macros.borrow();
            let token = self.lexer.next(&|name| macros.get(name).cloned());
            drop(macros);
            self.ahead.push_back(token);
        }
    }

    /// The next token, not taken.
    #[inline]
    pub fn peek(&mut self) -> &Token<'t> {
        if self.ahead.is_empty() {
            self.fill(0);
        }
        &self.ahead[0]
    }

    /// The token `n` places ahead, not taken.
    #[inline]
    pub fn peek_at(&mut self, n: usize) -> &Token<'t> {
        self.fill(n);
        &self.ahead[n]
    }

    /// Takes the next token.
    #[inline]
    pub fn bump(&mut self) -> Token<'t> {
        self.fill(0);
        let token = self.ahead.pop_front().unwrap_or(Token {
            kind: Kind::End,
            text: "".into(),
            start: self.lexer.offset(),
            end: self.lexer.offset(),
        });
        self.last_end = token.end;
        token
    }

    /// Takes the next token if it is the word or punctuation `text`.
    #[inline]
    pub fn eat(&mut self, text: &str) -> bool {
        if self.peek().is(text) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Whether the statement ends here.
    #[inline]
    pub fn at_end(&mut self) -> bool {
        matches!(self.peek().kind, Kind::Newline | Kind::End)
    }

    /// Skips the rest of the statement after an error, up to its newline.
    fn recover(&mut self) {
        loop {
            match self.peek().kind {
                Kind::End => return,
                Kind::Newline => {
                    self.bump();
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// The place of a byte range of this file.
    pub fn span(&self, start: u32, end: u32) -> Span {
        let (line, column) = self.lines.position(start as usize);
        Span {
            file: self.file,
            line,
            column,
            start,
            end: end.max(start),
        }
    }

    /// The place from `start` to the end of the last token taken.
    pub fn span_from(&self, start: u32) -> Span {
        self.span(start, self.last_end)
    }

    /// An error at a token.
    pub fn error_at(&self, token: &Token, kind: ErrorKind, message: String) -> ParseError {
        let (start, end) = (token.start, token.end);
        self.error_range(start, end, kind, message)
    }

    pub fn error_range(
        &self,
        start: u32,
        end: u32,
        kind: ErrorKind,
        message: String,
    ) -> ParseError {
        let span = self.span(start, end);
        ParseError {
            kind,
            path: self.path.to_string(),
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        }
    }

    /// "expected WHAT, found X" at the next token, which is not taken.
    pub fn expected(&mut self, what: &str) -> ParseError {
        let token = self.peek().clone();
        let kind = match token.kind {
            Kind::Newline | Kind::End => ErrorKind::MissingArgument,
            _ => ErrorKind::Syntax,
        };
        if token.kind == Kind::Bad {
            return self.error_at(&token, ErrorKind::InvalidValue, token.text.to_string());
        }
        self.error_at(
            &token,
            kind,
            format!("expected {what}, found {}", found(&token)),
        )
    }

    /// Takes a word or quoted string, or says what was expected.
    pub fn string(&mut self, what: &str) -> Res<Token<'t>> {
        match self.peek().kind {
            Kind::Word | Kind::Str => Ok(self.bump()),
            _ => Err(self.expected(what)),
        }
    }

    /// Takes the word or punctuation `text`, or says it was expected.
    pub fn expect(&mut self, text: &str, after: &str) -> Res<Token<'t>> {
        if self.peek().is(text) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{text}` {after}")))
        }
    }

    /// The end of the statement, or an error naming what is left over.
    pub fn end_of_statement(&mut self, what: &str) -> Res<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.expected(&format!("the end of the {what}")))
        }
    }
}

/// How a token reads in a message.
pub(crate) fn found(token: &Token) -> String {
    match token.kind {
        Kind::Newline => "the end of the line".to_string(),
        Kind::End => "the end of the file".to_string(),
        Kind::Str => format!("\"{}\"", token.text),
        _ => format!("`{}`", token.text),
    }
}

/// Reads a whole ruleset: the top file and what it includes and loads.
pub(crate) fn read(path: &str, text: &str, loader: &IncludeLoader) -> (PfRuleset, Vec<ParseError>) {
    let mut st = State {
        paths: vec![path.to_string()],
        texts: vec![Rc::new(text.to_string())],
        errors: Vec::new(),
        macros: Rc::default(),
        loader,
        included: 0,
        reading: Vec::new(),
        require_order: false,
        section: 0,
    };
    let mut ruleset = PfRuleset::default();
    st.file(0, &mut ruleset, 0);
    checks::queues(&mut st, &ruleset);
    crate::error::say_once(&mut st.errors);
    ruleset.sources = std::mem::take(&mut st.paths)
        .into_iter()
        .zip(std::mem::take(&mut st.texts))
        .map(|(path, text)| Source {
            path,
            text: Rc::try_unwrap(text).unwrap_or_else(|shared| shared.to_string()),
        })
        .collect();
    (ruleset, st.errors)
}

impl State<'_> {
    /// Reads the statements of file `index` into `out`.
    fn file(&mut self, index: usize, out: &mut PfRuleset, depth: usize) {
        let (Some(text), Some(path)) = (self.texts.get(index).cloned(), self.paths.get(index))
        else {
            return;
        };
        let path: Rc<str> = Rc::from(path.as_str());
        let mut c = Cur::new(
            &text,
            u32::try_from(index).unwrap_or(u32::MAX),
            path,
            Rc::clone(&self.macros),
            depth,
        );
        let mut items = std::mem::take(&mut out.items);
        self.reading.push(c.path.to_string());
        statement::ruleset(self, &mut c, out, &mut items, false);
        self.reading.pop();
        out.items = items;
    }

    /// The error for reading `path` again while it is being read, or None.
    pub(crate) fn loop_through(&self, path: &str) -> Option<String> {
        let at = self.reading.iter().position(|p| p == path)?;
        let chain: Vec<&str> = self
            .reading
            .get(at..)
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .chain([path])
            .collect();
        Some(format!("an include loop: {}", chain.join(" -> ")))
    }

    /// Adds a file read through the loader and returns its index.
    fn add_source(&mut self, path: String, text: String) -> usize {
        self.texts.push(Rc::new(text));
        self.paths.push(path);
        self.paths.len() - 1
    }
}
