//! The report layer: one set of values, several renderers. Only this layer
//! writes to standard output.

pub mod findings;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod output;
pub mod sarif;
mod wording;

use crate::policy::check::{InputReport, Status};
use crate::policy::{PolicyCode, PolicyError, PolicyReadError};
use driftwall_parsers::ParseError;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Everything `check` found, for the renderers.
#[derive(Debug, Default, serde::Serialize)]
pub struct CheckReport {
    pub inputs: Vec<InputReport>,
    pub parse_errors: Vec<ParseError>,
    pub policy_errors: Vec<PolicyError>,
    /// Files that could not be read, with the reason.
    pub read_errors: Vec<ReadError>,
    /// Text of the inputs with parse errors, to quote the offending lines.
    #[serde(skip)]
    pub sources: Vec<(String, String)>,
    /// The policies checked with, for the reports that list every requirement.
    #[serde(skip)]
    pub policies: Vec<crate::policy::Policy>,
}

/// A file or policy that could not be read, with why, and the diagnostic
/// code of the problems that have one (`policy::unknown-policy`). The JSON
/// report writes the message alone, as it always has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    pub code: Option<&'static str>,
}

impl ReadError {
    pub fn new(message: impl Into<String>) -> ReadError {
        ReadError {
            message: message.into(),
            code: None,
        }
    }
}

impl From<&PolicyReadError> for ReadError {
    fn from(e: &PolicyReadError) -> ReadError {
        ReadError {
            message: e.to_string(),
            code: e.code().map(PolicyCode::as_str),
        }
    }
}

impl serde::Serialize for ReadError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.message)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub indeterminate: usize,
}

impl CheckReport {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in self.inputs.iter().flat_map(|i| &i.results) {
            match r.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Indeterminate => s.indeterminate += 1,
            }
        }
        s
    }

    /// The exit code ([`EXIT_CODES`]), indeterminate results counting as failures.
    pub fn exit_code(&self) -> u8 {
        self.exit_code_with(false)
    }

    /// 0: every requirement passes; 1: one fails, or is indeterminate
    /// unless `allow_indeterminate`; 2: an input or usage error (which wins
    /// over 1).
    pub fn exit_code_with(&self, allow_indeterminate: bool) -> u8 {
        if !self.parse_errors.is_empty()
            || !self.policy_errors.is_empty()
            || !self.read_errors.is_empty()
        {
            return 2;
        }
        let s = self.summary();
        if s.fail > 0 || (s.indeterminate > 0 && !allow_indeterminate) {
            1
        } else {
            0
        }
    }
}

/// Writes a rendered report to standard output.
pub fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Writes diagnostics meant for people to standard error.
pub fn emit_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_problem_shows_its_code_in_every_report() {
        let text = "policy: p\nrequirements:\n  - id: x\n    expect: maybe\n    direction: inbound\n    protocol: tcp\n    ports: [22]\n";
        let errs = crate::policy::load_str("bad.yaml", text).unwrap_err();
        let rep = CheckReport {
            policy_errors: errs,
            sources: vec![("bad.yaml".into(), text.into())],
            ..CheckReport::default()
        };
        let human = human::check(&rep);
        assert!(human.contains("error[policy::bad-value]"), "{human}");
        let f = findings::of_check(&rep, false);
        let sarif = sarif::render(&f);
        assert!(sarif.contains("\"code\": \"policy::bad-value\""), "{sarif}");
        assert!(sarif.contains("\"ruleId\": \"driftwall/policy-error\""));
        let junit = junit::render(&f);
        assert!(junit.contains("type=\"policy::bad-value\""), "{junit}");
        let github = github::render(&f);
        assert!(
            github
                .starts_with("::error file=bad.yaml,line=4,col=13,title=policy%3A%3Abad-value%3A "),
            "{github}"
        );
    }

    #[test]
    fn an_unknown_shipped_policy_shows_its_code() {
        let l = crate::policy::load_all(&["apple:nope".to_string()], &Default::default());
        let rep = CheckReport {
            read_errors: l.unreadable.iter().map(ReadError::from).collect(),
            ..CheckReport::default()
        };
        assert!(
            human::check(&rep)
                .starts_with("error[policy::unknown-policy]: no shipped policy `apple:nope`")
        );
        let f = findings::of_check(&rep, false);
        assert!(junit::render(&f).contains("type=\"policy::unknown-policy\""));
        // The JSON report keeps its shape: read errors are strings.
        assert!(json::check(&rep, false).contains("\"no shipped policy `apple:nope`"));
    }
}
