//! The systemd notify protocol (`sd_notify(3)`), spoken by `driftwall watch`
//! under `Type=notify`.
//!
//! systemd passes the address of a datagram socket in `NOTIFY_SOCKET` (a path,
//! or `@name` for an abstract socket) and the service sends it newline-separated
//! `KEY=value` assignments: `READY=1` once the configuration is loaded and the
//! watches exist, `STATUS=` lines for `systemctl status`, `WATCHDOG=1` pings
//! from the main loop, `RELOADING=1` with `MONOTONIC_USEC=` when a SIGHUP
//! arrives (then `READY=1` again), and `STOPPING=1` on SIGTERM.
//!
//! Without `NOTIFY_SOCKET` (a terminal, a test, another service manager) the
//! notifier does nothing. A message that cannot be sent is logged, never fatal:
//! the audit matters more than the service manager's view of it.
//!
//! Sends never block. A datagram socket whose reader is busy (systemd under
//! load, a test that does not read) fills up, and a blocking send would stop
//! the main loop: changes unseen, alerts stalled. So the socket is
//! non-blocking; a `WATCHDOG=1` that does not fit is dropped (the next one
//! follows within half the timeout) and logged once per stretch of drops,
//! while state changes (`READY=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=`) are
//! kept in order and retried from the main loop ([`Notifier::retry`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A client of the service manager's notification socket.
#[derive(Debug)]
pub struct Notifier {
    /// Where messages go; `None` when not started by systemd with a notify
    /// socket, so that every message is dropped.
    target: Option<Target>,
    /// `WATCHDOG_USEC` when it is meant for this process: systemd kills the
    /// service when no `WATCHDOG=1` arrives within it.
    watchdog_timeout: Option<Duration>,
    /// State changes the socket had no room for, oldest first: sent before
    /// anything else, so systemd sees them in order.
    pending: RefCell<VecDeque<String>>,
    /// Whether a ping was dropped since the last one that went out, so that a
    /// full socket is logged once, not at every ping.
    dropping_pings: Cell<bool>,
    /// Never says that pings are dropped: a second notifier of the process
    /// (the watchdog's while an assessment runs) leaves that to the first.
    quiet: bool,
}

/// At most this many state changes wait for room; past it the oldest goes
/// (a later `READY=1` or `STATUS=` supersedes it anyway).
const MAX_PENDING: usize = 32;

/// What to do with a message the socket has no room for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Undelivered {
    /// Keep it and send it later, in order.
    Retry,
    /// Drop it: a newer one of the same kind will follow.
    Drop,
}

#[derive(Debug)]
struct Target {
    /// An unbound socket of our own, reused for every message.
    socket: UnixDatagram,
    address: SocketAddr,
    /// `NOTIFY_SOCKET` as given, for the log.
    name: OsString,
}

impl Notifier {
    /// The notifier systemd asks for through the environment: `NOTIFY_SOCKET`,
    /// and `WATCHDOG_USEC` (with `WATCHDOG_PID`, when set, naming this process).
    /// Without `NOTIFY_SOCKET`, or when it is unusable (which is logged), a
    /// notifier that does nothing.
    pub fn from_env() -> Notifier {
        let watchdog_timeout = watchdog_timeout(
            std::env::var_os("WATCHDOG_USEC").as_deref(),
            std::env::var_os("WATCHDOG_PID").as_deref(),
            std::process::id(),
        );
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(socket) if !socket.is_empty() => Notifier::with_socket(&socket, watchdog_timeout),
            _ => Notifier::disabled(),
        }
    }

    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog_timeout: None,
            pending: RefCell::new(VecDeque::new()),
            dropping_pings: Cell::new(false),
            quiet: false,
        }
    }

    /// This notifier, saying nothing of the pings a full socket drops.
    pub fn quiet(self) -> Notifier {
        Notifier {
            quiet: true,
            ..self
        }
    }

    /// A notifier for the socket named as in `NOTIFY_SOCKET` (an absolute path,
    /// or `@name` for an abstract socket), with the watchdog timeout systemd
    /// would give in `WATCHDOG_USEC`. A socket that cannot be used is logged and
    /// gives a notifier that sends nothing.
    pub fn with_socket(notify_socket: &OsStr, watchdog_timeout: Option<Duration>) -> Notifier {
        match Target::new(notify_socket) {
            Ok(target) => Notifier {
                target: Some(target),
                watchdog_timeout,
                ..Notifier::disabled()
            },
            Err(error) => {
                tracing::warn!(
                    notify_socket = %notify_socket.to_string_lossy(),
                    %error,
                    "cannot use the service manager's notify socket; readiness and watchdog are not reported"
                );
                Notifier::disabled()
            }
        }
    }

    /// Whether messages go anywhere (systemd gave a usable notify socket).
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// `READY=1`: the configuration is loaded and the watches exist (also after
    /// a reload).
    pub fn ready(&self) {
        self.send("READY=1", Undelivered::Retry);
    }

    /// `STATUS=...`: one line for `systemctl status`. Line breaks would start a
    /// new assignment, so they become spaces.
    pub fn status(&self, status: &str) {
        self.send(
            &format!("STATUS={}", status.replace(['\n', '\r'], " ")),
            Undelivered::Retry,
        );
    }

    /// `WATCHDOG=1`: the main loop is alive. Call it from the loop itself, so
    /// that a stuck loop stops the pings and systemd restarts the service.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1", Undelivered::Drop);
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (the time of the reload on
    /// `CLOCK_MONOTONIC`, by which systemd 253 and later tell this reload from
    /// an older one). Send `ready` when the reload is done, whether the new
    /// configuration was taken or refused.
    pub fn reloading(&self) {
        match monotonic_usec() {
            Some(usec) => self.send(
                &format!("RELOADING=1\nMONOTONIC_USEC={usec}"),
                Undelivered::Retry,
            ),
            None => self.send("RELOADING=1", Undelivered::Retry),
        }
    }

    /// `STOPPING=1`: shutting down. The main loop is ending, so this may wait
    /// a little (at most `patience`) for room, retrying what is pending.
    pub fn stopping(&self, patience: Duration) {
        self.send("STOPPING=1", Undelivered::Retry);
        let start = std::time::Instant::now();
        while !self.retry() && start.elapsed() < patience {
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.has_pending() {
            tracing::warn!(
                pending = self.pending.borrow().len(),
                "the service manager's notify socket stayed full; STOPPING=1 was not delivered"
            );
        }
    }

    /// Sends what waits for room, in order; true when nothing is left. The
    /// main loop calls it at every turn, and wakes soon while
    /// [`Notifier::has_pending`].
    pub fn retry(&self) -> bool {
        let Some(target) = &self.target else {
            return true;
        };
        let mut pending = self.pending.borrow_mut();
        while let Some(message) = pending.front() {
            match target.try_send(message) {
                Ok(()) => {
                    pending.pop_front();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(error) => {
                    target.log_failure(message, &error);
                    pending.pop_front();
                }
            }
        }
        true
    }

    /// Whether state changes wait for room in the socket.
    pub fn has_pending(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    /// How often to call [`Notifier::watchdog`]: half the timeout systemd set
    /// (`WatchdogSec=`), as `sd_watchdog_enabled(3)` recommends; `None` when
    /// no watchdog is asked for (or when there is no notify socket to ping).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.target.as_ref()?;
        self.watchdog_timeout.map(|timeout| timeout / 2)
    }

    fn send(&self, message: &str, undelivered: Undelivered) {
        let Some(target) = &self.target else { return };
        // Whatever waits goes first; behind it, a new message waits too.
        let result = if self.retry() {
            target.try_send(message)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        };
        match result {
            Ok(()) => {
                if undelivered == Undelivered::Drop {
                    self.dropping_pings.set(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match undelivered {
                Undelivered::Retry => {
                    let mut pending = self.pending.borrow_mut();
                    if pending.len() >= MAX_PENDING {
                        pending.pop_front();
                    }
                    pending.push_back(message.to_string());
                }
                Undelivered::Drop => {
                    if !self.dropping_pings.replace(true) && !self.quiet {
                        tracing::warn!(
                            notify_socket = %target.name.to_string_lossy(),
                            notification = message,
                            "the service manager's notify socket is full; pings are dropped until it has room"
                        );
                    }
                }
            },
            Err(error) => target.log_failure(message, &error),
        }
    }
}

impl Target {
    fn new(notify_socket: &OsStr) -> io::Result<Target> {
        let bytes = notify_socket.as_bytes();
        let address = match bytes.first() {
            Some(b'@') => SocketAddr::from_abstract_name(&bytes[1..])?,
            Some(b'/') => SocketAddr::from_pathname(notify_socket)?,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "expected an absolute path or @name of a unix datagram socket",
                ));
            }
        };
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Target {
            socket,
            address,
            name: notify_socket.to_owned(),
        })
    }

    /// One datagram, without waiting for room.
    fn try_send(&self, message: &str) -> io::Result<()> {
        self.socket
            .send_to_addr(message.as_bytes(), &self.address)
            .map(drop)
    }

    fn log_failure(&self, message: &str, error: &io::Error) {
        tracing::warn!(
            notify_socket = %self.name.to_string_lossy(),
            notification = message,
            %error,
            "cannot notify the service manager"
        );
    }
}

/// The watchdog timeout from `WATCHDOG_USEC`, if it is meant for this process:
/// `WATCHDOG_PID`, when set, must be our pid (the variables may have been
/// inherited from a parent that is the real service). Malformed values mean no
/// watchdog, and say so in the log.
fn watchdog_timeout(usec: Option<&OsStr>, pid: Option<&OsStr>, own_pid: u32) -> Option<Duration> {
    let usec = usec?;
    if let Some(pid) = pid {
        match pid.to_str().and_then(|pid| pid.parse::<u32>().ok()) {
            Some(pid) if pid == own_pid => {}
            Some(_) => return None,
            None => {
                tracing::warn!(watchdog_pid = %pid.to_string_lossy(), "WATCHDOG_PID is not a process id; no watchdog");
                return None;
            }
        }
    }
    match usec.to_str().and_then(|usec| usec.parse::<u64>().ok()) {
        Some(0) => None,
        Some(usec) => Some(Duration::from_micros(usec)),
        None => {
            tracing::warn!(watchdog_usec = %usec.to_string_lossy(), "WATCHDOG_USEC is not a number of microseconds; no watchdog");
            None
        }
    }
}

/// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares
/// `MONOTONIC_USEC` with. std's `Instant` reads this clock on Linux but does
/// not show its value.
fn monotonic_usec() -> Option<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call;
    // clock_gettime writes only into it.
    #[allow(unsafe_code)]
    let result = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    if result != 0 {
        return None;
    }
    let seconds = u64::try_from(now.tv_sec).ok()?;
    let nanos = u64::try_from(now.tv_nsec).ok()?;
    seconds.checked_mul(1_000_000)?.checked_add(nanos / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A socket standing in for systemd's, in a directory of its own.
    struct Manager {
        socket: UnixDatagram,
        dir: Option<PathBuf>,
        notify_socket: OsString,
    }

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    impl Manager {
        fn on_path() -> Manager {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("driftwall-notify-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("notify.sock");
            let socket = UnixDatagram::bind(&path).unwrap();
            Manager::new(socket, Some(dir), path.into_os_string())
        }

        fn on_abstract_name() -> Manager {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("driftwall-notify-test-{}-{n}", std::process::id());
            let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let socket = UnixDatagram::bind_addr(&address).unwrap();
            Manager::new(socket, None, format!("@{name}").into())
        }

        fn new(socket: UnixDatagram, dir: Option<PathBuf>, notify_socket: OsString) -> Manager {
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            Manager {
                socket,
                dir,
                notify_socket,
            }
        }

        fn notifier(&self, watchdog: Option<Duration>) -> Notifier {
            Notifier::with_socket(&self.notify_socket, watchdog)
        }

        fn receive(&self) -> String {
            let mut buffer = [0u8; 4096];
            let length = self
                .socket
                .recv(&mut buffer)
                .expect("a datagram from the notifier");
            String::from_utf8(buffer[..length].to_vec()).unwrap()
        }

        fn assert_nothing_pending(&self) {
            self.socket.set_nonblocking(true).unwrap();
            let mut buffer = [0u8; 4096];
            let pending = self.socket.recv(&mut buffer);
            assert!(
                pending.is_err(),
                "unexpected datagram {:?}",
                pending.map(|n| String::from_utf8_lossy(&buffer[..n]).into_owned())
            );
        }
    }

    impl Drop for Manager {
        fn drop(&mut self) {
            if let Some(dir) = &self.dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[test]
    fn every_message_is_one_exact_datagram() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(None);
        assert!(notifier.is_enabled());

        notifier.ready();
        assert_eq!(manager.receive(), "READY=1");
        notifier.status("watching 3 files; alerts to /var/lib/driftwall/outbox");
        assert_eq!(
            manager.receive(),
            "STATUS=watching 3 files; alerts to /var/lib/driftwall/outbox"
        );
        notifier.watchdog();
        assert_eq!(manager.receive(), "WATCHDOG=1");
        notifier.stopping(Duration::from_secs(1));
        assert_eq!(manager.receive(), "STOPPING=1");
        manager.assert_nothing_pending();
    }

    #[test]
    fn reloading_carries_the_monotonic_time_of_the_reload() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(None);
        let before = monotonic_usec().unwrap();
        notifier.reloading();
        let after = monotonic_usec().unwrap();

        let message = manager.receive();
        let (first, second) = message.split_once('\n').expect("two assignments");
        assert_eq!(first, "RELOADING=1");
        let usec: u64 = second
            .strip_prefix("MONOTONIC_USEC=")
            .expect("MONOTONIC_USEC=")
            .parse()
            .unwrap();
        assert!(
            before <= usec && usec <= after,
            "{before} <= {usec} <= {after}"
        );
    }

    #[test]
    fn a_status_with_line_breaks_stays_one_assignment() {
        let manager = Manager::on_path();
        manager
            .notifier(None)
            .status("parse error\nin /etc/nftables.conf\r\nline 3");
        assert_eq!(
            manager.receive(),
            "STATUS=parse error in /etc/nftables.conf  line 3"
        );
    }

    #[test]
    fn abstract_sockets_are_reached_by_their_at_name() {
        let manager = Manager::on_abstract_name();
        let notifier = manager.notifier(None);
        notifier.ready();
        assert_eq!(manager.receive(), "READY=1");
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(Some(Duration::from_secs(30)));
        assert_eq!(notifier.watchdog_interval(), Some(Duration::from_secs(15)));
        assert_eq!(manager.notifier(None).watchdog_interval(), None);
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_nothing_fails() {
        let notifier = Notifier::disabled();
        assert!(!notifier.is_enabled());
        notifier.ready();
        notifier.status("x");
        notifier.watchdog();
        notifier.reloading();
        notifier.stopping(Duration::from_secs(1));
        assert_eq!(notifier.watchdog_interval(), None);
    }

    #[test]
    fn an_unusable_socket_name_gives_a_silent_notifier() {
        let notifier = Notifier::with_socket(
            OsStr::new("relative/notify.sock"),
            Some(Duration::from_secs(30)),
        );
        assert!(!notifier.is_enabled());
        assert_eq!(notifier.watchdog_interval(), None);
    }

    #[test]
    fn a_vanished_socket_is_logged_not_fatal() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(None);
        let dir = manager.dir.clone().unwrap();
        drop(manager);
        assert!(!dir.exists());
        notifier.ready();
        notifier.watchdog();
    }

    /// Fills the manager's receive queue from a socket of its own, as a
    /// systemd that does not read would leave it.
    fn fill(manager: &Manager) -> usize {
        let filler = UnixDatagram::unbound().unwrap();
        filler.set_nonblocking(true).unwrap();
        let address = match &manager.dir {
            Some(dir) => SocketAddr::from_pathname(dir.join("notify.sock")).unwrap(),
            None => unreachable!("the tests fill path sockets"),
        };
        let mut sent = 0;
        while filler.send_to_addr(b"FILLER=1", &address).is_ok() {
            sent += 1;
            assert!(sent < 1_000_000, "the socket never fills");
        }
        sent
    }

    fn drain(manager: &Manager) -> Vec<String> {
        manager.socket.set_nonblocking(true).unwrap();
        let mut out = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = manager.socket.recv(&mut buffer) {
            out.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        }
        out
    }

    #[test]
    fn a_full_socket_never_blocks_and_state_changes_arrive_later_in_order() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(Some(Duration::from_secs(1)));
        let filled = fill(&manager);
        assert!(filled > 0);
        let start = std::time::Instant::now();
        notifier.ready();
        for _ in 0..100 {
            notifier.watchdog();
        }
        notifier.status("watching 1 source(s)");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "sending to a full socket blocked for {:?}",
            start.elapsed()
        );
        assert!(notifier.has_pending());
        assert!(!notifier.retry(), "still full");
        let received = drain(&manager);
        assert_eq!(received.len(), filled, "only the filler got in");
        assert!(notifier.retry(), "room again");
        assert!(!notifier.has_pending());
        // The pings that found no room are gone; the state changes are not.
        assert_eq!(
            drain(&manager),
            ["READY=1", "STATUS=watching 1 source(s)"],
            "in order, once each"
        );
        notifier.watchdog();
        assert_eq!(manager.receive(), "WATCHDOG=1");
    }

    #[test]
    fn stopping_waits_a_bounded_time_for_room() {
        let manager = Manager::on_path();
        let notifier = manager.notifier(None);
        fill(&manager);
        let start = std::time::Instant::now();
        notifier.stopping(Duration::from_millis(200));
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
        // Room made while it waits: it gets through, once.
        drain(&manager);
        fill(&manager);
        let stopping = Notifier::with_socket(&manager.notify_socket, None);
        let t = std::thread::spawn(move || stopping.stopping(Duration::from_secs(5)));
        manager.socket.set_nonblocking(false).unwrap();
        let mut received = Vec::new();
        while !received.iter().any(|m| m == "STOPPING=1") {
            received.push(manager.receive());
        }
        t.join().unwrap();
        received.extend(drain(&manager));
        assert_eq!(
            received.iter().filter(|m| *m == "STOPPING=1").count(),
            1,
            "{:?}",
            &received[received.len().saturating_sub(3)..]
        );
    }

    #[test]
    fn watchdog_timeout_follows_watchdog_usec_and_pid() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert_eq!(
            watchdog_timeout(os("30000000"), None, 42),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            watchdog_timeout(os("30000000"), os("42"), 42),
            Some(Duration::from_secs(30))
        );
        // Inherited from a parent that is the real service.
        assert_eq!(watchdog_timeout(os("30000000"), os("41"), 42), None);
        assert_eq!(watchdog_timeout(os("30000000"), os("pid"), 42), None);
        assert_eq!(watchdog_timeout(os("0"), None, 42), None);
        assert_eq!(watchdog_timeout(os("30s"), None, 42), None);
        assert_eq!(watchdog_timeout(None, os("42"), 42), None);
    }

    #[test]
    fn the_monotonic_clock_does_not_go_back() {
        let first = monotonic_usec().unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let second = monotonic_usec().unwrap();
        assert!(second >= first + 1_000, "{first} then {second}");
    }
}
