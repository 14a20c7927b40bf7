//! `driftwall completions` and `driftwall man`: what packaging installs,
//! made from the clap definitions by the built binary.

mod support;

use support::{Scratch, driftwall, skip};

#[test]
fn completions_offer_the_commands_and_the_shipped_policies() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = driftwall(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["check", "init", "essentials", "apple", "xsan"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (code, _, err) = driftwall(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_page_per_command_and_the_configuration_page_render() {
    let s = Scratch::new("man");
    let (code, out, err) = driftwall(&["man", "--out", s.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pages: Vec<&str> = out.lines().collect();
    for name in [
        "driftwall.1",
        "driftwall-check.1",
        "driftwall-watch.1",
        "driftwall-init.1",
        "driftwall-completions.1",
        "driftwall-policies-show.1",
        "driftwall.yaml.5",
    ] {
        assert!(
            pages.iter().any(|p| p.ends_with(&format!("/{name}"))),
            "{name} missing from {pages:?}"
        );
    }
    assert!(!pages.iter().any(|p| p.ends_with("driftwall-man.1")));
    let check = std::fs::read_to_string(s.join("driftwall-check.1")).unwrap();
    assert!(check.contains(".TH DRIFTWALL-CHECK 1"), "{check}");
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        skip("man (man-db) is not installed: the pages are not rendered");
        return;
    }
    for page in &pages {
        let out = std::process::Command::new("man")
            .args(["-l", "--warnings", page])
            .env("MANWIDTH", "80")
            .output()
            .expect("run man");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !out.stdout.is_empty() && warnings.trim().is_empty(),
            "{page}: {warnings}"
        );
    }
}

/// What bash offers for the words of a command line, the cursor at the end,
/// split as bash splits them (COMP_WORDBREAKS has the colon).
fn bash_complete(script: &str, words: &[&str]) -> Option<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "{script}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_driftwall_policy driftwall \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .current_dir(support::root())
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn bash_completes_commands_and_policy_names_after_the_colon() {
    let (_, script, _) = driftwall(&["completions", "bash"]);
    let Some(check) = bash_complete(&script, &["driftwall", "ch"]) else {
        skip("bash is not installed");
        return;
    };
    assert_eq!(check.trim(), "check");
    let names = bash_complete(
        &script,
        &["driftwall", "check", "--policy", "apple", ":", "ess"],
    )
    .unwrap();
    assert_eq!(names.trim(), "essentials");
    let all = bash_complete(&script, &["driftwall", "check", "-p", "apple", ":"]).unwrap();
    assert!(
        all.lines().any(|l| l == "hardening") && !all.contains("apple:"),
        "{all}"
    );
    let show = bash_complete(
        &script,
        &["driftwall", "policies", "show", "apple", ":", "mai"],
    )
    .unwrap();
    assert_eq!(show.split_whitespace().collect::<Vec<_>>(), ["mail"]);
    // Before the colon: the shipped policies and files, since a policy may be a file.
    let start = bash_complete(&script, &["driftwall", "check", "--policy", "app"]).unwrap();
    assert!(start.lines().any(|l| l == "apple:essentials"), "{start}");
    let file = bash_complete(&script, &["driftwall", "diff", "-p", "exam"]).unwrap();
    assert_eq!(file.trim(), "examples", "run in the repository's root");
}
