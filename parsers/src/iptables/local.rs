//! `-m addrtype --dst-type` on the INPUT hook.
//!
//! A packet reaches INPUT only when routing delivers it to the host, which it
//! does for destinations of type LOCAL, BROADCAST and MULTICAST and no other.
//! So in a chain reached from INPUT alone, consecutive rules with the same
//! action whose only matches are `--dst-type` of these three types together
//! match every packet: the first of them matches everything and the others
//! are never reached. ufw's `ufw-not-local` chain starts so; without this,
//! each of its rules is an unknown match and every inbound result of every
//! ufw host would be indeterminate. Other uses of the match stay unknown.

use crate::model::{Action, Hook, Match, Table};
use std::collections::HashMap;

const HOOKS: [Hook; 5] = [
    Hook::Prerouting,
    Hook::Input,
    Hook::Forward,
    Hook::Output,
    Hook::Postrouting,
];

fn bit(hook: Hook) -> u8 {
    1 << (hook as u8)
}

/// Which hooks reach each chain of `table`, as bits of [`bit`].
fn reached_hooks(table: &Table) -> Vec<u8> {
    let index: HashMap<&str, usize> = table
        .chains
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut reached = vec![0u8; table.chains.len()];
    for hook in HOOKS {
        let mut stack: Vec<usize> = table
            .chains
            .iter()
            .enumerate()
            .filter(|(_, c)| c.base.is_some_and(|b| b.hook == hook))
            .map(|(i, _)| i)
            .collect();
        while let Some(i) = stack.pop() {
            let Some(r) = reached.get_mut(i) else {
                continue;
            };
            if *r & bit(hook) != 0 {
                continue;
            }
            *r |= bit(hook);
            let Some(c) = table.chains.get(i) else {
                continue;
            };
            for rule in &c.rules {
                if let Action::Jump { chain } | Action::Goto { chain } = &rule.action
                    && let Some(&j) = index.get(chain.as_str())
                {
                    stack.push(j);
                }
            }
        }
    }
    reached
}

/// Rewrites, in the filter table, each run of rules that together match
/// every locally delivered packet so that its first rule matches everything.
pub fn model_local_delivery(table: &mut Table) {
    if table.name != "filter" {
        return;
    }
    let reached = reached_hooks(table);
    for (chain, hooks) in table.chains.iter_mut().zip(reached) {
        if hooks != bit(Hook::Input) {
            continue;
        }
        let mut start = 0;
        while start < chain.rules.len() {
            let mut types: Vec<&str> = Vec::new();
            let mut end = start;
            while let Some(rule) = chain.rules.get(end) {
                let same = chain
                    .rules
                    .get(start)
                    .is_some_and(|s| s.action == rule.action);
                let Some(t) = destination_type(&rule.matches).filter(|_| same) else {
                    break;
                };
                types.push(t);
                end += 1;
            }
            let all = ["LOCAL", "BROADCAST", "MULTICAST"]
                .iter()
                .all(|t| types.contains(t));
            if all && let Some(first) = chain.rules.get_mut(start) {
                first.matches.clear();
            }
            start = end.max(start + 1);
        }
    }
}

/// The type of a rule whose only match is `-m addrtype --dst-type TYPE` as
/// the parser keeps it (not negated, no interface limit).
fn destination_type(matches: &[Match]) -> Option<&'static str> {
    let [Match::Unknown { text }] = matches else {
        return None;
    };
    let value = text.strip_prefix("addrtype --dst-type ")?.trim();
    ["LOCAL", "BROADCAST", "MULTICAST"]
        .into_iter()
        .find(|t| *t == value)
}
