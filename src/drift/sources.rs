//! What drift is measured against: per watched source, the last good text
//! and what the policies said about it, and the accepted baseline. The
//! daemon keeps it in its state file (`crate::daemon::state`).

use crate::drift::text::Text;
use crate::policy::check::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One requirement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultState {
    pub policy: String,
    pub requirement: String,
    pub status: Status,
    /// Its connections (`tcp 443 inbound`), for the alerts that outlive the
    /// events which said so: reminders, accepted failures. Empty in states
    /// saved before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub what: String,
    /// For a result that does not pass: the rule that decides its first
    /// failing connection (`file:line`) and that connection, for alerts
    /// that are sent while the problem lasts (Alertmanager's annotations),
    /// long after the event that said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
}

/// A watched source as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    /// FNV-1a of the text, to tell a touch from a change.
    pub hash: String,
    /// The last text that parsed (the last good state stays in force).
    /// The daemon's state file names it instead ([`SourceState::text_file`]).
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub text: Text,
    /// In the daemon's state file only: the file in `texts/` that holds the
    /// text, which is then left out of the state (a state file holding whole
    /// rulesets was as big as them, twice over with the baseline, and
    /// rewritten at every save). Empty in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_file: Option<String>,
    pub results: Vec<ResultState>,
    /// The parse error of the latest text, if it did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// In the baseline: a person accepted it (`driftwall baseline accept`),
    /// so the results it holds are known and wanted, and a requirement that
    /// still fails the same way is not alerted on again. (The baseline made
    /// at the first reading is not accepted: its failures are reported.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
    /// Rules in the text in force (for the metrics); unknown in a state
    /// written before it was kept, until the text changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<u64>,
}

/// Every watched source, now and as accepted. The daemon's state file holds
/// these fields at its top level (flattened), next to the alert lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    /// The latest state of each source, by its name (a path, or `live:` and the command).
    pub current: BTreeMap<String, SourceState>,
    /// The accepted state each source is compared with.
    pub baseline: BTreeMap<String, SourceState>,
    /// How many changes have been assessed: part of event ids, so the same
    /// change recurring later is a new event, while one recomputed after a
    /// crash (the state was not saved) keeps its id.
    #[serde(default)]
    pub seq: u64,
    /// For each live ruleset, the texts (hashes) last compared with its file,
    /// so one difference is reported once.
    #[serde(default)]
    pub compared: BTreeMap<String, String>,
    /// Live rulesets that differ from their file now, with what differs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub live_differs: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::diff::Change;
    use crate::drift::event::RuleEdit;
    use crate::policy::check::{Culprit, CulpritKind};

    #[test]
    fn statuses_changes_and_kinds_keep_their_json_names() {
        // A state file written when the status was a string still reads.
        let r: ResultState =
            serde_json::from_str(r#"{"policy":"p","requirement":"r","status":"indeterminate"}"#)
                .unwrap();
        assert_eq!(r.status, Status::Indeterminate);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"policy":"p","requirement":"r","status":"indeterminate"}"#
        );
        assert_eq!(format!("{:<6}|", Status::Fail), "fail  |");
        let edit = RuleEdit {
            change: Change::Moved,
            old: None,
            new: None,
        };
        assert_eq!(
            serde_json::to_string(&edit).unwrap(),
            r#"{"change":"moved"}"#
        );
        let c = Culprit {
            file: "f".into(),
            line: 1,
            column: 1,
            text: ":INPUT DROP".into(),
            table: "filter".into(),
            chain: "INPUT".into(),
            kind: CulpritKind::Policy,
            phase: "the first packet",
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "policy");
        assert!(c.kind == CulpritKind::Policy && CulpritKind::Rule.name() == "rule");
        let edit = crate::drift::event::RequirementEdit {
            policy: "p".into(),
            requirement: "r".into(),
            what: "tcp 443 inbound".into(),
            before: crate::drift::event::Reading::Unknown,
            after: Status::Fail,
            witnesses: Vec::new(),
        };
        let v = serde_json::to_value(&edit).unwrap();
        assert_eq!(
            (&v["before"], &v["after"]),
            (&"unknown".into(), &"fail".into())
        );
    }
}
