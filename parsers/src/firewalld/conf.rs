//! `firewalld.conf`: `KEY=value` lines, `#` comments (firewalld_conf.py).

use super::config::{Conf, Item};
use crate::error::{ErrorKind, ParseError};
use crate::model::Span;

/// What firewalld uses when the file or a key is absent: `public`, the
/// nftables backend, reverse-path filtering on, no denied-packet logging.
pub(crate) fn read(file: Option<(u32, &str, &str)>, errors: &mut Vec<ParseError>) -> Conf {
    let mut conf = Conf {
        default_zone: Item {
            value: "public".to_string(),
            // Set by no file: the first line of the generated text.
            span: Span {
                file: 0,
                line: 1,
                column: 1,
                start: 0,
                end: 0,
            },
        },
        backend: None,
        zone_drifting: None,
        ipv6_rpfilter: true,
        ipv6_rpfilter_span: None,
        log_denied: false,
        rfc3964_ipv4: true,
    };
    let Some((file, path, text)) = file else {
        return conf;
    };
    let mut offset = 0usize;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let span = Span {
            file,
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            column: u32::try_from(lead + 1).unwrap_or(1),
            start: u32::try_from(start + lead).unwrap_or(u32::MAX),
            end: u32::try_from(start + lead + line.len()).unwrap_or(u32::MAX),
        };
        let Some((key, value)) = line.split_once('=') else {
            errors.push(ParseError {
                kind: ErrorKind::Syntax,
                path: path.to_string(),
                line: span.line,
                column: span.column,
                start: span.start,
                end: span.end,
                message: format!("`{line}` is not KEY=value; firewalld ignores it"),
            });
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let bad = |message: String| ParseError {
            kind: ErrorKind::InvalidValue,
            path: path.to_string(),
            line: span.line,
            column: span.column,
            start: span.start,
            end: span.end,
            message,
        };
        let yes = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true");
        match key {
            "DefaultZone" if !value.is_empty() => {
                conf.default_zone = Item {
                    value: value.to_string(),
                    span,
                }
            }
            "FirewallBackend" => match value {
                "nftables" | "iptables" => {
                    conf.backend = Some(Item {
                        value: value.to_string(),
                        span,
                    })
                }
                other => errors.push(bad(format!(
                    "FirewallBackend `{other}` is not nftables or iptables"
                ))),
            },
            "AllowZoneDrifting" if yes(value) => conf.zone_drifting = Some(span),
            "IPv6_rpfilter" => {
                // 1.3 reads no/false as off; anything else but yes/true is
                // a warning and the default, on (`strict` of 2.x included).
                conf.ipv6_rpfilter = !matches!(value.to_ascii_lowercase().as_str(), "no" | "false");
                conf.ipv6_rpfilter_span = Some(span);
            }
            "LogDenied" => conf.log_denied = value != "off",
            "RFC3964_IPv4" => {
                conf.rfc3964_ipv4 = !matches!(value.to_ascii_lowercase().as_str(), "no" | "false")
            }
            _ => {}
        }
    }
    conf
}
