//! The subject: the host and the worst change, readable in a list of
//! messages without opening one.

use super::mood::Mood;
use super::story::{self, Story};
use super::wording::plural;
use crate::alert::lifecycle::Mail;

/// `[driftwall] fw1: HTTPS (tcp 443 in) now rejected – 1 requirement broken`
pub fn subject(mail: &Mail, host: &str) -> String {
    of_story(mail, &story::tell(mail), host)
}

pub(super) fn of_story(mail: &Mail, story: &Story, host: &str) -> String {
    let summary = summary(story);
    if mail.digest {
        format!(
            "[driftwall] {host}: digest of {} held back by max_per_hour: {summary}",
            plural(mail.notices.len(), "alert", "alerts")
        )
    } else {
        format!("[driftwall] {host}: {summary}")
    }
}

/// The words of a subject after the host: the worst change first, then the
/// counts, then what happened to the files.
pub(super) fn summary(story: &Story) -> String {
    let mut parts = Vec::new();
    let files = |mood: Mood| -> usize {
        let mut all: Vec<&str> = story
            .sections
            .iter()
            .filter(|s| s.mood == mood)
            .flat_map(|s| s.files.iter().map(|f| f.source.as_str()))
            .collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    };
    let count = |mood: Mood, one: &str, many: &str| -> Option<String> {
        let n = story.sections.iter().filter(|s| s.mood == mood).count();
        (n > 0).then(|| {
            let in_files = match files(mood) {
                k if k > 1 => format!(" in {k} files"),
                _ => String::new(),
            };
            format!("{}{in_files}", plural(n, one, many))
        })
    };
    let counts: Vec<String> = [
        count(Mood::Broke, "requirement broken", "requirements broken"),
        count(
            Mood::FailsAtStart,
            "requirement failing at the first reading",
            "requirements failing at the first reading",
        ),
        count(
            Mood::Live,
            "requirement judged otherwise in the kernel",
            "requirements judged otherwise in the kernel",
        ),
        count(
            Mood::Changed,
            "requirement with connections changed",
            "requirements with connections changed",
        ),
        count(
            Mood::Recovered,
            "requirement recovered",
            "requirements recovered",
        ),
        count(
            Mood::Accepted,
            "failing requirement accepted as the baseline",
            "failing requirements accepted as the baseline",
        ),
        count(Mood::Still, "still failing", "still failing"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let still = story
        .sections
        .iter()
        .filter(|s| s.mood == Mood::Still)
        .count();
    // A reminder is only a reminder when nothing else happened.
    let news = story
        .sections
        .iter()
        .find(|s| !matches!(s.mood, Mood::Still | Mood::HeldBack));
    match news {
        Some(worst) => {
            parts.push(format!("{} – {}", worst.short, counts.join(", ")));
        }
        _ if still > 0 => parts.push(format!(
            "reminder: {} still failing",
            plural(still, "requirement", "requirements")
        )),
        _ => {}
    }
    for d in story.notes.iter().filter(|d| !d.short.is_empty()) {
        parts.push(d.short.clone());
    }
    if story.sections.is_empty() && story.diffs.iter().any(|d| !d.revert.is_empty()) {
        parts.push("rules changed, no requirement affected".into());
    }
    parts.dedup();
    if parts.is_empty() {
        parts.push("no change".into());
    }
    parts.join("; ")
}
