//! JUnit XML, as GitLab, Jenkins and most CI systems read it: one test
//! suite per policy and input file, one test case per requirement. A
//! failing requirement is a `<failure>` with the witness and the rule
//! behind it; an indeterminate one is a failure too, or `<skipped>` with
//! `--allow-indeterminate`; files that cannot be read, parsed or used as a
//! policy are `<error>`s.

use super::findings::{Case, Findings};
use crate::policy::check::Status;

/// Text for XML attributes and content: the five special characters
/// escaped, and the characters XML 1.0 cannot carry at all left out.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Attribute values keep their line breaks only as references.
fn attr(s: &str) -> String {
    escape(s).replace('\n', "&#10;")
}

struct Suite<'a> {
    name: String,
    policy: &'a str,
    input: &'a str,
    cases: Vec<&'a Case>,
}

/// An indeterminate result that `--allow-indeterminate` lets pass is
/// shown as skipped: it is not a pass either.
fn skipped(c: &Case) -> bool {
    !c.failed && c.before.is_none() && c.status == Status::Indeterminate
}

fn case_xml(f: &Findings, c: &Case) -> String {
    let name = if c.title.is_empty() {
        c.requirement.clone()
    } else {
        format!("{}: {}", c.requirement, c.title)
    };
    let mut out = format!(
        "    <testcase name=\"{}\" classname=\"driftwall.{}\" file=\"{}\"",
        attr(&name),
        attr(&c.policy),
        attr(&c.input)
    );
    let finding = c.finding.and_then(|i| f.findings.get(i));
    let body = || {
        let mut text = finding
            .map(|x| x.message.clone())
            .unwrap_or_else(|| c.details.clone());
        if let Some(loc) = finding
            .and_then(|x| x.location.as_ref())
            .filter(|l| l.line > 0)
        {
            text = format!("at {}:{}:{}\n{text}", loc.file, loc.line, loc.column);
        }
        text
    };
    let title = finding.map(|x| x.title.clone()).unwrap_or_default();
    let before = c
        .before
        .map(|b| format!(" (was {})", b.name()))
        .unwrap_or_default();
    if c.failed {
        out.push_str(&format!(
            ">\n      <failure message=\"{}\" type=\"{}{before}\">{}</failure>\n    </testcase>\n",
            attr(&title),
            c.status.name(),
            escape(&body())
        ));
    } else if skipped(c) {
        out.push_str(&format!(
            ">\n      <skipped message=\"indeterminate, allowed: {}\" />\n    </testcase>\n",
            attr(&title)
        ));
    } else {
        out.push_str(" />\n");
    }
    out
}

pub fn render(f: &Findings) -> String {
    // Suites in the order of the inputs, then of the policies.
    let mut suites: Vec<Suite> = Vec::new();
    for c in &f.cases {
        match suites
            .iter_mut()
            .find(|s| s.policy == c.policy && s.input == c.input)
        {
            Some(s) => s.cases.push(c),
            None => suites.push(Suite {
                name: format!("{} @ {}", c.policy, c.input),
                policy: &c.policy,
                input: &c.input,
                cases: vec![c],
            }),
        }
    }
    // Files and policies that could not be used: one error case each.
    let problems: Vec<_> = f
        .findings
        .iter()
        .filter(|x| {
            matches!(
                x.rule.as_str(),
                "driftwall/parse-error" | "driftwall/policy-error" | "driftwall/read-error"
            )
        })
        .collect();
    let tests = f.cases.len() + problems.len();
    let failures = f.cases.iter().filter(|c| c.failed).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"driftwall {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{}\">\n",
        f.command,
        problems.len(),
        f.cases.iter().filter(|c| skipped(c)).count()
    );
    for s in &suites {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">\n",
            attr(&s.name),
            s.cases.len(),
            s.cases.iter().filter(|c| c.failed).count(),
            s.cases.iter().filter(|c| skipped(c)).count()
        ));
        for c in &s.cases {
            out.push_str(&case_xml(f, c));
        }
        out.push_str("  </testsuite>\n");
    }
    if !problems.is_empty() {
        out.push_str(&format!("  <testsuite name=\"driftwall inputs\" tests=\"{0}\" failures=\"0\" errors=\"{0}\" skipped=\"0\">\n", problems.len()));
        for p in problems {
            let file = p
                .location
                .as_ref()
                .map(|l| l.file.clone())
                .unwrap_or_default();
            let kind = p.rule.trim_start_matches("driftwall/");
            out.push_str(&format!(
                "    <testcase name=\"{kind}: {}\" classname=\"driftwall.inputs\" file=\"{}\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n",
                attr(&file),
                attr(&file),
                attr(&p.title),
                attr(p.code.unwrap_or(kind)),
                escape(&p.message)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("bell\u{7} tab\t"), "bell tab\t");
    }
}
