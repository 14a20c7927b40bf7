//! Tokens of pf.conf, scanned as pfctl's `yylex` scans them.
//!
//! A word runs over what pfctl's `allowed_in_string` allows (letters,
//! digits and punctuation other than `( ) { } < > ! = / # ,`), so
//! `10.0.0.0/8` is three tokens and `em0:network`, `1024:65535` and
//! `50%` are one each. `$name` at the start of a token is a macro: its
//! value is read in its place, character by character as pfctl pushes it
//! back into its input, so a word may run on past the value's end
//! (`$ext_if:network`). A value is not expanded again inside itself.

use std::borrow::Cow;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name, number, address or other unquoted string.
    Word,
    /// A quoted string; `text` is without the quotes.
    Str,
    /// `{ } ( ) < > ! = / , -` and the pairs `<= >= != <> >< ->`.
    Punct,
    /// The end of a line: the end of a statement.
    Newline,
    /// Something the lexer refuses (an undefined macro, an unterminated
    /// string); `text` says what.
    Bad,
    /// The end of the file.
    End,
}

/// One token; its text borrows the file unless a macro or an escape made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: Cow<'a, str>,
    /// Byte range in the file: for a token out of a macro, the `$name`.
    pub start: u32,
    pub end: u32,
}

impl Token<'_> {
    /// Whether this is the unquoted word or punctuation `text`.
    #[inline]
    pub fn is(&self, text: &str) -> bool {
        matches!(self.kind, Kind::Word | Kind::Punct) && self.text == text
    }
}

/// pfctl's `allowed_in_string`, per byte; bytes above ASCII are allowed so a
/// stray UTF-8 name is one word rather than a run of errors.
const IN_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c >= 128
            || c.is_ascii_alphanumeric()
            || (c.is_ascii_punctuation()
                && !matches!(
                    c,
                    b'(' | b')'
                        | b'{'
                        | b'}'
                        | b'<'
                        | b'>'
                        | b'!'
                        | b'='
                        | b'/'
                        | b'#'
                        | b','
                        | b'\\'
                ));
        b += 1;
    }
    table
};

/// Whether a word may start with this byte (pfctl: alphanumeric, `:`, `_`).
fn starts_word(b: u8) -> bool {
    b >= 128 || b.is_ascii_alphanumeric() || b == b':' || b == b'_'
}

/// A macro value being read in place of its `$name`.
struct Expansion {
    value: Rc<str>,
    at: usize,
    start: u32,
    end: u32,
}

pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    expansion: Option<Expansion>,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            pos: 0,
            expansion: None,
        }
    }

    /// Where the file's reading is.
    pub fn offset(&self) -> u32 {
        to_u32(self.pos)
    }

    /// The next token; `macro_value` looks a macro up by name.
    pub fn next(&mut self, macro_value: &dyn Fn(&str) -> Option<Rc<str>>) -> Token<'a> {
        loop {
            if let Some(exp) = &mut self.expansion {
                let bytes = exp.value.as_bytes();
                while exp.at < bytes.len() && matches!(bytes[exp.at], b' ' | b'\t' | b'\n') {
                    exp.at += 1;
                }
                if exp.at >= bytes.len() {
                    self.expansion = None;
                    continue;
                }
                return self.expanded();
            }
            let bytes = self.text.as_bytes();
            // Blanks, and `\` before a newline, which joins the lines.
            while let Some(&b) = bytes.get(self.pos) {
                if b == b' ' || b == b'\t' || b == b'\r' {
                    self.pos += 1;
                } else if b == b'\\' && bytes.get(self.pos + 1) == Some(&b'\n') {
                    self.pos += 2;
                } else if b == b'\\'
                    && bytes.get(self.pos + 1) == Some(&b'\r')
                    && bytes.get(self.pos + 2) == Some(&b'\n')
                {
                    self.pos += 3;
                } else if b == b'\\' && bytes.get(self.pos + 1).is_some() {
                    // pfctl's `lgetc` drops a `\` before any other character
                    // (`\ # comment` is a comment), so a `\` is never a token.
                    self.pos += 1;
                } else {
                    break;
                }
            }
            let start = self.pos;
            let Some(&b) = bytes.get(start) else {
                return self.token(Kind::End, start, start);
            };
            match b {
                b'#' => {
                    self.pos =
                        memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                }
                b'\n' => {
                    self.pos += 1;
                    return self.token(Kind::Newline, start, start + 1);
                }
                b'$' => {
                    let mut end = start + 1;
                    while bytes
                        .get(end)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        end += 1;
                    }
                    self.pos = end;
                    let name = &self.text[start + 1..end];
                    match macro_value(name) {
                        Some(value) => {
                            self.expansion = Some(Expansion {
                                value,
                                at: 0,
                                start: to_u32(start),
                                end: to_u32(end),
                            });
                        }
                        None => {
                            return Token {
                                kind: Kind::Bad,
                                text: Cow::Owned(format!("macro `{name}` is not defined")),
                                start: to_u32(start),
                                end: to_u32(end),
                            };
                        }
                    }
                }
                b'"' | b'\'' => return self.quoted(b),
                _ if starts_word(b) => {
                    let end = self.word_end(start);
                    self.pos = end;
                    return self.token(Kind::Word, start, end);
                }
                _ => {
                    let len = punct_len(&bytes[start..]);
                    self.pos = start + len;
                    return self.token(Kind::Punct, start, start + len);
                }
            }
        }
    }

    fn token(&self, kind: Kind, start: usize, end: usize) -> Token<'a> {
        Token {
            kind,
            text: Cow::Borrowed(self.text.get(start..end).unwrap_or("")),
            start: to_u32(start),
            end: to_u32(end),
        }
    }

    /// Where a word that starts at `from` ends: at a byte pfctl does not
    /// allow in a string, or at a `\` that joins lines.
    fn word_end(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = from;
        while let Some(&c) = bytes.get(i) {
            if !IN_WORD[c as usize] {
                break;
            }
            i += 1;
        }
        while !self.text.is_char_boundary(i) {
            i += 1;
        }
        i
    }

    /// A quoted string: to the same quote, `\` escaping it; a `\` before a
    /// newline joins the lines. pfctl takes newlines inside quotes, so a macro
    /// may hold a list written over several lines.
    fn quoted(&mut self, quote: u8) -> Token<'a> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start + 1;
        let mut escaped = false;
        while let Some(&c) = bytes.get(i) {
            if c == quote {
                self.pos = i + 1;
                let inner = &self.text[start + 1..i];
                let text = if escaped {
                    Cow::Owned(unescape(inner, quote))
                } else {
                    Cow::Borrowed(inner)
                };
                return Token {
                    kind: Kind::Str,
                    text,
                    start: to_u32(start),
                    end: to_u32(i + 1),
                };
            }
            if c == b'\\' {
                escaped = true;
                i += 1;
            }
            i += 1;
        }
        self.pos = i.min(bytes.len());
        Token {
            kind: Kind::Bad,
            text: Cow::Borrowed("unterminated quoted string: add the closing quote"),
            start: to_u32(start),
            end: to_u32(self.pos),
        }
    }

    /// The next token of the macro value being read; a word at the value's
    /// end runs on into the file.
    fn expanded(&mut self) -> Token<'a> {
        let Some(exp) = &mut self.expansion else {
            return self.token(Kind::End, self.pos, self.pos);
        };
        let value = Rc::clone(&exp.value);
        let bytes = value.as_bytes();
        let from = exp.at;
        let (start, end) = (exp.start, exp.end);
        let b = bytes[from];
        let (kind, text, to) = if b == b'"' || b == b'\'' {
            match value[from + 1..].find(b as char) {
                Some(i) => (
                    Kind::Str,
                    value[from + 1..from + 1 + i].to_string(),
                    from + i + 2,
                ),
                None => (Kind::Str, value[from + 1..].to_string(), bytes.len()),
            }
        } else if starts_word(b) {
            let mut i = from;
            while i < bytes.len() && IN_WORD[bytes[i] as usize] {
                i += 1;
            }
            while !value.is_char_boundary(i) {
                i += 1;
            }
            (Kind::Word, value[from..i].to_string(), i)
        } else {
            let len = punct_len(&bytes[from..]);
            (Kind::Punct, value[from..from + len].to_string(), from + len)
        };
        exp.at = to;
        let mut token = Token {
            kind,
            text: Cow::Owned(text),
            start,
            end,
        };
        if kind == Kind::Word && to >= bytes.len() {
            // The word goes on in the file, as pfctl reads it.
            self.expansion = None;
            let tail_end = self.word_end(self.pos);
            if tail_end > self.pos {
                token.text.to_mut().push_str(&self.text[self.pos..tail_end]);
                token.end = to_u32(tail_end);
                self.pos = tail_end;
            }
        }
        token
    }
}

/// How long the punctuation token at the start of `rest` is.
fn punct_len(rest: &[u8]) -> usize {
    match rest {
        [b'<', b'=' | b'>', ..] | [b'>', b'=' | b'<', ..] | [b'!', b'=', ..] | [b'-', b'>', ..] => {
            2
        }
        // One character: its length from its first byte, so the rest of
        // the file is not looked at (decoding it made a parse quadratic).
        [b, ..] if *b >= 0xF0 => 4.min(rest.len()),
        [b, ..] if *b >= 0xE0 => 3.min(rest.len()),
        [b, ..] if *b >= 0xC0 => 2.min(rest.len()),
        _ => 1,
    }
}

fn unescape(inner: &str, quote: u8) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n) if n == quote as char || n == '\\' => {
                    out.push(n);
                    chars.next();
                }
                Some('\n') => {
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str, macros: &[(&str, &str)]) -> Vec<(Kind, String)> {
        let mut lexer = Lexer::new(text);
        let lookup = |name: &str| {
            macros
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| Rc::from(*v))
        };
        let mut out = Vec::new();
        loop {
            let t = lexer.next(&lookup);
            if t.kind == Kind::End {
                return out;
            }
            out.push((t.kind, t.text.into_owned()));
        }
    }

    fn words(text: &str, macros: &[(&str, &str)]) -> Vec<String> {
        lex(text, macros).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn tokens_split_where_pfctl_splits() {
        let cases: &[(&str, &[&str])] = &[
            ("10.0.0.0/8", &["10.0.0.0", "/", "8"]),
            ("port 1024:65535", &["port", "1024:65535"]),
            ("flags S/SA", &["flags", "S", "/", "SA"]),
            ("<bad>", &["<", "bad", ">"]),
            ("port 1<>2 3><4", &["port", "1", "<>", "2", "3", "><", "4"]),
            (
                "port != 80 <= 3 >= 4",
                &["port", "!=", "80", "<=", "3", ">=", "4"],
            ),
            ("-> 1.2.3.4 a - b", &["->", "1.2.3.4", "a", "-", "b"]),
            ("{a,b}", &["{", "a", ",", "b", "}"]),
            ("probability 50%", &["probability", "50%"]),
            ("pass # a comment\nblock", &["pass", "\n", "block"]),
            ("pass \\\n in", &["pass", "in"]),
            ("a \\ # comment\nb", &["a", "\n", "b"]),
            ("label \"a \\\" b\"", &["label", "a \" b"]),
            ("(em0:network)", &["(", "em0:network", ")"]),
        ];
        for (text, want) in cases {
            assert_eq!(words(text, &[]), *want, "{text:?}");
        }
    }

    #[test]
    fn macros_are_read_in_place() {
        let m = [("if", "em0"), ("ports", "{ 22 80 }"), ("q", "\"x y\"")];
        let cases: &[(&str, &[&str])] = &[
            ("on $if", &["on", "em0"]),
            ("($if:network)", &["(", "em0:network", ")"]),
            ("port $ports", &["port", "{", "22", "80", "}"]),
            ("label $q", &["label", "x y"]),
        ];
        for (text, want) in cases {
            assert_eq!(words(text, &m), *want, "{text:?}");
        }
        assert_eq!(lex("$nope", &m)[0].0, Kind::Bad);
    }

    #[test]
    fn an_unterminated_string_is_refused_and_newlines_are_kept_in_strings() {
        assert_eq!(lex("label \"abc\npass", &[])[1].0, Kind::Bad);
        assert_eq!(lex("x = \"{\n a\n}\"", &[])[2].0, Kind::Str);
    }
}
