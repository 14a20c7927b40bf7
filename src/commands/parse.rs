//! `driftwall parse`: the normalized model of a firewall file as JSON, or
//! its errors.

use super::ExitCode;
use crate::input::{self, InputFormat};
use crate::report;
use std::path::Path;

pub fn run(file: &Path, input_format: InputFormat) -> anyhow::Result<ExitCode> {
    let input = input::load(file, input_format)?;
    if !input.errors.is_empty() {
        report::emit_err(&super::quoted_errors(&input));
        report::emit(&report::json::value(
            &serde_json::json!({ "errors": input.errors }),
        ))?;
        return Ok(ExitCode::Error);
    }
    report::emit(&report::json::value(&input.ruleset))?;
    Ok(ExitCode::Clean)
}
