//! firewalld, started the way its own test suite starts it
//! (`src/tests/functions.at` in firewalld's repository): inside the firewall
//! namespace of the kernel harness, a private `dbus-daemon` of the test's own
//! configuration listening on an abstract unix socket (abstract sockets
//! belong to a network namespace, so no other namespace, the host's included,
//! can reach it), and `firewalld --nofork --nopid --system-config DIR
//! --default-config /usr/lib/firewalld` against a scratch configuration
//! directory, with `DBUS_SYSTEM_BUS_ADDRESS` naming the private bus. Ready is
//! when `firewall-cmd --state` says `running` on that bus.
//!
//! [`Firewalld`] stops both processes by their PIDs when dropped (SIGTERM,
//! then SIGKILL after a deadline), also while a failed test unwinds. Its log
//! is kept in the scratch folder: any line at WARNING or ERROR level throws
//! the configuration out, as `FWD_END_TEST` does.

use super::netns;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The stock definitions firewalld reads besides the configuration.
pub const DEFAULT_CONFIG: &str = "/usr/lib/firewalld";

/// The tools the firewalld tests need besides the kernel harness's own.
pub const TOOLS: &[&str] = &["firewalld", "firewall-cmd", "dbus-daemon", "nft", "setpriv"];

/// How long firewalld may take to come up (it is Python: about a second on
/// an idle machine, much more on a loaded one).
const START_WITHIN: Duration = Duration::from_secs(60);

/// How long a process has to exit after SIGTERM before it gets SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(10);

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Run before each daemon: should the test process die without unwinding
/// (SIGKILL, abort), the kernel sends SIGTERM to the daemons it started
/// (`setpriv --pdeathsig`, PR_SET_PDEATHSIG: when the thread that started
/// them ends), so none outlives the test. `setpriv` then executes the
/// daemon in its own process, which keeps the PID the test stops it by.
const ORPHAN_GUARD: &[&str] = &["setpriv", "--pdeathsig", "TERM", "--"];

/// The bus's own configuration: written fresh, as `functions.at` writes its
/// `dbus.conf`. Everyone may talk to everyone (only root runs in the
/// namespace, and only the test's processes know the bus), and root may own
/// firewalld's names. No `<fork/>`: the test keeps the daemon as its child
/// and stops it by its PID.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <auth>EXTERNAL</auth>
  <listen>unix:tmpdir=/tmp</listen>
  <policy context="default">
    <allow user="*"/>
    <allow send_type="signal"/>
    <allow send_type="method_call"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
    <allow send_destination="org.fedoraproject.FirewallD1"/>
    <allow send_destination="org.fedoraproject.FirewallD1.config"/>
  </policy>
  <policy user="root">
    <allow own="org.fedoraproject.FirewallD1"/>
    <allow own="org.fedoraproject.FirewallD1.config"/>
  </policy>
</busconfig>
"#;

/// A child process stopped by its PID when dropped.
struct Stopped {
    child: Child,
    what: &'static str,
}

impl Stopped {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM (firewalld then removes its rules, as it does on the host),
    /// SIGKILL if it is still there after [`STOP_WITHIN`].
    fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // Our own child, not reaped yet (try_wait said it runs), so the PID
        // is still its.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        if crate::support::wait_for(STOP_WITHIN, || self.exited()).is_none() {
            eprintln!("{} ({}) ignored SIGTERM; killing it", self.what, self.pid());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One firewalld and its private bus in a namespace.
pub struct Firewalld {
    // Field order is drop order: firewalld before its bus.
    daemon: Stopped,
    bus: Stopped,
    ns: String,
    bus_address: String,
    log: PathBuf,
}

impl Firewalld {
    /// Starts a bus and firewalld in `ns` on the configuration directory
    /// `config` (firewalld.conf, zones/, services/, policies/, ...), with
    /// its files (bus configuration, log) in `work`, and waits until
    /// firewalld runs. An error, with the log, if it does not come up or
    /// logs a WARNING or ERROR while starting.
    pub fn start(ns: &str, config: &Path, work: &Path) -> Result<Firewalld, String> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let bus_config = work.join(format!("dbus-{n}.conf"));
        std::fs::write(&bus_config, BUS_CONFIG)
            .map_err(|e| format!("cannot write {}: {e}", bus_config.display()))?;
        let name = format!("driftwall-firewalld-{}-{n}", std::process::id());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns])
            .args(ORPHAN_GUARD)
            .args(["dbus-daemon", "--nofork"])
            .arg(format!("--address=unix:abstract={name}"))
            .arg("--print-address=1")
            .arg(format!("--config-file={}", bus_config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // `ip netns exec` and `setpriv` execute the next program in their
        // own process: the PID is the bus's.
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start dbus-daemon: {e}"))?;
        let mut bus = Stopped {
            child,
            what: "dbus-daemon",
        };
        // The bus prints its address once it listens.
        let mut line = String::new();
        if let Some(out) = bus.child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let bus_address = line.trim().to_string();
        if !bus_address.starts_with(&format!("unix:abstract={name}")) {
            return Err(format!(
                "dbus-daemon did not come up in {ns} (it printed {line:?}, exit {:?})",
                bus.exited()
            ));
        }

        let log = work.join(format!("firewalld-{n}.log"));
        let console = work.join(format!("firewalld-{n}.out"));
        let console_file = std::fs::File::create(&console)
            .map_err(|e| format!("cannot create {}: {e}", console.display()))?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns])
            .args(ORPHAN_GUARD)
            .args(["firewalld", "--nofork", "--nopid"])
            .arg("--log-target")
            .arg("file")
            .arg("--log-file")
            .arg(&log)
            .arg("--system-config")
            .arg(config)
            .arg("--default-config")
            .arg(DEFAULT_CONFIG)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus_address)
            .stdin(Stdio::null())
            .stdout(
                console_file
                    .try_clone()
                    .map_err(|e| format!("cannot share {}: {e}", console.display()))?,
            )
            .stderr(console_file);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start firewalld: {e}"))?;
        let mut firewalld = Firewalld {
            daemon: Stopped {
                child,
                what: "firewalld",
            },
            bus,
            ns: ns.to_string(),
            bus_address,
            log,
        };
        let came_up = crate::support::wait_for(START_WITHIN, || {
            if let Some(status) = firewalld.daemon.exited() {
                return Some(Err(format!("firewalld exited ({status})")));
            }
            if !firewalld.log_problems().is_empty() {
                return Some(Err("firewalld complained while starting".to_string()));
            }
            // `running`, `not running` (no answer on the bus yet) or
            // `failed` (it came up, but could not apply the configuration).
            match firewalld.state().as_str() {
                "running" => Some(Ok(())),
                "failed" => Some(Err("firewalld says it failed".to_string())),
                _ => None,
            }
        });
        let problem = match came_up {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(e),
            None => Some(format!("firewalld not running within {START_WITHIN:?}")),
        };
        if problem.is_some() {
            firewalld.settle_log();
        }
        firewalld.check_log()?;
        if let Some(problem) = problem {
            let console = std::fs::read_to_string(&console).unwrap_or_default();
            return Err(format!(
                "{problem}\n--- firewalld log:\n{}--- its console:\n{console}",
                firewalld.log_text()
            ));
        }
        Ok(firewalld)
    }

    /// What `firewall-cmd --state` prints, whatever its exit code.
    pub fn state(&self) -> String {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, "firewall-cmd", "--state"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::null())
            .output()
            .map(|o| {
                // `running` goes to stdout, `not running` and `failed` to stderr.
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                text.trim().to_string()
            })
            .unwrap_or_default()
    }

    /// `firewall-cmd ARGS` on the private bus; its stdout.
    pub fn cmd(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "firewall-cmd"])
            .args(args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address);
        let out = netns::run(&mut cmd, None)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `nft ARGS` in firewalld's namespace; its stdout.
    pub fn nft(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "nft"]).args(args);
        let out = netns::run(&mut cmd, None)?;
        String::from_utf8(out.stdout).map_err(|e| format!("nft printed something not UTF-8: {e}"))
    }

    /// Waits (at most 3 s) until the log has not grown for half a second.
    /// A complaint comes in parts: firewalld logs that it falls back to the
    /// stock configuration, and only then the error that made it (naming
    /// the service or zone at fault). Stopped at the first line, it never
    /// logged the second (a CI run saw this).
    fn settle_log(&self) {
        let end = std::time::Instant::now() + Duration::from_secs(3);
        let mut last = self.log_text();
        let mut since = std::time::Instant::now();
        while std::time::Instant::now() < end && since.elapsed() < Duration::from_millis(500) {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.log_text();
            if now != last {
                last = now;
                since = std::time::Instant::now();
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})\n"))
    }

    /// The log's WARNING and ERROR lines (`DATE TIME LEVEL: ...`, the lines
    /// `FWD_END_TEST` fails a test for), and the out-of-band change notices
    /// it fails for too.
    pub fn log_problems(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|line| {
                let mut words = line.split_whitespace();
                let date = words.next().unwrap_or_default();
                let time = words.next().unwrap_or_default();
                let level = words.next().unwrap_or_default();
                let dated = !date.is_empty()
                    && date.chars().all(|c| c.is_ascii_digit() || c == '-')
                    && !time.is_empty()
                    && time.chars().all(|c| c.is_ascii_digit() || c == ':');
                (dated && (level.starts_with("ERROR") || level.starts_with("WARNING")))
                    || (line.contains("Detected permanent")
                        && line.contains("configuration change"))
            })
            .map(String::from)
            .collect()
    }

    /// An error with the whole log if it has a WARNING or ERROR line.
    pub fn check_log(&self) -> Result<(), String> {
        let problems = self.log_problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "firewalld logged {} WARNING/ERROR line(s), the configuration is thrown out:\n  {}\n--- the whole log:\n{}",
                problems.len(),
                problems.join("\n  "),
                self.log_text()
            ))
        }
    }

    /// The PIDs of firewalld and of its bus.
    pub fn pids(&self) -> (u32, u32) {
        (self.daemon.pid(), self.bus.pid())
    }

    /// Stops firewalld, then its bus (dropping does the same).
    pub fn stop(mut self) {
        self.daemon.stop();
        self.bus.stop();
    }
}

/// A PID still names a live process (not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}
