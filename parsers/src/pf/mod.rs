//! pf (OpenBSD, FreeBSD, macOS `pf.conf`): read into a syntax tree
//! ([`ast::PfRuleset`]) that keeps what the file says, both the 4.7+
//! dialect (`match ... nat-to`) and the older one (`nat on ... ->`).
//! Giving it meaning is done elsewhere.
//!
//! `include` and `load anchor` files are read through an
//! [`IncludeLoader`], so this module does no I/O.

pub mod ast;
mod lexer;
mod parser;
mod vocab;

use crate::ParseError;
pub use crate::nft::IncludeLoader;

/// A pf.conf file's syntax tree and every error found in it.
#[derive(Debug, Clone)]
pub struct PfParsed {
    pub ruleset: ast::PfRuleset,
    pub errors: Vec<ParseError>,
}

/// Reads pf.conf text; `include` and `load anchor` files come from `loader`.
pub fn parse(path: &str, text: &str, loader: &IncludeLoader) -> PfParsed {
    let (ruleset, errors) = parser::read(path, text, loader);
    PfParsed { ruleset, errors }
}

/// Whether a text looks like pf.conf rather than iptables-save or nft:
/// its first statement that is not a comment, a macro or `set` begins with
/// a pf word, and it has none of the markers of the other two formats.
pub fn looks_like_pf(text: &str) -> bool {
    let mut pf_lines = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // iptables-save: `*filter`, `:INPUT ACCEPT [0:0]`, `-A INPUT`, `COMMIT`.
        if line.starts_with('*')
            || line.starts_with(':')
            || line.starts_with("-A ")
            || line == "COMMIT"
        {
            return false;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        // nft: `table inet x {`, `flush ruleset`, `define x = ...`, `add rule ...`.
        if matches!(
            first,
            "flush" | "define" | "add" | "chain" | "insert" | "delete" | "#!/usr/sbin/nft"
        ) || (first == "table" && !line.contains('<'))
        {
            return false;
        }
        if matches!(
            first,
            "pass"
                | "block"
                | "match"
                | "scrub"
                | "antispoof"
                | "anchor"
                | "nat-anchor"
                | "rdr-anchor"
                | "binat-anchor"
                | "scrub-anchor"
                | "dummynet-anchor"
                | "load"
                | "altq"
                | "queue"
                | "nat"
                | "rdr"
                | "binat"
                | "no"
                | "ether"
                | "set"
                | "table"
        ) || line.split_once('=').is_some_and(|(name, _)| {
            let name = name.trim();
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }) {
            pf_lines += 1;
            if pf_lines >= 3 {
                return true;
            }
        } else {
            return false;
        }
    }
    pf_lines > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_is_told_from_iptables_and_nft() {
        let cases: &[(&str, bool)] = &[
            (
                "ext_if = \"em0\"\nset skip on lo\npass in on $ext_if proto tcp to port 22\n",
                true,
            ),
            ("block all\n", true),
            ("table <t> persist { 10.0.0.1 }\nblock from <t>\n", true),
            (
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n",
                false,
            ),
            ("table inet filter {\n chain input { }\n}\n", false),
            ("flush ruleset\ntable ip t { }\n", false),
            ("define x = 1\n", false),
            ("", false),
            ("hello world\n", false),
        ];
        for (text, want) in cases {
            assert_eq!(looks_like_pf(text), *want, "{text:?}");
        }
    }
}
