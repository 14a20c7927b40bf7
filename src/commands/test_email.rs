//! `driftwall test-email`: a test message through the configured SMTP server.

use crate::daemon::config::Config;
use std::path::Path;

/// Whether the server accepted the message, and what to print: its answer,
/// or the step that failed and why.
pub fn run(config_path: Option<&Path>) -> anyhow::Result<(bool, String)> {
    let config = match config_path {
        Some(p) => Config::load(p).map_err(|errs| {
            anyhow::anyhow!(
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?,
        None => Config::embedded_default(),
    };
    let Some(email) = &config.email else {
        anyhow::bail!(
            "{}: no `alerts.email` configured, so alerts go to the outbox ({}); add alerts.email with from, to and smtp",
            config.source,
            config.outbox.display()
        );
    };
    crate::alert::test_email(email)
}
