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

/// Checks `files` against the policies named in `policies`, read for
/// `role`, and writes the reports. `options` say how to read the inputs
/// beyond their format. A file that cannot be read or parsed is
/// reported and the others are still checked; the exit code says so.
pub fn run(
    policies: &[String],
    role: &Role,
    reports: &Reports,
    (input_format, options): (InputFormat, &input::Options),
    files: &[PathBuf],
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
    for f in files {
        match input::load_with(f, input_format, options) {
            Err(e) => rep.read_errors.push(ReadError::new(e.to_string())),
            Ok(inp) if !inp.errors.is_empty() => {
                rep.parse_errors.extend(inp.errors.iter().cloned());
                // Each file of the input, so every error shows its line (a
                // ufw folder is many files).
                for s in &inp.ruleset.sources {
                    rep.sources.push((s.path.clone(), s.text.clone()));
                }
            }
            // An invalid policy leaves nothing trustworthy to check with.
            Ok(inp) if rep.policy_errors.is_empty() => {
                rep.inputs.push(check_input_owned(inp, &loaded))
            }
            Ok(_) => {}
        }
    }
    let allow = reports.allow_indeterminate;
    let findings = report::findings::of_check(&rep, allow);
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
}
