//! nft language parser benchmark on the generated rulesets of ../shared/bench.
//!
//! `cargo bench -p driftwall-parsers --bench parse_nft` makes the 10k and
//! 100k-rule files of `gen_rulesets.py --format nft --seed 1` (into
//! bench-data/ at the workspace root, once) and prints the best and median of
//! N parses, with MB/s and rules/s from the best. Compare with `nft -c -f`
//! in ../shared/bench/BASELINES.md (1.55 s for 10k, 480 s for 100k).
//!
//! `cargo bench -p driftwall-parsers --bench parse_nft -- FILE [RUNS]` parses
//! one file, the form to run under `valgrind --tool=callgrind`.

mod inputs;

use driftwall_parsers::nft::parse;
use inputs::{bench_dir, generate};
use std::path::Path;
use std::time::{Duration, Instant};

fn run(path: &Path, runs: usize) {
    let text = std::fs::read_to_string(path).expect("read the ruleset");
    let shown = path.display().to_string();
    let mut times: Vec<Duration> = Vec::new();
    let mut rules = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let parsed = parse(&shown, &text);
        times.push(start.elapsed());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors.first());
        rules = parsed.ruleset.rule_count();
        drop(parsed);
    }
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    let secs = best.as_secs_f64();
    println!(
        "{}: {} model rules, best {:.1} ms, median {:.1} ms of {runs}; {:.0} MB/s, {:.0} k rules/s",
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        rules,
        secs * 1e3,
        median.as_secs_f64() * 1e3,
        text.len() as f64 / secs / 1e6,
        rules as f64 / secs / 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(file) = args.first() {
        run(
            Path::new(file),
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1),
        );
        return;
    }
    let Some(dir) = bench_dir() else {
        println!("skipped: ../shared/bench/gen_rulesets.py not found (set DRIFTWALL_BENCH)");
        return;
    };
    let data = inputs::data_dir();
    for (rules, runs) in [(10_000, 31), (100_000, 11)] {
        let out = data.join(format!("nft_{}k.nft", rules / 1000));
        generate(&dir, rules, "nft", &out);
        run(&out, runs);
    }
}
