//! `driftwall init`: the first run's answer as a configuration.

use super::ExitCode;

/// `driftwall init`: prints what [`crate::daemon::detect::detect`] found as
/// a configuration, and with `write` installs it unless one is there.
pub fn run(root: &std::path::Path, write: bool) -> anyhow::Result<ExitCode> {
    if !root.is_dir() {
        anyhow::bail!("--root {}: not a folder", root.display());
    }
    let found = crate::daemon::detect::detect(root);
    crate::report::emit(&found.yaml())?;
    if write {
        match found.write() {
            Ok(path) => crate::report::emit_err(&format!("wrote {}", path.display())),
            Err(message) => {
                crate::report::emit_err(&format!("error: {message}"));
                return Ok(ExitCode::Error);
            }
        }
    }
    Ok(ExitCode::Clean)
}
