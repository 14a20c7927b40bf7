//! `driftwall init --root DIR` on fixture roots, one per firewall kind: what
//! it prints is a configuration the reader accepts, watching exactly what
//! the daemon's embedded default watches there, and `--write` never
//! replaces a configuration.

mod support;

use driftwall::daemon::config::{Config, Watch, standard_watches};
use driftwall::daemon::detect::detect;
use driftwall::policy::RoleKind;
use std::path::{Path, PathBuf};
use support::{Scratch, driftwall};

/// A watch with its paths as the host sees them (without the fixture root),
/// as the printed configuration names them.
fn as_host(root: &Path, w: Watch) -> Watch {
    let host = |p: PathBuf| match p.strip_prefix(root) {
        Ok(rest) => Path::new("/").join(rest),
        Err(_) => p,
    };
    match w {
        Watch::File { path, format } => Watch::File {
            path: host(path),
            format,
        },
        Watch::Ufw { dir, defaults } => Watch::Ufw {
            dir: host(dir),
            defaults,
        },
        Watch::Firewalld { dir, stock } => Watch::Firewalld {
            dir: host(dir),
            stock,
        },
        Watch::Command {
            argv,
            interval,
            format,
            compare_with,
        } => Watch::Command {
            argv,
            interval,
            format,
            compare_with: compare_with.map(host),
        },
    }
}

/// Runs `init --root` and checks the printed configuration: every line
/// that says something says why, the reader accepts it, and it watches what
/// the embedded default's decision watches.
fn init(root: &Path) -> Config {
    let (code, out, err) = driftwall(&["init", "--root", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.contains('#'),
            "a line without its reason: {line}\n{out}"
        );
    }
    let config = Config::from_str("init", &out).unwrap_or_else(|e| panic!("{e:?}\n{out}"));
    let expected: Vec<Watch> = standard_watches(root)
        .into_iter()
        .map(|w| as_host(root, w))
        .collect();
    assert_eq!(config.watch, expected, "{out}");
    assert_eq!(config.policies, ["apple:essentials"], "{out}");
    // Its policies load for its role: the daemon would start on it.
    if let Err(e) = driftwall::daemon::load_policies(&config) {
        panic!("{:?}\n{out}", e.problems);
    }
    // The daemon without a configuration runs on the same answer.
    let first = detect(root);
    assert_eq!(first.config().watch, standard_watches(root));
    assert_eq!(first.config().role.kind, config.role.kind);
    config
}

#[test]
fn an_nftables_host() {
    let s = Scratch::new("init-nft");
    s.file("etc/nftables.conf", "flush ruleset\n");
    s.file("proc/sys/net/ipv4/ip_forward", "0\n");
    std::fs::create_dir_all(s.join("etc/systemd/system/sysinit.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        "/lib/systemd/system/nftables.service",
        s.join("etc/systemd/system/sysinit.target.wants/nftables.service"),
    )
    .unwrap();
    let c = init(&s);
    assert_eq!(c.role.kind, RoleKind::Host);
    let (_, out, _) = driftwall(&["init", "--root", s.to_str().unwrap()]);
    assert!(out.contains("nftables.service enabled"), "{out}");
    assert!(
        out.contains("# - command: [nft, -j, list, ruleset]"),
        "{out}"
    );
    assert!(out.contains("ip_forward is 0"), "the role says why: {out}");
}

#[test]
fn an_iptables_gateway() {
    let s = Scratch::new("init-ipt");
    s.file("etc/iptables/rules.v4", "*filter\nCOMMIT\n");
    s.file("etc/iptables/rules.v6", "*filter\nCOMMIT\n");
    // No /proc: the boot-time setting decides, the last one winning.
    s.file(
        "etc/sysctl.conf",
        "#net.ipv4.ip_forward=1\nnet.ipv4.ip_forward = 0\n",
    );
    s.file("etc/sysctl.d/99-router.conf", "net.ipv4.ip_forward=1\n");
    let c = init(&s);
    // A gateway without its LAN side is refused: suggested, not set.
    assert_eq!(c.role.kind, RoleKind::Host);
    let (_, out, _) = driftwall(&["init", "--root", s.to_str().unwrap()]);
    assert!(out.contains("# role: gateway"), "{out}");
    assert!(out.contains("format: ip6tables"), "{out}");
    assert!(
        out.contains("/etc/sysctl.d/99-router.conf sets net.ipv4.ip_forward = 1"),
        "{out}"
    );
    assert!(out.contains("# lan_interface:"), "{out}");
}

#[test]
fn a_ufw_host() {
    let s = Scratch::new("init-ufw");
    s.file("etc/ufw/ufw.conf", "ENABLED=yes\n");
    s.file("etc/default/ufw", "IPV6=yes\n");
    let c = init(&s);
    assert!(matches!(&c.watch[..], [Watch::Ufw { dir, .. }] if dir == Path::new("/etc/ufw")));
}

#[test]
fn a_firewalld_host_with_nft() {
    let s = Scratch::new("init-firewalld");
    s.file("etc/firewalld/firewalld.conf", "DefaultZone=public\n");
    s.file("usr/sbin/nft", "");
    let c = init(&s);
    assert!(
        matches!(&c.watch[1], Watch::Command { compare_with: Some(d), .. } if d == Path::new("/etc/firewalld")),
        "{:?}",
        c.watch
    );
}

#[test]
fn a_pf_host() {
    let s = Scratch::new("init-pf");
    s.file("etc/pf.conf", "pass all\n");
    init(&s);
}

#[test]
fn an_empty_host_watches_nothing_and_says_so() {
    let s = Scratch::new("init-empty");
    let c = init(&s);
    assert!(c.watch.is_empty());
}

#[test]
fn write_installs_once_and_never_replaces() {
    let s = Scratch::new("init-write");
    s.file("etc/nftables.conf", "flush ruleset\n");
    let root = s.to_str().unwrap();
    let (code, out, err) = driftwall(&["init", "--root", root, "--write"]);
    assert_eq!(code, 0, "{err}");
    let path = s.join("etc/driftwall/driftwall.yaml");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), out);
    std::fs::write(&path, "policies: [apple:hardening]\n").unwrap();
    let (code, _, err) = driftwall(&["init", "--root", root, "--write"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("exists") && err.contains("does not replace"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "policies: [apple:hardening]\n"
    );
}

#[test]
fn the_packaged_configuration_is_valid_and_watches_what_init_finds() {
    let c = Config::load(&support::root().join("debian/driftwall.yaml"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(c.policies, ["apple:essentials"]);
    assert_eq!(c.watch, standard_watches(Path::new("/")));
}

#[test]
fn watch_without_a_configuration_logs_what_init_prints() {
    let (code, init, err) = driftwall(&["init"]);
    assert_eq!(code, 0, "{err}");
    let state = Scratch::new("init-watch-state");
    let (code, _, log) = support::run(
        support::bin()
            .args(["watch", "--once"])
            .env("STATE_DIRECTORY", state.path())
            .env("DRIFTWALL_LOG", "info"),
    );
    assert_eq!(code, 0, "{log}");
    let found: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            l.split_once("no configuration file; found: ")
                .map(|(_, f)| f)
        })
        .collect();
    assert!(!found.is_empty(), "{log}");
    // The same watches, the same role and its reason, the same policy.
    for line in init.lines() {
        if let Some(path) = line.trim_start().strip_prefix("- path: ") {
            let path = path.split_whitespace().next().unwrap();
            assert!(
                found
                    .iter()
                    .any(|f| f.contains(&format!("watching {path}"))),
                "{path} is in init's answer, not in the daemon's: {found:?}"
            );
        }
        if let Some(role) = line.strip_prefix("role: ") {
            let (kind, why) = role.split_once('#').unwrap();
            let said = format!("role {}: {}", kind.trim(), why.trim());
            assert!(found.contains(&said.as_str()), "{said} not in {found:?}");
        }
    }
}
