//! `driftwall watch`: runs the daemon.

use super::ExitCode;
use std::path::PathBuf;

pub fn run(config: Option<PathBuf>, once: bool) -> anyhow::Result<ExitCode> {
    crate::daemon::run(config, once).map(ExitCode::from_code)
}
