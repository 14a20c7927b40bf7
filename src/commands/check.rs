//! `driftwall check`: every requirement of every policy against every input.

// The check itself is the policy layer's; these names stay reachable here
// for the subcommands built on it and for library callers.
pub use crate::policy::check::*;

use super::{ExitCode, Reports, render_findings};
use crate::input::{self, InputFormat};
use crate::policy::{self, Role};
use crate::report::output::ReportFormat;
use crate::report::{self, CheckReport, ReadError};
use std::path::PathBuf;

/// What became of one input file.
enum Outcome {
    Unreadable(String),
    /// Parse errors, with the text of each file of the input.
    Unparsed(Vec<driftwall_parsers::ParseError>, Vec<(String, String)>),
    Checked(Box<InputReport>),
    /// Parsed, but an invalid policy leaves nothing to check it with.
    NotChecked,
}

/// Reads and checks one file.
fn check_file(
    f: &std::path::Path,
    (input_format, options): (InputFormat, &input::Options),
    policies: &[policy::Policy],
    policies_valid: bool,
    threads: usize,
) -> Outcome {
    match input::load_with(f, input_format, options) {
        Err(e) => Outcome::Unreadable(e.to_string()),
        // Each file of the input, so every error shows its line (a ufw
        // folder is many files).
        Ok(inp) if !inp.errors.is_empty() => Outcome::Unparsed(
            inp.errors,
            inp.ruleset
                .sources
                .iter()
                .map(|s| (s.path.clone(), s.text.clone()))
                .collect(),
        ),
        Ok(inp) if policies_valid => {
            Outcome::Checked(Box::new(check_input_owned(inp, policies, threads)))
        }
        Ok(_) => Outcome::NotChecked,
    }
}

/// Checks every file, on up to `jobs` threads (each takes the next file
/// not yet taken), and gives the outcomes in the order of `files`: files
/// are independent, and a directory of rulesets should use every core.
/// Threads the files leave idle (one file on many cores) go to the
/// independent questions within each file.
fn check_files(
    files: &[PathBuf],
    how: (InputFormat, &input::Options),
    policies: &[policy::Policy],
    policies_valid: bool,
    jobs: usize,
) -> Vec<Outcome> {
    let jobs = jobs.max(1);
    let within = (jobs / files.len().max(1)).max(1);
    crate::in_order::map_in_order(files, jobs, |f| {
        check_file(f, how, policies, policies_valid, within)
    })
    .into_iter()
    .zip(files)
    .map(|(outcome, f)| {
        // The panic is already printed; the file is reported as failed.
        outcome.unwrap_or_else(|| {
            Outcome::Unreadable(format!("{}: the check of this file failed", f.display()))
        })
    })
    .collect()
}

/// The number of threads `check` uses by default: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks `files` against the policies named in `policies`, read for
/// `role`, and writes the reports. `options` say how to read the inputs
/// beyond their format. A file that cannot be read or parsed is
/// reported and the others are still checked; the exit code says so.
/// Files are checked on up to `jobs` threads; the reports keep their order.
pub fn run(
    policies: &[String],
    role: &Role,
    reports: &Reports,
    how: (InputFormat, &input::Options),
    files: &[PathBuf],
    jobs: usize,
) -> anyhow::Result<ExitCode> {
    let guarded: Vec<&std::path::Path> = files
        .iter()
        .map(PathBuf::as_path)
        .chain(policies.iter().map(std::path::Path::new))
        .collect();
    report::output::check_paths(&reports.destinations, &guarded)?;
    let mut rep = CheckReport::default();
    let l = policy::load_all(policies, role);
    let loaded = l.policies;
    rep.read_errors = l.unreadable.iter().map(ReadError::from).collect();
    rep.policy_errors = l.invalid;
    rep.sources = l.sources;
    rep.policies = loaded.clone();
    let valid = rep.policy_errors.is_empty();
    for outcome in check_files(files, how, &loaded, valid, jobs) {
        match outcome {
            Outcome::Unreadable(e) => rep.read_errors.push(ReadError::new(e)),
            Outcome::Unparsed(errors, sources) => {
                rep.parse_errors.extend(errors);
                rep.sources.extend(sources);
            }
            Outcome::Checked(r) => rep.inputs.push(*r),
            Outcome::NotChecked => {}
        }
    }
    let allow = reports.allow_indeterminate;
    // Only the SARIF, JUnit and GitHub reports (and a step summary) are
    // made from findings: a human or JSON report does not pay for them.
    let findings = std::cell::LazyCell::new(|| report::findings::of_check(&rep, allow));
    report::output::write(&reports.destinations, |format| match format {
        ReportFormat::Human => report::human::check(&rep),
        ReportFormat::Json => report::json::check(&rep, allow),
        other => render_findings(other, &findings, allow),
    })?;
    report::output::github_step_summary(&reports.destinations, || {
        report::github::summary(&findings, allow)
    })?;
    Ok(ExitCode::from_code(rep.exit_code_with(allow)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::output::Destination;
    use std::path::Path;

    /// Runs `check` on `rules` against the web server example's policy,
    /// with the JSON report in a file, and returns its exit code.
    fn check_example(name: &str, rules: &str) -> ExitCode {
        let dir =
            std::env::temp_dir().join(format!("driftwall-check-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rules.v4");
        std::fs::write(&file, rules).unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let destinations: Vec<Destination> =
            vec![(ReportFormat::Json, Some(dir.join("report.json")))];
        let code = run(
            &[examples
                .join("web-server.policy.yaml")
                .display()
                .to_string()],
            &Role::default(),
            &Reports {
                destinations,
                allow_indeterminate: false,
            },
            (InputFormat::Iptables, &input::Options::default()),
            &[file],
            1,
        )
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        code
    }

    #[test]
    fn check_returns_the_exit_code_instead_of_exiting() {
        // The example blocks HTTPS for a partner network; without that rule it is clean.
        let rules = include_str!("../../examples/web-server.rules");
        let fixed = rules.replace(
            "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n",
            "",
        );
        assert_eq!(check_example("clean", &fixed), ExitCode::Clean);
        assert_eq!(check_example("failed", rules), ExitCode::Failed);
        assert_eq!(
            check_example("error", "*filter\n-A INPUT -j NOPE NOPE\n"),
            ExitCode::Error
        );
    }

    #[test]
    fn files_checked_on_many_threads_come_back_in_their_order() {
        let dir = std::env::temp_dir().join(format!("driftwall-check-jobs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rules = include_str!("../../examples/web-server.rules");
        let mut files = Vec::new();
        for i in 0..7 {
            let f = dir.join(format!("{i}.rules"));
            if i != 3 {
                std::fs::write(&f, rules).unwrap();
            }
            files.push(f);
        }
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let l = policy::load_all(
            &[examples
                .join("web-server.policy.yaml")
                .display()
                .to_string()],
            &Role::default(),
        );
        let how = (InputFormat::Iptables, &input::Options::default());
        let one = check_files(&files, how, &l.policies, true, 1);
        let many = check_files(&files, how, &l.policies, true, 4);
        let _ = std::fs::remove_dir_all(&dir);
        for outcomes in [one, many] {
            assert_eq!(outcomes.len(), files.len());
            for (i, o) in outcomes.iter().enumerate() {
                match o {
                    Outcome::Checked(r) => {
                        assert!(r.path.ends_with(&format!("{i}.rules")), "{i}: {}", r.path)
                    }
                    Outcome::Unreadable(e) => assert_eq!(i, 3, "{e}"),
                    _ => panic!("file {i}: neither checked nor unreadable"),
                }
            }
        }
    }
}
