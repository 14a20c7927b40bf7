//! `driftwall diff OLD NEW`: what changed between two firewall files, or
//! between files and their version at a Git revision.

// The diff itself is the drift layer's; these names stay reachable here
// for library callers.
pub use crate::drift::diff::*;

use super::{ExitCode, Reports, load_input, parsed, render_findings};
use crate::input::{Input, InputFormat};
use crate::policy::{self, Role};
use crate::report;
use crate::report::output::ReportFormat;
use std::path::PathBuf;

/// Compares OLD and NEW (`files`), or with `base` each file with its
/// version at that revision, and writes the reports.
pub fn run(
    files: &[PathBuf],
    base: Option<&str>,
    policies: &[String],
    role: &Role,
    reports: &Reports,
    input_format: InputFormat,
    jobs: usize,
) -> anyhow::Result<ExitCode> {
    let guarded: Vec<&std::path::Path> = files
        .iter()
        .map(PathBuf::as_path)
        .chain(policies.iter().map(std::path::Path::new))
        .collect();
    report::output::check_paths(&reports.destinations, &guarded)?;
    let l = policy::load_all(policies, role);
    if let Some(e) = l.unreadable.first() {
        anyhow::bail!("{e}");
    }
    for e in &l.invalid {
        let src = l
            .sources
            .iter()
            .find(|(p, _)| *p == e.path)
            .map(|(_, t)| t.as_str());
        report::emit_err(&report::human::policy_error(e, src));
    }
    let bad = !l.invalid.is_empty();
    let loaded = l.policies;
    // The pairs of versions to compare.
    let pairs: Vec<(anyhow::Result<Input>, anyhow::Result<Input>)> = match base {
        Some(rev) => files
            .iter()
            .map(|f| {
                let old = crate::git::load_at(rev, f, input_format)
                    .map_err(anyhow::Error::from)
                    .and_then(parsed);
                (old, load_input(f, input_format))
            })
            .collect(),
        None => match files {
            [old, new] => {
                vec![(load_input(old, input_format), load_input(new, input_format))]
            }
            _ => anyhow::bail!(
                "diff compares two files (OLD NEW), or with --base REV each FILE with its version at REV; {} file(s) given",
                files.len()
            ),
        },
    };
    let mut diffs = Vec::new();
    let mut failed = bad;
    for (a, b) in pairs {
        match (a, b) {
            (Ok(a), Ok(b)) if !bad => diffs.push(diff_on(&a, &b, &loaded, jobs)),
            (a, b) => {
                for e in [a.err(), b.err()].into_iter().flatten() {
                    report::emit_err(&format!("error: {e:#}"));
                }
                failed = true;
            }
        }
    }
    if failed {
        return Ok(ExitCode::Error);
    }
    let allow = reports.allow_indeterminate;
    let findings = report::findings::of_diff(&diffs, &loaded, allow);
    report::output::write(&reports.destinations, |format| match format {
        ReportFormat::Human => diffs
            .iter()
            .map(render_human)
            .collect::<Vec<_>>()
            .join("\n"),
        ReportFormat::Json => report::json::diff(&diffs, base, &findings, allow),
        other => render_findings(other, &findings, allow),
    })?;
    report::output::github_step_summary(&reports.destinations, || {
        report::github::summary(&findings, allow)
    })?;
    Ok(ExitCode::from_code(findings.exit_code))
}
