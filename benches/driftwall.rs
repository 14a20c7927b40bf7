//! Parse and check benchmarks on the generated rulesets of ../shared/bench.
//!
//! `cargo bench --bench driftwall` prints, per input size, the median and the
//! best wall time of parsing and of `check` with 20 requirements
//! (benches/policy-20.yaml), and the peak memory of the process. Compare with ../shared/bench/BASELINES.md.
//! Inputs are made with `gen_rulesets.py --seed 1` into bench-data/.

#[path = "../parsers/benches/inputs/mod.rs"]
mod inputs;

use driftwall::commands::check;
use driftwall::input::{self, InputFormat};
use driftwall::policy;
use inputs::{bench_dir, generate};
use std::time::{Duration, Instant};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

/// Twenty requirements over ports and directions the generated rulesets
/// use; the same file serves `driftwall check --role gateway --policy
/// benches/policy-20.yaml` (forwarded connections need the gateway role).
const POLICY: &str = include_str!("policy-20.yaml");

fn main() {
    let Some(dir) = bench_dir() else {
        println!("skipped: ../shared/bench/gen_rulesets.py not found (set DRIFTWALL_BENCH)");
        return;
    };
    let data = inputs::data_dir();
    // The policy has forwarding requirements: it is checked as a gateway's.
    let gateway = policy::Role {
        kind: policy::RoleKind::Gateway,
        ..Default::default()
    };
    let pol = policy::load_str_for("benches/policy-20.yaml", POLICY, Some(&gateway))
        .expect("the bench policy is valid");
    println!(
        "{:<10} {:>9} {:>10} {:>14} {:>14} {:>10} {:>14} {:>14}",
        "input",
        "rules",
        "bytes",
        "parse median",
        "parse best",
        "MB/s",
        "check median",
        "check best"
    );
    for (rules, label) in [(1_000, "1k"), (10_000, "10k"), (100_000, "100k")] {
        let path = data.join(format!("iptables_{label}.rules"));
        generate(&dir, rules, "iptables", &path);
        let text = std::fs::read_to_string(&path).expect("read the generated file");
        let runs = if rules >= 100_000 { 7 } else { 21 };
        let (pmed, pbest) = time(runs, || {
            input::parse_text("bench.rules", &text, InputFormat::Iptables)
        });
        let parsed = input::parse_text("bench.rules", &text, InputFormat::Iptables);
        assert!(
            parsed.errors.is_empty(),
            "generated input has parse errors: {:?}",
            &parsed.errors[..parsed.errors.len().min(3)]
        );
        let (cmed, cbest) = time(runs.min(7), || {
            check::check_input(&parsed, std::slice::from_ref(&pol))
        });
        let mbps = text.len() as f64 / pmed.as_secs_f64() / 1e6;
        println!(
            "{:<10} {:>9} {:>10} {:>14.2?} {:>14.2?} {:>10.0} {:>14.2?} {:>14.2?}",
            format!("iptables {label}"),
            parsed.ruleset.rule_count(),
            text.len(),
            pmed,
            pbest,
            mbps,
            cmed,
            cbest
        );
    }
    println!(
        "peak RSS of the whole run: {:.1} MiB",
        peak_rss_kib() as f64 / 1024.0
    );
}
