//! The Debian package as an operator meets it (issue 19): built with
//! scripts/package from the binary under test, installed with `dpkg -i`,
//! used (version, man pages, the unit, bash completion, the shipped
//! configuration), then removed and purged, each leaving what Debian policy
//! says. It changes the machine, so it runs only as root on a machine
//! without a driftwall package (CI's is throwaway), and skips otherwise
//! (fails under DRIFTWALL_REQUIRE_ALL). The package is built from the debug
//! binary: a release build would take minutes on CI's two cores, and what
//! is tested here is the packaging, not the optimiser.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Scratch, root, skip};

fn ok(cmd: &mut Command) -> Option<std::process::Output> {
    cmd.output().ok().filter(|o| o.status.success())
}

/// Runs a command that must succeed; its stdout.
fn must(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_root() -> bool {
    ok(Command::new("id").arg("-u")).is_some_and(|o| o.stdout.trim_ascii() == b"0")
}

fn have(tool: &str) -> bool {
    ok(Command::new("sh").args(["-c", &format!("command -v {tool}")])).is_some()
}

fn installed() -> bool {
    ok(Command::new("dpkg-query").args(["-W", "-f", "${Status}", "driftwall"]))
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains("installed"))
}

/// Purges the package whatever happened, so a failed run leaves nothing.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-P", "driftwall"]).output();
    }
}

#[test]
fn the_package_installs_works_and_is_removed_then_purged() {
    if !is_root() {
        skip("not root: dpkg -i needs root");
        return;
    }
    for tool in [
        "dpkg",
        "cargo-deb",
        "man",
        "systemd-analyze",
        "bash",
        "lintian",
    ] {
        if !have(tool) {
            skip(&format!(
                "{tool} is not installed (scripts/test installs it)"
            ));
            return;
        }
    }
    if !Path::new("/usr/share/bash-completion/bash_completion").is_file() {
        skip("bash-completion is not installed (scripts/test installs it)");
        return;
    }
    if installed() {
        skip("a driftwall package is installed on this machine: the test would replace it");
        return;
    }
    let out = Scratch::new("package");
    // The binary under test: target/debug/driftwall of this build.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_driftwall"));
    let target = bin
        .parent()
        .and_then(Path::parent)
        .expect("the target folder");
    must(
        Command::new(root().join("scripts/package"))
            .args(["--no-build", "--output"])
            .arg(out.path())
            .env("CARGO_TARGET_DIR", target)
            .env("DRIFTWALL_PACKAGE_PROFILE", "dev")
            .current_dir(root()),
    );
    let deb = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a .deb");
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("driftwall_{}", env!("CARGO_PKG_VERSION")))
            && name.ends_with("_amd64.deb"),
        "{name}"
    );
    // lintian: no error (warnings are listed and explained in docs/packaging.md).
    let lint = Command::new("lintian")
        .args(["--tag-display-limit", "0", "--suppress-tags-from-file"])
        .arg(root().join("debian/lintian-accepted"))
        .arg(&deb)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&lint.stdout);
    assert!(
        !report.lines().any(|l| l.starts_with("E: ")),
        "lintian errors:\n{report}"
    );

    let _purge = Purge;
    must(Command::new("dpkg").arg("-i").arg(&deb));
    let version = must(Command::new("/usr/bin/driftwall").arg("--version"));
    assert_eq!(
        version.trim(),
        format!("driftwall {}", env!("CARGO_PKG_VERSION"))
    );

    // Every man page renders, without a warning.
    let mut pages: Vec<PathBuf> = ["/usr/share/man/man1", "/usr/share/man/man5"]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("driftwall")
        })
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "{pages:?}");
    assert!(pages.contains(&PathBuf::from("/usr/share/man/man5/driftwall.yaml.5.gz")));
    for page in &pages {
        let o = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(
            o.status.success() && !o.stdout.is_empty() && o.stderr.is_empty(),
            "{}: {}",
            page.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }

    // The installed unit, as systemd reads it.
    let unit = Path::new("/lib/systemd/system/driftwall.service");
    assert!(unit.is_file());
    let v = Command::new("systemd-analyze")
        .args(["verify"])
        .arg(unit)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    assert!(
        v.status.success() && v.stdout.is_empty() && v.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(
        Path::new("/etc/systemd/system/multi-user.target.wants/driftwall.service").exists(),
        "the unit is enabled"
    );

    // bash-completion finds the script in its folder, and it completes.
    let completed = must(Command::new("bash").args([
        "--norc",
        "-c",
        ". /usr/share/bash-completion/bash_completion\n\
         __load_completion driftwall\n\
         f=$(complete -p driftwall | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n\
         COMP_WORDS=(driftwall ch); COMP_CWORD=1; COMP_LINE='driftwall ch'; COMP_POINT=12\n\
         \"$f\" driftwall ch driftwall\n\
         printf '%s\\n' \"${COMPREPLY[@]}\"",
    ]));
    assert_eq!(completed.trim(), "check");

    // The shipped configuration is one the daemon runs on.
    let state = Scratch::new("package-state");
    must(
        Command::new("/usr/bin/driftwall")
            .args([
                "watch",
                "--config",
                "/etc/driftwall/driftwall.yaml",
                "--once",
            ])
            .env("STATE_DIRECTORY", state.path()),
    );

    // Remove: the program goes, the configuration stays.
    std::fs::create_dir_all("/var/lib/driftwall").unwrap();
    std::fs::write("/var/lib/driftwall/state.json", "{}").unwrap();
    must(Command::new("dpkg").args(["-r", "driftwall"]));
    assert!(!Path::new("/usr/bin/driftwall").exists());
    assert!(!unit.exists());
    assert!(!Path::new("/usr/share/man/man1/driftwall.1.gz").exists());
    assert!(Path::new("/etc/driftwall/driftwall.yaml").is_file());
    let status = must(Command::new("dpkg-query").args(["-W", "-f", "${Status}", "driftwall"]));
    assert_eq!(status, "deinstall ok config-files");

    // Purge: the configuration and the state go too.
    must(Command::new("dpkg").args(["-P", "driftwall"]));
    assert!(!Path::new("/etc/driftwall").exists());
    assert!(!Path::new("/var/lib/driftwall").exists());
    assert!(!installed());
}
