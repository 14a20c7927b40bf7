//! Jumps the kernel refuses to load: a loop of jumps and gotos between
//! chains, and a chain reached by as many nested jumps as nftables' jump
//! stack holds (`NFT_JUMP_STACK_SIZE`, 16, in `nft_chain_validate`).
//! nft and iptables-restore both fail with "Too many links" when they
//! commit such a ruleset (`-c` and `--test` do not see it; a load in a
//! network namespace does: 15 nested jumps load, 16 do not). iptables
//! rules go to the same nf_tables kernel today (iptables-nft, the default
//! of Debian, Ubuntu and RHEL); the old x_tables backend had no such
//! stack, and a file written for it that nests 16 jumps is refused here.
//! Only chains that a base chain reaches are followed, as the kernel's
//! checks do.

use crate::error::{ErrorKind, ParseError};
use crate::model::{Action, Ruleset, Span, Table};

/// nftables' jump stack: a chain at this many jumps from its base chain
/// is refused.
pub const NFT_JUMP_STACK: usize = 16;

/// The errors of `rs`'s jumps; `max_depth` is the jump stack's limit,
/// `None` for none.
pub fn problems(rs: &Ruleset, max_depth: Option<usize>) -> Vec<ParseError> {
    let mut out = Vec::new();
    for table in &rs.tables {
        let mut walk = Walk {
            table,
            index: table
                .chains
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), i))
                .collect(),
            state: vec![State::New; table.chains.len()],
            depth: vec![0; table.chains.len()],
            found: Vec::new(),
        };
        for (i, chain) in table.chains.iter().enumerate() {
            if chain.base.is_none() {
                continue;
            }
            walk.visit(i);
            if let Some(max) = max_depth
                && walk.depth[i] >= max
            {
                walk.found.push((
                    chain.span,
                    format!(
                        "chain {} reaches chains {} jumps deep, more than the kernel's jump stack of {max} holds (nft and iptables-nft refuse it: Too many links)",
                        chain.name, walk.depth[i]
                    ),
                ));
            }
        }
        for (span, message) in walk.found {
            out.push(error_at(rs, span, message));
        }
    }
    out.sort_by_key(|e| (e.path.clone(), e.line, e.column));
    out.dedup_by(|a, b| a.line == b.line && a.path == b.path && a.message == b.message);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    /// On the path being followed: meeting it again is a loop.
    Open,
    Done,
}

struct Walk<'a> {
    table: &'a Table,
    /// Chains by name: a ruleset may hold a hundred thousand.
    index: std::collections::HashMap<&'a str, usize>,
    state: Vec<State>,
    /// The most nested jumps below each chain that is done.
    depth: Vec<usize>,
    found: Vec<(Span, String)>,
}

impl Walk<'_> {
    /// Depth-first, each chain once, with a stack of its own (a hostile
    /// file may chain ten thousand chains): a chain still open when a jump
    /// meets it closes a loop.
    fn visit(&mut self, start: usize) {
        if self.state[start] != State::New {
            return;
        }
        // (chain, next rule to look at, most nested jumps below it so far)
        let mut stack: Vec<(usize, usize, usize)> = vec![(start, 0, 0)];
        self.state[start] = State::Open;
        while let Some(&mut (i, ref mut next, ref mut deepest)) = stack.last_mut() {
            let chain = &self.table.chains[i];
            let Some(rule) = chain.rules.get(*next) else {
                let d = *deepest;
                self.depth[i] = d;
                self.state[i] = State::Done;
                stack.pop();
                if let Some(parent) = stack.last_mut() {
                    parent.2 = parent.2.max(d + 1);
                }
                continue;
            };
            *next += 1;
            let target = match &rule.action {
                Action::Jump { chain } | Action::Goto { chain } => chain,
                _ => continue,
            };
            let Some(&j) = self.index.get(target.as_str()) else {
                continue;
            };
            match self.state[j] {
                State::Open => self.found.push((
                    rule.span,
                    format!(
                        "the jump to chain {target} makes a loop back to it (the kernel refuses it: Too many links)"
                    ),
                )),
                State::Done => *deepest = (*deepest).max(self.depth[j] + 1),
                State::New => {
                    self.state[j] = State::Open;
                    stack.push((j, 0, 0));
                }
            }
        }
    }
}

fn error_at(rs: &Ruleset, span: Span, message: String) -> ParseError {
    ParseError {
        kind: ErrorKind::BadReference,
        path: rs
            .sources
            .get(span.file as usize)
            .map(|s| s.path.clone())
            .unwrap_or_default(),
        line: span.line,
        column: span.column,
        start: span.start,
        end: span.end,
        message,
    }
}
