//! Productions of the iptables-restore line grammar that work on raw text.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_while, take_while1},
    character::complete::{char, digit1, space0, space1},
    combinator::{opt, recognize},
    sequence::{delimited, preceded},
};
use std::borrow::Cow;

/// One argument of a command line, with its byte offset in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: Cow<'a, str>,
    pub offset: usize,
    /// Written in double quotes: never an option, even if it starts with `-`.
    pub quoted: bool,
}

/// `quoted = '"' *(escaped-char | any char but '"') '"'`, as iptables-restore
/// reads it: a backslash escapes the next character inside quotes. `input`
/// starts after the opening quote; the unescaped text is appended to `out`
/// and the rest after the closing quote returned, or `None` if it never closes.
fn quoted_into<'i>(input: &'i str, out: &mut String) -> Option<&'i str> {
    let mut rest = input;
    loop {
        // Copy up to the next quote or backslash in one piece.
        let special = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
        out.push_str(rest.get(..special)?);
        let after = rest.get(special + 1..)?;
        if rest.as_bytes().get(special) == Some(&b'"') {
            return Some(after);
        }
        // A backslash: the next character is taken as it is.
        let escaped = after.chars().next()?;
        out.push(escaped);
        rest = after.get(escaped.len_utf8()..)?;
    }
}

/// Error from [`tokens`]: a quote opened at this byte offset never closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnclosedQuote(pub usize);

/// `line = *blank *(token *blank)`; a token is a quoted string or a bare word,
/// and a bare word glued to a quoted string (`--x="a b"`) is one token.
#[cfg(test)]
pub(crate) fn tokens(line: &str) -> Result<Vec<Token<'_>>, UnclosedQuote> {
    let mut out = Vec::new();
    tokens_into(line, &mut out)?;
    Ok(out)
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A byte that ends a bare word. Most bytes of a line are above `"`, so the
/// first comparison settles them.
fn ends_word(b: u8) -> bool {
    b <= b'"' && (b == b' ' || b == b'\t' || b == b'"')
}

use super::scan::{HIGH, ONES, eight_bytes};

/// Where the bare word starting at `from` ends.
///
/// Lines are mostly words, so they are read eight bytes at a time: every byte
/// that can end a word is below 0x23, and `(x - 0x23..) & !x & 0x80..` flags
/// the bytes of `x` below 0x23, the lowest flag exactly. A flagged byte that
/// ends nothing (`!`, a control character) is stepped over.
fn word_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let x = eight_bytes(chunk);
        let below = x.wrapping_sub(ONES * 0x23) & !x & HIGH;
        if below == 0 {
            i += 8;
            continue;
        }
        let at = i + (below.trailing_zeros() / 8) as usize;
        if bytes.get(at).is_some_and(|b| ends_word(*b)) {
            return at;
        }
        i = at + 1;
    }
    let rest = bytes.get(i..).unwrap_or(&[]);
    i + rest
        .iter()
        .position(|b| ends_word(*b))
        .unwrap_or(rest.len())
}

/// [`tokens`] into a buffer the caller reuses from line to line. Tokens
/// without quotes borrow the line; only quoted ones are copied.
pub(crate) fn tokens_into<'a>(
    line: &'a str,
    out: &mut Vec<Token<'a>>,
) -> Result<(), UnclosedQuote> {
    out.clear();
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        // Blanks and quotes are ASCII, so byte positions found here are
        // always character boundaries.
        while bytes.get(i).copied().is_some_and(is_blank) {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(());
        }
        let offset = i;
        i = word_end(bytes, i);
        if bytes.get(i) != Some(&b'"') {
            out.push(Token {
                text: Cow::Borrowed(line.get(offset..i).unwrap_or("")),
                offset,
                quoted: false,
            });
            continue;
        }
        if i == offset {
            // A quoted string alone, without escapes, borrows the line too.
            let inner = bytes.get(i + 1..).unwrap_or(&[]);
            if let Some(close) = inner.iter().position(|b| *b == b'"' || *b == b'\\')
                && inner.get(close) == Some(&b'"')
                && inner.get(close + 1).is_none_or(|b| is_blank(*b))
            {
                out.push(Token {
                    text: Cow::Borrowed(line.get(i + 1..i + 1 + close).unwrap_or("")),
                    offset,
                    quoted: true,
                });
                i += close + 2;
                continue;
            }
        }
        // A run of bare words and quoted strings with no blank between.
        let mut text = String::from(line.get(offset..i).unwrap_or(""));
        while let Some(&b) = bytes.get(i).filter(|b| !is_blank(**b)) {
            if b == b'"' {
                let rest = line.get(i + 1..).unwrap_or("");
                let Some(after) = quoted_into(rest, &mut text) else {
                    return Err(UnclosedQuote(i));
                };
                i = line.len() - after.len();
            } else {
                let word_start = i;
                i = word_end(bytes, i);
                text.push_str(line.get(word_start..i).unwrap_or(""));
            }
        }
        out.push(Token {
            text: Cow::Owned(text),
            offset,
            quoted: true,
        });
    }
}

/// `counters = '[' digits ':' digits ']'`, as iptables-save -c writes them.
pub(crate) fn counters(input: &str) -> IResult<&str, &str> {
    recognize(delimited(char('['), (digit1, char(':'), digit1), char(']'))).parse(input)
}

/// `table-header = '*' name`
pub(crate) fn table_header(input: &str) -> IResult<&str, &str> {
    preceded(char('*'), take_while1(|c: char| !c.is_whitespace())).parse(input)
}

/// A chain declaration: its name, its policy (`-` for user chains) and where
/// the policy word starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainDecl<'a> {
    pub name: &'a str,
    pub policy: &'a str,
}

/// `chain-decl = ':' name blank policy [blank counters]`
pub(crate) fn chain_decl(input: &str) -> IResult<&str, ChainDecl<'_>> {
    let (rest, (_, name, _, policy, _, _)) = (
        char(':'),
        take_while1(|c: char| !c.is_whitespace()),
        space1,
        take_while1(|c: char| !c.is_whitespace()),
        opt(preceded(space1, counters)),
        space0,
    )
        .parse(input)?;
    Ok((rest, ChainDecl { name, policy }))
}

/// `commit = "COMMIT"`
pub(crate) fn commit(input: &str) -> IResult<&str, &str> {
    let (rest, word) = alt((tag("COMMIT"),)).parse(input)?;
    let (rest, _) = take_while(|c: char| c == ' ' || c == '\t').parse(rest)?;
    Ok((rest, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_blanks_and_keep_quoted_text_whole() {
        let cases: &[(&str, &[&str])] = &[
            ("-A INPUT -j ACCEPT", &["-A", "INPUT", "-j", "ACCEPT"]),
            (
                "  -m comment --comment \"a b\"  ",
                &["-m", "comment", "--comment", "a b"],
            ),
            ("--comment \"say \\\"hi\\\"\"", &["--comment", "say \"hi\""]),
            ("--x=\"a b\"c", &["--x=a bc"]),
            ("", &[]),
        ];
        for (line, want) in cases {
            let got: Vec<String> = tokens(line)
                .unwrap()
                .iter()
                .map(|t| t.text.to_string())
                .collect();
            assert_eq!(&got, want, "line {line:?}");
        }
    }

    #[test]
    fn words_end_at_blanks_and_quotes_wherever_they_fall() {
        // Stops and near-stops (`!` is below 0x23 but ends nothing) at every
        // position of the eight-byte reads, and non-ASCII bytes.
        let filler = "ab!cd\u{1}é-x.y/z,1:2é";
        for stop in [" ", "\t", "\"", ""] {
            for len in 0..filler.len() {
                let Some(word) = filler.get(..len) else {
                    continue;
                };
                let line = format!("{word}{stop}rest");
                let want = line.find([' ', '\t', '"']).unwrap_or(line.len());
                assert_eq!(word_end(line.as_bytes(), 0), want, "{line:?}");
            }
        }
    }

    #[test]
    fn quoted_tokens_borrow_or_copy_the_same_text() {
        let cases: &[(&str, &[&str])] = &[
            ("\"a b\" \"c\"", &["a b", "c"]),
            ("\"a b\"c", &["a bc"]),
            ("x\"a b\"", &["xa b"]),
            ("\"\"", &[""]),
            ("\"a\\\\b\"", &["a\\b"]),
            ("\"é\"\t\"ü\"", &["é", "ü"]),
        ];
        for (line, want) in cases {
            let got = tokens(line).unwrap();
            let texts: Vec<&str> = got.iter().map(|t| t.text.as_ref()).collect();
            assert_eq!(&texts, want, "line {line:?}");
            assert!(got.iter().all(|t| t.quoted), "{line:?}");
        }
    }

    #[test]
    fn token_offsets_point_into_the_line() {
        let t = tokens("-A  INPUT \"x y\"").unwrap();
        assert_eq!(
            t.iter().map(|t| t.offset).collect::<Vec<_>>(),
            vec![0, 4, 10]
        );
        assert!(t[2].quoted && !t[1].quoted);
    }

    #[test]
    fn unclosed_quote_is_an_error_at_the_quote() {
        assert_eq!(tokens("--comment \"oops"), Err(UnclosedQuote(10)));
    }

    #[test]
    fn chain_decl_reads_name_policy_and_counters() {
        assert_eq!(
            chain_decl(":INPUT DROP [0:0]"),
            Ok((
                "",
                ChainDecl {
                    name: "INPUT",
                    policy: "DROP"
                }
            ))
        );
        assert_eq!(
            chain_decl(":user - [12:345]"),
            Ok((
                "",
                ChainDecl {
                    name: "user",
                    policy: "-"
                }
            ))
        );
        assert_eq!(
            chain_decl(":X ACCEPT"),
            Ok((
                "",
                ChainDecl {
                    name: "X",
                    policy: "ACCEPT"
                }
            ))
        );
        assert!(chain_decl(":INPUT").is_err());
    }

    #[test]
    fn table_header_and_counters() {
        assert_eq!(table_header("*filter"), Ok(("", "filter")));
        assert_eq!(counters("[10:20] -A X"), Ok((" -A X", "[10:20]")));
        assert!(counters("[x:1]").is_err());
        assert_eq!(commit("COMMIT  "), Ok(("", "COMMIT")));
    }
}
