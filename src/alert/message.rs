//! An alert as an email: a subject that says what happened at a glance,
//! a plain-text part complete on its own, and an HTML part with the same
//! content (every piece of text escaped), as multipart/alternative.

use super::lifecycle::{Alert, AlertKind, FILES_GROUP, Mail, Notice, NoticeKind};
use crate::drift::diff::Change;
use crate::drift::event::{Event, EventKind, Place, Reading, RequirementEdit, RuleEdit};
use crate::policy::check::Status;
use std::fmt::Write as _;
use std::time::SystemTime;

/// The parts of a message before it is put into MIME.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn group_label(group: &str) -> String {
    if group == FILES_GROUP {
        "the firewall files".into()
    } else {
        format!("policy {group}")
    }
}

/// Requirements (source, policy/requirement) that broke and that recovered
/// in a notice: from its events and from the problems that came and went.
fn broke_recovered(n: &Notice) -> (Vec<String>, Vec<String>) {
    let (mut broke, mut recovered) = (Vec::new(), Vec::new());
    for e in n
        .events
        .iter()
        .filter(|e| e.kind != EventKind::BaselineAccepted)
    {
        for r in &e.requirements {
            let key = format!("{}\0{}/{}", e.source, r.policy, r.requirement);
            if r.after != Status::Pass
                && r.before != Reading::from(r.after)
                && !matches!(r.before, Reading::Fail | Reading::Indeterminate)
            {
                broke.push(key);
            } else if r.after == Status::Pass && r.before != Reading::Pass {
                recovered.push(key);
            }
        }
    }
    for a in n.new.iter().filter(|a| a.kind == AlertKind::Requirement) {
        broke.push(a.key_text());
    }
    for a in n
        .resolved
        .iter()
        .filter(|a| a.kind == AlertKind::Requirement && !accepted(n, a))
    {
        recovered.push(a.key_text());
    }
    for list in [&mut broke, &mut recovered] {
        list.sort();
        list.dedup();
    }
    (broke, recovered)
}

impl Alert {
    /// The same text [`broke_recovered`] makes of an event.
    fn key_text(&self) -> String {
        let req = self.summary.split_whitespace().next().unwrap_or_default();
        format!("{}\0{req}", self.source)
    }
}

/// Whether a requirement alert ended because a person accepted its file's
/// state as the baseline (not because it passes).
fn accepted(n: &Notice, a: &Alert) -> bool {
    a.kind == AlertKind::Requirement
        && n.events.iter().any(|e| {
            e.kind == EventKind::BaselineAccepted
                && e.source == a.source
                && e.requirements.iter().any(|r| {
                    a.summary
                        .starts_with(&format!("{}/{} ", r.policy, r.requirement))
                })
        })
}

/// What one notice says, in a few words.
fn headline(n: &Notice) -> String {
    let (broke, recovered) = broke_recovered(n);
    let mut parts = Vec::new();
    let taken = n.resolved.iter().filter(|a| accepted(n, a)).count();
    if taken > 0 {
        parts.push(format!(
            "{} accepted as the baseline",
            plural(taken, "failing requirement", "failing requirements")
        ));
    }
    match n.kind {
        NoticeKind::Reminder => {
            let failing = n
                .still
                .iter()
                .filter(|a| a.kind == AlertKind::Requirement)
                .count();
            if failing > 0 {
                parts.push(format!(
                    "reminder: {} still failing",
                    plural(failing, "requirement", "requirements")
                ));
            }
            for a in n.still.iter().filter(|a| a.kind != AlertKind::Requirement) {
                parts.push(format!("reminder: {}", a.summary));
            }
        }
        NoticeKind::Resolved if n.events.is_empty() => {
            let files: Vec<&Alert> = n
                .resolved
                .iter()
                .filter(|a| a.kind != AlertKind::Requirement)
                .collect();
            if !recovered.is_empty() {
                parts.push(format!(
                    "resolved: {} recovered",
                    plural(recovered.len(), "requirement", "requirements")
                ));
            }
            for a in files {
                parts.push(format!("resolved: {}", resolved_text(a, n)));
            }
        }
        _ => {
            if !broke.is_empty() || !recovered.is_empty() {
                parts.push(format!(
                    "{} broke, {} recovered",
                    plural(broke.len(), "requirement", "requirements"),
                    recovered.len()
                ));
            }
            for e in &n.events {
                match e.kind {
                    EventKind::ParseError => parts.push(format!("{} does not parse", e.source)),
                    EventKind::LiveDiffers => {
                        parts.push("the live ruleset differs from its file".into())
                    }
                    EventKind::RulesetChanged if e.requirements.is_empty() => parts.push(format!(
                        "rules changed in {}, no requirement affected",
                        e.source
                    )),
                    _ => {}
                }
            }
            for a in n
                .resolved
                .iter()
                .filter(|a| a.kind != AlertKind::Requirement)
            {
                parts.push(resolved_text(a, n));
            }
            if parts.is_empty() && !n.still.is_empty() {
                parts.push(format!(
                    "{} still on",
                    plural(n.still.len(), "problem", "problems")
                ));
            }
        }
    }
    parts.dedup();
    if parts.is_empty() {
        parts.push("no change".into());
    }
    parts.join("; ")
}

fn resolved_text(a: &Alert, n: &Notice) -> String {
    if accepted(n, a) {
        return format!(
            "{} accepted as it is (driftwall baseline accept)",
            a.summary.split_whitespace().next().unwrap_or_default()
        );
    }
    match a.kind {
        AlertKind::ParseError => format!("{} parses again", a.source),
        AlertKind::LiveDiffers => format!("the live ruleset matches {} again", a.source),
        AlertKind::Requirement => format!(
            "{} passes again",
            a.summary.split_whitespace().next().unwrap_or_default()
        ),
    }
}

pub fn subject(mail: &Mail, host: &str) -> String {
    match mail.notices.as_slice() {
        [n] if !mail.digest => {
            let policy = if n.group == FILES_GROUP {
                String::new()
            } else {
                format!(" ({})", n.group)
            };
            format!("[driftwall] {host}: {}{policy}", headline(n))
        }
        many => format!(
            "[driftwall] {host}: digest of {} held back by max_per_hour",
            plural(many.len(), "alert", "alerts")
        ),
    }
}

/// Renders a message: subject, text and HTML.
pub fn render(mail: &Mail, host: &str, accept_hint: &str) -> Rendered {
    let subject = subject(mail, host);
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    html.push_str(&esc(&subject));
    html.push_str("</title></head>\n<body style=\"font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2328; max-width: 60em; margin: 1em auto; padding: 0 1em\">\n");
    if mail.digest {
        let _ = writeln!(
            text,
            "driftwall on {host}: {} held back because max_per_hour was reached, none dropped.\n",
            plural(mail.notices.len(), "alert was", "alerts were")
        );
        let _ = writeln!(
            html,
            "<p>driftwall on <b>{}</b>: {} held back because <code>max_per_hour</code> was reached, none dropped.</p>",
            esc(host),
            plural(mail.notices.len(), "alert was", "alerts were")
        );
    }
    for n in &mail.notices {
        notice(n, host, mail.digest, &mut text, &mut html);
    }
    if mail
        .notices
        .iter()
        .any(|n| n.events.iter().any(|e| e.kind != EventKind::ParseError))
    {
        let _ = writeln!(
            text,
            "If the change is intended, accept the current state as the new baseline:\n    {accept_hint}\n"
        );
        let _ = writeln!(
            html,
            "<p>If the change is intended, accept the current state as the new baseline:</p>\n<pre style=\"background:#f6f8fa; padding:.6em\">{}</pre>",
            esc(accept_hint)
        );
    }
    let ids: Vec<&str> = mail
        .notices
        .iter()
        .flat_map(|n| n.events.iter().map(|e| e.id.as_str()))
        .collect();
    if !ids.is_empty() {
        let _ = writeln!(text, "Events: {}", ids.join(" "));
        let _ = writeln!(
            html,
            "<p style=\"color:#59636e; font-size:small\">Events: {}</p>",
            esc(&ids.join(" "))
        );
    }
    html.push_str("</body></html>\n");
    Rendered {
        subject,
        text,
        html,
    }
}

const TH: &str = "style=\"text-align:left; border-bottom:1px solid #d1d9e0; padding:.2em .6em\"";
const TD: &str = "style=\"vertical-align:top; border-bottom:1px solid #eef1f4; padding:.2em .6em\"";

fn notice(n: &Notice, host: &str, in_digest: bool, text: &mut String, html: &mut String) {
    let head = headline(n);
    let when =
        super::outbox::rfc2822(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(n.at));
    let _ = writeln!(
        text,
        "driftwall on {host}, {}: {head}{}\n",
        group_label(&n.group),
        if in_digest {
            format!(" ({when})")
        } else {
            String::new()
        }
    );
    let colour = match n.kind {
        NoticeKind::Resolved => "#1a7f37",
        NoticeKind::Reminder => "#9a6700",
        NoticeKind::Alert => "#cf222e",
    };
    let _ = writeln!(
        html,
        "<h2 style=\"color:{colour}; font-size:1.2em\">{}</h2>\n<p>driftwall on <b>{}</b>, {}{}</p>",
        esc(&head),
        esc(host),
        esc(&group_label(&n.group)),
        if in_digest {
            format!(", {}", esc(&when))
        } else {
            String::new()
        }
    );
    for e in &n.events {
        event(e, text, html);
    }
    let lists: [(&str, &[Alert]); 4] = [
        ("Problems reported for the first time", &n.new),
        ("Still unresolved (reported before)", &n.still),
        ("Resolved since the last message", &n.resolved),
        (
            "Held back while the file they depend on does not parse",
            &n.inhibited,
        ),
    ];
    for (title, list) in lists {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{title}:");
        let _ = writeln!(
            html,
            "<h3 style=\"font-size:1em\">{}</h3>\n<ul>",
            esc(title)
        );
        for a in list {
            let line = if std::ptr::eq(list, n.resolved.as_slice()) {
                format!("{} (was: {})", resolved_text(a, n), a.summary)
            } else {
                a.summary.clone()
            };
            let _ = writeln!(text, "  - {line}");
            let _ = writeln!(html, "<li>{}</li>", esc(&line));
        }
        text.push('\n');
        html.push_str("</ul>\n");
    }
}

fn event(e: &Event, text: &mut String, html: &mut String) {
    let title = match e.kind {
        EventKind::RequirementChanged => "Requirement changed",
        EventKind::FailingAtStart => "Failing at the first reading",
        EventKind::RulesetChanged => "What changed (against the accepted baseline)",
        EventKind::ParseError => "The file does not parse (its last good state stays in force)",
        EventKind::LiveDiffers => "The ruleset in the kernel differs from its file",
        EventKind::BaselineAccepted => "Accepted as the baseline",
    };
    let _ = writeln!(text, "== {title}\n{}\n", e.summary);
    let _ = writeln!(
        html,
        "<h3 style=\"font-size:1.05em; border-top:1px solid #d1d9e0; padding-top:.6em\">{}</h3>\n<p>{}</p>",
        esc(title),
        esc(&e.summary)
    );
    if e.rules.is_empty() && e.requirements.is_empty() {
        // Parse errors and other events without structure: their text as is.
        for l in e.details.lines() {
            let _ = writeln!(text, "  {l}");
        }
        text.push('\n');
        let _ = writeln!(
            html,
            "<pre style=\"background:#fff8c5; padding:.6em; white-space:pre-wrap\">{}</pre>",
            esc(e.details.trim_end())
        );
        return;
    }
    if !e.rules.is_empty() {
        rules(&e.rules, text, html);
    }
    for r in &e.requirements {
        requirement(r, &e.source, text, html);
    }
}

fn place_text(p: &Place) -> String {
    let phase = if p.phase.is_empty() {
        String::new()
    } else {
        format!(", {}", p.phase)
    };
    format!("{}  {}  ({} {}{phase})", p.at(), p.text, p.table, p.chain)
}

fn rules(list: &[RuleEdit], text: &mut String, html: &mut String) {
    text.push_str("Rules:\n");
    html.push_str(&format!("<table style=\"border-collapse:collapse; font-size:small\">\n<tr><th {TH}></th><th {TH}>where</th><th {TH}>rule</th><th {TH}>chain</th></tr>\n"));
    for r in list {
        let (mark, colour) = match r.change {
            Change::Added => ("+", "#dafbe1"),
            Change::Removed => ("-", "#ffebe9"),
            Change::Moved => (">", "#ddf4ff"),
            Change::Changed | Change::Policy => ("~", "#fff8c5"),
        };
        let at = |p: &Option<Place>| p.as_ref().map(Place::at).unwrap_or_default();
        let rule = |p: &Option<Place>| p.as_ref().map(|p| p.text.clone()).unwrap_or_default();
        let chain = r
            .new
            .as_ref()
            .or(r.old.as_ref())
            .map(|p| format!("{} {}", p.table, p.chain))
            .unwrap_or_default();
        let (where_, what) = match r.change {
            Change::Added => (at(&r.new), rule(&r.new)),
            Change::Removed => (at(&r.old), rule(&r.old)),
            Change::Moved => (format!("{} -> {}", at(&r.old), at(&r.new)), rule(&r.new)),
            Change::Policy => (
                String::new(),
                format!("policy {} -> {}", rule(&r.old), rule(&r.new)),
            ),
            Change::Changed => (
                format!("{} -> {}", at(&r.old), at(&r.new)),
                format!("{}  =>  {}", rule(&r.old), rule(&r.new)),
            ),
        };
        let _ = writeln!(text, "  {mark} {where_}  {what}   ({chain})");
        let _ = writeln!(
            html,
            "<tr style=\"background:{colour}\"><td {TD}><b>{mark}</b></td><td {TD}><code>{}</code></td><td {TD}><code>{}</code></td><td {TD}>{}</td></tr>",
            esc(&where_),
            esc(&what),
            esc(&chain)
        );
    }
    text.push('\n');
    html.push_str("</table>\n");
}

fn requirement(r: &RequirementEdit, source: &str, text: &mut String, html: &mut String) {
    let verdict = if r.before == Reading::Unknown {
        r.after.to_string()
    } else {
        format!("{} -> {}", r.before, r.after)
    };
    let _ = writeln!(
        text,
        "Requirement {}/{} ({}) in {source}: {verdict}",
        r.policy, r.requirement, r.what
    );
    let colour = if r.after == Status::Pass {
        "#1a7f37"
    } else {
        "#cf222e"
    };
    let _ = writeln!(
        html,
        "<p><b>{}/{}</b> ({}) in <code>{}</code>: <b style=\"color:{colour}\">{}</b></p>",
        esc(&r.policy),
        esc(&r.requirement),
        esc(&r.what),
        esc(source),
        esc(&verdict)
    );
    if r.witnesses.is_empty() {
        text.push('\n');
        return;
    }
    html.push_str(&format!("<table style=\"border-collapse:collapse; font-size:small\">\n<tr><th {TH}>witness packet</th><th {TH}>direction</th><th {TH}>verdict</th><th {TH}>decided by</th></tr>\n"));
    for w in &r.witnesses {
        let verdict = match &w.before {
            Some(b) => format!("{b} -> {}", w.after),
            None => w.after.clone(),
        };
        let _ = writeln!(
            text,
            "  witness: {}  ({}): {verdict}",
            w.witness, w.direction
        );
        let mut by = String::new();
        if let Some(p) = &w.rule_after {
            let _ = writeln!(text, "    culprit: {}", place_text(p));
            let _ = write!(
                by,
                "<code>{}</code> <code>{}</code><br><span style=\"color:#59636e\">{} {}{}</span>",
                esc(&p.at()),
                esc(&p.text),
                esc(&p.table),
                esc(&p.chain),
                if p.phase.is_empty() {
                    String::new()
                } else {
                    format!(", {}", esc(&p.phase))
                }
            );
        }
        if let Some(p) = &w.rule_before {
            let _ = writeln!(text, "    before:  {}", place_text(p));
            let _ = write!(
                by,
                "<br>before: <code>{}</code> <code>{}</code>",
                esc(&p.at()),
                esc(&p.text)
            );
        }
        let _ = writeln!(
            html,
            "<tr><td {TD}><code>{}</code></td><td {TD}>{}</td><td {TD}><b>{}</b></td><td {TD}>{by}</td></tr>",
            esc(&w.witness),
            esc(&w.direction),
            esc(&verdict)
        );
    }
    text.push('\n');
    html.push_str("</table>\n");
}

/// Escapes text for HTML, element content and attribute values alike (the
/// same five characters as XML, so the reports' escaper serves).
pub fn esc(s: &str) -> String {
    crate::report::junit::escape(s)
}

/// A custom header naming the events a message carries, for mail filters.
#[derive(Clone)]
struct EventsHeader(String);

impl lettre::message::header::Header for EventsHeader {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-Driftwall-Events")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(EventsHeader(s.to_string()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Why a message could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    #[error("`{address}` is not an email address: {error}")]
    Address {
        address: String,
        error: lettre::address::AddressError,
    },
    #[error("cannot build the message: {0}")]
    Build(lettre::error::Error),
}

/// The whole message (RFC 5322, MIME multipart/alternative).
pub fn eml(
    mail: &Mail,
    r: &Rendered,
    from: &str,
    to: &[String],
    date: SystemTime,
) -> Result<Vec<u8>, MessageError> {
    use lettre::message::{Mailbox, MultiPart};
    let mailbox = |s: &str| {
        s.parse::<Mailbox>().map_err(|error| MessageError::Address {
            address: s.to_string(),
            error,
        })
    };
    let mut b = lettre::Message::builder()
        .from(mailbox(from)?)
        .subject(r.subject.clone())
        .date(date)
        .message_id(Some(mail.message_id.clone()));
    for t in to {
        b = b.to(mailbox(t)?);
    }
    if let Some(parent) = &mail.in_reply_to {
        b = b.in_reply_to(parent.clone());
    }
    if !mail.references.is_empty() {
        b = b.references(mail.references.join(" "));
    }
    let ids: Vec<&str> = mail
        .notices
        .iter()
        .flat_map(|n| n.events.iter().map(|e| e.id.as_str()))
        .collect();
    if !ids.is_empty() {
        b = b.header(EventsHeader(ids.join(" ")));
    }
    let m = b
        .multipart(MultiPart::alternative_plain_html(
            r.text.clone(),
            r.html.clone(),
        ))
        .map_err(MessageError::Build)?;
    Ok(m.formatted())
}

/// What `driftwall test-email` sends.
pub fn test_message(
    host: &str,
    from: &str,
    to: &[String],
    date: SystemTime,
) -> Result<Vec<u8>, MessageError> {
    let id = format!(
        "<test.{}@driftwall.{host}>",
        crate::stable_hash::fnv(format!("{date:?}").as_bytes())
    );
    let mail = Mail {
        message_id: id,
        in_reply_to: None,
        references: Vec::new(),
        notices: Vec::new(),
        digest: false,
    };
    let text = format!(
        "This is a test message from driftwall on {host}.\nDrift alerts will arrive like this one: from {from}, through the same server.\n"
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body><p>This is a test message from driftwall on <b>{}</b>.</p><p>Drift alerts will arrive like this one: from {}, through the same server.</p></body></html>\n",
        esc(host),
        esc(from)
    );
    eml(
        &mail,
        &Rendered {
            subject: format!("[driftwall] {host}: test message"),
            text,
            html,
        },
        from,
        to,
        date,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_everything() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        let mail = super::super::example::mail();
        let mut evil = mail.clone();
        evil.notices[0].events[0].summary = "<script>alert(1)</script>".into();
        let r = render(&evil, "fw1", "driftwall baseline accept");
        assert!(!r.html.contains("<script>") && r.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_subject_says_host_counts_and_policy() {
        let mail = super::super::example::mail();
        assert_eq!(
            subject(&mail, "fw1.example.org"),
            "[driftwall] fw1.example.org: 1 requirement broke, 0 recovered (web-server)"
        );
    }
}
