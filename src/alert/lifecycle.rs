//! The alert lifecycle, after Alertmanager: alerts are grouped per host and
//! policy; a group's first message waits `group_wait` so a multi-file
//! change goes out as one; updates of a group are at least `group_interval`
//! apart; a group with unresolved problems is repeated every
//! `repeat_interval`; when its problems clear, a resolved message says so
//! (on by default). A file that does not parse inhibits the alerts of the
//! requirements checked on it: one message about the parse error, not one
//! per requirement. `max_per_hour` caps the messages; what goes over it is
//! kept and sent as one digest when the hour allows, never dropped.
//!
//! Pure: time comes in as milliseconds since the epoch, and the whole
//! lifecycle is a value kept in the daemon's state file, so a restart
//! resumes it where it was.

use crate::drift::event::{Event, EventKind};
use crate::stable_hash::fnv;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The group of alerts about the firewall files themselves (parse errors,
/// the live ruleset, rule changes that change no requirement's verdict).
pub const FILES_GROUP: &str = "";

/// What the lifecycle needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub host: String,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub send_resolved: bool,
    pub max_per_hour: Option<u32>,
    /// The window `max_per_hour` counts in: an hour (shorter only in tests).
    pub rate_window: Duration,
}

impl Settings {
    /// The defaults of the configuration (Alertmanager's, and an hour).
    pub fn standard(host: &str) -> Settings {
        Settings {
            host: host.to_string(),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            send_resolved: true,
            max_per_hour: None,
            rate_window: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A requirement that does not pass (fail or indeterminate).
    Requirement,
    /// A watched file that does not parse.
    ParseError,
    /// The ruleset in the kernel differs from its file.
    LiveDiffers,
}

/// A problem that is on (firing) until it clears (resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable over restarts: the same problem has the same key.
    pub key: String,
    pub kind: AlertKind,
    /// The policy, or [`FILES_GROUP`].
    pub group: String,
    pub source: String,
    pub summary: String,
    /// A requirement's connections (`tcp 443 inbound`), for messages that
    /// name it without an event to say so (reminders).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub what: String,
    /// Held back because the file it depends on does not parse.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inhibited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    /// Something new: events, or problems not reported yet.
    Alert,
    /// Nothing new, problems still unresolved.
    Reminder,
    /// Every problem of the group cleared.
    Resolved,
}

/// One message's worth of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub group: String,
    pub kind: NoticeKind,
    /// When it was decided, in ms since the epoch.
    pub at: u64,
    pub events: Vec<Event>,
    /// Problems reported for the first time.
    pub new: Vec<Alert>,
    /// Problems reported before and still on.
    pub still: Vec<Alert>,
    /// Problems that cleared since the last message (with `send_resolved`).
    pub resolved: Vec<Alert>,
    /// Problems held back because a file they depend on does not parse.
    pub inhibited: Vec<Alert>,
}

/// A message to send: one group's notice, or a digest of notices that
/// `max_per_hour` held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Stable: a message recomputed after a crash has the same id, which is
    /// what delivery deduplicates on.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    pub notices: Vec<Notice>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digest: bool,
}

/// One group's memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Events not reported yet.
    pub pending: Vec<Event>,
    /// Since when the group has had something new to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sent: Option<u64>,
    /// The problems on at the last message, by key (Alertmanager's
    /// notification log): what is new and what cleared is relative to it.
    #[serde(default)]
    pub notified: BTreeMap<String, Alert>,
    /// How many messages the group has had: part of their ids.
    #[serde(default)]
    pub seq: u64,
    /// The first and the latest message of the current thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_last: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub groups: BTreeMap<String, Group>,
    /// When messages went out, within the rate window.
    #[serde(default)]
    pub sent_at: Vec<u64>,
    /// Notices over `max_per_hour`, waiting for the digest.
    #[serde(default)]
    pub overflow: Vec<Notice>,
    #[serde(default)]
    pub digests: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The groups an event belongs to, each with the part of it that concerns
/// the group: a requirement's event goes to its policy; a rule change to the
/// policies whose connections it changes (or to the files' group if it
/// changes none); a parse error to the files' group.
fn route(e: &Event) -> Vec<(String, Event)> {
    let mut policies: Vec<&str> = e.requirements.iter().map(|r| r.policy.as_str()).collect();
    policies.sort();
    policies.dedup();
    if policies.is_empty() || e.kind == EventKind::ParseError {
        return vec![(FILES_GROUP.to_string(), e.clone())];
    }
    policies
        .into_iter()
        .map(|p| {
            let mut part = e.clone();
            part.requirements.retain(|r| r.policy == p);
            (p.to_string(), part)
        })
        .collect()
}

impl Lifecycle {
    /// Files new events with their groups.
    pub fn add_events(&mut self, events: &[Event], now: u64) {
        for e in events {
            for (group, part) in route(e) {
                let g = self.groups.entry(group).or_default();
                // An event recomputed (a crash before the state was saved) replaces itself.
                match g.pending.iter_mut().find(|p| p.id == part.id) {
                    Some(p) => *p = part,
                    None => g.pending.push(part),
                }
                g.changed_at.get_or_insert(now);
            }
        }
    }

    /// When something is due next, if anything is.
    pub fn next_due(&self, now: u64, firing: &[Alert], s: &Settings) -> Option<u64> {
        let mut next: Option<u64> = None;
        let mut at = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        for name in self.group_names(firing) {
            let g = self.groups.get(&name).cloned().unwrap_or_default();
            let view = View::of(&g, &name, firing);
            if let Some(t) = due(&g, &view, now, s) {
                at(t.0);
            }
        }
        if !self.overflow.is_empty() {
            at(self.rate_free_at(s).unwrap_or(now));
        }
        next
    }

    fn group_names(&self, firing: &[Alert]) -> Vec<String> {
        let mut names: Vec<String> = self.groups.keys().cloned().collect();
        names.extend(firing.iter().map(|a| a.group.clone()));
        names.sort();
        names.dedup();
        names
    }

    /// When the rate window has room for one more message (None: now).
    fn rate_free_at(&self, s: &Settings) -> Option<u64> {
        let max = s.max_per_hour? as usize;
        if self.sent_at.len() < max {
            return None;
        }
        let mut times = self.sent_at.clone();
        times.sort_unstable();
        Some(times[times.len() - max] + ms(s.rate_window))
    }

    fn record_sent(&mut self, now: u64, s: &Settings) {
        let window = ms(s.rate_window);
        self.sent_at.retain(|t| t.saturating_add(window) > now);
        self.sent_at.push(now);
    }

    /// Advances the lifecycle to `now` given the problems on now, and
    /// returns the messages due. `force` sends what is pending without
    /// waiting (`watch --once`).
    pub fn tick(&mut self, now: u64, firing: &[Alert], s: &Settings, force: bool) -> Vec<Mail> {
        let window = ms(s.rate_window);
        self.sent_at.retain(|t| t.saturating_add(window) > now);
        let mut mails = Vec::new();
        for name in self.group_names(firing) {
            let mut g = self.groups.remove(&name).unwrap_or_default();
            let view = View::of(&g, &name, firing);
            // Without resolved messages, a problem that cleared is forgotten quietly.
            if !s.send_resolved && !view.resolved.is_empty() {
                for a in &view.resolved {
                    g.notified.remove(&a.key);
                }
            }
            let view = View::of(&g, &name, firing);
            if view.has_news(&g) {
                g.changed_at.get_or_insert(now);
            }
            let due_now = match due(&g, &view, now, s) {
                Some((t, _)) if t <= now => true,
                Some(_) => force && view.has_news(&g),
                None => false,
            };
            if due_now {
                let kind = if !g.pending.is_empty() || !view.new.is_empty() {
                    NoticeKind::Alert
                } else if !view.resolved.is_empty() && view.active.is_empty() {
                    NoticeKind::Resolved
                } else if !view.resolved.is_empty() {
                    NoticeKind::Alert
                } else {
                    NoticeKind::Reminder
                };
                let notice = Notice {
                    group: name.clone(),
                    kind,
                    at: now,
                    events: std::mem::take(&mut g.pending),
                    new: view.new.clone(),
                    still: view.still.clone(),
                    resolved: view.resolved.clone(),
                    inhibited: view.inhibited.clone(),
                };
                // Inhibited problems keep whatever was said of them before.
                let mut notified: BTreeMap<String, Alert> = view
                    .active
                    .iter()
                    .map(|a| (a.key.clone(), a.clone()))
                    .collect();
                for a in &view.inhibited {
                    if let Some(old) = g.notified.get(&a.key) {
                        notified.insert(a.key.clone(), old.clone());
                    }
                }
                g.notified = notified;
                g.changed_at = None;
                g.last_sent = Some(now);
                g.seq += 1;
                let content: Vec<&str> = notice
                    .events
                    .iter()
                    .map(|e| e.id.as_str())
                    .chain(
                        notice
                            .new
                            .iter()
                            .chain(&notice.resolved)
                            .map(|a| a.key.as_str()),
                    )
                    .collect();
                let id = format!(
                    "<{}.{}.{}@driftwall.{}>",
                    fnv(name.as_bytes()),
                    g.seq,
                    fnv(content.join(",").as_bytes()),
                    s.host
                );
                let (in_reply_to, references) = match (&g.thread_root, &g.thread_last) {
                    (Some(root), Some(last)) if root != last => {
                        (Some(last.clone()), vec![root.clone(), last.clone()])
                    }
                    (Some(root), _) => (Some(root.clone()), vec![root.clone()]),
                    _ => (None, Vec::new()),
                };
                g.thread_root.get_or_insert_with(|| id.clone());
                g.thread_last = Some(id.clone());
                // A group with nothing on has ended: its next message starts a new thread.
                if g.notified.is_empty() {
                    g.thread_root = None;
                    g.thread_last = None;
                }
                if !self.overflow.is_empty() || self.rate_free_at(s).is_some_and(|t| t > now) {
                    self.overflow.push(notice);
                } else {
                    self.record_sent(now, s);
                    mails.push(Mail {
                        message_id: id,
                        in_reply_to,
                        references,
                        notices: vec![notice],
                        digest: false,
                    });
                }
            }
            let idle = g.pending.is_empty() && g.notified.is_empty() && g.changed_at.is_none();
            let recent = g
                .last_sent
                .is_some_and(|t| t.saturating_add(ms(s.group_interval)) > now);
            if !idle || recent {
                self.groups.insert(name, g);
            }
        }
        if !self.overflow.is_empty() && self.rate_free_at(s).is_none_or(|t| t <= now) {
            self.digests += 1;
            let notices = std::mem::take(&mut self.overflow);
            let ids: Vec<String> = notices
                .iter()
                .flat_map(|n| n.events.iter().map(|e| e.id.clone()))
                .collect();
            let id = format!(
                "<digest.{}.{}@driftwall.{}>",
                self.digests,
                fnv(ids.join(",").as_bytes()),
                s.host
            );
            self.record_sent(now, s);
            mails.push(Mail {
                message_id: id,
                in_reply_to: None,
                references: Vec::new(),
                notices,
                digest: true,
            });
        }
        mails
    }
}

/// A group's problems relative to what it last said.
struct View {
    /// On and not inhibited.
    active: Vec<Alert>,
    new: Vec<Alert>,
    still: Vec<Alert>,
    resolved: Vec<Alert>,
    inhibited: Vec<Alert>,
}

impl View {
    fn of(g: &Group, name: &str, firing: &[Alert]) -> View {
        let mine: Vec<&Alert> = firing.iter().filter(|a| a.group == name).collect();
        let active: Vec<Alert> = mine
            .iter()
            .filter(|a| !a.inhibited)
            .map(|a| (*a).clone())
            .collect();
        let inhibited: Vec<Alert> = mine
            .iter()
            .filter(|a| a.inhibited)
            .map(|a| (*a).clone())
            .collect();
        let new = active
            .iter()
            .filter(|a| !g.notified.contains_key(&a.key))
            .cloned()
            .collect();
        let still = active
            .iter()
            .filter(|a| g.notified.contains_key(&a.key))
            .cloned()
            .collect();
        let resolved = g
            .notified
            .values()
            .filter(|n| !mine.iter().any(|a| a.key == n.key))
            .cloned()
            .collect();
        View {
            active,
            new,
            still,
            resolved,
            inhibited,
        }
    }

    fn has_news(&self, g: &Group) -> bool {
        !g.pending.is_empty() || !self.new.is_empty() || !self.resolved.is_empty()
    }
}

/// When the group's next message is due, and whether it has news.
fn due(g: &Group, view: &View, now: u64, s: &Settings) -> Option<(u64, bool)> {
    if view.has_news(g) {
        let since = g.changed_at.unwrap_or(now);
        let wait = since.saturating_add(ms(s.group_wait));
        // Updates of a group are group_interval apart; a group that starts
        // afresh waits group_wait only.
        let t = match g.last_sent {
            Some(last) => wait.max(last.saturating_add(ms(s.group_interval))),
            None => wait,
        };
        return Some((t, true));
    }
    if !view.active.is_empty() {
        let last = g.last_sent.unwrap_or(now);
        return Some((last.saturating_add(ms(s.repeat_interval)), false));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::standard("fw1")
    }

    fn req(policy: &str, name: &str) -> Alert {
        Alert {
            key: format!("req {policy}/{name}"),
            kind: AlertKind::Requirement,
            group: policy.into(),
            source: "/etc/rules".into(),
            summary: format!("{policy}/{name} is fail"),
            what: String::new(),
            inhibited: false,
        }
    }

    fn event(id: &str, policy: &str) -> Event {
        use crate::drift::event::RequirementEdit;
        Event {
            id: id.into(),
            kind: EventKind::RequirementChanged,
            source: "/etc/rules".into(),
            summary: "x".into(),
            details: String::new(),
            rules: vec![],
            requirements: vec![RequirementEdit {
                policy: policy.into(),
                requirement: "r".into(),
                what: String::new(),
                before: crate::drift::event::Reading::Pass,
                after: crate::policy::check::Status::Fail,
                witnesses: vec![],
            }],
        }
    }

    const S: u64 = 1000;

    #[test]
    fn a_group_waits_group_wait_then_sends_once_with_everything_gathered() {
        let s = settings();
        let mut l = Lifecycle::default();
        let firing = vec![req("web", "https")];
        l.add_events(&[event("e1", "web")], 0);
        assert!(l.tick(10 * S, &firing, &s, false).is_empty());
        // A second file's change within group_wait joins the same message.
        l.add_events(&[event("e2", "web")], 20 * S);
        assert_eq!(l.next_due(20 * S, &firing, &s), Some(30 * S));
        let mails = l.tick(30 * S, &firing, &s, false);
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].notices[0].events.len(), 2);
        assert_eq!(mails[0].notices[0].new, firing);
        assert!(
            l.tick(31 * S, &firing, &s, false).is_empty(),
            "nothing more until something changes"
        );
    }

    #[test]
    fn updates_are_group_interval_apart_and_reminders_repeat_interval() {
        let s = settings();
        let mut l = Lifecycle::default();
        let firing = vec![req("web", "https")];
        l.add_events(&[event("e1", "web")], 0);
        let first = l.tick(30 * S, &firing, &s, false);
        l.add_events(&[event("e2", "web")], 40 * S);
        assert!(l.tick(100 * S, &firing, &s, false).is_empty());
        let update = l.tick(330 * S, &firing, &s, false);
        assert_eq!(update.len(), 1, "at last_sent + group_interval");
        assert_eq!(
            update[0].in_reply_to.as_ref(),
            Some(&first[0].message_id),
            "threads with the first"
        );
        assert_eq!(
            l.next_due(331 * S, &firing, &s),
            Some(330 * S + 4 * 3600 * S)
        );
        let reminder = l.tick(330 * S + 4 * 3600 * S, &firing, &s, false);
        assert_eq!(reminder[0].notices[0].kind, NoticeKind::Reminder);
        assert_eq!(reminder[0].notices[0].still, firing);
        assert_eq!(
            reminder[0].references,
            vec![first[0].message_id.clone(), update[0].message_id.clone()]
        );
    }

    #[test]
    fn a_cleared_problem_gets_a_resolved_message_and_ends_the_thread() {
        let s = settings();
        let mut l = Lifecycle::default();
        let firing = vec![req("web", "https")];
        l.tick(0, &firing, &s, false);
        let first = l.tick(30 * S, &firing, &s, false);
        assert_eq!(first.len(), 1);
        assert!(
            l.tick(400 * S, &[], &s, false).is_empty(),
            "a resolution waits group_wait too"
        );
        let resolved = l.tick(430 * S, &[], &s, false);
        assert_eq!(resolved[0].notices[0].kind, NoticeKind::Resolved);
        assert_eq!(resolved[0].notices[0].resolved, firing);
        assert!(l.groups.is_empty() || l.groups.values().all(|g| g.thread_root.is_none()));
        // Without send_resolved nothing goes out.
        let quiet = Settings {
            send_resolved: false,
            ..settings()
        };
        let mut l = Lifecycle::default();
        l.tick(0, &firing, &quiet, false);
        l.tick(30 * S, &firing, &quiet, false);
        assert!(l.tick(400 * S, &[], &quiet, false).is_empty());
        assert!(l.tick(430 * S, &[], &quiet, false).is_empty());
        assert!(
            l.tick(5 * 3600 * S, &[], &quiet, false).is_empty(),
            "and no reminder either"
        );
    }

    #[test]
    fn inhibited_problems_neither_resolve_nor_remind() {
        let s = settings();
        let mut l = Lifecycle::default();
        let firing = vec![req("web", "https")];
        l.tick(0, &firing, &s, false);
        l.tick(30 * S, &firing, &s, false);
        let held = vec![Alert {
            inhibited: true,
            ..req("web", "https")
        }];
        assert!(l.tick(400 * S, &held, &s, false).is_empty());
        assert!(
            l.tick(5 * 3600 * S, &held, &s, false).is_empty(),
            "no reminder while the file does not parse"
        );
        assert_eq!(l.groups["web"].notified.len(), 1, "still known as reported");
    }

    #[test]
    fn over_max_per_hour_notices_wait_for_one_digest() {
        let s = Settings {
            max_per_hour: Some(2),
            group_wait: Duration::ZERO,
            group_interval: Duration::ZERO,
            ..settings()
        };
        let mut l = Lifecycle::default();
        let mut sent = Vec::new();
        for i in 0..5u64 {
            l.add_events(&[event(&format!("e{i}"), "web")], i * S);
            sent.extend(l.tick(i * S, &[], &s, false));
        }
        assert_eq!(sent.len(), 2);
        assert_eq!(l.overflow.len(), 3);
        assert_eq!(l.next_due(5 * S, &[], &s), Some(3600 * S));
        let digest = l.tick(3600 * S, &[], &s, false);
        assert_eq!(digest.len(), 1);
        assert!(digest[0].digest);
        assert_eq!(
            digest[0]
                .notices
                .iter()
                .map(|n| n.events.len())
                .sum::<usize>(),
            3,
            "nothing dropped"
        );
    }

    #[test]
    fn message_ids_are_stable_for_the_same_content() {
        let s = settings();
        let run = || {
            let mut l = Lifecycle::default();
            l.add_events(&[event("e1", "web")], 0);
            l.tick(30 * S, &[req("web", "https")], &s, false)
        };
        assert_eq!(run()[0].message_id, run()[0].message_id);
    }

    #[test]
    fn a_rule_change_goes_to_the_policies_whose_verdicts_it_changes() {
        let mut e = event("e1", "web");
        e.kind = EventKind::RulesetChanged;
        e.requirements.push(crate::drift::event::RequirementEdit {
            policy: "mail".into(),
            ..e.requirements[0].clone()
        });
        let groups: Vec<String> = route(&e)
            .into_iter()
            .map(|(g, p)| format!("{g}:{}", p.requirements.len()))
            .collect();
        assert_eq!(groups, vec!["mail:1", "web:1"]);
        e.requirements.clear();
        assert_eq!(route(&e)[0].0, FILES_GROUP);
    }
}
