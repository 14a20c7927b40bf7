//! Alerts: the daemon's drift events become messages through a lifecycle
//! ([`lifecycle`]: grouping, repeats, resolved notices, a rate cap), are
//! rendered as email ([`message`]), and either land in the outbox as .eml
//! files or go through the spool ([`spool`]) to an SMTP server ([`smtp`]),
//! so that an outage or a restart loses nothing and sends nothing twice.
//! The same problems can also be posted to Alertmanager
//! ([`alertmanager`]: labels and annotations; [`postings`]: their spool and
//! resends; [`http`]: the POST).

pub mod alertmanager;
pub mod config;
pub mod delivery;
pub mod example;
pub mod http;
pub mod lifecycle;
pub mod message;
pub mod outbox;
pub mod postings;
pub mod smtp;
pub mod spool;

use crate::drift::sources::{ResultState, Sources};
use crate::policy::check::Status;
use crate::stable_hash::fnv;
use config::Email;
use lifecycle::{Alert, AlertKind, FILES_GROUP};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch: the lifecycle's clock (wall time, so it
/// survives restarts).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The window `max_per_hour` counts in. An hour; the tests shorten it
/// through `DRIFTWALL_RATE_WINDOW` (e.g. `3s`) to see a digest in seconds.
pub fn rate_window() -> Duration {
    std::env::var("DRIFTWALL_RATE_WINDOW")
        .ok()
        .and_then(|v| crate::duration::parse_duration(&v).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(3600))
}

/// The problems on now, from the state: every requirement that does not
/// pass, every file that does not parse (which holds back the requirement
/// alerts of that file), every live ruleset that differs from its file.
pub fn firing(state: &Sources) -> Vec<Alert> {
    let mut out = Vec::new();
    for (source, cur) in &state.current {
        if let Some(err) = &cur.error {
            let first = err.lines().next().unwrap_or_default();
            out.push(Alert {
                key: fnv(format!("parse\0{source}").as_bytes()),
                kind: AlertKind::ParseError,
                group: FILES_GROUP.into(),
                source: source.clone(),
                summary: format!("{source} does not parse: {first}"),
                what: String::new(),
                inhibited: false,
            });
        }
        // What a person accepted as it is stays quiet while it stays so.
        let accepted = state.baseline.get(source).filter(|b| b.accepted);
        let wanted = |r: &&ResultState| {
            accepted.is_some_and(|b| {
                b.results.iter().any(|x| {
                    x.policy == r.policy && x.requirement == r.requirement && x.status == r.status
                })
            })
        };
        for r in cur
            .results
            .iter()
            .filter(|r| r.status != Status::Pass)
            .filter(|r| !wanted(r))
        {
            out.push(Alert {
                key: fnv(format!("req\0{source}\0{}/{}", r.policy, r.requirement).as_bytes()),
                kind: AlertKind::Requirement,
                group: r.policy.clone(),
                source: source.clone(),
                summary: format!("{}/{} is {} in {source}", r.policy, r.requirement, r.status),
                what: r.what.clone(),
                inhibited: cur.error.is_some(),
            });
        }
    }
    for (name, what) in &state.live_differs {
        out.push(Alert {
            key: fnv(format!("live\0{name}").as_bytes()),
            kind: AlertKind::LiveDiffers,
            group: FILES_GROUP.into(),
            source: name.clone(),
            summary: what.clone(),
            what: String::new(),
            inhibited: false,
        });
    }
    out
}

/// `driftwall test-email`: a test message through `email`'s server.
/// Whether it was accepted, and what to print: the server's answer, or the
/// step that failed and why.
pub fn test_email(email: &Email) -> anyhow::Result<(bool, String)> {
    let host = outbox::hostname();
    let eml = message::test_message(&host, &email.from, &email.to, SystemTime::now())?;
    let rt = smtp::runtime()?;
    let server = format!("{}:{}", email.smtp.host, email.smtp.port);
    Ok(
        match rt.block_on(smtp::test(&email.smtp, &host, &email.from, &email.to, &eml)) {
            Ok((addr, answer)) => (
                true,
                format!(
                    "test message from {} to {} accepted by {server} ({addr}, {:?}): {answer}\n",
                    email.from,
                    email.to.join(", "),
                    email.smtp.tls
                ),
            ),
            Err(e) => (
                false,
                format!(
                    "error: test message to {server} failed at {}: {}\n",
                    e.stage.name(),
                    e.message
                ),
            ),
        },
    )
}
