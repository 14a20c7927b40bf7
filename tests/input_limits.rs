//! What driftwall reads is bounded (issue 18): only regular files, and at
//! most `--max-input-size` bytes (256M unless given). `parse /dev/zero`
//! and `check --policy /dev/zero` grew to gigabytes before.

mod support;

use support::{Scratch, bin, run, skip};

const POLICY: &str = "examples/web-server.policy.yaml";
const RULES: &str = "examples/web-server.rules";

#[test]
fn a_fifo_is_refused_before_it_is_read() {
    let s = Scratch::new("limits-fifo");
    let fifo = s.path().join("rules");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|m| m.success()), "mkfifo");
    // Reading a FIFO with no writer would block for ever.
    let (code, _, err) = run(bin().arg("parse").arg(&fifo));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // A policy that cannot be read is reported with the results.
    let (code, out, err) = run(bin().args(["check", "--policy"]).arg(&fifo).arg(RULES));
    assert_eq!(code, 2, "{err}");
    assert!((out + &err).contains("not a regular file"), "{err}");
}

#[test]
fn a_device_is_refused_before_it_is_read() {
    let s = Scratch::new("limits-device");
    let zero = s.path().join("zero");
    // /dev/zero's numbers, in the scratch folder.
    let made = std::process::Command::new("mknod")
        .arg(&zero)
        .args(["c", "1", "5"])
        .status();
    if !made.is_ok_and(|m| m.success()) {
        skip("mknod failed (not root?): cannot make a device node to read");
        return;
    }
    for args in [
        vec!["parse".to_string(), zero.display().to_string()],
        vec![
            "check".into(),
            "--policy".into(),
            zero.display().to_string(),
            RULES.into(),
        ],
        vec![
            "watch".into(),
            "--once".into(),
            "--config".into(),
            zero.display().to_string(),
        ],
    ] {
        let (code, out, err) = run(bin().args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        let all = out + &err;
        assert!(all.contains("not a regular file"), "{args:?}: {all}");
    }
}

#[test]
fn files_past_the_limit_are_refused_and_the_limit_can_be_raised() {
    let s = Scratch::new("limits-size");
    let mut text = std::fs::read_to_string(RULES).expect("example");
    // A long comment line: 1.5 MiB.
    text.insert_str(0, &format!("# {}\n", "x".repeat(3 << 19)));
    let big = s.file("big.rules", &text);
    let (code, out, err) = run(bin()
        .args(["--max-input-size", "1M", "check", "--policy", POLICY])
        .arg(&big));
    assert_eq!(code, 2, "{err}");
    let all = out + &err;
    assert!(
        all.contains("larger than 1 MiB") && all.contains("--max-input-size"),
        "{all}"
    );
    let (code, out, err) = run(bin()
        .args(["--max-input-size", "2M", "check", "--policy", POLICY])
        .arg(&big));
    assert!(code == 0 || code == 1, "{code}: {err}{out}");
    let (code, _, err) = run(bin().args(["--max-input-size", "lots", "parse", RULES]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a size"), "{err}");
}

/// A byte-order mark before `*filter` read as "`*filter` outside a table"
/// with the mark invisible; it is dropped, from rulesets and policies.
#[test]
fn a_byte_order_mark_is_dropped() {
    let s = Scratch::new("limits-bom");
    let rules = std::fs::read_to_string(RULES).expect("example");
    let with_bom = s.path().join("bom.rules");
    std::fs::write(&with_bom, format!("\u{feff}{rules}")).expect("write");
    let policy = std::fs::read_to_string(POLICY).expect("policy");
    let policy_bom = s.path().join("bom.yaml");
    std::fs::write(&policy_bom, format!("\u{feff}{policy}")).expect("write");
    let (code, out, err) = run(bin()
        .arg("check")
        .arg("--policy")
        .arg(&policy_bom)
        .arg(&with_bom));
    let (plain, _, _) = run(bin().args(["check", "--policy", POLICY, RULES]));
    assert_eq!(code, plain, "{out}{err}");
    assert!(!out.contains("outside a table"), "{out}");
}

/// A policy that is not UTF-8 said so with no place; now with the line and
/// column of the first byte that is not.
#[test]
fn a_policy_that_is_not_utf8_says_where() {
    let s = Scratch::new("limits-utf8");
    let p = s.path().join("p.yaml");
    std::fs::write(&p, b"policy: p\nrequirements:\n  - id: x\xff\n").expect("write");
    let (code, out, err) = run(bin().arg("check").arg("--policy").arg(&p).arg(RULES));
    assert_eq!(code, 2);
    let all = out + &err;
    assert!(all.contains("line 3, column 10"), "{all}");
}

/// A 20-digit probe port read as `1e+20`, and `expected u16`: said in the
/// words of ports, at the probe's place.
#[test]
fn probe_ports_out_of_range_are_said_as_such() {
    let s = Scratch::new("limits-probe");
    for (port, says) in [
        (
            "99999999999999999999",
            "`1e+20` is not a whole number in range (expected a number from 0 to 65535)",
        ),
        (
            "70000",
            "`70000` is out of range (expected a number from 0 to 65535)",
        ),
        (
            "-1",
            "`-1` is out of range (expected a number from 0 to 65535)",
        ),
    ] {
        let probes = s.file(
            "p.json",
            &format!("[{{\"id\":\"a\",\"kind\":\"in\",\"proto\":\"tcp\",\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\",\"sport\":1,\"dport\":{port}}}]"),
        );
        let (code, _, err) = run(bin().args(["probe", RULES, "--probes"]).arg(&probes));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says) && err.contains("p.json:1:"), "{err}");
    }
}
