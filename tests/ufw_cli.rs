//! `driftwall check` on a ufw configuration folder, made from ufw's own
//! shipped files in the corpus (`upstream-conf-*`) as a copy of `/etc`.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{Scratch, driftwall};

/// SSH opened the way `ufw allow 22/tcp` writes it, in both families.
const SSH_V4: &str = "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n\
                      -A ufw-user-input -p tcp --dport 22 -j ACCEPT\n";
const SSH_V6: &str = "### tuple ### allow tcp 22 ::/0 any ::/0 in\n\
                      -A ufw6-user-input -p tcp --dport 22 -j ACCEPT\n";

const POLICY: &str = r"policy: ufw-test
requirements:
  - id: ssh-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [22]
  - id: telnet-closed
    expect: deny
    direction: inbound
    protocol: tcp
    ports: [23]
";

const INVERSE: &str = r"policy: inverse
requirements:
  - id: ssh-closed
    expect: deny
    direction: inbound
    protocol: tcp
    ports: [22]
  - id: telnet-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [23]
";

/// `ROOT/etc/ufw` and `ROOT/etc/default/ufw` from the corpus, enabled, with
/// SSH allowed; `None` (after printing why) without the corpus.
fn configuration(s: &Scratch) -> Option<PathBuf> {
    let corpus = support::corpus("ufw")?;
    let etc = s.path().join("etc");
    let dir = etc.join("ufw");
    std::fs::create_dir_all(etc.join("default")).expect("mkdir");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for name in [
        "before.rules",
        "before6.rules",
        "after.rules",
        "after6.rules",
        "user.rules",
        "user6.rules",
        "ufw.conf",
    ] {
        let text = std::fs::read_to_string(corpus.join(format!("upstream-conf-{name}")))
            .expect("corpus file");
        let text = match name {
            "ufw.conf" => text.replace("ENABLED=no", "ENABLED=yes"),
            "user.rules" => text.replace("### RULES ###\n", &format!("### RULES ###\n{SSH_V4}")),
            "user6.rules" => text.replace("### RULES ###\n", &format!("### RULES ###\n{SSH_V6}")),
            _ => text,
        };
        std::fs::write(dir.join(name), text).expect("write");
    }
    std::fs::copy(
        corpus.join("upstream-conf-ufw.defaults"),
        etc.join("default/ufw"),
    )
    .expect("defaults");
    Some(dir)
}

fn check(policy: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec![
        "check",
        "--format",
        "json",
        "-p",
        policy.to_str().unwrap_or(""),
    ];
    all.extend(args);
    let (code, out, err) = driftwall(&all);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

fn status(v: &Value, requirement: &str) -> String {
    v["inputs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["requirement"] == requirement)
        .map(|r| r["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// The first culprit's file and line for `requirement` in `family`.
fn culprit(v: &Value, requirement: &str, family: &str) -> (String, u64) {
    let results = v["inputs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let r = results
        .iter()
        .find(|r| r["requirement"] == requirement)
        .unwrap_or_else(|| panic!("no result {requirement}"));
    let f = r["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["family"] == family)
        .unwrap_or_else(|| panic!("no {family} failure: {r}"));
    let c = &f["culprits"][0];
    (
        c["file"].as_str().unwrap_or("").to_string(),
        c["line"].as_u64().unwrap_or(0),
    )
}

#[test]
fn default_deny_drops_telnet_and_the_user_rules_allow_ssh() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let policy = s.file("policy.yaml", POLICY);
    let (code, v) = check(&policy, &[dir.to_str().unwrap_or("")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "ssh-open"), "pass");
    assert_eq!(status(&v, "telnet-closed"), "pass");
    assert_eq!(
        v["inputs"][0]["families"],
        serde_json::json!(["ipv4", "ipv6"])
    );
}

#[test]
fn culprits_name_the_user_rule_or_ufws_own_wiring() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let policy = s.file("inverse.yaml", INVERSE);
    let (code, v) = check(&policy, &[dir.to_str().unwrap_or("")]);
    assert_eq!(code, 1);
    let user = dir.join("user.rules").display().to_string();
    let (file, line) = culprit(&v, "ssh-closed", "ipv4");
    let text = std::fs::read_to_string(&user).expect("user.rules");
    let want = text
        .lines()
        .position(|l| l.starts_with("-A ufw-user-input -p tcp --dport 22"));
    assert_eq!((file, Some(line as usize)), (user, want.map(|i| i + 1)));
    let (file, line) = culprit(&v, "telnet-open", "ipv6");
    assert_eq!(
        (file.as_str(), line),
        ("ufw (ufw-init: ufw_start, default policy, ip6tables)", 2)
    );
    let (file, _) = culprit(&v, "telnet-open", "ipv4");
    assert!(file.starts_with("ufw (ufw-init: ufw_start, "), "{file}");
}

#[test]
fn a_disabled_ufw_filters_nothing_and_the_report_says_it_is_off() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let conf = dir.join("ufw.conf");
    let text = std::fs::read_to_string(&conf).expect("ufw.conf");
    std::fs::write(&conf, text.replace("ENABLED=yes", "ENABLED=no")).expect("write");
    let policy = s.file("policy.yaml", POLICY);
    let (code, out, err) = driftwall(&[
        "check",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ufw is off"), "{out}");
    let (_, v) = check(&policy, &[dir.to_str().unwrap_or("")]);
    assert_eq!(status(&v, "ssh-open"), "pass");
    assert_eq!(status(&v, "telnet-closed"), "fail");
}

#[test]
fn a_rule_file_read_as_ufw_stands_for_its_folder() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let policy = s.file("policy.yaml", POLICY);
    let user = dir.join("user.rules");
    let (code, v) = check(
        &policy,
        &["--input-format", "ufw", user.to_str().unwrap_or("")],
    );
    assert_eq!(code, 0, "{v:#}");
    // Read alone, the same file is wired to nothing: everything is accepted.
    let (code, v) = check(&policy, &[user.to_str().unwrap_or("")]);
    assert_eq!((code, status(&v, "telnet-closed")), (1, "fail".to_string()));
}

#[test]
fn the_defaults_file_can_be_named() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let defaults = s.path().join("etc/default/ufw");
    let text = std::fs::read_to_string(&defaults).expect("defaults");
    let elsewhere = s.file(
        "defaults-accept",
        &text.replace(
            "DEFAULT_INPUT_POLICY=\"DROP\"",
            "DEFAULT_INPUT_POLICY=\"ACCEPT\"",
        ),
    );
    std::fs::remove_file(&defaults).expect("rm");
    let policy = s.file("policy.yaml", POLICY);
    let (code, v) = check(&policy, &[dir.to_str().unwrap_or("")]);
    assert_eq!(code, 2, "without a defaults file ufw-init aborts: {v:#}");
    let (code, v) = check(
        &policy,
        &[
            "--ufw-defaults",
            elsewhere.to_str().unwrap_or(""),
            dir.to_str().unwrap_or(""),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(status(&v, "telnet-closed"), "fail");
}

/// The false alarm of issue 15: oviron/vps-init's user.rules read alone says
/// telnet is open to the world; in its configuration, default deny drops it.
#[test]
fn a_real_user_rules_in_its_configuration_is_no_false_alarm() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let Some(corpus) = support::corpus("ufw") else {
        return;
    };
    for name in ["user.rules", "user6.rules", "before6.rules"] {
        std::fs::copy(
            corpus.join(format!("realworld-oviron-vps-init-{name}")),
            dir.join(name),
        )
        .expect("corpus file");
    }
    let hardening = |path: &Path| {
        let (code, out, err) = driftwall(&[
            "check",
            "--format",
            "json",
            "-p",
            "apple:hardening",
            path.to_str().unwrap_or(""),
        ]);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, status(&v, "no-telnet"))
    };
    assert_eq!(hardening(&dir), (0, "pass".to_string()));
    assert_eq!(hardening(&dir.join("user.rules")), (1, "fail".to_string()));
}

#[test]
fn an_error_in_one_file_of_the_folder_is_shown_at_its_line() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let before = dir.join("before.rules");
    let text = std::fs::read_to_string(&before).expect("before.rules");
    let at = text.rfind("\nCOMMIT").expect("COMMIT");
    let edited = format!(
        "{}\n-A ufw-before-input --bogus{}",
        &text[..at],
        &text[at..]
    );
    std::fs::write(&before, &edited).expect("write");
    let line = edited
        .lines()
        .position(|l| l.contains("--bogus"))
        .map(|i| i + 1);
    let policy = s.file("policy.yaml", POLICY);
    let (code, out, err) = driftwall(&[
        "check",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let place = format!("{}:{}:21", before.display(), line.unwrap_or(0));
    assert!(
        out.contains(&place) && out.contains("-A ufw-before-input --bogus"),
        "{out}{err}"
    );
}

/// `driftwall diff --base REV` on a ufw folder in a repository: each file
/// of the folder, and the defaults file, as they were at the revision.
#[test]
fn a_folder_is_compared_with_its_version_at_a_revision() {
    let s = Scratch::new("ufw-cli");
    let Some(dir) = configuration(&s) else { return };
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(s.path())
            .args(["-c", "user.email=t@example.org", "-c", "user.name=t"])
            .args(args)
            .output()
    };
    match git(&["init", "-q"]) {
        Ok(o) if o.status.success() => {}
        _ => return support::skip("git is not installed"),
    }
    git(&["add", "-A"]).expect("git add");
    git(&["commit", "-qm", "base"]).expect("git commit");
    let user = dir.join("user.rules");
    let text = std::fs::read_to_string(&user).expect("user.rules");
    let telnet = "-A ufw-user-input -p tcp --dport 23 -j ACCEPT";
    std::fs::write(
        &user,
        text.replace("### RULES ###\n", &format!("### RULES ###\n{telnet}\n")),
    )
    .expect("write");
    let (code, out, err) = driftwall(&[
        "diff",
        "--base",
        "HEAD",
        "-p",
        "apple:hardening",
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("+ {}", user.display())) && out.contains(telnet),
        "{out}"
    );
    assert!(out.contains("hardening/no-telnet: pass -> FAIL"), "{out}");
}
