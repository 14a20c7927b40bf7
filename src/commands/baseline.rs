//! `driftwall baseline show|accept`: the baseline the daemon compares with.

use super::ExitCode;
use crate::report;
use std::path::PathBuf;

/// Shows the baseline, or with `accept` makes the current state (of
/// `source` alone if given) the baseline.
pub fn run(
    config: Option<PathBuf>,
    accept: bool,
    source: Option<String>,
) -> anyhow::Result<ExitCode> {
    let text = crate::daemon::baseline(config, accept, source)?;
    report::emit(&text)?;
    Ok(ExitCode::Clean)
}
