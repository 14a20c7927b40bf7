//! iptables-save / ip6tables-save / iptables-restore files (also ufw's rule files).
//!
//! ```text
//! file      = *line
//! line      = blank | comment | table-header | chain-decl | command | "COMMIT"
//! command   = [counters] *option command-word args
//! ```
//!
//! Each `*table` block replaces an earlier block of the same table, as
//! iptables-restore without `--noflush` does. Errors are collected and parsing
//! resumes at the next line.

mod extensions;
mod lexer;
mod local;
mod rule;
mod scan;
pub(crate) mod values;

pub use local::model_local_delivery;

use crate::Parsed;
use crate::error::{ErrorKind, ParseError};
use crate::line_index::LineIndex;
use crate::model::{
    Action, BaseHook, Chain, ChainKind, Family, Hook, Match, Nat, Policy, Rule, Ruleset, Source,
    Span, Table,
};
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
    if name.contains(".v6")
        || name.contains("6.rules")
        || name.contains("ip6tables")
        || name.ends_with('6')
    {
        return Family::Ipv6;
    }
    if name.contains(".v4") || name.contains("iptables") {
        return Family::Ipv4;
    }
    let v6 = text.lines().any(|l| {
        (l.starts_with("-A") || l.starts_with("-I"))
            && (l.contains("icmpv6")
                || l.contains("ipv6-icmp")
                || l.contains("icmp6")
                || l.split_whitespace().any(|w| w.contains("::")))
    });
    if v6 { Family::Ipv6 } else { Family::Ipv4 }
}

/// Parses one file of the given family into a ruleset.
pub fn parse(path: &str, text: &str, family: Family) -> Parsed {
    parse_into(path, text, family, || text.to_string())
}

/// Like [`parse`], keeping `text` itself as the ruleset's source instead of
/// a copy: a big file is then held once.
pub fn parse_owned(path: &str, text: String, family: Family) -> Parsed {
    let mut parsed = parse_into(path, &text, family, String::new);
    if let Some(source) = parsed.ruleset.sources.first_mut() {
        source.text = text;
    }
    parsed
}

/// Applies one file on top of `base` as `iptables-restore --noflush` does:
/// the tables the file names start from `base`'s tables of the same family,
/// a declared user chain is flushed, a built-in chain keeps its rules (its
/// policy changes if the line gives one), and `-A`/`-I`/jumps may name the
/// chains `base` already has. The file becomes the next source of `base`,
/// so spans of earlier files stay valid. ufw loads its files this way, over
/// chains its init script made.
pub fn parse_noflush(path: &str, text: &str, family: Family, base: Ruleset) -> Parsed {
    let Ruleset {
        mut sources,
        mut families,
        tables,
        skipped,
    } = base;
    let file = u32::try_from(sources.len()).unwrap_or(u32::MAX);
    let (seed, mut others): (Vec<Table>, Vec<Table>) =
        tables.into_iter().partition(|t| t.family == family);
    let (tables, errors) = parse_tables(path, text, family, file, true, seed);
    sources.push(Source {
        path: path.to_string(),
        text: text.to_string(),
    });
    if !families.contains(&family) {
        families.push(family);
    }
    others.extend(tables);
    Parsed {
        ruleset: Ruleset {
            sources,
            families,
            tables: others,
            skipped,
        },
        errors,
    }
}

fn parse_into(
    path: &str,
    text: &str,
    family: Family,
    source_text: impl FnOnce() -> String,
) -> Parsed {
    let (tables, mut errors) = parse_tables(path, text, family, 0, false, Vec::new());
    let ruleset = Ruleset {
        sources: vec![Source {
            path: path.to_string(),
            text: source_text(),
        }],
        families: vec![family],
        tables,
        skipped: Vec::new(),
    };
    errors.extend(crate::jumps::problems(
        &ruleset,
        Some(crate::jumps::NFT_JUMP_STACK),
    ));
    Parsed { ruleset, errors }
}

/// The tables of one file and its errors; its spans name source `file`.
/// With `noflush` the file is read over the `seed` tables (see
/// [`parse_noflush`]).
fn parse_tables(
    path: &str,
    text: &str,
    family: Family,
    file: u32,
    noflush: bool,
    seed: Vec<Table>,
) -> (Vec<Table>, Vec<ParseError>) {
    let mut p = FileParser {
        path,
        text,
        lines: LineIndex::new(text),
        family,
        errors: Vec::new(),
        tables: Vec::new(),
        open: None,
        tokens: Vec::new(),
        matches: Vec::new(),
        file,
        noflush,
        seed,
    };
    // The line index found the lines once: read them from it.
    let mut index = 0;
    while let Some((offset, raw)) = p.lines.line(index) {
        index += 1;
        let line_no = u32::try_from(index).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        p.line(line, offset, line_no);
    }
    if let Some(open) = p.open.take() {
        let at = text.len();
        let msg = format!(
            "table `{}` is not closed, expected `COMMIT` before the end of the file",
            open.name
        );
        let last_line = p.lines.line_count();
        p.error_at(ErrorKind::UnexpectedEnd, at, at, last_line, 1, msg);
        p.close(open);
    }
    p.errors.sort_by_key(|e| (e.line, e.column));
    // Tables the file did not name stay as they were.
    let mut tables = p.tables;
    tables.append(&mut p.seed);
    (tables, p.errors)
}

/// The rules of a chain under construction.
///
/// `-A` appends and `-I` inserts at a position. Inserting into a `Vec` moves
/// every later rule, so a file of many `-I` lines would take quadratic time;
/// instead each rule is recorded with the position it was inserted at, and
/// [`RuleList::finish`] places them all at once in O(n log n). Positions are
/// recorded only from the first insertion that is not at the end: a chain of
/// appends is already in order.
#[derive(Debug, Default)]
struct RuleList {
    /// In the order the lines came.
    rules: Vec<Rule>,
    /// `positions[i]` is where `rules[i]` was inserted; empty while every
    /// rule was appended.
    positions: Vec<usize>,
}

impl RuleList {
    fn new() -> Self {
        RuleList::default()
    }

    fn len(&self) -> usize {
        self.rules.len()
    }

    /// Inserts before the rule at `position` (clamped to the end).
    fn insert(&mut self, position: usize, rule: Rule) {
        let len = self.rules.len();
        let position = position.min(len);
        if self.positions.is_empty() && position < len {
            // Until now each rule went to the end, which was its index.
            self.positions.extend(0..len);
        }
        if !self.positions.is_empty() || position < len {
            self.positions.push(position);
        }
        self.rules.push(rule);
    }

    fn push(&mut self, rule: Rule) {
        self.insert(usize::MAX, rule);
    }

    fn clear(&mut self) -> Vec<Rule> {
        self.positions.clear();
        std::mem::take(&mut self.rules)
    }

    /// The rules in chain order, in a vector of their exact size. Going
    /// backwards through the insertions, each rule takes the free slot whose
    /// rank among the free slots is its insertion position: later insertions
    /// only shift earlier rules, never reorder them.
    fn finish(self) -> Vec<Rule> {
        let RuleList {
            mut rules,
            positions,
        } = self;
        if positions.is_empty() {
            rules.shrink_to_fit();
            return rules;
        }
        let n = rules.len();
        let mut free = FreeSlots::new(n);
        let mut slots: Vec<Option<Rule>> = (0..n).map(|_| None).collect();
        for (position, rule) in positions.into_iter().zip(rules).rev() {
            let slot = free.take_nth(position);
            if let Some(s) = slots.get_mut(slot) {
                *s = Some(rule);
            }
        }
        slots.into_iter().flatten().collect()
    }
}

/// A Fenwick tree over `n` slots counting the free ones.
struct FreeSlots {
    tree: Vec<usize>,
}

impl FreeSlots {
    fn new(n: usize) -> Self {
        // Every slot starts free: tree[i] covers (i - lowbit(i), i].
        let tree = (0..=n)
            .map(|i| if i == 0 { 0 } else { i & i.wrapping_neg() })
            .collect();
        FreeSlots { tree }
    }

    /// Marks the free slot of rank `k` (0-based) taken and returns its index.
    /// A rank past the last free slot takes the last free slot.
    fn take_nth(&mut self, k: usize) -> usize {
        let n = self.tree.len() - 1;
        let free_total = self.prefix(n);
        let k = k.min(free_total.saturating_sub(1));
        // Binary descent: find the smallest index whose prefix count is k+1.
        let mut pos = 0usize;
        let mut remaining = k + 1;
        let mut step = if n == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - n.leading_zeros())
        };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree.get(next).is_some_and(|c| *c < remaining) {
                pos = next;
                remaining -= self.tree.get(next).copied().unwrap_or(0);
            }
            step >>= 1;
        }
        // `pos + 1` is the 1-based slot; mark it taken.
        let mut i = pos + 1;
        while i <= n {
            if let Some(c) = self.tree.get_mut(i) {
                *c = c.saturating_sub(1);
            }
            i += i & i.wrapping_neg();
        }
        pos
    }

    fn prefix(&self, mut i: usize) -> usize {
        let mut sum = 0;
        while i > 0 {
            sum += self.tree.get(i).copied().unwrap_or(0);
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// A chain between its declaration and `COMMIT`.
struct OpenChain {
    name: String,
    base: Option<BaseHook>,
    policy: Option<Policy>,
    span: Span,
    rules: RuleList,
    /// Removed by `-X`; kept so indices stay stable until the table closes.
    deleted: bool,
}

/// A table between its `*name` line and `COMMIT`.
struct OpenTable {
    name: &'static str,
    span: Span,
    chains: Vec<OpenChain>,
    by_name: HashMap<String, usize>,
    /// How many rules jump or go to each chain, so `-X` can refuse a chain in use.
    references: HashMap<String, usize>,
    /// The chain of the last lookup: rules of one chain come in a run.
    last_chain: Option<usize>,
}

impl OpenTable {
    fn reference(&mut self, rule: &Rule, delta: isize) {
        if let Action::Jump { chain } | Action::Goto { chain } = &rule.action {
            match self.references.get_mut(chain.as_str()) {
                Some(count) => *count = count.saturating_add_signed(delta),
                None => {
                    self.references
                        .insert(chain.clone(), 0usize.saturating_add_signed(delta));
                }
            }
        }
    }

    /// The index of the live chain `name`.
    fn chain_index(&mut self, name: &str) -> Option<usize> {
        // Live chains have distinct names and all are in `by_name`, so a live
        // chain of that name at the last index is the answer.
        if let Some(i) = self.last_chain
            && self
                .chains
                .get(i)
                .is_some_and(|c| !c.deleted && c.name == name)
        {
            return Some(i);
        }
        let found = self.by_name.get(name).copied();
        if found.is_some() {
            self.last_chain = found;
        }
        found
    }

    fn flush(&mut self, index: usize) {
        let removed = match self.chains.get_mut(index) {
            Some(c) => c.rules.clear(),
            None => return,
        };
        for rule in &removed {
            self.reference(rule, -1);
        }
    }
}

struct FileParser<'a> {
    path: &'a str,
    text: &'a str,
    /// Turns offsets into columns (and counts the lines for the last one).
    lines: LineIndex<'a>,
    family: Family,
    errors: Vec<ParseError>,
    tables: Vec<Table>,
    open: Option<OpenTable>,
    /// The tokens of the current line; kept to reuse its allocation.
    tokens: Vec<lexer::Token<'a>>,
    /// The matches of the current rule, likewise.
    matches: Vec<Match>,
    /// This file's index among the ruleset's sources, for its spans.
    file: u32,
    /// Read as `iptables-restore --noflush`: a table named twice goes on
    /// from where the first block left it instead of replacing it.
    noflush: bool,
    /// In `--noflush` mode, the tables as they were before this file, taken
    /// out when the file names them.
    seed: Vec<Table>,
}

const TABLES: &[&str] = &["filter", "nat", "mangle", "raw", "security"];

/// Names a user chain may not have: the standard verdicts.
const RESERVED_CHAIN_NAMES: &[&str] = &["ACCEPT", "DROP", "QUEUE", "RETURN"];

/// Longest chain name iptables accepts.
const MAX_CHAIN_NAME: usize = 28;

/// Built-in chains of a table with their hook, kind and netfilter priority.
fn builtin_chains(table: &str) -> Vec<(&'static str, BaseHook)> {
    use Hook::*;
    let b = |hook, kind, priority| BaseHook {
        hook,
        kind,
        priority,
    };
    match table {
        "filter" => vec![
            ("INPUT", b(Input, ChainKind::Filter, 0)),
            ("FORWARD", b(Forward, ChainKind::Filter, 0)),
            ("OUTPUT", b(Output, ChainKind::Filter, 0)),
        ],
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
        "raw" => vec![
            ("PREROUTING", b(Prerouting, ChainKind::Raw, -300)),
            ("OUTPUT", b(Output, ChainKind::Raw, -300)),
        ],
        "security" => vec![
            ("INPUT", b(Input, ChainKind::Security, 50)),
            ("FORWARD", b(Forward, ChainKind::Security, 50)),
            ("OUTPUT", b(Output, ChainKind::Security, 50)),
        ],
        _ => vec![],
    }
}

/// The command words of a restore line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Append,
    Insert,
    NewChain,
    Policy,
    Flush,
    DeleteChain,
    Zero,
    /// Valid for iptables, but not a way to build a ruleset from a file.
    Unsupported,
}

fn command_word(text: &str) -> Option<Command> {
    Some(match text {
        "-A" | "--append" => Command::Append,
        "-I" | "--insert" => Command::Insert,
        "-N" | "--new-chain" => Command::NewChain,
        "-P" | "--policy" => Command::Policy,
        "-F" | "--flush" => Command::Flush,
        "-X" | "--delete-chain" => Command::DeleteChain,
        "-Z" | "--zero" => Command::Zero,
        "-D" | "--delete" | "-R" | "--replace" | "-C" | "--check" | "-L" | "--list" | "-S"
        | "--list-rules" | "-E" | "--rename-chain" | "-h" | "--help" | "-V" | "--version" => {
            Command::Unsupported
        }
        _ => return None,
    })
}

/// The hooks a chain is reached from, as a bit set.
fn hook_bit(hook: Hook) -> u8 {
    match hook {
        Hook::Prerouting => 1,
        Hook::Input => 2,
        Hook::Forward => 4,
        Hook::Output => 8,
        Hook::Postrouting => 16,
    }
}

const ALL_HOOKS: [Hook; 5] = [
    Hook::Prerouting,
    Hook::Input,
    Hook::Forward,
    Hook::Output,
    Hook::Postrouting,
];

fn hook_chain_name(hook: Hook) -> &'static str {
    match hook {
        Hook::Prerouting => "PREROUTING",
        Hook::Input => "INPUT",
        Hook::Forward => "FORWARD",
        Hook::Output => "OUTPUT",
        Hook::Postrouting => "POSTROUTING",
    }
}

/// The target whose hooks an action is restricted to, and those hooks.
fn restricted_target(action: &Action) -> Option<(&'static str, &'static [Hook])> {
    let name = match action {
        Action::Reject { .. } => "REJECT",
        Action::Nat(Nat::Dnat { .. }) => "DNAT",
        Action::Nat(Nat::Snat { .. }) => "SNAT",
        Action::Nat(Nat::Masquerade { .. }) => "MASQUERADE",
        Action::Nat(Nat::Redirect { .. }) => "REDIRECT",
        _ => return None,
    };
    extensions::target_extension(name)
        .filter(|e| !e.hooks.is_empty())
        .map(|e| (name, e.hooks))
}

/// ip6tables' `rt` match is read by its module name alone: every option of
/// it tests the routing header, so whatever they say, it needs one.
fn routing_header_matches(matches: &mut [Match]) {
    for m in matches {
        if let Match::Unknown { text } = m
            && (text == "rt" || text.starts_with("rt "))
        {
            *m = Match::RoutingHeader {
                text: std::mem::take(text),
            };
        }
    }
}

/// A ufw rule file jumps to chains ufw creates itself before it loads the
/// file with `iptables-restore --noflush` (`ufw-logging-deny`, ...).
fn is_ufw_chain(name: &str) -> bool {
    name.starts_with("ufw-") || name.starts_with("ufw6-")
}

impl<'a> FileParser<'a> {
    /// The column of byte `at`; its line is the one being read, whose
    /// number the caller knows.
    fn column(&self, at: usize) -> u32 {
        self.lines.position(at).1
    }

    fn error_at(
        &mut self,
        kind: ErrorKind,
        start: usize,
        end: usize,
        line: u32,
        column: u32,
        message: String,
    ) {
        // Offsets come from tokens whose text may differ from the source
        // (quotes, escapes): widen the range to whole characters in the text.
        let len = self.text.len();
        let mut start = start.min(len);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = end.clamp(start, len);
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        let (start, end) = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(end).unwrap_or(u32::MAX),
        );
        self.errors.push(ParseError {
            kind,
            path: self.path.to_string(),
            line,
            column,
            start,
            end,
            message: crate::error::shorten(message),
        });
    }

    /// An error at `at..at+len` bytes of the line starting at `line_start`.
    fn error(
        &mut self,
        kind: ErrorKind,
        line_start: usize,
        line_no: u32,
        at: usize,
        len: usize,
        message: String,
    ) {
        let column = self.column(line_start + at);
        self.error_at(
            kind,
            line_start + at,
            line_start + at + len,
            line_no,
            column,
            message,
        );
    }

    fn span(&self, line_start: usize, at: usize, end: usize, line_no: u32) -> Span {
        let offset = |n: usize| u32::try_from(line_start + n).unwrap_or(u32::MAX);
        Span {
            file: self.file,
            line: line_no,
            column: self.column(line_start + at),
            start: offset(at),
            end: offset(end),
        }
    }

    fn line(&mut self, line: &'a str, start: usize, line_no: u32) {
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
                let msg = format!(
                    "table `{}` is not closed, expected `COMMIT` before a new table",
                    open.name
                );
                self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), msg);
                self.close(open);
            }
            let Some(name) = TABLES.iter().copied().find(|t| *t == name) else {
                let msg = format!(
                    "unknown table `{name}`, expected filter, nat, mangle, raw or security"
                );
                self.error(
                    ErrorKind::BadReference,
                    start,
                    line_no,
                    indent + 1,
                    name.len(),
                    msg,
                );
                return;
            };
            self.open = Some(self.new_table(name, span));
            return;
        }
        if body.starts_with('C') && lexer::commit(body).is_ok_and(|(rest, _)| rest.is_empty()) {
            match self.open.take() {
                Some(open) => self.close(open),
                None => self.error(
                    ErrorKind::Syntax,
                    start,
                    line_no,
                    indent,
                    body.len(),
                    "`COMMIT` without a table, expected a `*table` line before it".into(),
                ),
            }
            return;
        }
        if self.open.is_none() {
            let first = body.split_whitespace().next().unwrap_or(body);
            let msg = format!(
                "`{first}` outside a table, expected a `*table` line before rules and chains"
            );
            self.error(ErrorKind::Syntax, start, line_no, indent, body.len(), msg);
            return;
        }
        if body.starts_with(':') {
            self.chain_decl(body, start, indent, line_no, span);
            return;
        }
        // `[packets:bytes] -A ...` as written by iptables-save -c.
        let counted = if body.starts_with('[') {
            lexer::counters(body).ok()
        } else {
            None
        };
        let (cmd_at, cmd) = match counted {
            Some((rest, _)) => {
                let r = rest.trim_start();
                (indent + body.len() - r.len(), r)
            }
            None => (indent, body),
        };
        let mut toks = std::mem::take(&mut self.tokens);
        match lexer::tokens_into(cmd, &mut toks) {
            Ok(()) => self.command(&toks, start, cmd_at, line_no, span),
            Err(lexer::UnclosedQuote(at)) => {
                self.error(
                    ErrorKind::Syntax,
                    start,
                    line_no,
                    cmd_at + at,
                    1,
                    "quote `\"` is not closed, expected a `\"` before the end of the line".into(),
                );
            }
        }
        self.tokens = toks;
    }

    fn new_table(&mut self, name: &'static str, span: Span) -> OpenTable {
        let mut table = OpenTable {
            name,
            span,
            chains: Vec::new(),
            by_name: HashMap::new(),
            references: HashMap::new(),
            last_chain: None,
        };
        if self.noflush {
            let earlier = match self.tables.iter().position(|t| t.name == name) {
                Some(i) => Some(self.tables.remove(i)),
                None => self
                    .seed
                    .iter()
                    .position(|t| t.name == name)
                    .map(|i| self.seed.remove(i)),
            };
            if let Some(earlier) = earlier {
                for chain in earlier.chains {
                    let mut rules = RuleList::new();
                    for rule in chain.rules {
                        table.reference(&rule, 1);
                        rules.push(rule);
                    }
                    table.by_name.insert(chain.name.clone(), table.chains.len());
                    table.chains.push(OpenChain {
                        name: chain.name,
                        base: chain.base,
                        policy: chain.policy,
                        span: chain.span,
                        rules,
                        deleted: false,
                    });
                }
                return table;
            }
        }
        for (chain, base) in builtin_chains(name) {
            table.by_name.insert(chain.to_string(), table.chains.len());
            table.chains.push(OpenChain {
                name: chain.to_string(),
                base: Some(base),
                policy: Some(Policy::Accept),
                span,
                rules: RuleList::new(),
                deleted: false,
            });
        }
        table
    }

    /// Why `name` cannot name a new user chain, if it cannot.
    fn bad_chain_name(name: &str) -> Option<String> {
        if name.len() > MAX_CHAIN_NAME {
            Some(format!(
                "chain name `{name}` is longer than {MAX_CHAIN_NAME} characters"
            ))
        } else if name.starts_with(['-', '!']) {
            Some(format!("chain name `{name}` may not start with `-` or `!`"))
        } else if RESERVED_CHAIN_NAMES.contains(&name) {
            Some(format!(
                "chain name `{name}` is a standard target, choose another name"
            ))
        } else {
            None
        }
    }

    fn chain_decl(&mut self, body: &str, start: usize, indent: usize, line_no: u32, span: Span) {
        // iptables-restore reads the name and policy and ignores what follows.
        let Ok((_, decl)) = lexer::chain_decl(body) else {
            self.error(
                ErrorKind::Syntax,
                start,
                line_no,
                indent,
                body.len(),
                format!("malformed chain line `{body}`, expected `:NAME POLICY [packets:bytes]`"),
            );
            return;
        };
        let after_name = 1 + decl.name.len();
        let policy_at = indent
            + after_name
            + body
                .get(after_name..)
                .and_then(|r| r.find(decl.policy))
                .unwrap_or(0);
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let existing = open.chain_index(decl.name);
        let builtin =
            existing.is_some_and(|i| open.chains.get(i).is_some_and(|c| c.base.is_some()));
        if builtin {
            let policy = match decl.policy {
                "ACCEPT" => Some(Policy::Accept),
                "DROP" => Some(Policy::Drop),
                // `-` keeps the current policy.
                "-" => None,
                other => {
                    let msg = format!(
                        "invalid policy `{other}` for built-in chain {}, expected ACCEPT, DROP or `-`",
                        decl.name
                    );
                    self.error(
                        ErrorKind::InvalidValue,
                        start,
                        line_no,
                        policy_at,
                        other.len(),
                        msg,
                    );
                    return;
                }
            };
            if let Some(chain) = existing.and_then(|i| open.chains.get_mut(i)) {
                if policy.is_some() {
                    chain.policy = policy;
                }
                chain.span = span;
            }
            return;
        }
        // A user chain's policy is ignored; declaring it again flushes it.
        match existing {
            Some(i) => open.flush(i),
            None => {
                if let Some(msg) = Self::bad_chain_name(decl.name) {
                    self.error(
                        ErrorKind::InvalidValue,
                        start,
                        line_no,
                        indent + 1,
                        decl.name.len(),
                        msg,
                    );
                    return;
                }
                open.by_name
                    .insert(decl.name.to_string(), open.chains.len());
                open.chains.push(OpenChain {
                    name: decl.name.to_string(),
                    base: None,
                    policy: None,
                    span,
                    rules: RuleList::new(),
                    deleted: false,
                });
            }
        }
    }

    fn command(
        &mut self,
        toks: &[lexer::Token<'_>],
        start: usize,
        cmd_at: usize,
        line_no: u32,
        span: Span,
    ) {
        let at = |t: &lexer::Token<'_>| cmd_at + t.offset;
        // The command may follow other options (`-4 -A INPUT ...`).
        let found = toks.iter().enumerate().find_map(|(i, t)| {
            if t.quoted {
                None
            } else {
                command_word(&t.text).map(|c| (i, c))
            }
        });
        let Some((ci, command)) = found else {
            let Some(first) = toks.first() else { return };
            let msg = format!(
                "unexpected `{}`, expected a command such as -A CHAIN, a `:CHAIN` line or COMMIT",
                first.text
            );
            self.error(
                ErrorKind::Syntax,
                start,
                line_no,
                at(first),
                first.text.len(),
                msg,
            );
            return;
        };
        let Some(cmd_tok) = toks.get(ci) else { return };
        let word: &str = &cmd_tok.text;
        if command == Command::Unsupported {
            let msg = format!(
                "command `{word}` is not allowed in a restore file, expected -A, -I, -N, -P, -F, -X or -Z"
            );
            self.error(
                ErrorKind::Unsupported,
                start,
                line_no,
                at(cmd_tok),
                word.len(),
                msg,
            );
            return;
        }
        if ci > 0 && !matches!(command, Command::Append | Command::Insert) {
            let first = toks.first().unwrap_or(cmd_tok);
            let msg = format!(
                "unexpected `{}` before `{word}`, expected the command first",
                first.text
            );
            self.error(
                ErrorKind::Syntax,
                start,
                line_no,
                at(first),
                first.text.len(),
                msg,
            );
            return;
        }
        let chain_tok = toks
            .get(ci + 1)
            .filter(|t| t.quoted || !t.text.starts_with('-') || t.text.len() == 1);
        let chain_name: Option<&str> = chain_tok.map(|t| t.text.as_ref());
        let table_name = self.open.as_ref().map(|o| o.name).unwrap_or_default();
        let chain_index =
            chain_name.and_then(|n| self.open.as_mut().and_then(|o| o.chain_index(n)));
        let missing_chain = |p: &mut Self, t: &lexer::Token<'_>| {
            let msg = format!(
                "chain `{}` does not exist in table {table_name}, declare it with `:{} - [0:0]`",
                t.text, t.text
            );
            p.error(
                ErrorKind::BadReference,
                start,
                line_no,
                at(t),
                t.text.len(),
                msg,
            );
        };
        let needs_chain = |p: &mut Self| {
            p.error(
                ErrorKind::MissingArgument,
                start,
                line_no,
                at(cmd_tok),
                word.len(),
                format!("`{word}` expects a chain name"),
            );
        };
        // Arguments of the command end here; for -A/-I the rule follows.
        let mut rest = ci + 2;
        match command {
            Command::Append | Command::Insert => {
                let Some(chain_tok) = chain_tok else {
                    return needs_chain(self);
                };
                let Some(index) = chain_index else {
                    return missing_chain(self, chain_tok);
                };
                let mut position = None;
                if command == Command::Insert {
                    position = Some(0);
                    if let Some(n) = toks.get(rest).filter(|t| {
                        !t.quoted
                            && !t.text.is_empty()
                            && t.text.bytes().all(|b| b.is_ascii_digit())
                    }) {
                        match n.text.parse::<usize>() {
                            Ok(n) if n >= 1 => position = Some(n - 1),
                            _ => {
                                let msg = format!(
                                    "rule number `{}` is invalid, expected 1 or more",
                                    n.text
                                );
                                return self.error(
                                    ErrorKind::InvalidValue,
                                    start,
                                    line_no,
                                    at(n),
                                    n.text.len(),
                                    msg,
                                );
                            }
                        }
                        rest += 1;
                    }
                }
                let before = toks.get(..ci).unwrap_or(&[]);
                let after = toks.get(rest..).unwrap_or(&[]);
                let spec_tokens: std::borrow::Cow<'_, [lexer::Token<'_>]> = if before.is_empty() {
                    std::borrow::Cow::Borrowed(after)
                } else {
                    std::borrow::Cow::Owned(before.iter().chain(after).cloned().collect())
                };
                let chain = chain_name.unwrap_or_default();
                let ctx = rule::RuleContext {
                    family: self.family,
                    table: table_name,
                    chain,
                };
                match rule::rule_spec_with(&spec_tokens, ctx, &mut self.matches) {
                    Ok(None) => {}
                    Ok(Some(spec)) => {
                        let Some(open) = self.open.as_mut() else {
                            return;
                        };
                        let mut matches = spec.matches;
                        if self.family == Family::Ipv6 {
                            routing_header_matches(&mut matches);
                        }
                        let rule = Rule {
                            span,
                            matches,
                            action: spec.action,
                        };
                        open.reference(&rule, 1);
                        let Some(c) = open.chains.get_mut(index) else {
                            return;
                        };
                        match position {
                            Some(p) if p < c.rules.len() => c.rules.insert(p, rule),
                            _ => c.rules.push(rule),
                        }
                    }
                    Err(e) => {
                        self.error(e.kind, start, line_no, cmd_at + e.offset, e.len, e.message)
                    }
                }
                return;
            }
            Command::NewChain => {
                let Some(chain_tok) = chain_tok else {
                    return needs_chain(self);
                };
                let name = chain_tok.text.to_string();
                if chain_index.is_some() {
                    return self.error(
                        ErrorKind::BadReference,
                        start,
                        line_no,
                        at(chain_tok),
                        name.len(),
                        format!("chain `{name}` already exists"),
                    );
                }
                if let Some(msg) = Self::bad_chain_name(&name) {
                    return self.error(
                        ErrorKind::InvalidValue,
                        start,
                        line_no,
                        at(chain_tok),
                        name.len(),
                        msg,
                    );
                }
                let Some(open) = self.open.as_mut() else {
                    return;
                };
                open.by_name.insert(name.clone(), open.chains.len());
                open.chains.push(OpenChain {
                    name,
                    base: None,
                    policy: None,
                    span,
                    rules: RuleList::new(),
                    deleted: false,
                });
            }
            Command::Policy => {
                let Some(chain_tok) = chain_tok else {
                    return needs_chain(self);
                };
                let Some(index) = chain_index.filter(|i| {
                    self.open
                        .as_ref()
                        .and_then(|o| o.chains.get(*i))
                        .is_some_and(|c| c.base.is_some())
                }) else {
                    let msg = format!(
                        "`{word}` needs a built-in chain of table {table_name}, found `{}`",
                        chain_tok.text
                    );
                    return self.error(
                        ErrorKind::BadReference,
                        start,
                        line_no,
                        at(chain_tok),
                        chain_tok.text.len(),
                        msg,
                    );
                };
                let policy = match toks.get(rest).map(|t| t.text.as_ref()) {
                    Some("ACCEPT") => Policy::Accept,
                    Some("DROP") => Policy::Drop,
                    other => {
                        let t = toks.get(rest).unwrap_or(chain_tok);
                        let msg = match other {
                            Some(o) => format!("invalid policy `{o}`, expected ACCEPT or DROP"),
                            None => format!("`{word}` expects a policy, ACCEPT or DROP"),
                        };
                        return self.error(
                            ErrorKind::InvalidValue,
                            start,
                            line_no,
                            at(t),
                            t.text.len(),
                            msg,
                        );
                    }
                };
                rest += 1;
                if let Some(c) = self.open.as_mut().and_then(|o| o.chains.get_mut(index)) {
                    c.policy = Some(policy);
                    c.span = span;
                }
            }
            Command::Flush => match (chain_tok, chain_index) {
                (Some(_), Some(i)) => {
                    if let Some(o) = self.open.as_mut() {
                        o.flush(i);
                    }
                }
                (Some(t), None) => return missing_chain(self, t),
                (None, _) => {
                    rest = ci + 1;
                    if let Some(o) = self.open.as_mut() {
                        for i in 0..o.chains.len() {
                            o.flush(i);
                        }
                    }
                }
            },
            Command::DeleteChain => {
                let targets: Vec<usize> = match (chain_tok, chain_index) {
                    (Some(t), Some(i)) => {
                        if self
                            .open
                            .as_ref()
                            .and_then(|o| o.chains.get(i))
                            .is_some_and(|c| c.base.is_some())
                        {
                            let msg = format!("built-in chain `{}` cannot be deleted", t.text);
                            return self.error(
                                ErrorKind::BadReference,
                                start,
                                line_no,
                                at(t),
                                t.text.len(),
                                msg,
                            );
                        }
                        vec![i]
                    }
                    (Some(t), None) => return missing_chain(self, t),
                    (None, _) => {
                        rest = ci + 1;
                        let o = self.open.as_ref();
                        o.map(|o| {
                            o.chains
                                .iter()
                                .enumerate()
                                .filter(|(_, c)| c.base.is_none() && !c.deleted)
                                .map(|(i, _)| i)
                                .collect()
                        })
                        .unwrap_or_default()
                    }
                };
                let mut busy = Vec::new();
                if let Some(o) = self.open.as_mut() {
                    for i in targets {
                        let Some(c) = o.chains.get(i) else { continue };
                        let referenced = o.references.get(&c.name).copied().unwrap_or(0) > 0;
                        if c.rules.len() > 0 || referenced {
                            busy.push(c.name.clone());
                            continue;
                        }
                        let name = c.name.clone();
                        o.by_name.remove(&name);
                        if let Some(c) = o.chains.get_mut(i) {
                            c.deleted = true;
                        }
                    }
                }
                for name in busy {
                    let msg = format!(
                        "chain `{name}` cannot be deleted while it has rules or rules jump to it, flush it and remove the jumps first"
                    );
                    self.error(
                        ErrorKind::BadReference,
                        start,
                        line_no,
                        at(cmd_tok),
                        word.len(),
                        msg,
                    );
                }
            }
            Command::Zero => match (chain_tok, chain_index) {
                (Some(_), Some(_)) => {
                    if toks
                        .get(rest)
                        .is_some_and(|t| t.text.bytes().all(|b| b.is_ascii_digit()))
                    {
                        rest += 1;
                    }
                }
                (Some(t), None) => return missing_chain(self, t),
                (None, _) => rest = ci + 1,
            },
            Command::Unsupported => return,
        }
        if let Some(extra) = toks.get(rest) {
            let msg = format!("unexpected `{}` after `{word}`", extra.text);
            self.error(
                ErrorKind::Syntax,
                start,
                line_no,
                at(extra),
                extra.text.len().max(1),
                msg,
            );
        }
    }

    /// An error pointing at the last occurrence of `needle` in the rule at `span`.
    fn error_in_rule(&mut self, span: Span, needle: &str, kind: ErrorKind, message: String) {
        if span.file != self.file {
            // A rule of an earlier file, which this one made invalid: the
            // file as a whole is at fault.
            return self.error_at(kind, 0, 0, 1, 1, message);
        }
        let text = self
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        let at = text.rfind(needle).unwrap_or(0);
        let begin = span.start as usize + at;
        let column = self.column(begin);
        self.error_at(
            kind,
            begin,
            begin + needle.len(),
            span.line,
            column,
            message,
        );
    }

    /// Ends a table: checks every jump and goto (dropping the rules that name
    /// no user chain, with an error each) and the hooks of targets that work
    /// only in some (a DNAT in a chain reached from POSTROUTING fails to load),
    /// then keeps the table, replacing an earlier block of the same name.
    fn close(&mut self, open: OpenTable) {
        let OpenTable {
            name: table_name,
            span: table_span,
            chains,
            ..
        } = open;
        let ufw_file = chains.iter().any(|c| is_ufw_chain(&c.name));
        let mut errors: Vec<(Span, String, String)> = Vec::new();
        // Live chains in declaration order, with finished rule lists.
        let mut live: Vec<Chain> = chains
            .into_iter()
            .filter(|c| !c.deleted)
            .map(|c| Chain {
                name: c.name,
                base: c.base,
                policy: c.policy,
                span: c.span,
                rules: c.rules.finish(),
            })
            .collect();
        let index: HashMap<String, usize> = live
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let is_base: Vec<bool> = live.iter().map(|c| c.base.is_some()).collect();
        for chain in &mut live {
            chain.rules.retain_mut(|rule| {
                let (Action::Jump { chain: target } | Action::Goto { chain: target }) =
                    &rule.action
                else {
                    return true;
                };
                let msg = match index.get(target.as_str()) {
                    Some(i) if !is_base.get(*i).copied().unwrap_or(true) => return true,
                    Some(_) => {
                        format!("cannot jump to built-in chain `{target}`, jump to a user chain")
                    }
                    None if ufw_file && is_ufw_chain(target) => {
                        // Kept, but its effect is not in this file.
                        rule.action = Action::Unknown {
                            text: format!(
                                "jump to `{target}`, a chain ufw creates outside this file"
                            ),
                        };
                        return true;
                    }
                    None => format!("no chain or target named `{target}` in table {table_name}"),
                };
                errors.push((rule.span, target.clone(), msg));
                false
            });
        }
        for (span, target, msg) in errors {
            self.error_in_rule(span, &target, ErrorKind::BadReference, msg);
        }
        self.check_hooks(&mut live, &index);
        self.tables.retain(|t| t.name != table_name);
        let mut table = Table {
            family: self.family,
            name: table_name.to_string(),
            span: table_span,
            chains: live,
        };
        // In `--noflush` mode a later file may still reach these chains
        // from other hooks: the caller models the whole ruleset at the end.
        if !self.noflush {
            model_local_delivery(&mut table);
        }
        self.tables.push(table);
    }

    /// Targets restricted to some hooks must not be reachable from others.
    fn check_hooks(&mut self, chains: &mut [Chain], index: &HashMap<String, usize>) {
        // Which hooks reach each chain, by a walk over jumps and gotos.
        let mut reached = vec![0u8; chains.len()];
        for hook in ALL_HOOKS {
            let mut stack: Vec<usize> = chains
                .iter()
                .enumerate()
                .filter(|(_, c)| c.base.is_some_and(|b| b.hook == hook))
                .map(|(i, _)| i)
                .collect();
            while let Some(i) = stack.pop() {
                let Some(r) = reached.get_mut(i) else {
                    continue;
                };
                if *r & hook_bit(hook) != 0 {
                    continue;
                }
                *r |= hook_bit(hook);
                let Some(c) = chains.get(i) else { continue };
                for rule in &c.rules {
                    if let Action::Jump { chain } | Action::Goto { chain } = &rule.action
                        && let Some(&j) = index.get(chain.as_str())
                    {
                        stack.push(j);
                    }
                }
            }
        }
        let mut errors = Vec::new();
        for (i, chain) in chains.iter_mut().enumerate() {
            let hooks = reached.get(i).copied().unwrap_or(0);
            chain.rules.retain(|rule| {
                let Some((target, allowed)) = restricted_target(&rule.action) else { return true };
                let allowed_bits = allowed.iter().fold(0u8, |acc, h| acc | hook_bit(*h));
                let Some(bad) = ALL_HOOKS.iter().find(|h| hooks & !allowed_bits & hook_bit(**h) != 0) else { return true };
                let names: Vec<&str> = allowed.iter().map(|h| hook_chain_name(*h)).collect();
                let place = if chain.base.is_some() { format!("chain {}", chain.name) } else { format!("chain `{}`, which is reached from {}", chain.name, hook_chain_name(*bad)) };
                errors.push((rule.span, target, format!("target {target} works only in {} (and chains reached from them), not in {place}", names.join(" and "))));
                false
            });
        }
        for (span, target, msg) in errors {
            self.error_in_rule(span, target, ErrorKind::InvalidValue, msg);
        }
    }
}

#[cfg(test)]
mod tests;
