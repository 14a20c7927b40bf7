//! GitHub Actions: one workflow command per finding, which GitHub shows on
//! the line in the pull request, and a Markdown summary of every
//! requirement for `$GITHUB_STEP_SUMMARY`.

use super::findings::{Findings, Level};
use crate::policy::check::Status;

/// The message of a workflow command: `%`, CR and LF are its escapes.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value also escapes the `:` and `,` that separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(f: &Findings) -> String {
    let mut out = String::new();
    for x in &f.findings {
        let command = match x.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = x
            .location
            .as_ref()
            .filter(|l| !l.file.starts_with("apple:"))
        {
            props.push(format!(
                "file={}",
                property(loc.file.trim_start_matches("./"))
            ));
            if loc.line > 0 {
                props.push(format!("line={}", loc.line));
                if loc.column > 0 {
                    props.push(format!("col={}", loc.column));
                }
            }
        }
        // Requirement findings name their requirement first already.
        let title = if x.title.starts_with(&x.rule) {
            x.title.clone()
        } else {
            format!("{}: {}", x.code.unwrap_or(&x.rule), x.title)
        };
        props.push(format!("title={}", property(&title)));
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            data(&x.message)
        ));
    }
    out
}

/// A cell of a Markdown table: no line breaks, no column separators.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The Markdown summary: counts, then a table of every requirement and
/// input with its result, and the problems of the inputs.
pub fn summary(f: &Findings, allow_indeterminate: bool) -> String {
    let count = |s: Status| f.cases.iter().filter(|c| c.status == s).count();
    let mut out = format!("## driftwall {}\n\n", f.command);
    out.push_str(&format!(
        "{} requirement results: {} passed, {} failed, {} indeterminate{}.\n\n",
        f.cases.len(),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Indeterminate),
        if allow_indeterminate {
            " (allowed)"
        } else {
            ""
        }
    ));
    let problems: Vec<_> = f
        .findings
        .iter()
        .filter(|x| x.rule.starts_with("driftwall/") && x.level == Level::Error)
        .collect();
    if !problems.is_empty() {
        out.push_str("| problem | where |\n|---|---|\n");
        for p in problems {
            let at = p
                .location
                .as_ref()
                .map(|l| format!("`{}:{}:{}`", l.file, l.line, l.column))
                .unwrap_or_default();
            out.push_str(&format!("| {} | {} |\n", cell(&p.title), at));
        }
        out.push('\n');
    }
    if f.cases.is_empty() {
        return out;
    }
    let diff = f.command == "diff";
    out.push_str(if diff {
        "| requirement | file | before | after | rule |\n|---|---|---|---|---|\n"
    } else {
        "| requirement | file | result | rule |\n|---|---|---|---|\n"
    });
    for c in &f.cases {
        let mark = |s: Status| match s {
            Status::Pass => "pass".to_string(),
            Status::Indeterminate if allow_indeterminate => "indeterminate (allowed)".to_string(),
            s => format!("**{}**", s.mark()),
        };
        let finding = c.finding.and_then(|i| f.findings.get(i));
        let rule = finding
            .and_then(|x| x.location.as_ref())
            .filter(|l| l.line > 0)
            .map(|l| format!("`{}:{}`", l.file, l.line))
            .unwrap_or_default();
        let name = if c.title.is_empty() {
            format!("`{}/{}`", c.policy, c.requirement)
        } else {
            format!("`{}/{}` {}", c.policy, c.requirement, cell(&c.title))
        };
        if diff {
            let before = c.before.unwrap_or(c.status);
            let after = if finding.is_some() || before != c.status {
                mark(c.status)
            } else {
                "unchanged".into()
            };
            out.push_str(&format!(
                "| {name} | `{}` | {} | {after} | {rule} |\n",
                c.input,
                mark(before)
            ));
        } else {
            out.push_str(&format!(
                "| {name} | `{}` | {} | {rule} |\n",
                c.input,
                mark(c.status)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
