//! Drift events: what a new version of a watched source changed, as values
//! with stable ids (the same change gives the same id on every run, so an
//! event recomputed after a crash replaces itself instead of repeating).
//! The daemon makes them ([`super::assess`]); the alert pipeline turns them
//! into messages.

use super::diff::Change;
use crate::policy::check::{self, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A requirement's result changed (pass, fail, indeterminate).
    RequirementChanged,
    /// The source differs from the accepted baseline.
    RulesetChanged,
    /// The source no longer parses; its last good state stays in force.
    ParseError,
    /// The ruleset loaded in the kernel differs from the file it comes from.
    LiveDiffers,
    /// On the first start a requirement fails: reported once.
    FailingAtStart,
    /// A person accepted the current state as the baseline: what still
    /// fails in it is wanted, and its alerts end.
    BaselineAccepted,
}

impl EventKind {
    /// Every kind, for the metrics (each counter from zero).
    pub const ALL: &[EventKind] = &[
        EventKind::RequirementChanged,
        EventKind::RulesetChanged,
        EventKind::ParseError,
        EventKind::LiveDiffers,
        EventKind::FailingAtStart,
        EventKind::BaselineAccepted,
    ];

    /// The kind's name, as in the JSON of events.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::RequirementChanged => "requirement-changed",
            EventKind::RulesetChanged => "ruleset-changed",
            EventKind::ParseError => "parse-error",
            EventKind::LiveDiffers => "live-differs",
            EventKind::FailingAtStart => "failing-at-start",
            EventKind::BaselineAccepted => "baseline-accepted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    pub source: String,
    /// One line.
    pub summary: String,
    /// What a person needs to act: the rules, witnesses, culprits, as text.
    pub details: String,
    /// The same, as data, for the HTML part of alert emails and for programs:
    /// the rules that changed ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleEdit>,
    /// ... and the requirements whose result or connections changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementEdit>,
}

/// A rule (or a chain's policy) where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub file: String,
    pub line: u32,
    pub text: String,
    #[serde(default)]
    pub table: String,
    #[serde(default)]
    pub chain: String,
    /// Which packet of the connection it decided (`first packet`, `reply`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
}

impl Place {
    pub(crate) fn of(c: &check::Culprit) -> Place {
        let text = if c.kind == check::CulpritKind::Policy {
            format!("chain policy {}", c.text.trim())
        } else {
            c.text.trim().to_string()
        };
        Place {
            file: c.file.clone(),
            line: c.line,
            text,
            table: c.table.clone(),
            chain: c.chain.clone(),
            phase: c.phase.to_string(),
        }
    }

    /// `file:line`, or the file alone for a place without a line.
    pub fn at(&self) -> String {
        if self.line > 0 {
            format!("{}:{}", self.file, self.line)
        } else {
            self.file.clone()
        }
    }
}

/// One rule added, removed, changed, moved, or a chain policy changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEdit {
    pub change: Change,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Place>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Place>,
}

/// One kind of connection of a requirement: a witness packet, its verdict
/// before (if known) and now, and the rule that decides each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witnessed {
    pub direction: String,
    pub witness: String,
    /// Whom the change concerns, as CIDR blocks: the far ends (sources
    /// inbound, destinations outbound) of the connections that changed,
    /// when not every address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    pub after: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_before: Option<Place>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_after: Option<Place>,
}

/// A requirement's result as an earlier reading left it: `unknown` before
/// the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reading {
    Unknown,
    Pass,
    Indeterminate,
    Fail,
}

impl Reading {
    pub fn name(self) -> &'static str {
        match self {
            Reading::Unknown => "unknown",
            Reading::Pass => "pass",
            Reading::Indeterminate => "indeterminate",
            Reading::Fail => "fail",
        }
    }
}

impl From<Status> for Reading {
    fn from(s: Status) -> Reading {
        match s {
            Status::Pass => Reading::Pass,
            Status::Indeterminate => Reading::Indeterminate,
            Status::Fail => Reading::Fail,
        }
    }
}

impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// A requirement's result before and now, with the connections behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementEdit {
    pub policy: String,
    pub requirement: String,
    /// Protocols, ports and directions, e.g. `tcp 443 inbound`.
    pub what: String,
    pub before: Reading,
    pub after: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Witnessed>,
}

impl RequirementEdit {
    pub(crate) fn of(
        r: &check::RequirementResult,
        before: Reading,
        after: Status,
    ) -> RequirementEdit {
        let witnesses = r
            .failures
            .iter()
            .take(3)
            .map(|f| Witnessed {
                direction: lower(&f.direction),
                witness: f.witness.to_string(),
                peers: None,
                before: None,
                after: f.verdict.name().into(),
                rule_before: None,
                rule_after: f.culprits.first().map(Place::of),
            })
            .collect();
        RequirementEdit {
            policy: r.policy.clone(),
            requirement: r.requirement.clone(),
            what: what(&r.protocols, &r.ports, &r.directions),
            before,
            after,
            witnesses,
        }
    }
}

pub(crate) fn lower(d: &impl std::fmt::Debug) -> String {
    format!("{d:?}").to_lowercase()
}

/// A requirement's connections in a few words: `tcp 443 inbound`.
pub(crate) fn what(
    protocols: &[String],
    ports: &str,
    directions: &[crate::eval::Direction],
) -> String {
    let dirs = directions.iter().map(lower).collect::<Vec<_>>().join("+");
    if dirs.is_empty() {
        format!("{} {ports}", protocols.join("+"))
    } else {
        format!("{} {ports} {dirs}", protocols.join("+"))
    }
}
