//! The HTML part: the same story as the text, laid out for a mail client.
//! Inline styles only (mail clients drop style sheets), and every piece of
//! text goes through [`esc`].

use super::mood::Mood;
use super::story::{FilePart, Story};
use super::wording;
use crate::alert::lifecycle::Mail;
use std::fmt::Write as _;

const TH: &str = "style=\"text-align:left; border-bottom:1px solid #d1d9e0; padding:.2em .6em\"";
const TD: &str = "style=\"vertical-align:top; border-bottom:1px solid #eef1f4; padding:.2em .6em\"";
const H3: &str = "style=\"font-size:1.05em; border-top:1px solid #d1d9e0; padding-top:.6em\"";
const PRE: &str = "style=\"background:#f6f8fa; padding:.6em; white-space:pre-wrap\"";
const RED: &str = "#cf222e";
const GREEN: &str = "#1a7f37";
const AMBER: &str = "#9a6700";

/// Escapes text for HTML, element content and attribute values alike (the
/// same five characters as XML, so the reports' escaper serves).
pub fn esc(s: &str) -> String {
    crate::report::junit::escape(s)
}

fn colour(mood: Mood) -> &'static str {
    match mood {
        Mood::Broke | Mood::FailsAtStart => RED,
        Mood::Recovered | Mood::Accepted => GREEN,
        Mood::Still | Mood::Live | Mood::Changed | Mood::HeldBack => AMBER,
    }
}

/// Lays the story out as an HTML document titled `subject`.
pub(super) fn render(
    mail: &Mail,
    story: &Story,
    subject: &str,
    header: &str,
    accept_hint: &str,
) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(subject));
    h.push_str("</title></head>\n<body style=\"font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2328; max-width: 60em; margin: 1em auto; padding: 0 1em\">\n");
    // The header takes the colour of the worst news: a section's, else a
    // file problem's, else the good news of a note.
    let top = match (story.sections.first(), story.notes.iter().all(|n| n.good)) {
        (Some(s), _) => colour(s.mood),
        (None, false) => RED,
        (None, true) if !story.notes.is_empty() => GREEN,
        (None, true) => AMBER,
    };
    let _ = writeln!(
        h,
        "<h2 style=\"color:{top}; font-size:1.2em\">{}</h2>",
        esc(header)
    );
    if mail.digest {
        let _ = writeln!(h, "<p>{}</p>", esc(&wording::digest_line(mail)));
    }
    for s in &story.sections {
        let _ = writeln!(
            h,
            "<h3 {H3}><span style=\"color:{}\">{}</span><br><span style=\"color:#59636e; font-weight:normal; font-size:small\">requirement {}</span></h3>",
            colour(s.mood),
            esc(&s.headline),
            esc(&s.id)
        );
        for f in &s.files {
            file_part(&mut h, f);
        }
    }
    for d in &story.diffs {
        let _ = writeln!(h, "<h3 {H3}>{}</h3>", esc(&d.title));
        h.push_str(
            "<table style=\"border-collapse:collapse; font-size:small; font-family:monospace\">\n",
        );
        for l in &d.lines {
            let bg = if l.mark == '+' { "#dafbe1" } else { "#ffebe9" };
            let _ = writeln!(
                h,
                "<tr style=\"background:{bg}\"><td {TD}><b>{}</b></td><td {TD}>{}</td><td {TD}>{}</td><td {TD}>{}</td></tr>",
                l.mark,
                esc(&l.at),
                esc(&l.text),
                esc(&l.chain)
            );
        }
        h.push_str("</table>\n");
    }
    for n in &story.notes {
        let c = if n.good { GREEN } else { RED };
        let _ = writeln!(
            h,
            "<h3 {H3}><span style=\"color:{c}\">{}</span></h3>",
            esc(&n.title)
        );
        if !n.details.is_empty() {
            let _ = writeln!(h, "<pre {PRE}>{}</pre>", esc(n.details.trim_end()));
        }
    }
    if story.offer_accept {
        let _ = writeln!(
            h,
            "<h3 {H3}>What to do</h3>\n<p>If the change is intended, accept the current state as the new baseline:</p>\n<pre {PRE}>{}</pre>",
            esc(accept_hint)
        );
        for d in story.diffs.iter().filter(|d| !d.revert.is_empty()) {
            let _ = writeln!(
                h,
                "<p>If it is not, undo it in <code>{}</code>:</p>\n<ul>",
                esc(&d.source)
            );
            for step in &d.revert {
                let _ = writeln!(h, "<li>{}</li>", esc(step));
            }
            h.push_str("</ul>\n");
        }
    }
    if !story.event_ids.is_empty() {
        let _ = writeln!(
            h,
            "<p style=\"color:#59636e; font-size:small\">Events: {}</p>",
            esc(&story.event_ids.join(" "))
        );
    }
    h.push_str("</body></html>\n");
    h
}

fn file_part(h: &mut String, f: &FilePart) {
    let _ = writeln!(
        h,
        "<p>in <code>{}</code>: <b>{}</b></p>",
        esc(&f.source),
        esc(&f.result)
    );
    if f.witnesses.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<table style=\"border-collapse:collapse; font-size:small\">\n<tr><th {TH}>witness packet</th><th {TH}>verdict</th><th {TH}>decided now by</th><th {TH}>decided {} by</th></tr>",
        f.before
    );
    for w in &f.witnesses {
        let by = |p: &Option<crate::drift::event::Place>| {
            p.as_ref().map_or(String::new(), |p| {
                format!(
                    "<code>{}</code><br><code>{}</code><br><span style=\"color:#59636e\">{}</span>",
                    esc(&p.at()),
                    esc(&p.text),
                    esc(&wording::chain_of(p))
                )
            })
        };
        let _ = writeln!(
            h,
            "<tr><td {TD}><code>{}</code><br><span style=\"color:#59636e\">{}</span></td><td {TD}><b>{}</b></td><td {TD}>{}</td><td {TD}>{}</td></tr>",
            esc(&w.witness),
            esc(&w.direction),
            esc(&wording::verdicts(w)),
            by(&w.rule_after),
            by(&w.rule_before)
        );
    }
    h.push_str("</table>\n");
}
