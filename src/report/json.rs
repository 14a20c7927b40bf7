//! Machine-readable reports. `schema_version` changes when a field's meaning does.

use super::CheckReport;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Envelope<'a> {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    exit_code: u8,
    summary: super::Summary,
    #[serde(flatten)]
    report: &'a CheckReport,
}

pub fn check(report: &CheckReport) -> String {
    let env = Envelope { schema_version: SCHEMA_VERSION, tool: "driftwall", version: env!("CARGO_PKG_VERSION"), exit_code: report.exit_code(), summary: report.summary(), report };
    serde_json::to_string_pretty(&env).unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
}

pub fn value<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize: {e}\"}}"))
}
