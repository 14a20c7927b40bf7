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
