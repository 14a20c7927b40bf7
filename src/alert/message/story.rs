//! What a message says, each thing once. The lifecycle hands a message its
//! events (a requirement changed, the rules changed against the baseline,
//! ...) and its alerts (new, still on, resolved, held back); one broken
//! requirement shows up in several of them. Here they are folded per
//! requirement into one section, the rule changes into one diff per file,
//! and the rest (parse errors, the live ruleset, accepted baselines) into
//! notes, so that the renderers only lay the story out.

use super::diff::{RuleDiff, rule_diff};
use super::headline::headline;
use super::mood::Mood;
use super::wording;
use crate::alert::lifecycle::{Alert, AlertKind, FILES_GROUP, Mail, Notice};
use crate::drift::event::{Event, EventKind, Reading, RequirementEdit, Witnessed};
use crate::policy::check::Status;
use std::collections::{BTreeMap, BTreeSet};

/// One requirement: everything the message says about it.
pub(super) struct Section {
    /// `policy/requirement`: said once, in this section only.
    pub id: String,
    pub mood: Mood,
    /// `HTTPS (tcp 443 inbound) is now rejected for 192.0.2.0/24`
    pub headline: String,
    /// The same for a subject: `HTTPS (tcp 443 in) now rejected`.
    pub short: String,
    pub files: Vec<FilePart>,
}

/// A requirement in one watched file (or the live ruleset).
pub(super) struct FilePart {
    pub source: String,
    /// How its result moved: `pass -> fail`, `fail at the first reading`.
    pub result: String,
    pub witnesses: Vec<Witnessed>,
    /// What the witnesses' earlier verdicts are of: `in the baseline`, or
    /// `in the file` for the live ruleset.
    pub before: &'static str,
}
/// Something about the files themselves: a parse error, the live ruleset,
/// an accepted baseline, a problem that cleared.
pub(super) struct Note {
    pub title: String,
    /// The same in a few words, for the subject.
    pub short: String,
    /// Text to show as is (a parse error's messages), or empty.
    pub details: String,
    /// Good news (it cleared) rather than a problem.
    pub good: bool,
}

/// The whole message, each thing once.
pub(super) struct Story {
    /// `policy web-server`, `the firewall files`.
    pub groups: Vec<String>,
    pub sections: Vec<Section>,
    pub diffs: Vec<RuleDiff>,
    pub notes: Vec<Note>,
    /// Whether accepting the current state as the baseline would end alerts.
    pub offer_accept: bool,
    pub event_ids: Vec<String>,
}

/// Where an alert about a requirement stands in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    New,
    Still,
    Resolved,
    HeldBack,
}

/// What is known of one requirement in one file, over a message's notices.
#[derive(Default)]
struct Facts {
    what: String,
    /// Its results in order: when, before, after.
    steps: Vec<(u64, Reading, Status)>,
    step_witnesses: Vec<Witnessed>,
    /// The latest comparison with the baseline (or of the live ruleset
    /// with its file), with the rules that decide before and after.
    against: Option<RequirementEdit>,
    live: bool,
    accepted: bool,
    standing: Option<Standing>,
    /// The result an alert names (`fail`), when no event says more.
    alert_status: String,
}

type Key = (String, String);

/// What the notices of a mail say, gathered as they come, in order.
#[derive(Default)]
struct Gathered {
    /// Per requirement, per file.
    facts: BTreeMap<Key, BTreeMap<String, Facts>>,
    /// The latest rule diff of each file (or live ruleset).
    diffs: BTreeMap<String, RuleDiff>,
    notes: Vec<Note>,
    /// Files whose rules came back to their accepted baseline, and stayed.
    restored: BTreeSet<String>,
}

/// Gathers a mail's notices into one story.
pub(super) fn tell(mail: &Mail) -> Story {
    let mut g = Gathered::default();
    let mut groups = Vec::new();
    for n in &mail.notices {
        let label = if n.group == FILES_GROUP {
            "the firewall files".to_string()
        } else {
            format!("policy {}", n.group)
        };
        if !groups.contains(&label) {
            groups.push(label);
        }
        for (i, e) in n.events.iter().enumerate() {
            g.event(n, i, e);
        }
        g.alerts(mail, n);
    }
    let Gathered {
        facts,
        diffs,
        mut notes,
        restored,
    } = g;
    for source in restored {
        notes.push(Note {
            title: format!("{source} is back to its accepted baseline"),
            short: String::new(),
            details: "No rule differs from the baseline any more.\n".into(),
            good: true,
        });
    }
    let mut sections: Vec<Section> = facts
        .into_iter()
        .map(|((policy, requirement), files)| section(&policy, &requirement, files, mail.digest))
        .collect();
    sections.sort_by(|a, b| a.mood.cmp(&b.mood).then_with(|| a.id.cmp(&b.id)));
    let diffs: Vec<RuleDiff> = diffs.into_values().collect();
    let offer_accept =
        sections.iter().any(|s| s.mood.actionable()) || diffs.iter().any(|d| !d.revert.is_empty());
    Story {
        groups,
        sections,
        diffs,
        notes,
        offer_accept,
        event_ids: mail
            .notices
            .iter()
            .flat_map(|n| n.events.iter().map(|e| e.id.clone()))
            .collect(),
    }
}

/// The requirement and the result an alert's summary names
/// (`policy/requirement is fail in source`).
fn alert_requirement(a: &Alert) -> Option<(Key, String)> {
    let mut words = a.summary.split_whitespace();
    let (policy, requirement) = words.next()?.split_once('/')?;
    let status = words.nth(1).unwrap_or_default();
    Some((
        (policy.to_string(), requirement.to_string()),
        status.to_string(),
    ))
}

impl Gathered {
    fn facts_of(&mut self, policy: &str, requirement: &str, source: &str) -> &mut Facts {
        self.facts
            .entry((policy.to_string(), requirement.to_string()))
            .or_default()
            .entry(source.to_string())
            .or_default()
    }

    /// Takes in the `i`th event of notice `n`.
    fn event(&mut self, n: &Notice, i: usize, e: &Event) {
        match e.kind {
            EventKind::ParseError => self.notes.push(Note {
                title: e.summary.clone(),
                short: format!("{} does not parse", e.source),
                details: e.details.clone(),
                good: false,
            }),
            EventKind::RequirementChanged | EventKind::FailingAtStart => {
                for r in &e.requirements {
                    let f = self.facts_of(&r.policy, &r.requirement, &e.source);
                    f.what = r.what.clone();
                    f.steps.push((n.at, r.before, r.after));
                    f.step_witnesses = r.witnesses.clone();
                }
                // An assessment that changed results makes its comparison with
                // the baseline right after them; without one it found the file
                // back at its baseline, and what an earlier event said differs
                // no longer does.
                let compared = n
                    .events
                    .get(i + 1..)
                    .unwrap_or_default()
                    .iter()
                    .find(|x| x.source == e.source && x.kind != EventKind::RequirementChanged);
                if e.kind == EventKind::RequirementChanged
                    && !compared.is_some_and(|x| x.kind == EventKind::RulesetChanged)
                {
                    self.diffs.remove(&e.source);
                    for f in self.facts.values_mut().filter_map(|m| m.get_mut(&e.source)) {
                        f.against = None;
                    }
                    self.restored.insert(e.source.clone());
                }
            }
            EventKind::RulesetChanged | EventKind::LiveDiffers => {
                let live = e.kind == EventKind::LiveDiffers;
                for r in &e.requirements {
                    let f = self.facts_of(&r.policy, &r.requirement, &e.source);
                    if f.what.is_empty() {
                        f.what = r.what.clone();
                    }
                    f.against = Some(r.clone());
                    f.live = live;
                }
                if live {
                    self.notes.push(Note {
                    title: e.summary.clone(),
                    short: "the live ruleset differs from its file".into(),
                    // Accepting a baseline does not end this one: only the
                    // kernel and the file agreeing again does.
                    details: "To end it, load the file into the kernel; or, if the loaded ruleset is the one wanted, save it into the file.\n".into(),
                    good: false,
                });
                }
                self.restored.remove(&e.source);
                self.diffs.insert(e.source.clone(), rule_diff(e, live));
            }
            EventKind::BaselineAccepted => {
                self.notes.push(Note {
                    title: e.summary.clone(),
                    // Its failing requirements name it in the subject already.
                    short: if e.requirements.is_empty() {
                        format!("{} accepted as the baseline", e.source)
                    } else {
                        String::new()
                    },
                    details: if e.requirements.is_empty() {
                        e.details.clone()
                    } else {
                        String::new()
                    },
                    good: true,
                });
                for r in &e.requirements {
                    let f = self.facts_of(&r.policy, &r.requirement, &e.source);
                    f.accepted = true;
                    f.alert_status = r.after.to_string();
                    if f.what.is_empty() {
                        f.what = r.what.clone();
                    }
                }
                // Accepted: nothing differs from the baseline any more.
                self.diffs.remove(&e.source);
            }
        }
    }

    /// Takes in the alerts of notice `n`: requirements join their sections,
    /// file problems become notes.
    fn alerts(&mut self, mail: &Mail, n: &Notice) {
        let lists = [
            (&n.new, Standing::New),
            (&n.still, Standing::Still),
            (&n.resolved, Standing::Resolved),
            (&n.inhibited, Standing::HeldBack),
        ];
        for (list, standing) in lists {
            for a in list.iter() {
                if a.kind == AlertKind::Requirement {
                    if let Some((key, status)) = alert_requirement(a) {
                        let f = self.facts_of(&key.0, &key.1, &a.source);
                        f.standing = Some(standing);
                        if f.what.is_empty() {
                            f.what = a.what.clone();
                        }
                        if f.alert_status.is_empty() {
                            f.alert_status = status;
                        }
                    }
                    continue;
                }
                if let Some(note) = file_note(mail, a, standing) {
                    self.notes.push(note);
                }
            }
        }
    }
}

/// A problem with a file, unless an event of the message says it already.
fn file_note(mail: &Mail, a: &Alert, standing: Standing) -> Option<Note> {
    let said = |kind: EventKind| {
        mail.notices
            .iter()
            .flat_map(|n| &n.events)
            .any(|e| e.kind == kind && e.source == a.source)
    };
    let event_kind = match a.kind {
        AlertKind::ParseError => EventKind::ParseError,
        _ => EventKind::LiveDiffers,
    };
    match standing {
        Standing::New if said(event_kind) => None,
        Standing::New | Standing::HeldBack => Some(Note {
            title: a.summary.clone(),
            short: a.summary.clone(),
            details: String::new(),
            good: false,
        }),
        Standing::Still => Some(Note {
            title: format!("still: {}", a.summary),
            short: format!("reminder: {}", a.summary),
            details: String::new(),
            good: false,
        }),
        Standing::Resolved => {
            let title = match a.kind {
                AlertKind::ParseError => format!("{} parses again", a.source),
                _ => format!("the live ruleset matches {} again", a.source),
            };
            Some(Note {
                short: format!("resolved: {title}"),
                title,
                details: format!("It was: {}\n", a.summary),
                good: true,
            })
        }
    }
}

/// One file's part of a requirement, and how it reads.
fn part(source: &str, f: &Facts, digest: bool) -> (Mood, FilePart) {
    let witnesses = match &f.against {
        Some(a) if !a.witnesses.is_empty() => a.witnesses.clone(),
        _ => f.step_witnesses.clone(),
    };
    let part = |result: String| FilePart {
        source: source.to_string(),
        result,
        witnesses: witnesses.clone(),
        before: if f.live {
            "in the file"
        } else {
            "in the baseline"
        },
    };
    if let (Some((_, first, _)), Some((_, _, last))) = (f.steps.first(), f.steps.last()) {
        let mut chain = Vec::new();
        if *first != Reading::Unknown {
            chain.push(first.to_string());
        }
        for (at, _, after) in &f.steps {
            chain.push(if digest {
                format!("{after} ({})", clock(*at))
            } else {
                after.to_string()
            });
        }
        let mut result = wording::chain(&chain);
        if *first == Reading::Unknown {
            result.push_str(" at the first reading");
        }
        let mood = if f.accepted {
            Mood::Accepted
        } else if *last == Status::Pass {
            Mood::Recovered
        } else if *first == Reading::Unknown {
            Mood::FailsAtStart
        } else if *first == Reading::from(*last) {
            Mood::Still
        } else {
            Mood::Broke
        };
        return (mood, part(result));
    }
    if let Some(a) = &f.against {
        let result = if f.live {
            format!(
                "{} by the file, {} by the ruleset loaded in the kernel",
                a.before, a.after
            )
        } else {
            format!("{} -> {} against the accepted baseline", a.before, a.after)
        };
        let mood = match (a.after == Status::Pass, f.standing) {
            _ if f.accepted => Mood::Accepted,
            _ if f.live => Mood::Live,
            (false, Some(Standing::New)) => Mood::Broke,
            (true, Some(Standing::Resolved)) => Mood::Recovered,
            _ => Mood::Changed,
        };
        return (mood, part(result));
    }
    let status = f.alert_status.clone();
    let (mood, result) = match f.standing {
        _ if f.accepted => (
            Mood::Accepted,
            format!("{status}, accepted as the baseline: not alerted on again unless it changes"),
        ),
        Some(Standing::New) => (Mood::Broke, status),
        Some(Standing::Still) | None => (Mood::Still, format!("{status}, as reported before")),
        Some(Standing::Resolved) => (Mood::Recovered, "no longer failing".to_string()),
        Some(Standing::HeldBack) => (
            Mood::HeldBack,
            "not judged while the file does not parse".to_string(),
        ),
    };
    (mood, part(result))
}

/// `HH:MM:SS` UTC of a time in ms since the epoch: a digest's notices are
/// hours apart at most, and its header gives the dates (in UTC too).
fn clock(ms: u64) -> String {
    let s = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn section(
    policy: &str,
    requirement: &str,
    files: BTreeMap<String, Facts>,
    digest: bool,
) -> Section {
    let what = files
        .values()
        .map(|f| f.what.as_str())
        .find(|w| !w.is_empty())
        .unwrap_or(requirement)
        .to_string();
    let parts: Vec<(Mood, FilePart)> = files
        .iter()
        .map(|(source, f)| part(source, f, digest))
        .collect();
    let mood = parts.iter().map(|(m, _)| *m).min().unwrap_or(Mood::Still);
    let witness = parts
        .iter()
        .filter(|(m, _)| *m == mood)
        .find_map(|(_, p)| p.witnesses.first());
    let (headline, short) = headline(&what, mood, witness);
    Section {
        id: format!("{policy}/{requirement}"),
        mood,
        headline,
        short,
        files: parts.into_iter().map(|(_, p)| p).collect(),
    }
}
