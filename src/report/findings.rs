//! What a CI report says, whatever its format: the requirements checked
//! (the rules of SARIF, the test cases of JUnit), and the findings, each at
//! the line that causes it. `check` and `diff` reports are both brought to
//! this shape, so SARIF, JUnit and GitHub annotations say the same thing
//! about the same lines.

use super::CheckReport;
use super::wording::{culprit_role, headline};
use crate::drift::diff::{DiffReport, RequirementDiff};
use crate::policy::check::{Culprit, Failure, RequirementResult, Status};
use crate::policy::{Expect, Policy, Requirement};
use crate::stable_hash::fnv;

/// A place in a file the user gave us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u32,
    /// 1-based, in characters; 0 when unknown.
    pub column: u32,
    /// The text at the place (a rule), to quote.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// One thing to show at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The id of what it is about: `policy/requirement`, or one of the
    /// [`TOOL_RULES`] for problems of the input.
    pub rule: String,
    pub level: Level,
    /// One line.
    pub title: String,
    /// The whole story, several lines: witness, rules, policy clause.
    pub message: String,
    pub location: Option<Loc>,
    /// Other places involved, each with what it has to do with the finding.
    pub related: Vec<(Loc, String)>,
    /// Stays the same while the finding does, across commits that move lines.
    pub fingerprint: String,
    /// The diagnostic code of a problem of the input (`policy::unknown-key`),
    /// finer than its rule.
    pub code: Option<&'static str>,
}

/// A requirement, as SARIF's rules and the summary table list it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// The catalog rows and products behind the requirement, and where it
    /// is written.
    pub help: Vec<String>,
}

/// The outcome of one requirement against one input (a JUnit test case).
#[derive(Debug, Clone)]
pub struct Case {
    pub policy: String,
    pub requirement: String,
    pub input: String,
    pub title: String,
    /// The requirement's result (after the change, for a diff).
    pub status: Status,
    /// For a diff: the result before the change.
    pub before: Option<Status>,
    /// Whether this case fails the run: a failing result (or an
    /// indeterminate one, unless allowed); for a diff, a result made worse.
    pub failed: bool,
    /// What failed, as text (empty when it passes).
    pub details: String,
    /// The finding that tells this case's failure, if any.
    pub finding: Option<usize>,
}

/// The problems of the input itself, as rules of their own.
pub const TOOL_RULES: &[(&str, &str, &str)] = &[
    (
        "driftwall/parse-error",
        "Firewall file does not parse",
        "A firewall file has a line driftwall cannot read; nothing of that file was checked.",
    ),
    (
        "driftwall/policy-error",
        "Policy file is invalid",
        "A policy file is not valid; no requirement was checked with it.",
    ),
    (
        "driftwall/read-error",
        "File cannot be read",
        "A file named on the command line cannot be read.",
    ),
    (
        "driftwall/not-evaluated",
        "Part of the ruleset is not evaluated",
        "Parts of a ruleset that do not filter the host's IP traffic (nftables bridge, arp and netdev tables, dormant tables) are read but not evaluated.",
    ),
];

/// Everything a CI report renders.
#[derive(Debug, Default)]
pub struct Findings {
    /// `check` or `diff`.
    pub command: &'static str,
    pub requirements: Vec<RuleInfo>,
    pub findings: Vec<Finding>,
    pub cases: Vec<Case>,
    pub exit_code: u8,
}

fn requirement_id(policy: &str, requirement: &str) -> String {
    format!("{policy}/{requirement}")
}

fn rule_info(p: &Policy, r: &Requirement) -> RuleInfo {
    let expect = match r.expect {
        Expect::Allow => "allow",
        Expect::Deny => "deny",
    };
    let dirs: Vec<&str> = r.direction.iter().map(|d| d.name()).collect();
    let what = format!(
        "{expect} {} {} {}",
        dirs.join("+"),
        r.protocol_names().join("+"),
        r.ports_text()
    );
    let mut help = vec![format!("{}/{}: {what}", p.name, r.id)];
    if !r.used_by.is_empty() {
        help.push(format!("Needed by {}.", r.used_by.join(", ")));
    }
    for row in &r.catalog {
        help.push(format!(
            "Apple's table \"TCP and UDP ports used by Apple software products\": {} [{}]",
            row.text, row.id
        ));
    }
    if !p.products.is_empty() {
        help.push(format!(
            "Policy {} covers: {}.",
            p.name,
            p.products.join(", ")
        ));
    }
    help.push(format!(
        "Written at {}:{}:{}.",
        r.place.path, r.place.line, r.place.column
    ));
    RuleInfo {
        id: requirement_id(&p.name, &r.id),
        title: r.title.clone().unwrap_or(what),
        description: r.description.clone(),
        help,
    }
}

fn requirements_of(policies: &[Policy]) -> Vec<RuleInfo> {
    policies
        .iter()
        .flat_map(|p| p.requirements.iter().map(move |r| rule_info(p, r)))
        .collect()
}

fn culprit_loc(c: &Culprit) -> Loc {
    Loc {
        file: c.file.clone(),
        line: c.line,
        column: c.column,
        text: Some(c.text.trim_end().to_string()),
    }
}

/// Rule text as it stays across runs: blanks collapsed, packet counters
/// (`[12:3400]` of iptables-save -c and chain policies) left out.
fn stable_text(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| {
            !(w.starts_with('[')
                && w.ends_with(']')
                && w[1..w.len() - 1]
                    .split(':')
                    .all(|n| n.chars().all(|c| c.is_ascii_digit())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn fingerprint(parts: &[&str]) -> String {
    fnv(parts.join("\0").as_bytes())
}

fn failure_text(f: &Failure) -> String {
    let mut s = format!(
        "witness: {} ({}, {})",
        f.witness,
        format!("{:?}", f.direction).to_lowercase(),
        f.family.name()
    );
    for c in &f.culprits {
        s.push_str(&format!(
            "\n  {}:{}:{}: {}  <- {}",
            c.file,
            c.line,
            c.column,
            c.text.trim(),
            culprit_role(c, f.verdict)
        ));
    }
    if let Some(r) = &f.reason {
        s.push_str(&format!("\n  {r}"));
    }
    if f.pieces > 1 {
        s.push_str(&format!(
            "\n  {} disjoint parts of the requirement fail this way",
            f.pieces
        ));
    }
    s
}

fn level_of(status: Status, allow_indeterminate: bool) -> Level {
    match status {
        Status::Fail => Level::Error,
        Status::Indeterminate if allow_indeterminate => Level::Note,
        Status::Indeterminate => Level::Warning,
        Status::Pass => Level::Note,
    }
}

/// One finding per failing or indeterminate requirement and input, at the
/// rule that decided its first failure.
fn requirement_finding(
    input: &str,
    r: &RequirementResult,
    allow_indeterminate: bool,
) -> Option<Finding> {
    let first = r.failures.first()?;
    let mut message = headline(r, first);
    let mut related = Vec::new();
    for (i, f) in r.failures.iter().enumerate() {
        message.push('\n');
        message.push_str(&failure_text(f));
        for (k, c) in f.culprits.iter().enumerate() {
            if i == 0 && k == 0 {
                continue;
            }
            let loc = culprit_loc(c);
            if !related.iter().any(|(l, _)| *l == loc) {
                related.push((loc, culprit_role(c, f.verdict)));
            }
        }
    }
    let more: usize = r.failures.iter().map(|f| f.more).sum();
    if more > 0 {
        message.push_str(&format!(
            "\n{more} more ways this requirement fails are not shown"
        ));
    }
    if !r.used_by.is_empty() {
        message.push_str(&format!("\nneeded by {}", r.used_by.join(", ")));
    }
    message.push_str(&format!(
        "\nrequired by {}:{}:{}",
        r.policy_file, r.policy_line, r.policy_column
    ));
    related.push((
        Loc {
            file: r.policy_file.clone(),
            line: r.policy_line,
            column: r.policy_column,
            text: None,
        },
        format!("the requirement {}/{}", r.policy, r.requirement),
    ));
    let culprit = first.culprits.first();
    let location = culprit.map(culprit_loc).filter(|l| l.line > 0).or_else(|| {
        Some(Loc {
            file: input.to_string(),
            line: 0,
            column: 0,
            text: None,
        })
    });
    let (table, chain, text) = culprit
        .map(|c| (c.table.as_str(), c.chain.as_str(), stable_text(&c.text)))
        .unwrap_or_default();
    Some(Finding {
        code: None,
        rule: requirement_id(&r.policy, &r.requirement),
        level: level_of(r.status, allow_indeterminate),
        title: headline(r, first),
        message,
        location,
        related,
        fingerprint: fingerprint(&[
            &r.policy,
            &r.requirement,
            input,
            r.status.name(),
            table,
            chain,
            &text,
        ]),
    })
}

/// The problems every report shares: files not read, invalid policies,
/// parse errors.
fn input_problems(report: &CheckReport, out: &mut Vec<Finding>) {
    for e in &report.read_errors {
        out.push(Finding {
            code: e.code,
            rule: "driftwall/read-error".into(),
            level: Level::Error,
            title: e.message.clone(),
            message: e.message.clone(),
            location: None,
            related: Vec::new(),
            fingerprint: fingerprint(&["read", &e.message]),
        });
    }
    // An error at a place in a file, quoting what is at fault there.
    let at = |kind: &str, loc: Loc, message: &str| Finding {
        rule: format!("driftwall/{kind}"),
        level: Level::Error,
        title: message.to_string(),
        message: format!("{}:{}:{}: {message}", loc.file, loc.line, loc.column),
        fingerprint: fingerprint(&[kind, &loc.file, message]),
        location: Some(loc),
        related: Vec::new(),
        code: None,
    };
    for e in &report.policy_errors {
        out.push(Finding {
            code: Some(e.code.as_str()),
            ..at(
                "policy-error",
                Loc {
                    file: e.path.clone(),
                    line: e.line,
                    column: e.column,
                    text: word_at(report, &e.path, e.line, e.column),
                },
                &e.message,
            )
        });
    }
    for e in &report.parse_errors {
        out.push(at(
            "parse-error",
            Loc {
                file: e.path.clone(),
                line: e.line,
                column: e.column,
                text: offending(report, e),
            },
            &e.message,
        ));
    }
}

fn source<'a>(report: &'a CheckReport, path: &str) -> Option<&'a str> {
    report
        .sources
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
}

/// The text a parse error is about, when it is on one line.
fn offending(report: &CheckReport, e: &driftwall_parsers::ParseError) -> Option<String> {
    let text = source(report, &e.path)?.get(e.start as usize..e.end as usize)?;
    (!text.is_empty() && !text.contains('\n')).then(|| text.to_string())
}

/// The word of a policy file at a line and column (the key or value at fault).
fn word_at(report: &CheckReport, path: &str, line: u32, column: u32) -> Option<String> {
    let l = source(report, path)?
        .split('\n')
        .nth(line.checked_sub(1)? as usize)?;
    let word: String = l
        .chars()
        .skip(column.saturating_sub(1) as usize)
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ']')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The findings and cases of a `check`.
pub fn of_check(report: &CheckReport, allow_indeterminate: bool) -> Findings {
    let mut findings = Vec::new();
    input_problems(report, &mut findings);
    let mut cases = Vec::new();
    for input in &report.inputs {
        for n in &input.not_evaluated {
            findings.push(Finding {
                code: None,
                rule: "driftwall/not-evaluated".into(),
                level: Level::Note,
                title: format!("not evaluated: {}", n.what),
                message: format!(
                    "{}:{}:{}: not evaluated: {}",
                    n.file, n.line, n.column, n.what
                ),
                location: Some(Loc {
                    file: n.file.clone(),
                    line: n.line,
                    column: n.column,
                    text: None,
                }),
                related: Vec::new(),
                fingerprint: fingerprint(&["not-evaluated", &n.file, &n.what]),
            });
        }
        for r in &input.results {
            let finding = requirement_finding(&input.path, r, allow_indeterminate).map(|f| {
                findings.push(f);
                findings.len() - 1
            });
            let details = r
                .failures
                .iter()
                .map(failure_text)
                .collect::<Vec<_>>()
                .join("\n");
            cases.push(Case {
                policy: r.policy.clone(),
                requirement: r.requirement.clone(),
                input: input.path.clone(),
                title: r.title.clone().unwrap_or_default(),
                status: r.status,
                before: None,
                failed: r.status == Status::Fail
                    || (r.status == Status::Indeterminate && !allow_indeterminate),
                details,
                finding,
            });
        }
    }
    Findings {
        command: "check",
        requirements: requirements_of(&report.policies),
        findings,
        cases,
        exit_code: report.exit_code_with(allow_indeterminate),
    }
}

/// Whether a diff's change makes a requirement worse.
fn broke(r: &RequirementDiff, allow_indeterminate: bool) -> bool {
    let rank = |s: Status| match s {
        Status::Pass => 0,
        Status::Indeterminate if allow_indeterminate => 0,
        Status::Indeterminate => 1,
        Status::Fail => 2,
    };
    rank(r.after) > rank(r.before)
}

/// The findings and cases of a `diff`: one finding per requirement whose
/// result changes or whose connections change verdict, at the rule of the
/// new file behind the change.
pub fn of_diff(diffs: &[DiffReport], policies: &[Policy], allow_indeterminate: bool) -> Findings {
    let mut findings = Vec::new();
    let mut cases = Vec::new();
    for d in diffs {
        for r in &d.requirements {
            let broke = broke(r, allow_indeterminate);
            let req = policies
                .iter()
                .find(|p| p.name == r.policy)
                .and_then(|p| p.requirements.iter().find(|q| q.id == r.requirement));
            let mut details = String::new();
            let mut location = None;
            let mut related = Vec::new();
            for c in &r.changes {
                details.push_str(&format!(
                    "{} {} ({}): {} -> {}, witness: {}\n",
                    format!("{:?}", c.direction).to_lowercase(),
                    c.witness.protocol,
                    c.family.name(),
                    c.before.name(),
                    c.after.name(),
                    c.witness
                ));
                for k in &c.after_by {
                    details.push_str(&format!(
                        "  now  {}:{}:{}: {}  <- {}\n",
                        k.file,
                        k.line,
                        k.column,
                        k.text.trim(),
                        culprit_role(k, c.after)
                    ));
                    let loc = culprit_loc(k);
                    if location.is_none() && loc.line > 0 {
                        location = Some(loc);
                    } else if location.as_ref() != Some(&loc)
                        && !related.iter().any(|(l, _)| *l == loc)
                    {
                        related.push((loc, culprit_role(k, c.after)));
                    }
                }
                for k in &c.before_by {
                    details.push_str(&format!(
                        "  was  {}:{}:{}: {}  <- {}\n",
                        k.file,
                        k.line,
                        k.column,
                        k.text.trim(),
                        culprit_role(k, c.before)
                    ));
                }
                if c.pieces > 1 {
                    details.push_str(&format!("  {} disjoint parts change this way\n", c.pieces));
                }
            }
            if r.more > 0 {
                details.push_str(&format!("{} more parts change, not shown\n", r.more));
            }
            let changed = r.before != r.after || !r.changes.is_empty();
            let finding = changed.then(|| {
                let title = format!(
                    "{}/{} {} -> {} in {}",
                    r.policy,
                    r.requirement,
                    r.before.name(),
                    r.after.name(),
                    d.new
                );
                if let Some(q) = req {
                    related.push((
                        Loc {
                            file: q.place.path.clone(),
                            line: q.place.line,
                            column: q.place.column,
                            text: None,
                        },
                        format!("the requirement {}/{}", r.policy, r.requirement),
                    ));
                }
                let text = location
                    .as_ref()
                    .and_then(|l| l.text.as_deref())
                    .map(stable_text)
                    .unwrap_or_default();
                findings.push(Finding {
                    code: None,
                    rule: requirement_id(&r.policy, &r.requirement),
                    level: if broke { Level::Error } else { Level::Note },
                    title: title.clone(),
                    message: format!("{title}\n{details}").trim_end().to_string(),
                    location: location.clone().or_else(|| {
                        Some(Loc {
                            file: d.new.clone(),
                            line: 0,
                            column: 0,
                            text: None,
                        })
                    }),
                    related: related.clone(),
                    fingerprint: fingerprint(&[
                        "diff",
                        &r.policy,
                        &r.requirement,
                        &d.new,
                        r.before.name(),
                        r.after.name(),
                        &text,
                    ]),
                });
                findings.len() - 1
            });
            let title = req.and_then(|q| q.title.clone()).unwrap_or_default();
            cases.push(Case {
                policy: r.policy.clone(),
                requirement: r.requirement.clone(),
                input: d.new.clone(),
                title,
                status: r.after,
                before: Some(r.before),
                failed: broke,
                details,
                finding,
            });
        }
    }
    // 1 when the change breaks a requirement.
    let exit_code = u8::from(cases.iter().any(|c| c.failed));
    Findings {
        command: "diff",
        requirements: requirements_of(policies),
        findings,
        cases,
        exit_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_do_not_change_a_fingerprint() {
        assert_eq!(
            stable_text(":INPUT DROP [12:3400]"),
            stable_text(":INPUT  DROP [0:0]")
        );
        assert_eq!(stable_text("[5:60] -A INPUT -j DROP"), "-A INPUT -j DROP");
        assert_ne!(
            stable_text("-A INPUT -m set --match-set [x] src"),
            stable_text("-A INPUT -m set --match-set y src")
        );
    }
}
