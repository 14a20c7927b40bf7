//! driftwall in a fleet, against the real engines (issue 20): the daemon
//! as a process with `/metrics` and `alerts.alertmanager`, a real
//! Prometheus (Debian's 2.42) scraping it every second with the shipped
//! rules, and a real Alertmanager (0.25) that both post to, all on
//! 127.0.0.1. And promtool on what we ship and what we serve.
//!
//! Every process a test starts is its child, started through `setpriv
//! --pdeathsig TERM` (so a test killed outright takes them along) and
//! stopped by its PID by a guard that also runs while a failing test
//! unwinds.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{DaemonLog, Scratch, root, skip, wait_until, watch};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// The tools, or `None` after [`skip`] said which is missing.
fn tools(which: &[&str]) -> Option<()> {
    for t in which {
        if !Path::new(t).is_file() {
            skip(&format!(
                "{t} not found (Debian's prometheus and prometheus-alertmanager; scripts/test installs them)"
            ));
            return None;
        }
    }
    Some(())
}

/// A process the test started, stopped by its PID when dropped: SIGTERM,
/// then SIGKILL if it has not ended within 10 s.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { name, child }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("{} (pid {pid}) did not stop on SIGTERM: killed", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `argv` run through `setpriv --pdeathsig TERM` where setpriv exists.
fn command(argv0: &str) -> Command {
    if Path::new("/usr/bin/setpriv").is_file() {
        let mut c = Command::new("/usr/bin/setpriv");
        c.args(["--pdeathsig", "TERM", argv0]);
        c
    } else {
        Command::new(argv0)
    }
}

/// A port free on 127.0.0.1 now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("its address").port()
}

/// A GET on 127.0.0.1: status and body, or `None` if nothing answers.
fn get(port: u16, target: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    // Prometheus and Alertmanager answer in chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn json(port: u16, target: &str) -> Option<serde_json::Value> {
    let (status, body) = get(port, target)?;
    (status == 200).then(|| serde_json::from_str(&body).ok())?
}

/// Percent-encoding of a query string value.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The series a PromQL query gives now.
fn query(prom: u16, q: &str) -> Vec<serde_json::Value> {
    json(prom, &format!("/api/v1/query?query={}", encode(q)))
        .and_then(|v| v["data"]["result"].as_array().cloned())
        .unwrap_or_default()
}

/// The alerts Alertmanager holds now (active ones: resolved ones are not listed).
fn alerts(am: u16) -> Vec<serde_json::Value> {
    json(am, "/api/v2/alerts")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn named<'a>(alerts: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] == name)
        .collect()
}

/// HTTPS from the partner network, rejected by this line of the example.
const REJECT: &str =
    "-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n";

struct Fleet {
    dir: Scratch,
    rules: PathBuf,
    config: PathBuf,
    metrics: u16,
    prom: u16,
    am: u16,
    // Dropped last to first: the daemon, Prometheus, then Alertmanager.
    procs: Vec<Proc>,
}

impl Fleet {
    fn log(&self) -> DaemonLog {
        DaemonLog::new(self.dir.join("daemon.log"))
    }

    /// Stops the daemon (SIGTERM, by its PID) and starts it again.
    fn restart_daemon(&mut self) {
        let daemon = self.procs.pop().expect("the daemon");
        assert_eq!(daemon.name, "driftwall");
        drop(daemon);
        self.procs.push(Proc {
            name: "driftwall",
            child: watch(&self.config, &self.log())
                .spawn()
                .expect("start driftwall watch again"),
        });
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
    }
}

/// Alertmanager, Prometheus with the shipped rules, and the daemon on a
/// copy of the web-server example with its HTTPS reject taken out (so
/// every requirement passes at first).
fn start_fleet(name: &str) -> Fleet {
    let dir = Scratch::new(&format!("fleet-{name}"));
    let (metrics, prom, am) = (free_port(), free_port(), free_port());
    let mut procs = Vec::new();

    std::fs::write(
        dir.join("alertmanager.yml"),
        "route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: none\n",
    )
    .expect("alertmanager.yml");
    let am_log = std::fs::File::create(dir.join("alertmanager.log")).expect("log");
    procs.push(Proc::spawn(
        "alertmanager",
        command(ALERTMANAGER)
            .arg(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{am}"))
            // No gossip: a cluster of one, on no other port.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(am_log),
    ));

    let rules_file = root().join("examples/prometheus/driftwall.rules.yml");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"127.0.0.1:{am}\"]\nscrape_configs:\n  - job_name: driftwall\n    static_configs:\n      - targets: [\"127.0.0.1:{metrics}\"]\n",
            rules_file.display()
        ),
    )
    .expect("prometheus.yml");
    let prom_log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
    procs.push(Proc::spawn(
        "prometheus",
        command(PROMETHEUS)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("prom-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom}"))
            .stdout(Stdio::null())
            .stderr(prom_log),
    ));

    std::fs::create_dir_all(dir.join("etc")).expect("etc");
    let rules = dir.join("etc/rules.v4");
    let example =
        std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example");
    assert!(example.contains(REJECT), "the example still has its reject");
    std::fs::write(&rules, example.replace(REJECT, "")).expect("rules");
    let config = dir.join("driftwall.yaml");
    std::fs::write(
        &config,
        format!(
            "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 100ms\nrescan_interval: 30s\nmetrics:\n  listen: 127.0.0.1:{metrics}\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n  alertmanager:\n    url: http://127.0.0.1:{am}\n    resend_interval: 2s\n",
            rules.display(),
            root().join("examples/web-server.policy.yaml").display(),
            dir.join("state").display()
        ),
    )
    .expect("config");
    let log = DaemonLog::new(dir.join("daemon.log"));
    procs.push(Proc {
        name: "driftwall",
        child: watch(&config, &log).spawn().expect("start driftwall watch"),
    });
    let fleet = Fleet {
        dir,
        rules,
        config,
        metrics,
        prom,
        am,
        procs,
    };
    let ready = |port: u16| get(port, "/-/ready").is_some_and(|(s, _)| s == 200);
    wait_until(Duration::from_secs(60), "Alertmanager ready", || {
        ready(am).then_some(())
    });
    wait_until(Duration::from_secs(60), "Prometheus ready", || {
        ready(prom).then_some(())
    });
    fleet.log().wait_turn(0, "the daemon's first reading");
    fleet
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds since the epoch of an RFC 3339 time (`2026-12-07T03:01:02.5Z`,
/// or with Alertmanager's nanoseconds).
fn rfc3339_secs(t: &str) -> f64 {
    let (date, time) = t.trim_end_matches('Z').split_once('T').expect("a time");
    let mut d = date.split('-').map(|n| n.parse::<i64>().expect("date"));
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut parts = time.split(':').map(|n| n.parse::<f64>().expect("time"));
    let (h, min, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s
}

#[test]
fn a_broken_rule_reaches_prometheus_and_alertmanager_and_both_resolve() {
    if tools(&[PROMETHEUS, ALERTMANAGER]).is_none() {
        return;
    }
    let mut f = start_fleet("e2e");
    let pass = r#"driftwall_requirement_status{requirement="https-open",status="pass"} == 1"#;
    let fail = r#"driftwall_requirement_status{requirement="https-open",status="fail"} == 1"#;
    wait_until(
        Duration::from_secs(30),
        "Prometheus scrapes https-open passing",
        || (!query(f.prom, pass).is_empty()).then_some(()),
    );
    assert!(alerts(f.am).is_empty(), "{:#?}", alerts(f.am));

    // Break it: the partner network's HTTPS is rejected again.
    let open = std::fs::read_to_string(&f.rules).expect("rules");
    let broken =
        std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example");
    std::fs::write(&f.rules, &broken).expect("break");

    let series = wait_until(
        Duration::from_secs(30),
        "Prometheus's query API shows https-open failing",
        || {
            let r = query(f.prom, fail);
            (!r.is_empty()).then_some(r)
        },
    );
    assert_eq!(series[0]["metric"]["policy"], "web-server");
    let served = get(f.metrics, "/metrics").expect("/metrics").1;
    assert!(
        served.contains(&format!(
            "driftwall_requirement_status{{policy=\"web-server\",requirement=\"https-open\",source=\"{}\",status=\"fail\"}} 1",
            f.rules.display()
        )),
        "{served}"
    );
    assert_eq!(series[0]["metric"]["source"], f.rules.display().to_string());

    let (rule, own) = wait_until(
        Duration::from_secs(60),
        "both alerts in Alertmanager",
        || {
            let a = alerts(f.am);
            let rule = named(&a, "DriftwallRequirementFailing")
                .first()
                .cloned()
                .cloned();
            let own = named(&a, "DriftwallRequirement").first().cloned().cloned();
            Some((rule?, own?))
        },
    );
    assert_eq!(rule["labels"]["requirement"], "https-open");
    assert_eq!(rule["status"]["state"], "active");
    for (k, v) in [
        ("policy", "web-server"),
        ("requirement", "https-open"),
        ("severity", "critical"),
    ] {
        assert_eq!(own["labels"][k], v, "{own:#}");
    }
    assert_eq!(own["labels"]["source"], f.rules.display().to_string());
    assert!(
        own["labels"]["host"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let culprit = own["annotations"]["culprit"].as_str().unwrap_or_default();
    assert!(
        culprit.starts_with(&format!("{}:", f.rules.display())) && culprit.contains("REJECT"),
        "{own:#}"
    );
    assert!(
        own["annotations"]["witness"]
            .as_str()
            .is_some_and(|w| w.contains(":443")),
        "{own:#}"
    );
    assert!(
        own["annotations"]["accept"]
            .as_str()
            .is_some_and(|a| a.starts_with("driftwall baseline accept")),
        "{own:#}"
    );
    // While on, it ends a few resends ahead, so a dead daemon's alerts expire.
    let ends = rfc3339_secs(own["endsAt"].as_str().expect("endsAt"));
    let now = now_secs();
    assert!(ends > now && ends <= now + 4.0 * 2.0 + 2.0, "{own:#}");

    // Email goes its own way beside it: without SMTP, into the outbox.
    wait_until(
        Duration::from_secs(30),
        "the alert in the outbox too",
        || {
            support::outbox_events(&f.dir.join("state"))
                .iter()
                .any(|e| e["kind"] == "requirement-changed")
                .then_some(())
        },
    );

    // A restart of the daemon re-posts the same alert (the same startsAt,
    // its endsAt pushed on), never a second one.
    let posted = f.log().count("alerts posted to Alertmanager");
    f.restart_daemon();
    wait_until(
        Duration::from_secs(30),
        "a posting after the restart",
        || (f.log().count("alerts posted to Alertmanager") > posted).then_some(()),
    );
    let again = wait_until(Duration::from_secs(30), "the alert re-posted", || {
        let a = alerts(f.am);
        let own_now: Vec<serde_json::Value> = named(&a, "DriftwallRequirement")
            .into_iter()
            .cloned()
            .collect();
        own_now
            .iter()
            .any(|o| o["endsAt"] != own["endsAt"])
            .then_some(own_now)
    });
    assert_eq!(again.len(), 1, "{again:#?}");
    assert_eq!(again[0]["startsAt"], own["startsAt"], "{again:#?}");

    // Fix it: both resolve (Alertmanager lists only alerts that are on).
    std::fs::write(&f.rules, &open).expect("fix");
    wait_until(
        Duration::from_secs(30),
        "Prometheus sees https-open pass again",
        || (!query(f.prom, pass).is_empty()).then_some(()),
    );
    wait_until(Duration::from_secs(60), "both alerts resolved", || {
        let a = alerts(f.am);
        (named(&a, "DriftwallRequirementFailing").is_empty()
            && named(&a, "DriftwallRequirement").is_empty())
        .then_some(())
    });
    // The daemon said so with a posting whose endsAt had passed: its spool
    // is empty, nothing waits.
    let spool: Vec<_> = std::fs::read_dir(f.dir.join("state/alertmanager"))
        .expect("the postings' spool")
        .flatten()
        .collect();
    assert!(spool.is_empty(), "{spool:?}");
    assert!(
        f.log()
            .text()
            .lines()
            .any(|l| l.contains("alerts posted to Alertmanager") && l.contains("\"resolved\":1")),
        "{}",
        f.log().text()
    );
}

#[test]
fn promtool_accepts_the_shipped_rules_and_configuration_and_their_tests_pass() {
    if tools(&[PROMTOOL]).is_none() {
        return;
    }
    let dir = root().join("examples/prometheus");
    let mut rules: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/prometheus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".rules.yml"))
        .collect();
    rules.sort();
    assert!(!rules.is_empty());
    let mut check: Vec<&std::ffi::OsStr> = vec!["check".as_ref(), "rules".as_ref()];
    check.extend(rules.iter().map(|r| r.as_os_str()));
    promtool(&check);
    // The rules do what they say: each fires when it should and not before
    // (the cases are in the file beside them).
    let tests = dir.join("driftwall.rules.test.yml");
    promtool(&["test".as_ref(), "rules".as_ref(), tests.as_os_str()]);
    let config = dir.join("prometheus.yml");
    promtool(&["check".as_ref(), "config".as_ref(), config.as_os_str()]);
}

/// Runs promtool, which must succeed.
fn promtool(args: &[&std::ffi::OsStr]) {
    let out = Command::new(PROMTOOL)
        .args(args)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_served_metrics() {
    if tools(&[PROMTOOL]).is_none() {
        return;
    }
    let dir = Scratch::new("fleet-metrics");
    let port = free_port();
    let rules = dir.file(
        "etc/rules.v4",
        &std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example"),
    );
    let broken = dir.file("etc/broken.v4", "*filter\n-A INPUT -p tcp --dport\n");
    let textfile = dir.join("node-exporter/driftwall.prom");
    let config = dir.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - path: {}\n  - path: {}\npolicies: [{}]\nstate_dir: {}\nmetrics:\n  listen: 127.0.0.1:{port}\n  textfile: {}\n",
            rules.display(),
            broken.display(),
            root().join("examples/web-server.policy.yaml").display(),
            dir.join("state").display(),
            textfile.display()
        ),
    );
    let log = DaemonLog::new(dir.join("daemon.log"));
    let _daemon = Proc {
        name: "driftwall",
        child: watch(&config, &log).spawn().expect("start driftwall watch"),
    };
    log.wait_turn(1, "both sources read");
    let text = wait_until(Duration::from_secs(10), "/metrics", || {
        get(port, "/metrics")
            .filter(|(s, b)| *s == 200 && b.contains("driftwall_source_parses"))
            .map(|(_, b)| b)
    });
    for needle in [
        "driftwall_requirement_status{policy=\"web-server\",requirement=\"https-open\"",
        "driftwall_source_rules{",
        "driftwall_drift_events_total{kind=\"failing-at-start\"} ",
        "driftwall_last_assessment_timestamp_seconds ",
        "driftwall_alert_spool_depth{channel=\"email\"} 0",
        "driftwall_build_info{version=",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    assert!(
        text.contains(&format!(
            "driftwall_source_parses{{source=\"{}\"}} 0",
            broken.display()
        )),
        "{text}"
    );
    for (what, input) in [
        ("/metrics", text.clone()),
        (
            "the textfile",
            wait_until(Duration::from_secs(10), "the textfile", || {
                std::fs::read_to_string(&textfile).ok()
            }),
        ),
    ] {
        let mut child = Command::new(PROMTOOL)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("feed promtool");
        let out = child.wait_with_output().expect("promtool");
        assert!(
            out.status.success(),
            "promtool check metrics on {what}: {}{}\n{input}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A ruleset of `n` rules that each let one host reach one port: enough
/// for the check to take a while, which is what the next test needs.
fn big_ruleset(n: u32) -> String {
    let mut text = String::from(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "-A INPUT -s 10.{}.{}.{}/32 -p {} -m {} --dport {} -j ACCEPT\n",
            i / 65_536 % 256,
            i / 256 % 256,
            i % 256,
            if i % 2 == 0 { "tcp" } else { "udp" },
            if i % 2 == 0 { "tcp" } else { "udp" },
            1 + i % 65_000
        ));
    }
    text.push_str("COMMIT\n");
    text
}

#[test]
fn metrics_are_served_while_a_check_runs() {
    let dir = Scratch::new("fleet-busy");
    let port = free_port();
    let rules = dir.file(
        "etc/rules.v4",
        &std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example"),
    );
    let config = dir.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - path: {}\npolicies: [apple:essentials, apple:hardening, apple:icloud, apple:mail]\nstate_dir: {}\ndebounce: 50ms\nmetrics:\n  listen: 127.0.0.1:{port}\n",
            rules.display(),
            dir.join("state").display()
        ),
    );
    let log = DaemonLog::new(dir.join("daemon.log"));
    let _daemon = Proc {
        name: "driftwall",
        child: watch(&config, &log).spawn().expect("start driftwall watch"),
    };
    log.wait_turn(0, "the first reading");
    let old = format!(
        "driftwall_source_rules{{source=\"{}\"}} 10",
        rules.display()
    );
    wait_until(Duration::from_secs(10), "the first snapshot", || {
        get(port, "/metrics")
            .filter(|(_, b)| b.contains(&old))
            .map(|_| ())
    });
    let tmp = dir.file("etc/rules.tmp", &big_ruleset(20_000));
    let written = now_secs();
    std::fs::rename(&tmp, &rules).expect("replace the rules");
    // Scrape until the new snapshot is out: (start, end, still the old one).
    let mut scrapes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let start = now_secs();
        let (status, body) = get(port, "/metrics").expect("an answer");
        let end = now_secs();
        assert_eq!(status, 200);
        let before = body.contains(&old);
        scrapes.push((start, end, before));
        if !before {
            break;
        }
        assert!(Instant::now() < deadline, "no new snapshot within 300 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // When the daemon began and ended reading the big text, by its log.
    let assessed: Vec<f64> = log
        .text()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "assessed")
        .filter_map(|v| v["timestamp"].as_str().map(rfc3339_secs))
        .collect();
    let done = *assessed.last().expect("the big text assessed");
    // Answered in full while the daemon was past its debounce and still
    // checking the new text.
    let during: Vec<f64> = scrapes
        .iter()
        .filter(|(s, e, before)| *before && *s > written + 0.2 && *e < done)
        .map(|(s, e, _)| e - s)
        .collect();
    let slowest = scrapes.iter().map(|(s, e, _)| e - s).fold(0.0, f64::max);
    println!(
        "the check took {:.2} s; {} scrapes answered during it, the slowest of all in {:.1} ms",
        done - written,
        during.len(),
        slowest * 1000.0
    );
    assert!(during.len() >= 3, "{scrapes:?} done at {done}");
    assert!(slowest < 1.0, "{scrapes:?}");
}
