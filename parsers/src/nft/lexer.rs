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
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '-' | '*' | '\\' | '$' | '@' | '%' | '+' | '~')
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

/// The tokens of one file; an error is the byte offset of an unclosed quote
/// or a character nft does not know.
pub fn tokens<'a>(text: &'a str, file: u32) -> Result<Vec<Token<'a>>, (u32, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let at = |rest: &str| (text.len() - rest.len()) as u32;
    // Dispatch on the first character, so each token is tried against one production.
    while let Some(c) = rest.chars().next() {
        let start = at(rest);
        let push = |out: &mut Vec<Token<'a>>, kind: Kind, t: &'a str, end: u32| out.push(Token { kind, text: t, start, end, file, defined: false });
        match c {
            ' ' | '\t' | '\r' => rest = rest.trim_start_matches([' ', '\t', '\r']),
            '\\' if rest.starts_with("\\\n") || rest.starts_with("\\\r\n") => {
                rest = if rest.as_bytes()[1] == b'\n' { &rest[2..] } else { &rest[3..] };
            }
            '#' => match comment(rest) {
                Ok((r, ())) => rest = r,
                Err(_) => rest = "",
            },
            '\n' => {
                push(&mut out, Kind::Newline, "\n", start + 1);
                rest = &rest[1..];
            }
            '"' => match string(rest) {
                Ok((r, s)) => {
                    push(&mut out, Kind::Str, s, at(r));
                    rest = r;
                }
                Err(_) => return Err((start, "a string is not closed, expected `\"` before the end of the file".into())),
            },
            c => {
                if word_char(c) {
                    if let Ok((r, w)) = word(rest) {
                        push(&mut out, Kind::Word, w, at(r));
                        rest = r;
                        continue;
                    }
                }
                match punct(rest) {
                    Ok((r, p)) => {
                        push(&mut out, Kind::Punct, p, at(r));
                        rest = r;
                    }
                    Err(_) => return Err((start, format!("unexpected character `{}`", c.escape_default()))),
                }
            }
        }
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
