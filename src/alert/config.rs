//! Where alert emails go and how they get there. The alert pipeline owns
//! these settings; the daemon's configuration reader builds them from its
//! `alerts.email` section.

use std::path::PathBuf;
use std::time::Duration;

/// Where alert emails go, and through which server.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    pub smtp: Smtp,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which the server must offer.
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
    /// No TLS at all: only to the local host, and only when configured so.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// A PEM file of CA certificates trusted besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Bounds every connection and every send: a server that accepts and
    /// never greets must not hold the delivery up.
    pub timeout: Duration,
}

/// A password: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where alerts are posted besides (or instead of) email: an Alertmanager,
/// through its API v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alertmanager {
    /// The URL as configured, for logs.
    pub url: String,
    pub host: String,
    pub port: u16,
    /// The path Alertmanager is served under (`--web.route-prefix`), without
    /// a trailing slash; the API is below it.
    pub prefix: String,
    /// How often the alerts that are on are posted again. Alertmanager
    /// resolves an alert whose `endsAt` passed, so each posting carries an
    /// `endsAt` a few of these ahead ([`Alertmanager::ends_after`]): alive,
    /// the daemon renews it in time; dead, its alerts expire on their own.
    pub resend_interval: Duration,
    /// Bounds each posting: connecting, sending, reading the answer.
    pub timeout: Duration,
}

impl Alertmanager {
    /// The `endsAt` of an alert that is on, from the moment it is posted:
    /// four resends ahead, as Prometheus does, so one or two lost postings
    /// do not resolve it.
    pub fn ends_after(&self) -> Duration {
        self.resend_interval.saturating_mul(4)
    }
}
