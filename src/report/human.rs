//! rustc-style output for people: the requirement that fails, the witness
//! connection, and the rule behind it, quoted and underlined.

use super::CheckReport;
use super::wording::{culprit_role, headline};
use crate::policy::check::{Failure, RequirementResult, Status};
use crate::policy::{Expect, PolicyError};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use driftwall_parsers::ParseError;

fn renderer() -> Renderer {
    Renderer::plain()
}

/// One source line as a snippet, underlined whole or from `column`.
fn line_snippet<'a>(
    path: &'a str,
    line: u32,
    text: &'a str,
    from_col: usize,
    len: usize,
    label: &'a str,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let start = text
        .char_indices()
        .nth(from_col.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
        .min(text.len());
    let end = (start + len.max(1)).min(text.len()).max(start);
    Snippet::source(text)
        .line_start(line as usize)
        .path(path)
        .annotation(AnnotationKind::Primary.span(start..end).label(label))
}

/// A line longer than this is shown as a window around the place: the
/// renderer lays out every character of a line it shows, and a 20 MB line
/// cost hundreds of megabytes (issue 18).
const LONGEST_LINE: usize = 1024;

/// `text`, or when it is long a window of it around the 1-based character
/// column `col` (and `len` bytes on), marked `...` where cut; with the
/// column in what is returned.
fn window(text: &str, col: usize, len: usize) -> (String, usize) {
    if text.len() <= LONGEST_LINE {
        return (text.to_string(), col);
    }
    let at = text
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let down = |i: usize| text.floor_char_boundary(i);
    let lo = down(at.saturating_sub(LONGEST_LINE / 4));
    // A long token is shown by its start.
    let len = len.clamp(1, LONGEST_LINE / 2);
    let hi = down(at.saturating_add(len).saturating_add(LONGEST_LINE / 2));
    let head = if lo > 0 { "..." } else { "" };
    let tail = if hi < text.len() { "..." } else { "" };
    let shown = format!("{head}{}{tail}", text.get(lo..hi).unwrap_or_default());
    let col = head.len() + text.get(lo..at).map_or(0, |p| p.chars().count()) + 1;
    (shown, col)
}

pub fn parse_error(e: &ParseError, source: Option<&str>) -> String {
    let line_text = source
        .and_then(|s| s.split('\n').nth(e.line.saturating_sub(1) as usize))
        .map(|l| l.trim_end_matches('\r'))
        .unwrap_or("");
    let len = (e.end.saturating_sub(e.start)) as usize;
    let (line_text, column) = window(line_text, e.column as usize, len);
    let line_text = line_text.as_str();
    let title = e.message.to_string();
    let group = Level::ERROR.primary_title(title).id(e.kind.code());
    let report = if line_text.is_empty() {
        vec![group.element(Level::NOTE.message(format!("at {}:{}:{}", e.path, e.line, e.column)))]
    } else {
        vec![group.element(line_snippet(&e.path, e.line, line_text, column, len, ""))]
    };
    renderer().render(&report).to_string()
}

pub fn policy_error(e: &PolicyError, source: Option<&str>) -> String {
    let line_text = source
        .and_then(|s| s.lines().nth(e.line.saturating_sub(1) as usize))
        .unwrap_or("");
    let (line_text, column) = window(line_text, e.column as usize, 0);
    let line_text = line_text.as_str();
    let group = Level::ERROR
        .primary_title(e.message.clone())
        .id(e.code.as_str());
    let report = if line_text.is_empty() {
        vec![group.element(Level::NOTE.message(format!("at {}:{}:{}", e.path, e.line, e.column)))]
    } else {
        let word = line_text
            .chars()
            .skip(column.saturating_sub(1))
            .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ']')
            .count();
        vec![group.element(line_snippet(&e.path, e.line, line_text, column, word, ""))]
    };
    renderer().render(&report).to_string()
}

fn failure(r: &RequirementResult, f: &Failure) -> String {
    let (level, code) = match f.status {
        Status::Indeterminate => (Level::WARNING, "policy::requirement-indeterminate"),
        _ => (Level::ERROR, "policy::requirement-failed"),
    };
    let labels: Vec<String> = f
        .culprits
        .iter()
        .map(|c| culprit_role(c, f.verdict))
        .collect();
    let mut group = Group::with_title(level.primary_title(headline(r, f)).id(code));
    // The first culprit is the one that stopped (or let through) the connection.
    for (i, c) in f.culprits.iter().enumerate() {
        let label = labels[i].as_str();
        let kind = if i == 0 {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        let len = c.text.len();
        group = group.element(
            Snippet::source(c.text.as_str())
                .line_start(c.line as usize)
                .path(c.file.as_str())
                .annotation(kind.span(0..len.max(1).min(len)).label(label)),
        );
    }
    let mut notes = vec![format!("witness: {}", f.witness)];
    if f.pieces > 1 {
        notes.push(format!(
            "{} disjoint parts of the requirement fail this way",
            f.pieces
        ));
    }
    if let Some(reason) = &f.reason {
        notes.push(reason.clone());
    }
    if f.more > 0 {
        notes.push(format!(
            "{} more ways this requirement fails are not shown",
            f.more
        ));
    }
    if !r.used_by.is_empty() {
        notes.push(format!("needed by {}", r.used_by.join(", ")));
    }
    for row in &r.catalog {
        notes.push(format!("Apple's table: {}", row.text));
    }
    notes.push(format!(
        "required by {}:{}:{}",
        r.policy_file, r.policy_line, r.policy_column
    ));
    let mut report: Vec<Group> = vec![group];
    for n in notes {
        report.push(Group::with_title(Level::NOTE.secondary_title(n)));
    }
    renderer().render(&report).to_string()
}

pub fn check(report: &CheckReport) -> String {
    let mut out = String::new();
    for e in &report.read_errors {
        match e.code {
            Some(code) => out.push_str(&format!("error[{code}]: {}\n\n", e.message)),
            None => out.push_str(&format!("error: {}\n\n", e.message)),
        }
    }
    for e in &report.policy_errors {
        let src = report
            .sources
            .iter()
            .find(|(p, _)| *p == e.path)
            .map(|(_, t)| t.as_str());
        out.push_str(&policy_error(e, src));
        out.push_str("\n\n");
    }
    for e in &report.parse_errors {
        let src = report
            .sources
            .iter()
            .find(|(p, _)| *p == e.path)
            .map(|(_, t)| t.as_str());
        out.push_str(&parse_error(e, src));
        out.push_str("\n\n");
    }
    for input in &report.inputs {
        for r in &input.results {
            for f in &r.failures {
                out.push_str(&failure(r, f));
                out.push_str("\n\n");
            }
        }
    }
    for input in &report.inputs {
        let fams: Vec<&str> = input.families.iter().map(|f| f.name()).collect();
        out.push_str(&format!(
            "{}: {} rules ({})\n",
            input.path,
            input.rules,
            fams.join(", ")
        ));
        for n in &input.not_evaluated {
            out.push_str(&format!(
                "  not evaluated {}:{}:{}: {}\n",
                n.file, n.line, n.column, n.what
            ));
        }
        for r in &input.results {
            let mark = r.status.mark();
            let dirs: Vec<String> = r
                .directions
                .iter()
                .map(|d| format!("{d:?}").to_lowercase())
                .collect();
            let expect = match r.expect {
                Expect::Allow => "allow",
                Expect::Deny => "deny",
            };
            out.push_str(&format!(
                "  {mark:<13} {}/{}: {expect} {} {} {}",
                r.policy,
                r.requirement,
                dirs.join("+"),
                r.protocols.join("+"),
                r.ports
            ));
            if !r.not_covered.is_empty() {
                let nc: Vec<&str> = r.not_covered.iter().map(|f| f.name()).collect();
                out.push_str(&format!(" (not covered by this input: {})", nc.join(", ")));
            }
            out.push('\n');
        }
    }
    let s = report.summary();
    out.push_str(&format!(
        "\n{} requirement results: {} passed, {} failed, {} indeterminate\n",
        s.pass + s.fail + s.indeterminate,
        s.pass,
        s.fail,
        s.indeterminate
    ));
    out
}
