//! `check` evaluates a file's independent questions on several threads
//! when it has cores to spare (one file, many cores), and `diff` its two
//! sides and its requirements. The report must not depend on it: the same
//! failures, in the same order, with the same witnesses and culprits,
//! whatever the number of threads. Checked on the
//! bundled examples and on the corpus's real iptables and nft files, with
//! every shipped Apple policy and the benchmark's 20 requirements, so that
//! each file has many groups of questions to spread.

mod support;

use driftwall::input::{self, InputFormat};
use driftwall::policy::{self, Role, RoleKind};
use std::path::{Path, PathBuf};
use support::{corpus, root};

/// Every shipped Apple policy and the benchmark's, read for a gateway.
fn policies() -> Vec<policy::Policy> {
    let mut specs: Vec<String> = driftwall::policy::shipped::APPLE
        .iter()
        .map(|(name, _)| format!("apple:{name}"))
        .collect();
    specs.push(root().join("benches/policy-20.yaml").display().to_string());
    let role = Role {
        kind: RoleKind::Gateway,
        lan_networks: vec!["192.168.0.0/16".parse().expect("a network")],
        ..Role::default()
    };
    let loaded = policy::load_all(&specs, &role);
    assert!(
        loaded.unreadable.is_empty() && loaded.invalid.is_empty(),
        "the policies must load: {:?} {:?}",
        loaded.unreadable,
        loaded.invalid
    );
    loaded.policies
}

/// The JSON report of one file at `threads` threads, or None when the file
/// does not parse (nothing is evaluated then).
fn report(file: &Path, policies: &[policy::Policy], threads: usize) -> Option<String> {
    let inp = input::load(file, InputFormat::Auto).ok()?;
    if !inp.errors.is_empty() {
        return None;
    }
    let r = driftwall::policy::check::check_input_owned(inp, policies, threads);
    Some(serde_json::to_string_pretty(&r).expect("a report serializes"))
}

/// Files under `dir` no bigger than `max` bytes, sorted.
fn files_in(dir: &Path, max: u64) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.metadata().is_ok_and(|m| m.len() <= max))
        .collect();
    v.sort();
    v
}

/// The bundled examples, and every `step`-th iptables and nft file of the
/// corpus up to 64 KB: that keeps the debug build's run short, and the
/// corpus's bigger files are a handful whose shapes are in the small ones.
fn inputs(step: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["apple-gateway.rules", "web-server.rules", "web-server.nft"]
        .iter()
        .map(|f| root().join("examples").join(f))
        .collect();
    for folder in ["iptables", "nftables"] {
        if let Some(dir) = corpus(folder) {
            files.extend(files_in(&dir, 64 * 1024).into_iter().step_by(step));
        }
    }
    files
}

/// What `run` gives at one thread, after requiring the same at 2 and 5.
fn same_at_any_threads(f: &Path, what: &str, run: impl Fn(usize) -> String) -> String {
    let one = run(1);
    for threads in [2, 5] {
        assert!(
            run(threads) == one,
            "{}: the {what} at {threads} threads differs from the one at 1",
            f.display()
        );
    }
    one
}

#[test]
fn the_report_is_the_same_whatever_the_threads() {
    let policies = policies();
    let (mut compared, mut failing) = (0, 0);
    for f in &inputs(1) {
        if report(f, &policies, 1).is_none() {
            continue;
        }
        let one = same_at_any_threads(f, "report", |threads| {
            report(f, &policies, threads).expect("it parsed once")
        });
        compared += 1;
        failing += usize::from(one.contains("\"status\": \"fail\""));
    }
    println!("{compared} files compared at 1, 2 and 5 threads, {failing} of them failing");
    // Enough files, and failures among them, for the order of the groups'
    // failures to matter.
    assert!(compared >= 3, "only {compared} files were compared");
    assert!(failing >= 2, "only {failing} files fail a requirement");
}

/// A copy of `text` with the middle accept made a drop and the last drop an
/// accept (iptables or nft), so a diff has something to say.
fn edited(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let accepts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("-j ACCEPT") || lines[i].trim_end().ends_with(" accept"))
        .collect();
    if let Some(&i) = accepts.get(accepts.len() / 2) {
        lines[i] = lines[i]
            .replacen("-j ACCEPT", "-j DROP", 1)
            .replacen(" accept", " drop", 1);
    }
    if let Some(i) = (0..lines.len())
        .rev()
        .find(|&i| lines[i].contains("-j DROP") || lines[i].trim_end().ends_with(" drop"))
    {
        lines[i] = lines[i]
            .replacen("-j DROP", "-j ACCEPT", 1)
            .replacen(" drop", " accept", 1);
    }
    lines.join("\n") + "\n"
}

#[test]
fn the_diff_is_the_same_whatever_the_threads() {
    let policies = policies();
    let (mut compared, mut changing) = (0, 0);
    for f in &inputs(4) {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let format = InputFormat::Auto;
        let old = driftwall::input::parse_text(&f.display().to_string(), &text, format);
        let new = driftwall::input::parse_text(&f.display().to_string(), &edited(&text), format);
        if !old.errors.is_empty() || !new.errors.is_empty() || old.format != new.format {
            continue;
        }
        let one = same_at_any_threads(f, "diff", |threads| {
            let d = driftwall::drift::diff::diff_on(&old, &new, &policies, threads);
            serde_json::to_string(&d).expect("a diff serializes")
        });
        compared += 1;
        changing += usize::from(one.contains("\"changes\":[{"));
    }
    println!("{compared} diffs compared at 1, 2 and 5 threads, {changing} with verdict changes");
    assert!(compared >= 3, "only {compared} diffs were compared");
    assert!(changing >= 2, "only {changing} diffs change a verdict");
}
