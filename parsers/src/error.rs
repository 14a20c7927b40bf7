//! Parse errors: where, what was found, what was expected.

use serde::Serialize;

/// What went wrong, as a stable kebab-case code for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is not any statement of the format.
    Syntax,
    /// An option, module or target the parser does not know.
    UnknownOption,
    /// An option lacks its argument.
    MissingArgument,
    /// A value is malformed or out of range (ports, addresses, prefixes).
    InvalidValue,
    /// A chain or table that does not exist, or is declared twice.
    BadReference,
    /// A command the restore format does not allow (`-D`, `--check`, ...).
    Unsupported,
    /// The input ends inside a block (`COMMIT` missing).
    UnexpectedEnd,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "parse::syntax",
            ErrorKind::UnknownOption => "parse::unknown-option",
            ErrorKind::MissingArgument => "parse::missing-argument",
            ErrorKind::InvalidValue => "parse::invalid-value",
            ErrorKind::BadReference => "parse::bad-reference",
            ErrorKind::Unsupported => "parse::unsupported",
            ErrorKind::UnexpectedEnd => "parse::unexpected-end",
        }
    }
}

/// One problem in an input file. Parsing goes on after it, so a file yields
/// all its errors at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct ParseError {
    pub kind: ErrorKind,
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// Byte range of the offending text within the file.
    pub start: u32,
    pub end: u32,
    /// What was found and what was expected, lowercase, no trailing period.
    pub message: String,
}

/// Keeps the first of errors said alike (same file, place and message),
/// in their order. A file read more than once (an include loop read up to
/// the limit, or a file included from two places) would say each of its
/// errors every time: a 463-byte nft file that included itself twice gave
/// 6,965 errors, a 1 KB pf.conf 57,000.
pub(crate) fn say_once(errors: &mut Vec<ParseError>) {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.path.clone(), e.start, e.end, e.message.clone())));
}

/// A message as long as it needs to be: a value quoted in it (`` `...` ``)
/// longer than a line is cut in the middle, so that a 10 MB port list or
/// comment is not echoed whole into every report that shows the error.
pub fn shorten(message: String) -> String {
    const LONGEST: usize = 120;
    if message.len() <= 2 * LONGEST {
        return message;
    }
    let mut out = String::with_capacity(3 * LONGEST);
    let mut rest = message.as_str();
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find('`') else { break };
        let quoted = &rest[..close];
        if quoted.chars().count() > LONGEST {
            let head: String = quoted.chars().take(LONGEST / 2).collect();
            let tail: String = {
                let t: Vec<char> = quoted.chars().rev().take(LONGEST / 4).collect();
                t.into_iter().rev().collect()
            };
            let cut = quoted.len() - head.len() - tail.len();
            out.push_str(&format!("{head}...({cut} bytes)...{tail}"));
        } else {
            out.push_str(quoted);
        }
        out.push('`');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    // Text outside quotes is the parser's own and short; cut anything left
    // anyway, at a character boundary.
    if out.len() > 8 * LONGEST {
        let mut end = 8 * LONGEST;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod shorten_tests {
    use super::shorten;

    #[test]
    fn long_quoted_values_are_cut_in_the_middle() {
        let list = vec!["1"; 5_000_000].join(",");
        let m = shorten(format!(
            "too many ports in `{list}`, multiport takes at most 15"
        ));
        assert!(m.len() < 300, "{}", m.len());
        assert!(m.starts_with("too many ports in `1,1,1"), "{m}");
        assert!(m.ends_with("`, multiport takes at most 15"), "{m}");
        assert!(m.contains("bytes)..."), "{m}");
        let short = "`80-x` is not a port".to_string();
        assert_eq!(shorten(short.clone()), short);
    }
}
