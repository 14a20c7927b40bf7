//! Kernel differential test: the kernel decides, `driftwall probe` must agree.
//!
//! As root, each generated ruleset is loaded with iptables-restore (or
//! ip6tables-restore) into a firewall namespace between three peer namespaces
//! (see `tests/kernel/mod.rs`), real TCP and UDP connections are attempted
//! through, into and out of it, and what each initiating socket observed is
//! compared with what `driftwall probe` says about the same probe. Where they
//! disagree, the evaluator is wrong.
//!
//! Without root or the tools the tests print `skipped: <reason>`; with
//! `DRIFTWALL_REQUIRE_ALL=1` (CI) that is a failure instead.
//!
//! Knobs, all optional:
//! - `DRIFTWALL_KERNEL_SEED`: seed of the first ruleset (decimal or 0x hex);
//!   ruleset i uses seed + i, so `DRIFTWALL_KERNEL_SEED=<printed seed>
//!   DRIFTWALL_KERNEL_RULESETS=1` reproduces one case.
//! - `DRIFTWALL_KERNEL_RULESETS` (default 60), `DRIFTWALL_KERNEL_PROBES`
//!   (per ruleset, default 48), `DRIFTWALL_KERNEL_TIMEOUT_MS` (how long a
//!   socket waits before calling it a drop, default 1200),
//!   `DRIFTWALL_KERNEL_JOBS` (rulesets in flight at once, default 3).
//! - `DRIFTWALL_KERNEL_DUMP=DIR`: also write every generated ruleset and its
//!   probes to DIR (`<seed>.iptables`, `<seed>.probes.json`).

mod kernel;
mod support;

use kernel::run::{self, Answer, Observation};
use kernel::{Case, Family, Kind, Probe, Proto, Verdict, distilled, generate, netns};
use kernel::{Knobs, count_line, in_parallel, numbered};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::Scratch;

const DEFAULT_SEED: u64 = 0xd71f_7a11_0000_0000;

/// Prepares for a kernel test; false (after printing why) if it cannot run.
fn kernel_available() -> bool {
    if let Some(reason) = kernel::missing_prerequisite() {
        kernel::skip(&reason);
        return false;
    }
    netns::remove_stale();
    if let Err(e) = netns::Topology::create() {
        kernel::skip(&format!("cannot build the namespace topology: {e}"));
        return false;
    }
    true
}

/// The outcome of one ruleset.
struct Outcome {
    index: usize,
    case: Case,
    /// One observation per probe; where a slower second run saw something
    /// else, what it saw.
    kernel: Result<Vec<Observation>, String>,
    driftwall: Result<Vec<Answer>, String>,
    /// Probes where the kernel and driftwall disagree.
    disagreements: Vec<usize>,
    /// Probes the driver could not run (the harness failed, not driftwall).
    harness_errors: Vec<usize>,
    /// Probes whose verdict the slower second run changed, with the first
    /// observation: the kernel needed a retransmission to decide.
    revised: Vec<(usize, Observation)>,
    /// Wall time of driftwall probe, of the kernel run, of everything.
    seconds: (f64, f64, f64),
}

fn run_case(index: usize, case: Case, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let scratch = Scratch::new("kernel");
    let driftwall = run::driftwall(case.family, &case.ruleset, &case.probes, &scratch);
    let driftwall_seconds = started.elapsed().as_secs_f64();
    let mut kernel = run::kernel(case.family, &case.ruleset, &case.probes, timeout);
    let kernel_seconds = started.elapsed().as_secs_f64() - driftwall_seconds;
    let mut revised = Vec::new();
    if let (Ok(seen), Ok(said)) = (&mut kernel, &driftwall) {
        let differing: Vec<usize> = (0..seen.len())
            .filter(|&i| seen[i].verdict != said[i].verdict)
            .collect();
        if !differing.is_empty() {
            // A second, more patient look before blaming driftwall: some
            // verdicts need a retransmission (a SYN after one second), and a
            // real client waits far longer than the first run does.
            let probes: Vec<Probe> = differing.iter().map(|&i| case.probes[i].clone()).collect();
            match run::kernel(case.family, &case.ruleset, &probes, timeout * 5 / 2) {
                Ok(again) => {
                    for (&i, second) in differing.iter().zip(again) {
                        if second.verdict != seen[i].verdict {
                            revised.push((i, std::mem::replace(&mut seen[i], second)));
                        }
                    }
                }
                Err(e) => kernel = Err(format!("the second, slower run failed: {e}")),
            }
        }
    }
    let (mut disagreements, mut harness_errors) = (Vec::new(), Vec::new());
    if let (Ok(seen), Ok(said)) = (&kernel, &driftwall) {
        for i in 0..seen.len() {
            if seen[i].verdict == Verdict::Error {
                harness_errors.push(i);
            } else if seen[i].verdict != said[i].verdict {
                disagreements.push(i);
            }
        }
    }
    Outcome {
        index,
        case,
        kernel,
        driftwall,
        disagreements,
        harness_errors,
        revised,
        seconds: (
            driftwall_seconds,
            kernel_seconds,
            started.elapsed().as_secs_f64(),
        ),
    }
}

fn report_problems(outcome: &Outcome) {
    let case = &outcome.case;
    let reproduce = match case.seed {
        Some(seed) => {
            format!("; reproduce with DRIFTWALL_KERNEL_SEED={seed:#x} DRIFTWALL_KERNEL_RULESETS=1")
        }
        None => String::new(),
    };
    let head = format!(
        "ruleset {} ({}, {}{reproduce})",
        outcome.index,
        case.name,
        case.family.name()
    );
    let mut problems = String::new();
    if let Err(e) = &outcome.kernel {
        problems += &format!("  the kernel run failed: {e}\n");
    }
    if let Err(e) = &outcome.driftwall {
        problems += &format!("  driftwall probe failed: {e}\n");
    }
    if let (Ok(seen), Ok(said)) = (&outcome.kernel, &outcome.driftwall) {
        for &i in &outcome.disagreements {
            problems += &format!(
                "  probe {}\n    kernel:    {} ({})\n    driftwall: {}, decided by:\n",
                case.probes[i],
                seen[i].verdict.name(),
                seen[i].detail,
                said[i].verdict.name()
            );
            for rule in &said[i].decided_by {
                problems += &format!("      {rule}\n");
            }
        }
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

/// Runs `count` cases, `jobs` at a time, prints every problem and the figures,
/// and fails unless the kernel and driftwall agreed on every probe.
fn compare_all(count: usize, make: impl Fn(usize) -> Case + Sync, timeout: Duration, jobs: usize) {
    let started = Instant::now();
    let outcomes = in_parallel(count, jobs, |index| {
        let outcome = run_case(index, make(index), timeout);
        println!("{}", summary_line(&outcome));
        outcome
    });
    for outcome in &outcomes {
        report_problems(outcome);
    }

    // The figures: what the kernel did, by direction and protocol, and how
    // often driftwall agreed.
    let mut by_class: BTreeMap<(&str, &str), BTreeMap<Verdict, usize>> = BTreeMap::new();
    let mut totals: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut compared, mut agreed, mut failed_runs, mut harness_errors) = (0, 0, 0, 0);
    for outcome in &outcomes {
        *families.entry(outcome.case.family.name()).or_default() += 1;
        match &outcome.kernel {
            Ok(seen) => {
                for (probe, obs) in outcome.case.probes.iter().zip(seen) {
                    let class = (probe.kind.name(), probe.proto.name());
                    *by_class
                        .entry(class)
                        .or_default()
                        .entry(obs.verdict)
                        .or_default() += 1;
                    *totals.entry(obs.verdict).or_default() += 1;
                }
            }
            Err(_) => failed_runs += 1,
        }
        if outcome.driftwall.is_err() {
            failed_runs += 1;
        }
        if let (Ok(seen), Ok(_)) = (&outcome.kernel, &outcome.driftwall) {
            compared += seen.len();
            agreed += seen.len() - outcome.disagreements.len() - outcome.harness_errors.len();
            harness_errors += outcome.harness_errors.len();
        }
    }
    println!("\nkernel verdicts: {}", count_line(&totals));
    for ((kind, proto), counts) in &by_class {
        println!("  {kind:>3} {proto}: {}", count_line(counts));
    }
    let families: Vec<String> = families.iter().map(|(f, n)| format!("{f} {n}")).collect();
    let rate = if compared == 0 {
        0.0
    } else {
        100.0 * agreed as f64 / compared as f64
    };
    println!(
        "rulesets: {} ({}), probes compared: {compared}, agreed: {agreed} ({rate:.2}%), \
         harness errors: {harness_errors}, failed runs: {failed_runs}, wall time {:.1}s",
        outcomes.len(),
        families.join(", "),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed_runs == 0 && harness_errors == 0 && agreed == compared && compared > 0,
        "the kernel and driftwall probe disagree (details above)"
    );
}

#[test]
fn kernel_and_probe_agree_on_generated_iptables_rulesets() {
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
    println!(
        "kernel differential test: {rulesets} rulesets x {probes} probes, seeds {seed:#x}.., \
         timeout {timeout:?}, {jobs} at once"
    );
    let dump = std::env::var_os("DRIFTWALL_KERNEL_DUMP").map(std::path::PathBuf::from);
    let make = |i: usize| {
        let case = generate::case(seed.wrapping_add(i as u64), probes);
        if let Some(dir) = &dump {
            dump_case(dir, &case);
        }
        case
    };
    compare_all(rulesets, make, timeout, jobs);
}

/// Writes a case's ruleset and probes where `DRIFTWALL_KERNEL_DUMP` says, to
/// replay them by hand (`driftwall probe`, `iptables-restore`).
fn dump_case(dir: &std::path::Path, case: &Case) {
    let name = case
        .seed
        .map_or_else(|| case.name.clone(), |seed| format!("{seed:#x}"));
    let rules = dir.join(format!("{name}.{}", case.family.input_format()));
    let probes: Vec<serde_json::Value> = case.probes.iter().map(Probe::to_json).collect();
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&rules, &case.ruleset))
        .and_then(|()| {
            std::fs::write(
                dir.join(format!("{name}.probes.json")),
                serde_json::Value::Array(probes).to_string(),
            )
        });
    if let Err(e) = written {
        panic!(
            "DRIFTWALL_KERNEL_DUMP: cannot write {}: {e}",
            rules.display()
        );
    }
}

/// The minimal rulesets of `tests/kernel/FINDINGS.md`: each once made
/// driftwall disagree with the kernel.
#[test]
fn kernel_and_probe_agree_on_distilled_cases() {
    if !kernel_available() {
        return;
    }
    let cases = distilled::cases();
    compare_all(
        cases.len(),
        |i| cases[i].clone(),
        Duration::from_millis(1200),
        3,
    );
}

fn summary_line(outcome: &Outcome) -> String {
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    if let Ok(seen) = &outcome.kernel {
        for obs in seen {
            *counts.entry(obs.verdict).or_default() += 1;
        }
    }
    let status = match (&outcome.kernel, &outcome.driftwall) {
        (Err(_), _) => "kernel run FAILED".to_string(),
        (_, Err(_)) => "driftwall FAILED".to_string(),
        _ if outcome.disagreements.is_empty() && outcome.harness_errors.is_empty() => {
            "agree".to_string()
        }
        _ => format!(
            "{} disagreements, {} harness errors",
            outcome.disagreements.len(),
            outcome.harness_errors.len()
        ),
    };
    format!(
        "ruleset {:>3} {} {}: kernel {}; {status} (driftwall {:.1}s, kernel {:.1}s, total {:.1}s)",
        outcome.index,
        outcome.case.name,
        outcome.case.family.name(),
        count_line(&counts),
        outcome.seconds.0,
        outcome.seconds.1,
        outcome.seconds.2,
    )
}

/// The harness itself, on rulesets small enough to reason about by hand: if
/// this fails, disagreements in the generated test mean nothing.
#[test]
fn kernel_harness_observes_hand_reasoned_verdicts() {
    if !kernel_available() {
        return;
    }
    use Kind::{Fwd, In, Out};
    use Proto::{Tcp, Udp};
    use Verdict::{Allow, Drop, Reject};
    struct Expect {
        family: Family,
        ruleset: &'static str,
        probes: Vec<(Probe, Verdict)>,
    }
    let v4 = Family::V4;
    let v6 = Family::V6;
    let cases = [
        Expect {
            family: v4,
            ruleset: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v4, Tcp, 0, 1, 80), Allow),
                (Probe::between("p2", In, v4, Udp, 2, 1, 53), Allow),
                (Probe::between("p3", Out, v4, Tcp, 1, 0, 443), Allow),
                (Probe::between("p4", Out, v4, Udp, 2, 0, 123), Allow),
                (Probe::between("p5", Fwd, v4, Tcp, 0, 2, 22), Allow),
                (Probe::between("p6", Fwd, v4, Udp, 2, 1, 5060), Allow),
            ],
        },
        Expect {
            family: v4,
            ruleset: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset\n\
                      -A INPUT -p udp --dport 53 -j REJECT\n\
                      -A INPUT -p tcp --dport 22 -j DROP\n\
                      -A FORWARD -i lan+ -o wan0 -j ACCEPT\n\
                      -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n\
                      -A OUTPUT -p udp --dport 123 -j REJECT --reject-with icmp-admin-prohibited\n\
                      -A OUTPUT -p tcp --dport 443 -j DROP\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v4, Tcp, 0, 1, 80), Reject),
                (Probe::between("p2", In, v4, Udp, 1, 0, 53), Reject),
                (Probe::between("p3", In, v4, Tcp, 2, 0, 22), Drop),
                (Probe::between("p4", In, v4, Udp, 2, 0, 54), Allow),
                (Probe::between("p5", Fwd, v4, Tcp, 0, 2, 8080), Allow),
                (Probe::between("p6", Fwd, v4, Udp, 1, 2, 8080), Allow),
                (Probe::between("p7", Fwd, v4, Tcp, 2, 0, 8080), Drop),
                // A REJECT in OUTPUT answers this host over loopback.
                (Probe::between("p8", Out, v4, Udp, 0, 1, 123), Reject),
                (Probe::between("p9", Out, v4, Tcp, 0, 1, 443), Drop),
            ],
        },
        Expect {
            // The replies and the REJECT answers leave through OUTPUT.
            family: v4,
            ruleset: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A INPUT -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited\n\
                      -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset\n\
                      -A FORWARD -p udp --dport 53 -j REJECT\n\
                      -A OUTPUT -p icmp -j DROP\n\
                      -A OUTPUT -p tcp --sport 8080 -j DROP\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v4, Tcp, 0, 1, 80), Drop),
                (Probe::between("p2", In, v4, Tcp, 0, 1, 81), Reject),
                (Probe::between("p3", Fwd, v4, Udp, 0, 2, 53), Drop),
                (Probe::between("p4", In, v4, Tcp, 1, 0, 8080), Drop),
                (Probe::between("p5", In, v4, Udp, 1, 0, 8080), Allow),
            ],
        },
        Expect {
            // NOTRACK in raw: the untracked SYN passes, the SYN-ACK is not
            // ESTABLISHED, so a DROP policy on OUTPUT that accepts only
            // ESTABLISHED stops it.
            family: v4,
            ruleset: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A PREROUTING -p tcp --dport 80 -j NOTRACK\n\
                      COMMIT\n\
                      *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n\
                      -A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v4, Tcp, 0, 1, 80), Drop),
                (Probe::between("p2", In, v4, Tcp, 0, 1, 81), Allow),
            ],
        },
        Expect {
            // Regressions of the driver: an ICMP error that comes back while
            // connect() still holds the socket lock is only a soft error (it
            // must be read from the error queue), and one for a data segment
            // arrives only with a retransmission.
            family: v6,
            ruleset: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A PREROUTING -i lan0 -j CT --notrack\n\
                      COMMIT\n\
                      *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A INPUT -p tcp --dport 80 -j REJECT\n\
                      -A INPUT -p tcp --dport 90 -m state --state ESTABLISHED -j REJECT --reject-with icmp6-adm-prohibited\n\
                      -A INPUT -p tcp --dport 91 -m state --state ESTABLISHED -j DROP\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v6, Tcp, 0, 1, 80), Reject),
                (Probe::between("p2", In, v6, Tcp, 1, 0, 90), Reject),
                (Probe::between("p3", In, v6, Tcp, 1, 0, 91), Drop),
            ],
        },
        Expect {
            family: v4,
            ruleset: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A INPUT -p tcp --dport 90 -m state --state ESTABLISHED -j REJECT --reject-with icmp-host-prohibited\n\
                      -A FORWARD -p tcp --dport 80 -j REJECT --reject-with icmp-net-unreachable\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v4, Tcp, 1, 0, 90), Reject),
                (Probe::between("p2", Fwd, v4, Tcp, 1, 2, 80), Reject),
            ],
        },
        Expect {
            family: v6,
            ruleset: "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                      -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
                      -A INPUT -p tcp --dport 22 -j ACCEPT\n\
                      -A INPUT -p udp --dport 53 -j REJECT --reject-with icmp6-adm-prohibited\n\
                      -A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset\n\
                      -A FORWARD -i wan0 -j REJECT --reject-with icmp6-no-route\n\
                      COMMIT\n",
            probes: vec![
                (Probe::between("p1", In, v6, Tcp, 0, 1, 22), Allow),
                (Probe::between("p2", In, v6, Tcp, 0, 1, 23), Drop),
                (Probe::between("p3", In, v6, Udp, 1, 0, 53), Reject),
                (Probe::between("p4", In, v6, Tcp, 2, 0, 80), Reject),
                (Probe::between("p5", Out, v6, Tcp, 0, 1, 80), Allow),
                (Probe::between("p6", Out, v6, Udp, 0, 1, 53), Allow),
                (Probe::between("p7", Fwd, v6, Tcp, 2, 0, 80), Reject),
                (Probe::between("p8", Fwd, v6, Udp, 2, 1, 80), Reject),
                (Probe::between("p9", Fwd, v6, Udp, 0, 2, 80), Allow),
            ],
        },
    ];

    let mut wrong = Vec::new();
    for (n, expect) in cases.iter().enumerate() {
        let probes: Vec<Probe> = expect.probes.iter().map(|(p, _)| p.clone()).collect();
        let seen = run::kernel(
            expect.family,
            expect.ruleset,
            &probes,
            Duration::from_millis(1200),
        )
        .unwrap_or_else(|e| panic!("case {n}: {e}"));
        for ((probe, want), obs) in expect.probes.iter().zip(&seen) {
            println!("case {n} {probe}: {} ({})", obs.verdict.name(), obs.detail);
            if obs.verdict != *want {
                wrong.push(format!(
                    "case {n} {probe}: expected {}, the kernel did {} ({})",
                    want.name(),
                    obs.verdict.name(),
                    obs.detail
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the harness does not see what it should:\n{}",
        wrong.join("\n")
    );
}
