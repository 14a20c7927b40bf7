//! rustc-style output for people: the requirement that fails, the witness
//! connection, and the rule behind it, quoted and underlined.

use super::CheckReport;
use super::wording::{culprit_role, headline};
use crate::policy::check::{Failure, RequirementResult, Status};
use crate::policy::{Expect, PolicyError};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use driftwall_parsers::ParseError;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Parse errors drawn per file unless `--error-limit` says otherwise.
static ERROR_LIMIT: AtomicUsize = AtomicUsize::new(crate::input::QUOTED_ERRORS);

/// Sets how many parse errors a file gets drawn (`--error-limit`; 0: all).
pub fn set_error_limit(limit: usize) {
    ERROR_LIMIT.store(limit, Ordering::Relaxed);
}

/// `errors`, each quoted from its file's text (`source_of` its path), at
/// most the error limit of them per file, with a note of how many more a
/// file has. The JSON and SARIF reports list every error.
pub fn parse_errors<'a>(
    errors: &[ParseError],
    source_of: impl Fn(&str) -> Option<&'a str>,
) -> Vec<String> {
    let limit = match ERROR_LIMIT.load(Ordering::Relaxed) {
        0 => usize::MAX,
        n => n,
    };
    // Per file, in the order first met: its lines, and its errors so far.
    let mut files: Vec<(&str, Option<Lines<'a>>, usize)> = Vec::new();
    let mut out = Vec::new();
    for e in errors {
        let i = match files.iter().position(|(p, _, _)| *p == e.path) {
            Some(i) => i,
            None => {
                files.push((&e.path, source_of(&e.path).map(Lines::new), 0));
                files.len() - 1
            }
        };
        let Some((_, lines, count)) = files.get_mut(i) else {
            continue;
        };
        *count += 1;
        if *count <= limit {
            let text = lines.as_ref().map_or("", |l| l.line(e.line));
            out.push(parse_error(e, text));
        }
    }
    for (path, _, count) in files {
        if count > limit {
            let more = count - limit;
            out.push(format!(
                "note: {path}: {more} more parse error{} not shown ({count} in all; \
                 `--error-limit 0` shows every one, and the JSON and SARIF reports list them)",
                if more == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

/// A text's lines by number, found once: quoting each of ten thousand
/// errors by scanning the text from its start was quadratic.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// Line `n` (1-based) without its line break; empty past the end.
    fn line(&self, n: u32) -> &'a str {
        let i = n.saturating_sub(1) as usize;
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&next| next - 1);
        self.text
            .get(start..end)
            .unwrap_or_default()
            .trim_end_matches('\r')
    }
}

/// A parse error, quoting `line_text`, the line it is on.
fn parse_error(e: &ParseError, line_text: &str) -> String {
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
    let (warning, code) = match f.status {
        Status::Indeterminate => (true, "policy::requirement-indeterminate"),
        _ => (false, "policy::requirement-failed"),
    };
    let labels: Vec<String> = f
        .culprits
        .iter()
        .map(|c| culprit_role(c, f.verdict))
        .collect();
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
    let drawn = Drawn {
        warning,
        code,
        title: headline(r, f),
        culprits: f
            .culprits
            .iter()
            .zip(&labels)
            .map(|(c, label)| (c.file.as_str(), c.line, c.text.as_str(), label.as_str()))
            .collect(),
        notes,
    };
    drawn.plain().unwrap_or_else(|| drawn.snippets())
}

/// A failure as it is drawn: its title, the rules behind it (file, line,
/// text, label; the first is the main one) and its notes.
struct Drawn<'a> {
    warning: bool,
    code: &'a str,
    title: String,
    culprits: Vec<(&'a str, u32, &'a str, &'a str)>,
    notes: Vec<String>,
}

/// The longest rule and label drawn by [`Drawn::plain`]: the renderer
/// cuts a line to fit a terminal from about 260 characters of rule and
/// label on, which the hand drawing does not do.
const PLAIN_WIDTH: usize = 200;

impl Drawn<'_> {
    fn snippets(&self) -> String {
        let level = if self.warning {
            Level::WARNING
        } else {
            Level::ERROR
        };
        let mut group = Group::with_title(level.primary_title(self.title.as_str()).id(self.code));
        // The first culprit is the one that stopped (or let through) the connection.
        for (i, (file, line, text, label)) in self.culprits.iter().enumerate() {
            let kind = if i == 0 {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let len = text.len();
            group = group.element(
                Snippet::source(*text)
                    .line_start(*line as usize)
                    .path(*file)
                    .annotation(kind.span(0..len.max(1).min(len)).label(*label)),
            );
        }
        let mut report: Vec<Group> = vec![group];
        for n in &self.notes {
            report.push(Group::with_title(Level::NOTE.secondary_title(n.as_str())));
        }
        renderer().render(&report).to_string()
    }

    /// What [`Drawn::snippets`] draws, drawn by hand, where every text is
    /// printable ASCII and every rule a short line that is not blank at
    /// either end; `None` otherwise. The renderer lays out every character
    /// through a styled buffer: 0.15 ms a failure, a third of a check of
    /// 1,000 rules. The test below holds the two to the same bytes.
    fn plain(&self) -> Option<String> {
        use std::fmt::Write;
        let ascii = |t: &str| t.bytes().all(|b| (b' '..=b'~').contains(&b));
        // Blanks at the ends are left to the renderer, which may trim them.
        let plain = |t: &str| ascii(t) && t.trim() == t;
        let fits = |(file, _, text, label): &(&str, u32, &str, &str)| {
            plain(file)
                && plain(text)
                && plain(label)
                && !text.is_empty()
                && text.len() + label.len() <= PLAIN_WIDTH
        };
        if self.culprits.is_empty()
            || !self.culprits.iter().all(fits)
            || !plain(&self.title)
            || !plain(self.code)
            || !self.notes.iter().all(|n| plain(n))
        {
            return None;
        }
        let w = self
            .culprits
            .iter()
            .map(|c| c.1.to_string().len())
            .max()
            .unwrap_or(1);
        let level = if self.warning { "warning" } else { "error" };
        let mut out = String::with_capacity(256 * (self.culprits.len() + 1));
        let _ = writeln!(out, "{level}[{}]: {}", self.code, self.title);
        for (i, (file, line, text, label)) in self.culprits.iter().enumerate() {
            let (arrow, mark) = if i == 0 { ("-->", "^") } else { (":::", "-") };
            if i > 0 {
                let _ = writeln!(out, "{:w$} |", "");
            }
            let _ = writeln!(out, "{:w$}{arrow} {file}:{line}:1", "");
            let _ = writeln!(out, "{:w$} |", "");
            let _ = writeln!(out, "{line:>w$} | {text}");
            let underline = mark.repeat(text.len());
            if label.is_empty() {
                let _ = writeln!(out, "{:w$} | {underline}", "");
            } else {
                let _ = writeln!(out, "{:w$} | {underline} {label}", "");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "{:w$} |", "");
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out.pop();
        Some(out)
    }
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
    let source_of = |path: &str| {
        report
            .sources
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    };
    for e in parse_errors(&report.parse_errors, source_of) {
        out.push_str(&e);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines found through the index are the lines `str::lines` gives,
    /// with or without a last line break or CR, and nothing past the end.
    #[test]
    fn a_line_by_number_is_the_line_the_text_has() {
        for text in ["", "a", "a\n", "a\r\nb", "a\n\nc\r\n", "\n\n", "x\ny\nz"] {
            let index = Lines::new(text);
            let want: Vec<&str> = text.lines().collect();
            for (i, w) in want.iter().enumerate() {
                assert_eq!(index.line(i as u32 + 1), *w, "{text:?} line {}", i + 1);
            }
            assert_eq!(index.line(want.len() as u32 + 2), "", "{text:?}");
            assert_eq!(
                index.line(0),
                want.first().copied().unwrap_or(""),
                "{text:?}"
            );
        }
    }

    /// Drawn by hand or by the renderer, a failure is the same bytes:
    /// random failures of 1 to 4 rules, at lines of 1 to 7 digits, with
    /// texts and labels up to and past the hand drawing's width, blanks at
    /// their ends, tabs and non-ASCII now and then (which go to the
    /// renderer), and 0 to 5 notes.
    #[test]
    fn a_failure_drawn_by_hand_is_the_renderers_drawing() {
        let mut rnd = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789 -_./:\"{}[],=!"
            .chars()
            .collect();
        let text = |rnd: &mut dyn FnMut(u64) -> u64, len: usize| -> String {
            let mut t: String = (0..len)
                .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                .collect();
            match rnd(40) {
                0 => t.insert(0, ' '),
                1 => t.push(' '),
                2 => t.insert(len / 2, '\t'),
                3 => t.push('é'),
                _ => {}
            }
            t
        };
        let (mut by_hand, mut total) = (0, 0);
        for _ in 0..3000 {
            let n = 1 + rnd(4) as usize;
            let mut owned: Vec<(String, u32, String, String)> = Vec::new();
            for _ in 0..n {
                let line = match rnd(4) {
                    0 => 1 + rnd(9) as u32,
                    1 => 1 + rnd(999) as u32,
                    2 => 1 + rnd(99_999) as u32,
                    _ => 1 + rnd(9_999_999) as u32,
                };
                // Most rules are short; past 260 characters the renderer
                // cuts them (measured), which is why the hand drawing
                // stops at 200.
                let longest = if rnd(4) == 0 { 400 } else { 120 };
                let len = 1 + rnd(longest) as usize;
                let label_len = rnd(60) as usize;
                let t = text(&mut rnd, len);
                let l = text(&mut rnd, label_len).trim().to_string();
                owned.push((format!("/etc/fw/{}.rules", rnd(1000)), line, t, l));
            }
            let notes: Vec<String> = (0..rnd(6))
                .map(|_| {
                    let len = 1 + rnd(80) as usize;
                    text(&mut rnd, len).trim().to_string()
                })
                .filter(|n| !n.is_empty())
                .collect();
            let drawn = Drawn {
                warning: rnd(2) == 0,
                code: "policy::requirement-failed",
                title: text(&mut rnd, 60).trim().to_string(),
                culprits: owned
                    .iter()
                    .map(|(f, l, t, lb)| (f.as_str(), *l, t.as_str(), lb.as_str()))
                    .collect(),
                notes,
            };
            total += 1;
            if let Some(plain) = drawn.plain() {
                by_hand += 1;
                assert_eq!(plain, drawn.snippets(), "drawn by hand differently");
            }
        }
        // The hand drawing must be the common case, or it saves nothing.
        assert!(
            by_hand * 3 > total,
            "only {by_hand} of {total} drawn by hand"
        );
    }
}
