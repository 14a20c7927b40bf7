//! The spool: every message bound for SMTP is written here (atomically)
//! before the first attempt, and removed only after the server accepted it.
//! Right after the acceptance, and before the removal, the Message-ID is
//! recorded as delivered (atomically too), so a daemon killed between the
//! two does not send it again when it restarts: exactly once, as far as
//! this side can tell (the only window left is between the server's 250 and
//! the write of that record).

use super::now_ms;
use crate::fsutil::write_atomic;
use crate::stable_hash::fnv;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A message waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub message_id: String,
    pub subject: String,
    /// The envelope.
    pub from: String,
    pub to: Vec<String>,
    pub created_ms: u64,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The whole message, as sent.
    pub eml: String,
}

/// How long to wait after the `attempts`-th failure: 1 s, doubling, at most 5 min.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 1u64
        .checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u64::MAX)
        .min(300);
    Duration::from_secs(secs)
}

pub struct Spool {
    dir: PathBuf,
    delivered: PathBuf,
}

/// How long a delivered record is kept: far longer than any restart takes.
const KEEP_DELIVERED: Duration = Duration::from_secs(14 * 86400);

impl Spool {
    pub fn new(state_dir: &Path) -> Spool {
        Spool {
            dir: state_dir.join("spool"),
            delivered: state_dir.join("delivered"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, message_id: &str) -> PathBuf {
        self.dir
            .join(format!("{}.json", fnv(message_id.as_bytes())))
    }

    fn delivered_path(&self, message_id: &str) -> PathBuf {
        self.delivered.join(fnv(message_id.as_bytes()))
    }

    pub fn is_delivered(&self, message_id: &str) -> bool {
        self.delivered_path(message_id).exists()
    }

    /// Adds a message, unless it was delivered already (the same message
    /// made again after a crash) or is spooled already.
    pub fn put(&self, e: &Entry) -> std::io::Result<bool> {
        if self.is_delivered(&e.message_id) || self.entry_path(&e.message_id).exists() {
            return Ok(false);
        }
        self.write(e)?;
        Ok(true)
    }

    pub fn write(&self, e: &Entry) -> std::io::Result<()> {
        write_atomic(
            &self.entry_path(&e.message_id),
            &serde_json::to_vec_pretty(e).map_err(std::io::Error::other)?,
        )
    }

    /// Every message waiting, oldest first. An unreadable file is moved
    /// aside (`.bad`) and reported, never silently dropped.
    pub fn list(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = json_files(&self.dir, "spool entry");
        out.sort_by(|a, b| (a.created_ms, &a.message_id).cmp(&(b.created_ms, &b.message_id)));
        out
    }

    /// Records the acceptance of a message, then takes it out of the spool.
    pub fn delivered(&self, e: &Entry, answer: &str) -> std::io::Result<()> {
        write_atomic(
            &self.delivered_path(&e.message_id),
            format!("{}\n{answer}\n", e.message_id).as_bytes(),
        )?;
        if std::env::var_os("DRIFTWALL_FAULT_ABORT_AFTER_ACCEPT").is_some() {
            // Fault injection for the tests: die where a kill -9 would hurt most.
            std::process::abort();
        }
        self.forget(e)
    }

    /// Takes a message out of the spool (delivered, now or before).
    pub fn forget(&self, e: &Entry) -> std::io::Result<()> {
        match std::fs::remove_file(self.entry_path(&e.message_id)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt and when to try again.
    pub fn failed(&self, e: &mut Entry, error: &str) -> std::io::Result<()> {
        e.attempts += 1;
        e.next_attempt_ms = now_ms()
            .saturating_add(u64::try_from(backoff(e.attempts).as_millis()).unwrap_or(u64::MAX));
        e.last_error = Some(error.to_string());
        self.write(e)
    }

    /// Drops delivered records older than two weeks.
    pub fn prune_delivered(&self) {
        for d in std::fs::read_dir(&self.delivered)
            .into_iter()
            .flatten()
            .flatten()
        {
            let old = d
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > KEEP_DELIVERED);
            if old {
                let _ = std::fs::remove_file(d.path());
            }
        }
    }
}

/// Every `.json` file of `dir` read as a `T`; one that cannot be read is
/// moved aside (`.bad`) and reported as an unreadable `what`, never
/// dropped in silence. The spools of email and of Alertmanager both keep
/// one file per item.
pub(crate) fn json_files<T: serde::de::DeserializeOwned>(dir: &Path, what: &str) -> Vec<T> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = d.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        match std::fs::read(&p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<T>(&b).map_err(|e| e.to_string()))
        {
            Ok(item) => out.push(item),
            Err(err) => {
                tracing::error!(file = %p.display(), error = %err, "unreadable {what} moved aside");
                let _ = std::fs::rename(&p, p.with_extension("bad"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let secs: Vec<u64> = [1, 2, 3, 4, 9, 10, 40]
            .iter()
            .map(|a| backoff(*a).as_secs())
            .collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 256, 300, 300]);
    }

    #[test]
    fn a_delivered_message_is_not_spooled_again() {
        let dir = std::env::temp_dir().join(format!("driftwall-spool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Spool::new(&dir);
        let e = Entry {
            message_id: "<1@x>".into(),
            subject: "s".into(),
            from: "a@b".into(),
            to: vec!["c@d".into()],
            created_ms: 1,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: None,
            eml: "x".into(),
        };
        assert!(s.put(&e).unwrap());
        assert!(!s.put(&e).unwrap(), "already spooled");
        assert_eq!(s.list(), vec![e.clone()]);
        s.delivered(&e, "250 ok").unwrap();
        assert!(s.list().is_empty());
        assert!(!s.put(&e).unwrap(), "delivered before: not again");
        std::fs::write(s.dir().join("junk.json"), b"{").unwrap();
        assert!(s.list().is_empty());
        assert!(s.dir().join("junk.bad").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
