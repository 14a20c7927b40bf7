//! Tokens of the nft language, one production per kind, scanned over bytes.
//!
//! nft's own scanner is context-sensitive (an IPv6 address, a MAC address
//! and `22 : accept` all use colons); these productions read what both
//! `nft list ruleset` and people write: a word runs over the characters of
//! names, numbers, addresses, prefixes and ranges, and a colon belongs to it
//! only where it is part of an address or a `:port`.

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

/// Which ASCII bytes a word is made of (besides these, any alphanumeric
/// non-ASCII character), looked up per byte: a big ruleset is megabytes of
/// words, and decoding characters or trying combinators for each was most
/// of the cost of reading one.
const WORD_BYTES: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b':' | b'-' | b'*' | b'\\' | b'$' | b'@' | b'%' | b'+' | b'~');
        b += 1;
    }
    table
};

/// The length in bytes of the run of word characters at the start of `s`.
fn word_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 128 {
            if !WORD_BYTES[b as usize] {
                break;
            }
            i += 1;
        } else {
            match s[i..].chars().next() {
                Some(c) if c.is_alphanumeric() => i += c.len_utf8(),
                _ => break,
            }
        }
    }
    i
}

/// `string = '"' *(any but '"') '"'`: the text between the quotes and the rest.
fn string(i: &str) -> Option<(&str, &str)> {
    let body = i.strip_prefix('"')?;
    // Strings are short: a byte search beats setting up a memchr.
    let close = body.bytes().position(|b| b == b'"')?;
    Some((&body[close + 1..], &body[..close]))
}

/// `punct = "==" | "!=" | "<=" | ">=" | "<<" | ">>" | one of "{}()[];,:.=<>!&|^/-"`:
/// its length.
fn punct(i: &str) -> Option<usize> {
    let b = i.as_bytes();
    match (b.first()?, b.get(1)) {
        (b'=' | b'!' | b'<' | b'>', Some(b'=')) | (b'<', Some(b'<')) | (b'>', Some(b'>')) => Some(2),
        (c, _) if b"{}()[];,:.=<>!&|^/-".contains(c) => Some(1),
        _ => None,
    }
}

/// `word = 1*word-char`, with the colon rules of the module documentation:
/// the word and the rest, or `None` for a lone `-`, `.`, `:` or `/`.
fn word(i: &str) -> Option<(&str, &str)> {
    let len = word_len(i);
    if len == 0 {
        return None;
    }
    let (mut w, mut rest) = i.split_at(len);
    // Raw payloads `@th,16,16` and indexed fields `sid[1]` are one word.
    if w.starts_with('@') && rest.starts_with(',') {
        let extra = rest.find(|c: char| !(c.is_ascii_digit() || c == ',')).unwrap_or(rest.len());
        w = &i[..w.len() + extra];
        rest = &rest[extra..];
    } else if let Some(close) = rest.strip_prefix('[').and_then(|r| r.find(']').filter(|&n| n > 0 && r[..n].bytes().all(|b| b.is_ascii_digit()))) {
        w = &i[..w.len() + close + 2];
        rest = &rest[close + 2..];
    }
    // A lone `-`, `.`, `:` or `/` between blanks is punctuation.
    if w.len() == 1 && matches!(w, "-" | "." | ":" | "/") {
        return None;
    }
    // `22:` before a blank or `accept`: the colon is the map's, not the word's
    // (`::` ends IPv6 addresses such as `fe80::`).
    if w.len() > 1 && w.ends_with(':') && !w.ends_with("::") {
        let cut = w.len() - 1;
        return Some((&w[..cut], &i[cut..]));
    }
    Some((w, rest))
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
        // Dispatch on the first byte, so each token is tried against one production.
        while let Some(&b) = self.rest.as_bytes().first() {
            let rest = self.rest;
            let start = self.at(rest);
            let token = |kind: Kind, text: &'a str, end: u32| Token { kind, text, start, end, file: self.file, defined: false };
            match b {
                b' ' | b'\t' | b'\r' => {
                    let blanks = rest.bytes().position(|b| !matches!(b, b' ' | b'\t' | b'\r')).unwrap_or(rest.len());
                    self.rest = &rest[blanks..];
                }
                b'\\' if rest.starts_with("\\\n") || rest.starts_with("\\\r\n") => {
                    self.rest = if rest.as_bytes()[1] == b'\n' { &rest[2..] } else { &rest[3..] };
                }
                // `comment = "#" *(any but newline)`
                b'#' => self.rest = rest.find('\n').map_or("", |n| &rest[n..]),
                b'\n' => {
                    self.rest = &rest[1..];
                    return Some(Ok(token(Kind::Newline, &rest[..1], start + 1)));
                }
                b'"' => {
                    return Some(match string(rest) {
                        Some((r, s)) => {
                            self.rest = r;
                            Ok(token(Kind::Str, s, self.at(r)))
                        }
                        None => {
                            self.rest = "";
                            Err((start, "a string is not closed, expected `\"` before the end of the file".into()))
                        }
                    });
                }
                _ => {
                    if let Some((w, r)) = word(rest) {
                        self.rest = r;
                        return Some(Ok(token(Kind::Word, w, self.at(r))));
                    }
                    return Some(match punct(rest) {
                        Some(n) => {
                            self.rest = &rest[n..];
                            Ok(token(Kind::Punct, &rest[..n], self.at(&rest[n..])))
                        }
                        None => {
                            self.rest = "";
                            let c = rest.chars().next().unwrap_or_default();
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
