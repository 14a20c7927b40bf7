//! The iptables parser against real files written by others
//! (`../shared/corpus/iptables` and `../shared/corpus/ufw`) and against
//! iptables' own per-extension rule tests (`tests-ext-*.t`).
//!
//! The corpus lives outside the repository (its files have many licenses). It
//! is found through `DRIFTWALL_CORPUS` or `../shared/corpus` next to the
//! workspace; when it is absent the tests print why and pass, unless
//! `DRIFTWALL_REQUIRE_ALL` is set (CI sets it), which makes absence a failure.
//!
//! Run with `cargo test -p driftwall-parsers --test corpus -- --nocapture` to
//! see the per-file outcomes and the rates.

use driftwall_parsers::iptables::{detect_family, parse};
use driftwall_parsers::model::Family;
use driftwall_parsers::{ParseError, Parsed};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../../tests/support/common.rs"]
mod support;

/// The corpus directory, or `None` (after printing why) if the test should skip.
fn corpus_dir() -> Option<PathBuf> {
    support::corpus("iptables")?.parent().map(Path::to_path_buf)
}

/// Sorted file names of a corpus folder.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Parses under `catch_unwind`, so a panic is reported as the file's outcome
/// instead of ending the run.
fn parse_guarded(path: &str, text: &str, family: Family) -> Result<(Parsed, Duration), String> {
    let start = Instant::now();
    std::panic::catch_unwind(|| parse(path, text, family))
        .map(|p| (p, start.elapsed()))
        .map_err(|payload| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        })
}

/// An error "names the construct" when it quotes the offending text in
/// backticks, and it follows the house style: lowercase, no trailing period.
fn error_is_well_formed(e: &ParseError) -> bool {
    let m = &e.message;
    m.contains('`')
        && !m.ends_with('.')
        && m.chars().next().is_some_and(|c| !c.is_uppercase())
        && e.line >= 1
        && e.column >= 1
}

/// No file may take longer than this (debug build, shared 2-core machine).
const FILE_TIME_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    /// iptables' own shell-test dumps.
    TestsShell,
    Batfish,
    Diekmann,
    RealWorld,
    /// ufw's shipped rule files (upstream and the 2012 versions).
    UfwUpstream,
    UfwRealWorld,
}

impl Group {
    fn of(folder: &str, name: &str) -> Option<Group> {
        if name.ends_with(".t") || name.ends_with(".txlate") || name.starts_with("diekmann-fffuu-")
        {
            return None; // rule tests, translations, fffuu's outputs and interface maps
        }
        match folder {
            "iptables" if name.starts_with("tests-shell-") => Some(Group::TestsShell),
            "iptables" if name.starts_with("batfish-") => Some(Group::Batfish),
            "iptables" if name.starts_with("diekmann-") => Some(Group::Diekmann),
            "iptables" if name.starts_with("realworld-") => Some(Group::RealWorld),
            "ufw" if !name.ends_with(".rules") => None,
            "ufw" if name.starts_with("realworld-") => Some(Group::UfwRealWorld),
            "ufw" => Some(Group::UfwUpstream),
            _ => None,
        }
    }

    /// Files written for real networks, whose clean-parse rate we guard.
    fn is_real(self) -> bool {
        matches!(
            self,
            Group::Batfish | Group::Diekmann | Group::RealWorld | Group::UfwRealWorld
        )
    }
}

/// Files that must give errors, and why. Every other file must parse clean.
const MUST_FAIL: &[(&str, &str)] = &[
    (
        "batfish-iptables-testconfigs-unsupported_command",
        "--check, --delete, --list, --rename-chain, --replace and -h are no restore-file commands, and `--policy` needs a built-in chain",
    ),
    (
        "batfish-iptables-testconfigs-unsupported_rule_spec_options",
        "`-m tcp` without `-p tcp`: the kernel refuses the rule",
    ),
    (
        "diekmann-Parser_Test-data-iptables-save",
        "`--something-else` is no option of multiport, and `-m icmp6` is IPv6 only (iptables-restore rejects both)",
    ),
    (
        "realworld-ustclug-liimstrap-etc-iptables-rules.v4",
        "hostnames (`pxe.ustc.edu.cn`) where addresses belong; driftwall does not resolve names",
    ),
    (
        "realworld-ustclug-liimstrap-etc-iptables-rules.v6",
        "hostnames (`pxe.ustc.edu.cn`) where addresses belong; driftwall does not resolve names",
    ),
];

/// Files iptables-restore 1.8.9 rejects that parse clean on purpose.
const LENIENT: &[(&str, &str)] = &[
    (
        "diekmann-configs_ugent-iptables-save.v1.4.21",
        "`-d ! addr` is iptables 1.4's way to write `! -d addr`; the meaning is plain, so it is read",
    ),
    (
        "diekmann-linux.gda.pl-firewallp.txt",
        "`--days` is no option of the time match, which is not modelled: its options are kept as text",
    ),
    (
        "diekmann-TUM_Net-iptables_20.10.2013",
        "anonymised MAC addresses (`XX:XX:..`) in the mac match, which is not modelled",
    ),
    (
        "diekmann-TUM_Net_Firewall-iptables-save-2015-05-15_15-23-41_cheating",
        "anonymised MAC addresses (`XX:XX:..`) in the mac match, which is not modelled",
    ),
];

/// Files whose status differs from what the corpus README says, with the reason.
const README_DISAGREEMENTS: &[(&str, &str)] = &[(
    "batfish-parsing-errors-tests-networks-invalid-iptables-host1.iptables",
    "the README calls it deliberately invalid, but iptables-restore 1.8.9 loads it and Batfish itself parses it in recovery mode; it is only invalid for Batfish's strict grammar (`--dport` without `-m udp`), so it must parse",
)];

/// Lowest clean-parse rate over the real-network files (batfish, diekmann,
/// realworld). Set to what the parser achieves, so a regression fails.
const MIN_REAL_CLEAN_RATE: f64 = 0.95;

#[test]
fn every_iptables_format_file_parses_or_names_its_errors() {
    let Some(corpus) = corpus_dir() else { return };
    let mut seen = 0usize;
    let mut panics = Vec::new();
    let mut slow = Vec::new();
    let mut malformed = Vec::new();
    let mut unexpected = Vec::new();
    // group -> (files, clean)
    let mut by_group: BTreeMap<Group, (usize, usize)> = BTreeMap::new();
    println!(
        "{:<8} {:<4} {:>6} {:>8}  file",
        "outcome", "fam", "rules", "ms"
    );
    for folder in ["iptables", "ufw"] {
        let dir = corpus.join(folder);
        for name in files_in(&dir) {
            let Some(group) = Group::of(folder, &name) else {
                continue;
            };
            seen += 1;
            let path = format!("{folder}/{name}");
            let bytes = std::fs::read(dir.join(&name))
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
            let text = String::from_utf8_lossy(&bytes);
            let family = detect_family(&path, &text);
            let (parsed, took) = match parse_guarded(&path, &text, family) {
                Ok(r) => r,
                Err(msg) => {
                    println!(
                        "{:<8} {:<4} {:>6} {:>8}  {path}: {msg}",
                        "PANIC",
                        family.name(),
                        "-",
                        "-"
                    );
                    panics.push(path);
                    continue;
                }
            };
            let clean = parsed.errors.is_empty();
            let entry = by_group.entry(group).or_default();
            entry.0 += 1;
            entry.1 += usize::from(clean);
            let outcome = if clean { "clean" } else { "errors" };
            println!(
                "{outcome:<8} {:<4} {:>6} {:>8}  {path}",
                family.name(),
                parsed.ruleset.rule_count(),
                took.as_millis()
            );
            for e in &parsed.errors {
                println!(
                    "{:>30}{}:{}: [{}] {}",
                    "",
                    e.line,
                    e.column,
                    e.kind.code(),
                    e.message
                );
                if !error_is_well_formed(e) {
                    malformed.push(format!("{path}:{}: {}", e.line, e.message));
                }
            }
            if let Some((_, why)) = README_DISAGREEMENTS
                .iter()
                .chain(LENIENT)
                .find(|(n, _)| *n == name)
            {
                println!("{:>30}note: {why}", "");
            }
            if took > FILE_TIME_LIMIT {
                slow.push(format!("{path}: {took:?}"));
            }
            let must_fail = MUST_FAIL.iter().any(|(n, _)| *n == name);
            if must_fail == clean {
                let want = if must_fail { "errors" } else { "a clean parse" };
                unexpected.push(format!("{path}: expected {want}"));
            }
        }
    }

    println!("\nper group (clean / files):");
    let (mut real_files, mut real_clean, mut all_files, mut all_clean) = (0, 0, 0, 0);
    for (group, (files, clean)) in &by_group {
        println!("  {group:?}: {clean} / {files}");
        all_files += files;
        all_clean += clean;
        if group.is_real() {
            real_files += files;
            real_clean += clean;
        }
    }
    let rate = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    println!(
        "all iptables-format files: {all_clean} / {all_files} parse clean, {} with errors",
        all_files - all_clean
    );
    println!(
        "real-network files (batfish, diekmann, realworld, ufw realworld): {real_clean} / {real_files} parse clean ({:.1}%)",
        100.0 * rate(real_clean, real_files)
    );
    println!("must-fail files:");
    for (name, why) in MUST_FAIL {
        println!("  {name}: {why}");
    }
    println!("files iptables-restore 1.8.9 rejects that parse clean on purpose:");
    for (name, why) in LENIENT {
        println!("  {name}: {why}");
    }

    assert!(
        seen > 100,
        "only {seen} iptables-format files found under {}",
        corpus.display()
    );
    assert!(panics.is_empty(), "the parser panicked on: {panics:#?}");
    assert!(
        slow.is_empty(),
        "files slower than {FILE_TIME_LIMIT:?}: {slow:#?}"
    );
    assert!(
        malformed.is_empty(),
        "errors that do not name the construct or break the style: {malformed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "files with an unexpected outcome: {unexpected:#?}"
    );
    assert!(
        rate(real_clean, real_files) >= MIN_REAL_CLEAN_RATE,
        "clean-parse rate of real-network files fell to {real_clean} / {real_files}"
    );
}

/// What iptables' test runner expects of a rule line under the nf_tables backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// `OK` or `NOMATCH`: the command succeeds (the saved form may differ).
    Accept,
    /// `FAIL`: the command is rejected.
    Reject,
}

/// The result a `.t` line expects of the nf_tables backend: the third field,
/// unless a fourth field scopes it to LEGACY, in which case NFT gets the fifth
/// field or else the inverse (as iptables-test.py's `variant_res` does).
fn nft_expectation(fields: &[&str]) -> Option<Expect> {
    let result = fields.get(2)?.trim();
    let result = match fields.get(3).map(|v| v.trim()) {
        None | Some("NFT") => result,
        Some("LEGACY") => match fields.get(4).map(|r| r.trim()) {
            Some(alt) => alt,
            None if result == "FAIL" => "OK",
            None => "FAIL",
        },
        Some(_) => return None,
    };
    // iptables-test.py treats every result other than FAIL as "must load".
    Some(if result == "FAIL" {
        Expect::Reject
    } else {
        Expect::Accept
    })
}

/// Modules and targets the model interprets; their FAIL lines must be rejected.
const MODELLED: &[&str] = &[
    "tcp",
    "udp",
    "multiport",
    "conntrack",
    "state",
    "comment",
    "iprange",
    "standard",
    "icmp",
    "icmp6",
    "REJECT",
    "LOG",
    "NFLOG",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "REDIRECT",
    "CT",
    "NOTRACK",
    "MARK",
];

/// `tests-ext-libxt_tcp.t` -> `tcp`, `tests-ext-iptables.t` -> `standard`.
fn extension_of(name: &str) -> &str {
    let stem = name.trim_start_matches("tests-ext-").trim_end_matches(".t");
    if stem == "iptables" {
        return "standard";
    }
    stem.split_once('_').map(|(_, ext)| ext).unwrap_or(stem)
}

/// The families a `.t` file runs under: `libipt_` iptables, `libip6t_`
/// ip6tables, `libxt_` both; ebtables and arptables files are out of scope.
fn families_of(name: &str) -> &'static [Family] {
    if name.contains("libebt_") || name.contains("libarpt_") {
        &[]
    } else if name.contains("libip6t_") {
        &[Family::Ipv6]
    } else if name.contains("libxt_") {
        &[Family::Ipv4, Family::Ipv6]
    } else {
        &[Family::Ipv4]
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    ok_lines: usize,
    ok_accepted: usize,
    fail_lines: usize,
    fail_rejected: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.ok_lines += other.ok_lines;
        self.ok_accepted += other.ok_accepted;
        self.fail_lines += other.fail_lines;
        self.fail_rejected += other.fail_rejected;
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

/// Lowest share of OK lines (all extensions) that must parse without error.
const MIN_OK_ACCEPTANCE: f64 = 100.0;
/// Lowest share of FAIL lines of the modelled modules and targets that must be rejected.
const MIN_MODELLED_FAIL_REJECTION: f64 = 100.0;

#[test]
fn extension_rule_tests_accept_ok_lines_and_reject_fail_lines() {
    let Some(corpus) = corpus_dir() else { return };
    let dir = corpus.join("iptables");
    let mut modelled = Tally::default();
    let mut unmodelled = Tally::default();
    let mut panics = Vec::new();
    let mut ok_rejected = Vec::new();
    let mut fail_accepted_modelled = Vec::new();
    let mut fail_accepted_unmodelled = Vec::new();
    let mut per_file = Vec::new();
    for name in files_in(&dir)
        .into_iter()
        .filter(|n| n.starts_with("tests-ext-") && n.ends_with(".t"))
    {
        let families = families_of(&name);
        if families.is_empty() {
            continue;
        }
        let ext = extension_of(&name);
        let is_modelled = MODELLED.contains(&ext);
        let text = std::fs::read_to_string(dir.join(&name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
        let mut tally = Tally::default();
        let mut table = "filter".to_string();
        let mut chains: Vec<String> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            if line.trim().is_empty() || line.starts_with(['#', '@', '%']) {
                continue;
            }
            if let Some(list) = line.strip_prefix(':') {
                chains = list.trim().split(',').map(str::to_string).collect();
                continue;
            }
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_string();
                continue;
            }
            let fields: Vec<&str> = line.split(';').collect();
            let (Some(rule), Some(expect)) = (fields.first(), nft_expectation(&fields)) else {
                continue;
            };
            // iptables-test.py runs the rule once per chain and family; the line
            // passes only if every run does.
            let mut accepted_everywhere = true;
            let mut first_error = None;
            for &family in families {
                for chain in &chains {
                    let restore = format!("*{table}\n-A {chain} {rule}\nCOMMIT\n");
                    let path = format!("{name}:{line_no}");
                    match parse_guarded(&path, &restore, family) {
                        Ok((parsed, _)) => {
                            if let Some(e) = parsed.errors.first() {
                                accepted_everywhere = false;
                                first_error.get_or_insert_with(|| {
                                    format!("{} ({}, {chain})", e.message, family.name())
                                });
                            }
                        }
                        Err(msg) => {
                            panics.push(format!("{name}:{line_no}: {rule}: {msg}"));
                            accepted_everywhere = false;
                        }
                    }
                }
            }
            let where_ = format!("{name}:{line_no}: {rule}");
            match expect {
                Expect::Accept => {
                    tally.ok_lines += 1;
                    if accepted_everywhere {
                        tally.ok_accepted += 1;
                    } else {
                        ok_rejected.push(format!(
                            "{where_}\n      -> {}",
                            first_error.unwrap_or_default()
                        ));
                    }
                }
                Expect::Reject => {
                    tally.fail_lines += 1;
                    // A FAIL line is rejected when no run accepts it.
                    if first_error.is_some() {
                        tally.fail_rejected += 1;
                    } else if is_modelled {
                        fail_accepted_modelled.push(where_);
                    } else {
                        fail_accepted_unmodelled.push(where_);
                    }
                }
            }
        }
        if is_modelled {
            modelled.add(tally)
        } else {
            unmodelled.add(tally)
        }
        per_file.push((name.clone(), is_modelled, tally));
    }

    println!(
        "{:<44} {:>9} {:>16} {:>16}",
        "extension file", "modelled", "OK accepted", "FAIL rejected"
    );
    for (name, is_modelled, t) in &per_file {
        println!(
            "{name:<44} {:>9} {:>7}/{:<4}{:>4.0}% {:>7}/{:<4}{:>4.0}%",
            if *is_modelled { "yes" } else { "no" },
            t.ok_accepted,
            t.ok_lines,
            pct(t.ok_accepted, t.ok_lines),
            t.fail_rejected,
            t.fail_lines,
            pct(t.fail_rejected, t.fail_lines),
        );
    }
    let mut all = modelled;
    all.add(unmodelled);
    println!("\nOK lines that were rejected ({}):", ok_rejected.len());
    for l in &ok_rejected {
        println!("  {l}");
    }
    println!(
        "\nFAIL lines of modelled modules and targets that were accepted ({}):",
        fail_accepted_modelled.len()
    );
    for l in &fail_accepted_modelled {
        println!("  {l}");
    }
    println!(
        "\nFAIL lines of modules and targets we do not model in detail that were accepted ({}; allowed: their options become Match::Unknown / Action::Unknown without value checks):",
        fail_accepted_unmodelled.len()
    );
    for l in &fail_accepted_unmodelled {
        println!("  {l}");
    }
    println!(
        "\nOK acceptance, all extensions: {}/{} ({:.1}%)",
        all.ok_accepted,
        all.ok_lines,
        pct(all.ok_accepted, all.ok_lines)
    );
    println!(
        "FAIL rejection, modelled modules and targets: {}/{} ({:.1}%)",
        modelled.fail_rejected,
        modelled.fail_lines,
        pct(modelled.fail_rejected, modelled.fail_lines)
    );
    println!(
        "FAIL rejection, other modules and targets (counted separately): {}/{} ({:.1}%)",
        unmodelled.fail_rejected,
        unmodelled.fail_lines,
        pct(unmodelled.fail_rejected, unmodelled.fail_lines)
    );
    println!(
        "FAIL rejection, all extensions: {}/{} ({:.1}%)",
        all.fail_rejected,
        all.fail_lines,
        pct(all.fail_rejected, all.fail_lines)
    );

    assert!(panics.is_empty(), "the parser panicked on: {panics:#?}");
    assert!(all.ok_lines > 500, "only {} OK lines found", all.ok_lines);
    assert!(
        pct(all.ok_accepted, all.ok_lines) >= MIN_OK_ACCEPTANCE,
        "OK acceptance fell to {}/{}",
        all.ok_accepted,
        all.ok_lines
    );
    assert!(
        pct(modelled.fail_rejected, modelled.fail_lines) >= MIN_MODELLED_FAIL_REJECTION,
        "FAIL rejection of modelled modules fell to {}/{}",
        modelled.fail_rejected,
        modelled.fail_lines
    );
}

fn parse_time(path: &str, text: &str, family: Family) -> Duration {
    let start = Instant::now();
    std::hint::black_box(parse(path, text, family));
    start.elapsed()
}

/// The largest files parse quickly, and a version with every rule line
/// repeated four times (four times the rules per chain) takes about four
/// times as long, not sixteen.
#[test]
fn largest_files_parse_in_linear_time() {
    let Some(corpus) = corpus_dir() else { return };
    let largest = [
        "iptables/diekmann-TUM_Net_Firewall-iptables-save-2015-05-15_15-23-41_cheating",
        "ufw/realworld-crmccreary-ufw-setup-for-nat-before.rules",
    ];
    for path in largest {
        let bytes =
            std::fs::read(corpus.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let family = detect_family(path, &text);
        let widened: String = text
            .split_inclusive('\n')
            .flat_map(|line| {
                let times = if line.starts_with("-A ") { 4 } else { 1 };
                std::iter::repeat_n(line, times)
            })
            .collect();
        // Timed in turns, best of each: a busy machine slows both alike.
        let (mut t1, mut t4) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            t1 = t1.min(parse_time(path, &text, family));
            t4 = t4.min(parse_time(path, &widened, family));
        }
        let rules = parse(path, &text, family).ruleset.rule_count();
        let ratio = t4.as_secs_f64() / t1.as_secs_f64().max(1e-6);
        println!(
            "{path}: {} KB, {rules} rules in {t1:?}; every rule four times: {t4:?} (x{ratio:.1})",
            text.len() / 1024
        );
        assert!(t1 < FILE_TIME_LIMIT, "{path} took {t1:?}");
        assert!(
            ratio < 10.0,
            "{path}: four times the rules took {ratio:.1}x the time ({t1:?} -> {t4:?})"
        );
    }
}
