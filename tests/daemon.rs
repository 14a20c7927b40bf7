//! `driftwall watch` as a real process: files changed the ways tools change
//! them, signals, the systemd notify socket, and a kill -9 in the middle.

mod support;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::{DaemonLog, Scratch, root, signal, wait_exit, wait_until, watch};

struct Setup {
    dir: Scratch,
    rules: PathBuf,
    config: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir = Scratch::new(&format!("daemon-{name}"));
        std::fs::create_dir_all(dir.join("etc")).expect("scratch");
        let rules = dir.join("etc/rules.v4");
        std::fs::copy(root().join("examples/web-server.rules"), &rules).expect("copy example");
        let config = dir.join("driftwall.yaml");
        let text = format!(
            "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 150ms\nrescan_interval: 30s\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
            rules.display(),
            root().join("examples/web-server.policy.yaml").display(),
            dir.join("state").display()
        );
        std::fs::write(&config, text).expect("config");
        Setup { dir, rules, config }
    }

    fn log(&self) -> DaemonLog {
        DaemonLog::new(self.dir.join("daemon.log"))
    }

    fn start(&self, notify: Option<&Path>) -> Child {
        let mut cmd = watch(&self.config, &self.log());
        if let Some(sock) = notify {
            cmd.env("NOTIFY_SOCKET", sock)
                .env("WATCHDOG_USEC", "400000");
        }
        cmd.spawn().expect("start driftwall watch")
    }

    fn outbox(&self) -> PathBuf {
        self.dir.join("state/outbox")
    }

    /// The events in the outbox, as (id, kind).
    fn events(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = support::outbox_events(&self.dir.join("state"))
            .iter()
            .map(|ev| {
                (
                    ev["id"].as_str().unwrap_or("").to_string(),
                    ev["kind"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Waits until the outbox holds `n` events.
    fn wait_events(&self, n: usize, what: &str) -> Vec<(String, String)> {
        let start = Instant::now();
        loop {
            let ev = self.events();
            if ev.len() >= n {
                return ev;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{what}: {} events after 10 s, expected {n}: {ev:?}",
                ev.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many times a source was assessed, in every run so far.
    fn assessed(&self) -> usize {
        self.log().count("assessed")
    }

    fn wait_turn(&self, after: usize, what: &str) {
        self.log().wait_turn(after, what)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.rules).expect("rules")
    }
}

/// HTTPS from the partner network: rejected in the example, allowed when the
/// reject is gone. Each toggle changes a requirement's result.
const REJECT: &str =
    "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n";

#[test]
fn every_way_tools_write_a_file_is_noticed() {
    let s = Setup::new("writes");
    let mut child = s.start(None);
    // First reading: the failing requirement is reported once.
    let ev = s.wait_events(1, "first reading");
    assert_eq!(ev[0].1, "failing-at-start");
    let open = s.text().replace(REJECT, "");
    let closed = s.text();
    let mut expected = 1;
    // Rename over (editors, config management).
    let tmp = s.dir.join("etc/.rules.v4.tmp");
    std::fs::write(&tmp, &open).unwrap();
    std::fs::rename(&tmp, &s.rules).unwrap();
    expected += 2; // the requirement passes now, and the file differs from its baseline
    s.wait_events(expected, "rename over");
    // Truncate and write in place (`iptables-save > file`).
    std::fs::write(&s.rules, &closed).unwrap();
    expected += 1; // back to failing; the text equals the baseline again
    s.wait_events(expected, "truncate and write");
    // Remove and recreate.
    let gone = s.log().count("not readable");
    std::fs::remove_file(&s.rules).unwrap();
    wait_until(Duration::from_secs(10), "the removal seen", || {
        (s.log().count("not readable") > gone).then_some(())
    });
    std::fs::write(&s.rules, &open).unwrap();
    let ev = s.wait_events(expected + 1, "remove and recreate");
    expected = ev.len();
    // sed -i.
    let sed = Command::new("sed")
        .args(["-i", "s/--dport 123 -j ACCEPT/--dport 123 -j DROP/"])
        .arg(&s.rules)
        .status()
        .expect("sed");
    assert!(sed.success());
    s.wait_events(expected + 1, "sed -i");
    // A touch without change is no event.
    let before = s.events().len();
    let assessed = s.assessed();
    Command::new("touch").arg(&s.rules).status().expect("touch");
    s.wait_turn(assessed, "the touch assessed");
    assert_eq!(s.events().len(), before, "a touch is no event");
    let kinds: Vec<String> = s.events().into_iter().map(|(_, k)| k).collect();
    assert!(
        kinds.contains(&"requirement-changed".to_string())
            && kinds.contains(&"ruleset-changed".to_string()),
        "{kinds:?}"
    );
    signal(&child, "TERM");
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(5)),
        Some(0),
        "SIGTERM stops it within 5 s"
    );
    // The state on disk holds the last text.
    let state = support::saved_state(&s.dir.join("state"));
    let key = s.rules.display().to_string();
    assert_eq!(
        state["current"][&key]["text"].as_str(),
        Some(s.text().as_str())
    );
}

/// Bytes of every file under `dir`, and how many there are.
fn du(dir: &Path) -> (u64, usize) {
    let mut total = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            let (b, n) = du(&p);
            total = (total.0 + b, total.1 + n);
        } else if let Ok(m) = p.metadata() {
            total = (total.0 + m.len(), total.1 + 1);
        }
    }
    total
}

/// Issue 18: the state held a full copy of every watched file, and its
/// baseline another, in one JSON file rewritten at every save (a 102 MB
/// state for a 100 MB file). Now each distinct text is kept once, in
/// `texts/`, and the state file names it.
#[test]
fn the_state_keeps_each_text_once_beside_a_small_state_file() {
    let s = Setup::new("textonce");
    // 8 MB of comments around the example's rules: cheap to assess, big to keep.
    let pad = "# padding padding padding padding padding padding padding pad\n".repeat(128 * 1024);
    let big = format!("{pad}{}", s.text());
    std::fs::write(&s.rules, &big).unwrap();
    let state = s.dir.join("state");
    let mut child = s.start(None);
    s.wait_events(1, "first reading");
    s.wait_turn(0, "the first turn");
    let state_file = std::fs::metadata(state.join("state.json")).unwrap().len();
    let (texts, files) = du(&state.join("texts"));
    assert_eq!(
        (texts, files),
        (big.len() as u64, 1),
        "one copy of the text for the current state and the baseline"
    );
    assert!(state_file < 64 * 1024, "state.json is {state_file} bytes");
    // A change keeps the baseline's text and the new one; accepting it
    // leaves the new one alone.
    let changed = big.replace(REJECT, "");
    std::fs::write(&s.rules, &changed).unwrap();
    s.wait_events(2, "the change");
    let turns = s.log().count("flushed");
    wait_until(Duration::from_secs(10), "two texts kept", || {
        (du(&state.join("texts")) == ((big.len() + changed.len()) as u64, 2)).then_some(())
    });
    // The texts are written before the state file that names them, and
    // `baseline accept` accepts the state as saved: wait for the saved
    // state to hold the change, or the command accepts the old one (as a
    // loaded CI machine once showed).
    let key = s.rules.display().to_string();
    wait_until(Duration::from_secs(10), "the change saved", || {
        let saved = support::saved_state(&state);
        (saved["current"][&key]["text"].as_str() == Some(changed.as_str())).then_some(())
    });
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["baseline", "accept", "--config"])
        .arg(&s.config)
        .output()
        .expect("baseline accept");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(Duration::from_secs(10), "the old text removed", || {
        (du(&state.join("texts")) == (changed.len() as u64, 1)).then_some(())
    });
    assert!(s.log().count("flushed") > turns);
    let saved = support::saved_state(&state);
    assert_eq!(
        saved["baseline"][&key]["text"].as_str(),
        Some(changed.as_str())
    );
    assert_eq!(
        saved["current"][&key]["text"].as_str(),
        Some(changed.as_str())
    );
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn a_file_that_stops_parsing_is_an_event_and_the_last_good_state_stays() {
    let s = Setup::new("parse");
    let mut child = s.start(None);
    s.wait_events(1, "first reading");
    std::fs::write(&s.rules, s.text() + "-A INPUT --bogus\n").unwrap();
    let ev = s.wait_events(2, "parse error");
    assert!(ev.iter().any(|(_, k)| k == "parse-error"), "{ev:?}");
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    let state = support::saved_state(&s.dir.join("state"));
    let cur = &state["current"][s.rules.display().to_string()];
    assert!(
        cur["error"]
            .as_str()
            .is_some_and(|e| e.contains("rules.v4:19:1")),
        "{cur}"
    );
    assert!(
        !cur["text"].as_str().unwrap_or("").contains("--bogus"),
        "the last good text stays"
    );
}

#[test]
fn after_kill_9_the_baseline_is_intact_and_no_event_is_lost_or_repeated() {
    let s = Setup::new("kill9");
    let mut child = s.start(None);
    s.wait_events(1, "first reading");
    let state_path = s.dir.join("state/state.json");
    // The state is written right after the alert (never before it).
    let start = Instant::now();
    while !state_path.exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let baseline = |p: &Path| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(p).unwrap()).unwrap()["baseline"]
            .clone()
    };
    let base = baseline(&state_path);
    signal(&child, "KILL");
    let _ = child.wait();
    // Changed while the daemon is down: found at the next start, once.
    std::fs::write(&s.rules, s.text().replace(REJECT, "")).unwrap();
    let mut child = s.start(None);
    let ev = s.wait_events(3, "change while down");
    // The state is saved in the turn that wrote the events.
    s.wait_turn(0, "the turn of the change");
    signal(&child, "KILL");
    let _ = child.wait();
    // A restart with nothing new repeats nothing.
    let assessed = s.assessed();
    let mut child = s.start(None);
    s.wait_turn(assessed, "the first reading after the restart");
    assert_eq!(s.events(), ev, "no event is repeated after kill -9");
    assert_eq!(baseline(&state_path), base, "the baseline is intact");
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    // Accepting makes the current text the baseline.
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["baseline", "accept", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(baseline(&state_path), base);
    let show = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["baseline", "show", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&show.stdout).contains("pass          web-server/https-open"),
        "{}",
        String::from_utf8_lossy(&show.stdout)
    );
}

/// Reads notify datagrams until one contains `what`.
fn expect_notify(sock: &UnixDatagram, what: &str) -> String {
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg.contains(what) {
                return msg;
            }
        }
    }
    panic!("no `{what}` on the notify socket within 10 s");
}

#[test]
fn systemd_notify_reload_and_stop() {
    let s = Setup::new("notify");
    let sock_path = s.dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind the notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut child = s.start(Some(&sock_path));
    expect_notify(&sock, "READY=1");
    expect_notify(&sock, "WATCHDOG=1");
    // A good configuration: reloading, then ready again.
    signal(&child, "HUP");
    let msg = expect_notify(&sock, "RELOADING=1");
    assert!(msg.contains("MONOTONIC_USEC="), "{msg}");
    expect_notify(&sock, "READY=1");
    // A broken one: the running configuration stays, and the daemon too.
    let good = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, good.clone() + "colour: red\n").unwrap();
    signal(&child, "HUP");
    expect_notify(&sock, "RELOADING=1");
    expect_notify(&sock, "READY=1");
    assert!(
        child.try_wait().unwrap().is_none(),
        "a bad configuration does not stop the daemon"
    );
    // It still watches with the configuration it had.
    let before = s.events().len();
    std::fs::write(&s.rules, s.text().replace(REJECT, "")).unwrap();
    s.wait_events(before + 1, "after a refused reload");
    signal(&child, "TERM");
    expect_notify(&sock, "STOPPING=1");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

/// Regression: notify messages were sent with a blocking send, so a notify
/// socket nobody read (systemd busy) stopped the main loop.
#[test]
fn a_full_notify_socket_stops_nothing() {
    let s = Setup::new("notify-full");
    let sock_path = s.dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind the notify socket");
    // Fill the socket's queue before the daemon starts, and read nothing.
    let filler = UnixDatagram::unbound().unwrap();
    filler.set_nonblocking(true).unwrap();
    let mut filled = 0;
    while filler.send_to(b"FILLER=1", &sock_path).is_ok() {
        filled += 1;
    }
    assert!(filled > 0);
    let mut child = s.start(Some(&sock_path));
    // File changes are still seen, and their alerts still written.
    s.wait_events(1, "first reading with a full notify socket");
    std::fs::write(&s.rules, s.text().replace(REJECT, "")).unwrap();
    s.wait_events(3, "a change with a full notify socket");
    // The pings that found no room were dropped and logged once.
    let drops = s
        .log()
        .messages()
        .iter()
        .filter(|m| m.contains("notify socket is full"))
        .count();
    assert_eq!(drops, 1, "{}", s.log().text());
    // Room again: READY=1, held back until now, arrives, then the pings.
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..filled {
        sock.recv(&mut buf).expect("a filler datagram");
    }
    let msg = expect_notify(&sock, "=");
    assert_eq!(msg, "READY=1", "the first message after the filler");
    expect_notify(&sock, "WATCHDOG=1");
    signal(&child, "TERM");
    expect_notify(&sock, "STOPPING=1");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn the_live_ruleset_is_compared_with_its_file() {
    let s = Setup::new("live");
    let file = s.dir.join("etc/nftables.conf");
    let live = s.dir.join("live.nft");
    std::fs::copy(root().join("examples/web-server.nft"), &file).unwrap();
    std::fs::copy(root().join("examples/web-server.nft"), &live).unwrap();
    let config = format!(
        "watch:\n  - path: {f}\n  - command: [cat, {l}]\n    format: nftables\n    interval: 200ms\n    compare_with: {f}\npolicies: [{p}]\nstate_dir: {st}\ndebounce: 100ms\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
        f = file.display(),
        l = live.display(),
        p = root().join("examples/web-server.policy.yaml").display(),
        st = s.dir.join("state").display()
    );
    std::fs::write(&s.config, config).unwrap();
    let mut child = s.start(None);
    // The example fails two requirements: reported once per source, and the
    // kernel's copy equals the file, so no difference.
    s.wait_turn(1, "the file and the command read");
    let at_start = s.events();
    assert!(
        at_start.iter().all(|(_, k)| k == "failing-at-start"),
        "{at_start:?}"
    );
    // Someone loads a rule by hand: the kernel now differs from the file.
    let text = std::fs::read_to_string(&live).unwrap().replace(
        "\t\tudp dport 123 accept\n",
        "\t\tudp dport 123 accept\n\t\ttcp dport 23 accept\n",
    );
    std::fs::write(&live, text).unwrap();
    let ev = s.wait_events(at_start.len() + 1, "live differs");
    assert!(ev.iter().any(|(_, k)| k == "live-differs"), "{ev:?}");
    // Run after run, the same difference is not reported again.
    let assessed = s.assessed();
    s.wait_turn(assessed + 2, "two more runs of the command");
    assert_eq!(
        s.events()
            .iter()
            .filter(|(_, k)| k == "live-differs")
            .count(),
        1
    );
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn the_example_configuration_is_valid() {
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["baseline", "show", "--config"])
        .arg(root().join("examples/driftwall.yaml"))
        .output()
        .unwrap();
    // Reading the state may fail here (no /var/lib/driftwall), but never the configuration.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("driftwall.yaml:"), "{err}");
}

/// The messages in the outbox, as their JSON.
fn messages(s: &Setup) -> Vec<serde_json::Value> {
    std::fs::read_dir(s.outbox())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .collect()
}

#[test]
fn accepting_while_the_daemon_runs_holds_and_ends_the_reminders() {
    let s = Setup::new("accept");
    // Reminders every second, so their end is seen; a rescan every 300 ms,
    // so the daemon's turns show that time passed with no reminder.
    let config = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("rescan_interval: 30s", "rescan_interval: 300ms")
        + "  repeat_interval: 1s\n";
    std::fs::write(&s.config, config).unwrap();
    let mut child = s.start(None);
    s.wait_events(1, "first reading");
    let reminded = support::wait_for(Duration::from_secs(10), || {
        Some(()).filter(|_| messages(&s).len() >= 2)
    });
    assert!(
        reminded.is_some(),
        "a failing requirement is reminded: {:#?}",
        messages(&s)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["baseline", "accept", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The daemon takes the request: one message says so, and the alert ends.
    let ev = support::wait_for(Duration::from_secs(10), || {
        Some(s.events()).filter(|e| e.iter().any(|(_, k)| k == "baseline-accepted"))
    })
    .expect("the acceptance is told");
    let told = messages(&s)
        .into_iter()
        .find(|m| {
            m["notices"][0]["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "baseline-accepted")
        })
        .unwrap();
    assert!(
        told["notices"][0]["resolved"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["summary"]
                .as_str()
                .unwrap()
                .starts_with("web-server/https-open ")),
        "{told:#}"
    );
    // The turn that took the request ends; then over two repeat intervals
    // go by, the daemon awake, without a reminder.
    let assessed = s.assessed();
    s.wait_turn(assessed, "the turn after the acceptance");
    let settled = messages(&s).len();
    s.log()
        .wait_span(Duration::from_millis(2500), "2.5 s of turns after it");
    assert_eq!(
        messages(&s).len(),
        settled,
        "no reminder after the acceptance"
    );
    assert_eq!(s.events(), ev);
    // The daemon's own saves keep the accepted baseline; the request is gone.
    let state = support::saved_state(&s.dir.join("state"));
    assert_eq!(
        state["baseline"][s.rules.display().to_string()]["accepted"],
        true,
        "{state:#}"
    );
    assert_eq!(
        std::fs::read_dir(s.dir.join("state/accept"))
            .unwrap()
            .count(),
        0
    );
    // What breaks anew is alerted on again.
    std::fs::write(
        &s.rules,
        s.text().replace(
            "-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n",
            "",
        ),
    )
    .unwrap();
    support::wait_for(Duration::from_secs(10), || {
        Some(()).filter(|_| messages(&s).len() > settled)
    })
    .expect("a new failure is mailed");
    let new = s
        .events()
        .into_iter()
        .filter(|e| !ev.contains(e))
        .map(|(_, k)| k)
        .collect::<Vec<_>>();
    assert!(new.contains(&"requirement-changed".to_string()), "{new:?}");
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}
