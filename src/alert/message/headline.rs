//! What happened to a requirement, in a sentence for its section and in a
//! few words for the subject: one table of moods, so the two never differ.

use super::mood::Mood;
use super::wording;
use crate::drift::event::Witnessed;

/// What happened to a requirement, in a sentence and for a subject.
pub(super) fn headline(what: &str, mood: Mood, witness: Option<&Witnessed>) -> (String, String) {
    let (long, short) = (wording::service(what), wording::service_short(what));
    let verdict = witness.map(|w| wording::participle(&w.after));
    let whom = witness
        .map(|w| wording::peers(&w.direction, w.peers.as_deref()))
        .unwrap_or_default();
    // A subject names the verdict in one word.
    let word = witness.map(|w| match w.after.as_str() {
        "indeterminate" => "undecided",
        other => wording::participle(other),
    });
    match (mood, verdict, word) {
        (Mood::Broke, Some(v), Some(w)) => (
            format!("{long} is now {v}{whom}"),
            format!("{short} now {w}"),
        ),
        (Mood::Broke, ..) => (format!("{long} now fails"), format!("{short} now failing")),
        (Mood::FailsAtStart, Some(v), Some(w)) => (
            format!("{long} is {v}{whom}, at the first reading"),
            format!("{short} {w}"),
        ),
        (Mood::FailsAtStart, ..) => (
            format!("{long} fails, at the first reading"),
            format!("{short} failing"),
        ),
        (Mood::Still, Some(v), Some(w)) => (
            format!("{long} is still {v}{whom}"),
            format!("{short} still {w}"),
        ),
        (Mood::Still, ..) => (
            format!("{long} still fails"),
            format!("{short} still failing"),
        ),
        (Mood::Live, Some(v), Some(w)) => (
            format!("{long} is {v}{whom} by the ruleset loaded in the kernel, not by its file"),
            format!("{short} {w} in the kernel only"),
        ),
        (Mood::Live, ..) => (
            format!(
                "{long} is judged otherwise by the ruleset loaded in the kernel than by its file"
            ),
            format!("{short} differs in the kernel"),
        ),
        (Mood::Changed, Some(v), _) => (
            format!("{long}: some connections are now {v}{whom}, its result stays"),
            format!("{short} changed"),
        ),
        (Mood::Changed, ..) => (
            format!("{long}: some connections changed verdict, its result stays"),
            format!("{short} changed"),
        ),
        (Mood::Recovered, Some(v), Some(w)) => (
            format!("{long} is {v} again{whom}"),
            format!("{short} {w} again"),
        ),
        (Mood::Recovered, ..) => (
            format!("{long} passes again"),
            format!("{short} passes again"),
        ),
        (Mood::Accepted, ..) => (
            format!("{long} still fails, accepted as the baseline"),
            format!("{short} accepted as it is"),
        ),
        (Mood::HeldBack, ..) => (
            format!("{long}: held back while its file does not parse"),
            format!("{short} held back"),
        ),
    }
}
