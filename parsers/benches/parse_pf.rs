//! pf.conf parser benchmark on the generated rulesets of ../shared/bench.
//!
//! `cargo bench -p driftwall-parsers --bench parse_pf` makes the 10k and
//! 100k-rule files of `gen_rulesets.py --format pf --seed 1` (into
//! bench-data/ at the workspace root, once), checks that a parse reads
//! every rule of the file with no error, and prints the best and median of
//! N parses, with MB/s and rules/s from the best.
//!
//! `cargo bench -p driftwall-parsers --bench parse_pf -- FILE [RUNS]` parses
//! one file, the form to run under `valgrind --tool=callgrind`.

mod inputs;

use driftwall_parsers::pf::ast::Item;
use driftwall_parsers::pf::parse;
use inputs::{bench_dir, generate};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rules and anchors in the tree, inline anchor bodies included.
fn count(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match i {
            Item::Anchor(a) => 1 + a.body.as_deref().map_or(0, count),
            _ => 1,
        })
        .sum()
}

/// Rules and anchors in the text, counted by their first word: what the
/// parse must find.
fn expected(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            matches!(
                l.split_whitespace().next(),
                Some("pass" | "block" | "match" | "scrub" | "anchor")
            )
        })
        .count()
}

fn run(path: &Path, runs: usize) {
    let text = std::fs::read_to_string(path).expect("read the ruleset");
    let shown = path.display().to_string();
    let want = expected(&text);
    let loader = |_: &str, name: &str| -> Result<Vec<(String, String)>, String> {
        Err(format!("`{name}`: no includes in a benchmark"))
    };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let parsed = parse(&shown, &text, &loader);
        times.push(start.elapsed());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors.first());
        let got = count(&parsed.ruleset.items);
        assert_eq!(got, want, "rules and anchors read, against the text's");
        drop(parsed);
    }
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    let secs = best.as_secs_f64();
    println!(
        "{}: {} rules and anchors, 0 errors; best {:.1} ms, median {:.1} ms of {runs}; {:.0} MB/s, {:.0} k rules/s",
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        want,
        secs * 1e3,
        median.as_secs_f64() * 1e3,
        text.len() as f64 / secs / 1e6,
        want as f64 / secs / 1e3
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
        let out = data.join(format!("pf_{}k.conf", rules / 1000));
        generate(&dir, rules, "pf", &out);
        run(&out, runs);
    }
}
