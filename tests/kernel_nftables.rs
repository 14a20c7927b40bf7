//! Kernel differential test for nftables: the kernel decides, `driftwall
//! probe` must agree, on what `nft -j list ruleset` says and on the nft text.
//!
//! As root, each generated native nft ruleset (`tests/kernel/generate_nft.rs`)
//! is loaded with `nft -f` into a firewall namespace between three peer
//! namespaces (see `tests/kernel/mod.rs`), real TCP and UDP connections are
//! attempted through, into and out of it, and what each initiating socket
//! observed is compared with what `driftwall probe` says about the same probe,
//! twice:
//! - (a) on `nft -j list ruleset` captured from the namespace after loading
//!   (`--input-format nft-json`): what the kernel holds, in nft's own words;
//! - (b) on the generated nft text itself (`--input-format nftables`).
//!
//! Without root or the tools the tests print `skipped: <reason>`; with
//! `DRIFTWALL_REQUIRE_ALL=1` (CI) that is a failure instead.
//!
//! Knobs, all optional (shared with `tests/kernel_iptables.rs`):
//! - `DRIFTWALL_KERNEL_SEED`: seed of the first ruleset (decimal or 0x hex);
//!   ruleset i uses seed + i, so `DRIFTWALL_KERNEL_SEED=<printed seed>
//!   DRIFTWALL_KERNEL_RULESETS=1 cargo test --test kernel_nftables` reproduces one case.
//! - `DRIFTWALL_KERNEL_RULESETS` (default 60), `DRIFTWALL_KERNEL_PROBES`
//!   (per ruleset, default 48), `DRIFTWALL_KERNEL_TIMEOUT_MS` (how long a
//!   socket waits before calling it a drop, default 1200),
//!   `DRIFTWALL_KERNEL_JOBS` (rulesets in flight at once, default 3).
//! - `DRIFTWALL_NFT_TEXT=0`: skip comparison (b).
//! - `DRIFTWALL_KERNEL_DUMP=DIR`: also write every generated ruleset, its
//!   JSON listing and its probes to DIR (`<seed>.nft`, `<seed>.json`,
//!   `<seed>.probes.json`).

mod kernel;
mod support;

use kernel::generate_nft::{self, NftCase};
use kernel::run::{self, Answer, Observation};
use kernel::{Case, Probe, Verdict, netns};
use kernel::{Knobs, count_line, in_parallel, numbered};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::Scratch;

const DEFAULT_SEED: u64 = 0x9f7a_b1e5_0000_0000;

/// Whether comparison (b), on the nft text, runs.
fn text_enabled() -> bool {
    std::env::var("DRIFTWALL_NFT_TEXT").map_or(true, |v| v.trim() != "0")
}

/// Prepares for a kernel test; false (after printing why) if it cannot run.
fn kernel_available() -> bool {
    if let Some(reason) = kernel::missing_for(&["ip", "nft", "python3"]) {
        kernel::skip(&reason);
        return false;
    }
    netns::remove_stale();
    match netns::Topology::create() {
        Err(e) => {
            kernel::skip(&format!("cannot build the namespace topology: {e}"));
            false
        }
        Ok(topology) => match topology.load_nft(
            "table inet dw_probe {\n\tchain c {\n\t\ttype filter hook input priority 0;\n\t}\n}\n",
        ) {
            Err(e) => {
                kernel::skip(&format!(
                    "nft cannot load a ruleset in a namespace (no nf_tables?): {e}"
                ));
                false
            }
            Ok(()) => true,
        },
    }
}

/// What driftwall said, from one input.
struct Said {
    answers: Result<Vec<Answer>, String>,
    /// Probes where it and the kernel disagree.
    disagreements: Vec<usize>,
}

/// The outcome of one ruleset.
struct Outcome {
    index: usize,
    case: Case,
    nat_probes: Vec<usize>,
    /// `nft -j list ruleset` after loading, if the kernel took the ruleset.
    json: Option<String>,
    kernel: Result<Vec<Observation>, String>,
    by_json: Said,
    by_text: Option<Said>,
    /// Probes the driver could not run (the harness failed, not driftwall).
    harness_errors: Vec<usize>,
    /// Probes whose verdict the slower second run changed, with the first observation.
    revised: Vec<(usize, Observation)>,
    seconds: f64,
}

fn differing(seen: &[Observation], said: &Result<Vec<Answer>, String>) -> Vec<usize> {
    match said {
        Ok(said) => (0..seen.len())
            .filter(|&i| seen[i].verdict != said[i].verdict)
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn run_case(index: usize, nc: NftCase, timeout: Duration, text: bool) -> Outcome {
    let started = Instant::now();
    let NftCase {
        case,
        listeners,
        nat_probes,
    } = nc;
    let load = |topology: &netns::Topology| -> Result<String, String> {
        topology.load_nft(&case.ruleset)?;
        topology.nft_json()
    };
    let (mut kernel, json) =
        match run::kernel_with(case.family, &case.probes, &listeners, timeout, load) {
            Ok((seen, json)) => (Ok(seen), Some(json)),
            Err(e) => (Err(e), None),
        };
    let scratch = Scratch::new("kernel-nft");
    let ask = |name: &str, format: &str, rules: &str| -> Result<Vec<Answer>, String> {
        run::driftwall_as(case.family, name, format, rules, &case.probes, &scratch)
    };
    let json_answers = match &json {
        Some(j) => ask("ruleset.json", "nft-json", j),
        None => Err("no listing: the kernel run failed".into()),
    };
    let text_answers = text.then(|| ask("ruleset.nft", "nftables", &case.ruleset));

    let mut revised = Vec::new();
    if let Ok(seen) = &mut kernel {
        let mut doubtful: Vec<usize> = differing(seen, &json_answers);
        if let Some(t) = &text_answers {
            doubtful.extend(differing(seen, t));
        }
        doubtful.sort_unstable();
        doubtful.dedup();
        if !doubtful.is_empty() {
            // A second, more patient look before blaming driftwall: some
            // verdicts need a retransmission (a SYN after one second).
            let probes: Vec<Probe> = doubtful.iter().map(|&i| case.probes[i].clone()).collect();
            let again = run::kernel_with(case.family, &probes, &listeners, timeout * 5 / 2, |t| {
                t.load_nft(&case.ruleset)
            });
            match again {
                Ok((again, ())) => {
                    for (&i, second) in doubtful.iter().zip(again) {
                        if second.verdict != seen[i].verdict {
                            revised.push((i, std::mem::replace(&mut seen[i], second)));
                        }
                    }
                }
                Err(e) => kernel = Err(format!("the second, slower run failed: {e}")),
            }
        }
    }
    let mut harness_errors = Vec::new();
    let judge = |answers: Result<Vec<Answer>, String>, harness_errors: &mut Vec<usize>| -> Said {
        let mut disagreements = Vec::new();
        if let (Ok(seen), Ok(said)) = (&kernel, &answers) {
            for i in 0..seen.len() {
                if seen[i].verdict == Verdict::Error {
                    if !harness_errors.contains(&i) {
                        harness_errors.push(i);
                    }
                } else if seen[i].verdict != said[i].verdict {
                    disagreements.push(i);
                }
            }
        }
        Said {
            answers,
            disagreements,
        }
    };
    let by_json = judge(json_answers, &mut harness_errors);
    let by_text = text_answers.map(|t| judge(t, &mut harness_errors));
    Outcome {
        index,
        case,
        nat_probes,
        json,
        kernel,
        by_json,
        by_text,
        harness_errors,
        revised,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn report_problems(outcome: &Outcome) {
    let case = &outcome.case;
    let reproduce = match case.seed {
        Some(seed) => format!(
            "; reproduce with DRIFTWALL_KERNEL_SEED={seed:#x} DRIFTWALL_KERNEL_RULESETS=1 cargo test --test kernel_nftables"
        ),
        None => String::new(),
    };
    let head = format!(
        "ruleset {} ({}, probes {}{reproduce})",
        outcome.index,
        case.name,
        case.family.name()
    );
    let mut problems = String::new();
    if let Err(e) = &outcome.kernel {
        problems += &format!("  the kernel run failed: {e}\n");
    }
    let mut describe = |what: &str, said: &Said| match (&outcome.kernel, &said.answers) {
        (_, Err(e)) => problems += &format!("  driftwall probe on the {what} failed: {e}\n"),
        (Ok(seen), Ok(answers)) => {
            for &i in &said.disagreements {
                problems += &format!(
                    "  probe {}\n    kernel:    {} ({})\n    driftwall ({what}): {}, decided by:\n",
                    case.probes[i],
                    seen[i].verdict.name(),
                    seen[i].detail,
                    answers[i].verdict.name()
                );
                for rule in &answers[i].decided_by {
                    let rule: String = rule.chars().take(300).collect();
                    problems += &format!("      {rule}\n");
                }
            }
        }
        _ => {}
    };
    describe("nft -j listing", &outcome.by_json);
    if let Some(t) = &outcome.by_text {
        describe("nft text", t);
    }
    if let Ok(seen) = &outcome.kernel {
        for &i in &outcome.harness_errors {
            problems += &format!(
                "  probe {}: the harness failed: {}\n",
                case.probes[i], seen[i].detail
            );
        }
    }
    for (i, first) in &outcome.revised {
        println!(
            "note: ruleset {} ({}) probe {}: the first run saw {} ({}), a slower one {}",
            outcome.index,
            case.name,
            case.probes[*i].id,
            first.verdict.name(),
            first.detail,
            outcome
                .kernel
                .as_ref()
                .map_or("?", |seen| seen[*i].verdict.name()),
        );
    }
    if !problems.is_empty() {
        println!(
            "\n=== {head}\n{problems}  ruleset:\n{}",
            numbered(&case.ruleset)
        );
    }
}

fn summary_line(o: &Outcome) -> String {
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    if let Ok(seen) = &o.kernel {
        for obs in seen {
            *counts.entry(obs.verdict).or_default() += 1;
        }
    }
    let status = |s: &Said| match &s.answers {
        _ if o.kernel.is_err() => "-".to_string(),
        Err(_) => "FAILED".to_string(),
        Ok(_) if s.disagreements.is_empty() => "agree".to_string(),
        Ok(_) => format!("{} disagreements", s.disagreements.len()),
    };
    let text = o.by_text.as_ref().map_or("off".to_string(), status);
    format!(
        "ruleset {:>3} {} {}: kernel {}{}; json {}, text {text}{} ({:.1}s)",
        o.index,
        o.case.name,
        o.case.family.name(),
        count_line(&counts),
        if o.kernel.is_err() { "run FAILED" } else { "" },
        status(&o.by_json),
        if o.harness_errors.is_empty() {
            String::new()
        } else {
            format!(", {} harness errors", o.harness_errors.len())
        },
        o.seconds,
    )
}

/// Runs `count` cases, `jobs` at a time, prints every problem and the
/// figures, and fails unless the kernel and driftwall agreed on every probe.
fn compare_all(
    count: usize,
    make: impl Fn(usize) -> NftCase + Sync,
    timeout: Duration,
    jobs: usize,
    text: bool,
    dump: Option<&std::path::Path>,
) {
    let started = Instant::now();
    let outcomes = in_parallel(count, jobs, |index| {
        let outcome = run_case(index, make(index), timeout, text);
        if let Some(dir) = dump {
            dump_case(dir, &outcome);
        }
        println!("{}", summary_line(&outcome));
        outcome
    });
    for outcome in &outcomes {
        report_problems(outcome);
    }

    let mut by_class: BTreeMap<(&str, &str), BTreeMap<Verdict, usize>> = BTreeMap::new();
    let mut totals: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut compared, mut harness_errors, mut failed_runs) = (0, 0, 0);
    let (mut agreed_json, mut agreed_text, mut compared_text) = (0, 0, 0);
    for o in &outcomes {
        *families.entry(o.case.family.name()).or_default() += 1;
        let Ok(seen) = &o.kernel else {
            failed_runs += 1;
            continue;
        };
        for (i, (probe, obs)) in o.case.probes.iter().zip(seen).enumerate() {
            let kind = if o.nat_probes.contains(&i) {
                "nat"
            } else {
                probe.kind.name()
            };
            *by_class
                .entry((kind, probe.proto.name()))
                .or_default()
                .entry(obs.verdict)
                .or_default() += 1;
            *totals.entry(obs.verdict).or_default() += 1;
        }
        let usable = seen.len() - o.harness_errors.len();
        harness_errors += o.harness_errors.len();
        compared += usable;
        match &o.by_json.answers {
            Ok(_) => agreed_json += usable - o.by_json.disagreements.len(),
            Err(_) => failed_runs += 1,
        }
        if let Some(t) = &o.by_text {
            compared_text += usable;
            match &t.answers {
                Ok(_) => agreed_text += usable - t.disagreements.len(),
                Err(_) => failed_runs += 1,
            }
        }
    }
    println!("\nkernel verdicts: {}", count_line(&totals));
    for ((kind, proto), counts) in &by_class {
        println!("  {kind:>3} {proto}: {}", count_line(counts));
    }
    let rate = |a: usize, n: usize| {
        if n == 0 {
            0.0
        } else {
            100.0 * a as f64 / n as f64
        }
    };
    let families: Vec<String> = families.iter().map(|(f, n)| format!("{f} {n}")).collect();
    let text_line = if text {
        format!(
            "nft text agreed: {agreed_text} of {compared_text} ({:.2}%)",
            rate(agreed_text, compared_text)
        )
    } else {
        "nft text: not compared (DRIFTWALL_NFT_TEXT=0)".to_string()
    };
    println!(
        "rulesets: {} (probes {}), probes compared: {compared}, nft -j agreed: {agreed_json} ({:.2}%), {text_line}, \
         harness errors: {harness_errors}, failed runs: {failed_runs}, wall time {:.1}s",
        outcomes.len(),
        families.join(", "),
        rate(agreed_json, compared),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed_runs == 0
            && harness_errors == 0
            && compared > 0
            && agreed_json == compared
            && (!text || agreed_text == compared_text),
        "the kernel and driftwall probe disagree (details above)"
    );
}

/// Writes a case where `DRIFTWALL_KERNEL_DUMP` says, to replay it by hand
/// (`nft -f`, `driftwall probe`).
fn dump_case(dir: &std::path::Path, o: &Outcome) {
    let name = o
        .case
        .seed
        .map_or_else(|| o.case.name.clone(), |seed| format!("{seed:#x}"));
    let probes: Vec<serde_json::Value> = o.case.probes.iter().map(Probe::to_json).collect();
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(format!("{name}.nft")), &o.case.ruleset))
        .and_then(|()| {
            std::fs::write(
                dir.join(format!("{name}.json")),
                o.json.as_deref().unwrap_or(""),
            )
        })
        .and_then(|()| {
            std::fs::write(
                dir.join(format!("{name}.probes.json")),
                serde_json::Value::Array(probes).to_string(),
            )
        });
    if let Err(e) = written {
        panic!(
            "DRIFTWALL_KERNEL_DUMP: cannot write into {}: {e}",
            dir.display()
        );
    }
}

#[test]
fn kernel_and_probe_agree_on_generated_nft_rulesets() {
    if !kernel_available() {
        return;
    }
    let Knobs {
        seed,
        rulesets,
        probes,
        timeout,
        jobs,
    } = Knobs::from_env(DEFAULT_SEED);
    let text = text_enabled();
    println!(
        "nft kernel differential test: {rulesets} rulesets x {probes} probes, seeds {seed:#x}.., \
         timeout {timeout:?}, {jobs} at once, nft text {}",
        if text { "compared" } else { "not compared" }
    );
    let dump = std::env::var_os("DRIFTWALL_KERNEL_DUMP").map(std::path::PathBuf::from);
    compare_all(
        rulesets,
        |i| generate_nft::case(seed.wrapping_add(i as u64), probes),
        timeout,
        jobs,
        text,
        dump.as_deref(),
    );
}

/// A hand-made ruleset, its probes and what the kernel does with each.
struct Distilled {
    name: &'static str,
    family: kernel::Family,
    ruleset: &'static str,
    listeners: Vec<(kernel::Host, kernel::Proto, u16)>,
    probes: Vec<(Probe, Verdict)>,
}

/// The minimal rulesets of the nftables section of `tests/kernel/FINDINGS.md`.
fn distilled() -> Vec<Distilled> {
    use Verdict::{Allow, Drop, Reject};
    use kernel::Family::{V4, V6};
    use kernel::Kind::{Fwd, In};
    use kernel::Proto::{Tcp, Udp};
    use kernel::{Host, Probe as P};
    vec![
        Distilled {
            name: "reject-with-tcp-reset-only-matches-tcp",
            family: V4,
            ruleset: "table ip t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tip saddr 10.1.0.0/24 reject with tcp reset\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", In, V4, Udp, 0, 1, 53), Allow),
                (P::between("p2", In, V4, Tcp, 0, 1, 80), Reject),
            ],
        },
        Distilled {
            name: "ct-state-not-equal-to-a-list-matches-everything",
            family: V4,
            ruleset: "table inet t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tct state != new,untracked accept\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", In, V4, Tcp, 0, 1, 22), Allow),
                (P::between("p2", In, V4, Udp, 0, 1, 53), Allow),
            ],
        },
        Distilled {
            name: "ct-state-bang-list-is-none-of-them",
            family: V4,
            ruleset: "table inet t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tct state ! new,untracked accept\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", In, V4, Tcp, 0, 1, 22), Drop),
                (P::between("p2", In, V4, Udp, 0, 1, 53), Drop),
            ],
        },
        Distilled {
            name: "redirect-goes-to-the-address-of-the-incoming-interface",
            family: V6,
            ruleset: "table ip6 nat {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tudp dport 9999 redirect to :7000\n\t}\n}\n\
                      table inet t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tip6 daddr fd00:1::1 udp dport 7000 accept\n\t}\n}\n",
            listeners: vec![(Host::Firewall, Udp, 7000)],
            probes: vec![
                (P::between("p1", Fwd, V6, Udp, 0, 1, 9999), Allow),
                (P::between("p2", Fwd, V6, Udp, 2, 1, 9999), Drop),
            ],
        },
        Distilled {
            name: "accept-in-one-base-chain-does-not-end-the-hook",
            family: V4,
            ruleset: "table inet a {\n\tchain in1 {\n\t\ttype filter hook input priority -10; policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n\
                      table ip b {\n\tchain in2 {\n\t\ttype filter hook input priority 10; policy accept;\n\t\ttcp dport 22 drop\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", In, V4, Tcp, 0, 1, 22), Drop),
                (P::between("p2", In, V4, Tcp, 0, 1, 23), Allow),
            ],
        },
        Distilled {
            name: "goto-chain-end-applies-base-policy",
            family: V4,
            ruleset: "table inet t {\n\tchain svc {\n\t\tip saddr 10.2.0.0/24 accept\n\t}\n\n\tchain forward_f {\n\t\ttype filter hook forward priority 0; policy drop;\n\t\tct state established,related accept\n\t\tgoto svc\n\t\treject\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", Fwd, V4, Udp, 0, 1, 53), Drop),
                (P::between("p2", Fwd, V4, Udp, 1, 0, 53), Allow),
            ],
        },
        Distilled {
            name: "inet-reject-with-icmp-is-ipv4-only",
            family: V6,
            ruleset: "table inet t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tudp dport 53 reject with icmp type admin-prohibited\n\t\tudp dport 54 reject with icmpx type admin-prohibited\n\t}\n}\n",
            listeners: Vec::new(),
            probes: vec![
                (P::between("p1", In, V6, Udp, 0, 1, 53), Allow),
                (P::between("p2", In, V6, Udp, 0, 1, 54), Reject),
            ],
        },
    ]
}

/// The harness and the findings on rulesets small enough to reason about by
/// hand: the kernel must do what FINDINGS.md says, and driftwall agree.
#[test]
fn kernel_and_probe_agree_on_distilled_nft_cases() {
    if !kernel_available() {
        return;
    }
    let cases = distilled();
    let mut wrong = Vec::new();
    for c in &cases {
        let probes: Vec<Probe> = c.probes.iter().map(|(p, _)| p.clone()).collect();
        let (seen, ()) = run::kernel_with(
            c.family,
            &probes,
            &c.listeners,
            Duration::from_millis(1200),
            |t| t.load_nft(c.ruleset),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        for ((probe, want), obs) in c.probes.iter().zip(&seen) {
            println!(
                "{} {probe}: {} ({})",
                c.name,
                obs.verdict.name(),
                obs.detail
            );
            if obs.verdict != *want {
                wrong.push(format!(
                    "{} {probe}: expected {}, the kernel did {} ({})",
                    c.name,
                    want.name(),
                    obs.verdict.name(),
                    obs.detail
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the kernel does not do what FINDINGS.md says:\n{}",
        wrong.join("\n")
    );
    let make = |i: usize| {
        let c = &cases[i];
        NftCase {
            case: Case {
                name: c.name.to_string(),
                seed: None,
                family: c.family,
                ruleset: c.ruleset.to_string(),
                probes: c.probes.iter().map(|(p, _)| p.clone()).collect(),
            },
            listeners: c.listeners.clone(),
            nat_probes: Vec::new(),
        }
    };
    compare_all(
        cases.len(),
        make,
        Duration::from_millis(1200),
        3,
        text_enabled(),
        None,
    );
}
