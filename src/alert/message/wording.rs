//! The words a person would use: a service's name instead of a port, a
//! verdict as a participle ("rejected"), whom it concerns, and how a
//! requirement's result moved. Both parts of a message take their
//! sentences from here, so the text and the HTML never say it differently.

use crate::alert::lifecycle::Mail;
use crate::drift::event::{Place, Witnessed};
use std::time::SystemTime;

/// Well-known services by protocol and port: the names people say. Only
/// ports whose name nobody would dispute; any other port keeps its number.
const SERVICES: &[(&str, u16, &str)] = &[
    ("tcp", 20, "FTP data"),
    ("tcp", 21, "FTP"),
    ("tcp", 22, "SSH"),
    ("tcp", 23, "Telnet"),
    ("udp", 23, "Telnet"),
    ("tcp", 25, "SMTP"),
    ("tcp", 53, "DNS"),
    ("udp", 53, "DNS"),
    ("udp", 67, "DHCP"),
    ("udp", 69, "TFTP"),
    ("tcp", 80, "HTTP"),
    ("tcp", 110, "POP3"),
    ("udp", 123, "NTP"),
    ("tcp", 143, "IMAP"),
    ("udp", 161, "SNMP"),
    ("tcp", 179, "BGP"),
    ("tcp", 389, "LDAP"),
    ("tcp", 443, "HTTPS"),
    ("udp", 443, "HTTP/3"),
    ("tcp", 445, "SMB"),
    ("udp", 500, "IKE"),
    ("udp", 514, "syslog"),
    ("tcp", 587, "mail submission"),
    ("tcp", 636, "LDAPS"),
    ("tcp", 993, "IMAPS"),
    ("tcp", 995, "POP3S"),
    ("tcp", 3306, "MySQL"),
    ("tcp", 3389, "RDP"),
    ("tcp", 5432, "PostgreSQL"),
];

/// A requirement's connections as people name them: `HTTPS (tcp 443
/// inbound)`, or `tcp 8443 inbound` for a port without a well-known name.
/// `what` is the event's `protocols ports directions`.
pub(super) fn service(what: &str) -> String {
    match name_of(what) {
        Some(name) => format!("{name} ({what})"),
        None => what.to_string(),
    }
}

/// The same, short enough for a subject: `HTTPS (tcp 443 in)`.
pub(super) fn service_short(what: &str) -> String {
    let short = what
        .replace("inbound", "in")
        .replace("outbound", "out")
        .replace("forward", "fwd");
    match name_of(what) {
        Some(name) => format!("{name} ({short})"),
        None => short,
    }
}

/// The name of the one service `what` covers, if all its protocols and its
/// single port agree on one.
fn name_of(what: &str) -> Option<&'static str> {
    let mut words = what.split_whitespace();
    let protocols = words.next()?;
    let port: u16 = words.next()?.parse().ok()?;
    let mut names = protocols.split('+').map(|p| {
        SERVICES
            .iter()
            .find(|(proto, n, _)| *proto == p && *n == port)
            .map(|(_, _, name)| *name)
    });
    let first = names.next()??;
    names.all(|n| n == Some(first)).then_some(first)
}

/// A verdict (`allow`, `reject`, `drop`, `indeterminate`) as what happens
/// to the connections.
pub(super) fn participle(verdict: &str) -> &str {
    match verdict {
        "allow" => "allowed",
        "reject" => "rejected",
        "drop" => "dropped",
        "indeterminate" => "undecided (rules driftwall cannot model decide)",
        other => other,
    }
}

/// Whom a change concerns: ` for 192.0.2.0/24`, or nothing for everyone.
pub(super) fn peers(direction: &str, peers: Option<&str>) -> String {
    match (direction, peers) {
        (_, None) => String::new(),
        ("outbound", Some(p)) => format!(" to {p}"),
        (_, Some(p)) => format!(" for {p}"),
    }
}

/// Results in order, as one chain: `pass -> fail -> pass`.
pub(super) fn chain(steps: &[String]) -> String {
    steps.join(" -> ")
}

/// A witness's verdicts: `allow -> reject`, or the one verdict known.
pub(super) fn verdicts(w: &Witnessed) -> String {
    match &w.before {
        Some(b) => format!("{b} -> {}", w.after),
        None => w.after.clone(),
    }
}

/// Where a rule sits and which packet it decided: `filter INPUT, the first
/// packet (SYN)`.
pub(super) fn chain_of(p: &Place) -> String {
    if p.phase.is_empty() {
        format!("{} {}", p.table, p.chain)
    } else {
        format!("{} {}, {}", p.table, p.chain, p.phase)
    }
}

/// What a digest says first: why it comes, and over which span.
pub(super) fn digest_line(mail: &Mail) -> String {
    let when = |ms: u64| {
        crate::alert::outbox::rfc2822(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms))
    };
    let first = mail.notices.first().map(|n| n.at).unwrap_or_default();
    let last = mail.notices.last().map(|n| n.at).unwrap_or_default();
    format!(
        "{} held back because max_per_hour was reached, none dropped; together here, from {} to {}.",
        plural(mail.notices.len(), "alert was", "alerts were"),
        when(first),
        when(last)
    )
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_named_only_when_every_protocol_agrees() {
        assert_eq!(service("tcp 443 inbound"), "HTTPS (tcp 443 inbound)");
        assert_eq!(service_short("tcp 443 inbound"), "HTTPS (tcp 443 in)");
        assert_eq!(service("udp+tcp 53 outbound"), "DNS (udp+tcp 53 outbound)");
        assert_eq!(service("tcp+udp 443 inbound"), "tcp+udp 443 inbound");
        assert_eq!(service("tcp 8443 inbound"), "tcp 8443 inbound");
        assert_eq!(service("tcp 80-90 inbound"), "tcp 80-90 inbound");
        assert_eq!(service(""), "");
    }

    #[test]
    fn whom_a_change_concerns_depends_on_the_direction() {
        assert_eq!(peers("inbound", Some("192.0.2.0/24")), " for 192.0.2.0/24");
        assert_eq!(peers("outbound", Some("10.0.0.0/8")), " to 10.0.0.0/8");
        assert_eq!(peers("inbound", None), "");
    }
}
