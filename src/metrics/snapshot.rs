//! What the metrics show: the daemon's findings as one value, published
//! at the end of every turn, and the counters that only grow.

use crate::policy::check::Status;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// One requirement's result on one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementRow {
    pub policy: String,
    pub requirement: String,
    pub source: String,
    pub status: Status,
    /// A person accepted this result as it is (`driftwall baseline accept`),
    /// so the daemon does not alert on it.
    pub accepted: bool,
}

/// One watched source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub source: String,
    /// Its latest text parses (if not, the last good one stays in force).
    pub parses: bool,
    /// Rules in the text in force; unknown for a state written before the
    /// count was kept, until the text changes.
    pub rules: Option<u64>,
    /// The text differs from the accepted baseline.
    pub differs_from_baseline: bool,
}

/// A live ruleset compared with its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRow {
    pub source: String,
    pub compared_with: String,
    pub differs: bool,
}

/// What the daemon found at the end of its latest turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub requirements: Vec<RequirementRow>,
    pub sources: Vec<SourceRow>,
    pub live: Vec<LiveRow>,
    /// When a source was last assessed, in seconds since the epoch.
    pub last_assessment: Option<f64>,
    /// The configured rescan interval: every source is assessed at least
    /// this often, which is what a staleness rule compares with.
    pub rescan_interval_seconds: f64,
}

/// Delivery channels the counters and spool depth are kept for.
pub const CHANNELS: &[&str] = &["email", "alertmanager"];

/// Counters that only grow while the process lives (Prometheus handles
/// the reset at a restart). Shared with the delivery threads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Drift events handed to the alert pipeline, by kind.
    events: Mutex<BTreeMap<String, u64>>,
    /// Failed delivery attempts, email.
    pub email_failures: Arc<AtomicU64>,
    /// Failed delivery attempts, Alertmanager.
    pub alertmanager_failures: Arc<AtomicU64>,
    /// Alertmanager postings not taken yet (its posting thread knows: a
    /// posting stays in its spool, taken, while the problem is on).
    pub alertmanager_pending: Arc<AtomicU64>,
}

impl Counters {
    pub fn event(&self, kind: &str) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        *events.entry(kind.to_string()).or_default() += 1;
    }

    pub fn events(&self) -> BTreeMap<String, u64> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn failures(&self, channel: &str) -> u64 {
        match channel {
            "email" => self.email_failures.load(Ordering::Relaxed),
            "alertmanager" => self.alertmanager_failures.load(Ordering::Relaxed),
            _ => 0,
        }
    }
}

/// Where the email spool is: its depth is counted at each scrape.
#[derive(Debug, Clone, Default)]
pub struct Spools {
    pub email: Option<PathBuf>,
}

impl Spools {
    /// Alerts waiting in a channel's spool: for email its `.json` files
    /// (messages), for Alertmanager the postings not taken yet.
    pub fn depth(&self, channel: &str, counters: &Counters) -> u64 {
        match channel {
            "email" => self
                .email
                .as_ref()
                .and_then(|d| std::fs::read_dir(d).ok())
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count() as u64,
            "alertmanager" => counters.alertmanager_pending.load(Ordering::Relaxed),
            _ => 0,
        }
    }
}
