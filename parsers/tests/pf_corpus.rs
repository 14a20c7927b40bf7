//! The pf parser against the shared corpus (`corpus/pf/`, see its README):
//! pfctl's own tests (FreeBSD `sbin/pfctl/tests/files`, OpenBSD
//! `regress/sbin/pfctl`), and real-world pf.conf and anchor files.
//!
//! What is required, and printed as rates:
//! - every FreeBSD `pfNNNN.in` that has no `.fail`, and every `.ok`
//!   (pfctl's own printout, which must read back), parses without error;
//! - every `pfNNNN.in` with a `.fail` is refused, with an error in the file
//!   and at the line the `.fail` names, if it names one;
//! - every OpenBSD `pfN.in` parses, every `pfailN.in` is refused, except
//!   the cases listed in [`PFAIL_EXCLUDED`] with their reasons;
//! - every real-world file parses, or fails with an error naming a
//!   construct; the list of what is left is printed and pinned in
//!   [`REALWORLD_LEFT`];
//! - `include` and `load anchor` files are read through the loader from the
//!   test's folder;
//! - nothing panics, and each file parses in bounded time.

#[path = "../../tests/support/common.rs"]
mod support;

use driftwall_parsers::pf::{PfParsed, parse};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// OpenBSD `pfail` inputs pfctl refuses for reasons a parser cannot see.
const PFAIL_EXCLUDED: &[(&str, &str)] = &[
    (
        "pfail10.in",
        "refused only while `set require-order` defaults to yes (old pfctl); today's FreeBSD and OpenBSD take rules in any order, and `nat ... ->` no longer exists in OpenBSD",
    ),
    (
        "pfail12.in",
        "`pass in all flags S/SA` without `proto tcp`: refused by old pfctl, taken by today's, whose own printout of FreeBSD's tests reads `pass ... all flags S/SA keep state` (pf0069.ok, pf1018.ok, ...), which must read back",
    ),
    (
        "pfail16.in",
        "`route-to lo0` is refused because lo0 is a loopback interface of the host pfctl runs on: a fact about the machine, not the file",
    ),
    (
        "pfail21.in",
        "`(nonexistant0)` is refused because no such interface exists on the machine pfctl runs on",
    ),
    (
        "pfail31.in",
        "`altq on nothere0` is refused because the interface does not exist on the machine pfctl runs on",
    ),
];

/// OpenBSD `pfN.in` inputs today's pfctl refuses.
const PF_EXCLUDED: &[(&str, &str)] = &[(
    "pf13.in",
    "OpenBSD 3.0-era `dup-to tun1:192.168.1.1` (interface and address joined by `:`) and `block ... dup-to`, which today's pfctl refuses: FreeBSD's pf1067.fail says route-to, reply-to and dup-to are not supported on block rules",
)];

/// Real-world files that do not parse, with why: pinned so a change shows.
/// Each is refused by pfctl too, or is not a pf.conf, or needs a file the
/// corpus does not have.
const REALWORLD_LEFT: &[(&str, &str)] = &[
    (
        "realworld-115100-openbsd_router-etc-pf.conf",
        "`rdr-to $ws_inet` with the placeholder `ws_inet = \"\"` left empty: no address to redirect to",
    ),
    (
        "realworld-7Wj9ncEz-firewall-freebsd-pf.conf",
        "uses `$webserver`, which it never defines (pfctl: macro 'webserver' not defined)",
    ),
    (
        "realworld-Firekeeps-Openbsd-router-pf.conf",
        "begins with prose (`Create blocks that are variable`) without `#`",
    ),
    (
        "realworld-anoduck-pf.conf-pf.conf",
        "an Apache virtual host, not pf.conf",
    ),
    (
        "realworld-bluhm-pf_forward-pf.conf",
        "its macros (`$PF_IN`, ...) are given on pfctl's command line with `-D`, not in the file",
    ),
    (
        "realworld-essandess-macOS-Fortress-pf.conf",
        "loads `/usr/local/etc/blockips.conf`, which a script makes and the corpus does not have",
    ),
    (
        "realworld-jrockway-openbsd-router-config-etc-pf.conf",
        "`priq(default,ecn))`: a stray `)`, a syntax error for pfctl",
    ),
];

fn corpus() -> Option<PathBuf> {
    support::corpus("pf")
}

/// Parses a file with `include`/`load anchor` names mapped into `root`
/// (absolute names onto it, relative ones to the including file's folder).
fn parse_file(path: &Path, root: &Path) -> PfParsed {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shown = path.display().to_string();
    let root = root.to_path_buf();
    let loader = move |including: &str, name: &str| -> Result<Vec<(String, String)>, String> {
        let target = if name == "/etc/pf.anchors/com.apple" && !root.join("etc").exists() {
            // Apple's stock anchor file, kept beside the pf.conf files that load it.
            let owner = if including.contains("mtucker") {
                "mtucker"
            } else {
                "richbs-mac"
            };
            root.join(format!("realworld-{owner}-etc-pf.anchors-com.apple"))
        } else if let Some(rest) = name.strip_prefix('/') {
            root.join(rest)
        } else {
            Path::new(including)
                .parent()
                .unwrap_or(Path::new("."))
                .join(name.trim_start_matches("./"))
        };
        std::fs::read_to_string(&target)
            .map(|t| vec![(target.display().to_string(), t)])
            .map_err(|e| format!("cannot read `{}`: {e}", target.display()))
    };
    let start = Instant::now();
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse(&shown, &text, &loader)
    }))
    .unwrap_or_else(|_| panic!("{shown}: the parser panicked"));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{shown}: took {:?}",
        start.elapsed()
    );
    parsed
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    list.sort();
    list
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn first_errors(parsed: &PfParsed) -> String {
    parsed
        .errors
        .iter()
        .take(3)
        .map(|e| format!("\n    {e}"))
        .collect()
}

#[test]
fn freebsd_pfctl_tests_parse_and_fail_as_pfctl_does() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("freebsd-pfctl-tests");
    let all = files(&dir);
    let (mut ok, mut ok_total, mut refused, mut fail_total) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for path in &all {
        let n = name(path);
        let stem = path.with_extension("");
        // An `.in` without a `.fail` was taken by pfctl: those with an `.ok`,
        // and pf1005, pf1076 and pf1077, whose `.ok` did not match their
        // `.in` or belonged to another version (corpus README).
        if n.ends_with(".ok") || (n.ends_with(".in") && !stem.with_extension("fail").exists()) {
            ok_total += 1;
            let parsed = parse_file(path, &dir);
            if parsed.errors.is_empty() {
                ok += 1;
            } else {
                wrong.push(format!("{n}: must parse{}", first_errors(&parsed)));
            }
        } else if n.ends_with(".in") && stem.with_extension("fail").exists() {
            fail_total += 1;
            let expected = std::fs::read_to_string(stem.with_extension("fail")).unwrap_or_default();
            let parsed = parse_file(path, &dir);
            // `pf1070.include:2: syntax error`: the error must be in that file, at that line.
            let place = expected.split(':').collect::<Vec<_>>();
            let at_line = match place.as_slice() {
                [file, line, ..] if line.trim().parse::<u32>().is_ok() => {
                    let line: u32 = line.trim().parse().unwrap_or(0);
                    parsed
                        .errors
                        .iter()
                        .any(|e| e.path.ends_with(file) && e.line == line)
                }
                // Otherwise pfctl's message (a regular expression there) is ours.
                _ => {
                    let message = expected.trim().replace('\\', "");
                    parsed.errors.iter().any(|e| e.message.contains(&message))
                }
            };
            if at_line {
                refused += 1;
            } else {
                wrong.push(format!(
                    "{n}: must be refused ({}){}",
                    expected.trim(),
                    first_errors(&parsed)
                ));
            }
        }
    }
    println!(
        "freebsd pfctl tests: must parse {ok}/{ok_total}, must fail refused {refused}/{fail_total}"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        ok_total >= 80 && fail_total >= 10,
        "corpus smaller than expected"
    );
}

#[test]
fn openbsd_regress_inputs_parse_and_pfail_inputs_are_refused() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("openbsd-regress-pfctl");
    let (mut ok, mut ok_total, mut refused, mut fail_total) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for path in files(&dir) {
        let n = name(&path);
        let parsed = parse_file(&path, &dir);
        if n.starts_with("pfail") {
            if PFAIL_EXCLUDED.iter().any(|(x, _)| *x == n) {
                continue;
            }
            fail_total += 1;
            if parsed.errors.is_empty() {
                wrong.push(format!("{n}: must be refused"));
            } else {
                refused += 1;
            }
        } else if n.ends_with(".in") {
            if PF_EXCLUDED.iter().any(|(x, _)| *x == n) {
                continue;
            }
            ok_total += 1;
            if parsed.errors.is_empty() {
                ok += 1;
            } else {
                wrong.push(format!("{n}: must parse{}", first_errors(&parsed)));
            }
        }
    }
    println!(
        "openbsd regress: pfN.in parse {ok}/{ok_total} ({} excluded), pfailN.in refused {refused}/{fail_total} ({} excluded)",
        PF_EXCLUDED.len(),
        PFAIL_EXCLUDED.len()
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn realworld_files_parse_or_name_what_they_use() {
    let Some(dir) = corpus() else { return };
    let mut paths: Vec<PathBuf> = files(&dir)
        .into_iter()
        .filter(|p| name(p).starts_with("realworld-"))
        .collect();
    let chad = dir.join("realworld-o0-o-pf-chad/etc");
    paths.push(chad.join("pf.conf"));
    let (mut ok, mut total) = (0, 0);
    let mut left = Vec::new();
    for path in &paths {
        total += 1;
        let root = if path.starts_with(&chad) {
            chad.parent().unwrap_or(&chad).to_path_buf()
        } else {
            dir.clone()
        };
        let parsed = parse_file(path, &root);
        if parsed.errors.is_empty() {
            ok += 1;
            continue;
        }
        for e in &parsed.errors {
            assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e}");
        }
        left.push((name(path), parsed.errors[0].to_string()));
    }
    println!("real-world pf files: {ok}/{total} parse without error; left:");
    for (n, e) in &left {
        println!("  {n}: {e}");
    }
    let names: Vec<&str> = left.iter().map(|(n, _)| n.as_str()).collect();
    let pinned: Vec<&str> = REALWORLD_LEFT.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, pinned, "the real-world files left changed");
}

#[test]
fn the_chad_setup_loads_its_anchor_files() {
    let Some(dir) = corpus() else { return };
    let etc = dir.join("realworld-o0-o-pf-chad/etc");
    let parsed = parse_file(&etc.join("pf.conf"), &dir.join("realworld-o0-o-pf-chad"));
    let loaded = parsed
        .ruleset
        .items
        .iter()
        .filter(
            |i| matches!(i, driftwall_parsers::pf::ast::Item::LoadAnchor(l) if l.ruleset.is_some()),
        )
        .count();
    assert!(
        loaded >= 10,
        "only {loaded} anchors loaded; errors: {:?}",
        parsed.errors
    );
    assert!(
        parsed.ruleset.sources.len() > loaded,
        "the loaded files are among the sources"
    );
}

/// Format detection: pf.conf files look like pf, iptables-save and nft
/// files do not. Files that are not pf.conf at all are left out (they are
/// in [`REALWORLD_LEFT`] for that reason).
#[test]
fn pf_files_look_like_pf_and_others_do_not() {
    let Some(dir) = corpus() else { return };
    let not_pf = [
        "realworld-anoduck-pf.conf-pf.conf",
        "realworld-Firekeeps-Openbsd-router-pf.conf",
    ];
    let mut pf_files: Vec<PathBuf> = files(&dir)
        .into_iter()
        .filter(|p| name(p).starts_with("realworld-") && !not_pf.contains(&name(p).as_str()))
        .collect();
    for sub in ["freebsd-pfctl-tests", "openbsd-regress-pfctl"] {
        pf_files.extend(files(&dir.join(sub)).into_iter().filter(|p| {
            let n = name(p);
            (n.ends_with(".in") || n.ends_with(".ok")) && !n.starts_with("pfail")
        }));
    }
    let missed: Vec<String> = pf_files
        .iter()
        .filter(|p| {
            !driftwall_parsers::pf::looks_like_pf(&std::fs::read_to_string(p).unwrap_or_default())
        })
        .map(|p| name(p))
        .collect();
    let others: Vec<PathBuf> = ["iptables", "nftables"]
        .iter()
        .flat_map(|f| files(&dir.join("..").join(f)))
        .collect();
    let taken: Vec<String> = others
        .iter()
        .filter(|p| {
            driftwall_parsers::pf::looks_like_pf(&String::from_utf8_lossy(
                &std::fs::read(p).unwrap_or_default(),
            ))
        })
        .map(|p| name(p))
        .collect();
    println!(
        "format detection: {}/{} pf files look like pf; {}/{} iptables and nft files do",
        pf_files.len() - missed.len(),
        pf_files.len(),
        taken.len(),
        others.len()
    );
    assert!(missed.is_empty(), "pf files not detected: {missed:?}");
    assert!(taken.is_empty(), "other formats taken for pf: {taken:?}");
}
