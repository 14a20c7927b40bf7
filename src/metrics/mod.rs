//! The daemon's metrics, for Prometheus: what it last found, as a
//! [`Snapshot`] the daemon publishes at the end of every turn, plus counters
//! that only grow (drift events, failed deliveries), encoded in the
//! Prometheus text format by [`registry`]; served on `/metrics` by
//! [`server`] (its own thread, so a scrape is answered while a check runs)
//! and written for node_exporter's textfile collector by [`textfile`].
//!
//! The metric names, labels and help texts are listed once, in
//! [`registry`]; docs/fleet.md is their reference.
//!
//! This module knows nothing of the daemon or of the alert pipeline: the
//! daemon fills the snapshot, and the delivery threads count their failures
//! in the [`Counters`] they are handed.

pub mod error;
pub mod registry;
pub mod server;
pub mod snapshot;
pub mod textfile;

pub use error::MetricsError;
pub use snapshot::{CHANNELS, Counters, LiveRow, RequirementRow, Snapshot, SourceRow, Spools};
use std::sync::{Arc, Mutex, PoisonError};

/// The metrics of one daemon: the latest snapshot and the counters, read
/// by the scrape thread while the main loop works.
#[derive(Debug, Default)]
pub struct Metrics {
    snapshot: Mutex<Snapshot>,
    pub counters: Arc<Counters>,
    spools: Mutex<Spools>,
}

impl Metrics {
    pub fn new(spools: Spools) -> Metrics {
        Metrics {
            spools: Mutex::new(spools),
            ..Metrics::default()
        }
    }

    /// Replaces the snapshot; a scrape sees the old one or the new one.
    pub fn publish(&self, s: Snapshot) {
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = s;
    }

    /// The metrics now, in the Prometheus text format. The snapshot is
    /// copied out first, so the lock is held for a copy, not for the encoding.
    pub fn render(&self) -> Result<String, MetricsError> {
        let snapshot = self
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let spools = self
            .spools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        registry::encode(&snapshot, &self.counters, &spools)
    }
}
