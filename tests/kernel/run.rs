//! One ruleset against the kernel (fresh namespaces, real traffic) and against
//! `driftwall probe`.

use super::netns::{Topology, driver};
use super::{Family, Host, LINKS, Probe, Proto, Verdict};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// What the kernel did with one probe.
#[derive(Debug, Clone)]
pub struct Observation {
    pub verdict: Verdict,
    /// How the initiating socket saw it (errno, ICMP type and code, ...).
    pub detail: String,
}

/// Runs `probes` (all from `case`-like input: one family, one ruleset) in a
/// fresh topology and returns one observation per probe, in order.
///
/// A fresh topology per run means no conntrack entry, TIME_WAIT socket or
/// neighbour state of an earlier ruleset can change a verdict.
pub fn kernel(
    family: Family,
    ruleset: &str,
    probes: &[Probe],
    timeout: Duration,
) -> Result<Vec<Observation>, String> {
    kernel_with(family, probes, &[], timeout, |topology| {
        topology.restore(family, ruleset)
    })
    .map(|(seen, ())| seen)
}

/// [`kernel`] with the ruleset loaded by `load` (which may also read
/// something back from the firewall namespace, such as `nft -j list
/// ruleset`), and servers also listening where `listeners` say (where NAT
/// sends connections).
pub fn kernel_with<T>(
    family: Family,
    probes: &[Probe],
    listeners: &[(Host, Proto, u16)],
    timeout: Duration,
    load: impl FnOnce(&Topology) -> Result<T, String>,
) -> Result<(Vec<Observation>, T), String> {
    let topology = Topology::create()?;
    let loaded = load(&topology)?;

    let mut servers = Vec::new();
    for host in Host::ALL {
        let ports = |proto| -> BTreeSet<u16> {
            probes
                .iter()
                .filter(|p| p.to == host && p.proto == proto)
                .map(|p| p.dport)
                .chain(
                    listeners
                        .iter()
                        .filter(|(h, p, _)| *h == host && *p == proto)
                        .map(|(_, _, port)| *port),
                )
                .collect()
        };
        let (tcp, udp) = (ports(Proto::Tcp), ports(Proto::Udp));
        if tcp.is_empty() && udp.is_empty() {
            continue;
        }
        let spec = serde_json::json!({"family": family.name(), "tcp": tcp, "udp": udp});
        servers.push(Server::start(&topology.ns(host), host, &spec)?);
    }
    for server in &mut servers {
        server.wait_ready()?;
    }

    let mut clients = Vec::new();
    for host in Host::ALL {
        let mine: Vec<Value> = probes
            .iter()
            .filter(|p| p.from == host)
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "family": family.name(), "proto": p.proto.name(),
                    "src": p.src.to_string(), "dst": p.dst.to_string(),
                    "sport": p.sport, "dport": p.dport,
                })
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let spec = serde_json::json!({"timeout": timeout.as_secs_f64(), "probes": mine});
        let mut child = Reaped::spawn(driver(&topology.ns(host), "probe"))?;
        child.feed(&spec.to_string(), true)?;
        clients.push(child);
    }

    let mut seen: HashMap<String, (Verdict, String)> = HashMap::new();
    for client in clients {
        let stdout = client.finish()?;
        let results: Vec<Value> = serde_json::from_str(&stdout)
            .map_err(|e| format!("driver output is not JSON ({e}): {stdout}"))?;
        for r in results {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            let verdict = r["observed"]
                .as_str()
                .and_then(Verdict::parse)
                .unwrap_or(Verdict::Error);
            seen.insert(
                id,
                (
                    verdict,
                    r["detail"].as_str().unwrap_or_default().to_string(),
                ),
            );
        }
    }

    let mut arrived: HashSet<(Proto, String)> = HashSet::new();
    for server in servers {
        arrived.extend(server.finish()?);
    }
    drop(topology);

    let seen = probes
        .iter()
        .map(|p| {
            let (verdict, detail) = seen
                .get(&p.id)
                .cloned()
                .unwrap_or((Verdict::Error, "no result from the driver".into()));
            let reached = arrived.contains(&(p.proto, p.id.clone()));
            match (p.proto, reached) {
                // The datagram reached its socket: that is all UDP promises.
                (Proto::Udp, true) if verdict == Verdict::Reject || verdict == Verdict::Error => {
                    Observation {
                        verdict: Verdict::Error,
                        detail: format!("datagram arrived, yet the client saw: {detail}"),
                    }
                }
                (Proto::Udp, true) => Observation {
                    verdict: Verdict::Allow,
                    detail: "datagram arrived".into(),
                },
                (Proto::Tcp, true) if verdict != Verdict::Allow => Observation {
                    verdict,
                    detail: format!("{detail}; the server got the data"),
                },
                _ => Observation { verdict, detail },
            }
        })
        .collect();
    Ok((seen, loaded))
}

/// A child process that is killed if it is still running when dropped.
struct Reaped {
    child: Child,
    stdout: Option<BufReader<ChildStdout>>,
    what: String,
}

impl Reaped {
    fn spawn(mut cmd: Command) -> Result<Reaped, String> {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        let stdout = child.stdout.take().map(BufReader::new);
        Ok(Reaped {
            child,
            stdout,
            what,
        })
    }

    fn feed(&mut self, text: &str, close: bool) -> Result<(), String> {
        let stdin = self.child.stdin.as_mut().ok_or("stdin already closed")?;
        let written = stdin
            .write_all(text.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush());
        if let Err(e) = written {
            let stderr = self.stderr();
            return Err(format!("cannot feed {}: {e}: {stderr}", self.what));
        }
        if close {
            self.child.stdin = None;
        }
        Ok(())
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        let stdout = self.stdout.as_mut().ok_or("stdout already read")?;
        stdout
            .read_line(&mut line)
            .map_err(|e| format!("cannot read from {}: {e}", self.what))?;
        Ok(line)
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }

    /// Closes stdin, reads the rest of stdout and waits; an error unless it exits 0.
    fn finish(mut self) -> Result<String, String> {
        self.child.stdin = None;
        let mut text = String::new();
        if let Some(mut out) = self.stdout.take() {
            out.read_to_string(&mut text)
                .map_err(|e| format!("cannot read from {}: {e}", self.what))?;
        }
        let status = self
            .child
            .wait()
            .map_err(|e| format!("cannot wait for {}: {e}", self.what))?;
        if !status.success() {
            let stderr = self.stderr();
            return Err(format!("{} failed ({status}): {stderr}", self.what));
        }
        Ok(text)
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `driver.py serve` in one namespace.
struct Server {
    process: Reaped,
    host: Host,
}

impl Server {
    /// Starts a server; [`Server::wait_ready`] waits until it listens, so that
    /// several start at once.
    fn start(ns: &str, host: Host, spec: &Value) -> Result<Server, String> {
        let mut process = Reaped::spawn(driver(ns, "serve"))?;
        process.feed(&spec.to_string(), false)?;
        Ok(Server { process, host })
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let line = self.process.line()?;
        if line.trim() != "ready" {
            let stderr = self.process.stderr();
            return Err(format!(
                "the server in {:?} did not start: {line}{stderr}",
                self.host
            ));
        }
        Ok(())
    }

    /// Stops the server; the probe ids that reached it.
    fn finish(self) -> Result<Vec<(Proto, String)>, String> {
        let text = self.process.finish()?;
        let seen: Value = serde_json::from_str(text.trim())
            .map_err(|e| format!("server output ({e}): {text}"))?;
        let ids = |key: &str| -> Vec<String> {
            seen[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        Ok(ids("tcp")
            .into_iter()
            .map(|id| (Proto::Tcp, id))
            .chain(ids("udp").into_iter().map(|id| (Proto::Udp, id)))
            .collect())
    }
}

/// What `driftwall probe` answered for one probe.
#[derive(Debug, Clone)]
pub struct Answer {
    pub verdict: Verdict,
    /// `file:line: text` of each deciding rule.
    pub decided_by: Vec<String>,
}

/// Asks `driftwall probe` about `probes` under `ruleset`.
pub fn driftwall(
    family: Family,
    ruleset: &str,
    probes: &[Probe],
    dir: &Path,
) -> Result<Vec<Answer>, String> {
    let name = if family == Family::V4 {
        "rules.v4"
    } else {
        "rules.v6"
    };
    driftwall_as(family, name, family.input_format(), ruleset, probes, dir)
}

/// [`driftwall`] on a file named `name` in `dir`, read as `input_format`.
pub fn driftwall_as(
    family: Family,
    name: &str,
    input_format: &str,
    ruleset: &str,
    probes: &[Probe],
    dir: &Path,
) -> Result<Vec<Answer>, String> {
    let rules = dir.join(name);
    std::fs::write(&rules, ruleset)
        .map_err(|e| format!("cannot write {}: {e}", rules.display()))?;
    driftwall_on(family, &rules, input_format, probes, dir)
}

/// [`driftwall`] on what is at `input` (a file or a configuration
/// directory), read as `input_format`; the probes are written to `dir`.
pub fn driftwall_on(
    family: Family,
    input: &Path,
    input_format: &str,
    probes: &[Probe],
    dir: &Path,
) -> Result<Vec<Answer>, String> {
    let probes_file = dir.join("probes.json");
    let list: Vec<Value> = probes.iter().map(Probe::to_json).collect();
    std::fs::write(&probes_file, Value::Array(list).to_string())
        .map_err(|e| format!("cannot write {}: {e}", probes_file.display()))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwall"));
    cmd.arg("probe")
        .arg(input)
        .arg("--probes")
        .arg(&probes_file)
        .args(["--input-format", input_format]);
    // The firewall's own addresses: the sources of the ICMP errors it sends.
    for link in LINKS {
        cmd.arg("--host-address")
            .arg(format!("{}={}", link.fw_if, link.fw_addr(family)));
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run driftwall: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "driftwall probe failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            stdout.trim()
        ));
    }
    let answers: Vec<Value> = serde_json::from_str(&stdout)
        .map_err(|e| format!("driftwall probe output is not a JSON array ({e}): {stdout}"))?;
    if answers.len() != probes.len() {
        return Err(format!(
            "driftwall probe answered {} of {} probes",
            answers.len(),
            probes.len()
        ));
    }
    probes
        .iter()
        .zip(answers)
        .map(|(probe, a)| {
            if a["id"].as_str() != Some(probe.id.as_str()) {
                return Err(format!(
                    "driftwall probe answered {} where {} was expected",
                    a["id"], probe.id
                ));
            }
            let verdict = a["verdict"]
                .as_str()
                .and_then(Verdict::parse)
                .filter(|v| *v != Verdict::Error)
                .ok_or_else(|| format!("unknown verdict {} for {}", a["verdict"], probe.id))?;
            let decided_by = a["decided_by"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    format!(
                        "{}:{}: {}",
                        d["file"].as_str().unwrap_or("?"),
                        d["line"],
                        d["text"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            Ok(Answer {
                verdict,
                decided_by,
            })
        })
        .collect()
}
