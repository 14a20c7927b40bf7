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
        Change::Changed => format!(
            "turn the + rule at {} back into the - rule ({} in the baseline)",
            at(new),
            at(old)
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::event::{EventKind, RuleEdit};

    fn at(line: u32, text: &str) -> Option<Place> {
        Some(Place {
            file: "/etc/r.v4".into(),
            line,
            text: text.into(),
            table: "filter".into(),
            chain: "INPUT".into(),
            phase: String::new(),
        })
    }

    #[test]
    fn every_kind_of_change_is_a_diff_and_a_step_back_by_place() {
        let edit = |change, old, new| RuleEdit { change, old, new };
        let e = Event {
            id: "e".into(),
            kind: EventKind::RulesetChanged,
            source: "/etc/r.v4".into(),
            summary: String::new(),
            details: String::new(),
            rules: vec![
                edit(Change::Added, None, at(12, "-j REJECT")),
                edit(Change::Removed, at(9, "-j LOG"), None),
                edit(Change::Changed, at(5, "-j ACCEPT"), at(5, "-j DROP")),
                edit(Change::Moved, at(3, "-j X"), at(7, "-j X")),
                edit(Change::Policy, at(0, "ACCEPT"), at(0, "DROP")),
            ],
            requirements: Vec::new(),
        };
        let d = rule_diff(&e, false);
        let lines: Vec<String> = d
            .lines
            .iter()
            .map(|l| format!("{} {} {}", l.mark, l.at, l.text))
            .collect();
        assert_eq!(
            lines,
            [
                "+ /etc/r.v4:12 -j REJECT",
                "- /etc/r.v4:9 -j LOG",
                "- /etc/r.v4:5 -j ACCEPT",
                "+ /etc/r.v4:5 -j DROP",
                "- /etc/r.v4:3 -j X",
                "+ /etc/r.v4:7 -j X",
                "-  policy ACCEPT",
                "+  policy DROP",
            ]
        );
        assert_eq!(
            d.revert,
            [
                "delete the + rule at /etc/r.v4:12",
                "put the - rule back where it was (/etc/r.v4:9 in the baseline)",
                "turn the + rule at /etc/r.v4:5 back into the - rule (/etc/r.v4:5 in the baseline)",
                "move the rule at /etc/r.v4:7 back to where it was (/etc/r.v4:3 in the baseline)",
                "set the policy of filter INPUT back to ACCEPT",
            ]
        );
        assert!(d.title.contains("no requirement's connections change"));
        // The live ruleset is fixed by loading its file, not by editing it.
        assert!(rule_diff(&e, true).revert.is_empty());
    }
}
