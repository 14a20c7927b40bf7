//! ufw and the kernel as the judge of the ufw reader.
//!
//! Each configuration is made by the real `ufw` command against a scratch
//! root (`ufw --rootdir=R --datadir=R ...`, in a network namespace of its
//! own so that it cannot touch the host's rules), from ufw's pristine files
//! in `/usr/share/ufw`. ufw itself then loads it (`ufw --force enable`) in
//! the firewall namespace of the kernel harness (`tests/kernel/`), inside a
//! private mount namespace where the configuration's `etc/ufw` and
//! `etc/default/ufw` are bound over `/etc`: the installed ufw runs
//! unchanged, and the host's own configuration and rules are never touched.
//! Real TCP and UDP traffic then goes through, and `driftwall probe` on the
//! configuration folder must agree with what each socket saw. Finally
//! `driftwall diff` of the folder against the `iptables-save` and
//! `ip6tables-save` of what ufw loaded must find no verdict change.
//!
//! A `limit` rule (the recent module) lets the first connections through
//! and refuses later ones: driftwall calls what it decides indeterminate.
//! Such probes are counted apart, and must name the `recent` rule.
//!
//! Knobs: `DRIFTWALL_KERNEL_SEED`, `DRIFTWALL_UFW_CONFIGS` (default 40),
//! `DRIFTWALL_KERNEL_PROBES` (per configuration, default 60),
//! `DRIFTWALL_KERNEL_TIMEOUT_MS`, `DRIFTWALL_KERNEL_JOBS`.

mod kernel;
mod support;

use kernel::generate::Rng;
use kernel::netns::{self, Topology};
use kernel::run::{self, Observation};
use kernel::{Family, Host, Kind, Knobs, LINKS, Probe, Proto, Verdict, env_number, in_parallel};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::Scratch;

const DEFAULT_SEED: u64 = 0x0f00_7a11_0000_0000;

/// The stock `/etc/default/ufw` of Debian's package, which keeps no pristine
/// copy of it.
const DEFAULTS: &str = "IPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n\
DEFAULT_FORWARD_POLICY=\"DROP\"\nDEFAULT_APPLICATION_POLICY=\"SKIP\"\nMANAGE_BUILTINS=no\n\
IPT_SYSCTL=/etc/ufw/sysctl.conf\nIPT_MODULES=\"\"\n";

/// ufw's loads are serialized: ufw-init takes no lock of its own across
/// namespaces, and one at a time keeps its output readable.
static LOADING: Mutex<()> = Mutex::new(());

fn available() -> bool {
    let tools = [
        "ip",
        "iptables-restore",
        "ip6tables-restore",
        "iptables-save",
        "python3",
        "ufw",
        "unshare",
        "mount",
    ];
    if let Some(reason) = kernel::missing_for(&tools) {
        kernel::skip(&reason);
        return false;
    }
    for needed in [
        "/usr/lib/ufw/ufw-init",
        "/usr/share/ufw/iptables/before.rules",
        "/etc/ufw",
        "/etc/default/ufw",
    ] {
        if !Path::new(needed).exists() {
            kernel::skip(&format!("ufw is installed without {needed}"));
            return false;
        }
    }
    netns::remove_stale();
    true
}

/// One generated configuration.
struct Config {
    index: usize,
    seed: u64,
    /// The scratch root: `etc/ufw`, `etc/default/ufw`, `lib/ufw`.
    root: PathBuf,
    /// The ufw commands and hand edits that made it, for reports.
    steps: Vec<String>,
    /// Ports the rules name, which the probes aim at.
    ports: BTreeSet<(Proto, u16)>,
    ipv6: bool,
}

impl Config {
    fn etc_ufw(&self) -> PathBuf {
        self.root.join("etc/ufw")
    }
}

/// Runs `ufw ARGS` against the scratch root, in a network namespace of its
/// own (ufw probes iptables when it starts).
fn ufw(root: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new("unshare");
    cmd.arg("-n")
        .arg("ufw")
        .arg(format!("--rootdir={}", root.display()))
        .arg(format!("--datadir={}", root.display()))
        .args(args);
    netns::run(&mut cmd, None).map(drop)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// A fresh scratch root with ufw's pristine configuration.
fn pristine(root: &Path) -> Result<(), String> {
    let etc_ufw = root.join("etc/ufw");
    for dir in [
        etc_ufw.join("applications.d"),
        root.join("etc/default"),
        root.join("lib/ufw"),
    ] {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for name in [
        "before.rules",
        "before6.rules",
        "after.rules",
        "after6.rules",
        "user.rules",
        "user6.rules",
    ] {
        copy(
            &Path::new("/usr/share/ufw/iptables").join(name),
            &etc_ufw.join(name),
        )?;
    }
    copy(
        Path::new("/usr/share/ufw/ufw.conf"),
        &etc_ufw.join("ufw.conf"),
    )?;
    if Path::new("/etc/ufw/sysctl.conf").exists() {
        copy(
            Path::new("/etc/ufw/sysctl.conf"),
            &etc_ufw.join("sysctl.conf"),
        )?;
    }
    let profiles = std::fs::read_dir("/etc/ufw/applications.d").map_err(|e| e.to_string())?;
    for entry in profiles.flatten() {
        copy(
            &entry.path(),
            &etc_ufw.join("applications.d").join(entry.file_name()),
        )?;
    }
    // `ufw --rootdir` wants its init script under the root, though it runs
    // it only when enabling.
    for name in ["ufw-init", "ufw-init-functions"] {
        copy(
            &Path::new("/usr/lib/ufw").join(name),
            &root.join("lib/ufw").join(name),
        )?;
    }
    std::fs::write(root.join("etc/default/ufw"), DEFAULTS).map_err(|e| e.to_string())
}

/// Application profiles of ufw's own `applications.d`, with their ports.
const PROFILES: &[(&str, &[(Proto, u16)])] = &[
    ("WWW Full", &[(Proto::Tcp, 80), (Proto::Tcp, 443)]),
    ("DNS", &[(Proto::Tcp, 53), (Proto::Udp, 53)]),
    ("SSH", &[(Proto::Tcp, 22)]),
    ("IMAPS", &[(Proto::Tcp, 993)]),
];

/// Generates configuration `index` with the real ufw command.
fn generate(index: usize, seed: u64, root: &Path) -> Result<Config, String> {
    pristine(root)?;
    let mut rng = Rng::new(seed);
    let mut steps = Vec::new();
    let mut ports = BTreeSet::new();
    let run = |args: Vec<String>, steps: &mut Vec<String>| -> Result<(), String> {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        steps.push(format!("ufw {}", args.join(" ")));
        ufw(root, &refs)
    };
    let policies = ["allow", "deny", "reject"];
    for (direction, weights) in [
        ("incoming", [2, 5, 3]),
        ("outgoing", [6, 2, 2]),
        ("routed", [3, 5, 2]),
    ] {
        let pick = rng.weighted(&[
            (weights[0], policies[0]),
            (weights[1], policies[1]),
            (weights[2], policies[2]),
        ]);
        run(
            vec!["default".into(), pick.into(), direction.into()],
            &mut steps,
        )?;
    }
    let ipv6 = !rng.percent(20);
    let port =
        |rng: &mut Rng| -> u16 { rng.pick(&[22, 23, 25, 53, 80, 443, 2222, 5000, 8080, 9000]) };
    let link = |rng: &mut Rng| LINKS[rng.below(LINKS.len())];
    let count = rng.between(3, 9);
    for _ in 0..count {
        let action = rng.weighted(&[(5, "allow"), (3, "deny"), (2, "reject"), (1, "limit")]);
        let p = port(&mut rng);
        let proto = rng.pick(&[Proto::Tcp, Proto::Udp]);
        let args: Vec<String> = match rng.below(11) {
            // A port, with or without a protocol.
            0 => {
                ports.insert((Proto::Tcp, p));
                ports.insert((Proto::Udp, p));
                vec![action.into(), p.to_string()]
            }
            1 | 2 => {
                ports.insert((proto, p));
                vec![action.into(), format!("{p}/{}", proto.name())]
            }
            // A range.
            3 => {
                let end = p.saturating_add(rng.between(1, 20) as u16);
                ports.insert((proto, p));
                ports.insert((proto, end));
                ports.insert((proto, end.saturating_add(1)));
                vec![action.into(), format!("{p}:{end}/{}", proto.name())]
            }
            // from / to, on an interface.
            4 => {
                let l = link(&mut rng);
                ports.insert((proto, p));
                let from = if rng.percent(50) {
                    format!("10.{}.0.0/24", l.net)
                } else {
                    "any".into()
                };
                vec![
                    action.into(),
                    "in".into(),
                    "on".into(),
                    l.fw_if.into(),
                    "from".into(),
                    from,
                    "to".into(),
                    "any".into(),
                    "port".into(),
                    p.to_string(),
                    "proto".into(),
                    proto.name().into(),
                ]
            }
            5 => {
                let l = link(&mut rng);
                ports.insert((proto, p));
                vec![
                    if action == "limit" { "deny" } else { action }.into(),
                    "out".into(),
                    "on".into(),
                    l.fw_if.into(),
                    "to".into(),
                    format!("10.{}.0.2", l.net),
                    "port".into(),
                    p.to_string(),
                    "proto".into(),
                    proto.name().into(),
                ]
            }
            6 => {
                let l = link(&mut rng);
                ports.insert((proto, p));
                vec![
                    action.into(),
                    "from".into(),
                    format!("fd00:{}::/64", l.net),
                    "to".into(),
                    "any".into(),
                    "port".into(),
                    p.to_string(),
                    "proto".into(),
                    proto.name().into(),
                ]
            }
            // Routed traffic.
            7 | 8 => {
                let (a, b) = (link(&mut rng), link(&mut rng));
                ports.insert((proto, p));
                let mut args: Vec<String> = vec![
                    "route".into(),
                    if action == "limit" { "allow" } else { action }.into(),
                    "in".into(),
                    "on".into(),
                    a.fw_if.into(),
                ];
                if a.net != b.net {
                    args.extend(["out".into(), "on".into(), b.fw_if.into()]);
                }
                args.extend([
                    "to".into(),
                    "any".into(),
                    "port".into(),
                    p.to_string(),
                    "proto".into(),
                    proto.name().into(),
                ]);
                args
            }
            // Inserted first.
            9 => {
                ports.insert((proto, p));
                vec![
                    "insert".into(),
                    "1".into(),
                    if action == "limit" { "deny" } else { action }.into(),
                    format!("{p}/{}", proto.name()),
                ]
            }
            // An application profile.
            _ => {
                let (name, profile_ports) = rng.pick(PROFILES);
                ports.extend(profile_ports.iter().copied());
                vec![action.into(), name.into()]
            }
        };
        // `insert 1` needs a rule to insert before; ufw refuses otherwise.
        if args.first().map(String::as_str) == Some("insert") && !has_rules(root) {
            continue;
        }
        run(args, &mut steps)?;
    }
    // A few hand edits, as admins make them.
    if rng.percent(30) {
        let p = port(&mut rng);
        let proto = rng.pick(&[Proto::Tcp, Proto::Udp]);
        ports.insert((proto, p));
        let line = match rng.below(3) {
            0 => format!(
                "-A ufw-before-input -p {} --dport {p} -j DROP",
                proto.name()
            ),
            1 => format!(
                "-A ufw-before-forward -i lan1 -o wan0 -p {} --dport {p} -j ACCEPT",
                proto.name()
            ),
            _ => {
                format!("-A ufw-before-output -p tcp --dport {p} -j REJECT --reject-with tcp-reset")
            }
        };
        hand_edit(root, "before.rules", &line)?;
        steps.push(format!("before.rules: {line}"));
    }
    if !ipv6 {
        let path = root.join("etc/default/ufw");
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        std::fs::write(&path, text.replace("IPV6=yes", "IPV6=no")).map_err(|e| e.to_string())?;
        steps.push("etc/default/ufw: IPV6=no".into());
    }
    Ok(Config {
        index,
        seed,
        root: root.to_path_buf(),
        steps,
        ports,
        ipv6,
    })
}

fn has_rules(root: &Path) -> bool {
    std::fs::read_to_string(root.join("etc/ufw/user.rules"))
        .is_ok_and(|t| t.contains("### tuple ###"))
}

/// Adds `line` before the last COMMIT of a rule file.
fn hand_edit(root: &Path, name: &str, line: &str) -> Result<(), String> {
    let path = root.join("etc/ufw").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let at = text.rfind("\nCOMMIT").ok_or("no COMMIT")?;
    let edited = format!("{}\n{line}{}", &text[..at], &text[at..]);
    std::fs::write(&path, edited).map_err(|e| e.to_string())
}

/// Loads the configuration with ufw itself in the firewall namespace and
/// saves what it loaded (`saved.v4`, `saved.v6` in the root).
fn load(topology: &Topology, config: &Config) -> Result<(), String> {
    let _one = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    let root = config.root.display().to_string();
    let script = format!(
        "set -e\n\
         mount -t tmpfs tmpfs /run\n\
         mount --bind '{root}/etc/ufw' /etc/ufw\n\
         mount --bind '{root}/etc/default/ufw' /etc/default/ufw\n\
         ufw --force enable >/dev/null\n\
         iptables-save > '{root}/saved.v4'\n\
         ip6tables-save > '{root}/saved.v6'\n"
    );
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &topology.ns(Host::Firewall)])
        .args([
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
        ]);
    netns::run(&mut cmd, None)
        .map(drop)
        .map_err(|e| format!("ufw could not load the configuration: {e}"))
}

/// Probes of one family aimed at the configuration's ports.
fn probes(config: &Config, family: Family, count: usize, rng: &mut Rng) -> Vec<Probe> {
    let ports: Vec<(Proto, u16)> = config.ports.iter().copied().collect();
    (0..count)
        .map(|i| {
            let (proto, dport) = if ports.is_empty() || rng.percent(25) {
                (
                    rng.pick(&[Proto::Tcp, Proto::Udp]),
                    rng.pick(&[21, 22, 23, 80, 443, 3306, 6000]),
                )
            } else {
                rng.pick(&ports)
            };
            let kind = rng.weighted(&[(5, Kind::In), (3, Kind::Out), (3, Kind::Fwd)]);
            let link = rng.below(LINKS.len());
            let other = (link + 1 + rng.below(LINKS.len() - 1)) % LINKS.len();
            let id = format!("c{}{}p{i}", config.index, family.name());
            Probe::between(&id, kind, family, proto, link, other, dport)
        })
        .collect()
}

/// `driftwall probe` on the configuration folder.
fn driftwall(config: &Config, probes: &[Probe]) -> Result<Vec<(Verdict, Vec<String>)>, String> {
    let file = config.root.join("probes.json");
    let list: Vec<Value> = probes.iter().map(Probe::to_json).collect();
    std::fs::write(&file, Value::Array(list).to_string()).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwall"));
    cmd.arg("probe")
        .arg(config.etc_ufw())
        .arg("--probes")
        .arg(&file);
    for link in LINKS {
        for family in [Family::V4, Family::V6] {
            cmd.arg("--host-address")
                .arg(format!("{}={}", link.fw_if, link.fw_addr(family)));
        }
    }
    let out = netns::run(&mut cmd, None)?;
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("driftwall probe printed no JSON array: {e}"))?;
    Ok(answers
        .iter()
        .map(|a| {
            let verdict = a["verdict"]
                .as_str()
                .and_then(Verdict::parse)
                .unwrap_or(Verdict::Error);
            let rules = a["decided_by"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    format!(
                        "{}:{}: {}",
                        d["file"].as_str().unwrap_or("?"),
                        d["line"],
                        d["text"].as_str().unwrap_or("")
                    )
                })
                .collect();
            (verdict, rules)
        })
        .collect())
}

/// A policy whose requirements cover every TCP and UDP connection in every
/// direction, so that `driftwall diff` compares them all.
const EVERYTHING: &str = r"policy: everything
requirements:
  - {id: in, expect: allow, direction: inbound, protocol: [tcp, udp], ports: [1-65535]}
  - {id: out, expect: allow, direction: outbound, protocol: [tcp, udp], ports: [1-65535]}
";

/// The same for forwarded connections, checked in the gateway role.
const FORWARDED: &str = r"policy: forwarded
requirements:
  - {id: fwd, expect: allow, direction: forward, protocol: [tcp, udp], ports: [1-65535]}
";

/// `driftwall diff` of the folder against what ufw loaded, per family:
/// the connections whose verdict changes (none is right).
fn diff(config: &Config, saved: &str) -> Result<(), String> {
    for (name, policy, role) in [
        ("everything.yaml", EVERYTHING, "host"),
        ("forwarded.yaml", FORWARDED, "gateway"),
    ] {
        let file = config.root.join(name);
        std::fs::write(&file, policy).map_err(|e| e.to_string())?;
        let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
            .arg("diff")
            .arg(config.etc_ufw())
            .arg(config.root.join(saved))
            .arg("-p")
            .arg(&file)
            .args(["--role", role])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.code() != Some(0) || !text.contains("requirements changes its verdict") {
            return Err(format!(
                "driftwall diff {saved} ({role}) found a difference (exit {:?}):\n{text}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// The outcome of one configuration.
#[derive(Default)]
struct Outcome {
    compared: usize,
    agreed: usize,
    /// Probes a limit rule made indeterminate, as it should.
    limited: usize,
    /// Of these, the ones the kernel let through (a first connection).
    limited_allowed: usize,
    problems: Vec<String>,
}

fn run_config(config: &Config, count: usize, timeout: Duration) -> Outcome {
    let mut out = Outcome::default();
    let mut rng = Rng::new(config.seed ^ 0x5eed);
    for family in [Family::V4, Family::V6] {
        let probes = probes(config, family, count / 2, &mut rng);
        let seen: Result<(Vec<Observation>, ()), String> =
            run::kernel_with(family, &probes, &[], timeout, |t| load(t, config));
        let mut seen = match seen {
            Ok((seen, ())) => seen,
            Err(e) => {
                out.problems
                    .push(format!("{}: the kernel run failed: {e}", family.name()));
                continue;
            }
        };
        let said = match driftwall(config, &probes) {
            Ok(said) if said.len() == probes.len() => said,
            Ok(said) => {
                out.problems.push(format!(
                    "driftwall answered {} of {}",
                    said.len(),
                    probes.len()
                ));
                continue;
            }
            Err(e) => {
                out.problems.push(format!("driftwall probe failed: {e}"));
                continue;
            }
        };
        // A second, more patient look before blaming driftwall, as the
        // iptables kernel test does: some verdicts need a retransmission.
        let differing: Vec<usize> = (0..probes.len())
            .filter(|&i| seen[i].verdict != said[i].0 && said[i].0 != Verdict::Indeterminate)
            .collect();
        if !differing.is_empty() {
            let again: Vec<Probe> = differing.iter().map(|&i| probes[i].clone()).collect();
            if let Ok((second, ())) =
                run::kernel_with(family, &again, &[], timeout * 5 / 2, |t| load(t, config))
            {
                for (&i, obs) in differing.iter().zip(second) {
                    seen[i] = obs;
                }
            }
        }
        for ((probe, obs), (verdict, rules)) in probes.iter().zip(&seen).zip(&said) {
            if *verdict == Verdict::Indeterminate && rules.iter().any(|r| r.contains("-m recent")) {
                // The kernel lets a limit rule's first connections through.
                out.limited += 1;
                if obs.verdict == Verdict::Allow {
                    out.limited_allowed += 1;
                }
                continue;
            }
            out.compared += 1;
            if obs.verdict == *verdict {
                out.agreed += 1;
            } else {
                out.problems.push(format!(
                    "probe {probe}\n    kernel:    {} ({})\n    driftwall: {}, decided by:\n      {}",
                    obs.verdict.name(),
                    obs.detail,
                    verdict.name(),
                    rules.join("\n      ")
                ));
            }
        }
        let saved = if family == Family::V4 {
            "saved.v4"
        } else {
            "saved.v6"
        };
        if let Err(e) = diff(config, saved) {
            out.problems.push(e);
        }
    }
    out
}

#[test]
fn ufw_loads_what_driftwall_reads_from_the_configuration() {
    if !available() {
        return;
    }
    let Knobs {
        seed,
        probes,
        timeout,
        jobs,
        ..
    } = Knobs::from_env(DEFAULT_SEED);
    let configs = env_number("DRIFTWALL_UFW_CONFIGS").unwrap_or(40) as usize;
    // Limit rules take some probes out of the comparison: aim more than 40.
    let probes = env_number("DRIFTWALL_KERNEL_PROBES").map_or(60, |_| probes);
    let jobs = jobs.min(2);
    println!(
        "ufw kernel test: {configs} configurations x {probes} probes, seeds {seed:#x}.., {jobs} at once"
    );
    let started = Instant::now();
    let results = in_parallel(configs, jobs, |i| {
        let scratch = Scratch::new("kernel-ufw");
        let seed = seed.wrapping_add(i as u64);
        let outcome = match generate(i, seed, scratch.path()) {
            Ok(config) => {
                let mut outcome = run_config(&config, probes, timeout);
                if outcome.compared < 40 {
                    outcome.problems.push(format!(
                        "only {} probes compared, at least 40 are needed",
                        outcome.compared
                    ));
                }
                println!(
                    "config {i} ({seed:#x}, ipv6 {}): {} steps, {}/{} agreed, {} limited{}",
                    if config.ipv6 { "on" } else { "off" },
                    config.steps.len(),
                    outcome.agreed,
                    outcome.compared,
                    outcome.limited,
                    if outcome.problems.is_empty() {
                        ""
                    } else {
                        ", PROBLEMS"
                    }
                );
                if !outcome.problems.is_empty() {
                    println!(
                        "\n=== config {i}, reproduce with DRIFTWALL_KERNEL_SEED={seed:#x} \
                         DRIFTWALL_UFW_CONFIGS=1\n  made by:\n    {}\n  {}\n",
                        config.steps.join("\n    "),
                        outcome.problems.join("\n  ")
                    );
                }
                outcome
            }
            Err(e) => Outcome {
                problems: vec![format!("config {i}: ufw could not make it: {e}")],
                ..Outcome::default()
            },
        };
        if !outcome.problems.is_empty() && outcome.compared == 0 {
            println!("config {i}: {}", outcome.problems.join("; "));
        }
        outcome
    });
    let compared: usize = results.iter().map(|o| o.compared).sum();
    let agreed: usize = results.iter().map(|o| o.agreed).sum();
    let limited: usize = results.iter().map(|o| o.limited).sum();
    let limited_allowed: usize = results.iter().map(|o| o.limited_allowed).sum();
    let failed = results.iter().filter(|o| !o.problems.is_empty()).count();
    println!(
        "configurations: {configs}, probes compared: {compared}, agreed: {agreed} ({:.2}%), \
         indeterminate by a limit rule: {limited} (the kernel let {limited_allowed} of them \
         through), configurations with problems: {failed}, wall time {:.1}s",
        if compared == 0 {
            0.0
        } else {
            100.0 * agreed as f64 / compared as f64
        },
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed == 0 && compared > 0 && agreed == compared,
        "ufw and driftwall disagree (details above)"
    );
}
