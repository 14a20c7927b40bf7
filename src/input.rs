//! Reading firewall files: format detection and parsing into one ruleset.

use driftwall_parsers::model::{Family, Ruleset};
use driftwall_parsers::{ParseError, iptables};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Guess from the file's name and content.
    Auto,
    /// iptables-save / iptables-restore (IPv4), also ufw's rule files.
    Iptables,
    /// ip6tables-save / ip6tables-restore (IPv6).
    Ip6tables,
}

/// A parsed input file.
#[derive(Debug)]
pub struct Input {
    pub path: String,
    pub format: InputFormat,
    pub ruleset: Ruleset,
    pub errors: Vec<ParseError>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot read the file: {source}")]
pub struct ReadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Reads and parses one file.
pub fn load(path: &Path, format: InputFormat) -> Result<Input, ReadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError { path: shown.clone(), source })?;
    // Firewall files are text; a stray invalid byte must not stop the audit.
    let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let format = resolve(&shown, &text, format);
    let family = if format == InputFormat::Ip6tables { Family::Ipv6 } else { Family::Ipv4 };
    let parsed = iptables::parse_owned(&shown, text, family);
    Ok(Input { path: shown, format, ruleset: parsed.ruleset, errors: parsed.errors })
}

/// The concrete format of a file, guessing from its name and text for `auto`.
fn resolve(path: &str, text: &str, format: InputFormat) -> InputFormat {
    match format {
        InputFormat::Auto => match iptables::detect_family(path, text) {
            Family::Ipv4 => InputFormat::Iptables,
            Family::Ipv6 => InputFormat::Ip6tables,
        },
        f => f,
    }
}

pub fn parse_text(path: &str, text: &str, format: InputFormat) -> Input {
    let format = resolve(path, text, format);
    let family = if format == InputFormat::Ip6tables { Family::Ipv6 } else { Family::Ipv4 };
    let parsed = iptables::parse(path, text, family);
    Input { path: path.to_string(), format, ruleset: parsed.ruleset, errors: parsed.errors }
}
