//! An alert as an email: a subject that says what happened at a glance,
//! a plain-text part complete on its own, and an HTML part with the same
//! content (every piece of text escaped), as multipart/alternative.
//!
//! A message tells each thing once: [`story`] folds the lifecycle's events
//! and alerts into one section per requirement (judged by its [`mood`],
//! put in words by [`headline`]), one rule [`diff`] per file and a few
//! notes; [`text`] and [`html`] lay that out, [`subject`] sums it up, with
//! the words of [`wording`].

mod diff;
mod headline;
mod html;
mod mood;
mod story;
mod subject;
mod text;
mod wording;

pub use html::esc;
pub use subject::subject;

use super::lifecycle::Mail;
use std::time::SystemTime;

/// The parts of a message before it is put into MIME.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders a message: subject, text and HTML, both parts from one story
/// ([`story::tell`]) in which every requirement, rule change and file
/// problem is told once.
pub fn render(mail: &Mail, host: &str, accept_hint: &str) -> Rendered {
    let story = story::tell(mail);
    let subject = subject::of_story(mail, &story, host);
    let header = format!(
        "driftwall on {host}, {}: {}",
        story.groups.join(", "),
        subject::summary(&story)
    );
    Rendered {
        text: text::render(mail, &story, &header, accept_hint),
        html: html::render(mail, &story, &subject, &header, accept_hint),
        subject,
    }
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
        // Markup wherever a file, a rule, a witness or a host can put text.
        let evil = "<script>alert(1)</script>";
        let mut mail = super::super::example::mail();
        for e in &mut mail.notices[0].events {
            e.source = format!("/etc/{evil}");
            for r in &mut e.rules {
                if let Some(p) = &mut r.new {
                    p.text = evil.into();
                }
            }
            for r in &mut e.requirements {
                r.what = format!("tcp 443 {evil}");
                for w in &mut r.witnesses {
                    w.witness = evil.into();
                    w.peers = Some(evil.into());
                    if let Some(p) = &mut w.rule_after {
                        p.file = evil.into();
                    }
                }
            }
        }
        let r = render(&mail, evil, evil);
        assert!(r.text.contains(evil), "the text part is text: {}", r.text);
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(r.html.matches("&lt;script&gt;").count() >= 8, "{}", r.html);
    }

    #[test]
    fn the_subject_says_the_host_and_the_worst_change() {
        let mail = super::super::example::mail();
        assert_eq!(
            subject(&mail, "fw1.example.org"),
            "[driftwall] fw1.example.org: HTTPS (tcp 443 in) now rejected – 1 requirement broken"
        );
    }
}
