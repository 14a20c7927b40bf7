//! The delivery thread: takes messages from the spool to the SMTP server,
//! oldest first, with backoff after a failure. It owns a current-thread
//! tokio runtime for lettre; the rest of the daemon stays synchronous and
//! only wakes it when it spooled something.

use super::config::Email;
use super::smtp;
use super::spool::{Spool, backoff};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

pub enum Msg {
    /// Something was spooled.
    Wake,
    /// The configuration was reloaded.
    Config(Option<Email>),
    Stop,
}

/// The handle the main loop keeps.
pub struct Delivery {
    tx: mpsc::Sender<Msg>,
    done: mpsc::Receiver<()>,
}

/// With nothing due, the thread still looks at the spool this often (a
/// message put there by hand, or a clock that jumped).
const IDLE: Duration = Duration::from_secs(300);

impl Delivery {
    pub fn start(
        state_dir: PathBuf,
        email: Option<Email>,
        hello: String,
        failures: Arc<AtomicU64>,
    ) -> std::io::Result<Delivery> {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let rt = smtp::runtime()?;
        std::thread::Builder::new()
            .name("delivery".into())
            .spawn(move || {
                run(&Spool::new(&state_dir), email, &hello, &rt, &rx, &failures);
                let _ = done_tx.send(());
            })?;
        Ok(Delivery { tx, done })
    }

    pub fn wake(&self) {
        let _ = self.tx.send(Msg::Wake);
    }

    pub fn reconfigure(&self, email: Option<Email>) {
        let _ = self.tx.send(Msg::Config(email));
    }

    /// Stops the thread, waiting at most `within` for a send under way (the
    /// spool is consistent at every moment, so giving up is safe).
    pub fn stop(self, within: Duration) {
        let _ = self.tx.send(Msg::Stop);
        let _ = self.done.recv_timeout(within);
    }
}

fn run(
    spool: &Spool,
    mut email: Option<Email>,
    hello: &str,
    rt: &tokio::runtime::Runtime,
    rx: &mpsc::Receiver<Msg>,
    failures: &AtomicU64,
) {
    spool.prune_delivered();
    let mut warned = false;
    loop {
        let wait = match &email {
            Some(e) => match pass(
                spool,
                e,
                hello,
                rt,
                &mut || matches!(rx.try_recv(), Ok(Msg::Stop)),
                failures,
            ) {
                Pass::Stopped => return,
                Pass::Next(wait) => wait,
            },
            None => {
                if !warned && !spool.list().is_empty() {
                    tracing::warn!(spool = %spool.dir().display(), "messages wait in the spool but no SMTP server is configured (alerts.email)");
                    warned = true;
                }
                IDLE
            }
        };
        match rx.recv_timeout(wait) {
            Ok(Msg::Wake) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Msg::Config(e)) => email = e,
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

pub enum Pass {
    Stopped,
    /// How long until the next message is due.
    Next(Duration),
}

/// One pass over the spool: every message due is tried once; each failed
/// attempt is counted in `failures` (for the metrics).
pub fn pass(
    spool: &Spool,
    email: &Email,
    hello: &str,
    rt: &tokio::runtime::Runtime,
    stop: &mut dyn FnMut() -> bool,
    failures: &AtomicU64,
) -> Pass {
    let mut wait = IDLE;
    for mut e in spool.list() {
        if stop() {
            return Pass::Stopped;
        }
        if spool.is_delivered(&e.message_id) {
            // Accepted before a crash that left it in the spool.
            tracing::info!(message_id = %e.message_id, "already delivered; taken out of the spool");
            if let Err(err) = spool.forget(&e) {
                tracing::error!(error = %err, "cannot clean the spool");
            }
            continue;
        }
        let now = super::now_ms();
        if e.next_attempt_ms > now {
            wait = wait.min(Duration::from_millis(e.next_attempt_ms - now));
            continue;
        }
        match rt.block_on(smtp::send(
            &email.smtp,
            hello,
            &e.from,
            &e.to,
            e.eml.as_bytes(),
        )) {
            Ok(answer) => {
                let waited = Duration::from_millis(super::now_ms().saturating_sub(e.created_ms));
                match spool.delivered(&e, &answer) {
                    Ok(()) => {
                        tracing::info!(message_id = %e.message_id, subject = %e.subject, server = %answer, attempts = e.attempts + 1, spooled_for = ?waited, "alert delivered")
                    }
                    Err(err) => {
                        tracing::error!(message_id = %e.message_id, error = %err, "delivered, but cannot record it; it may be sent again")
                    }
                }
            }
            Err(err) => {
                failures.fetch_add(1, Ordering::Relaxed);
                let next = backoff(e.attempts + 1);
                tracing::warn!(message_id = %e.message_id, server = %format!("{}:{}", email.smtp.host, email.smtp.port), error = %err, retry_in = ?next, "delivery failed; the alert stays in the spool");
                if let Err(io) = spool.failed(&mut e, &err.to_string()) {
                    tracing::error!(error = %io, "cannot update the spool");
                }
                wait = wait.min(next);
                // The server is down or refuses us: the others would fail
                // the same way (each after a timeout). A message it refused
                // alone does not hold the rest up.
                if err.stage != smtp::Stage::Rejected {
                    break;
                }
            }
        }
    }
    Pass::Next(wait)
}
