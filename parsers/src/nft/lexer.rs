//! Tokens of the nft language, one nom production per kind.
//!
//! nft's own scanner is context-sensitive (an IPv6 address, a MAC address
//! and `22 : accept` all use colons); these productions read what both
//! `nft list ruleset` and people write: a word runs over the characters of
//! names, numbers, addresses, prefixes and ranges, and a colon belongs to it
//! only where it is part of an address or a `:port`.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{is_not, tag, take_while1},
    character::complete::char,
    combinator::{recognize, value},
    sequence::{delimited, preceded},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name, number, address, prefix, range, `$variable` or `@set`.
    Word,
    /// A double-quoted string; `text` is without the quotes.
    Str,
    /// Punctuation and operators: `{ } ( ) [ ] ; , : . = == != < > <= >= ! & | ^ / -`.
    Punct,
    /// The end of a line: ends a statement outside braces.
    Newline,
}

/// A token borrows its text from the source, so reading a big ruleset
/// allocates nothing per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte range in the file.
    pub start: u32,
    pub end: u32,
    /// Index of the file among the ruleset's sources.
    pub file: u32,
    /// Came from a `define`: its place is the definition's, not the use's.
    pub defined: bool,
}

impl Token<'_> {
    pub fn is(&self, text: &str) -> bool {
        self.kind != Kind::Str && self.text == text
    }
}

fn word_char(c: char) -> bool {
    // ASCII first: rulesets are nearly all ASCII.
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '-' | '*' | '\\' | '$' | '@' | '%' | '+' | '~') || (!c.is_ascii() && c.is_alphanumeric())
}

/// `comment = "#" *(any but newline)`
fn comment(i: &str) -> IResult<&str, ()> {
    value((), preceded(char('#'), nom::combinator::opt(is_not("\n")))).parse(i)
}

/// `string = '"' *(any but '"') '"'`
fn string(i: &str) -> IResult<&str, &str> {
    delimited(char('"'), recognize(nom::combinator::opt(is_not("\""))), char('"')).parse(i)
}

/// `punct = "==" | "!=" | "<=" | ">=" | one of "{}()[];,:.=<>!&|^/-"`
fn punct(i: &str) -> IResult<&str, &str> {
    alt((tag("=="), tag("!="), tag("<="), tag(">="), tag("<<"), tag(">>"), recognize(nom::character::complete::one_of("{}()[];,:.=<>!&|^/-")))).parse(i)
}

/// `word = 1*word-char`, with the colon rules of the module documentation.
fn word(i: &str) -> IResult<&str, &str> {
    // A lone `-`, `.`, `:` or `/` between blanks is punctuation.
    let (mut rest, mut w) = take_while1(word_char).parse(i)?;
    // Raw payloads `@th,16,16` and indexed fields `sid[1]` are one word.
    if w.starts_with('@') && rest.starts_with(',') {
        let extra = rest.find(|c: char| !(c.is_ascii_digit() || c == ',')).unwrap_or(rest.len());
        w = &i[..w.len() + extra];
        rest = &rest[extra..];
    } else if let Some(close) = rest.strip_prefix('[').and_then(|r| r.find(']').filter(|&n| n > 0 && r[..n].bytes().all(|b| b.is_ascii_digit()))) {
        w = &i[..w.len() + close + 2];
        rest = &rest[close + 2..];
    }
    if w.len() == 1 && matches!(w, "-" | "." | ":" | "/") {
        return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::TakeWhile1)));
    }
    // `22:` before a blank or `accept`: the colon is the map's, not the word's
    // (`::` ends IPv6 addresses such as `fe80::`).
    if w.len() > 1 && w.ends_with(':') && !w.ends_with("::") {
        let cut = w.len() - 1;
        return Ok((&i[cut..], &w[..cut]));
    }
    Ok((rest, w))
}

/// Tokens of one file, one at a time, so a big ruleset is never held as
/// a whole token list.
pub struct Lexer<'a> {
    text: &'a str,
    rest: &'a str,
    file: u32,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str, file: u32) -> Self {
        Lexer { text, rest: text, file }
    }

    pub fn file(&self) -> u32 {
        self.file
    }

    fn at(&self, rest: &str) -> u32 {
        (self.text.len() - rest.len()) as u32
    }

    /// The next token; an error is the byte offset of an unclosed quote or
    /// a character nft does not know, and ends the file.
    pub fn next_token(&mut self) -> Option<Result<Token<'a>, (u32, String)>> {
        // Dispatch on the first character, so each token is tried against one production.
        while let Some(c) = self.rest.chars().next() {
            let rest = self.rest;
            let start = self.at(rest);
            let token = |kind: Kind, text: &'a str, end: u32| Token { kind, text, start, end, file: self.file, defined: false };
            match c {
                ' ' | '\t' | '\r' => self.rest = rest.trim_start_matches([' ', '\t', '\r']),
                '\\' if rest.starts_with("\\\n") || rest.starts_with("\\\r\n") => {
                    self.rest = if rest.as_bytes()[1] == b'\n' { &rest[2..] } else { &rest[3..] };
                }
                '#' => self.rest = comment(rest).map(|(r, ())| r).unwrap_or(""),
                '\n' => {
                    self.rest = &rest[1..];
                    return Some(Ok(token(Kind::Newline, &rest[..1], start + 1)));
                }
                '"' => {
                    return Some(match string(rest) {
                        Ok((r, s)) => {
                            self.rest = r;
                            Ok(token(Kind::Str, s, self.at(r)))
                        }
                        Err(_) => {
                            self.rest = "";
                            Err((start, "a string is not closed, expected `\"` before the end of the file".into()))
                        }
                    });
                }
                c => {
                    if word_char(c) {
                        if let Ok((r, w)) = word(rest) {
                            self.rest = r;
                            return Some(Ok(token(Kind::Word, w, self.at(r))));
                        }
                    }
                    return Some(match punct(rest) {
                        Ok((r, p)) => {
                            self.rest = r;
                            Ok(token(Kind::Punct, p, self.at(r)))
                        }
                        Err(_) => {
                            self.rest = "";
                            Err((start, format!("unexpected character `{}`", c.escape_default())))
                        }
                    });
                }
            }
        }
        None
    }
}

/// All the tokens of one file.
pub fn tokens<'a>(text: &'a str, file: u32) -> Result<Vec<Token<'a>>, (u32, String)> {
    let mut lexer = Lexer::new(text, file);
    let mut out = Vec::new();
    while let Some(t) = lexer.next_token() {
        out.push(t?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s, 0).unwrap().into_iter().filter(|t| t.kind != Kind::Newline).map(|t| t.text.to_string()).collect()
    }

    #[test]
    fn words_hold_addresses_ranges_and_ports() {
        assert_eq!(texts("ip saddr 10.0.0.0/8 tcp dport 1024-65535 accept"), ["ip", "saddr", "10.0.0.0/8", "tcp", "dport", "1024-65535", "accept"]);
        assert_eq!(texts("ip6 daddr fe80::/10 dnat to [2001:db8::1]:80"), ["ip6", "daddr", "fe80::/10", "dnat", "to", "[", "2001:db8::1", "]", ":80"]);
        assert_eq!(texts("tcp dport vmap { 22 : accept, 80: drop }"), ["tcp", "dport", "vmap", "{", "22", ":", "accept", ",", "80", ":", "drop", "}"]);
        assert_eq!(texts("ip saddr . tcp dport { 1.2.3.4 . 22 }"), ["ip", "saddr", ".", "tcp", "dport", "{", "1.2.3.4", ".", "22", "}"]);
        assert_eq!(texts("ct state established,related counter # done"), ["ct", "state", "established", ",", "related", "counter"]);
        assert_eq!(texts("iifname \"eth*\" priority filter - 10"), ["iifname", "eth*", "priority", "filter", "-", "10"]);
        assert_eq!(texts("tcp flags & (fin|syn) != syn"), ["tcp", "flags", "&", "(", "fin", "|", "syn", ")", "!=", "syn"]);
        assert_eq!(texts("a \\\n b"), ["a", "b"]);
    }

    #[test]
    fn unclosed_strings_are_errors() {
        assert!(tokens("comment \"abc", 0).is_err());
    }
}
