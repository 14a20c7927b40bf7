//! pf (OpenBSD, FreeBSD, macOS `pf.conf`): read into a syntax tree
//! ([`ast::PfRuleset`]) that keeps what the file says, both the 4.7+
//! dialect (`match ... nat-to`) and the older one (`nat on ... ->`).
//! [`lower`] gives it meaning: the first-match chains pf's last-match
//! rules amount to (see `lower.rs` and docs/pf.md).
//!
//! `include` and `load anchor` files are read through an
//! [`IncludeLoader`], so this module does no I/O.

pub mod ast;
mod lexer;
mod lower;
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
    let (ruleset, mut errors) = parser::read(path, text, loader);
    for e in &mut errors {
        e.message = crate::error::shorten(std::mem::take(&mut e.message));
    }
    PfParsed { ruleset, errors }
}

/// Reads pf.conf text and gives the ruleset pf would evaluate: the syntax
/// errors of [`parse`], and where there are none, the lowered model.
pub fn parse_ruleset(path: &str, text: &str, loader: &IncludeLoader) -> crate::Parsed {
    let read = parse(path, text, loader);
    if !read.errors.is_empty() {
        return crate::Parsed {
            ruleset: crate::model::Ruleset {
                sources: read.ruleset.sources,
                ..Default::default()
            },
            errors: read.errors,
        };
    }
    lower::lower(&read.ruleset)
}

/// Whether a text looks like pf.conf rather than iptables-save or nft: its
/// statements (read with pf's own lexer, so continued lines, comments and
/// multi-line lists are seen as pfctl sees them) begin with pf's words
/// more often than not, and none begins the way only iptables-save
/// (`*filter`, `:INPUT`, `-A`, `COMMIT`) or nft (`table inet x`, `flush`,
/// `define`, `add`, ...) statements do.
pub fn looks_like_pf(text: &str) -> bool {
    use lexer::Kind;
    let mut lexer = lexer::Lexer::new(text);
    let none = |_: &str| None;
    let (mut pf, mut other, mut depth) = (0usize, 0usize, 0usize);
    let mut at_start = true;
    let mut statements = 0;
    loop {
        let t = lexer.next(&none);
        match t.kind {
            Kind::End => break,
            Kind::Newline => {
                at_start = depth == 0;
                continue;
            }
            _ => {}
        }
        if t.is("{") {
            depth += 1;
        } else if t.is("}") {
            depth = depth.saturating_sub(1);
        }
        if !at_start {
            continue;
        }
        at_start = false;
        statements += 1;
        if statements > 64 {
            break;
        }
        let word = t.text.as_ref();
        match (t.kind, word) {
            (Kind::Punct, "*" | "-") => return false,
            (Kind::Word, w) if w.starts_with(':') || w == "COMMIT" => return false,
            (
                Kind::Word,
                "flush" | "define" | "add" | "chain" | "insert" | "delete" | "create" | "list"
                | "reset" | "replace" | "destroy" | "redefine" | "undefine",
            ) => return false,
            (Kind::Word, "table") => {
                let next = lexer.next(&none);
                if !next.is("<") {
                    return false;
                }
                pf += 1;
            }
            (Kind::Word, "include") => {}
            (
                Kind::Word,
                "pass" | "block" | "match" | "scrub" | "antispoof" | "anchor" | "nat-anchor"
                | "rdr-anchor" | "binat-anchor" | "scrub-anchor" | "dummynet-anchor" | "load"
                | "altq" | "queue" | "oldqueue" | "nat" | "rdr" | "binat" | "no" | "ether" | "set"
                | "state" | "source" | "dummynet",
            ) => pf += 1,
            (Kind::Word, _) => {
                let next = lexer.next(&none);
                // A macro's value is strings: `name = [10.0.0.0/8]` is not pf.
                if next.is("=") && matches!(lexer.next(&none).kind, Kind::Str | Kind::Word) {
                    pf += 1;
                } else {
                    other += 1;
                }
                if next.kind == Kind::Newline {
                    at_start = true;
                }
            }
            _ => other += 1,
        }
    }
    pf > 0 && pf > other
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
            (
                "lan = [10.0.0.0/8]\nwan = [0.0.0.0-255.255.255.255]\n",
                false,
            ),
            ("nat on em0 from 10/8 to any \\\n  -> (em0)\n", true),
            (
                "t = \"x\"\ntable <m> {\n 10.0.0.0/8\n 192.168.0.0/16 }\nblock from <m>\n",
                true,
            ),
            ("pass in\ninclude \"x\"\nblock out\ninvalidline\n", true),
        ];
        for (text, want) in cases {
            assert_eq!(looks_like_pf(text), *want, "{text:?}");
        }
    }
}
