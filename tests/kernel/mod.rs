//! Support for the kernel differential test (`tests/kernel_iptables.rs`): the
//! namespace topology, the seeded ruleset and probe generator, and the runs of
//! the kernel (through `driver.py`) and of `driftwall probe`.
//!
//! The topology, with the firewall in the middle and every link a veth pair:
//!
//! ```text
//!   lan0 peer (10.1.0.2, .3)  ── eth0 ─ lan0 (10.1.0.1) ┐
//!   lan1 peer (10.2.0.2, .3)  ── eth0 ─ lan1 (10.2.0.1) ├ firewall (forwarding on)
//!   wan0 peer (10.3.0.2, .3)  ── eth0 ─ wan0 (10.3.0.1) ┘
//! ```
//!
//! IPv6 uses `fd00:N::1`, `::2`, `::3` on link N. Only these addresses, inside
//! namespaces the test creates and deletes, are ever used.

#![allow(dead_code)]

pub mod distilled;
pub mod firewalld;
pub mod generate;
pub mod generate_nft;
pub mod generate_pf;
pub mod netns;
pub mod run;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// The `--input-format` of `driftwall probe`.
    pub fn input_format(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }

    pub fn restore_tool(self) -> &'static str {
        match self {
            Family::V4 => "iptables-restore",
            Family::V6 => "ip6tables-restore",
        }
    }
}

/// A namespace of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    Firewall,
    Lan0Peer,
    Lan1Peer,
    WanPeer,
}

impl Host {
    pub const ALL: [Host; 4] = [
        Host::Firewall,
        Host::Lan0Peer,
        Host::Lan1Peer,
        Host::WanPeer,
    ];

    pub fn short(self) -> &'static str {
        match self {
            Host::Firewall => "fw",
            Host::Lan0Peer => "l0",
            Host::Lan1Peer => "l1",
            Host::WanPeer => "wn",
        }
    }
}

/// One veth pair between the firewall and a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The firewall's end; the peer's end is always `eth0`.
    pub fw_if: &'static str,
    pub peer: Host,
    /// The N of `10.N.0.0/24` and `fd00:N::/64`.
    pub net: u8,
}

pub const LINKS: [Link; 3] = [
    Link {
        fw_if: "lan0",
        peer: Host::Lan0Peer,
        net: 1,
    },
    Link {
        fw_if: "lan1",
        peer: Host::Lan1Peer,
        net: 2,
    },
    Link {
        fw_if: "wan0",
        peer: Host::WanPeer,
        net: 3,
    },
];

pub const PEER_IF: &str = "eth0";

impl Link {
    fn host_addr(self, family: Family, host: u8) -> IpAddr {
        match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(10, self.net, 0, host)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(
                0xfd00,
                self.net.into(),
                0,
                0,
                0,
                0,
                0,
                host.into(),
            )),
        }
    }

    pub fn fw_addr(self, family: Family) -> IpAddr {
        self.host_addr(family, 1)
    }

    pub fn peer_addrs(self, family: Family) -> [IpAddr; 2] {
        [self.host_addr(family, 2), self.host_addr(family, 3)]
    }

    pub fn prefix_len(family: Family) -> u8 {
        match family {
            Family::V4 => 24,
            Family::V6 => 64,
        }
    }

    pub fn fw_mac(self) -> String {
        format!("02:00:00:00:{:02x}:01", self.net)
    }

    pub fn peer_mac(self) -> String {
        format!("02:00:00:00:{:02x}:02", self.net)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    In,
    Out,
    Fwd,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::In => "in",
            Kind::Out => "out",
            Kind::Fwd => "fwd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One connection attempt: what `driftwall probe` is asked about and what the
/// driver does.
#[derive(Debug, Clone)]
pub struct Probe {
    pub id: String,
    pub kind: Kind,
    pub family: Family,
    pub proto: Proto,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub iif: Option<&'static str>,
    pub oif: Option<&'static str>,
    /// The namespace that initiates.
    pub from: Host,
    /// The namespace whose socket should receive it.
    pub to: Host,
}

impl Probe {
    /// The probe as `driftwall probe --probes` reads it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": self.id,
            "kind": self.kind.name(),
            "family": self.family.name(),
            "proto": self.proto.name(),
            "src": self.src.to_string(),
            "dst": self.dst.to_string(),
            "sport": self.sport,
            "dport": self.dport,
        });
        if let Some(iif) = self.iif {
            v["iif"] = iif.into();
        }
        if let Some(oif) = self.oif {
            v["oif"] = oif.into();
        }
        v
    }
}

impl Probe {
    /// A hand-made probe: `in` from the peer of `LINKS[link]`, `out` to it,
    /// `fwd` from it to the peer of `LINKS[other]`. Source ports come from the
    /// digits of `id`, so distinct ids never share one.
    pub fn between(
        id: &str,
        kind: Kind,
        family: Family,
        proto: Proto,
        link: usize,
        other: usize,
        dport: u16,
    ) -> Probe {
        let (a, b) = (LINKS[link], LINKS[other]);
        let (src, dst, iif, oif, from, to) = match kind {
            Kind::In => (
                a.peer_addrs(family)[0],
                a.fw_addr(family),
                Some(a.fw_if),
                None,
                a.peer,
                Host::Firewall,
            ),
            Kind::Out => (
                a.fw_addr(family),
                a.peer_addrs(family)[0],
                None,
                Some(a.fw_if),
                Host::Firewall,
                a.peer,
            ),
            Kind::Fwd => (
                a.peer_addrs(family)[0],
                b.peer_addrs(family)[1],
                Some(a.fw_if),
                Some(b.fw_if),
                a.peer,
                b.peer,
            ),
        };
        let digits: String = id.chars().filter(char::is_ascii_digit).collect();
        let sport = 40000 + digits.parse::<u16>().unwrap_or(0) % 20000;
        Probe {
            id: id.into(),
            kind,
            family,
            proto,
            src,
            dst,
            sport,
            dport,
            iif,
            oif,
            from,
            to,
        }
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}:{} -> {}:{}",
            self.id,
            self.kind.name(),
            self.proto.name(),
            self.src,
            self.sport,
            self.dst,
            self.dport
        )?;
        if let Some(iif) = self.iif {
            write!(f, " iif {iif}")?;
        }
        if let Some(oif) = self.oif {
            write!(f, " oif {oif}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    Allow,
    Reject,
    Drop,
    /// Only from driftwall: a rule it does not model decided.
    Indeterminate,
    /// Only from the driver: the harness itself failed (bind error, ...).
    Error,
}

impl Verdict {
    pub fn parse(text: &str) -> Option<Verdict> {
        Some(match text {
            "allow" => Verdict::Allow,
            "reject" => Verdict::Reject,
            "drop" => Verdict::Drop,
            "indeterminate" => Verdict::Indeterminate,
            "error" => Verdict::Error,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Reject => "reject",
            Verdict::Drop => "drop",
            Verdict::Indeterminate => "indeterminate",
            Verdict::Error => "error",
        }
    }
}

/// A generated ruleset and its probes.
#[derive(Debug, Clone)]
pub struct Case {
    /// What reports call it.
    pub name: String,
    /// The generator's seed, for cases that have one.
    pub seed: Option<u64>,
    pub family: Family,
    /// iptables-save text for `iptables-restore` and `driftwall probe`.
    pub ruleset: String,
    pub probes: Vec<Probe>,
}

/// Why the kernel tests cannot run here, if they cannot.
pub fn missing_prerequisite() -> Option<String> {
    missing_for(&["ip", "iptables-restore", "ip6tables-restore", "python3"])
}

/// Why a kernel test that needs `tools` cannot run here, if it cannot.
pub fn missing_for(tools: &[&str]) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("network namespaces need Linux".into());
    }
    match effective_uid() {
        Some(0) => {}
        Some(uid) => {
            return Some(format!(
                "needs root to create network namespaces (running as uid {uid})"
            ));
        }
        None => return Some("cannot read the effective uid from /proc/self/status".into()),
    }
    for &tool in tools {
        if find_in_path(tool).is_none() {
            return Some(format!("`{tool}` is not installed (not found in PATH)"));
        }
    }
    None
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn find_in_path(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

pub use crate::support::skip;

/// A number from the environment (decimal or 0x hex), for the tests' knobs.
pub fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

/// A ruleset with line numbers, for failure reports.
pub fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("  {:>3}  {l}\n", i + 1))
        .collect()
}

/// Verdict counts as `allow 3, drop 2`.
pub fn count_line(counts: &std::collections::BTreeMap<Verdict, usize>) -> String {
    counts
        .iter()
        .map(|(v, n)| format!("{} {n}", v.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The knobs every generated kernel test takes from the environment.
pub struct Knobs {
    pub seed: u64,
    pub rulesets: usize,
    pub probes: usize,
    pub timeout: std::time::Duration,
    pub jobs: usize,
}

impl Knobs {
    pub fn from_env(default_seed: u64) -> Knobs {
        Knobs {
            seed: env_number("DRIFTWALL_KERNEL_SEED").unwrap_or(default_seed),
            rulesets: env_number("DRIFTWALL_KERNEL_RULESETS").unwrap_or(60) as usize,
            probes: env_number("DRIFTWALL_KERNEL_PROBES").unwrap_or(48) as usize,
            timeout: std::time::Duration::from_millis(
                env_number("DRIFTWALL_KERNEL_TIMEOUT_MS").unwrap_or(1200),
            ),
            jobs: env_number("DRIFTWALL_KERNEL_JOBS").unwrap_or(3) as usize,
        }
    }
}

/// Runs `each(0..count)`, `jobs` at a time, and gives the results in order.
pub fn in_parallel<T: Send>(count: usize, jobs: usize, each: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let r = each(index);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((index, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// A generated ruleset of a format picked by the seed (iptables or
/// ip6tables, nft, pf), with its `probe_count` probes: what the property
/// tests draw from.
#[allow(dead_code)]
pub fn any_format(
    seed: u64,
    probe_count: usize,
) -> (String, driftwall::input::InputFormat, Vec<Probe>) {
    use driftwall::input::InputFormat;
    match seed % 3 {
        0 => {
            let c = generate::case(seed, probe_count);
            let format = match c.family {
                Family::V4 => InputFormat::Iptables,
                Family::V6 => InputFormat::Ip6tables,
            };
            (c.ruleset, format, c.probes)
        }
        1 => {
            let c = generate_nft::case(seed, probe_count).case;
            (c.ruleset, InputFormat::Nftables, c.probes)
        }
        _ => {
            let c = generate_pf::case(seed, probe_count).case;
            (c.ruleset, InputFormat::Pf, c.probes)
        }
    }
}
