//! Machine-readable reports, described by the JSON Schemas in schemas/
//! (tests validate every report against them). `schema_version` changes
//! when a field is removed or changes meaning; new fields may appear
//! without it.

use super::CheckReport;
use super::findings::Findings;
use crate::drift::diff::DiffReport;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    command: &'static str,
    exit_code: u8,
    #[serde(flatten)]
    report: T,
}

fn envelope<T: Serialize>(command: &'static str, exit_code: u8, report: T) -> String {
    value(&Envelope {
        schema_version: SCHEMA_VERSION,
        tool: "driftwall",
        version: env!("CARGO_PKG_VERSION"),
        command,
        exit_code,
        report,
    })
}

#[derive(Serialize)]
struct Check<'a> {
    summary: super::Summary,
    allow_indeterminate: bool,
    #[serde(flatten)]
    report: &'a CheckReport,
}

pub fn check(report: &CheckReport, allow_indeterminate: bool) -> String {
    envelope(
        "check",
        report.exit_code_with(allow_indeterminate),
        Check {
            summary: report.summary(),
            allow_indeterminate,
            report,
        },
    )
}

#[derive(Serialize)]
struct Diff<'a> {
    /// The Git revision the files were compared with, for `--base`.
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
    allow_indeterminate: bool,
    /// `policy/requirement` of every requirement the change makes worse.
    broken: Vec<String>,
    diffs: &'a [DiffReport],
}

pub fn diff(
    diffs: &[DiffReport],
    base: Option<&str>,
    findings: &Findings,
    allow_indeterminate: bool,
) -> String {
    let broken = findings
        .cases
        .iter()
        .filter(|c| c.failed)
        .map(|c| format!("{}/{}", c.policy, c.requirement))
        .collect();
    envelope(
        "diff",
        findings.exit_code,
        Diff {
            base,
            allow_indeterminate,
            broken,
            diffs,
        },
    )
}

pub fn value<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize: {e}\"}}"))
}
