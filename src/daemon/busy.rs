//! What the main loop is busy with, for the threads that must act while it
//! cannot: a huge or hostile watched file can take a minute to assess, and
//! in that time SIGTERM must still stop the daemon within seconds, and the
//! service manager's watchdog must still hear that the daemon lives
//! (issue 18). Outside an assessment the main loop does both itself.
//!
//! An assessment only reads files and changes the state in memory; the
//! writes (state, spool, outbox) come after it, in `flush`. So a stop in
//! the middle of one loses nothing: the state on disk is the one before
//! it, and the next start assesses the file again. The lock makes sure the
//! stop happens inside the assessment, never after the main loop has gone
//! on to write.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Past this, an assessment is taken for a hang: the watchdog is no longer
/// fed for it, and the service manager restarts the daemon.
pub const MAX_ASSESSMENT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
struct Inner {
    /// What is being assessed, and since when.
    doing: Option<(String, Instant)>,
}

/// Shared between the main loop and the signal and watchdog threads.
#[derive(Debug, Clone, Default)]
pub struct Busy(Arc<Mutex<Inner>>);

/// Marks an assessment until dropped.
pub struct Assessing<'a>(&'a Busy);

impl Busy {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding it leaves nothing half-done here.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The main loop starts assessing `what`.
    pub fn assessing(&self, what: &str) -> Assessing<'_> {
        self.lock().doing = Some((what.to_string(), Instant::now()));
        Assessing(self)
    }

    /// What is being assessed, and for how long, if anything is.
    pub fn doing(&self) -> Option<(String, Duration)> {
        self.lock()
            .doing
            .as_ref()
            .map(|(what, since)| (what.clone(), since.elapsed()))
    }

    /// Runs `stop` if the main loop is in an assessment, holding the lock
    /// so that it cannot leave it (and go on to write) meanwhile. `stop`
    /// is expected not to return (it exits the process).
    pub fn stop_if_assessing(&self, stop: impl FnOnce(&str, Duration)) -> bool {
        let inner = self.lock();
        match &inner.doing {
            Some((what, since)) => {
                stop(what, since.elapsed());
                true
            }
            None => false,
        }
    }
}

impl Drop for Assessing<'_> {
    fn drop(&mut self) {
        self.0.lock().doing = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assessment_is_seen_until_it_ends() {
        let b = Busy::default();
        assert!(b.doing().is_none());
        {
            let _a = b.assessing("/etc/nftables.conf");
            let (what, _) = b.doing().expect("busy");
            assert_eq!(what, "/etc/nftables.conf");
            let mut seen = String::new();
            assert!(b.stop_if_assessing(|w, _| seen = w.to_string()));
            assert_eq!(seen, "/etc/nftables.conf");
        }
        assert!(b.doing().is_none());
        assert!(!b.stop_if_assessing(|_, _| panic!("not assessing")));
    }
}
