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

/// Which bytes a word is made of (besides these, any alphanumeric non-ASCII
/// character), looked up per byte: a big ruleset is megabytes of words, and
/// decoding characters or trying combinators for each was most of the cost
/// of reading one.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'_' | b'.' | b'/' | b':' | b'-' | b'*' | b'\\' | b'$' | b'@' | b'%' | b'+' | b'~'
            );
        b += 1;
    }
    table
};

/// Where the run of word characters that starts at `from` ends.
#[inline]
fn word_run(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        while i < bytes.len() && WORD_BYTES[bytes[i] as usize] {
            i += 1;
        }
        // `i` is at a character boundary: it only ever moves by whole characters.
        match bytes.get(i) {
            Some(&b) if b >= 128 => match text[i..].chars().next() {
                Some(c) if c.is_alphanumeric() => i += c.len_utf8(),
                _ => return i,
            },
            _ => return i,
        }
    }
}

/// `punct = "==" | "!=" | "<=" | ">=" | "<<" | ">>" | one of "{}()[];,:.=<>!&|^/-"`:
/// its length.
fn punct(b: &[u8]) -> Option<usize> {
    match (b.first()?, b.get(1)) {
        (b'=' | b'!' | b'<' | b'>', Some(b'=')) | (b'<', Some(b'<')) | (b'>', Some(b'>')) => {
            Some(2)
        }
        (c, _) if b"{}()[];,:.=<>!&|^/-".contains(c) => Some(1),
        _ => None,
    }
}

/// `word = 1*word-char` at `start`, with the colon rules of the module
/// documentation: where it ends, or `None` for a lone `-`, `.`, `:` or `/`
/// (and for no word at all).
#[inline]
fn word(text: &str, start: usize) -> Option<usize> {
    let mut end = word_run(text, start);
    if end == start {
        return None;
    }
    let b = text.as_bytes();
    // Raw payloads `@th,16,16` and indexed fields `sid[1]` are one word.
    if b[start] == b'@' && b.get(end) == Some(&b',') {
        end += b[end..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b','))
            .unwrap_or(b.len() - end);
    } else if b.get(end) == Some(&b'[') {
        let inside = &b[end + 1..];
        if let Some(n) = inside
            .iter()
            .position(|&c| c == b']')
            .filter(|&n| n > 0 && inside[..n].iter().all(u8::is_ascii_digit))
        {
            end += n + 2;
        }
    }
    let w = &b[start..end];
    // A lone `-`, `.`, `:` or `/` between blanks is punctuation.
    if w.len() == 1 && matches!(w[0], b'-' | b'.' | b':' | b'/') {
        return None;
    }
    // `22:` before a blank or `accept`: the colon is the map's, not the word's
    // (`::` ends IPv6 addresses such as `fe80::`).
    if w.len() > 1 && w[w.len() - 1] == b':' && w[w.len() - 2] != b':' {
        end -= 1;
    }
    Some(end)
}

/// Tokens of one file, one at a time, so a big ruleset is never held as
/// a whole token list.
pub struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next token (or blank).
    pos: usize,
    file: u32,
    /// An unclosed quote or a character nft does not know (its byte
    /// offset and the message): it ends the file.
    pub error: Option<(u32, String)>,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str, file: u32) -> Self {
        Lexer {
            text,
            pos: 0,
            file,
            error: None,
        }
    }

    pub fn file(&self) -> u32 {
        self.file
    }

    /// The text between two offsets the scanner found.
    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> &'a str {
        debug_assert!(
            start <= end
                && end <= self.text.len()
                && self.text.is_char_boundary(start)
                && self.text.is_char_boundary(end)
        );
        // SAFETY: every offset the scanner stops at is the end of the text,
        // an ASCII byte (a blank, a quote, punctuation, the bytes of a word
        // but its last character) or the end of a whole character (a word
        // steps over non-ASCII characters whole), so it is in range and on a
        // character boundary. Checking that again for each of the hundreds of
        // thousands of tokens of a big ruleset was a tenth of the lexer.
        #[allow(unsafe_code)]
        unsafe {
            self.text.get_unchecked(start..end)
        }
    }

    #[inline]
    fn token(&mut self, kind: Kind, text: &'a str, start: usize, end: usize) -> Option<Token<'a>> {
        self.pos = end;
        Some(Token {
            kind,
            text,
            start: start as u32,
            end: end as u32,
            file: self.file,
            defined: false,
        })
    }

    fn fail(&mut self, at: usize, message: String) -> Option<Token<'a>> {
        self.pos = self.text.len();
        self.error = Some((at as u32, message));
        None
    }

    /// The next token; `None` at the end of the file or at an error (then in
    /// [`Lexer::error`]). Inlined into the parser's read-ahead loop, where
    /// it runs for every token of a big ruleset.
    #[inline(always)]
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        let text = self.text;
        let bytes = text.as_bytes();
        // Dispatch on the first byte, so each token is tried against one production.
        while let Some(&b) = bytes.get(self.pos) {
            let start = self.pos;
            match b {
                b' ' | b'\t' | b'\r' => {
                    self.pos += 1;
                    while matches!(bytes.get(self.pos), Some(b' ' | b'\t' | b'\r')) {
                        self.pos += 1;
                    }
                }
                b'\n' => {
                    return self.token(
                        Kind::Newline,
                        self.slice(start, start + 1),
                        start,
                        start + 1,
                    );
                }
                b'\\' if bytes[start + 1..].starts_with(b"\n") => self.pos += 2,
                b'\\' if bytes[start + 1..].starts_with(b"\r\n") => self.pos += 3,
                // `comment = "#" *(any but newline)`
                b'#' => {
                    self.pos =
                        memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |n| start + n)
                }
                // `string = '"' *(any but '"') '"'`; strings are short: a byte
                // search beats setting up a memchr.
                b'"' => {
                    return match bytes[start + 1..].iter().position(|&c| c == b'"') {
                        Some(n) => self.token(
                            Kind::Str,
                            self.slice(start + 1, start + 1 + n),
                            start,
                            start + n + 2,
                        ),
                        None => self.fail(
                            start,
                            "a string is not closed, expected `\"` before the end of the file"
                                .into(),
                        ),
                    };
                }
                _ => {
                    if let Some(end) = word(text, start) {
                        return self.token(Kind::Word, self.slice(start, end), start, end);
                    }
                    return match punct(&bytes[start..]) {
                        Some(n) => {
                            self.token(Kind::Punct, self.slice(start, start + n), start, start + n)
                        }
                        None => {
                            let c = text[start..].chars().next().unwrap_or_default();
                            self.fail(
                                start,
                                format!("unexpected character `{}`", c.escape_default()),
                            )
                        }
                    };
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
        out.push(t);
    }
    match lexer.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s, 0)
            .unwrap()
            .into_iter()
            .filter(|t| t.kind != Kind::Newline)
            .map(|t| t.text.to_string())
            .collect()
    }

    #[test]
    fn words_hold_addresses_ranges_and_ports() {
        assert_eq!(
            texts("ip saddr 10.0.0.0/8 tcp dport 1024-65535 accept"),
            [
                "ip",
                "saddr",
                "10.0.0.0/8",
                "tcp",
                "dport",
                "1024-65535",
                "accept"
            ]
        );
        assert_eq!(
            texts("ip6 daddr fe80::/10 dnat to [2001:db8::1]:80"),
            [
                "ip6",
                "daddr",
                "fe80::/10",
                "dnat",
                "to",
                "[",
                "2001:db8::1",
                "]",
                ":80"
            ]
        );
        assert_eq!(
            texts("tcp dport vmap { 22 : accept, 80: drop }"),
            [
                "tcp", "dport", "vmap", "{", "22", ":", "accept", ",", "80", ":", "drop", "}"
            ]
        );
        assert_eq!(
            texts("ip saddr . tcp dport { 1.2.3.4 . 22 }"),
            [
                "ip", "saddr", ".", "tcp", "dport", "{", "1.2.3.4", ".", "22", "}"
            ]
        );
        assert_eq!(
            texts("ct state established,related counter # done"),
            ["ct", "state", "established", ",", "related", "counter"]
        );
        assert_eq!(
            texts("iifname \"eth*\" priority filter - 10"),
            ["iifname", "eth*", "priority", "filter", "-", "10"]
        );
        assert_eq!(
            texts("tcp flags & (fin|syn) != syn"),
            [
                "tcp", "flags", "&", "(", "fin", "|", "syn", ")", "!=", "syn"
            ]
        );
        assert_eq!(texts("a \\\n b"), ["a", "b"]);
    }

    #[test]
    fn unclosed_strings_are_errors() {
        assert!(tokens("comment \"abc", 0).is_err());
    }
}
