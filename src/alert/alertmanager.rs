//! What the daemon posts to Alertmanager (API v2, `POST /api/v2/alerts`):
//! one alert per problem that is on, made from the same list the email
//! lifecycle works from ([`super::firing`]), with the labels a fleet routes
//! and groups on and the annotations a person acts on.
//!
//! Labels: `alertname` (by kind, below), `host`, `policy`, `requirement`,
//! `source`, `severity` (`critical` for a failing requirement, `warning`
//! otherwise). Annotations: `summary`, `culprit` (the deciding rule,
//! `file:line: text`), `witness` (a connection that shows it), `accept`
//! (the command that accepts the current state as the baseline).
//!
//! The postings themselves, their spool and their resending are in
//! [`super::postings`].

use super::lifecycle::{Alert, AlertKind};
use crate::drift::sources::Sources;
use crate::policy::check::Status;
use crate::stable_hash::fnv;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The alertnames of the daemon's own alerts. The rules shipped in
/// examples/prometheus/ use other names (`DriftwallRequirementFailing`,
/// ...), so a fleet that uses both can tell them apart and route or
/// inhibit one by the other.
pub const REQUIREMENT: &str = "DriftwallRequirement";
pub const PARSE_ERROR: &str = "DriftwallParseError";
pub const LIVE_DIFFERS: &str = "DriftwallLiveDiffers";

/// An alert that is on, as Alertmanager will see it (without its times,
/// which the postings keep).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    /// The lifecycle's key of the problem: stable over restarts.
    pub key: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// The alerts for Alertmanager among the problems that are on. Inhibited
/// problems (a requirement of a file that does not parse) stay on here:
/// the requirement still fails in the last good text, which is in force,
/// and Alertmanager's own inhibition rules can hold them back.
pub fn wanted(firing: &[Alert], state: &Sources, host: &str, accept: &str) -> Vec<Wanted> {
    firing
        .iter()
        .map(|a| {
            let mut labels = BTreeMap::new();
            let mut annotations = BTreeMap::new();
            labels.insert("host".to_string(), host.to_string());
            labels.insert("source".to_string(), a.source.clone());
            annotations.insert("summary".to_string(), a.summary.clone());
            annotations.insert("accept".to_string(), accept.to_string());
            let (name, severity) = match a.kind {
                AlertKind::Requirement => {
                    // The result behind the alert: its key is made from these.
                    let result = state.current.get(&a.source).and_then(|cur| {
                        cur.results.iter().find(|r| {
                            fnv(format!("req\0{}\0{}/{}", a.source, r.policy, r.requirement)
                                .as_bytes())
                                == a.key
                        })
                    });
                    if let Some(r) = result {
                        labels.insert("policy".to_string(), r.policy.clone());
                        labels.insert("requirement".to_string(), r.requirement.clone());
                        if let Some(c) = &r.culprit {
                            annotations.insert("culprit".to_string(), c.clone());
                        }
                        if let Some(w) = &r.witness {
                            annotations.insert("witness".to_string(), w.clone());
                        }
                    } else {
                        labels.insert("policy".to_string(), a.group.clone());
                    }
                    let critical = result.is_none_or(|r| r.status == Status::Fail);
                    (REQUIREMENT, if critical { "critical" } else { "warning" })
                }
                AlertKind::ParseError => (PARSE_ERROR, "warning"),
                AlertKind::LiveDiffers => (LIVE_DIFFERS, "warning"),
            };
            labels.insert("alertname".to_string(), name.to_string());
            labels.insert("severity".to_string(), severity.to_string());
            Wanted {
                key: a.key.clone(),
                labels,
                annotations,
            }
        })
        .collect()
}

/// RFC 3339 time of milliseconds since the epoch, in UTC, as Alertmanager
/// reads `startsAt` and `endsAt`.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One alert of a posting's body.
pub fn body_item(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    starts_at_ms: u64,
    ends_at_ms: u64,
) -> serde_json::Value {
    serde_json::json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(starts_at_ms),
        "endsAt": rfc3339(ends_at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::sources::{ResultState, SourceState};

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_651_200_123), "2026-11-26T00:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_failing_requirement_has_the_labels_and_annotations_of_the_issue() {
        let mut state = Sources::default();
        state.current.insert(
            "/etc/rules".into(),
            SourceState {
                hash: "h".into(),
                text: Default::default(),
                text_file: None,
                results: vec![ResultState {
                    policy: "web".into(),
                    requirement: "https-open".into(),
                    status: Status::Fail,
                    what: "tcp 443 inbound".into(),
                    culprit: Some("/etc/rules:12: -A INPUT -j REJECT".into()),
                    witness: Some("tcp 192.0.2.1:49152 -> 198.51.100.20:443".into()),
                }],
                error: None,
                accepted: false,
                rules: Some(3),
            },
        );
        let firing = super::super::firing(&state);
        let w = wanted(
            &firing,
            &state,
            "fw1",
            "driftwall baseline accept --config /c",
        );
        assert_eq!(w.len(), 1);
        let labels: Vec<(&str, &str)> = w[0]
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("alertname", "DriftwallRequirement"),
                ("host", "fw1"),
                ("policy", "web"),
                ("requirement", "https-open"),
                ("severity", "critical"),
                ("source", "/etc/rules"),
            ]
        );
        assert_eq!(
            w[0].annotations["culprit"],
            "/etc/rules:12: -A INPUT -j REJECT"
        );
        assert!(w[0].annotations["witness"].contains(":443"));
        assert_eq!(
            w[0].annotations["accept"],
            "driftwall baseline accept --config /c"
        );
        assert!(w[0].annotations["summary"].contains("web/https-open"));
    }
}
