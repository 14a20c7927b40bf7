//! What a first run finds on a host: which firewall it uses, what to watch,
//! the role its forwarding suggests and the policy to start with.
//!
//! `driftwall init` prints this as a configuration, and `driftwall watch`
//! without a configuration runs on it and logs it: both call [`detect`], so
//! they cannot give different answers. What to watch is
//! [`standard_watches`]'s decision, not a second one.

use super::config::{Config, FIREWALLD_DIR, NFT_PATHS, UFW_DIR, Watch, standard_watches};
use crate::input::InputFormat;
use crate::policy::RoleKind;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The units whose being enabled says which firewall loads at boot.
const SERVICES: &[(&str, &str)] = &[
    ("nftables.service", "nftables"),
    ("netfilter-persistent.service", "iptables"),
    ("iptables.service", "iptables"),
    ("ip6tables.service", "iptables"),
    ("ufw.service", "ufw"),
    ("firewalld.service", "firewalld"),
];

/// The policy every first run starts with: what any Apple device needs.
const POLICY: &str = "apple:essentials";

/// The answer of a first run on the host whose root folder is `root`.
#[derive(Debug, Clone)]
pub struct FirstRun {
    pub root: PathBuf,
    /// What to watch, with the paths as seen from `root`.
    pub watch: Vec<Watch>,
    /// The firewall units enabled at boot (`nftables.service`, ...).
    pub enabled: Vec<String>,
    pub role: RoleKind,
    /// Whether the host forwards packets: a gateway, perhaps.
    pub forwarding: bool,
    /// Why that role: what was read about forwarding.
    pub role_why: String,
    pub policies: Vec<String>,
    /// What the kernel has loaded, or why it could not be read; `None` for
    /// another root than `/` (an image has no kernel of its own) or without nft.
    pub live: Option<String>,
}

/// Looks at the host under `root`: the standard firewall files and folders
/// present, the firewall units enabled, and whether it forwards packets.
pub fn detect(root: &Path) -> FirstRun {
    let (forwarding, role_why) = forwarding(root);
    FirstRun {
        root: root.to_path_buf(),
        watch: standard_watches(root),
        enabled: enabled_services(root),
        // A gateway's policies need its LAN side, which nothing here tells
        // (and `role: gateway` without it is refused): forwarding makes
        // gateway a suggestion, and the role stays host until it is given.
        role: RoleKind::Host,
        forwarding,
        role_why,
        policies: vec![POLICY.to_string()],
        live: live_tables(root),
    }
}

/// The nftables tables loaded in the running kernel (`nft list tables`),
/// which tell the firewall in use (`inet firewalld`, iptables-nft's `ip
/// filter`, ...), or why they could not be read (not root, or the
/// unit's sandbox without live-ruleset.conf). Only for `/`: an image's
/// tables are not the kernel's. Waits at most 5 s, so a stuck nft never
/// holds up the daemon's start.
fn live_tables(root: &Path) -> Option<String> {
    if root != Path::new("/") {
        return None;
    }
    let nft = NFT_PATHS.iter().find(|p| Path::new(p).is_file())?;
    let mut child = std::process::Command::new(nft)
        .args(["list", "tables"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Some(
                    "the live ruleset: `nft list tables` did not answer within 5 s".into(),
                );
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    if !out.status.success() {
        let why = text(&out.stderr);
        let why = why.lines().next().unwrap_or("no reason given");
        return Some(format!(
            "the live ruleset cannot be read here (nft: {why}); as root, or under the unit with live-ruleset.conf, it can"
        ));
    }
    let tables: Vec<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("table "))
        .map(str::to_string)
        .collect();
    Some(if tables.is_empty() {
        "the live ruleset: the kernel has no nftables table loaded".into()
    } else {
        format!(
            "the live ruleset: the kernel has the nftables tables {}",
            tables.join(", ")
        )
    })
}

/// Firewall units linked from a `*.wants` folder of ROOT/etc/systemd/system.
fn enabled_services(root: &Path) -> Vec<String> {
    let system = root.join("etc/systemd/system");
    let Ok(dirs) = std::fs::read_dir(&system) else {
        return Vec::new();
    };
    let mut wants: Vec<PathBuf> = dirs
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wants") && p.is_dir())
        .collect();
    wants.sort();
    let mut found = Vec::new();
    for (unit, _) in SERVICES {
        // A link, even one dangling under ROOT (it points at /lib/...), is
        // what `systemctl enable` leaves.
        if wants
            .iter()
            .any(|w| std::fs::symlink_metadata(w.join(unit)).is_ok())
        {
            found.push(unit.to_string());
        }
    }
    found
}

/// Whether the host forwards IPv4 packets, and what says so: the running
/// kernel (ROOT/proc/sys/net/ipv4/ip_forward) when it can be read, else the
/// setting applied at boot (ROOT/etc/sysctl.conf and ROOT/etc/sysctl.d).
fn forwarding(root: &Path) -> (bool, String) {
    let proc = root.join("proc/sys/net/ipv4/ip_forward");
    if let Ok(v) = std::fs::read_to_string(&proc) {
        let on = v.trim() == "1";
        return (
            on,
            format!(
                "/proc/sys/net/ipv4/ip_forward is {}: {}",
                v.trim(),
                if on {
                    "this host routes packets (audited as a host until its LAN side is named)"
                } else {
                    "this host does not route packets"
                }
            ),
        );
    }
    let mut files = vec![root.join("etc/sysctl.conf")];
    if let Ok(d) = std::fs::read_dir(root.join("etc/sysctl.d")) {
        let mut more: Vec<PathBuf> = d
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        more.sort();
        files.extend(more);
    }
    // The last assignment wins, as sysctl applies them in order.
    let mut last: Option<(bool, PathBuf)> = None;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=')
                && k.trim().replace('/', ".") == "net.ipv4.ip_forward"
            {
                last = Some((v.trim() == "1", f.clone()));
            }
        }
    }
    match last {
        Some((on, f)) => (
            on,
            format!(
                "{} sets net.ipv4.ip_forward = {}",
                shown(root, &f),
                u8::from(on)
            ),
        ),
        None => (
            false,
            "nothing enables forwarding (no /proc/sys/net/ipv4/ip_forward, no net.ipv4.ip_forward in sysctl.conf)".into(),
        ),
    }
}

/// A path as the host sees it: without the `root` it was found under.
fn shown(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(rest) => Path::new("/").join(rest).display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

/// A YAML scalar: plain when that is safe, else single-quoted.
fn scalar(s: &str) -> String {
    // `apple:essentials` and `-j` are plain in YAML (a colon or dash not
    // followed by a space); anything else out of the ordinary is quoted.
    let plain = s.chars().next().is_some_and(|c| c != '@' && c != ':')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+@:".contains(c))
        && !s.ends_with(':')
        && s != "-";
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// The name the configuration uses for a format.
fn format_name(f: InputFormat) -> &'static str {
    match f {
        InputFormat::Auto => "auto",
        InputFormat::Iptables => "iptables",
        InputFormat::Ip6tables => "ip6tables",
        InputFormat::Nftables => "nftables",
        InputFormat::NftJson => "nft-json",
        InputFormat::Ufw => "ufw",
        InputFormat::Pf => "pf",
        InputFormat::Firewalld => "firewalld",
    }
}

/// The firewall a watched file belongs to, by its standard path.
fn kind_of(path: &str) -> &'static str {
    if path.ends_with("nftables.conf") {
        "nftables"
    } else if path.ends_with("pf.conf") {
        "pf"
    } else {
        "iptables"
    }
}

/// Lines of YAML with their comments, aligned.
struct Out(String);

impl Out {
    fn line(&mut self, yaml: &str, why: &str) {
        let _ = writeln!(self.0, "{yaml:<38} # {why}");
    }
}

impl FirstRun {
    fn shown(&self, p: &Path) -> String {
        shown(&self.root, p)
    }

    fn enabled_note(&self, kind: &str) -> String {
        let units: Vec<&str> = SERVICES
            .iter()
            .filter(|(u, k)| *k == kind && self.enabled.iter().any(|e| e == u))
            .map(|(u, _)| *u)
            .collect();
        if units.is_empty() {
            String::new()
        } else {
            format!(", {} enabled", units.join(", "))
        }
    }

    /// What was found, one sentence a line: `driftwall watch` logs these
    /// when it runs without a configuration.
    pub fn summary(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .watch
            .iter()
            .map(|w| match w {
                Watch::File { path, .. } => {
                    let p = self.shown(path);
                    let kind = kind_of(&p);
                    format!("{kind}: watching {p}{}", self.enabled_note(kind))
                }
                Watch::Ufw { dir, .. } => format!(
                    "ufw: watching {} with /etc/default/ufw{}",
                    self.shown(dir),
                    self.enabled_note("ufw")
                ),
                Watch::Firewalld { dir, .. } => format!(
                    "firewalld: watching {}{}",
                    self.shown(dir),
                    self.enabled_note("firewalld")
                ),
                Watch::Command {
                    argv, compare_with, ..
                } => format!(
                    "live ruleset: running `{}`{}",
                    argv.join(" "),
                    compare_with
                        .as_ref()
                        .map(|c| format!(", compared with {}", self.shown(c)))
                        .unwrap_or_default()
                ),
            })
            .collect();
        if self.watch.is_empty() {
            lines.push("no firewall configuration found: nothing to watch".into());
        }
        lines.push(format!(
            "role {}: {}",
            match self.role {
                RoleKind::Host => "host",
                RoleKind::Gateway => "gateway",
            },
            self.role_why
        ));
        if self.forwarding {
            lines.push("a gateway, perhaps: with a configuration naming its LAN side (role: gateway, lan_interface or lan_network), the policies are read for the devices behind it".into());
        }
        lines.extend(self.live.clone());
        lines.push(format!("policies: {}", self.policies.join(", ")));
        lines
    }

    /// The configuration `driftwall watch` runs on without a file: the
    /// embedded default with what was found.
    pub fn config(&self) -> Config {
        let mut c = Config::embedded_default();
        c.watch = self.watch.clone();
        c.role.kind = self.role;
        c.policies = self.policies.clone();
        c
    }

    /// The configuration as YAML the daemon reads, every line with a
    /// comment that says why. Paths are the host's (without `root`), so the
    /// file is right once the tree at `root` is the running system.
    pub fn yaml(&self) -> String {
        let mut o = Out(String::new());
        let _ = writeln!(
            o.0,
            "# driftwall configuration written by `driftwall init` from what it found{}.",
            if self.root == Path::new("/") {
                String::new()
            } else {
                format!(" under {}", self.root.display())
            }
        );
        o.0.push_str("# Every key is described in driftwall.yaml(5); check it with\n# `driftwall watch --config /etc/driftwall/driftwall.yaml --once`.\n");
        if self.watch.is_empty() {
            o.line(
                "watch: []",
                "no nftables, iptables, ufw, firewalld or pf configuration found",
            );
        } else {
            o.line("watch:", "the firewall configuration found on this host");
        }
        let mut live = false;
        for w in &self.watch {
            match w {
                Watch::File { path, format } => {
                    let p = self.shown(path);
                    let kind = kind_of(&p);
                    o.line(
                        &format!("  - path: {}", scalar(&p)),
                        &format!("{kind}: the file exists{}", self.enabled_note(kind)),
                    );
                    if *format != InputFormat::Auto {
                        o.line(
                            &format!("    format: {}", format_name(*format)),
                            "its name says which family it holds",
                        );
                    }
                }
                Watch::Ufw { dir, .. } => {
                    o.line(
                        &format!("  - path: {}", scalar(&self.shown(dir))),
                        &format!("ufw: {UFW_DIR}/ufw.conf exists{}", self.enabled_note("ufw")),
                    );
                    o.line(
                        "    format: ufw",
                        "the folder with /etc/default/ufw, read as ufw loads them",
                    );
                }
                Watch::Firewalld { dir, .. } => {
                    o.line(
                        &format!("  - path: {}", scalar(&self.shown(dir))),
                        &format!(
                            "firewalld: {FIREWALLD_DIR} holds firewalld.conf or zones/{}",
                            self.enabled_note("firewalld")
                        ),
                    );
                    o.line(
                        "    format: firewalld",
                        "zones, services and policies over the stock definitions",
                    );
                }
                Watch::Command {
                    argv,
                    interval,
                    format,
                    compare_with,
                } => {
                    live = true;
                    let words: Vec<String> = argv.iter().map(|a| scalar(a)).collect();
                    o.line(
                        &format!("  - command: [{}]", words.join(", ")),
                        "the ruleset loaded in the kernel (nft is installed)",
                    );
                    o.line(
                        &format!("    interval: {}s", interval.as_secs().max(1)),
                        "read this often",
                    );
                    o.line(
                        &format!("    format: {}", format_name(*format)),
                        "what `nft -j` prints",
                    );
                    if let Some(c) = compare_with {
                        o.line(
                            &format!("    compare_with: {}", scalar(&self.shown(c))),
                            "runtime-only changes show as a live difference (needs systemd/live-ruleset.conf)",
                        );
                    }
                }
            }
        }
        // The live ruleset of a plain nftables host is offered, not turned
        // on: reading it needs CAP_NET_ADMIN, which the unit grants only
        // with its drop-in, and the daemon's default does not run it either.
        if !live
            && let Some(Watch::File { path, .. }) = self
                .watch
                .iter()
                .find(|w| matches!(w, Watch::File { path, .. } if path.ends_with("nftables.conf")))
        {
            o.line(
                "  # - command: [nft, -j, list, ruleset]",
                "the kernel's ruleset, compared with the file it is loaded from;",
            );
            o.line(
                &format!("  #   compare_with: {}", scalar(&self.shown(path))),
                "needs CAP_NET_ADMIN: install systemd/live-ruleset.conf first",
            );
        }
        if let Some(live) = &self.live {
            let _ = writeln!(o.0, "# {live}");
        }
        let policies: Vec<String> = self.policies.iter().map(|p| scalar(p)).collect();
        o.line(
            &format!("policies: [{}]", policies.join(", ")),
            "DNS, NTP, HTTP(S) and push: what every Apple device needs",
        );
        o.line(
            "# policies: [apple:essentials, apple:hardening]",
            "also: the ports a host should keep closed",
        );
        o.line(
            match self.role {
                RoleKind::Host => "role: host",
                RoleKind::Gateway => "role: gateway",
            },
            &self.role_why,
        );
        if self.forwarding {
            o.line(
                "# role: gateway",
                "a router in front of Apple devices: uncomment it with its LAN side",
            );
            o.line(
                "# lan_interface: [eth1]",
                "the Apple devices' side, by interface (`+` for a prefix)",
            );
            o.line("# lan_network: [192.168.1.0/24]", "or by network");
        }
        o.0
    }

    /// Writes the configuration to ROOT/etc/driftwall/driftwall.yaml, unless
    /// a file is there: an operator's configuration is never replaced.
    pub fn write(&self) -> Result<PathBuf, String> {
        let path = self.root.join("etc/driftwall/driftwall.yaml");
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(format!(
                "{} exists: driftwall init does not replace a configuration (print one with `driftwall init` and merge it by hand, or remove the file)",
                path.display()
            ));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("{}: cannot create the folder: {e}", dir.display()))?;
        }
        // create_new: a file that appeared since the check is not replaced either.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, self.yaml().as_bytes()));
        written.map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        Ok(path)
    }
}
