//! Alertmanager's postings: the spool, the resends and the thread that
//! posts them.
//!
//! Alertmanager keeps no memory of a sender: it holds an alert until its
//! `endsAt` passes, so a sender re-posts what is on (here every
//! `resend_interval`, each posting pushing `endsAt` four resends ahead),
//! and posts a problem that cleared once more with `endsAt` at the moment
//! it cleared. Posting the same alert again is an update, never a second
//! alert: Alertmanager tells alerts apart by their labels.
//!
//! The spool (`STATE_DIR/alertmanager/`) holds one file per problem, named
//! after its stable key, written atomically: when it started, whether and
//! when it resolved, and whether Alertmanager has taken its latest
//! version. Each turn the daemon hands the problems that are on to the
//! thread, which reconciles the spool with them: new ones are added, gone
//! ones marked resolved. A resolved problem's file is removed only after
//! Alertmanager took the resolved posting. So an outage keeps everything
//! (the spool is retried with the email spool's backoff), a restart resumes
//! from the files (the same `startsAt`, so the same alert), and a resolution
//! is never lost: a problem that cleared while the daemon was down is
//! marked resolved at its first turn after the start.

use super::alertmanager::{Wanted, body_item};
use super::config::Alertmanager;
use super::http;
use super::now_ms;
use super::spool::backoff;
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One problem as Alertmanager is told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub key: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at_ms: u64,
    /// When the problem cleared; its last posting says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at_ms: Option<u64>,
    /// When Alertmanager took this version; `None` while the version is
    /// new to it (the problem is new, changed or resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at_ms: Option<u64>,
}

impl Posting {
    /// Whether it must be posted at `now`.
    fn due(&self, now: u64, resend: Duration) -> bool {
        match self.posted_at_ms {
            None => true,
            Some(t) => {
                self.resolved_at_ms.is_none()
                    && t.saturating_add(u64::try_from(resend.as_millis()).unwrap_or(u64::MAX))
                        <= now
            }
        }
    }
}

/// The spool folder of the postings.
pub struct Postings {
    dir: PathBuf,
}

impl Postings {
    pub fn new(state_dir: &Path) -> Postings {
        Postings {
            dir: state_dir.join("alertmanager"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn write(&self, p: &Posting) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(
            &self.path(&p.key),
            &serde_json::to_vec_pretty(p).map_err(std::io::Error::other)?,
        )
    }

    fn remove(&self, key: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every posting, by key. An unreadable file is moved aside (`.bad`)
    /// and reported.
    pub fn list(&self) -> BTreeMap<String, Posting> {
        super::spool::json_files::<Posting>(&self.dir, "Alertmanager posting")
            .into_iter()
            .map(|p| (p.key.clone(), p))
            .collect()
    }

    /// Postings Alertmanager has not taken yet: the spool's depth.
    pub fn pending(&self) -> u64 {
        self.list()
            .values()
            .filter(|p| p.posted_at_ms.is_none())
            .count() as u64
    }

    /// Brings the spool in line with the problems on at `now`.
    pub fn reconcile(&self, wanted: &[Wanted], now: u64) -> std::io::Result<()> {
        let mut have = self.list();
        for w in wanted {
            match have.remove(&w.key) {
                None => self.write(&Posting {
                    key: w.key.clone(),
                    labels: w.labels.clone(),
                    annotations: w.annotations.clone(),
                    starts_at_ms: now,
                    resolved_at_ms: None,
                    posted_at_ms: None,
                })?,
                Some(mut p) => {
                    let back = p.resolved_at_ms.is_some();
                    if back && p.posted_at_ms.is_some() {
                        // Resolved and said so: it is a new alert now.
                        p.starts_at_ms = now;
                    }
                    if back || p.labels != w.labels || p.annotations != w.annotations {
                        p.labels = w.labels.clone();
                        p.annotations = w.annotations.clone();
                        p.resolved_at_ms = None;
                        p.posted_at_ms = None;
                        self.write(&p)?;
                    }
                }
            }
        }
        for (_, mut p) in have {
            if p.resolved_at_ms.is_none() {
                p.resolved_at_ms = Some(now);
                p.posted_at_ms = None;
                self.write(&p)?;
            }
        }
        Ok(())
    }

    /// Posts every posting due at `now` in one request; on success records
    /// it (and removes the resolved ones). When the next one is due.
    pub fn pass(&self, am: &Alertmanager, now: u64) -> Result<Duration, http::HttpError> {
        let all = self.list();
        let due: Vec<&Posting> = all
            .values()
            .filter(|p| p.due(now, am.resend_interval))
            .collect();
        if !due.is_empty() {
            let ends =
                now.saturating_add(u64::try_from(am.ends_after().as_millis()).unwrap_or(u64::MAX));
            let body: Vec<serde_json::Value> = due
                .iter()
                .map(|p| {
                    body_item(
                        &p.labels,
                        &p.annotations,
                        p.starts_at_ms,
                        p.resolved_at_ms.unwrap_or(ends),
                    )
                })
                .collect();
            let bytes = serde_json::to_vec(&body).map_err(|e| http::HttpError::Io {
                addr: am.url.clone(),
                error: std::io::Error::other(e),
            })?;
            http::post_json(
                &am.host,
                am.port,
                &format!("{}/api/v2/alerts", am.prefix),
                &bytes,
                am.timeout,
            )?;
            let (resolved, firing): (Vec<&Posting>, Vec<&Posting>) =
                due.iter().partition(|p| p.resolved_at_ms.is_some());
            tracing::info!(url = %am.url, firing = firing.len(), resolved = resolved.len(), "alerts posted to Alertmanager");
            for p in firing {
                let mut done = p.clone();
                done.posted_at_ms = Some(now);
                if let Err(e) = self.write(&done) {
                    tracing::error!(error = %e, "posted, but cannot record it; it is posted again");
                }
            }
            for p in resolved {
                if let Err(e) = self.remove(&p.key) {
                    tracing::error!(error = %e, "posted, but cannot record it; it is posted again");
                }
            }
        }
        let resend = u64::try_from(am.resend_interval.as_millis()).unwrap_or(u64::MAX);
        let next = self
            .list()
            .values()
            .map(|p| match p.posted_at_ms {
                None => 0,
                Some(t) => t.saturating_add(resend).saturating_sub(now),
            })
            .min()
            .unwrap_or(resend);
        // At least a second: a posting left unrecorded (its write failed)
        // must not be posted in a busy loop; new problems wake the thread
        // anyway.
        Ok(Duration::from_millis(next.max(1000)))
    }
}

/// What the daemon tells the posting thread.
pub enum Msg {
    /// The problems on now.
    Firing(Vec<Wanted>),
    /// The configuration was reloaded.
    Config(Option<Alertmanager>),
    Stop,
}

/// What the posting thread counts for the metrics.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Failed postings.
    pub failures: Arc<AtomicU64>,
    /// Postings Alertmanager has not taken yet.
    pub pending: Arc<AtomicU64>,
}

/// The handle the main loop keeps.
pub struct Poster {
    tx: mpsc::Sender<Msg>,
    done: mpsc::Receiver<()>,
}

/// With nothing due, the thread still looks at the spool this often.
const IDLE: Duration = Duration::from_secs(300);

impl Poster {
    pub fn start(
        state_dir: &Path,
        am: Option<Alertmanager>,
        counts: Counts,
    ) -> std::io::Result<Poster> {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let postings = Postings::new(state_dir);
        std::thread::Builder::new()
            .name("alertmanager".into())
            .spawn(move || {
                run(&postings, am, &counts, &rx);
                let _ = done_tx.send(());
            })?;
        Ok(Poster { tx, done })
    }

    pub fn firing(&self, wanted: Vec<Wanted>) {
        let _ = self.tx.send(Msg::Firing(wanted));
    }

    pub fn reconfigure(&self, am: Option<Alertmanager>) {
        let _ = self.tx.send(Msg::Config(am));
    }

    /// Stops the thread, waiting at most `within` for a posting under way
    /// (the spool is consistent at every moment, so giving up is safe).
    pub fn stop(self, within: Duration) {
        let _ = self.tx.send(Msg::Stop);
        let _ = self.done.recv_timeout(within);
    }
}

/// One reconcile-and-post, for `watch --once` and the thread alike; when
/// to come back.
pub fn turn(
    postings: &Postings,
    am: &Alertmanager,
    wanted: Option<&[Wanted]>,
    counts: &Counts,
    failures_in_row: &mut u32,
) -> Duration {
    let now = now_ms();
    if let Some(w) = wanted
        && let Err(e) = postings.reconcile(w, now)
    {
        tracing::error!(spool = %postings.dir().display(), error = %e, "cannot spool the Alertmanager alerts");
        *failures_in_row = failures_in_row.saturating_add(1);
        return backoff(*failures_in_row);
    }
    let wait = match postings.pass(am, now) {
        Ok(next) => {
            if *failures_in_row > 0 {
                tracing::info!(url = %am.url, "Alertmanager takes alerts again");
            }
            *failures_in_row = 0;
            next
        }
        Err(e) => {
            *failures_in_row = failures_in_row.saturating_add(1);
            counts.failures.fetch_add(1, Ordering::Relaxed);
            let next = backoff(*failures_in_row);
            tracing::warn!(url = %am.url, error = %e, retry_in = ?next, "posting to Alertmanager failed; the alerts stay in the spool");
            next
        }
    };
    counts.pending.store(postings.pending(), Ordering::Relaxed);
    wait
}

fn run(
    postings: &Postings,
    mut am: Option<Alertmanager>,
    counts: &Counts,
    rx: &mpsc::Receiver<Msg>,
) {
    let mut failures_in_row = 0u32;
    // Problems the spool could not take yet (a full disk): tried again.
    let mut unspooled: Option<Vec<Wanted>> = None;
    // After a failure, new problems wait out the backoff too: they are in
    // the spool, and go with the next try.
    let mut retry_at: Option<Instant> = None;
    loop {
        let wait = match &am {
            None => IDLE,
            Some(a) => match retry_at {
                Some(t) if Instant::now() < t => t.saturating_duration_since(Instant::now()),
                _ => {
                    let wait = turn(
                        postings,
                        a,
                        unspooled.take().as_deref(),
                        counts,
                        &mut failures_in_row,
                    );
                    retry_at = (failures_in_row > 0).then(|| Instant::now() + wait);
                    wait
                }
            },
        };
        match rx.recv_timeout(wait.min(IDLE)) {
            Ok(Msg::Firing(w)) => {
                // Into the spool at once, so that nothing waits in memory
                // while Alertmanager is down.
                if let Err(e) = postings.reconcile(&w, now_ms()) {
                    tracing::error!(spool = %postings.dir().display(), error = %e, "cannot spool the Alertmanager alerts");
                    unspooled = Some(w);
                }
                counts.pending.store(postings.pending(), Ordering::Relaxed);
            }
            Ok(Msg::Config(a)) => {
                am = a;
                retry_at = None;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;

    /// A stand-in for Alertmanager: answers every POST with 200 and keeps
    /// the alerts of each body, in order.
    struct FakeAm {
        port: u16,
        got: Arc<Mutex<Vec<serde_json::Value>>>,
    }

    impl FakeAm {
        fn start(port: u16) -> FakeAm {
            let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the fake");
            let port = listener.local_addr().expect("addr").port();
            let got = Arc::new(Mutex::new(Vec::new()));
            let keep = got.clone();
            std::thread::spawn(move || {
                for mut s in listener.incoming().flatten() {
                    let mut raw = Vec::new();
                    let mut buf = [0u8; 4096];
                    let body = loop {
                        let Ok(n) = s.read(&mut buf) else { break None };
                        if n == 0 {
                            break None;
                        }
                        raw.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&raw).into_owned();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("Content-Length: "))
                                .and_then(|n| n.trim().parse().ok())
                                .unwrap_or(0);
                            if body.len() >= len {
                                break Some((head.to_string(), body.to_string()));
                            }
                        }
                    };
                    if let Some((head, body)) = body {
                        assert!(
                            head.starts_with("POST /am/api/v2/alerts HTTP/1.1"),
                            "{head}"
                        );
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        keep.lock()
                            .unwrap()
                            .extend(v.as_array().cloned().unwrap_or_default());
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                    }
                }
            });
            FakeAm { port, got }
        }

        fn got(&self) -> Vec<serde_json::Value> {
            self.got.lock().unwrap().clone()
        }
    }

    fn am(port: u16) -> Alertmanager {
        Alertmanager {
            url: format!("http://127.0.0.1:{port}/am"),
            host: "127.0.0.1".into(),
            port,
            prefix: "/am".into(),
            resend_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(2),
        }
    }

    fn wanted(key: &str) -> Wanted {
        Wanted {
            key: key.into(),
            labels: [("alertname", "DriftwallRequirement"), ("requirement", key)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: BTreeMap::new(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("driftwall-postings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn an_outage_keeps_the_alert_which_goes_out_once_and_a_restart_repeats_nothing() {
        let dir = scratch("outage");
        let counts = Counts::default();
        // A port nothing listens on: Alertmanager is down.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let p = Postings::new(&dir);
        let mut in_row = 0;
        let wait = turn(
            &p,
            &am(port),
            Some(&[wanted("https")]),
            &counts,
            &mut in_row,
        );
        assert_eq!(
            (in_row, wait),
            (1, Duration::from_secs(1)),
            "backoff after a failure"
        );
        assert_eq!(counts.failures.load(Ordering::Relaxed), 1);
        assert_eq!(
            counts.pending.load(Ordering::Relaxed),
            1,
            "kept in the spool"
        );

        // Alertmanager is back; the daemon restarted meanwhile (a new
        // `Postings` over the same folder): the alert goes out once.
        let fake = FakeAm::start(port);
        let p = Postings::new(&dir);
        let mut in_row = 0;
        turn(
            &p,
            &am(fake.port),
            Some(&[wanted("https")]),
            &counts,
            &mut in_row,
        );
        let got = fake.got();
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0]["labels"]["requirement"], "https");
        let starts = got[0]["startsAt"].as_str().unwrap().to_string();
        assert!(
            got[0]["endsAt"].as_str().unwrap()
                > super::super::alertmanager::rfc3339(now_ms()).as_str()
        );
        assert_eq!(counts.pending.load(Ordering::Relaxed), 0);

        // Another restart within the resend interval: nothing is due.
        let p = Postings::new(&dir);
        turn(
            &p,
            &am(fake.port),
            Some(&[wanted("https")]),
            &counts,
            &mut in_row,
        );
        assert_eq!(fake.got().len(), 1, "not posted twice");

        // It clears: one resolved posting, with the same startsAt and an
        // endsAt that has passed; then the spool is empty and stays so.
        turn(&p, &am(fake.port), Some(&[]), &counts, &mut in_row);
        let got = fake.got();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[1]["startsAt"], starts.as_str());
        assert!(
            got[1]["endsAt"].as_str().unwrap()
                <= super::super::alertmanager::rfc3339(now_ms()).as_str()
        );
        assert!(p.list().is_empty());
        let p = Postings::new(&dir);
        turn(&p, &am(fake.port), Some(&[]), &counts, &mut in_row);
        assert_eq!(fake.got().len(), 2, "the resolution is not posted again");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_is_on_is_posted_again_every_resend_interval() {
        let dir = scratch("resend");
        let p = Postings::new(&dir);
        p.reconcile(&[wanted("a")], 1_000).unwrap();
        let mut all = p.list();
        let posting = all.remove("a").unwrap();
        assert!(posting.due(1_000, Duration::from_secs(60)), "new");
        let posted = Posting {
            posted_at_ms: Some(1_000),
            ..posting
        };
        assert!(!posted.due(60_999, Duration::from_secs(60)));
        assert!(posted.due(61_000, Duration::from_secs(60)), "a resend");
        let resolved = Posting {
            resolved_at_ms: Some(2_000),
            ..posted.clone()
        };
        assert!(!resolved.due(999_999, Duration::from_secs(60)), "said once");
        // A changed annotation is news: posted at once.
        p.write(&posted).unwrap();
        let mut changed = wanted("a");
        changed.annotations.insert("culprit".into(), "f:12".into());
        p.reconcile(&[changed], 3_000).unwrap();
        assert_eq!(p.list()["a"].posted_at_ms, None);
        assert_eq!(p.list()["a"].starts_at_ms, 1_000, "the same alert");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
