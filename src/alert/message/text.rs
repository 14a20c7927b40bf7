//! The plain-text part: complete on its own, readable in any mail client
//! and in a terminal.

use super::story::{FilePart, Story};
use super::wording;
use crate::alert::lifecycle::Mail;
use std::fmt::Write as _;

/// Lays the story out as text. `header` is the first line.
pub(super) fn render(mail: &Mail, story: &Story, header: &str, accept_hint: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{header}\n");
    if mail.digest {
        let _ = writeln!(t, "{}\n", wording::digest_line(mail));
    }
    for s in &story.sections {
        let _ = writeln!(t, "== {}\n   requirement {}", s.headline, s.id);
        for f in &s.files {
            file_part(&mut t, f);
        }
        t.push('\n');
    }
    for d in &story.diffs {
        let _ = writeln!(t, "== {}", d.title);
        for l in &d.lines {
            let _ = writeln!(t, "  {} {}  {}   ({})", l.mark, l.at, l.text, l.chain);
        }
        t.push('\n');
    }
    for n in &story.notes {
        let _ = writeln!(t, "== {}", n.title);
        for l in n.details.lines() {
            let _ = writeln!(t, "  {l}");
        }
        t.push('\n');
    }
    if story.offer_accept {
        let _ = writeln!(
            t,
            "== What to do\nIf the change is intended, accept the current state as the new baseline:\n    {accept_hint}"
        );
        for d in story.diffs.iter().filter(|d| !d.revert.is_empty()) {
            let _ = writeln!(t, "If it is not, undo it in {}:", d.source);
            for step in &d.revert {
                let _ = writeln!(t, "    {step}");
            }
        }
        t.push('\n');
    }
    if !story.event_ids.is_empty() {
        let _ = writeln!(t, "Events: {}", story.event_ids.join(" "));
    }
    t
}

fn file_part(t: &mut String, f: &FilePart) {
    let _ = writeln!(t, "   in {}: {}", f.source, f.result);
    for w in &f.witnesses {
        let _ = writeln!(
            t,
            "     witness: {} ({}): {}",
            w.witness,
            w.direction,
            wording::verdicts(w)
        );
        for (label, place) in [
            ("decided now by", &w.rule_after),
            (f.before, &w.rule_before),
        ] {
            if let Some(p) = place {
                let _ = writeln!(
                    t,
                    "       {label}: {}  {}  ({})",
                    p.at(),
                    p.text,
                    wording::chain_of(p)
                );
            }
        }
    }
}
