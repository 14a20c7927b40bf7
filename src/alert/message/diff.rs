//! The changed rules of a file as one diff, and how to undo each change by
//! its place (the texts are in the diff, so the steps do not repeat them).

use crate::drift::diff::Change;
use crate::drift::event::{Event, Place};

/// One line of a rule diff.
pub(super) struct DiffLine {
    /// `+` added, `-` removed (a changed rule is one of each).
    pub mark: char,
    pub at: String,
    pub text: String,
    pub chain: String,
}

/// The rules of one file that differ from its baseline (or the live
/// ruleset's from its file), listed once.
pub(super) struct RuleDiff {
    pub title: String,
    /// The watched file (or live ruleset) the diff is of.
    pub source: String,
    pub lines: Vec<DiffLine>,
    /// How to undo each change, by line: empty for the live ruleset, which
    /// is fixed by loading the file, not by editing it.
    pub revert: Vec<String>,
}

pub(super) fn rule_diff(e: &Event, live: bool) -> RuleDiff {
    let title = if live {
        format!(
            "The ruleset loaded in the kernel ({}) against its file",
            e.source
        )
    } else if e.requirements.is_empty() {
        format!(
            "Rules changed in {} against the accepted baseline (no requirement's connections change)",
            e.source
        )
    } else {
        format!(
            "Rules changed in {} against the accepted baseline",
            e.source
        )
    };
    let mut lines = Vec::new();
    let mut revert = Vec::new();
    for r in &e.rules {
        let chain = r
            .new
            .as_ref()
            .or(r.old.as_ref())
            .map(|p| format!("{} {}", p.table, p.chain))
            .unwrap_or_default();
        let mut line = |mark: char, p: &Option<Place>, policy: bool| {
            if let Some(p) = p {
                lines.push(DiffLine {
                    mark,
                    at: if policy { String::new() } else { p.at() },
                    text: if policy {
                        format!("policy {}", p.text)
                    } else {
                        p.text.clone()
                    },
                    chain: chain.clone(),
                });
            }
        };
        let policy = r.change == Change::Policy;
        line('-', &r.old, policy);
        line('+', &r.new, policy);
        if !live {
            revert.push(revert_step(
                r.change,
                r.old.as_ref(),
                r.new.as_ref(),
                &chain,
            ));
        }
    }
    RuleDiff {
        title,
        source: e.source.clone(),
        lines,
        revert,
    }
}

/// How to undo one rule change, by place: the rule texts are in the diff.
fn revert_step(change: Change, old: Option<&Place>, new: Option<&Place>, chain: &str) -> String {
    let at = |p: Option<&Place>| p.map(Place::at).unwrap_or_default();
    match change {
        Change::Added => format!("delete the + rule at {}", at(new)),
        Change::Removed => format!(
            "put the - rule back where it was ({} in the baseline)",
            at(old)
        ),
        Change::Changed => format!("turn the + rule at {} back into the - rule", at(new)),
        Change::Moved => format!(
            "move the rule at {} back to where it was ({} in the baseline)",
            at(new),
            at(old)
        ),
        Change::Policy => format!(
            "set the policy of {chain} back to {}",
            old.map(|p| p.text.as_str()).unwrap_or_default()
        ),
    }
}
