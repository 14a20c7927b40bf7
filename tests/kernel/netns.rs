//! Creating and deleting the namespace topology, and running commands in it.
//!
//! Names are `dwkt<pid>n<counter><host>` so parallel runs (and parallel tests
//! in one run) never clash; [`Topology`] deletes its namespaces when dropped,
//! also while a panic unwinds, and [`remove_stale`] deletes those left behind
//! by a test process that was killed.

use super::{Family, Host, LINKS, Link, PEER_IF};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

const PREFIX: &str = "dwkt";

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kernel/driver.py");

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The four namespaces of one run, deleted on drop.
pub struct Topology {
    prefix: String,
    created: Vec<String>,
}

impl Topology {
    pub fn create() -> Result<Topology, String> {
        let prefix = format!(
            "{PREFIX}{}n{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut topology = Topology {
            prefix,
            created: Vec::new(),
        };
        for host in Host::ALL {
            let name = topology.ns(host);
            run(Command::new("ip").args(["netns", "add", &name]), None)?;
            topology.created.push(name);
        }
        topology.wire()?;
        Ok(topology)
    }

    /// The namespace name of a host.
    pub fn ns(&self, host: Host) -> String {
        format!("{}{}", self.prefix, host.short())
    }

    fn wire(&self) -> Result<(), String> {
        // Static neighbour entries on both ends: neither ARP nor ICMPv6
        // neighbour discovery is then needed, so a generated ruleset that drops
        // ICMPv6 cannot cut the wires, and no ruleset needs a rule for it.
        let mut fw = String::from("link set lo up\n");
        for link in LINKS {
            fw += &format!(
                "link add {} address {} type veth peer name {PEER_IF} address {} netns {}\n\
                 link set {} up\n",
                link.fw_if,
                link.fw_mac(),
                link.peer_mac(),
                self.ns(link.peer),
                link.fw_if,
            );
            for family in [Family::V4, Family::V6] {
                fw += &addr_add(link.fw_addr(family), family, link.fw_if);
                for peer in link.peer_addrs(family) {
                    fw += &format!(
                        "neigh replace {peer} lladdr {} dev {} nud permanent\n",
                        link.peer_mac(),
                        link.fw_if
                    );
                }
            }
        }
        ip_batch(&self.ns(Host::Firewall), &fw)?;

        let mut sysctls = vec![
            "net.ipv4.ip_forward=1".to_string(),
            "net.ipv6.conf.all.forwarding=1".to_string(),
            // Rate limits would turn a REJECT into a silent drop.
            "net.ipv4.icmp_ratelimit=0".to_string(),
            "net.ipv4.icmp_msgs_per_sec=1000000".to_string(),
            "net.ipv4.icmp_msgs_burst=1000000".to_string(),
            "net.ipv6.icmp.ratelimit=0".to_string(),
            // The probes send from and to every address; only the ruleset filters.
            "net.ipv4.conf.all.rp_filter=0".to_string(),
        ];
        sysctls.extend(
            LINKS
                .iter()
                .map(|l| format!("net.ipv4.conf.{}.rp_filter=0", l.fw_if)),
        );
        run(
            driver(&self.ns(Host::Firewall), "sysctl").args(&sysctls),
            None,
        )?;

        for link in LINKS {
            let mut peer = format!("link set lo up\nlink set {PEER_IF} up\n");
            for family in [Family::V4, Family::V6] {
                for addr in link.peer_addrs(family) {
                    peer += &addr_add(addr, family, PEER_IF);
                }
                let gateway = link.fw_addr(family);
                let default = if family == Family::V4 {
                    "0.0.0.0/0"
                } else {
                    "::/0"
                };
                peer += &format!(
                    "route add {default} via {gateway}\n\
                     neigh replace {gateway} lladdr {} dev {PEER_IF} nud permanent\n",
                    link.fw_mac()
                );
            }
            ip_batch(&self.ns(link.peer), &peer)?;
        }
        Ok(())
    }

    /// Loads a ruleset into the firewall namespace.
    pub fn restore(&self, family: Family, ruleset: &str) -> Result<(), String> {
        let mut cmd = in_ns(&self.ns(Host::Firewall), family.restore_tool());
        run(&mut cmd, Some(ruleset))
            .map(drop)
            .map_err(|e| format!("{} refused the ruleset: {e}", family.restore_tool()))
    }

    /// Loads an nft ruleset (`nft -f -`) into the firewall namespace.
    pub fn load_nft(&self, ruleset: &str) -> Result<(), String> {
        let mut cmd = in_ns(&self.ns(Host::Firewall), "nft");
        cmd.args(["-f", "-"]);
        run(&mut cmd, Some(ruleset))
            .map(drop)
            .map_err(|e| format!("nft refused the ruleset: {e}"))
    }

    /// `nft -j list ruleset` of the firewall namespace.
    pub fn nft_json(&self) -> Result<String, String> {
        let mut cmd = in_ns(&self.ns(Host::Firewall), "nft");
        cmd.args(["-j", "list", "ruleset"]);
        let out = run(&mut cmd, None)?;
        String::from_utf8(out.stdout)
            .map_err(|e| format!("nft -j printed something not UTF-8: {e}"))
    }

    pub fn link_of(host: Host) -> Option<Link> {
        LINKS.into_iter().find(|l| l.peer == host)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for name in self.created.drain(..) {
            let _ = Command::new("ip")
                .args(["netns", "del", &name])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn addr_add(addr: std::net::IpAddr, family: Family, dev: &str) -> String {
    // `nodad`: an address still in duplicate address detection cannot be bound.
    let nodad = if family == Family::V6 { " nodad" } else { "" };
    format!(
        "addr add {addr}/{} dev {dev}{nodad}\n",
        Link::prefix_len(family)
    )
}

/// The Python interpreter itself: `python3` from PATH may be a wrapper (pyenv
/// shims are shell scripts) that costs a quarter second per start.
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "python3".to_string())
    })
}

/// `driver.py COMMAND` inside a namespace.
pub fn driver(ns: &str, command: &str) -> Command {
    let mut cmd = in_ns(ns, python());
    cmd.arg(DRIVER).arg(command);
    cmd
}

/// A command run inside a namespace.
fn in_ns(ns: &str, program: &str) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, program]);
    cmd
}

fn ip_batch(ns: &str, script: &str) -> Result<(), String> {
    run(
        Command::new("ip").args(["-n", ns, "-batch", "-"]),
        Some(script),
    )
    .map(drop)
}

/// Runs a command to completion, feeding it `input`; an error unless it exits 0.
pub fn run(cmd: &mut Command, input: Option<&str>) -> Result<Output, String> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot feed {cmd:?}: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("cannot wait for {cmd:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output)
}

/// Deletes namespaces of this test whose creating process no longer exists
/// (it was killed before its guards could run).
pub fn remove_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if pid.is_empty() || !rest[pid.len()..].starts_with('n') {
            continue;
        }
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("ip")
                .args(["netns", "del", &name])
                .stderr(Stdio::null())
                .status();
        }
    }
}
