//! `--output` writes only to a regular file or a new path (issue 18): a
//! report is renamed over its path, which would turn a device into a
//! regular file, replace the very file being checked, or make folders
//! nobody asked for.

mod support;

use std::os::unix::fs::FileTypeExt;
use support::{Scratch, bin, run, skip};

const POLICY: &str = "examples/web-server.policy.yaml";
const RULES: &str = "examples/web-server.rules";

fn check_to(output: &std::path::Path, input: &std::path::Path) -> (i32, String, String) {
    run(bin()
        .args(["check", "--policy", POLICY, "--format", "json", "--output"])
        .arg(output)
        .arg(input))
}

#[test]
fn a_missing_folder_is_not_created() {
    let s = Scratch::new("output-missing-folder");
    let out = s.path().join("no/such/folder/report.json");
    let (code, _, err) = check_to(&out, std::path::Path::new(RULES));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("its folder does not exist"), "{err}");
    assert!(!s.path().join("no").exists());
}

#[test]
fn the_input_is_not_replaced_by_the_report() {
    let s = Scratch::new("output-over-input");
    let text = std::fs::read_to_string(RULES).expect("example");
    let input = s.file("web.rules", &text);
    let (code, _, err) = check_to(&input, &input);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("it is one of the files being checked"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&input).expect("input"), text);
    // Nor the policy.
    let policy = s.file("p.yaml", &std::fs::read_to_string(POLICY).expect("policy"));
    let (code, _, err) = run(bin()
        .args(["check", "--format", "json", "--policy"])
        .arg(&policy)
        .arg("--output")
        .arg(&policy)
        .arg(RULES));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_device_stays_a_device() {
    let s = Scratch::new("output-device");
    let dev = s.path().join("null");
    // A character device with /dev/null's numbers, in the scratch folder:
    // never the machine's own /dev/null.
    let made = std::process::Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        skip("mknod failed (not root?): cannot make a device node to write to");
        return;
    }
    let (code, _, err) = check_to(&dev, std::path::Path::new(RULES));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let kind = std::fs::symlink_metadata(&dev).expect("node").file_type();
    assert!(kind.is_char_device(), "{kind:?}");
    // A folder is refused too.
    let (code, _, err) = check_to(s.path(), std::path::Path::new(RULES));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_new_file_or_a_regular_one_is_written() {
    let s = Scratch::new("output-regular");
    let out = s.path().join("report.json");
    let (code, _, err) = check_to(&out, std::path::Path::new(RULES));
    assert!(code == 0 || code == 1, "{code}: {err}");
    let first = std::fs::read_to_string(&out).expect("report");
    assert!(first.starts_with('{'), "{first}");
    // Over the old report, again.
    let (code, _, err) = check_to(&out, std::path::Path::new(RULES));
    assert!(code == 0 || code == 1, "{code}: {err}");
}
