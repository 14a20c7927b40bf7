//! Productions of the iptables-restore line grammar that work on raw text.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_while, take_while1},
    character::complete::{char, digit1, space0, space1},
    combinator::{opt, recognize},
    sequence::{delimited, preceded},
};

/// One argument of a command line, with its byte offset in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: std::borrow::Cow<'a, str>,
    pub offset: usize,
    /// Written in double quotes: never an option, even if it starts with `-`.
    pub quoted: bool,
}

/// `word = 1*(any char but blank or '"')`
fn bare_word(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c != ' ' && c != '\t' && c != '"').parse(input)
}

/// `quoted = '"' *(escaped-char | any char but '"') '"'`, as iptables-restore
/// reads it: a backslash escapes the next character inside quotes.
fn quoted(input: &str) -> IResult<&str, std::borrow::Cow<'_, str>> {
    let (rest, _) = char('"').parse(input)?;
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((&rest[i + 1..], std::borrow::Cow::Owned(out)));
        } else {
            out.push(c);
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Char)))
}

/// Error from [`tokens`]: a quote opened at this byte offset never closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnclosedQuote(pub usize);

/// `line = *blank *(token *blank)`; a token is a quoted string or a bare word,
/// and a bare word glued to a quoted string (`--x="a b"`) is one token.
pub(crate) fn tokens(line: &str) -> Result<Vec<Token<'_>>, UnclosedQuote> {
    let mut out = Vec::with_capacity(16);
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Ok(out);
        }
        let offset = line.len() - rest.len();
        let mut pieces: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        let mut quoted_any = false;
        // A token is a run of bare words and quoted strings with no blank between.
        while !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            if rest.starts_with('"') {
                match quoted(rest) {
                    Ok((r, q)) => {
                        pieces.push(q);
                        quoted_any = true;
                        rest = r;
                    }
                    Err(_) => return Err(UnclosedQuote(line.len() - rest.len())),
                }
            } else if let Ok((r, w)) = bare_word(rest) {
                pieces.push(std::borrow::Cow::Borrowed(w));
                rest = r;
            } else {
                break;
            }
        }
        // Joining once keeps a token of many glued pieces linear.
        let text = if pieces.len() == 1 { pieces.pop().unwrap_or_default() } else { std::borrow::Cow::Owned(pieces.concat()) };
        out.push(Token { text, offset, quoted: quoted_any });
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
