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
        let special = rest.find(['"', '\\'])?;
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

/// [`tokens`] into a buffer the caller reuses from line to line. Tokens
/// without quotes borrow the line; only quoted ones are copied.
pub(crate) fn tokens_into<'a>(line: &'a str, out: &mut Vec<Token<'a>>) -> Result<(), UnclosedQuote> {
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
        while bytes.get(i).is_some_and(|b| !is_blank(*b) && *b != b'"') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            out.push(Token { text: Cow::Borrowed(line.get(offset..i).unwrap_or("")), offset, quoted: false });
            continue;
        }
        // A run of bare words and quoted strings with no blank between.
        let mut text = String::from(line.get(offset..i).unwrap_or(""));
        while let Some(&b) = bytes.get(i).filter(|b| !is_blank(**b)) {
            if b == b'"' {
                let rest = line.get(i + 1..).unwrap_or("");
                let Some(after) = quoted_into(rest, &mut text) else { return Err(UnclosedQuote(i)) };
                i = line.len() - after.len();
            } else {
                let word_start = i;
                while bytes.get(i).is_some_and(|b| !is_blank(*b) && *b != b'"') {
                    i += 1;
                }
                text.push_str(line.get(word_start..i).unwrap_or(""));
            }
        }
        out.push(Token { text: Cow::Owned(text), offset, quoted: true });
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
            ("  -m comment --comment \"a b\"  ", &["-m", "comment", "--comment", "a b"]),
            ("--comment \"say \\\"hi\\\"\"", &["--comment", "say \"hi\""]),
            ("--x=\"a b\"c", &["--x=a bc"]),
            ("", &[]),
        ];
        for (line, want) in cases {
            let got: Vec<String> = tokens(line).unwrap().iter().map(|t| t.text.to_string()).collect();
            assert_eq!(&got, want, "line {line:?}");
        }
    }

    #[test]
    fn token_offsets_point_into_the_line() {
        let t = tokens("-A  INPUT \"x y\"").unwrap();
        assert_eq!(t.iter().map(|t| t.offset).collect::<Vec<_>>(), vec![0, 4, 10]);
        assert!(t[2].quoted && !t[1].quoted);
    }

    #[test]
    fn unclosed_quote_is_an_error_at_the_quote() {
        assert_eq!(tokens("--comment \"oops"), Err(UnclosedQuote(10)));
    }

    #[test]
    fn chain_decl_reads_name_policy_and_counters() {
        assert_eq!(chain_decl(":INPUT DROP [0:0]"), Ok(("", ChainDecl { name: "INPUT", policy: "DROP" })));
        assert_eq!(chain_decl(":user - [12:345]"), Ok(("", ChainDecl { name: "user", policy: "-" })));
        assert_eq!(chain_decl(":X ACCEPT"), Ok(("", ChainDecl { name: "X", policy: "ACCEPT" })));
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
