//! Reading firewall files: format detection and parsing into one ruleset.

use driftwall_parsers::model::{Family, Ruleset};
use driftwall_parsers::{ErrorKind, ParseError, Parsed, iptables, nft, pf};
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
    /// The nft language: `nft list ruleset`, /etc/nftables.conf.
    Nftables,
    /// `nft -j list ruleset`.
    #[value(name = "nft-json")]
    #[serde(rename = "nft-json")]
    NftJson,
    /// pf.conf (OpenBSD, FreeBSD, macOS): read and checked for syntax; its
    /// semantics are not evaluated yet.
    Pf,
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
    let bytes = std::fs::read(path).map_err(|source| ReadError {
        path: shown.clone(),
        source,
    })?;
    // Firewall files are text; a stray invalid byte must not stop the audit.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(load_text(path, text, format))
}

/// Parses a file's text already read (nft includes are read from its folder).
pub fn load_text(path: &Path, text: String, format: InputFormat) -> Input {
    load_text_with(
        &path.display().to_string(),
        text,
        format,
        &include_loader(path),
    )
}

/// Parses text shown as `shown`, with nft includes read by `includes`
/// (from the disk, or from a Git revision).
pub fn load_text_with(
    shown: &str,
    text: String,
    format: InputFormat,
    includes: &nft::IncludeLoader,
) -> Input {
    let format = resolve(shown, &text, format);
    let parsed = match format {
        InputFormat::Nftables => nft::parse_with(shown, &text, includes),
        InputFormat::NftJson => nft::parse_json(shown, &text),
        InputFormat::Pf => pf_parsed(shown, &text, includes),
        _ => iptables::parse_owned(shown, text, family_of(format)),
    };
    Input {
        path: shown.to_string(),
        format,
        ruleset: parsed.ruleset,
        errors: parsed.errors,
    }
}

/// pf.conf is read, and what pfctl would refuse is reported where it
/// stands; but pf's semantics (last match, anchors, state) are not lowered
/// to the model yet. Checking the empty ruleset would call everything open,
/// so the file gets an error that says so instead, and nothing is checked.
fn pf_parsed(shown: &str, text: &str, includes: &nft::IncludeLoader) -> Parsed {
    let read = pf::parse(shown, text, includes);
    let mut errors = read.errors;
    if errors.is_empty() {
        errors.push(ParseError {
            kind: ErrorKind::Unsupported,
            path: shown.to_string(),
            line: 1,
            column: 1,
            start: 0,
            end: 0,
            message: format!(
                "this pf.conf is read without error ({} statements), but which connections pf passes is not evaluated yet; driftwall checks iptables, nftables and ufw",
                read.ruleset.items.len()
            ),
        });
    }
    Parsed {
        ruleset: Ruleset {
            sources: read.ruleset.sources,
            ..Ruleset::default()
        },
        errors,
    }
}

fn family_of(format: InputFormat) -> Family {
    if format == InputFormat::Ip6tables {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// Reads the files an nft `include` names: relative to the including
/// file's folder (and to the top file's), with glob patterns expanded in
/// name order, as nft does.
fn include_loader(top: &Path) -> impl Fn(&str, &str) -> Result<Vec<(String, String)>, String> {
    let top_dir = top.parent().map(Path::to_path_buf).unwrap_or_default();
    move |including: &str, pattern: &str| {
        let base = Path::new(including)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| top_dir.clone());
        let full = if Path::new(pattern).is_absolute() {
            Path::new(pattern).to_path_buf()
        } else {
            base.join(pattern)
        };
        let paths = expand_glob(&full)?;
        if paths.is_empty() && !pattern.contains(['*', '?', '[']) {
            return Err(format!(
                "cannot read included file `{}`: not found",
                full.display()
            ));
        }
        paths
            .into_iter()
            .map(|p| {
                // nft includes regular files only (not /dev/null or a folder).
                if !p.is_file() {
                    return Err(format!(
                        "cannot include `{}`: not a regular file",
                        p.display()
                    ));
                }
                let text = std::fs::read(&p)
                    .map_err(|e| format!("cannot read included file `{}`: {e}", p.display()))?;
                Ok((
                    p.display().to_string(),
                    String::from_utf8_lossy(&text).into_owned(),
                ))
            })
            .collect()
    }
}

/// The files a path with `*`, `?` or `[...]` in its last part names, sorted.
fn expand_glob(full: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let name = full.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?', '[']) {
        return Ok(if full.exists() {
            vec![full.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let dir = full.parent().unwrap_or(Path::new("."));
    // A pattern that matches nothing is no error in nft, a missing folder included.
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob_match(name, n)))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// Shell-style matching of one name: `*`, `?` and `[...]` classes.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(close) = p.iter().position(|c| *c == ']') else {
                    return !n.is_empty() && n[0] == '[' && go(&p[1..], &n[1..]);
                };
                let class = &p[1..close];
                let Some(c) = n.first() else { return false };
                let (neg, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= *c && *c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == *c;
                        i += 1;
                    }
                }
                hit != neg && go(&p[close + 1..], &n[1..])
            }
            Some(ch) => n.first() == Some(ch) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}

/// The concrete format of a file, guessing from its name and text for `auto`.
fn resolve(path: &str, text: &str, format: InputFormat) -> InputFormat {
    match format {
        InputFormat::Auto => detect(path, text),
        f => f,
    }
}

/// nft JSON starts with `{"nftables"`; pf.conf is what `pf::looks_like_pf`
/// says it is; the nft language has `table`,
/// `flush ruleset`, `define` or `include` statements and no `*table` or
/// `-A` lines; everything else is read as iptables.
fn detect(path: &str, text: &str) -> InputFormat {
    let start = text.trim_start();
    if start.starts_with('{') && start[1..].trim_start().starts_with("\"nftables\"") {
        return InputFormat::NftJson;
    }
    if pf::looks_like_pf(text) {
        return InputFormat::Pf;
    }
    let mut nft_words = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(200)
    {
        if line.starts_with('*')
            || line.starts_with("-A ")
            || line.starts_with(':')
            || line == "COMMIT"
        {
            break;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "table" | "flush" | "define" | "include" | "add" | "insert" | "chain" | "set" | "map"
        ) {
            nft_words += 1;
            if matches!(first, "table" | "flush" | "define" | "include") {
                return InputFormat::Nftables;
            }
        }
    }
    if nft_words > 0 || path.ends_with(".nft") || path.ends_with("nftables.conf") {
        return InputFormat::Nftables;
    }
    match iptables::detect_family(path, text) {
        Family::Ipv4 => InputFormat::Iptables,
        Family::Ipv6 => InputFormat::Ip6tables,
    }
}

/// Parses text already in memory (includes are not followed).
pub fn parse_text(path: &str, text: &str, format: InputFormat) -> Input {
    let format = resolve(path, text, format);
    let parsed: Parsed = match format {
        InputFormat::Nftables => nft::parse_with(path, text, &|_: &str, p: &str| {
            Err(format!("cannot include `{p}` from text in memory"))
        }),
        InputFormat::NftJson => nft::parse_json(path, text),
        InputFormat::Pf => pf_parsed(path, text, &|_: &str, p: &str| {
            Err(format!("cannot include `{p}` from text in memory"))
        }),
        _ => iptables::parse(path, text, family_of(format)),
    };
    Input {
        path: path.to_string(),
        format,
        ruleset: parsed.ruleset,
        errors: parsed.errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(
            detect("x", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"),
            InputFormat::Iptables
        );
        assert_eq!(
            detect(
                "x",
                "#!/usr/sbin/nft -f\nflush ruleset\ntable inet f {\n}\n"
            ),
            InputFormat::Nftables
        );
        assert_eq!(detect("x", "{\"nftables\": []}"), InputFormat::NftJson);
        assert_eq!(detect("x", "add table ip f\n"), InputFormat::Nftables);
    }

    #[test]
    fn globs_match_like_the_shell() {
        assert!(glob_match("*.nft", "a.nft") && !glob_match("*.nft", "a.conf"));
        assert!(glob_match("rule?.[0-9]", "rule1.5") && !glob_match("rule?.[!0-9]", "rule1.5"));
    }
}
