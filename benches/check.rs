//! `driftwall check` end to end, as a user runs it, side by side with the
//! peers in the same run (issue 17). `cargo bench --bench check` prints:
//!
//! 1. **Against the peers**: `check --role gateway --policy
//!    benches/policy-20.yaml` on 100k iptables rules next to
//!    `iptables-restore --test`, and on 10k nft rules next to `nft -c -f`,
//!    alternating, best and median wall time, CPU, peak RSS and the ratios;
//!    `check` on one thread (as the peers run), then on every core (as it
//!    runs by default, a file's independent questions spread over them).
//! 2. **Growth**: the same check at 1k, 10k, 100k (and 1M with
//!    `DRIFTWALL_BENCH_1M=1`) iptables rules: time per rule against the
//!    smallest input's, and peak RSS.
//! 3. **Hostile shapes**: sources x destinations, a stateless allow-list
//!    asked about outbound DNS, and a ruleset built to fragment the
//!    partition: time, peak RSS, and whether the result is exact or
//!    indeterminate at the work limit.
//! 4. **Many files**: every iptables and nft file of the corpus in one
//!    `check`, on one thread and on every core.
//! 5. **Diff**: `driftwall diff` of the 10k nft input against an edit that
//!    changes nothing the policy asks about, and one that changes much.
//!
//! Inputs: `gen_rulesets.py --seed 1 --apple` into `bench-data/`. A run
//! must have done the work: `check` must exit 1 (the generated rulesets fail
//! the policy) and report the rule count the parser finds, and the peer
//! must exit 0, or the bench stops. Timings go through `/usr/bin/time` for
//! CPU and peak RSS. `DRIFTWALL_BENCH_RUNS` sets the runs per command
//! (default 11).

#[path = "../parsers/benches/inputs/mod.rs"]
mod inputs;

#[path = "../tests/shapes/mod.rs"]
mod shapes;

use driftwall::input::{self, InputFormat};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_driftwall");

/// One run of a command: wall seconds (measured here), CPU seconds and
/// peak RSS in KiB (from /usr/bin/time), exit code and standard output.
struct Run {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
    code: i32,
    stdout: String,
}

fn run(cmd: &[&str]) -> Run {
    let stats = std::env::temp_dir().join(format!("driftwall-bench-{}.time", std::process::id()));
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M %x", "-o"])
        .arg(&stats)
        .args(cmd)
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let wall = t.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&stats).unwrap_or_default();
    // The last line: a failing command adds "Command exited with ..." before it.
    let last = text.lines().last().unwrap_or("");
    let f: Vec<&str> = last.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Run {
        wall,
        cpu: num(0) + num(1),
        rss_kib: num(2) as u64,
        code: f.get(3).and_then(|v| v.parse().ok()).unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn best_median(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    (
        v.first().copied().unwrap_or(0.0),
        v.get(v.len() / 2).copied().unwrap_or(0.0),
    )
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// The rule count `check` prints for `file` ("FILE: N rules (...)").
fn rules_reported(stdout: &str) -> Option<usize> {
    stdout.lines().find_map(|l| {
        let (_, rest) = l.split_once(": ")?;
        let (n, tail) = rest.split_once(' ')?;
        tail.starts_with("rules").then(|| n.parse().ok())?
    })
}

/// The parser's rule count, which `check` must report.
fn rules_parsed(file: &Path, format: InputFormat) -> usize {
    let parsed = input::load(file, format).expect("read the generated input");
    assert!(
        parsed.errors.is_empty(),
        "{}: parse errors: {:?}",
        file.display(),
        &parsed.errors[..parsed.errors.len().min(3)]
    );
    parsed.ruleset.rule_count()
}

fn check_cmd<'a>(policy: &'a str, file: &'a str) -> Vec<&'a str> {
    check_cmd_jobs(policy, file, "1")
}

fn check_cmd_jobs<'a>(policy: &'a str, file: &'a str, jobs: &'a str) -> Vec<&'a str> {
    vec![
        BIN, "check", "--role", "gateway", "--policy", policy, "--jobs", jobs, file,
    ]
}

/// The cores `check` uses by default.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A `check` run that did the work, or the bench stops.
fn checked(r: Run, file: &Path, want_rules: usize) -> Run {
    assert_eq!(
        r.code,
        1,
        "{}: check must fail the policy (exit 1)",
        file.display()
    );
    assert_eq!(
        rules_reported(&r.stdout),
        Some(want_rules),
        "{}: check must report every rule",
        file.display()
    );
    r
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn against_peers(data: &Path, policy: &str, runs: usize) {
    println!("== check against the peers (best / median of {runs}, alternating)");
    println!(
        "{:<16} {:>8} {:>22} {:>10} {:>9} {:>34} {:>10} {:>9} {:>14}",
        "input",
        "rules",
        "driftwall best / med",
        "CPU med",
        "RSS MiB",
        "peer best / med",
        "CPU med",
        "RSS MiB",
        "ratio best/med"
    );
    let cases = [
        (
            "iptables_100k_apple.rules",
            InputFormat::Iptables,
            vec!["iptables-restore", "--test"],
        ),
        (
            "nft_10k_apple.nft",
            InputFormat::Nftables,
            vec!["nft", "-c", "-f"],
        ),
    ];
    let all = cores().to_string();
    for (name, format, peer) in cases {
        let file = data.join(name);
        let path = file.display().to_string();
        let want = rules_parsed(&file, format);
        let peer_ok = is_root() && peer.first().is_some_and(|t| has(t));
        // One thread, as the peers run; and every core, as `check` runs by
        // default, its independent questions spread over them.
        let (mut d, mut dn, mut p): (Vec<Run>, Vec<Run>, Vec<Run>) = Default::default();
        for _ in 0..runs {
            d.push(checked(run(&check_cmd(policy, &path)), &file, want));
            dn.push(checked(
                run(&check_cmd_jobs(policy, &path, &all)),
                &file,
                want,
            ));
            if peer_ok {
                let mut cmd = peer.clone();
                cmd.push(&path);
                let r = run(&cmd);
                assert_eq!(r.code, 0, "{cmd:?} must accept the input");
                p.push(r);
            }
        }
        let stat = |v: &[Run]| {
            let (best, med) = best_median(&v.iter().map(|r| r.wall).collect::<Vec<_>>());
            let (_, cpu) = best_median(&v.iter().map(|r| r.cpu).collect::<Vec<_>>());
            let rss = v.iter().map(|r| r.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
            (best, med, cpu, rss)
        };
        for (label, runs) in [("--jobs 1", &d), (&*format!("--jobs {all}"), &dn)] {
            let (db, dm, dc, dr) = stat(runs);
            let shown = format!("{name} {label}");
            if p.is_empty() {
                println!(
                    "{shown:<16} {want:>8} {:>22} {:>10} {dr:>9.1}   (peer skipped: needs root and {})",
                    format!("{} / {}", ms(db), ms(dm)),
                    ms(dc),
                    peer.join(" ")
                );
                continue;
            }
            let (pb, pm, pc, pr) = stat(&p);
            println!(
                "{shown:<16} {want:>8} {:>22} {:>10} {dr:>9.1} {:>34} {:>10} {pr:>9.1} {:>14}",
                format!("{} / {}", ms(db), ms(dm)),
                ms(dc),
                format!("{}: {} / {}", peer.join(" "), ms(pb), ms(pm)),
                ms(pc),
                format!("{:.1}x / {:.1}x", pb / db, pm / dm),
            );
        }
    }
}

fn growth(dir: &Path, data: &Path, policy: &str, runs: usize) {
    let mut sizes = vec![(1_000, "1k"), (10_000, "10k"), (100_000, "100k")];
    if std::env::var_os("DRIFTWALL_BENCH_1M").is_some() {
        sizes.push((1_000_000, "1m"));
    }
    println!("\n== growth: check of iptables rulesets (best / median of {runs})");
    println!(
        "{:<10} {:>9} {:>12} {:>12} {:>14} {:>10} {:>16} {:>9}",
        "input", "rules", "best", "median", "per rule", "vs 1k", "per added rule", "RSS MiB"
    );
    let mut first: Option<f64> = None;
    // The time each rule added since the size before costs: a check's
    // fixed costs (starting, reading the policy, the questions' walks over
    // pieces that do not grow with the rules) make small rulesets dearer
    // per rule, which is not growth; this column is.
    let mut before: Option<(f64, usize)> = None;
    for (n, label) in sizes {
        let file = data.join(format!("iptables_{label}_apple.rules"));
        inputs::generate_with(dir, n, "iptables", &["--apple"], &file);
        let want = rules_parsed(&file, InputFormat::Iptables);
        let path = file.display().to_string();
        let runs = if n >= 1_000_000 { 3 } else { runs };
        let v: Vec<Run> = (0..runs)
            .map(|_| checked(run(&check_cmd(policy, &path)), &file, want))
            .collect();
        let (best, med) = best_median(&v.iter().map(|r| r.wall).collect::<Vec<_>>());
        let per = med / want as f64;
        let base = *first.get_or_insert(per);
        let rss = v.iter().map(|r| r.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        let added = match before {
            Some((t, rules)) if want > rules => {
                format!("{:.2} us", (med - t) / (want - rules) as f64 * 1e6)
            }
            _ => "-".to_string(),
        };
        before = Some((med, want));
        println!(
            "{label:<10} {want:>9} {:>12} {:>12} {:>11.2} us {:>9.2}x {added:>16} {rss:>9.1}",
            ms(best),
            ms(med),
            per * 1e6,
            per / base
        );
    }
}

/// The hostile shapes of issue 17, as iptables-save text.
fn hostile_rulesets() -> Vec<(String, String, &'static str)> {
    let head = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n";
    let est = "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n";
    let mut out = Vec::new();
    for k in [250usize, 500, 1000, 5000] {
        let mut t = format!("{head}{est}");
        for i in 0..k {
            let v = if i % 2 == 0 { "ACCEPT" } else { "DROP" };
            t.push_str(&format!(
                "-A INPUT -s 10.0.{}.{} -p tcp --dport {}:{} -j {v}\n",
                i / 256,
                i % 256,
                i + 1,
                i + 500
            ));
        }
        for j in 0..k {
            t.push_str(&format!(
                "-A INPUT -d 192.168.{}.{} -p tcp --dport {} -j ACCEPT\n",
                j / 256,
                j % 256,
                (60 * j) % 65535 + 1
            ));
        }
        t.push_str("COMMIT\n");
        out.push((format!("src x dst, k={k}"), t, "tcp-in"));
    }
    for n in [25_000usize, 50_000, 100_000] {
        let mut t = head.to_string();
        for i in 0..n {
            t.push_str(&format!(
                "-A INPUT -s 10.{}.{}.{}/32 -p tcp --dport {} -j ACCEPT\n",
                i / 65536,
                (i / 256) % 256,
                i % 256,
                1 + i % 60000
            ));
        }
        t.push_str("COMMIT\n");
        out.push((format!("allow-list, {n}"), t, "dns-out"));
    }
    // Every rule its own source /32, port range and port list, with
    // negations and interface wildcards.
    let t = shapes::fragmenting(head, 20_000);
    out.push(("fragmenting, 20k".to_string(), t, "all-in"));
    out
}

fn hostile(data: &Path) {
    let policies = [
        (
            "tcp-in",
            "{id: all-tcp, expect: allow, direction: inbound, protocol: tcp, ports: [1-65535]}",
        ),
        (
            "dns-out",
            "{id: dns-out, expect: allow, direction: outbound, protocol: tcp, ports: [53]}",
        ),
        (
            "all-in",
            "{id: all-in, expect: allow, direction: inbound, protocol: [tcp, udp], ports: [1-65535]}",
        ),
    ];
    for (name, req) in policies {
        let text = format!("policy: hostile\nrequirements:\n  - {req}\n");
        std::fs::write(data.join(format!("hostile-{name}.yaml")), text).expect("write a policy");
    }
    println!("\n== hostile shapes (one run each; bound: 2 s and 500 MiB)");
    // The bound is one of wall time: the load it was measured at goes with it.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average: {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!(
        "{:<20} {:>9} {:>10} {:>9}  result",
        "shape", "rules", "wall", "RSS MiB"
    );
    for (i, (label, text, policy)) in hostile_rulesets().into_iter().enumerate() {
        let file = data.join(format!("hostile-{i}.rules"));
        std::fs::write(&file, &text).expect("write a hostile ruleset");
        let want = rules_parsed(&file, InputFormat::Iptables);
        let pol = data.join(format!("hostile-{policy}.yaml"));
        let r = run(&[
            BIN,
            "check",
            "--input-format",
            "iptables",
            "--policy",
            &pol.display().to_string(),
            &file.display().to_string(),
        ]);
        assert!(r.code == 0 || r.code == 1, "{label}: exit {}", r.code);
        assert_eq!(rules_reported(&r.stdout), Some(want), "{label}");
        let summary = r
            .stdout
            .lines()
            .find(|l| l.contains("requirement results"))
            .unwrap_or("")
            .to_string();
        let limit = if r.stdout.contains("outgrew the evaluator's limit") {
            " (work limit reached)"
        } else {
            ""
        };
        println!(
            "{label:<20} {want:>9} {:>10} {:>9.1}  {summary}{limit}",
            ms(r.wall),
            r.rss_kib as f64 / 1024.0
        );
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let root = std::env::var_os("DRIFTWALL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let mut files = Vec::new();
    for sub in ["iptables", "nftables"] {
        let mut stack = vec![root.join(sub)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}

fn many_files(policy: &str) {
    let files = corpus_files();
    if files.is_empty() {
        println!("\n== many files: skipped (no corpus; set DRIFTWALL_CORPUS)");
        return;
    }
    let cores = cores();
    println!(
        "\n== many files: the corpus's {} iptables and nft files in one check (best of 3)",
        files.len()
    );
    let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut outputs = Vec::new();
    for jobs in [1, cores] {
        let j = jobs.to_string();
        let mut cmd = vec![
            BIN, "check", "--role", "gateway", "--policy", policy, "--jobs", &j,
        ];
        cmd.extend(paths.iter().map(|s| s.as_str()));
        let v: Vec<Run> = (0..3).map(|_| run(&cmd)).collect();
        let (best, med) = best_median(&v.iter().map(|r| r.wall).collect::<Vec<_>>());
        let (_, cpu) = best_median(&v.iter().map(|r| r.cpu).collect::<Vec<_>>());
        println!(
            "--jobs {jobs:<3} best {:>10}  median {:>10}  CPU {:>10}  exit {}",
            ms(best),
            ms(med),
            ms(cpu),
            v.first().map_or(-1, |r| r.code)
        );
        outputs.push(v.into_iter().next().map(|r| r.stdout).unwrap_or_default());
    }
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "the report must not depend on the number of threads"
    );
    println!("(the reports of both are identical, in the order of the files)");
}

fn main() {
    let Some(dir) = inputs::bench_dir() else {
        println!("skipped: ../shared/bench/gen_rulesets.py not found (set DRIFTWALL_BENCH)");
        return;
    };
    let data = inputs::data_dir();
    inputs::generate_with(
        &dir,
        100_000,
        "iptables",
        &["--apple"],
        &data.join("iptables_100k_apple.rules"),
    );
    inputs::generate_with(
        &dir,
        10_000,
        "nft",
        &["--apple"],
        &data.join("nft_10k_apple.nft"),
    );
    let policy = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/policy-20.yaml")
        .display()
        .to_string();
    let runs = std::env::var("DRIFTWALL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let only = std::env::var("DRIFTWALL_BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only.split(',').any(|p| p == name);
    if part("peers") {
        against_peers(&data, &policy, runs);
    }
    if part("growth") {
        growth(&dir, &data, &policy, runs);
    }
    if part("hostile") {
        hostile(&data);
    }
    if part("files") {
        many_files(&policy);
    }
    if part("diff") {
        diffs(&data, &policy, runs);
    }
}

/// `driftwall diff` of the 10k nft input against two edits of it: one rule
/// turned from accept to drop, which changes no requirement's connections,
/// and the `established` accept of INPUT taken out, which changes many.
/// The run must have done the work: the first says the files are
/// equivalent for the policies, the second lists verdict changes.
fn diffs(data: &Path, policy: &str, runs: usize) {
    let old = data.join("nft_10k_apple.nft");
    let text = std::fs::read_to_string(&old).expect("read the nft input");
    let lines: Vec<&str> = text.lines().collect();
    let first_accept = lines
        .iter()
        .position(|l| l.contains("ip saddr") && l.trim_end().ends_with(" accept"))
        .expect("an accept rule");
    let established = lines
        .iter()
        .position(|l| l.trim() == "ct state established,related accept")
        .expect("an established accept");
    let edit = |skip: usize, replace: bool| -> String {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            if i == skip && !replace {
                continue;
            }
            if i == skip {
                out.push_str(&l.replacen(" accept", " drop", 1));
            } else {
                out.push_str(l);
            }
            out.push('\n');
        }
        out
    };
    println!("\n== diff of the 10k nft input against an edit (best / median of {runs})");
    for (label, text, says) in [
        (
            "one rule accept -> drop",
            edit(first_accept, true),
            "Equivalent for the policies",
        ),
        (
            "established accept removed",
            edit(established, false),
            "Connections whose verdict changes",
        ),
    ] {
        let new = data.join("nft_10k_apple.edited.nft");
        std::fs::write(&new, text).expect("write the edit");
        let (o, n) = (old.display().to_string(), new.display().to_string());
        let cmd = [BIN, "diff", "--role", "gateway", "--policy", policy, &o, &n];
        let v: Vec<Run> = (0..runs)
            .map(|_| {
                let r = run(&cmd);
                assert!(r.code == 0 || r.code == 1, "{label}: diff exit {}", r.code);
                assert!(
                    r.stdout.contains(says),
                    "{label}: the diff must say {says:?}"
                );
                r
            })
            .collect();
        let (best, med) = best_median(&v.iter().map(|r| r.wall).collect::<Vec<_>>());
        let rss = v.iter().map(|r| r.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        println!(
            "{label:<28} best {:>10}  median {:>10}  RSS {rss:.1} MiB",
            ms(best),
            ms(med)
        );
    }
}
