//! iptables-save / ip6tables-save / iptables-restore files (also ufw's rule files).
//!
//! ```text
//! file      = *line
//! line      = blank | comment | table-header | chain-decl | command | "COMMIT"
//! command   = [counters] ("-A" | "-I" | "-N" | "-P" | "-F" | "-X" | "-Z") args
//! ```
//!
//! Each `*table` block replaces an earlier block of the same table, as
//! iptables-restore without `--noflush` does. Errors are collected and parsing
//! resumes at the next line.

mod lexer;
mod rule;
mod values;

use crate::error::{ErrorKind, ParseError};
use crate::model::{Action, BaseHook, Chain, ChainKind, Family, Hook, Policy, Rule, Ruleset, Source, Span, Table};
use crate::Parsed;
use std::collections::HashMap;

/// Guesses the address family of an iptables-format file: ip6tables-save's
/// header, a name such as `rules.v6` or `user6.rules`, or IPv6 addresses.
pub fn detect_family(path: &str, text: &str) -> Family {
    let head: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
    if head.contains("ip6tables-save") {
        return Family::Ipv6;
    }
    if head.contains("iptables-save") {
        return Family::Ipv4;
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name.contains(".v6") || name.contains("6.rules") || name.contains("ip6tables") || name.ends_with("6") {
        return Family::Ipv6;
    }
    if name.contains(".v4") || name.contains("iptables") {
        return Family::Ipv4;
    }
    let v6 = text.lines().any(|l| {
        (l.starts_with("-A") || l.starts_with("-I"))
            && (l.contains("icmpv6") || l.contains("ipv6-icmp") || l.contains("icmp6") || l.split_whitespace().any(|w| w.contains("::")))
    });
    if v6 { Family::Ipv6 } else { Family::Ipv4 }
}

/// Parses one file of the given family into a ruleset.
pub fn parse(path: &str, text: &str, family: Family) -> Parsed {
    let mut p = FileParser {
        path,
        text,
        family,
        errors: Vec::new(),
        tables: Vec::new(),
        open: None,
    };
    let mut offset = 0usize;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = (index + 1) as u32;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        p.line(line, offset, line_no);
        offset += raw.len() + 1;
    }
    if let Some(open) = p.open.take() {
        let at = text.len();
        p.error_at(ErrorKind::UnexpectedEnd, at, at, line_count(text), 1, format!("table `{}` is not closed, expected `COMMIT` before the end of the file", open.table.name));
        p.close(open);
    }
    let ruleset = Ruleset {
        sources: vec![Source { path: path.to_string(), text: text.to_string() }],
        families: vec![family],
        tables: p.tables,
    };
    Parsed { ruleset, errors: p.errors }
}

fn line_count(text: &str) -> u32 {
    text.split('\n').count() as u32
}

/// A table between its `*name` line and `COMMIT`.
struct OpenTable {
    table: Table,
    by_name: HashMap<String, usize>,
}

struct FileParser<'a> {
    path: &'a str,
    text: &'a str,
    family: Family,
    errors: Vec<ParseError>,
    tables: Vec<Table>,
    open: Option<OpenTable>,
}

const TABLES: &[&str] = &["filter", "nat", "mangle", "raw", "security"];

/// Built-in chains of a table with their hook, kind and netfilter priority.
fn builtin_chains(table: &str) -> Vec<(&'static str, BaseHook)> {
    use Hook::*;
    let b = |hook, kind, priority| BaseHook { hook, kind, priority };
    match table {
        "filter" => vec![("INPUT", b(Input, ChainKind::Filter, 0)), ("FORWARD", b(Forward, ChainKind::Filter, 0)), ("OUTPUT", b(Output, ChainKind::Filter, 0))],
        "nat" => vec![
            ("PREROUTING", b(Prerouting, ChainKind::Nat, -100)),
            ("INPUT", b(Input, ChainKind::Nat, 100)),
            ("OUTPUT", b(Output, ChainKind::Nat, -100)),
            ("POSTROUTING", b(Postrouting, ChainKind::Nat, 100)),
        ],
        "mangle" => vec![
            ("PREROUTING", b(Prerouting, ChainKind::Mangle, -150)),
            ("INPUT", b(Input, ChainKind::Mangle, -150)),
            ("FORWARD", b(Forward, ChainKind::Mangle, -150)),
            ("OUTPUT", b(Output, ChainKind::Mangle, -150)),
            ("POSTROUTING", b(Postrouting, ChainKind::Mangle, -150)),
        ],
        "raw" => vec![("PREROUTING", b(Prerouting, ChainKind::Raw, -300)), ("OUTPUT", b(Output, ChainKind::Raw, -300))],
        "security" => vec![("INPUT", b(Input, ChainKind::Security, 50)), ("FORWARD", b(Forward, ChainKind::Security, 50)), ("OUTPUT", b(Output, ChainKind::Security, 50))],
        _ => vec![],
    }
}

impl<'a> FileParser<'a> {
    fn column(&self, line_start: usize, at: usize) -> u32 {
        let end = at.min(self.text.len());
        let start = line_start.min(end);
        self.text.get(start..end).map(|s| s.chars().count() as u32 + 1).unwrap_or(1)
    }

    fn error_at(&mut self, kind: ErrorKind, start: usize, end: usize, line: u32, column: u32, message: String) {
        self.errors.push(ParseError { kind, path: self.path.to_string(), line, column, start: start as u32, end: end as u32, message });
    }

    /// An error at `at..at+len` bytes of the line starting at `line_start`.
    fn error(&mut self, kind: ErrorKind, line_start: usize, line_no: u32, at: usize, len: usize, message: String) {
        let column = self.column(line_start, line_start + at);
        self.error_at(kind, line_start + at, line_start + at + len, line_no, column, message);
    }

    fn span(&self, line_start: usize, at: usize, end: usize, line_no: u32) -> Span {
        Span { file: 0, line: line_no, column: self.column(line_start, line_start + at), start: (line_start + at) as u32, end: (line_start + end) as u32 }
    }

    fn line(&mut self, line: &str, start: usize, line_no: u32) {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        let body = trimmed.trim_end();
        if body.is_empty() || body.starts_with('#') {
            return;
        }
        let span = self.span(start, indent, indent + body.len(), line_no);
        if body.starts_with('*') {
            let name = lexer::table_header(body).map(|(_, n)| n).unwrap_or("");
            if let Some(open) = self.open.take() {
                let name = open.table.name.clone();
                self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), format!("table `{name}` is not closed, expected `COMMIT` before a new table"));
                self.close(open);
            }
            if !TABLES.contains(&name) {
                self.error(ErrorKind::BadReference, start, line_no, indent + 1, name.len(), format!("unknown table `{name}`, expected filter, nat, mangle, raw or security"));
                return;
            }
            self.open = Some(self.new_table(name, span));
            return;
        }
        if lexer::commit(body).is_ok_and(|(rest, _)| rest.is_empty()) {
            match self.open.take() {
                Some(open) => self.close(open),
                None => self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), "`COMMIT` without a table, expected a `*table` line before it".into()),
            }
            return;
        }
        if self.open.is_none() {
            self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), "expected a `*table` line before rules and chains".into());
            return;
        }
        if body.starts_with(':') {
            self.chain_decl(body, start, indent, line_no, span);
            return;
        }
        // `[packets:bytes] -A ...` as written by iptables-save -c.
        let (cmd_at, cmd) = match lexer::counters(body) {
            Ok((rest, _)) => {
                let r = rest.trim_start();
                (indent + body.len() - r.len(), r)
            }
            Err(_) => (indent, body),
        };
        let toks = match lexer::tokens(cmd) {
            Ok(t) => t,
            Err(lexer::UnclosedQuote(at)) => {
                self.error(ErrorKind::Syntax, start, line_no, cmd_at + at, 1, "quote is not closed, expected a `\"` before the end of the line".into());
                return;
            }
        };
        self.command(&toks, start, cmd_at, line_no, span);
    }

    fn new_table(&self, name: &str, span: Span) -> OpenTable {
        let mut table = Table { family: self.family, name: name.to_string(), span, chains: Vec::new() };
        let mut by_name = HashMap::new();
        for (chain, base) in builtin_chains(name) {
            by_name.insert(chain.to_string(), table.chains.len());
            table.chains.push(Chain { name: chain.to_string(), base: Some(base), policy: Some(Policy::Accept), span, rules: Vec::new() });
        }
        OpenTable { table, by_name }
    }

    fn chain_decl(&mut self, body: &str, start: usize, indent: usize, line_no: u32, span: Span) {
        let Ok((rest, decl)) = lexer::chain_decl(body) else {
            self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), "malformed chain line, expected `:NAME POLICY [packets:bytes]`".into());
            return;
        };
        if !rest.is_empty() {
            let at = indent + body.len() - rest.len();
            self.error(ErrorKind::Syntax, start, line_no, at, rest.len(), format!("unexpected `{rest}` after the chain declaration"));
            return;
        }
        let policy_at = indent + body.find(decl.policy).unwrap_or(0);
        let Some(open) = self.open.as_mut() else { return };
        let existing = open.by_name.get(decl.name).copied();
        let builtin = existing.is_some_and(|i| open.table.chains[i].base.is_some());
        let policy = match (builtin, decl.policy) {
            (true, "ACCEPT") => Some(Policy::Accept),
            (true, "DROP") => Some(Policy::Drop),
            (false, "-") => None,
            (true, other) => {
                let msg = format!("invalid policy `{other}` for built-in chain {}, expected ACCEPT or DROP", decl.name);
                self.error(ErrorKind::InvalidValue, start, line_no, policy_at, other.len(), msg);
                return;
            }
            (false, other) => {
                let msg = format!("user chain {} cannot have policy `{other}`, expected `-`", decl.name);
                self.error(ErrorKind::InvalidValue, start, line_no, policy_at, other.len(), msg);
                return;
            }
        };
        match existing {
            Some(i) if builtin => {
                let chain = &mut open.table.chains[i];
                chain.policy = policy;
                chain.span = span;
            }
            Some(_) => {
                let msg = format!("chain {} is declared twice", decl.name);
                self.error(ErrorKind::BadReference, start, line_no, indent + 1, decl.name.len(), msg);
            }
            None => {
                if decl.name.len() > 28 {
                    let msg = format!("chain name `{}` is longer than 28 characters", decl.name);
                    self.error(ErrorKind::InvalidValue, start, line_no, indent + 1, decl.name.len(), msg);
                    return;
                }
                open.by_name.insert(decl.name.to_string(), open.table.chains.len());
                open.table.chains.push(Chain { name: decl.name.to_string(), base: None, policy: None, span, rules: Vec::new() });
            }
        }
    }

    fn command(&mut self, toks: &[lexer::Token<'_>], start: usize, cmd_at: usize, line_no: u32, span: Span) {
        let Some(first) = toks.first() else { return };
        let at = |t: &lexer::Token<'_>| cmd_at + t.offset;
        let chain_arg = toks.get(1);
        let Some(chain_tok) = chain_arg else {
            self.error(ErrorKind::MissingArgument, start, line_no, at(first), first.text.len(), format!("`{}` expects a chain name", first.text));
            return;
        };
        let chain_name = chain_tok.text.as_ref();
        let cmd = first.text.as_ref();
        let Some(open) = self.open.as_mut() else { return };
        let chain_index = open.by_name.get(chain_name).copied();
        let missing_chain = |p: &mut Self| {
            let msg = format!("chain `{chain_name}` does not exist in table {}, declare it with `:{chain_name} - [0:0]`", p.open.as_ref().map(|o| o.table.name.as_str()).unwrap_or(""));
            p.error(ErrorKind::BadReference, start, line_no, at(chain_tok), chain_tok.text.len(), msg);
        };
        match cmd {
            "-A" | "--append" | "-I" | "--insert" => {
                let Some(ci) = chain_index else { return missing_chain(self) };
                let mut rest = &toks[2..];
                let mut position: Option<usize> = None;
                if matches!(cmd, "-I" | "--insert") {
                    if let Some(n) = rest.first().and_then(|t| t.text.parse::<usize>().ok()) {
                        position = Some(n.max(1) - 1);
                        rest = &rest[1..];
                    } else {
                        position = Some(0);
                    }
                }
                match rule::rule_spec(rest, self.family) {
                    Ok(None) => {}
                    Ok(Some(spec)) => {
                        let Some(open) = self.open.as_mut() else { return };
                        let rules = &mut open.table.chains[ci].rules;
                        let ri = position.map(|p| p.min(rules.len())).unwrap_or(rules.len());
                        rules.insert(ri, Rule { span, matches: spec.matches, action: spec.action });
                    }
                    Err(e) => {
                        self.error(e.kind, start, line_no, cmd_at + e.offset, e.len, e.message);
                    }
                }
            }
            "-N" | "--new-chain" => {
                if chain_index.is_some() {
                    self.error(ErrorKind::BadReference, start, line_no, at(chain_tok), chain_tok.text.len(), format!("chain {chain_name} already exists"));
                    return;
                }
                let idx = open.table.chains.len();
                open.by_name.insert(chain_name.to_string(), idx);
                open.table.chains.push(Chain { name: chain_name.to_string(), base: None, policy: None, span, rules: Vec::new() });
            }
            "-P" | "--policy" => {
                let Some(ci) = chain_index.filter(|i| open.table.chains[*i].base.is_some()) else {
                    let msg = format!("`-P` needs a built-in chain of table {}, found `{chain_name}`", open.table.name);
                    self.error(ErrorKind::BadReference, start, line_no, at(chain_tok), chain_tok.text.len(), msg);
                    return;
                };
                let policy = match toks.get(2).map(|t| t.text.as_ref()) {
                    Some("ACCEPT") => Policy::Accept,
                    Some("DROP") => Policy::Drop,
                    _ => {
                        let t = toks.get(2).unwrap_or(chain_tok);
                        self.error(ErrorKind::InvalidValue, start, line_no, at(t), t.text.len(), "expected the policy ACCEPT or DROP".into());
                        return;
                    }
                };
                let chain = &mut open.table.chains[ci];
                chain.policy = Some(policy);
                chain.span = span;
            }
            "-F" | "--flush" => match chain_index {
                Some(ci) => {
                    open.table.chains[ci].rules.clear();
                }
                None => missing_chain(self),
            },
            "-X" | "--delete-chain" => match chain_index {
                Some(ci) if open.table.chains[ci].base.is_none() => {
                    // Keep indices stable: an emptied, unreachable chain is the same as a deleted one.
                    open.table.chains[ci].rules.clear();
                    open.by_name.remove(chain_name);
                }
                _ => missing_chain(self),
            },
            "-Z" | "--zero" => {}
            _ => {
                let known = ["-D", "--delete", "-R", "--replace", "-C", "--check", "-L", "--list", "-S", "--list-rules", "-E", "--rename-chain", "-h", "--help"];
                let (kind, msg) = if known.contains(&cmd) {
                    (ErrorKind::Unsupported, format!("command `{cmd}` is not allowed in a restore file, expected -A, -I, -N, -P, -F, -X or -Z"))
                } else {
                    (ErrorKind::Syntax, format!("unexpected `{cmd}`, expected a command such as -A CHAIN, a `:CHAIN` line or COMMIT"))
                };
                self.error(kind, start, line_no, at(first), first.text.len(), msg);
            }
        }
    }

    /// Ends a table: checks that every jump and goto names an existing user
    /// chain (dropping the rules that do not, with an error each), then keeps
    /// the table, replacing an earlier block of the same name.
    fn close(&mut self, mut open: OpenTable) {
        let table_name = open.table.name.clone();
        let mut errors = Vec::new();
        let by_name = &open.by_name;
        let bases: Vec<bool> = open.table.chains.iter().map(|c| c.base.is_some()).collect();
        for chain in &mut open.table.chains {
            chain.rules.retain(|rule| {
                let (Action::Jump { chain: target } | Action::Goto { chain: target }) = &rule.action else { return true };
                let msg = match by_name.get(target.as_str()) {
                    Some(i) if !bases[*i] => return true,
                    Some(_) => format!("cannot jump to built-in chain `{target}`"),
                    None => format!("no chain or target named `{target}` in table {table_name}"),
                };
                errors.push((rule.span, target.clone(), msg));
                false
            });
        }
        for (span, target, msg) in errors {
            // Point at the target name, the last occurrence of it in the rule.
            let text = self.text.get(span.start as usize..span.end as usize).unwrap_or("");
            let at = text.rfind(target.as_str()).unwrap_or(0);
            let line_start = self.text.get(..span.start as usize).and_then(|t| t.rfind('\n')).map(|i| i + 1).unwrap_or(0);
            let column = self.column(line_start, span.start as usize + at);
            self.error_at(ErrorKind::BadReference, span.start as usize + at, span.start as usize + at + target.len(), span.line, column, msg);
        }
        self.errors.sort_by_key(|e| (e.line, e.column));
        self.tables.retain(|t| t.name != open.table.name);
        self.tables.push(open.table);
    }
}

#[cfg(test)]
mod tests;
