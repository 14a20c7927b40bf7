//! Parser-only benchmark on the generated rulesets of ../shared/bench.
//!
//! `cargo bench -p driftwall-parsers --bench parse` prints, for the 10k and
//! 100k-rule iptables files of `gen_rulesets.py --seed 1`, the best and median
//! parse time of N runs, MB/s and rules/s from the best, and what the parsed
//! model of the 100k file holds in memory (heap bytes and RSS growth).
//!
//! `cargo bench -p driftwall-parsers --bench parse -- FILE [RUNS]` parses one
//! file instead, which is the form to run under `valgrind --tool=callgrind`
//! (with RUNS = 1).

mod inputs;

use driftwall_parsers::iptables::parse;
use driftwall_parsers::model::Family;
use inputs::{bench_dir, generate};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes, so the model's size can be read exactly.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method only counts and then hands the same arguments to the
// system allocator, so it keeps all of `System`'s guarantees.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc`/`realloc` above, that is from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as for `dealloc`; `new_size` is the caller's, unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time of this process (user and system), in clock ticks of 10 ms:
/// on a shared machine it says more than wall time.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime is the 12th, stime the 13th.
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0)
}

/// Parses `text` `runs` times and prints the best and median wall time and
/// the mean CPU time (dropping each result included); the counts come from
/// the last result, so one run is exactly one parse.
fn report(label: &str, text: &str, runs: usize) {
    let mut times = Vec::new();
    let mut last = None;
    let cpu_before = cpu_ticks();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let parsed = parse("bench.rules", std::hint::black_box(text), Family::Ipv4);
        times.push(t.elapsed());
        last = Some(std::hint::black_box(parsed));
    }
    let cpu_ms = (cpu_ticks().saturating_sub(cpu_before) * 10) as f64 / times.len() as f64;
    times.sort();
    let (best, median): (Duration, Duration) = (times[0], times[times.len() / 2]);
    let (rules, errors) = last
        .map(|p| (p.ruleset.rule_count(), p.errors.len()))
        .unwrap_or_default();
    let secs = best.as_secs_f64().max(1e-9);
    println!(
        "{label:<24} {rules:>8} rules {:>10} bytes  best {best:>10.2?}  median {median:>10.2?}  cpu {cpu_ms:>6.1}ms  {:>7.0} MB/s  {:>10.0} rules/s  ({errors} errors, {} runs)",
        text.len(),
        text.len() as f64 / secs / 1e6,
        rules as f64 / secs,
        times.len(),
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(file) = args.first() {
        let text = std::fs::read_to_string(file).expect("read the input file");
        let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(10);
        report(file, &text, runs);
        return;
    }
    let Some(dir) = bench_dir() else {
        println!("skipped: ../shared/bench/gen_rulesets.py not found (set DRIFTWALL_BENCH)");
        return;
    };
    let data = inputs::data_dir();
    let inputs: Vec<(String, String, usize)> = [(10_000, "10k", 100), (100_000, "100k", 20)]
        .into_iter()
        .map(|(rules, label, runs)| {
            let path = data.join(format!("iptables_{label}.rules"));
            generate(&dir, rules, "iptables", &path);
            (
                label.to_string(),
                std::fs::read_to_string(&path).expect("read the generated file"),
                runs,
            )
        })
        .collect();
    // Memory of the model first, before timing runs leave freed memory behind:
    // heap bytes the parse result holds (the source text is copied into it) and
    // the growth of the resident set while it is alive.
    if let Some((label, text, _)) = inputs.last() {
        let (heap_before, rss_before) = (LIVE.load(Ordering::Relaxed), status_kib("VmRSS:"));
        let parsed = parse("bench.rules", text, Family::Ipv4);
        let (heap_after, rss_after) = (LIVE.load(Ordering::Relaxed), status_kib("VmRSS:"));
        println!(
            "model of the {label} file: {:.1} MiB of heap ({:.1} MiB of it the source text), {:.1} MiB RSS growth, peak RSS {:.1} MiB",
            heap_after.saturating_sub(heap_before) as f64 / 1048576.0,
            text.len() as f64 / 1048576.0,
            rss_after.saturating_sub(rss_before) as f64 / 1024.0,
            status_kib("VmHWM:") as f64 / 1024.0
        );
        std::hint::black_box(parsed);
    }
    for (label, text, runs) in &inputs {
        report(&format!("iptables {label}"), text, *runs);
    }
}
