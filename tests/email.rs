//! Drift alert emails against a real SMTP server: aiosmtpd (tests/smtp/
//! server.py, from the virtual environment scripts/test makes) on
//! 127.0.0.1, with STARTTLS and AUTH required, a test CA made by the test,
//! and Maildir delivery. The daemon runs as a real process.
//!
//! Without the environment (`DRIFTWALL_TEST_PYTHON`) the tests skip with a
//! reason, and fail under `DRIFTWALL_REQUIRE_ALL`.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{DaemonLog, Scratch, root, signal, wait_exit, wait_for, watch};

const PASSWORD: &str = "correct horse";

/// The Python of the test environment, or why there is none.
fn python() -> Option<PathBuf> {
    let reason = match std::env::var_os("DRIFTWALL_TEST_PYTHON").map(PathBuf::from) {
        Some(p) if p.exists() => {
            let ok = Command::new(&p).args(["-c", "import aiosmtpd, cryptography"]).status().is_ok_and(|s| s.success());
            if ok {
                return Some(p);
            }
            format!("{} cannot import aiosmtpd and cryptography", p.display())
        }
        Some(p) => format!("DRIFTWALL_TEST_PYTHON={} does not exist", p.display()),
        None => "DRIFTWALL_TEST_PYTHON is not set (scripts/test makes the virtual environment with aiosmtpd and sets it)".into(),
    };
    support::skip(&reason);
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The SMTP server, killed when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start(py: &Path, dir: &Path, port: u16, extra: &[&str]) -> Server {
        let mut child = Command::new(py)
            .arg(root().join("tests/smtp/server.py"))
            .args(["--port", &port.to_string(), "--password", PASSWORD])
            .arg("--maildir")
            .arg(dir.join("maildir"))
            .arg("--certs")
            .arg(dir.join("certs"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        reader
            .read_line(&mut line)
            .expect("read the server's first line");
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        // Keep the pipe drained in the background.
        std::thread::spawn(move || for _ in reader.lines() {});
        Server { child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch folder with a watched copy of the example rules, and a
/// configuration that mails alerts through the test server.
struct Setup {
    py: PathBuf,
    dir: Scratch,
    port: u16,
    rules: Vec<PathBuf>,
    config: PathBuf,
}

/// HTTPS from the partner network: rejected in the example, allowed when the
/// reject is gone.
const REJECT: &str =
    "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n";

impl Setup {
    /// `alerts` is the YAML of the `alerts` block besides `email`, indented by two.
    fn new(name: &str, files: usize, alerts: &str) -> Option<Setup> {
        let py = python()?;
        let dir = Scratch::new(&format!("email-{name}"));
        std::fs::create_dir_all(dir.join("etc")).expect("scratch");
        let rules: Vec<PathBuf> = (0..files)
            .map(|i| dir.join(format!("etc/rules{i}.v4")))
            .collect();
        for r in &rules {
            std::fs::copy(root().join("examples/web-server.rules"), r).expect("copy example");
        }
        std::fs::write(dir.join("password"), format!("{PASSWORD}\n")).expect("password");
        let s = Setup {
            py,
            config: dir.join("driftwall.yaml"),
            port: free_port(),
            dir,
            rules,
        };
        // The CA exists before the daemon reads its configuration.
        drop(Server::start(&s.py, &s.dir, s.port, &[]));
        s.configure(alerts, "password");
        Some(s)
    }

    fn configure(&self, alerts: &str, password_file: &str) {
        let watch: String = self
            .rules
            .iter()
            .map(|r| format!("  - path: {}\n", r.display()))
            .collect();
        let text = format!(
            "watch:\n{watch}policies: [{policy}]\nstate_dir: {state}\ndebounce: 100ms\nrescan_interval: 200ms\nalerts:\n{alerts}  email:\n    from: driftwall@fw1.example.org\n    to: [netops@example.org]\n    smtp: {{host: 127.0.0.1, port: {port}, tls: starttls, username: driftwall, password_file: {pw}, ca_file: {ca}, timeout: 2s}}\n",
            policy = root().join("examples/web-server.policy.yaml").display(),
            state = self.dir.join("state").display(),
            port = self.port,
            pw = self.dir.join(password_file).display(),
            ca = self.dir.join("certs/ca.pem").display(),
        );
        std::fs::write(&self.config, text).expect("config");
    }

    fn server(&self) -> Server {
        Server::start(&self.py, &self.dir, self.port, &[])
    }

    fn daemon(&self, env: &[(&str, &str)]) -> Child {
        let mut cmd = watch(&self.config, &self.daemon_log());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start driftwall watch")
    }

    fn daemon_log(&self) -> DaemonLog {
        DaemonLog::new(self.dir.join("daemon.log"))
    }

    fn log(&self) -> String {
        self.daemon_log().text()
    }

    /// Waits until the daemon was awake through `span` (see
    /// [`DaemonLog::wait_span`]).
    fn wait_span(&self, span: Duration, what: &str) {
        self.daemon_log().wait_span(span, what)
    }

    /// The messages delivered, oldest first (parsed by Python's email package).
    fn mails(&self) -> Vec<Value> {
        let out = Command::new(&self.py)
            .arg(root().join("tests/smtp/read_maildir.py"))
            .arg(self.dir.join("maildir"))
            .output()
            .expect("read the Maildir");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .expect("json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// How many messages were delivered (cheap enough to poll).
    fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|d| {
                std::fs::read_dir(self.dir.join("maildir").join(d))
                    .map(|r| r.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    fn wait_mails(&self, n: usize, within: Duration, what: &str) -> Vec<Value> {
        wait_for(within, || Some(()).filter(|_| self.count() >= n))
            .map(|_| self.mails())
            .unwrap_or_else(|| {
                let m = self.mails();
                panic!(
                    "{what}: {} message(s) after {within:?}, expected {n}: {:#?}\n{}",
                    m.len(),
                    subjects(&m),
                    self.log()
                )
            })
    }

    /// The messages waiting in the spool.
    fn spool(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.dir.join("state/spool"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "json")
                && let Ok(v) =
                    serde_json::from_slice::<Value>(&std::fs::read(e.path()).unwrap_or_default())
            {
                out.push(v);
            }
        }
        out
    }

    /// Waits until the spool holds `n` messages.
    fn wait_spool(&self, n: usize, what: &str) {
        wait_for(Duration::from_secs(10), || {
            Some(()).filter(|_| self.spool().len() == n)
        })
        .unwrap_or_else(|| {
            panic!(
                "{what}: {} spooled, expected {n}: {:#?}\n{}",
                self.spool().len(),
                self.spool(),
                self.log()
            )
        });
    }

    /// A while later still exactly `n` messages delivered, none spooled.
    fn settled(&self, n: usize) {
        self.wait_span(Duration::from_millis(1500), "1.5 s after delivery");
        let m = self.mails();
        assert_eq!(m.len(), n, "{:#?}", subjects(&m));
        assert!(
            self.spool().is_empty(),
            "the spool is empty once the server accepted: {:#?}",
            self.spool()
        );
    }

    fn write_rules(&self, i: usize, text: &str) {
        let tmp = self.dir.join("etc/.tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, &self.rules[i]).expect("rename over");
    }

    fn example(&self) -> String {
        std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example")
    }
}

fn subjects(m: &[Value]) -> Vec<String> {
    m.iter()
        .map(|v| v["subject"].as_str().unwrap_or("").to_string())
        .collect()
}

fn stop(mut child: Child) {
    signal(&child, "TERM");
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(5)),
        Some(0),
        "SIGTERM stops the daemon within 5 s"
    );
}

fn kill9(mut child: Child) {
    signal(&child, "KILL");
    let _ = child.wait();
}

#[test]
fn a_drift_is_mailed_once_within_group_wait_with_subject_parts_and_content() {
    let Some(s) = Setup::new("deliver", 1, "  group_wait: 1s\n  group_interval: 1s\n") else {
        return;
    };
    let _server = s.server();
    let d = s.daemon(&[]);
    // The first reading: the example fails https-open, said once.
    let first = s.wait_mails(1, Duration::from_secs(10), "the first reading")[0].clone();
    let subject = first["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("[driftwall] ")
            && subject.ends_with(
                ": HTTPS (tcp 443 in) rejected – 1 requirement failing at the first reading"
            ),
        "{subject}"
    );
    assert_eq!(first["content_type"], "multipart/alternative");
    assert_eq!(
        first["parts"],
        serde_json::json!(["multipart/alternative", "text/plain", "text/html"])
    );
    let text = first["text"].as_str().unwrap();
    assert!(
        text.contains("policy web-server")
            && text.matches("web-server/https-open").count() == 1
            && text.contains("witness: tcp ")
            && text.contains("rules0.v4:12")
            && text.contains("REJECT"),
        "{text}"
    );
    // Drift: the reject is removed; the requirement recovers. First the
    // group_interval since the first message passes.
    s.wait_span(
        Duration::from_millis(1500),
        "group_interval after the first",
    );
    let t0 = Instant::now();
    s.write_rules(0, &s.example().replace(REJECT, ""));
    let mails = s.wait_mails(2, Duration::from_secs(10), "the drift");
    let took = t0.elapsed();
    println!(
        "measured: from the rename over the watched file to the message in the Maildir: {} ms (debounce 100 ms, group_wait 1 s)",
        took.as_millis()
    );
    assert!(
        took < Duration::from_secs(2),
        "within group_wait plus a second: {took:?}"
    );
    let drift = &mails[1];
    let subject = drift["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("[driftwall] ")
            && subject.ends_with(": HTTPS (tcp 443 in) allowed again – 1 requirement recovered"),
        "{subject}"
    );
    let text = drift["text"].as_str().unwrap();
    for want in [
        "policy web-server",
        "== HTTPS (tcp 443 inbound) is allowed again for 192.0.2.0/24\n",
        "requirement web-server/https-open\n",
        "rules0.v4: fail -> pass",
        "- ",
        "rules0.v4:12",
        "reject -> allow",
        "driftwall baseline accept --config",
    ] {
        assert!(text.contains(want), "`{want}` in the text part:\n{text}");
    }
    assert_eq!(text.matches("web-server/https-open").count(), 1, "{text}");
    let html = drift["html"].as_str().unwrap();
    assert!(
        html.contains("<table")
            && html.contains("web-server/https-open")
            && html.contains("&gt;")
            && html.contains("baseline accept"),
        "{html}"
    );
    // The same group: one thread.
    assert_eq!(drift["in_reply_to"], first["message_id"]);
    assert!(
        drift["references"]
            .as_str()
            .unwrap()
            .contains(first["message_id"].as_str().unwrap())
    );
    // Exactly one message per group, nothing after it.
    s.settled(2);
    stop(d);
}

#[test]
fn a_wrong_password_is_a_clear_error_and_the_alert_stays_in_the_spool() {
    let Some(s) = Setup::new("password", 1, "  group_wait: 0s\n") else {
        return;
    };
    std::fs::write(s.dir.join("wrong"), "hunter2\n").unwrap();
    s.configure("  group_wait: 0s\n", "wrong");
    let _server = s.server();
    let d = s.daemon(&[]);
    let entry = wait_for(Duration::from_secs(10), || {
        s.spool().into_iter().find(|e| e["last_error"].is_string())
    })
    .unwrap_or_else(|| panic!("no failed attempt in the spool:\n{}", s.log()));
    let error = entry["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("authentication: ") && error.contains("535"),
        "{error}"
    );
    assert!(
        s.log()
            .contains("delivery failed; the alert stays in the spool")
            && s.log().contains("535"),
        "{}",
        s.log()
    );
    assert!(s.mails().is_empty());
    // The right password and a reload: delivered, once.
    s.configure("  group_wait: 0s\n", "password");
    signal(&d, "HUP");
    let m = s.wait_mails(1, Duration::from_secs(10), "after the password is fixed");
    assert_eq!(m[0]["message_id"], entry["message_id"]);
    s.settled(1);
    stop(d);
}

#[test]
fn an_smtp_outage_during_drift_loses_nothing_and_repeats_nothing() {
    let Some(s) = Setup::new("outage", 1, "  group_wait: 0s\n  group_interval: 0s\n") else {
        return;
    };
    // No server yet: the alerts wait in the spool.
    let d = s.daemon(&[]);
    wait_for(Duration::from_secs(10), || {
        Some(()).filter(|_| s.spool().iter().any(|e| e["attempts"].as_u64() >= Some(1)))
    })
    .expect("a failed attempt");
    s.write_rules(0, &s.example().replace(REJECT, ""));
    s.wait_spool(2, "two alerts spooled");
    assert!(
        s.spool().iter().all(|e| e["last_error"]
            .as_str()
            .is_none_or(|t| t.starts_with("TCP connection: "))),
        "{:#?}",
        s.spool()
    );
    // Once both alerts met the outage, the server comes.
    wait_for(Duration::from_secs(15), || {
        Some(()).filter(|_| s.spool().iter().all(|e| e["attempts"].as_u64() >= Some(1)))
    })
    .expect("every alert tried");
    let _server = s.server();
    let mails = s.wait_mails(2, Duration::from_secs(15), "after the outage");
    assert_ne!(mails[0]["message_id"], mails[1]["message_id"]);
    s.settled(2);
    stop(d);
}

#[test]
fn kill_9_with_a_full_spool_then_a_restart_delivers_each_alert_once() {
    let Some(s) = Setup::new("kill9", 1, "  group_wait: 0s\n  group_interval: 0s\n") else {
        return;
    };
    let d = s.daemon(&[]);
    s.wait_spool(1, "the first reading spooled");
    s.write_rules(0, &s.example().replace(REJECT, ""));
    s.wait_spool(2, "the drift spooled");
    kill9(d);
    let ids: Vec<Value> = s.spool().iter().map(|e| e["message_id"].clone()).collect();
    let _server = s.server();
    let d = s.daemon(&[]);
    let mails = s.wait_mails(2, Duration::from_secs(15), "after the restart");
    for id in &ids {
        assert_eq!(
            mails.iter().filter(|m| m["message_id"] == *id).count(),
            1,
            "{id} delivered once"
        );
    }
    s.settled(2);
    stop(d);
}

#[test]
fn killed_between_the_servers_acceptance_and_the_spool_update_it_does_not_send_again() {
    let Some(s) = Setup::new("abort", 1, "  group_wait: 0s\n") else {
        return;
    };
    let _server = s.server();
    // Dies right after recording the acceptance, before taking the message
    // out of the spool: the worst moment for a kill -9.
    let mut d = s.daemon(&[("DRIFTWALL_FAULT_ABORT_AFTER_ACCEPT", "1")]);
    s.wait_mails(1, Duration::from_secs(10), "the first message");
    assert!(
        wait_exit(&mut d, Duration::from_secs(5)).is_some(),
        "the daemon aborted"
    );
    assert_eq!(s.spool().len(), 1, "left in the spool");
    let d = s.daemon(&[]);
    s.wait_spool(0, "the spool is cleaned");
    s.settled(1);
    assert!(s.log().contains("already delivered"), "{}", s.log());
    stop(d);
}

#[test]
fn a_server_that_never_greets_times_out_without_hanging_and_is_retried() {
    let Some(s) = Setup::new("hang", 1, "  group_wait: 0s\n  group_interval: 0s\n") else {
        return;
    };
    let hung = Server::start(&s.py, &s.dir, s.port, &["--never-greet"]);
    let d = s.daemon(&[]);
    let t0 = Instant::now();
    let entry = wait_for(Duration::from_secs(10), || {
        s.spool().into_iter().find(|e| e["last_error"].is_string())
    })
    .unwrap_or_else(|| panic!("no failed attempt:\n{}", s.log()));
    println!(
        "measured: first attempt against a server that never greets failed after {} ms (timeout 2 s)",
        t0.elapsed().as_millis()
    );
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap()
            .starts_with("timeout: "),
        "{entry}"
    );
    // The daemon goes on: it still notices drift meanwhile.
    s.write_rules(0, &s.example().replace(REJECT, ""));
    s.wait_spool(2, "the drift is spooled while the server hangs");
    drop(hung);
    let _server = s.server();
    s.wait_mails(
        2,
        Duration::from_secs(20),
        "retried once the server answers",
    );
    s.settled(2);
    stop(d);
}

/// A server that fails in the middle of DATA (`how`: the connection
/// dropped, or no answer ever): the attempt fails with a timeout or an
/// error, the message stays spooled, and it is delivered once, when the
/// server behaves.
fn failing_data_is_retried_and_delivered_once(how: &str) {
    let Some(s) = Setup::new(
        &format!("data-{how}"),
        1,
        "  group_wait: 0s\n  group_interval: 0s\n",
    ) else {
        return;
    };
    let failing = Server::start(&s.py, &s.dir, s.port, &["--fail-data", how]);
    let d = s.daemon(&[]);
    let entry = wait_for(Duration::from_secs(15), || {
        s.spool().into_iter().find(|e| e["last_error"].is_string())
    })
    .unwrap_or_else(|| panic!("no failed attempt:\n{}", s.log()));
    println!("measured: DATA {how}: {}", entry["last_error"]);
    let error = entry["last_error"].as_str().unwrap_or_default();
    let said = match how {
        "drop" => "closed the connection in the middle of the session",
        _ => "timeout: ",
    };
    assert!(error.contains(said), "{error}");
    assert!(
        s.mails().is_empty(),
        "nothing is delivered by the failing server"
    );
    drop(failing);
    let _server = s.server();
    s.wait_mails(
        1,
        Duration::from_secs(20),
        "retried once the server behaves",
    );
    s.settled(1);
    stop(d);
}

#[test]
fn a_connection_dropped_in_the_middle_of_data_is_retried_and_delivered_once() {
    failing_data_is_retried_and_delivered_once("drop");
}

#[test]
fn a_server_that_hangs_after_data_times_out_and_the_message_is_delivered_once() {
    failing_data_is_retried_and_delivered_once("hang");
}

#[test]
fn grouping_reminders_and_resolved_messages_follow_their_intervals() {
    let alerts = "  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 5s\n";
    let Some(s) = Setup::new("lifecycle", 2, alerts) else {
        return;
    };
    let _server = s.server();
    let t0 = Instant::now();
    let d = s.daemon(&[]);
    // Two files fail the same requirement: one message for the group.
    let m = s.wait_mails(1, Duration::from_secs(10), "the first reading");
    let text = m[0]["text"].as_str().unwrap();
    assert!(
        text.contains("rules0.v4") && text.contains("rules1.v4"),
        "both files in one message:\n{text}"
    );
    s.wait_span(Duration::from_millis(500), "half a second after the first");
    assert_eq!(s.mails().len(), 1);
    // Both files fixed within 300 ms: one resolved message, after group_interval.
    let fixed = s.example().replace(REJECT, "");
    let assessing = s.daemon_log().count("assessing");
    s.write_rules(0, &fixed);
    s.daemon_log()
        .wait_reading(assessing, fixed.len(), "the first file's fix assessed");
    s.write_rules(1, &fixed);
    let m = s.wait_mails(2, Duration::from_secs(10), "both fixed");
    let subject = m[1]["subject"].as_str().unwrap();
    assert!(
        subject
            .ends_with(": HTTPS (tcp 443 in) allowed again – 1 requirement recovered in 2 files"),
        "{subject}"
    );
    let text = m[1]["text"].as_str().unwrap();
    assert!(
        text.contains("rules0.v4: fail -> pass")
            && text.contains("rules1.v4: fail -> pass")
            && text.matches("web-server/https-open").count() == 1,
        "both files recovered, in one section:\n{text}"
    );
    // Broken again: an alert, then a reminder every repeat_interval, in the same thread.
    s.write_rules(0, &s.example());
    let m = s.wait_mails(3, Duration::from_secs(10), "broken again");
    let broke_at = Instant::now();
    let m4 = s.wait_mails(4, Duration::from_secs(10), "the reminder");
    let gap = broke_at.elapsed();
    println!(
        "measured: reminder {} ms after the alert (repeat_interval 5 s)",
        gap.as_millis()
    );
    assert!(
        m4[3]["subject"]
            .as_str()
            .unwrap()
            .contains("reminder: 1 requirement still failing"),
        "{}",
        m4[3]["subject"]
    );
    assert!(
        gap >= Duration::from_millis(4000) && gap < Duration::from_millis(6500),
        "{gap:?}"
    );
    assert!(
        m4[3]["references"]
            .as_str()
            .unwrap()
            .contains(m[2]["message_id"].as_str().unwrap())
    );
    // Fixed: resolved, and then quiet.
    s.write_rules(0, &fixed);
    let m = s.wait_mails(5, Duration::from_secs(10), "resolved");
    assert!(
        m[4]["subject"]
            .as_str()
            .unwrap()
            .ends_with("– 1 requirement recovered"),
        "{}",
        m[4]["subject"]
    );
    s.wait_span(Duration::from_secs(6), "over a repeat interval later");
    assert_eq!(
        s.mails().len(),
        5,
        "nothing after the resolved message: {:#?}",
        subjects(&s.mails())
    );
    println!("lifecycle test took {:?}", t0.elapsed());
    stop(d);
}

#[test]
fn a_parse_error_is_one_message_not_one_per_requirement() {
    let Some(s) = Setup::new(
        "parse",
        1,
        "  group_wait: 500ms\n  group_interval: 1s\n  repeat_interval: 3s\n",
    ) else {
        return;
    };
    let _server = s.server();
    let d = s.daemon(&[]);
    s.wait_mails(1, Duration::from_secs(10), "the first reading");
    // Every requirement of the file depends on it; the file stops parsing.
    s.write_rules(
        0,
        &(s.example().replace("COMMIT\n", "") + "-A INPUT --bogus\nCOMMIT\n"),
    );
    let m = s.wait_mails(2, Duration::from_secs(10), "the parse error");
    let subject = m[1]["subject"].as_str().unwrap();
    assert!(
        subject.contains("rules0.v4 does not parse") && !subject.contains("web-server"),
        "{subject}"
    );
    assert!(
        m[1]["text"].as_str().unwrap().contains("rules0.v4:"),
        "{}",
        m[1]["text"]
    );
    // While it does not parse, the requirement's reminders are held back
    // (the parse error's own reminder may come).
    s.wait_span(Duration::from_secs(4), "over a repeat interval later");
    let all = s.mails();
    assert!(
        all[2..]
            .iter()
            .all(|m| !m["subject"].as_str().unwrap().contains("web-server")),
        "{:#?}",
        subjects(&all)
    );
    stop(d);
}

#[test]
fn over_max_per_hour_the_overflow_is_one_digest() {
    let Some(s) = Setup::new(
        "digest",
        1,
        "  group_wait: 0s\n  group_interval: 0s\n  max_per_hour: 2\n",
    ) else {
        return;
    };
    let _server = s.server();
    // The hour is 15 s here, to see the digest: long enough that the four
    // variants below fall in the window of the first reading's message
    // even on a loaded machine (at 6 s the window could free before the
    // third was read, and the digest held one alert, not three).
    let d = s.daemon(&[("DRIFTWALL_RATE_WINDOW", "15s")]);
    s.wait_mails(1, Duration::from_secs(10), "the first reading");
    let fixed = s.example().replace(REJECT, "");
    let variants = [fixed.clone(), s.example(), fixed.clone(), s.example()];
    let t0 = Instant::now();
    for v in &variants {
        let assessing = s.daemon_log().count("assessing");
        s.write_rules(0, v);
        // Each variant is read on its own, not debounced with the next
        // (the two texts differ in length).
        s.daemon_log()
            .wait_reading(assessing, v.len(), "the variant assessed");
    }
    let m = s.wait_mails(2, Duration::from_secs(5), "the second message");
    assert!(t0.elapsed() < Duration::from_secs(4));
    assert_eq!(m.len(), 2, "the rest is held back");
    let m = s.wait_mails(3, Duration::from_secs(25), "the digest");
    let digest = &m[2];
    assert!(
        digest["subject"]
            .as_str()
            .unwrap()
            .contains("digest of 3 alerts"),
        "{}",
        digest["subject"]
    );
    let text = digest["text"].as_str().unwrap();
    // The three alerts in one story: the requirement once, with its three
    // changes in order, none dropped.
    assert_eq!(text.matches("driftwall on ").count(), 1, "{text}");
    assert!(text.contains("3 alerts were held back"), "{text}");
    assert_eq!(text.matches("web-server/https-open").count(), 1, "{text}");
    let history = text
        .lines()
        .find(|l| l.contains("rules0.v4: pass -> fail ("))
        .unwrap_or_else(|| panic!("the requirement's history:\n{text}"));
    assert_eq!(history.matches(" -> ").count(), 3, "{history}");
    s.wait_span(Duration::from_secs(1), "a second after the digest");
    assert_eq!(s.mails().len(), 3);
    stop(d);
}

#[test]
fn test_email_prints_the_answer_or_the_exact_reason() {
    let Some(s) = Setup::new("test-email", 1, "") else {
        return;
    };
    let run = |config: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
            .args(["test-email", "--config"])
            .arg(config)
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // Nothing listens yet.
    let (code, out) = run(&s.config);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("failed at TCP connection") && out.contains("refused"),
        "{out}"
    );
    let _server = s.server();
    let (code, out) = run(&s.config);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("accepted by 127.0.0.1:") && out.contains("250"),
        "{out}"
    );
    assert_eq!(s.mails().len(), 1);
    let variant = |name: &str, from: &str, to: &str| {
        let p = s.dir.join(name);
        std::fs::write(
            &p,
            std::fs::read_to_string(&s.config)
                .unwrap()
                .replace(from, to),
        )
        .unwrap();
        run(&p)
    };
    std::fs::write(s.dir.join("wrong"), "hunter2\n").unwrap();
    let (code, out) = variant("wrong.yaml", "password,", "wrong,");
    assert!(
        code == Some(2) && out.contains("failed at authentication") && out.contains("535"),
        "{out}"
    );
    let (code, out) = variant("rcpt.yaml", "to: [netops@", "to: [rejected@");
    assert!(
        code == Some(2) && out.contains("refused a recipient") && out.contains("550"),
        "{out}"
    );
    let (code, out) = variant("dns.yaml", "host: 127.0.0.1", "host: no-such-host.invalid");
    assert!(code == Some(2) && out.contains("failed at DNS"), "{out}");
    // An unknown CA: TLS fails, said so.
    let p = s.dir.join("noca.yaml");
    std::fs::write(
        &p,
        std::fs::read_to_string(&s.config).unwrap().replace(
            &format!(", ca_file: {}", s.dir.join("certs/ca.pem").display()),
            "",
        ),
    )
    .unwrap();
    let (code, out) = run(&p);
    assert!(
        code == Some(2) && out.contains("failed at TLS") && out.contains("certificate"),
        "{out}"
    );
}
