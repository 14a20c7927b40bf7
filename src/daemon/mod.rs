//! `driftwall watch`: the daemon. It watches the folders of the firewall
//! files (editors and tools replace files by rename, truncate and rewrite,
//! or remove and recreate), reads a file again when a burst of
//! notifications has settled, and also rescans everything periodically; it
//! runs the live-ruleset commands on their interval. Each new text is
//! assessed ([`drift`]) and the events go to the alert lifecycle
//! ([`crate::alert`]), which is part of the state: a crash before the state
//! is saved recomputes the same events (stable ids), one after it resumes
//! them. Messages go to the outbox, or through the spool to SMTP.
//!
//! It speaks the systemd notify protocol ([`notify`]), reloads its
//! configuration on SIGHUP (a broken one keeps the running one) and stops on
//! SIGTERM.

pub mod accept;
pub mod busy;
pub mod config;
pub mod detect;
pub mod notify;
pub mod observed;
pub mod state;
pub mod watched;

use crate::alert::alertmanager::{self, Wanted};
use crate::alert::delivery::Delivery;
use crate::alert::lifecycle::{Mail, Settings};
use crate::alert::outbox;
use crate::alert::postings::{self, Poster, Postings};
use crate::alert::{self, message, spool};
use crate::drift::assess as drift;
use crate::drift::event::Event;
use crate::input::Input;
use crate::metrics::{self, Metrics, Spools, server::Server};
use crate::policy::{self, Policy};
use ::notify::RecursiveMode;
use config::{Config, Watch};
use state::State;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};

/// What wakes the main loop.
enum Msg {
    /// Paths that changed (from the debounced notifications).
    Changed(Vec<PathBuf>),
    Signal(i32),
}

/// Why an alert could not be handed on.
#[derive(Debug, thiserror::Error)]
enum DispatchError {
    #[error(transparent)]
    Message(#[from] message::MessageError),
    #[error("{dir}: cannot spool the alert: {error}")]
    Spool { dir: String, error: std::io::Error },
    #[error("{dir}: cannot write the alert: {error}")]
    Outbox { dir: String, error: std::io::Error },
}

/// Why the daemon cannot start (or reload) with a configuration: every
/// problem, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
#[non_exhaustive]
pub struct LoadError {
    pub problems: Vec<String>,
}

/// Loads the policies a configuration names, for its role.
pub fn load_policies(config: &Config) -> Result<Vec<Policy>, LoadError> {
    let l = policy::load_all(&config.policies, &config.role);
    if l.is_complete() {
        Ok(l.policies)
    } else {
        Err(LoadError {
            problems: vec![l.problems()],
        })
    }
}

/// The configuration at `path`, or the built-in one without a path; every
/// problem of the file at once.
pub fn read_config(path: Option<&Path>) -> Result<Config, LoadError> {
    match path {
        Some(p) => Config::load(p).map_err(|errs| LoadError {
            problems: errs.iter().map(|e| e.to_string()).collect(),
        }),
        // What `driftwall init` would write: one function answers both.
        None => Ok(detect::detect(Path::new("/")).config()),
    }
}

fn load_config(path: Option<&Path>) -> Result<(Config, Vec<Policy>), LoadError> {
    let config = read_config(path)?;
    let policies = load_policies(&config)?;
    Ok((config, policies))
}

/// The alert lifecycle's settings from the configuration.
fn alert_settings(config: &Config, host: &str) -> Settings {
    Settings {
        host: host.to_string(),
        group_wait: config.group_wait,
        group_interval: config.group_interval,
        repeat_interval: config.repeat_interval,
        send_resolved: config.send_resolved,
        max_per_hour: config.max_per_hour,
        rate_window: alert::rate_window(),
    }
}

/// The name a watched source is kept under.
fn source_name(w: &Watch) -> String {
    match w {
        Watch::File { path, .. } => path.display().to_string(),
        Watch::Ufw { dir, .. } | Watch::Firewalld { dir, .. } => dir.display().to_string(),
        Watch::Command { argv, .. } => format!("live: {}", argv.join(" ")),
    }
}

struct Daemon {
    config_path: Option<PathBuf>,
    config: Config,
    policies: Vec<Policy>,
    state: State,
    /// The state as last written to disk.
    saved: State,
    /// The lifecycle's settings, from the configuration.
    settings: Settings,
    host: String,
    /// Takes spooled messages to SMTP.
    delivery: Option<Delivery>,
    /// When each command watch last ran.
    last_run: Vec<Option<Instant>>,
    last_rescan: Instant,
    /// Baseline requests applied, removed once the state holding them is saved.
    applied: Vec<PathBuf>,
    /// For each watched file, the folders its includes were looked for in at
    /// its last reading: watched too, and a change in one reads the file
    /// again. Includes change with the file, so this does too.
    includes: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    /// For each live-ruleset command that failed at its last run, how: said
    /// once at warning level (the embedded default runs `nft` on a
    /// firewalld host, which fails without CAP_NET_ADMIN every minute).
    command_failed: BTreeMap<String, String>,
    /// Watched sources that could not be read at their last reading, and
    /// why: said at warning level once (a missing file must not go
    /// unsaid), at debug level while it stays so; `--once` exits 2 when
    /// any is left.
    unreadable: BTreeMap<String, String>,
    /// After a failed write (a full disk, a read-only state folder): when to
    /// try again, how many failed in a row, and the last error, said once.
    /// Without it the alert that is due stays due, and the daemon retried
    /// a hundred times a second (issue 18).
    retry_at: Option<Instant>,
    write_failures: u32,
    last_write_error: Option<String>,
    /// What `/metrics` and the textfile show: the snapshot published at the
    /// end of every turn, and the counters the delivery threads add to.
    metrics: Arc<Metrics>,
    /// The `/metrics` listener (`metrics.listen`), on its own thread.
    metrics_server: Option<Server>,
    /// The textfile last written, so an unchanged one is not written again
    /// at every turn, and its last write error, said once.
    textfile_written: Option<String>,
    textfile_error: Option<String>,
    /// When a source was last assessed: the staleness a fleet alerts on.
    last_assessment: Option<SystemTime>,
    /// Posts the problems to Alertmanager (`alerts.alertmanager`).
    poster: Option<Poster>,
    /// The problems last handed to the poster: it hears only of changes.
    posted: Option<Vec<Wanted>>,
    /// What the loop is assessing, for the signal and watchdog threads.
    busy: busy::Busy,
    /// Watched files that are symbolic links, and what they point to:
    /// followed, and said when that changes.
    links: BTreeMap<PathBuf, PathBuf>,
}

impl Daemon {
    /// A watched source that cannot be read now.
    fn not_readable(&mut self, name: &str, why: &str) {
        if self.unreadable.get(name).map(String::as_str) == Some(why) {
            tracing::debug!(source = %name, error = %why, "not readable");
        } else {
            tracing::warn!(source = %name, error = %why, "not readable");
            self.unreadable.insert(name.to_string(), why.to_string());
        }
    }

    /// A watched source read again.
    fn readable(&mut self, name: &str) {
        if self.unreadable.remove(name).is_some() {
            tracing::info!(source = %name, "readable again");
        }
    }

    /// Applies the baseline requests `driftwall baseline accept` left.
    fn take_requests(&mut self) {
        for (path, request) in accept::pending(&self.config.state_dir) {
            if self.applied.contains(&path) {
                continue;
            }
            let key = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let events = accept::apply(&mut self.state.sources, &request, &key);
            tracing::info!(request = %path.display(), sources = request.sources.len(), "baseline accepted");
            self.queue(events);
            self.applied.push(path);
        }
    }

    fn accept_hint(&self) -> String {
        match &self.config_path {
            Some(p) => format!("driftwall baseline accept --config {}", p.display()),
            None => "driftwall baseline accept".into(),
        }
    }

    /// Reads one file watch again, with the files it includes: a change to
    /// any of them is a new version of the file.
    fn read_file(&mut self, path: &Path, format: crate::input::InputFormat) {
        let name = path.display().to_string();
        let busy = self.busy.clone();
        let _assessing = busy.assessing(&name);
        let read = match crate::input::read_bundled(path, format) {
            Ok(read) => read,
            // Gone (or not there yet): nothing to assess until it appears.
            Err(e) => {
                self.not_readable(&name, &e.error.to_string());
                return;
            }
        };
        self.readable(&name);
        if read.text.len() >= LARGE_SOURCE {
            tracing::info!(source = %name, bytes = read.text.len(), "assessing a large source");
        } else {
            tracing::debug!(source = %name, bytes = read.text.len(), "assessing");
        }
        let mut folders = read.folders;
        // A link is followed: the folder of what it points to is watched
        // too, so that a change there is seen at once.
        if let Some(target) = self.follow_link(path)
            && let Some(dir) = target.parent()
        {
            folders.insert(dir.to_path_buf());
        }
        self.includes.insert(path.to_path_buf(), folders);
        let events = drift::assess(
            &mut self.state.sources,
            &name,
            Some(path),
            &read.text,
            read.input,
            format,
            &self.policies,
        );
        // Each assessment is visible at debug level: the tests wait on it
        // instead of sleeping.
        tracing::debug!(source = %name, events = events.len(), "assessed");
        self.last_assessment = Some(SystemTime::now());
        self.queue(events);
    }

    /// Where the watched file `path` leads if it is a symbolic link
    /// (followed to the end); says so when that is new or changed, and
    /// when it stops being one.
    fn follow_link(&mut self, path: &Path) -> Option<PathBuf> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let target = is_link.then(|| std::fs::canonicalize(path).ok()).flatten();
        match &target {
            Some(t) if self.links.get(path) != Some(t) => {
                tracing::info!(file = %path.display(), target = %t.display(), "a watched file is a symbolic link; what it points to is read and watched");
                self.links.insert(path.to_path_buf(), t.clone());
            }
            None if self.links.remove(path).is_some() => {
                tracing::info!(file = %path.display(), "a watched file is no longer a symbolic link");
            }
            _ => {}
        }
        target
    }

    /// Reads a ufw configuration again: its files as one text, so that a
    /// change to any of them is one new version of the source.
    fn read_ufw(&mut self, dir: &Path, defaults: Option<&Path>) {
        let name = dir.display().to_string();
        let busy = self.busy.clone();
        let _assessing = busy.assessing(&name);
        // Gone (or not there yet): nothing to assess until it appears.
        if !dir.is_dir() {
            self.not_readable(&name, "no such folder");
            return;
        }
        let files = match crate::input::ufw_files(dir, defaults) {
            Ok(files) => files,
            Err(e) => {
                self.not_readable(&name, &e.to_string());
                return;
            }
        };
        self.readable(&name);
        let text = crate::input::ufw_bundle(&files);
        let events = drift::assess(
            &mut self.state.sources,
            &name,
            None,
            &text,
            None,
            crate::input::InputFormat::Ufw,
            &self.policies,
        );
        tracing::debug!(source = %name, events = events.len(), "assessed");
        self.last_assessment = Some(SystemTime::now());
        self.queue(events);
    }

    /// Reads a firewalld configuration again: its files and the stock
    /// definitions as one text, so that a change to any of them is one new
    /// version of the source, and an old version reads back without the disk.
    fn read_firewalld(&mut self, dir: &Path, stock: Option<&Path>) {
        let name = dir.display().to_string();
        let busy = self.busy.clone();
        let _assessing = busy.assessing(&name);
        let text = match firewalld_text(dir, stock) {
            Ok(text) => text,
            Err(why) => {
                self.not_readable(&name, &why);
                return;
            }
        };
        self.readable(&name);
        let events = drift::assess(
            &mut self.state.sources,
            &name,
            None,
            &text,
            None,
            crate::input::InputFormat::Firewalld,
            &self.policies,
        );
        tracing::debug!(source = %name, events = events.len(), "assessed");
        self.last_assessment = Some(SystemTime::now());
        self.queue(events);
    }

    /// What a live ruleset is compared with: the file with what it includes
    /// (a change to an included file is a change to what the kernel is
    /// compared with), or a firewalld folder with its stock definitions
    /// (those of the watch of that folder, if there is one); its kept text
    /// and its reading.
    fn compared_text(&self, file: &Path) -> Option<(String, Input)> {
        if file.is_dir() {
            let stock = self.config.watch.iter().find_map(|w| match w {
                Watch::Firewalld { dir, stock } if dir == file => Some(stock.clone()),
                _ => None,
            });
            // A firewalld folder, as `driftwall check` tells one (or as its
            // watch entry says); no other folder is compared yet.
            if stock.is_none() && !crate::input::is_firewalld_dir(file) {
                tracing::debug!(folder = %file.display(), "not a firewalld configuration folder: not compared");
                return None;
            }
            let text = firewalld_text(file, stock.flatten().as_deref()).ok()?;
            let input = drift::parse(
                &file.display().to_string(),
                None,
                &text,
                crate::input::InputFormat::Firewalld,
            );
            return Some((text, input));
        }
        let read = crate::input::read_bundled(file, crate::input::InputFormat::Auto).ok()?;
        let input = read.input.unwrap_or_else(|| {
            drift::parse(
                &file.display().to_string(),
                Some(file),
                &read.text,
                crate::input::InputFormat::Auto,
            )
        });
        Some((read.text, input))
    }

    fn run_command(&mut self, i: usize) {
        let Watch::Command {
            argv,
            format,
            compare_with,
            ..
        } = self.config.watch[i].clone()
        else {
            return;
        };
        self.last_run[i] = Some(Instant::now());
        let name = source_name(&self.config.watch[i]);
        let busy = self.busy.clone();
        let _assessing = busy.assessing(&name);
        let failure = match std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .output()
        {
            Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
            Ok(o) => Err(format!(
                "the live-ruleset command failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run the live-ruleset command: {e}")),
        };
        let out = match failure {
            Ok(out) => {
                if self.command_failed.remove(&name).is_some() {
                    tracing::info!(command = %argv.join(" "), "the live-ruleset command runs again");
                }
                out
            }
            Err(why) => {
                if self.command_failed.get(&name) == Some(&why) {
                    tracing::debug!(command = %argv.join(" "), "{why}");
                } else {
                    tracing::warn!(command = %argv.join(" "), "{why}");
                    self.command_failed.insert(name, why);
                }
                return;
            }
        };
        let mut events = drift::assess(
            &mut self.state.sources,
            &name,
            None,
            &out,
            None,
            format,
            &self.policies,
        );
        tracing::debug!(source = %name, events = events.len(), "assessed");
        self.last_assessment = Some(SystemTime::now());
        if let Some(file) = compare_with {
            let live: Input = drift::parse(&name, None, &out, format);
            if let Some((text, on_disk)) = self.compared_text(&file) {
                let pair = format!(
                    "{}/{}",
                    crate::stable_hash::fnv(out.as_bytes()),
                    crate::stable_hash::fnv(text.as_bytes())
                );
                if self.state.sources.compared.get(&name) == Some(&pair) {
                    self.queue(events);
                    return;
                }
                self.state.sources.compared.insert(name.clone(), pair);
                if live.errors.is_empty() && on_disk.errors.is_empty() {
                    match drift::compare_live(
                        &name,
                        &live,
                        &file.display().to_string(),
                        &on_disk,
                        &self.policies,
                    ) {
                        Some(e) => {
                            self.state
                                .sources
                                .live_differs
                                .insert(name.clone(), e.summary.clone());
                            events.push(e);
                        }
                        None => {
                            self.state.sources.live_differs.remove(&name);
                        }
                    }
                }
            }
        }
        self.queue(events);
    }

    /// Reads again the sources in one of `folders`, which were just
    /// watched (their own folders come back, the folders their includes
    /// are looked for in): a change made there before the watch began is
    /// seen.
    fn read_includers(&mut self, folders: &[PathBuf]) {
        if folders.is_empty() {
            return;
        }
        for w in self.config.watch.clone() {
            match w {
                // A folder of its includes, or its own folder come back.
                Watch::File { path, format }
                    if path
                        .parent()
                        .is_some_and(|p| folders.iter().any(|d| d == p))
                        || self
                            .includes
                            .get(&path)
                            .is_some_and(|f| folders.iter().any(|d| f.contains(d))) =>
                {
                    self.read_file(&path, format);
                }
                Watch::Ufw { dir, defaults }
                    if folders.iter().any(|d| {
                        d == &dir
                            || ufw_defaults(&dir, defaults.as_deref()).parent() == Some(d.as_path())
                    }) =>
                {
                    self.read_ufw(&dir, defaults.as_deref());
                }
                // A sub-folder (zones/, ...) that appeared: what was written
                // in it before its watch began is read.
                Watch::Firewalld { dir, stock }
                    if firewalld_folders(&dir, stock.as_deref())
                        .iter()
                        .any(|f| folders.contains(f)) =>
                {
                    self.read_firewalld(&dir, stock.as_deref());
                }
                _ => {}
            }
        }
    }

    fn queue(&mut self, events: Vec<Event>) {
        for e in &events {
            self.metrics.counters.event(e.kind.name());
            tracing::info!(event = %e.id, kind = ?e.kind, source = %e.source, "{}", e.summary);
        }
        self.state.alerts.add_events(&events, alert::now_ms());
    }

    /// Puts one message where it goes: the spool (SMTP) or the outbox.
    fn dispatch(&self, mail: &Mail) -> Result<(), DispatchError> {
        let r = message::render(mail, &self.host, &self.accept_hint());
        let now = std::time::SystemTime::now();
        match &self.config.email {
            Some(email) => {
                let eml = message::eml(mail, &r, &email.from, &email.to, now)?;
                let entry = spool::Entry {
                    message_id: mail.message_id.clone(),
                    subject: r.subject.clone(),
                    from: email.from.clone(),
                    to: email.to.clone(),
                    created_ms: alert::now_ms(),
                    attempts: 0,
                    next_attempt_ms: 0,
                    last_error: None,
                    eml: String::from_utf8_lossy(&eml).into_owned(),
                };
                let put = spool::Spool::new(&self.config.state_dir)
                    .put(&entry)
                    .map_err(|error| DispatchError::Spool {
                        dir: self.config.state_dir.display().to_string(),
                        error,
                    })?;
                tracing::info!(message_id = %mail.message_id, subject = %r.subject, spooled = put, "alert spooled for SMTP");
            }
            None => {
                let eml = message::eml(
                    mail,
                    &r,
                    &format!("driftwall@{}", self.host),
                    &[format!("root@{}", self.host)],
                    now,
                )?;
                let path = outbox::write(&self.config.outbox, mail, &eml).map_err(|error| {
                    DispatchError::Outbox {
                        dir: self.config.outbox.display().to_string(),
                        error,
                    }
                })?;
                tracing::info!(alert = %path.display(), subject = %r.subject, "alert written");
            }
        }
        Ok(())
    }

    /// Sends what the lifecycle says is due (everything pending with
    /// `force`), then saves the state if it changed. The lifecycle moves on
    /// only once its messages are written.
    /// A write failed: back off (1 s, doubling, at most a minute), and say
    /// the error once while it stays the same.
    fn write_failed(&mut self, what: &str, error: String) {
        self.write_failures = self.write_failures.saturating_add(1);
        let backoff = Duration::from_millis(500)
            .saturating_mul(1u32 << self.write_failures.min(7))
            .min(Duration::from_secs(60));
        self.retry_at = Some(Instant::now() + backoff);
        if self.last_write_error.as_deref() == Some(error.as_str()) {
            tracing::debug!(error = %error, retry_in = ?backoff, "{what}");
        } else {
            tracing::error!(state_dir = %self.config.state_dir.display(), error = %error, retry_in = ?backoff, "{what}");
            self.last_write_error = Some(error);
        }
    }

    fn flush(&mut self, force: bool) {
        if !force && self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let firing = alert::firing(&self.state.sources);
        self.post(&firing);
        let mut next = self.state.alerts.clone();
        let mails = next.tick(alert::now_ms(), &firing, &self.settings, force);
        let written = mails.iter().try_for_each(|m| self.dispatch(m));
        match written {
            Ok(()) => {
                self.state.alerts = next;
                if !mails.is_empty()
                    && let Some(d) = &self.delivery
                {
                    d.wake();
                }
            }
            // Kept as it was: the next flush makes the same messages again.
            Err(e) => {
                self.write_failed("cannot hand the alert on", e.to_string());
                return;
            }
        }
        if self.state != self.saved {
            if let Err(e) = self.state.save(&self.config.state_dir) {
                self.write_failed("cannot save the state", e.to_string());
                return;
            }
            self.saved = self.state.clone();
            let removed = self.state.remove_unused_texts(&self.config.state_dir);
            if removed > 0 {
                tracing::debug!(removed, "removed texts the state no longer names");
            }
        }
        if self.write_failures > 0 {
            tracing::info!("writing works again");
        }
        self.write_failures = 0;
        self.retry_at = None;
        self.last_write_error = None;
        // The baseline requests applied are in the saved state now.
        accept::done(&std::mem::take(&mut self.applied));
        tracing::debug!(messages = mails.len(), "flushed");
    }

    /// Hands the problems on now to the Alertmanager poster, if they
    /// changed since it last heard.
    fn post(&mut self, firing: &[alert::lifecycle::Alert]) {
        let Some(poster) = &self.poster else { return };
        if self.config.alertmanager.is_none() {
            return;
        }
        let wanted =
            alertmanager::wanted(firing, &self.state.sources, &self.host, &self.accept_hint());
        if self.posted.as_ref() != Some(&wanted) {
            poster.firing(wanted.clone());
            self.posted = Some(wanted);
        }
    }

    /// Publishes what the turn found to the metrics, and writes the
    /// textfile if it changed.
    fn publish_metrics(&mut self) {
        self.metrics.publish(observed::snapshot(
            &self.config,
            &self.state.sources,
            self.last_assessment,
        ));
        let Some(path) = self.config.metrics_textfile.clone() else {
            return;
        };
        let text = match self.metrics.render() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode the metrics");
                return;
            }
        };
        if self.textfile_written.as_ref() == Some(&text) {
            return;
        }
        match crate::fsutil::write_atomic(&path, text.as_bytes()) {
            Ok(()) => {
                if self.textfile_error.take().is_some() {
                    tracing::info!(file = %path.display(), "the metrics file is written again");
                }
                self.textfile_written = Some(text);
            }
            Err(e) => {
                let e = e.to_string();
                if self.textfile_error.as_ref() != Some(&e) {
                    tracing::error!(file = %path.display(), error = %e, "cannot write the metrics file");
                    self.textfile_error = Some(e);
                }
            }
        }
    }

    /// Starts, moves or stops the `/metrics` listener to match the
    /// configuration.
    fn listen_metrics(&mut self) -> Result<(), metrics::MetricsError> {
        let want = self.config.metrics_listen;
        let have = self.metrics_server.as_ref().map(Server::addr);
        let same = match (want, have) {
            // Port 0 (the system picks one) stays on the port it got: a
            // reload must not move the metrics under a scraper's feet.
            (Some(w), Some(h)) => w == h || (w.port() == 0 && w.ip() == h.ip()),
            (None, None) => true,
            _ => false,
        };
        if same {
            return Ok(());
        }
        if let Some(old) = self.metrics_server.take() {
            old.stop();
        }
        if let Some(addr) = want {
            let server = Server::start(&addr.to_string(), self.metrics.clone())?;
            tracing::info!(listen = %server.addr(), "serving metrics on /metrics");
            self.metrics_server = Some(server);
        }
        Ok(())
    }

    fn rescan(&mut self) {
        self.last_rescan = Instant::now();
        self.take_requests();
        for w in self.config.watch.clone() {
            match w {
                Watch::File { path, format } => self.read_file(&path, format),
                Watch::Ufw { dir, defaults } => self.read_ufw(&dir, defaults.as_deref()),
                Watch::Firewalld { dir, stock } => self.read_firewalld(&dir, stock.as_deref()),
                Watch::Command { .. } => {}
            }
        }
        for i in 0..self.config.watch.len() {
            if matches!(self.config.watch[i], Watch::Command { .. }) {
                self.run_command(i);
            }
        }
    }

    /// The earliest moment something is due.
    fn next_wake(&self, watchdog: Option<Duration>) -> Duration {
        let mut wait = self
            .config
            .rescan_interval
            .saturating_sub(self.last_rescan.elapsed());
        for (i, w) in self.config.watch.iter().enumerate() {
            if let Watch::Command { interval, .. } = w {
                let since = self.last_run[i].map(|t| t.elapsed()).unwrap_or(*interval);
                wait = wait.min(interval.saturating_sub(since));
            }
        }
        let now = alert::now_ms();
        match self.retry_at {
            // Backing off: what is due waits for the next try.
            Some(t) => wait = wait.min(t.saturating_duration_since(Instant::now())),
            None => {
                if let Some(t) = self.state.alerts.next_due(
                    now,
                    &alert::firing(&self.state.sources),
                    &self.settings,
                ) {
                    wait = wait.min(Duration::from_millis(t.saturating_sub(now)));
                }
            }
        }
        if let Some(w) = watchdog {
            wait = wait.min(w);
        }
        wait.max(Duration::from_millis(10))
    }
}

/// Folders to watch: the parents of the watched files, the folders their
/// includes were looked for in (`includes`, [`Daemon::includes`]), and a ufw
/// configuration folder with its defaults file's folder.
fn folders(config: &Config, includes: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> BTreeSet<PathBuf> {
    let parent = |path: &Path| {
        path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
    };
    config
        .watch
        .iter()
        .flat_map(|w| match w {
            Watch::File { path, .. } => std::iter::once(parent(path))
                .chain(includes.get(path).into_iter().flatten().cloned().map(Some))
                .collect(),
            Watch::Ufw { dir, defaults } => {
                vec![
                    Some(dir.clone()),
                    parent(&ufw_defaults(dir, defaults.as_deref())),
                ]
            }
            Watch::Firewalld { dir, stock } => firewalld_folders(dir, stock.as_deref())
                .into_iter()
                .map(Some)
                .collect(),
            Watch::Command { .. } => Vec::new(),
        })
        .flatten()
        .collect()
}

/// The text a firewalld watch keeps: its files and those of the stock
/// folder as one bundle; why not, if the folder cannot be read (gone, or
/// not there yet: nothing to assess until it appears).
fn firewalld_text(dir: &Path, stock: Option<&Path>) -> Result<String, String> {
    if !dir.is_dir() {
        return Err("no such folder".to_string());
    }
    // A file that cannot be read, or a `stock` folder that is not there:
    // nothing is assessed, which the caller says.
    crate::input::firewalld_files(dir, stock)
        .map(|files| crate::input::firewalld_bundle(&files))
        .map_err(|e| e.to_string())
}

/// The folders of a firewalld watch: the configuration folder and the
/// stock folder, and those of their sub-folders (`zones/`, ...) that exist.
/// One that appears later is noticed in its parent, and watched from then
/// on.
fn firewalld_folders(dir: &Path, stock: Option<&Path>) -> Vec<PathBuf> {
    std::iter::once(dir.to_path_buf())
        .chain(crate::input::firewalld_stock_dir(dir, stock))
        .flat_map(|top| {
            let subs: Vec<PathBuf> = crate::input::FIREWALLD_KINDS
                .iter()
                .map(|k| top.join(k))
                .filter(|p| p.is_dir())
                .collect();
            std::iter::once(top).chain(subs)
        })
        .collect()
}

/// The defaults file of a ufw watch, as `input::ufw_files` finds it.
fn ufw_defaults(dir: &Path, defaults: Option<&Path>) -> PathBuf {
    defaults
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.parent().unwrap_or(Path::new("/")).join("default/ufw"))
}

fn log_startup(config: &Config) {
    tracing::info!(config = %config.source, "configuration loaded");
    for w in &config.watch {
        match w {
            Watch::File { path, format } => {
                tracing::info!(file = %path.display(), format = ?format, "watching")
            }
            Watch::Ufw { dir, defaults } => {
                let defaults = ufw_defaults(dir, defaults.as_deref());
                tracing::info!(folder = %dir.display(), defaults = %defaults.display(), "watching the ufw configuration")
            }
            Watch::Firewalld { dir, stock } => {
                let stock = match crate::input::firewalld_stock_dir(dir, stock.as_deref()) {
                    Some(s) => s.display().to_string(),
                    None => "the built-in table".into(),
                };
                tracing::info!(folder = %dir.display(), stock = %stock, "watching the firewalld configuration")
            }
            Watch::Command { argv, interval, .. } => {
                tracing::info!(command = %argv.join(" "), interval = ?interval, "watching the live ruleset")
            }
        }
    }
    if config.watch.is_empty() {
        tracing::warn!(
            "nothing to watch: none of the standard firewall files exists and no configuration names any"
        );
    }
    match &config.email {
        Some(e) => {
            tracing::info!(server = %format!("{}:{}", e.smtp.host, e.smtp.port), tls = ?e.smtp.tls, from = %e.from, to = %e.to.join(", "), group_wait = ?config.group_wait, "alerts go out by SMTP")
        }
        None => {
            tracing::info!(outbox = %config.outbox.display(), group_wait = ?config.group_wait, "alerts go to the outbox as .eml files")
        }
    }
}

/// A source at least this big is said to be assessed, at info level: it
/// may take a while, and the log must not be silent meanwhile.
const LARGE_SOURCE: usize = 8 << 20;

/// How long a stop waits for the main loop to finish an assessment before
/// it stops the process in the middle of it.
const STOP_PATIENCE: Duration = Duration::from_secs(2);

/// After SIGTERM or SIGINT (already sent to the main loop): if the loop is
/// still assessing after [`STOP_PATIENCE`], stops the process there, which
/// loses nothing ([`busy`]); systemd's default stop timeout is far longer,
/// but an operator's is not, and a watchdog restart loop must not start.
fn stop_mid_assessment(busy: &busy::Busy) {
    let start = Instant::now();
    while start.elapsed() < STOP_PATIENCE {
        if busy.doing().is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    busy.stop_if_assessing(|what, took| {
        tracing::warn!(source = %what, assessing_for = ?took, "stopping in the middle of an assessment; the source is assessed again at the next start");
        notify::Notifier::from_env().stopping(Duration::from_secs(1));
        std::process::exit(0);
    });
}

/// With a watchdog, a thread that pings it while the main loop is in an
/// assessment (which does not ping), for at most [`busy::MAX_ASSESSMENT`]:
/// a long assessment is work, not a hang. It has a socket of its own.
fn feed_watchdog_while_assessing(notifier: &notify::Notifier, busy: &busy::Busy) {
    let Some(every) = notifier.watchdog_interval() else {
        return;
    };
    let busy = busy.clone();
    std::thread::spawn(move || {
        let feeder = notify::Notifier::from_env().quiet();
        loop {
            std::thread::sleep(every);
            if busy
                .doing()
                .is_some_and(|(_, took)| took < busy::MAX_ASSESSMENT)
            {
                feeder.watchdog();
            }
        }
    });
}

/// Runs the daemon until SIGTERM (or after one scan with `once`). Returns the exit code.
pub fn run(config_path: Option<PathBuf>, once: bool) -> anyhow::Result<u8> {
    let notifier = notify::Notifier::from_env();
    let (config, policies) = match config_path.as_deref() {
        Some(path) => load_config(Some(path)).map_err(anyhow::Error::msg)?,
        None => {
            // What `driftwall init` prints, looked at once, and its
            // sentences (init's comments) in the log.
            let first = detect::detect(Path::new("/"));
            for line in first.summary() {
                tracing::info!("no configuration file; found: {line}");
            }
            let config = first.config();
            let policies = load_policies(&config).map_err(anyhow::Error::msg)?;
            (config, policies)
        }
    };
    log_startup(&config);
    crate::fsutil::default_read_limit(config.max_source_size);
    std::fs::create_dir_all(&config.state_dir).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot create the state directory: {e}",
            config.state_dir.display()
        )
    })?;
    std::fs::create_dir_all(&config.outbox).map_err(|e| {
        anyhow::anyhow!("{}: cannot create the outbox: {e}", config.outbox.display())
    })?;
    let state = State::load(&config.state_dir)?;
    let last_run = vec![None; config.watch.len()];
    let host = outbox::hostname();
    let settings = alert_settings(&config, &host);
    // Always running, so a reload that adds an SMTP server, or a spool left
    // by an earlier run, is served.
    let metrics = Arc::new(Metrics::new(Spools {
        email: Some(spool::Spool::new(&config.state_dir).dir().to_path_buf()),
    }));
    let counts = postings::Counts {
        failures: metrics.counters.alertmanager_failures.clone(),
        pending: metrics.counters.alertmanager_pending.clone(),
    };
    let delivery = if once {
        None
    } else {
        Some(Delivery::start(
            config.state_dir.clone(),
            config.email.clone(),
            host.clone(),
            metrics.counters.email_failures.clone(),
        )?)
    };
    // Always running too, for the same reasons; it posts only with
    // `alerts.alertmanager` set.
    let poster = if once {
        None
    } else {
        Some(Poster::start(
            &config.state_dir,
            config.alertmanager.clone(),
            counts.clone(),
        )?)
    };
    // A kill between a temporary file's creation and its rename leaves it.
    let stale = crate::fsutil::remove_stale_temps(&config.state_dir);
    if stale > 0 {
        tracing::info!(files = stale, state_dir = %config.state_dir.display(), "removed temporary files a killed run left");
    }
    std::fs::create_dir_all(accept::folder(&config.state_dir)).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot create the folder of baseline requests: {e}",
            config.state_dir.display()
        )
    })?;
    let mut d = Daemon {
        config_path: config_path.clone(),
        config,
        policies,
        saved: state.clone(),
        state,
        settings,
        host,
        delivery,
        last_run,
        last_rescan: Instant::now(),
        applied: Vec::new(),
        includes: BTreeMap::new(),
        command_failed: BTreeMap::new(),
        unreadable: BTreeMap::new(),
        retry_at: None,
        write_failures: 0,
        last_write_error: None,
        metrics,
        metrics_server: None,
        textfile_written: None,
        textfile_error: None,
        last_assessment: None,
        poster,
        posted: None,
        busy: busy::Busy::default(),
        links: BTreeMap::new(),
    };
    if !once {
        d.listen_metrics()?;
    }

    let (tx, rx) = mpsc::channel::<Msg>();
    let fs_tx = tx.clone();
    // Raw notifications; the main loop waits for a burst to settle. (A
    // debouncer thread that ticks would use CPU while nothing happens.)
    let mut watcher =
        ::notify::recommended_watcher(move |res: ::notify::Result<::notify::Event>| match res {
            // Reading a file is an event too (open, close): only what changes
            // it counts, or every read would wake the next.
            Ok(event) if !matches!(event.kind, ::notify::EventKind::Access(_)) => {
                let _ = fs_tx.send(Msg::Changed(event.paths));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "file notification error; the periodic rescan covers it")
            }
        })?;
    let mut watched = watched::Watched::default();
    watched.update(&mut watcher, &folders(&d.config, &d.includes));
    // `driftwall baseline accept` leaves its requests here.
    {
        use ::notify::Watcher;
        let requests = accept::folder(&d.config.state_dir);
        if let Err(e) = watcher.watch(&requests, RecursiveMode::NonRecursive) {
            tracing::warn!(folder = %requests.display(), error = %e, "cannot watch the folder of baseline requests; the periodic rescan covers it");
        }
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    let handle = signals.handle();
    let sig_tx = tx.clone();
    let sig_busy = d.busy.clone();
    std::thread::spawn(move || {
        for s in signals.forever() {
            if sig_tx.send(Msg::Signal(s)).is_err() {
                break;
            }
            if s != signal_hook::consts::SIGHUP {
                stop_mid_assessment(&sig_busy);
            }
        }
    });
    feed_watchdog_while_assessing(&notifier, &d.busy);

    d.rescan();
    // The first reading found the includes: their folders are watched from
    // now on, and what changed in them meanwhile is read.
    let added = watched.update(&mut watcher, &folders(&d.config, &d.includes));
    d.read_includers(&added);
    d.flush(once);
    d.publish_metrics();
    if once {
        // One pass over the spool too, so a cron job delivers what it found.
        if let Some(email) = &d.config.email {
            let rt = alert::smtp::runtime()?;
            alert::delivery::pass(
                &spool::Spool::new(&d.config.state_dir),
                email,
                &d.host,
                &rt,
                &mut || false,
                &d.metrics.counters.email_failures,
            );
        }
        // And one posting to Alertmanager of the problems on.
        if let Some(am) = &d.config.alertmanager {
            let wanted = alertmanager::wanted(
                &alert::firing(&d.state.sources),
                &d.state.sources,
                &d.host,
                &d.accept_hint(),
            );
            postings::turn(
                &Postings::new(&d.config.state_dir),
                am,
                Some(&wanted),
                &counts,
                &mut 0,
            );
        }
        handle.close();
        // A cron job must hear that a source it names was not there.
        if !d.unreadable.is_empty() {
            for (source, why) in &d.unreadable {
                tracing::error!(source = %source, error = %why, "a watched source could not be read");
            }
            return Ok(2);
        }
        return Ok(0);
    }
    notifier.ready();
    notifier.status(&format!("watching {} source(s)", d.config.watch.len()));
    let watchdog = notifier.watchdog_interval();
    // Paths notified and not read yet, and when the last notification came:
    // a burst is read once it has been quiet for `debounce`.
    let mut dirty: BTreeSet<PathBuf> = BTreeSet::new();
    let mut last_notified: Option<Instant> = None;
    loop {
        // Also sends the state changes that found the socket full before.
        notifier.watchdog();
        let mut wake = d.next_wake(watchdog);
        if notifier.has_pending() {
            wake = wake.min(Duration::from_millis(50));
        }
        if let Some(t) = last_notified {
            wake = wake.min(d.config.debounce.saturating_sub(t.elapsed()));
        }
        match rx.recv_timeout(wake) {
            Ok(Msg::Changed(paths)) => {
                watched.forget(&mut watcher, &paths);
                let requests = accept::folder(&d.config.state_dir);
                if paths.iter().any(|p| p.starts_with(&requests)) {
                    d.take_requests();
                }
                dirty.extend(paths.into_iter().filter(|p| !p.starts_with(&requests)));
                if !dirty.is_empty() {
                    last_notified = Some(Instant::now());
                }
            }
            Ok(Msg::Signal(signal_hook::consts::SIGHUP)) => {
                notifier.reloading();
                match load_config(d.config_path.as_deref()) {
                    Ok((config, policies)) => {
                        log_startup(&config);
                        crate::fsutil::default_read_limit(config.max_source_size);
                        d.last_run = vec![None; config.watch.len()];
                        d.settings = alert_settings(&config, &d.host);
                        if let Some(del) = &d.delivery {
                            del.reconfigure(config.email.clone());
                        }
                        if let Some(p) = &d.poster {
                            p.reconfigure(config.alertmanager.clone());
                        }
                        // The poster hears the problems again, whatever it
                        // heard under the old configuration, and the
                        // textfile is written (perhaps to a new path).
                        d.posted = None;
                        d.textfile_written = None;
                        d.config = config;
                        d.policies = policies;
                        if let Err(e) = d.listen_metrics() {
                            tracing::error!(error = %e, "metrics are not served");
                        }
                        d.rescan();
                        tracing::info!("configuration reloaded");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the new configuration is not valid; the running one stays")
                    }
                }
                notifier.ready();
            }
            Ok(Msg::Signal(_)) => {
                notifier.stopping(Duration::from_secs(1));
                tracing::info!("stopping");
                // What is not due yet stays in the state, and goes out after the restart.
                d.flush(false);
                if let Some(del) = d.delivery.take() {
                    del.stop(Duration::from_secs(2));
                }
                if let Some(p) = d.poster.take() {
                    p.stop(Duration::from_secs(2));
                }
                if let Some(server) = d.metrics_server.take() {
                    server.stop();
                }
                handle.close();
                return Ok(0);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(1),
        }
        if last_notified.is_some_and(|t| t.elapsed() >= d.config.debounce) {
            last_notified = None;
            let paths = std::mem::take(&mut dirty);
            for w in d.config.watch.clone() {
                match w {
                    Watch::File { path, format } => {
                        // A notification names the file itself (written, or renamed over).
                        // Or a file in a folder its includes were looked for in
                        // (changed, added or removed), or such a folder itself.
                        let included = d.includes.get(&path);
                        if paths.iter().any(|p| {
                            p == &path
                                || (p.parent() == path.parent()
                                    && p.file_name() == path.file_name())
                                || included.is_some_and(|folders| {
                                    folders.contains(p)
                                        || p.parent().is_some_and(|dir| folders.contains(dir))
                                })
                        }) {
                            d.read_file(&path, format);
                        }
                    }
                    Watch::Ufw { dir, defaults } => {
                        // Any file of the folder, or the defaults file.
                        let defaults_file = ufw_defaults(&dir, defaults.as_deref());
                        if paths.iter().any(|p| {
                            p.parent() == Some(dir.as_path())
                                || p == &dir
                                || (p.parent() == defaults_file.parent()
                                    && p.file_name() == defaults_file.file_name())
                        }) {
                            d.read_ufw(&dir, defaults.as_deref());
                        }
                    }
                    Watch::Firewalld { dir, stock } => {
                        // Any file of the folder or of the stock folder, or
                        // a sub-folder made or removed.
                        let stock_dir = crate::input::firewalld_stock_dir(&dir, stock.as_deref());
                        if paths.iter().any(|p| {
                            p.starts_with(&dir)
                                || stock_dir.as_ref().is_some_and(|s| p.starts_with(s))
                        }) {
                            d.read_firewalld(&dir, stock.as_deref());
                        }
                    }
                    Watch::Command { .. } => {}
                }
            }
        }
        if d.last_rescan.elapsed() >= d.config.rescan_interval {
            d.rescan();
        }
        // A reading may have found other includes (or a reload other files).
        let added = watched.update(&mut watcher, &folders(&d.config, &d.includes));
        d.read_includers(&added);
        for i in 0..d.config.watch.len() {
            if let Watch::Command { interval, .. } = d.config.watch[i]
                && d.last_run[i].is_none_or(|t| t.elapsed() >= interval)
            {
                d.run_command(i);
            }
        }
        d.flush(false);
        d.publish_metrics();
    }
}

/// `driftwall baseline show|accept`.
pub fn baseline(
    config_path: Option<PathBuf>,
    accept: bool,
    source: Option<String>,
) -> anyhow::Result<String> {
    let config = read_config(config_path.as_deref())?;
    let mut state = State::load(&config.state_dir)?;
    if accept {
        let names: Vec<String> = state
            .sources
            .current
            .keys()
            .filter(|k| source.as_ref().is_none_or(|s| s == *k))
            .cloned()
            .collect();
        if names.is_empty() {
            anyhow::bail!(
                "nothing to accept: no current state{} in {}",
                source.map(|s| format!(" for {s}")).unwrap_or_default(),
                config.state_dir.display()
            );
        }
        let request = accept::Request {
            sources: names
                .iter()
                .map(|n| (n.clone(), state.sources.current[n].clone()))
                .collect(),
        };
        // For the running daemon, which would otherwise save its own
        // baseline over this one; and in the file, for when none runs.
        let left = accept::leave(&config.state_dir, &request)?;
        accept::apply(&mut state.sources, &request, "");
        state.save(&config.state_dir)?;
        return Ok(format!(
            "accepted as the baseline: {}\n(request {} for the running daemon)\n",
            names.join(", "),
            left.display()
        ));
    }
    let mut out = String::new();
    for (name, b) in &state.sources.baseline {
        let changed = state
            .sources
            .current
            .get(name)
            .is_some_and(|c| c.hash != b.hash);
        out.push_str(&format!(
            "{name}: {}{}\n",
            b.hash,
            if changed {
                " (the current text differs)"
            } else {
                ""
            }
        ));
        for r in &b.results {
            out.push_str(&format!(
                "  {:<13} {}/{}\n",
                r.status, r.policy, r.requirement
            ));
        }
    }
    if out.is_empty() {
        out = format!("no baseline yet in {}\n", config.state_dir.display());
    }
    Ok(out)
}
