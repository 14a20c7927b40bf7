//! The systemd unit as systemd itself reads it: `systemd-analyze verify`
//! prints nothing, and `systemd-analyze security --offline=yes` rates it 2.0
//! or better, alone and with the live-ruleset drop-in.
//!
//! The unit is copied to a scratch directory with ExecStart= pointing at the
//! binary under test, since verify checks that the command exists.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Scratch, skip};

/// The exposure the issue allows (0 is best, 10 worst).
const MAX_EXPOSURE: f64 = 2.0;

fn systemd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd")
}

fn have_systemd_analyze() -> bool {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            skip(&format!(
                "systemd-analyze --version failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            false
        }
        Err(error) => {
            skip(&format!(
                "systemd-analyze is not installed ({error}); Debian's package is `systemd`"
            ));
            false
        }
    }
}

/// A scratch copy of the unit (and, when asked, of the drop-in), removed when dropped.
struct UnitCopy {
    _dir: Scratch,
    unit: PathBuf,
}

impl UnitCopy {
    fn new(name: &str, with_live_ruleset: bool) -> UnitCopy {
        let dir = Scratch::new(&format!("systemd-{name}"));
        let text = std::fs::read_to_string(systemd_dir().join("driftwall.service")).unwrap();
        let shipped = "ExecStart=/usr/bin/driftwall ";
        assert!(text.contains(shipped), "the unit starts /usr/bin/driftwall");
        let text = text.replace(
            shipped,
            &format!("ExecStart={} ", env!("CARGO_BIN_EXE_driftwall")),
        );
        let unit = dir.join("driftwall.service");
        std::fs::write(&unit, text).unwrap();
        if with_live_ruleset {
            // Drop-ins next to a unit given by path are read as they would be in /etc/systemd/system.
            let drop_ins = dir.join("driftwall.service.d");
            std::fs::create_dir_all(&drop_ins).unwrap();
            std::fs::copy(
                systemd_dir().join("live-ruleset.conf"),
                drop_ins.join("live-ruleset.conf"),
            )
            .unwrap();
        }
        UnitCopy { _dir: dir, unit }
    }
}

fn systemd_analyze(args: &[&str], unit: &Path) -> (i32, String, String) {
    let output = Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .current_dir(unit.parent().unwrap())
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .output()
        .expect("run systemd-analyze");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_verify_is_silent(unit: &Path) {
    let (code, stdout, stderr) = systemd_analyze(&["verify"], unit);
    assert!(
        code == 0 && stdout.is_empty() && stderr.is_empty(),
        "systemd-analyze verify {} should print nothing and exit 0; exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        unit.display()
    );
}

/// The number of the "Overall exposure level for driftwall.service: 1.3 OK" line.
fn overall_exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|line| line.contains("Overall exposure level for"))?;
    let (_, rest) = line.split_once("driftwall.service:")?;
    rest.split_whitespace().next()?.parse().ok()
}

fn exposure(unit: &Path) -> f64 {
    let (code, stdout, stderr) =
        systemd_analyze(&["security", "--offline=yes", "--no-pager"], unit);
    assert_eq!(
        code, 0,
        "systemd-analyze security failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    overall_exposure(&stdout)
        .unwrap_or_else(|| panic!("no overall exposure level in:\n{stdout}\n{stderr}"))
}

#[test]
fn the_unit_verifies_without_a_word() {
    if !have_systemd_analyze() {
        return;
    }
    assert_verify_is_silent(&UnitCopy::new("verify", false).unit);
}

#[test]
fn the_unit_with_the_live_ruleset_drop_in_verifies_without_a_word() {
    if !have_systemd_analyze() {
        return;
    }
    assert_verify_is_silent(&UnitCopy::new("verify-live", true).unit);
}

#[test]
fn the_unit_is_rated_two_or_better() {
    if !have_systemd_analyze() {
        return;
    }
    let level = exposure(&UnitCopy::new("security", false).unit);
    println!("systemd-analyze security --offline=yes: overall exposure {level}");
    assert!(
        level <= MAX_EXPOSURE,
        "overall exposure {level} is above {MAX_EXPOSURE}"
    );
}

#[test]
fn the_unit_with_the_live_ruleset_drop_in_is_rated_two_or_better() {
    if !have_systemd_analyze() {
        return;
    }
    let level = exposure(&UnitCopy::new("security-live", true).unit);
    println!(
        "systemd-analyze security --offline=yes with live-ruleset.conf: overall exposure {level}"
    );
    assert!(
        level <= MAX_EXPOSURE,
        "overall exposure {level} is above {MAX_EXPOSURE}"
    );
}

#[test]
fn the_exposure_line_is_read_exactly() {
    let report = "✓ UMask=    Files created by service are accessible only by service's own user by default\n\n\
                  → Overall exposure level for driftwall.service: 1.3 OK 🙂\n";
    assert_eq!(overall_exposure(report), Some(1.3));
    assert_eq!(
        overall_exposure("→ Overall exposure level for driftwall.service: 9.6 UNSAFE 😨"),
        Some(9.6)
    );
    assert_eq!(overall_exposure("nothing here"), None);
}
