//! The subject: the host and the worst change, readable in a list of
//! messages without opening one.

use super::story::{self, Story};
use super::wording::plural;
use crate::alert::lifecycle::Mail;

/// `[driftwall] fw1: HTTPS (tcp 443 in) now rejected – 1 requirement broken`
pub fn subject(mail: &Mail, host: &str) -> String {
    of_story(mail, &story::tell(mail), host)
}

pub(super) fn of_story(mail: &Mail, story: &Story, host: &str) -> String {
    let summary = story::summary(story);
    if mail.digest {
        format!(
            "[driftwall] {host}: digest of {} held back by max_per_hour: {summary}",
            plural(mail.notices.len(), "alert", "alerts")
        )
    } else {
        format!("[driftwall] {host}: {summary}")
    }
}
