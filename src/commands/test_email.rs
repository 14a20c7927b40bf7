//! `driftwall test-email`: a test message through the configured SMTP server.

use super::ExitCode;
use crate::report;
use std::path::Path;

/// Sends the message and prints the server's answer; or the step that
/// failed and why, on standard error, with [`ExitCode::Error`].
pub fn run(config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = crate::daemon::read_config(config_path)?;
    let Some(email) = &config.email else {
        anyhow::bail!(
            "{}: no `alerts.email` configured, so alerts go to the outbox ({}); add alerts.email with from, to and smtp",
            config.source,
            config.outbox.display()
        );
    };
    let (ok, text) = crate::alert::test_email(email)?;
    if ok {
        report::emit(&text)?;
        return Ok(ExitCode::Clean);
    }
    report::emit_err(&text);
    Ok(ExitCode::Error)
}
