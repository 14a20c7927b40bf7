//! One module per subcommand: each does its command's work and returns an
//! [`ExitCode`], which only `cli` turns into the process's exit status.

pub mod baseline;
pub mod check;
pub mod diff;
pub mod explain;
pub mod init;
pub mod parse;
pub mod policies;
pub mod probe;
pub mod test_email;
pub mod watch;

use crate::input::{self, Input, InputFormat};
use crate::report;
use crate::report::output::{Destination, ReportFormat};
use std::path::Path;

/// How a command ended, the same for every command (README.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Every requirement passes (diff: the change breaks none).
    Clean = 0,
    /// A requirement fails, or is indeterminate unless allowed (diff: the
    /// change makes a requirement's result worse).
    Failed = 1,
    /// An input or usage error; wins over [`ExitCode::Failed`].
    Error = 2,
}

impl ExitCode {
    /// The exit code the report layer computed (0, 1 or 2, see
    /// `report::CheckReport::exit_code_with`); anything else is an error.
    pub fn from_code(code: u8) -> ExitCode {
        match code {
            0 => ExitCode::Clean,
            1 => ExitCode::Failed,
            _ => ExitCode::Error,
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A firewall file read and parsed without errors; its errors, quoted on
/// standard error, otherwise.
pub(crate) fn load_input(path: &Path, format: InputFormat) -> anyhow::Result<Input> {
    parsed(input::load(path, format)?)
}

/// An input without parse errors; its errors, quoted, otherwise.
pub(crate) fn parsed(input: Input) -> anyhow::Result<Input> {
    if !input.errors.is_empty() {
        report::emit_err(&quoted_errors(&input));
        anyhow::bail!("{}: {} parse error(s)", input.path, input.errors.len());
    }
    Ok(input)
}

/// An input's parse errors, each quoted from its own file (a ufw folder is
/// many), as many per file as `--error-limit` draws.
pub(crate) fn quoted_errors(input: &Input) -> String {
    let source_of = |path: &str| {
        input
            .ruleset
            .sources
            .iter()
            .find(|s| s.path == path)
            .map(|s| s.text.as_str())
    };
    report::human::parse_errors(&input.errors, source_of).join("\n")
}

/// The reports made from findings (the same for `check` and `diff`).
pub(crate) fn render_findings(
    format: ReportFormat,
    findings: &report::findings::Findings,
    allow_indeterminate: bool,
) -> String {
    match format {
        ReportFormat::Sarif => report::sarif::render(findings),
        ReportFormat::Junit => report::junit::render(findings),
        ReportFormat::Github => report::github::render(findings),
        ReportFormat::Markdown | ReportFormat::Human | ReportFormat::Json => {
            report::github::summary(findings, allow_indeterminate)
        }
    }
}

/// Where `check` and `diff` write their reports, and whether indeterminate
/// results fail the run.
#[derive(Debug, Clone)]
pub struct Reports {
    pub destinations: Vec<Destination>,
    pub allow_indeterminate: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(ExitCode::Clean.code(), 0);
        assert_eq!(ExitCode::Failed.code(), 1);
        assert_eq!(ExitCode::Error.code(), 2);
        for code in 0..=3 {
            assert_eq!(ExitCode::from_code(code).code(), code.min(2));
        }
    }
}
