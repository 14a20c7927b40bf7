//! ufw's shell-variable files: `ufw.conf`, `/etc/default/ufw` and the
//! `sysctl.conf` ufw applies.
//!
//! ```text
//! file       = *line
//! line       = blank | comment | assignment
//! assignment = NAME "=" value          ; value bare, "double" or 'single' quoted
//! ```
//!
//! ufw-init sources the first two with `/bin/sh`; the last assignment of a
//! name wins. Anything else in them (shell code) is not evaluated, and said so.

use crate::model::Span;

/// One `NAME=value` line and where its value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Assignment {
    pub name: String,
    pub value: String,
    pub span: Span,
}

/// The assignments of a shell-variable file, in order; `file` is its index
/// among the ruleset's sources.
pub(super) fn assignments(text: &str, file: u32) -> Vec<Assignment> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let body = body.trim_end();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let Some((name, value)) = assignment(body) else {
            continue;
        };
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        out.push(Assignment {
            name: name.to_string(),
            value,
            span: Span {
                file,
                line: to_u32(index + 1),
                column: to_u32(indent + 1),
                start: to_u32(start + indent),
                end: to_u32(start + indent + body.len()),
            },
        });
    }
    out
}

/// `assignment = NAME "=" value`, with the quotes of the value removed and
/// a trailing ` # comment` dropped.
fn assignment(body: &str) -> Option<(&str, String)> {
    let (name, rest) = body.split_once('=')?;
    let name = name.strip_prefix("export ").unwrap_or(name).trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let value = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or("").to_string(),
        _ => rest
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(';')
            .to_string(),
    };
    Some((name, value))
}

/// The value `name` last gets in `list`, with its line.
pub(super) fn last<'a>(list: &'a [Assignment], name: &str) -> Option<&'a Assignment> {
    list.iter().rev().find(|a| a.name == name)
}

/// A sysctl key as `sysctl -p` reads it: `/` and `.` separate the same parts.
pub(super) fn sysctl_key(name: &str) -> String {
    name.replace('/', ".")
}

/// `sysctl.conf` lines are `key = value` with optional spaces and dots or
/// slashes in the key; the last setting of `key` wins. The value, and the
/// line's span in source `file`.
pub(super) fn sysctl_setting<'a>(text: &'a str, key: &str, file: u32) -> Option<(&'a str, Span)> {
    let mut found = None;
    let mut offset = 0usize;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let body = line.trim();
        if body.starts_with('#') || body.starts_with(';') {
            continue;
        }
        let Some((k, v)) = body.split_once('=') else {
            continue;
        };
        if sysctl_key(k.trim().trim_start_matches('-')) != key {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let span = Span {
            file,
            line: to_u32(index + 1),
            column: to_u32(indent + 1),
            start: to_u32(start + indent),
            end: to_u32(start + indent + body.len()),
        };
        found = Some((v.trim(), span));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_reads_bare_and_quoted_values() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("ENABLED=yes", Some(("ENABLED", "yes"))),
            (
                "DEFAULT_INPUT_POLICY=\"DROP\"",
                Some(("DEFAULT_INPUT_POLICY", "DROP")),
            ),
            ("IPV6='no' # off", Some(("IPV6", "no"))),
            ("IPV6=yes # comment", Some(("IPV6", "yes"))),
            ("export LOGLEVEL=low", Some(("LOGLEVEL", "low"))),
            ("if [ -x x ]; then", None),
            ("A B=c", None),
        ];
        for (line, want) in cases {
            let got = assignment(line);
            assert_eq!(
                got.as_ref().map(|(n, v)| (*n, v.as_str())),
                *want,
                "line {line:?}"
            );
        }
    }

    #[test]
    fn the_last_assignment_wins_and_keeps_its_line() {
        let list = assignments("# c\nIPV6=yes\n\n  IPV6=no\n", 3);
        let a = last(&list, "IPV6").map(|a| (a.value.as_str(), a.span.line, a.span.column));
        assert_eq!(a, Some(("no", 4, 3)));
        assert_eq!(list.first().map(|a| a.span.file), Some(3));
    }

    #[test]
    fn sysctl_keys_take_dots_or_slashes() {
        let text =
            "net/ipv4/ip_forward=1\n# net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n";
        let value = |key| sysctl_setting(text, key, 2).map(|(v, _)| v);
        assert_eq!(value("net.ipv4.ip_forward"), Some("1"));
        assert_eq!(value("net.ipv6.conf.all.forwarding"), Some("0"));
        assert_eq!(value("net.ipv6.conf.default.forwarding"), None);
        let at = sysctl_setting(text, "net.ipv6.conf.all.forwarding", 2);
        assert_eq!(at.map(|(_, s)| (s.file, s.line)), Some((2, 3)));
    }
}
